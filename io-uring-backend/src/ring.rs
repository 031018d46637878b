//! The per-worker driver: one `IoUring`, the table of operations in flight,
//! the provided-buffer ring, and completion dispatch.
//!
//! Every submission gets a slot in the operation table; its `user_data` is
//! the slot index plus a generation, so a late completion or cancellation can
//! never hit a reused slot. The slot owns whatever the kernel may touch while
//! the operation is in flight (the socket, through an `Rc` of its state; a
//! buffer or `msghdr` whose future was dropped), and is freed only by the
//! operation's final completion. Operations push their SQEs into the
//! submission queue; [`Driver::park`] submits them all in one
//! `io_uring_enter` that also waits (batched submission, one submitter: the
//! worker thread). A full submission queue is submitted early.

use crate::bufring::BufRing;
use crate::listener::{self, ListenerShared};
use crate::stream::{self, StreamShared};
use io_uring::{IoUring, cqueue, squeue, types};
use std::any::Any;
use std::cell::RefCell;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Submission queue entries per ring.
const SQ_ENTRIES: u32 = 1024;
/// Completion queue entries per ring (bursts of multishot completions).
const CQ_ENTRIES: u32 = 8192;
/// Provided buffers per worker (a power of two).
pub(crate) const BUF_COUNT: u16 = 512;
/// Size of each provided buffer.
pub(crate) const BUF_SIZE: u32 = 8 * 1024;
/// `user_data` of the always-armed eventfd read (no table slot).
const WAKE_KEY: u64 = u64::MAX;
/// How long dropping a driver waits for cancelled operations to complete.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// What a table slot is waiting for.
pub(crate) enum Op {
    /// A single-completion operation awaited by a future ([`crate::op::Oneshot`]).
    Oneshot {
        /// Keeps the socket open while the operation is in flight.
        #[allow(dead_code)]
        owner: Option<Rc<dyn Any>>,
        state: OneshotState,
    },
    /// A stream's multishot receive.
    Recv(Rc<StreamShared>),
    /// A stream's single receive into a private buffer, used when the
    /// buffer ring is exhausted and a reader waits (see `stream.rs`).
    RecvOwned(Rc<StreamShared>, Vec<u8>),
    /// A listener's multishot accept.
    Accept(Rc<ListenerShared>),
    /// A fire-and-forget cancellation request.
    Cancel,
}

/// The state of a single-completion operation.
pub(crate) enum OneshotState {
    /// In flight; the waker of the future awaiting it.
    Waiting(Option<Waker>),
    /// Completed with this result; the future has not collected it yet.
    Done(i32),
    /// The future was dropped: what the kernel may still read or write is
    /// kept here until the completion arrives.
    Orphaned(Box<dyn Any>),
}

struct Slot {
    generation: u32,
    op: Option<Op>,
}

/// The operation table: a slab with generation-tagged keys.
#[derive(Default)]
pub(crate) struct Ops {
    slots: Vec<Slot>,
    free: Vec<u32>,
    live: usize,
}

impl Ops {
    fn insert(&mut self, op: Op) -> u64 {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    op: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.op = Some(op);
        self.live += 1;
        ((slot.generation as u64) << 32) | index as u64
    }

    pub(crate) fn get_mut(&mut self, key: u64) -> Option<&mut Op> {
        let (index, generation) = ((key & 0xffff_ffff) as usize, (key >> 32) as u32);
        match self.slots.get_mut(index) {
            Some(slot) if slot.generation == generation => slot.op.as_mut(),
            _ => None,
        }
    }

    pub(crate) fn remove(&mut self, key: u64) -> Option<Op> {
        let (index, generation) = ((key & 0xffff_ffff) as usize, (key >> 32) as u32);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        let op = slot.op.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index as u32);
        self.live -= 1;
        Some(op)
    }

    /// Operations in flight.
    pub(crate) fn live(&self) -> usize {
        self.live
    }
}

/// The mutable state of a driver, borrowed for the duration of one call.
pub(crate) struct Inner {
    pub(crate) ring: IoUring,
    pub(crate) ops: Ops,
    /// Dropped explicitly, after the drain in `Driver::drop`.
    pub(crate) bufs: ManuallyDrop<BufRing>,
    /// Streams whose multishot receive ended with `ENOBUFS`; re-armed when a
    /// buffer comes back.
    pub(crate) starved: Vec<Rc<StreamShared>>,
    /// Buffers emptied while a stream's state was borrowed, given back by
    /// [`Inner::flush_recycles`] once it is released.
    pub(crate) recycle_later: Vec<u16>,
    /// Completions reaped early (to make room in a full submission queue)
    /// and not yet dispatched.
    backlog: Vec<(u64, i32, u32)>,
    /// Scratch list of reaped completions.
    cqes: Vec<(u64, i32, u32)>,
    /// Wakers to wake once the borrow is released.
    pub(crate) to_wake: Vec<Waker>,
    /// Values to drop once the borrow is released.
    pub(crate) to_drop: Vec<Box<dyn Any>>,
    /// The wake-up eventfd and the 8 bytes its armed read fills.
    wake_fd: Arc<OwnedFd>,
    wake_buf: ManuallyDrop<Box<u64>>,
    wake_armed: bool,
    /// Set while the driver is being dropped: nothing is re-armed.
    pub(crate) closing: bool,
}

