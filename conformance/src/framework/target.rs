//! Where the server under test is, and the options a suite was given.

use std::collections::BTreeMap;
use std::time::Duration;

use super::suite::{Endpoint, Suite};

/// The server under test and the run's options, shared by every case.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port` (for [`Endpoint::Addr`] suites) or the DSN (for
    /// [`Endpoint::Dsn`] suites).
    pub endpoint: String,
    /// Read, write and connect timeout of every socket operation.
    pub io_timeout: Duration,
    /// Wall-clock limit of one case.
    pub case_timeout: Duration,
    options: BTreeMap<&'static str, String>,
}

impl Target {
    /// A target with the suite's defaults: its default endpoint and option
    /// values, 2 s I/O timeout, 15 s per case.
    pub fn new(suite: &Suite) -> Target {
        let endpoint = match suite.endpoint {
            Endpoint::Addr(a) | Endpoint::Dsn(a) => a.to_string(),
        };
        Target {
            endpoint,
            io_timeout: Duration::from_secs(2),
            case_timeout: Duration::from_secs(15),
            options: suite
                .options
                .iter()
                .map(|o| (o.name, o.default.to_string()))
                .collect(),
        }
    }

    /// Sets the endpoint (address or DSN).
    pub fn addr(mut self, endpoint: impl Into<String>) -> Target {
        self.endpoint = endpoint.into();
        self
    }

    /// Sets the per-operation I/O timeout.
    pub fn io_timeout(mut self, t: Duration) -> Target {
        self.io_timeout = t;
        self
    }

    /// Sets the per-case wall-clock limit.
    pub fn case_timeout(mut self, t: Duration) -> Target {
        self.case_timeout = t;
        self
    }

    /// Sets a suite option. Returns `false` (and changes nothing) when the
    /// suite declared no option of that name.
    pub fn set_option(&mut self, name: &str, value: impl Into<String>) -> bool {
        match self.options.iter_mut().find(|(k, _)| **k == name) {
            Some((_, v)) => {
                *v = value.into();
                true
            }
            None => false,
        }
    }

    /// A suite option's value (its default when not set); empty for an
    /// option the suite did not declare.
    pub fn option(&self, name: &str) -> &str {
        self.options.get(name).map(String::as_str).unwrap_or("")
    }
}
