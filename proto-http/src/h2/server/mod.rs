//! The server side of an HTTP/2 connection (RFC 9113) as a Sans-IO state
//! machine: [`ServerConnection`].
//!
//! It follows the crate's drain rule: after any `handle_*` call or command,
//! drain [`ServerConnection::poll_event`], then
//! [`ServerConnection::poll_transmit`], then
//! [`ServerConnection::poll_timeout`]. `handle_input` consumes whole frames
//! from the front of the read buffer and bounds its work per call (a batch
//! of events, a cap on queued control frames), so call it again after
//! draining while the buffer holds bytes and the previous call consumed
//! some.
//!
//! ```
//! use std::time::Instant;
//! use bytes::{Bytes, BytesMut};
//! use proto_http::StatusCode;
//! use proto_http::h1::{Body, ResponseHead};
//! use proto_http::h2::frame::{self, Frame, Headers, StreamId, PREFACE};
//! use proto_http::h2::hpack::{Encoder, HeaderField};
//! use proto_http::h2::{Config, Event, ServerConnection};
//!
//! // What a client sends: the preface, an empty SETTINGS, one GET.
//! let mut input = BytesMut::from(&PREFACE[..]);
//! frame::encode_settings(&[], &mut input);
//! let mut block = BytesMut::new();
//! Encoder::default().encode(
//!     &[
//!         HeaderField::new(":method", "GET"),
//!         HeaderField::new(":scheme", "http"),
//!         HeaderField::new(":path", "/hi"),
//!         HeaderField::new(":authority", "a"),
//!     ],
//!     &mut block,
//! );
//! frame::encode_header_block(StreamId::new(1), &block, true, 16_384, &mut input);
//!
//! let mut conn = ServerConnection::new(Config::default());
//! let now = Instant::now();
//! conn.handle_input(now, &mut input);
//! let mut answered = false;
//! while let Some(event) = conn.poll_event() {
//!     if let Event::Request { stream, head, .. } = event {
//!         assert_eq!(head.path(), b"/hi");
//!         let body = Body::Full(Bytes::from_static(b"hello"));
//!         conn.send_response(stream, ResponseHead::new(StatusCode::OK, &[]), body)?;
//!         answered = true;
//!     }
//! }
//! assert!(answered);
//! let mut out = BytesMut::new();
//! while conn.poll_transmit(&mut out) > 0 {}
//! // SETTINGS, WINDOW_UPDATE, SETTINGS ACK, HEADERS, DATA.
//! let mut kinds = Vec::new();
//! let mut rest = &out[..];
//! while let Some((f, used)) = frame::decode(rest, 16_384).unwrap() {
//!     kinds.push(match f {
//!         Frame::Settings(_) => "SETTINGS",
//!         Frame::WindowUpdate(_) => "WINDOW_UPDATE",
//!         Frame::Headers(_) => "HEADERS",
//!         Frame::Data(d) => { assert!(d.end_stream); "DATA" }
//!         _ => "other",
//!     });
//!     rest = &rest[used..];
//! }
//! assert_eq!(kinds, ["SETTINGS", "WINDOW_UPDATE", "SETTINGS", "HEADERS", "DATA"]);
//! # Ok::<(), proto_http::UserError>(())
//! ```

mod check;
mod flood;
mod stream;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::{Instant, SystemTime};

use bytes::{Bytes, BytesMut};

#[doc(hidden)]
pub use self::check::fuzz_server_conn;
use self::flood::Counter;
use self::stream::{End, Recent, SendState, Stream};
use super::ErrorCode;
use super::config::Config;
use super::error::{ConnError, ConnErrorKind};
use super::event::Event;
use super::flow::{RecvWindow, Window};
use super::frame::{
    self, BlockStep, Data, FRAME_HEADER_LEN, Frame, FrameError, FrameHeader, GoAway, HeaderBlock,
    HeaderBlockAssembler, HeaderBlockKind, PREFACE, Ping, RstStream, Settings, StreamId,
    WindowUpdate,
};
use super::hpack::{Decoder, DecoderConfig, Encoder, EncoderConfig, HeaderField};
use super::request;
use super::settings::{ConnectionSettings, MIN_MAX_FRAME_SIZE, Setting};
use crate::error::UserError;
use crate::h1::encode::check_headers;
use crate::h1::{Body, Header, HttpDate, ResponseHead};
use crate::header::{Method, StatusCode};

/// `handle_input` returns once this many events are queued.
const MAX_EVENTS_PER_CALL: usize = 64;

/// Smallest DATA payload that [`ServerConnection::poll_transmit_vectored`]
/// hands out by reference instead of copying.
pub const VECTORED_MIN: usize = 1024;

/// Room reserved at once for the frame headers that
/// [`ServerConnection::poll_transmit_vectored`] hands out as slices.
const HEADER_ROOM: usize = 8 * 1024;

/// The protocol's initial window (RFC 9113 §6.9.2).
const DEFAULT_WINDOW: u32 = 65_535;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the client preface (RFC 9113 §3.4).
    Preface,
    /// Frames flow.
    Open,
    /// A connection error: GOAWAY queued, input discarded.
    Failed,
}

/// A server-side HTTP/2 connection. It performs no I/O; see the
/// [module docs](self) for the run loop.
pub struct ServerConnection {
    config: Config,
    state: State,
    /// The client's first frame (a SETTINGS) has arrived.
    got_settings: bool,
    /// Our SETTINGS await their ACK.
    settings_pending: bool,
    settings_deadline: Option<Instant>,
    /// Our last-stream-id once we sent a graceful GOAWAY.
    goaway_sent: Option<StreamId>,
    peer_goaway: bool,
    eof: bool,
    closed: bool,
    decoder: Decoder,
    encoder: Encoder,
    assembler: HeaderBlockAssembler,
    continuations: u32,
    fields: Vec<HeaderField>,
    block: BytesMut,
    peer: ConnectionSettings,
    recv_window: RecvWindow,
    send_window: Window,
    streams: Vec<Stream>,
    recent: Recent,
    /// Highest client stream identifier seen (RFC 9113 §5.1.1).
    max_seen: StreamId,
    events: VecDeque<Event>,
    tx: BytesMut,
    rr: usize,
    now: Option<Instant>,
    idle_deadline: Option<Instant>,
    stall_deadline: Option<Instant>,
    resets: Counter,
    settings_count: Counter,
    pings: Counter,
    priorities: Counter,
    empties: Counter,
    date: Option<HttpDate>,
}

