//! RFC 9113 §6.1–§6.10 and §7: each frame type's malformed forms, and
//! the well-formed variants a server must accept.

use super::conn::Event;
use super::expect;
use super::frame::{self, Frame, code, flag, setting, ty};
use super::starting::{get_served, is_ping_ack, served};
use super::{need_echo, open, open_echo};
use crate::framework::{Case, CaseResult, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "9113-6.1",
            "DATA on stream 0: connection error PROTOCOL_ERROR",
            data_stream_0,
        ),
        Case::must(
            "9113-6.1",
            "DATA whose padding is as long as the payload: connection error PROTOCOL_ERROR",
            data_bad_padding,
        ),
        Case::must(
            "9113-6.1",
            "padded DATA: the padding is not content",
            data_padded,
        ),
        Case::must(
            "9113-6.2",
            "HEADERS on stream 0: connection error PROTOCOL_ERROR",
            headers_stream_0,
        ),
        Case::must(
            "9113-6.2",
            "HEADERS whose padding exceeds the field block: connection error PROTOCOL_ERROR",
            headers_bad_padding,
        ),
        Case::must(
            "9113-6.2",
            "HEADERS with PADDED and PRIORITY flags is served",
            headers_padded_priority,
        ),
        Case::must(
            "9113-6.3",
            "PRIORITY on stream 0: connection error PROTOCOL_ERROR",
            priority_stream_0,
        ),
        Case::must(
            "9113-6.3",
            "PRIORITY of length 4: stream error FRAME_SIZE_ERROR",
            priority_bad_length,
        ),
        Case::must(
            "9113-6.3",
            "PRIORITY on an idle stream is accepted, the stream usable after",
            priority_idle,
        ),
        Case::must(
            "9113-6.4",
            "RST_STREAM on stream 0: connection error PROTOCOL_ERROR",
            rst_stream_0,
        ),
        Case::must(
            "9113-6.4",
            "RST_STREAM on an idle stream: connection error PROTOCOL_ERROR",
            rst_idle,
        ),
        Case::must(
            "9113-6.4",
            "RST_STREAM of length 3: connection error FRAME_SIZE_ERROR",
            rst_bad_length,
        ),
        Case::must(
            "9113-6.5",
            "SETTINGS with ACK and a payload: connection error FRAME_SIZE_ERROR",
            settings_ack_payload,
        ),
        Case::must(
            "9113-6.5",
            "SETTINGS on a stream other than 0: connection error PROTOCOL_ERROR",
            settings_stream,
        ),
        Case::must(
            "9113-6.5",
            "SETTINGS of length 3 (not a multiple of 6): connection error FRAME_SIZE_ERROR",
            settings_bad_length,
        ),
        Case::must(
            "9113-6.5.2",
            "SETTINGS_ENABLE_PUSH of 2: connection error PROTOCOL_ERROR",
            enable_push_2,
        ),
        Case::must(
            "9113-6.5.2",
            "SETTINGS_INITIAL_WINDOW_SIZE of 2^31: connection error FLOW_CONTROL_ERROR",
            window_too_big,
        ),
        Case::must(
            "9113-6.5.2",
            "SETTINGS_MAX_FRAME_SIZE of 16 383: connection error PROTOCOL_ERROR",
            frame_size_too_small,
        ),
        Case::must(
            "9113-6.5.2",
            "SETTINGS_MAX_FRAME_SIZE of 2^24: connection error PROTOCOL_ERROR",
            frame_size_too_big,
        ),
        Case::must(
            "9113-6.5.2",
            "an unknown setting is ignored (and acknowledged)",
            unknown_setting,
        ),
        Case::must(
            "9113-6.5.3",
            "SETTINGS are acknowledged with an empty SETTINGS ACK",
            settings_acked,
        ),
        Case::must(
            "9113-6.6",
            "PUSH_PROMISE from a client: connection error PROTOCOL_ERROR",
            push_promise,
        ),
        Case::must(
            "9113-6.7",
            "PING is answered with an ACK of the same payload",
            ping_answered,
        ),
        Case::must(
            "9113-6.7",
            "a PING with ACK is not answered",
            ping_ack_ignored,
        ),
        Case::must(
            "9113-6.7",
            "PING on a stream other than 0: connection error PROTOCOL_ERROR",
            ping_stream,
        ),
        Case::must(
            "9113-6.7",
            "PING of length 6: connection error FRAME_SIZE_ERROR",
            ping_bad_length,
        ),
        Case::must(
            "9113-6.8",
            "GOAWAY on a stream other than 0: connection error PROTOCOL_ERROR",
            goaway_stream,
        ),
        Case::must(
            "9113-6.9",
            "WINDOW_UPDATE of 0 on the connection: connection error PROTOCOL_ERROR",
            window_update_zero_connection,
        ),
        Case::must(
            "9113-6.9",
            "WINDOW_UPDATE of 0 on a stream: stream error PROTOCOL_ERROR",
            window_update_zero_stream,
        ),
        Case::must(
            "9113-6.9",
            "WINDOW_UPDATE of length 3: connection error FRAME_SIZE_ERROR",
            window_update_bad_length,
        ),
        Case::must(
            "9113-6.10",
            "HEADERS then two CONTINUATIONs is served",
            continuations,
        ),
        Case::must(
            "9113-6.10",
            "CONTINUATION after HEADERS with END_HEADERS: connection error PROTOCOL_ERROR",
            continuation_after_end_headers,
        ),
        Case::must(
            "9113-6.10",
            "CONTINUATION after a CONTINUATION with END_HEADERS: connection error PROTOCOL_ERROR",
            continuation_after_end_continuation,
        ),
        Case::must(
            "9113-6.10",
            "CONTINUATION on stream 0 inside a field block: connection error PROTOCOL_ERROR",
            continuation_stream_0,
        ),
        Case::must(
            "9113-6.10",
            "CONTINUATION of another stream inside a field block: connection error PROTOCOL_ERROR",
            continuation_other_stream,
        ),
        Case::must(
            "9113-6.10",
            "CONTINUATION after DATA: connection error PROTOCOL_ERROR",
            continuation_after_data,
        ),
        Case::must(
            "9113-7",
            "RST_STREAM with an unknown error code is not an error",
            rst_unknown_code,
        ),
    ]
}

