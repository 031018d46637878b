//! The typed commands of a [`Connection`], each a future queued for the
//! socket when the call returns, and the mapping of raw [`Response`]s to
//! typed results.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use proto_memcache::{GetMode, Item, ProtocolError, Response, StoreMode, StoreOptions, meta};

use super::conn::{BatchFuture, Connection, ReplyFuture};
use super::error::Error;

/// The outcome of a [`cas`](Connection::cas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// Stored: the item was unchanged since it was read (or the request was
    /// sent with `noreply`, whose outcome the text protocol does not report).
    Stored,
    /// Not stored: the item changed since it was read (`EXISTS`).
    Exists,
    /// Not stored: the item is gone (`NOT_FOUND`).
    NotFound,
}

/// The raw outcome of a storage command ([`Connection::store`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreStatus {
    /// `STORED` / `HD`.
    Stored,
    /// `NOT_STORED` / `NS`: the `add`/`replace`/`append`/`prepend`
    /// condition failed.
    NotStored,
    /// `EXISTS` / `EX`: CAS mismatch.
    Exists,
    /// `NOT_FOUND` / `NF`: CAS on a missing item.
    NotFound,
    /// Sent with `noreply` and no failure reported.
    NoReply,
}

/// Server statistics, `name -> value`, from [`Connection::stats`].
pub type Stats = HashMap<String, String>;

/// The keys a retrieval asked for, as fingerprints, to check the hits
/// against: a hit for a key nobody asked for means the reply stream is out
/// of step, and is never handed to the caller.
///
/// memcached answers the keys of a multi-get in the order they were asked
/// (text `get` walks its keys in order; meta and binary hits are matched by
/// opaque, one per key, in order), so each hit must match a requested key
/// after the previous hit's.
enum KeyCheck {
    None,
    One(u64),
    Many(Vec<u64>),
}

/// FNV-1a, 64 bits: a cheap fingerprint (the check guards against a
/// desynchronised or confused server, not against forged collisions).
fn fingerprint(key: &[u8]) -> u64 {
    key.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

impl KeyCheck {
    fn of<K: AsRef<[u8]>>(keys: &[K]) -> KeyCheck {
        match keys {
            [one] => KeyCheck::One(fingerprint(one.as_ref())),
            many => KeyCheck::Many(many.iter().map(|k| fingerprint(k.as_ref())).collect()),
        }
    }

    fn accepts(&self, r: &Response) -> bool {
        let Response::Values(items) = r else {
            return true;
        };
        let wanted: &[u64] = match self {
            KeyCheck::None => return true,
            KeyCheck::One(k) => std::slice::from_ref(k),
            KeyCheck::Many(v) => v,
        };
        let mut next = 0;
        items.iter().all(|it| {
            let f = fingerprint(&it.key);
            match wanted[next..].iter().position(|&w| w == f) {
                Some(p) => {
                    next += p + 1;
                    true
                }
                None => false,
            }
        })
    }
}

/// A command's typed result: the reply future and how to read it.
#[must_use = "a command does nothing unless awaited (it is sent, but its reply is discarded)"]
pub struct CmdFuture<T> {
    reply: Result<ReplyFuture, Option<Error>>,
    map: fn(Response) -> Result<T, Error>,
    check: KeyCheck,
}

impl<T> fmt::Debug for CmdFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CmdFuture").finish_non_exhaustive()
    }
}

impl<T> CmdFuture<T> {
    pub(crate) fn new(
        reply: Result<ReplyFuture, Error>,
        map: fn(Response) -> Result<T, Error>,
    ) -> Self {
        CmdFuture {
            reply: reply.map_err(Some),
            map,
            check: KeyCheck::None,
        }
    }

    fn checked<K: AsRef<[u8]>>(mut self, keys: &[K]) -> Self {
        if self.reply.is_ok() {
            self.check = KeyCheck::of(keys);
        }
        self
    }
}

impl<T> Unpin for CmdFuture<T> {}

