//! Every command of the memcached [`Connection`] against a real memcached,
//! in the text, meta and binary protocols, on the epoll, io_uring and std
//! backends: storage, retrieval, CAS conflicts, counters, touch and
//! expiry, values at the size limit, key checks, raw meta commands with
//! quiet mode, pipelining with FIFO matching, abandoned requests.
#![cfg(all(feature = "epoll", feature = "std", feature = "uring"))]

mod memcache_support;

use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use memcache_support::{OwnMemcached, PROTOCOLS, addr, prefix};
use weft::memcache::meta::{Command, Flag, Mode, Reply};
use weft::memcache::{
    CasOutcome, Config, Connection, Error, GetMode, KeyError, Limits, Protocol, StoreOptions,
};
use weft::rt::{Backend, Epoll, Std, Uring, spawn, time};

async fn connect<B: Backend>(p: Protocol) -> Option<Connection> {
    let a = addr()?;
    Some(
        Connection::connect::<B>(a, &Config::default().protocol(p))
            .await
            .expect("connects"),
    )
}

fn opts(flags: u32, exptime: u32) -> StoreOptions {
    StoreOptions {
        flags,
        exptime,
        noreply: false,
    }
}

async fn every_command(conn: &Connection, pre: &str) {
    let p = conn.protocol();
    let k = |s: &str| format!("{pre}{s}");

    // set / get / gets
    conn.set(k("a"), "hello", opts(42, 0)).await.unwrap();
    let it = conn.get(k("a")).await.unwrap().expect("hit");
    assert_eq!(
        (&it.key[..], it.flags, &it.value[..]),
        (k("a").as_bytes(), 42, &b"hello"[..])
    );
    let it = conn.gets(k("a")).await.unwrap().expect("hit");
    let cas = it.cas.expect("gets returns the CAS unique");
    assert_eq!(conn.get(k("missing")).await.unwrap(), None);

    // add / replace
    assert!(!conn.add(k("a"), "x", opts(0, 0)).await.unwrap());
    assert!(conn.add(k("b"), "bee", opts(0, 0)).await.unwrap());
    assert!(!conn.replace(k("nope"), "x", opts(0, 0)).await.unwrap());
    assert!(conn.replace(k("b"), "B", opts(3, 0)).await.unwrap());
    assert_eq!(conn.get(k("b")).await.unwrap().unwrap().flags, 3);

    // append / prepend
    assert!(conn.append(k("a"), " world").await.unwrap());
    assert!(conn.prepend(k("a"), ">> ").await.unwrap());
    let it = conn.get(k("a")).await.unwrap().unwrap();
    assert_eq!((&it.value[..], it.flags), (&b">> hello world"[..], 42));
    assert!(!conn.append(k("nope"), "x").await.unwrap());
    assert!(!conn.prepend(k("nope"), "x").await.unwrap());

    // cas: the item changed since `gets` (append), so the old unique conflicts.
    assert_eq!(
        conn.cas(k("a"), "stale", cas, opts(0, 0)).await.unwrap(),
        CasOutcome::Exists
    );
    let fresh = conn.gets(k("a")).await.unwrap().unwrap().cas.unwrap();
    assert_eq!(
        conn.cas(k("a"), "new", fresh, opts(9, 0)).await.unwrap(),
        CasOutcome::Stored
    );
    assert_eq!(
        conn.cas(k("a"), "again", fresh, opts(0, 0)).await.unwrap(),
        CasOutcome::Exists
    );
    assert_eq!(
        conn.cas(k("gone"), "x", fresh, opts(0, 0)).await.unwrap(),
        CasOutcome::NotFound
    );
    let it = conn.get(k("a")).await.unwrap().unwrap();
    assert_eq!((&it.value[..], it.flags), (&b"new"[..], 9));

    // get_multi / gets_multi: hits only, each with its own key.
    let hits = conn
        .get_multi(&[k("a"), k("missing"), k("b")])
        .await
        .unwrap();
    let mut got: Vec<(Bytes, Bytes)> = hits.into_iter().map(|i| (i.key, i.value)).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (Bytes::from(k("a")), Bytes::from("new")),
            (Bytes::from(k("b")), Bytes::from("B"))
        ]
    );
    let hits = conn.gets_multi(&[k("a"), k("b")]).await.unwrap();
    assert!(hits.iter().all(|i| i.cas.is_some()) && hits.len() == 2);

    // delete
    assert!(conn.delete(k("b")).await.unwrap());
    assert!(!conn.delete(k("b")).await.unwrap());

    // incr / decr
    assert_eq!(conn.incr(k("n"), 1).await.unwrap(), None);
    conn.set(k("n"), "10", opts(0, 0)).await.unwrap();
    assert_eq!(conn.incr(k("n"), 5).await.unwrap(), Some(15));
    assert_eq!(conn.decr(k("n"), 20).await.unwrap(), Some(0));
    assert_eq!(conn.decr(k("missing"), 1).await.unwrap(), None);
    match conn.incr(k("a"), 1).await {
        Err(Error::Server(_)) => {}
        other => panic!("{p:?}: incr of a non-number: {other:?}"),
    }

    // touch / gat / gats
    assert!(conn.touch(k("a"), 300).await.unwrap());
    assert!(!conn.touch(k("missing"), 300).await.unwrap());
    let it = conn.gat(k("a"), 600).await.unwrap().unwrap();
    assert_eq!(&it.value[..], b"new");
    let it = conn.gats(k("a"), 600).await.unwrap().unwrap();
    assert!(it.cas.is_some());
    assert_eq!(conn.gat(k("missing"), 1).await.unwrap(), None);

    // A get-and-touch of many keys: 2,000 keys make a 60 KB text line,
    // which memcached would refuse for gat (it reads those whole), so it
    // goes out in several; the hits come back as one answer.
    let many: Vec<String> = (0..2000).map(|i| k(&format!("many-{i:05}"))).collect();
    conn.set(&many[3], "three", opts(0, 0)).await.unwrap();
    conn.set(&many[1999], "last", opts(0, 0)).await.unwrap();
    for mode in [
        GetMode::Gat(300),
        GetMode::Gats(300),
        GetMode::Get,
        GetMode::Gets,
    ] {
        let hits = conn.retrieve(mode, &many).await.unwrap();
        let got: Vec<&[u8]> = hits.iter().map(|i| &i.value[..]).collect();
        assert_eq!(got, [&b"three"[..], b"last"], "{p:?} {mode:?}");
    }

    // noreply storage: completes, and the effect is visible afterwards.
    let quiet = StoreOptions {
        noreply: true,
        ..StoreOptions::default()
    };
    conn.set(k("q"), "quiet", quiet).await.unwrap();
    assert_eq!(
        &conn.get(k("q")).await.unwrap().unwrap().value[..],
        b"quiet"
    );

    // version / stats / verbosity / noop
    let v = conn.version().await.unwrap();
    assert!(v.starts_with(|c: char| c.is_ascii_digit()), "{v:?}");
    let stats = conn.stats(None).await.unwrap();
    assert!(
        stats.contains_key("pid") && stats.contains_key("curr_items"),
        "{p:?}"
    );
    let settings = conn.stats(Some("settings")).await.unwrap();
    assert_eq!(
        settings.get("item_size_max").map(String::as_str),
        Some("1048576")
    );
    match p {
        Protocol::Binary => assert!(matches!(conn.verbosity(0).await, Err(Error::Usage(_)))),
        _ => conn.verbosity(0).await.unwrap(),
    }
    match p {
        Protocol::Text => assert!(matches!(conn.noop().await, Err(Error::Usage(_)))),
        _ => conn.noop().await.unwrap(),
    }
    assert!(!conn.is_closed());
}

