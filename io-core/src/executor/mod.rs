//! The single-threaded executor each worker runs.
//!
//! One executor per thread: it polls the tasks woken since the last round,
//! fires due timers and, when nothing is runnable, parks in its backend's
//! [`Park`] (epoll_wait, io_uring_enter, or a thread park) until an I/O event,
//! a timer or a wake from another thread. Nothing spins: an idle worker sits
//! in one blocking syscall.
//!
//! Tasks are `!Send` futures owned by the worker that spawned them (no work
//! stealing, no locks on the hot path but the uncontended run-queue mutex that
//! makes wakers usable from any thread).

mod join;
mod waker;

pub use join::{JoinError, JoinHandle};

use crate::park::Park;
use crate::time::Timers;
use join::{JoinState, complete};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use waker::{CURRENT_EXECUTOR, Shared, TaskWaker};

/// The run-queue key of the `block_on` future itself.
const MAIN_KEY: u64 = u64::MAX;
/// After this many rounds without parking, collect I/O without sleeping so
/// tasks that keep waking each other cannot starve sockets.
const ROUNDS_BEFORE_IO_POLL: u32 = 8;

type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

struct Slot {
    generation: u32,
    future: Option<LocalFuture>,
    waker: Option<(Arc<TaskWaker>, Waker)>,
    /// Aborted while being polled: drop it when the poll returns.
    aborted: bool,
}

/// The thread-local half of an executor.
pub(crate) struct Local {
    shared: Arc<Shared>,
    slots: RefCell<Vec<Slot>>,
    free: RefCell<Vec<usize>>,
    live: Cell<usize>,
    pub(crate) timers: RefCell<Timers>,
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Local>>> = const { RefCell::new(None) };
}

/// Runs `f` with the current executor, or `None` outside of one.
pub(crate) fn with_local<R>(f: impl FnOnce(Option<&Rc<Local>>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref()))
}

fn current() -> Rc<Local> {
    with_local(|l| l.cloned())
        .expect("called outside of a Weft runtime (no executor on this thread)")
}

fn split(key: u64) -> (usize, u32) {
    ((key & 0xffff_ffff) as usize, (key >> 32) as u32)
}

fn join_key(index: usize, generation: u32) -> u64 {
    ((generation as u64) << 32) | index as u64
}

static NEXT_EXECUTOR_ID: AtomicUsize = AtomicUsize::new(1);

impl Local {
    fn insert(&self, future: LocalFuture) -> u64 {
        let mut slots = self.slots.borrow_mut();
        let index = match self.free.borrow_mut().pop() {
            Some(i) => i,
            None => {
                slots.push(Slot {
                    generation: 0,
                    future: None,
                    waker: None,
                    aborted: false,
                });
                slots.len() - 1
            }
        };
        let slot = &mut slots[index];
        let key = join_key(index, slot.generation);
        let tw = Arc::new(TaskWaker {
            key,
            queued: AtomicBool::new(true),
            shared: self.shared.clone(),
        });
        slot.waker = Some((tw.clone(), Waker::from(tw)));
        slot.future = Some(future);
        slot.aborted = false;
        self.live.set(self.live.get() + 1);
        drop(slots);
        self.shared.push(key);
        key
    }

    /// Frees a slot; returns its future (to drop outside the borrow).
    fn remove(&self, index: usize) -> Option<LocalFuture> {
        let mut slots = self.slots.borrow_mut();
        let slot = &mut slots[index];
        slot.generation = slot.generation.wrapping_add(1);
        slot.waker = None;
        slot.aborted = false;
        self.free.borrow_mut().push(index);
        self.live.set(self.live.get() - 1);
        slot.future.take()
    }

    fn poll_task(&self, key: u64) {
        let (index, generation) = split(key);
        let (mut future, waker) = {
            let mut slots = self.slots.borrow_mut();
            let Some(slot) = slots.get_mut(index) else {
                return;
            };
            if slot.generation != generation {
                return;
            }
            let Some((tw, waker)) = slot.waker.as_ref() else {
                return;
            };
            tw.queued.store(false, Ordering::Release);
            let waker = waker.clone();
            match slot.future.take() {
                Some(f) => (f, waker),
                None => return,
            }
        };
        let mut cx = Context::from_waker(&waker);
        let done = future.as_mut().poll(&mut cx).is_ready();
        let aborted = {
            let mut slots = self.slots.borrow_mut();
            let slot = &mut slots[index];
            if done || slot.aborted {
                true
            } else {
                slot.future = Some(future);
                return;
            }
        };
        debug_assert!(aborted);
        self.remove(index);
        drop(future);
    }
}

