//! Parsed message heads. They own one `Bytes` slice of the read buffer and
//! an index of byte ranges into it, so parsing copies nothing. The index
//! keeps [`INLINE_FIELDS`] fields inline and the rest in a vector recycled
//! per thread ([`spill`]), so a steady stream of requests allocates nothing
//! and a head stays small enough to move cheaply.

use std::fmt;

use bytes::Bytes;

use crate::header::{Method, StatusCode};

/// How many fields the index stores inline; more go to a recycled vector.
///
/// Small on purpose: a head is moved several times between the parser and
/// a handler (event queue, request, handler future), and each move copies
/// it. Eight covers curl, wrk, load balancers' health checks and most API
/// clients; a browser's dozen fields take one vector from the thread's
/// spare list and give it back when the head is dropped.
pub const INLINE_FIELDS: usize = 8;

/// A byte range `start..end` into the head buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Span {
        // Heads are bounded by `Limits::max_head_bytes`, far below 4 GiB;
        // the parser rejects larger limits' inputs long before this.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    #[inline]
    pub(crate) fn get(self, buf: &[u8]) -> &[u8] {
        &buf[self.start as usize..self.end as usize]
    }

    /// Length in bytes.
    #[inline]
    pub(crate) fn len(self) -> u32 {
        self.end.wrapping_sub(self.start)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FieldSpan {
    pub(crate) name: Span,
    pub(crate) value: Span,
}

/// Field index: [`INLINE_FIELDS`] spans inline, the rest in `spill`.
#[derive(Clone)]
pub(crate) struct FieldIndex {
    inline: [FieldSpan; INLINE_FIELDS],
    len: u32,
    spill: Vec<FieldSpan>,
}

impl Default for FieldIndex {
    fn default() -> Self {
        FieldIndex {
            inline: [FieldSpan::default(); INLINE_FIELDS],
            len: 0,
            spill: Vec::new(),
        }
    }
}

impl Drop for FieldIndex {
    #[inline]
    fn drop(&mut self) {
        if self.spill.capacity() != 0 {
            spill::give(std::mem::take(&mut self.spill));
        }
    }
}

impl FieldIndex {
    /// Appends a field. Inlined into the parser's loop so the span goes
    /// from registers straight into the array (passed through memory, it
    /// was written in 4-byte pieces and read back whole, which stalls).
    #[inline(always)]
    pub(crate) fn push(&mut self, f: FieldSpan) {
        if let Some(slot) = self.inline.get_mut(self.len as usize) {
            *slot = f;
        } else if self.spill.len() < self.spill.capacity() {
            self.spill.push(f);
        } else {
            self.push_spill(f);
        }
        // At most `Limits::max_headers` fields reach the index.
        self.len += 1;
    }

    #[cold]
    #[inline(never)]
    fn push_spill(&mut self, f: FieldSpan) {
        if self.spill.capacity() == 0 {
            self.spill = spill::take();
        }
        self.spill.push(f);
    }

    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &FieldSpan> + '_ {
        self.inline[..self.len().min(INLINE_FIELDS)]
            .iter()
            .chain(self.spill.iter())
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.spill.clear();
    }
}

/// The per-thread spare list of spill vectors: a head with more than
/// [`INLINE_FIELDS`] fields takes one, and gives it back when dropped, on
/// whichever thread that happens.
mod spill {
    use super::FieldSpan;
    use std::cell::RefCell;

    /// Spare vectors kept per thread (one per head in flight with many fields).
    const MAX_SPARE: usize = 64;
    /// Vectors grown past this many spans are freed rather than kept.
    const MAX_KEPT: usize = 256;
    /// Capacity of a new vector: room for a browser's fields.
    const FRESH: usize = 24;

    thread_local! {
        static SPARE: RefCell<Vec<Vec<FieldSpan>>> = const { RefCell::new(Vec::new()) };
    }

