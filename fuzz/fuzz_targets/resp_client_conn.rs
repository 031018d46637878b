//! RESP client connection: the commands picked by the input (ordinary ones,
//! the subscribe family, `HELLO`, `RESET`, ...) sent up front, then server
//! bytes fed whole, a byte at a time and in pieces, read with
//! `handle_input`, `next_event` or `next_replies`: the same events and end
//! every way, replies in FIFO order, errors sticky (see
//! `proto_resp::invariants::check_client_conn`, which the crate's property
//! tests also run).
#![no_main]

use libfuzzer_sys::fuzz_target;
use proto_resp::invariants::check_client_conn;

fuzz_target!(|data: &[u8]| {
    // Eight runs of each input, some byte by byte: keep it small.
    if data.len() <= 2048 {
        check_client_conn(data);
    }
});
