//! The driver against a scripted fake server, for what a real Redis never
//! sends: malformed bytes, oversized frames, a connection cut mid-pipeline.
//! No reply may ever reach the wrong request; every pending request fails.
#![cfg(all(feature = "epoll", feature = "std"))]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use weft::redis::{Commands, Config, Connection, Error};
use weft::rt::{Backend, Epoll, Std};

/// Serves one connection: answers `HELLO` with a minimal RESP3 map, waits
/// for `gets` pipelined `GET`s, then writes `script` and closes.
fn fake_server(gets: usize, script: &'static [u8]) -> (Config, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !contains(&seen, b"HELLO") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "client closed before HELLO");
            seen.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"%1\r\n$5\r\nproto\r\n:3\r\n").unwrap();
        seen.clear();
        while count(&seen, b"GET") < gets {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        s.write_all(script).unwrap();
        // Dropping `s` closes the connection.
    });
    let config: Config = format!("redis://127.0.0.1:{port}").parse().unwrap();
    (config, t)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    count(hay, needle) > 0
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn garbage_fails_every_pending_request<B: Backend>() {
    let (config, server) = fake_server(2, b"$5\r\nfirst\r\n?bogus\r\n$6\r\nsecond\r\n");
    B::block_on(async {
        let conn = Connection::connect::<B>(&config).await.unwrap();
        let a = conn.get::<String>("a");
        let b = conn.get::<String>("b");
        let c = conn.get::<String>("c");
        assert_eq!(a.await.unwrap(), "first");
        // The reply after the garbage is never handed to anyone.
        assert!(matches!(b.await, Err(Error::Protocol(_))));
        assert!(matches!(c.await, Err(Error::Protocol(_))));
        assert!(conn.is_closed());
        assert!(!conn.is_reusable());
    });
    server.join().unwrap();
}

fn cut_mid_pipeline_fails_the_rest<B: Backend>() {
    let (config, server) = fake_server(3, b"$2\r\nok\r\n$10\r\ntrunc");
    B::block_on(async {
        let conn = Connection::connect::<B>(&config).await.unwrap();
        let a = conn.get::<String>("a");
        let b = conn.get::<String>("b");
        let c = conn.get::<String>("c");
        assert_eq!(a.await.unwrap(), "ok");
        for r in [b.await, c.await] {
            match r {
                Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof),
                other => panic!("expected UnexpectedEof, got {other:?}"),
            }
        }
    });
    server.join().unwrap();
}

fn oversized_bulk_is_refused_before_allocating<B: Backend>() {
    let (mut config, server) = fake_server(1, b"$1000000000\r\nxx");
    config.limits.max_bulk_len = 1024;
    B::block_on(async {
        let conn = Connection::connect::<B>(&config).await.unwrap();
        let err = conn.get::<Vec<u8>>("a").await.unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        assert!(err.to_string().contains("exceeds limit"), "{err}");
    });
    server.join().unwrap();
}

fn handshake_refusal_is_a_typed_error<B: Backend>() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).unwrap();
        s.write_all(b"-WRONGPASS invalid username-password pair\r\n")
            .unwrap();
    });
    let config: Config = format!("redis://u:p@127.0.0.1:{port}").parse().unwrap();
    B::block_on(async {
        let err = Connection::connect::<B>(&config).await.unwrap_err();
        assert!(matches!(err, Error::Protocol(_)), "{err:?}");
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    });
    server.join().unwrap();
}

#[test]
fn epoll_garbage_fails_every_pending_request() {
    garbage_fails_every_pending_request::<Epoll>();
}

#[test]
fn epoll_cut_mid_pipeline_fails_the_rest() {
    cut_mid_pipeline_fails_the_rest::<Epoll>();
}

#[test]
fn epoll_oversized_bulk_is_refused_before_allocating() {
    oversized_bulk_is_refused_before_allocating::<Epoll>();
}

#[test]
fn epoll_handshake_refusal_is_a_typed_error() {
    handshake_refusal_is_a_typed_error::<Epoll>();
}

#[test]
fn std_garbage_fails_every_pending_request() {
    garbage_fails_every_pending_request::<Std>();
}

#[test]
fn std_cut_mid_pipeline_fails_the_rest() {
    cut_mid_pipeline_fails_the_rest::<Std>();
}
