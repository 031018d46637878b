//! The meta protocol (protocol.txt "Meta Debug", "Meta Get", "Meta Set",
//! "Meta Delete", "Meta Arithmetic", "Meta No-Op").

use proto_memcache::meta::{Command, Flag, Mode, Reply};

use super::client::{Bin, Mc, MetaReply, bin, expect, key, short};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "meta/mg",
            "mg returns the flags asked for (v f t s k c O) with VA <size>",
            mg_hit,
        ),
        Case::must(
            "meta/mg",
            "mg on a miss answers EN; with q nothing, up to MN",
            mg_miss,
        ),
        Case::must(
            "meta/mg",
            "a base64 key (b) is accepted and returned encoded",
            base64_key,
        ),
        Case::must(
            "meta/ms",
            "ms stores with client flags and TTL (F, T); HD",
            ms,
        ),
        Case::must(
            "meta/ms",
            "ms modes: E add (NS when present), R replace (NS when absent), A append, P prepend",
            ms_modes,
        ),
        Case::must(
            "meta/ms",
            "ms with C: HD on the current CAS, EX on a stale one, NF when absent",
            ms_cas,
        ),
        Case::must(
            "meta/md",
            "md answers HD, then NF; with q, HD is suppressed but NF is not",
            md,
        ),
        Case::must(
            "meta/ma",
            "ma increments and decrements (D, MD), autovivifies (N, J), NF when absent",
            ma,
        ),
        Case::must(
            "meta/mn",
            "a quiet pipeline answers only the hits and failures, then MN",
            quiet_pipeline,
        ),
        Case::must(
            "meta/me",
            "me answers ME <key> with the item's metadata",
            me,
        ),
        Case::must(
            "meta/errors",
            "an invalid flag answers CLIENT_ERROR; the connection goes on",
            bad_flag,
        ),
    ]
}

