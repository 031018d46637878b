//! Server connection behaviour: framing, smuggling defences, limits,
//! pipelining, expect-continue, timeouts and protocol switching.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use proto_http::h1::{
    Body, Config, Connection, ContinuePolicy, Event, Limits, RequestId, ResponseHead,
};
use proto_http::{ProtoErrorKind as K, StatusCode, UserError};

struct Server {
    conn: Connection,
    inbuf: BytesMut,
    now: Instant,
}

impl Server {
    fn new(config: Config) -> Server {
        let mut conn = Connection::new(config);
        conn.set_date_unix(784_111_777);
        Server {
            conn,
            inbuf: BytesMut::new(),
            now: Instant::now(),
        }
    }

    fn default() -> Server {
        Server::new(Config::default())
    }

    fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.inbuf.extend_from_slice(bytes);
        self.conn.handle_input(self.now, &mut self.inbuf);
        self.events()
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.conn.poll_event()).collect()
    }

    fn out(&mut self) -> String {
        let mut out = BytesMut::new();
        let _ = self.conn.poll_transmit(&mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
    }

    fn ok(&mut self, id: RequestId, body: &'static str) {
        self.conn
            .send_response(
                id,
                ResponseHead::new(StatusCode::OK, &[]),
                Body::Full(Bytes::from_static(body.as_bytes())),
            )
            .unwrap();
    }
}

const DATE: &str = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

