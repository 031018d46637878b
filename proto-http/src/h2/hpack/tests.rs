//! RFC 7541 Appendix C examples, round trips and malformed blocks.

use bytes::{Bytes, BytesMut};

use super::*;

/// Parses the RFC's hex dumps ("8286 8441 ..."), ignoring whitespace.
fn hex(s: &str) -> Bytes {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert_eq!(digits.len() % 2, 0);
    let val = |d: u8| (d as char).to_digit(16).unwrap() as u8;
    Bytes::from(
        digits
            .chunks(2)
            .map(|p| val(p[0]) << 4 | val(p[1]))
            .collect::<Vec<u8>>(),
    )
}

fn fields(list: &[(&'static str, &'static str)]) -> Vec<HeaderField> {
    list.iter().map(|&(n, v)| HeaderField::new(n, v)).collect()
}

fn table(decoder: &Decoder) -> Vec<(String, String)> {
    decoder
        .table_entries()
        .map(|(n, v)| {
            (
                String::from_utf8(n.to_vec()).unwrap(),
                String::from_utf8(v.to_vec()).unwrap(),
            )
        })
        .collect()
}

fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|&(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn decoder(max_table_size: usize) -> Decoder {
    Decoder::new(DecoderConfig {
        max_table_size,
        ..Default::default()
    })
}

fn encoder(huffman: HuffmanMode) -> Encoder {
    Encoder::new(EncoderConfig {
        huffman,
        ..Default::default()
    })
}

fn encode(encoder: &mut Encoder, list: &[HeaderField]) -> Bytes {
    let mut out = BytesMut::new();
    encoder.encode(list, &mut out);
    out.freeze()
}

/// One step of a C.3 to C.6 sequence: the block, the fields, and the dynamic
/// table afterwards (newest first) with its size.
struct Step {
    wire: &'static str,
    fields: &'static [(&'static str, &'static str)],
    table: &'static [(&'static str, &'static str)],
    size: usize,
}

/// Decodes each block with one decoder and encodes each list with one
/// encoder; both must match the RFC exactly.
fn run_sequence(steps: &[Step], table_size: usize, huffman: HuffmanMode, prefix: &str) {
    let mut dec = decoder(table_size);
    let mut enc = encoder(huffman);
    enc.set_max_table_size(table_size);
    for (i, step) in steps.iter().enumerate() {
        let wire = hex(step.wire);
        let expected = fields(step.fields);
        assert_eq!(dec.decode(&wire).unwrap(), expected, "decode step {i}");
        assert_eq!(
            table(&dec),
            owned(step.table),
            "decoder table after step {i}"
        );
        assert_eq!(dec.table_size(), step.size, "decoder size after step {i}");

        let encoded = encode(&mut enc, &expected);
        let want = if i == 0 {
            hex(&format!("{prefix}{}", step.wire))
        } else {
            wire
        };
        assert_eq!(encoded, want, "encode step {i}");
        assert_eq!(enc.table_size(), step.size, "encoder size after step {i}");
    }
}

/// C.2.1 Literal Header Field with Indexing.
#[test]
fn c_2_1_literal_with_indexing() {
    let wire = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");
    let mut dec = Decoder::default();
    assert_eq!(
        dec.decode(&wire).unwrap(),
        fields(&[("custom-key", "custom-header")])
    );
    assert_eq!(table(&dec), owned(&[("custom-key", "custom-header")]));
    assert_eq!(dec.table_size(), 55);
    let mut enc = encoder(HuffmanMode::Never);
    assert_eq!(
        encode(&mut enc, &fields(&[("custom-key", "custom-header")])),
        wire
    );
    assert_eq!(enc.table_size(), 55);
}

/// C.2.2 Literal Header Field without Indexing. The RFC's encoder chose not to
/// index a path; ours indexes, so only the decoding side is checked byte for
/// byte, and the encoder is checked to produce the same form when the field
/// would not fit the table.
#[test]
fn c_2_2_literal_without_indexing() {
    let wire = hex("040c 2f73 616d 706c 652f 7061 7468");
    let mut dec = Decoder::default();
    let decoded = dec.decode(&wire).unwrap();
    assert_eq!(decoded, fields(&[(":path", "/sample/path")]));
    // Raw literals are slices of the block, not copies.
    assert_eq!(decoded[0].value.as_ptr(), wire[2..].as_ptr());
    assert_eq!(dec.table_size(), 0);
    let mut enc = encoder(HuffmanMode::Never);
    enc.set_max_table_size(0);
    let out = encode(&mut enc, &decoded);
    assert_eq!(
        out,
        hex(&format!("20 {}", "040c 2f73 616d 706c 652f 7061 7468"))
    );
}

/// C.2.3 Literal Header Field Never Indexed.
#[test]
fn c_2_3_never_indexed() {
    let wire = hex("1008 7061 7373 776f 7264 0673 6563 7265 74");
    let mut dec = Decoder::default();
    let decoded = dec.decode(&wire).unwrap();
    assert_eq!(
        decoded,
        vec![HeaderField::new_sensitive("password", "secret")]
    );
    assert_eq!(dec.table_size(), 0);
    let mut enc = encoder(HuffmanMode::Never);
    assert_eq!(encode(&mut enc, &decoded), wire);
    assert_eq!(enc.table_size(), 0);
}

/// C.2.4 Indexed Header Field.
#[test]
fn c_2_4_indexed() {
    let wire = hex("82");
    let mut dec = Decoder::default();
    assert_eq!(dec.decode(&wire).unwrap(), fields(&[(":method", "GET")]));
    assert_eq!(dec.table_size(), 0);
    let mut enc = Encoder::default();
    assert_eq!(encode(&mut enc, &fields(&[(":method", "GET")])), wire);
}

const C3_FIELDS_1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const C3_FIELDS_2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const C3_FIELDS_3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const C3_TABLE_1: &[(&str, &str)] = &[(":authority", "www.example.com")];
const C3_TABLE_2: &[(&str, &str)] = &[
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];
const C3_TABLE_3: &[(&str, &str)] = &[
    ("custom-key", "custom-value"),
    ("cache-control", "no-cache"),
    (":authority", "www.example.com"),
];

/// C.3 Request Examples without Huffman Coding.
#[test]
fn c_3_requests_without_huffman() {
    let steps = [
        Step {
            wire: "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            fields: C3_FIELDS_1,
            table: C3_TABLE_1,
            size: 57,
        },
        Step {
            wire: "8286 84be 5808 6e6f 2d63 6163 6865",
            fields: C3_FIELDS_2,
            table: C3_TABLE_2,
            size: 110,
        },
        Step {
            wire: "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
            fields: C3_FIELDS_3,
            table: C3_TABLE_3,
            size: 164,
        },
    ];
    run_sequence(&steps, 4096, HuffmanMode::Never, "");
}

/// C.4 Request Examples with Huffman Coding.
#[test]
fn c_4_requests_with_huffman() {
    let steps = [
        Step {
            wire: "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            fields: C3_FIELDS_1,
            table: C3_TABLE_1,
            size: 57,
        },
        Step {
            wire: "8286 84be 5886 a8eb 1064 9cbf",
            fields: C3_FIELDS_2,
            table: C3_TABLE_2,
            size: 110,
        },
        Step {
            wire: "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
            fields: C3_FIELDS_3,
            table: C3_TABLE_3,
            size: 164,
        },
    ];
    run_sequence(&steps, 4096, HuffmanMode::Always, "");
    // Every C.4 string is strictly shorter coded, so the default policy agrees.
    run_sequence(&steps, 4096, HuffmanMode::WhenShorter, "");
}

const DATE_1: &str = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE_2: &str = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOCATION: &str = "https://www.example.com";
const COOKIE: &str = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const C5_FIELDS_1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", DATE_1),
    ("location", LOCATION),
];
const C5_FIELDS_2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", DATE_1),
    ("location", LOCATION),
];
const C5_FIELDS_3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", DATE_2),
    ("location", LOCATION),
    ("content-encoding", "gzip"),
    ("set-cookie", COOKIE),
];
const C5_TABLE_1: &[(&str, &str)] = &[
    ("location", LOCATION),
    ("date", DATE_1),
    ("cache-control", "private"),
    (":status", "302"),
];
const C5_TABLE_2: &[(&str, &str)] = &[
    (":status", "307"),
    ("location", LOCATION),
    ("date", DATE_1),
    ("cache-control", "private"),
];
const C5_TABLE_3: &[(&str, &str)] = &[
    ("set-cookie", COOKIE),
    ("content-encoding", "gzip"),
    ("date", DATE_2),
];