fn get(c: &mut Mc, k: &str, flags: &[Flag<'_>]) -> Result<MetaReply, Fail> {
    c.meta_cmd(&Command::Get {
        key: k.as_bytes(),
        flags,
    })?;
    c.meta()
}

fn set(c: &mut Mc, k: &str, v: &[u8], flags: &[Flag<'_>]) -> Result<MetaReply, Fail> {
    c.meta_cmd(&Command::Set {
        key: k.as_bytes(),
        value: v,
        flags,
    })?;
    c.meta()
}

fn kind(want: &str, r: &MetaReply) -> Result<(), Fail> {
    if r.kind() == want {
        Ok(())
    } else {
        Err(fail(want, short(r)))
    }
}

fn flag(r: &MetaReply, letter: u8) -> Option<&[u8]> {
    r.flags().and_then(|f| f.get(letter))
}

fn mg_hit(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("mg");
    kind("HD", &set(&mut c, &k, b"hello", &[Flag::ClientFlags(77)])?)?;
    let r = get(
        &mut c,
        &k,
        &[
            Flag::ReturnValue,
            Flag::ReturnClientFlags,
            Flag::ReturnTtl,
            Flag::ReturnSize,
            Flag::ReturnKey,
            Flag::ReturnCas,
            Flag::Opaque(b"op1"),
        ],
    )?;
    let Reply::Value { flags, data } = &r else {
        return Err(fail("VA 5 ...", short(&r)));
    };
    expect(&bin("hello"), data)?;
    let checks: [(&str, bool); 6] = [
        ("f77", flags.client_flags() == Some(77)),
        ("t-1", flags.ttl() == Some(-1)),
        ("s5", flags.size() == Some(5)),
        ("k<key>", flags.key() == Some(k.as_bytes())),
        ("c<cas>", flags.cas().is_some_and(|c| c > 0)),
        ("Oop1", flags.opaque() == Some(b"op1")),
    ];
    for (what, ok) in checks {
        if !ok {
            return Err(fail(format!("returned flag {what}"), short(flags.raw())));
        }
    }
    Ok(Pass::ok())
}

fn mg_miss(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("absent");
    kind("EN", &get(&mut c, &k, &[Flag::ReturnValue])?)?;
    c.meta_cmd(&Command::Get {
        key: k.as_bytes(),
        flags: &[Flag::ReturnValue, Flag::Quiet],
    })?;
    c.meta_cmd(&Command::NoOp)?;
    expect(&Reply::NoOp, &c.meta()?)?;
    Ok(Pass::ok())
}

fn base64_key(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    // A key with bytes the text protocol cannot carry.
    let raw = format!("{}\x01 \r\n", key("b64"));
    c.meta_cmd(&Command::Set {
        key: raw.as_bytes(),
        value: b"v",
        flags: &[Flag::Base64Key],
    })?;
    kind("HD", &c.meta()?)?;
    c.meta_cmd(&Command::Get {
        key: raw.as_bytes(),
        flags: &[Flag::Base64Key, Flag::ReturnKey, Flag::ReturnValue],
    })?;
    let r = c.meta()?;
    let Reply::Value { flags, data } = &r else {
        return Err(fail("VA 1 ... b", short(&r)));
    };
    expect(&bin("v"), data)?;
    if !flags.is_base64() || flags.key().is_none() {
        return Err(fail(
            "the key returned base64-encoded with b",
            short(flags.raw()),
        ));
    }
    Ok(Pass::ok())
}

fn ms(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("ms");
    kind(
        "HD",
        &set(
            &mut c,
            &k,
            b"data",
            &[Flag::ClientFlags(5), Flag::Ttl(3600)],
        )?,
    )?;
    let r = get(&mut c, &k, &[Flag::ReturnClientFlags, Flag::ReturnTtl])?;
    kind("HD", &r)?;
    let ttl = r.flags().and_then(|f| f.ttl()).unwrap_or(-2);
    if r.flags().and_then(|f| f.client_flags()) != Some(5) || !(3500..=3600).contains(&ttl) {
        return Err(fail("f5 and t about 3600", short(&r)));
    }
    Ok(Pass::ok())
}

fn ms_modes(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("modes");
    kind("NS", &set(&mut c, &k, b"x", &[Flag::Mode(Mode::Replace)])?)?;
    kind("HD", &set(&mut c, &k, b"mid", &[Flag::Mode(Mode::Add)])?)?;
    kind("NS", &set(&mut c, &k, b"x", &[Flag::Mode(Mode::Add)])?)?;
    kind(
        "HD",
        &set(&mut c, &k, b"-end", &[Flag::Mode(Mode::Append)])?,
    )?;
    kind(
        "HD",
        &set(&mut c, &k, b"start-", &[Flag::Mode(Mode::Prepend)])?,
    )?;
    let r = get(&mut c, &k, &[Flag::ReturnValue])?;
    match &r {
        Reply::Value { data, .. } if *data == bin("start-mid-end") => Ok(Pass::ok()),
        _ => Err(fail("VA start-mid-end", short(&r))),
    }
}

fn ms_cas(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("mscas");
    kind("NF", &set(&mut c, &k, b"x", &[Flag::CompareCas(1)])?)?;
    let r = set(&mut c, &k, b"one", &[Flag::ReturnCas])?;
    let cas = flag(&r, b'c')
        .and_then(|c| std::str::from_utf8(c).ok()?.parse::<u64>().ok())
        .ok_or_else(|| fail("HD c<cas>", short(&r)))?;
    kind("HD", &set(&mut c, &k, b"two", &[Flag::CompareCas(cas)])?)?;
    kind("EX", &set(&mut c, &k, b"three", &[Flag::CompareCas(cas)])?)?;
    Ok(Pass::ok())
}

fn md(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("md");
    set(&mut c, &k, b"x", &[])?;
    c.meta_cmd(&Command::Delete {
        key: k.as_bytes(),
        flags: &[],
    })?;
    kind("HD", &c.meta()?)?;
    c.meta_cmd(&Command::Delete {
        key: k.as_bytes(),
        flags: &[],
    })?;
    kind("NF", &c.meta()?)?;
    set(&mut c, &k, b"x", &[])?;
    c.meta_cmd(&Command::Delete {
        key: k.as_bytes(),
        flags: &[Flag::Quiet],
    })?;
    c.meta_cmd(&Command::Delete {
        key: k.as_bytes(),
        flags: &[Flag::Quiet, Flag::Opaque(b"2")],
    })?;
    c.meta_cmd(&Command::NoOp)?;
    let r = c.meta()?;
    if r.kind() != "NF" || flag(&r, b'O') != Some(b"2") {
        return Err(fail(
            "NF O2 (the quiet miss), the quiet hit suppressed",
            short(&r),
        ));
    }
    expect(&Reply::NoOp, &c.meta()?)?;
    Ok(Pass::ok())
}

fn ma_value(c: &mut Mc, k: &str, flags: &[Flag<'_>]) -> Result<MetaReply, Fail> {
    c.meta_cmd(&Command::Arithmetic {
        key: k.as_bytes(),
        flags,
    })?;
    c.meta()
}

fn va(r: &MetaReply, want: &str) -> Result<(), Fail> {
    match r {
        Reply::Value { data, .. } if *data == bin(want) => Ok(()),
        _ => Err(fail(format!("VA {}\\r\\n{want}", want.len()), short(r))),
    }
}

fn ma(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("ma");
    kind("NF", &ma_value(&mut c, &k, &[])?)?;
    va(
        &ma_value(
            &mut c,
            &k,
            &[Flag::Vivify(0), Flag::Initial(10), Flag::ReturnValue],
        )?,
        "10",
    )?;
    va(&ma_value(&mut c, &k, &[Flag::ReturnValue])?, "11")?;
    va(
        &ma_value(&mut c, &k, &[Flag::Delta(9), Flag::ReturnValue])?,
        "20",
    )?;
    va(
        &ma_value(
            &mut c,
            &k,
            &[
                Flag::Mode(Mode::Decrement),
                Flag::Delta(5),
                Flag::ReturnValue,
            ],
        )?,
        "15",
    )?;
    va(
        &ma_value(
            &mut c,
            &k,
            &[
                Flag::Mode(Mode::Decrement),
                Flag::Delta(100),
                Flag::ReturnValue,
            ],
        )?,
        "0",
    )?;
    kind("HD", &ma_value(&mut c, &k, &[])?)?;
    Ok(Pass::ok())
}

fn quiet_pipeline(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let (hit, miss) = (key("hit"), key("miss"));
    set(&mut c, &hit, b"H", &[])?;
    let cmds = [
        Command::Get {
            key: miss.as_bytes(),
            flags: &[Flag::ReturnValue, Flag::Quiet, Flag::Opaque(b"1")],
        },
        Command::Get {
            key: hit.as_bytes(),
            flags: &[Flag::ReturnValue, Flag::Quiet, Flag::Opaque(b"2")],
        },
        Command::Set {
            key: hit.as_bytes(),
            value: b"H2",
            flags: &[Flag::Quiet, Flag::Opaque(b"3")],
        },
        Command::Delete {
            key: miss.as_bytes(),
            flags: &[Flag::Quiet, Flag::Opaque(b"4")],
        },
        Command::Set {
            key: hit.as_bytes(),
            value: b"x",
            flags: &[Flag::Quiet, Flag::Mode(Mode::Add), Flag::Opaque(b"5")],
        },
        Command::NoOp,
    ];
    for cmd in &cmds {
        c.meta_cmd(cmd)?;
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    loop {
        let r = c.meta()?;
        if r == Reply::NoOp {
            break;
        }
        let o = flag(&r, b'O')
            .map(|o| String::from_utf8_lossy(o).to_string())
            .unwrap_or_default();
        seen.push((r.kind().to_string(), o));
    }
    let want: Vec<(String, String)> = [("VA", "2"), ("NF", "4"), ("NS", "5")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    expect(&want, &seen)?;
    Ok(Pass::ok())
}

fn me(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    let k = key("me");
    set(&mut c, &k, b"x", &[])?;
    c.meta_cmd(&Command::Debug {
        key: k.as_bytes(),
        base64: false,
    })?;
    match c.meta()? {
        Reply::Debug { key: got, info } if got == bin(&k) && contains(&info, b"size=") => {
            Ok(Pass::ok())
        }
        other => Err(fail(
            format!("ME {k} exp=.. la=.. cas=.. size=.."),
            short(&other),
        )),
    }
}

fn contains(b: &Bin, needle: &[u8]) -> bool {
    b.0.windows(needle.len()).any(|w| w == needle)
}

fn bad_flag(t: &Target) -> CaseResult {
    let mut c = Mc::open(t)?;
    // Written by hand: the encoder only writes valid flags.
    c.send(format!("mg {} v !\r\n", key("x")).as_bytes())?;
    match c.meta()? {
        Reply::ClientError(_) => {}
        other => return Err(fail("CLIENT_ERROR invalid flag", short(&other))),
    }
    c.meta_cmd(&Command::NoOp)?;
    expect(&Reply::NoOp, &c.meta()?)?;
    Ok(Pass::ok())
}
