//! The multi-server memcached [`Client`] against real servers: keys spread
//! over the three shared instances by the ketama ring (and really stored
//! where the ring says), multi-gets split per server and merged, weights,
//! one pipelined connection per worker and server, and failover with a
//! private memcached killed and restarted under load.
#![cfg(all(feature = "epoll", feature = "std"))]

mod memcache_support;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use memcache_support::{OwnMemcached, PROTOCOLS, addrs, config, prefix};
use weft::memcache::{Client, Config, Connection, Error, Failover, Protocol, Server, StoreOptions};
use weft::rt::{Backend, Epoll, Std, spawn, time};

fn opts() -> StoreOptions {
    StoreOptions::default()
}

fn keys_spread_over_all_servers<B: Backend>(p: Protocol) {
    let Some(cfg) = config(p) else { return };
    let client = Client::<B>::with_backend(cfg.clone()).unwrap();
    let n = client.servers().len();
    let pre = prefix(&format!("spread-{p:?}-{}", B::NAME));
    let keys: Vec<String> = (0..300).map(|i| format!("{pre}{i}")).collect();
    let mut per_server = vec![Vec::new(); n];
    for k in &keys {
        per_server[client.server_index(k)].push(k.clone());
    }
    if n >= 3 {
        for (i, ks) in per_server.iter().enumerate() {
            assert!(
                ks.len() >= 300 / n / 2,
                "server {i} got {} of 300 keys",
                ks.len()
            );
        }
    }
    B::block_on(async {
        for k in &keys {
            client.set(k, format!("v:{k}"), opts()).await.unwrap();
        }
        // Each key is on the server the ring names, and only there.
        for (i, server) in client.servers().iter().enumerate() {
            let direct = Connection::connect::<B>(server.socket_addr().unwrap(), &cfg)
                .await
                .unwrap();
            let hits = direct.get_multi(&keys).await.unwrap();
            let mut found: Vec<String> = hits
                .iter()
                .map(|h| String::from_utf8(h.key.to_vec()).unwrap())
                .collect();
            found.sort();
            let mut want = per_server[i].clone();
            want.sort();
            assert_eq!(found, want, "keys stored on {}", server.name());
        }
        // A multi-get over every server, with misses.
        let mut ask = keys.clone();
        ask.extend((0..10).map(|i| format!("{pre}missing{i}")));
        let got = client.get_multi(&ask).await.unwrap();
        assert_eq!(got.len(), 300);
        for k in &keys {
            let item = &got[k.as_bytes()];
            assert_eq!(item.value, format!("v:{k}").as_bytes());
        }
        let with_cas = client.gets_multi(&keys[..20]).await.unwrap();
        assert!(with_cas.values().all(|i| i.cas.is_some()) && with_cas.len() == 20);

        // Single-key commands route the same way.
        let k = &keys[7];
        assert!(client.add(k, "x", opts()).await.is_ok_and(|stored| !stored));
        assert!(client.append(k, "+").await.unwrap());
        assert!(client.prepend(k, "-").await.unwrap());
        let it = client.gets(k).await.unwrap().unwrap();
        assert_eq!(it.value, format!("-v:{k}+").as_bytes());
        assert_eq!(
            client.cas(k, "c", it.cas.unwrap(), opts()).await.unwrap(),
            weft::memcache::CasOutcome::Stored
        );
        assert_eq!(
            client.cas(k, "d", it.cas.unwrap(), opts()).await.unwrap(),
            weft::memcache::CasOutcome::Exists
        );
        assert!(client.replace(k, "r", opts()).await.unwrap());
        assert!(client.touch(k, 300).await.unwrap());
        assert_eq!(&client.gat(k, 300).await.unwrap().unwrap().value[..], b"r");
        assert!(client.gats(k, 300).await.unwrap().unwrap().cas.is_some());
        client.set(format!("{pre}n"), "1", opts()).await.unwrap();
        assert_eq!(client.incr(format!("{pre}n"), 2).await.unwrap(), Some(3));
        assert_eq!(client.decr(format!("{pre}n"), 1).await.unwrap(), Some(2));
        assert!(client.delete(k).await.unwrap());
        assert!(!client.delete(k).await.unwrap());
        for (name, v) in client.versions().await {
            assert!(v.is_ok(), "{name}: {v:?}");
        }
        for (name, s) in client.stats(None).await {
            assert!(s.unwrap().contains_key("pid"), "{name}");
        }
        // Typed errors before anything is sent.
        assert!(matches!(
            client.get("bad key").await,
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            client.get_multi(&[keys[0].as_str(), "bad key"]).await,
            Err(Error::InvalidKey(_))
        ));
        assert!(matches!(
            client.set(&keys[0], vec![0u8; 2 << 20], opts()).await,
            Err(Error::ValueTooLarge { .. })
        ));
    });
}

