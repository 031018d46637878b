//! Every frame type: valid forms round-trip, malformed forms give the RFC 9113
//! error with the right scope.

use bytes::BytesMut;

use super::*;
use crate::h2::ErrorCode;
use crate::h2::settings::Setting;

const MAX: u32 = DEFAULT_MAX_FRAME_SIZE;

/// A raw frame: header fields and payload, no validation.
fn raw(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn decode_one(bytes: &[u8]) -> Frame<'_> {
    let (frame, used) = decode(bytes, MAX).expect("valid").expect("complete");
    assert_eq!(used, bytes.len());
    frame
}

fn encoded(frame: &Frame<'_>) -> Vec<u8> {
    let mut out = BytesMut::new();
    frame.encode(&mut out);
    out.to_vec()
}

/// Decoding `bytes` fails with `kind`, `code`, on the connection (`None`) or
/// the given stream.
fn expect_err(bytes: &[u8], kind: FrameErrorKind, code: ErrorCode, stream: Option<u32>) {
    let err = decode(bytes, MAX).expect_err("malformed frame accepted");
    assert_eq!(err.kind(), kind, "{bytes:02x?}");
    assert_eq!(err.error_code(), code, "{bytes:02x?}");
    assert_eq!(err.stream_id(), stream.map(StreamId::new), "{bytes:02x?}");
    assert_eq!(err.is_connection_error(), stream.is_none());
    assert_eq!(err.frame_len(), bytes.len());
    assert!(!err.to_string().is_empty());
    // Every prefix is just incomplete.
    for cut in 0..bytes.len() {
        assert_eq!(decode(&bytes[..cut], MAX), Ok(None), "prefix {cut}");
    }
}

fn conn(bytes: &[u8], kind: FrameErrorKind, code: ErrorCode) {
    expect_err(bytes, kind, code, None);
}

fn bad_len(kind: u8, len: usize) -> FrameErrorKind {
    FrameErrorKind::BadLength {
        kind,
        len: len as u32,
    }
}

const FSE: ErrorCode = ErrorCode::FrameSizeError;
const PE: ErrorCode = ErrorCode::ProtocolError;

#[test]
fn header_and_incomplete_input() {
    assert_eq!(decode(&[], MAX), Ok(None));
    let ping = raw(kind::PING, 0, 0, b"abcdefgh");
    for cut in 0..ping.len() {
        assert_eq!(decode(&ping[..cut], MAX), Ok(None));
    }
    // Trailing bytes are left for the next call.
    let mut two = ping.clone();
    two.extend_from_slice(&ping[..4]);
    assert_eq!(decode(&two, MAX).unwrap().unwrap().1, ping.len());
    // Reserved bit of the stream id is ignored.
    let head = FrameHeader::parse(&raw(kind::DATA, 0, 0x8000_0003, b"")).unwrap();
    assert_eq!(head.stream_id, StreamId::new(3));
}

#[test]
fn oversized_frames_fail_before_the_payload_arrives() {
    let mut big = raw(kind::DATA, 0, 1, &vec![0; MAX as usize + 1]);
    let header_only = &big[..FRAME_HEADER_LEN];
    let err = decode(header_only, MAX).unwrap_err();
    assert_eq!(
        err.kind(),
        FrameErrorKind::TooLarge {
            len: MAX + 1,
            max: MAX
        }
    );
    assert_eq!(err.error_code(), FSE);
    assert!(err.is_connection_error());
    assert_eq!(decode(&big, MAX), Err(err));
    // Exactly the limit is fine; a raised limit accepts more.
    big.pop();
    big[2] -= 1;
    assert!(decode(&big, MAX).unwrap().is_some());
    let bigger = raw(kind::DATA, 0, 1, &vec![0; 20_000]);
    assert!(decode(&bigger, 20_000).unwrap().is_some());
}

