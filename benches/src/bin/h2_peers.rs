//! HTTP/2 (h2c, prior knowledge): weft against hyper's HTTP/2 server,
//! loaded by h2load, in one run.
//!
//! ```sh
//! cargo run --release -p weft-benches --features peers --bin h2_peers -- [rounds] [secs]
//! ```
//!
//! Both servers run 2 workers in this process and answer `GET /small`
//! (`Hello, World!`) and `GET /64k` (65 536 octets), `text/plain`:
//!
//! - weft: `weft::http::Server` with its default HTTP/2 settings, on the
//!   epoll backend;
//! - hyper 1.x: `hyper::server::conn::http2` over `hyper-util`'s tokio I/O
//!   adapter, a tokio multi-thread runtime with 2 workers, its default
//!   HTTP/2 settings.
//!
//! h2load (the external binary, one thread) runs `-c 16 -m 32` for `secs`
//! seconds (after a 1 s warm-up) per cell; cells are interleaved over the
//! rounds (round, body size, server) and the medians of requests/s are
//! printed as a markdown table with weft's ratio to hyper, together with
//! the servers' CPU time per response (this process's user + system time
//! over the cell, only the server under load being busy then, divided by
//! the responses of the whole cell: h2load counts those of the measured
//! seconds, and the warm-up second's are estimated at the same rate) and
//! h2load's (its CPU time, from `RUSAGE_CHILDREN`, likewise). h2load
//! shares the machine's cores with the servers, so the CPU figures are the
//! steadier ones; with `WEFT_BENCH_SPLIT=1` each server runs one worker on
//! CPU 0 and h2load runs on CPU 1 (see `weft_benches::split_cores`); with
//! `WEFT_BENCH_SAME_CORE=1` both run on CPU 0.
//!
//! `h2_peers serve` starts both servers, prints their addresses and waits
//! (for `perf record -p`, or h2load by hand).

use std::net::SocketAddr;
use std::time::Duration;
use weft::http::{Request, Response, Router, Server};
use weft::rt::BackendKind;
use weft_benches::{cpu_time, median, min_max};

/// Workers per server: 2, or 1 in split-core or same-core mode.
fn workers() -> usize {
    weft_benches::server_workers(2)
}
const SMALL: &str = "Hello, World!";
const BIG: usize = 64 * 1024;
/// h2load's warm-up before each measured cell, in seconds.
const WARM_UP: u64 = 1;

fn big_body() -> bytes::Bytes {
    bytes::Bytes::from(vec![b'x'; BIG])
}

fn weft_router() -> Router {
    let big = big_body();
    Router::new()
        .get("/small", |_req: Request| async { SMALL })
        .get("/64k", move |_req: Request| {
            let big = big.clone();
            async move { Response::text(big) }
        })
}

mod hyper_server {
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::header::{CONTENT_TYPE, HeaderValue};
    use hyper::server::conn::http2;
    use hyper::service::service_fn;
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;
    use std::future::Future;
    use std::net::SocketAddr;

    /// Spawns hyper's HTTP/2 stream tasks on tokio.
    #[derive(Clone, Copy)]
    struct Exec;

    impl<F> hyper::rt::Executor<F> for Exec
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        fn execute(&self, fut: F) {
            tokio::spawn(fut);
        }
    }

    async fn handle(
        req: Request<hyper::body::Incoming>,
        big: Bytes,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let mut resp = match req.uri().path() {
            "/small" => Response::new(Full::new(Bytes::from_static(super::SMALL.as_bytes()))),
            "/64k" => Response::new(Full::new(big)),
            _ => {
                let mut r = Response::new(Full::new(Bytes::new()));
                *r.status_mut() = StatusCode::NOT_FOUND;
                r
            }
        };
        resp.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Ok(resp)
    }

    /// Starts the server; it runs until the runtime is dropped.
    pub fn start() -> (SocketAddr, tokio::runtime::Runtime) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(super::workers())
            .enable_io()
            .enable_time()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let big = super::big_body();
        rt.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let big = big.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(req, big.clone()));
                    let _ = http2::Builder::new(Exec)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (addr, rt)
    }
}

/// What one h2load run reported.
struct H2load {
    rps: f64,
    failed: u64,
    /// Responses with a 2xx status in the measured seconds (the warm-up's
    /// are not counted).
    ok: u64,
}

/// The one-minute load average (`/proc/loadavg`), for the log: other work
/// on the machine moves the figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split(' ').next().map(str::to_owned))
        .unwrap_or_default()
}

