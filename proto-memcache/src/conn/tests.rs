//! Connection tests against scripted server bytes (the real-server tests are
//! in `tests/server.rs`; these cover what a real server will not send).

use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::*;
use crate::binary::{self, Status};
use crate::error::DecodeError;
use crate::event::{Item, ServerError, ServerErrorKind, Stat};
use crate::meta::Flag;
use crate::text::encode::{GetMode, StoreMode};

fn conn(p: Protocol) -> Connection {
    Connection::new(Config::new(p))
}

fn sent(c: &mut Connection) -> Vec<u8> {
    let mut b = BytesMut::new();
    let n = c.poll_transmit(&mut b);
    assert_eq!(n, b.len());
    b.to_vec()
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn feed(c: &mut Connection, bytes: &[u8]) -> Result<(), ProtocolError> {
    let mut b = BytesMut::from(bytes);
    c.handle_input(Instant::now(), &mut b)
}

fn resp(id: ReqId, response: Response) -> Event {
    Event::Response { id, response }
}

fn item(key: &'static [u8], flags: u32, cas: Option<u64>, value: &'static [u8]) -> Item {
    Item {
        key: Bytes::from_static(key),
        flags,
        cas,
        value: Bytes::from_static(value),
    }
}

/// Feeds `reply` in chunks of every size from 1 to 9 bytes and whole, to
/// fresh connections built by `setup`, and checks all give the same events.
fn split_invariant(p: Protocol, setup: impl Fn(&mut Connection), reply: &[u8]) -> Vec<Event> {
    let mut reference = None;
    for chunk in (1..10).chain([reply.len().max(1)]) {
        let mut c = conn(p);
        setup(&mut c);
        let _ = sent(&mut c);
        let mut buf = BytesMut::new();
        for part in reply.chunks(chunk) {
            buf.extend_from_slice(part);
            c.handle_input(Instant::now(), &mut buf).unwrap();
        }
        assert!(buf.is_empty(), "left {buf:?}");
        let ev = events(&mut c);
        match &reference {
            None => reference = Some(ev),
            Some(r) => assert_eq!(&ev, r, "chunk size {chunk}"),
        }
    }
    reference.unwrap()
}

#[test]
fn text_pipeline_and_split_invariance() {
    let setup = |c: &mut Connection| {
        c.set(b"a", b"x").unwrap();
        c.get(&[&b"a"[..], b"b", b"c"]).unwrap();
        c.delete(b"a", false).unwrap();
        c.incr(b"n", 5, false).unwrap();
        c.stats(None).unwrap();
        c.version().unwrap();
        c.touch(b"a", 1, false).unwrap();
    };
    let mut c = conn(Protocol::Text);
    setup(&mut c);
    assert_eq!(
        sent(&mut c),
        b"set a 0 0 1\r\nx\r\nget a b c\r\ndelete a\r\nincr n 5\r\nstats\r\nversion\r\ntouch a 1\r\n"
    );
    let reply = b"STORED\r\nVALUE a 1 1\r\nx\r\nVALUE c 0 2 9\r\nyy\r\nEND\r\nDELETED\r\n5\r\nSTAT pid 1\r\nSTAT uptime 2\r\nEND\r\nVERSION 1.6.18\r\nNOT_FOUND\r\n";
    let ev = split_invariant(Protocol::Text, setup, reply);
    let ids: Vec<ReqId> = (1..=7).map(ReqId).collect();
    assert_eq!(
        ev,
        vec![
            resp(ids[0], Response::Stored),
            resp(
                ids[1],
                Response::Values(vec![
                    item(b"a", 1, None, b"x"),
                    item(b"c", 0, Some(9), b"yy")
                ])
            ),
            resp(ids[2], Response::Deleted),
            resp(ids[3], Response::Counter(5)),
            resp(
                ids[4],
                Response::Stats(vec![
                    Stat {
                        name: Bytes::from_static(b"pid"),
                        value: Bytes::from_static(b"1")
                    },
                    Stat {
                        name: Bytes::from_static(b"uptime"),
                        value: Bytes::from_static(b"2")
                    },
                ])
            ),
            resp(ids[5], Response::Version(Bytes::from_static(b"1.6.18"))),
            resp(ids[6], Response::NotFound),
        ]
    );
}

#[test]
fn text_server_errors_are_per_request() {
    let mut c = conn(Protocol::Text);
    let a = c.set(b"k", b"v").unwrap();
    let b = c.get(&[b"k"]).unwrap();
    let d = c.version().unwrap();
    feed(
        &mut c,
        b"SERVER_ERROR out of memory storing object\r\nCLIENT_ERROR bad\r\nERROR\r\n",
    )
    .unwrap();
    let ev = events(&mut c);
    let err = |kind, m: &'static [u8]| {
        Response::Error(ServerError {
            kind,
            message: Bytes::from_static(m),
        })
    };
    assert_eq!(
        ev,
        vec![
            resp(
                a,
                err(ServerErrorKind::Server, b"out of memory storing object")
            ),
            resp(b, err(ServerErrorKind::Client, b"bad")),
            resp(d, err(ServerErrorKind::Error, b"")),
        ]
    );
    assert!(!c.is_closed());
}

