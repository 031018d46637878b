//! Streamed response bodies (`Response::stream`, `weft::http::body`) on
//! every compiled-in backend, over HTTP/1.1 (chunked) and HTTP/2 (prior
//! knowledge and h2c upgrade), read by curl and raw sockets: the pieces
//! arrive in order, a large body goes through the producer's backpressure
//! and HTTP/2 flow control whole, a keep-alive connection goes on after a
//! streamed response, a producer that panics cuts only its own body, and
//! a producer stops when its client goes away.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use weft::http::body::{self, BodyStream};
use weft::http::{Request, Response, Router, RunningServer, Server};
use weft::rt::BackendKind;

/// Size of `/big`: well past every socket buffer and HTTP/2 window.
const BIG: usize = 4 << 20;
const PIECE: usize = 64 << 10;

/// `/endless` producers that ended (their client gone).
static GAVE_UP: AtomicUsize = AtomicUsize::new(0);

/// Counts into [`GAVE_UP`] when dropped.
struct Ended;

impl Drop for Ended {
    fn drop(&mut self) {
        GAVE_UP.fetch_add(1, Ordering::SeqCst);
    }
}

/// One piece, then a panic.
struct PanicsAfterOne(bool);

impl BodyStream for PanicsAfterOne {
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<bytes::Bytes>> {
        if self.0 {
            panic!("body producer bug");
        }
        self.0 = true;
        Poll::Ready(Some(bytes::Bytes::from_static(b"first piece")))
    }
}

fn router() -> Router {
    Router::new()
        .get("/plaintext", |_r: Request| async { "Hello, World!" })
        .get("/count", |_r: Request| async {
            let (tx, rx) = body::channel();
            weft::rt::spawn(async move {
                for i in 0..5 {
                    weft::rt::time::sleep(Duration::from_millis(5)).await;
                    if tx.send(format!("{i}\n")).await.is_err() {
                        return;
                    }
                }
            });
            Response::stream(rx).content_type("text/plain")
        })
        .get("/big", |_r: Request| async {
            let (tx, rx) = body::channel();
            weft::rt::spawn(async move {
                for _ in 0..BIG / PIECE {
                    if tx.send(vec![b'b'; PIECE]).await.is_err() {
                        return;
                    }
                }
            });
            Response::stream(rx)
        })
        .get("/endless", |_r: Request| async {
            let (tx, rx) = body::channel();
            weft::rt::spawn(async move {
                // Counts when the producer ends: it saw `Closed`, or (std
                // backend: a connection's tasks live on its thread) it
                // was dropped with the connection.
                let _ended = Ended;
                while tx.send(vec![b'e'; 4096]).await.is_ok() {
                    weft::rt::time::sleep(Duration::from_millis(2)).await;
                }
            });
            Response::stream(rx)
        })
        .get("/panic", |_r: Request| async {
            Response::stream(PanicsAfterOne(false))
        })
}

