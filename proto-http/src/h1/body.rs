//! Message body decoding (RFC 9112 §6 and §7): Content-Length, chunked (with
//! extensions and trailers) and read-until-close. Data is handed out as
//! zero-copy `Bytes` split off the front of the read buffer.

use bytes::{Bytes, BytesMut};

use crate::error::{ProtoError, ProtoErrorKind as K};
use crate::header::is_tchar;

use super::head::Headers;
use super::limits::Limits;
use super::parse::{HeadKind, HeadParser};

/// One step of body decoding.
#[derive(Debug)]
pub(crate) enum BodyItem {
    /// Body data, in order.
    Data(Bytes),
    /// The body is complete; the trailer section, if one was sent.
    End(Option<Box<Headers>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data, this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer section.
    Trailers,
}

/// Decoder for one message body.
pub(crate) enum BodyDecoder {
    /// Content-Length: this many bytes left.
    Length(u64),
    /// Chunked coding; `total` is the decoded size so far.
    Chunked {
        state: Chunk,
        total: u64,
        trailers: Box<HeadParser>,
    },
    /// Until the peer closes (responses only).
    UntilEof,
    /// Finished.
    Done,
}

impl BodyDecoder {
    pub(crate) fn length(n: u64) -> BodyDecoder {
        BodyDecoder::Length(n)
    }

    pub(crate) fn chunked() -> BodyDecoder {
        BodyDecoder::Chunked {
            state: Chunk::Size,
            total: 0,
            trailers: Box::new(HeadParser::new(HeadKind::Trailers)),
        }
    }

    /// Decodes the next item from the front of `buf`. `Ok(None)` means more
    /// input is needed. Chunk framing is consumed; data is split off.
    pub(crate) fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<BodyItem>, ProtoError> {
        match self {
            BodyDecoder::Done => Ok(None),
            BodyDecoder::Length(0) => {
                *self = BodyDecoder::Done;
                Ok(Some(BodyItem::End(None)))
            }
            BodyDecoder::Length(rem) => {
                if buf.is_empty() {
                    return Ok(None);
                }
                let n = (*rem).min(buf.len() as u64) as usize;
                *rem -= n as u64;
                Ok(Some(BodyItem::Data(buf.split_to(n).freeze())))
            }
            BodyDecoder::UntilEof => {
                if buf.is_empty() {
                    return Ok(None);
                }
                Ok(Some(BodyItem::Data(buf.split().freeze())))
            }
            BodyDecoder::Chunked {
                state,
                total,
                trailers,
            } => loop {
                match *state {
                    Chunk::Size => {
                        let Some(nl) = memchr::memchr(b'\n', buf) else {
                            if buf.len() > limits.max_chunk_line {
                                return Err(K::BadChunk.into());
                            }
                            return Ok(None);
                        };
                        if nl + 1 > limits.max_chunk_line || nl == 0 || buf[nl - 1] != b'\r' {
                            return Err(K::BadChunk.into());
                        }
                        let size = parse_chunk_size_line(&buf[..nl - 1])?;
                        // RFC 9112 §7.1: check the size against the limit
                        // before reading any of it.
                        let new_total = total.checked_add(size).filter(|&t| t <= limits.max_body);
                        let Some(new_total) = new_total else {
                            return Err(K::BodyTooLarge.into());
                        };
                        *total = new_total;
                        let _ = buf.split_to(nl + 1);
                        *state = if size == 0 {
                            Chunk::Trailers
                        } else {
                            Chunk::Data(size)
                        };
                    }
                    Chunk::Data(rem) => {
                        if buf.is_empty() {
                            return Ok(None);
                        }
                        let n = rem.min(buf.len() as u64) as usize;
                        *state = if n as u64 == rem {
                            Chunk::DataEnd
                        } else {
                            Chunk::Data(rem - n as u64)
                        };
                        return Ok(Some(BodyItem::Data(buf.split_to(n).freeze())));
                    }
                    Chunk::DataEnd => match &buf[..] {
                        [b'\r', b'\n', ..] => {
                            let _ = buf.split_to(2);
                            *state = Chunk::Size;
                        }
                        [] | [b'\r'] => return Ok(None),
                        _ => return Err(K::BadChunk.into()),
                    },
                    Chunk::Trailers => {
                        // RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then CRLF.
                        let Some(n) = trailers.parse(buf, limits)? else {
                            return Ok(None);
                        };
                        let raw = buf.split_to(n).freeze();
                        let t = trailers.take_trailers(raw);
                        *self = BodyDecoder::Done;
                        let t = if t.is_empty() {
                            None
                        } else {
                            Some(Box::new(t))
                        };
                        return Ok(Some(BodyItem::End(t)));
                    }
                }
            },
        }
    }

