//! The `resp` suite against the real Redis (`WEFT_REDIS_ADDR`).

mod support;

#[test]
fn resp_suite_passes_against_redis() {
    let Some(addr) = support::env("WEFT_REDIS_ADDR") else {
        return;
    };
    let report = support::run_suite("resp", &addr);
    support::assert_passed(&report);
    // Only the attribute case may be skipped (DEBUG is off by default).
    for (section, _) in support::with_tag(&report, "SKIP") {
        assert_eq!(
            section,
            "resp3/attribute",
            "unexpected skip: {}",
            report.summary()
        );
    }
}
