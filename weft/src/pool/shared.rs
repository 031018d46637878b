//! One shared (multiplexed) connection per worker over a [`Pool`]; see
//! [`Shared`].

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::poll_fn;
use std::ops::Deref;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

use super::sub::SubPool;
use super::{Error, Manager, Pool, Pooled};

/// A connection that many callers can use at once: `Clone` is a cheap
/// handle to one connection (task), not a new connection.
pub trait Multiplexed: Clone + 'static {
    /// True once the connection failed or was closed: the shared slot then
    /// opens a new one.
    fn is_closed(&self) -> bool;
}

/// A worker's shared connection of one [`Pool`]. `Clone + Send + Sync`,
/// like the pool: every clone (and every `Shared` made over a clone of the
/// same pool) uses the same per-worker connection.
///
/// Drivers whose connection is a cheap handle to a pipelined connection
/// task (Redis, memcached, PostgreSQL) let every handler of a worker send
/// on one connection: requests from many tasks go out back to back and the
/// replies come back in order. [`Shared`] keeps that connection in the
/// worker's sub-pool (so it is one of the pool's [`Config::max_open`]
/// connections, opened with the pool's backoff and acquire deadline):
///
/// - it is opened lazily, through the pool, by the first caller on each
///   worker; callers arriving while that connect is in progress park on a
///   waker list and are woken when it ends: one connect, no spinning;
/// - a connect failure is returned to the caller that made it and to every
///   caller that waited for it (the callers decide whether to retry: the
///   next call tries again, subject to the pool's backoff); if the
///   connecting caller's future is dropped, the waiters are woken and one
///   of them connects;
/// - it is replaced when it is closed ([`Multiplexed::is_closed`]), older
///   than [`Config::max_lifetime`], or [retired](Shared::retire) by its
///   driver. Replacing only forgets it: requests in flight on it (and
///   [`Lease`]s still held) finish on it, and it closes when its last
///   handle is dropped.
///
/// What happens to a retired connection depends on whether handles to it
/// can escape the driver's control:
///
/// - [`Shared::new`]: the driver hands out clones of the connection
///   (`Clone` handles nobody tracks), so a retired connection is never
///   reused by anyone else: its pool slot is freed once the last
///   [`Lease`] is dropped, and the connection closes once the last clone
///   is gone;
/// - [`Shared::lending`]: callers only ever hold [`Lease`]s. When the last
///   lease of a retired connection is dropped, it goes back to the pool like
///   any returned connection (through [`Manager::is_reusable`], which may
///   reset its session). And when the pool is full and a [`Pool::get`]
///   caller has to wait, the shared connection is retired for it: once its
///   leases are dropped it is handed to that caller. So even a pool of
///   `max_open(1)` serves both shared and exclusive users.
///
/// A pool has one shared slot per worker whatever the number of `Shared`
/// handles over it; use one kind (`new` or `lending`) per pool (the kind
/// of the handle that opened the current connection applies).
///
/// [`Config::max_open`]: super::Config::max_open
/// [`Config::max_lifetime`]: super::Config::max_lifetime
///
/// ```
/// use std::convert::Infallible;
/// use std::rc::Rc;
/// use weft::pool::{Config, Manager, Multiplexed, Pool, Shared};
///
/// /// A stand-in for a handle to a connection task.
/// #[derive(Clone)]
/// struct Conn(Rc<u32>);
///
/// impl Multiplexed for Conn {
///     fn is_closed(&self) -> bool {
///         false
///     }
/// }
///
/// struct Numbers;
///
/// impl Manager for Numbers {
///     type Connection = Conn;
///     type Error = Infallible;
///     async fn connect(&self) -> Result<Conn, Infallible> {
///         Ok(Conn(Rc::new(7)))
///     }
/// }
///
/// let shared = Shared::new(Pool::new(Numbers, Config::default()));
/// weft::rt::block_on(async {
///     let a = shared.get().await.unwrap();
///     let b = shared.get().await.unwrap();
///     assert!(Rc::ptr_eq(&a.0, &b.0)); // one connection per worker
///     assert_eq!(shared.pool().state().open, 1);
/// });
/// ```
pub struct Shared<M: Manager> {
    pool: Pool<M>,
    lend: bool,
}

impl<M: Manager> Clone for Shared<M> {
    fn clone(&self) -> Self {
        Shared {
            pool: self.pool.clone(),
            lend: self.lend,
        }
    }
}

