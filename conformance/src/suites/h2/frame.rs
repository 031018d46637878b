//! HTTP/2 frames as raw bytes (RFC 9113 §4.1): a deliberately permissive
//! encoder that writes whatever a case asks for, lengths and stream ids
//! included, so malformed frames can be sent, and the parse of one frame
//! header from the server.

/// The 24 octets every client connection starts with (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types (RFC 9113 §6, §11.2).
pub mod ty {
    /// DATA (§6.1).
    pub const DATA: u8 = 0x0;
    /// HEADERS (§6.2).
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY (§6.3).
    pub const PRIORITY: u8 = 0x2;
    /// RST_STREAM (§6.4).
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS (§6.5).
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE (§6.6).
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING (§6.7).
    pub const PING: u8 = 0x6;
    /// GOAWAY (§6.8).
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE (§6.9).
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION (§6.10).
    pub const CONTINUATION: u8 = 0x9;
    /// A type no specification defines (§5.5: MUST be ignored).
    pub const UNKNOWN: u8 = 0xee;
}

/// Frame flags (RFC 9113 §6).
pub mod flag {
    /// END_STREAM (DATA, HEADERS).
    pub const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING).
    pub const ACK: u8 = 0x1;
    /// END_HEADERS (HEADERS, PUSH_PROMISE, CONTINUATION).
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED (DATA, HEADERS, PUSH_PROMISE).
    pub const PADDED: u8 = 0x8;
    /// PRIORITY (HEADERS).
    pub const PRIORITY: u8 = 0x20;
}

/// Error codes (RFC 9113 §7).
pub mod code {
    /// Graceful shutdown.
    pub const NO_ERROR: u32 = 0x0;
    /// Protocol error detected.
    pub const PROTOCOL_ERROR: u32 = 0x1;
    /// Implementation fault.
    pub const INTERNAL_ERROR: u32 = 0x2;
    /// Flow-control limits exceeded.
    pub const FLOW_CONTROL_ERROR: u32 = 0x3;
    /// Settings not acknowledged.
    pub const SETTINGS_TIMEOUT: u32 = 0x4;
    /// Frame received for closed stream.
    pub const STREAM_CLOSED: u32 = 0x5;
    /// Frame size incorrect.
    pub const FRAME_SIZE_ERROR: u32 = 0x6;
    /// Stream not processed.
    pub const REFUSED_STREAM: u32 = 0x7;
    /// Stream cancelled.
    pub const CANCEL: u32 = 0x8;
    /// Compression state not updated.
    pub const COMPRESSION_ERROR: u32 = 0x9;
    /// TCP connection error for CONNECT method.
    pub const CONNECT_ERROR: u32 = 0xa;
    /// Processing capacity exceeded.
    pub const ENHANCE_YOUR_CALM: u32 = 0xb;
    /// Negotiated TLS parameters not acceptable.
    pub const INADEQUATE_SECURITY: u32 = 0xc;
    /// Use HTTP/1.1 for the request.
    pub const HTTP_1_1_REQUIRED: u32 = 0xd;

    /// The code's name, or its number for an unknown code.
    pub fn name(code: u32) -> String {
        const NAMES: [&str; 14] = [
            "NO_ERROR",
            "PROTOCOL_ERROR",
            "INTERNAL_ERROR",
            "FLOW_CONTROL_ERROR",
            "SETTINGS_TIMEOUT",
            "STREAM_CLOSED",
            "FRAME_SIZE_ERROR",
            "REFUSED_STREAM",
            "CANCEL",
            "COMPRESSION_ERROR",
            "CONNECT_ERROR",
            "ENHANCE_YOUR_CALM",
            "INADEQUATE_SECURITY",
            "HTTP_1_1_REQUIRED",
        ];
        NAMES
            .get(code as usize)
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("0x{code:x}"))
    }
}

