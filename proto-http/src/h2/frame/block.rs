//! Field block assembly: HEADERS or PUSH_PROMISE plus CONTINUATIONs
//! (RFC 9113 §4.3, §6.10).
//!
//! The only frame-sequencing rule of HTTP/2 that spans frames yet needs no
//! stream state: once a HEADERS or PUSH_PROMISE without END_HEADERS arrives,
//! every following frame must be a CONTINUATION on the same stream until one
//! carries END_HEADERS. The assembler also bounds the block's total size
//! before buffering each fragment, which is the defence against endless
//! CONTINUATION floods.

use bytes::{Bytes, BytesMut};

use super::error::{FrameError, FrameErrorKind};
use super::types::{Frame, PrioritySpec, StreamId};

/// What started a field block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderBlockKind {
    /// A HEADERS frame.
    Headers {
        /// END_STREAM was set on the HEADERS frame.
        end_stream: bool,
        /// Priority fields of the HEADERS frame, if any.
        priority: Option<PrioritySpec>,
    },
    /// A PUSH_PROMISE frame.
    PushPromise {
        /// The stream being reserved.
        promised_stream_id: StreamId,
    },
}

/// A complete field block, ready for the HPACK decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderBlock {
    /// The stream the block belongs to.
    pub stream_id: StreamId,
    /// HEADERS or PUSH_PROMISE, with their fields.
    pub kind: HeaderBlockKind,
    /// The concatenated fragments.
    pub block: Bytes,
}

/// Outcome of [`HeaderBlockAssembler::push`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum BlockStep {
    /// The frame is not part of a field block; the caller handles it.
    NotHeaders,
    /// The frame was absorbed; CONTINUATION frames must follow.
    Partial,
    /// The frame completed a block.
    Complete(HeaderBlock),
}

/// Joins field block fragments and enforces their sequencing.
///
/// Feed it every decoded frame, in order; it answers whether the frame was
/// part of a field block. Errors are connection errors.
#[derive(Debug)]
pub struct HeaderBlockAssembler {
    max_block_size: usize,
    pending: Option<(StreamId, HeaderBlockKind)>,
    buf: BytesMut,
    /// Octets charged to the open block (fragments + CONTINUATION headers).
    charged: usize,
}

impl HeaderBlockAssembler {
    /// An assembler refusing blocks larger than `max_block_size` octets:
    /// the fragments (padding excluded) plus 9 octets per CONTINUATION, so
    /// that a flood of empty CONTINUATION frames exhausts the same budget as
    /// a large block does.
    pub fn new(max_block_size: usize) -> Self {
        Self {
            max_block_size,
            pending: None,
            buf: BytesMut::new(),
            charged: 0,
        }
    }

    /// The stream whose CONTINUATION is awaited, if a block is open.
    pub fn expecting_continuation(&self) -> Option<StreamId> {
        self.pending.map(|(id, _)| id)
    }

    /// Accounts for one frame.
    ///
    /// RFC 9113 §6.10: while a block is open, any frame other than a
    /// CONTINUATION on the same stream (unknown types included, §5.5) is a
    /// connection error `PROTOCOL_ERROR`, and so is a CONTINUATION when no
    /// block is open. A block over the size limit is a connection error
    /// `ENHANCE_YOUR_CALM`: dropping it would desynchronise HPACK.
    pub fn push(&mut self, frame: &Frame<'_>) -> Result<BlockStep, FrameError> {
        let conn = |kind| FrameError::connection(kind, 0);
        if let Some((stream_id, kind)) = self.pending {
            let Frame::Continuation(c) = frame else {
                return Err(conn(FrameErrorKind::ExpectedContinuation { stream_id }));
            };
            if c.stream_id != stream_id {
                return Err(conn(FrameErrorKind::ExpectedContinuation { stream_id }));
            }
            self.append(c.fragment, super::FRAME_HEADER_LEN)?;
            if !c.end_headers {
                return Ok(BlockStep::Partial);
            }
            self.pending = None;
            let block = self.buf.split().freeze();
            return Ok(BlockStep::Complete(HeaderBlock {
                stream_id,
                kind,
                block,
            }));
        }
        let (stream_id, kind, fragment, end_headers) = match frame {
            Frame::Headers(h) => (
                h.stream_id,
                HeaderBlockKind::Headers {
                    end_stream: h.end_stream,
                    priority: h.priority,
                },
                h.fragment,
                h.end_headers,
            ),
            Frame::PushPromise(p) => (
                p.stream_id,
                HeaderBlockKind::PushPromise {
                    promised_stream_id: p.promised_stream_id,
                },
                p.fragment,
                p.end_headers,
            ),
            Frame::Continuation(_) => return Err(conn(FrameErrorKind::UnexpectedContinuation)),
            _ => return Ok(BlockStep::NotHeaders),
        };
        self.buf.clear();
        self.charged = 0;
        self.append(fragment, 0)?;
        if end_headers {
            let block = self.buf.split().freeze();
            return Ok(BlockStep::Complete(HeaderBlock {
                stream_id,
                kind,
                block,
            }));
        }
        self.pending = Some((stream_id, kind));
        Ok(BlockStep::Partial)
    }

    /// Frees the assembly buffer unless a block is half received (for an
    /// idle connection: the next block allocates again).
    pub fn shrink_idle(&mut self) {
        if self.pending.is_none() {
            self.buf = BytesMut::new();
        }
    }

