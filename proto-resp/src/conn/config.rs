//! Connection configuration: protocol preference, credentials, limits.

use std::fmt;
use std::time::Duration;

use crate::codec::Protocol;
use crate::limits::Limits;

/// How a [`Connection`](crate::Connection) introduces itself.
#[derive(Clone)]
pub struct Config {
    pub(super) protocol: Protocol,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    pub(super) client_name: Option<String>,
    pub(super) database: i64,
    pub(super) limits: Limits,
    pub(super) handshake_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            protocol: Protocol::Resp3,
            username: None,
            password: None,
            client_name: None,
            database: 0,
            limits: Limits::DEFAULT,
            handshake_timeout: None,
        }
    }
}

impl Config {
    /// RESP3 preferred, no authentication, database 0, default limits.
    pub fn new() -> Self {
        Config::default()
    }

    /// The protocol to ask for. [`Protocol::Resp3`] (the default) sends
    /// `HELLO 3` and falls back to RESP2 if the server does not know it;
    /// [`Protocol::Resp2`] never sends `HELLO`.
    pub fn protocol(mut self, p: Protocol) -> Self {
        self.protocol = p;
        self
    }

    /// Authenticates with `AUTH [username] password` (or `HELLO 3 AUTH`).
    /// Without a username, Redis' `default` user is meant.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// The ACL user to authenticate as (needs a [`password`](Self::password)).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the connection name (`CLIENT SETNAME`, or `HELLO ... SETNAME`).
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = Some(name.into());
        self
    }

    /// Selects a logical database other than 0 during the handshake.
    pub fn database(mut self, db: i64) -> Self {
        self.database = db;
        self
    }

    /// Limits applied to every frame the server sends.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Fails the connection if the handshake has not finished this long
    /// after [`Connection::new`](crate::Connection::new).
    pub fn handshake_timeout(mut self, t: Duration) -> Self {
        self.handshake_timeout = Some(t);
        self
    }
}

/// Redacts the password.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("protocol", &self.protocol)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("client_name", &self.client_name)
            .field("database", &self.database)
            .field("limits", &self.limits)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}
