//! [`SentinelClient`] against the real Sentinel set-up of `cargo xtask
//! services up` (`WEFT_REDIS_SENTINELS`, `WEFT_REDIS_SENTINEL_MASTER`):
//! discovery verified with `ROLE`, replica reads, typed errors when no
//! sentinel answers, and `SENTINEL FAILOVER` under writes.
//!
//! The failover changes the shared set-up, so one test drives the phases
//! in order and waits for the set-up to be whole again at the end.
#![cfg(all(feature = "epoll", feature = "std"))]

mod redis_support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use redis_support::{addr, addr_list, eventually, prefix};
use weft::redis::{
    Commands, Config, Connection, Error, Frame, Pipeline, SentinelClient, SentinelConfig, cmd,
};
use weft::rt::{Backend, Epoll, time};

type Sentinel = SentinelClient<Epoll>;

async fn connect(addr: &str) -> Option<Connection> {
    let config = Config::default().with_address(addr).ok()?;
    Connection::connect::<Epoll>(&config).await.ok()
}

async fn role(addr: &str) -> Option<String> {
    let conn = connect(addr).await?;
    let role: Vec<weft::redis::Frame> = conn.query(&cmd("ROLE")).await.ok()?;
    Some(String::from_utf8_lossy(role.first()?.as_bytes()?).into_owned())
}

