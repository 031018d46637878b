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
//!
//! # Choices made (and why)
//!
//! - **Credit follows the application.** Flow-control credit for request
//!   bodies goes back when the application polls the [`Event::Data`], in
//!   WINDOW_UPDATEs batched to half a window, so a slow consumer slows the
//!   peer instead of growing buffers.
//! - **Every defence is a [`Config`] value.** Stream count, header list,
//!   field block and CONTINUATION count, HPACK table and strings, request
//!   bodies per stream and per connection, resets (RST_STREAM received,
//!   streams refused, and stream errors the peer provokes), SETTINGS, PING,
//!   PRIORITY, empty DATA and unknown frames per time window, SETTINGS ACK,
//!   stalled request bodies, zero send windows and idleness; control output
//!   stops input once [`Config::max_tx_backlog`] is queued.
//! - **Split-independent outcome.** Frames are handled only when whole, and
//!   a connection that has nothing left to do discards input at once, so
//!   the events do not depend on read boundaries (the `h2_server_conn` fuzz
//!   target and property tests check it).
//! - **Responses by reference.** Queued response bodies stay the
//!   application's `Bytes`; [`ServerConnection::poll_transmit_vectored`]
//!   hands large DATA payloads out uncopied for `writev`.

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
