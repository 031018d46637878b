//! 55.2.2 "Simple Query", 55.2.3 "Extended Query", 55.2.4 "Pipelining",
//! 55.2.5 "Function Call".

use proto_pg::message::backend::TransactionStatus;
use proto_pg::types::oid;
use proto_pg::{Event, Format};

use super::client::Pg;
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "55.2.2",
            "a query answers RowDescription, DataRows, CommandComplete, ReadyForQuery",
            simple_rows,
        ),
        Case::must(
            "55.2.2",
            "several statements in one Query: each completes, one ReadyForQuery",
            multi_statement,
        ),
        Case::must(
            "55.2.2",
            "an empty query string answers EmptyQueryResponse",
            empty_query,
        ),
        Case::must(
            "55.2.2",
            "an error ends the query string: later statements are not run",
            error_stops,
        ),
        Case::must(
            "55.2.2",
            "ReadyForQuery carries the transaction status (I, T, E)",
            transaction_status,
        ),
        Case::must(
            "55.2.3",
            "Parse/Describe: parameter types and row description; Bind/Execute run it",
            extended,
        ),
        Case::must(
            "55.2.3",
            "binary result format: int4 arrives as 4 big-endian bytes",
            binary_results,
        ),
        Case::must(
            "55.2.3",
            "an error mid-block skips the rest until Sync; after Sync all is well",
            error_until_sync,
        ),
        Case::must(
            "55.2.3",
            "Execute with a row limit suspends the portal (PortalSuspended) and resumes",
            portal_suspension,
        ),
        Case::must(
            "55.2.3",
            "Describe of a statement returning no rows answers NoData",
            no_data,
        ),
        Case::must(
            "55.2.3",
            "Close removes a prepared statement (Bind to it then fails 26000)",
            close_statement,
        ),
        Case::must(
            "55.2.4",
            "pipelined queries, each with its Sync, answer in order; a failure stays in its block",
            pipelining,
        ),
        Case::must(
            "55.2.5",
            "FunctionCall of int4pl(2, 3) returns 5",
            function_call,
        ),
    ]
}

fn usage(e: proto_pg::UsageError) -> Fail {
    fail("the request to be accepted by proto-pg", e.to_string())
}

/// The text of every DataRow's columns.
fn rows(evs: &[Event]) -> Vec<Vec<Option<String>>> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Row { row, .. } => Some(
                row.iter()
                    .map(|c| c.map(|b| String::from_utf8_lossy(b).to_string()))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn tags(evs: &[Event]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            Event::CommandComplete { tag, .. } => Some(tag.clone()),
            _ => None,
        })
        .collect()
}

fn failure(evs: &[Event]) -> Option<(String, bool)> {
    evs.iter().find_map(|e| match e {
        Event::Failed { error, skipped, .. } => Some((error.code.clone(), *skipped)),
        _ => None,
    })
}

fn texts(v: &[&str]) -> Vec<Vec<Option<String>>> {
    v.iter().map(|s| vec![Some(s.to_string())]).collect()
}

fn simple_rows(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let evs = pg.simple("SELECT generate_series(1, 3) AS n")?;
    let desc = evs.iter().find_map(|e| match e {
        Event::RowDescription { columns, .. } => Some(
            columns
                .iter()
                .map(|c| (c.name.to_string(), c.type_oid))
                .collect::<Vec<_>>(),
        ),
        _ => None,
    });
    if desc != Some(vec![("n".to_string(), oid::INT4)]) {
        return Err(fail("RowDescription n int4", format!("{desc:?}")));
    }
    crate::framework::expect_eq(&texts(&["1", "2", "3"]), &rows(&evs))?;
    crate::framework::expect_eq(&vec!["SELECT 3".to_string()], &tags(&evs))?;
    match evs.last() {
        Some(Event::Done {
            status: Some(TransactionStatus::Idle),
            ..
        }) => Ok(Pass::ok()),
        other => Err(fail("ReadyForQuery I", format!("{other:?}"))),
    }
}

fn multi_statement(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let evs = pg.simple("SELECT 1; SELECT 'a', NULL; CREATE TEMP TABLE conformance_t (x int)")?;
    crate::framework::expect_eq(
        &vec![
            vec![Some("1".to_string())],
            vec![Some("a".to_string()), None],
        ],
        &rows(&evs),
    )?;
    crate::framework::expect_eq(
        &vec![
            "SELECT 1".to_string(),
            "SELECT 1".to_string(),
            "CREATE TABLE".to_string(),
        ],
        &tags(&evs),
    )?;
    Ok(Pass::ok())
}

