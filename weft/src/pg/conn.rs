//! One pipelined connection: a cheap handle ([`Connection`]) shared by any
//! number of callers on one worker, and the task that owns the socket.
//!
//! # How requests and responses meet
//!
//! The handle and the task share one state (`Rc<Shared>`): the Sans-IO
//! [`proto_pg::Connection`], a FIFO of the protocol requests in wire order
//! (each tagged with the slot of the driver operation it belongs to) and a
//! slab of slots. An operation (a query is `Bind`, `Execute`, `Sync`)
//! encodes all its messages at once, so operations go out whole and in
//! call order; everything queued during one executor round leaves in one
//! `write`. The task reads, feeds the machine and routes each event to the
//! slot at the head of the FIFO, checking that the machine's request id is
//! the head's: a response never reaches the wrong caller, and a mismatch
//! fails the connection.
//!
//! # Backpressure
//!
//! A streaming operation ([`RowStream`](super::RowStream), COPY TO) buffers
//! at most [`Config::stream_buffer_rows`](super::Config) rows (plus one
//! read's worth): past that the task stops reading the socket, the kernel
//! buffers fill and the server waits, so memory stays bounded whatever the
//! result size. The consumer resumes reading as it drains.
//!
//! # Deferred `BEGIN`
//!
//! A transaction's `BEGIN` is not sent on its own: the next operation of
//! extended-query messages carries it at the head of its sync block
//! (`Parse`/`Bind`/`Execute` of the `BEGIN`, no `Sync`), saving a round
//! trip; if it fails, the server skips the rest of the block ("Extended
//! Query", 55.2.3) and that operation reports the error. Simple queries
//! and COPY, which cannot share a block, send it alone first.
//!
//! # Cancellation
//!
//! A dropped operation (its future dropped, its timeout fired) is
//! *abandoned*: its remaining responses are read and discarded. When it is
//! the only operation in flight, the driver also sends a `CancelRequest`
//! on a new socket ("Canceling Requests in Progress", 55.2.8) and holds
//! back later requests until both the cancel was delivered and the
//! abandoned operation ended: the server ignores a cancel that arrives
//! while it is idle, so it can hit nothing but the abandoned query.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use proto_pg::message::backend::TransactionStatus;
use proto_pg::{Event, Notification, ReqId, UsageError};

use super::config::{Config, TargetSessionAttrs};
use super::error::Error;
use super::statement::Cache;
use crate::rt::{AsyncStream, Backend, spawn, time};

/// Sends a `CancelRequest` packet to `addr` and waits for the server to
/// close that socket.
type CancelFn = fn(SocketAddr, BytesMut) -> Pin<Box<dyn Future<Output = io::Result<()>>>>;

/// Notifications kept for subscribers before the oldest are dropped.
const NOTIFY_CAP: usize = 65_536;

pub(crate) struct Slot {
    busy: bool,
    abandoned: bool,
    waker: Option<Waker>,
    events: VecDeque<Event>,
    /// Protocol requests of this operation not yet finished.
    remaining: usize,
    /// Rows or COPY chunks buffered in `events`.
    rows: usize,
    /// Subject to backpressure.
    stream: bool,
    /// The connection failed while this operation was pending.
    failed: Option<Error>,
    /// A COPY FROM STDIN: holds the copy gate until it ends.
    gate: bool,
}

impl Slot {
    fn free() -> Slot {
        Slot {
            busy: false,
            abandoned: false,
            waker: None,
            events: VecDeque::new(),
            remaining: 0,
            rows: 0,
            stream: false,
            failed: None,
            gate: false,
        }
    }
}

/// Whether `sql` may leave session state behind that no command tag or
/// `ParameterStatus` reveals: temporary tables, `set_config` of an
/// unreported setting, session advisory locks. A heuristic on the text;
/// a false positive only costs a `DISCARD ALL`.
pub(crate) fn touches_session(sql: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    lower.contains("set_config")
        || lower.contains("pg_advisory_lock")
        || lower.contains("pg_try_advisory_lock")
        || (lower.contains("create") && lower.contains("temp"))
}

/// Connection state a pool must know about.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// A command changed session state (`SET`, `PREPARE`, `LISTEN`,
    /// `DECLARE`, temporary tables...).
    pub(crate) dirty: bool,
    /// Run-time parameters as reported at start-up.
    baseline: HashMap<String, String>,
    /// Parameters whose reported value differs from the baseline.
    changed: HashMap<String, String>,
}

impl Session {
    /// After `DISCARD ALL`: back to the start-up state.
    pub(crate) fn reset(&mut self) {
        self.dirty = false;
        self.changed.clear();
    }

    pub(crate) fn is_changed(&self) -> bool {
        self.dirty || !self.changed.is_empty()
    }
}

struct Fence {
    slot: usize,
    op_done: bool,
    cancel_done: bool,
}

