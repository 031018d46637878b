//! RFC 9113 §4: frame format (§4.1), frame size (§4.2) and field block
//! framing (§4.3).

use super::expect;
use super::frame::{self, Frame, code, flag, ty};
use super::hpack::Block;
use super::starting::served;
use super::{need_echo, open, open_echo, server_window};
use crate::framework::Case;
use crate::framework::{CaseResult, Pass, Target, fail, skip};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "9113-4.1",
            "undefined flags on a frame are ignored (PING with flags 0xfe answered)",
            unknown_flags,
        ),
        Case::must(
            "9113-4.1",
            "the reserved bit of the stream identifier is ignored",
            reserved_bit,
        ),
        Case::must(
            "9113-4.2",
            "a DATA frame of 16 384 octets is accepted",
            max_size_data,
        ),
        Case::must(
            "9113-4.2",
            "DATA larger than SETTINGS_MAX_FRAME_SIZE: FRAME_SIZE_ERROR",
            oversized_data,
        ),
        Case::must(
            "9113-4.2",
            "HEADERS larger than SETTINGS_MAX_FRAME_SIZE: connection error FRAME_SIZE_ERROR",
            oversized_headers,
        ),
        Case::must(
            "9113-4.3",
            "a field block that cannot be decoded: connection error COMPRESSION_ERROR",
            undecodable_block,
        ),
        Case::must(
            "9113-4.3",
            "a PRIORITY frame inside a field block: connection error PROTOCOL_ERROR",
            priority_inside_block,
        ),
        Case::must(
            "9113-4.3",
            "HEADERS of another stream inside a field block: connection error PROTOCOL_ERROR",
            headers_inside_block,
        ),
        Case::must(
            "9113-4.3",
            "DATA inside a field block: connection error PROTOCOL_ERROR",
            data_inside_block,
        ),
    ]
}

fn unknown_flags(t: &Target) -> CaseResult {
    // "Flags that have no defined semantics for a particular frame type
    // MUST be ignored" (§4.1).
    let mut c = open(t)?;
    let data = *b"flags-ok";
    c.send(&Frame::new(ty::PING, 0xfe, 0, data.to_vec()));
    c.until_ping_ack(data)?;
    Ok(Pass::ok())
}

fn reserved_bit(t: &Target) -> CaseResult {
    // "The semantics of this bit are undefined, and the bit MUST remain
    // unset (0x00) when sending and MUST be ignored when receiving" (§4.1).
    let mut c = open(t)?;
    let block = c.request_block("GET", t.option("path"));
    c.send(&frame::headers(
        0x8000_0001,
        flag::END_STREAM,
        block.bytes(),
    ));
    served(&mut c, 1)
}

fn max_size_data(t: &Target) -> CaseResult {
    // "All implementations MUST be capable of receiving and minimally
    // processing frames up to 2^14 octets in length" (§4.2).
    need_echo(t)?;
    let mut c = open(t)?;
    if server_window(&c) < 16_384 {
        return Err(skip("the server's initial window is under 16 384"));
    }
    open_echo(&mut c, t, 1);
    let body = vec![b'x'; 16_384];
    c.send(&frame::data(1, flag::END_STREAM, &body));
    let r = c.response(1)?;
    if r.body != body {
        return Err(fail(
            "the 16 384 octets echoed",
            format!("{} octets", r.body.len()),
        ));
    }
    Ok(Pass::ok())
}

fn oversized_data(t: &Target) -> CaseResult {
    // "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame
    // exceeds the size defined in SETTINGS_MAX_FRAME_SIZE" (§4.2); for
    // DATA a stream error suffices.
    need_echo(t)?;
    let mut c = open(t)?;
    let max = c.max_frame_size() as usize;
    if max + 1 > server_window(&c) as usize || max >= 1 << 20 {
        return Err(skip(format!(
            "SETTINGS_MAX_FRAME_SIZE {max} is too large to exceed within the flow-control window"
        )));
    }
    open_echo(&mut c, t, 1);
    c.send(&frame::data(1, 0, &vec![b'x'; max + 1]));
    expect::stream_error(&mut c, 1, &[code::FRAME_SIZE_ERROR])
}

fn oversized_headers(t: &Target) -> CaseResult {
    // "A frame size error in a frame that could alter the state of the
    // entire connection MUST be treated as a connection error; this
    // includes any frame carrying a field block" (§4.2).
    let mut c = open(t)?;
    let max = c.max_frame_size() as usize;
    if max >= 1 << 20 {
        return Err(skip(format!("SETTINGS_MAX_FRAME_SIZE {max} is too large")));
    }
    let big = "a".repeat(max + 1);
    let block = c
        .request_block("GET", t.option("path"))
        .field("x-big", &big);
    c.send(&frame::headers(1, flag::END_STREAM, block.bytes()));
    expect::connection_error(&mut c, &[code::FRAME_SIZE_ERROR])
}

fn undecodable_block(t: &Target) -> CaseResult {
    // "A decoding error in a field block MUST be treated as a connection
    // error of type COMPRESSION_ERROR" (§4.3). A literal whose name length
    // runs past the end of the block.
    let mut c = open(t)?;
    let block = c
        .request_block("GET", t.option("path"))
        .raw(&[0x00, 0x0a, b'a', b'b']);
    c.send(&frame::headers(1, flag::END_STREAM, block.bytes()));
    expect::connection_error(&mut c, &[code::COMPRESSION_ERROR])
}

/// HEADERS without END_HEADERS carrying the first half of a request block,
/// then `middle`, then the CONTINUATION with the rest.
fn interleaved(t: &Target, middle: Frame) -> CaseResult {
    // "Field blocks MUST be transmitted as a contiguous sequence of
    // frames, with no interleaved frames of any other type or from any
    // other stream" (§4.3); "Any other type of frame or a frame on a
    // different stream MUST be treated as a connection error of type
    // PROTOCOL_ERROR" (§6.10).
    let mut c = open(t)?;
    let block = c.request_block("GET", t.option("path"));
    let (a, b) = block.bytes().split_at(block.bytes().len() / 2);
    c.send_all(&[
        Frame::new(ty::HEADERS, flag::END_STREAM, 1, a.to_vec()),
        middle,
        frame::continuation(1, flag::END_HEADERS, b),
    ]);
    expect::connection_error(&mut c, &[code::PROTOCOL_ERROR])
}

fn priority_inside_block(t: &Target) -> CaseResult {
    interleaved(t, frame::priority(1, 0, 16))
}

fn headers_inside_block(t: &Target) -> CaseResult {
    let block = Block::new()
        .field(":method", "GET")
        .field(":scheme", "http")
        .field(":path", t.option("path"))
        .field(":authority", &t.endpoint);
    interleaved(t, frame::headers(3, flag::END_STREAM, block.bytes()))
}

fn data_inside_block(t: &Target) -> CaseResult {
    interleaved(t, frame::data(1, 0, b"data"))
}
