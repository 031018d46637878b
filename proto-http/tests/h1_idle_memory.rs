//! What an idle server connection keeps: no transmit buffer once the caller
//! took it back, queues sized for one request until pipelining grows them,
//! and none of that growth after `shrink_idle`.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use proto_http::StatusCode;
use proto_http::h1::{Body, Config, Connection, Event, ResponseHead};

const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// Feeds `depth` pipelined requests, answers each, and returns the bytes
/// `poll_transmit` produced (every response).
fn serve(conn: &mut Connection, depth: usize) -> BytesMut {
    let mut rbuf = BytesMut::from(&REQUEST.repeat(depth)[..]);
    let mut out = BytesMut::new();
    let mut answered = 0;
    while answered < depth {
        conn.handle_input(Instant::now(), &mut rbuf);
        while let Some(ev) = conn.poll_event() {
            if let Event::Request { id, .. } = ev {
                let head = ResponseHead::new(StatusCode::OK, &[("Server", b"t")]);
                conn.send_response(id, head, Body::Full(Bytes::from_static(b"ok")))
                    .unwrap();
                answered += 1;
            }
        }
        let _ = conn.poll_transmit(&mut out);
    }
    assert!(rbuf.is_empty());
    out
}

fn responses(out: &[u8]) -> usize {
    out.windows(17)
        .filter(|w| w == b"HTTP/1.1 200 OK\r\n")
        .count()
}

#[test]
fn transmit_buffer_can_be_supplied_and_taken_back() {
    let mut conn = Connection::new(Config::default());
    // A fresh connection has no buffer to give back.
    assert!(conn.take_transmit_buffer().is_none());
    let supplied = BytesMut::with_capacity(4096);
    let addr = supplied.as_ptr();
    conn.supply_transmit_buffer(|| supplied);
    // It has one now: a second supply is not taken (the closure must not run).
    conn.supply_transmit_buffer(|| panic!("already has a buffer"));
    let out = serve(&mut conn, 1);
    assert_eq!(responses(&out), 1);
    // `poll_transmit` handed over the supplied buffer (no copy) and kept
    // the caller's unallocated one: nothing to take back now.
    assert_eq!(out.as_ptr(), addr);
    assert!(conn.take_transmit_buffer().is_none());
    // Given back to the connection after the write, then taken when idle.
    let mut written = out;
    written.clear();
    conn.supply_transmit_buffer(|| written);
    let back = conn
        .take_transmit_buffer()
        .expect("the idle connection's buffer");
    assert!(back.capacity() >= 4096 && back.is_empty());
    assert!(conn.take_transmit_buffer().is_none());
    // Without a supplied buffer the connection still answers (it allocates).
    let out = serve(&mut conn, 1);
    assert_eq!(responses(&out), 1);
}

#[test]
fn pipelining_growth_is_released_by_shrink_idle() {
    let mut conn = Connection::new(Config::default());
    assert!(!conn.has_idle_excess(), "no queue memory before a request");
    assert_eq!(responses(&serve(&mut conn, 1)), 1);
    assert!(
        !conn.has_idle_excess(),
        "one request at a time stays within the initial room"
    );
    assert_eq!(responses(&serve(&mut conn, 16)), 16);
    assert!(
        conn.has_idle_excess(),
        "16 pipelined requests grew the queues"
    );
    conn.shrink_idle();
    assert!(!conn.has_idle_excess());
    // And it keeps serving, in order, after shrinking.
    assert_eq!(responses(&serve(&mut conn, 3)), 3);
    assert_eq!(responses(&serve(&mut conn, 1)), 1);
    assert!(!conn.is_closed());
}

#[test]
fn shrink_idle_keeps_queued_work() {
    let mut conn = Connection::new(Config::default());
    let mut rbuf = BytesMut::from(&REQUEST.repeat(8)[..]);
    conn.handle_input(Instant::now(), &mut rbuf);
    // Requests are queued, not answered: nothing may be released.
    assert!(!conn.has_idle_excess());
    conn.shrink_idle();
    let mut ids = Vec::new();
    while let Some(ev) = conn.poll_event() {
        if let Event::Request { id, .. } = ev {
            ids.push(id);
        }
    }
    assert_eq!(ids.len(), 8);
    for id in ids {
        let head = ResponseHead::new(StatusCode::OK, &[]);
        conn.send_response(id, head, Body::Empty).unwrap();
    }
    let mut out = BytesMut::new();
    let _ = conn.poll_transmit(&mut out);
    assert_eq!(responses(&out), 8);
}