impl std::fmt::Debug for ServerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConnection")
            .field("state", &self.state)
            .field("streams", &self.streams.len())
            .field("max_seen", &self.max_seen)
            .field("goaway_sent", &self.goaway_sent)
            .finish_non_exhaustive()
    }
}

impl ServerConnection {
    /// A connection for a socket whose client speaks HTTP/2 with prior
    /// knowledge: the next bytes are the client preface. Our SETTINGS (and
    /// the connection window increase) are queued at once (RFC 9113 §3.4).
    #[must_use]
    pub fn new(config: Config) -> ServerConnection {
        let mut config = config;
        config.initial_window_size = config
            .initial_window_size
            .clamp(DEFAULT_WINDOW, super::settings::MAX_WINDOW_SIZE);
        config.max_frame_size = config
            .max_frame_size
            .clamp(MIN_MAX_FRAME_SIZE, super::settings::MAX_MAX_FRAME_SIZE);
        let decoder = Decoder::new(DecoderConfig {
            max_header_list_size: config.max_header_list_size as usize,
            max_string_len: config.max_header_string_len,
            ..DecoderConfig::default()
        });
        let encoder = Encoder::new(EncoderConfig {
            max_table_size: config.encoder_table_size,
            ..EncoderConfig::default()
        });
        let mut conn = ServerConnection {
            state: State::Preface,
            got_settings: false,
            settings_pending: true,
            settings_deadline: None,
            goaway_sent: None,
            peer_goaway: false,
            eof: false,
            closed: false,
            decoder,
            encoder,
            assembler: HeaderBlockAssembler::new(config.max_header_block_size),
            continuations: 0,
            fields: Vec::new(),
            block: BytesMut::new(),
            peer: ConnectionSettings::default(),
            recv_window: RecvWindow::new(DEFAULT_WINDOW, config.connection_window_size),
            send_window: Window::new(DEFAULT_WINDOW),
            streams: Vec::new(),
            recent: Recent::default(),
            max_seen: StreamId::ZERO,
            events: VecDeque::new(),
            tx: BytesMut::with_capacity(256),
            rr: 0,
            now: None,
            idle_deadline: None,
            stall_deadline: None,
            resets: Counter::default(),
            settings_count: Counter::default(),
            pings: Counter::default(),
            priorities: Counter::default(),
            empties: Counter::default(),
            date: None,
            config,
        };
        conn.send_preface();
        conn
    }

    /// A connection taking over from an HTTP/1.1 `Upgrade: h2c` request
    /// (RFC 7540 §3.2, kept by RFC 9113 §3.1 for existing deployments).
    ///
    /// `http2_settings` is the decoded `HTTP2-Settings` payload (see
    /// [`super::upgrade::h2c_settings`]); it is applied as the client's
    /// SETTINGS. The upgraded request becomes stream 1, half-closed
    /// (remote): answer it with `send_response(StreamId::new(1), ..)`;
    /// `is_head` says whether it was a HEAD request. Write the 101 response
    /// first, then this connection's output; the client preface is still
    /// expected as the first input.
    pub fn upgrade(
        config: Config,
        http2_settings: &[u8],
        is_head: bool,
    ) -> Result<ServerConnection, ConnError> {
        let bad = || ConnError::new(ConnErrorKind::BadUpgradeSettings, ErrorCode::ProtocolError);
        if http2_settings.len() % 6 != 0 {
            return Err(bad());
        }
        let mut conn = ServerConnection::new(config);
        for p in http2_settings.chunks_exact(6) {
            let id = u16::from_be_bytes([p[0], p[1]]);
            let value = u32::from_be_bytes([p[2], p[3], p[4], p[5]]);
            let setting = Setting::from_wire(id, value).map_err(|_| bad())?;
            conn.apply_setting(setting).map_err(|_| bad())?;
        }
        let id = StreamId::new(1);
        let mut s = Stream::new(
            id,
            conn.config.initial_window_size,
            conn.peer.initial_window_size,
            false,
        );
        s.is_head = is_head;
        conn.streams.push(s);
        conn.max_seen = id;
        Ok(conn)
    }

    /// Sets the time used for the `date` field, in seconds since the Unix
    /// epoch (re-formatted only when the second changes).
    pub fn set_date_unix(&mut self, secs: u64) {
        match &mut self.date {
            Some(d) => {
                d.update_unix(secs);
            }
            None => self.date = Some(HttpDate::from_unix(secs)),
        }
    }

    /// Sets the `date` from a preformatted, shared [`HttpDate`].
    pub fn set_date(&mut self, date: &HttpDate) {
        self.date = Some(*date);
    }

    /// Sets the `date` from a `SystemTime` the caller read.
    pub fn set_date_system(&mut self, now: SystemTime) {
        let mut d = self.date.unwrap_or_default();
        d.update(now);
        self.date = Some(d);
    }

    // ---- input -----------------------------------------------------------

