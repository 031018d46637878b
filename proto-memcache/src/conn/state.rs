//! The request queue and its transitions: which waiting request a reply
//! belongs to, what a suppressed (quiet) reply means, and when a request is
//! complete. Every transition of the connection's bookkeeping is here.
//!
//! Matching rules (memcached answers requests in order on one connection):
//! - A reply carrying an opaque (meta `O`, every binary packet) belongs to
//!   the entry with that opaque. Entries before it must be quiet; their reply
//!   was suppressed, which means the common outcome (protocol.txt "q: noreply
//!   semantics for return codes"; protocol-binary.txt quiet commands). If a
//!   non-quiet entry would be skipped, the streams are out of sync: fatal.
//! - A reply without an opaque (text replies, `MN`, `ME`) belongs to the
//!   first non-quiet entry; the quiet entries before it are settled as above.
//! - An error line carries no opaque. If the first waiting entry is not
//!   quiet, it is its error. Otherwise it belongs to one of the leading quiet
//!   entries or to the non-quiet entry after them; when they are all part of
//!   the same request (a quiet item command and the `mn` sent after it)
//!   the error is recorded for that request, else it cannot be attributed
//!   without guessing and the connection fails
//!   ([`ProtocolError::AmbiguousError`]). `mn` itself never errors, so the
//!   `mn` the connection sends after each quiet item command (`QuietEnd`)
//!   keeps errors attributable.
//! - Binary quiet runs are closed by one `Noop` (`Sync`) that completes
//!   silently; binary errors carry their opaque, so nothing is ambiguous.

use std::collections::VecDeque;

use crate::error::ProtocolError;
use crate::event::{Event, Item, ReqId, Response, ServerError, Stat};
use crate::text::encode::StoreMode;

/// Which raw meta command an entry is (for synthesizing suppressed replies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MetaKind {
    Get,
    Set,
    Delete,
    Arithmetic,
    Debug,
    NoOp,
}

/// What a waiting entry asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Text (and meta with several keys): a whole `get k1 k2…` line (`keys`
    /// bounds the hits). Meta with one key: its `mg`. Binary: one key of a
    /// multi-get.
    Get {
        keys: usize,
    },
    /// The `Noop` closing a binary multi-get.
    GetEnd,
    Store(StoreMode),
    Delete,
    Counter,
    Touch,
    FlushAll,
    Verbosity,
    Version,
    Stats,
    /// A caller's `noop()`.
    Noop,
    /// The `mn` the connection sends after a quiet meta item command, ending
    /// that request.
    QuietEnd,
    /// The `Noop` the connection sends after a run of binary quiet requests;
    /// completes silently.
    Sync,
    /// Binary `Quit`.
    Quit,
    Meta(MetaKind),
}

impl Op {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Get { .. } | Op::GetEnd => "get",
            Op::Store(_) => "store",
            Op::Delete => "delete",
            Op::Counter => "incr/decr",
            Op::Touch => "touch",
            Op::FlushAll => "flush_all",
            Op::Verbosity => "verbosity",
            Op::Version => "version",
            Op::Stats => "stats",
            Op::Noop | Op::QuietEnd | Op::Sync => "noop",
            Op::Quit => "quit",
            Op::Meta(_) => "meta command",
        }
    }

    /// A no-op never answers with an error.
    fn never_errors(self) -> bool {
        matches!(
            self,
            Op::Noop | Op::GetEnd | Op::Quit | Op::Meta(MetaKind::NoOp)
        )
    }
}

/// One request (or one part of a multi-part request) waiting for its reply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) id: ReqId,
    pub(crate) op: Op,
    pub(crate) opaque: Option<u32>,
    pub(crate) quiet: bool,
    /// The last entry of its request: completing it completes the request.
    pub(crate) last: bool,
}

/// What the request at the front has collected so far.
#[derive(Debug, Default)]
struct Acc {
    id: Option<ReqId>,
    values: Vec<Item>,
    stats: Vec<Stat>,
    error: Option<ServerError>,
    /// The reply a quiet part got when it was not suppressed.
    reply: Option<Response>,
}

/// How an entry completes.
pub(crate) enum Outcome {
    /// With this reply.
    Reply(Response),
    /// With what the request collected (`Values` or `Stats`).
    Collected,
    /// Quiet, and its reply was suppressed: the common outcome.
    Suppressed,
}

/// The queue of waiting entries, in wire order.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    queue: VecDeque<Entry>,
    acc: Acc,
}

impl Pending {
    pub(crate) fn push(&mut self, e: Entry) {
        self.queue.push_back(e);
    }

    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(crate) fn front(&self) -> Option<&Entry> {
        self.queue.front()
    }

    /// Removes everything; returns the distinct request ids, in order.
    pub(crate) fn drain_ids(&mut self) -> Vec<ReqId> {
        let mut ids: Vec<ReqId> = Vec::new();
        for e in self.queue.drain(..) {
            if ids.last() != Some(&e.id) {
                ids.push(e.id);
            }
        }
        self.acc = Acc::default();
        ids
    }

    fn acc(&mut self, id: ReqId) -> &mut Acc {
        if self.acc.id != Some(id) {
            self.acc = Acc {
                id: Some(id),
                ..Acc::default()
            };
        }
        &mut self.acc
    }

