//! One RESP value header at a time: the type byte, its line, and for bulk
//! types the payload. Aggregates are only announced here (kind + count);
//! `decode.rs` assembles them.

use memchr::memchr2;

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::limits::Limits;

/// Which RESP revision's type bytes the decoder accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// RESP2: `+ - : $ *` only.
    Resp2,
    /// RESP3: every type of the RESP3 specification (a superset of RESP2).
    Resp3,
}

/// The aggregate types, by type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AggKind {
    Array,
    Map,
    Set,
    Attribute,
    Push,
}

/// One decoded header. Byte strings are `(start, end)` offsets into the input.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Token {
    Simple(usize, usize),
    Error(usize, usize),
    Integer(i64),
    Bulk(usize, usize),
    NullBulk,
    NullArray,
    Null,
    Boolean(bool),
    Double(f64),
    BigNumber(usize, usize),
    BulkError(usize, usize),
    Verbatim([u8; 3], usize, usize),
    /// Aggregate with its element count (entries for map/attribute).
    Aggregate(AggKind, usize),
}

/// Finds the CRLF ending the line that starts at `start`.
///
/// Returns `(content_end, next)`; `Ok(None)` when the terminator has not
/// arrived yet. Lines must not contain a bare CR or LF (RESP3 spec, "Simple
/// string": "cannot contain the CR nor the LF characters").
pub(crate) fn line(
    buf: &[u8],
    start: usize,
    max: usize,
) -> Result<Option<(usize, usize)>, DecodeError> {
    let window_end = buf.len().min(start.saturating_add(max).saturating_add(1));
    let window = &buf[start.min(window_end)..window_end];
    // Header lines are a few bytes (`$16`, `+OK`, `:1`, `*100`): a byte loop
    // finds their end sooner than setting up a vector search.
    const SHORT: usize = 16;
    let found = match window
        .iter()
        .take(SHORT)
        .position(|&b| b == b'\r' || b == b'\n')
    {
        Some(i) => Some(i),
        None if window.len() > SHORT => memchr2(b'\r', b'\n', &window[SHORT..]).map(|i| i + SHORT),
        None => None,
    };
    match found {
        Some(i) => {
            let at = start + i;
            if buf[at] == b'\n' {
                return Err(DecodeError::new(K::BadLineEnding, at));
            }
            match buf.get(at + 1) {
                None => Ok(None),
                Some(b'\n') => Ok(Some((at, at + 2))),
                Some(_) => Err(DecodeError::new(K::BadLineEnding, at)),
            }
        }
        None if window.len() > max => Err(DecodeError::new(K::LineTooLong { max }, start)),
        None => Ok(None),
    }
}

/// Parses an optionally signed decimal `i64`, rejecting empty input,
/// non-digits and overflow.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let d = i64::from(d - b'0');
        v = v.checked_mul(10)?;
        v = if neg {
            v.checked_sub(d)?
        } else {
            v.checked_add(d)?
        };
    }
    Some(v)
}

