//! RFC 9112 §6 (message body length) and §7 (transfer codings), RFC 9110
//! §8.6 (Content-Length).

use super::wire::{After, Conn, Response, lossy};
use super::{baseline, exchange, expect_400_close, need_echo, req, status_in};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "9112-6.1",
            "chunked request content is decoded",
            chunked_echo,
        ),
        Case::must(
            "9112-6.1",
            "Content-Length and Transfer-Encoding together: rejected, or framed by chunked; then closed",
            cl_and_te,
        ),
        Case::must(
            "9112-6.1",
            "HTTP/1.0 request with Transfer-Encoding: connection closed after the response",
            http10_te,
        ),
        Case::must(
            "9112-6.1",
            "no Transfer-Encoding in a response to an HTTP/1.0 request",
            no_te_to_http10,
        ),
        Case::should(
            "9112-6.1",
            "an unknown transfer coding (before chunked) gets 501",
            unknown_coding_501,
        ),
        Case::must(
            "9112-6.3",
            "Transfer-Encoding not ending in chunked: 400 and close",
            te_not_chunked,
        ),
        Case::must(
            "9112-6.3",
            "two different Content-Length field lines: 400 and close",
            conflicting_cl,
        ),
        Case::must(
            "9112-6.3",
            "an invalid Content-Length (abc, -1, +5, 3 4): 400 and close",
            invalid_cl,
        ),
        Case::must(
            "9112-6.3",
            "a request with neither Content-Length nor Transfer-Encoding has no content",
            no_framing_no_content,
        ),
        Case::must(
            "9112-7",
            "transfer-coding names are case-insensitive (Chunked)",
            chunked_case,
        ),
        Case::must(
            "9112-7.1",
            "chunk sizes in upper and lower case hex, with leading zeros",
            chunk_sizes,
        ),
        Case::should(
            "9112-7.1",
            "a malformed chunk size gets 400",
            bad_chunk_size,
        ),
        Case::must(
            "9112-7.1.1",
            "unrecognized chunk extensions are ignored",
            chunk_extensions,
        ),
        Case::must(
            "9112-7.1.2",
            "a trailer section is consumed and the next request served",
            trailers,
        ),
        Case::must(
            "9110-5.5",
            "whitespace around a field value is not part of it (Content-Length:  5  )",
            cl_whitespace,
        ),
        Case::must(
            "9110-8.6",
            "Content-Length: 5, 5 is rejected (400) or read as 5",
            cl_repeated_list,
        ),
    ]
}

/// POSTs `head` (a template ending before the blank line's CRLF, framing
/// included) plus `body` to the echo resource, expecting `want` back.
fn echo(t: &Target, head: &str, body: &[u8], want: &[u8]) -> CaseResult {
    need_echo(t)?;
    let mut bytes = req(
        t,
        &format!("POST {{e}} HTTP/1.1\r\nHost: {{h}}\r\n{head}\r\n"),
    );
    bytes.extend_from_slice(body);
    let (_, r) = exchange(t, &bytes)?;
    let r = r?;
    if (200..300).contains(&r.status) && r.body == want {
        Ok(Pass::ok())
    } else {
        Err(fail(
            format!("2xx echoing {:?}", lossy(want)),
            format!("{}: {:?}", r.summary(), lossy(&r.body)),
        ))
    }
}

fn chunked_echo(t: &Target) -> CaseResult {
    echo(
        t,
        "Transfer-Encoding: chunked\r\n",
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        b"hello world",
    )
}

fn closed_after(c: &mut Conn, r: &Response, want: &str) -> Result<(), Fail> {
    match c.after() {
        After::Closed => Ok(()),
        After::Open => Err(fail(
            want,
            format!("{}, then the connection stayed open", r.summary()),
        )),
        After::Data(d) => Err(fail(want, format!("{}, then more bytes: {d}", r.summary()))),
    }
}

