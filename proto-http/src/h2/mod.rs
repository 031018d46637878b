//! HTTP/2 (RFC 9113): the frame codec, HPACK field compression, SETTINGS
//! parameters and error codes.

mod error_code;
pub mod frame;
pub mod hpack;
pub mod settings;

pub use error_code::ErrorCode;
