//! `resp`: Redis servers, against the RESP specification ("RESP protocol
//! spec" for RESP2, "RESP3 specification" for the RESP3 types and HELLO),
//! decoded with `proto-resp`.
//!
//! Every RESP3 type a stock Redis can produce is provoked and checked: the
//! map of `HELLO 3`, sets (`SMEMBERS`), doubles (`ZSCORE`, `inf`
//! included), null, booleans and big numbers (Lua's RESP3 conversions),
//! verbatim strings (`LOLWUT`, `INFO`), pushes (`SUBSCRIBE`, `CLIENT
//! TRACKING`). Attributes are only sent by `DEBUG PROTOCOL attrib`; that
//! case is skipped where `DEBUG` is disabled (the default since Redis 7).
//! The `decoder` section replays the recorded bytes through the decoder
//! whole, byte by byte and in random pieces: the frames must not depend on
//! how the input is split.
//!
//! Keys live under `conformance:<pid>:` and are deleted afterwards.

mod client;
mod decoder;
mod session;
mod types;

use crate::framework::{Case, Endpoint, Suite};

/// The suite.
pub const SUITE: Suite = Suite {
    name: "resp",
    spec: "RESP2 and RESP3 (Redis serialization protocol)",
    endpoint: Endpoint::Addr("127.0.0.1:63790"),
    options: &[],
    cases,
};

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(types::cases());
    v.extend(session::cases());
    v.extend(decoder::cases());
    v
}
