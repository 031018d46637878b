//! The Redis driver against a real redis-server: typed command families,
//! RESP2 and RESP3, authentication, concurrent callers on one connection,
//! cancellation. Run on the epoll backend, with a smoke subset on std.
#![cfg(all(feature = "epoll", feature = "std"))]

mod redis_support;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use redis_support::server::{Server, free_port, installed};
use redis_support::{PROTOCOLS, auth_config, config, prefix};
use weft::redis::{
    Commands, Config, Connection, Error, Expiry, Frame, Pipeline, Protocol, SetOptions, cmd,
};
use weft::rt::{Backend, Epoll, Std, spawn, time};

async fn connect<B: Backend>(c: &Config) -> Connection {
    Connection::connect::<B>(c).await.expect("connect")
}

fn strings<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("strings");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            assert_eq!(conn.protocol(), proto);
            let k = |s: &str| format!("{p}{s}");
            assert_eq!(conn.ping().await.unwrap(), "PONG");
            conn.set(k("a"), "hello").await.unwrap();
            let v: Option<String> = conn.get(k("a")).await.unwrap();
            assert_eq!(v.as_deref(), Some("hello"));
            let missing: Option<String> = conn.get(k("nope")).await.unwrap();
            assert_eq!(missing, None);
            let raw: Vec<u8> = conn.get(k("a")).await.unwrap();
            assert_eq!(raw, b"hello");
            let b: Bytes = conn.get(k("a")).await.unwrap();
            assert_eq!(&b[..], b"hello");
            assert_eq!(conn.append(k("a"), " world").await.unwrap(), 11);
            assert_eq!(conn.strlen(k("a")).await.unwrap(), 11);
            let r: String = conn.getrange(k("a"), 0, 4).await.unwrap();
            assert_eq!(r, "hello");

            conn.mset(&[(k("m1"), "1"), (k("m2"), "2")]).await.unwrap();
            let vals: Vec<Option<i64>> = conn.mget(&[k("m1"), k("m2"), k("m3")]).await.unwrap();
            assert_eq!(vals, vec![Some(1), Some(2), None]);

            assert_eq!(conn.incr(k("n")).await.unwrap(), 1);
            assert_eq!(conn.incr_by(k("n"), 10).await.unwrap(), 11);
            assert_eq!(conn.decr(k("n")).await.unwrap(), 10);
            assert_eq!(conn.decr_by(k("n"), 3).await.unwrap(), 7);
            assert_eq!(conn.incr_by_float(k("f"), 1.5).await.unwrap(), 1.5);

            assert!(conn.set_nx(k("nx"), "x").await.unwrap());
            assert!(!conn.set_nx(k("nx"), "y").await.unwrap());
            let set: bool = conn
                .set_options(k("nx"), "z", SetOptions::default().xx())
                .await
                .unwrap();
            assert!(set);
            let old: Option<String> = conn
                .set_options(
                    k("nx"),
                    "w",
                    SetOptions::default().get().expiry(Expiry::Ex(100)),
                )
                .await
                .unwrap();
            assert_eq!(old.as_deref(), Some("z"));
            let ttl = conn.ttl(k("nx")).await.unwrap();
            assert!((1..=100).contains(&ttl), "{ttl}");
            conn.set_ex(k("ex"), "v", 50).await.unwrap();
            assert!(conn.pttl(k("ex")).await.unwrap() > 40_000);
            let gone: Option<String> = conn.getdel(k("ex")).await.unwrap();
            assert_eq!(gone.as_deref(), Some("v"));
            assert_eq!(conn.exists(&[k("ex")]).await.unwrap(), 0);

            // A 1 MiB binary value round-trips unchanged.
            let big: Vec<u8> = (0..1 << 20).map(|i| (i * 7 % 251) as u8).collect();
            conn.set(k("big"), &big).await.unwrap();
            let back: Vec<u8> = conn.get(k("big")).await.unwrap();
            assert!(back == big);
        });
    }
}

