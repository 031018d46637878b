//! [`ClusterPubSub`]: pub/sub on a cluster (described on the type).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

use bytes::Bytes;
use proto_resp::{Cmd, CmdArg, Protocol};

use super::{ClusterClient, key_slot};
use crate::pool::backoff::{XorShift, delay};
use crate::redis::conn::Connection;
use crate::redis::error::Error;
use crate::redis::from_resp::check;
use crate::redis::pubsub::Message;
use crate::rt::{Backend, time};

#[derive(Default)]
struct Inbox {
    messages: VecDeque<Message>,
    /// Shard channels the server unsubscribed on its own.
    dropped: Vec<Bytes>,
    waker: Option<Waker>,
}

/// Pub/sub on a cluster: classic channels and patterns on one node (a
/// cluster broadcasts `PUBLISH` to every node), shard channels
/// (`SSUBSCRIBE`, Redis 7) on the primary that owns each channel's slot
/// (Redis pub/sub documentation, "Sharded Pub/Sub").
///
/// Subscriptions are remembered. When a connection drops (failover, node
/// restart) or the server unsubscribes a shard channel itself (its slot
/// moved: a `sunsubscribe` push nobody asked for), the next
/// [`ClusterPubSub::next_message`] reads the slot map again and subscribes
/// once more where each channel now lives, with backoff between failed
/// attempts. Messages published while a subscription was being moved are
/// lost: pub/sub is at-most-once.
pub struct ClusterPubSub<B: Backend> {
    cluster: ClusterClient<B>,
    inbox: Rc<RefCell<Inbox>>,
    /// The connection for `SUBSCRIBE`/`PSUBSCRIBE`.
    global: Option<Connection>,
    /// The node `global` is connected to.
    global_node: Option<String>,
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
    /// Shard channel -> the node it is subscribed on (`None`: not yet).
    shards: HashMap<Bytes, Option<String>>,
    /// Node -> connection carrying shard subscriptions.
    shard_conns: HashMap<String, Connection>,
    failures: u32,
    resubscriptions: u64,
    rng: XorShift,
}

impl<B: Backend> fmt::Debug for ClusterPubSub<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterPubSub")
            .field("channels", &self.channels)
            .field("patterns", &self.patterns)
            .field("shards", &self.shards)
            .field("resubscriptions", &self.resubscriptions)
            .finish_non_exhaustive()
    }
}

fn name_of(item: impl CmdArg) -> Bytes {
    let mut c = Cmd::new("x");
    c.arg(item);
    Bytes::copy_from_slice(c.args().nth(1).unwrap_or_default())
}

impl<B: Backend> ClusterPubSub<B> {
    pub(super) async fn new(cluster: ClusterClient<B>) -> Result<Self, Error> {
        cluster.loaded_map().await?;
        Ok(ClusterPubSub {
            cluster,
            inbox: Rc::default(),
            global: None,
            global_node: None,
            channels: BTreeSet::new(),
            patterns: BTreeSet::new(),
            shards: HashMap::new(),
            shard_conns: HashMap::new(),
            failures: 0,
            resubscriptions: 0,
            rng: XorShift::seeded(),
        })
    }

    /// How many times subscriptions were re-made on another connection.
    pub fn resubscriptions(&self) -> u64 {
        self.resubscriptions
    }

    /// The node carrying the `SUBSCRIBE`/`PSUBSCRIBE` subscriptions, once
    /// there are any.
    pub fn global_node(&self) -> Option<&str> {
        self.global_node.as_deref()
    }

    /// The node each shard channel is subscribed on right now.
    pub fn shard_nodes(&self) -> Vec<(Bytes, Option<String>)> {
        self.shards
            .iter()
            .map(|(c, n)| (c.clone(), n.clone()))
            .collect()
    }

