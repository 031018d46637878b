//! Unit tests of the server connection: each frame type's malformed forms
//! (wrong length, wrong stream, wrong state) and the error RFC 9113 names,
//! flow control, limits and floods, responses, h2c, split invariance.

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};

use super::*;
use crate::h1::Body;
use crate::h2::FloodLimit;
use crate::h2::frame::{Continuation, Headers, Priority, PrioritySpec, kind};
use crate::h2::hpack;

/// A frame as the server wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Out {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

impl Out {
    fn code(&self) -> ErrorCode {
        let p = &self.payload;
        let at = if self.kind == kind::GOAWAY { 4 } else { 0 };
        ErrorCode::from_u32(u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]))
    }
}

/// A test client: an HPACK encoder/decoder pair and a clock.
struct Peer {
    conn: ServerConnection,
    enc: hpack::Encoder,
    dec: hpack::Decoder,
    now: Instant,
    events: Vec<Event>,
    out: Vec<Out>,
}

fn req(path: &str) -> Vec<HeaderField> {
    vec![
        HeaderField::new(":method", "GET"),
        HeaderField::new(":scheme", "http"),
        HeaderField::new(":authority", "example.com"),
        HeaderField::new(":path", path.to_owned()),
    ]
}

fn post(path: &str, extra: &[(&'static str, &'static str)]) -> Vec<HeaderField> {
    let mut f = req(path);
    f[0] = HeaderField::new(":method", "POST");
    f.extend(extra.iter().map(|(n, v)| HeaderField::new(*n, *v)));
    f
}

fn raw_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> BytesMut {
    let mut b = BytesMut::new();
    b.put_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    b.put_u8(kind);
    b.put_u8(flags);
    b.put_u32(stream);
    b.put_slice(payload);
    b
}

impl Peer {
    fn new(config: Config) -> Peer {
        Peer {
            conn: ServerConnection::new(config),
            enc: hpack::Encoder::default(),
            dec: hpack::Decoder::default(),
            now: Instant::now(),
            events: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Preface, SETTINGS, ACK of the server's SETTINGS; output drained.
    fn ready(config: Config) -> Peer {
        let mut p = Peer::new(config);
        let mut b = BytesMut::from(&PREFACE[..]);
        frame::encode_settings(&[], &mut b);
        Settings::ACK.encode(&mut b);
        p.send(b);
        assert!(
            p.out
                .iter()
                .any(|f| f.kind == kind::SETTINGS && f.flags == 1)
        );
        p.out.clear();
        p
    }

    /// Feeds bytes; drains events and output.
    fn send(&mut self, mut b: BytesMut) {
        loop {
            let before = b.len();
            self.conn.handle_input(self.now, &mut b);
            self.drain();
            if b.is_empty() || b.len() == before {
                break;
            }
        }
    }

    fn drain(&mut self) {
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
        let mut out = BytesMut::new();
        while self.conn.poll_transmit(&mut out) > 0 {}
        let mut rest = &out[..];
        while let Some(h) = FrameHeader::parse(rest) {
            let len = FRAME_HEADER_LEN + h.length as usize;
            self.out.push(Out {
                kind: h.kind,
                flags: h.flags,
                stream: h.stream_id.get(),
                payload: rest[FRAME_HEADER_LEN..len].to_vec(),
            });
            rest = &rest[len..];
        }
        assert!(rest.is_empty());
    }

    fn headers(&mut self, id: u32, fields: &[HeaderField], end_stream: bool) {
        let mut block = BytesMut::new();
        self.enc.encode(fields, &mut block);
        let mut b = BytesMut::new();
        frame::encode_header_block(StreamId::new(id), &block, end_stream, 16_384, &mut b);
        self.send(b);
    }

    fn data(&mut self, id: u32, data: &[u8], end_stream: bool) {
        let mut b = BytesMut::new();
        Data {
            stream_id: StreamId::new(id),
            data,
            end_stream,
            pad_len: None,
        }
        .encode(&mut b);
        self.send(b);
    }

    fn raw(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        self.send(raw_frame(kind, flags, stream, payload));
    }

    fn goaway(&self) -> Option<ErrorCode> {
        self.out
            .iter()
            .find(|f| f.kind == kind::GOAWAY)
            .map(Out::code)
    }

    fn rst(&self, id: u32) -> Option<ErrorCode> {
        self.out
            .iter()
            .find(|f| f.kind == kind::RST_STREAM && f.stream == id)
            .map(Out::code)
    }

    fn respond(&mut self, id: u32, body: Body) {
        self.conn
            .send_response(
                StreamId::new(id),
                ResponseHead::new(StatusCode::OK, &[]),
                body,
            )
            .unwrap();
        self.drain();
    }

    /// Decoded response head fields of `id` (first HEADERS block).
    fn response_fields(&mut self, id: u32) -> Vec<HeaderField> {
        let f = self
            .out
            .iter()
            .find(|f| f.kind == kind::HEADERS && f.stream == id)
            .expect("response HEADERS")
            .clone();
        self.dec.decode(&Bytes::from(f.payload)).unwrap()
    }

    fn data_for(&self, id: u32) -> Vec<u8> {
        self.out
            .iter()
            .filter(|f| f.kind == kind::DATA && f.stream == id)
            .flat_map(|f| f.payload.clone())
            .collect()
    }

    fn requests(&self) -> Vec<u32> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Request { stream, .. } => Some(stream.get()),
                _ => None,
            })
            .collect()
    }
}

/// A connection error with `code` and the connection closes.
fn assert_conn_error(p: &mut Peer, code: ErrorCode) {
    assert_eq!(p.goaway(), Some(code), "{:?}", p.out);
    assert!(
        p.events
            .iter()
            .any(|e| matches!(e, Event::Error { error } if error.code() == code))
    );
    assert!(p.conn.is_closed());
}

// ---- §3.4 preface -------------------------------------------------------------

#[test]
fn bad_preface_and_missing_settings_are_protocol_errors() {
    let mut p = Peer::new(Config::default());
    p.send(BytesMut::from(&b"GET / HTTP/1.1\r\n\r\n"[..]));
    assert_conn_error(&mut p, ErrorCode::ProtocolError);

    // §3.4: the preface must be followed by SETTINGS.
    let mut p = Peer::new(Config::default());
    let mut b = BytesMut::from(&PREFACE[..]);
    Ping {
        ack: false,
        payload: [0; 8],
    }
    .encode(&mut b);
    p.send(b);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);

    // A partial preface waits.
    let mut p = Peer::new(Config::default());
    p.send(BytesMut::from(&PREFACE[..10]));
    assert!(p.goaway().is_none() && !p.conn.is_closed());
}

