//! RFC 9113 §8: HTTP messages over HTTP/2: framing of requests (§8.1),
//! malformed messages (§8.1.1), field validity (§8.2.1),
//! connection-specific fields (§8.2.2) and pseudo-header fields (§8.3).

use super::conn::{Conn, Response};
use super::expect;
use super::frame::{self, flag};
use super::hpack::Block;
use super::{lossy, need_echo, open, open_echo};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "9113-8.1",
            "a POST with content in two DATA frames is answered with that content (echo)",
            post_two_data,
        ),
        Case::must(
            "9113-8.1",
            "a request with a trailer section is served",
            trailers,
        ),
        Case::must(
            "9113-8.1",
            "a second HEADERS without END_STREAM: malformed (PROTOCOL_ERROR)",
            second_headers_not_ending,
        ),
        Case::must(
            "9113-8.1.1",
            "content-length larger than the DATA received: malformed",
            content_length_more,
        ),
        Case::must(
            "9113-8.1.1",
            "content-length smaller than the DATA received: malformed",
            content_length_less,
        ),
        Case::must(
            "9113-8.1.1",
            "content-length not the sum of several DATA frames: malformed",
            content_length_sum,
        ),
        Case::must(
            "9113-8.2",
            "response field names are lowercase and valid",
            response_names,
        ),
        Case::must(
            "9113-8.2.1",
            "an uppercase field name: malformed",
            uppercase_name,
        ),
        Case::must(
            "9113-8.2.1",
            "a space in a field name: malformed",
            space_in_name,
        ),
        Case::must(
            "9113-8.2.1",
            "a colon inside a regular field name: malformed",
            colon_in_name,
        ),
        Case::must(
            "9113-8.2.1",
            "NUL in a field value: malformed",
            nul_in_value,
        ),
        Case::must("9113-8.2.1", "CR in a field value: malformed", cr_in_value),
        Case::must("9113-8.2.1", "LF in a field value: malformed", lf_in_value),
        Case::must(
            "9113-8.2.1",
            "a field value starting with a space: malformed",
            leading_space,
        ),
        Case::must(
            "9113-8.2.1",
            "a field value ending with a tab: malformed",
            trailing_tab,
        ),
        Case::must(
            "9113-8.2.2",
            "Connection in a request: malformed",
            connection_field,
        ),
        Case::must(
            "9113-8.2.2",
            "Keep-Alive in a request: malformed",
            keep_alive,
        ),
        Case::must(
            "9113-8.2.2",
            "Proxy-Connection in a request: malformed",
            proxy_connection,
        ),
        Case::must(
            "9113-8.2.2",
            "Transfer-Encoding in a request: malformed",
            transfer_encoding,
        ),
        Case::must(
            "9113-8.2.2",
            "Upgrade in a request: malformed",
            upgrade_field,
        ),
        Case::must("9113-8.2.2", "TE other than trailers: malformed", te_gzip),
        Case::must("9113-8.2.2", "TE: trailers is accepted", te_trailers),
        Case::must(
            "9113-8.2.2",
            "responses carry no connection-specific fields",
            response_connection_fields,
        ),
        Case::must(
            "9113-8.3",
            "a pseudo-header after a regular field: malformed",
            pseudo_after_regular,
        ),
        Case::must(
            "9113-8.3",
            "an unknown pseudo-header: malformed",
            unknown_pseudo,
        ),
        Case::must(
            "9113-8.3",
            "a response pseudo-header (:status) in a request: malformed",
            status_in_request,
        ),
        Case::must(
            "9113-8.3",
            "a pseudo-header in a trailer section: malformed",
            pseudo_in_trailers,
        ),
        Case::must("9113-8.3.1", "no :method: malformed", missing_method),
        Case::must("9113-8.3.1", "no :scheme: malformed", missing_scheme),
        Case::must("9113-8.3.1", "no :path: malformed", missing_path),
        Case::must("9113-8.3.1", "an empty :path: malformed", empty_path),
        Case::must("9113-8.3.1", ":method twice: malformed", duplicate_method),
        Case::must("9113-8.3.1", ":scheme twice: malformed", duplicate_scheme),
        Case::must("9113-8.3.1", ":path twice: malformed", duplicate_path),
        Case::should(
            "9113-8.3.1",
            "a Host field naming another authority than :authority: malformed",
            host_mismatch,
        ),
        Case::must(
            "9113-8.3.2",
            "a response has exactly one :status (3 digits), pseudo-headers first, no request pseudo-headers",
            response_pseudo,
        ),
    ]
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Sends a GET whose fields are `fields` (ending the stream) and expects
/// a malformed-request outcome.
fn malformed_get(t: &Target, f: impl FnOnce(&Conn) -> Vec<(String, String)>) -> CaseResult {
    let mut c = open(t)?;
    let f = f(&c);
    c.send(&frame::headers(
        1,
        flag::END_STREAM,
        Block::new().fields(&f).bytes(),
    ));
    expect::malformed(&mut c, 1)
}

