//! The driver against a scripted fake server, for what a real Redis never
//! sends: malformed bytes, oversized frames, hostile lengths and nesting, a
//! connection cut mid-pipeline, a server that never answers. No reply may
//! ever reach the wrong request; every pending request fails with a typed
//! error, and the driver's memory stays bounded whatever the server claims.
#![cfg(all(feature = "epoll", feature = "std"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use proto_resp::DecodeErrorKind as K;
use weft::redis::{Commands, Config, Connection, Error, Frame};
use weft::rt::{Backend, Epoll, Std};

/// Counts the heap held by each thread (its allocations minus its frees),
/// and the peak, so that one test's measure is not disturbed by the
/// others running beside it. On epoll the driver runs on the test's
/// thread (`block_on`), the fake server on another.
struct PerThread;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: nothing to count while the thread is being torn down.
    let _ = HELD.try_with(|h| {
        let now = h.get() + delta;
        h.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// bookkeeping touches only const-initialised thread-locals without
// destructors, so it never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        count(l.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        count(-(l.size() as isize));
        // SAFETY: `p` was allocated by `System` with layout `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        count(new as isize - l.size() as isize);
        // SAFETY: `p` was allocated by `System` with layout `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: PerThread = PerThread;

/// Runs `f` and returns its result with the most heap this thread held
/// meanwhile beyond what it held before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = HELD.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, (PEAK.with(Cell::get) - base).max(0) as usize)
}

/// Serves one connection: answers `HELLO` with a minimal RESP3 map, waits
/// for `gets` pipelined `GET`s, then writes `script` and closes. The write
/// may fail: the client closes as soon as it sees a fatal frame.
fn fake_server(gets: usize, script: &[u8]) -> (Config, thread::JoinHandle<()>) {
    let script = script.to_vec();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !contains(&seen, b"HELLO") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "client closed before HELLO");
            seen.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"%1\r\n$5\r\nproto\r\n:3\r\n").unwrap();
        seen.clear();
        while occurrences(&seen, b"GET") < gets {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        let _ = s.write_all(&script);
        // Dropping `s` closes the connection.
    });
    let config: Config = format!("redis://127.0.0.1:{port}").parse().unwrap();
    (config, t)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    occurrences(hay, needle) > 0
}

fn occurrences(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn garbage_fails_every_pending_request<B: Backend>() {
    let (config, server) = fake_server(2, b"$5\r\nfirst\r\n?bogus\r\n$6\r\nsecond\r\n");
    B::block_on(async {
        let conn = Connection::connect::<B>(&config).await.unwrap();
        let a = conn.get::<String>("a");
        let b = conn.get::<String>("b");
        let c = conn.get::<String>("c");
        assert_eq!(a.await.unwrap(), "first");
        // The reply after the garbage is never handed to anyone.
        assert!(matches!(b.await, Err(Error::Protocol(_))));
        assert!(matches!(c.await, Err(Error::Protocol(_))));
        assert!(conn.is_closed());
        assert!(!conn.is_reusable());
    });
    server.join().unwrap();
}

fn cut_mid_pipeline_fails_the_rest<B: Backend>() {
    let (config, server) = fake_server(3, b"$2\r\nok\r\n$10\r\ntrunc");
    B::block_on(async {
        let conn = Connection::connect::<B>(&config).await.unwrap();
        let a = conn.get::<String>("a");
        let b = conn.get::<String>("b");
        let c = conn.get::<String>("c");
        assert_eq!(a.await.unwrap(), "ok");
        for r in [b.await, c.await] {
            match r {
                Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof),
                other => panic!("expected UnexpectedEof, got {other:?}"),
            }
        }
    });
    server.join().unwrap();
}

fn oversized_bulk_is_refused_before_allocating<B: Backend>() {
    let (mut config, server) = fake_server(1, b"$1000000000\r\nxx");
    config.limits.max_bulk_len = 1024;
    B::block_on(async {
        let conn = Connection::connect::<B>(&config).await.unwrap();
        let err = conn.get::<Vec<u8>>("a").await.unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        assert!(err.to_string().contains("exceeds limit"), "{err}");
    });
    server.join().unwrap();
}

fn handshake_refusal_is_a_typed_error<B: Backend>() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).unwrap();
        s.write_all(b"-WRONGPASS invalid username-password pair\r\n")
            .unwrap();
    });
    let config: Config = format!("redis://u:p@127.0.0.1:{port}").parse().unwrap();
    B::block_on(async {
        let err = Connection::connect::<B>(&config).await.unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    });
    server.join().unwrap();
}

