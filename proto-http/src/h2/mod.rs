//! HTTP/2 (RFC 9113) building blocks: the frame codec ([`frame`]), HPACK
//! field compression ([`hpack`]), SETTINGS parameters ([`settings`]),
//! flow-control windows ([`flow`]) and error codes ([`ErrorCode`]).
//!
//! These are the stateless and per-concern parts; the connection state
//! machine that ties them together (stream states, the drain rule of the
//! crate docs) is built on them.

mod error_code;
pub mod flow;
pub mod frame;
pub mod hpack;
pub mod settings;

pub use error_code::ErrorCode;
