//! Meta request encoder and reply encoder.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{BufMut, BytesMut};

use super::{Command, Flag, Reply};
use crate::error::{KeyError, UsageError};
use crate::key::{is_key_byte, validate_key};
use crate::limits::Limits;
use crate::text::encode::check_value;
use crate::wire::{put_i64, put_u64};

/// Longest opaque token memcached 1.6 accepts (it answers
/// `CLIENT_ERROR opaque token too long` from 32 bytes on).
pub const MAX_OPAQUE_LEN: usize = 31;

/// Which flags each command takes (protocol.txt, the flag list of each meta
/// command).
fn allowed(cmd: &Command<'_>, f: &Flag<'_>) -> bool {
    let l = f.letter();
    match cmd {
        Command::Get { .. } => b"bcfhklOqstuvNRTE".contains(&l),
        Command::Set { .. } => match f {
            Flag::Mode(m) => !m.is_arithmetic(),
            _ => b"bcCEFIkOqsTN".contains(&l),
        },
        Command::Delete { .. } => b"bCEIkOqT".contains(&l),
        Command::Arithmetic { .. } => match f {
            Flag::Mode(m) => m.is_arithmetic(),
            _ => b"bCENJDTOqtcvk".contains(&l),
        },
        Command::Debug { .. } | Command::NoOp => false,
    }
}

/// Checks a whole request without writing anything.
pub fn validate(cmd: &Command<'_>, limits: &Limits) -> Result<(), UsageError> {
    let flags = cmd.flags();
    for (i, f) in flags.iter().enumerate() {
        let dup = flags[..i].iter().any(|g| g.letter() == f.letter());
        if dup || !allowed(cmd, f) {
            return Err(UsageError::FlagNotAllowed {
                command: cmd.name(),
                flag: char::from(f.letter()),
            });
        }
        if let Flag::Opaque(t) = f {
            if t.is_empty() || t.len() > MAX_OPAQUE_LEN || !t.iter().all(|&b| is_key_byte(b)) {
                return Err(UsageError::BadToken);
            }
        }
    }
    let base64 = match cmd {
        Command::Debug { base64, .. } => *base64,
        _ => flags.contains(&Flag::Base64Key),
    };
    match cmd {
        Command::NoOp => {}
        Command::Get { key, .. }
        | Command::Set { key, .. }
        | Command::Delete { key, .. }
        | Command::Arithmetic { key, .. }
        | Command::Debug { key, .. } => check_key(key, base64, limits)?,
    }
    if let Command::Set { value, .. } = cmd {
        check_value(value, limits)?;
    }
    Ok(())
}

fn check_key(key: &[u8], base64: bool, limits: &Limits) -> Result<(), UsageError> {
    if !base64 {
        return Ok(validate_key(key, limits)?);
    }
    if key.is_empty() {
        return Err(KeyError::Empty.into());
    }
    let encoded = base64::encoded_len(key.len(), true).unwrap_or(usize::MAX);
    if encoded > limits.max_key_len {
        return Err(KeyError::TooLong {
            len: encoded,
            limit: limits.max_key_len,
        }
        .into());
    }
    Ok(())
}

