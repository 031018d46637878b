//! [`TcpStream`] and [`TcpListener`]: non-blocking sockets whose operations
//! try the syscall and, on `EWOULDBLOCK`, wait for the thread's
//! [`StdPark`](crate::poller::StdPark) to see the socket ready.

use crate::poller::{Dir, Poller};
use io_core::buf::{BufResult, IoBuf, IoBufMut};
use io_core::{AsyncListener, AsyncStream, sys};
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::{Context, Poll};

/// A socket bound to the poller of the thread that adopted it.
#[derive(Debug)]
struct Source<T: AsRawFd> {
    io: T,
    poller: Rc<Poller>,
}

impl<T: AsRawFd> Source<T> {
    fn new(io: T) -> io::Result<Self> {
        Ok(Source {
            io,
            poller: Poller::current()?,
        })
    }

    /// Runs `op` until it stops saying "would block", then waits for `dir`.
    fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Dir,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.poller.wait(self.io.as_raw_fd(), dir, cx.waker());
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => return Poll::Ready(res),
            }
        }
    }
}

impl<T: AsRawFd> Drop for Source<T> {
    fn drop(&mut self) {
        self.poller.forget(self.io.as_raw_fd());
    }
}

/// A TCP connection on the std backend. Owned by the thread that adopted it.
#[derive(Debug)]
pub struct TcpStream {
    source: Source<std::net::TcpStream>,
}

impl TcpStream {
    /// Adopts a connected std stream into the current runtime (made
    /// non-blocking here).
    ///
    /// # Errors
    ///
    /// Outside of [`Std::block_on`](crate::Std), or when the socket refuses
    /// non-blocking mode.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<Self> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            source: Source::new(stream)?,
        })
    }

    /// Connects to `addr` without blocking the thread's other tasks or
    /// timers. A refused connection is an error of kind
    /// [`io::ErrorKind::ConnectionRefused`].
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
        let fd = self.source.io.as_raw_fd();
        let res = poll_fn(|cx| {
            self.source
                .poll_io(cx, Dir::Read, |_| sys::recv_into(fd, &mut buf))
        })
        .await;
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

    async fn readable(&self) -> io::Result<()> {
        // `poll(2)` is level-triggered: wait once, and report ready when the
        // poller fired the waker (the socket was readable then).
        let fd = self.source.io.as_raw_fd();
        let poller = &self.source.poller;
        let mut waiting = false;
        poll_fn(|cx| {
            if waiting && !poller.is_waiting(fd, Dir::Read) {
                return Poll::Ready(Ok(()));
            }
            poller.wait(fd, Dir::Read, cx.waker());
            waiting = true;
            Poll::Pending
        })
        .await
    }

    fn try_read<B: IoBufMut>(&self, buf: &mut B) -> io::Result<usize> {
        let fd = self.source.io.as_raw_fd();
        loop {
            match sys::recv_into(fd, buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                res => return res,
            }
        }
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

/// A TCP listener on the std backend. Owned by the thread that adopted it.
#[derive(Debug)]
pub struct TcpListener {
    source: Source<std::net::TcpListener>,
}

impl TcpListener {
    /// Adopts a bound std listener into the current runtime (made
    /// non-blocking here).
    ///
    /// # Errors
    ///
    /// Outside of [`Std::block_on`](crate::Std), or when the socket refuses
    /// non-blocking mode.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            source: Source::new(listener)?,
        })
    }

    /// Waits for the next connection and returns it as a std stream, to be
    /// handed to another thread (the per-connection threads of `serve`).
    pub(crate) async fn accept_std(&self) -> io::Result<(std::net::TcpStream, SocketAddr)> {
        poll_fn(|cx| self.source.poll_io(cx, Dir::Read, |l| l.accept())).await
    }
}

impl AsyncListener for TcpListener {
    type Stream = TcpStream;

    async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.accept_std().await?;
        Ok((TcpStream::from_std(stream)?, peer))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.io.local_addr()
    }
}