impl<T> Future for CmdFuture<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let map = self.map;
        let this = &mut *self;
        match &mut this.reply {
            Ok(r) => match Pin::new(&mut *r).poll(cx) {
                Poll::Ready(Ok(resp)) if !this.check.accepts(&resp) => {
                    // The replies no longer line up with the requests:
                    // nothing more from this connection can be trusted.
                    r.connection().close();
                    Poll::Ready(Err(Error::Protocol(ProtocolError::UnexpectedKey)))
                }
                Poll::Ready(res) => Poll::Ready(res.and_then(map)),
                Poll::Pending => Poll::Pending,
            },
            Err(e) => Poll::Ready(Err(e.take().unwrap_or(Error::Closed))),
        }
    }
}

/// The replies to a [`Connection::meta_batch`], in order.
#[must_use = "a batch does nothing unless awaited"]
pub struct MetaBatchFuture {
    inner: Result<BatchFuture, Option<Error>>,
    /// Replies to drop (the closing `mn` the batch added).
    len: usize,
}

impl fmt::Debug for MetaBatchFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetaBatchFuture")
            .field("len", &self.len)
            .finish()
    }
}

impl Future for MetaBatchFuture {
    type Output = Result<Vec<Result<meta::Reply<Bytes>, Error>>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let len = self.len;
        match &mut self.inner {
            Ok(b) => match Pin::new(b).poll(cx) {
                Poll::Ready(mut v) => {
                    v.truncate(len);
                    Poll::Ready(Ok(v.into_iter().map(|r| r.and_then(meta_reply)).collect()))
                }
                Poll::Pending => Poll::Pending,
            },
            Err(e) => Poll::Ready(Err(e.take().unwrap_or(Error::Closed))),
        }
    }
}

fn unexpected<T>(what: &str, r: Response) -> Result<T, Error> {
    match r {
        Response::Error(e) => Err(Error::Server(e)),
        other => Err(Error::UnexpectedResponse(format!("{other:?} to {what}"))),
    }
}

pub(crate) fn values(r: Response) -> Result<Vec<Item>, Error> {
    match r {
        Response::Values(v) => Ok(v),
        other => unexpected("a retrieval", other),
    }
}

fn one_value(r: Response) -> Result<Option<Item>, Error> {
    Ok(values(r)?.pop())
}

fn unit(r: Response) -> Result<(), Error> {
    match r {
        Response::Ok | Response::NoReply => Ok(()),
        other => unexpected("a command answered OK", other),
    }
}

fn store_status(r: Response) -> Result<StoreStatus, Error> {
    Ok(match r {
        Response::Stored => StoreStatus::Stored,
        Response::NotStored => StoreStatus::NotStored,
        Response::Exists => StoreStatus::Exists,
        Response::NotFound => StoreStatus::NotFound,
        Response::NoReply => StoreStatus::NoReply,
        other => return unexpected("a storage command", other),
    })
}

fn stored_unit(r: Response) -> Result<(), Error> {
    match store_status(r)? {
        StoreStatus::Stored | StoreStatus::NoReply => Ok(()),
        other => Err(Error::UnexpectedResponse(format!("{other:?} to set"))),
    }
}

fn stored_bool(r: Response) -> Result<bool, Error> {
    match store_status(r)? {
        StoreStatus::Stored | StoreStatus::NoReply => Ok(true),
        StoreStatus::NotStored => Ok(false),
        other => Err(Error::UnexpectedResponse(format!(
            "{other:?} to a conditional store"
        ))),
    }
}

fn cas_outcome(r: Response) -> Result<CasOutcome, Error> {
    Ok(match store_status(r)? {
        StoreStatus::Stored | StoreStatus::NoReply => CasOutcome::Stored,
        StoreStatus::Exists => CasOutcome::Exists,
        StoreStatus::NotFound => CasOutcome::NotFound,
        StoreStatus::NotStored => {
            return Err(Error::UnexpectedResponse("NotStored to cas".into()));
        }
    })
}

fn deleted(r: Response) -> Result<bool, Error> {
    match r {
        Response::Deleted | Response::NoReply => Ok(true),
        Response::NotFound => Ok(false),
        other => unexpected("delete", other),
    }
}