impl<M: Manager> fmt::Debug for Shared<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("pool", &self.pool)
            .field("lending", &self.lend)
            .finish()
    }
}

/// A use of a worker's shared connection: derefs to the connection.
/// Cloning it is cheap. It keeps the connection open (and, for a
/// [lending](Shared::lending) slot, out of exclusive use) until dropped.
pub struct Lease<M: Manager>(Rc<Held<M>>);

impl<M: Manager> Clone for Lease<M> {
    fn clone(&self) -> Self {
        Lease(self.0.clone())
    }
}

impl<M: Manager> Deref for Lease<M> {
    type Target = M::Connection;

    fn deref(&self) -> &M::Connection {
        self.0.guard.as_ref().expect("present until drop")
    }
}

impl<M: Manager> fmt::Debug for Lease<M>
where
    M::Connection: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Lease").field(&**self).finish()
    }
}

impl<M: Manager> Lease<M> {
    /// How long ago the connection was opened.
    pub fn age(this: &Self) -> Duration {
        Pooled::age(this.0.guard.as_ref().expect("present until drop"))
    }

    /// Whether two leases are of the same connection.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Rc::ptr_eq(&a.0, &b.0)
    }
}

/// The pool guard behind a shared connection; what happens when the last
/// lease (and the slot) let go of it depends on `lend` (see [`Shared`]).
struct Held<M: Manager> {
    guard: Option<Pooled<M>>,
    lend: bool,
    /// When it reaches [`Config::max_lifetime`](super::Config::max_lifetime),
    /// on the [`crate::clock::coarse_monotonic`] clock.
    expires: Option<Duration>,
}

impl<M: Manager> Drop for Held<M> {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            if self.lend {
                drop(guard); // back to the pool, checked and reset
            } else {
                Pooled::discard(guard);
            }
        }
    }
}

/// A connect in progress that others wait for.
pub(crate) struct Connecting<E> {
    done: Cell<bool>,
    /// Set when the connect failed; every waiter gets a copy.
    error: RefCell<Option<Error<E>>>,
    waiters: RefCell<Vec<Option<Waker>>>,
}

/// What a worker's sub-pool holds for [`Shared`].
pub(crate) enum Slot<M: Manager> {
    Empty,
    Connecting(Rc<Connecting<M::Error>>),
    Ready(Lease<M>),
}

impl<M: Manager> Slot<M> {
    /// Takes out a ready connection of a lending slot (a [`Pool::get`]
    /// caller found the pool full).
    pub(crate) fn take_lendable(&mut self) -> Option<Lease<M>> {
        if !matches!(self, Slot::Ready(l) if l.0.lend) {
            return None;
        }
        match std::mem::replace(self, Slot::Empty) {
            Slot::Ready(l) => Some(l),
            _ => None,
        }
    }
}

