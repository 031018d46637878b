//! Property tests: encode -> decode is the identity, decoding does not depend
//! on how the input is split, and arbitrary bytes never break the invariants
//! the fuzz targets check.

use std::time::Instant;

use bytes::BytesMut;
use proptest::collection::vec;
use proptest::prelude::*;
use proto_memcache::binary::{self, Opcode, Status};
use proto_memcache::meta::{self, Flags};
use proto_memcache::text::{self, Value};
use proto_memcache::{Config, Connection, Event, Limits, Protocol, check};

fn key() -> impl Strategy<Value = Vec<u8>> {
    vec(0x21u8..0x7f, 1..16)
}

/// Bytes of a reply line's free text: anything but `\n`.
fn line_text() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..24)
}

fn text_reply() -> impl Strategy<Value = text::Reply<Vec<u8>>> {
    use text::Reply as R;
    prop_oneof![
        (
            key(),
            any::<u32>(),
            any::<Option<u64>>(),
            vec(any::<u8>(), 0..64)
        )
            .prop_map(|(key, flags, cas, data)| R::Value(Value {
                key,
                flags,
                cas,
                data
            })),
        Just(R::End),
        Just(R::Stored),
        Just(R::NotStored),
        Just(R::Exists),
        Just(R::NotFound),
        Just(R::Deleted),
        Just(R::Touched),
        Just(R::Ok),
        any::<u64>().prop_map(R::Number),
        (key(), line_text()).prop_map(|(name, value)| R::Stat { name, value }),
        line_text().prop_map(R::Version),
        line_text().prop_map(R::Error),
        line_text().prop_map(R::ClientError),
        line_text().prop_map(R::ServerError),
    ]
}

fn meta_flags() -> impl Strategy<Value = Vec<u8>> {
    vec(
        (
            prop::sample::select(b"bcfhklOqstuvNRTWXZ".to_vec()),
            vec(0x21u8..0x7f, 0..6),
        ),
        0..5,
    )
    .prop_map(|toks| {
        let parts: Vec<Vec<u8>> = toks
            .into_iter()
            .map(|(l, t)| std::iter::once(l).chain(t).collect())
            .collect();
        parts.join(&b' ')
    })
}

fn meta_reply() -> impl Strategy<Value = meta::Reply<Vec<u8>>> {
    use meta::Reply as R;
    prop_oneof![
        meta_flags().prop_map(|f| R::Hd(Flags::new(f))),
        (meta_flags(), vec(any::<u8>(), 0..64)).prop_map(|(f, data)| R::Value {
            flags: Flags::new(f),
            data
        }),
        meta_flags().prop_map(|f| R::Miss(Flags::new(f))),
        meta_flags().prop_map(|f| R::NotFound(Flags::new(f))),
        meta_flags().prop_map(|f| R::NotStored(Flags::new(f))),
        meta_flags().prop_map(|f| R::Exists(Flags::new(f))),
        Just(R::NoOp),
        (key(), line_text()).prop_map(|(key, info)| R::Debug { key, info }),
        line_text().prop_map(R::ClientError),
        line_text().prop_map(R::ServerError),
    ]
}

fn binary_response() -> impl Strategy<Value = binary::Response<Vec<u8>>> {
    let opcodes: Vec<Opcode> = (0..=255u8).filter_map(Opcode::from_u8).collect();
    (
        prop::sample::select(opcodes),
        any::<u16>(),
        any::<u32>(),
        any::<u64>(),
        any::<u8>(),
        vec(any::<u8>(), 0..8),
        vec(any::<u8>(), 0..20),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(opcode, status, opaque, cas, data_type, extras, key, value)| binary::Response {
                opcode,
                status: Status(status),
                opaque,
                cas,
                data_type,
                extras,
                key,
                value,
            },
        )
}

/// Decodes every frame of `bytes` from one buffer.
fn decode_all<F>(bytes: &[u8], mut decode: impl FnMut(&[u8]) -> Option<(F, usize)>) -> Vec<F> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some((f, n)) = decode(&bytes[at..]) {
        out.push(f);
        at += n;
    }
    assert_eq!(at, bytes.len(), "trailing bytes");
    out
}