fn conn_error(t: &Target, frames: &[Frame], codes: &[u32]) -> CaseResult {
    let mut c = open(t)?;
    c.send_all(frames);
    expect::connection_error(&mut c, codes)
}

fn data_stream_0(t: &Target) -> CaseResult {
    // "If a DATA frame is received whose Stream Identifier field is 0x00,
    // the recipient MUST respond with a connection error of type
    // PROTOCOL_ERROR" (§6.1).
    conn_error(t, &[frame::data(0, 0, b"zero")], &[code::PROTOCOL_ERROR])
}

fn data_bad_padding(t: &Target) -> CaseResult {
    // "If the length of the padding is the length of the frame payload or
    // greater, the recipient MUST treat this as a connection error of type
    // PROTOCOL_ERROR" (§6.1).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    // Pad Length 6 in a payload of 6 octets (1 + 5).
    c.send(&Frame::new(
        ty::DATA,
        flag::PADDED | flag::END_STREAM,
        1,
        vec![6, 1, 2, 3, 4, 5],
    ));
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn data_padded(t: &Target) -> CaseResult {
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&Frame::new(
        ty::DATA,
        flag::PADDED | flag::END_STREAM,
        1,
        frame::padded(9, b"padded"),
    ));
    let r = c.response(1)?;
    if r.body != b"padded" {
        return Err(fail("\"padded\" echoed", super::lossy(&r.body)));
    }
    Ok(Pass::ok())
}

fn headers_stream_0(t: &Target) -> CaseResult {
    // "If a HEADERS frame is received whose Stream Identifier field is
    // 0x00, the recipient MUST respond with a connection error of type
    // PROTOCOL_ERROR" (§6.2).
    let block = open(t)?.request_block("GET", t.option("path"));
    conn_error(
        t,
        &[frame::headers(0, flag::END_STREAM, block.bytes())],
        &[code::PROTOCOL_ERROR],
    )
}

