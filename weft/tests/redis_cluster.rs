//! [`ClusterClient`] against the real 6-node cluster of `cargo xtask
//! services up` (`WEFT_REDIS_CLUSTER_NODES`): routing over every primary,
//! split multi-key commands, pipelines and transactions, replica reads,
//! sharded pub/sub, then a live resharding under load and a primary killed
//! and replaced by its replica.
//!
//! The later phases change the shared topology, so one test drives every
//! phase in order, and leaves the cluster whole (the killed node is
//! restarted and rejoins as a replica).
#![cfg(all(feature = "epoll", feature = "std"))]

mod redis_support;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redis_support::{addr_list, eventually, prefix};
use weft::redis::{
    ClusterClient, ClusterConfig, Commands, Config, Connection, Error, Frame, Pipeline, ReadFrom,
    cmd, key_slot,
};
use weft::rt::{Backend, Epoll, spawn, time};

type Cluster = ClusterClient<Epoll>;

async fn raw(addr: &str) -> Connection {
    let config = Config::default().with_address(addr).unwrap();
    Connection::connect::<Epoll>(&config).await.unwrap()
}

async fn info_field(conn: &Connection, section: &str, field: &str) -> Option<String> {
    let info: String = conn.query(&cmd("INFO").with(section)).await.ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_owned())
}

/// Every node says `cluster_state:ok` and knows all six.
async fn cluster_ok(nodes: &[String]) -> bool {
    for n in nodes {
        let config = Config::default().with_address(n).unwrap();
        let Ok(conn) = Connection::connect::<Epoll>(&config).await else {
            return false;
        };
        let Ok(info) = conn.query::<String>(&cmd("CLUSTER").with("INFO")).await else {
            return false;
        };
        if !info.contains("cluster_state:ok")
            || !info.contains(&format!("cluster_known_nodes:{}", nodes.len()))
        {
            return false;
        }
    }
    true
}

/// A key with hash tag `{tag}` per slot wanted, found by trying tags.
fn tag_for_slot(slot: u16) -> String {
    (0u64..)
        .map(|i| format!("t{i}"))
        .find(|t| key_slot(t.as_bytes()) == slot)
        .unwrap()
}

/// Errors a command may meet while the topology moves; anything else (a
/// reply of the wrong shape, a protocol error) would mean a reply went to
/// the wrong request.
fn acceptable(e: &Error) -> bool {
    !matches!(e, Error::Type(_) | Error::Protocol(_))
}

#[test]
fn cluster_phases() {
    let Some(nodes) = addr_list("WEFT_REDIS_CLUSTER_NODES") else {
        return;
    };
    Epoll::block_on(async {
        assert!(
            eventually(30, || cluster_ok(&nodes)).await,
            "cluster not ok at start"
        );
        let cluster = Cluster::with_backend(ClusterConfig::new(nodes.clone()));
        routing(&cluster).await;
        two_workers(&cluster);
        multi_key(&cluster).await;
        pipelines_and_transactions(&cluster).await;
        replica_reads(&nodes).await;
        pubsub(&cluster).await;
        resharding_under_load(&cluster).await;
        failover(&cluster, &nodes).await;
        assert!(
            eventually(60, || cluster_ok(&nodes)).await,
            "cluster not ok at the end"
        );
    });
}

