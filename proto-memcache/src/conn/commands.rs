//! The command verbs: each validates its input, encodes the request for the
//! connection's protocol flavour and queues what the reply must match.

use super::state::{MetaKind, Op};
use super::{Connection, Protocol, StoreOptions};
use crate::binary::Opcode;
use crate::binary::encode::{self as benc, Request as BinRequest};
use crate::error::UsageError;
use crate::event::ReqId;
use crate::meta::{self, Flag, Mode};
use crate::text::encode::{self as tenc, GetMode, StoreMode, check_keys};

/// Longest text `gat`/`gats` line sent (see [`Connection::retrieve`]).
const MAX_GAT_LINE: usize = 2048;
/// `gats <exptime>\r\n` at its longest.
const GAT_LINE_OVERHEAD: usize = "gats 4294967295\r\n".len();

impl Connection {
    /// `get <key>*`: the response is [`Response::Values`](crate::Response::Values) with the hits.
    pub fn get<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<ReqId, UsageError> {
        self.retrieve(GetMode::Get, keys)
    }

    /// `gets <key>*`: hits carry their CAS unique.
    pub fn gets<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<ReqId, UsageError> {
        self.retrieve(GetMode::Gets, keys)
    }

    /// Any retrieval: `get`, `gets`, `gat`, `gats`, for one key or many.
    ///
    /// Text: one `get k1 k2…` line (`gat`/`gats` split into lines of at most
    /// 2048 bytes, which memcached reads whole). Meta: one key is a plain
    /// `mg <k> v f k O<n>` (answered `VA` or `EN`); several keys go out as
    /// the text line above, which memcached accepts on the same connection
    /// (protocol.txt: the meta commands are part of the text protocol) and
    /// which costs both sides far less than one `mg` per key: its `VALUE`
    /// lines carry the key, the client flags and (`gets`/`gats`) the CAS
    /// unique, everything the `mg` flags would ask for. Binary: `GetKQ` (or
    /// `GatKQ`) per key then `Noop` (one key: `GetK`/`GatK`). Misses are
    /// simply absent from [`Response::Values`](crate::Response::Values).
    pub fn retrieve<K: AsRef<[u8]>>(
        &mut self,
        mode: GetMode,
        keys: &[K],
    ) -> Result<ReqId, UsageError> {
        self.check_open()?;
        let limits = &self.config.limits;
        match self.config.protocol {
            Protocol::Meta if keys.len() == 1 => {
                // One key: a plain `mg`, answered `VA` or `EN`. Several take
                // the text line below.
                check_keys(keys, limits)?;
                let k = &keys[0];
                let o = self.opaque();
                let mut ob = itoa::Buffer::new();
                let mut flags = [Flag::ReturnValue; 6];
                let mut n = 1;
                let mut add = |f| {
                    flags[n] = f;
                    n += 1;
                };
                add(Flag::ReturnClientFlags);
                add(Flag::ReturnKey);
                add(Flag::Opaque(ob.format(o).as_bytes()));
                if let GetMode::Gets | GetMode::Gats(_) = mode {
                    add(Flag::ReturnCas);
                }
                if let GetMode::Gat(t) | GetMode::Gats(t) = mode {
                    add(Flag::Ttl(t.into()));
                }
                let cmd = meta::Command::Get {
                    key: k.as_ref(),
                    flags: &flags[..n],
                };
                meta::encode::request(&mut self.out, &cmd, &self.config.limits)?;
                let id = self.id();
                self.push(id, Op::Get { keys: 1 }, Some(o), false, true);
                Ok(id)
            }
            Protocol::Binary => {
                check_keys(keys, limits)?;
                // One key: GetK/GatK (a miss answers "not found"). Several:
                // the quiet forms (misses suppressed) closed by one Noop.
                let single = keys.len() == 1;
                let id = self.id();
                let (opcode, extras) = match (mode, single) {
                    (GetMode::Get | GetMode::Gets, true) => (Opcode::GetK, None),
                    (GetMode::Get | GetMode::Gets, false) => (Opcode::GetKQ, None),
                    (GetMode::Gat(t) | GetMode::Gats(t), true) => {
                        (Opcode::GatK, Some(t.to_be_bytes()))
                    }
                    (GetMode::Gat(t) | GetMode::Gats(t), false) => {
                        (Opcode::GatKQ, Some(t.to_be_bytes()))
                    }
                };
                for k in keys {
                    let o = self.opaque();
                    let req = BinRequest {
                        key: k.as_ref(),
                        extras: extras.as_ref().map_or(&[][..], |e| &e[..]),
                        ..BinRequest::new(opcode, o)
                    };
                    benc::request(&mut self.out, &req, &self.config.limits)?;
                    self.push(id, Op::Get { keys: 1 }, Some(o), !single, single);
                }
                if !single {
                    let o = self.opaque();
                    benc::request(
                        &mut self.out,
                        &BinRequest::new(Opcode::Noop, o),
                        &self.config.limits,
                    )?;
                    self.push(id, Op::GetEnd, Some(o), false, true);
                }
                Ok(id)
            }
            Protocol::Text | Protocol::Meta
                if matches!(mode, GetMode::Gat(_) | GetMode::Gats(_)) =>
            {
                // memcached reads a command line whole only up to its read
                // buffer, except `get`/`gets`, which it streams: a longer
                // `gat`/`gats` line makes it close the connection (1.6.18
                // resets at 16 KiB; older versions check 2048 bytes; see
                // try_read_command_ascii). Long ones go out as several
                // lines, parts of one request whose hits are merged.
                check_keys(keys, limits)?;
                let id = self.id();
                let mut start = 0;
                while start < keys.len() {
                    let mut end = start;
                    let mut len = GAT_LINE_OVERHEAD;
                    while end < keys.len()
                        && (end == start || len + 1 + keys[end].as_ref().len() <= MAX_GAT_LINE)
                    {
                        len += 1 + keys[end].as_ref().len();
                        end += 1;
                    }
                    tenc::get(&mut self.out, mode, &keys[start..end], &self.config.limits)?;
                    let last = end == keys.len();
                    self.push(id, Op::Get { keys: end }, None, false, last);
                    start = end;
                }
                Ok(id)
            }
            Protocol::Text | Protocol::Meta => {
                tenc::get(&mut self.out, mode, keys, limits)?;
                let id = self.id();
                self.push(id, Op::Get { keys: keys.len() }, None, false, true);
                Ok(id)
            }
        }
    }