/// Encodes a meta request after [`validate`]-ing it; writes nothing on error.
///
/// With [`Flag::Base64Key`] (or `Debug { base64: true }`) the key is given
/// raw and sent base64-encoded.
pub fn request(buf: &mut BytesMut, cmd: &Command<'_>, limits: &Limits) -> Result<(), UsageError> {
    validate(cmd, limits)?;
    let (key, base64) = match cmd {
        Command::NoOp => {
            buf.put_slice(b"mn\r\n");
            return Ok(());
        }
        Command::Debug { key, base64 } => (*key, *base64),
        Command::Get { key, flags }
        | Command::Set { key, flags, .. }
        | Command::Delete { key, flags }
        | Command::Arithmetic { key, flags } => (*key, flags.contains(&Flag::Base64Key)),
    };
    buf.put_slice(cmd.name().as_bytes());
    buf.put_u8(b' ');
    if base64 {
        // Encoded straight into the output; the length was checked by
        // `validate`.
        let n = base64::encoded_len(key.len(), true).unwrap_or(0);
        let start = buf.len();
        buf.resize(start + n, 0);
        let written = BASE64.encode_slice(key, &mut buf[start..]).unwrap_or(0);
        buf.truncate(start + written);
    } else {
        buf.put_slice(key);
    }
    if let Command::Set { value, .. } = cmd {
        buf.put_u8(b' ');
        put_u64(buf, value.len() as u64);
    }
    if let Command::Debug { base64: true, .. } = cmd {
        buf.put_slice(b" b");
    }
    for f in cmd.flags() {
        buf.put_u8(b' ');
        buf.put_u8(f.letter());
        match *f {
            Flag::Opaque(t) => buf.put_slice(t),
            Flag::Vivify(n) | Flag::Recache(n) | Flag::ClientFlags(n) => put_u64(buf, n.into()),
            Flag::Ttl(t) => put_i64(buf, t),
            Flag::CompareCas(n) | Flag::NewCas(n) | Flag::Initial(n) | Flag::Delta(n) => {
                put_u64(buf, n)
            }
            Flag::Mode(m) => buf.put_u8(m.letter()),
            _ => {}
        }
    }
    buf.put_slice(b"\r\n");
    if let Command::Set { value, .. } = cmd {
        buf.put_slice(value);
        buf.put_slice(b"\r\n");
    }
    Ok(())
}

