//! Integration tests against real memcached 1.6 servers
//! (`WEFT_MEMCACHED_ADDRS`), one run per protocol flavour.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Client, addrs, prefix};
use proto_memcache::{
    GetMode, Item, Limits, Protocol, ProtocolError, Response, ServerErrorKind, StoreMode,
    StoreOptions, UsageError,
};

const ALL: [Protocol; 3] = [Protocol::Text, Protocol::Meta, Protocol::Binary];

fn values(r: Response) -> Vec<Item> {
    match r {
        Response::Values(v) => v,
        other => panic!("expected values, got {other:?}"),
    }
}

fn one_value(r: Response) -> Option<Item> {
    let mut v = values(r);
    assert!(v.len() <= 1);
    v.pop()
}

fn every_command(addr: &str, p: Protocol) {
    let pre = prefix("cmds", p);
    let k = |s: &str| format!("{pre}{s}").into_bytes();
    let mut c = Client::connect(addr, p);

    // set / get / gets
    let opts = StoreOptions {
        flags: 42,
        exptime: 0,
        noreply: false,
    };
    assert_eq!(
        c.run(|c| c.store(StoreMode::Set, &k("a"), b"hello", opts)),
        Response::Stored
    );
    let it = one_value(c.run(|c| c.get(&[k("a")]))).expect("hit");
    assert_eq!(
        (&it.key[..], it.flags, &it.value[..]),
        (&k("a")[..], 42, &b"hello"[..])
    );
    let it = one_value(c.run(|c| c.gets(&[k("a")]))).expect("hit");
    assert!(it.cas.is_some());
    assert_eq!(one_value(c.run(|c| c.get(&[k("missing")]))), None);

    // add / replace
    assert_eq!(
        c.run(|c| c.store(StoreMode::Add, &k("a"), b"x", StoreOptions::default())),
        Response::NotStored
    );
    assert_eq!(
        c.run(|c| c.store(StoreMode::Add, &k("b"), b"bee", StoreOptions::default())),
        Response::Stored
    );
    assert_eq!(
        c.run(|c| c.store(
            StoreMode::Replace,
            &k("nope"),
            b"x",
            StoreOptions::default()
        )),
        Response::NotStored
    );
    assert_eq!(
        c.run(|c| c.store(StoreMode::Replace, &k("b"), b"B", StoreOptions::default())),
        Response::Stored
    );

    // append / prepend
    assert_eq!(
        c.run(|c| c.store(StoreMode::Append, &k("b"), b">", StoreOptions::default())),
        Response::Stored
    );
    assert_eq!(
        c.run(|c| c.store(StoreMode::Prepend, &k("b"), b"<", StoreOptions::default())),
        Response::Stored
    );
    assert_eq!(
        &one_value(c.run(|c| c.get(&[k("b")]))).unwrap().value[..],
        b"<B>"
    );
    assert_eq!(
        c.run(|c| c.store(StoreMode::Append, &k("nope"), b"x", StoreOptions::default())),
        Response::NotStored
    );

    // incr / decr
    assert_eq!(c.run(|c| c.set(&k("n"), b"10")), Response::Stored);
    assert_eq!(c.run(|c| c.incr(&k("n"), 5, false)), Response::Counter(15));
    assert_eq!(c.run(|c| c.decr(&k("n"), 100, false)), Response::Counter(0));
    assert_eq!(c.run(|c| c.incr(&k("nope"), 1, false)), Response::NotFound);
    match c.run(|c| c.incr(&k("a"), 1, false)) {
        Response::Error(e) => assert!(matches!(
            e.kind,
            ServerErrorKind::Client | ServerErrorKind::Status(_)
        )),
        other => panic!("incr of non-numeric: {other:?}"),
    }

    // touch / gat / gats
    assert_eq!(c.run(|c| c.touch(&k("a"), 3600, false)), Response::Touched);
    assert_eq!(
        c.run(|c| c.touch(&k("nope"), 3600, false)),
        Response::NotFound
    );
    let it = one_value(c.run(|c| c.retrieve(GetMode::Gat(3600), &[k("a")]))).unwrap();
    assert_eq!(&it.value[..], b"hello");
    let it = one_value(c.run(|c| c.retrieve(GetMode::Gats(3600), &[k("a")]))).unwrap();
    assert!(it.cas.is_some());

    // delete
    assert_eq!(c.run(|c| c.delete(&k("b"), false)), Response::Deleted);
    assert_eq!(c.run(|c| c.delete(&k("b"), false)), Response::NotFound);

    // version / stats / verbosity / flush_all
    match c.run(|c| c.version()) {
        Response::Version(v) => assert!(v.starts_with(b"1.")),
        other => panic!("{other:?}"),
    }
    let Response::Stats(stats) = c.run(|c| c.stats(None)) else {
        panic!()
    };
    assert!(stats.iter().any(|s| &s.name[..] == b"pid"));
    let Response::Stats(settings) = c.run(|c| c.stats(Some(b"settings"))) else {
        panic!()
    };
    let verbosity: u32 = settings
        .iter()
        .find(|s| &s.name[..] == b"verbosity")
        .map(|s| std::str::from_utf8(&s.value).unwrap().parse().unwrap())
        .unwrap();
    // Setting the current level again changes nothing for concurrent tests.
    if p == Protocol::Binary {
        assert!(matches!(
            c.conn.verbosity(verbosity, false),
            Err(UsageError::WrongFlavour(_))
        ));
    } else {
        assert_eq!(c.run(|c| c.verbosity(verbosity, false)), Response::Ok);
    }
    // An absolute time in 1970 makes the server flush nothing (it lands
    // before process start), so concurrent tests are unaffected.
    assert_eq!(c.run(|c| c.flush_all(Some(2_592_001), false)), Response::Ok);
    assert_eq!(one_value(c.run(|c| c.get(&[k("a")]))).unwrap().flags, 42);

    // noreply forms: text sends `noreply`, meta `q` (closed by its own `mn`),
    // binary quiet opcodes (closed by one Noop per run); every request still
    // completes on its own, with no caller-side noop.
    let quiet = StoreOptions {
        noreply: true,
        ..StoreOptions::default()
    };
    let run_quiet = |c: &mut Client,
                     f: &dyn Fn(
        &mut proto_memcache::Connection,
    ) -> Result<proto_memcache::ReqId, UsageError>| {
        let id = f(&mut c.conn).unwrap();
        c.wait(id).unwrap()
    };
    assert_eq!(
        run_quiet(&mut c, &|c| c.store(
            StoreMode::Set,
            &k("q"),
            b"quiet",
            quiet
        )),
        Response::NoReply
    );
    let missing = run_quiet(&mut c, &|c| c.delete(&k("q2"), true));
    // Only the common case is suppressed: a miss still answers.
    let expect = if p == Protocol::Text {
        Response::NoReply
    } else {
        Response::NotFound
    };
    assert_eq!(missing, expect);
    assert_eq!(
        &one_value(c.run(|c| c.get(&[k("q")]))).unwrap().value[..],
        b"quiet"
    );
    assert_eq!(
        run_quiet(&mut c, &|c| c.delete(&k("q"), true)),
        Response::NoReply
    );
    assert_eq!(one_value(c.run(|c| c.get(&[k("q")]))), None);
    assert_eq!(
        run_quiet(&mut c, &|c| c.incr(&k("n"), 2, true)),
        Response::NoReply
    );
    assert_eq!(c.run(|c| c.incr(&k("n"), 0, false)), Response::Counter(2));
    assert_eq!(
        run_quiet(&mut c, &|c| c.flush_all(Some(2_592_001), true)),
        Response::NoReply
    );

    // noop
    match p {
        Protocol::Text => assert_eq!(c.conn.noop(), Err(UsageError::WrongFlavour("noop"))),
        _ => assert_eq!(c.run(|c| c.noop()), Response::Ok),
    }
    assert_eq!(c.conn.pending(), 0);

    // quit: answered (binary) or not (text, meta), then a clean close.
    let v = c.conn.version().unwrap();
    let q = c.conn.quit().unwrap();
    assert!(matches!(c.wait(v).unwrap(), Response::Version(_)));
    let expect = if p == Protocol::Binary {
        Response::Ok
    } else {
        Response::NoReply
    };
    assert_eq!(c.wait(q).unwrap(), expect);
    assert_eq!(c.conn.version(), Err(UsageError::Closed));
    c.expect_eof();
    assert!(c.conn.is_closed() && c.conn.error().is_none());
}