/// The io_uring driver of one worker thread.
pub(crate) struct Driver {
    inner: RefCell<Inner>,
    unpark: Arc<crate::park::EventfdUnpark>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Driver")
    }
}

/// Drivers whose drop could not drain their operations (tests assert 0).
#[cfg(test)]
pub(crate) static DRAIN_FAILURES: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

thread_local! {
    static CURRENT: RefCell<Option<Rc<Driver>>> = const { RefCell::new(None) };
}

fn is_errno(e: &io::Error, code: i32) -> bool {
    e.raw_os_error() == Some(code)
}

impl Driver {
    /// Creates the ring (single issuer with deferred task running where the
    /// kernel has it, a plain ring otherwise), registers the buffer ring and
    /// the wake-up eventfd.
    pub(crate) fn new() -> io::Result<Rc<Driver>> {
        let ring = IoUring::builder()
            .setup_cqsize(CQ_ENTRIES)
            .setup_single_issuer()
            .setup_defer_taskrun()
            .build(SQ_ENTRIES)
            .or_else(|_| {
                IoUring::builder()
                    .setup_cqsize(CQ_ENTRIES)
                    .build(SQ_ENTRIES)
            })?;
        if !ring.params().is_feature_ext_arg() || !ring.params().is_feature_nodrop() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring lacks IORING_FEAT_EXT_ARG / IORING_FEAT_NODROP",
            ));
        }
        let wake_fd = Arc::new(crate::sys::eventfd()?);
        let bufs = BufRing::new(&ring.submitter(), BUF_COUNT, BUF_SIZE)?;
        let unpark = Arc::new(crate::park::EventfdUnpark::new(wake_fd.clone()));
        let driver = Rc::new(Driver {
            inner: RefCell::new(Inner {
                ring,
                ops: Ops::default(),
                bufs: ManuallyDrop::new(bufs),
                starved: Vec::new(),
                recycle_later: Vec::new(),
                backlog: Vec::new(),
                cqes: Vec::with_capacity(256),
                to_wake: Vec::new(),
                to_drop: Vec::new(),
                wake_fd,
                wake_buf: ManuallyDrop::new(Box::new(0)),
                wake_armed: false,
                closing: false,
            }),
            unpark,
        });
        driver.with(Inner::arm_wake);
        Ok(driver)
    }

    /// The driver of the worker running this code, if it runs on io_uring.
    pub(crate) fn current() -> Option<Rc<Driver>> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// Makes `driver` the current thread's driver (`None` removes it).
    pub(crate) fn install(driver: Option<Rc<Driver>>) {
        CURRENT.with(|c| *c.borrow_mut() = driver);
    }

    /// The handle other threads use to wake this driver's park.
    pub(crate) fn unparker(&self) -> Arc<crate::park::EventfdUnpark> {
        self.unpark.clone()
    }

    /// Runs `f` with the mutable state, then wakes the wakers and drops the
    /// values it queued (outside the borrow, so their code may re-enter).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let (r, mut wakers, drops) = {
            let mut inner = self.inner.borrow_mut();
            let r = f(&mut inner);
            if inner.to_wake.is_empty() && inner.to_drop.is_empty() {
                return r;
            }
            (
                r,
                std::mem::take(&mut inner.to_wake),
                std::mem::take(&mut inner.to_drop),
            )
        };
        for w in wakers.drain(..) {
            w.wake();
        }
        drop(drops);
        // Keep the list's capacity for the next round.
        let mut inner = self.inner.borrow_mut();
        if inner.to_wake.is_empty() {
            inner.to_wake = wakers;
        }
        r
    }

    /// Submits everything queued and waits up to `timeout` for a completion
    /// (`None`: indefinitely; zero: only collects), then dispatches every
    /// completion to its operation.
    pub(crate) fn park(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.with(|inner| {
            inner.arm_wake();
            inner.enter(timeout)?;
            inner.reap();
            Ok(())
        })
    }

    /// Polls a single-completion operation: its result once complete.
    pub(crate) fn poll_oneshot(&self, key: u64, cx: &mut Context<'_>) -> Poll<i32> {
        self.with(|inner| {
            let Some(Op::Oneshot { state, .. }) = inner.ops.get_mut(key) else {
                // Cannot happen: the future owns the slot until it completes.
                return Poll::Ready(-libc::ECANCELED);
            };
            match state {
                OneshotState::Done(res) => {
                    let res = *res;
                    inner.retire(key);
                    Poll::Ready(res)
                }
                OneshotState::Waiting(w) => {
                    if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                        *w = Some(cx.waker().clone());
                    }
                    Poll::Pending
                }
                OneshotState::Orphaned(_) => Poll::Ready(-libc::ECANCELED),
            }
        })
    }

    /// The future awaiting `key` was dropped: keep `data` (what the kernel
    /// may still use) until the completion, and ask the kernel to cancel.
    pub(crate) fn abandon(&self, key: u64, data: Box<dyn Any>) {
        self.with(|inner| {
            let Some(Op::Oneshot { state, .. }) = inner.ops.get_mut(key) else {
                inner.to_drop.push(data);
                return;
            };
            match state {
                OneshotState::Waiting(_) => {
                    *state = OneshotState::Orphaned(data);
                    crate::op::cancel(inner, types::CancelBuilder::user_data(key));
                }
                _ => {
                    // Completed already: nothing in flight, free it now.
                    inner.retire(key);
                    inner.to_drop.push(data);
                }
            }
        })
    }

    /// Operations in flight and free provided buffers (for tests).
    #[cfg(test)]
    pub(crate) fn stats(&self) -> (usize, usize) {
        let inner = self.inner.borrow();
        (inner.ops.live(), inner.bufs.available())
    }
}

