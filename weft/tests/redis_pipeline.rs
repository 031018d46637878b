//! Pipelines, transactions, scripts, scans and streams against a real
//! redis-server.
#![cfg(all(feature = "epoll", feature = "std"))]

mod redis_support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use redis_support::{PROTOCOLS, config, prefix};
use weft::redis::{
    Commands, Config, Connection, Error, Frame, Pipeline, ScanOptions, Script, StreamEntry,
    StreamReadOptions, StreamReadReply, cmd,
};
use weft::rt::{Backend, Epoll, Std, time};

async fn connect<B: Backend>(c: &Config) -> Connection {
    Connection::connect::<B>(c).await.expect("connect")
}

fn pipeline_basics<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("pipe");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            let k = |s: &str| format!("{p}{s}");
            let mut pipe = Pipeline::new();
            pipe.set(k("a"), 1)
                .ignore()
                .incr(k("a"))
                .ignore()
                .get(k("a"))
                .rpush(k("l"), &["x", "y"]);
            let (a, len): (i64, u64) = pipe.query(&conn).await.unwrap();
            assert_eq!((a, len), (2, 2));

            // Per-command errors do not fail the others.
            let mut pipe = Pipeline::new();
            pipe.get(k("a"))
                .incr(k("l"))
                .add(cmd("ECHO").with("still here"));
            let results = pipe.run(&conn).await.unwrap();
            assert_eq!(results.len(), 3);
            assert_eq!(results[0].as_ref().unwrap().as_bytes(), Some(&b"2"[..]));
            assert_eq!(
                results[1].as_ref().unwrap_err().server_code(),
                Some("WRONGTYPE")
            );
            assert_eq!(
                results[2].as_ref().unwrap().as_bytes(),
                Some(&b"still here"[..])
            );
            // ... while `query` reports the first error.
            let err = pipe.query::<Frame, _>(&conn).await.unwrap_err();
            assert_eq!(err.server_code(), Some("WRONGTYPE"));
            assert!(Pipeline::new().run(&conn).await.unwrap().is_empty());
        });
    }
}

fn pipeline_of_100k_commands<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("pipe100k");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            assert_eq!(conn.protocol(), proto);
            let key = format!("{p}ctr");
            let mut pipe = Pipeline::with_capacity(100_000);
            for _ in 0..100_000 {
                pipe.incr(&key);
            }
            let results = pipe.run(&conn).await.unwrap();
            assert_eq!(results.len(), 100_000);
            // Each reply is its own command's: INCR numbers them.
            for (i, r) in results.into_iter().enumerate() {
                assert_eq!(r.unwrap().as_integer(), Some(i as i64 + 1));
            }
            // The connection is in step afterwards.
            let v: i64 = conn.get(&key).await.unwrap();
            assert_eq!(v, 100_000);
            conn.del(&[&key]).await.unwrap();
        });
    }
}

fn transactions<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("tx");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            let other = connect::<B>(&c).await;
            let k = |s: &str| format!("{p}{s}");

            let mut tx = Pipeline::new();
            tx.atomic().set(k("a"), 10).incr_by(k("a"), 5).get(k("a"));
            let ((), n, s): ((), i64, String) = tx.query(&conn).await.unwrap();
            assert_eq!((n, s.as_str()), (15, "15"));

            // WATCH: a concurrent change aborts the transaction.
            conn.query_cmd::<()>(cmd("WATCH").with(k("a")))
                .await
                .unwrap();
            assert!(!conn.is_reusable(), "WATCH state must not be handed on");
            other.set(k("a"), 99).await.unwrap();
            let mut tx = Pipeline::new();
            tx.atomic().incr(k("a"));
            let err = tx.query::<(i64,), _>(&conn).await.unwrap_err();
            assert!(matches!(err, Error::TransactionAborted), "{err:?}");
            assert!(conn.is_reusable(), "EXEC clears WATCH");
            let v: i64 = conn.get(k("a")).await.unwrap();
            assert_eq!(v, 99);

            // Unchanged: it commits.
            conn.query_cmd::<()>(cmd("WATCH").with(k("a")))
                .await
                .unwrap();
            let (n,): (i64,) = tx.query(&conn).await.unwrap();
            assert_eq!(n, 100);

            // A command refused at queue time aborts the whole transaction.
            let mut tx = Pipeline::new();
            tx.atomic()
                .set(k("b"), 1)
                .add(cmd("NOSUCHCOMMAND"))
                .incr(k("b"));
            let err = tx.run(&conn).await.unwrap_err();
            assert_eq!(err.server_code(), Some("ERR"), "{err:?}");
            assert_eq!(conn.exists(&[k("b")]).await.unwrap(), 0);

            // A runtime error inside EXEC is per command.
            conn.rpush(k("l"), &["x"]).await.unwrap();
            let mut tx = Pipeline::new();
            tx.atomic().incr(k("l")).incr(k("c"));
            let results = tx.run(&conn).await.unwrap();
            assert_eq!(
                results[0].as_ref().unwrap_err().server_code(),
                Some("WRONGTYPE")
            );
            assert_eq!(results[1].as_ref().unwrap().as_integer(), Some(1));
            assert!(conn.is_reusable());
        });
    }
}