#[test]
fn epoll_keys_spread_text() {
    keys_spread_over_all_servers::<Epoll>(Protocol::Text);
}

#[test]
fn epoll_keys_spread_meta() {
    keys_spread_over_all_servers::<Epoll>(Protocol::Meta);
}

#[test]
fn epoll_keys_spread_binary() {
    keys_spread_over_all_servers::<Epoll>(Protocol::Binary);
}

#[test]
fn std_keys_spread_meta() {
    keys_spread_over_all_servers::<Std>(Protocol::Meta);
}

#[test]
fn meta_commands_route_by_key() {
    use weft::memcache::meta::{Command, Flag, Reply};
    let Some(cfg) = config(Protocol::Meta) else {
        return;
    };
    let client = Client::<Epoll>::with_backend(cfg).unwrap();
    let pre = prefix("client-meta");
    Epoll::block_on(async {
        for i in 0..30 {
            let key = format!("{pre}{i}");
            let set = Command::Set {
                key: key.as_bytes(),
                value: b"m",
                flags: &[Flag::ClientFlags(5)],
            };
            assert!(matches!(client.meta(&set).await.unwrap(), Reply::Hd(_)));
            // The typed API finds it where the meta command put it.
            let it = client.get(&key).await.unwrap().expect("same server");
            assert_eq!(it.flags, 5);
        }
        assert!(matches!(
            client.meta(&Command::NoOp).await.unwrap(),
            Reply::NoOp
        ));
    });
}

