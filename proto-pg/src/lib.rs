//! PostgreSQL v3 frontend (client) protocol as a Sans-IO state machine.

pub mod auth;
pub mod conn;
pub mod error;
pub mod event;
pub mod fuzzing;
pub mod limits;
pub mod message;
pub mod types;

pub use conn::{BackendKey, Config, Connection, SslMode};
pub use error::{AuthError, DecodeError, EncodeError, Error, UsageError};
pub use event::{Event, Notification, ReqId};
pub use limits::Limits;
pub use message::{Format, Oid};
