//! PostgreSQL v3 frontend (client) protocol as a Sans-IO state machine.

pub mod auth;
pub mod error;
pub mod limits;
pub mod message;

pub use error::{AuthError, DecodeError, EncodeError, Error, UsageError};
pub use limits::Limits;