    /// An empty vector, recycled when one is spare.
    pub(super) fn take() -> Vec<FieldSpan> {
        SPARE
            .try_with(|s| s.borrow_mut().pop())
            .ok()
            .flatten()
            .unwrap_or_else(|| Vec::with_capacity(FRESH))
    }

    /// Keeps `v` for a later [`take`] on this thread, unless the list is
    /// full, `v` grew unusually large, or the thread is exiting.
    pub(super) fn give(mut v: Vec<FieldSpan>) {
        if v.capacity() > MAX_KEPT {
            return;
        }
        v.clear();
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if s.len() < MAX_SPARE {
                    s.push(v);
                }
            }
        });
    }
}

/// The first `b` in `hay`: a plain loop for the short targets most
/// requests have (memchr's vector dispatch costs more than it saves there).
#[inline]
fn find_byte(b: u8, hay: &[u8]) -> Option<usize> {
    if hay.len() < 32 {
        hay.iter().position(|&x| x == b)
    } else {
        memchr::memchr(b, hay)
    }
}

/// A header (or trailer) section: field lines in wire order, names as sent
/// (compare them case-insensitively, RFC 9110 §5.1), values with the
/// surrounding whitespace removed (RFC 9112 §5).
///
/// `B` is the buffer the section borrows from: `Bytes` (a zero-copy slice of
/// the connection's read buffer) or `&[u8]` (from the stateless decoders).
#[derive(Clone)]
pub struct Headers<B = Bytes> {
    pub(crate) buf: B,
    pub(crate) index: FieldIndex,
}

impl Headers<Bytes> {
    /// An empty section.
    #[must_use]
    pub fn empty() -> Headers {
        Headers {
            buf: Bytes::new(),
            index: FieldIndex::default(),
        }
    }

    /// A section holding `fields` in order, copied into one buffer (HTTP/2
    /// trailers, RFC 9113 §8.1).
    pub(crate) fn from_pairs<'a>(
        fields: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
    ) -> Headers {
        let len = fields
            .clone()
            .map(|(n, v)| n.len() + v.len())
            .sum::<usize>();
        let mut buf = bytes::BytesMut::with_capacity(len);
        let mut index = FieldIndex::default();
        for (n, v) in fields {
            let ns = buf.len();
            buf.extend_from_slice(n);
            let vs = buf.len();
            buf.extend_from_slice(v);
            index.push(FieldSpan {
                name: Span::new(ns, vs),
                value: Span::new(vs, buf.len()),
            });
        }
        Headers::new(buf.freeze(), index)
    }

    /// The first value of field `name` as a zero-copy `Bytes` slice.
    #[must_use]
    pub fn get_bytes(&self, name: &str) -> Option<Bytes> {
        self.index
            .iter()
            .find(|f| f.name.get(&self.buf).eq_ignore_ascii_case(name.as_bytes()))
            .map(|f| self.buf.slice(f.value.start as usize..f.value.end as usize))
    }
}

impl<B: AsRef<[u8]>> Headers<B> {
    pub(crate) fn new(buf: B, index: FieldIndex) -> Headers<B> {
        Headers { buf, index }
    }

    /// Number of field lines.
    #[must_use]
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no field lines.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.index.len() == 0
    }

    /// `(name, value)` pairs in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.index.iter().map(|f| {
            (
                f.name.get(self.buf.as_ref()),
                f.value.get(self.buf.as_ref()),
            )
        })
    }

    /// The first value of field `name` (ASCII case-insensitive).
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// All values of field `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The raw bytes the section was parsed from (for a request head, the
    /// request line too).
    #[must_use]
    pub fn raw(&self) -> &B {
        &self.buf
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for Headers<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

impl<B: AsRef<[u8]>> PartialEq for Headers<B> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

/// The HTTP version of a message (RFC 9112 §2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Version {
    /// `HTTP/1.0`: persistent only on request, no chunked coding.
    Http10,
    /// `HTTP/1.1` (and `HTTP/1.x` for x > 1, RFC 9110 §6.2).
    Http11,
    /// HTTP/2 (RFC 9113): a head built by [`crate::h2::ServerConnection`]
    /// from a decoded field block, not parsed from text.
    H2,
}

