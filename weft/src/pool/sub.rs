//! One worker's share of a pool: idle list, slot count, wait queue, backoff
//! and the reaper task. Everything here is single-threaded (`Rc`,
//! `RefCell`); no borrow is held across an `.await` or while a connection is
//! dropped or a waker is woken.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::poll_fn;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Poll, Waker};
use std::time::Instant;

use super::backoff::{XorShift, delay};
use super::shared::Slot;
use super::{Common, Error, Manager, Meta, Pooled, State};
use crate::rt::select;
use crate::rt::{spawn, time};

thread_local! {
    /// This thread's sub-pools, by pool id. Looked up on every call through
    /// a shared connection, so keyed without SipHash (ids are ours, not an
    /// attacker's).
    static SUBPOOLS: RefCell<HashMap<u64, Rc<dyn Any>, BuildHasherDefault<IdHasher>>> =
        RefCell::new(HashMap::default());
}

/// Hashes a pool id (a counter) by one multiplication, spreading it over
/// the high bits hashbrown's control bytes use.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

struct Idle<C> {
    conn: C,
    meta: Meta,
    since: Instant,
}

/// What a parked caller was woken with.
enum Signal<C> {
    /// A returned connection, handed over directly.
    Conn(Idle<C>),
    /// Capacity may have freed up: try again (ahead of newcomers).
    Retry,
}

struct Waiter<C> {
    waker: Cell<Option<Waker>>,
    signal: RefCell<Option<Signal<C>>>,
}

struct Inner<C> {
    /// Most recently returned last.
    idle: Vec<Idle<C>>,
    open: usize,
    connecting: usize,
    waiters: VecDeque<Rc<Waiter<C>>>,
    /// Waiters woken with `Retry` that have not run yet; newcomers queue
    /// behind them.
    kicked: usize,
    failures: u32,
    retry_at: Option<Instant>,
    rng: XorShift,
    reaper: Option<Waker>,
    /// Set (with a wake) when the reaper must recompute its deadline.
    reaper_woken: bool,
    /// When the reaper will next wake on its own (`None`: parked for good).
    reaper_deadline: Option<Instant>,
}

pub(crate) struct SubPool<M: Manager> {
    pub(crate) common: Arc<Common<M>>,
    /// Unique among all sub-pools (keys the pool's reaper list).
    id: u64,
    inner: RefCell<Inner<M::Connection>>,
    /// This worker's shared connection ([`super::Shared`]).
    pub(crate) slot: RefCell<Slot<M>>,
}

static NEXT_SUB_ID: AtomicU64 = AtomicU64::new(1);

enum Step<C> {
    Idle(Idle<C>),
    Connect {
        not_before: Option<Instant>,
    },
    /// Park; `full`: no capacity is left.
    Wait(Rc<Waiter<C>>, bool),
}

impl<C> Inner<C> {
    /// Pops the first waiter and tells it to retry; returns its waker.
    fn kick_one(&mut self) -> Option<Waker> {
        let w = self.waiters.pop_front()?;
        *w.signal.borrow_mut() = Some(Signal::Retry);
        self.kicked += 1;
        w.waker.take()
    }
}

impl<M: Manager> SubPool<M> {
    /// The current thread's sub-pool of `common`, created (with its reaper
    /// task) on first use.
    pub(crate) fn current(common: &Arc<Common<M>>) -> Rc<Self> {
        if let Some(sub) = Self::existing(common.id) {
            return sub;
        }
        let sub = Rc::new(SubPool {
            common: common.clone(),
            id: NEXT_SUB_ID.fetch_add(1, Ordering::Relaxed),
            inner: RefCell::new(Inner {
                idle: Vec::new(),
                open: 0,
                connecting: 0,
                waiters: VecDeque::new(),
                kicked: 0,
                failures: 0,
                retry_at: None,
                rng: XorShift::seeded(),
                reaper: None,
                reaper_woken: false,
                reaper_deadline: None,
            }),
            slot: RefCell::new(Slot::Empty),
        });
        SUBPOOLS.with(|m| m.borrow_mut().insert(common.id, sub.clone() as Rc<dyn Any>));
        spawn(reap(Unregister(sub.clone())));
        sub
    }

    pub(crate) fn existing(id: u64) -> Option<Rc<Self>> {
        let any = SUBPOOLS.with(|m| m.borrow().get(&id).cloned())?;
        any.downcast::<SubPool<M>>().ok()
    }

