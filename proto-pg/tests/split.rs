//! Property tests: decoding is independent of how the input is split.

use std::time::Instant;

use bytes::BytesMut;
use proptest::prelude::*;
use proto_pg::message::backend::{self, BackendMessage};
use proto_pg::{Config, Connection, Format, Limits};

fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn cstr() -> impl Strategy<Value = Vec<u8>> {
    "[a-zA-Z0-9 _.]{0,12}".prop_map(|s| {
        let mut v = s.into_bytes();
        v.push(0);
        v
    })
}

/// One valid backend message, of any kind a server sends after start-up.
fn message() -> impl Strategy<Value = Vec<u8>> {
    let column = proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20));
    prop_oneof![
        proptest::collection::vec(column, 0..6).prop_map(|cols| {
            let mut b = (cols.len() as u16).to_be_bytes().to_vec();
            for c in cols {
                match c {
                    Some(v) => {
                        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                        b.extend(v);
                    }
                    None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
            frame(b'D', &b)
        }),
        proptest::collection::vec(
            (
                cstr(),
                any::<u32>(),
                any::<i16>(),
                any::<u32>(),
                any::<i16>(),
                any::<i32>(),
                0i16..2
            ),
            0..4
        )
        .prop_map(|fields| {
            let mut b = (fields.len() as u16).to_be_bytes().to_vec();
            for (name, t, c, ty, sz, m, f) in fields {
                b.extend(name);
                b.extend_from_slice(&t.to_be_bytes());
                b.extend_from_slice(&c.to_be_bytes());
                b.extend_from_slice(&ty.to_be_bytes());
                b.extend_from_slice(&sz.to_be_bytes());
                b.extend_from_slice(&m.to_be_bytes());
                b.extend_from_slice(&f.to_be_bytes());
            }
            frame(b'T', &b)
        }),
        cstr().prop_map(|t| frame(b'C', &t)),
        (cstr(), cstr()).prop_map(|(a, b)| frame(b'S', &[a, b].concat())),
        (any::<i32>(), cstr(), cstr())
            .prop_map(|(p, a, b)| frame(b'A', &[p.to_be_bytes().to_vec(), a, b].concat())),
        proptest::collection::vec(
            (
                prop_oneof![
                    Just(b'S'),
                    Just(b'C'),
                    Just(b'M'),
                    Just(b'D'),
                    Just(b'P'),
                    Just(b'x')
                ],
                cstr()
            ),
            0..5
        )
        .prop_map(|f| {
            let mut b: Vec<u8> = f
                .into_iter()
                .flat_map(|(c, v)| std::iter::once(c).chain(v))
                .collect();
            b.push(0);
            frame(b'N', &b)
        }),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|d| frame(b'd', &d)),
        prop_oneof![
            Just(b'1'),
            Just(b'2'),
            Just(b'3'),
            Just(b'n'),
            Just(b'I'),
            Just(b's'),
            Just(b'c')
        ]
        .prop_map(|t| frame(t, b"")),
        prop_oneof![Just(b'I'), Just(b'T'), Just(b'E')].prop_map(|s| frame(b'Z', &[s])),
        proptest::collection::vec(any::<u32>(), 0..5).prop_map(|o| {
            let mut b = (o.len() as u16).to_be_bytes().to_vec();
            for x in o {
                b.extend_from_slice(&x.to_be_bytes());
            }
            frame(b't', &b)
        }),
    ]
}

fn decode_all<'a>(mut data: &'a [u8], out: &mut Vec<BackendMessage<'a>>) {
    while let Some((m, n)) = backend::decode(data, &Limits::DEFAULT).unwrap() {
        out.push(m);
        data = &data[n..];
    }
    assert!(data.is_empty());
}

fn chunked(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut prev = 0;
    for c in cuts.into_iter().chain(std::iter::once(data.len())) {
        out.push(data[prev..c].to_vec());
        prev = c;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Any split of a stream of valid messages decodes to the same messages.
    #[test]
    fn decoder_split_invariance(msgs in proptest::collection::vec(message(), 1..12), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let data: Vec<u8> = msgs.concat();
        let mut whole = Vec::new();
        decode_all(&data, &mut whole);
        prop_assert_eq!(whole.len(), msgs.len());
        // Feed chunks into a growing buffer as a reader would.
        let mut buf = Vec::new();
        let mut got = Vec::new();
        for chunk in chunked(&data, &cuts) {
            buf.extend_from_slice(&chunk);
            let mut used = 0;
            while let Some((m, n)) = backend::decode(&buf[used..], &Limits::DEFAULT).unwrap() {
                let mut re = BytesMut::new();
                m.encode(&mut re);
                got.push(re.to_vec());
                used += n;
            }
            buf.drain(..used);
        }
        prop_assert_eq!(got, msgs.clone());
        prop_assert_eq!(proto_pg::fuzzing::backend_split(&data), msgs.iter().filter(|m| m.len() - 5 <= 4096).count().min(msgs.len()));
    }

    /// The connection gives the same events however the input is split.
    #[test]
    fn connection_split_invariance(msgs in proptest::collection::vec(message(), 0..12), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let data: Vec<u8> = msgs.concat();
        let run = |chunks: Vec<Vec<u8>>| {
            let mut c = Connection::new(Config::new("p")).unwrap();
            let mut b = BytesMut::from(&b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I"[..]);
            c.handle_input(Instant::now(), &mut b).unwrap();
            c.simple_query("a").unwrap();
            c.query("b", &[], &[], &[], &[Format::Binary]).unwrap();
            c.simple_query("c").unwrap();
            let mut events = Vec::new();
            let mut buf = BytesMut::new();
            let mut err = None;
            for ch in chunks {
                buf.extend_from_slice(&ch);
                let r = c.handle_input(Instant::now(), &mut buf);
                while let Some(e) = c.poll_event() {
                    events.push(format!("{e:?}"));
                }
                if let Err(e) = r {
                    err = Some(format!("{e:?}"));
                    break;
                }
            }
            (events, err)
        };
        prop_assert_eq!(run(vec![data.clone()]), run(chunked(&data, &cuts)));
        proto_pg::fuzzing::client_conn_split(&[&[1u8][..], &data].concat());
    }
}