fn touched(r: Response) -> Result<bool, Error> {
    match r {
        Response::Touched | Response::NoReply => Ok(true),
        Response::NotFound => Ok(false),
        other => unexpected("touch", other),
    }
}

fn counter(r: Response) -> Result<Option<u64>, Error> {
    match r {
        Response::Counter(n) => Ok(Some(n)),
        Response::NotFound | Response::NoReply => Ok(None),
        other => unexpected("incr/decr", other),
    }
}

fn version(r: Response) -> Result<String, Error> {
    match r {
        Response::Version(v) => Ok(String::from_utf8_lossy(&v).into_owned()),
        other => unexpected("version", other),
    }
}

pub(crate) fn stats(r: Response) -> Result<Stats, Error> {
    match r {
        Response::Stats(v) => Ok(v
            .into_iter()
            .map(|s| {
                (
                    String::from_utf8_lossy(&s.name).into_owned(),
                    String::from_utf8_lossy(&s.value).into_owned(),
                )
            })
            .collect()),
        other => unexpected("stats", other),
    }
}

fn meta_reply(r: Response) -> Result<meta::Reply<Bytes>, Error> {
    match r {
        Response::Meta(m) => Ok(m),
        Response::Ok => Ok(meta::Reply::NoOp),
        other => unexpected("a meta command", other),
    }
}

/// # Commands
///
/// Keys are checked (at most 250 bytes, no whitespace or control
/// characters) and values measured against the configured limit when the
/// command is called; a refused request fails with [`Error::InvalidKey`] or
/// [`Error::ValueTooLarge`] and nothing is sent.
impl Connection {
    /// Any retrieval (`get`, `gets`, `gat`, `gats`) of one key or many; the
    /// hits in reply order (a miss is simply absent).
    pub fn retrieve<K: AsRef<[u8]>>(&self, mode: GetMode, keys: &[K]) -> CmdFuture<Vec<Item>> {
        CmdFuture::new(self.send(|m| m.retrieve(mode, keys)), values).checked(keys)
    }

    /// `get <key>`: the item, or `None` on a miss.
    pub fn get(&self, key: impl AsRef<[u8]>) -> CmdFuture<Option<Item>> {
        CmdFuture::new(
            self.send(|m| m.retrieve(GetMode::Get, &[key.as_ref()])),
            one_value,
        )
        .checked(&[key.as_ref()])
    }

    /// `gets <key>`: the item with its CAS unique ([`Item::cas`]).
    pub fn gets(&self, key: impl AsRef<[u8]>) -> CmdFuture<Option<Item>> {
        CmdFuture::new(
            self.send(|m| m.retrieve(GetMode::Gets, &[key.as_ref()])),
            one_value,
        )
        .checked(&[key.as_ref()])
    }

    /// `gat <exptime> <key>`: fetch and set a new expiration time.
    pub fn gat(&self, key: impl AsRef<[u8]>, exptime: u32) -> CmdFuture<Option<Item>> {
        CmdFuture::new(
            self.send(|m| m.retrieve(GetMode::Gat(exptime), &[key.as_ref()])),
            one_value,
        )
        .checked(&[key.as_ref()])
    }

    /// `gats <exptime> <key>`: as [`gat`](Self::gat), with the CAS unique.
    pub fn gats(&self, key: impl AsRef<[u8]>, exptime: u32) -> CmdFuture<Option<Item>> {
        CmdFuture::new(
            self.send(|m| m.retrieve(GetMode::Gats(exptime), &[key.as_ref()])),
            one_value,
        )
        .checked(&[key.as_ref()])
    }

    /// A multi-get in one request (text `get k1 k2 …`, meta quiet `mg`s and
    /// `mn`, binary `GetKQ`s and `Noop`): the hits, in reply order.
    pub fn get_multi<K: AsRef<[u8]>>(&self, keys: &[K]) -> CmdFuture<Vec<Item>> {
        self.retrieve(GetMode::Get, keys)
    }

