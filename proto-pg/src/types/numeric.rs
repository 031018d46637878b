//! `numeric`: exact decimal, arbitrary precision.
//!
//! The binary format (`numeric_send`): Int16 ndigits, Int16 weight, Int16
//! sign (0x0000 +, 0x4000 -, 0xC000 NaN, 0xD000 +Infinity, 0xF000
//! -Infinity), Int16 dscale, then ndigits base-10000 digits; the value is
//! `sum(digit[i] * 10000^(weight - i))` shown with dscale fraction digits.
//! ndigits is unsigned in practice: the largest values (131,072 digits
//! before the point, 16,383 after) need up to 36,864 digits, and
//! `numeric_recv` reads the count as a uint16.

use std::fmt;
use std::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::{FromSql, IsNull, ToSql, TypeError, Typed, oid, utf8};
use crate::message::{Format, Oid};

const POS: u16 = 0x0000;
const NEG: u16 = 0x4000;
const NAN: u16 = 0xC000;
const PINF: u16 = 0xD000;
const NINF: u16 = 0xF000;
/// `NUMERIC_DSCALE_MAX`.
const MAX_DSCALE: usize = 0x3FFF;

/// An exact `numeric` value: a decimal with its display scale, or NaN or
/// an infinity. Parse with [`str::parse`], print with `Display`; the text
/// is exactly what PostgreSQL prints (`1.50` keeps its scale).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Numeric(Kind);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Kind {
    NaN,
    PosInf,
    NegInf,
    Finite {
        negative: bool,
        /// Integer digits, ASCII, no leading zeros (empty for zero).
        int: String,
        /// Fraction digits, ASCII, exactly `scale` of them.
        frac: String,
    },
}

impl Numeric {
    /// NaN.
    pub const NAN: Numeric = Numeric(Kind::NaN);
    /// +Infinity.
    pub const INFINITY: Numeric = Numeric(Kind::PosInf);
    /// -Infinity.
    pub const NEG_INFINITY: Numeric = Numeric(Kind::NegInf);

    /// True for NaN.
    pub fn is_nan(&self) -> bool {
        self.0 == Kind::NaN
    }

