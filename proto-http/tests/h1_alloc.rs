//! The hot path allocates nothing per request in steady state: a plaintext
//! GET parsed from a reused read buffer, answered with a small fixed
//! response into a reused write buffer, through the whole connection.
//! (Its own test binary: it installs a counting global allocator.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use proto_http::StatusCode;
use proto_http::h1::{Body, Config, Connection, Event, ResponseHead};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: text/plain,text/html;q=0.9\r\nConnection: keep-alive\r\n\r\n";

/// A browser's request: more fields than the head keeps inline, so its
/// index spills into a vector recycled per thread.
const BROWSER: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nReferer: http://localhost:8080/\r\nConnection: keep-alive\r\nCookie: a=1; b=2\r\nUpgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Site: same-origin\r\nSec-Fetch-User: ?1\r\nPriority: u=0, i\r\n\r\n";

/// One request/response cycle the way a server loop does it.
fn cycle(
    conn: &mut Connection,
    rbuf: &mut BytesMut,
    wbuf: &mut BytesMut,
    now: Instant,
    request: &[u8],
) -> usize {
    rbuf.extend_from_slice(request);
    conn.handle_input(now, rbuf);
    let mut served = 0;
    while let Some(ev) = conn.poll_event() {
        if let Event::Request { id, head } = ev {
            assert_eq!(head.path(), b"/plaintext");
            drop(head);
            let h = ResponseHead::new(
                StatusCode::OK,
                &[("Server", b"weft"), ("Content-Type", b"text/plain")],
            );
            conn.send_response(id, h, Body::Full(Bytes::from_static(b"Hello, World!")))
                .unwrap();
            served += 1;
        }
    }
    let n = conn.poll_transmit(wbuf);
    assert!(n > 0);
    // The "socket write" consumed everything.
    wbuf.clear();
    served
}

#[test]
fn plaintext_get_allocates_nothing_in_steady_state() {
    steady_state_allocations(REQUEST);
}

#[test]
fn browser_get_with_many_fields_allocates_nothing_in_steady_state() {
    let limits = proto_http::h1::Limits::default();
    let (head, _) = proto_http::h1::decode_request(BROWSER, &limits)
        .unwrap()
        .unwrap();
    assert!(head.headers().len() > proto_http::h1::INLINE_FIELDS);
    drop(head);
    steady_state_allocations(BROWSER);
}

fn steady_state_allocations(request: &[u8]) {
    // The counter works.
    let a = allocs();
    let v = std::hint::black_box(vec![1u8; 64]);
    assert!(allocs() > a && v.len() == 64);

    let now = Instant::now();
    let mut conn = Connection::new(Config::default());
    conn.set_date_unix(1_700_000_000);
    let mut rbuf = BytesMut::with_capacity(4096);
    let mut wbuf = BytesMut::with_capacity(4096);
    // Warm up: buffers reach their working capacity.
    for _ in 0..16 {
        cycle(&mut conn, &mut rbuf, &mut wbuf, now, request);
    }
    let before = allocs();
    let mut served = 0;
    for i in 0..1000u64 {
        conn.set_date_unix(1_700_000_000 + i / 100);
        served += cycle(&mut conn, &mut rbuf, &mut wbuf, now, request);
    }
    assert_eq!(served, 1000);
    let per_request = (allocs() - before) as f64 / 1000.0;
    assert_eq!(
        allocs() - before,
        0,
        "{per_request} allocations per request"
    );
}
