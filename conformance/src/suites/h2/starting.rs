//! RFC 9113 §3: starting HTTP/2, by prior knowledge (§3.3) with the
//! connection preface (§3.4), and the HTTP/1.1 Upgrade of RFC 7540 §3.2
//! that RFC 9113 §3.1 deprecates (SHOULD-level cases here).

use super::conn::{Conn, Event};
use super::frame::{self, code, flag};
use super::{baseline, expect, lossy, need_echo, open, send_get};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail, skip};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "9113-3.3",
            "prior knowledge: a request after the preface gets a 2xx response",
            prior_knowledge,
        ),
        Case::must(
            "9113-3.4",
            "the server's preface is a SETTINGS frame, sent first",
            server_preface,
        ),
        Case::must(
            "9113-3.4",
            "an invalid client preface: connection error PROTOCOL_ERROR",
            invalid_preface,
        ),
        Case::must(
            "9113-3.4",
            "a preface followed by a frame other than SETTINGS: connection error PROTOCOL_ERROR",
            preface_without_settings,
        ),
        Case::should(
            "7540-3.2",
            "Upgrade: h2c with HTTP2-Settings: 101, the server preface, the response on stream 1",
            upgrade_get,
        ),
        Case::should(
            "7540-3.2",
            "Upgrade: h2c of a POST with content: stream 1 carries the response to it",
            upgrade_post,
        ),
        Case::should(
            "7540-3.2",
            "Upgrade: h2 (the TLS token) over cleartext is ignored, not 101",
            upgrade_h2_token,
        ),
        Case::should(
            "7540-3.2.1",
            "Upgrade: h2c without HTTP2-Settings is not upgraded",
            upgrade_without_settings,
        ),
    ]
}

fn prior_knowledge(t: &Target) -> CaseResult {
    baseline(t, 1)?;
    Ok(Pass::ok())
}

fn server_preface(t: &Target) -> CaseResult {
    // "The server connection preface consists of a potentially empty
    // SETTINGS frame that MUST be the first frame the server sends"
    // (§3.4); Conn::open checks exactly that.
    let c = open(t)?;
    Ok(Pass::note(format!(
        "server SETTINGS {:?}",
        c.server_settings
    )))
}

fn invalid_preface(t: &Target) -> CaseResult {
    // "Clients and servers MUST treat an invalid connection preface as a
    // connection error of type PROTOCOL_ERROR. A GOAWAY frame MAY be
    // omitted" (§3.4). A server also serving HTTP/1.1 on the port may
    // read these bytes as an HTTP/1.1 request and reject that.
    let mut c = Conn::tcp(t)?;
    c.write(b"PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n");
    c.send(&frame::settings(&[]));
    match c.peek(5) {
        Ok(b) if b.starts_with(b"HTTP/") => {
            let line = c.read_until(b"\r\n", 4096).unwrap_or_default();
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            let code = line.split(' ').nth(1).unwrap_or("");
            if code.starts_with('4') || code.starts_with('5') {
                Ok(Pass::note(format!("rejected as HTTP/1.1: {line}")))
            } else {
                Err(fail(
                    "connection error PROTOCOL_ERROR (or an HTTP/1.1 error status)",
                    line,
                ))
            }
        }
        Ok(_) => expect::connection_error(&mut c, &[code::PROTOCOL_ERROR]),
        Err(e) if e.is_closed() => Ok(Pass::note("connection closed")),
        Err(e) => Err(fail(
            "connection error PROTOCOL_ERROR: GOAWAY or close",
            e.describe(),
        )),
    }
}

fn preface_without_settings(t: &Target) -> CaseResult {
    // "The client connection preface starts with [the magic] ... This
    // sequence MUST be followed by a SETTINGS frame" (§3.4).
    let mut c = Conn::tcp(t)?;
    c.write(frame::PREFACE);
    c.send(&frame::ping(0, *b"notsetng"));
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

/// `HTTP2-Settings` carrying SETTINGS_ENABLE_PUSH = 0, base64url.
const HTTP2_SETTINGS: &str = "AAIAAAAA";

/// Sends an HTTP/1.1 request and reads its response head: the status and
/// the connection, positioned after the head.
fn upgrade_request(t: &Target, request: &[u8]) -> Result<(u16, Conn, String), Fail> {
    if t.option("upgrade") == "off" {
        return Err(skip("--upgrade off"));
    }
    let mut c = Conn::tcp(t)?;
    c.write(request);
    let head = c
        .read_until(b"\r\n\r\n", 64 * 1024)
        .map_err(|e| fail("an HTTP/1.1 response", e.describe()))?;
    let text = String::from_utf8_lossy(&head).to_string();
    let line = text.lines().next().unwrap_or("").to_string();
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| fail("an HTTP/1.1 status line", lossy(&head)))?;
    Ok((status, c, line))
}

