//! `proto-pg`'s [`Connection`] driven over a blocking socket, recording
//! every byte the server sent so cases can also look at the raw messages.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use proto_pg::message::backend::{self, BackendMessage};
use proto_pg::{Config, Connection, Event, Limits, ReqId};

use crate::framework::{Fail, Target, fail};

/// What the DSN says.
#[derive(Debug, Clone)]
pub struct Dsn {
    /// User name.
    pub user: String,
    /// Password, if any.
    pub password: Option<String>,
    /// `host:port`.
    pub addr: String,
    /// Database, if given.
    pub database: Option<String>,
}

/// Parses `postgres://user[:password]@host[:port][/database]`
/// (`postgresql://` too); the port defaults to 5432.
pub fn parse_dsn(dsn: &str) -> Result<Dsn, Fail> {
    let bad = || {
        fail(
            "a DSN postgres://user[:password]@host[:port][/db]",
            dsn.to_string(),
        )
    };
    let rest = dsn
        .strip_prefix("postgres://")
        .or_else(|| dsn.strip_prefix("postgresql://"))
        .ok_or_else(bad)?;
    let rest = rest.split('?').next().unwrap_or(rest);
    let (auth, hostpart) = rest.rsplit_once('@').ok_or_else(bad)?;
    let (user, password) = match auth.split_once(':') {
        Some((u, p)) => (u.to_string(), Some(p.to_string())),
        None => (auth.to_string(), None),
    };
    let (hostport, database) = match hostpart.split_once('/') {
        Some((h, d)) if !d.is_empty() => (h, Some(d.to_string())),
        Some((h, _)) => (h, None),
        None => (hostpart, None),
    };
    if user.is_empty() || hostport.is_empty() {
        return Err(bad());
    }
    let addr = if hostport
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        hostport.to_string()
    } else {
        format!("{hostport}:5432")
    };
    Ok(Dsn {
        user,
        password,
        addr,
        database,
    })
}

/// The target's DSN.
pub fn dsn(t: &Target) -> Result<Dsn, Fail> {
    parse_dsn(&t.endpoint)
}

/// A config for `user` (with `password`) on the target's database.
pub fn config(t: &Target, user: &str, password: Option<&str>) -> Result<Config, Fail> {
    let d = dsn(t)?;
    let mut c = Config::new(user);
    if let Some(db) = &d.database {
        c = c.database(db.clone());
    }
    if let Some(p) = password {
        c = c.password(p);
    }
    // A SCRAM client nonce. Not a secret worth a CSPRNG here: the suite
    // authenticates throwaway test roles. Printable, no comma.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(c.scram_nonce(format!("conf{:x}{:x}", nanos, std::process::id())))
}

/// The DSN's own user and password.
pub fn dsn_config(t: &Target) -> Result<Config, Fail> {
    let d = dsn(t)?;
    config(t, &d.user, d.password.as_deref())
}

/// A `user:password` option split in two.
pub fn user_option(t: &Target, name: &str) -> (String, String) {
    let v = t.option(name);
    match v.split_once(':') {
        Some((u, p)) => (u.to_string(), p.to_string()),
        None => (v.to_string(), String::new()),
    }
}

/// A `proto_pg::Error` as a failure.
pub fn pg_err(e: proto_pg::Error) -> Fail {
    fail("no protocol error", e.to_string())
}

/// One connection.
pub struct Pg {
    /// The state machine.
    pub conn: Connection,
    stream: TcpStream,
    rbuf: BytesMut,
    /// Every byte received, in order.
    pub raw: Vec<u8>,
    /// Events not yet taken.
    pub events: VecDeque<Event>,
}

/// Resolves the DSN's address.
pub fn addr(t: &Target) -> Result<SocketAddr, Fail> {
    let d = dsn(t)?;
    d.addr
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| fail("a resolvable host:port", d.addr))
}

