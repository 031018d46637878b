//! The weft Redis driver against redis-rs (0.32, tokio multiplexed
//! connection and cluster-async client), same servers, same process run,
//! cells interleaved over several rounds (the order of the two clients
//! alternates per round); medians and their ratio.
//!
//! Cells (16-byte values, 1000 keys, each client on one thread: weft's
//! epoll executor, tokio's current-thread runtime):
//!
//! - `sequential`: one task, SET and GET alternating, one at a time;
//! - `pipeline-100`: one task, a pipeline of 100 commands (50 SET, 50 GET)
//!   per round trip;
//! - `pipeline-1000`: the same with 1000 commands;
//! - `concurrent-50`: 50 tasks on one client, SET/GET alternating;
//! - `concurrent-50 x pipeline-16`: 50 tasks, each sending 16-command
//!   pipelines (half SET, half GET; the redis-benchmark comparison below
//!   is the GET-only form of this shape);
//! - `cluster-pipeline-100`: 100 commands (50 SET, 50 GET) over keys
//!   spread across the cluster per batch. weft: one `Pipeline` on the
//!   `ClusterClient` (grouped per node, sent in parallel). redis-rs: its
//!   cluster-async pipelines must stay within one slot (a cross-slot pipe
//!   is refused), so its way to batch across the cluster is 100 commands
//!   issued at once on the multiplexed cluster connection (`join_all`).
//!
//! ```text
//! cargo run --release -p weft-benches --features peers --bin redis_peers -- [ROUNDS] [SECS] [CELLS]
//! ```
//!
//! `CELLS`: run only the cells whose name contains one of these
//! comma-separated words (`pipeline-1000,cluster`, `redis-benchmark`;
//! `=concurrent-50` names that cell alone).
//! Servers from `WEFT_REDIS_ADDR` and `WEFT_REDIS_CLUSTER_NODES` (`cargo
//! xtask services up`); the cluster cell is skipped without the latter.
//! `WEFT_REDIS_SIDE=weft` (or `redis-rs`) runs one client only, for
//! profiling one side with `perf record`; no ratios are printed then.
//!
//! Last, unless the cell filter rules it out (it is named
//! `redis-benchmark`), the `redis-benchmark` reference: per round,
//! `redis-benchmark -P 16 -c 50 -t get` (50 connections, 16-deep GET
//! pipelines, one key holding a 16-byte value) and weft on the same
//! shape: 50 tasks sending 16-GET batches on the worker's one shared
//! connection, and 50 tasks each on a connection of its own (as
//! redis-benchmark's 50 connections); the order rotates per round.
//! Reported: medians, min-max and weft / redis-benchmark (issue 5's goal:
//! at least 0.8).
//!
//! `WEFT_BENCH_SAME_CORE=1` pins this process, the single-node
//! redis-server and redis-benchmark to CPU 0 (see
//! `weft_benches::same_core`: on a VM with costly cross-CPU wake-ups it
//! makes a round trip cost what the two sides spend, not what the
//! hypervisor does). The cluster nodes are left where they run.
//!
//! Besides throughput, each cell reports the client's CPU time per command
//! (the whole process, user + system, from /proc/self/stat; both clients
//! run on this one thread): the server shares the machine, so on a small
//! one the client's CPU per command is what bounds the pipelines, and it
//! is less exposed than throughput to other load. When the server runs on
//! this machine (its pid from `INFO server`, its /proc/PID/stat
//! readable), the server's CPU per command is reported too: with one batch
//! in flight the server's time per command is a floor under the client's
//! time per command, and it bounds the ratio any client can reach.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use weft::redis::{
    Client, ClusterClient, ClusterConfig, Cmd, Commands, Connection, Frame, Pipeline,
};
use weft::rt::{Backend, Epoll, spawn};
use weft_benches::{median, min_max, rate};

const KEYS: usize = 1000;
const VALUE: &str = "0123456789abcdef";
const DEPTH: usize = 100;
/// Pipeline depth of each task in the `concurrent-50 x pipeline-16` cell,
/// as `redis-benchmark -P 16` (50 clients by default).
const SMALL_DEPTH: usize = 16;
const TASKS: usize = 50;

