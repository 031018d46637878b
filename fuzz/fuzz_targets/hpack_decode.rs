//! HPACK decoder: never panics, and what decodes re-encodes to a block that
//! decodes to the same fields (with a second, independent table pair).
//! The input is a sequence of length-prefixed header blocks sharing one
//! dynamic table. Invariant: `proto_http::h2::hpack::fuzz_decode_reencode`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    proto_http::h2::hpack::fuzz_decode_reencode(data);
});
