//! Turning decoded reply frames into responses for the waiting requests.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Buf, Bytes, BytesMut};

use super::state::{MetaKind, Op, Outcome};
use super::{Connection, Protocol};
use crate::binary::{self, Opcode, Status};
use crate::error::{DecodeError, ProtocolError};
use crate::event::{Item, Response, ServerError, ServerErrorKind, Stat};
use crate::meta;
use crate::text::{self, encode::StoreMode};
use crate::wire::parse_u64;

/// Where `s` lies inside the buffer starting at `base`.
fn range(base: usize, s: &[u8]) -> Range<usize> {
    if s.is_empty() {
        return 0..0;
    }
    let start = (s.as_ptr() as usize).wrapping_sub(base);
    start..start + s.len()
}

/// Splits the `n` bytes of a decoded frame off `buf` and rebuilds the frame
/// over them as zero-copy `Bytes` slices.
///
/// When the frame's byte strings lie in the buffer in the order `map` visits
/// them (a `VALUE` line's key before its data block, and so on), each is
/// split straight off `buf` and the bytes between them are skipped: one
/// reference-count increment per string, where slicing a frozen chunk of the
/// whole frame costs one more per frame plus its release. This is the
/// per-hit cost of a multi-get.
macro_rules! take_frame {
    ($buf:expr, $frame:expr, $n:expr) => {{
        let n: usize = $n;
        let base = $buf.as_ptr() as usize;
        let (mut in_order, mut end) = (true, 0);
        let ranges = $frame.map(|s: &[u8]| {
            let r = range(base, s);
            if !r.is_empty() {
                in_order &= r.start >= end;
                end = r.end;
            }
            r
        });
        let buf: &mut BytesMut = $buf;
        if in_order && end <= n {
            let mut at = 0;
            let frame = ranges.map(|r| {
                if r.is_empty() {
                    return Bytes::new();
                }
                buf.advance(r.start - at);
                at = r.end;
                buf.split_to(r.len()).freeze()
            });
            buf.advance(n - at);
            frame
        } else {
            let chunk = buf.split_to(n).freeze();
            ranges.map(|r| chunk.slice(r))
        }
    }};
}

fn unexpected(op: Op, reply: &'static str) -> ProtocolError {
    ProtocolError::UnexpectedReply {
        request: op.name(),
        reply,
    }
}

impl Connection {
    /// Reads one reply frame; `Ok(false)` when `buf` holds no whole frame.
    pub(super) fn read_one(&mut self, buf: &mut BytesMut) -> Result<bool, ProtocolError> {
        let limits = &self.config.limits;
        match self.config.protocol {
            Protocol::Binary => {
                let Some((frame, n)) = binary::decode(buf, limits)? else {
                    return Ok(false);
                };
                let resp = take_frame!(buf, frame, n);
                self.on_binary(resp)?;
            }
            Protocol::Meta if meta::decode::is_meta_reply(buf) == Some(true) => {
                let Some((frame, n)) = meta::decode(buf, limits)? else {
                    return Ok(false);
                };
                let reply = take_frame!(buf, frame, n);
                self.on_meta(reply)?;
            }
            Protocol::Meta if buf.len() < 3 => return Ok(false),
            Protocol::Text | Protocol::Meta => {
                let Some((frame, n)) = text::decode(buf, limits)? else {
                    return Ok(false);
                };
                let reply = take_frame!(buf, frame, n);
                self.on_text(reply)?;
            }
        }
        Ok(true)
    }

    fn on_error(&mut self, err: ServerError) -> Result<(), ProtocolError> {
        if let Some(err) = self.pending.route_error(err)? {
            self.pending
                .complete_front(Outcome::Reply(Response::Error(err)), &mut self.events);
        }
        Ok(())
    }

    /// One key of a retrieval answered (hit recorded by the caller, or a
    /// miss). A single-key retrieval is then complete with what it collected.
    fn get_part_done(&mut self, last: bool) {
        let outcome = if last {
            Outcome::Collected
        } else {
            Outcome::Reply(Response::NoReply)
        };
        self.pending.complete_front(outcome, &mut self.events);
    }

    fn done(&mut self, r: Response) {
        self.pending
            .complete_front(Outcome::Reply(r), &mut self.events);
    }

    /// Text replies (protocol.txt): every flavour but binary.
    fn on_text(&mut self, reply: text::Reply<Bytes>) -> Result<(), ProtocolError> {
        use text::Reply as R;
        let (kind, message) = match reply {
            R::Error(m) => (ServerErrorKind::Error, m),
            R::ClientError(m) => (ServerErrorKind::Client, m),
            R::ServerError(m) => (ServerErrorKind::Server, m),
            reply => return self.on_text_reply(reply),
        };
        self.on_error(ServerError { kind, message })
    }

