//! Encode/decode identity for every type, both formats.

use proptest::prelude::*;

use super::*;

fn round_trip<T>(v: &T, oid: Oid, format: Format) -> T
where
    T: ToSql + for<'a> FromSql<'a>,
{
    let raw = encode(v, oid, format).unwrap();
    decode_column(oid, format, raw.as_deref()).unwrap()
}

fn both<T>(v: T, oid: Oid)
where
    T: ToSql + for<'a> FromSql<'a> + PartialEq + std::fmt::Debug,
{
    for f in [Format::Binary, Format::Text] {
        assert_eq!(round_trip(&v, oid, f), v, "{f:?}");
    }
}

#[test]
fn edge_values() {
    both(i16::MIN, oid::INT2);
    both(i32::MAX, oid::INT4);
    both(i64::MIN, oid::INT8);
    both(u32::MAX, oid::OID);
    both(true, oid::BOOL);
    both(f64::INFINITY, oid::FLOAT8);
    both(f32::NEG_INFINITY, oid::FLOAT4);
    both(f64::MIN_POSITIVE, oid::FLOAT8);
    for f in [Format::Binary, Format::Text] {
        assert!(round_trip(&f64::NAN, oid::FLOAT8, f).is_nan());
    }
    both(String::new(), oid::TEXT);
    both("ünïcødé \"q\" \\ {x}".to_owned(), oid::VARCHAR);
    both(vec![0u8, 255, 10, 92], oid::BYTEA);
    both(Uuid([0xab; 16]), oid::UUID);
    both(Json(r#"{"a": [1, null]}"#.into()), oid::JSONB);
    both(Json("[]".into()), oid::JSON);
    both(Date::INFINITY, oid::DATE);
    both(Date::NEG_INFINITY, oid::DATE);
    both(Timestamp::INFINITY, oid::TIMESTAMPTZ);
    both(Timestamp::NEG_INFINITY, oid::TIMESTAMP);
    both(Interval::INFINITY, oid::INTERVAL);
    both(Interval::NEG_INFINITY, oid::INTERVAL);
    for (iv, text) in [
        (Interval::INFINITY, "infinity"),
        (Interval::NEG_INFINITY, "-infinity"),
    ] {
        assert_eq!(
            &encode(&iv, oid::INTERVAL, Format::Text).unwrap().unwrap()[..],
            text.as_bytes()
        );
    }
    for c in [0i8, b'a' as i8, b'\\' as i8, -1, i8::MIN] {
        both(c, oid::CHAR);
    }
    assert_eq!(
        &encode(&-1i8, oid::CHAR, Format::Text).unwrap().unwrap()[..],
        b"\\377"
    );
    assert!(decode_column::<i8>(oid::CHAR, Format::Text, Some(b"\\400")).is_err());
    assert!(decode_column::<i8>(oid::CHAR, Format::Text, Some(b"ab")).is_err());
    both(Numeric::NAN, oid::NUMERIC);
    both(Numeric::NEG_INFINITY, oid::NUMERIC);
    both(Some(5i32), oid::INT4);
    both(None::<i32>, oid::INT4);
    both("::1".parse::<Inet>().unwrap(), oid::INET);
    both("10.0.0.0/8".parse::<Inet>().unwrap(), oid::CIDR);
}

#[test]
fn wire_details() {
    assert_eq!(
        &encode(&Json("{}".into()), oid::JSONB, Format::Binary)
            .unwrap()
            .unwrap()[..],
        b"\x01{}"
    );
    assert_eq!(
        &encode(&vec![1u8, 0xab], oid::BYTEA, Format::Text)
            .unwrap()
            .unwrap()[..],
        b"\\x01ab"
    );
    assert_eq!(
        decode_column::<Vec<u8>>(oid::BYTEA, Format::Text, Some(b"a\\\\b\\001")).unwrap(),
        b"a\\b\x01"
    );
    assert!(decode_column::<Vec<u8>>(oid::BYTEA, Format::Text, Some(b"\\x0")).is_err());
    assert!(decode_column::<Vec<u8>>(oid::BYTEA, Format::Text, Some(b"\\9")).is_err());
    assert_eq!(
        encode(&Uuid([0x12; 16]), oid::UUID, Format::Text)
            .unwrap()
            .unwrap(),
        &b"12121212-1212-1212-1212-121212121212"[..]
    );
    assert!(decode_column::<i32>(oid::INT4, Format::Binary, Some(&[0, 0, 1])).is_err());
    assert_eq!(
        decode_column::<i32>(oid::INT4, Format::Binary, None),
        Err(TypeError::UnexpectedNull)
    );
    assert!(matches!(
        decode_column::<i32>(oid::TEXT, Format::Text, Some(b"1")),
        Err(TypeError::WrongType { .. })
    ));
    assert!(matches!(
        encode(&1i64, oid::INT4, Format::Binary),
        Err(TypeError::WrongType { .. })
    ));
    assert_eq!(
        decode_column::<i64>(oid::INT2, Format::Binary, Some(&[0xff, 0xfe])),
        Ok(-2)
    );
    assert!(decode_column::<Json>(oid::JSONB, Format::Binary, Some(b"\x02{}")).is_err());
    let inet = "192.168.1.5/24".parse::<Inet>().unwrap();
    assert_eq!(
        &encode(&inet, oid::INET, Format::Binary).unwrap().unwrap()[..],
        &[2, 24, 0, 4, 192, 168, 1, 5]
    );
    assert_eq!(
        &encode(
            &Inet::host("10.1.2.3".parse().unwrap()),
            oid::CIDR,
            Format::Text
        )
        .unwrap()
        .unwrap()[..],
        b"10.1.2.3/32"
    );
}

#[test]
fn array_text_format() {
    let a = Array::from_vec(vec![
        Some("a b".to_owned()),
        None,
        Some("NULL".into()),
        Some("".into()),
        Some("x\"\\y".into()),
        Some("plain".into()),
    ]);
    let t = encode(&a, 1009, Format::Text).unwrap().unwrap();
    assert_eq!(&t[..], br#"{"a b",NULL,"NULL","","x\"\\y",plain}"#);
    assert_eq!(
        decode_column::<Array<Option<String>>>(1009, Format::Text, Some(&t)).unwrap(),
        a
    );
    let m = Array::from_parts(
        vec![
            Dimension {
                len: 2,
                lower_bound: 0,
            },
            Dimension {
                len: 2,
                lower_bound: 1,
            },
        ],
        vec![1i32, 2, 3, 4],
    )
    .unwrap();
    let t = encode(&m, 1007, Format::Text).unwrap().unwrap();
    assert_eq!(&t[..], b"[0:1][1:2]={{1,2},{3,4}}");
    assert_eq!(
        decode_column::<Array<i32>>(1007, Format::Text, Some(&t)).unwrap(),
        m
    );
    let e: Array<i32> = decode_column(1007, Format::Text, Some(b"{}")).unwrap();
    assert!(e.dimensions().is_empty());
    for bad in [
        &b"{1,2"[..],
        b"{{1},2}",
        b"{{1,2},{3}}",
        b"1,2",
        b"{1}x",
        b"[1:3]={1}",
        b"{\"a}",
        b"{{{{{{{1}}}}}}}",
    ] {
        assert!(
            decode_column::<Array<i32>>(1007, Format::Text, Some(bad)).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        decode_column::<Array<Option<i32>>>(1007, Format::Text, Some(b" { 1 , null } "))
            .unwrap()
            .elements(),
        [Some(1), None]
    );
}

#[test]
fn array_binary_hostile() {
    // ndim 7.
    let mut b = BytesMut::new();
    b.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 23]);
    assert!(decode_column::<Array<i32>>(1007, Format::Binary, Some(&b)).is_err());
    // A huge announced size with a short body is refused before allocating.
    let mut b = BytesMut::new();
    b.extend_from_slice(&[
        0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1,
    ]);
    assert_eq!(
        decode_column::<Array<i32>>(1007, Format::Binary, Some(&b)),
        Err(TypeError::Limit("array size"))
    );
    // Wrong element type.
    let a = encode(&Array::from_vec(vec![1i64]), 1016, Format::Binary)
        .unwrap()
        .unwrap();
    assert!(decode_column::<Array<i32>>(1007, Format::Binary, Some(&a)).is_err());
    // NULL into a non-Option element.
    let a = encode(&Array::from_vec(vec![None::<i32>]), 1007, Format::Binary)
        .unwrap()
        .unwrap();
    assert_eq!(&a[4..8], &[0, 0, 0, 1], "has-null flag");
    assert_eq!(
        decode_column::<Array<i32>>(1007, Format::Binary, Some(&a)),
        Err(TypeError::UnexpectedNull)
    );
}

fn numeric_strategy() -> impl Strategy<Value = Numeric> {
    prop_oneof![
        Just(Numeric::NAN),
        Just(Numeric::INFINITY),
        Just(Numeric::NEG_INFINITY),
        ("-?[0-9]{1,40}", proptest::option::of("[0-9]{0,30}")).prop_map(|(i, f)| {
            let s = match f {
                Some(f) => format!("{i}.{f}"),
                None => i,
            };
            s.parse().unwrap()
        }),
    ]
}

fn dim_strategy() -> impl Strategy<Value = Array<Option<i64>>> {
    (1usize..4, 0usize..4, -3i32..3).prop_flat_map(|(rows, cols, lb)| {
        proptest::collection::vec(proptest::option::of(any::<i64>()), rows * cols).prop_map(
            move |els| {
                if cols == 0 {
                    Array::from_vec(Vec::new())
                } else {
                    Array::from_parts(
                        vec![
                            Dimension {
                                len: rows as i32,
                                lower_bound: lb,
                            },
                            Dimension {
                                len: cols as i32,
                                lower_bound: 1,
                            },
                        ],
                        els,
                    )
                    .unwrap()
                }
            },
        )
    })
}

proptest! {
    #[test]
    fn ints(a: i16, b: i32, c: i64, o: u32) {
        both(a, oid::INT2);
        both(b, oid::INT4);
        both(c, oid::INT8);
        both(o, oid::OID);
    }

    #[test]
    fn floats(a: f32, b: f64) {
        prop_assume!(!a.is_nan() && !b.is_nan());
        both(a, oid::FLOAT4);
        both(b, oid::FLOAT8);
    }

    #[test]
    fn strings_and_bytes(s: String, b: Vec<u8>) {
        prop_assume!(!s.contains('\0'));
        both(s.clone(), oid::TEXT);
        both(b, oid::BYTEA);
        let arr = Array::from_vec(vec![Some(s), None]);
        both(arr, 1009);
    }

    #[test]
    fn numerics(n in numeric_strategy()) {
        both(n, oid::NUMERIC);
    }

    #[test]
    fn datetimes(d in -100_000_000i32..100_000_000, us in 0i64..=86_400_000_000, off in -50_000i32..50_000,
                 months: i32, days: i32, micros in -10_000_000_000_000i64..10_000_000_000_000) {
        both(Date(d), oid::DATE);
        both(Time(us), oid::TIME);
        both(TimeTz { time: Time(us), offset: off }, oid::TIMETZ);
        let ts = Timestamp(d as i64 / 4 * 86_400_000_000 + us.min(86_399_999_999));
        both(ts, oid::TIMESTAMP);
        both(ts, oid::TIMESTAMPTZ);
        both(Interval { months, days, micros }, oid::INTERVAL);
    }

    #[test]
    fn misc(u: [u8; 16], v4: [u8; 4], v6: [u8; 16], m4 in 0u8..=32, m6 in 0u8..=128, flag: bool) {
        both(Uuid(u), oid::UUID);
        both(Inet { addr: std::net::IpAddr::from(v4), netmask: m4 }, oid::INET);
        both(Inet { addr: std::net::IpAddr::from(v6), netmask: m6 }, oid::CIDR);
        both(Array::from_vec(vec![flag, !flag]), 1000);
    }

    #[test]
    fn arrays(a in dim_strategy()) {
        both(a, 1016);
    }
}

/// Decodes `raw` as every supported type in both formats; only checks
/// that nothing panics and that errors are typed.
fn decode_everything(raw: &[u8]) {
    macro_rules! try_all {
        ($($t:ty => [$($oid:expr),*]),* $(,)?) => {
            $($(for f in [Format::Binary, Format::Text] {
                let _ = decode_column::<$t>($oid, f, Some(raw));
            })*)*
        };
    }
    try_all!(
        bool => [oid::BOOL],
        i8 => [oid::CHAR],
        i16 => [oid::INT2],
        i32 => [oid::INT4],
        i64 => [oid::INT8],
        u32 => [oid::OID],
        f32 => [oid::FLOAT4],
        f64 => [oid::FLOAT8],
        String => [oid::TEXT],
        Vec<u8> => [oid::BYTEA],
        Uuid => [oid::UUID],
        Json => [oid::JSON, oid::JSONB],
        Numeric => [oid::NUMERIC],
        Date => [oid::DATE],
        Time => [oid::TIME],
        TimeTz => [oid::TIMETZ],
        Timestamp => [oid::TIMESTAMP, oid::TIMESTAMPTZ],
        Interval => [oid::INTERVAL],
        Inet => [oid::INET, oid::CIDR],
        Array<Option<i32>> => [1007],
        Array<Option<String>> => [1009],
        Array<Option<Numeric>> => [1231],
    );
}

proptest! {
    #[test]
    fn hostile_values_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
        decode_everything(&raw);
        for mode in [0u8, 1] {
            let mut data = vec![mode];
            data.extend_from_slice(&raw);
            crate::fuzzing::type_values(&data);
        }
    }

    #[test]
    fn hostile_text_never_panics(s in "[{}\"\\\\,0-9a-zA-Z :.+\\-\\[\\]=]{0,40}") {
        decode_everything(s.as_bytes());
        let mut data = vec![1u8];
        data.extend_from_slice(s.as_bytes());
        crate::fuzzing::type_values(&data);
    }
}
