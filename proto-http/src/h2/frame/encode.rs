//! Frame encoders (RFC 9113 §6): each appends one frame to a `BytesMut`.
//!
//! Encoders trust their caller: payloads must respect the peer's
//! `SETTINGS_MAX_FRAME_SIZE` (use [`encode_header_block`] to split field
//! blocks), stream identifiers must suit the frame type.

use bytes::{BufMut, BytesMut};

use super::types::{
    Continuation, Data, FrameHeader, GoAway, Headers, Ping, Priority, PrioritySpec, PushPromise,
    RstStream, Settings, StreamId, Unknown, WindowUpdate, flags, kind, payload_len,
};
use crate::h2::settings::Setting;

fn header(dst: &mut BytesMut, length: u32, kind: u8, flags: u8, stream_id: StreamId) {
    dst.reserve(9 + length as usize);
    FrameHeader {
        length,
        kind,
        flags,
        stream_id,
    }
    .encode(dst);
}

fn pad_flag(pad_len: Option<u8>) -> u8 {
    if pad_len.is_some() { flags::PADDED } else { 0 }
}

fn flag(on: bool, bit: u8) -> u8 {
    if on { bit } else { 0 }
}

fn priority_fields(dst: &mut BytesMut, spec: &PrioritySpec) {
    let e = if spec.exclusive { 0x8000_0000 } else { 0 };
    dst.put_u32(e | spec.dependency.get());
    dst.put_u8(spec.weight);
}

/// Writes the Pad Length octet, `body`, then the zero padding (§6.1: "Padding
/// octets MUST be set to zero when sending").
fn padded(dst: &mut BytesMut, pad_len: Option<u8>, body: impl FnOnce(&mut BytesMut)) {
    if let Some(p) = pad_len {
        dst.put_u8(p);
    }
    body(dst);
    if let Some(p) = pad_len {
        dst.put_bytes(0, usize::from(p));
    }
}

impl Data<'_> {
    /// Appends the frame (§6.1).
    pub fn encode(&self, dst: &mut BytesMut) {
        let flags = flag(self.end_stream, flags::END_STREAM) | pad_flag(self.pad_len);
        header(
            dst,
            self.flow_controlled_len(),
            kind::DATA,
            flags,
            self.stream_id,
        );
        padded(dst, self.pad_len, |dst| dst.put_slice(self.data));
    }
}

impl Headers<'_> {
    /// Appends the frame (§6.2).
    pub fn encode(&self, dst: &mut BytesMut) {
        let prio_len = if self.priority.is_some() { 5 } else { 0 };
        let flags = flag(self.end_stream, flags::END_STREAM)
            | flag(self.end_headers, flags::END_HEADERS)
            | flag(self.priority.is_some(), flags::PRIORITY)
            | pad_flag(self.pad_len);
        let len = payload_len(prio_len + self.fragment.len(), self.pad_len);
        header(dst, len, kind::HEADERS, flags, self.stream_id);
        padded(dst, self.pad_len, |dst| {
            if let Some(spec) = &self.priority {
                priority_fields(dst, spec);
            }
            dst.put_slice(self.fragment);
        });
    }
}

impl Priority {
    /// Appends the frame (§6.3).
    pub fn encode(&self, dst: &mut BytesMut) {
        header(dst, 5, kind::PRIORITY, 0, self.stream_id);
        priority_fields(dst, &self.spec);
    }
}

impl RstStream {
    /// Appends the frame (§6.4).
    pub fn encode(&self, dst: &mut BytesMut) {
        header(dst, 4, kind::RST_STREAM, 0, self.stream_id);
        dst.put_u32(self.error_code.to_u32());
    }
}

impl Settings<'_> {
    /// Appends the frame (§6.5), parameters as received.
    pub fn encode(&self, dst: &mut BytesMut) {
        let len = u32::try_from(self.raw.len()).unwrap_or(u32::MAX);
        header(
            dst,
            len,
            kind::SETTINGS,
            flag(self.ack, flags::ACK),
            StreamId::ZERO,
        );
        dst.put_slice(self.raw);
    }
}

