//! One multiplexed connection: a cheap handle ([`Connection`]) shared by any
//! number of callers on one worker, and the task that owns the socket.
//!
//! # How requests and replies meet
//!
//! The handle and the task share one state (`Rc<Shared>`): the Sans-IO
//! [`proto_resp::Connection`], a FIFO of pending requests and a slab of
//! reply slots. Sending a command encodes it into the machine's transmit
//! buffer at once (so commands go out in call order) and wakes the task if
//! it was idle; everything callers queued during one executor round leaves
//! in one `write`, which is how concurrent callers get pipelined. The task
//! reads, feeds the machine, and completes slots in FIFO order, checking
//! that the machine's request id matches the head of the queue: a reply is
//! never handed to the wrong request; a mismatch fails the connection.
//!
//! # Cancellation
//!
//! A caller that stops waiting (its future dropped, its timeout fired)
//! leaves its slot *abandoned*: the reply is read and discarded when it
//! comes, and later requests still get their own replies. The exception is
//! a blocking command (`BLPOP`, `XREAD ... BLOCK`, `WAIT`, ...): the server
//! would hold every later request behind it, possibly forever, so
//! abandoning one closes the connection (other waiters get
//! [`Error::Closed`]); a pool then replaces it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::BytesMut;
use proto_resp::{Cmd, Event, Frame, Protocol};

use super::config::Config;
use super::error::Error;
use super::from_resp::{FromResp, check};
use crate::rt::{AsyncStream, Backend, spawn, time};

/// Called with every out-of-band push (RESP3 `>` frames: pub/sub messages,
/// client-side caching invalidations).
pub type PushHandler = Box<dyn FnMut(Frame)>;

enum Slot {
    Free,
    /// One command waiting for its reply.
    Waiting {
        waker: Option<Waker>,
        blocking: bool,
    },
    /// A batch ([`Connection::send_batch`]) gathering its replies in order:
    /// one slot, one waker and one `Vec` for the whole batch, sized when
    /// it is sent.
    Gathering {
        waker: Option<Waker>,
        blocking: bool,
        frames: Vec<Frame>,
    },
    Done(Result<Frame, Error>),
    BatchDone(Result<Vec<Frame>, Error>),
    Abandoned,
}

/// Requests on the wire, in order: a command or a batch of them, the id of
/// the next reply it expects (the machine numbers requests consecutively,
/// so a batch's ids follow each other) and how many replies it is owed.
struct Owed {
    next: u64,
    left: usize,
    slot: usize,
}

#[derive(Default, Clone, Copy)]
struct Session {
    /// Connection state changed in a way a pool must not hand on (SELECT,
    /// AUTH, HELLO, CLIENT TRACKING/REPLY, READONLY, subscriptions, ...).
    dirty: bool,
    /// `WATCH` without a following `EXEC`/`DISCARD`/`UNWATCH`.
    watching: bool,
    /// A raw `MULTI` without its `EXEC`/`DISCARD`.
    in_multi: bool,
}

struct State {
    proto: proto_resp::Connection,
    /// Requests in wire order and the slot their answers go to.
    queue: VecDeque<Owed>,
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Sticky: once set nothing more is sent and every slot is failed.
    error: Option<Error>,
    ready: bool,
    ready_waker: Option<Waker>,
    /// Woken when the connection fails or closes.
    close_wakers: Vec<Waker>,
    task: Option<Waker>,
    /// Bytes are waiting in the machine and the task has been woken.
    tx_pending: bool,
    push: Option<PushHandler>,
    session: Session,
}

pub(crate) struct Shared {
    state: RefCell<State>,
    handles: Cell<usize>,
}

/// A connection to Redis, shared by every caller that holds a clone.
///
/// Cloning is cheap (a reference count). Calls from many tasks of one
/// worker are pipelined on the one socket. The socket belongs to a task on
/// the worker that connected; the handle is not `Send`. When the last clone
/// (and the last pending reply future) is dropped, the socket is closed.
///
/// Typed commands come from the [`Commands`](super::Commands) trait.
pub struct Connection {
    shared: Rc<Shared>,
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
            .field("protocol", &st.proto.protocol())
            .field("pending", &st.owed())
            .field("error", &st.error)
            .finish_non_exhaustive()
    }
}