#[test]
fn data() {
    let wire1 = raw(kind::DATA, flags::END_STREAM, 1, b"hello");
    let f = decode_one(&wire1);
    let Frame::Data(d) = f else { panic!("{f:?}") };
    assert_eq!(
        (d.stream_id.get(), d.data, d.end_stream, d.pad_len),
        (1, &b"hello"[..], true, None)
    );
    assert_eq!(d.flow_controlled_len(), 5);

    let padded = raw(kind::DATA, flags::PADDED, 3, b"\x03abc\0\0\0");
    let f = decode_one(&padded);
    let Frame::Data(d) = f else { panic!() };
    assert_eq!(
        (d.data, d.pad_len, d.end_stream),
        (&b"abc"[..], Some(3), false)
    );
    assert_eq!(d.flow_controlled_len(), 7);
    assert_eq!(encoded(&f), padded);
    // Padding filling the rest exactly leaves empty data.
    let wire2 = raw(kind::DATA, flags::PADDED, 3, b"\x02\0\0");
    let f = decode_one(&wire2);
    assert!(matches!(
        f,
        Frame::Data(Data {
            data: b"",
            pad_len: Some(2),
            ..
        })
    ));

    conn(
        &raw(kind::DATA, 0, 0, b"x"),
        FrameErrorKind::StreamIdRequired { kind: kind::DATA },
        PE,
    );
    conn(
        &raw(kind::DATA, flags::PADDED, 1, b"\x04ab\0"),
        FrameErrorKind::PaddingTooLong,
        PE,
    );
    conn(
        &raw(kind::DATA, flags::PADDED, 1, b"\x01"),
        FrameErrorKind::PaddingTooLong,
        PE,
    );
    // PADDED without room for Pad Length: a FRAME_SIZE_ERROR on the stream.
    expect_err(
        &raw(kind::DATA, flags::PADDED, 5, b""),
        bad_len(kind::DATA, 0),
        FSE,
        Some(5),
    );
}

#[test]
fn headers() {
    let plain = raw(kind::HEADERS, flags::END_HEADERS, 1, b"\x82\x86");
    let f = decode_one(&plain);
    let Frame::Headers(h) = f else { panic!() };
    assert_eq!(h.fragment, b"\x82\x86");
    assert!(h.end_headers && !h.end_stream && h.priority.is_none() && !h.depends_on_itself());
    assert_eq!(encoded(&f), plain);

    // Padded, with priority: pad length, E + dependency, weight, fragment, padding.
    let all = flags::PADDED | flags::PRIORITY | flags::END_STREAM;
    let bytes = raw(kind::HEADERS, all, 5, b"\x02\x80\x00\x00\x03\x0f\x82\0\0");
    let f = decode_one(&bytes);
    let Frame::Headers(h) = f else { panic!() };
    assert_eq!(h.fragment, b"\x82");
    assert_eq!(h.pad_len, Some(2));
    assert!(h.end_stream && !h.end_headers);
    let spec = h.priority.unwrap();
    assert_eq!(
        (spec.exclusive, spec.dependency.get(), spec.weight),
        (true, 3, 15)
    );
    assert_eq!(encoded(&f), bytes);

    // Self-dependency is left to the connection (the block must be decoded).
    let wire3 = raw(kind::HEADERS, flags::PRIORITY, 7, b"\x00\x00\x00\x07\x10");
    let f = decode_one(&wire3);
    let Frame::Headers(h) = f else { panic!() };
    assert!(h.depends_on_itself());

    let k = kind::HEADERS;
    conn(
        &raw(k, 0, 0, b"\x82"),
        FrameErrorKind::StreamIdRequired { kind: k },
        PE,
    );
    // Too short for the priority fields, or for Pad Length: connection errors.
    conn(&raw(k, flags::PRIORITY, 1, b"\0\0\0"), bad_len(k, 3), FSE);
    conn(&raw(k, flags::PADDED, 1, b""), bad_len(k, 0), FSE);
    conn(
        &raw(k, flags::PADDED | flags::PRIORITY, 1, b"\x00\0\0\0"),
        bad_len(k, 4),
        FSE,
    );
    // Padding eating into the priority fields or past the end.
    conn(
        &raw(k, flags::PADDED | flags::PRIORITY, 1, b"\x01\0\0\0\x03\x10"),
        FrameErrorKind::PaddingTooLong,
        PE,
    );
    conn(
        &raw(k, flags::PADDED, 1, b"\x05\x82"),
        FrameErrorKind::PaddingTooLong,
        PE,
    );
}

