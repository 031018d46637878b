//! HTTP/2 (RFC 9113). Only HPACK is being built so far.

pub mod hpack;