pub(crate) struct State {
    pub(crate) proto: proto_pg::Connection,
    queue: VecDeque<(ReqId, usize)>,
    /// Scratch buffer for the request ids of the operation being queued.
    ids: Vec<ReqId>,
    /// A transaction's `BEGIN` not sent yet (its owner's token and SQL):
    /// it goes out with the next statement (see [`Connection::defer_begin`]).
    pub(crate) begin: Option<(u64, String)>,
    slots: Vec<Slot>,
    free: Vec<usize>,
    pub(crate) error: Option<Error>,
    ready: bool,
    ready_waker: Option<Waker>,
    close_wakers: Vec<Waker>,
    task: Option<Waker>,
    tx_pending: bool,
    read_paused: bool,
    stream_limit: usize,
    fence: Option<Fence>,
    /// A COPY FROM STDIN is queued or running: nothing else may be sent.
    copy_gate: bool,
    gate_wakers: Vec<Waker>,
    /// Bytes handed to the machine and not yet written (COPY flow control).
    tx_backlog: usize,
    tx_wakers: Vec<Waker>,
    pub(crate) cache: Cache,
    pub(crate) session: Session,
    notifications: VecDeque<Notification>,
    notify_subscribers: usize,
    notify_wakers: Vec<Waker>,
    cancel: Option<(SocketAddr, CancelFn)>,
    pub(crate) query_timeout: Option<Duration>,
}

pub(crate) struct Shared {
    pub(crate) state: RefCell<State>,
    handles: Cell<usize>,
}

/// A connection to PostgreSQL, shared by every caller holding a clone.
///
/// Cloning is cheap (a reference count). Calls from many tasks of one
/// worker are pipelined on the one socket and answered in order. The
/// socket belongs to a task on the worker that connected; the handle is
/// not `Send`. When the last clone (and the last pending operation) is
/// dropped, the connection sends `Terminate` and closes.
///
/// Transactions and COPY change what the session does for everyone on it:
/// give such work a connection of its own (a pool does).
pub struct Connection {
    pub(crate) shared: Rc<Shared>,
}

impl Clone for Connection {
    fn clone(&self) -> Self {
        self.shared.handles.set(self.shared.handles.get() + 1);
        Connection {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let n = self.shared.handles.get() - 1;
        self.shared.handles.set(n);
        if n == 0 {
            let task = self.shared.state.borrow_mut().task.take();
            if let Some(w) = task {
                w.wake();
            }
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.shared.state.borrow();
        f.debug_struct("Connection")
            .field("process_id", &st.proto.backend_key().map(|k| k.process_id))
            .field("pending", &st.queue.len())
            .field("error", &st.error)
            .finish_non_exhaustive()
    }
}

impl State {
    fn alloc(&mut self, stream: bool, remaining: usize) -> usize {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot::free());
                self.slots.len() - 1
            }
        };
        let s = &mut self.slots[i];
        s.busy = true;
        s.stream = stream;
        s.remaining = remaining;
        i
    }

    fn release(&mut self, i: usize) {
        // Keep the event queue's allocation for the slot's next user.
        let mut events = std::mem::take(&mut self.slots[i].events);
        events.clear();
        self.slots[i] = Slot {
            events,
            ..Slot::free()
        };
        self.free.push(i);
    }

    /// The task's waker if it must be woken to transmit.
    fn kick(&mut self) -> Option<Waker> {
        if self.tx_pending {
            return None;
        }
        self.tx_pending = true;
        self.task.clone()
    }

    /// Whether reading must wait for a streaming consumer.
    fn paused(&self) -> bool {
        self.queue.front().is_some_and(|&(_, i)| {
            let s = &self.slots[i];
            s.stream && !s.abandoned && s.rows >= self.stream_limit
        })
    }

    fn fail(&mut self, e: Error, wakers: &mut Vec<Waker>) {
        if self.error.is_none() {
            self.error = Some(e.clone());
        }
        for (_, i) in std::mem::take(&mut self.queue) {
            let s = &mut self.slots[i];
            if !s.busy {
                continue;
            }
            if s.abandoned {
                self.release(i);
            } else {
                s.failed = Some(e.clone());
                s.remaining = 0;
                wakers.extend(s.waker.take());
            }
        }
        self.fence = None;
        self.copy_gate = false;
        wakers.extend(self.ready_waker.take());
        wakers.append(&mut self.close_wakers);
        wakers.append(&mut self.gate_wakers);
        wakers.append(&mut self.tx_wakers);
        wakers.append(&mut self.notify_wakers);
        wakers.extend(self.task.take());
    }

    /// Routes the machine's events to their slots.
    fn dispatch(&mut self, wakers: &mut Vec<Waker>) {
        while let Some(ev) = self.proto.poll_event() {
            let Some(id) = ev.request() else {
                self.connection_event(ev, wakers);
                continue;
            };
            let Some(&(want, i)) = self.queue.front() else {
                self.fail(Error::Protocol(unexpected()), wakers);
                return;
            };
            if want != id {
                // Cannot happen with a correct machine; never guess.
                self.fail(Error::Protocol(unexpected()), wakers);
                return;
            }
            self.observe(&ev);
            let terminal = ev.is_terminal();
            let slot = &mut self.slots[i];
            if slot.abandoned {
                if let Event::CopyIn { .. } = ev {
                    // Nobody will feed this COPY: end it (55.2.6).
                    let _ = self.proto.copy_fail("COPY abandoned by the client");
                    wakers.extend(self.kick());
                }
            } else {
                if matches!(ev, Event::Row { .. } | Event::CopyData { .. }) {
                    slot.rows += 1;
                }
                slot.events.push_back(ev);
                if let Some(w) = slot.waker.take() {
                    wakers.push(w);
                }
            }
            if terminal {
                self.queue.pop_front();
                let slot = &mut self.slots[i];
                slot.remaining -= 1;
                if slot.remaining == 0 {
                    if slot.gate {
                        slot.gate = false;
                        self.copy_gate = false;
                        wakers.append(&mut self.gate_wakers);
                    }
                    if let Some(f) = &mut self.fence
                        && f.slot == i
                    {
                        f.op_done = true;
                    }
                    if self.slots[i].abandoned {
                        self.release(i);
                    }
                    self.lift_fence(wakers);
                }
            }
        }
    }

    /// Side effects of a request's events on the session.
    fn observe(&mut self, ev: &Event) {
        if let Event::CommandComplete { tag, .. } = ev {
            let verb = tag.split(' ').next().unwrap_or("");
            match tag.as_str() {
                "DISCARD ALL" | "DEALLOCATE ALL" => {
                    // Every prepared statement is gone, ours included.
                    self.cache.clear();
                    if tag == "DISCARD ALL" {
                        self.session.dirty = false;
                    }
                }
                "DECLARE CURSOR" | "PREPARE" | "LISTEN" | "LOAD" | "SET" | "RESET" => {
                    self.session.dirty = true
                }
                _ if verb == "SET" => self.session.dirty = true,
                _ => {}
            }
        }
    }

    fn connection_event(&mut self, ev: Event, wakers: &mut Vec<Waker>) {
        match ev {
            Event::Connected => {
                self.ready = true;
                wakers.extend(self.ready_waker.take());
            }
            Event::ParameterStatus { name, value } => {
                if !self.ready {
                    self.session.baseline.insert(name, value);
                } else if self.session.baseline.get(&name) == Some(&value) {
                    self.session.changed.remove(&name);
                } else {
                    self.session.changed.insert(name, value);
                }
            }
            Event::Notification(n) if self.notify_subscribers > 0 => {
                if self.notifications.len() >= NOTIFY_CAP {
                    self.notifications.pop_front();
                }
                self.notifications.push_back(n);
                wakers.append(&mut self.notify_wakers);
            }
            Event::Notice(n) => {
                tracing::debug!(severity = %n.severity, code = %n.code, "postgres notice: {}", n.message);
            }
            _ => {}
        }
    }

    fn lift_fence(&mut self, wakers: &mut Vec<Waker>) {
        if self
            .fence
            .as_ref()
            .is_some_and(|f| f.op_done && f.cancel_done)
        {
            self.fence = None;
            self.tx_pending = false;
            wakers.extend(self.kick());
        }
    }
}

