//! [`ClusterClient`]: Redis Cluster with the same typed API as one server
//! (routing, redirects and retries are described on the type).

mod map;
mod pubsub;
mod route;
mod slot;

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::task::Poll;
use std::time::Duration;

use proto_resp::{Cmd, Frame};

use super::client::{Client, PooledConnection};
use super::commands::Commands;
use super::config::Config;
use super::conn::{Connection, leaves_session_state};
use super::error::{Error, ServerError};
use super::from_resp::{FromResp, check};
use crate::pool::backoff::{XorShift, delay};
use crate::rt::{Backend, DefaultBackend, spawn, time};

use map::SlotMap;
pub use pubsub::ClusterPubSub;
use route::{Combine, Route, Split, route};
pub use slot::{SLOTS, key_slot};

/// Where a [`ClusterClient`] sends read-only commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadFrom {
    /// Every command goes to the slot's primary (the default; reads see
    /// every acknowledged write).
    #[default]
    Primary,
    /// Reads go to one of the slot's replicas (chosen in turn) when it has
    /// any, else to the primary. Replicas lag: a read may miss a write
    /// that was just acknowledged.
    PreferReplica,
    /// Reads rotate over the primary and its replicas.
    RoundRobin,
}

/// How to reach a cluster.
///
/// Credentials, protocol, timeouts and pool sizes are per node, in
/// [`node`](Self::node):
///
/// ```
/// use weft::redis::{ClusterConfig, Config, ReadFrom};
///
/// let node = Config::from_url("redis://app:secret@placeholder")?;
/// let config = ClusterConfig::new(["10.0.0.1:7000", "10.0.0.2:7000"])
///     .node(node)
///     .read_from(ReadFrom::PreferReplica);
/// assert_eq!(config.node.username.as_deref(), Some("app"));
/// # Ok::<_, weft::redis::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClusterConfig {
    /// Seed nodes, `host:port`: any reachable one provides the slot map.
    pub seeds: Vec<String>,
    /// Per-node settings (credentials, protocol, timeouts, pool); host and
    /// port are replaced by each node's. `response_timeout` bounds a whole
    /// cluster command, redirects and retries included.
    pub node: Config,
    /// Where reads go.
    pub read_from: ReadFrom,
    /// Most `MOVED`/`ASK` redirects one command follows.
    pub max_redirects: u32,
    /// Most retries of one command after `TRYAGAIN`, `CLUSTERDOWN`,
    /// `LOADING`, `MASTERDOWN` or a refused connection.
    pub max_retries: u32,
    /// First retry delay (doubling, jittered, up to `retry_max`).
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
}

impl ClusterConfig {
    /// Seeds `host:port` with default node settings.
    pub fn new<S: Into<String>>(seeds: impl IntoIterator<Item = S>) -> Self {
        let mut node = Config::default();
        node.pool = node
            .pool
            .backoff(Duration::from_millis(20), Duration::from_millis(500));
        ClusterConfig {
            seeds: seeds.into_iter().map(Into::into).collect(),
            node,
            read_from: ReadFrom::Primary,
            max_redirects: 16,
            max_retries: 12,
            retry_base: Duration::from_millis(20),
            retry_max: Duration::from_millis(500),
        }
    }

    /// Replaces the per-node settings (keeps the seeds).
    pub fn node(mut self, node: Config) -> Self {
        self.node = node;
        self
    }

    /// Sets [`ClusterConfig::read_from`].
    pub fn read_from(mut self, r: ReadFrom) -> Self {
        self.read_from = r;
        self
    }
}

/// A node's client, and the one whose connections send `READONLY`.
type NodeClients<B> = (Client<B>, Option<Client<B>>);

struct Inner<B: Backend> {
    /// Keys this client's per-thread cache.
    id: u64,
    config: ClusterConfig,
    map: RwLock<Arc<SlotMap>>,
    /// Bumped on every map change; threads compare it with their copy.
    version: AtomicU64,
    /// Per node address: the client for its primary role, and one whose
    /// connections send `READONLY`.
    nodes: Mutex<HashMap<String, NodeClients<B>>>,
    refreshing: AtomicBool,
    refreshes: AtomicU64,
    moved: AtomicU64,
    asked: AtomicU64,
}

/// What each thread keeps of a [`ClusterClient`], so the hot path takes no
/// lock and writes no shared memory: the slot map as of `version`, the
/// node clients, and the round-robin counter.
struct Local<B: Backend> {
    version: u64,
    map: Arc<SlotMap>,
    nodes: HashMap<String, NodeClients<B>>,
    turn: usize,
}

/// A client (to notice it was dropped) and this thread's state for it.
type LocalEntry = (Weak<dyn Any + Send + Sync>, Box<dyn Any>);

