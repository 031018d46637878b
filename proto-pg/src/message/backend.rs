//! Backend (server to client) message decoder.
//!
//! [`decode`] follows the Sans-IO codec contract: `Ok(None)` while the
//! buffer holds less than one whole message, otherwise the message and the
//! number of bytes it used. Every length and count is checked against
//! [`Limits`] before it is trusted; the header length is checked as soon as
//! its five bytes are present, so a hostile length never makes the caller
//! buffer more than `max_message_len` bytes.
//!
//! Decoded messages borrow from the input. The variable-length bodies
//! ([`DataRow`], [`RowDescription`], ...) are generic over their storage:
//! `&[u8]` from [`decode`], `bytes::Bytes` once the
//! [`Connection`](crate::Connection) has split the frame off its read
//! buffer, so rows reach the caller without a copy.
//!
//! Formats: PostgreSQL manual, "Frontend/Backend Protocol" > "Message
//! Formats" (55.7 in PG16); error fields: "Error and Notice Message Fields"
//! (55.8).

use std::fmt;

use bytes::Bytes;

use super::{Format, Oid};
use crate::error::DecodeError;
use crate::limits::Limits;

/// A decoded backend message borrowing from the input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendMessage<'a> {
    /// `Authentication*` (`R`).
    Authentication(Authentication<'a>),
    /// `BackendKeyData` (`K`): cancellation key. The secret is 4 bytes in
    /// protocol 3.0 and up to 256 bytes in 3.2.
    BackendKeyData {
        /// Backend process ID.
        process_id: i32,
        /// Secret key.
        secret_key: &'a [u8],
    },
    /// `BindComplete` (`2`).
    BindComplete,
    /// `CloseComplete` (`3`).
    CloseComplete,
    /// `CommandComplete` (`C`) with its command tag, e.g. `INSERT 0 1`.
    CommandComplete(CommandTag<'a>),
    /// `CopyData` (`d`).
    CopyData(&'a [u8]),
    /// `CopyDone` (`c`).
    CopyDone,
    /// `CopyInResponse` (`G`).
    CopyInResponse(CopyResponse<&'a [u8]>),
    /// `CopyOutResponse` (`H`).
    CopyOutResponse(CopyResponse<&'a [u8]>),
    /// `CopyBothResponse` (`W`), used by streaming replication.
    CopyBothResponse(CopyResponse<&'a [u8]>),
    /// `DataRow` (`D`).
    DataRow(DataRow<&'a [u8]>),
    /// `EmptyQueryResponse` (`I`).
    EmptyQueryResponse,
    /// `ErrorResponse` (`E`).
    ErrorResponse(ErrorFields<&'a [u8]>),
    /// `FunctionCallResponse` (`V`); `None` is NULL.
    FunctionCallResponse(Option<&'a [u8]>),
    /// `NegotiateProtocolVersion` (`v`).
    NegotiateProtocolVersion {
        /// Newest minor protocol version the server supports.
        newest_minor: i32,
        /// Protocol options the server did not recognize.
        unrecognized: CStrings<'a>,
    },
    /// `NoData` (`n`).
    NoData,
    /// `NoticeResponse` (`N`).
    NoticeResponse(ErrorFields<&'a [u8]>),
    /// `NotificationResponse` (`A`).
    NotificationResponse {
        /// Notifying backend's process ID.
        process_id: i32,
        /// Channel name.
        channel: &'a str,
        /// Payload string.
        payload: &'a str,
    },
    /// `ParameterDescription` (`t`).
    ParameterDescription(ParameterDescription<&'a [u8]>),
    /// `ParameterStatus` (`S`).
    ParameterStatus {
        /// Run-time parameter name.
        name: &'a str,
        /// Its current value.
        value: &'a str,
    },
    /// `ParseComplete` (`1`).
    ParseComplete,
    /// `PortalSuspended` (`s`): an `Execute` row limit was reached.
    PortalSuspended,
    /// `ReadyForQuery` (`Z`).
    ReadyForQuery(TransactionStatus),
    /// `RowDescription` (`T`).
    RowDescription(RowDescription<&'a [u8]>),
}

/// `Authentication*` requests (message type `R`, by Int32 code).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authentication<'a> {
    /// `AuthenticationOk` (0).
    Ok,
    /// `AuthenticationKerberosV5` (2).
    KerberosV5,
    /// `AuthenticationCleartextPassword` (3).
    CleartextPassword,
    /// `AuthenticationMD5Password` (5) with its 4-byte salt.
    Md5Password([u8; 4]),
    /// `AuthenticationSCMCredential` (6), removed in PostgreSQL 9.1.
    ScmCredential,
    /// `AuthenticationGSS` (7).
    Gss,
    /// `AuthenticationGSSContinue` (8).
    GssContinue(&'a [u8]),
    /// `AuthenticationSSPI` (9).
    Sspi,
    /// `AuthenticationSASL` (10) with the offered mechanism names.
    Sasl(CStrings<'a>),
    /// `AuthenticationSASLContinue` (11).
    SaslContinue(&'a [u8]),
    /// `AuthenticationSASLFinal` (12).
    SaslFinal(&'a [u8]),
}

/// Transaction status from `ReadyForQuery`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionStatus {
    /// `I`: not in a transaction block.
    Idle,
    /// `T`: in a transaction block.
    InTransaction,
    /// `E`: in a failed transaction block.
    Failed,
}

/// A validated list of NUL-terminated strings (SASL mechanisms, protocol
/// options), iterated without allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct CStrings<'a> {
    raw: &'a [u8],
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
    format: Format,
    codes: B,
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
    count: u16,
    body: B,
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
        self.iter().nth(i).flatten()
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
    count: u16,
    body: B,
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

fn read_field<'a>(r: &mut Reader<'a>) -> Result<FieldDescription<'a>, DecodeError> {
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
    body: B,
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

/// The validated fields of an `ErrorResponse` or `NoticeResponse`: each a
/// one-byte code and a string ("Error and Notice Message Fields", 55.8).
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorFields<B> {
    body: B,
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

/// A bounds-checked big-endian reader over a message body.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, what }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated(self.what));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn i16(&mut self) -> Result<i16, DecodeError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn i32(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(self.i32()? as u32)
    }

    pub(crate) fn cstr(&mut self) -> Result<&'a str, DecodeError> {
        let n = memchr::memchr(0, self.buf).ok_or(DecodeError::MissingNul(self.what))?;
        let s =
            std::str::from_utf8(&self.buf[..n]).map_err(|_| DecodeError::InvalidUtf8(self.what))?;
        self.buf = &self.buf[n + 1..];
        Ok(s)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.what))
        }
    }
}

/// Checks the five-byte header at the front of `buf`: `Ok(None)` if fewer
/// than five bytes, else the message's total length (type byte included).
/// The length is validated against `limits` here, before any body arrives.
pub fn frame_len(buf: &[u8], limits: &Limits) -> Result<Option<usize>, DecodeError> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let len = i32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
    if len < 4 {
        return Err(DecodeError::BadLength(len));
    }
    let body = len as usize - 4;
    if body > limits.max_message_len {
        return Err(DecodeError::MessageTooLarge {
            len: body,
            limit: limits.max_message_len,
        });
    }
    Ok(Some(body + 5))
}

/// Decodes one backend message from the front of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the message and the
/// number of bytes it occupied.
pub fn decode<'a>(
    buf: &'a [u8],
    limits: &Limits,
) -> Result<Option<(BackendMessage<'a>, usize)>, DecodeError> {
    let Some(total) = frame_len(buf, limits)? else {
        return Ok(None);
    };
    if buf.len() < total {
        return Ok(None);
    }
    let msg = decode_body(buf[0], &buf[5..total], limits)?;
    Ok(Some((msg, total)))
}

fn count(r: &mut Reader<'_>, what: &'static str, limit: usize) -> Result<u16, DecodeError> {
    // Counts are Int16 on the wire but the server writes them from uint16
    // values (up to 65535 parameters), so read them unsigned.
    let n = r.i16()? as u16;
    if n as usize > limit {
        return Err(DecodeError::TooManyItems {
            what,
            count: n as i64,
            limit,
        });
    }
    Ok(n)
}

fn cstrings<'a>(
    r: &mut Reader<'a>,
    terminated: bool,
    n: Option<usize>,
) -> Result<CStrings<'a>, DecodeError> {
    let start = r.buf;
    let mut used = 0;
    let mut seen = 0;
    loop {
        if n == Some(seen) {
            break;
        }
        let s = r.cstr()?;
        if terminated && s.is_empty() {
            return Ok(CStrings {
                raw: &start[..used],
            });
        }
        used += s.len() + 1;
        seen += 1;
    }
    Ok(CStrings {
        raw: &start[..used],
    })
}

/// Decodes a message body given its type byte. `body` excludes the type
/// byte and length word.
pub fn decode_body<'a>(
    tag: u8,
    body: &'a [u8],
    limits: &Limits,
) -> Result<BackendMessage<'a>, DecodeError> {
    use BackendMessage as M;
    let empty = |m: BackendMessage<'a>, what| {
        if body.is_empty() {
            Ok(m)
        } else {
            Err(DecodeError::TrailingBytes(what))
        }
    };
    let mut r = Reader::new(body, "message");
    let msg = match tag {
        b'R' => {
            r.what = "Authentication";
            let code = r.i32()?;
            let a = match code {
                0 => Authentication::Ok,
                2 => Authentication::KerberosV5,
                3 => Authentication::CleartextPassword,
                5 => {
                    let s = r.take(4)?;
                    Authentication::Md5Password([s[0], s[1], s[2], s[3]])
                }
                6 => Authentication::ScmCredential,
                7 => Authentication::Gss,
                8 => Authentication::GssContinue(r.rest()),
                9 => Authentication::Sspi,
                10 => Authentication::Sasl(cstrings(&mut r, true, None)?),
                11 => Authentication::SaslContinue(r.rest()),
                12 => Authentication::SaslFinal(r.rest()),
                c => return Err(DecodeError::UnknownAuth(c)),
            };
            r.finish()?;
            M::Authentication(a)
        }
        b'K' => {
            r.what = "BackendKeyData";
            let process_id = r.i32()?;
            let secret_key = r.rest();
            if !(4..=256).contains(&secret_key.len()) {
                return Err(DecodeError::InvalidValue(
                    "BackendKeyData secret key length",
                ));
            }
            M::BackendKeyData {
                process_id,
                secret_key,
            }
        }
        b'2' => return empty(M::BindComplete, "BindComplete"),
        b'3' => return empty(M::CloseComplete, "CloseComplete"),
        b'C' => {
            r.what = "CommandComplete";
            let tag = r.cstr()?;
            r.finish()?;
            M::CommandComplete(CommandTag(tag))
        }
        b'd' => M::CopyData(r.rest()),
        b'c' => return empty(M::CopyDone, "CopyDone"),
        b'G' | b'H' | b'W' => {
            r.what = "CopyResponse";
            let format = match r.u8()? {
                0 => Format::Text,
                1 => Format::Binary,
                _ => return Err(DecodeError::InvalidValue("copy format")),
            };
            let n = count(&mut r, "copy column", limits.max_columns)?;
            let codes = r.take(n as usize * 2)?;
            r.finish()?;
            if codes.chunks_exact(2).any(|c| c != [0, 0] && c != [0, 1]) {
                return Err(DecodeError::InvalidValue("copy column format"));
            }
            let c = CopyResponse { format, codes };
            match tag {
                b'G' => M::CopyInResponse(c),
                b'H' => M::CopyOutResponse(c),
                _ => M::CopyBothResponse(c),
            }
        }
        b'D' => {
            r.what = "DataRow";
            let n = count(&mut r, "column", limits.max_columns)?;
            let cols = r.buf;
            for _ in 0..n {
                let len = r.i32()?;
                if len == -1 {
                    continue;
                }
                if len < 0 || len as usize > limits.max_field_len {
                    return Err(DecodeError::BadFieldLength(len as i64));
                }
                r.take(len as usize)?;
            }
            r.finish()?;
            M::DataRow(DataRow {
                count: n,
                body: cols,
            })
        }
        b'I' => return empty(M::EmptyQueryResponse, "EmptyQueryResponse"),
        b'E' | b'N' => {
            r.what = if tag == b'E' {
                "ErrorResponse"
            } else {
                "NoticeResponse"
            };
            loop {
                if r.u8()? == 0 {
                    break;
                }
                r.cstr()?;
            }
            r.finish()?;
            let f = ErrorFields { body };
            if tag == b'E' {
                M::ErrorResponse(f)
            } else {
                M::NoticeResponse(f)
            }
        }
        b'V' => {
            r.what = "FunctionCallResponse";
            let len = r.i32()?;
            let v = if len == -1 {
                None
            } else if len < 0 || len as usize > limits.max_field_len {
                return Err(DecodeError::BadFieldLength(len as i64));
            } else {
                Some(r.take(len as usize)?)
            };
            r.finish()?;
            M::FunctionCallResponse(v)
        }
        b'v' => {
            r.what = "NegotiateProtocolVersion";
            let newest_minor = r.i32()?;
            let n = r.i32()?;
            if n < 0 || n as usize > limits.max_params {
                return Err(DecodeError::TooManyItems {
                    what: "protocol option",
                    count: n as i64,
                    limit: limits.max_params,
                });
            }
            let unrecognized = cstrings(&mut r, false, Some(n as usize))?;
            r.finish()?;
            M::NegotiateProtocolVersion {
                newest_minor,
                unrecognized,
            }
        }
        b'n' => return empty(M::NoData, "NoData"),
        b'A' => {
            r.what = "NotificationResponse";
            let process_id = r.i32()?;
            let channel = r.cstr()?;
            let payload = r.cstr()?;
            r.finish()?;
            M::NotificationResponse {
                process_id,
                channel,
                payload,
            }
        }
        b't' => {
            r.what = "ParameterDescription";
            let n = count(&mut r, "parameter", limits.max_params)?;
            let oids = r.take(n as usize * 4)?;
            r.finish()?;
            M::ParameterDescription(ParameterDescription { body: oids })
        }
        b'S' => {
            r.what = "ParameterStatus";
            let name = r.cstr()?;
            let value = r.cstr()?;
            r.finish()?;
            M::ParameterStatus { name, value }
        }
        b'1' => return empty(M::ParseComplete, "ParseComplete"),
        b's' => return empty(M::PortalSuspended, "PortalSuspended"),
        b'Z' => {
            r.what = "ReadyForQuery";
            let s = match r.u8()? {
                b'I' => TransactionStatus::Idle,
                b'T' => TransactionStatus::InTransaction,
                b'E' => TransactionStatus::Failed,
                _ => return Err(DecodeError::InvalidValue("transaction status")),
            };
            r.finish()?;
            M::ReadyForQuery(s)
        }
        b'T' => {
            r.what = "RowDescription";
            let n = count(&mut r, "column", limits.max_columns)?;
            let fields = r.buf;
            for _ in 0..n {
                read_field(&mut r)?;
            }
            r.finish()?;
            M::RowDescription(RowDescription {
                count: n,
                body: fields,
            })
        }
        t => return Err(DecodeError::UnknownMessage(t)),
    };
    Ok(msg)
}

