//! `proto-resp`'s decoder on real server bytes: a battery of commands whose
//! replies cover every type the server sends is recorded, then decoded
//! whole, byte by byte, in pseudo-random pieces, and re-encoded. A frame
//! split at any byte boundary must decode the same (the Sans-IO contract).

use std::panic::{AssertUnwindSafe, catch_unwind};

use bytes::BytesMut;
use proto_resp::codec::{Decoder, StreamDecoder, encode, encode_resp2};
use proto_resp::{Frame, Limits, Protocol, invariants};

use super::client::{Client, key, show};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "decoder/resp3",
            "recorded RESP3 replies decode the same however they are split, and re-encode",
            resp3,
        ),
        Case::must(
            "decoder/resp2",
            "recorded RESP2 replies decode the same however they are split, and re-encode",
            resp2,
        ),
    ]
}

/// Runs the battery and returns the raw reply bytes and the number of
/// replies in them.
fn record(t: &Target, resp3: bool) -> Result<(Vec<u8>, usize), Fail> {
    let mut c = if resp3 {
        Client::open3(t)?
    } else {
        Client::open(t)?
    };
    let start = c.raw.len();
    let (s, l, h, st, z, n) = (key("s"), key("l"), key("h"), key("st"), key("z"), key("n"));
    let mut cmds: Vec<Vec<String>> = vec![
        vec!["PING".into()],
        vec!["SET".into(), s.clone(), "a\r\nb\0c".into()],
        vec!["GET".into(), s.clone()],
        vec!["GET".into(), key("absent")],
        vec!["INCR".into(), n.clone()],
        vec!["INCRBYFLOAT".into(), n.clone(), "1.5".into()],
        vec!["RPUSH".into(), l.clone(), "a".into(), "".into(), "c".into()],
        vec!["LRANGE".into(), l.clone(), "0".into(), "-1".into()],
        vec![
            "HSET".into(),
            h.clone(),
            "f".into(),
            "v".into(),
            "g".into(),
            "w".into(),
        ],
        vec!["HGETALL".into(), h.clone()],
        vec!["SADD".into(), st.clone(), "x".into(), "y".into()],
        vec!["SMEMBERS".into(), st.clone()],
        vec![
            "ZADD".into(),
            z.clone(),
            "1.5".into(),
            "m".into(),
            "inf".into(),
            "i".into(),
        ],
        vec!["ZSCORE".into(), z.clone(), "m".into()],
        vec!["ZSCORE".into(), z.clone(), "i".into()],
        vec![
            "ZRANGE".into(),
            z.clone(),
            "0".into(),
            "-1".into(),
            "WITHSCORES".into(),
        ],
        vec![
            "EVAL".into(),
            "return {big_number='123456789012345678901234567890'}".into(),
            "0".into(),
        ],
        vec!["INFO".into(), "server".into()],
        vec!["CLIENT".into(), "INFO".into()],
        vec!["CONFORMANCE-NO-SUCH-COMMAND".into()],
        vec!["BLPOP".into(), key("absent"), "0.01".into()],
        vec!["HELLO".into(), if resp3 { "3" } else { "2" }.into()],
        vec!["DEL".into(), s, l, h, st, z, n],
    ];
    if resp3 {
        cmds.push(vec![
            "EVAL".into(),
            "redis.setresp(3); return true".into(),
            "0".into(),
        ]);
    }
    for cmd in &cmds {
        c.cmd(cmd)?;
    }
    Ok((c.raw[start..].to_vec(), cmds.len()))
}

/// Decodes `raw` feeding it in the given chunk sizes (cycled).
fn decode_chunked(dec: Decoder, raw: &[u8], sizes: &[usize]) -> Result<Vec<Frame>, String> {
    let mut sd = StreamDecoder::new(dec);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < raw.len() {
        let n = sizes[i % sizes.len()].max(1).min(raw.len() - at);
        i += 1;
        buf.extend_from_slice(&raw[at..at + n]);
        at += n;
        while let Some(f) = sd.decode_bytes(&mut buf).map_err(|e| e.to_string())? {
            frames.push(f);
        }
    }
    if !buf.is_empty() {
        return Err(format!("{} bytes left undecoded", buf.len()));
    }
    Ok(frames)
}

fn check(t: &Target, resp3: bool) -> CaseResult {
    let (raw, count) = record(t, resp3)?;
    let protocol = if resp3 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    let dec = Decoder::new(Limits::DEFAULT, protocol);
    // Whole, with the stateless borrowed decoder.
    let mut whole = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        match dec.decode(&raw[at..]) {
            Ok(Some((f, n))) => {
                whole.push(f.to_owned_frame());
                at += n;
            }
            Ok(None) => {
                return Err(fail(
                    "whole frames",
                    format!("{} bytes left over", raw.len() - at),
                ));
            }
            Err(e) => return Err(fail("decodable replies", format!("{e} at byte {at}"))),
        }
    }
    if whole.len() != count {
        return Err(fail(
            format!("{count} replies"),
            format!("{} frames", whole.len()),
        ));
    }
    // Byte by byte, and in pseudo-random pieces.
    let mut plans: Vec<Vec<usize>> = vec![vec![1], vec![2], vec![3], vec![raw.len()]];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..32 {
        let plan = (0..16)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 40) as usize + 1
            })
            .collect();
        plans.push(plan);
    }
    for plan in &plans {
        let got = decode_chunked(dec, &raw, plan)
            .map_err(|e| fail("the same frames", format!("{e} with pieces {plan:?}")))?;
        if got != whole {
            let i = got
                .iter()
                .zip(&whole)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(whole.len()));
            return Err(fail(
                format!("frame {i} = {}", whole.get(i).map(show).unwrap_or_default()),
                format!(
                    "{} with pieces {plan:?}",
                    got.get(i).map(show).unwrap_or_default()
                ),
            ));
        }
    }
    // Re-encoding gives the same frames back; RESP2 frames re-encode to the
    // same bytes as received.
    let mut reencoded = BytesMut::new();
    for f in &whole {
        if resp3 {
            encode(&mut reencoded, f);
        } else {
            encode_resp2(&mut reencoded, f);
        }
    }
    if !resp3 && reencoded[..] != raw[..] {
        return Err(fail(
            "RESP2 re-encoding identical to the server's bytes",
            "different bytes",
        ));
    }
    // The crate's own invariant checker (it panics when one is broken).
    catch_unwind(AssertUnwindSafe(|| {
        invariants::check_decode(&raw, protocol);
        for f in &whole {
            invariants::check_roundtrip(&dec, f);
        }
    }))
    .map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        fail("proto_resp::invariants to hold", msg)
    })?;
    Ok(Pass::note(format!(
        "{} bytes, {count} replies, {} split plans",
        raw.len(),
        plans.len()
    )))
}

fn resp3(t: &Target) -> CaseResult {
    check(t, true)
}

fn resp2(t: &Target) -> CaseResult {
    check(t, false)
}