fn unexpected() -> proto_pg::Error {
    proto_pg::Error::Unexpected {
        tag: 0,
        state: "matching a response to its request",
    }
}

impl Shared {
    pub(crate) fn fail(&self, e: Error) {
        let mut wakers = Vec::new();
        self.state.borrow_mut().fail(e, &mut wakers);
        for w in wakers {
            w.wake();
        }
    }
}

/// `BEGIN` (or `BEGIN` with options) as the first statement of a sync
/// block: `Parse` and `Bind` of the unnamed statement and portal, and
/// `Execute`, without a `Sync`.
fn begin_in_block(
    p: &mut proto_pg::Connection,
    sql: &str,
    ids: &mut Vec<ReqId>,
) -> Result<(), UsageError> {
    ids.push(p.parse("", sql, &[])?);
    ids.push(p.bind("", "", &[], &[], &[])?);
    ids.push(p.execute("", 0)?);
    Ok(())
}

/// Fails the connection when its task ends (or the runtime drops it).
struct OnExit(Rc<Shared>);

impl Drop for OnExit {
    fn drop(&mut self) {
        self.0.fail(Error::Closed);
    }
}

/// The waker the pending read is polled with: it records that the socket
/// woke the task, so a wake for another reason (a caller queued a request)
/// does not retry a read that is known to be waiting (a wasted `recv`
/// returning `EWOULDBLOCK` on readiness backends).
struct ReadWake {
    woken: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Wake for ReadWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(w) = task {
            w.wake();
        }
    }
}

