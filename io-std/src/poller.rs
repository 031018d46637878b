//! The per-thread poller: the wakers of tasks waiting on sockets, and the
//! [`Park`] that sleeps in one `poll(2)` over their descriptors and a wake
//! descriptor.
//!
//! This is the only module with `unsafe` (the `poll`/`eventfd` calls).
//!
//! Why the blocking happens here and not inside an operation's `poll`: the
//! executor calls [`Park::park`] exactly when no task is runnable, with the
//! next timer as the timeout. Blocking there can never starve a sibling task,
//! never misses a timer, and a wake from another thread interrupts it through
//! the wake descriptor. A blocking `recv` inside `Future::poll` would have
//! none of those properties: a reader task blocked on an idle socket freezes
//! the writer task that would send the request its peer is waiting for.

use io_core::{Park, Unpark};
use std::cell::RefCell;
use std::io;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

/// Which way an operation waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dir {
    /// Readable (data, a connection to accept, end of stream, an error).
    Read,
    /// Writable (buffer space, a finished connect, an error).
    Write,
}

/// The tasks waiting on one descriptor. An entry always holds at least one
/// waker; it leaves the list when its last waker fired or its socket closed.
struct Waiter {
    fd: RawFd,
    read: Option<Waker>,
    write: Option<Waker>,
}

/// One thread's waiting sockets and its wake descriptor.
pub(crate) struct Poller {
    waiters: RefCell<Vec<Waiter>>,
    wake: Arc<WakeFd>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("waiting", &self.waiters.borrow().len())
            .finish()
    }
}

thread_local! {
    static POLLER: RefCell<Option<Rc<Poller>>> = const { RefCell::new(None) };
}

impl Poller {
    pub(crate) fn new() -> io::Result<Rc<Poller>> {
        Ok(Rc::new(Poller {
            waiters: RefCell::new(Vec::new()),
            wake: Arc::new(WakeFd::new()?),
        }))
    }

    /// The poller of the runtime running on this thread.
    pub(crate) fn current() -> io::Result<Rc<Poller>> {
        POLLER.with(|p| p.borrow().clone()).ok_or_else(|| {
            io::Error::other("io-std socket used outside of a std runtime (use Std::block_on)")
        })
    }

    /// Whether a runtime of this backend runs on this thread.
    pub(crate) fn is_installed() -> bool {
        POLLER.with(|p| p.borrow().is_some())
    }

    pub(crate) fn install(poller: Option<Rc<Poller>>) {
        POLLER.with(|p| *p.borrow_mut() = poller);
    }

    /// Stores the waker of a task waiting for `dir` on `fd`; the next
    /// [`StdPark::park`] in which `fd` is ready wakes it.
    pub(crate) fn wait(&self, fd: RawFd, dir: Dir, waker: &Waker) {
        let mut waiters = self.waiters.borrow_mut();
        let index = match waiters.iter().position(|w| w.fd == fd) {
            Some(i) => i,
            None => {
                waiters.push(Waiter {
                    fd,
                    read: None,
                    write: None,
                });
                waiters.len() - 1
            }
        };
        let w = &mut waiters[index];
        let slot = match dir {
            Dir::Read => &mut w.read,
            Dir::Write => &mut w.write,
        };
        if !slot.as_ref().is_some_and(|s| s.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// Whether a task still waits for `dir` on `fd` (its waker has not
    /// fired yet).
    pub(crate) fn is_waiting(&self, fd: RawFd, dir: Dir) -> bool {
        self.waiters.borrow().iter().any(|w| {
            w.fd == fd
                && match dir {
                    Dir::Read => w.read.is_some(),
                    Dir::Write => w.write.is_some(),
                }
        })
    }

    /// Drops every waiter of `fd`; called before the socket is closed so a
    /// reused descriptor number is never polled on a stale entry's behalf.
    pub(crate) fn forget(&self, fd: RawFd) {
        self.waiters.borrow_mut().retain(|w| w.fd != fd);
    }
}

/// The std backend's [`Park`]: `poll(2)` over the waiting sockets and the
/// wake descriptor, then wake the tasks whose sockets are ready.
pub(crate) struct StdPark {
    poller: Rc<Poller>,
    fds: Vec<libc::pollfd>,
    woken: Vec<Waker>,
}

impl StdPark {
    pub(crate) fn new(poller: Rc<Poller>) -> Self {
        StdPark {
            poller,
            fds: Vec::new(),
            woken: Vec::new(),
        }
    }
}

/// `timeout` in whole milliseconds for `poll(2)`, rounded up so a timer is
/// never woken for early; `-1` (forever) for none.
fn poll_timeout_ms(timeout: Option<Duration>) -> libc::c_int {
    match timeout {
        None => -1,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            ms.min(libc::c_int::MAX as u128) as libc::c_int
        }
    }
}

const READ_READY: libc::c_short = libc::POLLIN | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL;
const WRITE_READY: libc::c_short = libc::POLLOUT | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL;

impl Park for StdPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.fds.clear();
        self.fds.push(libc::pollfd {
            fd: self.poller.wake.fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        {
            // `fds[i + 1]` is `waiters[i]`: nothing touches the list between
            // here and the wake-up loop below (same thread, no callbacks).
            let waiters = self.poller.waiters.borrow();
            for w in waiters.iter() {
                let mut events = 0;
                if w.read.is_some() {
                    events |= libc::POLLIN;
                }
                if w.write.is_some() {
                    events |= libc::POLLOUT;
                }
                self.fds.push(libc::pollfd {
                    fd: w.fd,
                    events,
                    revents: 0,
                });
            }
        }
        if self.fds.len() == 1 && timeout == Some(Duration::ZERO) {
            // Nothing to collect; a pending wake is seen on the next real park.
            return Ok(());
        }
        // SAFETY: `fds` is a valid, initialised array of `fds.len()` pollfd
        // structs that lives across the call; poll writes only `revents`.
        let ret = unsafe {
            libc::poll(
                self.fds.as_mut_ptr(),
                self.fds.len() as libc::nfds_t,
                poll_timeout_ms(timeout),
            )
        };
        if ret < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(())
            } else {
                Err(e)
            };
        }
        if ret == 0 {
            return Ok(());
        }
        if self.fds[0].revents != 0 {
            self.poller.wake.drain();
        }
        {
            let mut waiters = self.poller.waiters.borrow_mut();
            for (w, p) in waiters.iter_mut().zip(&self.fds[1..]) {
                if p.revents & READ_READY != 0 {
                    self.woken.extend(w.read.take());
                }
                if p.revents & WRITE_READY != 0 {
                    self.woken.extend(w.write.take());
                }
            }
            waiters.retain(|w| w.read.is_some() || w.write.is_some());
        }
        for w in self.woken.drain(..) {
            w.wake();
        }
        Ok(())
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.poller.wake.clone()
    }
}

