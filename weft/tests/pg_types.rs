//! Every supported type round-tripped through the real server in binary
//! and text format, NULL included, arrays and edge values; each value is
//! also compared with the server's own parse of its literal, so the
//! encoding is checked against PostgreSQL, not only against itself.

mod pg_support;

use std::fmt::Debug;
use std::net::IpAddr;

use bytes::{BufMut, BytesMut};
use weft::pg::types::{
    Array, Date, Dimension, FromSql, Inet, Interval, IsNull, Json, Numeric, Time, TimeTz,
    Timestamp, ToSql, TypeError, Uuid,
};
use weft::pg::{Config, Connection, Format, Oid};
use weft::rt::Backend;

/// `SELECT $1::ty, $2::text::ty, $1::ty IS NOT DISTINCT FROM $2::text::ty`
/// in `format`: the value comes back unchanged, the server's parse of
/// `literal` decodes to the same value, and the server agrees they are
/// equal.
async fn check<T>(conn: &Connection, ty: &str, v: T, literal: Option<&str>)
where
    T: ToSql + for<'a> FromSql<'a> + PartialEq + Debug,
{
    for format in [Format::Binary, Format::Text] {
        // json and point have no equality operator: compare as text.
        let cmp = if ["json", "json[]", "point"].contains(&ty) {
            "::text"
        } else {
            ""
        };
        let sql = format!(
            "SELECT $1::{ty}, $2::text::{ty}, $1::{ty}{cmp} IS NOT DISTINCT FROM $2::text::{ty}{cmp}"
        );
        let params: [&dyn ToSql; 2] = [&v, &literal];
        let rows = match format {
            Format::Binary => conn.query(&sql, &params).await,
            _ => conn.query_text(&sql, &params).await,
        }
        .unwrap_or_else(|e| panic!("{ty} {v:?} {format:?}: {e}"));
        let row = &rows[0];
        assert_eq!(row.format(), format);
        let back: T = row
            .get(0)
            .unwrap_or_else(|e| panic!("{ty} {v:?} {format:?}: {e}"));
        assert_eq!(back, v, "{ty} {format:?} round trip");
        if literal.is_some() {
            let parsed: T = row
                .get(1)
                .unwrap_or_else(|e| panic!("{ty} {literal:?} {format:?}: {e}"));
            assert_eq!(parsed, v, "{ty} {format:?}: server's {literal:?}");
            assert!(
                row.get::<bool>(2).unwrap(),
                "{ty} {v:?}: server says not equal to {literal:?}"
            );
        }
        // NULL both ways.
        let none: Option<T> = None;
        let rows = match format {
            Format::Binary => conn.query(&format!("SELECT $1::{ty}"), &[&none]).await,
            _ => conn.query_text(&format!("SELECT $1::{ty}"), &[&none]).await,
        }
        .unwrap();
        assert_eq!(rows[0].get::<Option<T>>(0).unwrap(), None, "{ty} NULL");
        assert!(rows[0].get::<T>(0).is_err(), "{ty}: NULL into a non-Option");
    }
}

