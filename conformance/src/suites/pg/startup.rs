//! 55.2.1 "Start-up": authentication methods, start-up parameters,
//! SSLRequest, NegotiateProtocolVersion.

use proto_pg::SslMode;
use proto_pg::message::backend::TransactionStatus;

use super::client::{Pg, Startup, config, dsn_config, messages, user_option};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail, skip};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "55.2.1",
            "start-up as the DSN's user: AuthenticationOk, BackendKeyData, ReadyForQuery idle",
            trust,
        ),
        Case::must(
            "55.2.1",
            "ParameterStatus reports the parameters the manual lists at start-up",
            parameters,
        ),
        Case::must(
            "55.2.1",
            "cleartext password authentication (--clear-user)",
            cleartext,
        ),
        Case::must("55.2.1", "MD5 password authentication (--md5-user)", md5),
        Case::must(
            "55.2.1",
            "SCRAM-SHA-256 authentication (--scram-user)",
            scram,
        ),
        Case::must(
            "55.2.1",
            "a wrong password fails with ErrorResponse 28P01",
            wrong_password,
        ),
        Case::must(
            "55.2.1",
            "an unknown database fails with ErrorResponse 3D000",
            unknown_database,
        ),
        Case::must(
            "55.2.1",
            "SSLRequest: a server without TLS answers N and start-up goes on",
            ssl_request,
        ),
        Case::must(
            "55.2.1",
            "protocol 3.2 requested: accepted, or NegotiateProtocolVersion down to 3.0",
            protocol_32,
        ),
        Case::must(
            "55.2.1",
            "an unknown _pq_ option is listed in NegotiateProtocolVersion",
            pq_option,
        ),
    ]
}

fn trust(t: &Target) -> CaseResult {
    let pg = Pg::default(t)?;
    let msgs = messages(&pg.raw, 0);
    for want in ["AuthenticationOk", "BackendKeyData", "ReadyForQuery Idle"] {
        if !msgs.iter().any(|m| m == want) {
            return Err(fail(want, msgs.join(", ")));
        }
    }
    if pg.conn.backend_key().is_none() || pg.conn.transaction_status() != TransactionStatus::Idle {
        return Err(fail(
            "a backend key and an idle connection",
            format!("{:?}", pg.conn.backend_key()),
        ));
    }
    Ok(Pass::ok())
}

fn parameters(t: &Target) -> CaseResult {
    let pg = Pg::default(t)?;
    // 55.2.7 "Asynchronous Operations": the parameters reported at start-up.
    let required = [
        "server_version",
        "server_encoding",
        "client_encoding",
        "application_name",
        "DateStyle",
        "IntervalStyle",
        "TimeZone",
        "integer_datetimes",
        "standard_conforming_strings",
    ];
    let missing: Vec<_> = required
        .iter()
        .filter(|p| pg.conn.parameter(p).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(fail("all of them", format!("missing {missing:?}")));
    }
    Ok(Pass::note(format!(
        "server_version {}",
        pg.conn.parameter("server_version").unwrap_or("?")
    )))
}

fn with_password(t: &Target, option: &str, method: &str) -> CaseResult {
    let (user, password) = user_option(t, option);
    match Pg::start(t, config(t, &user, Some(&password))?)? {
        Startup::Ready(pg) => {
            let msgs = messages(&pg.raw, 0);
            if msgs.iter().any(|m| m.starts_with(method)) {
                Ok(Pass::ok())
            } else {
                Err(fail(format!("{method} from the server"), msgs.join(", ")))
            }
        }
        Startup::Refused(proto_pg::Error::Server(e), _) if e.code == "28000" => Err(skip(format!(
            "no role {user:?} on this server ({}); pass --{option} user:password",
            e.message
        ))),
        Startup::Refused(e, raw) => Err(fail(
            format!("start-up as {user} to succeed"),
            format!("{e} after {}", messages(&raw, 0).join(", ")),
        )),
    }
}

fn cleartext(t: &Target) -> CaseResult {
    with_password(t, "clear-user", "AuthenticationCleartextPassword")
}

fn md5(t: &Target) -> CaseResult {
    with_password(t, "md5-user", "AuthenticationMD5Password")
}