/// The size update announcing a 256-octet table: 001 11111, then 225.
const UPDATE_256: &str = "3fe1 01";

/// C.5 Response Examples without Huffman Coding (256-octet table, evictions).
/// The RFC assumes the 256-octet table is already agreed; our encoder starts
/// from the protocol's 4096 and so announces the change first.
#[test]
fn c_5_responses_without_huffman() {
    let steps = [
        Step {
            wire: "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 \
                   3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 \
                   7861 6d70 6c65 2e63 6f6d",
            fields: C5_FIELDS_1,
            table: C5_TABLE_1,
            size: 222,
        },
        Step {
            wire: "4803 3330 37c1 c0bf",
            fields: C5_FIELDS_2,
            table: C5_TABLE_2,
            size: 222,
        },
        Step {
            wire: "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 \
                   474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 \
                   454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 \
                   6572 7369 6f6e 3d31",
            fields: C5_FIELDS_3,
            table: C5_TABLE_3,
            size: 215,
        },
    ];
    run_sequence(&steps, 256, HuffmanMode::Never, UPDATE_256);
}

/// C.6 Response Examples with Huffman Coding.
#[test]
fn c_6_responses_with_huffman() {
    let steps = [
        Step {
            wire: "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 \
                   82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            fields: C5_FIELDS_1,
            table: C5_TABLE_1,
            size: 222,
        },
        Step {
            wire: "4883 640e ffc1 c0bf",
            fields: C5_FIELDS_2,
            table: C5_TABLE_2,
            size: 222,
        },
        Step {
            wire: "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b \
                   d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 \
                   0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
            fields: C5_FIELDS_3,
            table: C5_TABLE_3,
            size: 215,
        },
    ];
    // "307" is 17 bits coded, three octets either way: the RFC Huffman-codes it.
    run_sequence(&steps, 256, HuffmanMode::Always, UPDATE_256);
}

