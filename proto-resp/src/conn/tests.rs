//! Connection tests against scripted server bytes.

use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::*;
use crate::error::DecodeErrorKind;
use crate::limits::Limits;

const HELLO_REPLY: &[u8] = b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:25\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";

fn now() -> Instant {
    // A fixed instant keeps the tests deterministic; only differences matter.
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *START.get_or_init(Instant::now)
}

fn transmit(c: &mut Connection) -> Vec<u8> {
    let mut out = BytesMut::new();
    while c.poll_transmit(&mut out) {}
    out.to_vec()
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

fn feed(c: &mut Connection, bytes: &[u8]) -> Result<Vec<Event>, Error> {
    let mut buf = BytesMut::from(bytes);
    c.handle_input(now(), &mut buf)?;
    assert!(buf.is_empty(), "left {buf:?}");
    Ok(events(c))
}

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_command(&mut out, args);
    out.to_vec()
}

fn bulk(s: &str) -> Frame {
    Frame::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

/// A RESP3 connection past its handshake.
fn ready3() -> Connection {
    let mut c = Connection::new(Config::new(), now());
    assert_eq!(transmit(&mut c), cmd(&["HELLO", "3"]));
    let ev = feed(&mut c, HELLO_REPLY).unwrap();
    assert_eq!(
        ev,
        vec![Event::Ready {
            protocol: Protocol::Resp3
        }]
    );
    c
}

fn ready2() -> Connection {
    let mut c = Connection::new(Config::new().protocol(Protocol::Resp2), now());
    assert_eq!(transmit(&mut c), b"");
    assert_eq!(
        events(&mut c),
        vec![Event::Ready {
            protocol: Protocol::Resp2
        }]
    );
    c
}

#[test]
fn hello_with_auth_and_name() {
    let cfg = Config::new().password("pw").client_name("app").database(3);
    let mut c = Connection::new(cfg, now());
    assert_eq!(
        transmit(&mut c),
        cmd(&["HELLO", "3", "AUTH", "default", "pw", "SETNAME", "app"])
    );
    let ev = feed(&mut c, HELLO_REPLY).unwrap();
    assert!(ev.is_empty(), "ready before SELECT: {ev:?}");
    assert_eq!(transmit(&mut c), cmd(&["SELECT", "3"]));
    let ev = feed(&mut c, b"+OK\r\n").unwrap();
    assert_eq!(
        ev,
        vec![Event::Ready {
            protocol: Protocol::Resp3
        }]
    );
    assert!(c.hello().is_some());
    assert_eq!(c.protocol(), Protocol::Resp3);
}

#[test]
fn falls_back_to_resp2_when_hello_is_unknown() {
    for refusal in [
        &b"-ERR unknown command 'HELLO', with args beginning with: '3'\r\n"[..],
        b"-NOPROTO sorry this protocol version is not supported\r\n",
    ] {
        let cfg = Config::new()
            .username("u")
            .password("p")
            .client_name("n")
            .database(2);
        let mut c = Connection::new(cfg, now());
        assert_eq!(
            transmit(&mut c),
            cmd(&["HELLO", "3", "AUTH", "u", "p", "SETNAME", "n"])
        );
        // A request sent during the handshake is held back.
        let id = c.send_args(&["GET", "k"]).unwrap();
        assert_eq!(transmit(&mut c), b"");
        assert!(feed(&mut c, refusal).unwrap().is_empty());
        let mut want = cmd(&["AUTH", "u", "p"]);
        want.extend(cmd(&["CLIENT", "SETNAME", "n"]));
        want.extend(cmd(&["SELECT", "2"]));
        assert_eq!(transmit(&mut c), want);
        assert!(feed(&mut c, b"+OK\r\n+OK\r\n").unwrap().is_empty());
        assert_eq!(
            feed(&mut c, b"+OK\r\n").unwrap(),
            vec![Event::Ready {
                protocol: Protocol::Resp2
            }]
        );
        assert_eq!(transmit(&mut c), cmd(&["GET", "k"]));
        assert_eq!(
            feed(&mut c, b"$1\r\nv\r\n").unwrap(),
            vec![Event::Reply {
                id,
                frame: bulk("v")
            }]
        );
    }
}

#[test]
fn rejected_auth_is_fatal_and_sticky() {
    let mut c = Connection::new(Config::new().password("bad"), now());
    let _ = transmit(&mut c);
    let e = feed(
        &mut c,
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    )
    .unwrap_err();
    assert!(matches!(&e, Error::Handshake(m) if m.starts_with("WRONGPASS")));
    assert_eq!(feed(&mut c, b"+OK\r\n").unwrap_err(), e);
    assert_eq!(c.send_args(&["PING"]), Err(UsageError::Closed));
    assert_eq!(c.error(), Some(&e));
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::PermissionDenied);
}

