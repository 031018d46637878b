//! Invariants of the whole server connection, shared by the
//! `h2_server_conn` fuzz target and the unit tests.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use super::{Config, Event, MAX_EVENTS_PER_CALL, ServerConnection};
use crate::h1::{Body, ResponseHead};
use crate::h2::settings::MAX_WINDOW_SIZE;
use crate::header::StatusCode;

/// Slack over [`Config::max_tx_backlog`]: what one frame's handling can add
/// after the backlog check (a GOAWAY, a local 413/431 head, a RST_STREAM).
const TX_SLACK: usize = 1024;

/// Runs `input` through a server connection fed in pieces ending at `cuts`
/// (offsets; out-of-range ones ignored), and checks:
///
/// - nothing panics;
/// - memory stays bounded: the connection's own output buffer stays under
///   [`Config::max_tx_backlog`] plus a frame's worth, its event queue under
///   one batch plus a frame's worth, after every call;
/// - with windows so large that flow-control credit timing cannot matter,
///   the events (body pieces merged per stream) and the bytes written are
///   the same whether the input comes in one read or split at `cuts`;
/// - answering every request (full, streaming with trailers, or reset)
///   never fails except because the stream or connection is already gone.
///
/// Panics when an invariant breaks; never on malformed `input`.
#[doc(hidden)]
pub fn fuzz_server_conn(input: &[u8], cuts: &[usize]) {
    let config = Config {
        initial_window_size: MAX_WINDOW_SIZE,
        connection_window_size: MAX_WINDOW_SIZE,
        max_request_body: u64::MAX,
        max_connection_body: u64::MAX,
        ..Config::default()
    };
    let whole = run(input, &[], &config, false);
    let split = run(input, cuts, &config, false);
    assert_eq!(whole, split, "outcome depends on how the input is split");
    let bytewise: Vec<usize> = (1..input.len().min(512)).collect();
    let small = Config::default();
    let _ = run(input, &bytewise, &small, true);
    let _ = run(input, cuts, &small, true);
}

/// Events (data merged per stream) and the output of one run.
fn run(input: &[u8], cuts: &[usize], config: &Config, answer: bool) -> (Vec<String>, Vec<u8>) {
    let mut conn = ServerConnection::new(config.clone());
    let mut now = Instant::now();
    let mut cuts: Vec<usize> = cuts.iter().copied().filter(|&c| c < input.len()).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.push(input.len());
    let mut events: Vec<String> = Vec::new();
    let mut out = BytesMut::new();
    let mut buf = BytesMut::new();
    let mut start = 0;
    let mut n = 0u32;
    for end in cuts {
        buf.extend_from_slice(&input[start..end]);
        start = end;
        loop {
            let before = buf.len();
            conn.handle_input(now, &mut buf);
            assert!(
                conn.buffered_output() <= config.max_tx_backlog + TX_SLACK || answer,
                "output buffer {} over the bound",
                conn.buffered_output()
            );
            assert!(conn.queued_events() <= MAX_EVENTS_PER_CALL + 4);
            while let Some(e) = conn.poll_event() {
                record(&mut events, &e);
                if answer {
                    n = n.wrapping_add(1);
                    respond(&mut conn, e, n);
                }
            }
            if answer {
                // The vectored path, flattened.
                let mut chunks = Vec::new();
                while conn.poll_transmit_vectored(&mut chunks) > 0 {}
                chunks.iter().for_each(|c| out.extend_from_slice(c));
            } else {
                while conn.poll_transmit(&mut out) > 0 {}
            }
            if buf.is_empty() || buf.len() == before {
                break;
            }
        }
        if answer {
            // Let timers fire now and then.
            now += Duration::from_secs(7);
            conn.handle_timeout(now);
            while let Some(e) = conn.poll_event() {
                record(&mut events, &e);
            }
            while conn.poll_transmit(&mut out) > 0 {}
        }
    }
    conn.handle_eof(now);
    while let Some(e) = conn.poll_event() {
        record(&mut events, &e);
    }
    while conn.poll_transmit(&mut out) > 0 {}
    (events, out.to_vec())
}

fn record(events: &mut Vec<String>, e: &Event) {
    match e {
        Event::Data { stream, data } => {
            let tag = format!("data {stream} ");
            if let Some(last) = events.last_mut() {
                if let Some(n) = last.strip_prefix(&tag) {
                    let total = n.parse::<usize>().unwrap_or(0) + data.len();
                    *last = format!("{tag}{total}");
                    return;
                }
            }
            events.push(format!("{tag}{}", data.len()));
        }
        other => events.push(format!("{other:?}")),
    }
}

fn respond(conn: &mut ServerConnection, e: Event, n: u32) {
    let Event::Request { stream, head, .. } = e else {
        return;
    };
    let ok = ResponseHead::new(StatusCode::OK, &[("x-n", b"1")]);
    let res = match n % 3 {
        0 => conn.send_response(
            stream,
            ok,
            Body::Full(Bytes::copy_from_slice(head.target())),
        ),
        1 => conn
            .send_response(stream, ok, Body::Stream { length: None })
            .and_then(|()| conn.send_body_chunk(stream, Bytes::from_static(&[7; 40_000])))
            .and_then(|()| conn.send_end_with_trailers(stream, &[("x-t", b"v")])),
        _ => conn.send_reset(stream, crate::h2::ErrorCode::Cancel),
    };
    // A stream reset later in the same batch, or a connection that
    // failed, is gone already: those are the only refusals.
    if let Err(e) = res {
        assert!(
            matches!(
                e,
                crate::UserError::Closed | crate::UserError::UnknownRequest
            ),
            "{e:?}"
        );
    }
}