fn each_backend(f: impl Fn(BackendKind, SocketAddr)) {
    for kind in BackendKind::enabled() {
        let server: RunningServer = Server::bind("127.0.0.1:0".parse().unwrap())
            .workers(2)
            .backend(kind)
            .serve(router())
            .unwrap();
        f(kind, server.local_addr());
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}

/// Whether curl is installed; without it the curl tests are skipped
/// unless WEFT_REQUIRE_SERVICES=1 (CI), where they fail.
fn have_curl() -> bool {
    let ok = Command::new("curl").arg("--version").output().is_ok();
    assert!(
        ok || std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "curl is required (WEFT_REQUIRE_SERVICES=1)"
    );
    ok
}

/// curl's exit code, body and `%{http_code} %{http_version}`.
fn curl(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = Command::new("curl")
        .args(["-s", "-m", "20", "-w", "\n%{http_code} %{http_version}"])
        .args(args)
        .output()
        .expect("run curl");
    let mut body = out.stdout;
    let at = body
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("curl's -w line");
    let tail = String::from_utf8_lossy(&body[at + 1..]).into_owned();
    body.truncate(at);
    (out.status.code().unwrap_or(-1), body, tail)
}

const PROTOCOLS: [(&str, &str); 3] = [
    ("--http1.1", "200 1.1"),
    ("--http2-prior-knowledge", "200 2"),
    ("--http2", "200 2"),
];

#[test]
fn pieces_arrive_in_order_and_large_bodies_whole() {
    if !have_curl() {
        return;
    }
    each_backend(|kind, addr| {
        for (flag, status) in PROTOCOLS {
            let url = format!("http://{addr}/count");
            let (code, body, tail) = curl(&[flag, &url]);
            assert_eq!((code, tail.as_str()), (0, status), "{kind} {flag} /count");
            assert_eq!(body, b"0\n1\n2\n3\n4\n", "{kind} {flag} /count");

            let url = format!("http://{addr}/big");
            let (code, body, tail) = curl(&[flag, &url]);
            assert_eq!((code, tail.as_str()), (0, status), "{kind} {flag} /big");
            assert!(
                body.len() == BIG && body.iter().all(|&b| b == b'b'),
                "{kind} {flag} /big: {} bytes",
                body.len()
            );
        }
    });
}

/// Reads one chunked HTTP/1.1 response (RFC 9112 §7.1) off `s`: its head
/// and its body.
fn read_chunked(s: &mut TcpStream, buf: &mut Vec<u8>) -> (String, Vec<u8>) {
    let mut chunk = [0u8; 8192];
    let mut fill = |buf: &mut Vec<u8>| {
        let n = s.read(&mut chunk).expect("read");
        assert!(n > 0, "closed mid-response");
        buf.extend_from_slice(&chunk[..n]);
    };
    let line = |buf: &mut Vec<u8>, fill: &mut dyn FnMut(&mut Vec<u8>)| loop {
        if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
            let l = String::from_utf8_lossy(&buf[..i]).into_owned();
            buf.drain(..i + 2);
            return l;
        }
        fill(buf);
    };
    let mut head = String::new();
    loop {
        let l = line(buf, &mut fill);
        if l.is_empty() {
            break;
        }
        head.push_str(&l);
        head.push('\n');
    }
    let mut body = Vec::new();
    loop {
        let size = usize::from_str_radix(line(buf, &mut fill).trim(), 16).expect("chunk size");
        if size == 0 {
            assert_eq!(line(buf, &mut fill), "", "trailer section");
            return (head, body);
        }
        while buf.len() < size + 2 {
            fill(buf);
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

#[test]
fn keep_alive_goes_on_after_a_streamed_response() {
    each_backend(|kind, addr| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // Pipelined: the streamed response, a plain one, a HEAD of the
        // streamed route (no body), and the streamed one again.
        s.write_all(
            b"GET /count HTTP/1.1\r\nHost: x\r\n\r\n\
              GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n\
              HEAD /count HTTP/1.1\r\nHost: x\r\n\r\n\
              GET /count HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
        let mut buf = Vec::new();
        let (head, body) = read_chunked(&mut s, &mut buf);
        assert!(head.starts_with("HTTP/1.1 200"), "{kind}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "{kind}: {head}"
        );
        assert_eq!(body, b"0\n1\n2\n3\n4\n", "{kind}");
        let plain = b"Hello, World!";
        while !buf.windows(plain.len()).any(|w| w == plain) {
            let mut chunk = [0u8; 4096];
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "{kind}: closed after the streamed response");
            buf.extend_from_slice(&chunk[..n]);
        }
        let at = buf.windows(plain.len()).position(|w| w == plain).unwrap();
        buf.drain(..at + plain.len());
        // HEAD: the head only, then the next response.
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut chunk).unwrap();
            buf.extend_from_slice(&chunk[..n]);
        }
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 200"), "{kind} HEAD: {head}");
        buf.drain(..end + 4);
        let (head, body) = read_chunked(&mut s, &mut buf);
        assert!(head.starts_with("HTTP/1.1 200"), "{kind}: {head}");
        assert_eq!(body, b"0\n1\n2\n3\n4\n", "{kind}: after HEAD");
    });
}

#[test]
fn a_panicking_producer_cuts_only_its_own_body() {
    if !have_curl() {
        return;
    }
    each_backend(|kind, addr| {
        for (flag, _) in PROTOCOLS {
            let (code, body, _) = curl(&[flag, &format!("http://{addr}/panic")]);
            // HTTP/1.1: the connection closes before the last chunk (curl
            // 18, partial file); HTTP/2: the stream is reset (curl 92).
            assert_ne!(code, 0, "{kind} {flag}: a cut body read as complete");
            assert!(
                body.starts_with(b"first piece") || body.is_empty(),
                "{kind} {flag}"
            );
            let (code, body, _) = curl(&[flag, &format!("http://{addr}/plaintext")]);
            assert_eq!(
                (code, &body[..]),
                (0, &b"Hello, World!"[..]),
                "{kind} {flag}"
            );
        }
    });
}

#[test]
fn a_producer_stops_when_its_client_goes_away() {
    each_backend(|kind, addr| {
        let before = GAVE_UP.load(Ordering::SeqCst);
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut chunk = [0u8; 65536];
        let mut got = 0;
        while got < 100_000 {
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "{kind}: closed");
            got += n;
        }
        drop(s);
        let deadline = Instant::now() + Duration::from_secs(10);
        while GAVE_UP.load(Ordering::SeqCst) == before {
            assert!(
                Instant::now() < deadline,
                "{kind}: the producer never saw the client go"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // HTTP/2: curl gives up after half a second and closes.
        if !have_curl() {
            return;
        }
        let before = GAVE_UP.load(Ordering::SeqCst);
        let url = format!("http://{addr}/endless");
        let (code, body, _) = curl(&["--http2-prior-knowledge", "-m", "0.5", &url]);
        assert_eq!(code, 28, "{kind}: curl should time out on an endless body");
        assert!(!body.is_empty(), "{kind}: nothing streamed over HTTP/2");
        let deadline = Instant::now() + Duration::from_secs(10);
        while GAVE_UP.load(Ordering::SeqCst) == before {
            assert!(
                Instant::now() < deadline,
                "{kind}: the HTTP/2 producer never saw the client go"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}
