//! Typed decoding of replies: [`FromResp`].

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;
use proto_resp::Frame;

use super::error::{Error, ServerError};

/// Converts a reply into a Rust value.
///
/// Error replies never reach `from_resp`: the driver turns them into
/// [`Error::Server`] first. RESP3 attributes are stripped. Conversions are
/// lenient where RESP2 and RESP3 differ: a RESP2 `HGETALL` flat array and a
/// RESP3 map both become a `HashMap` or a `Vec<(K, V)>`; a bulk string
/// holding digits becomes an integer; `OK` becomes `true`.
pub trait FromResp: Sized {
    /// Converts one reply.
    fn from_resp(frame: Frame) -> Result<Self, Error>;

    /// Converts the elements of an aggregate. Pairs override this to accept
    /// the flat `[k1, v1, k2, v2]` form as well.
    #[doc(hidden)]
    fn from_resp_many(items: Vec<Frame>) -> Result<Vec<Self>, Error> {
        items.into_iter().map(Self::from_resp).collect()
    }
}

/// Turns an error reply into [`Error::Server`] and strips attributes.
pub(crate) fn check(frame: Frame) -> Result<Frame, Error> {
    match frame {
        Frame::SimpleError(b) | Frame::BulkError(b) => Err(Error::Server(ServerError::parse(&b))),
        Frame::Attribute { value, .. } => check(*value),
        f => Ok(f),
    }
}

pub(crate) fn type_error(want: &str, got: &Frame) -> Error {
    let shape = match got {
        Frame::SimpleString(_) => "simple string",
        Frame::SimpleError(_) | Frame::BulkError(_) => "error",
        Frame::Integer(_) => "integer",
        Frame::BulkString(_) => "bulk string",
        Frame::NullBulk | Frame::NullArray | Frame::Null => "null",
        Frame::Array(_) => "array",
        Frame::Boolean(_) => "boolean",
        Frame::Double(_) => "double",
        Frame::BigNumber(_) => "big number",
        Frame::Verbatim { .. } => "verbatim string",
        Frame::Map(_) => "map",
        Frame::Set(_) => "set",
        Frame::Attribute { .. } => "attribute",
        Frame::Push(_) => "push",
        _ => "frame",
    };
    Error::Type(format!("expected {want}, got {shape}"))
}

/// The elements of an aggregate; a map is flattened to `[k1, v1, ...]`.
pub(crate) fn elements(frame: Frame) -> Result<Vec<Frame>, Error> {
    match frame {
        Frame::Array(v) | Frame::Set(v) | Frame::Push(v) => Ok(v),
        Frame::Map(m) => Ok(m.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        f => Err(type_error("an array", &f)),
    }
}

/// The key/value pairs of a map or of a flat array.
pub(crate) fn pairs(frame: Frame) -> Result<Vec<(Frame, Frame)>, Error> {
    match frame {
        Frame::Map(m) => Ok(m),
        Frame::Array(v) | Frame::Set(v) => {
            if v.len() % 2 != 0 {
                return Err(Error::Type("odd number of elements for pairs".into()));
            }
            let mut out = Vec::with_capacity(v.len() / 2);
            let mut it = v.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                out.push((k, v));
            }
            Ok(out)
        }
        f => Err(type_error("a map", &f)),
    }
}

impl FromResp for Frame {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        Ok(frame)
    }
}

impl FromResp for () {
    fn from_resp(_: Frame) -> Result<Self, Error> {
        Ok(())
    }
}

impl FromResp for bool {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        match frame {
            Frame::Boolean(b) => Ok(b),
            Frame::Integer(i) => Ok(i != 0),
            Frame::SimpleString(s) => Ok(&s[..] == b"OK" || &s[..] == b"1"),
            Frame::BulkString(s) => Ok(!s.is_empty() && &s[..] != b"0"),
            f if f.is_null() => Ok(false),
            f => Err(type_error("a boolean", &f)),
        }
    }
}

