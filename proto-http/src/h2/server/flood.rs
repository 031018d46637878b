//! Counting occurrences per time window (flood and rapid-reset defences).

use std::time::Instant;

use crate::h2::config::FloodLimit;

/// Occurrences since the start of the current window.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counter {
    start: Option<Instant>,
    count: u32,
}

impl Counter {
    /// Counts one occurrence at `now`; `true` when that exceeds `limit`.
    pub(crate) fn hit(&mut self, now: Instant, limit: FloodLimit) -> bool {
        match self.start {
            Some(s) if now.saturating_duration_since(s) < limit.window => {}
            _ => {
                self.start = Some(now);
                self.count = 0;
            }
        }
        self.count = self.count.saturating_add(1);
        self.count > limit.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn window_resets_after_it_elapses() {
        let limit = FloodLimit::new(2, Duration::from_secs(1));
        let t = Instant::now();
        let mut c = Counter::default();
        assert!(!c.hit(t, limit));
        assert!(!c.hit(t, limit));
        assert!(c.hit(t + Duration::from_millis(999), limit));
        assert!(!c.hit(t + Duration::from_secs(2), limit));
    }
}
