//! HPACK (RFC 7541) header block decoding and encoding:
//! `proto_http::h2::hpack` against the `hpack` crate 0.3, in one run.
//!
//! ```sh
//! cargo run --release -p weft-benches --features peers --bin hpack_peers -- [rounds] [iterations]
//! ```
//!
//! The h2 crate's own HPACK module is private, so the reference is the
//! standalone `hpack` crate (the classic pure-Rust implementation: static
//! and dynamic tables, Huffman decoding; its encoder never Huffman-codes).
//!
//! Four shapes, each a sequence of header blocks sent on one connection,
//! so the blocks share one dynamic table per side (RFC 7541 §2.2):
//! the three requests of RFC 7541 Appendix C.3/C.4, the three responses of
//! C.5/C.6, the first request of a browser page load (14 fields, fresh
//! table: nearly all literals), and the whole page load (that request then
//! seven sub-resource requests sharing most fields: mostly table hits).
//!
//! Every sample times `iterations` connections: each builds a fresh
//! decoder (or encoder), runs the shape's blocks through it in order and
//! drops it, so the table's inserts, evictions and frees are counted; the
//! figure printed is that time divided by the blocks (ns per block). The
//! two sides alternate, the first one changing each round, cycling over
//! every row, `rounds` times (default 31 rounds of 2,000 connections);
//! medians and minima are printed with the ratio time(hpack) /
//! time(proto-http), so a ratio above 1 means proto-http is faster.
//!
//! Decode rows decode the same octets with both decoders: the RFC's own
//! Huffman-coded blocks (C.4, C.6 with its 256-octet table) or proto-http's
//! encoder output (Huffman when shorter, the browser shapes), and the
//! `hpack` encoder's output (raw literals, every shape, 4096-octet table).
//! Per block, proto-http's `Decoder::decode_into` appends `HeaderField`s
//! (`Bytes` name and value: raw literals are zero-copy slices of the block
//! unless indexed, table hits share the table's `Bytes`, Huffman strings
//! and table entries allocate) to one reused `Vec`, which is cleared
//! before the next block; it also checks every length against its limits
//! (string length, header list size, table size updates). `hpack`'s
//! `Decoder::decode` returns a new `Vec<(Vec<u8>, Vec<u8>)>`, so every
//! name and value is copied into its own allocation: that is its API and
//! is timed as such. Its `decode_with_cb` hands each field to a callback
//! as `Cow`s borrowed from the block or the table where it can (Huffman
//! strings and literals are still owned); the `decode_with_cb` rows time
//! it with a callback that only counts the fields, which keeps less than
//! proto-http does (nothing outlives the callback). `hpack` 0.3 rebuilds
//! its Huffman code table (257 entries in nested `HashMap`s) for every
//! Huffman-coded string and then decodes it one bit at a time, two hash
//! lookups per bit, so the Huffman decode ratios mostly measure that
//! design; the raw-literal rows compare the rest of the two decoders.
//!
//! Encode rows feed each encoder the same field lists; both index fields
//! into the dynamic table by their own default policy, and the octets per
//! block of each are printed, since compression is half the story.
//! proto-http's `Encoder::encode` appends to one reused `BytesMut`
//! (cleared per block), Huffman-coding strings when shorter (its default)
//! or never (the like-for-like row: `hpack` has no Huffman encoder).
//! `hpack`'s `Encoder::encode_into` writes to one reused `Vec<u8>`; it
//! finds fields by a linear scan of the static and dynamic tables and adds
//! a field to the table only when its name is in neither, so a changed
//! value (a new `:path`) is never indexed. Before anything is timed, every
//! block of every input decodes to the expected fields with both decoders,
//! and each encoder's output decodes to the input with the other side's
//! decoder (and its own); any difference panics.
//!
//! For profilers, `HPACK_PEERS_ROWS=text` times only the rows whose shape
//! or operation contains `text` (all checks still run first):
//!
//! ```sh
//! HPACK_PEERS_ROWS="page load" perf record -g target/release/hpack_peers 5 2000
//! ```

