//! A blocking memcached client that encodes with `proto-memcache`'s
//! request encoders and decodes every reply with its text, meta or binary
//! decoder.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use proto_memcache::binary::{self, encode::Request};
use proto_memcache::{DecodeError, Limits, UsageError, meta, text};

use crate::framework::{Fail, Target, fail};

/// Owned bytes whose `Debug` is escaped text (`b"VALUE..."`), so failure
/// messages stay readable.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bin(pub Vec<u8>);

impl std::fmt::Debug for Bin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", self.0.escape_ascii())
    }
}

impl AsRef<[u8]> for Bin {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `Bin` from a literal.
pub fn bin(b: impl AsRef<[u8]>) -> Bin {
    Bin(b.as_ref().to_vec())
}

fn own(b: &[u8]) -> Bin {
    Bin(b.to_vec())
}

/// A text reply with owned bytes.
pub type TextReply = text::Reply<Bin>;
/// A meta reply with owned bytes.
pub type MetaReply = meta::Reply<Bin>;
/// A binary response with owned bytes.
pub type BinResponse = binary::Response<Bin>;

/// One connection.
pub struct Mc {
    stream: TcpStream,
    rbuf: Vec<u8>,
    /// The limits used to encode and decode.
    pub limits: Limits,
}

/// A request the encoder refused (the case's own bug, reported as such).
pub fn usage(e: UsageError) -> Fail {
    fail("a request the encoder accepts", e.to_string())
}

impl Mc {
    /// Connects with the target's timeouts.
    pub fn open(t: &Target) -> Result<Mc, Fail> {
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
        Ok(Mc {
            stream,
            rbuf: Vec::new(),
            limits: Limits::default(),
        })
    }

    /// Writes raw bytes.
    pub fn send(&mut self, bytes: &[u8]) -> Result<(), Fail> {
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// Encodes with `f` and writes the result.
    pub fn encode(
        &mut self,
        f: impl FnOnce(&mut BytesMut, &Limits) -> Result<(), UsageError>,
    ) -> Result<(), Fail> {
        let mut b = BytesMut::new();
        f(&mut b, &self.limits).map_err(usage)?;
        self.send(&b)
    }

    /// Encodes and writes a meta command.
    pub fn meta_cmd(&mut self, cmd: &meta::Command<'_>) -> Result<(), Fail> {
        self.encode(|b, l| meta::encode::request(b, cmd, l))
    }

    /// Encodes and writes a binary request.
    pub fn bin_cmd(&mut self, req: &Request<'_>) -> Result<(), Fail> {
        self.encode(|b, l| binary::encode::request(b, req, l))
    }

    fn read_with<T>(
        &mut self,
        what: &str,
        decode: impl Fn(&[u8], &Limits) -> Result<Option<(T, usize)>, DecodeError>,
    ) -> Result<T, Fail> {
        loop {
            match decode(&self.rbuf, &self.limits) {
                Ok(Some((r, n))) => {
                    self.rbuf.drain(..n);
                    return Ok(r);
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(fail(
                        format!("a decodable {what} reply"),
                        format!("decode error: {e}"),
                    ));
                }
            }
            let mut tmp = [0u8; 16 * 1024];
            match self.stream.read(&mut tmp) {
                Ok(0) => {
                    return Err(fail(
                        format!("a {what} reply"),
                        "the server closed the connection",
                    ));
                }
                Ok(n) => self.rbuf.extend_from_slice(&tmp[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(fail(
                        format!("a {what} reply"),
                        "nothing before the timeout",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reads one text reply frame.
    pub fn text(&mut self) -> Result<TextReply, Fail> {
        self.read_with("text", |b, l| {
            text::decode(b, l).map(|o| o.map(|(r, n)| (r.map(own), n)))
        })
    }

    /// Reads one meta reply frame.
    pub fn meta(&mut self) -> Result<MetaReply, Fail> {
        self.read_with("meta", |b, l| {
            meta::decode(b, l).map(|o| o.map(|(r, n)| (r.map(own), n)))
        })
    }

    /// Reads one binary response packet.
    pub fn binary(&mut self) -> Result<BinResponse, Fail> {
        self.read_with("binary", |b, l| {
            binary::decode(b, l).map(|o| o.map(|(r, n)| (r.map(own), n)))
        })
    }
}

/// A key unique to this process and call.
pub fn key(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "conformance:{}:{}:{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Equal replies, or a mismatch showing both.
pub fn expect<T: PartialEq + std::fmt::Debug>(want: &T, seen: &T) -> Result<(), Fail> {
    if want == seen {
        Ok(())
    } else {
        Err(fail(short(want), short(seen)))
    }
}

/// `Debug` of `v`, with byte vectors shown as text where possible, cut at
/// 200 characters.
pub fn short<T: std::fmt::Debug>(v: &T) -> String {
    let s = format!("{v:?}");
    if s.len() > 200 {
        format!(
            "{}...",
            &s[..s.char_indices().nth(200).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}
