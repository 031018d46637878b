//! Inline commands: `PING`, `SET k v` typed into telnet, one per line.
//!
//! Redis accepts a request line not starting with `*` as space-separated
//! arguments terminated by LF (an optional CR before it is dropped). Quoting
//! is not interpreted: arguments are split on spaces and tabs only.

use crate::error::{DecodeError, DecodeErrorKind as K};
use crate::limits::Limits;

/// Argument offsets `(start, end)` of one inline line, and the bytes it used.
pub(crate) type Split = (Vec<(usize, usize)>, usize);

/// Splits one inline command line starting at `buf[0]`.
///
/// Returns the `(start, end)` offsets of each argument and the offset just
/// past the LF; `Ok(None)` until the LF has arrived.
pub(crate) fn split(buf: &[u8], limits: &Limits) -> Result<Option<Split>, DecodeError> {
    let max = limits.max_line_len;
    let window = &buf[..buf.len().min(max.saturating_add(2))];
    let Some(lf) = memchr::memchr(b'\n', window) else {
        if window.len() > max.saturating_add(1) {
            return Err(DecodeError::new(K::LineTooLong { max }, 0));
        }
        return Ok(None);
    };
    let end = if lf > 0 && buf[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    if end > max {
        return Err(DecodeError::new(K::LineTooLong { max }, 0));
    }
    let mut args = Vec::new();
    let mut i = 0;
    while i < end {
        while i < end && matches!(buf[i], b' ' | b'\t') {
            i += 1;
        }
        let start = i;
        while i < end && !matches!(buf[i], b' ' | b'\t') {
            i += 1;
        }
        if i > start {
            if args.len() >= limits.max_elements {
                return Err(DecodeError::new(
                    K::TooManyElements {
                        count: args.len() as u64 + 1,
                        max: limits.max_elements,
                    },
                    start,
                ));
            }
            args.push((start, i));
        }
    }
    Ok(Some((args, lf + 1)))
}
