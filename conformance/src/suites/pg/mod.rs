//! `pg`: PostgreSQL servers, against the manual's "Frontend/Backend
//! Protocol" chapter (section numbers of the PostgreSQL 16 manual, chapter
//! 55), driven through `proto-pg`'s `Connection` over a blocking socket.
//!
//! The DSN's user must be able to log in (trust or its password) and create
//! temporary tables. The authentication cases use three more roles, given
//! as `user:password` options; their defaults are the roles `cargo xtask
//! services up` creates. A case whose role does not exist is skipped.

mod client;
mod copy;
mod query;
mod session;
mod startup;

pub use client::{Dsn, parse_dsn};

use crate::framework::{Case, Endpoint, Suite, SuiteOption};

/// The suite.
pub const SUITE: Suite = Suite {
    name: "pg",
    spec: "PostgreSQL Frontend/Backend Protocol v3 (manual chapter 55)",
    endpoint: Endpoint::Dsn("postgres://weft@127.0.0.1:54329/weft"),
    options: &[
        SuiteOption {
            name: "clear-user",
            default: "weft_clear:clearpass",
            help: "user:password of a role authenticated by cleartext password",
        },
        SuiteOption {
            name: "md5-user",
            default: "weft_md5:md5pass",
            help: "user:password of a role authenticated by MD5",
        },
        SuiteOption {
            name: "scram-user",
            default: "weft_scram:scrampass",
            help: "user:password of a role authenticated by SCRAM-SHA-256",
        },
    ],
    cases,
};

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(startup::cases());
    v.extend(query::cases());
    v.extend(copy::cases());
    v.extend(session::cases());
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn dsn_parsing() {
        let d = super::parse_dsn("postgres://weft@127.0.0.1:54329/weft").unwrap();
        assert_eq!(
            (
                d.user.as_str(),
                d.password,
                d.addr.as_str(),
                d.database.as_deref()
            ),
            ("weft", None, "127.0.0.1:54329", Some("weft"))
        );
        let d = super::parse_dsn("postgresql://u:p@db.example/x?sslmode=disable").unwrap();
        assert_eq!(
            (
                d.password.as_deref(),
                d.addr.as_str(),
                d.database.as_deref()
            ),
            (Some("p"), "db.example:5432", Some("x"))
        );
        assert!(super::parse_dsn("mysql://u@h/d").is_err());
        assert!(super::parse_dsn("postgres://h:1/d").is_err());
    }
}
