//! The client connection state machine.

mod config;
mod pubsub;
mod queue;
mod state;

pub use config::Config;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::BytesMut;

use crate::cmd::Cmd;
use crate::codec::{Decoder, Protocol, StreamDecoder, encode_command};
use crate::error::{Error, UsageError};
use crate::event::{Event, ReqId};
use crate::frame::Frame;

use pubsub::Subscriptions;
use queue::Queue;
use state::{Expect, Handshake, Owner, Pending, Phase, Route, Step};

/// A client connection to a RESP server, without I/O.
///
/// See the [crate documentation](crate) for the drain rule and a run loop.
/// Replies are matched to requests first-in first-out; pushes never are.
pub struct Connection {
    config: Config,
    decoder: StreamDecoder,
    phase: Phase,
    protocol: Protocol,
    /// Bytes ready for `poll_transmit`.
    tx: BytesMut,
    /// Requests on the wire (or in `tx`), in order.
    inflight: Queue,
    /// User requests sent during the handshake, and their bytes.
    held: Queue,
    held_tx: BytesMut,
    events: VecDeque<Event>,
    next_id: u64,
    subs: Subscriptions,
    deadline: Option<Instant>,
    hello: Option<Frame>,
}

/// Shows the state, not the buffers (the handshake bytes hold the password).
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("config", &self.config)
            .field("phase", &self.phase)
            .field("protocol", &self.protocol)
            .field("inflight", &self.inflight.len())
            .field("held", &self.held.len())
            .field("tx_len", &(self.tx.len() + self.held_tx.len()))
            .field("events", &self.events.len())
            .field("subscribed", &self.subs.active())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Starts a connection: the handshake is queued for
    /// [`poll_transmit`](Self::poll_transmit) at once.
    pub fn new(config: Config, now: Instant) -> Self {
        let mut c = Connection {
            decoder: StreamDecoder::new(Decoder::new(config.limits, Protocol::Resp3)),
            phase: Phase::Handshaking,
            protocol: config.protocol,
            tx: BytesMut::new(),
            inflight: Queue::default(),
            held: Queue::default(),
            held_tx: BytesMut::new(),
            events: VecDeque::new(),
            next_id: 0,
            subs: Subscriptions::default(),
            deadline: config.handshake_timeout.and_then(|t| now.checked_add(t)),
            hello: None,
            config,
        };
        match c.config.protocol {
            Protocol::Resp3 => c.send_hello(),
            Protocol::Resp2 => c.send_resp2_setup(),
        }
        c
    }

    fn internal(&mut self, step: Step, args: &[&[u8]]) {
        encode_command(&mut self.tx, args);
        self.inflight.push_back(Pending {
            owner: Owner::Handshake(step),
            expect: Expect::One,
        });
    }

    /// `HELLO 3 [AUTH user pass] [SETNAME name]` (Redis `HELLO` docs).
    fn send_hello(&mut self) {
        let cfg = self.config.clone();
        let mut args: Vec<&[u8]> = vec![b"HELLO", b"3"];
        if let Some(pass) = &cfg.password {
            let user = cfg.username.as_deref().unwrap_or("default");
            args.extend([&b"AUTH"[..], user.as_bytes(), pass.as_bytes()]);
        }
        if let Some(name) = &cfg.client_name {
            args.extend([&b"SETNAME"[..], name.as_bytes()]);
        }
        self.internal(Step::Hello, &args);
    }

    /// RESP2 setup: `AUTH`, `CLIENT SETNAME`, pipelined; then `SELECT`.
    fn send_resp2_setup(&mut self) {
        self.protocol = Protocol::Resp2;
        let cfg = self.config.clone();
        if let Some(pass) = &cfg.password {
            match &cfg.username {
                Some(user) => {
                    self.internal(Step::Auth, &[b"AUTH", user.as_bytes(), pass.as_bytes()])
                }
                None => self.internal(Step::Auth, &[b"AUTH", pass.as_bytes()]),
            }
        }
        if let Some(name) = &cfg.client_name {
            self.internal(Step::SetName, &[b"CLIENT", b"SETNAME", name.as_bytes()]);
        }
        self.send_select();
    }

    fn send_select(&mut self) {
        if self.config.database != 0 {
            let mut b = itoa::Buffer::new();
            let db = b.format(self.config.database).as_bytes().to_vec();
            self.internal(Step::Select, &[b"SELECT", &db]);
        }
        self.maybe_ready();
    }

    fn maybe_ready(&mut self) {
        let handshaking = self.inflight.has_handshake();
        if self.phase == Phase::Handshaking && !handshaking {
            self.phase = Phase::Ready;
            self.deadline = None;
            self.tx.extend_from_slice(&self.held_tx);
            self.held_tx = BytesMut::new();
            self.inflight.append(&mut self.held);
            self.events.push_back(Event::Ready {
                protocol: self.protocol,
            });
        }
    }

    /// Queues a command built with [`Cmd`]; returns the id its reply will
    /// carry.
    ///
    /// Commands sent during the handshake are held and go out, in order,
    /// once it succeeds.
    #[inline]
    pub fn send(&mut self, cmd: &Cmd) -> Result<ReqId, UsageError> {
        let expect = match cmd.name() {
            // Most commands: decided by the name alone.
            Some(name) if !state::may_be_special(name) && self.is_open() => Expect::One,
            _ => self.admit(cmd.args())?,
        };
        let dst = self.outbox();
        cmd.write_to(dst);
        Ok(self.enqueue(expect))
    }

    /// Queues `cmds` back to back, as [`send`](Self::send) would one by
    /// one, calling `sent` with each command queued; returns the id of the
    /// first and how many were queued (their ids follow each other).
    ///
    /// The form for a pipeline: the ordinary commands among them (those
    /// whose name alone tells they take one reply: all but the subscribe
    /// family, `HELLO`, `RESET`, `MONITOR` and `CLIENT`, which go through
    /// `send`'s full check, in order) are recorded as one run, not one
    /// queue entry each. If a command is refused, those before it
    /// stay queued, and the refusal is returned with the same pair.
    ///
    /// ```
    /// use std::time::Instant;
    /// use proto_resp::{Cmd, Config, Connection};
    ///
    /// let mut conn = Connection::new(Config::new(), Instant::now());
    /// let cmds = [Cmd::new("SET").with("a").with(1), Cmd::new("GET").with("a")];
    /// let mut names = Vec::new();
    /// let (first, n) = conn
    ///     .send_each(&cmds, |c| names.push(c.name().unwrap().to_vec()))
    ///     .unwrap();
    /// assert_eq!((first.get(), n), (0, 2));
    /// assert_eq!(names, [b"SET".to_vec(), b"GET".to_vec()]);
    /// assert_eq!(conn.pending(), 2);
    /// ```
    pub fn send_each<'a>(
        &mut self,
        cmds: impl IntoIterator<Item = &'a Cmd>,
        mut sent: impl FnMut(&'a Cmd),
    ) -> Result<(ReqId, usize), (ReqId, usize, UsageError)> {
        let first = self.next_id;
        let open = self.is_open();
        let ready = self.phase == Phase::Ready;
        // Ordinary commands written and not yet in the queue.
        let mut run = 0u64;
        for cmd in cmds {
            if open && cmd.name().is_some_and(|name| !state::may_be_special(name)) {
                cmd.write_to(if ready {
                    &mut self.tx
                } else {
                    &mut self.held_tx
                });
                run += 1;
                sent(cmd);
                continue;
            }
            // A command that needs a look at its arguments (or a refusal):
            // the run before it is queued first, to keep the order.
            self.enqueue_run(run);
            run = 0;
            if let Err(e) = self.send(cmd) {
                let n = (self.next_id - first) as usize;
                return Err((ReqId(first), n, e));
            }
            sent(cmd);
        }
        self.enqueue_run(run);
        Ok((ReqId(first), (self.next_id - first) as usize))
    }

    /// Queues a run of `n` ordinary requests with the next ids.
    #[inline]
    fn enqueue_run(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        let first = ReqId(self.next_id);
        self.next_id += n;
        if self.phase == Phase::Ready {
            self.inflight.push_run(first, n);
        } else {
            self.held.push_run(first, n);
        }
    }

    /// Queues a command given as its arguments, name first.
    pub fn send_args<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<ReqId, UsageError> {
        let expect = self.admit(args.iter().map(AsRef::as_ref))?;
        encode_command(self.outbox(), args);
        Ok(self.enqueue(expect))
    }

    fn is_open(&self) -> bool {
        !matches!(self.phase, Phase::Failed(_) | Phase::Closed)
    }

    fn admit<'a>(&self, args: impl Iterator<Item = &'a [u8]>) -> Result<Expect, UsageError> {
        match self.phase {
            Phase::Failed(_) | Phase::Closed => Err(UsageError::Closed),
            _ => state::classify(args),
        }
    }

    fn outbox(&mut self) -> &mut BytesMut {
        if self.phase == Phase::Ready {
            &mut self.tx
        } else {
            &mut self.held_tx
        }
    }

    fn enqueue(&mut self, expect: Expect) -> ReqId {
        let id = ReqId(self.next_id);
        self.next_id += 1;
        let p = Pending {
            owner: Owner::User(id),
            expect,
        };
        if self.phase == Phase::Ready {
            self.inflight.push_back(p);
        } else {
            self.held.push_back(p);
        }
        id
    }

    /// Consumes every complete frame at the front of `buf`, leaving a
    /// partial one in place. Then drain the `poll_*` methods.
    ///
    /// `buf` is this connection's read buffer: between calls, only append
    /// to it. A partially received frame is resumed where measuring stopped
    /// rather than re-read from its start (see
    /// [`StreamDecoder`](crate::codec::StreamDecoder)).
    ///
    /// An error is fatal and sticky: the connection must be dropped, and
    /// every outstanding request failed by the caller.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) -> Result<(), Error> {
        let _ = now; // RESP has no protocol timers besides the handshake deadline.
        if let Phase::Failed(e) = &self.phase {
            return Err(e.clone());
        }
        loop {
            let frame = match self.decoder.decode_bytes(buf) {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.fail(Error::Decode(e))),
            };
            match self.on_frame(frame) {
                Ok(Some(ev)) => self.events.push_back(ev),
                Ok(None) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// The pull form of [`handle_input`](Self::handle_input) followed by
    /// [`poll_event`](Self::poll_event): returns the next event, decoding
    /// only as many frames off the front of `buf` as it takes (a queued
    /// event first). `Ok(None)`: no event until more bytes arrive.
    ///
    /// A driver reading a deep pipeline's replies this way hands each one
    /// on while it is still in cache, instead of queueing an event per
    /// frame of the read first. Calling it until `Ok(None)` leaves the
    /// machine as `handle_input` and draining `poll_event` would (the
    /// drain rule still applies to `poll_transmit`: the handshake may
    /// queue bytes). Errors are the same and as sticky.
    ///
    /// ```
    /// use std::time::Instant;
    /// use bytes::BytesMut;
    /// use proto_resp::{Config, Connection, Event, Protocol};
    ///
    /// let mut conn = Connection::new(Config::new().protocol(Protocol::Resp2), Instant::now());
    /// let a = conn.send_args(&["GET", "a"]).unwrap();
    /// let b = conn.send_args(&["GET", "b"]).unwrap();
    /// let mut rbuf = BytesMut::from(&b"$1\r\nx\r\n$-1\r\n$"[..]);
    /// let now = Instant::now();
    /// assert!(matches!(conn.next_event(now, &mut rbuf), Ok(Some(Event::Ready { .. }))));
    /// assert!(matches!(conn.next_event(now, &mut rbuf), Ok(Some(Event::Reply { id, .. })) if id == a));
    /// assert!(matches!(conn.next_event(now, &mut rbuf), Ok(Some(Event::Reply { id, .. })) if id == b));
    /// assert!(matches!(conn.next_event(now, &mut rbuf), Ok(None)));
    /// assert_eq!(&rbuf[..], b"$"); // a partial frame stays
    /// ```
    #[inline]
    pub fn next_event(&mut self, now: Instant, buf: &mut BytesMut) -> Result<Option<Event>, Error> {
        let _ = now; // As in `handle_input`.
        if let Some(ev) = self.events.pop_front() {
            return Ok(Some(ev));
        }
        if let Phase::Failed(e) = &self.phase {
            return Err(e.clone());
        }
        loop {
            let frame = match self.decoder.decode_bytes(buf) {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.fail(Error::Decode(e))),
            };
            match self.on_frame(frame) {
                // The queue is empty here: nothing can overtake `ev`.
                Ok(Some(ev)) => return Ok(Some(ev)),
                Ok(None) => {
                    if let Some(ev) = self.events.pop_front() {
                        return Ok(Some(ev));
                    }
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Splits up to `max` plain replies off the front of `buf` into `out`:
    /// the batch form of [`next_event`](Self::next_event) for a driver
    /// gathering a pipeline's replies. Returns the id of the first reply
    /// taken and how many were taken (the following ones answer the
    /// following requests, ids one apart); `Ok(None)` when none was.
    ///
    /// It takes only what `next_event` would turn into
    /// [`Event::Reply`]s for ordinary commands, and stops (leaving it in
    /// `buf`) at anything else: a push, a reply to `HELLO`, `RESET` or a
    /// subscribe-family command, a reply while the handshake runs or
    /// while a RESP2 connection is subscribed (its messages are arrays),
    /// or when events are queued. Call `next_event` then. Errors are those
    /// of `next_event`; replies taken before a malformed frame are
    /// returned first, and the (sticky) error with the next call.
    ///
    /// ```
    /// use std::time::Instant;
    /// use bytes::BytesMut;
    /// use proto_resp::{Config, Connection, Event, Frame, Protocol};
    ///
    /// let now = Instant::now();
    /// let mut conn = Connection::new(Config::new().protocol(Protocol::Resp2), now);
    /// let mut rbuf = BytesMut::new();
    /// assert!(matches!(conn.next_event(now, &mut rbuf), Ok(Some(Event::Ready { .. }))));
    /// let first = conn.send_args(&["GET", "a"]).unwrap();
    /// conn.send_args(&["SET", "b", "1"]).unwrap();
    /// rbuf.extend_from_slice(b"$1\r\nx\r\n+OK\r\n$");
    /// let mut out = Vec::new();
    /// assert_eq!(conn.next_replies(now, &mut rbuf, 10, &mut out), Ok(Some((first, 2))));
    /// assert_eq!(out, [Frame::BulkString("x".into()), Frame::SimpleString("OK".into())]);
    /// assert_eq!(&rbuf[..], b"$");
    /// ```
    pub fn next_replies(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
        max: usize,
        out: &mut Vec<Frame>,
    ) -> Result<Option<(ReqId, usize)>, Error> {
        let _ = now; // As in `handle_input`.
        if let Phase::Failed(e) = &self.phase {
            return Err(e.clone());
        }
        // RESP2 pub/sub messages are arrays: only `route` tells them apart.
        if !self.events.is_empty()
            || self.phase != Phase::Ready
            || (self.protocol == Protocol::Resp2 && self.subs.active())
        {
            return Ok(None);
        }
        // The requests at the front that take a plain reply: counted once
        // (not per run, which would be quadratic for mixed replies).
        let mut heads = self.inflight.plain_heads(max);
        let mut first = None;
        let mut n = 0;
        while heads > 0 {
            let id = match self.inflight.front() {
                Some(Pending {
                    owner: Owner::User(id),
                    ..
                }) => *id,
                _ => break,
            };
            // Bulk strings and `+OK` (a GET/SET pipeline's replies): as
            // many as are here, with one split of `buf`.
            let k = self.decoder.decode_plain_run(buf, heads, out);
            if k > 0 {
                self.inflight.take_plain(k);
                first.get_or_insert(id);
                n += k;
                heads -= k;
                continue;
            }
            // A RESP3 push (`>`) is the only frame `route` does not hand
            // to an `Expect::One` head here.
            if buf.first() == Some(&b'>') {
                break;
            }
            match self.decoder.decode_bytes(buf) {
                Ok(Some(frame)) => {
                    self.inflight.pop_front();
                    out.push(frame);
                    first.get_or_insert(id);
                    n += 1;
                    heads -= 1;
                }
                Ok(None) => break,
                Err(e) => {
                    let e = self.fail(Error::Decode(e));
                    // The replies taken before the bad frame are handed
                    // over first, as `next_event` would have; the error,
                    // sticky, comes with the next call.
                    return match first {
                        Some(id) => Ok(Some((id, n))),
                        None => Err(e),
                    };
                }
            }
        }
        Ok(first.map(|id| (id, n)))
    }

    /// The peer closed its side. An error if replies were still owed.
    pub fn handle_eof(&mut self) -> Result<(), Error> {
        match &self.phase {
            Phase::Failed(e) => Err(e.clone()),
            Phase::Handshaking => Err(self.fail(Error::UnexpectedEof {
                pending: self.inflight.len(),
            })),
            _ if !self.inflight.is_empty() => Err(self.fail(Error::UnexpectedEof {
                pending: self.inflight.len(),
            })),
            _ => {
                self.phase = Phase::Closed;
                Ok(())
            }
        }
    }

    /// Fails the handshake if its deadline has passed; a spurious call is a
    /// no-op.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        if let Phase::Failed(e) = &self.phase {
            return Err(e.clone());
        }
        match self.deadline {
            Some(d) if now >= d && self.phase == Phase::Handshaking => {
                Err(self.fail(Error::HandshakeTimeout))
            }
            _ => Ok(()),
        }
    }

    /// Appends the bytes to write to `dst`; false if there were none.
    #[must_use]
    pub fn poll_transmit(&mut self, dst: &mut BytesMut) -> bool {
        if self.tx.is_empty() {
            return false;
        }
        if dst.is_empty() {
            // Hand the buffer over instead of copying it.
            std::mem::swap(dst, &mut self.tx);
        } else {
            dst.extend_from_slice(&self.tx);
            self.tx.clear();
        }
        true
    }

    /// The next event, in order.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next:
    /// the handshake deadline while handshaking, otherwise never. Redis has
    /// no other protocol timer; request timeouts belong to the driver, which
    /// must then discard the connection (a late reply would be matched to
    /// the next request otherwise).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Handshaking => self.deadline,
            _ => None,
        }
    }

    /// The protocol in use: negotiated by the handshake, or RESP2 after a
    /// fallback or a `RESET`.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// True once the handshake has succeeded and until a fatal error.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// The fatal error, if the connection has failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.phase {
            Phase::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The server's `HELLO` reply (server, version, proto, id, mode, role,
    /// modules), if RESP3 was negotiated.
    pub fn hello(&self) -> Option<&Frame> {
        self.hello.as_ref()
    }

    /// Requests sent (or held during the handshake) and not yet answered.
    pub fn pending(&self) -> usize {
        self.held.len() + self.inflight.user_requests()
    }

    /// True while the server has confirmed at least one subscription.
    pub fn is_subscribed(&self) -> bool {
        self.subs.active()
    }

    fn fail(&mut self, e: Error) -> Error {
        self.phase = Phase::Failed(e.clone());
        self.tx.clear();
        self.held_tx.clear();
        e
    }

    /// Routes one frame: the event it makes for the caller, if any (events
    /// of the handshake go to the queue).
    #[inline]
    fn on_frame(&mut self, frame: Frame) -> Result<Option<Event>, Error> {
        let head = self.inflight.front().map(|p| &p.expect);
        match state::route(&frame, self.protocol, &self.subs, head) {
            Route::Push => Ok(Some(Event::Push { frame })),
            Route::Confirmation {
                kind,
                to_head: false,
            } => {
                self.subs.apply(kind, &frame);
                Ok(Some(Event::Push { frame }))
            }
            Route::Confirmation {
                kind,
                to_head: true,
            } => {
                let count = self.subs.count(kind.family);
                self.subs.apply(kind, &frame);
                let Some(head) = self.inflight.front_mut() else {
                    return Err(Error::UnexpectedReply);
                };
                let Expect::PubSub(wait) = &mut head.expect else {
                    return Err(Error::UnexpectedReply);
                };
                let left = wait.remaining.get_or_insert(count.max(1));
                wait.got.push(frame);
                *left = left.saturating_sub(1);
                if *left == 0 {
                    let got = std::mem::take(&mut wait.got);
                    self.complete(Frame::Array(got), true)
                } else {
                    Ok(None)
                }
            }
            Route::Reply => self.complete(frame, false),
        }
    }

    /// Hands `frame` to the head request; `confirmed` when `frame` gathers
    /// the confirmations of a (un)subscribe command.
    fn complete(&mut self, frame: Frame, confirmed: bool) -> Result<Option<Event>, Error> {
        let Some(head) = self.inflight.pop_front() else {
            return Err(Error::UnexpectedReply);
        };
        match (head.owner, head.expect) {
            (Owner::Handshake(step), _) => self.on_handshake_reply(step, frame).map(|()| None),
            (Owner::User(_), Expect::PubSub(wait))
                if !confirmed && (!wait.got.is_empty() || !frame.is_error()) =>
            {
                // Only an error may stand in for confirmations, and only
                // before the first one.
                Err(Error::UnexpectedReply)
            }
            (Owner::User(id), expect) => {
                if !frame.is_error() {
                    match expect {
                        Expect::Reset => {
                            self.subs.clear();
                            self.protocol = Protocol::Resp2;
                        }
                        Expect::Hello => {
                            if let Some(p) = negotiated(&frame) {
                                self.protocol = p;
                            }
                        }
                        _ => {}
                    }
                }
                Ok(Some(Event::Reply { id, frame }))
            }
        }
    }

    fn on_handshake_reply(&mut self, step: Step, frame: Frame) -> Result<(), Error> {
        match state::handshake(step, &frame) {
            Handshake::Reject(msg) => Err(Error::Handshake(msg)),
            Handshake::FallBackToResp2 => {
                self.send_resp2_setup();
                Ok(())
            }
            Handshake::Continue => {
                if step == Step::Hello {
                    self.protocol = negotiated(&frame).unwrap_or(Protocol::Resp3);
                    self.hello = Some(frame);
                    self.send_select();
                } else {
                    self.maybe_ready();
                }
                Ok(())
            }
        }
    }
}

/// The `proto` field of a `HELLO` reply (a map in RESP3, a flat array in
/// RESP2).
fn negotiated(hello: &Frame) -> Option<Protocol> {
    let proto = match hello {
        Frame::Map(m) => m
            .iter()
            .find(|(k, _)| k.as_bytes() == Some(b"proto"))
            .map(|(_, v)| v),
        Frame::Array(v) => v
            .chunks(2)
            .find(|kv| kv[0].as_bytes() == Some(b"proto"))
            .and_then(|kv| kv.get(1)),
        _ => None,
    }?;
    match proto.as_integer()? {
        2 => Some(Protocol::Resp2),
        3 => Some(Protocol::Resp3),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
