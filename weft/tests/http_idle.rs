//! Keep-alive connections across idle periods, on every compiled-in
//! backend: an idle connection gives its buffers back and waits for
//! readability without one, so these check that what it keeps is enough.
//! A request split by a pause (its first half stays buffered while idle),
//! pipelined bursts separated by pauses longer than the delay after which
//! pipelining's queue growth is given back, and the idle timeout, which
//! still closes the connection.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use weft::http::{Request, Response, Router, RunningServer, Server};
use weft::rt::BackendKind;

const GET: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";
const BODY: &[u8] = b"\r\n\r\nHello, World!";

fn start(kind: BackendKind, idle_timeout: Option<Duration>) -> RunningServer {
    let h1 = proto_http::h1::Config {
        idle_timeout,
        ..proto_http::h1::Config::default()
    };
    Server::bind("127.0.0.1:0".parse().unwrap())
        .workers(2)
        .backend(kind)
        .h1_config(h1)
        .serve(
            Router::new()
                .get("/plaintext", |_r: Request| async { "Hello, World!" })
                .post("/echo", |r: Request| async move {
                    Response::text(r.into_body())
                }),
        )
        .unwrap()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Reads until `n` plaintext responses arrived; returns everything read.
fn read_plaintext(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while got.windows(BODY.len()).filter(|w| *w == BODY).count() < n {
        let k = s.read(&mut chunk).unwrap();
        assert!(k > 0, "server closed the connection");
        got.extend_from_slice(&chunk[..k]);
    }
    assert_eq!(
        got.windows(17)
            .filter(|w| *w == b"HTTP/1.1 200 OK\r\n")
            .count(),
        n
    );
    got
}

#[test]
fn a_request_split_by_an_idle_pause_is_answered() {
    for kind in BackendKind::enabled() {
        let server = start(kind, None);
        let mut s = connect(server.local_addr());
        // Half a head, a pause (the connection goes idle holding it), the rest.
        s.write_all(&GET[..20]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        s.write_all(&GET[20..]).unwrap();
        read_plaintext(&mut s, 1);
        // A body split the same way.
        let post = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234";
        s.write_all(post).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        s.write_all(b"56789").unwrap();
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        while !got.ends_with(b"0123456789") {
            let k = s.read(&mut chunk).unwrap();
            assert!(k > 0, "{kind}: closed");
            got.extend_from_slice(&chunk[..k]);
        }
        assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"), "{kind}");
        // And the connection is still usable.
        s.write_all(GET).unwrap();
        read_plaintext(&mut s, 1);
        server.shutdown(Duration::from_secs(1)).unwrap();
    }
}

#[test]
fn pipelined_bursts_across_pauses_longer_than_the_shrink_delay() {
    for kind in BackendKind::enabled() {
        let server = start(kind, None);
        let mut s = connect(server.local_addr());
        for burst in [16usize, 16, 3, 1] {
            s.write_all(&GET.repeat(burst)).unwrap();
            read_plaintext(&mut s, burst);
            // Past the 1 s after which an idle connection frees the queue
            // room pipelining grew.
            std::thread::sleep(Duration::from_millis(1300));
        }
        server.shutdown(Duration::from_secs(1)).unwrap();
    }
}

/// The next read sees end of stream (or a reset) rather than data or the
/// read timeout: `what` closed the connection.
fn expect_closed(s: &mut TcpStream, what: &str) {
    let mut chunk = [0u8; 64];
    match s.read(&mut chunk) {
        Ok(0) => {}
        Ok(n) => panic!("{what}: unexpected {n} bytes: {:?}", &chunk[..n]),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{what} did not close the connection"
        ),
    }
}

#[test]
fn the_idle_timeout_still_closes_a_keep_alive_connection() {
    for kind in BackendKind::enabled() {
        let server = start(kind, Some(Duration::from_millis(300)));
        let mut s = connect(server.local_addr());
        s.write_all(GET).unwrap();
        read_plaintext(&mut s, 1);
        // Idle: the server closes, well before the 10 s read timeout.
        expect_closed(&mut s, &format!("{kind}: the idle timeout"));
        server.shutdown(Duration::from_secs(1)).unwrap();
    }
}

#[test]
fn requests_keep_a_connection_open_past_the_idle_timeout() {
    // The idle timer is armed once and moved lazily: a timer set for an
    // earlier request may fire, but it must find the connection busy
    // and let it live.
    for kind in BackendKind::enabled() {
        let server = start(kind, Some(Duration::from_millis(300)));
        let mut s = connect(server.local_addr());
        // 1.5 s of traffic, one request every 100 ms: five idle timeouts
        // long, never idle for one.
        for i in 0..15 {
            s.write_all(GET).unwrap();
            read_plaintext(&mut s, 1);
            if i < 14 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        server.shutdown(Duration::from_secs(1)).unwrap();
    }
}

#[test]
fn shutdown_closes_idle_keep_alive_connections_without_waiting_out_the_grace() {
    for kind in BackendKind::enabled() {
        let server = start(kind, None);
        let mut s = connect(server.local_addr());
        for _ in 0..3 {
            s.write_all(GET).unwrap();
            read_plaintext(&mut s, 1);
        }
        // A grace period far longer than the read timeout: only the
        // shutdown signal reaching the idle connection closes it in time.
        let stopper = std::thread::spawn(move || server.shutdown(Duration::from_secs(60)));
        expect_closed(&mut s, &format!("{kind}: shutdown"));
        stopper.join().unwrap().unwrap();
    }
}

#[test]
fn a_connection_that_never_sends_is_closed_at_the_idle_timeout() {
    for kind in BackendKind::enabled() {
        let server = start(kind, Some(Duration::from_millis(300)));
        // Nothing at all, and the first byte of the HTTP/2 preface (the
        // server waits for more before it knows which protocol it is).
        for first in [&b""[..], b"P"] {
            let mut s = connect(server.local_addr());
            s.write_all(first).unwrap();
            expect_closed(&mut s, &format!("{kind}: idle after {first:?}"));
        }
        server.shutdown(Duration::from_secs(1)).unwrap();
    }
}