/// Setting identifiers (RFC 9113 §6.5.2).
pub mod setting {
    /// SETTINGS_HEADER_TABLE_SIZE.
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    /// SETTINGS_ENABLE_PUSH.
    pub const ENABLE_PUSH: u16 = 0x2;
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    /// SETTINGS_INITIAL_WINDOW_SIZE.
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    /// SETTINGS_MAX_FRAME_SIZE.
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    /// SETTINGS_MAX_HEADER_LIST_SIZE.
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
}

/// One frame, exactly as it goes on (or came off) the wire; nothing is
/// checked, so any malformed frame can be expressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The 8-bit type.
    pub ty: u8,
    /// The 8-bit flags.
    pub flags: u8,
    /// The 32-bit stream field, reserved bit included.
    pub stream: u32,
    /// The payload; its length is the frame's length field.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A frame of any type.
    pub fn new(ty: u8, flags: u8, stream: u32, payload: impl Into<Vec<u8>>) -> Frame {
        Frame {
            ty,
            flags,
            stream,
            payload: payload.into(),
        }
    }

    /// The 9-octet header followed by the payload. The length field is the
    /// payload's length modulo 2^24.
    pub fn encode(&self) -> Vec<u8> {
        let len = self.payload.len() as u32;
        let mut out = Vec::with_capacity(9 + self.payload.len());
        out.extend_from_slice(&len.to_be_bytes()[1..]);
        out.push(self.ty);
        out.push(self.flags);
        out.extend_from_slice(&self.stream.to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// The stream identifier without the reserved bit.
    pub fn stream_id(&self) -> u32 {
        self.stream & 0x7fff_ffff
    }

    /// Whether `f` is set.
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// The error code of a RST_STREAM or GOAWAY frame.
    pub fn error_code(&self) -> Option<u32> {
        let at = match self.ty {
            ty::RST_STREAM => 0,
            ty::GOAWAY => 4,
            _ => return None,
        };
        self.payload
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// `HEADERS(stream 1, END_STREAM|END_HEADERS, 12 octets)`, for messages.
    pub fn describe(&self) -> String {
        let name = match self.ty {
            ty::DATA => "DATA",
            ty::HEADERS => "HEADERS",
            ty::PRIORITY => "PRIORITY",
            ty::RST_STREAM => "RST_STREAM",
            ty::SETTINGS => "SETTINGS",
            ty::PUSH_PROMISE => "PUSH_PROMISE",
            ty::PING => "PING",
            ty::GOAWAY => "GOAWAY",
            ty::WINDOW_UPDATE => "WINDOW_UPDATE",
            ty::CONTINUATION => "CONTINUATION",
            _ => "unknown frame",
        };
        match self.ty {
            ty::RST_STREAM => format!(
                "RST_STREAM(stream {}, {})",
                self.stream_id(),
                self.error_code().map(code::name).unwrap_or("?".into())
            ),
            ty::GOAWAY => {
                let debug = self.payload.get(8..).unwrap_or(&[]);
                let debug = if debug.is_empty() {
                    String::new()
                } else {
                    format!(", \"{}\"", super::lossy(debug))
                };
                format!(
                    "GOAWAY({}{debug})",
                    self.error_code().map(code::name).unwrap_or("?".into())
                )
            }
            _ => format!(
                "{name}(type 0x{:x}, stream {}, flags 0x{:x}, {} octets)",
                self.ty,
                self.stream_id(),
                self.flags,
                self.payload.len()
            ),
        }
    }
}

/// Parses a 9-octet frame header: (length, type, flags, stream).
pub fn parse_header(h: &[u8; 9]) -> (usize, u8, u8, u32) {
    let len = (usize::from(h[0]) << 16) | (usize::from(h[1]) << 8) | usize::from(h[2]);
    (
        len,
        h[3],
        h[4],
        u32::from_be_bytes([h[5], h[6], h[7], h[8]]),
    )
}

/// A SETTINGS frame carrying `values` (§6.5.1).
pub fn settings(values: &[(u16, u32)]) -> Frame {
    let mut p = Vec::new();
    for (id, v) in values {
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&v.to_be_bytes());
    }
    Frame::new(ty::SETTINGS, 0, 0, p)
}

/// An empty SETTINGS frame with ACK.
pub fn settings_ack() -> Frame {
    Frame::new(ty::SETTINGS, flag::ACK, 0, Vec::new())
}

/// The (identifier, value) pairs of a well-formed SETTINGS payload.
pub fn settings_values(payload: &[u8]) -> Vec<(u16, u32)> {
    payload
        .chunks_exact(6)
        .map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
            )
        })
        .collect()
}

