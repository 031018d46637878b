//! The per-worker reactor: an epoll instance in edge-triggered mode and the
//! wakers of the tasks waiting on each socket.
//!
//! A socket is registered once, for both directions and peer half-close,
//! edge-triggered. A write always tries its non-blocking syscall first; only
//! on `EWOULDBLOCK` does it store its waker, and the next edge (new buffer
//! space, a hang-up) wakes it. Registration and waking happen on the
//! worker's own thread, so no edge can fall between a syscall and the
//! storing of its waker.
//!
//! Reads remember readiness per socket ([`ReadOutcome`]). A read that came
//! back short (less than the buffer's room) drained the socket; whether the
//! next read should still try the socket first depends on who is talking:
//!
//! - An accepted (server) socket keeps trying: on a busy server the next
//!   request often arrives while the previous one is answered, and the
//!   `recv` then saves a trip through `epoll_wait` (measured: about 2x on
//!   the 64-connection echo benchmark against waiting for the edge).
//! - A connected (client) socket waits for the next edge: a driver that
//!   drained the replies to what it sent finds nothing until it sends more,
//!   so the `recv` would be wasted on every round trip.
//!
//! After the peer shut down its side (`EPOLLRDHUP`) no edge will come, so
//! every read goes to the socket (it reports end of stream).

use crate::epoll::{Epoll, Events, Notifier};
use io_core::{Park, Unpark};
use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

/// Which way an operation waits.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dir {
    Read,
    Write,
}

struct Waiters {
    read: Option<Waker>,
    write: Option<Waker>,
    /// No read has seen `EWOULDBLOCK` since the last readable edge (or since
    /// registration): reading may find something. Edge-triggered epoll
    /// reports an edge once, even when no task waits, so this remembers it
    /// for [`Reactor::poll_readable`].
    read_ready: bool,
    /// The peer shut down its side, or the socket hung up or failed: no
    /// later edge will come, so `read_ready` is never cleared again.
    read_closed: bool,
    /// A short read clears `read_ready` (a connected socket, see the
    /// module docs).
    clear_on_short: bool,
}

/// How a `recv` on a registered socket went, for its readiness bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOutcome {
    /// `EWOULDBLOCK`: drained; wait for the next edge.
    WouldBlock,
    /// Fewer bytes than the buffer had room for: drained for now.
    Short,
    /// The buffer filled (more may wait), or end of stream, or an error.
    Full,
}

impl Waiters {
    fn new(clear_on_short: bool) -> Self {
        Waiters {
            read: None,
            write: None,
            read_ready: true,
            read_closed: false,
            clear_on_short,
        }
    }
}

/// The key the notifier's eventfd is registered under (socket keys are
/// slot indexes).
const NOTIFY_KEY: u64 = u64::MAX;

pub(crate) struct Reactor {
    epoll: Epoll,
    notifier: Arc<Notifier>,
    slots: RefCell<Vec<Option<Waiters>>>,
    free: RefCell<Vec<usize>>,
}

