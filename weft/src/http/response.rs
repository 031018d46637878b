//! [`Response`]: what a handler returns.

use super::body::{BodyStream, StreamBody};
use bytes::Bytes;
use proto_http::StatusCode;
use std::borrow::Cow;

/// A header value in a response: static text costs nothing.
pub type HeaderValue = Cow<'static, [u8]>;

/// An HTTP response: status, headers and a body, held whole or streamed
/// ([`Response::stream`]).
///
/// The common shapes are one call: [`Response::text`], [`Response::json`],
/// [`Response::html`], [`Response::status`]. `Content-Length` (or chunked
/// framing), `Date` and `Server` are added by the connection, not here.
#[derive(Debug)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<&'static str>,
    pub(crate) headers: Vec<(Cow<'static, str>, HeaderValue)>,
    pub(crate) body: Bytes,
    pub(crate) stream: Option<StreamBody>,
}

impl Response {
    /// A response with `status`, no headers and an empty body.
    pub fn status(status: StatusCode) -> Self {
        Response {
            status,
            content_type: None,
            headers: Vec::new(),
            body: Bytes::new(),
            stream: None,
        }
    }

    /// `200 OK` with a body sent as `body` produces it (chunked on
    /// HTTP/1.1, DATA frames on HTTP/2); see [`body::channel`](super::body::channel).
    pub fn stream(body: impl BodyStream) -> Self {
        let mut resp = Self::status(StatusCode::OK);
        resp.stream = Some(StreamBody::new(body));
        resp
    }

    /// `200 OK`, `text/plain; charset=utf-8`.
    pub fn text(body: impl Into<Bytes>) -> Self {
        Self::status(StatusCode::OK)
            .content_type("text/plain; charset=utf-8")
            .body(body)
    }

    /// `200 OK`, `application/json` (the body is already serialised).
    pub fn json(body: impl Into<Bytes>) -> Self {
        Self::status(StatusCode::OK)
            .content_type("application/json")
            .body(body)
    }

    /// `200 OK`, `text/html; charset=utf-8`.
    pub fn html(body: impl Into<Bytes>) -> Self {
        Self::status(StatusCode::OK)
            .content_type("text/html; charset=utf-8")
            .body(body)
    }

    /// Sets the status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Sets `Content-Type`.
    pub fn content_type(mut self, value: &'static str) -> Self {
        self.content_type = Some(value);
        self
    }

    /// Adds a header. Framing headers (`Content-Length`,
    /// `Transfer-Encoding`) are the connection's; adding them is refused when
    /// the response is sent.
    pub fn header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<HeaderValue>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self.stream = None;
        self
    }

    /// The status.
    pub fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The `Content-Type`, if set.
    pub fn content_type_value(&self) -> Option<&'static str> {
        self.content_type
    }

    /// The extra headers, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// The body (empty for a streamed one).
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }

    /// Whether the body is streamed ([`Response::stream`]).
    pub fn is_streamed(&self) -> bool {
        self.stream.is_some()
    }
}

impl From<&'static str> for Response {
    fn from(s: &'static str) -> Self {
        Response::text(s)
    }
}

impl From<String> for Response {
    fn from(s: String) -> Self {
        Response::text(s)
    }
}

impl From<StatusCode> for Response {
    fn from(s: StatusCode) -> Self {
        Response::status(s)
    }
}
