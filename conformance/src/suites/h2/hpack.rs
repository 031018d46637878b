//! A small HPACK (RFC 7541) implementation of the suite's own.
//!
//! The encoder writes every field as a literal without indexing and without
//! Huffman coding (§6.2.2), so it needs no state and can write any name or
//! value, invalid ones included; cases add raw representations (indexes,
//! size updates, bad Huffman strings) through [`Block::raw`].
//!
//! The decoder reads the server's responses in full: static and dynamic
//! tables (§2.3, §4), size updates (§6.3) and Huffman strings (§5.2, with
//! the canonical code of Appendix B rebuilt from its code lengths).

/// The static table (RFC 7541 Appendix A); index 1 is the first entry.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// Bit length of the Huffman code of each symbol, 0..=255 then EOS (RFC 7541
/// Appendix B). The code is canonical: codes of one length are consecutive
/// in symbol order, and each length's first code follows the previous
/// length's last, shifted; [`huffman_codes`] rebuilds them.
const HUFFMAN_LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // 0x20
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // 0x30
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 0x40
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 0x50
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // 0x60
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 0x70
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0
    30, // EOS
];

/// The 257 (code, length) pairs of Appendix B, rebuilt canonically.
fn huffman_codes() -> Vec<(u32, u8)> {
    let mut order: Vec<usize> = (0..257).collect();
    order.sort_by_key(|&s| (HUFFMAN_LENGTHS[s], s));
    let mut codes = vec![(0u32, 0u8); 257];
    let mut code = 0u32;
    let mut prev = HUFFMAN_LENGTHS[order[0]];
    for (i, &s) in order.iter().enumerate() {
        let len = HUFFMAN_LENGTHS[s];
        if i > 0 {
            code = (code + 1) << (len - prev);
        }
        prev = len;
        codes[s] = (code, len);
    }
    codes
}

/// Huffman-encodes `s` (§5.2), padding with the high bits of EOS.
pub fn huffman_encode(s: &[u8]) -> Vec<u8> {
    let codes = huffman_codes();
    let mut out = Vec::new();
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &b in s {
        let (code, len) = codes[usize::from(b)];
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        let pad = 8 - bits;
        out.push(((acc << pad) as u8) | ((1u8 << pad) - 1));
    }
    out
}

/// Why a header block could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

/// Decodes a Huffman string (§5.2): EOS inside, padding over 7 bits or not
/// all ones are errors.
pub fn huffman_decode(src: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let codes = huffman_codes();
    // For each length, the (first code, symbols in canonical order).
    let mut by_len: Vec<(u32, Vec<usize>)> = vec![(0, Vec::new()); 31];
    let mut order: Vec<usize> = (0..257).collect();
    order.sort_by_key(|&s| (HUFFMAN_LENGTHS[s], s));
    for s in order {
        let (code, len) = codes[s];
        let e = &mut by_len[usize::from(len)];
        if e.1.is_empty() {
            e.0 = code;
        }
        e.1.push(s);
    }
    let mut out = Vec::new();
    let mut code = 0u32;
    let mut len = 0usize;
    for &byte in src {
        for i in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> i) & 1);
            len += 1;
            let (first, syms) = &by_len[len];
            if !syms.is_empty() && code >= *first && code - first < syms.len() as u32 {
                let sym = syms[(code - first) as usize];
                if sym == 256 {
                    return Err(DecodeError("EOS symbol in a Huffman string".into()));
                }
                out.push(sym as u8);
                code = 0;
                len = 0;
            } else if len >= 30 {
                return Err(DecodeError("invalid Huffman code".into()));
            }
        }
    }
    if len > 7 {
        return Err(DecodeError("Huffman padding longer than 7 bits".into()));
    }
    if code != (1u32 << len) - 1 {
        return Err(DecodeError("Huffman padding not all ones".into()));
    }
    Ok(out)
}

/// Appends `value` as an integer with an `n`-bit prefix (§5.1), the
/// prefix's other bits taken from `first`.
pub fn integer(out: &mut Vec<u8>, first: u8, n: u32, value: usize) {
    let max = (1usize << n) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
}

/// Appends a string literal without Huffman coding (§5.2).
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    integer(out, 0, 7, s.len());
    out.extend_from_slice(s);
}