    /// True for either infinity.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0, Kind::PosInf | Kind::NegInf)
    }

    /// Digits after the decimal point (0 for the special values).
    pub fn scale(&self) -> usize {
        match &self.0 {
            Kind::Finite { frac, .. } => frac.len(),
            _ => 0,
        }
    }

    fn finite(negative: bool, int: &str, frac: &str) -> Numeric {
        let int = int.trim_start_matches('0').to_owned();
        let zero = int.is_empty() && frac.bytes().all(|b| b == b'0');
        Numeric(Kind::Finite {
            negative: negative && !zero,
            int,
            frac: frac.to_owned(),
        })
    }

    /// The binary (`numeric_send`) encoding.
    fn write_binary(&self, out: &mut BytesMut) -> Result<(), TypeError> {
        let (negative, int, frac) = match &self.0 {
            Kind::NaN | Kind::PosInf | Kind::NegInf => {
                let sign = match self.0 {
                    Kind::NaN => NAN,
                    Kind::PosInf => PINF,
                    _ => NINF,
                };
                out.put_i16(0);
                out.put_i16(0);
                out.put_u16(sign);
                out.put_u16(0);
                return Ok(());
            }
            Kind::Finite {
                negative,
                int,
                frac,
            } => (*negative, int, frac),
        };
        if frac.len() > MAX_DSCALE {
            return Err(TypeError::OutOfRange("numeric scale"));
        }
        let group = |s: &[u8]| s.iter().fold(0i16, |a, d| a * 10 + (d - b'0') as i16);
        let mut digits: Vec<i16> = Vec::with_capacity(int.len() / 4 + frac.len() / 4 + 2);
        let lead = int.len() % 4;
        if lead > 0 {
            digits.push(group(&int.as_bytes()[..lead]));
        }
        digits.extend(int.as_bytes()[lead..].chunks(4).map(group));
        let mut weight = digits.len() as i64 - 1;
        for c in frac.as_bytes().chunks(4) {
            let mut g = group(c);
            for _ in c.len()..4 {
                g *= 10;
            }
            digits.push(g);
        }
        let first = digits.iter().position(|d| *d != 0).unwrap_or(digits.len());
        weight -= first as i64;
        let last = digits
            .iter()
            .rposition(|d| *d != 0)
            .map_or(first, |p| p + 1);
        let digits = &digits[first..last];
        if digits.is_empty() {
            weight = 0;
        }
        let ndigits = u16::try_from(digits.len()).map_err(|_| TypeError::OutOfRange("numeric"))?;
        let weight = i16::try_from(weight).map_err(|_| TypeError::OutOfRange("numeric"))?;
        out.reserve(8 + 2 * digits.len());
        out.put_u16(ndigits);
        out.put_i16(weight);
        out.put_u16(if negative { NEG } else { POS });
        out.put_u16(frac.len() as u16);
        for d in digits {
            out.put_i16(*d);
        }
        Ok(())
    }

    fn read_binary(raw: &[u8]) -> Result<Numeric, TypeError> {
        let bad = TypeError::Invalid("numeric");
        if raw.len() < 8 {
            return Err(bad);
        }
        let word = |i: usize| u16::from_be_bytes([raw[2 * i], raw[2 * i + 1]]);
        let ndigits = word(0) as usize;
        let weight = word(1) as i16 as i64;
        let sign = word(2);
        let dscale = word(3) as usize;
        if raw.len() != 8 + 2 * ndigits || dscale > MAX_DSCALE {
            return Err(bad);
        }
        let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect();
        if digits.iter().any(|d| *d > 9999) {
            return Err(bad);
        }
        let negative = match sign {
            POS => false,
            NEG => true,
            NAN => return Ok(Numeric::NAN),
            PINF => return Ok(Numeric::INFINITY),
            NINF => return Ok(Numeric::NEG_INFINITY),
            _ => return Err(bad),
        };
        // Digit at base-10000 position `p` (weight of the first digit is
        // `weight`, so index = weight - p).
        let at = |p: i64| -> u16 {
            let i = weight - p;
            if i >= 0 && (i as usize) < digits.len() {
                digits[i as usize]
            } else {
                0
            }
        };
        let mut int = String::new();
        for p in (0..=weight).rev() {
            let d = at(p);
            if int.is_empty() {
                if d != 0 {
                    int.push_str(itoa::Buffer::new().format(d));
                }
            } else {
                int.push_str(&format!("{d:04}"));
            }
        }
        let mut frac = String::with_capacity(dscale + 4);
        let mut p = -1i64;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", at(p)));
            p -= 1;
        }
        frac.truncate(dscale);
        Ok(Numeric::finite(negative, &int, &frac))
    }
}

impl FromStr for Numeric {
    type Err = TypeError;

    /// Parses `[+-]digits[.digits][e[+-]exp]`, `NaN`, `Infinity`,
    /// `-Infinity` (case-insensitive, like the server's input function).
    fn from_str(s: &str) -> Result<Numeric, TypeError> {
        let bad = TypeError::Invalid("numeric");
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "nan" => return Ok(Numeric::NAN),
            "infinity" | "+infinity" | "inf" | "+inf" => return Ok(Numeric::INFINITY),
            "-infinity" | "-inf" => return Ok(Numeric::NEG_INFINITY),
            _ => {}
        }
        let (negative, rest) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (
                &rest[..i],
                rest[i + 1..].parse::<i64>().map_err(|_| bad.clone())?,
            ),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad);
        }
        if exp == 0 {
            return Ok(Numeric::finite(negative, int, frac));
        }
        if exp.unsigned_abs() > 100_000 {
            return Err(TypeError::OutOfRange("numeric exponent"));
        }
        let digits = format!("{int}{frac}");
        let point = int.len() as i64 + exp;
        let (i, f) = if point <= 0 {
            (
                String::new(),
                format!("{}{}", "0".repeat((-point) as usize), digits),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_owned(),
                digits[point as usize..].to_owned(),
            )
        };
        Ok(Numeric::finite(negative, &i, &f))
    }
}

impl fmt::Display for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::NaN => f.write_str("NaN"),
            Kind::PosInf => f.write_str("Infinity"),
            Kind::NegInf => f.write_str("-Infinity"),
            Kind::Finite {
                negative,
                int,
                frac,
            } => {
                if *negative {
                    f.write_str("-")?;
                }
                f.write_str(if int.is_empty() { "0" } else { int })?;
                if !frac.is_empty() {
                    write!(f, ".{frac}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for Numeric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Numeric({self})")
    }
}