// ---- table size updates -------------------------------------------------

#[test]
fn size_update_at_start_is_applied() {
    let mut dec = Decoder::default();
    dec.decode(&hex("4003 6162 6303 6465 66")).unwrap(); // abc: def, indexed
    assert_eq!(dec.table_size(), 38);
    // Two updates (0 then 4096) at the start: the table is flushed.
    assert_eq!(
        dec.decode(&hex("20 3fe1 1f 82")).unwrap(),
        fields(&[(":method", "GET")])
    );
    assert_eq!(dec.table_size(), 0);
    assert_eq!(dec.table_capacity(), 4096);
}

#[test]
fn size_update_mid_block_is_rejected() {
    let mut dec = Decoder::default();
    let err = dec.decode(&hex("82 20")).unwrap_err();
    assert_eq!(err, DecoderError::TableSizeUpdateNotAtStart);
    assert_eq!(err.error_code(), crate::h2::ErrorCode::CompressionError);
    assert!(err.is_connection_error());
}

#[test]
fn size_update_above_limit_is_rejected() {
    let mut dec = decoder(256);
    // 257 = 31 + 226.
    assert_eq!(
        dec.decode(&hex("3fe2 01")),
        Err(DecoderError::TableSizeUpdateTooLarge {
            size: 257,
            max: 256
        })
    );
    let mut dec = decoder(256);
    assert_eq!(
        dec.decode(&hex("3fe1 01 82")).unwrap(),
        fields(&[(":method", "GET")])
    );
}

#[test]
fn lowered_limit_requires_update() {
    let mut dec = Decoder::default();
    dec.set_max_table_size(100);
    assert_eq!(
        dec.decode(&hex("82")),
        Err(DecoderError::MissingTableSizeUpdate)
    );

    let mut dec = Decoder::default();
    dec.set_max_table_size(100);
    assert_eq!(
        dec.decode(&hex("3f45 82")).unwrap(),
        fields(&[(":method", "GET")])
    );
    assert_eq!(dec.table_capacity(), 100);
    // Raising the limit needs no update.
    dec.set_max_table_size(8192);
    assert!(dec.decode(&hex("82")).is_ok());
    assert_eq!(
        dec.decode(&hex("3fe1 3f")),
        Ok(vec![]),
        "8192 = 31 + 8161 is within the raised limit"
    );
}

