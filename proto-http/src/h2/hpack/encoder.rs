//! Header block encoding (RFC 7541 §6, with the indexing choices of §7.1).

use bytes::{BufMut, Bytes, BytesMut};

use super::field::{HeaderField, entry_size};
use super::static_table::{self, Match};
use super::table::DynamicTable;
use super::{huffman, integer};

/// Wire index of the first dynamic table entry (RFC 7541 §2.3.3).
const FIRST_DYNAMIC: usize = static_table::LEN + 1;

/// When string literals are Huffman-coded (RFC 7541 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HuffmanMode {
    /// Huffman-code a string only when that makes it strictly shorter.
    WhenShorter,
    /// Always Huffman-code.
    Always,
    /// Never Huffman-code (raw octets).
    Never,
}

/// Settings for an [`Encoder`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EncoderConfig {
    /// The most dynamic table memory this encoder will use, whatever the peer
    /// allows. Default 4096.
    pub max_table_size: usize,
    /// Huffman policy for string literals. Default [`HuffmanMode::WhenShorter`].
    pub huffman: HuffmanMode,
    /// Treat `authorization`, `proxy-authorization` and short (< 20 octets)
    /// `cookie` values as sensitive even when the field does not say so,
    /// as RFC 7541 §7.1.3 advises. Default `true`.
    pub auto_sensitive: bool,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self {
            max_table_size: 4096,
            huffman: HuffmanMode::WhenShorter,
            auto_sensitive: true,
        }
    }
}

/// Dynamic table size updates owed to the peer at the next block (§4.2).
#[derive(Debug, Clone, Copy)]
struct PendingUpdate {
    /// Smallest size since the last block: the decoder must evict to it.
    min: usize,
    /// The size in force from now on.
    last: usize,
}

/// Encodes header blocks; one per connection direction, fed every block in
/// the order they are sent.
///
/// Indexing policy: a field found in full in the static or dynamic table is
/// sent as an index; otherwise it is sent as a literal (with the lowest
/// static name index, else a dynamic one, else a literal name) and added to
/// the dynamic table unless it is sensitive (never indexed, §6.2.3) or would
/// take more than three quarters of the table (it would evict everything for
/// one entry; sent without indexing, §6.2.2).
#[derive(Debug, Clone)]
pub struct Encoder {
    table: DynamicTable,
    max_table_size: usize,
    pending: Option<PendingUpdate>,
    huffman: HuffmanMode,
    auto_sensitive: bool,
}

/// Initial `SETTINGS_HEADER_TABLE_SIZE` (RFC 9113 §6.5.2).
pub const INITIAL_TABLE_SIZE: usize = 4096;

impl Encoder {
    /// An encoder whose table starts at the protocol's initial 4096 octets,
    /// or at `config.max_table_size` when smaller (announced by a size update
    /// at the start of the first block).
    pub fn new(config: EncoderConfig) -> Self {
        let mut encoder = Self {
            table: DynamicTable::new(INITIAL_TABLE_SIZE),
            max_table_size: config.max_table_size,
            pending: None,
            huffman: config.huffman,
            auto_sensitive: config.auto_sensitive,
        };
        encoder.resize(INITIAL_TABLE_SIZE.min(config.max_table_size));
        encoder
    }

    /// Applies the peer's `SETTINGS_HEADER_TABLE_SIZE` (RFC 7541 §4.2,
    /// RFC 9113 §6.5.2): the table becomes the smaller of it and the
    /// configured maximum, and the next block starts with the size update(s).
    pub fn set_max_table_size(&mut self, peer_max: usize) {
        self.resize(peer_max.min(self.max_table_size));
    }

    fn resize(&mut self, size: usize) {
        let current = self.table.capacity();
        self.pending = match self.pending {
            Some(p) => Some(PendingUpdate {
                min: p.min.min(size),
                last: size,
            }),
            None if size != current => Some(PendingUpdate {
                min: size.min(current),
                last: size,
            }),
            None => None,
        };
        self.table.set_capacity(size);
    }

    /// The dynamic table's current size, in RFC 7541 §4.1 units.
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's current maximum size.
    pub fn table_capacity(&self) -> usize {
        self.table.capacity()
    }

    /// The dynamic table's entries, newest first (wire index 62 onwards).
    pub fn table_entries(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.table.iter().map(|(n, v)| (n, v))
    }

    /// Appends one header block holding `fields`, in order, to `dst`.
    pub fn encode<'a, I>(&mut self, fields: I, dst: &mut BytesMut)
    where
        I: IntoIterator<Item = &'a HeaderField>,
    {
        self.begin_block(dst);
        for field in fields {
            self.encode_field(field, dst);
        }
    }