    fn on_text_reply(&mut self, reply: text::Reply<Bytes>) -> Result<(), ProtocolError> {
        use text::Reply as R;
        self.pending.route_plain(&mut self.events)?;
        let front = *self.pending.front().ok_or(ProtocolError::Unsolicited)?;
        match (front.op, reply) {
            (Op::Get { keys }, R::Value(v)) => {
                let item = Item {
                    key: v.key,
                    flags: v.flags,
                    cas: v.cas,
                    value: v.data,
                };
                self.pending.push_line_value(front.id, item, keys)?;
            }
            (Op::Get { .. } | Op::Stats, R::End) => {
                self.pending
                    .complete_front(Outcome::Collected, &mut self.events);
            }
            (Op::Stats, R::Stat { name, value }) => {
                let max = self.config.limits.max_stats;
                self.pending
                    .push_stat(front.id, Stat { name, value }, max)?;
            }
            (Op::Store(_), R::Stored) => self.done(Response::Stored),
            (Op::Store(_), R::NotStored) => self.done(Response::NotStored),
            (Op::Store(_), R::Exists) => self.done(Response::Exists),
            (Op::Store(_) | Op::Delete | Op::Counter | Op::Touch, R::NotFound) => {
                self.done(Response::NotFound)
            }
            (Op::Delete, R::Deleted) => self.done(Response::Deleted),
            (Op::Counter, R::Number(n)) => self.done(Response::Counter(n)),
            (Op::Touch, R::Touched) => self.done(Response::Touched),
            (Op::FlushAll | Op::Verbosity, R::Ok) => self.done(Response::Ok),
            (Op::Version, R::Version(v)) => self.done(Response::Version(v)),
            (op, r) => return Err(unexpected(op, r.kind())),
        }
        Ok(())
    }

    /// Meta replies (protocol.txt meta sections).
    fn on_meta(&mut self, reply: meta::Reply<Bytes>) -> Result<(), ProtocolError> {
        use meta::Reply as R;
        let (kind, message) = match reply {
            R::Error(m) => (ServerErrorKind::Error, m),
            R::ClientError(m) => (ServerErrorKind::Client, m),
            R::ServerError(m) => (ServerErrorKind::Server, m),
            reply => return self.on_meta_reply(reply),
        };
        self.on_error(ServerError { kind, message })
    }

    fn on_meta_reply(&mut self, reply: meta::Reply<Bytes>) -> Result<(), ProtocolError> {
        use meta::Reply as R;
        let opaque = match reply.flags().and_then(|f| f.opaque()) {
            Some(t) => Some(
                parse_u64(t)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or(ProtocolError::OpaqueMismatch)?,
            ),
            None => None,
        };
        match opaque {
            Some(o) => self.pending.route_opaque(o, &mut self.events)?,
            None => self.pending.route_plain(&mut self.events)?,
        }
        let front = *self.pending.front().ok_or(ProtocolError::Unsolicited)?;
        let response = match (front.op, reply) {
            (Op::Get { .. }, R::Value { flags, data }) => {
                let key = returned_key(&flags)?;
                let item = Item {
                    key,
                    flags: flags.client_flags().unwrap_or(0),
                    cas: flags.cas(),
                    value: data,
                };
                self.pending.push_value(front.id, item);
                self.get_part_done(front.last);
                return Ok(());
            }
            (Op::Get { .. }, R::Miss(_)) => {
                self.get_part_done(front.last);
                return Ok(());
            }
            (Op::Noop | Op::QuietEnd, R::NoOp) => Response::Ok,
            (Op::Store(_), R::Hd(_)) => Response::Stored,
            (Op::Store(_), R::NotStored(_)) => Response::NotStored,
            (Op::Store(_) | Op::Delete, R::Exists(_)) => Response::Exists,
            (Op::Store(_) | Op::Delete | Op::Counter, R::NotFound(_)) => Response::NotFound,
            (Op::Delete, R::Hd(_)) => Response::Deleted,
            (Op::Counter, R::Value { data, .. }) => {
                let digits = trim_spaces(&data);
                Response::Counter(
                    parse_u64(digits).ok_or(DecodeError::Malformed("ma value is not a number"))?,
                )
            }
            (Op::Touch, R::Hd(_)) => Response::Touched,
            (Op::Touch, R::Miss(_)) => Response::NotFound,
            (Op::Meta(kind), r) => {
                let fits = match (kind, &r) {
                    (MetaKind::NoOp, R::NoOp) => true,
                    (MetaKind::Debug, R::Debug { .. } | R::Miss(_)) => true,
                    (MetaKind::NoOp | MetaKind::Debug, _) => false,
                    (_, R::NoOp | R::Debug { .. }) => false,
                    _ => true,
                };
                if !fits {
                    return Err(unexpected(front.op, r.kind()));
                }
                Response::Meta(r)
            }
            (op, r) => return Err(unexpected(op, r.kind())),
        };
        self.done(response);
        Ok(())
    }

