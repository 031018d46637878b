//! HTTP/1.1 (RFC 9112) as Sans-IO state machines: a server [`Connection`],
//! a [`client::ClientConnection`], and the stateless codec underneath
//! ([`decode_request`], [`decode_response`]).

mod body;
#[doc(hidden)]
pub mod check;
pub mod client;
mod conn;
mod date;
pub(crate) mod encode;
mod event;
mod framing;
mod head;
mod limits;
mod parse;
mod scan;
mod state;

pub use conn::{Connection, is_h2_preface};
pub use date::{HttpDate, IMF_FIXDATE_LEN};
pub use encode::{Body, Header, ResponseHead};
pub use event::{Event, RequestId};
pub use head::{BodyKind, Headers, INLINE_FIELDS, RequestHead, ResponseHeadIn, Version};
pub use limits::{Config, ContinuePolicy, Limits};
pub use parse::{
    Decoded, check_request_split_invariant, decode_request, decode_request_split, decode_response,
};
