//! Conversions between Rust values and PostgreSQL's text and binary
//! formats ("Frontend/Backend Protocol" > "Formats and Format Codes",
//! 55.1.3; the binary layouts are those of each type's `send`/`recv`
//! functions in the server).
//!
//! [`ToSql`] writes a parameter, [`FromSql`] reads a column. Both take the
//! type OID and the [`Format`], so one Rust type can serve several
//! PostgreSQL types (`String` reads `text`, `varchar`, `name`, ...).
//! Implement them for your own types to extend the set; [`Option`] maps to
//! SQL NULL.
//!
//! Text decoding of dates and times reads `DateStyle = ISO` and
//! `IntervalStyle = postgres` output, and text floats are exact only with
//! `extra_float_digits` > 0; [`Connection`](crate::Connection) pins all
//! three at start-up ([`PINNED_PARAMS`](crate::conn::PINNED_PARAMS)), so a
//! role's or database's defaults do not matter. A session that `SET`s
//! them otherwise gets decode errors for those types. Binary needs none.

mod array;
mod datetime;
mod net;
mod numeric;
mod scalar;

use std::fmt;

use bytes::BytesMut;

pub use crate::message::frontend::IsNull;
use crate::message::{Format, Oid};
pub use array::{Array, Dimension};
pub use datetime::{Date, Interval, Time, TimeTz, Timestamp};
pub use net::Inet;
pub use numeric::Numeric;
pub use scalar::{Json, Uuid};

/// Type OIDs of the built-in types this module converts (`pg_type.oid`).
pub mod oid {
    use crate::message::Oid;
    /// `bool`
    pub const BOOL: Oid = 16;
    /// `bytea`
    pub const BYTEA: Oid = 17;
    /// `"char"`
    pub const CHAR: Oid = 18;
    /// `name`
    pub const NAME: Oid = 19;
    /// `int8`
    pub const INT8: Oid = 20;
    /// `int2`
    pub const INT2: Oid = 21;
    /// `int4`
    pub const INT4: Oid = 23;
    /// `text`
    pub const TEXT: Oid = 25;
    /// `oid`
    pub const OID: Oid = 26;
    /// `json`
    pub const JSON: Oid = 114;
    /// `cidr`
    pub const CIDR: Oid = 650;
    /// `float4`
    pub const FLOAT4: Oid = 700;
    /// `float8`
    pub const FLOAT8: Oid = 701;
    /// `unknown`
    pub const UNKNOWN: Oid = 705;
    /// `inet`
    pub const INET: Oid = 869;
    /// `bpchar` (`char(n)`)
    pub const BPCHAR: Oid = 1042;
    /// `varchar`
    pub const VARCHAR: Oid = 1043;
    /// `date`
    pub const DATE: Oid = 1082;
    /// `time`
    pub const TIME: Oid = 1083;
    /// `timestamp`
    pub const TIMESTAMP: Oid = 1114;
    /// `timestamptz`
    pub const TIMESTAMPTZ: Oid = 1184;
    /// `interval`
    pub const INTERVAL: Oid = 1186;
    /// `timetz`
    pub const TIMETZ: Oid = 1266;
    /// `numeric`
    pub const NUMERIC: Oid = 1700;
    /// `uuid`
    pub const UUID: Oid = 2950;
    /// `jsonb`
    pub const JSONB: Oid = 3802;

    /// `(element, array)` type OID pairs.
    pub const ARRAYS: &[(Oid, Oid)] = &[
        (BOOL, 1000),
        (BYTEA, 1001),
        (CHAR, 1002),
        (NAME, 1003),
        (INT2, 1005),
        (INT4, 1007),
        (TEXT, 1009),
        (BPCHAR, 1014),
        (VARCHAR, 1015),
        (INT8, 1016),
        (FLOAT4, 1021),
        (FLOAT8, 1022),
        (OID, 1028),
        (INET, 1041),
        (TIMESTAMP, 1115),
        (DATE, 1182),
        (TIME, 1183),
        (TIMESTAMPTZ, 1185),
        (INTERVAL, 1187),
        (NUMERIC, 1231),
        (TIMETZ, 1270),
        (JSON, 199),
        (CIDR, 651),
        (UUID, 2951),
        (JSONB, 3807),
    ];

    /// The array type whose elements are `element`.
    pub fn array_of(element: Oid) -> Option<Oid> {
        ARRAYS.iter().find(|(e, _)| *e == element).map(|(_, a)| *a)
    }

    /// The element type of array type `array`.
    pub fn element_of(array: Oid) -> Option<Oid> {
        ARRAYS.iter().find(|(_, a)| *a == array).map(|(e, _)| *e)
    }
}

/// A value could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypeError {
    /// The Rust type does not convert to or from this PostgreSQL type.
    WrongType {
        /// The PostgreSQL type OID.
        oid: Oid,
        /// The Rust type.
        rust: &'static str,
    },
    /// NULL read into a type that cannot hold it (use `Option`).
    UnexpectedNull,
    /// The bytes are not a valid value of the type.
    Invalid(&'static str),
    /// The value does not fit the target type.
    OutOfRange(&'static str),
    /// A length or count exceeds what the input can hold, or array depth
    /// exceeds 6 dimensions.
    Limit(&'static str),
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeError::WrongType { oid, rust } => {
                write!(f, "cannot convert between type OID {oid} and {rust}")
            }
            TypeError::UnexpectedNull => f.write_str("unexpected NULL"),
            TypeError::Invalid(w) => write!(f, "invalid {w} value"),
            TypeError::OutOfRange(w) => write!(f, "{w} value out of range"),
            TypeError::Limit(w) => write!(f, "{w} exceeds limits"),
        }
    }
}

