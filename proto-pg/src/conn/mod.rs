//! The client connection state machine.
//!
//! [`Connection`] speaks the frontend side of the protocol without I/O:
//! feed it what the socket read with [`Connection::handle_input`], send
//! what [`Connection::poll_transmit`] hands out, and act on
//! [`Connection::poll_event`]. Requests are pipelined: every command verb
//! writes its messages at once and returns a [`ReqId`]; responses are
//! matched to requests in FIFO order.
//!
//! # The drain rule
//!
//! After [`Connection::new`], after every `handle_*` call and after every
//! command, drain `poll_transmit` (write the bytes), `poll_timeout` and
//! `poll_event` until each is empty.
//!
//! ```
//! use bytes::BytesMut;
//! use proto_pg::{Config, Connection, Event};
//! use std::time::Instant;
//!
//! let mut conn = Connection::new(Config::new("alice").database("app")).unwrap();
//! let mut out = BytesMut::new();
//! let _ = conn.poll_transmit(&mut out); // StartupMessage: write it to the socket.
//! assert!(!out.is_empty());
//!
//! // Bytes read from the socket: AuthenticationOk then ReadyForQuery(Idle).
//! let mut input = BytesMut::from(&b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I"[..]);
//! conn.handle_input(Instant::now(), &mut input).unwrap();
//! assert!(matches!(conn.poll_event(), Some(Event::Connected)));
//!
//! let id = conn.simple_query("SELECT 1").unwrap();
//! out.clear();
//! let _ = conn.poll_transmit(&mut out); // the Query message
//! # let _ = id;
//! ```
//!
//! # Errors inside a pipeline
//!
//! After an `ErrorResponse` to an extended-query message the server skips
//! everything up to the next `Sync` ("Extended Query", 55.2.3). The
//! request that failed gets [`Event::Failed`]; every later request in the
//! same sync block gets `Failed` with the same error and `skipped: true`;
//! requests after the `Sync` proceed normally. A request that carries its
//! own `Sync` ([`Connection::bind_execute_sync`], [`Connection::query`])
//! gets its `Failed` when that `Sync`'s `ReadyForQuery` arrives, like a
//! simple query, so the transaction status is current by then.
//!
//! # Request lifecycle
//!
//! Every request ends with exactly one [`Event::Done`] or
//! [`Event::Failed`], in the order the requests were made; its other
//! events (`RowDescription`, `Row`, `CommandComplete`, ...) come before.
//! `Notice`, `Notification` and `ParameterStatus` belong to no request.
//! An `Err` from a `handle_*` method is fatal: the requests still listed by
//! [`Connection::pending_requests`] will never complete, and the driver
//! must fail them and drop the connection.
//!
//! # COPY
//!
//! After [`Event::CopyIn`], send data with [`Connection::copy_data`] and
//! finish with [`Connection::copy_done`] or [`Connection::copy_fail`];
//! other commands are refused meanwhile. The server ignores a `Sync`
//! received in copy-in mode (55.2.6), so when an extended-query COPY had
//! its `Sync` pipelined behind it, the connection sends another one after
//! the copy ends. Do not pipeline further requests behind a COPY FROM
//! STDIN: the server would read them as copy data and abort the copy.
//! COPY TO STDOUT delivers [`Event::CopyData`] chunks, zero-copy.
//!
//! # Timers
//!
//! The protocol itself has no timers, so `poll_timeout` is always `None`
//! and `handle_timeout` does nothing. Query timeouts belong to the driver:
//! send a `CancelRequest` ([`BackendKey::encode_cancel`]) on a new
//! connection, or discard the connection.

mod commands;
mod config;
pub(crate) mod state;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};

pub use config::{Config, SslMode};

use crate::auth::md5::md5_password;
use crate::auth::scram::{SCRAM_SHA_256, ScramClient};
use crate::error::{AuthError, Error, UsageError};
use crate::event::{Event, Notification, ReqId};
use crate::message::backend::{
    self, Authentication, BackendMessage, DataRow, ServerError, TransactionStatus,
};
use crate::message::frontend;
use state::{AuthAction, AuthStep, CopyMode, Expect, Outcome, Phase};