/// CPU time a process has used (all threads, user + system), from
/// /proc/PID/stat (clock ticks, 100 per second on Linux).
fn cpu_time_of(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit(')').next()?;
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // After "pid (comm)": state is field 0, utime 11, stime 12.
    Some(Duration::from_millis((f.get(11)? + f.get(12)?) * 10))
}

/// CPU time of this process.
fn cpu_time() -> Duration {
    cpu_time_of("self").unwrap_or_default()
}

/// Commands the last weft or redis-rs cell completed: printed per round,
/// so that an instruction count taken under `valgrind --tool=callgrind
/// --toggle-collect='*weft_cell*'` (or `*peer_cell*`) can be divided by it.
static LAST_OPS: AtomicU64 = AtomicU64::new(0);

/// One run of a cell.
#[derive(Clone, Copy)]
struct Sample {
    /// Commands per second.
    rate: f64,
    /// Client CPU nanoseconds per command.
    cpu: f64,
    /// Server CPU nanoseconds per command (NaN when not readable).
    server: f64,
    /// Commands completed (0 when not counted here).
    ops: u64,
}

/// Runs a cell that returns its commands per second; `server` is the
/// redis-server's pid when it runs on this machine.
fn measure(secs: Duration, server: Option<&str>, cell: impl FnOnce() -> f64) -> Sample {
    let cpu0 = cpu_time();
    let srv0 = server.and_then(cpu_time_of);
    LAST_OPS.store(0, Ordering::Relaxed);
    let start = Instant::now();
    let rate = cell();
    let wall = start.elapsed().max(secs).as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    let srv = match (srv0, server.and_then(cpu_time_of)) {
        (Some(a), Some(b)) => (b - a).as_secs_f64() * 1e9 / (rate * wall),
        _ => f64::NAN,
    };
    Sample {
        rate,
        cpu: cpu * 1e9 / (rate * wall),
        server: srv,
        ops: LAST_OPS.load(Ordering::Relaxed),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Work {
    Sequential,
    Pipeline,
    Pipeline1000,
    Concurrent,
    ConcurrentPipeline,
    ClusterPipeline,
}

impl Work {
    /// Commands per batch.
    fn depth(self) -> usize {
        match self {
            Work::Pipeline1000 => 1000,
            Work::ConcurrentPipeline => SMALL_DEPTH,
            _ => DEPTH,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Work::Sequential => "sequential GET/SET",
            Work::Pipeline => "pipeline-100",
            Work::Pipeline1000 => "pipeline-1000",
            Work::ConcurrentPipeline => "concurrent-50 x pipeline-16",
            Work::Concurrent => "concurrent-50",
            Work::ClusterPipeline => "cluster-pipeline-100",
        }
    }
}

/// The key of the `i`-th single command, formatted once per process: the
/// per-command cells measure the clients, not `format!` (which both sides
/// paid per command before 2026-11-24's second session, about 100 ns).
fn key_of(i: usize) -> &'static str {
    static TABLE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    &TABLE.get_or_init(|| (0..KEYS).map(key).collect())[i % KEYS]
}

fn key(i: usize) -> String {
    format!("bench:{i}")
}

/// The keys of one 100-command batch starting at `base`.
fn batch_keys(base: usize, depth: usize) -> Vec<String> {
    (0..depth).map(|i| key((base + i * 7) % KEYS)).collect()
}

fn weft_pipeline(base: usize, depth: usize) -> Pipeline {
    let mut p = Pipeline::with_capacity(depth);
    for (i, k) in batch_keys(base, depth).into_iter().enumerate() {
        if i % 2 == 0 {
            p.set(k, VALUE);
        } else {
            p.get(k);
        }
    }
    p
}

fn peer_pipeline(base: usize, depth: usize) -> redis::Pipeline {
    let mut p = redis::pipe();
    for (i, k) in batch_keys(base, depth).into_iter().enumerate() {
        if i % 2 == 0 {
            p.cmd("SET").arg(k).arg(VALUE);
        } else {
            p.cmd("GET").arg(k);
        }
    }
    p
}

fn peer_cmds(base: usize) -> Vec<redis::Cmd> {
    batch_keys(base, DEPTH)
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            if i % 2 == 0 {
                redis::cmd("SET").arg(k).arg(VALUE).clone()
            } else {
                redis::cmd("GET").arg(k).clone()
            }
        })
        .collect()
}