impl From<i64> for Numeric {
    fn from(v: i64) -> Numeric {
        Numeric::finite(v < 0, &v.unsigned_abs().to_string(), "")
    }
}

impl Typed for Numeric {
    const OID: Oid = oid::NUMERIC;
}

impl ToSql for Numeric {
    fn type_oid(&self) -> Oid {
        oid::NUMERIC
    }

    fn to_sql(&self, _: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        match format {
            Format::Binary => self.write_binary(out)?,
            Format::Text => out.put_slice(self.to_string().as_bytes()),
        }
        Ok(IsNull::No)
    }
}

impl FromSql<'_> for Numeric {
    fn accepts(oid: Oid) -> bool {
        oid == oid::NUMERIC
    }

    fn from_sql(_: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
        match format {
            Format::Binary => Numeric::read_binary(raw),
            Format::Text => utf8(raw, "numeric")?.parse(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(n: &Numeric) -> Vec<u8> {
        let mut b = BytesMut::new();
        n.write_binary(&mut b).unwrap();
        b.to_vec()
    }

    #[test]
    fn binary_layout() {
        // 12345.678: digits [1, 2345, 6780], weight 1, dscale 3.
        let n: Numeric = "12345.678".parse().unwrap();
        assert_eq!(
            bin(&n),
            [0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c]
        );
        assert_eq!(
            Numeric::read_binary(&bin(&n)).unwrap().to_string(),
            "12345.678"
        );
        // -0.00012 = -(1 * 10000^-1 + 2000 * 10000^-2), dscale 5.
        let n: Numeric = "-0.00012".parse().unwrap();
        assert_eq!(bin(&n), [0, 2, 0xff, 0xff, 0x40, 0, 0, 5, 0, 1, 0x07, 0xd0]);
        assert_eq!(
            Numeric::read_binary(&bin(&n)).unwrap().to_string(),
            "-0.00012"
        );
        // Zero with scale.
        let n: Numeric = "0.000".parse().unwrap();
        assert_eq!(bin(&n), [0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(Numeric::read_binary(&bin(&n)).unwrap().to_string(), "0.000");
        assert_eq!(bin(&Numeric::NAN), [0, 0, 0, 0, 0xc0, 0, 0, 0]);
        assert_eq!(
            Numeric::read_binary(&[0, 0, 0, 0, 0xf0, 0, 0, 0]).unwrap(),
            Numeric::NEG_INFINITY
        );
        // 10000 = one digit 1 at weight 1.
        assert_eq!(
            bin(&"10000".parse().unwrap()),
            [0, 1, 0, 1, 0, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn text_forms() {
        for (i, o) in [
            ("1.5e3", "1500"),
            ("1.50e1", "15.0"),
            ("-2e-3", "-0.002"),
            ("+007.10", "7.10"),
            ("-0", "0"),
            (".5", "0.5"),
            ("inf", "Infinity"),
            ("NAN", "NaN"),
        ] {
            assert_eq!(i.parse::<Numeric>().unwrap().to_string(), o, "{i}");
        }
        for bad in ["", ".", "1..2", "1e", "abc", "--1", "1e1000000"] {
            assert!(bad.parse::<Numeric>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_largest_values_fit() {
        // 131,072 integer digits: 32,768 base-10000 digits, past Int16.
        let big: Numeric = format!("{}.{}", "9".repeat(131_072), "1".repeat(16_383))
            .parse()
            .unwrap();
        let b = bin(&big);
        assert_eq!(
            &b[..4],
            &[0x90, 0x00, 0x7f, 0xff],
            "ndigits 36864, weight 32767"
        );
        assert_eq!(Numeric::read_binary(&b).unwrap(), big);
        let too_big: Numeric = format!("1{}", "0".repeat(131_072)).parse().unwrap();
        let mut out = BytesMut::new();
        assert!(
            too_big
                .to_sql(oid::NUMERIC, Format::Binary, &mut out)
                .is_err()
        );
    }

    #[test]
    fn malformed_binary() {
        for bad in [
            &[0u8, 1, 0, 0, 0, 0, 0, 0][..],
            &[0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10],
            &[0, 0, 0, 0, 0x12, 0x34, 0, 0],
            &[0xff, 0xff, 0, 0, 0, 0, 0, 0],
            &[0, 0, 0, 0, 0, 0, 0x40, 0],
            &[0, 0],
        ] {
            assert!(Numeric::read_binary(bad).is_err(), "{bad:?}");
        }
    }
}
