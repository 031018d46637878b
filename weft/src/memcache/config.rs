//! Connection and client settings.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use proto_memcache::Limits;

use super::error::Error;
use crate::pool;

pub use proto_memcache::Protocol;

/// One memcached server of a [`Client`](super::Client): its address, as
/// `host:port`, and its weight on the consistent-hashing ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    host: String,
    port: u16,
    weight: u32,
}

impl Server {
    /// A server at `host:port` (`127.0.0.1:11211`, `[::1]:11211`,
    /// `cache-1:11211`; a missing port means 11211) with weight 1.
    pub fn new(addr: &str) -> Result<Server, Error> {
        let addr = addr.trim();
        let bad = || Error::Config(format!("bad memcached server address {addr:?}"));
        let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(p) => (h, p.parse().map_err(|_| bad())?),
                None if after.is_empty() => (h, 11211),
                None => return Err(bad()),
            }
        } else {
            match addr.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
                None => (addr, 11211),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(bad());
        }
        Ok(Server {
            host: host.to_owned(),
            port,
            weight: 1,
        })
    }

    /// Sets the weight (at least 1): a server of weight 2 gets about twice
    /// the keys of one of weight 1.
    pub fn weight(mut self, weight: u32) -> Server {
        self.weight = weight.max(1);
        self
    }

    /// The host, as given.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The weight.
    pub fn get_weight(&self) -> u32 {
        self.weight
    }

    /// `host:port` (IPv6 hosts in brackets).
    pub fn name(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Resolves the address. An IP literal needs no lookup; a host name is
    /// looked up with the system resolver, which blocks the calling worker
    /// while it runs (it is done once per connect): prefer IP addresses on
    /// a busy server.
    pub fn socket_addr(&self) -> Result<SocketAddr, Error> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(Error::io)?
            .next()
            .ok_or_else(|| Error::Config(format!("{} resolves to nothing", self.name())))
    }
}

/// What a [`Client`](super::Client) does with the keys of a server it has
/// marked down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Failover {
    /// Requests for its keys fail with [`Error::ServerDown`] until it is
    /// retried. Keys never move, so no stale copy is ever read from another
    /// server.
    #[default]
    Fail,
    /// Its keys go to the next live server on the ring (as libmemcached's
    /// "auto eject hosts"), and come back once it answers again. A request
    /// whose connect failed (nothing was sent) is retried there at once.
    /// Values written during the outage stay on the stand-in server: if the
    /// server fails again, they can be read back stale (set a TTL).
    Rehash,
}

/// Settings for a [`Connection`](super::Connection) and a
/// [`Client`](super::Client).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The servers (a [`Connection`](super::Connection) uses none of them:
    /// it is given its address).
    pub servers: Vec<Server>,
    /// The protocol flavour every connection speaks. Default
    /// [`Protocol::Meta`].
    pub protocol: Protocol,
    /// Key and value limits (250-byte keys, 1 MiB values) and reply limits.
    pub limits: Limits,
    /// Longest time to establish a TCP connection. Default 1 second.
    pub connect_timeout: Duration,
    /// Longest wait for a reply (per [`Client`](super::Client) call).
    /// Default 2 seconds; `None` waits for ever.
    pub response_timeout: Option<Duration>,
    /// The per-worker, per-server pool. The reconnect backoff is the
    /// client's own (see `retry_interval`), so the pool's is kept short.
    pub pool: pool::Config,
    /// What happens to the keys of a server marked down.
    pub failover: Failover,
    /// How long a server that failed to connect stays marked down before it
    /// is tried again; doubled after each further failure, up to
    /// `max_retry_interval`. Default 1 second.
    pub retry_interval: Duration,
    /// The longest time a server stays marked down. Default 30 seconds.
    pub max_retry_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            servers: Vec::new(),
            protocol: Protocol::Meta,
            limits: Limits::default(),
            connect_timeout: Duration::from_secs(1),
            response_timeout: Some(Duration::from_secs(2)),
            pool: pool::Config::default()
                .max_open(4)
                .backoff(Duration::from_millis(1), Duration::from_millis(1)),
            failover: Failover::Fail,
            retry_interval: Duration::from_secs(1),
            max_retry_interval: Duration::from_secs(30),
        }
    }
}

impl Config {
    /// A configuration for the servers in `addrs`, a comma-separated list
    /// of `host:port` (the format of `WEFT_MEMCACHED_ADDRS`), each of
    /// weight 1.
    pub fn from_addrs(addrs: &str) -> Result<Config, Error> {
        let servers = addrs
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Server::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            servers,
            ..Config::default()
        })
    }

    /// Adds a server.
    pub fn server(mut self, server: Server) -> Self {
        self.servers.push(server);
        self
    }

    /// Sets [`Config::protocol`].
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// Sets [`Config::limits`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets [`Config::connect_timeout`].
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Sets [`Config::response_timeout`].
    pub fn response_timeout(mut self, d: Option<Duration>) -> Self {
        self.response_timeout = d;
        self
    }

    /// Sets [`Config::pool`].
    pub fn pool(mut self, pool: pool::Config) -> Self {
        self.pool = pool;
        self
    }

    /// Sets [`Config::failover`].
    pub fn failover(mut self, failover: Failover) -> Self {
        self.failover = failover;
        self
    }

    /// Sets [`Config::retry_interval`] and [`Config::max_retry_interval`].
    pub fn retry(mut self, interval: Duration, max: Duration) -> Self {
        self.retry_interval = interval;
        self.max_retry_interval = max.max(interval);
        self
    }

    pub(crate) fn proto_config(&self) -> proto_memcache::Config {
        let mut c = proto_memcache::Config::new(self.protocol);
        c.limits = self.limits.clone();
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_addresses() {
        let s = Server::new("127.0.0.1:11311").unwrap();
        assert_eq!(
            (s.host(), s.port(), s.get_weight()),
            ("127.0.0.1", 11311, 1)
        );
        assert_eq!(Server::new("cache").unwrap().port(), 11211);
        let v6 = Server::new("[::1]:11212").unwrap().weight(3);
        assert_eq!((v6.host(), v6.port(), v6.get_weight()), ("::1", 11212, 3));
        assert_eq!(v6.name(), "[::1]:11212");
        assert!(Server::new("a:b").is_err());
        assert!(Server::new(":1").is_err());
        assert!(Server::new("[::1").is_err());
        let c = Config::from_addrs("127.0.0.1:1, 127.0.0.1:2,").unwrap();
        assert_eq!(c.servers.len(), 2);
        assert_eq!(c.servers[1].port(), 2);
    }
}
