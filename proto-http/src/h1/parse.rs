//! Incremental head parser (RFC 9112 §2-§5) and the framing rules that turn
//! header fields into a body length (RFC 9112 §6).
//!
//! The parser works line by line and remembers where it stopped, so feeding
//! a head one byte at a time costs O(n) in total, not O(n²). Every decision
//! is taken on a *complete* unit (a whole line, or a prefix already longer
//! than a limit), which makes the outcome independent of how the input was
//! split: any longer prefix would have led to the same decision.

use crate::error::{ProtoError, ProtoErrorKind as K};
use crate::header::{
    Method, StatusCode, all_field_value_bytes, all_tchar, all_visible_ascii, list_elements,
};

use super::head::{
    BodyKind, FieldIndex, FieldSpan, Headers, RequestHead, ResponseHeadIn, Span, Version,
};
use super::limits::Limits;

/// Hard ceiling on any head, whatever the configured limits: field
/// positions are stored as `u32`.
const MAX_HEAD: usize = u32::MAX as usize;

/// Which kind of head a [`HeadParser`] expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeadKind {
    Request,
    Response,
    Trailers,
}

#[derive(Clone, Copy, Debug)]
enum StartLine {
    None,
    Request {
        method: Method,
        method_span: Span,
        target: Span,
        version: Version,
    },
    Response {
        status: StatusCode,
        reason: Span,
        version: Version,
    },
}

/// Resumable parser for one head (request, response or trailer section).
#[derive(Clone)]
pub(crate) struct HeadParser {
    kind: HeadKind,
    /// Offset of the next line not yet parsed.
    pos: usize,
    start: StartLine,
    index: FieldIndex,
}

