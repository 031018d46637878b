//! 55.2.6 "COPY Operations".

use proto_pg::Event;

use super::client::Pg;
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "55.2.6",
            "COPY FROM STDIN: CopyInResponse, CopyData, CopyDone, then COPY <n>",
            copy_in,
        ),
        Case::must(
            "55.2.6",
            "COPY TO STDOUT: CopyOutResponse, CopyData per row, CopyDone",
            copy_out,
        ),
        Case::must(
            "55.2.6",
            "CopyFail aborts the COPY with ErrorResponse 57014; the connection goes on",
            copy_fail,
        ),
        Case::must(
            "55.2.6",
            "COPY FROM STDIN in an extended-query block completes after CopyDone",
            copy_in_extended,
        ),
    ]
}

fn usage(e: proto_pg::UsageError) -> Fail {
    fail("the request to be accepted by proto-pg", e.to_string())
}

fn table(pg: &mut Pg) -> Result<(), Fail> {
    pg.simple("CREATE TEMP TABLE conformance_copy (n int, s text)")?;
    Ok(())
}

/// Waits for the CopyIn event of `id`.
fn copy_in_started(pg: &mut Pg, id: proto_pg::ReqId) -> Result<(), Fail> {
    loop {
        match pg.next()? {
            Event::CopyIn { id: got, .. } if got == id => return Ok(()),
            Event::Failed { error, .. } => return Err(fail("CopyInResponse", error.to_string())),
            Event::RowDescription { .. } | Event::NoData { .. } => {}
            other if other.request().is_none() => {}
            other => return Err(fail("CopyInResponse", format!("{other:?}"))),
        }
    }
}

fn count(pg: &mut Pg) -> Result<String, Fail> {
    let evs = pg.simple("SELECT count(*) FROM conformance_copy")?;
    Ok(evs
        .iter()
        .find_map(|e| match e {
            Event::Row { row, .. } => row.get(0).map(|b| String::from_utf8_lossy(b).to_string()),
            _ => None,
        })
        .unwrap_or_default())
}

fn copy_in(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    table(&mut pg)?;
    let id = pg
        .conn
        .simple_query("COPY conformance_copy FROM STDIN")
        .map_err(usage)?;
    copy_in_started(&mut pg, id)?;
    pg.conn.copy_data(b"1\tone\n2\t").map_err(usage)?;
    pg.conn.copy_data(b"two\n3\t\\N\n").map_err(usage)?;
    pg.conn.copy_done().map_err(usage)?;
    let evs = pg.until_done(id)?;
    let tag = evs.iter().find_map(|e| match e {
        Event::CommandComplete { tag, .. } => Some(tag.clone()),
        _ => None,
    });
    crate::framework::expect_eq(&Some("COPY 3".to_string()), &tag)?;
    crate::framework::expect_eq(&"3".to_string(), &count(&mut pg)?)?;
    Ok(Pass::ok())
}

fn copy_out(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    table(&mut pg)?;
    pg.simple("INSERT INTO conformance_copy VALUES (1, 'a'), (2, NULL)")?;
    let id = pg
        .conn
        .simple_query("COPY conformance_copy TO STDOUT")
        .map_err(usage)?;
    let evs = pg.until_done(id)?;
    let mut data = Vec::new();
    let mut shape = Vec::new();
    for e in &evs {
        match e {
            Event::CopyOut { .. } => shape.push("CopyOut"),
            Event::CopyData { data: d, .. } => {
                data.extend_from_slice(d);
                if shape.last() != Some(&"CopyData") {
                    shape.push("CopyData");
                }
            }
            Event::CopyDone { .. } => shape.push("CopyDone"),
            Event::CommandComplete { .. } => shape.push("CommandComplete"),
            Event::Done { .. } => shape.push("Done"),
            _ => {}
        }
    }
    crate::framework::expect_eq(
        &vec!["CopyOut", "CopyData", "CopyDone", "CommandComplete", "Done"],
        &shape,
    )?;
    crate::framework::expect_eq(
        &"1\ta\n2\t\\N\n".to_string(),
        &String::from_utf8_lossy(&data).to_string(),
    )?;
    Ok(Pass::ok())
}

fn copy_fail(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    table(&mut pg)?;
    let id = pg
        .conn
        .simple_query("COPY conformance_copy FROM STDIN")
        .map_err(usage)?;
    copy_in_started(&mut pg, id)?;
    pg.conn.copy_data(b"1\tone\n").map_err(usage)?;
    pg.conn.copy_fail("conformance abort").map_err(usage)?;
    let evs = pg.until_done(id)?;
    match evs.last() {
        Some(Event::Failed { error, .. })
            if error.code == "57014" && error.message.contains("conformance abort") => {}
        other => {
            return Err(fail(
                "ErrorResponse 57014 quoting the reason",
                format!("{other:?}"),
            ));
        }
    }
    crate::framework::expect_eq(&"0".to_string(), &count(&mut pg)?)?;
    Ok(Pass::ok())
}

fn copy_in_extended(t: &Target) -> CaseResult {
    let mut pg = Pg::default(t)?;
    table(&mut pg)?;
    let id = pg
        .conn
        .query("COPY conformance_copy FROM STDIN", &[], &[], &[], &[])
        .map_err(usage)?;
    copy_in_started(&mut pg, id)?;
    pg.conn.copy_data(b"5\tfive\n").map_err(usage)?;
    pg.conn.copy_done().map_err(usage)?;
    match pg.until_done(id)?.last() {
        Some(Event::Done { .. }) => {}
        other => return Err(fail("the COPY to complete", format!("{other:?}"))),
    }
    crate::framework::expect_eq(&"1".to_string(), &count(&mut pg)?)?;
    Ok(Pass::ok())
}