/// Every command name [`is_blocking`] or [`track_session`] acts on.
const NOTABLE: [&[u8]; 28] = [
    b"BLPOP",
    b"BRPOP",
    b"BLMOVE",
    b"BRPOPLPUSH",
    b"BLMPOP",
    b"BZPOPMIN",
    b"BZPOPMAX",
    b"BZMPOP",
    b"WAIT",
    b"WAITAOF",
    b"XREAD",
    b"XREADGROUP",
    b"WATCH",
    b"UNWATCH",
    b"MULTI",
    b"EXEC",
    b"DISCARD",
    b"CLIENT",
    b"SELECT",
    b"AUTH",
    b"HELLO",
    b"RESET",
    b"READONLY",
    b"READWRITE",
    b"SUBSCRIBE",
    b"PSUBSCRIBE",
    b"SSUBSCRIBE",
    b"SWAPDB",
];

/// For each first letter, one bit per name length (below 16) that a name
/// of [`NOTABLE`] has: most commands (`GET`, `SET`, `HGET`, `INCR`, ...)
/// are ruled out by one table lookup instead of a dozen comparisons.
const NOTABLE_SHAPES: [u16; 26] = {
    let mut t = [0u16; 26];
    let mut i = 0;
    while i < NOTABLE.len() {
        let name = NOTABLE[i];
        assert!(name.len() < 16 && name[0].is_ascii_uppercase());
        t[(name[0] - b'A') as usize] |= 1 << name.len();
        i += 1;
    }
    t
};

/// False when `name` is certainly none of [`NOTABLE`] (any case).
#[inline]
fn may_be_notable(name: &[u8]) -> bool {
    let Some(&first) = name.first() else {
        return false;
    };
    let letter = first.to_ascii_uppercase().wrapping_sub(b'A');
    name.len() < 16 && letter < 26 && NOTABLE_SHAPES[letter as usize] & (1 << name.len()) != 0
}

/// Whether `cmd`'s name may be one [`is_blocking`] or [`track_notable`]
/// acts on: when false, neither needs to look at it.
#[inline]
fn is_notable(cmd: &Cmd) -> bool {
    cmd.name().is_some_and(may_be_notable)
}

/// Is this command one the server may hold indefinitely?
pub(crate) fn is_blocking(cmd: &Cmd) -> bool {
    is_notable(cmd) && blocks(cmd)
}

/// [`is_blocking`] for a command known to be [notable](is_notable).
fn blocks(cmd: &Cmd) -> bool {
    let mut args = cmd.args();
    let Some(name) = args.next() else {
        return false;
    };
    const BLOCKING: [&[u8]; 11] = [
        b"BLPOP",
        b"BRPOP",
        b"BLMOVE",
        b"BRPOPLPUSH",
        b"BLMPOP",
        b"BZPOPMIN",
        b"BZPOPMAX",
        b"BZMPOP",
        b"WAIT",
        b"WAITAOF",
        b"XREADGROUP",
    ];
    if name.eq_ignore_ascii_case(b"XREAD") || name.eq_ignore_ascii_case(b"XREADGROUP") {
        return args.any(|a| a.eq_ignore_ascii_case(b"BLOCK"));
    }
    BLOCKING.iter().any(|b| name.eq_ignore_ascii_case(b))
}

/// Tracks connection-level state changes made through plain commands.
#[cfg(test)]
fn track_session(s: &mut Session, cmd: &Cmd) {
    if is_notable(cmd) {
        track_notable(s, cmd);
    }
}

/// [`track_session`] for a command known to be [notable](is_notable).
fn track_notable(s: &mut Session, cmd: &Cmd) {
    let mut args = cmd.args();
    let Some(name) = args.next() else { return };
    let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
    if is(b"WATCH") {
        s.watching = true;
    } else if is(b"UNWATCH") {
        s.watching = false;
    } else if is(b"MULTI") {
        s.in_multi = true;
    } else if is(b"EXEC") || is(b"DISCARD") {
        s.in_multi = false;
        s.watching = false;
    } else if is(b"CLIENT") {
        let sub = args.next().unwrap_or_default();
        if sub.eq_ignore_ascii_case(b"TRACKING") || sub.eq_ignore_ascii_case(b"REPLY") {
            s.dirty = true;
        }
    } else if [
        &b"SELECT"[..],
        b"AUTH",
        b"HELLO",
        b"RESET",
        b"READONLY",
        b"READWRITE",
        b"SUBSCRIBE",
        b"PSUBSCRIBE",
        b"SSUBSCRIBE",
        b"SWAPDB",
    ]
    .iter()
    .any(|n| is(n))
    {
        s.dirty = true;
    }
}

