//! A TCP listener on the ring: one multishot `IORING_OP_ACCEPT` queues
//! accepted descriptors until [`UringListener::accept`] takes them.
//!
//! The accept is re-armed when the kernel ends it (a completion without
//! `IORING_CQE_F_MORE`) and, after an error such as `EMFILE`, only once the
//! application asks again (so a descriptor shortage cannot turn into a busy
//! loop). With [`PAUSE_AT`] connections queued and nobody accepting, the
//! accept is cancelled and the kernel's backlog applies again.

use crate::op;
use crate::ring::{Driver, Inner};
use crate::stream::{Arm, UringStream};
use io_uring::{cqueue, types};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::rc::Rc;
use std::task::{Poll, Waker};

/// Queued connections at which the multishot accept is paused.
const PAUSE_AT: usize = 1024;

struct AcceptState {
    queue: VecDeque<io::Result<OwnedFd>>,
    waiter: Option<Waker>,
    arm: Arm,
    /// The last completion was an error: re-arm only on the next `accept`.
    failed: bool,
    closed: bool,
}

/// The part of a listener shared with its accept in flight.
pub(crate) struct ListenerShared {
    sock: std::net::TcpListener,
    st: RefCell<AcceptState>,
}

fn maybe_arm(inner: &mut Inner, shared: &Rc<ListenerShared>) {
    let mut st = shared.st.borrow_mut();
    if inner.closing || st.arm != Arm::Idle || st.closed || st.failed || st.queue.len() >= PAUSE_AT
    {
        return;
    }
    let key = op::accept_multi(inner, shared.sock.as_raw_fd(), shared.clone());
    st.arm = Arm::Armed(key);
}

/// Dispatches a completion of the listener's multishot accept `key`.
pub(crate) fn on_accept(
    inner: &mut Inner,
    shared: &Rc<ListenerShared>,
    key: u64,
    res: i32,
    flags: u32,
) {
    let terminal = !cqueue::more(flags);
    let mut st = shared.st.borrow_mut();
    if res >= 0 {
        let fd = crate::sys::adopt_fd(res);
        if st.closed {
            drop(fd);
        } else {
            st.queue.push_back(Ok(fd));
        }
    } else if res != -libc::ECANCELED && !st.closed {
        st.queue.push_back(Err(io::Error::from_raw_os_error(-res)));
        st.failed = true;
    }
    if !st.queue.is_empty() {
        if let Some(w) = st.waiter.take() {
            inner.to_wake.push(w);
        }
    }
    let ours = matches!(st.arm, Arm::Armed(k) | Arm::Pausing(k) if k == key);
    if terminal {
        if ours {
            st.arm = Arm::Idle;
        }
    } else if st.queue.len() >= PAUSE_AT && st.arm == Arm::Armed(key) {
        st.arm = Arm::Pausing(key);
        op::cancel(inner, types::CancelBuilder::user_data(key));
    }
    drop(st);
    if terminal {
        maybe_arm(inner, shared);
    }
}

/// A listening socket on the io_uring driver.
pub(crate) struct UringListener {
    driver: Rc<Driver>,
    shared: Rc<ListenerShared>,
}

impl std::fmt::Debug for UringListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringListener")
            .field("fd", &self.shared.sock.as_raw_fd())
            .finish()
    }
}

impl UringListener {
    /// Adopts a bound, listening socket (made blocking, see
    /// [`UringStream::from_std`]) and arms its accept.
    pub(crate) fn from_std(driver: Rc<Driver>, sock: std::net::TcpListener) -> io::Result<Self> {
        sock.set_nonblocking(false)?;
        let shared = Rc::new(ListenerShared {
            sock,
            st: RefCell::new(AcceptState {
                queue: VecDeque::new(),
                waiter: None,
                arm: Arm::Idle,
                failed: false,
                closed: false,
            }),
        });
        driver.with(|inner| maybe_arm(inner, &shared));
        Ok(UringListener { driver, shared })
    }

    pub(crate) async fn accept(&self) -> io::Result<(UringStream, SocketAddr)> {
        loop {
            let fd = poll_fn(|cx| {
                self.driver.with(|inner| {
                    let mut st = self.shared.st.borrow_mut();
                    let next = st.queue.pop_front();
                    if next.is_none() {
                        st.failed = false;
                        if !st.waiter.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            st.waiter = Some(cx.waker().clone());
                        }
                    }
                    drop(st);
                    maybe_arm(inner, &self.shared);
                    match next {
                        Some(r) => Poll::Ready(r),
                        None => Poll::Pending,
                    }
                })
            })
            .await?;
            let sock = std::net::TcpStream::from(fd);
            // Multishot accept reports no address; a connection already
            // reset by its peer has none either and is skipped.
            if let Ok(peer) = sock.peer_addr() {
                let shared = crate::stream::StreamShared::new(sock);
                return Ok((UringStream::from_shared(self.driver.clone(), shared), peer));
            }
        }
    }

    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared.sock.local_addr()
    }
}

impl Drop for UringListener {
    fn drop(&mut self) {
        let shared = &self.shared;
        self.driver.with(|inner| {
            let mut st = shared.st.borrow_mut();
            st.closed = true;
            // Queued connections close here (the peers see a reset or EOF).
            st.queue.clear();
            st.waiter = None;
            let arm = st.arm;
            drop(st);
            if let Arm::Armed(key) = arm {
                if !inner.closing {
                    op::cancel(inner, types::CancelBuilder::user_data(key));
                }
            }
        });
    }
}
