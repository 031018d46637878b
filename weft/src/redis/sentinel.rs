//! [`SentinelClient`]: a Sentinel-managed primary, followed across
//! failovers (described on the type).

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use proto_resp::{Cmd, Frame};

use super::client::Client;
use super::cluster::ClusterFuture;
use super::commands::Commands;
use super::config::Config;
use super::conn::{Connection, leaves_session_state};
use super::error::Error;
use super::from_resp::{FromResp, check};
use super::pubsub::PubSub;
use crate::pool::backoff::{XorShift, delay};
use crate::rt::{Backend, DefaultBackend, spawn, time};

/// How to find the primary.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SentinelConfig {
    /// Sentinel addresses, `host:port`.
    pub sentinels: Vec<String>,
    /// The name the sentinels monitor the primary under.
    pub master_name: String,
    /// Settings for the data nodes (credentials, protocol, timeouts,
    /// pool); host and port are replaced by the discovered ones.
    pub node: Config,
    /// Settings for talking to the sentinels themselves.
    pub sentinel: Config,
    /// Most retries of one command whose primary could not be reached
    /// (nothing was sent), rediscovering in between.
    pub max_retries: u32,
    /// First retry delay (doubling, jittered, up to `retry_max`).
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

impl SentinelConfig {
    /// Sentinels at `host:port` watching `master_name`, default settings.
    pub fn new<S: Into<String>>(
        sentinels: impl IntoIterator<Item = S>,
        master_name: impl Into<String>,
    ) -> Self {
        let mut node = Config::default();
        node.pool = node
            .pool
            .backoff(Duration::from_millis(20), Duration::from_millis(500));
        let sentinel = Config {
            connect_timeout: Duration::from_secs(1),
            ..Config::default()
        };
        SentinelConfig {
            sentinels: sentinels.into_iter().map(Into::into).collect(),
            master_name: master_name.into(),
            node,
            sentinel,
            max_retries: 12,
            retry_base: Duration::from_millis(25),
            retry_max: Duration::from_millis(1000),
        }
    }

    /// Replaces the data node settings.
    pub fn node(mut self, node: Config) -> Self {
        self.node = node;
        self
    }
}

/// How long a replica list read from the sentinels is reused.
const REPLICAS_TTL: Duration = Duration::from_secs(5);

struct Inner<B: Backend> {
    /// Keys this client's per-thread cache.
    id: u64,
    config: SentinelConfig,
    primary: Mutex<Option<(String, Client<B>)>>,
    /// Bumped whenever `primary` changes; threads compare it with their
    /// copy, so the hot path takes no lock.
    version: AtomicU64,
    /// The last replica list and when it was read.
    replicas: Mutex<Option<(Instant, Vec<String>)>>,
    /// One client (so one per-worker pool) per replica address.
    replica_clients: Mutex<HashMap<String, Client<B>>>,
    switches: AtomicU64,
    watching: AtomicBool,
    turn: AtomicUsize,
}

/// This thread's copy of the primary as of `version`.
struct Local<B: Backend> {
    version: u64,
    primary: Option<(String, Client<B>)>,
}

/// A client (to notice it was dropped) and this thread's state for it.
type LocalEntry = (Weak<dyn Any + Send + Sync>, Box<dyn Any>);

