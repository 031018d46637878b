//! Protocol-version-independent HTTP vocabulary: methods, status codes and
//! the character classes of RFC 9110 that both the HTTP/1.1 and the HTTP/2
//! halves validate against.

use std::fmt;

/// A request method (RFC 9110 §9).
///
/// The registered methods get their own variant; any other syntactically
/// valid method token is [`Method::Extension`], whose spelling is available
/// from the request it came with (e.g. `RequestHead::method_bytes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET` (RFC 9110 §9.3.1).
    Get,
    /// `HEAD` (RFC 9110 §9.3.2): the response carries no content.
    Head,
    /// `POST` (RFC 9110 §9.3.3).
    Post,
    /// `PUT` (RFC 9110 §9.3.4).
    Put,
    /// `DELETE` (RFC 9110 §9.3.5).
    Delete,
    /// `CONNECT` (RFC 9110 §9.3.6): request-target is in authority-form.
    Connect,
    /// `OPTIONS` (RFC 9110 §9.3.7).
    Options,
    /// `TRACE` (RFC 9110 §9.3.8).
    Trace,
    /// `PATCH` (RFC 5789).
    Patch,
    /// Any other method token.
    Extension,
}

impl Method {
    /// Classifies a method token. Methods are case-sensitive (RFC 9110 §9.1),
    /// so `get` is an extension method, not `GET`.
    #[must_use]
    pub fn from_bytes(token: &[u8]) -> Method {
        match token {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"CONNECT" => Method::Connect,
            b"OPTIONS" => Method::Options,
            b"TRACE" => Method::Trace,
            b"PATCH" => Method::Patch,
            _ => Method::Extension,
        }
    }

    /// The canonical spelling, or `None` for [`Method::Extension`].
    #[must_use]
    pub fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Patch => "PATCH",
            Method::Extension => return None,
        })
    }
}

/// An HTTP status code (RFC 9110 §15), always in `100..=999`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(u16);

macro_rules! status_consts {
    ($($name:ident = $code:literal, $reason:literal;)*) => {
        impl StatusCode {
            $(
                #[doc = concat!("`", stringify!($code), " ", $reason, "`")]
                pub const $name: StatusCode = StatusCode($code);
            )*

            /// The reason phrase RFC 9110 §15 registers for this code, if any.
            #[must_use]
            pub fn canonical_reason(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some($reason),)*
                    _ => None,
                }
            }
        }
    };
}

status_consts! {
    CONTINUE = 100, "Continue";
    SWITCHING_PROTOCOLS = 101, "Switching Protocols";
    OK = 200, "OK";
    CREATED = 201, "Created";
    ACCEPTED = 202, "Accepted";
    NO_CONTENT = 204, "No Content";
    PARTIAL_CONTENT = 206, "Partial Content";
    MOVED_PERMANENTLY = 301, "Moved Permanently";
    FOUND = 302, "Found";
    SEE_OTHER = 303, "See Other";
    NOT_MODIFIED = 304, "Not Modified";
    TEMPORARY_REDIRECT = 307, "Temporary Redirect";
    PERMANENT_REDIRECT = 308, "Permanent Redirect";
    BAD_REQUEST = 400, "Bad Request";
    UNAUTHORIZED = 401, "Unauthorized";
    FORBIDDEN = 403, "Forbidden";
    NOT_FOUND = 404, "Not Found";
    METHOD_NOT_ALLOWED = 405, "Method Not Allowed";
    REQUEST_TIMEOUT = 408, "Request Timeout";
    CONFLICT = 409, "Conflict";
    LENGTH_REQUIRED = 411, "Length Required";
    PAYLOAD_TOO_LARGE = 413, "Content Too Large";
    URI_TOO_LONG = 414, "URI Too Long";
    EXPECTATION_FAILED = 417, "Expectation Failed";
    UNPROCESSABLE_CONTENT = 422, "Unprocessable Content";
    UPGRADE_REQUIRED = 426, "Upgrade Required";
    TOO_MANY_REQUESTS = 429, "Too Many Requests";
    REQUEST_HEADER_FIELDS_TOO_LARGE = 431, "Request Header Fields Too Large";
    INTERNAL_SERVER_ERROR = 500, "Internal Server Error";
    NOT_IMPLEMENTED = 501, "Not Implemented";
    BAD_GATEWAY = 502, "Bad Gateway";
    SERVICE_UNAVAILABLE = 503, "Service Unavailable";
    GATEWAY_TIMEOUT = 504, "Gateway Timeout";
    HTTP_VERSION_NOT_SUPPORTED = 505, "HTTP Version Not Supported";
}

