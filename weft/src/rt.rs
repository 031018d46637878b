//! The runtime: run futures, spawn tasks, timers, and the backend choice.
//!
//! ```
//! use std::time::Duration;
//!
//! let out = weft::rt::block_on(async {
//!     let task = weft::rt::spawn(async { 40 + 2 });
//!     weft::rt::time::sleep(Duration::from_millis(1)).await;
//!     task.await.unwrap()
//! });
//! assert_eq!(out, 42);
//! ```

pub use io_core::backend::{AsyncListener, AsyncStream, Backend};
pub use io_core::buf::{BufResult, IoBuf, IoBufMut};
pub use io_core::executor::{JoinError, JoinHandle, spawn, task_count, yield_now};
pub use io_core::join_all::join_all;
pub use io_core::runtime::{
    ServeConfig, ServerHandle, available_cores, shutdown_signal, worker_index,
};
pub use io_core::select::{Either, select};
pub use io_core::{sync, time};

#[cfg(feature = "epoll")]
pub use io_epoll::Epoll;
#[cfg(feature = "std")]
pub use io_std::Std;
#[cfg(feature = "uring")]
pub use io_uring_backend::{Uring, active_driver as uring_driver};

use std::fmt;
use std::future::Future;
use std::str::FromStr;

/// The backend chosen at compile time: the first enabled of epoll, uring, std.
#[cfg(feature = "epoll")]
pub type DefaultBackend = io_epoll::Epoll;
/// The backend chosen at compile time: the first enabled of epoll, uring, std.
#[cfg(all(not(feature = "epoll"), feature = "uring"))]
pub type DefaultBackend = io_uring_backend::Uring;
/// The backend chosen at compile time: the first enabled of epoll, uring, std.
#[cfg(all(not(feature = "epoll"), not(feature = "uring"), feature = "std"))]
pub type DefaultBackend = io_std::Std;

/// Runs `future` to completion on the current thread with the default
/// backend; drivers and sockets work inside it without a server.
pub fn block_on<F: Future>(future: F) -> F::Output {
    DefaultBackend::block_on(future)
}

/// A backend named at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// `io-epoll`.
    Epoll,
    /// `io-uring-backend`.
    Uring,
    /// `io-std`.
    Std,
}

impl BackendKind {
    /// Every backend compiled into this build.
    pub fn enabled() -> Vec<BackendKind> {
        let mut v = Vec::new();
        if cfg!(feature = "epoll") {
            v.push(BackendKind::Epoll);
        }
        if cfg!(feature = "uring") {
            v.push(BackendKind::Uring);
        }
        if cfg!(feature = "std") {
            v.push(BackendKind::Std);
        }
        v
    }

    /// The short name ("epoll", "uring", "std").
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Epoll => "epoll",
            BackendKind::Uring => "uring",
            BackendKind::Std => "std",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let kind = match s {
            "epoll" => BackendKind::Epoll,
            "uring" | "io_uring" | "io-uring" => BackendKind::Uring,
            "std" => BackendKind::Std,
            other => return Err(format!("unknown backend {other:?} (epoll, uring, std)")),
        };
        if BackendKind::enabled().contains(&kind) {
            Ok(kind)
        } else {
            Err(format!(
                "backend {s:?} is not compiled in (enable the cargo feature)"
            ))
        }
    }
}

/// Generic code to run with a backend chosen at run time; see
/// [`BackendKind::dispatch`].
pub trait BackendFn {
    /// What the code returns.
    type Output;
    /// Runs the code with backend `B`.
    fn call<B: Backend>(self) -> Self::Output;
}

impl BackendKind {
    /// Monomorphises `f` for the backend this names and runs it.
    ///
    /// # Panics
    ///
    /// When the backend is not compiled in (parse with [`FromStr`] first, which
    /// checks).
    pub fn dispatch<F: BackendFn>(self, f: F) -> F::Output {
        match self {
            #[cfg(feature = "epoll")]
            BackendKind::Epoll => f.call::<io_epoll::Epoll>(),
            #[cfg(feature = "uring")]
            BackendKind::Uring => f.call::<io_uring_backend::Uring>(),
            #[cfg(feature = "std")]
            BackendKind::Std => f.call::<io_std::Std>(),
            #[allow(unreachable_patterns)]
            other => panic!("backend {other} is not compiled in"),
        }
    }
}
