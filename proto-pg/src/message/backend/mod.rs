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

use super::Format;
use crate::error::DecodeError;
use crate::limits::Limits;

mod body;
mod encode;
mod fields;
pub(crate) mod reader;

use body::read_field;
pub use body::{
    CStrings, CommandTag, CopyResponse, DataRow, DataRowIter, FieldDescription,
    ParameterDescription, RowDescription,
};
pub use fields::{ErrorFields, ServerError};
pub(crate) use reader::Reader;

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
        /// Newest protocol version the server supports. The manual calls
        /// it the minor version, but PostgreSQL sends the whole version
        /// number (major << 16 | minor: 196608 for 3.0).
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
mod tests;
