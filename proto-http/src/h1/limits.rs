//! Limits and timeouts, with defaults safe to expose to the Internet.

use std::time::Duration;

/// Size and count limits applied while parsing, before anything from the
/// wire is trusted or allocated.
///
/// Build it with struct-update syntax: `Limits { max_body: 1 << 20, ..Limits::default() }`.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Longest request line (or status line) in bytes, CRLF and any leading
    /// empty lines included. Exceeding it answers 414 (RFC 9112 §3).
    pub max_request_line: usize,
    /// Largest header section in bytes, start line included. Exceeding it
    /// answers 431 (RFC 6585 §5). Also bounds a trailer section.
    pub max_head_bytes: usize,
    /// Most header fields (and most trailer fields) in one message: 431.
    pub max_headers: usize,
    /// Largest message body in bytes, checked against Content-Length before
    /// reading and against the running total of chunked data: 413.
    pub max_body: u64,
    /// Longest chunk-size line including chunk extensions (RFC 9112 §7.1.1):
    /// longer lines are rejected with 400.
    pub max_chunk_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_line: 8 * 1024,
            max_head_bytes: 64 * 1024,
            max_headers: 200,
            max_body: 8 * 1024 * 1024,
            max_chunk_line: 1024,
        }
    }
}

/// When the server connection sends `100 Continue` (RFC 9110 §10.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContinuePolicy {
    /// Only when the application calls
    /// [`Connection::send_continue`](super::Connection::send_continue),
    /// i.e. when it starts reading the body. A final response sent first
    /// suppresses the 100 and the connection closes after that response,
    /// since whether the client will still send the body is unknowable.
    #[default]
    OnRead,
    /// As soon as the request head is parsed.
    Immediate,
}

/// Configuration of a server [`Connection`](super::Connection).
///
/// Build it with struct-update syntax: `Config { max_pipelined: 4, ..Config::default() }`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Parser limits.
    pub limits: Limits,
    /// Close a keep-alive connection idle for this long (no request in
    /// progress, no response owed). `None` disables.
    pub idle_timeout: Option<Duration>,
    /// Deadline for a whole request head, measured from its first byte (not
    /// refreshed per byte, so a slow-loris client is cut off): 408.
    pub header_timeout: Option<Duration>,
    /// Longest pause between two pieces of a request body: 408.
    pub body_timeout: Option<Duration>,
    /// Longest a write of response bytes may make no progress (a client
    /// that stops reading) before the connection is closed. The machine
    /// never sees the socket: the I/O driver enforces it (weft's server
    /// does). `None` disables.
    pub send_stall_timeout: Option<Duration>,
    /// Most requests parsed ahead of their responses (pipelining depth).
    /// Once reached, the connection stops consuming input until responses
    /// complete.
    pub max_pipelined: usize,
    /// When to send `100 Continue`.
    pub continue_policy: ContinuePolicy,
    /// Add a `Date` header (RFC 9110 §6.6.1) to responses once
    /// [`Connection::set_date`](super::Connection::set_date) was called.
    pub date_header: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            idle_timeout: Some(Duration::from_secs(60)),
            header_timeout: Some(Duration::from_secs(10)),
            body_timeout: Some(Duration::from_secs(30)),
            send_stall_timeout: Some(Duration::from_secs(30)),
            max_pipelined: 16,
            continue_policy: ContinuePolicy::OnRead,
            date_header: true,
        }
    }
}