async fn scalars<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg).await;
    check(&conn, "bool", true, Some("t")).await;
    check(&conn, "bool", false, Some("false")).await;
    for v in [i16::MIN, -1, 0, i16::MAX] {
        check(&conn, "int2", v, Some(&v.to_string())).await;
    }
    for v in [i32::MIN, 0, 42, i32::MAX] {
        check(&conn, "int4", v, Some(&v.to_string())).await;
    }
    for v in [i64::MIN, -7, i64::MAX] {
        check(&conn, "int8", v, Some(&v.to_string())).await;
    }
    for (v, lit) in [
        (1.5f32, "1.5"),
        (-0.0, "-0"),
        (f32::MAX, "3.4028235e38"),
        (f32::MIN_POSITIVE, "1.1754944e-38"),
        (f32::INFINITY, "Infinity"),
        (f32::NEG_INFINITY, "-Infinity"),
        (f32::from_bits(1), "1e-45"),
    ] {
        check(&conn, "float4", v, Some(lit)).await;
    }
    for (v, lit) in [
        (0.1f64, "0.1"),
        (f64::MAX, "1.7976931348623157e308"),
        (5e-324, "5e-324"),
        (f64::INFINITY, "infinity"),
        (f64::NEG_INFINITY, "-infinity"),
    ] {
        check(&conn, "float8", v, Some(lit)).await;
    }
    // NaN is not equal to itself in Rust; check it by hand.
    for format in [Format::Binary, Format::Text] {
        let sql = "SELECT $1::float8, 'NaN'::float8, $2::float4";
        let p: [&dyn ToSql; 2] = [&f64::NAN, &f32::NAN];
        let rows = if format == Format::Binary {
            conn.query(sql, &p).await
        } else {
            conn.query_text(sql, &p).await
        }
        .unwrap();
        assert!(rows[0].get::<f64>(0).unwrap().is_nan());
        assert!(rows[0].get::<f64>(1).unwrap().is_nan());
        assert!(rows[0].get::<f32>(2).unwrap().is_nan());
    }
    for lit in [
        "0",
        "-0.5",
        "123.4500",
        "123456789012345678901234567890.000000000000000000001",
        "-99999999999999999999999999999999999999",
        "0.000000000000000000000000000000000001",
        "NaN",
        "Infinity",
        "-Infinity",
    ] {
        let v: Numeric = lit.parse().unwrap();
        check(&conn, "numeric", v, Some(lit)).await;
    }
    // The extremes of the type: 131,072 digits before the point, 16,383
    // after it.
    let biggest = format!("9{}", "8".repeat(131_071));
    let smallest = format!("-0.{}1", "0".repeat(16_382));
    let both = format!("{}.{}", "7".repeat(131_072), "3".repeat(16_383));
    for lit in [&biggest, &smallest, &both] {
        let v: Numeric = lit.parse().unwrap();
        check(&conn, "numeric", v, Some(lit)).await;
    }
    for s in [
        "",
        "héllo ✓ 🐘",
        "tab\there \"quoted\" {braces} back\\slash",
    ] {
        check(&conn, "text", s.to_string(), Some(s)).await;
        check(&conn, "varchar", s.to_string(), Some(s)).await;
    }
    let long = "x".repeat(100_000);
    check(&conn, "text", long.clone(), Some(&long)).await;
    check(&conn, "name", "pg_class".to_string(), Some("pg_class")).await;
    check(&conn, "char(4)", "ab  ".to_string(), Some("ab")).await;
    check(
        &conn,
        "bytea",
        vec![0u8, 1, 2, 255, b'\\', b'\''],
        Some("\\x000102ff5c27"),
    )
    .await;
    check(&conn, "bytea", Vec::<u8>::new(), Some("")).await;
    let u: Uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap();
    check(
        &conn,
        "uuid",
        u,
        Some("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
    )
    .await;
    check(
        &conn,
        "json",
        Json(r#"{"a": [1, 2.5, null], "b": "é"}"#.into()),
        Some(r#"{"a": [1, 2.5, null], "b": "é"}"#),
    )
    .await;
    check(
        &conn,
        "jsonb",
        Json(r#"{"a": [1, 2.5, null], "b": "é"}"#.into()),
        Some(r#"{"b":"é","a":[1,2.5,null]}"#),
    )
    .await;
    check(&conn, "oid", u32::MAX, Some("4294967295")).await;
    check(&conn, "oid", 0u32, Some("0")).await;
    // The catalogs' one-byte "char".
    for (c, lit) in [
        (b'r' as i8, "r"),
        (b'\\' as i8, "\\"),
        (0, ""),
        (-1, "\\377"),
    ] {
        check(&conn, "\"char\"", c, Some(lit)).await;
    }
    check(
        &conn,
        "\"char\"[]",
        Array::from_vec(vec![Some(b'a' as i8), None, Some(i8::MIN)]),
        Some(r#"{a,NULL,"\\200"}"#),
    )
    .await;
    let r = conn
        .query_one(
            "SELECT relkind FROM pg_class WHERE relname = 'pg_class'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(r.get::<i8>(0).unwrap(), b'r' as i8);
}

#[test]
fn scalar_types_round_trip() {
    each_backend!(scalars);
}

async fn times<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg).await;
    // The text format of timestamptz depends on TimeZone; pin it.
    conn.batch_execute("SET TimeZone = 'UTC'").await.unwrap();
    for (d, lit) in [
        (Date::from_ymd(2000, 1, 1).unwrap(), "2000-01-01"),
        (Date::from_ymd(1999, 12, 31).unwrap(), "1999-12-31"),
        (Date::from_ymd(2024, 2, 29).unwrap(), "2024-02-29"),
        (Date::from_ymd(5874897, 12, 31).unwrap(), "5874897-12-31"),
        (Date::from_ymd(-4713, 11, 24).unwrap(), "4714-11-24 BC"),
        (Date::INFINITY, "infinity"),
        (Date::NEG_INFINITY, "-infinity"),
    ] {
        check(&conn, "date", d, Some(lit)).await;
    }
    for (t, lit) in [
        (Time::from_hms_micro(0, 0, 0, 0).unwrap(), "00:00:00"),
        (
            Time::from_hms_micro(23, 59, 59, 999_999).unwrap(),
            "23:59:59.999999",
        ),
        (Time(86_400_000_000), "24:00:00"),
        (
            Time::from_hms_micro(12, 0, 0, 500).unwrap(),
            "12:00:00.0005",
        ),
    ] {
        check(&conn, "time", t, Some(lit)).await;
    }
    for (t, lit) in [
        (
            TimeTz {
                time: Time::from_hms_micro(12, 34, 56, 0).unwrap(),
                offset: 19_800,
            },
            "12:34:56+05:30",
        ),
        (
            TimeTz {
                time: Time::from_hms_micro(1, 2, 3, 4).unwrap(),
                offset: -3600,
            },
            "01:02:03.000004-01",
        ),
        (
            TimeTz {
                time: Time::from_hms_micro(12, 0, 0, 0).unwrap(),
                offset: 5 * 3600 + 30 * 60 + 15,
            },
            "12:00:00+05:30:15",
        ),
    ] {
        check(&conn, "timetz", t, Some(lit)).await;
    }
    let ts = Timestamp::new(
        Date::from_ymd(2026, 11, 24).unwrap(),
        Time::from_hms_micro(12, 0, 0, 123_456).unwrap(),
    )
    .unwrap();
    let old = Timestamp::new(Date::from_ymd(1, 1, 1).unwrap(), Time(0)).unwrap();
    for ty in ["timestamp", "timestamptz"] {
        let tz = if ty == "timestamptz" { "+00" } else { "" };
        check(
            &conn,
            ty,
            ts,
            Some(&format!("2026-11-24 12:00:00.123456{tz}")),
        )
        .await;
        check(&conn, ty, old, Some(&format!("0001-01-01 00:00:00{tz}"))).await;
        check(&conn, ty, Timestamp::INFINITY, Some("infinity")).await;
        check(&conn, ty, Timestamp::NEG_INFINITY, Some("-infinity")).await;
        // The first and last finite instants.
        let first = Timestamp::new(Date::from_ymd(-4713, 11, 24).unwrap(), Time(0)).unwrap();
        let last = Timestamp::new(
            Date::from_ymd(294_276, 12, 31).unwrap(),
            Time::from_hms_micro(23, 59, 59, 999_999).unwrap(),
        )
        .unwrap();
        check(
            &conn,
            ty,
            first,
            Some(&format!("4714-11-24 00:00:00{tz} BC")),
        )
        .await;
        check(
            &conn,
            ty,
            last,
            Some(&format!("294276-12-31 23:59:59.999999{tz}")),
        )
        .await;
    }
    for (iv, lit) in [
        (
            Interval {
                months: 14,
                days: 3,
                micros: 14_706_789_000,
            },
            "1 year 2 mons 3 days 04:05:06.789",
        ),
        (
            Interval {
                months: -1,
                days: -2,
                micros: -3_000_000,
            },
            "-1 mons -2 days -00:00:03",
        ),
        (
            Interval {
                months: 0,
                days: 0,
                micros: 0,
            },
            "00:00:00",
        ),
    ] {
        check(&conn, "interval", iv, Some(lit)).await;
    }
    // A zone whose historical offset has seconds (Amsterdam's local mean
    // time, +00:19:32 in 1900): text timestamptz carries it.
    conn.batch_execute("SET TimeZone = 'Europe/Amsterdam'")
        .await
        .unwrap();
    let lmt = Timestamp::new(Date::from_ymd(1900, 1, 1).unwrap(), Time(0)).unwrap();
    check(
        &conn,
        "timestamptz",
        lmt,
        Some("1900-01-01 00:19:32+00:19:32"),
    )
    .await;
    // Interval infinity exists from PostgreSQL 17; older servers refuse it.
    let version: i32 = conn
        .query_one("SELECT current_setting('server_version_num')::int4", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    for (iv, lit) in [
        (Interval::INFINITY, "infinity"),
        (Interval::NEG_INFINITY, "-infinity"),
    ] {
        if version >= 170_000 {
            check(&conn, "interval", iv, Some(lit)).await;
        } else {
            let e = conn
                .query_text("SELECT $1::interval", &[&iv])
                .await
                .unwrap_err();
            assert_eq!(e.code(), Some("22007"), "{e}");
        }
    }
}

#[test]
fn date_and_time_types_round_trip() {
    each_backend!(times);
}

/// Text-format values decode the same whatever the role's `DateStyle`,
/// `IntervalStyle` and `extra_float_digits` defaults are: the start-up
/// message pins the styles the decoders read, and start-up values beat
/// role settings.
async fn foreign_styles<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let admin = pg_support::connect::<B>(&cfg).await;
    let role = pg_support::unique("styles");
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN; \
             ALTER ROLE {role} SET DateStyle = 'SQL, DMY'; \
             ALTER ROLE {role} SET IntervalStyle = 'iso_8601'; \
             ALTER ROLE {role} SET extra_float_digits = 0; \
             ALTER ROLE {role} SET TimeZone = 'Asia/Kolkata'"
        ))
        .await
        .unwrap();
    let (h, p, d) = pg_support::server().unwrap();
    let conn = pg_support::connect::<B>(&Config::new(h, p, role.as_str()).dbname(d)).await;
    // The role's settings apply where nothing is pinned.
    let tz = conn.query_one("SHOW TimeZone", &[]).await.unwrap();
    assert_eq!(tz.get::<&str>(0).unwrap(), "Asia/Kolkata");
    assert_eq!(conn.parameter("IntervalStyle").as_deref(), Some("postgres"));
    assert!(conn.parameter("DateStyle").unwrap().starts_with("ISO"));

    check(
        &conn,
        "date",
        Date::from_ymd(2024, 2, 29).unwrap(),
        Some("2024-02-29"),
    )
    .await;
    check(
        &conn,
        "date",
        Date::from_ymd(-44, 3, 15).unwrap(),
        Some("0045-03-15 BC"),
    )
    .await;
    let ts = Timestamp::new(
        Date::from_ymd(2026, 1, 31).unwrap(),
        Time::from_hms_micro(23, 59, 59, 5).unwrap(),
    )
    .unwrap();
    check(&conn, "timestamp", ts, Some("2026-01-31 23:59:59.000005")).await;
    // Read back in the session's zone (+05:30), the same instant.
    check(
        &conn,
        "timestamptz",
        ts,
        Some("2026-02-01 05:29:59.000005+05:30"),
    )
    .await;
    check(
        &conn,
        "interval",
        Interval {
            months: 14,
            days: -3,
            micros: 14_706_789_000,
        },
        Some("1 year 2 mons -3 days 04:05:06.789"),
    )
    .await;
    check(&conn, "float8", 0.1 + 0.2, Some("0.30000000000000004")).await;
    check(&conn, "float4", 5_592_405.5f32, Some("5592405.5")).await;
    conn.close();
    admin
        .batch_execute(&format!("DROP ROLE {role}"))
        .await
        .unwrap();
}

#[test]
fn text_values_ignore_the_roles_output_styles() {
    each_backend!(foreign_styles);
}

async fn networks_and_arrays<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg).await;
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    check(
        &conn,
        "inet",
        Inet::host(ip("192.168.1.20")),
        Some("192.168.1.20"),
    )
    .await;
    check(
        &conn,
        "inet",
        Inet {
            addr: ip("192.168.1.20"),
            netmask: 24,
        },
        Some("192.168.1.20/24"),
    )
    .await;
    check(&conn, "inet", Inet::host(ip("::1")), Some("::1")).await;
    check(
        &conn,
        "inet",
        Inet {
            addr: ip("::ffff:1.2.3.4"),
            netmask: 120,
        },
        Some("::ffff:1.2.3.4/120"),
    )
    .await;
    check(
        &conn,
        "cidr",
        Inet {
            addr: ip("10.0.0.0"),
            netmask: 8,
        },
        Some("10.0.0.0/8"),
    )
    .await;
    check(
        &conn,
        "cidr",
        Inet {
            addr: ip("2001:db8::"),
            netmask: 32,
        },
        Some("2001:db8::/32"),
    )
    .await;

    check(
        &conn,
        "int4[]",
        Array::from_vec(vec![Some(1i32), None, Some(-3)]),
        Some("{1,NULL,-3}"),
    )
    .await;
    check(&conn, "int4[]", Array::<i32>::from_vec(vec![]), Some("{}")).await;
    check(
        &conn,
        "int8[]",
        Array::from_vec(vec![i64::MIN, i64::MAX]),
        Some("{-9223372036854775808,9223372036854775807}"),
    )
    .await;
    check(
        &conn,
        "text[]",
        Array::from_vec(vec![
            Some("a,b".to_string()),
            Some("NULL".to_string()),
            None,
            Some("".to_string()),
            Some("q\"uote\\".to_string()),
            Some("{}".to_string()),
        ]),
        Some(r#"{"a,b","NULL",NULL,"","q\"uote\\","{}"}"#),
    )
    .await;
    let two_d = Array::from_parts(
        vec![
            Dimension {
                len: 2,
                lower_bound: 1,
            },
            Dimension {
                len: 3,
                lower_bound: 1,
            },
        ],
        vec![1i16, 2, 3, 4, 5, 6],
    )
    .unwrap();
    check(&conn, "int2[]", two_d, Some("{{1,2,3},{4,5,6}}")).await;
    let shifted = Array::from_parts(
        vec![Dimension {
            len: 2,
            lower_bound: 0,
        }],
        vec![true, false],
    )
    .unwrap();
    check(&conn, "bool[]", shifted, Some("[0:1]={t,f}")).await;
    check(
        &conn,
        "float8[]",
        Array::from_vec(vec![1.5f64, f64::INFINITY, -0.25]),
        Some("{1.5,Infinity,-0.25}"),
    )
    .await;
    let u: Uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap();
    check(
        &conn,
        "uuid[]",
        Array::from_vec(vec![Some(u), None]),
        Some("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}"),
    )
    .await;
    let n: Numeric = "1.25".parse().unwrap();
    check(&conn, "numeric[]", Array::from_vec(vec![n]), Some("{1.25}")).await;
    check(
        &conn,
        "date[]",
        Array::from_vec(vec![Date::from_ymd(2000, 1, 2).unwrap(), Date::INFINITY]),
        Some("{2000-01-02,infinity}"),
    )
    .await;
    check(
        &conn,
        "bytea[]",
        Array::from_vec(vec![vec![0u8, 255], vec![]]),
        Some(r#"{"\\x00ff","\\x"}"#),
    )
    .await;
    check(
        &conn,
        "jsonb[]",
        Array::from_vec(vec![Json(r#"{"a": 1}"#.into())]),
        Some(r#"{"{\"a\": 1}"}"#),
    )
    .await;
    check(
        &conn,
        "inet[]",
        Array::from_vec(vec![Inet::host(ip("1.2.3.4"))]),
        Some("{1.2.3.4}"),
    )
    .await;
    check(
        &conn,
        "interval[]",
        Array::from_vec(vec![Interval {
            months: 0,
            days: 1,
            micros: 0,
        }]),
        Some(r#"{"1 day"}"#),
    )
    .await;
    check(
        &conn,
        "varchar[]",
        Array::from_vec(vec!["x".to_string()]),
        Some("{x}"),
    )
    .await;
    // The element types not covered above, NULLs among them.
    check(
        &conn,
        "char(3)[]",
        Array::from_vec(vec![Some("ab ".to_string()), None, Some("x  ".to_string())]),
        Some("{ab,NULL,x}"),
    )
    .await;
    check(
        &conn,
        "name[]",
        Array::from_vec(vec!["pg_class".to_string(), "a b".to_string()]),
        Some(r#"{pg_class,"a b"}"#),
    )
    .await;
    check(
        &conn,
        "json[]",
        Array::from_vec(vec![Some(Json(r#"{"k": [1, "é"]}"#.into())), None]),
        Some(r#"{"{\"k\": [1, \"é\"]}",NULL}"#),
    )
    .await;
    check(
        &conn,
        "timetz[]",
        Array::from_vec(vec![
            Some(TimeTz {
                time: Time::from_hms_micro(23, 59, 59, 999_999).unwrap(),
                offset: -(15 * 3600 + 59 * 60),
            }),
            None,
        ]),
        Some(r#"{"23:59:59.999999-15:59",NULL}"#),
    )
    .await;
    let ts = Timestamp::new(
        Date::from_ymd(2026, 11, 24).unwrap(),
        Time::from_hms_micro(12, 0, 0, 1).unwrap(),
    )
    .unwrap();
    check(
        &conn,
        "timestamptz[]",
        Array::from_vec(vec![Some(ts), Some(Timestamp::NEG_INFINITY), None]),
        Some(r#"{"2026-11-24 17:30:00.000001+05:30",-infinity,NULL}"#),
    )
    .await;
    check(
        &conn,
        "cidr[]",
        Array::from_vec(vec![
            Inet {
                addr: ip("10.1.0.0"),
                netmask: 16,
            },
            Inet {
                addr: ip("2001:db8::"),
                netmask: 48,
            },
        ]),
        Some("{10.1.0.0/16,2001:db8::/48}"),
    )
    .await;
    // Three dimensions with NULLs, and two with shifted lower bounds.
    let dim = |len, lower_bound| Dimension { len, lower_bound };
    let cube = Array::from_parts(
        vec![dim(2, 1), dim(2, 1), dim(2, 1)],
        vec![
            Some(1i32),
            Some(2),
            Some(3),
            None,
            Some(5),
            None,
            Some(7),
            Some(i32::MIN),
        ],
    )
    .unwrap();
    check(
        &conn,
        "int4[]",
        cube,
        Some("{{{1,2},{3,NULL}},{{5,NULL},{7,-2147483648}}}"),
    )
    .await;
    let grid = Array::from_parts(
        vec![dim(2, 0), dim(2, -3)],
        vec![
            Some("a".to_string()),
            None,
            Some("b c".to_string()),
            Some("".to_string()),
        ],
    )
    .unwrap();
    check(
        &conn,
        "text[]",
        grid,
        Some(r#"[0:1][-3:-2]={{a,NULL},{"b c",""}}"#),
    )
    .await;
    // Integer widening on read: an int2 column read as i64.
    let r = conn
        .query_one("SELECT 5::int2, 7::int4", &[])
        .await
        .unwrap();
    assert_eq!((r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()), (5, 7));
}

#[test]
fn network_and_array_types_round_trip() {
    each_backend!(networks_and_arrays);
}

/// A user type for the built-in `point` (OID 600): two float8 in binary,
/// `(x,y)` in text.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    x: f64,
    y: f64,
}

impl ToSql for Point {
    fn type_oid(&self) -> Oid {
        600
    }

    fn accepts(&self, oid: Oid) -> bool {
        oid == 600
    }

    fn to_sql(&self, _: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match format {
            Format::Binary => {
                out.put_f64(self.x);
                out.put_f64(self.y);
            }
            _ => out.put_slice(format!("({},{})", self.x, self.y).as_bytes()),
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for Point {
    fn accepts(oid: Oid) -> bool {
        oid == 600
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match format {
            Format::Binary => {
                let raw: [u8; 16] = raw.try_into().map_err(|_| TypeError::Invalid("point"))?;
                let f = |b: &[u8]| f64::from_be_bytes(b.try_into().unwrap());
                Ok(Point {
                    x: f(&raw[..8]),
                    y: f(&raw[8..]),
                })
            }
            _ => {
                let s = std::str::from_utf8(raw).map_err(|_| TypeError::Invalid("point"))?;
                let (x, y) = s
                    .strip_prefix('(')
                    .and_then(|s| s.strip_suffix(')'))
                    .and_then(|s| s.split_once(','))
                    .ok_or(TypeError::Invalid("point"))?;
                let n = |v: &str| v.parse().map_err(|_| TypeError::Invalid("point"));
                Ok(Point { x: n(x)?, y: n(y)? })
            }
        }
    }
}

/// A user enum for a type created at run time: its OID is not known in
/// advance, so it accepts any and the server infers the parameter type
/// from the cast. Both formats of an enum are its label.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mood {
    Sad,
    Happy,
}

impl ToSql for Mood {
    fn type_oid(&self) -> Oid {
        0
    }

    fn accepts(&self, _: Oid) -> bool {
        true
    }

    fn to_sql(&self, _: Oid, _: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        out.put_slice(match self {
            Mood::Sad => b"sad",
            Mood::Happy => b"happy",
        });
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for Mood {
    fn accepts(_: Oid) -> bool {
        true
    }

    fn from_sql(_: Oid, _: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match raw {
            b"sad" => Ok(Mood::Sad),
            b"happy" => Ok(Mood::Happy),
            _ => Err(TypeError::Invalid("mood")),
        }
    }
}

async fn user_types<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg).await;
    check(&conn, "point", Point { x: 1.5, y: -2.0 }, Some("(1.5,-2)")).await;
    check(
        &conn,
        "point",
        Point {
            x: f64::MAX,
            y: 5e-324,
        },
        Some("(1.7976931348623157e308,5e-324)"),
    )
    .await;
    // A value the server made reads back; another Rust type is refused.
    let r = conn.query_one("SELECT '(3,4)'::point", &[]).await.unwrap();
    assert_eq!(r.get::<Point>(0).unwrap(), Point { x: 3.0, y: 4.0 });
    assert!(r.get::<i32>(0).is_err());

    let ty = pg_support::unique("mood");
    conn.batch_execute(&format!("CREATE TYPE {ty} AS ENUM ('sad', 'happy')"))
        .await
        .unwrap();
    check(&conn, &ty, Mood::Happy, Some("happy")).await;
    check(&conn, &ty, Mood::Sad, Some("sad")).await;
    let r = conn
        .query_one(&format!("SELECT 'sad'::{ty} < $1::{ty}"), &[&Mood::Happy])
        .await
        .unwrap();
    assert!(r.get::<bool>(0).unwrap(), "enum order");
    let e = conn
        .query(&format!("SELECT 'angry'::{ty}"), &[])
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("22P02"));
    conn.batch_execute(&format!("DROP TYPE {ty}"))
        .await
        .unwrap();
}

#[test]
fn user_defined_to_sql_from_sql() {
    each_backend!(user_types);
}