fn empty_query(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let evs = pg.simple("")?;
    if evs.iter().any(|e| matches!(e, Event::EmptyQuery { .. })) {
        Ok(Pass::ok())
    } else {
        Err(fail("EmptyQueryResponse", format!("{evs:?}")))
    }
}

fn error_stops(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let id = pg
        .conn
        .simple_query("SELECT 1; SELECT 1/0; SELECT 3")
        .map_err(usage)?;
    let evs = pg.until_done(id)?;
    crate::framework::expect_eq(&texts(&["1"]), &rows(&evs))?;
    match failure(&evs) {
        Some((code, _)) if code == "22012" => {}
        other => {
            return Err(fail(
                "ErrorResponse 22012 (division by zero)",
                format!("{other:?}"),
            ));
        }
    }
    pg.simple("SELECT 1")?;
    Ok(Pass::ok())
}

fn transaction_status(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let status = |pg: &Pg| pg.conn.transaction_status();
    pg.simple("BEGIN")?;
    crate::framework::expect_eq(&TransactionStatus::InTransaction, &status(&pg))?;
    let id = pg.conn.simple_query("SELECT 1/0").map_err(usage)?;
    pg.until_done(id)?;
    crate::framework::expect_eq(&TransactionStatus::Failed, &status(&pg))?;
    let id = pg.conn.simple_query("SELECT 1").map_err(usage)?;
    match failure(&pg.until_done(id)?) {
        Some((code, _)) if code == "25P02" => {}
        other => return Err(fail("25P02 (in failed transaction)", format!("{other:?}"))),
    }
    pg.simple("ROLLBACK")?;
    crate::framework::expect_eq(&TransactionStatus::Idle, &status(&pg))?;
    Ok(Pass::ok())
}

fn extended(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let prep = pg
        .conn
        .prepare("conf_s", "SELECT $1::int4 + 1 AS r, $2::text AS s", &[0, 0])
        .map_err(usage)?;
    let sync = pg.conn.sync().map_err(usage)?;
    let evs = pg.until_done(prep)?;
    let params: Option<Vec<u32>> = evs.iter().find_map(|e| match e {
        Event::ParameterDescription { types, .. } => Some(types.types().collect()),
        _ => None,
    });
    if params != Some(vec![oid::INT4, oid::TEXT]) {
        return Err(fail(
            "ParameterDescription int4, text",
            format!("{params:?}"),
        ));
    }
    pg.until_done(sync)?;
    for (a, want) in [("41", "42"), ("-1", "0")] {
        let bind = pg
            .conn
            .bind("", "conf_s", &[], &[Some(a.as_bytes()), Some(b"x")], &[])
            .map_err(usage)?;
        let exec = pg.conn.execute("", 0).map_err(usage)?;
        let sync = pg.conn.sync().map_err(usage)?;
        pg.until_done(bind)?;
        let evs = pg.until_done(exec)?;
        crate::framework::expect_eq(
            &vec![vec![Some(want.to_string()), Some("x".to_string())]],
            &rows(&evs),
        )?;
        pg.until_done(sync)?;
    }
    Ok(Pass::ok())
}

fn binary_results(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let id = pg
        .conn
        .query(
            "SELECT 258::int4, NULL::int4",
            &[],
            &[],
            &[],
            &[Format::Binary],
        )
        .map_err(usage)?;
    let evs = pg.until_done(id)?;
    let row: Vec<Option<Vec<u8>>> = evs
        .iter()
        .find_map(|e| match e {
            Event::Row { row, .. } => Some(row.iter().map(|c| c.map(<[u8]>::to_vec)).collect()),
            _ => None,
        })
        .unwrap_or_default();
    crate::framework::expect_eq(&vec![Some(vec![0u8, 0, 1, 2]), None], &row)?;
    Ok(Pass::ok())
}

fn error_until_sync(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let parse = pg
        .conn
        .parse("", "SELECT $1::int4", &[oid::INT4])
        .map_err(usage)?;
    let bind = pg
        .conn
        .bind("", "", &[], &[Some(b"not a number")], &[])
        .map_err(usage)?;
    let exec = pg.conn.execute("", 0).map_err(usage)?;
    let sync = pg.conn.sync().map_err(usage)?;
    pg.until_done(parse)?;
    match failure(&pg.until_done(bind)?) {
        Some((code, false)) if code == "22P02" => {}
        other => return Err(fail("Bind fails with 22P02", format!("{other:?}"))),
    }
    match failure(&pg.until_done(exec)?) {
        Some((_, true)) => {}
        other => return Err(fail("Execute skipped until Sync", format!("{other:?}"))),
    }
    match pg.until_done(sync)?.last() {
        Some(Event::Done {
            status: Some(TransactionStatus::Idle),
            ..
        }) => {}
        other => return Err(fail("ReadyForQuery I after Sync", format!("{other:?}"))),
    }
    let id = pg
        .conn
        .query("SELECT 7", &[], &[], &[], &[])
        .map_err(usage)?;
    crate::framework::expect_eq(&texts(&["7"]), &rows(&pg.until_done(id)?))?;
    Ok(Pass::ok())
}

