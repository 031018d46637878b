//! The `h2` suite against the weft server, started in-process on every
//! backend with the demo's routes (`/`, `/plaintext`, `/json`, `POST
//! /echo`), over prior knowledge and the HTTP/1.1 `Upgrade: h2c` path.

mod support;

use std::time::Duration;

use support::{conformance, demo};

/// What the suite finds in weft today, each a MUST of RFC 9113/7541 the
/// server does not meet yet. The test fails when this list is out of date
/// in either direction: a new failure, or one fixed (then remove it here).
const KNOWN_WEFT_FAILURES: &[(&str, &str)] = &[];

#[test]
fn h2_suite_against_weft_finds_only_the_known_deviations() {
    support::suite_on_every_backend("h2", KNOWN_WEFT_FAILURES, 100);
}

#[test]
fn command_line_sections_and_the_upgrade_option() {
    let server = demo();
    let addr = server.local_addr().to_string();

    // The RFC prefix is optional in --section: 6.5.2 selects 9113-6.5.2.
    let (code, out) = conformance(&["h2", "--addr", &addr, "--section", "6.5.2"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("PASS  9113-6.5.2").count(), 5, "{out}");

    // The upgrade cases run by default and skip with --upgrade off.
    let (code, out) = conformance(&["h2", "--addr", &addr, "--section", "7540-3.2"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("PASS  7540-3.2").count(), 4, "{out}");
    let (code, out) = conformance(&[
        "h2",
        "--addr",
        &addr,
        "--section",
        "7540-3.2",
        "--upgrade",
        "off",
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("SKIP  7540-3.2").count(), 4, "{out}");
    server.shutdown(Duration::from_secs(2)).unwrap();

    // An HTTP/1.1-only listener: the prior-knowledge cases fail, saying so.
    let h1_only = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let h1_addr = h1_only.local_addr().unwrap().to_string();
    let answer = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = h1_only.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    let (code, out) = conformance(&["h2", "--addr", &h1_addr, "--section", "9113-3.3"]);
    answer.join().unwrap();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no HTTP/2 by prior knowledge"), "{out}");

    // --list shows the h2 suite.
    let (code, out) = conformance(&["h2", "--list", "--section", "7541-5.2"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 3, "{out}");
}
