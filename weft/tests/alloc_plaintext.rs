//! Allocations per request on the plaintext path, in steady state.
//!
//! A counting global allocator (this test binary only) counts the
//! allocations made on the server's worker threads (threads named
//! `weft-epoll-*`, recognised without allocating) while a client on the
//! test thread sends keep-alive `GET /plaintext` requests over one raw TCP
//! connection: 1,000 to warm up, then 10,000 counted, sequentially (one
//! request, one response) and then pipelined 16 deep.
//!
//! Goal: zero, and that is what is asserted, up to [`MAX_ALLOCS`] rare
//! one-off allocations in the 10,000 counted requests. Set
//! `WEFT_ALLOC_BACKTRACE=N` to print the backtraces of the first `N`
//! counted allocations (off by default), which is how the allocation sites
//! listed in BENCHMARKS.md were found:
//!
//! ```sh
//! WEFT_ALLOC_BACKTRACE=4 cargo test --release -p weft --test alloc_plaintext -- --nocapture
//! ```
//!
//! `WEFT_ALLOC_BACKTRACE_SKIP_SIZE=N` skips allocations of `N` bytes, to
//! look past a known one to the others.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use weft::http::{Request, Router, Server};
use weft::rt::BackendKind;

/// The most allocations allowed on the workers over the [`COUNTED`]
/// requests of one phase: 0.001 per request, so one allocation per request
/// (10,000) or even one per pipelined batch (625) fails by far.
///
/// Measured on 2026-11-24 (2-core dev VM, debug and release): 0 in most
/// runs of either phase; up to 3 in some runs of the pipelined phase, all
/// one-off: a 456-byte `BTreeMap` node of the worker's timer map
/// (`io_core::time::Timers::insert`; the map holds one entry per armed
/// timer, each connection's idle timeout, and allocates a node when the set
/// of timers splits or re-creates one, which depends on when other timers
/// come and go), and the growth of a worker's free list of buffers
/// (`weft::http::buf_pool`) when the sequential phase's connection closes
/// at the start of the pipelined phase and hands its buffers back. Before
/// issue 3's work it was 1.000 per request: a `Box::pin` of every handler
/// future (now [`weft::http::HandlerFuture`], a block reused from a
/// per-worker free list) and, once per connection, the growth of
/// `proto_http::h1::Connection`'s transmit buffer from empty.
const MAX_ALLOCS: u64 = 10;

