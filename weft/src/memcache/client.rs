//! [`Client`]: many servers behind one handle. Keys are placed with ketama
//! consistent hashing; each worker keeps one pipelined connection per
//! server, taken from a per-worker, per-server [`Pool`]; a server that
//! cannot be reached is marked down and, per the [`Failover`] policy, its
//! keys fail fast or move to the next server on the ring.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use proto_memcache::{GetMode, Item, StoreMode, StoreOptions, meta, validate_key};

use super::commands::{CasOutcome, CmdFuture, Stats, StoreStatus};
use super::config::{Config, Failover, Server};
use super::conn::Connection;
use super::error::Error;
use super::ketama::{self, Ring};
use crate::pool::{self, Pool, Pooled};
use crate::rt::{Backend, DefaultBackend, time};

/// Opens connections to one server for a [`Pool`]; `version` is the health
/// check, and a closed connection is not reused.
pub struct Manager<B: Backend = DefaultBackend> {
    server: Server,
    config: Config,
    _b: PhantomData<fn() -> B>,
}

impl<B: Backend> Manager<B> {
    /// A manager for `server`, connecting with `config`.
    pub fn new(server: Server, config: Config) -> Self {
        Manager {
            server,
            config,
            _b: PhantomData,
        }
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }
}

impl<B: Backend> fmt::Debug for Manager<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("server", &self.server.name())
            .field("backend", &B::NAME)
            .finish()
    }
}

impl<B: Backend> pool::Manager for Manager<B> {
    type Connection = Connection;
    type Error = Error;

    async fn connect(&self) -> Result<Connection, Error> {
        let addr = self.server.socket_addr()?;
        Connection::connect::<B>(addr, &self.config).await
    }

    async fn check(&self, conn: &mut Connection) -> Result<(), Error> {
        conn.version().await.map(drop)
    }

    fn is_reusable(&self, conn: &Connection) -> bool {
        !conn.is_closed()
    }
}

impl pool::Multiplexed for Connection {
    fn is_closed(&self) -> bool {
        Connection::is_closed(self)
    }
}

/// A connection checked out of a [`Client`]'s pool.
pub type PooledConnection<B = DefaultBackend> = Pooled<Manager<B>>;

/// Time base for the lock-free "down until" stamps.
fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    // +1 so that 0 can mean "up".
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64 + 1
}

/// Whether a server is marked down, shared by every worker.
#[derive(Debug, Default)]
struct Health {
    /// `now_ns()` until which the server is skipped; 0 when it is up.
    down_until: AtomicU64,
    /// Consecutive failed connects.
    failures: AtomicU32,
}

impl Health {
    /// Time left while marked down.
    fn down_for(&self) -> Option<Duration> {
        let until = self.down_until.load(Ordering::Relaxed);
        if until == 0 {
            return None;
        }
        let now = now_ns();
        (now < until).then(|| Duration::from_nanos(until - now))
    }

    fn mark_down(&self, config: &Config) {
        if self.down_for().is_some() {
            return; // another caller got there first
        }
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let exp = (failures - 1).min(20);
        let delay = config
            .retry_interval
            .saturating_mul(1 << exp)
            .min(config.max_retry_interval);
        self.down_until
            .store(now_ns() + delay.as_nanos() as u64, Ordering::Relaxed);
    }

    fn mark_up(&self) {
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
            self.down_until.store(0, Ordering::Relaxed);
        }
    }
}

struct Node<B: Backend> {
    name: String,
    /// Each worker's connection to this server, kept in its sub-pool of
    /// the server's pool (closed when the client, hence the pool, is
    /// dropped).
    shared: pool::Shared<Manager<B>>,
    health: Health,
}

struct Inner<B: Backend> {
    id: u64,
    config: Config,
    ring: Ring,
    nodes: Vec<Node<B>>,
}

