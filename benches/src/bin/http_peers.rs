//! HTTP/1.1 plaintext: weft (epoll and std backends) against hyper and
//! actix-web, loaded by wrk, in one run.
//!
//! ```sh
//! cargo run --release -p weft-benches --features peers --bin http_peers -- [rounds] [secs]
//! ```
//!
//! Every server runs 2 workers in this process and answers
//! `GET /plaintext` with `Hello, World!` (`text/plain`), keep-alive:
//!
//! - weft: the demo's route on `weft::http::Server`, one run per backend
//!   (epoll, io_uring, std);
//! - hyper 1.x: `hyper::server::conn::http1` over `hyper-util`'s tokio I/O
//!   adapter, a tokio multi-thread runtime with 2 workers, keep-alive and
//!   `pipeline_flush` (its fastest pipelining setting) on;
//! - actix-web 4: `HttpServer` with 2 workers.
//!
//! wrk (the external binary) loads each in three cells: `-t1 -c1` (latency
//! bound), `-t2 -c64`, and `-t2 -c64` with a Lua script pipelining 16
//! requests per write. Cells are interleaved over the rounds (round, cell,
//! server) and the medians of Requests/sec and p99 latency are printed as a
//! markdown table with weft's ratios to hyper and actix-web. wrk shares the
//! machine's cores with the servers; with `WEFT_BENCH_SPLIT=1` each
//! server runs one worker on CPU 0 and wrk runs on CPU 1 (see
//! `weft_benches::split_cores`); with `WEFT_BENCH_SAME_CORE=1` the
//! servers (one worker each) and wrk all run on CPU 0.
//!
//! `http_peers serve weft|weft-uring|weft-std|hyper|actix PORT [WORKERS]`
//! instead serves one
//! of them on `127.0.0.1:PORT` until killed, for profilers (callgrind's
//! instructions per request, `perf stat`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;
use weft::http::{Request, Router, Server};
use weft::rt::BackendKind;
use weft_benches::{cpu_time, median, min_max, wrk};

/// Workers per server: 2, or 1 in split-core or same-core mode.
fn workers() -> usize {
    weft_benches::server_workers(2)
}
const BODY: &str = "Hello, World!";
const PIPELINE: usize = 16;

/// The demo's plaintext route.
fn weft_router() -> Router {
    Router::new().get("/plaintext", |_req: Request| async { BODY })
}

mod hyper_server {
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::header::{CONTENT_TYPE, HeaderValue};
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;
    use std::net::SocketAddr;

    async fn plaintext(
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let mut resp = if req.uri().path() == "/plaintext" {
            Response::new(Full::new(Bytes::from_static(super::BODY.as_bytes())))
        } else {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        };
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        Ok(resp)
    }

    /// Starts the server; it runs until the runtime is dropped.
    pub fn start() -> (SocketAddr, tokio::runtime::Runtime) {
        start_on(([127, 0, 0, 1], 0).into(), super::workers())
    }

    /// [`start`] on `addr` with `workers` runtime threads.
    pub fn start_on(addr: SocketAddr, workers: usize) -> (SocketAddr, tokio::runtime::Runtime) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_io()
            .enable_time()
            .build()
            .unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind(addr)).unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .pipeline_flush(true)
                        .serve_connection(TokioIo::new(stream), service_fn(plaintext))
                        .await;
                });
            }
        });
        (addr, rt)
    }
}

mod actix_server {
    use actix_web::{App, HttpResponse, HttpServer, web};
    use std::net::SocketAddr;

    async fn plaintext() -> HttpResponse {
        HttpResponse::Ok()
            .content_type("text/plain")
            .body(super::BODY)
    }

    /// Starts the server on its own thread (an actix `System`).
    pub fn start() -> (SocketAddr, actix_web::dev::ServerHandle) {
        start_on(([127, 0, 0, 1], 0).into(), super::workers())
    }

    /// [`start`] on `addr` with `workers` workers.
    pub fn start_on(
        addr: SocketAddr,
        workers: usize,
    ) -> (SocketAddr, actix_web::dev::ServerHandle) {
        let listener = std::net::TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server =
                    HttpServer::new(|| App::new().route("/plaintext", web::get().to(plaintext)))
                        .workers(workers)
                        .disable_signals()
                        .listen(listener)
                        .unwrap()
                        .run();
                tx.send(server.handle()).unwrap();
                let _ = server.await;
            });
        });
        (addr, rx.recv().unwrap())
    }
}

/// One `GET /plaintext`: checks the server answers 200 with the body.
fn check(name: &str, addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    while !got.ends_with(BODY.as_bytes()) {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "{name} closed the connection: {got:?}");
        got.extend_from_slice(&chunk[..n]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{name}: {}",
        String::from_utf8_lossy(&got)
    );
}

struct Cell {
    name: &'static str,
    threads: usize,
    connections: usize,
    script: Option<PathBuf>,
}

/// `serve NAME PORT [WORKERS]`: one server until the process is killed.
fn serve_one(mut args: impl Iterator<Item = String>) {
    let name = args.next().unwrap_or_default();
    let port: u16 = args.next().and_then(|a| a.parse().ok()).unwrap_or(8090);
    let workers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let (bound, _keep): (SocketAddr, Box<dyn std::any::Any>) = match name.as_str() {
        "weft" | "weft-uring" | "weft-std" => {
            let kind = match name.as_str() {
                "weft-uring" => BackendKind::Uring,
                "weft-std" => BackendKind::Std,
                _ => BackendKind::Epoll,
            };
            let s = Server::bind(addr)
                .backend(kind)
                .workers(workers)
                .serve(weft_router())
                .unwrap();
            (s.local_addr(), Box::new(s))
        }
        "hyper" => {
            let (a, rt) = hyper_server::start_on(addr, workers);
            (a, Box::new(rt))
        }
        "actix" => {
            let (a, h) = actix_server::start_on(addr, workers);
            (a, Box::new(h))
        }
        other => panic!("serve weft|weft-uring|weft-std|hyper|actix PORT [WORKERS], not {other:?}"),
    };
    eprintln!("{name} on http://{bound}/plaintext with {workers} workers");
    loop {
        std::thread::park();
    }
}

