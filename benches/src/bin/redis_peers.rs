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
//!   pipelines (the shape of `redis-benchmark -P 16`, whose own figure is
//!   printed last as the near-limit reference);
//! - `cluster-pipeline-100`: 100 commands (50 SET, 50 GET) over keys
//!   spread across the cluster per batch. weft: one `Pipeline` on the
//!   `ClusterClient` (grouped per node, sent in parallel). redis-rs: its
//!   cluster-async pipelines must stay within one slot (a cross-slot pipe
//!   is refused), so its way to batch across the cluster is 100 commands
//!   issued at once on the multiplexed cluster connection (`join_all`).
//!
//! ```text
//! cargo run --release -p weft-benches --features peers --bin redis_peers -- [ROUNDS] [SECS] [CELL]
//! ```
//!
//! Servers from `WEFT_REDIS_ADDR` and `WEFT_REDIS_CLUSTER_NODES` (`cargo
//! xtask services up`); the cluster cell is skipped without the latter.
//!
//! Besides throughput, each cell reports the client's CPU time per command
//! (the whole process, user + system, from /proc/self/stat; both clients
//! run on this one thread): the server shares the machine, so on a small
//! one the client's CPU per command is what bounds the pipelines, and it
//! is less exposed than throughput to other load.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use weft::redis::{Client, ClusterClient, ClusterConfig, Commands, Frame, Pipeline};
use weft::rt::{Backend, Epoll, spawn};
use weft_benches::{median, min_max, rate};

const KEYS: usize = 1000;
const VALUE: &str = "0123456789abcdef";
const DEPTH: usize = 100;
/// Pipeline depth of each task in the `concurrent-50 x pipeline-16` cell,
/// as `redis-benchmark -P 16` (50 clients by default).
const SMALL_DEPTH: usize = 16;
const TASKS: usize = 50;

/// CPU time this process has used (all threads, user + system), from
/// /proc/self/stat (clock ticks, 100 per second on Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // After "pid (comm)": state is field 0, utime 11, stime 12.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Runs a cell: (commands per second, client CPU nanoseconds per command).
fn measure(secs: Duration, cell: impl FnOnce() -> f64) -> (f64, f64) {
    let cpu0 = cpu_time();
    let start = Instant::now();
    let rate = cell();
    let wall = start.elapsed().max(secs).as_secs_f64();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    (rate, cpu * 1e9 / (rate * wall))
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
                        let k = key(n as usize % KEYS);
                        if n % 2 == 0 {
                            client.set(&k, VALUE).await.unwrap();
                        } else {
                            let _: Option<bytes::Bytes> = client.get(&k).await.unwrap();
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
                                let k = key(n as usize % KEYS);
                                if n % 2 == 0 {
                                    client.set(&k, VALUE).await.unwrap();
                                } else {
                                    let _: Option<bytes::Bytes> = client.get(&k).await.unwrap();
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
        rate(ops, start.elapsed())
    })
}

/// The commands of a weft pipeline, for `query_batch`.
fn p_cmds(p: &Pipeline) -> &[weft::redis::Cmd] {
    p.commands()
}

/// Commands per second for one redis-rs cell of `secs`.
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
                        let k = key(n as usize % KEYS);
                        if n % 2 == 0 {
                            redis::cmd("SET")
                                .arg(&k)
                                .arg(VALUE)
                                .query_async::<()>(&mut con)
                                .await
                                .unwrap();
                        } else {
                            redis::cmd("GET")
                                .arg(&k)
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
                                let k = key(n as usize % KEYS);
                                if n % 2 == 0 {
                                    redis::cmd("SET")
                                        .arg(&k)
                                        .arg(VALUE)
                                        .query_async::<()>(&mut con)
                                        .await
                                        .unwrap();
                                } else {
                                    redis::cmd("GET")
                                        .arg(&k)
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
        rate(ops, start.elapsed())
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(5, |r| r.parse().unwrap());
    let secs = Duration::from_secs_f64(args.next().map_or(1.0, |s| s.parse().unwrap()));
    // Optional: only the cells whose name contains this.
    let only = args.next();
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
    if let Some(only) = &only {
        cells.retain(|c| c.name().contains(only.as_str()));
    }
    let mut weft_rates = vec![Vec::new(); cells.len()];
    let mut peer_rates = vec![Vec::new(); cells.len()];
    let mut weft_cpu = vec![Vec::new(); cells.len()];
    let mut peer_cpu = vec![Vec::new(); cells.len()];
    for round in 0..rounds {
        for (c, &cell) in cells.iter().enumerate() {
            let run_weft = || measure(secs, || weft_cell(cell, &client, cluster.as_ref(), secs));
            let run_peer = || {
                measure(secs, || {
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
                "round {round} {:<22} weft {:>10.0}/s {:>6.0} ns/cmd  redis-rs {:>10.0}/s {:>6.0} ns/cmd",
                cell.name(),
                w.0,
                w.1,
                p.0,
                p.1
            );
            weft_rates[c].push(w.0);
            peer_rates[c].push(p.0);
            weft_cpu[c].push(w.1);
            peer_cpu[c].push(p.1);
        }
    }
    println!(
        "| cell | weft (cmd/s, median) | redis-rs (cmd/s, median) | ratio of medians | median of per-round ratios | weft min-max | redis-rs min-max | client CPU ns/cmd weft | redis-rs | CPU ratio |"
    );
    println!("|---|---:|---:|---:|---:|---|---|---:|---:|---:|");
    for (c, &cell) in cells.iter().enumerate() {
        let (wl, wh) = min_max(&weft_rates[c]);
        let (pl, ph) = min_max(&peer_rates[c]);
        // Paired: each round's two runs are back to back, so their ratio
        // is less exposed to load that drifts between rounds.
        let mut paired: Vec<f64> = weft_rates[c]
            .iter()
            .zip(&peer_rates[c])
            .map(|(w, p)| w / p)
            .collect();
        let paired = median(&mut paired);
        let w = median(&mut weft_rates[c]);
        let p = median(&mut peer_rates[c]);
        let wc = median(&mut weft_cpu[c]);
        let pc = median(&mut peer_cpu[c]);
        println!(
            "| {} | {:.0} | {:.0} | {:.2}x | {:.2}x | {:.0}-{:.0} | {:.0}-{:.0} | {:.0} | {:.0} | {:.2}x |",
            cell.name(),
            w,
            p,
            w / p,
            paired,
            wl,
            wh,
            pl,
            ph,
            wc,
            pc,
            pc / wc
        );
    }
    if let Some(r) = redis_benchmark(&addr) {
        println!(
            "\nredis-benchmark -P {SMALL_DEPTH} (50 clients, SET and GET averaged): {r:.0} cmd/s"
        );
    }
}

/// `redis-benchmark -P 16 -t set,get` on the single server: the near-limit
/// reference (requests per second, SET and GET averaged).
fn redis_benchmark(addr: &str) -> Option<f64> {
    let (host, port) = addr.rsplit_once(':')?;
    let out = std::process::Command::new("redis-benchmark")
        .args(["-h", host, "-p", port, "-P", &SMALL_DEPTH.to_string()])
        .args(["-t", "set,get", "-n", "1000000", "-d", "16", "-q"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // Lines such as `SET: 123456.79 requests per second, p50=0.3 msec`;
    // progress output before them ends with `\r`.
    let rates: Vec<f64> = text
        .split(['\r', '\n'])
        .filter_map(|l| {
            let (_, rest) = l.split_once(": ")?;
            rest.split_once(" requests per second")?
                .0
                .trim()
                .parse()
                .ok()
        })
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
}
