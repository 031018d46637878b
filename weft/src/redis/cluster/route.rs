//! Which node a command goes to: the positions of its keys (Redis command
//! reference, "key specifications"; `COMMAND INFO` reports the same
//! positions), whether it only reads, and what a cluster client does with
//! commands whose keys fall into several slots (Redis Cluster
//! specification, "Multi-key operations").

use proto_resp::Cmd;

use super::slot::key_slot;

/// How a multi-key command whose keys span several slots is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Split {
    /// `MGET`: one `MGET` per slot, values put back in the caller's order.
    Mget,
    /// `MSET`: one `MSET` per slot (not atomic across slots).
    Mset,
    /// `DEL`, `UNLINK`, `EXISTS`, `TOUCH`: one per slot, counts added.
    Count,
}

/// How the replies of a command sent to every primary are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Combine {
    /// The first primary's reply (after all succeeded): `SCRIPT LOAD`,
    /// `FLUSHALL`, `FUNCTION LOAD`, ...
    First,
    /// Integers added: `DBSIZE`.
    Sum,
    /// Arrays concatenated: `KEYS`.
    Concat,
}

/// Where a command goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// No key: any primary.
    Any,
    /// Every primary, replies combined.
    All(Combine),
    /// The node serving this slot.
    Slot(u16),
    /// Keys in several slots, and the command can be split per slot.
    Split(Split),
    /// Keys in several slots, and Redis cannot run it that way.
    CrossSlot,
    /// Meaningless on a cluster connection; the text says what to use.
    Unsupported(&'static str),
}

/// A command's name in upper case, if it fits the buffer (every Redis
/// command name does).
fn upper<'a>(name: &[u8], buf: &'a mut [u8; 24]) -> &'a [u8] {
    let n = name.len().min(buf.len());
    for (d, s) in buf.iter_mut().zip(&name[..n]) {
        *d = s.to_ascii_uppercase();
    }
    &buf[..n]
}

/// Where `cmd` goes, and whether it only reads (so a replica may serve
/// it).
pub(crate) fn route(cmd: &Cmd) -> (Route, bool) {
    let mut args = cmd.args();
    let Some(name) = args.next() else {
        return (Route::Any, false);
    };
    let mut buf = [0u8; 24];
    let name = upper(name, &mut buf);
    let readonly = is_readonly(name, cmd);
    let route = match name {
        b"PING" | b"ECHO" | b"INFO" | b"CLIENT" | b"CONFIG" | b"TIME" | b"CLUSTER" | b"COMMAND"
        | b"ACL" | b"LASTSAVE" | b"RANDOMKEY" | b"PUBLISH" | b"WAIT" | b"MULTI" | b"EXEC"
        | b"DISCARD" | b"UNWATCH" | b"READONLY" | b"READWRITE" | b"HELLO" | b"AUTH" | b"SAVE"
        | b"BGSAVE" | b"MEMORY" | b"LATENCY" | b"SLOWLOG" => {
            if name == b"MEMORY" {
                // MEMORY USAGE key.
                key_at(cmd, 2)
            } else {
                Route::Any
            }
        }
        b"DBSIZE" => Route::All(Combine::Sum),
        b"KEYS" => Route::All(Combine::Concat),
        b"FLUSHALL" | b"FLUSHDB" | b"SCRIPT" | b"FUNCTION" => Route::All(Combine::First),
        b"SCAN" => Route::Unsupported(
            "SCAN iterates one node: scan each primary (ClusterClient::primary_clients)",
        ),
        b"SELECT" => Route::Unsupported("a cluster has only database 0"),
        b"MONITOR" | b"SUBSCRIBE" | b"PSUBSCRIBE" | b"SSUBSCRIBE" | b"UNSUBSCRIBE"
        | b"PUNSUBSCRIBE" | b"SUNSUBSCRIBE" => {
            Route::Unsupported("use ClusterClient::pubsub for subscriptions")
        }
        b"MGET" => keys_from(cmd, 1, 1, 0, Some(Split::Mget)),
        b"DEL" | b"UNLINK" | b"EXISTS" | b"TOUCH" => keys_from(cmd, 1, 1, 0, Some(Split::Count)),
        b"MSET" => keys_from(cmd, 1, 2, 0, Some(Split::Mset)),
        b"MSETNX" => keys_from(cmd, 1, 2, 0, None),
        b"WATCH" | b"SINTER" | b"SUNION" | b"SDIFF" | b"SINTERSTORE" | b"SUNIONSTORE"
        | b"SDIFFSTORE" | b"RENAME" | b"RENAMENX" | b"PFCOUNT" | b"PFMERGE" | b"SMOVE"
        | b"LMOVE" | b"RPOPLPUSH" | b"COPY" => {
            let last = match name {
                // SMOVE source destination member; COPY source destination [..].
                b"SMOVE" | b"LMOVE" | b"RPOPLPUSH" | b"COPY" => 2,
                _ => usize::MAX,
            };
            keys_between(cmd, 1, last)
        }
        b"BLPOP" | b"BRPOP" | b"BZPOPMIN" | b"BZPOPMAX" => {
            // key... timeout
            keys_between(cmd, 1, cmd.argc().saturating_sub(2))
        }
        b"EVAL" | b"EVALSHA" | b"EVAL_RO" | b"EVALSHA_RO" | b"FCALL" | b"FCALL_RO" => {
            let numkeys = cmd
                .args()
                .nth(2)
                .and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok())
                .unwrap_or(0);
            if numkeys == 0 {
                Route::Any
            } else {
                keys_between(cmd, 3, 2 + numkeys)
            }
        }
        b"XREAD" | b"XREADGROUP" => {
            let streams = cmd.args().position(|a| a.eq_ignore_ascii_case(b"STREAMS"));
            match streams {
                Some(at) => {
                    let n = (cmd.argc() - at - 1) / 2;
                    if n == 0 {
                        Route::Any
                    } else {
                        keys_between(cmd, at + 1, at + n)
                    }
                }
                None => Route::Any,
            }
        }
        b"OBJECT" | b"XINFO" | b"XGROUP" => key_at(cmd, 2),
        _ => key_at(cmd, 1),
    };
    (route, readonly)
}

