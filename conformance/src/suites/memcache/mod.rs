//! `memcache`: memcached servers, against `doc/protocol.txt` (text and
//! meta commands) and `doc/protocol-binary.txt`, every request encoded and
//! every reply decoded with `proto-memcache`'s codecs.
//!
//! Keys live under `conformance:<pid>:`; nothing is flushed, so the suite
//! can run against a shared server.

mod binary;
mod client;
mod meta;
mod text;

use crate::framework::{Case, Endpoint, Suite};

/// The suite.
pub const SUITE: Suite = Suite {
    name: "memcache",
    spec: "memcached protocol.txt (text, meta) and protocol-binary.txt",
    endpoint: Endpoint::Addr("127.0.0.1:11311"),
    options: &[],
    cases,
};

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(text::cases());
    v.extend(meta::cases());
    v.extend(binary::cases());
    v
}
