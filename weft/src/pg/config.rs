//! Connection settings and the two DSN forms libpq accepts: the URL
//! (`postgres://user:pass@host:port/db?param=value`) and the keyword/value
//! string (`host=... port=... user=...`), with libpq's parameter names
//! (libpq "Connection Strings" and "Parameter Key Words").

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::time::Duration;

use super::error::Error;
use crate::pool;

/// Which server of a multi-host list is acceptable
/// (`target_session_attrs`, checked after connecting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TargetSessionAttrs {
    /// Any server (the default).
    #[default]
    Any,
    /// A server accepting writes (`transaction_read_only = off`).
    ReadWrite,
    /// A read-only server.
    ReadOnly,
    /// A server not in recovery (a primary).
    Primary,
    /// A server in recovery (a standby).
    Standby,
}

/// Everything needed to open a connection, plus the pool and driver limits.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Hosts and ports, tried in order until one accepts. Default
    /// `localhost:5432`.
    pub hosts: Vec<(String, u16)>,
    /// User name. Default `postgres`.
    pub user: String,
    /// Password for cleartext, MD5 or SCRAM-SHA-256 authentication.
    pub password: Option<String>,
    /// Database; the server defaults it to the user name.
    pub dbname: Option<String>,
    /// `application_name`, shown in `pg_stat_activity`.
    pub application_name: Option<String>,
    /// `options`: command-line options for the backend (`-c name=value`).
    pub options: Option<String>,
    /// Bounds each host's connect and start-up. Default 10 seconds.
    pub connect_timeout: Duration,
    /// Which host of the list is acceptable.
    pub target_session_attrs: TargetSessionAttrs,
    /// Lowest protocol minor version accepted (`min_protocol_version`,
    /// `3.0` or `3.2`): a server that negotiates below it is skipped.
    /// Default 0.
    pub min_protocol_minor: u16,
    /// Protocol minor version asked for (`max_protocol_version`, `3.0`,
    /// `3.2` or `latest`). 3.2 (PostgreSQL 18+) brings longer cancel
    /// keys; older servers negotiate down to 3.0. Default 0, as libpq.
    pub max_protocol_minor: u16,
    /// Bounds each query; on expiry the query is cancelled with a
    /// `CancelRequest` (or its results discarded) and the call fails with
    /// [`Error::Timeout`]. Default none.
    pub query_timeout: Option<Duration>,
    /// Prepared statements kept per connection (least recently used
    /// closed first). Default 256; 0 prepares every query afresh with the
    /// unnamed statement.
    pub statement_cache_size: usize,
    /// Rows buffered for a streaming result before the driver stops
    /// reading the socket (backpressure). Default 512.
    pub stream_buffer_rows: usize,
    /// Pool limits for [`Client`](super::Client).
    pub pool: pool::Config,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("hosts", &self.hosts)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("dbname", &self.dbname)
            .field("application_name", &self.application_name)
            .field("options", &self.options)
            .field("connect_timeout", &self.connect_timeout)
            .field("target_session_attrs", &self.target_session_attrs)
            .field("min_protocol_minor", &self.min_protocol_minor)
            .field("max_protocol_minor", &self.max_protocol_minor)
            .field("query_timeout", &self.query_timeout)
            .field("statement_cache_size", &self.statement_cache_size)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            hosts: vec![("localhost".into(), 5432)],
            user: "postgres".into(),
            password: None,
            dbname: None,
            application_name: None,
            options: None,
            connect_timeout: Duration::from_secs(10),
            target_session_attrs: TargetSessionAttrs::Any,
            min_protocol_minor: 0,
            max_protocol_minor: 0,
            query_timeout: None,
            statement_cache_size: 256,
            stream_buffer_rows: 512,
            pool: pool::Config::default(),
        }
    }
}

fn bad(m: impl Into<String>) -> Error {
    Error::Config(m.into())
}

