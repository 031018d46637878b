//! The HTTP/2 frame layer (RFC 9113 §4, §6): a stateless codec.
//!
//! [`decode`] reads one frame from the front of a buffer, borrowing its
//! payload; incomplete input is `Ok(None)`. It checks everything a single
//! frame can violate on its own (length limits, fixed lengths, padding,
//! stream identifier 0 or not, SETTINGS values, zero window increments) and
//! says, through [`FrameError`], which RFC error code to send and whether it is
//! a connection or a stream error. [`HeaderBlockAssembler`] adds the one
//! cross-frame rule that needs no stream state: HEADERS/PUSH_PROMISE plus
//! CONTINUATION sequencing (§6.10) with a bound on the block size. Rules that
//! need connection state (stream states, flow-control windows, whether push
//! is enabled) belong to the connection.
//!
//! Encoding goes through [`Frame::encode`] or the frame structs' own
//! `encode`, appending to a `BytesMut`; [`encode_settings`] and
//! [`encode_header_block`] cover the common compositions.
//!
//! ```
//! use bytes::BytesMut;
//! use proto_http::h2::frame::{self, Frame, Ping, StreamId, WindowUpdate};
//!
//! let mut out = BytesMut::new();
//! Ping { ack: false, payload: *b"12345678" }.encode(&mut out);
//! WindowUpdate { stream_id: StreamId::new(1), increment: 1024 }.encode(&mut out);
//!
//! let mut buf = &out[..];
//! let mut frames = Vec::new();
//! while let Some((frame, used)) = frame::decode(buf, frame::DEFAULT_MAX_FRAME_SIZE)? {
//!     frames.push(format!("{frame:?}"));
//!     buf = &buf[used..];
//! }
//! assert_eq!(frames.len(), 2);
//!
//! // A zero increment on a stream is a stream error (RFC 9113 §6.9).
//! let mut bad = BytesMut::new();
//! WindowUpdate { stream_id: StreamId::new(3), increment: 0 }.encode(&mut bad);
//! let err = frame::decode(&bad, frame::DEFAULT_MAX_FRAME_SIZE).unwrap_err();
//! assert_eq!(err.stream_id(), Some(StreamId::new(3)));
//! assert_eq!(err.error_code(), proto_http::h2::ErrorCode::ProtocolError);
//! # Ok::<(), proto_http::h2::frame::FrameError>(())
//! ```

mod block;
mod decode;
mod encode;
mod error;
mod types;

#[cfg(test)]
mod tests;

pub use block::{BlockStep, HeaderBlock, HeaderBlockAssembler, HeaderBlockKind};
pub use decode::decode;
pub use encode::{encode_header_block, encode_settings};
pub use error::{FrameError, FrameErrorKind};
pub use types::{
    Continuation, Data, Frame, FrameHeader, GoAway, Headers, Ping, Priority, PrioritySpec,
    PushPromise, RstStream, Settings, SettingsIter, StreamId, Unknown, WindowUpdate, flags, kind,
};

/// Length of the frame header (RFC 9113 §4.1).
pub const FRAME_HEADER_LEN: usize = 9;

/// Initial `SETTINGS_MAX_FRAME_SIZE`: 2^14 (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = crate::h2::settings::MIN_MAX_FRAME_SIZE;

/// The client connection preface (RFC 9113 §3.4), sent before any frame.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Invariant checked by the `h2_frame` fuzz target (and by unit tests).
///
/// Decodes frames from `data` until it ends or fails; every frame decoded
/// must re-encode to bytes that decode to the same frame, and feeding the
/// input one byte at a time must give the same frames and error. The frames
/// also go through a [`HeaderBlockAssembler`]. Panics when
/// the invariant breaks; never on malformed `data`.
#[doc(hidden)]
pub fn fuzz_decode_reencode(data: &[u8]) {
    use bytes::BytesMut;

    let max = DEFAULT_MAX_FRAME_SIZE;
    let mut rest = data;
    let mut blocks = Some(HeaderBlockAssembler::new(4096));
    loop {
        let whole = decode(rest, max);
        // Any prefix shorter than the frame is "incomplete", never an error
        // other than the one the whole input gives.
        let used = match &whole {
            Ok(Some((_, used))) => *used,
            Ok(None) => rest.len(),
            Err(_) => rest.len(),
        };
        for cut in 0..used.min(rest.len()) {
            match decode(&rest[..cut], max) {
                Ok(None) => {}
                Err(e) => assert_eq!(whole.as_ref().err(), Some(&e), "prefix {cut}"),
                Ok(Some(_)) => panic!("frame decoded from a {cut}-byte prefix"),
            }
        }
        match whole {
            Ok(Some((frame, used))) => {
                let mut out = BytesMut::new();
                frame.encode(&mut out);
                let again = decode(&out, max).expect("re-encoded frame decodes");
                let (again, again_used) = again.expect("re-encoded frame is complete");
                assert_eq!(again, frame);
                assert_eq!(again_used, out.len());
                // The assembler accepts or rejects any sequence without
                // panicking; after an error the connection would be gone.
                if let Some(assembler) = &mut blocks {
                    match assembler.push(&frame) {
                        Ok(BlockStep::Complete(b)) => assert!(b.block.len() <= 4096),
                        Ok(_) => {}
                        Err(e) => {
                            assert!(e.is_connection_error());
                            blocks = None;
                        }
                    }
                }
                rest = &rest[used..];
            }
            Ok(None) | Err(_) => return,
        }
    }
}