    /// `set <key>` with default options.
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> Result<ReqId, UsageError> {
        self.store(StoreMode::Set, key, value, StoreOptions::default())
    }

    /// A storage command: `set`, `add`, `replace`, `append`, `prepend`, `cas`.
    ///
    /// Responses: [`Response::Stored`](crate::Response::Stored), [`Response::NotStored`](crate::Response::NotStored),
    /// [`Response::Exists`](crate::Response::Exists) (CAS mismatch), [`Response::NotFound`](crate::Response::NotFound) (CAS on a
    /// missing key), or [`Response::NoReply`](crate::Response::NoReply) with `noreply`.
    pub fn store(
        &mut self,
        mode: StoreMode,
        key: &[u8],
        value: &[u8],
        opts: StoreOptions,
    ) -> Result<ReqId, UsageError> {
        self.check_open()?;
        match self.config.protocol {
            Protocol::Text => {
                tenc::store(
                    &mut self.out,
                    mode,
                    key,
                    opts.flags,
                    opts.exptime,
                    value,
                    opts.noreply,
                    &self.config.limits,
                )?;
                let id = self.id();
                if opts.noreply {
                    return Ok(self.no_reply(id));
                }
                self.push(id, Op::Store(mode), None, false, true);
                Ok(id)
            }
            Protocol::Meta => {
                let o = self.opaque();
                let mut ob = itoa::Buffer::new();
                let mut flags: [Flag<'_>; 6] = [Flag::Opaque(ob.format(o).as_bytes()); 6];
                let mut n = 1;
                let mut add = |f| {
                    flags[n] = f;
                    n += 1;
                };
                let concat = matches!(mode, StoreMode::Append | StoreMode::Prepend);
                match mode {
                    StoreMode::Set => {}
                    StoreMode::Add => add(Flag::Mode(Mode::Add)),
                    StoreMode::Replace => add(Flag::Mode(Mode::Replace)),
                    StoreMode::Append => add(Flag::Mode(Mode::Append)),
                    StoreMode::Prepend => add(Flag::Mode(Mode::Prepend)),
                    StoreMode::Cas(c) => add(Flag::CompareCas(c)),
                }
                if !concat {
                    if opts.flags != 0 {
                        add(Flag::ClientFlags(opts.flags));
                    }
                    if opts.exptime != 0 {
                        add(Flag::Ttl(opts.exptime.into()));
                    }
                }
                if opts.noreply {
                    add(Flag::Quiet);
                }
                let cmd = meta::Command::Set {
                    key,
                    value,
                    flags: &flags[..n],
                };
                meta::encode::request(&mut self.out, &cmd, &self.config.limits)?;
                let id = self.id();
                self.push_meta(id, Op::Store(mode), o, opts.noreply);
                Ok(id)
            }
            Protocol::Binary => {
                let q = opts.noreply;
                let (opcode, cas) = match mode {
                    StoreMode::Set => (if q { Opcode::SetQ } else { Opcode::Set }, 0),
                    StoreMode::Add => (if q { Opcode::AddQ } else { Opcode::Add }, 0),
                    StoreMode::Replace => (if q { Opcode::ReplaceQ } else { Opcode::Replace }, 0),
                    StoreMode::Append => (if q { Opcode::AppendQ } else { Opcode::Append }, 0),
                    StoreMode::Prepend => (if q { Opcode::PrependQ } else { Opcode::Prepend }, 0),
                    StoreMode::Cas(c) => (if q { Opcode::SetQ } else { Opcode::Set }, c),
                };
                let extras = benc::store_extras(opts.flags, opts.exptime);
                let concat = matches!(mode, StoreMode::Append | StoreMode::Prepend);
                let o = self.opaque();
                let req = BinRequest {
                    cas,
                    extras: if concat { &[] } else { &extras },
                    key,
                    value,
                    ..BinRequest::new(opcode, o)
                };
                benc::request(&mut self.out, &req, &self.config.limits)?;
                let id = self.id();
                self.push(id, Op::Store(mode), Some(o), q, true);
                Ok(id)
            }
        }
    }

    /// `delete <key>`: [`Response::Deleted`](crate::Response::Deleted) or [`Response::NotFound`](crate::Response::NotFound).
    pub fn delete(&mut self, key: &[u8], noreply: bool) -> Result<ReqId, UsageError> {
        self.check_open()?;
        match self.config.protocol {
            Protocol::Text => {
                tenc::delete(&mut self.out, key, noreply, &self.config.limits)?;
                let id = self.id();
                if noreply {
                    return Ok(self.no_reply(id));
                }
                self.push(id, Op::Delete, None, false, true);
                Ok(id)
            }
            Protocol::Meta => {
                let o = self.opaque();
                let mut ob = itoa::Buffer::new();
                let flags = [Flag::Opaque(ob.format(o).as_bytes()), Flag::Quiet];
                let n = if noreply { 2 } else { 1 };
                let cmd = meta::Command::Delete {
                    key,
                    flags: &flags[..n],
                };
                meta::encode::request(&mut self.out, &cmd, &self.config.limits)?;
                let id = self.id();
                self.push_meta(id, Op::Delete, o, noreply);
                Ok(id)
            }
            Protocol::Binary => {
                let opcode = if noreply {
                    Opcode::DeleteQ
                } else {
                    Opcode::Delete
                };
                let o = self.opaque();
                let req = BinRequest {
                    key,
                    ..BinRequest::new(opcode, o)
                };
                benc::request(&mut self.out, &req, &self.config.limits)?;
                let id = self.id();
                self.push(id, Op::Delete, Some(o), noreply, true);
                Ok(id)
            }
        }
    }

    /// `incr <key> <delta>`: [`Response::Counter`](crate::Response::Counter) or [`Response::NotFound`](crate::Response::NotFound).
    pub fn incr(&mut self, key: &[u8], delta: u64, noreply: bool) -> Result<ReqId, UsageError> {
        self.counter(false, key, delta, noreply)
    }

    /// `decr <key> <delta>` (stops at 0).
    pub fn decr(&mut self, key: &[u8], delta: u64, noreply: bool) -> Result<ReqId, UsageError> {
        self.counter(true, key, delta, noreply)
    }

    fn counter(
        &mut self,
        decr: bool,
        key: &[u8],
        delta: u64,
        noreply: bool,
    ) -> Result<ReqId, UsageError> {
        self.check_open()?;
        match self.config.protocol {
            Protocol::Text => {
                tenc::incr_decr(
                    &mut self.out,
                    decr,
                    key,
                    delta,
                    noreply,
                    &self.config.limits,
                )?;
                let id = self.id();
                if noreply {
                    return Ok(self.no_reply(id));
                }
                self.push(id, Op::Counter, None, false, true);
                Ok(id)
            }
            Protocol::Meta => {
                let o = self.opaque();
                let mut ob = itoa::Buffer::new();
                let mode = if decr {
                    Mode::Decrement
                } else {
                    Mode::Increment
                };
                let last = if noreply {
                    Flag::Quiet
                } else {
                    Flag::ReturnValue
                };
                let flags = [
                    Flag::Opaque(ob.format(o).as_bytes()),
                    Flag::Mode(mode),
                    Flag::Delta(delta),
                    last,
                ];
                let cmd = meta::Command::Arithmetic { key, flags: &flags };
                meta::encode::request(&mut self.out, &cmd, &self.config.limits)?;
                let id = self.id();
                self.push_meta(id, Op::Counter, o, noreply);
                Ok(id)
            }
            Protocol::Binary => {
                let opcode = match (decr, noreply) {
                    (false, false) => Opcode::Increment,
                    (false, true) => Opcode::IncrementQ,
                    (true, false) => Opcode::Decrement,
                    (true, true) => Opcode::DecrementQ,
                };
                // Expiration 0xffffffff: fail on a missing key, as text incr does.
                let extras = benc::counter_extras(delta, 0, u32::MAX);
                let o = self.opaque();
                let req = BinRequest {
                    key,
                    extras: &extras,
                    ..BinRequest::new(opcode, o)
                };
                benc::request(&mut self.out, &req, &self.config.limits)?;
                let id = self.id();
                self.push(id, Op::Counter, Some(o), noreply, true);
                Ok(id)
            }
        }
    }

    /// `touch <key> <exptime>`: [`Response::Touched`](crate::Response::Touched) or [`Response::NotFound`](crate::Response::NotFound).
    /// In the meta and binary flavours `noreply` is ignored (meta `mg … q`
    /// would hide the miss, not the hit; binary touch has no quiet form).
    pub fn touch(&mut self, key: &[u8], exptime: u32, noreply: bool) -> Result<ReqId, UsageError> {
        self.check_open()?;
        match self.config.protocol {
            Protocol::Text => {
                tenc::touch(&mut self.out, key, exptime, noreply, &self.config.limits)?;
                let id = self.id();
                if noreply {
                    return Ok(self.no_reply(id));
                }
                self.push(id, Op::Touch, None, false, true);
                Ok(id)
            }
            Protocol::Meta => {
                let o = self.opaque();
                let mut ob = itoa::Buffer::new();
                let flags = [
                    Flag::Opaque(ob.format(o).as_bytes()),
                    Flag::Ttl(exptime.into()),
                ];
                let cmd = meta::Command::Get { key, flags: &flags };
                meta::encode::request(&mut self.out, &cmd, &self.config.limits)?;
                let id = self.id();
                self.push(id, Op::Touch, Some(o), false, true);
                Ok(id)
            }
            Protocol::Binary => {
                let extras = exptime.to_be_bytes();
                let o = self.opaque();
                let req = BinRequest {
                    key,
                    extras: &extras,
                    ..BinRequest::new(Opcode::Touch, o)
                };
                benc::request(&mut self.out, &req, &self.config.limits)?;
                let id = self.id();
                self.push(id, Op::Touch, Some(o), false, true);
                Ok(id)
            }
        }
    }

    /// `flush_all [delay]`: [`Response::Ok`](crate::Response::Ok).
    pub fn flush_all(&mut self, delay: Option<u32>, noreply: bool) -> Result<ReqId, UsageError> {
        self.check_open()?;
        if self.config.protocol == Protocol::Binary {
            let opcode = if noreply {
                Opcode::FlushQ
            } else {
                Opcode::Flush
            };
            let extras = delay.map(u32::to_be_bytes);
            let o = self.opaque();
            let req = BinRequest {
                extras: extras.as_ref().map_or(&[][..], |e| &e[..]),
                ..BinRequest::new(opcode, o)
            };
            benc::request(&mut self.out, &req, &self.config.limits)?;
            let id = self.id();
            self.push(id, Op::FlushAll, Some(o), noreply, true);
            return Ok(id);
        }
        tenc::flush_all(&mut self.out, delay, noreply);
        let id = self.id();
        if noreply {
            return Ok(self.no_reply(id));
        }
        self.push(id, Op::FlushAll, None, false, true);
        Ok(id)
    }

    /// `verbosity <level>`: [`Response::Ok`](crate::Response::Ok).
    ///
    /// Text and meta flavours only: memcached 1.6.18 does not implement the
    /// binary Verbosity opcode (0x1b); it answers "Unknown command" late and
    /// then drops the connection, so the binary flavour refuses it with
    /// [`UsageError::WrongFlavour`] rather than poison the connection.
    pub fn verbosity(&mut self, level: u32, noreply: bool) -> Result<ReqId, UsageError> {
        self.check_open()?;
        if self.config.protocol == Protocol::Binary {
            return Err(UsageError::WrongFlavour("binary verbosity"));
        }
        tenc::verbosity(&mut self.out, level, noreply);
        let id = self.id();
        if noreply {
            return Ok(self.no_reply(id));
        }
        self.push(id, Op::Verbosity, None, false, true);
        Ok(id)
    }

    /// `version`: [`Response::Version`](crate::Response::Version).
    pub fn version(&mut self) -> Result<ReqId, UsageError> {
        self.check_open()?;
        let opaque = if self.config.protocol == Protocol::Binary {
            let o = self.opaque();
            benc::request(
                &mut self.out,
                &BinRequest::new(Opcode::Version, o),
                &self.config.limits,
            )?;
            Some(o)
        } else {
            tenc::version(&mut self.out);
            None
        };
        let id = self.id();
        self.push(id, Op::Version, opaque, false, true);
        Ok(id)
    }

    /// `stats [args]`: [`Response::Stats`](crate::Response::Stats).
    pub fn stats(&mut self, args: Option<&[u8]>) -> Result<ReqId, UsageError> {
        self.check_open()?;
        let opaque = if self.config.protocol == Protocol::Binary {
            let o = self.opaque();
            let req = BinRequest {
                key: args.unwrap_or_default(),
                ..BinRequest::new(Opcode::Stat, o)
            };
            benc::request(&mut self.out, &req, &self.config.limits)?;
            Some(o)
        } else {
            tenc::stats(&mut self.out, args)?;
            None
        };
        let id = self.id();
        self.push(id, Op::Stats, opaque, false, true);
        Ok(id)
    }

    /// A no-op round trip (meta `mn`, binary `Noop`): [`Response::Ok`](crate::Response::Ok) once
    /// every earlier request has been answered, which settles earlier quiet
    /// requests. The text protocol has none ([`UsageError::WrongFlavour`]).
    pub fn noop(&mut self) -> Result<ReqId, UsageError> {
        self.check_open()?;
        let opaque = match self.config.protocol {
            Protocol::Text => return Err(UsageError::WrongFlavour("noop")),
            Protocol::Meta => {
                meta::encode::request(&mut self.out, &meta::Command::NoOp, &self.config.limits)?;
                None
            }
            Protocol::Binary => {
                let o = self.opaque();
                benc::request(
                    &mut self.out,
                    &BinRequest::new(Opcode::Noop, o),
                    &self.config.limits,
                )?;
                Some(o)
            }
        };
        let id = self.id();
        self.push(id, Op::Noop, opaque, false, true);
        Ok(id)
    }

    /// `quit` (protocol.txt "Other commands"; binary `Quit`): the server
    /// answers the requests before it, then closes. Text and meta get no
    /// answer, so the request completes at once with [`Response::NoReply`](crate::Response::NoReply);
    /// binary answers [`Response::Ok`](crate::Response::Ok). Afterwards commands are refused with
    /// [`UsageError::Closed`] and the end of stream is expected.
    pub fn quit(&mut self) -> Result<ReqId, UsageError> {
        self.check_open()?;
        let id = if self.config.protocol == Protocol::Binary {
            let o = self.opaque();
            benc::request(
                &mut self.out,
                &BinRequest::new(Opcode::Quit, o),
                &self.config.limits,
            )?;
            let id = self.id();
            self.push(id, Op::Quit, Some(o), false, true);
            id
        } else {
            tenc::quit(&mut self.out);
            let id = self.id();
            self.no_reply(id)
        };
        self.quitting = true;
        Ok(id)
    }

    /// A raw meta command with any flags (meta flavour only); the response
    /// is [`Response::Meta`](crate::Response::Meta) (or [`Response::Error`](crate::Response::Error)).
    ///
    /// The connection adds its own opaque (`O`) to `mg`/`ms`/`md`/`ma` to
    /// match replies, so `cmd` must not carry [`Flag::Opaque`]. With
    /// [`Flag::Quiet`], the response is delivered once a later reply shows
    /// the suppressed one was skipped: follow quiet commands with
    /// [`noop`](Self::noop) (see the matching rules in the crate docs).
    pub fn meta(&mut self, cmd: &meta::Command<'_>) -> Result<ReqId, UsageError> {
        self.check_open()?;
        if self.config.protocol != Protocol::Meta {
            return Err(UsageError::WrongFlavour("meta commands"));
        }
        if cmd.flags().iter().any(|f| matches!(f, Flag::Opaque(_))) {
            return Err(UsageError::OpaqueManaged);
        }
        let kind = match cmd {
            meta::Command::Get { .. } => MetaKind::Get,
            meta::Command::Set { .. } => MetaKind::Set,
            meta::Command::Delete { .. } => MetaKind::Delete,
            meta::Command::Arithmetic { .. } => MetaKind::Arithmetic,
            meta::Command::Debug { .. } => MetaKind::Debug,
            _ => MetaKind::NoOp,
        };
        let opaque = match kind {
            MetaKind::Debug | MetaKind::NoOp => {
                meta::encode::request(&mut self.out, cmd, &self.config.limits)?;
                None
            }
            _ => {
                let o = self.next_opaque.wrapping_add(1);
                let mut ob = itoa::Buffer::new();
                let mut flags: Vec<Flag<'_>> = Vec::with_capacity(cmd.flags().len() + 1);
                flags.extend_from_slice(cmd.flags());
                flags.push(Flag::Opaque(ob.format(o).as_bytes()));
                let with = match *cmd {
                    meta::Command::Get { key, .. } => meta::Command::Get { key, flags: &flags },
                    meta::Command::Set { key, value, .. } => meta::Command::Set {
                        key,
                        value,
                        flags: &flags,
                    },
                    meta::Command::Delete { key, .. } => {
                        meta::Command::Delete { key, flags: &flags }
                    }
                    meta::Command::Arithmetic { key, .. } => {
                        meta::Command::Arithmetic { key, flags: &flags }
                    }
                    other => other,
                };
                meta::encode::request(&mut self.out, &with, &self.config.limits)?;
                self.next_opaque = o;
                Some(o)
            }
        };
        let id = self.id();
        self.push(id, Op::Meta(kind), opaque, cmd.is_quiet(), true);
        Ok(id)
    }
}