fn headers_bad_padding(t: &Target) -> CaseResult {
    // "Padding that exceeds the size remaining for the field block
    // fragment MUST be treated as a PROTOCOL_ERROR" (§6.2).
    let block = open(t)?.request_block("GET", t.option("path"));
    let mut p = vec![(block.bytes().len() + 5).min(255) as u8];
    p.extend_from_slice(block.bytes());
    conn_error(
        t,
        &[Frame::new(
            ty::HEADERS,
            flag::PADDED | flag::END_HEADERS | flag::END_STREAM,
            1,
            p,
        )],
        &[code::PROTOCOL_ERROR],
    )
}

fn headers_padded_priority(t: &Target) -> CaseResult {
    let mut c = open(t)?;
    let block = c.request_block("GET", t.option("path"));
    let mut inner = 0u32.to_be_bytes().to_vec();
    inner.push(255);
    inner.extend_from_slice(block.bytes());
    c.send(&Frame::new(
        ty::HEADERS,
        flag::PADDED | flag::PRIORITY | flag::END_HEADERS | flag::END_STREAM,
        1,
        frame::padded(7, &inner),
    ));
    served(&mut c, 1)
}

fn priority_stream_0(t: &Target) -> CaseResult {
    // "If a PRIORITY frame is received with a stream identifier of 0x00,
    // the recipient MUST respond with a connection error of type
    // PROTOCOL_ERROR" (§6.3).
    conn_error(t, &[frame::priority(0, 1, 16)], &[code::PROTOCOL_ERROR])
}

fn priority_bad_length(t: &Target) -> CaseResult {
    // "A PRIORITY frame with a length other than 5 octets MUST be treated
    // as a stream error of type FRAME_SIZE_ERROR" (§6.3).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&Frame::new(ty::PRIORITY, 0, 1, vec![0, 0, 0, 0]));
    expect::stream_error(&mut c, 1, &[code::FRAME_SIZE_ERROR])
}

fn priority_idle(t: &Target) -> CaseResult {
    // "The PRIORITY frame can be sent for a stream in any state" (§6.3);
    // it does not open the stream, which a HEADERS then opens as usual.
    // (Only stream 1: whether a PRIORITY on a higher idle stream "uses"
    // its identifier, closing lower idle ones (§5.1.1), is left open.)
    let mut c = open(t)?;
    c.send_all(&[frame::priority(1, 0, 16), frame::priority(1, 0, 200)]);
    get_served(&mut c, t, 1)
}

fn rst_stream_0(t: &Target) -> CaseResult {
    // "If a RST_STREAM frame is received with a stream identifier of 0x00,
    // the recipient MUST treat this as a connection error of type
    // PROTOCOL_ERROR" (§6.4).
    conn_error(
        t,
        &[frame::rst_stream(0, code::CANCEL)],
        &[code::PROTOCOL_ERROR],
    )
}

fn rst_idle(t: &Target) -> CaseResult {
    // "If a RST_STREAM frame identifying an idle stream is received, the
    // recipient MUST treat this as a connection error of type
    // PROTOCOL_ERROR" (§6.4).
    conn_error(
        t,
        &[frame::rst_stream(1, code::CANCEL)],
        &[code::PROTOCOL_ERROR],
    )
}

fn rst_bad_length(t: &Target) -> CaseResult {
    // "A RST_STREAM frame with a length other than 4 octets MUST be
    // treated as a connection error of type FRAME_SIZE_ERROR" (§6.4).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&Frame::new(ty::RST_STREAM, 0, 1, vec![0, 0, 8]));
    expect::connection_error(&mut c, &[code::FRAME_SIZE_ERROR])
}

