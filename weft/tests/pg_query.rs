//! PostgreSQL driver: connecting, authentication, queries, prepared
//! statements, errors, pipelining. Against the real server from
//! `cargo xtask services up`.

mod pg_support;

use std::time::Duration;

use weft::pg::{Config, Connection, Error};
use weft::rt::{Backend, time};

async fn basic<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg).await;
    let row = conn
        .query_one("SELECT $1::int4 + 1 AS n, $2::text AS s", &[&41i32, &"hi"])
        .await
        .unwrap();
    assert_eq!(row.get::<i32>(0).unwrap(), 42);
    assert_eq!(row.get::<i32>("n").unwrap(), 42);
    assert_eq!(row.get::<&str>("s").unwrap(), "hi");
    assert!(matches!(
        row.get::<i32>("nope"),
        Err(Error::ColumnNotFound(_))
    ));
    assert!(matches!(row.get::<String>(0), Err(Error::Type(_))));
    assert!(matches!(row.get::<i32>(5), Err(Error::ColumnNotFound(_))));

    let rows = conn
        .query(
            "SELECT g FROM generate_series(1, 10) g WHERE g > $1",
            &[&5i32],
        )
        .await
        .unwrap();
    let got: Vec<i32> = rows.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(got, [6, 7, 8, 9, 10]);

    assert!(
        conn.query_opt("SELECT 1 WHERE false", &[])
            .await
            .unwrap()
            .is_none()
    );
    match conn.query_one("SELECT generate_series(1, 3)", &[]).await {
        Err(Error::RowCount { got: 3, .. }) => {}
        other => panic!("{other:?}"),
    }
    match conn.query_opt("SELECT generate_series(1, 2)", &[]).await {
        Err(Error::RowCount { got: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
    match conn.query_one("SELECT 1 WHERE false", &[]).await {
        Err(Error::RowCount { got: 0, .. }) => {}
        other => panic!("{other:?}"),
    }
    // Wrong parameter count and type are refused before anything is sent.
    assert!(matches!(
        conn.query("SELECT $1::int4", &[]).await,
        Err(Error::ParamCount {
            expected: 1,
            got: 0
        })
    ));
    assert!(matches!(
        conn.query("SELECT $1::int4", &[&"text"]).await,
        Err(Error::Type(_))
    ));

    let t = pg_support::unique("basic");
    conn.batch_execute(&format!(
        "CREATE TEMP TABLE {t} (id int4 PRIMARY KEY, v text)"
    ))
    .await
    .unwrap();
    let n = conn
        .execute(
            &format!("INSERT INTO {t} SELECT g, 'v' || g FROM generate_series(1, 5) g"),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(n, 5);
    let n = conn
        .execute(
            &format!("UPDATE {t} SET v = $1 WHERE id <= $2"),
            &[&"x", &3i32],
        )
        .await
        .unwrap();
    assert_eq!(n, 3);

    // Simple query: several statements, text rows.
    let rows = conn
        .simple_query("SELECT 1 AS a; SELECT 'two' AS b")
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<i32>("a").unwrap(), 1);
    assert_eq!(rows[1].get::<&str>("b").unwrap(), "two");
    // Still usable after all that.
    assert_eq!(
        conn.query_one("SELECT 7::int8", &[])
            .await
            .unwrap()
            .get::<i64>(0)
            .unwrap(),
        7
    );
}

#[test]
fn basic_queries() {
    each_backend!(basic);
}

async fn errors<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg).await;
    let t = pg_support::unique("err");
    conn.batch_execute(&format!(
        "CREATE TEMP TABLE {t} (id int4 CONSTRAINT {t}_pk PRIMARY KEY, v int4 CHECK (v > 0))"
    ))
    .await
    .unwrap();
    conn.execute(&format!("INSERT INTO {t} VALUES (1, 1)"), &[])
        .await
        .unwrap();
    let e = conn
        .execute(&format!("INSERT INTO {t} VALUES (1, 1)"), &[])
        .await
        .unwrap_err();
    let db = e.as_db().expect("server error");
    assert_eq!(db.code, "23505");
    assert_eq!(db.severity, "ERROR");
    assert_eq!(db.constraint.as_deref(), Some(format!("{t}_pk").as_str()));
    assert_eq!(db.table.as_deref(), Some(t.as_str()));
    assert!(db.detail.as_deref().unwrap().contains("already exists"));
    assert!(db.schema.is_some() && db.routine.is_some() && db.file.is_some());
    assert!(!e.is_closed());

    let e = conn.query("SELECT nonsense FROM", &[]).await.unwrap_err();
    assert_eq!(e.code(), Some("42601"));
    assert!(e.as_db().unwrap().position.is_some());
    let e = conn.query("SELECT no_such_col", &[]).await.unwrap_err();
    assert_eq!(e.code(), Some("42703"));
    let e = conn
        .batch_execute(
            "DO $$ BEGIN RAISE EXCEPTION 'boom' USING HINT = 'try again', DETAIL = 'dd'; END $$",
        )
        .await
        .unwrap_err();
    let db = e.as_db().unwrap();
    assert_eq!(
        (
            db.message.as_str(),
            db.hint.as_deref(),
            db.detail.as_deref()
        ),
        ("boom", Some("try again"), Some("dd"))
    );
    assert!(db.where_.is_some());
    assert!(e.to_string().contains("boom"));

    // The fields the cases above do not carry: column, data type, the
    // non-localized severity, line, and a query run inside a function.
    let e = conn
        .execute(&format!("INSERT INTO {t} (id, v) VALUES (NULL, 1)"), &[])
        .await
        .unwrap_err();
    let db = e.as_db().unwrap();
    assert_eq!(db.code, "23502");
    assert_eq!(
        (db.column.as_deref(), db.table.as_deref()),
        (Some("id"), Some(t.as_str()))
    );
    assert_eq!(db.severity_nonlocalized.as_deref(), Some("ERROR"));
    assert!(db.line.is_some_and(|l| l > 0));
    let domain = pg_support::unique("dom");
    conn.batch_execute(&format!(
        "CREATE DOMAIN {domain} AS int4 CONSTRAINT {domain}_pos CHECK (VALUE > 0)"
    ))
    .await
    .unwrap();
    let e = conn
        .query(&format!("SELECT (-1)::{domain}"), &[])
        .await
        .unwrap_err();
    conn.batch_execute(&format!("DROP DOMAIN {domain}"))
        .await
        .unwrap();
    let db = e.as_db().unwrap();
    assert_eq!(db.code, "23514");
    assert_eq!(db.datatype.as_deref(), Some(domain.as_str()));
    assert_eq!(
        db.constraint.as_deref(),
        Some(format!("{domain}_pos").as_str())
    );
    let e = conn
        .batch_execute("DO $$ BEGIN EXECUTE 'SELECT 1 FROM'; END $$")
        .await
        .unwrap_err();
    let db = e.as_db().unwrap();
    assert_eq!(db.code, "42601");
    assert_eq!(db.internal_query.as_deref(), Some("SELECT 1 FROM"));
    assert_eq!(db.internal_position, Some(14));
    assert_eq!(db.position, None);
    assert!(db.where_.as_deref().unwrap().contains("EXECUTE"), "{db:?}");

    // Errors in the middle of a pipeline: each caller gets its own answer.
    let q_ok = |i: i32| {
        let c = conn.clone();
        async move { c.query_one("SELECT $1::int4", &[&i]).await }
    };
    let (a, b, c, d) = join4(
        q_ok(1),
        async { conn.query_one("SELECT 1/0", &[]).await },
        q_ok(3),
        async {
            conn.query_one(&format!("SELECT v FROM {t} WHERE id = $1"), &[&1i32])
                .await
        },
    )
    .await;
    assert_eq!(a.unwrap().get::<i32>(0).unwrap(), 1);
    assert_eq!(b.unwrap_err().code(), Some("22012"));
    assert_eq!(c.unwrap().get::<i32>(0).unwrap(), 3);
    assert_eq!(d.unwrap().get::<i32>(0).unwrap(), 1);
}