/// Owns the socket: writes what the machine has to send, reads and
/// dispatches responses, until the connection fails or every handle is
/// gone (then it sends `Terminate`).
async fn drive<S: AsyncStream>(stream: S, exit: OnExit) {
    let shared = exit.0.clone();
    let mut rbuf = Some(BytesMut::with_capacity(32 * 1024));
    let mut wbuf = Some(BytesMut::with_capacity(16 * 1024));
    let mut reading = pin!(None);
    let mut writing = pin!(None);
    let mut in_write = 0usize;
    let mut terminating = false;
    let mut wakers: Vec<Waker> = Vec::new();
    let read_wake = Arc::new(ReadWake {
        woken: AtomicBool::new(true),
        task: Mutex::new(None),
    });
    let read_waker = Waker::from(read_wake.clone());
    poll_fn(|cx| {
        {
            let mut t = read_wake.task.lock().unwrap_or_else(|e| e.into_inner());
            if !t.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *t = Some(cx.waker().clone());
            }
        }
        // Reads per poll before yielding to the worker's other tasks, so a
        // fast server cannot monopolise the worker.
        let mut budget = 32u32;
        loop {
            let mut progress = false;
            {
                let mut st = shared.state.borrow_mut();
                if st.error.is_some() {
                    return Poll::Ready(());
                }
                if shared.handles.get() == 0 && !terminating {
                    terminating = true;
                    st.proto.terminate();
                    st.fence = None;
                }
                if !st.task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    st.task = Some(cx.waker().clone());
                }
                if writing.is_none() && st.fence.is_none() {
                    let mut buf = wbuf.take().expect("write buffer is home");
                    st.tx_pending = false;
                    let n = st.proto.poll_transmit(&mut buf);
                    if n > 0 {
                        drop(st);
                        in_write = n;
                        writing.set(Some(stream.write_all(buf)));
                    } else {
                        wbuf = Some(buf);
                        if terminating {
                            return Poll::Ready(());
                        }
                    }
                }
            }
            if let Some(w) = writing.as_mut().as_pin_mut()
                && let Poll::Ready((res, mut buf)) = w.poll(cx)
            {
                writing.set(None);
                buf.clear();
                if buf.capacity() > 1 << 20 {
                    buf = BytesMut::with_capacity(16 * 1024);
                }
                wbuf = Some(buf);
                if let Err(e) = res {
                    shared.fail(Error::io(e));
                    return Poll::Ready(());
                }
                let mut st = shared.state.borrow_mut();
                st.tx_backlog = st.tx_backlog.saturating_sub(in_write);
                wakers.append(&mut st.tx_wakers);
                drop(st);
                for w in wakers.drain(..) {
                    w.wake();
                }
                progress = true;
            }
            if terminating {
                if !progress {
                    return Poll::Pending;
                }
                continue;
            }
            if reading.is_none() {
                let mut st = shared.state.borrow_mut();
                if st.paused() {
                    st.read_paused = true;
                } else {
                    st.read_paused = false;
                    drop(st);
                    let mut buf = rbuf.take().expect("read buffer is home");
                    if buf.capacity() - buf.len() < 8 * 1024 {
                        buf.reserve(32 * 1024);
                    }
                    reading.set(Some(stream.read(buf)));
                    read_wake.woken.store(true, Ordering::Release);
                }
            }
            let poll_read = read_wake.woken.swap(false, Ordering::AcqRel);
            if poll_read
                && let Some(r) = reading.as_mut().as_pin_mut()
                && let Poll::Ready((res, buf)) = r.poll(&mut Context::from_waker(&read_waker))
            {
                reading.set(None);
                let buf = rbuf.insert(buf);
                match res {
                    Ok(0) => {
                        let res = shared.state.borrow_mut().proto.handle_eof();
                        shared.fail(match res {
                            Ok(()) => Error::Closed,
                            Err(e) => Error::from_proto(e),
                        });
                        return Poll::Ready(());
                    }
                    Ok(_) => {
                        let mut st = shared.state.borrow_mut();
                        let res = st.proto.handle_input(Instant::now(), buf);
                        st.dispatch(&mut wakers);
                        if let Err(e) = res {
                            st.fail(Error::from_proto(e), &mut wakers);
                        }
                        drop(st);
                        for w in wakers.drain(..) {
                            w.wake();
                        }
                        progress = true;
                        budget -= 1;
                        if budget == 0 {
                            // Come back after the others had their turn.
                            cx.waker().wake_by_ref();
                            return Poll::Pending;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(e) => {
                        shared.fail(Error::io(e));
                        return Poll::Ready(());
                    }
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
    })
    .await
}

/// Connects to `addr` with backend `B`, sends the `CancelRequest` packet
/// and waits (at most 5 seconds) for the server to close the socket, which
/// it does once it has signalled the backend.
fn send_cancel<B: Backend>(
    addr: SocketAddr,
    packet: BytesMut,
) -> Pin<Box<dyn Future<Output = io::Result<()>>>> {
    Box::pin(async move {
        let work = async {
            let s = B::connect(addr).await?;
            let (res, _) = s.write_all(packet).await;
            res?;
            loop {
                let (res, _) = s.read(Vec::with_capacity(64)).await;
                match res {
                    Ok(0) | Err(_) => return Ok(()),
                    Ok(_) => {}
                }
            }
        };
        match time::timeout(Duration::from_secs(5), work).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "cancel timed out")),
        }
    })
}

/// What a `CancelRequest` needs: where the server is and the backend key.
/// Obtained from [`Connection::cancel_token`]; `Send`, so any thread can
/// cancel.
#[derive(Clone)]
pub struct CancelToken {
    addr: SocketAddr,
    packet: BytesMut,
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl CancelToken {
    /// Asks the server, on a new socket made with backend `B`, to cancel
    /// whatever the connection is running. The query fails with SQLSTATE
    /// `57014`; a cancel that arrives while the connection is idle does
    /// nothing.
    pub async fn cancel<B: Backend>(&self) -> Result<(), Error> {
        send_cancel::<B>(self.addr, self.packet.clone())
            .await
            .map_err(Error::io)
    }
}

impl Connection {
    /// Connects to the first host of `config` that accepts (in order),
    /// authenticates and waits for the server to be ready, each host
    /// within [`Config::connect_timeout`]; with
    /// [`Config::target_session_attrs`] set, a host of the wrong kind is
    /// skipped.
    ///
    /// # Panics
    ///
    /// Outside of a Weft runtime.
    pub async fn connect<B: Backend>(config: &Config) -> Result<Connection, Error> {
        if config.hosts.is_empty() {
            return Err(Error::Config("no host given".into()));
        }
        let mut last = Error::Config("no host given".into());
        for i in 0..config.hosts.len() {
            let addrs = match config.resolve(i) {
                Ok(a) => a,
                Err(e) => {
                    last = e;
                    continue;
                }
            };
            for addr in addrs {
                match Connection::connect_addr::<B>(addr, config).await {
                    Ok(c) => match c.check_target(config.target_session_attrs).await {
                        Ok(true) => return Ok(c),
                        Ok(false) => {
                            last = Error::Config(format!(
                                "{addr} is not {:?} (target_session_attrs)",
                                config.target_session_attrs
                            ))
                        }
                        Err(e) => last = e,
                    },
                    // A wrong password will not be right on the next host
                    // either, but libpq tries them all too.
                    Err(e) => last = e,
                }
            }
        }
        Err(last)
    }

