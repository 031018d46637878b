//! The h2c upgrade (RFC 7540 §3.2, §3.2.1; RFC 9113 §3.1 keeps the token
//! but deprecates the mechanism): deciding whether an HTTP/1.1 request asks
//! for it properly, and decoding its `HTTP2-Settings`.
//!
//! Anything ambiguous (several upgrade tokens, a missing or repeated
//! `HTTP2-Settings`, `HTTP2-Settings` not listed in `Connection`, invalid
//! base64url or settings) is not an h2c upgrade: the server answers the
//! request as plain HTTP/1.1, which RFC 9110 §7.8 allows ("a server MAY
//! ignore a received Upgrade header field").

use crate::h1::RequestHead;
use crate::header::list_elements;

use super::settings::Setting;

/// The `HTTP2-Settings` payload (SETTINGS parameters, 6 octets each) when
/// `head` is a well-formed h2c upgrade request; `None` otherwise.
///
/// ```
/// use std::time::Instant;
/// use bytes::BytesMut;
/// use proto_http::h1::{Config, Connection, Event};
/// use proto_http::h2::upgrade::h2c_settings;
///
/// let mut conn = Connection::new(Config::default());
/// let mut buf = BytesMut::from(
///     &b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\n\
///        Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n"[..],
/// );
/// conn.handle_input(Instant::now(), &mut buf);
/// let Some(Event::Request { head, .. }) = conn.poll_event() else { panic!() };
/// // SETTINGS_MAX_CONCURRENT_STREAMS = 100.
/// assert_eq!(h2c_settings(&head).unwrap(), [0, 3, 0, 0, 0, 100]);
/// ```
#[must_use]
pub fn h2c_settings(head: &RequestHead) -> Option<Vec<u8>> {
    let upgrade = head.upgrade()?;
    // Exactly one protocol, `h2c` (RFC 7540 §3.2).
    let mut protocols = list_elements(upgrade);
    let first = protocols.next()?;
    if !first.eq_ignore_ascii_case(b"h2c") || protocols.next().is_some() {
        return None;
    }
    let headers = head.headers();
    // RFC 7540 §3.2.1: exactly one HTTP2-Settings, named in Connection.
    let mut values = headers.get_all("http2-settings");
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let listed = headers
        .get_all("connection")
        .flat_map(list_elements)
        .any(|o| o.eq_ignore_ascii_case(b"http2-settings"));
    if !listed {
        return None;
    }
    let payload = base64url_decode(value)?;
    if payload.len() % 6 != 0 {
        return None;
    }
    let valid = payload.chunks_exact(6).all(|p| {
        let id = u16::from_be_bytes([p[0], p[1]]);
        let v = u32::from_be_bytes([p[2], p[3], p[4], p[5]]);
        Setting::from_wire(id, v).is_ok()
    });
    valid.then_some(payload)
}

/// base64url without padding (RFC 4648 §5), as `token68` in RFC 7540
/// §3.2.1; trailing `=` padding is tolerated.
fn base64url_decode(s: &[u8]) -> Option<Vec<u8>> {
    let s = match s.iter().position(|&b| b == b'=') {
        Some(i) if s[i..].iter().all(|&b| b == b'=') && s.len() - i <= 2 => &s[..i],
        Some(_) => return None,
        None => s,
    };
    if s.len() % 4 == 1 || s.len() > 4096 {
        return None;
    }
    let val = |b: u8| -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (k, &b) in chunk.iter().enumerate() {
            acc |= val(b)? << (18 - 6 * k);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h1::{Config, Connection, Event};
    use bytes::BytesMut;
    use std::time::Instant;

    fn head(raw: &str) -> RequestHead {
        let mut c = Connection::new(Config::default());
        let mut buf = BytesMut::from(raw.as_bytes());
        c.handle_input(Instant::now(), &mut buf);
        match c.poll_event() {
            Some(Event::Request { head, .. }) => head,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn base64url_round_trips() {
        assert_eq!(base64url_decode(b"").unwrap(), b"");
        assert_eq!(base64url_decode(b"AAMAAABk").unwrap(), [0, 3, 0, 0, 0, 100]);
        assert_eq!(base64url_decode(b"_-8").unwrap(), [0xff, 0xef]);
        assert_eq!(base64url_decode(b"_-8=").unwrap(), [0xff, 0xef]);
        assert!(base64url_decode(b"A").is_none());
        assert!(base64url_decode(b"AA+A").is_none());
        assert!(base64url_decode(b"A=AA").is_none());
    }

    #[test]
    fn only_unambiguous_upgrades_qualify() {
        let ok = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
        let p = h2c_settings(&head(ok)).unwrap();
        assert_eq!(p, [0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 0xff, 0xff]);
        let empty = "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n";
        assert_eq!(h2c_settings(&head(empty)).unwrap(), b"");
        for bad in [
            // Two protocols offered.
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c, websocket\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
            // No HTTP2-Settings.
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
            // HTTP2-Settings not a connection option.
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
            // Two HTTP2-Settings.
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
            // Not a multiple of 6 octets; invalid ENABLE_PUSH value 2.
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAA\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAIAAAAC\r\n\r\n",
            // Another protocol.
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: websocket\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
        ] {
            assert!(h2c_settings(&head(bad)).is_none(), "{bad}");
        }
    }
}
