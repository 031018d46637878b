//! A deliberately small HTTP/1.1 client over a blocking socket, speaking raw
//! bytes: it sends exactly what a case wrote and reads responses by the
//! client-side framing rules of RFC 9112 §6.3, noting (not rejecting) every
//! way a response breaks the grammar a sender MUST follow.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::thread;

use crate::framework::{Fail, Target, fail};

/// Largest response header section read (a server's answer, not ours).
const MAX_HEAD: usize = 256 * 1024;
/// Largest response content read.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Resolves the target's address.
pub fn resolve(t: &Target) -> Result<SocketAddr, Fail> {
    t.endpoint
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| fail("a resolvable host:port", format!("{:?}", t.endpoint)))
}

/// One connection to the server.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// Why no complete response could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The server closed the connection (cleanly) before a whole response.
    Closed {
        /// Bytes of a partial response received before the close.
        partial: usize,
    },
    /// The connection was reset.
    Reset,
    /// Nothing (or not enough) arrived within the I/O timeout.
    Timeout {
        /// Bytes received so far.
        partial: usize,
    },
    /// The bytes are not an HTTP/1.x response.
    Malformed(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed { partial: 0 } => f.write_str("connection closed without a response"),
            ReadError::Closed { partial } => {
                write!(f, "connection closed after {partial} bytes of a response")
            }
            ReadError::Reset => f.write_str("connection reset"),
            ReadError::Timeout { partial: 0 } => f.write_str("no response before the timeout"),
            ReadError::Timeout { partial } => {
                write!(f, "response incomplete ({partial} bytes) at the timeout")
            }
            ReadError::Malformed(m) => write!(f, "malformed response: {m}"),
        }
    }
}

impl From<ReadError> for Fail {
    fn from(e: ReadError) -> Fail {
        fail("a complete HTTP/1.1 response", e.to_string())
    }
}

/// What happened after the last response when waiting for the close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum After {
    /// The server closed (EOF or reset).
    Closed,
    /// The connection stayed open and silent until the timeout.
    Open,
    /// More bytes arrived (the start shown, lossily).
    Data(String),
}

/// A response as read.
#[derive(Debug, Clone)]
pub struct Response {
    /// `HTTP/1.1`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// Field lines in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The content, de-chunked.
    pub body: Vec<u8>,
    /// Ways the response breaks what RFC 9112 requires of a sender.
    pub violations: Vec<String>,
}

impl Response {
    /// The first field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated field (`Connection`) holds `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the server will close after this response: it says
    /// `close`, or it is an HTTP/1.0 response without `keep-alive`
    /// (RFC 9112 §9.3).
    pub fn closes(&self) -> bool {
        self.has_token("connection", "close")
            || (self.version == "HTTP/1.0" && !self.has_token("connection", "keep-alive"))
    }

    /// `HTTP/1.1 200 OK, 13 bytes`, for failure messages.
    pub fn summary(&self) -> String {
        format!(
            "{} {} {}, {} content bytes",
            self.version,
            self.status,
            self.reason,
            self.body.len()
        )
    }
}

impl Conn {
    /// Connects with the target's I/O timeout on connect, reads and writes.
    pub fn open(t: &Target) -> Result<Conn, Fail> {
        let addr = resolve(t)?;
        let stream = TcpStream::connect_timeout(&addr, t.io_timeout)
            .map_err(|e| fail(format!("a connection to {addr}"), e.to_string()))?;
        stream.set_read_timeout(Some(t.io_timeout))?;
        stream.set_write_timeout(Some(t.io_timeout))?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    /// Writes all of `bytes`.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Writes `bytes` from another thread, ignoring errors: for requests a
    /// server may answer (and close on) before reading them whole.
    pub fn send_background(&mut self, bytes: Vec<u8>) -> Result<(), Fail> {
        let mut s = self.stream.try_clone()?;
        thread::spawn(move || {
            let _ = s.write_all(&bytes);
        });
        Ok(())
    }

    /// Reads more bytes into the buffer.
    fn fill(&mut self) -> Result<(), ReadError> {
        let mut tmp = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(0) => {
                    return Err(ReadError::Closed {
                        partial: self.buf.len(),
                    });
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => {
                    return Err(ReadError::Timeout {
                        partial: self.buf.len(),
                    });
                }
                Err(_) => return Err(ReadError::Reset),
            }
        }
    }