impl<M: Manager> Shared<M>
where
    M::Connection: Multiplexed,
    M::Error: Clone,
{
    /// A per-worker shared connection over `pool`, for drivers that hand
    /// out clones of it: a retired connection is closed, never reused.
    pub fn new(pool: Pool<M>) -> Self {
        Shared { pool, lend: false }
    }

    /// As [`new`](Self::new), for drivers whose callers only hold
    /// [`Lease`]s: a retired connection goes back to the pool when its last
    /// lease is dropped, and a [`Pool::get`] caller that finds the pool full
    /// takes the shared connection over (see [`Shared`]).
    pub fn lending(pool: Pool<M>) -> Self {
        Shared { pool, lend: true }
    }

    /// The pool.
    pub fn pool(&self) -> &Pool<M> {
        &self.pool
    }

    /// Whether a ready connection may still be handed out.
    fn fresh(lease: &Lease<M>) -> bool {
        !lease.is_closed()
            && lease
                .0
                .expires
                .is_none_or(|e| crate::clock::coarse_monotonic() < e)
    }

    /// This worker's shared connection if it is open, without waiting.
    /// A closed or too old one is forgotten here (and `None` returned).
    pub fn now(&self) -> Option<Lease<M>> {
        let sub = SubPool::<M>::existing(self.pool.common().id)?;
        let stale = {
            let mut slot = sub.slot.borrow_mut();
            match &*slot {
                Slot::Ready(l) if Self::fresh(l) => return Some(l.clone()),
                Slot::Ready(_) => std::mem::replace(&mut *slot, Slot::Empty),
                _ => return None,
            }
        };
        // Dropped outside the borrow: it may go back to the pool.
        drop(stale);
        None
    }

    /// This worker's shared connection, opened through the pool if there
    /// is none (or it was closed, too old or retired). Callers that arrive
    /// while it is being opened wait for that one connect and share its
    /// outcome, error included.
    ///
    /// # Panics
    ///
    /// Outside of a Weft runtime.
    pub async fn get(&self) -> Result<Lease<M>, Error<M::Error>> {
        loop {
            if let Some(l) = self.now() {
                return Ok(l);
            }
            let sub = SubPool::current(self.pool.common());
            let pending = match &*sub.slot.borrow() {
                Slot::Connecting(c) => Some(c.clone()),
                _ => None,
            };
            if let Some(c) = pending {
                wait(&c).await;
                if let Some(e) = c.error.borrow().clone() {
                    return Err(e);
                }
                // Connected (the slot has it), or the connecting caller
                // gave up: look again.
                continue;
            }
            let c = Rc::new(Connecting {
                done: Cell::new(false),
                error: RefCell::new(None),
                waiters: RefCell::new(Vec::new()),
            });
            *sub.slot.borrow_mut() = Slot::Connecting(c.clone());
            let finish = Finish {
                sub: &sub,
                connecting: &c,
            };
            return match self.pool.get().await {
                Ok(guard) => {
                    let expires = self.pool.config().max_lifetime.map(|l| {
                        crate::clock::coarse_monotonic()
                            .saturating_add(l.saturating_sub(Pooled::age(&guard)))
                    });
                    let lease = Lease(Rc::new(Held {
                        guard: Some(guard),
                        lend: self.lend,
                        expires,
                    }));
                    let old =
                        std::mem::replace(&mut *sub.slot.borrow_mut(), Slot::Ready(lease.clone()));
                    drop(finish);
                    drop(old);
                    Ok(lease)
                }
                Err(e) => {
                    *c.error.borrow_mut() = Some(e.clone());
                    drop(finish);
                    Err(e)
                }
            };
        }
    }

    /// Stops handing out `lease`'s connection on this worker (if it is
    /// still the shared one): the next call opens another. Leases still
    /// held keep it until they are dropped; then it is closed
    /// ([`new`](Self::new)) or returned to the pool
    /// ([`lending`](Self::lending)).
    pub fn retire(&self, lease: &Lease<M>) {
        let Some(sub) = SubPool::<M>::existing(self.pool.common().id) else {
            return;
        };
        let old = {
            let mut slot = sub.slot.borrow_mut();
            match &*slot {
                Slot::Ready(l) if Lease::ptr_eq(l, lease) => {
                    std::mem::replace(&mut *slot, Slot::Empty)
                }
                _ => return,
            }
        };
        drop(old);
    }
}

/// Ends a connect: clears the slot's marker unless the connection is in
/// it, and wakes the waiters, however the connect ended (success, failure,
/// or the connecting future dropped).
struct Finish<'a, M: Manager> {
    sub: &'a SubPool<M>,
    connecting: &'a Rc<Connecting<M::Error>>,
}

impl<M: Manager> Drop for Finish<'_, M> {
    fn drop(&mut self) {
        let old = {
            let mut slot = self.sub.slot.borrow_mut();
            match &*slot {
                Slot::Connecting(c) if Rc::ptr_eq(c, self.connecting) => {
                    std::mem::replace(&mut *slot, Slot::Empty)
                }
                _ => Slot::Empty,
            }
        };
        drop(old);
        self.connecting.done.set(true);
        let waiters = std::mem::take(&mut *self.connecting.waiters.borrow_mut());
        for w in waiters.into_iter().flatten() {
            w.wake();
        }
    }
}

/// Parks until the connect ends. Each waiter keeps one entry in the list
/// (updated if it is polled with another waker).
async fn wait<E>(c: &Connecting<E>) {
    let mut index = None;
    poll_fn(|cx| {
        if c.done.get() {
            return Poll::Ready(());
        }
        let mut waiters = c.waiters.borrow_mut();
        match index {
            Some(i) => {
                let entry: &mut Option<Waker> = &mut waiters[i];
                if !entry.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *entry = Some(cx.waker().clone());
                }
            }
            None => {
                index = Some(waiters.len());
                waiters.push(Some(cx.waker().clone()));
            }
        }
        Poll::Pending
    })
    .await
}
