//! HTTP/1.1 (RFC 9112) as Sans-IO state machines.

#[allow(dead_code)] // wired into the connection in the next slice
mod body;
mod date;
mod head;
mod limits;
mod parse;

pub use date::{HttpDate, IMF_FIXDATE_LEN};
pub use head::{BodyKind, Headers, INLINE_FIELDS, RequestHead, ResponseHeadIn, Version};
pub use limits::{Config, ContinuePolicy, Limits};
pub use parse::{
    check_request_split_invariant, decode_request, decode_request_split, decode_response,
};