/// Keys land on every primary, each on the node the slot map names.
/// Commands that would leave state on a node's shared connection (every
/// caller of the worker uses it: after a lone `MULTI` their commands would
/// be queued into that transaction) are refused before anything is sent,
/// alone or in a pipeline; a transaction as one batch, and the client
/// itself, keep working. Runs beside `cluster_phases`, so the topology may
/// be moving.
#[test]
fn session_commands_are_refused() {
    let Some(nodes) = addr_list("WEFT_REDIS_CLUSTER_NODES") else {
        return;
    };
    Epoll::block_on(async {
        let cluster = Cluster::with_backend(ClusterConfig::new(nodes));
        let p = prefix("cluster-session");
        let k = format!("{{{p}}}k");
        for c in [
            cmd("MULTI"),
            cmd("WATCH").with(&k),
            cmd("AUTH").with("x"),
            cmd("HELLO").with(3),
            cmd("READONLY"),
            cmd("CLIENT").with("TRACKING").with("on"),
            cmd("RESET"),
        ] {
            let name = String::from_utf8_lossy(c.name().unwrap()).into_owned();
            let err = cluster.query_cmd::<Frame>(c).await.unwrap_err();
            assert!(matches!(err, Error::Unsupported(_)), "{name}: {err:?}");
        }
        let mut pipe = Pipeline::new();
        pipe.set(&k, 1).add(cmd("MULTI"));
        let err = pipe.run(&cluster).await.unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err:?}");
        let mut tx = Pipeline::new();
        tx.atomic().set(&k, 1).ignore().incr(&k);
        let (n,): (i64,) = tx.query(&cluster).await.unwrap();
        assert_eq!(n, 2);
        assert_eq!(cluster.get::<i64>(&k).await.unwrap(), 2);
    });
}

async fn routing(cluster: &Cluster) {
    let p = prefix("cluster-routing");
    for i in 0..300 {
        cluster.set(format!("{p}{i}"), i).await.unwrap();
    }
    let primaries = cluster.primary_clients().await.unwrap();
    assert_eq!(primaries.len(), 3, "three primaries");
    let mut per_node: HashMap<String, usize> = HashMap::new();
    for i in 0..300 {
        let key = format!("{p}{i}");
        let owner = cluster.primary_of(key_slot(key.as_bytes())).await.unwrap();
        // Asked directly (no redirects), the owner has it.
        let node = cluster.node_client(&owner, false).unwrap();
        assert_eq!(
            node.exists(&[&key]).await.unwrap(),
            1,
            "{key} not on {owner}"
        );
        *per_node.entry(owner).or_default() += 1;
        let v: i64 = cluster.get(&key).await.unwrap();
        assert_eq!(v, i);
    }
    assert_eq!(per_node.len(), 3, "keys on every primary: {per_node:?}");
    // A node that does not own a key redirects; the cluster client follows.
    let key = format!("{p}0");
    let owner = cluster.primary_of(key_slot(key.as_bytes())).await.unwrap();
    let (other, _) = primaries.iter().find(|(a, _)| *a != owner).unwrap();
    let wrong = cluster.node_client(other, false).unwrap();
    let e = wrong.get::<Option<i64>>(&key).await.unwrap_err();
    assert_eq!(e.server_code(), Some("MOVED"));
    // Keyless and fan-out commands.
    assert_eq!(cluster.ping().await.unwrap(), "PONG");
    assert!(cluster.dbsize().await.unwrap() >= 300);
    let e = cluster
        .query_cmd::<Frame>(cmd("SCAN").with(0))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e:?}");
}

/// One client used from two worker threads at once: each thread has its
/// own connection to a node (per-worker pools), and every reply is right.
fn two_workers(cluster: &Cluster) {
    let p = prefix("cluster-workers");
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let cluster = cluster.clone();
            let p = p.clone();
            std::thread::spawn(move || {
                Epoll::block_on(async move {
                    for i in 0..300 {
                        let key = format!("{p}{t}:{i}");
                        cluster.set(&key, i).await.unwrap();
                        assert_eq!(cluster.get::<i64>(&key).await.unwrap(), i);
                    }
                    // The same node from both threads.
                    let key = format!("{p}shared");
                    let owner = cluster.primary_of(key_slot(key.as_bytes())).await.unwrap();
                    let node = cluster.node_client(&owner, false).unwrap();
                    (owner, node.client_id().await.unwrap())
                })
            })
        })
        .collect();
    let ids: Vec<(String, i64)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(ids[0].0, ids[1].0);
    assert_ne!(ids[0].1, ids[1].1, "each worker has its own connection");
}

