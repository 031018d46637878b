//! The handshake's fallback to RESP2 against a real redis-server that does
//! not know `HELLO`: Redis before 6 answers it `-ERR unknown command`, and
//! so does the 7.x started here with `rename-command HELLO ""` (the
//! unknown-command check comes before the authentication check, as in the
//! old servers). It also has `requirepass` and an ACL user, so a client
//! asking for RESP3 (the default) must end up on RESP2 with `AUTH [user]
//! pass`, `CLIENT SETNAME` and `SELECT` done the RESP2 way, and everything
//! built on the connection (typed replies in RESP2 shapes, pipelines,
//! transactions, pub/sub as plain arrays, the pool) working on top.
//!
//! The test starts its own redis-server on a free port; it is skipped when
//! redis-server is not installed, unless `WEFT_REQUIRE_SERVICES=1`.
#![cfg(all(feature = "epoll", feature = "std"))]

mod redis_support;

use std::collections::HashMap;

use redis_support::prefix;
use redis_support::server::{Server, free_port, installed};
use weft::redis::{
    Client, Commands, Config, Connection, Error, Frame, Pipeline, Protocol, PubSub, cmd,
};
use weft::rt::{Backend, Epoll, Std};

/// A redis-server without `HELLO`, with a default-user password and the
/// ACL user `weft`.
fn server_without_hello() -> Option<Server> {
    if !installed() {
        return None;
    }
    let server = Server::start(
        free_port(),
        &[
            "--rename-command",
            "HELLO",
            "",
            "--requirepass",
            "defaultpass",
            "--user",
            "weft",
            "on",
            ">weftpass",
            "~*",
            "&*",
            "+@all",
        ],
    )
    .expect("spawn redis-server");
    Some(server)
}

fn falls_back_to_resp2<B: Backend>() {
    let Some(server) = server_without_hello() else {
        return;
    };
    let base: Config = format!("redis://{}", server.addr()).parse().unwrap();
    assert_eq!(base.protocol, Protocol::Resp3, "RESP3 is asked for");
    let p = prefix("fallback");
    B::block_on(async {
        // The default user, `AUTH <password>` (the requirepass form).
        let admin = Connection::connect::<B>(&base.clone().auth(None, "defaultpass"))
            .await
            .expect("fallback handshake with the default user");
        assert_eq!(admin.protocol(), Protocol::Resp2);
        assert!(admin.hello().is_none());
        let who: String = admin.query_cmd(cmd("ACL").with("WHOAMI")).await.unwrap();
        assert_eq!(who, "default");
        // The server really has no HELLO: what happened was the fallback.
        let err = admin
            .query_cmd::<Frame>(cmd("HELLO").with(3))
            .await
            .unwrap_err();
        assert_eq!(err.server_code(), Some("ERR"), "{err}");
        assert!(err.to_string().contains("unknown command"), "{err}");

        // The ACL user, a database and a name, from a URL.
        let url: Config = format!(
            "redis://weft:weftpass@{}/3?client_name=weft-fallback",
            server.addr()
        )
        .parse()
        .unwrap();
        let conn = Connection::connect::<B>(&url)
            .await
            .expect("fallback handshake with an ACL user");
        assert_eq!(conn.protocol(), Protocol::Resp2);
        let who: String = conn.query_cmd(cmd("ACL").with("WHOAMI")).await.unwrap();
        assert_eq!(who, "weft");
        let name: String = conn.query_cmd(cmd("CLIENT").with("GETNAME")).await.unwrap();
        assert_eq!(name, "weft-fallback");
        // SELECT 3 took effect: the key is in database 3, not 0.
        let k = |s: &str| format!("{p}{s}");
        conn.set(k("a"), "in-3").await.unwrap();
        assert_eq!(admin.exists(&[k("a")]).await.unwrap(), 0);
        admin.query_cmd::<()>(cmd("SELECT").with(3)).await.unwrap();
        assert_eq!(admin.exists(&[k("a")]).await.unwrap(), 1);

        // Typed replies in their RESP2 shapes.
        conn.hset_multiple(k("h"), &[("f1", "v1"), ("f2", "v2")])
            .await
            .unwrap();
        let all: HashMap<String, String> = conn.hgetall(k("h")).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all["f2"], "v2");
        conn.zadd(k("z"), &[(2.5, "m")]).await.unwrap();
        assert_eq!(conn.zscore(k("z"), "m").await.unwrap(), Some(2.5));
        let missing: Option<String> = conn.get(k("nope")).await.unwrap();
        assert_eq!(missing, None);

        // Pipelines and transactions.
        let mut pipe = Pipeline::new();
        pipe.incr(k("n")).incr(k("n")).get(k("a"));
        let (one, two, a): (i64, i64, String) = pipe.query(&conn).await.unwrap();
        assert_eq!((one, two, a.as_str()), (1, 2, "in-3"));
        let mut tx = Pipeline::new();
        tx.atomic().incr(k("n")).incr(k("n"));
        let (three, four): (i64, i64) = tx.query(&conn).await.unwrap();
        assert_eq!((three, four), (3, 4));

        // Pub/sub: RESP2 subscribed mode, messages are plain arrays.
        let mut sub = PubSub::<B>::connect(url.clone()).await.unwrap();
        let ch = k("ch");
        sub.subscribe(&[&ch]).await.unwrap();
        assert_eq!(conn.publish(&ch, "hi").await.unwrap(), 1);
        let m = sub.next_message().await.unwrap();
        assert_eq!(
            (&m.channel[..], &m.payload[..]),
            (ch.as_bytes(), &b"hi"[..])
        );

        // The pool-backed client over the same fallback.
        let client = Client::<B>::with_backend(url.clone());
        assert_eq!(client.incr(k("n")).await.unwrap(), 5);
        assert_eq!(client.pool_state().open, 1);
        // Client-side caching needs RESP3: refused with a typed error,
        // not a connection that never gets its invalidations.
        let tracking = Client::<B>::with_backend(url.clone().on_invalidate(|_| {}));
        assert!(matches!(tracking.ping().await, Err(Error::Config(_))));

        // No credentials: the fallback sends no AUTH, commands get NOAUTH.
        let anon = Connection::connect::<B>(&base).await.unwrap();
        assert_eq!(anon.protocol(), Protocol::Resp2);
        let err = anon.ping().await.unwrap_err();
        assert_eq!(err.server_code(), Some("NOAUTH"), "{err}");
        // A wrong password fails the handshake with the server's refusal.
        for wrong in [
            base.clone().auth(None, "nope"),
            base.clone().auth(Some("weft"), "nope"),
        ] {
            match Connection::connect::<B>(&wrong).await {
                Err(Error::Protocol(e)) => {
                    assert!(e.to_string().contains("WRONGPASS"), "{e}")
                }
                other => panic!("expected WRONGPASS, got {other:?}"),
            }
        }
    });
}

#[test]
fn epoll_falls_back_to_resp2() {
    falls_back_to_resp2::<Epoll>();
}

#[test]
fn std_falls_back_to_resp2() {
    falls_back_to_resp2::<Std>();
}
