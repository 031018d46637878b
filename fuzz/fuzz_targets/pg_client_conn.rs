//! PostgreSQL client connection: server input fed whole and a byte at a
//! time gives the same events, fatal error and output; no request gets an
//! event after its end; requests end in FIFO order (see
//! `proto_pg::fuzzing::client_conn_split`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    proto_pg::fuzzing::client_conn_split(data);
});
