//! Frontend (client to server) message encoders.
//!
//! Each function appends one complete message to a `BytesMut`; on error
//! nothing is appended. Formats: PostgreSQL manual, "Frontend/Backend
//! Protocol" > "Message Formats" (55.7 in PG16).

use bytes::{BufMut, BytesMut};

use super::{Format, Oid};
use crate::error::EncodeError;

/// Protocol version 3.0 as sent in `StartupMessage` (196608).
pub const PROTOCOL_3_0: i32 = 3 << 16;
/// Protocol version 3.2 (PostgreSQL 18), which allows longer cancel keys.
pub const PROTOCOL_3_2: i32 = (3 << 16) | 2;
/// `SSLRequest` code (80877103).
pub const SSL_REQUEST_CODE: i32 = (1234 << 16) | 5679;
/// `GSSENCRequest` code (80877104).
pub const GSSENC_REQUEST_CODE: i32 = (1234 << 16) | 5680;
/// `CancelRequest` code (80877102).
pub const CANCEL_REQUEST_CODE: i32 = (1234 << 16) | 5678;

/// Which object a `Describe` or `Close` refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A prepared statement (`'S'`).
    Statement,
    /// A portal (`'P'`).
    Portal,
}

impl Target {
    fn byte(self) -> u8 {
        match self {
            Target::Statement => b'S',
            Target::Portal => b'P',
        }
    }
}

/// Writes a message: optional type byte, then a length placeholder filled
/// once `body` has written. Rolls back on error.
fn message(
    buf: &mut BytesMut,
    tag: Option<u8>,
    body: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    if let Some(t) = tag {
        buf.put_u8(t);
    }
    let len_at = buf.len();
    buf.put_i32(0);
    if let Err(e) = body(buf) {
        buf.truncate(start);
        return Err(e);
    }
    let len = buf.len() - len_at;
    let Ok(len) = i32::try_from(len) else {
        buf.truncate(start);
        return Err(EncodeError::TooLong);
    };
    buf[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn cstr(buf: &mut BytesMut, s: &str, what: &'static str) -> Result<(), EncodeError> {
    if memchr::memchr(0, s.as_bytes()).is_some() {
        return Err(EncodeError::NulInString(what));
    }
    buf.put_slice(s.as_bytes());
    buf.put_u8(0);
    Ok(())
}

fn count_i16(n: usize, what: &'static str) -> Result<i16, EncodeError> {
    // Counts are sent as Int16 but the server reads them as uint16.
    u16::try_from(n)
        .map(|v| v as i16)
        .map_err(|_| EncodeError::TooMany(what))
}

fn len_i32(n: usize) -> Result<i32, EncodeError> {
    i32::try_from(n).map_err(|_| EncodeError::TooLong)
}

/// `StartupMessage`: protocol version then name/value pairs, terminated by
/// an empty name. `user` is required by the server; `database`,
/// `application_name`, `options`, `client_encoding` and any run-time
/// parameter may follow.
pub fn startup_message<'a>(
    buf: &mut BytesMut,
    version: i32,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), EncodeError> {
    message(buf, None, |b| {
        b.put_i32(version);
        for (k, v) in params {
            if k.is_empty() {
                return Err(EncodeError::Value("empty startup parameter name".into()));
            }
            cstr(b, k, "startup parameter name")?;
            cstr(b, v, "startup parameter value")?;
        }
        b.put_u8(0);
        Ok(())
    })
}

/// `SSLRequest`: asks the server whether it will speak TLS. The answer is
/// a single byte, `S` or `N`.
pub fn ssl_request(buf: &mut BytesMut) {
    buf.put_i32(8);
    buf.put_i32(SSL_REQUEST_CODE);
}

/// `GSSENCRequest`: asks for GSSAPI encryption; the answer is `G` or `N`.
pub fn gssenc_request(buf: &mut BytesMut) {
    buf.put_i32(8);
    buf.put_i32(GSSENC_REQUEST_CODE);
}

/// `CancelRequest`, sent on a fresh connection: the process ID and secret
/// key from `BackendKeyData`. The key is 4 bytes under protocol 3.0 and up
/// to 256 bytes under 3.2.
pub fn cancel_request(
    buf: &mut BytesMut,
    process_id: i32,
    secret_key: &[u8],
) -> Result<(), EncodeError> {
    if secret_key.len() > 256 {
        return Err(EncodeError::TooLong);
    }
    message(buf, None, |b| {
        b.put_i32(CANCEL_REQUEST_CODE);
        b.put_i32(process_id);
        b.put_slice(secret_key);
        Ok(())
    })
}

/// `PasswordMessage` (`p`) carrying a cleartext or MD5-hashed password.
pub fn password_message(buf: &mut BytesMut, password: &[u8]) -> Result<(), EncodeError> {
    if memchr::memchr(0, password).is_some() {
        return Err(EncodeError::NulInString("password"));
    }
    message(buf, Some(b'p'), |b| {
        b.put_slice(password);
        b.put_u8(0);
        Ok(())
    })
}

/// `SASLInitialResponse` (`p`): the chosen mechanism and the optional
/// initial client response (length -1 when absent).
pub fn sasl_initial_response(
    buf: &mut BytesMut,
    mechanism: &str,
    data: Option<&[u8]>,
) -> Result<(), EncodeError> {
    message(buf, Some(b'p'), |b| {
        cstr(b, mechanism, "SASL mechanism")?;
        match data {
            Some(d) => {
                b.put_i32(len_i32(d.len())?);
                b.put_slice(d);
            }
            None => b.put_i32(-1),
        }
        Ok(())
    })
}

/// `SASLResponse` (`p`): a subsequent SASL message.
pub fn sasl_response(buf: &mut BytesMut, data: &[u8]) -> Result<(), EncodeError> {
    message(buf, Some(b'p'), |b| {
        b.put_slice(data);
        Ok(())
    })
}

/// `Query` (`Q`): a simple query string, possibly several statements.
pub fn query(buf: &mut BytesMut, sql: &str) -> Result<(), EncodeError> {
    message(buf, Some(b'Q'), |b| cstr(b, sql, "query"))
}

/// `Parse` (`P`): prepares `sql` as statement `name` (empty = unnamed) with
/// the given parameter type OIDs (0 = let the server infer).
pub fn parse(
    buf: &mut BytesMut,
    name: &str,
    sql: &str,
    param_types: &[Oid],
) -> Result<(), EncodeError> {
    message(buf, Some(b'P'), |b| {
        cstr(b, name, "statement name")?;
        cstr(b, sql, "query")?;
        b.put_i16(count_i16(param_types.len(), "parameter types")?);
        for t in param_types {
            b.put_u32(*t);
        }
        Ok(())
    })
}

/// What a parameter writer produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsNull {
    /// The value was written.
    No,
    /// The value is SQL NULL; nothing was written.
    Yes,
}