use bytes::{Bytes, BytesMut};
use proto_http::h2::hpack::{
    Decoder, DecoderConfig, Encoder, EncoderConfig, HeaderField, HuffmanMode,
};
use std::hint::black_box;
use std::time::Instant;
use weft_benches::{median, min_max};

/// One header field as owned octets, the form both decoders can be compared in.
type Field = (Vec<u8>, Vec<u8>);

/// One block's fields as borrowed name and value, `hpack::Encoder`'s input.
type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

/// Header blocks on one connection, with the table size their encoder assumed.
struct Wire {
    /// Where the octets come from, for the row label.
    source: &'static str,
    /// Dynamic table size both decoders start with (RFC 7541 §4.2).
    table_size: usize,
    blocks: Vec<Bytes>,
}

/// A sequence of header blocks sent on one connection.
struct Shape {
    name: &'static str,
    /// The field list of each block, in order.
    lists: Vec<Vec<Field>>,
    /// Huffman-coded blocks (RFC bytes or proto-http's encoder) and the
    /// `hpack` encoder's raw-literal blocks.
    wires: Vec<Wire>,
}

/// Parses the RFC's hex dumps ("8286 8441 ..."), ignoring whitespace.
fn hex(s: &str) -> Bytes {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert!(digits.len() % 2 == 0, "odd hex dump");
    let nibble = |d: u8| (d as char).to_digit(16).expect("hex digit") as u8;
    digits
        .chunks(2)
        .map(|p| (nibble(p[0]) << 4) | nibble(p[1]))
        .collect::<Vec<u8>>()
        .into()
}

fn list(pairs: &[(&str, &str)]) -> Vec<Field> {
    pairs
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// RFC 7541 C.3 / C.4: three requests on one connection.
fn rfc_requests() -> (Vec<Vec<Field>>, Vec<Bytes>) {
    let lists = vec![
        list(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
        ]),
        list(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "www.example.com"),
            ("cache-control", "no-cache"),
        ]),
        list(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/index.html"),
            (":authority", "www.example.com"),
            ("custom-key", "custom-value"),
        ]),
    ];
    // C.4.1 to C.4.3 (Huffman-coded literals).
    let wire = vec![
        hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"),
        hex("8286 84be 5886 a8eb 1064 9cbf"),
        hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"),
    ];
    (lists, wire)
}

/// RFC 7541 C.5 / C.6: three responses on one connection (256-octet table).
fn rfc_responses() -> (Vec<Vec<Field>>, Vec<Bytes>) {
    let date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
    let location = "https://www.example.com";
    let lists = vec![
        list(&[
            (":status", "302"),
            ("cache-control", "private"),
            ("date", date1),
            ("location", location),
        ]),
        list(&[
            (":status", "307"),
            ("cache-control", "private"),
            ("date", date1),
            ("location", location),
        ]),
        list(&[
            (":status", "200"),
            ("cache-control", "private"),
            ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
            ("location", location),
            ("content-encoding", "gzip"),
            (
                "set-cookie",
                "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            ),
        ]),
    ];
    // C.6.1 to C.6.3 (Huffman-coded literals, evictions at 256 octets).
    let wire = vec![
        hex(
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 \
             82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        ),
        hex("4883 640e ffc1 c0bf"),
        hex(
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b \
             d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 \
             0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ),
    ];
    (lists, wire)
}

/// A browser page load over one connection: the document, then seven
/// sub-resources; 14 fields each.
fn browser_page() -> Vec<Vec<Field>> {
    const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";
    const COOKIE: &str = "session=8f2d1c7a9b3e4f60a1b2c3d4e5f60718; theme=dark; consent=analytics:0,ads:0; _ga=GA1.2.1234567890.1732400000";
    let document = list(&[
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "www.example.org"),
        (":path", "/news/2026/11/hpack-in-practice?ref=home"),
        ("user-agent", UA),
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        ("accept-language", "en-GB,en;q=0.5"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("cookie", COOKIE),
        ("upgrade-insecure-requests", "1"),
        ("sec-fetch-dest", "document"),
        ("sec-fetch-mode", "navigate"),
        ("sec-fetch-site", "none"),
        ("priority", "u=0, i"),
    ]);
    let sub = |path: &str, accept: &str, dest: &str, priority: &str| {
        list(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "www.example.org"),
            (":path", path),
            ("user-agent", UA),
            ("accept", accept),
            ("accept-language", "en-GB,en;q=0.5"),
            ("accept-encoding", "gzip, deflate, br, zstd"),
            ("cookie", COOKIE),
            (
                "referer",
                "https://www.example.org/news/2026/11/hpack-in-practice?ref=home",
            ),
            ("sec-fetch-dest", dest),
            ("sec-fetch-mode", "no-cors"),
            ("sec-fetch-site", "same-origin"),
            ("priority", priority),
        ])
    };
    let css = "text/css,*/*;q=0.1";
    let img = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5";
    vec![
        document,
        sub("/static/css/site.4e1f9a.css", css, "style", "u=2"),
        sub("/static/js/vendor.77c0d1.js", "*/*", "script", "u=2"),
        sub("/static/js/app.3f9c2b.js", "*/*", "script", "u=2"),
        sub("/static/img/logo.svg", img, "image", "u=4, i"),
        sub("/media/2026/11/header-1600w.avif", img, "image", "u=4, i"),
        sub("/media/2026/11/figure-1-800w.avif", img, "image", "u=5, i"),
        sub("/static/fonts/inter-var.woff2", "*/*", "font", "u=3"),
    ]
}

