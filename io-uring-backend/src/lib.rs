//! The io_uring backend: a completion driver on the `io-uring` crate for
//! Weft's [`io_core::Backend`] contract, with an epoll fallback.
//!
//! Each worker thread owns one ring, created by
//! [`Backend::block_on`](io_core::Backend::block_on) on [`Uring`]:
//!
//! - **Batched submission, one submitter.** Operations push SQEs into the
//!   ring's submission queue; the worker's park submits them all with the
//!   same `io_uring_enter` that waits for completions (with the executor's
//!   next timer deadline as timeout). A full queue is submitted early.
//! - **Cross-thread wake.** A read of an eventfd stays armed on the ring;
//!   another thread's wake writes to the eventfd (see [`io_core::Unpark`]).
//! - **Listeners** use multishot accept and queue accepted descriptors until
//!   `accept()` takes them.
//! - **Reads** use multishot receive with a provided-buffer ring shared by the
//!   worker's sockets: the kernel only ever writes into ring-owned memory,
//!   and `read(buf)` copies queued data into the caller's buffer, so a
//!   dropped read future leaves nothing behind. A stream with 64 KiB unread
//!   pauses its receive (back-pressure instead of hoarding buffers).
//! - **Writes** (`IORING_OP_SEND` / `IORING_OP_SENDMSG`, `MSG_NOSIGNAL`) and
//!   connects own their buffers, iovecs and socket addresses while in
//!   flight; a dropped future hands them to the operation table (and asks
//!   the kernel to cancel) until the completion arrives. Part of such a
//!   write may have gone out, so the stream's output is undefined after it,
//!   as with any backend: poison the connection.
//! - **Close**: dropping a socket cancels its operations and the descriptor
//!   is closed once none is in flight, so no submission can name a reused
//!   descriptor number.
//!
//! If the kernel refuses io_uring (or lacks multishot receive, 6.0+), or
//! `WEFT_URING_FORCE_FALLBACK=1` is set, the worker runs on `io-epoll`
//! instead and one line on stderr says so; [`is_supported`] and
//! [`active_driver`] tell which driver runs.
//!
//! Buffer budget: each worker registers 512 buffers of 8 KiB (4 MiB). A
//! stream holding 64 KiB unread has its receive paused, so a slow reader
//! holds at most about that much; when many such streams exhaust the ring
//! anyway, their receives wait for buffers to come back, and a reader that
//! waits meanwhile receives once into a private 8 KiB buffer
//! (`IORING_OP_RECV` without buffer selection) instead of depending on the
//! other streams, which may be waiting on it.
//!
//! Sockets belong to the runtime (thread) that created them; their
//! operations complete only while that runtime parks.
//!
//! ```
//! use io_core::{AsyncListener, AsyncStream, Backend};
//! use io_uring_backend::Uring;
//!
//! Uring::block_on(async {
//!     let listener = Uring::bind("127.0.0.1:0".parse().unwrap()).unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let client = io_core::spawn(async move {
//!         let s = Uring::connect(addr).await.unwrap();
//!         let (res, _) = s.write_all(b"ping".to_vec()).await;
//!         res.unwrap();
//!     });
//!     let (conn, _) = listener.accept().await.unwrap();
//!     let (n, buf) = conn.read(Vec::with_capacity(16)).await;
//!     assert_eq!(&buf[..n.unwrap()], b"ping");
//!     client.await.unwrap();
//! });
//! ```

mod bufring;
mod fallback;
mod listener;
mod net;
mod op;
mod park;
mod ring;
mod stream;
mod sys;

#[cfg(test)]
mod tests;

pub use fallback::{FORCE_FALLBACK_ENV, active_driver, is_supported};
pub use net::{TcpListener, TcpStream};

use fallback::Choice;
use ring::Driver;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

/// The io_uring backend (see the crate docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Uring;

/// Clears the thread's driver when `block_on` returns or unwinds.
struct Uninstall;

impl Drop for Uninstall {
    fn drop(&mut self) {
        Driver::install(None);
        fallback::set_active(None);
    }
}

impl io_core::Backend for Uring {
    type Stream = TcpStream;
    type Listener = TcpListener;
    const NAME: &'static str = "uring";

    fn block_on<F: Future>(future: F) -> F::Output {
        match fallback::choose() {
            Choice::Uring(driver) => {
                Driver::install(Some(driver.clone()));
                fallback::set_active(Some("io_uring"));
                let _uninstall = Uninstall;
                io_core::block_on_with(park::UringPark::new(driver), future)
            }
            Choice::Epoll => {
                fallback::set_active(Some("epoll"));
                let _uninstall = Uninstall;
                <io_epoll::Epoll as io_core::Backend>::block_on(future)
            }
        }
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
}
