//! What a suite declares: its name, how it reaches its server, its options
//! and its cases.

use super::case::Case;

/// How a suite is told where its server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `--addr host:port`, with this default.
    Addr(&'static str),
    /// `--dsn postgres://user[:password]@host:port/db`, with this default.
    Dsn(&'static str),
}

/// A suite-specific command-line option, `--<name> <value>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteOption {
    /// The option name without the dashes.
    pub name: &'static str,
    /// The value used when the option is not given.
    pub default: &'static str,
    /// One line of help.
    pub help: &'static str,
}

/// One conformance suite.
#[derive(Debug, Clone, Copy)]
pub struct Suite {
    /// The name on the command line (`h1`, `resp`, ...).
    pub name: &'static str,
    /// The specification it follows, in one line.
    pub spec: &'static str,
    /// How the server is addressed.
    pub endpoint: Endpoint,
    /// Further options.
    pub options: &'static [SuiteOption],
    /// The cases, in section order.
    pub cases: fn() -> Vec<Case>,
}
