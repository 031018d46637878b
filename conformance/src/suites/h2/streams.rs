//! RFC 9113 §5: stream states (§5.1), identifiers (§5.1.1), concurrency
//! (§5.1.2), priority (§5.3.1), error handling (§5.4) and extensibility
//! (§5.5).

use super::conn::{Conn, Event};
use super::expect;
use super::frame::{self, Frame, code, flag, setting, ty};
use super::starting::{get_served, served};
use super::{baseline, need_echo, open, open_echo, send_get};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail, skip};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "9113-5.1",
            "idle stream: DATA is a connection error PROTOCOL_ERROR",
            idle_data,
        ),
        Case::must(
            "9113-5.1",
            "idle stream: WINDOW_UPDATE is a connection error PROTOCOL_ERROR",
            idle_window_update,
        ),
        Case::must(
            "9113-5.1",
            "idle stream: CONTINUATION is a connection error PROTOCOL_ERROR",
            idle_continuation,
        ),
        Case::must(
            "9113-5.1",
            "half-closed (remote): WINDOW_UPDATE and PRIORITY are allowed, the response completes",
            half_closed_allowed,
        ),
        Case::must(
            "9113-5.1",
            "half-closed (remote): DATA is a stream error STREAM_CLOSED",
            half_closed_data,
        ),
        Case::must(
            "9113-5.1",
            "half-closed (remote): HEADERS is a stream error STREAM_CLOSED",
            half_closed_headers,
        ),
        Case::must(
            "9113-5.1",
            "closed stream (both ends ended it): DATA is an error STREAM_CLOSED",
            closed_data,
        ),
        Case::must(
            "9113-5.1",
            "closed stream (both ends ended it): HEADERS is an error, not a new request",
            closed_headers,
        ),
        Case::must(
            "9113-5.1",
            "closed by the client's RST_STREAM: DATA is an error STREAM_CLOSED",
            reset_data,
        ),
        Case::must(
            "9113-5.1.1",
            "an even stream identifier from a client: connection error PROTOCOL_ERROR",
            even_stream,
        ),
        Case::must(
            "9113-5.1.1",
            "a stream identifier lower than one already used: connection error PROTOCOL_ERROR",
            decreasing_stream,
        ),
        Case::must(
            "9113-5.1.2",
            "a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS: REFUSED_STREAM or PROTOCOL_ERROR",
            too_many_streams,
        ),
        Case::must(
            "9113-5.3.1",
            "HEADERS depending on its own stream: stream error PROTOCOL_ERROR",
            headers_self_dependency,
        ),
        Case::must(
            "9113-5.3.1",
            "PRIORITY making a stream depend on itself: stream error PROTOCOL_ERROR",
            priority_self_dependency,
        ),
        Case::should(
            "9113-5.4.1",
            "a connection error is announced with a GOAWAY",
            goaway_sent,
        ),
        Case::must(
            "9113-5.4.1",
            "after a GOAWAY for an error, the server closes the connection",
            closed_after_goaway,
        ),
        Case::should(
            "9113-5.4.2",
            "after a stream error, the connection still serves requests",
            usable_after_stream_error,
        ),
        Case::must(
            "9113-5.5",
            "frames of an unknown type are ignored (on stream 0 and on a stream)",
            unknown_frame,
        ),
        Case::must(
            "9113-5.5",
            "an unknown frame inside a field block: connection error PROTOCOL_ERROR",
            unknown_frame_inside_block,
        ),
    ]
}

