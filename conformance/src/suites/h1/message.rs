//! RFC 9112 §2–§5 and RFC 9110 §5: message parsing, the request-line,
//! Host, field syntax and limits, and the response's own syntax.

use super::wire::Conn;
use super::{baseline, exchange, expect_400_close, req, status_in};
use crate::framework::{Case, CaseResult, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::should(
            "9112-2.2",
            "an empty line before the request-line is ignored",
            leading_empty_line,
        ),
        Case::must(
            "9112-2.2",
            "a bare CR in a field value: rejected (400) or replaced by SP",
            bare_cr,
        ),
        Case::must(
            "9112-2.2",
            "whitespace-preceded line after the request-line: rejected (400) or ignored",
            whitespace_line,
        ),
        Case::should(
            "9112-2.2",
            "a field line without a colon gets 400",
            line_without_colon,
        ),
        Case::should(
            "9112-3",
            "an invalid request-line (lower-case http/1.1) gets 400",
            invalid_request_line,
        ),
        Case::must(
            "9112-3",
            "a request-target longer than the server parses gets 414",
            long_target,
        ),
        Case::must(
            "9112-3.2",
            "an HTTP/1.1 request without Host gets 400",
            no_host,
        ),
        Case::must(
            "9112-3.2",
            "a request with two Host field lines gets 400",
            two_hosts,
        ),
        Case::must(
            "9112-3.2",
            "a Host field with an invalid value gets 400",
            invalid_host,
        ),
        Case::should(
            "9112-3.2",
            "an HTTP/1.0 request without Host is served",
            http10_no_host,
        ),
        Case::must(
            "9112-3.2.2",
            "an absolute-form request-target is accepted like origin-form",
            absolute_form,
        ),
        Case::must(
            "9112-4",
            "status-line and field lines follow the grammar (CRLF, SP, tokens, no obs-fold)",
            response_syntax,
        ),
        Case::must(
            "9112-5.1",
            "whitespace between a field name and the colon gets 400",
            space_before_colon,
        ),
        Case::must(
            "9112-5.2",
            "obs-fold in a request: rejected (400) or replaced by SP",
            obs_fold,
        ),
        Case::must(
            "9110-5.1",
            "field names are case-insensitive (hOsT)",
            field_name_case,
        ),
        Case::should(
            "9110-5.1",
            "a field name with a non-token character gets 400",
            bad_field_name,
        ),
        Case::must(
            "9110-5.4",
            "a header section larger than the server processes gets a 4xx",
            large_header_4xx,
        ),
        Case::should(
            "9110-5.4",
            "a header section too large gets 431 (RFC 6585 §5)",
            large_header_431,
        ),
        Case::must(
            "9110-5.5",
            "NUL in a field value: rejected (400) or replaced by SP",
            nul_in_value,
        ),
    ]
}

/// Either 400 or the normal answer; says which in the note.
fn rejected_or_served(t: &Target, template: &str) -> CaseResult {
    let base = baseline(t)?;
    let (_, r) = exchange(t, &req(t, template))?;
    let want = format!("400, or {} as for a plain GET", base.status);
    match status_in(&r, &[400, base.status], &want)? {
        400 => Ok(Pass::note("rejected with 400")),
        _ => Ok(Pass::note("repaired and served")),
    }
}

fn leading_empty_line(t: &Target) -> CaseResult {
    let base = baseline(t)?;
    let (_, r) = exchange(t, &req(t, "\r\nGET {p} HTTP/1.1\r\nHost: {h}\r\n\r\n"))?;
    status_in(&r, &[base.status], &base.status.to_string())?;
    Ok(Pass::ok())
}

