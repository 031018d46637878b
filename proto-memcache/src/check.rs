//! Invariant checks over the reply decoders, shared by the fuzz targets
//! (`fuzz/fuzz_targets/memcache_{text,meta,binary}.rs`) and this crate's
//! tests. Each function panics when an invariant is broken:
//!
//! 1. Split invariance: decoding `data` from one buffer and decoding it fed
//!    one byte at a time give the same frames and the same final outcome
//!    (error, or incomplete tail).
//! 2. Round trip: every decoded frame, re-encoded with the crate's reply
//!    encoder, decodes to an equal frame using exactly the re-encoded bytes.
//! 3. [`connection`]: a [`Connection`] with a fixed set of requests in
//!    flight gives the same events, error and leftover bytes whether the
//!    server bytes arrive whole or one at a time.

use std::time::Instant;

use bytes::BytesMut;

use crate::conn::{Config, Connection, Protocol, StoreOptions};
use crate::error::{DecodeError, DecodeResult, ProtocolError};
use crate::event::Event;
use crate::limits::Limits;
use crate::text::encode::StoreMode;
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

/// A connection of flavour `protocol` with requests of every kind in flight.
fn scripted(protocol: Protocol, limits: &Limits) -> Connection {
    let mut c = Connection::new(Config {
        protocol,
        limits: limits.clone(),
    });
    let quiet = StoreOptions {
        noreply: true,
        ..StoreOptions::default()
    };
    let _ = c.get(&[&b"a"[..], b"b", b"c"]);
    let _ = c.set(b"a", b"1");
    let _ = c.store(StoreMode::Add, b"b", b"2", quiet);
    let _ = c.delete(b"c", false);
    let _ = c.incr(b"n", 1, false);
    let _ = c.touch(b"a", 10, false);
    let _ = c.stats(None);
    let _ = c.version();
    let _ = c.noop();
    let _ = c.gets(&[b"a"]);
    let mut sink = BytesMut::new();
    let _ = c.poll_transmit(&mut sink);
    c
}

/// What a connection made of some input: events, then either the fatal
/// error or the number of bytes it left unconsumed.
type Outcome = (Vec<Event>, Result<usize, ProtocolError>);

fn drain(c: &mut Connection, end: Result<usize, ProtocolError>) -> Outcome {
    (std::iter::from_fn(|| c.poll_event()).collect(), end)
}

/// Checks that a [`Connection`] of flavour `protocol`, with requests in
/// flight, reacts to `data` the same whether it arrives whole or one byte at
/// a time (events, fatal error, unconsumed bytes), and never panics.
pub fn connection(protocol: Protocol, data: &[u8], limits: &Limits) {
    let now = Instant::now();
    let mut c = scripted(protocol, limits);
    let mut buf = BytesMut::from(data);
    let end = c.handle_input(now, &mut buf).map(|()| buf.len());
    let whole = drain(&mut c, end);

    let mut c = scripted(protocol, limits);
    let mut buf = BytesMut::new();
    let mut end = Ok(0);
    for &b in data {
        buf.extend_from_slice(&[b]);
        end = c.handle_input(now, &mut buf).map(|()| buf.len());
        if end.is_err() {
            break;
        }
    }
    let bytewise = drain(&mut c, end);
    assert_eq!(
        whole, bytewise,
        "connection events depend on how input is split"
    );
    // After a fatal error the connection is sticky and refuses commands.
    if whole.1.is_err() {
        let mut c = scripted(protocol, limits);
        let mut buf = BytesMut::from(data);
        let e = c.handle_input(now, &mut buf).unwrap_err();
        assert_eq!(c.handle_input(now, &mut BytesMut::new()), Err(e));
        assert!(c.version().is_err());
    }
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
        // Found by fuzzing: a line exactly at the limit must re-encode
        // within it ("STAT name" must not grow a trailing space).
        text_replies(
            b"STAT 12345678\r\n",
            &Limits {
                max_line_len: 13,
                ..Limits::default()
            },
        );
        meta_replies(
            b"ME 12345678\r\n",
            &Limits {
                max_line_len: 11,
                ..Limits::default()
            },
        );
    }

    #[test]
    fn connection_invariants_on_samples() {
        let l = Limits::default();
        connection(
            Protocol::Text,
            b"VALUE a 0 1\r\nx\r\nEND\r\nSTORED\r\nNOT_STORED\r\nDELETED\r\n5\r\nTOUCHED\r\nSTAT a b\r\nEND\r\nVERSION 1\r\n",
            &l,
        );
        connection(Protocol::Text, b"VALUE a 0 1\r\nx\r\nSTORED\r\n", &l);
        connection(
            Protocol::Meta,
            b"VA 1 ka O2\r\nx\r\nMN\r\nHD O4\r\nNS O5\r\nMN\r\nHD O6\r\nVA 1 O7\r\n2\r\nHD O8\r\nEND\r\nVERSION 1\r\nMN\r\n",
            &l,
        );
        connection(Protocol::Meta, b"SERVER_ERROR x\r\nMN\r\nHD O9\r\n", &l);
        let mut b = BytesMut::new();
        let r = |opcode, opaque, key: &'static [u8]| binary::Response {
            opcode,
            status: binary::Status::NO_ERROR,
            opaque,
            cas: 0,
            data_type: 0,
            extras: &[0u8; 4][..],
            key,
            value: &b"v"[..],
        };
        binary::encode::response(&mut b, &r(binary::Opcode::GetKQ, 2, b"b"));
        binary::encode::response(&mut b, &r(binary::Opcode::Noop, 4, b""));
        binary::encode::response(&mut b, &r(binary::Opcode::Set, 4, b""));
        connection(Protocol::Binary, &b, &l);
        connection(Protocol::Binary, &[0x81; 40], &l);
    }
}
