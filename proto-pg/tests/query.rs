//! Queries against the real server: simple, extended, pipelines, portals,
//! COPY, LISTEN/NOTIFY.

mod common;

use common::{Client, failed_code};
use proto_pg::message::backend::TransactionStatus;
use proto_pg::{Event, Format, UsageError};

#[test]
fn simple_query_multi_statement() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let id = c
        .conn
        .simple_query("SELECT 1 AS a, NULL::text AS b; SELECT 'x' UNION ALL SELECT 'y'")
        .unwrap();
    let ev = c.wait(id);
    let descs = ev
        .iter()
        .filter(|e| matches!(e, Event::RowDescription { .. }))
        .count();
    assert_eq!(descs, 2);
    if let Some(Event::RowDescription { columns, .. }) = ev.first() {
        let names: Vec<_> = columns.iter().map(|f| f.name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(columns.iter().next().unwrap().type_oid, 23);
    } else {
        panic!("{ev:?}");
    }
    assert_eq!(
        Client::rows(&ev),
        [
            vec![Some("1".into()), None],
            vec![Some("x".into())],
            vec![Some("y".into())]
        ]
    );
    let tags: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::CommandComplete { tag, .. } => Some(tag.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(tags, ["SELECT 1", "SELECT 2"]);
    assert!(matches!(
        ev.last(),
        Some(Event::Done {
            status: Some(TransactionStatus::Idle),
            ..
        })
    ));

    let id = c.conn.simple_query("").unwrap();
    let ev = c.wait(id);
    assert!(matches!(ev[0], Event::EmptyQuery { .. }), "{ev:?}");

    let id = c
        .conn
        .simple_query("SELECT 1; SELECT 1/0; SELECT 3")
        .unwrap();
    let ev = c.wait(id);
    assert_eq!(failed_code(&ev).as_deref(), Some("22012"));
    assert_eq!(Client::rows(&ev), [[Some("1".to_owned())]]);
    // Still usable.
    assert_eq!(c.simple("SELECT 2"), [[Some("2".to_owned())]]);
}

#[test]
fn extended_query_with_params() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let id = c
        .conn
        .query(
            "SELECT $1::int4 + 1, $2::text, $3::text",
            &[23, 25, 25],
            &[Format::Binary, Format::Text, Format::Text],
            &[Some(&41i32.to_be_bytes()), Some(b"hi"), None],
            &[Format::Binary, Format::Text, Format::Text],
        )
        .unwrap();
    let ev = c.wait(id);
    let Some(Event::Row { row, .. }) = ev.iter().find(|e| matches!(e, Event::Row { .. })) else {
        panic!("{ev:?}")
    };
    assert_eq!(row.get(0), Some(&42i32.to_be_bytes()[..]));
    assert_eq!(row.get(1), Some(&b"hi"[..]));
    assert_eq!(row.get(2), None);
    assert!(matches!(ev.last(), Some(Event::Done { .. })));

    // Named statement, described, executed twice, closed.
    let p = c
        .conn
        .prepare("ps_ext", "SELECT $1::int8 * 2 AS twice", &[])
        .unwrap();
    let s = c.conn.sync().unwrap();
    let ev = c.wait(p);
    let Some(Event::ParameterDescription { types, .. }) = ev.first() else {
        panic!("{ev:?}")
    };
    assert_eq!(types.types().collect::<Vec<_>>(), [20]);
    assert!(
        matches!(&ev[1], Event::RowDescription { columns, .. } if columns.iter().next().unwrap().name == "twice")
    );
    c.wait(s);
    let mut ids = Vec::new();
    for v in ["5", "7"] {
        c.conn
            .bind("", "ps_ext", &[], &[Some(v.as_bytes())], &[])
            .unwrap();
        ids.push(c.conn.execute("", 0).unwrap());
    }
    let close = c.conn.close_statement("ps_ext").unwrap();
    let sync = c.conn.sync().unwrap();
    assert_eq!(Client::rows(&c.wait(ids[0])), [[Some("10".to_owned())]]);
    assert_eq!(Client::rows(&c.wait(ids[1])), [[Some("14".to_owned())]]);
    assert!(matches!(c.wait(close).last(), Some(Event::Done { .. })));
    assert!(matches!(
        c.wait(sync).last(),
        Some(Event::Done {
            status: Some(_),
            ..
        })
    ));

    // No rows: NoData.
    let id = c
        .conn
        .query("SET application_name = 'x'", &[], &[], &[], &[])
        .unwrap();
    let ev = c.wait(id);
    assert!(
        ev.iter().any(|e| matches!(e, Event::NoData { .. })),
        "{ev:?}"
    );
}

