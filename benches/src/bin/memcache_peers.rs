//! memcached driver benchmark: weft's `memcache::Client` against the
//! `memcache` crate (0.18, synchronous, r2d2-pooled), same server, same run.
//!
//! `cargo run --release -p weft-benches --features peers --bin memcache_peers -- [addr] [rounds] [secs] [seq|multi|conc]`
//!
//! `addr` defaults to the first of `WEFT_MEMCACHED_ADDRS`, else
//! 127.0.0.1:11211. Workloads (100-byte values):
//!
//! - `seq set+get`: one caller, `set` then `get` of the same key, round
//!   trips one at a time (ops/s, a set or a get each);
//! - `multi-get 100`: one caller, 100-key multi-gets of stored keys
//!   (multi-gets/s);
//! - `50 tasks`: 50 concurrent callers each doing `set`+`get`. weft: 50
//!   tasks on one worker sharing the client (pipelined on its one
//!   connection). `memcache`: 50 threads sharing a `Client` with a pool of
//!   50 connections (the crate is blocking, so concurrency means threads;
//!   one connection each, no pipelining).
//!
//! `WEFT_MC_PROTOCOLS=text,meta` keeps only the weft flavours named.
//!
//! Each weft flavour (text, meta, binary) is compared with the `memcache`
//! crate speaking the same wire protocol (meta against its ASCII
//! protocol, the nearest). Cells are interleaved over the rounds; medians
//! and the ratio weft / memcache are printed, as a markdown table, with
//! the client's CPU time per operation (all threads, from /proc/self/stat;
//! less sensitive than throughput to other load on a shared machine; ratio
//! memcache / weft, higher is better for weft).

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use weft::memcache::{Client, Config, Protocol, StoreOptions};
use weft::rt::{Backend, Epoll, spawn};
use weft_benches::{median, min_max, rate};

