//! Request field validation (RFC 9113 §8.2, §8.3.1) and the conversion of
//! a decoded field list into a [`RequestHead`].

use crate::h1::{BodyKind, Headers, RequestHead};
use crate::h2::hpack::HeaderField;
use crate::header::is_token;

/// Why a request or trailer section is malformed (RFC 9113 §8.1.1): a
/// stream error of type `PROTOCOL_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Uppercase or non-token field name (§8.2.1).
    BadName,
    /// NUL, CR, LF, or leading/trailing whitespace in a value (§8.2.1).
    BadValue,
    /// A connection-specific field (§8.2.2).
    ConnectionSpecific,
    /// Unknown, repeated, misplaced or response pseudo-header (§8.3).
    BadPseudo,
    /// A required pseudo-header is missing or empty (§8.3.1).
    MissingPseudo,
    /// `content-length` is not a decimal number, or several differ (§8.1.1).
    BadContentLength,
}

/// The facts about a request the connection needs besides the head.
pub(crate) struct Parsed {
    pub(crate) head: RequestHead,
    pub(crate) content_length: Option<u64>,
}

/// §8.2.1 name checks: a token without uppercase.
fn check_name(name: &[u8]) -> Result<(), Malformed> {
    if !is_token(name) || name.iter().any(u8::is_ascii_uppercase) {
        return Err(Malformed::BadName);
    }
    Ok(())
}

/// §8.2.1 value checks: no NUL, CR or LF; no leading or trailing SP/HTAB.
fn check_value(value: &[u8]) -> Result<(), Malformed> {
    let ws = |b: &u8| *b == b' ' || *b == b'\t';
    if value.iter().any(|b| matches!(b, 0 | b'\r' | b'\n'))
        || value.first().is_some_and(ws)
        || value.last().is_some_and(ws)
    {
        return Err(Malformed::BadValue);
    }
    Ok(())
}

/// §8.2.2: fields that only make sense for one HTTP/1.1 connection;
/// `te` is allowed with the value `trailers` only.
fn check_regular(name: &[u8], value: &[u8]) -> Result<(), Malformed> {
    check_name(name)?;
    check_value(value)?;
    match name {
        b"connection" | b"proxy-connection" | b"keep-alive" | b"transfer-encoding" | b"upgrade" => {
            Err(Malformed::ConnectionSpecific)
        }
        b"te" if value != b"trailers" => Err(Malformed::ConnectionSpecific),
        _ => Ok(()),
    }
}

fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// Validates a request field list and builds its head (§8.3.1).
pub(crate) fn request(fields: &[HeaderField], end_stream: bool) -> Result<Parsed, Malformed> {
    let (mut method, mut scheme, mut authority, mut path) = (None, None, None, None);
    let mut regular = false;
    let mut content_length: Option<u64> = None;
    let mut has_host = false;
    let mut cookies = 0usize;
    for f in fields {
        let (name, value) = (&f.name[..], &f.value[..]);
        if let Some(pseudo) = name.strip_prefix(b":") {
            // §8.3: pseudo-headers come first, each once, requests' only.
            let slot = match pseudo {
                b"method" => &mut method,
                b"scheme" => &mut scheme,
                b"authority" => &mut authority,
                b"path" => &mut path,
                _ => return Err(Malformed::BadPseudo),
            };
            if regular || slot.is_some() {
                return Err(Malformed::BadPseudo);
            }
            check_value(value)?;
            *slot = Some(value);
            continue;
        }
        regular = true;
        check_regular(name, value)?;
        match name {
            b"content-length" => {
                let n = parse_length(value).ok_or(Malformed::BadContentLength)?;
                if content_length.is_some_and(|c| c != n) {
                    return Err(Malformed::BadContentLength);
                }
                content_length = Some(n);
            }
            b"host" => has_host = true,
            b"cookie" => cookies += 1,
            _ => {}
        }
    }
    let method = method.ok_or(Malformed::MissingPseudo)?;
    if method.is_empty() || !is_token(method) {
        return Err(Malformed::MissingPseudo);
    }
    let path: &[u8] = if method == b"CONNECT" {
        // §8.5: CONNECT carries only :method and :authority.
        if scheme.is_some() || path.is_some() || authority.is_none() {
            return Err(Malformed::BadPseudo);
        }
        authority.unwrap_or_default()
    } else {
        // §8.3.1: :method, :scheme and a non-empty :path are required.
        match (scheme, path) {
            (Some(s), Some(p)) if !s.is_empty() && !p.is_empty() => p,
            _ => return Err(Malformed::MissingPseudo),
        }
    };
    let body = match content_length {
        Some(n) => BodyKind::Length(n),
        None if end_stream => BodyKind::Length(0),
        None => BodyKind::UntilEof,
    };
    // §8.3.1: :authority stands in for Host when there is none.
    let host = authority
        .filter(|_| !has_host)
        .map(|a| (&b"host"[..], a))
        .into_iter();
    let regular = fields
        .iter()
        .filter(|f| !(f.name.starts_with(b":") || cookies > 1 && &f.name[..] == b"cookie"))
        .map(|f| (&f.name[..], &f.value[..]));
    // §8.2.3: cookie crumbs are joined with "; " for HTTP/1.1-shaped users.
    let joined: Option<Vec<u8>> = (cookies > 1).then(|| {
        let mut v = Vec::new();
        for f in fields.iter().filter(|f| &f.name[..] == b"cookie") {
            if !v.is_empty() {
                v.extend_from_slice(b"; ");
            }
            v.extend_from_slice(&f.value);
        }
        v
    });
    let cookie = joined.as_deref().map(|v| (&b"cookie"[..], v)).into_iter();
    let head = RequestHead::from_h2(method, path, host.chain(regular).chain(cookie), body);
    Ok(Parsed {
        head,
        content_length,
    })
}