#[test]
fn settings_are_acknowledged_and_announced() {
    let mut p = Peer::new(Config::default());
    // Our SETTINGS then the connection WINDOW_UPDATE come first.
    p.drain();
    assert_eq!(p.out[0].kind, kind::SETTINGS);
    assert_eq!(p.out[0].flags, 0);
    assert_eq!(p.out[1].kind, kind::WINDOW_UPDATE);
    p.out.clear();
    let mut b = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(
        &[
            Setting::InitialWindowSize(10),
            Setting::MaxFrameSize(20_000),
        ],
        &mut b,
    );
    p.send(b);
    assert_eq!(p.out.len(), 1);
    assert_eq!((p.out[0].kind, p.out[0].flags), (kind::SETTINGS, 1));
    assert_eq!(p.conn.peer.initial_window_size, 10);
    assert_eq!(p.conn.peer.max_frame_size, 20_000);
}

// ---- §6.5 SETTINGS ---------------------------------------------------------------

#[test]
fn malformed_settings() {
    for (flags, stream, payload, code) in [
        // ACK with a payload: FRAME_SIZE_ERROR (§6.5).
        (1u8, 0u32, vec![0u8; 6], ErrorCode::FrameSizeError),
        // Length not a multiple of 6: FRAME_SIZE_ERROR.
        (0, 0, vec![0; 5], ErrorCode::FrameSizeError),
        // On a stream: PROTOCOL_ERROR.
        (0, 1, vec![], ErrorCode::ProtocolError),
        // ENABLE_PUSH 2: PROTOCOL_ERROR (§6.5.2).
        (0, 0, vec![0, 2, 0, 0, 0, 2], ErrorCode::ProtocolError),
        // INITIAL_WINDOW_SIZE above 2^31-1: FLOW_CONTROL_ERROR.
        (0, 0, vec![0, 4, 0x80, 0, 0, 0], ErrorCode::FlowControlError),
        // MAX_FRAME_SIZE below 2^14: PROTOCOL_ERROR.
        (0, 0, vec![0, 5, 0, 0, 0x3f, 0xff], ErrorCode::ProtocolError),
    ] {
        let mut p = Peer::ready(Config::default());
        p.raw(kind::SETTINGS, flags, stream, &payload);
        assert_conn_error(&mut p, code);
    }
}

#[test]
fn initial_window_change_overflowing_a_stream_is_a_flow_control_error() {
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    let mut b = BytesMut::new();
    WindowUpdate {
        stream_id: StreamId::new(1),
        increment: (1 << 31) - 1 - 65_535,
    }
    .encode(&mut b);
    p.send(b);
    assert!(p.goaway().is_none());
    // §6.9.2: raising the initial window now overflows stream 1.
    p.raw(kind::SETTINGS, 0, 0, &[0, 4, 0, 1, 0, 0]);
    assert_conn_error(&mut p, ErrorCode::FlowControlError);
}

#[test]
fn settings_timeout() {
    let mut p = Peer::new(Config::default());
    let mut b = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(&[], &mut b);
    p.send(b);
    let deadline = p.conn.poll_timeout().unwrap();
    p.conn.handle_timeout(deadline - Duration::from_millis(1));
    p.drain();
    assert!(p.goaway().is_none());
    p.conn.handle_timeout(deadline);
    p.drain();
    assert_conn_error(&mut p, ErrorCode::SettingsTimeout);
}

// ---- §6.7 PING ----------------------------------------------------------------------

#[test]
fn ping_is_answered_and_malformed_pings_fail() {
    let mut p = Peer::ready(Config::default());
    p.raw(kind::PING, 0, 0, b"abcdefgh");
    assert_eq!(
        p.out,
        [Out {
            kind: kind::PING,
            flags: 1,
            stream: 0,
            payload: b"abcdefgh".to_vec()
        }]
    );
    p.out.clear();
    p.raw(kind::PING, 1, 0, b"abcdefgh");
    assert!(p.out.is_empty(), "an ACK is not answered");

    let mut p = Peer::ready(Config::default());
    p.raw(kind::PING, 0, 0, b"short");
    assert_conn_error(&mut p, ErrorCode::FrameSizeError);
    let mut p = Peer::ready(Config::default());
    p.raw(kind::PING, 0, 1, b"abcdefgh");
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
}

// ---- §6.8 GOAWAY ----------------------------------------------------------------------

#[test]
fn malformed_goaway_and_peer_goaway() {
    let mut p = Peer::ready(Config::default());
    p.raw(kind::GOAWAY, 0, 0, &[0; 7]);
    assert_conn_error(&mut p, ErrorCode::FrameSizeError);
    let mut p = Peer::ready(Config::default());
    p.raw(kind::GOAWAY, 0, 3, &[0; 8]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);

    // A peer's GOAWAY lets open streams finish, then the connection closes.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.raw(kind::GOAWAY, 0, 0, &[0; 8]);
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::GoAway {
            code: ErrorCode::NoError
        }
    )));
    assert!(!p.conn.is_closed());
    p.respond(1, Body::Full(Bytes::from_static(b"x")));
    assert!(p.conn.is_closed());
}

// ---- §6.9 WINDOW_UPDATE -------------------------------------------------------------

#[test]
fn malformed_window_updates() {
    let mut p = Peer::ready(Config::default());
    p.raw(kind::WINDOW_UPDATE, 0, 0, &[0, 0, 1]);
    assert_conn_error(&mut p, ErrorCode::FrameSizeError);
    // Zero increment on the connection: connection error.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::WINDOW_UPDATE, 0, 0, &[0, 0, 0, 0]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Zero increment on a stream: stream error.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), false);
    p.raw(kind::WINDOW_UPDATE, 0, 1, &[0, 0, 0, 0]);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
    assert!(p.events.iter().any(|e| matches!(e, Event::Reset { .. })));
    assert!(p.goaway().is_none());
    // On an idle stream: connection error.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::WINDOW_UPDATE, 0, 5, &[0, 0, 0, 1]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Overflowing the connection window.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::WINDOW_UPDATE, 0, 0, &[0x7f, 0xff, 0xff, 0xff]);
    assert_conn_error(&mut p, ErrorCode::FlowControlError);
    // Overflowing a stream window: stream error.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.raw(kind::WINDOW_UPDATE, 0, 1, &[0x7f, 0xff, 0xff, 0xff]);
    assert_eq!(p.rst(1), Some(ErrorCode::FlowControlError));
    assert!(p.goaway().is_none());
}

