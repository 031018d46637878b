//! Choosing the driver of a worker: io_uring when the kernel provides what
//! this backend needs, epoll otherwise.
//!
//! The kernel is probed once per process ([`is_supported`]): a ring is set
//! up with its provided-buffer ring, and a multishot receive must deliver a
//! byte written into a socket pair (this covers seccomp filters and
//! `io_uring_disabled` sysctls, which make `io_uring_setup` fail with
//! `EPERM`, as well as kernels older than 6.0 without multishot receive).
//! When the probe fails, or `WEFT_URING_FORCE_FALLBACK=1` is set, or a
//! worker's own ring cannot be created, the worker runs the epoll backend
//! instead and one line on stderr says why (once per process).

use crate::ring::Driver;
use crate::stream::UringStream;
use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::{Once, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The environment variable that forces the epoll fallback.
pub const FORCE_FALLBACK_ENV: &str = "WEFT_URING_FORCE_FALLBACK";

thread_local! {
    static ACTIVE: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// The driver a worker runs on.
pub(crate) enum Choice {
    Uring(Rc<Driver>),
    Epoll,
}

fn forced() -> bool {
    std::env::var_os(FORCE_FALLBACK_ENV).is_some_and(|v| v == "1")
}

fn warn_once(reason: &str) {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        eprintln!("weft: io_uring backend unavailable ({reason}); falling back to epoll");
    });
}

/// Picks the driver for a new worker (and logs a fallback once).
pub(crate) fn choose() -> Choice {
    if forced() {
        warn_once(&format!("{FORCE_FALLBACK_ENV}=1"));
        return Choice::Epoll;
    }
    if let Err(reason) = probe_result() {
        warn_once(reason);
        return Choice::Epoll;
    }
    match Driver::new() {
        Ok(driver) => Choice::Uring(driver),
        Err(e) => {
            warn_once(&format!("creating the worker's ring failed: {e}"));
            Choice::Epoll
        }
    }
}

/// Records which driver the current thread's runtime uses.
pub(crate) fn set_active(name: Option<&'static str>) {
    ACTIVE.with(|a| a.set(name));
}

/// Whether this kernel (and process) can run the io_uring driver: the
/// probe described in the module docs, run once per process.
pub fn is_supported() -> bool {
    probe_result().is_ok()
}

/// The driver of the runtime on the current thread: `"io_uring"` or
/// `"epoll"`. Outside of a runtime, the driver a new one would use.
pub fn active_driver() -> &'static str {
    ACTIVE.with(Cell::get).unwrap_or_else(|| {
        if forced() || !is_supported() {
            "epoll"
        } else {
            "io_uring"
        }
    })
}

fn probe_result() -> Result<(), &'static str> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE
        .get_or_init(|| probe().map_err(|e| e.to_string()))
        .as_ref()
        .map(|_| ())
        .map_err(String::as_str)
}

/// Sets up a driver and receives one byte through a multishot receive.
fn probe() -> io::Result<()> {
    let driver = Driver::new()?;
    let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
    // A stream socket: the receive path is the same as for TCP.
    let sock = std::net::TcpStream::from(std::os::fd::OwnedFd::from(a));
    let stream = UringStream::from_std(driver.clone(), sock)?;
    std::io::Write::write_all(&mut b, b"ok")?;
    let mut read = pin!(stream.read(Vec::with_capacity(8)));
    let mut cx = Context::from_waker(Waker::noop());
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Poll::Ready((res, buf)) = read.as_mut().poll(&mut cx) {
            let n = res?;
            return if buf == b"ok" && n == 2 {
                Ok(())
            } else {
                Err(io::Error::other("multishot receive returned wrong data"))
            };
        }
        if Instant::now() >= deadline {
            return Err(io::Error::other("multishot receive did not complete"));
        }
        driver.park(Some(Duration::from_millis(20)))?;
    }
}
