//! The HTTP layer: [`Server`], [`Router`], [`Request`], [`Response`].
//!
//! Status: HTTP/1.1 is served (via `proto_http::h1`); HTTP/2 and h2c are to
//! come (issue 4).

mod conn;
pub mod middleware;
mod request;
mod response;
mod router;
mod server;

pub use proto_http::{Method, StatusCode};
pub use request::Request;
pub use response::{HeaderValue, Response};
pub use router::{BoxFuture, Handler, Route, Router, handler};
pub use server::{RunningServer, Server};