#[test]
fn text_noreply_completes_at_once() {
    let mut c = conn(Protocol::Text);
    let o = StoreOptions {
        noreply: true,
        ..StoreOptions::default()
    };
    let id = c.store(StoreMode::Set, b"k", b"v", o).unwrap();
    assert_eq!(events(&mut c), vec![resp(id, Response::NoReply)]);
    assert_eq!(c.pending(), 0);
    assert_eq!(sent(&mut c), b"set k 0 0 1 noreply\r\nv\r\n");
}

#[test]
fn protocol_violations_are_fatal_and_sticky() {
    // More hits than keys.
    let mut c = conn(Protocol::Text);
    let g = c.get(&[b"a"]).unwrap();
    let s = c.set(b"a", b"b").unwrap();
    let e = feed(&mut c, b"VALUE a 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n").unwrap_err();
    assert_eq!(e, ProtocolError::UnexpectedKey);
    assert_eq!(
        events(&mut c),
        vec![
            Event::Aborted {
                id: g,
                error: e.clone()
            },
            Event::Aborted {
                id: s,
                error: e.clone()
            },
        ]
    );
    assert_eq!(feed(&mut c, b"END\r\n"), Err(e.clone()));
    assert_eq!(c.handle_eof(), Err(e.clone()));
    assert_eq!(c.get(&[b"a"]), Err(UsageError::Closed));
    assert_eq!(c.error(), Some(&e));

    // Unsolicited and wrong-kind replies.
    let mut c = conn(Protocol::Text);
    assert_eq!(feed(&mut c, b"STORED\r\n"), Err(ProtocolError::Unsolicited));
    let mut c = conn(Protocol::Text);
    c.get(&[b"a"]).unwrap();
    assert!(matches!(
        feed(&mut c, b"STORED\r\n"),
        Err(ProtocolError::UnexpectedReply { .. })
    ));

    // Hostile length: refused as soon as the VALUE line is in.
    let mut c = conn(Protocol::Text);
    c.get(&[b"a"]).unwrap();
    assert!(matches!(
        feed(&mut c, b"VALUE a 0 2000000\r\n"),
        Err(ProtocolError::Decode(DecodeError::ValueTooLarge {
            len: 2_000_000,
            ..
        }))
    ));
    let mut c = conn(Protocol::Text);
    c.version().unwrap();
    assert!(matches!(
        feed(&mut c, &[b'7'; 10_000]),
        Err(ProtocolError::Decode(DecodeError::LineTooLong { .. }))
    ));
}

#[test]
fn eof_and_abort() {
    let mut c = conn(Protocol::Text);
    assert_eq!(c.handle_eof(), Ok(()));
    assert!(c.is_closed());
    assert_eq!(c.version(), Err(UsageError::Closed));

    let mut c = conn(Protocol::Text);
    let id = c.version().unwrap();
    assert_eq!(c.handle_eof(), Err(ProtocolError::UnexpectedEof));
    assert_eq!(
        events(&mut c),
        vec![Event::Aborted {
            id,
            error: ProtocolError::UnexpectedEof
        }]
    );

    let mut c = conn(Protocol::Meta);
    let id = c.get(&[b"a", b"b"]).unwrap();
    c.abort();
    assert_eq!(
        events(&mut c),
        vec![Event::Aborted {
            id,
            error: ProtocolError::Aborted
        }]
    );
    assert_eq!(sent(&mut c), b"");
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(Instant::now());
}