const WARMUP: usize = 1_000;
const COUNTED: usize = 10_000;
const PIPELINE: usize = 16;
const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Whether the counting window is open.
static COUNTING: AtomicBool = AtomicBool::new(false);
/// Allocations (alloc, alloc_zeroed, realloc) on worker threads in the window.
static ALLOCS: AtomicU64 = AtomicU64::new(0);
/// Bytes requested by those allocations.
static BYTES: AtomicU64 = AtomicU64::new(0);
/// Allocations on worker threads at any time (connection set-up allocates
/// its buffers there), to prove the worker threads are recognised.
static WORKER_ALLOCS_EVER: AtomicU64 = AtomicU64::new(0);
/// Backtraces still to print (from `WEFT_ALLOC_BACKTRACE`).
static BACKTRACES_LEFT: AtomicUsize = AtomicUsize::new(0);
/// Allocations of this size get no backtrace (`WEFT_ALLOC_BACKTRACE_SKIP_SIZE`,
/// to look past the known per-request one); 0: none skipped.
static BACKTRACE_SKIP_SIZE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// 0: not yet known, 1: a server worker, 2: another thread.
    static IS_WORKER: Cell<u8> = const { Cell::new(0) };
    /// Set while this thread prints a backtrace (its own allocations are
    /// not counted).
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is an epoll worker, from its name (read with
/// `pthread_getname_np` into a stack buffer: no allocation).
fn is_worker() -> bool {
    IS_WORKER
        .try_with(|w| {
            if w.get() == 0 {
                let mut name = [0u8; 16];
                // SAFETY: `name` is a writable buffer of the length passed;
                // pthread_self() is the calling thread.
                let rc = unsafe {
                    libc::pthread_getname_np(
                        libc::pthread_self(),
                        name.as_mut_ptr().cast(),
                        name.len(),
                    )
                };
                w.set(if rc == 0 && name.starts_with(b"weft-epoll") {
                    1
                } else {
                    2
                });
            }
            w.get() == 1
        })
        .unwrap_or(false)
}

fn record(size: usize) {
    if !is_worker() {
        return;
    }
    WORKER_ALLOCS_EVER.fetch_add(1, Ordering::Relaxed);
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    if IN_HOOK.try_with(|h| h.get()).unwrap_or(true) {
        return;
    }
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(size as u64, Ordering::Relaxed);
    if BACKTRACES_LEFT.load(Ordering::Relaxed) > 0
        && size != BACKTRACE_SKIP_SIZE.load(Ordering::Relaxed)
        && BACKTRACES_LEFT
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    {
        IN_HOOK.with(|h| h.set(true));
        eprintln!(
            "alloc of {size} bytes on a worker:\n{}",
            std::backtrace::Backtrace::force_capture()
        );
        IN_HOOK.with(|h| h.set(false));
    }
}

struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the bookkeeping touches only atomics and const thread-locals.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded under the caller's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: forwarded under the caller's contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: forwarded under the caller's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded under the caller's contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The demo's plaintext route.
fn router() -> Router {
    Router::new().get("/plaintext", |_req: Request| async { "Hello, World!" })
}

/// A keep-alive client that knows the (constant) length of one response.
struct Client {
    stream: TcpStream,
    response_len: usize,
    buf: Vec<u8>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // Learn the response length from the first response: its head ends
        // with an empty line and its body is `Hello, World!`. The `Date`
        // value has a fixed width (IMF-fixdate), so every later response
        // has the same length.
        stream.write_all(REQUEST).unwrap();
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        while !got.ends_with(b"\r\n\r\nHello, World!") {
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "server closed the connection");
            got.extend_from_slice(&chunk[..n]);
        }
        assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"), "{got:?}");
        let response_len = got.len();
        Client {
            stream,
            response_len,
            buf: vec![0u8; response_len * PIPELINE],
        }
    }

    /// Sends `n` requests `depth` at a time (one write per batch) and reads
    /// and checks every response.
    fn run(&mut self, n: usize, depth: usize) {
        let batch = REQUEST.repeat(depth);
        let mut done = 0;
        while done < n {
            let k = depth.min(n - done);
            self.stream.write_all(&batch[..k * REQUEST.len()]).unwrap();
            let want = &mut self.buf[..k * self.response_len];
            self.stream.read_exact(want).unwrap();
            for resp in want.chunks(self.response_len) {
                assert!(resp.starts_with(b"HTTP/1.1 200 OK\r\n"));
                assert!(resp.ends_with(b"\r\n\r\nHello, World!"));
            }
            done += k;
        }
    }
}

/// Counts worker allocations across `COUNTED` requests sent `depth` at a
/// time, after `WARMUP` uncounted ones; returns (allocations, bytes).
fn measure(addr: SocketAddr, depth: usize) -> (u64, u64) {
    let mut client = Client::connect(addr);
    client.run(WARMUP, depth);
    ALLOCS.store(0, Ordering::SeqCst);
    BYTES.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    client.run(COUNTED, depth);
    COUNTING.store(false, Ordering::SeqCst);
    (ALLOCS.load(Ordering::SeqCst), BYTES.load(Ordering::SeqCst))
}

#[test]
fn plaintext_allocations_per_request() {
    let backtraces = std::env::var("WEFT_ALLOC_BACKTRACE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    BACKTRACES_LEFT.store(backtraces, Ordering::SeqCst);
    if let Some(skip) = std::env::var("WEFT_ALLOC_BACKTRACE_SKIP_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        BACKTRACE_SKIP_SIZE.store(skip, Ordering::SeqCst);
    }
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .backend(BackendKind::Epoll)
        .workers(2)
        .serve(router())
        .unwrap();
    let addr = server.local_addr();

    let mut results = Vec::new();
    for (label, depth) in [("sequential", 1), ("pipelined x16", PIPELINE)] {
        let (allocs, bytes) = measure(addr, depth);
        results.push((label, allocs));
        let per = allocs as f64 / COUNTED as f64;
        eprintln!(
            "alloc_plaintext: {label}: {allocs} allocations ({bytes} bytes) on the workers \
             over {COUNTED} requests = {per:.3} allocations/request, {:.1} bytes/request",
            bytes as f64 / COUNTED as f64
        );
    }
    server.shutdown(Duration::from_secs(1)).unwrap();
    // Otherwise a renamed worker thread would make every count zero.
    assert!(
        WORKER_ALLOCS_EVER.load(Ordering::SeqCst) > 0,
        "no allocation was seen on a `weft-epoll-*` thread: are the workers still named so?"
    );
    for (label, allocs) in results {
        assert!(
            allocs <= MAX_ALLOCS,
            "{label}: {allocs} allocations on the workers in {COUNTED} plaintext requests, \
             bound {MAX_ALLOCS} (run with WEFT_ALLOC_BACKTRACE=4 to see where)"
        );
    }
}
