//! Wakers that work from any thread.
//!
//! A task's waker queues the task's key on its executor. On the executor's
//! own thread that is a push onto a thread-local queue (no lock, no atomic
//! read-modify-write besides the task's own `queued` flag). From another
//! thread it pushes onto the executor's mutex-guarded remote queue and
//! unparks the executor (eventfd write, ring message or `Thread::unpark`),
//! once per sleep, so no wake-up is lost and none costs a syscall needlessly.

use crate::park::Unpark;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

/// The executor running on this thread, as its wakers see it.
pub(crate) struct ThreadExecutor {
    /// Its id (0: none).
    pub(crate) id: Cell<usize>,
    /// Keys of its tasks woken from this thread, in wake order.
    pub(crate) queue: RefCell<Vec<u64>>,
}

thread_local! {
    pub(crate) static CURRENT_EXECUTOR: ThreadExecutor = const {
        ThreadExecutor { id: Cell::new(0), queue: RefCell::new(Vec::new()) }
    };
}

/// The part of an executor other threads can reach.
pub(crate) struct Shared {
    pub(crate) id: usize,
    /// Keys of tasks woken from other threads, in wake order.
    pub(crate) queue: Mutex<Vec<u64>>,
    /// Set after a push onto `queue`; the executor clears it when it takes
    /// the queue, so it locks the mutex only when there is something there.
    pub(crate) remote: AtomicBool,
    /// Set by the first remote wake after the executor last cleared it.
    pub(crate) notified: AtomicBool,
    pub(crate) unpark: Arc<dyn Unpark>,
}

impl Shared {
    pub(crate) fn push(&self, key: u64) {
        let local = CURRENT_EXECUTOR.with(|e| {
            if e.id.get() == self.id {
                e.queue.borrow_mut().push(key);
                true
            } else {
                false
            }
        });
        if local {
            return;
        }
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(key);
        // SeqCst pairs with the executor's `notified.store(false)` then
        // `remote.load()` before it parks: either it sees this flag, or
        // this thread's `notified.swap` below sees its `false` and unparks.
        self.remote.store(true, Ordering::SeqCst);
        if !self.notified.swap(true, Ordering::SeqCst) {
            self.unpark.unpark();
        }
    }

    /// Moves the keys woken since the last call into `batch` (empty on
    /// entry): this thread's queue, then the remote one if flagged.
    pub(crate) fn take(&self, batch: &mut Vec<u64>) {
        CURRENT_EXECUTOR.with(|e| std::mem::swap(&mut *e.queue.borrow_mut(), batch));
        if self.remote.swap(false, Ordering::SeqCst) {
            batch.append(&mut self.queue.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    /// Whether a task is waiting to be polled. Call after clearing
    /// `notified`, just before parking.
    pub(crate) fn runnable(&self) -> bool {
        CURRENT_EXECUTOR.with(|e| !e.queue.borrow().is_empty())
            || self.remote.load(Ordering::SeqCst)
    }
}

/// One task's waker.
pub(crate) struct TaskWaker {
    pub(crate) key: u64,
    /// True while the key sits in the run queue; a second wake is a no-op.
    pub(crate) queued: AtomicBool,
    pub(crate) shared: Arc<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.push(self.key);
        }
    }
}
