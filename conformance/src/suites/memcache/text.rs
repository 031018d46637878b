//! The text protocol (protocol.txt "Storage commands", "Retrieval
//! command", "Deletion", "Increment/Decrement", "Touch", "Get And Touch",
//! "Statistics", "Other commands", "Error strings").

use proto_memcache::text::encode as enc;
use proto_memcache::text::{Reply, Value};
use proto_memcache::{GetMode, StoreMode};

use super::client::{Mc, TextReply, bin, expect, key, short};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "text/storage",
            "set answers STORED; get returns flags and data",
            set_get,
        ),
        Case::must(
            "text/storage",
            "add stores only absent keys (NOT_STORED otherwise)",
            add,
        ),
        Case::must("text/storage", "replace stores only present keys", replace),
        Case::must(
            "text/storage",
            "append and prepend extend present items only",
            append_prepend,
        ),
        Case::must(
            "text/storage",
            "cas: STORED with the current unique, EXISTS after a change, NOT_FOUND when gone",
            cas,
        ),
        Case::must(
            "text/storage",
            "noreply suppresses the answer; the next reply is the next request's",
            noreply,
        ),
        Case::must(
            "text/storage",
            "an item over the size limit answers SERVER_ERROR; the connection goes on",
            too_large,
        ),
        Case::must(
            "text/retrieval",
            "a multi-key get returns the hits in order, skips misses, ends with END",
            multi_get,
        ),
        Case::must(
            "text/retrieval",
            "values are binary safe and flags are 32 bits",
            binary_safe,
        ),
        Case::must(
            "text/deletion",
            "delete answers DELETED, then NOT_FOUND",
            delete,
        ),
        Case::must(
            "text/incr-decr",
            "incr/decr answer the new value; decr stops at 0; incr wraps at 2^64",
            incr_decr,
        ),
        Case::must(
            "text/incr-decr",
            "incr on a missing key is NOT_FOUND, on a non-number CLIENT_ERROR",
            incr_errors,
        ),
        Case::must(
            "text/touch",
            "touch answers TOUCHED, NOT_FOUND when absent",
            touch,
        ),
        Case::must(
            "text/gat",
            "gat and gats return the item (gats with its unique) and touch it",
            gat,
        ),
        Case::must(
            "text/statistics",
            "stats and stats settings are STAT lines ended by END",
            stats,
        ),
        Case::must("text/other", "version answers VERSION <version>", version),
        Case::must(
            "text/errors",
            "an unknown command answers ERROR",
            unknown_command,
        ),
        Case::must(
            "text/errors",
            "a key over 250 bytes answers CLIENT_ERROR",
            long_key,
        ),
        Case::must(
            "text/errors",
            "a data block longer than announced answers CLIENT_ERROR bad data chunk",
            bad_chunk,
        ),
    ]
}

fn store(
    c: &mut Mc,
    mode: StoreMode,
    k: &str,
    flags: u32,
    value: &[u8],
) -> Result<TextReply, Fail> {
    c.encode(|b, l| enc::store(b, mode, k.as_bytes(), flags, 0, value, false, l))?;
    c.text()
}

fn get(c: &mut Mc, mode: GetMode, keys: &[&str]) -> Result<Vec<Value<super::client::Bin>>, Fail> {
    let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
    c.encode(|b, l| enc::get(b, mode, &keys, l))?;
    let mut out = Vec::new();
    loop {
        match c.text()? {
            Reply::Value(v) => out.push(v),
            Reply::End => return Ok(out),
            other => return Err(fail("VALUE ... or END", short(&other))),
        }
    }
}

fn value(k: &str, flags: u32, data: &[u8]) -> Value<super::client::Bin> {
    Value {
        key: bin(k),
        flags,
        cas: None,
        data: bin(data),
    }
}

fn set_get(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("set");
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Set, &k, 42, b"hello")?,
    )?;
    expect(
        &vec![value(&k, 42, b"hello")],
        &get(&mut c, GetMode::Get, &[&k])?,
    )?;
    expect(&Reply::Stored, &store(&mut c, StoreMode::Set, &k, 0, b"")?)?;
    expect(&vec![value(&k, 0, b"")], &get(&mut c, GetMode::Get, &[&k])?)?;
    Ok(Pass::ok())
}

fn add(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("add");
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Add, &k, 0, b"one")?,
    )?;
    expect(
        &Reply::NotStored,
        &store(&mut c, StoreMode::Add, &k, 0, b"two")?,
    )?;
    expect(
        &vec![value(&k, 0, b"one")],
        &get(&mut c, GetMode::Get, &[&k])?,
    )?;
    Ok(Pass::ok())
}

