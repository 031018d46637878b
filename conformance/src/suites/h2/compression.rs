//! RFC 7541 (HPACK) as the server decodes it: index errors (§2.3.3,
//! §6.1), dynamic table size updates (§4.2, §6.3), Huffman strings (§5.2),
//! and the request examples of Appendix C, which share one dynamic table
//! across requests. "A decoding error in a field block MUST be treated as
//! a connection error of type COMPRESSION_ERROR" (RFC 9113 §4.3).

use super::expect;
use super::frame::{self, code, flag, setting};
use super::hpack::{self, APPENDIX_C3, APPENDIX_C4, Block};
use super::open;
use crate::framework::{Case, CaseResult, Pass, Target, fail, skip};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "7541-2.3.3",
            "an indexed field beyond the static and dynamic tables: COMPRESSION_ERROR",
            index_beyond,
        ),
        Case::must(
            "7541-2.3.3",
            "a literal whose name index is beyond the tables: COMPRESSION_ERROR",
            name_index_beyond,
        ),
        Case::must(
            "7541-4.2",
            "a dynamic table size update after a field: COMPRESSION_ERROR",
            late_size_update,
        ),
        Case::must(
            "7541-5.2",
            "a Huffman string containing EOS: COMPRESSION_ERROR",
            huffman_eos,
        ),
        Case::must(
            "7541-5.2",
            "Huffman padding longer than 7 bits: COMPRESSION_ERROR",
            huffman_long_padding,
        ),
        Case::must(
            "7541-5.2",
            "Huffman padding that is not the EOS prefix (not all ones): COMPRESSION_ERROR",
            huffman_zero_padding,
        ),
        Case::must(
            "7541-6.1",
            "an indexed field with index 0: COMPRESSION_ERROR",
            index_zero,
        ),
        Case::must(
            "7541-6.3",
            "a size update above SETTINGS_HEADER_TABLE_SIZE: COMPRESSION_ERROR",
            size_update_too_big,
        ),
        Case::must(
            "7541-6.3",
            "a size update within the limit, at the block start, is accepted",
            size_update_ok,
        ),
        Case::must(
            "7541-C.3",
            "the requests of Appendix C.3 (dynamic table, no Huffman) are served",
            appendix_c3,
        ),
        Case::must(
            "7541-C.4",
            "the requests of Appendix C.4 (dynamic table, Huffman) are served",
            appendix_c4,
        ),
    ]
}

/// A GET whose block is the request fields followed by `raw`.
fn bad_block(t: &Target, raw: &[u8]) -> CaseResult {
    let mut c = open(t)?;
    let block = c.request_block("GET", t.option("path")).raw(raw);
    c.send(&frame::headers(1, flag::END_STREAM, block.bytes()));
    expect::connection_error(&mut c, &[code::COMPRESSION_ERROR])
}

/// A literal field `x-huffman` whose value is the Huffman string `h`.
fn huffman_field(h: &[u8]) -> Vec<u8> {
    let mut out = vec![0x00];
    hpack::string(&mut out, b"x-huffman");
    hpack::integer(&mut out, 0x80, 7, h.len());
    out.extend_from_slice(h);
    out
}

fn index_beyond(t: &Target) -> CaseResult {
    // "Indices strictly greater than the sum of the lengths of both tables
    // MUST be treated as a decoding error" (§2.3.3). The dynamic table is
    // empty: index 62 is beyond it.
    bad_block(t, &[0x80 | 62])
}

fn name_index_beyond(t: &Target) -> CaseResult {
    // A literal without indexing whose name is index 70 (4-bit prefix).
    let mut raw = Vec::new();
    hpack::integer(&mut raw, 0x00, 4, 70);
    hpack::string(&mut raw, b"value");
    bad_block(t, &raw)
}

