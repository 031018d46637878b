//! RFC 9110 requirements visible on an HTTP/1.1 connection: versions,
//! methods, HEAD, Date, Expect.

use super::wire::Conn;
use super::{baseline, exchange, need_echo, req, status_in};
use crate::framework::{Case, CaseResult, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::should(
            "9110-2.5",
            "a higher minor version (HTTP/1.2) is served as HTTP/1.1",
            higher_minor,
        ),
        Case::should(
            "9110-6.2",
            "the response to an HTTP/1.0 request is sent as HTTP/1.1",
            response_version,
        ),
        Case::must(
            "9110-6.6.1",
            "Date in 2xx and 4xx responses, in IMF-fixdate",
            date,
        ),
        Case::should(
            "9110-9.1",
            "an unrecognized method gets 501",
            unknown_method,
        ),
        Case::must(
            "9110-9.3.2",
            "HEAD is answered like GET, without content (pipelined GET parses)",
            head,
        ),
        Case::should(
            "9110-9.3.2",
            "HEAD sends the same Content-Type and Content-Length as GET",
            head_fields,
        ),
        Case::must(
            "9110-10.1.1",
            "Expect: 100-continue gets 100 or a final status before the content",
            expect_continue,
        ),
        Case::must(
            "9110-15.2",
            "Expect: 100-continue in an HTTP/1.0 request is ignored (no 1xx)",
            expect_http10,
        ),
    ]
}

fn higher_minor(t: &Target) -> CaseResult {
    // "A recipient that receives a message with a major version number that
    // it implements and a minor version number higher than what it
    // implements SHOULD process the message as if it were in the highest
    // minor version within that major version" (RFC 9110 §2.5).
    let base = baseline(t)?;
    let (_, r) = exchange(t, &req(t, "GET {p} HTTP/1.2\r\nHost: {h}\r\n\r\n"))?;
    let r = r?;
    if r.status != base.status {
        return Err(fail(base.status.to_string(), r.summary()));
    }
    Ok(Pass::ok())
}

