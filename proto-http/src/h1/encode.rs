//! Message encoding (RFC 9112 §3, §4, §5, §7): start lines, field lines,
//! framing headers and chunks, appended to a `BytesMut`.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::UserError;
use crate::header::{StatusCode, is_field_value, is_token};

/// A header field to send: name and value. Names must be tokens; values
/// must not contain CR, LF, NUL or other controls (checked before anything
/// is written, so a bad value cannot split the response).
pub type Header<'a> = (&'a str, &'a [u8]);

/// The head of a response to send.
///
/// The connection writes `Content-Length` / `Transfer-Encoding`,
/// `Connection` and `Date` itself; do not put framing headers here.
#[derive(Clone, Copy, Debug)]
pub struct ResponseHead<'a> {
    /// The status code.
    pub status: StatusCode,
    /// Header fields, in order.
    pub headers: &'a [Header<'a>],
}

impl<'a> ResponseHead<'a> {
    /// A head with `status` and `headers`.
    #[must_use]
    pub fn new(status: StatusCode, headers: &'a [Header<'a>]) -> ResponseHead<'a> {
        ResponseHead { status, headers }
    }
}

/// The body of a message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    /// No content (`Content-Length: 0` where a length is allowed).
    Empty,
    /// The whole content at once (`Content-Length`).
    Full(Bytes),
    /// Content sent later in pieces with `send_body_chunk` and finished with
    /// `send_end`. With a known length it is sent with `Content-Length`,
    /// otherwise chunked (or, to an HTTP/1.0 peer, delimited by closing the
    /// connection).
    Stream {
        /// Total length, if known.
        length: Option<u64>,
    },
}

/// How the body of an outgoing message is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutFraming {
    /// No body and no framing header (1xx, 204, 304, 2xx to CONNECT).
    None,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Delimited by closing the connection (RFC 9112 §6.3 item 8).
    Close,
}

/// Facts about user-supplied header fields the encoder needs.
#[derive(Default, Clone, Copy)]
pub(crate) struct HeaderFacts {
    pub(crate) has_date: bool,
    pub(crate) conn_close: bool,
}

/// Validates user-supplied fields before anything is written.
/// `allow_framing` is false for messages whose framing the encoder owns.
pub(crate) fn check_headers(headers: &[Header<'_>]) -> Result<HeaderFacts, UserError> {
    let mut facts = HeaderFacts::default();
    for (name, value) in headers {
        let n = name.as_bytes();
        if !is_token(n) || !is_field_value(value) {
            return Err(UserError::InvalidHeader);
        }
        match n.len() {
            4 if n.eq_ignore_ascii_case(b"date") => facts.has_date = true,
            10 if n.eq_ignore_ascii_case(b"connection") => {
                facts.conn_close |=
                    crate::header::list_elements(value).any(|o| o.eq_ignore_ascii_case(b"close"));
            }
            14 if n.eq_ignore_ascii_case(b"content-length") => {
                return Err(UserError::FramingHeader);
            }
            17 if n.eq_ignore_ascii_case(b"transfer-encoding") => {
                return Err(UserError::FramingHeader);
            }
            _ => {}
        }
    }
    Ok(facts)
}

/// RFC 9112 §4: `HTTP/1.1 SP status-code SP reason-phrase CRLF`. We always
/// send our highest version (RFC 9110 §6.2).
pub(crate) fn status_line(out: &mut BytesMut, status: StatusCode) {
    if status == StatusCode::OK {
        // Most responses: one copy of a constant.
        out.put_slice(b"HTTP/1.1 200 OK\r\n");
        return;
    }
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(&status.digits());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.put_slice(b"\r\n");
}

/// RFC 9112 §3: `method SP request-target SP HTTP-version CRLF`.
pub(crate) fn request_line(out: &mut BytesMut, method: &str, target: &str) {
    out.put_slice(method.as_bytes());
    out.put_u8(b' ');
    out.put_slice(target.as_bytes());
    out.put_slice(b" HTTP/1.1\r\n");
}

/// Field lines (RFC 9112 §5), already validated by [`check_headers`].
pub(crate) fn fields(out: &mut BytesMut, headers: &[Header<'_>]) {
    for (name, value) in headers {
        field(out, name.as_bytes(), value);
    }
}

#[inline]
pub(crate) fn field(out: &mut BytesMut, name: &[u8], value: &[u8]) {
    out.reserve(name.len() + value.len() + 4);
    out.put_slice(name);
    out.put_slice(b": ");
    out.put_slice(value);
    out.put_slice(b"\r\n");
}

/// The framing header for `framing` (RFC 9112 §6.1, RFC 9110 §8.6).
pub(crate) fn framing_header(out: &mut BytesMut, framing: OutFraming) {
    match framing {
        OutFraming::Length(n) => {
            let mut b = itoa::Buffer::new();
            field(out, b"Content-Length", b.format(n).as_bytes());
        }
        OutFraming::Chunked => field(out, b"Transfer-Encoding", b"chunked"),
        OutFraming::None | OutFraming::Close => {}
    }
}

/// One chunk of the chunked coding (RFC 9112 §7.1). Empty data writes
/// nothing: a zero-size chunk would end the body.
pub(crate) fn chunk(out: &mut BytesMut, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    chunk_header(out, data.len());
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// The chunk-size line for a chunk of `len` bytes.
pub(crate) fn chunk_header(out: &mut BytesMut, len: usize) {
    let mut hex = [0u8; 16];
    let mut i = hex.len();
    let mut n = len;
    loop {
        i -= 1;
        hex[i] = b"0123456789abcdef"[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&hex[i..]);
    out.put_slice(b"\r\n");
}

/// The last chunk, optional trailer fields and the final CRLF
/// (RFC 9112 §7.1, §7.1.2).
pub(crate) fn last_chunk(out: &mut BytesMut, trailers: &[Header<'_>]) {
    out.put_slice(b"0\r\n");
    fields(out, trailers);
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks() {
        let mut out = BytesMut::new();
        chunk(&mut out, &[b'x'; 26]);
        chunk(&mut out, b"");
        last_chunk(&mut out, &[("X", b"y")]);
        assert_eq!(
            &out[..],
            &b"1a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n0\r\nX: y\r\n\r\n"[..]
        );
    }

    #[test]
    fn header_checks() {
        assert_eq!(
            check_headers(&[("X", b"a\r\nSet-Cookie: x")]).err(),
            Some(UserError::InvalidHeader)
        );
        assert_eq!(
            check_headers(&[("X Y", b"a")]).err(),
            Some(UserError::InvalidHeader)
        );
        assert_eq!(
            check_headers(&[("X", b" a")]).err(),
            Some(UserError::InvalidHeader)
        );
        assert_eq!(
            check_headers(&[("content-length", b"1")]).err(),
            Some(UserError::FramingHeader)
        );
        let f = check_headers(&[("Date", b"x"), ("Connection", b"foo, Close")]).unwrap();
        assert!(f.has_date && f.conn_close);
    }

    #[test]
    fn lines() {
        let mut out = BytesMut::new();
        status_line(&mut out, StatusCode::from_u16(599).unwrap());
        status_line(&mut out, StatusCode::OK);
        request_line(&mut out, "GET", "/");
        assert_eq!(
            &out[..],
            &b"HTTP/1.1 599 \r\nHTTP/1.1 200 OK\r\nGET / HTTP/1.1\r\n"[..]
        );
    }
}