fn replace(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("replace");
    expect(
        &Reply::NotStored,
        &store(&mut c, StoreMode::Replace, &k, 0, b"one")?,
    )?;
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Set, &k, 0, b"one")?,
    )?;
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Replace, &k, 0, b"two")?,
    )?;
    expect(
        &vec![value(&k, 0, b"two")],
        &get(&mut c, GetMode::Get, &[&k])?,
    )?;
    Ok(Pass::ok())
}

fn append_prepend(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("append");
    expect(
        &Reply::NotStored,
        &store(&mut c, StoreMode::Append, &k, 0, b"x")?,
    )?;
    expect(
        &Reply::NotStored,
        &store(&mut c, StoreMode::Prepend, &k, 0, b"x")?,
    )?;
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Set, &k, 7, b"mid")?,
    )?;
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Append, &k, 0, b"-end")?,
    )?;
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Prepend, &k, 0, b"start-")?,
    )?;
    // "append"/"prepend" ignore the flags argument (protocol.txt).
    expect(
        &vec![value(&k, 7, b"start-mid-end")],
        &get(&mut c, GetMode::Get, &[&k])?,
    )?;
    Ok(Pass::ok())
}

fn cas(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("cas");
    expect(
        &Reply::NotFound,
        &store(&mut c, StoreMode::Cas(1), &k, 0, b"x")?,
    )?;
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Set, &k, 0, b"one")?,
    )?;
    let got = get(&mut c, GetMode::Gets, &[&k])?;
    let unique = got
        .first()
        .and_then(|v| v.cas)
        .ok_or_else(|| fail("gets to return a cas unique", short(&got)))?;
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Cas(unique), &k, 0, b"two")?,
    )?;
    // The unique changed with that store: the old one now loses.
    expect(
        &Reply::Exists,
        &store(&mut c, StoreMode::Cas(unique), &k, 0, b"three")?,
    )?;
    expect(
        &vec![value(&k, 0, b"two")],
        &get(&mut c, GetMode::Get, &[&k])?,
    )?;
    Ok(Pass::ok())
}

fn noreply(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("noreply");
    c.encode(|b, l| enc::store(b, StoreMode::Set, k.as_bytes(), 0, 0, b"quiet", true, l))?;
    c.encode(|b, l| enc::delete(b, key("absent").as_bytes(), true, l))?;
    // The first reply on the wire must be the get's.
    expect(
        &vec![value(&k, 0, b"quiet")],
        &get(&mut c, GetMode::Get, &[&k])?,
    )?;
    // Nor may a late answer to either follow it.
    c.encode(|b, _| {
        enc::version(b);
        Ok(())
    })?;
    match c.text()? {
        Reply::Version(_) => Ok(Pass::ok()),
        other => Err(fail("VERSION", short(&other))),
    }
}

fn too_large(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("large");
    let big = vec![b'x'; 2 * 1024 * 1024];
    // Written by hand: the encoder refuses values over its own 1 MiB limit.
    let mut req = format!("set {k} 0 0 {}\r\n", big.len()).into_bytes();
    req.extend_from_slice(&big);
    req.extend_from_slice(b"\r\n");
    c.send(&req)?;
    match c.text()? {
        Reply::ServerError(m) => {
            c.encode(|b, _| {
                enc::version(b);
                Ok(())
            })?;
            match c.text()? {
                Reply::Version(_) => Ok(Pass::note(format!("SERVER_ERROR {:?}", m))),
                other => Err(fail("VERSION after the refused item", short(&other))),
            }
        }
        other => Err(fail(
            "SERVER_ERROR object too large for cache",
            short(&other),
        )),
    }
}

fn multi_get(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let (a, b, missing) = (key("a"), key("b"), key("missing"));
    store(&mut c, StoreMode::Set, &a, 1, b"A")?;
    store(&mut c, StoreMode::Set, &b, 2, b"B")?;
    expect(
        &vec![value(&b, 2, b"B"), value(&a, 1, b"A")],
        &get(&mut c, GetMode::Get, &[&b, &missing, &a])?,
    )?;
    expect(&vec![], &get(&mut c, GetMode::Get, &[&missing])?)?;
    Ok(Pass::ok())
}

fn binary_safe(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("binary");
    let data = b"END\r\nVALUE x 0 1\r\n\0\xff";
    expect(
        &Reply::Stored,
        &store(&mut c, StoreMode::Set, &k, u32::MAX, data)?,
    )?;
    expect(
        &vec![value(&k, u32::MAX, data)],
        &get(&mut c, GetMode::Get, &[&k])?,
    )?;
    Ok(Pass::ok())
}

fn delete(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("delete");
    store(&mut c, StoreMode::Set, &k, 0, b"x")?;
    for want in [Reply::Deleted, Reply::NotFound] {
        c.encode(|b, l| enc::delete(b, k.as_bytes(), false, l))?;
        expect(&want, &c.text()?)?;
    }
    Ok(Pass::ok())
}