/// The slot of the argument at `index`, or [`Route::Any`] without one.
fn key_at(cmd: &Cmd, index: usize) -> Route {
    match cmd.args().nth(index) {
        Some(key) => Route::Slot(key_slot(key)),
        None => Route::Any,
    }
}

/// Keys at `first..=last` (every argument from `first` when `last` is
/// past the end).
fn keys_between(cmd: &Cmd, first: usize, last: usize) -> Route {
    let mut slot = None;
    for key in cmd.args().skip(first).take(last.saturating_sub(first) + 1) {
        let s = key_slot(key);
        match slot {
            None => slot = Some(s),
            Some(prev) if prev != s => return Route::CrossSlot,
            Some(_) => {}
        }
    }
    slot.map_or(Route::Any, Route::Slot)
}

/// Keys from `first` every `step` arguments, stopping `tail` arguments
/// before the end; split as `split` when they span several slots.
fn keys_from(cmd: &Cmd, first: usize, step: usize, tail: usize, split: Option<Split>) -> Route {
    let n = cmd.argc().saturating_sub(tail);
    let mut slot = None;
    for (i, key) in cmd.args().enumerate().take(n).skip(first) {
        if (i - first) % step != 0 {
            continue;
        }
        let s = key_slot(key);
        match slot {
            None => slot = Some(s),
            Some(prev) if prev != s => {
                return split.map_or(Route::CrossSlot, Route::Split);
            }
            Some(_) => {}
        }
    }
    slot.map_or(Route::Any, Route::Slot)
}