/// Validates a trailer section (§8.1: no pseudo-headers) and builds it.
pub(crate) fn trailers(fields: &[HeaderField]) -> Result<Headers, Malformed> {
    for f in fields {
        if f.name.starts_with(b":") {
            return Err(Malformed::BadPseudo);
        }
        check_regular(&f.name, &f.value)?;
    }
    Ok(Headers::from_pairs(
        fields.iter().map(|f| (&f.name[..], &f.value[..])),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: &'static str, v: &'static str) -> HeaderField {
        HeaderField::new(n, v)
    }

    fn base() -> Vec<HeaderField> {
        vec![
            f(":method", "GET"),
            f(":scheme", "http"),
            f(":authority", "example.com"),
            f(":path", "/a?b=1"),
        ]
    }

    #[test]
    fn a_valid_request_becomes_a_head() {
        let mut fields = base();
        fields.push(f("accept", "*/*"));
        fields.push(f("cookie", "a=1"));
        fields.push(f("cookie", "b=2"));
        let p = request(&fields, true).unwrap();
        assert_eq!(p.head.method_bytes(), b"GET");
        assert_eq!(p.head.path(), b"/a");
        assert_eq!(p.head.query(), Some(&b"b=1"[..]));
        assert_eq!(p.head.headers().get("host"), Some(&b"example.com"[..]));
        assert_eq!(p.head.headers().get("cookie"), Some(&b"a=1; b=2"[..]));
        assert_eq!(p.head.version(), crate::h1::Version::H2);
        assert_eq!(p.head.body_kind(), BodyKind::Length(0));
        let p = request(&base(), false).unwrap();
        assert_eq!(p.head.body_kind(), BodyKind::UntilEof);
    }

    #[test]
    fn malformed_requests_per_rfc_9113_8() {
        let cases: Vec<(Vec<HeaderField>, Malformed)> = vec![
            // §8.3: a pseudo-header after a regular field.
            (
                vec![
                    f(":method", "GET"),
                    f("a", "b"),
                    f(":scheme", "http"),
                    f(":path", "/"),
                ],
                Malformed::BadPseudo,
            ),
            // §8.3: unknown and response pseudo-headers, duplicates.
            (
                [base(), vec![f(":status", "200")]].concat(),
                Malformed::BadPseudo,
            ),
            (
                [base(), vec![f(":foo", "x")]].concat(),
                Malformed::BadPseudo,
            ),
            (
                [vec![f(":path", "/")], base()].concat(),
                Malformed::BadPseudo,
            ),
            // §8.3.1: missing or empty :path / :scheme / :method.
            (
                vec![f(":method", "GET"), f(":scheme", "http")],
                Malformed::MissingPseudo,
            ),
            (
                vec![f(":method", "GET"), f(":path", "/")],
                Malformed::MissingPseudo,
            ),
            (
                vec![f(":method", "GET"), f(":scheme", "http"), f(":path", "")],
                Malformed::MissingPseudo,
            ),
            (
                vec![f(":scheme", "http"), f(":path", "/")],
                Malformed::MissingPseudo,
            ),
            // §8.2.1: uppercase names, bad values.
            (
                [base(), vec![f("Accept", "x")]].concat(),
                Malformed::BadName,
            ),
            ([base(), vec![f("a", " x")]].concat(), Malformed::BadValue),
            (
                [base(), vec![f("a", "x\r\ny")]].concat(),
                Malformed::BadValue,
            ),
            // §8.2.2: connection-specific fields.
            (
                [base(), vec![f("connection", "close")]].concat(),
                Malformed::ConnectionSpecific,
            ),
            (
                [base(), vec![f("te", "gzip")]].concat(),
                Malformed::ConnectionSpecific,
            ),
            // §8.1.1: content-length.
            (
                [base(), vec![f("content-length", "x")]].concat(),
                Malformed::BadContentLength,
            ),
            (
                [
                    base(),
                    vec![f("content-length", "1"), f("content-length", "2")],
                ]
                .concat(),
                Malformed::BadContentLength,
            ),
        ];
        for (fields, want) in cases {
            assert_eq!(request(&fields, true).err(), Some(want), "{fields:?}");
        }
        assert!(request(&[base(), vec![f("te", "trailers")]].concat(), true).is_ok());
        // §8.5 CONNECT: :authority only.
        let connect = vec![f(":method", "CONNECT"), f(":authority", "a:443")];
        assert!(request(&connect, false).is_ok());
        let bad = vec![
            f(":method", "CONNECT"),
            f(":authority", "a:443"),
            f(":path", "/"),
        ];
        assert_eq!(request(&bad, false).err(), Some(Malformed::BadPseudo));
        // §8.1: trailers carry no pseudo-headers.
        assert_eq!(
            trailers(&[f(":path", "/")]).err(),
            Some(Malformed::BadPseudo)
        );
        assert_eq!(
            trailers(&[f("x-sum", "1")]).unwrap().get("x-sum"),
            Some(&b"1"[..])
        );
    }
}