/// The GET request fields plus `extra`.
fn get_with(t: &Target, extra: &[(&str, &str)]) -> impl FnOnce(&Conn) -> Vec<(String, String)> {
    let path = t.option("path").to_string();
    let extra = fields(extra);
    move |c: &Conn| {
        let mut v = c.request("GET", &path);
        v.extend(extra);
        v
    }
}

fn get_response(t: &Target) -> Result<Response, Fail> {
    let mut c = open(t)?;
    super::send_get(&mut c, t, 1);
    c.response(1)
}

fn post_two_data(t: &Target) -> CaseResult {
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send_all(&[
        frame::data(1, 0, b"first,"),
        frame::data(1, flag::END_STREAM, b"second"),
    ]);
    let r = c.response(1)?;
    if r.body != b"first,second" {
        return Err(fail("\"first,second\"", lossy(&r.body)));
    }
    Ok(Pass::ok())
}

fn trailers(t: &Target) -> CaseResult {
    // "A request or response that includes [content] ... optionally
    // followed by one HEADERS frame containing the trailer section" (§8.1).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send_all(&[
        frame::data(1, 0, b"with-trailers"),
        frame::headers(
            1,
            flag::END_STREAM,
            Block::new().field("x-checksum", "abc").bytes(),
        ),
    ]);
    let r = c.response(1)?;
    if r.body != b"with-trailers" {
        return Err(fail("\"with-trailers\" echoed", lossy(&r.body)));
    }
    Ok(Pass::ok())
}

fn second_headers_not_ending(t: &Target) -> CaseResult {
    // "An endpoint that receives a HEADERS frame without the END_STREAM
    // flag set after receiving the HEADERS frame that opens a request ...
    // MUST treat the corresponding request or response as malformed"
    // (§8.1).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send_all(&[
        frame::data(1, 0, b"body"),
        frame::headers(1, 0, Block::new().field("x-trailer", "1").bytes()),
    ]);
    expect::malformed(&mut c, 1)
}

/// A POST to the echo resource with `content-length: declared` and
/// `chunks` as DATA frames, the last ending the stream.
fn content_length(t: &Target, declared: usize, chunks: &[&[u8]]) -> CaseResult {
    // "A request or response is also malformed if the value of a
    // content-length header field does not equal the sum of the DATA frame
    // payload lengths that form the content" (§8.1.1).
    need_echo(t)?;
    let mut c = open(t)?;
    let mut f = c.request("POST", t.option("echo"));
    f.push(("content-length".into(), declared.to_string()));
    c.send(&frame::headers(1, 0, Block::new().fields(&f).bytes()));
    let n = chunks.len();
    let frames: Vec<_> = chunks
        .iter()
        .enumerate()
        .map(|(i, d)| frame::data(1, if i + 1 == n { flag::END_STREAM } else { 0 }, d))
        .collect();
    c.send_all(&frames);
    expect::malformed(&mut c, 1)
}

fn content_length_more(t: &Target) -> CaseResult {
    content_length(t, 10, &[b"12345"])
}

fn content_length_less(t: &Target) -> CaseResult {
    content_length(t, 2, &[b"12345"])
}

fn content_length_sum(t: &Target) -> CaseResult {
    content_length(t, 8, &[b"123", b"456", b"789"])
}