fn incr(c: &mut Mc, k: &str, decr: bool, delta: u64) -> Result<TextReply, Fail> {
    c.encode(|b, l| enc::incr_decr(b, decr, k.as_bytes(), delta, false, l))?;
    c.text()
}

fn incr_decr(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("counter");
    store(&mut c, StoreMode::Set, &k, 0, b"10")?;
    expect(&Reply::Number(15), &incr(&mut c, &k, false, 5)?)?;
    expect(&Reply::Number(0), &incr(&mut c, &k, true, 100)?)?;
    store(
        &mut c,
        StoreMode::Set,
        &k,
        0,
        u64::MAX.to_string().as_bytes(),
    )?;
    // "the item must wrap around 64 bit" (protocol.txt).
    expect(&Reply::Number(1), &incr(&mut c, &k, false, 2)?)?;
    Ok(Pass::ok())
}

fn incr_errors(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("notnum");
    expect(&Reply::NotFound, &incr(&mut c, &key("absent"), false, 1)?)?;
    store(&mut c, StoreMode::Set, &k, 0, b"abc")?;
    match incr(&mut c, &k, false, 1)? {
        Reply::ClientError(_) => Ok(Pass::ok()),
        other => Err(fail("CLIENT_ERROR ...", short(&other))),
    }
}

fn touch(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("touch");
    store(&mut c, StoreMode::Set, &k, 0, b"x")?;
    for (k, want) in [
        (k.clone(), Reply::Touched),
        (key("absent"), Reply::NotFound),
    ] {
        c.encode(|b, l| enc::touch(b, k.as_bytes(), 3600, false, l))?;
        expect(&want, &c.text()?)?;
    }
    Ok(Pass::ok())
}

fn gat(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("gat");
    store(&mut c, StoreMode::Set, &k, 3, b"x")?;
    expect(
        &vec![value(&k, 3, b"x")],
        &get(&mut c, GetMode::Gat(3600), &[&k, &key("absent")])?,
    )?;
    let got = get(&mut c, GetMode::Gats(3600), &[&k])?;
    if got.len() != 1 || got[0].cas.is_none() || got[0].data != bin("x") {
        return Err(fail("one VALUE with a cas unique", short(&got)));
    }
    Ok(Pass::ok())
}

fn stats(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    for (args, must_have) in [
        (None, &["pid", "uptime", "version", "curr_connections"][..]),
        (Some(&b"settings"[..]), &["maxbytes", "item_size_max"][..]),
    ] {
        c.encode(|b, _| enc::stats(b, args))?;
        let mut names = Vec::new();
        loop {
            match c.text()? {
                Reply::Stat { name, .. } => {
                    names.push(String::from_utf8_lossy(&name.0).to_string())
                }
                Reply::End => break,
                other => return Err(fail("STAT ... or END", short(&other))),
            }
        }
        for n in must_have {
            if !names.iter().any(|x| x == n) {
                return Err(fail(
                    format!("STAT {n}"),
                    format!("{} stats without it", names.len()),
                ));
            }
        }
    }
    Ok(Pass::ok())
}

fn version(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    c.encode(|b, _| {
        enc::version(b);
        Ok(())
    })?;
    match c.text()? {
        Reply::Version(v) if !v.0.is_empty() => {
            Ok(Pass::note(String::from_utf8_lossy(&v.0).to_string()))
        }
        other => Err(fail("VERSION <version>", short(&other))),
    }
}

fn unknown_command(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    c.send(b"conformance_bogus\r\n")?;
    match c.text()? {
        Reply::Error(_) => Ok(Pass::ok()),
        other => Err(fail("ERROR", short(&other))),
    }
}

fn long_key(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    // Written by hand: the encoder refuses keys over 250 bytes.
    let mut req = b"get ".to_vec();
    req.resize(4 + 251, b'k');
    req.extend_from_slice(b"\r\n");
    c.send(&req)?;
    match c.text()? {
        Reply::ClientError(_) => Ok(Pass::ok()),
        other => Err(fail("CLIENT_ERROR ...", short(&other))),
    }
}

fn bad_chunk(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("chunk");
    c.send(format!("set {k} 0 0 3\r\nhello\r\nversion\r\n").as_bytes())?;
    match c.text()? {
        Reply::ClientError(m) if m.0.starts_with(b"bad data chunk") => {}
        other => return Err(fail("CLIENT_ERROR bad data chunk", short(&other))),
    }
    // memcached may answer the rest of the bad block as a line of its own
    // (ERROR); the connection must still reach the version.
    for _ in 0..3 {
        match c.text()? {
            Reply::Version(_) => return Ok(Pass::ok()),
            Reply::Error(_) => {}
            other => return Err(fail("VERSION (after at most ERROR lines)", short(&other))),
        }
    }
    Err(fail("VERSION", "more error lines"))
}