fn req_id(e: &Event) -> RequestId {
    match e {
        Event::Request { id, .. } => *id,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn error_response(status: &str) -> String {
    format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n{DATE}Connection: close\r\n\r\n")
}

#[test]
fn simple_get_and_keep_alive() {
    let mut s = Server::default();
    let ev = s.feed(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(ev.len(), 2);
    let id = req_id(&ev[0]);
    if let Event::Request { head, .. } = &ev[0] {
        assert_eq!(head.target_bytes(), "/hello");
        assert_eq!(head.headers().get_bytes("HOST").unwrap(), "x");
        assert_eq!(head.clone().into_headers().len(), 1);
    }
    assert!(matches!(&ev[1], Event::BodyEnd { id: i, trailers: None } if *i == id));
    s.ok(id, "hi");
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n{DATE}\r\nhi")
    );
    assert!(!s.conn.wants_close());
    let ev = s.feed(b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(req_id(&ev[0]).as_u64(), 1);
}

#[test]
fn rejects_with_exact_status_and_closes() {
    let small = Config {
        limits: Limits {
            max_request_line: 64,
            max_head_bytes: 256,
            max_headers: 4,
            max_body: 100,
            ..Limits::default()
        },
        ..Config::default()
    };
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100));
    let big_head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nA: {}\r\n\r\n",
        "b".repeat(300)
    );
    let cases: Vec<(Vec<u8>, K, &str)> = vec![
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(), K::ContentLengthWithTransferEncoding, "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n".to_vec(), K::BadContentLength, "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(), K::BadContentLength, "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(), K::BadTransferEncoding, "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(), K::UnknownTransferCoding, "501 Not Implemented"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n".to_vec(), K::BadTransferEncoding, "400 Bad Request"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n".to_vec(), K::BadTransferEncoding, "400 Bad Request"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n".to_vec(), K::ObsFold, "400 Bad Request"),
        (b"GE@T / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), K::BadMethod, "400 Bad Request"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nA\x01: b\r\n\r\n".to_vec(), K::BadHeaderName, "400 Bad Request"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n".to_vec(), K::BadHeaderValue, "400 Bad Request"),
        (b"GET / HTTP/1.1\nHost: x\r\n\r\n".to_vec(), K::BareLineEnding, "400 Bad Request"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nA: b\n\r\n".to_vec(), K::BareLineEnding, "400 Bad Request"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nA: \0\r\n\r\n".to_vec(), K::BadHeaderValue, "400 Bad Request"),
        (b"GET / HTTP/3.0\r\nHost: x\r\n\r\n".to_vec(), K::UnsupportedVersion, "505 HTTP Version Not Supported"),
        (long_target.into_bytes(), K::RequestLineTooLong, "414 URI Too Long"),
        (big_head.into_bytes(), K::HeadersTooLarge, "431 Request Header Fields Too Large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n".to_vec(), K::TooManyHeaders, "431 Request Header Fields Too Large"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n".to_vec(), K::BodyTooLarge, "413 Content Too Large"),
    ];
    for (input, kind, status) in cases {
        let mut s = Server::new(small.clone());
        let ev = s.feed(&input);
        assert_eq!(ev.len(), 1, "{}: {ev:?}", String::from_utf8_lossy(&input));
        match &ev[0] {
            Event::Error { id: None, error } => {
                assert_eq!(error.kind(), kind, "{}", String::from_utf8_lossy(&input))
            }
            other => panic!("{other:?}"),
        }
        assert!(s.conn.wants_close());
        assert_eq!(s.out(), error_response(status));
        assert!(s.conn.is_closed());
        // Anything after is discarded, never parsed.
        assert!(s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_empty());
        assert!(s.inbuf.is_empty());
    }
}

#[test]
fn chunked_body_too_large_midway_is_413() {
    let mut s = Server::new(Config {
        limits: Limits {
            max_body: 10,
            ..Limits::default()
        },
        ..Config::default()
    });
    let ev = s.feed(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n",
    );
    let id = req_id(&ev[0]);
    assert!(matches!(&ev[1], Event::Body { chunk, .. } if chunk == "12345678"));
    assert!(
        matches!(&ev[2], Event::Error { id: Some(i), error } if *i == id && error.status().as_u16() == 413)
    );
    assert_eq!(s.out(), error_response("413 Content Too Large"));
    assert!(s.conn.is_closed());
    // The application's late answer is refused: the connection answered.
    assert_eq!(
        s.conn
            .send_response(id, ResponseHead::new(StatusCode::OK, &[]), Body::Empty),
        Err(UserError::Closed)
    );
}

#[test]
fn chunked_request_with_trailers() {
    let mut s = Server::default();
    let ev = s.feed(b"POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nChecksum: abc\r\n\r\n");
    let id = req_id(&ev[0]);
    let body: Vec<u8> = ev
        .iter()
        .filter_map(|e| {
            if let Event::Body { chunk, .. } = e {
                Some(chunk.to_vec())
            } else {
                None
            }
        })
        .flatten()
        .collect();
    assert_eq!(body, b"hello world");
    match ev.last().unwrap() {
        Event::BodyEnd {
            id: i,
            trailers: Some(t),
        } => {
            assert_eq!(*i, id);
            assert_eq!(t.get("checksum"), Some(&b"abc"[..]));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pipelined_responses_go_out_in_request_order() {
    let mut s = Server::default();
    let ev = s.feed(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
    let ids: Vec<RequestId> = ev
        .iter()
        .filter(|e| matches!(e, Event::Request { .. }))
        .map(req_id)
        .collect();
    assert_eq!(ids.len(), 3);
    s.ok(ids[2], "three");
    s.ok(ids[1], "two");
    assert_eq!(s.out(), "");
    s.ok(ids[0], "one");
    let out = s.out();
    let a = out.find("one").unwrap();
    let b = out.find("two").unwrap();
    let c = out.find("three").unwrap();
    assert!(a < b && b < c, "{out}");
    assert_eq!(s.conn.in_flight(), 0);
}

#[test]
fn pipelining_depth_is_bounded() {
    let mut s = Server::new(Config {
        max_pipelined: 2,
        ..Config::default()
    });
    let ev = s.feed(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3));
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::Request { .. }))
            .count(),
        2
    );
    assert!(!s.inbuf.is_empty());
    assert!(!s.conn.wants_input());
    s.ok(req_id(&ev[0]), "");
    assert!(s.conn.wants_input());
    let ev = s.feed(b"");
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, Event::Request { .. }))
            .count(),
        1
    );
    assert!(s.inbuf.is_empty());
}