fn keys_and_expiry<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("keys");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            assert_eq!(conn.protocol(), proto);
            let k = |s: &str| format!("{p}{s}");
            conn.set(k("a"), 1).await.unwrap();
            conn.set(k("b"), 2).await.unwrap();
            assert_eq!(conn.exists(&[k("a"), k("b"), k("c")]).await.unwrap(), 2);
            assert_eq!(conn.key_type(k("a")).await.unwrap(), "string");
            assert_eq!(conn.key_type(k("c")).await.unwrap(), "none");
            assert_eq!(conn.ttl(k("a")).await.unwrap(), -1);
            assert!(conn.expire(k("a"), 100).await.unwrap());
            assert!(!conn.expire(k("c"), 100).await.unwrap());
            assert!(conn.persist(k("a")).await.unwrap());
            assert!(conn.pexpire(k("b"), 30).await.unwrap());
            time::sleep(Duration::from_millis(60)).await;
            assert_eq!(conn.ttl(k("b")).await.unwrap(), -2);
            conn.rename(k("a"), k("r")).await.unwrap();
            let r: i64 = conn.get(k("r")).await.unwrap();
            assert_eq!(r, 1);
            let mut found: Vec<String> = conn.keys(format!("{p}*")).await.unwrap();
            found.sort();
            assert_eq!(found, vec![k("r")]);
            assert_eq!(conn.del(&[k("r"), k("zz")]).await.unwrap(), 1);
            conn.set(k("u"), 1).await.unwrap();
            assert_eq!(conn.unlink(&[k("u")]).await.unwrap(), 1);
            assert!(conn.expire_at(k("nokey"), 1).await.is_ok());
        });
    }
}

