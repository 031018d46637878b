//! Frame types (RFC 9113 §6) and the frame header (§4.1).

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::h2::ErrorCode;
use crate::h2::settings::Setting;

/// Frame type codes (RFC 9113 §6, IANA "HTTP/2 Frame Type" registry).
pub mod kind {
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
}

/// Flag bits (RFC 9113 §6); each is meaningful only for some frame types.
pub mod flags {
    /// END_STREAM on DATA and HEADERS.
    pub const END_STREAM: u8 = 0x1;
    /// ACK on SETTINGS and PING.
    pub const ACK: u8 = 0x1;
    /// END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION.
    pub const END_HEADERS: u8 = 0x4;
    /// PADDED on DATA, HEADERS and PUSH_PROMISE.
    pub const PADDED: u8 = 0x8;
    /// PRIORITY on HEADERS.
    pub const PRIORITY: u8 = 0x20;
}

/// A 31-bit stream identifier (RFC 9113 §5.1.1); 0 is the connection.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StreamId(u32);

impl StreamId {
    /// Stream 0: frames about the whole connection.
    pub const ZERO: Self = Self(0);
    /// The largest identifier, 2^31 - 1.
    pub const MAX: Self = Self(0x7fff_ffff);

    /// An identifier from its 31-bit value; the reserved high bit is cleared
    /// (RFC 9113 §4.1: "MUST remain unset when sending and MUST be ignored
    /// when receiving").
    pub const fn new(id: u32) -> Self {
        Self(id & 0x7fff_ffff)
    }

    /// The numeric value.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Whether this is stream 0 (the connection).
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Odd identifiers are opened by clients, even ones by servers (§5.1.1).
    pub const fn is_client_initiated(self) -> bool {
        self.0 % 2 == 1
    }
}

impl From<StreamId> for u32 {
    fn from(id: StreamId) -> Self {
        id.0
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({})", self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The 9-octet frame header (RFC 9113 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub length: u32,
    /// Frame type (see [`kind`]).
    pub kind: u8,
    /// Flags (see [`flags`]).
    pub flags: u8,
    /// Stream identifier, reserved bit cleared.
    pub stream_id: StreamId,
}

impl FrameHeader {
    /// Reads a header from the first 9 octets of `buf`, if there are 9.
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let h: &[u8; 9] = buf.get(..9)?.try_into().ok()?;
        Some(Self {
            length: u32::from_be_bytes([0, h[0], h[1], h[2]]),
            kind: h[3],
            flags: h[4],
            stream_id: StreamId::new(u32::from_be_bytes([h[5], h[6], h[7], h[8]])),
        })
    }

    /// Appends the header.
    ///
    /// # Panics
    /// If `length` does not fit 24 bits: frames that large cannot exist
    /// (RFC 9113 §4.2), so this is a caller bug.
    pub fn encode(&self, dst: &mut BytesMut) {
        assert!(
            self.length < 1 << 24,
            "HTTP/2 frame payload over 2^24 - 1 octets"
        );
        let [_, l0, l1, l2] = self.length.to_be_bytes();
        dst.put_slice(&[l0, l1, l2, self.kind, self.flags]);
        dst.put_u32(self.stream_id.get());
    }
}

