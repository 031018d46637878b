//! What the demo's routes compute, free of any server or driver: the
//! TechEmpower test rules (the `world` and `fortune` tables, JSON shapes,
//! the `q` parameter, the fortunes page) and the cache routes' keys.
//!
//! Shared by weft's demo and the peer servers of the benchmark matrix, so
//! every server does the same work per request.

use std::cell::Cell;
use std::fmt::Write as _;

/// The `/plaintext` body.
pub const PLAINTEXT: &[u8] = b"Hello, World!";
/// `Content-Type` of `/plaintext`.
pub const TEXT: &str = "text/plain";
/// `Content-Type` of the JSON routes.
pub const JSON: &str = "application/json";
/// `Content-Type` of `/fortunes`.
pub const HTML: &str = "text/html; charset=utf-8";

/// One row of `world`.
pub const SELECT_WORLD: &str = "SELECT id, randomnumber FROM world WHERE id = $1";
/// Every row of `fortune`.
pub const SELECT_FORTUNES: &str = "SELECT id, message FROM fortune";
/// Rows in `world`; ids are `1..=WORLD_ROWS`.
pub const WORLD_ROWS: i32 = 10_000;

/// A row of the `world` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct World {
    /// Primary key, `1..=10000`.
    pub id: i32,
    /// A number in `1..=10000`.
    pub random_number: i32,
}

/// A row of the `fortune` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fortune {
    /// Primary key.
    pub id: i32,
    /// The message, unescaped.
    pub message: String,
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

/// A per-thread seed: the clock mixed with the address of a stack local.
fn seed() -> u64 {
    let local = 0u8;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    (nanos ^ (&local as *const u8 as u64).rotate_left(32)) | 1
}

/// A random world id in `1..=10000` (xorshift64*, per thread: no lock, no
/// shared state; not for anything but picking rows).
pub fn random_id() -> i32 {
    RNG.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32;
        (r % WORLD_ROWS as u64) as i32 + 1
    })
}

/// The `q` parameter of `/queries` and `/updates`: missing, not a number or
/// below 1 means 1; above 500 means 500 (TechEmpower's rules).
pub fn query_count(q: Option<&str>) -> usize {
    match q.map(str::parse::<i64>) {
        Some(Ok(n)) => n.clamp(1, 500) as usize,
        _ => 1,
    }
}

/// The `q` parameter read from a raw query string (`a=1&q=20`).
pub fn query_param(query: &str) -> Option<&str> {
    query.split('&').find_map(|pair| pair.strip_prefix("q="))
}

/// `{"message":"Hello, World!"}`.
pub fn hello_json() -> Vec<u8> {
    br#"{"message":"Hello, World!"}"#.to_vec()
}

fn push_world(out: &mut Vec<u8>, w: &World) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(buf.format(w.id).as_bytes());
    out.extend_from_slice(b",\"randomNumber\":");
    out.extend_from_slice(buf.format(w.random_number).as_bytes());
    out.push(b'}');
}

/// `{"id":1,"randomNumber":2}`.
pub fn world_json(w: &World) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    push_world(&mut out, w);
    out
}

/// A JSON array of worlds.
pub fn worlds_json(ws: &[World]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + ws.len() * 34);
    out.push(b'[');
    for (i, w) in ws.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_world(&mut out, w);
    }
    out.push(b']');
    out
}

/// The message TechEmpower's fortunes test adds at request time.
pub const ADDED_FORTUNE: &str = "Additional fortune added at request time.";

/// The `/fortunes` page: the rows plus [`ADDED_FORTUNE`] (id 0), sorted by
/// message, HTML-escaped, in the test's table template.
pub fn fortunes_html(mut fortunes: Vec<Fortune>) -> Vec<u8> {
    fortunes.push(Fortune {
        id: 0,
        message: ADDED_FORTUNE.to_string(),
    });
    fortunes.sort_unstable_by(|a, b| a.message.cmp(&b.message));
    let mut out = String::with_capacity(1200);
    out.push_str(
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body>\
         <table><tr><th>id</th><th>message</th></tr>",
    );
    for f in &fortunes {
        let _ = write!(out, "<tr><td>{}</td><td>", f.id);
        escape_html(&mut out, &f.message);
        out.push_str("</td></tr>");
    }
    out.push_str("</table></body></html>");
    out.into_bytes()
}