fn idle(t: &Target, f: Frame) -> CaseResult {
    // "Receiving any frame other than HEADERS or PRIORITY on a stream in
    // this state MUST be treated as a connection error of type
    // PROTOCOL_ERROR" (§5.1, idle).
    let mut c = open(t)?;
    c.send(&f);
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn idle_data(t: &Target) -> CaseResult {
    idle(t, frame::data(1, 0, b"idle"))
}

fn idle_window_update(t: &Target) -> CaseResult {
    idle(t, frame::window_update(1, 100))
}

fn idle_continuation(t: &Target) -> CaseResult {
    let block = open(t)?.request_block("GET", t.option("path"));
    idle(t, frame::continuation(1, flag::END_HEADERS, block.bytes()))
}

/// A connection whose stream 1 is "half-closed (remote)" at the server: a
/// GET with END_STREAM whose response cannot finish, as our initial
/// window is 0 (the response has content).
fn half_closed(t: &Target) -> Result<Conn, Fail> {
    baseline(t, 1)?;
    let mut c = Conn::open(t, &[(setting::INITIAL_WINDOW_SIZE, 0)])?;
    c.auto_window = false;
    send_get(&mut c, t, 1);
    Ok(c)
}

fn half_closed_allowed(t: &Target) -> CaseResult {
    // "A stream that is "half-closed (remote)" ... can be used by the
    // endpoint to send frames of any type. ... If an endpoint receives
    // additional frames, other than WINDOW_UPDATE, PRIORITY, or
    // RST_STREAM, ... STREAM_CLOSED" (§5.1): these three are fine.
    let mut c = half_closed(t)?;
    c.send_all(&[frame::priority(1, 0, 200), frame::window_update(1, 65_535)]);
    c.auto_window = true;
    served(&mut c, 1)
}

fn half_closed_data(t: &Target) -> CaseResult {
    // §5.1 half-closed (remote), and §6.1: "If a DATA frame is received
    // whose stream is not in the "open" or "half-closed (local)" state,
    // the recipient MUST respond with a stream error of type
    // STREAM_CLOSED".
    let mut c = half_closed(t)?;
    c.send(&frame::data(1, 0, b"late"));
    expect::stream_error(&mut c, 1, &[code::STREAM_CLOSED])
}

fn half_closed_headers(t: &Target) -> CaseResult {
    let mut c = half_closed(t)?;
    let trailer = super::hpack::Block::new().field("x-late", "1");
    c.send(&frame::headers(1, flag::END_STREAM, trailer.bytes()));
    expect::stream_error(&mut c, 1, &[code::STREAM_CLOSED])
}

fn closed_data(t: &Target) -> CaseResult {
    // §6.1 (above); on a closed stream an endpoint "MAY treat receipt of
    // any other type of frame on a closed stream as a connection error of
    // type STREAM_CLOSED" (§5.1).
    let mut c = open(t)?;
    get_served(&mut c, t, 1)?;
    c.send(&frame::data(1, 0, b"late"));
    expect::stream_error(&mut c, 1, &[code::STREAM_CLOSED])
}

fn closed_headers(t: &Target) -> CaseResult {
    // A HEADERS on a closed stream is either a frame on a closed stream
    // (STREAM_CLOSED, §5.1) or a new stream with an identifier not above
    // the previous ones (connection error PROTOCOL_ERROR, §5.1.1); it must
    // not be served as a request.
    let mut c = open(t)?;
    get_served(&mut c, t, 1)?;
    send_get(&mut c, t, 1);
    expect::stream_error(&mut c, 1, &[code::STREAM_CLOSED, code::PROTOCOL_ERROR])
}

fn reset_data(t: &Target) -> CaseResult {
    // The client reset stream 1; a DATA on it after that is a DATA on a
    // stream that is not open: STREAM_CLOSED (§6.1, §5.1 closed).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send_all(&[
        frame::rst_stream(1, code::CANCEL),
        frame::data(1, 0, b"after-reset"),
    ]);
    expect::stream_error(&mut c, 1, &[code::STREAM_CLOSED])
}