    /// The peer closed the connection: ends an until-close body, and is an
    /// error for any other unfinished body.
    pub(crate) fn decode_eof(&mut self) -> Result<Option<BodyItem>, ProtoError> {
        match self {
            BodyDecoder::Done => Ok(None),
            BodyDecoder::UntilEof | BodyDecoder::Length(0) => {
                *self = BodyDecoder::Done;
                Ok(Some(BodyItem::End(None)))
            }
            _ => Err(K::UnexpectedEof.into()),
        }
    }
}

/// RFC 9112 §7.1: `chunk-size [ chunk-ext ]`, CRLF already removed, where
/// `chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`
/// and `chunk-ext-val = token / quoted-string`. Extensions are validated and
/// ignored (§7.1.1: a recipient MUST ignore unrecognized ones).
fn parse_chunk_size_line(line: &[u8]) -> Result<u64, ProtoError> {
    let mut i = 0;
    let mut size: u64 = 0;
    while i < line.len() && line[i].is_ascii_hexdigit() {
        let d = match line[i] {
            b @ b'0'..=b'9' => b - b'0',
            b => (b | 0x20) - b'a' + 10,
        };
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(d)))
            .ok_or(K::BodyTooLarge)?;
        i += 1;
    }
    if i == 0 {
        return Err(K::BadChunk.into());
    }
    let skip_bws = |i: &mut usize| {
        while *i < line.len() && matches!(line[*i], b' ' | b'\t') {
            *i += 1;
        }
    };
    let token = |i: &mut usize| -> Result<(), ProtoError> {
        let start = *i;
        while *i < line.len() && is_tchar(line[*i]) {
            *i += 1;
        }
        if *i == start {
            Err(K::BadChunk.into())
        } else {
            Ok(())
        }
    };
    loop {
        skip_bws(&mut i);
        if i == line.len() {
            return Ok(size);
        }
        if line[i] != b';' {
            return Err(K::BadChunk.into());
        }
        i += 1;
        skip_bws(&mut i);
        token(&mut i)?;
        skip_bws(&mut i);
        if i < line.len() && line[i] == b'=' {
            i += 1;
            skip_bws(&mut i);
            if i < line.len() && line[i] == b'"' {
                i = quoted_string_end(line, i)?;
            } else {
                token(&mut i)?;
            }
        }
    }
}

