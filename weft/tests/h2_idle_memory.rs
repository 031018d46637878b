//! Memory per idle HTTP/2 connection.
//!
//! Starts a weft server (epoll, 2 workers), opens 1,000 HTTP/2 connections
//! (prior knowledge) that each make one request and then stay open and idle,
//! and reports per connection the growth of live heap bytes (a counting
//! global allocator, this test binary only) and of the process's resident
//! memory (`/proc/self/statm`: allocator overhead and page granularity
//! included, the kernel's socket buffers not).
//!
//! An idle connection keeps what HTTP/2 needs to go on: the connection
//! task, the protocol machine and both HPACK dynamic tables (RFC 7541 §2.3.2:
//! the peer's encoder relies on ours). It keeps no read buffer: it waits for
//! readability without one, as HTTP/1.1 connections do (issue 3), and after
//! a second idle (`SHRINK_AFTER` in `weft::http::h2`) it gives back the
//! room its queues grew for a burst of streams. The test waits past that
//! before measuring, and asserts the live heap (the precise figure) against
//! [`MAX_HEAP_PER_CONN`].

use bytes::{Bytes, BytesMut};
use proto_http::h2::frame::{self, Frame, FrameHeader, PREFACE, StreamId};
use proto_http::h2::hpack::{Encoder, HeaderField};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;
use weft::http::{Request, Router, Server};
use weft::rt::BackendKind;

const CONNECTIONS: usize = 1_000;

/// Streams each connection of the burst phase opens at once before going
/// idle: the machine's queues and the write list grow for them.
const BURST: u32 = 64;

/// Bound on live heap bytes per idle HTTP/2 connection (epoll).
///
/// Measured on 2026-11-24 (2-core dev VM, debug build): 5,360 B per
/// connection after one stream, 5,933 B after a burst of 64. The largest
/// pieces: the `serve_h2` future (2,816 B, boxed inside the 1,480 B
/// HTTP/1.1 task it took over from), the HPACK tables, the ring of recently
/// closed streams (512 B after a burst). Before idle connections gave their
/// buffers back: 27,935 B after one stream (a 16 KiB read buffer, the
/// machine's and the task's queues). One 16 KiB buffer kept per connection
/// fails this bound.
const MAX_HEAP_PER_CONN: f64 = 8.0 * 1024.0;

/// Live heap bytes (allocated minus freed), every thread.
static LIVE: AtomicI64 = AtomicI64::new(0);

/// Live allocations by exact size: (size, allocated minus freed), open
/// addressing on the size. Sizes that do not fit are not tallied.
static SIZES: [(AtomicUsize, AtomicI64); 256] =
    [const { (AtomicUsize::new(0), AtomicI64::new(0)) }; 256];

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

fn size_snapshot() -> Vec<(usize, i64)> {
    SIZES
        .iter()
        .map(|(k, c)| (k.load(Ordering::SeqCst), c.load(Ordering::SeqCst)))
        .filter(|&(k, _)| k != 0)
        .collect()
}

struct Counting;

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the bookkeeping is atomic counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the caller's contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
            tally(layout.size(), 1);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under the caller's contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
            tally(layout.size(), 1);
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

/// Resident set size in bytes (`/proc/self/statm`, second field, pages).
fn rss() -> i64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: i64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf only reads a system constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page as i64
}