    /// Binary responses (protocol-binary.txt).
    fn on_binary(&mut self, r: binary::Response<Bytes>) -> Result<(), ProtocolError> {
        self.pending.route_opaque(r.opaque, &mut self.events)?;
        let front = *self.pending.front().ok_or(ProtocolError::Unsolicited)?;
        if !opcode_fits(front.op, r.opcode) {
            return Err(unexpected(front.op, "binary response with another opcode"));
        }
        let st = r.status;
        let error = |r: binary::Response<Bytes>| {
            Response::Error(ServerError {
                kind: ServerErrorKind::Status(r.status),
                message: r.value,
            })
        };
        let response = match front.op {
            Op::Get { .. } if st.is_ok() => {
                let flags: [u8; 4] = r.extras[..]
                    .try_into()
                    .map_err(|_| DecodeError::Malformed("get response extras are not 4 bytes"))?;
                if r.key.is_empty() {
                    return Err(ProtocolError::UnexpectedKey);
                }
                let item = Item {
                    key: r.key,
                    flags: u32::from_be_bytes(flags),
                    cas: Some(r.cas),
                    value: r.value,
                };
                self.pending.push_value(front.id, item);
                self.get_part_done(front.last);
                return Ok(());
            }
            Op::Get { .. } if st == Status::KEY_NOT_FOUND => {
                self.get_part_done(front.last);
                return Ok(());
            }
            Op::GetEnd if st.is_ok() => {
                self.pending
                    .complete_front(Outcome::Collected, &mut self.events);
                return Ok(());
            }
            Op::Stats if st.is_ok() && !r.key.is_empty() => {
                let max = self.config.limits.max_stats;
                let stat = Stat {
                    name: r.key,
                    value: r.value,
                };
                return self.pending.push_stat(front.id, stat, max);
            }
            Op::Stats if st.is_ok() => {
                self.pending
                    .complete_front(Outcome::Collected, &mut self.events);
                return Ok(());
            }
            Op::Noop | Op::Sync | Op::FlushAll | Op::Verbosity | Op::Quit if st.is_ok() => {
                Response::Ok
            }
            Op::Version if st.is_ok() => Response::Version(r.value),
            Op::Store(mode) => match st {
                Status::NO_ERROR => Response::Stored,
                Status::ITEM_NOT_STORED => Response::NotStored,
                // A binary `add` of a present key answers "key exists", a
                // `replace` of a missing key "key not found"; the text and
                // meta protocols call both NOT_STORED.
                Status::KEY_EXISTS if mode == StoreMode::Add => Response::NotStored,
                Status::KEY_NOT_FOUND if mode == StoreMode::Replace => Response::NotStored,
                Status::KEY_EXISTS => Response::Exists,
                Status::KEY_NOT_FOUND => Response::NotFound,
                _ => error(r),
            },
            Op::Delete => match st {
                Status::NO_ERROR => Response::Deleted,
                Status::KEY_NOT_FOUND => Response::NotFound,
                Status::KEY_EXISTS => Response::Exists,
                _ => error(r),
            },
            Op::Counter => match st {
                Status::NO_ERROR => {
                    let v: [u8; 8] = r.value[..]
                        .try_into()
                        .map_err(|_| DecodeError::Malformed("counter value is not 8 bytes"))?;
                    Response::Counter(u64::from_be_bytes(v))
                }
                Status::KEY_NOT_FOUND => Response::NotFound,
                _ => error(r),
            },
            Op::Touch => match st {
                Status::NO_ERROR => Response::Touched,
                Status::KEY_NOT_FOUND => Response::NotFound,
                _ => error(r),
            },
            Op::Meta(_) => return Err(unexpected(front.op, "binary response")),
            _ => error(r),
        };
        self.done(response);
        Ok(())
    }
}

/// Whether a binary response opcode answers the waiting entry (the server
/// echoes the request opcode, quiet or not).
fn opcode_fits(op: Op, code: Opcode) -> bool {
    use Opcode as O;
    match op {
        Op::Get { .. } => code.is_get(),
        Op::GetEnd | Op::Noop | Op::Sync => code == O::Noop,
        Op::QuietEnd => false,
        Op::Store(_) => matches!(
            code,
            O::Set
                | O::SetQ
                | O::Add
                | O::AddQ
                | O::Replace
                | O::ReplaceQ
                | O::Append
                | O::AppendQ
                | O::Prepend
                | O::PrependQ
        ),
        Op::Delete => matches!(code, O::Delete | O::DeleteQ),
        Op::Counter => matches!(
            code,
            O::Increment | O::IncrementQ | O::Decrement | O::DecrementQ
        ),
        Op::Touch => code == O::Touch,
        Op::FlushAll => matches!(code, O::Flush | O::FlushQ),
        Op::Verbosity => code == O::Verbosity,
        Op::Version => code == O::Version,
        Op::Quit => code == O::Quit,
        Op::Stats => code == O::Stat,
        Op::Meta(_) => false,
    }
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    &s[..end]
}

/// The key of a meta hit (`k` flag), decoded when the reply says `b`.
fn returned_key(flags: &meta::Flags<Bytes>) -> Result<Bytes, ProtocolError> {
    let raw = flags.raw();
    let k = flags.key().ok_or(ProtocolError::UnexpectedKey)?;
    if flags.is_base64() {
        let decoded = BASE64
            .decode(k)
            .map_err(|_| DecodeError::Malformed("base64 key"))?;
        return Ok(Bytes::from(decoded));
    }
    Ok(raw.slice_ref(k))
}
