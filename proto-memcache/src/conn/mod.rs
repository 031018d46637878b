//! The client [`Connection`]: commands in, bytes out, bytes in, events out.

mod commands;
mod input;
mod state;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use self::state::{Entry, MetaKind, Op, Pending};
use crate::error::{ProtocolError, UsageError};
use crate::event::{Event, ReqId, Response};
use crate::limits::Limits;
use crate::meta::{self, Flags};

/// The protocol flavour a connection speaks, fixed at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// The classic text protocol: replies matched first in, first out.
    Text,
    /// Meta commands (`mg`/`ms`/`md`/`ma`/`mn`/`me`) for item operations,
    /// text commands for `version`, `stats`, `flush_all`, `verbosity`;
    /// replies matched by opaque (`O`); multi-gets go out as one text
    /// `get k1 k2…` line, answered in order.
    Meta,
    /// The binary protocol: replies matched by opaque, multi-gets as
    /// `GetKQ…`/`Noop`.
    Binary,
}

/// Connection configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The protocol flavour.
    pub protocol: Protocol,
    /// Limits on requests and replies.
    pub limits: Limits,
}

impl Config {
    /// A configuration with default [`Limits`].
    pub fn new(protocol: Protocol) -> Self {
        Config {
            protocol,
            limits: Limits::default(),
        }
    }
}

/// Options of a storage command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// Client flags stored with the item.
    pub flags: u32,
    /// Expiration: 0 never, up to 30 days relative seconds, else a Unix time
    /// (protocol.txt "Expiration times").
    pub exptime: u32,
    /// Ask for no reply on success: text `noreply` (the request completes
    /// at once, errors are lost), meta `q` plus an `mn`, binary quiet opcode
    /// plus a shared `Noop` (both complete when the server has processed
    /// them, with failures still reported).
    pub noreply: bool,
}

#[derive(Debug, Clone)]
enum State {
    Open,
    Closed,
    Failed(ProtocolError),
}

/// A memcached client connection state machine. It performs no I/O, reads no
/// clock and never blocks; see the [crate docs](crate) for the drain rule and
/// a run loop.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    state: State,
    out: BytesMut,
    pending: Pending,
    events: VecDeque<Event>,
    next_id: u64,
    next_opaque: u32,
    /// `quit` was sent: no more commands; the server will close.
    quitting: bool,
    /// Binary: the newest entry is quiet, so a `Noop` must follow it before
    /// the next transmit (quiet requests are settled by a later reply).
    needs_sync: bool,
}

/// The suppressed reply of a quiet raw meta command.
pub(crate) fn implied_meta_reply(kind: MetaKind) -> meta::Reply<Bytes> {
    match kind {
        MetaKind::Get => meta::Reply::Miss(Flags::new(Bytes::new())),
        _ => meta::Reply::Hd(Flags::new(Bytes::new())),
    }
}

impl Connection {
    /// A new connection; nothing is sent until a command is issued.
    pub fn new(config: Config) -> Self {
        Connection {
            config,
            state: State::Open,
            out: BytesMut::new(),
            pending: Pending::default(),
            events: VecDeque::new(),
            next_id: 0,
            next_opaque: 0,
            quitting: false,
            needs_sync: false,
        }
    }

    /// The protocol flavour.
    pub fn protocol(&self) -> Protocol {
        self.config.protocol
    }

    /// The configured limits.
    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// Number of requests (or request parts) waiting for a reply.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// True once the connection ended cleanly or failed.
    pub fn is_closed(&self) -> bool {
        !matches!(self.state, State::Open)
    }