#[test]
fn error_after_valid_pipelined_request_waits_for_its_response() {
    let mut s = Server::default();
    let ev = s.feed(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n");
    let id = req_id(&ev[0]);
    assert!(matches!(ev.last().unwrap(), Event::Error { id: None, .. }));
    assert_eq!(s.out(), "");
    assert!(!s.conn.is_closed());
    s.ok(id, "ok");
    let out = s.out();
    assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(out.ends_with(&error_response("400 Bad Request")), "{out}");
    assert!(s.conn.is_closed());
}

#[test]
fn head_response_has_length_but_no_body() {
    let mut s = Server::default();
    let ev = s.feed(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    s.ok(req_id(&ev[0]), "hello");
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n{DATE}\r\n")
    );
    let ev = s.feed(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    let id = req_id(&ev[0]);
    s.conn
        .send_response(
            id,
            ResponseHead::new(StatusCode::OK, &[]),
            Body::Stream { length: None },
        )
        .unwrap();
    s.conn
        .send_body_chunk(id, Bytes::from_static(b"data"))
        .unwrap();
    s.conn.send_end(id).unwrap();
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{DATE}\r\n")
    );
}

#[test]
fn http10_keep_alive_rules() {
    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.0\r\n\r\n");
    s.ok(req_id(&ev[0]), "x");
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n{DATE}Connection: close\r\n\r\nx")
    );
    assert!(s.conn.is_closed());

    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    s.ok(req_id(&ev[0]), "x");
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n{DATE}Connection: keep-alive\r\n\r\nx")
    );
    assert!(!s.conn.wants_close());

    // A stream of unknown length to HTTP/1.0 is delimited by close.
    let ev = s.feed(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    let id = req_id(&ev[0]);
    s.conn
        .send_response(
            id,
            ResponseHead::new(StatusCode::OK, &[]),
            Body::Stream { length: None },
        )
        .unwrap();
    s.conn
        .send_body_chunk(id, Bytes::from_static(b"abc"))
        .unwrap();
    s.conn.send_end(id).unwrap();
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\n{DATE}Connection: close\r\n\r\nabc")
    );
    assert!(s.conn.is_closed());
}

#[test]
fn connection_close_request_stops_reading() {
    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(ev.len(), 2);
    s.ok(req_id(&ev[0]), "");
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n{DATE}Connection: close\r\n\r\n")
    );
    assert!(s.conn.is_closed());
}

#[test]
fn app_connection_close_is_honoured() {
    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    s.conn
        .send_response(
            req_id(&ev[0]),
            ResponseHead::new(StatusCode::OK, &[("Connection", b"close")]),
            Body::Empty,
        )
        .unwrap();
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n{DATE}\r\n")
    );
    assert!(s.conn.is_closed());
}

#[test]
fn streaming_response_chunked_and_length_checks() {
    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let id = req_id(&ev[0]);
    s.conn
        .send_response(
            id,
            ResponseHead::new(StatusCode::OK, &[("X", b"1")]),
            Body::Stream { length: None },
        )
        .unwrap();
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nX: 1\r\nTransfer-Encoding: chunked\r\n{DATE}\r\n")
    );
    s.conn
        .send_body_chunk(id, Bytes::from_static(b"hello"))
        .unwrap();
    s.conn.send_body_chunk(id, Bytes::new()).unwrap();
    s.conn.send_end_with_trailers(id, &[("T", b"v")]).unwrap();
    assert_eq!(s.out(), "5\r\nhello\r\n0\r\nT: v\r\n\r\n");
    assert_eq!(s.conn.send_end(id), Err(UserError::UnknownRequest));

    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let id = req_id(&ev[0]);
    s.conn
        .send_response(
            id,
            ResponseHead::new(StatusCode::OK, &[]),
            Body::Stream { length: Some(3) },
        )
        .unwrap();
    assert_eq!(
        s.conn.send_body_chunk(id, Bytes::from_static(b"abcd")),
        Err(UserError::LengthMismatch)
    );
    s.conn
        .send_body_chunk(id, Bytes::from_static(b"ab"))
        .unwrap();
    assert_eq!(s.conn.send_end(id), Err(UserError::LengthMismatch));
    s.conn
        .send_body_chunk(id, Bytes::from_static(b"c"))
        .unwrap();
    s.conn.send_end(id).unwrap();
    assert_eq!(
        s.out(),
        format!("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n{DATE}\r\nabc")
    );
    // A large body goes out intact.
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let big = Bytes::from(vec![b'z'; 100_000]);
    s.conn
        .send_response(
            req_id(&ev[0]),
            ResponseHead::new(StatusCode::OK, &[]),
            Body::Full(big),
        )
        .unwrap();
    let out = s.out();
    assert!(out.ends_with(&"z".repeat(100_000)) && out.contains("Content-Length: 100000\r\n"));
}