fn cas_conflict(addr: &str, p: Protocol) {
    let pre = prefix("cas", p);
    let key = format!("{pre}k").into_bytes();
    let mut c = Client::connect(addr, p);
    assert_eq!(c.run(|c| c.set(&key, b"v1")), Response::Stored);
    let cas = one_value(c.run(|c| c.gets(&[&key]))).unwrap().cas.unwrap();
    assert_eq!(c.run(|c| c.set(&key, b"v2")), Response::Stored);
    let o = StoreOptions::default();
    assert_eq!(
        c.run(|c| c.store(StoreMode::Cas(cas), &key, b"v3", o)),
        Response::Exists
    );
    let cas = one_value(c.run(|c| c.gets(&[&key]))).unwrap().cas.unwrap();
    assert_eq!(
        c.run(|c| c.store(StoreMode::Cas(cas), &key, b"v3", o)),
        Response::Stored
    );
    let missing = format!("{pre}missing").into_bytes();
    assert_eq!(
        c.run(|c| c.store(StoreMode::Cas(cas), &missing, b"x", o)),
        Response::NotFound
    );
    assert_eq!(
        &one_value(c.run(|c| c.get(&[&key]))).unwrap().value[..],
        b"v3"
    );
}

fn multi_get_100(addr: &str, p: Protocol) {
    let pre = prefix("multi", p);
    let mut c = Client::connect(addr, p);
    let keys: Vec<Vec<u8>> = (0..100).map(|i| format!("{pre}{i}").into_bytes()).collect();
    // Pipeline the 50 sets (even keys only), then one multi-get of all 100.
    let ids: Vec<_> = keys
        .iter()
        .step_by(2)
        .map(|k| c.conn.set(k, k).unwrap())
        .collect();
    let get = c.conn.get(&keys).unwrap();
    for id in ids {
        assert_eq!(c.wait(id).unwrap(), Response::Stored);
    }
    let hits = values(c.wait(get).unwrap());
    assert_eq!(hits.len(), 50);
    for (hit, key) in hits.iter().zip(keys.iter().step_by(2)) {
        assert_eq!(&hit.key[..], &key[..]);
        assert_eq!(&hit.value[..], &key[..]);
    }
    assert_eq!(c.conn.pending(), 0);
}

