//! What a case waits for after sending something wrong, accepting every
//! behaviour RFC 9113 allows.
//!
//! - A connection error (§5.4.1): a GOAWAY with one of the named codes, or
//!   the connection closed (the GOAWAY is only a SHOULD).
//! - A stream error (§5.4.2): a RST_STREAM on the stream with one of the
//!   codes, or the same treated as a connection error ("an endpoint MAY
//!   choose to treat a stream error as a connection error", §5.4.1).
//! - A malformed request (§8.1.1): a stream error of type PROTOCOL_ERROR,
//!   or an HTTP 4xx response closing the stream ("a server MAY send an
//!   HTTP response prior to closing or resetting the stream").

use super::conn::{Conn, Event};
use super::frame::{code, flag, ty};
use crate::framework::{CaseResult, Pass, fail};

fn names(codes: &[u32]) -> String {
    codes
        .iter()
        .map(|c| code::name(*c))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Up to the last few events, for failure messages.
struct Log(Vec<String>);

impl Log {
    fn push(&mut self, ev: &Event) {
        if self.0.len() == 6 {
            self.0.remove(0);
        }
        self.0.push(ev.describe());
    }

    fn then(&self, last: &Event) -> String {
        let mut all = self.0.clone();
        all.push(last.describe());
        all.join(", then ")
    }
}

/// What was seen when the server did end the stream or connection, but
/// with another error code than the RFC names for the condition.
fn other_code(log: &Log, ev: &Event, got: u32, codes: &[u32]) -> String {
    format!(
        "{} (the right reaction, but {} where the RFC names {})",
        log.then(ev),
        code::name(got),
        names(codes)
    )
}

/// A connection error with one of `codes`.
pub fn connection_error(c: &mut Conn, codes: &[u32]) -> CaseResult {
    let want = format!("connection error {}: GOAWAY or close", names(codes));
    let mut log = Log(Vec::new());
    loop {
        let ev = c.event();
        match &ev {
            Event::Frame(f) if f.ty == ty::GOAWAY => {
                let got = f.error_code().unwrap_or(u32::MAX);
                if codes.contains(&got) {
                    return Ok(Pass::ok());
                }
                return Err(fail(want, other_code(&log, &ev, got, codes)));
            }
            Event::Closed | Event::Reset => {
                return Ok(Pass::note("connection closed without a GOAWAY"));
            }
            Event::Timeout | Event::Broken(_) => return Err(fail(want, log.then(&ev))),
            _ => log.push(&ev),
        }
    }
}

/// A stream error on `stream` with one of `codes` (or the same as a
/// connection error).
pub fn stream_error(c: &mut Conn, stream: u32, codes: &[u32]) -> CaseResult {
    stream_outcome(c, stream, codes, false)
}

/// A malformed request on `stream` (§8.1.1): a PROTOCOL_ERROR stream or
/// connection error, or a 4xx response.
pub fn malformed(c: &mut Conn, stream: u32) -> CaseResult {
    stream_outcome(c, stream, &[code::PROTOCOL_ERROR], true)
}

fn stream_outcome(c: &mut Conn, stream: u32, codes: &[u32], response_ok: bool) -> CaseResult {
    let want = format!(
        "stream error {} on stream {stream}: RST_STREAM (or GOAWAY){}",
        names(codes),
        if response_ok {
            " or a 4xx response"
        } else {
            ""
        }
    );
    let mut log = Log(Vec::new());
    let mut answered: Option<u16> = None;
    loop {
        let ev = c.event();
        match &ev {
            Event::Frame(f) if f.ty == ty::RST_STREAM && f.stream_id() == stream => {
                let got = f.error_code().unwrap_or(u32::MAX);
                if codes.contains(&got) {
                    return Ok(match answered {
                        Some(s) => Pass::note(format!("a {s} response, then RST_STREAM")),
                        None => Pass::ok(),
                    });
                }
                return Err(fail(want, other_code(&log, &ev, got, codes)));
            }
            Event::Frame(f) if f.ty == ty::GOAWAY => {
                let got = f.error_code().unwrap_or(u32::MAX);
                if codes.contains(&got) {
                    return Ok(Pass::note("treated as a connection error (GOAWAY)"));
                }
                return Err(fail(want, other_code(&log, &ev, got, codes)));
            }
            Event::Headers(h) if h.stream == stream => match h.status() {
                // An interim response, or trailers: keep reading.
                Some(s) if (100..200).contains(&s) => log.push(&ev),
                None => log.push(&ev),
                Some(s) => {
                    // A response head: the server may still reset the
                    // stream after it; a response that ends the stream is
                    // an answer, acceptable only as a 4xx to a malformed
                    // request.
                    answered = Some(s);
                    log.push(&ev);
                    if h.end_stream {
                        return answered_outcome(s, response_ok, want, &log);
                    }
                }
            },
            Event::Frame(f)
                if f.ty == ty::DATA && f.stream_id() == stream && f.has(flag::END_STREAM) =>
            {
                if let Some(s) = answered {
                    log.push(&ev);
                    return answered_outcome(s, response_ok, want, &log);
                }
                log.push(&ev);
            }
            Event::Closed | Event::Reset => {
                return Ok(Pass::note("connection closed"));
            }
            Event::Timeout | Event::Broken(_) => return Err(fail(want, log.then(&ev))),
            _ => log.push(&ev),
        }
    }
}

/// A response to the stream ended it with status `s`.
fn answered_outcome(s: u16, response_ok: bool, want: String, log: &Log) -> CaseResult {
    if response_ok && (400..500).contains(&s) {
        Ok(Pass::note(format!(
            "answered {s} (§8.1.1 allows a response before closing the stream)"
        )))
    } else {
        Err(fail(want, log.0.join(", then ")))
    }
}

/// The connection still works (a PING is answered) and no error came.
pub fn still_usable(c: &mut Conn) -> CaseResult {
    c.ping_pong()?;
    Ok(Pass::ok())
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;
    use std::time::Duration;

    use super::super::frame::{self, Frame, flag};
    use super::super::hpack::Block;
    use super::*;
    use crate::framework::{Fail, Target};

    /// A hand-written peer: after the client's preface it sends its
    /// SETTINGS and `script`, then closes (`close`) or stays silent until
    /// the client goes away.
    fn fake(script: Vec<Frame>, close: bool) -> Target {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let mut out = frame::settings(&[]).encode();
            for f in &script {
                out.extend(f.encode());
            }
            let _ = s.write_all(&out);
            if !close {
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            }
        });
        Target::new(&super::super::SUITE)
            .addr(addr)
            .io_timeout(Duration::from_millis(300))
    }

    fn run(script: Vec<Frame>, close: bool, f: impl FnOnce(&mut Conn) -> CaseResult) -> CaseResult {
        let t = fake(script, close);
        let mut c = Conn::open(&t, &[]).unwrap();
        f(&mut c)
    }

    fn seen(r: CaseResult) -> String {
        match r {
            Err(Fail::Mismatch { seen, .. }) => seen,
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    fn status(stream: u32, s: &str, end: bool) -> Frame {
        let b = Block::new().field(":status", s);
        frame::headers(stream, if end { flag::END_STREAM } else { 0 }, b.bytes())
    }

    #[test]
    fn connection_errors_accept_the_named_code_or_a_close() {
        let goaway = || vec![frame::goaway(0, 0, code::PROTOCOL_ERROR)];
        assert!(
            run(goaway(), false, |c| connection_error(
                c,
                &[code::PROTOCOL_ERROR]
            ))
            .is_ok()
        );
        let other = seen(run(goaway(), false, |c| {
            connection_error(c, &[code::FRAME_SIZE_ERROR])
        }));
        assert!(
            other.contains("the right reaction, but PROTOCOL_ERROR"),
            "{other}"
        );
        let closed = run(vec![], true, |c| {
            connection_error(c, &[code::PROTOCOL_ERROR])
        });
        assert!(closed.unwrap().note.unwrap().contains("closed"));
        let silent = seen(run(vec![], false, |c| {
            connection_error(c, &[code::PROTOCOL_ERROR])
        }));
        assert!(silent.contains("timeout"), "{silent}");
        // A RST_STREAM is not a connection error.
        let rst = vec![frame::rst_stream(1, code::PROTOCOL_ERROR)];
        assert!(run(rst, false, |c| connection_error(c, &[code::PROTOCOL_ERROR])).is_err());
    }

    #[test]
    fn stream_errors_and_malformed_requests() {
        let rst = || vec![frame::rst_stream(1, code::STREAM_CLOSED)];
        assert!(run(rst(), false, |c| stream_error(c, 1, &[code::STREAM_CLOSED])).is_ok());
        // Another stream's reset does not count.
        let other_stream = vec![frame::rst_stream(3, code::STREAM_CLOSED)];
        assert!(
            run(other_stream, false, |c| stream_error(
                c,
                1,
                &[code::STREAM_CLOSED]
            ))
            .is_err()
        );
        // As a connection error.
        let goaway = vec![frame::goaway(0, 1, code::STREAM_CLOSED)];
        assert!(
            run(goaway, false, |c| stream_error(
                c,
                1,
                &[code::STREAM_CLOSED]
            ))
            .is_ok()
        );
        // A 4xx answer passes only for a malformed request.
        assert!(run(vec![status(1, "400", true)], false, |c| malformed(c, 1)).is_ok());
        assert!(
            run(vec![status(1, "400", true)], false, |c| stream_error(
                c,
                1,
                &[code::PROTOCOL_ERROR]
            ))
            .is_err()
        );
        // Served: fails.
        let served = vec![
            status(1, "200", false),
            frame::data(1, flag::END_STREAM, b"ok"),
        ];
        assert!(run(served, false, |c| malformed(c, 1)).is_err());
        // A response started, then reset: passes.
        let reset_after = vec![
            status(1, "200", false),
            frame::rst_stream(1, code::PROTOCOL_ERROR),
        ];
        let r = run(reset_after, false, |c| malformed(c, 1)).unwrap();
        assert!(r.note.unwrap().contains("then RST_STREAM"));
    }
}
