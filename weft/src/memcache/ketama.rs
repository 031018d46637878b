//! Consistent hashing compatible with libmemcached's weighted ketama
//! (`MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA` with
//! `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED` and the MD5 key hash), so a Weft
//! client and a libmemcached one (or pylibmc, or any client using the same
//! scheme) put a key on the same server.
//!
//! The ring ("continuum"):
//! - server `i` of weight `w_i` gets `floor(w_i / W * 160 / 4 * n + 1e-10) * 4`
//!   points, where `W` is the total weight and `n` the number of servers
//!   (160 points per server when the weights are equal), computed in
//!   single precision as libmemcached does;
//! - the points come from MD5 digests of `"<host>:<port>-<k>"`, `k` from 0,
//!   four points per digest: its bytes `4j..4j+4` read little-endian for
//!   `j` in 0..4. libmemcached leaves the port out for the default port
//!   (`"<host>-<k>"` for 11211); so does this ring;
//! - points are sorted by value (then by server index).
//!
//! A key's hash is the first four bytes of its MD5 digest, little-endian;
//! it goes to the first point at or after it, wrapping to the first point.

use md5::{Digest, Md5};

/// memcached's default port, which libmemcached leaves out of point names.
const DEFAULT_PORT: u16 = 11211;
/// Points per server at equal weights (`MEMCACHED_POINTS_PER_SERVER_KETAMA`).
const POINTS_PER_SERVER: f32 = 160.0;
/// Points taken from one MD5 digest.
const POINTS_PER_HASH: usize = 4;

/// The hash of a key: MD5, first four bytes little-endian.
pub(crate) fn hash_key(key: &[u8]) -> u32 {
    let d: [u8; 16] = Md5::digest(key).into();
    u32::from_le_bytes([d[0], d[1], d[2], d[3]])
}

/// A ketama ring over servers numbered in the order given.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    /// `(point, server index)`, sorted.
    points: Vec<(u32, u32)>,
}