macro_rules! int_from_resp {
    ($($t:ty)*) => {$(
        impl FromResp for $t {
            fn from_resp(frame: Frame) -> Result<Self, Error> {
                let out_of_range = || Error::Type(concat!("integer out of range for ", stringify!($t)).into());
                match frame {
                    Frame::Integer(i) => <$t>::try_from(i).map_err(|_| out_of_range()),
                    Frame::BulkString(b) | Frame::SimpleString(b) | Frame::BigNumber(b) => {
                        std::str::from_utf8(&b)
                            .ok()
                            .and_then(|s| s.parse::<$t>().ok())
                            .ok_or_else(|| Error::Type(format!(
                                concat!("{:?} is not a ", stringify!($t)),
                                String::from_utf8_lossy(&b)
                            )))
                    }
                    Frame::Boolean(b) => Ok(b as $t),
                    f => Err(type_error("an integer", &f)),
                }
            }
        }
    )*};
}
// No `u8`: `Vec<u8>` decodes as bytes, not as a list of small integers.
int_from_resp!(i8 i16 i32 i64 i128 isize u16 u32 u64 u128 usize);

impl FromResp for f64 {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        match frame {
            Frame::Double(d) => Ok(d),
            Frame::Integer(i) => Ok(i as f64),
            Frame::BulkString(b) | Frame::SimpleString(b) => {
                let s =
                    std::str::from_utf8(&b).map_err(|_| Error::Type("non-UTF-8 float".into()))?;
                match s {
                    "inf" | "+inf" => Ok(f64::INFINITY),
                    "-inf" => Ok(f64::NEG_INFINITY),
                    s => s
                        .parse()
                        .map_err(|_| Error::Type(format!("{s:?} is not a float"))),
                }
            }
            f => Err(type_error("a float", &f)),
        }
    }
}

impl FromResp for Bytes {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        match frame {
            Frame::BulkString(b) | Frame::SimpleString(b) | Frame::BigNumber(b) => Ok(b),
            Frame::Verbatim { text, .. } => Ok(text),
            Frame::Integer(i) => Ok(Bytes::from(i.to_string())),
            Frame::Double(d) => Ok(Bytes::from(d.to_string())),
            f => Err(type_error("a string", &f)),
        }
    }
}

impl FromResp for Vec<u8> {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        Bytes::from_resp(frame).map(Vec::from)
    }
}

impl FromResp for String {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        let b = Bytes::from_resp(frame)?;
        String::from_utf8(b.into()).map_err(|_| Error::Type("reply is not UTF-8".into()))
    }
}

impl<T: FromResp> FromResp for Option<T> {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        if frame.is_null() {
            Ok(None)
        } else {
            T::from_resp(frame).map(Some)
        }
    }
}

impl<T: FromResp> FromResp for Vec<T> {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        if frame.is_null() {
            return Ok(Vec::new());
        }
        match frame {
            Frame::Map(m) => T::from_resp_many(
                m.into_iter()
                    .map(|(k, v)| Frame::Array(vec![k, v]))
                    .collect(),
            ),
            f => T::from_resp_many(elements(f)?),
        }
    }
}

impl<T: FromResp + Eq + Hash, S: BuildHasher + Default> FromResp for HashSet<T, S> {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        if frame.is_null() {
            return Ok(HashSet::default());
        }
        elements(frame)?.into_iter().map(T::from_resp).collect()
    }
}

impl<K: FromResp + Eq + Hash, V: FromResp, S: BuildHasher + Default> FromResp for HashMap<K, V, S> {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        if frame.is_null() {
            return Ok(HashMap::default());
        }
        pairs(frame)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_resp(k)?, V::from_resp(v)?)))
            .collect()
    }
}

impl<A: FromResp, B: FromResp> FromResp for (A, B) {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        let mut it = elements(frame)?.into_iter();
        match (it.next(), it.next(), it.next()) {
            (Some(a), Some(b), None) => Ok((A::from_resp(a)?, B::from_resp(b)?)),
            _ => Err(Error::Type("expected 2 elements".into())),
        }
    }

    /// Accepts both `[[k, v], ...]` (RESP3) and `[k, v, ...]` (RESP2).
    fn from_resp_many(items: Vec<Frame>) -> Result<Vec<Self>, Error> {
        let nested = items
            .first()
            .is_some_and(|f| matches!(f, Frame::Array(_) | Frame::Map(_) | Frame::Set(_)));
        if nested {
            items.into_iter().map(Self::from_resp).collect()
        } else {
            pairs(Frame::Array(items))?
                .into_iter()
                .map(|(a, b)| Ok((A::from_resp(a)?, B::from_resp(b)?)))
                .collect()
        }
    }
}