// ---- §6.4 RST_STREAM -------------------------------------------------------------------

#[test]
fn malformed_rst_stream_and_reset_of_an_open_stream() {
    let mut p = Peer::ready(Config::default());
    p.raw(kind::RST_STREAM, 0, 0, &[0, 0, 0, 8]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.raw(kind::RST_STREAM, 0, 1, &[0, 0, 8]);
    assert_conn_error(&mut p, ErrorCode::FrameSizeError);
    // §6.4: on an idle stream.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::RST_STREAM, 0, 1, &[0, 0, 0, 8]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);

    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.raw(kind::RST_STREAM, 0, 1, &[0, 0, 0, 8]);
    assert!(p.events.iter().any(
        |e| matches!(e, Event::Reset { stream, code: ErrorCode::Cancel } if stream.get() == 1)
    ));
    let err = p.conn.send_response(
        StreamId::new(1),
        ResponseHead::new(StatusCode::OK, &[]),
        Body::Empty,
    );
    assert_eq!(err, Err(UserError::UnknownRequest));
    // Frames for it afterwards are ignored (WINDOW_UPDATE, RST) or STREAM_CLOSED.
    p.raw(kind::WINDOW_UPDATE, 0, 1, &[0, 0, 0, 1]);
    p.raw(kind::RST_STREAM, 0, 1, &[0, 0, 0, 8]);
    assert!(p.out.is_empty(), "{:?}", p.out);
    p.data(1, b"x", false);
    assert_eq!(p.rst(1), Some(ErrorCode::StreamClosed));
    assert!(p.goaway().is_none());
}

// ---- §6.3 PRIORITY --------------------------------------------------------------------

#[test]
fn priority_is_ignored_and_malformed_priority_fails() {
    let mut p = Peer::ready(Config::default());
    let mut b = BytesMut::new();
    Priority {
        stream_id: StreamId::new(3),
        spec: PrioritySpec {
            exclusive: false,
            dependency: StreamId::new(1),
            weight: 10,
        },
    }
    .encode(&mut b);
    p.send(b);
    assert!(p.out.is_empty());
    // PRIORITY does not open the stream: stream 1 may still be opened.
    p.headers(1, &req("/"), true);
    assert_eq!(p.requests(), [1]);

    // Wrong length: stream error FRAME_SIZE_ERROR (§6.3).
    let mut p = Peer::ready(Config::default());
    p.raw(kind::PRIORITY, 0, 1, &[0; 4]);
    assert_eq!(p.rst(1), Some(ErrorCode::FrameSizeError));
    assert!(p.goaway().is_none());
    // Stream 0: connection error.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::PRIORITY, 0, 0, &[0; 5]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Self-dependency: stream error (§5.3.1).
    let mut p = Peer::ready(Config::default());
    p.raw(kind::PRIORITY, 0, 1, &[0, 0, 0, 1, 0]);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
}

// ---- §6.2 HEADERS, §6.10 CONTINUATION ---------------------------------------------------

#[test]
fn malformed_headers() {
    // Stream 0.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::HEADERS, 0x5, 0, &[0x82]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Even (server-initiated) stream id: §5.1.1.
    let mut p = Peer::ready(Config::default());
    p.headers(2, &req("/"), true);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Decreasing stream id: §5.1.1.
    let mut p = Peer::ready(Config::default());
    p.headers(5, &req("/"), true);
    p.headers(3, &req("/"), true);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Padding longer than the payload: §6.2.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::HEADERS, 0x4 | 0x8, 1, &[5, 0x82]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Invalid HPACK (index 0): COMPRESSION_ERROR.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::HEADERS, 0x5, 1, &[0x80]);
    assert_conn_error(&mut p, ErrorCode::CompressionError);
    // Malformed request (no :path): stream error PROTOCOL_ERROR (§8.1.1).
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/")[..3], true);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
    assert!(p.goaway().is_none() && p.requests().is_empty());
    // Uppercase field name (§8.2.1).
    let mut p = Peer::ready(Config::default());
    p.headers(
        1,
        &[req("/"), vec![HeaderField::new("X-A", "b")]].concat(),
        true,
    );
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
    // Self-dependency in HEADERS (§5.3.1).
    let mut p = Peer::ready(Config::default());
    let mut block = BytesMut::new();
    p.enc.encode(&req("/"), &mut block);
    let mut b = BytesMut::new();
    Headers {
        stream_id: StreamId::new(1),
        fragment: &block,
        end_stream: true,
        end_headers: true,
        priority: Some(PrioritySpec {
            exclusive: false,
            dependency: StreamId::new(1),
            weight: 0,
        }),
        pad_len: None,
    }
    .encode(&mut b);
    p.send(b);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
    assert!(p.goaway().is_none());
}

#[test]
fn headers_in_wrong_stream_states() {
    // §5.1 half-closed (remote): a second HEADERS is STREAM_CLOSED.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.headers(1, &[HeaderField::new("x", "y")], true);
    assert_eq!(p.rst(1), Some(ErrorCode::StreamClosed));
    assert!(p.goaway().is_none());
    // HEADERS on a stream closed normally: connection error STREAM_CLOSED.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.respond(1, Body::Empty);
    p.headers(1, &req("/"), true);
    assert_conn_error(&mut p, ErrorCode::StreamClosed);
    // Trailers without END_STREAM are malformed (§8.1).
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[]), false);
    p.headers(1, &[HeaderField::new("x", "y")], false);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
    // Trailers with a pseudo-header are malformed.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[]), false);
    p.headers(1, &[HeaderField::new(":path", "/")], true);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
    // Valid trailers end the request.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[]), false);
    p.data(1, b"abc", false);
    p.headers(1, &[HeaderField::new("x-sum", "6")], true);
    let trailers = p.events.iter().find_map(|e| match e {
        Event::End {
            trailers: Some(t), ..
        } => Some(t.get("x-sum").map(<[u8]>::to_vec)),
        _ => None,
    });
    assert_eq!(trailers, Some(Some(b"6".to_vec())));
}

