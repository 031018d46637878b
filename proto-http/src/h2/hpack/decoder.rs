//! Header block decoding (RFC 7541 §3, §6).

use bytes::Bytes;

use super::error::DecoderError;
use super::field::{HeaderField, entry_size};
use super::table::DynamicTable;
use super::{huffman, integer, static_table};

/// Limits for a [`Decoder`].
///
/// Every length the peer sends is checked against these before it is trusted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecoderConfig {
    /// The `SETTINGS_HEADER_TABLE_SIZE` in force when the decoder is
    /// created: the limit for size updates and the table's initial size.
    /// Default 4096, the protocol's initial value (RFC 9113 §6.5.2). A new
    /// connection keeps the default whatever it is about to announce, and
    /// applies the announced value with [`Decoder::set_max_table_size`] once
    /// the peer acknowledges it: until then the peer encodes against 4096.
    pub max_table_size: usize,
    /// Largest accepted header list, counted as RFC 7541 §4.1 does
    /// (name + value + 32 per field), as `SETTINGS_MAX_HEADER_LIST_SIZE`.
    /// Default 64 KiB.
    pub max_header_list_size: usize,
    /// Largest accepted name or value, after Huffman decoding. Default 16 KiB.
    pub max_string_len: usize,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            max_table_size: 4096,
            max_header_list_size: 64 * 1024,
            max_string_len: 16 * 1024,
        }
    }
}

/// Decodes header blocks; one per connection direction, fed every block in
/// the order received (the dynamic table is shared state, RFC 7541 §2.2).
#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynamicTable,
    /// Current `SETTINGS_HEADER_TABLE_SIZE` limit for size updates (§6.3).
    max_table_size: usize,
    /// The limit dropped below the table's capacity: the next block must
    /// open with a size update (§4.2).
    update_required: bool,
    max_header_list_size: usize,
    max_string_len: usize,
}

/// A string literal located in the block, not yet copied or decoded.
struct RawString {
    huffman: bool,
    start: usize,
    end: usize,
}

impl RawString {
    /// Smallest possible decoded length: each symbol is at most 30 bits, and
    /// at most 7 bits are padding (§5.2).
    fn min_len(&self) -> usize {
        let len = self.end - self.start;
        if self.huffman {
            (len * 8).saturating_sub(7).div_ceil(30)
        } else {
            len
        }
    }
}

