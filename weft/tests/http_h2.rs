//! The HTTP/2 server against real clients (curl, nghttp, h2load) and raw
//! sockets, on every compiled-in backend: h2c upgrade (with a body, with the
//! preface in the same or a later write), prior knowledge, plain HTTP/1.1 on
//! the same port, ambiguous upgrades answered as HTTP/1.1, concurrent
//! streams, graceful GOAWAY on shutdown, and hostile peers (rapid reset,
//! CONTINUATION flood) that lose their own connection only.

use bytes::{BufMut, Bytes, BytesMut};
use proto_http::h2::frame::{self, Frame, FrameHeader, PREFACE, StreamId, kind};
use proto_http::h2::hpack::{Decoder, Encoder, HeaderField};
use proto_http::h2::{ErrorCode, settings::Setting};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;
use weft::http::{Request, Response, Router, RunningServer, Server};
use weft::rt::BackendKind;

fn router() -> Router {
    Router::new()
        .get("/plaintext", |_r: Request| async { "Hello, World!" })
        .get("/version", |r: Request| async move {
            Response::text(format!("{:?}", r.version()))
        })
        .post("/echo", |r: Request| async move {
            Response::text(r.into_body())
        })
        .get("/big", |_r: Request| async {
            Response::text(vec![b'x'; 100_000])
        })
        .get("/slow", |_r: Request| async {
            weft::rt::time::sleep(Duration::from_millis(50)).await;
            "slow"
        })
        .get("/started", |_r: Request| async {
            STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            weft::rt::time::sleep(Duration::from_millis(100)).await;
            "slow"
        })
}

/// How many `/started` handlers began (the shutdown test waits for one).
static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn start(kind: BackendKind) -> RunningServer {
    Server::bind("127.0.0.1:0".parse().unwrap())
        .workers(2)
        .backend(kind)
        .serve(router())
        .unwrap()
}

fn each_backend(f: impl Fn(BackendKind, SocketAddr)) {
    for kind in BackendKind::enabled() {
        let server = start(kind);
        f(kind, server.local_addr());
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}

/// Whether an external client is installed; without it the test is skipped
/// unless WEFT_REQUIRE_SERVICES=1 (CI), where it fails.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("WEFT_REQUIRE_SERVICES").is_none(),
            "{tool} is not installed (apt-get install curl nghttp2-client)"
        );
        eprintln!("skipped: {tool} not installed");
    }
    ok
}

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn curl(args: &[&str]) -> String {
    let mut all = vec!["-sS", "--max-time", "10"];
    all.extend_from_slice(args);
    run("curl", &all)
}