fn decoder_config(table_size: usize) -> DecoderConfig {
    let mut config = DecoderConfig::default();
    config.max_table_size = table_size;
    config
}

fn encoder_config(huffman: HuffmanMode) -> EncoderConfig {
    let mut config = EncoderConfig::default();
    config.huffman = huffman;
    config
}

fn header_fields(lists: &[Vec<Field>]) -> Vec<Vec<HeaderField>> {
    lists
        .iter()
        .map(|l| {
            l.iter()
                .map(|(n, v)| HeaderField::new(n.clone(), v.clone()))
                .collect()
        })
        .collect()
}

fn slices(lists: &[Vec<Field>]) -> Vec<Pairs<'_>> {
    lists
        .iter()
        .map(|l| l.iter().map(|(n, v)| (&n[..], &v[..])).collect())
        .collect()
}

/// Decodes `blocks` with one fresh proto-http decoder, as owned pairs.
fn weft_decode_all(table_size: usize, blocks: &[Bytes]) -> Vec<Vec<Field>> {
    let mut decoder = Decoder::new(decoder_config(table_size));
    blocks
        .iter()
        .map(|b| {
            decoder
                .decode(b)
                .unwrap_or_else(|e| panic!("proto-http decoder: {e:?}"))
                .into_iter()
                .map(|f| (f.name.to_vec(), f.value.to_vec()))
                .collect()
        })
        .collect()
}

/// Decodes `blocks` with one fresh `hpack` decoder.
fn hpack_decode_all(table_size: usize, blocks: &[Bytes]) -> Vec<Vec<Field>> {
    let mut decoder = hpack::Decoder::new();
    decoder.set_max_table_size(table_size);
    blocks
        .iter()
        .map(|b| {
            decoder
                .decode(b)
                .unwrap_or_else(|e| panic!("hpack decoder: {e:?}"))
        })
        .collect()
}

/// Same, through `decode_with_cb`.
fn hpack_decode_cb_all(table_size: usize, blocks: &[Bytes]) -> Vec<Vec<Field>> {
    let mut decoder = hpack::Decoder::new();
    decoder.set_max_table_size(table_size);
    blocks
        .iter()
        .map(|b| {
            let mut out = Vec::new();
            decoder
                .decode_with_cb(b, |n, v| out.push((n.into_owned(), v.into_owned())))
                .unwrap_or_else(|e| panic!("hpack decoder: {e:?}"));
            out
        })
        .collect()
}