fn scram(t: &Target) -> CaseResult {
    let r = with_password(t, "scram-user", "AuthenticationSASL [\"SCRAM-SHA-256\"")?;
    let (user, password) = user_option(t, "scram-user");
    let Startup::Ready(pg) = Pg::start(t, config(t, &user, Some(&password))?)? else {
        return Err(fail("the same start-up to succeed twice", "refused"));
    };
    let msgs = messages(&pg.raw, 0);
    for want in [
        "AuthenticationSASLContinue",
        "AuthenticationSASLFinal",
        "AuthenticationOk",
    ] {
        if !msgs.iter().any(|m| m == want) {
            return Err(fail(want, msgs.join(", ")));
        }
    }
    Ok(r)
}

fn expect_refused(t: &Target, cfg: proto_pg::Config, code: &str) -> CaseResult {
    match Pg::start(t, cfg)? {
        Startup::Refused(proto_pg::Error::Server(e), _) if e.code == code => Ok(Pass::ok()),
        Startup::Refused(e, _) => Err(fail(format!("ErrorResponse {code}"), e.to_string())),
        Startup::Ready(_) => Err(fail(
            format!("ErrorResponse {code}"),
            "the start-up succeeded",
        )),
    }
}

fn wrong_password(t: &Target) -> CaseResult {
    let (user, _) = user_option(t, "scram-user");
    expect_refused(
        t,
        config(t, &user, Some("conformance-wrong-password"))?,
        "28P01",
    )
}

fn unknown_database(t: &Target) -> CaseResult {
    let cfg = dsn_config(t)?.database("conformance_no_such_database");
    expect_refused(t, cfg, "3D000")
}

fn ssl_request(t: &Target) -> CaseResult {
    match Pg::start(t, dsn_config(t)?.ssl_mode(SslMode::Prefer))? {
        Startup::Ready(pg) => {
            if pg.raw.first() != Some(&b'N') {
                return Err(fail(
                    "the single byte N",
                    format!("{:?}", pg.raw.first().map(|b| *b as char)),
                ));
            }
            Ok(Pass::ok())
        }
        Startup::Refused(proto_pg::Error::TlsUnavailable(_), _) => Err(skip(
            "the server offers TLS (S), which this client cannot speak",
        )),
        Startup::Refused(e, _) => Err(fail("N, then a normal start-up", e.to_string())),
    }
}

fn protocol_32(t: &Target) -> CaseResult {
    let mut cfg = dsn_config(t)?;
    cfg.protocol_minor = 2;
    let pg = Pg::connect(t, cfg)?;
    let msgs = messages(&pg.raw, 0);
    match msgs
        .iter()
        .find(|m| m.starts_with("NegotiateProtocolVersion"))
    {
        Some(m)
            if m.starts_with("NegotiateProtocolVersion 3.0 ")
                || m.starts_with("NegotiateProtocolVersion 3.1 ") =>
        {
            Ok(Pass::note(m.clone()))
        }
        Some(m) => Err(fail("NegotiateProtocolVersion 3.0 or 3.1", m.clone())),
        None => Ok(Pass::note("3.2 accepted")),
    }
}

fn pq_option(t: &Target) -> CaseResult {
    let cfg = dsn_config(t)?.param("_pq_.conformance_option", "1");
    let raw = match Pg::start(t, cfg)? {
        // proto-pg sends no _pq_ options of its own, so it refuses to go
        // on when one was rejected; either way the message must be there.
        Startup::Refused(proto_pg::Error::ProtocolVersion(_), raw) => raw,
        Startup::Refused(e, raw) => {
            return Err(fail(
                "NegotiateProtocolVersion",
                format!("{e} after {}", messages(&raw, 0).join(", ")),
            ));
        }
        Startup::Ready(pg) => pg.raw,
    };
    let msgs = messages(&raw, 0);
    match msgs
        .iter()
        .find(|m| m.starts_with("NegotiateProtocolVersion"))
    {
        Some(m) if m.contains("_pq_.conformance_option") => Ok(Pass::note(m.clone())),
        _ => Err(Fail::Mismatch {
            expected: "NegotiateProtocolVersion listing _pq_.conformance_option".into(),
            seen: msgs.join(", "),
        }),
    }
}
