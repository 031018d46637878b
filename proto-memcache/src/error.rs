//! The crate's error types.
//!
//! Three kinds, kept apart on purpose:
//! - [`DecodeError`]: the codec found bytes that are not a memcached reply.
//! - [`ProtocolError`]: the server broke the protocol as seen by a
//!   [`Connection`](crate::Connection); fatal and sticky.
//! - [`UsageError`]: the caller asked for something that cannot be sent
//!   (bad key, value over the limit, flag not allowed…). Nothing was encoded.
//!
//! A server's per-request error (`SERVER_ERROR`, `CLIENT_ERROR`, `ERROR`, a
//! binary non-zero status) is none of these: it is a
//! [`Response::Error`](crate::Response::Error) for that one request.

use std::fmt;
use std::io;

/// Why a key was refused (protocol.txt "Keys").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The key is empty.
    Empty,
    /// The key is longer than [`Limits::max_key_len`](crate::Limits::max_key_len).
    TooLong {
        /// Key length in bytes (after base64 encoding for meta `b` keys).
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The key holds whitespace or a control character.
    InvalidByte {
        /// Position of the offending byte.
        index: usize,
        /// The offending byte.
        byte: u8,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Empty => f.write_str("empty key"),
            KeyError::TooLong { len, limit } => {
                write!(f, "key of {len} bytes exceeds the limit of {limit}")
            }
            KeyError::InvalidByte { index, byte } => {
                write!(
                    f,
                    "key byte {index} (0x{byte:02x}) is whitespace or a control character"
                )
            }
        }
    }
}

impl std::error::Error for KeyError {}

/// The bytes are not a well-formed memcached reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// No `\r\n` within [`Limits::max_line_len`](crate::Limits::max_line_len) bytes.
    LineTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// A value (text `VALUE`, meta `VA`, binary body) announces more bytes
    /// than [`Limits::max_value_len`](crate::Limits::max_value_len); refused
    /// before anything is buffered for it.
    ValueTooLarge {
        /// Announced length.
        len: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A binary header does not start with the response magic `0x81`.
    BadMagic(u8),
    /// Anything else malformed; the text says what.
    Malformed(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::LineTooLong { limit } => {
                write!(f, "reply line longer than {limit} bytes")
            }
            DecodeError::ValueTooLarge { len, limit } => {
                write!(f, "reply announces {len} value bytes, limit is {limit}")
            }
            DecodeError::BadMagic(m) => write!(f, "bad binary magic 0x{m:02x}"),
            DecodeError::Malformed(what) => write!(f, "malformed reply: {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for io::Error {
    fn from(e: DecodeError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// The server broke the protocol. Fatal: the connection is out of sync, every
/// pending request is aborted and the same error is returned from then on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The reply bytes do not parse.
    Decode(DecodeError),
    /// A reply arrived while no request was waiting for one.
    Unsolicited,
    /// A well-formed reply of a kind the waiting request cannot receive
    /// (for example `STORED` to a `get`).
    UnexpectedReply {
        /// What the waiting request was.
        request: &'static str,
        /// What arrived.
        reply: &'static str,
    },
    /// A reply carries an opaque that matches no waiting request, or skips
    /// over a request that must have answered (it was not quiet).
    OpaqueMismatch,
    /// A `VALUE`/`VA`/binary hit names a key that was not asked for.
    UnexpectedKey,
    /// An error line without opaque arrived while quiet requests of several
    /// callers were outstanding: it cannot be attributed without guessing.
    AmbiguousError,
    /// The server closed the connection with requests still waiting.
    UnexpectedEof,
    /// The caller called [`Connection::abort`](crate::Connection::abort)
    /// (for example after a timeout).
    Aborted,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Decode(e) => e.fmt(f),
            ProtocolError::Unsolicited => f.write_str("reply with no request waiting"),
            ProtocolError::UnexpectedReply { request, reply } => {
                write!(f, "unexpected {reply} reply to {request}")
            }
            ProtocolError::OpaqueMismatch => f.write_str("reply opaque does not match"),
            ProtocolError::UnexpectedKey => f.write_str("reply names a key not requested"),
            ProtocolError::AmbiguousError => {
                f.write_str("error reply cannot be attributed to one request")
            }
            ProtocolError::UnexpectedEof => f.write_str("server closed with requests pending"),
            ProtocolError::Aborted => f.write_str("connection aborted by the caller"),
        }
    }
}

impl std::error::Error for ProtocolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProtocolError::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for ProtocolError {
    fn from(e: DecodeError) -> Self {
        ProtocolError::Decode(e)
    }
}

impl From<ProtocolError> for io::Error {
    fn from(e: ProtocolError) -> io::Error {
        let kind = match e {
            ProtocolError::UnexpectedEof => io::ErrorKind::UnexpectedEof,
            ProtocolError::Aborted => io::ErrorKind::ConnectionAborted,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// The caller asked for something that cannot be sent. Nothing was encoded
/// and the connection is unaffected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// A key is invalid.
    Key(KeyError),
    /// A value is larger than [`Limits::max_value_len`](crate::Limits::max_value_len).
    ValueTooLarge {
        /// Value length.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A multi-key request with no key.
    NoKeys,
    /// More keys than [`Limits::max_keys_per_request`](crate::Limits::max_keys_per_request).
    TooManyKeys {
        /// Number of keys given.
        count: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A meta flag the command does not take, or given twice.
    FlagNotAllowed {
        /// The meta command (`mg`, `ms`, …).
        command: &'static str,
        /// The flag letter.
        flag: char,
    },
    /// A meta opaque token that is empty, too long (over 31 bytes) or holds
    /// whitespace.
    BadToken,
    /// An argument the protocol cannot carry (for example a `stats` argument
    /// with whitespace or a binary `flush_all` with a negative delay).
    BadArgument(&'static str),
    /// The [`Connection`](crate::Connection) assigns opaques itself; a
    /// request must not carry one.
    OpaqueManaged,
    /// The command does not exist in this connection's protocol flavour.
    WrongFlavour(&'static str),
    /// The connection is closed or failed; no more requests.
    Closed,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::Key(e) => e.fmt(f),
            UsageError::ValueTooLarge { len, limit } => {
                write!(f, "value of {len} bytes exceeds the limit of {limit}")
            }
            UsageError::NoKeys => f.write_str("request needs at least one key"),
            UsageError::TooManyKeys { count, limit } => {
                write!(f, "{count} keys in one request, limit is {limit}")
            }
            UsageError::FlagNotAllowed { command, flag } => {
                write!(f, "flag {flag} not allowed (or repeated) for {command}")
            }
            UsageError::BadToken => f.write_str("invalid meta opaque token"),
            UsageError::BadArgument(what) => write!(f, "invalid argument: {what}"),
            UsageError::OpaqueManaged => {
                f.write_str("the connection assigns opaques; do not pass one")
            }
            UsageError::WrongFlavour(what) => {
                write!(f, "{what} is not available in this protocol flavour")
            }
            UsageError::Closed => f.write_str("connection is closed"),
        }
    }
}

impl std::error::Error for UsageError {}

impl From<KeyError> for UsageError {
    fn from(e: KeyError) -> Self {
        UsageError::Key(e)
    }
}

impl From<UsageError> for io::Error {
    fn from(e: UsageError) -> io::Error {
        let kind = match e {
            UsageError::Closed => io::ErrorKind::NotConnected,
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}

/// What a codec `decode` returns: a frame and the bytes it used, `Ok(None)`
/// when the input is incomplete (never an error), or a [`DecodeError`].
pub type DecodeResult<F> = Result<Option<(F, usize)>, DecodeError>;