    fn append(&mut self, fragment: &[u8], overhead: usize) -> Result<(), FrameError> {
        self.charged = self.charged.saturating_add(fragment.len() + overhead);
        if self.charged > self.max_block_size {
            self.pending = None;
            self.buf.clear();
            let kind = FrameErrorKind::HeaderBlockTooLarge {
                max: self.max_block_size,
            };
            return Err(FrameError::connection(kind, 0));
        }
        self.buf.extend_from_slice(fragment);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h2::ErrorCode;
    use crate::h2::frame::{Continuation, Data, Headers, Ping, PushPromise, Unknown};

    fn headers(id: u32, fragment: &[u8], end_headers: bool) -> Frame<'_> {
        Frame::Headers(Headers {
            stream_id: StreamId::new(id),
            fragment,
            end_stream: true,
            end_headers,
            priority: None,
            pad_len: None,
        })
    }

    fn cont(id: u32, fragment: &[u8], end_headers: bool) -> Frame<'_> {
        Frame::Continuation(Continuation {
            stream_id: StreamId::new(id),
            fragment,
            end_headers,
        })
    }

    #[test]
    fn single_frame_and_continued_blocks() {
        let mut a = HeaderBlockAssembler::new(100);
        let BlockStep::Complete(b) = a.push(&headers(1, b"abc", true)).unwrap() else {
            panic!()
        };
        assert_eq!(&b.block[..], b"abc");
        assert_eq!(
            b.kind,
            HeaderBlockKind::Headers {
                end_stream: true,
                priority: None
            }
        );

        assert_eq!(
            a.push(&headers(3, b"ab", false)).unwrap(),
            BlockStep::Partial
        );
        assert_eq!(a.expecting_continuation(), Some(StreamId::new(3)));
        assert_eq!(a.push(&cont(3, b"cd", false)).unwrap(), BlockStep::Partial);
        let BlockStep::Complete(b) = a.push(&cont(3, b"ef", true)).unwrap() else {
            panic!()
        };
        assert_eq!((b.stream_id.get(), &b.block[..]), (3, &b"abcdef"[..]));
        assert_eq!(a.expecting_continuation(), None);

        let pp = Frame::PushPromise(PushPromise {
            stream_id: StreamId::new(1),
            promised_stream_id: StreamId::new(2),
            fragment: b"x",
            end_headers: false,
            pad_len: None,
        });
        assert_eq!(a.push(&pp).unwrap(), BlockStep::Partial);
        let BlockStep::Complete(b) = a.push(&cont(1, b"y", true)).unwrap() else {
            panic!()
        };
        assert_eq!(
            b.kind,
            HeaderBlockKind::PushPromise {
                promised_stream_id: StreamId::new(2)
            }
        );
        assert_eq!(&b.block[..], b"xy");

        let ping = Frame::Ping(Ping {
            ack: false,
            payload: [0; 8],
        });
        assert_eq!(a.push(&ping).unwrap(), BlockStep::NotHeaders);
    }

    #[test]
    fn sequencing_violations_are_protocol_errors() {
        let data = Frame::Data(Data {
            stream_id: StreamId::new(1),
            data: b"",
            end_stream: false,
            pad_len: None,
        });
        let unknown = Frame::Unknown(Unknown {
            kind: 0x42,
            flags: 0,
            stream_id: StreamId::ZERO,
            payload: b"",
        });
        for interloper in [data, unknown, cont(5, b"", true), headers(1, b"", true)] {
            let mut a = HeaderBlockAssembler::new(100);
            assert_eq!(
                a.push(&headers(1, b"ab", false)).unwrap(),
                BlockStep::Partial
            );
            let err = a.push(&interloper).unwrap_err();
            assert_eq!(
                err.kind(),
                FrameErrorKind::ExpectedContinuation {
                    stream_id: StreamId::new(1)
                }
            );
            assert_eq!(err.error_code(), ErrorCode::ProtocolError);
            assert!(err.is_connection_error());
        }
        let mut a = HeaderBlockAssembler::new(100);
        let err = a.push(&cont(1, b"", true)).unwrap_err();
        assert_eq!(err.kind(), FrameErrorKind::UnexpectedContinuation);
        assert_eq!(err.error_code(), ErrorCode::ProtocolError);
    }

    #[test]
    fn block_size_is_bounded_before_buffering() {
        let mut a = HeaderBlockAssembler::new(30);
        let step = a.push(&headers(1, &[0; 30], true)).unwrap();
        assert!(matches!(step, BlockStep::Complete(_)));
        // 10 + (9 + 10) = 29, then 29 + 9 + 1 > 30.
        assert_eq!(
            a.push(&headers(1, &[0; 10], false)).unwrap(),
            BlockStep::Partial
        );
        assert_eq!(
            a.push(&cont(1, &[0; 10], false)).unwrap(),
            BlockStep::Partial
        );
        let err = a.push(&cont(1, &[0; 1], true)).unwrap_err();
        assert_eq!(err.kind(), FrameErrorKind::HeaderBlockTooLarge { max: 30 });
        assert_eq!(err.error_code(), ErrorCode::EnhanceYourCalm);
        assert!(err.is_connection_error());
        assert_eq!(a.expecting_continuation(), None);
        // A flood of empty CONTINUATIONs runs into the same budget.
        let mut a = HeaderBlockAssembler::new(16 * 1024);
        assert_eq!(a.push(&headers(1, b"", false)).unwrap(), BlockStep::Partial);
        let accepted = (0..10_000)
            .take_while(|_| a.push(&cont(1, b"", false)).is_ok())
            .count();
        assert_eq!(accepted, 16 * 1024 / 9);
    }
}
