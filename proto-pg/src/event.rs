//! Events a [`Connection`](crate::Connection) hands to its caller.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::message::Format;
use crate::message::backend::{
    DataRow, ParameterDescription, RowDescription, ServerError, TransactionStatus,
};

/// Identifies one request (a command verb's return value). Responses are
/// matched to requests in FIFO order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReqId(pub u64);

impl fmt::Display for ReqId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An asynchronous `NotificationResponse` (`LISTEN`/`NOTIFY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Process ID of the notifying backend.
    pub process_id: i32,
    /// Channel name.
    pub channel: String,
    /// Payload.
    pub payload: String,
}

/// Something the caller should know. Request events carry the [`ReqId`];
/// every request ends with exactly one [`Event::Done`] or
/// [`Event::Failed`]. Connection events (`Connected`, `ParameterStatus`,
/// `Notice`, `Notification`) are never attached to a request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// Start-up finished: requests may be sent.
    Connected,
    /// A run-time parameter changed (or was reported at start-up).
    ParameterStatus {
        /// Parameter name, e.g. `TimeZone`.
        name: String,
        /// New value.
        value: String,
    },
    /// A `NoticeResponse` (warnings, `RAISE NOTICE`).
    Notice(Box<ServerError>),
    /// A `NotificationResponse`.
    Notification(Notification),
    /// `ParameterDescription` from describing a statement.
    ParameterDescription {
        /// The request.
        id: ReqId,
        /// Parameter type OIDs.
        types: ParameterDescription,
    },
    /// `RowDescription`: the columns of the rows that follow.
    RowDescription {
        /// The request.
        id: ReqId,
        /// Column descriptions.
        columns: RowDescription,
    },
    /// `NoData`: the described statement or portal returns no rows.
    NoData {
        /// The request.
        id: ReqId,
    },
    /// A `DataRow`; its columns are slices of the read buffer.
    Row {
        /// The request.
        id: ReqId,
        /// The row.
        row: DataRow,
    },
    /// `CommandComplete` for one statement.
    CommandComplete {
        /// The request.
        id: ReqId,
        /// Command tag, e.g. `SELECT 2`.
        tag: String,
    },
    /// `EmptyQueryResponse`: the query string was empty.
    EmptyQuery {
        /// The request.
        id: ReqId,
    },
    /// `PortalSuspended`: the `Execute` row limit was reached; execute the
    /// portal again for more.
    PortalSuspended {
        /// The request.
        id: ReqId,
    },
    /// `CopyInResponse`: send data with `copy_data`, then `copy_done` or
    /// `copy_fail`.
    CopyIn {
        /// The request.
        id: ReqId,
        /// Overall format.
        format: Format,
        /// Per-column formats.
        column_formats: Vec<Format>,
    },
    /// `CopyOutResponse`: `CopyData` events follow, then `CopyDone`.
    CopyOut {
        /// The request.
        id: ReqId,
        /// Overall format.
        format: Format,
        /// Per-column formats.
        column_formats: Vec<Format>,
    },
    /// A chunk of COPY TO STDOUT data (a slice of the read buffer).
    CopyData {
        /// The request.
        id: ReqId,
        /// The chunk.
        data: Bytes,
    },
    /// The server finished sending COPY data.
    CopyDone {
        /// The request.
        id: ReqId,
    },
    /// `FunctionCallResponse`: the result of a fast-path function call.
    FunctionResult {
        /// The request.
        id: ReqId,
        /// The result; `None` is NULL.
        value: Option<Bytes>,
    },
    /// The request finished successfully.
    Done {
        /// The request.
        id: ReqId,
        /// The transaction status, for requests that end in
        /// `ReadyForQuery` (simple queries and syncs).
        status: Option<TransactionStatus>,
    },
    /// The request failed: the server's `ErrorResponse`. Requests in the
    /// same extended-query sync block that the server skipped carry the
    /// same error.
    Failed {
        /// The request.
        id: ReqId,
        /// The server's error.
        error: Arc<ServerError>,
        /// True when this request was skipped because an earlier one in
        /// its sync block failed.
        skipped: bool,
    },
}

impl Event {
    /// The request this event belongs to, if any.
    pub fn request(&self) -> Option<ReqId> {
        match self {
            Event::Connected
            | Event::ParameterStatus { .. }
            | Event::Notice(_)
            | Event::Notification(_) => None,
            Event::ParameterDescription { id, .. }
            | Event::RowDescription { id, .. }
            | Event::NoData { id }
            | Event::Row { id, .. }
            | Event::CommandComplete { id, .. }
            | Event::EmptyQuery { id }
            | Event::PortalSuspended { id }
            | Event::CopyIn { id, .. }
            | Event::CopyOut { id, .. }
            | Event::CopyData { id, .. }
            | Event::CopyDone { id }
            | Event::FunctionResult { id, .. }
            | Event::Done { id, .. }
            | Event::Failed { id, .. } => Some(*id),
        }
    }

    /// True for the last event of a request (`Done` or `Failed`).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Event::Done { .. } | Event::Failed { .. })
    }
}