#[test]
fn misuse_is_reported_and_changes_nothing() {
    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let id = req_id(&ev[0]);
    let bad = ResponseHead::new(StatusCode::OK, &[("X", b"a\r\nSet-Cookie: evil")]);
    assert_eq!(
        s.conn.send_response(id, bad, Body::Empty),
        Err(UserError::InvalidHeader)
    );
    let framing = ResponseHead::new(StatusCode::OK, &[("Content-Length", b"5")]);
    assert_eq!(
        s.conn.send_response(id, framing, Body::Empty),
        Err(UserError::FramingHeader)
    );
    assert_eq!(
        s.conn.send_response(
            id,
            ResponseHead::new(StatusCode::CONTINUE, &[]),
            Body::Empty
        ),
        Err(UserError::InvalidStatus)
    );
    assert_eq!(
        s.conn.send_response(
            id,
            ResponseHead::new(StatusCode::SWITCHING_PROTOCOLS, &[]),
            Body::Empty
        ),
        Err(UserError::InvalidStatus)
    );
    assert_eq!(
        s.conn.send_response(
            id,
            ResponseHead::new(StatusCode::NO_CONTENT, &[]),
            Body::Full(Bytes::from_static(b"x"))
        ),
        Err(UserError::InvalidStatus)
    );
    assert_eq!(
        s.conn.send_body_chunk(id, Bytes::new()),
        Err(UserError::NotStreaming)
    );
    assert_eq!(
        s.conn.send_response(
            RequestId::from_u64_for_tests(7),
            ResponseHead::new(StatusCode::OK, &[]),
            Body::Empty
        ),
        Err(UserError::UnknownRequest)
    );
    assert_eq!(s.out(), "");
    s.conn
        .send_response(
            id,
            ResponseHead::new(StatusCode::NO_CONTENT, &[]),
            Body::Empty,
        )
        .unwrap();
    assert_eq!(s.out(), format!("HTTP/1.1 204 No Content\r\n{DATE}\r\n"));
    assert_eq!(
        s.conn
            .send_response(id, ResponseHead::new(StatusCode::OK, &[]), Body::Empty),
        Err(UserError::UnknownRequest)
    );
}

