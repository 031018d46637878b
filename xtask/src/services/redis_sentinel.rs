//! Sentinel-managed replication on loopback: one primary, two replicas and
//! three sentinels watching the primary under [`MASTER_NAME`] with a quorum
//! of two (Redis Sentinel documentation, "Configuring Sentinel").
//!
//! The six processes are one service for `up`, `down` and `status`:
//!
//! - `up` with everything down writes fresh configurations (the first data
//!   port is the primary, the others `replicaof` it), starts the data nodes,
//!   then the sentinels, and waits until every sentinel sees the primary
//!   with both replicas and the other two sentinels;
//! - `up` with the set-up running restarts any of our processes that died
//!   (a sentinel with the configuration it rewrote itself) and waits for the
//!   same condition, whichever node is primary by then (tests run
//!   `SENTINEL FAILOVER`);
//! - `down` stops our processes and deletes the sentinels' rewritten
//!   configurations, so the next `up` starts clean.

use std::process::Command;
use std::time::Duration;

use super::redis::Redis;
use super::{Config, HOST, Service, State};
use crate::util::{self, Result, bail};

/// The name the sentinels monitor the primary under.
pub const MASTER_NAME: &str = "weftmaster";

/// The data nodes and the sentinels.
pub struct Sentinels {
    data: Vec<Redis>,
    sentinels: Vec<Redis>,
}

impl Sentinels {
    /// The set-up on `config.sentinel_data_ports` and `config.sentinel_ports`.
    pub fn new(config: &Config) -> Self {
        let primary = config.sentinel_data_ports[0];
        let data = config
            .sentinel_data_ports
            .iter()
            .map(|&port| {
                let mut extra = String::from("repl-diskless-sync-delay 0\n");
                if port != primary {
                    extra.push_str(&format!("replicaof {HOST} {primary}\n"));
                }
                Redis::member(config, port, format!("replica-{port}"), extra, false)
            })
            .collect();
        let sentinels = config
            .sentinel_ports
            .iter()
            .map(|&port| {
                let extra = format!(
                    "sentinel monitor {MASTER_NAME} {HOST} {primary} 2\n\
                     sentinel down-after-milliseconds {MASTER_NAME} 2000\n\
                     sentinel failover-timeout {MASTER_NAME} 10000\n\
                     sentinel parallel-syncs {MASTER_NAME} 2\n"
                );
                Redis::member(config, port, format!("sentinel-{port}"), extra, true)
            })
            .collect();
        Sentinels { data, sentinels }
    }

    fn all(&self) -> impl Iterator<Item = &Redis> {
        self.data.iter().chain(&self.sentinels)
    }

    fn cli(port: u16, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-h", HOST, "-p", &port.to_string()])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Every sentinel knows a primary that is one of our data nodes, with
    /// all the other data nodes as replicas and all the other sentinels.
    fn healthy(&self) -> bool {
        let replicas = (self.data.len() - 1).to_string();
        let others = (self.sentinels.len() - 1).to_string();
        self.sentinels.iter().all(|s| {
            let Some(master) = Sentinels::cli(s.port(), &["sentinel", "master", MASTER_NAME])
            else {
                return false;
            };
            // Field/value lines, alternating.
            let lines: Vec<&str> = master.lines().map(str::trim).collect();
            let field = |name: &str| {
                lines
                    .chunks(2)
                    .find(|kv| kv[0] == name)
                    .and_then(|kv| kv.get(1).copied())
            };
            let primary_known = field("port")
                .and_then(|p| p.parse::<u16>().ok())
                .is_some_and(|p| self.data.iter().any(|d| d.port() == p));
            primary_known
                && field("flags") == Some("master")
                && field("num-slaves") == Some(replicas.as_str())
                && field("num-other-sentinels") == Some(others.as_str())
        }) && self.replicas_synced()
    }

    /// Every replica reports its link to the primary up.
    fn replicas_synced(&self) -> bool {
        let mut masters = 0;
        for node in &self.data {
            let Some(info) = Sentinels::cli(node.port(), &["info", "replication"]) else {
                return false;
            };
            if info.contains("role:master") {
                masters += 1;
            } else if !info.contains("master_link_status:up") {
                return false;
            }
        }
        masters == 1
    }

    fn wait_healthy(&self) -> Result {
        util::wait_until(
            "the sentinels to see the primary, its replicas and each other",
            Duration::from_secs(60),
            || self.healthy(),
        )
        .map_err(|e| {
            let port = self.sentinels[0].port();
            let master = Sentinels::cli(port, &["sentinel", "master", MASTER_NAME])
                .unwrap_or_default()
                .replace('\n', " ");
            util::Error::msg(format!("{e}\nSENTINEL MASTER on {port}: {master}"))
        })
    }
}

impl Service for Sentinels {
    fn name(&self) -> String {
        "redis-sentinel".into()
    }

    fn port(&self) -> u16 {
        self.sentinels[0].port()
    }

    fn state(&self) -> Result<State> {
        if let Some(pid) = self.all().find_map(Redis::ours) {
            return Ok(State::Ours(pid));
        }
        let answering = self.all().filter(|n| n.answers()).count();
        match answering {
            0 => Ok(State::Down),
            n if n == self.data.len() + self.sentinels.len() => Ok(State::Foreign),
            n => {
                bail!("{n} of the sentinel set-up's ports answer, but not from our state directory")
            }
        }
    }

    fn start(&self) -> Result {
        for s in &self.sentinels {
            let _ = std::fs::remove_file(s.file("conf"));
        }
        for node in self.all() {
            node.start()?;
        }
        self.wait_healthy()
    }

    fn wait_ready(&self) -> Result {
        for node in self.all() {
            if node.ours().is_none() && !node.answers() {
                println!("restarting {} on {HOST}:{}", node.name(), node.port());
                node.start()?;
            }
        }
        self.wait_healthy()
    }

    fn problems(&self) -> Option<String> {
        let down: Vec<u16> = self
            .all()
            .filter(|n| n.ours().is_none() && !n.answers())
            .map(|n| n.port())
            .collect();
        if !down.is_empty() {
            return Some(format!("down: {down:?}"));
        }
        (!self.healthy())
            .then(|| "the sentinels do not agree on a primary with two replicas yet".to_string())
    }

    fn stop(&self, _pid: u32) -> Result {
        let mut failed = Vec::new();
        for node in self.sentinels.iter().chain(&self.data) {
            if let Some(pid) = node.ours() {
                if let Err(e) = node.stop(pid) {
                    failed.push(format!("{}: {e}", node.name()));
                }
            }
        }
        for s in &self.sentinels {
            let _ = std::fs::remove_file(s.file("conf"));
        }
        if !failed.is_empty() {
            bail!("{}", failed.join("; "));
        }
        Ok(())
    }
}
