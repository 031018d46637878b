//! The `gzip` content coding (RFC 9110 §8.4.1.3): a gzip member (RFC
//! 1952) holding one DEFLATE block (RFC 1951) with the fixed Huffman
//! codes (§3.2.6) and LZ77 matches found through hash chains over a
//! 32 KiB window (§4).
//!
//! Made for response bodies: one call, the whole body in memory, a short
//! search per position (a fraction of what `gzip -6` tries) so the cost
//! stays near a copy. Text, JSON and HTML typically shrink to a third or
//! less.
//!
//! ```
//! let body = b"hello hello hello hello".repeat(10);
//! let gz = proto_http::gzip::encode(&body);
//! assert!(gz.len() < body.len());
//! assert_eq!(&gz[..2], &[0x1f, 0x8b]);
//! ```

/// Window of back-references (RFC 1951 §3.2.5: distances up to 32,768).
const WINDOW: usize = 32 * 1024;
const HASH_BITS: u32 = 15;
/// Candidates tried per position before taking the best so far.
const MAX_CHAIN: usize = 24;
/// A match this long is taken at once.
const GOOD_ENOUGH: usize = 64;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const NONE: u32 = u32::MAX;

/// Base lengths of codes 257..=285 (RFC 1951 §3.2.5).
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distances of codes 0..=29 (RFC 1951 §3.2.5).
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// CRC-32 of RFC 1952 §8 (the reflected polynomial 0xEDB88320).
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// The CRC-32 gzip stores (RFC 1952 §2.3.1).
pub fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |c, &b| {
        CRC_TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// `data` as a gzip member: header, one fixed-Huffman DEFLATE block,
/// CRC-32 and length (RFC 1952 §2.3).
pub fn encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 32);
    // ID1 ID2 CM=8 (deflate) FLG=0 MTIME=0 XFL=0 OS=255 (unknown).
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
    let mut bits = BitWriter { out, acc: 0, n: 0 };
    // BFINAL = 1, BTYPE = 01 (fixed Huffman codes), §3.2.3.
    bits.put(1, 1);
    bits.put(1, 2);
    deflate(data, &mut bits);
    bits.literal_or_length(256); // end of block
    let mut out = bits.finish();
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// LZ77 over `data`: literals and (length, distance) pairs, written as
/// they are found.
fn deflate(data: &[u8], bits: &mut BitWriter) {
    let n = data.len();
    let mut head = vec![NONE; 1 << HASH_BITS];
    let mut prev = vec![NONE; WINDOW];
    let hash = |p: usize| -> usize {
        let v = u32::from(data[p]) | u32::from(data[p + 1]) << 8 | u32::from(data[p + 2]) << 16;
        (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
    };
    let insert = |p: usize, head: &mut [u32], prev: &mut [u32]| {
        let h = hash(p);
        prev[p % WINDOW] = head[h];
        head[h] = p as u32;
    };
    let mut pos = 0;
    while pos < n {
        let (mut best_len, mut best_dist) = (0, 0);
        if pos + MIN_MATCH <= n {
            let limit = (n - pos).min(MAX_MATCH);
            let mut cand = head[hash(pos)];
            let mut tries = 0;
            while cand != NONE && tries < MAX_CHAIN {
                let c = cand as usize;
                if c >= pos || pos - c > WINDOW {
                    break;
                }
                // Only a candidate that could beat the best is compared.
                if data[c + best_len.min(limit - 1)] == data[pos + best_len.min(limit - 1)] {
                    let len = data[c..c + limit]
                        .iter()
                        .zip(&data[pos..pos + limit])
                        .take_while(|(a, b)| a == b)
                        .count();
                    if len > best_len {
                        (best_len, best_dist) = (len, pos - c);
                        if len >= GOOD_ENOUGH || len == limit {
                            break;
                        }
                    }
                }
                cand = prev[c % WINDOW];
                tries += 1;
            }
            insert(pos, &mut head, &mut prev);
        }
        if best_len >= MIN_MATCH {
            bits.pair(best_len, best_dist);
            for p in pos + 1..pos + best_len {
                if p + MIN_MATCH <= n {
                    insert(p, &mut head, &mut prev);
                }
            }
            pos += best_len;
        } else {
            bits.literal_or_length(u16::from(data[pos]));
            pos += 1;
        }
    }
}

/// Bits packed least significant first (RFC 1951 §3.1.1).
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    /// Appends the low `count` bits of `value` (`count` <= 32).
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code: its bits go most significant first (§3.1.1).
    fn code(&mut self, code: u32, len: u32) {
        self.put(code.reverse_bits() >> (32 - len), len);
    }

    /// Symbol 0..=287 of the fixed literal/length code (§3.2.6).
    fn literal_or_length(&mut self, sym: u16) {
        let sym = u32::from(sym);
        match sym {
            0..=143 => self.code(0x30 + sym, 8),
            144..=255 => self.code(0x190 + sym - 144, 9),
            256..=279 => self.code(sym - 256, 7),
            _ => self.code(0xC0 + sym - 280, 8),
        }
    }

    /// A back-reference: length code and extra bits, then the distance's
    /// (fixed 5-bit codes).
    fn pair(&mut self, len: usize, dist: usize) {
        let li = LEN_BASE.partition_point(|&b| usize::from(b) <= len) - 1;
        self.literal_or_length(257 + li as u16);
        self.put(
            (len - usize::from(LEN_BASE[li])) as u32,
            u32::from(LEN_EXTRA[li]),
        );
        let di = DIST_BASE.partition_point(|&b| usize::from(b) <= dist) - 1;
        self.code(di as u32, 5);
        self.put(
            (dist - usize::from(DIST_BASE[di])) as u32,
            u32::from(DIST_EXTRA[di]),
        );
    }

    /// Pads to a whole byte and hands the bytes back.
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn length_258_uses_code_285() {
        // 258 is both 227 + 31 (code 284, 5 extra bits) and code 285;
        // RFC 1951 reserves 284 + 31 and inflaters reject it.
        let li = LEN_BASE.partition_point(|&b| usize::from(b) <= 258) - 1;
        assert_eq!(257 + li, 285);
        let li = LEN_BASE.partition_point(|&b| usize::from(b) <= 257) - 1;
        assert_eq!((257 + li, 257 - usize::from(LEN_BASE[li])), (284, 30));
    }

    #[test]
    fn repetitive_input_shrinks() {
        let body = br#"{"id":1,"randomNumber":4242},"#.repeat(500);
        let gz = encode(&body);
        assert!(gz.len() * 10 < body.len(), "{} of {}", gz.len(), body.len());
        assert_eq!(&gz[gz.len() - 4..], &(body.len() as u32).to_le_bytes());
    }
}
