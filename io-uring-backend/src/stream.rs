//! A TCP stream on the ring: multishot receive into provided buffers, sends
//! that own their buffers, connect, and close after cancellation.
//!
//! Receiving: one multishot `IORING_OP_RECV` per stream, armed while the
//! stream is open and has room. Each completion names a provided buffer; the
//! stream queues it, and [`UringStream::read`] copies from the queue into the
//! caller's buffer and recycles what it emptied. A read future holds nothing
//! the kernel touches, so dropping it at any point is harmless. The receive
//! is re-armed when the kernel ends it (no `IORING_CQE_F_MORE`), when a
//! buffer comes back after `ENOBUFS`, and when the application drained a
//! paused stream: a stream holding [`PAUSE_AT`] bytes unread has its receive
//! cancelled, so one slow reader cannot take every buffer of the worker (TCP
//! flow control then pushes back on the peer). If the ring is exhausted
//! anyway, a receive that ended with `ENOBUFS` waits for a buffer to come
//! back; a reader waiting meanwhile gets one receive into a private buffer
//! (`IORING_OP_RECV` without buffer selection, the buffer held by the
//! operation's slot), so it never depends on other streams being read.
//!
//! Closing: dropping the stream returns its queued buffers, cancels every
//! operation on its descriptor (`IORING_ASYNC_CANCEL_FD | ALL`), and the
//! descriptor closes when the last of them completed (each operation's slot
//! holds an `Rc` of the socket), so no submission can ever name a descriptor
//! number that was closed and reused.

use crate::op;
use crate::ring::{Driver, Inner};
use crate::sys::RawAddr;
use io_core::buf::{BufResult, IoBuf, IoBufMut};
use io_uring::{cqueue, types};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// Unread bytes at which a stream's receive is paused.
pub(crate) const PAUSE_AT: usize = 64 * 1024;

/// Whether a multishot operation is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arm {
    /// Not in flight.
    Idle,
    /// In flight with this key.
    Armed(u64),
    /// A cancellation of this key was requested; its final completion is due.
    Pausing(u64),
}

/// Received bytes not yet fully read.
struct Chunk {
    data: ChunkData,
    start: u32,
    end: u32,
}

enum ChunkData {
    /// A provided buffer (returned to the ring once read).
    Ring(u16),
    /// A private buffer of a fallback receive.
    Heap(Vec<u8>),
}

struct RecvState {
    chunks: VecDeque<Chunk>,
    queued: usize,
    eof: bool,
    err: Option<io::Error>,
    reader: Option<Waker>,
    arm: Arm,
    starved: bool,
    /// A fallback receive into a private buffer is in flight.
    owned_inflight: bool,
    closed: bool,
}

/// The part of a stream shared with its operations in flight: the socket
/// (closed when the last holder goes) and the receive queue.
pub(crate) struct StreamShared {
    sock: std::net::TcpStream,
    st: RefCell<RecvState>,
}

impl StreamShared {
    pub(crate) fn new(sock: std::net::TcpStream) -> Rc<StreamShared> {
        Rc::new(StreamShared {
            sock,
            st: RefCell::new(RecvState {
                chunks: VecDeque::new(),
                queued: 0,
                eof: false,
                err: None,
                reader: None,
                arm: Arm::Idle,
                starved: false,
                owned_inflight: false,
                closed: false,
            }),
        })
    }
}

/// Arms the receive if the stream wants data and has none in flight.
fn maybe_arm(inner: &mut Inner, shared: &Rc<StreamShared>) {
    let mut st = shared.st.borrow_mut();
    if inner.closing
        || st.arm != Arm::Idle
        || st.closed
        || st.eof
        || st.err.is_some()
        || st.starved
        || st.owned_inflight
        || st.queued >= PAUSE_AT
    {
        return;
    }
    let key = op::recv_multi(inner, shared.sock.as_raw_fd(), shared.clone());
    st.arm = Arm::Armed(key);
}

/// A buffer came back after this stream's receive ran out of them.
pub(crate) fn unstarve(inner: &mut Inner, shared: &Rc<StreamShared>) {
    shared.st.borrow_mut().starved = false;
    maybe_arm(inner, shared);
}