thread_local! {
    /// Per client id.
    static LOCAL: RefCell<HashMap<u64, LocalEntry>> = RefCell::new(HashMap::new());
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A Redis Cluster client: `Clone + Send + Sync`, same [`Commands`] as
/// [`Client`].
///
/// Follows the Redis Cluster specification:
///
/// - the slot map comes from `CLUSTER SHARDS` (`CLUSTER SLOTS` on servers
///   before 7.0), asked of any reachable node (the seeds, then every node
///   the last map named);
/// - a key's slot is CRC16 of the key (or of its `{hash tag}`) modulo
///   16384 ([`key_slot`]);
/// - `-MOVED slot host:port` ("Redirection and resharding"): the slot now
///   lives elsewhere; the map is patched at once, the command retried
///   there, and a full refresh is started in the background;
/// - `-ASK slot host:port` ("ASK redirection"): the key is being migrated;
///   the command is retried once on the target, preceded by `ASKING` on the
///   same connection (both go out in one write, back to back), and the map
///   is left alone;
/// - redirects are bounded ([`ClusterConfig::max_redirects`]);
/// - `-TRYAGAIN` (a multi-key command during a migration), `-CLUSTERDOWN`,
///   `-LOADING`, `-MASTERDOWN` and a node that refuses connections (failed
///   over) are retried with jittered exponential backoff, refreshing the
///   map, up to [`ClusterConfig::max_retries`] times. A command whose
///   connection broke after it was sent is *not* retried (it may have
///   run): its caller gets the error, and the map is refreshed;
/// - `MGET`, `MSET`, `DEL`, `UNLINK`, `EXISTS` and `TOUCH` whose keys span
///   several slots are split per slot and sent in parallel (`MSET` is then
///   not atomic across slots, as in every cluster client); other
///   multi-key commands across slots fail with [`Error::CrossSlot`];
/// - pipelines ([`Commands::query_batch`], [`Pipeline`](super::Pipeline))
///   are grouped per node, every group is written before any reply is
///   awaited, and replies come back in the caller's order; transactions
///   (`Pipeline::atomic`) must stay within one slot;
/// - reads may go to replicas ([`ReadFrom`]), whose connections send
///   `READONLY` ("Scaling reads using replica nodes").
///
/// Each node has a [`Client`] of its own, so every worker keeps its own
/// per-node pool and one multiplexed connection per node.
///
/// ```no_run
/// use weft::redis::{ClusterClient, ClusterConfig, Commands};
///
/// let cluster = ClusterClient::new(ClusterConfig::new(["127.0.0.1:7000", "127.0.0.1:7001"]));
/// weft::rt::block_on(async {
///     cluster.set("{user:1}:name", "ada").await?;
///     cluster.set("{user:1}:lang", "en").await?;
///     // Same hash tag, same slot: MGET runs as one command.
///     let v: Vec<String> = cluster.mget(&["{user:1}:name", "{user:1}:lang"]).await?;
///     assert_eq!(v, ["ada", "en"]);
///     Ok::<_, weft::redis::Error>(())
/// })?;
/// # Ok::<_, weft::redis::Error>(())
/// ```
pub struct ClusterClient<B: Backend = DefaultBackend> {
    inner: Arc<Inner<B>>,
}

impl<B: Backend> Clone for ClusterClient<B> {
    fn clone(&self) -> Self {
        ClusterClient {
            inner: self.inner.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for ClusterClient<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterClient")
            .field("seeds", &self.inner.config.seeds)
            .field("map", &self.map())
            .finish_non_exhaustive()
    }
}

impl ClusterClient<DefaultBackend> {
    /// A cluster client on the default backend. Connects lazily.
    pub fn new(config: ClusterConfig) -> Self {
        ClusterClient::with_backend(config)
    }
}

/// What an error reply asks the client to do.
enum Redirect {
    Moved(String),
    Ask(String),
    Retry { refresh: bool },
}

/// Reads `-MOVED slot addr`, `-ASK slot addr`, `-TRYAGAIN`, `-CLUSTERDOWN`,
/// `-LOADING`, `-MASTERDOWN` and `-READONLY` (a write reached a node that
/// was demoted to replica). An empty host (`:port`, Redis 7 with
/// `cluster-preferred-endpoint-type unknown-endpoint`) means the node the
/// command was sent to.
fn redirect(reply: &Frame, sent_to: &str) -> Option<Redirect> {
    let e = reply.as_error()?;
    let mut words = e.split(|&b| b == b' ');
    let code = words.next()?;
    let target = |words: &mut dyn Iterator<Item = &[u8]>| {
        let _slot = words.next()?;
        let addr = String::from_utf8_lossy(words.next()?).into_owned();
        Some(match addr.strip_prefix(':') {
            Some(port) => {
                let host = sent_to.rsplit_once(':').map_or(sent_to, |(h, _)| h);
                format!("{host}:{port}")
            }
            None => addr,
        })
    };
    match code {
        b"MOVED" => target(&mut words).map(Redirect::Moved),
        b"ASK" => target(&mut words).map(Redirect::Ask),
        b"TRYAGAIN" | b"LOADING" => Some(Redirect::Retry { refresh: false }),
        b"CLUSTERDOWN" | b"MASTERDOWN" | b"READONLY" => Some(Redirect::Retry { refresh: true }),
        _ => None,
    }
}

/// Polls every future, returning all outputs in order once all are done.
async fn join_all<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T>>>>) -> Vec<T> {
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futures.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *o = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("polled to completion"))
        .collect()
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

impl<B: Backend> ClusterClient<B> {
    /// A cluster client on backend `B`. Connects lazily: the slot map is
    /// read on the first command.
    pub fn with_backend(config: ClusterConfig) -> Self {
        ClusterClient {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                config,
                map: RwLock::new(Arc::new(SlotMap::empty())),
                version: AtomicU64::new(1),
                nodes: Mutex::new(HashMap::new()),
                refreshing: AtomicBool::new(false),
                refreshes: AtomicU64::new(0),
                moved: AtomicU64::new(0),
                asked: AtomicU64::new(0),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClusterConfig {
        &self.inner.config
    }

    /// Runs `f` on this thread's view of the client, first catching up
    /// with the shared slot map if it changed.
    fn with_local<R>(&self, f: impl FnOnce(&mut Local<B>) -> R) -> R {
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
                                map: Arc::new(SlotMap::empty()),
                                nodes: HashMap::new(),
                                turn: 0,
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
                local.map = self
                    .inner
                    .map
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                local.version = version;
            }
            f(local)
        })
    }

    fn map(&self) -> Arc<SlotMap> {
        self.with_local(|l| l.map.clone())
    }

    fn set_map(&self, map: SlotMap) {
        *self.inner.map.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
        self.inner.version.fetch_add(1, Ordering::Release);
    }

    /// The next value of this thread's round-robin counter.
    fn turn(&self) -> usize {
        self.with_local(|l| {
            l.turn = l.turn.wrapping_add(1);
            l.turn
        })
    }

    /// How many times the slot map was read from the cluster.
    pub fn refreshes(&self) -> u64 {
        self.inner.refreshes.load(Ordering::Relaxed)
    }

    /// How many `MOVED` and `ASK` redirects this client followed.
    pub fn redirects(&self) -> (u64, u64) {
        (
            self.inner.moved.load(Ordering::Relaxed),
            self.inner.asked.load(Ordering::Relaxed),
        )
    }

    /// The client of the node at `addr` (`host:port`), created on first
    /// use; `readonly` picks the one whose connections send `READONLY`.
    pub fn node_client(&self, addr: &str, readonly: bool) -> Result<Client<B>, Error> {
        let cached = self.with_local(|l| {
            let (primary, replica) = l.nodes.get(addr)?;
            if readonly {
                replica.clone()
            } else {
                Some(primary.clone())
            }
        });
        if let Some(c) = cached {
            return Ok(c);
        }
        let client = self.shared_node_client(addr, readonly)?;
        let entry = {
            let nodes = self.inner.nodes.lock().unwrap_or_else(|e| e.into_inner());
            nodes.get(addr).cloned()
        };
        if let Some(entry) = entry {
            self.with_local(|l| l.nodes.insert(addr.to_owned(), entry));
        }
        Ok(client)
    }

    /// [`node_client`](Self::node_client) through the map shared by every
    /// thread (so each node has one client, one pool).
    fn shared_node_client(&self, addr: &str, readonly: bool) -> Result<Client<B>, Error> {
        let mut nodes = self.inner.nodes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((primary, replica)) = nodes.get_mut(addr) {
            if !readonly {
                return Ok(primary.clone());
            }
            if let Some(r) = replica {
                return Ok(r.clone());
            }
            let mut config = primary.config().clone();
            config.readonly = true;
            let r = Client::with_backend(config);
            *replica = Some(r.clone());
            return Ok(r);
        }
        let config = self.inner.config.node.with_address(addr)?;
        let primary = Client::with_backend(config.clone());
        let replica = readonly.then(|| {
            let mut config = config;
            config.readonly = true;
            Client::with_backend(config)
        });
        nodes.insert(addr.to_owned(), (primary.clone(), replica.clone()));
        Ok(replica.unwrap_or(primary))
    }

    /// The primaries of the current slot map (loaded first if needed),
    /// with their clients: for per-node commands such as `SCAN`.
    pub async fn primary_clients(&self) -> Result<Vec<(String, Client<B>)>, Error> {
        let map = self.loaded_map().await?;
        map.shards()
            .iter()
            .map(|s| Ok((s.primary.clone(), self.node_client(&s.primary, false)?)))
            .collect()
    }

    /// The address of the primary serving `slot`, per the current map.
    pub async fn primary_of(&self, slot: u16) -> Result<String, Error> {
        let map = self.loaded_map().await?;
        map.shard(slot)
            .map(|s| s.primary.clone())
            .ok_or_else(|| Error::Cluster(format!("no node serves slot {slot}")))
    }

    /// The primary serving `slot` and its replicas, per the current map.
    pub async fn shard_of(&self, slot: u16) -> Result<(String, Vec<String>), Error> {
        let map = self.loaded_map().await?;
        map.shard(slot)
            .map(|s| (s.primary.clone(), s.replicas.clone()))
            .ok_or_else(|| Error::Cluster(format!("no node serves slot {slot}")))
    }

    /// A connection to the primary serving `key`'s slot, for exclusive use:
    /// `WATCH` and a transaction on keys of that slot.
    pub async fn acquire(&self, key: &[u8]) -> Result<PooledConnection<B>, Error> {
        let addr = self.primary_of(key_slot(key)).await?;
        self.node_client(&addr, false)?.acquire().await
    }

    /// A subscriber: `SUBSCRIBE`/`PSUBSCRIBE` on one node, `SSUBSCRIBE` on
    /// the primary of each shard channel's slot, re-subscribed after
    /// failovers and slot migrations.
    pub async fn pubsub(&self) -> Result<ClusterPubSub<B>, Error> {
        ClusterPubSub::new(self.clone()).await
    }

    async fn loaded_map(&self) -> Result<Arc<SlotMap>, Error> {
        let map = self.map();
        if !map.is_empty() {
            return Ok(map);
        }
        self.refresh().await?;
        Ok(self.map())
    }

    /// Reads the slot map from the first node that answers: the nodes of
    /// the current map, then the seeds. Each is asked over a connection of
    /// its own (a node that just failed must not hold up the others behind
    /// its pool's reconnect backoff).
    pub async fn refresh(&self) -> Result<(), Error> {
        let current = self.map();
        let mut candidates: Vec<String> = Vec::new();
        for s in current.shards() {
            candidates.push(s.primary.clone());
            candidates.extend(s.replicas.iter().cloned());
        }
        candidates.extend(self.inner.config.seeds.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        candidates.retain(|c| seen.insert(c.clone()));
        // Start at a different node each time, so one node with a stale
        // view does not answer every refresh.
        let start = self.turn() % candidates.len().max(1);
        candidates.rotate_left(start);
        let mut last = Error::Cluster("no seed nodes configured".into());
        for addr in candidates {
            match self.read_map(&addr).await {
                Ok(map) if !map.is_empty() => {
                    self.set_map(map);
                    self.inner.refreshes.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Ok(_) => last = Error::Cluster(format!("{addr} serves no slots")),
                Err(e) => last = e,
            }
        }
        Err(match last {
            e @ Error::Cluster(_) => e,
            e => Error::Cluster(format!("no node answered with the slot map: {e}")),
        })
    }

    async fn read_map(&self, addr: &str) -> Result<SlotMap, Error> {
        let config = self.inner.config.node.with_address(addr)?;
        let conn = Connection::connect::<B>(&config).await?;
        let shards = conn.send_raw(&Cmd::new("CLUSTER").with("SHARDS"))?.await?;
        let map = if shards.is_error() {
            // Before Redis 7.0.
            let slots = conn.send_raw(&Cmd::new("CLUSTER").with("SLOTS"))?.await?;
            SlotMap::from_slots(&check(slots)?)
        } else {
            SlotMap::from_shards(&shards)
        };
        conn.close();
        map
    }

    /// Starts a refresh in the background unless one is running.
    fn refresh_soon(&self) {
        if self.inner.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        // Clears the flag however the task ends (also when its runtime
        // stops before it finished), so later refreshes are not refused.
        struct Done<B: Backend>(ClusterClient<B>);
        impl<B: Backend> Drop for Done<B> {
            fn drop(&mut self) {
                self.0.inner.refreshing.store(false, Ordering::Release);
            }
        }
        let done = Done(self.clone());
        spawn(async move {
            if let Err(e) = done.0.refresh().await {
                tracing::warn!(error = %e, "redis cluster slot map refresh failed");
            }
            drop(done);
        });
    }

    /// The node for `slot`: its primary, or a replica for a read when the
    /// read mode allows.
    fn pick(&self, map: &SlotMap, slot: u16, read: bool) -> Option<(String, bool)> {
        let mode = self.inner.config.read_from;
        pick(map, slot, read, mode, || self.turn())
    }

    /// Any primary, in turn (keyless commands).
    fn any_primary(&self, map: &SlotMap) -> Option<String> {
        any_primary(map, || self.turn())
    }

    async fn backoff(&self, attempt: u32, rng: &mut XorShift) {
        let c = &self.inner.config;
        time::sleep(delay(attempt, c.retry_base, c.retry_max, rng)).await;
    }

    /// Runs one command routed to `slot` (or to any primary for `None`),
    /// following redirects and retrying as [`ClusterClient`] describes. The reply
    /// may be an error frame (a per-command error).
    async fn run_slot(&self, cmd: &Cmd, slot: Option<u16>, read: bool) -> Result<Frame, Error> {
        let asking = Cmd::new("ASKING");
        let mut target: Option<(String, bool)> = None;
        let mut redirects = 0;
        let mut retries = 0;
        let mut rng = XorShift::seeded();
        loop {
            let (addr, ask, replica) = match target.take() {
                Some((addr, ask)) => (addr, ask, false),
                None => {
                    if self.with_local(|l| l.map.is_empty()) {
                        self.loaded_map().await?;
                    }
                    // On this thread's copy of the map: no lock, no shared
                    // reference count touched.
                    let mode = self.inner.config.read_from;
                    let picked = self.with_local(|l| {
                        let turn = &mut l.turn;
                        let mut next = || {
                            *turn = turn.wrapping_add(1);
                            *turn
                        };
                        match slot {
                            Some(s) => pick(&l.map, s, read, mode, next),
                            None => any_primary(&l.map, &mut next).map(|a| (a, false)),
                        }
                    });
                    match picked {
                        Some((addr, replica)) => (addr, false, replica),
                        None if retries < self.inner.config.max_retries => {
                            // A slot no node serves (yet): read the map again.
                            retries += 1;
                            self.backoff(retries, &mut rng).await;
                            let _ = self.refresh().await;
                            continue;
                        }
                        None => {
                            return Err(Error::Cluster(format!(
                                "no node serves slot {}",
                                slot.unwrap_or_default()
                            )));
                        }
                    }
                }
            };
            let conn = match self.node_client(&addr, replica)?.shared().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(node = %addr, error = %e, "redis cluster node unreachable");
                    // Nothing was sent. An unreachable replica: the read
                    // goes to the slot's primary at once.
                    if replica {
                        let primary = slot.and_then(|s| {
                            self.with_local(|l| l.map.shard(s).map(|sh| sh.primary.clone()))
                        });
                        if let Some(p) = primary {
                            target = Some((p, false));
                            // The map may still list it; look again.
                            self.refresh_soon();
                            continue;
                        }
                    }
                    // Otherwise retry once the map says where the slot
                    // went (a failover, a removed node).
                    if retries >= self.inner.config.max_retries {
                        return Err(e);
                    }
                    retries += 1;
                    self.backoff(retries, &mut rng).await;
                    let _ = self.refresh().await;
                    continue;
                }
            };
            let reply = if ask {
                let mut replies = conn.send_batch([&asking, cmd]).await;
                match &mut replies {
                    Ok(r) if r.len() == 2 => Ok(r.pop().expect("two replies")),
                    Ok(_) => Err(Error::Type("ASKING batch lost a reply".into())),
                    Err(_) => replies.map(|_| Frame::Null),
                }
            } else {
                match conn.send_raw(cmd) {
                    Ok(f) => f.await,
                    Err(e) => Err(e),
                }
            };
            let reply = match reply {
                Ok(r) => r,
                Err(e) => {
                    // The command may have run: no retry, but the node may
                    // be gone, so look again.
                    if e.is_fatal() {
                        self.refresh_soon();
                    }
                    return Err(e);
                }
            };
            match redirect(&reply, &addr) {
                None => return Ok(reply),
                Some(Redirect::Moved(to)) | Some(Redirect::Ask(to))
                    if redirects >= self.inner.config.max_redirects =>
                {
                    let _ = to;
                    return Err(Error::TooManyRedirects);
                }
                Some(Redirect::Moved(to)) => {
                    redirects += 1;
                    self.inner.moved.fetch_add(1, Ordering::Relaxed);
                    if let Some(s) = slot {
                        let patched = self.map().with_moved(s, &to);
                        self.set_map(patched);
                    }
                    self.refresh_soon();
                    target = Some((to, false));
                }
                Some(Redirect::Ask(to)) => {
                    redirects += 1;
                    self.inner.asked.fetch_add(1, Ordering::Relaxed);
                    target = Some((to, true));
                }
                Some(Redirect::Retry { refresh }) => {
                    if retries >= self.inner.config.max_retries {
                        return Ok(reply);
                    }
                    retries += 1;
                    self.backoff(retries, &mut rng).await;
                    if refresh {
                        let _ = self.refresh().await;
                    }
                }
            }
        }
    }

    /// Sends `cmd` to every primary and combines the replies.
    async fn run_all(&self, cmd: &Cmd, combine: Combine) -> Result<Frame, Error> {
        let map = self.loaded_map().await?;
        let mut futures: Vec<BoxFuture<Result<Frame, Error>>> = Vec::new();
        for shard in map.shards() {
            let client = self.node_client(&shard.primary, false)?;
            let cmd = cmd.clone();
            futures.push(Box::pin(async move {
                client.shared().await?.send_raw(&cmd)?.await
            }));
        }
        let mut replies = Vec::new();
        for r in join_all(futures).await {
            replies.push(check(r?)?);
        }
        Ok(match combine {
            Combine::First => replies.into_iter().next().unwrap_or(Frame::Null),
            Combine::Sum => Frame::Integer(replies.iter().filter_map(Frame::as_integer).sum()),
            Combine::Concat => {
                let mut all = Vec::new();
                for r in replies {
                    if let Frame::Array(v) | Frame::Set(v) = r {
                        all.extend(v);
                    }
                }
                Frame::Array(all)
            }
        })
    }

    /// Runs a multi-key command split per slot.
    async fn run_split(&self, cmd: &Cmd, split: Split, read: bool) -> Result<Frame, Error> {
        let args: Vec<&[u8]> = cmd.args().collect();
        let name = args[0];
        let step = if split == Split::Mset { 2 } else { 1 };
        // Slot -> (argument groups, their positions among the keys).
        let mut groups: Vec<(u16, Cmd, Vec<usize>)> = Vec::new();
        for (n, chunk) in args[1..].chunks(step).enumerate() {
            let slot = key_slot(chunk[0]);
            let g = match groups.iter().position(|g| g.0 == slot) {
                Some(i) => i,
                None => {
                    groups.push((slot, Cmd::new(name), Vec::new()));
                    groups.len() - 1
                }
            };
            for a in chunk {
                groups[g].1.arg(*a);
            }
            groups[g].2.push(n);
        }
        let keys = (args.len() - 1) / step;
        let futures: Vec<BoxFuture<Result<Frame, Error>>> = groups
            .iter()
            .map(|(slot, c, _)| {
                let this = self.clone();
                let c = c.clone();
                let slot = *slot;
                Box::pin(async move { this.run_slot(&c, Some(slot), read).await }) as BoxFuture<_>
            })
            .collect();
        let replies = join_all(futures).await;
        match split {
            Split::Mget => {
                let mut values = vec![Frame::Null; keys];
                for ((_, _, positions), reply) in groups.iter().zip(replies) {
                    let reply = check(reply?)?;
                    let Some(vals) = reply.as_elements() else {
                        return Err(Error::Type("MGET reply is not an array".into()));
                    };
                    if vals.len() != positions.len() {
                        return Err(Error::Type("MGET reply has the wrong length".into()));
                    }
                    for (&p, v) in positions.iter().zip(vals) {
                        values[p] = v.clone();
                    }
                }
                Ok(Frame::Array(values))
            }
            Split::Mset => {
                for reply in replies {
                    check(reply?)?;
                }
                Ok(Frame::SimpleString(bytes::Bytes::from_static(b"OK")))
            }
            Split::Count => {
                let mut sum = 0;
                for reply in replies {
                    sum += check(reply?)?
                        .as_integer()
                        .ok_or_else(|| Error::Type("expected an integer".into()))?;
                }
                Ok(Frame::Integer(sum))
            }
        }
    }

    /// Runs one command however its route says; the reply may be an error
    /// frame.
    async fn run(&self, cmd: &Cmd) -> Result<Frame, Error> {
        if leaves_session_state(cmd) {
            return Err(Error::Unsupported(SESSION_STATE));
        }
        let (r, read) = route(cmd);
        let work = async {
            match r {
                Route::Slot(s) => self.run_slot(cmd, Some(s), read).await,
                Route::Any => self.run_slot(cmd, None, false).await,
                Route::All(c) => self.run_all(cmd, c).await,
                Route::Split(s) => self.run_split(cmd, s, read).await,
                Route::CrossSlot => Err(Error::CrossSlot),
                Route::Unsupported(why) => Err(Error::Unsupported(why)),
            }
        };
        match self.inner.config.node.response_timeout {
            Some(d) => time::timeout(d, work).await.unwrap_or(Err(Error::Timeout)),
            None => work.await,
        }
    }

    /// A `MULTI` ... `EXEC` batch: every key in one slot, sent as one run
    /// to that slot's primary; re-sent (it did not run) when a `MOVED`
    /// aborted it.
    async fn run_transaction(&self, cmds: &[Cmd]) -> Result<Vec<Frame>, Error> {
        let mut slot = None;
        for c in cmds {
            match route(c).0 {
                Route::Slot(s) if slot.is_none_or(|p| p == s) => slot = Some(s),
                Route::Slot(_) | Route::CrossSlot | Route::Split(_) => {
                    return Err(Error::CrossSlot);
                }
                Route::All(_) | Route::Unsupported(_) => {
                    return Err(Error::Unsupported(
                        "this command cannot run inside a cluster transaction",
                    ));
                }
                Route::Any => {}
            }
        }
        let mut redirects = 0;
        let mut rng = XorShift::seeded();
        loop {
            let map = self.loaded_map().await?;
            let addr = match slot {
                Some(s) => self.pick(&map, s, false).map(|p| p.0),
                None => self.any_primary(&map),
            }
            .ok_or_else(|| Error::Cluster("no node serves the transaction's slot".into()))?;
            let conn = match self.node_client(&addr, false)?.shared().await {
                Ok(c) => c,
                Err(e) if redirects < self.inner.config.max_retries => {
                    tracing::debug!(node = %addr, error = %e, "redis cluster node unreachable");
                    redirects += 1;
                    self.backoff(redirects, &mut rng).await;
                    let _ = self.refresh().await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let replies = conn.send_batch(cmds).await.inspect_err(|e| {
                if e.is_fatal() {
                    self.refresh_soon();
                }
            })?;
            // A queued command answered MOVED: EXEC aborted, nothing ran.
            let moved = replies.iter().find_map(|r| match redirect(r, &addr) {
                Some(Redirect::Moved(to)) => Some(to),
                _ => None,
            });
            match (moved, slot) {
                (Some(to), Some(s)) if redirects < self.inner.config.max_redirects => {
                    redirects += 1;
                    let patched = self.map().with_moved(s, &to);
                    self.set_map(patched);
                    self.refresh_soon();
                }
                _ => return Ok(replies),
            }
        }
    }

    /// A pipeline: grouped per node, every group written before any reply
    /// is awaited; replies that ask for a redirect or a retry are re-run
    /// one by one, in order.
    async fn run_batch(&self, cmds: Vec<Cmd>) -> Result<Vec<Frame>, Error> {
        let is = |c: Option<&Cmd>, n: &[u8]| {
            c.and_then(|c| c.args().next())
                .is_some_and(|a| a.eq_ignore_ascii_case(n))
        };
        if cmds.len() >= 2 && is(cmds.first(), b"MULTI") && is(cmds.last(), b"EXEC") {
            return self.run_transaction(&cmds).await;
        }
        // Refused as a whole before anything is sent.
        for c in &cmds {
            if let (Route::Unsupported(why), _) = route(c) {
                return Err(Error::Unsupported(why));
            }
            if leaves_session_state(c) {
                return Err(Error::Unsupported(SESSION_STATE));
            }
        }
        let map = self.loaded_map().await?;
        let mut out: Vec<Option<Frame>> = vec![None; cmds.len()];
        // Node -> (replica?, positions).
        let mut groups: Vec<(String, bool, Vec<usize>)> = Vec::new();
        let mut alone: Vec<usize> = Vec::new();
        for (i, c) in cmds.iter().enumerate() {
            let (r, read) = route(c);
            let picked = match r {
                Route::Slot(s) => self.pick(&map, s, read),
                Route::Any => self.any_primary(&map).map(|a| (a, false)),
                Route::CrossSlot => {
                    out[i] = Some(Frame::SimpleError(bytes::Bytes::from_static(
                        b"CROSSSLOT Keys in request don't hash to the same slot",
                    )));
                    continue;
                }
                _ => None,
            };
            match picked {
                Some((addr, replica)) => {
                    match groups.iter_mut().find(|g| g.0 == addr && g.1 == replica) {
                        Some(g) => g.2.push(i),
                        None => groups.push((addr, replica, vec![i])),
                    }
                }
                None => alone.push(i),
            }
        }
        // Connect first (usually the worker's connection is open), then
        // write every group before awaiting any reply.
        let mut conns = Vec::with_capacity(groups.len());
        for (addr, replica, positions) in &groups {
            match self.node_client(addr, *replica)?.shared().await {
                Ok(c) => conns.push(Some(c)),
                Err(e) => {
                    tracing::debug!(node = %addr, error = %e, "redis cluster node unreachable");
                    // Nothing sent: these go one by one (with retries).
                    alone.extend(positions);
                    conns.push(None);
                }
            }
        }
        let mut futures: Vec<BoxFuture<Result<Vec<Frame>, Error>>> = Vec::new();
        let mut sent: Vec<&Vec<usize>> = Vec::new();
        for ((_, _, positions), conn) in groups.iter().zip(&conns) {
            if let Some(conn) = conn {
                futures.push(Box::pin(
                    conn.send_batch(positions.iter().map(|&i| &cmds[i])),
                ));
                sent.push(positions);
            }
        }
        let mut failed = None;
        for (positions, replies) in sent.into_iter().zip(join_all(futures).await) {
            match replies {
                Ok(replies) => {
                    for (&i, r) in positions.iter().zip(replies) {
                        out[i] = Some(r);
                    }
                }
                Err(e) => failed = Some(e),
            }
        }
        if let Some(e) = failed {
            if e.is_fatal() {
                self.refresh_soon();
            }
            return Err(e);
        }
        alone.sort_unstable();
        let mut redo: Vec<usize> = alone;
        for (i, r) in out.iter().enumerate() {
            if let Some(f) = r {
                if f.is_error() && redirect(f, "").is_some() {
                    redo.push(i);
                }
            }
        }
        redo.sort_unstable();
        redo.dedup();
        for i in redo {
            out[i] = Some(match self.run(&cmds[i]).await {
                Ok(f) => f,
                Err(Error::Server(e)) => Frame::SimpleError(bytes::Bytes::from(e.to_string())),
                Err(e) => return Err(e),
            });
        }
        Ok(out.into_iter().map(|f| f.unwrap_or(Frame::Null)).collect())
    }
}

/// The node for `slot` in `map`: its primary, or for a read a replica as
/// `mode` says; `turn` gives the round-robin position.
fn pick(
    map: &SlotMap,
    slot: u16,
    read: bool,
    mode: ReadFrom,
    turn: impl FnOnce() -> usize,
) -> Option<(String, bool)> {
    let shard = map.shard(slot)?;
    let n = shard.replicas.len();
    if !read || n == 0 || mode == ReadFrom::Primary {
        return Some((shard.primary.clone(), false));
    }
    let turn = turn();
    match mode {
        ReadFrom::PreferReplica => Some((shard.replicas[turn % n].clone(), true)),
        _ => match turn % (n + 1) {
            0 => Some((shard.primary.clone(), false)),
            i => Some((shard.replicas[i - 1].clone(), true)),
        },
    }
}

/// Any primary of `map`, in turn.
fn any_primary(map: &SlotMap, turn: impl FnOnce() -> usize) -> Option<String> {
    let shards = map.shards();
    if shards.is_empty() {
        return None;
    }
    Some(shards[turn() % shards.len()].primary.clone())
}

/// The future of a [`ClusterClient`] or
/// [`SentinelClient`](super::SentinelClient) command.
pub struct ClusterFuture<T> {
    inner: BoxFuture<Result<T, Error>>,
}

impl<T> ClusterFuture<T> {
    pub(crate) fn new(inner: BoxFuture<Result<T, Error>>) -> Self {
        ClusterFuture { inner }
    }
}

impl<T> fmt::Debug for ClusterFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterFuture").finish_non_exhaustive()
    }
}

