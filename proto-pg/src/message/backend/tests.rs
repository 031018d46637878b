//! Decoder tests: every message, malformed and truncated input.

use super::*;
use bytes::{BufMut, Bytes, BytesMut};

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
    let BackendMessage::CopyInResponse(c) = one(b'G', b"\x01\0\x02\0\x01\0\x01").unwrap() else {
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
    assert_eq!(owned.get(2), Some(&b""[..]));
    assert_eq!(owned.get(3), None);
    assert_eq!(owned.len(), 3);
    // `get` agrees with the iterator at every position.
    for (i, v) in row.iter().enumerate() {
        assert_eq!(row.get(i), v);
    }
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
    let BackendMessage::ParameterDescription(p) = one(b't', b"\0\x02\0\0\0\x17\0\0\0\x19").unwrap()
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
