//! HPACK, the HTTP/2 field compression format (RFC 7541).
//!
//! A connection owns one [`Decoder`] for the blocks it receives and one
//! [`Encoder`] for the blocks it sends; each keeps the dynamic table for its
//! direction, so every block must go through it, in order. Both work on whole
//! header blocks: the frame layer concatenates a HEADERS or PUSH_PROMISE
//! fragment with its CONTINUATIONs first (RFC 9113 §4.3), and must bound that
//! concatenation itself.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use proto_http::h2::hpack::{Decoder, DecoderConfig, Encoder, HeaderField};
//!
//! let request = [
//!     HeaderField::new(":method", "GET"),
//!     HeaderField::new(":path", "/"),
//!     HeaderField::new(":authority", "example.com"),
//!     HeaderField::new_sensitive("authorization", "Bearer 123"),
//! ];
//! let mut encoder = Encoder::default();
//! let mut block = BytesMut::new();
//! encoder.encode(&request, &mut block);
//!
//! let mut config = DecoderConfig::default();
//! config.max_header_list_size = 8 * 1024;
//! let mut decoder = Decoder::new(config);
//! let fields = decoder.decode(&block.freeze()).expect("valid block");
//! assert_eq!(fields, request);
//!
//! // A malformed block is a COMPRESSION_ERROR on the whole connection.
//! let err = decoder.decode(&Bytes::from_static(&[0x80])).unwrap_err(); // index 0
//! assert!(err.is_connection_error());
//! assert_eq!(err.error_code(), proto_http::h2::ErrorCode::CompressionError);
//! ```
//!
//! Hostile input: every integer is bounded (RFC 7541 §5.1), every string is
//! checked against [`DecoderConfig::max_string_len`] and the header list
//! against [`DecoderConfig::max_header_list_size`] on lower bounds taken from
//! the encoded lengths, before anything is copied or Huffman-decoded; Huffman
//! output is capped while decoding. Raw literals not added to the dynamic
//! table are zero-copy slices of the block; table entries own their octets,
//! so the table never pins a block in memory beyond its accounted size.
//! Exceeding the header list limit still decodes the whole block, so
//! the table stays in sync and only the stream fails
//! ([`DecoderError::is_connection_error`] is `false`).
//!
//! Layout: [`huffman`] (Appendix B code, nibble-table decoder), `integer`
//! (§5.1), `static_table` (Appendix A), `table` (dynamic table, §4),
//! `decoder`, `encoder`.

mod decoder;
mod encoder;
mod error;
mod field;
pub mod huffman;
mod integer;
mod static_table;
mod table;

#[cfg(test)]
mod tests;

pub use decoder::{Decoder, DecoderConfig};
pub use encoder::{Encoder, EncoderConfig, HuffmanMode, INITIAL_TABLE_SIZE};
pub use error::DecoderError;
pub use field::{ENTRY_OVERHEAD, HeaderField};

/// Invariant checked by the `hpack_decode` fuzz target (and by unit tests).
///
/// `data` is a sequence of blocks, each prefixed by one length octet. They go
/// through one decoder; every block that decodes is re-encoded by one encoder
/// and decoded by a second decoder, which must give the same fields. Panics
/// when the invariant breaks; never on malformed `data`.
#[doc(hidden)]
pub fn fuzz_decode_reencode(data: &[u8]) {
    use bytes::{Bytes, BytesMut};

    let config = DecoderConfig {
        max_header_list_size: 8 * 1024,
        max_string_len: 2 * 1024,
        ..Default::default()
    };
    let mut decoder = Decoder::new(config.clone());
    let mut encoder = Encoder::new(EncoderConfig {
        auto_sensitive: false,
        ..Default::default()
    });
    let mut checker = Decoder::new(config);
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (block, tail) = tail.split_at(len);
        rest = tail;
        match decoder.decode(&Bytes::copy_from_slice(block)) {
            Ok(fields) => {
                let mut out = BytesMut::new();
                encoder.encode(&fields, &mut out);
                let again = checker.decode(&out.freeze());
                assert_eq!(
                    again.as_ref(),
                    Ok(&fields),
                    "re-encoded block decodes differently"
                );
            }
            Err(e) if e.is_connection_error() => return,
            Err(_) => {}
        }
        assert!(decoder.table_size() <= decoder.table_capacity());
    }
}
