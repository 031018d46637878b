//! Parsing is independent of how the input is split: any request, or
//! pipeline of requests, cut at any byte boundaries gives the same events
//! and the same output as one read. The checks are the ones the fuzz
//! targets `h1_request` and `h1_server_conn` run.

use proptest::prelude::*;
use proto_http::h1::check::{check_server_conn, server_transcript};
use proto_http::h1::{Config, Limits, check_request_split_invariant};

/// Wire bytes of one valid request (and how many body bytes it carries).
fn request() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("HEAD"),
        Just("PUT"),
        Just("OPTIONS"),
        Just("X-CUSTOM")
    ];
    let target = "/[a-zA-Z0-9/?=&%._-]{0,30}";
    let fields = proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[ -~]{0,20}"), 0..6);
    let body = proptest::collection::vec(any::<u8>(), 0..200);
    let framing = 0u8..4; // 0 none, 1 content-length, 2 chunked, 3 chunked with ext + trailers
    let version = prop_oneof![3 => Just("HTTP/1.1"), 1 => Just("HTTP/1.0")];
    let pieces = proptest::collection::vec(1usize..50, 1..5);
    (
        method,
        target,
        fields,
        body,
        framing,
        version,
        pieces,
        any::<bool>(),
    )
        .prop_map(|(m, t, f, body, framing, v, pieces, leading_crlf)| {
            let mut w = Vec::new();
            if leading_crlf {
                w.extend_from_slice(b"\r\n");
            }
            w.extend_from_slice(format!("{m} {t} {v}\r\nHost: h\r\n").as_bytes());
            if v == "HTTP/1.0" {
                w.extend_from_slice(b"Connection: keep-alive\r\n");
            }
            for (n, val) in &f {
                let lname = n.to_ascii_lowercase();
                if [
                    "content-length",
                    "transfer-encoding",
                    "host",
                    "connection",
                    "expect",
                    "upgrade",
                ]
                .contains(&lname.as_str())
                {
                    continue;
                }
                w.extend_from_slice(format!("{n}:{val}\r\n").as_bytes());
            }
            let framing = if v == "HTTP/1.0" && framing >= 2 {
                1
            } else {
                framing
            };
            match framing {
                0 => w.extend_from_slice(b"\r\n"),
                1 => {
                    w.extend_from_slice(
                        format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                    );
                    w.extend_from_slice(&body);
                }
                _ => {
                    w.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    let mut rest = &body[..];
                    let mut i = 0;
                    while !rest.is_empty() {
                        let n = pieces[i % pieces.len()].min(rest.len());
                        i += 1;
                        if framing == 3 {
                            w.extend_from_slice(format!("{n:X} ; name=\"v\\\"al\"\r\n").as_bytes());
                        } else {
                            w.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                        }
                        w.extend_from_slice(&rest[..n]);
                        w.extend_from_slice(b"\r\n");
                        rest = &rest[n..];
                    }
                    w.extend_from_slice(b"0\r\n");
                    if framing == 3 {
                        w.extend_from_slice(b"Trailer-One: 1\r\n");
                    }
                    w.extend_from_slice(b"\r\n");
                }
            }
            w
        })
}

fn cuts(max: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..max.max(1), 0..12)
}

/// Mixes valid bytes with damage: flipped bytes, inserted CR/LF/NUL/SP,
/// truncation.
fn damaged() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(request(), 1..3),
        proptest::collection::vec(
            (
                any::<usize>(),
                prop_oneof![
                    Just(b'\r'),
                    Just(b'\n'),
                    Just(0u8),
                    Just(b' '),
                    Just(b':'),
                    Just(b';'),
                    any::<u8>()
                ],
            ),
            0..4,
        ),
    )
        .prop_map(|(reqs, edits)| {
            let mut w = reqs.concat();
            for (at, b) in edits {
                if w.is_empty() {
                    break;
                }
                let at = at % w.len();
                w[at] = b;
            }
            w
        })
}

proptest! {
    #[test]
    fn pipelines_parse_the_same_at_any_split(reqs in proptest::collection::vec(request(), 1..4), cuts in cuts(2000)) {
        let input = reqs.concat();
        // Same transcript whole / split / byte-by-byte; valid responses.
        check_server_conn(&input, &cuts);
        let config = Config { limits: Limits { max_request_line: 256, max_head_bytes: 1024, max_headers: 16, max_body: 4096, max_chunk_line: 64 }, max_pipelined: 4, ..Config::default() };
        let t = server_transcript(&input, &cuts, &config);
        let errors = t.events.iter().filter(|e| e.starts_with("error")).count();
        prop_assert_eq!(errors, 0, "{:?}", t.events);
        prop_assert_eq!(t.methods.len(), reqs.len());
        for r in &reqs {
            check_request_split_invariant(r, &Limits::default());
        }
    }

    #[test]
    fn damaged_input_is_split_invariant(input in damaged(), cuts in cuts(2000)) {
        check_server_conn(&input, &cuts);
        check_request_split_invariant(&input, &Limits::default());
    }

    #[test]
    fn arbitrary_bytes_are_split_invariant(input in proptest::collection::vec(any::<u8>(), 0..300), cuts in cuts(300)) {
        check_server_conn(&input, &cuts);
        check_request_split_invariant(&input, &Limits { max_request_line: 64, max_head_bytes: 128, ..Limits::default() });
    }
}
