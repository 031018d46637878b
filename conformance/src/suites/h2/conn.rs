//! One HTTP/2 connection to the server over a blocking socket: it writes
//! the frames a case builds and reads the server's frames back as
//! [`Event`]s, decoding every header block (so the HPACK state stays in
//! step whatever the case skips), acknowledging the server's SETTINGS and
//! PINGs, and (unless a case takes flow control over) giving back the
//! flow-control credit of every DATA frame it reads.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use super::frame::{self, Frame, flag, setting, ty};
use super::hpack::{Block, Decoder};
use super::lossy;
use crate::framework::{Fail, Target, fail};
use crate::suites::h1::wire::resolve;

/// What reading the connection gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A frame other than HEADERS and CONTINUATION.
    Frame(Frame),
    /// A whole header block (HEADERS and its CONTINUATIONs), decoded.
    Headers(Headers),
    /// The server closed the connection (EOF).
    Closed,
    /// The connection was reset.
    Reset,
    /// Nothing arrived within the I/O timeout.
    Timeout,
    /// The server sent something that is not HTTP/2 (a frame we cannot
    /// parse, a header block we cannot decode).
    Broken(String),
}

impl Event {
    /// One line for failure messages.
    pub fn describe(&self) -> String {
        match self {
            Event::Frame(f) => f.describe(),
            Event::Headers(h) => format!(
                "HEADERS(stream {}{}, {})",
                h.stream,
                if h.end_stream { ", END_STREAM" } else { "" },
                h.status()
                    .map(|s| format!(":status {s}"))
                    .unwrap_or_else(|| format!("{} fields", h.fields.len()))
            ),
            Event::Closed => "connection closed".into(),
            Event::Reset => "connection reset".into(),
            Event::Timeout => "nothing more before the timeout".into(),
            Event::Broken(why) => format!("not HTTP/2: {why}"),
        }
    }

    /// Whether the connection is gone.
    pub fn is_closed(&self) -> bool {
        matches!(self, Event::Closed | Event::Reset)
    }
}

/// A decoded header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// Its stream.
    pub stream: u32,
    /// Fields in order, pseudo-headers included.
    pub fields: Vec<(String, String)>,
    /// Whether the HEADERS frame carried END_STREAM.
    pub end_stream: bool,
}

impl Headers {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `:status`, parsed.
    pub fn status(&self) -> Option<u16> {
        self.get(":status").and_then(|s| s.parse().ok())
    }
}

/// A whole response read from one stream.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// Informational (1xx) header blocks.
    pub interim: Vec<Headers>,
    /// The final header block's fields.
    pub fields: Vec<(String, String)>,
    /// The final status.
    pub status: u16,
    /// The content.
    pub body: Vec<u8>,
    /// Trailer fields, if a trailer section came.
    pub trailers: Vec<(String, String)>,
}

impl Response {
    /// `200, 13 content octets`.
    pub fn summary(&self) -> String {
        format!("{}, {} content octets", self.status, self.body.len())
    }
}

/// One connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// The server's SETTINGS values, in the order received.
    pub server_settings: Vec<(u16, u32)>,
    /// Whether a SETTINGS ACK (for ours) has arrived.
    pub settings_acked: bool,
    /// Answer the server's SETTINGS with an ACK (on by default).
    pub auto_ack: bool,
    /// Give back the credit of every DATA frame read (on by default).
    pub auto_window: bool,
    decoder: Decoder,
    /// `host:port`, sent as `:authority`.
    pub authority: String,
}

