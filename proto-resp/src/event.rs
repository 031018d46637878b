//! What a [`Connection`](crate::Connection) reports.

use crate::codec::Protocol;
use crate::frame::Frame;

/// Identifies one request sent on a [`Connection`](crate::Connection).
///
/// Ids increase by one per request, so a driver may keep its pending
/// requests in a queue and check that replies arrive in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReqId(pub(crate) u64);

impl ReqId {
    /// The id as an integer (0 for the first request).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// An output of the connection state machine, taken with
/// [`Connection::poll_event`](crate::Connection::poll_event).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake finished; requests sent before it are now on their way.
    Ready {
        /// The protocol the server agreed to speak.
        protocol: Protocol,
    },
    /// The reply to request `id`. A server error (`-ERR ...`) is a reply
    /// like any other: check [`Frame::is_error`].
    ///
    /// For `SUBSCRIBE`-family commands, which the server confirms once per
    /// channel, `frame` is an array of all the confirmations (each a RESP2
    /// array or a RESP3 push), or the error if the command was refused.
    Reply {
        /// The request this answers.
        id: ReqId,
        /// The reply.
        frame: Frame,
    },
    /// Out-of-band data matched to no request: a RESP3 push (pub/sub
    /// message, client-side caching `invalidate`), a RESP2 pub/sub
    /// `message`/`pmessage`/`smessage` array, or an unsolicited
    /// (un)subscribe notice (e.g. `sunsubscribe` after a slot migration).
    Push {
        /// The frame as received.
        frame: Frame,
    },
}
