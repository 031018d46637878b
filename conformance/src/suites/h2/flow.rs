//! RFC 9113 §6.9 flow control as the server sends: it respects the
//! windows we give, applies SETTINGS_INITIAL_WINDOW_SIZE changes to open
//! streams (§6.9.2), tracks windows made negative, and rejects windows
//! grown beyond 2^31-1 (§6.9.1).

use super::conn::{Conn, Event};
use super::expect;
use super::frame::{self, code, flag, setting, ty};
use super::{baseline, need_echo, open, open_echo, send_get};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "9113-6.5.3",
            "the last value of a setting in one SETTINGS frame applies (window 100 then 1)",
            last_value_wins,
        ),
        Case::must(
            "9113-6.9.1",
            "SETTINGS_INITIAL_WINDOW_SIZE 1: the server sends at most one octet",
            window_of_one,
        ),
        Case::must(
            "9113-6.9.1",
            "WINDOW_UPDATE growing the connection window beyond 2^31-1: connection error FLOW_CONTROL_ERROR",
            connection_overflow,
        ),
        Case::must(
            "9113-6.9.1",
            "WINDOW_UPDATE growing a stream window beyond 2^31-1: stream error FLOW_CONTROL_ERROR",
            stream_overflow,
        ),
        Case::must(
            "9113-6.9.2",
            "a new SETTINGS_INITIAL_WINDOW_SIZE applies to open streams",
            window_change_applies,
        ),
        Case::must(
            "9113-6.9.2",
            "a window made negative by SETTINGS is tracked (one octet after it is back at 1)",
            negative_window,
        ),
    ]
}

/// What [`collect`] read on one stream.
struct Collected {
    /// DATA payload octets (padding included: all of it is flow controlled).
    flow: usize,
    /// Content octets.
    body: Vec<u8>,
    /// END_STREAM seen.
    ended: bool,
}

/// Reads `stream`'s frames until its DATA reaches `limit` flow-controlled
/// octets, the stream ends, or nothing more comes within the I/O timeout.
/// More than `limit` is a flow-control violation.
fn collect(c: &mut Conn, stream: u32, limit: usize, mut got: Collected) -> Result<Collected, Fail> {
    loop {
        if got.ended || got.flow == limit {
            return Ok(got);
        }
        let ev = c.event();
        match &ev {
            Event::Frame(f) if f.ty == ty::DATA && f.stream_id() == stream => {
                got.flow += f.payload.len();
                let mut p = &f.payload[..];
                if f.has(flag::PADDED) && !p.is_empty() {
                    let pad = usize::from(p[0]);
                    p = p.get(1..p.len().saturating_sub(pad)).unwrap_or(&[]);
                }
                got.body.extend_from_slice(p);
                got.ended = f.has(flag::END_STREAM);
                if got.flow > limit {
                    return Err(fail(
                        format!("at most {limit} flow-controlled octets on stream {stream}"),
                        format!("{} octets", got.flow),
                    ));
                }
            }
            Event::Headers(h) if h.stream == stream => got.ended |= h.end_stream,
            Event::Frame(f)
                if f.ty == ty::GOAWAY || (f.ty == ty::RST_STREAM && f.stream_id() == stream) =>
            {
                return Err(fail("the response to continue", ev.describe()));
            }
            Event::Frame(_) | Event::Headers(_) => {}
            Event::Timeout => return Ok(got),
            _ => return Err(fail("the response to continue", ev.describe())),
        }
    }
}

fn fresh() -> Collected {
    Collected {
        flow: 0,
        body: Vec::new(),
        ended: false,
    }
}

/// GET on a connection whose SETTINGS are `settings` (flow control ours):
/// the content must come `limit` octets at most, then all of it once the
/// window opens.
fn limited_get(t: &Target, settings: &[(u16, u32)], limit: usize) -> CaseResult {
    let base = baseline(t, limit + 1)?;
    let mut c = Conn::open(t, settings)?;
    c.auto_window = false;
    send_get(&mut c, t, 1);
    let got = collect(&mut c, 1, limit, fresh())?;
    let first = got.flow;
    c.send(&frame::window_update(1, 1 << 20));
    let got = collect(&mut c, 1, usize::MAX, got)?;
    if !got.ended || got.body != base.body {
        return Err(fail(
            format!(
                "the whole content ({} octets) once the window opened",
                base.body.len()
            ),
            format!(
                "{} octets{}",
                got.body.len(),
                if got.ended { "" } else { ", not ended" }
            ),
        ));
    }
    Ok(Pass::note(format!(
        "{first} octet(s) before the window opened"
    )))
}

