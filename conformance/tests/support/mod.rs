//! Shared helpers for the suites' integration tests.
#![allow(dead_code)]

use std::time::Duration;

use conformance::framework::{Filter, Report, Status, Target, run};
use conformance::suites;
use weft::http::{Request, Response, Router, RunningServer, Server, StatusCode};
use weft::rt::BackendKind;

/// The value of `var`, or `None` (test skipped, with a printed line) when
/// it is unset, unless `WEFT_REQUIRE_SERVICES=1`, which makes a missing
/// server a failure.
pub fn env(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            if std::env::var("WEFT_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("{var} is not set but WEFT_REQUIRE_SERVICES=1");
            }
            eprintln!("skipped: {var} unset");
            None
        }
    }
}

/// Runs suite `name` against `endpoint`, printing its report.
pub fn run_suite(name: &str, endpoint: &str) -> Report {
    let suite = suites::find(name).expect("suite exists");
    let target = Target::new(suite)
        .addr(endpoint)
        .io_timeout(Duration::from_secs(5))
        .case_timeout(Duration::from_secs(30));
    let mut out = Vec::new();
    let report = run(suite, &target, &Filter::all(), &mut out);
    println!("{}", String::from_utf8_lossy(&out));
    report
}

/// Panics with every failure when a MUST-level case failed.
pub fn assert_passed(report: &Report) {
    let failures: Vec<String> = report.failures().map(|e| e.to_string()).collect();
    assert!(
        failures.is_empty(),
        "{}\n{}",
        report.summary(),
        failures.join("\n")
    );
    assert!(
        report.pass_count() > 0,
        "nothing passed: {}",
        report.summary()
    );
}

/// The sections of cases that ended with `tag`, with their titles.
pub fn with_tag(report: &Report, tag: &str) -> Vec<(String, String)> {
    report
        .entries
        .iter()
        .filter(|e| e.status.tag() == tag)
        .map(|e| (e.section.to_string(), e.title.to_string()))
        .collect()
}

/// Runs suite `name` against [`demo_on`] each enabled backend and checks
/// that it fails exactly the `known` cases (section, title), skips none
/// and passes at least `min_pass`.
pub fn suite_on_every_backend(name: &str, known: &[(&str, &str)], min_pass: usize) {
    let known: Vec<(String, String)> = known
        .iter()
        .map(|(s, t)| (s.to_string(), t.to_string()))
        .collect();
    for kind in BackendKind::enabled() {
        let server = demo_on(kind);
        let report = run_suite(name, &server.local_addr().to_string());
        server.shutdown(Duration::from_secs(2)).unwrap();
        let failed = with_tag(&report, "FAIL");
        assert_eq!(failed, known, "{kind}: {}", report.summary());
        // Every case applies to the demo routes: nothing skipped.
        assert_eq!(report.skip_count(), 0, "{kind}: {}", report.summary());
        assert!(
            report.pass_count() >= min_pass,
            "{kind}: {}",
            report.summary()
        );
    }
}

/// Whether `s` is a pass.
pub fn passed(s: &Status) -> bool {
    matches!(s, Status::Pass(_))
}

/// A weft server with the demo's static routes (`/`, `/plaintext`,
/// `/json`, `POST /echo`), the HTTP suites' target.
pub fn demo() -> RunningServer {
    demo_on(BackendKind::enabled()[0])
}

/// [`demo`] on the I/O backend `kind`.
pub fn demo_on(kind: BackendKind) -> RunningServer {
    let router = Router::new()
        .get("/", |_r: Request| async { "Hello, World!" })
        .get("/plaintext", |_r: Request| async { "Hello, World!" })
        .get("/json", |_r: Request| async {
            Response::json("{\"message\":\"Hello, World!\"}")
        })
        .post("/echo", |r: Request| async move {
            Response::status(StatusCode::OK)
                .content_type("application/octet-stream")
                .body(r.into_body())
        });
    Server::bind("127.0.0.1:0".parse().unwrap())
        .workers(2)
        .backend(kind)
        .serve(router)
        .expect("server starts")
}

/// Runs the `conformance` binary with `args`: exit code and all output.
pub fn conformance(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(args)
        .output()
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}
