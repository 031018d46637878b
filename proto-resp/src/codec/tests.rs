//! Codec unit tests; vectors are the examples of the RESP3 specification
//! (`spec.md`, "RESP3 types" sections).

use bytes::{Bytes, BytesMut};

use super::*;
use crate::error::DecodeErrorKind as K;
use crate::frame::Frame as F;

fn one(input: &[u8]) -> FrameRef<'_> {
    let (f, n) = decode(input)
        .unwrap_or_else(|e| panic!("{e}: {input:?}"))
        .unwrap_or_else(|| panic!("incomplete: {input:?}"));
    assert_eq!(n, input.len(), "did not consume {input:?}");
    // Every prefix is incomplete, never an error.
    for i in 0..input.len() {
        assert_eq!(decode(&input[..i]), Ok(None), "prefix {i} of {input:?}");
    }
    // Owned decoding agrees and re-encoding reproduces a canonical input.
    let mut buf = BytesMut::from(input);
    let owned = Decoder::default().decode_bytes(&mut buf).unwrap().unwrap();
    assert!(buf.is_empty());
    assert!(owned.eq_frame(&f));
    f
}

fn err(input: &[u8]) -> K {
    decode(input).expect_err("expected an error").kind()
}

fn b(s: &str) -> F<&[u8]> {
    F::BulkString(s.as_bytes())
}

fn s(s: &str) -> F<&[u8]> {
    F::SimpleString(s.as_bytes())
}

#[test]
fn resp2_types() {
    assert_eq!(one(b"+OK\r\n"), s("OK"));
    assert_eq!(
        one(b"-ERR unknown command 'foobar'\r\n"),
        F::SimpleError(&b"ERR unknown command 'foobar'"[..])
    );
    assert_eq!(one(b":1000\r\n"), F::Integer(1000));
    assert_eq!(one(b":-5\r\n"), F::Integer(-5));
    assert_eq!(one(b":+7\r\n"), F::Integer(7));
    assert_eq!(one(b":-9223372036854775808\r\n"), F::Integer(i64::MIN));
    assert_eq!(one(b"$5\r\nhello\r\n"), b("hello"));
    assert_eq!(one(b"$0\r\n\r\n"), b(""));
    assert_eq!(one(b"$4\r\na\r\nb\r\n"), b("a\r\nb"));
    assert_eq!(one(b"$-1\r\n"), F::NullBulk);
    assert_eq!(one(b"*0\r\n"), F::Array(vec![]));
    assert_eq!(one(b"*-1\r\n"), F::NullArray);
    assert_eq!(
        one(b"*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n"),
        F::Array(vec![b("hello"), b("world")])
    );
    assert_eq!(
        one(b"*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n"),
        F::Array(vec![
            F::Array(vec![F::Integer(1), F::Integer(2), F::Integer(3)]),
            F::Array(vec![s("Hello"), F::SimpleError(&b"World"[..])]),
        ])
    );
    assert_eq!(
        one(b"*3\r\n$5\r\nhello\r\n$-1\r\n$5\r\nworld\r\n"),
        F::Array(vec![b("hello"), F::NullBulk, b("world")])
    );
}

