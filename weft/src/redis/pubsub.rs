//! Pub/sub on a dedicated connection that reconnects and re-subscribes, and
//! client-side caching invalidations.

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::marker::PhantomData;
use std::rc::Rc;
use std::task::{Poll, Waker};

use bytes::Bytes;
use proto_resp::{Cmd, CmdArg, Frame, Protocol};

use super::config::{Config, InvalidationCallback};
use super::conn::Connection;
use super::error::Error;
use super::from_resp::check;
use crate::pool::backoff::{XorShift, delay};
use crate::rt::{Backend, DefaultBackend, time};
use crate::rt::{Either, select};

/// Which subscription delivered a [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageKind {
    /// `SUBSCRIBE`d channel (`message`).
    Channel,
    /// `PSUBSCRIBE`d pattern (`pmessage`).
    Pattern,
    /// `SSUBSCRIBE`d shard channel (`smessage`).
    Shard,
}

/// A published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// How it was subscribed to.
    pub kind: MessageKind,
    /// The channel it was published on.
    pub channel: Bytes,
    /// The matching pattern, for [`MessageKind::Pattern`].
    pub pattern: Option<Bytes>,
    /// The payload.
    pub payload: Bytes,
}

impl Message {
    /// Parses a RESP3 push or RESP2 array `[message, channel, payload]`,
    /// `[pmessage, pattern, channel, payload]` or `[smessage, channel,
    /// payload]` (Redis pub/sub docs, "Format of pushed messages").
    pub fn from_push(frame: &Frame) -> Option<Message> {
        let e = frame.as_elements()?;
        let kind = e.first()?.as_bytes()?;
        let b = |i: usize| {
            e.get(i)
                .and_then(|f| f.as_bytes())
                .map(Bytes::copy_from_slice)
        };
        if kind.eq_ignore_ascii_case(b"message") && e.len() == 3 {
            Some(Message {
                kind: MessageKind::Channel,
                channel: b(1)?,
                pattern: None,
                payload: b(2)?,
            })
        } else if kind.eq_ignore_ascii_case(b"smessage") && e.len() == 3 {
            Some(Message {
                kind: MessageKind::Shard,
                channel: b(1)?,
                pattern: None,
                payload: b(2)?,
            })
        } else if kind.eq_ignore_ascii_case(b"pmessage") && e.len() == 4 {
            Some(Message {
                kind: MessageKind::Pattern,
                pattern: b(1),
                channel: b(2)?,
                payload: b(3)?,
            })
        } else {
            None
        }
    }
}

/// Which kind of subscription a name belongs to.
#[derive(Clone, Copy)]
enum Family {
    Channel,
    Pattern,
    Shard,
}

#[derive(Default)]
struct Inbox {
    messages: VecDeque<Message>,
    waker: Option<Waker>,
}

/// A subscriber: a connection of its own in subscribed mode.
///
/// It remembers what it subscribed to. When the connection drops (server
/// restart, `CLIENT KILL`, network failure), [`next_message`](Self::next_message)
/// reconnects with jittered exponential backoff (the pool's
/// [`backoff`](crate::pool::Config::backoff) settings from the
/// [`Config`]) and subscribes again; messages published while it was
/// disconnected are lost, as pub/sub is at-most-once.
///
/// ```no_run
/// use weft::redis::{Config, PubSub};
/// # async fn demo(config: Config) -> Result<(), weft::redis::Error> {
/// let mut sub = PubSub::<weft::rt::DefaultBackend>::connect(config).await?;
/// sub.subscribe(&["news"]).await?;
/// let msg = sub.next_message().await?;
/// println!("{:?}: {:?}", msg.channel, msg.payload);
/// # Ok(()) }
/// ```
pub struct PubSub<B: Backend = DefaultBackend> {
    config: Config,
    conn: Option<Connection>,
    inbox: Rc<RefCell<Inbox>>,
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
    shards: BTreeSet<Bytes>,
    failures: u32,
    reconnects: u64,
    rng: XorShift,
    _b: PhantomData<B>,
}