impl Conn {
    /// A TCP connection with the target's timeouts; nothing sent yet.
    pub fn tcp(t: &Target) -> Result<Conn, Fail> {
        let addr = resolve(t)?;
        let stream = TcpStream::connect_timeout(&addr, t.io_timeout)
            .map_err(|e| fail(format!("a connection to {addr}"), e.to_string()))?;
        stream.set_read_timeout(Some(t.io_timeout))?;
        stream.set_write_timeout(Some(t.io_timeout))?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream,
            buf: Vec::new(),
            server_settings: Vec::new(),
            settings_acked: false,
            auto_ack: true,
            auto_window: true,
            decoder: Decoder::default(),
            authority: t.endpoint.clone(),
        })
    }

    /// An HTTP/2 connection by prior knowledge (RFC 9113 §3.3): the
    /// preface, our SETTINGS (`ENABLE_PUSH` 0 plus `settings`), then the
    /// server's first frame, which MUST be SETTINGS (§3.4).
    pub fn open(t: &Target, settings: &[(u16, u32)]) -> Result<Conn, Fail> {
        let mut c = Conn::tcp(t)?;
        c.write(frame::PREFACE);
        c.start(settings)?;
        Ok(c)
    }

    /// Sends our SETTINGS and reads the server's preface SETTINGS.
    pub fn start(&mut self, settings: &[(u16, u32)]) -> Result<(), Fail> {
        let mut ours = vec![(setting::ENABLE_PUSH, 0)];
        ours.extend_from_slice(settings);
        self.send(&frame::settings(&ours));
        if self.peek(5).is_ok_and(|b| b == b"HTTP/") {
            let line = self.read_until(b"\r\n", 4096).unwrap_or_default();
            return Err(fail(
                "the server's connection preface: a SETTINGS frame first (RFC 9113 §3.4)",
                format!(
                    "an HTTP/1 response ({}): no HTTP/2 by prior knowledge here",
                    String::from_utf8_lossy(&line).trim_end()
                ),
            ));
        }
        match self.event() {
            Event::Frame(f) if f.ty == ty::SETTINGS && !f.has(flag::ACK) => Ok(()),
            other => Err(fail(
                "the server's connection preface: a SETTINGS frame first (RFC 9113 §3.4)",
                other.describe(),
            )),
        }
    }

    /// Writes raw bytes. A write error is not reported here: the server
    /// closing is seen by the next read.
    pub fn write(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Writes one frame.
    pub fn send(&mut self, f: &Frame) {
        self.write(&f.encode());
    }

    /// Writes several frames in one write.
    pub fn send_all(&mut self, frames: &[Frame]) {
        let bytes: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
        self.write(&bytes);
    }

    /// The request fields `:method`, `:scheme` (http), `:path`,
    /// `:authority`.
    pub fn request(&self, method: &str, path: &str) -> Vec<(String, String)> {
        vec![
            (":method".into(), method.into()),
            (":scheme".into(), "http".into()),
            (":path".into(), path.into()),
            (":authority".into(), self.authority.clone()),
        ]
    }

    /// The header block of a request.
    pub fn request_block(&self, method: &str, path: &str) -> Block {
        Block::new().fields(&self.request(method, path))
    }

    /// A value of the server's SETTINGS (the last one sent for `id`).
    pub fn server_setting(&self, id: u16) -> Option<u32> {
        self.server_settings
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| *v)
    }

    /// The server's SETTINGS_MAX_FRAME_SIZE (default 16 384).
    pub fn max_frame_size(&self) -> u32 {
        self.server_setting(setting::MAX_FRAME_SIZE)
            .unwrap_or(16_384)
    }

    fn fill(&mut self, want: usize) -> Result<(), Event> {
        let mut tmp = [0u8; 16 * 1024];
        while self.buf.len() < want {
            match self.stream.read(&mut tmp) {
                Ok(0) => return Err(Event::Closed),
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(Event::Timeout);
                }
                Err(_) => return Err(Event::Reset),
            }
        }
        Ok(())
    }

    /// Reads raw bytes up to and including `needle` (for the HTTP/1.1 part
    /// of an upgrade), at most `max`.
    pub fn read_until(&mut self, needle: &[u8], max: usize) -> Result<Vec<u8>, Event> {
        loop {
            if let Some(i) = self.buf.windows(needle.len()).position(|w| w == needle) {
                return Ok(self.buf.drain(..i + needle.len()).collect());
            }
            if self.buf.len() > max {
                return Err(Event::Broken(format!(
                    "no {:?} in {} bytes",
                    lossy(needle),
                    self.buf.len()
                )));
            }
            let want = self.buf.len() + 1;
            self.fill(want)?;
        }
    }

    /// The next `n` raw bytes, left unread.
    pub fn peek(&mut self, n: usize) -> Result<&[u8], Event> {
        self.fill(n)?;
        Ok(&self.buf[..n])
    }

    /// Reads exactly `n` raw bytes.
    pub fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, Event> {
        self.fill(n)?;
        Ok(self.buf.drain(..n).collect())
    }

    /// Reads one frame, as sent.
    pub fn raw_frame(&mut self) -> Result<Frame, Event> {
        self.fill(9)?;
        let h: [u8; 9] = self.buf[..9].try_into().expect("nine octets");
        let (len, t, flags, stream) = frame::parse_header(&h);
        self.fill(9 + len)?;
        let payload = self.buf[9..9 + len].to_vec();
        self.buf.drain(..9 + len);
        Ok(Frame::new(t, flags, stream, payload))
    }

    /// The next event. SETTINGS and PINGs from the server are acknowledged
    /// (and still returned); DATA credit is given back when `auto_window`.
    pub fn event(&mut self) -> Event {
        let f = match self.raw_frame() {
            Ok(f) => f,
            Err(e) => return e,
        };
        match f.ty {
            ty::SETTINGS if f.has(flag::ACK) => self.settings_acked = true,
            ty::SETTINGS => {
                self.server_settings
                    .extend(frame::settings_values(&f.payload));
                if self.auto_ack {
                    self.send(&frame::settings_ack());
                }
            }
            ty::PING if !f.has(flag::ACK) && f.payload.len() == 8 => {
                let data: [u8; 8] = f.payload[..].try_into().expect("eight octets");
                self.send(&frame::ping(flag::ACK, data));
            }
            ty::DATA if self.auto_window && !f.payload.is_empty() => {
                let n = f.payload.len() as u32;
                self.send_all(&[
                    frame::window_update(0, n),
                    frame::window_update(f.stream_id(), n),
                ]);
            }
            ty::HEADERS => return self.header_block(f),
            _ => {}
        }
        Event::Frame(f)
    }

    /// Reads the CONTINUATIONs of a HEADERS frame and decodes the block.
    fn header_block(&mut self, first: Frame) -> Event {
        let stream = first.stream_id();
        let end_stream = first.has(flag::END_STREAM);
        let mut p = &first.payload[..];
        let mut pad = 0usize;
        if first.has(flag::PADDED) {
            let Some((&n, rest)) = p.split_first() else {
                return Event::Broken("padded HEADERS without a Pad Length".into());
            };
            pad = usize::from(n);
            p = rest;
        }
        if first.has(flag::PRIORITY) {
            if p.len() < 5 {
                return Event::Broken("HEADERS too short for its priority".into());
            }
            p = &p[5..];
        }
        if pad > p.len() {
            return Event::Broken("HEADERS padding longer than the frame".into());
        }
        let mut block = p[..p.len() - pad].to_vec();
        let mut end_headers = first.has(flag::END_HEADERS);
        while !end_headers {
            match self.raw_frame() {
                Ok(f) if f.ty == ty::CONTINUATION && f.stream_id() == stream => {
                    block.extend_from_slice(&f.payload);
                    end_headers = f.has(flag::END_HEADERS);
                }
                Ok(f) => {
                    return Event::Broken(format!(
                        "{} inside a header block (RFC 9113 §4.3)",
                        f.describe()
                    ));
                }
                Err(e) => return e,
            }
        }
        match self.decoder.decode(&block) {
            Ok(fields) => Event::Headers(Headers {
                stream,
                fields,
                end_stream,
            }),
            Err(e) => Event::Broken(format!("undecodable header block: {}", e.0)),
        }
    }

    /// Reads the whole response on `stream`, skipping other streams'
    /// frames. A reset, a GOAWAY, a close or a timeout is a failure.
    pub fn response(&mut self, stream: u32) -> Result<Response, Fail> {
        let mut r = Response::default();
        let mut head = false;
        loop {
            let ev = self.event();
            match &ev {
                Event::Headers(h) if h.stream == stream => {
                    if !head {
                        let status = h.status().ok_or_else(|| {
                            fail("a response with :status", format!("{:?}", h.fields))
                        })?;
                        if (100..200).contains(&status) {
                            r.interim.push(h.clone());
                            continue;
                        }
                        r.status = status;
                        r.fields = h.fields.clone();
                        head = true;
                    } else {
                        r.trailers = h.fields.clone();
                    }
                    if h.end_stream {
                        return Ok(r);
                    }
                }
                Event::Frame(f) if f.stream_id() == stream && f.ty == ty::DATA => {
                    let mut p = &f.payload[..];
                    if f.has(flag::PADDED) && !p.is_empty() {
                        let pad = usize::from(p[0]);
                        p = p.get(1..p.len().saturating_sub(pad)).unwrap_or(&[]);
                    }
                    r.body.extend_from_slice(p);
                    if f.has(flag::END_STREAM) {
                        return Ok(r);
                    }
                }
                Event::Frame(f)
                    if f.ty == ty::GOAWAY
                        || (f.ty == ty::RST_STREAM && f.stream_id() == stream) =>
                {
                    return Err(fail(
                        format!("a response on stream {stream}"),
                        ev.describe(),
                    ));
                }
                Event::Headers(_) | Event::Frame(_) => {}
                _ => {
                    return Err(fail(
                        format!("a response on stream {stream}"),
                        ev.describe(),
                    ));
                }
            }
        }
    }

    /// Sends a PING and waits for its ACK: the connection still works.
    pub fn ping_pong(&mut self) -> Result<(), Fail> {
        let data = *b"h2-alive";
        self.send(&frame::ping(0, data));
        self.until_ping_ack(data)
    }

    /// Waits for a PING ACK carrying `data`, skipping other frames.
    pub fn until_ping_ack(&mut self, data: [u8; 8]) -> Result<(), Fail> {
        loop {
            let ev = self.event();
            match &ev {
                Event::Frame(f) if f.ty == ty::PING && f.has(flag::ACK) => {
                    if f.payload == data {
                        return Ok(());
                    }
                    return Err(fail(
                        format!("a PING ACK with {:?}", lossy(&data)),
                        format!("a PING ACK with {:?}", lossy(&f.payload)),
                    ));
                }
                Event::Frame(f) if f.ty == ty::GOAWAY => {
                    return Err(fail("the connection to stay usable", ev.describe()));
                }
                Event::Frame(_) | Event::Headers(_) => {}
                _ => return Err(fail("a PING ACK", ev.describe())),
            }
        }
    }
}