    /// As [`get_multi`](Self::get_multi), each hit with its CAS unique.
    pub fn gets_multi<K: AsRef<[u8]>>(&self, keys: &[K]) -> CmdFuture<Vec<Item>> {
        self.retrieve(GetMode::Gets, keys)
    }

    /// Any storage command, with its raw outcome.
    pub fn store(
        &self,
        mode: StoreMode,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: StoreOptions,
    ) -> CmdFuture<StoreStatus> {
        CmdFuture::new(
            self.send(|m| m.store(mode, key.as_ref(), value.as_ref(), opts)),
            store_status,
        )
    }

    /// `set`: store unconditionally, with the flags and expiration of
    /// `opts` (`StoreOptions::default()`: flags 0, no expiry).
    pub fn set(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: StoreOptions,
    ) -> CmdFuture<()> {
        CmdFuture::new(
            self.send(|m| m.store(StoreMode::Set, key.as_ref(), value.as_ref(), opts)),
            stored_unit,
        )
    }

    /// `add`: store only if absent; `false` if the key exists.
    pub fn add(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: StoreOptions,
    ) -> CmdFuture<bool> {
        CmdFuture::new(
            self.send(|m| m.store(StoreMode::Add, key.as_ref(), value.as_ref(), opts)),
            stored_bool,
        )
    }

    /// `replace`: store only if present; `false` if the key is missing.
    pub fn replace(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        opts: StoreOptions,
    ) -> CmdFuture<bool> {
        CmdFuture::new(
            self.send(|m| m.store(StoreMode::Replace, key.as_ref(), value.as_ref(), opts)),
            stored_bool,
        )
    }

