//! Typed commands: the [`Commands`] trait (for [`Connection`],
//! [`Client`](super::Client) and pooled connections) and the same methods
//! on [`Pipeline`], generated from one list.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use proto_resp::{Cmd, CmdArg, Frame};

use super::conn::{BatchFuture, CmdFuture, Connection};
use super::error::Error;
use super::from_resp::{FromResp, elements};
use super::pipeline::Pipeline;
use super::scan::{Scan, ScanOptions};

/// `SET` options (Redis `SET` documentation: `NX | XX`, `GET`,
/// `EX | PX | EXAT | PXAT | KEEPTTL`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SetOptions {
    /// Only set if the key does not exist (`NX`) / exists (`XX`).
    pub condition: Option<SetCondition>,
    /// Return the old value (`GET`).
    pub get: bool,
    /// Expiry.
    pub expiry: Option<Expiry>,
}

/// `SET ... NX | XX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetCondition {
    /// Only if the key does not exist.
    Nx,
    /// Only if the key exists.
    Xx,
}

/// A key expiry for `SET` / `GETEX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `EX seconds`.
    Ex(u64),
    /// `PX milliseconds`.
    Px(u64),
    /// `EXAT unix-seconds`.
    ExAt(u64),
    /// `PXAT unix-milliseconds`.
    PxAt(u64),
    /// `KEEPTTL`: keep the current time to live.
    KeepTtl,
}

impl SetOptions {
    /// `NX`.
    pub fn nx(mut self) -> Self {
        self.condition = Some(SetCondition::Nx);
        self
    }
    /// `XX`.
    pub fn xx(mut self) -> Self {
        self.condition = Some(SetCondition::Xx);
        self
    }
    /// `GET`: the reply is the old value (or null).
    pub fn get(mut self) -> Self {
        self.get = true;
        self
    }
    /// Sets the expiry.
    pub fn expiry(mut self, e: Expiry) -> Self {
        self.expiry = Some(e);
        self
    }

    fn write(&self, c: &mut Cmd) {
        match self.condition {
            Some(SetCondition::Nx) => {
                c.arg("NX");
            }
            Some(SetCondition::Xx) => {
                c.arg("XX");
            }
            None => {}
        }
        if self.get {
            c.arg("GET");
        }
        match self.expiry {
            Some(Expiry::Ex(s)) => c.arg("EX").arg(s),
            Some(Expiry::Px(s)) => c.arg("PX").arg(s),
            Some(Expiry::ExAt(s)) => c.arg("EXAT").arg(s),
            Some(Expiry::PxAt(s)) => c.arg("PXAT").arg(s),
            Some(Expiry::KeepTtl) => c.arg("KEEPTTL"),
            None => c,
        };
    }
}

/// `XREAD` / `XREADGROUP` options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamReadOptions {
    /// `COUNT n`: most entries per stream.
    pub count: Option<usize>,
    /// `BLOCK ms`: wait this long for data (`Duration::ZERO` waits forever).
    pub block: Option<Duration>,
    /// `NOACK` (`XREADGROUP` only).
    pub noack: bool,
}

impl StreamReadOptions {
    /// Sets `COUNT`.
    pub fn count(mut self, n: usize) -> Self {
        self.count = Some(n);
        self
    }
    /// Sets `BLOCK`.
    pub fn block(mut self, d: Duration) -> Self {
        self.block = Some(d);
        self
    }
    /// Sets `NOACK`.
    pub fn noack(mut self) -> Self {
        self.noack = true;
        self
    }

    fn write(&self, c: &mut Cmd, group: bool) {
        if let Some(n) = self.count {
            c.arg("COUNT").arg(n);
        }
        if let Some(b) = self.block {
            c.arg("BLOCK").arg(b.as_millis() as u64);
        }
        if group && self.noack {
            c.arg("NOACK");
        }
    }
}

/// One stream entry: its id and field/value pairs (Redis streams
/// introduction, "Entry IDs").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// `<ms>-<seq>`.
    pub id: String,
    /// Field/value pairs in order; empty for an entry deleted while pending.
    pub fields: Vec<(Bytes, Bytes)>,
}

