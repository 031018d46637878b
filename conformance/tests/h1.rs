//! The `h1` suite against the weft server, started in-process on every
//! backend with the demo's routes (`/`, `/plaintext`, `/json`, `POST
//! /echo`), and the command line around it.

mod support;

use std::time::Duration;

use support::{conformance, demo};

/// What the suite finds in weft today, each a MUST of RFC 9112/9110 the
/// server does not meet yet. The test fails when this list is out of date
/// in either direction: a new failure, or one fixed (then remove it here).
const KNOWN_WEFT_FAILURES: &[(&str, &str)] = &[];

#[test]
fn h1_suite_against_weft_finds_only_the_known_deviations() {
    support::suite_on_every_backend("h1", KNOWN_WEFT_FAILURES, 40);
}

#[test]
fn command_line_filters_lists_and_exit_codes() {
    let server = demo();
    let addr = server.local_addr().to_string();

    // A passing section: exit 0, one line per case, the summary last.
    let (code, out) = conformance(&["h1", "--addr", &addr, "--section", "9112-9.6"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("PASS  9112-9.6").count(), 2, "{out}");
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("2 cases, 2 passed, 0 failed"),
        "{out}"
    );

    server.shutdown(Duration::from_secs(2)).unwrap();

    // A failing section: exit 1, expected and seen printed. The server is
    // a stub that answers every request without a Date header.
    let dateless = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dateless_addr = dateless.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for conn in dateless.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let (code, out) = conformance(&["h1", "--addr", &dateless_addr, "--section", "9110-6.6.1"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL") && out.contains("expected:") && out.contains("seen:"),
        "{out}"
    );

    // --list needs no server.
    let (code, out) = conformance(&["--list"]);
    assert_eq!(code, 0, "{out}");
    for suite in ["h1 ", "resp ", "memcache ", "pg "] {
        assert!(
            out.lines().any(|l| l.starts_with(suite)),
            "{suite} missing: {out}"
        );
    }
    let (code, out) = conformance(&["pg", "--list", "--section", "55.2.6"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 4, "{out}");

    // Usage errors: exit 2.
    assert_eq!(conformance(&["nosuch"]).0, 2);
    assert_eq!(conformance(&["h1", "--dsn", "x"]).0, 2);
    assert_eq!(conformance(&["h1", "--timeout", "-1"]).0, 2);
    assert_eq!(
        conformance(&["h1", "--section", "99.99", "--addr", &addr]).0,
        2
    );

    // Nothing listening: every case fails, quickly, exit 1.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (code, out) = conformance(&[
        "memcache",
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--section",
        "text/other",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("1 failed"), "{out}");
}
