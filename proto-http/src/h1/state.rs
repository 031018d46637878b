//! Every state of the server connection and every transition between them,
//! in one place (as h11's `_state.py`). `conn.rs` moves bytes, encodes and
//! keeps timers; it changes states only through the methods here.
//!
//! Read side (requests), one at a time:
//!
//! ```text
//!            head parsed, body            body end, keep-alive
//!   Head ─────────────────────────▶ Body ───────────────────────▶ Head
//!    │  head parsed, no body              │ body end, Upgrade/CONNECT
//!    ├──────────── (Body skipped) ────────┼──────────────▶ AwaitSwitch ──101/2xx flushed──▶ Switched
//!    │                                    │                    │ other response
//!    │                                    │                    └───────────────▶ Head
//!    │ protocol error, EOF, close         │ body end, not keep-alive; error; EOF
//!    └──────────────▶ Done ◀──────────────┘
//! ```
//!
//! Write side, per request (a `Slot`), strictly in request order:
//! `Waiting ──send_response(Full/Empty)──▶ Complete`,
//! `Waiting ──send_response(Stream)──▶ Streaming ──send_end──▶ Complete`.
//! A complete slot at the front of the queue is flushed and removed; if it
//! asked to close, the connection is `Closing` until the output is taken,
//! then closed.

use std::time::Instant;

use bytes::BytesMut;

use crate::error::{ProtoError, UserError};

use super::encode::OutFraming;
use super::head::{RequestHead, Version};
use crate::header::{Method, StatusCode};

/// What the read side is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadState {
    /// Waiting for or inside a request head.
    Head,
    /// Inside the body of request `id`.
    Body { id: u64 },
    /// Request `id` asked to switch protocols (Upgrade or CONNECT); no more
    /// input is read until its response decides.
    AwaitSwitch { id: u64 },
    /// The protocol was switched; remaining input belongs to the new one.
    Switched,
    /// No more requests will be read.
    Done,
}

impl ReadState {
    /// After the head of `req` was parsed (RFC 9112 §6.3: no body means
    /// the message ends with the head).
    pub(crate) fn on_head(req: &Slot) -> ReadState {
        if req.body_pending {
            ReadState::Body { id: req.id }
        } else {
            ReadState::after_message(req)
        }
    }

    /// After a whole request (head and body) was read.
    /// RFC 9112 §9.6: after a request with `close`, read no more requests.
    pub(crate) fn after_message(req: &Slot) -> ReadState {
        if req.switch_requested {
            ReadState::AwaitSwitch { id: req.id }
        } else if !req.keep_alive {
            ReadState::Done
        } else {
            ReadState::Head
        }
    }
}

/// Whether and how `100 Continue` is owed (RFC 9110 §10.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Nothing to do: no expectation, or it was met or made moot.
    None,
    /// The client waits for 100 before sending the body.
    Pending,
    /// A final response went out before 100: the client may or may not send
    /// the body, so the connection cannot be reused.
    Refused,
}

/// Progress of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RespState {
    /// No response started.
    Waiting,
    /// Head sent; body pieces follow. `remaining` counts down a
    /// Content-Length.
    Streaming { framing: OutFraming, remaining: u64 },
    /// Fully encoded.
    Complete,
}

impl RespState {
    /// `send_response` is allowed only before any response.
    pub(crate) fn start(&mut self, framing: OutFraming, streaming: bool) -> Result<(), UserError> {
        if *self != RespState::Waiting {
            return Err(UserError::ResponseAlreadyStarted);
        }
        *self = if streaming {
            let remaining = if let OutFraming::Length(n) = framing {
                n
            } else {
                0
            };
            RespState::Streaming { framing, remaining }
        } else {
            RespState::Complete
        };
        Ok(())
    }

    /// Accounts for `len` body bytes; returns the framing to write them with.
    pub(crate) fn data(&mut self, len: usize) -> Result<OutFraming, UserError> {
        match self {
            RespState::Streaming {
                framing: f @ OutFraming::Length(_),
                remaining,
            } => {
                *remaining = remaining
                    .checked_sub(len as u64)
                    .ok_or(UserError::LengthMismatch)?;
                Ok(*f)
            }
            RespState::Streaming { framing, .. } => Ok(*framing),
            _ => Err(UserError::NotStreaming),
        }
    }