#[test]
fn encoder_emits_min_then_final_update() {
    let mut enc = Encoder::default();
    let get = fields(&[(":method", "GET")]);
    assert_eq!(encode(&mut enc, &get), hex("82"));
    enc.set_max_table_size(0);
    enc.set_max_table_size(4096);
    assert_eq!(encode(&mut enc, &get), hex("20 3fe1 1f 82"));
    // Nothing pending any more; the peer raising its limit beyond our own
    // maximum changes nothing.
    enc.set_max_table_size(1 << 20);
    assert_eq!(encode(&mut enc, &get), hex("82"));
    // A smaller configured maximum is announced on the first block.
    let mut enc = Encoder::new(EncoderConfig {
        max_table_size: 256,
        ..Default::default()
    });
    assert_eq!(encode(&mut enc, &get), hex("3fe1 01 82"));
}

// ---- malformed blocks --------------------------------------------------

#[test]
fn malformed_blocks_are_compression_errors() {
    let cases: &[(&str, DecoderError)] = &[
        ("80", DecoderError::InvalidIndex { index: 0 }),
        ("be", DecoderError::InvalidIndex { index: 62 }),
        ("ff 80 01", DecoderError::InvalidIndex { index: 255 }),
        ("7f 00 00", DecoderError::InvalidIndex { index: 63 }), // literal, dynamic name index
        ("ff", DecoderError::Truncated),                        // index continues
        ("ff ff ff ff ff ff 01", DecoderError::IntegerOverflow), // too many octets
        ("ff ff ff ff ff 7f", DecoderError::IntegerOverflow),   // value > 2^32 - 1
        ("40", DecoderError::Truncated),                        // no name
        ("40 05 61 62", DecoderError::Truncated),               // short name
        ("40 01 61", DecoderError::Truncated),                  // no value
        ("40 01 61 7f", DecoderError::Truncated),               // value length continues
        ("40 01 61 02 62", DecoderError::Truncated),            // short value
        ("00 01 61 81 00", DecoderError::HuffmanPadding),       // 8 zero bits
        ("00 01 61 81 ff", DecoderError::HuffmanPadding),       // 8 one bits of padding
        ("00 01 61 84 ff ff ff ff", DecoderError::HuffmanEos),  // EOS
        ("10 81 18 00", DecoderError::HuffmanPadding),          // "a" + 000 padding
        (
            "3fe2 1f",
            DecoderError::TableSizeUpdateTooLarge {
                size: 4097,
                max: 4096,
            },
        ),
    ];
    for (wire, expected) in cases {
        let mut dec = Decoder::default();
        let mut out = vec![HeaderField::new("keep", "me")];
        let err = dec.decode_into(&hex(wire), &mut out).expect_err(wire);
        assert_eq!(err, *expected, "{wire}");
        assert_eq!(
            err.error_code(),
            crate::h2::ErrorCode::CompressionError,
            "{wire}"
        );
        assert!(err.is_connection_error());
        assert_eq!(out.len(), 1, "output restored on error ({wire})");
        // The error converts to io::Error.
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    }
}

