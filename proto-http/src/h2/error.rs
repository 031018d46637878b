//! Connection errors of the HTTP/2 server connection (RFC 9113 §5.4.1).

use std::{error, fmt, io};

use super::ErrorCode;
use super::flow::FlowError;
use super::frame::FrameError;
use super::hpack::DecoderError;

/// What ended the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnErrorKind {
    /// The client preface was not `PRI * HTTP/2.0...` (RFC 9113 §3.4).
    BadPreface,
    /// The first frame after the preface was not SETTINGS (RFC 9113 §3.4).
    SettingsExpected,
    /// A frame was malformed (RFC 9113 §4, §6); see the inner error.
    Frame(FrameError),
    /// HPACK decoding failed (RFC 9113 §4.3, RFC 7541).
    Compression(DecoderError),
    /// The connection flow-control window was exceeded or overflowed
    /// (RFC 9113 §6.9).
    Flow(FlowError),
    /// A frame other than HEADERS or PRIORITY on an idle stream, or a stream
    /// identifier that is even or not increasing (RFC 9113 §5.1, §5.1.1).
    IdleStream,
    /// HEADERS on a closed stream (RFC 9113 §5.1).
    ClosedStream,
    /// PUSH_PROMISE from a client (RFC 9113 §8.4).
    PushPromise,
    /// Too many streams reset in a short time (CVE-2023-44487).
    RapidReset,
    /// A flood of SETTINGS, PING, PRIORITY, empty DATA or unknown frames.
    Flood,
    /// Too many CONTINUATION frames in one field block (CVE-2024-27316).
    ContinuationFlood,
    /// Our SETTINGS were not acknowledged in time (RFC 9113 §6.5.3).
    SettingsTimeout,
    /// Response data waited too long for a flow-control window.
    SendStall,
    /// The `HTTP2-Settings` of an h2c upgrade was invalid (RFC 7540 §3.2.1).
    BadUpgradeSettings,
}

/// The peer broke HTTP/2 (or stalled it); the connection is over. A GOAWAY
/// carrying [`ConnError::code`] is queued for `poll_transmit` before the
/// connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnError {
    kind: ConnErrorKind,
    code: ErrorCode,
}

impl ConnError {
    pub(crate) fn new(kind: ConnErrorKind, code: ErrorCode) -> ConnError {
        ConnError { kind, code }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ConnErrorKind {
        self.kind
    }

    /// The error code sent in the GOAWAY.
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl From<FrameError> for ConnError {
    fn from(e: FrameError) -> Self {
        ConnError::new(ConnErrorKind::Frame(e), e.error_code())
    }
}

impl From<DecoderError> for ConnError {
    fn from(e: DecoderError) -> Self {
        ConnError::new(ConnErrorKind::Compression(e), e.error_code())
    }
}

impl From<FlowError> for ConnError {
    fn from(e: FlowError) -> Self {
        ConnError::new(ConnErrorKind::Flow(e), e.error_code())
    }
}

impl fmt::Display for ConnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h2 connection error {}: ", self.code)?;
        match self.kind {
            ConnErrorKind::Frame(e) => write!(f, "{e}"),
            ConnErrorKind::Compression(e) => write!(f, "{e}"),
            ConnErrorKind::Flow(e) => write!(f, "{e}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl error::Error for ConnError {}

impl From<ConnError> for io::Error {
    fn from(e: ConnError) -> Self {
        let kind = match e.kind {
            ConnErrorKind::SettingsTimeout | ConnErrorKind::SendStall => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}
