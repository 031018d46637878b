//! The HTTP layer: [`Server`], [`Router`], [`Request`], [`Response`].
//!
//! HTTP/1.1 (via `proto_http::h1`) and HTTP/2 (via `proto_http::h2`) are
//! served on the same port by the same [`Router`]: a connection starting
//! with the HTTP/2 preface speaks HTTP/2 (prior knowledge), an HTTP/1.1
//! request with a well-formed `Upgrade: h2c` is answered `101` and continues
//! as HTTP/2 with that request on stream 1, anything else is HTTP/1.1. The
//! streams of an HTTP/2 connection run their handlers concurrently.

pub mod body;
mod buf_pool;
mod conn;
mod future_pool;
mod h2;
pub mod middleware;
mod request;
mod response;
mod router;
mod server;
mod write;

pub use future_pool::HandlerFuture;
pub use proto_http::{Method, StatusCode};
pub use request::Request;
pub use response::{HeaderValue, Response};
pub use router::{Handler, Route, Router, handler};
pub use server::{RunningServer, Server};
