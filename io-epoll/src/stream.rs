//! [`TcpStream`] and [`TcpListener`] on the epoll reactor.

use crate::reactor::{Dir, Reactor, ReadOutcome};
use io_core::buf::{BufResult, IoBuf, IoBufMut};
use io_core::{AsyncListener, AsyncStream, sys};
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::rc::Rc;
use std::task::{Context, Poll};

/// A socket registered with the worker's reactor.
#[derive(Debug)]
struct Source<T: AsFd> {
    io: T,
    key: usize,
    reactor: Rc<Reactor>,
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reactor")
    }
}

impl<T: AsFd> Source<T> {
    fn new(io: T) -> io::Result<Self> {
        let reactor = Reactor::current()?;
        let key = reactor.register(io.as_fd())?;
        Ok(Source { io, key, reactor })
    }

    /// Runs `op` until it stops saying "would block", parking on `dir`.
    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Dir,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.reactor.wait(self.key, dir, cx.waker());
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => return Poll::Ready(res),
            }
        }
    }
}

impl<T: AsFd> Source<T> {
    /// Receives into `buf`'s spare room once readable (see the reactor's
    /// docs for when a read waits for an edge before trying the socket).
    fn poll_recv<B: IoBufMut>(&self, cx: &mut Context<'_>, buf: &mut B) -> Poll<io::Result<usize>>
    where
        T: AsRawFd,
    {
        if !self.reactor.poll_readable(self.key, cx.waker()) {
            return Poll::Pending;
        }
        match self.try_recv(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.reactor.wait(self.key, Dir::Read, cx.waker());
                Poll::Pending
            }
            res => Poll::Ready(res),
        }
    }

    /// One `recv` (retried on `EINTR`), reported to the reactor's readiness
    /// bookkeeping.
    fn try_recv<B: IoBufMut>(&self, buf: &mut B) -> io::Result<usize>
    where
        T: AsRawFd,
    {
        let fd = self.io.as_raw_fd();
        loop {
            let room = buf.spare().len();
            let res = sys::recv_into(fd, buf);
            let outcome = match &res {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => ReadOutcome::WouldBlock,
                Ok(n) if *n > 0 && *n < room => ReadOutcome::Short,
                _ => ReadOutcome::Full,
            };
            self.reactor.read_done(self.key, outcome);
            return res;
        }
    }
}

impl<T: AsFd> Drop for Source<T> {
    fn drop(&mut self) {
        self.reactor.deregister(self.io.as_fd(), self.key);
    }
}

/// A TCP connection on the epoll backend.
#[derive(Debug)]
pub struct TcpStream {
    source: Source<std::net::TcpStream>,
}

impl TcpStream {
    /// Adopts a connected std stream (made non-blocking here).
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            source: Source::new(stream)?,
        })
    }

    /// Connects to `addr` without blocking the worker.
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let (socket, in_progress) = sys::start_connect(addr)?;
        let stream = TcpStream {
            source: Source::new(socket)?,
        };
        if in_progress {
            poll_fn(|cx| stream.source.poll_io(cx, Dir::Write, sys::connect_finished)).await?;
        }
        Ok(stream)
    }
}

impl AsyncStream for TcpStream {
    async fn read<B: IoBufMut>(&self, mut buf: B) -> BufResult<usize, B> {
        let res = poll_fn(|cx| self.source.poll_recv(cx, &mut buf)).await;
        (res, buf)
    }

    async fn write<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        let fd = self.source.io.as_raw_fd();
        let res = poll_fn(|cx| {
            self.source
                .poll_io(cx, Dir::Write, |_| sys::send(fd, buf.as_slice()))
        })
        .await;
        (res, buf)
    }

    async fn writev<B: IoBuf>(&self, bufs: Vec<B>) -> BufResult<usize, Vec<B>> {
        let fd = self.source.io.as_raw_fd();
        let res = poll_fn(|cx| {
            self.source
                .poll_io(cx, Dir::Write, |_| sys::sendv(fd, &bufs))
        })
        .await;
        (res, bufs)
    }

    async fn readable(&self) -> io::Result<()> {
        let source = &self.source;
        poll_fn(|cx| {
            if source.reactor.poll_readable(source.key, cx.waker()) {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            }
        })
        .await
    }

    fn try_read<B: IoBufMut>(&self, buf: &mut B) -> io::Result<usize> {
        // Known drained (see the reactor's docs): no syscall.
        if !self.source.reactor.is_readable(self.source.key) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.source.try_recv(buf)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.io.shutdown(how)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.io.peer_addr()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.io.local_addr()
    }

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.source.io.set_nodelay(on)
    }
}

/// A TCP listener on the epoll backend.
#[derive(Debug)]
pub struct TcpListener {
    source: Source<std::net::TcpListener>,
}

impl TcpListener {
    /// Adopts a bound std listener (made non-blocking here).
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            source: Source::new(listener)?,
        })
    }
}

impl AsyncListener for TcpListener {
    type Stream = TcpStream;

    async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) =
            poll_fn(|cx| self.source.poll_io(cx, Dir::Read, |l| l.accept())).await?;
        Ok((TcpStream::from_std(stream)?, peer))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.io.local_addr()
    }
}