fn even_stream(t: &Target) -> CaseResult {
    // "Streams initiated by a client MUST use odd-numbered stream
    // identifiers ... An endpoint that receives an unexpected stream
    // identifier MUST respond with a connection error of type
    // PROTOCOL_ERROR" (§5.1.1).
    let mut c = open(t)?;
    send_get(&mut c, t, 2);
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn decreasing_stream(t: &Target) -> CaseResult {
    // "The identifier of a newly established stream MUST be numerically
    // greater than all streams that the initiating endpoint has opened or
    // reserved" (§5.1.1).
    let mut c = open(t)?;
    send_get(&mut c, t, 5);
    send_get(&mut c, t, 3);
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn too_many_streams(t: &Target) -> CaseResult {
    // "An endpoint that receives a HEADERS frame that causes its
    // advertised concurrent stream limit to be exceeded MUST treat this as
    // a stream error of type PROTOCOL_ERROR or REFUSED_STREAM" (§5.1.2).
    // The streams are POSTs to the echo resource left open, so none ends.
    need_echo(t)?;
    let mut c = open(t)?;
    let Some(max) = c.server_setting(setting::MAX_CONCURRENT_STREAMS) else {
        return Err(skip(
            "the server announces no SETTINGS_MAX_CONCURRENT_STREAMS",
        ));
    };
    if max > 1000 {
        return Err(skip(format!(
            "SETTINGS_MAX_CONCURRENT_STREAMS {max}: too many to open here"
        )));
    }
    // Our SETTINGS ACK has gone out with the handshake; the limit applies.
    let block = c.request_block("POST", t.option("echo"));
    let frames: Vec<Frame> = (0..max)
        .map(|i| frame::headers(2 * i + 1, 0, block.bytes()))
        .collect();
    c.send_all(&frames);
    let extra = 2 * max + 1;
    c.send(&frame::headers(extra, 0, block.bytes()));
    let r = expect::stream_error(&mut c, extra, &[code::REFUSED_STREAM, code::PROTOCOL_ERROR])?;
    Ok(Pass::note(format!(
        "limit {max}{}",
        r.note.map(|n| format!("; {n}")).unwrap_or_default()
    )))
}

fn headers_self_dependency(t: &Target) -> CaseResult {
    // "A stream cannot depend on itself. An endpoint MUST treat this as a
    // stream error of type PROTOCOL_ERROR" (§5.3.1).
    let mut c = open(t)?;
    let block = c.request_block("GET", t.option("path"));
    let mut p = 1u32.to_be_bytes().to_vec();
    p.push(16);
    p.extend_from_slice(block.bytes());
    c.send(&Frame::new(
        ty::HEADERS,
        flag::END_STREAM | flag::END_HEADERS | flag::PRIORITY,
        1,
        p,
    ));
    expect::stream_error(&mut c, 1, &[code::PROTOCOL_ERROR])
}

fn priority_self_dependency(t: &Target) -> CaseResult {
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&frame::priority(1, 1, 16));
    expect::stream_error(&mut c, 1, &[code::PROTOCOL_ERROR])
}

/// Sends a PING of 7 octets (a connection error FRAME_SIZE_ERROR, §6.7)
/// and returns what came: the GOAWAY (if any) and whether the connection
/// then closed.
fn bad_ping(t: &Target) -> Result<(Option<Frame>, Event), Fail> {
    let mut c = open(t)?;
    c.send(&Frame::new(ty::PING, 0, 0, b"1234567".to_vec()));
    loop {
        let ev = c.event();
        match ev {
            Event::Frame(f) if f.ty == ty::GOAWAY => {
                let after = loop {
                    match c.event() {
                        Event::Frame(_) | Event::Headers(_) => continue,
                        other => break other,
                    }
                };
                return Ok((Some(f), after));
            }
            Event::Frame(_) | Event::Headers(_) => continue,
            other => return Ok((None, other)),
        }
    }
}

fn goaway_sent(t: &Target) -> CaseResult {
    // "An endpoint that encounters a connection error SHOULD first send a
    // GOAWAY frame" (§5.4.1).
    match bad_ping(t)? {
        (Some(f), _) if f.error_code() == Some(code::FRAME_SIZE_ERROR) => Ok(Pass::ok()),
        (Some(f), _) => Err(fail("GOAWAY(FRAME_SIZE_ERROR)", f.describe())),
        (None, ev) => Err(fail("GOAWAY(FRAME_SIZE_ERROR)", ev.describe())),
    }
}

fn closed_after_goaway(t: &Target) -> CaseResult {
    // "After sending the GOAWAY frame for an error condition, the endpoint
    // MUST close the TCP connection" (§5.4.1).
    match bad_ping(t)? {
        (_, ev) if ev.is_closed() => Ok(Pass::ok()),
        (g, ev) => Err(fail(
            "the connection closed",
            format!(
                "{}{}",
                g.map(|f| format!("{}, then ", f.describe()))
                    .unwrap_or_default(),
                ev.describe()
            ),
        )),
    }
}

fn usable_after_stream_error(t: &Target) -> CaseResult {
    // A stream error ends one stream (§5.4.2); nothing asks for the
    // connection to end.
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&frame::window_update(1, 0));
    let r = expect::stream_error(&mut c, 1, &[code::PROTOCOL_ERROR])?;
    if let Some(n) = r.note.filter(|n| n.contains("connection")) {
        return Err(fail("RST_STREAM, the connection kept", n));
    }
    get_served(&mut c, t, 3)
}

fn unknown_frame(t: &Target) -> CaseResult {
    // "Implementations MUST ignore unknown or unsupported values in all
    // extensible protocol elements ... MUST discard frames that have
    // unknown or unsupported types" (§5.5, §4.1).
    let mut c = open(t)?;
    c.send_all(&[
        Frame::new(ty::UNKNOWN, 0xff, 0, b"extension".to_vec()),
        Frame::new(ty::UNKNOWN, 0, 1, b"extension".to_vec()),
    ]);
    c.ping_pong()?;
    get_served(&mut c, t, 1)
}

fn unknown_frame_inside_block(t: &Target) -> CaseResult {
    // "Extension frames that appear in the middle of a field block are not
    // permitted; these MUST be treated as a connection error of type
    // PROTOCOL_ERROR" (§5.5).
    let mut c = open(t)?;
    let block = c.request_block("GET", t.option("path"));
    let (a, b) = block.bytes().split_at(block.bytes().len() / 2);
    c.send_all(&[
        Frame::new(ty::HEADERS, flag::END_STREAM, 1, a.to_vec()),
        Frame::new(ty::UNKNOWN, 0, 1, b"ext".to_vec()),
        frame::continuation(1, flag::END_HEADERS, b),
    ]);
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}