fn late_size_update(t: &Target) -> CaseResult {
    // "This dynamic table size update MUST occur at the beginning of the
    // first field block following the change to the dynamic table size"
    // (§4.2): one after a field is a decoding error.
    bad_block(t, &[0x20])
}

fn huffman_eos(t: &Target) -> CaseResult {
    // "A Huffman-encoded string literal containing the EOS symbol MUST be
    // treated as a decoding error" (§5.2). 'a' (00011) then EOS (30 ones)
    // and a padding bit: 36 bits.
    bad_block(t, &huffman_field(&[0x1f, 0xff, 0xff, 0xff, 0xff]))
}

fn huffman_long_padding(t: &Target) -> CaseResult {
    // "A padding strictly longer than 7 bits MUST be treated as a decoding
    // error" (§5.2). "a" with 3 bits of padding, then a whole octet more.
    let mut h = hpack::huffman_encode(b"a");
    h.push(0xff);
    bad_block(t, &huffman_field(&h))
}

fn huffman_zero_padding(t: &Target) -> CaseResult {
    // "A padding not corresponding to the most significant bits of the
    // code for the EOS symbol MUST be treated as a decoding error" (§5.2).
    // 'a' = 00011 then 000 instead of 111.
    bad_block(t, &huffman_field(&[0b0001_1000]))
}

fn index_zero(t: &Target) -> CaseResult {
    // "The index value of 0 is not used. It MUST be treated as a decoding
    // error if found in an indexed header field representation" (§6.1).
    bad_block(t, &[0x80])
}

fn size_update_too_big(t: &Target) -> CaseResult {
    // "The new maximum size MUST be lower than or equal to the limit
    // determined by the protocol using HPACK. A value that exceeds this
    // limit MUST be treated as a decoding error" (§6.3); the limit is the
    // server's SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2).
    let mut c = open(t)?;
    let limit = c.server_setting(setting::HEADER_TABLE_SIZE).unwrap_or(4096) as usize;
    if limit >= 1 << 30 {
        return Err(skip(format!("SETTINGS_HEADER_TABLE_SIZE {limit}")));
    }
    let mut raw = Vec::new();
    hpack::integer(&mut raw, 0x20, 5, limit + 1);
    let block = Block::new()
        .raw(&raw)
        .fields(&c.request("GET", t.option("path")));
    c.send(&frame::headers(1, flag::END_STREAM, block.bytes()));
    expect::connection_error(&mut c, &[code::COMPRESSION_ERROR])
}

fn size_update_ok(t: &Target) -> CaseResult {
    let mut c = open(t)?;
    let block = Block::new()
        .raw(&[0x20])
        .fields(&c.request("GET", t.option("path")));
    c.send(&frame::headers(1, flag::END_STREAM, block.bytes()));
    let r = c.response(1)?;
    Ok(Pass::note(format!("answered {}", r.status)))
}

/// Sends the three example requests on streams 1, 3, 5 of one connection;
/// each must get a response (any status: `/` and `/index.html` on
/// `www.example.com` may not exist here).
fn appendix(t: &Target, blocks: [&[u8]; 3]) -> CaseResult {
    let mut c = open(t)?;
    if c.server_setting(setting::HEADER_TABLE_SIZE)
        .is_some_and(|s| s < 4096)
    {
        return Err(skip("SETTINGS_HEADER_TABLE_SIZE under 4096"));
    }
    let mut statuses = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let stream = 2 * i as u32 + 1;
        c.send(&frame::headers(stream, flag::END_STREAM, b));
        let r = c
            .response(stream)
            .map_err(|e| fail(format!("a response to request {}", i + 1), e.to_string()))?;
        statuses.push(r.status);
    }
    Ok(Pass::note(format!("answered {statuses:?}")))
}

fn appendix_c3(t: &Target) -> CaseResult {
    appendix(t, APPENDIX_C3)
}

fn appendix_c4(t: &Target) -> CaseResult {
    appendix(t, APPENDIX_C4)
}
