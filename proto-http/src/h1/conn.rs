//! The server side of an HTTP/1.1 connection as a Sans-IO state machine.

use std::collections::VecDeque;
use std::time::{Instant, SystemTime};

use bytes::{Bytes, BytesMut};

use crate::error::{ProtoError, ProtoErrorKind, UserError};
use crate::header::StatusCode;

use super::body::{BodyDecoder, BodyItem};
use super::date::HttpDate;
use super::encode::{self, Body, Header, HeaderFacts, OutFraming, ResponseHead};
use super::event::{Event, Queued, RequestId};
use super::head::{BodyKind, RequestHead};
use super::limits::{Config, ContinuePolicy};
use super::parse::{HeadKind, HeadParser};
use super::state::{Expect, Lifecycle, Phase, ReadState, RespState, Slot, Timer, TimerAction};

/// Bodies at least this large are queued by reference instead of copied
/// into the connection's own write buffer.
const COPY_LIMIT: usize = 16 * 1024;

/// Room given to an unallocated transmit buffer at its first write: a few
/// small responses, or a pipelined batch of 16 plaintext ones.
const TX_INITIAL: usize = 4096;

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Queue room reserved at the first request: one request in flight, with
/// its two events (`Request`, `BodyEnd`), is the common case. Pipelining
/// grows the queues; [`Connection::shrink_idle`] gives that back.
const SLOTS_INITIAL: usize = 1;
const EVENTS_INITIAL: usize = 2;
const HEADS_INITIAL: usize = 1;

/// `handle_input` returns once this many events are queued.
const MAX_EVENTS_PER_CALL: usize = 64;

/// A server-side HTTP/1.1 connection: parses requests, encodes responses,
/// and enforces limits and timeouts. It performs no I/O; see the
/// [crate docs](crate) for the run loop.
pub struct Connection {
    config: Config,
    phase: Phase,
    parser: HeadParser,
    body: BodyDecoder,
    /// Some byte of the next request head has been seen.
    head_started: bool,
    next_id: u64,
    slots: VecDeque<Slot>,
    /// Small queued events; request heads wait in `heads` so the queue's
    /// memory stays small (a head is several hundred bytes inline).
    events: VecDeque<Queued>,
    heads: VecDeque<RequestHead>,
    /// Output ready for `poll_transmit`, after everything in `txq`.
    tx: BytesMut,
    txq: VecDeque<Bytes>,
    timer: Option<Timer>,
    now: Option<Instant>,
    date: Option<HttpDate>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("read", &self.phase.read)
            .field("life", &self.phase.life)
            .field("in_flight", &self.slots.len())
            .field("timer", &self.timer)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection for a freshly accepted socket.
    #[must_use]
    pub fn new(config: Config) -> Connection {
        Connection {
            phase: Phase::new(),
            parser: HeadParser::new(HeadKind::Request),
            body: BodyDecoder::length(0),
            head_started: false,
            next_id: 0,
            // Allocated at the first request (see `on_request`): a
            // connection that never sends one costs no queue memory.
            slots: VecDeque::new(),
            events: VecDeque::new(),
            heads: VecDeque::new(),
            tx: BytesMut::new(),
            txq: VecDeque::new(),
            timer: None,
            now: None,
            date: None,
            config,
        }
    }

    /// Sets the time used for the `Date` header, in seconds since the Unix
    /// epoch. Call it with your cached clock (once a second is enough); the
    /// value is re-formatted only when the second changes.
    pub fn set_date_unix(&mut self, secs: u64) {
        match &mut self.date {
            Some(d) => {
                d.update_unix(secs);
            }
            None => self.date = Some(HttpDate::from_unix(secs)),
        }
    }

    /// Sets the `Date` from a preformatted, shared [`HttpDate`].
    pub fn set_date(&mut self, date: &HttpDate) {
        self.date = Some(*date);
    }

    /// Sets the `Date` from a `SystemTime` the caller read.
    pub fn set_date_system(&mut self, now: SystemTime) {
        let mut d = self.date.unwrap_or_default();
        d.update(now);
        self.date = Some(d);
    }

