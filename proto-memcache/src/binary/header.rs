//! The 24-byte packet header, opcodes and status codes
//! (protocol-binary.txt "Packet Structure", "Defined Values").

/// Length of every request and response header.
pub const HEADER_LEN: usize = 24;
/// Magic byte of a request.
pub const REQUEST_MAGIC: u8 = 0x80;
/// Magic byte of a response.
pub const RESPONSE_MAGIC: u8 = 0x81;

macro_rules! opcodes {
    ($($(#[$m:meta])* $name:ident = $v:expr,)*) => {
        /// Command opcodes (protocol-binary.txt "Command Opcodes").
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Opcode {
            $($(#[$m])* $name = $v,)*
        }

        impl Opcode {
            /// The opcode for a wire byte, `None` if unknown.
            pub fn from_u8(b: u8) -> Option<Opcode> {
                match b {
                    $($v => Some(Opcode::$name),)*
                    _ => None,
                }
            }
        }
    };
}

opcodes! {
    /// Get.
    Get = 0x00,
    /// Set.
    Set = 0x01,
    /// Add.
    Add = 0x02,
    /// Replace.
    Replace = 0x03,
    /// Delete.
    Delete = 0x04,
    /// Increment.
    Increment = 0x05,
    /// Decrement.
    Decrement = 0x06,
    /// Quit.
    Quit = 0x07,
    /// Flush.
    Flush = 0x08,
    /// Get, quiet (misses are not answered).
    GetQ = 0x09,
    /// No-op: always answered, after everything before it.
    Noop = 0x0a,
    /// Version.
    Version = 0x0b,
    /// Get with the key in the response.
    GetK = 0x0c,
    /// GetK, quiet.
    GetKQ = 0x0d,
    /// Append.
    Append = 0x0e,
    /// Prepend.
    Prepend = 0x0f,
    /// Stat.
    Stat = 0x10,
    /// Set, quiet (success is not answered).
    SetQ = 0x11,
    /// Add, quiet.
    AddQ = 0x12,
    /// Replace, quiet.
    ReplaceQ = 0x13,
    /// Delete, quiet.
    DeleteQ = 0x14,
    /// Increment, quiet.
    IncrementQ = 0x15,
    /// Decrement, quiet.
    DecrementQ = 0x16,
    /// Quit, quiet.
    QuitQ = 0x17,
    /// Flush, quiet.
    FlushQ = 0x18,
    /// Append, quiet.
    AppendQ = 0x19,
    /// Prepend, quiet.
    PrependQ = 0x1a,
    /// Verbosity.
    Verbosity = 0x1b,
    /// Touch.
    Touch = 0x1c,
    /// Get and touch.
    Gat = 0x1d,
    /// Get and touch, quiet.
    GatQ = 0x1e,
    /// Get and touch with the key in the response.
    GatK = 0x23,
    /// GatK, quiet.
    GatKQ = 0x24,
}

impl Opcode {
    /// True for the quiet variants, whose common-case answer is suppressed:
    /// misses for the get family, success for the others
    /// (protocol-binary.txt, each command's "quiet" note).
    pub fn is_quiet(self) -> bool {
        matches!(
            self,
            Opcode::GetQ
                | Opcode::GetKQ
                | Opcode::SetQ
                | Opcode::AddQ
                | Opcode::ReplaceQ
                | Opcode::DeleteQ
                | Opcode::IncrementQ
                | Opcode::DecrementQ
                | Opcode::QuitQ
                | Opcode::FlushQ
                | Opcode::AppendQ
                | Opcode::PrependQ
                | Opcode::GatQ
                | Opcode::GatKQ
        )
    }

    /// True for the get family (a miss is the suppressed answer of the quiet
    /// ones; success is for the others).
    pub fn is_get(self) -> bool {
        matches!(
            self,
            Opcode::Get
                | Opcode::GetQ
                | Opcode::GetK
                | Opcode::GetKQ
                | Opcode::Gat
                | Opcode::GatQ
                | Opcode::GatK
                | Opcode::GatKQ
        )
    }
}

/// Response status (protocol-binary.txt "Response Status"). Kept open: a
/// server may send codes this crate does not name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status(pub u16);

impl Status {
    /// No error.
    pub const NO_ERROR: Status = Status(0x0000);
    /// Key not found.
    pub const KEY_NOT_FOUND: Status = Status(0x0001);
    /// Key exists (CAS mismatch, or `add` of a present key).
    pub const KEY_EXISTS: Status = Status(0x0002);
    /// Value too large.
    pub const VALUE_TOO_LARGE: Status = Status(0x0003);
    /// Invalid arguments.
    pub const INVALID_ARGUMENTS: Status = Status(0x0004);
    /// Item not stored.
    pub const ITEM_NOT_STORED: Status = Status(0x0005);
    /// Incr/Decr on a non-numeric value.
    pub const NON_NUMERIC: Status = Status(0x0006);
    /// The vbucket belongs to another server.
    pub const VBUCKET_ELSEWHERE: Status = Status(0x0007);
    /// Authentication error.
    pub const AUTH_ERROR: Status = Status(0x0008);
    /// Authentication continue.
    pub const AUTH_CONTINUE: Status = Status(0x0009);
    /// Unknown command.
    pub const UNKNOWN_COMMAND: Status = Status(0x0081);
    /// Out of memory.
    pub const OUT_OF_MEMORY: Status = Status(0x0082);
    /// Not supported.
    pub const NOT_SUPPORTED: Status = Status(0x0083);
    /// Internal error.
    pub const INTERNAL_ERROR: Status = Status(0x0084);
    /// Busy.
    pub const BUSY: Status = Status(0x0085);
    /// Temporary failure.
    pub const TEMPORARY_FAILURE: Status = Status(0x0086);

    /// True for [`Status::NO_ERROR`].
    pub fn is_ok(self) -> bool {
        self == Status::NO_ERROR
    }
}

/// A decoded header, request or response (`status_or_vbucket` is the
/// vbucket id in a request and the status in a response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// [`REQUEST_MAGIC`] or [`RESPONSE_MAGIC`].
    pub magic: u8,
    /// Raw opcode byte.
    pub opcode: u8,
    /// Key length.
    pub key_len: u16,
    /// Extras length.
    pub extras_len: u8,
    /// Data type.
    pub data_type: u8,
    /// Vbucket id (request) or status (response).
    pub status_or_vbucket: u16,
    /// Length of extras + key + value.
    pub body_len: u32,
    /// Opaque.
    pub opaque: u32,
    /// CAS.
    pub cas: u64,
}

impl Header {
    /// Reads a header from the first 24 bytes (all fields big-endian,
    /// protocol-binary.txt "Packet Structure").
    pub fn parse(b: &[u8; HEADER_LEN]) -> Header {
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Header {
            magic: b[0],
            opcode: b[1],
            key_len: u16_at(2),
            extras_len: b[4],
            data_type: b[5],
            status_or_vbucket: u16_at(6),
            body_len: u32_at(8),
            opaque: u32_at(12),
            cas: u64::from(u32_at(16)) << 32 | u64::from(u32_at(20)),
        }
    }

    /// Writes the 24 bytes.
    pub fn write(&self, buf: &mut bytes::BytesMut) {
        use bytes::BufMut;
        buf.put_u8(self.magic);
        buf.put_u8(self.opcode);
        buf.put_u16(self.key_len);
        buf.put_u8(self.extras_len);
        buf.put_u8(self.data_type);
        buf.put_u16(self.status_or_vbucket);
        buf.put_u32(self.body_len);
        buf.put_u32(self.opaque);
        buf.put_u64(self.cas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let h = Header {
            magic: RESPONSE_MAGIC,
            opcode: 0x0b,
            key_len: 0x0102,
            extras_len: 4,
            data_type: 0,
            status_or_vbucket: 1,
            body_len: 0x0a0b0c0d,
            opaque: 0xdeadbeef,
            cas: 0x0102030405060708,
        };
        let mut b = bytes::BytesMut::new();
        h.write(&mut b);
        assert_eq!(b.len(), HEADER_LEN);
        assert_eq!(Header::parse(b[..].try_into().unwrap()), h);
    }

    #[test]
    fn opcodes() {
        for b in 0..=255u8 {
            if let Some(op) = Opcode::from_u8(b) {
                assert_eq!(op as u8, b);
            }
        }
        assert_eq!(Opcode::from_u8(0x20), None);
        assert!(Opcode::GetKQ.is_quiet() && Opcode::GetKQ.is_get());
        assert!(!Opcode::Noop.is_quiet());
    }
}