impl HeadParser {
    pub(crate) fn new(kind: HeadKind) -> HeadParser {
        HeadParser {
            kind,
            pos: 0,
            start: StartLine::None,
            index: FieldIndex::default(),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.pos = 0;
        self.start = StartLine::None;
        self.index.clear();
    }

    /// Advances over the complete lines of `buf` (which starts at the first
    /// byte of the head and only ever grows between calls). Returns the
    /// length of the head, terminating empty line included, once complete.
    pub(crate) fn parse(
        &mut self,
        buf: &[u8],
        limits: &Limits,
    ) -> Result<Option<usize>, ProtoError> {
        if self.kind != HeadKind::Trailers && matches!(self.start, StartLine::None) {
            // RFC 9112 §2.2: a server SHOULD ignore at least one empty line
            // (CRLF) received before the request-line. Count them towards
            // the request-line limit so they cannot be used to stall.
            let max_line = limits.max_request_line.min(MAX_HEAD);
            // A lone trailing CR falls through to the length check below,
            // so split and whole input agree on the limit.
            while self.kind == HeadKind::Request && buf[self.pos..].starts_with(b"\r\n") {
                self.pos += 2;
            }
            let Some(nl) = memchr::memchr(b'\n', &buf[self.pos..]) else {
                if buf.len() > max_line {
                    return Err(line_too_long(self.kind));
                }
                return Ok(None);
            };
            let end = self.pos + nl + 1;
            if end > max_line {
                return Err(line_too_long(self.kind));
            }
            let line = line_content(buf, self.pos, end)?;
            self.start = match self.kind {
                HeadKind::Request => parse_request_line(buf, line)?,
                _ => parse_status_line(buf, line)?,
            };
            self.pos = end;
        }
        // Spans are u32 offsets: no configuration can make them overflow.
        let max_head = limits.max_head_bytes.min(MAX_HEAD);
        loop {
            let Some(nl) = memchr::memchr(b'\n', &buf[self.pos..]) else {
                if buf.len() > max_head {
                    return Err(K::HeadersTooLarge.into());
                }
                return Ok(None);
            };
            let end = self.pos + nl + 1;
            if end > max_head {
                return Err(K::HeadersTooLarge.into());
            }
            let (s, e) = line_content(buf, self.pos, end)?;
            self.pos = end;
            if s == e {
                return Ok(Some(end));
            }
            // RFC 9112 §5.2: a server MUST reject obs-fold with 400 (a
            // user agent may instead replace it; we reject everywhere).
            if matches!(buf[s], b' ' | b'\t') {
                return Err(K::ObsFold.into());
            }
            if self.index.len() >= limits.max_headers {
                return Err(K::TooManyHeaders.into());
            }
            self.index.push(parse_field_line(buf, s, e)?);
        }
    }

    /// Takes the completed request head out of the parser and applies the
    /// framing rules. `buf` must hold exactly the bytes that were parsed.
    pub(crate) fn take_request<B: AsRef<[u8]>>(
        &mut self,
        buf: B,
        limits: &Limits,
    ) -> Result<RequestHead<B>, ProtoError> {
        let StartLine::Request {
            method,
            method_span,
            target,
            version,
        } = self.start
        else {
            unreachable_start()?
        };
        let index = std::mem::take(&mut self.index);
        self.reset();
        let headers = Headers::new(buf, index);
        let f = RequestFraming::analyze(&headers, version, limits)?;
        Ok(RequestHead {
            headers,
            method,
            method_span,
            target,
            version,
            body: f.body,
            keep_alive: f.keep_alive,
            expect_continue: f.expect_continue
                && f.body != BodyKind::Length(0)
                && version == Version::Http11,
            upgrade: f.upgrade,
        })
    }

    /// Takes the completed response head; the body length depends on the
    /// request, so the client decides it.
    pub(crate) fn take_response<B: AsRef<[u8]>>(
        &mut self,
        buf: B,
    ) -> Result<ResponseHeadIn<B>, ProtoError> {
        let StartLine::Response {
            status,
            reason,
            version,
        } = self.start
        else {
            unreachable_start()?
        };
        let index = std::mem::take(&mut self.index);
        self.reset();
        let headers = Headers::new(buf, index);
        let conn = ConnectionOptions::of(&headers);
        let keep_alive = match version {
            Version::Http10 => conn.keep_alive && !conn.close,
            Version::Http11 | Version::H2 => !conn.close,
        };
        Ok(ResponseHeadIn {
            headers,
            status,
            reason,
            version,
            keep_alive,
        })
    }

    /// Takes a completed trailer section.
    pub(crate) fn take_trailers<B: AsRef<[u8]>>(&mut self, buf: B) -> Headers<B> {
        let index = std::mem::take(&mut self.index);
        self.reset();
        Headers::new(buf, index)
    }
}

/// A completed head whose start line was never parsed cannot happen; report
/// it as a malformed request rather than panicking.
fn unreachable_start<T>() -> Result<T, ProtoError> {
    Err(K::BadRequestLine.into())
}

fn line_too_long(kind: HeadKind) -> ProtoError {
    match kind {
        HeadKind::Request => K::RequestLineTooLong.into(),
        _ => K::HeadersTooLarge.into(),
    }
}

/// Checks the line terminator of `buf[start..end]` (which ends in LF) and
/// returns the content range without CRLF. RFC 9112 §2.2: lines end in
/// CRLF; we do not accept a bare LF, and bare CRs inside a line are caught
/// by the per-element character checks.
fn line_content(buf: &[u8], start: usize, end: usize) -> Result<(usize, usize), ProtoError> {
    if end - start < 2 || buf[end - 2] != b'\r' {
        return Err(K::BareLineEnding.into());
    }
    Ok((start, end - 2))
}

/// RFC 9112 §3: `request-line = method SP request-target SP HTTP-version`.
fn parse_request_line(buf: &[u8], (s, e): (usize, usize)) -> Result<StartLine, ProtoError> {
    let line = &buf[s..e];
    let sp1 = memchr::memchr(b' ', line).ok_or(K::BadRequestLine)?;
    let sp2 = memchr::memrchr(b' ', line).ok_or(K::BadRequestLine)?;
    if sp1 == sp2 {
        return Err(K::BadRequestLine.into());
    }
    let method = &line[..sp1];
    if method.is_empty() || !all_tchar(method) {
        return Err(K::BadMethod.into());
    }
    let target = &line[sp1 + 1..sp2];
    let version = parse_version(&line[sp2 + 1..])?;
    let m = Method::from_bytes(method);
    check_target(m, target)?;
    Ok(StartLine::Request {
        method: m,
        method_span: Span::new(s, s + sp1),
        target: Span::new(s + sp1 + 1, s + sp2),
        version,
    })
}

/// RFC 9112 §2.3: `HTTP-version = "HTTP" "/" DIGIT "." DIGIT`. A major
/// version other than 1 is answered with 505 (RFC 9110 §15.6.6); a higher
/// 1.x minor is treated as 1.1 (RFC 9110 §6.2).
fn parse_version(v: &[u8]) -> Result<Version, ProtoError> {
    match v {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', maj, b'.', min]
            if maj.is_ascii_digit() && min.is_ascii_digit() =>
        {
            if *maj == b'1' {
                Ok(Version::Http11)
            } else {
                Err(K::UnsupportedVersion.into())
            }
        }
        _ => Err(K::BadVersion.into()),
    }
}

/// RFC 9112 §3.2: the four forms of request-target, and which methods may
/// use the special ones. Only visible ASCII is allowed (no whitespace, no
/// controls, no raw non-ASCII: URIs are ASCII, RFC 3986 §2).
fn check_target(method: Method, t: &[u8]) -> Result<(), ProtoError> {
    if t.is_empty() || !all_visible_ascii(t) {
        return Err(K::BadTarget.into());
    }
    let ok = if method == Method::Connect {
        // §3.2.3 authority-form; never starts with '/'.
        t[0] != b'/' && t != b"*"
    } else if t == b"*" {
        // §3.2.4 asterisk-form, OPTIONS only.
        method == Method::Options
    } else if t[0] == b'/' {
        // §3.2.1 origin-form.
        true
    } else {
        // §3.2.2 absolute-form: scheme ":" ... (RFC 3986 §3.1).
        match memchr::memchr(b':', t) {
            Some(c) if c > 0 => {
                t[0].is_ascii_alphabetic()
                    && t[..c]
                        .iter()
                        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            }
            _ => false,
        }
    };
    if ok { Ok(()) } else { Err(K::BadTarget.into()) }
}

/// RFC 9112 §4: `status-line = HTTP-version SP status-code SP [reason-phrase]`.
/// The SP before an empty reason is accepted as optional.
fn parse_status_line(buf: &[u8], (s, e): (usize, usize)) -> Result<StartLine, ProtoError> {
    let line = &buf[s..e];
    if line.len() < 12 || line[8] != b' ' {
        return Err(K::BadStatusLine.into());
    }
    let version = parse_version(&line[..8]).map_err(|_| ProtoError::new(K::BadStatusLine))?;
    let d = &line[9..12];
    if !d.iter().all(u8::is_ascii_digit) {
        return Err(K::BadStatusLine.into());
    }
    let code = u16::from(d[0] - b'0') * 100 + u16::from(d[1] - b'0') * 10 + u16::from(d[2] - b'0');
    let status = StatusCode::from_u16(code).ok_or(K::BadStatusLine)?;
    let reason = match line.get(12) {
        None => Span::new(e, e),
        Some(b' ') => {
            let r = &line[13..];
            if !all_field_value_bytes(r) {
                return Err(K::BadStatusLine.into());
            }
            Span::new(s + 13, e)
        }
        Some(_) => return Err(K::BadStatusLine.into()),
    };
    Ok(StartLine::Response {
        status,
        reason,
        version,
    })
}

/// RFC 9112 §5.1: `field-line = field-name ":" OWS field-value OWS`, with no
/// whitespace allowed between name and colon (400). RFC 9110 §5.5: CR, LF,
/// NUL and other controls in values are rejected.
fn parse_field_line(buf: &[u8], s: usize, e: usize) -> Result<FieldSpan, ProtoError> {
    let line = &buf[s..e];
    // ':' is not a tchar, so the first colon ends a valid name.
    let i = match memchr::memchr(b':', line) {
        Some(i) if i > 0 && all_tchar(&line[..i]) => i,
        _ => return Err(K::BadHeaderName.into()),
    };
    let name = Span::new(s, s + i);
    let mut vs = i + 1;
    let mut ve = line.len();
    if !all_field_value_bytes(&line[vs..]) {
        return Err(K::BadHeaderValue.into());
    }
    while vs < ve && matches!(line[vs], b' ' | b'\t') {
        vs += 1;
    }
    while ve > vs && matches!(line[ve - 1], b' ' | b'\t') {
        ve -= 1;
    }
    Ok(FieldSpan {
        name,
        value: Span::new(s + vs, s + ve),
    })
}

/// Connection options (RFC 9110 §7.6.1) relevant to persistence and upgrade.
#[derive(Default)]
pub(crate) struct ConnectionOptions {
    pub(crate) close: bool,
    pub(crate) keep_alive: bool,
    pub(crate) upgrade: bool,
}

impl ConnectionOptions {
    pub(crate) fn of<B: AsRef<[u8]>>(h: &Headers<B>) -> ConnectionOptions {
        let mut o = ConnectionOptions::default();
        for v in h.get_all("connection") {
            o.add(v);
        }
        o
    }

