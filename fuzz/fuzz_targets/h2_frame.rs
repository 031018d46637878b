//! HTTP/2 frame codec: never panics; every decoded frame re-encodes to bytes
//! that decode to the same frame; every prefix of the input is either
//! incomplete or fails with the same error as the whole.
//! Invariant: `proto_http::h2::frame::fuzz_decode_reencode`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    proto_http::h2::frame::fuzz_decode_reencode(data);
});
