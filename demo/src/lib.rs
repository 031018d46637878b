//! The Weft demo application: the TechEmpower routes (`/plaintext`,
//! `/json`, `/db`, `/queries`, `/updates`, `/fortunes`) plus `/cache/:key`
//! and `/mc/:key`, served by weft over its PostgreSQL, Redis and memcached
//! drivers.
//!
//! [`techempower`] holds what the routes compute, independent of any
//! server or driver, so the benchmark matrix's axum and actix-web servers
//! (in `weft-benches`) answer byte for byte what weft answers.

pub mod app;
pub mod techempower;