/// The cancellation key from `BackendKeyData`.
#[derive(Clone, PartialEq, Eq)]
pub struct BackendKey {
    /// Backend process ID.
    pub process_id: i32,
    /// Secret key (4 bytes in protocol 3.0, up to 256 in 3.2).
    pub secret_key: Vec<u8>,
}

impl std::fmt::Debug for BackendKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendKey")
            .field("process_id", &self.process_id)
            .finish_non_exhaustive()
    }
}

impl BackendKey {
    /// Appends the `CancelRequest` to send on a new connection to the same
    /// server ("Canceling Requests in Progress", 55.2.8).
    pub fn encode_cancel(&self, buf: &mut BytesMut) {
        // The key was validated to be at most 256 bytes when received.
        let _ = frontend::cancel_request(buf, self.process_id, &self.secret_key);
    }
}

#[derive(Debug)]
struct Step {
    id: ReqId,
    expect: Expect,
    /// The request's last step: completing it ends the request.
    last: bool,
    /// The request already ended (it failed earlier): emit nothing.
    silent: bool,
    /// An error seen while waiting for `ReadyForQuery`.
    error: Option<Arc<ServerError>>,
}

/// A PostgreSQL client connection, without I/O. See the [module
/// docs](self) for the run loop.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    phase: Phase,
    tx: BytesMut,
    events: VecDeque<Event>,
    steps: VecDeque<Step>,
    next_id: u64,
    /// Extended-query messages were sent since the last `Sync`.
    open_block: bool,
    /// The open block already failed: the server skips what comes next.
    block_failed: Option<Arc<ServerError>>,
    /// The request whose COPY FROM STDIN the caller may feed.
    copy_in: Option<ReqId>,
    key: Option<BackendKey>,
    /// The protocol minor version in use: the requested one, lowered by
    /// `NegotiateProtocolVersion`.
    minor: u16,
    server_params: Vec<(String, String)>,
    status: TransactionStatus,
    error: Option<Error>,
    scram: Option<ScramClient>,
}

/// Run-time parameters every `StartupMessage` carries (unless
/// [`Config::params`] names them): the output styles the text decoders of
/// [`types`](crate::types) read, whatever the server's defaults.
pub const PINNED_PARAMS: [(&str, &str); 3] = [
    ("DateStyle", "ISO"),
    ("IntervalStyle", "postgres"),
    ("extra_float_digits", "3"),
];

impl Connection {
    /// Creates a connection and queues its first message (`SSLRequest` or
    /// `StartupMessage`). Fails for configurations this crate cannot
    /// serve, such as [`SslMode::Require`].
    pub fn new(config: Config) -> Result<Connection, UsageError> {
        if config.ssl_mode == SslMode::Require {
            return Err(UsageError::Config(
                "sslmode=require: TLS is not implemented by this crate; use SslMode::Disable or Prefer",
            ));
        }
        if config.protocol_minor != 0 && config.protocol_minor != 2 {
            return Err(UsageError::Config("protocol_minor must be 0 or 2"));
        }
        if config.user.is_empty() {
            return Err(UsageError::Config("user must not be empty"));
        }
        let minor = config.protocol_minor;
        let mut c = Connection {
            config,
            phase: Phase::SslResponse,
            tx: BytesMut::with_capacity(256),
            events: VecDeque::new(),
            steps: VecDeque::new(),
            next_id: 0,
            open_block: false,
            block_failed: None,
            copy_in: None,
            key: None,
            minor,
            server_params: Vec::new(),
            status: TransactionStatus::Idle,
            error: None,
            scram: None,
        };
        // Encoding the StartupMessage validates the parameters now, even
        // when it is sent only after the SSL answer.
        c.send_startup()?;
        if c.config.ssl_mode == SslMode::Prefer {
            c.tx.clear();
            c.phase = Phase::SslResponse;
            frontend::ssl_request(&mut c.tx);
        }
        Ok(c)
    }

