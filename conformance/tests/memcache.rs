//! The `memcache` suite against the real memcached (first address of
//! `WEFT_MEMCACHED_ADDRS`).

mod support;

#[test]
fn memcache_suite_passes_against_memcached() {
    let Some(addrs) = support::env("WEFT_MEMCACHED_ADDRS") else {
        return;
    };
    let addr = addrs.split(',').next().expect("one address");
    let report = support::run_suite("memcache", addr);
    support::assert_passed(&report);
    assert_eq!(report.skip_count(), 0, "{}", report.summary());
}
