//! PostgreSQL column values: `[format] [value bytes]` decoded as every
//! built-in type; nothing panics, and each value that decodes re-encodes
//! to bytes that decode to the same value (see
//! `proto_pg::fuzzing::type_values`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    proto_pg::fuzzing::type_values(data);
});