impl Config {
    /// Parses a DSN: a `postgres://` / `postgresql://` URL or a libpq
    /// keyword/value string.
    ///
    /// ```
    /// use weft::pg::Config;
    ///
    /// let c = Config::parse("postgres://weft:s%40cret@db1:5433,db2/app?application_name=api").unwrap();
    /// assert_eq!(c.hosts, [("db1".to_string(), 5433), ("db2".to_string(), 5432)]);
    /// assert_eq!((c.user.as_str(), c.password.as_deref()), ("weft", Some("s@cret")));
    /// assert_eq!(c.dbname.as_deref(), Some("app"));
    ///
    /// let c = Config::parse("host=127.0.0.1 port=54329 user=weft dbname='my db' connect_timeout=3").unwrap();
    /// assert_eq!(c.dbname.as_deref(), Some("my db"));
    /// assert_eq!(c.connect_timeout, std::time::Duration::from_secs(3));
    ///
    /// assert!(Config::parse("host=db sslmode=require").is_err()); // no TLS
    /// ```
    pub fn parse(dsn: &str) -> Result<Config, Error> {
        let dsn = dsn.trim();
        if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
            Config::from_url(dsn)
        } else {
            Config::from_key_values(dsn)
        }
    }

    /// Parses a `postgres://user:password@host1:port1,host2/dbname?k=v` URL.
    /// User, password, database and values may be percent-encoded.
    pub fn from_url(url: &str) -> Result<Config, Error> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| bad("missing postgres:// scheme"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let mut kv: Vec<(String, String)> = Vec::new();
        let hostlist = match authority.rsplit_once('@') {
            Some((userinfo, hl)) => {
                let (user, pass) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                if !user.is_empty() {
                    kv.push(("user".into(), decode(user)?));
                }
                if let Some(p) = pass {
                    kv.push(("password".into(), decode(p)?));
                }
                hl
            }
            None => authority,
        };
        let mut hosts = Vec::new();
        let mut ports = Vec::new();
        for hp in hostlist.split(',').filter(|s| !s.is_empty()) {
            let (h, p) = if let Some(v6) = hp.strip_prefix('[') {
                let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed [ in URL"))?;
                (h, after.strip_prefix(':'))
            } else {
                match hp.rsplit_once(':') {
                    Some((h, p)) => (h, Some(p)),
                    None => (hp, None),
                }
            };
            hosts.push(decode(h)?);
            ports.push(p.unwrap_or("").to_owned());
        }
        if !hosts.is_empty() {
            kv.push(("host".into(), hosts.join(",")));
            kv.push(("port".into(), ports.join(",")));
        }
        if !path.is_empty() {
            kv.push(("dbname".into(), decode(path)?));
        }
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            if pair.is_empty() {
                continue;
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            kv.push((decode(k)?, decode(v)?));
        }
        Config::from_pairs(kv)
    }

    /// Parses libpq's `keyword=value` form; values may be single-quoted
    /// with `\'` and `\\` escapes.
    pub fn from_key_values(s: &str) -> Result<Config, Error> {
        let mut kv = Vec::new();
        let mut chars = s.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c.is_whitespace() {
                    break;
                }
                key.push(c);
                chars.next();
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.next() != Some('=') {
                return Err(bad(format!("missing = after {key:?}")));
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut value = String::new();
            if chars.peek() == Some(&'\'') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('\\') => value.push(chars.next().ok_or_else(|| bad("dangling \\"))?),
                        Some('\'') => break,
                        Some(c) => value.push(c),
                        None => return Err(bad("unterminated quoted value")),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    chars.next();
                    if c == '\\' {
                        value.push(chars.next().ok_or_else(|| bad("dangling \\"))?);
                    } else {
                        value.push(c);
                    }
                }
            }
            kv.push((key, value));
        }
        Config::from_pairs(kv)
    }

    fn from_pairs(kv: Vec<(String, String)>) -> Result<Config, Error> {
        let mut c = Config::default();
        let mut hosts: Option<Vec<String>> = None;
        let mut ports: Option<Vec<String>> = None;
        let mut max_given = false;
        for (k, v) in kv {
            match k.as_str() {
                "host" | "hostaddr" => {
                    hosts = Some(v.split(',').map(|s| s.trim().to_owned()).collect())
                }
                "port" => ports = Some(v.split(',').map(|s| s.trim().to_owned()).collect()),
                "user" => c.user = v,
                "password" => c.password = Some(v),
                "dbname" => c.dbname = Some(v),
                "application_name" => c.application_name = Some(v),
                "options" => c.options = Some(v),
                "connect_timeout" => {
                    let s: u64 = v
                        .parse()
                        .map_err(|_| bad("connect_timeout is not a number"))?;
                    // libpq: zero (or negative) means wait indefinitely;
                    // values under 2 seconds are raised to 2.
                    c.connect_timeout = match s {
                        0 => Duration::from_secs(u32::MAX as u64),
                        s => Duration::from_secs(s.max(2)),
                    };
                }
                "target_session_attrs" => {
                    c.target_session_attrs = match v.as_str() {
                        "any" => TargetSessionAttrs::Any,
                        "read-write" => TargetSessionAttrs::ReadWrite,
                        "read-only" => TargetSessionAttrs::ReadOnly,
                        "primary" => TargetSessionAttrs::Primary,
                        "standby" => TargetSessionAttrs::Standby,
                        other => {
                            return Err(bad(format!(
                                "target_session_attrs={other} is not supported"
                            )));
                        }
                    }
                }
                "min_protocol_version" | "max_protocol_version" => {
                    let minor = match (k.as_str(), v.as_str()) {
                        (_, "3.0") => 0,
                        (_, "3.2") => 2,
                        ("max_protocol_version", "latest") => 2,
                        _ => {
                            return Err(bad(format!(
                                "{k}={v} is not supported (3.0, 3.2{})",
                                if k == "max_protocol_version" {
                                    ", latest"
                                } else {
                                    ""
                                }
                            )));
                        }
                    };
                    if k == "min_protocol_version" {
                        c.min_protocol_minor = minor;
                    } else {
                        c.max_protocol_minor = minor;
                        max_given = true;
                    }
                }
                "sslmode" => match v.as_str() {
                    "disable" | "allow" | "prefer" => {}
                    other => {
                        return Err(bad(format!(
                            "sslmode={other}: TLS is not implemented by this driver; use sslmode=disable"
                        )));
                    }
                },
                // Accepted and ignored, as libpq ignores what it does not
                // use (TLS file names, keepalives, ...).
                _ => {}
            }
        }
        if !max_given {
            // Asking for at least 3.2 asks for 3.2.
            c.max_protocol_minor = c.max_protocol_minor.max(c.min_protocol_minor);
        }
        if c.min_protocol_minor > c.max_protocol_minor {
            return Err(bad("min_protocol_version is above max_protocol_version"));
        }
        if let Some(hosts) = hosts {
            let ports = ports.unwrap_or_default();
            if ports.len() > 1 && ports.len() != hosts.len() {
                return Err(bad("port list must have one entry or one per host"));
            }
            let mut out = Vec::with_capacity(hosts.len());
            for (i, h) in hosts.into_iter().enumerate() {
                let p = match ports.get(i).or(ports.first()).map(String::as_str) {
                    None | Some("") => 5432,
                    Some(p) => p.parse().map_err(|_| bad(format!("bad port {p:?}")))?,
                };
                if h.starts_with('/') {
                    return Err(bad("Unix-domain sockets are not supported; use a TCP host"));
                }
                out.push((if h.is_empty() { "localhost".into() } else { h }, p));
            }
            c.hosts = out;
        } else if let Some(ports) = ports {
            let p = ports.first().map(String::as_str).unwrap_or("");
            if !p.is_empty() {
                c.hosts[0].1 = p.parse().map_err(|_| bad(format!("bad port {p:?}")))?;
            }
        }
        Ok(c)
    }

    /// A config for `user` on one host.
    pub fn new(host: impl Into<String>, port: u16, user: impl Into<String>) -> Config {
        Config {
            hosts: vec![(host.into(), port)],
            user: user.into(),
            ..Config::default()
        }
    }

    /// Sets the password.
    pub fn password(mut self, p: impl Into<String>) -> Self {
        self.password = Some(p.into());
        self
    }

    /// Sets the database.
    pub fn dbname(mut self, d: impl Into<String>) -> Self {
        self.dbname = Some(d.into());
        self
    }

    /// Sets `application_name`.
    pub fn application_name(mut self, n: impl Into<String>) -> Self {
        self.application_name = Some(n.into());
        self
    }

    /// Sets the query timeout.
    pub fn query_timeout(mut self, t: Option<Duration>) -> Self {
        self.query_timeout = t;
        self
    }

    /// Sets the connect timeout (per host).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Sets the prepared-statement cache size.
    pub fn statement_cache_size(mut self, n: usize) -> Self {
        self.statement_cache_size = n;
        self
    }

    /// Sets the pool configuration.
    pub fn pool(mut self, pool: pool::Config) -> Self {
        self.pool = pool;
        self
    }

    /// The addresses of host `i`. IP literals need no lookup; names go
    /// through the system resolver (a blocking call).
    pub(crate) fn resolve(&self, i: usize) -> Result<Vec<SocketAddr>, Error> {
        let (host, port) = &self.hosts[i];
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, *port)]);
        }
        let addrs: Vec<SocketAddr> = (host.as_str(), *port).to_socket_addrs()?.collect();
        if addrs.is_empty() {
            return Err(bad(format!("{host} resolves to no address")));
        }
        Ok(addrs)
    }

    /// The Sans-IO start-up settings, with a fresh SCRAM nonce.
    pub(crate) fn proto_config(&self) -> Result<proto_pg::Config, Error> {
        let mut c = proto_pg::Config::new(self.user.clone()).scram_nonce(nonce()?);
        if let Some(p) = &self.password {
            c = c.password(p);
        }
        if let Some(d) = &self.dbname {
            c = c.database(d.clone());
        }
        if let Some(a) = &self.application_name {
            c = c.application_name(a.clone());
        }
        if let Some(o) = &self.options {
            c.options = Some(o.clone());
        }
        if !matches!(self.max_protocol_minor, 0 | 2) || self.min_protocol_minor > 2 {
            return Err(bad("protocol versions are 3.0 or 3.2"));
        }
        c.protocol_minor = self.max_protocol_minor;
        Ok(c)
    }
}