#[test]
fn meta_multi_get_and_split_invariance() {
    let setup = |c: &mut Connection| {
        c.get(&[&b"a"[..], b"b", b"c"]).unwrap();
        c.version().unwrap();
    };
    let mut c = conn(Protocol::Meta);
    setup(&mut c);
    // Several keys: the text line, in the meta flavour too.
    assert_eq!(sent(&mut c), b"get a b c\r\nversion\r\n");
    let ev = split_invariant(
        Protocol::Meta,
        setup,
        b"VALUE b 5 1\r\nx\r\nEND\r\nVERSION 1.6.18\r\n",
    );
    assert_eq!(
        ev,
        vec![
            resp(ReqId(1), Response::Values(vec![item(b"b", 5, None, b"x")])),
            resp(ReqId(2), Response::Version(Bytes::from_static(b"1.6.18"))),
        ]
    );
}

#[test]
fn meta_errors_inside_a_multi_get_belong_to_it() {
    let mut c = conn(Protocol::Meta);
    let g = c.get(&[b"a", b"b"]).unwrap();
    let v = c.version().unwrap();
    assert_eq!(sent(&mut c), b"get a b\r\nversion\r\n");
    // An error line ends the `get` it answers, as in the text flavour.
    feed(
        &mut c,
        b"VALUE a 0 1\r\nx\r\nSERVER_ERROR out of memory\r\nVERSION 1\r\n",
    )
    .unwrap();
    assert_eq!(
        events(&mut c),
        vec![
            resp(
                g,
                Response::Error(ServerError {
                    kind: ServerErrorKind::Server,
                    message: Bytes::from_static(b"out of memory")
                })
            ),
            resp(v, Response::Version(Bytes::from_static(b"1"))),
        ]
    );
}

#[test]
fn meta_quiet_matching() {
    let q = StoreOptions {
        noreply: true,
        ..StoreOptions::default()
    };
    // Each quiet item command is closed by its own mn and completes there:
    // with nothing (suppressed success) or with the reply q let through.
    let mut c = conn(Protocol::Meta);
    let s1 = c.store(StoreMode::Set, b"a", b"1", q).unwrap();
    let s2 = c.store(StoreMode::Add, b"b", b"2", q).unwrap();
    let d = c.delete(b"c", true).unwrap();
    assert_eq!(
        sent(&mut c),
        b"ms a 1 O1 q\r\n1\r\nmn\r\nms b 1 O2 ME q\r\n2\r\nmn\r\nmd c O3 q\r\nmn\r\n"
    );
    feed(&mut c, b"MN\r\nNS O2\r\nMN\r\n").unwrap();
    assert_eq!(
        events(&mut c),
        vec![resp(s1, Response::NoReply), resp(s2, Response::NotStored)]
    );
    feed(&mut c, b"MN\r\n").unwrap();
    assert_eq!(events(&mut c), vec![resp(d, Response::NoReply)]);

    // An error line (no opaque) after a quiet command is that command's.
    let mut c = conn(Protocol::Meta);
    let s = c.incr(b"a", 1, true).unwrap();
    let v = c.version().unwrap();
    assert_eq!(sent(&mut c), b"ma a O1 MI D1 q\r\nmn\r\nversion\r\n");
    feed(
        &mut c,
        b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\nMN\r\nVERSION 1\r\n",
    )
    .unwrap();
    let ev = events(&mut c);
    assert!(matches!(&ev[0], Event::Response { id, response: Response::Error(_) } if *id == s));
    assert_eq!(ev[1], resp(v, Response::Version(Bytes::from_static(b"1"))));

    // Raw quiet commands of two callers, then an error line: ambiguous.
    let mut c = conn(Protocol::Meta);
    let set = |k: &'static [u8]| meta::Command::Set {
        key: k,
        value: b"1",
        flags: &[Flag::Quiet],
    };
    c.meta(&set(b"a")).unwrap();
    c.meta(&set(b"b")).unwrap();
    c.meta(&meta::Command::NoOp).unwrap();
    assert_eq!(
        feed(&mut c, b"SERVER_ERROR out of memory\r\n"),
        Err(ProtocolError::AmbiguousError)
    );
    assert_eq!(events(&mut c).len(), 3);

    // A reply that skips a request which must have answered.
    let mut c = conn(Protocol::Meta);
    c.set(b"a", b"1").unwrap();
    c.set(b"b", b"1").unwrap();
    assert_eq!(
        feed(&mut c, b"HD O2\r\n"),
        Err(ProtocolError::OpaqueMismatch)
    );
    let mut c = conn(Protocol::Meta);
    c.set(b"a", b"1").unwrap();
    assert_eq!(
        feed(&mut c, b"HD O9\r\n"),
        Err(ProtocolError::OpaqueMismatch)
    );
    let mut c = conn(Protocol::Meta);
    c.set(b"a", b"1").unwrap();
    assert_eq!(feed(&mut c, b"HD\r\n"), Err(ProtocolError::OpaqueMismatch));
}