    /// `append`: add `value` after the existing data (flags and expiration
    /// are kept); `false` if the key is missing.
    pub fn append(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> CmdFuture<bool> {
        CmdFuture::new(
            self.send(|m| {
                m.store(
                    StoreMode::Append,
                    key.as_ref(),
                    value.as_ref(),
                    StoreOptions::default(),
                )
            }),
            stored_bool,
        )
    }

    /// `prepend`: add `value` before the existing data; `false` if the key
    /// is missing.
    pub fn prepend(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> CmdFuture<bool> {
        CmdFuture::new(
            self.send(|m| {
                m.store(
                    StoreMode::Prepend,
                    key.as_ref(),
                    value.as_ref(),
                    StoreOptions::default(),
                )
            }),
            stored_bool,
        )
    }

    /// `cas`: store only if the item's CAS unique is still `cas` (from
    /// [`gets`](Self::gets)).
    pub fn cas(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        cas: u64,
        opts: StoreOptions,
    ) -> CmdFuture<CasOutcome> {
        CmdFuture::new(
            self.send(|m| m.store(StoreMode::Cas(cas), key.as_ref(), value.as_ref(), opts)),
            cas_outcome,
        )
    }

    /// `delete`: `false` if the key was missing.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> CmdFuture<bool> {
        CmdFuture::new(self.send(|m| m.delete(key.as_ref(), false)), deleted)
    }

    /// `incr`: the new value, or `None` if the key is missing. A value that
    /// is not a decimal number is [`Error::Server`].
    pub fn incr(&self, key: impl AsRef<[u8]>, delta: u64) -> CmdFuture<Option<u64>> {
        CmdFuture::new(self.send(|m| m.incr(key.as_ref(), delta, false)), counter)
    }

    /// `decr` (stops at 0): the new value, or `None` if the key is missing.
    pub fn decr(&self, key: impl AsRef<[u8]>, delta: u64) -> CmdFuture<Option<u64>> {
        CmdFuture::new(self.send(|m| m.decr(key.as_ref(), delta, false)), counter)
    }

    /// `touch`: set a new expiration time; `false` if the key is missing.
    pub fn touch(&self, key: impl AsRef<[u8]>, exptime: u32) -> CmdFuture<bool> {
        CmdFuture::new(
            self.send(|m| m.touch(key.as_ref(), exptime, false)),
            touched,
        )
    }

    /// `flush_all [delay]`: invalidate every item (after `delay` seconds).
    pub fn flush_all(&self, delay: Option<u32>) -> CmdFuture<()> {
        CmdFuture::new(self.send(|m| m.flush_all(delay, false)), unit)
    }

    /// `version`.
    pub fn version(&self) -> CmdFuture<String> {
        CmdFuture::new(self.send(|m| m.version()), version)
    }

    /// `stats [args]` (`None`: general statistics; `Some("settings")`,
    /// `Some("items")`, ...).
    pub fn stats(&self, args: Option<&str>) -> CmdFuture<Stats> {
        CmdFuture::new(self.send(|m| m.stats(args.map(str::as_bytes))), stats)
    }

    /// `verbosity <level>` (text and meta flavours; memcached does not
    /// implement the binary opcode, so the binary flavour refuses it with
    /// [`Error::Usage`]).
    pub fn verbosity(&self, level: u32) -> CmdFuture<()> {
        CmdFuture::new(self.send(|m| m.verbosity(level, false)), unit)
    }

    /// A no-op round trip (meta `mn`, binary `Noop`): completes once every
    /// earlier request has been answered. The text protocol has none
    /// ([`Error::Usage`]).
    pub fn noop(&self) -> CmdFuture<()> {
        CmdFuture::new(self.send(|m| m.noop()), unit)
    }

    /// A meta command (`mg`, `ms`, `md`, `ma`, `mn`, `me`) with any flags;
    /// meta flavour only. The connection adds its own opaque (`O`) to match
    /// the reply, so `cmd` must not carry one ([`Error::Usage`]); the reply's
    /// flags echo it. A quiet command (`q`) completes only when a later
    /// reply shows its own was suppressed: send quiet commands through
    /// [`meta_batch`](Self::meta_batch), which closes them with `mn`.
    ///
    /// A suppressed reply is reported as what it stands for: `EN` for `mg`,
    /// `HD` for `ms`, `md`, `ma`.
    pub fn meta(&self, cmd: &meta::Command<'_>) -> CmdFuture<meta::Reply<Bytes>> {
        CmdFuture::new(self.send(|m| m.meta(cmd)), meta_reply)
    }

    /// Meta commands sent back to back, followed by one `mn` when any is
    /// quiet (protocol.txt "Meta No-Op": it flushes the quiet ones'
    /// outcome). The replies, one per command, in order; the batch as a
    /// whole fails only if a command is refused before sending.
    pub fn meta_batch(&self, cmds: &[meta::Command<'_>]) -> MetaBatchFuture {
        let quiet = cmds.iter().any(|c| c.is_quiet());
        let res = self.send_with(|m, ids| {
            for c in cmds {
                ids.push(m.meta(c)?);
            }
            if quiet {
                ids.push(m.noop()?);
            }
            Ok(())
        });
        MetaBatchFuture {
            inner: res.map(|slots| BatchFuture::new(self, slots)).map_err(Some),
            len: cmds.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(keys: &[&str]) -> Response {
        Response::Values(
            keys.iter()
                .map(|k| Item {
                    key: Bytes::copy_from_slice(k.as_bytes()),
                    flags: 0,
                    cas: None,
                    value: Bytes::new(),
                })
                .collect(),
        )
    }

    #[test]
    fn hits_must_be_requested_keys_in_request_order() {
        let c = KeyCheck::of(&["a", "b", "c"]);
        assert!(c.accepts(&hits(&[])));
        assert!(c.accepts(&hits(&["a", "c"])));
        assert!(c.accepts(&hits(&["a", "b", "c"])));
        assert!(!c.accepts(&hits(&["d"])));
        assert!(!c.accepts(&hits(&["c", "a"])), "out of order");
        assert!(!c.accepts(&hits(&["a", "a"])), "twice");
        let one = KeyCheck::of(&["k"]);
        assert!(one.accepts(&hits(&["k"])));
        assert!(!one.accepts(&hits(&["x"])));
        assert!(one.accepts(&Response::Stored));
        assert!(KeyCheck::None.accepts(&hits(&["anything"])));
    }
}
