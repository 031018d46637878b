//! The header field type shared by the encoder and the decoder.

use std::fmt;

use bytes::Bytes;

/// Per-entry overhead RFC 7541 §4.1 adds to `name.len() + value.len()`.
pub const ENTRY_OVERHEAD: usize = 32;

/// A header field (name and value), as HPACK decodes and encodes it.
///
/// Names and values are opaque octets here; HTTP-level validation (lowercase
/// names, pseudo-header order, forbidden characters, RFC 9113 §8.2) belongs to
/// the layer above. Decoded raw literals are slices of the header block
/// (no copy) unless they were added to the dynamic table, whose entries own
/// their octets; table hits share the table's `Bytes`; Huffman-coded
/// literals are new buffers.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HeaderField {
    /// Field name.
    pub name: Bytes,
    /// Field value.
    pub value: Bytes,
    /// Never index this field (RFC 7541 §6.2.3).
    ///
    /// Set by the decoder when the peer sent the "never indexed" literal, and
    /// honoured by the encoder, which then keeps the field out of its dynamic
    /// table and emits it as never indexed, so intermediaries do the same.
    pub sensitive: bool,
}

impl HeaderField {
    /// A field the encoder may index.
    pub fn new(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            sensitive: false,
        }
    }

    /// A field that must never be indexed (credentials, short cookies; RFC 7541 §7.1.3).
    pub fn new_sensitive(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            sensitive: true,
        }
    }

    /// Size as RFC 7541 §4.1 counts it (also the unit of
    /// `SETTINGS_MAX_HEADER_LIST_SIZE`, RFC 9113 §6.5.2): name + value + 32.
    pub fn size(&self) -> usize {
        entry_size(self.name.len(), self.value.len())
    }
}

/// RFC 7541 §4.1 entry size, saturating instead of overflowing.
pub(crate) fn entry_size(name_len: usize, value_len: usize) -> usize {
    name_len
        .saturating_add(value_len)
        .saturating_add(ENTRY_OVERHEAD)
}

impl fmt::Debug for HeaderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("HeaderField");
        d.field("name", &String::from_utf8_lossy(&self.name));
        if self.sensitive {
            // Keep secrets out of logs.
            d.field("value", &"<redacted>");
        } else {
            d.field("value", &String::from_utf8_lossy(&self.value));
        }
        d.field("sensitive", &self.sensitive).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_and_debug() {
        let f = HeaderField::new("custom-key", "custom-header");
        assert_eq!(f.size(), 55); // RFC 7541 §C.2.1
        assert!(format!("{f:?}").contains("custom-header"));
        let s = HeaderField::new_sensitive("authorization", "secret");
        assert!(s.sensitive);
        assert!(!format!("{s:?}").contains("secret"));
        assert_eq!(entry_size(usize::MAX, 1), usize::MAX);
    }
}
