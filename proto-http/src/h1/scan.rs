//! The scanning loops of the head parser: each finds where a run of bytes of
//! one class ends, so a field line or request line is read in one pass.
//!
//! Two classes are scanned 16 bytes at a time: field-value bytes (RFC 9110
//! §5.5) and request-target bytes (visible ASCII, RFC 9112 §3.2). On
//! x86_64 a block is tested with SSE2 (part of the x86_64 baseline, so no
//! run-time detection); elsewhere as two u64 words (SWAR). The SSE2 path is
//! the crate's only `unsafe` (the unaligned load), kept to this module:
//! measured, the compiler's own vectorization of the portable loop built
//! the lane mask with shuffles and cost more than the scan saved. Tokens
//! (RFC 9110 §5.6.2: method, field name) are short and go through a lookup
//! table, eight bytes per bounds check.

use crate::header::is_tchar;

/// Bytes per block of the block scans.
const BLOCK: usize = 16;

/// Whether `b` is allowed in a field value (RFC 9110 §5.5): VCHAR,
/// obs-text, SP and HTAB. NUL, CR, LF, DEL and the other controls are not.
#[inline(always)]
fn is_value_byte(b: u8) -> bool {
    (b >= 0x20 || b == b'\t') && b != 0x7f
}

/// Whether `b` may appear in a request-target: visible ASCII, `%x21-7E`
/// (RFC 9112 §3.2, RFC 3986 §2; no raw whitespace, controls or non-ASCII).
#[inline(always)]
fn is_target_byte(b: u8) -> bool {
    b.wrapping_sub(0x21) <= 0x7e - 0x21
}

/// Bit `k` set when byte `k` of `block` is not a field-value byte.
#[inline(always)]
fn value_stops(block: &[u8; BLOCK]) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::value_stops(block)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        swar::value_stops(block)
    }
}

/// As [`value_stops`] for request-target bytes.
#[inline(always)]
fn target_stops(block: &[u8; BLOCK]) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::target_stops(block)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        swar::target_stops(block)
    }
}

/// The block tests with SSE2, which every x86_64 processor has: a few
/// byte compares over 16 lanes and one move-mask.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use super::BLOCK;
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_min_epu8,
        _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
    };

    /// Bit `k` set when byte `k` is a control other than HTAB, or DEL.
    #[inline(always)]
    pub(super) fn value_stops(block: &[u8; BLOCK]) -> u32 {
        // SAFETY: `block` is 16 readable bytes and `_mm_loadu_si128` has no
        // alignment requirement; the other intrinsics only compute on
        // registers and need SSE2, which this module is compiled for (cfg).
        let m = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            // Unsigned v <= 0x1f exactly when min(v, 0x1f) == v.
            let ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            let tab = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\t' as i8));
            let del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
            _mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(tab, ctl), del))
        };
        m as u32
    }

    /// Bit `k` set when byte `k` is outside `%x21-7E`.
    #[inline(always)]
    pub(super) fn target_stops(block: &[u8; BLOCK]) -> u32 {
        // SAFETY: `block` is 16 readable bytes and `_mm_loadu_si128` has no
        // alignment requirement; the other intrinsics only compute on
        // registers and need SSE2, which this module is compiled for (cfg).
        let m = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            // v - 0x21 (wrapping) >= 0x5e unsigned exactly when v is not
            // in 0x21..=0x7e; x >= 0x5e exactly when max(x, 0x5e) == x.
            let x = _mm_sub_epi8(v, _mm_set1_epi8(0x21));
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x5e)), x))
        };
        m as u32
    }
}

/// Portable block tests: the 16 bytes as two u64 words, every lane tested
/// exactly (no carries between lanes), lane flags in the lanes' top bits.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
mod swar {
    use super::BLOCK;

    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;

    /// Top bit of each lane set when that byte is below `n` (`1 <= n <= 0x80`).
    /// `(b & 0x7f) + (0x80 - n)` stays below 0x100, so no lane carries into
    /// the next; its top bit says `b & 0x7f >= n`.
    #[inline(always)]
    fn below(x: u64, n: u8) -> u64 {
        let ge = (x & !HI) + LO * u64::from(0x80 - n);
        !(ge | x) & HI
    }

    /// Top bit of each lane set when that byte equals `c`.
    #[inline(always)]
    fn equal(x: u64, c: u8) -> u64 {
        below(x ^ (LO * u64::from(c)), 1)
    }

    /// Lane flags of two words folded into a 16-bit mask, bit `k` for byte `k`.
    #[inline(always)]
    fn mask(block: &[u8; BLOCK], flags: fn(u64) -> u64) -> u32 {
        let (lo, hi) = block.split_at(8);
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        let (lo, hi) = (flags(word(lo)), flags(word(hi)));
        let mut m = 0u32;
        for k in 0..8 {
            m |= (((lo >> (8 * k + 7)) & 1) as u32) << k;
            m |= (((hi >> (8 * k + 7)) & 1) as u32) << (k + 8);
        }
        m
    }

    pub(super) fn value_stops(block: &[u8; BLOCK]) -> u32 {
        mask(block, |x| {
            (below(x, 0x20) & !equal(x, b'\t')) | equal(x, 0x7f)
        })
    }

    pub(super) fn target_stops(block: &[u8; BLOCK]) -> u32 {
        mask(block, |x| below(x, 0x21) | (!below(x, 0x7f) & HI))
    }
}

