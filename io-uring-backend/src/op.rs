//! Every submission this backend makes, built next to the memory it points
//! to, and [`Oneshot`]: the future of a single-completion operation that
//! owns its memory while in flight.
//!
//! The memory rule: whatever an SQE points to is owned either by the table
//! slot of its operation or by the [`Oneshot`] future awaiting it; when such
//! a future is dropped early it moves that memory into the slot
//! ([`Driver::abandon`]), where it stays until the completion arrives.

use crate::bufring;
use crate::listener::ListenerShared;
use crate::ring::{Driver, Inner, OneshotState, Op};
use crate::stream::StreamShared;
use crate::sys::RawAddr;
use io_core::buf::IoBuf;
use io_uring::{opcode, types};
use std::any::Any;
use std::future::Future;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// A single-completion operation in flight, owning `T` (the memory the
/// kernel uses) until it completes. Resolves to the raw result (a negative
/// errno on failure) and `T`.
pub(crate) struct Oneshot<T: 'static> {
    driver: Rc<Driver>,
    key: u64,
    data: Option<T>,
}

// `T` is never pinned: it is moved out on completion and only its heap
// memory is shared with the kernel.
impl<T> Unpin for Oneshot<T> {}

impl<T: 'static> Future for Oneshot<T> {
    type Output = (i32, T);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(i32, T)> {
        let this = self.get_mut();
        match this.driver.poll_oneshot(this.key, cx) {
            Poll::Ready(res) => {
                let data = this.data.take().expect("Oneshot polled after completion");
                Poll::Ready((res, data))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: 'static> Drop for Oneshot<T> {
    fn drop(&mut self) {
        if let Some(data) = self.data.take() {
            self.driver.abandon(self.key, Box::new(data));
        }
    }
}

/// Queues a single-completion operation.
///
/// # Safety
///
/// `entry` may only point into `data`'s heap memory (stable across moves of
/// `data`) or into memory that `owner` keeps alive.
unsafe fn oneshot<T: 'static>(
    driver: &Rc<Driver>,
    entry: io_uring::squeue::Entry,
    owner: Rc<dyn Any>,
    data: T,
) -> Oneshot<T> {
    let op = Op::Oneshot {
        owner: Some(owner),
        state: OneshotState::Waiting(None),
    };
    // SAFETY: the returned future owns `data` until the completion, or hands
    // it to the slot when dropped early; the slot holds `owner`.
    let key = driver.with(|inner| unsafe { inner.push(entry, op) });
    Oneshot {
        driver: driver.clone(),
        key,
        data: Some(data),
    }
}

/// `IORING_OP_SEND` of `buf` with `MSG_NOSIGNAL` (a vanished peer gives
/// `EPIPE`, not a `SIGPIPE`).
pub(crate) fn send<B: IoBuf>(
    driver: &Rc<Driver>,
    fd: RawFd,
    owner: Rc<dyn Any>,
    buf: B,
) -> Oneshot<B> {
    let s = buf.as_slice();
    let len = s.len().min(u32::MAX as usize) as u32;
    let entry = opcode::Send::new(types::Fd(fd), s.as_ptr(), len)
        .flags(libc::MSG_NOSIGNAL)
        .build();
    // SAFETY: the entry points into `buf`'s heap memory, which `IoBuf`
    // guarantees does not move with `buf`; `owner` keeps `fd` open.
    unsafe { oneshot(driver, entry, owner, buf) }
}

/// A `msghdr` and its iovecs, boxed so their addresses are stable.
pub(crate) struct MsgHdr {
    msg: libc::msghdr,
    _iov: Vec<libc::iovec>,
}

/// `IORING_OP_SENDMSG` of up to `IOV_MAX` buffers with `MSG_NOSIGNAL`.
pub(crate) fn sendmsg<B: IoBuf>(
    driver: &Rc<Driver>,
    fd: RawFd,
    owner: Rc<dyn Any>,
    bufs: Vec<B>,
) -> Oneshot<(Vec<B>, Box<MsgHdr>)> {
    let iov: Vec<libc::iovec> = bufs
        .iter()
        .take(io_core::sys::MAX_IOVECS)
        .map(|b| {
            let s = b.as_slice();
            libc::iovec {
                iov_base: s.as_ptr() as *mut libc::c_void,
                iov_len: s.len(),
            }
        })
        .collect();
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = iov.len() as _;
    let hdr = Box::new(MsgHdr { msg, _iov: iov });
    let entry = opcode::SendMsg::new(types::Fd(fd), &hdr.msg)
        .flags(libc::MSG_NOSIGNAL as u32)
        .build();
    // SAFETY: the entry points at the boxed header, whose iovecs (a heap
    // Vec) point into the buffers' heap memory; all of it is owned by the
    // data of the operation and stable across moves. `owner` keeps `fd` open.
    unsafe { oneshot(driver, entry, owner, (bufs, hdr)) }
}

/// `IORING_OP_CONNECT` to the boxed address.
pub(crate) fn connect(
    driver: &Rc<Driver>,
    fd: RawFd,
    owner: Rc<dyn Any>,
    addr: Box<RawAddr>,
) -> Oneshot<Box<RawAddr>> {
    let entry = opcode::Connect::new(types::Fd(fd), addr.as_ptr(), addr.len()).build();
    // SAFETY: the entry points into the boxed address owned by the
    // operation's data; `owner` keeps `fd` open.
    unsafe { oneshot(driver, entry, owner, addr) }
}

/// Arms a multishot receive selecting from the worker's buffer ring.
pub(crate) fn recv_multi(inner: &mut Inner, fd: RawFd, shared: Rc<StreamShared>) -> u64 {
    let entry = opcode::RecvMulti::new(types::Fd(fd), bufring::GROUP).build();
    // SAFETY: the kernel writes only into provided buffers, which the driver
    // owns until after the drain; the slot's `Rc` keeps `fd` open.
    unsafe { inner.push(entry, Op::Recv(shared)) }
}

/// A single receive into a private heap buffer of `len` bytes.
pub(crate) fn recv_owned(inner: &mut Inner, fd: RawFd, shared: Rc<StreamShared>, len: u32) {
    let mut buf = vec![0u8; len as usize];
    let entry = opcode::Recv::new(types::Fd(fd), buf.as_mut_ptr(), len).build();
    // SAFETY: the kernel writes into `buf`'s heap memory, which moves into
    // the operation's slot (a Vec's heap block does not move with it) and is
    // neither read nor freed before the completion; the slot's `Rc` keeps
    // `fd` open.
    unsafe {
        inner.push(entry, Op::RecvOwned(shared, buf));
    }
}

/// Arms a multishot accept (close-on-exec descriptors, blocking sockets:
/// io_uring polls them internally).
pub(crate) fn accept_multi(inner: &mut Inner, fd: RawFd, shared: Rc<ListenerShared>) -> u64 {
    let entry = opcode::AcceptMulti::new(types::Fd(fd))
        .flags(libc::SOCK_CLOEXEC)
        .build();
    // SAFETY: no memory is passed (no peer address); the slot's `Rc` keeps
    // `fd` open.
    unsafe { inner.push(entry, Op::Accept(shared)) }
}

/// Queues a fire-and-forget cancellation.
pub(crate) fn cancel(inner: &mut Inner, what: types::CancelBuilder) {
    let entry = opcode::AsyncCancel2::new(what).build();
    // SAFETY: a cancellation request points to no memory.
    unsafe {
        inner.push(entry, Op::Cancel);
    }
}
