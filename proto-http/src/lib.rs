//! HTTP/1.1 and HTTP/2 as Sans-IO state machines.

pub mod error;
pub mod h1;
pub mod h2;
pub mod header;

pub use error::{ProtoError, ProtoErrorKind, UserError};
pub use header::{Method, StatusCode};
