//! Fuzzes the memcached meta protocol reply decoder (protocol.txt meta commands).
//!
//! Invariants (see `proto_memcache::check`): decoding the input whole and
//! byte at a time gives the same frames and outcome; every decoded frame
//! re-encodes to bytes that decode to the same frame. Run with default and
//! with small limits so the limit checks are reached too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_memcache::{Limits, check};

fuzz_target!(|data: &[u8]| {
    check::meta_replies(data, &Limits::default());
    let small = Limits {
        max_line_len: 64,
        max_value_len: 64,
        max_key_len: 16,
        ..Limits::default()
    };
    check::meta_replies(data, &small);
});