impl StreamEntry {
    /// The value of `field`, if present.
    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        self.fields
            .iter()
            .find(|(f, _)| &f[..] == field)
            .map(|(_, v)| v)
    }
}

impl FromResp for StreamEntry {
    fn from_resp(frame: Frame) -> Result<Self, Error> {
        let mut it = elements(frame)?.into_iter();
        let id = String::from_resp(it.next().ok_or_else(|| Error::Type("empty entry".into()))?)?;
        let fields = match it.next() {
            Some(f) if !f.is_null() => Vec::<(Bytes, Bytes)>::from_resp(f)?,
            _ => Vec::new(),
        };
        Ok(StreamEntry { id, fields })
    }
}

/// The reply of `XREAD` / `XREADGROUP`: entries per stream key (empty when
/// a blocking read timed out).
pub type StreamReadReply = Vec<(String, Vec<StreamEntry>)>;

fn with_all(mut c: Cmd, items: &[impl CmdArg]) -> Cmd {
    for i in items {
        c.arg(i);
    }
    c
}

fn with_pairs(mut c: Cmd, items: &[(impl CmdArg, impl CmdArg)]) -> Cmd {
    for (a, b) in items {
        c.arg(a).arg(b);
    }
    c
}

fn stream_read(mut c: Cmd, keys: &[impl CmdArg], ids: &[impl CmdArg]) -> Cmd {
    c.arg("STREAMS");
    with_all(with_all(c, keys), ids)
}

/// What a pipeline or transaction asks for; generated alongside
/// [`Commands`]. `ids` for `XREAD` are as many as `keys`.
macro_rules! commands {
    ($(
        $(#[$meta:meta])*
        fn $name:ident $([$R:ident])? ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty $body:block
    )*) => {
        /// Typed Redis commands, for everything that can run one:
        /// [`Connection`], [`Client`](super::Client), a pooled connection.
        ///
        /// Each method encodes its command at once and returns a future for
        /// the decoded reply; methods with a type parameter decode into any
        /// [`FromResp`] type (`Option<String>`, `Vec<u8>`, `i64`, ...).
        /// [`query_cmd`](Commands::query_cmd) runs any other command.
        pub trait Commands {
            /// The future of one command.
            type Fut<T: FromResp + 'static>: Future<Output = Result<T, Error>>;
            /// The future of a batch of commands.
            type BatchFut: Future<Output = Result<Vec<Frame>, Error>>;

            /// Runs `cmd`, decoding the reply as `T`.
            fn query_cmd<T: FromResp + 'static>(&self, cmd: Cmd) -> Self::Fut<T>;

            /// Sends `cmds` back to back and returns every reply in order
            /// (error replies as error frames).
            fn query_batch<'a>(&self, cmds: impl IntoIterator<Item = &'a Cmd>) -> Self::BatchFut;

            /// Iterates `SCAN` over the keyspace.
            fn scan<T: FromResp + 'static>(&self, opts: ScanOptions) -> Scan<'_, Self, T> {
                Scan::new(self, Cmd::new("SCAN"), opts)
            }

            /// Iterates `HSCAN` over a hash: `(field, value)` pairs.
            fn hscan<K: FromResp + 'static, V: FromResp + 'static>(
                &self,
                key: impl CmdArg,
                opts: ScanOptions,
            ) -> Scan<'_, Self, (K, V)> {
                Scan::new(self, Cmd::new("HSCAN").with(key), opts)
            }

            /// Iterates `SSCAN` over a set.
            fn sscan<T: FromResp + 'static>(&self, key: impl CmdArg, opts: ScanOptions) -> Scan<'_, Self, T> {
                Scan::new(self, Cmd::new("SSCAN").with(key), opts)
            }

            /// Iterates `ZSCAN` over a sorted set: `(member, score)` pairs.
            fn zscan<T: FromResp + 'static>(
                &self,
                key: impl CmdArg,
                opts: ScanOptions,
            ) -> Scan<'_, Self, (T, f64)> {
                Scan::new(self, Cmd::new("ZSCAN").with(key), opts)
            }

            $(
                $(#[$meta])*
                fn $name $(<$R: FromResp + 'static>)? (&self, $($arg: $ty),*) -> Self::Fut<$ret> {
                    self.query_cmd($body)
                }
            )*
        }

        impl Pipeline {
            $(
                $(#[$meta])*
                pub fn $name(&mut self, $($arg: $ty),*) -> &mut Self {
                    self.add($body)
                }
            )*
        }
    };
}

