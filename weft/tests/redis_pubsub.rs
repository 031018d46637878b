//! Pub/sub (with reconnect after `CLIENT KILL TYPE pubsub`) and
//! client-side caching invalidations, against a real redis-server.
#![cfg(all(feature = "epoll", feature = "std"))]

mod redis_support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use redis_support::server::{Server, free_port, installed};
use redis_support::{PROTOCOLS, config, prefix};
use weft::redis::{Client, Commands, Config, Connection, MessageKind, Protocol, PubSub, cmd};
use weft::rt::{Backend, Epoll, Std, time};

/// `CLIENT KILL TYPE pubsub` hits every subscriber on the server: the kill
/// test runs alone, the others share.
static KILL: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn subscribe_and_receive<B: Backend>() {
    let _shared = KILL.read().unwrap_or_else(|e| e.into_inner());
    for proto in PROTOCOLS {
        let Some(c) = config(proto) else { return };
        let p = prefix("pubsub");
        B::block_on(async {
            let publisher = Connection::connect::<B>(&c).await.unwrap();
            let mut sub = PubSub::<B>::connect(c.clone()).await.unwrap();
            let ch = format!("{p}ch");
            sub.subscribe(&[&ch]).await.unwrap();
            sub.psubscribe(&[format!("{p}pat.*")]).await.unwrap();
            sub.ssubscribe(&[format!("{p}shard")]).await.unwrap();

            assert_eq!(publisher.publish(&ch, "one").await.unwrap(), 1);
            let m = sub.next_message().await.unwrap();
            assert_eq!(m.kind, MessageKind::Channel);
            assert_eq!(
                (&m.channel[..], &m.payload[..]),
                (ch.as_bytes(), &b"one"[..])
            );

            publisher.publish(format!("{p}pat.x"), "two").await.unwrap();
            let m = sub.next_message().await.unwrap();
            assert_eq!(m.kind, MessageKind::Pattern);
            assert_eq!(m.pattern.as_deref(), Some(format!("{p}pat.*").as_bytes()));
            assert_eq!(&m.payload[..], b"two");

            publisher
                .spublish(format!("{p}shard"), "three")
                .await
                .unwrap();
            let m = sub.next_message().await.unwrap();
            assert_eq!(m.kind, MessageKind::Shard);
            assert_eq!(&m.payload[..], b"three");

            sub.unsubscribe(&[&ch]).await.unwrap();
            assert_eq!(publisher.publish(&ch, "lost").await.unwrap(), 0);
            sub.punsubscribe(&[format!("{p}pat.*")]).await.unwrap();
            sub.sunsubscribe(&[format!("{p}shard")]).await.unwrap();
        });
    }
}

/// Publishes `after-<i>` on a channel, a channel matching a pattern and a
/// shard channel, every 10 ms, until aborted; errors (the server down) are
/// skipped.
fn pump<C: Commands + 'static>(publisher: C, p: String) -> weft::rt::JoinHandle<()> {
    weft::rt::spawn(async move {
        for i in 0.. {
            let payload = format!("after-{i}");
            let _ = publisher.publish(format!("{p}ch"), &payload).await;
            let _ = publisher.publish(format!("{p}pat.x"), &payload).await;
            let _ = publisher.spublish(format!("{p}shard"), &payload).await;
            time::sleep(Duration::from_millis(10)).await;
        }
    })
}

/// Subscribes to `<p>ch`, `<p>pat.*` and the shard channel `<p>shard`.
async fn subscribe_all<B: Backend>(sub: &mut PubSub<B>, p: &str) {
    sub.subscribe(&[format!("{p}ch")]).await.unwrap();
    sub.psubscribe(&[format!("{p}pat.*")]).await.unwrap();
    sub.ssubscribe(&[format!("{p}shard")]).await.unwrap();
}

/// Reads messages until one of each kind published by [`pump`] arrived:
/// every subscription was made again.
async fn every_kind_flows_again<B: Backend>(sub: &mut PubSub<B>) {
    let mut seen = HashSet::new();
    while seen.len() < 3 {
        let m = time::timeout(Duration::from_secs(10), sub.next_message())
            .await
            .expect("messages flow again after reconnect")
            .unwrap();
        assert!(m.payload.starts_with(b"after-"), "{m:?}");
        seen.insert(format!("{:?}", m.kind));
    }
}

