//! date, time, timetz, timestamp, timestamptz, interval.
//!
//! Binary layouts (integer datetimes, the only kind since PostgreSQL 10):
//! `date` Int32 days since 2000-01-01; `time` Int64 microseconds since
//! midnight; `timetz` that plus Int32 zone offset in seconds *west* of
//! UTC; `timestamp`/`timestamptz` Int64 microseconds since 2000-01-01
//! 00:00:00 (UTC for timestamptz); `interval` Int64 microseconds, Int32
//! days, Int32 months. Infinities are the extreme integers. Text follows
//! `DateStyle = ISO` and `IntervalStyle = postgres`. Calendar arithmetic
//! is proleptic Gregorian, as in the server; year 1 BC is year 0.

use std::fmt;

use bytes::{BufMut, BytesMut};

use super::{FromSql, IsNull, ToSql, TypeError, Typed, fixed, oid, utf8};
use crate::message::{Format, Oid};

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;

/// Days from 1970-01-01 to `y-m-d` (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// 2000-01-01 in days since 1970-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A `date`: days since 2000-01-01, with `i32::MIN`/`i32::MAX` as
/// -infinity/+infinity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub i32);

impl Date {
    /// `infinity`.
    pub const INFINITY: Date = Date(i32::MAX);
    /// `-infinity`.
    pub const NEG_INFINITY: Date = Date(i32::MIN);

    /// The date for an astronomical year (1 BC = 0), month and day, if valid.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year as i64, month) {
            return None;
        }
        let d = days_from_civil(year as i64, month, day) - PG_EPOCH_DAYS;
        i32::try_from(d)
            .ok()
            .filter(|d| *d != i32::MIN && *d != i32::MAX)
            .map(Date)
    }

    /// `(year, month, day)`, or `None` for the infinities.
    pub fn to_ymd(self) -> Option<(i32, u32, u32)> {
        if self == Date::INFINITY || self == Date::NEG_INFINITY {
            return None;
        }
        let (y, m, d) = civil_from_days(self.0 as i64 + PG_EPOCH_DAYS);
        Some((y as i32, m, d))
    }
}

fn write_ymd(f: &mut impl fmt::Write, y: i64, m: u32, d: u32) -> fmt::Result {
    let year = if y <= 0 { 1 - y } else { y };
    write!(f, "{year:04}-{m:02}-{d:02}")
}

fn write_hms(f: &mut impl fmt::Write, micros: i64) -> fmt::Result {
    let secs = micros / USECS_PER_SEC;
    let frac = micros % USECS_PER_SEC;
    write!(
        f,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )?;
    if frac != 0 {
        let s = format!("{frac:06}");
        write!(f, ".{}", s.trim_end_matches('0'))?;
    }
    Ok(())
}

fn write_offset(f: &mut impl fmt::Write, east: i32) -> fmt::Result {
    let sign = if east < 0 { '-' } else { '+' };
    let a = east.unsigned_abs();
    write!(f, "{sign}{:02}", a / 3600)?;
    if a % 3600 != 0 {
        write!(f, ":{:02}", a / 60 % 60)?;
        if a % 60 != 0 {
            write!(f, ":{:02}", a % 60)?;
        }
    }
    Ok(())
}

impl fmt::Display for Date {
    /// ISO: `YYYY-MM-DD`, `YYYY-MM-DD BC`, `infinity`, `-infinity`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_ymd() {
            None if *self == Date::INFINITY => f.write_str("infinity"),
            None => f.write_str("-infinity"),
            Some((y, m, d)) => {
                write_ymd(f, y as i64, m, d)?;
                if y <= 0 { f.write_str(" BC") } else { Ok(()) }
            }
        }
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

/// A `time`: microseconds since midnight (0 to 24:00:00 inclusive).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Time(pub i64);

impl Time {
    /// From hours, minutes, seconds and microseconds, if in range.
    pub fn from_hms_micro(h: u32, m: u32, s: u32, us: u32) -> Option<Time> {
        let t = ((h as i64 * 60 + m as i64) * 60 + s as i64) * USECS_PER_SEC + us as i64;
        (m < 60 && s < 60 && us < 1_000_000 && t <= USECS_PER_DAY).then_some(Time(t))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hms(f, self.0)
    }
}

