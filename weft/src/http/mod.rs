//! The HTTP layer: [`Request`], [`Response`], [`Router`].
//!
//! The server that drives `proto_http`'s connections with these is being
//! built (issue 3).

mod request;
mod response;
mod router;

pub use proto_http::{Method, StatusCode};
pub use request::Request;
pub use response::{HeaderValue, Response};
pub use router::{BoxFuture, Handler, Route, Router, handler};