/// Appends a SETTINGS frame carrying `params` (§6.5); with no parameters it
/// is still a SETTINGS frame, not an acknowledgement (use
/// [`Settings::ACK`]`.encode` for that).
pub fn encode_settings(params: &[Setting], dst: &mut BytesMut) {
    let len = u32::try_from(params.len() * 6).unwrap_or(u32::MAX);
    header(dst, len, kind::SETTINGS, 0, StreamId::ZERO);
    for p in params {
        dst.put_u16(p.id());
        dst.put_u32(p.value());
    }
}

impl PushPromise<'_> {
    /// Appends the frame (§6.6).
    pub fn encode(&self, dst: &mut BytesMut) {
        let flags = flag(self.end_headers, flags::END_HEADERS) | pad_flag(self.pad_len);
        let len = payload_len(4 + self.fragment.len(), self.pad_len);
        header(dst, len, kind::PUSH_PROMISE, flags, self.stream_id);
        padded(dst, self.pad_len, |dst| {
            dst.put_u32(self.promised_stream_id.get());
            dst.put_slice(self.fragment);
        });
    }
}

impl Ping {
    /// Appends the frame (§6.7).
    pub fn encode(&self, dst: &mut BytesMut) {
        header(
            dst,
            8,
            kind::PING,
            flag(self.ack, flags::ACK),
            StreamId::ZERO,
        );
        dst.put_slice(&self.payload);
    }
}

impl GoAway<'_> {
    /// Appends the frame (§6.8).
    pub fn encode(&self, dst: &mut BytesMut) {
        let len = u32::try_from(8 + self.debug_data.len()).unwrap_or(u32::MAX);
        header(dst, len, kind::GOAWAY, 0, StreamId::ZERO);
        dst.put_u32(self.last_stream_id.get());
        dst.put_u32(self.error_code.to_u32());
        dst.put_slice(self.debug_data);
    }
}

impl WindowUpdate {
    /// Appends the frame (§6.9). The reserved bit of the increment is cleared.
    pub fn encode(&self, dst: &mut BytesMut) {
        header(dst, 4, kind::WINDOW_UPDATE, 0, self.stream_id);
        dst.put_u32(self.increment & 0x7fff_ffff);
    }
}

impl Continuation<'_> {
    /// Appends the frame (§6.10).
    pub fn encode(&self, dst: &mut BytesMut) {
        let len = u32::try_from(self.fragment.len()).unwrap_or(u32::MAX);
        let flags = flag(self.end_headers, flags::END_HEADERS);
        header(dst, len, kind::CONTINUATION, flags, self.stream_id);
        dst.put_slice(self.fragment);
    }
}

impl Unknown<'_> {
    /// Appends the frame as it was received.
    pub fn encode(&self, dst: &mut BytesMut) {
        let len = u32::try_from(self.payload.len()).unwrap_or(u32::MAX);
        header(dst, len, self.kind, self.flags, self.stream_id);
        dst.put_slice(self.payload);
    }
}

/// Appends a whole field block as one HEADERS frame followed by as many
/// CONTINUATION frames as `max_frame_size` requires (RFC 9113 §4.3, §6.10),
/// END_HEADERS on the last one. `max_frame_size` is the peer's
/// `SETTINGS_MAX_FRAME_SIZE` (at least 2^14; smaller values are raised).
pub fn encode_header_block(
    stream_id: StreamId,
    block: &[u8],
    end_stream: bool,
    max_frame_size: u32,
    dst: &mut BytesMut,
) {
    let max = (max_frame_size.max(super::DEFAULT_MAX_FRAME_SIZE)) as usize;
    let (first, mut rest) = block.split_at(block.len().min(max));
    Headers {
        stream_id,
        fragment: first,
        end_stream,
        end_headers: rest.is_empty(),
        priority: None,
        pad_len: None,
    }
    .encode(dst);
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(max));
        rest = tail;
        Continuation {
            stream_id,
            fragment: chunk,
            end_headers: rest.is_empty(),
        }
        .encode(dst);
    }
}
