//! HTTP/2 (RFC 9113): HPACK field compression and the error codes.

mod error_code;
pub mod hpack;

pub use error_code::ErrorCode;
