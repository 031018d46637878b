//! Client <-> server round trips over the in-memory [`Pair`] with virtual
//! time: encode -> parse is the identity for requests and responses, at any
//! transport segmentation.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::Pair;
use proptest::prelude::*;
use proto_http::StatusCode;
use proto_http::h1::client::{ClientEvent, Request};
use proto_http::h1::{Body, Config, Event, ResponseHead};

type Fields = Vec<(String, String)>;

fn field_name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9-]{0,12}".prop_filter("owned by the connection", |n| {
        ![
            "content-length",
            "transfer-encoding",
            "connection",
            "host",
            "expect",
            "upgrade",
            "date",
        ]
        .contains(&n.to_ascii_lowercase().as_str())
    })
}

fn field_value() -> impl Strategy<Value = String> {
    prop_oneof!["", "[!-~]", "[!-~][ -~]{0,30}[!-~]"]
}

fn fields() -> impl Strategy<Value = Fields> {
    proptest::collection::vec((field_name(), field_value()), 0..8)
}

#[derive(Clone, Debug)]
enum BodyPlan {
    Empty,
    Full(Vec<u8>),
    /// Pieces sent one by one; `true`: with a declared length.
    Stream(Vec<Vec<u8>>, bool),
}

fn body_plan() -> impl Strategy<Value = BodyPlan> {
    let bytes = proptest::collection::vec(any::<u8>(), 0..300);
    prop_oneof![
        Just(BodyPlan::Empty),
        bytes.clone().prop_map(BodyPlan::Full),
        (proptest::collection::vec(bytes, 0..5), any::<bool>())
            .prop_map(|(p, l)| BodyPlan::Stream(p, l)),
    ]
}

impl BodyPlan {
    fn bytes(&self) -> Vec<u8> {
        match self {
            BodyPlan::Empty => Vec::new(),
            BodyPlan::Full(b) => b.clone(),
            BodyPlan::Stream(p, _) => p.concat(),
        }
    }

    fn body(&self) -> Body {
        match self {
            BodyPlan::Empty => Body::Empty,
            BodyPlan::Full(b) => Body::Full(Bytes::from(b.clone())),
            BodyPlan::Stream(p, true) => Body::Stream {
                length: Some(p.iter().map(|x| x.len() as u64).sum()),
            },
            BodyPlan::Stream(_, false) => Body::Stream { length: None },
        }
    }

    fn pieces(&self) -> &[Vec<u8>] {
        match self {
            BodyPlan::Stream(p, _) => p,
            _ => &[],
        }
    }
}

fn as_refs(f: &Fields) -> Vec<(&str, &[u8])> {
    f.iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect()
}

fn without(h: Vec<(Vec<u8>, Vec<u8>)>, skip: &[&str]) -> Fields {
    h.into_iter()
        .filter(|(n, _)| !skip.iter().any(|s| n.eq_ignore_ascii_case(s.as_bytes())))
        .map(|(n, v)| (String::from_utf8(n).unwrap(), String::from_utf8(v).unwrap()))
        .collect()
}

proptest! {
    #[test]
    fn request_and_response_round_trip(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("HEAD"), Just("DELETE"), Just("PURGE")],
        target in "/[!-~]{0,40}",
        req_fields in fields(),
        req_body in body_plan(),
        status in prop_oneof![Just(200u16), Just(201), Just(204), Just(304), Just(404), Just(500), 200u16..600],
        resp_fields in fields(),
        resp_body in body_plan(),
        mtu in prop_oneof![Just(usize::MAX), 1usize..40],
    ) {
        let mut p = Pair::new(Config::default());
        p.mtu = mtu;
        let mut headers = vec![("Host", &b"example.test"[..])];
        headers.extend(as_refs(&req_fields));
        let id = p.client.send_request(Request::new(method, &target, &headers), req_body.body()).unwrap();
        for piece in req_body.pieces() {
            p.client.send_body_chunk(id, Bytes::from(piece.clone())).unwrap();
        }
        if matches!(req_body, BodyPlan::Stream(..)) {
            p.client.send_end(id).unwrap();
        }
        p.drive();

        // Server side: what was sent is what was parsed.
        let events = p.take_server_events();
        let (sid, head) = match &events[0] {
            Event::Request { id, head } => (*id, head.clone()),
            e => panic!("{:?}", e),
        };
        prop_assert_eq!(head.method_bytes(), method.as_bytes());
        prop_assert_eq!(head.target(), target.as_bytes());
        let got: Vec<(Vec<u8>, Vec<u8>)> = head.headers().iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        prop_assert_eq!(without(got, &["host", "content-length", "transfer-encoding"]), req_fields.clone());
        let body: Vec<u8> = events.iter().filter_map(|e| match e { Event::Body { chunk, .. } => Some(chunk.to_vec()), _ => None }).flatten().collect();
        prop_assert_eq!(body, req_body.bytes());
        let ended = matches!(events.last(), Some(Event::BodyEnd { .. }));
        prop_assert!(ended);

        // And back.
        let status = StatusCode::from_u16(status).unwrap();
        let resp_body = if status.is_bodiless() { BodyPlan::Empty } else { resp_body };
        let rh = as_refs(&resp_fields);
        p.server.send_response(sid, ResponseHead::new(status, &rh), resp_body.body()).unwrap();
        for piece in resp_body.pieces() {
            p.server.send_body_chunk(sid, Bytes::from(piece.clone())).unwrap();
        }
        if matches!(resp_body, BodyPlan::Stream(..)) {
            p.server.send_end(sid).unwrap();
        }
        p.drive();
        let events = p.take_client_events();
        let rhead = match &events[0] {
            ClientEvent::Response { id: rid, head } => { prop_assert_eq!(*rid, id); head.clone() }
            e => panic!("{:?}", e),
        };
        prop_assert_eq!(rhead.status(), status);
        let got: Vec<(Vec<u8>, Vec<u8>)> = rhead.headers().iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        prop_assert_eq!(without(got, &["content-length", "transfer-encoding", "date"]), resp_fields);
        let body: Vec<u8> = events.iter().filter_map(|e| match e { ClientEvent::Body { chunk, .. } => Some(chunk.to_vec()), _ => None }).flatten().collect();
        let want = if method == "HEAD" { Vec::new() } else { resp_body.bytes() };
        prop_assert_eq!(body, want);
        let ended = matches!(events.last(), Some(ClientEvent::BodyEnd { .. }));
        prop_assert!(ended);
        prop_assert_eq!(p.client.in_flight(), 0);
        prop_assert!(!p.server.wants_close());
    }
}

