//! Text request encoders and a reply encoder.
//!
//! Every request encoder validates its whole input first and writes nothing
//! when it returns an error.

use bytes::{BufMut, BytesMut};

use super::{Reply, Value};
use crate::error::UsageError;
use crate::key::validate_key;
use crate::limits::Limits;
use crate::wire::put_u64;

/// The storage commands (protocol.txt "Storage commands").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// `set`: store unconditionally.
    Set,
    /// `add`: store only if the key is absent.
    Add,
    /// `replace`: store only if the key is present.
    Replace,
    /// `append`: add the data after the existing data.
    Append,
    /// `prepend`: add the data before the existing data.
    Prepend,
    /// `cas <unique>`: store only if the item is unchanged since it was read.
    Cas(u64),
}

impl StoreMode {
    fn verb(self) -> &'static [u8] {
        match self {
            StoreMode::Set => b"set ",
            StoreMode::Add => b"add ",
            StoreMode::Replace => b"replace ",
            StoreMode::Append => b"append ",
            StoreMode::Prepend => b"prepend ",
            StoreMode::Cas(_) => b"cas ",
        }
    }
}

/// The retrieval commands (protocol.txt "Retrieval command", "Get And Touch").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetMode {
    /// `get`.
    Get,
    /// `gets`: values carry their CAS unique.
    Gets,
    /// `gat <exptime>`: fetch and touch.
    Gat(u32),
    /// `gats <exptime>`: fetch and touch, with CAS.
    Gats(u32),
}

pub(crate) fn check_value(value: &[u8], limits: &Limits) -> Result<(), UsageError> {
    if value.len() > limits.max_value_len {
        return Err(UsageError::ValueTooLarge {
            len: value.len(),
            limit: limits.max_value_len,
        });
    }
    Ok(())
}

pub(crate) fn check_keys<K: AsRef<[u8]>>(keys: &[K], limits: &Limits) -> Result<(), UsageError> {
    if keys.is_empty() {
        return Err(UsageError::NoKeys);
    }
    if keys.len() > limits.max_keys_per_request {
        return Err(UsageError::TooManyKeys {
            count: keys.len(),
            limit: limits.max_keys_per_request,
        });
    }
    for k in keys {
        validate_key(k.as_ref(), limits)?;
    }
    Ok(())
}

fn noreply(buf: &mut BytesMut, noreply: bool) {
    if noreply {
        buf.put_slice(b" noreply");
    }
}

/// `<command name> <key> <flags> <exptime> <bytes> [noreply]\r\n<data>\r\n`,
/// or `cas <key> <flags> <exptime> <bytes> <cas unique> [noreply]` for
/// [`StoreMode::Cas`].
#[allow(clippy::too_many_arguments)]
pub fn store(
    buf: &mut BytesMut,
    mode: StoreMode,
    key: &[u8],
    flags: u32,
    exptime: u32,
    value: &[u8],
    no_reply: bool,
    limits: &Limits,
) -> Result<(), UsageError> {
    validate_key(key, limits)?;
    check_value(value, limits)?;
    buf.reserve(key.len() + value.len() + 64);
    buf.put_slice(mode.verb());
    buf.put_slice(key);
    buf.put_u8(b' ');
    put_u64(buf, flags.into());
    buf.put_u8(b' ');
    put_u64(buf, exptime.into());
    buf.put_u8(b' ');
    put_u64(buf, value.len() as u64);
    if let StoreMode::Cas(unique) = mode {
        buf.put_u8(b' ');
        put_u64(buf, unique);
    }
    noreply(buf, no_reply);
    buf.put_slice(b"\r\n");
    buf.put_slice(value);
    buf.put_slice(b"\r\n");
    Ok(())
}

/// `get|gets <key>*` or `gat|gats <exptime> <key>*`.
pub fn get<K: AsRef<[u8]>>(
    buf: &mut BytesMut,
    mode: GetMode,
    keys: &[K],
    limits: &Limits,
) -> Result<(), UsageError> {
    check_keys(keys, limits)?;
    // One reservation for the whole line: the verb and exptime, then a
    // space and the key for each key, then CRLF.
    let keys_len: usize = keys.iter().map(|k| k.as_ref().len() + 1).sum();
    buf.reserve("gats 4294967295\r\n".len() + keys_len);
    match mode {
        GetMode::Get => buf.put_slice(b"get"),
        GetMode::Gets => buf.put_slice(b"gets"),
        GetMode::Gat(t) | GetMode::Gats(t) => {
            buf.put_slice(if matches!(mode, GetMode::Gat(_)) {
                b"gat "
            } else {
                b"gats "
            });
            put_u64(buf, t.into());
        }
    }
    for k in keys {
        buf.put_u8(b' ');
        buf.put_slice(k.as_ref());
    }
    buf.put_slice(b"\r\n");
    Ok(())
}