/// Whether `cmd` leaves state on its connection that a later user of the
/// connection would inherit: `WATCH`, a raw `MULTI`, `SELECT`, `AUTH`,
/// `HELLO`, `RESET`, `CLIENT TRACKING|REPLY`, `READONLY`/`READWRITE`, the
/// subscribe family (what [`Connection::is_reusable`] tracks, `SWAPDB`
/// aside: it swaps databases for every connection alike, and leaves none
/// of its own).
pub(crate) fn leaves_session_state(cmd: &Cmd) -> bool {
    if !is_notable(cmd)
        || cmd
            .name()
            .is_some_and(|n| n.eq_ignore_ascii_case(b"SWAPDB"))
    {
        return false;
    }
    let mut s = Session::default();
    track_notable(&mut s, cmd);
    s.dirty || s.watching || s.in_multi
}

impl State {
    fn alloc(&mut self, slot: Slot) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        }
    }

    fn release(&mut self, i: usize) {
        self.slots[i] = Slot::Free;
        self.free.push(i);
    }

    /// Replies owed (abandoned requests included).
    fn owed(&self) -> usize {
        self.queue.iter().map(|o| o.left).sum()
    }

    /// Queues one command; the caller wakes the task.
    fn enqueue(&mut self, cmd: &Cmd, track: bool) -> Result<usize, Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let id = self.proto.send(cmd)?;
        let notable = is_notable(cmd);
        let slot = self.alloc(Slot::Waiting {
            waker: None,
            blocking: notable && blocks(cmd),
        });
        self.queue.push_back(Owed {
            next: id.get(),
            left: 1,
            slot,
        });
        if track && notable {
            track_notable(&mut self.session, cmd);
        }
        Ok(slot)
    }

    /// Queues `cmds` back to back under one slot; the caller wakes the
    /// task. `Ok(None)` for no commands. If a command is refused, those
    /// before it are already queued: their replies are drained and
    /// dropped (a blocking one among them poisons the connection, see
    /// [`abandon`]), and the refusal is returned.
    fn enqueue_batch<'a>(
        &mut self,
        cmds: impl IntoIterator<Item = &'a Cmd>,
    ) -> Result<Option<usize>, (Error, bool)> {
        if let Some(e) = &self.error {
            return Err((e.clone(), false));
        }
        let cmds = cmds.into_iter();
        let mut frames = Vec::with_capacity(cmds.size_hint().0);
        let mut blocking = false;
        let session = &mut self.session;
        // One pass: each command written, the ordinary ones recorded by
        // the machine as one run; one look at each name for both checks.
        let sent = self.proto.send_each(cmds, |cmd| {
            if is_notable(cmd) {
                blocking |= blocks(cmd);
                track_notable(session, cmd);
            }
        });
        let (first, n, refused) = match sent {
            Ok((first, n)) => (first.get(), n, None),
            Err((first, n, e)) => (first.get(), n, Some(Error::from(e))),
        };
        if n == 0 {
            return match refused {
                Some(e) => Err((e, false)),
                None => Ok(None),
            };
        }
        let slot = match refused {
            Some(_) => Slot::Abandoned,
            None => {
                // No-op when the size hint was exact.
                frames.reserve_exact(n);
                Slot::Gathering {
                    waker: None,
                    blocking,
                    frames,
                }
            }
        };
        let slot = self.alloc(slot);
        self.queue.push_back(Owed {
            next: first,
            left: n,
            slot,
        });
        match refused {
            Some(e) => Err((e, blocking)),
            None => Ok(Some(slot)),
        }
    }

    /// The task's waker if it must be woken to transmit.
    fn kick(&mut self) -> Option<Waker> {
        if self.tx_pending {
            return None;
        }
        self.tx_pending = true;
        self.task.clone()
    }

    /// Fails the connection: every waiting slot gets `e`, nothing more is
    /// sent. Returns the wakers to wake.
    fn fail(&mut self, e: Error, wakers: &mut Vec<Waker>) {
        if self.error.is_none() {
            self.error = Some(e.clone());
        }
        for owed in std::mem::take(&mut self.queue) {
            let i = owed.slot;
            match &mut self.slots[i] {
                Slot::Waiting { waker, .. } => {
                    wakers.extend(waker.take());
                    self.slots[i] = Slot::Done(Err(e.clone()));
                }
                Slot::Gathering { waker, .. } => {
                    wakers.extend(waker.take());
                    self.slots[i] = Slot::BatchDone(Err(e.clone()));
                }
                _ => self.release(i),
            }
        }
        wakers.extend(self.ready_waker.take());
        wakers.append(&mut self.close_wakers);
        wakers.extend(self.task.take());
    }

    /// Hands `frame` to slot `i`; `last` when it is the last reply the slot
    /// is owed.
    fn deliver(&mut self, i: usize, last: bool, frame: Frame, wakers: &mut Vec<Waker>) {
        match &mut self.slots[i] {
            Slot::Gathering { frames, .. } => {
                frames.push(frame);
                if last {
                    let Slot::Gathering { waker, frames, .. } =
                        std::mem::replace(&mut self.slots[i], Slot::Free)
                    else {
                        unreachable!("matched Gathering above")
                    };
                    self.slots[i] = Slot::BatchDone(Ok(frames));
                    wakers.extend(waker);
                }
            }
            Slot::Waiting { waker, .. } => {
                wakers.extend(waker.take());
                self.slots[i] = Slot::Done(Ok(frame));
            }
            // Abandoned: drained and dropped.
            _ => {
                if last {
                    self.release(i);
                }
            }
        }
    }

    /// Routes the machine's queued events; pushes are collected for the
    /// handler.
    fn dispatch(&mut self, wakers: &mut Vec<Waker>, pushes: &mut Vec<Frame>) {
        while let Some(ev) = self.proto.poll_event() {
            if !self.route(ev, wakers, pushes) {
                return;
            }
        }
    }

    /// Feeds `buf` to the machine and routes each event as it is decoded
    /// (a deep pipeline's replies are handed on while still in cache).
    fn dispatch_input(
        &mut self,
        buf: &mut BytesMut,
        wakers: &mut Vec<Waker>,
        pushes: &mut Vec<Frame>,
    ) -> Result<(), proto_resp::Error> {
        let now = Instant::now();
        loop {
            if self.gather(now, buf, wakers)? {
                if self.error.is_some() {
                    return Ok(());
                }
                continue;
            }
            let Some(ev) = self.proto.next_event(now, buf)? else {
                return Ok(());
            };
            if !self.route(ev, wakers, pushes) {
                return Ok(());
            }
        }
    }

    /// When the head request is a batch still owed several replies, moves
    /// the plain ones at the front of `buf` straight into its `Vec`
    /// (proto-resp's `next_replies`: no event per reply). True if it took
    /// any (or failed the connection on a mismatch).
    fn gather(
        &mut self,
        now: Instant,
        buf: &mut BytesMut,
        wakers: &mut Vec<Waker>,
    ) -> Result<bool, proto_resp::Error> {
        let Some(front) = self.queue.front_mut().filter(|o| o.left > 1) else {
            return Ok(false);
        };
        let Slot::Gathering { frames, .. } = &mut self.slots[front.slot] else {
            return Ok(false);
        };
        let Some((first, n)) = self.proto.next_replies(now, buf, front.left, frames)? else {
            return Ok(false);
        };
        if first.get() != front.next || n > front.left {
            // Cannot happen with a correct machine; never guess.
            self.fail(Error::Protocol(proto_resp::Error::UnexpectedReply), wakers);
            return Ok(true);
        }
        front.next += n as u64;
        front.left -= n;
        if front.left == 0 {
            let i = front.slot;
            self.queue.pop_front();
            let Slot::Gathering { waker, frames, .. } =
                std::mem::replace(&mut self.slots[i], Slot::Free)
            else {
                unreachable!("matched Gathering above")
            };
            self.slots[i] = Slot::BatchDone(Ok(frames));
            wakers.extend(waker);
        }
        Ok(true)
    }

    /// Routes one event; false once the connection has failed.
    fn route(&mut self, ev: Event, wakers: &mut Vec<Waker>, pushes: &mut Vec<Frame>) -> bool {
        match ev {
            Event::Ready { .. } => {
                self.ready = true;
                wakers.extend(self.ready_waker.take());
            }
            Event::Reply { id, frame } => {
                let Some(front) = self.queue.front_mut().filter(|o| o.next == id.get()) else {
                    // Cannot happen with a correct machine; never guess.
                    self.fail(Error::Protocol(proto_resp::Error::UnexpectedReply), wakers);
                    return false;
                };
                front.next += 1;
                front.left -= 1;
                let (i, last) = (front.slot, front.left == 0);
                if last {
                    self.queue.pop_front();
                }
                self.deliver(i, last, frame, wakers);
            }
            Event::Push { frame } => pushes.push(frame),
            _ => {}
        }
        true
    }
}