/// A `timetz`: time of day and a UTC offset in seconds east of Greenwich
/// (ISO sign convention; the wire stores the opposite sign).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TimeTz {
    /// Local time of day.
    pub time: Time,
    /// Offset from UTC in seconds, positive east.
    pub offset: i32,
}

impl fmt::Display for TimeTz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hms(f, self.time.0)?;
        write_offset(f, self.offset)
    }
}

/// A `timestamp` or `timestamptz`: microseconds since 2000-01-01 00:00:00
/// (UTC for `timestamptz`), with `i64::MIN`/`i64::MAX` as -/+infinity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// `infinity`.
    pub const INFINITY: Timestamp = Timestamp(i64::MAX);
    /// `-infinity`.
    pub const NEG_INFINITY: Timestamp = Timestamp(i64::MIN);

    /// From a date and a time of day.
    pub fn new(date: Date, time: Time) -> Option<Timestamp> {
        date.to_ymd()?;
        (date.0 as i64)
            .checked_mul(USECS_PER_DAY)?
            .checked_add(time.0)
            .map(Timestamp)
    }

    /// The date and time of day, or `None` for the infinities.
    pub fn split(self) -> Option<(Date, Time)> {
        if self == Timestamp::INFINITY || self == Timestamp::NEG_INFINITY {
            return None;
        }
        let days = self.0.div_euclid(USECS_PER_DAY);
        Some((Date(days as i32), Time(self.0.rem_euclid(USECS_PER_DAY))))
    }

    /// Microseconds since the Unix epoch.
    pub fn to_unix_micros(self) -> i64 {
        self.0.saturating_add(PG_EPOCH_DAYS * USECS_PER_DAY)
    }

    fn write(self, f: &mut impl fmt::Write, tz: bool) -> fmt::Result {
        match self.split() {
            None if self == Timestamp::INFINITY => f.write_str("infinity"),
            None => f.write_str("-infinity"),
            Some((d, t)) => {
                let (y, m, dd) = d.to_ymd().ok_or(fmt::Error)?;
                write_ymd(f, y as i64, m, dd)?;
                f.write_char(' ')?;
                write_hms(f, t.0)?;
                if tz {
                    f.write_str("+00")?;
                }
                if y <= 0 { f.write_str(" BC") } else { Ok(()) }
            }
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

/// An `interval`: months, days and microseconds, kept apart as the server
/// does (a month is not a fixed number of days).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Interval {
    /// Months (years are 12 months).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub micros: i64,
}

impl Interval {
    /// `infinity` (PostgreSQL 17+): every field at its maximum, as the
    /// server stores it.
    pub const INFINITY: Interval = Interval {
        months: i32::MAX,
        days: i32::MAX,
        micros: i64::MAX,
    };
    /// `-infinity` (PostgreSQL 17+): every field at its minimum.
    pub const NEG_INFINITY: Interval = Interval {
        months: i32::MIN,
        days: i32::MIN,
        micros: i64::MIN,
    };
}

impl fmt::Display for Interval {
    /// `IntervalStyle = postgres` output, e.g. `1 year 2 mons -3 days 04:05:06.5`,
    /// or `infinity`/`-infinity`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Interval::INFINITY {
            return f.write_str("infinity");
        }
        if *self == Interval::NEG_INFINITY {
            return f.write_str("-infinity");
        }
        let mut parts = Vec::new();
        let (y, mo) = (self.months / 12, self.months % 12);
        let unit = |n: i32, one: &str, many: &str| {
            format!("{n} {}", if n == 1 || n == -1 { one } else { many })
        };
        if y != 0 {
            parts.push(unit(y, "year", "years"));
        }
        if mo != 0 {
            parts.push(unit(mo, "mon", "mons"));
        }
        if self.days != 0 {
            parts.push(unit(self.days, "day", "days"));
        }
        if self.micros != 0 || parts.is_empty() {
            let mut s = String::new();
            if self.micros < 0 {
                s.push('-');
            }
            write_hms(
                &mut s,
                self.micros.unsigned_abs().min(i64::MAX as u64) as i64,
            )?;
            parts.push(s);
        }
        f.write_str(&parts.join(" "))
    }
}

// ----- text parsing ------------------------------------------------------------

fn num<T: std::str::FromStr>(s: &str, what: &'static str) -> Result<T, TypeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TypeError::Invalid(what));
    }
    s.parse().map_err(|_| TypeError::Invalid(what))
}