    /// The fatal error, if the connection failed.
    pub fn error(&self) -> Option<&ProtocolError> {
        match &self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    fn check_open(&self) -> Result<(), UsageError> {
        match self.state {
            State::Open if !self.quitting => Ok(()),
            _ => Err(UsageError::Closed),
        }
    }

    fn id(&mut self) -> ReqId {
        self.next_id += 1;
        ReqId(self.next_id)
    }

    fn opaque(&mut self) -> u32 {
        self.next_opaque = self.next_opaque.wrapping_add(1);
        self.next_opaque
    }

    fn push(&mut self, id: ReqId, op: Op, opaque: Option<u32>, quiet: bool, last: bool) {
        self.needs_sync = quiet && self.config.protocol == Protocol::Binary;
        self.pending.push(Entry {
            id,
            op,
            opaque,
            quiet,
            last,
        });
    }

    /// Queues a meta item command. A quiet one (`q`) is followed at once by
    /// its own `mn`: the request completes when `MN` arrives (with the reply
    /// `q` did not suppress, if any), and an error line, which carries no
    /// opaque, can only be this request's.
    fn push_meta(&mut self, id: ReqId, op: Op, opaque: u32, quiet: bool) {
        if !quiet {
            self.push(id, op, Some(opaque), false, true);
            return;
        }
        self.push(id, op, Some(opaque), true, false);
        meta::encode::request(&mut self.out, &meta::Command::NoOp, &self.config.limits)
            .expect("mn always encodes");
        self.push(id, Op::QuietEnd, None, false, true);
    }

    /// A text `noreply` request: the server sends nothing, so it completes
    /// now. (protocol.txt warns that a malformed request may still be
    /// answered with an error; requests are validated before encoding so
    /// that cannot be caused by this crate.)
    fn no_reply(&mut self, id: ReqId) -> ReqId {
        self.events.push_back(Event::Response {
            id,
            response: Response::NoReply,
        });
        id
    }

    /// Appends the bytes to send to `buf`; returns how many.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut BytesMut) -> usize {
        if self.needs_sync {
            // Binary quiet requests written since the last transmit share one
            // closing Noop: its answer settles them all (errors carry their
            // opaque, so nothing is ambiguous), and it emits no event.
            self.needs_sync = false;
            let o = self.opaque();
            let noop = crate::binary::encode::Request::new(crate::binary::Opcode::Noop, o);
            crate::binary::encode::request(&mut self.out, &noop, &self.config.limits)
                .expect("noop always encodes");
            self.push(ReqId(0), Op::Sync, Some(o), false, true);
        }
        let n = self.out.len();
        if buf.is_empty() {
            std::mem::swap(buf, &mut self.out);
        } else {
            buf.extend_from_slice(&self.out);
            self.out.clear();
        }
        n
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Always `None`: memcached has no protocol timers (no handshake, no
    /// keepalive). Request deadlines belong to the driver, which calls
    /// [`abort`](Self::abort) when one expires.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// A no-op, for the uniform Sans-IO surface (see [`poll_timeout`](Self::poll_timeout)).
    pub fn handle_timeout(&mut self, _now: Instant) {}

    /// Consumes every whole reply at the front of `buf`, leaving a partial
    /// one in place. A protocol violation fails the connection: the error is
    /// returned (now and on every later call) and each waiting request gets
    /// an [`Event::Aborted`].
    pub fn handle_input(&mut self, _now: Instant, buf: &mut BytesMut) -> Result<(), ProtocolError> {
        match &self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Closed => return Err(ProtocolError::Unsolicited),
            State::Open => {}
        }
        loop {
            match self.read_one(buf) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => {
                    self.fail(e.clone());
                    return Err(e);
                }
            }
        }
    }

    /// The server closed the connection. Clean if nothing was waiting,
    /// otherwise [`ProtocolError::UnexpectedEof`] (and aborted requests).
    pub fn handle_eof(&mut self) -> Result<(), ProtocolError> {
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            State::Closed => Ok(()),
            State::Open if self.pending.len() > 0 => {
                self.fail(ProtocolError::UnexpectedEof);
                Err(ProtocolError::UnexpectedEof)
            }
            State::Open => {
                self.state = State::Closed;
                Ok(())
            }
        }
    }

    /// Poisons the connection (after a driver timeout or cancellation, when
    /// the reply stream can no longer be trusted): waiting requests are
    /// aborted with [`ProtocolError::Aborted`].
    pub fn abort(&mut self) {
        if matches!(self.state, State::Open) {
            self.fail(ProtocolError::Aborted);
        }
    }

    fn fail(&mut self, e: ProtocolError) {
        self.out.clear();
        self.needs_sync = false;
        for id in self.pending.drain_ids() {
            self.events.push_back(Event::Aborted {
                id,
                error: e.clone(),
            });
        }
        self.state = State::Failed(e);
    }
}

#[cfg(test)]
mod tests;