fn is_readonly(name: &[u8], cmd: &Cmd) -> bool {
    match name {
        b"GET" | b"MGET" | b"EXISTS" | b"STRLEN" | b"GETRANGE" | b"SUBSTR" | b"GETBIT"
        | b"BITCOUNT" | b"BITPOS" | b"HGET" | b"HMGET" | b"HGETALL" | b"HEXISTS" | b"HLEN"
        | b"HKEYS" | b"HVALS" | b"HSTRLEN" | b"HRANDFIELD" | b"LRANGE" | b"LLEN" | b"LINDEX"
        | b"LPOS" | b"SMEMBERS" | b"SISMEMBER" | b"SMISMEMBER" | b"SCARD" | b"SINTER"
        | b"SINTERCARD" | b"SUNION" | b"SDIFF" | b"SRANDMEMBER" | b"ZSCORE" | b"ZMSCORE"
        | b"ZRANK" | b"ZREVRANK" | b"ZCARD" | b"ZCOUNT" | b"ZLEXCOUNT" | b"ZRANGE"
        | b"ZREVRANGE" | b"ZRANGEBYSCORE" | b"ZREVRANGEBYSCORE" | b"ZRANGEBYLEX"
        | b"ZREVRANGEBYLEX" | b"TTL" | b"PTTL" | b"EXPIRETIME" | b"PEXPIRETIME" | b"TYPE"
        | b"XRANGE" | b"XREVRANGE" | b"XLEN" | b"XPENDING" | b"DBSIZE" | b"KEYS" | b"EVAL_RO"
        | b"EVALSHA_RO" | b"FCALL_RO" | b"GEOPOS" | b"GEODIST" | b"GEOHASH" | b"DUMP" => true,
        b"XREAD" => !cmd.args().any(|a| a.eq_ignore_ascii_case(b"BLOCK")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(args: &[&str]) -> Route {
        let mut c = Cmd::new(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        route(&c).0
    }

    #[test]
    fn single_key_commands_go_to_the_key_slot() {
        assert_eq!(r(&["GET", "foo"]), Route::Slot(12182));
        assert_eq!(r(&["set", "foo", "1"]), Route::Slot(12182));
        assert_eq!(r(&["SPUBLISH", "foo", "m"]), Route::Slot(12182));
        assert_eq!(
            r(&["XGROUP", "CREATE", "foo", "g", "$"]),
            Route::Slot(12182)
        );
        assert_eq!(r(&["PING"]), Route::Any);
    }

    #[test]
    fn multi_key_commands_split_or_refuse() {
        assert_eq!(r(&["MGET", "{a}1", "{a}2"]), Route::Slot(key_slot(b"a")));
        assert_eq!(r(&["MGET", "foo", "bar"]), Route::Split(Split::Mget));
        assert_eq!(r(&["DEL", "foo", "bar"]), Route::Split(Split::Count));
        assert_eq!(
            r(&["MSET", "foo", "bar", "{foo}x", "y"]),
            Route::Slot(12182)
        );
        // The values are not keys.
        assert_eq!(r(&["MSET", "foo", "bar"]), Route::Slot(12182));
        assert_eq!(
            r(&["MSET", "foo", "1", "bar", "2"]),
            Route::Split(Split::Mset)
        );
        assert_eq!(r(&["SUNION", "foo", "bar"]), Route::CrossSlot);
        assert_eq!(r(&["SMOVE", "foo", "{foo}b", "bar"]), Route::Slot(12182));
        assert_eq!(r(&["BLPOP", "foo", "{foo}2", "0"]), Route::Slot(12182));
        assert_eq!(r(&["BLPOP", "foo", "bar", "0"]), Route::CrossSlot);
    }

    #[test]
    fn scripts_and_streams_use_their_key_lists() {
        assert_eq!(r(&["EVAL", "return 1", "0"]), Route::Any);
        assert_eq!(r(&["EVAL", "s", "1", "foo", "bar"]), Route::Slot(12182));
        assert_eq!(r(&["EVAL", "s", "2", "foo", "bar"]), Route::CrossSlot);
        assert_eq!(
            r(&["XREAD", "COUNT", "1", "STREAMS", "foo", "{foo}2", "0", "0"]),
            Route::Slot(12182)
        );
        assert_eq!(
            r(&["XREAD", "STREAMS", "foo", "bar", "0", "0"]),
            Route::CrossSlot
        );
    }

    #[test]
    fn fan_out_and_refusals() {
        assert_eq!(r(&["DBSIZE"]), Route::All(Combine::Sum));
        assert_eq!(r(&["KEYS", "*"]), Route::All(Combine::Concat));
        assert_eq!(r(&["SCRIPT", "LOAD", "x"]), Route::All(Combine::First));
        assert!(matches!(r(&["SCAN", "0"]), Route::Unsupported(_)));
        assert!(matches!(r(&["SELECT", "1"]), Route::Unsupported(_)));
    }

    #[test]
    fn read_only_commands_are_known() {
        let ro = |args: &[&str]| {
            let mut c = Cmd::new(args[0]);
            for a in &args[1..] {
                c.arg(*a);
            }
            route(&c).1
        };
        assert!(ro(&["get", "k"]));
        assert!(!ro(&["SET", "k", "v"]));
        assert!(ro(&["XREAD", "STREAMS", "k", "0"]));
        assert!(!ro(&["XREAD", "BLOCK", "0", "STREAMS", "k", "0"]));
    }
}