async fn bad_requests_are_refused_before_sending(conn: &Connection, pre: &str) {
    let before = conn.pending();
    let long = "k".repeat(251);
    match conn.get(&long).await {
        Err(Error::InvalidKey(KeyError::TooLong {
            len: 251,
            limit: 250,
        })) => {}
        other => panic!("{other:?}"),
    }
    for bad in ["has space", "new\r\nline", "tab\tkey", ""] {
        assert!(
            matches!(
                conn.set(bad, "v", opts(0, 0)).await,
                Err(Error::InvalidKey(_))
            ),
            "{bad:?}"
        );
    }
    let k250 = format!("{pre}{}", "x".repeat(250 - pre.len()));
    conn.set(&k250, "max", opts(0, 0)).await.unwrap();
    assert_eq!(&conn.get(&k250).await.unwrap().unwrap().value[..], b"max");
    let big = vec![b'v'; 1024 * 1024 + 1];
    match conn.set(format!("{pre}big"), &big, opts(0, 0)).await {
        Err(Error::ValueTooLarge { len, limit }) => {
            assert_eq!((len, limit), (1024 * 1024 + 1, 1024 * 1024))
        }
        other => panic!("{other:?}"),
    }
    // A multi-get with one bad key sends nothing at all.
    let r = conn
        .get_multi(&[format!("{pre}ok"), "bad key".to_owned()])
        .await;
    assert!(matches!(r, Err(Error::InvalidKey(_))));
    assert_eq!(conn.pending(), before);
    assert!(!conn.is_closed());
}

