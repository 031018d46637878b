//! PostgreSQL driver benchmark: weft's `pg::Connection` against
//! `tokio-postgres` (0.7, on a current-thread tokio runtime), same server,
//! same run, cells interleaved over the rounds; medians, min-max and the
//! ratio weft / tokio-postgres are printed as a markdown table.
//!
//! `cargo run --release -p weft-benches --features peers --bin pg_peers -- [dsn] [rounds] [secs] [copy_rows]`
//!
//! `dsn` defaults to `host=$WEFT_PG_HOST port=$WEFT_PG_PORT user=weft
//! dbname=$WEFT_PG_DB` (127.0.0.1:54329/weft). Both sides use one
//! connection on one thread. Workloads:
//!
//! - `SELECT 1 (query_one(&str))`: one caller, round trips one at a time,
//!   each library's plain `query_one` with SQL text. weft serves it from
//!   its statement cache (Bind/Execute/Sync, one round trip);
//!   tokio-postgres prepares the text on every call (two round trips).
//! - `prepared select`: one caller, a prepared single-row select by
//!   primary key (one round trip on both).
//! - `1000 rows x 4 cols`: one caller, a prepared select of 1,000 rows of
//!   (int4, int4, int8, text), every value decoded (queries/s).
//! - `insert tx`: one caller, `BEGIN`, 10 prepared `INSERT`s, `COMMIT`
//!   (transactions/s). weft sends the `BEGIN` in the first `INSERT`'s
//!   sync block (11 round trips); tokio-postgres waits for it (12).
//! - `COPY IN`: `copy_rows` text rows (default 1,000,000) into an unlogged
//!   table in 64 KiB chunks (rows/s), one copy per cell.
//! - `32 tasks`: 32 concurrent tasks sharing the one connection, the
//!   prepared select (both pipeline on the connection).
//! - `256 tasks through Client`: 256 concurrent tasks each doing the
//!   single-row select through a client object, as handlers do: weft's
//!   pooled `pg::Client::query_one` with the SQL text (the worker's shared
//!   connection, statement from its cache), against one
//!   `tokio_postgres::Client` shared by the 256 futures with the statement
//!   prepared once (what a tokio-postgres user writes; its `query_one`
//!   with text would prepare on every call). Both pipeline everything on
//!   one connection.
//! - `256 tasks, Client::get() per call`: the same, weft checking a
//!   connection out of the pool for every call (what `pg::Client`'s
//!   one-shot methods did before the shared connection: up to
//!   `max_open` = 16 connections, one query at a time each); the peer
//!   side is the same as in the previous row.
//!
//! `PG_PEERS_ONLY=0,5` runs only the workloads at those positions;
//! `PG_PEERS_SIDE=weft` (or `peer`) runs one side only, for profiling;
//! `PG_PEERS_BACKEND=uring` (or `std`) runs weft on that I/O backend
//! (default epoll).
//!
//! `WEFT_BENCH_SAME_CORE=1` pins this process, the PostgreSQL postmaster
//! and so every backend it forks to CPU 0 (see
//! `weft_benches::same_core`: on a VM with costly cross-CPU wake-ups it
//! makes a round trip cost what the two sides spend, not what the
//! hypervisor does).
//!
//! Besides throughput, each cell measures CPU time per operation, which
//! the machine's load disturbs less: the client's (this process, all
//! threads, `CLOCK_PROCESS_CPUTIME_ID`) and, for the one-connection rows,
//! the server's (the connection's backend process, from
//! `/proc/<pid>/schedstat`; `NaN` when that is not readable, e.g. a
//! remote server). A round trip costs client CPU + server CPU + the
//! wake-ups between them, so these columns show which side bounds a row.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use weft::pg::{Client, Config, Connection};
use weft::rt::{Backend, Epoll, spawn};
use weft_benches::{median, min_max};

const TASKS: usize = 32;
/// Tasks of the `Client` workload.
const CLIENT_TASKS: usize = 256;
const WORLD: &str = "bench_pg_world";
const INS: &str = "bench_pg_insert";
const COPY: &str = "bench_pg_copy";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Work {
    Select1,
    Prepared,
    Decode,
    InsertTx,
    CopyIn,
    Concurrent,
    ClientConcurrent,
    ClientCheckout,
}