/// Dispatches a completion of the stream's multishot receive `key`.
pub(crate) fn on_recv(
    inner: &mut Inner,
    shared: &Rc<StreamShared>,
    key: u64,
    res: i32,
    flags: u32,
) {
    let terminal = !cqueue::more(flags);
    let mut st = shared.st.borrow_mut();
    let mut recycle = None;
    if let Some(bid) = cqueue::buffer_select(flags) {
        inner.bufs.taken();
        if res > 0 && !st.closed {
            st.chunks.push_back(Chunk {
                data: ChunkData::Ring(bid),
                start: 0,
                end: (res as u32).min(inner.bufs.buf_size()),
            });
            st.queued += res as usize;
        } else {
            recycle = Some(bid);
        }
    }
    let mut news = res > 0;
    if res == 0 {
        st.eof = true;
        news = true;
    } else if res < 0 {
        match -res {
            libc::ECANCELED => {}
            libc::ENOBUFS => {
                // Out of provided buffers: wait for one to come back (unless
                // one already did, then the re-arm below goes ahead).
                if inner.bufs.available() == 0 && !st.closed && !inner.closing && !st.starved {
                    st.starved = true;
                    inner.starved.push(shared.clone());
                    // A waiting reader switches to a private buffer.
                    news = true;
                }
            }
            errno => {
                st.err = Some(io::Error::from_raw_os_error(errno));
                news = true;
            }
        }
    }
    if news {
        if let Some(w) = st.reader.take() {
            inner.to_wake.push(w);
        }
    }
    let ours = matches!(st.arm, Arm::Armed(k) | Arm::Pausing(k) if k == key);
    if terminal {
        if ours {
            st.arm = Arm::Idle;
        }
    } else if st.queued >= PAUSE_AT && st.arm == Arm::Armed(key) {
        st.arm = Arm::Pausing(key);
        op::cancel(inner, types::CancelBuilder::user_data(key));
    }
    drop(st);
    if let Some(bid) = recycle {
        inner.recycle(bid);
    }
    if terminal {
        maybe_arm(inner, shared);
    }
}

/// Dispatches the completion of a fallback receive into `buf`.
pub(crate) fn on_recv_owned(inner: &mut Inner, shared: &Rc<StreamShared>, res: i32, buf: Vec<u8>) {
    let mut st = shared.st.borrow_mut();
    st.owned_inflight = false;
    if st.closed {
        return;
    }
    match res {
        n if n > 0 => {
            st.chunks.push_back(Chunk {
                end: (n as u32).min(buf.len() as u32),
                data: ChunkData::Heap(buf),
                start: 0,
            });
            st.queued += n as usize;
        }
        0 => st.eof = true,
        e if e == -libc::ECANCELED => {}
        e => st.err = Some(io::Error::from_raw_os_error(-e)),
    }
    if let Some(w) = st.reader.take() {
        inner.to_wake.push(w);
    }
    drop(st);
    maybe_arm(inner, shared);
}

/// With the buffer ring exhausted, a waiting reader must not depend on other
/// streams returning buffers (they may be waiting on this one): receive
/// once into a private buffer instead.
fn maybe_recv_owned(inner: &mut Inner, shared: &Rc<StreamShared>) {
    let mut st = shared.st.borrow_mut();
    if inner.closing
        || !st.starved
        || st.owned_inflight
        || st.arm != Arm::Idle
        || st.closed
        || st.eof
        || st.err.is_some()
    {
        return;
    }
    st.owned_inflight = true;
    drop(st);
    op::recv_owned(
        inner,
        shared.sock.as_raw_fd(),
        shared.clone(),
        inner.bufs.buf_size(),
    );
}

/// A TCP connection on the io_uring driver.
pub(crate) struct UringStream {
    driver: Rc<Driver>,
    shared: Rc<StreamShared>,
}

impl std::fmt::Debug for UringStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringStream")
            .field("fd", &self.shared.sock.as_raw_fd())
            .finish()
    }
}

impl UringStream {
    /// Adopts a connected socket (made blocking: io_uring polls internally,
    /// and completes an `O_NONBLOCK` read with `EAGAIN` instead).
    pub(crate) fn from_std(driver: Rc<Driver>, sock: std::net::TcpStream) -> io::Result<Self> {
        sock.set_nonblocking(false)?;
        Ok(Self::from_shared(driver, StreamShared::new(sock)))
    }

    /// Wraps a connected socket's state and arms its receive.
    pub(crate) fn from_shared(driver: Rc<Driver>, shared: Rc<StreamShared>) -> Self {
        driver.with(|inner| maybe_arm(inner, &shared));
        UringStream { driver, shared }
    }

    /// Connects with `IORING_OP_CONNECT`.
    pub(crate) async fn connect(driver: Rc<Driver>, addr: SocketAddr) -> io::Result<Self> {
        let sock = std::net::TcpStream::from(crate::sys::tcp_socket(&addr)?);
        let shared = StreamShared::new(sock);
        let fd = shared.sock.as_raw_fd();
        let (res, _addr) = op::connect(&driver, fd, shared.clone(), RawAddr::new(addr)).await;
        if res < 0 {
            return Err(io::Error::from_raw_os_error(-res));
        }
        Ok(Self::from_shared(driver, shared))
    }