/// The decode error a request failed with.
fn decode_kind(e: &Error) -> K {
    match e {
        Error::Protocol(proto_resp::Error::Decode(d)) => d.kind(),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

/// One `GET` answered with `script`: the error it gets, and the most heap
/// the driver's thread held meanwhile.
fn hostile_reply(script: &[u8]) -> (Error, usize) {
    let (config, server) = fake_server(1, script);
    let (err, peak) = peak_during(|| {
        Epoll::block_on(async {
            let conn = Connection::connect::<Epoll>(&config).await.unwrap();
            let err = conn.get::<Frame>("a").await.unwrap_err();
            assert!(conn.is_closed() && !conn.is_reusable());
            err
        })
    });
    server.join().unwrap();
    (err, peak)
}

/// What a hostile server claims (lengths, counts, depth) never turns into
/// an allocation of that size or a recursion that deep: each is a typed
/// error (or, for an in-limit length that never arrives, the end of the
/// connection), with the driver's heap bounded well below what was
/// announced (default limits: 512 MiB bulk, 16 Mi elements, depth 128).
#[test]
fn epoll_hostile_lengths_and_nesting_cost_bounded_memory() {
    const MIB: usize = 1024 * 1024;
    let bound = 4 * MIB;
    let eof =
        |e: &Error| matches!(e, Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof);

    // Over the limits: refused from the header alone.
    let (e, peak) = hostile_reply(b"$99999999999999999999\r\n");
    assert!(matches!(decode_kind(&e), K::BulkTooLong { .. }), "{e:?}");
    assert!(peak < bound, "peak {peak}");
    let (e, peak) = hostile_reply(b"*4294967296\r\n");
    assert!(
        matches!(decode_kind(&e), K::TooManyElements { .. }),
        "{e:?}"
    );
    assert!(peak < bound, "peak {peak}");

    // In the limits but never delivered: nothing reserved for them.
    let (e, peak) = hostile_reply(b"$536870911\r\nonly a few bytes");
    assert!(eof(&e), "{e:?}");
    assert!(peak < bound, "peak {peak}");
    let (e, peak) = hostile_reply(b"*16000000\r\n:1\r\n:2\r\n%8000000\r\n");
    assert!(eof(&e), "{e:?}");
    assert!(peak < bound, "peak {peak}");

    // Nesting far past the depth limit (400 KB of `*1`): stopped at 128.
    let (e, peak) = hostile_reply(&b"*1\r\n".repeat(100_000));
    assert_eq!(decode_kind(&e), K::TooDeep { max: 128 });
    assert!(peak < bound, "peak {peak}");
    let (e, _) = hostile_reply(&b"|1\r\n".repeat(1_000));
    assert_eq!(decode_kind(&e), K::TooDeep { max: 128 });

    // Garbage type bytes.
    let (e, _) = hostile_reply(b"\x00\x01\x02");
    assert_eq!(decode_kind(&e), K::UnknownType(0));
    let (e, _) = hostile_reply(b"@5\r\nhello\r\n");
    assert_eq!(decode_kind(&e), K::UnknownType(b'@'));
}

/// A server that accepts but never answers the handshake: `connect` gives
/// up after `connect_timeout` with a typed error instead of hanging.
fn silent_server_times_out_the_handshake<B: Backend>() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        // Read (and ignore) until the client gives up and closes.
        let mut buf = [0u8; 1024];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    });
    let mut config: Config = format!("redis://127.0.0.1:{port}").parse().unwrap();
    config.connect_timeout = Duration::from_millis(200);
    B::block_on(async {
        let err = Connection::connect::<B>(&config).await.unwrap_err();
        assert!(matches!(err, Error::Timeout), "{err:?}");
    });
    server.join().unwrap();
}

#[test]
fn epoll_silent_server_times_out_the_handshake() {
    silent_server_times_out_the_handshake::<Epoll>();
}

#[test]
fn std_silent_server_times_out_the_handshake() {
    silent_server_times_out_the_handshake::<Std>();
}

#[test]
fn epoll_garbage_fails_every_pending_request() {
    garbage_fails_every_pending_request::<Epoll>();
}

#[test]
fn epoll_cut_mid_pipeline_fails_the_rest() {
    cut_mid_pipeline_fails_the_rest::<Epoll>();
}

#[test]
fn epoll_oversized_bulk_is_refused_before_allocating() {
    oversized_bulk_is_refused_before_allocating::<Epoll>();
}

#[test]
fn epoll_handshake_refusal_is_a_typed_error() {
    handshake_refusal_is_a_typed_error::<Epoll>();
}

#[test]
fn std_garbage_fails_every_pending_request() {
    garbage_fails_every_pending_request::<Std>();
}

#[test]
fn std_cut_mid_pipeline_fails_the_rest() {
    cut_mid_pipeline_fails_the_rest::<Std>();
}