/// MGET/MSET/DEL/EXISTS split per slot; other cross-slot commands refused.
async fn multi_key(cluster: &Cluster) {
    let p = prefix("cluster-multi");
    let keys: Vec<String> = (0..50).map(|i| format!("{p}{i}")).collect();
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
    cluster.mset(&pairs).await.unwrap();
    let mut with_missing = keys.clone();
    with_missing.insert(7, format!("{p}missing"));
    let values: Vec<Option<String>> = cluster.mget(&with_missing).await.unwrap();
    assert_eq!(values.len(), 51);
    for (k, v) in with_missing.iter().zip(&values) {
        if k.ends_with("missing") {
            assert_eq!(v, &None);
        } else {
            assert_eq!(v.as_deref(), Some(format!("v-{k}").as_str()));
        }
    }
    assert_eq!(cluster.exists(&with_missing).await.unwrap(), 50);
    assert_eq!(cluster.del(&keys[..10]).await.unwrap(), 10);
    assert_eq!(cluster.exists(&keys).await.unwrap(), 40);
    // Across slots Redis cannot run these: a typed error, nothing sent.
    let e = cluster
        .sunion::<Vec<String>>(&[format!("{p}a"), format!("{p}b")])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::CrossSlot), "{e:?}");
    // Within one slot (a hash tag) they run.
    let (a, b) = (format!("{{{p}}}a"), format!("{{{p}}}b"));
    cluster.sadd(&a, &["x", "y"]).await.unwrap();
    cluster.sadd(&b, &["y", "z"]).await.unwrap();
    let mut u: Vec<String> = cluster.sunion(&[&a, &b]).await.unwrap();
    u.sort();
    assert_eq!(u, ["x", "y", "z"]);
}

async fn pipelines_and_transactions(cluster: &Cluster) {
    let p = prefix("cluster-pipe");
    let mut pipe = Pipeline::new();
    for i in 0..500 {
        pipe.set(format!("{p}{i}"), i).ignore();
        pipe.incr(format!("{p}{i}"));
    }
    let replies: Vec<i64> = pipe.query(cluster).await.unwrap();
    assert_eq!(replies, (1..=500).collect::<Vec<i64>>());
    // Per-command errors stay in their place.
    let mut pipe = Pipeline::new();
    pipe.get(format!("{p}1"))
        .hset(format!("{p}2"), "f", "v")
        .get(format!("{p}3"));
    let replies = pipe.run(cluster).await.unwrap();
    assert_eq!(replies[0].as_ref().unwrap().as_bytes(), Some(&b"2"[..]));
    assert_eq!(
        replies[1].as_ref().unwrap_err().server_code(),
        Some("WRONGTYPE")
    );
    assert_eq!(replies[2].as_ref().unwrap().as_bytes(), Some(&b"4"[..]));

    // A command with no meaning on a cluster refuses the whole pipeline
    // before anything is sent.
    let mut pipe = Pipeline::new();
    pipe.set(format!("{p}refused"), 1).add(cmd("SCAN").with(0));
    let e = pipe.run(cluster).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e:?}");
    assert_eq!(cluster.exists(&[format!("{p}refused")]).await.unwrap(), 0);

    // A transaction within one slot.
    let (a, b) = (format!("{{{p}tx}}a"), format!("{{{p}tx}}b"));
    let mut tx = Pipeline::new();
    tx.atomic()
        .set(&a, 1)
        .ignore()
        .incr_by(&a, 5)
        .set(&b, "x")
        .ignore();
    let (n,): (i64,) = tx.query(cluster).await.unwrap();
    assert_eq!(n, 6);
    // Across slots: refused as a whole.
    let mut tx = Pipeline::new();
    tx.atomic().set(format!("{p}x"), 1).set(format!("{p}y"), 2);
    let e = tx.run(cluster).await.unwrap_err();
    assert!(matches!(e, Error::CrossSlot), "{e:?}");
    // WATCH on the slot's primary; a change in between aborts.
    let conn = cluster.acquire(a.as_bytes()).await.unwrap();
    conn.query_cmd::<()>(cmd("WATCH").with(&a)).await.unwrap();
    cluster.set(&a, 100).await.unwrap();
    let mut tx = Pipeline::new();
    tx.atomic().set(&a, 7);
    assert!(matches!(
        tx.run(&*conn).await,
        Err(Error::TransactionAborted)
    ));
    assert_eq!(cluster.get::<i64>(&a).await.unwrap(), 100);
}