#[test]
fn continuation_sequencing_and_flood() {
    // A block split over CONTINUATIONs assembles.
    let mut p = Peer::ready(Config::default());
    let mut block = BytesMut::new();
    p.enc.encode(&req("/split"), &mut block);
    let (a, b) = block.split_at(3);
    let mut wire = BytesMut::new();
    Headers {
        stream_id: StreamId::new(1),
        fragment: a,
        end_stream: true,
        end_headers: false,
        priority: None,
        pad_len: None,
    }
    .encode(&mut wire);
    Continuation {
        stream_id: StreamId::new(1),
        fragment: b,
        end_headers: true,
    }
    .encode(&mut wire);
    p.send(wire);
    assert_eq!(p.requests(), [1]);

    // CONTINUATION without a block: PROTOCOL_ERROR (§6.10).
    let mut p = Peer::ready(Config::default());
    p.raw(kind::CONTINUATION, 0x4, 1, &[0x82]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Another frame inside a block: PROTOCOL_ERROR.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::HEADERS, 0, 1, &[0x82]);
    p.raw(kind::PING, 0, 0, &[0; 8]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // CONTINUATION on another stream: PROTOCOL_ERROR.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::HEADERS, 0, 1, &[0x82]);
    p.raw(kind::CONTINUATION, 0x4, 3, &[0x84]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // CVE-2024-27316: endless empty CONTINUATIONs.
    let mut p = Peer::ready(Config::default());
    let mut wire = raw_frame(kind::HEADERS, 0, 1, &[0x82]);
    for _ in 0..1000 {
        wire.extend_from_slice(&raw_frame(kind::CONTINUATION, 0, 1, &[]));
    }
    p.send(wire);
    assert_conn_error(&mut p, ErrorCode::EnhanceYourCalm);
    // ... or a block larger than the cap.
    let mut p = Peer::ready(Config {
        max_continuation_frames: 1000,
        ..Config::default()
    });
    let mut wire = raw_frame(kind::HEADERS, 0, 1, &[0x82]);
    for _ in 0..4 {
        wire.extend_from_slice(&raw_frame(kind::CONTINUATION, 0, 1, &[0; 10_000]));
    }
    p.send(wire);
    assert_conn_error(&mut p, ErrorCode::EnhanceYourCalm);
}

#[test]
fn push_promise_from_a_client_is_a_protocol_error() {
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), false);
    p.raw(kind::PUSH_PROMISE, 0x4, 1, &[0, 0, 0, 2, 0x82]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
}

#[test]
fn oversized_frames_and_unknown_types() {
    let mut p = Peer::ready(Config::default());
    // §4.2: only the header is needed to reject it.
    let mut b = BytesMut::new();
    b.put_slice(&[0, 0x40, 0x01, kind::DATA, 0, 0, 0, 0, 1]);
    p.send(b);
    assert_conn_error(&mut p, ErrorCode::FrameSizeError);
    // §5.5: unknown frame types are ignored.
    let mut p = Peer::ready(Config::default());
    p.raw(0x42, 0xff, 7, b"whatever");
    assert!(p.out.is_empty() && !p.conn.is_closed());
    p.headers(1, &req("/"), true);
    assert_eq!(p.requests(), [1]);
}

// ---- §6.1 DATA, §6.9 flow control -----------------------------------------------------------

#[test]
fn malformed_data() {
    // Stream 0.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::DATA, 0, 0, b"x");
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Idle stream (§5.1).
    let mut p = Peer::ready(Config::default());
    p.data(1, b"x", false);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // Half-closed (remote): STREAM_CLOSED.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.data(1, b"x", false);
    assert_eq!(p.rst(1), Some(ErrorCode::StreamClosed));
    assert!(p.goaway().is_none());
    // Padding too long: connection PROTOCOL_ERROR (§6.1).
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[]), false);
    p.raw(kind::DATA, 0x8, 1, &[9, 1, 2]);
    assert_conn_error(&mut p, ErrorCode::ProtocolError);
    // More than content-length: stream error (§8.1.1).
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[("content-length", "2")]), false);
    p.data(1, b"abc", true);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
    // Less than content-length at END_STREAM.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[("content-length", "5")]), false);
    p.data(1, b"abc", true);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
    // content-length with END_STREAM on HEADERS.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[("content-length", "5")]), true);
    assert_eq!(p.rst(1), Some(ErrorCode::ProtocolError));
}

