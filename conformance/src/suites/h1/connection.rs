//! RFC 9112 §9: persistence, pipelining and closing.

use super::wire::{After, Conn, Response};
use super::{baseline, exchange, req};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "9112-9.3",
            "a response without close leaves the connection usable for the next request",
            persistent,
        ),
        Case::must(
            "9112-9.3",
            "HTTP/1.0 request without keep-alive: connection closed after the response",
            http10_closes,
        ),
        Case::must(
            "9112-9.3",
            "HTTP/1.0 keep-alive: if the response announces it, the connection stays usable",
            http10_keep_alive,
        ),
        Case::must(
            "9112-9.3.2",
            "pipelined requests are answered in order",
            pipelining,
        ),
        Case::must(
            "9112-9.6",
            "Connection: close: one response, no further request processed, then close",
            close_honoured,
        ),
        Case::should(
            "9112-9.6",
            "the response to a Connection: close request carries close",
            close_announced,
        ),
    ]
}

fn same(base: &Response, r: &Response) -> bool {
    r.status == base.status && r.body == base.body
}

fn persistent(t: &Target) -> CaseResult {
    // "A server that does not support persistent connections MUST send the
    // 'close' connection option in every response" (§9.3).
    let base = baseline(t)?;
    let mut c = Conn::open(t)?;
    let get = req(t, "GET {p} HTTP/1.1\r\nHost: {h}\r\n\r\n");
    c.send(&get)?;
    let (_, first) = c.final_response(false)?;
    if first.closes() {
        return match c.after() {
            After::Closed => Ok(Pass::note("the server announces close and closes")),
            other => Err(fail(
                "close after a response announcing it",
                format!("{other:?}"),
            )),
        };
    }
    c.send(&get)?;
    let (_, second) = c
        .final_response(false)
        .map_err(|e| fail("the second request answered", e.to_string()))?;
    if !same(&base, &second) {
        return Err(fail(base.summary(), second.summary()));
    }
    Ok(Pass::ok())
}

fn http10_closes(t: &Target) -> CaseResult {
    // "If the received protocol is HTTP/1.0, the 'keep-alive' connection
    // option is [not] present ... the connection will close after the
    // current response" (§9.3).
    let (mut c, r) = exchange(t, &req(t, "GET {p} HTTP/1.0\r\nHost: {h}\r\n\r\n"))?;
    let r = r?;
    match c.after() {
        After::Closed => Ok(Pass::ok()),
        other => Err(fail(
            "close after the response",
            format!("{}, then {other:?}", r.summary()),
        )),
    }
}

fn http10_keep_alive(t: &Target) -> CaseResult {
    let base = baseline(t)?;
    let get = req(
        t,
        "GET {p} HTTP/1.0\r\nHost: {h}\r\nConnection: keep-alive\r\n\r\n",
    );
    let mut c = Conn::open(t)?;
    c.send(&get)?;
    let (_, first) = c.final_response(false)?;
    if !first.has_token("connection", "keep-alive") {
        return match c.after() {
            After::Closed => Ok(Pass::note("1.0 keep-alive not honoured; closed")),
            other => Err(fail(
                "close (the response did not announce keep-alive)",
                format!("{other:?}"),
            )),
        };
    }
    c.send(&get)?;
    let (_, second) = c
        .final_response(false)
        .map_err(|e| fail("the second request answered", e.to_string()))?;
    if !same(&base, &second) {
        return Err(fail(base.summary(), second.summary()));
    }
    Ok(Pass::ok())
}

fn pipelining(t: &Target) -> CaseResult {
    // "A server ... MUST send the corresponding responses in the same order
    // that the requests were received" (§9.3.2). Compared with the answers
    // to the same requests sent one per connection.
    let paths = [
        t.option("path").to_string(),
        "/conformance-missing-a".to_string(),
        t.option("path2").to_string(),
        "/conformance-missing-b?x=1".to_string(),
        t.option("path").to_string(),
    ];
    let mut alone = Vec::new();
    for p in &paths {
        let (_, r) = exchange(
            t,
            &req(t, &format!("GET {p} HTTP/1.1\r\nHost: {{h}}\r\n\r\n")),
        )?;
        alone.push(r?);
    }
    let mut all = Vec::new();
    for p in &paths {
        all.extend(req(t, &format!("GET {p} HTTP/1.1\r\nHost: {{h}}\r\n\r\n")));
    }
    let mut c = Conn::open(t)?;
    c.send(&all)?;
    for (i, (p, want)) in paths.iter().zip(&alone).enumerate() {
        let (_, r) = c
            .final_response(false)
            .map_err(|e| fail(format!("response {} (GET {p})", i + 1), e.to_string()))?;
        if !same(want, &r) {
            return Err(fail(
                format!("response {} to be GET {p}'s: {}", i + 1, want.summary()),
                r.summary(),
            ));
        }
        if r.closes() {
            return Ok(Pass::note(format!(
                "the server closed after {} responses",
                i + 1
            )));
        }
    }
    Ok(Pass::ok())
}

fn close_exchange(t: &Target) -> Result<(Conn, Response), Fail> {
    let mut c = Conn::open(t)?;
    c.send(&req(
        t,
        "GET {p} HTTP/1.1\r\nHost: {h}\r\nConnection: close\r\n\r\nGET {p} HTTP/1.1\r\nHost: {h}\r\n\r\n",
    ))?;
    let (_, r) = c.final_response(false)?;
    Ok((c, r))
}

fn close_honoured(t: &Target) -> CaseResult {
    // "A server that receives a 'close' connection option MUST initiate
    // closure of the connection after it sends the final response ... The
    // server MUST NOT process any further requests received on that
    // connection" (§9.6).
    let (mut c, r) = close_exchange(t)?;
    match c.after() {
        After::Closed => Ok(Pass::ok()),
        other => Err(fail(
            "close after the first response",
            format!("{}, then {other:?}", r.summary()),
        )),
    }
}

fn close_announced(t: &Target) -> CaseResult {
    let (_, r) = close_exchange(t)?;
    if r.has_token("connection", "close") {
        Ok(Pass::ok())
    } else {
        Err(fail(
            "Connection: close",
            format!("Connection: {:?}", r.header("connection")),
        ))
    }
}