#[test]
fn priority() {
    let bytes = raw(kind::PRIORITY, 0, 3, b"\x00\x00\x00\x01\xff");
    let f = decode_one(&bytes);
    assert_eq!(
        f,
        Frame::Priority(Priority {
            stream_id: StreamId::new(3),
            spec: PrioritySpec {
                exclusive: false,
                dependency: StreamId::new(1),
                weight: 255
            },
        })
    );
    assert_eq!(encoded(&f), bytes);
    let k = kind::PRIORITY;
    conn(
        &raw(k, 0, 0, b"\0\0\0\x01\x10"),
        FrameErrorKind::StreamIdRequired { kind: k },
        PE,
    );
    // Wrong length is a stream error (§6.3).
    expect_err(&raw(k, 0, 3, b"\0\0\0\x01"), bad_len(k, 4), FSE, Some(3));
    expect_err(
        &raw(k, 0, 3, b"\0\0\0\x01\x10\0"),
        bad_len(k, 6),
        FSE,
        Some(3),
    );
    expect_err(
        &raw(k, 0, 3, b"\x80\0\0\x03\x10"),
        FrameErrorKind::SelfDependency,
        PE,
        Some(3),
    );
}

#[test]
fn rst_stream() {
    let bytes = raw(kind::RST_STREAM, 0, 1, &8u32.to_be_bytes());
    let f = decode_one(&bytes);
    assert_eq!(
        f,
        Frame::RstStream(RstStream {
            stream_id: StreamId::new(1),
            error_code: ErrorCode::Cancel
        })
    );
    assert_eq!(encoded(&f), bytes);
    let wire4 = raw(kind::RST_STREAM, 0, 1, &0x77u32.to_be_bytes());
    let unknown = decode_one(&wire4);
    assert!(matches!(
        unknown,
        Frame::RstStream(RstStream {
            error_code: ErrorCode::Other(0x77),
            ..
        })
    ));
    let k = kind::RST_STREAM;
    conn(
        &raw(k, 0, 0, &[0; 4]),
        FrameErrorKind::StreamIdRequired { kind: k },
        PE,
    );
    conn(&raw(k, 0, 1, &[0; 3]), bad_len(k, 3), FSE);
    conn(&raw(k, 0, 1, &[0; 5]), bad_len(k, 5), FSE);
}

#[test]
fn settings() {
    let params = [
        Setting::HeaderTableSize(0),
        Setting::EnablePush(false),
        Setting::MaxConcurrentStreams(100),
        Setting::InitialWindowSize(65_535),
        Setting::MaxFrameSize(1 << 20),
        Setting::MaxHeaderListSize(8192),
        Setting::EnableConnectProtocol(true),
        Setting::Unknown {
            id: 0x4242,
            value: 9,
        },
    ];
    let mut out = BytesMut::new();
    encode_settings(&params, &mut out);
    assert_eq!(out.len(), 9 + 6 * params.len());
    let f = decode_one(&out);
    let Frame::Settings(s) = &f else { panic!() };
    assert!(!s.is_ack());
    assert_eq!(s.iter().collect::<Vec<_>>(), params);
    assert_eq!(encoded(&f), out.to_vec());
    assert!(format!("{f:?}").contains("MaxFrameSize"));

    let mut ack = BytesMut::new();
    Settings::ACK.encode(&mut ack);
    assert_eq!(ack.to_vec(), raw(kind::SETTINGS, flags::ACK, 0, b""));
    let Frame::Settings(s) = decode_one(&ack) else {
        panic!()
    };
    assert!(s.is_ack() && s.iter().next().is_none());
    // An empty non-ACK SETTINGS is valid.
    let wire5 = raw(kind::SETTINGS, 0, 0, b"");
    let Frame::Settings(s) = decode_one(&wire5) else {
        panic!()
    };
    assert!(!s.is_ack());

    let k = kind::SETTINGS;
    let param = |id: u16, v: u32| {
        let mut p = id.to_be_bytes().to_vec();
        p.extend_from_slice(&v.to_be_bytes());
        p
    };
    conn(
        &raw(k, 0, 1, b""),
        FrameErrorKind::StreamIdForbidden { kind: k },
        PE,
    );
    conn(
        &raw(k, flags::ACK, 0, &param(1, 0)),
        FrameErrorKind::SettingsAckWithPayload,
        FSE,
    );
    conn(&raw(k, 0, 0, &[0; 5]), bad_len(k, 5), FSE);
    conn(&raw(k, 0, 0, &[0; 7]), bad_len(k, 7), FSE);
    let invalid = |id: u16, value: u32| FrameErrorKind::InvalidSetting { id, value };
    conn(&raw(k, 0, 0, &param(2, 2)), invalid(2, 2), PE);
    conn(
        &raw(k, 0, 0, &param(4, 1 << 31)),
        invalid(4, 1 << 31),
        ErrorCode::FlowControlError,
    );
    conn(&raw(k, 0, 0, &param(5, 16_383)), invalid(5, 16_383), PE);
    conn(&raw(k, 0, 0, &param(5, 1 << 24)), invalid(5, 1 << 24), PE);
    conn(&raw(k, 0, 0, &param(8, 2)), invalid(8, 2), PE);
    // The bad parameter may follow good ones.
    let mut two = param(1, 4096);
    two.extend(param(2, 7));
    conn(&raw(k, 0, 0, &two), invalid(2, 7), PE);
}

