//! HTTP/1.1 and HTTP/2 as Sans-IO state machines.
//!
//! Stub: the H1 half and the H2 half land with their issues.

pub mod h2;