impl Shared {
    fn new(proto: proto_resp::Connection) -> Rc<Shared> {
        Rc::new(Shared {
            state: RefCell::new(State {
                proto,
                queue: VecDeque::new(),
                slots: Vec::new(),
                free: Vec::new(),
                error: None,
                ready: false,
                ready_waker: None,
                close_wakers: Vec::new(),
                task: None,
                tx_pending: true,
                push: None,
                session: Session::default(),
            }),
            handles: Cell::new(0),
        })
    }

    fn fail(&self, e: Error) {
        let mut wakers = Vec::new();
        self.state.borrow_mut().fail(e, &mut wakers);
        for w in wakers {
            w.wake();
        }
    }

    fn deliver_pushes(&self, pushes: &mut Vec<Frame>) {
        if pushes.is_empty() {
            return;
        }
        // The handler may use the connection: call it outside the borrow.
        let handler = self.state.borrow_mut().push.take();
        match handler {
            Some(mut h) => {
                for f in pushes.drain(..) {
                    h(f);
                }
                let mut st = self.state.borrow_mut();
                if st.push.is_none() {
                    st.push = Some(h);
                }
            }
            None => pushes.clear(),
        }
    }
}

/// Fails the connection when its task ends (or the runtime drops it):
/// nothing will be read any more, so whoever still waits must hear so.
struct OnExit(Rc<Shared>);

