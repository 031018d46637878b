//! One conformance case and what it returns.

use std::fmt;
use std::io;

use super::target::Target;

/// How strongly the specification requires what a case checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// A MUST (or MUST NOT): a failure fails the run.
    Must,
    /// A SHOULD (or a widely relied-on default): a failure is a warning.
    Should,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        })
    }
}

/// One check against a server.
#[derive(Clone, Copy)]
pub struct Case {
    /// The specification section, e.g. `9112-6.3` or `55.2.3`; what
    /// `--section` filters on.
    pub section: &'static str,
    /// What is checked, in one line.
    pub title: &'static str,
    /// MUST (failure) or SHOULD (warning).
    pub level: Level,
    /// The check itself. It opens its own connections to the target.
    pub run: fn(&Target) -> CaseResult,
}

impl Case {
    /// A MUST-level case.
    pub const fn must(
        section: &'static str,
        title: &'static str,
        run: fn(&Target) -> CaseResult,
    ) -> Case {
        Case {
            section,
            title,
            level: Level::Must,
            run,
        }
    }

    /// A SHOULD-level case: its failure is reported as a warning.
    pub const fn should(
        section: &'static str,
        title: &'static str,
        run: fn(&Target) -> CaseResult,
    ) -> Case {
        Case {
            section,
            title,
            level: Level::Should,
            run,
        }
    }
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("section", &self.section)
            .field("title", &self.title)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

/// A passed case, with an optional note on how it passed (for example which
/// of two allowed behaviours the server chose).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// Shown after the case line when present.
    pub note: Option<String>,
}

impl Pass {
    /// A plain pass.
    pub fn ok() -> Pass {
        Pass { note: None }
    }

    /// A pass with a note.
    pub fn note(note: impl Into<String>) -> Pass {
        Pass {
            note: Some(note.into()),
        }
    }
}

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    /// The server did something other than what the specification requires.
    Mismatch {
        /// What the specification requires.
        expected: String,
        /// What the server did.
        seen: String,
    },
    /// The case does not apply to this server (a feature it lacks, a
    /// resource the case needs); neither a pass nor a failure.
    Skip(String),
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fail::Mismatch { expected, seen } => write!(f, "expected {expected}, seen {seen}"),
            Fail::Skip(why) => write!(f, "skipped: {why}"),
        }
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Mismatch {
            expected: "the exchange to complete".into(),
            seen: format!("I/O error: {e}"),
        }
    }
}

/// What a case returns.
pub type CaseResult = Result<Pass, Fail>;

/// A [`Fail::Mismatch`].
pub fn fail(expected: impl Into<String>, seen: impl Into<String>) -> Fail {
    Fail::Mismatch {
        expected: expected.into(),
        seen: seen.into(),
    }
}

/// A [`Fail::Skip`].
pub fn skip(why: impl Into<String>) -> Fail {
    Fail::Skip(why.into())
}

/// `Ok(())` when `cond` holds, else a mismatch whose "seen" is computed
/// lazily.
pub fn ensure(
    cond: bool,
    expected: impl Into<String>,
    seen: impl FnOnce() -> String,
) -> Result<(), Fail> {
    if cond {
        Ok(())
    } else {
        Err(fail(expected, seen()))
    }
}

/// `Ok(())` when `seen == expected`, else a mismatch showing both with
/// `Debug`.
pub fn expect_eq<T: PartialEq + fmt::Debug + ?Sized>(expected: &T, seen: &T) -> Result<(), Fail> {
    if expected == seen {
        Ok(())
    } else {
        Err(fail(format!("{expected:?}"), format!("{seen:?}")))
    }
}
