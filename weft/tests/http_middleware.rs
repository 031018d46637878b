//! Middleware composed on a router, seen from a real client socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use weft::http::{Method, Request, Response, Router, Server, middleware};

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
        .serve(router)
        .unwrap();
    let addr = server.local_addr();

    let fast = exchange(
        addr,
        "GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(fast.starts_with("http/1.1 200"), "{fast}");
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
}
