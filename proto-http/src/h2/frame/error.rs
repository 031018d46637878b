//! Frame decoding errors (RFC 9113 §5.4).

use std::{error, fmt, io};

use super::types::StreamId;
use crate::h2::ErrorCode;

/// What was wrong with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameErrorKind {
    /// The payload exceeds `SETTINGS_MAX_FRAME_SIZE` (§4.2).
    TooLarge {
        /// Declared payload length.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// The payload length is wrong for the type: not the fixed length, not a
    /// multiple of 6 (SETTINGS), or too short for its mandatory fields (§4.2).
    BadLength {
        /// Frame type.
        kind: u8,
        /// Payload length.
        len: u32,
    },
    /// Padding as long as the room left for it, or longer (§6.1, §6.2, §6.6).
    PaddingTooLong,
    /// A stream frame on stream 0.
    StreamIdRequired {
        /// Frame type.
        kind: u8,
    },
    /// A connection frame (SETTINGS, PING, GOAWAY) on a stream other than 0.
    StreamIdForbidden {
        /// Frame type.
        kind: u8,
    },
    /// WINDOW_UPDATE with an increment of 0 (§6.9).
    ZeroWindowIncrement,
    /// PRIORITY making a stream depend on itself (§5.3.1).
    SelfDependency,
    /// A SETTINGS value outside its range (§6.5.2).
    InvalidSetting {
        /// Parameter identifier.
        id: u16,
        /// Value received.
        value: u32,
    },
    /// SETTINGS with ACK and a non-empty payload (§6.5).
    SettingsAckWithPayload,
    /// PUSH_PROMISE promising stream 0 (§6.6).
    ZeroPromisedStreamId,
    /// A field block is open on this stream and the next frame was not its
    /// CONTINUATION (§6.10, §5.5).
    ExpectedContinuation {
        /// The stream whose block is open.
        stream_id: StreamId,
    },
    /// CONTINUATION with no open field block (§6.10).
    UnexpectedContinuation,
    /// A field block exceeds the configured maximum.
    HeaderBlockTooLarge {
        /// The limit.
        max: usize,
    },
}

/// A frame the peer should not have sent, with the RFC 9113 error to answer.
///
/// A connection error (`stream_id()` is `None`) ends the connection with
/// GOAWAY carrying [`FrameError::error_code`]. A stream error resets that
/// stream with RST_STREAM; the connection goes on after skipping
/// [`FrameError::frame_len`] octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameError {
    kind: FrameErrorKind,
    stream: Option<StreamId>,
    frame_len: usize,
}

impl FrameError {
    pub(crate) fn connection(kind: FrameErrorKind, frame_len: usize) -> Self {
        Self {
            kind,
            stream: None,
            frame_len,
        }
    }

    pub(crate) fn stream(kind: FrameErrorKind, id: StreamId, frame_len: usize) -> Self {
        Self {
            kind,
            stream: Some(id),
            frame_len,
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> FrameErrorKind {
        self.kind
    }

    /// The error code RFC 9113 names for this violation.
    pub fn error_code(&self) -> ErrorCode {
        match self.kind {
            FrameErrorKind::TooLarge { .. }
            | FrameErrorKind::BadLength { .. }
            | FrameErrorKind::SettingsAckWithPayload => ErrorCode::FrameSizeError,
            // §6.5.2: an initial window above 2^31 - 1 is a flow-control error.
            FrameErrorKind::InvalidSetting { id: 0x4, .. } => ErrorCode::FlowControlError,
            FrameErrorKind::PaddingTooLong
            | FrameErrorKind::StreamIdRequired { .. }
            | FrameErrorKind::StreamIdForbidden { .. }
            | FrameErrorKind::ZeroWindowIncrement
            | FrameErrorKind::SelfDependency
            | FrameErrorKind::InvalidSetting { .. }
            | FrameErrorKind::ZeroPromisedStreamId
            | FrameErrorKind::ExpectedContinuation { .. }
            | FrameErrorKind::UnexpectedContinuation => ErrorCode::ProtocolError,
            FrameErrorKind::HeaderBlockTooLarge { .. } => ErrorCode::EnhanceYourCalm,
        }
    }

    /// `Some(stream)` for a stream error, `None` for a connection error.
    pub fn stream_id(&self) -> Option<StreamId> {
        self.stream
    }

    /// Whether the connection must be closed.
    pub fn is_connection_error(&self) -> bool {
        self.stream.is_none()
    }

    /// Size of the offending frame, header included: what to skip after a
    /// stream error (the whole frame is always buffered before one is
    /// reported). 0 for errors from the [`HeaderBlockAssembler`], which are
    /// all connection errors.
    ///
    /// [`HeaderBlockAssembler`]: super::HeaderBlockAssembler
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stream {
            None => write!(f, "h2 connection error {}: ", self.error_code())?,
            Some(id) => write!(f, "h2 stream {id} error {}: ", self.error_code())?,
        }
        match self.kind {
            FrameErrorKind::TooLarge { len, max } => {
                write!(f, "frame payload of {len} octets exceeds {max}")
            }
            FrameErrorKind::BadLength { kind, len } => {
                write!(f, "invalid payload length {len} for frame type {kind:#x}")
            }
            FrameErrorKind::PaddingTooLong => f.write_str("padding exceeds the payload"),
            FrameErrorKind::StreamIdRequired { kind } => {
                write!(f, "frame type {kind:#x} on stream 0")
            }
            FrameErrorKind::StreamIdForbidden { kind } => {
                write!(f, "frame type {kind:#x} on a stream other than 0")
            }
            FrameErrorKind::ZeroWindowIncrement => f.write_str("WINDOW_UPDATE increment of 0"),
            FrameErrorKind::SelfDependency => f.write_str("stream depends on itself"),
            FrameErrorKind::InvalidSetting { id, value } => {
                write!(f, "invalid value {value} for setting {id:#x}")
            }
            FrameErrorKind::SettingsAckWithPayload => f.write_str("SETTINGS ACK with a payload"),
            FrameErrorKind::ZeroPromisedStreamId => f.write_str("PUSH_PROMISE for stream 0"),
            FrameErrorKind::ExpectedContinuation { stream_id } => {
                write!(f, "expected CONTINUATION on stream {stream_id}")
            }
            FrameErrorKind::UnexpectedContinuation => {
                f.write_str("CONTINUATION without an open field block")
            }
            FrameErrorKind::HeaderBlockTooLarge { max } => {
                write!(f, "field block larger than {max} octets")
            }
        }
    }
}

impl error::Error for FrameError {}

impl From<FrameError> for io::Error {
    fn from(e: FrameError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}
