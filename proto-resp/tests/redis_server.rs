//! Integration tests against a real redis-server (7.0): set WEFT_REDIS_ADDR
//! (no auth) and WEFT_REDIS_AUTH_ADDR (default user password `defaultpass`,
//! ACL user `weft` / `weftpass`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use common::{Client, addr, prefix, text};
use proto_resp::{Cmd, Config, Connection, Error, Event, Frame, Protocol};

fn resp3() -> Config {
    Config::new()
}

fn resp2() -> Config {
    Config::new().protocol(Protocol::Resp2)
}

#[test]
fn hello3_negotiates_resp3() {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    let mut c = Client::connect(&a, resp3().client_name("weft-hello")).unwrap();
    assert_eq!(c.protocol(), Protocol::Resp3);
    let hello = c.conn.hello().expect("hello reply").clone();
    assert!(matches!(hello, Frame::Map(_)));
    let name = c.call(&["CLIENT", "GETNAME"]);
    assert_eq!(text(&name), "weft-hello");
    let p = prefix("hello3");
    assert_eq!(
        c.call(&["SET", &format!("{p}k"), "v"]).as_bytes(),
        Some(&b"OK"[..])
    );
    assert_eq!(text(&c.call(&["GET", &format!("{p}k")])), "v");
    assert_eq!(c.call(&["GET", &format!("{p}missing")]), Frame::Null);
    let err = c.call(&["NOSUCHCOMMAND"]);
    assert!(err.is_error(), "{err:?}");
    // The connection is still usable after a per-request error.
    assert_eq!(c.call(&["PING"]).as_bytes(), Some(&b"PONG"[..]));
    c.call(&["DEL", &format!("{p}k")]);
}

#[test]
fn resp2_mode() {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    let mut c = Client::connect(&a, resp2().database(2)).unwrap();
    assert_eq!(c.protocol(), Protocol::Resp2);
    assert!(c.conn.hello().is_none());
    let p = prefix("resp2");
    let h = format!("{p}h");
    c.call(&["HSET", &h, "f1", "v1", "f2", "v2"]);
    let all = c.call(&["HGETALL", &h]);
    assert!(matches!(&all, Frame::Array(v) if v.len() == 4), "{all:?}");
    assert_eq!(c.call(&["GET", &format!("{p}missing")]), Frame::NullBulk);
    assert_eq!(
        c.call(&["BLPOP", &format!("{p}empty"), "0.01"]),
        Frame::NullArray
    );
    // SELECT 2 took effect: database 0 does not see the hash.
    let mut c0 = Client::connect(&a, resp2()).unwrap();
    assert_eq!(c0.call(&["EXISTS", &h]), Frame::Integer(0));
    assert_eq!(c.call(&["EXISTS", &h]), Frame::Integer(1));
    c.call(&["DEL", &h]);
}

