//! The surface every backend exposes: [`Backend`], [`AsyncListener`] and
//! [`AsyncStream`].
//!
//! The contract is completion-shaped (operations own their buffers and hand
//! them back, see [`crate::buf`]) so io_uring fits it naturally; the epoll
//! backend emulates it by doing the non-blocking syscall when the socket is
//! ready, and the std backend by doing the blocking syscall on its own thread.
//! Code written against these traits runs unchanged on all three.

use crate::buf::{BufResult, IoBuf, IoBufMut, Slice};
use crate::runtime::{ServeConfig, ServerHandle};
use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};

/// A connected TCP socket, owned by the worker that created it.
pub trait AsyncStream: Sized + 'static {
    /// Reads into the spare capacity of `buf`; `Ok(0)` is end of stream.
    fn read<B: IoBufMut>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>>;

    /// Writes some of `buf`; returns how many bytes went out.
    fn write<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<usize, B>>;

    /// Writes some of `bufs` with one vectored syscall; returns how many bytes
    /// went out, counting across the buffers in order.
    fn writev<B: IoBuf>(&self, bufs: Vec<B>) -> impl Future<Output = BufResult<usize, Vec<B>>>;

    /// Waits until a read may find something (data, end of stream or an
    /// error) without holding a buffer, so an idle connection can give its
    /// read buffer back and take one only when there is something to read
    /// (then [`try_read`](Self::try_read)). It may complete spuriously:
    /// `try_read` then says [`io::ErrorKind::WouldBlock`] and the caller
    /// waits again. An error is one of waiting itself; socket errors come
    /// from `try_read`.
    fn readable(&self) -> impl Future<Output = io::Result<()>>;

    /// Reads what is available now into the spare capacity of `buf`,
    /// without waiting: `Ok(0)` is end of stream, an error of kind
    /// [`io::ErrorKind::WouldBlock`] means nothing is there yet (wait with
    /// [`readable`](Self::readable)).
    fn try_read<B: IoBufMut>(&self, buf: &mut B) -> io::Result<usize>;

    /// Shuts down one or both directions (`Write` sends FIN: half-close).
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;

    /// The remote address.
    fn peer_addr(&self) -> io::Result<SocketAddr>;

    /// The local address.
    fn local_addr(&self) -> io::Result<SocketAddr>;

    /// Sets `TCP_NODELAY`.
    fn set_nodelay(&self, on: bool) -> io::Result<()>;

    /// Writes all of `buf`, looping over short writes.
    fn write_all<B: IoBuf>(&self, buf: B) -> impl Future<Output = BufResult<(), B>> {
        async move {
            let mut slice = Slice::new(buf, 0);
            loop {
                let remaining = slice.as_slice().len();
                if remaining == 0 {
                    return (Ok(()), slice.into_inner());
                }
                let begin = slice.begin();
                let (res, s) = self.write(slice).await;
                slice = s;
                match res {
                    Ok(0) => {
                        return (
                            Err(io::Error::new(io::ErrorKind::WriteZero, "wrote zero bytes")),
                            slice.into_inner(),
                        );
                    }
                    Ok(n) => slice = Slice::new(slice.into_inner(), begin + n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return (Err(e), slice.into_inner()),
                }
            }
        }
    }
}

/// A listening TCP socket.
pub trait AsyncListener: Sized + 'static {
    /// The stream type accepted connections come as.
    type Stream: AsyncStream;

    /// Waits for the next connection.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>>;

    /// The bound address (with the real port when bound to port 0).
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// An I/O backend: how a worker sleeps and how its sockets do I/O.
///
/// Each backend crate implements this on a unit type (`io_epoll::Epoll`,
/// `io_uring_backend::Uring`, `io_std::Std`); the `weft` facade picks one by
/// cargo feature, and tests run one generic suite over all three.
pub trait Backend: Send + Sync + 'static {
    /// Connected sockets.
    type Stream: AsyncStream;
    /// Listening sockets.
    type Listener: AsyncListener<Stream = Self::Stream>;

    /// A short name for logs and benchmarks ("epoll", "uring", "std").
    const NAME: &'static str;

    /// Runs `future` to completion on the calling thread with this backend's
    /// driver, together with every task it spawns.
    fn block_on<F: Future>(future: F) -> F::Output;

    /// Adopts a bound std listener into the current worker (inside
    /// [`Backend::block_on`]).
    fn listener_from_std(listener: std::net::TcpListener) -> io::Result<Self::Listener>;

    /// Adopts a connected std stream into the current worker.
    fn stream_from_std(stream: std::net::TcpStream) -> io::Result<Self::Stream>;

    /// Connects to `addr`. A refused connection is an error of kind
    /// [`io::ErrorKind::ConnectionRefused`].
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>>;

    /// Binds a listener on `addr` in the current worker.
    fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        Self::listener_from_std(crate::net::bind_std(addr, false, 1024)?)
    }

    /// Serves connections on `config.addr` with `config.workers` workers,
    /// calling `handler` for each accepted connection on the worker that
    /// accepted it. Returns once every worker listens.
    fn serve<H, Fut>(config: ServeConfig, handler: H) -> io::Result<ServerHandle>
    where
        H: Fn(Self::Stream, SocketAddr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
        Self: Sized,
    {
        crate::runtime::serve_per_worker::<Self, H, Fut>(config, handler)
    }
}