impl Drop for OnExit {
    fn drop(&mut self) {
        self.0.fail(Error::Closed);
    }
}

/// A read starts with at least this much room, so that what the server
/// wrote at once (up to 14 KB for a 1000-deep GET/SET pipeline of 16-byte
/// values) comes in one `recv` rather than as a sliver left at the end of
/// the buffer and then the rest.
const READ_MIN_SPARE: usize = 8 * 1024;
/// What a read buffer with less room than [`READ_MIN_SPARE`] reserves.
const READ_RESERVE: usize = 32 * 1024;

/// Owns the socket: writes what the machine has to send, reads and
/// dispatches replies, until the connection fails or every handle is gone.
///
/// `exit` is made before the task is spawned so that it fails the
/// connection even if the runtime ends before the task ever ran.
async fn drive<S: AsyncStream>(stream: S, exit: OnExit) {
    let shared = exit.0.clone();
    let mut rbuf = Some(BytesMut::with_capacity(16 * 1024));
    let mut wbuf = Some(BytesMut::with_capacity(16 * 1024));
    let mut reading = pin!(None);
    let mut writing = pin!(None);
    let mut wakers: Vec<Waker> = Vec::new();
    let mut pushes: Vec<Frame> = Vec::new();
    // The read is polled on every wake, a caller's included. a7a1bca made
    // a wake for another reason skip a read known to be waiting (one
    // `recv` saying EWOULDBLOCK less per round trip), but measured on epoll
    // that made sequential GET/SET slower: 4.2 us of client CPU per command
    // instead of 3.8, 0.99x redis-rs instead of 1.06x; pipelines and
    // concurrency unchanged. Likely the task then reaches `epoll_wait`
    // before the reply and sleeps and wakes once more per round trip.
    poll_fn(|cx| {
        loop {
            let mut progress = false;
            {
                let mut st = shared.state.borrow_mut();
                if st.error.is_some() || shared.handles.get() == 0 {
                    return Poll::Ready(());
                }
                if !st.task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    st.task = Some(cx.waker().clone());
                }
                // Collect everything queued since the last write.
                if writing.is_none() {
                    let mut buf = wbuf.take().expect("write buffer is home");
                    st.tx_pending = false;
                    if st.proto.poll_transmit(&mut buf) {
                        drop(st);
                        writing.set(Some(stream.write_all(buf)));
                    } else {
                        wbuf = Some(buf);
                    }
                }
            }
            if let Some(w) = writing.as_mut().as_pin_mut() {
                if let Poll::Ready((res, mut buf)) = w.poll(cx) {
                    writing.set(None);
                    buf.clear();
                    wbuf = Some(buf);
                    if let Err(e) = res {
                        shared.fail(Error::io(e));
                        return Poll::Ready(());
                    }
                    progress = true;
                }
            }
            if reading.is_none() {
                let mut buf = rbuf.take().expect("read buffer is home");
                if buf.capacity() - buf.len() < READ_MIN_SPARE {
                    // Reuses the allocation once the frames split off it
                    // are dropped, else allocates a new one.
                    buf.reserve(READ_RESERVE);
                }
                reading.set(Some(stream.read(buf)));
            }
            let r = reading.as_mut().as_pin_mut().expect("set above");
            if let Poll::Ready((res, buf)) = r.poll(cx) {
                reading.set(None);
                let buf = rbuf.insert(buf);
                match res {
                    Ok(0) => {
                        let res = shared.state.borrow_mut().proto.handle_eof();
                        shared.fail(match res {
                            Ok(()) => Error::Closed,
                            Err(e) => eof_error(e),
                        });
                        return Poll::Ready(());
                    }
                    Ok(_) => {
                        let mut st = shared.state.borrow_mut();
                        let res = st.dispatch_input(buf, &mut wakers, &mut pushes);
                        if let Err(e) = res {
                            st.fail(Error::Protocol(e), &mut wakers);
                        }
                        drop(st);
                        for w in wakers.drain(..) {
                            w.wake();
                        }
                        shared.deliver_pushes(&mut pushes);
                        progress = true;
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

fn eof_error(e: proto_resp::Error) -> Error {
    match e {
        proto_resp::Error::UnexpectedEof { pending } => Error::io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("server closed the connection with {pending} replies outstanding"),
        )),
        e => Error::Protocol(e),
    }
}

impl Connection {
    /// Connects to the server named by `config` with backend `B`, performs
    /// the handshake (`HELLO 3`/RESP2 fallback, `AUTH`, `SELECT`) and
    /// returns once the server accepted it, all within
    /// [`Config::connect_timeout`].
    ///
    /// # Panics
    ///
    /// Outside of a Weft runtime.
    pub async fn connect<B: Backend>(config: &Config) -> Result<Connection, Error> {
        let addr = config.socket_addr()?;
        let deadline = Instant::now() + config.connect_timeout;
        let stream = match time::timeout_at(deadline, B::connect(addr)).await {
            Ok(s) => s?,
            Err(_) => return Err(Error::Timeout),
        };
        let _ = stream.set_nodelay(true);
        let conn = Connection::handshake(stream, config);
        match time::timeout_at(deadline, conn.ready()).await {
            Ok(Ok(())) => Ok(conn),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// Starts a connection over an already connected stream: spawns the
    /// task that owns it and queues the handshake. Commands may be sent at
    /// once (they go out after the handshake); see [`ready`](Self::ready).
    ///
    /// # Panics
    ///
    /// Outside of a Weft runtime.
    pub fn handshake<S: AsyncStream>(stream: S, config: &Config) -> Connection {
        let proto = proto_resp::Connection::new(config.proto_config(), Instant::now());
        let shared = Shared::new(proto);
        let conn = Connection {
            shared: shared.clone(),
        };
        shared.handles.set(1);
        {
            // A RESP2 connection with nothing to set up is ready at once.
            let mut wakers = Vec::new();
            let mut pushes = Vec::new();
            shared.state.borrow_mut().dispatch(&mut wakers, &mut pushes);
        }
        spawn(drive(stream, OnExit(shared)));
        conn
    }

    /// Waits until the handshake has succeeded (or fails with its error).
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

    /// Sends `cmd` and returns a future for its reply, decoded as `T`.
    /// The command is queued for the socket before this returns.
    pub fn query<T: FromResp>(&self, cmd: &Cmd) -> CmdFuture<T> {
        CmdFuture {
            reply: self.send(cmd, true),
            _t: PhantomData,
        }
    }

    /// Sends `cmd` and returns a future for its raw reply (error replies
    /// included, as frames).
    pub fn send_raw(&self, cmd: &Cmd) -> Result<ReplyFuture, Error> {
        self.send(cmd, true)
    }

    pub(crate) fn send(&self, cmd: &Cmd, track: bool) -> Result<ReplyFuture, Error> {
        self.clone().send_owned(cmd, track)
    }

    /// [`query`](Self::query) on a handle the caller gives up: the future
    /// keeps it (no clone).
    pub(crate) fn into_query<T: FromResp>(self, cmd: &Cmd) -> CmdFuture<T> {
        CmdFuture {
            reply: self.send_owned(cmd, true),
            _t: PhantomData,
        }
    }

    /// Queues `cmd`; the reply future holds this handle.
    fn send_owned(self, cmd: &Cmd, track: bool) -> Result<ReplyFuture, Error> {
        let (slot, waker) = {
            let mut st = self.shared.state.borrow_mut();
            let slot = st.enqueue(cmd, track)?;
            (slot, st.kick())
        };
        if let Some(w) = waker {
            w.wake();
        }
        Ok(ReplyFuture {
            conn: self,
            slot: Some(slot),
        })
    }

    /// Sends `cmds` back to back (nothing else can come between them on the
    /// wire) and returns a future for all their replies, in order.
    pub fn send_batch<'a>(&self, cmds: impl IntoIterator<Item = &'a Cmd>) -> BatchFuture {
        let (res, waker) = {
            let mut st = self.shared.state.borrow_mut();
            let res = st.enqueue_batch(cmds);
            (res, st.kick())
        };
        if let Some(w) = waker {
            w.wake();
        }
        let mut fut = BatchFuture {
            conn: self.clone(),
            slot: None,
            error: None,
        };
        match res {
            Ok(slot) => fut.slot = slot,
            Err((e, poison)) => {
                // A command of the batch was refused: the others were
                // queued and are drained; report why.
                if poison {
                    self.shared.fail(Error::Closed);
                }
                fut.error = Some(e);
            }
        }
        fut
    }

    /// The protocol the handshake settled on.
    pub fn protocol(&self) -> Protocol {
        self.shared.state.borrow().proto.protocol()
    }

    /// The server's `HELLO` reply (RESP3 only).
    pub fn hello(&self) -> Option<Frame> {
        self.shared.state.borrow().proto.hello().cloned()
    }

    /// The error that closed the connection, if it is closed.
    pub fn error(&self) -> Option<Error> {
        self.shared.state.borrow().error.clone()
    }

    /// True once the connection has failed or was closed.
    pub fn is_closed(&self) -> bool {
        self.shared.state.borrow().error.is_some()
    }

    /// True if a pool may hand this connection to another user: open, and
    /// no session state left behind (`WATCH`, `MULTI`, `SELECT`,
    /// subscriptions, tracking, ...).
    pub fn is_reusable(&self) -> bool {
        let st = self.shared.state.borrow();
        let s = st.session;
        st.error.is_none() && !s.dirty && !s.watching && !s.in_multi
    }

    /// Requests sent and not yet answered (abandoned ones included).
    pub fn pending(&self) -> usize {
        self.shared.state.borrow().owed()
    }

    /// Sets the handler for out-of-band pushes (RESP3 pub/sub messages,
    /// client-side caching invalidations). It runs on this worker, inside
    /// the connection's task; it may send commands.
    pub fn set_push_handler(&self, handler: impl FnMut(Frame) + 'static) {
        let old = self
            .shared
            .state
            .borrow_mut()
            .push
            .replace(Box::new(handler));
        drop(old); // outside the borrow: it may hold a handle
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
}

/// The raw reply to one request. Dropping it before the reply arrives
/// abandons the request (see the module docs on cancellation).
pub struct ReplyFuture {
    conn: Connection,
    slot: Option<usize>,
}

impl fmt::Debug for ReplyFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyFuture")
            .field("slot", &self.slot)
            .finish()
    }
}

impl Future for ReplyFuture {
    type Output = Result<Frame, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(i) = self.slot else {
            return Poll::Ready(Err(Error::Closed));
        };
        let mut st = self.conn.shared.state.borrow_mut();
        match &mut st.slots[i] {
            Slot::Waiting { waker, .. } => {
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Slot::Done(_) => {
                let Slot::Done(res) = std::mem::replace(&mut st.slots[i], Slot::Free) else {
                    unreachable!("matched Done above")
                };
                st.free.push(i);
                drop(st);
                self.slot = None;
                Poll::Ready(res)
            }
            _ => {
                drop(st);
                self.slot = None;
                Poll::Ready(Err(Error::Closed))
            }
        }
    }
}

impl Drop for ReplyFuture {
    fn drop(&mut self) {
        if let Some(i) = self.slot.take() {
            abandon(&self.conn.shared, &[i]);
        }
    }
}

/// Abandons slots whose futures are gone: finished ones are freed, waiting
/// ones are drained later, and a waiting blocking command closes the
/// connection.
fn abandon(shared: &Shared, slots: &[usize]) {
    let mut poison = false;
    {
        let mut st = shared.state.borrow_mut();
        for &i in slots {
            match &st.slots[i] {
                Slot::Waiting { blocking, .. } | Slot::Gathering { blocking, .. } => {
                    poison |= *blocking;
                    st.slots[i] = Slot::Abandoned;
                }
                Slot::Done(_) | Slot::BatchDone(_) => st.release(i),
                Slot::Free | Slot::Abandoned => {}
            }
        }
    }
    if poison {
        shared.fail(Error::Closed);
    }
}

/// The replies to a batch of commands ([`Connection::send_batch`]), in
/// order, each a frame or its error. Only a failure of the connection
/// itself fails the whole batch.
pub struct BatchFuture {
    conn: Connection,
    /// The batch's slot; `None` for an empty batch or once finished.
    slot: Option<usize>,
    error: Option<Error>,
}

impl fmt::Debug for BatchFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchFuture")
            .field("slot", &self.slot)
            .finish()
    }
}

impl Future for BatchFuture {
    type Output = Result<Vec<Frame>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(e) = self.error.take() {
            return Poll::Ready(Err(e));
        }
        let Some(i) = self.slot else {
            return Poll::Ready(Ok(Vec::new()));
        };
        let this = &mut *self;
        let mut st = this.conn.shared.state.borrow_mut();
        match &mut st.slots[i] {
            Slot::Gathering { waker, .. } => {
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Slot::BatchDone(_) => {
                let Slot::BatchDone(res) = std::mem::replace(&mut st.slots[i], Slot::Free) else {
                    unreachable!("matched BatchDone above")
                };
                st.free.push(i);
                drop(st);
                this.slot = None;
                Poll::Ready(res)
            }
            _ => {
                drop(st);
                this.slot = None;
                Poll::Ready(Err(Error::Closed))
            }
        }
    }
}

impl Drop for BatchFuture {
    fn drop(&mut self) {
        if let Some(i) = self.slot.take() {
            abandon(&self.conn.shared, &[i]);
        }
    }
}

/// A typed reply: the command's reply decoded with [`FromResp`]; an error
/// reply is [`Error::Server`].
pub struct CmdFuture<T> {
    reply: Result<ReplyFuture, Error>,
    _t: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for CmdFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CmdFuture").finish_non_exhaustive()
    }
}

impl<T: FromResp> Future for CmdFuture<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.reply {
            Ok(r) => match Pin::new(r).poll(cx) {
                Poll::Ready(res) => Poll::Ready(res.and_then(check).and_then(T::from_resp)),
                Poll::Pending => Poll::Pending,
            },
            Err(e) => Poll::Ready(Err(std::mem::replace(e, Error::Closed))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Cmd {
        let mut c = Cmd::new(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        c
    }

    #[test]
    fn blocking_commands_in_any_case() {
        for name in [
            "BLPOP",
            "brpop",
            "BLMove",
            "brpoplpush",
            "BLMPOP",
            "bzpopmin",
            "BZPOPMAX",
            "bzmpop",
            "wait",
            "WAITAOF",
        ] {
            assert!(is_blocking(&cmd(&[name, "k", "0"])), "{name}");
        }
        assert!(is_blocking(&cmd(&[
            "xread", "BLOCK", "0", "STREAMS", "s", "$"
        ])));
        assert!(!is_blocking(&cmd(&["XREAD", "STREAMS", "s", "0"])));
        for name in ["GET", "LPOP", "BLPOPS", "WAITS", "B", "", "{}"] {
            assert!(!is_blocking(&cmd(&[name, "k"])), "{name}");
        }
    }

    #[test]
    fn session_changes_are_tracked_in_any_case() {
        let tracked = |args: &[&str]| {
            let mut s = Session::default();
            track_session(&mut s, &cmd(args));
            (s.dirty, s.watching, s.in_multi)
        };
        assert_eq!(tracked(&["select", "1"]), (true, false, false));
        assert_eq!(tracked(&["Swapdb", "0", "1"]), (true, false, false));
        assert_eq!(tracked(&["client", "tracking", "on"]), (true, false, false));
        assert_eq!(tracked(&["CLIENT", "ID"]), (false, false, false));
        assert_eq!(tracked(&["watch", "k"]), (false, true, false));
        assert_eq!(tracked(&["MULTI"]), (false, false, true));
        assert_eq!(tracked(&["ssubscribe", "c"]), (true, false, false));
        assert_eq!(tracked(&["SET", "k", "v"]), (false, false, false));
        assert_eq!(tracked(&["SELECTS"]), (false, false, false));
    }

    #[test]
    fn commands_that_leave_session_state() {
        for args in [
            &["multi"][..],
            &["WATCH", "k"],
            &["select", "1"],
            &["AUTH", "p"],
            &["HELLO", "3"],
            &["RESET"],
            &["client", "Tracking", "on"],
            &["CLIENT", "REPLY", "ON"],
            &["READONLY"],
            &["readwrite"],
            &["SUBSCRIBE", "c"],
            &["psubscribe", "p*"],
            &["SSUBSCRIBE", "s"],
        ] {
            assert!(leaves_session_state(&cmd(args)), "{args:?}");
        }
        for args in [
            &["EXEC"][..],
            &["DISCARD"],
            &["UNWATCH"],
            &["SWAPDB", "0", "1"],
            &["CLIENT", "ID"],
            &["UNSUBSCRIBE"],
            &["GET", "k"],
            &["SELECTS"],
        ] {
            assert!(!leaves_session_state(&cmd(args)), "{args:?}");
        }
    }
}