fn response_names(t: &Target) -> CaseResult {
    // "A field name MUST NOT contain characters in the ranges 0x00-0x20,
    // 0x41-0x5a, or 0x7f-0xff" (§8.2.1); values: no NUL, CR, LF.
    let r = get_response(t)?;
    for (n, v) in r.fields.iter().chain(&r.trailers) {
        let name = n.strip_prefix(':').unwrap_or(n);
        if name.is_empty()
            || name
                .bytes()
                .any(|b| b <= 0x20 || b.is_ascii_uppercase() || b >= 0x7f || b == b':')
        {
            return Err(fail("valid lowercase field names", format!("{n:?}")));
        }
        if v.bytes().any(|b| b == 0 || b == b'\r' || b == b'\n') {
            return Err(fail("no NUL, CR or LF in values", format!("{n}: {v:?}")));
        }
    }
    Ok(Pass::ok())
}

fn uppercase_name(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("X-Upper", "1")]))
}

fn space_in_name(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("x space", "1")]))
}

fn colon_in_name(t: &Target) -> CaseResult {
    // "With the exception of pseudo-header fields, ... field names MUST
    // NOT include a colon" (§8.2.1).
    malformed_get(t, get_with(t, &[("x:colon", "1")]))
}

fn nul_in_value(t: &Target) -> CaseResult {
    // "A field value MUST NOT contain the zero value (ASCII NUL, 0x00),
    // line feed (ASCII LF, 0x0a), or carriage return (ASCII CR, 0x0d) at
    // any position" (§8.2.1).
    malformed_get(t, get_with(t, &[("x-value", "a\0b")]))
}

fn cr_in_value(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("x-value", "a\rb")]))
}

fn lf_in_value(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("x-value", "a\nx-injected: b")]))
}

fn leading_space(t: &Target) -> CaseResult {
    // "A field value MUST NOT start or end with an ASCII whitespace
    // character (ASCII SP or HTAB, 0x20 or 0x09)" (§8.2.1).
    malformed_get(t, get_with(t, &[("x-value", " padded")]))
}

fn trailing_tab(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("x-value", "padded\t")]))
}

fn connection_field(t: &Target) -> CaseResult {
    // "Any message containing connection-specific header fields MUST be
    // treated as malformed" (§8.2.2).
    malformed_get(t, get_with(t, &[("connection", "keep-alive")]))
}

fn keep_alive(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("keep-alive", "timeout=5")]))
}

fn proxy_connection(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("proxy-connection", "keep-alive")]))
}

fn transfer_encoding(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("transfer-encoding", "chunked")]))
}

fn upgrade_field(t: &Target) -> CaseResult {
    malformed_get(t, get_with(t, &[("upgrade", "h2c")]))
}

fn te_gzip(t: &Target) -> CaseResult {
    // "The only exception to this is the TE header field, which MAY be
    // present in an HTTP/2 request; when it is, it MUST NOT contain any
    // value other than "trailers"" (§8.2.2).
    malformed_get(t, get_with(t, &[("te", "trailers, gzip")]))
}

fn te_trailers(t: &Target) -> CaseResult {
    let mut c = open(t)?;
    let f = get_with(t, &[("te", "trailers")])(&c);
    c.send(&frame::headers(
        1,
        flag::END_STREAM,
        Block::new().fields(&f).bytes(),
    ));
    let r = c.response(1)?;
    if !(200..300).contains(&r.status) {
        return Err(fail("2xx", r.summary()));
    }
    Ok(Pass::ok())
}

fn response_connection_fields(t: &Target) -> CaseResult {
    // "An endpoint MUST NOT generate an HTTP/2 message containing
    // connection-specific header fields" (§8.2.2).
    let r = get_response(t)?;
    for (n, _) in r.fields.iter().chain(&r.trailers) {
        if [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
        ]
        .contains(&n.as_str())
        {
            return Err(fail("no connection-specific fields", n.clone()));
        }
    }
    Ok(Pass::ok())
}

fn pseudo_after_regular(t: &Target) -> CaseResult {
    // "All pseudo-header fields MUST appear in a field block before all
    // regular field lines. Any request or response that contains a
    // pseudo-header field that appears in a field block after a regular
    // field line MUST be treated as malformed" (§8.3).
    let path = t.option("path").to_string();
    malformed_get(t, move |c| {
        let mut v = c.request("GET", &path);
        let authority = v.pop().expect("four fields");
        v.push(("x-regular".into(), "1".into()));
        v.push(authority);
        v
    })
}