/// A connected socket with the target's timeouts.
pub fn socket(t: &Target) -> Result<TcpStream, Fail> {
    let a = addr(t)?;
    let s = TcpStream::connect_timeout(&a, t.io_timeout)
        .map_err(|e| fail(format!("a connection to {a}"), e.to_string()))?;
    s.set_read_timeout(Some(t.io_timeout))?;
    s.set_write_timeout(Some(t.io_timeout))?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

/// How a start-up ended.
pub enum Startup {
    /// `Connected`.
    Ready(Box<Pg>),
    /// The connection failed with a protocol-level error (bytes received
    /// attached).
    Refused(proto_pg::Error, Vec<u8>),
}

impl Pg {
    /// Starts up with `config`; `Refused` when the server (or the state
    /// machine) ends the start-up with an error.
    pub fn start(t: &Target, config: Config) -> Result<Startup, Fail> {
        let conn = Connection::new(config).map_err(|e| fail("a valid config", e.to_string()))?;
        let mut pg = Pg {
            conn,
            stream: socket(t)?,
            rbuf: BytesMut::new(),
            raw: Vec::new(),
            events: VecDeque::new(),
        };
        loop {
            pg.flush()?;
            while let Some(ev) = pg.conn.poll_event() {
                if matches!(ev, Event::Connected) {
                    return Ok(Startup::Ready(Box::new(pg)));
                }
                pg.events.push_back(ev);
            }
            if let Err(e) = pg.read_once() {
                return match e {
                    Step::Protocol(e) => Ok(Startup::Refused(e, pg.raw)),
                    Step::Io(f) => Err(f),
                };
            }
        }
    }

    /// Starts up, failing the case unless it reaches `Connected`.
    pub fn connect(t: &Target, config: Config) -> Result<Pg, Fail> {
        match Pg::start(t, config)? {
            Startup::Ready(pg) => Ok(*pg),
            Startup::Refused(e, _) => Err(fail("start-up to succeed", e.to_string())),
        }
    }

    /// Connects as the DSN's user.
    pub fn default(t: &Target) -> Result<Pg, Fail> {
        Pg::connect(t, dsn_config(t)?)
    }

    /// Writes whatever the machine has to send.
    pub fn flush(&mut self) -> Result<(), Fail> {
        let mut out = BytesMut::new();
        while self.conn.poll_transmit(&mut out) > 0 {}
        if !out.is_empty() {
            self.stream.write_all(&out)?;
        }
        Ok(())
    }

    fn read_once(&mut self) -> Result<(), Step> {
        let mut tmp = [0u8; 16 * 1024];
        let n = loop {
            match self.stream.read(&mut tmp) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(Step::Io(fail(
                        "a message from the server",
                        "nothing before the timeout",
                    )));
                }
                Err(e) => return Err(Step::Io(e.into())),
            }
        };
        if n == 0 {
            return self.conn.handle_eof().map_err(Step::Protocol);
        }
        self.raw.extend_from_slice(&tmp[..n]);
        self.rbuf.extend_from_slice(&tmp[..n]);
        self.conn
            .handle_input(Instant::now(), &mut self.rbuf)
            .map_err(Step::Protocol)
    }

    /// The next event, reading as needed.
    pub fn next(&mut self) -> Result<Event, Fail> {
        loop {
            self.flush()?;
            while let Some(ev) = self.conn.poll_event() {
                self.events.push_back(ev);
            }
            if let Some(ev) = self.events.pop_front() {
                return Ok(ev);
            }
            self.read_once().map_err(|s| match s {
                Step::Protocol(e) => pg_err(e),
                Step::Io(f) => f,
            })?;
        }
    }

    /// Every event up to and including the terminal one of `id`; events of
    /// no request (notices, notifications, parameter changes) are kept in
    /// the list too, events of other requests fail the case.
    pub fn until_done(&mut self, id: ReqId) -> Result<Vec<Event>, Fail> {
        let mut out = Vec::new();
        loop {
            let ev = self.next()?;
            match ev.request() {
                Some(r) if r != id => {
                    return Err(fail(format!("events of request {id}"), format!("{ev:?}")));
                }
                _ => {}
            }
            let end = ev.request() == Some(id) && ev.is_terminal();
            out.push(ev);
            if end {
                return Ok(out);
            }
        }
    }

    /// Runs a simple query that must succeed, returning its events.
    pub fn simple(&mut self, sql: &str) -> Result<Vec<Event>, Fail> {
        let id = self
            .conn
            .simple_query(sql)
            .map_err(|e| fail("a query to send", e.to_string()))?;
        let evs = self.until_done(id)?;
        if let Some(Event::Failed { error, .. }) = evs.last() {
            return Err(fail(format!("{sql:?} to succeed"), error.to_string()));
        }
        Ok(evs)
    }

    /// Waits for the server to close the socket.
    pub fn closed(&mut self) -> bool {
        let mut tmp = [0u8; 1024];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            }
        }
    }
}

enum Step {
    Protocol(proto_pg::Error),
    Io(Fail),
}

/// The raw backend messages in `raw` (after `skip` bytes), as their type
/// bytes and a short description.
pub fn messages(raw: &[u8], skip: usize) -> Vec<String> {
    let limits = Limits::default();
    let mut at = skip.min(raw.len());
    let mut out = Vec::new();
    while let Ok(Some((m, n))) = backend::decode(&raw[at..], &limits) {
        out.push(describe(&m));
        at += n;
    }
    out
}

fn describe(m: &BackendMessage<'_>) -> String {
    use backend::Authentication as A;
    match m {
        BackendMessage::Authentication(a) => match a {
            A::Ok => "AuthenticationOk".into(),
            A::CleartextPassword => "AuthenticationCleartextPassword".into(),
            A::Md5Password(_) => "AuthenticationMD5Password".into(),
            A::Sasl(mechs) => format!("AuthenticationSASL {:?}", mechs.iter().collect::<Vec<_>>()),
            A::SaslContinue(_) => "AuthenticationSASLContinue".into(),
            A::SaslFinal(_) => "AuthenticationSASLFinal".into(),
            other => format!("{other:?}"),
        },
        BackendMessage::NegotiateProtocolVersion {
            newest_minor,
            unrecognized,
        } => {
            // PostgreSQL sends the whole version code here (196608 = 3.0,
            // `PG_PROTOCOL(3, 0)`), though the manual's message format calls
            // it the newest minor version; show it as major.minor either way.
            let v = *newest_minor;
            let (major, minor) = if v >= 1 << 16 {
                (v >> 16, v & 0xffff)
            } else {
                (3, v)
            };
            format!(
                "NegotiateProtocolVersion {major}.{minor} (field {v}) {:?}",
                unrecognized.iter().collect::<Vec<_>>()
            )
        }
        BackendMessage::ErrorResponse(f) => format!("ErrorResponse {}", f.to_owned().code),
        BackendMessage::ParameterStatus { name, .. } => format!("ParameterStatus {name}"),
        BackendMessage::BackendKeyData { .. } => "BackendKeyData".into(),
        BackendMessage::ReadyForQuery(s) => format!("ReadyForQuery {s:?}"),
        other => format!("{other:?}").chars().take(40).collect(),
    }
}
