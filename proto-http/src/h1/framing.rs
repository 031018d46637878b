//! What the header fields of a request say about its framing and its
//! connection (RFC 9112 §6.3, RFC 9110 §7.2, §7.6.1, §7.8, §10.1.1),
//! gathered one field at a time while the head parser reads them, so the
//! fields are not walked a second time.

use crate::error::{ProtoError, ProtoErrorKind as K};
use crate::header::list_elements;

use super::head::{BodyKind, Span, Version};

/// Connection options (RFC 9110 §7.6.1) relevant to persistence and upgrade.
#[derive(Clone, Copy, Default)]
pub(crate) struct ConnectionOptions {
    pub(crate) close: bool,
    pub(crate) keep_alive: bool,
    pub(crate) upgrade: bool,
}

impl ConnectionOptions {
    /// The options of every `Connection` field of `h`.
    pub(crate) fn of<B: AsRef<[u8]>>(h: &super::head::Headers<B>) -> ConnectionOptions {
        let mut o = ConnectionOptions::default();
        for v in h.get_all("connection") {
            o.add(v);
        }
        o
    }

    fn add(&mut self, v: &[u8]) {
        // The usual value is one option and nothing else.
        if v.eq_ignore_ascii_case(b"keep-alive") {
            self.keep_alive = true;
            return;
        }
        if v.eq_ignore_ascii_case(b"close") {
            self.close = true;
            return;
        }
        for opt in list_elements(v) {
            if opt.eq_ignore_ascii_case(b"close") {
                self.close = true;
            } else if opt.eq_ignore_ascii_case(b"keep-alive") {
                self.keep_alive = true;
            } else if opt.eq_ignore_ascii_case(b"upgrade") {
                self.upgrade = true;
            }
        }
    }
}

/// Parses a Content-Length value: a list of identical `1*DIGIT` elements
/// (RFC 9110 §8.6, RFC 9112 §6.3 item 5). Merges into `acc` so repeated
/// fields with the same value are accepted and differing ones rejected.
/// A value too large for u64 is reported as too large, not as malformed.
pub(crate) fn merge_content_length(
    acc: &mut Option<u64>,
    v: &[u8],
    max: u64,
) -> Result<(), ProtoError> {
    if let Some(n) = plain_digits(v) {
        return merge_one(acc, n, max);
    }
    let mut any = false;
    for part in v.split(|&b| b == b',') {
        let part = crate::header::trim_ows(part);
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return Err(K::BadContentLength.into());
        }
        let mut n: u64 = 0;
        let mut overflow = false;
        for &d in part {
            match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
            {
                Some(x) => n = x,
                None => overflow = true,
            }
        }
        if overflow {
            return Err(K::BodyTooLarge.into());
        }
        match *acc {
            Some(prev) if prev != n => return Err(K::BadContentLength.into()),
            _ => *acc = Some(n),
        }
        any = true;
    }
    if !any {
        return Err(K::BadContentLength.into());
    }
    if acc.is_some_and(|n| n > max) {
        return Err(K::BodyTooLarge.into());
    }
    Ok(())
}

/// The usual Content-Length value, one run of 1 to 19 digits (which fits
/// a u64), read in one pass without a branch per byte; `None` for anything
/// else, which [`merge_content_length`] then reads element by element.
#[inline(always)]
fn plain_digits(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    let mut ok = true;
    for &b in v {
        // A non-digit clears `ok`; the wrapped value is then discarded.
        let d = b.wrapping_sub(b'0');
        ok &= d <= 9;
        n = n.wrapping_mul(10).wrapping_add(u64::from(d));
    }
    ok.then_some(n)
}

/// One element `n` merged into `acc`, then the size limit.
#[inline(always)]
fn merge_one(acc: &mut Option<u64>, n: u64, max: u64) -> Result<(), ProtoError> {
    match *acc {
        Some(prev) if prev != n => return Err(K::BadContentLength.into()),
        _ => *acc = Some(n),
    }
    if n > max {
        return Err(K::BodyTooLarge.into());
    }
    Ok(())
}

/// Transfer-Encoding accumulated over every field line, in order.
#[derive(Clone, Copy, Default)]
pub(crate) struct TransferCodings {
    pub(crate) present: bool,
    chunked_count: u32,
    last_is_chunked: bool,
    unknown: bool,
}

impl TransferCodings {
    pub(crate) fn add(&mut self, v: &[u8]) {
        self.present = true;
        for coding in list_elements(v) {
            if coding.eq_ignore_ascii_case(b"chunked") {
                self.chunked_count += 1;
                self.last_is_chunked = true;
            } else {
                // gzip, deflate, compress are registered but we decode none
                // of them; anything else is unknown. Both get 501.
                self.unknown = true;
                self.last_is_chunked = false;
            }
        }
    }