/// The primary has both replicas online, and every sentinel names it.
async fn settled(sentinels: &[String], master: &str) -> bool {
    let mut primary = None;
    for s in sentinels {
        let Some(conn) = connect(s).await else {
            return false;
        };
        let Ok(a) = conn
            .query::<Vec<String>>(&cmd("SENTINEL").with("GET-MASTER-ADDR-BY-NAME").with(master))
            .await
        else {
            return false;
        };
        let a = a.join(":");
        if primary.get_or_insert(a.clone()) != &a {
            return false;
        }
    }
    let Some(primary) = primary else { return false };
    let Some(conn) = connect(&primary).await else {
        return false;
    };
    let Ok(info) = conn.query::<String>(&cmd("INFO").with("replication")).await else {
        return false;
    };
    info.contains("role:master")
        && info.contains("connected_slaves:2")
        && info.matches("state=online").count() == 2
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn sentinel_phases() {
    let Some(sentinels) = addr_list("WEFT_REDIS_SENTINELS") else {
        return;
    };
    let master = addr("WEFT_REDIS_SENTINEL_MASTER").unwrap_or_else(|| "weftmaster".into());
    Epoll::block_on(async {
        assert!(
            eventually(60, || settled(&sentinels, &master)).await,
            "sentinel set-up not settled at start"
        );
        let client = Sentinel::with_backend(SentinelConfig::new(sentinels.clone(), &master));
        discovery(&client).await;
        no_sentinel(&master).await;
        failover(&client, &sentinels, &master).await;
        assert!(
            eventually(60, || settled(&sentinels, &master)).await,
            "sentinel set-up not settled at the end"
        );
    });
}

/// Commands that would leave state on the primary's shared connection are
/// refused before anything is sent; the client keeps working. Runs beside
/// `sentinel_phases`, so a failover may be under way: the final check
/// waits for it.
#[test]
fn session_commands_are_refused() {
    let Some(sentinels) = addr_list("WEFT_REDIS_SENTINELS") else {
        return;
    };
    let master = addr("WEFT_REDIS_SENTINEL_MASTER").unwrap_or_else(|| "weftmaster".into());
    Epoll::block_on(async {
        let client = Sentinel::with_backend(SentinelConfig::new(sentinels, &master));
        for c in [
            cmd("MULTI"),
            cmd("WATCH").with("k"),
            cmd("SELECT").with(1),
            cmd("SUBSCRIBE").with("ch"),
            cmd("CLIENT").with("TRACKING").with("on"),
        ] {
            let name = String::from_utf8_lossy(c.name().unwrap()).into_owned();
            let err = client.query_cmd::<Frame>(c).await.unwrap_err();
            assert!(matches!(err, Error::Unsupported(_)), "{name}: {err:?}");
        }
        let c = &client;
        assert!(eventually(60, || async move { c.ping().await.is_ok() }).await);
    });
}

async fn discovery(client: &Sentinel) {
    let p = prefix("sentinel");
    let primary = client.primary_addr().await.unwrap();
    assert_eq!(role(&primary).await.as_deref(), Some("master"));
    client.set(format!("{p}k"), "v").await.unwrap();
    assert_eq!(client.get::<String>(format!("{p}k")).await.unwrap(), "v");
    let mut pipe = Pipeline::new();
    pipe.incr(format!("{p}n")).incr(format!("{p}n"));
    let (a, b): (i64, i64) = pipe.query(client).await.unwrap();
    assert_eq!((a, b), (1, 2));
    // Replicas serve reads (eventually: replication is asynchronous).
    let replicas = client.replica_addrs().await.unwrap();
    assert_eq!(replicas.len(), 2, "{replicas:?}");
    for r in &replicas {
        assert_eq!(role(r).await.as_deref(), Some("slave"));
    }
    let replica = client.replica().await.unwrap();
    assert!(
        eventually(10, || async {
            replica
                .get::<Option<String>>(format!("{p}k"))
                .await
                .ok()
                .flatten()
                .as_deref()
                == Some("v")
        })
        .await
    );
}

/// No sentinel listening, or none knowing the name: a typed error.
async fn no_sentinel(master: &str) {
    let nobody = SentinelConfig::new([format!("127.0.0.1:{}", free_port())], master);
    let client = Sentinel::with_backend(nobody);
    let e = client.get::<Option<String>>("k").await.unwrap_err();
    assert!(matches!(e, Error::NoSentinel(_)), "{e:?}");
    let sentinels = addr_list("WEFT_REDIS_SENTINELS").unwrap();
    let unknown = Sentinel::with_backend(SentinelConfig::new(sentinels, "no-such-master"));
    let e = unknown.discover().await.unwrap_err();
    assert!(matches!(e, Error::NoSentinel(_)), "{e:?}");
}

/// `SENTINEL FAILOVER`: the client learns the new primary from the
/// `+switch-master` announcement alone (no command fails first), writes
/// resume there, and every acknowledged write reads back.
async fn failover(client: &Sentinel, sentinels: &[String], master: &str) {
    let p = prefix("sentinel-failover");
    // Also starts the `+switch-master` watcher.
    let before = client.primary_addr().await.unwrap();
    client.set(format!("{p}before"), 1).await.unwrap();
    let s = connect(&sentinels[0]).await.unwrap();
    // A failover may be refused while an earlier one settles (INPROG) or
    // before replicas are ready (NOGOODSLAVE): ask again.
    assert!(
        eventually(60, || async {
            s.query::<()>(&cmd("SENTINEL").with("FAILOVER").with(master))
                .await
                .is_ok()
        })
        .await,
        "SENTINEL FAILOVER accepted"
    );
    let started = Instant::now();
    // No command is sent meanwhile: only the announcement can move it.
    assert!(
        eventually(60, || async {
            client.primary_addr().await.unwrap() != before
        })
        .await,
        "the client never heard +switch-master"
    );
    eprintln!(
        "sentinel failover: switched to {} {:?} after the request",
        client.primary_addr().await.unwrap(),
        started.elapsed()
    );
    assert!(client.switches() > 0);
    let mut acked = Vec::new();
    let mut errors = 0;
    for n in 0..200u64 {
        let key = format!("{p}{n}");
        match client.set(&key, n).await {
            Ok(()) => acked.push((key, n)),
            Err(e) => {
                // While the new primary finishes its promotion.
                assert!(!matches!(e, Error::Type(_) | Error::Protocol(_)), "{e:?}");
                errors += 1;
                time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    assert!(acked.len() > 100, "writes resumed ({errors} failed)");
    let after = client.primary_addr().await.unwrap();
    assert_ne!(after, before);
    assert_eq!(role(&after).await.as_deref(), Some("master"));
    for (key, n) in &acked {
        assert_eq!(client.get::<u64>(key).await.unwrap(), *n);
    }
    // Written before the failover, replicated, still there.
    assert_eq!(client.get::<u64>(format!("{p}before")).await.unwrap(), 1);
}
