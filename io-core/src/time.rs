//! Timers: [`sleep`], [`sleep_until`], [`timeout`] and [`timeout_at`] on any
//! future.
//!
//! Each worker keeps its timers in an ordered map keyed by deadline; the
//! executor fires the due ones each round and parks no longer than the next
//! deadline. A dropped timer leaves the map at once, so cancelled timeouts
//! (the common case: a reply came in time) cost an insert and a remove.

use crate::executor::with_local;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A worker's pending timers.
#[derive(Default)]
pub(crate) struct Timers {
    map: BTreeMap<(Instant, u64), Waker>,
    seq: u64,
}

impl Timers {
    fn insert(&mut self, deadline: Instant, waker: Waker) -> (Instant, u64) {
        self.seq += 1;
        let key = (deadline, self.seq);
        self.map.insert(key, waker);
        key
    }

    /// Wakes every timer due at `now`; returns the next deadline.
    pub(crate) fn fire_due(&mut self, now: Instant) -> Option<Instant> {
        while let Some(entry) = self.map.first_entry() {
            if entry.key().0 > now {
                return Some(entry.key().0);
            }
            entry.remove().wake();
        }
        None
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.map.first_key_value().map(|(k, _)| k.0)
    }
}

/// The earliest timer deadline of the current worker, if any. The blocking
/// backend bounds its blocking syscalls by it so timers still fire.
pub fn next_deadline() -> Option<Instant> {
    with_local(|l| l.and_then(|l| l.timers.borrow().next_deadline()))
}

/// Completes at `deadline`. Created by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    key: Option<(Instant, u64)>,
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Waits for `duration`.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

/// Waits until `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        key: None,
    }
}

impl Sleep {
    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline (re-arms a finished sleep too).
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            with_local(|l| {
                if let Some(l) = l {
                    l.timers.borrow_mut().map.remove(&key);
                }
            });
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel();
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        let key = self.key;
        let new_key = with_local(|l| {
            let l = l.expect("timer polled outside of a Weft runtime");
            let mut timers = l.timers.borrow_mut();
            match key.and_then(|k| timers.map.get_mut(&k).map(|w| (k, w))) {
                Some((k, w)) => {
                    if !w.will_wake(cx.waker()) {
                        *w = cx.waker().clone();
                    }
                    k
                }
                None => timers.insert(deadline, cx.waker().clone()),
            }
        });
        self.key = Some(new_key);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// The error of a [`timeout`] that elapsed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, Elapsed)
    }
}

pin_project_lite::pin_project! {
    /// A future with a deadline. Created by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

/// Runs `future`, giving up with [`Elapsed`] after `duration`. The inner
/// future is dropped on timeout.
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(Instant::now() + duration, future)
}

/// Runs `future`, giving up with [`Elapsed`] at `deadline`.
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let future = this.future;
        let sleep = this.sleep;
        if let Poll::Ready(out) = future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed)),
            Poll::Pending => Poll::Pending,
        }
    }
}
