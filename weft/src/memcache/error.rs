//! The driver's error type.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use proto_memcache::{KeyError, ProtocolError, ServerError, UsageError};

/// Everything that can go wrong talking to memcached.
///
/// `Clone`, so one connection failure can be handed to every request that
/// was waiting on it. Request errors found before anything is sent
/// ([`InvalidKey`](Error::InvalidKey), [`ValueTooLarge`](Error::ValueTooLarge),
/// [`Usage`](Error::Usage)) leave the connection untouched.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed (connect, read or write).
    Io(Arc<io::Error>),
    /// The server broke the protocol or closed the connection with requests
    /// outstanding; the connection is unusable.
    Protocol(ProtocolError),
    /// The server answered this request with an error (`SERVER_ERROR`,
    /// `CLIENT_ERROR`, `ERROR`, a binary error status); the connection is
    /// fine.
    Server(ServerError),
    /// The key is empty, longer than 250 bytes (the configured limit) or
    /// holds whitespace or control characters (protocol.txt "Keys");
    /// nothing was sent.
    InvalidKey(KeyError),
    /// The value is larger than the configured limit (1 MiB by default,
    /// memcached's `-I`); nothing was sent.
    ValueTooLarge {
        /// The value's length.
        len: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Any other request that cannot be sent (a command the connection's
    /// protocol flavour lacks, a bad meta flag, ...); nothing was sent.
    Usage(UsageError),
    /// The server answered with a reply this call cannot interpret (for
    /// example `NOT_STORED` to a plain `set`).
    UnexpectedResponse(String),
    /// No reply within the response timeout, or no connection within the
    /// connect timeout. A late reply is read and discarded.
    Timeout,
    /// No pooled connection within the pool's acquire deadline.
    PoolTimeout,
    /// The connection is closed (by the server, by [`Connection::close`](super::Connection::close),
    /// or because its worker's runtime ended).
    Closed,
    /// The server the key maps to is marked down after failing, and the
    /// failover policy is [`Failover::Fail`](super::Failover::Fail); it is
    /// tried again after `retry_in`.
    ServerDown {
        /// The server (`host:port`).
        server: String,
        /// Time left until the next attempt.
        retry_in: Duration,
    },
    /// Every server is marked down (or none is configured).
    NoServers,
    /// A malformed configuration (server address, weight).
    Config(String),
}

impl Error {
    pub(crate) fn io(e: io::Error) -> Self {
        Error::Io(Arc::new(e))
    }

    /// True if the connection that produced this error cannot be used any
    /// more, as opposed to a failure of this one request.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Error::Io(_) | Error::Protocol(_) | Error::Closed)
    }

    /// True if the error says the server is unreachable or went away
    /// (I/O failure, closed connection, marked down, timeout): what a
    /// caller treating memcached as a cache may read as a miss.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::Io(_)
                | Error::Protocol(ProtocolError::UnexpectedEof)
                | Error::Closed
                | Error::Timeout
                | Error::PoolTimeout
                | Error::ServerDown { .. }
                | Error::NoServers
        )
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        match e {
            UsageError::Key(k) => Error::InvalidKey(k),
            UsageError::ValueTooLarge { len, limit } => Error::ValueTooLarge { len, limit },
            UsageError::Closed => Error::Closed,
            other => Error::Usage(other),
        }
    }
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Error::InvalidKey(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::io(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "memcached I/O error: {e}"),
            Error::Protocol(e) => write!(f, "memcached protocol error: {e}"),
            Error::Server(e) => write!(f, "memcached error: {e}"),
            Error::InvalidKey(e) => write!(f, "invalid memcached key: {e}"),
            Error::ValueTooLarge { len, limit } => {
                write!(f, "value of {len} bytes exceeds the limit of {limit}")
            }
            Error::Usage(e) => write!(f, "memcached usage error: {e}"),
            Error::UnexpectedResponse(m) => write!(f, "unexpected memcached reply: {m}"),
            Error::Timeout => f.write_str("memcached request timed out"),
            Error::PoolTimeout => f.write_str("timed out waiting for a memcached connection"),
            Error::Closed => f.write_str("memcached connection closed"),
            Error::ServerDown { server, retry_in } => {
                write!(
                    f,
                    "memcached server {server} is down (retry in {retry_in:?})"
                )
            }
            Error::NoServers => f.write_str("no memcached server available"),
            Error::Config(m) => write!(f, "memcached configuration: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(&**e),
            Error::Protocol(e) => Some(e),
            Error::Server(e) => Some(e),
            Error::InvalidKey(e) => Some(e),
            Error::Usage(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e {
            Error::Io(inner) => inner.kind(),
            Error::Timeout | Error::PoolTimeout => io::ErrorKind::TimedOut,
            Error::Closed => io::ErrorKind::NotConnected,
            Error::InvalidKey(_) | Error::ValueTooLarge { .. } | Error::Usage(_) => {
                io::ErrorKind::InvalidInput
            }
            Error::Config(_) => io::ErrorKind::InvalidInput,
            Error::ServerDown { .. } | Error::NoServers => io::ErrorKind::ConnectionRefused,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}