#[test]
fn expect_continue_on_read() {
    let mut s = Server::default();
    let ev =
        s.feed(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    let id = req_id(&ev[0]);
    match &ev[0] {
        Event::Request { head, .. } => assert!(head.expects_continue()),
        _ => unreachable!(),
    }
    assert_eq!(s.out(), "");
    // No body timer while the client waits for us.
    assert_eq!(s.conn.poll_timeout(), None);
    s.conn.send_continue(id).unwrap();
    assert_eq!(s.out(), "HTTP/1.1 100 Continue\r\n\r\n");
    assert!(s.conn.poll_timeout().is_some());
    let ev = s.feed(b"body");
    assert!(matches!(&ev[0], Event::Body { chunk, .. } if chunk == "body"));
    assert!(matches!(&ev[1], Event::BodyEnd { .. }));
    s.ok(id, "");
    assert!(s.out().starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(!s.conn.wants_close());
}

#[test]
fn expect_continue_refused_closes() {
    let mut s = Server::default();
    let ev =
        s.feed(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    let id = req_id(&ev[0]);
    s.conn
        .send_response(
            id,
            ResponseHead::new(StatusCode::PAYLOAD_TOO_LARGE, &[]),
            Body::Empty,
        )
        .unwrap();
    assert_eq!(
        s.out(),
        format!(
            "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n{DATE}Connection: close\r\n\r\n"
        )
    );
    assert!(s.conn.is_closed());
}

#[test]
fn expect_continue_immediate_policy() {
    let mut s = Server::new(Config {
        continue_policy: ContinuePolicy::Immediate,
        ..Config::default()
    });
    let _ =
        s.feed(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(s.out(), "HTTP/1.1 100 Continue\r\n\r\n");
}

#[test]
fn slow_loris_is_cut_at_header_timeout_from_first_byte() {
    let mut s = Server::new(Config {
        header_timeout: Some(Duration::from_secs(10)),
        ..Config::default()
    });
    let start = s.now;
    let mut events = Vec::new();
    for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
        events.extend(s.feed(&[*b]));
        // Each byte arrives a second later; the deadline never moves.
        assert_eq!(s.conn.poll_timeout(), Some(start + Duration::from_secs(10)));
        s.advance(Duration::from_secs(1));
        events.extend(s.events());
        if s.conn.wants_close() {
            break;
        }
    }
    assert_eq!(s.now, start + Duration::from_secs(10));
    assert!(
        matches!(events.as_slice(), [Event::Error { id: None, error }] if error.kind() == K::HeaderTimeout)
    );
    assert_eq!(s.out(), error_response("408 Request Timeout"));
    assert!(s.conn.is_closed());
}

#[test]
fn idle_and_body_timeouts() {
    let mut s = Server::new(Config {
        idle_timeout: Some(Duration::from_secs(5)),
        body_timeout: Some(Duration::from_secs(3)),
        ..Config::default()
    });
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // While the application works there is no timer.
    assert_eq!(s.conn.poll_timeout(), None);
    s.ok(req_id(&ev[0]), "");
    let _ = s.out();
    assert_eq!(s.conn.poll_timeout(), Some(s.now + Duration::from_secs(5)));
    s.advance(Duration::from_secs(4));
    assert!(!s.conn.wants_close());
    s.advance(Duration::from_secs(1));
    assert!(s.conn.is_closed());
    assert_eq!(s.out(), "");
    assert!(s.events().is_empty());

    let mut s = Server::new(Config {
        body_timeout: Some(Duration::from_secs(3)),
        ..Config::default()
    });
    let ev = s.feed(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
    let id = req_id(&ev[0]);
    s.advance(Duration::from_secs(2));
    let _ = s.feed(b"cd");
    s.advance(Duration::from_secs(2));
    assert!(!s.conn.wants_close(), "progress refreshes the body timer");
    s.advance(Duration::from_secs(1));
    let ev = s.events();
    assert!(
        matches!(ev.as_slice(), [Event::Error { id: Some(i), error }] if *i == id && error.kind() == K::BodyTimeout)
    );
    assert_eq!(s.out(), error_response("408 Request Timeout"));
}

#[test]
fn eof_handling() {
    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    s.conn.handle_eof(s.now);
    assert!(s.conn.wants_close() && !s.conn.is_closed());
    s.ok(req_id(&ev[0]), "late");
    assert!(s.out().ends_with("late"));
    assert!(s.conn.is_closed());

    let mut s = Server::default();
    let ev = s.feed(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
    s.conn.handle_eof(s.now);
    let ev2 = s.events();
    assert!(
        matches!(ev2.as_slice(), [Event::Error { id: Some(i), error }] if *i == req_id(&ev[0]) && error.kind() == K::UnexpectedEof)
    );

    let mut s = Server::default();
    let _ = s.feed(b"GET / HT");
    s.conn.handle_eof(s.now);
    assert!(matches!(
        s.events().as_slice(),
        [Event::Error { id: None, .. }]
    ));
    assert_eq!(s.out(), "");
    assert!(s.conn.is_closed());
}

#[test]
fn h2c_upgrade_hands_over_trailing_bytes() {
    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    let id = req_id(&ev[0]);
    match &ev[0] {
        Event::Request { head, .. } => assert_eq!(head.upgrade(), Some(&b"h2c"[..])),
        _ => unreachable!(),
    }
    // Parsing pauses: the bytes after the request stay in the buffer.
    assert_eq!(&s.inbuf[..], b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    assert!(!s.conn.wants_input());
    s.conn
        .send_response(
            id,
            ResponseHead::new(
                StatusCode::SWITCHING_PROTOCOLS,
                &[("Connection", b"Upgrade"), ("Upgrade", b"h2c")],
            ),
            Body::Empty,
        )
        .unwrap();
    assert_eq!(
        s.out(),
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n{DATE}\r\n"
        )
    );
    assert!(matches!(s.events().as_slice(), [Event::Switched { id: i }] if *i == id));
    assert!(s.conn.is_switched());
    assert!(s.feed(b"more").is_empty());
    assert_eq!(&s.inbuf[..], b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nmore");
    assert_eq!(proto_http::h1::is_h2_preface(&s.inbuf), Some(true));
}

#[test]
fn declined_upgrade_keeps_serving_http1() {
    let mut s = Server::default();
    let ev = s.feed(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(ev.len(), 2);
    s.ok(req_id(&ev[0]), "no");
    let ev = s.feed(b"");
    assert_eq!(req_id(&ev[0]).as_u64(), 1);
}

#[test]
fn tiny_chunks_are_delivered_in_bounded_batches() {
    let mut s = Server::default();
    let mut input = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..1000 {
        input.extend_from_slice(b"1\r\nz\r\n");
    }
    input.extend_from_slice(b"0\r\n\r\n");
    let first = s.feed(&input);
    assert!(first.len() <= 70, "{} events from one call", first.len());
    assert!(!s.inbuf.is_empty());
    let mut all = first;
    loop {
        let before = s.inbuf.len();
        all.extend(s.feed(b""));
        if s.inbuf.is_empty() || s.inbuf.len() == before {
            break;
        }
    }
    let body: usize = all
        .iter()
        .map(|e| {
            if let Event::Body { chunk, .. } = e {
                chunk.len()
            } else {
                0
            }
        })
        .sum();
    assert_eq!(body, 1000);
    assert!(matches!(all.last(), Some(Event::BodyEnd { .. })));
}