/// How the length of a message body is determined (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyKind {
    /// Exactly this many bytes (Content-Length; 0 when absent in a request).
    Length(u64),
    /// The chunked transfer coding (RFC 9112 §7.1).
    Chunked,
    /// Until the connection closes (responses only, RFC 9112 §6.3 item 8).
    UntilEof,
}

/// A parsed request head: request line and header section.
///
/// `B` as for [`Headers`].
#[derive(Clone)]
pub struct RequestHead<B = Bytes> {
    pub(crate) headers: Headers<B>,
    pub(crate) method: Method,
    pub(crate) method_span: Span,
    pub(crate) target: Span,
    pub(crate) version: Version,
    pub(crate) body: BodyKind,
    pub(crate) keep_alive: bool,
    pub(crate) expect_continue: bool,
    pub(crate) upgrade: Option<Span>,
}

impl<B: AsRef<[u8]>> RequestHead<B> {
    /// The method.
    #[must_use]
    pub fn method(&self) -> Method {
        self.method
    }

    /// The method token as sent (useful for [`Method::Extension`]).
    #[must_use]
    pub fn method_bytes(&self) -> &[u8] {
        self.method_span.get(self.headers.buf.as_ref())
    }

    /// The request-target as sent (RFC 9112 §3.2), e.g. `/path?q`.
    #[must_use]
    pub fn target(&self) -> &[u8] {
        self.target.get(self.headers.buf.as_ref())
    }

    /// The path of the target: everything before `?` (for an absolute-form
    /// target, the part after the authority).
    #[must_use]
    pub fn path(&self) -> &[u8] {
        let mut t = self.target();
        // RFC 9112 §3.2.2: in absolute-form the path follows the authority
        // (`http://host/p?q` -> `/p`; an empty path is `/`).
        if t.first() != Some(&b'/') {
            if let Some(i) = memchr::memmem::find(t, b"://") {
                let rest = &t[i + 3..];
                t = match memchr::memchr2(b'/', b'?', rest) {
                    Some(j) if rest[j] == b'/' => &rest[j..],
                    _ => return b"/",
                };
            }
        }
        match find_byte(b'?', t) {
            Some(i) => &t[..i],
            None => t,
        }
    }

    /// The query after `?`, if any.
    #[must_use]
    pub fn query(&self) -> Option<&[u8]> {
        let t = self.target();
        find_byte(b'?', t).map(|i| &t[i + 1..])
    }

    /// The version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header section.
    #[must_use]
    pub fn headers(&self) -> &Headers<B> {
        &self.headers
    }

    /// Body framing, as decided by RFC 9112 §6.3.
    #[must_use]
    pub fn body_kind(&self) -> BodyKind {
        self.body
    }

    /// Whether the request has content to read.
    #[must_use]
    pub fn has_body(&self) -> bool {
        self.body != BodyKind::Length(0)
    }

    /// Whether the client asked to keep the connection open (RFC 9112 §9.3).
    #[must_use]
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// Whether the request carries `Expect: 100-continue` (RFC 9110 §10.1.1)
    /// and has a body.
    #[must_use]
    pub fn expects_continue(&self) -> bool {
        self.expect_continue
    }

    /// The `Upgrade` field value when the client asked for a protocol switch
    /// (RFC 9110 §7.8: `Upgrade` listed in `Connection`), e.g. `h2c`.
    #[must_use]
    pub fn upgrade(&self) -> Option<&[u8]> {
        self.upgrade.map(|s| s.get(self.headers.buf.as_ref()))
    }
}

impl<B> RequestHead<B> {
    /// A head with no fields over `buf`, for the parser to fill in.
    pub(crate) fn blank(buf: B) -> RequestHead<B> {
        RequestHead {
            headers: Headers {
                buf,
                index: FieldIndex::default(),
            },
            method: Method::Get,
            method_span: Span::default(),
            target: Span::default(),
            version: Version::Http11,
            body: BodyKind::Length(0),
            keep_alive: false,
            expect_continue: false,
            upgrade: None,
        }
    }
}