#[test]
fn push_promise() {
    let bytes = raw(
        kind::PUSH_PROMISE,
        flags::END_HEADERS,
        1,
        b"\x00\x00\x00\x02\x82",
    );
    let f = decode_one(&bytes);
    let Frame::PushPromise(p) = f else { panic!() };
    assert_eq!(
        (p.promised_stream_id.get(), p.fragment, p.end_headers),
        (2, &b"\x82"[..], true)
    );
    assert_eq!(encoded(&f), bytes);
    let padded = raw(
        kind::PUSH_PROMISE,
        flags::PADDED,
        1,
        b"\x01\x00\x00\x00\x04\x82\0",
    );
    let f = decode_one(&padded);
    assert!(matches!(
        f,
        Frame::PushPromise(PushPromise {
            pad_len: Some(1),
            ..
        })
    ));
    assert_eq!(encoded(&f), padded);

    let k = kind::PUSH_PROMISE;
    conn(
        &raw(k, 0, 0, b"\0\0\0\x02"),
        FrameErrorKind::StreamIdRequired { kind: k },
        PE,
    );
    conn(&raw(k, 0, 1, b"\0\0\0"), bad_len(k, 3), FSE);
    conn(&raw(k, flags::PADDED, 1, b"\x00\0\0\0"), bad_len(k, 4), FSE);
    conn(
        &raw(k, flags::PADDED, 1, b"\x02\0\0\0\x02\0"),
        FrameErrorKind::PaddingTooLong,
        PE,
    );
    conn(
        &raw(k, 0, 1, b"\0\0\0\0"),
        FrameErrorKind::ZeroPromisedStreamId,
        PE,
    );
}

#[test]
fn ping() {
    let bytes = raw(kind::PING, flags::ACK, 0, b"12345678");
    let f = decode_one(&bytes);
    assert_eq!(
        f,
        Frame::Ping(Ping {
            ack: true,
            payload: *b"12345678"
        })
    );
    assert_eq!(encoded(&f), bytes);
    let k = kind::PING;
    conn(
        &raw(k, 0, 1, b"12345678"),
        FrameErrorKind::StreamIdForbidden { kind: k },
        PE,
    );
    conn(&raw(k, 0, 0, b"1234567"), bad_len(k, 7), FSE);
    conn(&raw(k, 0, 0, b"123456789"), bad_len(k, 9), FSE);
}

#[test]
fn goaway() {
    let mut payload = 0x8000_0007u32.to_be_bytes().to_vec(); // reserved bit set
    payload.extend_from_slice(&2u32.to_be_bytes());
    payload.extend_from_slice(b"debug");
    let wire6 = raw(kind::GOAWAY, 0, 0, &payload);
    let f = decode_one(&wire6);
    let Frame::GoAway(g) = f else { panic!() };
    assert_eq!(g.last_stream_id.get(), 7);
    assert_eq!(g.error_code, ErrorCode::InternalError);
    assert_eq!(g.debug_data, b"debug");
    payload[0] &= 0x7f;
    assert_eq!(encoded(&f), raw(kind::GOAWAY, 0, 0, &payload));
    let k = kind::GOAWAY;
    conn(
        &raw(k, 0, 3, &[0; 8]),
        FrameErrorKind::StreamIdForbidden { kind: k },
        PE,
    );
    conn(&raw(k, 0, 0, &[0; 7]), bad_len(k, 7), FSE);
}

