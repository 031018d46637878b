//! The memcached [`Client`] used from HTTP handlers on a multi-worker
//! server: each worker talks to memcached over a connection of its own,
//! registered on its own event loop, shared by all the handlers it runs.
#![cfg(feature = "epoll")]

mod memcache_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use memcache_support::OwnMemcached;
use weft::http::{Request, Response, Router, Server, StatusCode};
use weft::memcache::{Client, Config, Connection, Server as McServer, StoreOptions};
use weft::rt::{Backend, BackendKind, Epoll};

const WORKERS: usize = 2;

/// One HTTP/1.1 request on a fresh connection; the status and body.
fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn curr_connections(addr: SocketAddr, cfg: &Config) -> u64 {
    Epoll::block_on(async {
        let c = Connection::connect::<Epoll>(addr, cfg).await.unwrap();
        let s = c.stats(None).await.unwrap();
        // Minus this probe's own connection.
        s["curr_connections"].parse::<u64>().unwrap() - 1
    })
}

#[test]
fn handlers_share_one_connection_per_worker() {
    let Some(own) = OwnMemcached::start() else {
        return;
    };
    let cfg = Config::default().server(McServer::new(&own.addr().to_string()).unwrap());
    // The harness's readiness check and each probe connect and close: wait
    // until the count holds still before taking it as the baseline.
    let mut base = curr_connections(own.addr(), &cfg);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = curr_connections(own.addr(), &cfg);
        if now == base {
            break;
        }
        base = now;
    }
    let client = Client::<Epoll>::with_backend(cfg.clone()).unwrap();
    let (c1, c2) = (client.clone(), client.clone());
    let router =
        Router::new()
            .get("/set/:key/:value", move |r: Request| {
                let c = c1.clone();
                async move {
                    let (k, v) = (r.param("key").unwrap_or(""), r.param("value").unwrap_or(""));
                    match c.set(k, v, StoreOptions::default()).await {
                        Ok(()) => Response::text("stored"),
                        Err(e) => Response::text(e.to_string())
                            .with_status(StatusCode::INTERNAL_SERVER_ERROR),
                    }
                }
            })
            .get("/get/:key", move |r: Request| {
                let c = c2.clone();
                async move {
                    match c.get(r.param("key").unwrap_or("")).await {
                        Ok(Some(item)) => Response::text(item.value),
                        Ok(None) => Response::text("miss").with_status(StatusCode::NOT_FOUND),
                        Err(e) => Response::text(e.to_string())
                            .with_status(StatusCode::INTERNAL_SERVER_ERROR),
                    }
                }
            });
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .workers(WORKERS)
        .backend(BackendKind::Epoll)
        .serve(router)
        .unwrap();
    let addr = server.local_addr();
    // Many HTTP connections from several threads: the kernel spreads them
    // over the workers.
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..50 {
                    let (k, v) = (format!("k{t}-{i}"), format!("v{t}-{i}"));
                    assert_eq!(
                        http_get(addr, &format!("/set/{k}/{v}")),
                        (200, "stored".into())
                    );
                    assert_eq!(http_get(addr, &format!("/get/{k}")), (200, v));
                }
                assert_eq!(http_get(addr, "/get/absent").0, 404);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // 400+ requests, yet at most one memcached connection per worker.
    let deadline = Instant::now() + Duration::from_secs(10);
    let used = loop {
        let n = curr_connections(own.addr(), &cfg) - base;
        if (1..=WORKERS as u64).contains(&n) || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        (1..=WORKERS as u64).contains(&used),
        "{used} memcached connections"
    );
    server.shutdown(Duration::from_secs(2)).unwrap();
}
