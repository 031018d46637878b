//! Jittered exponential backoff for reconnects, with a tiny xorshift
//! generator (no `rand` dependency; the jitter only needs to spread
//! reconnects of many workers apart, not to be unpredictable).

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift
/// generators, scrambled").
#[derive(Debug, Clone)]
pub(crate) struct XorShift(u64);

impl XorShift {
    /// Seeded from the wall clock and the thread, so workers differ.
    pub(crate) fn seeded() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(nanos);
        std::hash::Hash::hash(&std::thread::current().id(), &mut h);
        XorShift(h.finish() | 1)
    }

    /// A fixed seed (tests).
    #[cfg(test)]
    pub(crate) fn with_seed(seed: u64) -> Self {
        XorShift(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The delay before attempt number `failures + 1`: `base * 2^(failures-1)`
/// capped at `max`, then "equal jitter" (half fixed, half random) so that
/// workers that failed together do not retry together.
pub(crate) fn delay(failures: u32, base: Duration, max: Duration, rng: &mut XorShift) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let exp = failures.saturating_sub(1).min(20);
    let full = base.saturating_mul(1u32 << exp).min(max);
    let half = full / 2;
    let jitter_ns = half.as_nanos() as u64;
    let extra = if jitter_ns == 0 {
        0
    } else {
        rng.next() % (jitter_ns + 1)
    };
    half + Duration::from_nanos(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_jitters_within_bounds() {
        let base = Duration::from_millis(10);
        let max = Duration::from_millis(500);
        let mut rng = XorShift::with_seed(42);
        assert_eq!(delay(0, base, max, &mut rng), Duration::ZERO);
        for failures in 1..40 {
            let full = (base * 2u32.pow((failures - 1).min(20))).min(max);
            for _ in 0..50 {
                let d = delay(failures, base, max, &mut rng);
                assert!(d >= full / 2 && d <= full, "{failures}: {d:?} vs {full:?}");
            }
        }
        // Jitter actually varies.
        let samples: std::collections::HashSet<_> =
            (0..20).map(|_| delay(5, base, max, &mut rng)).collect();
        assert!(samples.len() > 10);
    }

    #[test]
    fn seeds_differ_between_threads() {
        let a = XorShift::seeded().next();
        let b = std::thread::spawn(|| XorShift::seeded().next())
            .join()
            .unwrap();
        assert_ne!(a, b);
    }
}