    /// Consumes the preface and whole frames from the front of `buf`,
    /// leaving a partial frame in place. Work per call is bounded (a batch
    /// of events; while more than [`Config::max_tx_backlog`] octets of
    /// control frames wait for `poll_transmit`, nothing is consumed). After
    /// a connection error input is discarded.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        self.now = Some(now);
        loop {
            if self.is_over() {
                // Nothing more will be processed: discard, whatever the
                // reads' boundaries were.
                buf.clear();
                break;
            }
            if self.events.len() >= MAX_EVENTS_PER_CALL
                || self.tx.len() >= self.config.max_tx_backlog
            {
                break;
            }
            if self.state == State::Preface {
                let n = buf.len().min(PREFACE.len());
                if buf[..n] != PREFACE[..n] {
                    self.fail(ConnError::new(
                        ConnErrorKind::BadPreface,
                        ErrorCode::ProtocolError,
                    ));
                    continue;
                }
                if n < PREFACE.len() {
                    break;
                }
                let _ = buf.split_to(PREFACE.len());
                self.state = State::Open;
                continue;
            }
            let Some(head) = FrameHeader::parse(buf) else {
                break;
            };
            if head.length > self.config.max_frame_size {
                // §4.2: FRAME_SIZE_ERROR, judged from the header alone.
                if let Err(e) = frame::decode(buf, self.config.max_frame_size) {
                    self.on_frame_error(e);
                }
                continue;
            }
            let total = FRAME_HEADER_LEN + head.length as usize;
            if buf.len() < total {
                break;
            }
            let raw = buf.split_to(total).freeze();
            match frame::decode(&raw, self.config.max_frame_size) {
                Ok(Some((f, _))) => self.on_frame(f, &raw),
                Ok(None) => {}
                Err(e) => self.on_frame_error(e),
            }
        }
        self.settle();
    }

    /// The peer closed its sending side. Streams still receiving are reset
    /// (reported as [`Event::Reset`]); responses owed to the others still go
    /// out, then the connection closes.
    pub fn handle_eof(&mut self, now: Instant) {
        self.now = Some(now);
        self.eof = true;
        let mut i = 0;
        while i < self.streams.len() {
            if self.streams[i].recv_open {
                let s = self.streams.remove(i);
                self.recent.push(s.id, true);
                self.events.push_back(Event::Reset {
                    stream: s.id,
                    code: ErrorCode::Cancel,
                });
            } else {
                i += 1;
            }
        }
        self.settle();
    }

    /// Fires whichever timer is due: the SETTINGS acknowledgement
    /// (`SETTINGS_TIMEOUT`), a zero-window stall (`ENHANCE_YOUR_CALM`), or
    /// idleness (graceful GOAWAY). A spurious call is a no-op.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        let due = |d: Option<Instant>| d.is_some_and(|d| d <= now);
        if due(self.settings_deadline) {
            self.settings_deadline = None;
            self.fail(ConnError::new(
                ConnErrorKind::SettingsTimeout,
                ErrorCode::SettingsTimeout,
            ));
        } else if due(self.stall_deadline) {
            self.stall_deadline = None;
            self.fail(ConnError::new(
                ConnErrorKind::SendStall,
                ErrorCode::EnhanceYourCalm,
            ));
        } else if due(self.idle_deadline) {
            self.idle_deadline = None;
            self.go_away();
        } else {
            let late: Vec<StreamId> = self
                .streams
                .iter()
                .filter(|s| due(s.recv_deadline))
                .map(|s| s.id)
                .collect();
            for id in late {
                self.reset_stream(id, ErrorCode::Cancel, true);
            }
        }
        self.settle();
    }

    // ---- commands ----------------------------------------------------------

    /// Starts the response on `stream`. With [`Body::Full`] or
    /// [`Body::Empty`] the response is complete; with [`Body::Stream`]
    /// follow up with [`send_body_chunk`](Self::send_body_chunk) and
    /// [`send_end`](Self::send_end). `content-length` and `date` are added
    /// by the connection; header names are sent in lowercase and
    /// connection-specific fields (`connection`, `keep-alive`, ...) are
    /// dropped (RFC 9113 §8.2). To a HEAD request the body is dropped.
    /// Informational statuses are refused (RFC 9113 §8.6 forbids 101).
    pub fn send_response(
        &mut self,
        stream: StreamId,
        head: ResponseHead<'_>,
        body: Body,
    ) -> Result<(), UserError> {
        self.check_open()?;
        let i = self.index(stream).ok_or(UserError::UnknownRequest)?;
        if self.streams[i].send != SendState::Idle {
            return Err(UserError::ResponseAlreadyStarted);
        }
        let facts = check_headers(head.headers)?;
        let status = head.status;
        let bodiless = status.is_bodiless();
        if status.is_informational() {
            return Err(UserError::InvalidStatus);
        }
        let (length, streaming) = match &body {
            Body::Empty => (Some(0), false),
            Body::Full(b) => (Some(b.len() as u64), false),
            Body::Stream { length } => (*length, true),
        };
        if bodiless && (streaming || length != Some(0)) {
            return Err(UserError::InvalidStatus);
        }
        let is_head = self.streams[i].is_head;
        let length = if bodiless { None } else { length };
        let date = (self.config.date_header && !facts.has_date)
            .then_some(self.date)
            .flatten();
        let end_now = !streaming
            && (is_head
                || matches!(&body, Body::Empty)
                || matches!(&body, Body::Full(b) if b.is_empty()));
        self.encode_head(stream, status, head.headers, length, date, end_now);
        let s = &mut self.streams[i];
        match body {
            Body::Full(b) if !end_now => {
                s.queue.push_back(b);
                s.end = End::Plain;
                s.send = SendState::Ending;
            }
            Body::Stream { length } => {
                s.declared = length;
                s.send = SendState::Streaming;
            }
            _ => {
                s.send = SendState::Done;
                self.on_send_done(stream);
            }
        }
        self.settle();
        Ok(())
    }

    /// Queues a piece of a streaming response body; it goes out as the
    /// peer's flow-control windows allow (RFC 9113 §6.9), in frames no
    /// larger than its `SETTINGS_MAX_FRAME_SIZE`.
    pub fn send_body_chunk(&mut self, stream: StreamId, data: Bytes) -> Result<(), UserError> {
        self.check_open()?;
        let i = self.index(stream).ok_or(UserError::UnknownRequest)?;
        let s = &mut self.streams[i];
        if s.send != SendState::Streaming {
            return Err(UserError::NotStreaming);
        }
        let sent = s.body_sent + data.len() as u64;
        if s.declared.is_some_and(|d| sent > d) {
            return Err(UserError::LengthMismatch);
        }
        s.body_sent = sent;
        if !s.is_head && !data.is_empty() {
            s.queue.push_back(data);
        }
        Ok(())
    }

    /// Body bytes of `stream` queued and not yet framed (waiting for the
    /// peer's flow-control windows or for [`poll_transmit`](Self::poll_transmit));
    /// `None` once the stream is gone (finished or reset). A producer of a
    /// streaming body offers the next piece when this is small, so a slow
    /// reader holds back the producer instead of growing the queue.
    pub fn queued_body(&self, stream: StreamId) -> Option<usize> {
        let i = self.index(stream)?;
        Some(self.streams[i].queue.iter().map(Bytes::len).sum())
    }

    /// Ends a streaming response body.
    pub fn send_end(&mut self, stream: StreamId) -> Result<(), UserError> {
        self.send_end_with_trailers(stream, &[])
    }

    /// Ends a streaming response body with trailer fields (a HEADERS frame
    /// with END_STREAM after the data, RFC 9113 §8.1).
    pub fn send_end_with_trailers(
        &mut self,
        stream: StreamId,
        trailers: &[Header<'_>],
    ) -> Result<(), UserError> {
        self.check_open()?;
        let i = self.index(stream).ok_or(UserError::UnknownRequest)?;
        check_headers(trailers)?;
        let s = &mut self.streams[i];
        if s.send != SendState::Streaming {
            return Err(UserError::NotStreaming);
        }
        if s.declared.is_some_and(|d| d != s.body_sent) {
            return Err(UserError::LengthMismatch);
        }
        s.end = if trailers.is_empty() || s.is_head {
            End::Plain
        } else {
            End::Trailers(
                trailers
                    .iter()
                    .filter(|(n, _)| !is_connection_specific(n))
                    .map(|(n, v)| HeaderField::new(name_bytes(n), Bytes::copy_from_slice(v)))
                    .collect(),
            )
        };
        s.send = SendState::Ending;
        self.settle();
        Ok(())
    }

    /// Resets `stream` with `code` (RST_STREAM, RFC 9113 §6.4); queued
    /// response data is dropped.
    pub fn send_reset(&mut self, stream: StreamId, code: ErrorCode) -> Result<(), UserError> {
        self.check_open()?;
        self.index(stream).ok_or(UserError::UnknownRequest)?;
        self.reset_stream(stream, code, false);
        self.settle();
        Ok(())
    }

    /// Starts a graceful shutdown (RFC 9113 §6.8): GOAWAY `NO_ERROR` with
    /// the highest stream seen; streams above it are refused, open ones
    /// complete, then the connection closes. Idempotent.
    pub fn go_away(&mut self) {
        if self.goaway_sent.is_some() || self.state == State::Failed {
            return;
        }
        self.goaway_sent = Some(self.max_seen);
        GoAway {
            last_stream_id: self.max_seen,
            error_code: ErrorCode::NoError,
            debug_data: b"",
        }
        .encode(&mut self.tx);
        self.settle();
    }

    // ---- outputs -------------------------------------------------------------

    /// Appends everything ready to send to `out`: control frames and
    /// response heads first, then response data as the flow-control windows
    /// allow, round-robin over the streams. Returns how many bytes.
    #[must_use = "the bytes must be written to the peer"]
    pub fn poll_transmit(&mut self, out: &mut BytesMut) -> usize {
        let before = out.len();
        if out.is_empty() {
            std::mem::swap(out, &mut self.tx);
        } else {
            out.extend_from_slice(&self.tx);
            self.tx.clear();
        }
        if self.state != State::Failed {
            self.flush_data(out, None);
        }
        self.check_closed();
        out.len() - before
    }

    /// Like [`poll_transmit`](Self::poll_transmit), for vectored writes:
    /// appends the output to `out` as a list of buffers, in order, where
    /// each response DATA payload of at least [`VECTORED_MIN`] octets is a
    /// slice of the application's own `Bytes` rather than a copy. Returns
    /// how many bytes.
    #[must_use = "the bytes must be written to the peer"]
    pub fn poll_transmit_vectored(&mut self, out: &mut Vec<Bytes>) -> usize {
        let mut buf = std::mem::take(&mut self.tx);
        let mut total = 0;
        if self.state != State::Failed {
            total += self.flush_data(&mut buf, Some(out));
        }
        if !buf.is_empty() {
            total += buf.len();
            out.push(buf.split().freeze());
        }
        // Keep the spare capacity for the next control frames.
        if self.tx.is_empty() {
            self.tx = buf;
        }
        self.check_closed();
        total
    }

    /// The next event, in order. Taking a [`Event::Data`] gives its
    /// flow-control credit back to the peer (batched WINDOW_UPDATEs).
    #[must_use = "events must be handled"]
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front()?;
        if let Event::Data { stream, data } = &event {
            self.release(*stream, data.len() as u32);
        }
        Some(event)
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next be called.
    #[must_use = "the timer must be armed"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let streams = self.streams.iter().filter_map(|s| s.recv_deadline).min();
        [
            self.settings_deadline,
            self.stall_deadline,
            self.idle_deadline,
            streams,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Everything is written and nothing more will happen: write what the
    /// last `poll_transmit` returned, then close the socket.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether reading more from the socket is useful now: `false` while
    /// too much output waits for `poll_transmit`, and once the connection
    /// is closing.
    #[must_use]
    pub fn wants_input(&self) -> bool {
        !self.closed
            && !self.eof
            && self.state != State::Failed
            && self.tx.len() < self.config.max_tx_backlog
            && self.events.len() < MAX_EVENTS_PER_CALL
    }

    /// Gives back the room that buffers and queues grew to for past
    /// streams, keeping what the connection needs to go on (settings,
    /// windows, both HPACK dynamic tables, the recently closed streams).
    /// For a connection that has been idle a while: shrinking at every pause
    /// would re-allocate for every burst. Whatever still holds data (queued
    /// output or events, open streams, a half-received field block) is kept.
    pub fn shrink_idle(&mut self) {
        if self.tx.is_empty() {
            self.tx = BytesMut::new();
        }
        self.block = BytesMut::new();
        self.fields = Vec::new();
        if self.events.is_empty() {
            self.events = VecDeque::new();
        }
        if self.streams.is_empty() {
            self.streams = Vec::new();
        }
        self.assembler.shrink_idle();
    }

    /// Streams open or awaiting their response.
    #[must_use]
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// The connection ended with an error or is shutting down (GOAWAY sent
    /// or received, or the peer closed).
    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.state == State::Failed || self.goaway_sent.is_some() || self.peer_goaway || self.eof
    }

    // ---- frames -----------------------------------------------------------------

    fn on_frame(&mut self, f: Frame<'_>, raw: &Bytes) {
        // §3.4: the preface's SETTINGS comes first.
        if !self.got_settings && !matches!(&f, Frame::Settings(s) if !s.is_ack()) {
            return self.fail(ConnError::new(
                ConnErrorKind::SettingsExpected,
                ErrorCode::ProtocolError,
            ));
        }
        match &f {
            // §8.4: a client cannot push.
            Frame::PushPromise(_) => {
                return self.fail(ConnError::new(
                    ConnErrorKind::PushPromise,
                    ErrorCode::ProtocolError,
                ));
            }
            Frame::Headers(_) => self.continuations = 0,
            Frame::Continuation(_) => {
                self.continuations += 1;
                if self.continuations > self.config.max_continuation_frames {
                    return self.fail(ConnError::new(
                        ConnErrorKind::ContinuationFlood,
                        ErrorCode::EnhanceYourCalm,
                    ));
                }
            }
            _ => {}
        }
        match self.assembler.push(&f) {
            Err(e) => return self.fail(e.into()),
            Ok(BlockStep::Partial) => return,
            Ok(BlockStep::Complete(block)) => {
                self.on_header_block(block);
                // The decoded fields may be slices of the block: dropped
                // now, so that the assembler reuses its buffer.
                self.fields.clear();
                return;
            }
            Ok(BlockStep::NotHeaders) => {}
        }
        let now = self.now.unwrap_or_else(Instant::now);
        match f {
            Frame::Data(d) => self.on_data(d, raw),
            // §5.3.2: priority signals are accepted and ignored.
            Frame::Priority(_) if self.priorities.hit(now, self.config.max_priority) => {
                self.flood()
            }
            Frame::RstStream(r) => self.on_rst(r),
            Frame::Settings(s) => self.on_settings(s),
            Frame::Ping(p) if !p.ack => {
                if self.pings.hit(now, self.config.max_pings) {
                    return self.flood();
                }
                // §6.7: answer with the same payload.
                Ping {
                    ack: true,
                    payload: p.payload,
                }
                .encode(&mut self.tx);
            }
            Frame::GoAway(g) => {
                self.peer_goaway = true;
                self.events.push_back(Event::GoAway { code: g.error_code });
            }
            Frame::WindowUpdate(w) => self.on_window_update(w),
            // §5.5: ignored, but counted so they cannot be a free flood.
            Frame::Unknown(_) if self.empties.hit(now, self.config.max_empty_frames) => {
                self.flood()
            }
            _ => {}
        }
    }

    fn on_frame_error(&mut self, e: FrameError) {
        if !self.got_settings && e.stream_id().is_some() {
            // §3.4: the preface's SETTINGS comes first.
            return self.fail(ConnError::new(
                ConnErrorKind::SettingsExpected,
                ErrorCode::ProtocolError,
            ));
        }
        match e.stream_id() {
            // §6.10: nothing but CONTINUATION may interrupt a field block.
            Some(_) if self.assembler.expecting_continuation().is_some() => {
                self.fail(ConnError::new(
                    ConnErrorKind::Frame(e),
                    ErrorCode::ProtocolError,
                ));
            }
            // §6.9, §6.3, §6.1 stream errors on an idle stream are still
            // stream errors here: the RST_STREAM answers them.
            Some(id) => self.fault(id, e.error_code()),
            None => self.fail(e.into()),
        }
    }

    /// §5.1: the stream is idle (never opened and above every opened one,
    /// or even-numbered, which a client never opens).
    fn is_idle(&self, id: StreamId) -> bool {
        id > self.max_seen || !id.is_client_initiated()
    }

    fn on_header_block(&mut self, block: HeaderBlock) {
        let id = block.stream_id;
        let HeaderBlockKind::Headers {
            end_stream,
            priority,
        } = block.kind
        else {
            return;
        };
        self.fields.clear();
        // Decode first: the HPACK context must follow every block (§4.3).
        let too_large = match self.decoder.decode_into(&block.block, &mut self.fields) {
            Ok(()) => false,
            Err(e) if e.is_connection_error() => return self.fail(e.into()),
            Err(_) => true,
        };
        if !id.is_client_initiated() {
            return self.fail(ConnError::new(
                ConnErrorKind::IdleStream,
                ErrorCode::ProtocolError,
            ));
        }
        if let Some(i) = self.index(id) {
            return self.on_trailers(i, end_stream, too_large);
        }
        if id <= self.max_seen {
            return match self.recent.get(id) {
                Some(true) => {}
                Some(false) => self.fail(ConnError::new(
                    ConnErrorKind::ClosedStream,
                    ErrorCode::StreamClosed,
                )),
                None => self.fail(ConnError::new(
                    ConnErrorKind::IdleStream,
                    ErrorCode::ProtocolError,
                )),
            };
        }
        self.max_seen = id;
        let now = self.now.unwrap_or_else(Instant::now);
        if self.goaway_sent.is_some() || self.eof {
            // §6.8: after GOAWAY, new streams are not processed.
            return self.reset_stream(id, ErrorCode::RefusedStream, true);
        }
        if priority.is_some_and(|p| p.dependency == id) {
            // §5.3.1: a stream cannot depend on itself.
            return self.fault(id, ErrorCode::ProtocolError);
        }
        if self.streams.len() >= self.config.max_concurrent_streams as usize {
            // §5.1.2: refused, and counted like a reset (CVE-2023-44487).
            if self.resets.hit(now, self.config.max_resets) {
                return self.rapid_reset();
            }
            return self.reset_stream(id, ErrorCode::RefusedStream, true);
        }
        let parsed = if too_large {
            None
        } else {
            match request::request(&self.fields, end_stream) {
                Ok(p) => Some(p),
                // §8.1.1: malformed, a stream error PROTOCOL_ERROR.
                Err(_) => return self.fault(id, ErrorCode::ProtocolError),
            }
        };
        let mut s = Stream::new(
            id,
            self.config.initial_window_size,
            self.peer.initial_window_size,
            !end_stream,
        );
        let Some(p) = parsed else {
            // §10.5.1: the header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE.
            self.streams.push(s);
            return self.respond_locally(id, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        };
        if end_stream && p.content_length.is_some_and(|n| n != 0) {
            // §8.1.1: content-length disagrees with the (empty) body.
            return self.fault(id, ErrorCode::ProtocolError);
        }
        s.content_length = p.content_length;
        s.is_head = p.head.method() == Method::Head;
        if !end_stream {
            s.recv_deadline = self
                .now
                .zip(self.config.request_timeout)
                .map(|(n, t)| n + t);
        }
        self.streams.push(s);
        if p.content_length
            .is_some_and(|n| n > self.config.max_request_body)
        {
            return self.respond_locally(id, StatusCode::PAYLOAD_TOO_LARGE);
        }
        self.events.push_back(Event::Request {
            stream: id,
            head: p.head,
            end_stream,
        });
        if end_stream {
            self.events.push_back(Event::End {
                stream: id,
                trailers: None,
            });
        }
    }

    /// A second field block on an open stream: trailers (§8.1).
    fn on_trailers(&mut self, i: usize, end_stream: bool, too_large: bool) {
        let id = self.streams[i].id;
        if !self.streams[i].recv_open {
            // §5.1 half-closed (remote): STREAM_CLOSED.
            return self.fault(id, ErrorCode::StreamClosed);
        }
        // §8.1: trailers end the stream and carry no pseudo-headers.
        let trailers = match (end_stream && !too_large).then(|| request::trailers(&self.fields)) {
            Some(Ok(t)) => t,
            _ => return self.fault(id, ErrorCode::ProtocolError),
        };
        let s = &mut self.streams[i];
        if s.content_length.is_some_and(|n| n != s.received) {
            return self.fault(id, ErrorCode::ProtocolError);
        }
        s.recv_open = false;
        s.recv_deadline = None;
        self.events.push_back(Event::End {
            stream: id,
            trailers: Some(Box::new(trailers)),
        });
        self.remove_if_closed(id);
    }

    fn on_data(&mut self, d: Data<'_>, raw: &Bytes) {
        let flow = d.flow_controlled_len();
        let id = d.stream_id;
        // §6.9: every DATA frame counts against the connection window,
        // whatever its stream's state.
        if let Err(e) = self.recv_window.on_data(flow) {
            return self.fail(e.into());
        }
        let Some(i) = self.index(id) else {
            self.release_connection(flow);
            if self.is_idle(id) {
                // §5.1 idle: connection error PROTOCOL_ERROR.
                return self.fail(ConnError::new(
                    ConnErrorKind::IdleStream,
                    ErrorCode::ProtocolError,
                ));
            }
            // §5.1 closed: STREAM_CLOSED, unless we reset it (§5.4.2: frames
            // in flight are ignored).
            if self.recent.get(id) != Some(true) {
                self.fault(id, ErrorCode::StreamClosed);
            }
            return;
        };
        if !self.streams[i].recv_open {
            // §5.1 half-closed (remote): STREAM_CLOSED.
            self.release_connection(flow);
            return self.fault(id, ErrorCode::StreamClosed);
        }
        if self.streams[i].recv_window.on_data(flow).is_err() {
            // §6.9.1: a stream error FLOW_CONTROL_ERROR.
            self.release_connection(flow);
            return self.fault(id, ErrorCode::FlowControlError);
        }
        let len = d.data.len() as u32;
        // Padding is never seen by the application: credit it back now.
        let padding = flow - len;
        if padding > 0 {
            self.release(id, padding);
        }
        if len == 0 && !d.end_stream {
            let now = self.now.unwrap_or_else(Instant::now);
            if self.empties.hit(now, self.config.max_empty_frames) {
                return self.flood();
            }
        }
        let s = &mut self.streams[i];
        s.received += u64::from(len);
        s.recv_deadline = self
            .now
            .zip(self.config.request_timeout)
            .map(|(n, t)| n + t);
        if s.content_length.is_some_and(|n| s.received > n) {
            // §8.1.1: more data than content-length.
            self.release(id, len);
            return self.fault(id, ErrorCode::ProtocolError);
        }
        let over_connection = s.received > self.config.max_request_body || {
            let total: u64 = self
                .streams
                .iter()
                .filter(|s| s.recv_open)
                .map(|s| s.received)
                .sum();
            total > self.config.max_connection_body
        };
        let s = &mut self.streams[i];
        if over_connection {
            let answering = s.send != SendState::Idle;
            self.release(id, len);
            if answering {
                // Already answering: no room for a 413.
                return self.reset_stream(id, ErrorCode::Cancel, true);
            }
            self.events.push_back(Event::Reset {
                stream: id,
                code: ErrorCode::Cancel,
            });
            return self.respond_locally(id, StatusCode::PAYLOAD_TOO_LARGE);
        }
        if len > 0 {
            self.events.push_back(Event::Data {
                stream: id,
                data: raw.slice_ref(d.data),
            });
        }
        if d.end_stream {
            let s = &mut self.streams[i];
            if s.content_length.is_some_and(|n| n != s.received) {
                return self.fault(id, ErrorCode::ProtocolError);
            }
            s.recv_open = false;
            s.recv_deadline = None;
            self.events.push_back(Event::End {
                stream: id,
                trailers: None,
            });
            self.remove_if_closed(id);
        }
    }

    fn on_rst(&mut self, r: RstStream) {
        let id = r.stream_id;
        if self.is_idle(id) {
            // §6.4: RST_STREAM on an idle stream.
            return self.fail(ConnError::new(
                ConnErrorKind::IdleStream,
                ErrorCode::ProtocolError,
            ));
        }
        let now = self.now.unwrap_or_else(Instant::now);
        if self.resets.hit(now, self.config.max_resets) {
            return self.rapid_reset();
        }
        if let Some(i) = self.index(id) {
            self.streams.remove(i);
            self.recent.push(id, false);
            self.events.push_back(Event::Reset {
                stream: id,
                code: r.error_code,
            });
        }
    }

    fn on_settings(&mut self, s: Settings<'_>) {
        if s.is_ack() {
            if self.settings_pending {
                self.settings_pending = false;
                self.settings_deadline = None;
                // RFC 7541 §4.2: our smaller table applies once acknowledged.
                self.decoder
                    .set_max_table_size(self.config.header_table_size as usize);
            }
            return;
        }
        if self.got_settings {
            let now = self.now.unwrap_or_else(Instant::now);
            if self.settings_count.hit(now, self.config.max_settings) {
                return self.flood();
            }
        }
        self.got_settings = true;
        for p in s.iter() {
            if let Err(e) = self.apply_setting(p) {
                return self.fail(e);
            }
        }
        // §6.5.3: acknowledge once applied.
        Settings::ACK.encode(&mut self.tx);
    }

    fn apply_setting(&mut self, p: Setting) -> Result<(), ConnError> {
        match p {
            Setting::HeaderTableSize(v) => self.encoder.set_max_table_size(v as usize),
            Setting::InitialWindowSize(v) => {
                // §6.9.2: every stream window moves by the difference.
                let old = self.peer.initial_window_size;
                for s in &mut self.streams {
                    s.send_window.apply_initial_change(old, v)?;
                }
            }
            _ => {}
        }
        self.peer.apply(p);
        Ok(())
    }

    fn on_window_update(&mut self, w: WindowUpdate) {
        let id = w.stream_id;
        if id.is_zero() {
            // §6.9.1: overflowing the connection window is a connection error.
            if let Err(e) = self.send_window.increase(w.increment) {
                self.fail(e.into());
            }
            return;
        }
        match self.index(id) {
            Some(i) if self.streams[i].send_window.increase(w.increment).is_err() => {
                self.fault(id, ErrorCode::FlowControlError);
            }
            Some(_) => {}
            None if self.is_idle(id) => self.fail(ConnError::new(
                ConnErrorKind::IdleStream,
                ErrorCode::ProtocolError,
            )),
            // §6.9: WINDOW_UPDATE on a closed stream is ignored.
            None => {}
        }
    }

    // ---- helpers -------------------------------------------------------------

    fn send_preface(&mut self) {
        let c = &self.config;
        let mut params = Vec::with_capacity(6);
        params.push(Setting::MaxConcurrentStreams(c.max_concurrent_streams));
        params.push(Setting::EnablePush(false));
        if c.initial_window_size != DEFAULT_WINDOW {
            params.push(Setting::InitialWindowSize(c.initial_window_size));
        }
        if c.max_frame_size != MIN_MAX_FRAME_SIZE {
            params.push(Setting::MaxFrameSize(c.max_frame_size));
        }
        params.push(Setting::MaxHeaderListSize(c.max_header_list_size));
        if c.header_table_size != 4096 {
            params.push(Setting::HeaderTableSize(c.header_table_size));
        }
        frame::encode_settings(&params, &mut self.tx);
        if let Some(inc) = self.recv_window.take_update() {
            WindowUpdate {
                stream_id: StreamId::ZERO,
                increment: inc,
            }
            .encode(&mut self.tx);
        }
    }

    fn check_open(&self) -> Result<(), UserError> {
        if self.state == State::Failed || self.closed {
            return Err(UserError::Closed);
        }
        Ok(())
    }

    fn index(&self, id: StreamId) -> Option<usize> {
        self.streams.iter().position(|s| s.id == id)
    }

    /// A connection error: GOAWAY with the highest stream seen (§6.8),
    /// every stream dropped, input discarded from now on.
    fn fail(&mut self, error: ConnError) {
        if self.state == State::Failed {
            return;
        }
        self.state = State::Failed;
        GoAway {
            last_stream_id: self.max_seen,
            error_code: error.code(),
            debug_data: b"",
        }
        .encode(&mut self.tx);
        self.streams.clear();
        self.events.push_back(Event::Error { error });
    }

    fn flood(&mut self) {
        self.fail(ConnError::new(
            ConnErrorKind::Flood,
            ErrorCode::EnhanceYourCalm,
        ));
    }

    fn rapid_reset(&mut self) {
        self.fail(ConnError::new(
            ConnErrorKind::RapidReset,
            ErrorCode::EnhanceYourCalm,
        ));
    }

    /// A stream error the peer caused (§5.4.2). Counted with resets, so
    /// that a peer cannot make us reset streams without limit by sending
    /// malformed frames instead of RST_STREAM (the "MadeYouReset" variant of
    /// CVE-2023-44487).
    fn fault(&mut self, id: StreamId, code: ErrorCode) {
        let now = self.now.unwrap_or_else(Instant::now);
        if self.resets.hit(now, self.config.max_resets) {
            return self.rapid_reset();
        }
        self.reset_stream(id, code, true);
    }

    /// Sends RST_STREAM for `id`, drops the stream (reporting it when
    /// `notify`), and remembers it as reset by us.
    fn reset_stream(&mut self, id: StreamId, code: ErrorCode, notify: bool) {
        RstStream {
            stream_id: id,
            error_code: code,
        }
        .encode(&mut self.tx);
        if let Some(i) = self.index(id) {
            self.streams.remove(i);
            if notify {
                self.events.push_back(Event::Reset { stream: id, code });
            }
        }
        self.recent.push(id, true);
    }

    /// Answers `id` with `status` and no body on the connection's own
    /// authority (431, 413); then, if the request is still arriving,
    /// RST_STREAM `NO_ERROR` asks the client to stop sending (§8.1).
    fn respond_locally(&mut self, id: StreamId, status: StatusCode) {
        let date = self.config.date_header.then_some(self.date).flatten();
        self.encode_head(id, status, &[], Some(0), date, true);
        if let Some(i) = self.index(id) {
            self.streams[i].send = SendState::Done;
            self.streams[i].queue.clear();
        }
        self.on_send_done(id);
    }

    /// HPACK-encodes a response head and frames it into `tx`.
    fn encode_head(
        &mut self,
        id: StreamId,
        status: StatusCode,
        headers: &[Header<'_>],
        length: Option<u64>,
        date: Option<HttpDate>,
        end_stream: bool,
    ) {
        // Encoded straight from the handler's slices: no field is built
        // and nothing allocated unless a field enters the dynamic table.
        self.block.clear();
        let enc = &mut self.encoder;
        enc.begin_block(&mut self.block);
        enc.encode_slices(b":status", &status.digits(), &mut self.block);
        for (n, v) in headers {
            if is_connection_specific(n) {
                continue;
            }
            // §8.2.1: field names in lowercase.
            if n.bytes().any(|b| b.is_ascii_uppercase()) {
                let lower = n.to_ascii_lowercase();
                enc.encode_slices(lower.as_bytes(), v, &mut self.block);
            } else {
                enc.encode_slices(n.as_bytes(), v, &mut self.block);
            }
        }
        if let Some(n) = length {
            let mut b = itoa::Buffer::new();
            enc.encode_slices(b"content-length", b.format(n).as_bytes(), &mut self.block);
        }
        if let Some(d) = date {
            enc.encode_slices(b"date", d.as_bytes(), &mut self.block);
        }
        frame::encode_header_block(
            id,
            &self.block,
            end_stream,
            self.peer.max_frame_size,
            &mut self.tx,
        );
    }

    /// Our END_STREAM is queued for `id`. If the peer is still sending,
    /// RST_STREAM `NO_ERROR` tells it to stop (§8.1); either way the stream
    /// is closed once both halves are.
    fn on_send_done(&mut self, id: StreamId) {
        let Some(i) = self.index(id) else { return };
        if self.streams[i].recv_open {
            RstStream {
                stream_id: id,
                error_code: ErrorCode::NoError,
            }
            .encode(&mut self.tx);
            self.streams.remove(i);
            self.recent.push(id, true);
            return;
        }
        self.remove_if_closed(id);
    }

    fn remove_if_closed(&mut self, id: StreamId) {
        if let Some(i) = self.index(id) {
            if self.streams[i].is_closed() {
                self.streams.remove(i);
                self.recent.push(id, false);
            }
        }
    }

    /// The application took `len` octets of `id`'s body: credit them back
    /// to the connection and, while it still sends, to the stream.
    fn release(&mut self, id: StreamId, len: u32) {
        self.release_connection(len);
        if self.state == State::Failed {
            return;
        }
        if let Some(i) = self.index(id) {
            let s = &mut self.streams[i];
            if s.recv_open {
                s.recv_window.release(len);
                if let Some(inc) = s.recv_window.take_update() {
                    WindowUpdate {
                        stream_id: id,
                        increment: inc,
                    }
                    .encode(&mut self.tx);
                }
            }
        }
    }

    fn release_connection(&mut self, len: u32) {
        self.recv_window.release(len);
        if self.state == State::Failed {
            return;
        }
        if let Some(inc) = self.recv_window.take_update() {
            WindowUpdate {
                stream_id: StreamId::ZERO,
                increment: inc,
            }
            .encode(&mut self.tx);
        }
    }

    /// Frames queued response data into `out`, one frame per stream per
    /// round, while the windows allow (§6.9); then ends and trailers.
    /// With `chunks`, large payloads go there as they are, after what
    /// `out` holds so far (which then goes there too); returns the octets
    /// moved to `chunks`.
    fn flush_data(&mut self, out: &mut BytesMut, mut chunks: Option<&mut Vec<Bytes>>) -> usize {
        let mut moved = 0;
        let mut progressed_any = false;
        let mut done: Vec<StreamId> = Vec::new();
        loop {
            let mut progressed = false;
            let n = self.streams.len();
            for k in 0..n {
                let i = (self.rr + k) % n;
                let max_frame = self.peer.max_frame_size;
                let conn_avail = self.send_window.available();
                let s = &mut self.streams[i];
                if matches!(s.send, SendState::Idle | SendState::Done) {
                    continue;
                }
                if let Some(front) = s.queue.front_mut() {
                    let win = conn_avail.min(s.send_window.available()).min(max_frame) as usize;
                    if win == 0 {
                        continue;
                    }
                    let take = win.min(front.len());
                    let chunk = front.split_to(take);
                    if front.is_empty() {
                        s.queue.pop_front();
                    }
                    let last = s.queue.is_empty()
                        && s.send == SendState::Ending
                        && matches!(s.end, End::Plain);
                    match chunks.as_deref_mut() {
                        Some(list) if chunk.len() >= VECTORED_MIN => {
                            if out.capacity() - out.len() < FRAME_HEADER_LEN {
                                // One allocation holds the frame headers of
                                // many frames (each handed out as a slice of
                                // it), and is reused once they are written.
                                out.reserve(HEADER_ROOM);
                            }
                            FrameHeader {
                                length: take as u32,
                                kind: frame::kind::DATA,
                                flags: if last { frame::flags::END_STREAM } else { 0 },
                                stream_id: s.id,
                            }
                            .encode(out);
                            moved += out.len() + chunk.len();
                            list.push(out.split().freeze());
                            list.push(chunk);
                        }
                        _ => Data {
                            stream_id: s.id,
                            data: &chunk,
                            end_stream: last,
                            pad_len: None,
                        }
                        .encode(out),
                    }
                    let _ = s.send_window.consume(take as u32);
                    let _ = self.send_window.consume(take as u32);
                    progressed = true;
                    if last {
                        s.send = SendState::Done;
                        done.push(s.id);
                    }
                } else if s.send == SendState::Ending {
                    match std::mem::take(&mut s.end) {
                        End::Trailers(fields) => {
                            let id = s.id;
                            self.block.clear();
                            self.encoder.encode(&fields, &mut self.block);
                            let max = self.peer.max_frame_size;
                            frame::encode_header_block(id, &self.block, true, max, out);
                        }
                        _ => Data {
                            stream_id: s.id,
                            data: b"",
                            end_stream: true,
                            pad_len: None,
                        }
                        .encode(out),
                    }
                    let s = &mut self.streams[i];
                    s.send = SendState::Done;
                    done.push(s.id);
                    progressed = true;
                }
            }
            self.rr = self.rr.wrapping_add(1);
            for id in done.drain(..) {
                self.on_send_done(id);
            }
            // RST_STREAM(NO_ERROR) for streams still receiving goes after
            // their END_STREAM.
            if !self.tx.is_empty() {
                out.extend_from_slice(&self.tx);
                self.tx.clear();
            }
            progressed_any |= progressed;
            if !progressed {
                break;
            }
        }
        // Zero-window stall (§6.9): data waits and no window opens.
        let blocked = self
            .streams
            .iter()
            .any(|s| !s.queue.is_empty() && s.send != SendState::Idle);
        if !blocked || progressed_any {
            self.stall_deadline = None;
        }
        if blocked && self.stall_deadline.is_none() {
            if let (Some(now), Some(t)) = (self.now, self.config.send_stall_timeout) {
                self.stall_deadline = Some(now + t);
            }
        }
        moved
    }

    /// Re-arms timers after any input or command.
    fn settle(&mut self) {
        let Some(now) = self.now else {
            return;
        };
        if self.settings_pending && self.settings_deadline.is_none() {
            self.settings_deadline = Some(now + self.config.settings_timeout);
        }
        let idle = self.streams.is_empty() && self.state != State::Failed && !self.is_draining();
        self.idle_deadline = match (idle, self.idle_deadline, self.config.idle_timeout) {
            (true, Some(d), _) => Some(d),
            (true, None, Some(t)) => Some(now + t),
            _ => None,
        };
        if self.state == State::Failed || self.closed {
            self.settings_deadline = None;
            self.stall_deadline = None;
        }
        self.check_closed();
    }

    /// The connection failed, or it is draining with no stream left: only
    /// the output remains to be written (a field block half-received then
    /// is dropped; its stream would be refused anyway).
    fn is_over(&self) -> bool {
        self.closed
            || self.state == State::Failed
            || (self.is_draining() && self.streams.is_empty())
    }

    fn check_closed(&mut self) {
        if self.closed || !self.tx.is_empty() {
            return;
        }
        if self.is_over() {
            self.closed = true;
            self.idle_deadline = None;
            self.settings_deadline = None;
            self.stall_deadline = None;
        }
    }
}

/// §8.2.2: fields that must not appear in HTTP/2.
fn is_connection_specific(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ]
    .iter()
    .any(|c| c.eq_ignore_ascii_case(name))
}

/// A lowercase field name (§8.2.1), without copying the common ones.
fn name_bytes(name: &str) -> Bytes {
    const COMMON: [&str; 8] = [
        "server",
        "content-type",
        "cache-control",
        "set-cookie",
        "location",
        "allow",
        "vary",
        "etag",
    ];
    if let Some(c) = COMMON.iter().find(|c| c.eq_ignore_ascii_case(name)) {
        return Bytes::from_static(c.as_bytes());
    }
    Bytes::from(name.to_ascii_lowercase().into_bytes())
}

#[doc(hidden)]
impl ServerConnection {
    /// Octets queued in the connection's own output buffer (for the fuzz
    /// target's memory bound).
    pub fn buffered_output(&self) -> usize {
        self.tx.len()
            + self
                .streams
                .iter()
                .map(|s| s.queue.iter().map(Bytes::len).sum::<usize>())
                .sum::<usize>()
    }

    /// Events queued and not yet polled.
    pub fn queued_events(&self) -> usize {
        self.events.len()
    }
}
