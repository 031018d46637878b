//! Wakers that work from any thread.
//!
//! A task's waker pushes the task's key onto its executor's shared run queue.
//! From the executor's own thread that is all; from another thread it also
//! unparks the executor (eventfd write, ring message or `Thread::unpark`),
//! once per sleep, so no wake-up is lost and none costs a syscall needlessly.

use crate::park::Unpark;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

thread_local! {
    /// The id of the executor running on this thread (0: none).
    pub(crate) static CURRENT_EXECUTOR: Cell<usize> = const { Cell::new(0) };
}

/// The part of an executor other threads can reach.
pub(crate) struct Shared {
    pub(crate) id: usize,
    /// Keys of tasks to poll, in wake order.
    pub(crate) queue: Mutex<Vec<u64>>,
    /// Set by the first remote wake after the executor last cleared it.
    pub(crate) notified: AtomicBool,
    pub(crate) unpark: Arc<dyn Unpark>,
}

impl Shared {
    pub(crate) fn push(&self, key: u64) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(key);
        if CURRENT_EXECUTOR.with(Cell::get) != self.id
            && !self.notified.swap(true, Ordering::SeqCst)
        {
            self.unpark.unpark();
        }
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