/// Opens an HTTP/2 connection (prior knowledge), sends `streams` GET
/// `/plaintext` requests at once (streams 1, 3, ...), reads every response
/// to its end, and leaves the connection open.
fn connection(addr: SocketAddr, streams: u32, enc: &mut Encoder) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(&[], &mut out);
    // The server's SETTINGS need an ACK (RFC 9113 §6.5.3); it is sent
    // before they arrive, which the server accepts, to save a round trip.
    frame::Settings::ACK.encode(&mut out);
    // A fresh encoder per connection: HPACK state is per connection.
    *enc = Encoder::default();
    for i in 0..streams {
        let fields = [
            HeaderField::new(":method", "GET"),
            HeaderField::new(":scheme", "http"),
            HeaderField::new(":authority", "localhost"),
            HeaderField::new(":path", "/plaintext"),
        ];
        let mut block = BytesMut::new();
        enc.encode(&fields, &mut block);
        frame::encode_header_block(StreamId::new(2 * i + 1), &block, true, 16_384, &mut out);
    }
    s.write_all(&out).unwrap();
    let mut buf = BytesMut::new();
    let mut ended = 0;
    let mut chunk = [0u8; 8192];
    while ended < streams {
        if let Some(h) = FrameHeader::parse(&buf) {
            let len = 9 + h.length as usize;
            if buf.len() >= len {
                let raw: Bytes = buf.split_to(len).freeze();
                match frame::decode(&raw, 1 << 24).unwrap().unwrap().0 {
                    Frame::Data(d) if d.end_stream => ended += 1,
                    Frame::Headers(h) if h.end_stream => ended += 1,
                    Frame::RstStream(r) => panic!("stream reset: {}", r.error_code),
                    Frame::GoAway(g) => panic!("GOAWAY: {}", g.error_code),
                    _ => {}
                }
                continue;
            }
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "server closed an HTTP/2 connection");
        buf.extend_from_slice(&chunk[..n]);
    }
    s
}

/// Per-connection growth of (RSS, live heap) with `count` idle HTTP/2
/// connections that each ran `streams` requests at once; `settle` is how
/// long they stay idle before measuring.
fn measure(count: usize, streams: u32, settle: Duration) -> (f64, f64) {
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .backend(BackendKind::Epoll)
        .workers(2)
        .serve(Router::new().get("/plaintext", |_req: Request| async { "Hello, World!" }))
        .unwrap();
    let addr = server.local_addr();
    let mut enc = Encoder::default();
    // Warm up: one-off costs (the date cache, the executor's and poller's
    // first tables, the worker's buffer pool, allocator arenas).
    for _ in 0..50 {
        drop(connection(addr, streams, &mut enc));
    }
    std::thread::sleep(Duration::from_millis(300));
    let (rss0, heap0) = (rss(), LIVE.load(Ordering::SeqCst));
    let sizes0 = size_snapshot();
    let mut conns = Vec::with_capacity(count);
    for _ in 0..count {
        conns.push(connection(addr, streams, &mut enc));
    }
    std::thread::sleep(settle);
    let (rss1, heap1) = (rss(), LIVE.load(Ordering::SeqCst));
    let n = count as f64;
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
            "h2_idle_memory: {streams} stream(s): +{d} live allocations of {size} B ({:.2} per connection)",
            *d as f64 / n
        );
    }
    let per = ((rss1 - rss0) as f64 / n, (heap1 - heap0) as f64 / n);
    eprintln!(
        "h2_idle_memory: {count} idle HTTP/2 connections after {streams} stream(s) each: \
         RSS {rss0} -> {rss1} bytes = {:.0} B/conn; live heap {heap0} -> {heap1} bytes = {:.0} B/conn",
        per.0, per.1
    );
    drop(conns);
    server.shutdown(Duration::from_secs(2)).unwrap();
    per
}

#[test]
fn idle_h2_connection_memory() {
    // (connections, streams each, idle time before measuring): past the
    // one-second shrink delay in both phases.
    let phases = [
        (CONNECTIONS, 1, Duration::from_millis(1500)),
        (CONNECTIONS / 4, BURST, Duration::from_millis(1500)),
    ];
    for (count, streams, settle) in phases {
        let (_rss, heap) = measure(count, streams, settle);
        assert!(
            heap <= MAX_HEAP_PER_CONN,
            "{streams} stream(s): {heap:.0} B of live heap per idle HTTP/2 connection, \
             bound {MAX_HEAP_PER_CONN}"
        );
        // The server does keep state per connection: a figure near zero
        // means the measurement missed it.
        assert!(heap >= 256.0, "implausibly small: {heap:.0} B/conn");
    }
}
