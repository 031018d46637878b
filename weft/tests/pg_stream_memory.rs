//! A 1,000,000-row result streamed with `query_raw` keeps peak RSS growth
//! under 64 MiB: the driver stops reading the socket while the consumer is
//! behind. Alone in its own test binary so no other test's allocations
//! count.

mod pg_support;

use weft::rt::Backend;

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn stream_million<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let conn = pg_support::connect::<B>(&cfg).await;
    // Warm up (statement cache, buffers), then reset the peak if allowed.
    conn.query("SELECT 1", &[]).await.unwrap();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (rss0, _) = rss_kib();
    let mut rows = conn
        .query_raw(
            "SELECT g, repeat('x', 100) FROM generate_series(1, 1000000) g",
            &[],
        )
        .await
        .unwrap();
    let mut n = 0u64;
    let mut sum = 0i64;
    while let Some(r) = rows.next().await {
        let r = r.unwrap();
        sum += r.get::<i32>(0).unwrap() as i64;
        assert_eq!(r.get::<&str>(1).unwrap().len(), 100);
        n += 1;
    }
    assert_eq!(n, 1_000_000);
    assert_eq!(sum, 500_000_500_000);
    let (_, hwm) = rss_kib();
    let growth = hwm.saturating_sub(rss0);
    eprintln!(
        "{}: 1M rows (~{} MiB of row data) streamed, peak RSS growth {growth} KiB",
        B::NAME,
        1_000_000 * 120 / (1 << 20)
    );
    assert!(growth < 64 * 1024, "peak RSS grew by {growth} KiB");
    assert_eq!(conn.pending(), 0);
}

#[test]
fn million_rows_stream_in_bounded_memory() {
    #[cfg(feature = "epoll")]
    <weft::rt::Epoll as Backend>::block_on(stream_million::<weft::rt::Epoll>());
}
