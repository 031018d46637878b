//! bool, `"char"`, integers, floats, oid, text, bytea, uuid, json/jsonb.

use std::fmt;

use bytes::{BufMut, BytesMut};

use super::{FromSql, IsNull, ToSql, TypeError, Typed, fixed, oid, utf8};
use crate::message::{Format, Oid};

// ----- bool --------------------------------------------------------------

impl Typed for bool {
    const OID: Oid = oid::BOOL;
}

impl ToSql for bool {
    fn type_oid(&self) -> Oid {
        oid::BOOL
    }

    fn to_sql(&self, _: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match format {
            Format::Binary => out.put_u8(*self as u8),
            Format::Text => out.put_u8(if *self { b't' } else { b'f' }),
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for bool {
    fn accepts(oid: Oid) -> bool {
        oid == oid::BOOL
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match (format, raw) {
            (Format::Binary, [b]) => Ok(*b != 0),
            (Format::Text, b"t" | b"true" | b"TRUE" | b"y" | b"yes" | b"on" | b"1") => Ok(true),
            (Format::Text, b"f" | b"false" | b"FALSE" | b"n" | b"no" | b"off" | b"0") => Ok(false),
            _ => Err(TypeError::Invalid("bool")),
        }
    }
}

// ----- "char" ----------------------------------------------------------------

/// `"char"` (OID 18), the one-byte type of the system catalogs, as `i8`.
/// Binary is the byte; text is the byte itself, empty for 0, and `\ooo`
/// (three octal digits) for bytes above 127, as PostgreSQL 15+ writes and
/// reads them (`charout`/`charin`).
impl Typed for i8 {
    const OID: Oid = oid::CHAR;
}

impl ToSql for i8 {
    fn type_oid(&self) -> Oid {
        oid::CHAR
    }

    fn to_sql(&self, _: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        let b = *self as u8;
        match format {
            Format::Binary => out.put_u8(b),
            Format::Text if b == 0 => {}
            Format::Text if b < 0x80 => out.put_u8(b),
            Format::Text => {
                out.put_u8(b'\\');
                for shift in [6, 3, 0] {
                    out.put_u8(b'0' + ((b >> shift) & 7));
                }
            }
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for i8 {
    fn accepts(oid: Oid) -> bool {
        oid == oid::CHAR
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        let b = match (format, raw) {
            (Format::Binary, [b]) => *b,
            (Format::Binary, _) => return Err(TypeError::Invalid("\"char\"")),
            (Format::Text, []) => 0,
            (Format::Text, [b'\\', d @ ..])
                if d.len() == 3 && d.iter().all(|c| (b'0'..=b'7').contains(c)) =>
            {
                let v = d.iter().fold(0u16, |v, c| v * 8 + (c - b'0') as u16);
                u8::try_from(v).map_err(|_| TypeError::OutOfRange("\"char\""))?
            }
            (Format::Text, [b]) => *b,
            (Format::Text, _) => return Err(TypeError::Invalid("\"char\"")),
        };
        Ok(b as i8)
    }
}

// ----- integers ------------------------------------------------------------

macro_rules! int_type {
    ($t:ty, $oid:expr, $name:literal, [$($accept:expr),*], [$($write:expr),*]) => {
        impl Typed for $t {
            const OID: Oid = $oid;
        }

        impl ToSql for $t {
            fn type_oid(&self) -> Oid {
                $oid
            }

            fn accepts(&self, oid: Oid) -> bool {
                [$($write),*].contains(&oid)
            }

            fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
                match format {
                    Format::Text => out.put_slice(itoa::Buffer::new().format(*self).as_bytes()),
                    Format::Binary => match oid {
                        oid::INT2 => out.put_i16(i16::try_from(*self).map_err(|_| TypeError::OutOfRange("int2"))?),
                        oid::INT8 => out.put_i64(*self as i64),
                        oid::OID => out.put_u32(u32::try_from(*self).map_err(|_| TypeError::OutOfRange("oid"))?),
                        _ => out.put_i32(i32::try_from(*self).map_err(|_| TypeError::OutOfRange("int4"))?),
                    },
                }
                Ok(IsNull::No)
            }
        }

        impl FromSql<'_> for $t {
            fn accepts(oid: Oid) -> bool {
                [$($accept),*].contains(&oid)
            }

            fn from_sql(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
                let wide: i64 = match format {
                    Format::Text => utf8(raw, $name)?.parse().map_err(|_| TypeError::Invalid($name))?,
                    Format::Binary => match oid {
                        oid::INT2 => i16::from_be_bytes(fixed(raw, "int2")?) as i64,
                        oid::INT4 => i32::from_be_bytes(fixed(raw, "int4")?) as i64,
                        _ => i64::from_be_bytes(fixed(raw, "int8")?),
                    },
                };
                <$t>::try_from(wide).map_err(|_| TypeError::OutOfRange($name))
            }
        }
    };
}

int_type!(
    i16,
    oid::INT2,
    "int2",
    [oid::INT2],
    [oid::INT2, oid::INT4, oid::INT8]
);
int_type!(
    i32,
    oid::INT4,
    "int4",
    [oid::INT2, oid::INT4],
    [oid::INT4, oid::INT8]
);
int_type!(
    i64,
    oid::INT8,
    "int8",
    [oid::INT2, oid::INT4, oid::INT8],
    [oid::INT8]
);

impl Typed for u32 {
    const OID: Oid = oid::OID;
}

impl ToSql for u32 {
    fn type_oid(&self) -> Oid {
        oid::OID
    }

    fn to_sql(&self, _: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match format {
            Format::Text => out.put_slice(itoa::Buffer::new().format(*self).as_bytes()),
            Format::Binary => out.put_u32(*self),
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for u32 {
    fn accepts(oid: Oid) -> bool {
        oid == oid::OID
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match format {
            Format::Text => utf8(raw, "oid")?
                .parse()
                .map_err(|_| TypeError::Invalid("oid")),
            Format::Binary => Ok(u32::from_be_bytes(fixed(raw, "oid")?)),
        }
    }
}

// ----- floats ----------------------------------------------------------------

fn float_text(v: f64, out: &mut BytesMut, single: bool) {
    if v.is_nan() {
        out.put_slice(b"NaN");
    } else if v.is_infinite() {
        out.put_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else if single {
        out.put_slice(ryu::Buffer::new().format_finite(v as f32).as_bytes());
    } else {
        out.put_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    }
}

fn parse_float(raw: &[u8]) -> Result<f64, TypeError> {
    match utf8(raw, "float")? {
        "NaN" => Ok(f64::NAN),
        "Infinity" | "inf" => Ok(f64::INFINITY),
        "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
        s => s.parse().map_err(|_| TypeError::Invalid("float")),
    }
}

impl Typed for f32 {
    const OID: Oid = oid::FLOAT4;
}

impl ToSql for f32 {
    fn type_oid(&self) -> Oid {
        oid::FLOAT4
    }

    fn accepts(&self, oid: Oid) -> bool {
        oid == oid::FLOAT4 || oid == oid::FLOAT8
    }

    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match (format, oid) {
            (Format::Text, _) => float_text(*self as f64, out, true),
            (Format::Binary, oid::FLOAT8) => out.put_f64(*self as f64),
            (Format::Binary, _) => out.put_f32(*self),
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for f32 {
    fn accepts(oid: Oid) -> bool {
        oid == oid::FLOAT4
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match format {
            Format::Binary => Ok(f32::from_be_bytes(fixed(raw, "float4")?)),
            Format::Text => {
                let s = utf8(raw, "float4")?;
                match s {
                    "NaN" | "Infinity" | "-Infinity" => Ok(parse_float(raw)? as f32),
                    _ => s.parse().map_err(|_| TypeError::Invalid("float4")),
                }
            }
        }
    }
}

impl Typed for f64 {
    const OID: Oid = oid::FLOAT8;
}

impl ToSql for f64 {
    fn type_oid(&self) -> Oid {
        oid::FLOAT8
    }

    fn to_sql(&self, _: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match format {
            Format::Text => float_text(*self, out, false),
            Format::Binary => out.put_f64(*self),
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for f64 {
    fn accepts(oid: Oid) -> bool {
        oid == oid::FLOAT4 || oid == oid::FLOAT8
    }

    fn from_sql(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match (format, oid) {
            (Format::Binary, oid::FLOAT4) => Ok(f32::from_be_bytes(fixed(raw, "float4")?) as f64),
            (Format::Binary, _) => Ok(f64::from_be_bytes(fixed(raw, "float8")?)),
            (Format::Text, _) => parse_float(raw),
        }
    }
}

// ----- text ------------------------------------------------------------------

const TEXT_TYPES: [Oid; 5] = [
    oid::TEXT,
    oid::VARCHAR,
    oid::BPCHAR,
    oid::NAME,
    oid::UNKNOWN,
];

impl ToSql for str {
    fn type_oid(&self) -> Oid {
        oid::TEXT
    }

    fn accepts(&self, oid: Oid) -> bool {
        TEXT_TYPES.contains(&oid)
    }

    fn to_sql(&self, _: Oid, _: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        // Text and binary formats of the string types are the same bytes.
        out.put_slice(self.as_bytes());
        Ok(IsNull::No)
    }
}

impl Typed for String {
    const OID: Oid = oid::TEXT;
}

impl ToSql for String {
    fn type_oid(&self) -> Oid {
        oid::TEXT
    }

    fn accepts(&self, oid: Oid) -> bool {
        TEXT_TYPES.contains(&oid)
    }

    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        self.as_str().to_sql(oid, format, out)
    }
}

impl<'a> FromSql<'a> for &'a str {
    fn accepts(oid: Oid) -> bool {
        TEXT_TYPES.contains(&oid)
    }

    fn from_sql(_: Oid, _: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        utf8(raw, "text")
    }
}

impl FromSql<'_> for String {
    fn accepts(oid: Oid) -> bool {
        TEXT_TYPES.contains(&oid)
    }

    fn from_sql(_: Oid, _: Format, raw: &[u8]) -> Result<Self, TypeError> {
        utf8(raw, "text").map(str::to_owned)
    }
}

// ----- bytea -----------------------------------------------------------------

fn bytea_text(v: &[u8], out: &mut BytesMut) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 + 2 * v.len());
    out.put_slice(b"\\x");
    for b in v {
        out.put_u8(HEX[(b >> 4) as usize]);
        out.put_u8(HEX[(b & 15) as usize]);
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes bytea text output: hex (`\x...`, the default) or the older
/// escape format (`\\` and `\ooo` octal).
fn bytea_from_text(raw: &[u8]) -> Result<Vec<u8>, TypeError> {
    let bad = TypeError::Invalid("bytea");
    if let Some(hex) = raw.strip_prefix(b"\\x") {
        let digits: Vec<u8> = hex
            .iter()
            .copied()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        if digits.len() % 2 != 0 {
            return Err(bad);
        }
        return digits
            .chunks_exact(2)
            .map(|p| Some(hex_val(p[0])? << 4 | hex_val(p[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or(bad);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            out.push(raw[i]);
            i += 1;
        } else if raw.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let o = raw.get(i + 1..i + 4).ok_or(bad.clone())?;
            if !o.iter().all(|c| (b'0'..=b'7').contains(c)) || o[0] > b'3' {
                return Err(bad);
            }
            out.push((o[0] - b'0') << 6 | (o[1] - b'0') << 3 | (o[2] - b'0'));
            i += 4;
        }
    }
    Ok(out)
}

impl ToSql for [u8] {
    fn type_oid(&self) -> Oid {
        oid::BYTEA
    }

    fn to_sql(&self, _: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match format {
            Format::Binary => out.put_slice(self),
            Format::Text => bytea_text(self, out),
        }
        Ok(IsNull::No)
    }
}

impl Typed for Vec<u8> {
    const OID: Oid = oid::BYTEA;
}

impl ToSql for Vec<u8> {
    fn type_oid(&self) -> Oid {
        oid::BYTEA
    }

    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        self.as_slice().to_sql(oid, format, out)
    }
}

impl<'a> FromSql<'a> for &'a [u8] {
    fn accepts(oid: Oid) -> bool {
        oid == oid::BYTEA
    }

    /// Binary format only: the text format needs decoding (use `Vec<u8>`).
    fn from_sql(_: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        match format {
            Format::Binary => Ok(raw),
            Format::Text => Err(TypeError::Invalid("bytea borrowed from text format")),
        }
    }
}

impl FromSql<'_> for Vec<u8> {
    fn accepts(oid: Oid) -> bool {
        oid == oid::BYTEA
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match format {
            Format::Binary => Ok(raw.to_vec()),
            Format::Text => bytea_from_text(raw),
        }
    }
}

// ----- uuid ------------------------------------------------------------------

/// A UUID, as its 16 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid(pub [u8; 16]);

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

impl std::str::FromStr for Uuid {
    type Err = TypeError;

    /// Parses 32 hex digits, optionally hyphenated and in braces.
    fn from_str(s: &str) -> Result<Self, TypeError> {
        let s = s
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or(s);
        let digits: Vec<u8> = s.bytes().filter(|c| *c != b'-').collect();
        if digits.len() != 32 || s.len() > 36 {
            return Err(TypeError::Invalid("uuid"));
        }
        let mut out = [0u8; 16];
        for (i, p) in digits.chunks_exact(2).enumerate() {
            out[i] = hex_val(p[0])
                .zip(hex_val(p[1]))
                .map(|(h, l)| h << 4 | l)
                .ok_or(TypeError::Invalid("uuid"))?;
        }
        Ok(Uuid(out))
    }
}

impl Typed for Uuid {
    const OID: Oid = oid::UUID;
}

impl ToSql for Uuid {
    fn type_oid(&self) -> Oid {
        oid::UUID
    }

    fn to_sql(&self, _: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match format {
            Format::Binary => out.put_slice(&self.0),
            Format::Text => out.put_slice(self.to_string().as_bytes()),
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for Uuid {
    fn accepts(oid: Oid) -> bool {
        oid == oid::UUID
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match format {
            Format::Binary => Ok(Uuid(fixed(raw, "uuid")?)),
            Format::Text => utf8(raw, "uuid")?.parse(),
        }
    }
}

// ----- json / jsonb ----------------------------------------------------------

/// A `json` or `jsonb` document as its JSON text (no parsing here). In
/// binary format `jsonb` is the text behind a version byte (1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Json(pub String);

const JSONB_VERSION: u8 = 1;

impl Typed for Json {
    const OID: Oid = oid::JSONB;
}

impl ToSql for Json {
    fn type_oid(&self) -> Oid {
        oid::JSONB
    }

    fn accepts(&self, oid: Oid) -> bool {
        oid == oid::JSON || oid == oid::JSONB
    }

    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if format == Format::Binary && oid == oid::JSONB {
            out.put_u8(JSONB_VERSION);
        }
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for Json {
    fn accepts(oid: Oid) -> bool {
        oid == oid::JSON || oid == oid::JSONB
    }

    fn from_sql(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        let raw = match (format, oid) {
            (Format::Binary, oid::JSONB) => match raw.split_first() {
                Some((&JSONB_VERSION, rest)) => rest,
                _ => return Err(TypeError::Invalid("jsonb version")),
            },
            _ => raw,
        };
        utf8(raw, "json").map(|s| Json(s.to_owned()))
    }
}
