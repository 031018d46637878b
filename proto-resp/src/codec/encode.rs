//! Encoders: append RESP to a `BytesMut`.

use bytes::{BufMut, BytesMut};

use crate::frame::Frame;

/// Appends `ty`, the decimal `n`, and CRLF.
#[inline]
pub(crate) fn header(dst: &mut BytesMut, ty: u8, n: impl itoa::Integer) {
    let mut b = itoa::Buffer::new();
    let s = b.format(n).as_bytes();
    dst.reserve(s.len() + 3);
    dst.put_u8(ty);
    dst.put_slice(s);
    dst.put_slice(b"\r\n");
}

/// Appends `ty`, the decimal `n`, and CRLF, for a length or count: the
/// one- and two-digit values of nearly every command (`*3`, `$16`) are
/// written without formatting.
#[inline]
pub(crate) fn count(dst: &mut BytesMut, ty: u8, n: usize) {
    if n < 10 {
        dst.put_slice(&[ty, b'0' + n as u8, b'\r', b'\n']);
    } else if n < 100 {
        dst.put_slice(&[
            ty,
            b'0' + (n / 10) as u8,
            b'0' + (n % 10) as u8,
            b'\r',
            b'\n',
        ]);
    } else {
        header(dst, ty, n);
    }
}

/// Decimal digits of `n` (for exact `reserve` sizes).
#[inline]
pub(crate) fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

/// Appends a bulk string `$len\r\n<data>\r\n`.
#[inline]
pub(crate) fn bulk(dst: &mut BytesMut, ty: u8, data: &[u8]) {
    count(dst, ty, data.len());
    dst.reserve(data.len() + 2);
    dst.put_slice(data);
    dst.put_slice(b"\r\n");
}

/// Appends a line type (`+`, `-`, `(`); CR and LF inside `data` become
/// spaces, as Redis does for error replies, since a line cannot hold them.
fn line(dst: &mut BytesMut, ty: u8, data: &[u8]) {
    dst.reserve(data.len() + 3);
    dst.put_u8(ty);
    if memchr::memchr2(b'\r', b'\n', data).is_none() {
        dst.put_slice(data);
    } else {
        dst.extend(data.iter().map(|&c| match c {
            b'\r' | b'\n' => b' ',
            c => c,
        }));
    }
    dst.put_slice(b"\r\n");
}

fn double(dst: &mut BytesMut, d: f64) {
    dst.put_u8(b',');
    if d.is_nan() {
        dst.put_slice(b"nan");
    } else if d.is_infinite() {
        dst.put_slice(if d > 0.0 { b"inf" } else { b"-inf" });
    } else {
        let mut b = ryu::Buffer::new();
        dst.put_slice(b.format_finite(d).as_bytes());
    }
    dst.put_slice(b"\r\n");
}

