//! HTTP/2 error codes (RFC 9113 §7).

use std::fmt;

/// An HTTP/2 error code, as carried by RST_STREAM and GOAWAY (RFC 9113 §7).
///
/// Codes this crate does not know are kept as [`ErrorCode::Other`]; RFC 9113 §7
/// says they "MUST NOT trigger any special behavior" and MAY be treated as
/// `INTERNAL_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `NO_ERROR` (0x0): graceful shutdown, not an error.
    NoError,
    /// `PROTOCOL_ERROR` (0x1): unspecific protocol violation.
    ProtocolError,
    /// `INTERNAL_ERROR` (0x2): unexpected internal error.
    InternalError,
    /// `FLOW_CONTROL_ERROR` (0x3): the peer violated flow control.
    FlowControlError,
    /// `SETTINGS_TIMEOUT` (0x4): a SETTINGS frame was not acknowledged in time.
    SettingsTimeout,
    /// `STREAM_CLOSED` (0x5): a frame arrived on a half-closed stream.
    StreamClosed,
    /// `FRAME_SIZE_ERROR` (0x6): a frame had an invalid size.
    FrameSizeError,
    /// `REFUSED_STREAM` (0x7): the stream was refused before any processing.
    RefusedStream,
    /// `CANCEL` (0x8): the stream is no longer needed.
    Cancel,
    /// `COMPRESSION_ERROR` (0x9): the field-block compression context failed (HPACK).
    CompressionError,
    /// `CONNECT_ERROR` (0xa): the CONNECT tunnel was reset or closed abnormally.
    ConnectError,
    /// `ENHANCE_YOUR_CALM` (0xb): the peer is generating excessive load.
    EnhanceYourCalm,
    /// `INADEQUATE_SECURITY` (0xc): the transport's security is inadequate.
    InadequateSecurity,
    /// `HTTP_1_1_REQUIRED` (0xd): the endpoint requires HTTP/1.1.
    Http11Required,
    /// A code this crate does not know (the raw value).
    Other(u32),
}

impl ErrorCode {
    /// Maps a wire value to an error code; unknown values become [`ErrorCode::Other`].
    pub const fn from_u32(code: u32) -> Self {
        match code {
            0x0 => Self::NoError,
            0x1 => Self::ProtocolError,
            0x2 => Self::InternalError,
            0x3 => Self::FlowControlError,
            0x4 => Self::SettingsTimeout,
            0x5 => Self::StreamClosed,
            0x6 => Self::FrameSizeError,
            0x7 => Self::RefusedStream,
            0x8 => Self::Cancel,
            0x9 => Self::CompressionError,
            0xa => Self::ConnectError,
            0xb => Self::EnhanceYourCalm,
            0xc => Self::InadequateSecurity,
            0xd => Self::Http11Required,
            other => Self::Other(other),
        }
    }

    /// The 32-bit wire value.
    pub const fn to_u32(self) -> u32 {
        match self {
            Self::NoError => 0x0,
            Self::ProtocolError => 0x1,
            Self::InternalError => 0x2,
            Self::FlowControlError => 0x3,
            Self::SettingsTimeout => 0x4,
            Self::StreamClosed => 0x5,
            Self::FrameSizeError => 0x6,
            Self::RefusedStream => 0x7,
            Self::Cancel => 0x8,
            Self::CompressionError => 0x9,
            Self::ConnectError => 0xa,
            Self::EnhanceYourCalm => 0xb,
            Self::InadequateSecurity => 0xc,
            Self::Http11Required => 0xd,
            Self::Other(code) => code,
        }
    }

    /// The name RFC 9113 §7 gives the code, or `"UNKNOWN"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::NoError => "NO_ERROR",
            Self::ProtocolError => "PROTOCOL_ERROR",
            Self::InternalError => "INTERNAL_ERROR",
            Self::FlowControlError => "FLOW_CONTROL_ERROR",
            Self::SettingsTimeout => "SETTINGS_TIMEOUT",
            Self::StreamClosed => "STREAM_CLOSED",
            Self::FrameSizeError => "FRAME_SIZE_ERROR",
            Self::RefusedStream => "REFUSED_STREAM",
            Self::Cancel => "CANCEL",
            Self::CompressionError => "COMPRESSION_ERROR",
            Self::ConnectError => "CONNECT_ERROR",
            Self::EnhanceYourCalm => "ENHANCE_YOUR_CALM",
            Self::InadequateSecurity => "INADEQUATE_SECURITY",
            Self::Http11Required => "HTTP_1_1_REQUIRED",
            Self::Other(_) => "UNKNOWN",
        }
    }
}

impl From<u32> for ErrorCode {
    fn from(code: u32) -> Self {
        Self::from_u32(code)
    }
}

impl From<ErrorCode> for u32 {
    fn from(code: ErrorCode) -> Self {
        code.to_u32()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(code) => write!(f, "UNKNOWN({code:#x})"),
            known => f.write_str(known.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn wire_values_round_trip() {
        for v in 0..0x20u32 {
            assert_eq!(ErrorCode::from_u32(v).to_u32(), v);
        }
        assert_eq!(ErrorCode::from_u32(0x9), ErrorCode::CompressionError);
        assert_eq!(ErrorCode::from_u32(0xe), ErrorCode::Other(0xe));
        assert_eq!(ErrorCode::from_u32(u32::MAX).to_u32(), u32::MAX);
        assert_eq!(ErrorCode::FrameSizeError.to_string(), "FRAME_SIZE_ERROR");
        assert_eq!(ErrorCode::Other(0x42).to_string(), "UNKNOWN(0x42)");
    }
}