    fn add(&mut self, v: &[u8]) {
        for opt in list_elements(v) {
            if opt.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if opt.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else if opt.eq_ignore_ascii_case(b"upgrade") {
                self.upgrade = true;
            }
        }
    }
}

/// Parses a Content-Length value: a list of identical `1*DIGIT` elements
/// (RFC 9110 §8.6, RFC 9112 §6.3 item 5). Merges into `acc` so repeated
/// fields with the same value are accepted and differing ones rejected.
/// A value too large for u64 is reported as too large, not as malformed.
pub(crate) fn merge_content_length(
    acc: &mut Option<u64>,
    v: &[u8],
    max: u64,
) -> Result<(), ProtoError> {
    let mut any = false;
    for part in v.split(|&b| b == b',') {
        let part = crate::header::trim_ows(part);
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(K::BadContentLength.into());
        }
        let mut n: u64 = 0;
        let mut overflow = false;
        for &d in part {
            match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
            {
                Some(x) => n = x,
                None => overflow = true,
            }
        }
        if overflow {
            return Err(K::BodyTooLarge.into());
        }
        match *acc {
            Some(prev) if prev != n => return Err(K::BadContentLength.into()),
            _ => *acc = Some(n),
        }
        any = true;
    }
    if !any {
        return Err(K::BadContentLength.into());
    }
    if acc.is_some_and(|n| n > max) {
        return Err(K::BodyTooLarge.into());
    }
    Ok(())
}

