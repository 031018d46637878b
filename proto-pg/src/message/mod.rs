//! The stateless codec: frontend message encoders and the backend message
//! decoder.
//!
//! Formats follow the PostgreSQL documentation, chapter "Frontend/Backend
//! Protocol", section "Message Formats" (55.7 in the PostgreSQL 16 manual).

pub mod backend;
pub mod frontend;

/// An object identifier (type OIDs, table OIDs, function OIDs).
pub type Oid = u32;

/// Wire format of a parameter or result column (format codes 0 and 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Text format (code 0).
    #[default]
    Text,
    /// Binary format (code 1).
    Binary,
}

impl Format {
    /// The Int16 format code.
    pub fn code(self) -> i16 {
        match self {
            Format::Text => 0,
            Format::Binary => 1,
        }
    }

    /// Parses an Int16 format code.
    pub fn from_code(code: i16) -> Option<Format> {
        match code {
            0 => Some(Format::Text),
            1 => Some(Format::Binary),
            _ => None,
        }
    }
}
