//! Connection tests against a scripted server: hostile and rare inputs a
//! real server will not produce on demand.

use super::*;

fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn feed(c: &mut Connection, bytes: &[u8]) -> Result<Vec<Event>, Error> {
    let mut b = BytesMut::from(bytes);
    let r = c.handle_input(Instant::now(), &mut b);
    let mut ev = Vec::new();
    while let Some(e) = c.poll_event() {
        ev.push(e);
    }
    r.map(|_| ev)
}

fn sent(c: &mut Connection) -> Vec<u8> {
    let mut b = BytesMut::new();
    let _ = c.poll_transmit(&mut b);
    b.to_vec()
}

fn ready() -> Connection {
    let mut c = Connection::new(Config::new("u").password("pw").scram_nonce("abc")).unwrap();
    sent(&mut c);
    let mut s = msg(b'R', &[0, 0, 0, 0]);
    s.extend(msg(b'K', &[0, 0, 0, 1, 9, 9, 9, 9]));
    s.extend(msg(b'Z', b"I"));
    let ev = feed(&mut c, &s).unwrap();
    assert!(matches!(ev[..], [Event::Connected]));
    c
}

fn error_body(code: &str, severity: &str) -> Vec<u8> {
    format!("S{severity}\0C{code}\0Mboom\0\0").into_bytes()
}

#[test]
fn startup_message_params() {
    let mut c = Connection::new(
        Config::new("u")
            .database("d")
            .application_name("a")
            .param("datestyle", "ISO, DMY"),
    )
    .unwrap();
    let out = sent(&mut c);
    assert_eq!(&out[4..8], &196608i32.to_be_bytes());
    assert_eq!(
        &out[8..],
        b"user\0u\0client_encoding\0UTF8\0database\0d\0application_name\0a\0datestyle\0ISO, DMY\0\
          IntervalStyle\0postgres\0extra_float_digits\x003\0\0"
    );
    assert_eq!(c.simple_query("x"), Err(UsageError::NotReady));
}

#[test]
fn md5_and_cleartext_replies() {
    let mut c = Connection::new(Config::new("user").password("secret")).unwrap();
    sent(&mut c);
    feed(&mut c, &msg(b'R', &[0, 0, 0, 5, 1, 2, 3, 4])).unwrap();
    assert_eq!(
        sent(&mut c),
        msg(b'p', b"md5fccef98e4f1cf6cbe96b743fad4e8bd0\0")
    );
    feed(&mut c, &msg(b'R', &[0, 0, 0, 0])).unwrap();

    let mut c = Connection::new(Config::new("user").password("secret")).unwrap();
    sent(&mut c);
    feed(&mut c, &msg(b'R', &[0, 0, 0, 3])).unwrap();
    assert_eq!(sent(&mut c), msg(b'p', b"secret\0"));
    // A second password request is out of sequence.
    let e = feed(&mut c, &msg(b'R', &[0, 0, 0, 3])).unwrap_err();
    assert!(matches!(e, Error::Auth(AuthError::Unexpected)));
}

#[test]
fn refused_methods() {
    for (code, name) in [
        (2u8, "Kerberos V5"),
        (7, "GSSAPI"),
        (9, "SSPI"),
        (6, "SCM credential"),
    ] {
        let mut c = Connection::new(Config::new("u").password("p")).unwrap();
        let e = feed(&mut c, &msg(b'R', &[0, 0, 0, code])).unwrap_err();
        assert!(
            matches!(e, Error::Auth(AuthError::Unsupported(n)) if n == name),
            "{e}"
        );
        assert!(e.to_string().contains("does not support"));
    }
    let mut c = Connection::new(Config::new("u").password("p").scram_nonce("n")).unwrap();
    let e = feed(&mut c, &msg(b'R', b"\0\0\0\x0aSCRAM-SHA-256-PLUS\0\0")).unwrap_err();
    assert!(e.to_string().contains("needs TLS"), "{e}");
}

