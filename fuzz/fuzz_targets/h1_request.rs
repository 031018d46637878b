//! HTTP/1.1 request-head parser: whole-buffer and byte-at-a-time parsing
//! give the same head, length or error; a parsed head re-encodes to bytes
//! that parse to the same head; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_http::h1::{Limits, check_request_split_invariant};

fuzz_target!(|data: &[u8]| {
    check_request_split_invariant(data, &Limits::default());
    // Tight limits exercise the 414/431 paths on short inputs.
    let tight = Limits {
        max_request_line: 48,
        max_head_bytes: 160,
        max_headers: 6,
        max_body: 64,
        max_chunk_line: 16,
    };
    check_request_split_invariant(data, &tight);
});
