//! Hostile and malformed replies a real memcached never sends, from a
//! hand-written fake server: garbage, a hostile value length, a hit for a
//! key nobody asked for, a binary opaque that matches no request, an
//! unsolicited reply, a connection cut mid-pipeline. Each fails the waiting
//! requests with a typed error; nothing panics, hangs or reaches the wrong
//! caller.
#![cfg(all(feature = "epoll", feature = "std"))]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

use weft::memcache::{Config, Connection, Error, Protocol, StoreOptions};
use weft::rt::{Backend, Epoll, Std};

/// Accepts one connection, reads until `expect` request bytes arrived (or
/// the peer closed), writes `reply`, then closes (after `hold` if given,
/// so the client sees the reply before the end of stream).
fn fake_server(expect: usize, reply: Vec<u8>, hold: Duration) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while got.len() < expect {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.write_all(&reply);
        thread::sleep(hold);
    });
    addr
}

async fn conn<B: Backend>(addr: SocketAddr, p: Protocol) -> Connection {
    Connection::connect::<B>(addr, &Config::default().protocol(p))
        .await
        .unwrap()
}

fn garbage_fails_every_pending_request<B: Backend>() {
    // Three text gets, one line each; the answer is not memcached.
    let addr = fake_server(
        3 * "get k\r\n".len(),
        b"HELLO THERE\r\n".to_vec(),
        Duration::from_millis(200),
    );
    B::block_on(async {
        let c = conn::<B>(addr, Protocol::Text).await;
        let (a, b, d) = (c.get("k"), c.get("k"), c.get("k"));
        for r in [a.await, b.await, d.await] {
            assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
        }
        assert!(c.is_closed());
        assert!(c.get("k").await.unwrap_err().is_fatal());
    });
}

fn hostile_length_is_refused_before_allocating<B: Backend>() {
    let addr = fake_server(
        "get k\r\n".len(),
        b"VALUE k 0 99999999999999\r\n".to_vec(),
        Duration::from_millis(200),
    );
    B::block_on(async {
        let c = conn::<B>(addr, Protocol::Text).await;
        match c.get("k").await {
            Err(Error::Protocol(e)) => assert!(e.to_string().contains("limit"), "{e}"),
            other => panic!("{other:?}"),
        }
    });
}

fn cut_mid_pipeline_fails_the_rest<B: Backend>() {
    // Answers the first of three requests, then closes.
    let addr = fake_server(3 * "get k\r\n".len(), b"END\r\n".to_vec(), Duration::ZERO);
    B::block_on(async {
        let c = conn::<B>(addr, Protocol::Text).await;
        let (a, b, d) = (c.get("k"), c.get("k"), c.get("k"));
        assert_eq!(a.await.unwrap(), None);
        for r in [b.await, d.await] {
            let e = r.unwrap_err();
            assert!(e.is_unavailable() && e.is_fatal(), "{e:?}");
        }
    });
}

#[test]
fn epoll_garbage_fails_every_pending_request() {
    garbage_fails_every_pending_request::<Epoll>();
}

#[test]
fn std_garbage_fails_every_pending_request() {
    garbage_fails_every_pending_request::<Std>();
}

#[test]
fn epoll_hostile_length_is_refused_before_allocating() {
    hostile_length_is_refused_before_allocating::<Epoll>();
}

#[test]
fn std_hostile_length_is_refused_before_allocating() {
    hostile_length_is_refused_before_allocating::<Std>();
}

#[test]
fn epoll_cut_mid_pipeline_fails_the_rest() {
    cut_mid_pipeline_fails_the_rest::<Epoll>();
}

#[test]
fn std_cut_mid_pipeline_fails_the_rest() {
    cut_mid_pipeline_fails_the_rest::<Std>();
}

/// A hit for a key that was not asked for is never handed to the caller.
#[test]
fn hit_for_another_key_is_a_protocol_error() {
    let addr = fake_server(
        "get mine\r\n".len(),
        b"VALUE yours 0 1\r\nx\r\nEND\r\n".to_vec(),
        Duration::from_millis(200),
    );
    Epoll::block_on(async {
        let c = conn::<Epoll>(addr, Protocol::Text).await;
        let r = c.get("mine").await;
        assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
    });
}

/// A binary reply whose opaque matches no request fails the connection.
#[test]
fn binary_opaque_mismatch_fails_the_connection() {
    // A GetK response header with opaque 0xdeadbeef and status "not found".
    let mut reply = vec![0x81, 0x0c, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    reply.extend_from_slice(&0xdead_beefu32.to_be_bytes());
    reply.extend_from_slice(&[0; 8]);
    let addr = fake_server(24 + 1, reply, Duration::from_millis(200));
    Epoll::block_on(async {
        let c = conn::<Epoll>(addr, Protocol::Binary).await;
        let r = c.get("k").await;
        assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
        assert!(c.is_closed());
    });
}

/// A meta reply carrying another request's opaque is refused.
#[test]
fn meta_reply_with_foreign_opaque_is_refused() {
    let addr = fake_server(1, b"HD O999999\r\n".to_vec(), Duration::from_millis(200));
    Epoll::block_on(async {
        let c = conn::<Epoll>(addr, Protocol::Meta).await;
        let r = c.set("k", "v", StoreOptions::default()).await;
        assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
    });
}

/// A reply before any request fails the connection; later requests get
/// the typed error instead of that reply.
#[test]
fn unsolicited_reply_fails_the_connection() {
    let addr = fake_server(0, b"STORED\r\n".to_vec(), Duration::from_millis(500));
    Epoll::block_on(async {
        let c = conn::<Epoll>(addr, Protocol::Text).await;
        let e = c.closed().await;
        assert!(matches!(e, Error::Protocol(_)), "{e:?}");
        assert!(matches!(
            c.set("k", "v", StoreOptions::default()).await,
            Err(Error::Protocol(_))
        ));
    });
}

/// A multi-get answered with a key out of request order (memcached answers
/// in order) or twice is refused, in every flavour that carries keys.
#[test]
fn multi_get_hits_out_of_order_are_refused() {
    let addr = fake_server(
        "get a b\r\n".len(),
        b"VALUE b 0 1\r\nx\r\nVALUE a 0 1\r\ny\r\nEND\r\n".to_vec(),
        Duration::from_millis(200),
    );
    Epoll::block_on(async {
        let c = conn::<Epoll>(addr, Protocol::Text).await;
        let r = c.get_multi(&["a", "b"]).await;
        assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");
        assert!(c.is_closed());
    });
}