#[test]
fn pipeline_error_mid_block_and_recovery() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    // Block 1: ok, error, skipped, skipped; Sync. Block 2: ok.
    let a = c.conn.parse("", "SELECT 1", &[]).unwrap();
    let b = c.conn.parse("", "SELECT nonsense_column", &[]).unwrap();
    let d = c.conn.bind("", "", &[], &[], &[]).unwrap();
    let e = c.conn.execute("", 0).unwrap();
    let s1 = c.conn.sync().unwrap();
    let ok = c.conn.query("SELECT 'after'", &[], &[], &[], &[]).unwrap();
    // Self-contained queries pipelined: the failure of one does not leak.
    let q1 = c.conn.query("SELECT 1/0", &[], &[], &[], &[]).unwrap();
    let q2 = c.conn.query("SELECT 'fine'", &[], &[], &[], &[]).unwrap();
    c.flush();

    assert!(matches!(c.wait(a).last(), Some(Event::Done { .. })));
    let eb = c.wait(b);
    assert_eq!(failed_code(&eb).as_deref(), Some("42703"));
    assert!(matches!(
        eb.last(),
        Some(Event::Failed { skipped: false, .. })
    ));
    for id in [d, e] {
        let ev = c.wait(id);
        assert!(
            matches!(ev.last(), Some(Event::Failed { skipped: true, error, .. }) if error.code == "42703"),
            "{ev:?}"
        );
    }
    assert!(matches!(
        c.wait(s1).last(),
        Some(Event::Done {
            status: Some(TransactionStatus::Idle),
            ..
        })
    ));
    assert_eq!(Client::rows(&c.wait(ok)), [[Some("after".to_owned())]]);
    assert_eq!(failed_code(&c.wait(q1)).as_deref(), Some("22012"));
    assert_eq!(Client::rows(&c.wait(q2)), [[Some("fine".to_owned())]]);
    assert!(c.conn.pending_requests().is_empty());
}

#[test]
fn error_before_sync_is_queued_fails_later_requests() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let bad = c.conn.parse("", "SELEC", &[]).unwrap();
    let ev = c.wait(bad);
    assert_eq!(failed_code(&ev).as_deref(), Some("42601"));
    // The block is still open and the server is skipping it.
    let later = c.conn.parse("", "SELECT 1", &[]).unwrap();
    // Failed at once, without a round trip.
    let ev = c.conn.poll_event();
    assert!(
        matches!(ev, Some(Event::Failed { id, skipped: true, .. }) if id == later),
        "{ev:?}"
    );
    assert_eq!(
        c.conn.simple_query("SELECT 1"),
        Err(UsageError::OpenSyncBlock)
    );
    let s = c.conn.sync().unwrap();
    c.wait(s);
    assert_eq!(c.simple("SELECT 1"), [[Some("1".to_owned())]]);
}

