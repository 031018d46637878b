//! Per-stream state (RFC 9113 §5.1) as the server sees it.
//!
//! The RFC's states map onto two halves:
//!
//! | RFC 9113 §5.1        | `recv_open` | `send`                      |
//! |----------------------|-------------|-----------------------------|
//! | idle                 | (no entry; id above the highest seen)     ||
//! | open                 | true        | not `Done`                  |
//! | half-closed (remote) | false       | not `Done`                  |
//! | half-closed (local)  | true        | `Done`                      |
//! | closed               | (entry removed; remembered in `Recent`)   ||
//!
//! HEADERS opens a stream (to half-closed (remote) with END_STREAM); the
//! peer's END_STREAM closes `recv`; our END_STREAM makes `send` `Done`;
//! RST_STREAM either way removes the entry. A server never reserves streams
//! (no push), so the reserved states do not occur.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::h2::flow::{RecvWindow, Window};
use crate::h2::frame::StreamId;
use crate::h2::hpack::HeaderField;

/// The sending half.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendState {
    /// No response HEADERS yet.
    Idle,
    /// HEADERS sent; the application streams the body.
    Streaming,
    /// The application ended the response; queued data may remain.
    Ending,
    /// END_STREAM is on the wire (or queued in order for it).
    Done,
}

/// What follows the queued data once it is sent.
#[derive(Debug, Default)]
pub(crate) enum End {
    /// The response is not finished.
    #[default]
    Open,
    /// END_STREAM on the last DATA frame (or an empty one).
    Plain,
    /// A trailer HEADERS frame with END_STREAM, encoded when it is its turn
    /// so that HPACK blocks go out in encoding order.
    Trailers(Vec<HeaderField>),
}

/// One open (or half-closed) stream.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) id: StreamId,
    /// The peer may still send DATA or trailers.
    pub(crate) recv_open: bool,
    pub(crate) send: SendState,
    pub(crate) recv_window: RecvWindow,
    pub(crate) send_window: Window,
    /// Declared request `content-length` (RFC 9113 §8.1.1).
    pub(crate) content_length: Option<u64>,
    /// Request body octets received.
    pub(crate) received: u64,
    /// The request was HEAD: response bodies are dropped.
    pub(crate) is_head: bool,
    /// Response data not yet framed.
    pub(crate) queue: VecDeque<Bytes>,
    pub(crate) end: End,
    /// The response's declared length when streaming, and what was sent.
    pub(crate) declared: Option<u64>,
    pub(crate) body_sent: u64,
    /// While the request is still arriving: when it times out if nothing
    /// more comes ([`Config::request_timeout`](crate::h2::Config)).
    pub(crate) recv_deadline: Option<std::time::Instant>,
}

impl Stream {
    pub(crate) fn new(id: StreamId, recv_window: u32, send_window: u32, recv_open: bool) -> Self {
        Stream {
            id,
            recv_open,
            send: SendState::Idle,
            recv_window: RecvWindow::new(recv_window, recv_window),
            send_window: Window::new(send_window),
            content_length: None,
            received: 0,
            is_head: false,
            queue: VecDeque::new(),
            end: End::Open,
            declared: None,
            body_sent: 0,
            recv_deadline: None,
        }
    }

    /// Both halves are finished: the stream is closed (§5.1).
    pub(crate) fn is_closed(&self) -> bool {
        !self.recv_open && self.send == SendState::Done
    }
}

/// Recently closed streams, so that late frames on them get the answer of
/// §5.1 "closed" rather than "idle". Bounded: older closed streams are
/// indistinguishable from skipped identifiers, which §5.1.1 also closes.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    items: VecDeque<(StreamId, bool)>,
}

/// How many closed streams are remembered.
const RECENT: usize = 64;

impl Recent {
    /// Remembers `id`; `reset_by_us` when we sent RST_STREAM, after which
    /// frames in flight are ignored (§5.4.2).
    pub(crate) fn push(&mut self, id: StreamId, reset_by_us: bool) {
        if self.items.len() == RECENT {
            self.items.pop_front();
        }
        self.items.push_back((id, reset_by_us));
    }

    /// `Some(reset_by_us)` when `id` closed recently.
    pub(crate) fn get(&self, id: StreamId) -> Option<bool> {
        self.items.iter().find(|(i, _)| *i == id).map(|(_, r)| *r)
    }
}