/// Index of the first byte at or after `i` that `stops` flags (in blocks)
/// or `ok` rejects (in the tail shorter than a block), or `buf.len()`.
#[inline(always)]
fn scan(buf: &[u8], mut i: usize, stops: fn(&[u8; BLOCK]) -> u32, ok: fn(u8) -> bool) -> usize {
    while let Some(block) = buf.get(i..i + BLOCK) {
        // `get` returned exactly BLOCK bytes, so the conversion cannot fail.
        let Ok(block) = <&[u8; BLOCK]>::try_from(block) else {
            break;
        };
        let m = stops(block);
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += BLOCK;
    }
    while let Some(&b) = buf.get(i) {
        if !ok(b) {
            break;
        }
        i += 1;
    }
    i
}

/// Index of the first byte at or after `i` that is not a field-value byte
/// (RFC 9110 §5.5), or `buf.len()`. In a valid field line this is the CR
/// of its CRLF.
#[inline]
pub(crate) fn value_end(buf: &[u8], i: usize) -> usize {
    scan(buf, i, value_stops, is_value_byte)
}

/// Index of the first byte at or after `i` that is not visible ASCII, or
/// `buf.len()`. In a valid request line this is the SP after the target.
#[inline]
pub(crate) fn target_end(buf: &[u8], i: usize) -> usize {
    scan(buf, i, target_stops, is_target_byte)
}

/// Index of the first byte at or after `i` that is not a `tchar` (RFC 9110
/// §5.6.2), or `buf.len()`. In a valid field line this is the colon.
#[inline]
pub(crate) fn token_end(buf: &[u8], mut i: usize) -> usize {
    // Eight table lookups per step behind one bounds check, each with its
    // own exit: tokens are short, and a well-predicted exit lets the
    // processor run on to the value before the end is computed (a mask of
    // the bytes and a count of its trailing zeros measured slower here).
    while let Some(w) = buf.get(i..i + 8) {
        for (k, &b) in w.iter().enumerate() {
            if !is_tchar(b) {
                return i + k;
            }
        }
        i += 8;
    }
    while let Some(&b) = buf.get(i) {
        if !is_tchar(b) {
            break;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-by-byte definition every scan must agree with.
    fn reference(buf: &[u8], i: usize, ok: fn(u8) -> bool) -> usize {
        buf[i..]
            .iter()
            .position(|&b| !ok(b))
            .map_or(buf.len(), |p| i + p)
    }

    #[test]
    fn classes_match_the_rfc_grammar() {
        for b in 0..=255u8 {
            // RFC 9110 §5.5: field-vchar = VCHAR / obs-text, plus SP / HTAB.
            let value = b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b) || b >= 0x80;
            assert_eq!(is_value_byte(b), value, "{b:#x}");
            assert_eq!(is_target_byte(b), (0x21..=0x7e).contains(&b), "{b:#x}");
        }
    }

    /// Every stop byte at every position of buffers of every length up to
    /// three blocks, from every start: block path, tail path and the seam.
    #[test]
    fn scans_agree_with_the_byte_by_byte_definition() {
        let fill = b'a';
        for len in 0..=3 * BLOCK + 1 {
            for stop_at in 0..=len {
                for stop in [0u8, b'\t', b'\r', b'\n', b' ', 0x1f, 0x7f, 0x80, 0xff, b':'] {
                    let mut buf = vec![fill; len];
                    if stop_at < len {
                        buf[stop_at] = stop;
                    }
                    for start in 0..=len {
                        assert_eq!(
                            value_end(&buf, start),
                            reference(&buf, start, is_value_byte),
                            "value len {len} stop {stop:#x} at {stop_at} from {start}"
                        );
                        assert_eq!(
                            target_end(&buf, start),
                            reference(&buf, start, is_target_byte),
                            "target len {len} stop {stop:#x} at {stop_at} from {start}"
                        );
                        assert_eq!(
                            token_end(&buf, start),
                            reference(&buf, start, is_tchar),
                            "token len {len} stop {stop:#x} at {stop_at} from {start}"
                        );
                    }
                }
            }
        }
    }

    /// The portable block tests agree with the byte classes (on x86_64
    /// they are not used by the scans, so they are checked here directly).
    #[test]
    fn portable_blocks_agree_with_the_classes() {
        for lane in 0..BLOCK {
            for b in 0..=255u8 {
                for fill in [b'x', 0x80, b' ', b'\t', 0xff] {
                    let mut block = [fill; BLOCK];
                    block[lane] = b;
                    let want = |ok: fn(u8) -> bool| {
                        block
                            .iter()
                            .enumerate()
                            .fold(0u32, |m, (k, &c)| m | (u32::from(!ok(c)) << k))
                    };
                    assert_eq!(
                        swar::value_stops(&block),
                        want(is_value_byte),
                        "{b:#x}@{lane}"
                    );
                    assert_eq!(
                        swar::target_stops(&block),
                        want(is_target_byte),
                        "{b:#x}@{lane}"
                    );
                    assert_eq!(value_stops(&block), want(is_value_byte), "{b:#x}@{lane}");
                    assert_eq!(target_stops(&block), want(is_target_byte), "{b:#x}@{lane}");
                }
            }
        }
    }

    #[test]
    fn every_byte_value_in_every_block_lane() {
        for lane in 0..BLOCK {
            for b in 0..=255u8 {
                let mut buf = [b'x'; 2 * BLOCK];
                buf[lane] = b;
                let v = if is_value_byte(b) { buf.len() } else { lane };
                assert_eq!(value_end(&buf, 0), v, "{b:#x} in lane {lane}");
                let t = if is_target_byte(b) { buf.len() } else { lane };
                assert_eq!(target_end(&buf, 0), t, "{b:#x} in lane {lane}");
            }
        }
    }
}
