//! An in-memory pair: the client `Connection` wired to a miniature server
//! written with the server-side codec (`decode_request_bytes`, `encode`),
//! with server output delivered in randomly split reads. A random command
//! sequence must yield exactly the replies and pushes a model predicts.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use proto_resp::codec::{Decoder, encode};
use proto_resp::{Cmd, Config, Connection, Event, Frame, Protocol};

/// A tiny Redis: strings, PING, pub/sub, HELLO (optionally unknown, as on
/// Redis 5), AUTH.
struct MiniServer {
    dec: Decoder,
    knows_hello: bool,
    resp3: bool,
    data: HashMap<Bytes, Bytes>,
    channels: HashSet<Bytes>,
}

fn b(s: &str) -> Frame {
    Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
}

impl MiniServer {
    fn new(knows_hello: bool) -> Self {
        MiniServer {
            dec: Decoder::default(),
            knows_hello,
            resp3: false,
            data: HashMap::new(),
            channels: HashSet::new(),
        }
    }

    fn null(&self) -> Frame {
        if self.resp3 {
            Frame::Null
        } else {
            Frame::NullBulk
        }
    }

    fn push(&self, items: Vec<Frame>) -> Frame {
        if self.resp3 {
            Frame::Push(items)
        } else {
            Frame::Array(items)
        }
    }

    /// Consumes every complete request in `input`, appending replies.
    fn serve(&mut self, input: &mut BytesMut, out: &mut BytesMut) {
        while let Some(req) = self.dec.decode_request_bytes(input).unwrap() {
            let args: Vec<Bytes> = match req {
                Frame::Array(v) => v
                    .into_iter()
                    .map(|f| match f {
                        Frame::BulkString(b) => b,
                        other => panic!("argument {other:?}"),
                    })
                    .collect(),
                other => panic!("request {other:?}"),
            };
            for reply in self.execute(&args) {
                encode(out, &reply);
            }
        }
    }

    fn execute(&mut self, args: &[Bytes]) -> Vec<Frame> {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        match (name.as_str(), &args[1..]) {
            ("HELLO", [v, ..]) if self.knows_hello && &v[..] == b"3" => {
                self.resp3 = true;
                vec![Frame::Map(vec![(b("proto"), Frame::Integer(3))])]
            }
            ("AUTH", [.., pass]) if &pass[..] == b"secret" => {
                vec![Frame::SimpleString("OK".into())]
            }
            ("AUTH", _) => vec![Frame::SimpleError("WRONGPASS invalid password".into())],
            ("SELECT", [_]) => vec![Frame::SimpleString("OK".into())],
            ("PING", []) => vec![Frame::SimpleString("PONG".into())],
            ("SET", [k, v]) => {
                self.data.insert(k.clone(), v.clone());
                vec![Frame::SimpleString("OK".into())]
            }
            ("GET", [k]) => vec![match self.data.get(k) {
                Some(v) => Frame::BulkString(v.clone()),
                None => self.null(),
            }],
            ("SUBSCRIBE", chans) if !chans.is_empty() => chans
                .iter()
                .map(|c| {
                    self.channels.insert(c.clone());
                    let n = self.channels.len() as i64;
                    self.push(vec![
                        b("subscribe"),
                        Frame::BulkString(c.clone()),
                        Frame::Integer(n),
                    ])
                })
                .collect(),
            ("UNSUBSCRIBE", []) => {
                let mut all: Vec<Bytes> = self.channels.drain().collect();
                all.sort();
                if all.is_empty() {
                    return vec![self.push(vec![b("unsubscribe"), self.null(), Frame::Integer(0)])];
                }
                let total = all.len();
                all.into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let left = (total - i - 1) as i64;
                        self.push(vec![
                            b("unsubscribe"),
                            Frame::BulkString(c),
                            Frame::Integer(left),
                        ])
                    })
                    .collect()
            }
            ("PUBLISH", [ch, msg]) => {
                let mut out = Vec::new();
                if self.channels.contains(ch) {
                    out.push(self.push(vec![
                        b("message"),
                        Frame::BulkString(ch.clone()),
                        Frame::BulkString(msg.clone()),
                    ]));
                }
                out.push(Frame::Integer(out.len() as i64));
                out
            }
            _ => vec![Frame::SimpleError(
                format!("ERR unknown command '{name}'").into(),
            )],
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Set(u8, u8),
    Get(u8),
    Ping,
    Unknown,
    Subscribe(Vec<u8>),
    UnsubscribeAll,
    Publish(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..4u8, any::<u8>()).prop_map(|(k, v)| Op::Set(k, v)),
        (0..4u8).prop_map(Op::Get),
        Just(Op::Ping),
        Just(Op::Unknown),
        prop::collection::vec(0..3u8, 1..4).prop_map(Op::Subscribe),
        Just(Op::UnsubscribeAll),
        (0..3u8, any::<u8>()).prop_map(|(c, m)| Op::Publish(c, m)),
    ]
}