#[test]
fn portal_suspension() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let begin = c.conn.simple_query("BEGIN").unwrap();
    c.wait(begin);
    c.conn
        .parse("", "SELECT g FROM generate_series(1, 5) g", &[])
        .unwrap();
    c.conn.bind("cur", "", &[], &[], &[]).unwrap();
    let e1 = c.conn.execute("cur", 2).unwrap();
    let e2 = c.conn.execute("cur", 2).unwrap();
    let e3 = c.conn.execute("cur", 2).unwrap();
    let s = c.conn.sync().unwrap();
    let ev1 = c.wait(e1);
    assert_eq!(
        Client::rows(&ev1),
        [[Some("1".to_owned())], [Some("2".to_owned())]]
    );
    assert!(
        ev1.iter()
            .any(|e| matches!(e, Event::PortalSuspended { .. }))
    );
    assert_eq!(
        Client::rows(&c.wait(e2)),
        [[Some("3".to_owned())], [Some("4".to_owned())]]
    );
    let ev3 = c.wait(e3);
    assert_eq!(Client::rows(&ev3), [[Some("5".to_owned())]]);
    assert!(
        ev3.iter()
            .any(|e| matches!(e, Event::CommandComplete { tag, .. } if tag == "SELECT 1"))
    );
    assert!(matches!(
        c.wait(s).last(),
        Some(Event::Done {
            status: Some(TransactionStatus::InTransaction),
            ..
        })
    ));
    c.simple("COMMIT");
}

#[test]
fn copy_in_out_and_fail() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    c.simple("CREATE TEMP TABLE copy_t (a int, b text)");
    let id = c.conn.simple_query("COPY copy_t FROM STDIN").unwrap();
    while !c.conn.is_copy_in() {
        c.pump().unwrap();
    }
    assert!(c.events.iter().any(|e| matches!(e, Event::CopyIn { format: Format::Text, column_formats, .. } if column_formats.len() == 2)));
    assert_eq!(
        c.conn.simple_query("SELECT 1"),
        Err(UsageError::CopyInProgress)
    );
    c.conn.copy_data(b"1\tone\n2\t").unwrap();
    c.conn.copy_data(b"two\n3\t\\N\n").unwrap();
    c.conn.copy_done().unwrap();
    let ev = c.wait(id);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::CommandComplete { tag, .. } if tag == "COPY 3")),
        "{ev:?}"
    );

    // COPY FAIL aborts with an error for the request.
    let id = c.conn.simple_query("COPY copy_t FROM STDIN").unwrap();
    while !c.conn.is_copy_in() {
        c.pump().unwrap();
    }
    c.conn.copy_data(b"9\tnine\n").unwrap();
    c.conn.copy_fail("client gave up").unwrap();
    let ev = c.wait(id);
    assert_eq!(failed_code(&ev).as_deref(), Some("57014"));
    assert_eq!(c.conn.copy_data(b"x"), Err(UsageError::NotCopying));

    // COPY TO STDOUT, text.
    let id = c
        .conn
        .simple_query("COPY (SELECT * FROM copy_t ORDER BY a) TO STDOUT")
        .unwrap();
    let ev = c.wait(id);
    let data: Vec<u8> = ev
        .iter()
        .filter_map(|e| match e {
            Event::CopyData { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(data, b"1\tone\n2\ttwo\n3\t\\N\n");
    assert!(ev.iter().any(|e| matches!(e, Event::CopyOut { .. })));
    assert!(ev.iter().any(|e| matches!(e, Event::CopyDone { .. })));

    // Binary COPY out then back in through the extended protocol, with the
    // Sync pipelined behind the Execute.
    let id = c
        .conn
        .simple_query("COPY copy_t TO STDOUT (FORMAT binary)")
        .unwrap();
    let ev = c.wait(id);
    let bin: Vec<u8> = ev
        .iter()
        .filter_map(|e| match e {
            Event::CopyData { data, .. } => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(bin.starts_with(b"PGCOPY\n\xff\r\n\0"));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::CopyOut {
            format: Format::Binary,
            ..
        }
    )));
    let id = c
        .conn
        .query("COPY copy_t FROM STDIN (FORMAT binary)", &[], &[], &[], &[])
        .unwrap();
    while !c.conn.is_copy_in() {
        c.pump().unwrap();
    }
    c.conn.copy_data(&bin).unwrap();
    c.conn.copy_done().unwrap();
    let ev = c.wait(id);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::CommandComplete { tag, .. } if tag == "COPY 3")),
        "{ev:?}"
    );
    assert_eq!(
        c.simple("SELECT count(*) FROM copy_t"),
        [[Some("6".to_owned())]]
    );
}