    /// Ends a streaming body; returns its framing.
    pub(crate) fn end(&mut self) -> Result<OutFraming, UserError> {
        match *self {
            RespState::Streaming {
                framing: OutFraming::Length(_),
                remaining,
            } if remaining != 0 => Err(UserError::LengthMismatch),
            RespState::Streaming { framing, .. } => {
                *self = RespState::Complete;
                Ok(framing)
            }
            _ => Err(UserError::NotStreaming),
        }
    }
}

/// One request awaiting (or receiving) its response.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) id: u64,
    pub(crate) is_head: bool,
    pub(crate) is_connect: bool,
    pub(crate) http10: bool,
    /// The request allows the connection to persist.
    pub(crate) keep_alive: bool,
    /// The request asked for Upgrade or CONNECT.
    pub(crate) switch_requested: bool,
    /// Body bytes still to be read.
    pub(crate) body_pending: bool,
    /// Some body byte has arrived.
    pub(crate) body_started: bool,
    pub(crate) expect: Expect,
    pub(crate) resp: RespState,
    /// Close the connection after this response.
    pub(crate) close_after: bool,
    /// The response switches protocols once flushed.
    pub(crate) switching: bool,
    /// Output held back until every earlier response is flushed.
    pub(crate) out: BytesMut,
}

impl Slot {
    pub(crate) fn for_request(id: u64, head: &RequestHead) -> Slot {
        Slot {
            id,
            is_head: head.method() == Method::Head,
            is_connect: head.method() == Method::Connect,
            http10: head.version() == Version::Http10,
            keep_alive: head.keep_alive(),
            switch_requested: head.upgrade().is_some() || head.method() == Method::Connect,
            body_pending: head.has_body(),
            body_started: false,
            expect: if head.expects_continue() {
                Expect::Pending
            } else {
                Expect::None
            },
            resp: RespState::Waiting,
            close_after: !head.keep_alive(),
            switching: false,
            out: BytesMut::new(),
        }
    }

    /// A slot the connection answers itself (error after a bad head).
    pub(crate) fn synthetic(id: u64) -> Slot {
        Slot {
            id,
            is_head: false,
            is_connect: false,
            http10: false,
            keep_alive: false,
            switch_requested: false,
            body_pending: false,
            body_started: false,
            expect: Expect::None,
            resp: RespState::Waiting,
            close_after: true,
            switching: false,
            out: BytesMut::new(),
        }
    }

    /// A piece of this request's body arrived. RFC 9110 §10.1.1: a client
    /// that sends the body without waiting needs no 100.
    pub(crate) fn on_body_data(&mut self) {
        self.body_started = true;
        if self.expect == Expect::Pending {
            self.expect = Expect::None;
        }
    }

    /// Whether `100 Continue` is owed now; if so it counts as sent.
    pub(crate) fn take_continue(&mut self) -> bool {
        if self.expect == Expect::Pending && self.resp == RespState::Waiting {
            self.expect = Expect::None;
            true
        } else {
            false
        }
    }

    /// The request failed (protocol error or timeout). Returns whether the
    /// connection answers in the application's place (it does when no
    /// response was started and there is someone to answer).
    pub(crate) fn on_fail(&mut self, respond: bool) -> bool {
        self.close_after = true;
        self.expect = Expect::None;
        if self.resp == RespState::Waiting && respond {
            self.resp = RespState::Complete;
            true
        } else {
            false
        }
    }

    /// Decides framing and persistence for a response with `status`.
    /// `len` is the body length when known, `None` for a stream of unknown
    /// length. Returns the framing; updates `close_after` / `switching`.
    pub(crate) fn on_response(
        &mut self,
        status: StatusCode,
        len: Option<u64>,
        app_close: bool,
    ) -> Result<OutFraming, UserError> {
        if self.resp != RespState::Waiting {
            return Err(UserError::ResponseAlreadyStarted);
        }
        let code = status.as_u16();
        if status.is_informational() && code != 101 {
            return Err(UserError::InvalidStatus);
        }
        // RFC 9110 §15.2.2 / §9.3.6: only switch when the client asked to.
        let switch = (code == 101 && self.switch_requested && !self.is_connect)
            || (self.is_connect && (200..300).contains(&code));
        if code == 101 && !switch {
            return Err(UserError::InvalidStatus);
        }
        let framing = if switch || status.is_bodiless() {
            // RFC 9110 §8.6: no Content-Length in 1xx/204 responses or 2xx
            // to CONNECT; 304 may omit it.
            OutFraming::None
        } else {
            match len {
                Some(n) => OutFraming::Length(n),
                // RFC 9112 §7.1: HTTP/1.0 recipients do not know chunked.
                None if self.http10 => OutFraming::Close,
                None => OutFraming::Chunked,
            }
        };
        if self.expect == Expect::Pending {
            // RFC 9110 §10.1.1: a final response instead of 100.
            self.expect = Expect::Refused;
            if !self.body_started && self.body_pending {
                self.close_after = true;
            }
        }
        self.switching = switch;
        if switch {
            // No persistence question: the connection becomes the tunnel.
            self.close_after = false;
        } else {
            self.close_after |= app_close || framing == OutFraming::Close;
        }
        Ok(framing)
    }
}

