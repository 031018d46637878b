//! [`Request`]: what a handler receives.

use bytes::Bytes;
use proto_http::Method;
use proto_http::h1::{Headers, RequestHead, Version};
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
///
/// One pointer wide: the head, body and route parameters live in a box
/// recycled per thread, so handing a request to the router, the
/// handler and the handler's future moves eight bytes rather than copying
/// a few hundred (what those copies cost is in `BENCHMARKS.md`, HTTP/1.1
/// third pass), and steady serving allocates nothing.
pub struct Request {
    /// Always `Some(Some(..))` until dropped; the outer `Option` lets
    /// `drop` move the box out, the inner one lets the box be emptied in
    /// place before it is kept for reuse.
    slot: Option<Box<Option<Parts>>>,
}

/// What a [`Request`] holds.
#[derive(Debug)]
struct Parts {
    head: RequestHead,
    body: Bytes,
    params: Params,
    /// The trailer section of a chunked HTTP/1.1 body, when one was sent.
    trailers: Option<Box<Headers>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.parts().fmt(f)
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if let Some(mut slot) = self.slot.take() {
            // Emptied in place (the head's slice of the read buffer is let
            // go now), then kept for the next request on this thread.
            *slot = None;
            spare::give(slot);
        }
    }
}

/// The per-thread list of empty request boxes.
mod spare {
    use super::Parts;
    use std::cell::RefCell;

    /// Boxes kept per thread: one per request in flight on the worker.
    const MAX_SPARE: usize = 256;

    thread_local! {
        // The boxes are the point: each is the allocation a request reuses.
        #[allow(clippy::vec_box)]
        static SPARE: RefCell<Vec<Box<Option<Parts>>>> = const { RefCell::new(Vec::new()) };
    }

    /// An empty box, recycled when one is spare.
    pub(super) fn take() -> Box<Option<Parts>> {
        SPARE
            .try_with(|s| s.try_borrow_mut().ok()?.pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| Box::new(None))
    }

    /// Keeps an empty box for [`take`], unless the list is full or the
    /// thread is exiting.
    pub(super) fn give(b: Box<Option<Parts>>) {
        debug_assert!(b.is_none());
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if s.len() < MAX_SPARE {
                    s.push(b);
                }
            }
        });
    }
}

impl Request {
    /// Builds a request from a parsed head and body.
    pub fn new(head: RequestHead, body: Bytes) -> Self {
        let mut slot = spare::take();
        *slot = Some(Parts {
            head,
            body,
            params: Params::default(),
            trailers: None,
        });
        Request { slot: Some(slot) }
    }

    fn parts(&self) -> &Parts {
        match self.slot.as_deref() {
            Some(Some(p)) => p,
            _ => unreachable!("a request is emptied only when dropped"),
        }
    }

    fn parts_mut(&mut self) -> &mut Parts {
        match self.slot.as_deref_mut() {
            Some(Some(p)) => p,
            _ => unreachable!("a request is emptied only when dropped"),
        }
    }

    pub(crate) fn set_params(&mut self, params: Params) {
        self.parts_mut().params = params;
    }

    pub(crate) fn set_trailers(&mut self, trailers: Box<Headers>) {
        self.parts_mut().trailers = Some(trailers);
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.parts().head.method()
    }

    /// The method's spelling (for extension methods).
    pub fn method_str(&self) -> &str {
        std::str::from_utf8(self.parts().head.method_bytes()).unwrap_or("")
    }

    /// The path of the request target, without the query.
    pub fn path(&self) -> &str {
        std::str::from_utf8(self.parts().head.path()).unwrap_or("")
    }

    /// The query string (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.parts()
            .head
            .query()
            .and_then(|q| std::str::from_utf8(q).ok())
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
        self.parts()
            .params
            .items
            .iter()
            .find(|(n, _, _)| &**n == name)
            .and_then(|&(_, s, e)| path.get(s..e))
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.parts().head.headers().get(name)
    }

    /// Every header, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.parts().head.headers().iter()
    }

    /// The first value of trailer field `name` (case-insensitive): fields
    /// sent after a chunked HTTP/1.1 body (RFC 9112 §7.1.2).
    pub fn trailer(&self, name: &str) -> Option<&[u8]> {
        self.parts().trailers.as_ref()?.get(name)
    }

    /// Every trailer field, in order (none unless the body was chunked and
    /// ended with a trailer section).
    pub fn trailers(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.parts().trailers.iter().flat_map(|t| t.iter())
    }

    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.parts().head.version()
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.parts().body
    }

    /// Takes the body out.
    pub fn into_body(mut self) -> Bytes {
        std::mem::take(&mut self.parts_mut().body)
    }

    /// The parsed head.
    pub fn head(&self) -> &RequestHead {
        &self.parts().head
    }
}
