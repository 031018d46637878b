//! Flow-control windows (RFC 9113 §5.2, §6.9).
//!
//! [`Window`] is the arithmetic every window shares: it may go negative after
//! a `SETTINGS_INITIAL_WINDOW_SIZE` decrease (§6.9.2) and must never exceed
//! 2^31 - 1 (§6.9.1). [`RecvWindow`] adds the receiver's policy: count what
//! the peer sent, give credit back as the application consumes data, and say
//! when a WINDOW_UPDATE is worth sending.

use std::fmt;

use super::ErrorCode;
use super::settings::MAX_WINDOW_SIZE;

/// A flow-control violation; always `FLOW_CONTROL_ERROR` (§6.9.1).
///
/// On a stream window it is a stream error, on the connection window a
/// connection error; a change of `SETTINGS_INITIAL_WINDOW_SIZE` that
/// overflows any stream window is a connection error (§6.9.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowError {
    /// The window would exceed 2^31 - 1.
    Overflow,
    /// The peer sent more than the window allowed.
    Exceeded {
        /// Octets received.
        len: u32,
        /// Octets the window allowed.
        available: u32,
    },
}

impl FlowError {
    /// The code to send: `FLOW_CONTROL_ERROR`.
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::FlowControlError
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Overflow => f.write_str("h2 flow-control window above 2^31 - 1"),
            Self::Exceeded { len, available } => {
                write!(f, "h2 peer sent {len} octets with a window of {available}")
            }
        }
    }
}

impl std::error::Error for FlowError {}

impl From<FlowError> for std::io::Error {
    fn from(e: FlowError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// A flow-control window: octets the sender may still send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window(i64);

impl Window {
    /// A window of `initial` octets (65 535 for new streams and the
    /// connection until SETTINGS say otherwise, §6.9.2).
    pub const fn new(initial: u32) -> Self {
        Self(initial as i64)
    }

    /// The signed size; negative after a settings decrease (§6.9.2).
    pub const fn size(&self) -> i64 {
        self.0
    }

    /// Octets that may be sent now (0 when the window is negative).
    pub fn available(&self) -> u32 {
        u32::try_from(self.0.max(0)).unwrap_or(u32::MAX)
    }

    /// Applies a WINDOW_UPDATE increment (§6.9.1).
    pub fn increase(&mut self, increment: u32) -> Result<(), FlowError> {
        let next = self.0 + i64::from(increment);
        if next > i64::from(MAX_WINDOW_SIZE) {
            return Err(FlowError::Overflow);
        }
        self.0 = next;
        Ok(())
    }

    /// Accounts for `len` flow-controlled octets (a DATA frame's whole
    /// payload, padding included, §6.1). Fails when they exceed the window:
    /// on receipt, the peer broke flow control; on sending, a caller bug.
    pub fn consume(&mut self, len: u32) -> Result<(), FlowError> {
        let available = self.available();
        if len > available {
            return Err(FlowError::Exceeded { len, available });
        }
        self.0 -= i64::from(len);
        Ok(())
    }

    /// Applies a change of `SETTINGS_INITIAL_WINDOW_SIZE` from `old` to `new`
    /// to a stream window (§6.9.2); the result may be negative, but must not
    /// exceed 2^31 - 1.
    pub fn apply_initial_change(&mut self, old: u32, new: u32) -> Result<(), FlowError> {
        let next = self.0 + i64::from(new) - i64::from(old);
        if next > i64::from(MAX_WINDOW_SIZE) {
            return Err(FlowError::Overflow);
        }
        self.0 = next;
        Ok(())
    }
}

/// The receiving side of a window (a stream's or the connection's).
///
/// Credit goes back to the peer only as the application consumes data
/// ([`RecvWindow::release`]), so a slow reader applies back-pressure; updates
/// are batched until half of `target` is owed, so that one WINDOW_UPDATE
/// covers many DATA frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvWindow {
    window: Window,
    target: u32,
    owed: u32,
}

impl RecvWindow {
    /// `initial` is the window the peer currently assumes (65 535, or our
    /// `SETTINGS_INITIAL_WINDOW_SIZE` for streams); `target` the window we
    /// want (at most 2^31 - 1). When `target` is larger, the difference is
    /// owed at once: [`RecvWindow::take_update`] returns it.
    pub fn new(initial: u32, target: u32) -> Self {
        let target = target.min(MAX_WINDOW_SIZE);
        Self {
            window: Window::new(initial),
            target,
            owed: target.saturating_sub(initial),
        }
    }

