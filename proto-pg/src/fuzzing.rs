//! Invariant checks shared by the fuzz targets and the unit tests.
//!
//! Each function panics when an invariant breaks, so a fuzzer reports it;
//! on well-behaved code it returns normally for every input.

use std::time::Instant;

use bytes::BytesMut;

use crate::conn::{Config, Connection};
use crate::limits::Limits;
use crate::message::Format;
use crate::message::backend;

/// Small limits so the fuzzer reaches the limit checks.
pub const FUZZ_LIMITS: Limits = Limits {
    max_message_len: 4096,
    max_columns: 16,
    max_field_len: 1024,
    max_params: 16,
};

/// Backend decoder: whole-buffer and byte-at-a-time decoding agree, and
/// every decoded message re-encodes to bytes that decode the same.
/// Returns the number of messages decoded.
pub fn backend_split(data: &[u8]) -> usize {
    backend::check_split_invariance(data, &FUZZ_LIMITS)
}

/// AuthenticationOk, BackendKeyData and ReadyForQuery(Idle).
const READY: &[u8] = b"R\0\0\0\x08\0\0\0\0K\0\0\0\x0c\0\0\0\x2a\x01\x02\x03\x04Z\0\0\0\x05I";

struct Run {
    events: Vec<String>,
    error: Option<String>,
    tx: Vec<u8>,
}

fn run<'a>(ready: bool, chunks: impl Iterator<Item = &'a [u8]>) -> Run {
    let cfg = Config {
        limits: FUZZ_LIMITS,
        ..Config::new("fuzz")
            .password("pw")
            .scram_nonce("clientnonce")
    };
    let now = Instant::now();
    let mut conn = Connection::new(cfg).expect("valid config");
    let mut events = Vec::new();
    let mut tx = BytesMut::new();
    let mut ids = Vec::new();
    if ready {
        let mut b = BytesMut::from(READY);
        conn.handle_input(now, &mut b).expect("canned start-up");
        assert!(conn.is_ready());
        while let Some(e) = conn.poll_event() {
            events.push(e);
        }
        ids.push(conn.simple_query("SELECT 1").unwrap());
        ids.push(
            conn.query("SELECT $1", &[], &[Format::Text], &[Some(b"1")], &[])
                .unwrap(),
        );
        ids.push(conn.prepare("s", "SELECT 2", &[]).unwrap());
        ids.push(conn.bind("p", "s", &[], &[], &[Format::Binary]).unwrap());
        ids.push(conn.execute("p", 2).unwrap());
        ids.push(conn.execute("p", 0).unwrap());
        ids.push(conn.close_portal("p").unwrap());
        ids.push(conn.sync().unwrap());
        ids.push(conn.simple_query("COPY t FROM STDIN").unwrap());
        ids.push(conn.function_call(1, &[], &[None], Format::Binary).unwrap());
    }
    let mut buf = BytesMut::new();
    let mut error = None;
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        let r = conn.handle_input(now, &mut buf);
        let _ = conn.poll_transmit(&mut tx);
        while let Some(e) = conn.poll_event() {
            events.push(e);
        }
        if let Err(e) = r {
            // Sticky.
            assert_eq!(
                format!("{:?}", conn.handle_input(now, &mut BytesMut::new())),
                format!("{:?}", Err::<(), _>(e.clone()))
            );
            error = Some(format!("{e:?}"));
            break;
        }
    }
    // Whatever the setup produced, even with no input at all.
    let _ = conn.poll_transmit(&mut tx);
    while let Some(e) = conn.poll_event() {
        events.push(e);
    }
    // Per request: nothing after its terminal event, terminals in FIFO order.
    let mut done = Vec::new();
    for e in &events {
        if let Some(id) = e.request() {
            assert!(!done.contains(&id), "event after the end of {id}: {e:?}");
            if e.is_terminal() {
                if let Some(last) = done.last() {
                    assert!(*last < id, "requests ended out of order");
                }
                done.push(id);
            }
        }
    }
    for id in &done {
        assert!(ids.contains(id));
    }
    Run {
        events: events.iter().map(|e| format!("{e:?}")).collect(),
        error,
        tx: tx.to_vec(),
    }
}

/// Client connection: the first byte picks the scenario (odd: start-up
/// already done and a pipeline of requests queued; even: the input drives
/// start-up and authentication). The rest is server input, fed whole and
/// then a byte at a time: both give the same events, error and output.
pub fn client_conn_split(data: &[u8]) {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let ready = mode & 1 == 1;
    let whole = run(ready, std::iter::once(input));
    let bytes = run(ready, input.chunks(1));
    assert_eq!(whole.events, bytes.events);
    assert_eq!(whole.error, bytes.error);
    assert_eq!(whole.tx, bytes.tx);
}

