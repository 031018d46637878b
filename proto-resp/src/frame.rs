//! The RESP value model, generic over how byte strings are held.

use bytes::Bytes;

/// One RESP2/RESP3 value.
///
/// `B` is the byte-string representation: [`Bytes`] for owned frames (the
/// default; strings are zero-copy slices of the read buffer) and `&[u8]` for
/// the borrowed view returned by [`codec::decode`](crate::codec::decode)
/// (see [`FrameRef`]). One enum serves both so that encoders, comparisons and
/// helpers are written once.
///
/// Type bytes follow the RESP3 specification ("RESP protocol
/// description", types table); RESP2 is the subset `+ - : $ *` with the
/// `$-1` / `*-1` nulls.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Frame<B = Bytes> {
    /// `+` simple string (no CR or LF inside).
    SimpleString(B),
    /// `-` simple error: `ERR message`, `WRONGTYPE ...`.
    SimpleError(B),
    /// `:` signed 64-bit integer.
    Integer(i64),
    /// `$` bulk string, binary safe.
    BulkString(B),
    /// RESP2 null bulk string `$-1`.
    NullBulk,
    /// `*` array.
    Array(Vec<Frame<B>>),
    /// RESP2 null array `*-1`.
    NullArray,
    /// RESP3 null `_`.
    Null,
    /// RESP3 boolean `#t` / `#f`.
    Boolean(bool),
    /// RESP3 double `,`, including `inf`, `-inf` and `nan`.
    Double(f64),
    /// RESP3 big number `(`: the decimal digits, optionally signed.
    BigNumber(B),
    /// RESP3 bulk error `!`.
    BulkError(B),
    /// RESP3 verbatim string `=`: a three byte format (`txt`, `mkd`) and text.
    Verbatim {
        /// The format, e.g. `*b"txt"`.
        format: [u8; 3],
        /// The text after the `fmt:` prefix.
        text: B,
    },
    /// RESP3 map `%`, entries in wire order.
    Map(Vec<(Frame<B>, Frame<B>)>),
    /// RESP3 set `~`, elements in wire order.
    Set(Vec<Frame<B>>),
    /// RESP3 attribute `|`: auxiliary key/value data attached to the value
    /// that follows it on the wire.
    Attribute {
        /// The attribute map.
        attributes: Vec<(Frame<B>, Frame<B>)>,
        /// The value the attributes describe.
        value: Box<Frame<B>>,
    },
    /// RESP3 push `>`: out-of-band data (pub/sub messages, invalidations).
    Push(Vec<Frame<B>>),
}

/// The borrowed view of a frame: byte strings point into the decoded input.
pub type FrameRef<'a> = Frame<&'a [u8]>;

impl<B: AsRef<[u8]>> Frame<B> {
    /// True for every null representation (`_`, `$-1`, `*-1`).
    pub fn is_null(&self) -> bool {
        matches!(self, Frame::Null | Frame::NullBulk | Frame::NullArray)
    }

    /// True for a simple or bulk error: a server's per-request failure.
    pub fn is_error(&self) -> bool {
        matches!(self, Frame::SimpleError(_) | Frame::BulkError(_))
    }

    /// The error line of a simple or bulk error.
    pub fn as_error(&self) -> Option<&[u8]> {
        match self {
            Frame::SimpleError(b) | Frame::BulkError(b) => Some(b.as_ref()),
            _ => None,
        }
    }

    /// The bytes of a simple string, bulk string, verbatim text or big
    /// number.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Frame::SimpleString(b) | Frame::BulkString(b) | Frame::BigNumber(b) => Some(b.as_ref()),
            Frame::Verbatim { text, .. } => Some(text.as_ref()),
            _ => None,
        }
    }

    /// The integer of an `Integer` frame.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Frame::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The elements of an array, set or push.
    pub fn as_elements(&self) -> Option<&[Frame<B>]> {
        match self {
            Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Some(v),
            _ => None,
        }
    }

    /// For a push frame (or a RESP2 pub/sub array): the kind named by the
    /// first element, as sent, e.g. `message` or `invalidate`.
    pub fn push_kind(&self) -> Option<&[u8]> {
        self.as_elements()?.first()?.as_bytes()
    }
}

