//! HTTP/1.1 request-head parsing: `proto_http::h1::decode_request` against
//! `httparse::Request::parse`, in one run.
//!
//! ```sh
//! cargo run --release -p weft-benches --features peers --bin parse_peers -- [rounds] [iterations]
//! ```
//!
//! Four request shapes (a minimal GET, a browser-like GET with 10 header
//! fields, a POST with `Content-Length`, a GET with 30 header fields). Each
//! sample times `iterations` parses of one shape by one parser; the samples
//! alternate between the parsers and cycle over the shapes, `rounds` times
//! (default 51 rounds of 20,000), and the medians and minima (ns per
//! request) are printed with their ratios.
//!
//! The two do different amounts of work, so read the ratio with this in
//! mind. httparse tokenizes: it finds the method, path, version and the
//! field names and values, checking their characters, into a caller-owned
//! array of 64 headers. `decode_request` also does what a server must
//! before acting on a request (RFC 9112): it rejects bare LF line endings
//! and obs-fold, checks the request-target's form against the method
//! (§3.2), requires exactly one `Host` in HTTP/1.1 (§3.2), parses and
//! cross-checks `Content-Length` and `Transfer-Encoding` into a body length
//! (§6.3, rejecting both together), reads `Connection` for keep-alive and
//! upgrade, and `Expect: 100-continue`. It stores up to 24 field positions
//! inline and spills the rest to a `Vec` (the 30-field shape allocates).
//!
//! For instruction counts (callgrind, `perf stat`), `PARSE_PEERS_ONLY=weft`
//! or `=httparse` runs only that parser, untimed, `iterations` times over
//! each shape whose name contains `PARSE_PEERS_SHAPE` (all if unset), and
//! prints the parses done; two runs with different `iterations` give the
//! cost per parse without the process's own start-up:
//!
//! ```sh
//! PARSE_PEERS_ONLY=weft PARSE_PEERS_SHAPE=POST valgrind --tool=callgrind \
//!     target/release/parse_peers 0 100000
//! ```

use proto_http::h1::{BodyKind, Limits, decode_request};
use std::hint::black_box;
use std::time::Instant;
use weft_benches::{median, min_max};

struct Shape {
    name: &'static str,
    bytes: Vec<u8>,
}

fn shapes() -> Vec<Shape> {
    let minimal = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
    let browser = b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n\
Host: www.kittyhell.com\r\n\
User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_3; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n\
Accept-Encoding: gzip,deflate\r\n\
Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n\
Keep-Alive: 115\r\n\
Connection: keep-alive\r\n\
Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; __utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; __utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n\
Referer: http://www.kittyhell.com/\r\n\
\r\n"
        .to_vec();
    let post = b"POST /api/v1/items?dry_run=false HTTP/1.1\r\n\
Host: api.example.com\r\n\
User-Agent: curl/8.5.0\r\n\
Accept: application/json\r\n\
Content-Type: application/json\r\n\
Content-Length: 25\r\n\
\r\n\
{\"name\":\"widget\",\"qty\":3}"
        .to_vec();
    let mut many = b"GET /search?q=weft&page=2 HTTP/1.1\r\nHost: example.com\r\n".to_vec();
    for i in 1..30 {
        many.extend_from_slice(
            format!("X-Custom-Header-{i:02}: value-{i:02}-abcdefghij\r\n").as_bytes(),
        );
    }
    many.extend_from_slice(b"\r\n");
    vec![
        Shape {
            name: "minimal GET (1 field)",
            bytes: minimal,
        },
        Shape {
            name: "browser GET (10 fields)",
            bytes: browser,
        },
        Shape {
            name: "POST with Content-Length (5 fields)",
            bytes: post,
        },
        Shape {
            name: "GET with 30 fields",
            bytes: many,
        },
    ]
}

/// Parses `buf` with proto-http; returns (head length, field count).
fn weft_parse(buf: &[u8], limits: &Limits) -> (usize, usize) {
    match decode_request(buf, limits) {
        Ok(Some((head, n))) => (n, head.headers().len()),
        other => panic!("proto-http: {:?}", other.map(|o| o.map(|(_, n)| n))),
    }
}

/// Parses `buf` with httparse; returns (head length, field count).
fn httparse_parse<'b>(buf: &'b [u8], headers: &mut [httparse::Header<'b>]) -> (usize, usize) {
    let mut req = httparse::Request::new(headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => (n, req.headers.len()),
        other => panic!("httparse: {other:?}"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(51);
    let iterations: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let limits = Limits::default();
    let mut shapes = shapes();
    if let Ok(filter) = std::env::var("PARSE_PEERS_SHAPE") {
        shapes.retain(|s| s.name.contains(&filter));
    }

    // Both parsers agree on every shape before anything is timed.
    for s in &shapes {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let a = weft_parse(&s.bytes, &limits);
        let b = httparse_parse(&s.bytes, &mut headers);
        assert_eq!(a, b, "{}: (head length, fields) differ", s.name);
        if s.name.starts_with("POST") {
            let (head, _) = decode_request(&s.bytes, &limits).unwrap().unwrap();
            assert_eq!(head.body_kind(), BodyKind::Length(25));
            assert_eq!(s.bytes.len() - a.0, 25, "the body follows the head");
        }
    }

    if let Ok(only) = std::env::var("PARSE_PEERS_ONLY") {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parses = 0usize;
        for s in &shapes {
            for _ in 0..iterations {
                match only.as_str() {
                    "weft" => black_box(weft_parse(black_box(&s.bytes), &limits)),
                    "httparse" => black_box(httparse_parse(black_box(&s.bytes), &mut headers)),
                    other => panic!("PARSE_PEERS_ONLY={other}: weft or httparse"),
                };
                parses += 1;
            }
        }
        println!("{only}: {parses} parses");
        return;
    }

    // samples[shape] = (proto-http ns/request, httparse ns/request)
    let mut samples = vec![(Vec::new(), Vec::new()); shapes.len()];
    let mut headers = [httparse::EMPTY_HEADER; 64];
    for round in 0..rounds {
        for (i, s) in shapes.iter().enumerate() {
            // Alternate which parser goes first, so neither always runs
            // on a warmer cache or a quieter moment.
            for turn in 0..2 {
                let weft_turn = (turn + round) % 2 == 0;
                let start = Instant::now();
                if weft_turn {
                    for _ in 0..iterations {
                        black_box(weft_parse(black_box(&s.bytes), &limits));
                    }
                } else {
                    for _ in 0..iterations {
                        black_box(httparse_parse(black_box(&s.bytes), &mut headers));
                    }
                }
                let ns = start.elapsed().as_nanos() as f64 / iterations as f64;
                if weft_turn {
                    samples[i].0.push(ns);
                } else {
                    samples[i].1.push(ns);
                }
            }
        }
    }

    // On a shared machine, noise only ever adds time to this CPU-bound
    // loop: the minimum is the best estimate of the uncontended cost, the
    // median of the typical one. Both are printed.
    println!(
        "| request | bytes | proto-http (ns, median) | httparse (ns, median) | ratio of medians | proto-http (ns, min) | httparse (ns, min) | ratio of minima |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (s, (w, h)) in shapes.iter().zip(samples.iter_mut()) {
        let ((wl, _), (hl, _)) = (min_max(w), min_max(h));
        let (w, h) = (median(w), median(h));
        println!(
            "| {} | {} | {w:.1} | {h:.1} | {:.2}x | {wl:.1} | {hl:.1} | {:.2}x |",
            s.name,
            s.bytes.len(),
            w / h,
            wl / hl
        );
    }
}
