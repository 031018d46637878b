//! RESP2/RESP3 codec and client connection state, Sans-IO.

pub mod codec;
mod error;
mod frame;
mod limits;

pub use codec::Protocol;
pub use error::{DecodeError, DecodeErrorKind, Error, UsageError};
pub use frame::{Frame, FrameRef};
pub use limits::Limits;
mod cmd;
pub use cmd::{Cmd, CmdArg, CmdArgs};
pub mod invariants;