fn unknown_pseudo(t: &Target) -> CaseResult {
    // "Endpoints MUST treat a request or response that contains undefined
    // or invalid pseudo-header fields as malformed" (§8.3).
    malformed_get(t, get_with(t, &[(":unknown", "1")]))
}

fn status_in_request(t: &Target) -> CaseResult {
    // "Pseudo-header fields defined for responses MUST NOT appear in
    // requests" (§8.3).
    malformed_get(t, get_with(t, &[(":status", "200")]))
}

fn pseudo_in_trailers(t: &Target) -> CaseResult {
    // "Pseudo-header fields MUST NOT appear in a trailer section" (§8.3).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send_all(&[
        frame::data(1, 0, b"body"),
        frame::headers(
            1,
            flag::END_STREAM,
            Block::new().field(":method", "POST").bytes(),
        ),
    ]);
    expect::malformed(&mut c, 1)
}

/// The GET fields without `name`.
fn without(t: &Target, name: &'static str) -> impl FnOnce(&Conn) -> Vec<(String, String)> {
    let path = t.option("path").to_string();
    move |c: &Conn| {
        c.request("GET", &path)
            .into_iter()
            .filter(|(n, _)| n != name)
            .collect()
    }
}

fn missing_method(t: &Target) -> CaseResult {
    // "All HTTP/2 requests MUST include exactly one valid value for the
    // ":method", ":scheme", and ":path" pseudo-header fields, unless they
    // are CONNECT requests" (§8.3.1).
    malformed_get(t, without(t, ":method"))
}

fn missing_scheme(t: &Target) -> CaseResult {
    malformed_get(t, without(t, ":scheme"))
}

fn missing_path(t: &Target) -> CaseResult {
    malformed_get(t, without(t, ":path"))
}

fn empty_path(t: &Target) -> CaseResult {
    // ":path ... This pseudo-header field MUST NOT be empty for "http" or
    // "https" URIs" (§8.3.1).
    malformed_get(t, |c| c.request("GET", ""))
}

/// The GET fields with `name` sent twice.
fn twice(t: &Target, name: &'static str) -> impl FnOnce(&Conn) -> Vec<(String, String)> {
    let path = t.option("path").to_string();
    move |c: &Conn| {
        let mut v = c.request("GET", &path);
        let dup = v.iter().find(|(n, _)| n == name).cloned().expect("present");
        v.insert(1, dup);
        v
    }
}

fn duplicate_method(t: &Target) -> CaseResult {
    // "The same pseudo-header field name MUST NOT appear more than once in
    // a field block" (§8.3).
    malformed_get(t, twice(t, ":method"))
}

fn duplicate_scheme(t: &Target) -> CaseResult {
    malformed_get(t, twice(t, ":scheme"))
}

fn duplicate_path(t: &Target) -> CaseResult {
    malformed_get(t, twice(t, ":path"))
}

fn host_mismatch(t: &Target) -> CaseResult {
    // "A server SHOULD treat a request as malformed if it contains a Host
    // header field that identifies an entity that differs from the entity
    // in the ":authority" pseudo-header field" (§8.3.1).
    malformed_get(t, get_with(t, &[("host", "other.example:1")]))
}

fn response_pseudo(t: &Target) -> CaseResult {
    // "For HTTP/2 responses, a single ":status" pseudo-header field is
    // defined ... This pseudo-header field MUST be included in all
    // responses" (§8.3.2); request pseudo-headers MUST NOT appear in
    // responses and pseudo-headers come first (§8.3).
    let r = get_response(t)?;
    let statuses: Vec<_> = r.fields.iter().filter(|(n, _)| n == ":status").collect();
    if statuses.len() != 1
        || statuses[0].1.len() != 3
        || !statuses[0].1.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(fail("exactly one 3-digit :status", format!("{statuses:?}")));
    }
    let mut regular = false;
    for (n, _) in &r.fields {
        if n.starts_with(':') {
            if regular || n != ":status" {
                return Err(fail(
                    ":status only, before the regular fields",
                    format!("{:?}", r.fields.iter().map(|(n, _)| n).collect::<Vec<_>>()),
                ));
            }
        } else {
            regular = true;
        }
    }
    if r.trailers.iter().any(|(n, _)| n.starts_with(':')) {
        return Err(fail(
            "no pseudo-header in trailers",
            format!("{:?}", r.trailers),
        ));
    }
    Ok(Pass::ok())
}