fn portal_suspension(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let parse = pg
        .conn
        .parse("", "SELECT generate_series(1, 5)", &[])
        .map_err(usage)?;
    let bind = pg.conn.bind("conf_p", "", &[], &[], &[]).map_err(usage)?;
    let e1 = pg.conn.execute("conf_p", 2).map_err(usage)?;
    let e2 = pg.conn.execute("conf_p", 2).map_err(usage)?;
    let e3 = pg.conn.execute("conf_p", 2).map_err(usage)?;
    let sync = pg.conn.sync().map_err(usage)?;
    pg.until_done(parse)?;
    pg.until_done(bind)?;
    let mut got = Vec::new();
    for e in [e1, e2, e3] {
        let evs = pg.until_done(e)?;
        let suspended = evs
            .iter()
            .any(|e| matches!(e, Event::PortalSuspended { .. }));
        let completed = !tags(&evs).is_empty();
        got.push((rows(&evs).len(), suspended, completed));
    }
    pg.until_done(sync)?;
    crate::framework::expect_eq(
        &vec![(2, true, false), (2, true, false), (1, false, true)],
        &got,
    )?;
    Ok(Pass::ok())
}

fn no_data(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let prep = pg
        .conn
        .prepare("", "SET application_name = 'conformance'", &[])
        .map_err(usage)?;
    let sync = pg.conn.sync().map_err(usage)?;
    let evs = pg.until_done(prep)?;
    pg.until_done(sync)?;
    if evs.iter().any(|e| matches!(e, Event::NoData { .. })) {
        Ok(Pass::ok())
    } else {
        Err(fail("NoData", format!("{evs:?}")))
    }
}

fn close_statement(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let parse = pg.conn.parse("conf_c", "SELECT 1", &[]).map_err(usage)?;
    let close = pg.conn.close_statement("conf_c").map_err(usage)?;
    let bind = pg.conn.bind("", "conf_c", &[], &[], &[]).map_err(usage)?;
    let sync = pg.conn.sync().map_err(usage)?;
    pg.until_done(parse)?;
    if failure(&pg.until_done(close)?).is_some() {
        return Err(fail("CloseComplete", "an error"));
    }
    match failure(&pg.until_done(bind)?) {
        Some((code, false)) if code == "26000" => {}
        other => return Err(fail("Bind fails with 26000", format!("{other:?}"))),
    }
    pg.until_done(sync)?;
    Ok(Pass::ok())
}

fn pipelining(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    let a = pg
        .conn
        .query("SELECT 'a'", &[], &[], &[], &[])
        .map_err(usage)?;
    let b = pg
        .conn
        .query("SELECT 1/0", &[], &[], &[], &[])
        .map_err(usage)?;
    let c = pg
        .conn
        .query("SELECT 'c'", &[], &[], &[], &[])
        .map_err(usage)?;
    // All three go out in one write.
    pg.flush()?;
    crate::framework::expect_eq(&texts(&["a"]), &rows(&pg.until_done(a)?))?;
    match failure(&pg.until_done(b)?) {
        Some((code, _)) if code == "22012" => {}
        other => {
            return Err(fail(
                "the second query to fail with 22012",
                format!("{other:?}"),
            ));
        }
    }
    crate::framework::expect_eq(&texts(&["c"]), &rows(&pg.until_done(c)?))?;
    Ok(Pass::ok())
}

fn function_call(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    // int4pl is OID 177 in every PostgreSQL release (pg_proc.dat).
    let id = pg
        .conn
        .function_call(
            177,
            &[Format::Binary],
            &[Some(&2i32.to_be_bytes()), Some(&3i32.to_be_bytes())],
            Format::Binary,
        )
        .map_err(usage)?;
    let evs = pg.until_done(id)?;
    let value = evs.iter().find_map(|e| match e {
        Event::FunctionResult { value, .. } => Some(value.as_ref().map(|b| b.to_vec())),
        _ => None,
    });
    crate::framework::expect_eq(&Some(Some(5i32.to_be_bytes().to_vec())), &value)?;
    Ok(Pass::ok())
}
