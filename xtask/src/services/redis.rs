//! Redis: one instance without authentication, one with `requirepass` and an
//! ACL user, both in memory only (no RDB snapshots, no AOF); and the members
//! of the cluster and sentinel set-ups (`redis_cluster.rs`,
//! `redis_sentinel.rs`), which are the same kind of process with more
//! configuration.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Config, HOST, Service, State};
use crate::util::{self, Probe, Result, bail};

/// Password of the `default` user on the authenticated instance.
const DEFAULT_PASSWORD: &str = "defaultpass";
/// The ACL user on the authenticated instance, with its password.
const ACL_USER: (&str, &str) = ("weft", "weftpass");

/// One redis-server instance.
pub struct Redis {
    dir: PathBuf,
    port: u16,
    auth: bool,
    /// The name shown by `services status`.
    name: String,
    /// Configuration lines appended to the common ones.
    extra: String,
    /// Started with `--sentinel` (Redis Sentinel documentation, "Running
    /// Sentinel"); its configuration file is rewritten by the sentinel
    /// itself, so it is only written when missing.
    sentinel: bool,
}

impl Redis {
    /// The instance without authentication.
    pub fn plain(config: &Config) -> Self {
        Redis {
            dir: config.dir.clone(),
            port: config.redis_port,
            auth: false,
            name: "redis".into(),
            extra: String::new(),
            sentinel: false,
        }
    }

    /// The instance with a default-user password and an ACL user.
    pub fn with_auth(config: &Config) -> Self {
        Redis {
            dir: config.dir.clone(),
            port: config.redis_auth_port,
            auth: true,
            name: "redis-auth".into(),
            extra: String::new(),
            sentinel: false,
        }
    }

    /// A member of a set-up: a server on `port` named `name` with `extra`
    /// configuration lines, or a sentinel.
    pub fn member(config: &Config, port: u16, name: String, extra: String, sentinel: bool) -> Self {
        Redis {
            dir: config.dir.clone(),
            port,
            auth: false,
            name,
            extra,
            sentinel,
        }
    }

    /// The file `redis-<port>.<ext>` in the state directory.
    pub fn file(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("redis-{}.{ext}", self.port))
    }

    /// The configuration file (redis.conf syntax; paths quoted).
    fn config(&self) -> String {
        let quoted = |p: PathBuf| {
            format!(
                "\"{}\"",
                p.to_string_lossy()
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
            )
        };
        let mut conf = format!(
            "# Written by `cargo xtask services up`.\n\
             bind {HOST}\n\
             port {}\n\
             daemonize yes\n\
             pidfile {}\n\
             logfile {}\n\
             dir {}\n\
             dbfilename {}\n\
             save \"\"\n\
             appendonly no\n",
            self.port,
            quoted(self.file("pid")),
            quoted(self.file("log")),
            quoted(self.dir.clone()),
            quoted(
                self.file("rdb")
                    .file_name()
                    .map(PathBuf::from)
                    .unwrap_or_default()
            ),
        );
        if self.auth {
            let (user, password) = ACL_USER;
            conf.push_str(&format!(
                "requirepass {DEFAULT_PASSWORD}\n\
                 user {user} on >{password} ~* &* +@all\n"
            ));
        }
        conf.push_str(&self.extra);
        conf
    }

    /// Whether this member runs from our state directory, and its pid.
    pub fn ours(&self) -> Option<u32> {
        util::read_pid(&self.file("pid")).filter(|&pid| util::pid_alive(pid, "redis-server"))
    }

    /// Whether something answers `PING` like Redis on its port.
    pub fn answers(&self) -> bool {
        matches!(util::probe(util::loopback(self.port), b"PING\r\n"), Probe::Reply(r) if answers(&r))
    }
}

impl Service for Redis {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn port(&self) -> u16 {
        self.port
    }

    fn state(&self) -> Result<State> {
        if let Some(pid) = util::read_pid(&self.file("pid")) {
            if util::pid_alive(pid, "redis-server") {
                return Ok(State::Ours(pid));
            }
        }
        match util::probe(util::loopback(self.port), b"PING\r\n") {
            Probe::Closed => Ok(State::Down),
            Probe::Reply(r) if answers(&r) => Ok(State::Foreign),
            Probe::Reply(_) => bail!("port {} is taken by something that is not Redis", self.port),
        }
    }

    fn start(&self) -> Result {
        let _ = std::fs::remove_file(self.file("pid"));
        // A replica's full sync writes an RDB file (one per member: members
        // share the directory); a fresh start begins empty, so a cluster
        // node never comes up holding keys `--cluster create` refuses.
        let _ = std::fs::remove_file(self.file("rdb"));
        let conf = self.file("conf");
        if !self.sentinel || !conf.exists() {
            std::fs::write(&conf, self.config())?;
        }
        // Errors before daemonizing go to stderr; keep them with the log.
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.file("log"))?;
        let mut cmd = Command::new("redis-server");
        cmd.arg(&conf);
        if self.sentinel {
            cmd.arg("--sentinel");
        }
        let status = util::spawn_status(
            cmd.stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log),
        )?;
        if !status.success() {
            bail!(
                "redis-server failed: {status}\n{}",
                util::tail(&self.file("log"), 20)
            );
        }
        self.wait_ready()?;
        util::wait_until("redis pid file", Duration::from_secs(10), || {
            util::read_pid(&self.file("pid"))
                .is_some_and(|pid| util::pid_alive(pid, "redis-server"))
        })
    }

    fn wait_ready(&self) -> Result {
        let addr = util::loopback(self.port);
        util::wait_until(
            &format!("redis on {addr}"),
            Duration::from_secs(30),
            || matches!(util::probe(addr, b"PING\r\n"), Probe::Reply(r) if answers(&r)),
        )
        .map_err(|e| util::Error::msg(format!("{e}\n{}", util::tail(&self.file("log"), 20))))
    }

    fn stop(&self, pid: u32) -> Result {
        util::terminate(pid, "redis-server", Duration::from_secs(30))?;
        let _ = std::fs::remove_file(self.file("pid"));
        Ok(())
    }
}

/// Whether a reply to `PING` is Redis: `+PONG`, or an error such as
/// `-NOAUTH` from an instance that wants a password.
fn answers(reply: &[u8]) -> bool {
    reply.starts_with(b"+PONG") || (reply.starts_with(b"-") && reply.ends_with(b"\r\n"))
}