    fn send_startup(&mut self) -> Result<(), UsageError> {
        let c = &self.config;
        let mut params: Vec<(&str, &str)> = vec![("user", &c.user), ("client_encoding", "UTF8")];
        if let Some(d) = &c.database {
            params.push(("database", d));
        }
        if let Some(a) = &c.application_name {
            params.push(("application_name", a));
        }
        if let Some(o) = &c.options {
            params.push(("options", o));
        }
        for (k, v) in &c.params {
            if k != "client_encoding" {
                params.push((k, v));
            }
        }
        // The text decoders in `types` read the ISO date and `postgres`
        // interval output styles, and float text is exact only with
        // `extra_float_digits` > 0. A role or database default (`ALTER
        // ROLE ... SET DateStyle`) would change them; values from the
        // StartupMessage ("Message Formats", 55.7) are applied after those
        // and after `-c` switches in `options`, so they win. A caller who
        // names one in `params` gets theirs.
        for (k, v) in PINNED_PARAMS {
            if !c.params.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)) {
                params.push((k, v));
            }
        }
        let version = (3 << 16) | c.protocol_minor as i32;
        frontend::startup_message(&mut self.tx, version, params)?;
        self.phase = Phase::Auth(AuthStep::Start);
        Ok(())
    }

    // ----- inputs -------------------------------------------------------

    /// Consumes every whole message at the front of `buf`, leaving a
    /// partial one in place. When a message's header is in but its body
    /// is not, reserves room for the body (at most
    /// [`Limits::max_message_len`](crate::Limits)).
    ///
    /// An `Err` is fatal and sticky: the connection is unusable, and every
    /// request still pending is lost.
    pub fn handle_input(&mut self, _now: Instant, buf: &mut BytesMut) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let r = self.input(buf);
        if let Err(e) = &r {
            self.error = Some(e.clone());
            self.phase = Phase::Failed;
        }
        r
    }

    /// The peer closed its side. Expected only after [`Connection::terminate`].
    pub fn handle_eof(&mut self) -> Result<(), Error> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.phase == Phase::Closed {
            return Ok(());
        }
        self.phase = Phase::Failed;
        self.error = Some(Error::Closed);
        Err(Error::Closed)
    }

    /// Timers are not used by this protocol: a no-op.
    pub fn handle_timeout(&mut self, _now: Instant) {}

    fn input(&mut self, buf: &mut BytesMut) -> Result<(), Error> {
        let limits = self.config.limits;
        loop {
            match self.phase {
                Phase::Closed => {
                    buf.clear();
                    return Ok(());
                }
                Phase::SslResponse => {
                    if buf.is_empty() {
                        return Ok(());
                    }
                    let b = buf[0];
                    buf.advance(1);
                    match b {
                        b'N' => self.send_startup().map_err(|_| Error::Closed)?,
                        b'S' => {
                            return Err(Error::TlsUnavailable(
                                "the server accepted SSLRequest but this crate has no TLS; use SslMode::Disable",
                            ));
                        }
                        other => {
                            return Err(Error::Unexpected {
                                tag: other,
                                state: self.phase.name(),
                            });
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let Some(total) = backend::frame_len(buf, &limits)? else {
                return Ok(());
            };
            if buf.len() < total {
                buf.reserve(total - buf.len());
                return Ok(());
            }
            let tag = buf[0];
            if tag == b'D' && self.phase == Phase::Ready {
                // The hot path: the row's columns become one slice of the
                // read buffer, split off and trimmed in place (one
                // reference count taken per row, none per column).
                let mut frame = buf.split_to(total);
                let count = match backend::decode_body(tag, &frame[5..], &limits)? {
                    BackendMessage::DataRow(r) => r.count,
                    other => {
                        return Err(Error::Unexpected {
                            tag: other.tag(),
                            state: "decoding a DataRow",
                        });
                    }
                };
                // Tag, length and column count precede the columns.
                frame.advance(7);
                self.on_data_row(DataRow {
                    count,
                    body: frame.freeze(),
                })?;
                continue;
            }
            if matches!(tag, b'D' | b'd' | b'T' | b't' | b'V') {
                // Messages whose bodies reach the caller: split them off
                // the read buffer so events hold slices, not copies.
                let frame = buf.split_to(total).freeze();
                let msg = backend::decode_body(tag, &frame[5..], &limits)?;
                self.on_message(msg, Some(&frame))?;
            } else {
                let msg = backend::decode_body(tag, &buf[5..total], &limits)?;
                self.on_message(msg, None)?;
                buf.advance(total);
            }
        }
    }

    fn on_message(&mut self, msg: BackendMessage<'_>, frame: Option<&Bytes>) -> Result<(), Error> {
        // Asynchronous messages may arrive at any time after start-up
        // begins ("Asynchronous Operations", 55.2.7).
        match msg {
            BackendMessage::NoticeResponse(f) => {
                self.events.push_back(Event::Notice(Box::new(f.to_owned())));
                return Ok(());
            }
            BackendMessage::NotificationResponse {
                process_id,
                channel,
                payload,
            } => {
                self.events.push_back(Event::Notification(Notification {
                    process_id,
                    channel: channel.to_owned(),
                    payload: payload.to_owned(),
                }));
                return Ok(());
            }
            BackendMessage::ParameterStatus { name, value } => {
                match self.server_params.iter_mut().find(|(n, _)| n == name) {
                    Some(p) => p.1 = value.to_owned(),
                    None => self.server_params.push((name.to_owned(), value.to_owned())),
                }
                self.events.push_back(Event::ParameterStatus {
                    name: name.to_owned(),
                    value: value.to_owned(),
                });
                return Ok(());
            }
            _ => {}
        }
        match self.phase {
            Phase::Auth(step) => self.on_auth(step, msg),
            Phase::Startup => self.on_startup(msg),
            Phase::Ready => self.on_ready(msg, frame),
            Phase::SslResponse | Phase::Closed | Phase::Failed => Err(Error::Unexpected {
                tag: msg.tag(),
                state: self.phase.name(),
            }),
        }
    }

    fn on_auth(&mut self, step: AuthStep, msg: BackendMessage<'_>) -> Result<(), Error> {
        let auth = match msg {
            BackendMessage::Authentication(a) => a,
            BackendMessage::ErrorResponse(f) => return Err(Error::Server(Arc::new(f.to_owned()))),
            BackendMessage::NegotiateProtocolVersion {
                newest_minor,
                unrecognized,
            } if step == AuthStep::Start => {
                // The manual calls the field the newest minor version, but
                // PostgreSQL sends a whole version number (major << 16 |
                // minor, 196608 for 3.0); read both. We send no `_pq_.`
                // options, so only a lower 3.x is acceptable; the server
                // then continues with it.
                let (major, minor) = if newest_minor >= 1 << 16 {
                    (newest_minor >> 16, newest_minor & 0xffff)
                } else {
                    (3, newest_minor)
                };
                if major != 3 || minor < 0 || unrecognized.iter().next().is_some() {
                    return Err(Error::ProtocolVersion(format!(
                        "server supports {major}.{minor}, rejected {unrecognized:?}"
                    )));
                }
                self.minor = self.minor.min(minor as u16);
                return Ok(());
            }
            other => {
                return Err(Error::Unexpected {
                    tag: other.tag(),
                    state: self.phase.name(),
                });
            }
        };
        let code = match &auth {
            Authentication::Ok => 0,
            Authentication::KerberosV5 => 2,
            Authentication::CleartextPassword => 3,
            Authentication::Md5Password(_) => 5,
            Authentication::ScmCredential => 6,
            Authentication::Gss => 7,
            Authentication::GssContinue(_) => 8,
            Authentication::Sspi => 9,
            Authentication::Sasl(_) => 10,
            Authentication::SaslContinue(_) => 11,
            Authentication::SaslFinal(_) => 12,
        };
        let action = state::startup(step, code);
        let password = || {
            self.config
                .password
                .as_ref()
                .ok_or(AuthError::PasswordRequired)
        };
        match (action, auth) {
            (AuthAction::Ok, _) => self.scram = None,
            (AuthAction::Cleartext, _) => {
                frontend::password_message(&mut self.tx, password()?)
                    .map_err(|_| AuthError::Unsupported("a password containing NUL"))?;
            }
            (AuthAction::Md5, Authentication::Md5Password(salt)) => {
                let hashed = md5_password(self.config.user.as_bytes(), password()?, salt);
                frontend::password_message(&mut self.tx, &hashed)
                    .map_err(|_| AuthError::Unexpected)?;
            }
            (AuthAction::SaslStart, Authentication::Sasl(mechs)) => {
                if !mechs.iter().any(|m| m == SCRAM_SHA_256) {
                    let offered: Vec<&str> = mechs.iter().collect();
                    return Err(AuthError::NoSaslMechanism(offered.join(", ")).into());
                }
                let nonce = self
                    .config
                    .scram_nonce
                    .as_deref()
                    .ok_or(AuthError::NonceRequired)?;
                // PostgreSQL takes the user from the StartupMessage and
                // ignores the SCRAM username, so it is sent empty.
                let client =
                    ScramClient::new("", password()?, nonce, self.config.scram_iterations)?;
                frontend::sasl_initial_response(
                    &mut self.tx,
                    SCRAM_SHA_256,
                    Some(&client.client_first()),
                )
                .map_err(|_| AuthError::Unexpected)?;
                self.scram = Some(client);
            }
            (AuthAction::SaslContinue, Authentication::SaslContinue(data)) => {
                let client = self.scram.as_mut().ok_or(AuthError::Unexpected)?;
                let reply = client.handle_server_first(data)?;
                frontend::sasl_response(&mut self.tx, &reply).map_err(|_| AuthError::Unexpected)?;
            }
            (AuthAction::SaslFinal, Authentication::SaslFinal(data)) => {
                let client = self.scram.as_mut().ok_or(AuthError::Unexpected)?;
                client.handle_server_final(data)?;
            }
            (AuthAction::Unsupported(m), _) => return Err(AuthError::Unsupported(m).into()),
            _ => return Err(AuthError::Unexpected.into()),
        }
        self.phase = state::after_auth(action);
        Ok(())
    }

    fn on_startup(&mut self, msg: BackendMessage<'_>) -> Result<(), Error> {
        match msg {
            BackendMessage::BackendKeyData {
                process_id,
                secret_key,
            } => {
                self.key = Some(BackendKey {
                    process_id,
                    secret_key: secret_key.to_vec(),
                });
            }
            BackendMessage::ReadyForQuery(s) => {
                self.status = s;
                self.phase = Phase::Ready;
                self.events.push_back(Event::Connected);
            }
            BackendMessage::ErrorResponse(f) => return Err(Error::Server(Arc::new(f.to_owned()))),
            other => {
                return Err(Error::Unexpected {
                    tag: other.tag(),
                    state: self.phase.name(),
                });
            }
        }
        Ok(())
    }

    fn on_ready(&mut self, msg: BackendMessage<'_>, frame: Option<&Bytes>) -> Result<(), Error> {
        let tag = msg.tag();
        let Some(front) = self.steps.front_mut() else {
            return Err(match msg {
                // E.g. "terminating connection due to administrator command".
                BackendMessage::ErrorResponse(f) => Error::Server(Arc::new(f.to_owned())),
                _ => Error::Unexpected { tag, state: "idle" },
            });
        };
        let id = front.id;
        let before = front.expect;
        match state::step(before, tag) {
            Outcome::Unexpected => {
                return Err(Error::Unexpected {
                    tag,
                    state: before.name(),
                });
            }
            Outcome::Stay(next) => {
                front.expect = next;
                self.update_copy(id, next);
                self.emit_step_event(id, msg, frame);
            }
            Outcome::Complete => {
                let step = self.steps.pop_front().expect("front exists");
                if matches!(
                    step.expect,
                    Expect::Execute(CopyMode::In) | Expect::Query(CopyMode::In)
                ) {
                    self.copy_in = None;
                }
                let status = if let BackendMessage::ReadyForQuery(s) = msg {
                    self.status = s;
                    Some(s)
                } else {
                    None
                };
                if !step.silent {
                    self.emit_step_event(id, msg, frame);
                    if step.last {
                        self.events.push_back(match step.error {
                            Some(error) => Event::Failed {
                                id,
                                error,
                                skipped: false,
                            },
                            None => Event::Done { id, status },
                        });
                    }
                }
            }
            Outcome::FailLater(next) => {
                let BackendMessage::ErrorResponse(f) = msg else {
                    unreachable!("the table fails only on ErrorResponse")
                };
                let err = Arc::new(f.to_owned());
                front.expect = next;
                if front.error.is_none() {
                    front.error = Some(err.clone());
                }
                if self.copy_in == Some(id) {
                    self.copy_in = None;
                }
                if err.is_fatal() {
                    return Err(Error::Server(err));
                }
            }
            Outcome::Fail => {
                let BackendMessage::ErrorResponse(f) = msg else {
                    unreachable!("the table fails only on ErrorResponse")
                };
                let err = Arc::new(f.to_owned());
                let step = self.steps.pop_front().expect("front exists");
                if self.copy_in == Some(id) {
                    // The server aborted an extended-query COPY FROM STDIN
                    // before our CopyDone: the Sync pipelined behind it was
                    // ignored in copy-in mode, and the server now skips to
                    // the next Sync, so send one more.
                    self.copy_in = None;
                    if self.steps.front().is_some_and(|s| s.expect == Expect::Sync) {
                        frontend::sync(&mut self.tx);
                    }
                }
                self.fail_block(step, err.clone());
                if err.is_fatal() {
                    return Err(Error::Server(err));
                }
            }
        }
        Ok(())
    }

    /// A `DataRow` once ready: the same transition as [`Self::on_ready`]
    /// takes for it (rows never end a step), with the row already cut.
    fn on_data_row(&mut self, row: DataRow) -> Result<(), Error> {
        let Some(front) = self.steps.front_mut() else {
            return Err(Error::Unexpected {
                tag: b'D',
                state: "idle",
            });
        };
        match state::step(front.expect, b'D') {
            Outcome::Stay(next) => {
                front.expect = next;
                let id = front.id;
                self.update_copy(id, next);
                self.events.push_back(Event::Row { id, row });
                Ok(())
            }
            _ => Err(Error::Unexpected {
                tag: b'D',
                state: front.expect.name(),
            }),
        }
    }

    fn update_copy(&mut self, id: ReqId, next: Expect) {
        match next {
            Expect::Query(CopyMode::In) | Expect::Execute(CopyMode::In) => self.copy_in = Some(id),
            _ if self.copy_in == Some(id) => self.copy_in = None,
            _ => {}
        }
    }

    /// Fails `step`'s request and every request the server will skip
    /// until the next `Sync`.
    fn fail_block(&mut self, step: Step, err: Arc<ServerError>) {
        let mut failed = step.id;
        // A request that ends with its own `Sync` (a one-round-trip
        // execution) fails when that `Sync`'s `ReadyForQuery` arrives, as
        // a simple query does: whoever waits for it sees the transaction
        // status that follows the error.
        let owns_sync = self
            .steps
            .iter()
            .take_while(|s| s.id == step.id)
            .any(|s| s.expect == Expect::Sync);
        if owns_sync && !step.silent {
            while let Some(s) = self.steps.front_mut() {
                if s.expect == Expect::Sync {
                    s.error = Some(err);
                    return;
                }
                self.steps.pop_front();
            }
        }
        if !step.silent {
            self.events.push_back(Event::Failed {
                id: step.id,
                error: err.clone(),
                skipped: false,
            });
        }
        while let Some(s) = self.steps.front_mut() {
            if s.expect == Expect::Sync {
                if s.id == failed {
                    s.silent = true;
                }
                return;
            }
            let s = self.steps.pop_front().expect("front exists");
            if s.id != failed && !s.silent {
                failed = s.id;
                self.events.push_back(Event::Failed {
                    id: s.id,
                    error: err.clone(),
                    skipped: true,
                });
            }
        }
        // No Sync sent yet: whatever the caller adds to this block is
        // skipped too.
        self.block_failed = Some(err);
    }

    fn emit_step_event(&mut self, id: ReqId, msg: BackendMessage<'_>, frame: Option<&Bytes>) {
        let ev = match (msg, frame) {
            (BackendMessage::RowDescription(r), Some(f)) => Event::RowDescription {
                id,
                columns: r.to_bytes(f),
            },
            (BackendMessage::ParameterDescription(p), Some(f)) => Event::ParameterDescription {
                id,
                types: p.to_bytes(f),
            },
            (BackendMessage::DataRow(r), Some(f)) => Event::Row {
                id,
                row: r.to_bytes(f),
            },
            (BackendMessage::CopyData(d), Some(f)) => Event::CopyData {
                id,
                data: f.slice_ref(d),
            },
            (BackendMessage::FunctionCallResponse(v), Some(f)) => Event::FunctionResult {
                id,
                value: v.map(|v| f.slice_ref(v)),
            },
            (BackendMessage::NoData, _) => Event::NoData { id },
            (BackendMessage::CommandComplete(t), _) => Event::CommandComplete {
                id,
                tag: t.0.to_owned(),
            },
            (BackendMessage::EmptyQueryResponse, _) => Event::EmptyQuery { id },
            (BackendMessage::PortalSuspended, _) => Event::PortalSuspended { id },
            (BackendMessage::CopyInResponse(c), _) => Event::CopyIn {
                id,
                format: c.format(),
                column_formats: c.column_formats().collect(),
            },
            (BackendMessage::CopyOutResponse(c), _) => Event::CopyOut {
                id,
                format: c.format(),
                column_formats: c.column_formats().collect(),
            },
            (BackendMessage::CopyDone, _) => Event::CopyDone { id },
            _ => return,
        };
        self.events.push_back(ev);
    }

    // ----- outputs ------------------------------------------------------

    /// Appends the bytes to send; returns how many were appended.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut BytesMut) -> usize {
        let n = self.tx.len();
        if n == 0 {
            return 0;
        }
        if buf.is_empty() {
            std::mem::swap(buf, &mut self.tx);
        } else {
            buf.extend_from_slice(&self.tx);
            self.tx.clear();
        }
        n
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Always `None`: the protocol has no timers (see the module docs).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    // ----- queries about the state -----------------------------------------

    /// True once start-up finished and until the connection closes or fails.
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// The sticky fatal error, if the connection has failed.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// The transaction status from the latest `ReadyForQuery`.
    pub fn transaction_status(&self) -> TransactionStatus {
        self.status
    }

    /// The cancellation key, once start-up sent it.
    pub fn backend_key(&self) -> Option<&BackendKey> {
        self.key.as_ref()
    }

    /// The protocol minor version in use (3.`minor`): the one asked for in
    /// [`Config::protocol_minor`], or the server's newest when it answered
    /// `NegotiateProtocolVersion` with an older one.
    pub fn protocol_minor(&self) -> u16 {
        self.minor
    }

    /// The latest value the server reported for run-time parameter `name`.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.server_params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Requests still waiting for responses, oldest first (each once).
    pub fn pending_requests(&self) -> Vec<ReqId> {
        let mut out: Vec<ReqId> = Vec::new();
        for s in &self.steps {
            if !s.silent && out.last() != Some(&s.id) {
                out.push(s.id);
            }
        }
        out
    }

    /// True while a COPY FROM STDIN waits for the caller's data.
    pub fn is_copy_in(&self) -> bool {
        self.copy_in.is_some()
    }
}

#[cfg(test)]
mod tests;