/// A PING frame (§6.7).
pub fn ping(flags: u8, data: [u8; 8]) -> Frame {
    Frame::new(ty::PING, flags, 0, data.to_vec())
}

/// A WINDOW_UPDATE frame (§6.9).
pub fn window_update(stream: u32, increment: u32) -> Frame {
    Frame::new(
        ty::WINDOW_UPDATE,
        0,
        stream,
        increment.to_be_bytes().to_vec(),
    )
}

/// A RST_STREAM frame (§6.4).
pub fn rst_stream(stream: u32, code: u32) -> Frame {
    Frame::new(ty::RST_STREAM, 0, stream, code.to_be_bytes().to_vec())
}

/// A PRIORITY frame (§6.3): dependency and weight.
pub fn priority(stream: u32, depends_on: u32, weight: u8) -> Frame {
    let mut p = depends_on.to_be_bytes().to_vec();
    p.push(weight);
    Frame::new(ty::PRIORITY, 0, stream, p)
}

/// A GOAWAY frame (§6.8).
pub fn goaway(stream: u32, last_stream: u32, code: u32) -> Frame {
    let mut p = last_stream.to_be_bytes().to_vec();
    p.extend_from_slice(&code.to_be_bytes());
    Frame::new(ty::GOAWAY, 0, stream, p)
}

/// A HEADERS frame carrying `block` whole (END_HEADERS) plus `flags`.
pub fn headers(stream: u32, flags: u8, block: &[u8]) -> Frame {
    Frame::new(
        ty::HEADERS,
        flags | flag::END_HEADERS,
        stream,
        block.to_vec(),
    )
}

/// A DATA frame.
pub fn data(stream: u32, flags: u8, payload: &[u8]) -> Frame {
    Frame::new(ty::DATA, flags, stream, payload.to_vec())
}

/// A CONTINUATION frame.
pub fn continuation(stream: u32, flags: u8, fragment: &[u8]) -> Frame {
    Frame::new(ty::CONTINUATION, flags, stream, fragment.to_vec())
}

/// `payload` with a Pad Length octet in front and `pad` zero octets behind
/// (the PADDED layout of §6.1, §6.2).
pub fn padded(pad: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![pad];
    p.extend_from_slice(payload);
    p.extend(std::iter::repeat_n(0u8, usize::from(pad)));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_header_fields_in_network_order() {
        let f = Frame::new(ty::PING, flag::ACK, 0x8000_0003, vec![1; 8]);
        let b = f.encode();
        assert_eq!(&b[..9], &[0, 0, 8, 6, 1, 0x80, 0, 0, 3]);
        let h: [u8; 9] = b[..9].try_into().unwrap();
        assert_eq!(parse_header(&h), (8, 6, 1, 0x8000_0003));
        assert_eq!(f.stream_id(), 3);
        assert_eq!(
            settings_values(&settings(&[(4, 1), (5, 16384)]).payload),
            [(4, 1), (5, 16384)]
        );
        assert_eq!(rst_stream(1, code::CANCEL).error_code(), Some(8));
        assert_eq!(goaway(0, 7, code::PROTOCOL_ERROR).error_code(), Some(1));
        assert_eq!(padded(2, b"ab"), [2, b'a', b'b', 0, 0]);
        assert_eq!(code::name(9), "COMPRESSION_ERROR");
        assert_eq!(code::name(0x77), "0x77");
    }
}
