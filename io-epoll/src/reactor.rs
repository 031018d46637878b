//! The per-worker reactor: a `polling::Poller` in edge-triggered mode and the
//! wakers of the tasks waiting on each socket.
//!
//! A socket is registered once, for both directions, edge-triggered. An
//! operation always tries its non-blocking syscall first; only on
//! `EWOULDBLOCK` does it store its waker, and the next edge (new data, new
//! buffer space, a hang-up) wakes it. Registration and waking happen on the
//! worker's own thread, so there is no window in which an edge can be missed.

use io_core::{Park, Unpark};
use polling::{Event, Events, PollMode, Poller};
use std::cell::RefCell;
use std::io;
use std::os::fd::BorrowedFd;
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
}

impl Default for Waiters {
    fn default() -> Self {
        Waiters {
            read: None,
            write: None,
            read_ready: true,
        }
    }
}

pub(crate) struct Reactor {
    poller: Arc<Poller>,
    slots: RefCell<Vec<Option<Waiters>>>,
    free: RefCell<Vec<usize>>,
}

thread_local! {
    static REACTOR: RefCell<Option<Rc<Reactor>>> = const { RefCell::new(None) };
}

impl Reactor {
    pub(crate) fn new() -> io::Result<Rc<Reactor>> {
        Ok(Rc::new(Reactor {
            poller: Arc::new(Poller::new()?),
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
    pub(crate) fn register(&self, fd: BorrowedFd<'_>) -> io::Result<usize> {
        let key = match self.free.borrow_mut().pop() {
            Some(k) => k,
            None => {
                let mut slots = self.slots.borrow_mut();
                slots.push(None);
                slots.len() - 1
            }
        };
        self.slots.borrow_mut()[key] = Some(Waiters::default());
        // SAFETY: the caller's Source owns `fd` and deletes it from the
        // poller (`deregister`) before closing it.
        let added = unsafe {
            self.poller
                .add_with_mode(&fd, Event::all(key), PollMode::Edge)
        };
        if let Err(e) = added {
            self.release(key);
            return Err(e);
        }
        Ok(key)
    }

    /// Removes `fd` from the poller and frees its key.
    pub(crate) fn deregister(&self, fd: BorrowedFd<'_>, key: usize) {
        let _ = self.poller.delete(fd);
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
                    w.read_ready = false;
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
    /// A read on `key` said `EWOULDBLOCK`: nothing to read until the next edge.
    pub(crate) fn clear_readable(&self, key: usize) {
        if let Some(Some(w)) = self.slots.borrow_mut().get_mut(key) {
            w.read_ready = false;
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

/// The epoll backend's [`Park`]: `epoll_wait`, then wake whoever waited on
/// the sockets that became ready.
pub(crate) struct EpollPark {
    reactor: Rc<Reactor>,
    events: Events,
    woken: Vec<Waker>,
}

impl EpollPark {
    pub(crate) fn new(reactor: Rc<Reactor>) -> Self {
        EpollPark {
            reactor,
            events: Events::with_capacity(std::num::NonZeroUsize::new(1024).expect("non-zero")),
            woken: Vec::new(),
        }
    }
}

struct PollerUnpark(Arc<Poller>);

impl Unpark for PollerUnpark {
    fn unpark(&self) {
        let _ = self.0.notify();
    }
}

impl Park for EpollPark {
    fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.events.clear();
        self.reactor.poller.wait(&mut self.events, timeout)?;
        {
            let mut slots = self.reactor.slots.borrow_mut();
            for ev in self.events.iter() {
                if let Some(Some(w)) = slots.get_mut(ev.key) {
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
        Arc::new(PollerUnpark(self.reactor.poller.clone()))
    }
}