impl RequestHead<Bytes> {
    /// Builds an HTTP/2 request head from its parts (RFC 9113 §8.3.1): one
    /// buffer holding the method, the path and every field's name and
    /// value, so that the head reads exactly like a parsed HTTP/1.1 one.
    pub(crate) fn from_h2<'a>(
        method: &[u8],
        path: &[u8],
        fields: impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone,
        body: BodyKind,
    ) -> RequestHead<Bytes> {
        let len = method.len()
            + path.len()
            + fields
                .clone()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>();
        let mut buf = bytes::BytesMut::with_capacity(len);
        buf.extend_from_slice(method);
        let method_span = Span::new(0, method.len());
        buf.extend_from_slice(path);
        let target = Span::new(method.len(), buf.len());
        let mut index = FieldIndex::default();
        for (n, v) in fields {
            let ns = buf.len();
            buf.extend_from_slice(n);
            let vs = buf.len();
            buf.extend_from_slice(v);
            index.push(FieldSpan {
                name: Span::new(ns, vs),
                value: Span::new(vs, buf.len()),
            });
        }
        RequestHead {
            headers: Headers::new(buf.freeze(), index),
            method: Method::from_bytes(method),
            method_span,
            target,
            version: Version::H2,
            body,
            keep_alive: true,
            expect_continue: false,
            upgrade: None,
        }
    }

    /// The request-target as a zero-copy `Bytes` slice.
    #[must_use]
    pub fn target_bytes(&self) -> Bytes {
        self.headers
            .buf
            .slice(self.target.start as usize..self.target.end as usize)
    }

    /// The header section, dropping the request line.
    #[must_use]
    pub fn into_headers(self) -> Headers {
        self.headers
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for RequestHead<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &String::from_utf8_lossy(self.method_bytes()))
            .field("target", &String::from_utf8_lossy(self.target()))
            .field("version", &self.version)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("keep_alive", &self.keep_alive)
            .finish()
    }
}

impl<B: AsRef<[u8]>> PartialEq for RequestHead<B> {
    fn eq(&self, o: &Self) -> bool {
        self.method_bytes() == o.method_bytes()
            && self.target() == o.target()
            && self.version == o.version
            && self.headers == o.headers
            && self.body == o.body
            && self.keep_alive == o.keep_alive
            && self.expect_continue == o.expect_continue
            && self.upgrade() == o.upgrade()
    }
}

/// A parsed response head: status line and header section (client side).
///
/// `B` as for [`Headers`].
#[derive(Clone, PartialEq)]
pub struct ResponseHeadIn<B: AsRef<[u8]> = Bytes> {
    pub(crate) headers: Headers<B>,
    pub(crate) status: StatusCode,
    pub(crate) reason: Span,
    pub(crate) version: Version,
    pub(crate) keep_alive: bool,
}

impl<B: AsRef<[u8]>> ResponseHeadIn<B> {
    /// The status code.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The reason phrase as sent (may be empty; carries no meaning).
    #[must_use]
    pub fn reason(&self) -> &[u8] {
        self.reason.get(self.headers.buf.as_ref())
    }

    /// The version.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header section.
    #[must_use]
    pub fn headers(&self) -> &Headers<B> {
        &self.headers
    }

    /// Whether the server lets the connection persist after this response.
    #[must_use]
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for ResponseHeadIn<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseHeadIn")
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish()
    }
}

#[cfg(test)]
mod size_tests {
    /// A head is moved by value from the parser to the handler several
    /// times; keep it small (it was 488 bytes with 24 inline fields).
    #[test]
    fn request_head_stays_small() {
        let size = std::mem::size_of::<super::RequestHead>();
        assert!(size <= 240, "RequestHead grew to {size} bytes");
    }
}
