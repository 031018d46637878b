//! The raw syscalls this backend needs beyond `std`: the wake-up eventfd,
//! adopting a descriptor returned by the kernel in a completion, and creating
//! an unconnected socket plus its `sockaddr` for `IORING_OP_CONNECT`.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Creates a blocking, close-on-exec eventfd.
///
/// Blocking on purpose: io_uring completes a read of an `O_NONBLOCK` file
/// with `-EAGAIN` instead of waiting for it, while a blocking one is polled
/// internally, which is what keeps the wake-up read armed.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd(2) takes no pointers; the return value is checked.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor this function exclusively owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds one to an eventfd's counter (wakes a reader).
pub(crate) fn eventfd_signal(fd: &OwnedFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live local; the descriptor is open for
    // the lifetime of the borrow. A failure (counter saturated) still leaves
    // the counter non-zero, so the reader wakes either way.
    let _ = unsafe { libc::write(fd.as_raw_fd(), (&raw const one).cast(), 8) };
}

/// Takes ownership of a descriptor the kernel created for us (an accepted
/// connection, reported in a completion's result).
pub(crate) fn adopt_fd(fd: RawFd) -> OwnedFd {
    debug_assert!(fd >= 0);
    // SAFETY: the kernel installed `fd` in our table for this completion and
    // nothing else refers to it: the completion is consumed exactly once.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A socket address in kernel layout, kept at a stable heap address while a
/// connect operation is in flight.
pub(crate) struct RawAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl RawAddr {
    /// Encodes `addr` as a `sockaddr_in` / `sockaddr_in6`.
    pub(crate) fn new(addr: SocketAddr) -> Box<RawAddr> {
        // SAFETY: sockaddr_storage is plain data; all-zero is valid.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let len = match addr {
            SocketAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                // SAFETY: sockaddr_storage is larger than and suitably aligned
                // for sockaddr_in.
                unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
                std::mem::size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(a) => {
                let sin6 = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: a.port().to_be(),
                    sin6_flowinfo: a.flowinfo(),
                    sin6_addr: libc::in6_addr {
                        s6_addr: a.ip().octets(),
                    },
                    sin6_scope_id: a.scope_id(),
                };
                // SAFETY: sockaddr_storage is larger than and suitably aligned
                // for sockaddr_in6.
                unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
                std::mem::size_of::<libc::sockaddr_in6>()
            }
        };
        Box::new(RawAddr {
            storage,
            len: len as libc::socklen_t,
        })
    }

    /// The address pointer to hand to the kernel.
    pub(crate) fn as_ptr(&self) -> *const libc::sockaddr {
        (&raw const self.storage).cast()
    }

    /// The address length.
    pub(crate) fn len(&self) -> libc::socklen_t {
        self.len
    }
}

/// A blocking, close-on-exec TCP socket for `addr`'s family, not connected.
pub(crate) fn tcp_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket(2) takes no pointers; the return value is checked.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor this function exclusively owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_addr_encodes_v4_and_v6() {
        let a = RawAddr::new("127.0.0.1:8080".parse().unwrap());
        assert_eq!(a.len() as usize, std::mem::size_of::<libc::sockaddr_in>());
        let b = RawAddr::new("[::1]:80".parse().unwrap());
        assert_eq!(b.len() as usize, std::mem::size_of::<libc::sockaddr_in6>());
        assert_eq!(b.storage.ss_family as i32, libc::AF_INET6);
    }

    #[test]
    fn eventfd_signal_makes_it_readable() {
        let fd = eventfd().unwrap();
        eventfd_signal(&fd);
        eventfd_signal(&fd);
        let mut v = 0u64;
        // SAFETY: reads 8 bytes into a live local.
        let n = unsafe { libc::read(fd.as_raw_fd(), (&raw mut v).cast(), 8) };
        assert_eq!(n, 8);
        assert_eq!(v, 2);
    }
}
