//! The classic text protocol (memcached `doc/protocol.txt`, "Commands" to
//! "Other commands").
//!
//! [`encode`] builds requests (validated before one byte is written) and, for
//! servers, tests and fuzzing, replies. [`decode()`](decode::decode) reads one reply
//! frame at a time: a whole `VALUE` line plus its data block, one `STAT`
//! line, `END`, a status line, a number or an error line. Grouping frames into
//! per-request responses (`VALUE… END`, `STAT… END`) is the
//! [`Connection`](crate::Connection)'s job.

pub mod decode;
pub mod encode;

pub use decode::decode;

/// One text-protocol reply frame, generic over the byte container: the
/// codec yields `Reply<&[u8]>` borrowing the input ([`Frame`]), the
/// [`Connection`](crate::Connection) turns it into `Reply<Bytes>` slices of
/// the read buffer without copying.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply<B> {
    /// `VALUE <key> <flags> <bytes> [<cas unique>]\r\n<data block>\r\n`
    /// (protocol.txt "Retrieval command").
    Value(Value<B>),
    /// `END`: ends a retrieval or `stats` reply.
    End,
    /// `STORED`.
    Stored,
    /// `NOT_STORED`.
    NotStored,
    /// `EXISTS` (`cas` lost the race).
    Exists,
    /// `NOT_FOUND`.
    NotFound,
    /// `DELETED`.
    Deleted,
    /// `TOUCHED`.
    Touched,
    /// `OK` (`flush_all`, `verbosity`).
    Ok,
    /// `<value>`: the new value after `incr`/`decr` (protocol.txt
    /// "Increment/Decrement").
    Number(u64),
    /// `STAT <name> <value>` (protocol.txt "Statistics").
    Stat {
        /// Statistic name.
        name: B,
        /// Everything after the name (may hold spaces).
        value: B,
    },
    /// `VERSION <version>`.
    Version(B),
    /// `ERROR` or `ERROR <message>`: unknown command (protocol.txt "Error strings").
    Error(B),
    /// `CLIENT_ERROR <message>`.
    ClientError(B),
    /// `SERVER_ERROR <message>`.
    ServerError(B),
}

/// A `VALUE` frame: one hit of a retrieval command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value<B> {
    /// The item's key.
    pub key: B,
    /// The client flags stored with the item.
    pub flags: u32,
    /// The CAS unique, present for `gets`/`gats`.
    pub cas: Option<u64>,
    /// The data block.
    pub data: B,
}

/// A reply frame borrowing the decoder's input.
pub type Frame<'a> = Reply<&'a [u8]>;

impl<B> Reply<B> {
    /// Converts every byte field with `f`, keeping the shape (used to turn
    /// borrowed frames into `Bytes` slices).
    pub fn map<C>(self, mut f: impl FnMut(B) -> C) -> Reply<C> {
        match self {
            Reply::Value(v) => Reply::Value(Value {
                key: f(v.key),
                flags: v.flags,
                cas: v.cas,
                data: f(v.data),
            }),
            Reply::End => Reply::End,
            Reply::Stored => Reply::Stored,
            Reply::NotStored => Reply::NotStored,
            Reply::Exists => Reply::Exists,
            Reply::NotFound => Reply::NotFound,
            Reply::Deleted => Reply::Deleted,
            Reply::Touched => Reply::Touched,
            Reply::Ok => Reply::Ok,
            Reply::Number(n) => Reply::Number(n),
            Reply::Stat { name, value } => Reply::Stat {
                name: f(name),
                value: f(value),
            },
            Reply::Version(v) => Reply::Version(f(v)),
            Reply::Error(m) => Reply::Error(f(m)),
            Reply::ClientError(m) => Reply::ClientError(f(m)),
            Reply::ServerError(m) => Reply::ServerError(f(m)),
        }
    }

    /// A short name for the reply kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Reply::Value(_) => "VALUE",
            Reply::End => "END",
            Reply::Stored => "STORED",
            Reply::NotStored => "NOT_STORED",
            Reply::Exists => "EXISTS",
            Reply::NotFound => "NOT_FOUND",
            Reply::Deleted => "DELETED",
            Reply::Touched => "TOUCHED",
            Reply::Ok => "OK",
            Reply::Number(_) => "number",
            Reply::Stat { .. } => "STAT",
            Reply::Version(_) => "VERSION",
            Reply::Error(_) => "ERROR",
            Reply::ClientError(_) => "CLIENT_ERROR",
            Reply::ServerError(_) => "SERVER_ERROR",
        }
    }
}
