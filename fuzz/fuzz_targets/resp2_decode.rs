//! RESP2 decoder: whole-buffer vs byte-at-a-time feeding agree, borrowed
//! and owned decoders agree, and decode -> encode -> decode is stable.
//! The checks live in `proto_resp::invariants::check_decode`, which the
//! crate's property tests also run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_resp::Protocol;
use proto_resp::invariants::check_decode;

fuzz_target!(|data: &[u8]| {
    // Byte-at-a-time feeding is quadratic; keep inputs small enough to stay fast.
    if data.len() <= 4096 {
        check_decode(data, Protocol::Resp2);
    }
});
