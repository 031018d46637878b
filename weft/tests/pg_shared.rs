//! The PostgreSQL `Client`'s per-worker shared connection, against the
//! real server: every one-shot call of a worker pipelines on one
//! connection; session-changing statements never reach it (or retire it);
//! a terminated backend is reported and replaced; an exclusive checkout on
//! a full pool takes it over; dropping the client closes its connections.

mod pg_support;

use std::time::{Duration, Instant};

use weft::pg::{Client, Config, Error};
use weft::pool;
use weft::rt::{Backend, spawn, time};

fn client<B: Backend>(cfg: Config, max_open: usize) -> Client<B> {
    Client::with_backend(
        cfg.pool(
            pool::Config::default()
                .max_open(max_open)
                .acquire_timeout(Duration::from_secs(10)),
        ),
    )
}

const DEFAULT_PATH: &str = "\"$user\", public";

async fn pid<B: Backend>(c: &Client<B>) -> i32 {
    c.query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap()
}

/// Polls `f` until it is true, for at most 10 s (server-side effects such
/// as a closed session appear asynchronously).
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, mut f: F) {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
        time::sleep(Duration::from_millis(20)).await;
    }
}

async fn one_connection<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let client = client::<B>(cfg, 4);
    let mut tasks = Vec::new();
    for t in 0..50i32 {
        let client = client.clone();
        tasks.push(spawn(async move {
            let mut pids = Vec::new();
            for i in 0..10i32 {
                let r = client
                    .query_one("SELECT pg_backend_pid(), $1::int4", &[&(t * 100 + i)])
                    .await
                    .unwrap();
                assert_eq!(r.get::<i32>(1).unwrap(), t * 100 + i);
                pids.push(r.get::<i32>(0).unwrap());
            }
            pids
        }));
    }
    let mut pids = Vec::new();
    for t in tasks {
        pids.extend(t.await.unwrap());
    }
    pids.dedup();
    assert_eq!(pids.len(), 1, "every call used the worker's one connection");
    let st = client.pool_state();
    assert_eq!((st.open, st.idle), (1, 0), "{st:?}");

    // An error in one pipelined statement fails only that call, and the
    // shared connection stays.
    let bad = client.clone();
    let failing = spawn(async move { bad.query_one("SELECT 1 / $1::int4", &[&0i32]).await });
    let good = client.query_one("SELECT 2::int4", &[]);
    assert_eq!(good.await.unwrap().get::<i32>(0).unwrap(), 2);
    let err = failing.await.unwrap().unwrap_err();
    assert_eq!(err.code(), Some("22012"), "{err}");
    assert_eq!(pid(&client).await, pids[0]);
}

#[test]
fn one_shared_connection_per_worker() {
    each_backend!(one_connection);
}

async fn no_session_leak<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let client = client::<B>(cfg, 4);
    let shared_pid = pid(&client).await;
    // A SET sent while other handlers' queries are in flight on the shared
    // connection reaches none of them, nor anything later.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        tasks.push(spawn(async move {
            client
                .query_one("SELECT current_setting('search_path')", &[])
                .await
                .unwrap()
                .get::<String>(0)
                .unwrap()
        }));
    }
    client
        .batch_execute("SET search_path TO pg_catalog")
        .await
        .unwrap();
    client
        .batch_execute("SELECT 1; SET application_name = 'leaked'")
        .await
        .unwrap();
    for t in tasks {
        assert_eq!(t.await.unwrap(), DEFAULT_PATH);
    }
    let r = client
        .query_one(
            "SELECT current_setting('search_path'), current_setting('application_name')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<&str>(0).unwrap(), DEFAULT_PATH);
    assert_eq!(r.get::<&str>(1).unwrap(), "weft-tests");
    assert_eq!(
        pid(&client).await,
        shared_pid,
        "the shared one was not touched"
    );

    // BEGIN through batch_execute leaves nobody inside a transaction: the
    // INSERT that follows commits on its own, ROLLBACK undoes nothing.
    let t = pg_support::unique("shared_tx");
    client
        .batch_execute(&format!("CREATE TABLE {t} (x int4)"))
        .await
        .unwrap();
    client.batch_execute("BEGIN").await.unwrap();
    client
        .execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
        .await
        .unwrap();
    client.batch_execute("ROLLBACK").await.unwrap();
    // A transaction opened and left open in one batch is rolled back.
    client
        .batch_execute(&format!("BEGIN; INSERT INTO {t} VALUES (2)"))
        .await
        .unwrap();
    let rows = client
        .query(&format!("SELECT x FROM {t} ORDER BY x"), &[])
        .await
        .unwrap();
    let xs: Vec<i32> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(xs, vec![1]);

    // The backstop: a function that changes a reported setting behind a
    // plain SELECT. The shared connection is retired and reset (DISCARD
    // ALL) before anyone gets it again.
    let f = pg_support::unique("shared_fn");
    client
        .batch_execute(&format!(
            "CREATE FUNCTION {f}() RETURNS int4 LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM set_config('application_name', 'leaked', false); RETURN 1; END $$"
        ))
        .await
        .unwrap();
    client
        .query_one(&format!("SELECT {f}()"), &[])
        .await
        .unwrap();
    let app: String = client
        .query_one("SELECT current_setting('application_name')", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(app, "weft-tests");
    client
        .batch_execute(&format!("DROP FUNCTION {f}()"))
        .await
        .unwrap();
    client
        .batch_execute(&format!("DROP TABLE {t}"))
        .await
        .unwrap();
}

#[test]
fn session_changes_do_not_leak_to_other_callers() {
    each_backend!(no_session_leak);
}

async fn terminated<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let client = client::<B>(cfg.clone(), 4);
    let old = pid(&client).await;
    let c = client.clone();
    let sleeping = spawn(async move { c.query_one("SELECT pg_sleep(30)", &[]).await });
    let admin = pg_support::connect::<B>(&cfg).await;
    eventually("the sleep is running", async || {
        let n: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep%'",
                &[&old],
            )
            .await
            .unwrap()
            .get(0)
            .unwrap();
        n == 1
    })
    .await;
    let killed: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&old])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert!(killed);
    // The call in flight is told (57P01, the connection is gone)...
    let err: Error = sleeping.await.unwrap().unwrap_err();
    assert!(err.is_closed(), "{err}");
    // ...and the next call gets a fresh connection.
    let new = pid(&client).await;
    assert_ne!(new, old);
    assert_eq!(client.pool_state().open, 1);
}

