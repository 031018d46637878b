//! Pub/sub (with reconnect after `CLIENT KILL TYPE pubsub`) and
//! client-side caching invalidations, against a real redis-server.
#![cfg(all(feature = "epoll", feature = "std"))]

mod redis_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use redis_support::{PROTOCOLS, config, prefix};
use weft::redis::{Commands, Connection, MessageKind, Protocol, PubSub, cmd};
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

/// The subscriber's connection is killed by the server; it reconnects,
/// re-subscribes, and messages flow again.
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
            let ch = format!("{p}ch");
            sub.subscribe(&[&ch]).await.unwrap();
            admin.publish(&ch, "before").await.unwrap();
            assert_eq!(&sub.next_message().await.unwrap().payload[..], b"before");

            let killed: i64 = admin
                .query_cmd(cmd("CLIENT").with("KILL").with("TYPE").with("pubsub"))
                .await
                .unwrap();
            assert!(killed >= 1);

            // Publish until the re-subscribed connection receives; the
            // publisher runs beside the subscriber on this worker.
            let publisher = admin.clone();
            let ch2 = ch.clone();
            let pumping = weft::rt::spawn(async move {
                for i in 0..500 {
                    publisher.publish(&ch2, format!("after-{i}")).await.unwrap();
                    time::sleep(Duration::from_millis(10)).await;
                }
            });
            let m = time::timeout(Duration::from_secs(5), sub.next_message())
                .await
                .expect("messages flow again after reconnect")
                .unwrap();
            assert!(m.payload.starts_with(b"after-"), "{m:?}");
            assert!(sub.reconnects() >= 1);
            pumping.abort();
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

#[test]
fn epoll_subscribe_and_receive() {
    subscribe_and_receive::<Epoll>();
}

#[test]
fn epoll_reconnects_after_client_kill() {
    reconnects_after_client_kill::<Epoll>();
}

#[test]
fn epoll_tracking_invalidations() {
    tracking_invalidations::<Epoll>();
}

#[test]
fn std_subscribe_and_receive() {
    subscribe_and_receive::<Std>();
}