impl StatusCode {
    /// A status code from its number; `None` outside `100..=999`
    /// (RFC 9110 §15: three digits, first digit 1 to 9... in practice 1 to 5,
    /// but unknown classes are allowed through as extension codes).
    #[must_use]
    pub const fn from_u16(code: u16) -> Option<StatusCode> {
        if code >= 100 && code <= 999 {
            Some(StatusCode(code))
        } else {
            None
        }
    }

    /// The numeric code.
    #[must_use]
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// `1xx`: an interim response (RFC 9110 §15.2).
    #[must_use]
    pub const fn is_informational(self) -> bool {
        self.0 < 200
    }

    /// Whether a response with this status never has content (RFC 9110 §6.4.1:
    /// 1xx, 204 and 304).
    #[must_use]
    pub const fn is_bodiless(self) -> bool {
        self.0 < 200 || self.0 == 204 || self.0 == 304
    }

    /// The three ASCII digits of the code.
    #[must_use]
    pub fn digits(self) -> [u8; 3] {
        let c = self.0;
        [
            b'0' + (c / 100) as u8,
            b'0' + (c / 10 % 10) as u8,
            b'0' + (c % 10) as u8,
        ]
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.canonical_reason() {
            Some(r) => write!(f, "{} {}", self.0, r),
            None => write!(f, "{}", self.0),
        }
    }
}

/// `tchar` of RFC 9110 §5.6.2 as a lookup table.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = matches!(c,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.'
            | b'^' | b'_' | b'`' | b'|' | b'~'
            | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z');
        b += 1;
    }
    t
};

/// `tchar` of RFC 9110 §5.6.2: the characters allowed in a token (method,
/// field name, transfer-coding name).
#[inline]
#[must_use]
pub fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Whether `s` is a non-empty `token` (RFC 9110 §5.6.2).
#[must_use]
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && all_tchar(s)
}

/// Whether `b` may appear inside a field value (RFC 9110 §5.5): VCHAR,
/// obs-text, SP and HTAB. Every other control character, NUL, CR and LF
/// included, is rejected (§5.5 lets a recipient reject CR, LF and NUL and
/// treat other CTLs as invalid).
#[inline]
#[must_use]
pub const fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Whether every byte of `v` is a [`is_field_value_byte`].
///
/// Eight bytes at a time: a word with no byte below 0x20 and none equal to
/// 0x7f is clean, found with two borrow tricks and no branch per byte. A
/// word that fails (a control character, or just a tab) is settled byte by
/// byte. Values are short, so this beats a 16-byte vector loop, whose tail
/// runs byte by byte.
#[inline]
#[must_use]
pub fn all_field_value_bytes(v: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// Whether some byte of `x` is below 0x20 or is 0x7f. Subtracting
    /// `n` from every byte sets a byte's high bit where it was below `n`
    /// and its own high bit was clear; a borrow can flag more bytes only
    /// above one that is truly below `n`, so "some byte" is exact.
    #[inline(always)]
    fn suspect(x: u64) -> bool {
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let d = x ^ (ONES * 0x7f);
        let del = d.wrapping_sub(ONES) & !d & HIGH;
        (below_space | del) != 0
    }
    #[inline(always)]
    fn word(w: &[u8]) -> u64 {
        u64::from_le_bytes(w.try_into().unwrap_or([0; 8]))
    }
    if v.len() < 8 {
        return v.iter().all(|&b| is_field_value_byte(b));
    }
    let mut words = v.chunks_exact(8);
    let mut bad = false;
    for w in &mut words {
        bad |= suspect(word(w));
    }
    if !words.remainder().is_empty() {
        // The last eight bytes, overlapping the last whole word.
        bad |= suspect(word(&v[v.len() - 8..]));
    }
    !bad || v.iter().all(|&b| is_field_value_byte(b))
}