#[test]
fn replies_match_requests_in_order_and_errors_are_replies() {
    let mut c = ready3();
    let a = c.send_args(&["SET", "k", "v"]).unwrap();
    let b = c.send(&Cmd::new("INCR").with("k")).unwrap();
    let d = c.send_args(&["GET", "k"]).unwrap();
    assert_eq!(c.pending(), 3);
    let mut want = cmd(&["SET", "k", "v"]);
    want.extend(cmd(&["INCR", "k"]));
    want.extend(cmd(&["GET", "k"]));
    assert_eq!(transmit(&mut c), want);
    let ev = feed(
        &mut c,
        b"+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\nv\r\n",
    )
    .unwrap();
    assert_eq!(ev.len(), 3);
    assert!(
        matches!(&ev[0], Event::Reply { id, frame } if *id == a && frame.as_bytes() == Some(b"OK"))
    );
    assert!(matches!(&ev[1], Event::Reply { id, frame } if *id == b && frame.is_error()));
    assert!(matches!(&ev[2], Event::Reply { id, .. } if *id == d));
    assert_eq!(c.pending(), 0);
}

#[test]
fn pushes_are_never_matched_to_requests() {
    let mut c = ready3();
    let id = c.send_args(&["GET", "k"]).unwrap();
    let ev = feed(
        &mut c,
        b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n$1\r\nv\r\n",
    )
    .unwrap();
    assert_eq!(ev.len(), 3);
    assert!(matches!(&ev[0], Event::Push { frame } if frame.push_kind() == Some(b"invalidate")));
    assert!(matches!(&ev[1], Event::Push { frame } if frame.push_kind() == Some(b"message")));
    assert_eq!(
        ev[2],
        Event::Reply {
            id,
            frame: bulk("v")
        }
    );
    // A push with nothing pending is fine too.
    assert_eq!(feed(&mut c, b">1\r\n+x\r\n").unwrap().len(), 1);
}

