//! A blocking driver over `std::net::TcpStream` for the integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use proto_memcache::{
    Config, Connection, Event, Limits, Protocol, ProtocolError, ReqId, Response, UsageError,
};

/// The server addresses, or `None` (after printing why) when the test must be
/// skipped. Panics when `WEFT_REQUIRE_SERVICES=1` and the variable is unset.
pub fn addrs() -> Option<Vec<String>> {
    match std::env::var("WEFT_MEMCACHED_ADDRS") {
        Ok(v) if !v.trim().is_empty() => Some(v.split(',').map(|s| s.trim().to_owned()).collect()),
        _ => {
            if std::env::var("WEFT_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("WEFT_MEMCACHED_ADDRS is unset but WEFT_REQUIRE_SERVICES=1");
            }
            println!("skipped: WEFT_MEMCACHED_ADDRS unset");
            None
        }
    }
}

/// A unique key prefix for one test.
pub fn prefix(test: &str, p: Protocol) -> String {
    format!("weft-pm-{test}-{p:?}-{}-", std::process::id())
}

pub struct Client {
    pub conn: Connection,
    sock: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    done: HashMap<ReqId, Result<Response, ProtocolError>>,
}

impl Client {
    pub fn connect(addr: &str, protocol: Protocol) -> Client {
        Self::with_limits(addr, protocol, Limits::default())
    }

    pub fn with_limits(addr: &str, protocol: Protocol, limits: Limits) -> Client {
        let sock = TcpStream::connect(addr).expect("connect to memcached");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        sock.set_nodelay(true).unwrap();
        let mut config = Config::new(protocol);
        config.limits = limits;
        Client {
            conn: Connection::new(config),
            sock,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: BytesMut::new(),
            done: HashMap::new(),
        }
    }

    /// The drain rule: transmit everything, collect every event.
    fn drain(&mut self) {
        let _ = self.conn.poll_transmit(&mut self.wbuf);
        if !self.wbuf.is_empty() {
            self.sock.write_all(&self.wbuf).expect("write");
            self.wbuf.clear();
        }
        assert_eq!(self.conn.poll_timeout(), None);
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                Event::Response { id, response } => {
                    self.done.insert(id, Ok(response));
                }
                Event::Aborted { id, error } => {
                    self.done.insert(id, Err(error));
                }
                other => panic!("unknown event {other:?}"),
            }
        }
    }

    /// Sends what is queued and reads until `id` completes.
    pub fn wait(&mut self, id: ReqId) -> Result<Response, ProtocolError> {
        loop {
            self.drain();
            if let Some(r) = self.done.remove(&id) {
                return r;
            }
            let mut tmp = [0u8; 64 * 1024];
            let n = self.sock.read(&mut tmp).expect("read (timed out?)");
            if n == 0 {
                let r = self.conn.handle_eof();
                self.drain();
                if let Some(r) = self.done.remove(&id) {
                    return r;
                }
                panic!("eof before {id:?} completed: {r:?}");
            }
            self.rbuf.extend_from_slice(&tmp[..n]);
            let _ = self.conn.handle_input(Instant::now(), &mut self.rbuf);
        }
    }

    /// Reads until the server closes; the connection must take it cleanly.
    pub fn expect_eof(&mut self) {
        self.drain();
        let mut tmp = [0u8; 1024];
        loop {
            let n = self.sock.read(&mut tmp).expect("read");
            if n == 0 {
                self.conn.handle_eof().expect("clean end of stream");
                return;
            }
            self.rbuf.extend_from_slice(&tmp[..n]);
            self.conn
                .handle_input(Instant::now(), &mut self.rbuf)
                .expect("input");
        }
    }

    /// Issues one command and waits for its response.
    pub fn run(
        &mut self,
        f: impl FnOnce(&mut Connection) -> Result<ReqId, UsageError>,
    ) -> Response {
        let id = f(&mut self.conn).expect("command refused");
        self.wait(id).expect("connection failed")
    }
}
