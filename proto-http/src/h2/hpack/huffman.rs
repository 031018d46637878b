//! The static Huffman code for string literals (RFC 7541 §5.2, Appendix B).
//!
//! Encoding walks `CODES` and packs bits most significant first, padding the
//! last octet with the high bits of EOS (all ones). Decoding is table driven,
//! four bits at a time: the states are the 256 internal nodes of the code tree,
//! and `DECODE` (built at compile time from `CODES`) maps a state and a
//! nibble to the next state plus the symbol completed on the way, if any. No
//! code is shorter than five bits, so a nibble completes at most one symbol.

use bytes::BufMut;

use super::error::DecoderError;

/// Index of the EOS symbol in [`CODES`].
const EOS: usize = 256;

/// Number of octets `src` takes once Huffman-encoded.
pub fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src
        .iter()
        .map(|&b| usize::from(CODES[usize::from(b)].1))
        .sum();
    bits.div_ceil(8)
}

/// Appends the Huffman encoding of `src` to `dst` (RFC 7541 §5.2).
///
/// The final octet is padded with the most significant bits of EOS, i.e. ones.
pub fn encode(src: &[u8], dst: &mut impl BufMut) {
    // Invariant: fewer than 8 pending bits before each symbol, and a symbol is
    // at most 30 bits, so the low 38 bits of `acc` hold everything pending.
    let mut acc: u64 = 0;
    let mut pending: u32 = 0;
    for &byte in src {
        let (code, len) = CODES[usize::from(byte)];
        acc = (acc << len) | u64::from(code);
        pending += u32::from(len);
        while pending >= 8 {
            pending -= 8;
            dst.put_u8((acc >> pending) as u8);
        }
    }
    if pending > 0 {
        dst.put_u8(((acc << (8 - pending)) as u8) | (0xff >> pending));
    }
}

/// Decodes `src`, appending to `dst` (left as it was on error); fails with
/// [`DecoderError::StringTooLong`] as soon as more than `max_len` octets would
/// be produced, so a small encoded string cannot make the decoder allocate
/// without bound.
///
/// RFC 7541 §5.2: padding longer than 7 bits, padding that is not the prefix
/// of EOS (all ones), and an EOS symbol inside the string are decoding errors.
pub fn decode(src: &[u8], max_len: usize, dst: &mut Vec<u8>) -> Result<(), DecoderError> {
    // Every symbol is at least 5 bits, so `src` holds at most `8/5` of its
    // length in symbols; a nibble completes at most one, a byte at most two.
    // The output area is sized for that bound (capped near the limit) plus
    // slack, so the loop can store every nibble's symbol unconditionally and
    // advance only when one was completed, without a branch per symbol.
    let start = dst.len();
    let bound = src.len() * 8 / 5;
    let room = bound.min(max_len.saturating_add(2));
    dst.resize(start + room + 2, 0);
    let out = &mut dst[start..];
    let mut n = 0usize;
    let mut state = 0usize;
    let mut seen = 0u8;
    for &byte in src {
        let hi = DECODE[state][usize::from(byte >> 4)];
        out[n] = hi.sym;
        n += usize::from(hi.flags & EMIT);
        let lo = DECODE[usize::from(hi.next)][usize::from(byte & 0x0f)];
        out[n] = lo.sym;
        n += usize::from(lo.flags & EMIT);
        state = usize::from(lo.next);
        seen |= hi.flags | lo.flags;
        // At most two symbols per byte: `n <= max_len + 2 <= room` here.
        if n > max_len {
            dst.truncate(start);
            return Err(DecoderError::StringTooLong { max: max_len });
        }
    }
    let result = if seen & FAIL != 0 {
        Err(DecoderError::HuffmanEos)
    } else if !ACCEPTING[state] {
        // §5.2: the input must end on a symbol boundary or inside at most
        // 7 bits of the EOS prefix (all ones).
        Err(DecoderError::HuffmanPadding)
    } else {
        Ok(())
    };
    dst.truncate(if result.is_ok() { start + n } else { start });
    result
}

/// One transition of the nibble decoder.
#[derive(Clone, Copy)]
struct Step {
    /// State (tree node) after the nibble.
    next: u8,
    /// The symbol completed by the nibble, when `flags & EMIT`.
    sym: u8,
    /// `EMIT`, `FAIL`.
    flags: u8,
}

/// The nibble completed a symbol.
const EMIT: u8 = 1;
/// The nibble completed EOS, which must not appear in a string.
const FAIL: u8 = 2;

/// Child pointer tag for a leaf; the low bits are the symbol.
const LEAF: u16 = 0x8000;

/// `[state][nibble]` transition table (256 × 16 × 3 bytes = 12 KiB).
static DECODE: [[Step; 16]; 256] = build_decode_table().0;