#[test]
fn scram_exchange_checks_the_server() {
    let mut c = Connection::new(Config::new("u").password("pencil").scram_nonce("abc")).unwrap();
    sent(&mut c);
    feed(
        &mut c,
        &msg(b'R', b"\0\0\0\x0aSCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"),
    )
    .unwrap();
    assert_eq!(
        sent(&mut c),
        msg(b'p', b"SCRAM-SHA-256\0\0\0\0\x0bn,,n=,r=abc")
    );
    feed(
        &mut c,
        &msg(b'R', b"\0\0\0\x0br=abcdef,s=QSXCR+Q6sek8bf92,i=4096"),
    )
    .unwrap();
    let out = sent(&mut c);
    assert!(
        out[5..].starts_with(b"c=biws,r=abcdef,p=") && out.len() == 5 + 18 + 44,
        "{:?}",
        String::from_utf8_lossy(&out)
    );
    let e = feed(
        &mut c,
        &msg(
            b'R',
            b"\0\0\0\x0cv=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Auth(AuthError::ServerSignature)));
    // Sticky.
    assert!(matches!(
        feed(&mut c, b""),
        Err(Error::Auth(AuthError::ServerSignature))
    ));

    let mut c = Connection::new(Config::new("u").password("pencil").scram_nonce("abc")).unwrap();
    feed(&mut c, &msg(b'R', b"\0\0\0\x0aSCRAM-SHA-256\0\0")).unwrap();
    let e = feed(
        &mut c,
        &msg(b'R', b"\0\0\0\x0br=abcdef,s=QSXCR+Q6sek8bf92,i=100"),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Auth(AuthError::Iterations(100))));
    // AuthenticationOk before the SCRAM exchange finished is refused.
    let mut c = Connection::new(Config::new("u").password("pencil").scram_nonce("abc")).unwrap();
    feed(&mut c, &msg(b'R', b"\0\0\0\x0aSCRAM-SHA-256\0\0")).unwrap();
    assert!(feed(&mut c, &msg(b'R', &[0, 0, 0, 0])).is_err());
}

#[test]
fn ssl_answers() {
    let mut c = Connection::new(Config::new("u").ssl_mode(SslMode::Prefer)).unwrap();
    assert_eq!(sent(&mut c), [0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f]);
    let mut s = b"N".to_vec();
    s.extend(msg(b'R', &[0, 0, 0, 0]));
    feed(&mut c, &s).unwrap();
    assert!(sent(&mut c).ends_with(
        b"user\0u\0client_encoding\0UTF8\0DateStyle\0ISO\0IntervalStyle\0postgres\0\
          extra_float_digits\x003\0\0"
    ));
    let mut c = Connection::new(Config::new("u").ssl_mode(SslMode::Prefer)).unwrap();
    assert!(matches!(feed(&mut c, b"S"), Err(Error::TlsUnavailable(_))));
}

#[test]
fn startup_error_and_negotiation() {
    let mut c = Connection::new(Config::new("u")).unwrap();
    let e = feed(&mut c, &msg(b'E', &error_body("3D000", "FATAL"))).unwrap_err();
    assert!(matches!(&e, Error::Server(s) if s.code == "3D000" && s.is_fatal()));

    let mut c = Connection::new(Config {
        protocol_minor: 2,
        ..Config::new("u")
    })
    .unwrap();
    assert_eq!(&sent(&mut c)[4..8], &196610i32.to_be_bytes());
    assert_eq!(c.protocol_minor(), 2);
    feed(&mut c, &msg(b'v', b"\0\0\0\0\0\0\0\0")).unwrap();
    assert_eq!(c.protocol_minor(), 0);
    // As PostgreSQL sends it: the whole version number, 3.1 here.
    let mut c2 = Connection::new(Config {
        protocol_minor: 2,
        ..Config::new("u")
    })
    .unwrap();
    let _ = sent(&mut c2);
    feed(&mut c2, &msg(b'v', b"\0\x03\0\x01\0\0\0\0")).unwrap();
    assert_eq!(c2.protocol_minor(), 1);
    let mut c3 = Connection::new(Config {
        protocol_minor: 2,
        ..Config::new("u")
    })
    .unwrap();
    let _ = sent(&mut c3);
    assert!(matches!(
        feed(&mut c3, &msg(b'v', b"\0\x04\0\0\0\0\0\0")),
        Err(Error::ProtocolVersion(_))
    ));
    let mut s = msg(b'R', &[0, 0, 0, 0]);
    s.extend(msg(b'K', &[[0, 0, 0, 7].as_slice(), &[5u8; 32]].concat()));
    s.extend(msg(b'Z', b"I"));
    feed(&mut c, &s).unwrap();
    let key = c.backend_key().unwrap();
    assert_eq!(key.secret_key.len(), 32);
    let mut b = BytesMut::new();
    key.encode_cancel(&mut b);
    assert_eq!(b.len(), 16 + 28);
}

#[test]
fn unexpected_and_malformed_input_is_fatal_and_sticky() {
    let mut c = ready();
    let e = feed(&mut c, &msg(b'D', b"\0\0")).unwrap_err();
    assert!(matches!(
        e,
        Error::Unexpected {
            tag: b'D',
            state: "idle"
        }
    ));
    assert_eq!(c.simple_query("x"), Err(UsageError::Closed));

    let mut c = ready();
    c.simple_query("x").unwrap();
    let e = feed(&mut c, &msg(b'2', b"")).unwrap_err();
    assert!(matches!(e, Error::Unexpected { tag: b'2', .. }));

    let mut c = ready();
    c.simple_query("x").unwrap();
    assert!(matches!(
        feed(&mut c, &msg(b'D', b"\0\x01\0\0\0\x05ab")),
        Err(Error::Decode(_))
    ));

    // A hostile length fails before the body is buffered.
    let mut c = ready();
    let mut b = BytesMut::from(&b"D\x7f\xff\xff\xff"[..]);
    assert!(matches!(
        c.handle_input(Instant::now(), &mut b),
        Err(Error::Decode(crate::DecodeError::MessageTooLarge { .. }))
    ));
    assert!(b.capacity() < 1024);

    // An idle FATAL (e.g. administrator shutdown) surfaces as a server error.
    let mut c = ready();
    let e = feed(&mut c, &msg(b'E', &error_body("57P01", "FATAL"))).unwrap_err();
    assert!(matches!(e, Error::Server(s) if s.code == "57P01"));
    assert!(matches!(c.handle_eof(), Err(Error::Server(_))));
}

#[test]
fn eof_and_terminate() {
    let mut c = ready();
    assert!(matches!(c.handle_eof(), Err(Error::Closed)));
    let mut c = ready();
    c.simple_query("x").unwrap();
    sent(&mut c);
    c.terminate();
    assert_eq!(sent(&mut c), b"X\0\0\0\x04");
    assert!(c.pending_requests().is_empty());
    assert!(c.handle_eof().is_ok());
    assert_eq!(c.sync(), Err(UsageError::Closed));
}

#[test]
fn partial_input_waits() {
    let mut c = ready();
    let id = c.simple_query("x").unwrap();
    let mut s = msg(b'C', b"SELECT 0\0");
    s.extend(msg(b'Z', b"T"));
    let mut b = BytesMut::new();
    let mut all = Vec::new();
    for byte in &s {
        b.extend_from_slice(&[*byte]);
        c.handle_input(Instant::now(), &mut b).unwrap();
        while let Some(e) = c.poll_event() {
            all.push(e);
        }
    }
    assert!(b.is_empty());
    assert!(
        matches!(all[..], [Event::CommandComplete { .. }, Event::Done { id: i, status: Some(TransactionStatus::InTransaction) }] if i == id)
    );
}

#[test]
fn skipped_block_fails_each_request_once() {
    let mut c = ready();
    let q = c.query("a", &[], &[], &[], &[]).unwrap();
    let p = c.parse("", "b", &[]).unwrap();
    let b = c.bind("", "", &[], &[], &[]).unwrap();
    let e = c.execute("", 0).unwrap();
    let s = c.sync().unwrap();
    let q2 = c.query("c", &[], &[], &[], &[]).unwrap();
    assert_eq!(c.pending_requests(), [q, p, b, e, s, q2]);
    sent(&mut c);
    let mut input = msg(b'E', &error_body("42601", "ERROR"));
    input.extend(msg(b'Z', b"I"));
    input.extend(msg(b'E', &error_body("42601", "ERROR")));
    input.extend(msg(b'Z', b"I"));
    input.extend(msg(b'1', b""));
    input.extend(msg(b'2', b""));
    input.extend(msg(b'n', b""));
    input.extend(msg(b'C', b"DO\0"));
    input.extend(msg(b'Z', b"I"));
    let ev = feed(&mut c, &input).unwrap();
    let summary: Vec<String> = ev
        .iter()
        .map(|e| match e {
            Event::Failed { id, skipped, .. } => {
                format!("F{}{}", id.0, if *skipped { "s" } else { "" })
            }
            Event::Done { id, .. } => format!("D{}", id.0),
            Event::NoData { id } => format!("n{}", id.0),
            Event::CommandComplete { id, .. } => format!("C{}", id.0),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(summary, ["F0", "F1", "F2s", "F3s", "D4", "n5", "C5", "D5"]);
    let _ = (q, q2);
}

#[test]
fn bind_execute_sync_is_one_request() {
    let mut c = ready();
    let ok = c
        .bind_execute_sync("", "s1", &[], 0, |_, _| Ok(frontend::IsNull::No), &[], 0)
        .unwrap();
    let bad = c
        .bind_execute_sync("", "s2", &[], 0, |_, _| Ok(frontend::IsNull::No), &[], 0)
        .unwrap();
    // A block whose first statement fails: the server skips the request
    // pipelined behind it up to its Sync.
    let p = c.parse("", "BEGIN", &[]).unwrap();
    let skipped = c
        .bind_execute_sync("", "s3", &[], 0, |_, _| Ok(frontend::IsNull::No), &[], 0)
        .unwrap();
    let after = c
        .bind_execute_sync("", "s4", &[], 0, |_, _| Ok(frontend::IsNull::No), &[], 0)
        .unwrap();
    assert_eq!(c.pending_requests(), [ok, bad, p, skipped, after]);
    let out = sent(&mut c);
    // Bind, Execute, Sync for the first request.
    assert_eq!(&out[..1], b"B");
    assert!(out.windows(5).any(|w| w == b"S\0\0\0\x04"));
    let mut input = msg(b'2', b"");
    input.extend(msg(b'D', b"\0\x01\0\0\0\x011"));
    input.extend(msg(b'C', b"SELECT 1\0"));
    input.extend(msg(b'Z', b"T"));
    input.extend(msg(b'E', &error_body("26000", "ERROR")));
    input.extend(msg(b'Z', b"I"));
    input.extend(msg(b'E', &error_body("42601", "ERROR")));
    input.extend(msg(b'Z', b"I"));
    input.extend(msg(b'2', b""));
    input.extend(msg(b'C', b"SELECT 0\0"));
    input.extend(msg(b'Z', b"I"));
    let ev = feed(&mut c, &input).unwrap();
    let summary: Vec<String> = ev
        .iter()
        .map(|e| match e {
            Event::Failed { id, skipped, .. } => {
                format!("F{}{}", id.0, if *skipped { "s" } else { "" })
            }
            Event::Done { id, status } => format!("D{}{:?}", id.0, status),
            Event::Row { id, row } => format!("R{}:{:?}", id.0, row.get(0)),
            Event::CommandComplete { id, tag } => format!("C{}:{tag}", id.0),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "R0:Some([49])",
            "C0:SELECT 1",
            "D0Some(InTransaction)",
            "F1",
            "F2",
            "F3s",
            "C4:SELECT 0",
            "D4Some(Idle)"
        ]
    );
    assert!(c.pending_requests().is_empty());
}

#[test]
fn one_round_trip_request_fails_at_its_ready_for_query() {
    let mut c = ready();
    let id = c
        .bind_execute_sync("", "s", &[], 0, |_, _| Ok(frontend::IsNull::No), &[], 0)
        .unwrap();
    sent(&mut c);
    // The error alone ends nothing: the status that follows it is not
    // known yet.
    let ev = feed(&mut c, &msg(b'E', &error_body("22012", "ERROR"))).unwrap();
    assert!(ev.is_empty());
    assert_eq!(c.pending_requests(), [id]);
    let ev = feed(&mut c, &msg(b'Z', b"E")).unwrap();
    assert!(
        matches!(&ev[..], [Event::Failed { id: i, skipped: false, error }] if *i == id && error.code == "22012")
    );
    assert_eq!(c.transaction_status(), TransactionStatus::Failed);
    assert!(c.pending_requests().is_empty());
}

#[test]
fn extended_copy_in_resends_the_swallowed_sync() {
    let mut c = ready();
    let id = c.query("COPY t FROM STDIN", &[], &[], &[], &[]).unwrap();
    sent(&mut c);
    let mut s = msg(b'1', b"");
    s.extend(msg(b'2', b""));
    s.extend(msg(b'n', b""));
    s.extend(msg(b'G', b"\0\0\x01\0\0"));
    feed(&mut c, &s).unwrap();
    assert!(c.is_copy_in());
    assert_eq!(c.sync(), Err(UsageError::CopyInProgress));
    c.copy_data(b"1\n").unwrap();
    c.copy_done().unwrap();
    assert_eq!(sent(&mut c), b"d\0\0\0\x061\nc\0\0\0\x04S\0\0\0\x04");
    let mut s = msg(b'C', b"COPY 1\0");
    s.extend(msg(b'Z', b"I"));
    let ev = feed(&mut c, &s).unwrap();
    assert!(matches!(ev.last(), Some(Event::Done { id: i, .. }) if *i == id));
    // A simple-query COPY needs no extra Sync.
    let _ = c.simple_query("COPY t FROM STDIN").unwrap();
    sent(&mut c);
    feed(&mut c, &msg(b'G', b"\0\0\0")).unwrap();
    c.copy_fail("no").unwrap();
    assert_eq!(sent(&mut c), b"f\0\0\0\x07no\0");
    let mut s = msg(b'E', &error_body("57014", "ERROR"));
    s.extend(msg(b'Z', b"I"));
    let ev = feed(&mut c, &s).unwrap();
    assert!(matches!(ev.last(), Some(Event::Failed { .. })));
}

#[test]
fn copy_out_and_async_events() {
    let mut c = ready();
    let id = c.simple_query("COPY t TO STDOUT").unwrap();
    let mut s = msg(b'H', b"\0\0\x01\0\0");
    s.extend(msg(b'd', b"1\n"));
    s.extend(msg(b'S', b"TimeZone\0UTC\0"));
    s.extend(msg(b'A', b"\0\0\0\x02ch\0pl\0"));
    s.extend(msg(b'd', b"2\n"));
    s.extend(msg(b'c', b""));
    s.extend(msg(b'C', b"COPY 2\0"));
    s.extend(msg(b'Z', b"I"));
    let ev = feed(&mut c, &s).unwrap();
    let data: Vec<u8> = ev
        .iter()
        .filter_map(|e| match e {
            Event::CopyData { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(data, b"1\n2\n");
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Notification(n) if n.channel == "ch" && n.payload == "pl"))
    );
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::ParameterStatus { name, .. } if name == "TimeZone"))
    );
    assert!(matches!(ev.last(), Some(Event::Done { id: i, .. }) if *i == id));
    assert_eq!(c.parameter("TimeZone"), Some("UTC"));
}

