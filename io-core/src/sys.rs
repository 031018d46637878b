//! The socket syscalls the readiness and blocking backends share, on raw
//! descriptors, with owned buffers. Writes use `MSG_NOSIGNAL` so a peer that
//! went away gives `EPIPE`, never a `SIGPIPE` that kills the process.

use crate::buf::{IoBuf, IoBufMut};
use std::io;
use std::os::fd::RawFd;

/// Most buffers one vectored write passes to the kernel (`IOV_MAX` is 1024).
pub const MAX_IOVECS: usize = 1024;

fn check(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// `recv(2)` into the spare capacity of `buf`, advancing it by what was read.
pub fn recv_into<B: IoBufMut>(fd: RawFd, buf: &mut B) -> io::Result<usize> {
    let spare = buf.spare();
    // SAFETY: `spare` is valid writable memory of `spare.len()` bytes owned by
    // `buf` for the duration of the call.
    let ret = unsafe { libc::recv(fd, spare.as_mut_ptr().cast(), spare.len(), 0) };
    let n = check(ret)?;
    // SAFETY: the kernel initialised the first `n` bytes of the spare capacity.
    unsafe { buf.advance(n) };
    Ok(n)
}

/// `send(2)` of `buf` with `MSG_NOSIGNAL`.
pub fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid readable memory of `buf.len()` bytes.
    let ret = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
    check(ret)
}

/// `sendmsg(2)` of up to [`MAX_IOVECS`] buffers with `MSG_NOSIGNAL`.
pub fn sendv<B: IoBuf>(fd: RawFd, bufs: &[B]) -> io::Result<usize> {
    let iov: Vec<libc::iovec> = bufs
        .iter()
        .take(MAX_IOVECS)
        .map(|b| {
            let s = b.as_slice();
            libc::iovec {
                iov_base: s.as_ptr() as *mut libc::c_void,
                iov_len: s.len(),
            }
        })
        .collect();
    // SAFETY: msghdr is plain data; zeroed is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = iov.len() as _;
    // SAFETY: `msg` points at `iov`, whose entries point into `bufs`; both
    // outlive the call.
    let ret = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) };
    check(ret)
}

/// Starts a non-blocking TCP connect to `addr`. Returns the socket (already
/// non-blocking) and whether the connect is still in progress; a readiness
/// backend then waits for writability and calls [`connect_finished`].
pub fn start_connect(addr: std::net::SocketAddr) -> io::Result<(std::net::TcpStream, bool)> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM.nonblocking(),
        Some(socket2::Protocol::TCP),
    )?;
    let in_progress = match socket.connect(&addr.into()) {
        Ok(()) => false,
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(e) => return Err(e),
    };
    Ok((socket.into(), in_progress))
}

/// Whether a connect started by [`start_connect`] has finished: `Ok(())`
/// when connected, the connect's own error (e.g. `ConnectionRefused`), or
/// `WouldBlock` while it is still in progress.
pub fn connect_finished(stream: &std::net::TcpStream) -> io::Result<()> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Err(io::ErrorKind::WouldBlock.into()),
        Err(e) => Err(e),
    }
}