impl BackendMessage<'_> {
    /// The message type byte.
    pub fn tag(&self) -> u8 {
        use BackendMessage as M;
        match self {
            M::Authentication(_) => b'R',
            M::BackendKeyData { .. } => b'K',
            M::BindComplete => b'2',
            M::CloseComplete => b'3',
            M::CommandComplete(_) => b'C',
            M::CopyData(_) => b'd',
            M::CopyDone => b'c',
            M::CopyInResponse(_) => b'G',
            M::CopyOutResponse(_) => b'H',
            M::CopyBothResponse(_) => b'W',
            M::DataRow(_) => b'D',
            M::EmptyQueryResponse => b'I',
            M::ErrorResponse(_) => b'E',
            M::FunctionCallResponse(_) => b'V',
            M::NegotiateProtocolVersion { .. } => b'v',
            M::NoData => b'n',
            M::NoticeResponse(_) => b'N',
            M::NotificationResponse { .. } => b'A',
            M::ParameterDescription(_) => b't',
            M::ParameterStatus { .. } => b'S',
            M::ParseComplete => b'1',
            M::PortalSuspended => b's',
            M::ReadyForQuery(_) => b'Z',
            M::RowDescription(_) => b'T',
        }
    }

    /// Encodes the message as a server would (for test servers, proxies
    /// and the fuzz round-trip check).
    pub fn encode(&self, buf: &mut bytes::BytesMut) {
        use BackendMessage as M;
        use bytes::BufMut;
        let start = buf.len();
        buf.put_u8(self.tag());
        buf.put_i32(0);
        let cstr = |b: &mut bytes::BytesMut, s: &str| {
            b.put_slice(s.as_bytes());
            b.put_u8(0);
        };
        match self {
            M::Authentication(a) => {
                let (code, data): (i32, &[u8]) = match a {
                    Authentication::Ok => (0, &[]),
                    Authentication::KerberosV5 => (2, &[]),
                    Authentication::CleartextPassword => (3, &[]),
                    Authentication::Md5Password(s) => (5, s),
                    Authentication::ScmCredential => (6, &[]),
                    Authentication::Gss => (7, &[]),
                    Authentication::GssContinue(d) => (8, d),
                    Authentication::Sspi => (9, &[]),
                    Authentication::Sasl(m) => (10, m.raw),
                    Authentication::SaslContinue(d) => (11, d),
                    Authentication::SaslFinal(d) => (12, d),
                };
                buf.put_i32(code);
                buf.put_slice(data);
                if matches!(a, Authentication::Sasl(_)) {
                    buf.put_u8(0);
                }
            }
            M::BackendKeyData {
                process_id,
                secret_key,
            } => {
                buf.put_i32(*process_id);
                buf.put_slice(secret_key);
            }
            M::CommandComplete(t) => cstr(buf, t.0),
            M::CopyData(d) => buf.put_slice(d),
            M::CopyInResponse(c) | M::CopyOutResponse(c) | M::CopyBothResponse(c) => {
                buf.put_u8(c.format.code() as u8);
                buf.put_u16(c.columns() as u16);
                buf.put_slice(c.codes);
            }
            M::DataRow(d) => {
                buf.put_u16(d.count);
                buf.put_slice(d.body);
            }
            M::ErrorResponse(f) | M::NoticeResponse(f) => buf.put_slice(f.body),
            M::FunctionCallResponse(v) => match v {
                Some(v) => {
                    buf.put_i32(v.len() as i32);
                    buf.put_slice(v);
                }
                None => buf.put_i32(-1),
            },
            M::NegotiateProtocolVersion {
                newest_minor,
                unrecognized,
            } => {
                buf.put_i32(*newest_minor);
                buf.put_i32(unrecognized.iter().count() as i32);
                buf.put_slice(unrecognized.raw);
            }
            M::NotificationResponse {
                process_id,
                channel,
                payload,
            } => {
                buf.put_i32(*process_id);
                cstr(buf, channel);
                cstr(buf, payload);
            }
            M::ParameterDescription(p) => {
                buf.put_u16(p.len() as u16);
                buf.put_slice(p.body);
            }
            M::ParameterStatus { name, value } => {
                cstr(buf, name);
                cstr(buf, value);
            }
            M::ReadyForQuery(s) => buf.put_u8(match s {
                TransactionStatus::Idle => b'I',
                TransactionStatus::InTransaction => b'T',
                TransactionStatus::Failed => b'E',
            }),
            M::RowDescription(r) => {
                buf.put_u16(r.count);
                buf.put_slice(r.body);
            }
            M::BindComplete
            | M::CloseComplete
            | M::CopyDone
            | M::EmptyQueryResponse
            | M::NoData
            | M::ParseComplete
            | M::PortalSuspended => {}
        }
        let len = (buf.len() - start - 1) as i32;
        buf[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
    }
}

