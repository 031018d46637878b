//! Drives a `proto_resp::Connection` over a blocking `std::net::TcpStream`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use proto_resp::{Config, Connection, Error, Event, Frame, Protocol, ReqId};

/// The address in `var`, or `None` (test skipped) unless
/// `WEFT_REQUIRE_SERVICES=1`, in which case a missing variable panics.
pub fn addr(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(a) if !a.is_empty() => Some(a),
        _ if std::env::var("WEFT_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("{var} is unset but WEFT_REQUIRE_SERVICES=1 requires the service")
        }
        _ => {
            println!("skipped: {var} unset");
            None
        }
    }
}

/// A unique key prefix per test and process (tests run in parallel).
pub fn prefix(test: &str) -> String {
    format!("weft:proto-resp:{test}:{}:", std::process::id())
}

pub struct Client {
    pub conn: Connection,
    pub stream: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    pub events: VecDeque<Event>,
}

impl Client {
    /// Connects and completes the handshake.
    pub fn connect(addr: &str, config: Config) -> Result<Client, Error> {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut c = Client {
            conn: Connection::new(config, Instant::now()),
            stream,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: BytesMut::new(),
            events: VecDeque::new(),
        };
        loop {
            c.drain();
            if let Some(pos) = c
                .events
                .iter()
                .position(|e| matches!(e, Event::Ready { .. }))
            {
                c.events.remove(pos);
                return Ok(c);
            }
            c.read()?;
        }
    }

    pub fn protocol(&self) -> Protocol {
        self.conn.protocol()
    }

    /// The drain rule: transmit, then collect events.
    pub fn drain(&mut self) {
        while self.conn.poll_transmit(&mut self.wbuf) {}
        if !self.wbuf.is_empty() {
            self.stream.write_all(&self.wbuf).expect("write");
            self.wbuf.clear();
        }
        while let Some(e) = self.conn.poll_event() {
            self.events.push_back(e);
        }
    }

    /// One blocking read handed to the connection.
    pub fn read(&mut self) -> Result<(), Error> {
        self.rbuf.reserve(64 * 1024);
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk).expect("read");
        if n == 0 {
            self.conn.handle_eof()?;
        } else {
            self.rbuf.extend_from_slice(&chunk[..n]);
            self.conn.handle_input(Instant::now(), &mut self.rbuf)?;
        }
        self.drain();
        Ok(())
    }

    pub fn send(&mut self, args: &[&str]) -> ReqId {
        let id = self.conn.send_args(args).expect("send");
        self.drain();
        id
    }

    /// Waits for the reply to `id`, keeping other events queued.
    pub fn reply(&mut self, id: ReqId) -> Frame {
        loop {
            if let Some(pos) = self
                .events
                .iter()
                .position(|e| matches!(e, Event::Reply { id: i, .. } if *i == id))
            {
                match self.events.remove(pos) {
                    Some(Event::Reply { frame, .. }) => return frame,
                    _ => unreachable!(),
                }
            }
            self.read().expect("connection error");
        }
    }

    pub fn call(&mut self, args: &[&str]) -> Frame {
        let id = self.send(args);
        self.reply(id)
    }

    /// Waits for the next push.
    pub fn push(&mut self) -> Frame {
        loop {
            if let Some(pos) = self
                .events
                .iter()
                .position(|e| matches!(e, Event::Push { .. }))
            {
                match self.events.remove(pos) {
                    Some(Event::Push { frame }) => return frame,
                    _ => unreachable!(),
                }
            }
            self.read().expect("connection error");
        }
    }
}

/// The bytes of a string-like frame, as text.
pub fn text(f: &Frame) -> String {
    String::from_utf8_lossy(
        f.as_bytes()
            .unwrap_or_else(|| panic!("not a string: {f:?}")),
    )
    .into_owned()
}
