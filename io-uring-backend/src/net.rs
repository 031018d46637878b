//! The public [`TcpStream`] and [`TcpListener`]: on the worker's ring, or on
//! the epoll fallback when the worker runs without io_uring.

use crate::listener::UringListener;
use crate::ring::Driver;
use crate::stream::UringStream;
use io_core::buf::{BufResult, IoBuf, IoBufMut};
use io_core::{AsyncListener, AsyncStream};
use std::io;
use std::net::{Shutdown, SocketAddr};

#[derive(Debug)]
enum StreamKind {
    Uring(UringStream),
    Epoll(io_epoll::TcpStream),
}

/// A TCP connection on the io_uring backend (or its epoll fallback).
#[derive(Debug)]
pub struct TcpStream {
    kind: StreamKind,
}

impl TcpStream {
    /// Adopts a connected std stream into the current worker.
    ///
    /// # Errors
    ///
    /// Outside of a runtime (`Uring::block_on`), or when the socket cannot be
    /// configured.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<Self> {
        let kind = match Driver::current() {
            Some(driver) => StreamKind::Uring(UringStream::from_std(driver, stream)?),
            None => StreamKind::Epoll(io_epoll::TcpStream::from_std(stream)?),
        };
        Ok(TcpStream { kind })
    }

    /// Connects to `addr` (`IORING_OP_CONNECT` on io_uring). A refused
    /// connection is an error of kind [`io::ErrorKind::ConnectionRefused`].
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        let kind = match Driver::current() {
            Some(driver) => StreamKind::Uring(UringStream::connect(driver, addr).await?),
            None => StreamKind::Epoll(io_epoll::TcpStream::connect(addr).await?),
        };
        Ok(TcpStream { kind })
    }

    /// The driver this stream runs on: `"io_uring"` or `"epoll"`.
    pub fn driver(&self) -> &'static str {
        match self.kind {
            StreamKind::Uring(_) => "io_uring",
            StreamKind::Epoll(_) => "epoll",
        }
    }
}

impl AsyncStream for TcpStream {
    async fn read<B: IoBufMut>(&self, buf: B) -> BufResult<usize, B> {
        match &self.kind {
            StreamKind::Uring(s) => s.read(buf).await,
            StreamKind::Epoll(s) => s.read(buf).await,
        }
    }

    async fn readable(&self) -> io::Result<()> {
        match &self.kind {
            StreamKind::Uring(s) => s.readable().await,
            StreamKind::Epoll(s) => s.readable().await,
        }
    }

    fn try_read<B: IoBufMut>(&self, buf: &mut B) -> io::Result<usize> {
        match &self.kind {
            StreamKind::Uring(s) => s.try_read(buf),
            StreamKind::Epoll(s) => s.try_read(buf),
        }
    }

    async fn write<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        match &self.kind {
            StreamKind::Uring(s) => s.write(buf).await,
            StreamKind::Epoll(s) => s.write(buf).await,
        }
    }

    async fn writev<B: IoBuf>(&self, bufs: Vec<B>) -> BufResult<usize, Vec<B>> {
        match &self.kind {
            StreamKind::Uring(s) => s.writev(bufs).await,
            StreamKind::Epoll(s) => s.writev(bufs).await,
        }
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match &self.kind {
            StreamKind::Uring(s) => s.shutdown(how),
            StreamKind::Epoll(s) => s.shutdown(how),
        }
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        match &self.kind {
            StreamKind::Uring(s) => s.peer_addr(),
            StreamKind::Epoll(s) => s.peer_addr(),
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.kind {
            StreamKind::Uring(s) => s.local_addr(),
            StreamKind::Epoll(s) => s.local_addr(),
        }
    }

    fn set_nodelay(&self, on: bool) -> io::Result<()> {
        match &self.kind {
            StreamKind::Uring(s) => s.set_nodelay(on),
            StreamKind::Epoll(s) => s.set_nodelay(on),
        }
    }
}

#[derive(Debug)]
enum ListenerKind {
    Uring(UringListener),
    Epoll(io_epoll::TcpListener),
}

/// A TCP listener on the io_uring backend (or its epoll fallback).
#[derive(Debug)]
pub struct TcpListener {
    kind: ListenerKind,
}

impl TcpListener {
    /// Adopts a bound, listening std listener into the current worker; on
    /// io_uring its multishot accept starts at once.
    ///
    /// # Errors
    ///
    /// Outside of a runtime (`Uring::block_on`), or when the socket cannot be
    /// configured.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<Self> {
        let kind = match Driver::current() {
            Some(driver) => ListenerKind::Uring(UringListener::from_std(driver, listener)?),
            None => ListenerKind::Epoll(io_epoll::TcpListener::from_std(listener)?),
        };
        Ok(TcpListener { kind })
    }

    /// The driver this listener runs on: `"io_uring"` or `"epoll"`.
    pub fn driver(&self) -> &'static str {
        match self.kind {
            ListenerKind::Uring(_) => "io_uring",
            ListenerKind::Epoll(_) => "epoll",
        }
    }
}

impl AsyncListener for TcpListener {
    type Stream = TcpStream;

    async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        match &self.kind {
            ListenerKind::Uring(l) => {
                let (s, peer) = l.accept().await?;
                Ok((
                    TcpStream {
                        kind: StreamKind::Uring(s),
                    },
                    peer,
                ))
            }
            ListenerKind::Epoll(l) => {
                let (s, peer) = l.accept().await?;
                Ok((
                    TcpStream {
                        kind: StreamKind::Epoll(s),
                    },
                    peer,
                ))
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.kind {
            ListenerKind::Uring(l) => l.local_addr(),
            ListenerKind::Epoll(l) => l.local_addr(),
        }
    }
}