/// Decodes every whole message in `data` twice, once from the full buffer
/// and once fed a byte at a time into a growing buffer, and checks that
/// both give the same messages (and the same error, if any), and that each
/// message re-encodes to bytes that decode to the same message. Returns
/// the number of messages. This is the fuzz target's invariant.
pub fn check_split_invariance(data: &[u8], limits: &Limits) -> usize {
    let mut whole = Vec::new();
    let mut off = 0;
    let whole_err = loop {
        match decode(&data[off..], limits) {
            Ok(Some((m, n))) => {
                assert!(n > 0 && n <= data.len() - off);
                let mut re = bytes::BytesMut::new();
                m.encode(&mut re);
                let (again, used) = decode(&re, limits)
                    .expect("re-encoded message decodes")
                    .expect("re-encoded message is whole");
                assert_eq!(used, re.len());
                assert_eq!(again, m);
                whole.push(m);
                off += n;
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut err = None;
    'outer: for end in 1..=data.len() {
        loop {
            match decode(&data[start..end], limits) {
                Ok(Some((m, n))) => {
                    pieces.push(m);
                    start += n;
                }
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break 'outer;
                }
            }
        }
    }
    assert_eq!(whole, pieces);
    assert_eq!(whole_err, err);
    whole.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{BufMut, BytesMut};

    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn one(tag: u8, body: &[u8]) -> Result<BackendMessage<'static>, DecodeError> {
        let v: &'static [u8] = Box::leak(msg(tag, body).into_boxed_slice());
        decode(v, &Limits::DEFAULT).map(|o| o.expect("whole").0)
    }

    #[test]
    fn partial_is_none() {
        let m = msg(b'Z', b"I");
        for i in 0..m.len() {
            assert_eq!(decode(&m[..i], &Limits::DEFAULT), Ok(None));
        }
        assert_eq!(
            decode(&m, &Limits::DEFAULT),
            Ok(Some((
                BackendMessage::ReadyForQuery(TransactionStatus::Idle),
                6
            )))
        );
    }

    #[test]
    fn header_limits() {
        let l = Limits {
            max_message_len: 10,
            ..Limits::DEFAULT
        };
        assert_eq!(
            decode(b"D\0\0\0\x0f", &l),
            Err(DecodeError::MessageTooLarge { len: 11, limit: 10 })
        );
        assert_eq!(decode(b"D\0\0\0\x03", &l), Err(DecodeError::BadLength(3)));
        assert_eq!(
            decode(b"D\xff\xff\xff\xff", &l),
            Err(DecodeError::BadLength(-1))
        );
    }

    #[test]
    fn authentication() {
        use Authentication as A;
        assert_eq!(
            one(b'R', &[0, 0, 0, 0]),
            Ok(BackendMessage::Authentication(A::Ok))
        );
        assert_eq!(
            one(b'R', &[0, 0, 0, 5, 1, 2, 3, 4]),
            Ok(BackendMessage::Authentication(A::Md5Password([1, 2, 3, 4])))
        );
        assert_eq!(
            one(b'R', &[0, 0, 0, 5, 1, 2]),
            Err(DecodeError::Truncated("Authentication"))
        );
        assert_eq!(
            one(b'R', &[0, 0, 0, 3, 9]),
            Err(DecodeError::TrailingBytes("Authentication"))
        );
        assert_eq!(one(b'R', &[0, 0, 0, 99]), Err(DecodeError::UnknownAuth(99)));
        let m = one(b'R', b"\0\0\0\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0").unwrap();
        let BackendMessage::Authentication(A::Sasl(mechs)) = m else {
            panic!()
        };
        assert_eq!(
            mechs.iter().collect::<Vec<_>>(),
            ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]
        );
        assert_eq!(
            one(b'R', b"\0\0\0\x0aSCRAM"),
            Err(DecodeError::MissingNul("Authentication"))
        );
        assert!(matches!(
            one(b'R', b"\0\0\0\x0bcontinue"),
            Ok(BackendMessage::Authentication(A::SaslContinue(b"continue")))
        ));
        for (c, want) in [
            (2, A::KerberosV5),
            (7, A::Gss),
            (9, A::Sspi),
            (6, A::ScmCredential),
        ] {
            assert_eq!(
                one(b'R', &[0, 0, 0, c]),
                Ok(BackendMessage::Authentication(want))
            );
        }
    }

    #[test]
    fn backend_key_data() {
        assert_eq!(
            one(b'K', &[0, 0, 0, 9, 1, 2, 3, 4]),
            Ok(BackendMessage::BackendKeyData {
                process_id: 9,
                secret_key: &[1, 2, 3, 4]
            })
        );
        let long = [[0, 0, 0, 9].as_slice(), &[7u8; 32]].concat();
        assert!(matches!(
            one(b'K', &long),
            Ok(BackendMessage::BackendKeyData { secret_key, .. }) if secret_key.len() == 32
        ));
        assert!(one(b'K', &[0, 0, 0, 9, 1]).is_err());
        assert!(one(b'K', &[0, 0, 0]).is_err());
        assert!(one(b'K', &[0u8; 4 + 257]).is_err());
    }

    #[test]
    fn empty_bodies() {
        use BackendMessage as M;
        for (t, m) in [
            (b'2', M::BindComplete),
            (b'3', M::CloseComplete),
            (b'c', M::CopyDone),
            (b'I', M::EmptyQueryResponse),
            (b'n', M::NoData),
            (b'1', M::ParseComplete),
            (b's', M::PortalSuspended),
        ] {
            assert_eq!(one(t, b""), Ok(m));
            assert!(matches!(one(t, b"x"), Err(DecodeError::TrailingBytes(_))));
        }
        assert_eq!(one(b'?', b""), Err(DecodeError::UnknownMessage(b'?')));
    }

    #[test]
    fn command_complete() {
        let BackendMessage::CommandComplete(t) = one(b'C', b"INSERT 0 12\0").unwrap() else {
            panic!()
        };
        assert_eq!(t.rows(), Some(12));
        assert_eq!(CommandTag("SELECT 3").rows(), Some(3));
        assert_eq!(CommandTag("CREATE TABLE").rows(), None);
        assert_eq!(
            one(b'C', b"INSERT"),
            Err(DecodeError::MissingNul("CommandComplete"))
        );
        assert_eq!(
            one(b'C', b"\xff\0"),
            Err(DecodeError::InvalidUtf8("CommandComplete"))
        );
    }

    #[test]
    fn copy_responses() {
        let BackendMessage::CopyInResponse(c) = one(b'G', b"\x01\0\x02\0\x01\0\x01").unwrap()
        else {
            panic!()
        };
        assert_eq!(c.format(), Format::Binary);
        assert_eq!(
            c.column_formats().collect::<Vec<_>>(),
            [Format::Binary, Format::Binary]
        );
        assert!(matches!(
            one(b'H', b"\0\0\0"),
            Ok(BackendMessage::CopyOutResponse(_))
        ));
        assert!(matches!(
            one(b'W', b"\0\0\0"),
            Ok(BackendMessage::CopyBothResponse(_))
        ));
        assert!(one(b'G', b"\x02\0\0").is_err());
        assert!(one(b'G', b"\0\0\x02\0\0").is_err());
        assert!(one(b'G', b"\0\0\x01\0\x05").is_err());
        assert_eq!(one(b'd', b"abc"), Ok(BackendMessage::CopyData(b"abc")));
    }

    #[test]
    fn data_row_zero_copy() {
        let mut body = BytesMut::new();
        body.put_i16(3);
        body.put_i32(2);
        body.put_slice(b"hi");
        body.put_i32(-1);
        body.put_i32(0);
        let frame = Bytes::from(msg(b'D', &body));
        let (m, _) = decode(&frame, &Limits::DEFAULT).unwrap().unwrap();
        let BackendMessage::DataRow(row) = m else {
            panic!()
        };
        assert_eq!(
            row.iter().collect::<Vec<_>>(),
            [Some(&b"hi"[..]), None, Some(&b""[..])]
        );
        let owned = row.to_bytes(&frame);
        let col = owned.get_bytes(0).unwrap();
        assert_eq!(&col[..], b"hi");
        assert_eq!(
            col.as_ptr(),
            frame[11..].as_ptr(),
            "column shares the frame's memory"
        );
        assert_eq!(owned.get(1), None);
        assert_eq!(owned.len(), 3);
    }

    #[test]
    fn data_row_malformed() {
        let l = Limits {
            max_columns: 2,
            max_field_len: 3,
            ..Limits::DEFAULT
        };
        let dec = |b: &[u8], l: &Limits| decode(&msg(b'D', b), l).map(|o| o.is_some());
        assert_eq!(
            dec(b"\0\x03", &l),
            Err(DecodeError::TooManyItems {
                what: "column",
                count: 3,
                limit: 2
            })
        );
        assert_eq!(
            dec(b"\0\x01\0\0\0\x04abcd", &l),
            Err(DecodeError::BadFieldLength(4))
        );
        assert_eq!(
            dec(b"\0\x01\xff\xff\xff\xfe", &l),
            Err(DecodeError::BadFieldLength(-2))
        );
        assert_eq!(
            dec(b"\0\x01\0\0\0\x03ab", &l),
            Err(DecodeError::Truncated("DataRow"))
        );
        assert_eq!(
            dec(b"\0\x01\0\0\0\x01abc", &l),
            Err(DecodeError::TrailingBytes("DataRow"))
        );
        assert_eq!(dec(b"\0", &l), Err(DecodeError::Truncated("DataRow")));
        // A count above i16::MAX is read unsigned, not as a negative number.
        assert!(matches!(
            dec(b"\xff\xff", &Limits::DEFAULT),
            Err(DecodeError::TooManyItems { count: 65535, .. })
        ));
    }

    #[test]
    fn error_response_every_field() {
        let body = b"SERROR\0VERROR\0C23505\0Mdup\0Ddetail\0Hhint\0P12\0p3\0qinternal\0Wwhere\0spublic\0tt\0cc\0dint4\0nt_pkey\0Ffile.c\0L42\0Rroutine\0Zunknown\0\0";
        let BackendMessage::ErrorResponse(f) = one(b'E', body).unwrap() else {
            panic!()
        };
        let e = f.to_owned();
        assert_eq!(e.severity, "ERROR");
        assert_eq!(e.severity_nonlocalized.as_deref(), Some("ERROR"));
        assert_eq!(e.code, "23505");
        assert_eq!(e.message, "dup");
        assert_eq!(e.detail.as_deref(), Some("detail"));
        assert_eq!(e.hint.as_deref(), Some("hint"));
        assert_eq!(e.position, Some(12));
        assert_eq!(e.internal_position, Some(3));
        assert_eq!(e.internal_query.as_deref(), Some("internal"));
        assert_eq!(e.where_.as_deref(), Some("where"));
        assert_eq!(e.schema.as_deref(), Some("public"));
        assert_eq!(e.table.as_deref(), Some("t"));
        assert_eq!(e.column.as_deref(), Some("c"));
        assert_eq!(e.datatype.as_deref(), Some("int4"));
        assert_eq!(e.constraint.as_deref(), Some("t_pkey"));
        assert_eq!(e.file.as_deref(), Some("file.c"));
        assert_eq!(e.line, Some(42));
        assert_eq!(e.routine.as_deref(), Some("routine"));
        assert!(!e.is_fatal());
        assert_eq!(f.get(b'Z'), Some("unknown"));
        assert!(matches!(
            one(b'N', b"SNOTICE\0\0"),
            Ok(BackendMessage::NoticeResponse(_))
        ));
        assert!(one(b'E', b"SERROR\0").is_err());
        assert!(one(b'E', b"SERROR").is_err());
        assert!(one(b'E', b"\0x").is_err());
    }

    #[test]
    fn misc_messages() {
        assert_eq!(
            one(b'V', b"\xff\xff\xff\xff"),
            Ok(BackendMessage::FunctionCallResponse(None))
        );
        assert_eq!(
            one(b'V', b"\0\0\0\x01x"),
            Ok(BackendMessage::FunctionCallResponse(Some(b"x")))
        );
        assert!(one(b'V', b"\0\0\0\x02x").is_err());
        let BackendMessage::NegotiateProtocolVersion {
            newest_minor,
            unrecognized,
        } = one(b'v', b"\0\0\0\0\0\0\0\x02_pq_.a\0_pq_.b\0").unwrap()
        else {
            panic!()
        };
        assert_eq!(newest_minor, 0);
        assert_eq!(
            unrecognized.iter().collect::<Vec<_>>(),
            ["_pq_.a", "_pq_.b"]
        );
        assert!(one(b'v', b"\0\0\0\0\xff\xff\xff\xff").is_err());
        assert!(one(b'v', b"\0\0\0\0\0\0\0\x02_pq_.a\0").is_err());
        assert_eq!(
            one(b'A', b"\0\0\0\x05ch\0pay\0"),
            Ok(BackendMessage::NotificationResponse {
                process_id: 5,
                channel: "ch",
                payload: "pay"
            })
        );
        let BackendMessage::ParameterDescription(p) =
            one(b't', b"\0\x02\0\0\0\x17\0\0\0\x19").unwrap()
        else {
            panic!()
        };
        assert_eq!(p.types().collect::<Vec<_>>(), [23, 25]);
        assert!(one(b't', b"\0\x02\0\0\0\x17").is_err());
        assert_eq!(
            one(b'S', b"TimeZone\0UTC\0"),
            Ok(BackendMessage::ParameterStatus {
                name: "TimeZone",
                value: "UTC"
            })
        );
        assert!(one(b'S', b"TimeZone\0").is_err());
        assert!(one(b'Z', b"X").is_err());
        assert!(one(b'Z', b"").is_err());
        assert_eq!(
            one(b'Z', b"E"),
            Ok(BackendMessage::ReadyForQuery(TransactionStatus::Failed))
        );
    }

    #[test]
    fn row_description() {
        let mut b = BytesMut::new();
        b.put_i16(1);
        b.put_slice(b"id\0");
        b.put_u32(1234);
        b.put_i16(1);
        b.put_u32(23);
        b.put_i16(4);
        b.put_i32(-1);
        b.put_i16(1);
        let BackendMessage::RowDescription(r) = one(b'T', &b).unwrap() else {
            panic!()
        };
        let f: Vec<_> = r.iter().collect();
        assert_eq!(
            f,
            [FieldDescription {
                name: "id",
                table_oid: 1234,
                column_id: 1,
                type_oid: 23,
                type_size: 4,
                type_modifier: -1,
                format: Format::Binary
            }]
        );
        let mut bad = b.clone();
        bad[b.len() - 1] = 7;
        assert_eq!(
            one(b'T', &bad),
            Err(DecodeError::InvalidValue("format code"))
        );
        assert!(one(b'T', &b[..b.len() - 1]).is_err());
    }

    #[test]
    fn split_invariance_on_a_stream() {
        let mut s = Vec::new();
        s.extend(msg(b'R', &[0, 0, 0, 0]));
        s.extend(msg(b'S', b"a\0b\0"));
        s.extend(msg(b'D', b"\0\x01\0\0\0\x01x"));
        s.extend(msg(b'Z', b"I"));
        s.extend(b"D\0\0");
        assert_eq!(check_split_invariance(&s, &Limits::DEFAULT), 4);
        s.extend(b"\0\x05\0");
        assert_eq!(check_split_invariance(&s, &Limits::DEFAULT), 4);
    }
}
