//! Cheap clocks for checks made on every request or call, where the
//! precise clock's cost shows: on Linux the `_COARSE` clocks, the time of
//! the last scheduler tick (1 to 4 ms behind), read from the vDSO without
//! reading the clock source: about 5 ns against 23 ns for `Instant::now`
//! on the 2-core VM of `BENCHMARKS.md`.

use std::time::Duration;

/// Time on a monotonic clock (from an arbitrary origin), ticks behind:
/// for lifetimes of minutes, such as a pooled connection's. On Linux
/// `CLOCK_MONOTONIC_COARSE`; the precise clock was 4-6% of the client CPU
/// with 50 concurrent Redis callers.
#[cfg(target_os = "linux")]
pub(crate) fn coarse_monotonic() -> Duration {
    coarse(libc::CLOCK_MONOTONIC_COARSE)
}

/// Time since the first call, by `Instant` (no coarse clock here).
#[cfg(not(target_os = "linux"))]
pub(crate) fn coarse_monotonic() -> Duration {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(std::time::Instant::now).elapsed()
}

/// Seconds since the Unix epoch, for the HTTP `Date` header (RFC 9110
/// §6.6.1: one-second resolution). On Linux `CLOCK_REALTIME_COARSE`: it
/// is read for every response.
#[cfg(target_os = "linux")]
pub(crate) fn unix_secs() -> u64 {
    coarse(libc::CLOCK_REALTIME_COARSE).as_secs()
}

/// Seconds since the Unix epoch, for the HTTP `Date` header.
#[cfg(not(target_os = "linux"))]
pub(crate) fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(target_os = "linux")]
fn coarse(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` for the call's duration,
    // and both coarse clock ids have existed since Linux 2.6.32.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        // Cannot happen with valid arguments; callers treat zero as "no
        // time" (a lifetime not enforced, a Date of 1970).
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn clocks_agree_with_the_precise_ones() {
        let precise = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let coarse = super::unix_secs();
        // A tick behind at most, so at most one second apart.
        assert!(precise.abs_diff(coarse) <= 1, "{precise} vs {coarse}");
        let a = super::coarse_monotonic();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(super::coarse_monotonic() > a);
    }
}