    async fn connect_addr<B: Backend>(
        addr: SocketAddr,
        config: &Config,
    ) -> Result<Connection, Error> {
        let deadline = Instant::now() + config.connect_timeout;
        let stream = match time::timeout_at(deadline, B::connect(addr)).await {
            Ok(s) => s?,
            Err(_) => return Err(Error::Timeout),
        };
        let _ = stream.set_nodelay(true);
        let conn = Connection::handshake(stream, config)?;
        conn.shared.state.borrow_mut().cancel = Some((addr, send_cancel::<B>));
        match time::timeout_at(deadline, conn.ready()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(Error::Timeout),
        }
        let minor = conn.protocol_minor();
        if minor < config.min_protocol_minor {
            return Err(Error::Config(format!(
                "{addr} speaks protocol 3.{minor}, below min_protocol_version=3.{}",
                config.min_protocol_minor
            )));
        }
        Ok(conn)
    }

    async fn check_target(&self, want: TargetSessionAttrs) -> Result<bool, Error> {
        let (sql, good) = match want {
            TargetSessionAttrs::Any => return Ok(true),
            TargetSessionAttrs::ReadWrite => ("SHOW transaction_read_only", "off"),
            TargetSessionAttrs::ReadOnly => ("SHOW transaction_read_only", "on"),
            TargetSessionAttrs::Primary => ("SELECT pg_catalog.pg_is_in_recovery()", "f"),
            TargetSessionAttrs::Standby => ("SELECT pg_catalog.pg_is_in_recovery()", "t"),
        };
        let rows = self.simple_query(sql).await?;
        let v: Option<&str> = match rows.first() {
            Some(r) => r.get(0)?,
            None => None,
        };
        Ok(v == Some(good))
    }

    /// Starts a connection over an already connected stream: spawns the
    /// task that owns it and queues the start-up message. Requests may be
    /// sent at once (they go out after start-up); see
    /// [`ready`](Self::ready). Cancellation needs [`connect`](Self::connect).
    ///
    /// # Panics
    ///
    /// Outside of a Weft runtime.
    pub fn handshake<S: AsyncStream>(stream: S, config: &Config) -> Result<Connection, Error> {
        let proto = proto_pg::Connection::new(config.proto_config()?)?;
        let shared = Rc::new(Shared {
            state: RefCell::new(State {
                proto,
                queue: VecDeque::new(),
                ids: Vec::new(),
                begin: None,
                slots: Vec::new(),
                free: Vec::new(),
                error: None,
                ready: false,
                ready_waker: None,
                close_wakers: Vec::new(),
                task: None,
                tx_pending: true,
                read_paused: false,
                stream_limit: config.stream_buffer_rows.max(1),
                fence: None,
                copy_gate: false,
                gate_wakers: Vec::new(),
                tx_backlog: 0,
                tx_wakers: Vec::new(),
                cache: Cache::new(config.statement_cache_size),
                session: Session::default(),
                notifications: VecDeque::new(),
                notify_subscribers: 0,
                notify_wakers: Vec::new(),
                cancel: None,
                query_timeout: config.query_timeout,
            }),
            handles: Cell::new(1),
        });
        spawn(drive(stream, OnExit(shared.clone())));
        Ok(Connection { shared })
    }

