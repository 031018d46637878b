//! Property tests: encode -> decode is the identity, and decoding does not
//! depend on how the input is split.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use proto_resp::codec::{Decoder, encode, encode_command, encode_resp2};
use proto_resp::invariants::{check_decode, check_roundtrip};
use proto_resp::{Frame, Limits, Protocol};

fn bytes() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

/// Line-safe bytes (no CR/LF), as simple strings and errors require.
fn line() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..16,
    )
    .prop_map(Bytes::from)
}

fn big_number() -> impl Strategy<Value = Bytes> {
    "[-+]?[0-9]{1,40}".prop_map(Bytes::from)
}

fn leaf(resp3: bool) -> BoxedStrategy<Frame> {
    let resp2 = prop_oneof![
        line().prop_map(Frame::SimpleString),
        line().prop_map(Frame::SimpleError),
        any::<i64>().prop_map(Frame::Integer),
        bytes().prop_map(Frame::BulkString),
        Just(Frame::NullBulk),
        Just(Frame::NullArray),
    ];
    if !resp3 {
        return resp2.boxed();
    }
    prop_oneof![
        resp2,
        Just(Frame::Null),
        any::<bool>().prop_map(Frame::Boolean),
        any::<f64>().prop_map(Frame::Double),
        prop_oneof![Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(f64::NAN)]
            .prop_map(Frame::Double),
        big_number().prop_map(Frame::BigNumber),
        bytes().prop_map(Frame::BulkError),
        (any::<[u8; 3]>(), bytes()).prop_map(|(format, text)| Frame::Verbatim { format, text }),
    ]
    .boxed()
}

fn frame(resp3: bool) -> impl Strategy<Value = Frame> {
    leaf(resp3).prop_recursive(4, 48, 6, move |inner| {
        let list = prop::collection::vec(inner.clone(), 0..6);
        let pairs = prop::collection::vec((inner.clone(), inner.clone()), 0..4);
        if !resp3 {
            return list.prop_map(Frame::Array).boxed();
        }
        prop_oneof![
            list.clone().prop_map(Frame::Array),
            list.clone().prop_map(Frame::Set),
            list.prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(attributes, value)| Frame::Attribute {
                attributes,
                value: Box::new(value)
            }),
        ]
        .boxed()
    })
}

fn decoder(p: Protocol) -> Decoder {
    Decoder::new(Limits::DEFAULT, p)
}

proptest! {
    #[test]
    fn resp3_roundtrip(f in frame(true)) {
        check_roundtrip(&decoder(Protocol::Resp3), &f);
    }

    #[test]
    fn resp2_roundtrip(f in frame(false)) {
        check_roundtrip(&decoder(Protocol::Resp2), &f);
    }

    /// Any RESP3 frame downgrades to one valid RESP2 frame; RESP2 frames
    /// are left as they are.
    #[test]
    fn resp2_downgrade(f in frame(true), g in frame(false)) {
        let mut out = BytesMut::new();
        encode_resp2(&mut out, &f);
        let (_, n) = decoder(Protocol::Resp2).decode(&out).unwrap().unwrap();
        prop_assert_eq!(n, out.len());
        let (mut a, mut b) = (BytesMut::new(), BytesMut::new());
        encode_resp2(&mut a, &g);
        encode(&mut b, &g);
        prop_assert_eq!(a, b);
    }

    /// A stream of frames split at random points decodes to the same frames.
    #[test]
    fn random_splits(frames in prop::collection::vec(frame(true), 1..6),
                     cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let mut wire = BytesMut::new();
        for f in &frames {
            encode(&mut wire, f);
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.push(wire.len());
        points.sort_unstable();
        let dec = decoder(Protocol::Resp3);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut at = 0;
        for p in points {
            buf.extend_from_slice(&wire[at..p]);
            at = p;
            while let Some(f) = dec.decode_bytes(&mut buf).unwrap() {
                got.push(f);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, frames);
    }

    /// Every byte split of an encoded stream (whole vs byte-at-a-time), and
    /// the full invariant set of the fuzz targets.
    #[test]
    fn every_byte_split(frames in prop::collection::vec(frame(true), 1..4)) {
        let mut wire = BytesMut::new();
        for f in &frames {
            encode(&mut wire, f);
        }
        check_decode(&wire, Protocol::Resp3);
        check_decode(&wire, Protocol::Resp2);
    }

    /// Arbitrary bytes: never a panic, and the same invariants hold.
    #[test]
    fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..64)) {
        check_decode(&data, Protocol::Resp3);
        check_decode(&data, Protocol::Resp2);
    }

    /// Arbitrary bytes behind a valid type byte reach deeper decoder paths.
    #[test]
    fn typed_garbage(ty in prop::sample::select(b"+-:$*_#,(!=%~|>".to_vec()),
                     data in prop::collection::vec(prop::sample::select(b"0123456789-+?.:\r\nabc*$%|>_".to_vec()), 0..48)) {
        let mut input = vec![ty];
        input.extend_from_slice(&data);
        check_decode(&input, Protocol::Resp3);
    }

    #[test]
    fn command_roundtrip(args in prop::collection::vec(bytes(), 0..14),
                         before in prop::collection::vec(any::<u8>(), 0..40)) {
        let mut out = BytesMut::new();
        encode_command(&mut out, &args);
        let mut cmd = proto_resp::Cmd::default();
        for a in &args {
            cmd.arg(a);
        }
        // Appended after what the buffer already holds (one- and
        // two-digit headers).
        let mut via_cmd = BytesMut::from(&before[..]);
        cmd.write_to(&mut via_cmd);
        prop_assert_eq!(&via_cmd[..before.len()], &before[..]);
        prop_assert_eq!(&out[..], &via_cmd[before.len()..]);
        prop_assert_eq!(cmd.args().collect::<Vec<_>>(), args.iter().map(|a| &a[..]).collect::<Vec<_>>());
        let (f, n) = proto_resp::codec::decode(&out).unwrap().unwrap();
        prop_assert_eq!(n, out.len());
        let expect = Frame::Array(args.into_iter().map(Frame::BulkString).collect());
        prop_assert!(f.eq_frame(&expect));
    }
}