    /// Reads one response (interim 1xx responses included). `head` says
    /// the request was HEAD, whose response has no content (RFC 9112 §6.3
    /// rule 1).
    pub fn response(&mut self, head: bool) -> Result<Response, ReadError> {
        let end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Malformed(format!(
                    "header section over {MAX_HEAD} bytes"
                )));
            }
            self.fill()?;
        };
        let head_bytes: Vec<u8> = self.buf.drain(..end).collect();
        let mut r = parse_head(&head_bytes[..end - 2])?;
        let no_content =
            head || (100..200).contains(&r.status) || r.status == 204 || r.status == 304;
        if no_content {
            return Ok(r);
        }
        let te = r.header("transfer-encoding").map(str::to_ascii_lowercase);
        if let Some(te) = te {
            if te.rsplit(',').next().map(str::trim) == Some("chunked") {
                r.body = self.chunked()?;
            } else {
                r.body = self.until_close()?;
            }
            return Ok(r);
        }
        let lengths: Vec<&str> = r
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.as_str())
            .collect();
        if let Some(first) = lengths.first() {
            if lengths.iter().any(|l| l != first) {
                return Err(ReadError::Malformed(format!(
                    "conflicting Content-Length {lengths:?}"
                )));
            }
            let n: usize = first
                .parse()
                .ok()
                .filter(|_| first.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| ReadError::Malformed(format!("Content-Length {first:?}")))?;
            if n > MAX_BODY {
                return Err(ReadError::Malformed(format!(
                    "Content-Length {n} too large to read"
                )));
            }
            while self.buf.len() < n {
                self.fill()?;
            }
            r.body = self.buf.drain(..n).collect();
            return Ok(r);
        }
        r.body = self.until_close()?;
        Ok(r)
    }

    /// Reads the next final (non-1xx) response, returning the interim ones
    /// before it too.
    pub fn final_response(&mut self, head: bool) -> Result<(Vec<Response>, Response), ReadError> {
        let mut interim = Vec::new();
        loop {
            let r = self.response(head)?;
            if (100..200).contains(&r.status) {
                interim.push(r);
            } else {
                return Ok((interim, r));
            }
        }
    }

    fn line(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).take(i).collect();
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Malformed("chunk line too long".into()));
            }
            self.fill()?;
        }
    }

    /// De-chunks a chunked body (RFC 9112 §7.1), discarding the trailers.
    fn chunked(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.line()?;
            let size_part = line.split(|&b| b == b';').next().unwrap_or(&[]);
            let size_text = String::from_utf8_lossy(size_part).trim().to_string();
            let size = usize::from_str_radix(&size_text, 16)
                .map_err(|_| ReadError::Malformed(format!("chunk size {size_text:?}")))?;
            if size == 0 {
                // Trailer section, up to the empty line.
                while !self.line()?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY {
                return Err(ReadError::Malformed(
                    "chunked content too large to read".into(),
                ));
            }
            while self.buf.len() < size + 2 {
                self.fill()?;
            }
            body.extend(self.buf.drain(..size));
            if self.buf.drain(..2).as_slice() != b"\r\n" {
                return Err(ReadError::Malformed(
                    "chunk data not followed by CRLF".into(),
                ));
            }
        }
    }

    fn until_close(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            match self.fill() {
                Ok(()) if self.buf.len() > MAX_BODY => {
                    return Err(ReadError::Malformed(
                        "close-delimited content too large".into(),
                    ));
                }
                Ok(()) => {}
                Err(ReadError::Closed { .. }) | Err(ReadError::Reset) => {
                    return Ok(std::mem::take(&mut self.buf));
                }
                Err(ReadError::Timeout { partial }) => {
                    return Err(ReadError::Malformed(format!(
                        "content delimited by close, but the connection stayed open ({partial} bytes)"
                    )));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Waits (up to the I/O timeout) for the server to close, reporting
    /// anything that arrives instead.
    pub fn after(&mut self) -> After {
        if !self.buf.is_empty() {
            return After::Data(lossy(&self.buf));
        }
        match self.fill() {
            Err(ReadError::Closed { .. }) | Err(ReadError::Reset) => After::Closed,
            Err(ReadError::Timeout { .. }) => After::Open,
            Err(ReadError::Malformed(m)) => After::Data(m),
            Ok(()) => After::Data(lossy(&self.buf)),
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// At most 80 characters of `b`, escaped.
pub fn lossy(b: &[u8]) -> String {
    let s: String = b
        .iter()
        .take(80)
        .flat_map(|&c| std::ascii::escape_default(c))
        .map(char::from)
        .collect();
    if b.len() > 80 { format!("{s}...") } else { s }
}

fn is_tchar(b: u8) -> bool {
    // RFC 9110 §5.6.2.
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses a status-line and field lines (RFC 9112 §4, §5), each ending in
/// its line terminator, recording every departure from the sender grammar
/// as a violation.
fn parse_head(head: &[u8]) -> Result<Response, ReadError> {
    let mut violations = Vec::new();
    let head = head.strip_suffix(b"\n").unwrap_or(head);
    let mut lines = head.split(|&b| b == b'\n').map(|l| {
        if let Some(l) = l.strip_suffix(b"\r") {
            (l, true)
        } else {
            (l, false)
        }
    });
    let (status_line, crlf) = lines.next().unwrap_or((&[], true));
    if !crlf {
        violations.push("status-line ends in a bare LF".into());
    }
    let sl = String::from_utf8_lossy(status_line).to_string();
    let mut parts = sl.splitn(3, ' ');
    let version = parts.next().unwrap_or("").to_string();
    let code = parts.next().unwrap_or("");
    let reason = parts.next();
    let vb = version.as_bytes();
    if !(vb.len() == 8 && vb.starts_with(b"HTTP/1.") && vb[7].is_ascii_digit()) {
        return Err(ReadError::Malformed(format!(
            "status-line {:?}",
            lossy(status_line)
        )));
    }
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ReadError::Malformed(format!(
            "status-line {:?}",
            lossy(status_line)
        )));
    }
    if reason.is_none() {
        violations.push("no SP after the status code (RFC 9112 §4: MUST send it)".into());
    }
    let reason = reason.unwrap_or("").to_string();
    if reason
        .bytes()
        .any(|b| b != b'\t' && (b < b' ' || b == 0x7f))
    {
        violations.push("control character in the reason phrase".into());
    }
    let mut headers = Vec::new();
    for (line, crlf) in lines {
        if !crlf {
            violations.push("field line ends in a bare LF".into());
        }
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            violations.push("obs-fold in a response (RFC 9112 §5.2: MUST NOT)".into());
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            violations.push(format!("field line without a colon: {:?}", lossy(line)));
            continue;
        };
        let name = &line[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            violations.push(format!("field name is not a token: {:?}", lossy(name)));
        }
        let value = &line[colon + 1..];
        if value.iter().any(|&b| b == b'\r' || b == 0) {
            violations.push(format!("CR or NUL in the value of {:?}", lossy(name)));
        }
        let value = String::from_utf8_lossy(value)
            .trim_matches([' ', '\t'])
            .to_string();
        headers.push((String::from_utf8_lossy(name).to_string(), value));
    }
    Ok(Response {
        version,
        status: code.parse().unwrap_or(0),
        reason,
        headers,
        body: Vec::new(),
        violations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_parsing_notes_violations() {
        let r = parse_head(b"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\nB : 2\r\nC:3\r\n").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("c"), Some("3"));
        assert_eq!(r.violations.len(), 2, "{:?}", r.violations);
        let r = parse_head(b"HTTP/1.1 204\r\nX: y\r\n").unwrap();
        assert_eq!(r.violations.len(), 1);
        let r = parse_head(b"HTTP/1.1 200 OK\nX: y\r\n").unwrap();
        assert_eq!(r.violations, ["status-line ends in a bare LF"]);
        assert!(parse_head(b"HTTP/2 200 OK").is_err());
        assert!(parse_head(b"HTTP/1.1 20 OK").is_err());
    }
}