impl<B: Backend> fmt::Debug for PubSub<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PubSub")
            .field("channels", &self.channels)
            .field("patterns", &self.patterns)
            .field("shards", &self.shards)
            .field("connected", &self.conn.is_some())
            .field("reconnects", &self.reconnects)
            .finish_non_exhaustive()
    }
}

impl<B: Backend> PubSub<B> {
    /// Connects a subscriber.
    pub async fn connect(config: Config) -> Result<PubSub<B>, Error> {
        let mut s = PubSub {
            config,
            conn: None,
            inbox: Rc::default(),
            channels: BTreeSet::new(),
            patterns: BTreeSet::new(),
            shards: BTreeSet::new(),
            failures: 0,
            reconnects: 0,
            rng: XorShift::seeded(),
            _b: PhantomData,
        };
        s.conn = Some(s.open().await?);
        Ok(s)
    }

    async fn open(&self) -> Result<Connection, Error> {
        let conn = Connection::connect::<B>(&self.config).await?;
        let inbox = self.inbox.clone();
        conn.set_push_handler(move |frame| {
            if let Some(m) = Message::from_push(&frame) {
                let mut i = inbox.borrow_mut();
                i.messages.push_back(m);
                if let Some(w) = i.waker.take() {
                    drop(i);
                    w.wake();
                }
            }
        });
        Ok(conn)
    }