fn scripting<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("script");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            let k = format!("{p}k");
            // A source unique to this run, so the server has never seen it.
            let script = Script::new(format!(
                "-- {p}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])"
            ));
            let exists: Vec<bool> = conn
                .query_cmd(cmd("SCRIPT").with("EXISTS").with(script.sha1()))
                .await
                .unwrap();
            assert_eq!(exists, [false]);
            // NOSCRIPT -> SCRIPT LOAD + EVALSHA, transparently.
            let n: i64 = script.invoke(&conn, &[&k], &[5]).await.unwrap();
            assert_eq!(n, 5);
            let n: i64 = script.invoke(&conn, &[&k], &[2]).await.unwrap();
            assert_eq!(n, 7);
            let sha = conn.script_load(script.code()).await.unwrap();
            assert_eq!(sha, script.sha1());
            let n: i64 = conn.evalsha(script.sha1(), &[&k], &[1]).await.unwrap();
            assert_eq!(n, 8);
            // The server forgets every script (a restart, a failover to a
            // replica that never saw it, SCRIPT FLUSH): invoke loads it again.
            conn.script_flush().await.unwrap();
            let exists: Vec<bool> = conn
                .query_cmd(cmd("SCRIPT").with("EXISTS").with(script.sha1()))
                .await
                .unwrap();
            assert_eq!(exists, [false]);
            let n: i64 = script.invoke(&conn, &[&k], &[2]).await.unwrap();
            assert_eq!(n, 10);
            let v: Vec<String> = conn
                .eval("return {KEYS[1], ARGV[1]}", &["k1"], &["a1"])
                .await
                .unwrap();
            assert_eq!(v, ["k1", "a1"]);
            let err = conn
                .eval::<()>("return redis.call('NOPE')", &[] as &[&str], &[] as &[&str])
                .await
                .unwrap_err();
            assert!(err.server_code().is_some(), "{err:?}");
            let err = conn
                .evalsha::<()>("0000000000000000000000000000000000000000", &["x"], &["y"])
                .await
                .unwrap_err();
            assert_eq!(err.server_code(), Some("NOSCRIPT"));
        });
    }
}

fn scans<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("scan");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            let mut pipe = Pipeline::new();
            for i in 0..250 {
                pipe.set(format!("{p}key:{i}"), i);
            }
            pipe.query::<(), _>(&conn).await.unwrap();
            let mut scan = conn.scan::<String>(
                ScanOptions::default()
                    .pattern(format!("{p}key:*"))
                    .count(50),
            );
            let mut seen = HashSet::new();
            while let Some(k) = scan.next().await {
                seen.insert(k.unwrap());
            }
            assert_eq!(seen.len(), 250);
            let typed = conn
                .scan::<String>(
                    ScanOptions::default()
                        .pattern(format!("{p}key:*"))
                        .key_type("hash"),
                )
                .collect_all()
                .await
                .unwrap();
            assert!(typed.is_empty());

            let h = format!("{p}h");
            let fields: Vec<(String, String)> = (0..300)
                .map(|i| (format!("f{i}"), format!("v{i}")))
                .collect();
            conn.hset_multiple(&h, &fields).await.unwrap();
            let got: HashSet<(String, String)> = conn
                .hscan::<String, String>(&h, ScanOptions::default().count(100))
                .collect_all()
                .await
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(got.len(), 300);
            assert!(got.contains(&("f7".to_string(), "v7".to_string())));

            let s = format!("{p}s");
            let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
            conn.sadd(&s, &members).await.unwrap();
            let got: HashSet<String> = conn
                .sscan::<String>(&s, ScanOptions::default())
                .collect_all()
                .await
                .unwrap()
                .into_iter()
                .collect();
            assert_eq!(got.len(), 200);

            let z = format!("{p}z");
            let scored: Vec<(f64, String)> =
                (0..150).map(|i| (i as f64, format!("m{i}"))).collect();
            conn.zadd(&z, &scored).await.unwrap();
            let got = conn
                .zscan::<String>(&z, ScanOptions::default())
                .collect_all()
                .await
                .unwrap();
            assert_eq!(got.len(), 150);
            assert!(got.iter().any(|(m, s)| m == "m42" && *s == 42.0));
        });
    }
}