/// States where input may end: the root (no pending bits) and the all-ones
/// path up to depth 7, a valid padding (RFC 7541 §5.2).
static ACCEPTING: [bool; 256] = build_decode_table().1;

const fn build_decode_table() -> ([[Step; 16]; 256], [bool; 256]) {
    // 1. The code tree: 257 leaves, so 256 internal nodes; node 0 is the root.
    //    A child of 0 means "not yet created" (the root is nobody's child).
    let mut children = [[0u16; 2]; 256];
    let mut nodes = 1usize;
    let mut sym = 0usize;
    while sym < CODES.len() {
        let (code, len) = CODES[sym];
        let mut node = 0usize;
        let mut bit = len;
        while bit > 0 {
            bit -= 1;
            let b = ((code >> bit) & 1) as usize;
            if bit == 0 {
                children[node][b] = LEAF | sym as u16;
            } else {
                if children[node][b] == 0 {
                    children[node][b] = nodes as u16;
                    nodes += 1;
                }
                node = children[node][b] as usize;
            }
        }
        sym += 1;
    }
    assert!(nodes == 256, "Appendix B code must form a full tree");

    // 2. Accepting states: the root and the all-ones path up to depth 7
    //    (a proper prefix of EOS no longer than 7 bits, RFC 7541 §5.2).
    let mut accept = [false; 256];
    accept[0] = true;
    let mut node = 0usize;
    let mut depth = 0;
    while depth < 7 {
        node = children[node][1] as usize;
        accept[node] = true;
        depth += 1;
    }

    // 3. Walk four bits from every state.
    let mut table = [[Step {
        next: 0,
        sym: 0,
        flags: 0,
    }; 16]; 256];
    let mut state = 0usize;
    while state < 256 {
        let mut nibble = 0usize;
        while nibble < 16 {
            let mut node = state;
            let mut step = Step {
                next: 0,
                sym: 0,
                flags: 0,
            };
            let mut i = 0;
            while i < 4 {
                let b = (nibble >> (3 - i)) & 1;
                let child = children[node][b];
                if child & LEAF != 0 {
                    let s = (child & !LEAF) as usize;
                    if s == EOS {
                        step.flags |= FAIL;
                    } else {
                        step.flags |= EMIT;
                        step.sym = s as u8;
                    }
                    node = 0;
                } else {
                    node = child as usize;
                }
                i += 1;
            }
            step.next = node as u8;
            table[state][nibble] = step;
            nibble += 1;
        }
        state += 1;
    }
    (table, accept)
}