/// Drops a task by key (used by [`JoinHandle::abort`]).
fn abort_task(key: u64) {
    let Some(local) = with_local(|l| l.cloned()) else {
        return;
    };
    let (index, generation) = split(key);
    {
        let mut slots = local.slots.borrow_mut();
        match slots.get_mut(index) {
            Some(slot) if slot.generation == generation => {
                if slot.future.is_none() {
                    // Being polled right now: drop it when the poll returns.
                    slot.aborted = true;
                    return;
                }
            }
            _ => return,
        }
    }
    drop(local.remove(index));
}

/// Spawns a task on the current worker. Its output is read through the
/// returned [`JoinHandle`]; a panic in the task is caught and reported there
/// ([`JoinError::Panicked`]) and the worker keeps running.
///
/// # Panics
///
/// Outside of a runtime (no `block_on` on this thread).
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let local = current();
    let state = JoinState::new();
    let task_state = state.clone();
    let mut future = Box::pin(future);
    let wrapper = std::future::poll_fn(move |cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => {
                complete(&task_state, Ok(out));
                Poll::Ready(())
            }
            Err(payload) => {
                complete(&task_state, Err(JoinError::Panicked(payload)));
                Poll::Ready(())
            }
        }
    });
    let key = local.insert(Box::pin(wrapper));
    JoinHandle { state, key }
}

/// How many tasks the current worker holds (spawned, not yet finished).
pub fn task_count() -> usize {
    with_local(|l| l.map_or(0, |l| l.live.get()))
}

/// Yields once to the other runnable tasks of this worker.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Runs `future` to completion on this thread, parking in `park` whenever no
/// task is runnable. Tasks still alive when `future` completes are dropped
/// (cancelled) before this returns. Backends wrap this with their own park.
///
/// # Panics
///
/// When called on a thread already running an executor, or when the backend's
/// park fails (the poller itself is broken).
pub fn block_on_with<P: Park, F: Future>(mut park: P, future: F) -> F::Output {
    assert!(
        with_local(|l| l.is_none()),
        "block_on called from inside a Weft runtime"
    );
    let shared = Arc::new(Shared {
        id: NEXT_EXECUTOR_ID.fetch_add(1, Ordering::Relaxed),
        queue: Mutex::new(Vec::new()),
        remote: AtomicBool::new(false),
        notified: AtomicBool::new(false),
        unpark: park.unparker(),
    });
    let local = Rc::new(Local {
        shared: shared.clone(),
        slots: RefCell::new(Vec::new()),
        free: RefCell::new(Vec::new()),
        live: Cell::new(0),
        timers: RefCell::new(Timers::default()),
    });
    CURRENT.with(|c| *c.borrow_mut() = Some(local.clone()));
    CURRENT_EXECUTOR.with(|e| {
        e.id.set(shared.id);
        let mut q = e.queue.borrow_mut();
        q.clear();
        q.reserve(64);
    });
    let _guard = ResetGuard(local.clone());

    let main = Arc::new(TaskWaker {
        key: MAIN_KEY,
        queued: AtomicBool::new(true),
        shared: shared.clone(),
    });
    let main_waker = Waker::from(main.clone());
    shared.push(MAIN_KEY);
    let mut future = std::pin::pin!(future);
    let mut batch: Vec<u64> = Vec::with_capacity(64);
    let mut busy_rounds = 0u32;
    loop {
        shared.take(&mut batch);
        for key in batch.drain(..) {
            if key == MAIN_KEY {
                main.queued.store(false, Ordering::Release);
                if let Poll::Ready(out) =
                    future.as_mut().poll(&mut Context::from_waker(&main_waker))
                {
                    return out;
                }
            } else {
                local.poll_task(key);
            }
        }
        let now = Instant::now();
        let next_timer = local.timers.borrow_mut().fire_due(now);
        shared.notified.store(false, Ordering::SeqCst);
        let runnable = shared.runnable();
        let timeout = if runnable {
            busy_rounds += 1;
            if busy_rounds < ROUNDS_BEFORE_IO_POLL {
                continue;
            }
            Some(Duration::ZERO)
        } else {
            next_timer.map(|t| t.saturating_duration_since(now))
        };
        busy_rounds = 0;
        park.park(timeout).expect("backend park failed");
    }
}

/// Drops the remaining tasks while the executor is still current (their
/// destructors may deregister sockets or timers), then clears the thread.
struct ResetGuard(Rc<Local>);

impl Drop for ResetGuard {
    fn drop(&mut self) {
        loop {
            let futures: Vec<LocalFuture> = {
                let mut slots = self.0.slots.borrow_mut();
                slots.iter_mut().filter_map(|s| s.future.take()).collect()
            };
            if futures.is_empty() {
                break;
            }
            drop(futures);
        }
        CURRENT.with(|c| *c.borrow_mut() = None);
        CURRENT_EXECUTOR.with(|e| {
            e.id.set(0);
            e.queue.borrow_mut().clear();
        });
    }
}

#[cfg(test)]
mod tests;
