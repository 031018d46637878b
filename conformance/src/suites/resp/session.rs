//! Inline commands, pipelining, error replies, pub/sub and client-side
//! caching pushes.

use bytes::Bytes;
use proto_resp::Frame;

use super::client::{Client, bulk, expect_frame, key, show};
use crate::framework::{Case, CaseResult, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "inline",
            "inline commands (PING, ECHO, quoted SET) are answered",
            inline,
        ),
        Case::must(
            "pipelining",
            "100 pipelined commands are answered in order",
            pipelining,
        ),
        Case::must(
            "errors/wrongtype",
            "a command on the wrong type answers -WRONGTYPE; the connection goes on",
            wrongtype,
        ),
        Case::must(
            "errors/arity",
            "a wrong argument count answers -ERR; the connection goes on",
            arity,
        ),
        Case::must(
            "errors/protocol",
            "a malformed request answers -ERR Protocol error and the server closes",
            protocol_error,
        ),
        Case::must(
            "resp2/pubsub",
            "RESP2 SUBSCRIBE: confirmations and messages are arrays",
            resp2_pubsub,
        ),
        Case::must(
            "resp3/push",
            "RESP3 SUBSCRIBE: confirmations and messages are pushes >; replies still flow",
            resp3_push,
        ),
        Case::must(
            "resp3/push-invalidate",
            "CLIENT TRACKING: a write elsewhere sends a push >invalidate",
            invalidate,
        ),
    ]
}

fn inline(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let k = key("inline");
    c.send_raw(b"PING\r\n")?;
    expect_frame(
        &Frame::SimpleString(Bytes::from_static(b"PONG")),
        &c.read()?,
    )?;
    c.send_raw(b"ECHO hello\r\n")?;
    expect_frame(&bulk("hello"), &c.read()?)?;
    c.send_raw(format!("SET {k} \"a b\"\r\n").as_bytes())?;
    expect_frame(&Frame::SimpleString(Bytes::from_static(b"OK")), &c.read()?)?;
    expect_frame(&bulk("a b"), &c.cmd(&["GET", &k])?)?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn pipelining(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let k = key("pipeline");
    let mut bytes = bytes::BytesMut::new();
    for _ in 0..100 {
        proto_resp::codec::encode_command(&mut bytes, &["INCR", &k]);
    }
    proto_resp::codec::encode_command(&mut bytes, &["GET", &k]);
    c.send_raw(&bytes)?;
    for i in 1..=100 {
        let f = c.read()?;
        if f != Frame::Integer(i) {
            return Err(fail(format!("reply {i} to be :{i}"), show(&f)));
        }
    }
    expect_frame(&bulk("100"), &c.read()?)?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn still_usable(c: &mut Client) -> Result<(), crate::framework::Fail> {
    expect_frame(
        &Frame::SimpleString(Bytes::from_static(b"PONG")),
        &c.cmd(&["PING"])?,
    )
}

fn wrongtype(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let k = key("string");
    c.ok(&["SET", &k, "v"])?;
    let f = c.cmd(&["LPUSH", &k, "x"])?;
    if !f.as_error().is_some_and(|e| e.starts_with(b"WRONGTYPE")) {
        return Err(fail("-WRONGTYPE ...", show(&f)));
    }
    still_usable(&mut c)?;
    c.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}

fn arity(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    let f = c.cmd(&["GET"])?;
    if !f.as_error().is_some_and(|e| e.starts_with(b"ERR")) {
        return Err(fail("-ERR wrong number of arguments ...", show(&f)));
    }
    still_usable(&mut c)?;
    Ok(Pass::ok())
}

fn protocol_error(t: &Target) -> CaseResult {
    let mut c = Client::open(t)?;
    c.send_raw(b"*1\r\n$x\r\n")?;
    let f = c.read()?;
    if !f
        .as_error()
        .is_some_and(|e| e.starts_with(b"ERR Protocol error"))
    {
        return Err(fail("-ERR Protocol error: ...", show(&f)));
    }
    if !c.closed() {
        return Err(fail(
            "the server to close after a protocol error",
            "the connection stayed open",
        ));
    }
    Ok(Pass::ok())
}

fn resp2_pubsub(t: &Target) -> CaseResult {
    let ch = key("channel");
    let mut sub = Client::open(t)?;
    expect_frame(
        &Frame::Array(vec![bulk("subscribe"), bulk(&ch), Frame::Integer(1)]),
        &sub.cmd(&["SUBSCRIBE", &ch])?,
    )?;
    let mut publisher = Client::open(t)?;
    expect_frame(
        &Frame::Integer(1),
        &publisher.cmd(&["PUBLISH", &ch, "hello"])?,
    )?;
    expect_frame(
        &Frame::Array(vec![bulk("message"), bulk(&ch), bulk("hello")]),
        &sub.read()?,
    )?;
    // In RESP2 subscribed mode PING answers the array ["pong", ""].
    expect_frame(
        &Frame::Array(vec![bulk("pong"), bulk("")]),
        &sub.cmd(&["PING"])?,
    )?;
    Ok(Pass::ok())
}

fn resp3_push(t: &Target) -> CaseResult {
    let ch = key("channel");
    let mut sub = Client::open3(t)?;
    expect_frame(
        &Frame::Push(vec![bulk("subscribe"), bulk(&ch), Frame::Integer(1)]),
        &sub.cmd(&["SUBSCRIBE", &ch])?,
    )?;
    let mut publisher = Client::open3(t)?;
    expect_frame(
        &Frame::Integer(1),
        &publisher.cmd(&["PUBLISH", &ch, "hello"])?,
    )?;
    expect_frame(
        &Frame::Push(vec![bulk("message"), bulk(&ch), bulk("hello")]),
        &sub.read()?,
    )?;
    // RESP3 lets a subscribed client run ordinary commands; their replies
    // are ordinary frames, told apart from pushes by the type byte.
    expect_frame(
        &Frame::SimpleString(Bytes::from_static(b"PONG")),
        &sub.cmd(&["PING"])?,
    )?;
    expect_frame(&Frame::Null, &sub.cmd(&["GET", &key("absent")])?)?;
    Ok(Pass::ok())
}

fn invalidate(t: &Target) -> CaseResult {
    let k = key("tracked");
    let mut a = Client::open3(t)?;
    expect_frame(
        &Frame::SimpleString(Bytes::from_static(b"OK")),
        &a.cmd(&["CLIENT", "TRACKING", "ON"])?,
    )?;
    expect_frame(&Frame::Null, &a.cmd(&["GET", &k])?)?;
    let mut b = Client::open3(t)?;
    b.ok(&["SET", &k, "v"])?;
    let f = a.read()?;
    match &f {
        Frame::Push(items)
            if items.first().and_then(Frame::as_bytes) == Some(b"invalidate")
                && items.get(1) == Some(&Frame::Array(vec![bulk(&k)])) => {}
        _ => return Err(fail(format!(">2 invalidate [{k}]"), show(&f))),
    }
    b.cmd(&["DEL", &k])?;
    Ok(Pass::ok())
}
