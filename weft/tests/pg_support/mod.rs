//! Shared helpers for the PostgreSQL integration tests (`tests/pg_*.rs`).
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use weft::pg::{Config, Connection};
use weft::rt::Backend;

/// The server from `WEFT_PG_HOST`/`WEFT_PG_PORT`/`WEFT_PG_DB`, or `None`
/// (test skipped) when unset, unless `WEFT_REQUIRE_SERVICES=1`, which makes
/// a missing server a failure.
pub fn server() -> Option<(String, u16, String)> {
    let get = |v: &str| std::env::var(v).ok().filter(|s| !s.is_empty());
    match (get("WEFT_PG_HOST"), get("WEFT_PG_PORT"), get("WEFT_PG_DB")) {
        (Some(h), Some(p), Some(d)) => Some((h, p.parse().expect("WEFT_PG_PORT"), d)),
        _ => {
            if std::env::var("WEFT_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("WEFT_PG_HOST/PORT/DB are not set but WEFT_REQUIRE_SERVICES=1");
            }
            eprintln!("skipped: WEFT_PG_HOST/WEFT_PG_PORT/WEFT_PG_DB unset");
            None
        }
    }
}

/// A config for `user` (with `password`) on the test server.
pub fn config_as(user: &str, password: Option<&str>) -> Option<Config> {
    let (h, p, d) = server()?;
    let mut c = Config::new(h, p, user)
        .dbname(d)
        .application_name("weft-tests");
    if let Some(pw) = password {
        c = c.password(pw);
    }
    Some(c)
}

/// A config for the trusted `weft` user.
pub fn config() -> Option<Config> {
    config_as("weft", None)
}

/// Connects with backend `B`.
pub async fn connect<B: Backend>(config: &Config) -> Connection {
    Connection::connect::<B>(config).await.expect("connect")
}

/// A name unique to this test run and call (for tables, channels).
pub fn unique(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "weft_{test}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs `f` on every backend compiled in: epoll, io_uring (which falls
/// back to epoll where the kernel refuses it) and std.
#[macro_export]
macro_rules! each_backend {
    ($f:ident) => {{
        #[cfg(feature = "epoll")]
        {
            eprintln!("backend: epoll");
            <weft::rt::Epoll as weft::rt::Backend>::block_on($f::<weft::rt::Epoll>());
        }
        #[cfg(feature = "uring")]
        {
            <weft::rt::Uring as weft::rt::Backend>::block_on(async {
                eprintln!("backend: uring (driver: {})", weft::rt::uring_driver());
                $f::<weft::rt::Uring>().await
            });
        }
        #[cfg(feature = "std")]
        {
            eprintln!("backend: std");
            <weft::rt::Std as weft::rt::Backend>::block_on($f::<weft::rt::Std>());
        }
    }};
}