/// 18 random bytes from the kernel, hex-encoded (printable, no comma), as
/// RFC 5802 asks of a client nonce.
fn nonce() -> Result<String, Error> {
    use std::io::Read;
    let mut b = [0u8; 18];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

impl FromStr for Config {
    type Err = Error;

    fn from_str(s: &str) -> Result<Config, Error> {
        Config::parse(s)
    }
}

fn decode(s: &str) -> Result<String, Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad("bad percent escape in URL"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad("URL component is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = Config::parse("postgresql://u@[::1]:6000/d?connect_timeout=1&options=-c%20x%3Dy&target_session_attrs=read-write&application_name=a%20b").unwrap();
        assert_eq!(c.hosts, [("::1".to_string(), 6000)]);
        assert_eq!(c.user, "u");
        assert_eq!(c.password, None);
        assert_eq!(c.connect_timeout, Duration::from_secs(2));
        assert_eq!(c.options.as_deref(), Some("-c x=y"));
        assert_eq!(c.application_name.as_deref(), Some("a b"));
        assert_eq!(c.target_session_attrs, TargetSessionAttrs::ReadWrite);
        let c = Config::parse("postgres://").unwrap();
        assert_eq!(c.hosts, [("localhost".to_string(), 5432)]);
        let c = Config::parse("postgres://h1:1,h2:2,h3/x").unwrap();
        assert_eq!(c.hosts.len(), 3);
        assert_eq!(c.hosts[2], ("h3".into(), 5432));
        for bad in [
            "postgres://h:port",
            "postgres://h/?sslmode=require",
            "postgres://h/?sslmode=verify-full",
            "postgres://u:%zz@h",
            "postgres://[::1/x",
            "postgres://h/?target_session_attrs=prefer-standby",
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
        let e = Config::parse("postgres://h/?sslmode=require").unwrap_err();
        assert!(e.to_string().contains("TLS is not implemented"), "{e}");
    }

    #[test]
    fn key_values() {
        let c = Config::parse(
            r"host=a,b port=1,2 user=me password='it\'s' dbname = x options='-c search_path=s'",
        )
        .unwrap();
        assert_eq!(c.hosts, [("a".to_string(), 1), ("b".to_string(), 2)]);
        assert_eq!(c.password.as_deref(), Some("it's"));
        assert_eq!(c.dbname.as_deref(), Some("x"));
        assert_eq!(c.options.as_deref(), Some("-c search_path=s"));
        let c = Config::parse("port=7 sslmode=prefer").unwrap();
        assert_eq!(c.hosts, [("localhost".to_string(), 7)]);
        for bad in [
            "host",
            "host=a,b port=1,2,3",
            "dbname='x",
            "sslmode=require",
            "host=/tmp",
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn protocol_versions() {
        let c = Config::parse("max_protocol_version=latest min_protocol_version=3.2").unwrap();
        assert_eq!((c.min_protocol_minor, c.max_protocol_minor), (2, 2));
        assert_eq!(c.proto_config().unwrap().protocol_minor, 2);
        let c = Config::parse("postgres://h/?max_protocol_version=3.0").unwrap();
        assert_eq!(c.proto_config().unwrap().protocol_minor, 0);
        let c = Config::parse("min_protocol_version=3.2").unwrap();
        assert_eq!((c.min_protocol_minor, c.max_protocol_minor), (2, 2));
        for bad in [
            "max_protocol_version=3.1",
            "min_protocol_version=latest",
            "max_protocol_version=4.0",
            "min_protocol_version=3.2 max_protocol_version=3.0",
        ] {
            assert!(Config::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_redacts_the_password() {
        let c = Config::parse("postgres://u:hunter2@h").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
