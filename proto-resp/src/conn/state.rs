//! The connection's transition tables, in one place: how a command is
//! classified when sent, where an incoming frame is routed, and how the
//! handshake advances.

use crate::codec::Protocol;
use crate::error::UsageError;
use crate::event::ReqId;
use crate::frame::Frame;

use super::pubsub::{SubKind, Subscriptions, is_message};

/// Lifecycle of a connection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Phase {
    /// Handshake replies outstanding; user requests are held back.
    Handshaking,
    /// Normal operation.
    Ready,
    /// The peer closed cleanly with nothing outstanding.
    Closed,
    /// Fatal, sticky.
    Failed(crate::Error),
}

/// A handshake command the connection sent on its own behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Hello,
    Auth,
    SetName,
    Select,
}

/// What a pending request waits for.
#[derive(Debug)]
pub(crate) enum Expect {
    /// Exactly one reply.
    One,
    /// One confirmation per channel. Boxed: this rare case would otherwise
    /// make every queued request five times larger (a 1000-deep pipeline
    /// queues 1000 of them).
    PubSub(Box<SubWait>),
    /// `RESET`: leaves subscribed mode and returns to RESP2.
    Reset,
    /// A user `HELLO`: may switch the protocol.
    Hello,
}

/// The confirmations a subscribe-family command waits for.
#[derive(Debug)]
pub(crate) struct SubWait {
    pub(crate) kind: SubKind,
    /// `None`: one per current subscription, decided when the command
    /// reaches the head of the queue.
    pub(crate) remaining: Option<usize>,
    pub(crate) got: Vec<Frame>,
}

/// Who is waiting for a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    User(ReqId),
    Handshake(Step),
}

/// One request awaiting its reply, in wire order.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) owner: Owner,
    pub(crate) expect: Expect,
}

/// Every command name [`classify`] treats specially.
const SPECIAL: [&[u8]; 10] = [
    b"SUBSCRIBE",
    b"PSUBSCRIBE",
    b"SSUBSCRIBE",
    b"UNSUBSCRIBE",
    b"PUNSUBSCRIBE",
    b"SUNSUBSCRIBE",
    b"RESET",
    b"HELLO",
    b"MONITOR",
    b"CLIENT",
];

/// For each first letter, one bit per length (below 16) of a name in
/// [`SPECIAL`]: one lookup rules out nearly every other command.
const SPECIAL_SHAPES: [u16; 26] = {
    let mut t = [0u16; 26];
    let mut i = 0;
    while i < SPECIAL.len() {
        let name = SPECIAL[i];
        assert!(name.len() < 16 && name[0].is_ascii_uppercase());
        t[(name[0] - b'A') as usize] |= 1 << name.len();
        i += 1;
    }
    t
};

/// False when `name` is certainly none of [`SPECIAL`] (in any case).
pub(crate) fn may_be_special(name: &[u8]) -> bool {
    let Some(&first) = name.first() else {
        return false;
    };
    let letter = first.to_ascii_uppercase().wrapping_sub(b'A');
    name.len() < 16 && letter < 26 && SPECIAL_SHAPES[letter as usize] & (1 << name.len()) != 0
}

/// Classifies a command by its arguments when it is sent.
pub(crate) fn classify<'a>(mut args: impl Iterator<Item = &'a [u8]>) -> Result<Expect, UsageError> {
    let name = args.next().ok_or(UsageError::EmptyCommand)?;
    if !may_be_special(name) {
        return Ok(Expect::One);
    }
    if let Some(kind) = SubKind::parse(name) {
        let n = args.count();
        return Ok(match (kind.subscribe, n) {
            // No channel: the server answers with one arity error.
            (true, 0) => Expect::One,
            (false, 0) => Expect::PubSub(Box::new(SubWait {
                kind,
                remaining: None,
                got: Vec::new(),
            })),
            (_, n) => Expect::PubSub(Box::new(SubWait {
                kind,
                remaining: Some(n),
                got: Vec::with_capacity(n.min(64)),
            })),
        });
    }
    let is = |s: &str| name.eq_ignore_ascii_case(s.as_bytes());
    if is("RESET") {
        Ok(Expect::Reset)
    } else if is("HELLO") {
        Ok(Expect::Hello)
    } else if is("MONITOR") {
        Err(UsageError::Unsupported("MONITOR"))
    } else if is("CLIENT") {
        let sub = args.next().unwrap_or_default();
        let mode = args.next().unwrap_or_default();
        if sub.eq_ignore_ascii_case(b"REPLY") && !mode.eq_ignore_ascii_case(b"ON") {
            Err(UsageError::Unsupported("CLIENT REPLY OFF|SKIP"))
        } else {
            Ok(Expect::One)
        }
    } else {
        Ok(Expect::One)
    }
}

/// Where an incoming frame goes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// An out-of-band push.
    Push,
    /// An (un)subscribe confirmation of this kind, owed to the head request
    /// if `to_head`, otherwise unsolicited (delivered as a push).
    Confirmation { kind: SubKind, to_head: bool },
    /// The reply to the head request.
    Reply,
}

/// Routes `frame` (RESP3 spec, "Push type"; Redis pub/sub docs for the
/// RESP2 array forms).
pub(crate) fn route(
    frame: &Frame,
    protocol: Protocol,
    subs: &Subscriptions,
    head: Option<&Expect>,
) -> Route {
    let head_kind = match head {
        Some(Expect::PubSub(w)) => Some(w.kind),
        _ => None,
    };
    let confirmation = |kind: SubKind| Route::Confirmation {
        kind,
        to_head: head_kind == Some(kind),
    };
    match frame {
        Frame::Push(_) => match frame.push_kind().and_then(SubKind::parse) {
            Some(kind) => confirmation(kind),
            None => Route::Push,
        },
        // In RESP2, pub/sub traffic is made of arrays, and only arrives
        // while subscribed (or as the confirmation of a pending command).
        Frame::Array(_) if protocol == Protocol::Resp2 => {
            let Some(kind) = frame.push_kind() else {
                return Route::Reply;
            };
            match SubKind::parse(kind) {
                Some(k) if head_kind == Some(k) || subs.active() => confirmation(k),
                None if subs.active() && is_message(kind) => Route::Push,
                _ => Route::Reply,
            }
        }
        _ => Route::Reply,
    }
}

/// What the handshake does next after a reply to `step`.
#[derive(Debug, PartialEq)]
pub(crate) enum Handshake {
    /// Keep waiting (more steps outstanding, or `SELECT` to send).
    Continue,
    /// `HELLO` is not understood: redo the handshake in RESP2.
    FallBackToResp2,
    /// The server refused: fail with its message.
    Reject(String),
}

/// Advances the handshake on the reply to `step`.
pub(crate) fn handshake(step: Step, reply: &Frame) -> Handshake {
    let Some(err) = reply.as_error() else {
        return Handshake::Continue;
    };
    let lower = err.to_ascii_lowercase();
    let unknown_hello = lower.starts_with(b"noproto")
        || (lower.starts_with(b"err") && contains(&lower, b"unknown command"));
    if step == Step::Hello && unknown_hello {
        Handshake::FallBackToResp2
    } else {
        Handshake::Reject(String::from_utf8_lossy(err).into_owned())
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