fn bare_cr(t: &Target) -> CaseResult {
    // "A recipient of such a bare CR MUST consider that element to be
    // invalid or replace each bare CR with SP" (RFC 9112 §2.2).
    rejected_or_served(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\nX-Test: a\rb\r\n\r\n")
}

fn whitespace_line(t: &Target) -> CaseResult {
    // "MUST either reject the message as invalid or consume each
    // whitespace-preceded line without further processing of it".
    rejected_or_served(t, "GET {p} HTTP/1.1\r\n X-Junk: 1\r\nHost: {h}\r\n\r\n")
}

fn line_without_colon(t: &Target) -> CaseResult {
    let (_, r) = exchange(
        t,
        &req(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\nno colon here\r\n\r\n"),
    )?;
    status_in(&r, &[400], "400")?;
    Ok(Pass::ok())
}

fn invalid_request_line(t: &Target) -> CaseResult {
    // HTTP-name is case-sensitive (RFC 9112 §2.3); an invalid request-line
    // SHOULD get 400 or a 301 (§3).
    let (_, r) = exchange(t, &req(t, "GET {p} http/1.1\r\nHost: {h}\r\n\r\n"))?;
    status_in(&r, &[400, 301], "400 (or 301)")?;
    Ok(Pass::ok())
}

fn long_target(t: &Target) -> CaseResult {
    // "A server that receives a request-target longer than any URI it
    // wishes to parse MUST respond with a 414 (URI Too Long)" (§3).
    let mut bytes = b"GET /".to_vec();
    bytes.resize(100_005, b'a');
    bytes.extend_from_slice(&req(t, " HTTP/1.1\r\nHost: {h}\r\n\r\n"));
    let (_, r) = exchange(t, &bytes)?;
    let want = "414 (or, if the server parses a 100 kB URI, a normal 2xx/3xx/404)";
    match status_in(&r, &[414, 200, 204, 301, 302, 307, 308, 404], want)? {
        414 => Ok(Pass::ok()),
        s => Ok(Pass::note(format!(
            "the server parsed the 100 kB target ({s})"
        ))),
    }
}

fn no_host(t: &Target) -> CaseResult {
    expect_400_close(t, &req(t, "GET {p} HTTP/1.1\r\n\r\n"), false)?;
    Ok(Pass::ok())
}

fn two_hosts(t: &Target) -> CaseResult {
    expect_400_close(
        t,
        &req(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\nHost: {h}\r\n\r\n"),
        false,
    )?;
    Ok(Pass::ok())
}

fn invalid_host(t: &Target) -> CaseResult {
    expect_400_close(
        t,
        &req(t, "GET {p} HTTP/1.1\r\nHost: exa mple.com\r\n\r\n"),
        false,
    )?;
    Ok(Pass::ok())
}

fn http10_no_host(t: &Target) -> CaseResult {
    let base = baseline(t)?;
    let (_, r) = exchange(t, &req(t, "GET {p} HTTP/1.0\r\n\r\n"))?;
    status_in(&r, &[base.status], &base.status.to_string())?;
    Ok(Pass::ok())
}

fn absolute_form(t: &Target) -> CaseResult {
    // "A server MUST accept the absolute-form in requests" (§3.2.2).
    let base = baseline(t)?;
    let (_, r) = exchange(
        t,
        &req(t, "GET http://{h}{p} HTTP/1.1\r\nHost: {h}\r\n\r\n"),
    )?;
    let r = r?;
    if r.status != base.status || r.body != base.body {
        return Err(fail(
            format!("the origin-form answer ({})", base.summary()),
            r.summary(),
        ));
    }
    Ok(Pass::ok())
}

fn response_syntax(t: &Target) -> CaseResult {
    let mut seen = Vec::new();
    for template in [
        "GET {p} HTTP/1.1\r\nHost: {h}\r\n\r\n",
        "GET /conformance-missing HTTP/1.1\r\nHost: {h}\r\n\r\n",
        "GET {p} HTTP/1.1\r\n\r\n",
    ] {
        let (_, r) = exchange(t, &req(t, template))?;
        let r = r?;
        for v in r.violations {
            seen.push(format!("{} response: {v}", r.status));
        }
    }
    if seen.is_empty() {
        Ok(Pass::ok())
    } else {
        Err(fail(
            "responses that follow RFC 9112 §4-§5",
            seen.join("; "),
        ))
    }
}

fn space_before_colon(t: &Target) -> CaseResult {
    // "A server MUST reject, with a response status code of 400 (Bad
    // Request), any received request message that contains whitespace
    // between a header field name and colon" (§5.1).
    expect_400_close(
        t,
        &req(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\nX-Test : 1\r\n\r\n"),
        false,
    )?;
    Ok(Pass::ok())
}

fn obs_fold(t: &Target) -> CaseResult {
    // "MUST either reject the message by sending a 400 (Bad Request) ... or
    // replace each received obs-fold with one or more SP octets" (§5.2).
    rejected_or_served(
        t,
        "GET {p} HTTP/1.1\r\nHost: {h}\r\nX-Test: a\r\n b\r\n\r\n",
    )
}

fn field_name_case(t: &Target) -> CaseResult {
    let base = baseline(t)?;
    let (_, r) = exchange(t, &req(t, "GET {p} HTTP/1.1\r\nhOsT: {h}\r\n\r\n"))?;
    status_in(&r, &[base.status], &base.status.to_string())?;
    Ok(Pass::ok())
}

fn bad_field_name(t: &Target) -> CaseResult {
    let (_, r) = exchange(
        t,
        &req(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\nX(Test): 1\r\n\r\n"),
    )?;
    status_in(&r, &[400], "400")?;
    Ok(Pass::ok())
}

/// A request with one 256 KiB field; returns the status.
fn large_header(t: &Target) -> Result<(u16, u16), crate::framework::Fail> {
    let base = baseline(t)?;
    let mut bytes = req(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\nX-Big: ");
    bytes.resize(bytes.len() + 256 * 1024, b'a');
    bytes.extend_from_slice(b"\r\n\r\n");
    let mut c = Conn::open(t)?;
    c.send_background(bytes)?;
    let r = c.final_response(false).map(|(_, r)| r);
    let s = status_in(
        &r,
        &[400, 413, 414, 431, base.status],
        &format!(
            "a 4xx (or {} if the server processes 256 KiB fields)",
            base.status
        ),
    )?;
    Ok((s, base.status))
}

fn large_header_4xx(t: &Target) -> CaseResult {
    // "A server that receives a request header field line, field value, or
    // set of fields larger than it wishes to process MUST respond with an
    // appropriate 4xx (Client Error) status code" (RFC 9110 §5.4).
    match large_header(t)? {
        (s, base) if s == base => Ok(Pass::note("the server processed a 256 KiB field")),
        (s, _) => Ok(Pass::note(format!("{s}"))),
    }
}

fn large_header_431(t: &Target) -> CaseResult {
    match large_header(t)? {
        (431, _) => Ok(Pass::ok()),
        (s, base) if s == base => Ok(Pass::note("the server processed a 256 KiB field")),
        (s, _) => Err(fail("431", s.to_string())),
    }
}

fn nul_in_value(t: &Target) -> CaseResult {
    // "a recipient of CR, LF, or NUL within a field value MUST either reject
    // the message or replace each of those characters with SP" (RFC 9110 §5.5).
    rejected_or_served(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\nX-Test: a\0b\r\n\r\n")
}