fn parse_date(s: &str, bc: bool) -> Result<Date, TypeError> {
    let mut it = s.splitn(3, '-');
    let (y, m, d) = (
        it.next().unwrap_or(""),
        it.next().unwrap_or(""),
        it.next().unwrap_or(""),
    );
    let y: i32 = num(y, "date")?;
    let y = if bc { 1 - y } else { y };
    Date::from_ymd(y, num(m, "date")?, num(d, "date")?).ok_or(TypeError::Invalid("date"))
}

fn parse_hms(s: &str, what: &'static str) -> Result<i64, TypeError> {
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut it = hms.split(':');
    let h: i64 = num(it.next().unwrap_or(""), what)?;
    let m: i64 = num(it.next().unwrap_or(""), what)?;
    let sec: i64 = match it.next() {
        Some(x) => num(x, what)?,
        None => 0,
    };
    if it.next().is_some()
        || m >= 60
        || sec >= 60
        || frac.len() > 6
        || (!frac.is_empty() && num::<u32>(frac, what).is_err())
    {
        return Err(TypeError::Invalid(what));
    }
    let us: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}")
            .parse()
            .map_err(|_| TypeError::Invalid(what))?
    };
    h.checked_mul(3600)
        .and_then(|x| x.checked_add(m * 60 + sec))
        .and_then(|x| x.checked_mul(USECS_PER_SEC))
        .and_then(|x| x.checked_add(us))
        .ok_or(TypeError::OutOfRange(what))
}

/// Splits `HH:MM:SS[.f]` from a trailing `[+-]HH[:MM[:SS]]` offset.
fn split_offset(s: &str) -> Result<(&str, i32), TypeError> {
    let i = s.rfind(['+', '-']).ok_or(TypeError::Invalid("time zone"))?;
    let (t, z) = s.split_at(i);
    let sign = if z.starts_with('-') { -1 } else { 1 };
    let mut it = z[1..].split(':');
    let h: i32 = num(it.next().unwrap_or(""), "time zone")?;
    let m: i32 = it.next().map_or(Ok(0), |x| num(x, "time zone"))?;
    let sec: i32 = it.next().map_or(Ok(0), |x| num(x, "time zone"))?;
    if h > 15 || m >= 60 || sec >= 60 {
        return Err(TypeError::Invalid("time zone"));
    }
    Ok((t, sign * (h * 3600 + m * 60 + sec)))
}

fn parse_timestamp(s: &str, tz: bool) -> Result<Timestamp, TypeError> {
    match s {
        "infinity" => return Ok(Timestamp::INFINITY),
        "-infinity" => return Ok(Timestamp::NEG_INFINITY),
        _ => {}
    }
    let (s, bc) = match s.strip_suffix(" BC") {
        Some(x) => (x, true),
        None => (s, false),
    };
    let (d, t) = s.split_once(' ').ok_or(TypeError::Invalid("timestamp"))?;
    let (t, offset) = if tz { split_offset(t)? } else { (t, 0) };
    let time = parse_hms(t, "timestamp")?;
    if time > USECS_PER_DAY {
        return Err(TypeError::Invalid("timestamp"));
    }
    let ts =
        Timestamp::new(parse_date(d, bc)?, Time(time)).ok_or(TypeError::OutOfRange("timestamp"))?;
    Ok(Timestamp(ts.0 - offset as i64 * USECS_PER_SEC))
}

fn parse_interval(s: &str) -> Result<Interval, TypeError> {
    let bad = TypeError::Invalid("interval");
    match s {
        "infinity" => return Ok(Interval::INFINITY),
        "-infinity" => return Ok(Interval::NEG_INFINITY),
        _ => {}
    }
    let mut iv = Interval::default();
    let mut tokens = s.split_whitespace();
    while let Some(tok) = tokens.next() {
        if tok.contains(':') {
            let (neg, t) = match tok.as_bytes()[0] {
                b'-' => (true, &tok[1..]),
                b'+' => (false, &tok[1..]),
                _ => (false, tok),
            };
            let us = parse_hms(t, "interval")?;
            iv.micros = if neg { -us } else { us };
            continue;
        }
        let n: i64 = tok.parse().map_err(|_| bad.clone())?;
        let n32 = |x: i64| i32::try_from(x).map_err(|_| TypeError::OutOfRange("interval"));
        match tokens.next().ok_or(bad.clone())? {
            "year" | "years" => {
                iv.months = iv
                    .months
                    .checked_add(n32(n.checked_mul(12).ok_or(bad.clone())?)?)
                    .ok_or(bad.clone())?
            }
            "mon" | "mons" => iv.months = iv.months.checked_add(n32(n)?).ok_or(bad.clone())?,
            "day" | "days" => iv.days = n32(n)?,
            _ => return Err(bad),
        }
    }
    Ok(iv)
}

