//! The epoll backend: a readiness reactor on `epoll(7)`, driving
//! Weft's completion-shaped [`io_core::Backend`] contract by doing each
//! non-blocking syscall when its socket is ready.
//!
//! ```
//! use io_core::{AsyncListener, AsyncStream, Backend};
//! use io_epoll::Epoll;
//!
//! Epoll::block_on(async {
//!     let listener = Epoll::bind("127.0.0.1:0".parse().unwrap()).unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let client = io_core::spawn(async move {
//!         let s = Epoll::connect(addr).await.unwrap();
//!         let (res, _) = s.write_all(b"ping".to_vec()).await;
//!         res.unwrap();
//!     });
//!     let (conn, _) = listener.accept().await.unwrap();
//!     let (n, buf) = conn.read(Vec::with_capacity(16)).await;
//!     assert_eq!(&buf[..n.unwrap()], b"ping");
//!     client.await.unwrap();
//! });
//! ```

mod epoll;
mod reactor;
mod stream;

pub use stream::{TcpListener, TcpStream};

use reactor::{EpollPark, Reactor};
use std::future::Future;
use std::io;
use std::net::SocketAddr;

/// The epoll backend (see the crate docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Epoll;

impl io_core::Backend for Epoll {
    type Stream = TcpStream;
    type Listener = TcpListener;
    const NAME: &'static str = "epoll";

    fn block_on<F: Future>(future: F) -> F::Output {
        let reactor = Reactor::new().expect("creating the epoll poller failed");
        Reactor::install(Some(reactor.clone()));
        struct Uninstall;
        impl Drop for Uninstall {
            fn drop(&mut self) {
                Reactor::install(None);
            }
        }
        let _uninstall = Uninstall;
        io_core::block_on_with(EpollPark::new(reactor), future)
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
