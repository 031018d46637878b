//! HPACK decoding errors.

use std::{error, fmt, io};

use crate::h2::ErrorCode;

/// Why a header block could not be decoded.
///
/// Every variant except [`DecoderError::HeaderListTooLarge`] leaves the
/// decoder's dynamic table out of sync with the peer's encoder, so it is a
/// connection error of type `COMPRESSION_ERROR` (RFC 9113 §4.3) and the
/// decoder must not be used again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecoderError {
    /// The block ended inside a representation (RFC 7541 §5.1, §5.2).
    Truncated,
    /// An integer exceeds 2^32 - 1 or uses more than five continuation octets
    /// (RFC 7541 §5.1 "implementation limits").
    IntegerOverflow,
    /// Index 0, or an index past the end of the static and dynamic tables
    /// (RFC 7541 §2.3.3, §6.1).
    InvalidIndex {
        /// The index received.
        index: usize,
    },
    /// A Huffman-coded string contains the EOS symbol (RFC 7541 §5.2).
    HuffmanEos,
    /// A Huffman-coded string's padding is longer than 7 bits or is not the
    /// most significant bits of EOS (RFC 7541 §5.2).
    HuffmanPadding,
    /// A string literal exceeds the configured maximum length; detected
    /// before the string is copied or Huffman-decoded where its length proves
    /// it, and at the limit while decoding otherwise.
    StringTooLong {
        /// The configured limit.
        max: usize,
    },
    /// The decoded header list exceeds the configured maximum size (in RFC
    /// 7541 §4.1 units, as `SETTINGS_MAX_HEADER_LIST_SIZE`).
    ///
    /// The decoder still processed the whole block, so its table is in sync:
    /// this is a stream error, and the connection goes on. A server should
    /// answer 431 (RFC 9113 §10.5.1) or reset the stream.
    HeaderListTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// A dynamic table size update exceeds the limit the decoder's side
    /// announced in SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §6.3).
    TableSizeUpdateTooLarge {
        /// The size requested.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A dynamic table size update after the first field representation of a
    /// block (RFC 7541 §4.2).
    TableSizeUpdateNotAtStart,
    /// The limit was lowered below the table's size, and the next block did
    /// not start with the size update RFC 7541 §4.2 requires.
    MissingTableSizeUpdate,
}

impl DecoderError {
    /// The HTTP/2 error code to send: `COMPRESSION_ERROR` for everything that
    /// breaks the compression context, `PROTOCOL_ERROR` (on the stream) for
    /// [`DecoderError::HeaderListTooLarge`].
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::HeaderListTooLarge { .. } => ErrorCode::ProtocolError,
            _ => ErrorCode::CompressionError,
        }
    }

    /// Whether the whole connection must be closed (GOAWAY) rather than one
    /// stream reset.
    pub fn is_connection_error(&self) -> bool {
        !matches!(self, Self::HeaderListTooLarge { .. })
    }
}

impl fmt::Display for DecoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("hpack: truncated header block"),
            Self::IntegerOverflow => f.write_str("hpack: integer too large"),
            Self::InvalidIndex { index } => write!(f, "hpack: invalid table index {index}"),
            Self::HuffmanEos => f.write_str("hpack: EOS inside a Huffman-coded string"),
            Self::HuffmanPadding => f.write_str("hpack: invalid Huffman padding"),
            Self::StringTooLong { max } => write!(f, "hpack: string literal longer than {max}"),
            Self::HeaderListTooLarge { max } => {
                write!(f, "hpack: header list larger than {max}")
            }
            Self::TableSizeUpdateTooLarge { size, max } => {
                write!(f, "hpack: table size update to {size} exceeds limit {max}")
            }
            Self::TableSizeUpdateNotAtStart => {
                f.write_str("hpack: table size update after a header field")
            }
            Self::MissingTableSizeUpdate => {
                f.write_str("hpack: required table size update missing")
            }
        }
    }
}

impl error::Error for DecoderError {}

impl From<DecoderError> for io::Error {
    fn from(e: DecoderError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}
