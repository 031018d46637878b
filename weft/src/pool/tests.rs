//! Pool tests with a fake manager (no sockets).

use super::*;
use crate::rt::{block_on, spawn, time};
use std::cell::{Cell, RefCell};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize};

#[derive(Default)]
struct Fake {
    connects: AtomicUsize,
    checks: AtomicUsize,
    fail_connect: AtomicBool,
    fail_check: AtomicBool,
    connect_delay_ms: AtomicUsize,
    attempts: Mutex<Vec<Instant>>,
}

#[derive(Debug)]
struct FakeConn {
    id: usize,
    broken: Cell<bool>,
}

#[derive(Debug, PartialEq, Eq)]
struct FakeError;

impl Manager for Arc<Fake> {
    type Connection = FakeConn;
    type Error = FakeError;

    async fn connect(&self) -> Result<FakeConn, FakeError> {
        self.attempts.lock().unwrap().push(Instant::now());
        let delay = self.connect_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            time::sleep(Duration::from_millis(delay as u64)).await;
        }
        if self.fail_connect.load(Ordering::SeqCst) {
            return Err(FakeError);
        }
        let id = self.connects.fetch_add(1, Ordering::SeqCst);
        Ok(FakeConn {
            id,
            broken: Cell::new(false),
        })
    }

    async fn check(&self, _conn: &mut FakeConn) -> Result<(), FakeError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        if self.fail_check.load(Ordering::SeqCst) {
            Err(FakeError)
        } else {
            Ok(())
        }
    }

    fn is_reusable(&self, conn: &FakeConn) -> bool {
        !conn.broken.get()
    }
}

fn pool(config: Config) -> (Pool<Arc<Fake>>, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    (Pool::new(fake.clone(), config), fake)
}

fn quick() -> Config {
    Config::default()
        .acquire_timeout(Duration::from_secs(2))
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
}

#[test]
fn handle_is_send_sync_and_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Pool<Arc<Fake>>>();
}

#[test]
fn reuses_a_returned_connection() {
    let (pool, fake) = pool(quick());
    block_on(async {
        let a = pool.get().await.unwrap();
        let id = a.id;
        drop(a);
        assert_eq!(pool.state().idle, 1);
        let b = pool.get().await.unwrap();
        assert_eq!(b.id, id);
        assert_eq!(fake.connects.load(Ordering::SeqCst), 1);
        assert_eq!(pool.state().open, 1);
    });
}

#[test]
fn broken_connections_are_discarded() {
    let (pool, fake) = pool(quick());
    block_on(async {
        let a = pool.get().await.unwrap();
        a.broken.set(true);
        drop(a);
        assert_eq!(pool.state(), State::default());
        let b = pool.get().await.unwrap();
        assert_eq!(b.id, 1);
        assert_eq!(fake.connects.load(Ordering::SeqCst), 2);
        // Broken while idle: caught at checkout.
        b.broken.set(false);
        drop(b);
        let c = pool.get().await.unwrap();
        c.broken.set(true);
        let c_id = c.id;
        // Put it back "healthy", then break it while idle.
        c.broken.set(false);
        drop(c);
        assert_eq!(pool.state().idle, 1);
        let d = pool.get().await.unwrap();
        assert_eq!(d.id, c_id);
        Pooled::discard(d);
        assert_eq!(pool.state().open, 0);
    });
}

