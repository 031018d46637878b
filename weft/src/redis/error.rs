//! The driver's error type.

use std::fmt;
use std::io;
use std::sync::Arc;

/// An error reply from the server (`-WRONGTYPE Operation against a key ...`),
/// split into its code (the first word, by Redis convention upper case) and
/// the rest of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    code: String,
    message: String,
}

impl ServerError {
    /// Parses an error line.
    pub fn parse(line: &[u8]) -> Self {
        let line = String::from_utf8_lossy(line);
        let (code, message) = match line.split_once(' ') {
            Some((c, m)) => (c.to_owned(), m.to_owned()),
            None => (line.into_owned(), String::new()),
        };
        ServerError { code, message }
    }

    /// The error code: `ERR`, `WRONGTYPE`, `NOSCRIPT`, `EXECABORT`, ...
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The text after the code.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{} {}", self.code, self.message)
        }
    }
}

/// Everything that can go wrong talking to Redis.
///
/// `Clone`, so one failure can be handed to every request that was waiting
/// on the connection it broke.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed (connect, read or write).
    Io(Arc<io::Error>),
    /// The server broke the protocol or refused the handshake (AUTH, HELLO,
    /// SELECT); the connection is unusable.
    Protocol(proto_resp::Error),
    /// The server answered this request with an error reply; the connection
    /// is fine.
    Server(ServerError),
    /// The reply did not have the shape the caller asked for (e.g. a string
    /// where an integer was expected).
    Type(String),
    /// No reply within the response timeout. The request's reply will be
    /// discarded when it arrives (or its connection closed).
    Timeout,
    /// No pooled connection within the acquire deadline.
    PoolTimeout,
    /// `EXEC` returned null: a `WATCH`ed key changed, nothing was executed.
    TransactionAborted,
    /// `EVALSHA` still reported `NOSCRIPT` after the script was loaded.
    NoScript(ServerError),
    /// The connection is closed: the server closed it, or it was discarded
    /// (an earlier failure, or a cancelled blocking command).
    Closed,
    /// The command cannot be used this way (e.g. `MONITOR` on a pipelined
    /// connection).
    Usage(proto_resp::UsageError),
    /// A malformed connection URL or configuration.
    Config(String),
    /// A cluster command's keys fall into several hash slots and Redis
    /// cannot run it split (cluster specification, "Multi-key operations";
    /// use `{hash tags}` to keep keys together).
    CrossSlot,
    /// More `MOVED`/`ASK` redirects than
    /// [`ClusterConfig::max_redirects`](super::ClusterConfig::max_redirects).
    TooManyRedirects,
    /// The cluster cannot serve the request: no reachable node knows the
    /// slot map, or no node serves the slot.
    Cluster(String),
    /// The command has no meaning on this kind of client (`SCAN` or
    /// `SELECT` on a cluster client); the text says what to use instead.
    Unsupported(&'static str),
    /// No sentinel answered, or none knows the monitored primary.
    NoSentinel(String),
}

impl Error {
    pub(crate) fn io(e: io::Error) -> Self {
        Error::Io(Arc::new(e))
    }

    /// The server error's code (`WRONGTYPE`, ...), for [`Error::Server`] and
    /// [`Error::NoScript`].
    pub fn server_code(&self) -> Option<&str> {
        match self {
            Error::Server(e) | Error::NoScript(e) => Some(e.code()),
            _ => None,
        }
    }

    /// True if the connection that produced this error cannot be used any
    /// more (as opposed to a per-request failure).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Error::Io(_) | Error::Protocol(_) | Error::Closed)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "redis I/O error: {e}"),
            Error::Protocol(e) => write!(f, "redis protocol error: {e}"),
            Error::Server(e) => write!(f, "redis error: {e}"),
            Error::Type(m) => write!(f, "unexpected redis reply: {m}"),
            Error::Timeout => f.write_str("redis request timed out"),
            Error::PoolTimeout => f.write_str("timed out waiting for a redis connection"),
            Error::TransactionAborted => {
                f.write_str("redis transaction aborted (a watched key changed)")
            }
            Error::NoScript(e) => write!(f, "redis script missing after reload: {e}"),
            Error::Closed => f.write_str("redis connection closed"),
            Error::Usage(e) => write!(f, "redis usage error: {e}"),
            Error::Config(m) => write!(f, "redis configuration error: {m}"),
            Error::CrossSlot => {
                f.write_str("redis cluster: the keys of this command are in different slots")
            }
            Error::TooManyRedirects => f.write_str("redis cluster: too many MOVED/ASK redirects"),
            Error::Cluster(m) => write!(f, "redis cluster unavailable: {m}"),
            Error::Unsupported(m) => write!(f, "not supported here: {m}"),
            Error::NoSentinel(m) => write!(f, "redis sentinel: {m}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(&**e),
            Error::Protocol(e) => Some(e),
            Error::Usage(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::io(e)
    }
}

impl From<proto_resp::Error> for Error {
    fn from(e: proto_resp::Error) -> Self {
        Error::Protocol(e)
    }
}

impl From<proto_resp::UsageError> for Error {
    fn from(e: proto_resp::UsageError) -> Self {
        match e {
            proto_resp::UsageError::Closed => Error::Closed,
            e => Error::Usage(e),
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Io(inner) => inner.kind(),
            Error::Protocol(_) | Error::Type(_) => io::ErrorKind::InvalidData,
            Error::Server(_) | Error::NoScript(_) | Error::TransactionAborted => {
                io::ErrorKind::Other
            }
            Error::Timeout | Error::PoolTimeout => io::ErrorKind::TimedOut,
            Error::CrossSlot | Error::Unsupported(_) => io::ErrorKind::InvalidInput,
            Error::TooManyRedirects | Error::Cluster(_) | Error::NoSentinel(_) => {
                io::ErrorKind::NotConnected
            }
            Error::Closed => io::ErrorKind::NotConnected,
            Error::Usage(_) | Error::Config(_) => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_error_splits_code() {
        let e = ServerError::parse(b"WRONGTYPE Operation against a key");
        assert_eq!(e.code(), "WRONGTYPE");
        assert_eq!(e.message(), "Operation against a key");
        assert_eq!(e.to_string(), "WRONGTYPE Operation against a key");
        let e = ServerError::parse(b"NOAUTH");
        assert_eq!((e.code(), e.message()), ("NOAUTH", ""));
    }

    #[test]
    fn converts_to_io() {
        let io: io::Error = Error::Timeout.into();
        assert_eq!(io.kind(), io::ErrorKind::TimedOut);
        let io: io::Error = Error::io(io::ErrorKind::ConnectionReset.into()).into();
        assert_eq!(io.kind(), io::ErrorKind::ConnectionReset);
        let io: io::Error = Error::Closed.into();
        assert_eq!(io.kind(), io::ErrorKind::NotConnected);
    }
}
