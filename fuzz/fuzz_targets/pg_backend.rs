//! PostgreSQL backend message decoder: whole-buffer and byte-at-a-time
//! decoding give the same messages and errors, and every decoded message
//! re-encodes to bytes that decode the same (see
//! `proto_pg::fuzzing::backend_split`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    proto_pg::fuzzing::backend_split(data);
});