async fn large_values<B: Backend>(conn: &Connection, pre: &str) {
    // memcached's default item size is 1 MiB including the item header, so
    // a value a little under it fits...
    let value: Vec<u8> = (0..1024 * 1024 - 4096).map(|i| (i % 251) as u8).collect();
    let key = format!("{pre}large");
    conn.set(&key, &value, opts(1, 0)).await.unwrap();
    let it = conn.get(&key).await.unwrap().expect("large value stored");
    assert!(it.value == value, "large value round trip");
    // ... one of exactly 1 MiB passes our check but not the server's: a
    // per-request server error, and the connection goes on.
    let at_limit = vec![b'x'; 1024 * 1024];
    match conn
        .set(format!("{pre}at-limit"), &at_limit, opts(0, 0))
        .await
    {
        Err(Error::Server(e)) => eprintln!("{:?}: at the limit: {e}", conn.protocol()),
        other => panic!("{:?}: {other:?}", conn.protocol()),
    }
    assert_eq!(conn.get(format!("{pre}at-limit")).await.unwrap(), None);
    // Over the limit: refused before sending.
    let over = vec![b'x'; 1024 * 1024 + 10];
    assert!(matches!(
        conn.set(format!("{pre}over"), &over, opts(0, 0)).await,
        Err(Error::ValueTooLarge { .. })
    ));
    // A smaller configured limit applies the same way.
    let small = Config::default().protocol(conn.protocol()).limits(Limits {
        max_value_len: 100,
        ..Limits::default()
    });
    let c2 = Connection::connect::<B>(addr().unwrap(), &small)
        .await
        .unwrap();
    assert!(matches!(
        c2.set(format!("{pre}small"), [0u8; 101], opts(0, 0)).await,
        Err(Error::ValueTooLarge {
            len: 101,
            limit: 100
        })
    ));
    c2.set(format!("{pre}small"), [0u8; 100], opts(0, 0))
        .await
        .unwrap();
    // The large item is intact after all that.
    assert!(conn.get(&key).await.unwrap().unwrap().value == value);
}

