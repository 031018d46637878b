//! In-memory client <-> server pair with virtual time, in the manner of
//! quinn-proto's `tests/util.rs`: both state machines, two byte pipes, and
//! a clock that only moves when a test says so.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::BytesMut;
use proto_http::h1::client::{ClientConnection, ClientEvent};
use proto_http::h1::{Config, Connection, Event, Limits};

pub struct Pair {
    pub client: ClientConnection,
    pub server: Connection,
    pub now: Instant,
    /// Bytes in flight client -> server, not yet consumed by the server.
    pub to_server: BytesMut,
    /// Bytes in flight server -> client.
    pub to_client: BytesMut,
    pub server_events: Vec<Event>,
    pub client_events: Vec<ClientEvent>,
    /// Deliver at most this many bytes per hop (`usize::MAX`: everything).
    pub mtu: usize,
}

impl Pair {
    pub fn new(config: Config) -> Pair {
        let mut server = Connection::new(config);
        server.set_date_unix(1_700_000_000);
        Pair {
            client: ClientConnection::new(Limits::default()),
            server,
            now: Instant::now(),
            to_server: BytesMut::new(),
            to_client: BytesMut::new(),
            server_events: Vec::new(),
            client_events: Vec::new(),
            mtu: usize::MAX,
        }
    }

    /// Moves bytes both ways, `mtu` at a time, until neither side has
    /// anything to send; collects events. Obeys the drain rule after
    /// every input.
    pub fn drive(&mut self) {
        let mut pending_c = BytesMut::new();
        let mut pending_s = BytesMut::new();
        loop {
            let _ = self.client.poll_transmit(&mut pending_c);
            let _ = self.server.poll_transmit(&mut pending_s);
            let mut progressed = false;
            if !pending_c.is_empty() {
                let n = pending_c.len().min(self.mtu);
                self.to_server.extend_from_slice(&pending_c.split_to(n));
                progressed = true;
            }
            let before = self.to_server.len();
            self.server.handle_input(self.now, &mut self.to_server);
            progressed |= self.to_server.len() != before;
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
                progressed = true;
            }
            let _ = self.server.poll_transmit(&mut pending_s);
            if !pending_s.is_empty() {
                let n = pending_s.len().min(self.mtu);
                self.to_client.extend_from_slice(&pending_s.split_to(n));
                progressed = true;
            }
            let before = self.to_client.len();
            self.client.handle_input(self.now, &mut self.to_client);
            progressed |= self.to_client.len() != before;
            while let Some(e) = self.client.poll_event() {
                self.client_events.push(e);
                progressed = true;
            }
            if !progressed && pending_c.is_empty() && pending_s.is_empty() {
                break;
            }
        }
    }

    /// Advances virtual time and fires the server timer if due.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
            self.server.handle_timeout(self.now);
        }
        self.drive();
    }

    pub fn take_server_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.server_events)
    }

    pub fn take_client_events(&mut self) -> Vec<ClientEvent> {
        std::mem::take(&mut self.client_events)
    }
}
