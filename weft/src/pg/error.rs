//! The driver's error type.

use std::fmt;
use std::io;
use std::sync::Arc;

use proto_pg::types::TypeError;

/// A server `ErrorResponse` with every field the server sent (severity,
/// SQLSTATE code, message, detail, hint, position, schema, table, column,
/// data type, constraint, where, file, line, routine; "Error and Notice
/// Message Fields", 55.8).
pub type DbError = proto_pg::message::backend::ServerError;

/// Everything that can go wrong talking to PostgreSQL.
///
/// `Clone`, so one connection failure can be handed to every request that
/// was waiting on it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed (connect, read or write).
    Io(Arc<io::Error>),
    /// The server answered with an `ErrorResponse`. With severity `ERROR`
    /// only this request failed and the connection is fine; with `FATAL`
    /// (a wrong password, a terminated backend) the connection is closed.
    Db(Arc<DbError>),
    /// The server broke the protocol or authentication failed on our side
    /// (SCRAM signature, unsupported method); the connection is unusable.
    Protocol(proto_pg::Error),
    /// A value could not be converted to or from its PostgreSQL type.
    Type(TypeError),
    /// The request could not be encoded or is not allowed now.
    Usage(proto_pg::UsageError),
    /// No column of that name in the row.
    ColumnNotFound(String),
    /// `query_one`/`query_opt` got a number of rows it does not allow.
    RowCount {
        /// What the call allows.
        expected: &'static str,
        /// How many rows came.
        got: usize,
    },
    /// The statement has a different number of parameters.
    ParamCount {
        /// Parameters of the statement.
        expected: usize,
        /// Parameters given.
        got: usize,
    },
    /// The configuration or DSN is invalid or asks for something
    /// unsupported (TLS).
    Config(String),
    /// No answer within the query or connect timeout. A timed-out query is
    /// cancelled (`CancelRequest`) or its results discarded; the connection
    /// stays usable.
    Timeout,
    /// No pooled connection within the acquire deadline.
    PoolTimeout,
    /// `COMMIT` of a transaction that had failed: the server rolled it
    /// back instead (it answers `ROLLBACK`).
    RolledBack,
    /// The connection is closed: the server closed it or it failed earlier.
    Closed,
}

impl Error {
    /// The server's error, if this is one.
    pub fn as_db(&self) -> Option<&DbError> {
        match self {
            Error::Db(e) => Some(e),
            Error::Protocol(proto_pg::Error::Server(e)) => Some(e),
            _ => None,
        }
    }

    /// The SQLSTATE code of a server error (`23505`, `57014`, ...).
    pub fn code(&self) -> Option<&str> {
        self.as_db().map(|e| e.code.as_str())
    }

    /// True when the connection this came from cannot be used any more.
    pub fn is_closed(&self) -> bool {
        match self {
            Error::Io(_) | Error::Protocol(_) | Error::Closed => true,
            Error::Db(e) => e.is_fatal(),
            _ => false,
        }
    }

    pub(crate) fn io(e: io::Error) -> Error {
        Error::Io(Arc::new(e))
    }

    /// Maps a fatal error of the protocol machine.
    pub(crate) fn from_proto(e: proto_pg::Error) -> Error {
        match e {
            proto_pg::Error::Server(s) => Error::Db(s),
            proto_pg::Error::Closed => Error::Closed,
            e => Error::Protocol(e),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Db(e) => {
                write!(f, "{} {}: {}", e.severity, e.code, e.message)?;
                if let Some(d) = &e.detail {
                    write!(f, " (detail: {d})")?;
                }
                if let Some(h) = &e.hint {
                    write!(f, " (hint: {h})")?;
                }
                Ok(())
            }
            Error::Protocol(e) => write!(f, "{e}"),
            Error::Type(e) => write!(f, "type conversion: {e}"),
            Error::Usage(e) => write!(f, "{e}"),
            Error::ColumnNotFound(c) => write!(f, "no column named {c:?}"),
            Error::RowCount { expected, got } => {
                write!(f, "expected {expected} row(s), got {got}")
            }
            Error::ParamCount { expected, got } => {
                write!(f, "statement takes {expected} parameter(s), {got} given")
            }
            Error::Config(m) => write!(f, "invalid configuration: {m}"),
            Error::Timeout => f.write_str("timed out"),
            Error::PoolTimeout => f.write_str("timed out waiting for a pooled connection"),
            Error::RolledBack => f.write_str("the transaction had failed: COMMIT rolled it back"),
            Error::Closed => f.write_str("connection closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(&**e),
            Error::Db(e) => Some(&**e),
            Error::Protocol(e) => Some(e),
            Error::Type(e) => Some(e),
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

impl From<TypeError> for Error {
    fn from(e: TypeError) -> Self {
        Error::Type(e)
    }
}

impl From<proto_pg::UsageError> for Error {
    fn from(e: proto_pg::UsageError) -> Self {
        match e {
            proto_pg::UsageError::Closed => Error::Closed,
            e => Error::Usage(e),
        }
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Io(inner) => inner.kind(),
            Error::Timeout | Error::PoolTimeout => io::ErrorKind::TimedOut,
            Error::Closed => io::ErrorKind::ConnectionAborted,
            Error::Config(_) | Error::Usage(_) | Error::ParamCount { .. } => {
                io::ErrorKind::InvalidInput
            }
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}