impl Unpark for WakeFd {
    fn unpark(&self) {
        self.wake();
    }
}

/// The descriptor another thread writes to interrupt `poll(2)`: an eventfd
/// on Linux (one descriptor per thread).
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct WakeFd {
    file: std::fs::File,
}

#[cfg(target_os = "linux")]
impl WakeFd {
    fn new() -> io::Result<Self> {
        use std::os::fd::{FromRawFd, OwnedFd};
        // SAFETY: eventfd takes no pointers; it returns a new descriptor or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and nothing else owns it.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(WakeFd { file: owned.into() })
    }

    fn fd(&self) -> RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.file)
    }

    fn wake(&self) {
        use std::io::Write;
        // EAGAIN only when the counter is saturated: a wake is pending anyway.
        let _ = (&self.file).write(&1u64.to_ne_bytes());
    }

    fn drain(&self) {
        use std::io::Read;
        let _ = (&self.file).read(&mut [0u8; 8]);
    }
}

/// The descriptor another thread writes to interrupt `poll(2)`: a
/// non-blocking socket pair elsewhere.
#[cfg(not(target_os = "linux"))]
#[derive(Debug)]
struct WakeFd {
    rx: std::os::unix::net::UnixStream,
    tx: std::os::unix::net::UnixStream,
}

#[cfg(not(target_os = "linux"))]
impl WakeFd {
    fn new() -> io::Result<Self> {
        let (rx, tx) = std::os::unix::net::UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        Ok(WakeFd { rx, tx })
    }

    fn fd(&self) -> RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.rx)
    }

    fn wake(&self) {
        use std::io::Write;
        // WouldBlock: the pipe is full, so a wake is pending anyway.
        let _ = (&self.tx).write(&[1]);
    }

    fn drain(&self) {
        use std::io::Read;
        let mut buf = [0u8; 64];
        while matches!((&self.rx).read(&mut buf), Ok(n) if n > 0) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_rounds_up_to_whole_milliseconds() {
        assert_eq!(poll_timeout_ms(None), -1);
        assert_eq!(poll_timeout_ms(Some(Duration::ZERO)), 0);
        assert_eq!(poll_timeout_ms(Some(Duration::from_micros(1))), 1);
        assert_eq!(poll_timeout_ms(Some(Duration::from_micros(1500))), 2);
        assert_eq!(
            poll_timeout_ms(Some(Duration::from_secs(u64::MAX))),
            i32::MAX
        );
    }

    #[test]
    fn unpark_before_park_returns_at_once() {
        let poller = Poller::new().unwrap();
        let mut park = StdPark::new(poller);
        park.unparker().unpark();
        let t = std::time::Instant::now();
        park.park(Some(Duration::from_secs(5))).unwrap();
        assert!(t.elapsed() < Duration::from_secs(1));
        // The wake was consumed: the next park sleeps its timeout.
        let t = std::time::Instant::now();
        park.park(Some(Duration::from_millis(30))).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(25));
    }
}