#[test]
fn every_truncation_of_a_valid_block_fails_cleanly() {
    let blocks = [
        hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
        hex("4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
        hex("1008 7061 7373 776f 7264 0673 6563 7265 74"),
    ];
    for block in blocks {
        for cut in 1..block.len() {
            let mut dec = Decoder::default();
            // A cut may fall on a representation boundary (valid, shorter
            // list) or inside one (an error); it must never panic.
            if let Ok(list) = dec.decode(&block.slice(..cut)) {
                assert!(list.len() < 5);
            }
        }
    }
}

// ---- limits -------------------------------------------------------------

#[test]
fn string_limit_is_checked_before_copying() {
    let config = DecoderConfig {
        max_string_len: 4,
        ..Default::default()
    };
    let mut dec = Decoder::new(config.clone());
    assert_eq!(dec.decode(&hex("00 04 6162 6364 00")).unwrap().len(), 1);
    assert_eq!(
        dec.decode(&hex("00 05 6162 6364 65 00")),
        Err(DecoderError::StringTooLong { max: 4 })
    );
    // A declared length far beyond the block is "truncated" before any limit
    // question arises, and never allocates.
    assert_eq!(
        dec.decode(&hex("00 7f ff ff ff 0f")),
        Err(DecoderError::Truncated)
    );

    // Huffman: 16 coded octets hold at least 4 symbols ((128 - 7) / 30), and
    // 20 hold at least 6, which exceeds the limit before decoding.
    let mut dec = Decoder::new(config.clone());
    let mut block = vec![0x00, 0x80 | 20];
    block.extend([0u8; 20]);
    block.push(0);
    assert_eq!(
        dec.decode(&Bytes::from(block)),
        Err(DecoderError::StringTooLong { max: 4 })
    );
    // "00000" is 25 bits: 4 octets that decode to 5 symbols, over the limit
    // while decoding.
    let mut dec = Decoder::new(config);
    let mut block = vec![0x00, 0x84];
    block.extend([0x00, 0x00, 0x00, 0x7f]);
    block.push(0);
    assert_eq!(
        dec.decode(&Bytes::from(block)),
        Err(DecoderError::StringTooLong { max: 4 })
    );
}

#[test]
fn header_list_limit_is_a_stream_error_and_keeps_the_table_in_sync() {
    let config = DecoderConfig {
        max_header_list_size: 100,
        ..Default::default()
    };
    let mut dec = Decoder::new(config);
    let mut enc = Encoder::default();
    let big = [
        HeaderField::new("a", "x".repeat(40)), // 73
        HeaderField::new("b", "y".repeat(40)), // 73: over
        HeaderField::new("c", "z".repeat(10)), // indexed even though over
        HeaderField::new_sensitive("d", "dd"), // skipped undecoded
    ];
    let block = encode(&mut enc, &big);
    let mut out = Vec::new();
    let err = dec.decode_into(&block, &mut out).unwrap_err();
    assert_eq!(err, DecoderError::HeaderListTooLarge { max: 100 });
    assert!(!err.is_connection_error());
    assert_eq!(err.error_code(), crate::h2::ErrorCode::ProtocolError);
    assert!(out.is_empty());
    // Both tables hold the three indexed fields; the next block, which
    // refers to them by index, decodes.
    assert_eq!(dec.table_size(), enc.table_size());
    let next = fields(&[("c", "zzzzzzzzzz"), ("a", "")]);
    let block = encode(&mut enc, &next);
    assert_eq!(dec.decode(&block).unwrap(), next);
}

// ---- encoder policy ----------------------------------------------------

#[test]
fn sensitive_fields_are_never_indexed() {
    let mut enc = Encoder::default();
    let list = [
        HeaderField::new_sensitive("x-secret", "s3cr3t"),
        HeaderField::new("authorization", "Basic Zm9vOmJhcg=="), // auto-sensitive
        HeaderField::new("cookie", "id=1"),                      // short cookie
        HeaderField::new_sensitive(":method", "GET"),            // even a static hit
    ];
    let block = encode(&mut enc, &list);
    assert_eq!(enc.table_size(), 0);
    let mut dec = Decoder::default();
    let decoded = dec.decode(&block).unwrap();
    assert!(decoded.iter().all(|f| f.sensitive));
    assert_eq!(block[0] & 0xf0, 0x10);
    let names: Vec<&[u8]> = decoded.iter().map(|f| &f.name[..]).collect();
    assert_eq!(
        names,
        [&b"x-secret"[..], b"authorization", b"cookie", b":method"]
    );

    // Without auto_sensitive, only explicit flags count.
    let mut enc = Encoder::new(EncoderConfig {
        auto_sensitive: false,
        ..Default::default()
    });
    let _ = encode(&mut enc, &list[1..3]);
    assert_eq!(enc.table_size(), list[1].size() + list[2].size());
}

#[test]
fn oversized_fields_are_not_indexed() {
    let mut enc = Encoder::default();
    let huge = [HeaderField::new("x-big", "v".repeat(4000))];
    let block = encode(&mut enc, &huge);
    assert_eq!(block[0], 0x00); // literal without indexing, new name
    assert_eq!(enc.table_size(), 0);
    assert_eq!(Decoder::default().decode(&block).unwrap(), huge);
}

#[test]
fn huffman_only_when_shorter() {
    let mut enc = Encoder::default();
    // "307": 17 bits either way: stays raw by default.
    let block = encode(&mut enc, &fields(&[(":status", "307")]));
    assert_eq!(block, hex("4803 3330 37"));
    let mut enc = Encoder::default();
    let block = encode(&mut enc, &fields(&[(":status", "302")]));
    assert_eq!(block, hex("4882 6402"));
}

// ---- round trips ---------------------------------------------------------

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const NAMES: &[&str] = &[
    ":method",
    ":path",
    ":status",
    "content-type",
    "cookie",
    "authorization",
    "x-a",
    "x-b",
    "user-agent",
    "accept",
    "set-cookie",
    "date",
];
const VALUES: &[&str] = &["", "GET", "/", "200", "text/html", "gzip", "a value", "2"];

fn random_field(rng: &mut XorShift) -> HeaderField {
    let name = if rng.below(4) == 0 {
        let len = 1 + rng.below(20) as usize;
        Bytes::from(
            (0..len)
                .map(|_| b'a' + rng.below(26) as u8)
                .collect::<Vec<_>>(),
        )
    } else {
        Bytes::from_static(NAMES[rng.below(NAMES.len() as u64) as usize].as_bytes())
    };
    let value = match rng.below(4) {
        0 => Bytes::from_static(VALUES[rng.below(VALUES.len() as u64) as usize].as_bytes()),
        1 => {
            let len = rng.below(300) as usize;
            Bytes::from((0..len).map(|_| rng.next() as u8).collect::<Vec<_>>())
        }
        _ => {
            let len = rng.below(40) as usize;
            Bytes::from(
                (0..len)
                    .map(|_| b' ' + rng.below(95) as u8)
                    .collect::<Vec<_>>(),
            )
        }
    };
    HeaderField {
        name,
        value,
        sensitive: rng.below(10) == 0,
    }
}

#[test]
fn round_trip_many_generated_header_lists() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for round in 0..40 {
        let modes = [
            HuffmanMode::WhenShorter,
            HuffmanMode::Always,
            HuffmanMode::Never,
        ];
        let mode = modes[round % 3];
        let table_size = [4096, 256, 0, 65536][round % 4];
        let mut enc = Encoder::new(EncoderConfig {
            huffman: mode,
            max_table_size: table_size,
            auto_sensitive: false,
        });
        // Created under the initial 4096, then our announced size acknowledged.
        let mut dec = Decoder::default();
        dec.set_max_table_size(table_size);
        for block_no in 0..25 {
            if rng.below(10) == 0 {
                let peer = [0, 100, 4096, 1 << 20][rng.below(4) as usize];
                enc.set_max_table_size(peer);
            }
            let n = rng.below(12) as usize;
            let list: Vec<HeaderField> = (0..n).map(|_| random_field(&mut rng)).collect();
            let block = encode(&mut enc, &list);
            let decoded = dec.decode(&block).unwrap_or_else(|e| {
                panic!("round {round} block {block_no}: {e}");
            });
            assert_eq!(decoded, list, "round {round} block {block_no}");
            assert_eq!(dec.table_size(), enc.table_size());
            assert!(enc.table_size() <= enc.table_capacity());
        }
    }
}

