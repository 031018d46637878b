//! Cross-thread signals: [`Notify`] (one permit, like a binary semaphore) and
//! [`Latch`] (set once, every waiter released). Both work from any thread and
//! lose no wake-up: a notification that arrives before the wait is kept.
//!
//! A wait registers its waker under a key and removes it when the wait ends
//! or is dropped, so a server whose connections each wait on the shutdown
//! latch while idle keeps one entry per idle connection, not one per
//! connection it ever served, and registering costs no scan of the others.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// The wakers of pending waits, each under a key its wait future holds.
#[derive(Debug, Default)]
struct Waiters {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
    /// Bumped by [`Waiters::take_all`]: keys handed out before it are void.
    epoch: u64,
}

/// Where a wait's waker is registered.
#[derive(Debug, Clone, Copy)]
struct Key {
    epoch: u64,
    index: usize,
}

impl Waiters {
    /// Registers (or refreshes) the waker of the wait holding `key`.
    fn register(&mut self, key: &mut Option<Key>, waker: &Waker) {
        if let Some(k) = *key {
            if k.epoch == self.epoch {
                match &mut self.slots[k.index] {
                    Some(w) if w.will_wake(waker) => {}
                    slot => *slot = Some(waker.clone()),
                }
                return;
            }
        }
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.slots[index] = Some(waker.clone());
        *key = Some(Key {
            epoch: self.epoch,
            index,
        });
    }

    /// Removes the wait's registration, if it is still current.
    fn remove(&mut self, key: Key) {
        if key.epoch == self.epoch && self.slots[key.index].take().is_some() {
            self.free.push(key.index);
        }
    }

    /// Takes every registered waker; outstanding keys become void.
    fn take_all(&mut self) -> Vec<Waker> {
        self.epoch += 1;
        self.free.clear();
        self.slots.drain(..).flatten().collect()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}

#[derive(Debug, Default)]
struct State {
    set: bool,
    waiters: Waiters,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sets `state` and wakes every waiter.
fn release(state: &Mutex<State>, also: impl FnOnce()) {
    let waiters = {
        let mut s = lock(state);
        s.set = true;
        also();
        s.waiters.take_all()
    };
    for w in waiters {
        w.wake();
    }
}

/// A pending wait on a [`State`]: ready once it is set (taking the permit
/// when `consume`), deregistered when dropped.
struct Wait<'a> {
    state: &'a Mutex<State>,
    consume: bool,
    key: Option<Key>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut s = lock(this.state);
        if s.set {
            if this.consume {
                s.set = false;
            }
            if let Some(k) = this.key.take() {
                s.waiters.remove(k);
            }
            Poll::Ready(())
        } else {
            s.waiters.register(&mut this.key, cx.waker());
            Poll::Pending
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            lock(self.state).waiters.remove(k);
        }
    }
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
        release(&self.state, || {});
    }

    /// Waits for the permit and consumes it.
    pub async fn notified(&self) {
        Wait {
            state: &self.state,
            consume: true,
            key: None,
        }
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
        release(&self.inner.state, || {
            self.inner.fast.store(true, Ordering::Release)
        });
    }

    /// Whether the latch is set.
    pub fn is_set(&self) -> bool {
        self.inner.fast.load(Ordering::Acquire)
    }

    /// Waits until the latch is set.
    pub async fn wait(&self) {
        if self.is_set() {
            return;
        }
        Wait {
            state: &self.inner.state,
            consume: false,
            key: None,
        }
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_once(f: Pin<&mut impl Future<Output = ()>>, waker: &Waker) -> bool {
        f.poll(&mut Context::from_waker(waker)).is_ready()
    }

    #[test]
    fn dropped_waits_leave_no_waker_behind() {
        let latch = Latch::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        for _ in 0..1000 {
            let mut w = std::pin::pin!(latch.wait());
            assert!(!poll_once(w.as_mut(), &waker));
            assert!(!poll_once(w.as_mut(), &waker), "a re-poll registers once");
            assert_eq!(lock(&latch.inner.state).waiters.len(), 1);
        }
        assert_eq!(lock(&latch.inner.state).waiters.len(), 0);
        let mut w = Box::pin(latch.wait());
        assert!(!poll_once(w.as_mut(), &waker));
        latch.set();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(w.as_mut(), &waker));
        assert!(poll_once(std::pin::pin!(latch.wait()), &waker));
    }

    #[test]
    fn a_stale_key_never_removes_a_newer_wait() {
        let notify = Notify::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut old = Box::pin(notify.notified());
        assert!(!poll_once(old.as_mut(), &waker));
        notify.notify();
        // The permit is taken by a newer wait, which then waits again in the
        // slot the old one had.
        assert!(poll_once(std::pin::pin!(notify.notified()), &waker));
        let mut newer = Box::pin(notify.notified());
        assert!(!poll_once(newer.as_mut(), &waker));
        drop(old);
        assert_eq!(
            lock(&notify.state).waiters.len(),
            1,
            "old key removed the newer wait"
        );
        let before = count.0.load(Ordering::SeqCst);
        notify.notify();
        assert_eq!(count.0.load(Ordering::SeqCst), before + 1);
        assert!(poll_once(newer.as_mut(), &waker));
    }
}
