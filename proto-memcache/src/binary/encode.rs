//! Binary request encoders (protocol-binary.txt "Commands") and a response
//! encoder. Request encoders validate first and write nothing on error.

use bytes::{BufMut, BytesMut};

use super::Response;
use super::header::{HEADER_LEN, Header, Opcode, REQUEST_MAGIC, RESPONSE_MAGIC};
use crate::error::UsageError;
use crate::key::validate_key;
use crate::limits::Limits;
use crate::text::encode::check_value;

/// A request packet: header fields plus the three body parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// Opcode.
    pub opcode: Opcode,
    /// Opaque echoed in the response.
    pub opaque: u32,
    /// CAS to compare (0: none).
    pub cas: u64,
    /// Extras.
    pub extras: &'a [u8],
    /// Key.
    pub key: &'a [u8],
    /// Value.
    pub value: &'a [u8],
}

impl<'a> Request<'a> {
    /// A request with no body.
    pub fn new(opcode: Opcode, opaque: u32) -> Self {
        Request {
            opcode,
            opaque,
            cas: 0,
            extras: &[],
            key: &[],
            value: &[],
        }
    }
}

/// Extras of Set/Add/Replace: flags, expiration (protocol-binary.txt "Set, Add, Replace").
pub fn store_extras(flags: u32, exptime: u32) -> [u8; 8] {
    let mut e = [0u8; 8];
    e[..4].copy_from_slice(&flags.to_be_bytes());
    e[4..].copy_from_slice(&exptime.to_be_bytes());
    e
}

/// Extras of Increment/Decrement: delta, initial, expiration
/// (protocol-binary.txt "Increment, Decrement"). An expiration of
/// `0xffffffff` makes a missing key fail with "key not found" instead of
/// being created.
pub fn counter_extras(delta: u64, initial: u64, exptime: u32) -> [u8; 20] {
    let mut e = [0u8; 20];
    e[..8].copy_from_slice(&delta.to_be_bytes());
    e[8..16].copy_from_slice(&initial.to_be_bytes());
    e[16..].copy_from_slice(&exptime.to_be_bytes());
    e
}

/// Whether `op` carries a key that must be validated.
fn takes_key(op: Opcode) -> bool {
    !matches!(
        op,
        Opcode::Quit
            | Opcode::QuitQ
            | Opcode::Flush
            | Opcode::FlushQ
            | Opcode::Noop
            | Opcode::Version
            | Opcode::Verbosity
            | Opcode::Stat
    )
}

/// Encodes a request. The key is validated (for key-taking opcodes) and the
/// value checked against [`Limits::max_value_len`] first.
pub fn request(buf: &mut BytesMut, req: &Request<'_>, limits: &Limits) -> Result<(), UsageError> {
    if takes_key(req.opcode) {
        validate_key(req.key, limits)?;
    } else if req.opcode == Opcode::Stat && !req.key.is_empty() {
        if req.key.len() > limits.max_key_len || req.key.iter().any(|&b| b <= b' ' || b == 0x7f) {
            return Err(UsageError::BadArgument("stat group"));
        }
    } else if !req.key.is_empty() {
        return Err(UsageError::BadArgument("this opcode takes no key"));
    }
    check_value(req.value, limits)?;
    if req.extras.len() > usize::from(u8::MAX) {
        return Err(UsageError::BadArgument("extras too long"));
    }
    let body = req.extras.len() + req.key.len() + req.value.len();
    buf.reserve(HEADER_LEN + body);
    Header {
        magic: REQUEST_MAGIC,
        opcode: req.opcode as u8,
        key_len: req.key.len() as u16,
        extras_len: req.extras.len() as u8,
        data_type: 0,
        status_or_vbucket: 0,
        body_len: body as u32,
        opaque: req.opaque,
        cas: req.cas,
    }
    .write(buf);
    buf.put_slice(req.extras);
    buf.put_slice(req.key);
    buf.put_slice(req.value);
    Ok(())
}

/// Encodes a response packet as a server would (tests, fuzzing, servers).
///
/// Fields longer than the header can describe (keys over 65 535 bytes,
/// extras over 255) are truncated to fit; decoder output always fits.
pub fn response<B: AsRef<[u8]>>(buf: &mut BytesMut, r: &Response<B>) {
    let extras = &r.extras.as_ref()[..r.extras.as_ref().len().min(255)];
    let key = &r.key.as_ref()[..r.key.as_ref().len().min(usize::from(u16::MAX))];
    let value = r.value.as_ref();
    Header {
        magic: RESPONSE_MAGIC,
        opcode: r.opcode as u8,
        key_len: key.len() as u16,
        extras_len: extras.len() as u8,
        data_type: r.data_type,
        status_or_vbucket: r.status.0,
        body_len: (extras.len() + key.len() + value.len()) as u32,
        opaque: r.opaque,
        cas: r.cas,
    }
    .write(buf);
    buf.put_slice(extras);
    buf.put_slice(key);
    buf.put_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_request_layout() {
        let mut b = BytesMut::new();
        let extras = store_extras(0xdeadbeef, 0xe10);
        let req = Request {
            extras: &extras,
            key: b"Hello",
            value: b"World",
            ..Request::new(Opcode::Set, 0)
        };
        request(&mut b, &req, &Limits::default()).unwrap();
        // protocol-binary.txt example "Add" layout: header, 8 extras, key, value.
        assert_eq!(&b[..8], &[0x80, 0x01, 0x00, 0x05, 0x08, 0x00, 0x00, 0x00]);
        assert_eq!(&b[8..12], &18u32.to_be_bytes());
        assert_eq!(&b[24..32], &[0xde, 0xad, 0xbe, 0xef, 0, 0, 0x0e, 0x10]);
        assert_eq!(&b[32..], b"HelloWorld");
    }

    #[test]
    fn validation_writes_nothing() {
        let mut b = BytesMut::new();
        let l = Limits::default();
        let bad = Request {
            key: b"a b",
            ..Request::new(Opcode::Get, 1)
        };
        assert!(request(&mut b, &bad, &l).is_err());
        let bad = Request {
            key: b"x",
            ..Request::new(Opcode::Noop, 1)
        };
        assert!(request(&mut b, &bad, &l).is_err());
        let big = vec![0; l.max_value_len + 1];
        let bad = Request {
            key: b"k",
            value: &big,
            ..Request::new(Opcode::Set, 1)
        };
        assert!(matches!(
            request(&mut b, &bad, &l),
            Err(UsageError::ValueTooLarge { .. })
        ));
        assert!(b.is_empty());
    }
}