fn large_values(addr: &str, p: Protocol) {
    let pre = prefix("large", p);
    let key = format!("{pre}big").into_bytes();
    let mut c = Client::connect(addr, p);
    // Just under memcached's 1 MiB item size (the item header takes some).
    let near = vec![b'v'; 1024 * 1024 - 1024];
    assert_eq!(c.run(|c| c.set(&key, &near)), Response::Stored);
    let it = one_value(c.run(|c| c.get(&[&key]))).unwrap();
    assert_eq!(it.value.len(), near.len());
    assert!(it.value.iter().all(|&b| b == b'v'));
    // Exactly 1 MiB passes the client limit but not the server's: a
    // per-request error, and the connection stays in sync.
    let full = vec![b'w'; 1024 * 1024];
    match c.run(|c| c.set(&key, &full)) {
        Response::Error(e) => assert!(matches!(
            e.kind,
            ServerErrorKind::Server | ServerErrorKind::Status(_)
        )),
        other => panic!("expected a server error, got {other:?}"),
    }
    // (memcached drops the old item when a set fails for size.)
    assert_eq!(one_value(c.run(|c| c.get(&[&key]))), None);
    assert_eq!(c.run(|c| c.set(&key, &near)), Response::Stored);
    // Over the client limit: refused before anything is encoded.
    let over = vec![0u8; 1024 * 1024 + 1];
    assert!(matches!(
        c.conn.set(&key, &over),
        Err(UsageError::ValueTooLarge { .. })
    ));
    assert!(matches!(
        c.conn.set(b"bad key", b""),
        Err(UsageError::Key(_))
    ));
    assert_eq!(c.conn.pending(), 0);

    // A reply larger than this client's limit is refused before buffering:
    // fatal and sticky.
    let small = Limits {
        max_value_len: 1000,
        ..Limits::default()
    };
    let mut c = Client::with_limits(addr, p, small);
    let id = c.conn.get(&[&key]).unwrap();
    let err = c.wait(id).unwrap_err();
    assert!(matches!(err, ProtocolError::Decode(_)), "{err:?}");
    assert_eq!(c.conn.error(), Some(&err));
    assert_eq!(c.conn.get(&[&key]), Err(UsageError::Closed));
}