fn hashes_lists_sets_zsets<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("collections");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            let k = |s: &str| format!("{p}{s}");
            // Hashes.
            assert_eq!(conn.hset(k("h"), "f1", "v1").await.unwrap(), 1);
            assert_eq!(
                conn.hset_multiple(k("h"), &[("f2", "v2"), ("n", "5")])
                    .await
                    .unwrap(),
                2
            );
            assert!(!conn.hsetnx(k("h"), "f1", "x").await.unwrap());
            let v: Option<String> = conn.hget(k("h"), "f1").await.unwrap();
            assert_eq!(v.as_deref(), Some("v1"));
            let vs: Vec<Option<String>> = conn.hmget(k("h"), &["f1", "zz"]).await.unwrap();
            assert_eq!(vs, vec![Some("v1".into()), None]);
            let all: HashMap<String, String> = conn.hgetall(k("h")).await.unwrap();
            assert_eq!(all.len(), 3);
            assert_eq!(all["f2"], "v2");
            let pairs: Vec<(String, String)> = conn.hgetall(k("h")).await.unwrap();
            assert_eq!(pairs.len(), 3);
            assert_eq!(conn.hincr_by(k("h"), "n", 2).await.unwrap(), 7);
            assert!(conn.hexists(k("h"), "n").await.unwrap());
            assert_eq!(conn.hlen(k("h")).await.unwrap(), 3);
            let mut keys: Vec<String> = conn.hkeys(k("h")).await.unwrap();
            keys.sort();
            assert_eq!(keys, ["f1", "f2", "n"]);
            let vals: Vec<String> = conn.hvals(k("h")).await.unwrap();
            assert_eq!(vals.len(), 3);
            assert_eq!(conn.hdel(k("h"), &["f1", "f2"]).await.unwrap(), 2);

            // Lists.
            assert_eq!(conn.rpush(k("l"), &["a", "b", "c"]).await.unwrap(), 3);
            assert_eq!(conn.lpush(k("l"), &["z"]).await.unwrap(), 4);
            let all: Vec<String> = conn.lrange(k("l"), 0, -1).await.unwrap();
            assert_eq!(all, ["z", "a", "b", "c"]);
            assert_eq!(conn.llen(k("l")).await.unwrap(), 4);
            let first: Option<String> = conn.lpop(k("l")).await.unwrap();
            assert_eq!(first.as_deref(), Some("z"));
            let last: Option<String> = conn.rpop(k("l")).await.unwrap();
            assert_eq!(last.as_deref(), Some("c"));
            let at: Option<String> = conn.lindex(k("l"), 1).await.unwrap();
            assert_eq!(at.as_deref(), Some("b"));
            conn.lset(k("l"), 0, "A").await.unwrap();
            conn.rpush(k("l"), &["A", "A"]).await.unwrap();
            assert_eq!(conn.lrem(k("l"), 0, "A").await.unwrap(), 3);
            conn.ltrim(k("l"), 0, 0).await.unwrap();
            let rest: Vec<String> = conn.lrange(k("l"), 0, -1).await.unwrap();
            assert_eq!(rest, ["b"]);
            let popped: Option<(String, String)> = conn.blpop(&[k("l")], 1.0).await.unwrap();
            assert_eq!(popped, Some((k("l"), "b".into())));
            let none: Option<(String, String)> = conn.brpop(&[k("l")], 0.01).await.unwrap();
            assert_eq!(none, None);

            // Sets.
            assert_eq!(conn.sadd(k("s1"), &["a", "b", "c"]).await.unwrap(), 3);
            assert_eq!(conn.sadd(k("s2"), &["b", "c", "d"]).await.unwrap(), 3);
            let m: HashSet<String> = conn.smembers(k("s1")).await.unwrap();
            assert_eq!(m.len(), 3);
            assert!(conn.sismember(k("s1"), "a").await.unwrap());
            assert_eq!(conn.scard(k("s1")).await.unwrap(), 3);
            let mut inter: Vec<String> = conn.sinter(&[k("s1"), k("s2")]).await.unwrap();
            inter.sort();
            assert_eq!(inter, ["b", "c"]);
            let union: HashSet<String> = conn.sunion(&[k("s1"), k("s2")]).await.unwrap();
            assert_eq!(union.len(), 4);
            let diff: Vec<String> = conn.sdiff(&[k("s1"), k("s2")]).await.unwrap();
            assert_eq!(diff, ["a"]);
            assert_eq!(conn.srem(k("s1"), &["a", "zz"]).await.unwrap(), 1);
            let popped: Option<String> = conn.spop(k("s1")).await.unwrap();
            assert!(popped.is_some());

            // Sorted sets.
            assert_eq!(
                conn.zadd(k("z"), &[(1.0, "one"), (2.5, "two"), (3.0, "three")])
                    .await
                    .unwrap(),
                3
            );
            assert_eq!(conn.zscore(k("z"), "two").await.unwrap(), Some(2.5));
            assert_eq!(conn.zscore(k("z"), "nope").await.unwrap(), None);
            assert_eq!(conn.zincr_by(k("z"), 1.0, "one").await.unwrap(), 2.0);
            assert_eq!(conn.zrank(k("z"), "one").await.unwrap(), Some(0));
            assert_eq!(conn.zrevrank(k("z"), "one").await.unwrap(), Some(2));
            assert_eq!(conn.zcard(k("z")).await.unwrap(), 3);
            assert_eq!(conn.zcount(k("z"), "-inf", "(3").await.unwrap(), 2);
            let names: Vec<String> = conn.zrange(k("z"), 0, -1).await.unwrap();
            assert_eq!(names, ["one", "two", "three"]);
            let scored: Vec<(String, f64)> = conn.zrange_withscores(k("z"), 0, -1).await.unwrap();
            assert_eq!(
                scored,
                vec![
                    ("one".into(), 2.0),
                    ("two".into(), 2.5),
                    ("three".into(), 3.0)
                ]
            );
            let rev: Vec<String> = conn.zrevrange(k("z"), 0, 0).await.unwrap();
            assert_eq!(rev, ["three"]);
            let by: Vec<String> = conn.zrangebyscore(k("z"), 2.4, "+inf").await.unwrap();
            assert_eq!(by, ["two", "three"]);
            let min: Vec<(String, f64)> = conn.zpopmin(k("z"), 1).await.unwrap();
            assert_eq!(min, vec![("one".into(), 2.0)]);
            let max: Vec<(String, f64)> = conn.zpopmax(k("z"), 1).await.unwrap();
            assert_eq!(max, vec![("three".into(), 3.0)]);
            assert_eq!(
                conn.zremrangebyscore(k("z"), "-inf", "+inf").await.unwrap(),
                1
            );
            assert_eq!(conn.zrem(k("z"), &["x"]).await.unwrap(), 0);
        });
    }
}