impl Inner {
    /// Queues `entry` as the submission of `op`; returns its key.
    ///
    /// # Safety
    ///
    /// Any memory `entry` points to must stay valid (and, for memory the
    /// kernel writes, not otherwise accessed) until the operation's final
    /// completion has been reaped. Callers achieve this by owning the memory
    /// in `op` or in the future that owns `op` and hands the memory to the
    /// slot ([`Driver::abandon`]) if dropped early.
    pub(crate) unsafe fn push(&mut self, entry: squeue::Entry, op: Op) -> u64 {
        let key = self.ops.insert(op);
        // SAFETY: forwarded to the caller.
        unsafe { self.push_raw(entry.user_data(key)) };
        key
    }

    /// Frees the slot of a finished operation. Orphaned user data is dropped
    /// after the borrow is released; the rest (socket `Rc`s, wakers) has no
    /// code that could re-enter the driver and is dropped here.
    pub(crate) fn retire(&mut self, key: u64) {
        if let Some(Op::Oneshot {
            state: OneshotState::Orphaned(data),
            ..
        }) = self.ops.remove(key)
        {
            self.to_drop.push(data);
        }
    }

    /// Pushes an entry, submitting early when the queue is full.
    ///
    /// # Safety
    ///
    /// As [`Inner::push`].
    unsafe fn push_raw(&mut self, entry: squeue::Entry) {
        loop {
            // SAFETY: forwarded to the caller.
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return;
            }
            self.make_room();
        }
    }

    /// Submits the full submission queue without waiting; if the kernel
    /// refuses because completions are backed up, moves completions aside
    /// (dispatched by the next park) and tries again.
    fn make_room(&mut self) {
        match self.ring.submit() {
            Ok(_) => {}
            Err(e) if is_errno(&e, libc::EBUSY) || is_errno(&e, libc::EAGAIN) => {
                let mut cq = self.ring.completion();
                cq.sync();
                for cqe in &mut cq {
                    self.backlog
                        .push((cqe.user_data(), cqe.result(), cqe.flags()));
                }
            }
            Err(e) if is_errno(&e, libc::EINTR) => {}
            Err(e) => panic!("io_uring submit failed: {e}"),
        }
    }

    /// Keeps a read of the wake-up eventfd in flight.
    fn arm_wake(&mut self) {
        if self.wake_armed || self.closing {
            return;
        }
        let buf: *mut u64 = &mut **self.wake_buf;
        let entry = io_uring::opcode::Read::new(
            types::Fd(std::os::fd::AsRawFd::as_raw_fd(&*self.wake_fd)),
            buf.cast(),
            8,
        )
        .build()
        .user_data(WAKE_KEY);
        // SAFETY: `wake_buf` is a heap allocation owned by this driver and
        // only freed after the drain in `Driver::drop` saw this read
        // complete; the eventfd is kept open by `wake_fd` as long.
        unsafe { self.push_raw(entry) };
        self.wake_armed = true;
    }

    /// One `io_uring_enter`: submit the queue and wait as asked.
    fn enter(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let ready = !self.backlog.is_empty() || !self.ring.completion().is_empty();
        let nothing_queued = self.ring.submission().is_empty();
        let submitter = self.ring.submitter();
        let res = if ready {
            if nothing_queued {
                return Ok(());
            }
            submitter.submit()
        } else {
            match timeout {
                None => submitter.submit_and_wait(1),
                Some(d) => {
                    let ts = types::Timespec::from(d);
                    let args = types::SubmitArgs::new().timespec(&ts);
                    submitter.submit_with_args(1, &args)
                }
            }
        };
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if is_errno(&e, libc::ETIME)
                    || is_errno(&e, libc::EINTR)
                    || is_errno(&e, libc::EBUSY)
                    || is_errno(&e, libc::EAGAIN) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Dispatches every available completion.
    fn reap(&mut self) {
        let mut cqes = std::mem::take(&mut self.cqes);
        cqes.append(&mut self.backlog);
        loop {
            {
                let mut cq = self.ring.completion();
                cq.sync();
                for cqe in &mut cq {
                    cqes.push((cqe.user_data(), cqe.result(), cqe.flags()));
                }
            }
            if cqes.is_empty() {
                break;
            }
            for (key, res, flags) in cqes.drain(..) {
                self.dispatch(key, res, flags);
            }
        }
        self.cqes = cqes;
    }

    fn dispatch(&mut self, key: u64, res: i32, flags: u32) {
        if key == WAKE_KEY {
            self.wake_armed = false;
            return;
        }
        let terminal = !cqueue::more(flags);
        let Some(op) = self.ops.get_mut(key) else {
            return;
        };
        match op {
            Op::Oneshot { state, .. } => match state {
                OneshotState::Waiting(w) => {
                    if let Some(w) = w.take() {
                        self.to_wake.push(w);
                    }
                    *state = OneshotState::Done(res);
                }
                OneshotState::Orphaned(_) => {
                    self.retire(key);
                }
                OneshotState::Done(_) => {}
            },
            Op::Recv(shared) => {
                let shared = shared.clone();
                if terminal {
                    self.retire(key);
                }
                stream::on_recv(self, &shared, key, res, flags);
            }
            Op::RecvOwned(..) => {
                if let Some(Op::RecvOwned(shared, buf)) = self.ops.remove(key) {
                    stream::on_recv_owned(self, &shared, res, buf);
                }
            }
            Op::Accept(shared) => {
                let shared = shared.clone();
                if terminal {
                    self.retire(key);
                }
                listener::on_accept(self, &shared, key, res, flags);
            }
            Op::Cancel => {
                self.retire(key);
            }
        }
    }

    /// Gives a provided buffer back to the kernel and re-arms the receives
    /// that starved for one.
    pub(crate) fn recycle(&mut self, bid: u16) {
        self.bufs.recycle(bid);
        if !self.starved.is_empty() && !self.closing {
            for shared in std::mem::take(&mut self.starved) {
                stream::unstarve(self, &shared);
            }
        }
    }

    /// Gives back the buffers queued in `recycle_later`.
    pub(crate) fn flush_recycles(&mut self) {
        while let Some(bid) = self.recycle_later.pop() {
            self.recycle(bid);
        }
    }

    /// Cancels everything and waits (bounded) until every operation has
    /// completed. Returns whether it did.
    fn drain(&mut self) -> bool {
        self.closing = true;
        self.starved.clear();
        crate::op::cancel(self, types::CancelBuilder::any());
        let deadline = Instant::now() + DRAIN_LIMIT;
        loop {
            self.reap();
            self.to_wake.clear();
            self.to_drop.clear();
            if self.ops.live() == 0 && !self.wake_armed {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || self.enter(Some(deadline - now)).is_err() {
                return false;
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        if inner.drain() {
            inner.bufs.unregister(&inner.ring.submitter());
            // SAFETY: every operation completed (the drain saw the table
            // empty and the wake read done), so the kernel holds no pointer
            // into the buffers or `wake_buf`; neither is used after this.
            unsafe {
                ManuallyDrop::drop(&mut inner.bufs);
                ManuallyDrop::drop(&mut inner.wake_buf);
            }
        } else {
            // Some operation did not complete in time: the kernel may still
            // write into this memory, so leak it rather than free it.
            eprintln!(
                "weft io_uring: operations still in flight at shutdown; leaking their memory"
            );
            std::mem::forget(std::mem::take(&mut inner.ops));
            #[cfg(test)]
            DRAIN_FAILURES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}