    /// Consumes whole messages (and body pieces) from the front of `buf`,
    /// leaving a partial head in place. Call it whenever bytes arrive.
    ///
    /// Work per call is bounded: it stops after queueing a batch of events
    /// (so a body of one-byte chunks cannot turn one read into thousands of
    /// queued events), at [`Config::max_pipelined`] requests in flight, and
    /// while a protocol switch is pending. So after draining the events and
    /// answering, call it again while `buf` is not empty and the previous
    /// call consumed something. After [`wants_close`](Self::wants_close),
    /// input is discarded.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        self.now = Some(now);
        while self.events.len() < MAX_EVENTS_PER_CALL {
            match self.phase.read {
                ReadState::Head => {
                    if buf.is_empty() || self.slots.len() >= self.config.max_pipelined {
                        break;
                    }
                    self.head_started = true;
                    match self.parser.parse(buf, &self.config.limits) {
                        Ok(None) => break,
                        Ok(Some(n)) => {
                            let raw = buf.split_to(n).freeze();
                            self.head_started = false;
                            self.timer = None;
                            match self.parser.take_request(raw, &self.config.limits) {
                                Ok(head) => self.on_request(head),
                                Err(e) => self.fail(None, e),
                            }
                        }
                        Err(e) => {
                            self.parser.reset();
                            self.fail(None, e);
                        }
                    }
                }
                ReadState::Body { id } => match self.body.decode(buf, &self.config.limits) {
                    Ok(None) => break,
                    Ok(Some(BodyItem::Data(chunk))) => {
                        if let Some(slot) = self.slot_mut(id) {
                            slot.on_body_data();
                        }
                        self.timer = self.config.body_timeout.map(|d| Timer::Body(now + d));
                        self.events.push_back(Queued::Body {
                            id: RequestId(id),
                            chunk,
                        });
                    }
                    Ok(Some(BodyItem::End(trailers))) => self.on_body_end(id, trailers),
                    Err(e) => self.fail(Some(id), e),
                },
                ReadState::Done => {
                    // Lingering close (RFC 9112 §9.6): read and discard.
                    buf.clear();
                    break;
                }
                ReadState::AwaitSwitch { .. } | ReadState::Switched => break,
            }
        }
        self.settle();
    }

    /// The peer closed its sending side. Call it after the last
    /// [`handle_input`](Self::handle_input).
    pub fn handle_eof(&mut self, now: Instant) {
        self.now = Some(now);
        match self.phase.read {
            ReadState::Head if self.head_started => {
                self.fail(None, ProtoErrorKind::UnexpectedEof.into())
            }
            ReadState::Head | ReadState::AwaitSwitch { .. } => self.stop_reading(),
            ReadState::Body { id } => match self.body.decode_eof() {
                Ok(Some(BodyItem::End(t))) => {
                    self.on_body_end(id, t);
                    self.stop_reading();
                }
                Ok(_) => self.stop_reading(),
                Err(e) => self.fail(Some(id), e),
            },
            ReadState::Switched | ReadState::Done => {}
        }
        self.settle();
    }

    /// The connection was accepted at `now`: arms the idle timeout, so that
    /// a client that connects and never sends a byte is closed as well
    /// (without this call the first timer starts with the first input).
    /// Call it once, before anything else.
    pub fn handle_accept(&mut self, now: Instant) {
        self.now = Some(now);
        self.settle();
    }

    /// Fires the timer if its deadline has passed; otherwise a no-op.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        if let Some(t) = self.timer.filter(|t| t.deadline() <= now) {
            self.timer = None;
            match TimerAction::of(t) {
                TimerAction::Close => self.stop_reading(),
                TimerAction::Fail(e) => {
                    let id = match self.phase.read {
                        ReadState::Body { id } => Some(id),
                        _ => None,
                    };
                    self.fail(id, e);
                }
            }
        }
        self.settle();
    }

    /// Starts the response to request `id`. With [`Body::Full`] or
    /// [`Body::Empty`] the response is complete; with [`Body::Stream`]
    /// follow up with [`send_body_chunk`](Self::send_body_chunk) and
    /// [`send_end`](Self::send_end). To a `HEAD` request the body is
    /// dropped but its length still announced (RFC 9110 §9.3.2).
    ///
    /// To accept an upgrade, answer `101` with the `Upgrade`/`Connection`
    /// fields; to accept `CONNECT`, any `2xx`.
    pub fn send_response(
        &mut self,
        id: RequestId,
        head: ResponseHead<'_>,
        body: Body,
    ) -> Result<(), UserError> {
        self.check_open()?;
        let i = self.slot_index(id.0).ok_or(UserError::UnknownRequest)?;
        let facts = encode::check_headers(head.headers)?;
        let slot = &mut self.slots[i];
        let (len, streaming) = match &body {
            Body::Empty => (Some(0), false),
            Body::Full(b) => (Some(b.len() as u64), false),
            Body::Stream { length } => (*length, true),
        };
        let bodiless = head.status.is_bodiless()
            || (slot.is_connect && (200..300).contains(&head.status.as_u16()));
        if bodiless && (streaming || len != Some(0)) {
            return Err(UserError::InvalidStatus);
        }
        let framing = slot.on_response(head.status, len, facts.conn_close)?;
        slot.resp.start(framing, streaming)?;
        let (write_body, close) = (!slot.is_head, slot.close_after);
        let conn_value: &[u8] = if slot.switching {
            b""
        } else if close {
            b"close"
        } else if slot.http10 {
            b"keep-alive"
        } else {
            b""
        };
        self.phase.on_response(slot);
        let date = self.date_bytes();
        let out = sink(&mut self.tx, &mut self.slots, i);
        write_head(
            out,
            head.status,
            head.headers,
            framing,
            facts,
            date,
            conn_value,
        );
        if let (Body::Full(b), true) = (body, write_body) {
            self.write_data(i, b);
        }
        self.settle();
        Ok(())
    }

    /// Sends a piece of a streaming response body.
    pub fn send_body_chunk(&mut self, id: RequestId, data: Bytes) -> Result<(), UserError> {
        self.check_open()?;
        let i = self.slot_index(id.0).ok_or(UserError::UnknownRequest)?;
        let slot = &mut self.slots[i];
        let framing = slot.resp.data(data.len())?;
        if slot.is_head || data.is_empty() {
            return Ok(());
        }
        match framing {
            OutFraming::Chunked => {
                encode::chunk_header(sink(&mut self.tx, &mut self.slots, i), data.len());
                self.write_data(i, data);
                sink(&mut self.tx, &mut self.slots, i).extend_from_slice(b"\r\n");
            }
            OutFraming::Length(_) | OutFraming::Close => self.write_data(i, data),
            OutFraming::None => {}
        }
        Ok(())
    }

    /// Ends a streaming response body.
    pub fn send_end(&mut self, id: RequestId) -> Result<(), UserError> {
        self.send_end_with_trailers(id, &[])
    }

    /// Ends a streaming response body with trailer fields (sent only when
    /// the body is chunked, RFC 9112 §7.1.2; otherwise dropped).
    pub fn send_end_with_trailers(
        &mut self,
        id: RequestId,
        trailers: &[Header<'_>],
    ) -> Result<(), UserError> {
        self.check_open()?;
        let i = self.slot_index(id.0).ok_or(UserError::UnknownRequest)?;
        encode::check_headers(trailers)?;
        let slot = &mut self.slots[i];
        let framing = slot.resp.end()?;
        if framing == OutFraming::Chunked && !slot.is_head {
            encode::last_chunk(sink(&mut self.tx, &mut self.slots, i), trailers);
        }
        self.settle();
        Ok(())
    }

    /// Sends `100 Continue` for request `id` if its client is waiting for
    /// one (RFC 9110 §10.1.1); call it when the application starts reading
    /// the body. A no-op otherwise.
    pub fn send_continue(&mut self, id: RequestId) -> Result<(), UserError> {
        self.check_open()?;
        let i = self.slot_index(id.0).ok_or(UserError::UnknownRequest)?;
        let slot = &mut self.slots[i];
        if slot.take_continue() {
            sink(&mut self.tx, &mut self.slots, i).extend_from_slice(CONTINUE);
            self.settle();
        }
        Ok(())
    }

    /// Appends everything ready to send to `out`; returns how many bytes.
    #[must_use = "the bytes must be written to the peer"]
    pub fn poll_transmit(&mut self, out: &mut BytesMut) -> usize {
        let before = out.len();
        if self.tx.is_empty() && self.txq.is_empty() {
            // Nothing to send: keep both buffers where they are (swapping
            // anyway would move an unallocated buffer into the connection).
        } else if out.is_empty() && self.txq.is_empty() {
            // Hand over our buffer instead of copying it; the caller's
            // (empty, reusable) buffer becomes the next write buffer.
            std::mem::swap(out, &mut self.tx);
        } else {
            for b in self.txq.drain(..) {
                out.extend_from_slice(&b);
            }
            out.extend_from_slice(&self.tx);
            self.tx.clear();
        }
        self.maybe_close();
        out.len() - before
    }

    /// Gives the connection an empty buffer to encode output into, when it
    /// has none (`get` is called only then). Without one, the first write
    /// allocates 4 KiB. With [`take_transmit_buffer`](Self::take_transmit_buffer)
    /// this lets a server keep write buffers in a pool while connections
    /// are idle.
    pub fn supply_transmit_buffer(&mut self, get: impl FnOnce() -> BytesMut) {
        if self.tx.capacity() == 0 && self.tx.is_empty() {
            self.tx = get();
            self.tx.clear();
        }
    }

    /// Takes the transmit buffer back when it holds nothing to send, so an
    /// idle connection keeps no write buffer; `None` when it has none or
    /// output is pending.
    pub fn take_transmit_buffer(&mut self) -> Option<BytesMut> {
        if self.tx.capacity() == 0 || !self.tx.is_empty() || !self.txq.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut self.tx))
    }

    /// Whether the internal queues hold more memory than one request in
    /// flight needs (pipelining grew them) while nothing is queued, i.e.
    /// whether [`shrink_idle`](Self::shrink_idle) would free something.
    #[must_use]
    pub fn has_idle_excess(&self) -> bool {
        self.queues_empty()
            && (self.slots.capacity() > SLOTS_INITIAL
                || self.events.capacity() > EVENTS_INITIAL
                || self.heads.capacity() > HEADS_INITIAL
                || self.txq.capacity() > 0)
    }

    /// Frees the queues' memory when nothing is queued and pipelining grew
    /// them (see [`has_idle_excess`](Self::has_idle_excess)); the next
    /// request reserves the initial room again. Call it when the
    /// connection has been idle for a while: freeing on every pause would
    /// re-allocate for every pipelined batch.
    pub fn shrink_idle(&mut self) {
        if self.has_idle_excess() {
            self.slots = VecDeque::new();
            self.events = VecDeque::new();
            self.heads = VecDeque::new();
            self.txq = VecDeque::new();
        }
    }

    fn queues_empty(&self) -> bool {
        self.slots.is_empty()
            && self.events.is_empty()
            && self.heads.is_empty()
            && self.txq.is_empty()
    }

    /// The next event, in order.
    #[must_use = "events must be handled"]
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        Some(match self.events.pop_front()? {
            Queued::Request { id } => Event::Request {
                id,
                head: self.heads.pop_front()?,
            },
            Queued::Body { id, chunk } => Event::Body { id, chunk },
            Queued::BodyEnd { id, trailers } => Event::BodyEnd { id, trailers },
            Queued::Switched { id } => Event::Switched { id },
            Queued::Error { id, error } => Event::Error { id, error },
        })
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    #[must_use = "the timer must be armed"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer.map(Timer::deadline)
    }

    /// The connection will close once the output is written: stop reading
    /// (or keep reading and discarding, for a lingering close).
    #[must_use]
    pub fn wants_close(&self) -> bool {
        matches!(self.phase.life, Lifecycle::Closing | Lifecycle::Closed)
    }

    /// Everything is written and nothing more will happen: write what the
    /// last `poll_transmit` returned, then close the socket.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.phase.life == Lifecycle::Closed
    }

    /// The protocol was switched ([`Event::Switched`]); the bytes left in
    /// the read buffer, and all later ones, belong to the new protocol.
    #[must_use]
    pub fn is_switched(&self) -> bool {
        self.phase.life == Lifecycle::Switched
    }

    /// Whether the connection would consume more input now. `false` while
    /// parsing is paused ([`Config::max_pipelined`] reached, protocol switch
    /// pending), after the switch, and once no more requests will be read:
    /// stop reading from the socket until it turns `true` again, so that the
    /// read buffer stays bounded.
    #[must_use]
    pub fn wants_input(&self) -> bool {
        match self.phase.read {
            ReadState::Head => self.slots.len() < self.config.max_pipelined,
            ReadState::Body { .. } => true,
            ReadState::AwaitSwitch { .. } | ReadState::Switched | ReadState::Done => false,
        }
    }

    /// Requests parsed whose response is not yet fully handed out.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.slots.len()
    }

    // ---- internals -------------------------------------------------------

    fn check_open(&self) -> Result<(), UserError> {
        match self.phase.life {
            Lifecycle::Closed | Lifecycle::Switched => Err(UserError::Closed),
            _ => Ok(()),
        }
    }

    fn slot_index(&self, id: u64) -> Option<usize> {
        let first = self.slots.front()?.id;
        let i = usize::try_from(id.checked_sub(first)?).ok()?;
        (i < self.slots.len()).then_some(i)
    }

    fn slot_mut(&mut self, id: u64) -> Option<&mut Slot> {
        let i = self.slot_index(id)?;
        self.slots.get_mut(i)
    }

    fn date_bytes(&self) -> Option<[u8; super::date::IMF_FIXDATE_LEN]> {
        if self.config.date_header {
            self.date.map(|d| *d.as_bytes())
        } else {
            None
        }
    }

    fn on_request(&mut self, head: RequestHead) {
        if self.heads.capacity() == 0 {
            // The first request (or the first after `shrink_idle`): exact
            // room, not the allocator's default growth (4 heads of several
            // hundred bytes each).
            self.slots.reserve_exact(SLOTS_INITIAL);
            self.events.reserve_exact(EVENTS_INITIAL);
            self.heads.reserve_exact(HEADS_INITIAL);
        }
        let id = self.next_id;
        self.next_id += 1;
        let mut slot = Slot::for_request(id, &head);
        self.body = match head.body_kind() {
            BodyKind::Chunked => BodyDecoder::chunked(),
            BodyKind::Length(n) => BodyDecoder::length(n),
            BodyKind::UntilEof => BodyDecoder::length(0),
        };
        if self.config.continue_policy == ContinuePolicy::Immediate && slot.take_continue() {
            let out = if self.slots.is_empty() {
                tx_ready(&mut self.tx)
            } else {
                &mut slot.out
            };
            out.extend_from_slice(CONTINUE);
        }
        self.phase.on_head(&slot);
        let no_body = !slot.body_pending;
        self.slots.push_back(slot);
        self.heads.push_back(head);
        self.events.push_back(Queued::Request { id: RequestId(id) });
        if no_body {
            self.events.push_back(Queued::BodyEnd {
                id: RequestId(id),
                trailers: None,
            });
        } else if let (Some(now), Some(d)) = (self.now, self.config.body_timeout) {
            self.timer = Some(Timer::Body(now + d));
        }
    }

    fn on_body_end(&mut self, id: u64, trailers: Option<Box<super::head::Headers>>) {
        self.timer = None;
        self.events.push_back(Queued::BodyEnd {
            id: RequestId(id),
            trailers,
        });
        let i = self.slot_index(id);
        if let Some(i) = i {
            self.slots[i].body_pending = false;
        }
        self.phase.on_body_end(i.map(|i| &self.slots[i]));
    }

    fn stop_reading(&mut self) {
        self.phase.stop_reading();
        self.head_started = false;
    }

    /// A protocol error (or timeout): report it, answer it, stop reading.
    fn fail(&mut self, id: Option<u64>, error: ProtoError) {
        self.events.push_back(Queued::Error {
            id: id.map(RequestId),
            error,
        });
        self.stop_reading();
        self.timer = None;
        let respond = error.kind() != ProtoErrorKind::UnexpectedEof;
        let i = match id.and_then(|id| self.slot_index(id)) {
            Some(i) => Some(i),
            None if respond => {
                let sid = self.next_id;
                self.next_id += 1;
                self.slots.push_back(Slot::synthetic(sid));
                Some(self.slots.len() - 1)
            }
            None => None,
        };
        if let Some(i) = i {
            if self.slots[i].on_fail(respond) {
                let date = self.date_bytes();
                let out = sink(&mut self.tx, &mut self.slots, i);
                write_head(
                    out,
                    error.status(),
                    &[],
                    OutFraming::Length(0),
                    HeaderFacts::default(),
                    date,
                    b"close",
                );
            }
        }
    }

    /// Appends body data for slot `i`, by reference when large and first in line.
    fn write_data(&mut self, i: usize, data: Bytes) {
        if i == 0 && data.len() >= COPY_LIMIT {
            if !self.tx.is_empty() {
                self.txq.push_back(self.tx.split().freeze());
            }
            self.txq.push_back(data);
        } else {
            sink(&mut self.tx, &mut self.slots, i).extend_from_slice(&data);
        }
    }

    /// Moves finished responses out of the queue in order, applies their
    /// consequences, and re-arms the timer.
    fn settle(&mut self) {
        while let Some(front) = self.slots.front_mut() {
            if !front.out.is_empty() {
                tx_ready(&mut self.tx).extend_from_slice(&front.out);
                front.out = BytesMut::new();
            }
            let reading_its_body = self.phase.read == (ReadState::Body { id: front.id });
            if front.resp != RespState::Complete || reading_its_body {
                break;
            }
            let Some(slot) = self.slots.pop_front() else {
                break;
            };
            if !self.phase.on_response_done(&slot) {
                self.head_started = false;
                self.slots.clear();
                if slot.switching {
                    self.events.push_back(Queued::Switched {
                        id: RequestId(slot.id),
                    });
                }
                break;
            }
        }
        self.maybe_close();
        self.rearm();
    }

    fn maybe_close(&mut self) {
        if self.slots.is_empty() && self.tx.is_empty() && self.txq.is_empty() {
            self.phase.on_drained();
        }
    }

    /// Which timer the current state wants; an armed timer of the same kind
    /// keeps its deadline (the header deadline is never refreshed).
    fn rearm(&mut self) {
        let Some(now) = self.now else { return };
        let c = &self.config;
        self.timer = match (self.phase.life, self.phase.read) {
            (Lifecycle::Open, ReadState::Head) if self.head_started => match self.timer {
                Some(t @ Timer::Header(_)) => Some(t),
                _ => c.header_timeout.map(|d| Timer::Header(now + d)),
            },
            (Lifecycle::Open, ReadState::Head) if self.slots.is_empty() => match self.timer {
                Some(t @ Timer::Idle(_)) => Some(t),
                _ => c.idle_timeout.map(|d| Timer::Idle(now + d)),
            },
            (Lifecycle::Open | Lifecycle::Closing, ReadState::Body { id }) => {
                let waiting_continue = self
                    .slot_index(id)
                    .is_some_and(|i| self.slots[i].expect == Expect::Pending);
                match self.timer {
                    _ if waiting_continue => None,
                    Some(t @ Timer::Body(_)) => Some(t),
                    _ => c.body_timeout.map(|d| Timer::Body(now + d)),
                }
            }
            _ => None,
        };
    }
}

