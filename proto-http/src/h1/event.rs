//! What the server connection reports to the application.

use std::fmt;

use bytes::Bytes;

use crate::error::ProtoError;

use super::head::{Headers, RequestHead};

/// Identifies one request on a connection; ids increase by one per request,
/// and responses go out in id order whatever order they are produced in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub(crate) u64);

impl RequestId {
    /// The number (0 for the first request on the connection).
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// An arbitrary id, for tests of misuse handling.
    #[doc(hidden)]
    #[must_use]
    pub fn from_u64_for_tests(n: u64) -> RequestId {
        RequestId(n)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "req#{}", self.0)
    }
}

/// An event of the server [`Connection`](super::Connection).
///
/// For each request: one `Request`, zero or more `Body`, then `BodyEnd`
/// (even for a request without content), unless an `Error` naming it comes
/// first. The head is inline rather than boxed so that the hot path
/// allocates nothing.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// A request head. Answer it with
    /// [`send_response`](super::Connection::send_response).
    Request {
        /// The request.
        id: RequestId,
        /// Its head, a zero-copy view of the read buffer.
        head: RequestHead,
    },
    /// A piece of the request body (a zero-copy slice of the read buffer).
    Body {
        /// The request.
        id: RequestId,
        /// The data.
        chunk: Bytes,
    },
    /// The request body is complete.
    BodyEnd {
        /// The request.
        id: RequestId,
        /// The trailer section of a chunked body, if non-empty.
        trailers: Option<Box<Headers>>,
    },
    /// The switching response (101, or 2xx to CONNECT) for `id` has been
    /// handed to `poll_transmit`; every byte after the request that is (or
    /// will be) in the caller's read buffer belongs to the new protocol (for
    /// h2c: the HTTP/2 connection preface and frames).
    Switched {
        /// The request that asked to switch.
        id: RequestId,
    },
    /// The peer broke the protocol (or timed out). No more requests are
    /// read; after the responses owed to earlier requests, the connection
    /// sends an error response with `error.status()` (unless the response
    /// to `id` had already started) and closes.
    Error {
        /// The request whose body was being read, if any.
        id: Option<RequestId>,
        /// What went wrong.
        error: ProtoError,
    },
}

/// [`Event`] as queued inside the connection: the same, minus the request
/// head, which is queued separately.
#[derive(Debug)]
pub(crate) enum Queued {
    Request {
        id: RequestId,
    },
    Body {
        id: RequestId,
        chunk: Bytes,
    },
    BodyEnd {
        id: RequestId,
        trailers: Option<Box<Headers>>,
    },
    Switched {
        id: RequestId,
    },
    Error {
        id: Option<RequestId>,
        error: ProtoError,
    },
}

#[cfg(test)]
mod tests {
    #[test]
    fn queued_events_stay_small() {
        // An idle keep-alive connection keeps its event queue's capacity;
        // only the (few) heads are large.
        assert!(
            std::mem::size_of::<super::Queued>() <= 64,
            "{}",
            std::mem::size_of::<super::Queued>()
        );
    }
}