fn weft_encode_all(lists: &[Vec<HeaderField>], huffman: HuffmanMode) -> Vec<Bytes> {
    let mut encoder = Encoder::new(encoder_config(huffman));
    lists
        .iter()
        .map(|l| {
            let mut dst = BytesMut::new();
            encoder.encode(l, &mut dst);
            dst.freeze()
        })
        .collect()
}

fn hpack_encode_all(lists: &[Pairs<'_>]) -> Vec<Bytes> {
    let mut encoder = hpack::Encoder::new();
    lists
        .iter()
        .map(|l| Bytes::from(encoder.encode(l.iter().copied())))
        .collect()
}

/// Both decoders (both `hpack` entry points) must give `lists` for `wire`.
fn check_wire(shape: &str, lists: &[Vec<Field>], wire: &Wire) {
    let what = format!("{shape}, {}", wire.source);
    assert_eq!(
        weft_decode_all(wire.table_size, &wire.blocks),
        lists,
        "{what}: proto-http decodes differently"
    );
    assert_eq!(
        hpack_decode_all(wire.table_size, &wire.blocks),
        lists,
        "{what}: hpack decodes differently"
    );
    assert_eq!(
        hpack_decode_cb_all(wire.table_size, &wire.blocks),
        lists,
        "{what}: hpack decode_with_cb decodes differently"
    );
}

fn shapes() -> Vec<Shape> {
    let (req, req_wire) = rfc_requests();
    let (resp, resp_wire) = rfc_responses();
    let page = browser_page();
    let first = vec![page[0].clone()];
    let huffman = |lists: &[Vec<Field>]| Wire {
        source: "proto-http encoder's blocks (Huffman when shorter)",
        table_size: 4096,
        blocks: weft_encode_all(&header_fields(lists), HuffmanMode::WhenShorter),
    };
    let raw = |lists: &[Vec<Field>]| Wire {
        source: "hpack encoder's blocks (raw literals)",
        table_size: 4096,
        blocks: hpack_encode_all(&slices(lists)),
    };
    vec![
        Shape {
            name: "RFC 7541 C.4: 3 requests",
            wires: vec![
                Wire {
                    source: "RFC C.4 blocks (Huffman)",
                    table_size: 4096,
                    blocks: req_wire,
                },
                raw(&req),
            ],
            lists: req,
        },
        Shape {
            name: "RFC 7541 C.6: 3 responses",
            wires: vec![
                Wire {
                    source: "RFC C.6 blocks (Huffman, 256-octet table)",
                    table_size: 256,
                    blocks: resp_wire,
                },
                raw(&resp),
            ],
            lists: resp,
        },
        Shape {
            name: "browser: first request, 14 fields",
            wires: vec![huffman(&first), raw(&first)],
            lists: first,
        },
        Shape {
            name: "browser: page load, 8 requests x 14 fields",
            wires: vec![huffman(&page), raw(&page)],
            lists: page,
        },
    ]
}

/// What one row times.
#[derive(Clone, Copy)]
enum Op {
    /// Decode `shape.wires[wire]`; `hpack` through `decode_with_cb` when `cb`.
    Decode { wire: usize, cb: bool },
    /// Encode the shape's lists; proto-http with this Huffman policy.
    Encode { huffman: HuffmanMode },
}

struct Row {
    shape: usize,
    op: Op,
    label: String,
    /// Octets per block, proto-http's and hpack's (the same for decoding).
    octets: (f64, f64),
}

/// Per-sample state reused across connections, so the allocator is timed
/// only where a codec itself allocates.
struct Buffers {
    fields: Vec<HeaderField>,
    weft_out: BytesMut,
    hpack_out: Vec<u8>,
}

/// One connection's decoding with proto-http; returns the fields seen.
fn weft_decode_conn(wire: &Wire, buffers: &mut Buffers) -> usize {
    let mut decoder = Decoder::new(decoder_config(wire.table_size));
    let mut seen = 0;
    for block in &wire.blocks {
        buffers.fields.clear();
        if let Err(e) = decoder.decode_into(black_box(block), &mut buffers.fields) {
            panic!("proto-http decoder: {e:?}");
        }
        seen += black_box(&buffers.fields).len();
    }
    seen
}

/// One connection's decoding with `hpack::Decoder::decode`.
fn hpack_decode_conn(wire: &Wire) -> usize {
    let mut decoder = hpack::Decoder::new();
    decoder.set_max_table_size(wire.table_size);
    let mut seen = 0;
    for block in &wire.blocks {
        let fields = decoder
            .decode(black_box(block))
            .unwrap_or_else(|e| panic!("hpack decoder: {e:?}"));
        seen += black_box(&fields).len();
    }
    seen
}

/// One connection's decoding with `hpack::Decoder::decode_with_cb`.
fn hpack_decode_cb_conn(wire: &Wire) -> usize {
    let mut decoder = hpack::Decoder::new();
    decoder.set_max_table_size(wire.table_size);
    let mut seen = 0;
    for block in &wire.blocks {
        decoder
            .decode_with_cb(black_box(block), |name, value| {
                black_box((&name, &value));
                seen += 1;
            })
            .unwrap_or_else(|e| panic!("hpack decoder: {e:?}"));
    }
    seen
}

/// One connection's encoding with proto-http; returns the octets written.
fn weft_encode_conn(lists: &[Vec<HeaderField>], huffman: HuffmanMode, out: &mut BytesMut) -> usize {
    let mut encoder = Encoder::new(encoder_config(huffman));
    let mut octets = 0;
    for l in lists {
        out.clear();
        encoder.encode(black_box(l), out);
        octets += black_box(&*out).len();
    }
    octets
}

/// One connection's encoding with `hpack::Encoder::encode_into`.
fn hpack_encode_conn(lists: &[Pairs<'_>], out: &mut Vec<u8>) -> usize {
    let mut encoder = hpack::Encoder::new();
    let mut octets = 0;
    for l in lists {
        out.clear();
        encoder
            .encode_into(black_box(l).iter().copied(), out)
            .expect("a Vec never fails to write");
        octets += black_box(&*out).len();
    }
    octets
}

fn mode_name(huffman: HuffmanMode) -> &'static str {
    match huffman {
        HuffmanMode::WhenShorter => "Huffman when shorter",
        HuffmanMode::Always => "Huffman always",
        _ => "no Huffman",
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(31);
    let iterations: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);

    let shapes = shapes();
    let fields: Vec<Vec<Vec<HeaderField>>> =
        shapes.iter().map(|s| header_fields(&s.lists)).collect();
    let pairs: Vec<Vec<Pairs<'_>>> = shapes.iter().map(|s| slices(&s.lists)).collect();

    // Every input decodes to the expected fields with both decoders, and
    // every encoder's output with both decoders, before anything is timed.
    let mut rows = Vec::new();
    for (i, s) in shapes.iter().enumerate() {
        let blocks = s.lists.len() as f64;
        for (w, wire) in s.wires.iter().enumerate() {
            check_wire(s.name, &s.lists, wire);
            let octets = wire.blocks.iter().map(Bytes::len).sum::<usize>() as f64 / blocks;
            for cb in [false, true] {
                let api = if cb { "decode_with_cb" } else { "decode" };
                rows.push(Row {
                    shape: i,
                    op: Op::Decode { wire: w, cb },
                    label: format!("decode {} (hpack: {api})", wire.source),
                    octets: (octets, octets),
                });
            }
        }
        let theirs = hpack_encode_all(&pairs[i]);
        check_wire(
            s.name,
            &s.lists,
            &Wire {
                source: "hpack encoder's blocks",
                table_size: 4096,
                blocks: theirs.clone(),
            },
        );
        let theirs_octets = theirs.iter().map(Bytes::len).sum::<usize>() as f64 / blocks;
        for huffman in [HuffmanMode::WhenShorter, HuffmanMode::Never] {
            let ours = weft_encode_all(&fields[i], huffman);
            check_wire(
                s.name,
                &s.lists,
                &Wire {
                    source: mode_name(huffman),
                    table_size: 4096,
                    blocks: ours.clone(),
                },
            );
            let ours_octets = ours.iter().map(Bytes::len).sum::<usize>() as f64 / blocks;
            rows.push(Row {
                shape: i,
                op: Op::Encode { huffman },
                label: format!(
                    "encode (proto-http: {}; hpack: raw literals)",
                    mode_name(huffman)
                ),
                octets: (ours_octets, theirs_octets),
            });
        }
    }

    if let Ok(filter) = std::env::var("HPACK_PEERS_ROWS") {
        rows.retain(|r| shapes[r.shape].name.contains(&filter) || r.label.contains(&filter));
    }

    let mut buffers = Buffers {
        fields: Vec::with_capacity(64),
        weft_out: BytesMut::with_capacity(4096),
        hpack_out: Vec::with_capacity(4096),
    };
    // samples[row] = (proto-http ns/block, hpack ns/block)
    let mut samples = vec![(Vec::new(), Vec::new()); rows.len()];
    for round in 0..rounds {
        for (r, row) in rows.iter().enumerate() {
            let s = &shapes[row.shape];
            let blocks = s.lists.len();
            for turn in 0..2 {
                // Alternate which side goes first, so neither always runs
                // on a warmer cache or a quieter moment.
                let weft_turn = (turn + round) % 2 == 0;
                let start = Instant::now();
                match (row.op, weft_turn) {
                    (Op::Decode { wire, .. }, true) => {
                        for _ in 0..iterations {
                            black_box(weft_decode_conn(&s.wires[wire], &mut buffers));
                        }
                    }
                    (Op::Decode { wire, cb: false }, false) => {
                        for _ in 0..iterations {
                            black_box(hpack_decode_conn(&s.wires[wire]));
                        }
                    }
                    (Op::Decode { wire, cb: true }, false) => {
                        for _ in 0..iterations {
                            black_box(hpack_decode_cb_conn(&s.wires[wire]));
                        }
                    }
                    (Op::Encode { huffman }, true) => {
                        for _ in 0..iterations {
                            black_box(weft_encode_conn(
                                &fields[row.shape],
                                huffman,
                                &mut buffers.weft_out,
                            ));
                        }
                    }
                    (Op::Encode { .. }, false) => {
                        for _ in 0..iterations {
                            black_box(hpack_encode_conn(&pairs[row.shape], &mut buffers.hpack_out));
                        }
                    }
                }
                let ns = start.elapsed().as_nanos() as f64 / (iterations * blocks) as f64;
                if weft_turn {
                    samples[r].0.push(ns);
                } else {
                    samples[r].1.push(ns);
                }
            }
        }
    }

    // On a shared machine noise only adds time to this CPU-bound loop: the
    // minimum estimates the uncontended cost, the median the typical one.
    println!(
        "| shape | operation | octets/block (proto-http / hpack) | proto-http ns/block (median) | proto-http ns/block (min) | hpack ns/block (median) | hpack ns/block (min) | hpack time / proto-http time, medians (>1: proto-http faster) | same, minima | M fields/s (proto-http / hpack, medians) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (row, (w, h)) in rows.iter().zip(samples.iter_mut()) {
        let s = &shapes[row.shape];
        let fields_per_block =
            s.lists.iter().map(Vec::len).sum::<usize>() as f64 / s.lists.len() as f64;
        let ((wl, _), (hl, _)) = (min_max(w), min_max(h));
        let (w, h) = (median(w), median(h));
        let octets = if row.octets.0 == row.octets.1 {
            format!("{:.1}", row.octets.0)
        } else {
            format!("{:.1} / {:.1}", row.octets.0, row.octets.1)
        };
        println!(
            "| {} | {} | {octets} | {w:.1} | {wl:.1} | {h:.1} | {hl:.1} | {:.2}x | {:.2}x | {:.1} / {:.1} |",
            s.name,
            row.label,
            h / w,
            hl / wl,
            fields_per_block * 1e3 / w,
            fields_per_block * 1e3 / h,
        );
    }
}