#[test]
fn request_body_flow_control() {
    let config = Config {
        initial_window_size: 65_535,
        connection_window_size: 65_535,
        ..Config::default()
    };
    let mut p = Peer::ready(config.clone());
    p.headers(1, &post("/", &[]), false);
    for _ in 0..3 {
        p.data(1, &[7; 10_000], false);
    }
    // The data was taken (polled): credit owed but under half: no update.
    assert!(
        p.out.iter().all(|f| f.kind != kind::WINDOW_UPDATE),
        "{:?}",
        p.out
    );
    p.data(1, &[7; 10_000], false);
    // Over half the window owed: one WINDOW_UPDATE each for stream and connection.
    let updates: Vec<_> = p
        .out
        .iter()
        .filter(|f| f.kind == kind::WINDOW_UPDATE)
        .map(|f| f.stream)
        .collect();
    assert_eq!(updates, [0, 1]);
    let body: usize = p
        .events
        .iter()
        .map(|e| match e {
            Event::Data { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(body, 40_000);

    // Exceeding the stream window: stream error; the connection window is
    // larger here.
    let mut p = Peer::ready(Config {
        connection_window_size: 1 << 20,
        ..config.clone()
    });
    p.headers(1, &post("/", &[]), false);
    let chunk = vec![0u8; 16_384];
    let mut wire = BytesMut::new();
    for _ in 0..5 {
        Data {
            stream_id: StreamId::new(1),
            data: &chunk,
            end_stream: false,
            pad_len: None,
        }
        .encode(&mut wire);
    }
    // Feed without polling events, so no credit goes back.
    p.conn.handle_input(p.now, &mut wire);
    let mut out = BytesMut::new();
    let _ = p.conn.poll_transmit(&mut out);
    assert!(
        out.windows(4).any(|w| w == [0, 0, 0, 3]),
        "RST FLOW_CONTROL_ERROR"
    );
    assert!(!p.conn.is_closed());

    // Exceeding the connection window: connection error.
    let mut p = Peer::ready(Config {
        initial_window_size: 1 << 20,
        ..config
    });
    p.headers(1, &post("/", &[]), false);
    let mut wire = BytesMut::new();
    for _ in 0..5 {
        Data {
            stream_id: StreamId::new(1),
            data: &chunk,
            end_stream: false,
            pad_len: None,
        }
        .encode(&mut wire);
    }
    p.conn.handle_input(p.now, &mut wire);
    let mut out = BytesMut::new();
    let _ = p.conn.poll_transmit(&mut out);
    let goaway = out.windows(2).position(|w| w == [0, 8]).is_some();
    assert!(goaway);
    while p.conn.poll_event().is_some() {}
    assert!(p.conn.is_closed() || p.conn.poll_transmit(&mut out) == 0);
}

#[test]
fn request_bodies_arrive_zero_copy_and_padding_is_credited() {
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/up", &[("content-length", "6")]), false);
    p.raw(kind::DATA, 0x8, 1, &[3, b'a', b'b', b'c', 0, 0, 0]);
    p.data(1, b"def", true);
    let body: Vec<u8> = p
        .events
        .iter()
        .flat_map(|e| match e {
            Event::Data { data, .. } => data.to_vec(),
            _ => vec![],
        })
        .collect();
    assert_eq!(body, b"abcdef");
    assert!(matches!(
        p.events.last(),
        Some(Event::End { trailers: None, .. })
    ));
}

#[test]
fn oversized_bodies_are_answered_413() {
    let mut p = Peer::ready(Config {
        max_request_body: 10,
        ..Config::default()
    });
    p.headers(1, &post("/", &[("content-length", "11")]), false);
    let fields = p.response_fields(1);
    assert_eq!(&fields[0].value[..], b"413");
    assert_eq!(p.rst(1), Some(ErrorCode::NoError));
    assert!(p.requests().is_empty());
    // Without content-length, when the data passes the limit.
    let mut p = Peer::ready(Config {
        max_request_body: 10,
        ..Config::default()
    });
    p.headers(1, &post("/", &[]), false);
    p.data(1, &[0; 11], false);
    assert_eq!(&p.response_fields(1)[0].value[..], b"413");
    assert!(p.events.iter().any(|e| matches!(e, Event::Reset { .. })));
    // A header list over the limit: 431.
    let mut p = Peer::ready(Config {
        max_header_list_size: 200,
        ..Config::default()
    });
    p.headers(
        1,
        &[req("/"), vec![HeaderField::new("x", "y".repeat(300))]].concat(),
        true,
    );
    assert_eq!(&p.response_fields(1)[0].value[..], b"431");
    assert!(p.goaway().is_none());
}

// ---- §5.1.2 concurrency, floods -----------------------------------------------------------------

#[test]
fn streams_beyond_the_limit_are_refused() {
    let mut p = Peer::ready(Config {
        max_concurrent_streams: 2,
        ..Config::default()
    });
    for id in [1, 3, 5] {
        p.headers(id, &req("/"), true);
    }
    assert_eq!(p.requests(), [1, 3]);
    assert_eq!(p.rst(5), Some(ErrorCode::RefusedStream));
    p.respond(1, Body::Empty);
    p.headers(7, &req("/"), true);
    assert_eq!(p.requests(), [1, 3, 7]);
}

#[test]
fn rapid_reset_is_enhance_your_calm() {
    let mut p = Peer::ready(Config::default());
    let mut wire = BytesMut::new();
    let mut block = BytesMut::new();
    for i in 0..300u32 {
        let id = 1 + 2 * i;
        block.clear();
        p.enc.encode(&req("/"), &mut block);
        frame::encode_header_block(StreamId::new(id), &block, true, 16_384, &mut wire);
        RstStream {
            stream_id: StreamId::new(id),
            error_code: ErrorCode::Cancel,
        }
        .encode(&mut wire);
    }
    p.send(wire);
    assert_conn_error(&mut p, ErrorCode::EnhanceYourCalm);
    assert!(matches!(
        p.events.iter().find_map(|e| match e {
            Event::Error { error } => Some(error.kind()),
            _ => None,
        }),
        Some(ConnErrorKind::RapidReset)
    ));
    // The same number of resets spread over time is fine.
    let mut p = Peer::ready(Config::default());
    for i in 0..300u32 {
        let id = 1 + 2 * i;
        p.headers(id, &req("/"), true);
        p.raw(kind::RST_STREAM, 0, id, &[0, 0, 0, 8]);
        p.now += Duration::from_millis(100);
    }
    assert!(p.goaway().is_none());
}

#[test]
fn control_frame_floods_are_enhance_your_calm() {
    let floods: Vec<(&str, BytesMut)> = vec![
        ("ping", raw_frame(kind::PING, 0, 0, &[0; 8])),
        ("settings", raw_frame(kind::SETTINGS, 0, 0, &[])),
        (
            "priority",
            raw_frame(kind::PRIORITY, 0, 9, &[0, 0, 0, 1, 0]),
        ),
        ("unknown", raw_frame(0x42, 0, 0, &[])),
    ];
    for (name, one) in floods {
        let mut p = Peer::ready(Config::default());
        let mut wire = BytesMut::new();
        for _ in 0..1500 {
            wire.extend_from_slice(&one);
        }
        p.send(wire);
        assert_eq!(p.goaway(), Some(ErrorCode::EnhanceYourCalm), "{name}");
    }
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[]), false);
    let mut wire = BytesMut::new();
    for _ in 0..200 {
        wire.extend_from_slice(&raw_frame(kind::DATA, 0, 1, &[]));
    }
    p.send(wire);
    assert_eq!(p.goaway(), Some(ErrorCode::EnhanceYourCalm));
}

#[test]
fn unread_output_stops_input() {
    // A peer that floods PINGs but reads nothing: the queue stays bounded.
    let mut conn = ServerConnection::new(Config {
        max_pings: FloodLimit::new(1 << 20, Duration::from_secs(1)),
        ..Config::default()
    });
    let mut wire = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(&[], &mut wire);
    for _ in 0..100_000 {
        wire.extend_from_slice(&raw_frame(kind::PING, 0, 0, &[0; 8]));
    }
    conn.handle_input(Instant::now(), &mut wire);
    assert!(!wire.is_empty());
    assert!(conn.buffered_output() < Config::default().max_tx_backlog + 64);
    assert!(!conn.wants_input());
    let mut out = BytesMut::new();
    let _ = conn.poll_transmit(&mut out);
    assert!(conn.wants_input());
}

// ---- responses ------------------------------------------------------------------------------

#[test]
fn responses_respect_windows_and_frame_size() {
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/big"), true);
    let body = Bytes::from(vec![9u8; 100_000]);
    p.respond(1, Body::Full(body.clone()));
    let fields = p.response_fields(1);
    assert_eq!(&fields[0].value[..], b"200");
    assert!(
        fields
            .iter()
            .any(|f| &f.name[..] == b"content-length" && &f.value[..] == b"100000")
    );
    // The initial windows allow 65 535 octets, in frames of at most 16 384.
    assert_eq!(p.data_for(1).len(), 65_535);
    assert!(
        p.out
            .iter()
            .filter(|f| f.kind == kind::DATA)
            .all(|f| f.payload.len() <= 16_384 && f.flags == 0)
    );
    // Stream credit alone is not enough; the connection needs it too.
    p.out.clear();
    p.raw(kind::WINDOW_UPDATE, 0, 1, &[0, 1, 0, 0]);
    assert!(p.data_for(1).is_empty());
    p.raw(kind::WINDOW_UPDATE, 0, 0, &[0, 1, 0, 0]);
    assert_eq!(p.data_for(1).len(), 100_000 - 65_535);
    let last = p.out.iter().rev().find(|f| f.kind == kind::DATA).unwrap();
    assert_eq!(last.flags, 1, "END_STREAM on the last frame");
    assert_eq!(p.conn.open_streams(), 0);
}

#[test]
fn streaming_response_with_trailers_and_head() {
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/s"), true);
    let id = StreamId::new(1);
    p.conn
        .send_response(
            id,
            ResponseHead::new(StatusCode::OK, &[("X-Kind", b"stream")]),
            Body::Stream { length: None },
        )
        .unwrap();
    p.conn
        .send_body_chunk(id, Bytes::from_static(b"ab"))
        .unwrap();
    p.conn
        .send_body_chunk(id, Bytes::from_static(b"cd"))
        .unwrap();
    p.conn
        .send_end_with_trailers(id, &[("x-checksum", b"42")])
        .unwrap();
    p.drain();
    let fields = p.response_fields(1);
    assert!(
        fields.iter().any(|f| &f.name[..] == b"x-kind"),
        "names are lowercased"
    );
    assert_eq!(p.data_for(1), b"abcd");
    let trailer = p
        .out
        .iter()
        .rev()
        .find(|f| f.kind == kind::HEADERS)
        .unwrap()
        .clone();
    assert_eq!(trailer.flags & 0x1, 1);
    let t = p.dec.decode(&Bytes::from(trailer.payload)).unwrap();
    assert_eq!(&t[0].name[..], b"x-checksum");
    assert_eq!(p.conn.send_end(id), Err(UserError::UnknownRequest));

    // HEAD: the length is announced, no DATA.
    let mut p = Peer::ready(Config::default());
    let mut f = req("/");
    f[0] = HeaderField::new(":method", "HEAD");
    p.headers(1, &f, true);
    p.respond(1, Body::Full(Bytes::from_static(b"hello")));
    assert!(p.data_for(1).is_empty());
    let h = p.out.iter().find(|f| f.kind == kind::HEADERS).unwrap();
    assert_eq!(h.flags & 0x1, 1);

    // Misuse is a UserError and changes nothing.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    let id = StreamId::new(1);
    let bad = p.conn.send_response(
        id,
        ResponseHead::new(StatusCode::OK, &[("content-length", b"1")]),
        Body::Empty,
    );
    assert_eq!(bad, Err(UserError::FramingHeader));
    let info = p.conn.send_response(
        id,
        ResponseHead::new(StatusCode::SWITCHING_PROTOCOLS, &[]),
        Body::Empty,
    );
    assert_eq!(info, Err(UserError::InvalidStatus));
    assert_eq!(
        p.conn.send_body_chunk(id, Bytes::new()),
        Err(UserError::NotStreaming)
    );
    p.conn
        .send_response(
            id,
            ResponseHead::new(StatusCode::OK, &[]),
            Body::Stream { length: Some(3) },
        )
        .unwrap();
    assert_eq!(
        p.conn.send_body_chunk(id, Bytes::from_static(b"abcd")),
        Err(UserError::LengthMismatch)
    );
    assert_eq!(p.conn.send_end(id), Err(UserError::LengthMismatch));
}

#[test]
fn response_before_the_request_ends_resets_with_no_error() {
    // §8.1: a complete response while the client still sends.
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[]), false);
    p.respond(1, Body::Full(Bytes::from_static(b"early")));
    assert_eq!(p.data_for(1), b"early");
    assert_eq!(p.rst(1), Some(ErrorCode::NoError));
    let rst_after_data = p.out.iter().rposition(|f| f.kind == kind::RST_STREAM)
        > p.out.iter().rposition(|f| f.kind == kind::DATA);
    assert!(rst_after_data);
    // Late DATA for it is ignored.
    p.out.clear();
    p.data(1, b"more", true);
    assert!(p.out.is_empty());
}