/// `Bind` (`B`) with parameters written in place by `write_param(i, buf)`,
/// so values are serialized straight into the output buffer. The closure
/// returns [`IsNull::Yes`] for NULL (and must then write nothing).
///
/// `param_formats` follows the protocol: empty (all text), one (applies to
/// all) or one per parameter; likewise `result_formats`.
pub fn bind_with(
    buf: &mut BytesMut,
    portal: &str,
    statement: &str,
    param_formats: &[Format],
    param_count: usize,
    mut write_param: impl FnMut(usize, &mut BytesMut) -> Result<IsNull, EncodeError>,
    result_formats: &[Format],
) -> Result<(), EncodeError> {
    message(buf, Some(b'B'), |b| {
        cstr(b, portal, "portal name")?;
        cstr(b, statement, "statement name")?;
        b.put_i16(count_i16(param_formats.len(), "parameter formats")?);
        for f in param_formats {
            b.put_i16(f.code());
        }
        b.put_i16(count_i16(param_count, "parameters")?);
        for i in 0..param_count {
            let len_at = b.len();
            b.put_i32(0);
            match write_param(i, b)? {
                IsNull::Yes => {
                    b.truncate(len_at + 4);
                    b[len_at..len_at + 4].copy_from_slice(&(-1i32).to_be_bytes());
                }
                IsNull::No => {
                    let n = len_i32(b.len() - len_at - 4)?;
                    b[len_at..len_at + 4].copy_from_slice(&n.to_be_bytes());
                }
            }
        }
        b.put_i16(count_i16(result_formats.len(), "result formats")?);
        for f in result_formats {
            b.put_i16(f.code());
        }
        Ok(())
    })
}

