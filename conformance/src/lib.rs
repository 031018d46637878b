//! Spec conformance suites runnable against any server, in the spirit of
//! h2spec.
//!
//! Each suite ([`suites`]) is a list of [`Case`]s organised by the section
//! of the specification they check (RFC 9112/9110 for `h1`, RFC 9113 and RFC 7541 for `h2`, the RESP2/RESP3
//! specification for `resp`, memcached's `protocol.txt` for `memcache`, the
//! PostgreSQL manual's "Frontend/Backend Protocol" chapter for `pg`). A case
//! talks to the server over blocking `std::net` sockets with read and write
//! timeouts, and the [`framework::run`] runner also bounds every case with a
//! wall-clock limit, so nothing hangs.
//!
//! Cases only assume what the specification requires (MUST). A case built on
//! a SHOULD is [`Level::Should`]: its failure is reported as a warning and
//! does not fail the run.
//!
//! The `h1` suite speaks raw bytes so it judges any HTTP server by the same
//! rules; the `resp`, `memcache` and `pg` suites drive real servers through
//! the workspace's protocol crates, so they test those crates as much as the
//! servers.
//!
//! ```no_run
//! use conformance::framework::{Filter, Target, run};
//! use conformance::suites;
//!
//! let suite = suites::find("resp").unwrap();
//! let target = Target::new(suite).addr("127.0.0.1:63790");
//! let report = run(suite, &target, &Filter::all(), &mut std::io::stdout());
//! assert!(report.passed());
//! ```

pub mod framework;
pub mod suites;

pub use framework::{Case, CaseResult, Fail, Level, Pass};
