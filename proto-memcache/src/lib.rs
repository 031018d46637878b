//! memcached client protocol, Sans-IO.
#![forbid(unsafe_code)]

pub mod binary;
pub mod check;
mod conn;
pub mod error;
pub mod event;
pub mod key;
pub mod limits;
pub mod meta;
pub mod text;
mod wire;

pub use conn::{Config, Connection, Protocol, StoreOptions};
pub use error::{DecodeError, DecodeResult, KeyError, ProtocolError, UsageError};
pub use event::{Event, Item, ReqId, Response, ServerError, ServerErrorKind, Stat};
pub use key::validate_key;
pub use limits::Limits;
pub use text::encode::{GetMode, StoreMode};