/// After a 101: the client preface, then the server's SETTINGS first and
/// the response on stream 1 (RFC 7540 §3.2).
fn upgraded_response(mut c: Conn) -> Result<super::conn::Response, Fail> {
    c.write(frame::PREFACE);
    c.start(&[])?;
    c.response(1)
}

fn upgrade_get(t: &Target) -> CaseResult {
    let base = baseline(t, 1)?;
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: {HTTP2_SETTINGS}\r\n\r\n",
        t.option("path"),
        t.endpoint
    );
    let (status, c, line) = upgrade_request(t, req.as_bytes())?;
    if status != 101 {
        return Err(skip(format!(
            "the server does not upgrade ({line}); RFC 7540 §3.2 allows ignoring Upgrade"
        )));
    }
    let r = upgraded_response(c)?;
    if r.status != base.status || r.body != base.body {
        return Err(fail(format!("stream 1: {}", base.summary()), r.summary()));
    }
    Ok(Pass::ok())
}

fn upgrade_post(t: &Target) -> CaseResult {
    need_echo(t)?;
    let body = "upgrade-with-content";
    let req = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: {HTTP2_SETTINGS}\r\nContent-Length: {}\r\n\r\n{body}",
        t.option("echo"),
        t.endpoint,
        body.len()
    );
    let (status, mut c, line) = upgrade_request(t, req.as_bytes())?;
    if status != 101 {
        // Not upgrading is allowed; the HTTP/1.1 answer must then be the
        // echo itself (nothing else to check here).
        let _ = c.read_exact(body.len());
        return Err(skip(format!(
            "the server does not upgrade a request with content ({line})"
        )));
    }
    let r = upgraded_response(c)?;
    if r.body != body.as_bytes() {
        return Err(fail(format!("stream 1 echoing {body:?}"), lossy(&r.body)));
    }
    Ok(Pass::ok())
}

fn not_upgraded(t: &Target, req: String) -> CaseResult {
    let (status, _c, line) = upgrade_request(t, req.as_bytes())?;
    if status == 101 {
        return Err(fail("an HTTP/1.1 response, not 101", line));
    }
    Ok(Pass::note(line))
}

fn upgrade_h2_token(t: &Target) -> CaseResult {
    // "A server MUST ignore an "h2" token in an Upgrade header field"
    // (RFC 7540 §3.2): h2 means HTTP/2 over TLS.
    not_upgraded(
        t,
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2\r\nHTTP2-Settings: {HTTP2_SETTINGS}\r\n\r\n",
            t.option("path"),
            t.endpoint
        ),
    )
}

fn upgrade_without_settings(t: &Target) -> CaseResult {
    // "A server MUST NOT upgrade the connection to HTTP/2 if this header
    // field is not present or if more than one is present" (RFC 7540
    // §3.2.1).
    not_upgraded(
        t,
        format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
            t.option("path"),
            t.endpoint
        ),
    )
}

/// Reads until `stream`'s response ends, failing on anything but a
/// response (for cases that only need "it was served").
pub(super) fn served(c: &mut Conn, stream: u32) -> CaseResult {
    let r = c.response(stream)?;
    Ok(Pass::note(format!("answered {}", r.status)))
}

/// Sends `GET --path` on `stream` and expects it served.
pub(super) fn get_served(c: &mut Conn, t: &Target, stream: u32) -> CaseResult {
    send_get(c, t, stream);
    served(c, stream)
}

/// Whether an event is a PING ACK (used by cases skipping them).
pub(super) fn is_ping_ack(e: &Event) -> bool {
    matches!(e, Event::Frame(f) if f.ty == frame::ty::PING && f.has(flag::ACK))
}
