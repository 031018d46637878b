//! Streaming response bodies: [`BodyStream`] and the [`channel`] that
//! is the usual way to make one.
//!
//! A streamed body goes out as it is produced: chunked on HTTP/1.1 (RFC
//! 9112 §7.1), DATA frames on HTTP/2 (RFC 9113 §6.1), and the connection
//! asks for the next piece only when the previous one was handed to the
//! protocol machine (HTTP/1.1: written to the socket; HTTP/2: the stream's
//! queue is short), so a fast producer waits for a slow client instead of
//! filling memory.

use bytes::Bytes;
use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A response body produced piece by piece, on the worker that serves the
/// request (so it need not be `Send`).
pub trait BodyStream: 'static {
    /// The next piece of the body, `None` at its end. Empty pieces are
    /// skipped.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>>;
}

/// A streamed body inside a [`Response`](super::Response).
pub(crate) struct StreamBody(Pin<Box<dyn BodyStream>>);

impl StreamBody {
    pub(crate) fn new(body: impl BodyStream) -> Self {
        StreamBody(Box::pin(body))
    }

    /// The next piece; `Err` when producing it panicked.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, ()>> {
        let body = &mut self.0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body.as_mut().poll_next(cx)))
        {
            Ok(Poll::Ready(piece)) => Poll::Ready(Ok(piece)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => {
                tracing::error!("a response body stream panicked; closing the stream");
                Poll::Ready(Err(()))
            }
        }
    }
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamBody")
    }
}

/// The receiving side of a connection: it went away (the client closed
/// the connection or reset the stream) before the body was finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the response body's receiver is gone")
    }
}

impl std::error::Error for Closed {}

/// What the two ends of a [`channel`] share: at most one piece in hand.
#[derive(Default)]
struct Slot {
    piece: Option<Bytes>,
    /// The sender is gone: the body ends once `piece` is taken.
    done: bool,
    /// The receiver is gone: sends fail.
    closed: bool,
    receiver: Option<Waker>,
    sender: Option<Waker>,
}

/// A body fed by a task: `(sender, body)`; put `body` in
/// [`Response::stream`](super::Response::stream) and send pieces from a
/// task the handler spawns. Dropping the sender ends the body. The
/// channel holds one piece, so [`BodySender::send`] waits until the
/// connection took the previous one.
///
/// ```
/// use weft::http::{Request, Response, Router, body};
///
/// let router = Router::new().get("/count", |_req: Request| async {
///     let (tx, rx) = body::channel();
///     weft::rt::spawn(async move {
///         for i in 0..3 {
///             if tx.send(format!("{i}\n")).await.is_err() {
///                 return; // the client went away
///             }
///         }
///     });
///     Response::stream(rx).content_type("text/plain")
/// });
/// ```
pub fn channel() -> (BodySender, BodyReceiver) {
    let slot = Rc::new(RefCell::new(Slot::default()));
    (BodySender(slot.clone()), BodyReceiver(slot))
}

/// The sending end of a [`channel`].
pub struct BodySender(Rc<RefCell<Slot>>);

impl BodySender {
    /// Sends one piece, waiting until the connection took the previous
    /// one; `Err(Closed)` once the connection is gone.
    pub async fn send(&self, piece: impl Into<Bytes>) -> Result<(), Closed> {
        let mut piece = Some(piece.into());
        poll_fn(|cx| {
            let mut slot = self.0.borrow_mut();
            if slot.closed {
                return Poll::Ready(Err(Closed));
            }
            if slot.piece.is_some() {
                slot.sender = Some(cx.waker().clone());
                return Poll::Pending;
            }
            slot.piece = piece.take();
            if let Some(w) = slot.receiver.take() {
                w.wake();
            }
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// Whether the connection is gone (sends would fail).
    pub fn is_closed(&self) -> bool {
        self.0.borrow().closed
    }
}

impl Drop for BodySender {
    fn drop(&mut self) {
        let mut slot = self.0.borrow_mut();
        slot.done = true;
        if let Some(w) = slot.receiver.take() {
            w.wake();
        }
    }
}

impl fmt::Debug for BodySender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodySender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The receiving end of a [`channel`]: the body to respond with.
pub struct BodyReceiver(Rc<RefCell<Slot>>);

impl BodyStream for BodyReceiver {
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut slot = self.0.borrow_mut();
        if let Some(piece) = slot.piece.take() {
            if let Some(w) = slot.sender.take() {
                w.wake();
            }
            return Poll::Ready(Some(piece));
        }
        if slot.done {
            return Poll::Ready(None);
        }
        slot.receiver = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for BodyReceiver {
    fn drop(&mut self) {
        let mut slot = self.0.borrow_mut();
        slot.closed = true;
        slot.piece = None;
        if let Some(w) = slot.sender.take() {
            w.wake();
        }
    }
}

impl fmt::Debug for BodyReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BodyReceiver")
    }
}