impl<T> Future for ClusterFuture<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

/// Why a command that leaves state on its connection (`WATCH`, a lone
/// `MULTI`, `AUTH`, `HELLO`, `READONLY`, `CLIENT TRACKING`, ...) is refused:
/// it would run on a node's connection shared by every caller of the
/// worker, who would all inherit that state (after a lone `MULTI`, their
/// commands would be queued into the transaction).
const SESSION_STATE: &str = "a command that changes the connection's state on a node's shared \
     connection; use ClusterClient::acquire(key) for WATCH/MULTI, Pipeline::atomic, or \
     ClusterClient::pubsub";

impl<B: Backend> Commands for ClusterClient<B> {
    type Fut<T: FromResp + 'static> = ClusterFuture<T>;
    type BatchFut = ClusterFuture<Vec<Frame>>;

    fn query_cmd<T: FromResp + 'static>(&self, cmd: Cmd) -> ClusterFuture<T> {
        let this = self.clone();
        ClusterFuture {
            inner: Box::pin(async move {
                let frame = this.run(&cmd).await?;
                T::from_resp(check(frame)?)
            }),
        }
    }

    fn query_batch<'a>(
        &self,
        cmds: impl IntoIterator<Item = &'a Cmd>,
    ) -> ClusterFuture<Vec<Frame>> {
        let cmds: Vec<Cmd> = cmds.into_iter().cloned().collect();
        let this = self.clone();
        ClusterFuture {
            inner: Box::pin(async move {
                match this.inner.config.node.response_timeout {
                    Some(d) => time::timeout(d, this.run_batch(cmds))
                        .await
                        .unwrap_or(Err(Error::Timeout)),
                    None => this.run_batch(cmds).await,
                }
            }),
        }
    }
}