impl std::error::Error for TypeError {}

impl From<TypeError> for crate::error::EncodeError {
    fn from(e: TypeError) -> Self {
        crate::error::EncodeError::Value(e.to_string())
    }
}

impl From<TypeError> for std::io::Error {
    fn from(e: TypeError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// A Rust type with one natural PostgreSQL type (used for parameter type
/// OIDs and array element types).
pub trait Typed {
    /// The PostgreSQL type OID.
    const OID: Oid;
}

impl<T: Typed> Typed for Option<T> {
    const OID: Oid = T::OID;
}

/// A value that can be sent as a parameter.
pub trait ToSql {
    /// The type OID to declare for this value in `Parse`.
    fn type_oid(&self) -> Oid;

    /// Whether this value can be sent for a parameter of type `oid`.
    fn accepts(&self, oid: Oid) -> bool {
        oid == self.type_oid()
    }

    /// Appends the value for type `oid` in `format`, or returns
    /// [`IsNull::Yes`] (writing nothing) for NULL.
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError>;

    /// [`ToSql::to_sql`] after checking [`ToSql::accepts`].
    fn to_sql_checked(
        &self,
        oid: Oid,
        format: Format,
        out: &mut BytesMut,
    ) -> Result<IsNull, TypeError> {
        if !self.accepts(oid) {
            return Err(TypeError::WrongType {
                oid,
                rust: std::any::type_name::<Self>(),
            });
        }
        self.to_sql(oid, format, out)
    }
}

/// A value that can be read from a column. `'a` lets implementations
/// borrow from the row (`&str`, `&[u8]`).
pub trait FromSql<'a>: Sized {
    /// Whether this type reads values of type `oid`.
    fn accepts(oid: Oid) -> bool;

    /// Reads a non-NULL value.
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError>;

    /// Reads NULL; an error unless the type can represent it.
    fn from_sql_null(_oid: Oid) -> Result<Self, TypeError> {
        Err(TypeError::UnexpectedNull)
    }

    /// Checks the type, then reads a value or NULL.
    fn from_sql_nullable(
        oid: Oid,
        format: Format,
        raw: Option<&'a [u8]>,
    ) -> Result<Self, TypeError> {
        if !Self::accepts(oid) {
            return Err(TypeError::WrongType {
                oid,
                rust: std::any::type_name::<Self>(),
            });
        }
        match raw {
            Some(r) => Self::from_sql(oid, format, r),
            None => Self::from_sql_null(oid),
        }
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn type_oid(&self) -> Oid {
        match self {
            Some(v) => v.type_oid(),
            None => 0,
        }
    }

    fn accepts(&self, oid: Oid) -> bool {
        match self {
            Some(v) => v.accepts(oid),
            None => true,
        }
    }

    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match self {
            Some(v) => v.to_sql(oid, format, out),
            None => Ok(IsNull::Yes),
        }
    }
}

impl<'a, T: FromSql<'a>> FromSql<'a> for Option<T> {
    fn accepts(oid: Oid) -> bool {
        T::accepts(oid)
    }

    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        T::from_sql(oid, format, raw).map(Some)
    }

    fn from_sql_null(_oid: Oid) -> Result<Self, TypeError> {
        Ok(None)
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn type_oid(&self) -> Oid {
        (**self).type_oid()
    }

    fn accepts(&self, oid: Oid) -> bool {
        (**self).accepts(oid)
    }

    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        (**self).to_sql(oid, format, out)
    }
}

/// Reads column `index` of `row` as `T`, using the type and format from
/// `columns` (the request's `RowDescription`). With `Describe` before
/// `Bind` the description reports text format; pass the format actually
/// requested in `Bind` through [`decode_column`] in that case.
pub fn get<'a, T: FromSql<'a>, B: AsRef<[u8]>, C: AsRef<[u8]>>(
    columns: &crate::message::backend::RowDescription<C>,
    row: &'a crate::message::backend::DataRow<B>,
    index: usize,
) -> Result<T, TypeError> {
    let field = columns
        .iter()
        .nth(index)
        .ok_or(TypeError::OutOfRange("column index"))?;
    decode_column(
        field.type_oid,
        field.format,
        row.iter().nth(index).flatten(),
    )
}

/// Reads one column value (`None` = NULL) of type `oid` in `format`.
pub fn decode_column<'a, T: FromSql<'a>>(
    oid: Oid,
    format: Format,
    raw: Option<&'a [u8]>,
) -> Result<T, TypeError> {
    T::from_sql_nullable(oid, format, raw)
}

/// Serializes `value` as a standalone binary or text value (for tests and
/// for callers building `Bind` parameters by hand). `None` is NULL.
pub fn encode<T: ToSql + ?Sized>(
    value: &T,
    oid: Oid,
    format: Format,
) -> Result<Option<BytesMut>, TypeError> {
    let mut b = BytesMut::new();
    Ok(match value.to_sql_checked(oid, format, &mut b)? {
        IsNull::No => Some(b),
        IsNull::Yes => None,
    })
}

pub(crate) fn utf8<'a>(raw: &'a [u8], what: &'static str) -> Result<&'a str, TypeError> {
    std::str::from_utf8(raw).map_err(|_| TypeError::Invalid(what))
}

pub(crate) fn fixed<const N: usize>(raw: &[u8], what: &'static str) -> Result<[u8; N], TypeError> {
    raw.try_into().map_err(|_| TypeError::Invalid(what))
}

#[cfg(test)]
mod tests;