/// `READONLY` connections let replicas serve reads; without it a replica
/// redirects to its primary.
async fn replica_reads(nodes: &[String]) {
    let p = prefix("cluster-replica");
    let cluster = Cluster::with_backend(
        ClusterConfig::new(nodes.to_vec()).read_from(ReadFrom::PreferReplica),
    );
    let key = format!("{p}k");
    cluster.set(&key, "v1").await.unwrap();
    let (_, replicas) = cluster.shard_of(key_slot(key.as_bytes())).await.unwrap();
    assert!(!replicas.is_empty(), "the slot has a replica");
    // Replication is asynchronous: wait until the replica has it.
    let reader = cluster.node_client(&replicas[0], true).unwrap();
    assert!(
        eventually(10, || async {
            reader.get::<Option<String>>(&key).await.unwrap().as_deref() == Some("v1")
        })
        .await
    );
    let plain = cluster.node_client(&replicas[0], false).unwrap();
    let e = plain.get::<Option<String>>(&key).await.unwrap_err();
    assert_eq!(e.server_code(), Some("MOVED"));
    // Through the cluster client: reads (from a replica) see it, writes
    // still go to the primary.
    assert_eq!(cluster.get::<String>(&key).await.unwrap(), "v1");
    cluster.set(&key, "v2").await.unwrap();
    assert!(
        eventually(10, || async {
            cluster.get::<String>(&key).await.unwrap() == "v2"
        })
        .await
    );
    // Round robin over the primary and its replica: every read is right
    // once the replica caught up.
    let rr =
        Cluster::with_backend(ClusterConfig::new(nodes.to_vec()).read_from(ReadFrom::RoundRobin));
    assert!(
        eventually(10, || async {
            reader.get::<Option<String>>(&key).await.unwrap().as_deref() == Some("v2")
        })
        .await
    );
    for _ in 0..20 {
        assert_eq!(rr.get::<String>(&key).await.unwrap(), "v2");
    }

    // The replica goes away: reads fall back to the primary.
    let replica_conn = raw(&replicas[0]).await;
    let config_file = info_field(&replica_conn, "server", "config_file")
        .await
        .expect("config_file in INFO server");
    let _ = replica_conn
        .query::<()>(&cmd("SHUTDOWN").with("NOSAVE"))
        .await;
    assert!(
        eventually(10, || async {
            let config = Config::default().with_address(&replicas[0]).unwrap();
            Connection::connect::<Epoll>(&config).await.is_err()
        })
        .await,
        "replica stopped"
    );
    // The first read may still meet the old connection's end.
    let first = cluster.get::<String>(&key).await;
    if let Err(e) = &first {
        assert!(acceptable(e), "{e:?}");
    }
    for _ in 0..20 {
        assert_eq!(cluster.get::<String>(&key).await.unwrap(), "v2");
    }
    let status = std::process::Command::new("redis-server")
        .arg(&config_file)
        .status()
        .expect("run redis-server");
    assert!(status.success());
    // It daemonized: listening a moment later.
    assert!(
        eventually(60, || cluster_ok(nodes)).await,
        "cluster whole again"
    );
    let back = raw(&replicas[0]).await;
    assert!(
        eventually(30, || async {
            info_field(&back, "replication", "master_link_status")
                .await
                .as_deref()
                == Some("up")
        })
        .await,
        "restarted replica replicates"
    );
}