/// Appends the RESP encoding of `frame` to `dst`.
///
/// RESP3-only types are written as RESP3 whatever the peer negotiated; a
/// server speaking RESP2 must downgrade them first. Simple strings, simple
/// errors and big numbers cannot contain CR or LF: such bytes are written as
/// spaces. Recursion follows the frame's own nesting, which decoded frames
/// bound by [`Limits::max_depth`](crate::Limits::max_depth).
pub fn encode<B: AsRef<[u8]>>(dst: &mut BytesMut, frame: &Frame<B>) {
    match frame {
        Frame::SimpleString(s) => line(dst, b'+', s.as_ref()),
        Frame::SimpleError(s) => line(dst, b'-', s.as_ref()),
        Frame::Integer(i) => header(dst, b':', *i),
        Frame::BulkString(s) => bulk(dst, b'$', s.as_ref()),
        Frame::NullBulk => dst.put_slice(b"$-1\r\n"),
        Frame::Array(v) => {
            count(dst, b'*', v.len());
            v.iter().for_each(|f| encode(dst, f));
        }
        Frame::NullArray => dst.put_slice(b"*-1\r\n"),
        Frame::Null => dst.put_slice(b"_\r\n"),
        Frame::Boolean(b) => dst.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Frame::Double(d) => double(dst, *d),
        Frame::BigNumber(s) => line(dst, b'(', s.as_ref()),
        Frame::BulkError(s) => bulk(dst, b'!', s.as_ref()),
        Frame::Verbatim { format, text } => {
            let text = text.as_ref();
            count(dst, b'=', text.len() + 4);
            dst.reserve(text.len() + 6);
            dst.put_slice(format);
            dst.put_u8(b':');
            dst.put_slice(text);
            dst.put_slice(b"\r\n");
        }
        Frame::Map(v) => {
            count(dst, b'%', v.len());
            pairs(dst, v);
        }
        Frame::Set(v) => {
            count(dst, b'~', v.len());
            v.iter().for_each(|f| encode(dst, f));
        }
        Frame::Attribute { attributes, value } => {
            count(dst, b'|', attributes.len());
            pairs(dst, attributes);
            encode(dst, value);
        }
        Frame::Push(v) => {
            count(dst, b'>', v.len());
            v.iter().for_each(|f| encode(dst, f));
        }
    }
}

fn pairs<B: AsRef<[u8]>>(dst: &mut BytesMut, v: &[(Frame<B>, Frame<B>)]) {
    for (k, v) in v {
        encode(dst, k);
        encode(dst, v);
    }
}

/// Appends a command as a RESP array of bulk strings.
///
/// The exact encoded size is computed first and reserved once, so encoding
/// allocates at most one buffer growth and nothing per argument.
///
/// ```
/// let mut out = bytes::BytesMut::new();
/// proto_resp::codec::encode_command(&mut out, &[&b"SET"[..], b"k", b"v"]);
/// assert_eq!(&out[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
/// ```
pub fn encode_command<A: AsRef<[u8]>>(dst: &mut BytesMut, args: &[A]) {
    let body: usize = args
        .iter()
        .map(|a| {
            let n = a.as_ref().len();
            n + digits(n) + 5
        })
        .sum();
    dst.reserve(body + digits(args.len()) + 3);
    count(dst, b'*', args.len());
    for a in args {
        bulk(dst, b'$', a.as_ref());
    }
}

/// Appends `frame` downgraded to RESP2, for a server whose client did not
/// send `HELLO 3`. The mapping is the one Redis applies: maps become flat
/// key/value arrays, sets and pushes arrays, `_` the null bulk string,
/// booleans the integers 1 and 0, doubles, big numbers and verbatim text
/// bulk strings, bulk errors simple errors; attributes are dropped and only
/// the value they annotate is written.
pub fn encode_resp2<B: AsRef<[u8]>>(dst: &mut BytesMut, frame: &Frame<B>) {
    match frame {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => {
            count(dst, b'*', v.len());
            v.iter().for_each(|f| encode_resp2(dst, f));
        }
        Frame::Map(v) => {
            count(dst, b'*', v.len().saturating_mul(2));
            for (k, v) in v {
                encode_resp2(dst, k);
                encode_resp2(dst, v);
            }
        }
        Frame::Null => dst.put_slice(b"$-1\r\n"),
        Frame::Boolean(b) => dst.put_slice(if *b { b":1\r\n" } else { b":0\r\n" }),
        Frame::Double(d) => {
            let mut tmp = BytesMut::new();
            double(&mut tmp, *d);
            // `,<repr>\r\n` -> `<repr>`
            bulk(dst, b'$', &tmp[1..tmp.len() - 2]);
        }
        Frame::BigNumber(s) => bulk(dst, b'$', s.as_ref()),
        Frame::Verbatim { text, .. } => bulk(dst, b'$', text.as_ref()),
        Frame::BulkError(s) => line(dst, b'-', s.as_ref()),
        Frame::Attribute { value, .. } => encode_resp2(dst, value),
        resp2 => encode(dst, resp2),
    }
}
