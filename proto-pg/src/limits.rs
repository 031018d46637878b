//! Limits on what the server may make this crate accept.
//!
//! Every length and count read from the wire is checked against these
//! values before it is trusted or used to size an allocation.

/// Bounds applied to backend messages before any allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted backend message body, in bytes (the length word
    /// minus its own four bytes). Checked as soon as the five-byte header
    /// is available, before waiting for the body.
    pub max_message_len: usize,
    /// Largest accepted column count in `RowDescription`, `DataRow` and
    /// copy responses. PostgreSQL itself caps tables at 1,600 columns
    /// (`MaxTupleAttributeNumber` is 1664 for result rows).
    pub max_columns: usize,
    /// Largest accepted single field value (a `DataRow` column, a
    /// `FunctionCallResponse` result).
    pub max_field_len: usize,
    /// Largest accepted parameter count in `ParameterDescription`.
    pub max_params: usize,
}

impl Limits {
    /// Defaults: 64 MiB messages, 1,664 columns, 64 MiB fields, 65,535 params.
    pub const DEFAULT: Limits = Limits {
        max_message_len: 64 << 20,
        max_columns: 1664,
        max_field_len: 64 << 20,
        max_params: u16::MAX as usize,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