/// The subscriber's connection is killed by the server; it reconnects,
/// re-subscribes (channels, patterns and shard channels), and messages
/// flow again.
fn reconnects_after_client_kill<B: Backend>() {
    let _alone = KILL.write().unwrap_or_else(|e| e.into_inner());
    for proto in PROTOCOLS {
        let Some(mut c) = config(proto) else { return };
        c.pool = c
            .pool
            .clone()
            .backoff(Duration::from_millis(10), Duration::from_millis(100));
        let p = prefix("pubsub-kill");
        B::block_on(async {
            let admin = Connection::connect::<B>(&c).await.unwrap();
            let mut sub = PubSub::<B>::connect(c.clone()).await.unwrap();
            subscribe_all(&mut sub, &p).await;
            let ch = format!("{p}ch");
            admin.publish(&ch, "before").await.unwrap();
            assert_eq!(&sub.next_message().await.unwrap().payload[..], b"before");

            let killed: i64 = admin
                .query_cmd(cmd("CLIENT").with("KILL").with("TYPE").with("pubsub"))
                .await
                .unwrap();
            assert!(killed >= 1);

            // Publish until the re-subscribed connection receives; the
            // publisher runs beside the subscriber on this worker.
            let pumping = pump(admin.clone(), p.clone());
            every_kind_flows_again(&mut sub).await;
            assert!(sub.reconnects() >= 1);
            pumping.abort();
        });
    }
}

/// The server itself goes away for a while: the subscriber keeps retrying
/// (with backoff) while nothing listens, and once a server is back it
/// re-subscribes and messages of every kind flow again. On a
/// redis-server of the test's own.
fn resubscribes_after_a_server_restart<B: Backend>() {
    if !installed() {
        return;
    }
    for proto in PROTOCOLS {
        let mut server = Server::start(free_port(), &[]).expect("spawn redis-server");
        let mut c: Config = format!("redis://{}", server.addr()).parse().unwrap();
        c = c.protocol(proto);
        c.pool = c
            .pool
            .clone()
            .backoff(Duration::from_millis(10), Duration::from_millis(100));
        let p = prefix("pubsub-restart");
        B::block_on(async {
            let mut sub = PubSub::<B>::connect(c.clone()).await.unwrap();
            subscribe_all(&mut sub, &p).await;
            let publisher = Client::<B>::with_backend(c.clone());
            assert_eq!(
                publisher.publish(format!("{p}ch"), "before").await.unwrap(),
                1
            );
            assert_eq!(&sub.next_message().await.unwrap().payload[..], b"before");

            server.kill();
            // Down for a while: the subscriber's reconnects are refused.
            let restart = weft::rt::spawn(async move {
                time::sleep(Duration::from_millis(300)).await;
                server.respawn().unwrap();
                server
            });
            let pumping = pump(publisher, p.clone());
            every_kind_flows_again(&mut sub).await;
            assert!(sub.reconnects() >= 1);
            pumping.abort();
            drop(restart.await.unwrap());
        });
    }
}

fn tracking_invalidations<B: Backend>() {
    let Some(c) = config(Protocol::Resp3) else {
        return;
    };
    let p = prefix("tracking");
    B::block_on(async {
        let got: Arc<Mutex<Vec<Option<Vec<Bytes>>>>> = Arc::default();
        let conn = Connection::connect::<B>(&c).await.unwrap();
        let sink = got.clone();
        conn.enable_tracking(Arc::new(move |keys| sink.lock().unwrap().push(keys)))
            .await
            .unwrap();
        let k = format!("{p}cached");
        conn.set(&k, "v1").await.unwrap();
        let _: Option<String> = conn.get(&k).await.unwrap(); // now tracked
        let writer = Connection::connect::<B>(&c).await.unwrap();
        writer.set(&k, "v2").await.unwrap();
        // The invalidation is pushed on the tracking connection.
        for _ in 0..200 {
            if !got.lock().unwrap().is_empty() {
                break;
            }
            time::sleep(Duration::from_millis(5)).await;
        }
        let seen = got.lock().unwrap().clone();
        assert!(
            seen.iter().any(|keys| keys
                .as_ref()
                .is_some_and(|ks| ks.iter().any(|x| x == k.as_bytes()))),
            "{seen:?}"
        );
        // Replies still match requests with pushes interleaved.
        let v: String = conn.get(&k).await.unwrap();
        assert_eq!(v, "v2");

        // RESP2 connections refuse (no push channel).
        let c2 = c.clone().protocol(Protocol::Resp2);
        let conn2 = Connection::connect::<B>(&c2).await.unwrap();
        assert!(conn2.enable_tracking(Arc::new(|_| {})).await.is_err());
    });
}