/// The buffer that output for slot `i` goes to: the transmit buffer for the
/// first in line, otherwise the slot's own hold-back buffer.
fn sink<'a>(tx: &'a mut BytesMut, slots: &'a mut VecDeque<Slot>, i: usize) -> &'a mut BytesMut {
    if i == 0 {
        tx_ready(tx)
    } else {
        &mut slots[i].out
    }
}

/// The transmit buffer, given [`TX_INITIAL`] bytes of room the first time
/// it is written to (so a batch of pipelined responses does not grow it by
/// doubling from a few bytes). It keeps that capacity: `poll_transmit`
/// swaps it with the caller's empty buffer rather than freeing it.
fn tx_ready(tx: &mut BytesMut) -> &mut BytesMut {
    if tx.capacity() == 0 {
        tx.reserve(TX_INITIAL);
    }
    tx
}

/// Status line, application fields, then the fields the connection owns.
fn write_head(
    out: &mut BytesMut,
    status: StatusCode,
    headers: &[Header<'_>],
    framing: OutFraming,
    facts: HeaderFacts,
    date: Option<[u8; super::date::IMF_FIXDATE_LEN]>,
    connection: &[u8],
) {
    // One reservation for the whole head: status line, the fields with
    // ": " and CRLF each, and room for the framing, Date and Connection
    // fields and the blank line.
    let fields: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    out.reserve(fields + 160);
    encode::status_line(out, status);
    encode::fields(out, headers);
    encode::framing_header(out, framing);
    if let (Some(d), false) = (date, facts.has_date) {
        encode::field(out, b"Date", &d);
    }
    if !connection.is_empty() && !facts.conn_close {
        encode::field(out, b"Connection", connection);
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether `buf` starts like the HTTP/2 connection preface (RFC 9113 §3.4),
/// i.e. a client speaking h2c with prior knowledge; `None` while too short
/// to tell.
#[must_use]
pub fn is_h2_preface(buf: &[u8]) -> Option<bool> {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let n = buf.len().min(PREFACE.len());
    if buf[..n] != PREFACE[..n] {
        Some(false)
    } else if n == PREFACE.len() {
        Some(true)
    } else {
        None
    }
}