commands! {
    // --- connection / server ---------------------------------------------

    /// `PING`: the reply is `PONG`.
    fn ping() -> String { Cmd::new("PING") }
    /// `ECHO message`.
    fn echo[T](message: impl CmdArg) -> T { Cmd::new("ECHO").with(message) }
    /// `DBSIZE`: keys in the selected database.
    fn dbsize() -> u64 { Cmd::new("DBSIZE") }
    /// `PUBLISH channel message`: how many subscribers received it.
    fn publish(channel: impl CmdArg, message: impl CmdArg) -> u64 {
        Cmd::new("PUBLISH").with(channel).with(message)
    }
    /// `SPUBLISH shardchannel message`.
    fn spublish(channel: impl CmdArg, message: impl CmdArg) -> u64 {
        Cmd::new("SPUBLISH").with(channel).with(message)
    }
    /// `CLIENT ID`.
    fn client_id() -> i64 { Cmd::new("CLIENT").with("ID") }

    // --- strings ----------------------------------------------------------

    /// `GET key` (decode as `Option<_>` for keys that may be missing).
    fn get[T](key: impl CmdArg) -> T { Cmd::new("GET").with(key) }
    /// `SET key value`.
    fn set(key: impl CmdArg, value: impl CmdArg) -> () { Cmd::new("SET").with(key).with(value) }
    /// `SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT|KEEPTTL]`. Decode as
    /// `bool` for `NX`/`XX` (false: not set) or `Option<_>` for `GET`.
    fn set_options[T](key: impl CmdArg, value: impl CmdArg, opts: SetOptions) -> T {
        let mut c = Cmd::new("SET").with(key).with(value);
        opts.write(&mut c);
        c
    }
    /// `SET key value EX seconds`.
    fn set_ex(key: impl CmdArg, value: impl CmdArg, seconds: u64) -> () {
        Cmd::new("SET").with(key).with(value).with("EX").with(seconds)
    }
    /// `SET key value NX`: true if it was set.
    fn set_nx(key: impl CmdArg, value: impl CmdArg) -> bool {
        Cmd::new("SET").with(key).with(value).with("NX")
    }
    /// `GETDEL key`.
    fn getdel[T](key: impl CmdArg) -> T { Cmd::new("GETDEL").with(key) }
    /// `MGET key...`: decode as `Vec<Option<_>>`.
    fn mget[T](keys: &[impl CmdArg]) -> T { with_all(Cmd::new("MGET"), keys) }
    /// `MSET key value ...`.
    fn mset(pairs: &[(impl CmdArg, impl CmdArg)]) -> () { with_pairs(Cmd::new("MSET"), pairs) }
    /// `INCR key`.
    fn incr(key: impl CmdArg) -> i64 { Cmd::new("INCR").with(key) }
    /// `INCRBY key delta`.
    fn incr_by(key: impl CmdArg, delta: i64) -> i64 { Cmd::new("INCRBY").with(key).with(delta) }
    /// `INCRBYFLOAT key delta`.
    fn incr_by_float(key: impl CmdArg, delta: f64) -> f64 {
        Cmd::new("INCRBYFLOAT").with(key).with(delta)
    }
    /// `DECR key`.
    fn decr(key: impl CmdArg) -> i64 { Cmd::new("DECR").with(key) }
    /// `DECRBY key delta`.
    fn decr_by(key: impl CmdArg, delta: i64) -> i64 { Cmd::new("DECRBY").with(key).with(delta) }
    /// `APPEND key value`: the new length.
    fn append(key: impl CmdArg, value: impl CmdArg) -> u64 { Cmd::new("APPEND").with(key).with(value) }
    /// `STRLEN key`.
    fn strlen(key: impl CmdArg) -> u64 { Cmd::new("STRLEN").with(key) }
    /// `GETRANGE key start end`.
    fn getrange[T](key: impl CmdArg, start: i64, end: i64) -> T {
        Cmd::new("GETRANGE").with(key).with(start).with(end)
    }

    // --- keys and expiry --------------------------------------------------

    /// `DEL key...`: how many were removed.
    fn del(keys: &[impl CmdArg]) -> u64 { with_all(Cmd::new("DEL"), keys) }
    /// `UNLINK key...`.
    fn unlink(keys: &[impl CmdArg]) -> u64 { with_all(Cmd::new("UNLINK"), keys) }
    /// `EXISTS key...`: how many exist.
    fn exists(keys: &[impl CmdArg]) -> u64 { with_all(Cmd::new("EXISTS"), keys) }
    /// `EXPIRE key seconds`: false if the key does not exist.
    fn expire(key: impl CmdArg, seconds: i64) -> bool { Cmd::new("EXPIRE").with(key).with(seconds) }
    /// `PEXPIRE key milliseconds`.
    fn pexpire(key: impl CmdArg, ms: i64) -> bool { Cmd::new("PEXPIRE").with(key).with(ms) }
    /// `EXPIREAT key unix-seconds`.
    fn expire_at(key: impl CmdArg, at: i64) -> bool { Cmd::new("EXPIREAT").with(key).with(at) }
    /// `PERSIST key`: false if there was no expiry.
    fn persist(key: impl CmdArg) -> bool { Cmd::new("PERSIST").with(key) }
    /// `TTL key`: seconds, -1 without expiry, -2 when missing.
    fn ttl(key: impl CmdArg) -> i64 { Cmd::new("TTL").with(key) }
    /// `PTTL key`: milliseconds, -1 without expiry, -2 when missing.
    fn pttl(key: impl CmdArg) -> i64 { Cmd::new("PTTL").with(key) }
    /// `RENAME key newkey`.
    fn rename(key: impl CmdArg, new_key: impl CmdArg) -> () { Cmd::new("RENAME").with(key).with(new_key) }
    /// `TYPE key`: `string`, `list`, ..., `none`.
    fn key_type(key: impl CmdArg) -> String { Cmd::new("TYPE").with(key) }
    /// `KEYS pattern` (blocks the server on big keyspaces; prefer
    /// [`scan`](Commands::scan)).
    fn keys[T](pattern: impl CmdArg) -> T { Cmd::new("KEYS").with(pattern) }

    // --- hashes -----------------------------------------------------------

    /// `HSET key field value`: 1 if the field is new.
    fn hset(key: impl CmdArg, field: impl CmdArg, value: impl CmdArg) -> u64 {
        Cmd::new("HSET").with(key).with(field).with(value)
    }
    /// `HSET key field value ...`: how many fields are new.
    fn hset_multiple(key: impl CmdArg, pairs: &[(impl CmdArg, impl CmdArg)]) -> u64 {
        with_pairs(Cmd::new("HSET").with(key), pairs)
    }
    /// `HSETNX key field value`.
    fn hsetnx(key: impl CmdArg, field: impl CmdArg, value: impl CmdArg) -> bool {
        Cmd::new("HSETNX").with(key).with(field).with(value)
    }
    /// `HGET key field`.
    fn hget[T](key: impl CmdArg, field: impl CmdArg) -> T { Cmd::new("HGET").with(key).with(field) }
    /// `HMGET key field...`.
    fn hmget[T](key: impl CmdArg, fields: &[impl CmdArg]) -> T {
        with_all(Cmd::new("HMGET").with(key), fields)
    }
    /// `HGETALL key`: decode as `HashMap<_, _>` or `Vec<(_, _)>`.
    fn hgetall[T](key: impl CmdArg) -> T { Cmd::new("HGETALL").with(key) }
    /// `HDEL key field...`.
    fn hdel(key: impl CmdArg, fields: &[impl CmdArg]) -> u64 { with_all(Cmd::new("HDEL").with(key), fields) }
    /// `HEXISTS key field`.
    fn hexists(key: impl CmdArg, field: impl CmdArg) -> bool { Cmd::new("HEXISTS").with(key).with(field) }
    /// `HINCRBY key field delta`.
    fn hincr_by(key: impl CmdArg, field: impl CmdArg, delta: i64) -> i64 {
        Cmd::new("HINCRBY").with(key).with(field).with(delta)
    }
    /// `HLEN key`.
    fn hlen(key: impl CmdArg) -> u64 { Cmd::new("HLEN").with(key) }
    /// `HKEYS key`.
    fn hkeys[T](key: impl CmdArg) -> T { Cmd::new("HKEYS").with(key) }
    /// `HVALS key`.
    fn hvals[T](key: impl CmdArg) -> T { Cmd::new("HVALS").with(key) }

    // --- lists ------------------------------------------------------------

    /// `LPUSH key value...`: the new length.
    fn lpush(key: impl CmdArg, values: &[impl CmdArg]) -> u64 { with_all(Cmd::new("LPUSH").with(key), values) }
    /// `RPUSH key value...`: the new length.
    fn rpush(key: impl CmdArg, values: &[impl CmdArg]) -> u64 { with_all(Cmd::new("RPUSH").with(key), values) }
    /// `LPOP key`.
    fn lpop[T](key: impl CmdArg) -> T { Cmd::new("LPOP").with(key) }
    /// `RPOP key`.
    fn rpop[T](key: impl CmdArg) -> T { Cmd::new("RPOP").with(key) }
    /// `LRANGE key start stop`.
    fn lrange[T](key: impl CmdArg, start: i64, stop: i64) -> T {
        Cmd::new("LRANGE").with(key).with(start).with(stop)
    }
    /// `LLEN key`.
    fn llen(key: impl CmdArg) -> u64 { Cmd::new("LLEN").with(key) }
    /// `LINDEX key index`.
    fn lindex[T](key: impl CmdArg, index: i64) -> T { Cmd::new("LINDEX").with(key).with(index) }
    /// `LSET key index value`.
    fn lset(key: impl CmdArg, index: i64, value: impl CmdArg) -> () {
        Cmd::new("LSET").with(key).with(index).with(value)
    }
    /// `LREM key count value`: how many were removed.
    fn lrem(key: impl CmdArg, count: i64, value: impl CmdArg) -> u64 {
        Cmd::new("LREM").with(key).with(count).with(value)
    }
    /// `LTRIM key start stop`.
    fn ltrim(key: impl CmdArg, start: i64, stop: i64) -> () {
        Cmd::new("LTRIM").with(key).with(start).with(stop)
    }
    /// `BLPOP key... timeout` (seconds, 0 = forever): decode as
    /// `Option<(String, String)>` (key, value). A blocking command: the
    /// [`Client`](super::Client) runs it on a connection of its own.
    fn blpop[T](keys: &[impl CmdArg], timeout: f64) -> T {
        with_all(Cmd::new("BLPOP"), keys).with(timeout)
    }
    /// `BRPOP key... timeout`; see [`blpop`](Commands::blpop).
    fn brpop[T](keys: &[impl CmdArg], timeout: f64) -> T {
        with_all(Cmd::new("BRPOP"), keys).with(timeout)
    }

    // --- sets -------------------------------------------------------------

    /// `SADD key member...`: how many were new.
    fn sadd(key: impl CmdArg, members: &[impl CmdArg]) -> u64 { with_all(Cmd::new("SADD").with(key), members) }
    /// `SREM key member...`.
    fn srem(key: impl CmdArg, members: &[impl CmdArg]) -> u64 { with_all(Cmd::new("SREM").with(key), members) }
    /// `SMEMBERS key`: decode as `HashSet<_>` or `Vec<_>`.
    fn smembers[T](key: impl CmdArg) -> T { Cmd::new("SMEMBERS").with(key) }
    /// `SISMEMBER key member`.
    fn sismember(key: impl CmdArg, member: impl CmdArg) -> bool { Cmd::new("SISMEMBER").with(key).with(member) }
    /// `SCARD key`.
    fn scard(key: impl CmdArg) -> u64 { Cmd::new("SCARD").with(key) }
    /// `SINTER key...`.
    fn sinter[T](keys: &[impl CmdArg]) -> T { with_all(Cmd::new("SINTER"), keys) }
    /// `SUNION key...`.
    fn sunion[T](keys: &[impl CmdArg]) -> T { with_all(Cmd::new("SUNION"), keys) }
    /// `SDIFF key...`.
    fn sdiff[T](keys: &[impl CmdArg]) -> T { with_all(Cmd::new("SDIFF"), keys) }
    /// `SPOP key`.
    fn spop[T](key: impl CmdArg) -> T { Cmd::new("SPOP").with(key) }

    // --- sorted sets ------------------------------------------------------

    /// `ZADD key score member ...`: how many were new.
    fn zadd(key: impl CmdArg, members: &[(f64, impl CmdArg)]) -> u64 {
        with_pairs(Cmd::new("ZADD").with(key), members)
    }
    /// `ZREM key member...`.
    fn zrem(key: impl CmdArg, members: &[impl CmdArg]) -> u64 { with_all(Cmd::new("ZREM").with(key), members) }
    /// `ZSCORE key member`.
    fn zscore(key: impl CmdArg, member: impl CmdArg) -> Option<f64> { Cmd::new("ZSCORE").with(key).with(member) }
    /// `ZINCRBY key delta member`: the new score.
    fn zincr_by(key: impl CmdArg, delta: f64, member: impl CmdArg) -> f64 {
        Cmd::new("ZINCRBY").with(key).with(delta).with(member)
    }
    /// `ZRANK key member`.
    fn zrank(key: impl CmdArg, member: impl CmdArg) -> Option<u64> { Cmd::new("ZRANK").with(key).with(member) }
    /// `ZREVRANK key member`.
    fn zrevrank(key: impl CmdArg, member: impl CmdArg) -> Option<u64> {
        Cmd::new("ZREVRANK").with(key).with(member)
    }
    /// `ZCARD key`.
    fn zcard(key: impl CmdArg) -> u64 { Cmd::new("ZCARD").with(key) }
    /// `ZCOUNT key min max` (`"-inf"`, `"(1.5"`, ...).
    fn zcount(key: impl CmdArg, min: impl CmdArg, max: impl CmdArg) -> u64 {
        Cmd::new("ZCOUNT").with(key).with(min).with(max)
    }
    /// `ZRANGE key start stop`.
    fn zrange[T](key: impl CmdArg, start: i64, stop: i64) -> T {
        Cmd::new("ZRANGE").with(key).with(start).with(stop)
    }
    /// `ZRANGE key start stop WITHSCORES`: decode as `Vec<(String, f64)>`
    /// (RESP2 flat and RESP3 nested replies both work).
    fn zrange_withscores[T](key: impl CmdArg, start: i64, stop: i64) -> T {
        Cmd::new("ZRANGE").with(key).with(start).with(stop).with("WITHSCORES")
    }
    /// `ZREVRANGE key start stop`.
    fn zrevrange[T](key: impl CmdArg, start: i64, stop: i64) -> T {
        Cmd::new("ZREVRANGE").with(key).with(start).with(stop)
    }
    /// `ZRANGEBYSCORE key min max`.
    fn zrangebyscore[T](key: impl CmdArg, min: impl CmdArg, max: impl CmdArg) -> T {
        Cmd::new("ZRANGEBYSCORE").with(key).with(min).with(max)
    }
    /// `ZREMRANGEBYSCORE key min max`.
    fn zremrangebyscore(key: impl CmdArg, min: impl CmdArg, max: impl CmdArg) -> u64 {
        Cmd::new("ZREMRANGEBYSCORE").with(key).with(min).with(max)
    }
    /// `ZPOPMIN key count`: `(member, score)` pairs.
    fn zpopmin[T](key: impl CmdArg, count: u64) -> T { Cmd::new("ZPOPMIN").with(key).with(count) }
    /// `ZPOPMAX key count`.
    fn zpopmax[T](key: impl CmdArg, count: u64) -> T { Cmd::new("ZPOPMAX").with(key).with(count) }

    // --- scripting --------------------------------------------------------

    /// `EVAL script numkeys key... arg...` (see also
    /// [`Script`](super::Script), which uses `EVALSHA`).
    fn eval[T](script: impl CmdArg, keys: &[impl CmdArg], args: &[impl CmdArg]) -> T {
        with_all(with_all(Cmd::new("EVAL").with(script).with(keys.len()), keys), args)
    }
    /// `EVALSHA sha1 numkeys key... arg...`.
    fn evalsha[T](sha1: impl CmdArg, keys: &[impl CmdArg], args: &[impl CmdArg]) -> T {
        with_all(with_all(Cmd::new("EVALSHA").with(sha1).with(keys.len()), keys), args)
    }
    /// `SCRIPT LOAD script`: the script's SHA-1.
    fn script_load(script: impl CmdArg) -> String { Cmd::new("SCRIPT").with("LOAD").with(script) }
    /// `SCRIPT FLUSH`.
    fn script_flush() -> () { Cmd::new("SCRIPT").with("FLUSH") }

    // --- streams ----------------------------------------------------------

    /// `XADD key id field value ...` (`id` usually `"*"`): the entry id.
    fn xadd(key: impl CmdArg, id: impl CmdArg, fields: &[(impl CmdArg, impl CmdArg)]) -> String {
        with_pairs(Cmd::new("XADD").with(key).with(id), fields)
    }
    /// `XADD key MAXLEN ~ n id field value ...`.
    fn xadd_maxlen(key: impl CmdArg, maxlen: u64, id: impl CmdArg, fields: &[(impl CmdArg, impl CmdArg)]) -> String {
        with_pairs(Cmd::new("XADD").with(key).with("MAXLEN").with("~").with(maxlen).with(id), fields)
    }
    /// `XLEN key`.
    fn xlen(key: impl CmdArg) -> u64 { Cmd::new("XLEN").with(key) }
    /// `XRANGE key start end`: decode as `Vec<StreamEntry>`.
    fn xrange[T](key: impl CmdArg, start: impl CmdArg, end: impl CmdArg) -> T {
        Cmd::new("XRANGE").with(key).with(start).with(end)
    }
    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key... id...`: decode as
    /// [`StreamReadReply`]. With `BLOCK`, a blocking command.
    fn xread[T](keys: &[impl CmdArg], ids: &[impl CmdArg], opts: StreamReadOptions) -> T {
        let mut c = Cmd::new("XREAD");
        opts.write(&mut c, false);
        stream_read(c, keys, ids)
    }
    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK]
    /// STREAMS key... id...` (`id` `">"` for new entries).
    fn xreadgroup[T](group: impl CmdArg, consumer: impl CmdArg, keys: &[impl CmdArg], ids: &[impl CmdArg], opts: StreamReadOptions) -> T {
        let mut c = Cmd::new("XREADGROUP").with("GROUP").with(group).with(consumer);
        opts.write(&mut c, true);
        stream_read(c, keys, ids)
    }
    /// `XACK key group id...`: how many were acknowledged.
    fn xack(key: impl CmdArg, group: impl CmdArg, ids: &[impl CmdArg]) -> u64 {
        with_all(Cmd::new("XACK").with(key).with(group), ids)
    }
    /// `XGROUP CREATE key group id [MKSTREAM]`.
    fn xgroup_create(key: impl CmdArg, group: impl CmdArg, id: impl CmdArg, mkstream: bool) -> () {
        let c = Cmd::new("XGROUP").with("CREATE").with(key).with(group).with(id);
        if mkstream { c.with("MKSTREAM") } else { c }
    }
    /// `XDEL key id...`.
    fn xdel(key: impl CmdArg, ids: &[impl CmdArg]) -> u64 { with_all(Cmd::new("XDEL").with(key), ids) }
    /// `XTRIM key MAXLEN n`: how many entries were removed.
    fn xtrim(key: impl CmdArg, maxlen: u64) -> u64 { Cmd::new("XTRIM").with(key).with("MAXLEN").with(maxlen) }
}

impl Commands for Connection {
    type Fut<T: FromResp + 'static> = CmdFuture<T>;
    type BatchFut = BatchFuture;

    fn query_cmd<T: FromResp + 'static>(&self, cmd: Cmd) -> CmdFuture<T> {
        self.query(&cmd)
    }

    fn query_batch<'a>(&self, cmds: impl IntoIterator<Item = &'a Cmd>) -> BatchFuture {
        self.send_batch(cmds)
    }
}

/// Builds a command from its arguments: `cmd("SET").arg("k").arg(1)`.
pub fn cmd(name: impl CmdArg) -> Cmd {
    Cmd::new(name)
}