fn main() {
    weft_benches::pin_servers();
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("serve") {
        args.next();
        return serve_one(args);
    }
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let secs: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3.0);
    let dur = Duration::from_secs_f64(secs);

    let script = std::env::temp_dir().join(format!("weft-pipeline-{}.lua", std::process::id()));
    std::fs::write(&script, wrk::pipeline_script(PIPELINE, "/plaintext")).unwrap();
    let cells = [
        Cell {
            name: "-t1 -c1",
            threads: 1,
            connections: 1,
            script: None,
        },
        Cell {
            name: "-t2 -c64",
            threads: 2,
            connections: 64,
            script: None,
        },
        Cell {
            name: "-t2 -c64, pipelined x16",
            threads: 2,
            connections: 64,
            script: Some(script.clone()),
        },
    ];

    let mut servers: Vec<(String, SocketAddr)> = Vec::new();
    let mut weft_servers = Vec::new();
    for kind in [BackendKind::Epoll, BackendKind::Uring, BackendKind::Std] {
        let s = Server::bind("127.0.0.1:0".parse().unwrap())
            .backend(kind)
            .workers(workers())
            .serve(weft_router())
            .unwrap();
        servers.push((format!("weft-{kind}"), s.local_addr()));
        weft_servers.push(s);
    }
    let (hyper_addr, hyper_rt) = hyper_server::start();
    servers.push(("hyper".into(), hyper_addr));
    let (actix_addr, actix_handle) = actix_server::start();
    servers.push(("actix-web".into(), actix_addr));
    for (name, addr) in &servers {
        check(name, *addr);
    }

    // results[cell][server] = (req/s, p99, server CPU us/request, wrk CPU
    // us/request) samples
    type Samples = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
    let mut results: Vec<Vec<Samples>> = vec![vec![Default::default(); servers.len()]; cells.len()];
    for round in 0..rounds {
        for (c, cell) in cells.iter().enumerate() {
            for (s, (name, addr)) in servers.iter().enumerate() {
                let url = format!("http://{addr}/plaintext");
                let (server0, wrk0) =
                    (cpu_time(libc::RUSAGE_SELF), cpu_time(libc::RUSAGE_CHILDREN));
                let r = wrk::run(
                    &url,
                    cell.threads,
                    cell.connections,
                    dur,
                    cell.script.as_deref(),
                )
                .unwrap_or_else(|e| panic!("wrk against {name}: {e}"));
                eprintln!(
                    "round {round} [{}] {name}: {:.0} req/s, p99 {:.0} us{}",
                    cell.name,
                    r.requests_per_sec,
                    r.p99_us,
                    if r.errors > 0 {
                        format!(", {} errors", r.errors)
                    } else {
                        String::new()
                    }
                );
                // Microseconds of CPU per request, server and wrk.
                let requests = r.requests_per_sec * dur.as_secs_f64();
                let per = |d: Duration| d.as_secs_f64() * 1e6 / requests.max(1.0);
                results[c][s].0.push(r.requests_per_sec);
                results[c][s].1.push(r.p99_us);
                results[c][s]
                    .2
                    .push(per(cpu_time(libc::RUSAGE_SELF) - server0));
                results[c][s]
                    .3
                    .push(per(cpu_time(libc::RUSAGE_CHILDREN) - wrk0));
            }
        }
    }
    let _ = std::fs::remove_file(&script);

    let peer = |name: &str| servers.iter().position(|(n, _)| n == name).unwrap();
    let (hyper_i, actix_i) = (peer("hyper"), peer("actix-web"));
    println!(
        "| wrk | server | Requests/sec (median) | req/s min-max | p99 latency (median) | req/s vs hyper | req/s vs actix-web | server CPU us/req (median) | hyper's / this CPU | wrk CPU us/req |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (c, cell) in cells.iter().enumerate() {
        let rps: Vec<f64> = results[c]
            .iter()
            .map(|r| median(&mut r.0.clone()))
            .collect();
        let cpu: Vec<f64> = results[c]
            .iter()
            .map(|r| median(&mut r.2.clone()))
            .collect();
        for (s, (name, _)) in servers.iter().enumerate() {
            let p99 = median(&mut results[c][s].1.clone());
            let wrk_cpu = median(&mut results[c][s].3.clone());
            let (lo, hi) = min_max(&results[c][s].0);
            let ratios = if name.starts_with("weft") {
                format!(
                    "{:.2}x | {:.2}x",
                    rps[s] / rps[hyper_i],
                    rps[s] / rps[actix_i]
                )
            } else {
                "- | -".to_string()
            };
            println!(
                "| {} | {name} | {:.0} | {lo:.0}-{hi:.0} | {} | {ratios} | {:.2} | {:.2}x | {wrk_cpu:.2} |",
                cell.name,
                rps[s],
                format_us(p99),
                cpu[s],
                cpu[hyper_i] / cpu[s],
            );
        }
    }

    for s in weft_servers {
        s.shutdown(Duration::from_secs(1)).unwrap();
    }
    actix_web::rt::System::new().block_on(actix_handle.stop(false));
    drop(hyper_rt);
}

/// `812 us` or `1.25 ms`.
fn format_us(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} us")
    } else {
        format!("{:.2} ms", us / 1000.0)
    }
}