/// A header block being built.
#[derive(Debug, Clone, Default)]
pub struct Block {
    bytes: Vec<u8>,
}

impl Block {
    /// An empty block.
    pub fn new() -> Block {
        Block::default()
    }

    /// Appends a literal field without indexing, new name (§6.2.2).
    pub fn field(mut self, name: &str, value: &str) -> Block {
        self.bytes.push(0x00);
        string(&mut self.bytes, name.as_bytes());
        string(&mut self.bytes, value.as_bytes());
        self
    }

    /// Appends each of `fields`.
    pub fn fields<'a>(mut self, fields: impl IntoIterator<Item = &'a (String, String)>) -> Block {
        for (n, v) in fields {
            self = self.field(n, v);
        }
        self
    }

    /// Appends raw representation bytes.
    pub fn raw(mut self, bytes: &[u8]) -> Block {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// The encoded block.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The decoder's state: the dynamic table (§2.3.2) and its limits.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Newest first.
    table: std::collections::VecDeque<(String, String)>,
    size: usize,
    max: usize,
    /// The limit our SETTINGS_HEADER_TABLE_SIZE allows (§4.2).
    limit: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(4096)
    }
}

impl Decoder {
    /// A decoder allowing a dynamic table of `limit` octets.
    pub fn new(limit: usize) -> Decoder {
        Decoder {
            table: Default::default(),
            size: 0,
            max: limit,
            limit,
        }
    }

    fn entry(&self, index: usize) -> Result<(String, String), DecodeError> {
        if index == 0 {
            return Err(DecodeError("index 0".into()));
        }
        if index <= STATIC.len() {
            let (n, v) = STATIC[index - 1];
            return Ok((n.to_string(), v.to_string()));
        }
        self.table
            .get(index - STATIC.len() - 1)
            .cloned()
            .ok_or_else(|| DecodeError(format!("index {index} beyond the tables")))
    }

    fn evict(&mut self) {
        while self.size > self.max {
            let Some((n, v)) = self.table.pop_back() else {
                break;
            };
            self.size -= n.len() + v.len() + 32;
        }
    }

    fn insert(&mut self, name: String, value: String) {
        self.size += name.len() + value.len() + 32;
        self.table.push_front((name, value));
        self.evict();
    }

    /// Decodes one whole header block into (name, value) pairs in order.
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<(String, String)>, DecodeError> {
        let mut r = Reader { b: block, at: 0 };
        let mut out = Vec::new();
        while r.at < block.len() {
            let first = block[r.at];
            if first & 0x80 != 0 {
                let i = r.integer(7)?;
                out.push(self.entry(i)?);
            } else if first & 0xc0 == 0x40 {
                let (n, v) = self.literal(&mut r, 6)?;
                self.insert(n.clone(), v.clone());
                out.push((n, v));
            } else if first & 0xe0 == 0x20 {
                let size = r.integer(5)?;
                if size > self.limit {
                    return Err(DecodeError(format!(
                        "table size update to {size} over {}",
                        self.limit
                    )));
                }
                self.max = size;
                self.evict();
            } else {
                out.push(self.literal(&mut r, 4)?);
            }
        }
        Ok(out)
    }

    fn literal(&self, r: &mut Reader<'_>, n: u32) -> Result<(String, String), DecodeError> {
        let i = r.integer(n)?;
        let name = if i == 0 {
            r.string()?
        } else {
            self.entry(i)?.0
        };
        Ok((name, r.string()?))
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self
            .b
            .get(self.at)
            .ok_or_else(|| DecodeError("truncated block".into()))?;
        self.at += 1;
        Ok(b)
    }

