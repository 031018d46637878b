//! [`Request`]: what a handler receives.

use bytes::Bytes;
use proto_http::Method;
use proto_http::h1::{RequestHead, Version};
use std::sync::Arc;

/// Route parameters captured by `:name` segments.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    items: Vec<(Arc<str>, usize, usize)>,
}

impl Params {
    pub(crate) fn push(&mut self, name: Arc<str>, start: usize, end: usize) {
        self.items.push((name, start, end));
    }
    pub(crate) fn truncate(&mut self, len: usize) {
        self.items.truncate(len);
    }
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
    #[cfg(test)]
    pub(crate) fn items_for_test(&self) -> impl Iterator<Item = (&str, usize, usize)> {
        self.items.iter().map(|(n, s, e)| (&**n, *s, *e))
    }
}

/// An HTTP request with its whole body.
///
/// Header and target bytes are slices of the connection's read buffer (no
/// copy); the body is collected up to the server's body limit before the
/// handler runs.
#[derive(Debug)]
pub struct Request {
    head: RequestHead,
    body: Bytes,
    params: Params,
}

impl Request {
    /// Builds a request from a parsed head and body.
    pub fn new(head: RequestHead, body: Bytes) -> Self {
        Request {
            head,
            body,
            params: Params::default(),
        }
    }

    pub(crate) fn set_params(&mut self, params: Params) {
        self.params = params;
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.head.method()
    }

    /// The method's spelling (for extension methods).
    pub fn method_str(&self) -> &str {
        std::str::from_utf8(self.head.method_bytes()).unwrap_or("")
    }

    /// The path of the request target, without the query.
    pub fn path(&self) -> &str {
        std::str::from_utf8(self.head.path()).unwrap_or("")
    }

    /// The query string (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.head.query().and_then(|q| std::str::from_utf8(q).ok())
    }

    /// The first value of query parameter `name` (not percent-decoded).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    }

    /// The value of route parameter `name` (from a `:name` segment).
    pub fn param(&self, name: &str) -> Option<&str> {
        let path = self.path();
        self.params
            .items
            .iter()
            .find(|(n, _, _)| &**n == name)
            .and_then(|&(_, s, e)| path.get(s..e))
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.head.headers().get(name)
    }

    /// Every header, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.head.headers().iter()
    }

    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.head.version()
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Takes the body out.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The parsed head.
    pub fn head(&self) -> &RequestHead {
        &self.head
    }
}