/// Polls four futures concurrently on this task.
async fn join4<
    A: std::future::Future,
    B: std::future::Future,
    C: std::future::Future,
    D: std::future::Future,
>(
    a: A,
    b: B,
    c: C,
    d: D,
) -> (A::Output, B::Output, C::Output, D::Output) {
    let (ab, cd) = join2(join2(a, b), join2(c, d)).await;
    (ab.0, ab.1, cd.0, cd.1)
}

async fn join2<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    use std::pin::pin;
    use std::task::Poll;
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut ra = None;
    let mut rb = None;
    std::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

#[test]
fn server_errors_keep_every_field_and_pipeline_recovers() {
    each_backend!(errors);
}

async fn auth<B: Backend>() {
    if pg_support::server().is_none() {
        return;
    }
    for (user, pw) in [
        ("weft", None),
        ("weft_md5", Some("md5pass")),
        ("weft_scram", Some("scrampass")),
        ("weft_clear", Some("clearpass")),
    ] {
        let cfg = pg_support::config_as(user, pw).unwrap();
        let conn = Connection::connect::<B>(&cfg)
            .await
            .unwrap_or_else(|e| panic!("{user}: {e}"));
        let row = conn
            .query_one("SELECT current_user::text", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<&str>(0).unwrap(), user);
    }
    for (user, pw) in [
        ("weft_md5", "wrong"),
        ("weft_scram", "wrong"),
        ("weft_clear", "wrong"),
    ] {
        let cfg = pg_support::config_as(user, Some(pw)).unwrap();
        let e = Connection::connect::<B>(&cfg).await.unwrap_err();
        assert_eq!(e.code(), Some("28P01"), "{user}: {e}");
        assert!(
            e.to_string().contains("password authentication failed"),
            "{e}"
        );
        assert!(e.is_closed());
    }
    // No password where one is needed.
    let cfg = pg_support::config_as("weft_scram", None).unwrap();
    let e = Connection::connect::<B>(&cfg).await.unwrap_err();
    assert!(e.to_string().contains("password"), "{e}");
}