/// Transfer-Encoding accumulated over every field line, in order.
#[derive(Default)]
pub(crate) struct TransferCodings {
    pub(crate) present: bool,
    chunked_count: u32,
    last_is_chunked: bool,
    unknown: bool,
}

impl TransferCodings {
    pub(crate) fn add(&mut self, v: &[u8]) {
        self.present = true;
        for coding in list_elements(v) {
            if coding.eq_ignore_ascii_case(b"chunked") {
                self.chunked_count += 1;
                self.last_is_chunked = true;
            } else {
                // gzip, deflate, compress are registered but we decode none
                // of them; anything else is unknown. Both get 501.
                self.unknown = true;
                self.last_is_chunked = false;
            }
        }
    }

    /// RFC 9112 §6.3 item 4 and §6.1: the body is chunked only when chunked
    /// is the final coding, applied once (§7: MUST NOT apply twice).
    pub(crate) fn check(&self) -> Result<(), ProtoError> {
        // §6.3 item 4: chunked not final means the length cannot be
        // determined: 400 and close, whatever the other codings are.
        if !self.last_is_chunked || self.chunked_count != 1 {
            return Err(K::BadTransferEncoding.into());
        }
        // §6.1: a coding we do not understand before the final chunked.
        if self.unknown {
            return Err(K::UnknownTransferCoding.into());
        }
        Ok(())
    }
}

