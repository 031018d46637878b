//! The binary protocol (protocol-binary.txt "Commands", "Response
//! Status"): still served by memcached 1.6, which picks it per connection
//! from the first byte.

use proto_memcache::binary::encode::{Request, counter_extras, store_extras};
use proto_memcache::binary::{Opcode, Status};

use super::client::{BinResponse, Mc, bin, expect, key, short};
use crate::framework::{Case, CaseResult, Fail, Pass, Target, fail};

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case::must(
            "binary/get-set",
            "Set returns a CAS; Get/GetK return flags, (key) and value; a miss is status 0x0001",
            get_set,
        ),
        Case::must(
            "binary/add-replace",
            "Add on a present key is 0x0002, Replace on an absent one 0x0001",
            add_replace,
        ),
        Case::must(
            "binary/cas",
            "Set with a stale CAS is 0x0002 (key exists)",
            cas,
        ),
        Case::must("binary/delete", "Delete succeeds, then 0x0001", delete),
        Case::must(
            "binary/incr-decr",
            "Increment/Decrement: initial value, 8-byte results, 0xffffffff expiry refuses creation",
            incr_decr,
        ),
        Case::must(
            "binary/append-prepend",
            "Append and Prepend extend the value",
            append_prepend,
        ),
        Case::must(
            "binary/touch-gat",
            "Touch succeeds; Gat returns the value",
            touch_gat,
        ),
        Case::must(
            "binary/quiet",
            "quiet opcodes: only hits and errors answer, Noop closes the run, opaques match",
            quiet,
        ),
        Case::must(
            "binary/version",
            "Version returns the version string",
            version,
        ),
        Case::must(
            "binary/stat",
            "Stat returns key/value packets ended by an empty key",
            stat,
        ),
        Case::must(
            "binary/errors",
            "Increment on a non-number is 0x0006; the connection goes on",
            non_numeric,
        ),
    ]
}

struct Bin<'a>(&'a mut Mc, u32);

impl Bin<'_> {
    fn call(&mut self, mut req: Request<'_>) -> Result<BinResponse, Fail> {
        self.1 += 1;
        req.opaque = self.1;
        self.0.bin_cmd(&req)?;
        let r = self.0.binary()?;
        if r.opaque != self.1 || r.opcode != req.opcode {
            return Err(fail(
                format!("the answer to {:?} opaque {}", req.opcode, self.1),
                format!("{:?} opaque {}", r.opcode, r.opaque),
            ));
        }
        Ok(r)
    }
}

fn req<'a>(op: Opcode, key: &'a str) -> Request<'a> {
    let mut r = Request::new(op, 0);
    r.key = key.as_bytes();
    r
}

fn status(want: Status, r: &BinResponse) -> Result<(), Fail> {
    if r.status == want {
        Ok(())
    } else {
        Err(fail(
            format!("status {:#06x}", want.0),
            format!("{:#06x} {}", r.status.0, short(&r.value)),
        ))
    }
}

fn set<'a>(op: Opcode, key: &'a str, extras: &'a [u8], value: &'a [u8]) -> Request<'a> {
    let mut r = req(op, key);
    r.extras = extras;
    r.value = value;
    r
}

fn get_set(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let k = key("bin");
    let ex = store_extras(0xdead_beef, 0);
    let r = c.call(set(Opcode::Set, &k, &ex, b"hello"))?;
    status(Status::NO_ERROR, &r)?;
    if r.cas == 0 {
        return Err(fail("a non-zero CAS", "0"));
    }
    let r = c.call(req(Opcode::Get, &k))?;
    status(Status::NO_ERROR, &r)?;
    expect(&bin(0xdead_beef_u32.to_be_bytes()), &r.extras)?;
    expect(&bin("hello"), &r.value)?;
    expect(&bin(""), &r.key)?;
    let r = c.call(req(Opcode::GetK, &k))?;
    expect(&bin(&k), &r.key)?;
    status(
        Status::KEY_NOT_FOUND,
        &c.call(req(Opcode::Get, &key("absent")))?,
    )?;
    Ok(Pass::ok())
}

fn add_replace(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let k = key("bin-add");
    let ex = store_extras(0, 0);
    status(
        Status::KEY_NOT_FOUND,
        &c.call(set(Opcode::Replace, &k, &ex, b"x"))?,
    )?;
    status(Status::NO_ERROR, &c.call(set(Opcode::Add, &k, &ex, b"x"))?)?;
    status(
        Status::KEY_EXISTS,
        &c.call(set(Opcode::Add, &k, &ex, b"y"))?,
    )?;
    status(
        Status::NO_ERROR,
        &c.call(set(Opcode::Replace, &k, &ex, b"z"))?,
    )?;
    Ok(Pass::ok())
}

fn cas(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let k = key("bin-cas");
    let ex = store_extras(0, 0);
    let first = c.call(set(Opcode::Set, &k, &ex, b"one"))?;
    let mut again = set(Opcode::Set, &k, &ex, b"two");
    again.cas = first.cas;
    status(Status::NO_ERROR, &c.call(again)?)?;
    let mut stale = set(Opcode::Set, &k, &ex, b"three");
    stale.cas = first.cas;
    status(Status::KEY_EXISTS, &c.call(stale)?)?;
    Ok(Pass::ok())
}

fn delete(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let k = key("bin-del");
    let ex = store_extras(0, 0);
    c.call(set(Opcode::Set, &k, &ex, b"x"))?;
    status(Status::NO_ERROR, &c.call(req(Opcode::Delete, &k))?)?;
    status(Status::KEY_NOT_FOUND, &c.call(req(Opcode::Delete, &k))?)?;
    Ok(Pass::ok())
}