#[test]
fn a_terminated_shared_connection_is_reported_and_replaced() {
    each_backend!(terminated);
}

async fn full_pool<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let client = client::<B>(cfg, 1);
    let shared = pid(&client).await;
    // The only connection is the shared one: an exclusive checkout takes
    // it over once its calls are done.
    let conn = client.get().await.unwrap();
    assert_eq!(conn.process_id(), Some(shared));
    // Meanwhile a one-shot call waits for the pool.
    let c = client.clone();
    let waiting = spawn(async move { pid(&c).await });
    time::sleep(Duration::from_millis(20)).await;
    assert!(!waiting.is_finished());
    conn.batch_execute("SET search_path TO pg_catalog")
        .await
        .unwrap();
    drop(conn);
    // It gets the connection back, reset.
    assert_eq!(waiting.await.unwrap(), shared);
    let path: String = client
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(path, DEFAULT_PATH);
}

#[test]
fn an_exclusive_checkout_on_a_full_pool_takes_the_shared_connection() {
    each_backend!(full_pool);
}

async fn dropped<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let app = pg_support::unique("drop");
    let client = client::<B>(cfg.clone().application_name(app.clone()), 4);
    let admin = pg_support::connect::<B>(&cfg).await;
    let count = async || -> i64 {
        admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .await
            .unwrap()
            .get(0)
            .unwrap()
    };
    // The shared connection and two idle ones.
    pid(&client).await;
    let a = client.get().await.unwrap();
    let b = client.get().await.unwrap();
    a.query_one("SELECT 1", &[]).await.unwrap();
    b.query_one("SELECT 1", &[]).await.unwrap();
    drop((a, b));
    assert_eq!(client.pool_state().open, 3);
    assert_eq!(count().await, 3);
    // Dropping the client closes them while this worker keeps running.
    drop(client);
    eventually("the client's sessions end", async || count().await == 0).await;
}

#[test]
fn dropping_the_client_closes_its_connections() {
    each_backend!(dropped);
}

async fn transactions<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let client = client::<B>(cfg, 4);
    let t = pg_support::unique("shared_client_tx");
    client
        .batch_execute(&format!("CREATE TABLE {t} (x int4)"))
        .await
        .unwrap();
    let shared = pid(&client).await;
    // Client::transaction runs on a connection of its own: one-shot calls
    // meanwhile are outside it.
    let tx = client.transaction().await.unwrap();
    assert_ne!(tx.process_id(), Some(shared));
    tx.execute(&format!("INSERT INTO {t} VALUES (1)"), &[])
        .await
        .unwrap();
    let seen: i64 = client
        .query_one(&format!("SELECT count(*) FROM {t}"), &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(seen, 0, "not committed yet");
    tx.commit().await.unwrap();
    // Dropped unfinished: rolled back, the connection returned.
    let tx = client.transaction().await.unwrap();
    tx.execute(&format!("INSERT INTO {t} VALUES (2)"), &[])
        .await
        .unwrap();
    drop(tx);
    let tx = client.transaction().await.unwrap();
    tx.execute(&format!("INSERT INTO {t} VALUES (3)"), &[])
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let rows = client
        .query(&format!("SELECT x FROM {t} ORDER BY x"), &[])
        .await
        .unwrap();
    let xs: Vec<i32> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(xs, vec![1]);
    let st = client.pool_state();
    assert_eq!((st.open, st.idle), (2, 1), "{st:?}");
    client
        .batch_execute(&format!("DROP TABLE {t}"))
        .await
        .unwrap();
}

#[test]
fn client_transactions_use_a_connection_of_their_own() {
    each_backend!(transactions);
}
