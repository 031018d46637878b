//! Every type round-tripped through the real server, binary and text.

mod common;

use common::Client;
use proto_pg::types::{
    self, Array, Date, Dimension, FromSql, Inet, Interval, Json, Numeric, Time, TimeTz, Timestamp,
    ToSql, Uuid, oid,
};
use proto_pg::{Event, Format};

/// Sends `value` as `$1::cast` in `format`, returns the server's echo
/// decoded from `format`.
fn echo<T>(c: &mut Client, cast: &str, value: &T, format: Format) -> T
where
    T: ToSql + for<'a> FromSql<'a>,
{
    let sql = format!("SELECT $1::{cast}");
    let id = c.conn.query_typed(&sql, &[value], format).unwrap();
    let ev = c.wait(id);
    let cols = ev
        .iter()
        .find_map(|e| match e {
            Event::RowDescription { columns, .. } => Some(columns.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{cast}: {ev:?}"));
    let field = cols.iter().next().unwrap();
    let row = ev
        .iter()
        .find_map(|e| match e {
            Event::Row { row, .. } => Some(row.clone()),
            _ => None,
        })
        .unwrap();
    // The portal was described after Bind, so the description carries the
    // result format we asked for.
    assert_eq!(field.format, format);
    types::get(&cols, &row, 0).unwrap_or_else(|e| panic!("{cast}: {e}"))
}

fn check<T>(c: &mut Client, cast: &str, values: &[T])
where
    T: ToSql + for<'a> FromSql<'a> + PartialEq + std::fmt::Debug,
{
    for v in values {
        for f in [Format::Binary, Format::Text] {
            assert_eq!(&echo(c, cast, v, f), v, "{cast} {f:?}");
        }
    }
}

#[test]
fn scalars_round_trip() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    check(&mut c, "bool", &[true, false]);
    check(&mut c, "int2", &[i16::MIN, -1, 0, i16::MAX]);
    check(&mut c, "int4", &[i32::MIN, 7, i32::MAX]);
    check(&mut c, "int8", &[i64::MIN, 0, i64::MAX]);
    check(&mut c, "oid", &[0u32, u32::MAX]);
    check(
        &mut c,
        "float4",
        &[
            0.0f32,
            -1.5,
            f32::MAX,
            f32::MIN_POSITIVE,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.1,
        ],
    );
    check(
        &mut c,
        "float8",
        &[
            0.0f64,
            1e300,
            -2.5e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.1,
            std::f64::consts::PI,
        ],
    );
    for f in [Format::Binary, Format::Text] {
        assert!(echo(&mut c, "float8", &f64::NAN, f).is_nan());
        assert!(echo(&mut c, "float4", &f32::NAN, f).is_nan());
    }
    let strings: Vec<String> = ["", "plain", "ünïcødé ✓", "quote ' \" \\ {}"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    check(&mut c, "text", &strings);
    check(&mut c, "varchar", &strings);
    check(&mut c, "name", &strings[1..2]);
    check(&mut c, "char(5)", &["abcde".to_owned()]);
    check(
        &mut c,
        "bytea",
        &[
            Vec::new(),
            vec![0u8, 1, 255, b'\\', b'\''],
            (0..=255).collect(),
        ],
    );
    check(
        &mut c,
        "uuid",
        &[
            Uuid([0; 16]),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap(),
        ],
    );
    check(
        &mut c,
        "json",
        &[Json(r#"{"a": [1, 2.5, null, "x"]}"#.into())],
    );
    check(
        &mut c,
        "jsonb",
        &[
            Json(r#"{"a": [1, 2.5, null, "x"]}"#.into()),
            Json("[]".into()),
        ],
    );
}

#[test]
fn null_round_trip() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    for f in [Format::Binary, Format::Text] {
        assert_eq!(echo(&mut c, "int4", &None::<i32>, f), None);
        assert_eq!(echo(&mut c, "text", &None::<String>, f), None);
        assert_eq!(
            echo(&mut c, "numeric", &Some(Numeric::from(5)), f),
            Some(Numeric::from(5))
        );
    }
}

#[test]
fn numeric_round_trip() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let vals: Vec<Numeric> = [
        "0",
        "0.000",
        "1.50",
        "-1.50",
        "12345678901234567890123456789012345678901234567890.0123456789",
        "-0.00000000000000000000000000000001",
        "10000",
        "9999.9999",
        "0.0001",
        "100000000",
        "NaN",
        "Infinity",
        "-Infinity",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    check(&mut c, "numeric", &vals);
    assert_eq!(
        echo(&mut c, "numeric", &vals[4], Format::Binary).to_string(),
        "12345678901234567890123456789012345678901234567890.0123456789"
    );
}

#[test]
fn datetime_round_trip() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    c.simple("SET TimeZone = 'UTC'");
    check(
        &mut c,
        "date",
        &[
            Date::from_ymd(2024, 2, 29).unwrap(),
            Date::from_ymd(-43, 3, 15).unwrap(),
            Date::from_ymd(1, 1, 1).unwrap(),
            Date::from_ymd(99999, 12, 31).unwrap(),
            Date::INFINITY,
            Date::NEG_INFINITY,
        ],
    );
    check(
        &mut c,
        "time",
        &[
            Time(0),
            Time::from_hms_micro(23, 59, 59, 999_999).unwrap(),
            Time(86_400_000_000),
        ],
    );
    check(
        &mut c,
        "timetz",
        &[
            TimeTz {
                time: Time::from_hms_micro(1, 2, 3, 400_000).unwrap(),
                offset: 0,
            },
            TimeTz {
                time: Time::from_hms_micro(1, 2, 3, 0).unwrap(),
                offset: -(5 * 3600 + 30 * 60),
            },
            TimeTz {
                time: Time(0),
                offset: 14 * 3600,
            },
        ],
    );
    let stamps = [
        Timestamp::new(
            Date::from_ymd(2024, 2, 29).unwrap(),
            Time::from_hms_micro(13, 45, 6, 500_000).unwrap(),
        )
        .unwrap(),
        Timestamp::new(Date::from_ymd(1970, 1, 1).unwrap(), Time(1)).unwrap(),
        Timestamp::new(Date::from_ymd(-100, 6, 1).unwrap(), Time(0)).unwrap(),
        Timestamp::INFINITY,
        Timestamp::NEG_INFINITY,
    ];
    check(&mut c, "timestamp", &stamps);
    check(&mut c, "timestamptz", &stamps);
    // Text output in another zone still decodes to the same instant.
    c.simple("SET TimeZone = 'Asia/Kolkata'");
    check(&mut c, "timestamptz", &stamps[..2]);
    check(
        &mut c,
        "interval",
        &[
            Interval::default(),
            Interval {
                months: 14,
                days: -3,
                micros: -14_706_789_000,
            },
            Interval {
                months: -1,
                days: 400,
                micros: 3_600_000_000 * 1000 + 1,
            },
        ],
    );
}

#[test]
fn inet_round_trip() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let v: Vec<Inet> = [
        "127.0.0.1",
        "192.168.0.0/16",
        "::1",
        "2001:db8::/32",
        "10.1.2.3/8",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    check(&mut c, "inet", &v);
    check(&mut c, "cidr", &v[..4]);
}

#[test]
fn arrays_round_trip() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    check(
        &mut c,
        "int4[]",
        &[Array::from_vec(vec![1i32, 2, 3]), Array::from_vec(vec![])],
    );
    check(
        &mut c,
        "int8[]",
        &[Array::from_vec(vec![Some(1i64), None, Some(i64::MAX)])],
    );
    check(
        &mut c,
        "text[]",
        &[Array::from_vec(vec![
            Some("a b".to_owned()),
            None,
            Some("NULL".into()),
            Some("".into()),
            Some("q\"\\{},".into()),
        ])],
    );
    let m = Array::from_parts(
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
        vec![Some(1i16), None, Some(3), Some(4), Some(5), Some(6)],
    )
    .unwrap();
    check(&mut c, "int2[]", &[m]);
    let lb = Array::from_parts(
        vec![Dimension {
            len: 2,
            lower_bound: -2,
        }],
        vec![true, false],
    )
    .unwrap();
    check(&mut c, "bool[]", &[lb]);
    check(
        &mut c,
        "float8[]",
        &[Array::from_vec(vec![1.5f64, f64::INFINITY])],
    );
    check(
        &mut c,
        "numeric[]",
        &[Array::from_vec(vec![
            "1.50".parse::<Numeric>().unwrap(),
            Numeric::NAN,
        ])],
    );
    check(
        &mut c,
        "bytea[]",
        &[Array::from_vec(vec![vec![0u8, 92, 34], vec![]])],
    );
    check(&mut c, "uuid[]", &[Array::from_vec(vec![Uuid([7; 16])])]);
    check(
        &mut c,
        "date[]",
        &[Array::from_vec(vec![
            Date::from_ymd(2020, 1, 1).unwrap(),
            Date::INFINITY,
        ])],
    );
    check(
        &mut c,
        "timestamp[]",
        &[Array::from_vec(vec![Timestamp(0)])],
    );
    check(
        &mut c,
        "interval[]",
        &[Array::from_vec(vec![Interval {
            months: 1,
            days: 2,
            micros: 3,
        }])],
    );
    check(
        &mut c,
        "jsonb[]",
        &[Array::from_vec(vec![Json("{\"a\": 1}".into())])],
    );
    check(
        &mut c,
        "inet[]",
        &[Array::from_vec(vec!["::1".parse::<Inet>().unwrap()])],
    );
    check(
        &mut c,
        "varchar[]",
        &[Array::from_vec(vec!["x".to_owned()])],
    );
    check(&mut c, "oid[]", &[Array::from_vec(vec![1u32])]);
    check(&mut c, "time[]", &[Array::from_vec(vec![Time(5)])]);
    check(&mut c, "float4[]", &[Array::from_vec(vec![0.5f32])]);
}

/// Values the server produces itself decode the same from text and binary.
#[test]
fn server_values_agree_across_formats() {
    let Some(mut c) = Client::connect() else {
        return;
    };
    let exprs = [
        (
            "numeric",
            "SELECT 12.3400::numeric, (-1)::numeric / 3, 'NaN'::numeric, 1e-20::numeric, 123456789012::numeric * 10000",
        ),
        (
            "timestamptz",
            "SELECT '2024-07-01 12:34:56.789+02'::timestamptz, 'epoch'::timestamptz, '4713-01-01 BC'::timestamptz, 'infinity'::timestamptz, '2000-01-01 00:00:00.000001+05:45'::timestamptz",
        ),
        (
            "interval",
            "SELECT '1 year 2 mons 3 days 04:05:06.7'::interval, '-1 day +1 hour'::interval, '-00:00:00.000001'::interval, interval '178000000 years'",
        ),
        (
            "array",
            "SELECT ARRAY[[1,2],[3,NULL]]::int4[], '[2:3]={x,\"y z\"}'::text[], '{}'::int4[]",
        ),
    ];
    for (kind, sql) in exprs {
        let mut per_format = Vec::new();
        for f in [Format::Binary, Format::Text] {
            let id = c.conn.query(sql, &[], &[], &[], &[f]).unwrap();
            let ev = c.wait(id);
            let Some(Event::RowDescription { columns, .. }) = ev
                .iter()
                .find(|e| matches!(e, Event::RowDescription { .. }))
            else {
                panic!("{ev:?}")
            };
            let Some(Event::Row { row, .. }) = ev.iter().find(|e| matches!(e, Event::Row { .. }))
            else {
                panic!()
            };
            let mut out = Vec::new();
            for (i, field) in columns.iter().enumerate() {
                let raw = row.get(i);
                let s = match kind {
                    "numeric" => format!(
                        "{:?}",
                        types::decode_column::<Numeric>(field.type_oid, f, raw)
                    ),
                    "timestamptz" => format!(
                        "{:?}",
                        types::decode_column::<Timestamp>(field.type_oid, f, raw)
                    ),
                    "interval" => format!(
                        "{:?}",
                        types::decode_column::<Interval>(field.type_oid, f, raw)
                    ),
                    _ if field.type_oid == oid::array_of(oid::INT4).unwrap() => {
                        format!(
                            "{:?}",
                            types::decode_column::<Array<Option<i32>>>(field.type_oid, f, raw)
                        )
                    }
                    _ => format!(
                        "{:?}",
                        types::decode_column::<Array<String>>(field.type_oid, f, raw)
                    ),
                };
                assert!(s.starts_with("Ok("), "{kind} col {i} {f:?}: {s}");
                out.push(s);
            }
            per_format.push(out);
        }
        assert_eq!(per_format[0], per_format[1], "{kind}");
    }
}
