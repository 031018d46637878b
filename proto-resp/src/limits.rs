//! Hard limits applied to everything read from the wire.

/// Limits checked by the decoder *before* it trusts or allocates for a
/// length, count or nesting depth read from the wire.
///
/// A frame that exceeds a limit is rejected with a typed
/// [`DecodeError`](crate::DecodeError); nothing is allocated for the
/// announced size. Aggregates never reserve more slots than the bytes
/// already buffered could possibly fill (every RESP value is at least three
/// bytes), so even an in-limit but hostile count costs no memory up front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest bulk string, bulk error or verbatim string payload, in bytes.
    /// Default 512 MiB (Redis' own `proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// Largest element count of one aggregate (array, set, push) or entry
    /// count of one map or attribute. Default 16 Mi.
    pub max_elements: usize,
    /// Deepest nesting of aggregates; a top-level array is depth 1.
    /// Default 128. The decoder is iterative, so a large value costs heap,
    /// never stack.
    pub max_depth: usize,
    /// Longest line (simple string, error, number, inline command), in bytes
    /// without the CRLF. Default 1 MiB.
    pub max_line_len: usize,
}

impl Limits {
    /// The defaults described on each field.
    pub const DEFAULT: Limits = Limits {
        max_bulk_len: 512 * 1024 * 1024,
        max_elements: 16 * 1024 * 1024,
        max_depth: 128,
        max_line_len: 1024 * 1024,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
