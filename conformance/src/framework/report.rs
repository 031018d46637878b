//! The outcome of a run: one entry per case and the summary line.

use std::fmt;
use std::time::Duration;

use super::case::{Case, Level};

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It passed; the note says how, when that matters.
    Pass(Option<String>),
    /// A MUST-level case failed.
    Fail {
        /// What the specification requires.
        expected: String,
        /// What the server did.
        seen: String,
    },
    /// A SHOULD-level case failed: reported, not fatal.
    Warn {
        /// What the specification recommends.
        expected: String,
        /// What the server did.
        seen: String,
    },
    /// The case did not apply.
    Skip(String),
}

impl Status {
    /// The four-letter tag printed before the case.
    pub fn tag(&self) -> &'static str {
        match self {
            Status::Pass(_) => "PASS",
            Status::Fail { .. } => "FAIL",
            Status::Warn { .. } => "WARN",
            Status::Skip(_) => "SKIP",
        }
    }
}

/// One case's entry in a [`Report`].
#[derive(Debug, Clone)]
pub struct Entry {
    /// The case's section.
    pub section: &'static str,
    /// The case's title.
    pub title: &'static str,
    /// The case's level.
    pub level: Level,
    /// How it ended.
    pub status: Status,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Entry {
    /// An entry for `case`.
    pub fn new(case: &Case, status: Status, elapsed: Duration) -> Entry {
        Entry {
            section: case.section,
            title: case.title,
            level: case.level,
            status,
            elapsed,
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {:<22} {}",
            self.status.tag(),
            self.section,
            self.title
        )?;
        match &self.status {
            Status::Pass(Some(note)) => write!(f, "\n        note:     {note}"),
            Status::Pass(None) => Ok(()),
            Status::Fail { expected, seen } | Status::Warn { expected, seen } => write!(
                f,
                "\n        expected: {expected}\n        seen:     {seen}"
            ),
            Status::Skip(why) => write!(f, "\n        skipped:  {why}"),
        }
    }
}

/// Every case of one run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The suite's name.
    pub suite: &'static str,
    /// Where it ran.
    pub endpoint: String,
    /// One entry per case run, in order.
    pub entries: Vec<Entry>,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
}

impl Report {
    fn count(&self, tag: &str) -> usize {
        self.entries
            .iter()
            .filter(|e| e.status.tag() == tag)
            .count()
    }

    /// Cases that passed.
    pub fn pass_count(&self) -> usize {
        self.count("PASS")
    }

    /// MUST-level cases that failed.
    pub fn fail_count(&self) -> usize {
        self.count("FAIL")
    }

    /// SHOULD-level cases that failed.
    pub fn warn_count(&self) -> usize {
        self.count("WARN")
    }

    /// Cases that did not apply.
    pub fn skip_count(&self) -> usize {
        self.count("SKIP")
    }

    /// True when no MUST-level case failed (warnings and skips allowed).
    pub fn passed(&self) -> bool {
        self.fail_count() == 0
    }

    /// The failed entries.
    pub fn failures(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(e.status, Status::Fail { .. }))
    }

    /// The status of the first case in `section` with `title`, for tests.
    pub fn status_of(&self, section: &str) -> Option<&Status> {
        self.entries
            .iter()
            .find(|e| e.section == section)
            .map(|e| &e.status)
    }

    /// The summary line, e.g.
    /// `resp 127.0.0.1:63790: 40 cases, 39 passed, 0 failed, 1 warning, 0 skipped (0.3 s)`.
    pub fn summary(&self) -> String {
        let warns = self.warn_count();
        format!(
            "{} {}: {} cases, {} passed, {} failed, {} warning{}, {} skipped ({:.1} s)",
            self.suite,
            self.endpoint,
            self.entries.len(),
            self.pass_count(),
            self.fail_count(),
            warns,
            if warns == 1 { "" } else { "s" },
            self.skip_count(),
            self.elapsed.as_secs_f64()
        )
    }
}