/// Runs h2load `-c 16 -m 32` for `secs` against `url`.
fn h2load(url: &str, args: &[&str]) -> Result<H2load, String> {
    let out = weft_benches::load_command("h2load")
        .args(args)
        .arg(url)
        .output()
        .map_err(|e| format!("h2load: {e} (apt-get install nghttp2-client)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("h2load failed: {text}"));
    }
    // "finished in 3.00s, 123456.78 req/s, 12.34MB/s"
    let rps = text
        .lines()
        .find(|l| l.starts_with("finished in"))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|v| v.strip_suffix(" req/s"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no rate in h2load output: {text}"))?;
    // "requests: N total, N started, N done, N succeeded, F failed, E errored, ..."
    let failed = text
        .lines()
        .find(|l| l.starts_with("requests:"))
        .and_then(|l| l.split(", ").find(|p| p.ends_with(" failed")))
        .and_then(|p| p.trim_end_matches(" failed").trim().parse().ok())
        .unwrap_or(0);
    // Every response must be a 2xx ("status codes: N 2xx, 0 3xx, 0 4xx,
    // 0 5xx"; N counts the measured seconds' responses, not the warm-up's).
    let codes = text
        .lines()
        .find(|l| l.starts_with("status codes:"))
        .unwrap_or("");
    if codes.starts_with("status codes: 0 2xx") || !codes.ends_with(", 0 3xx, 0 4xx, 0 5xx") {
        return Err(format!("non-2xx responses: {text}"));
    }
    let ok = codes
        .strip_prefix("status codes: ")
        .and_then(|c| c.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(H2load { rps, failed, ok })
}

fn main() {
    weft_benches::pin_servers();
    let mut args = std::env::args().skip(1);
    let rounds_arg = args.next();
    let rounds: usize = rounds_arg
        .as_deref()
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);

    let weft = Server::bind("127.0.0.1:0".parse().unwrap())
        .backend(BackendKind::Epoll)
        .workers(workers())
        .serve(weft_router())
        .unwrap();
    let (hyper_addr, hyper_rt) = hyper_server::start();
    if rounds_arg.as_deref() == Some("serve") {
        println!(
            "weft-epoll http://{}  hyper http://{hyper_addr}",
            weft.local_addr()
        );
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let servers: Vec<(&str, SocketAddr)> =
        vec![("weft-epoll", weft.local_addr()), ("hyper", hyper_addr)];
    let paths = ["/small", "/64k"];

    // Both answer correctly before anything is measured.
    for (name, addr) in &servers {
        for path in paths {
            let r = h2load(
                &format!("http://{addr}{path}"),
                &["-n", "64", "-c", "2", "-m", "8"],
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(r.failed, 0, "{name} {path}");
        }
    }

    let duration = secs.to_string();
    let warm_up = format!("--warm-up-time={WARM_UP}");
    let load = [
        "-t",
        "1",
        "-c",
        "16",
        "-m",
        "32",
        &warm_up,
        "-D",
        duration.as_str(),
    ];
    // results[path][server] = req/s samples; cpu likewise, in µs per response
    let mut results = vec![vec![Vec::new(); servers.len()]; paths.len()];
    let mut cpu = results.clone();
    let mut client_cpu = results.clone();
    for round in 0..rounds {
        for (p, path) in paths.iter().enumerate() {
            for (s, (name, addr)) in servers.iter().enumerate() {
                let (cpu0, client0) =
                    (cpu_time(libc::RUSAGE_SELF), cpu_time(libc::RUSAGE_CHILDREN));
                let r = h2load(&format!("http://{addr}{path}"), &load)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                // The cell's responses: the measured ones, and the warm-up
                // second's at the measured rate.
                let responses = r.ok.max(1) as f64 * (secs + WARM_UP) as f64 / secs.max(1) as f64;
                let per = |d: Duration| d.as_secs_f64() * 1e6 / responses;
                let us = per(cpu_time(libc::RUSAGE_SELF) - cpu0);
                let client = per(cpu_time(libc::RUSAGE_CHILDREN) - client0);
                eprintln!(
                    "round {round} {path} {name}: {:.0} req/s, server {us:.2} us CPU/response, \
                     h2load {client:.2}, load average {}{}",
                    r.rps,
                    load_average(),
                    if r.failed > 0 {
                        format!(", {} failed", r.failed)
                    } else {
                        String::new()
                    }
                );
                results[p][s].push(r.rps);
                cpu[p][s].push(us);
                client_cpu[p][s].push(client);
            }
        }
    }

    // Per round, weft's rate over hyper's in the same round (the two cells
    // run back to back, so they saw about the same load).
    for (p, path) in paths.iter().enumerate() {
        let mut paired: Vec<f64> = (0..rounds)
            .map(|r| results[p][0][r] / results[p][1][r])
            .collect();
        let (lo, hi) = min_max(&paired);
        eprintln!(
            "GET {path}: weft/hyper per round: median {:.2}x, min-max {lo:.2}-{hi:.2}",
            median(&mut paired)
        );
    }
    println!(
        "| h2load -c 16 -m 32 | server | req/s (median) | min-max | vs hyper \
         | server CPU us/response (median) | min-max | h2load CPU us/response (median) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (p, path) in paths.iter().enumerate() {
        let hyper = median(&mut results[p][1].clone());
        for (s, (name, _)) in servers.iter().enumerate() {
            let m = median(&mut results[p][s].clone());
            let (lo, hi) = min_max(&results[p][s]);
            let ratio = if s == 0 {
                format!("{:.2}x", m / hyper)
            } else {
                "-".into()
            };
            let c = median(&mut cpu[p][s].clone());
            let (clo, chi) = min_max(&cpu[p][s]);
            let h = median(&mut client_cpu[p][s].clone());
            println!(
                "| GET {path} | {name} | {m:.0} | {lo:.0}-{hi:.0} | {ratio} | {c:.2} | {clo:.2}-{chi:.2} | {h:.2} |"
            );
        }
    }

    weft.shutdown(Duration::from_secs(1)).unwrap();
    drop(hyper_rt);
}