static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// A memcached client over one or many servers: `Clone + Send + Sync`,
/// usable from every worker.
///
/// - Keys go to servers by ketama consistent hashing (libmemcached's
///   weighted variant, see [`Server::weight`]): adding or removing a
///   server moves only about its share of the keys.
/// - Each worker talks to each server over one pipelined [`Connection`]
///   opened lazily from that server's per-worker [`Pool`] and replaced when
///   it breaks; all the handlers of a worker share it, and replies come
///   back to that worker.
/// - [`get_multi`](Client::get_multi) splits its keys by server, sends every
///   server its part at once and merges the hits.
/// - A server whose connect fails is marked down for
///   [`Config::retry_interval`], doubling after each further failure up to
///   [`Config::max_retry_interval`]; then it is tried again, and a success
///   clears the mark. Meanwhile its keys fail with [`Error::ServerDown`]
///   ([`Failover::Fail`]) or go to the next live server on the ring
///   ([`Failover::Rehash`]). Requests in flight when a server dies fail
///   with the I/O error ([`Error::is_unavailable`]); they are not retried,
///   since they may have been applied.
/// - [`Config::response_timeout`] bounds every call ([`Error::Timeout`]).
/// - `B` must be the backend the calling code runs on (the server's, for
///   handlers; [`DefaultBackend`] with a default [`Server`](crate::http::Server)):
///   a connection made for one backend cannot be driven by another.
///
/// ```no_run
/// use weft::memcache::{Client, Config, StoreOptions};
///
/// let client = Client::new(Config::from_addrs("127.0.0.1:11211,127.0.0.1:11212")?)?;
/// weft::rt::block_on(async {
///     client.set("greeting", "hello", StoreOptions::default()).await?;
///     let hit = client.get("greeting").await?;
///     assert_eq!(hit.map(|i| i.value), Some("hello".into()));
///     let many = client.get_multi(&["greeting", "absent"]).await?;
///     assert_eq!(many.len(), 1);
///     Ok::<_, weft::memcache::Error>(())
/// })?;
/// # Ok::<_, weft::memcache::Error>(())
/// ```
pub struct Client<B: Backend = DefaultBackend> {
    inner: Arc<Inner<B>>,
}

impl<B: Backend> Clone for Client<B> {
    fn clone(&self) -> Self {
        Client {
            inner: self.inner.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for Client<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.inner.id)
            .field(
                "servers",
                &self.inner.nodes.iter().map(|n| &n.name).collect::<Vec<_>>(),
            )
            .field("protocol", &self.inner.config.protocol)
            .field("failover", &self.inner.config.failover)
            .finish()
    }
}

impl Client<DefaultBackend> {
    /// A client on the default backend. Connects lazily.
    pub fn new(config: Config) -> Result<Self, Error> {
        Client::with_backend(config)
    }
}

/// Was this a failure to reach the server (nothing was sent)?
fn is_connect_failure(e: &Error) -> bool {
    matches!(e, Error::Io(_) | Error::Timeout | Error::PoolTimeout)
}

