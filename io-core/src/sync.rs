//! Cross-thread signals: [`Notify`] (one permit, like a binary semaphore) and
//! [`Latch`] (set once, every waiter released). Both work from any thread and
//! lose no wake-up: a notification that arrives before the wait is kept.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

#[derive(Debug, Default)]
struct State {
    set: bool,
    waiters: Vec<Waker>,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wakes one waiting task; a notification with no waiter is stored (one
/// permit) and consumed by the next [`Notify::notified`].
#[derive(Debug, Clone, Default)]
pub struct Notify {
    state: Arc<Mutex<State>>,
}

impl Notify {
    /// A notify with no stored permit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores the permit and wakes the waiters (the first to run takes it).
    pub fn notify(&self) {
        let waiters = {
            let mut s = lock(&self.state);
            s.set = true;
            std::mem::take(&mut s.waiters)
        };
        for w in waiters {
            w.wake();
        }
    }

    /// Waits for the permit and consumes it.
    pub async fn notified(&self) {
        poll_fn(|cx| {
            let mut s = lock(&self.state);
            if s.set {
                s.set = false;
                Poll::Ready(())
            } else {
                if !s.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    s.waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
        .await
    }
}

/// A one-way flag: once set, every current and future waiter is released.
/// Used for shutdown.
#[derive(Debug, Clone, Default)]
pub struct Latch {
    inner: Arc<LatchInner>,
}

#[derive(Debug, Default)]
struct LatchInner {
    fast: AtomicBool,
    state: Mutex<State>,
}

impl Latch {
    /// An unset latch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the latch and wakes every waiter. Idempotent.
    pub fn set(&self) {
        let waiters = {
            let mut s = lock(&self.inner.state);
            s.set = true;
            self.inner.fast.store(true, Ordering::Release);
            std::mem::take(&mut s.waiters)
        };
        for w in waiters {
            w.wake();
        }
    }

    /// Whether the latch is set.
    pub fn is_set(&self) -> bool {
        self.inner.fast.load(Ordering::Acquire)
    }

    /// Waits until the latch is set.
    pub async fn wait(&self) {
        poll_fn(|cx| {
            if self.is_set() {
                return Poll::Ready(());
            }
            let mut s = lock(&self.inner.state);
            if s.set {
                Poll::Ready(())
            } else {
                if !s.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    s.waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
        })
        .await
    }
}