/// Whether every byte of `v` is a `tchar`; no early exit, so the table
/// loads are independent.
#[inline]
#[must_use]
pub fn all_tchar(v: &[u8]) -> bool {
    v.iter().fold(true, |ok, &b| ok & TCHAR[usize::from(b)])
}

/// Whether every byte of `v` is visible ASCII (`%x21-7E`): the characters
/// of a request-target (RFC 9112 §3.2, RFC 3986 §2). Branch-free.
#[inline]
#[must_use]
pub fn all_visible_ascii(v: &[u8]) -> bool {
    v.iter().fold(0u8, |bad, &b| {
        bad | u8::from(b.wrapping_sub(0x21) > 0x7e - 0x21)
    }) == 0
}

/// Whether `v` is a valid field value for sending: only
/// [`is_field_value_byte`] characters, with no leading or trailing
/// whitespace (RFC 9110 §5.5).
#[must_use]
pub fn is_field_value(v: &[u8]) -> bool {
    all_field_value_bytes(v)
        && !matches!(v.first(), Some(b' ' | b'\t'))
        && !matches!(v.last(), Some(b' ' | b'\t'))
}

/// Iterates over the comma-separated elements of a list-based field value
/// (RFC 9110 §5.6.1), trimming optional whitespace and skipping empty
/// elements.
pub fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Strips leading and trailing OWS (SP / HTAB, RFC 9110 §5.6.3).
#[must_use]
pub fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_digits_and_reason() {
        assert_eq!(StatusCode::OK.digits(), *b"200");
        assert_eq!(
            StatusCode::from_u16(431).unwrap().canonical_reason(),
            Some("Request Header Fields Too Large")
        );
        assert!(StatusCode::from_u16(99).is_none());
        assert!(StatusCode::from_u16(1000).is_none());
        assert!(StatusCode::NOT_MODIFIED.is_bodiless());
        assert!(!StatusCode::OK.is_bodiless());
    }

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(Method::from_bytes(b"GET"), Method::Get);
        assert_eq!(Method::from_bytes(b"get"), Method::Extension);
    }

    #[test]
    fn lists() {
        let v: Vec<&[u8]> = list_elements(b" a ,, b\t,c").collect();
        assert_eq!(v, vec![&b"a"[..], b"b", b"c"]);
        assert!(is_token(b"X-Foo"));
        assert!(!is_token(b"X Foo"));
        assert!(!is_token(b""));
        assert!(!is_field_value(b"a\r\nb"));
        assert!(!is_field_value(b"a\0"));
        assert!(is_field_value(b"a\tb"));
    }

    #[test]
    fn field_value_words_agree_with_the_byte_definition() {
        // Every byte value in every lane of values of 1 to 19 bytes, on
        // backgrounds that sit at the edges of the borrow tricks.
        for len in 1..20 {
            for background in [b'a', b' ', b'\t', 0x21, 0x7e, 0x80, 0xff] {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut v = vec![background; len];
                        v[at] = b;
                        let want = v.iter().all(|&x| is_field_value_byte(x));
                        assert_eq!(all_field_value_bytes(&v), want, "{v:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn character_classes_match_their_definitions() {
        for b in 0..=255u8 {
            let one = [b];
            assert_eq!(all_field_value_bytes(&one), is_field_value_byte(b), "{b}");
            assert_eq!(all_visible_ascii(&one), (0x21..0x7f).contains(&b), "{b}");
            let tchar = b"!#$%&'*+-.^_`|~".contains(&b) || b.is_ascii_alphanumeric();
            assert_eq!(is_tchar(b), tchar, "{b}");
        }
    }
}