/// RFC 9110 §7.2: `Host = uri-host [ ":" port ]` (RFC 3986 §3.2.2, §3.2.3),
/// or empty (RFC 9112 §3.2: a target without an authority).
fn valid_host(v: &[u8]) -> bool {
    let (host, port) = if let Some(rest) = v.strip_prefix(b"[") {
        // IP-literal: IPv6address or IPvFuture inside brackets.
        let Some(end) = memchr::memchr(b']', rest) else {
            return false;
        };
        let inside = &rest[..end];
        let ok = !inside.is_empty()
            && inside
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b":.-_~!$&'()*+,;=".contains(&b));
        if !ok {
            return false;
        }
        match &rest[end + 1..] {
            [] => return true,
            [b':', port @ ..] => (&b""[..], port),
            _ => return false,
        }
    } else {
        match memchr::memchr(b':', v) {
            Some(i) => (&v[..i], &v[i + 1..]),
            None => (v, &b""[..]),
        }
    };
    // reg-name = *( unreserved / pct-encoded / sub-delims ); IPv4 fits it.
    host.iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b))
        && port.iter().all(u8::is_ascii_digit)
}

struct RequestFraming {
    body: BodyKind,
    keep_alive: bool,
    expect_continue: bool,
    upgrade: Option<Span>,
}

impl RequestFraming {
    /// One pass over the fields, then RFC 9112 §6.3 for requests.
    fn analyze<B: AsRef<[u8]>>(
        h: &Headers<B>,
        version: Version,
        limits: &Limits,
    ) -> Result<RequestFraming, ProtoError> {
        let buf = h.buf.as_ref();
        let mut cl: Option<u64> = None;
        let mut cl_err: Option<ProtoError> = None;
        let mut te = TransferCodings::default();
        let mut conn = ConnectionOptions::default();
        let mut hosts = 0u32;
        let mut host_ok = true;
        let mut expect_continue = false;
        let mut upgrade = None;
        for f in h.index.iter() {
            let name = f.name.get(buf);
            let value = f.value.get(buf);
            match name.len() {
                4 if name.eq_ignore_ascii_case(b"host") => {
                    hosts += 1;
                    host_ok &= valid_host(value);
                }
                6 if name.eq_ignore_ascii_case(b"expect") => {
                    expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
                }
                7 if name.eq_ignore_ascii_case(b"upgrade") => upgrade = Some(f.value),
                10 if name.eq_ignore_ascii_case(b"connection") => conn.add(value),
                14 if name.eq_ignore_ascii_case(b"content-length") && cl_err.is_none() => {
                    if let Err(e) = merge_content_length(&mut cl, value, limits.max_body) {
                        cl_err = Some(e);
                    }
                }
                17 if name.eq_ignore_ascii_case(b"transfer-encoding") => te.add(value),
                _ => {}
            }
        }
        // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request.
        // ... and a Host with an invalid value is a 400 too.
        if hosts > 1 || (hosts == 0 && version == Version::Http11) || !host_ok {
            return Err(K::BadHost.into());
        }
        let body = if te.present {
            // §6.3 item 3: both present is a smuggling attempt; reject.
            if cl.is_some() || cl_err.is_some() {
                return Err(K::ContentLengthWithTransferEncoding.into());
            }
            // §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
            if version == Version::Http10 {
                return Err(K::BadTransferEncoding.into());
            }
            te.check()?;
            BodyKind::Chunked
        } else if let Some(e) = cl_err {
            return Err(e);
        } else {
            // §6.3 item 7: no CL, no TE: a request has no body.
            BodyKind::Length(cl.unwrap_or(0))
        };
        let keep_alive = match version {
            Version::Http10 => conn.keep_alive && !conn.close,
            Version::Http11 | Version::H2 => !conn.close,
        };
        Ok(RequestFraming {
            body,
            keep_alive,
            expect_continue,
            upgrade: if conn.upgrade { upgrade } else { None },
        })
    }
}

/// What the stateless decoders return: `Ok(None)` when the input is
/// incomplete, else the decoded value and how many bytes it took.
pub type Decoded<T> = Result<Option<(T, usize)>, ProtoError>;