#[test]
fn max_open_parks_waiters_and_hands_over_in_fifo_order() {
    let (pool, fake) = pool(quick().max_open(2));
    block_on(async {
        let a = pool.get().await.unwrap();
        let b = pool.get().await.unwrap();
        let order = Rc::new(RefCell::new(Vec::new()));
        let mut tasks = Vec::new();
        for n in 0..3 {
            let pool = pool.clone();
            let order = order.clone();
            tasks.push(spawn(async move {
                let c = pool.get().await.unwrap();
                order.borrow_mut().push((n, c.id));
                time::sleep(Duration::from_millis(5)).await;
                drop(c);
            }));
            // Let each park in turn so the queue order is known.
            time::sleep(Duration::from_millis(2)).await;
        }
        assert_eq!(pool.state().waiters, 3);
        assert_eq!(pool.state().open, 2);
        let started = Instant::now();
        drop(a);
        drop(b);
        for t in tasks {
            t.await.unwrap();
        }
        assert!(started.elapsed() < Duration::from_millis(500));
        let got: Vec<usize> = order.borrow().iter().map(|(n, _)| *n).collect();
        assert_eq!(got, vec![0, 1, 2]);
        assert_eq!(fake.connects.load(Ordering::SeqCst), 2);
        assert_eq!(pool.state().waiters, 0);
        assert_eq!(pool.state().idle, 2);
    });
}

#[test]
fn acquire_deadline_gives_a_typed_timeout() {
    let (pool, _) = pool(
        quick()
            .max_open(1)
            .acquire_timeout(Duration::from_millis(50)),
    );
    block_on(async {
        let held = pool.get().await.unwrap();
        let t0 = Instant::now();
        let err = pool.get().await.unwrap_err();
        assert_eq!(err, Error::Timeout);
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(50) && waited < Duration::from_secs(1));
        // The timed-out waiter left the queue; the connection goes idle.
        assert_eq!(pool.state().waiters, 0);
        drop(held);
        assert_eq!(pool.state().idle, 1);
        let io: std::io::Error = Error::<std::io::Error>::Timeout.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    });
}