#[test]
fn authentication_methods_and_wrong_passwords() {
    each_backend!(auth);
}

async fn dsn<B: Backend>() {
    let Some((h, p, d)) = pg_support::server() else {
        return;
    };
    // A dead host first: the next one is tried.
    let url = format!(
        "postgres://weft_scram:scrampass@127.0.0.1:1,{h}:{p}/{d}?application_name=weft%20dsn&connect_timeout=5&options=-c%20search_path%3Dpg_catalog&target_session_attrs=read-write"
    );
    let cfg = Config::parse(&url).unwrap();
    let conn = Connection::connect::<B>(&cfg).await.unwrap();
    let row = conn
        .query_one(
            "SELECT current_setting('application_name'), current_setting('search_path')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<&str>(0).unwrap(), "weft dsn");
    assert_eq!(row.get::<&str>(1).unwrap(), "pg_catalog");
    assert_eq!(
        conn.parameter("application_name").as_deref(),
        Some("weft dsn")
    );
    let kv = format!("host=127.0.0.1,{h} port=1,{p} user=weft_md5 password=md5pass dbname={d}");
    let conn = Connection::connect::<B>(&Config::parse(&kv).unwrap())
        .await
        .unwrap();
    assert_eq!(
        conn.query_one("SELECT 1::int4", &[])
            .await
            .unwrap()
            .get::<i32>(0)
            .unwrap(),
        1
    );
    // read-only wanted, but the server is a writable primary.
    let cfg = Config::parse(&format!(
        "host={h} port={p} user=weft dbname={d} target_session_attrs=read-only"
    ))
    .unwrap();
    assert!(Connection::connect::<B>(&cfg).await.is_err());
    // Protocol 3.2 asked for: PostgreSQL 18+ grants it (longer cancel
    // keys), older servers negotiate 3.0; cancelling works either way.
    let version: i32 = conn
        .query_one("SELECT current_setting('server_version_num')::int4", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    let v32 = Config::parse(&format!(
        "host={h} port={p} user=weft dbname={d} max_protocol_version=latest"
    ))
    .unwrap();
    let conn = Connection::connect::<B>(&v32).await.unwrap();
    assert_eq!(
        conn.protocol_minor(),
        if version >= 180_000 { 2 } else { 0 }
    );
    let token = conn.cancel_token().unwrap();
    let c2 = conn.clone();
    let running = weft::rt::spawn(async move { c2.query("SELECT pg_sleep(10)", &[]).await });
    time::sleep(Duration::from_millis(100)).await;
    token.cancel::<B>().await.unwrap();
    let e = running.await.unwrap().unwrap_err();
    assert_eq!(e.code(), Some("57014"), "{e}");
    let min32 = Config::parse(&format!(
        "host={h} port={p} user=weft dbname={d} min_protocol_version=3.2"
    ))
    .unwrap();
    match Connection::connect::<B>(&min32).await {
        Ok(c) => {
            assert!(version >= 180_000);
            assert_eq!(c.protocol_minor(), 2);
        }
        Err(e) => {
            assert!(version < 180_000, "{e}");
            assert!(e.to_string().contains("min_protocol_version"), "{e}");
        }
    }
    // Nothing listens: a clear I/O error.
    let cfg = Config::parse("host=127.0.0.1 port=1 user=weft").unwrap();
    assert!(matches!(
        Connection::connect::<B>(&cfg).await,
        Err(Error::Io(_))
    ));
}

#[test]
fn dsn_forms_and_host_lists() {
    each_backend!(dsn);
}

async fn prepared<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg.statement_cache_size(2)).await;
    let s = conn.prepare("SELECT $1::int8 * 2").await.unwrap();
    assert_eq!(s.params(), [20]);
    assert_eq!(s.columns().len(), 1);
    for i in 0..5i64 {
        let r = conn.query_one(&s, &[&i]).await.unwrap();
        assert_eq!(r.get::<i64>(0).unwrap(), i * 2);
    }
    // Cached: the same statement comes back.
    assert_eq!(
        conn.prepare("SELECT $1::int8 * 2").await.unwrap().name(),
        s.name()
    );
    // The server forgets it: SQLSTATE 26000 is recovered by preparing again.
    conn.batch_execute(&format!("DEALLOCATE {}", s.name()))
        .await
        .unwrap();
    let r = conn
        .query_one("SELECT $1::int8 * 2", &[&21i64])
        .await
        .unwrap();
    assert_eq!(r.get::<i64>(0).unwrap(), 42);
    let r = conn.query_one(&s, &[&4i64]).await.unwrap();
    assert_eq!(r.get::<i64>(0).unwrap(), 8);
    // DISCARD ALL drops every statement; the cache notices.
    conn.batch_execute("DISCARD ALL").await.unwrap();
    let r = conn
        .query_one("SELECT $1::int8 * 2", &[&5i64])
        .await
        .unwrap();
    assert_eq!(r.get::<i64>(0).unwrap(), 10);
    // LRU eviction closes statements on the server.
    for i in 0..6 {
        conn.query_one(&format!("SELECT {i}::int4"), &[])
            .await
            .unwrap();
    }
    let n: i64 = conn
        .query_one("SELECT count(*) FROM pg_prepared_statements", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert!(n <= 3, "{n} statements left on the server");
    // No cache: every query is prepared and closed.
    let conn =
        pg_support::connect::<B>(&pg_support::config().unwrap().statement_cache_size(0)).await;
    for i in 0..3i32 {
        assert_eq!(
            conn.query_one("SELECT $1::int4", &[&i])
                .await
                .unwrap()
                .get::<i32>(0)
                .unwrap(),
            i
        );
    }
    let n: i64 = conn
        .query_one("SELECT count(*) FROM pg_prepared_statements", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert!(n <= 1, "{n}");
}

#[test]
fn prepared_statement_cache() {
    each_backend!(prepared);
}

async fn pipelined<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg).await;
    let mut tasks = Vec::new();
    for t in 0..50i32 {
        let c = conn.clone();
        tasks.push(weft::rt::spawn(async move {
            for i in 0..20i32 {
                let v = t * 1000 + i;
                let r = c
                    .query_one("SELECT $1::int4, $2::text", &[&v, &v.to_string()])
                    .await
                    .unwrap();
                assert_eq!(r.get::<i32>(0).unwrap(), v);
                assert_eq!(r.get::<String>(1).unwrap(), v.to_string());
                if i % 7 == 3 {
                    assert_eq!(
                        c.query("SELECT 1/0", &[]).await.unwrap_err().code(),
                        Some("22012")
                    );
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Dropped futures: their responses are drained, later callers unaffected.
    for i in 0..20i32 {
        let c = conn.clone();
        let fut = async move { c.query_one("SELECT $1::int4, pg_sleep(0.001)", &[&i]).await };
        let _ = time::timeout(Duration::from_micros(50), fut).await;
        let r = conn
            .query_one("SELECT $1::int4 + 100", &[&i])
            .await
            .unwrap();
        assert_eq!(r.get::<i32>(0).unwrap(), i + 100);
    }
    assert_eq!(conn.pending(), 0);
}

#[test]
fn concurrent_callers_are_pipelined_fifo() {
    each_backend!(pipelined);
}
