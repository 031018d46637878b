//! One case per RESP2 and RESP3 type, and the HELLO negotiation.

use bytes::Bytes;
use proto_resp::Frame;

use super::client::{Client, bulk, expect_frame, key, show};
use crate::framework::{Case, CaseResult, Pass, Target, fail, skip};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "hello/2",
            "HELLO 2 answers a flat RESP2 array with proto 2",
            hello2,
        ),
        Case::must(
            "hello/3",
            "HELLO 3 answers a map with server, version, proto 3",
            hello3,
        ),
        Case::must("hello/noproto", "HELLO 4 fails with -NOPROTO", hello4),
        Case::must("resp2/simple-string", "PING answers +PONG", simple_string),
        Case::must(
            "resp2/simple-error",
            "an unknown command answers -ERR",
            simple_error,
        ),
        Case::must("resp2/integer", "INCR answers :<n>", integer),
        Case::must(
            "resp2/bulk-string",
            "a binary value (CR, LF, NUL) round-trips as $<n>",
            bulk_string,
        ),
        Case::must("resp2/array", "LRANGE answers *<n> of bulk strings", array),
        Case::must(
            "resp2/null",
            "RESP2 nulls: $-1 for GET, *-1 for a timed-out BLPOP",
            resp2_nulls,
        ),
        Case::must(
            "resp2/map",
            "HGETALL under RESP2 is a flat array",
            resp2_map,
        ),
        Case::must(
            "resp3/null",
            "RESP3 null _ for GET and a timed-out BLPOP",
            resp3_null,
        ),
        Case::must("resp3/map", "HGETALL under RESP3 is a map %", map),
        Case::must("resp3/set", "SMEMBERS under RESP3 is a set ~", set),
        Case::must(
            "resp3/double",
            "ZSCORE and ZINCRBY are doubles, inf included",
            double,
        ),
        Case::must(
            "resp3/boolean",
            "Lua true/false under RESP3 are #t/#f",
            boolean,
        ),
        Case::must(
            "resp3/big-number",
            "Lua big_number is a big number (",
            big_number,
        ),
        Case::must(
            "resp3/verbatim",
            "LOLWUT and INFO are verbatim strings =txt:",
            verbatim,
        ),
        Case::must(
            "resp3/attribute",
            "DEBUG PROTOCOL attrib is an attribute | before its value",
            attribute,
        ),
    ]
}

fn get<'a>(map: &'a [(Frame, Frame)], name: &str) -> Option<&'a Frame> {
    map.iter()
        .find(|(k, _)| k.as_bytes() == Some(name.as_bytes()))
        .map(|(_, v)| v)
}

fn hello2(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let f = c.cmd(&["HELLO", "2"])?;
    let Frame::Array(items) = &f else {
        return Err(fail("an array", show(&f)));
    };
    if items.len() % 2 != 0 {
        return Err(fail(
            "an even number of elements (name, value pairs)",
            items.len().to_string(),
        ));
    }
    let pairs: Vec<_> = items
        .chunks(2)
        .map(|p| (p[0].clone(), p[1].clone()))
        .collect();
    expect_frame(
        &Frame::Integer(2),
        get(&pairs, "proto").unwrap_or(&Frame::Null),
    )?;
    // Still RESP2: a missing key is $-1.
    expect_frame(&Frame::NullBulk, &c.cmd(&["GET", &key("absent")])?)?;
    Ok(Pass::ok())
}

fn hello3(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let f = c.cmd(&["HELLO", "3"])?;
    let Frame::Map(m) = &f else {
        return Err(fail("a map", show(&f)));
    };
    expect_frame(&Frame::Integer(3), get(m, "proto").unwrap_or(&Frame::Null))?;
    for field in ["server", "version", "id", "mode", "role", "modules"] {
        if get(m, field).is_none() {
            return Err(fail(format!("a {field:?} entry"), show(&f)));
        }
    }
    Ok(Pass::note(format!(
        "{} {}",
        String::from_utf8_lossy(get(m, "server").and_then(Frame::as_bytes).unwrap_or(b"?")),
        String::from_utf8_lossy(get(m, "version").and_then(Frame::as_bytes).unwrap_or(b"?"))
    )))
}

fn hello4(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let f = c.cmd(&["HELLO", "4"])?;
    match f.as_error() {
        Some(e) if e.starts_with(b"NOPROTO") => {}
        _ => return Err(fail("-NOPROTO ...", show(&f))),
    }
    // The connection is still usable, still RESP2.
    expect_frame(&Frame::NullBulk, &c.cmd(&["GET", &key("absent")])?)?;
    Ok(Pass::ok())
}

fn simple_string(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    expect_frame(
        &Frame::SimpleString(Bytes::from_static(b"PONG")),
        &c.cmd(&["PING"])?,
    )?;
    Ok(Pass::ok())
}

fn simple_error(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let f = c.cmd(&["CONFORMANCE-NO-SUCH-COMMAND"])?;
    match &f {
        Frame::SimpleError(e) if e.starts_with(b"ERR ") => Ok(Pass::ok()),
        _ => Err(fail("-ERR unknown command ...", show(&f))),
    }
}