    async fn open(&self, addr: &str) -> Result<Connection, Error> {
        let mut config = self.cluster.inner.config.node.with_address(addr)?;
        // Pushes arrive out of band only with RESP3.
        config.protocol = Protocol::Resp3;
        let conn = Connection::connect::<B>(&config).await?;
        let inbox = self.inbox.clone();
        conn.set_push_handler(move |frame| {
            let mut i = inbox.borrow_mut();
            if let Some(m) = Message::from_push(&frame) {
                i.messages.push_back(m);
            } else if frame
                .push_kind()
                .is_some_and(|k| k.eq_ignore_ascii_case(b"sunsubscribe"))
            {
                // Not a reply to our SUNSUBSCRIBE (those are matched to
                // their request): the slot moved away from this node.
                if let Some(ch) = frame.as_elements().and_then(|e| e.get(1)?.as_bytes()) {
                    i.dropped.push(Bytes::copy_from_slice(ch));
                }
            } else {
                return;
            }
            if let Some(w) = i.waker.take() {
                drop(i);
                w.wake();
            }
        });
        Ok(conn)
    }

    async fn send(conn: &Connection, name: &str, items: &[Bytes]) -> Result<(), Error> {
        let mut c = Cmd::new(name);
        for i in items {
            c.arg(i);
        }
        check(conn.send(&c, false)?.await?).map(drop)
    }

    /// `SUBSCRIBE channel...`.
    pub async fn subscribe(&mut self, channels: &[impl CmdArg]) -> Result<(), Error> {
        let names: Vec<Bytes> = channels.iter().map(name_of).collect();
        self.channels.extend(names.iter().cloned());
        if let Some(conn) = self.global.as_ref().filter(|c| !c.is_closed()) {
            Self::send(conn, "SUBSCRIBE", &names).await
        } else {
            self.sync().await
        }
    }

    /// `PSUBSCRIBE pattern...`.
    pub async fn psubscribe(&mut self, patterns: &[impl CmdArg]) -> Result<(), Error> {
        let names: Vec<Bytes> = patterns.iter().map(name_of).collect();
        self.patterns.extend(names.iter().cloned());
        if let Some(conn) = self.global.as_ref().filter(|c| !c.is_closed()) {
            Self::send(conn, "PSUBSCRIBE", &names).await
        } else {
            self.sync().await
        }
    }

    /// `SSUBSCRIBE shardchannel...`: each on the primary owning its slot.
    pub async fn ssubscribe(&mut self, channels: &[impl CmdArg]) -> Result<(), Error> {
        for c in channels {
            self.shards.entry(name_of(c)).or_insert(None);
        }
        self.sync().await
    }

    /// `SUNSUBSCRIBE shardchannel...`.
    pub async fn sunsubscribe(&mut self, channels: &[impl CmdArg]) -> Result<(), Error> {
        for c in channels {
            let name = name_of(c);
            if let Some(Some(addr)) = self.shards.remove(&name) {
                if let Some(conn) = self.shard_conns.get(&addr) {
                    Self::send(conn, "SUNSUBSCRIBE", &[name]).await?;
                }
            }
        }
        Ok(())
    }