#[test]
fn freed_slot_wakes_a_waiter_that_then_connects() {
    let (pool, fake) = pool(quick().max_open(1));
    block_on(async {
        let held = pool.get().await.unwrap();
        let p2 = pool.clone();
        let waiter = spawn(async move { p2.get().await.unwrap().id });
        time::sleep(Duration::from_millis(5)).await;
        assert_eq!(pool.state().waiters, 1);
        held.broken.set(true);
        drop(held); // discarded: frees the slot, the waiter connects anew
        assert_eq!(waiter.await.unwrap(), 1);
        assert_eq!(fake.connects.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn cancelled_waiter_passes_its_handover_on() {
    let (pool, _) = pool(quick().max_open(1));
    block_on(async {
        let held = pool.get().await.unwrap();
        let id = held.id;
        let p1 = pool.clone();
        let first = spawn(async move { p1.get().await.map(|c| c.id) });
        time::sleep(Duration::from_millis(2)).await;
        let p2 = pool.clone();
        let second = spawn(async move { p2.get().await.map(|c| c.id) });
        time::sleep(Duration::from_millis(2)).await;
        assert_eq!(pool.state().waiters, 2);
        // Hand the connection to `first`, then cancel `first` before it runs.
        drop(held);
        first.abort();
        assert_eq!(second.await.unwrap(), Ok(id));
        assert_eq!(pool.state().open, 1);
        assert_eq!(pool.state().idle, 1);
    });
}

#[test]
fn max_idle_closes_the_surplus() {
    let (pool, _) = pool(quick().max_open(4).max_idle(1));
    block_on(async {
        let conns = vec![
            pool.get().await.unwrap(),
            pool.get().await.unwrap(),
            pool.get().await.unwrap(),
        ];
        assert_eq!(pool.state().open, 3);
        drop(conns);
        assert_eq!(pool.state().idle, 1);
        assert_eq!(pool.state().open, 1);
    });
}

#[test]
fn idle_timeout_closes_idle_connections_without_polling() {
    let (pool, _) = pool(quick().idle_timeout(Some(Duration::from_millis(30))));
    block_on(async {
        let a = pool.get().await.unwrap();
        let b = pool.get().await.unwrap();
        drop(a);
        drop(b);
        assert_eq!(pool.state().idle, 2);
        time::sleep(Duration::from_millis(80)).await;
        assert_eq!(pool.state().idle, 0);
        assert_eq!(pool.state().open, 0);
    });
}

#[test]
fn max_lifetime_retires_old_connections() {
    let (pool, fake) = pool(
        quick()
            .max_lifetime(Some(Duration::from_millis(30)))
            .idle_timeout(None),
    );
    block_on(async {
        let a = pool.get().await.unwrap();
        time::sleep(Duration::from_millis(40)).await;
        drop(a); // too old: closed on return
        assert_eq!(pool.state().open, 0);
        let b = pool.get().await.unwrap();
        drop(b);
        assert_eq!(pool.state().idle, 1);
        time::sleep(Duration::from_millis(60)).await; // the reaper retires it
        assert_eq!(pool.state().open, 0);
        assert_eq!(fake.connects.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn health_check_after_idle_discards_failures() {
    let (pool, fake) = pool(quick().check_after_idle(Some(Duration::from_millis(10))));
    block_on(async {
        drop(pool.get().await.unwrap());
        // Fresh idle: no check.
        drop(pool.get().await.unwrap());
        assert_eq!(fake.checks.load(Ordering::SeqCst), 0);
        time::sleep(Duration::from_millis(20)).await;
        let c = pool.get().await.unwrap();
        assert_eq!(fake.checks.load(Ordering::SeqCst), 1);
        assert_eq!(c.id, 0);
        drop(c);
        time::sleep(Duration::from_millis(20)).await;
        fake.fail_check.store(true, Ordering::SeqCst);
        let c = pool.get().await.unwrap();
        assert_eq!(c.id, 1, "the failed one was replaced");
        assert_eq!(pool.state().open, 1);
    });
}

#[test]
fn failed_connects_back_off_exponentially() {
    let (pool, fake) = pool(
        quick()
            .backoff(Duration::from_millis(20), Duration::from_millis(1000))
            .acquire_timeout(Duration::from_secs(3)),
    );
    fake.fail_connect.store(true, Ordering::SeqCst);
    block_on(async {
        for _ in 0..4 {
            assert_eq!(pool.get().await.unwrap_err(), Error::Backend(FakeError));
        }
        assert_eq!(pool.state().failures, 4);
        assert_eq!(pool.state().open, 0);
        let at = fake.attempts.lock().unwrap().clone();
        // Delays before attempts 2, 3, 4: >= 10, 20, 40 ms (half of 20, 40, 80).
        for (k, min) in [(1, 10), (2, 20), (3, 40)] {
            let gap = at[k] - at[k - 1];
            assert!(gap >= Duration::from_millis(min), "gap {k}: {gap:?}");
        }
        fake.fail_connect.store(false, Ordering::SeqCst);
        let c = pool.get().await.unwrap();
        assert_eq!(c.id, 0);
        assert_eq!(pool.state().failures, 0);
    });
}

#[test]
fn while_failing_only_one_connect_is_in_flight() {
    let (pool, fake) = pool(
        quick()
            .max_open(8)
            .backoff(Duration::from_millis(30), Duration::from_millis(30)),
    );
    fake.fail_connect.store(true, Ordering::SeqCst);
    fake.connect_delay_ms.store(5, Ordering::SeqCst);
    block_on(async {
        assert!(pool.get().await.is_err());
        fake.fail_connect.store(false, Ordering::SeqCst);
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let p = pool.clone();
            tasks.push(spawn(async move { p.get().await }));
        }
        let mut max_connecting = 0;
        while tasks.iter().any(|t| !t.is_finished()) {
            let st = pool.state();
            if st.failures > 0 {
                max_connecting = max_connecting.max(st.connecting);
            }
            time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(max_connecting, 1, "one probe while failing");
        let mut held = Vec::new();
        for t in tasks {
            held.push(t.await.unwrap().unwrap());
        }
        assert_eq!(fake.connects.load(Ordering::SeqCst), 5);
    });
}

#[test]
fn cancelled_connect_frees_its_slot() {
    let (pool, fake) = pool(quick().max_open(1));
    fake.connect_delay_ms.store(200, Ordering::SeqCst);
    block_on(async {
        let r = pool
            .get_until(Instant::now() + Duration::from_millis(20))
            .await;
        assert_eq!(r.unwrap_err(), Error::Timeout);
        assert_eq!(pool.state().open, 0);
        assert_eq!(pool.state().connecting, 0);
        fake.connect_delay_ms.store(0, Ordering::SeqCst);
        assert!(pool.get().await.is_ok());
    });
}

#[test]
fn each_worker_gets_its_own_sub_pool() {
    let (pool, fake) = pool(quick());
    let ids: Vec<usize> = (0..2)
        .map(|_| {
            let pool = pool.clone();
            std::thread::spawn(move || {
                block_on(async {
                    let c = pool.get().await.unwrap();
                    assert_eq!(pool.state().open, 1);
                    c.id
                })
            })
        })
        .map(|t| t.join().unwrap())
        .collect();
    assert_ne!(ids[0], ids[1]);
    assert_eq!(fake.connects.load(Ordering::SeqCst), 2);
    // Not visible from this (third) thread.
    assert_eq!(pool.state(), State::default());
}

#[test]
fn a_new_runtime_on_the_same_thread_starts_afresh() {
    let (pool, fake) = pool(quick());
    block_on(async {
        drop(pool.get().await.unwrap());
        assert_eq!(pool.state().idle, 1);
    });
    assert_eq!(pool.state(), State::default());
    block_on(async {
        let c = pool.get().await.unwrap();
        assert_eq!(c.id, 1);
    });
    assert_eq!(fake.connects.load(Ordering::SeqCst), 2);
}

#[test]
fn detach_frees_the_slot() {
    let (pool, _) = pool(quick().max_open(1));
    block_on(async {
        let c = Pooled::detach(pool.get().await.unwrap());
        assert_eq!(pool.state().open, 0);
        let d = pool.get().await.unwrap();
        assert_ne!(d.id, c.id);
    });
}

// ---- the shared (multiplexed) connection, and closing a dropped pool ----

/// A fake multiplexed connection: clones are handles to one "connection";
/// `live` counts connections not yet closed (all handles dropped).
#[derive(Default)]
struct MuxFake {
    connects: AtomicUsize,
    attempts: AtomicUsize,
    live: Arc<AtomicUsize>,
    fail_connect: AtomicBool,
    connect_delay_ms: AtomicUsize,
}

struct MuxInner {
    id: usize,
    closed: Cell<bool>,
    live: Arc<AtomicUsize>,
}

impl Drop for MuxInner {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Clone)]
struct Mux(Rc<MuxInner>);

impl std::fmt::Debug for Mux {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mux({})", self.0.id)
    }
}

impl Multiplexed for Mux {
    fn is_closed(&self) -> bool {
        self.0.closed.get()
    }
}

impl Manager for Arc<MuxFake> {
    type Connection = Mux;
    type Error = FakeError;

    async fn connect(&self) -> Result<Mux, FakeError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let delay = self.connect_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            time::sleep(Duration::from_millis(delay as u64)).await;
        }
        if self.fail_connect.load(Ordering::SeqCst) {
            return Err(FakeError);
        }
        self.live.fetch_add(1, Ordering::SeqCst);
        Ok(Mux(Rc::new(MuxInner {
            id: self.connects.fetch_add(1, Ordering::SeqCst),
            closed: Cell::new(false),
            live: self.live.clone(),
        })))
    }

    fn is_reusable(&self, conn: &Mux) -> bool {
        !conn.is_closed()
    }
}

impl Clone for FakeError {
    fn clone(&self) -> Self {
        FakeError
    }
}

fn mux(config: Config) -> (Pool<Arc<MuxFake>>, Arc<MuxFake>) {
    let fake = Arc::new(MuxFake::default());
    (Pool::new(fake.clone(), config), fake)
}

#[test]
fn shared_handle_is_send_sync_and_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Shared<Arc<MuxFake>>>();
}

#[test]
fn concurrent_first_callers_share_one_connect() {
    let (pool, fake) = mux(quick());
    fake.connect_delay_ms.store(20, Ordering::SeqCst);
    let shared = Shared::new(pool.clone());
    block_on(async {
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let s = shared.clone();
                spawn(async move { s.get().await.map(|l| l.0.id) })
            })
            .collect();
        time::sleep(Duration::from_millis(5)).await;
        assert_eq!(pool.state().connecting, 1, "one connect in flight");
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(0));
        }
        assert_eq!(fake.attempts.load(Ordering::SeqCst), 1);
        assert_eq!(pool.state().open, 1);
        assert_eq!(pool.state().idle, 0, "the shared connection is in use");
        // The fast path: no wait, the same connection.
        assert_eq!(shared.now().map(|l| l.0.id), Some(0));
        // Another handle over the same pool shares it too.
        let other = Shared::new(pool.clone());
        assert_eq!(other.get().await.map(|l| l.0.id), Ok(0));
    });
}