fn server_errors_and_raw_commands<B: Backend>() {
    let Some(c) = config(Protocol::Resp3) else {
        return;
    };
    let p = prefix("errors");
    B::block_on(async {
        let conn = connect::<B>(&c).await;
        let k = format!("{p}list");
        conn.rpush(&k, &["x"]).await.unwrap();
        let err = conn.incr(&k).await.unwrap_err();
        assert_eq!(err.server_code(), Some("WRONGTYPE"), "{err}");
        assert!(!err.is_fatal());
        let io: std::io::Error = err.into();
        assert!(io.to_string().contains("WRONGTYPE"));
        let err = conn
            .query_cmd::<()>(cmd("NOSUCHCOMMAND"))
            .await
            .unwrap_err();
        assert_eq!(err.server_code(), Some("ERR"));
        // A type mismatch is a typed error, not a panic.
        let err = conn.get::<i64>(&k).await.unwrap_err();
        assert_eq!(err.server_code(), Some("WRONGTYPE"));
        conn.set(&k, "abc").await.unwrap();
        assert!(matches!(conn.get::<i64>(&k).await, Err(Error::Type(_))));
        // The connection is still fine afterwards.
        let raw: Frame = conn.query_cmd(cmd("ECHO").with("hi")).await.unwrap();
        assert_eq!(raw.as_bytes(), Some(&b"hi"[..]));
        let echoed: String = conn.echo("yo").await.unwrap();
        assert_eq!(echoed, "yo");
        assert!(conn.dbsize().await.unwrap() >= 1);
        assert!(conn.client_id().await.unwrap() > 0);
        assert!(conn.is_reusable());
        // Usage errors from the Sans-IO layer.
        let err = conn.query_cmd::<()>(cmd("MONITOR")).await.unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err:?}");
    });
}

fn auth<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(base) = auth_config(proto) else {
            return;
        };
        B::block_on(async {
            // No credentials: RESP3's HELLO is refused, RESP2's first command.
            if proto == Protocol::Resp3 {
                let err = Connection::connect::<B>(&base).await.unwrap_err();
                assert!(err.to_string().contains("NOAUTH"), "{err}");
            } else {
                let anon = connect::<B>(&base).await;
                let err = anon.ping().await.unwrap_err();
                assert_eq!(err.server_code(), Some("NOAUTH"), "{err}");
            }

            let default = base.clone().auth(None, "defaultpass");
            let conn = connect::<B>(&default).await;
            assert_eq!(conn.ping().await.unwrap(), "PONG");
            assert_eq!(conn.protocol(), proto);

            let acl = base.clone().auth(Some("weft"), "weftpass");
            let conn = connect::<B>(&acl).await;
            assert_eq!(conn.ping().await.unwrap(), "PONG");
            let who: String = conn.query_cmd(cmd("ACL").with("WHOAMI")).await.unwrap();
            assert_eq!(who, "weft");

            let wrong = base.clone().auth(Some("weft"), "nope");
            match Connection::connect::<B>(&wrong).await {
                Err(Error::Protocol(proto_err)) => {
                    assert!(proto_err.to_string().contains("WRONGPASS"), "{proto_err}")
                }
                other => panic!("expected a handshake error, got {other:?}"),
            }
        });
    }
    // The URL form carries credentials too.
    if let Some(a) = redis_support::addr("WEFT_REDIS_AUTH_ADDR") {
        let c: Config = format!("redis://weft:weftpass@{a}/1?protocol=resp2")
            .parse()
            .unwrap();
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            assert_eq!(conn.protocol(), Protocol::Resp2);
            let db: HashMap<String, Frame> = conn
                .query_cmd(cmd("CLIENT").with("INFO"))
                .await
                .map(|info: String| {
                    info.split(' ')
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| {
                            (
                                k.to_owned(),
                                Frame::BulkString(Bytes::copy_from_slice(v.as_bytes())),
                            )
                        })
                        .collect()
                })
                .unwrap();
            assert_eq!(db["db"].as_bytes(), Some(&b"1"[..]));
        });
    }
}

