//! The static table (RFC 7541 §2.3.1, Appendix A).

/// Number of entries in the static table; dynamic indices start after it.
pub(crate) const LEN: usize = 61;

/// RFC 7541 Appendix A, in order: entry `i` (1-based on the wire) is
/// `ENTRIES[i - 1]`.
pub(crate) static ENTRIES: [(&[u8], &[u8]); LEN] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// The entry at 1-based wire index `index`, if it is a static index.
pub(crate) fn get(index: usize) -> Option<(&'static [u8], &'static [u8])> {
    index.checked_sub(1).and_then(|i| ENTRIES.get(i)).copied()
}

/// The name at wire index `index` as static `Bytes` (no allocation); empty
/// for an index outside the table.
pub(crate) fn name_bytes(index: usize) -> bytes::Bytes {
    bytes::Bytes::from_static(get(index).map_or(&b""[..], |(name, _)| name))
}

/// Result of looking a field up in the static table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// Name and value match the entry at this wire index.
    Full(usize),
    /// Only the name matches; this is the lowest such wire index.
    Name(usize),
}

/// Finds `name`/`value` in the static table (used by the encoder).
///
/// Entries sharing a name are adjacent in Appendix A, so one match on the name
/// gives the first index and a short scan covers the values.
pub(crate) fn find(name: &[u8], value: &[u8]) -> Option<Match> {
    let first = first_index(name)?;
    let mut index = first;
    while let Some((n, v)) = get(index) {
        if n != name {
            break;
        }
        if v == value {
            return Some(Match::Full(index));
        }
        index += 1;
    }
    Some(Match::Name(first))
}

/// The lowest wire index whose name is `name`.
fn first_index(name: &[u8]) -> Option<usize> {
    Some(match name {
        b":authority" => 1,
        b":method" => 2,
        b":path" => 4,
        b":scheme" => 6,
        b":status" => 8,
        b"accept-charset" => 15,
        b"accept-encoding" => 16,
        b"accept-language" => 17,
        b"accept-ranges" => 18,
        b"accept" => 19,
        b"access-control-allow-origin" => 20,
        b"age" => 21,
        b"allow" => 22,
        b"authorization" => 23,
        b"cache-control" => 24,
        b"content-disposition" => 25,
        b"content-encoding" => 26,
        b"content-language" => 27,
        b"content-length" => 28,
        b"content-location" => 29,
        b"content-range" => 30,
        b"content-type" => 31,
        b"cookie" => 32,
        b"date" => 33,
        b"etag" => 34,
        b"expect" => 35,
        b"expires" => 36,
        b"from" => 37,
        b"host" => 38,
        b"if-match" => 39,
        b"if-modified-since" => 40,
        b"if-none-match" => 41,
        b"if-range" => 42,
        b"if-unmodified-since" => 43,
        b"last-modified" => 44,
        b"link" => 45,
        b"location" => 46,
        b"max-forwards" => 47,
        b"proxy-authenticate" => 48,
        b"proxy-authorization" => 49,
        b"range" => 50,
        b"referer" => 51,
        b"refresh" => 52,
        b"retry-after" => 53,
        b"server" => 54,
        b"set-cookie" => 55,
        b"strict-transport-security" => 56,
        b"transfer-encoding" => 57,
        b"user-agent" => 58,
        b"vary" => 59,
        b"via" => 60,
        b"www-authenticate" => 61,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_agrees_with_the_table() {
        assert_eq!(get(0), None);
        assert_eq!(get(62), None);
        assert_eq!(get(1), Some((&b":authority"[..], &b""[..])));
        assert_eq!(get(61), Some((&b"www-authenticate"[..], &b""[..])));
        for index in 1..=LEN {
            let (name, value) = get(index).unwrap();
            let first = (1..=LEN).find(|&i| get(i).unwrap().0 == name).unwrap();
            assert_eq!(first_index(name), Some(first), "{index}");
            assert_eq!(find(name, value), Some(Match::Full(index)));
            assert_eq!(find(name, b"\0no such value"), Some(Match::Name(first)));
        }
        assert_eq!(find(b"x-custom", b""), None);
        assert_eq!(find(b":status", b"302"), Some(Match::Name(8)));
        assert_eq!(find(b":status", b"404"), Some(Match::Full(13)));
    }
}