/// Stateless request-head decoder (the `codec` layer): `Ok(None)` when the
/// head is incomplete, otherwise the head borrowing from `buf` and its
/// length in bytes. The body, if any, follows.
///
/// ```
/// use proto_http::h1::{decode_request, Limits};
/// let buf = b"GET /hi?x=1 HTTP/1.1\r\nHost: a\r\n\r\n";
/// let (head, n) = decode_request(buf, &Limits::default()).unwrap().unwrap();
/// assert_eq!(n, buf.len());
/// assert_eq!(head.path(), b"/hi");
/// assert_eq!(head.headers().get("host"), Some(&b"a"[..]));
/// ```
pub fn decode_request<'a>(buf: &'a [u8], limits: &Limits) -> Decoded<RequestHead<&'a [u8]>> {
    let mut p = HeadParser::new(HeadKind::Request);
    match p.parse(buf, limits)? {
        None => Ok(None),
        Some(n) => Ok(Some((p.take_request(&buf[..n], limits)?, n))),
    }
}

/// Stateless response-head decoder: `Ok(None)` when incomplete.
pub fn decode_response<'a>(buf: &'a [u8], limits: &Limits) -> Decoded<ResponseHeadIn<&'a [u8]>> {
    let mut p = HeadParser::new(HeadKind::Response);
    match p.parse(buf, limits)? {
        None => Ok(None),
        Some(n) => Ok(Some((p.take_response(&buf[..n])?, n))),
    }
}

/// The outcome of feeding a request head in pieces, for the split-invariance
/// checks shared by tests and the `h1_request` fuzz target.
#[doc(hidden)]
pub fn decode_request_split(
    buf: &[u8],
    cuts: &[usize],
    limits: &Limits,
) -> Result<Option<(String, usize)>, ProtoError> {
    let mut p = HeadParser::new(HeadKind::Request);
    let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(buf.len())).collect();
    points.sort_unstable();
    points.push(buf.len());
    for end in points {
        if let Some(n) = p.parse(&buf[..end], limits)? {
            let head = p.take_request(&buf[..n], limits)?;
            return Ok(Some((format!("{head:?}"), n)));
        }
    }
    Ok(None)
}

