//! The `Date` header value (RFC 9110 §5.6.7 IMF-fixdate), formatted from a
//! time the caller supplies: the crate never reads the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const IMF_FIXDATE_LEN: usize = 29;

/// A cached IMF-fixdate, re-formatted only when the second changes.
///
/// ```
/// use proto_http::h1::HttpDate;
/// let mut d = HttpDate::default();
/// d.update_unix(784111777);
/// assert_eq!(d.as_bytes(), b"Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpDate {
    secs: u64,
    buf: [u8; IMF_FIXDATE_LEN],
}

impl Default for HttpDate {
    fn default() -> Self {
        let mut d = HttpDate {
            secs: 0,
            buf: [0; IMF_FIXDATE_LEN],
        };
        d.format(0);
        d
    }
}

impl HttpDate {
    /// The date for `secs` seconds since the Unix epoch.
    #[must_use]
    pub fn from_unix(secs: u64) -> HttpDate {
        let mut d = HttpDate::default();
        d.update_unix(secs);
        d
    }

    /// Sets the time; formats only if the second differs from the cached
    /// one. Returns whether the value changed.
    pub fn update_unix(&mut self, secs: u64) -> bool {
        if secs == self.secs && self.buf[0] != 0 {
            return false;
        }
        self.format(secs);
        true
    }

    /// Sets the time from a `SystemTime` (times before 1970 clamp to 1970).
    pub fn update(&mut self, now: SystemTime) -> bool {
        let secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.update_unix(secs)
    }

    /// The seconds since the epoch this value was formatted from.
    #[must_use]
    pub fn unix_secs(&self) -> u64 {
        self.secs
    }

    /// The 29 ASCII bytes of the IMF-fixdate.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; IMF_FIXDATE_LEN] {
        &self.buf
    }

    fn format(&mut self, secs: u64) {
        // Years past 9999 do not fit the 4-digit format; clamp.
        let secs = secs.min(253_402_300_799);
        self.secs = secs;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
        // 1970-01-01 was a Thursday.
        let wday = ((days + 4) % 7) as usize;
        let (y, mo, d) = civil_from_days(days);
        const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
        const MONTHS: [&[u8; 3]; 12] = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        let b = &mut self.buf;
        b[..3].copy_from_slice(DAYS[wday]);
        b[3..5].copy_from_slice(b", ");
        two(&mut b[5..7], d);
        b[7] = b' ';
        b[8..11].copy_from_slice(MONTHS[(mo - 1) as usize]);
        b[11] = b' ';
        two(&mut b[12..14], y / 100);
        two(&mut b[14..16], y % 100);
        b[16] = b' ';
        two(&mut b[17..19], h);
        b[19] = b':';
        two(&mut b[20..22], m);
        b[22] = b':';
        two(&mut b[23..25], s);
        b[25..29].copy_from_slice(b" GMT");
    }
}

fn two(out: &mut [u8], v: u64) {
    out[0] = b'0' + (v / 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

/// Proleptic Gregorian date from days since 1970-01-01, by counting whole
/// 400-year eras (146097 days) from 0000-03-01, so leap days fall at the end
/// of each computed year.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z / 146_097;
    let doe = z % 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1st
    let mp = (5 * doy + 2) / 153; // month from March, 0..=11
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let cases: &[(u64, &[u8])] = &[
            (0, b"Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, b"Sun, 06 Nov 1994 08:49:37 GMT"),
            (951_782_400, b"Tue, 29 Feb 2000 00:00:00 GMT"),
            (1_709_251_199, b"Thu, 29 Feb 2024 23:59:59 GMT"),
            (4_107_542_400, b"Mon, 01 Mar 2100 00:00:00 GMT"),
            (253_402_300_799, b"Fri, 31 Dec 9999 23:59:59 GMT"),
            (u64::MAX, b"Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for (secs, want) in cases {
            assert_eq!(&HttpDate::from_unix(*secs).as_bytes()[..], *want, "{secs}");
        }
    }

    #[test]
    fn caches_per_second() {
        let mut d = HttpDate::from_unix(10);
        assert!(!d.update_unix(10));
        assert!(d.update_unix(11));
        assert!(!d.update(UNIX_EPOCH + std::time::Duration::from_millis(11_500)));
    }

    #[test]
    fn consecutive_days_are_consistent() {
        // Walk day by day across several leap cycles; the formatted day of
        // month must advance by one or reset to 01 with the month changing.
        let mut prev = civil_from_days(0);
        for day in 1..(366 * 410) {
            let cur = civil_from_days(day);
            if cur.2 == 1 {
                assert!(cur.1 == prev.1 % 12 + 1, "{prev:?} -> {cur:?}");
                let last = match prev.1 {
                    2 if (prev.0 % 4 == 0 && prev.0 % 100 != 0) || prev.0 % 400 == 0 => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                assert_eq!(prev.2, last, "{prev:?}");
            } else {
                assert_eq!(cur.2, prev.2 + 1);
            }
            prev = cur;
        }
    }
}
