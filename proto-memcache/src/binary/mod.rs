//! The binary protocol (memcached `doc/protocol-binary.txt`; still accepted
//! by memcached 1.6.18, whose default `-B auto` negotiates per connection
//! from the first byte, `0x80` meaning binary; `-B ascii` turns it off).
//!
//! Every packet is a 24-byte [`header`] followed by extras, key and value.
//! Replies are matched to requests by the 32-bit opaque the client chose.
//! The binary protocol is deprecated upstream in favour of the meta protocol
//! but remains supported.

pub mod decode;
pub mod encode;
pub mod header;

pub use decode::decode;
pub use header::{HEADER_LEN, Opcode, Status};

/// One response packet (protocol-binary.txt "Packet Structure"), generic
/// over the byte container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<B> {
    /// The request opcode this answers.
    pub opcode: Opcode,
    /// Response status.
    pub status: Status,
    /// The opaque echoed from the request.
    pub opaque: u32,
    /// The item's CAS (0 when not applicable).
    pub cas: u64,
    /// Data type (0: raw bytes).
    pub data_type: u8,
    /// Extras (for example the 4-byte flags of a get hit).
    pub extras: B,
    /// Key (get-with-key hits, stat names).
    pub key: B,
    /// Value (item data, counter, version string, error message).
    pub value: B,
}

/// A response borrowing the decoder's input.
pub type Frame<'a> = Response<&'a [u8]>;

impl<B> Response<B> {
    /// Converts every byte field with `f`, keeping the shape.
    pub fn map<C>(self, mut f: impl FnMut(B) -> C) -> Response<C> {
        Response {
            opcode: self.opcode,
            status: self.status,
            opaque: self.opaque,
            cas: self.cas,
            data_type: self.data_type,
            extras: f(self.extras),
            key: f(self.key),
            value: f(self.value),
        }
    }
}
