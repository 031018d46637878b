//! The pooled PostgreSQL client against the real server: many tasks on a
//! small pool across several workers, reset on return only when the
//! session changed, health checks, and recovery after every backend of the
//! pool is terminated under load.

mod pg_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use weft::pg::{Client, Config, TransactionStatus};
use weft::pool;
use weft::rt::{Backend, spawn, time};

fn client<B: Backend>(cfg: Config, max_open: usize) -> Client<B> {
    Client::with_backend(
        cfg.pool(
            pool::Config::default()
                .max_open(max_open)
                .acquire_timeout(Duration::from_secs(30)),
        ),
    )
}

/// Runs `f` on `workers` threads (each its own runtime and sub-pool).
fn on_workers<B: Backend, F, Fut>(workers: usize, f: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let f = Arc::new(f);
    let threads: Vec<_> = (0..workers)
        .map(|w| {
            let f = f.clone();
            std::thread::spawn(move || B::block_on(f(w)))
        })
        .collect();
    for t in threads {
        t.join().expect("worker panicked");
    }
}

fn many_tasks<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let client = client::<B>(cfg, 4);
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    // 2 workers x 500 tasks x 100 queries, at most 4 connections each.
    on_workers::<B, _, _>(2, move |w| {
        let client = client.clone();
        let done = d.clone();
        async move {
            let mut tasks = Vec::new();
            for t in 0..500i32 {
                let client = client.clone();
                let done = done.clone();
                tasks.push(spawn(async move {
                    for i in 0..100i32 {
                        let v = (w as i32) * 1_000_000 + t * 1000 + i;
                        let r = client
                            .query_one("SELECT $1::int4 + 1", &[&v])
                            .await
                            .unwrap();
                        assert_eq!(r.get::<i32>(0).unwrap(), v + 1);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            let st = client.pool_state();
            assert!(st.open <= 4, "{st:?}");
        }
    });
    assert_eq!(done.load(Ordering::Relaxed), 100_000);
}

#[test]
fn thousand_tasks_on_a_small_pool() {
    #[cfg(feature = "epoll")]
    many_tasks::<weft::rt::Epoll>();
}

async fn reset<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let client = client::<B>(cfg, 1);
    let stmts = |c: Client<B>| async move {
        c.query_one("SELECT count(*)::int8 FROM pg_prepared_statements", &[])
            .await
            .unwrap()
            .get::<i64>(0)
            .unwrap()
    };
    // Unchanged session: no reset, the statement cache survives.
    let pid = {
        let conn = client.get().await.unwrap();
        conn.query_one("SELECT 1::int4", &[]).await.unwrap();
        assert!(!conn.session_changed());
        conn.process_id()
    };
    assert!(
        stmts(client.clone()).await >= 1,
        "cache kept: no DISCARD ALL"
    );
    // SET: reset with DISCARD ALL when returned.
    {
        let conn = client.get().await.unwrap();
        assert_eq!(conn.process_id(), pid, "same connection (max_open 1)");
        conn.batch_execute("SET search_path = pg_catalog")
            .await
            .unwrap();
        conn.batch_execute("PREPARE mine AS SELECT 1")
            .await
            .unwrap();
        assert!(conn.session_changed());
    }
    {
        let conn = client.get().await.unwrap();
        assert_eq!(conn.process_id(), pid);
        let r = conn
            .query_one("SELECT current_setting('search_path')", &[])
            .await
            .unwrap();
        assert_eq!(r.get::<&str>(0).unwrap(), "\"$user\", public");
        let n: i64 = conn
            .query_one(
                "SELECT count(*)::int8 FROM pg_prepared_statements WHERE name = 'mine'",
                &[],
            )
            .await
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 0);
        assert!(!conn.session_changed());
    }
    // A reported parameter changed through set_config is seen too.
    {
        let conn = client.get().await.unwrap();
        conn.query(
            "SELECT set_config('application_name', 'changed', false)",
            &[],
        )
        .await
        .unwrap();
        assert!(conn.session_changed());
    }
    {
        let conn = client.get().await.unwrap();
        let r = conn
            .query_one("SELECT current_setting('application_name')", &[])
            .await
            .unwrap();
        assert_eq!(r.get::<&str>(0).unwrap(), "weft-tests");
        assert_eq!(
            conn.parameter("application_name").as_deref(),
            Some("weft-tests")
        );
        assert!(!conn.session_changed());
    }
    // A transaction left open is rolled back.
    let t = pg_support::unique("reset");
    client
        .batch_execute(&format!("CREATE TABLE {t} (x int4)"))
        .await
        .unwrap();
    {
        let conn = client.get().await.unwrap();
        conn.batch_execute(&format!("BEGIN; INSERT INTO {t} VALUES (1)"))
            .await
            .unwrap();
        assert_eq!(conn.transaction_status(), TransactionStatus::InTransaction);
    }
    {
        let conn = client.get().await.unwrap();
        let n: i64 = conn
            .query_one(&format!("SELECT count(*)::int8 FROM {t}"), &[])
            .await
            .unwrap()
            .get(0)
            .unwrap();
        assert_eq!(n, 0);
        assert_eq!(conn.transaction_status(), TransactionStatus::Idle);
    }
    client
        .batch_execute(&format!("DROP TABLE {t}"))
        .await
        .unwrap();
    // A connection whose backend died is replaced.
    let pid = client.get().await.unwrap().process_id().unwrap();
    let admin = pg_support::connect::<B>(&pg_support::config().unwrap()).await;
    admin
        .query("SELECT pg_terminate_backend($1)", &[&pid])
        .await
        .unwrap();
    let start = Instant::now();
    loop {
        let r = client.query_one("SELECT pg_backend_pid()", &[]).await;
        if let Ok(r) = r {
            assert_ne!(r.get::<i32>(0).unwrap(), pid);
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no recovery");
    }
}

#[test]
fn reset_on_return_only_when_changed() {
    each_backend!(reset);
}

/// Waits (at most 10 s, a hang guard) until `f` holds.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut f: F) {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
        time::sleep(Duration::from_millis(20)).await;
    }
}

/// Lifetime, idle timeout and the idle health check with PostgreSQL
/// connections: what the pool closes is gone from the server too, and the
/// check reaches the server.
async fn limits<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let admin = pg_support::connect::<B>(&cfg).await;
    let activity = |pid: i32| {
        let admin = admin.clone();
        async move {
            admin
                .query_opt("SELECT query FROM pg_stat_activity WHERE pid = $1", &[&pid])
                .await
                .unwrap()
                .map(|r| r.get::<String>(0).unwrap())
        }
    };
    let with = |p: pool::Config| Client::<B>::with_backend(cfg.clone().pool(p.max_open(1)));

    // Lifetime: an old connection is not handed out again, and closed.
    let client = with(
        pool::Config::default()
            .max_lifetime(Some(Duration::from_millis(200)))
            .check_after_idle(None),
    );
    let pid = client.get().await.unwrap().process_id().unwrap();
    time::sleep(Duration::from_millis(400)).await;
    let again = client.get().await.unwrap().process_id().unwrap();
    assert_ne!(pid, again, "a connection past its lifetime was reused");
    eventually("the old backend exits", async || {
        activity(pid).await.is_none()
    })
    .await;
    drop(client);

    // Idle timeout: the reaper closes an unused connection.
    let client = with(
        pool::Config::default()
            .max_lifetime(None)
            .idle_timeout(Some(Duration::from_millis(200)))
            .check_after_idle(None),
    );
    let pid = client.get().await.unwrap().process_id().unwrap();
    assert_eq!((client.pool_state().open, client.pool_state().idle), (1, 1));
    eventually("the idle connection is closed", async || {
        client.pool_state().open == 0
    })
    .await;
    eventually("its backend exits", async || activity(pid).await.is_none()).await;
    drop(client);

    // Health check after idle: an empty query, then the same connection.
    let client = with(
        pool::Config::default()
            .max_lifetime(None)
            .idle_timeout(None)
            .check_after_idle(Some(Duration::from_millis(100))),
    );
    let pid = {
        let c = client.get().await.unwrap();
        c.query_one("SELECT 'before the check'::text", &[])
            .await
            .unwrap();
        c.process_id().unwrap()
    };
    assert_eq!(
        activity(pid).await.as_deref(),
        Some("SELECT 'before the check'::text")
    );
    time::sleep(Duration::from_millis(300)).await;
    let c = client.get().await.unwrap();
    assert_eq!(
        c.process_id(),
        Some(pid),
        "the checked connection is reused"
    );
    assert_eq!(activity(pid).await.as_deref(), Some(""), "no check ran");
}

