//! `weft-demo`: the demo server (`cargo xtask demo` builds and runs it).
//!
//! ```text
//! weft-demo [--addr 127.0.0.1:8080] [--backend epoll|uring|std] [--workers N]
//! ```
//!
//! Ctrl-C (SIGINT) or SIGTERM shuts it down gracefully.

use std::net::SocketAddr;
use std::time::Duration;

use weft::http::Server;
use weft::rt::BackendKind;

struct Options {
    addr: SocketAddr,
    backend: BackendKind,
    workers: usize,
}

const USAGE: &str =
    "usage: weft-demo [--addr 127.0.0.1:8080] [--backend epoll|uring|std] [--workers N]";

fn parse() -> Result<Options, String> {
    let mut options = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
        backend: BackendKind::enabled()[0],
        workers: weft::rt::available_cores(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--addr" => options.addr = value.parse().map_err(|e| format!("--addr: {e}"))?,
            "--backend" => options.backend = value.parse()?,
            "--workers" => {
                options.workers = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--workers needs a positive number")?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
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
    let options = parse().unwrap_or_else(|e| {
        eprintln!("weft-demo: {e}\n{USAGE}");
        std::process::exit(2);
    });
    let set = block_signals();
    let server = Server::bind(options.addr)
        .backend(options.backend)
        .workers(options.workers)
        .serve(weft_demo::app::router())
        .unwrap_or_else(|e| {
            eprintln!("weft-demo: cannot listen on {}: {e}", options.addr);
            std::process::exit(1);
        });
    let a = server.local_addr();
    println!(
        "weft demo on http://{a} (backend {}, {} workers)",
        options.backend, options.workers
    );
    for path in ["/plaintext", "/json"] {
        println!("  curl http://{a}{path}");
    }
    println!("Ctrl-C stops it.");
    let mut sig: libc::c_int = 0;
    // SAFETY: `set` is an initialised signal set; sigwait writes the signal
    // number into `sig`.
    unsafe { libc::sigwait(&set, &mut sig) };
    println!("weft demo: signal {sig}, shutting down");
    if let Err(e) = server.shutdown(Duration::from_secs(5)) {
        eprintln!("weft-demo: shutdown: {e}");
        std::process::exit(1);
    }
}
