//! The HTTP/1.1 server against real clients (curl, wrk) and raw sockets, on
//! every compiled-in backend: GET, POST, chunked upload, keep-alive reuse,
//! pipelining, request-smuggling and limit cases, slow-loris, panics.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};
use weft::http::{Request, Response, Router, RunningServer, Server, StatusCode};
use weft::rt::BackendKind;

fn router() -> Router {
    Router::new()
        .get("/plaintext", |_r: Request| async { "Hello, World!" })
        .post("/echo", |r: Request| async move {
            Response::text(r.into_body())
        })
        .get("/users/:id", |r: Request| async move {
            Response::text(format!("user {}", r.param("id").unwrap_or("?")))
        })
        .get("/panic", |_r: Request| async {
            if std::hint::black_box(true) {
                panic!("handler bug");
            }
            "unreachable"
        })
        .get("/slow", |_r: Request| async {
            weft::rt::time::sleep(Duration::from_millis(50)).await;
            "slow"
        })
}

fn start(kind: BackendKind, h1: proto_http::h1::Config) -> RunningServer {
    Server::bind("127.0.0.1:0".parse().unwrap())
        .workers(2)
        .backend(kind)
        .h1_config(h1)
        .serve(router())
        .unwrap()
}

fn each_backend(f: impl Fn(BackendKind, SocketAddr)) {
    for kind in BackendKind::enabled() {
        let server = start(kind, proto_http::h1::Config::default());
        f(kind, server.local_addr());
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}

/// Whether an external client is installed; without it the test is skipped
/// unless WEFT_REQUIRE_SERVICES=1 (CI), where it fails.
fn have(tool: &str) -> bool {
    // Only whether it starts: Debian's wrk exits 1 on --version.
    let ok = Command::new(tool).arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("WEFT_REQUIRE_SERVICES").is_none(),
            "{tool} is not installed (cargo xtask services up installs it)"
        );
        eprintln!("skipped: {tool} not installed");
    }
    ok
}

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn curl_get_post_chunked_keepalive() {
    if !have("curl") {
        return;
    }
    each_backend(|kind, addr| {
        let base = format!("http://{addr}");
        assert_eq!(
            curl(&[&format!("{base}/plaintext")]).0,
            "Hello, World!",
            "{kind}"
        );
        assert_eq!(
            curl(&["--data-binary", "ping", &format!("{base}/echo")]).0,
            "ping"
        );
        // Chunked upload (and curl's Expect: 100-continue for big bodies).
        let big: String = (0..200_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let path = std::env::temp_dir().join(format!("weft-upload-{kind}-{}", std::process::id()));
        std::fs::write(&path, &big).unwrap();
        let (body, _) = curl(&[
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            &format!("@{}", path.display()),
            &format!("{base}/echo"),
        ]);
        assert!(
            body == big,
            "{kind}: chunked upload echoed {} bytes",
            body.len()
        );
        let (body, _) = curl(&[
            "--data-binary",
            &format!("@{}", path.display()),
            &format!("{base}/echo"),
        ]);
        assert!(body == big, "{kind}: expect-continue upload");
        std::fs::remove_file(&path).ok();
        // Keep-alive: two requests, one connection.
        let (body, err) = curl(&["-v", &format!("{base}/users/1"), &format!("{base}/users/2")]);
        assert_eq!(body, "user 1user 2");
        assert!(
            err.contains("Re-using existing connection")
                || err.contains("Reusing existing connection"),
            "{kind}: connection not reused:\n{err}"
        );
        // HEAD: headers only.
        let (head, _) = curl(&["-I", &format!("{base}/plaintext")]);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("content-length: 13"),
            "{head}"
        );
    });
}

/// Reads one response (head + Content-Length body) from `s`.
fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(u16, String)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).into_owned();
                let status = head[9..12].parse().unwrap();
                buf.drain(..end + 4 + len);
                return Some((status, body));
            }
        }
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    each_backend(|kind, addr| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut reqs = Vec::new();
        for i in 0..20 {
            // A slow handler in the middle must not reorder anything.
            let path = if i == 5 {
                "/slow".to_string()
            } else {
                format!("/users/{i}")
            };
            reqs.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        }
        s.write_all(&reqs).unwrap();
        let mut buf = Vec::new();
        for i in 0..20 {
            let (status, body) = read_response(&mut s, &mut buf).unwrap();
            assert_eq!(status, 200);
            let want = if i == 5 {
                "slow".to_string()
            } else {
                format!("user {i}")
            };
            assert_eq!(body, want, "{kind}: response {i} out of order");
        }
    });
}

