//! Connection settings and `redis://` URLs.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use proto_resp::Protocol;

use super::error::Error;
use crate::pool;

/// Called with the keys a server invalidated (client-side caching,
/// `CLIENT TRACKING`); `None` means "flush everything" (the server sent a
/// null key list, e.g. after `FLUSHALL`).
pub type InvalidationCallback = Arc<dyn Fn(Option<Vec<Bytes>>) + Send + Sync>;

/// How to reach and greet a Redis server.
///
/// Parsed from `redis://[[user]:password@]host[:port][/db][?protocol=resp2]`
/// with [`Config::from_url`] (or `str::parse`), or built field by field.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Host name or IP address.
    pub host: String,
    /// TCP port (default 6379).
    pub port: u16,
    /// ACL user (`AUTH user pass`); `None` is Redis' `default` user.
    pub username: Option<String>,
    /// Password, if the server requires one.
    pub password: Option<String>,
    /// Logical database (`SELECT`).
    pub database: i64,
    /// RESP3 (the default: `HELLO 3`, falling back to RESP2 when the server
    /// is too old) or RESP2 only.
    pub protocol: Protocol,
    /// `CLIENT SETNAME` during the handshake.
    pub client_name: Option<String>,
    /// Bound on TCP connect plus handshake. Default 5 seconds.
    pub connect_timeout: Duration,
    /// Bound on each request of the [`Client`](super::Client); `None` (the
    /// default) waits as long as the server takes. A timed-out request's
    /// reply is discarded when it arrives, so the connection stays in step.
    /// Blocking commands are bounded too (and their connection is then
    /// closed): give them a server-side timeout shorter than this one.
    pub response_timeout: Option<Duration>,
    /// The per-worker pool behind a [`Client`](super::Client).
    pub pool: pool::Config,
    /// Client-side caching: when set, every connection of a
    /// [`Client`](super::Client) sends `CLIENT TRACKING ON` after the
    /// handshake and delivers invalidations here (RESP3 only).
    pub on_invalidate: Option<InvalidationCallback>,
    /// Limits on what the server may send.
    pub limits: proto_resp::Limits,
    /// Send `READONLY` after the handshake: reads served by a cluster
    /// replica (set by [`ClusterClient`](super::ClusterClient) for its
    /// replica connections).
    pub(crate) readonly: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 6379,
            username: None,
            password: None,
            database: 0,
            protocol: Protocol::Resp3,
            client_name: None,
            connect_timeout: Duration::from_secs(5),
            response_timeout: None,
            pool: pool::Config::default().max_open(8),
            on_invalidate: None,
            limits: proto_resp::Limits::DEFAULT,
            readonly: false,
        }
    }
}