impl Work {
    fn name(self) -> &'static str {
        match self {
            Work::Select1 => "SELECT 1 (query_one(&str)), queries/s",
            Work::Prepared => "prepared single-row select, queries/s",
            Work::Decode => "1000 rows x 4 cols decoded, queries/s",
            Work::InsertTx => "insert tx (BEGIN, 10 INSERT, COMMIT), tx/s",
            Work::CopyIn => "COPY IN, rows/s",
            Work::Concurrent => "32 tasks, prepared select, queries/s",
            Work::ClientConcurrent => "256 tasks through Client, single-row select, queries/s",
            Work::ClientCheckout => {
                "256 tasks, Client::get() per call, single-row select, queries/s"
            }
        }
    }
}

/// CPU time of this process (all threads, user + system).
fn process_cpu() -> Duration {
    weft_benches::cpu_time(libc::RUSAGE_SELF)
}

/// The parent of process `pid` (the fourth field of `/proc/<pid>/stat`).
fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// On-CPU time of server process `pid` in nanoseconds (first field of
/// `/proc/<pid>/schedstat`), `None` when not readable.
fn server_cpu_ns(pid: Option<i32>) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{}/schedstat", pid?)).ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// One cell's figures: operations per second, client and server CPU
/// nanoseconds per operation.
#[derive(Clone, Copy)]
struct Sample {
    rate: f64,
    client_ns: f64,
    server_ns: f64,
}

/// Measures a cell from its creation to [`Meter::done`].
struct Meter {
    start: Instant,
    cpu: Duration,
    pid: Option<i32>,
    server: Option<u64>,
}

impl Meter {
    fn new(pid: Option<i32>) -> Meter {
        Meter {
            start: Instant::now(),
            cpu: process_cpu(),
            pid,
            server: server_cpu_ns(pid),
        }
    }

    fn done(&self, ops: u64) -> Sample {
        let wall = self.start.elapsed().as_secs_f64();
        let cpu = (process_cpu() - self.cpu).as_secs_f64();
        let server = match (self.server, server_cpu_ns(self.pid)) {
            (Some(a), Some(b)) => (b - a) as f64 / ops as f64,
            _ => f64::NAN,
        };
        Sample {
            rate: ops as f64 / wall,
            client_ns: cpu * 1e9 / ops as f64,
            server_ns: server,
        }
    }
}

fn copy_chunks(rows: usize) -> Vec<bytes::Bytes> {
    let mut out = Vec::new();
    let mut buf = String::with_capacity(70_000);
    for i in 0..rows {
        buf.push_str(&format!("{i}\tname {i}\t{}\n", i * 7));
        if buf.len() >= 64 * 1024 {
            out.push(bytes::Bytes::from(std::mem::take(&mut buf)));
        }
    }
    if !buf.is_empty() {
        out.push(bytes::Bytes::from(buf));
    }
    out
}

/// Rows in the COPY chunks (one per line).
fn copy_rows(chunks: &[bytes::Bytes]) -> usize {
    chunks
        .iter()
        .map(|c| c.iter().filter(|&&b| b == b'\n').count())
        .sum()
}

const SQL_PREPARED: &str = "SELECT id, randomnumber FROM bench_pg_world WHERE id = $1";
const SQL_DECODE: &str =
    "SELECT id, randomnumber, id::int8 * 1000, 'name ' || id FROM bench_pg_world WHERE id <= 1000";
const SQL_INSERT: &str = "INSERT INTO bench_pg_insert (a, b) VALUES ($1, $2)";