/// `delete <key> [noreply]`.
pub fn delete(
    buf: &mut BytesMut,
    key: &[u8],
    no_reply: bool,
    limits: &Limits,
) -> Result<(), UsageError> {
    validate_key(key, limits)?;
    buf.put_slice(b"delete ");
    buf.put_slice(key);
    noreply(buf, no_reply);
    buf.put_slice(b"\r\n");
    Ok(())
}

/// `incr <key> <value> [noreply]` (`decr` when `decrement`).
pub fn incr_decr(
    buf: &mut BytesMut,
    decrement: bool,
    key: &[u8],
    delta: u64,
    no_reply: bool,
    limits: &Limits,
) -> Result<(), UsageError> {
    validate_key(key, limits)?;
    buf.put_slice(if decrement { b"decr " } else { b"incr " });
    buf.put_slice(key);
    buf.put_u8(b' ');
    put_u64(buf, delta);
    noreply(buf, no_reply);
    buf.put_slice(b"\r\n");
    Ok(())
}

/// `touch <key> <exptime> [noreply]`.
pub fn touch(
    buf: &mut BytesMut,
    key: &[u8],
    exptime: u32,
    no_reply: bool,
    limits: &Limits,
) -> Result<(), UsageError> {
    validate_key(key, limits)?;
    buf.put_slice(b"touch ");
    buf.put_slice(key);
    buf.put_u8(b' ');
    put_u64(buf, exptime.into());
    noreply(buf, no_reply);
    buf.put_slice(b"\r\n");
    Ok(())
}

/// `flush_all [delay] [noreply]` (protocol.txt "Other commands").
pub fn flush_all(buf: &mut BytesMut, delay: Option<u32>, no_reply: bool) {
    buf.put_slice(b"flush_all");
    if let Some(d) = delay {
        buf.put_u8(b' ');
        put_u64(buf, d.into());
    }
    noreply(buf, no_reply);
    buf.put_slice(b"\r\n");
}

/// `version`.
pub fn version(buf: &mut BytesMut) {
    buf.put_slice(b"version\r\n");
}

/// `quit`: the server closes the connection, no reply.
pub fn quit(buf: &mut BytesMut) {
    buf.put_slice(b"quit\r\n");
}

/// `verbosity <level> [noreply]`.
pub fn verbosity(buf: &mut BytesMut, level: u32, no_reply: bool) {
    buf.put_slice(b"verbosity ");
    put_u64(buf, level.into());
    noreply(buf, no_reply);
    buf.put_slice(b"\r\n");
}

/// `stats [<args>]` (protocol.txt "Statistics"). `args` such as `settings`
/// or `items` must be printable, space-separated words.
pub fn stats(buf: &mut BytesMut, args: Option<&[u8]>) -> Result<(), UsageError> {
    if let Some(a) = args {
        if a.is_empty()
            || a.first() == Some(&b' ')
            || a.last() == Some(&b' ')
            || a.iter().any(|&b| b < b' ' || b == 0x7f)
        {
            return Err(UsageError::BadArgument("stats argument"));
        }
    }
    buf.put_slice(b"stats");
    if let Some(a) = args {
        buf.put_u8(b' ');
        buf.put_slice(a);
    }
    buf.put_slice(b"\r\n");
    Ok(())
}