#[test]
fn binary_quiet_run_gets_one_sync_noop() {
    use binary::Opcode as O;
    let q = StoreOptions {
        noreply: true,
        ..StoreOptions::default()
    };
    let mut c = conn(Protocol::Binary);
    let a = c.store(StoreMode::Set, b"a", b"1", q).unwrap(); // opaque 1
    let b = c.store(StoreMode::Add, b"b", b"2", q).unwrap(); // opaque 2
    let out = sent(&mut c);
    // SetQ, AddQ, then the Noop the connection added (opaque 3).
    assert_eq!((out[1], out[34 + 1], out[68 + 1]), (0x11, 0x12, 0x0a));
    assert_eq!(out.len(), 34 * 2 + 24);
    assert_eq!(sent(&mut c), b"", "one sync per run");
    let mut reply = bin(O::AddQ, Status::KEY_EXISTS, 2, b"", b"", b"exists");
    reply.extend(bin(O::Noop, Status::NO_ERROR, 3, b"", b"", b""));
    feed(&mut c, &reply).unwrap();
    assert_eq!(
        events(&mut c),
        vec![resp(a, Response::NoReply), resp(b, Response::NotStored)]
    );
    assert_eq!(c.pending(), 0);
}

#[test]
fn meta_raw_quiet_reply_is_synthesized() {
    let mut c = conn(Protocol::Meta);
    let g = c
        .meta(&meta::Command::Get {
            key: b"k",
            flags: &[Flag::ReturnValue, Flag::Quiet],
        })
        .unwrap();
    let n = c.meta(&meta::Command::NoOp).unwrap();
    assert_eq!(sent(&mut c), b"mg k v q O1\r\nmn\r\n");
    feed(&mut c, b"MN\r\n").unwrap();
    assert_eq!(
        events(&mut c),
        vec![
            resp(
                g,
                Response::Meta(meta::Reply::Miss(Flags::new(Bytes::new())))
            ),
            resp(n, Response::Meta(meta::Reply::NoOp)),
        ]
    );
    assert_eq!(
        conn(Protocol::Text).meta(&meta::Command::NoOp),
        Err(UsageError::WrongFlavour("meta commands"))
    );
}

fn bin(
    opcode: binary::Opcode,
    status: Status,
    opaque: u32,
    extras: &[u8],
    key: &[u8],
    value: &[u8],
) -> Vec<u8> {
    let mut b = BytesMut::new();
    binary::encode::response(
        &mut b,
        &binary::Response {
            opcode,
            status,
            opaque,
            cas: 7,
            data_type: 0,
            extras,
            key,
            value,
        },
    );
    b.to_vec()
}

