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
    pub(crate) body: Payload,
}

/// A response body: whole, or streamed. (An enum the size of `Bytes`
/// alone: the stream fits beside `Bytes`'s niche, so the common response
/// moves no more bytes for the option.)
#[derive(Debug)]
pub(crate) enum Payload {
    Full(Bytes),
    Stream(StreamBody),
}

const _: () = assert!(std::mem::size_of::<Payload>() == std::mem::size_of::<Bytes>());

/// What [`Response::body_bytes`] shows of a streamed body.
static NO_BYTES: Bytes = Bytes::new();

impl Response {
    /// A response with `status`, no headers and an empty body.
    #[inline]
    pub fn status(status: StatusCode) -> Self {
        Self::full(status, None, Bytes::new())
    }

    /// Built in one step (no empty body made and then replaced).
    #[inline]
    fn full(status: StatusCode, content_type: Option<&'static str>, body: Bytes) -> Self {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body: Payload::Full(body),
        }
    }

    /// `200 OK` with a body sent as `body` produces it (chunked on
    /// HTTP/1.1, DATA frames on HTTP/2); see [`body::channel`](super::body::channel).
    pub fn stream(body: impl BodyStream) -> Self {
        let mut resp = Self::status(StatusCode::OK);
        resp.body = Payload::Stream(StreamBody::new(body));
        resp
    }

    /// `200 OK`, `text/plain; charset=utf-8`.
    #[inline]
    pub fn text(body: impl Into<Bytes>) -> Self {
        Self::full(
            StatusCode::OK,
            Some("text/plain; charset=utf-8"),
            body.into(),
        )
    }

    /// `200 OK`, `application/json` (the body is already serialised).
    #[inline]
    pub fn json(body: impl Into<Bytes>) -> Self {
        Self::full(StatusCode::OK, Some("application/json"), body.into())
    }

    /// `200 OK`, `text/html; charset=utf-8`.
    #[inline]
    pub fn html(body: impl Into<Bytes>) -> Self {
        Self::full(
            StatusCode::OK,
            Some("text/html; charset=utf-8"),
            body.into(),
        )
    }

    /// Sets the status.
    #[inline]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Sets `Content-Type`.
    #[inline]
    pub fn content_type(mut self, value: &'static str) -> Self {
        self.content_type = Some(value);
        self
    }

    /// Adds a header. Framing headers (`Content-Length`,
    /// `Transfer-Encoding`) are the connection's; adding them is refused when
    /// the response is sent.
    #[inline]
    pub fn header(
        mut self,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<HeaderValue>,
    ) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[inline]
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = Payload::Full(body.into());
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
        match &self.body {
            Payload::Full(b) => b,
            Payload::Stream(_) => &NO_BYTES,
        }
    }

    /// The streamed body, taken out (the response keeps an empty one).
    pub(crate) fn take_stream(&mut self) -> Option<StreamBody> {
        if !matches!(self.body, Payload::Stream(_)) {
            return None;
        }
        match std::mem::replace(&mut self.body, Payload::Full(Bytes::new())) {
            Payload::Stream(s) => Some(s),
            Payload::Full(_) => None,
        }
    }

    /// Whether the body is streamed ([`Response::stream`]).
    pub fn is_streamed(&self) -> bool {
        matches!(self.body, Payload::Stream(_))
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