#[test]
fn zero_window_stall_times_out() {
    let mut p = Peer::new(Config::default());
    let mut b = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(&[Setting::InitialWindowSize(0)], &mut b);
    Settings::ACK.encode(&mut b);
    p.send(b);
    p.headers(1, &req("/"), true);
    p.respond(1, Body::Full(Bytes::from_static(b"blocked")));
    assert!(p.data_for(1).is_empty());
    let deadline = p.conn.poll_timeout().unwrap();
    p.conn.handle_timeout(deadline);
    p.drain();
    assert_conn_error(&mut p, ErrorCode::EnhanceYourCalm);
}

#[test]
fn graceful_goaway_and_idle_timeout() {
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.conn.go_away();
    p.drain();
    assert_eq!(p.goaway(), Some(ErrorCode::NoError));
    let last = &p
        .out
        .iter()
        .find(|f| f.kind == kind::GOAWAY)
        .unwrap()
        .payload[..4];
    assert_eq!(last, [0, 0, 0, 1]);
    // New streams are refused, the open one completes, then it closes.
    p.headers(3, &req("/"), true);
    assert_eq!(p.rst(3), Some(ErrorCode::RefusedStream));
    assert!(!p.conn.is_closed());
    p.respond(1, Body::Empty);
    assert!(p.conn.is_closed());

    let mut p = Peer::ready(Config::default());
    let deadline = p.conn.poll_timeout().unwrap();
    p.conn.handle_timeout(deadline);
    p.drain();
    assert_eq!(p.goaway(), Some(ErrorCode::NoError));
    assert!(p.conn.is_closed());
}