#[test]
fn pipelined_requests_match_responses_in_order() {
    let mut p = Pair::new(Config::default());
    let host = [("Host", &b"h"[..])];
    let ids: Vec<_> = ["/a", "/b", "/c", "/d"]
        .iter()
        .map(|t| {
            let m = if *t == "/b" { "HEAD" } else { "GET" };
            p.client
                .send_request(Request::new(m, t, &host), Body::Empty)
                .unwrap()
        })
        .collect();
    p.drive();
    let reqs: Vec<_> = p
        .take_server_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Request { id, head } => {
                Some((id, String::from_utf8(head.target().to_vec()).unwrap()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(reqs.len(), 4);
    // Answer in reverse; the wire order is still request order.
    for (id, target) in reqs.iter().rev() {
        p.server
            .send_response(
                *id,
                ResponseHead::new(StatusCode::OK, &[]),
                Body::Full(Bytes::from(target.clone())),
            )
            .unwrap();
    }
    p.drive();
    let mut got = Vec::new();
    for e in p.take_client_events() {
        match e {
            ClientEvent::Response { id, .. } => got.push((id, String::new())),
            ClientEvent::Body { chunk, .. } => got
                .last_mut()
                .unwrap()
                .1
                .push_str(std::str::from_utf8(&chunk).unwrap()),
            _ => {}
        }
    }
    let want: Vec<_> = ids
        .iter()
        .zip(["/a", "", "/c", "/d"])
        .map(|(i, b)| (*i, b.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn virtual_time_idle_timeout_closes_the_pair() {
    let mut p = Pair::new(Config {
        idle_timeout: Some(Duration::from_secs(30)),
        ..Config::default()
    });
    let id = p
        .client
        .send_request(Request::new("GET", "/", &[("Host", b"h")]), Body::Empty)
        .unwrap();
    p.drive();
    let sid = match &p.take_server_events()[0] {
        Event::Request { id, .. } => *id,
        e => panic!("{:?}", e),
    };
    p.server
        .send_response(sid, ResponseHead::new(StatusCode::OK, &[]), Body::Empty)
        .unwrap();
    p.drive();
    assert!(
        matches!(p.take_client_events().last(), Some(ClientEvent::BodyEnd { id: i, .. }) if *i == id)
    );
    p.advance(Duration::from_secs(29));
    assert!(!p.server.is_closed());
    p.advance(Duration::from_secs(1));
    assert!(p.server.is_closed());
}

#[test]
fn client_reads_until_close_and_chunked() {
    let mut p = Pair::new(Config::default());
    // HTTP/1.0-style response: no length, ends at EOF.
    let id = p
        .client
        .send_request(Request::new("GET", "/", &[("Host", b"h")]), Body::Empty)
        .unwrap();
    let _ = p.client.poll_transmit(&mut bytes::BytesMut::new());
    let mut buf = bytes::BytesMut::from(&b"HTTP/1.0 200 OK\r\n\r\nstream of bytes"[..]);
    let now = p.now;
    p.client.handle_input(now, &mut buf);
    p.client.handle_eof(now);
    let ev: Vec<_> = std::iter::from_fn(|| p.client.poll_event()).collect();
    assert!(matches!(&ev[1], ClientEvent::Body { chunk, .. } if chunk == "stream of bytes"));
    assert!(matches!(&ev[2], ClientEvent::BodyEnd { id: i, .. } if *i == id));
    assert!(p.client.is_closed());
}

#[test]
fn client_rejects_bad_responses() {
    use proto_http::ProtoErrorKind as K;
    let now = std::time::Instant::now();
    let cases: &[(&[u8], K)] = &[
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            K::BadContentLength,
        ),
        (b"HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n", K::BadHeaderValue),
        (b"HTTP/1.1 2000 OK\r\n\r\n", K::BadStatusLine),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            K::BadChunk,
        ),
    ];
    for (input, kind) in cases {
        let mut c = proto_http::h1::client::ClientConnection::new(Default::default());
        c.send_request(Request::new("GET", "/", &[]), Body::Empty)
            .unwrap();
        let mut buf = bytes::BytesMut::from(*input);
        c.handle_input(now, &mut buf);
        let ev: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
        assert!(
            matches!(ev.last(), Some(ClientEvent::Error(e)) if e.kind() == *kind),
            "{ev:?}"
        );
        assert!(c.is_closed());
    }
    // A response nobody asked for.
    let mut c = proto_http::h1::client::ClientConnection::new(Default::default());
    let mut buf = bytes::BytesMut::from(&b"HTTP/1.1 200 OK\r\n\r\n"[..]);
    c.handle_input(now, &mut buf);
    assert!(
        matches!(c.poll_event(), Some(ClientEvent::Error(e)) if e.kind() == K::UnsolicitedResponse)
    );
    // Streaming one body at a time.
    let mut c = proto_http::h1::client::ClientConnection::new(Default::default());
    let id = c
        .send_request(
            Request::new("POST", "/", &[]),
            Body::Stream { length: None },
        )
        .unwrap();
    assert_eq!(
        c.send_request(Request::new("GET", "/", &[]), Body::Empty)
            .err(),
        Some(proto_http::UserError::BodyInProgress)
    );
    c.send_end(id).unwrap();
}

#[test]
fn expect_continue_through_the_pair() {
    let mut p = Pair::new(Config::default());
    let id = p
        .client
        .send_request(
            Request::new("PUT", "/up", &[("Host", b"h"), ("Expect", b"100-continue")]),
            Body::Stream { length: Some(5) },
        )
        .unwrap();
    p.drive();
    let sid = match &p.take_server_events()[0] {
        Event::Request { id, head } => {
            assert!(head.expects_continue());
            *id
        }
        e => panic!("{e:?}"),
    };
    // The application starts reading the body: 100 goes out.
    p.server.send_continue(sid).unwrap();
    p.drive();
    assert!(
        matches!(&p.take_client_events()[..], [ClientEvent::Informational { id: i, head }] if *i == id && head.status() == StatusCode::CONTINUE)
    );
    p.client
        .send_body_chunk(id, Bytes::from_static(b"hello"))
        .unwrap();
    p.client.send_end(id).unwrap();
    p.drive();
    let ev = p.take_server_events();
    assert!(
        matches!(&ev[..], [Event::Body { chunk, .. }, Event::BodyEnd { .. }] if chunk == "hello")
    );
    p.server
        .send_response(
            sid,
            ResponseHead::new(StatusCode::CREATED, &[]),
            Body::Empty,
        )
        .unwrap();
    p.drive();
    assert!(
        matches!(&p.take_client_events()[0], ClientEvent::Response { head, .. } if head.status() == StatusCode::CREATED)
    );
    assert!(!p.server.wants_close());
}

#[test]
fn connect_tunnel_switches_both_sides() {
    let mut p = Pair::new(Config::default());
    p.client
        .send_request(
            Request::new(
                "CONNECT",
                "example.com:443",
                &[("Host", b"example.com:443")],
            ),
            Body::Empty,
        )
        .unwrap();
    p.drive();
    let sid = match &p.take_server_events()[0] {
        Event::Request { id, .. } => *id,
        e => panic!("{e:?}"),
    };
    p.server
        .send_response(sid, ResponseHead::new(StatusCode::OK, &[]), Body::Empty)
        .unwrap();
    p.drive();
    assert!(matches!(
        &p.take_server_events()[..],
        [Event::Switched { .. }]
    ));
    assert!(p.server.is_switched());
    let ev = p.take_client_events();
    assert!(
        matches!(&ev[0], ClientEvent::Response { head, .. } if head.status() == StatusCode::OK)
    );
    assert!(
        p.client.is_closed(),
        "the client stops parsing HTTP after the tunnel opens"
    );
}

#[test]
fn stray_crlf_between_requests_is_ignored() {
    let mut p = Pair::new(Config::default());
    p.to_server.extend_from_slice(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    p.drive();
    let n = p
        .take_server_events()
        .iter()
        .filter(|e| matches!(e, Event::Request { .. }))
        .count();
    assert_eq!(n, 2);
}