/// Parses a non-negative decimal length, saturating at `u64::MAX` so that a
/// hostile 40-digit length is reported as "too long", not "malformed".
fn parse_len(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &d in s {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    Some(v)
}

/// A length header: `Ok(None)` stands for `-1` (null).
fn length(s: &[u8], at: usize) -> Result<Option<u64>, DecodeError> {
    if s == b"-1" {
        return Ok(None);
    }
    if s == b"?" {
        return Err(DecodeError::new(K::StreamedUnsupported, at));
    }
    parse_len(s)
        .map(Some)
        .ok_or(DecodeError::new(K::BadLength, at))
}

fn is_big_number(s: &[u8]) -> bool {
    let digits = match s.first() {
        Some(b'-' | b'+') => &s[1..],
        _ => s,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Decodes the header of the value starting at `pos`.
///
/// Returns the token and the offset just past it (past the payload for bulk
/// types); `Ok(None)` if more input is needed.
pub(crate) fn next(
    buf: &[u8],
    pos: usize,
    limits: &Limits,
    proto: Protocol,
) -> Result<Option<(Token, usize)>, DecodeError> {
    let Some(&ty) = buf.get(pos) else {
        return Ok(None);
    };
    let resp3 = proto == Protocol::Resp3;
    match ty {
        b'+' | b'-' | b':' | b'$' | b'*' => {}
        b'_' | b'#' | b',' | b'(' | b'!' | b'=' | b'%' | b'~' | b'|' | b'>' if resp3 => {}
        _ => return Err(DecodeError::new(K::UnknownType(ty), pos)),
    }
    let Some((end, next)) = line(buf, pos + 1, limits.max_line_len)? else {
        return Ok(None);
    };
    let s = &buf[pos + 1..end];
    let err = |k| DecodeError::new(k, pos);
    let tok = match ty {
        b'+' => Token::Simple(pos + 1, end),
        b'-' => Token::Error(pos + 1, end),
        b':' => Token::Integer(parse_i64(s).ok_or(err(K::BadInteger))?),
        b'_' if s.is_empty() => Token::Null,
        b'_' => return Err(err(K::BadNull)),
        b'#' => match s {
            b"t" => Token::Boolean(true),
            b"f" => Token::Boolean(false),
            _ => return Err(err(K::BadBoolean)),
        },
        b',' => Token::Double(
            std::str::from_utf8(s)
                .ok()
                .and_then(|t| t.parse::<f64>().ok())
                .ok_or(err(K::BadDouble))?,
        ),
        b'(' if is_big_number(s) => Token::BigNumber(pos + 1, end),
        b'(' => return Err(err(K::BadBigNumber)),
        b'$' | b'!' | b'=' => {
            let Some(len) = length(s, pos)? else {
                return if ty == b'$' {
                    Ok(Some((Token::NullBulk, next)))
                } else {
                    Err(err(K::BadLength))
                };
            };
            let max = limits.max_bulk_len;
            if len > max as u64 {
                return Err(err(K::BulkTooLong { len, max }));
            }
            // `len <= max_bulk_len <= usize::MAX`, and `next + len + 2` is
            // bounded by the buffer check below, so nothing overflows.
            let len = len as usize;
            let Some(payload_end) = next.checked_add(len) else {
                return Err(err(K::BulkTooLong {
                    len: len as u64,
                    max,
                }));
            };
            if buf.len() < payload_end.saturating_add(2) {
                return Ok(None);
            }
            if &buf[payload_end..payload_end + 2] != b"\r\n" {
                return Err(DecodeError::new(K::MissingPayloadCrlf, payload_end));
            }
            let after = payload_end + 2;
            let tok = match ty {
                b'$' => Token::Bulk(next, payload_end),
                b'!' => Token::BulkError(next, payload_end),
                _ => {
                    if len < 4 || buf[next + 3] != b':' {
                        return Err(err(K::BadVerbatim));
                    }
                    let format = [buf[next], buf[next + 1], buf[next + 2]];
                    Token::Verbatim(format, next + 4, payload_end)
                }
            };
            return Ok(Some((tok, after)));
        }
        _ => {
            let kind = match ty {
                b'*' => AggKind::Array,
                b'%' => AggKind::Map,
                b'~' => AggKind::Set,
                b'|' => AggKind::Attribute,
                _ => AggKind::Push,
            };
            let Some(count) = length(s, pos)? else {
                return if kind == AggKind::Array {
                    Ok(Some((Token::NullArray, next)))
                } else {
                    Err(err(K::BadLength))
                };
            };
            let max = limits.max_elements;
            if count > max as u64 {
                return Err(err(K::TooManyElements { count, max }));
            }
            Token::Aggregate(kind, count as usize)
        }
    };
    Ok(Some((tok, next)))
}