fn quiet_pipeline(addr: &str, p: Protocol) {
    let pre = prefix("quiet", p);
    let k = |i: usize| format!("{pre}{i}").into_bytes();
    let mut c = Client::connect(addr, p);
    assert_eq!(c.run(|c| c.set(&k(0), b"zero")), Response::Stored);
    // Quiet sets, a quiet add that fails (reply not suppressed), quiet deletes
    // of present and absent keys, then a get: every request must get its own
    // answer.
    let q = StoreOptions {
        noreply: true,
        ..StoreOptions::default()
    };
    let sets: Vec<_> = (1..20)
        .map(|i| c.conn.store(StoreMode::Set, &k(i), b"v", q).unwrap())
        .collect();
    let add = c.conn.store(StoreMode::Add, &k(0), b"again", q).unwrap();
    let del = c.conn.delete(&k(1), true).unwrap();
    let del_missing = c.conn.delete(&k(999), true).unwrap();
    let get = c.conn.get(&[k(0), k(1), k(2)]).unwrap();
    for id in sets {
        assert_eq!(c.wait(id).unwrap(), Response::NoReply);
    }
    let add = c.wait(add).unwrap();
    let del = c.wait(del).unwrap();
    let del_missing = c.wait(del_missing).unwrap();
    match p {
        // Text noreply: nothing comes back, ever.
        Protocol::Text => {
            assert_eq!(
                (add, del, del_missing),
                (Response::NoReply, Response::NoReply, Response::NoReply)
            );
        }
        // Meta `q` and binary quiet opcodes suppress only the common case.
        _ => {
            assert_eq!(add, Response::NotStored);
            assert_eq!(del, Response::NoReply);
            assert_eq!(del_missing, Response::NotFound);
        }
    }
    let hits = values(c.wait(get).unwrap());
    let keys: Vec<&[u8]> = hits.iter().map(|h| &h.key[..]).collect();
    assert_eq!(keys, vec![&k(0)[..], &k(2)[..]]);
    assert_eq!(&hits[0].value[..], b"zero");
    assert_eq!(c.conn.pending(), 0);

    // Quiet sets the server refuses (too large for its item size): text
    // suppresses even the error; meta and binary report it to the right
    // request (meta error lines carry no opaque), and the connection stays
    // in sync.
    let big = vec![b'x'; 1024 * 1024 - 8];
    let ids: Vec<_> = (0..3)
        .map(|i| {
            let v: &[u8] = if i == 1 { b"ok" } else { &big };
            c.conn.store(StoreMode::Set, &k(100 + i), v, q).unwrap()
        })
        .collect();
    let rs: Vec<Response> = ids.into_iter().map(|id| c.wait(id).unwrap()).collect();
    for (i, r) in rs.iter().enumerate() {
        match (p, i, r) {
            (Protocol::Text, _, Response::NoReply) | (_, 1, Response::NoReply) => {}
            (_, 0 | 2, Response::Error(e)) => assert!(matches!(
                e.kind,
                ServerErrorKind::Server | ServerErrorKind::Status(_)
            )),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        &one_value(c.run(|c| c.get(&[k(101)]))).unwrap().value[..],
        b"ok"
    );
}

macro_rules! per_flavour {
    ($($name:ident => $f:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let Some(addrs) = addrs() else { return };
            for (i, p) in ALL.into_iter().enumerate() {
                // Spread the flavours over the servers.
                $f(&addrs[i % addrs.len()], p);
            }
        }
    )*};
}

