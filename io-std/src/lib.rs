//! The std backend: the portable, simple one. A thread per connection, each
//! running Weft's single-threaded executor over non-blocking std sockets, and
//! parking in one `poll(2)` when it has nothing to do.
//!
//! ```
//! use io_core::{AsyncListener, AsyncStream, Backend};
//! use io_std::Std;
//!
//! Std::block_on(async {
//!     let listener = Std::bind("127.0.0.1:0".parse().unwrap()).unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let client = io_core::spawn(async move {
//!         let s = Std::connect(addr).await.unwrap();
//!         let (res, _) = s.write_all(b"ping".to_vec()).await;
//!         res.unwrap();
//!     });
//!     let (conn, _) = listener.accept().await.unwrap();
//!     let (n, buf) = conn.read(Vec::with_capacity(16)).await;
//!     assert_eq!(&buf[..n.unwrap()], b"ping");
//!     client.await.unwrap();
//! });
//! ```
//!
//! # How it waits
//!
//! An operation ([`TcpStream`], [`TcpListener`]) tries its syscall
//! (`io_core::sys`); on `EWOULDBLOCK` it leaves its waker with the thread's
//! poller and returns `Pending`. When no task is runnable the executor parks
//! in the backend's `Park` (`StdPark`): one `poll(2)` over the sockets tasks
//! wait on plus an eventfd, with the next timer deadline as its timeout. So:
//!
//! - timers fire on time (`io_core::time::timeout` around a read on a silent
//!   peer returns `Elapsed` at its deadline);
//! - a wake from another thread (a [`Notify`](io_core::sync::Notify), the
//!   shutdown latch, a driver reply) interrupts the park at once;
//! - any number of tasks and sockets share a thread: a reader task on an
//!   idle socket never holds up the writer task beside it;
//! - idle costs nothing: every thread, acceptors included, sits in one
//!   `poll(2)` with no timeout.
//!
//! # Why not a blocking syscall inside `poll`
//!
//! The first sketch of this backend left sockets blocking and did the
//! blocking `recv`/`send`/`accept` inside `Future::poll`, bounded by the next
//! timer with `SO_RCVTIMEO`/`SO_SNDTIMEO`. That works for one task on one
//! socket, but it blocks the whole executor on whichever operation was
//! polled first: a pipelining driver whose reader task waits on an idle
//! socket would freeze the writer task that sends the request the server is
//! waiting for (a deadlock, not a slowdown), `select` over two sockets would
//! wait on the first one only, and a cross-thread wake would go unseen until
//! the syscall returned. Parking in `poll(2)` costs one more syscall per
//! operation that has to wait (`recv` → `EAGAIN`, `poll`, `recv`), keeps
//! the "same handlers and drivers run on every backend" promise without
//! footnotes, and needs neither socket timeouts nor their bookkeeping.
//! `poll(2)` is in every Unix; the wake descriptor is an eventfd on Linux and
//! a socket pair elsewhere.
//!
//! # Serving
//!
//! [`Backend::serve`](io_core::Backend::serve) runs `workers` acceptor
//! threads sharing the port (`SO_REUSEPORT`) and a thread per accepted
//! connection; see [`serve`] for the connection limit and graceful shutdown.
//!
//! # Limits
//!
//! - A thread per connection: memory ([`CONNECTION_STACK_SIZE`] of stack,
//!   reserved lazily) and one extra descriptor (the eventfd) per connection.
//! - `poll(2)` scans its descriptors each park: fine for the handful of
//!   sockets one connection's handler uses, linear for a `block_on` that
//!   holds thousands (use `io-epoll` there).
//! - Shutdown cancels a straggling handler at the next point it waits; a
//!   handler stuck in a CPU loop or in a blocking call outside the runtime
//!   (`std::thread::sleep`, blocking std I/O) delays `shutdown` until it
//!   returns.

mod poller;
pub mod serve;
mod stream;

pub use serve::CONNECTION_STACK_SIZE;
pub use stream::{TcpListener, TcpStream};

use io_core::runtime::{ServeConfig, ServerHandle};
use poller::{Poller, StdPark};
use std::future::Future;
use std::io;
use std::net::SocketAddr;

/// [`Backend::block_on`](io_core::Backend::block_on) that reports a failure
/// to create the thread's wake descriptor (out of descriptors) instead of
/// panicking.
///
/// # Panics
///
/// Inside another runtime on this thread.
pub(crate) fn try_block_on<F: Future>(future: F) -> io::Result<F::Output> {
    assert!(
        !Poller::is_installed(),
        "Std::block_on called from inside a Weft runtime"
    );
    let poller = Poller::new()?;
    Poller::install(Some(poller.clone()));
    struct Uninstall;
    impl Drop for Uninstall {
        fn drop(&mut self) {
            Poller::install(None);
        }
    }
    let _uninstall = Uninstall;
    Ok(io_core::block_on_with(StdPark::new(poller), future))
}

/// The std backend (see the crate docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Std;

impl io_core::Backend for Std {
    type Stream = TcpStream;
    type Listener = TcpListener;
    const NAME: &'static str = "std";

    /// Runs `future` on the calling thread.
    ///
    /// # Panics
    ///
    /// Inside another runtime on this thread, or when the wake descriptor
    /// cannot be created (out of descriptors).
    fn block_on<F: Future>(future: F) -> F::Output {
        try_block_on(future).expect("creating the wake descriptor failed")
    }

    fn listener_from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }

    fn stream_from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }

    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<TcpStream>> {
        TcpStream::connect(addr)
    }

    fn serve<H, Fut>(config: ServeConfig, handler: H) -> io::Result<ServerHandle>
    where
        H: Fn(TcpStream, SocketAddr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        serve::serve(config, handler)
    }
}