/// Encodes a reply frame as a server would. Decoding the output gives back
/// an equal frame for any frame the decoder produced.
pub fn reply<B: AsRef<[u8]>>(buf: &mut BytesMut, reply: &Reply<B>) {
    fn code<B: AsRef<[u8]>>(buf: &mut BytesMut, code: &[u8], flags: &super::Flags<B>) {
        buf.put_slice(code);
        let raw = flags.raw().as_ref();
        if !raw.is_empty() {
            buf.put_u8(b' ');
            buf.put_slice(raw);
        }
    }
    fn msg(buf: &mut BytesMut, head: &[u8], m: &[u8]) {
        buf.put_slice(head);
        if !m.is_empty() {
            buf.put_u8(b' ');
            buf.put_slice(m);
        }
    }
    match reply {
        Reply::Hd(f) => code(buf, b"HD", f),
        Reply::Miss(f) => code(buf, b"EN", f),
        Reply::NotFound(f) => code(buf, b"NF", f),
        Reply::NotStored(f) => code(buf, b"NS", f),
        Reply::Exists(f) => code(buf, b"EX", f),
        Reply::NoOp => buf.put_slice(b"MN"),
        Reply::Value { flags, data } => {
            buf.put_slice(b"VA ");
            put_u64(buf, data.as_ref().len() as u64);
            let raw = flags.raw().as_ref();
            if !raw.is_empty() {
                buf.put_u8(b' ');
                buf.put_slice(raw);
            }
            buf.put_slice(b"\r\n");
            buf.put_slice(data.as_ref());
        }
        Reply::Debug { key, info } => {
            buf.put_slice(b"ME ");
            buf.put_slice(key.as_ref());
            if !info.as_ref().is_empty() {
                buf.put_u8(b' ');
                buf.put_slice(info.as_ref());
            }
        }
        Reply::Error(m) => msg(buf, b"ERROR", m.as_ref()),
        Reply::ClientError(m) => msg(buf, b"CLIENT_ERROR", m.as_ref()),
        Reply::ServerError(m) => msg(buf, b"SERVER_ERROR", m.as_ref()),
    }
    buf.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::super::Mode;
    use super::*;

    fn enc(cmd: Command<'_>) -> Result<Vec<u8>, UsageError> {
        let mut b = BytesMut::new();
        let r = request(&mut b, &cmd, &Limits::default());
        if r.is_err() {
            assert!(b.is_empty(), "wrote bytes on error");
        }
        r.map(|()| b.to_vec())
    }

    #[test]
    fn requests() {
        assert_eq!(
            enc(Command::Get {
                key: b"foo",
                flags: &[
                    Flag::ReturnValue,
                    Flag::ReturnTtl,
                    Flag::Opaque(b"12"),
                    Flag::Quiet
                ]
            })
            .unwrap(),
            b"mg foo v t O12 q\r\n"
        );
        assert_eq!(
            enc(Command::Set {
                key: b"foo",
                value: b"hi",
                flags: &[Flag::Ttl(90), Flag::ClientFlags(1), Flag::Mode(Mode::Add)]
            })
            .unwrap(),
            b"ms foo 2 T90 F1 ME\r\nhi\r\n"
        );
        assert_eq!(
            enc(Command::Arithmetic {
                key: b"n",
                flags: &[
                    Flag::Mode(Mode::Decrement),
                    Flag::Delta(3),
                    Flag::Vivify(0),
                    Flag::Initial(10)
                ]
            })
            .unwrap(),
            b"ma n MD D3 N0 J10\r\n"
        );
        assert_eq!(
            enc(Command::Delete {
                key: b"k",
                flags: &[Flag::Invalidate, Flag::Ttl(-1)]
            })
            .unwrap(),
            b"md k I T-1\r\n"
        );
        assert_eq!(
            enc(Command::Get {
                key: b"\x00 \xff",
                flags: &[Flag::Base64Key, Flag::ReturnKey]
            })
            .unwrap(),
            b"mg ACD/ b k\r\n"
        );
        assert_eq!(
            enc(Command::Debug {
                key: b"k",
                base64: false
            })
            .unwrap(),
            b"me k\r\n"
        );
        assert_eq!(enc(Command::NoOp).unwrap(), b"mn\r\n");
    }

    #[test]
    fn rejected_before_encoding() {
        assert!(matches!(
            enc(Command::Get {
                key: b"k",
                flags: &[Flag::Mode(Mode::Set)]
            }),
            Err(UsageError::FlagNotAllowed {
                command: "mg",
                flag: 'M'
            })
        ));
        assert!(
            enc(Command::Set {
                key: b"k",
                value: b"",
                flags: &[Flag::Mode(Mode::Increment)]
            })
            .is_err()
        );
        assert!(
            enc(Command::Arithmetic {
                key: b"k",
                flags: &[Flag::Mode(Mode::Append)]
            })
            .is_err()
        );
        assert!(
            enc(Command::Get {
                key: b"k",
                flags: &[Flag::Quiet, Flag::Quiet]
            })
            .is_err()
        );
        assert_eq!(
            enc(Command::Get {
                key: b"k",
                flags: &[Flag::Opaque(&[b'1'; 32])]
            }),
            Err(UsageError::BadToken)
        );
        assert_eq!(
            enc(Command::Get {
                key: b"k",
                flags: &[Flag::Opaque(b"a b")]
            }),
            Err(UsageError::BadToken)
        );
        assert!(
            enc(Command::Get {
                key: b"a b",
                flags: &[]
            })
            .is_err()
        );
        assert!(
            enc(Command::Get {
                key: &[0u8; 187],
                flags: &[Flag::Base64Key]
            })
            .is_err()
        );
        assert!(
            enc(Command::Get {
                key: &[0u8; 186],
                flags: &[Flag::Base64Key]
            })
            .is_ok()
        );
        let big = vec![0u8; 1024 * 1024 + 1];
        assert!(matches!(
            enc(Command::Set {
                key: b"k",
                value: &big,
                flags: &[]
            }),
            Err(UsageError::ValueTooLarge { .. })
        ));
    }
}