    /// What the peer may still send.
    pub fn available(&self) -> u32 {
        self.window.available()
    }

    /// Accounts for a received DATA frame's flow-controlled length.
    pub fn on_data(&mut self, len: u32) -> Result<(), FlowError> {
        self.window.consume(len)
    }

    /// The application consumed `len` octets: they become credit owed to
    /// the peer.
    pub fn release(&mut self, len: u32) {
        self.owed = self.owed.saturating_add(len);
    }

    /// The WINDOW_UPDATE increment to send now, if at least half the target
    /// is owed (or the peer is fully blocked); the window is credited.
    pub fn take_update(&mut self) -> Option<u32> {
        let blocked = self.window.available() == 0;
        if self.owed == 0 || (self.owed < self.target / 2 && !blocked) {
            return None;
        }
        let room = i64::from(MAX_WINDOW_SIZE) - self.window.size();
        let increment = self.owed.min(u32::try_from(room).unwrap_or(u32::MAX));
        if increment == 0 {
            return None;
        }
        self.owed -= increment;
        self.window.0 += i64::from(increment);
        Some(increment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_arithmetic() {
        let mut w = Window::new(65_535);
        w.consume(65_535).unwrap();
        assert_eq!(w.available(), 0);
        assert_eq!(
            w.consume(1),
            Err(FlowError::Exceeded {
                len: 1,
                available: 0
            })
        );
        w.increase(MAX_WINDOW_SIZE).unwrap();
        assert_eq!(w.increase(1), Err(FlowError::Overflow));
        assert_eq!(w.size(), i64::from(MAX_WINDOW_SIZE));

        // §6.9.2: a settings decrease can make a window negative...
        let mut w = Window::new(65_535);
        w.consume(60_000).unwrap();
        w.apply_initial_change(65_535, 16_384).unwrap();
        assert_eq!(w.size(), 5_535 - 49_151);
        assert_eq!(w.available(), 0);
        // ...and an increase must not overflow.
        let mut w = Window::new(MAX_WINDOW_SIZE - 10);
        assert_eq!(
            w.apply_initial_change(65_535, 65_546),
            Err(FlowError::Overflow)
        );
        w.apply_initial_change(65_535, 65_545).unwrap();
        assert_eq!(w.size(), i64::from(MAX_WINDOW_SIZE));
        assert_eq!(
            FlowError::Overflow.error_code(),
            ErrorCode::FlowControlError
        );
    }

    #[test]
    fn receive_window_batches_updates() {
        // Connection window: the peer assumes 65 535; we want 1 MiB.
        let mut r = RecvWindow::new(65_535, 1 << 20);
        assert_eq!(r.take_update(), Some((1 << 20) - 65_535));
        assert_eq!(r.available(), 1 << 20);
        assert_eq!(r.take_update(), None);

        r.on_data(100_000).unwrap();
        r.release(100_000);
        assert_eq!(r.take_update(), None, "less than half the target owed");
        r.on_data(500_000).unwrap();
        r.release(500_000);
        assert_eq!(r.take_update(), Some(600_000));
        assert_eq!(r.available(), 1 << 20);

        // Data beyond the window is a flow-control violation.
        assert_eq!(
            r.on_data((1 << 20) + 1),
            Err(FlowError::Exceeded {
                len: (1 << 20) + 1,
                available: 1 << 20
            })
        );

        // A fully blocked peer gets credit even below the threshold.
        let mut r = RecvWindow::new(100, 100);
        r.on_data(100).unwrap();
        r.release(10);
        assert_eq!(r.take_update(), Some(10));
        // Nothing released, nothing to send.
        r.on_data(10).unwrap();
        assert_eq!(r.take_update(), None);
    }
}
