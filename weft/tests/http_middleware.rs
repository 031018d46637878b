//! Middleware composed on a router, seen from a real client socket on
//! every compiled-in backend; the access log's events are caught by a
//! small `tracing` subscriber installed for this test binary; `compress()`
//! is read by curl, which decodes gzip.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use weft::http::{Method, Request, Response, Router, Server, middleware};
use weft::rt::BackendKind;

/// Keeps the `weft::access` events, each as `name=value` pairs.
struct AccessLog(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for AccessLog {
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        meta.target() == "weft::access"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut f = Fields(String::new());
        event.record(&mut f);
        self.0.lock().unwrap().push(f.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The access log lines seen so far (the subscriber is installed once).
fn access_log() -> Arc<Mutex<Vec<String>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<String>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::set_global_default(AccessLog(log.clone())).unwrap();
        log
    })
    .clone()
}

fn exchange(addr: std::net::SocketAddr, raw: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.to_ascii_lowercase()
}

#[test]
fn timeout_request_id_cors_compose() {
    let log = access_log();
    for kind in BackendKind::enabled() {
        compose_on(kind, &log);
    }
}

fn compose_on(kind: BackendKind, log: &Mutex<Vec<String>>) {
    let router = Router::new()
        .get("/fast", |_r: Request| async { "fast" })
        .get("/slow", |_r: Request| async {
            weft::rt::time::sleep(Duration::from_secs(10)).await;
            "never"
        })
        .route(Method::Options, "/fast", |_r: Request| async {
            Response::text("not a preflight")
        })
        .layer(middleware::timeout(Duration::from_millis(100)))
        .layer(middleware::request_id())
        .layer(middleware::access_log())
        .layer(middleware::cors("https://example.org"));
    let server = Server::bind("127.0.0.1:0".parse().unwrap())
        .workers(1)
        .backend(kind)
        .serve(router)
        .unwrap();
    let addr = server.local_addr();

    let fast = exchange(
        addr,
        "GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(fast.starts_with("http/1.1 200"), "{kind}: {fast}");
    assert!(
        fast.contains("x-request-id: 0-1") || fast.contains("x-request-id: 0-"),
        "{fast}"
    );
    assert!(
        fast.contains("access-control-allow-origin: https://example.org"),
        "{fast}"
    );

    let given = exchange(
        addr,
        "GET /fast HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\r\nConnection: close\r\n\r\n",
    );
    assert!(given.contains("x-request-id: abc"), "{given}");

    let slow = exchange(
        addr,
        "GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(slow.starts_with("http/1.1 503"), "{slow}");

    let pre = exchange(
        addr,
        "OPTIONS /fast HTTP/1.1\r\nHost: x\r\nOrigin: https://example.org\r\nAccess-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: x-a\r\nConnection: close\r\n\r\n",
    );
    assert!(pre.starts_with("http/1.1 204"), "{pre}");
    assert!(pre.contains("access-control-allow-headers: x-a"), "{pre}");
    server.shutdown(Duration::from_secs(1)).unwrap();

    // One access log event per request that reached it, with method, path
    // and status; the preflight was answered by CORS, the outer layer.
    let lines = std::mem::take(&mut *log.lock().unwrap());
    let count = |want: &str| lines.iter().filter(|l| l.starts_with(want)).count();
    assert_eq!(
        count("method=GET path=/fast status=200 "),
        2,
        "{kind}: {lines:#?}"
    );
    assert_eq!(
        count("method=GET path=/slow status=503 "),
        1,
        "{kind}: {lines:#?}"
    );
    assert_eq!(lines.len(), 3, "{kind}: {lines:#?}");
}

/// `curl -s -D - ARGS URL`: response headers (lowercase) and body.
fn curl(args: &[&str], url: &str) -> Option<(String, Vec<u8>)> {
    let out = std::process::Command::new("curl")
        .args(["-s", "-m", "10", "-D", "/dev/stderr"])
        .args(args)
        .arg(url)
        .output();
    let Ok(out) = out else {
        assert!(
            std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "curl is required (WEFT_REQUIRE_SERVICES=1)"
        );
        return None;
    };
    assert!(
        out.status.success(),
        "curl {args:?} {url}: {:?}",
        out.status
    );
    Some((
        String::from_utf8_lossy(&out.stderr).to_ascii_lowercase(),
        out.stdout,
    ))
}

/// `compress()` against curl, which decodes what it asks for
/// (`--compressed`), over HTTP/1.1 and HTTP/2 on every backend.
#[test]
fn compress_gzips_for_clients_that_take_it() {
    let json = br#"{"id":1234,"randomNumber":5678,"message":"Hello, World!"}"#.repeat(100);
    let opaque = vec![7u8; 5000];
    for kind in BackendKind::enabled() {
        let (j, o) = (json.clone(), opaque.clone());
        let router = Router::new()
            .get("/json", move |_r: Request| {
                let j = j.clone();
                async move { Response::json(j) }
            })
            .get("/opaque", move |_r: Request| {
                let o = o.clone();
                async move {
                    Response::status(weft::http::StatusCode::OK)
                        .content_type("application/octet-stream")
                        .body(o)
                }
            })
            .get("/small", |_r: Request| async { "Hello, World!" })
            .layer(middleware::compress());
        let server = Server::bind("127.0.0.1:0".parse().unwrap())
            .backend(kind)
            .serve(router)
            .unwrap();
        let base = format!("http://{}", server.local_addr());
        for proto in ["--http1.1", "--http2-prior-knowledge"] {
            let ctx = format!("{kind} {proto}");
            let Some((head, body)) = curl(&[proto, "--compressed"], &format!("{base}/json")) else {
                return;
            };
            assert!(head.contains("content-encoding: gzip"), "{ctx}: {head}");
            assert!(head.contains("vary: accept-encoding"), "{ctx}: {head}");
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            assert!(
                len > 0 && len * 10 < json.len(),
                "{ctx}: {len} bytes on the wire"
            );
            assert!(body == json, "{ctx}: decoded body differs");

            // No Accept-Encoding: the body as it is, Vary still said.
            let (head, body) = curl(&[proto], &format!("{base}/json")).unwrap();
            assert!(!head.contains("content-encoding"), "{ctx}: {head}");
            assert!(head.contains("vary: accept-encoding"), "{ctx}: {head}");
            assert!(body == json, "{ctx}: plain body differs");

            // Refused by weight, an opaque type, a small body: untouched.
            let refuse = ["-H", "accept-encoding: gzip;q=0, br"];
            let (head, body) = curl(
                &[&[proto][..], &refuse[..]].concat(),
                &format!("{base}/json"),
            )
            .unwrap();
            assert!(!head.contains("content-encoding"), "{ctx} q=0: {head}");
            assert!(body == json, "{ctx} q=0");
            let (head, body) = curl(&[proto, "--compressed"], &format!("{base}/opaque")).unwrap();
            assert!(!head.contains("content-encoding"), "{ctx} opaque: {head}");
            assert_eq!(body, opaque, "{ctx} opaque");
            let (head, body) = curl(&[proto, "--compressed"], &format!("{base}/small")).unwrap();
            assert!(!head.contains("content-encoding"), "{ctx} small: {head}");
            assert_eq!(body, b"Hello, World!", "{ctx} small");
        }
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}