fn settings_ack_payload(t: &Target) -> CaseResult {
    // "Receipt of a SETTINGS frame with the ACK flag set and a length
    // field value other than 0 MUST be treated as a connection error of
    // type FRAME_SIZE_ERROR" (§6.5).
    let mut f = frame::settings(&[(setting::ENABLE_PUSH, 0)]);
    f.flags = flag::ACK;
    conn_error(t, &[f], &[code::FRAME_SIZE_ERROR])
}

fn settings_stream(t: &Target) -> CaseResult {
    // "If an endpoint receives a SETTINGS frame whose Stream Identifier
    // field is anything other than 0x00, the endpoint MUST respond with a
    // connection error of type PROTOCOL_ERROR" (§6.5).
    let mut f = frame::settings(&[(setting::ENABLE_PUSH, 0)]);
    f.stream = 1;
    conn_error(t, &[f], &[code::PROTOCOL_ERROR])
}

fn settings_bad_length(t: &Target) -> CaseResult {
    // "A SETTINGS frame with a length other than a multiple of 6 octets
    // MUST be treated as a connection error of type FRAME_SIZE_ERROR"
    // (§6.5).
    conn_error(
        t,
        &[Frame::new(ty::SETTINGS, 0, 0, vec![0, 2, 0])],
        &[code::FRAME_SIZE_ERROR],
    )
}

fn enable_push_2(t: &Target) -> CaseResult {
    // "Any value other than 0 or 1 MUST be treated as a connection error
    // of type PROTOCOL_ERROR" (§6.5.2, SETTINGS_ENABLE_PUSH).
    conn_error(
        t,
        &[frame::settings(&[(setting::ENABLE_PUSH, 2)])],
        &[code::PROTOCOL_ERROR],
    )
}

fn window_too_big(t: &Target) -> CaseResult {
    // "Values above the maximum flow-control window size of 2^31-1 MUST be
    // treated as a connection error of type FLOW_CONTROL_ERROR" (§6.5.2).
    conn_error(
        t,
        &[frame::settings(&[(setting::INITIAL_WINDOW_SIZE, 1 << 31)])],
        &[code::FLOW_CONTROL_ERROR],
    )
}

fn frame_size_too_small(t: &Target) -> CaseResult {
    // "Values outside this range [2^14 .. 2^24-1] MUST be treated as a
    // connection error of type PROTOCOL_ERROR" (§6.5.2).
    conn_error(
        t,
        &[frame::settings(&[(setting::MAX_FRAME_SIZE, 16_383)])],
        &[code::PROTOCOL_ERROR],
    )
}

fn frame_size_too_big(t: &Target) -> CaseResult {
    conn_error(
        t,
        &[frame::settings(&[(setting::MAX_FRAME_SIZE, 1 << 24)])],
        &[code::PROTOCOL_ERROR],
    )
}

/// Waits for the ACK of a SETTINGS just sent (after the handshake's).
fn wait_settings_ack(c: &mut super::conn::Conn, acks: usize) -> CaseResult {
    let mut seen = 0;
    loop {
        let ev = c.event();
        match &ev {
            Event::Frame(f) if f.ty == ty::SETTINGS && f.has(flag::ACK) => {
                if !f.payload.is_empty() {
                    return Err(fail(
                        "an empty SETTINGS ACK",
                        format!("{} octets", f.payload.len()),
                    ));
                }
                seen += 1;
                if seen == acks {
                    return Ok(Pass::ok());
                }
            }
            Event::Frame(f) if f.ty == ty::GOAWAY => {
                return Err(fail("a SETTINGS ACK", ev.describe()));
            }
            Event::Frame(_) | Event::Headers(_) => {}
            _ => return Err(fail("a SETTINGS ACK", ev.describe())),
        }
    }
}

fn unknown_setting(t: &Target) -> CaseResult {
    // "An endpoint that receives a SETTINGS frame with any unknown or
    // unsupported identifier MUST ignore that setting" (§6.5.2).
    let mut c = open(t)?;
    c.send(&frame::settings(&[(0xff00, 1), (0x0b0b, 0xffff_ffff)]));
    wait_settings_ack(&mut c, 2)?;
    get_served(&mut c, t, 1)
}

