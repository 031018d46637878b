//! The stateless layer: decode and encode RESP values.
//!
//! Two decoding shapes share one implementation:
//!
//! * [`decode`] / [`Decoder::decode`] take `&[u8]` and return a borrowed
//!   [`FrameRef`] plus the number of bytes it used. Incomplete input is
//!   `Ok(None)`, never an error, so a caller can retry after reading more.
//! * [`Decoder::decode_bytes`] takes the read buffer itself, splits exactly
//!   one frame off its front and returns an owned [`Frame`] whose strings
//!   are `Bytes` slices of those bytes (no copy).
//!
//! Requests (for server authors) are decoded by [`Decoder::decode_request`],
//! which also accepts inline commands.

mod decode;
mod encode;
mod inline;
pub(crate) mod token;

use bytes::{Buf, Bytes, BytesMut};

pub(crate) use encode::{bulk as encode_bulk, count as encode_count};
pub use encode::{encode, encode_command, encode_resp2};
pub use token::Protocol;

use crate::error::DecodeError;
use crate::frame::{Frame, FrameRef};
use crate::limits::Limits;
use decode::{Build, Cursor, Scan, leaf_frame, run};
use token::Token;

/// A reply read by [`Decoder::plain_at`]: `+OK` or a bulk string's
/// payload as `(start, end)` offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plain {
    /// `+OK\r\n`.
    Ok,
    /// `$<len>\r\n<payload>\r\n`, the payload's offsets.
    Bulk(usize, usize),
}

impl Plain {
    /// The frame, its payload sliced out of `run` (the bytes the offsets
    /// are relative to): one reference count, no move of a buffer's start.
    #[inline]
    pub(crate) fn frame(self, run: &Bytes) -> Frame {
        match self {
            // A static string, not a slice (no reference count).
            Plain::Ok => Frame::SimpleString(Bytes::from_static(b"OK")),
            Plain::Bulk(s, e) => Frame::BulkString(run.slice(s..e)),
        }
    }
}

/// Decodes one RESP3 (superset of RESP2) value with [`Limits::DEFAULT`].
///
/// Returns the frame and the number of bytes it occupies, or `Ok(None)` if
/// `buf` holds only part of a frame.
///
/// ```
/// use proto_resp::{codec, Frame};
/// let (frame, used) = codec::decode(b"*2\r\n$3\r\nfoo\r\n:42\r\n").unwrap().unwrap();
/// assert_eq!(used, 18);
/// assert_eq!(frame, Frame::Array(vec![Frame::BulkString(&b"foo"[..]), Frame::Integer(42)]));
/// assert_eq!(codec::decode(b"$3\r\nfo").unwrap(), None);
/// ```
pub fn decode(buf: &[u8]) -> Result<Option<(FrameRef<'_>, usize)>, DecodeError> {
    Decoder::default().decode(buf)
}

/// A decoder configured with [`Limits`] and the accepted [`Protocol`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    limits: Limits,
    protocol: Protocol,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(Limits::DEFAULT, Protocol::Resp3)
    }
}

impl Decoder {
    /// A decoder enforcing `limits` and accepting `protocol`'s type bytes.
    pub fn new(limits: Limits, protocol: Protocol) -> Self {
        Decoder { limits, protocol }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The accepted protocol.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Decodes one value from the front of `buf` as a borrowed view.
    pub fn decode<'a>(&self, buf: &'a [u8]) -> Result<Option<(FrameRef<'a>, usize)>, DecodeError> {
        run(
            &mut Build(|s, e| &buf[s..e]),
            &mut Cursor::new(),
            buf,
            &self.limits,
            self.protocol,
        )
    }

