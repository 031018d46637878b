//! The demo server (`cargo xtask demo`).
//!
//! Today it serves a TCP echo on `--addr` with one worker per core on the
//! backend named by `--backend`; the HTTP routes (`/plaintext`, `/json`,
//! `/db`, `/queries`, `/updates`, `/fortunes`, `/cache/:key`, `/mc/:key`) are
//! still to come with the HTTP server and the drivers. Ctrl-C (SIGINT) or
//! SIGTERM shuts it down gracefully.

use std::net::SocketAddr;
use std::time::Duration;
use weft::rt::{AsyncStream, Backend, BackendFn, BackendKind, ServeConfig, ServerHandle};

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

async fn echo<S: AsyncStream>(stream: S) {
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        buf.clear();
        let (res, b) = stream.read(buf).await;
        buf = b;
        match res {
            Ok(n) if n > 0 => {
                let (res, b) = stream.write_all(buf).await;
                buf = b;
                if res.is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

struct Serve(SocketAddr);

impl BackendFn for Serve {
    type Output = std::io::Result<ServerHandle>;

    fn call<B: Backend>(self) -> Self::Output {
        B::serve(ServeConfig::new(self.0), |s, _| echo(s))
    }
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
    let server = match options.backend.dispatch(Serve(options.addr)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("demo: cannot listen on {}: {e}", options.addr);
            std::process::exit(1);
        }
    };
    println!(
        "weft demo: TCP echo on {} (backend {}, {} workers)",
        server.local_addr(),
        options.backend,
        weft::rt::available_cores()
    );
    println!(
        "  try: printf 'hello\\n' | nc -q1 {} {}",
        server.local_addr().ip(),
        server.local_addr().port()
    );
    println!(
        "  still to come: the HTTP routes /plaintext /json /db /queries /updates /fortunes /cache/:key /mc/:key"
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
