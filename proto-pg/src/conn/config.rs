//! Connection configuration.

use zeroize::Zeroizing;

use crate::auth::scram::Iterations;
use crate::limits::Limits;

/// Whether to ask the server for TLS first. This crate has no TLS yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SslMode {
    /// Send the `StartupMessage` directly (the default).
    #[default]
    Disable,
    /// Send `SSLRequest` first; continue in plaintext when the server
    /// answers `N`. A server that answers `S` fails the connection with
    /// [`Error::TlsUnavailable`](crate::Error::TlsUnavailable).
    Prefer,
    /// Refused by [`Connection::new`](crate::Connection::new): TLS is not
    /// implemented.
    Require,
}

/// Everything a [`Connection`](crate::Connection) needs to start up.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Database user name (`user` startup parameter). Required.
    pub user: String,
    /// Password for cleartext, MD5 or SCRAM authentication. Zeroed on drop.
    pub password: Option<Zeroizing<Vec<u8>>>,
    /// Database name; the server defaults it to the user name.
    pub database: Option<String>,
    /// `application_name` startup parameter.
    pub application_name: Option<String>,
    /// `options` startup parameter (command-line options for the backend).
    pub options: Option<String>,
    /// Further run-time parameters sent in the `StartupMessage`. Naming
    /// one of [`PINNED_PARAMS`](crate::conn::PINNED_PARAMS) here replaces
    /// the pinned value (text-format dates, intervals or floats may then
    /// fail to decode or lose precision).
    pub params: Vec<(String, String)>,
    /// TLS negotiation.
    pub ssl_mode: SslMode,
    /// The SCRAM client nonce (printable ASCII without `,`). The crate draws
    /// no random numbers: the caller supplies a fresh random nonce per
    /// connection (e.g. 18 random bytes, base64-encoded). Needed only if
    /// the server asks for SCRAM-SHA-256.
    pub scram_nonce: Option<String>,
    /// Accepted SCRAM iteration counts (default 4096..=1,000,000).
    pub scram_iterations: Iterations,
    /// Requested protocol minor version: 0 (3.0, the default) or 2 (3.2,
    /// PostgreSQL 18+, longer cancel keys). Older servers negotiate down.
    pub protocol_minor: u16,
    /// Decoder limits.
    pub limits: Limits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("database", &self.database)
            .field("application_name", &self.application_name)
            .field("ssl_mode", &self.ssl_mode)
            .field("protocol_minor", &self.protocol_minor)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A configuration for `user` with defaults elsewhere.
    pub fn new(user: impl Into<String>) -> Config {
        Config {
            user: user.into(),
            password: None,
            database: None,
            application_name: None,
            options: None,
            params: Vec::new(),
            ssl_mode: SslMode::Disable,
            scram_nonce: None,
            scram_iterations: Iterations::default(),
            protocol_minor: 0,
            limits: Limits::DEFAULT,
        }
    }

    /// Sets the password.
    pub fn password(mut self, password: impl AsRef<[u8]>) -> Config {
        self.password = Some(Zeroizing::new(password.as_ref().to_vec()));
        self
    }

    /// Sets the database.
    pub fn database(mut self, database: impl Into<String>) -> Config {
        self.database = Some(database.into());
        self
    }

    /// Sets `application_name`.
    pub fn application_name(mut self, name: impl Into<String>) -> Config {
        self.application_name = Some(name.into());
        self
    }

    /// Sets the SCRAM client nonce.
    pub fn scram_nonce(mut self, nonce: impl Into<String>) -> Config {
        self.scram_nonce = Some(nonce.into());
        self
    }

    /// Sets the TLS mode.
    pub fn ssl_mode(mut self, mode: SslMode) -> Config {
        self.ssl_mode = mode;
        self
    }

    /// Adds a run-time parameter to the `StartupMessage`.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Config {
        self.params.push((name.into(), value.into()));
        self
    }
}
