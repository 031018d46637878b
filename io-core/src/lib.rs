//! The runtime contract Weft's I/O backends share.
//!
//! - [`executor`]: a single-threaded executor per worker ([`spawn`],
//!   [`JoinHandle`], wakers usable from any thread).
//! - [`time`]: [`sleep`](time::sleep), [`timeout`](time::timeout) and
//!   deadlines on any future.
//! - [`buf`]: owned buffers an operation holds while in flight.
//! - [`backend`]: the [`Backend`] trait with its [`AsyncListener`] and
//!   [`AsyncStream`], implemented by `io-epoll`, `io-uring-backend` and
//!   `io-std`.
//! - [`runtime`]: `N` workers with `SO_REUSEPORT` listeners and graceful
//!   shutdown.
//! - [`sync`]: cross-thread [`Notify`](sync::Notify) and [`Latch`](sync::Latch).
//!
//! A backend supplies one thing to the executor: a [`Park`] (how to sleep
//! until I/O, a timer or a cross-thread wake). Everything else here is
//! shared, so the three backends schedule identically.

pub mod backend;
pub mod buf;
pub mod executor;
pub mod join_all;
pub mod net;
pub mod park;
pub mod runtime;
pub mod select;
pub mod sync;
pub mod sys;
pub mod time;

pub use backend::{AsyncListener, AsyncStream, Backend};
pub use buf::{BufResult, IoBuf, IoBufMut};
pub use executor::{JoinError, JoinHandle, block_on_with, spawn, yield_now};
pub use park::{Park, Unpark};
pub use runtime::{ServeConfig, ServerHandle};
