//! Error types: decode errors, fatal connection errors, caller misuse.

use std::fmt;

/// Why a byte stream is not valid RESP (or exceeds a [`Limits`](crate::Limits)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The first byte of a value is not a known RESP type byte (or is a
    /// RESP3 type byte while decoding RESP2 only).
    UnknownType(u8),
    /// A line holds a bare CR or LF instead of a CRLF terminator.
    BadLineEnding,
    /// A length or count is not a valid decimal (or is negative where only
    /// `-1` would be allowed).
    BadLength,
    /// An integer value (`:`) is not a valid signed 64-bit decimal.
    BadInteger,
    /// A double (`,`) is not a valid floating point number.
    BadDouble,
    /// A boolean (`#`) is neither `t` nor `f`.
    BadBoolean,
    /// A big number (`(`) is not an optionally signed run of digits.
    BadBigNumber,
    /// A null (`_`) carries data.
    BadNull,
    /// A verbatim string (`=`) lacks its three-byte format and colon.
    BadVerbatim,
    /// A bulk payload is not followed by CRLF.
    MissingPayloadCrlf,
    /// RESP3 streamed strings/aggregates (`$?`, `*?`) are not supported.
    StreamedUnsupported,
    /// A [`StreamDecoder`](crate::codec::StreamDecoder)'s buffer changed
    /// other than by appending between calls.
    Desynchronized,
    /// A bulk length exceeds [`Limits::max_bulk_len`](crate::Limits::max_bulk_len).
    BulkTooLong {
        /// The announced length (saturated at `u64::MAX`).
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// An aggregate count exceeds [`Limits::max_elements`](crate::Limits::max_elements).
    TooManyElements {
        /// The announced count (saturated at `u64::MAX`).
        count: u64,
        /// The configured limit.
        max: usize,
    },
    /// Aggregates nest deeper than [`Limits::max_depth`](crate::Limits::max_depth).
    TooDeep {
        /// The configured limit.
        max: usize,
    },
    /// A line is longer than [`Limits::max_line_len`](crate::Limits::max_line_len).
    LineTooLong {
        /// The configured limit.
        max: usize,
    },
}

/// A decoding failure: what went wrong and at which byte offset of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: usize,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        DecodeError { kind, offset }
    }

    /// What went wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// Byte offset, from the start of the decoded input, of the offending value.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::UnknownType(b) => write!(f, "unknown RESP type byte 0x{b:02x}"),
            DecodeErrorKind::BadLineEnding => f.write_str("bare CR or LF in a line"),
            DecodeErrorKind::BadLength => f.write_str("invalid length or count"),
            DecodeErrorKind::BadInteger => f.write_str("invalid integer"),
            DecodeErrorKind::BadDouble => f.write_str("invalid double"),
            DecodeErrorKind::BadBoolean => f.write_str("invalid boolean"),
            DecodeErrorKind::BadBigNumber => f.write_str("invalid big number"),
            DecodeErrorKind::BadNull => f.write_str("null carries data"),
            DecodeErrorKind::BadVerbatim => f.write_str("invalid verbatim string"),
            DecodeErrorKind::MissingPayloadCrlf => f.write_str("bulk payload not followed by CRLF"),
            DecodeErrorKind::StreamedUnsupported => {
                f.write_str("RESP3 streamed types are not supported")
            }
            DecodeErrorKind::Desynchronized => {
                f.write_str("stream decoder buffer changed between calls")
            }
            DecodeErrorKind::BulkTooLong { len, max } => {
                write!(f, "bulk length {len} exceeds limit {max}")
            }
            DecodeErrorKind::TooManyElements { count, max } => {
                write!(f, "aggregate count {count} exceeds limit {max}")
            }
            DecodeErrorKind::TooDeep { max } => write!(f, "nesting deeper than {max}"),
            DecodeErrorKind::LineTooLong { max } => write!(f, "line longer than {max} bytes"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RESP decode error at byte {}: {}",
            self.offset, self.kind
        )
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for std::io::Error {
    fn from(e: DecodeError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// A fatal connection error: the peer broke the protocol, or refused the
/// handshake. It is sticky: once returned, every later `handle_*` call
/// returns it again and no request will complete.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The server sent bytes that are not valid RESP or exceed the limits.
    Decode(DecodeError),
    /// The server sent a reply while no request was waiting for one, or a
    /// reply of a shape the pending request cannot receive.
    UnexpectedReply,
    /// The server rejected the handshake (HELLO, AUTH, CLIENT SETNAME or
    /// SELECT); carries the server's error line.
    Handshake(String),
    /// The handshake did not finish before the configured deadline.
    HandshakeTimeout,
    /// The peer closed the connection while requests were outstanding.
    UnexpectedEof {
        /// Requests (including handshake steps) still waiting for a reply.
        pending: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Decode(e) => e.fmt(f),
            Error::UnexpectedReply => f.write_str("reply received with no matching request"),
            Error::Handshake(m) => write!(f, "handshake rejected by server: {m}"),
            Error::HandshakeTimeout => f.write_str("handshake timed out"),
            Error::UnexpectedEof { pending } => {
                write!(f, "connection closed with {pending} replies outstanding")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match e {
            Error::Decode(_) | Error::UnexpectedReply => std::io::ErrorKind::InvalidData,
            Error::Handshake(_) => std::io::ErrorKind::PermissionDenied,
            Error::HandshakeTimeout => std::io::ErrorKind::TimedOut,
            Error::UnexpectedEof { .. } => std::io::ErrorKind::UnexpectedEof,
        };
        std::io::Error::new(kind, e)
    }
}

/// The caller used the [`Connection`](crate::Connection) API wrongly.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UsageError {
    /// The connection has failed (see [`Error`]) or was closed; nothing more
    /// can be sent.
    Closed,
    /// A command with no arguments (not even a name).
    EmptyCommand,
    /// A command whose replies cannot be matched FIFO (`MONITOR`,
    /// `CLIENT REPLY OFF|SKIP`); use a dedicated connection type instead.
    Unsupported(&'static str),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::Closed => f.write_str("connection is closed"),
            UsageError::EmptyCommand => f.write_str("empty command"),
            UsageError::Unsupported(what) => write!(f, "unsupported command: {what}"),
        }
    }
}

impl std::error::Error for UsageError {}

impl From<UsageError> for std::io::Error {
    fn from(e: UsageError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}