/// Whole-connection lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// Serving requests.
    Open,
    /// Will close once the owed responses are written.
    Closing,
    /// Switched protocols after the 101 / 2xx-to-CONNECT was handed out.
    Switched,
    /// Finished.
    Closed,
}

/// The connection-wide state: read side and lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Phase {
    pub(crate) read: ReadState,
    pub(crate) life: Lifecycle,
}

impl Phase {
    pub(crate) fn new() -> Phase {
        Phase {
            read: ReadState::Head,
            life: Lifecycle::Open,
        }
    }

    /// No more requests will be read: peer EOF, protocol error, idle
    /// timeout, or a response that closes. Owed responses still go out.
    pub(crate) fn stop_reading(&mut self) {
        self.read = ReadState::Done;
        if self.life == Lifecycle::Open {
            self.life = Lifecycle::Closing;
        }
    }

    /// The head of `req` was parsed.
    pub(crate) fn on_head(&mut self, req: &Slot) {
        self.read = ReadState::on_head(req);
    }

    /// The body being read ended; `req` is its slot if still queued
    /// (otherwise its response already went out and did not close).
    pub(crate) fn on_body_end(&mut self, req: Option<&Slot>) {
        self.read = match req {
            Some(slot) => ReadState::after_message(slot),
            None if self.life == Lifecycle::Open => ReadState::Head,
            None => ReadState::Done,
        };
    }

    /// The application started the response for `slot`.
    pub(crate) fn on_response(&mut self, slot: &Slot) {
        // A refused 100-continue whose body never started: the body may
        // never come, so read no further.
        if slot.expect == Expect::Refused
            && !slot.body_started
            && self.read == (ReadState::Body { id: slot.id })
        {
            self.read = ReadState::Done;
        }
        // Upgrade declined: keep serving HTTP/1.1 (unless closing anyway).
        if !slot.switching && self.read == (ReadState::AwaitSwitch { id: slot.id }) {
            self.read = if slot.close_after {
                ReadState::Done
            } else {
                ReadState::Head
            };
        }
    }

    /// A complete response left the queue (its bytes are in the transmit
    /// buffer). Returns whether later responses may follow it.
    pub(crate) fn on_response_done(&mut self, slot: &Slot) -> bool {
        if slot.switching {
            self.life = Lifecycle::Switched;
            self.read = ReadState::Switched;
            false
        } else if slot.close_after {
            // RFC 9112 §9.6: nothing after a response that closes.
            self.stop_reading();
            false
        } else {
            true
        }
    }

    /// Nothing is owed and everything was handed to `poll_transmit`.
    pub(crate) fn on_drained(&mut self) {
        if self.life == Lifecycle::Closing {
            self.life = Lifecycle::Closed;
            self.read = ReadState::Done;
        }
    }
}

/// Which timer is armed (at most one at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Keep-alive idle: nothing in progress.
    Idle(Instant),
    /// A request head is arriving; deadline counted from its first byte.
    Header(Instant),
    /// A request body is arriving; refreshed on progress.
    Body(Instant),
}

impl Timer {
    pub(crate) fn deadline(self) -> Instant {
        match self {
            Timer::Idle(t) | Timer::Header(t) | Timer::Body(t) => t,
        }
    }
}

/// What a fired timer does.
pub(crate) enum TimerAction {
    /// Close without a response.
    Close,
    /// Fail with this error (408).
    Fail(ProtoError),
}

impl TimerAction {
    pub(crate) fn of(t: Timer) -> TimerAction {
        use crate::error::ProtoErrorKind as K;
        match t {
            Timer::Idle(_) => TimerAction::Close,
            Timer::Header(_) => TimerAction::Fail(K::HeaderTimeout.into()),
            Timer::Body(_) => TimerAction::Fail(K::BodyTimeout.into()),
        }
    }
}
