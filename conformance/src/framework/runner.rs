//! Runs a suite's selected cases, each on its own thread under a
//! wall-clock limit, printing one line per case as it ends.

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use super::case::{Case, CaseResult, Fail, Level};
use super::report::{Entry, Report, Status};
use super::suite::Suite;
use super::target::Target;

/// Which cases to run: all, or those under the given sections.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    sections: Vec<String>,
}

impl Filter {
    /// Every case.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Cases under any of `sections`.
    pub fn sections<S: Into<String>>(sections: impl IntoIterator<Item = S>) -> Filter {
        Filter {
            sections: sections.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether `case` is selected. A section selects itself and everything
    /// under it: `6.3` selects `6.3` and `6.3.2`, not `6.30`. The RFC
    /// prefix of the h1 sections is optional: `6.3` also selects `9112-6.3`.
    /// Sections made of words select by `/`-separated prefix: `meta`
    /// selects `meta/mg`.
    pub fn matches(&self, case: &Case) -> bool {
        if self.sections.is_empty() {
            return true;
        }
        let id = case.section;
        let bare = id.split_once('-').map(|(_, rest)| rest);
        self.sections
            .iter()
            .any(|s| under(id, s) || bare.is_some_and(|b| under(b, s)))
    }
}

fn under(id: &str, section: &str) -> bool {
    match id.strip_prefix(section) {
        Some("") => true,
        Some(rest) => rest.starts_with('.') || rest.starts_with('/'),
        None => false,
    }
}

/// Runs the cases of `suite` selected by `filter` against `target`,
/// writing each case's line to `out` as it ends, then the summary line.
///
/// Every case runs on its own thread. One that neither returns nor panics
/// within [`Target::case_timeout`] fails as hung; its thread is left behind
/// (its sockets carry timeouts, so it ends on its own soon after). A panic
/// in a case is a failure showing the panic message.
pub fn run(suite: &Suite, target: &Target, filter: &Filter, out: &mut dyn Write) -> Report {
    let start = Instant::now();
    let target = Arc::new(target.clone());
    let mut entries = Vec::new();
    let _ = writeln!(
        out,
        "{} ({}) against {}",
        suite.name, suite.spec, target.endpoint
    );
    for case in (suite.cases)().into_iter().filter(|c| filter.matches(c)) {
        let t0 = Instant::now();
        let status = run_one(&case, &target);
        let entry = Entry::new(&case, status, t0.elapsed());
        let _ = writeln!(out, "  {entry}");
        let _ = out.flush();
        entries.push(entry);
    }
    let report = Report {
        suite: suite.name,
        endpoint: target.endpoint.clone(),
        entries,
        elapsed: start.elapsed(),
    };
    let _ = writeln!(out, "{}", report.summary());
    report
}

fn run_one(case: &Case, target: &Arc<Target>) -> Status {
    let (tx, rx) = mpsc::channel::<CaseResult>();
    let f = case.run;
    let t = Arc::clone(target);
    let spawned = thread::Builder::new()
        .name(format!("case {}", case.section))
        .spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(|| f(&t))).unwrap_or_else(|panic| {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                Err(Fail::Mismatch {
                    expected: "the case to run to completion".into(),
                    seen: format!("panic: {msg}"),
                })
            });
            let _ = tx.send(r);
        });
    if let Err(e) = spawned {
        return Status::Fail {
            expected: "a thread for the case".into(),
            seen: e.to_string(),
        };
    }
    let result = rx.recv_timeout(target.case_timeout).unwrap_or_else(|_| {
        Err(Fail::Mismatch {
            expected: format!("the case to finish within {:?}", target.case_timeout),
            seen: "it was still waiting on the server (hung)".into(),
        })
    });
    match result {
        Ok(pass) => Status::Pass(pass.note),
        Err(Fail::Skip(why)) => Status::Skip(why),
        Err(Fail::Mismatch { expected, seen }) => match case.level {
            Level::Must => Status::Fail { expected, seen },
            Level::Should => Status::Warn { expected, seen },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(section: &'static str) -> Case {
        Case::must(section, "t", |_| Ok(crate::framework::Pass::ok()))
    }

    #[test]
    fn section_filter_selects_subsections_only() {
        let f = Filter::sections(["6.3"]);
        assert!(f.matches(&case("9112-6.3")));
        assert!(f.matches(&case("9112-6.3.2")));
        assert!(f.matches(&case("6.3")));
        assert!(!f.matches(&case("9112-6.30")));
        assert!(!f.matches(&case("9112-6.1")));
        let f = Filter::sections(["meta"]);
        assert!(f.matches(&case("meta/mg")));
        assert!(!f.matches(&case("metadata")));
        let f = Filter::sections(["9110-9.3"]);
        assert!(f.matches(&case("9110-9.3.2")));
        assert!(!f.matches(&case("9112-9.3")));
        assert!(Filter::all().matches(&case("anything")));
    }

    fn suite(cases: fn() -> Vec<Case>) -> Suite {
        Suite {
            name: "test",
            spec: "none",
            endpoint: crate::framework::Endpoint::Addr("127.0.0.1:1"),
            options: &[],
            cases,
        }
    }

    #[test]
    fn runner_classifies_outcomes_and_bounds_hung_cases() {
        let s = suite(|| {
            vec![
                Case::must("1", "pass", |_| Ok(crate::framework::Pass::ok())),
                Case::must("2", "fail", |_| Err(crate::framework::fail("a", "b"))),
                Case::should("3", "warn", |_| Err(crate::framework::fail("a", "b"))),
                Case::must("4", "skip", |_| Err(crate::framework::skip("n/a"))),
                Case::must("5", "panic", |_| panic!("boom")),
                Case::must("6", "hang", |_| {
                    thread::sleep(std::time::Duration::from_secs(30));
                    Ok(crate::framework::Pass::ok())
                }),
            ]
        });
        let target = Target::new(&s).case_timeout(std::time::Duration::from_secs(2));
        let mut out = Vec::new();
        let r = run(&s, &target, &Filter::all(), &mut out);
        let tags: Vec<_> = r.entries.iter().map(|e| e.status.tag()).collect();
        assert_eq!(tags, ["PASS", "FAIL", "WARN", "SKIP", "FAIL", "FAIL"]);
        assert!(!r.passed());
        assert_eq!(
            (
                r.pass_count(),
                r.fail_count(),
                r.warn_count(),
                r.skip_count()
            ),
            (1, 3, 1, 1)
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("panic: boom"), "{text}");
        assert!(text.contains("hung"), "{text}");
        assert!(text.trim_end().ends_with(&r.summary()), "{text}");
    }
}
