//! Thin safe wrappers over `epoll(7)` and `eventfd(2)`: the only syscalls the
//! reactor makes besides the sockets' own.
//!
//! Why not the `polling` crate (used until 2026-11-24): its `Poller::wait`
//! arms a timerfd and re-arms its notifier with `epoll_ctl` on every call,
//! about four syscalls around each `epoll_wait`, and it neither registers
//! nor reports `EPOLLRDHUP`. Here a park is one `epoll_wait`, plus one
//! `read` of the eventfd only when another thread did wake the worker.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// Interest every socket is registered with, once: both directions, peer
/// half-close, edge-triggered (`epoll_ctl(2)`, `epoll(7)` "Level-triggered
/// and edge-triggered").
const SOCKET_INTEREST: u32 =
    (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

/// What one readiness event says about a socket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Readiness {
    /// The key the socket was registered with.
    pub(crate) key: u64,
    /// A read may make progress (data, end of stream or an error).
    pub(crate) readable: bool,
    /// A write may make progress (buffer space or an error).
    pub(crate) writable: bool,
    /// The peer shut its side down, or the socket hung up or failed: no
    /// later edge will come for reads, so readiness must not be forgotten.
    pub(crate) read_closed: bool,
}

impl Readiness {
    fn from_event(ev: &libc::epoll_event) -> Self {
        let bits = ev.events as libc::c_int;
        let closed = bits & (libc::EPOLLRDHUP | libc::EPOLLHUP | libc::EPOLLERR) != 0;
        Readiness {
            key: ev.u64,
            readable: closed || bits & libc::EPOLLIN != 0,
            writable: bits & (libc::EPOLLOUT | libc::EPOLLHUP | libc::EPOLLERR) != 0,
            read_closed: closed,
        }
    }
}

/// An epoll instance.
pub(crate) struct Epoll {
    fd: OwnedFd,
}

/// Room for the events of one wait.
pub(crate) struct Events(Vec<libc::epoll_event>);

impl Events {
    /// Room for `capacity` events per wait.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Events(Vec::with_capacity(capacity.max(1)))
    }
}

impl Epoll {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: plain syscall with a flags argument.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        Ok(Epoll {
            // SAFETY: `fd` was just returned by epoll_create1 and is owned by
            // nothing else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Registers a socket for both directions, edge-triggered, under `key`.
    pub(crate) fn add_socket(&self, fd: RawFd, key: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, SOCKET_INTEREST, key)
    }

    /// Registers an eventfd for reads, edge-triggered, under `key`.
    fn add_notifier(&self, fd: RawFd, key: u64) -> io::Result<()> {
        self.ctl(
            libc::EPOLL_CTL_ADD,
            fd,
            (libc::EPOLLIN | libc::EPOLLET) as u32,
            key,
        )
    }

    /// Removes `fd` (before it is closed).
    pub(crate) fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, key: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: key };
        // SAFETY: `ev` is a valid epoll_event for the call's duration (the
        // kernel ignores it for EPOLL_CTL_DEL).
        check(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut ev) }).map(drop)
    }

    /// One `epoll_wait`: blocks until an event or `timeout` (`None`: no
    /// limit; rounded up to whole milliseconds, so it never returns early
    /// and makes the caller spin). Interrupted waits return no events.
    pub(crate) fn wait<'e>(
        &self,
        events: &'e mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<impl Iterator<Item = Readiness> + 'e> {
        let ms = match timeout {
            None => -1,
            Some(d) => {
                let ms = d.as_nanos().div_ceil(1_000_000);
                ms.min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        let events = &mut events.0;
        events.clear();
        // SAFETY: the buffer has room for `capacity` events; the kernel
        // writes at most that many and returns how many.
        let n = unsafe {
            libc::epoll_wait(
                self.fd.as_raw_fd(),
                events.as_mut_ptr(),
                events.capacity().min(libc::c_int::MAX as usize) as libc::c_int,
                ms,
            )
        };
        let n = match check(n) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        // SAFETY: the kernel initialised the first `n` entries.
        unsafe { events.set_len(n) };
        Ok(events.iter().map(Readiness::from_event))
    }
}

/// An eventfd registered with an [`Epoll`]: how another thread interrupts
/// its `epoll_wait`.
pub(crate) struct Notifier {
    fd: OwnedFd,
}

impl Notifier {
    /// A non-blocking eventfd, registered with `epoll` under `key`.
    pub(crate) fn new(epoll: &Epoll, key: u64) -> io::Result<Self> {
        // SAFETY: plain syscall with an initial value and flags.
        let fd = check(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        // SAFETY: `fd` was just returned by eventfd and is owned by nothing
        // else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        epoll.add_notifier(fd.as_raw_fd(), key)?;
        Ok(Notifier { fd })
    }

    /// Adds one to the counter: the epoll instance reports an edge.
    pub(crate) fn notify(&self) {
        let one: u64 = 1;
        // SAFETY: writes the 8 bytes of `one`. EAGAIN (counter at its
        // maximum) means a wake is already pending, which is all we want.
        unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Resets the counter after its edge was seen.
    pub(crate) fn drain(&self) {
        let mut count: u64 = 0;
        // SAFETY: reads at most 8 bytes into `count`. EAGAIN (already zero)
        // is fine.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
    }
}

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}
