//! How an executor sleeps: the one thing each backend supplies to it.

use std::io;
use std::sync::Arc;
use std::time::Duration;

/// A worker's way of waiting for work: I/O readiness or completions, a
/// cross-thread wake, or a timeout. Each backend implements it once (epoll:
/// `epoll_wait`; io_uring: `io_uring_enter`; std: `poll(2)` over the thread's
/// sockets).
pub trait Park {
    /// Blocks until I/O happened (whose wakers the implementation wakes), the
    /// [`Unpark`] handle was used, or `timeout` elapsed. `Some(ZERO)` only
    /// collects what is ready without sleeping.
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()>;
    /// A handle other threads use to interrupt [`Park::park`]. A call made
    /// before `park` must make the next `park` return at once (no lost
    /// wake-ups).
    fn unparker(&self) -> Arc<dyn Unpark>;
}

/// Interrupts a parked worker from any thread.
pub trait Unpark: Send + Sync + 'static {
    /// Wakes the worker's current or next [`Park::park`].
    fn unpark(&self);
}

/// [`Park`] for a plain thread: `std::thread::park_timeout`. No I/O; for
/// executors that only run timers and cross-thread work, and for tests.
#[derive(Debug)]
pub struct ThreadPark {
    thread: Arc<ThreadUnpark>,
}

#[derive(Debug)]
struct ThreadUnpark(std::thread::Thread);

impl Unpark for ThreadUnpark {
    fn unpark(&self) {
        self.0.unpark();
    }
}

impl ThreadPark {
    /// A parker for the calling thread.
    pub fn new() -> Self {
        ThreadPark {
            thread: Arc::new(ThreadUnpark(std::thread::current())),
        }
    }
}

impl Default for ThreadPark {
    fn default() -> Self {
        Self::new()
    }
}

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match timeout {
            Some(d) if d.is_zero() => {}
            Some(d) => std::thread::park_timeout(d),
            None => std::thread::park(),
        }
        Ok(())
    }
    fn unparker(&self) -> Arc<dyn Unpark> {
        self.thread.clone()
    }
}