    pub(crate) fn state(&self) -> State {
        let i = self.inner.borrow();
        State {
            open: i.open,
            idle: i.idle.len(),
            connecting: i.connecting,
            waiters: i.waiters.len(),
            failures: i.failures,
        }
    }

    fn expired(&self, meta: Meta, since: Option<Instant>, now: Instant) -> bool {
        let cfg = &self.common.config;
        cfg.max_lifetime
            .is_some_and(|l| now.saturating_duration_since(meta.created) >= l)
            || since.is_some_and(|s| {
                cfg.idle_timeout
                    .is_some_and(|t| now.saturating_duration_since(s) >= t)
            })
    }

    /// When an idle connection expires.
    fn expiry(&self, idle: &Idle<M::Connection>) -> Option<Instant> {
        let cfg = &self.common.config;
        let a = cfg.max_lifetime.map(|l| idle.meta.created + l);
        let b = cfg.idle_timeout.map(|t| idle.since + t);
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Decides what an acquiring caller does next. `kicked`: it was woken
    /// with `Retry` and may go ahead of the queue.
    fn step(
        &self,
        kicked: bool,
        dead: &mut Vec<M::Connection>,
        chain: &mut Option<Waker>,
    ) -> Step<M::Connection> {
        let now = Instant::now();
        let cfg = &self.common.config;
        let mut i = self.inner.borrow_mut();
        let queued_ahead = !i.waiters.is_empty() || i.kicked > 0;
        if kicked || !queued_ahead {
            while let Some(idle) = i.idle.pop() {
                if self.expired(idle.meta, Some(idle.since), now)
                    || !self.common.manager.is_reusable(&idle.conn)
                {
                    i.open -= 1;
                    dead.push(idle.conn);
                    continue;
                }
                return Step::Idle(idle);
            }
            let probing = i.failures > 0 && i.connecting > 0;
            if i.open < cfg.max_open && !probing {
                i.open += 1;
                i.connecting += 1;
                let not_before = i.retry_at.filter(|t| *t > now);
                // Capacity left over (e.g. the pool just recovered from
                // failures): pass the baton to the next waiter.
                if i.failures == 0 && i.open < cfg.max_open {
                    *chain = i.kick_one();
                }
                return Step::Connect { not_before };
            }
        }
        let w = Rc::new(Waiter {
            waker: Cell::new(None),
            signal: RefCell::new(None),
        });
        if kicked {
            i.waiters.push_front(w.clone());
        } else {
            i.waiters.push_back(w.clone());
        }
        let full = i.open >= cfg.max_open;
        Step::Wait(w, full)
    }

    /// Acquires a connection: idle, new, or handed over after waiting.
    pub(crate) async fn acquire(self: Rc<Self>) -> Result<Pooled<M>, Error<M::Error>> {
        let mut kicked = false;
        loop {
            let mut dead = Vec::new();
            let mut chain = None;
            let step = self.step(kicked, &mut dead, &mut chain);
            drop(dead);
            if let Some(w) = chain {
                w.wake();
            }
            kicked = false;
            match step {
                Step::Idle(idle) => {
                    let check = self
                        .common
                        .config
                        .check_after_idle
                        .is_some_and(|d| idle.since.elapsed() >= d);
                    let mut guard = Pooled {
                        conn: Some(idle.conn),
                        meta: idle.meta,
                        sub: self.clone(),
                    };
                    if check && self.common.manager.check(&mut guard).await.is_err() {
                        Pooled::discard(guard);
                        continue;
                    }
                    return Ok(guard);
                }
                Step::Connect { not_before } => {
                    let slot = ConnectSlot {
                        sub: Some(self.clone()),
                    };
                    if let Some(at) = not_before {
                        time::sleep_until(at).await;
                    }
                    let res = self.common.manager.connect().await;
                    return slot.finish(res);
                }
                Step::Wait(waiter, full) => {
                    let wait = WaitGuard {
                        sub: self.clone(),
                        waiter,
                    };
                    if full {
                        // Queued first, so that a shared connection given
                        // back now is handed to a waiter (this one or one
                        // ahead of it).
                        let lent = self.slot.borrow_mut().take_lendable();
                        drop(lent);
                    }
                    match wait.wait().await {
                        Signal::Conn(idle) => {
                            return Ok(Pooled {
                                conn: Some(idle.conn),
                                meta: idle.meta,
                                sub: self.clone(),
                            });
                        }
                        Signal::Retry => kicked = true,
                    }
                }
            }
        }
    }

    /// A checked-out connection comes back.
    pub(crate) fn release(&self, conn: M::Connection, meta: Meta) {
        let now = Instant::now();
        let reusable = !self.common.is_closed()
            && !self.expired(meta, None, now)
            && self.common.manager.is_reusable(&conn);
        if reusable {
            self.put_back(Idle {
                conn,
                meta,
                since: now,
            });
        } else {
            let waker = {
                let mut i = self.inner.borrow_mut();
                i.open -= 1;
                i.kick_one()
            };
            drop(conn);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// Hands a reusable connection to the first waiter, or keeps it idle
    /// (or closes it when the idle list is full).
    fn put_back(&self, idle: Idle<M::Connection>) {
        let mut i = self.inner.borrow_mut();
        if self.common.is_closed() {
            // Nobody can ask this pool again.
            i.open -= 1;
            drop(i);
            drop(idle);
            return;
        }
        if let Some(w) = i.waiters.pop_front() {
            *w.signal.borrow_mut() = Some(Signal::Conn(idle));
            let waker = w.waker.take();
            drop(i);
            if let Some(waker) = waker {
                waker.wake();
            }
            return;
        }
        if i.idle.len() < self.common.config.max_idle {
            let expiry = self.expiry(&idle);
            i.idle.push(idle);
            let wake_reaper = match (expiry, i.reaper_deadline) {
                (Some(_), None) => true,
                (Some(e), Some(d)) => e < d,
                (None, _) => false,
            };
            let reaper = if wake_reaper {
                i.reaper_woken = true;
                i.reaper.take()
            } else {
                None
            };
            drop(i);
            if let Some(r) = reaper {
                r.wake();
            }
        } else {
            i.open -= 1;
            drop(i);
            drop(idle);
        }
    }

    /// A connection left the pool for good (detached or discarded).
    pub(crate) fn forget_one(&self) {
        let waker = {
            let mut i = self.inner.borrow_mut();
            i.open -= 1;
            i.kick_one()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Closes expired idle connections; returns the next expiry.
    fn evict(&self, now: Instant) -> Option<Instant> {
        let mut dead = Vec::new();
        let (next, wakers) = {
            let mut i = self.inner.borrow_mut();
            let mut next: Option<Instant> = None;
            let mut keep = Vec::with_capacity(i.idle.len());
            for idle in i.idle.drain(..) {
                match self.expiry(&idle) {
                    Some(e) if e <= now => dead.push(idle),
                    Some(e) => {
                        next = Some(next.map_or(e, |n: Instant| n.min(e)));
                        keep.push(idle);
                    }
                    None => keep.push(idle),
                }
            }
            i.idle = keep;
            i.open -= dead.len();
            let wakers: Vec<Waker> = (0..dead.len()).filter_map(|_| i.kick_one()).collect();
            i.reaper_deadline = next;
            (next, wakers)
        };
        drop(dead);
        for w in wakers {
            w.wake();
        }
        next
    }
}

/// Holds a slot reserved for a connect in progress; frees it if the caller
/// gives up (timeout, cancellation) before the connect finishes.
struct ConnectSlot<M: Manager> {
    sub: Option<Rc<SubPool<M>>>,
}

impl<M: Manager> ConnectSlot<M> {
    fn finish(
        mut self,
        res: Result<M::Connection, M::Error>,
    ) -> Result<Pooled<M>, Error<M::Error>> {
        let sub = self.sub.take().expect("finished once");
        let cfg = &sub.common.config;
        let waker = {
            let mut i = sub.inner.borrow_mut();
            i.connecting -= 1;
            match &res {
                Ok(_) => {
                    let was_failing = i.failures > 0;
                    i.failures = 0;
                    i.retry_at = None;
                    // Others held back while this attempt probed may go now.
                    if was_failing && i.open < cfg.max_open {
                        i.kick_one()
                    } else {
                        None
                    }
                }
                Err(_) => {
                    i.open -= 1;
                    i.failures = i.failures.saturating_add(1);
                    let failures = i.failures;
                    let d = delay(failures, cfg.backoff_base, cfg.backoff_max, &mut i.rng);
                    i.retry_at = Some(Instant::now() + d);
                    i.kick_one()
                }
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
        match res {
            Ok(conn) => Ok(Pooled {
                conn: Some(conn),
                meta: Meta {
                    created: Instant::now(),
                },
                sub,
            }),
            Err(e) => Err(Error::Backend(e)),
        }
    }
}

impl<M: Manager> Drop for ConnectSlot<M> {
    fn drop(&mut self) {
        if let Some(sub) = self.sub.take() {
            let waker = {
                let mut i = sub.inner.borrow_mut();
                i.connecting -= 1;
                i.open -= 1;
                i.kick_one()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

/// A parked caller. Dropping it (timeout, cancellation) leaves the queue and
/// passes on whatever it was handed.
struct WaitGuard<M: Manager> {
    sub: Rc<SubPool<M>>,
    waiter: Rc<Waiter<M::Connection>>,
}

impl<M: Manager> WaitGuard<M> {
    async fn wait(self) -> Signal<M::Connection> {
        poll_fn(|cx| {
            let signal = self.waiter.signal.borrow_mut().take();
            match signal {
                Some(s) => {
                    if matches!(s, Signal::Retry) {
                        self.sub.inner.borrow_mut().kicked -= 1;
                    }
                    Poll::Ready(s)
                }
                None => {
                    self.waiter.waker.set(Some(cx.waker().clone()));
                    Poll::Pending
                }
            }
        })
        .await
    }
}

impl<M: Manager> Drop for WaitGuard<M> {
    fn drop(&mut self) {
        let signal = self.waiter.signal.borrow_mut().take();
        match signal {
            None => {
                // Still queued (or already consumed its signal in `wait`,
                // in which case it is not queued either: harmless).
                let mut i = self.sub.inner.borrow_mut();
                if let Some(pos) = i.waiters.iter().position(|w| Rc::ptr_eq(w, &self.waiter)) {
                    i.waiters.remove(pos);
                }
            }
            Some(Signal::Retry) => {
                let waker = {
                    let mut i = self.sub.inner.borrow_mut();
                    i.kicked -= 1;
                    i.kick_one()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            }
            Some(Signal::Conn(idle)) => self.sub.put_back(idle),
        }
    }
}

/// The per-sub-pool background task: closes expired idle connections, and
/// when the runtime ends (the task is dropped) or the pool is closed (its
/// last [`Pool`](super::Pool) handle dropped: the task is woken from
/// whichever thread dropped it), removes the sub-pool from the thread and
/// closes its idle connections and its shared connection.
///
/// The guard is made before the task is spawned, so that it runs even if the
/// runtime ends before the task was ever polled.
async fn reap<M: Manager>(guard: Unregister<M>) {
    let sub = &guard.0;
    let common = &sub.common;
    // Registered before the first look at `closed`, so the closing wake-up
    // cannot be missed.
    poll_fn(|cx| {
        common
            .reapers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sub.id, cx.waker().clone());
        Poll::Ready(())
    })
    .await;
    loop {
        if common.is_closed() {
            return;
        }
        let next = sub.evict(Instant::now());
        let woken = poll_fn(|cx| {
            let mut i = sub.inner.borrow_mut();
            if std::mem::take(&mut i.reaper_woken) || common.is_closed() {
                Poll::Ready(())
            } else {
                i.reaper = Some(cx.waker().clone());
                Poll::Pending
            }
        });
        match next {
            Some(at) => {
                let _ = select(time::sleep_until(at), woken).await;
            }
            None => woken.await,
        }
    }
}

/// Removes a sub-pool from its thread when its reaper ends (runtime ended
/// or pool closed), and closes what it holds: idle connections and the
/// shared connection (requests in flight on it still finish; checked-out
/// connections are closed when returned to a closed pool).
struct Unregister<M: Manager>(Rc<SubPool<M>>);

impl<M: Manager> Drop for Unregister<M> {
    fn drop(&mut self) {
        let id = self.0.common.id;
        let removed = SUBPOOLS
            .try_with(|m| {
                let mut m = m.borrow_mut();
                let ours = m
                    .get(&id)
                    .is_some_and(|s| std::ptr::addr_eq(Rc::as_ptr(s), Rc::as_ptr(&self.0)));
                if ours { m.remove(&id) } else { None }
            })
            .ok()
            .flatten();
        self.0
            .common
            .reapers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0.id);
        // The slot holds a guard that points back at the sub-pool: taking
        // it out breaks that cycle.
        let slot = std::mem::replace(&mut *self.0.slot.borrow_mut(), Slot::Empty);
        let idle = std::mem::take(&mut self.0.inner.borrow_mut().idle);
        {
            let mut i = self.0.inner.borrow_mut();
            i.open -= idle.len();
        }
        drop(removed);
        drop(slot);
        drop(idle);
    }
}