/// The Huffman code of RFC 7541 Appendix B: `(code, bit length)` indexed by
/// symbol, code right-aligned; entry 256 is EOS.
pub(crate) const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28), // 0..=3
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28), // 4..=7
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28), // 8..=11
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28), // 12..=15
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28), // 16..=19
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28), // 20..=23
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28), // 24..=27
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28), // 28..=31
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12), // 32..=35
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11), // 36..=39
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11), // 40..=43
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6), // 44..=47
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6), // 48..=51
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6), // 52..=55
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8), // 56..=59
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10), // 60..=63
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7), // 64..=67
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7), // 68..=71
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7), // 72..=75
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7), // 76..=79
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7), // 80..=83
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7), // 84..=87
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13), // 88..=91
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6), // 92..=95
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5), // 96..=99
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6), // 100..=103
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7), // 104..=107
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5), // 108..=111
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5), // 112..=115
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7), // 116..=119
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15), // 120..=123
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28), // 124..=127
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20), // 128..=131
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23), // 132..=135
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23), // 136..=139
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23), // 140..=143
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23), // 144..=147
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23), // 148..=151
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23), // 152..=155
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24), // 156..=159
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22), // 160..=163
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21), // 164..=167
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24), // 168..=171
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23), // 172..=175
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21), // 176..=179
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23), // 180..=183
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22), // 184..=187
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23), // 188..=191
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19), // 192..=195
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25), // 196..=199
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27), // 200..=203
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25), // 204..=207
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27), // 208..=211
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24), // 212..=215
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26), // 216..=219
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27), // 220..=223
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21), // 224..=227
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23), // 228..=231
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25), // 232..=235
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23), // 236..=239
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26), // 240..=243
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27), // 244..=247
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27), // 248..=251
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),  // 252..=255
    (0x3fffffff, 30), // 256..=256
];

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(s, &mut out);
        assert_eq!(out.len(), encoded_len(s));
        out
    }

    fn dec(s: &[u8]) -> Result<Vec<u8>, DecoderError> {
        let mut out = Vec::new();
        decode(s, usize::MAX, &mut out).map(|()| out)
    }

    /// Appendix B is a canonical code: sorted by (length, symbol), each code is
    /// the previous one plus one, shifted to the new length; and it is complete
    /// (Kraft sum exactly 1). A transcription error in the table breaks one of
    /// the two.
    #[test]
    fn table_is_canonical_and_complete() {
        let mut order: Vec<usize> = (0..CODES.len()).collect();
        order.sort_by_key(|&s| (CODES[s].1, s));
        let mut code = 0u32;
        let mut prev_len = CODES[order[0]].1;
        for (i, &s) in order.iter().enumerate() {
            let len = CODES[s].1;
            if i > 0 {
                code = (code + 1) << (len - prev_len);
            }
            prev_len = len;
            assert_eq!(CODES[s].0, code, "symbol {s}");
        }
        let kraft: u64 = CODES.iter().map(|&(_, len)| 1u64 << (30 - len)).sum();
        assert_eq!(kraft, 1 << 30);
        assert_eq!(CODES[EOS], (0x3fff_ffff, 30));
    }

    /// Strings from RFC 7541 §C.4 and §C.6.
    #[test]
    fn rfc_vectors() {
        let cases: &[(&str, &[u8])] = &[
            (
                "www.example.com",
                &[
                    0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
                ],
            ),
            ("no-cache", &[0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf]),
            (
                "custom-key",
                &[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f],
            ),
            (
                "custom-value",
                &[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf],
            ),
            ("302", &[0x64, 0x02]),
            ("private", &[0xae, 0xc3, 0x77, 0x1a, 0x4b]),
            ("gzip", &[0x9b, 0xd9, 0xab]),
        ];
        for &(plain, coded) in cases {
            assert_eq!(enc(plain.as_bytes()), coded, "{plain}");
            assert_eq!(dec(coded).unwrap(), plain.as_bytes(), "{plain}");
        }
    }

    #[test]
    fn every_byte_value_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(dec(&enc(&all)).unwrap(), all);
        for b in 0..=255u8 {
            for n in 1..=9 {
                let s = vec![b; n];
                assert_eq!(dec(&enc(&s)).unwrap(), s, "byte {b} x{n}");
            }
        }
        assert_eq!(dec(&[]).unwrap(), b"");
    }

    #[test]
    fn pseudo_random_round_trips() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 64) as usize;
            let s: Vec<u8> = (0..len)
                .map(|i| (x.rotate_left(i as u32 * 7) as u8) % if x & 1 == 0 { 128 } else { 255 })
                .collect();
            assert_eq!(dec(&enc(&s)).unwrap(), s);
        }
    }

    #[test]
    fn eos_in_string_is_rejected() {
        // EOS alone (30 ones) padded with two more ones.
        assert_eq!(
            dec(&[0xff, 0xff, 0xff, 0xff]),
            Err(DecoderError::HuffmanEos)
        );
        // 'a' (00011) then EOS.
        let mut bits: u64 = 0b00011;
        bits = (bits << 30) | 0x3fff_ffff;
        bits <<= 64 - 35;
        let bytes = bits.to_be_bytes();
        assert_eq!(dec(&bytes[..5]), Err(DecoderError::HuffmanEos));
    }

    #[test]
    fn bad_padding_is_rejected() {
        // '0' is 00000: three bits of zero padding instead of ones.
        assert_eq!(dec(&[0b0000_0000]), Err(DecoderError::HuffmanPadding));
        // '0' then padding 110: not all ones.
        assert_eq!(dec(&[0b0000_0110]), Err(DecoderError::HuffmanPadding));
        // '0' then the correct 111.
        assert_eq!(dec(&[0b0000_0111]).unwrap(), b"0");
        // Eight bits of ones as padding (a whole octet) is too long.
        assert_eq!(dec(&[0b0000_0111, 0xff]), Err(DecoderError::HuffmanPadding));
        assert_eq!(dec(&[0xff]), Err(DecoderError::HuffmanPadding));
        // Symbol 0 (13 bits: 0x1ff8) followed by three zero bits.
        assert_eq!(dec(&[0xff, 0xc0]), Err(DecoderError::HuffmanPadding));
        assert_eq!(dec(&[0xff, 0xc7]).unwrap(), [0u8]);
    }

    #[test]
    fn output_limit_is_enforced_while_decoding() {
        let coded = enc(b"0123456789");
        let mut out = Vec::new();
        assert_eq!(decode(&coded, 10, &mut out), Ok(()));
        out.clear();
        assert_eq!(
            decode(&coded, 9, &mut out),
            Err(DecoderError::StringTooLong { max: 9 })
        );
        assert!(out.is_empty(), "output restored on error");
        // Existing content before the decoded string is kept, on success and
        // on error.
        let mut out = b"prefix".to_vec();
        decode(&coded, 10, &mut out).unwrap();
        assert_eq!(out, b"prefix0123456789");
        let mut out = b"prefix".to_vec();
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff], 10, &mut out),
            Err(DecoderError::HuffmanEos)
        );
        assert_eq!(out, b"prefix");
    }
}