#[test]
fn lifetime_idle_timeout_and_health_check() {
    each_backend!(limits);
}

fn restart<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let app = pg_support::unique("restart");
    let client = client::<B>(cfg.clone().application_name(app.clone()), 4);
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let killer = {
        let stop = stop.clone();
        let ok = ok.clone();
        let app = app.clone();
        std::thread::spawn(move || {
            B::block_on(async move {
                let admin = pg_support::connect::<B>(&pg_support::config().unwrap()).await;
                let kill = "SELECT count(*)::int8 FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1) k";
                // Let the load start, then terminate every backend of the
                // pool three times.
                let mut killed = 0;
                for _ in 0..3 {
                    let seen = ok.load(Ordering::Relaxed);
                    while ok.load(Ordering::Relaxed) < seen + 200 {
                        time::sleep(Duration::from_millis(5)).await;
                    }
                    let n: i64 = admin
                        .query_one(kill, &[&app])
                        .await
                        .unwrap()
                        .get(0)
                        .unwrap();
                    killed += n;
                }
                stop.store(true, Ordering::Relaxed);
                assert!(killed > 0, "no backend was terminated");
            })
        })
    };
    let (o, f, s) = (ok.clone(), failed.clone(), stop.clone());
    on_workers::<B, _, _>(2, move |_| {
        let client = client.clone();
        let (ok, failed, stop) = (o.clone(), f.clone(), s.clone());
        async move {
            let mut tasks = Vec::new();
            for t in 0..16i32 {
                let client = client.clone();
                let (ok, failed, stop) = (ok.clone(), failed.clone(), stop.clone());
                tasks.push(spawn(async move {
                    let mut i = 0i32;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        match client
                            .query_one("SELECT $1::int4", &[&(t * 100_000 + i)])
                            .await
                        {
                            Ok(r) => {
                                // Never someone else's answer.
                                assert_eq!(r.get::<i32>(0).unwrap(), t * 100_000 + i);
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => {
                                assert!(e.is_closed() || e.code() == Some("57P01"), "{e}");
                                failed.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            // After the storm every query succeeds again. The last
            // `pg_terminate_backend` returns before the backends it signalled
            // have exited, so a query may still meet one of them: a typed
            // error, as above, at most once per connection the client holds
            // (its pool of 4 and the worker's shared one), then successes.
            let mut dying = 0;
            for i in 0..200i32 {
                loop {
                    match client.query_one("SELECT $1::int4", &[&i]).await {
                        Ok(r) => {
                            assert_eq!(r.get::<i32>(0).unwrap(), i);
                            break;
                        }
                        Err(e) => {
                            assert!(e.is_closed() || e.code() == Some("57P01"), "{e}");
                            dying += 1;
                            assert!(dying <= 5, "still failing after the storm: {e}");
                        }
                    }
                }
            }
        }
    });
    killer.join().unwrap();
    eprintln!(
        "restart under load: {} ok, {} failed while backends were terminated",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
}

#[test]
fn pool_recovers_after_backends_are_terminated_under_load() {
    #[cfg(feature = "epoll")]
    restart::<weft::rt::Epoll>();
    #[cfg(feature = "std")]
    restart::<weft::rt::Std>();
}