/// Decodes `raw` as `T` and, when that succeeds, checks the value
/// re-encodes in the same format to bytes that decode to the same value.
fn value_round_trip<T>(
    oid: crate::message::Oid,
    format: Format,
    raw: &[u8],
    same: fn(&T, &T) -> bool,
) where
    T: crate::types::ToSql + for<'b> crate::types::FromSql<'b> + std::fmt::Debug,
{
    use crate::types::{decode_column, encode};
    let Ok(v) = decode_column::<T>(oid, format, Some(raw)) else {
        return;
    };
    let again = encode(&v, oid, format)
        .unwrap_or_else(|e| panic!("{v:?} decoded from {raw:?} does not re-encode: {e}"));
    let back = decode_column::<T>(oid, format, again.as_deref())
        .unwrap_or_else(|e| panic!("{v:?} re-encoded as {again:?} does not decode: {e}"));
    assert!(same(&v, &back), "{v:?} came back as {back:?}");
}

/// Column values: the first byte picks the format (even: binary, odd:
/// text), the rest is decoded as every built-in type. Decoding never
/// panics, and every value that decodes re-encodes to bytes that decode
/// to the same value.
pub fn type_values(data: &[u8]) {
    use crate::types::{
        Array, Date, Inet, Interval, Json, Numeric, Time, TimeTz, Timestamp, Uuid, oid,
    };
    let Some((&mode, raw)) = data.split_first() else {
        return;
    };
    let format = if mode % 2 == 0 {
        Format::Binary
    } else {
        Format::Text
    };
    fn eq<T: PartialEq>(a: &T, b: &T) -> bool {
        a == b
    }
    macro_rules! each {
        ($($t:ty => [$($oid:expr),*] by $same:expr;)*) => {
            $($(value_round_trip::<$t>($oid, format, raw, $same);)*)*
        };
    }
    fn f32_bits(a: &f32, b: &f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }
    fn f64_bits(a: &f64, b: &f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }
    each! {
        bool => [oid::BOOL] by eq;
        i8 => [oid::CHAR] by eq;
        i16 => [oid::INT2] by eq;
        i32 => [oid::INT4] by eq;
        i64 => [oid::INT8] by eq;
        u32 => [oid::OID] by eq;
        f32 => [oid::FLOAT4] by f32_bits;
        f64 => [oid::FLOAT8] by f64_bits;
        String => [oid::TEXT, oid::NAME] by eq;
        Vec<u8> => [oid::BYTEA] by eq;
        Uuid => [oid::UUID] by eq;
        Json => [oid::JSON, oid::JSONB] by eq;
        Numeric => [oid::NUMERIC] by eq;
        Date => [oid::DATE] by eq;
        Time => [oid::TIME] by eq;
        TimeTz => [oid::TIMETZ] by eq;
        Timestamp => [oid::TIMESTAMP, oid::TIMESTAMPTZ] by eq;
        Interval => [oid::INTERVAL] by eq;
        Inet => [oid::INET, oid::CIDR] by eq;
        Array<Option<i32>> => [1007] by eq;
        Array<Option<String>> => [1009] by eq;
        Array<Option<Numeric>> => [1231] by eq;
        Array<Option<Timestamp>> => [1185] by eq;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn conn_split_on_a_realistic_stream() {
        let mut s = vec![1u8];
        // simple query
        s.extend(msg(
            b'T',
            b"\0\x01a\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0",
        ));
        s.extend(msg(b'D', b"\0\x01\0\0\0\x011"));
        s.extend(msg(b'N', b"SNOTICE\0Mhi\0\0"));
        s.extend(msg(b'C', b"SELECT 1\0"));
        s.extend(msg(b'Z', b"I"));
        // query(): parse, bind, describe, execute, sync
        s.extend(msg(b'1', b""));
        s.extend(msg(b'2', b""));
        s.extend(msg(b'n', b""));
        s.extend(msg(b'C', b"SET\0"));
        s.extend(msg(b'Z', b"I"));
        // prepare fails: the rest of the block is skipped until Sync.
        s.extend(msg(b'E', b"SERROR\0C42601\0Msyntax\0\0"));
        s.extend(msg(b'A', b"\0\0\0\x01ch\0x\0"));
        s.extend(msg(b'Z', b"I"));
        // COPY FROM STDIN
        s.extend(msg(b'G', b"\0\0\0"));
        s.extend(msg(b'C', b"COPY 0\0"));
        s.extend(msg(b'Z', b"I"));
        client_conn_split(&s);
        let r = run(true, std::iter::once(&s[1..]));
        assert_eq!(r.error, None);
        let terminals = r
            .events
            .iter()
            .filter(|e| e.starts_with("Done") || e.starts_with("Failed"))
            .count();
        assert_eq!(terminals, 9, "{:#?}", r.events);
        assert_eq!(
            r.events
                .iter()
                .filter(|e| e.contains("skipped: true"))
                .count(),
            4
        );
    }

    #[test]
    fn conn_split_on_startup_and_garbage() {
        let mut s = vec![0u8];
        s.extend(msg(b'R', b"\0\0\0\x05abcd"));
        s.extend(msg(b'R', b"\0\0\0\0"));
        s.extend(msg(b'S', b"a\0b\0"));
        s.extend(READY);
        client_conn_split(&s);
        client_conn_split(b"\0R\0\0\0\x08\0\0\0\x0a");
        client_conn_split(b"\x01D\xff\xff\xff\xff");
        client_conn_split(b"\x01Z\0\0\0\x05X");
        client_conn_split(b"");
        assert_eq!(backend_split(&s[1..]), 6);
    }
}
