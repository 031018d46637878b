//! The demo server (`cargo xtask demo`).
//!
//! Serves on `--addr` (default 127.0.0.1:8080) with one worker per core on
//! the backend named by `--backend` (epoll, uring, std):
//!
//! - `GET /` and `GET /plaintext`: `Hello, World!`
//! - `GET /json`: `{"message":"Hello, World!"}` (TechEmpower shape)
//! - `POST /echo`: answers with the request body
//!
//! Still to come (issue 11): `/db`, `/queries`, `/updates`, `/fortunes`,
//! `/cache/:key`, `/mc/:key` over the PostgreSQL, Redis and memcached
//! drivers, and HTTP/2 (issue 4). Ctrl-C (SIGINT) or SIGTERM shuts down
//! gracefully.

use std::net::SocketAddr;
use std::time::Duration;
use weft::http::{Request, Response, Router, Server};
use weft::rt::BackendKind;

struct Options {
    addr: SocketAddr,
    backend: BackendKind,
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:8080".parse().expect("valid"),
        backend: BackendKind::Epoll,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--addr" => options.addr = value.parse().map_err(|e| format!("--addr: {e}"))?,
            "--backend" => options.backend = value.parse()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

/// Writes `{"message":"<msg>"}`, escaping as JSON requires (RFC 8259 §7).
fn json_message(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len() + 16);
    out.push_str("{\"message\":\"");
    for c in msg.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push_str("\"}");
    out
}

fn router() -> Router {
    Router::new()
        .get("/", |_req: Request| async { "Hello, World!" })
        .get("/plaintext", |_req: Request| async { "Hello, World!" })
        .get("/json", |_req: Request| async {
            Response::json(json_message("Hello, World!"))
        })
        .post("/echo", |req: Request| async move {
            Response::status(weft::http::StatusCode::OK)
                .content_type("application/octet-stream")
                .body(req.into_body())
        })
}

/// Blocks SIGINT and SIGTERM in every thread (workers inherit the mask) and
/// returns the set to wait on.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; the calls only read and write it and
    // this thread's signal mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn main() {
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("demo: {e}\nusage: demo [--addr 127.0.0.1:8080] [--backend epoll|uring|std]");
            std::process::exit(2);
        }
    };
    let set = block_signals();
    let server = match Server::bind(options.addr)
        .backend(options.backend)
        .serve(router())
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("demo: cannot listen on {}: {e}", options.addr);
            std::process::exit(1);
        }
    };
    let a = server.local_addr();
    println!(
        "weft demo: HTTP/1.1 on http://{a} (backend {}, {} workers)",
        options.backend,
        weft::rt::available_cores()
    );
    println!("  curl http://{a}/plaintext");
    println!("  curl http://{a}/json");
    println!("  curl --data-binary hello http://{a}/echo");
    println!(
        "  still to come: HTTP/2 (h2c) and /db /queries /updates /fortunes /cache/:key /mc/:key"
    );
    println!("Ctrl-C stops it.");
    let mut sig: libc::c_int = 0;
    // SAFETY: `set` is an initialised signal set; sigwait writes the signal
    // number into `sig`.
    unsafe { libc::sigwait(&set, &mut sig) };
    println!("weft demo: signal {sig}, shutting down");
    if let Err(e) = server.shutdown(Duration::from_secs(5)) {
        eprintln!("demo: shutdown: {e}");
        std::process::exit(1);
    }
}