/// Appends `s` with `& < > " '` escaped (the characters the HTML spec's
/// text and attribute contexts need).
pub fn escape_html(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => "&#x27;",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// `UPDATE world ... FROM (VALUES ($1, $2), ...)` for `n` rows: one
/// statement per request, parameters as [`update_params`] lays them out.
pub fn update_sql(n: usize) -> String {
    let mut sql = String::from("UPDATE world SET randomnumber = v.r FROM (VALUES ");
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "(${}::int, ${}::int)", 2 * i + 1, 2 * i + 2);
    }
    sql.push_str(") AS v(id, r) WHERE world.id = v.id");
    sql
}

/// The parameters of [`update_sql`]: `id, randomnumber` pairs, rows sorted
/// by id first so concurrent updates lock rows in the same order (no
/// deadlocks between requests).
pub fn update_params(worlds: &mut [World]) -> Vec<i32> {
    worlds.sort_unstable_by_key(|w| w.id);
    worlds
        .iter()
        .flat_map(|w| [w.id, w.random_number])
        .collect()
}

/// The world id a cache route's key names: a number in `1..=10000`.
pub fn cache_id(key: &str) -> Option<i32> {
    key.parse().ok().filter(|id| (1..=WORLD_ROWS).contains(id))
}

/// The cache key under which `/cache/:key` and `/mc/:key` store a world.
pub fn cache_key(id: i32) -> String {
    format!("world:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_in_range() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100_000 {
            let id = random_id();
            assert!((1..=WORLD_ROWS).contains(&id));
            seen.insert(id);
        }
        assert!(seen.len() > 9_000, "poor spread: {}", seen.len());
    }

    #[test]
    fn query_count_rules() {
        assert_eq!(query_count(None), 1);
        assert_eq!(query_count(Some("x")), 1);
        assert_eq!(query_count(Some("0")), 1);
        assert_eq!(query_count(Some("20")), 20);
        assert_eq!(query_count(Some("501")), 500);
        assert_eq!(query_param("a=1&q=7"), Some("7"));
        assert_eq!(query_param("a=1"), None);
    }

    #[test]
    fn json_shapes() {
        let w = World {
            id: 3,
            random_number: 9_999,
        };
        assert_eq!(world_json(&w), br#"{"id":3,"randomNumber":9999}"#);
        assert_eq!(
            worlds_json(&[w, w]),
            br#"[{"id":3,"randomNumber":9999},{"id":3,"randomNumber":9999}]"#
        );
        assert_eq!(worlds_json(&[]), b"[]");
    }

    #[test]
    fn fortunes_are_sorted_and_escaped() {
        let page = fortunes_html(vec![
            Fortune {
                id: 11,
                message: "<script>alert(\"x\");</script>".into(),
            },
            Fortune {
                id: 1,
                message: "fortune: No such file or directory".into(),
            },
        ]);
        let page = String::from_utf8(page).unwrap();
        let script = page
            .find("&lt;script&gt;alert(&quot;x&quot;);&lt;/script&gt;")
            .unwrap();
        let added = page.find(ADDED_FORTUNE).unwrap();
        let first = page.find("fortune: No such").unwrap();
        assert!(script < added && added < first, "{page}");
        assert!(!page.contains("<script>"));
    }

    #[test]
    fn update_statement_and_params_agree() {
        assert_eq!(
            update_sql(2),
            "UPDATE world SET randomnumber = v.r FROM (VALUES ($1::int, $2::int), ($3::int, $4::int)) AS v(id, r) WHERE world.id = v.id"
        );
        let mut ws = [
            World {
                id: 9,
                random_number: 1,
            },
            World {
                id: 2,
                random_number: 5,
            },
        ];
        assert_eq!(update_params(&mut ws), [2, 5, 9, 1]);
    }

    #[test]
    fn cache_keys() {
        assert_eq!(cache_id("42"), Some(42));
        assert_eq!(cache_id("0"), None);
        assert_eq!(cache_id("10001"), None);
        assert_eq!(cache_id("x"), None);
        assert_eq!(cache_key(42), "world:42");
    }
}