/// A frame borrowed from the input buffer (RFC 9113 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame<'a> {
    /// DATA (§6.1).
    Data(Data<'a>),
    /// HEADERS (§6.2).
    Headers(Headers<'a>),
    /// PRIORITY (§6.3).
    Priority(Priority),
    /// RST_STREAM (§6.4).
    RstStream(RstStream),
    /// SETTINGS (§6.5).
    Settings(Settings<'a>),
    /// PUSH_PROMISE (§6.6).
    PushPromise(PushPromise<'a>),
    /// PING (§6.7).
    Ping(Ping),
    /// GOAWAY (§6.8).
    GoAway(GoAway<'a>),
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate(WindowUpdate),
    /// CONTINUATION (§6.10).
    Continuation(Continuation<'a>),
    /// A frame type this crate does not know; §5.5 says to ignore it (except
    /// inside a header block, where the connection must reject it, §6.10).
    Unknown(Unknown<'a>),
}

impl Frame<'_> {
    /// The stream the frame belongs to (0 for connection frames).
    pub fn stream_id(&self) -> StreamId {
        match self {
            Self::Data(f) => f.stream_id,
            Self::Headers(f) => f.stream_id,
            Self::Priority(f) => f.stream_id,
            Self::RstStream(f) => f.stream_id,
            Self::PushPromise(f) => f.stream_id,
            Self::WindowUpdate(f) => f.stream_id,
            Self::Continuation(f) => f.stream_id,
            Self::Unknown(f) => f.stream_id,
            Self::Settings(_) | Self::Ping(_) | Self::GoAway(_) => StreamId::ZERO,
        }
    }

    /// Appends the frame in wire form.
    pub fn encode(&self, dst: &mut BytesMut) {
        match self {
            Self::Data(f) => f.encode(dst),
            Self::Headers(f) => f.encode(dst),
            Self::Priority(f) => f.encode(dst),
            Self::RstStream(f) => f.encode(dst),
            Self::Settings(f) => f.encode(dst),
            Self::PushPromise(f) => f.encode(dst),
            Self::Ping(f) => f.encode(dst),
            Self::GoAway(f) => f.encode(dst),
            Self::WindowUpdate(f) => f.encode(dst),
            Self::Continuation(f) => f.encode(dst),
            Self::Unknown(f) => f.encode(dst),
        }
    }
}

/// Stream dependency and weight (RFC 9113 §5.3.2, §6.3; deprecated by
/// RFC 9113 §5.3 but still on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrioritySpec {
    /// The E flag.
    pub exclusive: bool,
    /// The stream depended on.
    pub dependency: StreamId,
    /// Weight minus one, as sent (0..=255 means 1..=256).
    pub weight: u8,
}

/// DATA (§6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    /// Stream (never 0).
    pub stream_id: StreamId,
    /// The application data, padding removed.
    pub data: &'a [u8],
    /// END_STREAM flag.
    pub end_stream: bool,
    /// Padding length when the PADDED flag is set.
    pub pad_len: Option<u8>,
}

impl Data<'_> {
    /// Octets counted against flow-control windows: the whole payload,
    /// Pad Length and padding included (§6.1).
    pub fn flow_controlled_len(&self) -> u32 {
        payload_len(self.data.len(), self.pad_len)
    }
}

/// HEADERS (§6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers<'a> {
    /// Stream (never 0).
    pub stream_id: StreamId,
    /// Field block fragment (HPACK), padding and priority removed.
    pub fragment: &'a [u8],
    /// END_STREAM flag.
    pub end_stream: bool,
    /// END_HEADERS flag: no CONTINUATION follows.
    pub end_headers: bool,
    /// Priority fields when the PRIORITY flag is set.
    pub priority: Option<PrioritySpec>,
    /// Padding length when the PADDED flag is set.
    pub pad_len: Option<u8>,
}

impl Headers<'_> {
    /// Whether the priority fields make the stream depend on itself, which
    /// RFC 9113 §5.3.1 makes a stream error of type `PROTOCOL_ERROR`. The
    /// decoder does not fail such a frame: its field block must still go
    /// through HPACK to keep the table in sync, so the connection resets
    /// the stream after decoding it.
    pub fn depends_on_itself(&self) -> bool {
        self.priority
            .is_some_and(|p| p.dependency == self.stream_id)
    }
}

/// PRIORITY (§6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    /// Stream (never 0).
    pub stream_id: StreamId,
    /// The priority fields.
    pub spec: PrioritySpec,
}