    async fn command(&mut self, name: &str, names: &[Bytes]) -> Result<(), Error> {
        let Some(conn) = &self.conn else {
            // Disconnected: recorded, applied on reconnect.
            return Ok(());
        };
        let mut c = Cmd::new(name);
        for n in names {
            c.arg(n);
        }
        let reply = match conn.send(&c, false) {
            Ok(r) => r.await,
            Err(e) => Err(e),
        };
        match reply {
            // One confirmation per channel, gathered into an array, or an
            // error.
            Ok(frame) => check(frame).map(drop),
            // The connection died: what was asked for is recorded and is
            // re-applied when `next_message` reconnects.
            Err(e) if e.is_fatal() => {
                self.conn = None;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn names(items: &[impl CmdArg]) -> Vec<Bytes> {
        items
            .iter()
            .map(|i| {
                let mut c = Cmd::new("x");
                c.arg(i);
                // The argument as written (the only one after the name).
                Bytes::copy_from_slice(c.args().nth(1).unwrap_or_default())
            })
            .collect()
    }

    /// `SUBSCRIBE channel...`; returns once the server confirmed (or the
    /// connection dropped: the subscription is then made on reconnect).
    ///
    /// If this future is dropped once the command is sent, the subscription
    /// still counts (the server makes it): it is remembered and made again
    /// after a reconnect, like a confirmed one.
    pub async fn subscribe(&mut self, channels: &[impl CmdArg]) -> Result<(), Error> {
        let names = Self::names(channels);
        self.subscribe_to(Family::Channel, "SUBSCRIBE", names).await
    }

    /// `PSUBSCRIBE pattern...` (dropping the future: as
    /// [`subscribe`](Self::subscribe)).
    pub async fn psubscribe(&mut self, patterns: &[impl CmdArg]) -> Result<(), Error> {
        let names = Self::names(patterns);
        self.subscribe_to(Family::Pattern, "PSUBSCRIBE", names)
            .await
    }

    /// `SSUBSCRIBE shardchannel...` (Redis 7; dropping the future: as
    /// [`subscribe`](Self::subscribe)).
    pub async fn ssubscribe(&mut self, channels: &[impl CmdArg]) -> Result<(), Error> {
        let names = Self::names(channels);
        self.subscribe_to(Family::Shard, "SSUBSCRIBE", names).await
    }

    fn set(&mut self, family: Family) -> &mut BTreeSet<Bytes> {
        match family {
            Family::Channel => &mut self.channels,
            Family::Pattern => &mut self.patterns,
            Family::Shard => &mut self.shards,
        }
    }

    /// Records `names` before the command goes out (so that a caller
    /// giving up after it was sent leaves the record matching the server),
    /// and forgets the new ones again if the server refuses.
    async fn subscribe_to(
        &mut self,
        family: Family,
        command: &str,
        names: Vec<Bytes>,
    ) -> Result<(), Error> {
        let set = self.set(family);
        let added: Vec<Bytes> = names
            .iter()
            .filter(|n| set.insert((*n).clone()))
            .cloned()
            .collect();
        let res = self.command(command, &names).await;
        if res.is_err() {
            let set = self.set(family);
            for n in &added {
                set.remove(n);
            }
        }
        res
    }

    /// `UNSUBSCRIBE channel...`.
    pub async fn unsubscribe(&mut self, channels: &[impl CmdArg]) -> Result<(), Error> {
        let names = Self::names(channels);
        for n in &names {
            self.channels.remove(n);
        }
        self.command("UNSUBSCRIBE", &names).await
    }

    /// `PUNSUBSCRIBE pattern...`.
    pub async fn punsubscribe(&mut self, patterns: &[impl CmdArg]) -> Result<(), Error> {
        let names = Self::names(patterns);
        for n in &names {
            self.patterns.remove(n);
        }
        self.command("PUNSUBSCRIBE", &names).await
    }

    /// `SUNSUBSCRIBE shardchannel...`.
    pub async fn sunsubscribe(&mut self, channels: &[impl CmdArg]) -> Result<(), Error> {
        let names = Self::names(channels);
        for n in &names {
            self.shards.remove(n);
        }
        self.command("SUNSUBSCRIBE", &names).await
    }

    /// How many times the connection was re-established.
    pub fn reconnects(&self) -> u64 {
        self.reconnects
    }

    /// The next message, reconnecting (and re-subscribing) as often as
    /// needed. Errors only if re-subscribing is refused by the server (an
    /// ACL change, say); connection failures are retried with backoff.
    pub async fn next_message(&mut self) -> Result<Message, Error> {
        loop {
            if let Some(m) = self.inbox.borrow_mut().messages.pop_front() {
                return Ok(m);
            }
            match &self.conn {
                Some(conn) if !conn.is_closed() => {
                    let inbox = self.inbox.clone();
                    let message = poll_fn(|cx| {
                        let mut i = inbox.borrow_mut();
                        match i.messages.pop_front() {
                            Some(m) => Poll::Ready(m),
                            None => {
                                i.waker = Some(cx.waker().clone());
                                Poll::Pending
                            }
                        }
                    });
                    match select(message, conn.closed()).await {
                        Either::Left(m) => return Ok(m),
                        Either::Right(e) => {
                            tracing::warn!(error = %e, "redis pub/sub connection lost; reconnecting");
                        }
                    }
                }
                _ => {
                    self.conn = None;
                    self.reconnect().await?;
                }
            }
        }
    }

    async fn reconnect(&mut self) -> Result<(), Error> {
        loop {
            if self.failures > 0 {
                let d = delay(
                    self.failures,
                    self.config.pool.backoff_base,
                    self.config.pool.backoff_max,
                    &mut self.rng,
                );
                time::sleep(d).await;
            }
            let conn = match self.open().await {
                Ok(c) => c,
                Err(e) => {
                    self.failures = self.failures.saturating_add(1);
                    tracing::warn!(error = %e, failures = self.failures, "redis pub/sub reconnect failed");
                    continue;
                }
            };
            self.conn = Some(conn);
            let sets: [(&str, Vec<Bytes>); 3] = [
                ("SUBSCRIBE", self.channels.iter().cloned().collect()),
                ("PSUBSCRIBE", self.patterns.iter().cloned().collect()),
                ("SSUBSCRIBE", self.shards.iter().cloned().collect()),
            ];
            let mut failed = None;
            for (cmd, names) in sets {
                if names.is_empty() {
                    continue;
                }
                self.command(cmd, &names).await?;
                if self.conn.is_none() {
                    failed = Some(Error::Closed);
                    break;
                }
            }
            match failed {
                None => {
                    self.failures = 0;
                    self.reconnects += 1;
                    return Ok(());
                }
                Some(e) => {
                    self.conn = None;
                    self.failures = self.failures.saturating_add(1);
                    tracing::warn!(error = %e, "redis pub/sub re-subscribe failed");
                }
            }
        }
    }
}

/// Parses a client-side caching invalidation push, `>2 invalidate [keys]`
/// or `>2 invalidate _` (Redis client-side caching docs, "RESP3 protocol").
/// `Some(None)` means every key was invalidated.
pub(crate) fn parse_invalidation(frame: &Frame) -> Option<Option<Vec<Bytes>>> {
    let e = match frame {
        Frame::Push(e) => e,
        _ => return None,
    };
    if !e.first()?.as_bytes()?.eq_ignore_ascii_case(b"invalidate") {
        return None;
    }
    match e.get(1)? {
        f if f.is_null() => Some(None),
        f => Some(Some(
            f.as_elements()?
                .iter()
                .filter_map(|k| k.as_bytes().map(Bytes::copy_from_slice))
                .collect(),
        )),
    }
}

impl Connection {
    /// Turns on client-side caching (`CLIENT TRACKING ON`, default mode):
    /// keys this connection reads are tracked by the server, and when one
    /// changes, `callback` gets its name. RESP3 only (RESP2 would need a
    /// second connection for the invalidation channel).
    pub async fn enable_tracking(&self, callback: InvalidationCallback) -> Result<(), Error> {
        if self.protocol() != Protocol::Resp3 {
            return Err(Error::Config(
                "client-side caching needs a RESP3 connection".into(),
            ));
        }
        self.set_push_handler(move |frame| {
            if let Some(keys) = parse_invalidation(&frame) {
                callback(keys);
            }
        });
        let on = Cmd::new("CLIENT").with("TRACKING").with("ON");
        check(self.send(&on, false)?.await?).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Frame {
        Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn parses_messages() {
        let m = Message::from_push(&Frame::Push(vec![b("message"), b("ch"), b("hi")])).unwrap();
        assert_eq!(m.kind, MessageKind::Channel);
        assert_eq!((&m.channel[..], &m.payload[..]), (&b"ch"[..], &b"hi"[..]));
        let m = Message::from_push(&Frame::Array(vec![b("pmessage"), b("c*"), b("ch"), b("x")]))
            .unwrap();
        assert_eq!(m.kind, MessageKind::Pattern);
        assert_eq!(m.pattern.as_deref(), Some(&b"c*"[..]));
        let m = Message::from_push(&Frame::Push(vec![b("smessage"), b("s"), b("y")])).unwrap();
        assert_eq!(m.kind, MessageKind::Shard);
        assert!(
            Message::from_push(&Frame::Push(vec![
                b("subscribe"),
                b("ch"),
                Frame::Integer(1)
            ]))
            .is_none()
        );
        assert!(Message::from_push(&Frame::Push(vec![b("message"), b("ch")])).is_none());
    }

    #[test]
    fn parses_invalidations() {
        let f = Frame::Push(vec![b("invalidate"), Frame::Array(vec![b("k1"), b("k2")])]);
        assert_eq!(
            parse_invalidation(&f),
            Some(Some(vec![Bytes::from("k1"), Bytes::from("k2")]))
        );
        let f = Frame::Push(vec![b("invalidate"), Frame::Null]);
        assert_eq!(parse_invalidation(&f), Some(None));
        let f = Frame::Push(vec![b("message"), b("c"), b("p")]);
        assert_eq!(parse_invalidation(&f), None);
    }
}
