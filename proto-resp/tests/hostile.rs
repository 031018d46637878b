//! A fake server sending what a real one never would: huge lengths and
//! counts, deep nesting, garbage type bytes, unsolicited replies. Each must
//! end in a typed, fatal error (or a bounded wait), with bounded memory.
//!
//! One `#[test]` only: the counting allocator is process-wide.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use common::Client;
use proto_resp::{Config, DecodeErrorKind as K, Error};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only adds bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(l.size(), Relaxed) + l.size();
        PEAK.fetch_max(now, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        CURRENT.fetch_sub(l.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

const HELLO_REPLY: &[u8] = b"%1\r\n$5\r\nproto\r\n:3\r\n";

/// Serves one connection: answers HELLO, then sends `payload` and closes.
/// Returns the client's error and the peak extra heap while handling it.
fn scenario(payload: Vec<u8>) -> (Error, usize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).unwrap();
        s.write_all(HELLO_REPLY).unwrap();
        // Wait for the client's PING so the payload is a reply to it.
        let _ = s.read(&mut buf).unwrap();
        let _ = s.write_all(&payload);
    });
    let mut c = Client::connect(&addr, Config::new()).unwrap();
    let _ = c.send(&["PING"]);
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let err = loop {
        if let Err(e) = c.read() {
            break e;
        }
    };
    let peak = PEAK.load(Relaxed) - base;
    server.join().unwrap();
    // Sticky: the same error again, and nothing can be sent.
    assert_eq!(c.conn.handle_eof(), Err(err.clone()));
    assert!(c.conn.send_args(&["PING"]).is_err());
    (err, peak)
}

fn decode_kind(e: &Error) -> K {
    match e {
        Error::Decode(d) => d.kind(),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn hostile_server() {
    const MIB: usize = 1024 * 1024;
    let bound = 4 * MIB;

    // A bulk length far beyond the limit: rejected from its header alone.
    let (e, peak) = scenario(b"$99999999999999999999\r\n".to_vec());
    assert_eq!(
        decode_kind(&e),
        K::BulkTooLong {
            len: u64::MAX,
            max: 512 * MIB
        }
    );
    assert!(peak < bound, "peak {peak}");

    // An in-limit length that never arrives: a bounded wait, then EOF.
    let (e, peak) = scenario(b"$536870911\r\nonly a few bytes".to_vec());
    assert_eq!(e, Error::UnexpectedEof { pending: 1 });
    assert!(peak < bound, "peak {peak}");

    // Aggregate counts: over the limit is an error; in the limit but
    // unfilled reserves nothing for the announced count.
    let (e, peak) = scenario(b"*4294967296\r\n".to_vec());
    assert!(matches!(decode_kind(&e), K::TooManyElements { .. }));
    assert!(peak < bound, "peak {peak}");
    let (e, peak) = scenario(b"*16000000\r\n:1\r\n:2\r\n%8000000\r\n".to_vec());
    assert_eq!(e, Error::UnexpectedEof { pending: 1 });
    assert!(peak < bound, "peak {peak}");

    // Deep nesting: stopped at the depth limit, no recursion.
    let (e, peak) = scenario(b"*1\r\n".repeat(100_000));
    assert_eq!(decode_kind(&e), K::TooDeep { max: 128 });
    assert!(peak < bound, "peak {peak}");
    let (e, _) = scenario(b"|1\r\n".repeat(1_000));
    assert_eq!(decode_kind(&e), K::TooDeep { max: 128 });

    // A line that never ends.
    let (e, _) = scenario([&b"+"[..], &vec![b'a'; 2 * MIB]].concat());
    assert_eq!(decode_kind(&e), K::LineTooLong { max: MIB });

    // Garbage type byte, malformed numbers.
    let (e, _) = scenario(b"\x00\x01\x02".to_vec());
    assert_eq!(decode_kind(&e), K::UnknownType(0));
    let (e, _) = scenario(b":12three\r\n".to_vec());
    assert_eq!(decode_kind(&e), K::BadInteger);
    let (e, _) = scenario(b"$3\r\nabcde\r\n".to_vec());
    assert_eq!(decode_kind(&e), K::MissingPayloadCrlf);

    // A reply nobody asked for.
    let (e, _) = scenario(b"+PONG\r\n+EXTRA\r\n".to_vec());
    assert_eq!(e, Error::UnexpectedReply);
}