#[test]
fn window_update() {
    let bytes = raw(kind::WINDOW_UPDATE, 0, 0, &0x7fff_ffffu32.to_be_bytes());
    let f = decode_one(&bytes);
    assert_eq!(
        f,
        Frame::WindowUpdate(WindowUpdate {
            stream_id: StreamId::ZERO,
            increment: 0x7fff_ffff
        })
    );
    assert_eq!(encoded(&f), bytes);
    let k = kind::WINDOW_UPDATE;
    // Zero increment: connection error on stream 0, stream error elsewhere.
    conn(
        &raw(k, 0, 0, &[0; 4]),
        FrameErrorKind::ZeroWindowIncrement,
        PE,
    );
    expect_err(
        &raw(k, 0, 9, &[0; 4]),
        FrameErrorKind::ZeroWindowIncrement,
        PE,
        Some(9),
    );
    // Only the reserved bit set is still zero.
    expect_err(
        &raw(k, 0, 9, &[0x80, 0, 0, 0]),
        FrameErrorKind::ZeroWindowIncrement,
        PE,
        Some(9),
    );
    conn(&raw(k, 0, 1, &[0, 0, 1]), bad_len(k, 3), FSE);
    conn(&raw(k, 0, 1, &[0, 0, 0, 1, 0]), bad_len(k, 5), FSE);
}

#[test]
fn continuation() {
    let bytes = raw(kind::CONTINUATION, flags::END_HEADERS, 1, b"\x84");
    let f = decode_one(&bytes);
    assert_eq!(
        f,
        Frame::Continuation(Continuation {
            stream_id: StreamId::new(1),
            fragment: b"\x84",
            end_headers: true
        })
    );
    assert_eq!(encoded(&f), bytes);
    let k = kind::CONTINUATION;
    conn(
        &raw(k, 0, 0, b"\x84"),
        FrameErrorKind::StreamIdRequired { kind: k },
        PE,
    );
}

#[test]
fn unknown_types_are_passed_through() {
    let bytes = raw(0xfa, 0xff, 0, b"anything");
    let f = decode_one(&bytes);
    assert!(matches!(
        f,
        Frame::Unknown(Unknown {
            kind: 0xfa,
            flags: 0xff,
            ..
        })
    ));
    assert_eq!(f.stream_id(), StreamId::ZERO);
    assert_eq!(encoded(&f), bytes);
}

#[test]
fn header_block_is_split_into_continuations() {
    let block: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
    let mut out = BytesMut::new();
    encode_header_block(StreamId::new(5), &block, true, MAX, &mut out);
    let mut buf = &out[..];
    let mut joined = Vec::new();
    let mut kinds = Vec::new();
    while let Some((frame, used)) = decode(buf, MAX).unwrap() {
        match frame {
            Frame::Headers(h) => {
                assert!(h.end_stream && !h.end_headers);
                joined.extend_from_slice(h.fragment);
                kinds.push("H");
            }
            Frame::Continuation(c) => {
                joined.extend_from_slice(c.fragment);
                kinds.push(if c.end_headers { "C!" } else { "C" });
            }
            other => panic!("{other:?}"),
        }
        buf = &buf[used..];
    }
    assert!(buf.is_empty());
    assert_eq!(kinds, ["H", "C", "C!"]);
    assert_eq!(joined, block);

    // A small block is one HEADERS with END_HEADERS.
    let mut out = BytesMut::new();
    encode_header_block(StreamId::new(1), b"\x82", false, MAX, &mut out);
    assert_eq!(
        out.to_vec(),
        raw(kind::HEADERS, flags::END_HEADERS, 1, b"\x82")
    );
}

#[test]
fn errors_convert_to_io() {
    let err = decode(&raw(kind::PING, 0, 0, b"1"), MAX).unwrap_err();
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
}

#[test]
fn fuzz_invariant_on_valid_streams_and_noise() {
    let mut out = BytesMut::new();
    out.extend_from_slice(&raw(kind::DATA, flags::PADDED, 3, b"\x03abc\0\0\0"));
    out.extend_from_slice(&raw(
        kind::HEADERS,
        0x2d,
        5,
        b"\x02\x80\x00\x00\x03\x0f\x82\0\0",
    ));
    encode_settings(&[Setting::MaxFrameSize(1 << 20)], &mut out);
    Ping {
        ack: false,
        payload: [1; 8],
    }
    .encode(&mut out);
    out.extend_from_slice(&raw(0x42, 0, 1, b"ext"));
    out.extend_from_slice(&raw(kind::WINDOW_UPDATE, 0, 1, &[0; 4])); // ends in an error
    fuzz_decode_reencode(&out);

    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..3000 {
        let len = (x % 48) as usize;
        let mut noise = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push(x as u8);
        }
        // Keep lengths small so many inputs hold complete frames.
        if noise.len() > 2 {
            noise[0] = 0;
            noise[1] = 0;
            noise[2] %= 24;
            if noise.len() > 3 {
                noise[3] %= 12;
            }
        }
        fuzz_decode_reencode(&noise);
    }
}