// ----- ToSql / FromSql -----------------------------------------------------------

macro_rules! text_or_binary {
    ($t:ty, $oid:expr, [$($accept:expr),*], $what:literal,
     write_binary($s:ident, $o:ident, $out:ident) $wb:block,
     write_text($s2:ident, $o2:ident, $out2:ident) $wt:block,
     read_binary($ro:ident, $raw:ident) $rb:block,
     read_text($ro2:ident, $txt:ident) $rt:block) => {
        impl Typed for $t {
            const OID: Oid = $oid;
        }

        impl ToSql for $t {
            fn type_oid(&self) -> Oid {
                $oid
            }

            fn accepts(&self, oid: Oid) -> bool {
                [$($accept),*].contains(&oid)
            }

            fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
                match format {
                    Format::Binary => {
                        let ($s, $o, $out) = (self, oid, out);
                        $wb
                    }
                    Format::Text => {
                        let ($s2, $o2, $out2) = (self, oid, out);
                        $wt
                    }
                }
                Ok(IsNull::No)
            }
        }

        impl FromSql<'_> for $t {
            fn accepts(oid: Oid) -> bool {
                [$($accept),*].contains(&oid)
            }

            fn from_sql(oid: Oid, format: Format, raw: &[u8]) -> Result<Self, TypeError> {
                match format {
                    Format::Binary => {
                        let ($ro, $raw) = (oid, raw);
                        $rb
                    }
                    Format::Text => {
                        let ($ro2, $txt) = (oid, utf8(raw, $what)?);
                        $rt
                    }
                }
            }
        }
    };
}

text_or_binary!(Date, oid::DATE, [oid::DATE], "date",
    write_binary(s, _o, out) { out.put_i32(s.0) },
    write_text(s, _o, out) { out.put_slice(s.to_string().as_bytes()) },
    read_binary(_o, raw) { Ok(Date(i32::from_be_bytes(fixed(raw, "date")?))) },
    read_text(_o, t) {
        match t {
            "infinity" => Ok(Date::INFINITY),
            "-infinity" => Ok(Date::NEG_INFINITY),
            _ => match t.strip_suffix(" BC") {
                Some(d) => parse_date(d, true),
                None => parse_date(t, false),
            },
        }
    }
);

text_or_binary!(Time, oid::TIME, [oid::TIME], "time",
    write_binary(s, _o, out) { out.put_i64(s.0) },
    write_text(s, _o, out) { out.put_slice(s.to_string().as_bytes()) },
    read_binary(_o, raw) {
        let t = i64::from_be_bytes(fixed(raw, "time")?);
        if !(0..=USECS_PER_DAY).contains(&t) {
            return Err(TypeError::OutOfRange("time"));
        }
        Ok(Time(t))
    },
    read_text(_o, t) {
        let us = parse_hms(t, "time")?;
        if us > USECS_PER_DAY {
            return Err(TypeError::OutOfRange("time"));
        }
        Ok(Time(us))
    }
);

text_or_binary!(TimeTz, oid::TIMETZ, [oid::TIMETZ], "timetz",
    write_binary(s, _o, out) {
        out.put_i64(s.time.0);
        out.put_i32(-s.offset);
    },
    write_text(s, _o, out) { out.put_slice(s.to_string().as_bytes()) },
    read_binary(_o, raw) {
        if raw.len() != 12 {
            return Err(TypeError::Invalid("timetz"));
        }
        let t = i64::from_be_bytes(fixed(&raw[..8], "timetz")?);
        let west = i32::from_be_bytes(fixed(&raw[8..], "timetz")?);
        if !(0..=USECS_PER_DAY).contains(&t) || west == i32::MIN {
            return Err(TypeError::OutOfRange("timetz"));
        }
        Ok(TimeTz { time: Time(t), offset: -west })
    },
    read_text(_o, t) {
        let (time, offset) = split_offset(t)?;
        let us = parse_hms(time, "timetz")?;
        if us > USECS_PER_DAY {
            return Err(TypeError::OutOfRange("timetz"));
        }
        Ok(TimeTz { time: Time(us), offset })
    }
);