async fn pipelined_callers_get_their_own_replies(conn: Connection, pre: Rc<String>) {
    let mut tasks = Vec::new();
    for t in 0..50 {
        let conn = conn.clone();
        let pre = pre.clone();
        tasks.push(spawn(async move {
            for i in 0..20 {
                let key = format!("{pre}t{t}");
                let value = format!("task {t} round {i}");
                conn.set(&key, &value, opts(t, 0)).await.unwrap();
                let it = conn.get(&key).await.unwrap().expect("own key");
                assert_eq!((&it.value[..], it.flags), (value.as_bytes(), t));
                // A multi-get of this task's key and a neighbour's.
                let other = format!("{pre}t{}", (t + 1) % 50);
                for hit in conn.get_multi(&[&key, &other]).await.unwrap() {
                    assert!(hit.key == key.as_bytes() || hit.key == other.as_bytes());
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Abandoned requests: their replies are discarded, later ones still
    // match.
    conn.set(format!("{pre}x"), "x", opts(0, 0)).await.unwrap();
    conn.set(format!("{pre}y"), "y", opts(0, 0)).await.unwrap();
    for _ in 0..10 {
        drop(conn.get(format!("{pre}x")));
        let slow = conn.get_multi(&[format!("{pre}x"), format!("{pre}t0")]);
        let y = conn.get(format!("{pre}y"));
        drop(slow);
        assert_eq!(&y.await.unwrap().unwrap().value[..], b"y");
    }
    // A timed-out wait is an abandoned request too.
    let r = time::timeout(Duration::ZERO, conn.get(format!("{pre}x"))).await;
    assert!(r.is_err());
    assert_eq!(
        &conn.get(format!("{pre}x")).await.unwrap().unwrap().value[..],
        b"x"
    );
    // One round trip: everything sent before it has been answered.
    conn.version().await.unwrap();
    assert_eq!(conn.pending(), 0);
}

fn run_all<B: Backend>(p: Protocol) {
    B::block_on(async {
        let Some(conn) = connect::<B>(p).await else {
            return;
        };
        let pre = prefix(&format!("cmds-{p:?}-{}", B::NAME));
        every_command(&conn, &pre).await;
        bad_requests_are_refused_before_sending(&conn, &pre).await;
        large_values::<B>(&conn, &pre).await;
        pipelined_callers_get_their_own_replies(conn, Rc::new(pre)).await;
    });
}

#[test]
fn epoll_text() {
    run_all::<Epoll>(Protocol::Text);
}

#[test]
fn epoll_meta() {
    run_all::<Epoll>(Protocol::Meta);
}

#[test]
fn epoll_binary() {
    run_all::<Epoll>(Protocol::Binary);
}

#[test]
fn std_text() {
    run_all::<Std>(Protocol::Text);
}

#[test]
fn std_meta() {
    run_all::<Std>(Protocol::Meta);
}

#[test]
fn std_binary() {
    run_all::<Std>(Protocol::Binary);
}

#[test]
fn uring_all_protocols() {
    for p in PROTOCOLS {
        run_all::<Uring>(p);
    }
}

/// Touch and get-and-touch with a 1 s expiry, then a 2 s wait.
fn expiry<B: Backend>(p: Protocol) {
    B::block_on(async {
        let Some(conn) = connect::<B>(p).await else {
            return;
        };
        let pre = prefix(&format!("expiry-{p:?}"));
        let k = |s: &str| format!("{pre}{s}");
        for key in ["touched", "gat", "set"] {
            conn.set(k(key), "v", opts(0, if key == "set" { 1 } else { 0 }))
                .await
                .unwrap();
        }
        conn.set(k("kept"), "v", opts(0, 0)).await.unwrap();
        assert!(conn.touch(k("touched"), 1).await.unwrap());
        assert!(conn.gat(k("gat"), 1).await.unwrap().is_some());
        time::sleep(Duration::from_millis(2100)).await;
        for key in ["touched", "gat", "set"] {
            assert_eq!(conn.get(k(key)).await.unwrap(), None, "{p:?} {key}");
        }
        assert!(conn.get(k("kept")).await.unwrap().is_some());
    });
}

#[test]
fn expiry_all_protocols() {
    let threads: Vec<_> = PROTOCOLS
        .into_iter()
        .map(|p| std::thread::spawn(move || expiry::<Epoll>(p)))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Raw meta commands: flags, opaque, quiet mode, base64 keys, mn, me.
#[test]
fn meta_commands() {
    Epoll::block_on(async {
        let Some(conn) = connect::<Epoll>(Protocol::Meta).await else {
            return;
        };
        let pre = prefix("meta");
        let key = format!("{pre}k").into_bytes();

        // ms with flags, TTL and returned CAS; the opaque is the
        // connection's and comes back.
        let set = Command::Set {
            key: &key,
            value: b"hi",
            flags: &[Flag::ClientFlags(7), Flag::Ttl(300), Flag::ReturnCas],
        };
        let Reply::Hd(f) = conn.meta(&set).await.unwrap() else {
            panic!()
        };
        let cas = f.cas().expect("c returned");
        assert!(f.opaque().is_some(), "the opaque is echoed");

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
        let Reply::Value { flags, data } = conn.meta(&get).await.unwrap() else {
            panic!()
        };
        assert_eq!(&data[..], b"hi");
        assert_eq!(
            (flags.client_flags(), flags.cas(), flags.key(), flags.size()),
            (Some(7), Some(cas), Some(&key[..]), Some(2))
        );
        assert!((1..=300).contains(&flags.ttl().unwrap()));

        // A caller-supplied opaque is refused: the connection owns them.
        let own = Command::Get {
            key: &key,
            flags: &[Flag::Opaque(b"1")],
        };
        assert!(matches!(conn.meta(&own).await, Err(Error::Usage(_))));

        // CAS conflict, add mode on an existing key, md, ma with vivify.
        let bad = Command::Set {
            key: &key,
            value: b"x",
            flags: &[Flag::CompareCas(cas + 1000)],
        };
        assert!(matches!(conn.meta(&bad).await.unwrap(), Reply::Exists(_)));
        let add = Command::Set {
            key: &key,
            value: b"x",
            flags: &[Flag::Mode(Mode::Add)],
        };
        assert!(matches!(
            conn.meta(&add).await.unwrap(),
            Reply::NotStored(_)
        ));
        let md = Command::Delete {
            key: &key,
            flags: &[],
        };
        assert!(matches!(conn.meta(&md).await.unwrap(), Reply::Hd(_)));
        assert!(matches!(conn.meta(&md).await.unwrap(), Reply::NotFound(_)));
        let ctr = format!("{pre}ctr").into_bytes();
        let ma = Command::Arithmetic {
            key: &ctr,
            flags: &[Flag::Vivify(0), Flag::Initial(10), Flag::ReturnValue],
        };
        let Reply::Value { data, .. } = conn.meta(&ma).await.unwrap() else {
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
        let Reply::Value { data, .. } = conn.meta(&ma).await.unwrap() else {
            panic!()
        };
        assert_eq!(&data[..], b"7");

        // Binary-safe keys through base64.
        let bin_key = [0u8, b' ', 0xff, b'\n'];
        let set_b = Command::Set {
            key: &bin_key,
            value: b"bin",
            flags: &[Flag::Base64Key],
        };
        assert!(matches!(conn.meta(&set_b).await.unwrap(), Reply::Hd(_)));
        let get_b = Command::Get {
            key: &bin_key,
            flags: &[Flag::Base64Key, Flag::ReturnValue],
        };
        let Reply::Value { data, .. } = conn.meta(&get_b).await.unwrap() else {
            panic!()
        };
        assert_eq!(&data[..], b"bin");

        // me and mn.
        let Reply::Debug { key: k, info } = conn
            .meta(&Command::Debug {
                key: &ctr,
                base64: false,
            })
            .await
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(&k[..], &ctr[..]);
        assert!(info.windows(4).any(|w| w == b"exp="));
        assert!(matches!(
            conn.meta(&Command::NoOp).await.unwrap(),
            Reply::NoOp
        ));

        // Quiet mode in a batch: suppressed replies stand for the common
        // outcome (HD for ms, EN for mg), failures still come through.
        let (k1, k2, missing) = (
            format!("{pre}q1").into_bytes(),
            format!("{pre}q2").into_bytes(),
            format!("{pre}q-missing").into_bytes(),
        );
        let cmds = [
            Command::Set {
                key: &k1,
                value: b"one",
                flags: &[Flag::Quiet],
            },
            Command::Set {
                key: &k2,
                value: b"two",
                flags: &[Flag::Quiet],
            },
            Command::Set {
                key: &k2,
                value: b"no",
                flags: &[Flag::Quiet, Flag::Mode(Mode::Add)],
            },
            Command::Get {
                key: &k1,
                flags: &[Flag::Quiet, Flag::ReturnValue],
            },
            Command::Get {
                key: &missing,
                flags: &[Flag::Quiet, Flag::ReturnValue],
            },
            Command::Get {
                key: &k2,
                flags: &[Flag::ReturnValue],
            },
        ];
        let replies = conn.meta_batch(&cmds).await.unwrap();
        let replies: Vec<Reply<Bytes>> = replies.into_iter().map(Result::unwrap).collect();
        assert_eq!(replies.len(), 6);
        assert!(matches!(replies[0], Reply::Hd(_)));
        assert!(matches!(replies[1], Reply::Hd(_)));
        assert!(
            matches!(replies[2], Reply::NotStored(_)),
            "{:?}",
            replies[2]
        );
        assert!(matches!(&replies[3], Reply::Value { data, .. } if &data[..] == b"one"));
        assert!(matches!(replies[4], Reply::Miss(_)));
        assert!(matches!(&replies[5], Reply::Value { data, .. } if &data[..] == b"two"));
        assert_eq!(conn.pending(), 0);

        // Meta commands need the meta flavour.
        let text = connect::<Epoll>(Protocol::Text).await.unwrap();
        assert!(matches!(text.meta(&md).await, Err(Error::Usage(_))));
    });
}

/// flush_all on a private server (it would wipe the shared ones).
#[test]
fn flush_all_every_protocol() {
    let Some(own) = OwnMemcached::start() else {
        return;
    };
    Epoll::block_on(async {
        for p in PROTOCOLS {
            let conn = Connection::connect::<Epoll>(own.addr(), &Config::default().protocol(p))
                .await
                .unwrap();
            conn.set("a", "1", opts(0, 0)).await.unwrap();
            conn.set("b", "2", opts(0, 0)).await.unwrap();
            conn.flush_all(None).await.unwrap();
            assert!(
                conn.get_multi(&["a", "b"]).await.unwrap().is_empty(),
                "{p:?}"
            );
            conn.set("a", "1", opts(0, 0)).await.unwrap();
            conn.flush_all(Some(0)).await.unwrap();
            assert_eq!(conn.get("a").await.unwrap(), None, "{p:?}");
        }
    });
}

/// The server going away fails the waiting requests with a typed error and
/// closes the connection; nothing hangs.
#[test]
fn server_gone_fails_pending_requests() {
    let Some(mut own) = OwnMemcached::start() else {
        return;
    };
    Epoll::block_on(async {
        for p in PROTOCOLS {
            let conn = Connection::connect::<Epoll>(own.addr(), &Config::default().protocol(p))
                .await
                .unwrap();
            conn.set("k", "v", opts(0, 0)).await.unwrap();
            own.kill();
            let r = conn.get("k").await;
            assert!(
                r.as_ref().is_err_and(Error::is_unavailable)
                    || r.as_ref().is_err_and(Error::is_fatal),
                "{p:?}: {r:?}"
            );
            let e = conn.closed().await;
            assert!(e.is_fatal(), "{e:?}");
            assert!(conn.is_closed());
            assert!(conn.get("k").await.unwrap_err().is_fatal());
            own.restart();
        }
    });
}