fn response_version(t: &Target) -> CaseResult {
    // "A server SHOULD send a response version equal to the highest version
    // to which the server is conformant that has a major version less than
    // or equal to the one received in the request" (RFC 9110 §6.2).
    let (_, r) = exchange(t, &req(t, "GET {p} HTTP/1.0\r\nHost: {h}\r\n\r\n"))?;
    let r = r?;
    if r.version == "HTTP/1.1" {
        Ok(Pass::ok())
    } else {
        Err(fail("HTTP/1.1", r.version))
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7).
pub(crate) fn is_imf_fixdate(s: &str) -> bool {
    let b = s.as_bytes();
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    b.len() == 29
        && DAYS.contains(&&s[0..3])
        && &s[3..5] == ", "
        && digits(5..7)
        && b[7] == b' '
        && MONTHS.contains(&&s[8..11])
        && b[11] == b' '
        && digits(12..16)
        && b[16] == b' '
        && digits(17..19)
        && b[19] == b':'
        && digits(20..22)
        && b[22] == b':'
        && digits(23..25)
        && &s[25..] == " GMT"
}

fn date(t: &Target) -> CaseResult {
    // "An origin server with a clock ... MUST generate a Date header field
    // in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error)
    // responses" (§6.6.1), and "MUST generate timestamps in the IMF-fixdate
    // format" (§5.6.7).
    baseline(t)?;
    for template in [
        "GET {p} HTTP/1.1\r\nHost: {h}\r\n\r\n",
        "GET /conformance-missing HTTP/1.1\r\nHost: {h}\r\n\r\n",
        "GET {p} HTTP/1.1\r\n\r\n",
    ] {
        let (_, r) = exchange(t, &req(t, template))?;
        let r = r?;
        if !(200..500).contains(&r.status) {
            continue;
        }
        match r.header("date") {
            Some(d) if is_imf_fixdate(d) => {}
            Some(d) => {
                return Err(fail(
                    "Date in IMF-fixdate",
                    format!("{} response: Date: {d}", r.status),
                ));
            }
            None => {
                return Err(fail(
                    "a Date field",
                    format!("{} without Date", r.summary()),
                ));
            }
        }
    }
    Ok(Pass::ok())
}

fn unknown_method(t: &Target) -> CaseResult {
    // "An origin server that receives a request method that is
    // unrecognized or not implemented SHOULD respond with the 501" (§9.1).
    let (_, r) = exchange(t, &req(t, "FROBNICATE {p} HTTP/1.1\r\nHost: {h}\r\n\r\n"))?;
    status_in(&r, &[501], "501")?;
    Ok(Pass::ok())
}

fn head(t: &Target) -> CaseResult {
    // "All general-purpose servers MUST support the methods GET and HEAD"
    // (§9.1); "the server MUST NOT send content in the response" (§9.3.2).
    // Content sent after the HEAD response would be read as the start of
    // the GET's response.
    let base = baseline(t)?;
    let mut c = Conn::open(t)?;
    c.send(&req(
        t,
        "HEAD {p} HTTP/1.1\r\nHost: {h}\r\n\r\nGET {p} HTTP/1.1\r\nHost: {h}\r\n\r\n",
    ))?;
    let (_, h) = c.final_response(true)?;
    if h.status != base.status {
        return Err(fail(
            format!("HEAD answered {} like GET", base.status),
            h.summary(),
        ));
    }
    if h.closes() {
        return Ok(Pass::note(
            "closed after HEAD; its content could not be checked",
        ));
    }
    let (_, g) = c.final_response(false).map_err(|e| {
        fail(
            "the pipelined GET's response right after HEAD's",
            e.to_string(),
        )
    })?;
    if g.status != base.status || g.body != base.body {
        return Err(fail(base.summary(), g.summary()));
    }
    Ok(Pass::ok())
}

fn head_fields(t: &Target) -> CaseResult {
    // "The server SHOULD send the same header fields in response to a HEAD
    // request as it would have sent if the request method had been GET"
    // (§9.3.2); Content-Length MAY be omitted.
    let base = baseline(t)?;
    let mut c = Conn::open(t)?;
    c.send(&req(t, "HEAD {p} HTTP/1.1\r\nHost: {h}\r\n\r\n"))?;
    let (_, h) = c.final_response(true)?;
    if h.header("content-type") != base.header("content-type") {
        return Err(fail(
            format!("Content-Type {:?}", base.header("content-type")),
            format!("{:?}", h.header("content-type")),
        ));
    }
    if let Some(cl) = h.header("content-length")
        && cl != base.body.len().to_string()
    {
        return Err(fail(
            format!("Content-Length {}", base.body.len()),
            cl.to_string(),
        ));
    }
    Ok(Pass::ok())
}

fn expect_continue(t: &Target) -> CaseResult {
    // "An origin server MUST, upon receiving an HTTP/1.1 (or later)
    // request-line and a complete header section that contains a
    // 100-continue expectation and indicates a request message body will
    // follow, either send an immediate response with a final status code
    // ... or send an immediate 100 (Continue) response" (§10.1.1).
    let echo = need_echo(t).is_ok();
    let target = if echo { "{e}" } else { "{p}" };
    let mut c = Conn::open(t)?;
    c.send(&req(
        t,
        &format!("POST {target} HTTP/1.1\r\nHost: {{h}}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
    ))?;
    let first = c.response(false).map_err(|e| {
        fail(
            "100 (Continue) or a final status before the content",
            e.to_string(),
        )
    })?;
    if first.status != 100 {
        return Ok(Pass::note(format!("final status {} at once", first.status)));
    }
    c.send(b"hello")?;
    let (_, fin) = c.final_response(false)?;
    if echo && (fin.body != b"hello" || !(200..300).contains(&fin.status)) {
        return Err(fail("2xx echoing hello after 100", fin.summary()));
    }
    Ok(Pass::ok())
}

fn expect_http10(t: &Target) -> CaseResult {
    // "A server that receives a 100-continue expectation in an HTTP/1.0
    // request MUST ignore that expectation" (§10.1.1); "A server MUST NOT
    // send a 1xx response to an HTTP/1.0 client" (§15.2).
    let target = if need_echo(t).is_ok() { "{e}" } else { "{p}" };
    let mut c = Conn::open(t)?;
    c.send(&req(
        t,
        &format!(
            "POST {target} HTTP/1.0\r\nHost: {{h}}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"
        ),
    ))?;
    let r = c.response(false)?;
    if (100..200).contains(&r.status) {
        return Err(fail("a final response, no 1xx", r.summary()));
    }
    Ok(Pass::ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn imf_fixdate() {
        assert!(super::is_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert!(!super::is_imf_fixdate("Sunday, 06-Nov-94 08:49:37 GMT"));
        assert!(!super::is_imf_fixdate("Sun Nov  6 08:49:37 1994"));
        assert!(!super::is_imf_fixdate("Sun, 06 Nov 1994 08:49:37 UTC"));
    }
}