text_or_binary!(Timestamp, oid::TIMESTAMPTZ, [oid::TIMESTAMP, oid::TIMESTAMPTZ], "timestamp",
    write_binary(s, _o, out) { out.put_i64(s.0) },
    write_text(s, o, out) {
        let mut txt = String::new();
        s.write(&mut txt, o == oid::TIMESTAMPTZ).map_err(|_| TypeError::OutOfRange("timestamp"))?;
        out.put_slice(txt.as_bytes());
    },
    read_binary(_o, raw) { Ok(Timestamp(i64::from_be_bytes(fixed(raw, "timestamp")?))) },
    read_text(o, t) { parse_timestamp(t, o == oid::TIMESTAMPTZ) }
);

text_or_binary!(Interval, oid::INTERVAL, [oid::INTERVAL], "interval",
    write_binary(s, _o, out) {
        out.put_i64(s.micros);
        out.put_i32(s.days);
        out.put_i32(s.months);
    },
    write_text(s, _o, out) {
        // The server's own output form, which its input accepts.
        out.put_slice(s.to_string().as_bytes());
    },
    read_binary(_o, raw) {
        if raw.len() != 16 {
            return Err(TypeError::Invalid("interval"));
        }
        Ok(Interval {
            micros: i64::from_be_bytes(fixed(&raw[..8], "interval")?),
            days: i32::from_be_bytes(fixed(&raw[8..12], "interval")?),
            months: i32::from_be_bytes(fixed(&raw[12..], "interval")?),
        })
    },
    read_text(_o, t) { parse_interval(t) }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(Date::from_ymd(2000, 1, 1), Some(Date(0)));
        assert_eq!(Date::from_ymd(1999, 12, 31), Some(Date(-1)));
        assert_eq!(
            Date::from_ymd(2024, 2, 29).unwrap().to_ymd(),
            Some((2024, 2, 29))
        );
        assert_eq!(Date::from_ymd(2023, 2, 29), None);
        assert_eq!(
            Date::from_ymd(-43, 3, 15).unwrap().to_string(),
            "0044-03-15 BC"
        );
        for d in [-800_000, -1, 0, 1, 59, 60, 365, 3_000_000] {
            let (y, m, dd) = Date(d).to_ymd().unwrap();
            assert_eq!(Date::from_ymd(y, m, dd), Some(Date(d)));
        }
    }

    #[test]
    fn text_forms() {
        let ts = parse_timestamp("2024-02-29 13:45:06.5", false).unwrap();
        assert_eq!(ts.to_string(), "2024-02-29 13:45:06.5");
        let tz = parse_timestamp("2024-02-29 15:45:06.5+02", true).unwrap();
        assert_eq!(tz, ts);
        let tz = parse_timestamp("2024-02-29 08:15:06.5-05:30", true).unwrap();
        assert_eq!(tz, ts);
        assert_eq!(
            parse_timestamp("0044-03-15 12:00:00 BC", false)
                .unwrap()
                .to_string(),
            "0044-03-15 12:00:00 BC"
        );
        assert_eq!(Timestamp(0).to_unix_micros(), 946_684_800_000_000);
        let iv = parse_interval("1 year 2 mons -3 days -04:05:06.789").unwrap();
        assert_eq!(
            iv,
            Interval {
                months: 14,
                days: -3,
                micros: -14_706_789_000
            }
        );
        assert_eq!(iv.to_string(), "1 year 2 mons -3 days -04:05:06.789");
        assert_eq!(Interval::default().to_string(), "00:00:00");
        assert_eq!(parse_interval("00:00:00").unwrap(), Interval::default());
        assert_eq!(
            parse_interval("1000:00:01").unwrap().micros,
            3_600_001_000_000
        );
        let t = TimeTz {
            time: Time::from_hms_micro(1, 2, 3, 0).unwrap(),
            offset: -(5 * 3600 + 30 * 60),
        };
        assert_eq!(t.to_string(), "01:02:03-05:30");
        for bad in [
            "",
            "2024-13-01 00:00:00",
            "2024-01-01",
            "2024-01-01 25:61:00",
            "x y",
        ] {
            assert!(parse_timestamp(bad, false).is_err(), "{bad}");
        }
        for bad in ["1 fortnight", "x days", "1:2:3:4", "1"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