/// `Bind` (`B`) with already-serialized parameter values (`None` = NULL).
pub fn bind(
    buf: &mut BytesMut,
    portal: &str,
    statement: &str,
    param_formats: &[Format],
    params: &[Option<&[u8]>],
    result_formats: &[Format],
) -> Result<(), EncodeError> {
    bind_with(
        buf,
        portal,
        statement,
        param_formats,
        params.len(),
        |i, b| match params[i] {
            Some(v) => {
                b.put_slice(v);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        },
        result_formats,
    )
}

/// `Describe` (`D`) of a statement or portal.
pub fn describe(buf: &mut BytesMut, target: Target, name: &str) -> Result<(), EncodeError> {
    message(buf, Some(b'D'), |b| {
        b.put_u8(target.byte());
        cstr(b, name, "describe name")
    })
}

/// `Execute` (`E`): runs a portal, returning at most `max_rows` rows
/// (0 = no limit); a limited run ends in `PortalSuspended`.
pub fn execute(buf: &mut BytesMut, portal: &str, max_rows: u32) -> Result<(), EncodeError> {
    let max = i32::try_from(max_rows)
        .map_err(|_| EncodeError::Value("max_rows above i32::MAX".into()))?;
    message(buf, Some(b'E'), |b| {
        cstr(b, portal, "portal name")?;
        b.put_i32(max);
        Ok(())
    })
}

/// `Sync` (`S`): ends an extended-query block; answered by `ReadyForQuery`.
pub fn sync(buf: &mut BytesMut) {
    buf.put_u8(b'S');
    buf.put_i32(4);
}

/// `Flush` (`H`): asks the server to send its pending output.
pub fn flush(buf: &mut BytesMut) {
    buf.put_u8(b'H');
    buf.put_i32(4);
}

/// `Close` (`C`) of a statement or portal.
pub fn close(buf: &mut BytesMut, target: Target, name: &str) -> Result<(), EncodeError> {
    message(buf, Some(b'C'), |b| {
        b.put_u8(target.byte());
        cstr(b, name, "close name")
    })
}

/// `CopyData` (`d`): a chunk of COPY FROM STDIN data.
pub fn copy_data(buf: &mut BytesMut, data: &[u8]) -> Result<(), EncodeError> {
    len_i32(data.len() + 4)?;
    buf.reserve(5 + data.len());
    buf.put_u8(b'd');
    buf.put_i32((data.len() + 4) as i32);
    buf.put_slice(data);
    Ok(())
}

/// `CopyDone` (`c`): ends COPY FROM STDIN successfully.
pub fn copy_done(buf: &mut BytesMut) {
    buf.put_u8(b'c');
    buf.put_i32(4);
}

/// `CopyFail` (`f`): aborts COPY FROM STDIN with an error message.
pub fn copy_fail(buf: &mut BytesMut, message_text: &str) -> Result<(), EncodeError> {
    message(buf, Some(b'f'), |b| {
        cstr(b, message_text, "copy failure message")
    })
}

/// `FunctionCall` (`F`), the legacy fast-path interface.
pub fn function_call(
    buf: &mut BytesMut,
    function: Oid,
    arg_formats: &[Format],
    args: &[Option<&[u8]>],
    result_format: Format,
) -> Result<(), EncodeError> {
    message(buf, Some(b'F'), |b| {
        b.put_u32(function);
        b.put_i16(count_i16(arg_formats.len(), "argument formats")?);
        for f in arg_formats {
            b.put_i16(f.code());
        }
        b.put_i16(count_i16(args.len(), "arguments")?);
        for a in args {
            match a {
                Some(v) => {
                    b.put_i32(len_i32(v.len())?);
                    b.put_slice(v);
                }
                None => b.put_i32(-1),
            }
        }
        b.put_i16(result_format.code());
        Ok(())
    })
}

/// `Terminate` (`X`): announces a clean close.
pub fn terminate(buf: &mut BytesMut) {
    buf.put_u8(b'X');
    buf.put_i32(4);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_layout() {
        let mut b = BytesMut::new();
        startup_message(&mut b, PROTOCOL_3_0, [("user", "u"), ("database", "d")]).unwrap();
        let mut want = Vec::new();
        want.extend_from_slice(&(4 + 4 + 5 + 2 + 9 + 2 + 1i32).to_be_bytes());
        want.extend_from_slice(&196608i32.to_be_bytes());
        want.extend_from_slice(b"user\0u\0database\0d\0\0");
        assert_eq!(&b[..], &want[..]);
    }

    #[test]
    fn nul_rolls_back() {
        let mut b = BytesMut::from(&b"xy"[..]);
        assert_eq!(
            query(&mut b, "a\0b"),
            Err(EncodeError::NulInString("query"))
        );
        assert_eq!(&b[..], b"xy");
        assert!(parse(&mut b, "s", "q", &vec![0; 70000]).is_err());
        assert_eq!(&b[..], b"xy");
    }

    #[test]
    fn fixed_messages() {
        let mut b = BytesMut::new();
        ssl_request(&mut b);
        assert_eq!(&b[..], &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
        b.clear();
        gssenc_request(&mut b);
        assert_eq!(&b[..], &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]);
        b.clear();
        sync(&mut b);
        flush(&mut b);
        copy_done(&mut b);
        terminate(&mut b);
        assert_eq!(&b[..], b"S\0\0\0\x04H\0\0\0\x04c\0\0\0\x04X\0\0\0\x04");
    }

    #[test]
    fn cancel_lengths() {
        let mut b = BytesMut::new();
        cancel_request(&mut b, 7, &[1, 2, 3, 4]).unwrap();
        assert_eq!(
            &b[..],
            &[0, 0, 0, 16, 4, 0xd2, 0x16, 0x2e, 0, 0, 0, 7, 1, 2, 3, 4]
        );
        b.clear();
        cancel_request(&mut b, 7, &[9; 32]).unwrap();
        assert_eq!(b.len(), 44);
        assert_eq!(&b[..4], &44i32.to_be_bytes());
        assert!(cancel_request(&mut b, 7, &[0; 257]).is_err());
    }

    #[test]
    fn bind_with_nulls() {
        let mut b = BytesMut::new();
        bind(
            &mut b,
            "",
            "s1",
            &[Format::Binary],
            &[Some(b"ab"), None],
            &[Format::Text],
        )
        .unwrap();
        let want: &[u8] =
            b"B\0\0\0\x1c\0s1\0\0\x01\0\x01\0\x02\0\0\0\x02ab\xff\xff\xff\xff\0\x01\0\0";
        assert_eq!(&b[..], want);
    }

    #[test]
    fn other_layouts() {
        let mut b = BytesMut::new();
        parse(&mut b, "s", "select $1", &[23]).unwrap();
        assert_eq!(&b[..], b"P\0\0\0\x16s\0select $1\0\0\x01\0\0\0\x17");
        b.clear();
        describe(&mut b, Target::Portal, "p").unwrap();
        execute(&mut b, "p", 5).unwrap();
        close(&mut b, Target::Statement, "s").unwrap();
        assert_eq!(
            &b[..],
            b"D\0\0\0\x07Pp\0E\0\0\0\x0ap\0\0\0\0\x05C\0\0\0\x07Ss\0"
        );
        b.clear();
        sasl_initial_response(&mut b, "SCRAM-SHA-256", Some(b"n,,")).unwrap();
        assert_eq!(&b[..], b"p\0\0\0\x19SCRAM-SHA-256\0\0\0\0\x03n,,");
        b.clear();
        copy_data(&mut b, b"1\n").unwrap();
        copy_fail(&mut b, "no").unwrap();
        password_message(&mut b, b"pw").unwrap();
        sasl_response(&mut b, b"x").unwrap();
        assert_eq!(
            &b[..],
            b"d\0\0\0\x061\nf\0\0\0\x07no\0p\0\0\0\x07pw\0p\0\0\0\x05x"
        );
        b.clear();
        function_call(&mut b, 1, &[], &[None], Format::Binary).unwrap();
        assert_eq!(
            &b[..],
            b"F\0\0\0\x12\0\0\0\x01\0\0\0\x01\xff\xff\xff\xff\0\x01"
        );
    }
}