impl ServerError {
    /// For a `MOVED`/`ASK` error: the slot and the `host:port` it names.
    pub fn redirect_target(&self) -> Option<(u16, &str)> {
        if self.code() != "MOVED" && self.code() != "ASK" {
            return None;
        }
        let (slot, addr) = self.message().split_once(' ')?;
        Some((slot.parse().ok()?, addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn err(s: &str) -> Frame {
        Frame::SimpleError(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn dropped_clients_leave_no_thread_state() {
        type C = ClusterClient<crate::rt::DefaultBackend>;
        let entries = || LOCAL.with(|l| l.borrow().len());
        let a = C::with_backend(ClusterConfig::new(["127.0.0.1:1"]));
        let _ = a.map();
        let with_a = entries();
        drop(a);
        let b = C::with_backend(ClusterConfig::new(["127.0.0.1:1"]));
        let _ = b.map();
        // `a`'s state went when `b` arrived.
        assert_eq!(entries(), with_a);
        assert!(LOCAL.with(|l| l.borrow().contains_key(&b.inner.id)));
    }

    #[test]
    fn reads_redirects() {
        match redirect(&err("MOVED 3999 127.0.0.1:6381"), "127.0.0.1:7000") {
            Some(Redirect::Moved(a)) => assert_eq!(a, "127.0.0.1:6381"),
            _ => panic!("not MOVED"),
        }
        match redirect(&err("ASK 3999 :6381"), "10.0.0.1:7000") {
            Some(Redirect::Ask(a)) => assert_eq!(a, "10.0.0.1:6381"),
            _ => panic!("not ASK"),
        }
        assert!(matches!(
            redirect(
                &err("TRYAGAIN Multiple keys request during rehashing of slot"),
                ""
            ),
            Some(Redirect::Retry { refresh: false })
        ));
        assert!(matches!(
            redirect(&err("CLUSTERDOWN The cluster is down"), ""),
            Some(Redirect::Retry { refresh: true })
        ));
        assert!(redirect(&err("WRONGTYPE x"), "").is_none());
        assert!(redirect(&err("MOVED"), "").is_none());
        assert!(redirect(&Frame::Integer(1), "").is_none());
        let e = ServerError::parse(b"MOVED 12 h:1");
        assert_eq!(e.redirect_target(), Some((12, "h:1")));
    }
}
