//! `ErrorResponse` and `NoticeResponse` fields ("Error and Notice Message
//! Fields", 55.8 in PG16).

use std::fmt;

use super::reader::Reader;

/// The validated fields of an `ErrorResponse` or `NoticeResponse`: each a
/// one-byte code and a string ("Error and Notice Message Fields", 55.8).
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorFields<B> {
    pub(crate) body: B,
}

impl<B: AsRef<[u8]>> ErrorFields<B> {
    /// Iterates `(code, value)` pairs in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &str)> + '_ {
        let mut r = Reader::new(self.body.as_ref(), "ErrorResponse");
        std::iter::from_fn(move || {
            let code = r.u8().ok()?;
            if code == 0 {
                return None;
            }
            Some((code, r.cstr().ok()?))
        })
    }

    /// The value of field `code`, if present.
    pub fn get(&self, code: u8) -> Option<&str> {
        self.iter().find(|(c, _)| *c == code).map(|(_, v)| v)
    }

    /// An owned, field-by-field copy.
    pub fn to_owned(&self) -> ServerError {
        ServerError::from_fields(self.iter())
    }
}

impl<B: AsRef<[u8]>> fmt::Debug for ErrorFields<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(c, v)| (char::from(c), v)))
            .finish()
    }
}

/// An `ErrorResponse` or `NoticeResponse` with every documented field
/// ("Error and Notice Message Fields", 55.8 in PG16).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerError {
    /// `S`: severity, possibly localized (ERROR, FATAL, PANIC, WARNING, NOTICE, ...).
    pub severity: String,
    /// `V`: severity, never localized (PostgreSQL 9.6+).
    pub severity_nonlocalized: Option<String>,
    /// `C`: SQLSTATE code.
    pub code: String,
    /// `M`: primary human-readable message.
    pub message: String,
    /// `D`: detail.
    pub detail: Option<String>,
    /// `H`: hint.
    pub hint: Option<String>,
    /// `P`: 1-based character position in the query string.
    pub position: Option<u32>,
    /// `p`: position in an internally generated command.
    pub internal_position: Option<u32>,
    /// `q`: the internally generated command.
    pub internal_query: Option<String>,
    /// `W`: context (call stack traceback).
    pub where_: Option<String>,
    /// `s`: schema name.
    pub schema: Option<String>,
    /// `t`: table name.
    pub table: Option<String>,
    /// `c`: column name.
    pub column: Option<String>,
    /// `d`: data type name.
    pub datatype: Option<String>,
    /// `n`: constraint name.
    pub constraint: Option<String>,
    /// `F`: source file name.
    pub file: Option<String>,
    /// `L`: source line number.
    pub line: Option<u32>,
    /// `R`: source routine name.
    pub routine: Option<String>,
}

impl ServerError {
    /// Builds from `(code, value)` pairs; unknown codes are ignored as the
    /// protocol requires.
    pub fn from_fields<'s>(fields: impl IntoIterator<Item = (u8, &'s str)>) -> ServerError {
        let mut e = ServerError::default();
        for (c, v) in fields {
            let s = || Some(v.to_owned());
            match c {
                b'S' => e.severity = v.to_owned(),
                b'V' => e.severity_nonlocalized = s(),
                b'C' => e.code = v.to_owned(),
                b'M' => e.message = v.to_owned(),
                b'D' => e.detail = s(),
                b'H' => e.hint = s(),
                b'P' => e.position = v.parse().ok(),
                b'p' => e.internal_position = v.parse().ok(),
                b'q' => e.internal_query = s(),
                b'W' => e.where_ = s(),
                b's' => e.schema = s(),
                b't' => e.table = s(),
                b'c' => e.column = s(),
                b'd' => e.datatype = s(),
                b'n' => e.constraint = s(),
                b'F' => e.file = s(),
                b'L' => e.line = v.parse().ok(),
                b'R' => e.routine = s(),
                _ => {}
            }
        }
        e
    }

    /// True for FATAL or PANIC: the server ends the session after it.
    pub fn is_fatal(&self) -> bool {
        let s = self
            .severity_nonlocalized
            .as_deref()
            .unwrap_or(&self.severity);
        s == "FATAL" || s == "PANIC"
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (SQLSTATE {})",
            self.severity, self.message, self.code
        )?;
        if let Some(d) = &self.detail {
            write!(f, "; detail: {d}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "; hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServerError {}