/// A subscribe the caller gave up on after it was sent still counts: the
/// server made it, messages arrive, and after the connection is killed it
/// is made again like the confirmed ones. On a redis-server of the test's
/// own (the kill hits every subscriber).
fn abandoned_subscribe_is_remembered<B: Backend>() {
    if !installed() {
        return;
    }
    for proto in PROTOCOLS {
        let server = Server::start(free_port(), &[]).expect("spawn redis-server");
        let mut c: Config = format!("redis://{}", server.addr()).parse().unwrap();
        c = c.protocol(proto);
        c.pool = c
            .pool
            .clone()
            .backoff(Duration::from_millis(10), Duration::from_millis(100));
        B::block_on(async {
            let admin = Connection::connect::<B>(&c).await.unwrap();
            let mut sub = PubSub::<B>::connect(c.clone()).await.unwrap();
            sub.subscribe(&["confirmed"]).await.unwrap();
            // Polled once (the command goes out), then dropped.
            let gave_up = time::timeout(Duration::ZERO, sub.subscribe(&["abandoned"])).await;
            assert!(gave_up.is_err(), "the confirmation cannot be there yet");
            assert_eq!(admin.publish("abandoned", "m1").await.unwrap(), 1);
            assert_eq!(&sub.next_message().await.unwrap().payload[..], b"m1");

            let killed: i64 = admin
                .query_cmd(cmd("CLIENT").with("KILL").with("TYPE").with("pubsub"))
                .await
                .unwrap();
            assert_eq!(killed, 1);
            let publisher = admin.clone();
            let pumping = weft::rt::spawn(async move {
                for i in 0.. {
                    let _ = publisher.publish("abandoned", format!("after-{i}")).await;
                    time::sleep(Duration::from_millis(10)).await;
                }
            });
            let m = time::timeout(Duration::from_secs(10), sub.next_message())
                .await
                .expect("the abandoned subscription was made again")
                .unwrap();
            assert_eq!(&m.channel[..], b"abandoned");
            assert!(sub.reconnects() >= 1);
            pumping.abort();
        });
    }
}

/// `FLUSHALL` invalidates every key at once: the server pushes
/// `invalidate` with a null key list, and the callback gets `None`
/// ("drop the whole cache"). Through a pooled [`Client`] with
/// `on_invalidate`, on a redis-server of the test's own (a FLUSHALL on the
/// shared one would wipe the other tests' keys).
fn tracking_flush_invalidates_everything<B: Backend>() {
    if !installed() {
        return;
    }
    let server = Server::start(free_port(), &[]).expect("spawn redis-server");
    let c: Config = format!("redis://{}", server.addr()).parse().unwrap();
    let got: Arc<Mutex<Vec<Option<Vec<Bytes>>>>> = Arc::default();
    let sink = got.clone();
    let client = Client::<B>::with_backend(
        c.clone()
            .on_invalidate(move |keys| sink.lock().unwrap().push(keys)),
    );
    B::block_on(async {
        client.set("k", "v").await.unwrap();
        let _: String = client.get("k").await.unwrap(); // now tracked
        let admin = Connection::connect::<B>(&c).await.unwrap();
        admin.query_cmd::<()>(cmd("FLUSHALL")).await.unwrap();
        for _ in 0..200 {
            if got.lock().unwrap().contains(&None) {
                break;
            }
            time::sleep(Duration::from_millis(5)).await;
        }
        let seen = got.lock().unwrap().clone();
        assert!(seen.contains(&None), "{seen:?}");
        // The shared connection is still in step after the push.
        assert_eq!(client.get::<Option<String>>("k").await.unwrap(), None);
    });
}

#[test]
fn epoll_subscribe_and_receive() {
    subscribe_and_receive::<Epoll>();
}

#[test]
fn epoll_reconnects_after_client_kill() {
    reconnects_after_client_kill::<Epoll>();
}

#[test]
fn epoll_resubscribes_after_a_server_restart() {
    resubscribes_after_a_server_restart::<Epoll>();
}

#[test]
fn std_resubscribes_after_a_server_restart() {
    resubscribes_after_a_server_restart::<Std>();
}

#[test]
fn epoll_abandoned_subscribe_is_remembered() {
    abandoned_subscribe_is_remembered::<Epoll>();
}

#[test]
fn epoll_tracking_flush_invalidates_everything() {
    tracking_flush_invalidates_everything::<Epoll>();
}

#[test]
fn epoll_tracking_invalidations() {
    tracking_invalidations::<Epoll>();
}

#[test]
fn std_subscribe_and_receive() {
    subscribe_and_receive::<Std>();
}