    /// Adds a retrieval hit to the front request.
    pub(crate) fn push_value(&mut self, id: ReqId, item: Item) {
        self.acc(id).values.push(item);
    }

    /// Adds a hit of a text retrieval line to request `id`, which asked for
    /// `keys` keys: more hits than keys is a protocol error. The first hit
    /// reserves room for every key (at most 1024 up front), so a multi-get
    /// grows its list once.
    pub(crate) fn push_line_value(
        &mut self,
        id: ReqId,
        item: Item,
        keys: usize,
    ) -> Result<(), ProtocolError> {
        let values = &mut self.acc(id).values;
        if values.len() >= keys {
            return Err(ProtocolError::UnexpectedKey);
        }
        if values.capacity() == 0 {
            values.reserve_exact(keys.min(1024));
        }
        values.push(item);
        Ok(())
    }

    /// Adds a stat to the front request, bounded by `max`.
    pub(crate) fn push_stat(
        &mut self,
        id: ReqId,
        stat: Stat,
        max: usize,
    ) -> Result<(), ProtocolError> {
        let acc = self.acc(id);
        if acc.stats.len() >= max {
            return Err(ProtocolError::Decode(crate::DecodeError::Malformed(
                "more STAT lines than Limits::max_stats",
            )));
        }
        acc.stats.push(stat);
        Ok(())
    }

    /// Routes a reply that carries `opaque`: settles the quiet entries before
    /// it; afterwards the matching entry is at the front.
    pub(crate) fn route_opaque(
        &mut self,
        opaque: u32,
        events: &mut VecDeque<Event>,
    ) -> Result<(), ProtocolError> {
        let pos = self
            .queue
            .iter()
            .position(|e| e.opaque == Some(opaque))
            .ok_or(ProtocolError::OpaqueMismatch)?;
        if self.queue.iter().take(pos).any(|e| !e.quiet) {
            return Err(ProtocolError::OpaqueMismatch);
        }
        for _ in 0..pos {
            self.settle_quiet(events);
        }
        Ok(())
    }

    /// Routes a reply without opaque: settles leading quiet entries; the front
    /// must then expect a reply without opaque.
    pub(crate) fn route_plain(
        &mut self,
        events: &mut VecDeque<Event>,
    ) -> Result<(), ProtocolError> {
        while self.queue.front().is_some_and(|e| e.quiet) {
            self.settle_quiet(events);
        }
        match self.queue.front() {
            None => Err(ProtocolError::Unsolicited),
            Some(e) if e.opaque.is_some() => Err(ProtocolError::OpaqueMismatch),
            Some(_) => Ok(()),
        }
    }

    /// Routes an error line (which never carries an opaque). Returns the
    /// error back when it belongs to the front entry (complete it with it),
    /// `None` when it was recorded for the front request.
    pub(crate) fn route_error(
        &mut self,
        err: ServerError,
    ) -> Result<Option<ServerError>, ProtocolError> {
        let front = *self.queue.front().ok_or(ProtocolError::Unsolicited)?;
        if !front.quiet {
            return Ok(Some(err));
        }
        let mut candidates = self.queue.iter().take_while(|e| e.quiet).count();
        if let Some(next) = self.queue.get(candidates) {
            if !next.op.never_errors() {
                candidates += 1;
            }
        }
        if self.queue.iter().take(candidates).any(|e| e.id != front.id) {
            return Err(ProtocolError::AmbiguousError);
        }
        self.acc(front.id).error.get_or_insert(err);
        Ok(None)
    }

    /// The front quiet entry got no reply: its common outcome.
    fn settle_quiet(&mut self, events: &mut VecDeque<Event>) {
        self.complete_front(Outcome::Suppressed, events);
    }

    /// Pops the front entry and completes it. For a part that is not the
    /// last of its request only an error matters (it is recorded and ends the
    /// request with it when its last part completes).
    pub(crate) fn complete_front(&mut self, outcome: Outcome, events: &mut VecDeque<Event>) {
        let Some(e) = self.queue.pop_front() else {
            return;
        };
        let acc = self.acc(e.id);
        if !e.last {
            match outcome {
                Outcome::Reply(Response::Error(err)) => {
                    acc.error.get_or_insert(err);
                }
                Outcome::Reply(r) => acc.reply = Some(r),
                _ => {}
            }
            return;
        }
        let acc = std::mem::take(acc);
        if e.op == Op::Sync {
            return;
        }
        let response = match (acc.error, outcome) {
            (Some(err), _) => Response::Error(err),
            (None, Outcome::Reply(_)) if e.op == Op::QuietEnd => {
                acc.reply.unwrap_or(Response::NoReply)
            }
            (None, Outcome::Reply(r)) => r,
            (None, Outcome::Collected) if e.op == Op::Stats => Response::Stats(acc.stats),
            (None, Outcome::Collected) => Response::Values(acc.values),
            (None, Outcome::Suppressed) => match e.op {
                Op::Meta(k) => Response::Meta(super::implied_meta_reply(k)),
                Op::Get { .. } | Op::GetEnd => Response::Values(acc.values),
                _ => Response::NoReply,
            },
        };
        events.push_back(Event::Response { id: e.id, response });
    }
}