    /// Waits until start-up has finished (or fails with its error: a wrong
    /// password is [`Error::Db`] with SQLSTATE `28P01`).
    pub async fn ready(&self) -> Result<(), Error> {
        poll_fn(|cx| {
            let mut st = self.shared.state.borrow_mut();
            if let Some(e) = &st.error {
                Poll::Ready(Err(e.clone()))
            } else if st.ready {
                Poll::Ready(Ok(()))
            } else {
                st.ready_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    /// Notes that `sql` may change session state (see [`touches_session`]).
    pub(crate) fn note_sql(&self, sql: &str) {
        if touches_session(sql) {
            self.shared.state.borrow_mut().session.dirty = true;
        }
    }

    /// Queues one operation made of the protocol requests `f` issues (it
    /// pushes their ids). If `f` fails after issuing some, a `Sync` closes
    /// the block and the issued requests are drained and discarded.
    ///
    /// A deferred `BEGIN` ([`defer_begin`](Self::defer_begin)) goes first,
    /// as a simple query of its own: callers that send statements (whose
    /// results they read) use [`submit_in_block`](Self::submit_in_block)
    /// or [`begin_now`](Self::begin_now) before this.
    pub(crate) fn submit(
        &self,
        stream: bool,
        f: impl FnOnce(&mut proto_pg::Connection, &mut Vec<ReqId>) -> Result<(), UsageError>,
    ) -> Result<Op, Error> {
        self.submit_with(stream, false, f)
    }

    /// [`submit`](Self::submit) for an operation of extended-query
    /// messages ending in `Sync`, whose events its caller reads: a
    /// deferred `BEGIN` is pipelined in front of it in the same sync block
    /// (`Parse`, `Bind`, `Execute`, no `Sync` of its own). If the `BEGIN`
    /// fails, the server skips the operation's messages up to its `Sync`
    /// ("Extended Query", 55.2.3), so nothing runs outside the transaction
    /// and the operation reports the `BEGIN`'s error.
    pub(crate) fn submit_in_block(
        &self,
        stream: bool,
        f: impl FnOnce(&mut proto_pg::Connection, &mut Vec<ReqId>) -> Result<(), UsageError>,
    ) -> Result<Op, Error> {
        self.submit_with(stream, true, f)
    }

    fn submit_with(
        &self,
        stream: bool,
        in_block: bool,
        f: impl FnOnce(&mut proto_pg::Connection, &mut Vec<ReqId>) -> Result<(), UsageError>,
    ) -> Result<Op, Error> {
        let mut wakers = Vec::new();
        let res = {
            let mut st = self.shared.state.borrow_mut();
            if let Some(e) = &st.error {
                return Err(e.clone());
            }
            // The ids go through a buffer kept in the state (no
            // allocation per operation).
            let mut ids = std::mem::take(&mut st.ids);
            ids.clear();
            let mut r = Ok(());
            if let Some((_, sql)) = st.begin.take() {
                r = if in_block {
                    begin_in_block(&mut st.proto, &sql, &mut ids)
                } else {
                    st.proto.simple_query(&sql).map(|id| ids.push(id))
                };
            }
            if r.is_ok() {
                r = f(&mut st.proto, &mut ids);
            }
            if r.is_err()
                && !ids.is_empty()
                && let Ok(id) = st.proto.sync()
            {
                ids.push(id);
            }
            let slot = st.alloc(stream, ids.len());
            for &id in &ids {
                st.queue.push_back((id, slot));
            }
            st.ids = ids;
            st.dispatch(&mut wakers);
            wakers.extend(st.kick());
            match r {
                Ok(()) => Ok(slot),
                Err(e) => {
                    let s = &mut st.slots[slot];
                    if s.remaining == 0 {
                        st.release(slot);
                    } else {
                        s.abandoned = true;
                        s.events.clear();
                    }
                    Err(Error::from(e))
                }
            }
        };
        for w in wakers {
            w.wake();
        }
        Ok(Op {
            conn: self.clone(),
            slot: Some(res?),
        })
    }

    /// Makes `sql` (a `BEGIN`) go out with the next statement instead of
    /// on its own, saving a round trip; `token` identifies the
    /// transaction, for [`take_begin`](Self::take_begin).
    pub(crate) fn defer_begin(&self, token: u64, sql: String) {
        self.shared.state.borrow_mut().begin = Some((token, sql));
    }

    /// Drops the deferred `BEGIN` of transaction `token` if it was never
    /// sent (the transaction ran no statement); true if it was dropped.
    pub(crate) fn take_begin(&self, token: u64) -> bool {
        let mut st = self.shared.state.borrow_mut();
        if st.begin.as_ref().is_some_and(|(t, _)| *t == token) {
            st.begin = None;
            return true;
        }
        false
    }

    /// Sends a deferred `BEGIN` on its own and waits for it: for
    /// operations that cannot carry it in their sync block (simple
    /// queries, COPY).
    pub(crate) async fn begin_now(&self) -> Result<(), Error> {
        let sql = match self.shared.state.borrow_mut().begin.take() {
            Some((_, sql)) => sql,
            None => return Ok(()),
        };
        let mut op = self.submit(false, |p, ids| {
            ids.push(p.simple_query(&sql)?);
            Ok(())
        })?;
        super::query::collect_op(&mut op).await.map(drop)
    }

    /// Waits while a COPY FROM STDIN owns the wire.
    pub(crate) async fn gate(&self) -> Result<(), Error> {
        poll_fn(|cx| {
            let mut st = self.shared.state.borrow_mut();
            if let Some(e) = &st.error {
                return Poll::Ready(Err(e.clone()));
            }
            if st.copy_gate {
                st.gate_wakers.push(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(Ok(()))
            }
        })
        .await
    }

    /// Makes `op` (a COPY FROM STDIN just submitted) hold the copy gate
    /// until it ends: other operations wait in [`gate`](Self::gate).
    pub(crate) fn hold_gate(&self, op: &Op) {
        let mut st = self.shared.state.borrow_mut();
        if let Some(i) = op.slot
            && st.slots[i].remaining > 0
        {
            st.slots[i].gate = true;
            st.copy_gate = true;
        }
    }

    /// Hands bytes of COPY data to the machine, waiting while more than
    /// 1 MiB is still unwritten.
    pub(crate) async fn copy_data(&self, data: &[u8]) -> Result<(), Error> {
        poll_fn(|cx| {
            let mut st = self.shared.state.borrow_mut();
            if let Some(e) = &st.error {
                return Poll::Ready(Err(e.clone()));
            }
            if st.tx_backlog > 1 << 20 {
                st.tx_wakers.push(cx.waker().clone());
                return Poll::Pending;
            }
            Poll::Ready(Ok(()))
        })
        .await?;
        let waker = {
            let mut st = self.shared.state.borrow_mut();
            st.proto.copy_data(data)?;
            st.tx_backlog += data.len();
            st.kick()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Runs `f` on the machine (COPY done/fail) and wakes the writer.
    pub(crate) fn with_proto(
        &self,
        f: impl FnOnce(&mut proto_pg::Connection) -> Result<(), UsageError>,
    ) -> Result<(), Error> {
        let waker = {
            let mut st = self.shared.state.borrow_mut();
            if let Some(e) = &st.error {
                return Err(e.clone());
            }
            f(&mut st.proto)?;
            st.kick()
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// A fresh name for a statement or portal. Unique in the process, not
    /// only on this connection: a [`Statement`](super::Statement) used on
    /// another connection than the one that prepared it (a pool's or
    /// client's connections are interchangeable) then meets an unknown
    /// name (SQLSTATE `26000`, prepared again) instead of another
    /// statement that happens to have the same name there.
    pub(crate) fn next_name(&self, prefix: &str) -> String {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        format!("weft_{prefix}{}", NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The key and address for cancelling this connection's queries from
    /// anywhere; `None` for a connection made with
    /// [`handshake`](Self::handshake) or before start-up finished.
    pub fn cancel_token(&self) -> Option<CancelToken> {
        let st = self.shared.state.borrow();
        let (addr, _) = st.cancel?;
        let key = st.proto.backend_key()?;
        let mut packet = BytesMut::new();
        key.encode_cancel(&mut packet);
        Some(CancelToken { addr, packet })
    }

    /// The protocol minor version in use (3.0, or 3.2 when asked for with
    /// [`Config::max_protocol_minor`] and the server has it).
    pub fn protocol_minor(&self) -> u16 {
        self.shared.state.borrow().proto.protocol_minor()
    }

    /// The server's process ID for this session (`pg_backend_pid()`).
    pub fn process_id(&self) -> Option<i32> {
        self.shared
            .state
            .borrow()
            .proto
            .backend_key()
            .map(|k| k.process_id)
    }

    /// The latest value the server reported for run-time parameter `name`
    /// (`server_version`, `TimeZone`, ...).
    pub fn parameter(&self, name: &str) -> Option<String> {
        self.shared
            .state
            .borrow()
            .proto
            .parameter(name)
            .map(str::to_owned)
    }

    /// The transaction status from the latest `ReadyForQuery`;
    /// `InTransaction` too while a transaction's deferred `BEGIN` waits
    /// for its first statement.
    pub fn transaction_status(&self) -> TransactionStatus {
        let st = self.shared.state.borrow();
        match st.proto.transaction_status() {
            TransactionStatus::Idle if st.begin.is_some() => TransactionStatus::InTransaction,
            s => s,
        }
    }

    /// The error that closed the connection, if it is closed.
    pub fn error(&self) -> Option<Error> {
        self.shared.state.borrow().error.clone()
    }

    /// True once the connection has failed or was closed.
    pub fn is_closed(&self) -> bool {
        self.shared.state.borrow().error.is_some()
    }

    /// Protocol requests sent and not yet answered (abandoned ones
    /// included).
    pub fn pending(&self) -> usize {
        self.shared.state.borrow().queue.len()
    }

    /// True when a command changed session state another user of a pooled
    /// connection must not inherit (`SET`, `PREPARE`, `LISTEN`, a reported
    /// parameter differing from its start-up value, ...).
    pub fn session_changed(&self) -> bool {
        self.shared.state.borrow().session.is_changed()
    }

    /// Completes when the connection has failed or closed, with the reason.
    pub async fn closed(&self) -> Error {
        poll_fn(|cx| {
            let mut st = self.shared.state.borrow_mut();
            match &st.error {
                Some(e) => Poll::Ready(e.clone()),
                None => {
                    if !st.close_wakers.iter().any(|w| w.will_wake(cx.waker())) {
                        st.close_wakers.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Closes the connection now: pending requests fail with
    /// [`Error::Closed`].
    pub fn close(&self) {
        self.shared.fail(Error::Closed);
    }

    pub(crate) fn subscribe_notifications(&self, delta: isize) {
        let mut st = self.shared.state.borrow_mut();
        st.notify_subscribers = st.notify_subscribers.saturating_add_signed(delta);
        if st.notify_subscribers == 0 {
            st.notifications.clear();
        }
    }

    pub(crate) fn poll_notification(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Notification, Error>> {
        let mut st = self.shared.state.borrow_mut();
        if let Some(n) = st.notifications.pop_front() {
            return Poll::Ready(Ok(n));
        }
        if let Some(e) = &st.error {
            return Poll::Ready(Err(e.clone()));
        }
        st.notify_wakers.push(cx.waker().clone());
        Poll::Pending
    }
}

/// One operation's response events; dropping it before it finished
/// abandons it (see the module docs).
pub(crate) struct Op {
    conn: Connection,
    slot: Option<usize>,
}

impl Op {
    /// The next event of this operation, `None` once all its requests
    /// finished.
    pub(crate) fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Event, Error>>> {
        let Some(i) = self.slot else {
            return Poll::Ready(None);
        };
        let shared = &self.conn.shared;
        let mut st = shared.state.borrow_mut();
        let s = &mut st.slots[i];
        if let Some(e) = s.failed.take() {
            drop(st);
            self.finish();
            return Poll::Ready(Some(Err(e)));
        }
        if let Some(ev) = s.events.pop_front() {
            if matches!(ev, Event::Row { .. } | Event::CopyData { .. }) {
                s.rows -= 1;
                if st.read_paused && !st.paused() {
                    st.read_paused = false;
                    if let Some(w) = st.task.clone() {
                        drop(st);
                        w.wake();
                    }
                }
            }
            return Poll::Ready(Some(Ok(ev)));
        }
        if s.remaining == 0 {
            drop(st);
            self.finish();
            return Poll::Ready(None);
        }
        if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    pub(crate) async fn next(&mut self) -> Option<Result<Event, Error>> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Moves every event received so far into `out` (drained by the
    /// caller before each call): `Ok(true)` when some were moved,
    /// `Ok(false)` once all requests finished. One state borrow per batch
    /// instead of one per event, for results read whole (no backpressure
    /// applies: the caller keeps every row anyway).
    pub(crate) fn poll_batch(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut VecDeque<Event>,
    ) -> Poll<Result<bool, Error>> {
        debug_assert!(out.is_empty());
        let Some(i) = self.slot else {
            return Poll::Ready(Ok(false));
        };
        let mut st = self.conn.shared.state.borrow_mut();
        let s = &mut st.slots[i];
        if let Some(e) = s.failed.take() {
            drop(st);
            self.finish();
            return Poll::Ready(Err(e));
        }
        if !s.events.is_empty() {
            // The slot keeps `out`'s (empty) allocation for what follows.
            std::mem::swap(&mut s.events, out);
            s.rows = 0;
            if st.read_paused && !st.paused() {
                st.read_paused = false;
                if let Some(w) = st.task.clone() {
                    drop(st);
                    w.wake();
                }
            }
            return Poll::Ready(Ok(true));
        }
        if s.remaining == 0 {
            // Leave the larger (empty) queue with the slot for its next
            // user.
            if out.capacity() > s.events.capacity() {
                std::mem::swap(&mut s.events, out);
            }
            drop(st);
            self.finish();
            return Poll::Ready(Ok(false));
        }
        if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.waker = Some(cx.waker().clone());
        }
        Poll::Pending
    }

    fn finish(&mut self) {
        if let Some(i) = self.slot.take() {
            self.conn.shared.state.borrow_mut().release(i);
        }
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

impl Op {
    /// Abandons the operation without cancelling it: its responses are
    /// drained and discarded (fire-and-forget commands).
    pub(crate) fn detach(mut self) {
        self.abandon(false);
    }

    fn abandon(&mut self, may_cancel: bool) {
        let Some(i) = self.slot.take() else { return };
        let shared = &self.conn.shared;
        let cancel = {
            let mut st = shared.state.borrow_mut();
            let s = &mut st.slots[i];
            if s.remaining == 0 {
                st.release(i);
                return;
            }
            s.abandoned = true;
            s.events.clear();
            s.rows = 0;
            s.waker = None;
            // Cancel only when this operation is alone in flight, so the
            // cancel cannot hit a later request (module docs), and only
            // once its messages have gone out (the fence holds back
            // unsent bytes).
            let alone = may_cancel && !st.tx_pending && st.queue.iter().all(|&(_, j)| j == i);
            let packet = st.proto.backend_key().map(|key| {
                let mut packet = BytesMut::new();
                key.encode_cancel(&mut packet);
                packet
            });
            match (alone, st.fence.is_none(), st.cancel, packet) {
                (true, true, Some((addr, f)), Some(packet)) if st.error.is_none() => {
                    st.fence = Some(Fence {
                        slot: i,
                        op_done: false,
                        cancel_done: false,
                    });
                    Some(f(addr, packet))
                }
                _ => None,
            }
        };
        // Reading may have paused for this stream: resume.
        let task = shared.state.borrow().task.clone();
        if let Some(w) = task {
            w.wake();
        }
        if let Some(fut) = cancel {
            let shared = shared.clone();
            spawn(async move {
                if let Err(e) = fut.await {
                    tracing::debug!("postgres cancel request failed: {e}");
                }
                let mut wakers = Vec::new();
                let mut st = shared.state.borrow_mut();
                if let Some(f) = &mut st.fence {
                    f.cancel_done = true;
                }
                st.lift_fence(&mut wakers);
                drop(st);
                for w in wakers {
                    w.wake();
                }
            });
        }
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        self.abandon(true);
    }
}

#[cfg(test)]
mod tests {
    use super::touches_session;

    #[test]
    fn session_heuristic() {
        assert!(touches_session("CREATE TEMP TABLE t (x int)"));
        assert!(touches_session("create temporary table t (x int)"));
        assert!(touches_session(
            "SELECT set_config('work_mem', '1MB', false)"
        ));
        assert!(touches_session("SELECT pg_advisory_lock(1)"));
        assert!(!touches_session("SELECT 1"));
        assert!(!touches_session("CREATE TABLE t (x int)"));
    }
}
