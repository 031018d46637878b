//! Integer representation with an N-bit prefix (RFC 7541 §5.1).
//!
//! A value below `2^N - 1` fits in the prefix; a larger one sets the prefix to
//! all ones and continues in 7-bit groups, least significant first, with the
//! high bit of each octet saying "more follows".

use bytes::BufMut;

use super::error::DecoderError;

/// Largest integer the decoder accepts.
///
/// RFC 7541 §5.1: "Integer encodings that exceed implementation limits -- in
/// value or octet length -- MUST be treated as decoding errors." Every HPACK
/// integer (an index, a string length, a table size) is bounded by limits far
/// below 2^32, so 32 bits is the implementation limit.
pub(crate) const MAX_INTEGER: u64 = u32::MAX as u64;

/// Most continuation octets the decoder reads: 5 × 7 bits covers 32 bits, so a
/// sixth octet can only be zero padding or an overflow, and is rejected.
pub(crate) const MAX_CONTINUATION_OCTETS: usize = 5;

/// Decodes an integer whose prefix is the low `prefix_bits` of `buf[0]`.
///
/// Returns the value and the number of octets consumed. The header block is
/// always complete when HPACK decodes it (RFC 9113 §4.3), so running out of
/// input is an error ([`DecoderError::Truncated`]), not "need more".
pub(crate) fn decode(buf: &[u8], prefix_bits: u8) -> Result<(usize, usize), DecoderError> {
    debug_assert!((1..=8).contains(&prefix_bits));
    let first = *buf.first().ok_or(DecoderError::Truncated)?;
    let max_prefix = ((1u16 << prefix_bits) - 1) as u8;
    let prefix = first & max_prefix;
    if prefix < max_prefix {
        return Ok((usize::from(prefix), 1));
    }
    let mut value = u64::from(max_prefix);
    let mut shift = 0u32;
    for (i, &octet) in buf[1..].iter().enumerate() {
        if i == MAX_CONTINUATION_OCTETS {
            return Err(DecoderError::IntegerOverflow);
        }
        value += u64::from(octet & 0x7f) << shift;
        if value > MAX_INTEGER {
            return Err(DecoderError::IntegerOverflow);
        }
        if octet & 0x80 == 0 {
            // MAX_INTEGER fits in usize on every supported (>= 32-bit) target.
            let value = usize::try_from(value).map_err(|_| DecoderError::IntegerOverflow)?;
            return Ok((value, i + 2));
        }
        shift += 7;
    }
    Err(DecoderError::Truncated)
}

/// Appends `value` with an N-bit prefix; `flags` supplies the bits above the
/// prefix of the first octet (they must not overlap it).
pub(crate) fn encode(dst: &mut impl BufMut, flags: u8, prefix_bits: u8, value: usize) {
    debug_assert!((1..=8).contains(&prefix_bits));
    let max_prefix = ((1u16 << prefix_bits) - 1) as u8;
    debug_assert_eq!(flags & max_prefix, 0, "flags overlap the prefix");
    if value < usize::from(max_prefix) {
        dst.put_u8(flags | value as u8);
        return;
    }
    dst.put_u8(flags | max_prefix);
    let mut rest = value - usize::from(max_prefix);
    while rest >= 0x80 {
        dst.put_u8((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    dst.put_u8(rest as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(flags: u8, n: u8, v: usize) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, flags, n, v);
        out
    }

    /// RFC 7541 §C.1.1: 10 with a 5-bit prefix.
    #[test]
    fn c_1_1_small_value() {
        assert_eq!(enc(0, 5, 10), [0b0000_1010]);
        assert_eq!(decode(&[0b0000_1010], 5).unwrap(), (10, 1));
        // High bits belong to the representation, not the integer.
        assert_eq!(decode(&[0b1110_1010], 5).unwrap(), (10, 1));
    }

    /// RFC 7541 §C.1.2: 1337 with a 5-bit prefix.
    #[test]
    fn c_1_2_large_value() {
        assert_eq!(enc(0, 5, 1337), [0b0001_1111, 0b1001_1010, 0b0000_1010]);
        assert_eq!(decode(&[0x1f, 0x9a, 0x0a], 5).unwrap(), (1337, 3));
    }

    /// RFC 7541 §C.1.3: 42 starting at an octet boundary (8-bit prefix).
    #[test]
    fn c_1_3_full_octet_prefix() {
        assert_eq!(enc(0, 8, 42), [42]);
        assert_eq!(decode(&[42], 8).unwrap(), (42, 1));
    }

    #[test]
    fn boundaries_round_trip_for_every_prefix() {
        for n in 1..=8u8 {
            let max_prefix = (1usize << n) - 1;
            for v in [
                0,
                1,
                max_prefix - 1,
                max_prefix,
                max_prefix + 1,
                max_prefix + 127,
                max_prefix + 128,
                16_383,
                1 << 21,
                u32::MAX as usize - 1,
                u32::MAX as usize,
            ] {
                let bytes = enc(0, n, v);
                assert_eq!(decode(&bytes, n).unwrap(), (v, bytes.len()), "n={n} v={v}");
                // Flags above the prefix do not leak into the value.
                if n < 8 {
                    let flags = !(((1u16 << n) - 1) as u8);
                    let bytes = enc(flags, n, v);
                    assert_eq!(decode(&bytes, n).unwrap(), (v, bytes.len()));
                }
            }
        }
    }

    #[test]
    fn truncated() {
        assert_eq!(decode(&[], 5), Err(DecoderError::Truncated));
        assert_eq!(decode(&[0x1f], 5), Err(DecoderError::Truncated));
        assert_eq!(decode(&[0x1f, 0x9a], 5), Err(DecoderError::Truncated));
        let full = enc(0, 7, u32::MAX as usize);
        for cut in 0..full.len() {
            assert_eq!(decode(&full[..cut], 7), Err(DecoderError::Truncated));
        }
    }

    #[test]
    fn overflow_in_value() {
        // u32::MAX + 1 with a 5-bit prefix: 31 + (2^32 - 31).
        let bytes = enc(0, 5, u32::MAX as usize + 1);
        assert_eq!(decode(&bytes, 5), Err(DecoderError::IntegerOverflow));
        // 2^35-ish: five continuation octets all 0xff then 0x0f.
        let bytes = [0x1f, 0xff, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(decode(&bytes, 5), Err(DecoderError::IntegerOverflow));
    }

    #[test]
    fn overflow_in_length() {
        // A small value padded with zero continuation groups: five are
        // tolerated, a sixth exceeds the octet-length limit.
        assert_eq!(
            decode(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x00], 5).unwrap(),
            (31, 6)
        );
        assert_eq!(
            decode(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 5),
            Err(DecoderError::IntegerOverflow)
        );
        // An endless run of continuation octets stops at the limit, not at the end.
        let endless = [0xffu8; 64];
        assert_eq!(decode(&endless, 8), Err(DecoderError::IntegerOverflow));
    }
}
