//! Error types.
//!
//! Three kinds, kept apart on purpose:
//! - [`DecodeError`]: the bytes from the server are not a valid backend
//!   message (or exceed a [`Limits`](crate::Limits) bound).
//! - [`Error`]: the connection is broken for good (protocol violation,
//!   authentication failure, fatal server error, EOF). Sticky: once a
//!   [`Connection`](crate::Connection) returns one it returns it again.
//! - [`UsageError`]: the caller asked for something the current state does
//!   not allow; the connection is unaffected.
//!
//! A server `ErrorResponse` for one request is none of these: it is an
//! [`Event::Failed`](crate::Event::Failed) for that request.

use std::fmt;
use std::sync::Arc;

use crate::message::backend::ServerError;

/// A backend message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The length word is smaller than 4.
    BadLength(i32),
    /// The message body exceeds [`Limits::max_message_len`](crate::Limits).
    MessageTooLarge {
        /// Body length announced by the server.
        len: usize,
        /// Configured limit.
        limit: usize,
    },
    /// A column or parameter count exceeds its limit or is negative.
    TooManyItems {
        /// What was counted.
        what: &'static str,
        /// Announced count.
        count: i64,
        /// Configured limit.
        limit: usize,
    },
    /// A field value length is negative (other than -1) or exceeds
    /// [`Limits::max_field_len`](crate::Limits).
    BadFieldLength(i64),
    /// The body ended before a field it announced.
    Truncated(&'static str),
    /// The body has bytes after its last field.
    TrailingBytes(&'static str),
    /// A string is not NUL-terminated.
    MissingNul(&'static str),
    /// A string is not valid UTF-8.
    InvalidUtf8(&'static str),
    /// The message type byte is unknown.
    UnknownMessage(u8),
    /// An authentication request code is unknown.
    UnknownAuth(i32),
    /// A field holds a value outside its domain.
    InvalidValue(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::BadLength(n) => write!(f, "invalid message length {n}"),
            DecodeError::MessageTooLarge { len, limit } => {
                write!(f, "message of {len} bytes exceeds limit of {limit}")
            }
            DecodeError::TooManyItems { what, count, limit } => {
                write!(f, "{what} count {count} outside 0..={limit}")
            }
            DecodeError::BadFieldLength(n) => write!(f, "invalid field length {n}"),
            DecodeError::Truncated(w) => write!(f, "truncated {w}"),
            DecodeError::TrailingBytes(w) => write!(f, "trailing bytes after {w}"),
            DecodeError::MissingNul(w) => write!(f, "unterminated string in {w}"),
            DecodeError::InvalidUtf8(w) => write!(f, "invalid UTF-8 in {w}"),
            DecodeError::UnknownMessage(b) => write!(f, "unknown backend message type {b:#04x}"),
            DecodeError::UnknownAuth(c) => write!(f, "unknown authentication request {c}"),
            DecodeError::InvalidValue(w) => write!(f, "invalid value for {w}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for std::io::Error {
    fn from(e: DecodeError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// A frontend message could not be encoded from the given arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string argument contains a NUL byte, which the protocol cannot carry.
    NulInString(&'static str),
    /// A count exceeds the protocol's Int16 range.
    TooMany(&'static str),
    /// A message or value exceeds the protocol's Int32 length range.
    TooLong,
    /// A value could not be converted to the wire format.
    Value(String),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::NulInString(w) => write!(f, "{w} contains a NUL byte"),
            EncodeError::TooMany(w) => write!(f, "too many {w} (protocol maximum is 65535)"),
            EncodeError::TooLong => f.write_str("message too long for the protocol"),
            EncodeError::Value(m) => write!(f, "cannot encode value: {m}"),
        }
    }
}

impl std::error::Error for EncodeError {}

impl From<EncodeError> for std::io::Error {
    fn from(e: EncodeError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// Why authentication could not proceed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// The server asked for a password and the config has none.
    PasswordRequired,
    /// The server asked for a method this crate does not implement
    /// (Kerberos V5, SCM credentials, GSSAPI, SSPI).
    Unsupported(&'static str),
    /// The server offered only SASL mechanisms this crate cannot use
    /// (SCRAM-SHA-256-PLUS needs TLS channel binding).
    NoSaslMechanism(String),
    /// SCRAM needs a client nonce and the config has none.
    NonceRequired,
    /// The server's SCRAM iteration count is below the configured minimum
    /// or above the configured maximum.
    Iterations(u32),
    /// A SCRAM message from the server is malformed, or its nonce does not
    /// extend ours.
    ScramProtocol(&'static str),
    /// The server's SCRAM signature does not match: it does not know the
    /// password (or is an impostor).
    ServerSignature,
    /// The server sent a SCRAM `e=` error.
    ScramServer(String),
    /// An authentication message arrived out of sequence.
    Unexpected,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::PasswordRequired => {
                f.write_str("server requested a password but none was configured")
            }
            AuthError::Unsupported(m) => write!(
                f,
                "server requested {m} authentication, which this client does not support"
            ),
            AuthError::NoSaslMechanism(m) => write!(
                f,
                "no usable SASL mechanism offered ({m}); SCRAM-SHA-256-PLUS needs TLS, which is not available"
            ),
            AuthError::NonceRequired => {
                f.write_str("SCRAM authentication needs Config::scram_nonce to be set")
            }
            AuthError::Iterations(i) => {
                write!(f, "SCRAM iteration count {i} outside the configured bounds")
            }
            AuthError::ScramProtocol(m) => write!(f, "malformed SCRAM exchange: {m}"),
            AuthError::ServerSignature => f.write_str("SCRAM server signature mismatch"),
            AuthError::ScramServer(m) => write!(f, "SCRAM error from server: {m}"),
            AuthError::Unexpected => f.write_str("unexpected authentication message"),
        }
    }
}

impl std::error::Error for AuthError {}

/// The connection is unusable. Sticky: every later call returns it again.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// A backend message was malformed.
    Decode(DecodeError),
    /// The server sent a valid message that is not allowed in this state.
    Unexpected {
        /// Type byte of the message.
        tag: u8,
        /// The state it arrived in.
        state: &'static str,
    },
    /// Authentication failed on our side.
    Auth(AuthError),
    /// The server reported an error that ended the connection (during
    /// startup, a FATAL severity, or one no request was waiting for).
    Server(Arc<ServerError>),
    /// The server requires TLS (or the config does) and this crate has none.
    TlsUnavailable(&'static str),
    /// The server does not speak the requested protocol version.
    ProtocolVersion(String),
    /// The peer closed the connection.
    Closed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Decode(e) => write!(f, "protocol error: {e}"),
            Error::Unexpected { tag, state } => {
                write!(f, "unexpected message {:?} while {state}", char::from(*tag))
            }
            Error::Auth(e) => write!(f, "authentication failed: {e}"),
            Error::Server(e) => write!(f, "server error: {e}"),
            Error::TlsUnavailable(m) => write!(f, "TLS unavailable: {m}"),
            Error::ProtocolVersion(m) => write!(f, "protocol version: {m}"),
            Error::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Decode(e) => Some(e),
            Error::Auth(e) => Some(e),
            Error::Server(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Error::Auth(e)
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        use std::io::ErrorKind;
        let kind = match &e {
            Error::Closed => ErrorKind::UnexpectedEof,
            Error::Auth(_) => ErrorKind::PermissionDenied,
            Error::TlsUnavailable(_) => ErrorKind::Unsupported,
            Error::Server(_) => ErrorKind::Other,
            _ => ErrorKind::InvalidData,
        };
        std::io::Error::new(kind, e)
    }
}

/// The caller used the API in a way the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// The connection has not finished startup yet.
    NotReady,
    /// The connection has failed or is closed.
    Closed,
    /// A simple query cannot be sent while an extended-query block is open
    /// (Parse/Bind/Execute sent without their Sync): the server would
    /// discard it after an error.
    OpenSyncBlock,
    /// Only CopyData/CopyDone/CopyFail are allowed during COPY FROM STDIN.
    CopyInProgress,
    /// No COPY FROM STDIN is in progress.
    NotCopying,
    /// Arguments could not be encoded.
    Encode(EncodeError),
    /// The configuration asks for something unsupported.
    Config(&'static str),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::NotReady => f.write_str("connection startup not finished"),
            UsageError::Closed => f.write_str("connection is closed"),
            UsageError::OpenSyncBlock => {
                f.write_str("a simple query needs the open extended-query block to be synced first")
            }
            UsageError::CopyInProgress => f.write_str("COPY FROM STDIN in progress"),
            UsageError::NotCopying => f.write_str("no COPY FROM STDIN in progress"),
            UsageError::Encode(e) => write!(f, "{e}"),
            UsageError::Config(m) => write!(f, "invalid configuration: {m}"),
        }
    }
}

impl std::error::Error for UsageError {}

impl From<EncodeError> for UsageError {
    fn from(e: EncodeError) -> Self {
        UsageError::Encode(e)
    }
}

impl From<UsageError> for std::io::Error {
    fn from(e: UsageError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}
