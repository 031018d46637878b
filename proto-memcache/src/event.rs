//! What a [`Connection`](crate::Connection) reports: one [`Response`] per
//! request, whatever the protocol flavour.

use bytes::Bytes;

use crate::binary::Status;
use crate::error::ProtocolError;
use crate::meta;

/// Identifies a request issued on a [`Connection`](crate::Connection);
/// increasing in issue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReqId(pub(crate) u64);

impl ReqId {
    /// The raw sequence number.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// One hit of a retrieval (`get`, `gets`, `gat`, `gats`, `mg`, binary get).
/// `key` and `value` are slices of the read buffer, not copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The key as returned by the server.
    pub key: Bytes,
    /// Client flags stored with the item.
    pub flags: u32,
    /// CAS unique, when the request asked for it (always present in the
    /// binary protocol).
    pub cas: Option<u64>,
    /// The data.
    pub value: Bytes,
}

/// One `STAT <name> <value>` line (or binary stat packet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Statistic name.
    pub name: Bytes,
    /// Its value, as text.
    pub value: Bytes,
}

/// Which kind of per-request error the server sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerErrorKind {
    /// `ERROR`: the server did not know the command.
    Error,
    /// `CLIENT_ERROR`: the server rejected the request's format.
    Client,
    /// `SERVER_ERROR`: the server failed to carry it out (for example
    /// "object too large for cache", "out of memory").
    Server,
    /// A binary response with a non-zero status this crate does not map to
    /// a plain [`Response`] (for example `VALUE_TOO_LARGE`, `NON_NUMERIC`).
    Status(Status),
}

/// A server's answer that this one request failed. The connection stays
/// usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// Error kind.
    pub kind: ServerErrorKind,
    /// The server's message (may be empty).
    pub message: Bytes,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}: {}",
            self.kind,
            String::from_utf8_lossy(&self.message)
        )
    }
}

impl std::error::Error for ServerError {}

/// The outcome of one request, the same across the three protocol flavours
/// (the text protocol's words are the reference: a binary `add` of a present
/// key says "key exists", reported here as [`Response::NotStored`] as the
/// text and meta protocols do).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// Stored.
    Stored,
    /// Not stored: the `add`/`replace`/`append`/`prepend` condition failed.
    NotStored,
    /// CAS mismatch: the item changed since it was read.
    Exists,
    /// No such item.
    NotFound,
    /// Deleted.
    Deleted,
    /// Touched.
    Touched,
    /// `OK` (`flush_all`, `verbosity`), or the no-op answer (`mn`, binary noop).
    Ok,
    /// The request was sent with `noreply`/quiet and its (success) reply was
    /// suppressed.
    NoReply,
    /// Retrieval hits, in reply order; a missing key simply has no item.
    Values(Vec<Item>),
    /// The new counter value after `incr`/`decr`.
    Counter(u64),
    /// `stats` lines.
    Stats(Vec<Stat>),
    /// The server version.
    Version(Bytes),
    /// The reply to a raw meta command ([`Connection::meta`](crate::Connection::meta)).
    /// A quiet request whose reply was suppressed gets the suppressed reply:
    /// `EN` for `mg`, `HD` for `ms`, `md`, `ma` (with no flags).
    Meta(meta::Reply<Bytes>),
    /// The server refused or failed this request.
    Error(ServerError),
}

/// Something the caller must act on, from [`Connection::poll_event`](crate::Connection::poll_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A request completed.
    Response {
        /// The request.
        id: ReqId,
        /// Its outcome.
        response: Response,
    },
    /// A request will never complete: the connection failed (the error is
    /// also returned by the `handle_*` call that found it).
    Aborted {
        /// The request.
        id: ReqId,
        /// Why.
        error: ProtocolError,
    },
}