thread_local! {
    static REACTOR: RefCell<Option<Rc<Reactor>>> = const { RefCell::new(None) };
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Rc<Reactor>> {
        let epoll = Epoll::new()?;
        let notifier = Arc::new(Notifier::new(&epoll, NOTIFY_KEY)?);
        Ok(Rc::new(Reactor {
            epoll,
            notifier,
            slots: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
        }))
    }

    /// The reactor of the worker running this code.
    pub(crate) fn current() -> io::Result<Rc<Reactor>> {
        REACTOR.with(|r| r.borrow().clone()).ok_or_else(|| {
            io::Error::other(
                "io-epoll socket used outside of an epoll runtime (use Epoll::block_on)",
            )
        })
    }

    pub(crate) fn install(reactor: Option<Rc<Reactor>>) {
        REACTOR.with(|r| *r.borrow_mut() = reactor);
    }

    /// Registers `fd` for both directions, edge-triggered; returns its key.
    /// `clear_on_short`: a short read means drained (connected sockets).
    pub(crate) fn register(&self, fd: BorrowedFd<'_>, clear_on_short: bool) -> io::Result<usize> {
        let key = match self.free.borrow_mut().pop() {
            Some(k) => k,
            None => {
                let mut slots = self.slots.borrow_mut();
                slots.push(None);
                slots.len() - 1
            }
        };
        self.slots.borrow_mut()[key] = Some(Waiters::new(clear_on_short));
        // The caller's Source owns `fd` and deletes it from the epoll set
        // (`deregister`) before closing it.
        if let Err(e) = self.epoll.add_socket(fd.as_raw_fd(), key as u64) {
            self.release(key);
            return Err(e);
        }
        Ok(key)
    }

    /// Removes `fd` from the poller and frees its key.
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>, key: usize) {
        let _ = self.epoll.delete(fd.as_raw_fd());
        self.release(key);
    }

    fn release(&self, key: usize) {
        self.slots.borrow_mut()[key] = None;
        self.free.borrow_mut().push(key);
    }

    /// Stores the waker of a task waiting for `dir` on `key` (after its
    /// syscall said `EWOULDBLOCK`).
    pub(crate) fn wait(&self, key: usize, dir: Dir, waker: &Waker) {
        let mut slots = self.slots.borrow_mut();
        if let Some(Some(w)) = slots.get_mut(key) {
            let slot = match dir {
                Dir::Read => {
                    w.read_ready = w.read_closed;
                    &mut w.read
                }
                Dir::Write => &mut w.write,
            };
            if !slot.as_ref().is_some_and(|s| s.will_wake(waker)) {
                *slot = Some(waker.clone());
            }
        }
    }
}

impl Reactor {
    /// Records how a read on `key` went: whether the next read tries the
    /// socket first or waits for the next edge (see the module docs).
    pub(crate) fn read_done(&self, key: usize, outcome: ReadOutcome) {
        if let Some(Some(w)) = self.slots.borrow_mut().get_mut(key) {
            let drained = match outcome {
                ReadOutcome::WouldBlock => true,
                ReadOutcome::Short => w.clear_on_short,
                ReadOutcome::Full => false,
            };
            if drained {
                w.read_ready = w.read_closed;
            }
        }
    }

    /// Ready when a read on `key` may find something (data, end of stream,
    /// an error); otherwise stores `waker` for the next readable edge.
    pub(crate) fn poll_readable(&self, key: usize, waker: &Waker) -> bool {
        let mut slots = self.slots.borrow_mut();
        match slots.get_mut(key) {
            Some(Some(w)) if w.read_ready => true,
            Some(Some(w)) => {
                if !w.read.as_ref().is_some_and(|r| r.will_wake(waker)) {
                    w.read = Some(waker.clone());
                }
                false
            }
            // Not registered (cannot happen for a live source): let the read
            // report what is wrong.
            _ => true,
        }
    }
}

/// The epoll backend's [`Park`]: one `epoll_wait`, then wake whoever waited
/// on the sockets that became ready.
pub(crate) struct EpollPark {
    reactor: Rc<Reactor>,
    events: Events,
    woken: Vec<Waker>,
}

impl EpollPark {
    pub(crate) fn new(reactor: Rc<Reactor>) -> Self {
        EpollPark {
            reactor,
            events: Events::with_capacity(1024),
            woken: Vec::new(),
        }
    }
}

impl Unpark for Notifier {
    fn unpark(&self) {
        self.notify();
    }
}

impl Park for EpollPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let reactor = &*self.reactor;
        {
            let mut slots = reactor.slots.borrow_mut();
            for ev in reactor.epoll.wait(&mut self.events, timeout)? {
                if ev.key == NOTIFY_KEY {
                    reactor.notifier.drain();
                    continue;
                }
                if let Some(Some(w)) = slots.get_mut(ev.key as usize) {
                    if ev.read_closed {
                        w.read_closed = true;
                    }
                    if ev.readable {
                        w.read_ready = true;
                        self.woken.extend(w.read.take());
                    }
                    if ev.writable {
                        self.woken.extend(w.write.take());
                    }
                }
            }
        }
        for w in self.woken.drain(..) {
            w.wake();
        }
        Ok(())
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.reactor.notifier.clone()
    }
}