#[test]
fn auth_default_user_and_acl_user() {
    let Some(a) = addr("WEFT_REDIS_AUTH_ADDR") else {
        return;
    };
    for cfg in [resp3(), resp2()] {
        let mut c = Client::connect(&a, cfg.clone().password("defaultpass")).unwrap();
        assert_eq!(text(&c.call(&["ACL", "WHOAMI"])), "default");
        let mut c = Client::connect(&a, cfg.clone().username("weft").password("weftpass")).unwrap();
        assert_eq!(text(&c.call(&["ACL", "WHOAMI"])), "weft");
        // Without credentials the handshake succeeds (RESP3 HELLO without
        // AUTH is refused though) or commands fail with NOAUTH.
        match Client::connect(&a, cfg.clone()) {
            Ok(mut c) => assert!(c.call(&["GET", "x"]).is_error()),
            Err(Error::Handshake(m)) => assert!(m.starts_with("NOAUTH"), "{m}"),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn wrong_password_is_a_handshake_error() {
    let Some(a) = addr("WEFT_REDIS_AUTH_ADDR") else {
        return;
    };
    for cfg in [resp3(), resp2()] {
        match Client::connect(&a, cfg.clone().password("nope")) {
            Err(Error::Handshake(m)) => assert!(m.starts_with("WRONGPASS"), "{m}"),
            other => panic!("expected WRONGPASS, got {:?}", other.map(|_| ())),
        }
        match Client::connect(&a, cfg.username("weft").password("nope")) {
            Err(Error::Handshake(m)) => assert!(m.starts_with("WRONGPASS"), "{m}"),
            other => panic!("expected WRONGPASS, got {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn pipeline_of_100k_commands_in_order() {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    const N: usize = 100_000;
    let c = Client::connect(&a, resp3()).unwrap();
    let Client {
        mut conn, stream, ..
    } = c;
    let key = format!("{}counter", prefix("pipeline"));
    let mut cmd = Cmd::new("INCR").with(key.as_str());
    let mut ids = Vec::with_capacity(N);
    for _ in 0..N {
        ids.push(conn.send(&cmd).unwrap());
    }
    cmd.clear();
    let mut wire = BytesMut::new();
    while conn.poll_transmit(&mut wire) {}
    // Write from another thread while this one reads: neither side's socket
    // buffer can then fill up and stall the other.
    let mut w = stream.try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&wire).unwrap());
    let mut r = stream;
    let mut rbuf = BytesMut::with_capacity(256 * 1024);
    let mut chunk = vec![0u8; 256 * 1024];
    let mut got = 0usize;
    let start = Instant::now();
    while got < N {
        let n = r.read(&mut chunk).unwrap();
        assert!(n > 0, "eof after {got} replies");
        rbuf.extend_from_slice(&chunk[..n]);
        conn.handle_input(Instant::now(), &mut rbuf).unwrap();
        while let Some(ev) = conn.poll_event() {
            match ev {
                Event::Reply { id, frame } => {
                    assert_eq!(id, ids[got], "reply out of order");
                    assert_eq!(frame, Frame::Integer(got as i64 + 1));
                    got += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(start.elapsed() < Duration::from_secs(30));
    }
    writer.join().unwrap();
    assert_eq!(conn.pending(), 0);
    let mut c = Client::connect(&a, resp3()).unwrap();
    c.call(&["DEL", &key]);
}

/// A large aggregate arriving over many reads.
#[test]
fn large_reply() {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    const N: usize = 200_000;
    let key = format!("{}list", prefix("large"));
    let mut c = Client::connect(&a, resp3()).unwrap();
    c.call(&["DEL", &key]);
    for chunk in (0..N).collect::<Vec<_>>().chunks(10_000) {
        let mut cmd = Cmd::new("RPUSH").with(key.as_str());
        for i in chunk {
            cmd.arg(*i);
        }
        let id = c.conn.send(&cmd).unwrap();
        c.drain();
        assert!(!c.reply(id).is_error());
    }
    let all = c.call(&["LRANGE", &key, "0", "-1"]);
    let items = all.as_elements().unwrap();
    assert_eq!(items.len(), N);
    assert_eq!(text(&items[N - 1]), (N - 1).to_string());
    c.call(&["DEL", &key]);
}

fn pubsub(cfg: Config, name: &str) {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    let p = prefix(name);
    let (ch1, ch2) = (format!("{p}ch1"), format!("{p}ch2"));
    let mut sub = Client::connect(&a, cfg).unwrap();
    let mut publ = Client::connect(&a, resp3()).unwrap();
    let conf = sub.call(&["SUBSCRIBE", &ch1, &ch2]);
    let confs = conf.as_elements().expect("confirmations");
    assert_eq!(confs.len(), 2, "{conf:?}");
    assert_eq!(text(&confs[1].as_elements().unwrap()[1]), ch2);
    assert!(sub.conn.is_subscribed());
    let pconf = sub.call(&["PSUBSCRIBE", &format!("{p}pat*")]);
    assert_eq!(pconf.as_elements().unwrap().len(), 1);

    assert_eq!(publ.call(&["PUBLISH", &ch1, "hello"]), Frame::Integer(1));
    let m = sub.push();
    let parts = m.as_elements().unwrap();
    assert_eq!(text(&parts[0]), "message");
    assert_eq!(text(&parts[1]), ch1);
    assert_eq!(text(&parts[2]), "hello");
    publ.call(&["PUBLISH", &format!("{p}pattern"), "x"]);
    let m = sub.push();
    assert_eq!(text(&m.as_elements().unwrap()[0]), "pmessage");

    // PING in subscribed mode is a reply, not a push.
    let pong = sub.call(&["PING"]);
    assert!(!pong.is_error(), "{pong:?}");

    let unsub = sub.call(&["UNSUBSCRIBE"]);
    assert_eq!(unsub.as_elements().unwrap().len(), 2, "{unsub:?}");
    assert!(sub.conn.is_subscribed(), "the pattern is still subscribed");
    let punsub = sub.call(&["PUNSUBSCRIBE"]);
    assert_eq!(punsub.as_elements().unwrap().len(), 1);
    assert!(!sub.conn.is_subscribed());
    // Back to normal: ordinary commands and replies.
    assert_eq!(sub.call(&["ECHO", "done"]).as_bytes(), Some(&b"done"[..]));
    assert!(sub.events.is_empty(), "{:?}", sub.events);
}

#[test]
fn pubsub_push_routing_resp3() {
    pubsub(resp3(), "pubsub3");
}

#[test]
fn pubsub_push_routing_resp2() {
    pubsub(resp2(), "pubsub2");
}

#[test]
fn client_tracking_invalidation_push() {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    let key = format!("{}tracked", prefix("tracking"));
    let mut c = Client::connect(&a, resp3()).unwrap();
    let mut other = Client::connect(&a, resp3()).unwrap();
    other.call(&["SET", &key, "1"]);
    assert!(!c.call(&["CLIENT", "TRACKING", "on"]).is_error());
    assert_eq!(text(&c.call(&["GET", &key])), "1");
    other.call(&["SET", &key, "2"]);
    let inv = c.push();
    assert!(matches!(inv, Frame::Push(_)), "{inv:?}");
    let parts = inv.as_elements().unwrap();
    assert_eq!(text(&parts[0]), "invalidate");
    assert_eq!(text(&parts[1].as_elements().unwrap()[0]), key);
    // Still in sync afterwards.
    assert_eq!(text(&c.call(&["GET", &key])), "2");
    other.call(&["DEL", &key]);
}

/// Every RESP3 type Redis 7.0 produces without `DEBUG PROTOCOL` (which
/// these servers refuse): map, set, double (finite, inf, -inf, nan), big
/// number, booleans, null, verbatim string, array, integer, errors.
#[test]
fn resp3_types_from_the_server() {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    let p = prefix("types");
    let mut c = Client::connect(&a, resp3()).unwrap();
    let (h, s, z) = (format!("{p}h"), format!("{p}s"), format!("{p}z"));
    c.call(&["HSET", &h, "f", "v"]);
    c.call(&["SADD", &s, "m1", "m2"]);
    c.call(&["ZADD", &z, "1.5", "m"]);
    assert!(matches!(c.call(&["HGETALL", &h]), Frame::Map(m) if m.len() == 1));
    assert!(matches!(c.call(&["SMEMBERS", &s]), Frame::Set(m) if m.len() == 2));
    assert_eq!(c.call(&["ZSCORE", &z, "m"]), Frame::Double(1.5));
    let lua = |c: &mut Client, ret: &str| {
        c.call(&["EVAL", &format!("redis.setresp(3); return {ret}"), "0"])
    };
    assert_eq!(lua(&mut c, "{double=1/0}"), Frame::Double(f64::INFINITY));
    assert_eq!(
        lua(&mut c, "{double=-1/0}"),
        Frame::Double(f64::NEG_INFINITY)
    );
    assert!(matches!(lua(&mut c, "{double=0/0}"), Frame::Double(d) if d.is_nan()));
    assert_eq!(
        text(&lua(&mut c, "{big_number='1234567890123456789012'}")),
        "1234567890123456789012"
    );
    assert!(matches!(
        lua(&mut c, "{big_number='1'}"),
        Frame::BigNumber(_)
    ));
    assert_eq!(lua(&mut c, "true"), Frame::Boolean(true));
    assert_eq!(lua(&mut c, "false"), Frame::Boolean(false));
    assert_eq!(lua(&mut c, "nil"), Frame::Null);
    assert!(matches!(
        lua(&mut c, "{verbatim_string={format='txt', string='hi'}}"),
        Frame::Verbatim { format, text } if &format == b"txt" && text == "hi"
    ));
    assert!(matches!(
        lua(&mut c, "{map={a=1}}"),
        Frame::Map(m) if m.len() == 1
    ));
    assert!(matches!(
        lua(&mut c, "{set={a=true}}"),
        Frame::Set(m) if m.len() == 1
    ));
    assert!(lua(&mut c, "{err='MYERR x'}").is_error());
    assert!(matches!(
        c.call(&["INFO", "server"]),
        Frame::Verbatim { .. }
    ));
    // Attributes come only from DEBUG PROTOCOL attrib, which the services
    // of `cargo xtask` refuse (weft's `redis_commands` test runs it on a
    // server of its own): either the refusal or the attribute Redis
    // documents, and the stream stays in sync.
    let attr = c.call(&["DEBUG", "PROTOCOL", "attrib"]);
    match &attr {
        Frame::Attribute { attributes, value } => {
            assert_eq!(text(&attributes[0].0), "key-popularity");
            assert_eq!(text(value), "Some real reply following the attribute");
        }
        other => assert!(
            other
                .as_error()
                .is_some_and(|e| e.starts_with(b"ERR DEBUG command not allowed")),
            "{other:?}"
        ),
    }
    assert_eq!(c.call(&["PING"]).as_bytes(), Some(&b"PONG"[..]));
    c.call(&["DEL", &h, &s, &z]);
}

/// A user `HELLO` with an unsupported version is an error reply, and the
/// protocol stays as negotiated.
#[test]
fn user_hello_noproto_is_a_reply() {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    let mut c = Client::connect(&a, resp3()).unwrap();
    let r = c.call(&["HELLO", "4"]);
    assert!(
        r.as_error().is_some_and(|e| e.starts_with(b"NOPROTO")),
        "{r:?}"
    );
    assert_eq!(c.protocol(), Protocol::Resp3);
    let r = c.call(&["HELLO", "2"]);
    assert!(matches!(r, Frame::Array(_)), "{r:?}");
    assert_eq!(c.protocol(), Protocol::Resp2);
    assert_eq!(c.call(&["GET", "weft:proto-resp:nothing"]), Frame::NullBulk);
}

/// The connection's handshake, written by hand on a raw socket, matches
/// what redis-server answers (a sanity check of the harness itself).
#[test]
fn raw_handshake_bytes() {
    let Some(a) = addr("WEFT_REDIS_ADDR") else {
        return;
    };
    let mut s = TcpStream::connect(&a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut conn = Connection::new(Config::new(), Instant::now());
    let mut out = BytesMut::new();
    while conn.poll_transmit(&mut out) {}
    s.write_all(&out).unwrap();
    let mut rbuf = BytesMut::new();
    let mut chunk = [0u8; 4096];
    // Feed the server's bytes one at a time: same outcome as one read.
    while conn.poll_event().is_none() {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0);
        for b in &chunk[..n] {
            rbuf.extend_from_slice(&[*b]);
            conn.handle_input(Instant::now(), &mut rbuf).unwrap();
        }
    }
    assert!(conn.is_ready());
}
