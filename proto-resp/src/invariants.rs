//! Decoder invariants, shared by the fuzz targets and the property tests.
//!
//! [`check_decode`] panics when an invariant is broken, which is what a
//! fuzzer needs; it never panics for merely invalid input.

use bytes::BytesMut;

use crate::codec::{Decoder, Protocol, StreamDecoder, encode};
use crate::error::DecodeErrorKind;
use crate::frame::Frame;
use crate::limits::Limits;

/// How decoding a whole stream ended.
#[derive(Debug, PartialEq)]
enum End {
    /// Bytes left that do not (yet) form a frame.
    Incomplete(usize),
    /// An error of this kind at this absolute offset.
    Failed(DecodeErrorKind, usize),
}

/// How [`stream`] reads frames.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// The stateless [`Decoder::decode_bytes`].
    Stateless,
    /// The resuming [`StreamDecoder::decode_bytes`].
    Resume,
    /// Runs of plain replies with one split each
    /// (`StreamDecoder::decode_plain_run`), anything else as `Resume`.
    Runs,
}

/// Decodes `input` frame after frame, feeding it `step` bytes at a time,
/// as `mode` says.
fn stream(dec: &Decoder, input: &[u8], step: usize, mode: Mode) -> (Vec<Frame>, End) {
    let mut sd = StreamDecoder::new(*dec);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut consumed = 0;
    for chunk in input.chunks(step.max(1)) {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.len();
            if mode == Mode::Runs {
                let n = sd.decode_plain_run(&mut buf, usize::MAX, &mut frames);
                if n > 0 {
                    consumed += before - buf.len();
                    continue;
                }
            }
            let r = if mode == Mode::Stateless {
                dec.decode_bytes(&mut buf)
            } else {
                sd.decode_bytes(&mut buf)
            };
            match r {
                Ok(Some(f)) => {
                    consumed += before - buf.len();
                    frames.push(f);
                }
                Ok(None) => break,
                Err(e) => return (frames, End::Failed(e.kind(), consumed + e.offset())),
            }
        }
    }
    (frames, End::Incomplete(buf.len()))
}

/// Checks, for arbitrary `input`:
///
/// 1. feeding it whole and one byte at a time (with the stateless decoder,
///    with the resuming [`StreamDecoder`], and taking runs of plain replies
///    with one split each) yields the same frames and the same final error
///    or leftover (a frame split anywhere parses the same);
/// 2. the borrowed and owned decoders agree (on the first frame, or on
///    the error or wait before it), and `frame_len` matches;
/// 3. every decoded frame re-encodes to bytes that decode to an equal frame
///    using exactly those bytes.
///
/// # Panics
///
/// When an invariant is broken.
pub fn check_decode(input: &[u8], protocol: Protocol) {
    // Small limits so the fuzzer reaches them.
    let limits = Limits {
        max_bulk_len: 1 << 16,
        max_elements: 1 << 10,
        max_depth: 16,
        max_line_len: 1 << 10,
    };
    let dec = Decoder::new(limits, protocol);
    let whole = stream(&dec, input, input.len(), Mode::Stateless);
    let bytewise = stream(&dec, input, 1, Mode::Stateless);
    assert_eq!(whole, bytewise, "split-dependent decoding");
    let resumed = stream(&dec, input, 1, Mode::Resume);
    assert_eq!(whole, resumed, "resumed decoding differs");
    // Plain replies taken a run at a time, whole and as they trickle in.
    for step in [input.len(), 1, 7] {
        let runs = stream(&dec, input, step, Mode::Runs);
        assert_eq!(whole, runs, "decoding runs of plain replies differs");
    }

    // The owned decoder's fast paths (a plain bulk string, `+OK`) refuse
    // and wait for exactly what the general parser does.
    if whole.0.is_empty() {
        let expect = match dec.decode(input) {
            Ok(None) => End::Incomplete(input.len()),
            Err(e) => End::Failed(e.kind(), e.offset()),
            Ok(Some(_)) => panic!("the owned decoder found no frame where one is"),
        };
        assert_eq!(whole.1, expect, "owned and borrowed decoders disagree");
    }

    match (dec.decode(input), dec.frame_len(input)) {
        (Ok(Some((f, n))), Ok(Some(m))) => {
            assert_eq!(n, m, "frame_len disagrees with decode");
            assert!(f.eq_frame(&whole.0[0]), "borrowed and owned frames differ");
        }
        (Ok(None), Ok(None)) => assert!(whole.0.is_empty()),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("decode {a:?} vs frame_len {b:?}"),
    }

    for f in &whole.0 {
        check_roundtrip(&dec, f);
    }
}

/// Encodes `frame`, decodes it back with `dec`, and checks it is equal and
/// uses every encoded byte.
///
/// # Panics
///
/// When the round trip changes the frame.
pub fn check_roundtrip<B: AsRef<[u8]>>(dec: &Decoder, frame: &Frame<B>) {
    let mut out = BytesMut::new();
    encode(&mut out, frame);
    match dec.decode(&out) {
        Ok(Some((g, n))) => {
            assert_eq!(n, out.len(), "re-encoded frame has trailing bytes");
            assert!(g.eq_frame(frame), "round trip changed the frame: {out:?}");
        }
        other => panic!("re-encoded frame does not decode: {other:?} from {out:?}"),
    }
}
