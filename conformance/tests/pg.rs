//! The `pg` suite against the real PostgreSQL (`WEFT_PG_HOST`,
//! `WEFT_PG_PORT`, `WEFT_PG_DB`; user `weft` and the roles `cargo xtask
//! services up` creates).

mod support;

#[test]
fn pg_suite_passes_against_postgres() {
    let (Some(host), Some(port), Some(db)) = (
        support::env("WEFT_PG_HOST"),
        support::env("WEFT_PG_PORT"),
        support::env("WEFT_PG_DB"),
    ) else {
        return;
    };
    let report = support::run_suite("pg", &format!("postgres://weft@{host}:{port}/{db}"));
    support::assert_passed(&report);
    assert_eq!(report.skip_count(), 0, "{}", report.summary());
}