impl Ring {
    /// Builds the ring for `(host, port, weight)` triples. Weights of 0
    /// count as 1.
    pub(crate) fn new<'a>(servers: impl IntoIterator<Item = (&'a str, u16, u32)>) -> Ring {
        let servers: Vec<(&str, u16, u32)> = servers
            .into_iter()
            .map(|(h, p, w)| (h, p, w.max(1)))
            .collect();
        let total: u64 = servers.iter().map(|s| u64::from(s.2)).sum();
        let live = servers.len() as f32;
        let mut points = Vec::new();
        for (index, &(host, port, weight)) in servers.iter().enumerate() {
            let pct = weight as f32 / total as f32;
            let per_server =
                ((pct * POINTS_PER_SERVER / 4.0 * live + 0.000_000_000_1_f32).floor() as usize) * 4;
            for k in 0..per_server / POINTS_PER_HASH {
                let name = if port == DEFAULT_PORT {
                    format!("{host}-{k}")
                } else {
                    format!("{host}:{port}-{k}")
                };
                let d: [u8; 16] = Md5::digest(name.as_bytes()).into();
                for j in 0..POINTS_PER_HASH {
                    let b = &d[j * 4..j * 4 + 4];
                    let value = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    points.push((value, index as u32));
                }
            }
        }
        points.sort_unstable();
        Ring { points }
    }

    /// Number of points.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.points.len()
    }

    /// The position of the first point at or after `hash` (wrapping).
    pub(crate) fn position(&self, hash: u32) -> usize {
        let i = self.points.partition_point(|&(v, _)| v < hash);
        if i == self.points.len() { 0 } else { i }
    }

    /// The server at position `pos`.
    pub(crate) fn server_at(&self, pos: usize) -> usize {
        self.points[pos].1 as usize
    }

    /// The server for a key hash, or `None` on an empty ring.
    pub(crate) fn server(&self, hash: u32) -> Option<usize> {
        if self.points.is_empty() {
            return None;
        }
        Some(self.server_at(self.position(hash)))
    }

    /// The first server for `hash` for which `live` says yes, walking the
    /// ring from the key's point. Taking out a server this way gives the
    /// same placement as rebuilding the ring without it (every other
    /// server's points stay where they are), which is what libmemcached's
    /// auto-eject does.
    pub(crate) fn server_where(
        &self,
        hash: u32,
        mut live: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        if self.points.is_empty() {
            return None;
        }
        let start = self.position(hash);
        let n = self.points.len();
        let mut tried = 0u64;
        for step in 0..n {
            let s = self.server_at((start + step) % n);
            if s < 64 {
                if tried & (1 << s) != 0 {
                    continue;
                }
                tried |= 1 << s;
            }
            if live(s) {
                return Some(s);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libmemcached's ketama compatibility test (tests/ketama_test_cases.h and
    /// tests/libmemcached-1.0/ketama.cc): eight servers on the default port
    /// with uneven weights; a key's hash and the server it must land on.
    fn libmemcached_ring() -> Ring {
        let servers = [
            ("10.0.1.1", 600),
            ("10.0.1.2", 300),
            ("10.0.1.3", 200),
            ("10.0.1.4", 350),
            ("10.0.1.5", 1000),
            ("10.0.1.6", 800),
            ("10.0.1.7", 950),
            ("10.0.1.8", 100),
        ];
        Ring::new(servers.iter().map(|&(h, w)| (h, 11211, w)))
    }

    /// (key, key hash, the ring point it lands on, server).
    const CASES: [(&str, u32, u32, &str); 16] = [
        ("SVa_]_V41)", 443691461, 445379617, "10.0.1.7"),
        ("*/Z;?V(.\\8", 1422915503, 1428303028, "10.0.1.1"),
        ("30C1*Z*S/_", 1473165754, 1480075959, "10.0.1.2"),
        ("1I=cTMNTKF", 2882686667, 2885206587, "10.0.1.5"),
        ("D[HE+cFXDK", 2117036136, 2117124014, "10.0.1.3"),
        ("P1[Ma3=K1/", 1989324036, 1994028240, "10.0.1.8"),
        ("EM75N0+[X1", 1558531507, 1559308507, "10.0.1.4"),
        ("6,cEI`F_P>", 3972869246, 3974773167, "10.0.1.6"),
        ("(,>E`)FT\\4", 580747448, 581063326, "10.0.1.2"),
        ("8*6a;Sc*X+", 4223431086, 4230156966, "10.0.1.2"),
        ("Nb-X^]M)I:", 330865696, 331009896, "10.0.1.6"),
        ("[1ZXONX2]a", 4108881567, 4109865744, "10.0.1.4"),
        ("4*=.SPR[AV", 3928582722, 3928853792, "10.0.1.1"),
        ("CTR74,J+N.", 137446045, 146633907, "10.0.1.8"),
        ("X*+2aaC.EG", 3200948713, 3201088518, "10.0.1.5"),
        ("VD6D0]ba_\\", 3842502950, 3842588691, "10.0.1.1"),
    ];

    #[test]
    fn matches_libmemcached_weighted_ketama() {
        let ring = libmemcached_ring();
        for (key, hash, point, server) in CASES {
            assert_eq!(hash_key(key.as_bytes()), hash, "hash of {key:?}");
            assert_eq!(
                ring.points[ring.position(hash)].0,
                point,
                "point of {key:?}"
            );
            let idx = ring.server(hash).unwrap();
            assert_eq!(format!("10.0.1.{}", idx + 1), server, "server of {key:?}");
        }
        // "VDEAAAAA hashes to fffcd1b5, after the last continuum point":
        // it wraps to the first point.
        let h = hash_key(b"VDEAAAAA");
        assert_eq!(h, 0xfffc_d1b5);
        assert_eq!(ring.position(h), 0);
    }

    #[test]
    fn equal_weights_give_160_points_each() {
        let ring = Ring::new([
            ("127.0.0.1", 11311, 1),
            ("127.0.0.1", 11312, 1),
            ("127.0.0.1", 11313, 1),
        ]);
        assert_eq!(ring.len(), 480);
        let mut per = [0usize; 3];
        for &(_, s) in &ring.points {
            per[s as usize] += 1;
        }
        assert_eq!(per, [160, 160, 160]);
        // Weight 2 gets twice the points of weight 1.
        let ring = Ring::new([("a", 1, 2), ("b", 1, 1), ("c", 1, 1)]);
        let mut per = [0usize; 3];
        for &(_, s) in &ring.points {
            per[s as usize] += 1;
        }
        assert_eq!(per, [240, 120, 120]);
    }

    #[test]
    fn spread_and_stability() {
        let three = Ring::new([("h", 1, 1), ("h", 2, 1), ("h", 3, 1)]);
        let two = Ring::new([("h", 1, 1), ("h", 2, 1)]);
        let mut counts = [0usize; 3];
        let mut moved = 0;
        for i in 0..3000 {
            let key = format!("key:{i}");
            let h = hash_key(key.as_bytes());
            let s = three.server(h).unwrap();
            counts[s] += 1;
            // Removing server 2 moves only its keys, to where the smaller
            // ring puts them, which is where walking past it leads.
            let without = three.server_where(h, |s| s != 2).unwrap();
            assert_eq!(without, two.server(h).unwrap(), "{key}");
            if s != 2 {
                assert_eq!(without, s);
            } else {
                moved += 1;
            }
        }
        assert!(counts.iter().all(|&c| c > 600), "{counts:?}");
        assert_eq!(moved, counts[2]);
        assert_eq!(three.server_where(1, |_| false), None);
        assert_eq!(Ring::new([]).server(5), None);
    }
}
