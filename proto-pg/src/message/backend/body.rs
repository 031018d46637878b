//! Variable-length message bodies, validated at decode time and iterated
//! without allocation. Generic over storage: `&[u8]` when decoded from a
//! slice, `Bytes` when split off the connection's read buffer.

use std::fmt;

use bytes::Bytes;

use super::super::{Format, Oid};
use super::reader::Reader;
use crate::error::DecodeError;

/// A validated list of NUL-terminated strings (SASL mechanisms, protocol
/// options), iterated without allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct CStrings<'a> {
    pub(crate) raw: &'a [u8],
}

impl<'a> CStrings<'a> {
    /// Iterates the strings.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let raw = self.raw;
        raw.split(|b| *b == 0)
            .take(raw.iter().filter(|b| **b == 0).count())
            .map(|s| std::str::from_utf8(s).unwrap_or(""))
    }
}

impl fmt::Debug for CStrings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A `CommandComplete` tag, e.g. `SELECT 3` or `INSERT 0 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandTag<'a>(pub &'a str);

impl CommandTag<'_> {
    /// The affected or returned row count, for the commands whose tag ends
    /// in one (INSERT, UPDATE, DELETE, MERGE, SELECT, MOVE, FETCH, COPY).
    pub fn rows(&self) -> Option<u64> {
        let (cmd, rest) = self.0.split_once(' ')?;
        match cmd {
            "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "SELECT" | "MOVE" | "FETCH" | "COPY" => {
                rest.rsplit(' ').next()?.parse().ok()
            }
            _ => None,
        }
    }
}

/// `CopyInResponse`/`CopyOutResponse`/`CopyBothResponse` body.
#[derive(Clone, PartialEq, Eq)]
pub struct CopyResponse<B> {
    pub(crate) format: Format,
    pub(crate) codes: B,
}

impl<B: AsRef<[u8]>> CopyResponse<B> {
    /// Overall format: text, or binary for `COPY ... (FORMAT binary)`.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Per-column format codes.
    pub fn column_formats(&self) -> impl Iterator<Item = Format> + '_ {
        self.codes.as_ref().chunks_exact(2).map(|c| {
            if i16::from_be_bytes([c[0], c[1]]) == 1 {
                Format::Binary
            } else {
                Format::Text
            }
        })
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.codes.as_ref().len() / 2
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for CopyResponse<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyResponse")
            .field("format", &self.format)
            .field("column_formats", &self.column_formats().collect::<Vec<_>>())
            .finish()
    }
}

/// A `DataRow`: the column count and the undecoded column bytes. Column
/// values are slices of that storage; iterating allocates nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct DataRow<B = Bytes> {
    pub(crate) count: u16,
    pub(crate) body: B,
}

impl<B: AsRef<[u8]>> DataRow<B> {
    /// Number of columns.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True for a zero-column row.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Iterates the columns; `None` is SQL NULL.
    pub fn iter(&self) -> DataRowIter<'_> {
        DataRowIter {
            rest: self.body.as_ref(),
            left: self.count,
        }
    }

    /// Column `i` (`None` for NULL or out of range; walks the row).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.count as usize {
            return None;
        }
        // Skip the columns before `i`: a length, then that many bytes
        // (none for NULL, -1).
        let mut rest = self.body.as_ref();
        for _ in 0..i {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let len = i32::from_be_bytes(*len);
            rest = if len > 0 {
                tail.get(len as usize..)?
            } else {
                tail
            };
        }
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = i32::from_be_bytes(*len);
        if len < 0 {
            return None;
        }
        tail.get(..len as usize)
    }

    /// The raw column bytes (each column an Int32 length then its value).
    pub fn raw(&self) -> &B {
        &self.body
    }
}

impl DataRow<&[u8]> {
    /// Copies nothing: re-roots the row in `frame`, which must be the
    /// `Bytes` the row was decoded from.
    pub fn to_bytes(&self, frame: &Bytes) -> DataRow<Bytes> {
        DataRow {
            count: self.count,
            body: frame.slice_ref(self.body),
        }
    }
}

impl DataRow<Bytes> {
    /// Column `i` as a zero-copy `Bytes` slice (`None` for NULL).
    pub fn get_bytes(&self, i: usize) -> Option<Bytes> {
        self.get(i).map(|s| self.body.slice_ref(s))
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for DataRow<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|c| c.map(|v| String::from_utf8_lossy(v))))
            .finish()
    }
}

/// Iterator over the columns of a [`DataRow`].
#[derive(Debug, Clone)]
pub struct DataRowIter<'a> {
    rest: &'a [u8],
    left: u16,
}

impl<'a> Iterator for DataRowIter<'a> {
    type Item = Option<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 || self.rest.len() < 4 {
            return None;
        }
        self.left -= 1;
        let len = i32::from_be_bytes([self.rest[0], self.rest[1], self.rest[2], self.rest[3]]);
        self.rest = &self.rest[4..];
        if len < 0 {
            return Some(None);
        }
        // Validated at decode time; `min` keeps this panic-free regardless.
        let n = (len as usize).min(self.rest.len());
        let (v, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(Some(v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

/// A `RowDescription`: the result columns' names, types and formats.
#[derive(Clone, PartialEq, Eq)]
pub struct RowDescription<B = Bytes> {
    pub(crate) count: u16,
    pub(crate) body: B,
}

/// One column of a [`RowDescription`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDescription<'a> {
    /// Column name.
    pub name: &'a str,
    /// OID of the source table, or 0.
    pub table_oid: Oid,
    /// Attribute number in the source table, or 0.
    pub column_id: i16,
    /// Data type OID.
    pub type_oid: Oid,
    /// Data type size (`pg_type.typlen`); negative for variable width.
    pub type_size: i16,
    /// Type modifier (`pg_attribute.atttypmod`).
    pub type_modifier: i32,
    /// Format the values will arrive in (text unless known from Bind).
    pub format: Format,
}

impl<B: AsRef<[u8]>> RowDescription<B> {
    /// Number of columns.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when there are no columns.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Iterates the column descriptions.
    pub fn iter(&self) -> impl Iterator<Item = FieldDescription<'_>> + '_ {
        let mut r = Reader::new(self.body.as_ref(), "RowDescription");
        (0..self.count).map_while(move |_| read_field(&mut r).ok())
    }

    /// The raw body after the count.
    pub fn raw(&self) -> &B {
        &self.body
    }
}

impl RowDescription<&[u8]> {
    /// Re-roots the description in `frame` (the `Bytes` it was decoded
    /// from) without copying.
    pub fn to_bytes(&self, frame: &Bytes) -> RowDescription<Bytes> {
        RowDescription {
            count: self.count,
            body: frame.slice_ref(self.body),
        }
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for RowDescription<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

pub(crate) fn read_field<'a>(r: &mut Reader<'a>) -> Result<FieldDescription<'a>, DecodeError> {
    Ok(FieldDescription {
        name: r.cstr()?,
        table_oid: r.u32()?,
        column_id: r.i16()?,
        type_oid: r.u32()?,
        type_size: r.i16()?,
        type_modifier: r.i32()?,
        format: match r.i16()? {
            0 => Format::Text,
            1 => Format::Binary,
            _ => return Err(DecodeError::InvalidValue("format code")),
        },
    })
}

/// A `ParameterDescription`: the parameter type OIDs of a statement.
#[derive(Clone, PartialEq, Eq)]
pub struct ParameterDescription<B = Bytes> {
    pub(crate) body: B,
}

impl<B: AsRef<[u8]>> ParameterDescription<B> {
    /// Iterates the parameter type OIDs.
    pub fn types(&self) -> impl Iterator<Item = Oid> + '_ {
        self.body
            .as_ref()
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.body.as_ref().len() / 4
    }

    /// True when the statement takes no parameters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ParameterDescription<&[u8]> {
    /// Re-roots in `frame` without copying.
    pub fn to_bytes(&self, frame: &Bytes) -> ParameterDescription<Bytes> {
        ParameterDescription {
            body: frame.slice_ref(self.body),
        }
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for ParameterDescription<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.types()).finish()
    }
}