#[test]
fn eof_resets_streams_still_receiving() {
    let mut p = Peer::ready(Config::default());
    p.headers(1, &req("/"), true);
    p.headers(3, &post("/", &[]), false);
    p.conn.handle_eof(p.now);
    p.drain();
    assert!(
        p.events
            .iter()
            .any(|e| matches!(e, Event::Reset { stream, .. } if stream.get() == 3))
    );
    assert!(!p.conn.is_closed());
    p.respond(1, Body::Full(Bytes::from_static(b"bye")));
    assert!(p.conn.is_closed());
}

// ---- h2c ------------------------------------------------------------------------------------

#[test]
fn h2c_upgrade_answers_on_stream_1() {
    // SETTINGS_MAX_FRAME_SIZE = 20 000 from HTTP2-Settings.
    let settings = [0, 5, 0, 0, 0x4e, 0x20];
    let mut conn = ServerConnection::upgrade(Config::default(), &settings, false).unwrap();
    assert_eq!(conn.peer.max_frame_size, 20_000);
    let mut p = Peer {
        conn,
        enc: hpack::Encoder::default(),
        dec: hpack::Decoder::default(),
        now: Instant::now(),
        events: Vec::new(),
        out: Vec::new(),
    };
    let mut b = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(&[], &mut b);
    p.send(b);
    p.respond(1, Body::Full(Bytes::from_static(b"upgraded")));
    assert_eq!(p.data_for(1), b"upgraded");
    // The next client stream is 3.
    p.headers(3, &req("/"), true);
    assert_eq!(p.requests(), [3]);
    assert!(ServerConnection::upgrade(Config::default(), &[0, 2, 0, 0, 0, 2], false).is_err());
    assert!(ServerConnection::upgrade(Config::default(), &[0, 2], false).is_err());
    // A stream 1 HEADERS after the upgrade is on a half-closed stream.
    conn = ServerConnection::upgrade(Config::default(), &[], false).unwrap();
    let mut p = Peer {
        conn,
        enc: hpack::Encoder::default(),
        dec: hpack::Decoder::default(),
        now: Instant::now(),
        events: Vec::new(),
        out: Vec::new(),
    };
    let mut b = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(&[], &mut b);
    p.send(b);
    p.headers(1, &req("/"), true);
    assert_eq!(p.rst(1), Some(ErrorCode::StreamClosed));
}

// ---- split invariance ---------------------------------------------------------------------------

/// A session's event summary and output, fed in `cuts`-sized reads.
fn run_split(wire: &[u8], cut: usize) -> (Vec<String>, Vec<u8>) {
    let mut conn = ServerConnection::new(Config::default());
    let now = Instant::now();
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut out = BytesMut::new();
    for piece in wire.chunks(cut.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            conn.handle_input(now, &mut buf);
            while let Some(e) = conn.poll_event() {
                events.push(match e {
                    Event::Request { stream, head, .. } => {
                        // No responses: their timing relative to input
                        // legitimately depends on the reads.
                        format!("req {stream} {:?}", String::from_utf8_lossy(head.path()))
                    }
                    Event::Data { stream, data } => format!("data {stream} {}", data.len()),
                    other => format!("{other:?}"),
                });
            }
            while conn.poll_transmit(&mut out) > 0 {}
            if buf.is_empty() || buf.len() == before {
                break;
            }
        }
    }
    // Merge consecutive data events (split points change their sizes).
    let mut merged: Vec<String> = Vec::new();
    let mut pending: Option<(String, usize)> = None;
    for e in events {
        if let Some(rest) = e.strip_prefix("data ") {
            let (s, n) = rest.split_once(' ').unwrap();
            let n: usize = n.parse().unwrap();
            match &mut pending {
                Some((ps, pn)) if ps == s => *pn += n,
                _ => {
                    if let Some((ps, pn)) = pending.take() {
                        merged.push(format!("data {ps} {pn}"));
                    }
                    pending = Some((s.to_owned(), n));
                }
            }
        } else {
            if let Some((ps, pn)) = pending.take() {
                merged.push(format!("data {ps} {pn}"));
            }
            merged.push(e);
        }
    }
    if let Some((ps, pn)) = pending {
        merged.push(format!("data {ps} {pn}"));
    }
    (merged, out.to_vec())
}

#[test]
fn outcome_is_independent_of_read_splits() {
    let mut enc = hpack::Encoder::default();
    let mut wire = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(&[Setting::InitialWindowSize(100_000)], &mut wire);
    let mut block = BytesMut::new();
    for (id, path) in [(1u32, "/a"), (3, "/b")] {
        block.clear();
        enc.encode(&post(path, &[]), &mut block);
        frame::encode_header_block(StreamId::new(id), &block, false, 16_384, &mut wire);
    }
    Data {
        stream_id: StreamId::new(1),
        data: &[1; 300],
        end_stream: true,
        pad_len: Some(4),
    }
    .encode(&mut wire);
    Ping {
        ack: false,
        payload: *b"pingpong",
    }
    .encode(&mut wire);
    Data {
        stream_id: StreamId::new(3),
        data: &[2; 50],
        end_stream: true,
        pad_len: None,
    }
    .encode(&mut wire);
    wire.extend_from_slice(&raw_frame(kind::RST_STREAM, 0, 9, &[0, 0, 0, 8]));
    let whole = run_split(&wire, wire.len());
    assert!(whole.0.iter().any(|e| e.contains("Error")), "{:?}", whole.0);
    for cut in [1, 2, 3, 7, 9, 10, 24, 25, 100] {
        assert_eq!(run_split(&wire, cut), whole, "cut {cut}");
    }
}

