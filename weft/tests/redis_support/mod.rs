//! Shared helpers for the Redis integration tests (`tests/redis_*.rs`).
#![allow(dead_code)]

pub mod server;

use std::sync::atomic::{AtomicUsize, Ordering};

use weft::redis::{Config, Protocol};

/// The address in `var`, or `None` (test skipped) when it is unset, unless
/// `WEFT_REQUIRE_SERVICES=1`, which makes a missing server a failure.
pub fn addr(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(a) if !a.is_empty() => Some(a),
        _ => {
            if std::env::var("WEFT_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("{var} is not set but WEFT_REQUIRE_SERVICES=1");
            }
            eprintln!("skipped: {var} unset");
            None
        }
    }
}

/// A config for the plain server, speaking `protocol`.
pub fn config(protocol: Protocol) -> Option<Config> {
    let a = addr("WEFT_REDIS_ADDR")?;
    let c: Config = format!("redis://{a}").parse().expect("valid address");
    Some(c.protocol(protocol))
}

/// A config for the password-protected server (no credentials set).
pub fn auth_config(protocol: Protocol) -> Option<Config> {
    let a = addr("WEFT_REDIS_AUTH_ADDR")?;
    let c: Config = format!("redis://{a}").parse().expect("valid address");
    Some(c.protocol(protocol))
}

/// A key prefix unique to this test run and call.
pub fn prefix(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "weft-test:{test}:{}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Both protocols.
pub const PROTOCOLS: [Protocol; 2] = [Protocol::Resp3, Protocol::Resp2];

/// A comma-separated address list in `var` (skipped as [`addr`] says).
pub fn addr_list(var: &str) -> Option<Vec<String>> {
    Some(addr(var)?.split(',').map(|a| a.trim().to_owned()).collect())
}

/// Polls `check` every 50 ms until it is true or `secs` seconds passed;
/// false on timeout. For waiting on a topology change, not for timing.
pub async fn eventually<F: std::future::Future<Output = bool>>(
    secs: u64,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if check().await {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        weft::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
