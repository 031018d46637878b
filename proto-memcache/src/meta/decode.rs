//! Meta reply decoder (protocol.txt meta command sections, "Meta No-Op").

use super::{Flags, Reply};
use crate::error::{DecodeError, DecodeResult};
use crate::key::is_key_byte;
use crate::limits::Limits;
use crate::wire::{self, parse_u64};

/// True when `buf` starts with a meta reply code (`HD`, `VA`, `EN`, `NF`,
/// `NS`, `EX`, `MN`, `ME`) rather than a text reply. `None` when fewer than
/// three bytes are buffered and the answer is not known yet (`EN` vs `END`).
pub fn is_meta_reply(buf: &[u8]) -> Option<bool> {
    let code = buf.get(..2)?;
    let known = matches!(
        code,
        b"HD" | b"VA" | b"EN" | b"NF" | b"NS" | b"EX" | b"MN" | b"ME"
    );
    if !known {
        return Some(false);
    }
    let third = *buf.get(2)?;
    Some(third == b' ' || third == b'\r')
}

/// Decodes one meta reply (or a text error line) from the front of `buf`.
///
/// Returns the frame and the bytes it used, `Ok(None)` when more are needed.
/// A `VA` size above [`Limits::max_value_len`] is refused before its data
/// block is waited for.
pub fn decode<'a>(buf: &'a [u8], limits: &Limits) -> DecodeResult<Reply<&'a [u8]>> {
    let Some((line, used)) = wire::line(buf, limits.max_line_len)? else {
        return Ok(None);
    };
    let (head, rest) = match memchr::memchr(b' ', line) {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, &line[line.len()..]),
    };
    let has_rest = head.len() < line.len();
    let reply = match head {
        b"HD" => Reply::Hd(flags(rest, has_rest)?),
        b"EN" => Reply::Miss(flags(rest, has_rest)?),
        b"NF" => Reply::NotFound(flags(rest, has_rest)?),
        b"NS" => Reply::NotStored(flags(rest, has_rest)?),
        b"EX" => Reply::Exists(flags(rest, has_rest)?),
        b"MN" if !has_rest => Reply::NoOp,
        b"VA" if has_rest => return value(buf, rest, used, limits),
        b"ME" if has_rest => {
            let (key, info) = match memchr::memchr(b' ', rest) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            if key.is_empty() || !key.iter().all(|&b| is_key_byte(b)) {
                return Err(DecodeError::Malformed("ME key"));
            }
            Reply::Debug { key, info }
        }
        b"ERROR" => Reply::Error(rest),
        b"CLIENT_ERROR" => Reply::ClientError(rest),
        b"SERVER_ERROR" => Reply::ServerError(rest),
        _ => return Err(DecodeError::Malformed("unknown meta reply")),
    };
    Ok(Some((reply, used)))
}

/// Validates returned flags: tokens separated by single spaces, each a
/// letter followed by printable non-space bytes.
fn flags(rest: &[u8], has_rest: bool) -> Result<Flags<&[u8]>, DecodeError> {
    if has_rest && rest.is_empty() {
        return Err(DecodeError::Malformed("trailing space after meta code"));
    }
    for tok in wire::tokens(rest).filter(|_| !rest.is_empty()) {
        match tok.split_first() {
            Some((l, t)) if l.is_ascii_alphabetic() && t.iter().all(|&b| is_key_byte(b)) => {}
            _ => return Err(DecodeError::Malformed("meta return flag")),
        }
    }
    Ok(Flags::new(rest))
}