fn settings_acked(t: &Target) -> CaseResult {
    // "Upon receiving and applying [a SETTINGS frame], the recipient MUST
    // immediately emit a SETTINGS frame with the ACK flag set" (§6.5.3);
    // "ACK ... the frame's payload MUST be empty" (§6.5).
    let mut c = open(t)?;
    wait_settings_ack(&mut c, 1)
}

fn push_promise(t: &Target) -> CaseResult {
    // "A client cannot push. Thus, servers MUST treat the receipt of a
    // PUSH_PROMISE frame as a connection error of type PROTOCOL_ERROR"
    // (§8.4, §6.6).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    let mut p = 2u32.to_be_bytes().to_vec();
    p.extend_from_slice(c.request_block("GET", t.option("path")).bytes());
    c.send(&Frame::new(ty::PUSH_PROMISE, flag::END_HEADERS, 1, p));
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn ping_answered(t: &Target) -> CaseResult {
    // "Receivers of a PING frame that does not include an ACK flag MUST
    // send a PING frame with the ACK flag set in response, with an
    // identical frame payload" (§6.7).
    let mut c = open(t)?;
    let data = [0x00, 0xff, 0x10, 0x20, b'p', b'i', b'n', b'g'];
    c.send(&frame::ping(0, data));
    c.until_ping_ack(data)?;
    Ok(Pass::ok())
}

fn ping_ack_ignored(t: &Target) -> CaseResult {
    // "An endpoint MUST NOT respond to PING frames containing this flag"
    // (§6.7). The ACK is sent first; the first ACK back must answer the
    // PING that follows it.
    let mut c = open(t)?;
    c.send_all(&[
        frame::ping(flag::ACK, *b"unasked!"),
        frame::ping(0, *b"answer-1"),
    ]);
    loop {
        let ev = c.event();
        if is_ping_ack(&ev) {
            let Event::Frame(f) = &ev else { unreachable!() };
            return if f.payload == b"answer-1" {
                Ok(Pass::ok())
            } else {
                Err(fail("only the PING without ACK answered", ev.describe()))
            };
        }
        match ev {
            Event::Frame(_) | Event::Headers(_) => {}
            other => return Err(fail("a PING ACK", other.describe())),
        }
    }
}

fn ping_stream(t: &Target) -> CaseResult {
    // "If a PING frame is received with a Stream Identifier field value
    // other than 0x00, the recipient MUST respond with a connection error
    // of type PROTOCOL_ERROR" (§6.7).
    let mut f = frame::ping(0, *b"stream-1");
    f.stream = 1;
    conn_error(t, &[f], &[code::PROTOCOL_ERROR])
}

fn ping_bad_length(t: &Target) -> CaseResult {
    // "Receipt of a PING frame with a length field value other than 8 MUST
    // be treated as a connection error of type FRAME_SIZE_ERROR" (§6.7).
    conn_error(
        t,
        &[Frame::new(ty::PING, 0, 0, b"sixsix".to_vec())],
        &[code::FRAME_SIZE_ERROR],
    )
}

fn goaway_stream(t: &Target) -> CaseResult {
    // "An endpoint MUST treat a GOAWAY frame with a stream identifier
    // other than 0x00 as a connection error of type PROTOCOL_ERROR"
    // (§6.8).
    conn_error(
        t,
        &[frame::goaway(1, 0, code::NO_ERROR)],
        &[code::PROTOCOL_ERROR],
    )
}

fn window_update_zero_connection(t: &Target) -> CaseResult {
    // "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a
    // flow-control window increment of 0 as a stream error of type
    // PROTOCOL_ERROR; errors on the connection flow-control window MUST be
    // treated as a connection error" (§6.9).
    conn_error(t, &[frame::window_update(0, 0)], &[code::PROTOCOL_ERROR])
}

fn window_update_zero_stream(t: &Target) -> CaseResult {
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&frame::window_update(1, 0));
    expect::stream_error(&mut c, 1, &[code::PROTOCOL_ERROR])
}