/// Invariant of the `h1_request` fuzz target: decoding `buf` whole and
/// byte-at-a-time give the same head, length or error. Panics otherwise.
#[doc(hidden)]
pub fn check_request_split_invariant(buf: &[u8], limits: &Limits) {
    let whole = decode_request(buf, limits).map(|o| o.map(|(h, n)| (format!("{h:?}"), n)));
    let cuts: Vec<usize> = (0..=buf.len()).collect();
    let bytewise = decode_request_split(buf, &cuts, limits);
    assert_eq!(
        whole,
        bytewise,
        "whole vs byte-at-a-time differ for {:?}",
        String::from_utf8_lossy(buf)
    );
    // What decodes re-encodes to something that decodes the same. The
    // re-encoding (no OWS, no leading empty lines) is never longer than the
    // original, so the same limits apply.
    if let Ok(Some((head, _))) = decode_request(buf, limits) {
        let mut out = Vec::new();
        out.extend_from_slice(head.method_bytes());
        out.push(b' ');
        out.extend_from_slice(head.target());
        out.extend_from_slice(match head.version() {
            Version::Http10 => b" HTTP/1.0\r\n",
            Version::Http11 | Version::H2 => b" HTTP/1.1\r\n",
        });
        for (n, v) in head.headers().iter() {
            out.extend_from_slice(n);
            out.push(b':');
            out.extend_from_slice(v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        match decode_request(&out, limits) {
            Ok(Some((again, n))) => {
                assert_eq!(n, out.len());
                assert_eq!(head, again, "re-encoded head differs");
            }
            other => panic!("re-encoded head does not decode: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(buf: &[u8]) -> (K, u16) {
        let e = decode_request(buf, &Limits::default()).expect_err("should be rejected");
        (e.kind(), e.status().as_u16())
    }

    fn ok(buf: &[u8]) -> RequestHead<&[u8]> {
        decode_request(buf, &Limits::default()).unwrap().unwrap().0
    }

    #[test]
    fn simple_get() {
        let h = ok(b"GET /a?b HTTP/1.1\r\nHost: x\r\nX-Y:  z \r\n\r\n");
        assert_eq!(h.method(), Method::Get);
        assert_eq!(h.target(), b"/a?b");
        assert_eq!(h.query(), Some(&b"b"[..]));
        assert_eq!(h.version(), Version::Http11);
        assert_eq!(h.headers().get("x-y"), Some(&b"z"[..]));
        assert_eq!(h.body_kind(), BodyKind::Length(0));
        assert!(h.keep_alive());
    }

    #[test]
    fn incomplete_is_none() {
        let full = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for n in 0..full.len() {
            assert!(
                decode_request(&full[..n], &Limits::default())
                    .unwrap()
                    .is_none(),
                "{n}"
            );
        }
    }

    #[test]
    fn absolute_form_path_is_the_part_after_the_authority() {
        let h = ok(b"GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assert_eq!((h.path(), h.query()), (&b"/a/b"[..], Some(&b"x=1"[..])));
        let h = ok(b"GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assert_eq!(h.path(), b"/");
        let h = ok(b"GET http://example.com?y HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assert_eq!((h.path(), h.query()), (&b"/"[..], Some(&b"y"[..])));
    }

    #[test]
    fn valid_host_values_are_accepted() {
        for host in [
            "example.com",
            "example.com:8080",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:8080",
            "",
        ] {
            let req = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
            assert!(
                decode_request(req.as_bytes(), &Limits::default()).is_ok(),
                "{host:?}"
            );
        }
    }

    #[test]
    fn leading_empty_lines_ignored() {
        let h = ok(b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(h.target(), b"/");
    }

    #[test]
    fn keep_alive_rules() {
        assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(ok(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive());
        assert!(!ok(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n").keep_alive());
        assert!(ok(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").keep_alive());
    }

    #[test]
    fn framing() {
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n").body_kind(),
            BodyKind::Length(5)
        );
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n")
                .body_kind(),
            BodyKind::Length(5)
        );
        assert_eq!(
            ok(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").body_kind(),
            BodyKind::Chunked
        );
        let h =
            ok(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        assert!(h.expects_continue());
        let h = ok(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\n");
        assert_eq!(h.upgrade(), Some(&b"h2c"[..]));
        let h = ok(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n");
        assert_eq!(h.upgrade(), None);
    }

    #[test]
    fn smuggling_and_syntax_errors() {
        let cases: &[(&[u8], K, u16)] = &[
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", K::ContentLengthWithTransferEncoding, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", K::ContentLengthWithTransferEncoding, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", K::BadContentLength, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n", K::BadContentLength, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", K::BadContentLength, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\n", K::BadContentLength, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", K::BadContentLength, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", K::BodyTooLarge, 413),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n", K::BodyTooLarge, 413),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", K::UnknownTransferCoding, 501),
            // §6.3 item 4: chunked is not final: 400, whatever the coding.
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", K::BadTransferEncoding, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", K::BadTransferEncoding, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", K::BadTransferEncoding, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", K::BadTransferEncoding, 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n", K::BadTransferEncoding, 400),
            (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", K::BadTransferEncoding, 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", K::ObsFold, 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\tb\r\n\r\n", K::ObsFold, 400),
            (b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", K::BadMethod, 400),
            (b"GET / HTTP/1.1\r\nHo st: x\r\n\r\n", K::BadHeaderName, 400),
            (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", K::BadHeaderName, 400),
            (b"GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n", K::BadHeaderName, 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", K::BadHeaderName, 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", K::BadHeaderValue, 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", K::BadHeaderValue, 400),
            (b"GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", K::BareLineEnding, 400),
            (b"GET / HTTP/1.1\nHost: x\r\n\r\n", K::BareLineEnding, 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\n", K::BareLineEnding, 400),
            (b"GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", K::BadTarget, 400),
            (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", K::BadTarget, 400),
            (b"GET / x HTTP/1.1\r\nHost: x\r\n\r\n", K::BadTarget, 400),
            (b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", K::BadTarget, 400),
            (b"GET foo HTTP/1.1\r\nHost: x\r\n\r\n", K::BadTarget, 400),
            (b"CONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n", K::BadTarget, 400),
            (b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n", K::BadTarget, 400),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", K::UnsupportedVersion, 505),
            (b"GET / HTTP/1.1x\r\nHost: x\r\n\r\n", K::BadVersion, 400),
            (b"GET / http/1.1\r\nHost: x\r\n\r\n", K::BadVersion, 400),
            (b"GET /\r\n\r\n", K::BadRequestLine, 400),
            (b"GET / HTTP/1.1\r\n\r\n", K::BadHost, 400),
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", K::BadHost, 400),
            (b"GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", K::BadHost, 400),
            (b"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", K::BadHost, 400),
            (b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", K::BadHost, 400),
        ];
        for (input, kind, status) in cases {
            assert_eq!(
                err(input),
                (*kind, *status),
                "{}",
                String::from_utf8_lossy(input)
            );
            // Same verdict whichever way the input is split.
            check_request_split_invariant(input, &Limits::default());
        }
    }

    #[test]
    fn accepted_forms() {
        ok(b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        ok(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        ok(b"GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n");
        assert_eq!(
            ok(b"GET / HTTP/1.2\r\nHost: x\r\n\r\n").version(),
            Version::Http11
        );
        assert_eq!(
            ok(b"PURGE / HTTP/1.1\r\nHost: x\r\n\r\n").method_bytes(),
            b"PURGE"
        );
        let h = ok(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x80\xffb\r\nE:\r\n\r\n");
        assert_eq!(h.headers().get("x"), Some(&b"a\x80\xffb"[..]));
        assert_eq!(h.headers().get("e"), Some(&b""[..]));
    }

    #[test]
    fn limits() {
        let l = Limits {
            max_request_line: 32,
            max_head_bytes: 64,
            max_headers: 2,
            ..Limits::default()
        };
        let long_target = format!("GET /{} HTTP/1.1\r\n", "a".repeat(40));
        let e = decode_request(long_target.as_bytes(), &l).unwrap_err();
        assert_eq!(
            (e.kind(), e.status().as_u16()),
            (K::RequestLineTooLong, 414)
        );
        // Without a line end yet: decided as soon as the prefix is too long.
        let e = decode_request(&long_target.as_bytes()[..34], &l).unwrap_err();
        assert_eq!(e.status().as_u16(), 414);
        let big = format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n", "b".repeat(60));
        let e = decode_request(big.as_bytes(), &l).unwrap_err();
        assert_eq!((e.kind(), e.status().as_u16()), (K::HeadersTooLarge, 431));
        let e =
            decode_request(b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", &l).unwrap_err();
        assert_eq!((e.kind(), e.status().as_u16()), (K::TooManyHeaders, 431));
        // Leading empty lines count towards the request-line limit, and a
        // trailing lone CR does not hide them (found by the h1_request fuzz
        // target: split and whole parses disagreed).
        let empties = format!("{}\r", "\r\n".repeat(25));
        let e = decode_request(empties.as_bytes(), &l).unwrap_err();
        assert_eq!(e.status().as_u16(), 414);
        for buf in [long_target.as_bytes(), big.as_bytes(), empties.as_bytes()] {
            check_request_split_invariant(buf, &l);
        }
        // Many headers beyond the inline capacity spill correctly.
        let mut many = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        for i in 0..100 {
            many.push_str(&format!("H{i}: v{i}\r\n"));
        }
        many.push_str("\r\n");
        let h = ok(many.as_bytes());
        assert_eq!(h.headers().len(), 101);
        assert_eq!(h.headers().get("h99"), Some(&b"v99"[..]));
    }

    #[test]
    fn status_lines() {
        let (r, n) = decode_response(
            b"HTTP/1.1 404 Not Found\r\nA: b\r\n\r\nxx",
            &Limits::default(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(n, 32);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.reason(), b"Not Found");
        let (r, _) = decode_response(b"HTTP/1.0 200\r\n\r\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert!(!r.keep_alive());
        assert_eq!(r.reason(), b"");
        assert!(decode_response(b"HTTP/1.1 20 OK\r\n\r\n", &Limits::default()).is_err());
        assert!(decode_response(b"HTTP/1.1 200OK\r\n\r\n", &Limits::default()).is_err());
    }
}