async fn weft_cell_async(
    conn: &Connection,
    work: Work,
    secs: Duration,
    chunks: &[bytes::Bytes],
) -> Sample {
    let pid = conn.process_id();
    {
        let prepared = conn.prepare(SQL_PREPARED).await.unwrap();
        let decode = conn.prepare(SQL_DECODE).await.unwrap();
        let insert = conn.prepare(SQL_INSERT).await.unwrap();
        let meter = Meter::new(pid);
        let start = meter.start;
        let mut ops = 0u64;
        match work {
            Work::Select1 => {
                while start.elapsed() < secs {
                    for _ in 0..100 {
                        let r = conn.query_one("SELECT 1", &[]).await.unwrap();
                        assert_eq!(r.get::<i32>(0).unwrap(), 1);
                    }
                    ops += 100;
                }
            }
            Work::Prepared => {
                while start.elapsed() < secs {
                    for i in 0..100i32 {
                        let id = 1 + (i * 97) % 10_000;
                        let r = conn.query_one(&prepared, &[&id]).await.unwrap();
                        assert_eq!(r.get::<i32>(0).unwrap(), id);
                        let _: i32 = r.get(1).unwrap();
                    }
                    ops += 100;
                }
            }
            Work::Decode => {
                while start.elapsed() < secs {
                    let rows = conn.query(&decode, &[]).await.unwrap();
                    let mut sum = 0i64;
                    for r in &rows {
                        sum += r.get::<i32>(0).unwrap() as i64;
                        sum += r.get::<i32>(1).unwrap() as i64;
                        sum += r.get::<i64>(2).unwrap();
                        sum += r.get::<&str>(3).unwrap().len() as i64;
                    }
                    assert_eq!(rows.len(), 1000);
                    assert!(sum > 0);
                    ops += 1;
                }
            }
            Work::InsertTx => {
                while start.elapsed() < secs {
                    let tx = conn.transaction().await.unwrap();
                    for i in 0..10i32 {
                        tx.execute(&insert, &[&i, &"weft"]).await.unwrap();
                    }
                    tx.commit().await.unwrap();
                    ops += 1;
                }
            }
            Work::CopyIn => {
                conn.batch_execute(&format!("TRUNCATE {COPY}"))
                    .await
                    .unwrap();
                let meter = Meter::new(pid);
                let mut cin = conn
                    .copy_in(&format!("COPY {COPY} FROM STDIN"))
                    .await
                    .unwrap();
                for c in chunks {
                    cin.send(c).await.unwrap();
                }
                let n = cin.finish().await.unwrap();
                assert_eq!(n as usize, copy_rows(chunks));
                return meter.done(n);
            }
            Work::Concurrent => {
                let done = Rc::new(Cell::new(0u64));
                let mut tasks = Vec::new();
                for t in 0..TASKS as i32 {
                    let (conn, done, stmt) = (conn.clone(), done.clone(), prepared.clone());
                    tasks.push(spawn(async move {
                        let mut i = t;
                        while start.elapsed() < secs {
                            i = (i + 97) % 10_000;
                            let r = conn.query_one(&stmt, &[&(i + 1)]).await.unwrap();
                            assert_eq!(r.get::<i32>(0).unwrap(), i + 1);
                            done.set(done.get() + 1);
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
                ops = done.get();
            }
            Work::ClientConcurrent | Work::ClientCheckout => {
                unreachable!("run by weft_client_cell")
            }
        }
        meter.done(ops)
    }
}

/// The `Client` workload on weft: a fresh client (its worker's shared
/// connection opened and the statement cached before the clock starts),
/// `CLIENT_TASKS` tasks calling `query_one` with the SQL text; with
/// `checkout`, each call on a connection checked out of the pool.
async fn weft_client_cell<B: Backend>(cfg: &Config, secs: Duration, checkout: bool) -> Sample {
    let client = Client::<B>::with_backend(cfg.clone());
    client.query_one(SQL_PREPARED, &[&1i32]).await.unwrap();
    let meter = Meter::new(None);
    let start = meter.start;
    let done = Rc::new(Cell::new(0u64));
    let mut tasks = Vec::new();
    for t in 0..CLIENT_TASKS as i32 {
        let (client, done) = (client.clone(), done.clone());
        tasks.push(spawn(async move {
            let mut i = t;
            while start.elapsed() < secs {
                i = (i + 97) % 10_000;
                let r = if checkout {
                    let conn = client.get().await.unwrap();
                    conn.query_one(SQL_PREPARED, &[&(i + 1)]).await.unwrap()
                } else {
                    client.query_one(SQL_PREPARED, &[&(i + 1)]).await.unwrap()
                };
                assert_eq!(r.get::<i32>(0).unwrap(), i + 1);
                done.set(done.get() + 1);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let ops = done.get();
    if !checkout {
        let st = client.pool_state();
        assert_eq!(st.open, 1, "one shared connection: {st:?}");
    }
    meter.done(ops)
}

fn peer_cell(
    rt: &tokio::runtime::Runtime,
    client: &mut tokio_postgres::Client,
    work: Work,
    pid: Option<i32>,
    secs: Duration,
    chunks: &[bytes::Bytes],
) -> Sample {
    rt.block_on(async {
        let prepared = client.prepare(SQL_PREPARED).await.unwrap();
        let decode = client.prepare(SQL_DECODE).await.unwrap();
        let insert = client.prepare(SQL_INSERT).await.unwrap();
        let meter = Meter::new(pid);
        let start = meter.start;
        let mut ops = 0u64;
        match work {
            Work::Select1 => {
                while start.elapsed() < secs {
                    for _ in 0..100 {
                        let r = client.query_one("SELECT 1", &[]).await.unwrap();
                        assert_eq!(r.get::<_, i32>(0), 1);
                    }
                    ops += 100;
                }
            }
            Work::Prepared => {
                while start.elapsed() < secs {
                    for i in 0..100i32 {
                        let id = 1 + (i * 97) % 10_000;
                        let r = client.query_one(&prepared, &[&id]).await.unwrap();
                        assert_eq!(r.get::<_, i32>(0), id);
                        let _: i32 = r.get(1);
                    }
                    ops += 100;
                }
            }
            Work::Decode => {
                while start.elapsed() < secs {
                    let rows = client.query(&decode, &[]).await.unwrap();
                    let mut sum = 0i64;
                    for r in &rows {
                        sum += r.get::<_, i32>(0) as i64;
                        sum += r.get::<_, i32>(1) as i64;
                        sum += r.get::<_, i64>(2);
                        sum += r.get::<_, &str>(3).len() as i64;
                    }
                    assert_eq!(rows.len(), 1000);
                    assert!(sum > 0);
                    ops += 1;
                }
            }
            Work::InsertTx => {
                while start.elapsed() < secs {
                    let tx = client.transaction().await.unwrap();
                    for i in 0..10i32 {
                        tx.execute(&insert, &[&i, &"peer"]).await.unwrap();
                    }
                    tx.commit().await.unwrap();
                    ops += 1;
                }
            }
            Work::CopyIn => {
                client
                    .batch_execute(&format!("TRUNCATE {COPY}"))
                    .await
                    .unwrap();
                let meter = Meter::new(pid);
                let sink = client
                    .copy_in::<_, bytes::Bytes>(&format!("COPY {COPY} FROM STDIN"))
                    .await
                    .unwrap();
                let mut sink = std::pin::pin!(sink);
                for c in chunks {
                    sink.send(c.clone()).await.unwrap();
                }
                let n = sink.finish().await.unwrap();
                assert_eq!(n as usize, copy_rows(chunks));
                return meter.done(n);
            }
            Work::Concurrent => {
                let shared: &tokio_postgres::Client = client;
                let done = Rc::new(Cell::new(0u64));
                // 32 futures borrowing the client, polled concurrently on
                // this thread (the client pipelines them).
                let futs: Vec<_> = (0..TASKS as i32)
                    .map(|t| {
                        let done = done.clone();
                        let stmt = prepared.clone();
                        async move {
                            let mut i = t;
                            while start.elapsed() < secs {
                                i = (i + 97) % 10_000;
                                let r = shared.query_one(&stmt, &[&(i + 1)]).await.unwrap();
                                assert_eq!(r.get::<_, i32>(0), i + 1);
                                done.set(done.get() + 1);
                            }
                        }
                    })
                    .collect();
                futures_util::future::join_all(futs).await;
                ops = done.get();
            }
            Work::ClientConcurrent | Work::ClientCheckout => {
                let shared: &tokio_postgres::Client = client;
                let done = Rc::new(Cell::new(0u64));
                let futs: Vec<_> = (0..CLIENT_TASKS as i32)
                    .map(|t| {
                        let done = done.clone();
                        let stmt = prepared.clone();
                        async move {
                            let mut i = t;
                            while start.elapsed() < secs {
                                i = (i + 97) % 10_000;
                                let r = shared.query_one(&stmt, &[&(i + 1)]).await.unwrap();
                                assert_eq!(r.get::<_, i32>(0), i + 1);
                                done.set(done.get() + 1);
                            }
                        }
                    })
                    .collect();
                futures_util::future::join_all(futs).await;
                ops = done.get();
            }
        }
        meter.done(ops)
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dsn = args.next().filter(|s| !s.is_empty()).unwrap_or_else(|| {
        let host = std::env::var("WEFT_PG_HOST").unwrap_or_else(|_| "127.0.0.1".into());
        let port = std::env::var("WEFT_PG_PORT").unwrap_or_else(|_| "54329".into());
        let db = std::env::var("WEFT_PG_DB").unwrap_or_else(|_| "weft".into());
        format!("host={host} port={port} user=weft dbname={db}")
    });
    let rounds: usize = args.next().map_or(5, |r| r.parse().unwrap());
    let secs = Duration::from_secs_f64(args.next().map_or(2.0, |s| s.parse().unwrap()));
    let copy_rows: usize = args.next().map_or(1_000_000, |s| s.parse().unwrap());

    let cfg = Config::parse(&dsn).unwrap();
    Epoll::block_on(async {
        let c = Connection::connect::<Epoll>(&cfg).await.unwrap();
        c.batch_execute(&format!(
            "DROP TABLE IF EXISTS {WORLD}, {INS}, {COPY};
             CREATE TABLE {WORLD} (id int4 PRIMARY KEY, randomnumber int4 NOT NULL);
             INSERT INTO {WORLD} SELECT g, (g * 7919) % 10000 FROM generate_series(1, 10000) g;
             CREATE UNLOGGED TABLE {INS} (a int4, b text);
             CREATE UNLOGGED TABLE {COPY} (id int4, name text, n int8);
             ANALYZE {WORLD};"
        ))
        .await
        .unwrap();
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut peer = rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(&dsn, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    });
    let peer_pid: Option<i32> = rt.block_on(async {
        let r = peer.query_one("SELECT pg_backend_pid()", &[]).await.ok()?;
        Some(r.get(0))
    });
    if weft_benches::same_core() {
        // The peer's backend and its parent, the postmaster: the backends
        // of weft's connections, forked later, inherit the pinning.
        let backend = peer_pid.expect("WEFT_BENCH_SAME_CORE: no backend pid") as u32;
        let postmaster = parent_pid(backend)
            .expect("WEFT_BENCH_SAME_CORE: the PostgreSQL server must run on this machine");
        weft_benches::pin_same_core(&[postmaster, backend]);
    }

    let all = [
        Work::Select1,
        Work::Prepared,
        Work::Decode,
        Work::InsertTx,
        Work::CopyIn,
        Work::Concurrent,
        Work::ClientConcurrent,
        Work::ClientCheckout,
    ];
    // PG_PEERS_ONLY=1,5 runs only those workloads (by position).
    let only: Option<Vec<usize>> = std::env::var("PG_PEERS_ONLY")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let works: Vec<Work> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| only.as_ref().is_none_or(|o| o.contains(i)))
        .map(|(_, w)| *w)
        .collect();
    // The COPY data is made only when a COPY cell runs (it takes a while).
    let chunks = Arc::new(if works.contains(&Work::CopyIn) {
        copy_chunks(copy_rows)
    } else {
        Vec::new()
    });
    let none = Sample {
        rate: f64::NAN,
        client_ns: f64::NAN,
        server_ns: f64::NAN,
    };
    let mut samples: Vec<(Vec<Sample>, Vec<Sample>)> = vec![(Vec::new(), Vec::new()); works.len()];
    for round in 0..rounds {
        for (w, &work) in works.iter().enumerate() {
            // PG_PEERS_SIDE=weft or =peer runs one side only (profiling).
            let side = std::env::var("PG_PEERS_SIDE").unwrap_or_default();
            if side == "weft" {
                samples[w].0.push(weft_run(&cfg, work, secs, &chunks));
                samples[w].1.push(none);
                continue;
            }
            if side == "peer" {
                samples[w].0.push(none);
                samples[w]
                    .1
                    .push(peer_cell(&rt, &mut peer, work, peer_pid, secs, &chunks));
                continue;
            }
            let (a, b) = if round % 2 == 0 {
                let a = weft_run(&cfg, work, secs, &chunks);
                (a, peer_cell(&rt, &mut peer, work, peer_pid, secs, &chunks))
            } else {
                let b = peer_cell(&rt, &mut peer, work, peer_pid, secs, &chunks);
                (weft_run(&cfg, work, secs, &chunks), b)
            };
            samples[w].0.push(a);
            samples[w].1.push(b);
        }
        eprintln!("round {} of {rounds} done", round + 1);
    }

    println!(
        "PostgreSQL at `{dsn}`, {rounds} rounds of {secs:?} per cell (COPY: {copy_rows} rows per cell), medians (min-max)\n"
    );
    println!("| workload | weft | tokio-postgres | ratio |");
    println!("| --- | --- | --- | --- |");
    let field = |v: &[Sample], f: fn(&Sample) -> f64| -> Vec<f64> { v.iter().map(f).collect() };
    for (w, work) in works.iter().enumerate() {
        let (a, b) = &samples[w];
        let (mut a, mut b) = (field(a, |s| s.rate), field(b, |s| s.rate));
        let (alo, ahi) = min_max(&a);
        let (blo, bhi) = min_max(&b);
        let (ma, mb) = (median(&mut a), median(&mut b));
        println!(
            "| {} | {ma:.0} ({alo:.0}-{ahi:.0}) | {mb:.0} ({blo:.0}-{bhi:.0}) | {:.2}x |",
            work.name(),
            ma / mb
        );
    }
    println!(
        "\nCPU time per operation (medians, microseconds; server: the connection's backend process)\n"
    );
    println!(
        "| workload | client weft | client tokio-postgres | client ratio | server (weft's connection) | server (tokio-postgres's) |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (w, work) in works.iter().enumerate() {
        let (a, b) = &samples[w];
        let us = |v: &[Sample], f: fn(&Sample) -> f64| median(&mut field(v, f)) / 1000.0;
        let (ca, cb) = (us(a, |s| s.client_ns), us(b, |s| s.client_ns));
        let (sa, sb) = (us(a, |s| s.server_ns), us(b, |s| s.server_ns));
        println!(
            "| {} | {ca:.2} | {cb:.2} | {:.2}x | {sa:.2} | {sb:.2} |",
            work.name(),
            ca / cb
        );
    }
}

/// A weft cell on a fresh runtime: connect (outside the clock), warm the
/// statement cache, run. `PG_PEERS_BACKEND=uring` (or `std`) runs weft on
/// that backend instead of epoll.
fn weft_run(cfg: &Config, work: Work, secs: Duration, chunks: &[bytes::Bytes]) -> Sample {
    match std::env::var("PG_PEERS_BACKEND").as_deref() {
        Ok("uring") => weft_run_on::<weft::rt::Uring>(cfg, work, secs, chunks),
        Ok("std") => weft_run_on::<weft::rt::Std>(cfg, work, secs, chunks),
        _ => weft_run_on::<Epoll>(cfg, work, secs, chunks),
    }
}

fn weft_run_on<B: Backend>(
    cfg: &Config,
    work: Work,
    secs: Duration,
    chunks: &[bytes::Bytes],
) -> Sample {
    // The connection's task lives on the runtime that made it, so the
    // cell connects and runs inside one block_on.
    B::block_on(async {
        if matches!(work, Work::ClientConcurrent | Work::ClientCheckout) {
            return weft_client_cell::<B>(cfg, secs, work == Work::ClientCheckout).await;
        }
        let conn = Connection::connect::<B>(cfg).await.unwrap();
        conn.query_one("SELECT 1", &[]).await.unwrap();
        weft_cell_async(&conn, work, secs, chunks).await
    })
}