    /// Starts a header block: the pending dynamic table size updates, which
    /// RFC 7541 §4.2 puts at its beginning. [`encode`](Self::encode) does
    /// this itself; call it once before the fields of a block encoded with
    /// [`encode_slices`](Self::encode_slices).
    pub fn begin_block(&mut self, dst: &mut BytesMut) {
        if let Some(p) = self.pending.take() {
            // §4.2: the smallest size first when the size went down and back
            // up between blocks, so the decoder evicts what we evicted.
            if p.min < p.last {
                integer::encode(dst, 0x20, 5, p.min);
            }
            integer::encode(dst, 0x20, 5, p.last);
        }
    }

    /// Appends one field, given as a lowercase name and a value, to the
    /// block [`begin_block`](Self::begin_block) started, without building a
    /// [`HeaderField`] (nothing is allocated unless the field enters the
    /// dynamic table): the representation `encode` chooses for a field not
    /// marked sensitive.
    pub fn encode_slices(&mut self, name: &[u8], value: &[u8], dst: &mut BytesMut) {
        self.encode_raw(name, value, false, dst);
    }

    fn encode_field(&mut self, field: &HeaderField, dst: &mut BytesMut) {
        self.encode_raw(&field.name, &field.value, field.sensitive, dst);
    }

    fn encode_raw(&mut self, name: &[u8], value: &[u8], sensitive: bool, dst: &mut BytesMut) {
        let sensitive = sensitive || (self.auto_sensitive && looks_sensitive(name, value));

        let static_match = static_table::find(name, value);
        // A sensitive field is always a never-indexed literal, even when the
        // tables hold it: §6.2.3 asks intermediaries to keep that
        // representation, and a decoder can only see it on a literal.
        if !sensitive {
            // §6.1 Indexed Header Field.
            if let Some(Match::Full(index)) = static_match {
                integer::encode(dst, 0x80, 7, index);
                return;
            }
            if let Some(i) = self.table.find_full(name, value) {
                integer::encode(dst, 0x80, 7, FIRST_DYNAMIC + i);
                return;
            }
        }
        let name_index = match static_match {
            Some(Match::Name(index) | Match::Full(index)) => Some(index),
            None => self.table.find_name(name).map(|i| FIRST_DYNAMIC + i),
        };
        let size = entry_size(name.len(), value.len());
        let index_it = !sensitive && size <= self.table.capacity() / 4 * 3;
        // §6.2.1 (01, 6-bit), §6.2.3 (0001, 4-bit), §6.2.2 (0000, 4-bit).
        let (flags, prefix) = if index_it {
            (0x40, 6)
        } else if sensitive {
            (0x10, 4)
        } else {
            (0x00, 4)
        };
        match name_index {
            Some(index) => integer::encode(dst, flags, prefix, index),
            None => {
                integer::encode(dst, flags, prefix, 0);
                self.encode_string(name, dst);
            }
        }
        self.encode_string(value, dst);
        if index_it {
            // Copy rather than share: the caller's `Bytes` may be a slice of
            // a much larger buffer (a received header block, when proxying),
            // which the table would otherwise keep alive beyond its
            // accounted size. Static names and names already in the table
            // need no copy.
            let name = match (static_match, name_index) {
                (Some(Match::Name(i) | Match::Full(i)), _) => static_table::name_bytes(i),
                // A dynamic name hit: share the entry's own (owned) copy.
                (None, Some(i)) => self
                    .table
                    .get(i - FIRST_DYNAMIC)
                    .map_or_else(|| Bytes::copy_from_slice(name), |(n, _)| n.clone()),
                (None, None) => Bytes::copy_from_slice(name),
            };
            self.table.insert(name, Bytes::copy_from_slice(value));
        }
    }

    /// §5.2 string literal: H bit, 7-bit-prefix length, octets.
    fn encode_string(&self, s: &[u8], dst: &mut BytesMut) {
        let huffman_len = match self.huffman {
            HuffmanMode::Never => None,
            HuffmanMode::Always => Some(huffman::encoded_len(s)),
            HuffmanMode::WhenShorter => Some(huffman::encoded_len(s)).filter(|&n| n < s.len()),
        };
        match huffman_len {
            Some(n) => {
                integer::encode(dst, 0x80, 7, n);
                dst.reserve(n);
                huffman::encode(s, dst);
            }
            None => {
                integer::encode(dst, 0x00, 7, s.len());
                dst.put_slice(s);
            }
        }
    }
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new(EncoderConfig::default())
    }
}

/// RFC 7541 §7.1.3: credentials, and cookies short enough to guess.
fn looks_sensitive(name: &[u8], value: &[u8]) -> bool {
    match name {
        b"authorization" | b"proxy-authorization" => true,
        b"cookie" => value.len() < 20,
        _ => false,
    }
}