    pub(crate) async fn read<B: IoBufMut>(&self, mut buf: B) -> BufResult<usize, B> {
        let res = poll_fn(|cx| {
            self.driver.with(|inner| {
                let mut st = self.shared.st.borrow_mut();
                if !st.chunks.is_empty() {
                    let n = copy_out(inner, &mut st, &mut buf);
                    drop(st);
                    inner.flush_recycles();
                    maybe_arm(inner, &self.shared);
                    return Poll::Ready(Ok(n));
                }
                if let Some(e) = st.err.take() {
                    return Poll::Ready(Err(e));
                }
                if st.eof {
                    return Poll::Ready(Ok(0));
                }
                if !st.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    st.reader = Some(cx.waker().clone());
                }
                drop(st);
                maybe_arm(inner, &self.shared);
                maybe_recv_owned(inner, &self.shared);
                Poll::Pending
            })
        })
        .await;
        (res, buf)
    }

    /// Ready when received bytes, end of stream or an error are queued;
    /// otherwise waits as a reader does (the multishot receive needs no
    /// buffer of ours, so an idle stream holds none).
    pub(crate) async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| {
            self.driver.with(|inner| {
                let mut st = self.shared.st.borrow_mut();
                if !st.chunks.is_empty() || st.err.is_some() || st.eof {
                    return Poll::Ready(Ok(()));
                }
                if !st.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    st.reader = Some(cx.waker().clone());
                }
                drop(st);
                maybe_arm(inner, &self.shared);
                maybe_recv_owned(inner, &self.shared);
                Poll::Pending
            })
        })
        .await
    }

    /// Copies what is queued into `buf`; `WouldBlock` when nothing is.
    pub(crate) fn try_read<B: IoBufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.driver.with(|inner| {
            let mut st = self.shared.st.borrow_mut();
            if !st.chunks.is_empty() {
                let n = copy_out(inner, &mut st, buf);
                drop(st);
                inner.flush_recycles();
                maybe_arm(inner, &self.shared);
                return Ok(n);
            }
            if let Some(e) = st.err.take() {
                return Err(e);
            }
            if st.eof {
                return Ok(0);
            }
            drop(st);
            maybe_arm(inner, &self.shared);
            Err(io::ErrorKind::WouldBlock.into())
        })
    }

    pub(crate) async fn write<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        let fd = self.shared.sock.as_raw_fd();
        let (res, buf) = op::send(&self.driver, fd, self.shared.clone(), buf).await;
        (result(res), buf)
    }

    pub(crate) async fn writev<B: IoBuf>(&self, bufs: Vec<B>) -> BufResult<usize, Vec<B>> {
        let fd = self.shared.sock.as_raw_fd();
        let (res, (bufs, _hdr)) = op::sendmsg(&self.driver, fd, self.shared.clone(), bufs).await;
        (result(res), bufs)
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.shared.sock.shutdown(how)
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.shared.sock.peer_addr()
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared.sock.local_addr()
    }

    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.shared.sock.set_nodelay(on)
    }
}

/// Copies queued bytes into `buf`'s spare capacity; queues emptied provided
/// buffers in `recycle_later` (the caller flushes them).
fn copy_out<B: IoBufMut>(inner: &mut Inner, st: &mut RecvState, buf: &mut B) -> usize {
    let spare = buf.spare();
    let mut n = 0;
    while n < spare.len() {
        let Some(chunk) = st.chunks.front_mut() else {
            break;
        };
        let src = match &chunk.data {
            ChunkData::Ring(bid) => inner.bufs.bytes(*bid, chunk.start, chunk.end),
            ChunkData::Heap(v) => &v[chunk.start as usize..chunk.end as usize],
        };
        let take = src.len().min(spare.len() - n);
        for (d, s) in spare[n..n + take].iter_mut().zip(&src[..take]) {
            d.write(*s);
        }
        n += take;
        chunk.start += take as u32;
        if chunk.start == chunk.end {
            // Given back after the caller releases the stream's state: a
            // recycle may re-arm starved streams, this one included.
            if let Some(Chunk {
                data: ChunkData::Ring(bid),
                ..
            }) = st.chunks.pop_front()
            {
                inner.recycle_later.push(bid);
            }
        }
    }
    st.queued -= n;
    // SAFETY: the loop above initialised the first `n` bytes of the spare
    // capacity.
    unsafe { buf.advance(n) };
    n
}

fn result(res: i32) -> io::Result<usize> {
    if res < 0 {
        Err(io::Error::from_raw_os_error(-res))
    } else {
        Ok(res as usize)
    }
}

impl Drop for UringStream {
    fn drop(&mut self) {
        let shared = &self.shared;
        self.driver.with(|inner| {
            let mut st = shared.st.borrow_mut();
            st.closed = true;
            st.queued = 0;
            st.reader = None;
            let bids: Vec<u16> = st
                .chunks
                .drain(..)
                .filter_map(|c| match c.data {
                    ChunkData::Ring(bid) => Some(bid),
                    ChunkData::Heap(_) => None,
                })
                .collect();
            drop(st);
            inner.starved.retain(|s| !Rc::ptr_eq(s, shared));
            for bid in bids {
                inner.recycle(bid);
            }
            // Operations still hold the socket: cancel them; it closes when
            // the last one completed.
            if Rc::strong_count(shared) > 1 && !inner.closing {
                op::cancel(
                    inner,
                    types::CancelBuilder::fd(types::Fd(shared.sock.as_raw_fd())).all(),
                );
            }
        });
    }
}