/// Commands per second for one weft cell of `secs`.
#[inline(never)] // Named in callgrind's `--toggle-collect` (see LAST_OPS).
fn weft_cell(
    cell: Work,
    client: &Client<Epoll>,
    cluster: Option<&ClusterClient<Epoll>>,
    secs: Duration,
) -> f64 {
    Epoll::block_on(async {
        // Warm up: the worker's connection (a fresh runtime per cell).
        client.ping().await.unwrap();
        if let Some(c) = cluster {
            weft_pipeline(0, DEPTH).run(c).await.unwrap();
        }
        let start = Instant::now();
        let deadline = start + secs;
        let ops = match cell {
            Work::Sequential => {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    for _ in 0..50 {
                        let k = key_of(n as usize);
                        if n % 2 == 0 {
                            client.set(k, VALUE).await.unwrap();
                        } else {
                            let _: Option<bytes::Bytes> = client.get(k).await.unwrap();
                        }
                        n += 1;
                    }
                }
                n
            }
            Work::Pipeline | Work::Pipeline1000 | Work::ClusterPipeline => {
                let depth = cell.depth();
                let pipes: Vec<Pipeline> = (0..8).map(|b| weft_pipeline(b * 113, depth)).collect();
                let mut n = 0u64;
                let mut i = 0;
                while Instant::now() < deadline {
                    let p = &pipes[i % pipes.len()];
                    i += 1;
                    let replies: Vec<Frame> = match (cell, cluster) {
                        (Work::ClusterPipeline, Some(c)) => c.query_batch(p_cmds(p)).await,
                        _ => client.query_batch(p_cmds(p)).await,
                    }
                    .unwrap();
                    assert_eq!(replies.len(), depth);
                    n += depth as u64;
                }
                n
            }
            Work::ConcurrentPipeline => {
                let total = Rc::new(Cell::new(0u64));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let client = client.clone();
                        let total = total.clone();
                        let p = weft_pipeline(t * 31, SMALL_DEPTH);
                        spawn(async move {
                            while Instant::now() < deadline {
                                let replies = client.query_batch(p.commands()).await.unwrap();
                                assert_eq!(replies.len(), SMALL_DEPTH);
                                total.set(total.get() + SMALL_DEPTH as u64);
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                total.get()
            }
            Work::Concurrent => {
                let total = Rc::new(Cell::new(0u64));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let client = client.clone();
                        let total = total.clone();
                        spawn(async move {
                            let mut n = t as u64;
                            while Instant::now() < deadline {
                                let k = key_of(n as usize);
                                if n % 2 == 0 {
                                    client.set(k, VALUE).await.unwrap();
                                } else {
                                    let _: Option<bytes::Bytes> = client.get(k).await.unwrap();
                                }
                                n += 1;
                                total.set(total.get() + 1);
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                total.get()
            }
        };
        LAST_OPS.store(ops, Ordering::Relaxed);
        rate(ops, start.elapsed())
    })
}

/// The commands of a weft pipeline, for `query_batch`.
fn p_cmds(p: &Pipeline) -> &[weft::redis::Cmd] {
    p.commands()
}

/// Commands per second for one redis-rs cell of `secs`.
#[inline(never)] // Named in callgrind's `--toggle-collect` (see LAST_OPS).
fn peer_cell(
    cell: Work,
    rt: &tokio::runtime::Runtime,
    con: &redis::aio::MultiplexedConnection,
    cluster: Option<&redis::cluster_async::ClusterConnection>,
    secs: Duration,
) -> f64 {
    rt.block_on(async {
        let mut con = con.clone();
        let start = Instant::now();
        let deadline = start + secs;
        let ops = match cell {
            Work::Sequential => {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    for _ in 0..50 {
                        let k = key_of(n as usize);
                        if n % 2 == 0 {
                            redis::cmd("SET")
                                .arg(k)
                                .arg(VALUE)
                                .query_async::<()>(&mut con)
                                .await
                                .unwrap();
                        } else {
                            redis::cmd("GET")
                                .arg(k)
                                .query_async::<Option<Vec<u8>>>(&mut con)
                                .await
                                .unwrap();
                        }
                        n += 1;
                    }
                }
                n
            }
            Work::Pipeline | Work::Pipeline1000 => {
                let depth = cell.depth();
                let pipes: Vec<redis::Pipeline> =
                    (0..8).map(|b| peer_pipeline(b * 113, depth)).collect();
                let mut n = 0u64;
                let mut i = 0;
                while Instant::now() < deadline {
                    let p = &pipes[i % pipes.len()];
                    i += 1;
                    let replies: Vec<redis::Value> = p.query_async(&mut con).await.unwrap();
                    assert_eq!(replies.len(), depth);
                    n += depth as u64;
                }
                n
            }
            Work::ConcurrentPipeline => {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let mut con = con.clone();
                        let p = peer_pipeline(t * 31, SMALL_DEPTH);
                        tokio::spawn(async move {
                            let mut done = 0u64;
                            while Instant::now() < deadline {
                                let replies: Vec<redis::Value> =
                                    p.query_async(&mut con).await.unwrap();
                                assert_eq!(replies.len(), SMALL_DEPTH);
                                done += SMALL_DEPTH as u64;
                            }
                            done
                        })
                    })
                    .collect();
                let mut total = 0;
                for t in tasks {
                    total += t.await.unwrap();
                }
                total
            }
            Work::ClusterPipeline => {
                let cluster = cluster.expect("cluster connection");
                let batches: Vec<Vec<redis::Cmd>> = (0..8).map(|b| peer_cmds(b * 113)).collect();
                let mut n = 0u64;
                let mut i = 0;
                while Instant::now() < deadline {
                    let cmds = &batches[i % batches.len()];
                    i += 1;
                    let replies = join_all(cmds.iter().map(|c| {
                        let mut con = cluster.clone();
                        async move { c.query_async::<redis::Value>(&mut con).await }
                    }))
                    .await;
                    for r in &replies {
                        assert!(r.is_ok(), "{r:?}");
                    }
                    n += DEPTH as u64;
                }
                n
            }
            Work::Concurrent => {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|t| {
                        let mut con = con.clone();
                        tokio::spawn(async move {
                            let mut n = t as u64;
                            let mut done = 0u64;
                            while Instant::now() < deadline {
                                let k = key_of(n as usize);
                                if n % 2 == 0 {
                                    redis::cmd("SET")
                                        .arg(k)
                                        .arg(VALUE)
                                        .query_async::<()>(&mut con)
                                        .await
                                        .unwrap();
                                } else {
                                    redis::cmd("GET")
                                        .arg(k)
                                        .query_async::<Option<Vec<u8>>>(&mut con)
                                        .await
                                        .unwrap();
                                }
                                n += 1;
                                done += 1;
                            }
                            done
                        })
                    })
                    .collect();
                let mut total = 0;
                for t in tasks {
                    total += t.await.unwrap();
                }
                total
            }
        };
        LAST_OPS.store(ops, Ordering::Relaxed);
        rate(ops, start.elapsed())
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(5, |r| r.parse().unwrap());
    let secs = Duration::from_secs_f64(args.next().map_or(1.0, |s| s.parse().unwrap()));
    // Optional: only the cells whose name contains one of these
    // comma-separated words (`=name`: that cell only).
    let only: Option<Vec<String>> = args
        .next()
        .map(|o| o.split(',').map(str::to_owned).collect());
    let wanted = |name: &str| {
        only.as_ref().is_none_or(|o| {
            o.iter().any(|w| match w.strip_prefix('=') {
                Some(exact) => name == exact,
                None => name.contains(w.as_str()),
            })
        })
    };
    let addr = std::env::var("WEFT_REDIS_ADDR").unwrap_or_else(|_| "127.0.0.1:63790".into());
    let nodes: Option<Vec<String>> = std::env::var("WEFT_REDIS_CLUSTER_NODES")
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| v.split(',').map(str::to_owned).collect());

    let client = Client::<Epoll>::with_backend(format!("redis://{addr}").parse().unwrap());
    let cluster = nodes
        .as_ref()
        .map(|n| ClusterClient::<Epoll>::with_backend(ClusterConfig::new(n.clone())));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let peer = redis::Client::open(format!("redis://{addr}/")).unwrap();
    let con = rt
        .block_on(peer.get_multiplexed_async_connection())
        .unwrap();
    let peer_cluster = nodes.as_ref().map(|n| {
        let urls: Vec<String> = n.iter().map(|a| format!("redis://{a}/")).collect();
        let c = redis::cluster::ClusterClient::new(urls).unwrap();
        rt.block_on(c.get_async_connection()).unwrap()
    });

    // Seed the keys on both deployments.
    Epoll::block_on(async {
        for i in 0..KEYS {
            client.set(key(i), VALUE).await.unwrap();
            if let Some(c) = &cluster {
                c.set(key(i), VALUE).await.unwrap();
            }
        }
    });

    let side = std::env::var("WEFT_REDIS_SIDE").ok();
    let (with_weft, with_peer) = match side.as_deref() {
        Some("weft") => (true, false),
        Some("redis-rs") => (false, true),
        _ => (true, true),
    };
    let server = server_pid(&rt, &con);
    if weft_benches::same_core() {
        let pid = server.as_deref().and_then(|p| p.parse().ok());
        let pid = pid.expect("WEFT_BENCH_SAME_CORE: the redis-server must run on this machine");
        weft_benches::pin_same_core(&[pid]);
    }

    let mut cells = vec![
        Work::Sequential,
        Work::Pipeline,
        Work::Pipeline1000,
        Work::Concurrent,
        Work::ConcurrentPipeline,
    ];
    if cluster.is_some() {
        cells.push(Work::ClusterPipeline);
    }
    cells.retain(|c| wanted(c.name()));
    let mut weft_runs: Vec<Vec<Sample>> = vec![Vec::new(); cells.len()];
    let mut peer_runs: Vec<Vec<Sample>> = vec![Vec::new(); cells.len()];
    let nan = Sample {
        rate: f64::NAN,
        cpu: f64::NAN,
        server: f64::NAN,
        ops: 0,
    };
    for round in 0..rounds {
        for (c, &cell) in cells.iter().enumerate() {
            // The cluster cell's server CPU would be one node's of six.
            let srv = server.as_deref().filter(|_| cell != Work::ClusterPipeline);
            let run_weft = || {
                if !with_weft {
                    return nan;
                }
                measure(secs, srv, || {
                    weft_cell(cell, &client, cluster.as_ref(), secs)
                })
            };
            let run_peer = || {
                if !with_peer {
                    return nan;
                }
                measure(secs, srv, || {
                    peer_cell(cell, &rt, &con, peer_cluster.as_ref(), secs)
                })
            };
            let (w, p) = if round % 2 == 0 {
                let w = run_weft();
                (w, run_peer())
            } else {
                let p = run_peer();
                (run_weft(), p)
            };
            eprintln!(
                "round {round} {:<27} weft {:>9.0}/s {:>5.0} ns/cmd (server {:>4.0}, {} cmds)  redis-rs {:>9.0}/s {:>5.0} ns/cmd (server {:>4.0}, {} cmds)",
                cell.name(),
                w.rate,
                w.cpu,
                w.server,
                w.ops,
                p.rate,
                p.cpu,
                p.server,
                p.ops,
            );
            weft_runs[c].push(w);
            peer_runs[c].push(p);
        }
    }
    if !cells.is_empty() {
        println!(
            "| cell | weft (cmd/s, median) | redis-rs (cmd/s, median) | ratio of medians | median of per-round ratios | weft min-max | redis-rs min-max | client CPU ns/cmd weft | redis-rs | CPU ratio | server CPU ns/cmd weft | redis-rs |"
        );
        println!("|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|");
    }
    for (c, &cell) in cells.iter().enumerate() {
        let w = Stats::of(&weft_runs[c]);
        let p = Stats::of(&peer_runs[c]);
        // Paired: each round's two runs are back to back, so their ratio
        // is less exposed to load that drifts between rounds.
        let mut paired: Vec<f64> = weft_runs[c]
            .iter()
            .zip(&peer_runs[c])
            .map(|(w, p)| w.rate / p.rate)
            .collect();
        let paired = median(&mut paired);
        println!(
            "| {} | {:.0} | {:.0} | {:.2}x | {:.2}x | {:.0}-{:.0} | {:.0}-{:.0} | {:.0} | {:.0} | {:.2}x | {:.0} | {:.0} |",
            cell.name(),
            w.rate,
            p.rate,
            w.rate / p.rate,
            paired,
            w.min,
            w.max,
            p.min,
            p.max,
            w.cpu,
            p.cpu,
            p.cpu / w.cpu,
            w.server,
            p.server,
        );
    }
    if wanted(BENCH_CELL) {
        versus_redis_benchmark(&addr, &client, rounds, secs, server.as_deref());
    }
}

/// Medians of a cell's samples.
struct Stats {
    rate: f64,
    min: f64,
    max: f64,
    cpu: f64,
    server: f64,
}

impl Stats {
    fn of(runs: &[Sample]) -> Stats {
        let mut rate: Vec<f64> = runs.iter().map(|s| s.rate).collect();
        let mut cpu: Vec<f64> = runs.iter().map(|s| s.cpu).collect();
        let mut server: Vec<f64> = runs.iter().map(|s| s.server).collect();
        let (min, max) = min_max(&rate);
        Stats {
            rate: median(&mut rate),
            min,
            max,
            cpu: median(&mut cpu),
            server: median(&mut server),
        }
    }
}

/// The redis-server's pid, when it runs on this machine (`INFO server`'s
/// `process_id`, and /proc says that pid is a redis-server).
fn server_pid(
    rt: &tokio::runtime::Runtime,
    con: &redis::aio::MultiplexedConnection,
) -> Option<String> {
    let mut con = con.clone();
    let info: String = rt
        .block_on(redis::cmd("INFO").arg("server").query_async(&mut con))
        .ok()?;
    let pid = info
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))?
        .trim()
        .to_owned();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    (comm.trim() == "redis-server" && cpu_time_of(&pid).is_some()).then_some(pid)
}

