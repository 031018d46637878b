//! HTTP/2 (RFC 9113): the server connection state machine
//! ([`ServerConnection`], Sans-IO like [`crate::h1::Connection`]) and the
//! pieces under it: the frame codec ([`frame`]), HPACK field compression
//! ([`hpack`]), SETTINGS parameters ([`settings`]), flow-control windows
//! ([`flow`]), error codes ([`ErrorCode`]) and the h2c upgrade
//! ([`upgrade`]).
//!
//! Three ways into HTTP/2 on one port: the client preface on a fresh
//! connection (prior knowledge, [`ServerConnection::new`]; see
//! [`crate::h1::is_h2_preface`]), or an HTTP/1.1 request with
//! `Upgrade: h2c` ([`upgrade::h2c_settings`], then
//! [`ServerConnection::upgrade`] after the 101).

mod config;
mod error;
mod error_code;
mod event;
pub mod flow;
pub mod frame;
pub mod hpack;
mod request;
pub mod server;
pub mod settings;
pub mod upgrade;

pub use config::{Config, FloodLimit};
pub use error::{ConnError, ConnErrorKind};
pub use error_code::ErrorCode;
pub use event::Event;
pub use server::{ServerConnection, VECTORED_MIN};