/// RFC 9110 §5.6.4: returns the index after the closing quote.
fn quoted_string_end(s: &[u8], open: usize) -> Result<usize, ProtoError> {
    let mut i = open + 1;
    while i < s.len() {
        match s[i] {
            b'"' => return Ok(i + 1),
            b'\\' => {
                match s.get(i + 1) {
                    Some(&c) if c == b'\t' || (c >= 0x20 && c != 0x7f) => {}
                    _ => return Err(K::BadChunk.into()),
                }
                i += 2;
            }
            b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => i += 1,
            _ => return Err(K::BadChunk.into()),
        }
    }
    Err(K::BadChunk.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; returns body and trailers.
    type Fields = Vec<(Vec<u8>, Vec<u8>)>;

    fn run(
        input: &[u8],
        step: usize,
        limits: &Limits,
    ) -> Result<(Vec<u8>, Option<Fields>, usize), ProtoError> {
        let mut d = BodyDecoder::chunked();
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        let mut fed = 0;
        loop {
            match d.decode(&mut buf, limits)? {
                Some(BodyItem::Data(b)) => body.extend_from_slice(&b),
                Some(BodyItem::End(t)) => {
                    let t = t.map(|t| t.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect());
                    return Ok((body, t, buf.len() + input.len() - fed));
                }
                None => {
                    if fed == input.len() {
                        return Err(K::UnexpectedEof.into());
                    }
                    let n = step.min(input.len() - fed);
                    buf.extend_from_slice(&input[fed..fed + n]);
                    fed += n;
                }
            }
        }
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let input = b"4;a=b;c=\"q\\\"x\" ; d\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX: y\r\n\r\nNEXT";
        for step in [1, 2, 3, 7, input.len()] {
            let (body, trailers, rest) = run(input, step, &Limits::default()).unwrap();
            assert_eq!(body, b"Wikipedia in\r\n\r\nchunks.");
            assert_eq!(
                trailers.unwrap(),
                vec![
                    (b"Expires".to_vec(), b"never".to_vec()),
                    (b"X".to_vec(), b"y".to_vec())
                ]
            );
            assert_eq!(rest, 4);
        }
        let (body, trailers, _) = run(b"0\r\n\r\n", 1, &Limits::default()).unwrap();
        assert!(body.is_empty() && trailers.is_none());
    }

    #[test]
    fn chunked_errors() {
        let l = Limits {
            max_body: 10,
            ..Limits::default()
        };
        let cases: &[(&[u8], K)] = &[
            (b"x\r\n", K::BadChunk),
            (b"\r\n", K::BadChunk),
            (b" 1\r\na\r\n0\r\n\r\n", K::BadChunk),
            (b"1\na\r\n0\r\n\r\n", K::BadChunk),
            (b"1\r\nab\r\n0\r\n\r\n", K::BadChunk),
            (b"1;\r\na\r\n0\r\n\r\n", K::BadChunk),
            (b"1;a=\"b\r\na\r\n0\r\n\r\n", K::BadChunk),
            (b"1;a=\x01\r\na\r\n0\r\n\r\n", K::BadChunk),
            (b"b\r\n", K::BodyTooLarge),
            (b"8\r\n12345678\r\n3\r\n", K::BodyTooLarge),
            (b"fffffffffffffffff\r\n", K::BodyTooLarge),
            (b"0\r\nX : y\r\n\r\n", K::BadHeaderName),
            (b"0\r\nX: y\r\n z\r\n\r\n", K::ObsFold),
        ];
        for (input, kind) in cases {
            for step in [1, input.len()] {
                let e = run(input, step, &l).unwrap_err();
                assert_eq!(e.kind(), *kind, "{}", String::from_utf8_lossy(input));
            }
        }
        let long = format!("1;{}\r\n", "a".repeat(2000));
        assert_eq!(
            run(long.as_bytes(), 100, &l).unwrap_err().kind(),
            K::BadChunk
        );
    }

    #[test]
    fn length_and_eof() {
        let mut d = BodyDecoder::length(3);
        let mut buf = BytesMut::from(&b"abcdef"[..]);
        let l = Limits::default();
        assert!(matches!(d.decode(&mut buf, &l).unwrap(), Some(BodyItem::Data(b)) if b == "abc"));
        assert!(matches!(
            d.decode(&mut buf, &l).unwrap(),
            Some(BodyItem::End(None))
        ));
        assert!(matches!(d, BodyDecoder::Done));
        assert_eq!(&buf[..], b"def");
        let mut d = BodyDecoder::length(3);
        assert_eq!(d.decode_eof().unwrap_err().kind(), K::UnexpectedEof);
        let mut d = BodyDecoder::UntilEof;
        assert!(matches!(d.decode(&mut buf, &l).unwrap(), Some(BodyItem::Data(b)) if b == "def"));
        assert!(matches!(d.decode_eof().unwrap(), Some(BodyItem::End(None))));
    }
}