    /// Length of the complete frame at the front of `buf`, validating it
    /// fully (limits included) without building it.
    pub fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        let mut cur = Cursor::new();
        Ok(run(&mut Scan, &mut cur, buf, &self.limits, self.protocol)?.map(|((), n)| n))
    }

    /// Splits one complete frame off the front of `buf` and returns it owned;
    /// its strings share `buf`'s allocation. Leaves `buf` untouched and
    /// returns `Ok(None)` if the frame is incomplete.
    pub fn decode_bytes(&self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        if let Some(leaf) = self.decode_leaf(buf) {
            return leaf;
        }
        let Some(n) = self.frame_len(buf)? else {
            return Ok(None);
        };
        let bytes = buf.split_to(n).freeze();
        self.decode_frozen(&bytes)
    }

    /// Decodes one value from the front of a `Bytes`, zero-copy.
    ///
    /// Returns the frame and the bytes used; `Ok(None)` if incomplete.
    pub fn decode_shared(&self, bytes: &Bytes) -> Result<Option<(Frame, usize)>, DecodeError> {
        run(
            &mut Build(|s, e| bytes.slice(s..e)),
            &mut Cursor::new(),
            bytes,
            &self.limits,
            self.protocol,
        )
    }

    /// Fast path for a frame that is one non-aggregate value (a bulk string
    /// reply, `+OK`, an integer): the header is parsed once and the payload
    /// split straight off `buf`, with no intermediate `Bytes`. `None` when
    /// the frame is an aggregate.
    #[inline]
    fn decode_leaf(&self, buf: &mut BytesMut) -> Option<Result<Option<Frame>, DecodeError>> {
        match buf.first() {
            None | Some(b'*' | b'%' | b'~' | b'|' | b'>') => return None,
            // The commonest replies of all, `+OK` and a bulk string, are
            // read without the general header parser.
            Some(b'+') if buf.starts_with(b"+OK\r\n") && self.limits.max_line_len >= 2 => {
                // A static string, not a slice of the buffer (no reference
                // count to take and release).
                buf.advance(5);
                return Some(Ok(Some(Frame::SimpleString(Bytes::from_static(b"OK")))));
            }
            Some(b'$') => {
                if let Some(frame) = self.plain_bulk(buf) {
                    return Some(Ok(frame));
                }
            }
            _ => {}
        }
        let (tok, n) = match token::next(buf, 0, &self.limits, self.protocol) {
            Ok(Some(t)) => t,
            Ok(None) => return Some(Ok(None)),
            Err(e) => return Some(Err(e)),
        };
        if matches!(tok, Token::Aggregate(..)) {
            return None;
        }
        let mut used = 0;
        let frame = leaf_frame(tok, &mut |s, e| {
            buf.advance(s);
            used = e;
            buf.split_to(e - s).freeze()
        });
        buf.advance(n - used);
        Some(Ok(Some(frame)))
    }

    /// A well-formed bulk string `$<len>\r\n<payload>\r\n` within the
    /// limits, at the front of `buf`: split off (`Some(Some(frame))`) or
    /// known to be incomplete (`Some(None)`). `None` for anything else,
    /// which the general parser then decides (see [`plain_at`](Self::plain_at)).
    #[inline]
    fn plain_bulk(&self, buf: &mut BytesMut) -> Option<Option<Frame>> {
        let (leaf, _) = match self.plain_at(buf, 0)? {
            Some(found) => found,
            None => return Some(None),
        };
        let Plain::Bulk(start, end) = leaf else {
            return None;
        };
        // Two moves of the buffer's start, not three: the CRLF leaves with
        // the payload and is cut off it.
        buf.advance(start);
        let mut payload = buf.split_to(end - start + 2);
        payload.truncate(end - start);
        Some(Some(Frame::BulkString(payload.freeze())))
    }

    /// The commonest replies of all, read without the general header
    /// parser: a well-formed bulk string `$<len>\r\n<payload>\r\n`
    /// within the limits, or `+OK\r\n`, starting at `pos` of `buf`.
    /// `Some(Some((leaf, next)))`: found, the next value starts at `next`;
    /// `Some(None)`: a plain bulk string not yet complete. `None` for
    /// anything else (a null, a bad or over-limit length, a missing CRLF,
    /// a header not yet complete, any other type), which the general
    /// parser then decides, errors included, so both paths accept and
    /// refuse exactly the same input (RESP3 spec, "Bulk strings" and
    /// "Simple strings").
    #[inline]
    pub(crate) fn plain_at(&self, buf: &[u8], pos: usize) -> Option<Option<(Plain, usize)>> {
        // Ten digits cannot overflow a u64 and exceed the default limit
        // (512 MiB); a longer length is left to the general parser.
        const MAX_DIGITS: usize = 10;
        let rest = buf.get(pos..)?;
        match rest.first()? {
            b'$' => {}
            b'+' if rest.starts_with(b"+OK\r\n") && self.limits.max_line_len >= 2 => {
                return Some(Some((Plain::Ok, pos + 5)));
            }
            _ => return None,
        }
        let mut len: u64 = 0;
        let mut i = 1;
        loop {
            let &b = rest.get(i)?;
            if b == b'\r' {
                break;
            }
            if !b.is_ascii_digit() || i > MAX_DIGITS {
                return None;
            }
            len = len * 10 + u64::from(b - b'0');
            i += 1;
        }
        if i == 1
            || i - 1 > self.limits.max_line_len
            || *rest.get(i + 1)? != b'\n'
            || len > self.limits.max_bulk_len as u64
        {
            return None;
        }
        // `len <= max_bulk_len <= usize::MAX`.
        let start = i + 2;
        let end = start.checked_add(len as usize)?;
        if rest.len() < end.checked_add(2)? {
            return Some(None);
        }
        if rest[end..end + 2] != *b"\r\n" {
            return None;
        }
        Some(Some((Plain::Bulk(pos + start, pos + end), pos + end + 2)))
    }

    /// Builds the frame that a scan measured as exactly `bytes`.
    fn decode_frozen(&self, bytes: &Bytes) -> Result<Option<Frame>, DecodeError> {
        match self.decode_shared(bytes)? {
            Some((f, n)) if n == bytes.len() => Ok(Some(f)),
            _ => Err(DecodeError::new(
                crate::error::DecodeErrorKind::Desynchronized,
                0,
            )),
        }
    }

    /// Decodes one client request: a RESP array (normally of bulk strings)
    /// or an inline command line, which is returned as an array of bulk
    /// strings. An empty inline line yields an empty array, which Redis
    /// ignores.
    pub fn decode_request<'a>(
        &self,
        buf: &'a [u8],
    ) -> Result<Option<(FrameRef<'a>, usize)>, DecodeError> {
        match buf.first() {
            None => Ok(None),
            Some(b'*') => self.decode(buf),
            Some(_) => Ok(inline::split(buf, &self.limits)?.map(|(args, n)| {
                let v = args
                    .into_iter()
                    .map(|(s, e)| Frame::BulkString(&buf[s..e]))
                    .collect();
                (Frame::Array(v), n)
            })),
        }
    }

    /// Owned, zero-copy form of [`decode_request`](Self::decode_request):
    /// splits the request off the front of `buf`.
    pub fn decode_request_bytes(&self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        match buf.first() {
            None => Ok(None),
            Some(b'*') => self.decode_bytes(buf),
            Some(_) => {
                let Some((args, n)) = inline::split(buf, &self.limits)? else {
                    return Ok(None);
                };
                let line = buf.split_to(n).freeze();
                Ok(Some(Frame::Array(
                    args.into_iter()
                        .map(|(s, e)| Frame::BulkString(line.slice(s..e)))
                        .collect(),
                )))
            }
        }
    }
}

