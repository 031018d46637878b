//! The shared case and report framework every suite uses.
//!
//! - [`case`]: what a case is ([`Case`]), what it returns ([`CaseResult`])
//!   and the helpers to build failures.
//! - [`suite`]: a suite's name, how it finds its server, its options and
//!   its cases ([`Suite`]).
//! - [`target`]: where the server is and the suite's options ([`Target`]).
//! - [`runner`]: runs the selected cases, each on its own thread under a
//!   wall-clock limit, and prints one line per case ([`run`]).
//! - [`report`]: the outcome of a run and its summary line ([`Report`]).

pub mod case;
pub mod report;
pub mod runner;
pub mod suite;
pub mod target;

pub use case::{Case, CaseResult, Fail, Level, Pass, ensure, expect_eq, fail, skip};
pub use report::{Report, Status};
pub use runner::{Filter, run};
pub use suite::{Endpoint, Suite, SuiteOption};
pub use target::Target;
