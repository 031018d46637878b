//! Pub/sub bookkeeping: which commands are confirmed per channel, and which
//! channels the server believes we are subscribed to.
//!
//! Redis answers `SUBSCRIBE a b` with one confirmation per channel, and
//! `UNSUBSCRIBE` without arguments with one per current subscription (or a
//! single one with a null channel when there is none). In RESP2 a
//! subscribed connection receives messages as plain arrays; only tracking
//! the subscription set tells them apart from replies.

use std::collections::HashSet;

use bytes::Bytes;

use crate::frame::Frame;

/// Which namespace a subscription lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Channel,
    Pattern,
    Shard,
}

/// A (un)subscribe command or confirmation kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SubKind {
    pub(crate) family: Family,
    pub(crate) subscribe: bool,
}

impl SubKind {
    /// Parses a command name or a confirmation kind, case-insensitively.
    pub(crate) fn parse(name: &[u8]) -> Option<SubKind> {
        const KINDS: [(&[u8], Family, bool); 6] = [
            (b"subscribe", Family::Channel, true),
            (b"psubscribe", Family::Pattern, true),
            (b"ssubscribe", Family::Shard, true),
            (b"unsubscribe", Family::Channel, false),
            (b"punsubscribe", Family::Pattern, false),
            (b"sunsubscribe", Family::Shard, false),
        ];
        KINDS
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, family, subscribe)| SubKind { family, subscribe })
    }
}

/// Is `kind` a RESP2 pub/sub message array kind?
pub(crate) fn is_message(kind: &[u8]) -> bool {
    [&b"message"[..], b"pmessage", b"smessage"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(kind))
}

/// The subscriptions the server has confirmed.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    channels: HashSet<Bytes>,
    patterns: HashSet<Bytes>,
    shards: HashSet<Bytes>,
}

impl Subscriptions {
    fn set(&mut self, f: Family) -> &mut HashSet<Bytes> {
        match f {
            Family::Channel => &mut self.channels,
            Family::Pattern => &mut self.patterns,
            Family::Shard => &mut self.shards,
        }
    }

    /// Subscriptions in one family.
    pub(crate) fn count(&mut self, f: Family) -> usize {
        self.set(f).len()
    }

    /// True while the server is in subscribed mode.
    pub(crate) fn active(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shards.is_empty())
    }

    /// Applies a confirmation `[kind, channel, count]`.
    pub(crate) fn apply(&mut self, kind: SubKind, confirmation: &Frame) {
        let name = match confirmation.as_elements().and_then(|e| e.get(1)) {
            Some(Frame::BulkString(b) | Frame::SimpleString(b)) => b.clone(),
            _ => return,
        };
        let set = self.set(kind.family);
        if kind.subscribe {
            set.insert(name);
        } else {
            set.remove(&name);
        }
    }

    /// Forgets everything (`RESET` leaves subscribed mode).
    pub(crate) fn clear(&mut self) {
        *self = Subscriptions::default();
    }
}
