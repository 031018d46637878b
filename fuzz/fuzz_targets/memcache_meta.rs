//! Fuzzes the memcached meta protocol reply decoder (protocol.txt meta commands).
//!
//! Invariants (see `proto_memcache::check`): decoding the input whole and
//! byte at a time gives the same frames and outcome; every decoded frame
//! re-encodes to bytes that decode to the same frame; a client `Connection`
//! with requests in flight gives the same events fed whole or byte by byte.
//! Run with default and with small limits so the limit checks are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_memcache::{Limits, Protocol, check};

fuzz_target!(|data: &[u8]| {
    check::meta_replies(data, &Limits::default());
    let small = Limits {
        max_line_len: 64,
        max_value_len: 64,
        max_key_len: 16,
        ..Limits::default()
    };
    check::meta_replies(data, &small);
    check::connection(Protocol::Meta, data, &Limits::default());
    check::connection(Protocol::Meta, data, &small);
});