/// Classic and sharded channels, the latter on several primaries.
async fn pubsub(cluster: &Cluster) {
    let p = prefix("cluster-pubsub");
    let mut sub = cluster.pubsub().await.unwrap();
    // Shard channels on at least two different primaries.
    let mut shard_channels = Vec::new();
    let mut owners = HashSet::new();
    for i in 0.. {
        let ch = format!("{p}s{i}");
        let owner = cluster.primary_of(key_slot(ch.as_bytes())).await.unwrap();
        if owners.insert(owner) {
            shard_channels.push(ch);
        }
        if owners.len() == 3 {
            break;
        }
    }
    sub.ssubscribe(&shard_channels).await.unwrap();
    let global = format!("{p}g");
    sub.subscribe(&[&global]).await.unwrap();
    for ch in &shard_channels {
        assert_eq!(cluster.spublish(ch, "hi").await.unwrap(), 1, "{ch}");
    }
    cluster.publish(&global, "all").await.unwrap();
    let mut got = HashSet::new();
    for _ in 0..shard_channels.len() + 1 {
        let m = sub.next_message().await.unwrap();
        got.insert((m.channel.clone(), m.payload.clone()));
    }
    for ch in &shard_channels {
        assert!(got.contains(&(Bytes::from(ch.clone()), Bytes::from("hi"))));
    }
    assert!(got.contains(&(Bytes::from(global.clone()), Bytes::from("all"))));
}

