//! Binary response decoder.

use super::Response;
use super::header::{HEADER_LEN, Header, Opcode, RESPONSE_MAGIC, Status};
use crate::error::{DecodeError, DecodeResult};
use crate::limits::Limits;

/// Most extras any response carries (protocol-binary.txt: 4 for a get hit).
const MAX_EXTRAS: usize = 32;

/// Decodes one response packet from the front of `buf`.
///
/// The announced body length is checked against [`Limits`] as soon as the
/// header is in, before the body is waited for.
pub fn decode<'a>(buf: &'a [u8], limits: &Limits) -> DecodeResult<Response<&'a [u8]>> {
    let Some(head) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let h = Header::parse(head);
    if h.magic != RESPONSE_MAGIC {
        return Err(DecodeError::BadMagic(h.magic));
    }
    let opcode = Opcode::from_u8(h.opcode).ok_or(DecodeError::Malformed("unknown opcode"))?;
    let key_len = usize::from(h.key_len);
    let extras_len = usize::from(h.extras_len);
    let body_len = h.body_len as usize;
    if extras_len > MAX_EXTRAS {
        return Err(DecodeError::Malformed("extras too long"));
    }
    if key_len > limits.max_key_len {
        return Err(DecodeError::Malformed("key longer than the key limit"));
    }
    let value_len = body_len
        .checked_sub(key_len + extras_len)
        .ok_or(DecodeError::Malformed("key and extras exceed the body"))?;
    if value_len > limits.max_value_len {
        return Err(DecodeError::ValueTooLarge {
            len: value_len as u64,
            limit: limits.max_value_len,
        });
    }
    let total = HEADER_LEN + body_len;
    if buf.len() < total {
        return Ok(None);
    }
    let body = &buf[HEADER_LEN..total];
    let (extras, rest) = body.split_at(extras_len);
    let (key, value) = rest.split_at(key_len);
    Ok(Some((
        Response {
            opcode,
            status: Status(h.status_or_vbucket),
            opaque: h.opaque,
            cas: h.cas,
            data_type: h.data_type,
            extras,
            key,
            value,
        },
        total,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::encode;
    use bytes::BytesMut;

    fn sample() -> Vec<u8> {
        let r = Response {
            opcode: Opcode::GetK,
            status: Status::NO_ERROR,
            opaque: 7,
            cas: 99,
            data_type: 0,
            extras: &[0u8, 0, 0, 5][..],
            key: &b"key"[..],
            value: &b"value"[..],
        };
        let mut b = BytesMut::new();
        encode::response(&mut b, &r);
        b.to_vec()
    }

    #[test]
    fn decodes_a_packet() {
        let bytes = sample();
        let (r, n) = decode(&bytes, &Limits::default()).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(r.opcode, Opcode::GetK);
        assert_eq!((r.opaque, r.cas), (7, 99));
        assert_eq!(
            (r.extras, r.key, r.value),
            (&[0u8, 0, 0, 5][..], &b"key"[..], &b"value"[..])
        );
        for i in 0..bytes.len() {
            assert_eq!(
                decode(&bytes[..i], &Limits::default()),
                Ok(None),
                "prefix {i}"
            );
        }
    }

    #[test]
    fn malformed_headers() {
        let l = Limits::default();
        let mut b = sample();
        b[0] = 0x80;
        assert_eq!(decode(&b, &l), Err(DecodeError::BadMagic(0x80)));
        let mut b = sample();
        b[1] = 0x42;
        assert!(decode(&b, &l).is_err());
        let mut b = sample();
        b[8..12].copy_from_slice(&2u32.to_be_bytes()); // body shorter than key + extras
        assert!(decode(&b, &l).is_err());
        let mut b = sample();
        b[4] = 200;
        assert!(decode(&b, &l).is_err());
    }

    #[test]
    fn hostile_body_length_refused_from_the_header() {
        let mut b = sample();
        b[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        let head = &b[..HEADER_LEN];
        assert!(matches!(
            decode(head, &Limits::default()),
            Err(DecodeError::ValueTooLarge { .. })
        ));
    }
}