impl Decoder {
    /// A decoder with the given limits.
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            table: DynamicTable::new(config.max_table_size),
            max_table_size: config.max_table_size,
            update_required: false,
            max_header_list_size: config.max_header_list_size,
            max_string_len: config.max_string_len,
        }
    }

    /// Applies a new `SETTINGS_HEADER_TABLE_SIZE` this side announced, once
    /// the peer acknowledged it (RFC 9113 §6.5.3). Lowering it below the
    /// current table size obliges the peer to start its next block with a
    /// size update (RFC 7541 §4.2); a block without one fails with
    /// [`DecoderError::MissingTableSizeUpdate`].
    pub fn set_max_table_size(&mut self, max: usize) {
        self.max_table_size = max;
        if max < self.table.capacity() {
            self.update_required = true;
        }
    }

    /// Changes the header list limit (`SETTINGS_MAX_HEADER_LIST_SIZE`).
    pub fn set_max_header_list_size(&mut self, max: usize) {
        self.max_header_list_size = max;
    }

    /// The dynamic table's current size, in RFC 7541 §4.1 units.
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's current maximum size (the last size update).
    pub fn table_capacity(&self) -> usize {
        self.table.capacity()
    }

    /// The dynamic table's entries, newest first (wire index 62 onwards).
    pub fn table_entries(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.table.iter().map(|(n, v)| (n, v))
    }

    /// Decodes one complete header block (the HEADERS or PUSH_PROMISE
    /// fragment plus its CONTINUATIONs, RFC 9113 §4.3).
    pub fn decode(&mut self, block: &Bytes) -> Result<Vec<HeaderField>, DecoderError> {
        let mut out = Vec::new();
        self.decode_into(block, &mut out)?;
        Ok(out)
    }

    /// Like [`Decoder::decode`], appending to `out` so its allocation can be
    /// reused. On error `out` is left as it was.
    pub fn decode_into(
        &mut self,
        block: &Bytes,
        out: &mut Vec<HeaderField>,
    ) -> Result<(), DecoderError> {
        let start = out.len();
        let result = self.decode_block(block, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn decode_block(
        &mut self,
        block: &Bytes,
        out: &mut Vec<HeaderField>,
    ) -> Result<(), DecoderError> {
        let buf = &block[..];
        let mut pos = 0;
        let mut at_start = true;
        let mut list_size = 0usize;
        let mut too_large = false;
        while pos < buf.len() {
            let first = buf[pos];
            if first & 0xe0 == 0x20 {
                // §6.3 Dynamic Table Size Update: 001xxxxx, 5-bit prefix.
                // §4.2: only at the beginning of a block.
                if !at_start {
                    return Err(DecoderError::TableSizeUpdateNotAtStart);
                }
                let (size, n) = integer::decode(&buf[pos..], 5)?;
                pos += n;
                if size > self.max_table_size {
                    return Err(DecoderError::TableSizeUpdateTooLarge {
                        size,
                        max: self.max_table_size,
                    });
                }
                self.table.set_capacity(size);
                self.update_required = false;
                continue;
            }
            if self.update_required {
                return Err(DecoderError::MissingTableSizeUpdate);
            }
            at_start = false;

            if first & 0x80 != 0 {
                // §6.1 Indexed Header Field: 1xxxxxxx, 7-bit prefix.
                let (index, n) = integer::decode(&buf[pos..], 7)?;
                pos += n;
                let (name, value) = self.lookup(index)?;
                self.keep(out, &mut list_size, &mut too_large, name, value, false);
            } else {
                // §6.2.1 with incremental indexing: 01xxxxxx, 6-bit prefix.
                // §6.2.2 without indexing:          0000xxxx, 4-bit prefix.
                // §6.2.3 never indexed:             0001xxxx, 4-bit prefix.
                let indexing = first & 0x40 != 0;
                let sensitive = !indexing && first & 0x10 != 0;
                let prefix = if indexing { 6 } else { 4 };
                let (index, n) = integer::decode(&buf[pos..], prefix)?;
                pos += n;
                let name = if index == 0 {
                    Err(self.locate_string(buf, &mut pos)?)
                } else {
                    Ok(self.lookup(index)?.0)
                };
                let value = self.locate_string(buf, &mut pos)?;

                // Header list limit, checked on lower bounds before anything
                // is copied or Huffman-decoded.
                let name_min = match &name {
                    Ok(name) => name.len(),
                    Err(raw) => raw.min_len(),
                };
                let min_size = entry_size(name_min, value.min_len());
                if list_size.saturating_add(min_size) > self.max_header_list_size {
                    too_large = true;
                }
                if too_large && !indexing {
                    // Not kept and not inserted: skip without decoding.
                    continue;
                }
                let name = match name {
                    Ok(name) => name,
                    Err(raw) => self.materialize(block, &raw, indexing)?,
                };
                let value = self.materialize(block, &value, indexing)?;
                if indexing {
                    // §4.4: the table holds `Bytes` clones, so evicting
                    // the entry the name came from is harmless.
                    self.table.insert(name.clone(), value.clone());
                }
                self.keep(out, &mut list_size, &mut too_large, name, value, sensitive);
            }
        }
        if self.update_required {
            return Err(DecoderError::MissingTableSizeUpdate);
        }
        if too_large {
            return Err(DecoderError::HeaderListTooLarge {
                max: self.max_header_list_size,
            });
        }
        Ok(())
    }

    /// Counts a decoded field against the header list limit and appends it
    /// to `out` while under it. Each representation calls this with the
    /// field's parts in hand: assembling the field in one place for both
    /// and pushing it from there copied it through the stack, read back
    /// with wide loads over narrower stores (a store-forwarding stall).
    #[inline(always)]
    fn keep(
        &self,
        out: &mut Vec<HeaderField>,
        list_size: &mut usize,
        too_large: &mut bool,
        name: Bytes,
        value: Bytes,
        sensitive: bool,
    ) {
        *list_size = list_size.saturating_add(entry_size(name.len(), value.len()));
        if *list_size > self.max_header_list_size {
            *too_large = true;
        }
        if !*too_large {
            out.push(HeaderField {
                name,
                value,
                sensitive,
            });
        }
    }

    /// Resolves a wire index against the static then the dynamic table (§2.3.3).
    #[inline(always)]
    fn lookup(&self, index: usize) -> Result<(Bytes, Bytes), DecoderError> {
        if let Some((name, value)) = static_table::get(index) {
            return Ok((Bytes::from_static(name), Bytes::from_static(value)));
        }
        index
            .checked_sub(static_table::LEN + 1)
            .and_then(|i| self.table.get(i))
            .cloned()
            .ok_or(DecoderError::InvalidIndex { index })
    }

    /// Reads a string literal's header (§5.2) and checks its length against
    /// the block and the string limit, without copying it.
    fn locate_string(&self, buf: &[u8], pos: &mut usize) -> Result<RawString, DecoderError> {
        let rest = buf.get(*pos..).ok_or(DecoderError::Truncated)?;
        let huffman = rest.first().ok_or(DecoderError::Truncated)? & 0x80 != 0;
        let (len, n) = integer::decode(rest, 7)?;
        let start = *pos + n;
        let end = start.checked_add(len).ok_or(DecoderError::Truncated)?;
        if end > buf.len() {
            return Err(DecoderError::Truncated);
        }
        let raw = RawString {
            huffman,
            start,
            end,
        };
        if raw.min_len() > self.max_string_len {
            return Err(DecoderError::StringTooLong {
                max: self.max_string_len,
            });
        }
        *pos = end;
        Ok(raw)
    }

    /// The string's value. A raw literal is a slice of the block (no copy)
    /// unless it goes into the dynamic table (`for_table`): table entries
    /// outlive the block, and a slice would pin the whole block in memory,
    /// so that a 4 KiB table could hold many large blocks alive. A
    /// Huffman-coded literal is a new buffer, trimmed when kept in the table.
    ///
    /// Inlined: its `Result<Bytes, _>` returned through memory was read back
    /// with one wide load over narrower stores, a store-forwarding stall
    /// that was a quarter of the decoder's time on raw literals.
    #[inline(always)]
    fn materialize(
        &self,
        block: &Bytes,
        raw: &RawString,
        for_table: bool,
    ) -> Result<Bytes, DecoderError> {
        let octets = &block[raw.start..raw.end];
        if raw.huffman {
            let mut out = Vec::new();
            huffman::decode(octets, self.max_string_len, &mut out)?;
            if for_table {
                out.shrink_to_fit();
            }
            Ok(Bytes::from(out))
        } else if for_table {
            Ok(Bytes::copy_from_slice(octets))
        } else {
            Ok(block.slice(raw.start..raw.end))
        }
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DecoderConfig::default())
    }
}
