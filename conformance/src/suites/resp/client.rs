//! A blocking RESP client on `proto-resp`'s codec that records every byte
//! the server sent, for the decoder checks.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use proto_resp::codec::{Decoder, encode_command};
use proto_resp::{Frame, Limits, Protocol};

use crate::framework::{Fail, Target, fail};

/// One connection.
pub struct Client {
    stream: TcpStream,
    rbuf: BytesMut,
    decoder: Decoder,
    /// Every byte received, in order.
    pub raw: Vec<u8>,
}

impl Client {
    /// Connects (RESP2 until a `HELLO 3`).
    pub fn open(t: &Target) -> Result<Client, Fail> {
        let addr = t
            .endpoint
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| fail("a resolvable host:port", t.endpoint.clone()))?;
        let stream = TcpStream::connect_timeout(&addr, t.io_timeout)
            .map_err(|e| fail(format!("a connection to {addr}"), e.to_string()))?;
        stream.set_read_timeout(Some(t.io_timeout))?;
        stream.set_write_timeout(Some(t.io_timeout))?;
        let _ = stream.set_nodelay(true);
        Ok(Client {
            stream,
            rbuf: BytesMut::new(),
            decoder: Decoder::new(Limits::DEFAULT, Protocol::Resp3),
            raw: Vec::new(),
        })
    }

    /// Connects and switches to RESP3 with `HELLO 3`.
    pub fn open3(t: &Target) -> Result<Client, Fail> {
        let mut c = Client::open(t)?;
        let hello = c.cmd(&["HELLO", "3"])?;
        if !matches!(hello, Frame::Map(_)) {
            return Err(fail("a map answering HELLO 3", format!("{hello:?}")));
        }
        Ok(c)
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Encodes a command as an array of bulk strings and writes it.
    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<(), Fail> {
        let mut b = BytesMut::new();
        encode_command(&mut b, args);
        self.send_raw(&b)
    }

    /// Reads the next frame.
    pub fn read(&mut self) -> Result<Frame, Fail> {
        loop {
            match self.decoder.decode_bytes(&mut self.rbuf) {
                Ok(Some(f)) => return Ok(f),
                Ok(None) => {}
                Err(e) => return Err(fail("a decodable RESP frame", format!("decode error: {e}"))),
            }
            let mut tmp = [0u8; 16 * 1024];
            match self.stream.read(&mut tmp) {
                Ok(0) => return Err(fail("a reply", "the server closed the connection")),
                Ok(n) => {
                    self.raw.extend_from_slice(&tmp[..n]);
                    self.rbuf.extend_from_slice(&tmp[..n]);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(fail("a reply", "nothing before the timeout"));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends a command and reads one frame.
    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, Fail> {
        self.send(args)?;
        self.read()
    }

    /// Sends a command whose reply must not be an error.
    pub fn ok<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Result<Frame, Fail> {
        let f = self.cmd(args)?;
        if f.is_error() {
            let name = String::from_utf8_lossy(args[0].as_ref()).to_string();
            return Err(fail(format!("{name} to succeed"), show(&f)));
        }
        Ok(f)
    }

    /// Whether the server closed the connection (reading until EOF or the
    /// timeout).
    pub fn closed(&mut self) -> bool {
        let mut tmp = [0u8; 1024];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(0) => return true,
                Ok(n) => self.raw.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            }
        }
    }
}

/// A key unique to this process and call, under `conformance:`.
pub fn key(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "conformance:{}:{}:{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A frame in failure messages, shortened.
pub fn show(f: &Frame) -> String {
    let s = format!("{f:?}");
    if s.len() > 160 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(160).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// `expect_frame(want, seen)`: equal frames, or a mismatch showing both.
pub fn expect_frame(want: &Frame, seen: &Frame) -> Result<(), Fail> {
    if want == seen {
        Ok(())
    } else {
        Err(fail(show(want), show(seen)))
    }
}

/// A bulk string frame.
pub fn bulk(s: &str) -> Frame {
    Frame::BulkString(bytes::Bytes::copy_from_slice(s.as_bytes()))
}