impl<B> Frame<B> {
    /// Converts every byte string with `f`, keeping the shape.
    pub fn map_bytes<C>(self, f: &mut dyn FnMut(B) -> C) -> Frame<C> {
        fn pairs<B, C>(
            v: Vec<(Frame<B>, Frame<B>)>,
            f: &mut dyn FnMut(B) -> C,
        ) -> Vec<(Frame<C>, Frame<C>)> {
            v.into_iter()
                .map(|(k, v)| (k.map_bytes(&mut *f), v.map_bytes(&mut *f)))
                .collect()
        }
        match self {
            Frame::SimpleString(b) => Frame::SimpleString(f(b)),
            Frame::SimpleError(b) => Frame::SimpleError(f(b)),
            Frame::Integer(i) => Frame::Integer(i),
            Frame::BulkString(b) => Frame::BulkString(f(b)),
            Frame::NullBulk => Frame::NullBulk,
            Frame::Array(v) => Frame::Array(v.into_iter().map(|x| x.map_bytes(f)).collect()),
            Frame::NullArray => Frame::NullArray,
            Frame::Null => Frame::Null,
            Frame::Boolean(b) => Frame::Boolean(b),
            Frame::Double(d) => Frame::Double(d),
            Frame::BigNumber(b) => Frame::BigNumber(f(b)),
            Frame::BulkError(b) => Frame::BulkError(f(b)),
            Frame::Verbatim { format, text } => Frame::Verbatim {
                format,
                text: f(text),
            },
            Frame::Map(v) => Frame::Map(pairs(v, f)),
            Frame::Set(v) => Frame::Set(v.into_iter().map(|x| x.map_bytes(f)).collect()),
            Frame::Attribute { attributes, value } => Frame::Attribute {
                attributes: pairs(attributes, f),
                value: Box::new(value.map_bytes(f)),
            },
            Frame::Push(v) => Frame::Push(v.into_iter().map(|x| x.map_bytes(f)).collect()),
        }
    }
}

impl FrameRef<'_> {
    /// Copies a borrowed frame into an owned one.
    pub fn to_owned_frame(&self) -> Frame {
        self.clone()
            .map_bytes(&mut |b: &[u8]| Bytes::copy_from_slice(b))
    }
}

/// Structural equality; doubles compare numerically, except that NaN
/// equals NaN (a frame is a wire value, and `,nan` equals `,nan`). To compare
/// frames with different byte representations use [`Frame::eq_frame`].
impl<B: AsRef<[u8]>> PartialEq for Frame<B> {
    fn eq(&self, other: &Frame<B>) -> bool {
        self.eq_frame(other)
    }
}

impl<B: AsRef<[u8]>> Frame<B> {
    /// Structural equality across byte representations: a [`FrameRef`]
    /// equals the [`Frame`] it was decoded from.
    pub fn eq_frame<C: AsRef<[u8]>>(&self, other: &Frame<C>) -> bool {
        fn list<B: AsRef<[u8]>, C: AsRef<[u8]>>(a: &[Frame<B>], b: &[Frame<C>]) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_frame(y))
        }
        fn pairs<B: AsRef<[u8]>, C: AsRef<[u8]>>(
            a: &[(Frame<B>, Frame<B>)],
            b: &[(Frame<C>, Frame<C>)],
        ) -> bool {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((k1, v1), (k2, v2))| k1.eq_frame(k2) && v1.eq_frame(v2))
        }
        use Frame::*;
        match (self, other) {
            (SimpleString(a), SimpleString(b))
            | (SimpleError(a), SimpleError(b))
            | (BulkString(a), BulkString(b))
            | (BigNumber(a), BigNumber(b))
            | (BulkError(a), BulkError(b)) => a.as_ref() == b.as_ref(),
            (Integer(a), Integer(b)) => a == b,
            (NullBulk, NullBulk) | (NullArray, NullArray) | (Null, Null) => true,
            (Boolean(a), Boolean(b)) => a == b,
            (Double(a), Double(b)) => a == b || (a.is_nan() && b.is_nan()),
            (
                Verbatim {
                    format: f1,
                    text: t1,
                },
                Verbatim {
                    format: f2,
                    text: t2,
                },
            ) => f1 == f2 && t1.as_ref() == t2.as_ref(),
            (Array(a), Array(b)) | (Set(a), Set(b)) | (Push(a), Push(b)) => list(a, b),
            (Map(a), Map(b)) => pairs(a, b),
            (
                Attribute {
                    attributes: a1,
                    value: v1,
                },
                Attribute {
                    attributes: a2,
                    value: v2,
                },
            ) => pairs(a1, a2) && v1.eq_frame(&**v2),
            _ => false,
        }
    }
}
