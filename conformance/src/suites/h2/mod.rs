//! `h2`: HTTP/2 servers, against RFC 9113 (frames, streams, flow control,
//! HTTP semantics over HTTP/2) and RFC 7541 (HPACK), in the spirit of
//! h2spec.
//!
//! Everything on the wire is written by the suite itself: frames by
//! [`frame`] (any length, type, flags or stream id, so malformed frames can
//! be sent) and header blocks by [`hpack`] (literal fields and raw
//! representations), so any server is judged by the same rules. The
//! server's header blocks are decoded by the suite's own HPACK decoder.
//!
//! Connections start by prior knowledge (RFC 9113 §3.3); the HTTP/1.1
//! `Upgrade: h2c` path (RFC 7540 §3.2, deprecated by RFC 9113 §3.1) is
//! checked by SHOULD-level cases that skip when the server does not
//! upgrade (`--upgrade off` skips them outright).
//!
//! A case expects only what the RFCs allow, and accepts each allowed
//! behaviour ([`expect`]): a connection error passes with a GOAWAY of the
//! named code or with the connection closed; a stream error with a
//! RST_STREAM of the code or the same as a connection error; a malformed
//! request also with a 4xx response (RFC 9113 §8.1.1).
//!
//! The suite needs a resource answering `GET` with 2xx and some content
//! (`--path`, default `/plaintext`) and one echoing a `POST`'s content
//! (`--echo`, default `/echo`); the cases that need the echo skip when the
//! server has none.
//!
//! Section ids: `9113-6.5.2` is RFC 9113 §6.5.2, `7541-5.2` RFC 7541 §5.2,
//! `7540-3.2` RFC 7540 §3.2.

pub mod conn;
pub mod expect;
pub mod frame;
pub mod hpack;

mod compression;
mod flow;
mod frames;
mod framing;
mod http;
mod starting;
mod streams;

use crate::framework::{Case, Endpoint, Fail, Suite, SuiteOption, Target, skip};
use conn::{Conn, Response};
use frame::{flag, setting};

pub(crate) use crate::suites::h1::wire::lossy;

/// The suite.
pub const SUITE: Suite = Suite {
    name: "h2",
    spec: "HTTP/2: RFC 9113, HPACK RFC 7541 (h2c)",
    endpoint: Endpoint::Addr("127.0.0.1:8080"),
    options: &[
        SuiteOption {
            name: "path",
            default: "/plaintext",
            help: "a resource that answers GET with 2xx and at least 7 octets of content",
        },
        SuiteOption {
            name: "echo",
            default: "/echo",
            help: "a resource that answers POST with the request content (cases needing it skip without it)",
        },
        SuiteOption {
            name: "upgrade",
            default: "on",
            help: "on: also check the HTTP/1.1 Upgrade: h2c path (RFC 7540 §3.2); off: skip those cases",
        },
    ],
    cases,
};

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(starting::cases());
    v.extend(framing::cases());
    v.extend(streams::cases());
    v.extend(frames::cases());
    v.extend(flow::cases());
    v.extend(http::cases());
    v.extend(compression::cases());
    // Section order (stable: cases of one section keep their order); RFC
    // 7540 §3.2 sits with RFC 9113 §3, RFC 7541 comes last.
    v.sort_by_key(|c| section_key(c.section));
    v
}

/// `9113-6.5.3` → (0, [6, 5, 3]); `7541-C.3` → (1, [1003, 3]).
fn section_key(section: &str) -> (u8, Vec<u32>) {
    let (rfc, rest) = section.split_once('-').unwrap_or(("", section));
    let group = u8::from(rfc == "7541");
    let nums = rest
        .split('.')
        .map(|p| {
            p.parse().unwrap_or_else(|_| {
                1000 + p
                    .bytes()
                    .next()
                    .map_or(0, |b| u32::from(b.to_ascii_uppercase() - b'A'))
            })
        })
        .collect();
    (group, nums)
}

/// A prior-knowledge connection with default SETTINGS.
pub(crate) fn open(t: &Target) -> Result<Conn, Fail> {
    Conn::open(t, &[])
}

/// Sends `GET --path` on `stream`, ending the stream.
pub(crate) fn send_get(c: &mut Conn, t: &Target, stream: u32) {
    let block = c.request_block("GET", t.option("path"));
    c.send(&frame::headers(stream, flag::END_STREAM, block.bytes()));
}

/// Opens `stream` with `POST --echo` and leaves it open (no END_STREAM):
/// the server has to wait for the content, so the stream stays "open".
pub(crate) fn open_echo(c: &mut Conn, t: &Target, stream: u32) {
    let block = c.request_block("POST", t.option("echo"));
    c.send(&frame::headers(stream, 0, block.bytes()));
}

/// The response to a plain `GET --path` on a fresh connection; skips the
/// case unless it is 2xx with at least `min_body` octets.
pub(crate) fn baseline(t: &Target, min_body: usize) -> Result<Response, Fail> {
    let mut c = open(t)?;
    send_get(&mut c, t, 1);
    let r = c.response(1)?;
    if !(200..300).contains(&r.status) || r.body.len() < min_body {
        return Err(skip(format!(
            "GET {} answered {}; pass --path with a resource answering 2xx with at least {min_body} octets",
            t.option("path"),
            r.summary()
        )));
    }
    Ok(r)
}

/// Checks that the server echoes a POST at `--echo`; skips the case
/// otherwise.
pub(crate) fn need_echo(t: &Target) -> Result<(), Fail> {
    let probe = b"conformance-probe";
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&frame::data(1, flag::END_STREAM, probe));
    match c.response(1) {
        Ok(r) if (200..300).contains(&r.status) && r.body == probe => Ok(()),
        Ok(r) => Err(skip(format!(
            "no echo resource at {} (POST answered {}); pass --echo",
            t.option("echo"),
            r.summary()
        ))),
        Err(e) => Err(skip(format!(
            "no echo resource at {}: {e}",
            t.option("echo")
        ))),
    }
}

/// The server's SETTINGS_INITIAL_WINDOW_SIZE (default 65 535).
pub(crate) fn server_window(c: &Conn) -> u32 {
    c.server_setting(setting::INITIAL_WINDOW_SIZE)
        .unwrap_or(65_535)
}