/// Redacts the password.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("database", &self.database)
            .field("protocol", &self.protocol)
            .field("client_name", &self.client_name)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("pool", &self.pool)
            .field("on_invalidate", &self.on_invalidate.is_some())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Parses `redis://[[user]:password@]host[:port][/db][?protocol=resp2|resp3]`.
    ///
    /// User and password may be percent-encoded. `rediss://` (TLS) is not
    /// supported.
    ///
    /// ```
    /// let c = weft::redis::Config::from_url("redis://weft:s%40cret@localhost:6380/2?protocol=resp2").unwrap();
    /// assert_eq!((c.host.as_str(), c.port, c.database), ("localhost", 6380, 2));
    /// assert_eq!(c.username.as_deref(), Some("weft"));
    /// assert_eq!(c.password.as_deref(), Some("s@cret"));
    /// ```
    pub fn from_url(url: &str) -> Result<Config, Error> {
        let bad = |m: &str| Error::Config(format!("{m} in redis URL"));
        let rest = if let Some(r) = url.strip_prefix("redis://") {
            r
        } else if url.starts_with("rediss://") {
            return Err(Error::Config("rediss:// (TLS) is not supported".into()));
        } else {
            return Err(bad("missing redis:// scheme"));
        };
        let mut cfg = Config::default();
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let hostport = match authority.rsplit_once('@') {
            Some((userinfo, hp)) => {
                let (user, pass) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                match pass {
                    Some(p) => {
                        if !user.is_empty() {
                            cfg.username =
                                Some(percent_decode(user).ok_or_else(|| bad("bad escape"))?);
                        }
                        cfg.password = Some(percent_decode(p).ok_or_else(|| bad("bad escape"))?);
                    }
                    // `redis://secret@host`: a lone userinfo is the password.
                    None if !user.is_empty() => {
                        cfg.password = Some(percent_decode(user).ok_or_else(|| bad("bad escape"))?);
                    }
                    None => {}
                }
                hp
            }
            None => authority,
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            (h, after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if !host.is_empty() {
            cfg.host = host.to_owned();
        }
        if let Some(p) = port {
            cfg.port = p.parse().map_err(|_| bad("bad port"))?;
        }
        if !path.is_empty() {
            cfg.database = path.parse().map_err(|_| bad("bad database number"))?;
        }
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            match pair.split_once('=') {
                Some(("protocol", "resp2" | "2")) => cfg.protocol = Protocol::Resp2,
                Some(("protocol", "resp3" | "3")) => cfg.protocol = Protocol::Resp3,
                Some(("protocol", _)) => return Err(bad("unknown protocol")),
                Some(("client_name", name)) => {
                    cfg.client_name = Some(percent_decode(name).ok_or_else(|| bad("bad escape"))?)
                }
                _ => {} // Unknown options are ignored, as other clients do.
            }
        }
        Ok(cfg)
    }

    /// Sets the password (and optionally the ACL user).
    pub fn auth(mut self, username: Option<&str>, password: &str) -> Self {
        self.username = username.map(str::to_owned);
        self.password = Some(password.to_owned());
        self
    }

    /// Sets the protocol.
    pub fn protocol(mut self, p: Protocol) -> Self {
        self.protocol = p;
        self
    }

    /// Sets the pool configuration.
    pub fn pool(mut self, pool: pool::Config) -> Self {
        self.pool = pool;
        self
    }

    /// Sets the response timeout.
    pub fn response_timeout(mut self, t: Option<Duration>) -> Self {
        self.response_timeout = t;
        self
    }

    /// Enables client-side caching with `callback` for invalidations.
    pub fn on_invalidate(
        mut self,
        callback: impl Fn(Option<Vec<Bytes>>) + Send + Sync + 'static,
    ) -> Self {
        self.on_invalidate = Some(Arc::new(callback));
        self
    }

    /// The first address the host resolves to. IP literals need no lookup;
    /// names go through the system resolver (a blocking call).
    pub fn socket_addr(&self) -> Result<SocketAddr, Error> {
        if let Ok(ip) = self.host.parse::<std::net::IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| Error::Config(format!("{} resolves to no address", self.host)))
    }

    /// The Sans-IO connection settings.
    /// This configuration aimed at `addr` (`host:port`, `[v6]:port`).
    pub fn with_address(&self, addr: &str) -> Result<Config, Error> {
        let bad = || Error::Config(format!("`{addr}` is not host:port"));
        let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let mut c = self.clone();
        c.host = host.to_owned();
        c.port = port.parse().map_err(|_| bad())?;
        Ok(c)
    }

    pub(crate) fn proto_config(&self) -> proto_resp::Config {
        let mut c = proto_resp::Config::new()
            .protocol(self.protocol)
            .database(self.database)
            .limits(self.limits);
        if let Some(p) = &self.password {
            c = c.password(p.clone());
            if let Some(u) = &self.username {
                c = c.username(u.clone());
            }
        }
        if let Some(n) = &self.client_name {
            c = c.client_name(n.clone());
        }
        c
    }
}

impl FromStr for Config {
    type Err = Error;

    fn from_str(s: &str) -> Result<Config, Error> {
        Config::from_url(s)
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let c = Config::from_url("redis://127.0.0.1:63790").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.database),
            ("127.0.0.1", 63790, 0)
        );
        assert!(c.password.is_none() && c.username.is_none());
        assert_eq!(c.protocol, Protocol::Resp3);

        let c = Config::from_url("redis://:defaultpass@h/3").unwrap();
        assert_eq!(c.password.as_deref(), Some("defaultpass"));
        assert_eq!(c.username, None);
        assert_eq!((c.port, c.database), (6379, 3));

        let c = Config::from_url("redis://secret@h").unwrap();
        assert_eq!(c.password.as_deref(), Some("secret"));

        let c = Config::from_url("redis://[::1]:7000?protocol=resp2").unwrap();
        assert_eq!((c.host.as_str(), c.port), ("::1", 7000));
        assert_eq!(c.protocol, Protocol::Resp2);
        assert_eq!(c.socket_addr().unwrap(), "[::1]:7000".parse().unwrap());

        for bad in [
            "http://x",
            "rediss://x",
            "redis://h:notaport",
            "redis://h/db",
            "redis://h?protocol=resp9",
            "redis://u:%zz@h",
        ] {
            assert!(Config::from_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = Config::from_url("redis://u:hunter2@h").unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && s.contains("redacted"));
    }
}