impl<B: Backend> Client<B> {
    /// A client on backend `B`. Connects lazily; fails only on an empty
    /// server list.
    pub fn with_backend(config: Config) -> Result<Self, Error> {
        if config.servers.is_empty() {
            return Err(Error::Config("no memcached servers".into()));
        }
        let ring = Ring::new(
            config
                .servers
                .iter()
                .map(|s| (s.host(), s.port(), s.get_weight())),
        );
        let nodes = config
            .servers
            .iter()
            .map(|s| Node {
                name: s.name(),
                // Callers get clones of the connection: a retired one is
                // never handed to anyone else.
                shared: pool::Shared::new(Pool::new(
                    Manager::new(s.clone(), config.clone()),
                    config.pool.clone(),
                )),
                health: Health::default(),
            })
            .collect();
        Ok(Client {
            inner: Arc::new(Inner {
                id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
                config,
                ring,
                nodes,
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The servers, in configuration order (their index is what
    /// [`server_index`](Self::server_index) returns).
    pub fn servers(&self) -> &[Server] {
        &self.inner.config.servers
    }

    /// The server `key` maps to on the full ring, ignoring down marks.
    pub fn server_index(&self, key: impl AsRef<[u8]>) -> usize {
        self.inner
            .ring
            .server(ketama::hash_key(key.as_ref()))
            .expect("the ring has points")
    }

    /// How long server `index` stays marked down, or `None` if it is up.
    pub fn down_for(&self, index: usize) -> Option<Duration> {
        self.inner.nodes.get(index)?.health.down_for()
    }

    /// The current worker's pool counters for server `index`.
    ///
    /// # Panics
    ///
    /// If there is no server `index`.
    pub fn pool_state(&self, index: usize) -> pool::State {
        self.inner.nodes[index].shared.pool().state()
    }

    /// A key's place on the ring (any value for a single server: every key
    /// goes to it, so the MD5 is skipped, as libmemcached does).
    fn hash(&self, key: &[u8]) -> u32 {
        if self.inner.nodes.len() == 1 {
            0
        } else {
            ketama::hash_key(key)
        }
    }

    /// The server a key with this hash goes to now: its ring server if up,
    /// else per the failover policy.
    fn route(&self, hash: u32) -> Result<usize, Error> {
        let inner = &*self.inner;
        let first = inner.ring.server(hash).ok_or(Error::NoServers)?;
        let Some(retry_in) = inner.nodes[first].health.down_for() else {
            return Ok(first);
        };
        match inner.config.failover {
            Failover::Fail => Err(Error::ServerDown {
                server: inner.nodes[first].name.clone(),
                retry_in,
            }),
            Failover::Rehash => inner
                .ring
                .server_where(hash, |s| inner.nodes[s].health.down_for().is_none())
                .ok_or(Error::NoServers),
        }
    }

    /// This worker's connection to server `idx` (in configuration order),
    /// opened through the pool if there is none, it broke or it is older
    /// than the pool's `max_lifetime`. Concurrent first callers wait for
    /// one connect and share its outcome (see [`pool::Shared`]). A failed
    /// connect marks the server down.
    pub async fn connection(&self, idx: usize) -> Result<Connection, Error> {
        let Some(node) = self.inner.nodes.get(idx) else {
            return Err(Error::Config(format!("no server number {idx}")));
        };
        if let Some(lease) = node.shared.now() {
            return Ok((*lease).clone());
        }
        match node.shared.get().await {
            Ok(lease) => {
                node.health.mark_up();
                Ok((*lease).clone())
            }
            Err(e) => {
                let e = match e {
                    pool::Error::Timeout => Error::PoolTimeout,
                    pool::Error::Backend(e) => e,
                };
                if is_connect_failure(&e) {
                    node.health.mark_down(&self.inner.config);
                }
                Err(e)
            }
        }
    }

    /// The connection of this worker that `key` is routed to now.
    pub async fn connection_for(&self, key: impl AsRef<[u8]>) -> Result<Connection, Error> {
        let idx = self.route(self.hash(key.as_ref()))?;
        self.connection(idx).await
    }

    async fn timed<T>(&self, f: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match self.inner.config.response_timeout {
            Some(d) => time::timeout(d, f).await.unwrap_or(Err(Error::Timeout)),
            None => f.await,
        }
    }

    /// Runs one single-key command on the key's server, failing over per
    /// the policy when its connect fails (nothing was sent then).
    async fn keyed<T>(
        &self,
        key: &[u8],
        value_len: usize,
        f: impl Fn(&Connection) -> CmdFuture<T>,
    ) -> Result<T, Error> {
        let limits = &self.inner.config.limits;
        validate_key(key, limits)?;
        if value_len > limits.max_value_len {
            return Err(Error::ValueTooLarge {
                len: value_len,
                limit: limits.max_value_len,
            });
        }
        let hash = self.hash(key);
        let mut attempts = 0;
        loop {
            let idx = self.route(hash)?;
            match self.connection(idx).await {
                Ok(conn) => return self.timed(f(&conn)).await,
                Err(e)
                    if self.inner.config.failover == Failover::Rehash
                        && (is_connect_failure(&e) || matches!(e, Error::ServerDown { .. }))
                        && attempts < self.inner.nodes.len() =>
                {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// `get`: the item, or `None` on a miss.
    pub async fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Item>, Error> {
        let key = key.as_ref();
        self.keyed(key, 0, |c| c.get(key)).await
    }

    /// `gets`: the item with its CAS unique.
    pub async fn gets(&self, key: impl AsRef<[u8]>) -> Result<Option<Item>, Error> {
        let key = key.as_ref();
        self.keyed(key, 0, |c| c.gets(key)).await
    }

    /// `gat`: fetch and set a new expiration time.
    pub async fn gat(&self, key: impl AsRef<[u8]>, exptime: u32) -> Result<Option<Item>, Error> {
        let key = key.as_ref();
        self.keyed(key, 0, |c| c.gat(key, exptime)).await
    }

    /// `gats`: as [`gat`](Self::gat), with the CAS unique.
    pub async fn gats(&self, key: impl AsRef<[u8]>, exptime: u32) -> Result<Option<Item>, Error> {
        let key = key.as_ref();
        self.keyed(key, 0, |c| c.gats(key, exptime)).await
    }

    /// A multi-get over every server: the keys are grouped by server, each
    /// group goes out as one pipelined request on that server's connection
    /// (all groups at once), and the hits are merged by key. Misses are
    /// absent.
    pub async fn get_multi<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
    ) -> Result<HashMap<Bytes, Item>, Error> {
        self.retrieve_multi(GetMode::Get, keys).await
    }

    /// As [`get_multi`](Self::get_multi), each hit with its CAS unique.
    pub async fn gets_multi<K: AsRef<[u8]>>(
        &self,
        keys: &[K],
    ) -> Result<HashMap<Bytes, Item>, Error> {
        self.retrieve_multi(GetMode::Gets, keys).await
    }

    async fn retrieve_multi<K: AsRef<[u8]>>(
        &self,
        mode: GetMode,
        keys: &[K],
    ) -> Result<HashMap<Bytes, Item>, Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let n = self.inner.nodes.len();
        if n == 1 {
            // One server, up, and this worker's connection to it open: every
            // key goes there in one request, no grouping. (The connection
            // checks the keys before anything is queued.)
            let node = &self.inner.nodes[0];
            if node.health.down_for().is_none() {
                if let Some(lease) = node.shared.now() {
                    let pending = lease.retrieve(mode, keys);
                    drop(lease);
                    let hits = self.timed(pending).await?;
                    let mut out = HashMap::with_capacity(hits.len());
                    for item in hits {
                        out.insert(item.key.clone(), item);
                    }
                    return Ok(out);
                }
            }
        }
        let limits = &self.inner.config.limits;
        for k in keys {
            validate_key(k.as_ref(), limits)?;
        }
        let hashes: Vec<u32> = keys.iter().map(|k| self.hash(k.as_ref())).collect();
        let mut todo: Vec<usize> = (0..keys.len()).collect();
        let mut out = HashMap::with_capacity(keys.len());
        let mut groups: Vec<Vec<&[u8]>> = vec![Vec::new(); n];
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut attempts = 0;
        while !todo.is_empty() {
            for g in &mut groups {
                g.clear();
            }
            for m in &mut members {
                m.clear();
            }
            for &k in &todo {
                let idx = self.route(hashes[k])?;
                groups[idx].push(keys[k].as_ref());
                members[idx].push(k);
            }
            todo.clear();
            // Queue every server's part before awaiting any reply.
            let mut pending = Vec::new();
            for idx in 0..n {
                if groups[idx].is_empty() {
                    continue;
                }
                match self.connection(idx).await {
                    Ok(conn) => pending.push(conn.retrieve(mode, &groups[idx])),
                    Err(e)
                        if self.inner.config.failover == Failover::Rehash
                            && (is_connect_failure(&e)
                                || matches!(e, Error::ServerDown { .. })) =>
                    {
                        todo.extend_from_slice(&members[idx]);
                    }
                    Err(e) => return Err(e),
                }
            }
            self.timed(async {
                for f in pending {
                    for item in f.await? {
                        out.insert(item.key.clone(), item);
                    }
                }
                Ok(())
            })
            .await?;
            attempts += 1;
            if !todo.is_empty() && attempts > n {
                return Err(Error::NoServers);
            }
        }
        Ok(out)
    }

    /// Any storage command, with its raw outcome.
    pub async fn store(
        &self,
        mode: StoreMode,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: StoreOptions,
    ) -> Result<StoreStatus, Error> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.keyed(key, value.len(), |c| c.store(mode, key, value, opts))
            .await
    }

    /// `set`: store unconditionally.
    pub async fn set(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: StoreOptions,
    ) -> Result<(), Error> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.keyed(key, value.len(), |c| c.set(key, value, opts))
            .await
    }

    /// `add`: store only if absent; `false` if the key exists.
    pub async fn add(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: StoreOptions,
    ) -> Result<bool, Error> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.keyed(key, value.len(), |c| c.add(key, value, opts))
            .await
    }

    /// `replace`: store only if present; `false` if the key is missing.
    pub async fn replace(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: StoreOptions,
    ) -> Result<bool, Error> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.keyed(key, value.len(), |c| c.replace(key, value, opts))
            .await
    }

    /// `append`; `false` if the key is missing.
    pub async fn append(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<bool, Error> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.keyed(key, value.len(), |c| c.append(key, value)).await
    }

    /// `prepend`; `false` if the key is missing.
    pub async fn prepend(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<bool, Error> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.keyed(key, value.len(), |c| c.prepend(key, value))
            .await
    }

    /// `cas`: store only if the item's CAS unique is still `cas`.
    pub async fn cas(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        cas: u64,
        opts: StoreOptions,
    ) -> Result<CasOutcome, Error> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.keyed(key, value.len(), |c| c.cas(key, value, cas, opts))
            .await
    }

    /// `delete`: `false` if the key was missing.
    pub async fn delete(&self, key: impl AsRef<[u8]>) -> Result<bool, Error> {
        let key = key.as_ref();
        self.keyed(key, 0, |c| c.delete(key)).await
    }

    /// `incr`: the new value, or `None` if the key is missing.
    pub async fn incr(&self, key: impl AsRef<[u8]>, delta: u64) -> Result<Option<u64>, Error> {
        let key = key.as_ref();
        self.keyed(key, 0, |c| c.incr(key, delta)).await
    }

    /// `decr` (stops at 0): the new value, or `None` if the key is missing.
    pub async fn decr(&self, key: impl AsRef<[u8]>, delta: u64) -> Result<Option<u64>, Error> {
        let key = key.as_ref();
        self.keyed(key, 0, |c| c.decr(key, delta)).await
    }

    /// `touch`: `false` if the key is missing.
    pub async fn touch(&self, key: impl AsRef<[u8]>, exptime: u32) -> Result<bool, Error> {
        let key = key.as_ref();
        self.keyed(key, 0, |c| c.touch(key, exptime)).await
    }

    /// A meta command (meta protocol only), sent to the server of its key
    /// (`mn` goes to the first server). See [`Connection::meta`].
    pub async fn meta(&self, cmd: &meta::Command<'_>) -> Result<meta::Reply<Bytes>, Error> {
        let key = match *cmd {
            meta::Command::Get { key, .. }
            | meta::Command::Set { key, .. }
            | meta::Command::Delete { key, .. }
            | meta::Command::Arithmetic { key, .. }
            | meta::Command::Debug { key, .. } => key,
            _ => {
                let conn = self.connection(0).await?;
                return self.timed(conn.meta(cmd)).await;
            }
        };
        let value_len = match *cmd {
            meta::Command::Set { value, .. } => value.len(),
            _ => 0,
        };
        if cmd
            .flags()
            .iter()
            .any(|f| matches!(f, meta::Flag::Base64Key))
        {
            // The key is raw bytes the encoder base64-encodes; it is placed
            // by its raw bytes.
            let conn = self.connection(self.route(self.hash(key))?).await?;
            return self.timed(conn.meta(cmd)).await;
        }
        self.keyed(key, value_len, |c| c.meta(cmd)).await
    }

    /// Runs `f` on every server's connection at once: one result per
    /// server, in configuration order.
    async fn each<T>(
        &self,
        f: impl Fn(&Connection) -> CmdFuture<T>,
    ) -> Vec<(String, Result<T, Error>)> {
        let mut pending = Vec::new();
        for (idx, node) in self.inner.nodes.iter().enumerate() {
            let res = match node.health.down_for() {
                Some(retry_in) => Err(Error::ServerDown {
                    server: node.name.clone(),
                    retry_in,
                }),
                None => self.connection(idx).await.map(|c| f(&c)),
            };
            pending.push((node.name.clone(), res));
        }
        let mut out = Vec::with_capacity(pending.len());
        for (name, res) in pending {
            let res = match res {
                Ok(fut) => self.timed(fut).await,
                Err(e) => Err(e),
            };
            out.push((name, res));
        }
        out
    }

    /// `flush_all [delay]` on every server; the first failure, if any.
    pub async fn flush_all(&self, delay: Option<u32>) -> Result<(), Error> {
        for (_, res) in self.each(|c| c.flush_all(delay)).await {
            res?;
        }
        Ok(())
    }

    /// `version` of every server, in configuration order.
    pub async fn versions(&self) -> Vec<(String, Result<String, Error>)> {
        self.each(|c| c.version()).await
    }

    /// `stats [args]` of every server, in configuration order.
    pub async fn stats(&self, args: Option<&str>) -> Vec<(String, Result<Stats, Error>)> {
        self.each(|c| c.stats(args)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_marks_back_off_and_clear() {
        let config = Config::default().retry(Duration::from_secs(100), Duration::from_secs(350));
        let h = Health::default();
        assert_eq!(h.down_for(), None);
        h.mark_down(&config);
        let first = h.down_for().expect("down");
        assert!(first <= Duration::from_secs(100) && first > Duration::from_secs(50));
        // While down, more failures do not extend it.
        h.mark_down(&config);
        assert_eq!(h.failures.load(Ordering::Relaxed), 1);
        // Once the mark expires, the next failure doubles the wait, up to
        // the cap.
        let expire = |h: &Health| h.down_until.store(1, Ordering::Relaxed);
        expire(&h);
        assert_eq!(h.down_for(), None);
        h.mark_down(&config);
        let second = h.down_for().unwrap();
        assert!(second > Duration::from_secs(150) && second <= Duration::from_secs(200));
        expire(&h);
        h.mark_down(&config);
        let third = h.down_for().unwrap();
        assert!(third > Duration::from_secs(300) && third <= Duration::from_secs(350));
        h.mark_up();
        assert_eq!(h.down_for(), None);
        assert_eq!(h.failures.load(Ordering::Relaxed), 0);
    }
}