fn counter(
    c: &mut Bin<'_>,
    op: Opcode,
    k: &str,
    delta: u64,
    initial: u64,
    exp: u32,
) -> Result<BinResponse, Fail> {
    let ex = counter_extras(delta, initial, exp);
    c.call(set(op, k, &ex, b""))
}

fn number(r: &BinResponse, want: u64) -> Result<(), Fail> {
    status(Status::NO_ERROR, r)?;
    expect(&bin(want.to_be_bytes()), &r.value)
}

fn incr_decr(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let k = key("bin-counter");
    status(
        Status::KEY_NOT_FOUND,
        &counter(&mut c, Opcode::Increment, &k, 1, 5, 0xffff_ffff)?,
    )?;
    number(&counter(&mut c, Opcode::Increment, &k, 1, 5, 0)?, 5)?;
    number(&counter(&mut c, Opcode::Increment, &k, 10, 5, 0)?, 15)?;
    number(&counter(&mut c, Opcode::Decrement, &k, 20, 5, 0)?, 0)?;
    Ok(Pass::ok())
}

fn append_prepend(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let k = key("bin-append");
    let ex = store_extras(0, 0);
    c.call(set(Opcode::Set, &k, &ex, b"mid"))?;
    status(
        Status::NO_ERROR,
        &c.call(set(Opcode::Append, &k, b"", b"-end"))?,
    )?;
    status(
        Status::NO_ERROR,
        &c.call(set(Opcode::Prepend, &k, b"", b"start-"))?,
    )?;
    expect(&bin("start-mid-end"), &c.call(req(Opcode::Get, &k))?.value)?;
    Ok(Pass::ok())
}

fn touch_gat(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let k = key("bin-touch");
    let ex = store_extras(1, 0);
    c.call(set(Opcode::Set, &k, &ex, b"x"))?;
    let exp = 3600u32.to_be_bytes();
    status(
        Status::NO_ERROR,
        &c.call(set(Opcode::Touch, &k, &exp, b""))?,
    )?;
    let r = c.call(set(Opcode::Gat, &k, &exp, b""))?;
    status(Status::NO_ERROR, &r)?;
    expect(&bin("x"), &r.value)?;
    status(
        Status::KEY_NOT_FOUND,
        &c.call(set(Opcode::Touch, &key("absent"), &exp, b""))?,
    )?;
    Ok(Pass::ok())
}

fn quiet(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let (hit, miss) = (key("bin-hit"), key("bin-miss"));
    let ex = store_extras(0, 0);
    let reqs = [
        (Opcode::SetQ, hit.as_str(), &ex[..], &b"H"[..]),
        (Opcode::GetKQ, miss.as_str(), &[][..], &[][..]),
        (Opcode::GetKQ, hit.as_str(), &[][..], &[][..]),
        (Opcode::AddQ, hit.as_str(), &ex[..], &b"x"[..]),
        (Opcode::DeleteQ, miss.as_str(), &[][..], &[][..]),
    ];
    for (i, (op, k, extras, value)) in reqs.iter().enumerate() {
        let mut r = set(*op, k, extras, value);
        r.opaque = i as u32 + 1;
        mc.bin_cmd(&r)?;
    }
    mc.bin_cmd(&Request::new(Opcode::Noop, 99))?;
    let mut seen = Vec::new();
    loop {
        let r = mc.binary()?;
        if r.opcode == Opcode::Noop {
            if r.opaque != 99 {
                return Err(fail("Noop opaque 99", r.opaque.to_string()));
            }
            break;
        }
        seen.push((r.opcode, r.opaque, r.status.0));
    }
    let want = vec![
        (Opcode::GetKQ, 3, 0),
        (Opcode::AddQ, 4, Status::KEY_EXISTS.0),
        (Opcode::DeleteQ, 5, Status::KEY_NOT_FOUND.0),
    ];
    expect(&want, &seen)?;
    Ok(Pass::ok())
}

fn version(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let r = c.call(Request::new(Opcode::Version, 0))?;
    status(Status::NO_ERROR, &r)?;
    if r.value.0.is_empty() || !r.value.0.iter().all(|b| b.is_ascii_graphic()) {
        return Err(fail("a version string", short(&r.value)));
    }
    Ok(Pass::note(String::from_utf8_lossy(&r.value.0).to_string()))
}

fn stat(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    mc.bin_cmd(&Request::new(Opcode::Stat, 7))?;
    let mut names = Vec::new();
    loop {
        let r = mc.binary()?;
        status(Status::NO_ERROR, &r)?;
        if r.opcode != Opcode::Stat || r.opaque != 7 {
            return Err(fail(
                "Stat packets with opaque 7",
                format!("{:?} {}", r.opcode, r.opaque),
            ));
        }
        if r.key.0.is_empty() {
            break;
        }
        names.push(String::from_utf8_lossy(&r.key.0).to_string());
    }
    for n in ["pid", "uptime", "version"] {
        if !names.iter().any(|x| x == n) {
            return Err(fail(
                format!("stat {n}"),
                format!("{} stats without it", names.len()),
            ));
        }
    }
    Ok(Pass::ok())
}

fn non_numeric(t: &Target) -> CaseResult {
    let mut mc = Mc::open(t)?;
    let mut c = Bin(&mut mc, 0);
    let k = key("bin-nan");
    let ex = store_extras(0, 0);
    c.call(set(Opcode::Set, &k, &ex, b"abc"))?;
    status(
        Status::NON_NUMERIC,
        &counter(&mut c, Opcode::Increment, &k, 1, 0, 0)?,
    )?;
    status(Status::NO_ERROR, &c.call(Request::new(Opcode::Noop, 0))?)?;
    Ok(Pass::ok())
}