fn args(op: &Op) -> Vec<String> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
    match op {
        Op::Set(k, v) => s(&["SET", &format!("k{k}"), &v.to_string()]),
        Op::Get(k) => s(&["GET", &format!("k{k}")]),
        Op::Ping => s(&["PING"]),
        Op::Unknown => s(&["NOPE"]),
        Op::Subscribe(chans) => {
            let mut v = vec!["SUBSCRIBE".to_string()];
            v.extend(chans.iter().map(|c| format!("ch{c}")));
            v
        }
        Op::UnsubscribeAll => s(&["UNSUBSCRIBE"]),
        Op::Publish(c, m) => s(&["PUBLISH", &format!("ch{c}"), &m.to_string()]),
    }
}

/// Runs `ops` through the pair; server output is cut at `cuts`.
/// An event, with the reply's id as a number (replies taken with
/// `next_replies` come as a first id and a count).
#[derive(Debug, PartialEq)]
enum Got {
    Ready(Protocol),
    Reply(u64, Frame),
    Push(Frame),
}

impl From<Event> for Got {
    fn from(ev: Event) -> Got {
        match ev {
            Event::Ready { protocol } => Got::Ready(protocol),
            Event::Reply { id, frame } => Got::Reply(id.get(), frame),
            Event::Push { frame } => Got::Push(frame),
            other => panic!("unexpected event {other:?}"),
        }
    }
}

/// How the client reads its input; every way must give the same outcome.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// `handle_input`, then `poll_event`.
    Push,
    /// `next_event`.
    Pull,
    /// `next_replies` for up to `n` replies at a time, then `next_event`.
    Batch(usize),
}

