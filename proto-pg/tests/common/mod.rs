//! A blocking driver for the Sans-IO connection, for integration tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use proto_pg::{Config, Connection, Error, Event, ReqId};

/// Server address and database from the environment, or `None` (test
/// skipped) unless `WEFT_REQUIRE_SERVICES=1`.
pub fn server() -> Option<(String, String)> {
    match (std::env::var("WEFT_PG_HOST"), std::env::var("WEFT_PG_PORT")) {
        (Ok(h), Ok(p)) => Some((
            format!("{h}:{p}"),
            std::env::var("WEFT_PG_DB").unwrap_or_else(|_| "weft".into()),
        )),
        _ => {
            if std::env::var("WEFT_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("WEFT_PG_HOST/WEFT_PG_PORT unset but WEFT_REQUIRE_SERVICES=1");
            }
            eprintln!("skipped: WEFT_PG_HOST unset");
            None
        }
    }
}

pub struct Client {
    pub conn: Connection,
    sock: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// Events not yet taken, in arrival order.
    pub events: Vec<Event>,
}

impl Client {
    pub fn connect_with(addr: &str, config: Config) -> Result<Client, Error> {
        let sock = TcpStream::connect(addr).expect("connect");
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        sock.set_nodelay(true).unwrap();
        let conn = Connection::new(config).expect("config");
        let mut c = Client {
            conn,
            sock,
            rbuf: BytesMut::with_capacity(8192),
            wbuf: BytesMut::new(),
            events: Vec::new(),
        };
        while !c.events.iter().any(|e| matches!(e, Event::Connected)) {
            c.pump()?;
        }
        c.events.retain(|e| !matches!(e, Event::Connected));
        Ok(c)
    }

    /// Connects as the trust user `weft`.
    pub fn connect() -> Option<Client> {
        let (addr, db) = server()?;
        Some(
            Client::connect_with(
                &addr,
                Config::new("weft")
                    .database(db)
                    .application_name("proto-pg-test"),
            )
            .unwrap(),
        )
    }

    pub fn flush(&mut self) {
        self.wbuf.clear();
        if self.conn.poll_transmit(&mut self.wbuf) > 0 {
            self.sock.write_all(&self.wbuf).expect("write");
        }
    }

    /// Writes pending output, reads once, feeds the connection.
    pub fn pump(&mut self) -> Result<(), Error> {
        self.flush();
        self.rbuf.reserve(8192);
        let mut tmp = [0u8; 16384];
        let n = self.sock.read(&mut tmp).expect("read");
        if n == 0 {
            self.conn.handle_eof()?;
        }
        self.rbuf.extend_from_slice(&tmp[..n]);
        let r = self.conn.handle_input(Instant::now(), &mut self.rbuf);
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
        self.flush();
        r
    }

    /// Runs until request `id` ends; returns its events (terminal last).
    pub fn wait(&mut self, id: ReqId) -> Vec<Event> {
        loop {
            if let Some(pos) = self
                .events
                .iter()
                .position(|e| e.request() == Some(id) && e.is_terminal())
            {
                let mut mine = Vec::new();
                let mut rest = Vec::new();
                for (i, e) in self.events.drain(..).enumerate() {
                    if e.request() == Some(id) && i <= pos {
                        mine.push(e);
                    } else {
                        rest.push(e);
                    }
                }
                self.events = rest;
                return mine;
            }
            self.pump().expect("connection failed");
        }
    }

    /// Rows of a finished request, each column as text (None = NULL).
    pub fn rows(events: &[Event]) -> Vec<Vec<Option<String>>> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Row { row, .. } => Some(
                    row.iter()
                        .map(|c| c.map(|v| String::from_utf8_lossy(v).into_owned()))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// Runs a simple query and returns its text rows, panicking on failure.
    pub fn simple(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        let id = self.conn.simple_query(sql).unwrap();
        let ev = self.wait(id);
        assert!(
            matches!(ev.last(), Some(Event::Done { .. })),
            "{sql}: {ev:?}"
        );
        Client::rows(&ev)
    }
}

pub fn failed_code(events: &[Event]) -> Option<String> {
    match events.last() {
        Some(Event::Failed { error, .. }) => Some(error.code.clone()),
        _ => None,
    }
}