const VALUE: [u8; 100] = [b'v'; 100];
const TASKS: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Work {
    Seq,
    Multi,
    Concurrent,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Peer {
    Ascii,
    Binary,
}

/// CPU time this process has used (all threads, user + system).
fn cpu_time() -> Duration {
    weft_benches::cpu_time(libc::RUSAGE_SELF)
}

/// Runs `cell` and returns (operations per second, client CPU microseconds
/// per operation).
fn measure(cell: impl FnOnce() -> (f64, f64)) -> (f64, f64) {
    let cpu0 = cpu_time();
    let (rate, secs) = cell();
    let cpu = (cpu_time() - cpu0).as_secs_f64();
    (rate, cpu * 1e6 / (rate * secs))
}

fn weft_client(addr: &str, p: Protocol) -> Client<Epoll> {
    let cfg = Config::from_addrs(addr).unwrap().protocol(p);
    Client::with_backend(cfg).unwrap()
}

fn multi_keys() -> Vec<String> {
    (0..100).map(|i| format!("bench:multi:{i}")).collect()
}

/// Runs one weft cell for `secs`: operations per second.
fn weft_cell(client: &Client<Epoll>, work: Work, secs: Duration) -> (f64, f64) {
    Epoll::block_on(async {
        let opts = StoreOptions::default();
        // Warm up: connect outside the clock.
        client.set("bench:warm", VALUE, opts).await.unwrap();
        match work {
            Work::Seq => {
                let start = Instant::now();
                let mut ops = 0u64;
                while start.elapsed() < secs {
                    for i in 0..100 {
                        let k = format!("bench:seq:{i}");
                        client.set(&k, VALUE, opts).await.unwrap();
                        let v = client.get(&k).await.unwrap();
                        assert!(v.is_some());
                    }
                    ops += 200;
                }
                let e = start.elapsed();
                (rate(ops, e), e.as_secs_f64())
            }
            Work::Multi => {
                let keys = multi_keys();
                let start = Instant::now();
                let mut ops = 0u64;
                while start.elapsed() < secs {
                    for _ in 0..10 {
                        let got = client.get_multi(&keys).await.unwrap();
                        assert_eq!(got.len(), 100);
                    }
                    ops += 10;
                }
                let e = start.elapsed();
                (rate(ops, e), e.as_secs_f64())
            }
            Work::Concurrent => {
                let ops = Rc::new(std::cell::Cell::new(0u64));
                let stop = Rc::new(std::cell::Cell::new(false));
                let start = Instant::now();
                let mut tasks = Vec::new();
                for t in 0..TASKS {
                    let (client, ops, stop) = (client.clone(), ops.clone(), stop.clone());
                    tasks.push(spawn(async move {
                        let k = format!("bench:conc:{t}");
                        while !stop.get() {
                            client
                                .set(&k, VALUE, StoreOptions::default())
                                .await
                                .unwrap();
                            assert!(client.get(&k).await.unwrap().is_some());
                            ops.set(ops.get() + 2);
                        }
                    }));
                }
                weft::rt::time::sleep(secs).await;
                stop.set(true);
                let elapsed = start.elapsed();
                let done = ops.get();
                for t in tasks {
                    t.await.unwrap();
                }
                (rate(done, elapsed), elapsed.as_secs_f64())
            }
        }
    })
}

fn peer_client(addr: &str, p: Peer, pool: u32) -> memcache::Client {
    let proto = match p {
        Peer::Ascii => "&protocol=ascii",
        Peer::Binary => "",
    };
    let url = format!("memcache://{addr}?tcp_nodelay=true{proto}");
    memcache::Client::with_pool_size(url.as_str(), pool).unwrap()
}

/// Runs one `memcache` crate cell for `secs`: operations per second.
fn peer_cell(client: &memcache::Client, work: Work, secs: Duration) -> (f64, f64) {
    client.set("bench:warm", &VALUE[..], 0).unwrap();
    match work {
        Work::Seq => {
            let start = Instant::now();
            let mut ops = 0u64;
            while start.elapsed() < secs {
                for i in 0..100 {
                    let k = format!("bench:seq:{i}");
                    client.set(&k, &VALUE[..], 0).unwrap();
                    let v: Option<Vec<u8>> = client.get(&k).unwrap();
                    assert!(v.is_some());
                }
                ops += 200;
            }
            let e = start.elapsed();
            (rate(ops, e), e.as_secs_f64())
        }
        Work::Multi => {
            let keys = multi_keys();
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let start = Instant::now();
            let mut ops = 0u64;
            while start.elapsed() < secs {
                for _ in 0..10 {
                    let got: std::collections::HashMap<String, Vec<u8>> =
                        client.gets(&refs).unwrap();
                    assert_eq!(got.len(), 100);
                }
                ops += 10;
            }
            let e = start.elapsed();
            (rate(ops, e), e.as_secs_f64())
        }
        Work::Concurrent => {
            let ops = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let start = Instant::now();
            std::thread::scope(|s| {
                for t in 0..TASKS {
                    let (ops, stop) = (ops.clone(), stop.clone());
                    s.spawn(move || {
                        let k = format!("bench:conc:{t}");
                        while !stop.load(Ordering::Relaxed) {
                            client.set(&k, &VALUE[..], 0).unwrap();
                            let v: Option<Vec<u8>> = client.get(&k).unwrap();
                            assert!(v.is_some());
                            ops.fetch_add(2, Ordering::Relaxed);
                        }
                    });
                }
                std::thread::sleep(secs);
                stop.store(true, Ordering::Relaxed);
            });
            // Counted up to the stop; the few ops finishing after it are
            // counted too, over the time they took.
            let e = start.elapsed();
            (rate(ops.load(Ordering::Relaxed), e), e.as_secs_f64())
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| {
        std::env::var("WEFT_MEMCACHED_ADDRS")
            .ok()
            .and_then(|a| a.split(',').next().map(str::to_owned))
            .unwrap_or_else(|| "127.0.0.1:11211".into())
    });
    let rounds: usize = args.next().map_or(5, |r| r.parse().unwrap());
    let secs = Duration::from_secs_f64(args.next().map_or(1.0, |s| s.parse().unwrap()));
    // Optional: only the workloads whose name starts with this (seq, multi,
    // conc), and only the weft protocols named in WEFT_MC_PROTOCOLS.
    let only = args.next().unwrap_or_default();

    let protocols = std::env::var("WEFT_MC_PROTOCOLS").unwrap_or_default();
    let pairs: Vec<(Protocol, Peer)> = [
        (Protocol::Text, Peer::Ascii),
        (Protocol::Meta, Peer::Ascii),
        (Protocol::Binary, Peer::Binary),
    ]
    .into_iter()
    .filter(|(p, _)| {
        protocols.is_empty()
            || protocols
                .split(',')
                .any(|n| n.trim().eq_ignore_ascii_case(&format!("{p:?}")))
    })
    .collect();
    let weft: Vec<Client<Epoll>> = pairs.iter().map(|&(p, _)| weft_client(&addr, p)).collect();
    let peers_seq: Vec<memcache::Client> = [Peer::Ascii, Peer::Binary]
        .iter()
        .map(|&p| peer_client(&addr, p, 1))
        .collect();
    let peers_conc: Vec<memcache::Client> = [Peer::Ascii, Peer::Binary]
        .iter()
        .map(|&p| peer_client(&addr, p, TASKS as u32))
        .collect();
    let peer_idx = |p: Peer| if p == Peer::Ascii { 0 } else { 1 };

    // Stored keys for the multi-get.
    for k in multi_keys() {
        peers_seq[0].set(&k, &VALUE[..], 0).unwrap();
    }

    let works: Vec<Work> = [Work::Seq, Work::Multi, Work::Concurrent]
        .into_iter()
        .filter(|w| format!("{w:?}").to_lowercase().starts_with(&only))
        .collect();
    // samples[work][pair] = (weft rate, peer rate, weft cpu/op, peer cpu/op)
    let mut samples =
        vec![vec![(Vec::new(), Vec::new(), Vec::new(), Vec::new()); pairs.len()]; works.len()];
    for round in 0..rounds {
        for (w, &work) in works.iter().enumerate() {
            for (i, &(_, peer)) in pairs.iter().enumerate() {
                let peer_client = if work == Work::Concurrent {
                    &peers_conc[peer_idx(peer)]
                } else {
                    &peers_seq[peer_idx(peer)]
                };
                let run_weft = || measure(|| weft_cell(&weft[i], work, secs));
                let run_peer = || measure(|| peer_cell(peer_client, work, secs));
                // Alternate which side goes first, round by round.
                let (a, b) = if round % 2 == 0 {
                    let a = run_weft();
                    (a, run_peer())
                } else {
                    let b = run_peer();
                    (run_weft(), b)
                };
                let s = &mut samples[w][i];
                s.0.push(a.0);
                s.1.push(b.0);
                s.2.push(a.1);
                s.3.push(b.1);
            }
        }
        eprintln!("round {} of {rounds} done", round + 1);
    }

    println!("memcached at {addr}, {rounds} rounds of {secs:?} per cell, medians (min-max)\n");
    println!(
        "| workload | weft vs memcache protocol | weft | memcache crate | ratio | client CPU us/op weft | memcache | ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (w, &work) in works.iter().enumerate() {
        for (i, &(p, peer)) in pairs.iter().enumerate() {
            let (a, b, ca, cb) = &mut samples[w][i];
            let (alo, ahi) = min_max(a);
            let (blo, bhi) = min_max(b);
            let (ma, mb) = (median(a), median(b));
            let (mca, mcb) = (median(ca), median(cb));
            let name = match work {
                Work::Seq => "seq set+get (ops/s)",
                Work::Multi => "multi-get 100 keys (calls/s)",
                Work::Concurrent => "50 concurrent set+get (ops/s)",
            };
            println!(
                "| {name} | {p:?} vs {peer:?} | {ma:.0} ({alo:.0}-{ahi:.0}) | {mb:.0} ({blo:.0}-{bhi:.0}) | {:.2}x | {mca:.2} | {mcb:.2} | {:.2}x |",
                ma / mb,
                mcb / mca
            );
        }
    }
}