#[test]
fn fuzz_invariants_hold_on_sample_sessions() {
    let mut enc = hpack::Encoder::default();
    let mut wire = BytesMut::from(&PREFACE[..]);
    frame::encode_settings(&[Setting::MaxFrameSize(20_000)], &mut wire);
    let mut block = BytesMut::new();
    for id in [1u32, 3, 5] {
        block.clear();
        enc.encode(&post("/p", &[]), &mut block);
        frame::encode_header_block(StreamId::new(id), &block, id == 5, 16_384, &mut wire);
    }
    Data {
        stream_id: StreamId::new(1),
        data: &[1; 3000],
        end_stream: true,
        pad_len: Some(9),
    }
    .encode(&mut wire);
    Ping {
        ack: false,
        payload: [1; 8],
    }
    .encode(&mut wire);
    wire.extend_from_slice(&raw_frame(kind::WINDOW_UPDATE, 0, 0, &[0, 1, 0, 0]));
    wire.extend_from_slice(&raw_frame(kind::RST_STREAM, 0, 3, &[0, 0, 0, 8]));
    wire.extend_from_slice(&raw_frame(kind::GOAWAY, 0, 0, &[0; 8]));
    let cuts: Vec<usize> = (0..wire.len()).step_by(7).collect();
    fuzz_server_conn(&wire, &cuts);
    fuzz_server_conn(&wire[..100], &[3, 30, 99]);
    fuzz_server_conn(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0", &[5]);
    fuzz_server_conn(b"garbage", &[1, 2]);
    fuzz_server_conn(&[], &[]);
}

#[test]
fn vectored_output_matches_flat_output() {
    let session = |vectored: bool| {
        let mut p = Peer::ready(Config::default());
        p.headers(1, &req("/"), true);
        p.headers(3, &req("/"), true);
        let id = StreamId::new(1);
        p.conn
            .send_response(
                id,
                ResponseHead::new(StatusCode::OK, &[]),
                Body::Full(Bytes::from(vec![5u8; 40_000])),
            )
            .unwrap();
        p.conn
            .send_response(
                StreamId::new(3),
                ResponseHead::new(StatusCode::OK, &[]),
                Body::Full(Bytes::from_static(b"small")),
            )
            .unwrap();
        let mut flat = BytesMut::new();
        if vectored {
            let mut chunks = Vec::new();
            let n = p.conn.poll_transmit_vectored(&mut chunks);
            for c in &chunks {
                flat.extend_from_slice(c);
            }
            assert_eq!(n, flat.len());
            // The large payloads were not copied.
            assert!(chunks.iter().filter(|c| c.len() >= VECTORED_MIN).count() >= 3);
        } else {
            while p.conn.poll_transmit(&mut flat) > 0 {}
        }
        flat
    };
    assert_eq!(session(true), session(false));
}

#[test]
fn stalled_request_bodies_are_reset() {
    let mut p = Peer::ready(Config::default());
    p.headers(1, &post("/", &[]), false);
    p.now += Duration::from_secs(20);
    p.data(1, b"some", false);
    // Progress refreshed the deadline: 20 s later it is not due yet.
    p.now += Duration::from_secs(20);
    p.conn.handle_timeout(p.now);
    p.drain();
    assert!(p.rst(1).is_none());
    let deadline = p.conn.poll_timeout().unwrap();
    p.conn.handle_timeout(deadline);
    p.drain();
    assert_eq!(p.rst(1), Some(ErrorCode::Cancel));
    assert!(p.events.iter().any(|e| matches!(e, Event::Reset { .. })));
    assert!(p.goaway().is_none());
}

#[test]
fn a_half_received_field_block_does_not_keep_the_connection() {
    // EOF in the middle of a block.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::HEADERS, 0, 1, &[0x82]);
    p.conn.handle_eof(p.now);
    p.drain();
    assert!(p.conn.is_closed());
    // Idle timeout with a block open: GOAWAY, then closed.
    let mut p = Peer::ready(Config::default());
    p.raw(kind::HEADERS, 0, 1, &[0x82]);
    let deadline = p.conn.poll_timeout().unwrap();
    p.conn.handle_timeout(deadline);
    p.drain();
    assert_eq!(p.goaway(), Some(ErrorCode::NoError));
    assert!(p.conn.is_closed());
}

#[test]
fn bodies_in_flight_are_bounded_per_connection() {
    let mut p = Peer::ready(Config {
        max_connection_body: 25_000,
        ..Config::default()
    });
    p.headers(1, &post("/", &[]), false);
    p.headers(3, &post("/", &[]), false);
    p.data(1, &[0; 10_000], false);
    p.data(3, &[0; 10_000], false);
    assert!(p.rst(1).is_none() && p.rst(3).is_none());
    // Stream 1 would bring the total to 30 000: 413 and reset.
    p.data(1, &[0; 10_000], false);
    assert_eq!(p.rst(1), Some(ErrorCode::NoError));
    assert_eq!(&p.response_fields(1)[0].value[..], b"413");
    // Its share is freed: stream 3 may go on.
    p.data(3, &[0; 10_000], true);
    assert!(p.rst(3).is_none());
    assert!(matches!(p.events.last(), Some(Event::End { .. })));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// A frame with a plausible header and arbitrary payload; the HEADERS
    /// payloads are sometimes valid HPACK blocks for a request.
    fn frame_strategy() -> impl Strategy<Value = Vec<u8>> {
        (
            0u8..11,
            any::<u8>(),
            0u32..8,
            proptest::collection::vec(any::<u8>(), 0..40),
            any::<bool>(),
        )
            .prop_map(|(kind, flags, stream, payload, valid_block)| {
                if kind == kind::HEADERS && valid_block {
                    let mut block = BytesMut::new();
                    hpack::Encoder::new(hpack::EncoderConfig::default())
                        .encode(&req("/p"), &mut block);
                    return raw_frame(kind, flags | 0x4, stream * 2 + 1, &block).to_vec();
                }
                raw_frame(kind, flags, stream, &payload).to_vec()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn any_frame_sequence_keeps_the_invariants(
            frames in proptest::collection::vec(frame_strategy(), 0..24),
            cuts in proptest::collection::vec(0usize..2000, 0..8),
        ) {
            let mut input = PREFACE.to_vec();
            input.extend_from_slice(&raw_frame(kind::SETTINGS, 0, 0, &[]));
            for f in frames {
                input.extend_from_slice(&f);
            }
            fuzz_server_conn(&input, &cuts);
        }
    }
}

#[test]
fn stream_errors_the_peer_provokes_count_as_resets() {
    // Malformed PRIORITY frames make us reset streams: a flood of them ends
    // the connection like a flood of RST_STREAM does.
    let mut p = Peer::ready(Config::default());
    let mut wire = BytesMut::new();
    for i in 0..300u32 {
        wire.extend_from_slice(&raw_frame(kind::PRIORITY, 0, 1 + 2 * i, &[0; 4]));
    }
    p.send(wire);
    assert_conn_error(&mut p, ErrorCode::EnhanceYourCalm);
    // So do requests that are malformed, one after the other.
    let mut p = Peer::ready(Config::default());
    let mut wire = BytesMut::new();
    let mut block = BytesMut::new();
    for i in 0..300u32 {
        block.clear();
        p.enc.encode(&req("/")[..3], &mut block);
        frame::encode_header_block(StreamId::new(1 + 2 * i), &block, true, 16_384, &mut wire);
    }
    p.send(wire);
    assert_conn_error(&mut p, ErrorCode::EnhanceYourCalm);
}