    /// RFC 9112 §6.3 item 4 and §6.1: the body is chunked only when chunked
    /// is the final coding, applied once (§7: MUST NOT apply twice).
    pub(crate) fn check(&self) -> Result<(), ProtoError> {
        // §6.3 item 4: chunked not final means the length cannot be
        // determined: 400 and close, whatever the other codings are.
        if !self.last_is_chunked || self.chunked_count != 1 {
            return Err(K::BadTransferEncoding.into());
        }
        // §6.1: a coding we do not understand before the final chunked.
        if self.unknown {
            return Err(K::UnknownTransferCoding.into());
        }
        Ok(())
    }
}

/// Characters of `reg-name` (RFC 3986 §3.2.2: unreserved, pct-encoded,
/// sub-delims; an IPv4 address fits it) as a table.
static REG_NAME: [bool; 256] = byte_set(b"-._~%!$&'()*+,;=");

/// Characters inside the brackets of an `IP-literal` (RFC 3986 §3.2.2:
/// IPv6address or IPvFuture).
static IP_LITERAL: [bool; 256] = byte_set(b":.-_~!$&'()*+,;=");

/// ASCII letters and digits plus `extra`, as a lookup table.
const fn byte_set(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

fn all_in(set: &[bool; 256], v: &[u8]) -> bool {
    // Eight lookups per step with no branch between them (a Host value
    // is typically 10 to 30 bytes), then the rest one by one.
    let fold = |ok: bool, w: &[u8]| w.iter().fold(ok, |ok, &b| ok & set[usize::from(b)]);
    let mut words = v.chunks_exact(8);
    let mut ok = true;
    for w in &mut words {
        if let Ok(w) = <&[u8; 8]>::try_from(w) {
            ok = fold(ok, w);
        }
    }
    fold(ok, words.remainder())
}

/// RFC 9110 §7.2: `Host = uri-host [ ":" port ]` (RFC 3986 §3.2.2, §3.2.3),
/// or empty (RFC 9112 §3.2: a target without an authority).
fn valid_host(v: &[u8]) -> bool {
    if let Some(rest) = v.strip_prefix(b"[") {
        // IP-literal: IPv6address or IPvFuture inside brackets.
        let Some(end) = rest.iter().position(|&b| b == b']') else {
            return false;
        };
        let inside = &rest[..end];
        if inside.is_empty() || !all_in(&IP_LITERAL, inside) {
            return false;
        }
        return match &rest[end + 1..] {
            [] => true,
            [b':', port @ ..] => port.iter().all(u8::is_ascii_digit),
            _ => false,
        };
    }
    // The usual value: reg-name only (no port), checked without a branch
    // per byte.
    if all_in(&REG_NAME, v) {
        return true;
    }
    // Else reg-name up to the first byte outside it, which must be the ':'
    // of the port (':' is not a reg-name character).
    match v.iter().position(|&b| !REG_NAME[usize::from(b)]) {
        None => true,
        Some(i) => v[i] == b':' && v[i + 1..].iter().all(u8::is_ascii_digit),
    }
}

/// Whether the field name `name` is `lower` (lowercase letters and `-`),
/// ignoring ASCII case. `name` must consist of `tchar`s, as every name
/// the parser stores does: then setting bit 0x20 of each byte folds
/// exactly the uppercase letters onto `lower` (the only other byte that
/// would fold onto `-` is CR, which is not a `tchar`).
#[inline(always)]
fn is_name(name: &[u8], lower: &[u8]) -> bool {
    name.len() == lower.len()
        && name
            .iter()
            .zip(lower)
            .fold(0u8, |diff, (&a, &b)| diff | ((a | 0x20) ^ b))
            == 0
}

/// The framing-relevant fields of a request head, gathered field by field
/// (RFC 9112 §6.3 and §3.2; RFC 9110 §7.6.1, §7.8, §10.1.1).
#[derive(Clone, Copy)]
pub(crate) struct RequestFields {
    cl: Option<u64>,
    cl_err: Option<ProtoError>,
    te: TransferCodings,
    conn: ConnectionOptions,
    hosts: u32,
    host_ok: bool,
    expect_continue: bool,
    upgrade: Option<Span>,
}

impl Default for RequestFields {
    fn default() -> Self {
        RequestFields {
            cl: None,
            cl_err: None,
            te: TransferCodings::default(),
            conn: ConnectionOptions::default(),
            hosts: 0,
            host_ok: true,
            expect_continue: false,
            upgrade: None,
        }
    }
}

/// The decisions taken from a complete request head's fields.
pub(crate) struct RequestFraming {
    pub(crate) body: BodyKind,
    pub(crate) keep_alive: bool,
    pub(crate) expect_continue: bool,
    pub(crate) upgrade: Option<Span>,
}

impl RequestFields {
    /// Whether a field name of `len` bytes starting with `first` can be one
    /// of those [`add`] looks at (by length and first letter, ignoring
    /// case); the others need not be passed to it.
    ///
    /// [`add`]: Self::add
    #[inline(always)]
    pub(crate) fn may_matter(len: u32, first: u8) -> bool {
        /// Index: name length; value: the lowercase first letter of the
        /// field of that length `add` looks at, or 0.
        const FIRST: [u8; 18] = {
            let mut t = [0u8; 18];
            t[4] = b'h'; // host
            t[6] = b'e'; // expect
            t[7] = b'u'; // upgrade
            t[10] = b'c'; // connection
            t[14] = b'c'; // content-length
            t[17] = b't'; // transfer-encoding
            t
        };
        // A tchar with bit 0x20 set is a lowercase letter only if it was a
        // letter; 0 never matches since no tchar ORed with 0x20 is 0.
        FIRST.get(len as usize).is_some_and(|&c| c == first | 0x20)
    }

    /// Notes one field line, in wire order. `name` consists of `tchar`s;
    /// `value` is the value's span in `buf`. Errors are kept for
    /// [`finish`](Self::finish), which decides which one wins.
    #[inline(never)]
    pub(crate) fn add(&mut self, name: &[u8], value: Span, buf: &[u8], max_body: u64) {
        // Length first: most names match none of these lengths, and of those
        // that do, the first byte tells most apart.
        match name.len() {
            4 if is_name(name, b"host") => self.add_host(value.get(buf)),
            14 if is_name(name, b"content-length") => {
                self.add_content_length(value.get(buf), max_body);
            }
            _ => self.add_other(name, value, buf),
        }
    }

    /// RFC 9112 §3.2, RFC 9110 §7.2: counted, and its value checked.
    #[inline]
    fn add_host(&mut self, v: &[u8]) {
        self.hosts += 1;
        self.host_ok &= valid_host(v);
    }

    /// RFC 9112 §6.3 item 5: merged into the length read so far; the
    /// first error is kept.
    #[inline]
    fn add_content_length(&mut self, v: &[u8], max_body: u64) {
        if self.cl_err.is_some() {
            return;
        }
        // The usual value read here, the rest by the general merge.
        let r = match plain_digits(v) {
            Some(n) => merge_one(&mut self.cl, n, max_body),
            None => merge_content_length(&mut self.cl, v, max_body),
        };
        if let Err(e) = r {
            self.cl_err = Some(e);
        }
    }

    /// The other fields [`add`](Self::add) looks at.
    #[inline]
    fn add_other(&mut self, name: &[u8], value: Span, buf: &[u8]) {
        // Length first, then the whole name.
        match name.len() {
            6 if is_name(name, b"expect") => {
                self.expect_continue |= value.get(buf).eq_ignore_ascii_case(b"100-continue");
            }
            7 if is_name(name, b"upgrade") => self.upgrade = Some(value),
            10 if is_name(name, b"connection") => self.conn.add(value.get(buf)),
            17 if is_name(name, b"transfer-encoding") => self.te.add(value.get(buf)),
            _ => {}
        }
    }

    /// RFC 9112 §6.3 for requests, and §3.2 for `Host`, once every field
    /// has been added.
    pub(crate) fn finish(&self, version: Version) -> Result<RequestFraming, ProtoError> {
        // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request.
        // ... and a Host with an invalid value is a 400 too.
        if self.hosts > 1 || (self.hosts == 0 && version == Version::Http11) || !self.host_ok {
            return Err(K::BadHost.into());
        }
        let body = if self.te.present {
            // §6.3 item 3: both present is a smuggling attempt; reject.
            if self.cl.is_some() || self.cl_err.is_some() {
                return Err(K::ContentLengthWithTransferEncoding.into());
            }
            // §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
            if version == Version::Http10 {
                return Err(K::BadTransferEncoding.into());
            }
            self.te.check()?;
            BodyKind::Chunked
        } else if let Some(e) = self.cl_err {
            return Err(e);
        } else {
            // §6.3 item 7: no CL, no TE: a request has no body.
            BodyKind::Length(self.cl.unwrap_or(0))
        };
        let keep_alive = match version {
            Version::Http10 => self.conn.keep_alive && !self.conn.close,
            Version::Http11 | Version::H2 => !self.conn.close,
        };
        Ok(RequestFraming {
            body,
            keep_alive,
            expect_continue: self.expect_continue,
            upgrade: if self.conn.upgrade {
                self.upgrade
            } else {
                None
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::is_tchar;

    #[test]
    fn name_folding_is_exact_on_tokens() {
        for lower in [
            &b"host"[..],
            b"expect",
            b"upgrade",
            b"connection",
            b"content-length",
            b"transfer-encoding",
        ] {
            // Every single-byte change to a token byte either still spells
            // the name ignoring case or is rejected.
            for i in 0..lower.len() {
                for b in (0..=255u8).filter(|&b| is_tchar(b)) {
                    let mut name = lower.to_vec();
                    name[i] = b;
                    assert_eq!(
                        is_name(&name, lower),
                        name.eq_ignore_ascii_case(lower),
                        "{:?}",
                        String::from_utf8_lossy(&name)
                    );
                }
            }
            assert!(is_name(&lower.to_ascii_uppercase(), lower));
            assert!(!is_name(&lower[1..], lower));
        }
    }

    #[test]
    fn connection_single_option_shortcut_agrees_with_the_list() {
        for v in [
            &b"keep-alive"[..],
            b"Keep-Alive",
            b"close",
            b"CLOSE",
            b"upgrade",
            b"keep-alive, close",
            b"close,keep-alive",
            b"Upgrade, HTTP2-Settings",
            b"keep-alivex",
            b"clos",
            b"",
            b",,",
        ] {
            let mut fast = ConnectionOptions::default();
            fast.add(v);
            let mut list = ConnectionOptions::default();
            for opt in list_elements(v) {
                list.close |= opt.eq_ignore_ascii_case(b"close");
                list.keep_alive |= opt.eq_ignore_ascii_case(b"keep-alive");
                list.upgrade |= opt.eq_ignore_ascii_case(b"upgrade");
            }
            assert_eq!(
                (fast.close, fast.keep_alive, fast.upgrade),
                (list.close, list.keep_alive, list.upgrade),
                "{:?}",
                String::from_utf8_lossy(v)
            );
        }
    }

    #[test]
    fn prefilter_admits_every_framing_field() {
        for name in [
            "host",
            "expect",
            "upgrade",
            "connection",
            "content-length",
            "transfer-encoding",
        ] {
            for n in [name.to_string(), name.to_ascii_uppercase()] {
                assert!(
                    RequestFields::may_matter(n.len() as u32, n.as_bytes()[0]),
                    "{n}"
                );
            }
        }
        assert!(!RequestFields::may_matter(6, b'A'), "Accept");
        assert!(!RequestFields::may_matter(10, b'U'), "User-Agent");
        assert!(!RequestFields::may_matter(4, b'I'), "Iost");
        assert!(!RequestFields::may_matter(5, b'h'));
        assert!(!RequestFields::may_matter(1000, b'h'));
    }

    #[test]
    fn content_length_fast_and_general_paths_agree() {
        let max = 1000;
        for v in [
            &b"0"[..],
            b"5",
            b"1000",
            b"1001",
            b"0005",
            b"9999999999999999999",
            b"18446744073709551615",
            b"18446744073709551616",
            b"5, 5",
            b"5,6",
            b"",
            b" 5",
            b"+5",
            b"5a",
        ] {
            let mut fast = None;
            let a = merge_content_length(&mut fast, v, max);
            // The general path, reached through leading whitespace.
            let mut general = None;
            let mut padded = b" ".to_vec();
            padded.extend_from_slice(v);
            let b = merge_content_length(&mut general, &padded, max);
            assert_eq!((a, fast), (b, general), "{:?}", String::from_utf8_lossy(v));
            // Repeated: a second identical value is accepted, a different
            // one rejected.
            if a.is_ok() {
                let mut acc = fast;
                assert!(merge_content_length(&mut acc, v, max).is_ok());
                assert_eq!(
                    merge_content_length(&mut acc, b"7", max).map_err(|e| e.kind()),
                    Err(K::BadContentLength)
                );
            }
        }
    }

    #[test]
    fn set_membership_in_words_agrees_with_byte_by_byte() {
        // Every length across the 8-byte steps and the remainder, with a
        // byte outside the set at every position (or none).
        for len in 0..=25 {
            for bad_at in 0..=len {
                for bad in [b'/', b' ', 0xff, b':', b'@'] {
                    let mut v = vec![b'a'; len];
                    if bad_at < len {
                        v[bad_at] = bad;
                    }
                    for set in [&REG_NAME, &IP_LITERAL] {
                        assert_eq!(
                            all_in(set, &v),
                            v.iter().all(|&b| set[usize::from(b)]),
                            "len {len} {bad:#x} at {bad_at}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn host_values() {
        for ok in [
            &b"example.com"[..],
            b"example.com:8080",
            b"127.0.0.1:80",
            b"[::1]",
            b"[::1]:8080",
            b"",
            b"a-b_c~d%20!$&'()*+,;=",
            b"h:",
        ] {
            assert!(valid_host(ok), "{:?}", String::from_utf8_lossy(ok));
        }
        for bad in [
            &b"exa mple.com"[..],
            b"a:8x",
            b"[::1",
            b"[]",
            b"[::1]x",
            b"a/b",
            b"a@b",
            b"\xff",
            b"[::1]:8x",
        ] {
            assert!(!valid_host(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