/// Many tasks of one worker share one connection per server.
#[test]
fn one_pipelined_connection_per_worker_and_server() {
    let Some(cfg) = config(Protocol::Meta) else {
        return;
    };
    let client = Client::<Epoll>::with_backend(cfg).unwrap();
    let pre = Rc::new(prefix("shared-conn"));
    Epoll::block_on(async {
        let mut tasks = Vec::new();
        for t in 0..100 {
            let client = client.clone();
            let pre = pre.clone();
            tasks.push(spawn(async move {
                for i in 0..10 {
                    let k = format!("{pre}{t}");
                    client.set(&k, format!("{i}"), opts()).await.unwrap();
                    let v = client.get(&k).await.unwrap().unwrap();
                    assert_eq!(v.value, format!("{i}").as_bytes());
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        for i in 0..client.servers().len() {
            let st = client.pool_state(i);
            assert_eq!((st.open, st.idle), (1, 0), "server {i}: {st:?}");
        }
    });
    // Another worker (thread) gets connections of its own.
    let c2 = client.clone();
    std::thread::spawn(move || {
        Epoll::block_on(async {
            assert_eq!(c2.pool_state(0).open, 0);
            c2.get("anything").await.unwrap();
            let idx = c2.server_index("anything");
            assert_eq!(c2.pool_state(idx).open, 1);
        })
    })
    .join()
    .unwrap();
}

#[test]
fn weights_shift_keys() {
    let Some(addrs) = addrs() else { return };
    if addrs.len() < 3 {
        return;
    }
    let cfg = Config::default()
        .server(Server::new(&addrs[0]).unwrap().weight(4))
        .server(Server::new(&addrs[1]).unwrap())
        .server(Server::new(&addrs[2]).unwrap());
    let client = Client::new(cfg).unwrap();
    let mut counts = [0usize; 3];
    for i in 0..3000 {
        counts[client.server_index(format!("w{i}"))] += 1;
    }
    assert!(
        counts[0] > counts[1] * 2 && counts[0] > counts[2] * 2,
        "{counts:?}"
    );
}

/// Waits (parked on the timer, bounded) until `cond` holds.
async fn eventually(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        time::sleep(Duration::from_millis(20)).await;
    }
}

/// Keys whose ring server is `idx`.
fn keys_on<B: Backend>(client: &Client<B>, idx: usize, pre: &str, n: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("{pre}{i}"))
        .filter(|k| client.server_index(k) == idx)
        .take(n)
        .collect()
}

fn fail_policy_marks_down_and_recovers<B: Backend>() {
    let Some(addrs) = addrs() else { return };
    let Some(mut own) = OwnMemcached::start() else {
        return;
    };
    let cfg = Config::default()
        .server(Server::new(&addrs[0]).unwrap())
        .server(Server::new(&own.addr().to_string()).unwrap())
        .failover(Failover::Fail)
        .retry(Duration::from_millis(200), Duration::from_secs(1));
    let client = Client::<B>::with_backend(cfg).unwrap();
    let pre = prefix(&format!("fail-policy-{}", B::NAME));
    let own_keys = keys_on(&client, 1, &pre, 20);
    let shared_keys = keys_on(&client, 0, &pre, 20);
    B::block_on(async {
        for k in own_keys.iter().chain(&shared_keys) {
            client.set(k, "v", opts()).await.unwrap();
        }
        own.kill();
        // The first request finds the connection dead (an I/O error or a
        // closed connection); the reconnect is refused and marks the
        // server down; from then on its keys fail fast, typed.
        let mut saw_down = false;
        for k in &own_keys {
            match client.get(k).await {
                Err(Error::ServerDown { server, retry_in }) => {
                    assert_eq!(server, own.addr().to_string());
                    assert!(retry_in <= Duration::from_secs(1));
                    saw_down = true;
                }
                Err(e) => assert!(e.is_unavailable(), "{e:?}"),
                Ok(v) => panic!("a dead server answered {v:?}"),
            }
        }
        assert!(saw_down);
        assert!(client.down_for(1).is_some());
        // The other server's keys are untouched.
        for k in &shared_keys {
            assert!(client.get(k).await.unwrap().is_some());
        }
        let all: Vec<&String> = own_keys.iter().chain(&shared_keys).collect();
        assert!(matches!(
            client.get_multi(&all).await,
            Err(Error::ServerDown { .. })
        ));

        own.restart();
        // After the retry interval the server is tried again and comes back.
        eventually("the restarted server serves its keys", async || {
            client.set(&own_keys[0], "back", opts()).await.is_ok()
        })
        .await;
        assert!(client.down_for(1).is_none());
        assert_eq!(
            &client.get(&own_keys[0]).await.unwrap().unwrap().value[..],
            b"back"
        );
        let direct = Connection::connect::<B>(own.addr(), client.config())
            .await
            .unwrap();
        assert!(direct.get(&own_keys[0]).await.unwrap().is_some());
    });
}

#[test]
fn epoll_fail_policy_marks_down_and_recovers() {
    fail_policy_marks_down_and_recovers::<Epoll>();
}

#[test]
fn std_fail_policy_marks_down_and_recovers() {
    fail_policy_marks_down_and_recovers::<Std>();
}

/// The rehash policy under load: tasks keep reading and writing while the
/// private server is killed and restarted. Every failure is a typed
/// "unavailable" error; once the server is marked down its keys are served
/// by the others; after the restart they come back to it.
#[test]
fn rehash_policy_under_load_with_kill_and_restart() {
    let Some(addrs) = addrs() else { return };
    let Some(own) = OwnMemcached::start() else {
        return;
    };
    let own_addr = own.addr();
    let own = Rc::new(RefCell::new(own));
    let mut cfg = Config::default();
    for a in addrs.iter().take(2) {
        cfg = cfg.server(Server::new(a).unwrap());
    }
    let own_idx = cfg.servers.len();
    let cfg = cfg
        .server(Server::new(&own_addr.to_string()).unwrap())
        .failover(Failover::Rehash)
        .retry(Duration::from_millis(200), Duration::from_secs(1));
    let client = Client::<Epoll>::with_backend(cfg).unwrap();
    let pre = Rc::new(prefix("rehash"));
    let own_keys = keys_on(&client, own_idx, &pre, 10);

    #[derive(Default)]
    struct Tally {
        ok: Cell<u64>,
        errors: RefCell<HashMap<String, u64>>,
        stop: Cell<bool>,
    }
    let tally = Rc::new(Tally::default());

    Epoll::block_on(async {
        let mut tasks = Vec::new();
        for t in 0..20 {
            let (client, pre, tally) = (client.clone(), pre.clone(), tally.clone());
            tasks.push(spawn(async move {
                let mut i = 0u64;
                while !tally.stop.get() {
                    let k = format!("{pre}{}", (t * 1000 + i) % 200);
                    let v = format!("{t}:{i}");
                    let res = match client.set(&k, &v, StoreOptions::default()).await {
                        Ok(()) => client.get(&k).await.map(drop),
                        Err(e) => Err(e),
                    };
                    match res {
                        Ok(()) => tally.ok.set(tally.ok.get() + 1),
                        Err(e) => {
                            assert!(e.is_unavailable(), "untyped failure under load: {e:?}");
                            let kind = format!("{e:?}")
                                .split(['(', ' ', '{'])
                                .next()
                                .unwrap()
                                .to_owned();
                            *tally.errors.borrow_mut().entry(kind).or_default() += 1;
                            time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                    i += 1;
                }
            }));
        }

        let ok_after = |n: u64| {
            let tally = tally.clone();
            async move {
                let start = tally.ok.get();
                eventually("load makes progress", async || tally.ok.get() >= start + n).await;
            }
        };
        ok_after(500).await;

        own.borrow_mut().kill();
        eventually("the killed server is marked down", async || {
            client.down_for(own_idx).is_some()
        })
        .await;
        // Its keys now live on the other servers.
        for k in &own_keys {
            client
                .set(k, "moved", StoreOptions::default())
                .await
                .unwrap();
            assert_eq!(&client.get(k).await.unwrap().unwrap().value[..], b"moved");
        }
        ok_after(500).await;

        own.borrow_mut().restart();
        eventually("the restarted server is back in the ring", async || {
            client
                .set(&own_keys[0], "home", StoreOptions::default())
                .await
                .is_ok()
                && client.down_for(own_idx).is_none()
        })
        .await;
        ok_after(500).await;
        tally.stop.set(true);
        for t in tasks {
            t.await.unwrap();
        }
        // Keys of the restarted server are stored on it again.
        for k in &own_keys {
            client
                .set(k, "home", StoreOptions::default())
                .await
                .unwrap();
        }
        let direct = Connection::connect::<Epoll>(own_addr, client.config())
            .await
            .unwrap();
        assert_eq!(
            direct.get_multi(&own_keys).await.unwrap().len(),
            own_keys.len()
        );
        let got = client.get_multi(&own_keys).await.unwrap();
        assert!(got.values().all(|i| &i.value[..] == b"home") && got.len() == own_keys.len());
    });
    eprintln!(
        "rehash under load: {} ok operations, failures while the server died: {:?}",
        tally.ok.get(),
        tally.errors.borrow()
    );
}

/// A server that stops answering (frozen with SIGSTOP): requests time out
/// with [`Error::Timeout`], the late replies are discarded when it thaws,
/// and the connection serves later requests correctly.
#[test]
fn frozen_server_times_out_then_recovers() {
    let Some(own) = OwnMemcached::start() else {
        return;
    };
    for p in PROTOCOLS {
        let cfg = Config::default()
            .protocol(p)
            .server(Server::new(&own.addr().to_string()).unwrap())
            .response_timeout(Some(Duration::from_millis(200)));
        let client = Client::<Epoll>::with_backend(cfg).unwrap();
        Epoll::block_on(async {
            client.set("a", "1", opts()).await.unwrap();
            client.set("b", "2", opts()).await.unwrap();
            own.pause();
            assert!(matches!(client.get("a").await, Err(Error::Timeout)));
            assert!(matches!(
                client.get_multi(&["a", "b"]).await,
                Err(Error::Timeout)
            ));
            assert!(matches!(
                client.set("c", "3", opts()).await,
                Err(Error::Timeout)
            ));
            own.resume();
            // The abandoned replies arrive first and are dropped; each new
            // request gets its own answer.
            assert_eq!(&client.get("b").await.unwrap().unwrap().value[..], b"2");
            assert_eq!(&client.get("a").await.unwrap().unwrap().value[..], b"1");
            let conn = client.connection(0).await.unwrap();
            assert_eq!(conn.pending(), 0, "{p:?}");
        });
    }
}

/// A client whose every server is unreachable fails with typed errors.
#[test]
fn unreachable_servers_fail_typed() {
    for p in PROTOCOLS {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cfg = Config::default()
            .protocol(p)
            .server(Server::new(&format!("127.0.0.1:{port}")).unwrap())
            .failover(Failover::Rehash);
        let client = Client::<Epoll>::with_backend(cfg).unwrap();
        Epoll::block_on(async {
            let e = client.get("k").await.unwrap_err();
            assert!(e.is_unavailable(), "{e:?}");
            let e = client.get("k").await.unwrap_err();
            assert!(matches!(e, Error::NoServers), "{e:?}");
            let e = client.get_multi(&["a", "b"]).await.unwrap_err();
            assert!(e.is_unavailable(), "{e:?}");
        });
    }
    assert!(matches!(
        Client::new(Config::default()),
        Err(Error::Config(_))
    ));
}

/// A dropped client's connections do not linger on the worker: they are
/// closed when the worker next sets up a client.
#[test]
fn dropped_client_connections_are_closed() {
    let Some(own) = OwnMemcached::start() else {
        return;
    };
    let cfg = Config::default().server(Server::new(&own.addr().to_string()).unwrap());
    Epoll::block_on(async {
        let probe = Connection::connect::<Epoll>(own.addr(), &cfg)
            .await
            .unwrap();
        let open = async || -> u64 {
            let s = probe.stats(None).await.unwrap();
            s["curr_connections"].parse().unwrap()
        };
        // The harness's readiness check (a connect, then a close) may still
        // be counted just after start: wait until the count holds still.
        let mut base = open().await;
        loop {
            time::sleep(Duration::from_millis(100)).await;
            let now = open().await;
            if now == base {
                break;
            }
            base = now;
        }
        let a = Client::<Epoll>::with_backend(cfg.clone()).unwrap();
        a.get("k").await.unwrap();
        eventually("a's connection is open", async || open().await == base + 1).await;
        drop(a);
        let b = Client::<Epoll>::with_backend(cfg.clone()).unwrap();
        b.get("k").await.unwrap();
        // b's connection is open and a's is gone.
        eventually("a's connection is closed", async || {
            open().await == base + 1
        })
        .await;
        let c = Client::<Epoll>::with_backend(cfg.clone()).unwrap();
        c.get("k").await.unwrap();
        eventually("b and c both open", async || open().await == base + 2).await;
    });
}
