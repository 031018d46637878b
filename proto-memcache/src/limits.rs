//! Configured limits applied to everything that crosses the wire.

/// Limits checked before anything is encoded (requests) or trusted and
/// allocated (replies).
///
/// The defaults match a stock memcached 1.6 server: 250-byte keys
/// (protocol.txt "Keys") and a 1 MiB item size (`-I 1m`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest key accepted, in bytes on the wire (protocol.txt "Keys": 250).
    pub max_key_len: usize,
    /// Largest value sent or accepted in a reply (VALUE/VA byte count,
    /// binary body length). Default 1 MiB.
    pub max_value_len: usize,
    /// Longest reply line (text and meta) searched for its `\r\n` before the
    /// reply is declared hostile. Default 8 KiB.
    pub max_line_len: usize,
    /// Most keys in one multi-key request. Default 10 000.
    pub max_keys_per_request: usize,
    /// Most `STAT` entries collected for one `stats` request. Default 10 000.
    pub max_stats: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_key_len: 250,
            max_value_len: 1024 * 1024,
            max_line_len: 8 * 1024,
            max_keys_per_request: 10_000,
            max_stats: 10_000,
        }
    }
}