#[test]
fn request_encode_errors_leave_no_trace() {
    let mut c = ready();
    assert!(matches!(c.simple_query("a\0b"), Err(UsageError::Encode(_))));
    assert!(matches!(c.query("ok", &[], &[], &[], &[]), Ok(ReqId(0))));
    let before = sent(&mut c);
    assert!(matches!(
        c.query("bad\0", &[], &[], &[], &[]),
        Err(UsageError::Encode(_))
    ));
    assert!(sent(&mut c).is_empty());
    assert_eq!(c.pending_requests().len(), 1);
    assert!(!before.is_empty());
}

#[test]
fn extended_copy_in_aborted_by_the_server_resyncs() {
    let mut c = ready();
    let id = c.query("COPY t FROM STDIN", &[], &[], &[], &[]).unwrap();
    sent(&mut c);
    let mut s = msg(b'1', b"");
    s.extend(msg(b'2', b""));
    s.extend(msg(b'n', b""));
    s.extend(msg(b'G', b"\0\0\0"));
    feed(&mut c, &s).unwrap();
    c.copy_data(b"bad\n").unwrap();
    sent(&mut c);
    // The server rejects the data before our CopyDone: the request fails
    // once the ReadyForQuery of its (resent) Sync arrives.
    let ev = feed(&mut c, &msg(b'E', &error_body("22P02", "ERROR"))).unwrap();
    assert!(ev.is_empty());
    assert_eq!(sent(&mut c), b"S\0\0\0\x04");
    assert_eq!(c.copy_done(), Err(UsageError::NotCopying));
    let ev = feed(&mut c, &msg(b'Z', b"I")).unwrap();
    assert!(matches!(ev[..], [Event::Failed { id: i, skipped: false, .. }] if i == id));
    assert!(c.pending_requests().is_empty());
}

#[test]
fn invalid_startup_params_fail_early() {
    let e = Connection::new(Config::new("u\0x").ssl_mode(SslMode::Prefer)).unwrap_err();
    assert!(matches!(e, UsageError::Encode(_)));
    let mut c = Connection::new(Config::new("u").ssl_mode(SslMode::Prefer)).unwrap();
    assert_eq!(sent(&mut c).len(), 8);
}