per_flavour! {
    every_command_all_flavours => every_command,
    cas_conflict_all_flavours => cas_conflict,
    multi_get_100_all_flavours => multi_get_100,
    large_values_all_flavours => large_values,
    quiet_pipeline_all_flavours => quiet_pipeline,
}

#[test]
fn expiry() {
    let Some(addrs) = addrs() else { return };
    let mut c = Client::connect(&addrs[0], Protocol::Meta);
    let pre = prefix("expiry", Protocol::Meta);
    let key = format!("{pre}k").into_bytes();
    let o = StoreOptions {
        exptime: 1,
        ..StoreOptions::default()
    };
    assert_eq!(
        c.run(|c| c.store(StoreMode::Set, &key, b"short", o)),
        Response::Stored
    );
    assert!(one_value(c.run(|c| c.get(&[&key]))).is_some());
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(one_value(c.run(|c| c.get(&[&key]))), None);
}

#[test]
fn meta_raw_commands() {
    use proto_memcache::meta::{Command, Flag, Mode, Reply};
    let Some(addrs) = addrs() else { return };
    let mut c = Client::connect(&addrs[1 % addrs.len()], Protocol::Meta);
    let pre = prefix("raw", Protocol::Meta);
    let key = format!("{pre}k").into_bytes();
    let meta = |r: Response| match r {
        Response::Meta(m) => m,
        other => panic!("expected a meta reply, got {other:?}"),
    };

    let set = Command::Set {
        key: &key,
        value: b"hi",
        flags: &[Flag::ClientFlags(7), Flag::Ttl(300), Flag::ReturnCas],
    };
    let r = meta(c.run(|c| c.meta(&set)));
    let Reply::Hd(f) = r else { panic!("{r:?}") };
    let cas = f.cas().expect("c flag returned");

    let get = Command::Get {
        key: &key,
        flags: &[
            Flag::ReturnValue,
            Flag::ReturnClientFlags,
            Flag::ReturnCas,
            Flag::ReturnTtl,
            Flag::ReturnKey,
            Flag::ReturnSize,
        ],
    };
    let Reply::Value { flags, data } = meta(c.run(|c| c.meta(&get))) else {
        panic!()
    };
    assert_eq!(&data[..], b"hi");
    assert_eq!(flags.client_flags(), Some(7));
    assert_eq!(flags.cas(), Some(cas));
    assert!(flags.ttl().unwrap() > 0);
    assert_eq!(flags.key(), Some(&key[..]));
    assert_eq!(flags.size(), Some(2));

    // CAS mismatch, then invalidation: stale item, win flag.
    let bad = Command::Set {
        key: &key,
        value: b"x",
        flags: &[Flag::CompareCas(cas + 1000)],
    };
    assert!(matches!(meta(c.run(|c| c.meta(&bad))), Reply::Exists(_)));
    let inval = Command::Delete {
        key: &key,
        flags: &[Flag::Invalidate, Flag::Ttl(30)],
    };
    assert!(matches!(meta(c.run(|c| c.meta(&inval))), Reply::Hd(_)));
    let Reply::Value { flags, .. } = meta(c.run(|c| c.meta(&get))) else {
        panic!()
    };
    assert!(flags.stale() && flags.won());
    let Reply::Value { flags, .. } = meta(c.run(|c| c.meta(&get))) else {
        panic!()
    };
    assert!(flags.stale() && flags.win_sent() && !flags.won());

    // Arithmetic with auto-vivify.
    let ctr = format!("{pre}ctr").into_bytes();
    let ma = Command::Arithmetic {
        key: &ctr,
        flags: &[Flag::Vivify(0), Flag::Initial(10), Flag::ReturnValue],
    };
    let Reply::Value { data, .. } = meta(c.run(|c| c.meta(&ma))) else {
        panic!()
    };
    assert_eq!(&data[..], b"10");
    let ma = Command::Arithmetic {
        key: &ctr,
        flags: &[
            Flag::Mode(Mode::Decrement),
            Flag::Delta(3),
            Flag::ReturnValue,
        ],
    };
    let Reply::Value { data, .. } = meta(c.run(|c| c.meta(&ma))) else {
        panic!()
    };
    assert_eq!(&data[..], b"7");

    // Binary keys through base64.
    let bin_key = [0u8, b' ', 0xff, b'\n'];
    let set = Command::Set {
        key: &bin_key,
        value: b"bin",
        flags: &[Flag::Base64Key],
    };
    assert!(matches!(meta(c.run(|c| c.meta(&set))), Reply::Hd(_)));
    let get_b = Command::Get {
        key: &bin_key,
        flags: &[Flag::Base64Key, Flag::ReturnValue, Flag::ReturnKey],
    };
    let Reply::Value { flags, data } = meta(c.run(|c| c.meta(&get_b))) else {
        panic!()
    };
    assert_eq!(&data[..], b"bin");
    assert!(flags.is_base64());

    // me, mn.
    let Reply::Debug { key: k, info } = meta(c.run(|c| {
        c.meta(&Command::Debug {
            key: &ctr,
            base64: false,
        })
    })) else {
        panic!()
    };
    assert_eq!(&k[..], &ctr[..]);
    assert!(info.windows(4).any(|w| w == b"exp="));
    assert!(matches!(
        meta(c.run(|c| c.meta(&Command::NoOp))),
        Reply::NoOp
    ));

    // Quiet: a miss is suppressed (synthesized EN); a hit is not.
    let missing = format!("{pre}missing").into_bytes();
    let q_miss = Command::Get {
        key: &missing,
        flags: &[Flag::ReturnValue, Flag::Quiet],
    };
    let q_hit = Command::Get {
        key: &ctr,
        flags: &[Flag::ReturnValue, Flag::Quiet],
    };
    let a = c.conn.meta(&q_miss).unwrap();
    let b = c.conn.meta(&q_hit).unwrap();
    let n = c.conn.meta(&Command::NoOp).unwrap();
    assert!(matches!(meta(c.wait(n).unwrap()), Reply::NoOp));
    assert!(matches!(meta(c.wait(a).unwrap()), Reply::Miss(_)));
    assert!(matches!(meta(c.wait(b).unwrap()), Reply::Value { .. }));

    // A flag 1.6.18 does not know (E) is a per-request CLIENT_ERROR; the
    // connection stays in sync (the server swallows the data block).
    let e = Command::Set {
        key: &key,
        value: b"zz",
        flags: &[Flag::NewCas(5)],
    };
    match c.run(|c| c.meta(&e)) {
        Response::Error(err) => assert_eq!(err.kind, ServerErrorKind::Client),
        Response::Meta(Reply::Hd(_)) => {} // memcached >= 1.6.21
        other => panic!("{other:?}"),
    }
    // A quiet request that errors, closed by mn: the error is attributed.
    let q_err = Command::Arithmetic {
        key: &key,
        flags: &[Flag::Quiet],
    };
    let a = c.conn.meta(&q_err).unwrap();
    let n = c.conn.meta(&Command::NoOp).unwrap();
    assert!(matches!(meta(c.wait(n).unwrap()), Reply::NoOp));
    match c.wait(a).unwrap() {
        Response::Error(err) => assert_eq!(err.kind, ServerErrorKind::Client),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c.conn.meta(&Command::Get {
            key: &key,
            flags: &[Flag::Opaque(b"1")]
        }),
        Err(UsageError::OpaqueManaged)
    ));
    assert_eq!(Bytes::from_static(b"x").len(), 1);
    assert_eq!(c.conn.pending(), 0);
}
