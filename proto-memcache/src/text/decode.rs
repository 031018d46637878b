//! Text reply decoder (protocol.txt "Error strings", "Storage commands",
//! "Retrieval command", "Deletion", "Increment/Decrement", "Touch",
//! "Statistics", "Other commands").

use super::{Reply, Value};
use crate::error::{DecodeError, DecodeResult};
use crate::key::is_key_byte;
use crate::limits::Limits;
use crate::wire::{self, parse_u32, parse_u64};

/// Decodes one reply frame from the front of `buf`.
///
/// Returns the frame and the number of bytes it used, `Ok(None)` when more
/// bytes are needed. A `VALUE` byte count above
/// [`Limits::max_value_len`] is refused as soon as its line is read, before
/// its data block is waited for.
pub fn decode<'a>(buf: &'a [u8], limits: &Limits) -> DecodeResult<Reply<&'a [u8]>> {
    let Some((line, used)) = wire::line(buf, limits.max_line_len)? else {
        return Ok(None);
    };
    let (head, rest) = match memchr::memchr(b' ', line) {
        Some(i) => (&line[..i], Some(&line[i + 1..])),
        None => (line, None),
    };
    let reply = match (head, rest) {
        (b"VALUE", Some(rest)) => return value(buf, rest, used, limits),
        (b"END", None) => Reply::End,
        (b"STORED", None) => Reply::Stored,
        (b"NOT_STORED", None) => Reply::NotStored,
        (b"EXISTS", None) => Reply::Exists,
        (b"NOT_FOUND", None) => Reply::NotFound,
        (b"DELETED", None) => Reply::Deleted,
        (b"TOUCHED", None) => Reply::Touched,
        (b"OK", None) => Reply::Ok,
        (b"STAT", Some(rest)) => {
            let (name, value) = match memchr::memchr(b' ', rest) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            if name.is_empty() {
                return Err(DecodeError::Malformed("STAT without a name"));
            }
            Reply::Stat { name, value }
        }
        (b"VERSION", Some(v)) => Reply::Version(v),
        (b"ERROR", msg) => Reply::Error(msg.unwrap_or(&line[line.len()..])),
        (b"CLIENT_ERROR", msg) => Reply::ClientError(msg.unwrap_or(&line[line.len()..])),
        (b"SERVER_ERROR", msg) => Reply::ServerError(msg.unwrap_or(&line[line.len()..])),
        _ => {
            // protocol.txt "Increment/Decrement": the reply is "<value>\r\n";
            // the number "MAY be space-padded at the end".
            let digits = trim_end_spaces(line);
            match parse_u64(digits) {
                Some(n) if !digits.is_empty() => Reply::Number(n),
                _ => return Err(DecodeError::Malformed("unknown text reply")),
            }
        }
    };
    Ok(Some((reply, used)))
}

fn trim_end_spaces(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    &s[..end]
}