/// Moves three slots from one primary to another with `CLUSTER SETSLOT
/// IMPORTING/MIGRATING`, `MIGRATE` and `SETSLOT NODE` while a task writes
/// and reads keys in those slots: every command succeeds or fails with a
/// typed error, reads return what was last written, and afterwards every
/// acknowledged write reads back from the new owner.
async fn resharding_under_load(cluster: &Cluster) {
    let p = prefix("cluster-reshard");
    let primaries: Vec<String> = cluster
        .primary_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    let source = primaries[0].clone();
    let target = primaries[1].clone();
    // Three slots served by `source`.
    let mut slots = Vec::new();
    for i in 0u64.. {
        let slot = key_slot(format!("{p}{i}").as_bytes());
        if !slots.contains(&slot) && cluster.primary_of(slot).await.unwrap() == source {
            slots.push(slot);
        }
        if slots.len() == 3 {
            break;
        }
    }
    let tags: Vec<String> = slots.iter().map(|&s| tag_for_slot(s)).collect();
    let src = raw(&source).await;
    let dst = raw(&target).await;
    let src_id: String = src.query(&cmd("CLUSTER").with("MYID")).await.unwrap();
    let dst_id: String = dst.query(&cmd("CLUSTER").with("MYID")).await.unwrap();
    let (dst_host, dst_port) = target.rsplit_once(':').unwrap();

    // Seed the slots with keys so MIGRATE has work to do.
    for t in &tags {
        for i in 0..100 {
            cluster
                .set(format!("{{{t}}}:{p}{i}"), "seed")
                .await
                .unwrap();
        }
    }

    let stop = Rc::new(RefCell::new(false));
    let hammer = {
        let cluster = cluster.clone();
        let tags = tags.clone();
        let stop = stop.clone();
        let p = p.clone();
        spawn(async move {
            let mut written: HashMap<String, String> = HashMap::new();
            let mut ok = 0u64;
            let mut errors = Vec::new();
            let mut n = 0u64;
            while !*stop.borrow() {
                n += 1;
                let key = format!("{{{}}}:{p}{}", tags[(n % 3) as usize], n % 100);
                let value = format!("v{n}");
                match cluster.set(&key, &value).await {
                    Ok(()) => {
                        ok += 1;
                        written.insert(key.clone(), value.clone());
                        match cluster.get::<String>(&key).await {
                            Ok(v) => assert_eq!(v, value, "read of {key} after its write"),
                            Err(e) => errors.push(e),
                        }
                    }
                    Err(e) => {
                        // Unknown whether it ran: either value may be there.
                        written.remove(&key);
                        errors.push(e);
                    }
                }
            }
            (written, ok, errors)
        })
    };

    // Multi-key reads within each slot, alongside: `TRYAGAIN` while a
    // slot's keys are split between the two nodes, retried with backoff.
    let reader = {
        let cluster = cluster.clone();
        let tags = tags.clone();
        let stop = stop.clone();
        let p = p.clone();
        spawn(async move {
            let mut ok = 0u64;
            let mut errors = Vec::new();
            let mut n = 0u64;
            while !*stop.borrow() {
                n += 1;
                let t = &tags[(n % 3) as usize];
                let keys = [
                    format!("{{{t}}}:{p}{}", n % 100),
                    format!("{{{t}}}:{p}none"),
                ];
                match cluster.mget::<Vec<Option<String>>>(&keys).await {
                    Ok(v) => {
                        assert_eq!(v.len(), 2);
                        assert!(v[0].is_some() && v[1].is_none(), "{v:?}");
                        ok += 1;
                    }
                    Err(e) => errors.push(e),
                }
            }
            (ok, errors)
        })
    };

    for &slot in &slots {
        dst.query::<()>(
            &cmd("CLUSTER")
                .with("SETSLOT")
                .with(slot)
                .with("IMPORTING")
                .with(&src_id),
        )
        .await
        .unwrap();
        src.query::<()>(
            &cmd("CLUSTER")
                .with("SETSLOT")
                .with(slot)
                .with("MIGRATING")
                .with(&dst_id),
        )
        .await
        .unwrap();
        loop {
            let keys: Vec<Bytes> = src
                .query(&cmd("CLUSTER").with("GETKEYSINSLOT").with(slot).with(10))
                .await
                .unwrap();
            if keys.is_empty() {
                break;
            }
            let mut migrate = cmd("MIGRATE")
                .with(dst_host)
                .with(dst_port)
                .with("")
                .with(0)
                .with(5000)
                .with("KEYS");
            for k in &keys {
                migrate.arg(k);
            }
            let reply: String = src.query(&migrate).await.unwrap();
            assert!(reply == "OK" || reply == "NOKEY", "{reply}");
            // Let the hammer run against the half-moved slot.
            time::sleep(Duration::from_millis(5)).await;
        }
        // Assign the slot: target first, then source, then the others
        // (cluster tutorial, "Live resharding").
        let assign = cmd("CLUSTER")
            .with("SETSLOT")
            .with(slot)
            .with("NODE")
            .with(&dst_id);
        dst.query::<()>(&assign).await.unwrap();
        src.query::<()>(&assign).await.unwrap();
        for other in &primaries[2..] {
            raw(other).await.query::<()>(&assign).await.unwrap();
        }
    }
    time::sleep(Duration::from_millis(200)).await;
    *stop.borrow_mut() = true;
    let (written, ok, mut errors) = hammer.await.unwrap();
    assert!(ok > 0, "the hammer made progress");
    let (reads, read_errors) = reader.await.unwrap();
    assert!(reads > 0, "the multi-key reader made progress");
    errors.extend(read_errors);
    let (moved, asked) = cluster.redirects();
    // The hammer met the slots half-moved (ASK) and moved (MOVED).
    assert!(
        asked > 0 && moved > 0,
        "redirects: {moved} MOVED, {asked} ASK"
    );
    for e in &errors {
        assert!(acceptable(e), "untyped failure during resharding: {e:?}");
    }
    eprintln!(
        "resharding: {ok} writes acknowledged, {} errors, {} keys checked, \
         {moved} MOVED and {asked} ASK followed",
        errors.len(),
        written.len()
    );
    for (key, value) in &written {
        let v: String = cluster.get(key).await.unwrap();
        assert_eq!(&v, value, "{key} after the resharding");
    }
    for &slot in &slots {
        assert!(
            eventually(10, || async {
                cluster.refresh().await.is_ok() && cluster.primary_of(slot).await.unwrap() == target
            })
            .await,
            "slot {slot} moved to {target}"
        );
    }
}