/// Sends `raw` on a fresh connection; returns the status and whether the
/// server closed the connection afterwards.
fn one_shot(addr: SocketAddr, raw: &[u8]) -> (u16, bool) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(raw);
    let mut buf = Vec::new();
    let (status, _) = read_response(&mut s, &mut buf).expect("no response");
    let mut rest = [0u8; 64];
    let closed = matches!(s.read(&mut rest), Ok(0) | Err(_));
    (status, closed)
}

#[test]
fn smuggling_and_limit_cases_are_refused_and_the_server_keeps_serving() {
    let huge_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let many_headers = format!(
        "GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..250)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9000));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "CL and TE together",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
            400,
        ),
        (
            "conflicting Content-Lengths",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde".to_vec(),
            400,
        ),
        ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n".to_vec(), 400),
        ("invalid token in header name", b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n".to_vec(), 400),
        ("bare CR", b"GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n".to_vec(), 400),
        ("chunked not final (RFC 9112 §6.3)", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(), 400),
        ("unknown transfer coding", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(), 501),
        ("header block over 64 KiB", huge_header.into_bytes(), 431),
        ("more than 200 headers", many_headers.into_bytes(), 431),
        ("request target too long", long_target.into_bytes(), 414),
        (
            "body over the limit",
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n".to_vec(),
            413,
        ),
    ];
    each_backend(|kind, addr| {
        for (name, raw, want) in &cases {
            let (status, closed) = one_shot(addr, raw);
            assert_eq!(status, *want, "{kind}: {name}");
            assert!(closed, "{kind}: {name}: connection left open");
            // Everyone else is still served.
            let (status, _) = one_shot(
                addr,
                b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            assert_eq!(status, 200, "{kind}: server stopped serving after {name}");
        }
    });
}

#[test]
fn a_panicking_handler_answers_500_and_the_worker_lives() {
    each_backend(|kind, addr| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(
            b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_response(&mut s, &mut buf).unwrap().0, 500, "{kind}");
        assert_eq!(
            read_response(&mut s, &mut buf).unwrap(),
            (200, "Hello, World!".into())
        );
    });
}

#[test]
fn slow_loris_is_cut_off_at_the_header_timeout() {
    for kind in BackendKind::enabled() {
        let server = start(
            kind,
            proto_http::h1::Config {
                header_timeout: Some(Duration::from_millis(400)),
                ..Default::default()
            },
        );
        let mut s = TcpStream::connect(server.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let start = Instant::now();
        // One byte every 100 ms: never a whole head.
        let head = b"GET /plaintext HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        for b in head.iter() {
            if s.write_all(&[*b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            if start.elapsed() > Duration::from_secs(2) {
                break;
            }
        }
        let mut buf = Vec::new();
        let resp = read_response(&mut s, &mut buf);
        let took = start.elapsed();
        assert_eq!(resp.map(|r| r.0), Some(408), "{kind}");
        assert!(
            took < Duration::from_secs(3),
            "{kind}: cut off after {took:?}"
        );
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}

#[test]
fn wrk_short_run() {
    if !have("wrk") {
        return;
    }
    each_backend(|kind, addr| {
        let out = Command::new("wrk")
            .args(["-t1", "-c8", "-d1s", &format!("http://{addr}/plaintext")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{kind}: wrk failed: {text}");
        assert!(!text.contains("Non-2xx"), "{kind}: {text}");
        assert!(!text.contains("Socket errors"), "{kind}: {text}");
        let rps: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0);
        assert!(rps > 0.0, "{kind}: {text}");
        eprintln!("wrk {kind}: {rps:.0} requests/s (debug build, 8 connections, 1 s)");
    });
}

#[test]
fn status_helpers_round_trip() {
    assert_eq!(
        Response::status(StatusCode::NOT_FOUND)
            .status_code()
            .as_u16(),
        404
    );
}