#[test]
fn fuzz_invariant_on_rfc_blocks_and_noise() {
    // The RFC blocks as one stream, then garbage; then random bytes.
    let mut data = Vec::new();
    for wire in [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        "1008 7061 7373 776f 7264 0673 6563 7265 74",
    ] {
        let block = hex(wire);
        data.push(block.len() as u8);
        data.extend_from_slice(&block);
    }
    fuzz_decode_reencode(&data);
    let mut rng = XorShift(7);
    for _ in 0..3000 {
        let len = rng.below(64) as usize;
        let noise: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        fuzz_decode_reencode(&noise);
    }
}

/// The classic HPACK bomb: one large dynamic entry referenced many times
/// costs one octet per reference on the wire. The list limit stops it, and
/// the references share the entry's storage instead of copying it.
#[test]
fn repeated_references_to_a_large_entry_hit_the_list_limit() {
    let config = DecoderConfig {
        max_header_list_size: 64 * 1024,
        ..Default::default()
    };
    let mut dec = Decoder::new(config);
    let mut block = vec![0x40, 0x01, b'x', 0x7f, 0xa1, 0x1e]; // "x": 4000 octets (127 + 3873)
    block.extend(std::iter::repeat_n(b'v', 4000));
    let mut first = block.clone();
    first.push(0xbe);
    let fields = dec.decode(&Bytes::from(first)).unwrap();
    assert_eq!(fields.len(), 2);
    // Both fields point at the same storage: the table entry, which owns its
    // octets rather than pinning the block.
    assert_eq!(fields[0].value.as_ptr(), fields[1].value.as_ptr());
    let entry = dec.table_entries().next().unwrap().1.as_ptr();
    assert_eq!(fields[0].value.as_ptr(), entry);
    assert!(!(block.as_ptr_range().contains(&entry)));

    let bomb = Bytes::from(vec![0xbe; 10_000]); // 10 000 × 4033 octets
    let mut out = Vec::new();
    let err = dec.decode_into(&bomb, &mut out).unwrap_err();
    assert_eq!(err, DecoderError::HeaderListTooLarge { max: 64 * 1024 });
    assert!(out.is_empty() && out.capacity() < 64, "nothing accumulated");
    // The table is intact; the connection goes on.
    assert_eq!(
        dec.decode(&Bytes::from_static(&[0xbe])).unwrap()[0]
            .value
            .len(),
        4000
    );
}

