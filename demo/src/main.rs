//! `weft-demo`: the demo server (`cargo xtask demo` builds and runs it).
//!
//! ```text
//! weft-demo [--addr 127.0.0.1:8080] [--backend epoll|uring|std] [--workers N]
//!           [--pg DSN] [--redis URL] [--memcached HOST:PORT,...]
//! ```
//!
//! The services default to what `cargo xtask services env` exports (see
//! `Services::from_env` in the library).
//!
//! Ctrl-C (SIGINT) or SIGTERM shuts it down gracefully.

use std::net::SocketAddr;
use std::time::Duration;

use weft::http::{RunningServer, Server};
use weft::rt::{Backend, BackendFn, BackendKind};
use weft_demo::app::{self, Drivers, Services};

struct Options {
    addr: SocketAddr,
    backend: BackendKind,
    workers: usize,
    services: Services,
}

const USAGE: &str = "usage: weft-demo [--addr 127.0.0.1:8080] [--backend epoll|uring|std] \
                     [--workers N] [--pg DSN] [--redis URL] [--memcached HOST:PORT,...]";

fn parse() -> Result<Options, String> {
    let mut options = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
        backend: BackendKind::enabled()[0],
        workers: weft::rt::available_cores(),
        services: Services::from_env(),
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
            "--pg" => options.services.pg = value,
            "--redis" => options.services.redis = value,
            "--memcached" => options.services.memcached = value,
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

/// Starts the server on backend `B`, with drivers on the same backend.
struct Start<'a>(&'a Options);

impl BackendFn for Start<'_> {
    type Output = Result<RunningServer, String>;

    fn call<B: Backend>(self) -> Self::Output {
        let o = self.0;
        let drivers = Drivers::<B>::new(&o.services).map_err(|e| e.to_string())?;
        Server::bind(o.addr)
            .backend(o.backend)
            .workers(o.workers)
            .serve(app::router(drivers))
            .map_err(|e| format!("cannot listen on {}: {e}", o.addr))
    }
}

fn main() {
    let options = parse().unwrap_or_else(|e| {
        eprintln!("weft-demo: {e}\n{USAGE}");
        std::process::exit(2);
    });
    let set = block_signals();
    let server = options
        .backend
        .dispatch(Start(&options))
        .unwrap_or_else(|e| {
            eprintln!("weft-demo: {e}");
            std::process::exit(1);
        });
    let a = server.local_addr();
    println!(
        "weft demo on http://{a} (backend {}, {} workers)",
        options.backend, options.workers
    );
    for path in [
        "/plaintext",
        "/json",
        "/db",
        "/queries?q=20",
        "/updates?q=20",
        "/fortunes",
        "/cache/42",
        "/mc/42",
    ] {
        println!("  curl http://{a}{path}");
    }
    println!("  curl --http2 http://{a}/json             (h2c upgrade)");
    println!("  curl --http2-prior-knowledge http://{a}/db");
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