#[test]
fn a_failed_connect_is_reported_to_every_waiter() {
    let (pool, fake) = mux(quick().backoff(Duration::from_millis(10), Duration::from_millis(10)));
    fake.connect_delay_ms.store(20, Ordering::SeqCst);
    fake.fail_connect.store(true, Ordering::SeqCst);
    let shared = Shared::new(pool.clone());
    block_on(async {
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let s = shared.clone();
                spawn(async move { s.get().await.map(|l| l.0.id) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Err(Error::Backend(FakeError)));
        }
        assert_eq!(
            fake.attempts.load(Ordering::SeqCst),
            1,
            "one attempt for all"
        );
        assert!(shared.now().is_none());
        // The next call tries again (after the pool's backoff).
        fake.fail_connect.store(false, Ordering::SeqCst);
        assert_eq!(shared.get().await.map(|l| l.0.id), Ok(0));
        assert_eq!(fake.attempts.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn a_dropped_connecting_caller_wakes_the_waiters() {
    let (pool, fake) = mux(quick());
    fake.connect_delay_ms.store(50, Ordering::SeqCst);
    let shared = Shared::new(pool.clone());
    block_on(async {
        let s = shared.clone();
        let first = spawn(async move { s.get().await.map(|l| l.0.id) });
        time::sleep(Duration::from_millis(5)).await;
        let s = shared.clone();
        let second = spawn(async move { s.get().await.map(|l| l.0.id) });
        time::sleep(Duration::from_millis(5)).await;
        first.abort();
        // The waiter takes over: it connects itself.
        assert_eq!(second.await.unwrap(), Ok(0));
        assert_eq!(fake.attempts.load(Ordering::SeqCst), 2);
        assert_eq!(pool.state().open, 1);
        assert_eq!(pool.state().connecting, 0);
    });
}

#[test]
fn a_closed_shared_connection_is_replaced_and_in_flight_users_finish() {
    let (pool, fake) = mux(quick());
    let shared = Shared::new(pool.clone());
    block_on(async {
        let a = shared.get().await.unwrap();
        a.0.closed.set(true);
        assert!(shared.now().is_none(), "closed: forgotten");
        let b = shared.get().await.unwrap();
        assert_eq!((a.0.id, b.0.id), (0, 1));
        // The old one is still there for whoever holds it...
        assert_eq!(fake.live.load(Ordering::SeqCst), 2);
        assert_eq!(pool.state().open, 2);
        // ...until the last lease goes: then it is closed, never pooled.
        drop(a);
        assert_eq!(fake.live.load(Ordering::SeqCst), 1);
        assert_eq!(pool.state().open, 1);
        assert_eq!(pool.state().idle, 0);
    });
}

#[test]
fn an_old_shared_connection_is_replaced() {
    let (pool, fake) = mux(quick().max_lifetime(Some(Duration::from_millis(30))));
    let shared = Shared::new(pool.clone());
    block_on(async {
        assert_eq!(shared.get().await.unwrap().0.id, 0);
        assert_eq!(shared.get().await.unwrap().0.id, 0);
        time::sleep(Duration::from_millis(40)).await;
        assert!(shared.now().is_none(), "too old: forgotten");
        assert_eq!(shared.get().await.unwrap().0.id, 1);
        assert_eq!(fake.live.load(Ordering::SeqCst), 1, "the old one closed");
        assert_eq!(pool.state().open, 1);
    });
}

#[test]
fn retire_forgets_only_the_current_connection() {
    let (pool, _) = mux(quick());
    let shared = Shared::new(pool.clone());
    block_on(async {
        let a = shared.get().await.unwrap();
        shared.retire(&a);
        let b = shared.get().await.unwrap();
        assert_eq!(b.0.id, 1);
        shared.retire(&a); // no longer the shared one: nothing happens
        assert_eq!(shared.now().map(|l| l.0.id), Some(1));
    });
}

#[test]
fn a_lending_slot_gives_its_connection_to_an_exclusive_waiter() {
    let (pool, fake) = mux(quick().max_open(1));
    let shared = Shared::lending(pool.clone());
    block_on(async {
        let lease = shared.get().await.unwrap();
        let p = pool.clone();
        let exclusive = spawn(async move { p.get().await.map(|c| c.0.id) });
        time::sleep(Duration::from_millis(5)).await;
        // The pool was full: the shared connection is retired for the
        // waiter, which gets it once the last lease is dropped.
        assert!(shared.now().is_none());
        assert!(!exclusive.is_finished());
        drop(lease);
        assert_eq!(exclusive.await.unwrap(), Ok(0));
        assert_eq!(fake.connects.load(Ordering::SeqCst), 1);
        // Back in the pool: the shared slot takes it again.
        assert_eq!(shared.get().await.unwrap().0.id, 0);
        // A retired lending connection goes back to the pool.
        let l = shared.get().await.unwrap();
        shared.retire(&l);
        drop(l);
        assert_eq!(pool.state().idle, 1);
    });
}

#[test]
fn a_non_lending_slot_never_lends() {
    let (pool, _) = mux(quick()
        .max_open(1)
        .acquire_timeout(Duration::from_millis(30)));
    let shared = Shared::new(pool.clone());
    block_on(async {
        let lease = shared.get().await.unwrap();
        let handle = (*lease).clone();
        drop(lease); // a clone escaped: it must not be handed to anyone
        assert_eq!(pool.get().await.unwrap_err(), Error::Timeout);
        assert_eq!(shared.now().map(|l| l.0.id), Some(handle.0.id));
    });
}

#[test]
fn dropping_the_last_pool_handle_closes_idle_and_shared_connections() {
    let (pool, fake) = mux(quick());
    let shared = Shared::new(pool.clone());
    block_on(async {
        let held = shared.get().await.unwrap();
        let a = pool.get().await.unwrap();
        let b = pool.get().await.unwrap();
        drop(b);
        assert_eq!(fake.live.load(Ordering::SeqCst), 3);
        drop(shared);
        drop(pool);
        time::sleep(Duration::from_millis(1)).await; // the reaper runs
        // The idle one is closed; the shared one stays for its lease.
        assert_eq!(fake.live.load(Ordering::SeqCst), 2);
        drop(held);
        assert_eq!(fake.live.load(Ordering::SeqCst), 1);
        // A checked-out connection returned to a closed pool is closed.
        drop(a);
        assert_eq!(fake.live.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_pool_dropped_on_another_thread_is_closed_on_each_worker() {
    let (pool, fake) = mux(quick());
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = {
        let pool = pool.clone();
        let fake = fake.clone();
        std::thread::spawn(move || {
            block_on(async move {
                let shared = Shared::new(pool.clone());
                shared.get().await.unwrap();
                drop(pool.get().await.unwrap());
                assert_eq!(fake.live.load(Ordering::SeqCst), 2);
                drop((shared, pool));
                tx.send(()).unwrap();
                // Park on a timer; the pool's close wakes this worker.
                let start = Instant::now();
                while fake.live.load(Ordering::SeqCst) > 0 {
                    assert!(start.elapsed() < Duration::from_secs(5), "not closed");
                    time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
    };
    rx.recv().unwrap();
    drop(pool);
    worker.join().unwrap();
    assert_eq!(fake.live.load(Ordering::SeqCst), 0);
}
