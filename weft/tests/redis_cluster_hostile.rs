//! [`ClusterClient`] against scripted fake nodes, for what a healthy cluster
//! never sends: a node that redirects forever, a slot map that is garbage,
//! a cluster that stays down, and a node that is down for a while. Each
//! ends in a typed error or, once the fake recovers, a correct reply.
#![cfg(all(feature = "epoll", feature = "std"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use weft::redis::{ClusterClient, ClusterConfig, Commands, Config, Error, Protocol};
use weft::rt::{Backend, Epoll};

/// Reads one RESP array of bulk strings (what the driver sends).
fn read_command(r: &mut BufReader<TcpStream>) -> Option<Vec<Vec<u8>>> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let n: usize = line.trim_end().strip_prefix('*')?.parse().ok()?;
    let mut args = Vec::with_capacity(n);
    for _ in 0..n {
        line.clear();
        r.read_line(&mut line).ok()?;
        let len: usize = line.trim_end().strip_prefix('$')?.parse().ok()?;
        let mut arg = vec![0u8; len + 2];
        r.read_exact(&mut arg).ok()?;
        arg.truncate(len);
        args.push(arg);
    }
    Some(args)
}

/// A fake node on a free port answering each command with `reply(args,
/// port)`; returns its address.
fn fake_node(reply: impl Fn(&[Vec<u8>], u16) -> Vec<u8> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reply = Arc::new(reply);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let reply = reply.clone();
            thread::spawn(move || {
                let mut w = stream.try_clone().unwrap();
                let mut r = BufReader::new(stream);
                while let Some(args) = read_command(&mut r) {
                    if w.write_all(&reply(&args, port)).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("127.0.0.1:{port}")
}

/// `CLUSTER SLOTS`: every slot on this node.
fn all_slots_here(port: u16) -> Vec<u8> {
    format!("*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:{port}\r\n").into_bytes()
}

fn is(args: &[Vec<u8>], name: &str) -> bool {
    args.first()
        .is_some_and(|a| a.eq_ignore_ascii_case(name.as_bytes()))
}

/// RESP2 nodes: no `HELLO` in the handshake, nothing else to fake.
fn client(seed: &str) -> ClusterClient<Epoll> {
    let mut config = ClusterConfig::new([seed]);
    config.node = Config::default().protocol(Protocol::Resp2);
    config.max_retries = 4;
    ClusterClient::with_backend(config)
}

/// Answers `CLUSTER SHARDS` as unknown (an old server), so the client
/// falls back to `CLUSTER SLOTS`.
fn map_reply(args: &[Vec<u8>], port: u16) -> Option<Vec<u8>> {
    if is(args, "CLUSTER")
        && args
            .get(1)
            .is_some_and(|a| a.eq_ignore_ascii_case(b"SHARDS"))
    {
        return Some(b"-ERR unknown subcommand 'SHARDS'\r\n".to_vec());
    }
    if is(args, "CLUSTER") {
        return Some(all_slots_here(port));
    }
    None
}

#[test]
fn endless_redirects_end_in_a_typed_error() {
    let addr = fake_node(|args, port| {
        map_reply(args, port)
            .unwrap_or_else(|| format!("-MOVED 1 127.0.0.1:{port}\r\n").into_bytes())
    });
    let c = client(&addr);
    Epoll::block_on(async {
        let e = c.get::<Option<String>>("k").await.unwrap_err();
        assert!(matches!(e, Error::TooManyRedirects), "{e:?}");
        let e = c
            .query_cmd::<Option<String>>(weft::redis::cmd("GET").with("k"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::TooManyRedirects), "{e:?}");
        let (moved, _) = c.redirects();
        assert!(moved >= c.config().max_redirects as u64);
    });
}

#[test]
fn a_garbage_slot_map_is_a_typed_error() {
    let addr = fake_node(|args, _| {
        if is(args, "CLUSTER") {
            // Slot ranges out of bounds, then a wrong shape.
            b"*1\r\n*3\r\n:-5\r\n:99999\r\n*2\r\n$1\r\nx\r\n:1\r\n".to_vec()
        } else {
            b"+OK\r\n".to_vec()
        }
    });
    let c = client(&addr);
    Epoll::block_on(async {
        let e = c.set("k", "v").await.unwrap_err();
        assert!(matches!(e, Error::Cluster(_)), "{e:?}");
    });
}

#[test]
fn clusterdown_is_retried_then_reported() {
    // Down for the first three GETs, then up.
    let gets = Arc::new(AtomicUsize::new(0));
    let seen = gets.clone();
    let addr = fake_node(move |args, port| {
        if let Some(r) = map_reply(args, port) {
            return r;
        }
        if seen.fetch_add(1, Ordering::SeqCst) < 3 {
            b"-CLUSTERDOWN The cluster is down\r\n".to_vec()
        } else {
            b"$2\r\nok\r\n".to_vec()
        }
    });
    let c = client(&addr);
    Epoll::block_on(async {
        assert_eq!(c.get::<String>("k").await.unwrap(), "ok");
        assert_eq!(gets.load(Ordering::SeqCst), 4);
    });
    // Never up: after the retries, the server's own error.
    let addr = fake_node(|args, port| {
        map_reply(args, port).unwrap_or_else(|| b"-CLUSTERDOWN The cluster is down\r\n".to_vec())
    });
    let c = client(&addr);
    Epoll::block_on(async {
        let e = c.get::<Option<String>>("k").await.unwrap_err();
        assert_eq!(e.server_code(), Some("CLUSTERDOWN"));
    });
}

#[test]
fn no_reachable_seed_is_a_typed_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client(&format!("127.0.0.1:{port}"));
    Epoll::block_on(async {
        let e = c.ping().await.unwrap_err();
        assert!(matches!(e, Error::Cluster(_)), "{e:?}");
    });
}
