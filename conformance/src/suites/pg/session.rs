//! 55.2.7 "Asynchronous Operations", 55.2.8 "Canceling Requests in
//! Progress", 55.2.9 "Termination".

use std::io::Write;

use bytes::BytesMut;
use proto_pg::Event;

use super::client::{Pg, socket};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "55.2.7",
            "NOTIFY reaches a listener as NotificationResponse (channel, payload, pid)",
            notify,
        ),
        Case::must(
            "55.2.7",
            "SET of a reported parameter sends ParameterStatus",
            parameter_status,
        ),
        Case::must(
            "55.2.7",
            "RAISE NOTICE arrives as NoticeResponse; the query still completes",
            notice,
        ),
        Case::must(
            "55.2.8",
            "CancelRequest on a second connection cancels a running query (57014)",
            cancel,
        ),
        Case::must(
            "55.2.9",
            "Terminate: the server closes the connection",
            terminate,
        ),
    ]
}

fn usage(e: proto_pg::UsageError) -> Fail {
    fail("the request to be accepted by proto-pg", e.to_string())
}

fn notify(t: &Target) -> CaseResult {
    let mut listener = Pg::default(t)?;
    let channel = format!("conformance_{}", std::process::id());
    listener.simple(&format!("LISTEN {channel}"))?;
    let mut notifier = Pg::default(t)?;
    notifier.simple(&format!("NOTIFY {channel}, 'hello'"))?;
    let notifier_pid = notifier.conn.backend_key().map(|k| k.process_id);
    // The notification is delivered to an idle listener at once; a query
    // makes sure we read it.
    let evs = listener.simple("SELECT 1")?;
    let mut found = listener.events.drain(..).chain(evs).find_map(|e| match e {
        Event::Notification(n) => Some(n),
        _ => None,
    });
    if found.is_none() {
        found = match listener.next() {
            Ok(Event::Notification(n)) => Some(n),
            _ => None,
        };
    }
    match found {
        Some(n)
            if n.channel == channel
                && n.payload == "hello"
                && Some(n.process_id) == notifier_pid =>
        {
            Ok(Pass::ok())
        }
        other => Err(fail(
            format!("NotificationResponse {channel} 'hello' from {notifier_pid:?}"),
            format!("{other:?}"),
        )),
    }
}

fn parameter_status(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let evs = pg.simple("SET application_name = 'conformance-suite'")?;
    let reported = evs.iter().any(|e| {
        matches!(e, Event::ParameterStatus { name, value } if name == "application_name" && value == "conformance-suite")
    });
    if !reported || pg.conn.parameter("application_name") != Some("conformance-suite") {
        return Err(fail(
            "ParameterStatus application_name conformance-suite",
            format!("{evs:?}"),
        ));
    }
    Ok(Pass::ok())
}

fn notice(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let evs = pg.simple("DO $$ BEGIN RAISE NOTICE 'conformance notice'; END $$")?;
    let notice = evs.iter().find_map(|e| match e {
        Event::Notice(n) => Some(n.message.clone()),
        _ => None,
    });
    crate::framework::expect_eq(&Some("conformance notice".to_string()), &notice)?;
    Ok(Pass::ok())
}

fn cancel(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let key = pg
        .conn
        .backend_key()
        .cloned()
        .ok_or_else(|| fail("BackendKeyData", "none"))?;
    let id = pg.conn.simple_query("SELECT pg_sleep(60)").map_err(usage)?;
    pg.flush()?;
    // The query must be running before the cancel can hit it.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut buf = BytesMut::new();
    key.encode_cancel(&mut buf);
    let mut s = socket(t)?;
    s.write_all(&buf)?;
    // "The server ... closes the connection" with no reply (55.2.8).
    let mut tmp = [0u8; 16];
    let n = std::io::Read::read(&mut s, &mut tmp).unwrap_or(0);
    if n != 0 {
        return Err(fail(
            "the cancel connection closed without a reply",
            format!("{n} bytes"),
        ));
    }
    match pg.until_done(id)?.last() {
        Some(Event::Failed { error, .. }) if error.code == "57014" => Ok(Pass::ok()),
        other => Err(fail(
            "ErrorResponse 57014 (query_canceled)",
            format!("{other:?}"),
        )),
    }
}

fn terminate(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    pg.conn.terminate();
    pg.flush()?;
    if pg.closed() {
        Ok(Pass::ok())
    } else {
        Err(fail("the server to close the connection", "it stayed open"))
    }
}