macro_rules! tuple_from_resp {
    ($n:literal: $($t:ident)*) => {
        impl<$($t: FromResp),*> FromResp for ($($t,)*) {
            #[allow(non_snake_case)]
            fn from_resp(frame: Frame) -> Result<Self, Error> {
                let v = elements(frame)?;
                if v.len() != $n {
                    return Err(Error::Type(format!(concat!("expected ", $n, " elements, got {}"), v.len())));
                }
                let mut it = v.into_iter();
                $(let $t = $t::from_resp(it.next().expect("length checked"))?;)*
                Ok(($($t,)*))
            }
        }
    };
}
tuple_from_resp!(1: A);
tuple_from_resp!(3: A B C);
tuple_from_resp!(4: A B C D);
tuple_from_resp!(5: A B C D E);
tuple_from_resp!(6: A B C D E F);

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn scalars() {
        assert_eq!(i64::from_resp(Frame::Integer(-3)).unwrap(), -3);
        assert_eq!(u16::from_resp(bulk("42")).unwrap(), 42);
        assert!(i8::from_resp(Frame::Integer(300)).is_err());
        assert!(i64::from_resp(bulk("x")).is_err());
        assert_eq!(f64::from_resp(bulk("1.5")).unwrap(), 1.5);
        assert_eq!(f64::from_resp(bulk("-inf")).unwrap(), f64::NEG_INFINITY);
        assert_eq!(f64::from_resp(Frame::Double(2.5)).unwrap(), 2.5);
        assert_eq!(String::from_resp(bulk("hi")).unwrap(), "hi");
        assert_eq!(Vec::<u8>::from_resp(bulk("hi")).unwrap(), b"hi");
        assert!(bool::from_resp(Frame::SimpleString(Bytes::from_static(b"OK"))).unwrap());
        assert!(!bool::from_resp(Frame::NullBulk).unwrap());
        assert!(bool::from_resp(Frame::Integer(1)).unwrap());
        assert_eq!(Option::<String>::from_resp(Frame::Null).unwrap(), None);
        assert_eq!(
            Option::<i64>::from_resp(Frame::Integer(1)).unwrap(),
            Some(1)
        );
        assert!(String::from_resp(Frame::Integer(1)).is_ok());
        assert!(String::from_resp(Frame::Array(vec![])).is_err());
    }

    #[test]
    fn aggregates_in_both_protocols() {
        let flat = Frame::Array(vec![bulk("a"), bulk("1"), bulk("b"), bulk("2")]);
        let map = Frame::Map(vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))]);
        for f in [flat, map] {
            let h: HashMap<String, i64> = FromResp::from_resp(f.clone()).unwrap();
            assert_eq!(h["a"], 1);
            assert_eq!(h["b"], 2);
            let v: Vec<(String, i64)> = FromResp::from_resp(f).unwrap();
            assert_eq!(v, vec![("a".into(), 1), ("b".into(), 2)]);
        }
        let nested = Frame::Array(vec![
            Frame::Array(vec![bulk("m"), Frame::Double(1.0)]),
            Frame::Array(vec![bulk("n"), Frame::Double(2.0)]),
        ]);
        let v: Vec<(String, f64)> = FromResp::from_resp(nested).unwrap();
        assert_eq!(v, vec![("m".into(), 1.0), ("n".into(), 2.0)]);
        let t: (i64, String, Option<String>) = FromResp::from_resp(Frame::Array(vec![
            Frame::Integer(1),
            bulk("x"),
            Frame::NullBulk,
        ]))
        .unwrap();
        assert_eq!(t, (1, "x".into(), None));
        assert!(<(i64, i64)>::from_resp(Frame::Array(vec![Frame::Integer(1)])).is_err());
        let s: HashSet<String> =
            FromResp::from_resp(Frame::Set(vec![bulk("x"), bulk("y")])).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            Vec::<String>::from_resp(Frame::NullArray).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn errors_and_attributes() {
        let e = check(Frame::SimpleError(Bytes::from_static(b"WRONGTYPE bad"))).unwrap_err();
        assert_eq!(e.server_code(), Some("WRONGTYPE"));
        let f = check(Frame::Attribute {
            attributes: vec![],
            value: Box::new(Frame::Integer(5)),
        })
        .unwrap();
        assert_eq!(f, Frame::Integer(5));
    }
}
