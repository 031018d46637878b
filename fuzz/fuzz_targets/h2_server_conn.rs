//! Whole HTTP/2 server connection: arbitrary bytes in (with or without the
//! client preface), never panics, keeps its buffered output and event queue
//! bounded, gives the same events and output whether the input arrives in
//! one read or split at fuzzer-chosen points, and accepts responses to
//! whatever requests it reported.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_http::h2::server::fuzz_server_conn;

/// The client preface, prepended when the first input byte is even so that
/// most runs get past the preface check and reach the frame layer.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    // Layout: [flags] [n] [n little-endian u16 cut points] [input...]
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (cuts, body) = match rest.split_first() {
        Some((&n, rest)) => {
            let n = usize::from(n % 16).min(rest.len() / 2);
            let (raw, body) = rest.split_at(n * 2);
            let cuts: Vec<usize> = raw
                .chunks_exact(2)
                .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])))
                .collect();
            (cuts, body)
        }
        None => (Vec::new(), rest),
    };
    if flags % 2 == 0 {
        let mut input = PREFACE.to_vec();
        input.extend_from_slice(body);
        fuzz_server_conn(&input, &cuts);
    } else {
        fuzz_server_conn(body, &cuts);
    }
});