/// RST_STREAM (§6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RstStream {
    /// Stream (never 0).
    pub stream_id: StreamId,
    /// Why the stream ends.
    pub error_code: ErrorCode,
}

/// SETTINGS (§6.5); the parameters were validated when decoded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Settings<'a> {
    pub(crate) ack: bool,
    pub(crate) raw: &'a [u8],
}

impl<'a> Settings<'a> {
    /// An acknowledgement (ACK flag, empty payload).
    pub const ACK: Settings<'static> = Settings {
        ack: true,
        raw: &[],
    };

    /// Whether this acknowledges the peer's SETTINGS.
    pub fn is_ack(&self) -> bool {
        self.ack
    }

    /// The parameters, in order (a later value for an identifier overrides an
    /// earlier one, §6.5.3). Unknown identifiers appear as
    /// [`Setting::Unknown`] and are to be ignored.
    pub fn iter(&self) -> SettingsIter<'a> {
        SettingsIter { raw: self.raw }
    }
}

impl fmt::Debug for Settings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("ack", &self.ack)
            .field("params", &self.iter())
            .finish()
    }
}

/// Iterator over validated SETTINGS parameters.
#[derive(Clone)]
pub struct SettingsIter<'a> {
    raw: &'a [u8],
}

impl Iterator for SettingsIter<'_> {
    type Item = Setting;

    fn next(&mut self) -> Option<Setting> {
        let (param, rest) = self.raw.split_first_chunk::<6>()?;
        self.raw = rest;
        let id = u16::from_be_bytes([param[0], param[1]]);
        let value = u32::from_be_bytes([param[2], param[3], param[4], param[5]]);
        // Validated by the decoder; an invalid value cannot reach here, but
        // report it raw rather than panic.
        Some(Setting::from_wire(id, value).unwrap_or(Setting::Unknown { id, value }))
    }
}

impl fmt::Debug for SettingsIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// PUSH_PROMISE (§6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushPromise<'a> {
    /// The associated stream (never 0).
    pub stream_id: StreamId,
    /// The stream being reserved (never 0).
    pub promised_stream_id: StreamId,
    /// Field block fragment, padding removed.
    pub fragment: &'a [u8],
    /// END_HEADERS flag.
    pub end_headers: bool,
    /// Padding length when the PADDED flag is set.
    pub pad_len: Option<u8>,
}

/// PING (§6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping {
    /// ACK flag: this is the response.
    pub ack: bool,
    /// Opaque data, echoed in the response.
    pub payload: [u8; 8],
}

/// GOAWAY (§6.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoAway<'a> {
    /// Highest stream the sender may have processed.
    pub last_stream_id: StreamId,
    /// Why the connection is closing.
    pub error_code: ErrorCode,
    /// Opaque diagnostic data.
    pub debug_data: &'a [u8],
}

/// WINDOW_UPDATE (§6.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowUpdate {
    /// Stream, or 0 for the connection window.
    pub stream_id: StreamId,
    /// Window increment, 1..=2^31-1 (reserved bit cleared).
    pub increment: u32,
}

/// CONTINUATION (§6.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Continuation<'a> {
    /// Stream (never 0).
    pub stream_id: StreamId,
    /// Field block fragment.
    pub fragment: &'a [u8],
    /// END_HEADERS flag.
    pub end_headers: bool,
}

/// A frame of unknown type, kept raw (§4.1, §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unknown<'a> {
    /// Type code.
    pub kind: u8,
    /// Flags, uninterpreted.
    pub flags: u8,
    /// Stream.
    pub stream_id: StreamId,
    /// Payload.
    pub payload: &'a [u8],
}

/// Payload length of a padded frame body: content + Pad Length octet + padding.
pub(crate) fn payload_len(content: usize, pad_len: Option<u8>) -> u32 {
    let extra = pad_len.map_or(0, |p| 1 + usize::from(p));
    u32::try_from(content + extra).unwrap_or(u32::MAX)
}
