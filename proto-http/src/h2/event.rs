//! What the HTTP/2 server connection reports to the application.

use bytes::Bytes;

use super::ErrorCode;
use super::error::ConnError;
use super::frame::StreamId;
use crate::h1::{Headers, RequestHead};

/// An event of the [`ServerConnection`](super::ServerConnection).
///
/// For each stream: one `Request`, zero or more `Data`, then `End`, unless a
/// `Reset` naming it comes first (after which nothing more is said about it
/// and commands on it fail). Answer a `Request` with
/// [`send_response`](super::ServerConnection::send_response) at any time,
/// even before its `End`.
#[derive(Debug)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// A request head (RFC 9113 §8.3.1). Its [`RequestHead::version`] is
    /// [`Version::H2`](crate::h1::Version::H2); `:authority` appears as a
    /// `host` field when the request had none; the body framing is
    /// `Length(n)` with `content-length`, `Length(0)` when the HEADERS ended
    /// the stream, `UntilEof` (the stream's end) otherwise.
    Request {
        /// The stream.
        stream: StreamId,
        /// The head.
        head: RequestHead,
        /// The HEADERS frame ended the stream: the request has no body,
        /// and its `End` is the next event.
        end_stream: bool,
    },
    /// A piece of the request body (a zero-copy slice of the read buffer).
    /// Its flow-control credit goes back to the peer when it is polled.
    Data {
        /// The stream.
        stream: StreamId,
        /// The data.
        data: Bytes,
    },
    /// The request is complete (END_STREAM), with its trailers if any.
    End {
        /// The stream.
        stream: StreamId,
        /// Trailer fields (RFC 9113 §8.1).
        trailers: Option<Box<Headers>>,
    },
    /// The stream is gone before its response completed: the peer reset it,
    /// or the connection did (a stream error, RFC 9113 §5.4.2). Drop its
    /// handler.
    Reset {
        /// The stream.
        stream: StreamId,
        /// The error code sent or received.
        code: ErrorCode,
    },
    /// The peer sent GOAWAY (RFC 9113 §6.8); open streams still complete.
    GoAway {
        /// The error code it carried.
        code: ErrorCode,
    },
    /// The peer broke the protocol; a GOAWAY is queued and the connection
    /// closes once it is written. Every open stream is gone.
    Error {
        /// What went wrong.
        error: ConnError,
    },
}