fn integer(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let k = key("counter");
    expect_frame(&Frame::Integer(1), &c.cmd(&["INCR", &k])?)?;
    expect_frame(&Frame::Integer(-41), &c.cmd(&["DECRBY", &k, "42"])?)?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn bulk_string(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let k = key("bulk");
    let value: &[u8] = b"line1\r\nline2\0\xff$-1\r\n";
    c.ok(&[b"SET" as &[u8], k.as_bytes(), value])?;
    expect_frame(
        &Frame::BulkString(Bytes::copy_from_slice(value)),
        &c.cmd(&["GET", &k])?,
    )?;
    c.ok(&[b"SET" as &[u8], k.as_bytes(), b""])?;
    expect_frame(&bulk(""), &c.cmd(&["GET", &k])?)?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn array(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let k = key("list");
    c.ok(&["RPUSH", &k, "a", "", "c"])?;
    expect_frame(
        &Frame::Array(vec![bulk("a"), bulk(""), bulk("c")]),
        &c.cmd(&["LRANGE", &k, "0", "-1"])?,
    )?;
    expect_frame(
        &Frame::Array(vec![]),
        &c.cmd(&["LRANGE", &key("absent"), "0", "-1"])?,
    )?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn resp2_nulls(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    expect_frame(&Frame::NullBulk, &c.cmd(&["GET", &key("absent")])?)?;
    expect_frame(
        &Frame::NullArray,
        &c.cmd(&["BLPOP", &key("absent"), "0.01"])?,
    )?;
    Ok(Pass::ok())
}

fn resp2_map(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let k = key("hash");
    c.ok(&["HSET", &k, "f", "v"])?;
    expect_frame(
        &Frame::Array(vec![bulk("f"), bulk("v")]),
        &c.cmd(&["HGETALL", &k])?,
    )?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn resp3_null(t: &Target) -> CaseResult {
    let mut c = Client::open3(t)?;
    expect_frame(&Frame::Null, &c.cmd(&["GET", &key("absent")])?)?;
    expect_frame(&Frame::Null, &c.cmd(&["BLPOP", &key("absent"), "0.01"])?)?;
    Ok(Pass::ok())
}

fn map(t: &Target) -> CaseResult {
    let mut c = Client::open3(t)?;
    let k = key("hash");
    c.ok(&["HSET", &k, "f", "v"])?;
    expect_frame(
        &Frame::Map(vec![(bulk("f"), bulk("v"))]),
        &c.cmd(&["HGETALL", &k])?,
    )?;
    expect_frame(&Frame::Map(vec![]), &c.cmd(&["HGETALL", &key("absent")])?)?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn set(t: &Target) -> CaseResult {
    let mut c = Client::open3(t)?;
    let k = key("set");
    c.ok(&["SADD", &k, "only"])?;
    expect_frame(&Frame::Set(vec![bulk("only")]), &c.cmd(&["SMEMBERS", &k])?)?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn double(t: &Target) -> CaseResult {
    let mut c = Client::open3(t)?;
    let k = key("zset");
    c.ok(&["ZADD", &k, "1.5", "a", "inf", "b", "-inf", "c"])?;
    expect_frame(&Frame::Double(1.5), &c.cmd(&["ZSCORE", &k, "a"])?)?;
    expect_frame(&Frame::Double(f64::INFINITY), &c.cmd(&["ZSCORE", &k, "b"])?)?;
    expect_frame(
        &Frame::Double(f64::NEG_INFINITY),
        &c.cmd(&["ZSCORE", &k, "c"])?,
    )?;
    expect_frame(&Frame::Double(3.0), &c.cmd(&["ZINCRBY", &k, "1.5", "a"])?)?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn boolean(t: &Target) -> CaseResult {
    let mut c = Client::open3(t)?;
    expect_frame(
        &Frame::Boolean(true),
        &c.cmd(&["EVAL", "redis.setresp(3); return true", "0"])?,
    )?;
    expect_frame(
        &Frame::Boolean(false),
        &c.cmd(&["EVAL", "redis.setresp(3); return false", "0"])?,
    )?;
    Ok(Pass::ok())
}

fn big_number(t: &Target) -> CaseResult {
    let mut c = Client::open3(t)?;
    let n = "-3492890328409238509324850943850943825024385";
    let f = c.cmd(&["EVAL", &format!("return {{big_number='{n}'}}"), "0"])?;
    if f.as_error().is_some_and(|e| e.starts_with(b"ERR")) {
        return Err(skip(format!(
            "the server has no Lua big_number conversion: {}",
            show(&f)
        )));
    }
    expect_frame(&Frame::BigNumber(Bytes::copy_from_slice(n.as_bytes())), &f)?;
    Ok(Pass::ok())
}

fn verbatim(t: &Target) -> CaseResult {
    let mut c = Client::open3(t)?;
    for cmd in [&["LOLWUT"][..], &["INFO", "server"]] {
        match c.cmd(cmd)? {
            Frame::Verbatim { format, text } if &format == b"txt" && !text.is_empty() => {}
            f => {
                return Err(fail(
                    format!("{} as =<n>\\r\\ntxt:...", cmd.join(" ")),
                    show(&f),
                ));
            }
        }
    }
    // Under RESP2 the same reply is a plain bulk string.
    let mut c2 = Client::open(t)?;
    match c2.cmd(&["INFO", "server"])? {
        Frame::BulkString(b) if b.starts_with(b"# Server") => Ok(Pass::ok()),
        f => Err(fail("INFO under RESP2 as a bulk string", show(&f))),
    }
}

fn attribute(t: &Target) -> CaseResult {
    let mut c = Client::open3(t)?;
    let f = c.cmd(&["DEBUG", "PROTOCOL", "attrib"])?;
    if let Some(e) = f.as_error() {
        return Err(skip(format!(
            "DEBUG is disabled, and only DEBUG PROTOCOL sends attributes: {}",
            String::from_utf8_lossy(&e[..e.len().min(60)])
        )));
    }
    match f {
        Frame::Attribute { attributes, value } if !attributes.is_empty() && !value.is_null() => {
            Ok(Pass::ok())
        }
        f => Err(fail("|<n> attributes, then the value", show(&f))),
    }
}