    fn integer(&mut self, n: u32) -> Result<usize, DecodeError> {
        let max = (1usize << n) - 1;
        let mut v = usize::from(self.byte()?) & max;
        if v < max {
            return Ok(v);
        }
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift > 28 {
                return Err(DecodeError("integer overflow".into()));
            }
            v += usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let huffman = self.b.get(self.at).is_some_and(|b| b & 0x80 != 0);
        let len = self.integer(7)?;
        let end = self
            .at
            .checked_add(len)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| DecodeError("string beyond the block".into()))?;
        let raw = &self.b[self.at..end];
        self.at = end;
        let bytes = if huffman {
            huffman_decode(raw)?
        } else {
            raw.to_vec()
        };
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The request header blocks of RFC 7541 Appendix C.3 (plain) and C.4
/// (Huffman): three requests sharing one dynamic table.
pub const APPENDIX_C3: [&[u8]; 3] = [
    &[
        0x82, 0x86, 0x84, 0x41, 0x0f, 0x77, 0x77, 0x77, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
        0x65, 0x2e, 0x63, 0x6f, 0x6d,
    ],
    &[
        0x82, 0x86, 0x84, 0xbe, 0x58, 0x08, 0x6e, 0x6f, 0x2d, 0x63, 0x61, 0x63, 0x68, 0x65,
    ],
    &[
        0x82, 0x87, 0x85, 0xbf, 0x40, 0x0a, 0x63, 0x75, 0x73, 0x74, 0x6f, 0x6d, 0x2d, 0x6b, 0x65,
        0x79, 0x0c, 0x63, 0x75, 0x73, 0x74, 0x6f, 0x6d, 0x2d, 0x76, 0x61, 0x6c, 0x75, 0x65,
    ],
];

/// RFC 7541 Appendix C.4: C.3's requests with Huffman strings.
pub const APPENDIX_C4: [&[u8]; 3] = [
    &[
        0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90,
        0xf4, 0xff,
    ],
    &[
        0x82, 0x86, 0x84, 0xbe, 0x58, 0x86, 0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf,
    ],
    &[
        0x82, 0x87, 0x85, 0xbf, 0x40, 0x88, 0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f, 0x89,
        0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf,
    ],
];

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn canonical_code_matches_appendix_b_samples() {
        let c = huffman_codes();
        // Rows of Appendix B: sym 0, '0', 'a', ' ', 255 and EOS.
        assert_eq!(c[0], (0x1ff8, 13));
        assert_eq!(c[usize::from(b'0')], (0x0, 5));
        assert_eq!(c[usize::from(b'a')], (0x3, 5));
        assert_eq!(c[usize::from(b' ')], (0x14, 6));
        assert_eq!(c[255], (0x3ffffee, 26));
        assert_eq!(c[256], (0x3fff_ffff, 30));
    }

    #[test]
    fn appendix_c3_and_c4_decode_to_the_same_requests() {
        let expected = [
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
            ]),
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
                ("cache-control", "no-cache"),
            ]),
            pairs(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value"),
            ]),
        ];
        for blocks in [APPENDIX_C3, APPENDIX_C4] {
            let mut d = Decoder::default();
            for (b, want) in blocks.iter().zip(&expected) {
                assert_eq!(&d.decode(b).unwrap(), want);
            }
            // §C.3.3: 164 octets in the table after the third request.
            assert_eq!(d.size, 164);
        }
    }

    #[test]
    fn huffman_round_trip_and_errors() {
        assert_eq!(
            huffman_encode(b"www.example.com"),
            APPENDIX_C4[0][5..].to_vec()
        );
        let s = b"custom-value \x00\xff:/";
        assert_eq!(huffman_decode(&huffman_encode(s)).unwrap(), s);
        // 'a' is 00011: padding of 3 ones is fine, of 3 zeros is not.
        assert_eq!(huffman_decode(&[0b0001_1111]).unwrap(), b"a");
        assert!(huffman_decode(&[0b0001_1000]).is_err());
        // A whole extra octet of padding (11 bits).
        assert!(huffman_decode(&[0b0001_1111, 0xff]).is_err());
        // EOS itself: 30 ones.
        assert!(huffman_decode(&[0xff, 0xff, 0xff, 0xfc]).is_err());
    }

    #[test]
    fn integers_and_table_limits() {
        let mut b = Vec::new();
        integer(&mut b, 0x20, 5, 4097);
        assert_eq!(b, [0x3f, 0xe2, 0x1f]);
        let mut d = Decoder::new(4096);
        assert!(d.decode(&b).is_err());
        assert!(d.decode(&[0x80]).is_err());
        assert!(d.decode(&[0xbe]).is_err());
        assert!(d.decode(&[0x3f, 0xe1, 0x1f]).is_ok());
        let block = Block::new().field("x-Up", "v").raw(&[0x88]);
        assert_eq!(
            Decoder::default().decode(block.bytes()).unwrap(),
            pairs(&[("x-Up", "v"), (":status", "200")])
        );
    }
}