#[test]
fn curl_upgrade_prior_knowledge_and_http1_on_one_port() {
    if !have("curl") {
        return;
    }
    each_backend(|kind, addr| {
        let base = format!("http://{addr}");
        let v = "%{http_version}";
        // h2c upgrade (RFC 7540 §3.2): the request (itself HTTP/1.1) is
        // answered over HTTP/2 on stream 1; the next one is an HTTP/2 stream.
        let out = curl(&[
            "--http2",
            "-w",
            v,
            &format!("{base}/version"),
            &format!("{base}/version"),
        ]);
        assert_eq!(out, "Http112H22", "{kind}: upgrade");
        // Upgrade with a request body: read fully before switching.
        let out = curl(&[
            "--http2",
            "--data-binary",
            "upload",
            "-w",
            v,
            &format!("{base}/echo"),
        ]);
        assert_eq!(out, "upload2", "{kind}: upgrade with body");
        // Prior knowledge. One URL per run: curl 7.88 fails to reuse a
        // prior-knowledge connection (curl/curl#10634, fixed in 8.0).
        let out = curl(&[
            "--http2-prior-knowledge",
            "-w",
            v,
            &format!("{base}/version"),
        ]);
        assert_eq!(out, "H22", "{kind}: prior knowledge");
        let out = curl(&[
            "--http2-prior-knowledge",
            "--data-binary",
            "abc",
            &format!("{base}/echo"),
        ]);
        assert_eq!(out, "abc");
        // An upload far larger than the receive windows: WINDOW_UPDATEs
        // must flow while the body is collected.
        let big: String = (0..1_500_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let path =
            std::env::temp_dir().join(format!("weft-h2-upload-{kind}-{}", std::process::id()));
        std::fs::write(&path, &big).unwrap();
        let echoed = curl(&[
            "--http2-prior-knowledge",
            "--data-binary",
            &format!("@{}", path.display()),
            &format!("{base}/echo"),
        ]);
        std::fs::remove_file(&path).ok();
        assert!(
            echoed == big,
            "{kind}: 1.5 MB upload echoed {} bytes",
            echoed.len()
        );
        // A body larger than the initial windows.
        let out = curl(&["--http2-prior-knowledge", &format!("{base}/big")]);
        assert_eq!(out.len(), 100_000, "{kind}: big body");
        // 404 and plain HTTP/1.1 still work on the same port.
        let out = curl(&[
            "--http2-prior-knowledge",
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            &format!("{base}/nope"),
        ]);
        assert_eq!(out, "404");
        let out = curl(&["--http1.1", "-w", v, &format!("{base}/version")]);
        assert_eq!(out, "Http111.1", "{kind}: HTTP/1.1");
    });
}

#[test]
fn nghttp_upgrade_and_concurrent_streams() {
    if !have("nghttp") {
        return;
    }
    each_backend(|kind, addr| {
        let base = format!("http://{addr}");
        // -u: h2c upgrade.
        let out = run("nghttp", &["-u", &format!("{base}/plaintext")]);
        assert_eq!(out, "Hello, World!", "{kind}: nghttp -u");
        // Prior knowledge, 16 concurrent streams of a handler that sleeps.
        let out = run("nghttp", &["-m", "16", &format!("{base}/slow")]);
        assert_eq!(out, "slow".repeat(16), "{kind}: nghttp -m 16");
        // Mixed paths on one connection.
        let out = run(
            "nghttp",
            &[
                &format!("{base}/plaintext"),
                &format!("{base}/slow"),
                &format!("{base}/big"),
            ],
        );
        assert_eq!(out.len(), 13 + 4 + 100_000, "{kind}");
    });
}

#[test]
fn h2load_short_run() {
    if !have("h2load") {
        return;
    }
    each_backend(|kind, addr| {
        let out = run(
            "h2load",
            &[
                "-n",
                "2000",
                "-c",
                "4",
                "-m",
                "8",
                &format!("http://{addr}/plaintext"),
            ],
        );
        assert!(
            out.contains(
                "2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored"
            ),
            "{kind}: {out}"
        );
        assert!(out.contains("status codes: 2000 2xx"), "{kind}: {out}");
        let rps = out
            .lines()
            .find(|l| l.starts_with("finished in"))
            .unwrap_or("");
        eprintln!("h2load {kind}: {rps} (debug build)");
    });
}

// ---- a raw HTTP/2 client, for what real clients do not send --------------------

struct Raw {
    s: TcpStream,
    buf: BytesMut,
    enc: Encoder,
    dec: Decoder,
}

#[derive(Debug)]
enum Got {
    Headers(u32, Vec<HeaderField>, bool),
    Data(u32, Vec<u8>, bool),
    Rst(u32, ErrorCode),
    GoAway(u32, ErrorCode),
    Other,
    Closed,
}

impl Raw {
    fn connect(addr: SocketAddr) -> Raw {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw {
            s,
            buf: BytesMut::new(),
            enc: Encoder::default(),
            dec: Decoder::default(),
        }
    }

    /// Preface and an empty SETTINGS (prior knowledge).
    fn h2(addr: SocketAddr) -> Raw {
        let mut r = Raw::connect(addr);
        let mut b = BytesMut::from(&PREFACE[..]);
        frame::encode_settings(&[], &mut b);
        frame::Settings::ACK.encode(&mut b);
        r.write(&b);
        r
    }

    fn write(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    fn block(&mut self, path: &str) -> BytesMut {
        let fields = [
            HeaderField::new(":method", "GET"),
            HeaderField::new(":scheme", "http"),
            HeaderField::new(":authority", "localhost"),
            HeaderField::new(":path", path.to_owned()),
        ];
        let mut block = BytesMut::new();
        self.enc.encode(&fields, &mut block);
        block
    }

    fn get(&mut self, id: u32, path: &str) {
        let block = self.block(path);
        let mut b = BytesMut::new();
        frame::encode_header_block(StreamId::new(id), &block, true, 16_384, &mut b);
        self.write(&b);
    }

    /// The next frame from the server (SETTINGS, PING, WINDOW_UPDATE as `Other`).
    fn next(&mut self) -> Got {
        loop {
            if let Some(h) = FrameHeader::parse(&self.buf) {
                let len = 9 + h.length as usize;
                if self.buf.len() >= len {
                    let raw = self.buf.split_to(len).freeze();
                    let (f, _) = frame::decode(&raw, 1 << 24).unwrap().unwrap();
                    return match f {
                        Frame::Headers(h) => {
                            let fields = self
                                .dec
                                .decode(&Bytes::copy_from_slice(h.fragment))
                                .unwrap();
                            Got::Headers(h.stream_id.get(), fields, h.end_stream)
                        }
                        Frame::Data(d) => {
                            Got::Data(d.stream_id.get(), d.data.to_vec(), d.end_stream)
                        }
                        Frame::RstStream(r) => Got::Rst(r.stream_id.get(), r.error_code),
                        Frame::GoAway(g) => Got::GoAway(g.last_stream_id.get(), g.error_code),
                        _ => Got::Other,
                    };
                }
            }
            let mut chunk = [0u8; 16384];
            match self.s.read(&mut chunk) {
                Ok(0) | Err(_) => return Got::Closed,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads until stream `id` ends; its status and body.
    fn response(&mut self, id: u32) -> (String, Vec<u8>) {
        let mut status = String::new();
        let mut body = Vec::new();
        loop {
            match self.next() {
                Got::Headers(s, f, end) if s == id => {
                    if let Some(st) = f.iter().find(|f| &f.name[..] == b":status") {
                        status = String::from_utf8_lossy(&st.value).into_owned();
                    }
                    if end {
                        return (status, body);
                    }
                }
                Got::Data(s, d, end) if s == id => {
                    body.extend_from_slice(&d);
                    if end {
                        return (status, body);
                    }
                }
                Got::Closed => panic!("connection closed before stream {id} ended"),
                Got::Rst(s, code) if s == id => panic!("stream {id} reset: {code}"),
                _ => {}
            }
        }
    }

    /// Reads until GOAWAY or close; the GOAWAY's code.
    fn goaway(&mut self) -> Option<ErrorCode> {
        loop {
            match self.next() {
                Got::GoAway(_, code) => return Some(code),
                Got::Closed => return None,
                _ => {}
            }
        }
    }
}

fn upgrade_request(body: &str) -> String {
    format!(
        "POST /echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n\
         Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads the 101 head off `r` (its bytes, up to the blank line).
fn read_101(r: &mut Raw) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(r.s.read(&mut byte).unwrap(), 1, "closed during 101");
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    assert!(text.to_ascii_lowercase().contains("upgrade: h2c"), "{text}");
}

#[test]
fn h2c_upgrade_with_the_preface_in_the_same_or_a_later_write() {
    each_backend(|kind, addr| {
        let mut preface = BytesMut::from(&PREFACE[..]);
        frame::encode_settings(&[], &mut preface);
        // Same write: request, body and preface together.
        let mut r = Raw::connect(addr);
        let mut all = upgrade_request("same-read").into_bytes();
        all.extend_from_slice(&preface);
        r.write(&all);
        read_101(&mut r);
        assert_eq!(
            r.response(1),
            ("200".into(), b"same-read".to_vec()),
            "{kind}"
        );
        r.get(3, "/plaintext");
        assert_eq!(r.response(3).1, b"Hello, World!");

        // Split: the body arrives late, the preface in pieces after the 101.
        let mut r = Raw::connect(addr);
        let req = upgrade_request("split-body");
        let (head, body) = req.split_at(req.len() - 4);
        r.write(head.as_bytes());
        std::thread::sleep(Duration::from_millis(20));
        r.write(body.as_bytes());
        read_101(&mut r);
        r.write(&preface[..10]);
        std::thread::sleep(Duration::from_millis(20));
        r.write(&preface[10..]);
        assert_eq!(
            r.response(1),
            ("200".into(), b"split-body".to_vec()),
            "{kind}"
        );
    });
}

/// After the 101, the answer on stream 1 waits for the client's preface:
/// a client reads the 101 and whatever follows it into one buffer before
/// it switches to HTTP/2 (curl gives up when more than 32 KiB follows),
/// so only the server's SETTINGS may come first.
#[test]
fn h2c_upgrade_answer_waits_for_the_client_preface() {
    each_backend(|kind, addr| {
        // Within the initial window (65,535), so no WINDOW_UPDATE is owed.
        let body = "z".repeat(60_000);
        let mut r = Raw::connect(addr);
        r.write(upgrade_request(&body).as_bytes());
        read_101(&mut r);
        // Give a server that would not wait ample time to send the answer.
        std::thread::sleep(Duration::from_millis(300));
        r.s.set_nonblocking(true).unwrap();
        let mut chunk = [0u8; 65536];
        while let Ok(n) = r.s.read(&mut chunk) {
            if n == 0 {
                break;
            }
            r.buf.extend_from_slice(&chunk[..n]);
        }
        r.s.set_nonblocking(false).unwrap();
        assert!(!r.buf.is_empty(), "{kind}: no SETTINGS after the 101");
        // SETTINGS (and maybe a WINDOW_UPDATE), nothing on stream 1.
        while !r.buf.is_empty() {
            let got = r.next();
            assert!(
                matches!(got, Got::Other),
                "{kind}: before the preface: {got:?}"
            );
        }
        let mut preface = BytesMut::from(&PREFACE[..]);
        frame::encode_settings(&[], &mut preface);
        r.write(&preface);
        let (status, echoed) = r.response(1);
        assert_eq!(status, "200", "{kind}");
        assert!(
            echoed == body.as_bytes(),
            "{kind}: {} bytes back",
            echoed.len()
        );
    });
}

#[test]
fn ambiguous_or_invalid_upgrades_are_answered_as_http1() {
    each_backend(|kind, addr| {
        for req in [
            "GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c, websocket\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
            "GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
            "GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: !!\r\n\r\n",
        ] {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(req.as_bytes()).unwrap();
            let mut got = Vec::new();
            let mut chunk = [0u8; 4096];
            while !got.ends_with(b"Hello, World!") {
                let n = s.read(&mut chunk).unwrap();
                assert!(
                    n > 0,
                    "{kind}: closed; got {:?}",
                    String::from_utf8_lossy(&got)
                );
                got.extend_from_slice(&chunk[..n]);
            }
            let text = String::from_utf8_lossy(&got);
            assert!(text.starts_with("HTTP/1.1 200"), "{kind}: {text}");
        }
    });
}

#[test]
fn rapid_reset_ends_only_the_attackers_connection() {
    each_backend(|kind, addr| {
        let mut bystander = Raw::h2(addr);
        let mut r = Raw::h2(addr);
        let mut wire = BytesMut::new();
        for i in 0..1000u32 {
            let id = 1 + 2 * i;
            let block = r.block("/slow");
            frame::encode_header_block(StreamId::new(id), &block, true, 16_384, &mut wire);
            frame::RstStream {
                stream_id: StreamId::new(id),
                error_code: ErrorCode::Cancel,
            }
            .encode(&mut wire);
        }
        // The server may close while we still write: ignore write errors.
        let _ = r.s.write_all(&wire);
        assert_eq!(r.goaway(), Some(ErrorCode::EnhanceYourCalm), "{kind}");
        // The connection is closed after the GOAWAY.
        assert!(matches!(drain_to_close(&mut r), Got::Closed));
        // Others are unaffected.
        bystander.get(1, "/plaintext");
        assert_eq!(bystander.response(1).1, b"Hello, World!", "{kind}");
        let mut fresh = Raw::h2(addr);
        fresh.get(1, "/plaintext");
        assert_eq!(fresh.response(1).1, b"Hello, World!");
    });
}

fn drain_to_close(r: &mut Raw) -> Got {
    loop {
        if let Got::Closed = r.next() {
            return Got::Closed;
        }
    }
}

#[test]
fn continuation_flood_ends_only_the_attackers_connection() {
    each_backend(|kind, addr| {
        let mut r = Raw::h2(addr);
        let mut wire = BytesMut::new();
        // HEADERS without END_HEADERS, then endless CONTINUATIONs.
        let block = r.block("/plaintext");
        wire.put_slice(&(block.len() as u32).to_be_bytes()[1..]);
        wire.put_slice(&[kind::HEADERS, 0x1, 0, 0, 0, 1]);
        wire.put_slice(&block);
        for _ in 0..10_000 {
            wire.put_slice(&[0, 0, 4, kind::CONTINUATION, 0, 0, 0, 0, 1]);
            wire.put_slice(b"\x40\x01a");
            wire.put_u8(b'b');
        }
        let _ = r.s.write_all(&wire);
        assert_eq!(r.goaway(), Some(ErrorCode::EnhanceYourCalm), "{kind}");
        let mut fresh = Raw::h2(addr);
        fresh.get(1, "/plaintext");
        assert_eq!(fresh.response(1).1, b"Hello, World!", "{kind}");
    });
}

#[test]
fn shutdown_sends_goaway_and_lets_open_streams_finish() {
    for kind in BackendKind::enabled() {
        let server = start(kind);
        let addr = server.local_addr();
        let mut r = Raw::h2(addr);
        // Make sure the connection is established and served first.
        r.get(1, "/plaintext");
        assert_eq!(r.response(1).1, b"Hello, World!");
        // Shut down only once the handler of stream 3 runs.
        let before = STARTED.load(std::sync::atomic::Ordering::SeqCst);
        r.get(3, "/started");
        while STARTED.load(std::sync::atomic::Ordering::SeqCst) == before {
            std::thread::sleep(Duration::from_millis(1));
        }
        let stopper = std::thread::spawn(move || server.shutdown(Duration::from_secs(5)));
        let mut saw_goaway = None;
        let mut body = Vec::new();
        loop {
            match r.next() {
                Got::GoAway(last, code) => saw_goaway = Some((last, code)),
                Got::Data(3, d, end) => {
                    body.extend_from_slice(&d);
                    if end {
                        break;
                    }
                }
                Got::Closed => panic!("{kind}: closed before stream 3 finished"),
                _ => {}
            }
        }
        assert_eq!(body, b"slow", "{kind}");
        if saw_goaway.is_none() {
            saw_goaway = r.goaway().map(|code| (3, code));
        }
        assert_eq!(saw_goaway, Some((3, ErrorCode::NoError)), "{kind}");
        stopper.join().unwrap().unwrap();
    }
}

#[test]
fn settings_from_the_client_apply() {
    // A client that allows only small frames gets small DATA frames.
    each_backend(|kind, addr| {
        let mut r = Raw::connect(addr);
        let mut b = BytesMut::from(&PREFACE[..]);
        frame::encode_settings(
            &[
                Setting::MaxFrameSize(16_384),
                Setting::InitialWindowSize(1 << 20),
            ],
            &mut b,
        );
        r.write(&b);
        r.get(1, "/big");
        let mut total = 0;
        loop {
            match r.next() {
                Got::Data(1, d, end) => {
                    assert!(d.len() <= 16_384);
                    total += d.len();
                    if end {
                        break;
                    }
                }
                Got::Closed => panic!("{kind}: closed"),
                _ => {}
            }
            if (65_535..100_000).contains(&total) {
                // Connection window: open it.
                let mut w = BytesMut::new();
                frame::WindowUpdate {
                    stream_id: StreamId::ZERO,
                    increment: 1 << 20,
                }
                .encode(&mut w);
                r.write(&w);
            }
        }
        assert_eq!(total, 100_000, "{kind}");
    });
}
