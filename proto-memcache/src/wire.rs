//! Small helpers shared by the text and meta codecs: line framing and
//! decimal numbers.

use bytes::{BufMut, BytesMut};

use crate::error::DecodeError;

/// Finds the first `\r\n`-terminated line (protocol.txt: "Text lines are
/// always terminated by \r\n").
///
/// Returns the line without its terminator and the bytes consumed, `Ok(None)`
/// when no terminator is buffered yet, and an error when none is within
/// `max_line` bytes or a bare `\n` is found.
pub(crate) fn line(buf: &[u8], max_line: usize) -> Result<Option<(&[u8], usize)>, DecodeError> {
    let window = &buf[..buf.len().min(max_line.saturating_add(2))];
    match memchr::memchr(b'\n', window) {
        Some(0) => Err(DecodeError::Malformed("bare \\n")),
        Some(nl) if window[nl - 1] != b'\r' => Err(DecodeError::Malformed("bare \\n")),
        Some(nl) => Ok(Some((&buf[..nl - 1], nl + 1))),
        None if buf.len() >= max_line.saturating_add(2) => {
            Err(DecodeError::LineTooLong { limit: max_line })
        }
        None => Ok(None),
    }
}

/// Parses an unsigned decimal (digits only, no sign, no padding).
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// Parses an unsigned 32-bit decimal.
pub(crate) fn parse_u32(s: &[u8]) -> Option<u32> {
    parse_u64(s).and_then(|n| u32::try_from(n).ok())
}

/// Parses a signed decimal (an optional leading `-`).
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    match s.split_first() {
        Some((b'-', rest)) => {
            let n = parse_u64(rest)?;
            0i64.checked_sub_unsigned(n)
        }
        _ => parse_u64(s).and_then(|n| i64::try_from(n).ok()),
    }
}

/// Appends a decimal number.
pub(crate) fn put_u64(buf: &mut BytesMut, n: u64) {
    buf.put_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends a signed decimal number.
pub(crate) fn put_i64(buf: &mut BytesMut, n: i64) {
    buf.put_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Splits a line on single spaces (memcached separates tokens with one
/// space). Empty tokens (double spaces) are reported by the caller as
/// malformed where it matters.
pub(crate) fn tokens(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| b == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines() {
        assert_eq!(line(b"END\r\nx", 100), Ok(Some((&b"END"[..], 5))));
        assert_eq!(line(b"EN", 100), Ok(None));
        assert_eq!(line(b"END\r", 100), Ok(None));
        assert_eq!(line(b"\r\n", 100), Ok(Some((&b""[..], 2))));
        assert!(line(b"END\n", 100).is_err());
        assert!(line(b"\n", 100).is_err());
        assert_eq!(
            line(b"0123456789", 4),
            Err(DecodeError::LineTooLong { limit: 4 })
        );
        assert_eq!(line(b"0123\r\n", 4), Ok(Some((&b"0123"[..], 6))));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"+1"), None);
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }
}