#[test]
fn listen_notify_is_an_event() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    c.simple("LISTEN proto_pg_chan");
    let mut other = Client::connect().unwrap();
    other.simple("NOTIFY proto_pg_chan, 'hello'");
    let pid = other.conn.backend_key().unwrap().process_id;
    let mut found = None;
    for _ in 0..50 {
        if let Some(Event::Notification(n)) = c
            .events
            .iter()
            .find(|e| matches!(e, Event::Notification(_)))
        {
            found = Some(n.clone());
            break;
        }
        // A round trip makes sure the notification was delivered.
        c.simple("SELECT 1");
    }
    let n = found.expect("notification");
    assert_eq!(
        (n.channel.as_str(), n.payload.as_str(), n.process_id),
        ("proto_pg_chan", "hello", pid)
    );
}

#[test]
fn notices_and_parameter_status_are_not_request_events() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let id = c
        .conn
        .simple_query("DO $$ BEGIN RAISE NOTICE 'note %', 1; END $$; SET TimeZone = 'Asia/Tokyo'")
        .unwrap();
    let ev = c.wait(id);
    assert!(ev.iter().all(|e| e.request() == Some(id)));
    assert!(
        c.events
            .iter()
            .any(|e| matches!(e, Event::Notice(n) if n.message == "note 1")),
        "{:?}",
        c.events
    );
    assert!(c.events.iter().any(|e| matches!(e, Event::ParameterStatus { name, value } if name == "TimeZone" && value == "Asia/Tokyo")));
    assert_eq!(c.conn.parameter("TimeZone"), Some("Asia/Tokyo"));
}

#[test]
fn cancel_request_cancels() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let (addr, _) = common::server().unwrap();
    let id = c.conn.simple_query("SELECT pg_sleep(5)").unwrap();
    c.flush();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut buf = bytes::BytesMut::new();
    c.conn.backend_key().unwrap().encode_cancel(&mut buf);
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(&buf).unwrap();
    let ev = c.wait(id);
    assert_eq!(failed_code(&ev).as_deref(), Some("57014"));
}

#[test]
fn extended_copy_in_error_mid_stream_recovers() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    c.simple("CREATE TEMP TABLE copy_bad (a int)");
    let id = c
        .conn
        .query("COPY copy_bad FROM STDIN", &[], &[], &[], &[])
        .unwrap();
    while !c.conn.is_copy_in() {
        c.pump().unwrap();
    }
    c.conn.copy_data(b"not_an_int\n").unwrap();
    // Enough data that the server parses (and rejects) before CopyDone.
    let filler = "1\n".repeat(200_000);
    c.conn.copy_data(filler.as_bytes()).unwrap();
    let ev = c.wait(id);
    assert_eq!(failed_code(&ev).as_deref(), Some("22P02"), "{ev:?}");
    assert!(!c.conn.is_copy_in());
    assert_eq!(
        c.simple("SELECT count(*) FROM copy_bad"),
        [[Some("0".to_owned())]]
    );
}

#[test]
fn fast_path_function_call() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let oid: u32 = c.simple("SELECT 'int4abs'::regproc::oid")[0][0]
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let id = c
        .conn
        .function_call(
            oid,
            &[Format::Binary],
            &[Some(&(-42i32).to_be_bytes())],
            Format::Binary,
        )
        .unwrap();
    let ev = c.wait(id);
    assert!(
        matches!(&ev[..], [Event::FunctionResult { value: Some(v), .. }, Event::Done { .. }] if v[..] == 42i32.to_be_bytes()),
        "{ev:?}"
    );
    // A strict function with a NULL argument returns NULL.
    let id = c
        .conn
        .function_call(oid, &[], &[None], Format::Text)
        .unwrap();
    let ev = c.wait(id);
    assert!(
        matches!(
            &ev[..],
            [
                Event::FunctionResult { value: None, .. },
                Event::Done { .. }
            ]
        ),
        "{ev:?}"
    );
    // Wrong argument count: an error, then the connection goes on.
    let id = c.conn.function_call(oid, &[], &[], Format::Text).unwrap();
    assert!(common::failed_code(&c.wait(id)).is_some());
    assert_eq!(c.simple("SELECT 1"), [[Some("1".to_owned())]]);
}