/// An owned-frame decoder for one byte stream that resumes where it
/// stopped.
///
/// [`Decoder::decode_bytes`] re-reads an incomplete frame from its first
/// byte on every call, which is quadratic for a large reply (say a
/// million-element `LRANGE`) arriving in many reads. `StreamDecoder`
/// remembers how far it measured and continues from there.
///
/// Contract: between calls that return `Ok(None)`, `buf` may only grow at
/// the back (the usual read loop). Anything else is detected only when the
/// frame is built, as [`DecodeErrorKind::Desynchronized`](crate::DecodeErrorKind::Desynchronized);
/// call [`reset`](Self::reset) after replacing the buffer.
#[derive(Debug)]
pub struct StreamDecoder {
    decoder: Decoder,
    cursor: Cursor<()>,
    /// The replies of the run [`decode_plain_run`](Self::decode_plain_run)
    /// is measuring (kept for its allocation).
    run: Vec<Plain>,
}

impl StreamDecoder {
    /// A stream decoder using `decoder`'s limits and protocol.
    pub fn new(decoder: Decoder) -> Self {
        StreamDecoder {
            decoder,
            cursor: Cursor::new(),
            run: Vec::new(),
        }
    }

    /// The underlying stateless decoder.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Forgets a partially measured frame.
    pub fn reset(&mut self) {
        self.cursor.reset();
    }

    /// Splits up to `max` plain replies (bulk strings and `+OK`, as read
    /// by [`Decoder::plain_at`]) off the front of `buf` into `out` with
    /// ONE split of `buf`: each payload is a slice of that run (a reference
    /// count each, no move of `buf`'s start per reply). Returns how many;
    /// it stops, taking nothing more, at the first value that is anything
    /// else or incomplete, which [`decode_bytes`](Self::decode_bytes) then
    /// reads (errors included). It takes exactly the frames `decode_bytes`
    /// would return, in order (`invariants::check_decode` compares the two).
    pub(crate) fn decode_plain_run(
        &mut self,
        buf: &mut BytesMut,
        max: usize,
        out: &mut Vec<Frame>,
    ) -> usize {
        // A partly measured aggregate at the front: `decode_bytes` resumes it.
        if self.cursor.pos != 0 {
            return 0;
        }
        let d = self.decoder;
        let run = &mut self.run;
        run.clear();
        let mut pos = 0;
        while run.len() < max {
            match d.plain_at(buf, pos) {
                Some(Some((leaf, next))) => {
                    run.push(leaf);
                    pos = next;
                }
                _ => break,
            }
        }
        let n = run.len();
        if n == 0 {
            return 0;
        }
        let bytes = buf.split_to(pos).freeze();
        out.extend(run.drain(..).map(|leaf| leaf.frame(&bytes)));
        n
    }

    /// Splits the next complete frame off the front of `buf` (zero-copy,
    /// as [`Decoder::decode_bytes`]); `Ok(None)` if it is incomplete.
    #[inline]
    pub fn decode_bytes(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        if self.cursor.pos > buf.len() {
            self.cursor.reset();
        }
        let d = self.decoder;
        if self.cursor.pos == 0 {
            if let Some(leaf) = d.decode_leaf(buf) {
                return leaf;
            }
        }
        let scanned = run(&mut Scan, &mut self.cursor, buf, &d.limits, d.protocol);
        match scanned {
            Ok(None) => Ok(None),
            Err(e) => {
                self.cursor.reset();
                Err(e)
            }
            Ok(Some(((), n))) => {
                self.cursor.reset();
                let bytes = buf.split_to(n).freeze();
                d.decode_frozen(&bytes)
            }
        }
    }
}

#[cfg(test)]
mod tests;
