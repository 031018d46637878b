//! The two error types of the crate: the peer broke the protocol
//! ([`ProtoError`], fatal for the connection) and the caller misused the API
//! ([`UserError`], nothing on the wire changes).

use std::fmt;
use std::io;

use crate::header::StatusCode;

/// What exactly the peer got wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtoErrorKind {
    /// The request line is malformed (RFC 9112 §3).
    BadRequestLine,
    /// The status line is malformed (RFC 9112 §4).
    BadStatusLine,
    /// The method is not a token (RFC 9110 §9.1).
    BadMethod,
    /// The request-target is malformed or does not fit the method
    /// (RFC 9112 §3.2).
    BadTarget,
    /// The HTTP-version is malformed (RFC 9112 §2.3).
    BadVersion,
    /// The major version is not 1 (RFC 9110 §6.2): 505.
    UnsupportedVersion,
    /// The request line is longer than the configured limit: 414.
    RequestLineTooLong,
    /// A field name is not a token, or whitespace precedes the colon
    /// (RFC 9112 §5.1).
    BadHeaderName,
    /// A field value contains NUL, CR, LF or another control character
    /// (RFC 9110 §5.5).
    BadHeaderValue,
    /// A line ends in a bare LF, or contains a bare CR (RFC 9112 §2.2).
    BareLineEnding,
    /// A field line starts with whitespace: obsolete line folding, which a
    /// server must reject (RFC 9112 §5.2).
    ObsFold,
    /// The header section exceeds the configured byte limit: 431.
    HeadersTooLarge,
    /// More header fields than the configured count limit: 431.
    TooManyHeaders,
    /// Both Content-Length and Transfer-Encoding (RFC 9112 §6.3 item 3).
    ContentLengthWithTransferEncoding,
    /// Content-Length is not a list of identical decimal numbers
    /// (RFC 9112 §6.3 item 5).
    BadContentLength,
    /// Transfer-Encoding does not end in a single `chunked` (RFC 9112 §6.3
    /// item 4), or appears in an HTTP/1.0 message (RFC 9112 §6.1).
    BadTransferEncoding,
    /// A transfer coding this implementation does not decode: 501
    /// (RFC 9112 §6.1).
    UnknownTransferCoding,
    /// HTTP/1.1 request without exactly one Host field (RFC 9112 §3.2).
    BadHost,
    /// A chunk-size line, chunk extension or chunk delimiter is malformed
    /// (RFC 9112 §7.1).
    BadChunk,
    /// The message body exceeds the configured limit: 413.
    BodyTooLarge,
    /// The peer closed the connection in the middle of a message.
    UnexpectedEof,
    /// The request header section did not arrive within the header timeout:
    /// 408.
    HeaderTimeout,
    /// The request body stalled for longer than the body timeout: 408.
    BodyTimeout,
    /// A response arrived with no request outstanding (client side).
    UnsolicitedResponse,
}

/// The peer broke the protocol. Fatal for the connection and sticky: the
/// connection stops reading, flushes the responses owed to earlier requests,
/// then (server side) an error response with [`ProtoError::status`], and
/// closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtoError {
    kind: ProtoErrorKind,
    status: StatusCode,
}

impl ProtoError {
    /// An error of `kind`, with the status code RFC 9110/9112 prescribe.
    #[must_use]
    pub fn new(kind: ProtoErrorKind) -> ProtoError {
        use ProtoErrorKind as K;
        let status = match kind {
            K::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            K::RequestLineTooLong => StatusCode::URI_TOO_LONG,
            K::HeadersTooLarge | K::TooManyHeaders => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            K::UnknownTransferCoding => StatusCode::NOT_IMPLEMENTED,
            K::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            K::HeaderTimeout | K::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            _ => StatusCode::BAD_REQUEST,
        };
        ProtoError { kind, status }
    }

    /// What went wrong.
    #[must_use]
    pub fn kind(&self) -> ProtoErrorKind {
        self.kind
    }

    /// The status a server answers with (400, 408, 413, 414, 431, 501, 505).
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<ProtoErrorKind> for ProtoError {
    fn from(kind: ProtoErrorKind) -> Self {
        ProtoError::new(kind)
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HTTP/1.1 protocol error: {:?} ({})",
            self.kind, self.status
        )
    }
}

impl std::error::Error for ProtoError {}

impl From<ProtoError> for io::Error {
    fn from(e: ProtoError) -> io::Error {
        let kind = match e.kind {
            ProtoErrorKind::UnexpectedEof => io::ErrorKind::UnexpectedEof,
            ProtoErrorKind::HeaderTimeout | ProtoErrorKind::BodyTimeout => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e)
    }
}

/// The caller misused the API. Nothing was queued for the wire; the
/// connection is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserError {
    /// No request with this id is awaiting a response (never existed,
    /// already answered, or answered by the connection itself after a
    /// protocol error).
    UnknownRequest,
    /// A response for this request was already started.
    ResponseAlreadyStarted,
    /// Body data or end for a response that is not streaming.
    NotStreaming,
    /// More body bytes than the declared Content-Length, or
    /// [`send_end`](crate::h1::Connection::send_end) before all of them.
    LengthMismatch,
    /// A header name is not a token or a value contains CR, LF, NUL or
    /// another control character (would allow response splitting).
    InvalidHeader,
    /// The head carried a framing header (`Content-Length`,
    /// `Transfer-Encoding`) that the connection computes itself.
    FramingHeader,
    /// 1xx statuses other than 101 go through dedicated methods.
    InvalidStatus,
    /// A new request while the previous request's body is still being
    /// streamed (client side).
    BodyInProgress,
    /// The connection is closed or switched protocols.
    Closed,
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP/1.1 API misuse: {self:?}")
    }
}

impl std::error::Error for UserError {}

impl From<UserError> for io::Error {
    fn from(e: UserError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}
