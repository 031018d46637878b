//! Invariant checks shared by the property tests and the fuzz targets
//! (`h1_request`, `h1_server_conn`). Not part of the stable API.

use std::fmt::Write as _;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::client::{ClientConnection, ClientEvent, Request};
use super::conn::Connection;
use super::encode::{Body, ResponseHead};
use super::event::Event;
use super::limits::{Config, Limits};
use crate::header::StatusCode;

/// What a server connection did with an input: normalized events (body
/// pieces merged per request, since their boundaries follow the reads) and
/// the exact output bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Transcript {
    /// One line per event.
    pub events: Vec<String>,
    /// Everything `poll_transmit` returned.
    pub output: Vec<u8>,
    /// Method of each request, in order (for checking the output).
    pub methods: Vec<String>,
    /// Whether the connection ended closed.
    pub closed: bool,
}

/// Feeds `input` to a server connection in pieces ending at `cuts` (then
/// the rest, then EOF), answering each request with `200 ok` once its body
/// has ended.
pub fn server_transcript(input: &[u8], cuts: &[usize], config: &Config) -> Transcript {
    let now = Instant::now();
    let mut conn = Connection::new(config.clone());
    conn.set_date_unix(1_700_000_000);
    let mut t = Transcript {
        events: Vec::new(),
        output: Vec::new(),
        methods: Vec::new(),
        closed: false,
    };
    let mut buf = BytesMut::new();
    let mut out = BytesMut::new();
    let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    points.sort_unstable();
    points.push(input.len());
    let mut fed = 0;
    let mut open_body: Option<(u64, Vec<u8>)> = None;
    let step = |conn: &mut Connection,
                t: &mut Transcript,
                open_body: &mut Option<(u64, Vec<u8>)>|
     -> bool {
        let mut any = false;
        while let Some(ev) = conn.poll_event() {
            any = true;
            if let Event::Body { id, chunk } = &ev {
                match open_body {
                    Some((i, b)) if *i == id.as_u64() => b.extend_from_slice(chunk),
                    _ => {
                        flush_body(t, open_body);
                        *open_body = Some((id.as_u64(), chunk.to_vec()));
                    }
                }
                continue;
            }
            flush_body(t, open_body);
            match ev {
                Event::Request { id, head } => {
                    t.methods
                        .push(String::from_utf8_lossy(head.method_bytes()).into_owned());
                    t.events.push(format!("request {} {head:?}", id.as_u64()));
                }
                Event::BodyEnd { id, trailers } => {
                    t.events.push(format!("end {} {trailers:?}", id.as_u64()));
                    let head = ResponseHead::new(StatusCode::OK, &[("Server", b"check")]);
                    let r = conn.send_response(id, head, Body::Full(Bytes::from_static(b"ok")));
                    t.events.push(format!("respond {} {r:?}", id.as_u64()));
                }
                Event::Error { id, error } => t.events.push(format!("error {id:?} {error}")),
                Event::Switched { id } => t.events.push(format!("switched {}", id.as_u64())),
                Event::Body { .. } => {}
            }
        }
        any
    };
    for end in points {
        if end > fed {
            buf.extend_from_slice(&input[fed..end]);
            fed = end;
        }
        loop {
            conn.handle_input(now, &mut buf);
            let _ = conn.poll_transmit(&mut out);
            if !step(&mut conn, &mut t, &mut open_body) {
                break;
            }
            let _ = conn.poll_transmit(&mut out);
        }
    }
    conn.handle_eof(now);
    let _ = step(&mut conn, &mut t, &mut open_body);
    flush_body(&mut t, &mut open_body);
    let _ = conn.poll_transmit(&mut out);
    t.output = out.to_vec();
    t.closed = conn.is_closed();
    t
}

fn flush_body(t: &mut Transcript, open: &mut Option<(u64, Vec<u8>)>) {
    if let Some((id, b)) = open.take() {
        let mut s = format!("body {id} ");
        let _ = write!(s, "{:?}", String::from_utf8_lossy(&b));
        t.events.push(s);
    }
}

/// Checks that `output` is a sequence of well-formed responses to requests
/// with `methods` (plus at most one error response); panics otherwise.
pub fn check_responses(output: &[u8], methods: &[String]) {
    let mut client = ClientConnection::new(Limits::default());
    let mut sink = BytesMut::new();
    for m in methods.iter().map(String::as_str).chain(["GET"]) {
        client
            .send_request(Request::new(m, "/", &[]), Body::Empty)
            .expect("request");
    }
    let _ = client.poll_transmit(&mut sink);
    let mut buf = BytesMut::from(output);
    let now = Instant::now();
    client.handle_input(now, &mut buf);
    while let Some(ev) = client.poll_event() {
        match ev {
            ClientEvent::Error(e) => panic!(
                "invalid response bytes: {e}: {:?}",
                String::from_utf8_lossy(output)
            ),
            ClientEvent::Response { head, .. } => {
                let s = head.status().as_u16();
                assert!(
                    matches!(s, 200 | 400 | 408 | 413 | 414 | 431 | 501 | 505),
                    "unexpected status {s}"
                );
            }
            _ => {}
        }
    }
    assert!(
        buf.is_empty() || client.is_closed(),
        "trailing garbage in output: {:?}",
        String::from_utf8_lossy(&buf)
    );
}

/// The `h1_server_conn` invariant: no panic, the same transcript whole and
/// split at `cuts` and byte by byte, and valid responses on the wire.
pub fn check_server_conn(input: &[u8], cuts: &[usize]) {
    let config = Config {
        limits: Limits {
            max_request_line: 256,
            max_head_bytes: 1024,
            max_headers: 16,
            max_body: 4096,
            max_chunk_line: 64,
        },
        max_pipelined: 4,
        ..Config::default()
    };
    let whole = server_transcript(input, &[], &config);
    let split = server_transcript(input, cuts, &config);
    assert_eq!(whole, split, "whole vs split at {cuts:?}");
    if input.len() <= 512 {
        let all: Vec<usize> = (0..input.len()).collect();
        assert_eq!(
            whole,
            server_transcript(input, &all, &config),
            "whole vs byte-at-a-time"
        );
    }
    check_responses(&whole.output, &whole.methods);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_records_events_and_output() {
        let input = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\nBAD\r\n\r\n";
        let t = server_transcript(input, &[5, 40, 61], &Config::default());
        assert_eq!(t.methods, ["POST", "GET"]);
        assert!(t.events[0].starts_with("request 0 "));
        assert_eq!(t.events[1], "body 0 \"abc\"");
        assert_eq!(t.events[2], "end 0 None");
        assert_eq!(t.events[3], "respond 0 Ok(())");
        assert!(t.events[4].starts_with("request 1 "));
        assert!(t.events.last().unwrap().starts_with("error None"));
        let out = String::from_utf8(t.output.clone()).unwrap();
        assert_eq!(out.matches("HTTP/1.1 200 OK\r\n").count(), 2);
        assert!(out.ends_with("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\nConnection: close\r\n\r\n"));
        assert!(t.closed);
        check_responses(&t.output, &t.methods);
        check_server_conn(input, &[1, 2, 3]);
    }

    #[test]
    #[should_panic(expected = "invalid response bytes")]
    fn response_check_rejects_garbage() {
        check_responses(
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            &["GET".to_string()],
        );
    }
}