fn streams<B: Backend>() {
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("stream");
        B::block_on(async {
            let conn = connect::<B>(&c).await;
            let s = format!("{p}s");
            let id1 = conn.xadd(&s, "*", &[("f", "1"), ("g", "a")]).await.unwrap();
            let id2 = conn.xadd(&s, "*", &[("f", "2")]).await.unwrap();
            assert!(id1 < id2 || id1.len() < id2.len());
            assert_eq!(conn.xlen(&s).await.unwrap(), 2);
            let all: Vec<StreamEntry> = conn.xrange(&s, "-", "+").await.unwrap();
            assert_eq!(all.len(), 2);
            assert_eq!(all[0].id, id1);
            assert_eq!(all[0].get(b"g").map(|v| &v[..]), Some(&b"a"[..]));

            let read: StreamReadReply = conn
                .xread(&[&s], &["0"], StreamReadOptions::default().count(10))
                .await
                .unwrap();
            assert_eq!(read.len(), 1);
            assert_eq!(read[0].0, s);
            assert_eq!(read[0].1.len(), 2);

            // Consumer group: read new entries, acknowledge them.
            conn.xgroup_create(&s, "grp", "0", false).await.unwrap();
            let got: StreamReadReply = conn
                .xreadgroup("grp", "c1", &[&s], &[">"], StreamReadOptions::default())
                .await
                .unwrap();
            let ids: Vec<String> = got[0].1.iter().map(|e| e.id.clone()).collect();
            assert_eq!(ids, vec![id1.clone(), id2.clone()]);
            assert_eq!(conn.xack(&s, "grp", &ids).await.unwrap(), 2);

            // A blocking read that times out server-side returns nothing.
            let t0 = Instant::now();
            let none: StreamReadReply = conn
                .xreadgroup(
                    "grp",
                    "c1",
                    &[&s],
                    &[">"],
                    StreamReadOptions::default().block(Duration::from_millis(50)),
                )
                .await
                .unwrap();
            assert!(none.is_empty());
            assert!(t0.elapsed() >= Duration::from_millis(40));

            // ... and one that gets data written meanwhile by another
            // connection.
            let writer = connect::<B>(&c).await;
            let s2 = s.clone();
            let w = weft::rt::spawn(async move {
                time::sleep(Duration::from_millis(30)).await;
                writer.xadd(&s2, "*", &[("late", "yes")]).await.unwrap()
            });
            let got: StreamReadReply = conn
                .xread(
                    &[&s],
                    &["$"],
                    StreamReadOptions::default().block(Duration::from_secs(5)),
                )
                .await
                .unwrap();
            let late_id = w.await.unwrap();
            assert_eq!(got[0].1[0].id, late_id);
            assert_eq!(got[0].1[0].get(b"late").map(|v| &v[..]), Some(&b"yes"[..]));

            assert_eq!(conn.xdel(&s, &[&id1]).await.unwrap(), 1);
            assert_eq!(conn.xtrim(&s, 1).await.unwrap(), 1);
            let id = conn
                .xadd_maxlen(&s, 1000, "*", &[("x", "y")])
                .await
                .unwrap();
            assert!(!id.is_empty());
        });
    }
}

macro_rules! on_backends {
    (epoll: [$($e:ident),*], std: [$($s:ident),*]) => {
        mod epoll {
            $( #[test] fn $e() { super::$e::<super::Epoll>() } )*
        }
        mod std_backend {
            $( #[test] fn $s() { super::$s::<super::Std>() } )*
        }
    };
}

on_backends!(
    epoll: [pipeline_basics, pipeline_of_100k_commands, transactions, scripting, scans, streams],
    std: [pipeline_basics, transactions, streams]
);