    /// Makes every remembered subscription live: reconnects what broke and
    /// moves shard channels to their slot's current primary.
    async fn sync(&mut self) -> Result<(), Error> {
        let mut moved = false;
        let dropped = std::mem::take(&mut self.inbox.borrow_mut().dropped);
        for ch in dropped {
            if let Some(node) = self.shards.get_mut(&ch) {
                *node = None;
            }
        }
        self.shard_conns.retain(|_, c| !c.is_closed());
        for node in self.shards.values_mut() {
            if node
                .as_ref()
                .is_some_and(|n| !self.shard_conns.contains_key(n))
            {
                *node = None;
            }
        }
        let global_ok = self.global.as_ref().is_some_and(|c| !c.is_closed());
        let want_global = !self.channels.is_empty() || !self.patterns.is_empty();
        let stale_shards = self.shards.values().any(Option::is_none);
        if (want_global && !global_ok && self.global.is_some()) || stale_shards {
            // Something broke or moved (or a channel is new): read where
            // the slots live now. A failed refresh keeps the old map.
            let _ = self.cluster.refresh().await;
        }
        if want_global && !global_ok {
            let map = self.cluster.loaded_map().await?;
            let addr = self
                .cluster
                .any_primary(&map)
                .ok_or_else(|| Error::Cluster("no primary to subscribe on".into()))?;
            let conn = self.open(&addr).await?;
            let channels: Vec<Bytes> = self.channels.iter().cloned().collect();
            let patterns: Vec<Bytes> = self.patterns.iter().cloned().collect();
            if !channels.is_empty() {
                Self::send(&conn, "SUBSCRIBE", &channels).await?;
            }
            if !patterns.is_empty() {
                Self::send(&conn, "PSUBSCRIBE", &patterns).await?;
            }
            moved |= self.global.is_some();
            self.global = Some(conn);
            self.global_node = Some(addr);
        }
        let pending: Vec<Bytes> = self
            .shards
            .iter()
            .filter(|(_, n)| n.is_none())
            .map(|(c, _)| c.clone())
            .collect();
        for ch in pending {
            let addr = self.cluster.primary_of(key_slot(&ch)).await?;
            if !self.shard_conns.contains_key(&addr) {
                let conn = self.open(&addr).await?;
                self.shard_conns.insert(addr.clone(), conn);
            }
            let conn = &self.shard_conns[&addr];
            match Self::send(conn, "SSUBSCRIBE", std::slice::from_ref(&ch)).await {
                Ok(()) => {}
                Err(Error::Server(e)) if e.code() == "MOVED" => {
                    // The map was stale: the next attempt reads it again.
                    let _ = self.cluster.refresh().await;
                    return Err(Error::Server(e));
                }
                Err(e) => return Err(e),
            }
            moved = true;
            self.shards.insert(ch, Some(addr));
        }
        // Connections left without channels are closed.
        let used: BTreeSet<&String> = self.shards.values().flatten().collect();
        self.shard_conns.retain(|a, _| used.contains(a));
        if moved {
            self.resubscriptions += 1;
        }
        Ok(())
    }

    fn healthy(&self) -> bool {
        let inbox = self.inbox.borrow();
        inbox.dropped.is_empty()
            && ((self.channels.is_empty() && self.patterns.is_empty())
                || self.global.as_ref().is_some_and(|c| !c.is_closed()))
            && self.shards.values().all(|n| {
                n.as_ref()
                    .and_then(|a| self.shard_conns.get(a))
                    .is_some_and(|c| !c.is_closed())
            })
    }

    /// The next message, re-subscribing after failovers and slot moves.
    /// Errors only when re-subscribing keeps failing for
    /// [`ClusterConfig::max_retries`](super::ClusterConfig::max_retries)
    /// attempts in a row.
    pub async fn next_message(&mut self) -> Result<Message, Error> {
        loop {
            if let Some(m) = self.inbox.borrow_mut().messages.pop_front() {
                return Ok(m);
            }
            if !self.healthy() {
                if self.failures > 0 {
                    let c = &self.cluster.inner.config;
                    time::sleep(delay(
                        self.failures,
                        c.retry_base,
                        c.retry_max,
                        &mut self.rng,
                    ))
                    .await;
                }
                match self.sync().await {
                    Ok(()) => self.failures = 0,
                    Err(e) => {
                        self.failures += 1;
                        tracing::warn!(error = %e, failures = self.failures, "redis cluster re-subscribe failed");
                        if self.failures > self.cluster.inner.config.max_retries {
                            return Err(e);
                        }
                    }
                }
                continue;
            }
            // Wait for a message, a dropped channel, or a closed connection.
            let conns: Vec<&Connection> = self
                .global
                .iter()
                .chain(self.shard_conns.values())
                .collect();
            let mut closed: Vec<Pin<Box<dyn Future<Output = Error> + '_>>> = conns
                .iter()
                .map(|c| Box::pin(c.closed()) as Pin<Box<_>>)
                .collect();
            let inbox = self.inbox.clone();
            poll_fn(|cx| {
                let mut i = inbox.borrow_mut();
                if !i.messages.is_empty() || !i.dropped.is_empty() {
                    return Poll::Ready(());
                }
                i.waker = Some(cx.waker().clone());
                drop(i);
                for c in &mut closed {
                    if c.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(());
                    }
                }
                Poll::Pending
            })
            .await;
        }
    }
}