/// Encodes a reply frame as a server would (for tests, fuzzing and server
/// authors). Decoding the output gives back an equal frame for any frame the
/// decoder produced.
pub fn reply<B: AsRef<[u8]>>(buf: &mut BytesMut, reply: &Reply<B>) {
    match reply {
        Reply::Value(Value {
            key,
            flags,
            cas,
            data,
        }) => {
            buf.put_slice(b"VALUE ");
            buf.put_slice(key.as_ref());
            buf.put_u8(b' ');
            put_u64(buf, (*flags).into());
            buf.put_u8(b' ');
            put_u64(buf, data.as_ref().len() as u64);
            if let Some(c) = cas {
                buf.put_u8(b' ');
                put_u64(buf, *c);
            }
            buf.put_slice(b"\r\n");
            buf.put_slice(data.as_ref());
        }
        Reply::End => buf.put_slice(b"END"),
        Reply::Stored => buf.put_slice(b"STORED"),
        Reply::NotStored => buf.put_slice(b"NOT_STORED"),
        Reply::Exists => buf.put_slice(b"EXISTS"),
        Reply::NotFound => buf.put_slice(b"NOT_FOUND"),
        Reply::Deleted => buf.put_slice(b"DELETED"),
        Reply::Touched => buf.put_slice(b"TOUCHED"),
        Reply::Ok => buf.put_slice(b"OK"),
        Reply::Number(n) => put_u64(buf, *n),
        Reply::Stat { name, value } => {
            buf.put_slice(b"STAT ");
            buf.put_slice(name.as_ref());
            // "STAT name" and "STAT name " both decode to an empty value;
            // the shorter form keeps a re-encoded line within the limit.
            if !value.as_ref().is_empty() {
                buf.put_u8(b' ');
                buf.put_slice(value.as_ref());
            }
        }
        Reply::Version(v) => {
            buf.put_slice(b"VERSION ");
            buf.put_slice(v.as_ref());
        }
        Reply::Error(m) => with_msg(buf, b"ERROR", m.as_ref()),
        Reply::ClientError(m) => with_msg(buf, b"CLIENT_ERROR", m.as_ref()),
        Reply::ServerError(m) => with_msg(buf, b"SERVER_ERROR", m.as_ref()),
    }
    buf.put_slice(b"\r\n");
}

fn with_msg(buf: &mut BytesMut, head: &[u8], msg: &[u8]) {
    buf.put_slice(head);
    if !msg.is_empty() {
        buf.put_u8(b' ');
        buf.put_slice(msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::KeyError;

    fn enc(f: impl FnOnce(&mut BytesMut) -> Result<(), UsageError>) -> Vec<u8> {
        let mut b = BytesMut::new();
        f(&mut b).unwrap();
        b.to_vec()
    }

    #[test]
    fn requests() {
        let l = Limits::default();
        assert_eq!(
            enc(|b| store(b, StoreMode::Set, b"k", 3, 60, b"hi", false, &l)),
            b"set k 3 60 2\r\nhi\r\n"
        );
        assert_eq!(
            enc(|b| store(b, StoreMode::Cas(9), b"k", 0, 0, b"", true, &l)),
            b"cas k 0 0 0 9 noreply\r\n\r\n"
        );
        assert_eq!(
            enc(|b| get(b, GetMode::Get, &[b"a", b"b"], &l)),
            b"get a b\r\n"
        );
        assert_eq!(
            enc(|b| get(b, GetMode::Gats(5), &["a"], &l)),
            b"gats 5 a\r\n"
        );
        assert_eq!(enc(|b| delete(b, b"k", true, &l)), b"delete k noreply\r\n");
        assert_eq!(
            enc(|b| incr_decr(b, true, b"k", 2, false, &l)),
            b"decr k 2\r\n"
        );
        assert_eq!(enc(|b| touch(b, b"k", 10, false, &l)), b"touch k 10\r\n");
        assert_eq!(enc(|b| stats(b, Some(b"settings"))), b"stats settings\r\n");
        let mut b = BytesMut::new();
        flush_all(&mut b, Some(0), true);
        verbosity(&mut b, 1, false);
        version(&mut b);
        assert_eq!(&b[..], b"flush_all 0 noreply\r\nverbosity 1\r\nversion\r\n");
    }

    #[test]
    fn invalid_input_writes_nothing() {
        let l = Limits {
            max_value_len: 4,
            ..Limits::default()
        };
        let mut b = BytesMut::new();
        assert_eq!(
            store(&mut b, StoreMode::Set, b"a b", 0, 0, b"", false, &l),
            Err(UsageError::Key(KeyError::InvalidByte {
                index: 1,
                byte: b' '
            }))
        );
        assert_eq!(
            store(&mut b, StoreMode::Set, b"k", 0, 0, b"12345", false, &l),
            Err(UsageError::ValueTooLarge { len: 5, limit: 4 })
        );
        assert_eq!(
            get::<&[u8]>(&mut b, GetMode::Get, &[], &l),
            Err(UsageError::NoKeys)
        );
        assert!(get(&mut b, GetMode::Get, &[&b"ok"[..], b"bad\n"], &l).is_err());
        assert!(stats(&mut b, Some(b"a\r\nflush_all")).is_err());
        assert!(b.is_empty());
    }
}
