//! memcached: several instances (the driver's consistent hashing spreads
//! keys over them), each with 64 MiB and no UDP.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Config, HOST, Service, State};
use crate::util::{self, Probe, Result, bail};

/// One memcached instance.
pub struct Memcached {
    dir: PathBuf,
    port: u16,
}

impl Memcached {
    /// The instance of `config` on `port`.
    pub fn new(config: &Config, port: u16) -> Self {
        Memcached {
            dir: config.dir.clone(),
            port,
        }
    }

    fn file(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("memcached-{}.{ext}", self.port))
    }
}

impl Service for Memcached {
    fn name(&self) -> String {
        format!("memcached-{}", self.port)
    }

    fn port(&self) -> u16 {
        self.port
    }

    fn state(&self) -> Result<State> {
        if let Some(pid) = util::read_pid(&self.file("pid")) {
            if util::pid_alive(pid, "memcached") {
                return Ok(State::Ours(pid));
            }
        }
        match util::probe(util::loopback(self.port), b"version\r\n") {
            Probe::Closed => Ok(State::Down),
            Probe::Reply(r) if r.starts_with(b"VERSION ") => Ok(State::Foreign),
            Probe::Reply(_) => bail!(
                "port {} is taken by something that is not memcached",
                self.port
            ),
        }
    }

    fn start(&self) -> Result {
        let _ = std::fs::remove_file(self.file("pid"));
        // memcached -d closes its stdio once daemonized; what it says before
        // (a port it cannot bind) lands here.
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.file("log"))?;
        let mut cmd = Command::new("memcached");
        cmd.args([
            "-d",
            "-l",
            HOST,
            "-p",
            &self.port.to_string(),
            "-U",
            "0",
            "-m",
            "64",
        ])
        .arg("-P")
        .arg(self.file("pid"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
        if util::is_root() {
            // memcached refuses to run as root unless told which user to be.
            cmd.args(["-u", "root"]);
        }
        let status = util::spawn_status(&mut cmd)?;
        if !status.success() {
            bail!(
                "memcached failed: {status}\n{}",
                util::tail(&self.file("log"), 20)
            );
        }
        self.wait_ready()?;
        util::wait_until("memcached pid file", Duration::from_secs(10), || {
            util::read_pid(&self.file("pid")).is_some_and(|pid| util::pid_alive(pid, "memcached"))
        })
    }

    fn wait_ready(&self) -> Result {
        let addr = util::loopback(self.port);
        util::wait_until(&format!("memcached on {addr}"), Duration::from_secs(30), || {
            matches!(util::probe(addr, b"version\r\n"), Probe::Reply(r) if r.starts_with(b"VERSION "))
        })
        .map_err(|e| util::Error::msg(format!("{e}\n{}", util::tail(&self.file("log"), 20))))
    }

    fn stop(&self, pid: u32) -> Result {
        util::terminate(pid, "memcached", Duration::from_secs(30))?;
        let _ = std::fs::remove_file(self.file("pid"));
        Ok(())
    }
}