/// `VA <size> <flags>*\r\n<data block>\r\n`.
fn value<'a>(
    buf: &'a [u8],
    rest: &'a [u8],
    line_used: usize,
    limits: &Limits,
) -> DecodeResult<Reply<&'a [u8]>> {
    let (size, fl) = match memchr::memchr(b' ', rest) {
        Some(i) => (&rest[..i], flags(&rest[i + 1..], true)?),
        None => (rest, Flags::new(&rest[rest.len()..])),
    };
    let len = parse_u64(size).ok_or(DecodeError::Malformed("VA size"))?;
    if len > limits.max_value_len as u64 {
        return Err(DecodeError::ValueTooLarge {
            len,
            limit: limits.max_value_len,
        });
    }
    let total = line_used + len as usize + 2;
    if buf.len() < total {
        return Ok(None);
    }
    if &buf[total - 2..total] != b"\r\n" {
        return Err(DecodeError::Malformed("data block not followed by \\r\\n"));
    }
    Ok(Some((
        Reply::Value {
            flags: fl,
            data: &buf[line_used..total - 2],
        },
        total,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> DecodeResult<Reply<&[u8]>> {
        decode(b, &Limits::default())
    }

    fn one(b: &[u8]) -> Reply<&[u8]> {
        let (r, n) = dec(b).unwrap().unwrap();
        assert_eq!(n, b.len());
        r
    }

    #[test]
    fn status_codes() {
        assert_eq!(one(b"HD\r\n"), Reply::Hd(Flags::new(&b""[..])));
        assert_eq!(one(b"HD c8\r\n").flags().unwrap().cas(), Some(8));
        assert_eq!(one(b"EN\r\n"), Reply::Miss(Flags::new(&b""[..])));
        assert_eq!(one(b"NF O7\r\n").flags().unwrap().opaque(), Some(&b"7"[..]));
        assert_eq!(one(b"NS O4\r\n").kind(), "NS");
        assert_eq!(one(b"EX\r\n").kind(), "EX");
        assert_eq!(one(b"MN\r\n"), Reply::NoOp);
        assert_eq!(
            one(b"CLIENT_ERROR bad command line format\r\n"),
            Reply::ClientError(&b"bad command line format"[..])
        );
        assert_eq!(one(b"ERROR\r\n"), Reply::Error(&b""[..]));
    }

    #[test]
    fn values_and_flags() {
        let r = one(b"VA 2 s1 t-1 f5 c4 kfoo O99 W\r\nhi\r\n");
        let Reply::Value { flags, data } = r else {
            panic!()
        };
        assert_eq!(data, b"hi");
        assert_eq!(flags.size(), Some(1));
        assert_eq!(flags.ttl(), Some(-1));
        assert_eq!(flags.client_flags(), Some(5));
        assert_eq!(flags.cas(), Some(4));
        assert_eq!(flags.key(), Some(&b"foo"[..]));
        assert_eq!(flags.opaque(), Some(&b"99"[..]));
        assert!(flags.won() && !flags.stale());
        let r = one(b"VA 0\r\n\r\n");
        assert_eq!(
            r,
            Reply::Value {
                flags: Flags::new(&b""[..]),
                data: &b""[..]
            }
        );
        assert_eq!(
            one(b"ME k exp=-1 la=2 cas=4\r\n"),
            Reply::Debug {
                key: &b"k"[..],
                info: &b"exp=-1 la=2 cas=4"[..]
            }
        );
    }

    #[test]
    fn partial_input_is_none() {
        let full = b"VA 4 c1 O2\r\nab\r\n\r\n";
        for i in 0..full.len() {
            assert_eq!(dec(&full[..i]), Ok(None), "prefix {i}");
        }
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"HD \r\n"[..],
            b"HD  c1\r\n",
            b"HD 1\r\n",
            b"HD c\x01\r\n",
            b"VA\r\n",
            b"VA x\r\n",
            b"VA -1\r\n",
            b"VA 1\r\nab\r\n",
            b"MN x\r\n",
            b"ME\r\n",
            b"XX\r\n",
            b"END\r\n",
        ] {
            assert!(dec(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn hostile_size() {
        let l = Limits {
            max_value_len: 3,
            ..Limits::default()
        };
        assert_eq!(
            decode(b"VA 4 O1\r\n", &l),
            Err(DecodeError::ValueTooLarge { len: 4, limit: 3 })
        );
    }

    #[test]
    fn meta_or_text() {
        assert_eq!(is_meta_reply(b"EN\r\n"), Some(true));
        assert_eq!(is_meta_reply(b"END\r\n"), Some(false));
        assert_eq!(is_meta_reply(b"EN"), None);
        assert_eq!(is_meta_reply(b"VALUE"), Some(false));
        assert_eq!(is_meta_reply(b"VA 1"), Some(true));
        assert_eq!(is_meta_reply(b"EXISTS"), Some(false));
        assert_eq!(is_meta_reply(b"OK\r\n"), Some(false));
        assert_eq!(is_meta_reply(b"S"), None);
    }
}
