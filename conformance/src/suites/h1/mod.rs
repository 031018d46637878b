//! `h1`: HTTP/1.1 servers, against RFC 9112 (message syntax, framing,
//! connection management) and the parts of RFC 9110 (semantics) that show
//! on the wire.
//!
//! Requests are raw bytes written by each case, so any server is judged by
//! the same rules. A case expects only what the RFCs require; where they
//! allow two behaviours (reject with 400, or repair and serve) either
//! passes and the note says which was seen. SHOULD-level cases
//! (recommended status codes, for instance 431 or 501) only warn.
//!
//! The suite needs a resource answering `GET` with 2xx (`--path`, default
//! `/`), optionally a second one (`--path2`) and a resource echoing a
//! `POST`'s content (`--echo`, default `/echo`); cases that need the echo
//! are skipped when the server has none.
//!
//! Section ids: `9112-6.3` is RFC 9112 §6.3, `9110-5.5` RFC 9110 §5.5.

mod body;
mod connection;
mod message;
mod semantics;
pub mod wire;

use crate::framework::{Case, Endpoint, Fail, Suite, SuiteOption, Target, fail, skip};
use wire::{After, Conn, ReadError, Response};

/// The suite.
pub const SUITE: Suite = Suite {
    name: "h1",
    spec: "HTTP/1.1: RFC 9112, RFC 9110",
    endpoint: Endpoint::Addr("127.0.0.1:8080"),
    options: &[
        SuiteOption {
            name: "path",
            default: "/",
            help: "a resource that answers GET with 2xx",
        },
        SuiteOption {
            name: "path2",
            default: "/json",
            help: "a second resource (any status) for the pipelining case",
        },
        SuiteOption {
            name: "echo",
            default: "/echo",
            help: "a resource that answers POST with the request content (cases needing it skip without it)",
        },
    ],
    cases,
};

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(message::cases());
    v.extend(body::cases());
    v.extend(connection::cases());
    v.extend(semantics::cases());
    v
}

/// Expands `{h}` (the target's host:port), `{p}` (`--path`), `{p2}`
/// (`--path2`) and `{e}` (`--echo`) in a request template.
pub(crate) fn req(t: &Target, template: &str) -> Vec<u8> {
    template
        .replace("{h}", &t.endpoint)
        .replace("{p2}", t.option("path2"))
        .replace("{p}", t.option("path"))
        .replace("{e}", t.option("echo"))
        .into_bytes()
}

/// Sends `bytes` on a new connection and reads the first final response.
pub(crate) fn exchange(
    t: &Target,
    bytes: &[u8],
) -> Result<(Conn, Result<Response, ReadError>), Fail> {
    let mut c = Conn::open(t)?;
    c.send_background(bytes.to_vec())?;
    let r = c.final_response(false).map(|(_, r)| r);
    Ok((c, r))
}

/// The response to a plain `GET {p}`: what "served normally" looks like.
/// Skips the case when it is not 2xx.
pub(crate) fn baseline(t: &Target) -> Result<Response, Fail> {
    let (_, r) = exchange(t, &req(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\n\r\n"))?;
    let r = r?;
    if !(200..300).contains(&r.status) {
        return Err(skip(format!(
            "GET {} answered {}; pass --path with a resource that answers 2xx",
            t.option("path"),
            r.status
        )));
    }
    Ok(r)
}

/// Checks that the server has an echo resource; skips the case otherwise.
pub(crate) fn need_echo(t: &Target) -> Result<(), Fail> {
    let probe = b"conformance-probe";
    let mut bytes = req(
        t,
        &format!(
            "POST {{e}} HTTP/1.1\r\nHost: {{h}}\r\nContent-Length: {}\r\n\r\n",
            probe.len()
        ),
    );
    bytes.extend_from_slice(probe);
    let (_, r) = exchange(t, &bytes)?;
    match r {
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

/// `400` then the connection closed (the "respond with 400 and then close"
/// of RFC 9112 §6.3 and §3.2).
pub(crate) fn expect_400_close(t: &Target, bytes: &[u8], close: bool) -> Result<(), Fail> {
    let (mut c, r) = exchange(t, bytes)?;
    let want = if close { "400 then close" } else { "400" };
    let r = r.map_err(|e| fail(want, e.to_string()))?;
    if r.status != 400 {
        return Err(fail(want, r.summary()));
    }
    if close {
        match c.after() {
            After::Closed => {}
            After::Open => return Err(fail(want, "400, then the connection stayed open")),
            After::Data(d) => return Err(fail(want, format!("400, then more bytes: {d}"))),
        }
    }
    Ok(())
}

/// One of `allowed` statuses.
pub(crate) fn status_in(
    r: &Result<Response, ReadError>,
    allowed: &[u16],
    want: &str,
) -> Result<u16, Fail> {
    match r {
        Ok(r) if allowed.contains(&r.status) => Ok(r.status),
        Ok(r) => Err(fail(want, r.summary())),
        Err(e) => Err(fail(want, e.to_string())),
    }
}
