//! Echo benchmark: weft's backends against a tokio echo server, same run.
//!
//! `cargo run --release -p weft-benches --features peers --bin echo -- [rounds] [secs]`
//!
//! Two cells per server: ping-pong (one connection, 64-byte round trips,
//! round trips/s) and throughput (64 connections, each doing 4 KiB round
//! trips, MiB/s). The client is the same blocking std client for every
//! server; servers run 2 workers. Cells are interleaved over the rounds and
//! the medians are printed with their ratio to tokio.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use weft::rt::{AsyncStream, Backend, BackendFn, BackendKind, ServeConfig};
use weft_benches::{median, rate};

const WORKERS: usize = 2;

async fn echo<S: AsyncStream>(s: S) {
    let _ = s.set_nodelay(true);
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        buf.clear();
        let (res, b) = s.read(buf).await;
        buf = b;
        match res {
            Ok(n) if n > 0 => {
                let (res, b) = s.write_all(buf).await;
                buf = b;
                if res.is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

struct StartWeft;

impl BackendFn for StartWeft {
    type Output = weft::rt::ServerHandle;
    fn call<B: Backend>(self) -> Self::Output {
        B::serve(
            ServeConfig::new("127.0.0.1:0".parse().unwrap()).workers(WORKERS),
            |s, _| echo(s),
        )
        .unwrap()
    }
}

fn start_tokio() -> (SocketAddr, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_io()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let _ = s.set_nodelay(true);
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match s.read(&mut buf).await {
                        Ok(n) if n > 0 => {
                            if s.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                        _ => return,
                    }
                }
            });
        }
    });
    (addr, rt)
}

fn round_trips(s: &mut TcpStream, msg: &[u8], buf: &mut [u8]) -> std::io::Result<()> {
    s.write_all(msg)?;
    s.read_exact(&mut buf[..msg.len()])
}

/// Round trips/s on one connection.
fn ping_pong(addr: SocketAddr, dur: Duration) -> f64 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let msg = [7u8; 64];
    let mut buf = [0u8; 64];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < dur {
        round_trips(&mut s, &msg, &mut buf).unwrap();
        n += 1;
    }
    rate(n, start.elapsed())
}

/// MiB/s echoed over 64 connections doing 4 KiB round trips.
fn throughput(addr: SocketAddr, dur: Duration) -> f64 {
    let bytes = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let bytes = bytes.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                let msg = vec![1u8; 4096];
                let mut buf = vec![0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    round_trips(&mut s, &msg, &mut buf).unwrap();
                    bytes.fetch_add(4096, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(dur);
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    for t in threads {
        t.join().unwrap();
    }
    bytes.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64() / (1024.0 * 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let secs: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let dur = Duration::from_secs_f64(secs);

    let mut servers: Vec<(String, SocketAddr)> = Vec::new();
    let mut handles = Vec::new();
    for kind in BackendKind::enabled() {
        let h = kind.dispatch(StartWeft);
        servers.push((format!("weft-{kind}"), h.local_addr()));
        handles.push(h);
    }
    let (tokio_addr, _tokio_rt) = start_tokio();
    servers.push(("tokio".into(), tokio_addr));

    let mut pp: Vec<Vec<f64>> = vec![Vec::new(); servers.len()];
    let mut tp: Vec<Vec<f64>> = vec![Vec::new(); servers.len()];
    for round in 0..rounds {
        for (i, (name, addr)) in servers.iter().enumerate() {
            let a = ping_pong(*addr, dur);
            let b = throughput(*addr, dur);
            eprintln!("round {round} {name}: ping-pong {a:.0} rt/s, 64-conn {b:.1} MiB/s");
            pp[i].push(a);
            tp[i].push(b);
        }
    }
    let tokio_i = servers.len() - 1;
    let tokio_pp = median(&mut pp[tokio_i].clone());
    let tokio_tp = median(&mut tp[tokio_i].clone());
    println!(
        "| server | ping-pong (round trips/s, median) | ratio vs tokio | 64 conns (MiB/s, median) | ratio vs tokio |"
    );
    println!("| --- | --- | --- | --- | --- |");
    for (i, (name, _)) in servers.iter().enumerate() {
        let a = median(&mut pp[i]);
        let b = median(&mut tp[i]);
        println!(
            "| {name} | {a:.0} | {:.2}x | {b:.1} | {:.2}x |",
            a / tokio_pp,
            b / tokio_tp
        );
    }
    for h in handles {
        h.shutdown(Duration::from_secs(1)).unwrap();
    }
}
