//! The slot map: which primary (and which replicas) serve each of the
//! 16384 slots, read from `CLUSTER SHARDS` (Redis 7) or `CLUSTER SLOTS`
//! (older servers), and patched in place by `MOVED` redirects.

use proto_resp::Frame;

use super::slot::SLOTS;
use crate::redis::error::Error;

/// One primary and its replicas, as `host:port` addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shard {
    pub(crate) primary: String,
    pub(crate) replicas: Vec<String>,
}

/// Slot to shard.
#[derive(Clone)]
pub(crate) struct SlotMap {
    /// Index into `shards` per slot; `NONE` when no node serves it.
    owner: Box<[u16]>,
    shards: Vec<Shard>,
}

const NONE: u16 = u16::MAX;

impl std::fmt::Debug for SlotMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotMap")
            .field("shards", &self.shards)
            .finish_non_exhaustive()
    }
}

fn text(f: &Frame) -> Option<String> {
    match f {
        Frame::Integer(i) => Some(i.to_string()),
        f => Some(String::from_utf8_lossy(f.as_bytes()?).into_owned()),
    }
}

fn bad(what: &str) -> Error {
    Error::Type(format!("malformed {what} reply"))
}

/// Field/value pairs of a RESP3 map or a RESP2 flat array.
fn fields(f: &Frame) -> Option<Vec<(String, &Frame)>> {
    match f {
        Frame::Map(m) => m.iter().map(|(k, v)| Some((text(k)?, v))).collect(),
        Frame::Array(v) => v
            .chunks(2)
            .map(|kv| match kv {
                [k, v] => Some((text(k)?, v)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn address(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

impl SlotMap {
    /// An empty map (no slot served).
    pub(crate) fn empty() -> Self {
        SlotMap {
            owner: vec![NONE; usize::from(SLOTS)].into_boxed_slice(),
            shards: Vec::new(),
        }
    }

    fn assign(&mut self, start: i64, end: i64, shard: u16) -> Result<(), Error> {
        if !(0..i64::from(SLOTS)).contains(&start) || !(start..i64::from(SLOTS)).contains(&end) {
            return Err(bad("slot range"));
        }
        for s in start..=end {
            self.owner[s as usize] = shard;
        }
        Ok(())
    }

    fn push(&mut self, shard: Shard) -> Result<u16, Error> {
        if self.shards.len() >= usize::from(NONE) {
            return Err(bad("CLUSTER SHARDS (too many shards)"));
        }
        self.shards.push(shard);
        Ok((self.shards.len() - 1) as u16)
    }

    /// Parses `CLUSTER SHARDS`: per shard, `slots` (start/end pairs) and
    /// `nodes` (maps with `endpoint`/`ip`, `port`, `role`, `health`).
    /// Replicas that are not `online` are left out.
    pub(crate) fn from_shards(reply: &Frame) -> Result<SlotMap, Error> {
        let mut map = SlotMap::empty();
        for shard in reply.as_elements().ok_or_else(|| bad("CLUSTER SHARDS"))? {
            let f = fields(shard).ok_or_else(|| bad("CLUSTER SHARDS"))?;
            let get = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            let slots: Vec<i64> = get("slots")
                .and_then(Frame::as_elements)
                .ok_or_else(|| bad("CLUSTER SHARDS slots"))?
                .iter()
                .map(|s| s.as_integer().or_else(|| text(s)?.parse().ok()))
                .collect::<Option<_>>()
                .ok_or_else(|| bad("CLUSTER SHARDS slots"))?;
            let mut primary = None;
            let mut replicas = Vec::new();
            for node in get("nodes")
                .and_then(Frame::as_elements)
                .ok_or_else(|| bad("CLUSTER SHARDS nodes"))?
            {
                let nf = fields(node).ok_or_else(|| bad("CLUSTER SHARDS node"))?;
                let nget = |name: &str| {
                    nf.iter()
                        .find(|(k, _)| k == name)
                        .and_then(|(_, v)| text(v))
                };
                let host = nget("endpoint")
                    .filter(|e| !e.is_empty() && e != "?")
                    .or_else(|| nget("ip"))
                    .ok_or_else(|| bad("CLUSTER SHARDS node address"))?;
                let port = nget("port").ok_or_else(|| bad("CLUSTER SHARDS node port"))?;
                let online = nget("health").is_none_or(|h| h == "online");
                let addr = address(&host, &port);
                match nget("role").as_deref() {
                    Some("master") if online || primary.is_none() => primary = Some(addr),
                    Some("replica") if online => replicas.push(addr),
                    _ => {}
                }
            }
            // A shard without slots (an empty primary) serves nothing.
            let Some(primary) = primary else { continue };
            if slots.is_empty() {
                continue;
            }
            if slots.len() % 2 != 0 {
                return Err(bad("CLUSTER SHARDS slots"));
            }
            let i = map.push(Shard { primary, replicas })?;
            for range in slots.chunks(2) {
                map.assign(range[0], range[1], i)?;
            }
        }
        Ok(map)
    }

    /// Parses `CLUSTER SLOTS`: `[start, end, [host, port, id, ..], replicas...]`.
    pub(crate) fn from_slots(reply: &Frame) -> Result<SlotMap, Error> {
        let mut map = SlotMap::empty();
        for range in reply.as_elements().ok_or_else(|| bad("CLUSTER SLOTS"))? {
            let e = range.as_elements().ok_or_else(|| bad("CLUSTER SLOTS"))?;
            let (Some(start), Some(end)) = (
                e.first().and_then(Frame::as_integer),
                e.get(1).and_then(Frame::as_integer),
            ) else {
                return Err(bad("CLUSTER SLOTS range"));
            };
            let mut nodes = e[2..].iter().map(|n| {
                let n = n.as_elements()?;
                let host = text(n.first()?)?;
                let port = text(n.get(1)?)?;
                Some(address(&host, &port))
            });
            let primary = nodes
                .next()
                .flatten()
                .ok_or_else(|| bad("CLUSTER SLOTS node"))?;
            let replicas: Vec<String> = nodes.flatten().collect();
            let i = match map.shards.iter().position(|s| s.primary == primary) {
                Some(i) => i as u16,
                None => map.push(Shard { primary, replicas })?,
            };
            map.assign(start, end, i)?;
        }
        Ok(map)
    }

    /// The shard serving `slot`.
    pub(crate) fn shard(&self, slot: u16) -> Option<&Shard> {
        let i = *self.owner.get(usize::from(slot))?;
        self.shards.get(usize::from(i))
    }

    /// Every shard.
    pub(crate) fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// Whether no slot is served (not loaded yet).
    pub(crate) fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// This map with `slot` served by the primary at `addr` (a `MOVED`
    /// redirect); a primary not seen before becomes a shard of its own.
    pub(crate) fn with_moved(&self, slot: u16, addr: &str) -> SlotMap {
        let mut map = self.clone();
        let i = match map.shards.iter().position(|s| s.primary == addr) {
            Some(i) => i as u16,
            None => match map.push(Shard {
                primary: addr.to_owned(),
                replicas: Vec::new(),
            }) {
                Ok(i) => i,
                Err(_) => return map,
            },
        };
        if let Some(o) = map.owner.get_mut(usize::from(slot)) {
            *o = i;
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn b(s: &str) -> Frame {
        Frame::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn node(ip: &str, port: i64, role: &str, health: &str) -> Frame {
        Frame::Map(vec![
            (b("id"), b("abc")),
            (b("port"), Frame::Integer(port)),
            (b("ip"), b(ip)),
            (b("endpoint"), b(ip)),
            (b("role"), b(role)),
            (b("health"), b(health)),
        ])
    }

    #[test]
    fn parses_cluster_shards() {
        let reply = Frame::Array(vec![
            Frame::Map(vec![
                (
                    b("slots"),
                    Frame::Array(vec![
                        Frame::Integer(0),
                        Frame::Integer(99),
                        Frame::Integer(200),
                        Frame::Integer(16383),
                    ]),
                ),
                (
                    b("nodes"),
                    Frame::Array(vec![
                        node("127.0.0.1", 7000, "master", "online"),
                        node("127.0.0.1", 7003, "replica", "online"),
                        node("127.0.0.1", 7006, "replica", "failed"),
                    ]),
                ),
            ]),
            // RESP2 shape: flat field/value arrays.
            Frame::Array(vec![
                b("slots"),
                Frame::Array(vec![Frame::Integer(100), Frame::Integer(199)]),
                b("nodes"),
                Frame::Array(vec![Frame::Array(vec![
                    b("port"),
                    Frame::Integer(7001),
                    b("ip"),
                    b("127.0.0.1"),
                    b("endpoint"),
                    b("127.0.0.1"),
                    b("role"),
                    b("master"),
                    b("health"),
                    b("online"),
                ])]),
            ]),
        ]);
        let map = SlotMap::from_shards(&reply).unwrap();
        let s = map.shard(50).unwrap();
        assert_eq!(s.primary, "127.0.0.1:7000");
        assert_eq!(s.replicas, ["127.0.0.1:7003"]);
        assert_eq!(map.shard(150).unwrap().primary, "127.0.0.1:7001");
        assert_eq!(map.shard(16383).unwrap().primary, "127.0.0.1:7000");
        let moved = map.with_moved(150, "127.0.0.1:7000");
        assert_eq!(moved.shard(150).unwrap().primary, "127.0.0.1:7000");
        let moved = moved.with_moved(151, "127.0.0.1:7009");
        assert_eq!(moved.shard(151).unwrap().primary, "127.0.0.1:7009");
        assert_eq!(map.shard(151).unwrap().primary, "127.0.0.1:7001");
    }

    #[test]
    fn parses_cluster_slots() {
        let reply = Frame::Array(vec![Frame::Array(vec![
            Frame::Integer(0),
            Frame::Integer(16383),
            Frame::Array(vec![b("127.0.0.1"), Frame::Integer(7000), b("id1")]),
            Frame::Array(vec![b("127.0.0.1"), Frame::Integer(7001), b("id2")]),
        ])]);
        let map = SlotMap::from_slots(&reply).unwrap();
        assert_eq!(map.shard(0).unwrap().primary, "127.0.0.1:7000");
        assert_eq!(map.shard(0).unwrap().replicas, ["127.0.0.1:7001"]);
    }

    #[test]
    fn rejects_hostile_ranges() {
        for (start, end) in [(-1, 5), (5, 4), (0, 16384)] {
            let reply = Frame::Array(vec![Frame::Array(vec![
                Frame::Integer(start),
                Frame::Integer(end),
                Frame::Array(vec![b("h"), Frame::Integer(1)]),
            ])]);
            assert!(SlotMap::from_slots(&reply).is_err(), "{start}..{end}");
        }
        assert!(SlotMap::from_shards(&Frame::Integer(3)).is_err());
    }
}