#[test]
fn binary_matching_by_opaque() {
    use binary::Opcode as O;
    let setup = |c: &mut Connection| {
        c.get(&[&b"a"[..], b"b"]).unwrap(); // opaques 1, 2; noop 3
        c.store(StoreMode::Add, b"k", b"v", StoreOptions::default())
            .unwrap(); // 4
        c.stats(None).unwrap(); // 5
        c.incr(b"n", 1, false).unwrap(); // 6
        c.delete(b"d", true).unwrap(); // 7, quiet
        c.version().unwrap(); // 8
    };
    let mut reply = Vec::new();
    reply.extend(bin(
        O::GetKQ,
        Status::NO_ERROR,
        2,
        &[0, 0, 0, 3],
        b"b",
        b"bee",
    ));
    reply.extend(bin(O::Noop, Status::NO_ERROR, 3, b"", b"", b""));
    reply.extend(bin(
        O::Add,
        Status::KEY_EXISTS,
        4,
        b"",
        b"",
        b"Data exists for key.",
    ));
    reply.extend(bin(O::Stat, Status::NO_ERROR, 5, b"", b"pid", b"1"));
    reply.extend(bin(O::Stat, Status::NO_ERROR, 5, b"", b"", b""));
    reply.extend(bin(
        O::Increment,
        Status::NO_ERROR,
        6,
        b"",
        b"",
        &9u64.to_be_bytes(),
    ));
    reply.extend(bin(O::Version, Status::NO_ERROR, 8, b"", b"", b"1.6.18"));
    let ev = split_invariant(Protocol::Binary, setup, &reply);
    assert_eq!(
        ev,
        vec![
            resp(
                ReqId(1),
                Response::Values(vec![item(b"b", 3, Some(7), b"bee")])
            ),
            resp(ReqId(2), Response::NotStored),
            resp(
                ReqId(3),
                Response::Stats(vec![Stat {
                    name: Bytes::from_static(b"pid"),
                    value: Bytes::from_static(b"1")
                }])
            ),
            resp(ReqId(4), Response::Counter(9)),
            resp(ReqId(5), Response::NoReply),
            resp(ReqId(6), Response::Version(Bytes::from_static(b"1.6.18"))),
        ]
    );

    // Wrong opcode for the opaque, unknown opaque, bad magic: fatal.
    let mut c = conn(Protocol::Binary);
    c.version().unwrap();
    assert!(matches!(
        feed(&mut c, &bin(O::Set, Status::NO_ERROR, 1, b"", b"", b"")),
        Err(ProtocolError::UnexpectedReply { .. })
    ));
    let mut c = conn(Protocol::Binary);
    c.version().unwrap();
    assert_eq!(
        feed(&mut c, &bin(O::Version, Status::NO_ERROR, 2, b"", b"", b"")),
        Err(ProtocolError::OpaqueMismatch)
    );
    let mut c = conn(Protocol::Binary);
    c.version().unwrap();
    assert!(matches!(
        feed(&mut c, &[0x80; 24]),
        Err(ProtocolError::Decode(DecodeError::BadMagic(0x80)))
    ));
    // Non-zero status is a per-request error.
    let mut c = conn(Protocol::Binary);
    let id = c.incr(b"n", 1, false).unwrap();
    feed(
        &mut c,
        &bin(
            O::Increment,
            Status::NON_NUMERIC,
            1,
            b"",
            b"",
            b"Non-numeric",
        ),
    )
    .unwrap();
    assert_eq!(
        events(&mut c),
        vec![resp(
            id,
            Response::Error(ServerError {
                kind: ServerErrorKind::Status(Status::NON_NUMERIC),
                message: Bytes::from_static(b"Non-numeric")
            })
        )]
    );
}

#[test]
fn usage_errors_leave_no_trace() {
    for p in [Protocol::Text, Protocol::Meta, Protocol::Binary] {
        let mut c = conn(p);
        assert!(c.get(&[b"ok", &[b'k'; 251][..]]).is_err());
        assert!(c.set(b"a\x00", b"").is_err());
        assert!(c.set(b"k", &vec![0; 1024 * 1024 + 1]).is_err());
        assert_eq!(c.get::<&[u8]>(&[]), Err(UsageError::NoKeys));
        assert!(c.stats(Some(b"a\r\n")).is_err());
        assert_eq!(sent(&mut c), b"");
        assert_eq!(c.pending(), 0);
        assert!(events(&mut c).is_empty());
    }
}

