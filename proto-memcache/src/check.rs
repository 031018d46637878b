//! Invariant checks over the reply decoders, shared by the fuzz targets
//! (`fuzz/fuzz_targets/memcache_{text,meta,binary}.rs`) and this crate's
//! tests. Each function panics when an invariant is broken:
//!
//! 1. Split invariance: decoding `data` from one buffer and decoding it fed
//!    one byte at a time give the same frames and the same final outcome
//!    (error, or incomplete tail).
//! 2. Round trip: every decoded frame, re-encoded with the crate's reply
//!    encoder, decodes to an equal frame using exactly the re-encoded bytes.

use bytes::BytesMut;

use crate::error::{DecodeError, DecodeResult};
use crate::limits::Limits;
use crate::{binary, meta, text};

/// The frames decoded from `data` and how decoding stopped (`None`: the rest
/// is an incomplete frame or nothing).
type Run<F> = (Vec<F>, Option<DecodeError>);

fn whole<'a, F>(data: &'a [u8], decode: impl Fn(&'a [u8]) -> DecodeResult<F>) -> Run<F> {
    let mut frames = Vec::new();
    let mut at = 0;
    loop {
        match decode(&data[at..]) {
            Ok(Some((f, n))) => {
                assert!(n > 0 && n <= data.len() - at, "bad consumed length");
                frames.push(f);
                at += n;
            }
            Ok(None) => return (frames, None),
            Err(e) => return (frames, Some(e)),
        }
    }
}

fn bytewise<'a, F>(data: &'a [u8], decode: impl Fn(&'a [u8]) -> DecodeResult<F>) -> Run<F> {
    let mut frames = Vec::new();
    let mut start = 0;
    let mut end = start;
    while end < data.len() {
        end += 1;
        // Drain every frame the bytes so far complete (a byte can complete
        // one frame only, but stay general).
        loop {
            match decode(&data[start..end]) {
                Ok(Some((f, n))) => {
                    frames.push(f);
                    start += n;
                }
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}

fn check<'a, F: PartialEq + std::fmt::Debug>(
    data: &'a [u8],
    decode: impl Fn(&'a [u8]) -> DecodeResult<F> + Copy,
    round_trip: impl Fn(&F),
) {
    let a = whole(data, decode);
    let b = bytewise(data, decode);
    assert_eq!(a, b, "whole-buffer and byte-at-a-time decoding differ");
    for f in &a.0 {
        round_trip(f);
    }
}

/// Checks the text reply decoder on `data`.
pub fn text_replies(data: &[u8], limits: &Limits) {
    check(
        data,
        |b| text::decode(b, limits),
        |f| {
            let mut buf = BytesMut::new();
            text::encode::reply(&mut buf, f);
            let (g, n) = text::decode(&buf, limits)
                .expect("re-encoded text reply must decode")
                .expect("re-encoded text reply must be complete");
            assert_eq!(n, buf.len(), "re-encoded text reply length");
            assert_eq!(&g, f, "text reply round trip");
        },
    );
}

/// Checks the meta reply decoder on `data`.
pub fn meta_replies(data: &[u8], limits: &Limits) {
    check(
        data,
        |b| meta::decode(b, limits),
        |f| {
            let mut buf = BytesMut::new();
            meta::encode::reply(&mut buf, f);
            let (g, n) = meta::decode(&buf, limits)
                .expect("re-encoded meta reply must decode")
                .expect("re-encoded meta reply must be complete");
            assert_eq!(n, buf.len(), "re-encoded meta reply length");
            assert_eq!(&g, f, "meta reply round trip");
        },
    );
}

/// Checks the binary response decoder on `data`.
pub fn binary_responses(data: &[u8], limits: &Limits) {
    check(
        data,
        |b| binary::decode(b, limits),
        |f| {
            let mut buf = BytesMut::new();
            binary::encode::response(&mut buf, f);
            let (g, n) = binary::decode(&buf, limits)
                .expect("re-encoded binary response must decode")
                .expect("re-encoded binary response must be complete");
            assert_eq!(n, buf.len(), "re-encoded binary response length");
            assert_eq!(&g, f, "binary response round trip");
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invariants_hold_on_samples() {
        let l = Limits::default();
        text_replies(
            b"VALUE k 1 2 3\r\nab\r\nEND\r\nSTAT a b c\r\n42 \r\nERROR\r\nSTORED\r\nVAL",
            &l,
        );
        text_replies(b"VALUE k 1 2\r\nabX\r\n", &l);
        meta_replies(
            b"VA 2 c1 kfoo\r\nhi\r\nHD\r\nEN\r\nMN\r\nME k a=b\r\nCLIENT_ERROR x\r\nNF O",
            &l,
        );
        meta_replies(b"HD \r\n", &l);
        let mut b = BytesMut::new();
        binary::encode::response(
            &mut b,
            &binary::Response {
                opcode: binary::Opcode::GetK,
                status: binary::Status::NO_ERROR,
                opaque: 1,
                cas: 2,
                data_type: 0,
                extras: &[0u8; 4][..],
                key: &b"k"[..],
                value: &b"v"[..],
            },
        );
        b.extend_from_slice(&[0x81, 0x0a]);
        binary_responses(&b, &l);
        let small = Limits {
            max_line_len: 8,
            max_value_len: 4,
            ..Limits::default()
        };
        text_replies(b"VALUE k 0 5\r\n", &small);
        text_replies(b"STAT 0123456789\r\n", &small);
        meta_replies(b"VA 9\r\n", &small);
    }
}