/// The name of the redis-benchmark comparison, for the cell filter.
const BENCH_CELL: &str = "redis-benchmark get-50x16";
/// The one key redis-benchmark's GET test reads (without `-r`, its key
/// is this literal string); seeded with [`VALUE`] for both sides.
const BENCH_KEY: &str = "key:__rand_int__";
/// Connections (redis-benchmark) or tasks (weft) of the comparison.
const BENCH_CLIENTS: usize = 50;

/// `redis-benchmark -P 16 -c 50 -t get -n <n>`: GET requests per second
/// (its CSV line `"GET","<rps>",...`).
fn redis_benchmark_get(addr: &str, n: u64) -> Option<f64> {
    let (host, port) = addr.rsplit_once(':')?;
    let out = weft_benches::load_command("redis-benchmark")
        .args(["-h", host, "-p", port, "-P", &SMALL_DEPTH.to_string()])
        .args(["-c", &BENCH_CLIENTS.to_string(), "-n", &n.to_string()])
        .args(["-t", "get", "--csv"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| {
        let rest = l.strip_prefix("\"GET\",\"")?;
        rest.split('"').next()?.parse().ok()
    })
}

/// weft on redis-benchmark's shape: 50 tasks each sending 16-GET batches,
/// all on the worker's shared connection (`conns == false`) or each on a
/// connection of its own (`conns == true`, as redis-benchmark's 50
/// connections). GET requests per second.
#[inline(never)] // Named in callgrind's `--toggle-collect` (see LAST_OPS).
fn weft_get16(client: &Client<Epoll>, conns: bool, secs: Duration) -> f64 {
    Epoll::block_on(async {
        client.ping().await.unwrap();
        let own: Vec<Option<Connection>> = if conns {
            let mut v = Vec::new();
            for _ in 0..BENCH_CLIENTS {
                v.push(Some(
                    Connection::connect::<Epoll>(client.config()).await.unwrap(),
                ));
            }
            v
        } else {
            (0..BENCH_CLIENTS).map(|_| None).collect()
        };
        let total = Rc::new(Cell::new(0u64));
        let start = Instant::now();
        let deadline = start + secs;
        let tasks: Vec<_> = own
            .into_iter()
            .map(|conn| {
                let client = client.clone();
                let total = total.clone();
                let cmds: Vec<Cmd> = (0..SMALL_DEPTH)
                    .map(|_| Cmd::new("GET").with(BENCH_KEY))
                    .collect();
                spawn(async move {
                    while Instant::now() < deadline {
                        let replies = match &conn {
                            Some(c) => c.send_batch(&cmds).await,
                            None => client.query_batch(&cmds).await,
                        }
                        .unwrap();
                        assert_eq!(replies.len(), SMALL_DEPTH);
                        total.set(total.get() + SMALL_DEPTH as u64);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        LAST_OPS.store(total.get(), Ordering::Relaxed);
        rate(total.get(), start.elapsed())
    })
}

/// Issue 5's near-limit reference: redis-benchmark against weft on the
/// same shape, interleaved over `rounds` (the order rotates per round).
fn versus_redis_benchmark(
    addr: &str,
    client: &Client<Epoll>,
    rounds: usize,
    secs: Duration,
    server: Option<&str>,
) {
    Epoll::block_on(async { client.set(BENCH_KEY, VALUE).await.unwrap() });
    const NAMES: [&str; 3] = [
        "redis-benchmark -P 16 -c 50 -t get",
        "weft, 50 tasks on the shared connection",
        "weft, 50 connections",
    ];
    let mut runs: [Vec<Sample>; 3] = Default::default();
    // Sized so redis-benchmark runs about `secs`, from its last rate.
    let mut n = (1_000_000.0 * secs.as_secs_f64()) as u64;
    for round in 0..rounds {
        for k in 0..3 {
            let which = (round + k) % 3;
            let s = match which {
                0 => {
                    let s = measure(Duration::ZERO, server, || {
                        redis_benchmark_get(addr, n).unwrap_or(f64::NAN)
                    });
                    if s.rate.is_finite() {
                        n = ((s.rate * secs.as_secs_f64()) as u64).max(100_000);
                    }
                    // Its client CPU is another process's.
                    Sample { cpu: f64::NAN, ..s }
                }
                1 => measure(secs, server, || weft_get16(client, false, secs)),
                _ => measure(secs, server, || weft_get16(client, true, secs)),
            };
            eprintln!(
                "round {round} {:<42} {:>9.0}/s {:>5.0} ns/cmd (server {:>4.0}, {} cmds)",
                NAMES[which], s.rate, s.cpu, s.server, s.ops
            );
            runs[which].push(s);
        }
    }
    if runs[0].iter().all(|s| s.rate.is_nan()) {
        println!("\nredis-benchmark did not run (not installed?)");
        return;
    }
    println!(
        "\n| GET, 16-deep pipelines, 50 clients | cmd/s (median) | min-max | median of per-round ratios to redis-benchmark | ratio of medians | client CPU ns/cmd | server CPU ns/cmd |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|");
    let base = Stats::of(&runs[0]);
    for (which, name) in NAMES.iter().enumerate() {
        let st = Stats::of(&runs[which]);
        let mut paired: Vec<f64> = runs[which]
            .iter()
            .zip(&runs[0])
            .map(|(a, b)| a.rate / b.rate)
            .collect();
        println!(
            "| {name} | {:.0} | {:.0}-{:.0} | {:.2} | {:.2} | {:.0} | {:.0} |",
            st.rate,
            st.min,
            st.max,
            median(&mut paired),
            st.rate / base.rate,
            st.cpu,
            st.server
        );
    }
}