/// Kills a primary (`SHUTDOWN NOSAVE`); its replica takes over and the
/// client recovers, sharded subscriptions included; then restarts the
/// killed node, which rejoins as a replica.
async fn failover(cluster: &Cluster, nodes: &[String]) {
    let p = prefix("cluster-failover");
    let key = format!("{p}k");
    let slot = key_slot(key.as_bytes());
    let (victim, replicas) = cluster.shard_of(slot).await.unwrap();
    assert_eq!(replicas.len(), 1);
    cluster.set(&key, "before").await.unwrap();
    // Wait until the replica has it (asynchronous replication).
    let reader = cluster.node_client(&replicas[0], true).unwrap();
    assert!(
        eventually(10, || async {
            reader
                .get::<Option<String>>(&key)
                .await
                .ok()
                .flatten()
                .as_deref()
                == Some("before")
        })
        .await
    );
    let channel = format!("{{{}}}:{p}ch", tag_for_slot(slot));
    let mut sub = cluster.pubsub().await.unwrap();
    sub.ssubscribe(&[&channel]).await.unwrap();
    // A classic subscription that lives on the node about to be killed
    // (nodes are taken in turn, so one of a few subscribers lands there).
    let global = format!("{p}global");
    let mut global_sub = None;
    for _ in 0..10 {
        let mut s = cluster.pubsub().await.unwrap();
        s.subscribe(&[&global]).await.unwrap();
        if s.global_node() == Some(victim.as_str()) {
            global_sub = Some(s);
            break;
        }
    }
    let mut global_sub = global_sub.expect("a subscriber on the victim");

    let victim_conn = raw(&victim).await;
    let config_file = info_field(&victim_conn, "server", "config_file")
        .await
        .expect("config_file in INFO server");
    let _ = victim_conn
        .query::<()>(&cmd("SHUTDOWN").with("NOSAVE"))
        .await;
    let killed = Instant::now();

    // Commands fail with typed errors until the replica is promoted, then
    // succeed.
    let mut errors = 0;
    loop {
        match cluster.set(&key, "after").await {
            Ok(()) => break,
            Err(e) => {
                assert!(acceptable(&e), "{e:?}");
                errors += 1;
                assert!(
                    killed.elapsed() < Duration::from_secs(60),
                    "no recovery: {e}"
                );
                time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    eprintln!(
        "failover: writes resumed {:?} after the kill ({errors} failed attempts)",
        killed.elapsed()
    );
    assert_eq!(cluster.get::<String>(&key).await.unwrap(), "after");
    cluster.refresh().await.unwrap();
    assert_eq!(cluster.primary_of(slot).await.unwrap(), replicas[0]);

    // The sharded subscription follows the slot to the new primary.
    let mut delivered = false;
    for _ in 0..100 {
        let _ = cluster.spublish(&channel, "moved").await;
        if let Ok(Ok(m)) = time::timeout(Duration::from_millis(300), sub.next_message()).await {
            assert_eq!(&m.payload[..], b"moved");
            delivered = true;
            break;
        }
    }
    assert!(delivered, "no sharded message after the failover");
    assert!(sub.resubscriptions() > 0);
    // The classic subscription moved to a live node too.
    let mut delivered = false;
    for _ in 0..100 {
        let _ = cluster.publish(&global, "still here").await;
        if let Ok(Ok(m)) =
            time::timeout(Duration::from_millis(300), global_sub.next_message()).await
        {
            assert_eq!(&m.payload[..], b"still here");
            delivered = true;
            break;
        }
    }
    assert!(delivered, "no classic message after the failover");
    assert_ne!(global_sub.global_node(), Some(victim.as_str()));

    // Restart the killed node; it rejoins as a replica.
    let status = std::process::Command::new("redis-server")
        .arg(&config_file)
        .status()
        .expect("run redis-server");
    assert!(status.success());
    assert!(
        eventually(60, || cluster_ok(nodes)).await,
        "cluster whole again"
    );
    let back = raw(&victim).await;
    assert!(
        eventually(30, || async {
            info_field(&back, "replication", "master_link_status")
                .await
                .as_deref()
                == Some("up")
        })
        .await,
        "restarted node replicates"
    );
}
