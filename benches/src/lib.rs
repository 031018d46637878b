//! Benchmarks against peer crates. The peers (tokio, hyper, redis-rs, ...) are
//! kept out of the default build; see `BENCHMARKS.md` for commands and figures.