fn last_value_wins(t: &Target) -> CaseResult {
    // "The values in the SETTINGS frame MUST be processed in the order
    // they appear, with no other frame processing between values" (§6.5.3).
    limited_get(
        t,
        &[
            (setting::INITIAL_WINDOW_SIZE, 100),
            (setting::INITIAL_WINDOW_SIZE, 1),
        ],
        1,
    )
}

fn window_of_one(t: &Target) -> CaseResult {
    // "A sender MUST NOT send a flow-controlled frame with a length that
    // exceeds the space available in either of the flow-control windows
    // advertised by the receiver" (§6.9.1).
    limited_get(t, &[(setting::INITIAL_WINDOW_SIZE, 1)], 1)
}

fn connection_overflow(t: &Target) -> CaseResult {
    // "If a sender receives a WINDOW_UPDATE that causes a flow-control
    // window to exceed this maximum, it MUST terminate either the stream
    // or the connection, as appropriate ... for the connection, a GOAWAY
    // frame with an error code of FLOW_CONTROL_ERROR" (§6.9.1). The
    // connection window starts at 65 535.
    let mut c = open(t)?;
    c.send(&frame::window_update(0, 0x7fff_ffff));
    expect::connection_error(&mut c, &[code::FLOW_CONTROL_ERROR])
}

fn stream_overflow(t: &Target) -> CaseResult {
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&frame::window_update(1, 0x7fff_ffff));
    expect::stream_error(&mut c, 1, &[code::FLOW_CONTROL_ERROR])
}

fn window_change_applies(t: &Target) -> CaseResult {
    // "When the value of SETTINGS_INITIAL_WINDOW_SIZE changes, a receiver
    // MUST adjust the size of all stream flow-control windows that it
    // maintains by the difference between the new value and the old
    // value" (§6.9.2). Window 0, the request, then 65 535: the content
    // must come without any WINDOW_UPDATE.
    let base = baseline(t, 1)?;
    let mut c = Conn::open(t, &[(setting::INITIAL_WINDOW_SIZE, 0)])?;
    c.auto_window = false;
    send_get(&mut c, t, 1);
    // Up to the response head (if the server sends it before content):
    // no content may come at window 0.
    loop {
        let ev = c.event();
        match &ev {
            Event::Headers(h) if h.stream == 1 => break,
            Event::Frame(f) if f.ty == ty::DATA && f.stream_id() == 1 && !f.payload.is_empty() => {
                return Err(fail("no content while the window is 0", ev.describe()));
            }
            Event::Frame(_) | Event::Headers(_) => {}
            Event::Timeout => break,
            _ => return Err(fail("the response head", ev.describe())),
        }
    }
    let got = fresh();
    c.send(&frame::settings(&[(setting::INITIAL_WINDOW_SIZE, 65_535)]));
    let got = collect(&mut c, 1, 65_535, got)?;
    if !got.ended || got.body != base.body {
        return Err(fail(
            format!(
                "the whole content ({} octets) after the SETTINGS",
                base.body.len()
            ),
            format!(
                "{} octets{}",
                got.body.len(),
                if got.ended { "" } else { ", not ended" }
            ),
        ));
    }
    Ok(Pass::ok())
}

fn negative_window(t: &Target) -> CaseResult {
    // "A change to SETTINGS_INITIAL_WINDOW_SIZE can cause the available
    // space in a flow-control window to become negative. A sender MUST
    // track the negative flow-control window and MUST NOT send new
    // flow-controlled frames until it receives WINDOW_UPDATE frames that
    // cause the flow-control window to become positive" (§6.9.2).
    // Window 5; after 5 octets it is 0; SETTINGS 2 makes it -3; +4 makes
    // it 1: exactly one more octet may come.
    let base = baseline(t, 7)?;
    let mut c = Conn::open(t, &[(setting::INITIAL_WINDOW_SIZE, 5)])?;
    c.auto_window = false;
    send_get(&mut c, t, 1);
    let got = collect(&mut c, 1, 5, fresh())?;
    if got.flow != 5 {
        return Err(fail(
            "the first 5 octets (the initial window)",
            format!("{} octets", got.flow),
        ));
    }
    c.send_all(&[
        frame::settings(&[(setting::INITIAL_WINDOW_SIZE, 2)]),
        frame::window_update(1, 4),
    ]);
    let got = collect(&mut c, 1, 6, got)?;
    let at_one = got.flow;
    c.send(&frame::window_update(1, 1 << 20));
    let got = collect(&mut c, 1, usize::MAX, got)?;
    if !got.ended || got.body != base.body {
        return Err(fail(
            format!("the whole content ({} octets) at the end", base.body.len()),
            format!("{} octets", got.body.len()),
        ));
    }
    Ok(Pass::note(format!("{} octet(s) at window 1", at_one - 5)))
}