/// Decodes `bytes` delivered in the given chunk sizes, through a growing
/// buffer as a connection would.
fn decode_chunked<F>(
    bytes: &[u8],
    chunks: &[usize],
    mut decode: impl FnMut(&[u8]) -> Option<(F, usize)>,
) -> Vec<F> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut at = 0;
    let mut sizes = chunks.iter().cycle();
    while at < bytes.len() {
        let n = (*sizes.next().unwrap()).min(bytes.len() - at);
        buf.extend_from_slice(&bytes[at..at + n]);
        at += n;
        while let Some((f, used)) = decode(&buf) {
            out.push(f);
            buf.drain(..used);
        }
    }
    assert!(buf.is_empty());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn text_encode_decode_identity(replies in vec(text_reply(), 1..8), chunks in vec(1usize..40, 1..6)) {
        let l = Limits::default();
        let mut buf = BytesMut::new();
        for r in &replies {
            text::encode::reply(&mut buf, r);
        }
        let dec = |b: &[u8]| text::decode(b, &l).unwrap().map(|(f, n)| (f.map(<[u8]>::to_vec), n));
        prop_assert_eq!(&decode_all(&buf, dec), &replies);
        prop_assert_eq!(&decode_chunked(&buf, &chunks, dec), &replies);
        check::text_replies(&buf, &l);
    }

    #[test]
    fn meta_encode_decode_identity(replies in vec(meta_reply(), 1..8), chunks in vec(1usize..40, 1..6)) {
        let l = Limits::default();
        let mut buf = BytesMut::new();
        for r in &replies {
            meta::encode::reply(&mut buf, r);
        }
        let dec = |b: &[u8]| meta::decode(b, &l).unwrap().map(|(f, n)| (f.map(<[u8]>::to_vec), n));
        prop_assert_eq!(&decode_all(&buf, dec), &replies);
        prop_assert_eq!(&decode_chunked(&buf, &chunks, dec), &replies);
        check::meta_replies(&buf, &l);
    }

    #[test]
    fn binary_encode_decode_identity(resps in vec(binary_response(), 1..8), chunks in vec(1usize..40, 1..6)) {
        let l = Limits::default();
        let mut buf = BytesMut::new();
        for r in &resps {
            binary::encode::response(&mut buf, r);
        }
        let dec = |b: &[u8]| binary::decode(b, &l).unwrap().map(|(f, n)| (f.map(<[u8]>::to_vec), n));
        prop_assert_eq!(&decode_all(&buf, dec), &resps);
        prop_assert_eq!(&decode_chunked(&buf, &chunks, dec), &resps);
        check::binary_responses(&buf, &l);
    }

    #[test]
    fn arbitrary_bytes_keep_the_fuzz_invariants(data in vec(any::<u8>(), 0..200)) {
        let l = Limits { max_line_len: 64, max_value_len: 64, ..Limits::default() };
        check::text_replies(&data, &l);
        check::meta_replies(&data, &l);
        check::binary_responses(&data, &l);
        check::connection(Protocol::Text, &data, &l);
        check::connection(Protocol::Meta, &data, &l);
        check::connection(Protocol::Binary, &data, &l);
    }

    #[test]
    fn connections_are_split_invariant_on_reply_streams(
        text in vec(text_reply(), 0..8),
        meta_r in vec(meta_reply(), 0..8),
        bin in vec(binary_response(), 0..6),
    ) {
        let l = Limits::default();
        let mut buf = BytesMut::new();
        for r in &text {
            text::encode::reply(&mut buf, r);
        }
        check::connection(Protocol::Text, &buf, &l);
        for r in &meta_r {
            meta::encode::reply(&mut buf, r);
        }
        check::connection(Protocol::Meta, &buf, &l);
        let mut buf = BytesMut::new();
        for r in &bin {
            binary::encode::response(&mut buf, r);
        }
        check::connection(Protocol::Binary, &buf, &l);
    }

    #[test]
    fn near_miss_text_keeps_the_fuzz_invariants(
        replies in vec(text_reply(), 1..4),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        // A valid stream with one byte replaced: decoders must stay
        // split-invariant and round-trippable on whatever parses.
        let mut buf = BytesMut::new();
        for r in &replies {
            text::encode::reply(&mut buf, r);
        }
        let i = cut.index(buf.len());
        buf[i] = byte;
        check::text_replies(&buf, &Limits::default());
        check::meta_replies(&buf, &Limits::default());
    }

    #[test]
    fn connection_is_split_invariant(
        hits in vec((key(), vec(any::<u8>(), 0..40)), 0..10),
        chunks in vec(1usize..30, 1..6),
    ) {
        // One multi-get of all keys (plus one never answered), replies as a
        // server would send them.
        let keys: Vec<Vec<u8>> = hits.iter().map(|(k, _)| k.clone()).chain([b"miss".to_vec()]).collect();
        let mut reply = BytesMut::new();
        for (k, v) in &hits {
            text::encode::reply(&mut reply, &text::Reply::Value(Value { key: k.clone(), flags: 1, cas: None, data: v.clone() }));
        }
        text::encode::reply(&mut reply, &text::Reply::<Vec<u8>>::End);
        let run = |chunks: &[usize]| {
            let mut c = Connection::new(Config::new(Protocol::Text));
            let id = c.get(&keys).unwrap();
            let mut out = BytesMut::new();
            let _ = c.poll_transmit(&mut out);
            let mut buf = BytesMut::new();
            let mut at = 0;
            let mut sizes = chunks.iter().cycle();
            while at < reply.len() {
                let n = (*sizes.next().unwrap()).min(reply.len() - at);
                buf.extend_from_slice(&reply[at..at + n]);
                at += n;
                c.handle_input(Instant::now(), &mut buf).unwrap();
            }
            let ev: Vec<Event> = std::iter::from_fn(|| c.poll_event()).collect();
            (id, ev)
        };
        let (id, whole) = run(&[reply.len()]);
        let (_, split) = run(&chunks);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.len(), 1);
        match &whole[0] {
            Event::Response { id: got, response: proto_memcache::Response::Values(items) } => {
                prop_assert_eq!(*got, id);
                prop_assert_eq!(items.len(), hits.len());
                for (it, (k, v)) in items.iter().zip(&hits) {
                    prop_assert_eq!(&it.key[..], &k[..]);
                    prop_assert_eq!(&it.value[..], &v[..]);
                }
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