fn window_update_bad_length(t: &Target) -> CaseResult {
    // "A WINDOW_UPDATE frame with a length other than 4 octets MUST be
    // treated as a connection error of type FRAME_SIZE_ERROR" (§6.9).
    conn_error(
        t,
        &[Frame::new(ty::WINDOW_UPDATE, 0, 0, vec![0, 0, 1])],
        &[code::FRAME_SIZE_ERROR],
    )
}

/// The request block for `GET --path` cut in three.
fn thirds(t: &Target) -> Result<[Vec<u8>; 3], crate::framework::Fail> {
    let block = open(t)?.request_block("GET", t.option("path"));
    let b = block.bytes();
    let n = b.len() / 3;
    Ok([b[..n].to_vec(), b[n..2 * n].to_vec(), b[2 * n..].to_vec()])
}

fn continuations(t: &Target) -> CaseResult {
    let [a, b, rest] = thirds(t)?;
    let mut c = open(t)?;
    c.send_all(&[
        Frame::new(ty::HEADERS, flag::END_STREAM, 1, a),
        frame::continuation(1, 0, &b),
        frame::continuation(1, flag::END_HEADERS, &rest),
    ]);
    served(&mut c, 1)
}

fn continuation_after_end_headers(t: &Target) -> CaseResult {
    // "A CONTINUATION frame MUST be preceded by a HEADERS, PUSH_PROMISE or
    // CONTINUATION frame without the END_HEADERS flag set. A recipient
    // that observes violation of this rule MUST respond with a connection
    // error of type PROTOCOL_ERROR" (§6.10).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    let more = super::hpack::Block::new().field("x-more", "1");
    c.send(&frame::continuation(1, flag::END_HEADERS, more.bytes()));
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn continuation_after_end_continuation(t: &Target) -> CaseResult {
    let [a, b, rest] = thirds(t)?;
    let mut c = open(t)?;
    let more = super::hpack::Block::new().field("x-more", "1");
    let mut whole = b;
    whole.extend_from_slice(&rest);
    c.send_all(&[
        Frame::new(ty::HEADERS, flag::END_STREAM, 1, a),
        frame::continuation(1, flag::END_HEADERS, &whole),
        frame::continuation(1, flag::END_HEADERS, more.bytes()),
    ]);
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn continuation_stream_0(t: &Target) -> CaseResult {
    // "If a CONTINUATION frame is received with a Stream Identifier field
    // of 0x00, the recipient MUST respond with a connection error of type
    // PROTOCOL_ERROR" (§6.10).
    let [a, b, rest] = thirds(t)?;
    conn_error(
        t,
        &[
            Frame::new(ty::HEADERS, flag::END_STREAM, 1, a),
            frame::continuation(0, 0, &b),
            frame::continuation(1, flag::END_HEADERS, &rest),
        ],
        &[code::PROTOCOL_ERROR],
    )
}

fn continuation_other_stream(t: &Target) -> CaseResult {
    let [a, b, rest] = thirds(t)?;
    conn_error(
        t,
        &[
            Frame::new(ty::HEADERS, flag::END_STREAM, 1, a),
            frame::continuation(3, 0, &b),
            frame::continuation(1, flag::END_HEADERS, &rest),
        ],
        &[code::PROTOCOL_ERROR],
    )
}

fn continuation_after_data(t: &Target) -> CaseResult {
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    let more = super::hpack::Block::new().field("x-more", "1");
    c.send_all(&[
        frame::data(1, 0, b"body"),
        frame::continuation(1, flag::END_HEADERS, more.bytes()),
    ]);
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn rst_unknown_code(t: &Target) -> CaseResult {
    // "Unknown or unsupported error codes MUST NOT trigger any special
    // behavior" (§7).
    need_echo(t)?;
    let mut c = open(t)?;
    open_echo(&mut c, t, 1);
    c.send(&frame::rst_stream(1, 0xdead));
    c.ping_pong()?;
    get_served(&mut c, t, 3)
}