#[test]
fn resp3_types() {
    assert_eq!(one(b"_\r\n"), F::Null);
    assert_eq!(one(b"#t\r\n"), F::Boolean(true));
    assert_eq!(one(b"#f\r\n"), F::Boolean(false));
    assert_eq!(one(b",1.23\r\n"), F::Double(1.23));
    assert_eq!(one(b",10\r\n"), F::Double(10.0));
    assert_eq!(one(b",1.5e3\r\n"), F::Double(1500.0));
    assert_eq!(one(b",inf\r\n"), F::Double(f64::INFINITY));
    assert_eq!(one(b",-inf\r\n"), F::Double(f64::NEG_INFINITY));
    assert!(matches!(one(b",nan\r\n"), F::Double(d) if d.is_nan()));
    // Redis 7.0 writes NaN as "-nan" on Linux.
    assert!(matches!(one(b",-nan\r\n"), F::Double(d) if d.is_nan()));
    assert_eq!(
        one(b"(3492890328409238509324850943850943825024385\r\n"),
        F::BigNumber(&b"3492890328409238509324850943850943825024385"[..])
    );
    assert_eq!(one(b"(-1\r\n"), F::BigNumber(&b"-1"[..]));
    assert_eq!(
        one(b"!21\r\nSYNTAX invalid syntax\r\n"),
        F::BulkError(&b"SYNTAX invalid syntax"[..])
    );
    assert_eq!(
        one(b"=15\r\ntxt:Some string\r\n"),
        F::Verbatim {
            format: *b"txt",
            text: &b"Some string"[..]
        }
    );
    assert_eq!(
        one(b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n"),
        F::Map(vec![
            (s("first"), F::Integer(1)),
            (s("second"), F::Integer(2))
        ])
    );
    assert_eq!(
        one(b"~5\r\n+orange\r\n+apple\r\n#t\r\n:100\r\n:999\r\n"),
        F::Set(vec![
            s("orange"),
            s("apple"),
            F::Boolean(true),
            F::Integer(100),
            F::Integer(999)
        ])
    );
    assert_eq!(
        one(b">4\r\n+pubsub\r\n+message\r\n+somechannel\r\n+this is the message\r\n"),
        F::Push(vec![
            s("pubsub"),
            s("message"),
            s("somechannel"),
            s("this is the message")
        ])
    );
}

#[test]
fn attributes() {
    // The spec's "Attribute type" example: the attribute precedes the reply.
    let f = one(b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n");
    assert_eq!(
        f,
        F::Attribute {
            attributes: vec![(
                s("key-popularity"),
                F::Map(vec![
                    (b("a"), F::Double(0.1923)),
                    (b("b"), F::Double(0.0012))
                ])
            )],
            value: Box::new(F::Array(vec![F::Integer(2039123), F::Integer(9543892)])),
        }
    );
    // Attributes may annotate an element inside an aggregate.
    let f = one(b"*3\r\n:1\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n");
    assert_eq!(
        f,
        F::Array(vec![
            F::Integer(1),
            F::Integer(2),
            F::Attribute {
                attributes: vec![(s("ttl"), F::Integer(3600))],
                value: Box::new(F::Integer(3)),
            }
        ])
    );
    assert_eq!(
        one(b"|0\r\n:1\r\n"),
        F::Attribute {
            attributes: vec![],
            value: Box::new(F::Integer(1))
        }
    );
}

#[test]
fn consumes_one_frame_at_a_time() {
    let input = b"+OK\r\n:1\r\n";
    let (f, n) = decode(input).unwrap().unwrap();
    assert_eq!((f, n), (s("OK"), 5));
    let mut buf = BytesMut::from(&input[..]);
    let dec = Decoder::default();
    assert!(
        dec.decode_bytes(&mut buf)
            .unwrap()
            .unwrap()
            .eq_frame(&s("OK"))
    );
    assert_eq!(&buf[..], b":1\r\n");
}

#[test]
fn ok_replies_split_off_exactly() {
    // `+OK` is answered with a static string; the bytes after it stay, and
    // other simple strings are still slices of the buffer.
    let mut buf = BytesMut::from(&b"+OK\r\n+OKAY\r\n+OK\r\n:1\r\n"[..]);
    let dec = Decoder::default();
    let f = dec.decode_bytes(&mut buf).unwrap().unwrap();
    assert!(f.eq_frame(&F::SimpleString(Bytes::from_static(b"OK"))));
    assert_eq!(&buf[..], b"+OKAY\r\n+OK\r\n:1\r\n");
    let base = buf.as_ptr() as usize;
    let F::SimpleString(okay) = dec.decode_bytes(&mut buf).unwrap().unwrap() else {
        panic!("not a simple string")
    };
    assert_eq!(&okay[..], b"OKAY");
    assert_eq!(okay.as_ptr() as usize, base + 1);
    let f = dec.decode_bytes(&mut buf).unwrap().unwrap();
    assert!(f.eq_frame(&F::SimpleString(Bytes::from_static(b"OK"))));
    assert_eq!(&buf[..], b":1\r\n");
    // Incomplete: nothing is consumed.
    let mut buf = BytesMut::from(&b"+OK\r"[..]);
    assert_eq!(dec.decode_bytes(&mut buf), Ok(None));
    assert_eq!(&buf[..], b"+OK\r");
}

#[test]
fn bulk_and_ok_fast_paths_agree_with_the_general_parser() {
    // Owned decoding reads `$<len>` bulk strings and `+OK` without the
    // general header parser; it must accept, wait for and refuse exactly
    // what the borrowed decoder (always the general parser) does, under
    // every limit.
    let inputs: &[&[u8]] = &[
        b"$16\r\n0123456789abcdef\r\n",
        b"$0\r\n\r\n",
        b"$016\r\n0123456789abcdef\r\n",
        b"$3\r\nabc\r\n$1\r\nx\r\n",
        b"$-1\r\n",
        b"$+3\r\nabc\r\n",
        b"$\r\n",
        b"$3\r\nabcXY",
        b"$3\r\nabc\r",
        b"$3\r\nab",
        b"$3\r",
        b"$3\n",
        b"$3x\r\nabc\r\n",
        b"$99999999999\r\n",
        b"$12345678901234567890123\r\n",
        b"$70000\r\n",
        b"$5\r\nhello\r\n",
        b"+OK\r\n",
        b"+OK\r",
        b"+OKAY\r\n",
        b"+OK\n",
    ];
    let tight = [
        Limits::DEFAULT,
        Limits {
            max_bulk_len: 4,
            ..Limits::DEFAULT
        },
        Limits {
            max_line_len: 1,
            ..Limits::DEFAULT
        },
        Limits {
            max_line_len: 2,
            max_bulk_len: 70_000,
            ..Limits::DEFAULT
        },
    ];
    for limits in tight {
        let dec = Decoder::new(limits, Protocol::Resp3);
        for input in inputs {
            for cut in 0..=input.len() {
                let part = &input[..cut];
                let mut buf = BytesMut::from(part);
                let owned = dec.decode_bytes(&mut buf);
                let borrowed = dec.decode(part);
                match (&owned, &borrowed) {
                    (Ok(Some(o)), Ok(Some((b, n)))) => {
                        assert!(o.eq_frame(b), "{limits:?} {part:?}");
                        assert_eq!(buf.len(), part.len() - n, "{limits:?} {part:?}");
                    }
                    (Ok(None), Ok(None)) => assert_eq!(&buf[..], part),
                    (Err(a), Err(b)) => assert_eq!(a, b, "{limits:?} {part:?}"),
                    _ => panic!("{limits:?} {part:?}: owned {owned:?}, borrowed {borrowed:?}"),
                }
            }
        }
    }
}

#[test]
fn owned_strings_share_the_read_buffer() {
    let mut buf = BytesMut::from(&b"$5\r\nhello\r\n"[..]);
    let base = buf.as_ptr() as usize;
    let f = Decoder::default().decode_bytes(&mut buf).unwrap().unwrap();
    let F::BulkString(data) = f else {
        panic!("not a bulk string")
    };
    assert_eq!(data.as_ptr() as usize, base + 4, "bulk string was copied");
    let shared = Bytes::from_static(b"*1\r\n+hi\r\n");
    let (f, n) = Decoder::default().decode_shared(&shared).unwrap().unwrap();
    assert_eq!(n, shared.len());
    assert_eq!(
        f.as_elements().unwrap()[0].as_bytes().unwrap().as_ptr(),
        shared[5..].as_ptr()
    );
}

#[test]
fn malformed_input_is_a_typed_error() {
    assert_eq!(err(b"x\r\n"), K::UnknownType(b'x'));
    assert_eq!(err(b"+OK\rX"), K::BadLineEnding);
    assert_eq!(err(b"+OK\nX"), K::BadLineEnding);
    assert_eq!(err(b":12a\r\n"), K::BadInteger);
    assert_eq!(err(b":\r\n"), K::BadInteger);
    assert_eq!(err(b":9223372036854775808\r\n"), K::BadInteger);
    assert_eq!(err(b"$-2\r\n"), K::BadLength);
    assert_eq!(err(b"$abc\r\n"), K::BadLength);
    assert_eq!(err(b"$\r\n"), K::BadLength);
    assert_eq!(err(b"*-2\r\n"), K::BadLength);
    assert_eq!(err(b"%-1\r\n"), K::BadLength);
    assert_eq!(err(b"$3\r\nabcXY"), K::MissingPayloadCrlf);
    assert_eq!(err(b"#x\r\n"), K::BadBoolean);
    assert_eq!(err(b",1.2.3\r\n"), K::BadDouble);
    assert_eq!(err(b"(12x\r\n"), K::BadBigNumber);
    assert_eq!(err(b"_x\r\n"), K::BadNull);
    assert_eq!(err(b"=3\r\ntxt\r\n"), K::BadVerbatim);
    assert_eq!(err(b"=5\r\ntxt;x\r\n"), K::BadVerbatim);
    assert_eq!(err(b"$?\r\n"), K::StreamedUnsupported);
    assert_eq!(err(b"*?\r\n"), K::StreamedUnsupported);
    // Errors deep inside an aggregate report their own offset.
    let e = decode(b"*2\r\n:1\r\n:x\r\n").unwrap_err();
    assert_eq!((e.kind(), e.offset()), (K::BadInteger, 8));
}

#[test]
fn limits_are_checked_before_allocation() {
    let dec = Decoder::new(
        Limits {
            max_bulk_len: 10,
            max_elements: 3,
            max_depth: 2,
            max_line_len: 8,
        },
        Protocol::Resp3,
    );
    let kind = |i: &[u8]| dec.decode(i).unwrap_err().kind();
    assert_eq!(kind(b"$11\r\n"), K::BulkTooLong { len: 11, max: 10 });
    assert_eq!(
        err(b"$99999999999999999999999999\r\n"),
        K::BulkTooLong {
            len: u64::MAX,
            max: 512 * 1024 * 1024
        }
    );
    assert_eq!(kind(b"!11\r\n"), K::BulkTooLong { len: 11, max: 10 });
    assert_eq!(kind(b"*4\r\n"), K::TooManyElements { count: 4, max: 3 });
    assert_eq!(kind(b"%4\r\n"), K::TooManyElements { count: 4, max: 3 });
    assert_eq!(kind(b"*1\r\n*1\r\n*1\r\n"), K::TooDeep { max: 2 });
    assert_eq!(kind(b"|1\r\n|1\r\n|1\r\n"), K::TooDeep { max: 2 });
    assert_eq!(kind(b"+123456789"), K::LineTooLong { max: 8 });
    assert_eq!(dec.decode(b"+12345678"), Ok(None));
    assert_eq!(dec.decode(b"+12345678\r\n").unwrap().unwrap().1, 11);
    // In-limit but unfilled: incomplete, and nothing reserved for it.
    assert_eq!(dec.decode(b"*3\r\n"), Ok(None));
    assert_eq!(dec.decode(b"$10\r\n"), Ok(None));
}

#[test]
fn resp2_mode_rejects_resp3_types() {
    let dec = Decoder::new(Limits::DEFAULT, Protocol::Resp2);
    for ty in b"_#,(!=%~|>" {
        let input = [*ty, b'1', b'\r', b'\n'];
        assert_eq!(dec.decode(&input).unwrap_err().kind(), K::UnknownType(*ty));
    }
    assert_eq!(dec.decode(b"$-1\r\n").unwrap().unwrap().0, F::NullBulk);
}

#[test]
fn encodes_every_type() {
    let cases: Vec<(F<&[u8]>, &[u8])> = vec![
        (s("OK"), b"+OK\r\n"),
        (F::SimpleError(&b"ERR x"[..]), b"-ERR x\r\n"),
        (F::Integer(-42), b":-42\r\n"),
        (b("hi"), b"$2\r\nhi\r\n"),
        (F::NullBulk, b"$-1\r\n"),
        (F::NullArray, b"*-1\r\n"),
        (F::Array(vec![F::Integer(1)]), b"*1\r\n:1\r\n"),
        (F::Null, b"_\r\n"),
        (F::Boolean(true), b"#t\r\n"),
        (F::Boolean(false), b"#f\r\n"),
        (F::Double(1.5), b",1.5\r\n"),
        (F::Double(f64::INFINITY), b",inf\r\n"),
        (F::Double(f64::NEG_INFINITY), b",-inf\r\n"),
        (F::Double(f64::NAN), b",nan\r\n"),
        (F::BigNumber(&b"-123"[..]), b"(-123\r\n"),
        (F::BulkError(&b"SYNTAX x"[..]), b"!8\r\nSYNTAX x\r\n"),
        (
            F::Verbatim {
                format: *b"txt",
                text: &b"Some string"[..],
            },
            b"=15\r\ntxt:Some string\r\n",
        ),
        (F::Map(vec![(s("a"), F::Integer(1))]), b"%1\r\n+a\r\n:1\r\n"),
        (F::Set(vec![F::Null]), b"~1\r\n_\r\n"),
        (
            F::Attribute {
                attributes: vec![(s("ttl"), F::Integer(1))],
                value: Box::new(s("v")),
            },
            b"|1\r\n+ttl\r\n:1\r\n+v\r\n",
        ),
        (F::Push(vec![s("x")]), b">1\r\n+x\r\n"),
        // A line cannot hold CR/LF: they become spaces.
        (F::SimpleError(&b"ERR a\r\nb"[..]), b"-ERR a  b\r\n"),
    ];
    for (frame, wire) in cases {
        let mut out = BytesMut::new();
        encode(&mut out, &frame);
        assert_eq!(&out[..], wire, "{frame:?}");
    }
}

#[test]
fn inline_requests() {
    let dec = Decoder::default();
    let (f, n) = dec.decode_request(b"SET  k\tv\r\nPING").unwrap().unwrap();
    assert_eq!(n, 10);
    assert_eq!(f, F::Array(vec![b("SET"), b("k"), b("v")]));
    assert_eq!(dec.decode_request(b"PING"), Ok(None));
    let (f, n) = dec.decode_request(b"PING\n").unwrap().unwrap();
    assert_eq!((f, n), (F::Array(vec![b("PING")]), 5));
    assert_eq!(
        dec.decode_request(b"\r\n").unwrap().unwrap().0,
        F::Array(vec![])
    );
    let (f, _) = dec
        .decode_request(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        .unwrap()
        .unwrap();
    assert_eq!(f, F::Array(vec![b("GET"), b("k")]));
    let mut buf = BytesMut::from(&b"GET key\r\n+"[..]);
    let f = dec.decode_request_bytes(&mut buf).unwrap().unwrap();
    assert!(f.eq_frame(&F::Array(vec![b("GET"), b("key")])));
    assert_eq!(&buf[..], b"+");
    let small = Decoder::new(
        Limits {
            max_line_len: 4,
            ..Limits::DEFAULT
        },
        Protocol::Resp2,
    );
    assert_eq!(
        small.decode_request(b"PINGPONG").unwrap_err().kind(),
        K::LineTooLong { max: 4 }
    );
    assert_eq!(small.decode_request(b"PING\r").unwrap(), None);
}

#[test]
fn command_encoding() {
    let mut out = BytesMut::new();
    encode_command(&mut out, &["GET", "key"]);
    assert_eq!(&out[..], b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    let (f, _) = decode(&out).unwrap().unwrap();
    assert_eq!(f, F::Array(vec![b("GET"), b("key")]));
    out.clear();
    encode_command::<&[u8]>(&mut out, &[]);
    assert_eq!(&out[..], b"*0\r\n");
}

#[test]
fn invariant_checks_accept_spec_examples() {
    let inputs: &[&[u8]] = &[
        b"*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+Hello\r\n-World\r\n+OK\r\n",
        b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
        b",-nan\r\n,1e400\r\n(+5\r\n=15\r\ntxt:Some string\r\n$3\r\nab",
        b"*1\r\n:x\r\n",
    ];
    for i in inputs {
        crate::invariants::check_decode(i, Protocol::Resp3);
        crate::invariants::check_decode(i, Protocol::Resp2);
    }
}

#[test]
fn stream_decoder_resumes_instead_of_rescanning() {
    let mut wire = BytesMut::new();
    let items: Vec<F<&[u8]>> = (0..1000).map(F::Integer).collect();
    encode(&mut wire, &F::Array(items.clone()));
    encode(&mut wire, &s("next"));
    let mut sd = StreamDecoder::new(Decoder::default());
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in wire.chunks(7) {
        buf.extend_from_slice(chunk);
        let before = sd.cursor.pos;
        while let Some(f) = sd.decode_bytes(&mut buf).unwrap() {
            frames.push(f);
        }
        // While a frame is incomplete the cursor only moves forward.
        if frames.is_empty() {
            assert!(sd.cursor.pos >= before);
        }
    }
    assert_eq!(frames.len(), 2);
    assert!(frames[0].eq_frame(&F::Array(items)));
    // A replaced buffer is noticed rather than misread.
    let mut sd = StreamDecoder::new(Decoder::default());
    let mut buf = BytesMut::from(&b"*2\r\n:1\r\n"[..]);
    assert_eq!(sd.decode_bytes(&mut buf), Ok(None));
    let mut other = BytesMut::from(&b"*1\r\n:1\r\n:2\r\n"[..]);
    assert_eq!(
        sd.decode_bytes(&mut other).unwrap_err().kind(),
        K::Desynchronized
    );
    sd.reset();
    let mut buf = BytesMut::from(&b":5\r\n"[..]);
    assert_eq!(sd.decode_bytes(&mut buf).unwrap(), Some(F::Integer(5)));
}

#[test]
fn resp2_downgrade() {
    let frame: F<&[u8]> = F::Attribute {
        attributes: vec![(s("ttl"), F::Integer(1))],
        value: Box::new(F::Map(vec![
            (b("n"), F::Null),
            (b("t"), F::Boolean(true)),
            (b("d"), F::Double(1.5)),
            (b("i"), F::Double(f64::NEG_INFINITY)),
            (b("big"), F::BigNumber(&b"12345678901234567890"[..])),
            (
                b("v"),
                F::Verbatim {
                    format: *b"txt",
                    text: &b"hi"[..],
                },
            ),
            (b("s"), F::Set(vec![F::Integer(1)])),
            (b("e"), F::BulkError(&b"ERR x"[..])),
        ])),
    };
    let mut out = BytesMut::new();
    encode_resp2(&mut out, &frame);
    let dec = Decoder::new(Limits::DEFAULT, Protocol::Resp2);
    let (got, n) = dec.decode(&out).unwrap().unwrap();
    assert_eq!(n, out.len());
    assert_eq!(
        got,
        F::Array(vec![
            b("n"),
            F::NullBulk,
            b("t"),
            F::Integer(1),
            b("d"),
            b("1.5"),
            b("i"),
            b("-inf"),
            b("big"),
            b("12345678901234567890"),
            b("v"),
            b("hi"),
            b("s"),
            F::Array(vec![F::Integer(1)]),
            b("e"),
            F::SimpleError(&b"ERR x"[..]),
        ])
    );
}

#[test]
fn borrowed_frames_convert_to_owned() {
    let input = b"*2\r\n%1\r\n+k\r\n=6\r\ntxt:hi\r\n|1\r\n+a\r\n:1\r\n(9\r\n";
    let (f, _) = decode(input).unwrap().unwrap();
    let owned: Frame = f.to_owned_frame();
    assert!(owned.eq_frame(&f));
    let lens = f.clone().map_bytes(&mut |b: &[u8]| b.len());
    assert!(matches!(lens, F::Array(ref v) if v.len() == 2));
}