#[test]
fn encoder_table_owns_its_entries() {
    let big = Bytes::from(vec![b'a'; 100_000]);
    let field = HeaderField::new(big.slice(..10), big.slice(10..20));
    let mut enc = Encoder::default();
    let _ = encode(&mut enc, std::slice::from_ref(&field));
    let (name, value) = enc.table_entries().next().unwrap();
    assert_eq!((&name[..], &value[..]), (&field.name[..], &field.value[..]));
    let range = big.as_ptr_range();
    assert!(!range.contains(&name.as_ptr()) && !range.contains(&value.as_ptr()));
    // A static name is shared, not copied.
    let _ = encode(&mut enc, &fields(&[("content-type", "text/x")]));
    let (name, _) = enc.table_entries().next().unwrap();
    assert_eq!(name.as_ptr(), super::static_table::ENTRIES[30].0.as_ptr());
}

#[test]
fn encode_slices_matches_encode_field_by_field() {
    // The same blocks through both entry points, with a table size update
    // pending (RFC 7541 §4.2) and fields entering and hitting the table.
    let blocks = [
        fields(&[
            (":status", "200"),
            ("content-type", "text/plain"),
            ("x-custom", "a value"),
            ("authorization", "secret"),
        ]),
        fields(&[(":status", "200"), ("x-custom", "a value"), ("date", "now")]),
    ];
    let mut a = Encoder::default();
    let mut b = Encoder::default();
    let mut dec = decoder(4096);
    a.set_max_table_size(256);
    b.set_max_table_size(256);
    for block in &blocks {
        let mut by_fields = BytesMut::new();
        a.encode(block, &mut by_fields);
        let mut by_slices = BytesMut::new();
        b.begin_block(&mut by_slices);
        for f in block {
            b.encode_slices(&f.name, &f.value, &mut by_slices);
        }
        assert_eq!(by_fields, by_slices);
        let decoded = dec.decode(&by_slices.freeze()).unwrap();
        let pairs = |l: &[HeaderField]| -> Vec<(Bytes, Bytes)> {
            l.iter()
                .map(|f| (f.name.clone(), f.value.clone()))
                .collect()
        };
        assert_eq!(pairs(&decoded), pairs(block));
    }
    assert!(b.table_size() > 0, "some fields were indexed");
}
