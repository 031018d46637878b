//! Result rows.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use proto_pg::Format;
use proto_pg::message::backend::DataRow;
use proto_pg::types::{FromSql, decode_column};

use super::error::Error;
use super::statement::Column;

/// A column position or name.
pub trait RowIndex {
    /// The position of this column among `columns`.
    fn index(&self, columns: &[Column]) -> Option<usize>;
    /// For error messages.
    fn describe(&self) -> String;
}

impl RowIndex for usize {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
    fn describe(&self) -> String {
        format!("#{self}")
    }
}

impl RowIndex for str {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        columns.iter().position(|c| c.name() == self)
    }
    fn describe(&self) -> String {
        self.to_owned()
    }
}

impl RowIndex for String {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        self.as_str().index(columns)
    }
    fn describe(&self) -> String {
        self.clone()
    }
}

impl<T: RowIndex + ?Sized> RowIndex for &T {
    fn index(&self, columns: &[Column]) -> Option<usize> {
        (**self).index(columns)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// One row of a result. Its values are slices of the bytes read from the
/// socket (no copy per column); [`get`](Row::get) decodes one.
#[derive(Clone)]
pub struct Row {
    columns: Arc<[Column]>,
    data: DataRow<Bytes>,
    format: Format,
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Row")
            .field("columns", &self.columns)
            .field("data", &self.data)
            .finish()
    }
}

impl Row {
    pub(crate) fn new(columns: Arc<[Column]>, data: DataRow<Bytes>, format: Format) -> Row {
        Row {
            columns,
            data,
            format,
        }
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True for a row without columns.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The format the values are in (binary for extended queries, text
    /// for simple queries and [`query_text`](super::Connection::query_text)).
    pub fn format(&self) -> Format {
        self.format
    }

    /// Decodes the value of column `idx` (a position or a name) as `T`;
    /// `Option<T>` reads NULL as `None`.
    ///
    /// Fails with [`Error::ColumnNotFound`] for a bad index and
    /// [`Error::Type`] when `T` does not read the column's type or the
    /// value is invalid.
    pub fn get<'a, T: FromSql<'a>>(&'a self, idx: impl RowIndex) -> Result<T, Error> {
        let i = self.position(&idx)?;
        let col = &self.columns[i];
        decode_column(col.type_oid(), self.format, self.data.get(i)).map_err(Error::Type)
    }

    /// The raw bytes of column `idx` (`None` for NULL).
    pub fn raw(&self, idx: impl RowIndex) -> Result<Option<&[u8]>, Error> {
        let i = self.position(&idx)?;
        Ok(self.data.get(i))
    }

    fn position(&self, idx: &impl RowIndex) -> Result<usize, Error> {
        idx.index(&self.columns)
            .filter(|&i| i < self.data.len())
            .ok_or_else(|| Error::ColumnNotFound(idx.describe()))
    }
}
