//! A Redis Cluster on loopback: six nodes, three primaries with one replica
//! each, formed with `redis-cli --cluster create` (Redis Cluster
//! specification; "Create a Redis Cluster" in the cluster tutorial).
//!
//! The six processes are one service for `up`, `down` and `status`:
//!
//! - `up` with every node down writes fresh configurations (no
//!   `nodes.conf` left from an earlier run), starts the six, creates the
//!   cluster and waits for `cluster_state:ok` on every node;
//! - `up` with the cluster running restarts any of our nodes that died
//!   (with its `nodes.conf`, so it rejoins as what it was, or as a replica
//!   of the node promoted in its place) and waits for the cluster to be
//!   whole again;
//! - `down` stops our nodes and deletes their `nodes.conf`, so the next
//!   `up` starts clean.
//!
//! Tests fail a primary over and kill nodes; they restart what they killed
//! with the configuration file named in `INFO server` (`config_file`).

use std::process::Command;
use std::time::Duration;

use super::redis::Redis;
use super::{Config, HOST, Service, State};
use crate::util::{self, Result, bail};

/// Milliseconds without an answer after which a node is failing
/// (`cluster-node-timeout`): short, so failovers in the tests are quick.
const NODE_TIMEOUT_MS: u64 = 2000;

/// The six nodes of the cluster.
pub struct Cluster {
    nodes: Vec<Redis>,
    ports: Vec<u16>,
}

impl Cluster {
    /// The cluster on `config.cluster_ports`.
    pub fn new(config: &Config) -> Self {
        let nodes = config
            .cluster_ports
            .iter()
            .map(|&port| {
                let extra = format!(
                    "cluster-enabled yes\n\
                     cluster-config-file nodes-{port}.conf\n\
                     cluster-node-timeout {NODE_TIMEOUT_MS}\n\
                     cluster-allow-replica-migration no\n\
                     cluster-replica-validity-factor 0\n\
                     repl-diskless-sync-delay 0\n"
                );
                Redis::member(config, port, format!("cluster-{port}"), extra, false)
            })
            .collect();
        Cluster {
            nodes,
            ports: config.cluster_ports.clone(),
        }
    }

    fn nodes_conf(&self, node: &Redis) -> std::path::PathBuf {
        node.file("conf")
            .with_file_name(format!("nodes-{}.conf", node.port()))
    }

    /// `redis-cli -p port args...`'s output, or `None` when it failed.
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

    /// Every node says `cluster_state:ok` and knows all the others, and
    /// there are as many primaries with slots as there are replicas.
    fn healthy(&self) -> bool {
        let n = self.ports.len();
        self.ports.iter().all(|&port| {
            let Some(info) = Cluster::cli(port, &["cluster", "info"]) else {
                return false;
            };
            let field = |name: &str| {
                info.lines()
                    .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
                    .map(str::to_owned)
            };
            field("cluster_state").as_deref() == Some("ok")
                && field("cluster_known_nodes") == Some(n.to_string())
                && field("cluster_size") == Some((n / 2).to_string())
        })
    }

    fn wait_healthy(&self) -> Result {
        util::wait_until(
            "the Redis cluster to be ok",
            Duration::from_secs(60),
            || self.healthy(),
        )
        .map_err(|e| {
            let info = Cluster::cli(self.ports[0], &["cluster", "nodes"]).unwrap_or_default();
            util::Error::msg(format!("{e}\nCLUSTER NODES on {}:\n{info}", self.ports[0]))
        })
    }
}

impl Service for Cluster {
    fn name(&self) -> String {
        "redis-cluster".into()
    }

    fn port(&self) -> u16 {
        self.ports[0]
    }

    fn state(&self) -> Result<State> {
        if let Some(pid) = self.nodes.iter().find_map(Redis::ours) {
            return Ok(State::Ours(pid));
        }
        let answering = self.nodes.iter().filter(|n| n.answers()).count();
        match answering {
            0 => Ok(State::Down),
            n if n == self.nodes.len() => Ok(State::Foreign),
            n => bail!(
                "{n} of the cluster ports {:?} answer, but not from our state directory",
                self.ports
            ),
        }
    }

    fn start(&self) -> Result {
        for node in &self.nodes {
            let _ = std::fs::remove_file(self.nodes_conf(node));
        }
        for node in &self.nodes {
            node.start()?;
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for port in &self.ports {
            create.arg(format!("{HOST}:{port}"));
        }
        create.args(["--cluster-replicas", "1", "--cluster-yes"]);
        util::capture(&mut create)?;
        self.wait_healthy()
    }

    fn wait_ready(&self) -> Result {
        for node in &self.nodes {
            if node.ours().is_none() && !node.answers() {
                println!("restarting cluster node {HOST}:{}", node.port());
                node.start()?;
            }
        }
        self.wait_healthy()
    }

    fn problems(&self) -> Option<String> {
        let down: Vec<u16> = self
            .nodes
            .iter()
            .filter(|n| n.ours().is_none() && !n.answers())
            .map(|n| n.port())
            .collect();
        if !down.is_empty() {
            return Some(format!("nodes down: {down:?}"));
        }
        (!self.healthy()).then(|| "cluster_state is not ok on every node".to_string())
    }

    fn stop(&self, _pid: u32) -> Result {
        let mut failed = Vec::new();
        for node in &self.nodes {
            if let Some(pid) = node.ours() {
                if let Err(e) = node.stop(pid) {
                    failed.push(format!("{}: {e}", node.name()));
                }
            }
            let _ = std::fs::remove_file(self.nodes_conf(node));
        }
        if !failed.is_empty() {
            bail!("{}", failed.join("; "));
        }
        Ok(())
    }
}
