//! Assembles tokens into frames without recursion.
//!
//! One loop, [`run`], drives a [`Builder`]: [`Scan`] only measures a frame
//! (no allocation beyond the depth stack), [`Build`] materialises it. The
//! owned decoder scans first, splits exactly the frame's bytes off the read
//! buffer, then builds from those frozen bytes, so every string in the frame
//! is a zero-copy `Bytes` slice.
//!
//! The loop's whole state is a [`Cursor`]. When input runs out the cursor
//! stays at the start of the incomplete value with its open aggregates, so
//! a scan can resume there once more bytes arrive instead of re-reading a
//! large reply from its first byte on every read.

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::frame::Frame;
use crate::limits::Limits;

use super::token::{self, AggKind, Protocol, Token};

/// What the assembling loop produces at each step.
pub(crate) trait Builder {
    /// A finished value.
    type Item;
    /// An aggregate under construction.
    type Agg;
    fn leaf(&mut self, tok: Token) -> Self::Item;
    fn open(&mut self, kind: AggKind, slots: usize, cap: usize) -> Self::Agg;
    fn push(&mut self, agg: &mut Self::Agg, item: Self::Item);
    fn close(&mut self, kind: AggKind, agg: Self::Agg) -> Self::Item;
}

/// Smallest encoding of any RESP value (`_\r\n`, `+\r\n`): used to cap
/// `Vec` capacities by the bytes actually present, never by wire counts.
const MIN_VALUE_LEN: usize = 3;

/// Where the loop stands: the next value's offset and the open aggregates
/// as `(kind, aggregate, slots still to fill)`.
#[derive(Debug)]
pub(crate) struct Cursor<A> {
    pub(crate) pos: usize,
    stack: Vec<(AggKind, A, usize)>,
}

impl<A> Cursor<A> {
    pub(crate) fn new() -> Self {
        Cursor {
            pos: 0,
            stack: Vec::new(),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.pos = 0;
        self.stack.clear();
    }
}

/// Decodes one value from the cursor's position; returns it and the end
/// offset. On `Ok(None)` the cursor can resume once `buf` has grown.
pub(crate) fn run<T: Builder>(
    b: &mut T,
    cur: &mut Cursor<T::Agg>,
    buf: &[u8],
    limits: &Limits,
    proto: Protocol,
) -> Result<Option<(T::Item, usize)>, DecodeError> {
    let stack = &mut cur.stack;
    loop {
        let Some((tok, next)) = token::next(buf, cur.pos, limits, proto)? else {
            return Ok(None);
        };
        let tok_pos = cur.pos;
        cur.pos = next;
        let pos = next;
        let mut item = match tok {
            Token::Aggregate(kind, n) => {
                if stack.len() >= limits.max_depth {
                    return Err(DecodeError::new(
                        K::TooDeep {
                            max: limits.max_depth,
                        },
                        tok_pos,
                    ));
                }
                // `n <= max_elements`; pairs double it, an attribute adds
                // the value it annotates.
                let slots = match kind {
                    AggKind::Map => n.saturating_mul(2),
                    AggKind::Attribute => n.saturating_mul(2).saturating_add(1),
                    _ => n,
                };
                let cap = slots.min((buf.len() - pos) / MIN_VALUE_LEN);
                let agg = b.open(kind, slots, cap);
                if slots > 0 {
                    stack.push((kind, agg, slots));
                    continue;
                }
                b.close(kind, agg)
            }
            leaf => b.leaf(leaf),
        };
        loop {
            let Some((kind, mut agg, left)) = stack.pop() else {
                return Ok(Some((item, cur.pos)));
            };
            b.push(&mut agg, item);
            if left > 1 {
                stack.push((kind, agg, left - 1));
                break;
            }
            item = b.close(kind, agg);
        }
    }
}

/// Measures a frame without building it.
pub(crate) struct Scan;

impl Builder for Scan {
    type Item = ();
    type Agg = ();
    fn leaf(&mut self, _: Token) {}
    fn open(&mut self, _: AggKind, _: usize, _: usize) {}
    fn push(&mut self, _: &mut (), _: ()) {}
    fn close(&mut self, _: AggKind, _: ()) {}
}

/// Builds a frame, turning `(start, end)` offsets into `B` with `mk`.
pub(crate) struct Build<F>(pub(crate) F);

impl<B, F: FnMut(usize, usize) -> B> Builder for Build<F> {
    type Item = Frame<B>;
    type Agg = Vec<Frame<B>>;

    fn leaf(&mut self, tok: Token) -> Frame<B> {
        leaf_frame(tok, &mut self.0)
    }

    fn open(&mut self, _: AggKind, _: usize, cap: usize) -> Vec<Frame<B>> {
        Vec::with_capacity(cap)
    }

    fn push(&mut self, agg: &mut Vec<Frame<B>>, item: Frame<B>) {
        agg.push(item);
    }

    fn close(&mut self, kind: AggKind, mut agg: Vec<Frame<B>>) -> Frame<B> {
        fn pairs<B>(v: Vec<Frame<B>>) -> Vec<(Frame<B>, Frame<B>)> {
            let mut out = Vec::with_capacity(v.len() / 2);
            let mut it = v.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((k, v));
            }
            out
        }
        match kind {
            AggKind::Array => Frame::Array(agg),
            AggKind::Set => Frame::Set(agg),
            AggKind::Push => Frame::Push(agg),
            AggKind::Map => Frame::Map(pairs(agg)),
            AggKind::Attribute => {
                let value = agg.pop().unwrap_or(Frame::Null);
                Frame::Attribute {
                    attributes: pairs(agg),
                    value: Box::new(value),
                }
            }
        }
    }
}

/// The frame of a non-aggregate token; `mk` is called at most once.
pub(crate) fn leaf_frame<B>(tok: Token, mk: &mut impl FnMut(usize, usize) -> B) -> Frame<B> {
    match tok {
        Token::Simple(s, e) => Frame::SimpleString(mk(s, e)),
        Token::Error(s, e) => Frame::SimpleError(mk(s, e)),
        Token::Integer(i) => Frame::Integer(i),
        Token::Bulk(s, e) => Frame::BulkString(mk(s, e)),
        Token::NullBulk => Frame::NullBulk,
        Token::NullArray => Frame::NullArray,
        Token::Null => Frame::Null,
        Token::Boolean(v) => Frame::Boolean(v),
        Token::Double(d) => Frame::Double(d),
        Token::BigNumber(s, e) => Frame::BigNumber(mk(s, e)),
        Token::BulkError(s, e) => Frame::BulkError(mk(s, e)),
        Token::Verbatim(format, s, e) => Frame::Verbatim {
            format,
            text: mk(s, e),
        },
        // Aggregates never reach here (see `run`); an empty array is the
        // harmless answer should that ever change.
        Token::Aggregate(..) => Frame::Array(Vec::new()),
    }
}