#[test]
fn single_key_gets_are_not_quiet() {
    use binary::Opcode as O;
    let mut c = conn(Protocol::Meta);
    let hit = c.gets(&[b"a"]).unwrap();
    let miss = c.retrieve(GetMode::Gat(5), &[b"b"]).unwrap();
    let touched = c.retrieve(GetMode::Gats(7), &[b"c"]).unwrap();
    assert_eq!(
        sent(&mut c),
        b"mg a v f k O1 c\r\nmg b v f k O2 T5\r\nmg c v f k O3 c T7\r\n"
    );
    feed(
        &mut c,
        b"VA 1 f2 ka O1 c9\r\nx\r\nEN O2\r\nVA 1 f0 kc O3 c4\r\ny\r\n",
    )
    .unwrap();
    assert_eq!(
        events(&mut c),
        vec![
            resp(hit, Response::Values(vec![item(b"a", 2, Some(9), b"x")])),
            resp(miss, Response::Values(vec![])),
            resp(
                touched,
                Response::Values(vec![item(b"c", 0, Some(4), b"y")])
            ),
        ]
    );

    // Several keys, any mode: the text line (gat/gats too).
    let mut c = conn(Protocol::Meta);
    c.retrieve(GetMode::Gats(7), &[b"a", b"b"]).unwrap();
    c.gets(&[b"a", b"b"]).unwrap();
    assert_eq!(sent(&mut c), b"gats 7 a b\r\ngets a b\r\n");

    let mut c = conn(Protocol::Binary);
    let hit = c.get(&[b"a"]).unwrap();
    let miss = c.get(&[b"b"]).unwrap();
    let out = sent(&mut c);
    assert_eq!(
        (out.len(), out[1], out[25 + 1]),
        (50, O::GetK as u8, O::GetK as u8)
    );
    let mut reply = bin(O::GetK, Status::NO_ERROR, 1, &[0, 0, 0, 0], b"a", b"x");
    reply.extend(bin(
        O::GetK,
        Status::KEY_NOT_FOUND,
        2,
        b"",
        b"",
        b"Not found",
    ));
    feed(&mut c, &reply).unwrap();
    assert_eq!(
        events(&mut c),
        vec![
            resp(hit, Response::Values(vec![item(b"a", 0, Some(7), b"x")])),
            resp(miss, Response::Values(vec![])),
        ]
    );
}

#[test]
fn text_gat_with_many_keys_goes_out_in_lines_memcached_reads_whole() {
    // memcached closes the connection on a `gat` line longer than its read
    // buffer (it streams only `get`/`gets`), so long ones are split.
    let keys: Vec<String> = (0..300).map(|i| format!("key-{i:05}-xxxxxxxxxx")).collect();
    let setup = |c: &mut Connection| {
        c.retrieve(GetMode::Gats(100), &keys).unwrap();
        c.version().unwrap();
    };
    let mut c = conn(Protocol::Text);
    setup(&mut c);
    let out = sent(&mut c);
    let lines: Vec<&[u8]> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let (gats, version) = lines.split_at(lines.len() - 1);
    assert_eq!(version, [&b"version\r"[..]]);
    assert!(gats.len() > 1);
    let mut sent_keys = Vec::new();
    for l in gats {
        assert!(l.len() < 2048, "{} bytes", l.len() + 1);
        assert!(l.starts_with(b"gats 100 "));
        sent_keys.extend(l[..l.len() - 1].split(|&b| b == b' ').skip(2));
    }
    let want: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    assert_eq!(sent_keys, want, "every key once, in order");

    // A hit in the first line's answer and one in the last; one END each.
    let mut reply = Vec::new();
    for i in 0..gats.len() {
        if i == 0 {
            reply.extend_from_slice(b"VALUE key-00000-xxxxxxxxxx 1 1 7\r\na\r\n");
        }
        if i == gats.len() - 1 {
            reply.extend_from_slice(b"VALUE key-00299-xxxxxxxxxx 2 1 8\r\nb\r\n");
        }
        reply.extend_from_slice(b"END\r\n");
    }
    reply.extend_from_slice(b"VERSION 1.6.18\r\n");
    let ev = split_invariant(Protocol::Text, setup, &reply);
    assert_eq!(
        ev,
        vec![
            resp(
                ReqId(1),
                Response::Values(vec![
                    item(b"key-00000-xxxxxxxxxx", 1, Some(7), b"a"),
                    item(b"key-00299-xxxxxxxxxx", 2, Some(8), b"b"),
                ])
            ),
            resp(ReqId(2), Response::Version(Bytes::from_static(b"1.6.18"))),
        ]
    );

    // An error answering one line fails the whole request, and only it.
    let mut c = conn(Protocol::Text);
    setup(&mut c);
    let _ = sent(&mut c);
    let mut reply = b"SERVER_ERROR out of memory\r\n".to_vec();
    for _ in 1..gats.len() {
        reply.extend_from_slice(b"END\r\n");
    }
    reply.extend_from_slice(b"VERSION 1\r\n");
    feed(&mut c, &reply).unwrap();
    let ev = events(&mut c);
    assert!(
        matches!(
            &ev[0],
            Event::Response {
                response: Response::Error(_),
                ..
            }
        ),
        "{ev:?}"
    );
    assert!(matches!(
        &ev[1],
        Event::Response {
            response: Response::Version(_),
            ..
        }
    ));
    assert_eq!(ev.len(), 2);
}