/// Pseudo-random frames of every type: encode, decode to the same frame,
/// and every proper prefix is incomplete.
#[test]
fn generated_frames_round_trip() {
    let mut x = 0x0bad_5eed_u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let payload: Vec<u8> = (0..600u32).map(|i| (i * 7) as u8).collect();
    let mut params = Vec::new();
    for _ in 0..3000 {
        let r = next();
        let stream = StreamId::new(1 + (r as u32 % 1000));
        let bytes = &payload[..(r >> 8) as usize % payload.len()];
        let pad = if r & 0x10000 != 0 {
            Some((r >> 20) as u8)
        } else {
            None
        };
        let flag = |bit: u32| r & (1 << bit) != 0;
        let spec = PrioritySpec {
            exclusive: flag(40),
            dependency: StreamId::new(stream.get() + 1 + (r >> 41) as u32 % 5),
            weight: (r >> 48) as u8,
        };
        params.clear();
        params.extend((0..(r >> 50) % 5).map(|i| match i {
            0 => Setting::HeaderTableSize((r >> 3) as u32),
            1 => Setting::InitialWindowSize((r >> 5) as u32 & 0x7fff_ffff),
            2 => Setting::MaxFrameSize(16_384 + (r >> 7) as u32 % 100_000),
            3 => Setting::EnablePush(flag(30)),
            _ => Setting::Unknown {
                id: (r >> 9) as u16 | 0x100,
                value: r as u32,
            },
        }));
        let mut out = BytesMut::new();
        let mut settings_buf = BytesMut::new();
        let frame = match r % 11 {
            0 => Frame::Data(Data {
                stream_id: stream,
                data: bytes,
                end_stream: flag(33),
                pad_len: pad,
            }),
            1 => Frame::Headers(Headers {
                stream_id: stream,
                fragment: bytes,
                end_stream: flag(33),
                end_headers: flag(34),
                priority: flag(35).then_some(spec),
                pad_len: pad,
            }),
            2 => Frame::Priority(Priority {
                stream_id: stream,
                spec,
            }),
            3 => Frame::RstStream(RstStream {
                stream_id: stream,
                error_code: ErrorCode::from_u32((r >> 32) as u32 % 20),
            }),
            4 => {
                encode_settings(&params, &mut settings_buf);
                let Frame::Settings(s) = decode(&settings_buf, MAX).unwrap().unwrap().0 else {
                    panic!()
                };
                assert_eq!(s.iter().collect::<Vec<_>>(), params);
                Frame::Settings(if flag(36) { Settings::ACK } else { s })
            }
            5 => Frame::PushPromise(PushPromise {
                stream_id: stream,
                promised_stream_id: StreamId::new(2 + (r >> 33) as u32 % 100),
                fragment: bytes,
                end_headers: flag(34),
                pad_len: pad,
            }),
            6 => Frame::Ping(Ping {
                ack: flag(36),
                payload: r.to_be_bytes(),
            }),
            7 => Frame::GoAway(GoAway {
                last_stream_id: stream,
                error_code: ErrorCode::from_u32((r >> 32) as u32),
                debug_data: bytes,
            }),
            8 => Frame::WindowUpdate(WindowUpdate {
                stream_id: if flag(37) { StreamId::ZERO } else { stream },
                increment: 1 + (r >> 3) as u32 % 0x7fff_fffe,
            }),
            9 => Frame::Continuation(Continuation {
                stream_id: stream,
                fragment: bytes,
                end_headers: flag(34),
            }),
            _ => Frame::Unknown(Unknown {
                kind: 10 + (r >> 24) as u8 % 200,
                flags: (r >> 16) as u8,
                stream_id: stream,
                payload: bytes,
            }),
        };
        frame.encode(&mut out);
        let (decoded, used) = decode(&out, MAX).expect("valid").expect("complete");
        assert_eq!(decoded, frame);
        assert_eq!(used, out.len());
        assert_eq!(decoded.stream_id(), frame.stream_id());
        for cut in [0, 1, 8, 9, out.len() / 2, out.len() - 1] {
            if cut < out.len() {
                assert_eq!(decode(&out[..cut], MAX), Ok(None));
            }
        }
    }
}