fn cl_and_te(t: &Target) -> CaseResult {
    // "A server MAY reject a request that contains both Content-Length and
    // Transfer-Encoding or process such a request in accordance with the
    // Transfer-Encoding alone. Regardless, the server MUST close the
    // connection after responding to such a request" (§6.1).
    let echo_ok = need_echo(t).is_ok();
    let target = if echo_ok { "{e}" } else { "{p}" };
    let bytes = req(
        t,
        &format!(
            "POST {target} HTTP/1.1\r\nHost: {{h}}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        ),
    );
    let want = "a rejection, or 2xx framed by chunked; then the connection closed";
    let (mut c, r) = exchange(t, &bytes)?;
    let r = r.map_err(|e| fail(want, e.to_string()))?;
    if (200..300).contains(&r.status) && echo_ok && r.body != b"hello" {
        return Err(fail(
            "content framed by chunked (hello)",
            format!("{:?}", lossy(&r.body)),
        ));
    }
    closed_after(&mut c, &r, want)?;
    Ok(Pass::note(if (200..300).contains(&r.status) {
        "processed by Transfer-Encoding, then closed".to_string()
    } else {
        format!("rejected with {}, then closed", r.status)
    }))
}

fn http10_te(t: &Target) -> CaseResult {
    // "A server or client that receives an HTTP/1.0 message containing a
    // Transfer-Encoding header field MUST treat the message as if the
    // framing is faulty ... and close the connection after processing the
    // message" (§6.1).
    let target = if need_echo(t).is_ok() { "{e}" } else { "{p}" };
    let bytes = req(
        t,
        &format!(
            "POST {target} HTTP/1.0\r\nHost: {{h}}\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        ),
    );
    let want = "a response, then the connection closed";
    let (mut c, r) = exchange(t, &bytes)?;
    match r {
        Ok(r) => closed_after(&mut c, &r, want)?,
        Err(super::wire::ReadError::Closed { partial: 0 }) => {
            return Ok(Pass::note("closed without a response"));
        }
        Err(e) => return Err(fail(want, e.to_string())),
    }
    Ok(Pass::ok())
}

fn no_te_to_http10(t: &Target) -> CaseResult {
    // "A server MUST NOT send a response containing Transfer-Encoding unless
    // the corresponding request indicates HTTP/1.1" (§6.1).
    let mut probes = vec![req(t, "GET {p} HTTP/1.0\r\nHost: {h}\r\n\r\n")];
    if need_echo(t).is_ok() {
        let mut b = req(
            t,
            "POST {e} HTTP/1.0\r\nHost: {h}\r\nContent-Length: 5\r\n\r\n",
        );
        b.extend_from_slice(b"hello");
        probes.push(b);
    }
    for p in probes {
        let (_, r) = exchange(t, &p)?;
        let r = r?;
        if let Some(te) = r.header("transfer-encoding") {
            return Err(fail(
                "no Transfer-Encoding",
                format!("Transfer-Encoding: {te} ({})", r.summary()),
            ));
        }
    }
    Ok(Pass::ok())
}

fn unknown_coding_501(t: &Target) -> CaseResult {
    // "A server that receives a request message with a transfer coding it
    // does not understand SHOULD respond with 501 (Not Implemented)" (§6.1).
    let (_, r) = exchange(
        t,
        &req(
            t,
            "POST {p} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: x-conformance, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
    )?;
    status_in(&r, &[501], "501")?;
    Ok(Pass::ok())
}

fn te_not_chunked(t: &Target) -> CaseResult {
    // "If a Transfer-Encoding header field is present in a request and the
    // chunked transfer coding is not the final encoding, ... the server
    // MUST respond with the 400 (Bad Request) status code and then close
    // the connection" (§6.3 rule 4).
    expect_400_close(
        t,
        &req(
            t,
            "POST {p} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: gzip\r\n\r\nhello",
        ),
        true,
    )?;
    expect_400_close(
        t,
        &req(
            t,
            "POST {p} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ),
        true,
    )?;
    Ok(Pass::ok())
}

fn conflicting_cl(t: &Target) -> CaseResult {
    // An invalid Content-Length: "the server MUST respond with a 400 (Bad
    // Request) status code and then close the connection" (§6.3 rule 5).
    expect_400_close(
        t,
        &req(
            t,
            "POST {p} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello",
        ),
        true,
    )?;
    Ok(Pass::ok())
}

fn invalid_cl(t: &Target) -> CaseResult {
    for v in ["abc", "-1", "+5", "3 4"] {
        expect_400_close(
            t,
            &req(
                t,
                &format!("POST {{p}} HTTP/1.1\r\nHost: {{h}}\r\nContent-Length: {v}\r\n\r\nhello"),
            ),
            true,
        )
        .map_err(|f| match f {
            Fail::Mismatch { expected, seen } => {
                fail(expected, format!("Content-Length: {v}: {seen}"))
            }
            other => other,
        })?;
    }
    Ok(Pass::ok())
}

fn no_framing_no_content(t: &Target) -> CaseResult {
    // "If this is a request message and none of the above are true, then
    // the message body length is zero" (§6.3 rule 6). The pipelined GET
    // must be answered as a request, not swallowed as content.
    let base = baseline(t)?;
    let target = if need_echo(t).is_ok() { "{e}" } else { "{p}" };
    let mut c = Conn::open(t)?;
    c.send(&req(
        t,
        &format!(
            "POST {target} HTTP/1.1\r\nHost: {{h}}\r\n\r\nGET {{p}} HTTP/1.1\r\nHost: {{h}}\r\n\r\n"
        ),
    ))?;
    let (_, first) = c.final_response(false)?;
    if first.status == 411 || first.closes() {
        return Ok(Pass::note(format!(
            "first answer {} (no second request on this connection)",
            first.status
        )));
    }
    if (200..300).contains(&first.status) && !first.body.is_empty() && target == "{e}" {
        return Err(fail("an empty echo", format!("{:?}", lossy(&first.body))));
    }
    let (_, second) = c.final_response(false).map_err(|e| {
        fail(
            format!("the pipelined GET answered ({})", base.status),
            e.to_string(),
        )
    })?;
    if second.status != base.status {
        return Err(fail(
            format!("GET answered {}", base.status),
            second.summary(),
        ));
    }
    Ok(Pass::ok())
}

fn chunked_case(t: &Target) -> CaseResult {
    echo(
        t,
        "Transfer-Encoding: Chunked\r\n",
        b"5\r\nhello\r\n0\r\n\r\n",
        b"hello",
    )
}

fn chunk_sizes(t: &Target) -> CaseResult {
    echo(
        t,
        "Transfer-Encoding: chunked\r\n",
        b"0A\r\n0123456789\r\n00b\r\nabcdefghijk\r\n0\r\n\r\n",
        b"0123456789abcdefghijk",
    )
}

fn bad_chunk_size(t: &Target) -> CaseResult {
    let (_, r) = exchange(
        t,
        &req(
            t,
            "POST {p} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        ),
    )?;
    status_in(&r, &[400], "400")?;
    Ok(Pass::ok())
}

fn chunk_extensions(t: &Target) -> CaseResult {
    echo(
        t,
        "Transfer-Encoding: chunked\r\n",
        b"5;name=value\r\nhello\r\n1 ; quoted=\"a;b\"\r\n!\r\n0;last\r\n\r\n",
        b"hello!",
    )
}

fn trailers(t: &Target) -> CaseResult {
    need_echo(t)?;
    let base = baseline(t)?;
    let mut c = Conn::open(t)?;
    c.send(&req(
        t,
        "POST {e} HTTP/1.1\r\nHost: {h}\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n\
         5\r\nhello\r\n0\r\nX-Sum: 5\r\nX-Other: 1\r\n\r\n\
         GET {p} HTTP/1.1\r\nHost: {h}\r\n\r\n",
    ))?;
    let (_, first) = c.final_response(false)?;
    if first.body != b"hello" {
        return Err(fail("echo of hello", first.summary()));
    }
    if first.closes() {
        return Ok(Pass::note("the server closed after the chunked request"));
    }
    let (_, second) = c.final_response(false)?;
    if second.status != base.status {
        return Err(fail(
            format!("the next GET answered {}", base.status),
            second.summary(),
        ));
    }
    Ok(Pass::ok())
}

fn cl_whitespace(t: &Target) -> CaseResult {
    echo(t, "Content-Length:   5  \r\n", b"hello", b"hello")
}

fn cl_repeated_list(t: &Target) -> CaseResult {
    // "a recipient of a Content-Length header field value consisting of the
    // same decimal value repeated as a comma-separated list (e.g,
    // "Content-Length: 42, 42") MAY either reject the message as invalid or
    // replace that invalid field value with a single instance" (RFC 9110 §8.6).
    need_echo(t)?;
    let (_, r) = exchange(
        t,
        &req(
            t,
            "POST {e} HTTP/1.1\r\nHost: {h}\r\nContent-Length: 5, 5\r\n\r\nhello",
        ),
    )?;
    let r = r?;
    match r.status {
        400 => Ok(Pass::note("rejected")),
        200..=299 if r.body == b"hello" => Ok(Pass::note("read as 5")),
        _ => Err(fail("400, or the echo of 5 bytes", r.summary())),
    }
}
