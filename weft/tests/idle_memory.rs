//! Memory per idle keep-alive connection.
//!
//! Starts a weft server (epoll, 2 workers) serving the demo's `/plaintext`
//! route, opens 2,000 keep-alive connections that each make one request and
//! then stay open and idle, and reports two figures per connection:
//!
//! - resident memory: the growth of the process's RSS (`/proc/self/statm`),
//!   which includes the allocator's overhead and page granularity but not
//!   the kernel's socket buffers (kernel memory is not in RSS);
//! - live heap bytes: what a counting global allocator (this test binary
//!   only) sees allocated and not yet freed, on every thread.
//!
//! A second phase does the same with 500 connections that each send 16
//! pipelined requests before going idle: pipelining grows the protocol
//! machine's queues, which an idle connection gives back after about a
//! second (`SHRINK_AFTER` in `weft::http::conn`), so that phase waits for
//! it before measuring.
//!
//! The client's own share is a `Vec<TcpStream>` (4 bytes a connection) and
//! one reused read buffer, negligible next to the server's.
//!
//! Goal (issue 3): at most 4 KiB a connection, asserted for epoll's live
//! heap in both phases and its RSS in the first (after a pipelined burst
//! the allocator keeps the freed memory resident for reuse, so RSS shows
//! the burst's peak, not what idle connections hold). `WEFT_IDLE_BACKENDS=epoll,uring,std` also
//! measures other backends (io_uring's idle connections hold no buffer
//! either, its provided-buffer ring is per worker; std spends a thread,
//! with its stack, per connection); their figures are reported, only
//! epoll's are asserted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;
use weft::http::{Request, Router, Server};
use weft::rt::BackendKind;

const CONNECTIONS: usize = 2_000;
/// Connections of the pipelined phase, and requests each sends at once.
const PIPELINED_CONNECTIONS: usize = 500;
const PIPELINE: usize = 16;
const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Bound on RSS growth per idle connection (epoll), in bytes: the goal.
///
/// Measured on 2026-11-24 (2-core dev VM, debug): 2,556 B per connection
/// (one request each); before issue 3's work, 20,603 B. RSS moves with page
/// granularity and the allocator's per-thread arenas, so it is the looser
/// figure; the heap bound is the precise guard.
const MAX_RSS_PER_CONN: f64 = 4.0 * 1024.0;

/// Bound on live heap bytes per idle connection (epoll), in bytes: the goal.
///
/// Measured on 2026-11-24 (debug): 2,473 B per connection, all of it state
/// that lives as long as the connection (sizes as this test prints them):
///
/// - 1,480 B: the connection's task, i.e. the `serve_h1` future (the
///   `proto_http::h1::Connection` in it is 872 B), allocated by
///   `io_core::executor::spawn`, plus 16 + 72 + 40 B of task, join-state
///   and task-table entries;
/// - 496 + 96 + 80 B: the protocol machine's queues, sized for one request
///   in flight at the first request (a request head, two events, a slot).
///
/// No read or write buffer: an idle connection waits for readability
/// without one and returns both to the worker's pool. Before issue 3's
/// work: 20,497 B (a task twice the size of the future, two 4 KiB buffers,
/// queues reserved for 16 pipelined requests). One 4 KiB buffer kept per
/// connection fails this bound.
const MAX_HEAP_PER_CONN: f64 = 4.0 * 1024.0;

/// Live heap bytes (allocated minus freed), every thread.
static LIVE: AtomicI64 = AtomicI64::new(0);

/// Live allocations by exact size: (size, allocated minus freed), open
/// addressing on the size. Sizes that do not fit are not tallied.
static SIZES: [(AtomicUsize, AtomicI64); 256] =
    [const { (AtomicUsize::new(0), AtomicI64::new(0)) }; 256];

/// With `WEFT_IDLE_BACKTRACE_SIZES=a,b,...`: print a backtrace at the
/// first allocation of each of these sizes while connections are opened
/// (how the owners listed in BENCHMARKS.md were found). Up to 8 sizes.
static TRACE_SIZES: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];
/// Whether connections are being opened (the window traced).
static TRACING: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Set while this thread prints a backtrace.
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

fn maybe_trace(size: usize) {
    if !TRACING.load(Ordering::Relaxed) || IN_HOOK.try_with(|h| h.get()).unwrap_or(true) {
        return;
    }
    for slot in &TRACE_SIZES {
        if slot.load(Ordering::Relaxed) == size
            && slot
                .compare_exchange(size, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            IN_HOOK.with(|h| h.set(true));
            eprintln!(
                "allocation of {size} B:\n{}",
                std::backtrace::Backtrace::force_capture()
            );
            IN_HOOK.with(|h| h.set(false));
        }
    }
}

/// Adds `delta` to the live count of allocations of `size` bytes.
fn tally(size: usize, delta: i64) {
    if size == 0 {
        return;
    }
    let start = size.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56;
    for i in 0..SIZES.len() {
        let (key, count) = &SIZES[(start + i) % SIZES.len()];
        match key.compare_exchange(0, size, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => {}
            Err(k) if k == size => {}
            Err(_) => continue,
        }
        count.fetch_add(delta, Ordering::Relaxed);
        return;
    }
}

/// The live allocation counts by size, as (size, count).
fn size_snapshot() -> Vec<(usize, i64)> {
    SIZES
        .iter()
        .map(|(k, c)| (k.load(Ordering::SeqCst), c.load(Ordering::SeqCst)))
        .filter(|&(k, _)| k != 0)
        .collect()
}

struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the bookkeeping is one atomic counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the caller's contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
            tally(layout.size(), 1);
            maybe_trace(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the caller's contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
            tally(layout.size(), 1);
            maybe_trace(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded under the caller's contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
            tally(layout.size(), -1);
            tally(new_size, 1);
            maybe_trace(new_size);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded under the caller's contract.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        tally(layout.size(), -1);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Resident set size in bytes, from `/proc/self/statm` (second field, in
/// pages).
fn rss() -> i64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: i64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page as i64
}

/// Opens a keep-alive connection, sends `depth` pipelined `GET
/// /plaintext` in one write, reads every response, and leaves the
/// connection open.
fn requests(addr: SocketAddr, depth: usize, buf: &mut Vec<u8>) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&REQUEST.repeat(depth)).unwrap();
    buf.clear();
    let mut chunk = [0u8; 4096];
    let body = b"\r\n\r\nHello, World!";
    while buf.windows(body.len()).filter(|w| w == body).count() < depth {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "server closed a keep-alive connection");
        buf.extend_from_slice(&chunk[..n]);
    }
    assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
    s
}

/// Per-connection growth of (RSS, live heap) with `count` idle keep-alive
/// connections on a `kind` server, each having sent `depth` requests at
/// once; `settle` is how long the connections stay idle before measuring.
fn measure(kind: BackendKind, count: usize, depth: usize, settle: Duration) -> (f64, f64) {
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .backend(kind)
        .workers(2)
        .serve(Router::new().get("/plaintext", |_req: Request| async { "Hello, World!" }))
        .unwrap();
    let addr = server.local_addr();
    let mut buf = Vec::with_capacity(512);
    let mut conns = Vec::with_capacity(CONNECTIONS);
    // Warm up: first connections pay one-off costs (the date cache, the
    // executor's and poller's first tables, thread-local allocator arenas).
    for _ in 0..50 {
        drop(requests(addr, depth, &mut buf));
    }
    std::thread::sleep(Duration::from_millis(200));
    let (rss0, heap0) = (rss(), LIVE.load(Ordering::SeqCst));
    let sizes0 = size_snapshot();
    TRACING.store(true, Ordering::SeqCst);
    for _ in 0..count {
        conns.push(requests(addr, depth, &mut buf));
    }
    TRACING.store(false, Ordering::SeqCst);
    // Let the workers settle back into their idle wait.
    std::thread::sleep(settle);
    let (rss1, heap1) = (rss(), LIVE.load(Ordering::SeqCst));
    let n = count as f64;
    // What each connection keeps: sizes with about one live allocation (or
    // more) per connection more than before.
    let mut kept: Vec<(usize, i64)> = size_snapshot()
        .into_iter()
        .map(|(size, c)| {
            let before = sizes0.iter().find(|&&(s, _)| s == size).map_or(0, |p| p.1);
            (size, c - before)
        })
        .filter(|&(_, d)| d >= count as i64 / 2)
        .collect();
    kept.sort_unstable();
    for (size, d) in &kept {
        eprintln!(
            "idle_memory: backend {kind}, depth {depth}: +{d} live allocations of {size} B ({:.2} per connection)",
            *d as f64 / n
        );
    }
    let per = ((rss1 - rss0) as f64 / n, (heap1 - heap0) as f64 / n);
    eprintln!(
        "idle_memory: backend {kind}: {count} idle keep-alive connections after {depth} request(s) each: \
         RSS {rss0} -> {rss1} bytes = {:.0} B/conn; live heap {heap0} -> {heap1} bytes = {:.0} B/conn",
        per.0, per.1
    );
    drop(conns);
    server.shutdown(Duration::from_secs(2)).unwrap();
    per
}

#[test]
fn idle_keep_alive_connection_memory() {
    let kinds: Vec<BackendKind> = match std::env::var("WEFT_IDLE_BACKENDS") {
        Ok(list) => list.split(',').map(|k| k.trim().parse().unwrap()).collect(),
        Err(_) => vec![BackendKind::Epoll],
    };
    if let Ok(list) = std::env::var("WEFT_IDLE_BACKTRACE_SIZES") {
        for (slot, size) in TRACE_SIZES.iter().zip(list.split(',')) {
            slot.store(size.trim().parse().unwrap(), Ordering::SeqCst);
        }
    }
    // (connections, requests each, idle time before measuring); the
    // pipelined phase waits past the queues' shrink delay (1 s).
    let phases = [
        (CONNECTIONS, 1, Duration::from_millis(300)),
        (PIPELINED_CONNECTIONS, PIPELINE, Duration::from_millis(2500)),
    ];
    for kind in kinds {
        for (count, depth, settle) in phases {
            let (rss, heap) = measure(kind, count, depth, settle);
            // RSS is asserted after one request only: after pipelining it
            // keeps the peak of the burst (the allocator keeps freed
            // chunks resident for reuse), while the live heap shows what
            // the connections still hold.
            if kind == BackendKind::Epoll && depth == 1 {
                assert!(
                    rss <= MAX_RSS_PER_CONN,
                    "depth {depth}: {rss:.0} B of RSS per idle connection, bound {MAX_RSS_PER_CONN}"
                );
            }
            if kind == BackendKind::Epoll {
                assert!(
                    heap <= MAX_HEAP_PER_CONN,
                    "depth {depth}: {heap:.0} B of live heap per idle connection, bound {MAX_HEAP_PER_CONN}"
                );
                // The server does keep state per connection: a figure near
                // zero means the measurement missed it.
                assert!(heap >= 64.0, "implausibly small: {heap:.0} B/conn");
            }
        }
    }
}
