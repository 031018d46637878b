//! Whole HTTP/1.1 server connection: never panics, produces the same events
//! and output whether the input arrives in one read, split at fuzzer-chosen
//! points, or byte by byte, and its output parses as valid HTTP responses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_http::h1::check::check_server_conn;

fuzz_target!(|data: &[u8]| {
    // Layout: [n] [n little-endian u16 cut points] [input...]
    let (cuts, input) = match data.split_first() {
        Some((&n, rest)) => {
            let n = usize::from(n % 16).min(rest.len() / 2);
            let (raw, input) = rest.split_at(n * 2);
            let cuts: Vec<usize> = raw
                .chunks_exact(2)
                .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])))
                .collect();
            (cuts, input)
        }
        None => (Vec::new(), data),
    };
    check_server_conn(input, &cuts);
});
