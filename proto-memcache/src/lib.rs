//! memcached client protocol, Sans-IO.
#![forbid(unsafe_code)]

pub mod binary;
pub mod error;
pub mod key;
pub mod limits;
pub mod meta;
pub mod text;
mod wire;

pub use error::{DecodeError, DecodeResult, KeyError, ProtocolError, UsageError};
pub use key::validate_key;
pub use limits::Limits;