#[test]
fn protocol_violations_are_fatal() {
    let mut c = ready3();
    assert_eq!(
        feed(&mut c, b"+OK\r\n").unwrap_err(),
        Error::UnexpectedReply
    );
    let mut c = ready3();
    let _ = c.send_args(&["PING"]).unwrap();
    let e = feed(&mut c, b"?garbage\r\n").unwrap_err();
    assert!(matches!(e, Error::Decode(d) if d.kind() == DecodeErrorKind::UnknownType(b'?')));
    let mut c = Connection::new(
        Config::new().limits(Limits {
            max_depth: 4,
            ..Limits::DEFAULT
        }),
        now(),
    );
    let e = feed(&mut c, b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n").unwrap_err();
    assert!(matches!(e, Error::Decode(d) if d.kind() == DecodeErrorKind::TooDeep { max: 4 }));
}

#[test]
fn resp2_subscribe_mode() {
    let mut c = ready2();
    let sub = c.send_args(&["SUBSCRIBE", "a", "b"]).unwrap();
    let _ = transmit(&mut c);
    let ev = feed(
        &mut c,
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nm1\r\n",
    )
    .unwrap();
    // The message cannot overtake confirmations on the wire in practice,
    // but a message after the first confirmation is still a push.
    assert_eq!(ev.len(), 1);
    assert!(matches!(&ev[0], Event::Push { frame } if frame.push_kind() == Some(b"message")));
    let ev = feed(&mut c, b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n").unwrap();
    match &ev[..] {
        [Event::Reply { id, frame }] => {
            assert_eq!(*id, sub);
            assert_eq!(frame.as_elements().unwrap().len(), 2);
        }
        other => panic!("{other:?}"),
    }
    assert!(c.is_subscribed());
    let ping = c.send_args(&["PING"]).unwrap();
    let ev = feed(
        &mut c,
        b"*4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npx\r\n$1\r\nz\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    )
    .unwrap();
    assert!(matches!(&ev[0], Event::Push { .. }));
    assert!(matches!(&ev[1], Event::Reply { id, .. } if *id == ping));
    // UNSUBSCRIBE without arguments: one confirmation per subscription.
    let unsub = c.send_args(&["UNSUBSCRIBE"]).unwrap();
    assert!(
        feed(&mut c, b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n")
            .unwrap()
            .is_empty()
    );
    let ev = feed(&mut c, b"*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n").unwrap();
    assert!(matches!(&ev[..], [Event::Reply { id, .. }] if *id == unsub));
    assert!(!c.is_subscribed());
    // Out of subscribed mode, a message-shaped array is an ordinary reply.
    let get = c.send_args(&["LRANGE", "l", "0", "-1"]).unwrap();
    let ev = feed(&mut c, b"*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$1\r\ny\r\n").unwrap();
    assert!(matches!(&ev[..], [Event::Reply { id, .. }] if *id == get));
    // With nothing subscribed, UNSUBSCRIBE gets one confirmation (null channel).
    let unsub = c.send_args(&["UNSUBSCRIBE"]).unwrap();
    let ev = feed(&mut c, b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n").unwrap();
    assert!(matches!(&ev[..], [Event::Reply { id, .. }] if *id == unsub));
}

#[test]
fn resp3_subscribe_confirmations_are_pushes() {
    let mut c = ready3();
    let sub = c.send_args(&["SUBSCRIBE", "a"]).unwrap();
    let get = c.send_args(&["LRANGE", "l", "0", "-1"]).unwrap();
    let ev = feed(
        &mut c,
        b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\ny\r\n",
    )
    .unwrap();
    assert!(matches!(&ev[0], Event::Reply { id, .. } if *id == sub));
    assert!(matches!(&ev[1], Event::Push { .. }));
    // In RESP3 an array is always a reply, even while subscribed.
    assert!(matches!(&ev[2], Event::Reply { id, .. } if *id == get));
    // An unsolicited sunsubscribe (slot migrated) is a push.
    let ev = feed(&mut c, b">3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n").unwrap();
    assert!(matches!(&ev[..], [Event::Push { .. }]));
}

#[test]
fn refused_subscribe_is_an_error_reply() {
    let mut c = ready2();
    let sub = c.send_args(&["SUBSCRIBE", "a", "b"]).unwrap();
    let ev = feed(&mut c, b"-NOPERM this user has no permissions\r\n").unwrap();
    assert!(matches!(&ev[..], [Event::Reply { id, frame }] if *id == sub && frame.is_error()));
    assert!(!c.is_subscribed());
    let _ = c.send_args(&["SUBSCRIBE", "a"]).unwrap();
    assert_eq!(
        feed(&mut c, b"+OK\r\n").unwrap_err(),
        Error::UnexpectedReply
    );
}

#[test]
fn reset_returns_to_resp2() {
    let mut c = ready3();
    let _ = c.send_args(&["SUBSCRIBE", "a"]).unwrap();
    let _ = feed(&mut c, b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n").unwrap();
    assert!(c.is_subscribed());
    let _ = c.send_args(&["RESET"]).unwrap();
    let _ = feed(&mut c, b"+RESET\r\n").unwrap();
    assert!(!c.is_subscribed());
    assert_eq!(c.protocol(), Protocol::Resp2);
    let _ = c.send_args(&["HELLO", "3"]).unwrap();
    let _ = feed(&mut c, HELLO_REPLY).unwrap();
    assert_eq!(c.protocol(), Protocol::Resp3);
}

#[test]
fn unsupported_commands_are_refused() {
    let mut c = ready3();
    assert_eq!(
        c.send_args(&["monitor"]),
        Err(UsageError::Unsupported("MONITOR"))
    );
    assert!(matches!(
        c.send_args(&["CLIENT", "REPLY", "OFF"]),
        Err(UsageError::Unsupported(_))
    ));
    assert!(c.send_args(&["CLIENT", "REPLY", "ON"]).is_ok());
    assert!(matches!(
        c.send_args(&["cLiEnT", "reply", "skip"]),
        Err(UsageError::Unsupported(_))
    ));
    assert_eq!(
        c.send_args(&["MoNiToR"]),
        Err(UsageError::Unsupported("MONITOR"))
    );
    // Names that only share a first letter or a length with those pass.
    assert!(c.send_args(&["MONITORS"]).is_ok());
    assert!(c.send_args(&["MGET", "k"]).is_ok());
    assert!(c.send_args(&["{", "x"]).is_ok());
    assert_eq!(c.send_args::<&str>(&[]), Err(UsageError::EmptyCommand));
}

#[test]
fn handshake_timeout_and_eof() {
    let t0 = now();
    let mut c = Connection::new(Config::new().handshake_timeout(Duration::from_secs(2)), t0);
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(2)));
    assert_eq!(c.handle_timeout(t0 + Duration::from_secs(1)), Ok(()));
    assert_eq!(
        c.handle_timeout(t0 + Duration::from_secs(2)),
        Err(Error::HandshakeTimeout)
    );
    let mut c = ready3();
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.handle_timeout(t0 + Duration::from_secs(99)), Ok(()));
    let _ = c.send_args(&["PING"]).unwrap();
    assert_eq!(c.handle_eof(), Err(Error::UnexpectedEof { pending: 1 }));
    let mut c = ready3();
    assert_eq!(c.handle_eof(), Ok(()));
    assert_eq!(c.send_args(&["PING"]), Err(UsageError::Closed));
}

/// The same server bytes give the same events however they are split.
#[test]
fn events_do_not_depend_on_read_boundaries() {
    let script: &[u8] = b"+OK\r\n>3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n%1\r\n+k\r\n,1.5\r\n-ERR no\r\n|1\r\n+ttl\r\n:1\r\n$3\r\nabc\r\n";
    let run = |chunk: usize| {
        let mut c = ready3();
        for _ in 0..4 {
            let _ = c.send_args(&["X"]).unwrap();
        }
        let mut buf = BytesMut::new();
        let mut ev = Vec::new();
        for part in script.chunks(chunk) {
            buf.extend_from_slice(part);
            c.handle_input(now(), &mut buf).unwrap();
            ev.extend(events(&mut c));
        }
        assert!(buf.is_empty());
        ev
    };
    let whole = run(script.len());
    assert_eq!(whole.len(), 5);
    for chunk in 1..script.len() {
        assert_eq!(run(chunk), whole, "chunk size {chunk}");
    }
}

#[test]
fn debug_output_redacts_the_password() {
    let c = Connection::new(Config::new().username("u").password("hunter2"), now());
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
}