fn run(
    knows_hello: bool,
    ops: &[Op],
    cuts: &[prop::sample::Index],
    read: Read,
) -> Result<(), TestCaseError> {
    let now = Instant::now();
    let mut client = Connection::new(Config::new().password("secret").database(1), now);
    let mut server = MiniServer::new(knows_hello);
    let ids: Vec<_> = match read {
        // Batched reading goes with batched sending: groups of up to
        // `max + 2` commands through `send_each` (ordinary ones recorded
        // as one run, subscribe-family ones singly, in order).
        Read::Batch(max) => {
            let cmds: Vec<Cmd> = ops
                .iter()
                .map(|o| {
                    let a = args(o);
                    let mut c = Cmd::new(a[0].as_str());
                    for x in &a[1..] {
                        c.arg(x.as_str());
                    }
                    c
                })
                .collect();
            let mut ids = Vec::new();
            for group in cmds.chunks(max + 2) {
                let mut seen = 0;
                let (first, n) = client.send_each(group, |_| seen += 1).unwrap();
                prop_assert_eq!((n, seen), (group.len(), group.len()));
                ids.extend((0..n as u64).map(|k| first.get() + k));
            }
            ids
        }
        _ => ops
            .iter()
            .map(|o| client.send_args(&args(o)).unwrap().get())
            .collect(),
    };

    let mut to_server = BytesMut::new();
    let mut to_client = BytesMut::new();
    let mut rbuf = BytesMut::new();
    let mut events = Vec::new();
    let mut cut = cuts.iter().cycle();
    // Pump until nothing moves: the handshake makes this take a few rounds.
    loop {
        while client.poll_transmit(&mut to_server) {}
        server.serve(&mut to_server, &mut to_client);
        if to_client.is_empty() {
            break;
        }
        while !to_client.is_empty() {
            let n = cut
                .next()
                .map_or(to_client.len(), |i| i.index(to_client.len()) + 1);
            rbuf.extend_from_slice(&to_client.split_to(n));
            match read {
                Read::Push => client.handle_input(now, &mut rbuf).unwrap(),
                Read::Pull => {
                    while let Some(ev) = client.next_event(now, &mut rbuf).unwrap() {
                        events.push(Got::from(ev));
                    }
                }
                Read::Batch(max) => loop {
                    let mut out = Vec::new();
                    if let Some((first, n)) =
                        client.next_replies(now, &mut rbuf, max, &mut out).unwrap()
                    {
                        prop_assert!(n >= 1 && n <= max && n == out.len());
                        events.extend(
                            out.into_iter()
                                .enumerate()
                                .map(|(k, f)| Got::Reply(first.get() + k as u64, f)),
                        );
                        continue;
                    }
                    match client.next_event(now, &mut rbuf).unwrap() {
                        Some(ev) => events.push(Got::from(ev)),
                        None => break,
                    }
                },
            }
            while client.poll_transmit(&mut to_server) {}
            events.extend(std::iter::from_fn(|| client.poll_event()).map(Got::from));
        }
    }
    prop_assert!(rbuf.is_empty());
    let proto = if knows_hello {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    prop_assert_eq!(&events[0], &Got::Ready(proto));

    // The model.
    let mut data: HashMap<u8, u8> = HashMap::new();
    let mut subs: HashSet<u8> = HashSet::new();
    let mut replies = events[1..].iter().filter_map(|e| match e {
        Got::Reply(id, frame) => Some((*id, frame)),
        _ => None,
    });
    let pushes: Vec<&Frame> = events
        .iter()
        .filter_map(|e| match e {
            Got::Push(frame) => Some(frame),
            _ => None,
        })
        .collect();
    let mut expected_pushes = 0;
    for (op, id) in ops.iter().zip(&ids) {
        let (got_id, frame) = replies.next().expect("missing reply");
        prop_assert_eq!(got_id, *id);
        match op {
            Op::Set(k, v) => {
                data.insert(*k, *v);
                prop_assert_eq!(frame.as_bytes(), Some(&b"OK"[..]));
            }
            Op::Get(k) => match data.get(k) {
                Some(v) => {
                    let want = v.to_string();
                    prop_assert_eq!(frame.as_bytes(), Some(want.as_bytes()));
                }
                None => prop_assert!(frame.is_null()),
            },
            Op::Ping => prop_assert_eq!(frame.as_bytes(), Some(&b"PONG"[..])),
            Op::Unknown => prop_assert!(frame.is_error()),
            Op::Subscribe(chans) => {
                subs.extend(chans);
                prop_assert_eq!(frame.as_elements().map(<[Frame]>::len), Some(chans.len()));
            }
            Op::UnsubscribeAll => {
                let n = subs.len().max(1);
                subs.clear();
                prop_assert_eq!(frame.as_elements().map(<[Frame]>::len), Some(n));
            }
            Op::Publish(c, _) => {
                let delivered = subs.contains(c);
                expected_pushes += usize::from(delivered);
                prop_assert_eq!(frame, &Frame::Integer(i64::from(delivered)));
            }
        }
    }
    prop_assert!(replies.next().is_none());
    prop_assert_eq!(pushes.len(), expected_pushes);
    for p in pushes {
        prop_assert_eq!(p.push_kind(), Some(&b"message"[..]));
    }
    prop_assert_eq!(client.is_subscribed(), !subs.is_empty());
    prop_assert_eq!(client.pending(), 0);
    Ok(())
}

proptest! {
    #[test]
    fn pair_resp3(ops in prop::collection::vec(op(), 0..40),
                  cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..16)) {
        run(true, &ops, &cuts, Read::Push)?;
    }

    #[test]
    fn pair_resp3_pulled(ops in prop::collection::vec(op(), 0..40),
                         cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..16)) {
        run(true, &ops, &cuts, Read::Pull)?;
    }

    #[test]
    fn pair_resp2_fallback(ops in prop::collection::vec(op(), 0..40),
                           cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..16)) {
        run(false, &ops, &cuts, Read::Push)?;
    }

    #[test]
    fn pair_resp3_batched(ops in prop::collection::vec(op(), 0..40),
                          cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..16),
                          max in 1usize..8) {
        run(true, &ops, &cuts, Read::Batch(max))?;
    }

    #[test]
    fn pair_resp2_fallback_batched(ops in prop::collection::vec(op(), 0..40),
                                   cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..16),
                                   max in 1usize..8) {
        run(false, &ops, &cuts, Read::Batch(max))?;
    }

    #[test]
    fn pair_resp2_fallback_pulled(ops in prop::collection::vec(op(), 0..40),
                                  cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..16)) {
        run(false, &ops, &cuts, Read::Pull)?;
    }
}

#[test]
fn inline_commands_reach_the_server() {
    let mut server = MiniServer::new(true);
    let mut input = BytesMut::from(&b"SET k v\r\nGET k\nPING\r\n"[..]);
    let mut out = BytesMut::new();
    server.serve(&mut input, &mut out);
    assert_eq!(&out[..], b"+OK\r\n$1\r\nv\r\n+PONG\r\n");
}
