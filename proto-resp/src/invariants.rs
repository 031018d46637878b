//! Decoder and client-connection invariants, shared by the fuzz targets
//! and the property tests.
//!
//! [`check_decode`] and [`check_client_conn`] panic when an invariant is
//! broken, which is what a fuzzer needs; they never panic for merely
//! invalid input.

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

/// The commands [`check_client_conn`] may send, chosen by the input's
/// bytes: ordinary ones and every kind the connection treats specially.
const CLIENT_COMMANDS: &[&[&str]] = &[
    &["GET", "k"],
    &["SET", "k", "v"],
    &["PING"],
    &["SUBSCRIBE", "a", "b"],
    &["UNSUBSCRIBE"],
    &["PSUBSCRIBE", "p*"],
    &["PUNSUBSCRIBE", "p*"],
    &["SSUBSCRIBE", "s"],
    &["SUNSUBSCRIBE"],
    &["HELLO", "3"],
    &["HELLO", "2"],
    &["RESET"],
    &["CLIENT", "TRACKING", "ON"],
    &["MULTI"],
    &["EXEC"],
    &["SUBSCRIBE"],
];

/// How [`client_run`] reads the server's bytes.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Read {
    /// `handle_input`, then drain `poll_event`.
    Push,
    /// `next_event` until it has nothing.
    Pull,
    /// `next_replies` (a few at a time), then `next_event`.
    Batched,
}

/// Everything a run of the client machine showed: its events, in order,
/// with `Reply` ids, and how it ended.
type ClientRun = (Vec<crate::Event>, Result<(), crate::Error>);

/// One client connection: `config`, the `commands` sent up front (held
/// during the handshake), then `server` fed `step` bytes at a time, read
/// as `read` says, then EOF.
fn client_run(
    config: &crate::Config,
    commands: &[&[&str]],
    server: &[u8],
    step: usize,
    read: Read,
) -> ClientRun {
    use crate::{Connection, Event};
    let now = std::time::Instant::now();
    let mut conn = Connection::new(config.clone(), now);
    let mut sent = Vec::new();
    for c in commands {
        // Refusals (none of these is refused on an open connection) are
        // not events; a refused command gets no id.
        if let Ok(id) = conn.send_args(c) {
            sent.push(id);
        }
    }
    let mut events = Vec::new();
    let mut out = BytesMut::new();
    let mut rbuf = BytesMut::new();
    let mut batch = Vec::new();
    let mut end = Ok(());
    'feed: for chunk in server.chunks(step.max(1)) {
        while conn.poll_transmit(&mut out) {}
        out.clear();
        rbuf.extend_from_slice(chunk);
        match read {
            Read::Push => {
                let r = conn.handle_input(now, &mut rbuf);
                while let Some(ev) = conn.poll_event() {
                    events.push(ev);
                }
                if let Err(e) = r {
                    end = Err(e);
                    break 'feed;
                }
            }
            Read::Pull | Read::Batched => loop {
                if read == Read::Batched {
                    match conn.next_replies(now, &mut rbuf, 3, &mut batch) {
                        Ok(Some((first, n))) => {
                            assert_eq!(n, batch.len(), "next_replies count");
                            for (i, frame) in batch.drain(..).enumerate() {
                                let id = crate::ReqId(first.get() + i as u64);
                                events.push(Event::Reply { id, frame });
                            }
                            continue;
                        }
                        Ok(None) => assert!(batch.is_empty()),
                        Err(e) => {
                            end = Err(e);
                            break 'feed;
                        }
                    }
                }
                match conn.next_event(now, &mut rbuf) {
                    Ok(Some(ev)) => events.push(ev),
                    Ok(None) => break,
                    Err(e) => {
                        end = Err(e);
                        break 'feed;
                    }
                }
            },
        }
    }
    if end.is_ok() {
        end = conn.handle_eof();
    }
    if let Err(e) = &end {
        // Sticky, and nothing more can be sent.
        assert_eq!(conn.error(), Some(e), "the error is not sticky");
        assert_eq!(conn.handle_input(now, &mut rbuf).as_ref(), Err(e));
        assert!(
            conn.send_args(&["PING"]).is_err(),
            "sent on a failed connection"
        );
        assert!(!conn.is_ready());
    }
    // Replies answer the requests first in, first out, each at most once.
    let mut owed = sent.iter();
    for ev in &events {
        if let Event::Reply { id, .. } = ev {
            assert_eq!(
                Some(id),
                owed.next(),
                "a reply out of FIFO order: {events:?}"
            );
        }
    }
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Ready { .. }))
            .count()
            <= 1,
        "ready twice"
    );
    (events, end)
}

/// Checks the client [`Connection`](crate::Connection) on arbitrary server
/// bytes. The first byte picks the protocol asked for (RESP3 or RESP2) and
/// the number of commands (0-7), the next ones the commands (from a table
/// of ordinary and special commands: subscribe family, `HELLO`, `RESET`,
/// ...); the rest is what the server sends. Then:
///
/// 1. fed whole, a byte at a time and in 7-byte pieces, and read with
///    `handle_input` + `poll_event`, `next_event` or `next_replies` +
///    `next_event`, the machine gives the same events and the same end
///    (a frame split anywhere, or read either way, is handled the same);
/// 2. replies answer the sent requests first in, first out, each at most
///    once; `Ready` comes at most once;
/// 3. an error is sticky: the same error again, nothing more sent.
///
/// # Panics
///
/// When an invariant is broken; never for merely hostile input.
pub fn check_client_conn(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(head & 7).min(rest.len());
    let (picks, server) = rest.split_at(n);
    let commands: Vec<&[&str]> = picks
        .iter()
        .map(|&b| CLIENT_COMMANDS[usize::from(b) % CLIENT_COMMANDS.len()])
        .collect();
    let protocol = if head & 8 == 0 {
        Protocol::Resp3
    } else {
        Protocol::Resp2
    };
    // Small limits so the fuzzer reaches them.
    let limits = Limits {
        max_bulk_len: 1 << 12,
        max_elements: 1 << 8,
        max_depth: 8,
        max_line_len: 1 << 10,
    };
    let mut config = crate::Config::new().protocol(protocol).limits(limits);
    if head & 16 != 0 {
        config = config.password("pw").client_name("fz").database(1);
    }
    let whole = client_run(&config, &commands, server, server.len(), Read::Push);
    for (step, read) in [
        (1, Read::Push),
        (7, Read::Push),
        (server.len(), Read::Pull),
        (1, Read::Pull),
        (server.len(), Read::Batched),
        (1, Read::Batched),
        (7, Read::Batched),
    ] {
        let other = client_run(&config, &commands, server, step, read);
        assert_eq!(whole, other, "fed in {step}-byte pieces, read {read:?}");
    }
}