/// Many tasks share one connection; each must get its own replies.
fn concurrent_callers_share_a_connection<B: Backend>() {
    let Some(c) = config(Protocol::Resp3) else {
        return;
    };
    let p = prefix("concurrent");
    B::block_on(async {
        let conn = connect::<B>(&c).await;
        let p = Rc::new(p);
        let mut tasks = Vec::new();
        for t in 0..50 {
            let conn = conn.clone();
            let p = p.clone();
            tasks.push(spawn(async move {
                for i in 0..40 {
                    let key = format!("{p}{t}");
                    let value = format!("{t}-{i}");
                    conn.set(&key, &value).await.unwrap();
                    let got: String = conn.get(&key).await.unwrap();
                    assert_eq!(got, value);
                    assert!(conn.incr(format!("{p}ctr")).await.unwrap() > 0);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let total: i64 = conn.get(format!("{p}ctr")).await.unwrap();
        assert_eq!(total, 50 * 40);
        // Futures created before being awaited go out in call order.
        let a = conn.incr(format!("{p}order"));
        let b = conn.incr(format!("{p}order"));
        assert_eq!(b.await.unwrap(), 2);
        assert_eq!(a.await.unwrap(), 1);
    });
}

/// A Lua script that keeps the server busy for `ms` milliseconds.
fn busy(ms: u64) -> weft::redis::Cmd {
    cmd("EVAL")
        .with(
            "local t = redis.call('TIME') local start = t[1] * 1000000 + t[2] \
             repeat t = redis.call('TIME') until (t[1] * 1000000 + t[2]) - start > tonumber(ARGV[1]) * 1000 \
             return 'done'",
        )
        .with(0)
        .with(ms)
}

fn cancelled_calls_never_desynchronise<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("cancel");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            let k = format!("{p}k");
            conn.set(&k, "right").await.unwrap();
            // A slow (non-blocking) command times out client-side while
            // its reply is still owed: the reply is drained when it comes,
            // and the next call gets its own.
            let r = time::timeout(
                Duration::from_millis(20),
                conn.query_cmd::<String>(busy(200)),
            )
            .await;
            assert!(r.is_err(), "should time out");
            assert_eq!(conn.pending(), 1, "the abandoned reply is still owed");
            let v: String = conn.get(&k).await.unwrap();
            assert_eq!(v, "right");
            assert_eq!(conn.pending(), 0);
            // A dropped, never-polled future too.
            drop(conn.get::<String>(&k));
            let n: String = conn.echo("after-drop").await.unwrap();
            assert_eq!(n, "after-drop");
            assert!(conn.is_reusable());

            // A pipeline dropped mid-flight: every one of its replies is
            // drained, none reaches a later caller.
            let mut pipe = Pipeline::new();
            pipe.set(format!("{p}piped"), "p")
                .add(busy(200))
                .get(&k)
                .echo("pipe-tail");
            let r = time::timeout(Duration::from_millis(20), pipe.run(&conn)).await;
            assert!(r.is_err(), "should time out");
            assert_eq!(conn.pending(), 4, "the dropped batch's replies are owed");
            let n: String = conn.echo("after-pipeline").await.unwrap();
            assert_eq!(n, "after-pipeline");
            assert_eq!(conn.pending(), 0);
            let piped: String = conn.get(format!("{p}piped")).await.unwrap();
            assert_eq!(piped, "p", "the dropped pipeline still ran");

            // A transaction dropped mid-flight: it commits on the server,
            // its MULTI/QUEUED/EXEC replies are drained, and the connection
            // is left outside MULTI.
            let mut tx = Pipeline::new();
            tx.atomic().incr(format!("{p}ctr")).add(busy(200));
            let r = time::timeout(Duration::from_millis(20), tx.run(&conn)).await;
            assert!(r.is_err(), "should time out");
            assert_eq!(conn.pending(), 4, "MULTI, two QUEUED and EXEC are owed");
            let ctr: i64 = conn.get(format!("{p}ctr")).await.unwrap();
            assert_eq!(ctr, 1);
            let n: String = conn.echo("after-tx").await.unwrap();
            assert_eq!(n, "after-tx");
            assert!(conn.is_reusable());

            // A blocking command abandoned by its caller closes the
            // connection rather than stalling (or misdirecting) what
            // follows.
            let blk = format!("{p}empty-list");
            let r = time::timeout(
                Duration::from_millis(30),
                conn.blpop::<Option<(String, String)>>(&[&blk], 5.0),
            )
            .await;
            assert!(r.is_err());
            assert!(conn.is_closed());
            assert!(matches!(conn.get::<String>(&k).await, Err(Error::Closed)));
            // A fresh connection sees the right value.
            let conn = connect::<B>(&c).await;
            let v: String = conn.get(&k).await.unwrap();
            assert_eq!(v, "right");
        });
    }
}

fn server_closing_fails_pending_requests<B: Backend>() {
    let Some(c) = config(Protocol::Resp3) else {
        return;
    };
    B::block_on(async {
        let victim = connect::<B>(&c).await;
        let id = victim.client_id().await.unwrap();
        let pending = victim.blpop::<Option<(String, String)>>(&[prefix("kill-list")], 5.0);
        let killer = connect::<B>(&c).await;
        let killed: i64 = killer
            .query_cmd(cmd("CLIENT").with("KILL").with("ID").with(id))
            .await
            .unwrap();
        assert_eq!(killed, 1);
        let err = pending.await.unwrap_err();
        assert!(err.is_fatal(), "{err:?}");
        assert!(victim.is_closed());
        assert!(!victim.is_reusable());
    });
}

/// Every RESP3 type as a real server sends it, attributes and out-of-band
/// pushes included: `DEBUG PROTOCOL <type>` (a redis-server of the test's
/// own, started with `enable-debug-command yes`, which the shared ones
/// refuse). Sent back to back, the push and the attribute arrive among the
/// replies and every reply still reaches its own caller; in RESP2 the
/// server sends the downgraded shapes.
fn debug_protocol_types<B: Backend>() {
    if !installed() {
        return;
    }
    let server =
        Server::start(free_port(), &["--enable-debug-command", "yes"]).expect("spawn redis-server");
    let dbg = |t: &str| cmd("DEBUG").with("PROTOCOL").with(t);
    let b = |s: &str| Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()));
    const ATTRIB_REPLY: &str = "Some real reply following the attribute";
    const PUSH_REPLY: &str = "Some real reply following the push reply";
    const BIG: &str = "1234567999999999999999999999999999999";
    for proto in PROTOCOLS {
        let c: Config = format!("redis://{}", server.addr()).parse().unwrap();
        let c = c.protocol(proto);
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            let pushes: Rc<RefCell<Vec<Frame>>> = Rc::default();
            let sink = pushes.clone();
            conn.set_push_handler(move |f| sink.borrow_mut().push(f));

            let attrib = conn.send_raw(&dbg("attrib")).unwrap();
            let push = conn.query_cmd::<String>(dbg("push"));
            let attrib_typed = conn.query_cmd::<String>(dbg("attrib"));
            let big = conn.query_cmd::<Frame>(dbg("bignum"));
            let verbatim = conn.query_cmd::<String>(dbg("verbatim"));
            let yes = conn.query_cmd::<bool>(dbg("true"));
            let no = conn.query_cmd::<bool>(dbg("false"));
            let null = conn.query_cmd::<Option<String>>(dbg("null"));
            let double = conn.query_cmd::<f64>(dbg("double"));
            let map = conn.query_cmd::<Frame>(dbg("map"));
            let set = conn.query_cmd::<Frame>(dbg("set"));
            let pong = conn.ping();

            let attrib = attrib.await.unwrap();
            let push = push.await;
            assert_eq!(
                attrib_typed.await.unwrap(),
                ATTRIB_REPLY,
                "attributes stripped"
            );
            let big = big.await.unwrap();
            assert_eq!(verbatim.await.unwrap(), "This is a verbatim\nstring");
            assert!(yes.await.unwrap());
            assert!(!no.await.unwrap());
            assert_eq!(null.await.unwrap(), None);
            // What Redis sends: `,3.141` (not pi).
            assert_eq!(double.await.unwrap().to_string(), "3.141");
            let (map, set) = (map.await.unwrap(), set.await.unwrap());
            assert_eq!(pong.await.unwrap(), "PONG");

            if proto == Protocol::Resp3 {
                let Frame::Attribute { attributes, value } = &attrib else {
                    panic!("expected an attribute, got {attrib:?}");
                };
                assert_eq!(attributes.len(), 1);
                assert_eq!(attributes[0].0, b("key-popularity"));
                assert_eq!(
                    attributes[0].1,
                    Frame::Array(vec![b("key:123"), Frame::Integer(90)])
                );
                assert_eq!(**value, b(ATTRIB_REPLY));
                assert_eq!(push.unwrap(), PUSH_REPLY);
                assert_eq!(
                    *pushes.borrow(),
                    [Frame::Push(vec![b("server-cpu-usage"), Frame::Integer(42)])],
                    "the push went to the handler, not to a caller"
                );
                assert_eq!(big, Frame::BigNumber(Bytes::from_static(BIG.as_bytes())));
                let Frame::Map(m) = &map else {
                    panic!("expected a map, got {map:?}")
                };
                assert_eq!(m.len(), 3);
                assert_eq!(m[1], (Frame::Integer(1), Frame::Boolean(true)));
                assert!(matches!(&set, Frame::Set(v) if v.len() == 3), "{set:?}");
            } else {
                assert_eq!(attrib, b(ATTRIB_REPLY));
                let err = push.unwrap_err();
                assert_eq!(err.server_code(), Some("ERR"), "{err}");
                assert!(pushes.borrow().is_empty());
                assert_eq!(big, b(BIG));
                assert!(matches!(&map, Frame::Array(v) if v.len() == 6), "{map:?}");
                assert!(matches!(&set, Frame::Array(v) if v.len() == 3), "{set:?}");
            }
        });
    }
}

macro_rules! on_backends {
    ($($name:ident => [$($b:ident),*];)*) => {
        mod epoll {
            use super::*;
            $( #[test] fn $name() { super::$name::<Epoll>() } )*
        }
        mod std_backend {
            #[allow(unused_imports)]
            use super::*;
            on_backends!(@std $($name => [$($b),*];)*);
        }
    };
    (@std $($name:ident => [$($b:ident),*];)*) => {
        $( on_backends!(@one $name [$($b),*]); )*
    };
    (@one $name:ident [Std]) => { #[test] fn $name() { super::$name::<Std>() } };
    (@one $name:ident []) => {};
}

on_backends! {
    strings => [Std];
    keys_and_expiry => [];
    hashes_lists_sets_zsets => [];
    server_errors_and_raw_commands => [];
    auth => [Std];
    concurrent_callers_share_a_connection => [Std];
    cancelled_calls_never_desynchronise => [Std];
    server_closing_fails_pending_requests => [];
    debug_protocol_types => [Std];
}