/// `VALUE <key> <flags> <bytes> [<cas unique>]\r\n<data block>\r\n`.
fn value<'a>(
    buf: &'a [u8],
    rest: &'a [u8],
    line_used: usize,
    limits: &Limits,
) -> DecodeResult<Reply<&'a [u8]>> {
    let mut it = wire::tokens(rest);
    let key = it.next().unwrap_or_default();
    let flags = it.next().and_then(parse_u32);
    let len = it.next().and_then(parse_u64);
    let cas = match it.next() {
        None => None,
        Some(t) => Some(parse_u64(t).ok_or(DecodeError::Malformed("VALUE cas"))?),
    };
    if it.next().is_some() {
        return Err(DecodeError::Malformed("VALUE has extra fields"));
    }
    if key.is_empty() || key.len() > limits.max_key_len || !key.iter().all(|&b| is_key_byte(b)) {
        return Err(DecodeError::Malformed("VALUE key"));
    }
    let flags = flags.ok_or(DecodeError::Malformed("VALUE flags"))?;
    let len = len.ok_or(DecodeError::Malformed("VALUE byte count"))?;
    if len > limits.max_value_len as u64 {
        return Err(DecodeError::ValueTooLarge {
            len,
            limit: limits.max_value_len,
        });
    }
    let len = len as usize;
    let total = line_used + len + 2;
    if buf.len() < total {
        return Ok(None);
    }
    if &buf[line_used + len..total] != b"\r\n" {
        return Err(DecodeError::Malformed("data block not followed by \\r\\n"));
    }
    let data = &buf[line_used..line_used + len];
    Ok(Some((
        Reply::Value(Value {
            key,
            flags,
            cas,
            data,
        }),
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
    fn status_lines() {
        assert_eq!(one(b"END\r\n"), Reply::End);
        assert_eq!(one(b"STORED\r\n"), Reply::Stored);
        assert_eq!(one(b"NOT_STORED\r\n"), Reply::NotStored);
        assert_eq!(one(b"EXISTS\r\n"), Reply::Exists);
        assert_eq!(one(b"NOT_FOUND\r\n"), Reply::NotFound);
        assert_eq!(one(b"DELETED\r\n"), Reply::Deleted);
        assert_eq!(one(b"TOUCHED\r\n"), Reply::Touched);
        assert_eq!(one(b"OK\r\n"), Reply::Ok);
    }

    #[test]
    fn numbers_versions_stats_errors() {
        assert_eq!(one(b"42\r\n"), Reply::Number(42));
        assert_eq!(one(b"7   \r\n"), Reply::Number(7));
        assert_eq!(one(b"18446744073709551615\r\n"), Reply::Number(u64::MAX));
        assert_eq!(one(b"VERSION 1.6.18\r\n"), Reply::Version(&b"1.6.18"[..]));
        assert_eq!(
            one(b"STAT rusage_user 0.1:2\r\n"),
            Reply::Stat {
                name: &b"rusage_user"[..],
                value: &b"0.1:2"[..]
            }
        );
        assert_eq!(
            one(b"STAT ext_path a b\r\n"),
            Reply::Stat {
                name: &b"ext_path"[..],
                value: &b"a b"[..]
            }
        );
        assert_eq!(one(b"ERROR\r\n"), Reply::Error(&b""[..]));
        assert_eq!(one(b"ERROR too big\r\n"), Reply::Error(&b"too big"[..]));
        assert_eq!(
            one(b"CLIENT_ERROR bad data chunk\r\n"),
            Reply::ClientError(&b"bad data chunk"[..])
        );
        assert_eq!(
            one(b"SERVER_ERROR out of memory\r\n"),
            Reply::ServerError(&b"out of memory"[..])
        );
    }

    #[test]
    fn values() {
        let r = one(b"VALUE k 5 3\r\na\r\n\r\n");
        assert_eq!(
            r,
            Reply::Value(Value {
                key: &b"k"[..],
                flags: 5,
                cas: None,
                data: &b"a\r\n"[..]
            })
        );
        let r = one(b"VALUE k 0 0 99\r\n\r\n");
        assert_eq!(
            r,
            Reply::Value(Value {
                key: &b"k"[..],
                flags: 0,
                cas: Some(99),
                data: &b""[..]
            })
        );
        // Leaves what follows.
        let (_, n) = dec(b"VALUE k 0 1\r\nx\r\nEND\r\n").unwrap().unwrap();
        assert_eq!(n, 16);
    }

    #[test]
    fn partial_input_is_none() {
        let full = b"VALUE key 1 4 7\r\nabcd\r\n";
        for i in 0..full.len() {
            assert_eq!(dec(&full[..i]), Ok(None), "prefix {i}");
        }
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"STORE\r\n"[..],
            b"END \r\n",
            b"stored\r\n",
            b"VALUE k 1\r\n",
            b"VALUE k x 1\r\n",
            b"VALUE k 1 1 1 1\r\n",
            b"VALUE  1 1\r\n",
            b"VALUE k 1 -1\r\n",
            b"VALUE k 4294967296 1\r\n",
            b"VALUE k 1 1 x\r\n",
            b"VALUE k 0 1\r\nxyz",
            b"STAT\r\n",
            b"STAT  x\r\n",
            b"END\n",
            b"\r\n",
            b"-1\r\n",
        ] {
            assert!(dec(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn hostile_lengths_refused_before_buffering() {
        let l = Limits {
            max_value_len: 10,
            ..Limits::default()
        };
        assert_eq!(
            decode(b"VALUE k 0 11\r\n", &l),
            Err(DecodeError::ValueTooLarge { len: 11, limit: 10 })
        );
        assert_eq!(
            decode(b"VALUE k 0 99999999999999999999\r\n", &l),
            Err(DecodeError::Malformed("VALUE byte count"))
        );
        let l = Limits {
            max_line_len: 16,
            ..Limits::default()
        };
        assert_eq!(
            decode(&[b'1'; 64], &l),
            Err(DecodeError::LineTooLong { limit: 16 })
        );
    }
}