thread_local! {
    /// Per client id.
    static LOCAL: RefCell<HashMap<u64, LocalEntry>> = RefCell::new(HashMap::new());
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A client for a Sentinel-managed primary: `Clone + Send + Sync`, the
/// same [`Commands`] as [`Client`]. Following the Redis Sentinel
/// documentation, "Sentinel clients implementation guidelines":
///
/// 1. ask the sentinels in turn `SENTINEL GET-MASTER-ADDR-BY-NAME name`;
///    the first that answers with an address wins;
/// 2. verify with `ROLE` on that address that it is a primary (a sentinel
///    may lag behind a failover); if not, try the next sentinel;
/// 3. follow `+switch-master` (published on the sentinels' pub/sub) to move
///    to the new primary at once, and rediscover on a refused connection or
///    a `-READONLY` reply (a write that reached a demoted primary) too, in
///    case the announcement was missed.
///
/// When no sentinel answers, or none knows the name, commands fail with
/// [`Error::NoSentinel`]. Replicas (`SENTINEL REPLICAS name`, healthy ones
/// only) serve reads through [`SentinelClient::replica`].
///
/// ```no_run
/// use weft::redis::{Commands, SentinelClient, SentinelConfig};
///
/// let config = SentinelConfig::new(["127.0.0.1:26379", "127.0.0.1:26380"], "mymaster");
/// let redis = SentinelClient::new(config);
/// weft::rt::block_on(async {
///     redis.set("k", "v").await?;
///     let replica = redis.replica().await?; // reads may lag
///     let _v: Option<String> = replica.get("k").await?;
///     Ok::<_, weft::redis::Error>(())
/// })?;
/// # Ok::<_, weft::redis::Error>(())
/// ```
pub struct SentinelClient<B: Backend = DefaultBackend> {
    inner: Arc<Inner<B>>,
}

impl<B: Backend> Clone for SentinelClient<B> {
    fn clone(&self) -> Self {
        SentinelClient {
            inner: self.inner.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for SentinelClient<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentinelClient")
            .field("sentinels", &self.inner.config.sentinels)
            .field("master_name", &self.inner.config.master_name)
            .field("primary", &self.current().map(|p| p.0))
            .finish_non_exhaustive()
    }
}

impl SentinelClient<DefaultBackend> {
    /// A client on the default backend. Discovers lazily.
    pub fn new(config: SentinelConfig) -> Self {
        SentinelClient::with_backend(config)
    }
}

fn addr_of(host: &Frame, port: &Frame) -> Option<String> {
    let text = |f: &Frame| match f {
        Frame::Integer(i) => Some(i.to_string()),
        f => Some(String::from_utf8_lossy(f.as_bytes()?).into_owned()),
    };
    let host = text(host)?;
    let port = text(port)?;
    Some(if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    })
}

impl<B: Backend> SentinelClient<B> {
    /// A client on backend `B`. Discovers lazily.
    pub fn with_backend(config: SentinelConfig) -> Self {
        SentinelClient {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                config,
                primary: Mutex::new(None),
                version: AtomicU64::new(1),
                replicas: Mutex::new(None),
                replica_clients: Mutex::new(HashMap::new()),
                switches: AtomicU64::new(0),
                watching: AtomicBool::new(false),
                turn: AtomicUsize::new(0),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SentinelConfig {
        &self.inner.config
    }

    /// How many times the client moved to another primary.
    pub fn switches(&self) -> u64 {
        self.inner.switches.load(Ordering::Relaxed)
    }

    /// Runs `f` on this thread's copy of the primary, refreshed first if
    /// it changed.
    fn with_local<R>(&self, f: impl FnOnce(&Local<B>) -> R) -> R {
        LOCAL.with(|all| {
            let id = self.inner.id;
            if !all.borrow().contains_key(&id) {
                // First use on this thread: also forget what dropped
                // clients left here (dropped outside the borrow).
                let owner: Weak<dyn Any + Send + Sync> = Arc::downgrade(&self.inner) as Weak<_>;
                let dead: Vec<_> = {
                    let mut all = all.borrow_mut();
                    let gone: Vec<u64> = all
                        .iter()
                        .filter(|(_, (o, _))| o.strong_count() == 0)
                        .map(|(k, _)| *k)
                        .collect();
                    let dead = gone.iter().filter_map(|k| all.remove(k)).collect();
                    all.insert(
                        id,
                        (
                            owner,
                            Box::new(Local::<B> {
                                version: 0,
                                primary: None,
                            }),
                        ),
                    );
                    dead
                };
                drop(dead);
            }
            let mut all = all.borrow_mut();
            let local = all
                .get_mut(&id)
                .expect("inserted above")
                .1
                .downcast_mut::<Local<B>>()
                .expect("one backend type per client id");
            let version = self.inner.version.load(Ordering::Acquire);
            if local.version != version {
                let p = self.inner.primary.lock().unwrap_or_else(|e| e.into_inner());
                local.primary = p.clone();
                // Read under the lock: the copy matches this version.
                local.version = self.inner.version.load(Ordering::Acquire);
            }
            f(local)
        })
    }

    fn current(&self) -> Option<(String, Client<B>)> {
        self.with_local(|l| l.primary.clone())
    }

    /// This thread's open connection to the primary, with the version it
    /// belongs to: the fast path, no lock and no shared write.
    fn local_conn(&self) -> Option<(u64, Connection)> {
        self.with_local(|l| Some((l.version, l.primary.as_ref()?.1.shared_now()?)))
    }

    /// Forgets the primary of `version` (it failed), unless it was replaced
    /// meanwhile.
    fn forget(&self, version: u64) {
        let mut p = self.inner.primary.lock().unwrap_or_else(|e| e.into_inner());
        if self.inner.version.load(Ordering::Acquire) == version && p.is_some() {
            *p = None;
            self.inner.version.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn set_primary(&self, addr: String) -> Client<B> {
        self.set_primary_versioned(addr).1
    }

    /// Makes `addr` the primary; returns the version and its client.
    fn set_primary_versioned(&self, addr: String) -> (u64, Client<B>) {
        let mut p = self.inner.primary.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((a, c)) = p.as_ref() {
            if *a == addr {
                return (self.inner.version.load(Ordering::Acquire), c.clone());
            }
        }
        let config = self
            .inner
            .config
            .node
            .with_address(&addr)
            .unwrap_or_else(|_| self.inner.config.node.clone());
        let client = Client::with_backend(config);
        if p.is_some() {
            self.inner.switches.fetch_add(1, Ordering::Relaxed);
            // The old primary is a replica now, the new one no longer is.
            *self
                .inner
                .replicas
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = None;
        }
        *p = Some((addr, client.clone()));
        let version = self.inner.version.fetch_add(1, Ordering::AcqRel) + 1;
        (version, client)
    }

    /// The primary's client and the version it belongs to, discovering it
    /// if needed.
    async fn primary_versioned(&self) -> Result<(u64, Client<B>), Error> {
        self.watch();
        {
            let p = self.inner.primary.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, c)) = p.as_ref() {
                return Ok((self.inner.version.load(Ordering::Acquire), c.clone()));
            }
        }
        let addr = self.discover().await?;
        Ok(self.set_primary_versioned(addr))
    }

    async fn sentinel_query(&self, sentinel: &str, cmd: &Cmd) -> Result<Frame, Error> {
        let config = self.inner.config.sentinel.with_address(sentinel)?;
        let conn = Connection::connect::<B>(&config).await?;
        let reply = conn.send_raw(cmd)?.await;
        conn.close();
        check(reply?)
    }

    /// `ROLE` at `addr` says `master`.
    async fn is_primary(&self, addr: &str) -> bool {
        let Ok(config) = self.inner.config.node.with_address(addr) else {
            return false;
        };
        let Ok(conn) = Connection::connect::<B>(&config).await else {
            return false;
        };
        let role = conn.send_raw(&Cmd::new("ROLE"));
        let ok = match role {
            Ok(f) => f.await.ok().is_some_and(|f| {
                f.as_elements()
                    .and_then(|e| e.first()?.as_bytes())
                    .is_some_and(|r| r == b"master")
            }),
            Err(_) => false,
        };
        conn.close();
        ok
    }

    /// Asks the sentinels for the primary and verifies it with `ROLE`.
    pub async fn discover(&self) -> Result<String, Error> {
        let c = &self.inner.config;
        let ask = Cmd::new("SENTINEL")
            .with("GET-MASTER-ADDR-BY-NAME")
            .with(c.master_name.as_str());
        let mut answered = 0;
        let mut last = String::from("no sentinels configured");
        for s in &c.sentinels {
            let reply = match self.sentinel_query(s, &ask).await {
                Ok(r) => r,
                Err(e) => {
                    last = format!("{s}: {e}");
                    continue;
                }
            };
            answered += 1;
            let addr = reply
                .as_elements()
                .filter(|e| e.len() == 2)
                .and_then(|e| addr_of(&e[0], &e[1]));
            let Some(addr) = addr else {
                last = format!("{s} does not know `{}`", c.master_name);
                continue;
            };
            if self.is_primary(&addr).await {
                self.set_primary(addr.clone());
                return Ok(addr);
            }
            last = format!("{s} names {addr}, which is not a primary (yet)");
        }
        Err(Error::NoSentinel(if answered == 0 {
            format!("no sentinel answered ({last})")
        } else {
            last
        }))
    }

    /// Healthy replicas of the primary (`SENTINEL REPLICAS`, without those
    /// flagged down or disconnected), from the first sentinel that answers.
    pub async fn replica_addrs(&self) -> Result<Vec<String>, Error> {
        let c = &self.inner.config;
        let ask = Cmd::new("SENTINEL")
            .with("REPLICAS")
            .with(c.master_name.as_str());
        let mut last = String::from("no sentinels configured");
        for s in &c.sentinels {
            let reply = match self.sentinel_query(s, &ask).await {
                Ok(r) => r,
                Err(e) => {
                    last = format!("{s}: {e}");
                    continue;
                }
            };
            let mut out = Vec::new();
            for r in reply.as_elements().unwrap_or_default() {
                let fields: Vec<(&[u8], &Frame)> = match r {
                    Frame::Map(m) => m
                        .iter()
                        .filter_map(|(k, v)| Some((k.as_bytes()?, v)))
                        .collect(),
                    f => f
                        .as_elements()
                        .unwrap_or_default()
                        .chunks(2)
                        .filter_map(|kv| Some((kv.first()?.as_bytes()?, kv.get(1)?)))
                        .collect(),
                };
                let get = |n: &[u8]| fields.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
                let flags = get(b"flags").and_then(Frame::as_bytes).unwrap_or_default();
                let down = String::from_utf8_lossy(flags)
                    .split(',')
                    .any(|f| matches!(f, "s_down" | "o_down" | "disconnected"));
                if let (Some(ip), Some(port), false) = (get(b"ip"), get(b"port"), down) {
                    if let Some(a) = addr_of(ip, port) {
                        out.push(a);
                    }
                }
            }
            return Ok(out);
        }
        Err(Error::NoSentinel(format!("no sentinel answered ({last})")))
    }

    /// A client for one healthy replica (in turn), for reads that may lag.
    /// The replica list is read from the sentinels at most every few
    /// seconds (and again after a failover); each replica keeps one client,
    /// so its per-worker connections are reused.
    pub async fn replica(&self) -> Result<Client<B>, Error> {
        let cached = self
            .inner
            .replicas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() < REPLICAS_TTL)
            .map(|(_, r)| r.clone());
        let replicas = match cached {
            Some(r) => r,
            None => {
                let r = self.replica_addrs().await?;
                *self
                    .inner
                    .replicas
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), r.clone()));
                r
            }
        };
        if replicas.is_empty() {
            return Err(Error::NoSentinel("no healthy replica".into()));
        }
        let addr = &replicas[self.inner.turn.fetch_add(1, Ordering::Relaxed) % replicas.len()];
        let mut clients = self
            .inner
            .replica_clients
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(addr) {
            return Ok(c.clone());
        }
        let c = Client::with_backend(self.inner.config.node.with_address(addr)?);
        clients.insert(addr.clone(), c.clone());
        Ok(c)
    }

    /// The current primary's client, discovering it if needed, and starting
    /// the `+switch-master` watcher on this worker.
    pub async fn primary(&self) -> Result<Client<B>, Error> {
        Ok(self.primary_versioned().await?.1)
    }

    /// The address of the primary in use (discovering it if needed).
    pub async fn primary_addr(&self) -> Result<String, Error> {
        self.primary().await?;
        self.current()
            .map(|p| p.0)
            .ok_or_else(|| Error::NoSentinel("primary lost while discovering".into()))
    }

    /// Subscribes to `+switch-master` on a sentinel, once per client, in a
    /// task of the current worker; it ends when the client is dropped.
    fn watch(&self) {
        // A plain load first: no shared write on the hot path.
        if self.inner.watching.load(Ordering::Acquire)
            || self.inner.watching.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let weak: Weak<Inner<B>> = Arc::downgrade(&self.inner);
        // Lets a later call start a new watcher if this one ends (its
        // runtime stopped, say).
        struct Done<B: Backend>(Weak<Inner<B>>);
        impl<B: Backend> Drop for Done<B> {
            fn drop(&mut self) {
                if let Some(inner) = self.0.upgrade() {
                    inner.watching.store(false, Ordering::Release);
                }
            }
        }
        let done = Done(weak.clone());
        spawn(async move {
            let _done = done;
            let mut sub: Option<PubSub<B>> = None;
            let mut i = 0usize;
            let mut failures = 0u32;
            let mut rng = XorShift::seeded();
            loop {
                let Some(inner) = weak.upgrade() else { return };
                let config = inner.config.clone();
                drop(inner);
                if sub.is_none() {
                    if failures > 0 {
                        time::sleep(delay(
                            failures,
                            config.retry_base,
                            config.retry_max,
                            &mut rng,
                        ))
                        .await;
                    }
                    let s = &config.sentinels[i % config.sentinels.len().max(1)];
                    i += 1;
                    let Ok(c) = config.sentinel.with_address(s) else {
                        return;
                    };
                    match PubSub::<B>::connect(c).await {
                        Ok(mut p) => match p.subscribe(&["+switch-master"]).await {
                            Ok(()) => {
                                failures = 0;
                                sub = Some(p);
                            }
                            Err(_) => failures += 1,
                        },
                        Err(_) => failures += 1,
                    }
                    continue;
                }
                let p = sub.as_mut().expect("checked above");
                // Wake up now and then to notice a dropped client.
                match time::timeout(Duration::from_secs(5), p.next_message()).await {
                    Err(_) => continue,
                    Ok(Err(_)) => {
                        sub = None;
                        failures += 1;
                        continue;
                    }
                    Ok(Ok(m)) => {
                        // `<name> <old-ip> <old-port> <new-ip> <new-port>`.
                        let text = String::from_utf8_lossy(&m.payload).into_owned();
                        let w: Vec<&str> = text.split(' ').collect();
                        if w.len() == 5 && w[0] == config.master_name {
                            let Some(inner) = weak.upgrade() else { return };
                            let this = SentinelClient { inner };
                            let addr = format!("{}:{}", w[3], w[4]);
                            tracing::info!(primary = %addr, "redis sentinel: +switch-master");
                            this.set_primary(addr);
                        }
                    }
                }
            }
        });
    }

    /// Runs `cmd` on the primary; the reply may be an error frame.
    async fn run(&self, cmd: &Cmd) -> Result<Frame, Error> {
        let mut retries = 0;
        let mut rng = XorShift::seeded();
        let c = &self.inner.config;
        loop {
            let conn = match self.local_conn() {
                Some((v, conn)) => Ok((v, conn)),
                None => match self.primary_versioned().await {
                    Ok((v, client)) => client.shared().await.map(|c| (v, c)).map_err(|e| (v, e)),
                    Err(e) => Err((0, e)),
                },
            };
            let (version, conn) = match conn {
                Ok(vc) => vc,
                Err((v, e)) if retries < c.max_retries => {
                    // Nothing sent: find the primary again and retry.
                    tracing::debug!(error = %e, "redis sentinel: primary unreachable");
                    retries += 1;
                    self.forget(v);
                    time::sleep(delay(retries, c.retry_base, c.retry_max, &mut rng)).await;
                    continue;
                }
                Err((_, e)) => return Err(e),
            };
            let reply = match conn.send_raw(cmd) {
                Ok(f) => f.await,
                Err(e) => Err(e),
            };
            match reply {
                Ok(f)
                    if f.as_error().is_some_and(|e| e.starts_with(b"READONLY"))
                        && retries < c.max_retries =>
                {
                    // A demoted primary refused a write; it did not run.
                    retries += 1;
                    self.forget(version);
                    time::sleep(delay(retries, c.retry_base, c.retry_max, &mut rng)).await;
                }
                Ok(f) => return Ok(f),
                Err(e) => {
                    if e.is_fatal() {
                        self.forget(version);
                    }
                    return Err(e);
                }
            }
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<B: Backend> Commands for SentinelClient<B> {
    type Fut<T: FromResp + 'static> = ClusterFuture<T>;
    type BatchFut = ClusterFuture<Vec<Frame>>;

    fn query_cmd<T: FromResp + 'static>(&self, cmd: Cmd) -> ClusterFuture<T> {
        if leaves_session_state(&cmd) {
            // It would run on the primary's connection shared by the
            // worker's callers, who would all inherit the state.
            return ClusterFuture::new(Box::pin(async {
                Err(Error::Unsupported(
                    "a command that changes the connection's state (WATCH, MULTI, SELECT, \
                     AUTH, SUBSCRIBE, ...) on the primary's shared connection; use \
                     Pipeline::atomic, or SentinelClient::primary then Client::acquire \
                     or Client::pubsub",
                ))
            }));
        }
        let this = self.clone();
        let fut: BoxFuture<Result<T, Error>> = Box::pin(async move {
            let work = this.run(&cmd);
            let frame = match this.inner.config.node.response_timeout {
                Some(d) => time::timeout(d, work)
                    .await
                    .unwrap_or(Err(Error::Timeout))?,
                None => work.await?,
            };
            T::from_resp(check(frame)?)
        });
        ClusterFuture::new(fut)
    }

    fn query_batch<'a>(
        &self,
        cmds: impl IntoIterator<Item = &'a Cmd>,
    ) -> ClusterFuture<Vec<Frame>> {
        let cmds: Vec<Cmd> = cmds.into_iter().cloned().collect();
        let this = self.clone();
        ClusterFuture::new(Box::pin(async move {
            let (version, client) = this.primary_versioned().await?;
            let res = client.query_batch(&cmds).await;
            if let Err(e) = &res {
                if e.is_fatal() {
                    this.forget(version);
                }
            }
            res
        }))
    }
}
