//! `cargo xtask services`: the real servers the integration tests talk to.
//!
//! Every instance listens on 127.0.0.1 on a non-default port and keeps its
//! state (data, pid files, logs, sockets) in one directory, so `down` stops
//! exactly what `up` started and nothing else. An instance whose port already
//! answers with the right protocol but that has no pid file of ours (a server
//! started by hand, or by another checkout) is used as is and never stopped.
//!
//! Ports and the state directory come from the same variables the tests read
//! (see [`Config::from_env`]), so `services env` always prints what the tests
//! need to reach what `services up` started.

mod install;
mod memcached;
pub mod postgres;
mod redis;
mod redis_cluster;
mod redis_sentinel;

use std::path::PathBuf;
use std::time::Instant;

use crate::util::{self, Result, bail};

/// Where and on which ports the services run.
pub struct Config {
    /// State directory: data, pid files, logs, sockets.
    pub dir: PathBuf,
    /// PostgreSQL port.
    pub pg_port: u16,
    /// Database the tests use.
    pub pg_db: String,
    /// Redis without authentication.
    pub redis_port: u16,
    /// Redis with `requirepass` and an ACL user.
    pub redis_auth_port: u16,
    /// The memcached instances.
    pub memcached_ports: Vec<u16>,
    /// The six Redis Cluster nodes (three primaries, three replicas); empty
    /// for none.
    pub cluster_ports: Vec<u16>,
    /// The Sentinel set-up's data nodes: the first starts as primary, the
    /// other two as its replicas; empty (with `sentinel_ports`) for none.
    pub sentinel_data_ports: Vec<u16>,
    /// The three sentinels.
    pub sentinel_ports: Vec<u16>,
}

const HOST: &str = "127.0.0.1";

impl Config {
    /// Defaults, overridden by `WEFT_SERVICES_DIR`, `WEFT_PG_PORT`,
    /// `WEFT_PG_DB`, `WEFT_REDIS_ADDR`, `WEFT_REDIS_AUTH_ADDR`,
    /// `WEFT_MEMCACHED_ADDRS`, `WEFT_REDIS_CLUSTER_NODES` (six addresses),
    /// `WEFT_REDIS_SENTINEL_DATA_ADDRS` (three: primary first) and
    /// `WEFT_REDIS_SENTINELS` (three) (hosts must be 127.0.0.1: we only
    /// start servers on loopback).
    pub fn from_env() -> Result<Config> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Config::from_env`], reading variables through `lookup`.
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        // An empty variable counts as unset.
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let dir = match var("WEFT_SERVICES_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => util::repo_root().join(".weft").join("services"),
        };
        let dir = if dir.is_absolute() {
            dir
        } else {
            std::env::current_dir()?.join(dir)
        };
        if let Some(host) = var("WEFT_PG_HOST") {
            if host != HOST && host != "localhost" {
                bail!("WEFT_PG_HOST={host}: xtask only runs services on {HOST}");
            }
        }
        let pg_port = match var("WEFT_PG_PORT") {
            Some(p) => parse_port("WEFT_PG_PORT", &p)?,
            None => 54329,
        };
        let pg_db = var("WEFT_PG_DB").unwrap_or_else(|| "weft".into());
        if pg_db.is_empty()
            || !pg_db
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            bail!("WEFT_PG_DB={pg_db}: use lowercase letters, digits and '_'");
        }
        let addr_port = |name: &str, default: u16| match var(name) {
            Some(addr) => loopback_port(name, &addr),
            None => Ok(default),
        };
        let redis_port = addr_port("WEFT_REDIS_ADDR", 63790)?;
        let redis_auth_port = addr_port("WEFT_REDIS_AUTH_ADDR", 63791)?;
        let port_list = |name: &str, default: &[u16], len: Option<usize>| {
            let ports = match var(name) {
                Some(list) => list
                    .split(',')
                    .map(|a| loopback_port(name, a.trim()))
                    .collect::<Result<Vec<_>>>()?,
                None => default.to_vec(),
            };
            if let Some(len) = len {
                if ports.len() != len {
                    bail!("{name}: needs {len} addresses, got {}", ports.len());
                }
            }
            Ok(ports)
        };
        let memcached_ports = port_list("WEFT_MEMCACHED_ADDRS", &[11311, 11312, 11313], None)?;
        let cluster_ports = port_list(
            "WEFT_REDIS_CLUSTER_NODES",
            &[7000, 7001, 7002, 7003, 7004, 7005],
            Some(6),
        )?;
        let sentinel_data_ports = port_list(
            "WEFT_REDIS_SENTINEL_DATA_ADDRS",
            &[7100, 7101, 7102],
            Some(3),
        )?;
        let sentinel_ports = port_list("WEFT_REDIS_SENTINELS", &[7200, 7201, 7202], Some(3))?;
        let config = Config {
            dir,
            pg_port,
            pg_db,
            redis_port,
            redis_auth_port,
            memcached_ports,
            cluster_ports,
            sentinel_data_ports,
            sentinel_ports,
        };
        config.check_distinct_ports()?;
        Ok(config)
    }

    fn check_distinct_ports(&self) -> Result {
        let mut ports = vec![self.pg_port, self.redis_port, self.redis_auth_port];
        ports.extend(&self.memcached_ports);
        ports.extend(&self.cluster_ports);
        ports.extend(&self.sentinel_data_ports);
        ports.extend(&self.sentinel_ports);
        // A cluster node also listens on its bus port, port + 10000
        // (cluster specification, "Cluster bus").
        for &port in &self.cluster_ports {
            if port > u16::MAX - 10000 {
                bail!("cluster port {port}: its bus port (port + 10000) does not exist");
            }
            ports.push(port + 10000);
        }
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != ports.len() {
            bail!("two services are configured on the same port: {ports:?}");
        }
        Ok(())
    }

    /// The variables the tests read, with their values.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let list = |ports: &[u16]| {
            ports
                .iter()
                .map(|p| format!("{HOST}:{p}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut vars = vec![
            ("WEFT_PG_HOST", HOST.to_string()),
            ("WEFT_PG_PORT", self.pg_port.to_string()),
            ("WEFT_PG_DB", self.pg_db.clone()),
            // For tests that restart the server (`pg_ctl restart -D`).
            (
                "WEFT_PG_DATA",
                self.dir.join("postgres").join("data").display().to_string(),
            ),
            ("WEFT_REDIS_ADDR", format!("{HOST}:{}", self.redis_port)),
            (
                "WEFT_REDIS_AUTH_ADDR",
                format!("{HOST}:{}", self.redis_auth_port),
            ),
            ("WEFT_MEMCACHED_ADDRS", list(&self.memcached_ports)),
        ];
        if !self.cluster_ports.is_empty() {
            vars.push(("WEFT_REDIS_CLUSTER_NODES", list(&self.cluster_ports)));
        }
        if !self.sentinel_ports.is_empty() {
            vars.push((
                "WEFT_REDIS_SENTINEL_DATA_ADDRS",
                list(&self.sentinel_data_ports),
            ));
            vars.push(("WEFT_REDIS_SENTINELS", list(&self.sentinel_ports)));
            vars.push((
                "WEFT_REDIS_SENTINEL_MASTER",
                redis_sentinel::MASTER_NAME.to_string(),
            ));
        }
        vars
    }

    /// Every service instance of this configuration, in start order.
    fn instances(&self) -> Vec<Box<dyn Service>> {
        let mut all: Vec<Box<dyn Service>> = vec![
            Box::new(postgres::Postgres::new(self)),
            Box::new(redis::Redis::plain(self)),
            Box::new(redis::Redis::with_auth(self)),
        ];
        for &port in &self.memcached_ports {
            all.push(Box::new(memcached::Memcached::new(self, port)));
        }
        if !self.cluster_ports.is_empty() {
            all.push(Box::new(redis_cluster::Cluster::new(self)));
        }
        if !self.sentinel_ports.is_empty() {
            all.push(Box::new(redis_sentinel::Sentinels::new(self)));
        }
        all
    }
}

fn parse_port(name: &str, text: &str) -> Result<u16> {
    match text.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => bail!("{name}: `{text}` is not a port"),
    }
}

fn loopback_port(name: &str, addr: &str) -> Result<u16> {
    let Some((host, port)) = addr.rsplit_once(':') else {
        bail!("{name}: `{addr}` is not HOST:PORT");
    };
    if host != HOST && host != "localhost" {
        bail!("{name}: `{addr}`: xtask only runs services on {HOST}");
    }
    parse_port(name, port)
}

/// Whether an instance runs, and whether it is ours to stop.
pub enum State {
    /// Started from our state directory; the pid of its main process.
    Ours(u32),
    /// Its port answers with the right protocol, but not from our state directory.
    Foreign,
    /// Not running.
    Down,
}

/// One server instance: how to tell whether it runs, start it, and stop it.
trait Service {
    /// A short name such as `redis-auth`.
    fn name(&self) -> String;
    /// The port it listens on.
    fn port(&self) -> u16;
    /// Whether it runs, and whether it is ours. Errors when the port is
    /// taken by something that does not speak the expected protocol.
    fn state(&self) -> Result<State>;
    /// Starts it (it is down) and waits until it answers.
    fn start(&self) -> Result;
    /// Waits until a running instance answers.
    fn wait_ready(&self) -> Result;
    /// Stops our instance with main process `pid` and waits until it is gone.
    fn stop(&self, pid: u32) -> Result;
    /// For a running set-up of several processes: what is wrong with it
    /// (members down, not formed), if anything. `up` repairs it.
    fn problems(&self) -> Option<String> {
        None
    }
}

/// The instances one `up` call started, to be stopped by [`Started::down`].
#[derive(Default)]
pub struct Started {
    names: Vec<String>,
}

impl Started {
    /// Whether this `up` started nothing.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Stops the instances this `up` started (and only those).
    pub fn down(self, config: &Config) -> Result {
        stop_all(config, |name| self.names.iter().any(|n| n == name))
    }
}

/// Installs what is missing if something must be started, then starts every
/// instance that is not running.
///
/// On error, whatever this call started is still recorded in `started`, so
/// the caller can stop it.
pub fn up(config: &Config, started: &mut Started) -> Result {
    let instances = config.instances();
    // Nothing to install when every port already answers (servers run by
    // hand, in containers, or by an earlier `up`).
    if instances
        .iter()
        .any(|s| matches!(s.state(), Ok(State::Down)))
    {
        install::ensure()?;
    }
    std::fs::create_dir_all(&config.dir)?;
    for service in instances {
        let name = service.name();
        let addr = format!("{HOST}:{}", service.port());
        match service.state()? {
            State::Ours(pid) => {
                service.wait_ready()?;
                println!("{name:<15} {addr:<16} already running (ours, pid {pid})");
            }
            State::Foreign => {
                println!("{name:<15} {addr:<16} already running (not ours)");
            }
            State::Down => {
                let begin = Instant::now();
                // Recorded before starting: a start that fails half-way
                // may still have left a process to stop.
                started.names.push(name.clone());
                service.start()?;
                println!(
                    "{name:<15} {addr:<16} started in {}",
                    util::secs(begin.elapsed())
                );
            }
        }
    }
    Ok(())
}

/// Stops every instance that runs from our state directory.
pub fn down(config: &Config) -> Result {
    stop_all(config, |_| true)
}

/// Stops the chosen instances that are ours, in reverse start order, going
/// on past failures.
fn stop_all(config: &Config, chosen: impl Fn(&str) -> bool) -> Result {
    let mut failed = 0;
    for service in config.instances().iter().rev() {
        if !chosen(&service.name()) {
            continue;
        }
        if let Err(e) = stop_one(service.as_ref()) {
            eprintln!("{}: {e}", service.name());
            failed += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} service(s) did not stop");
    }
    Ok(())
}

fn stop_one(service: &dyn Service) -> Result {
    let name = service.name();
    let addr = format!("{HOST}:{}", service.port());
    match service.state() {
        Ok(State::Ours(pid)) => {
            service.stop(pid)?;
            println!("{name:<15} {addr:<16} stopped (pid {pid})");
        }
        Ok(State::Foreign) => println!("{name:<15} {addr:<16} not ours, left running"),
        Ok(State::Down) => println!("{name:<15} {addr:<16} not running"),
        Err(e) => println!("{name:<15} {addr:<16} not ours ({e})"),
    }
    Ok(())
}

/// Prints one line per instance; fails when one is not running.
pub fn status(config: &Config) -> Result {
    let mut down = 0;
    println!("state directory: {}", config.dir.display());
    for service in config.instances() {
        let name = service.name();
        let addr = format!("{HOST}:{}", service.port());
        let state = match service.state() {
            Ok(State::Ours(pid)) => match service.problems() {
                None => format!("running (ours, pid {pid})"),
                Some(p) => {
                    down += 1;
                    format!("degraded (ours, pid {pid}): {p}")
                }
            },
            Ok(State::Foreign) => "running (not ours)".to_string(),
            Ok(State::Down) => {
                down += 1;
                "down".to_string()
            }
            Err(e) => {
                down += 1;
                e.to_string()
            }
        };
        println!("{name:<15} {addr:<16} {state}");
    }
    if down > 0 {
        bail!("{down} service(s) not running; `cargo xtask services up` starts them");
    }
    Ok(())
}

/// Prints `export VAR=value` lines for a shell to `eval`.
pub fn print_env(config: &Config) {
    for (name, value) in config.env_vars() {
        println!("export {name}={value}");
    }
}

/// `cargo xtask services <up|down|env|status>`.
pub fn command(args: &[String]) -> Result {
    let config = Config::from_env()?;
    match args {
        [cmd] if cmd == "up" => {
            let mut started = Started::default();
            up(&config, &mut started)?;
            crate::seed::techempower(&config)?;
            if started.is_empty() {
                println!("nothing to start");
            }
            println!("(`eval \"$(cargo xtask services env)\"` exports the addresses)");
            Ok(())
        }
        [cmd] if cmd == "down" => down(&config),
        [cmd] if cmd == "env" => {
            print_env(&config);
            Ok(())
        }
        [cmd] if cmd == "status" => status(&config),
        _ => bail!("usage: cargo xtask services up|down|env|status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::Probe;
    use std::collections::HashMap;
    use std::net::TcpListener;
    use std::process::Command;

    fn config(vars: &[(&str, &str)]) -> Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_are_the_documented_ports() {
        let config = config(&[]).unwrap();
        assert_eq!(config.dir, util::repo_root().join(".weft/services"));
        let env: Vec<String> = config
            .env_vars()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            env,
            [
                "WEFT_PG_HOST=127.0.0.1",
                "WEFT_PG_PORT=54329",
                "WEFT_PG_DB=weft",
                &format!(
                    "WEFT_PG_DATA={}",
                    util::repo_root()
                        .join(".weft/services/postgres/data")
                        .display()
                ),
                "WEFT_REDIS_ADDR=127.0.0.1:63790",
                "WEFT_REDIS_AUTH_ADDR=127.0.0.1:63791",
                "WEFT_MEMCACHED_ADDRS=127.0.0.1:11311,127.0.0.1:11312,127.0.0.1:11313",
                "WEFT_REDIS_CLUSTER_NODES=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002,\
                 127.0.0.1:7003,127.0.0.1:7004,127.0.0.1:7005",
                "WEFT_REDIS_SENTINEL_DATA_ADDRS=127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102",
                "WEFT_REDIS_SENTINELS=127.0.0.1:7200,127.0.0.1:7201,127.0.0.1:7202",
                "WEFT_REDIS_SENTINEL_MASTER=weftmaster",
            ]
        );
    }

    #[test]
    fn overrides_flow_into_the_exported_variables() {
        let config = config(&[
            ("WEFT_SERVICES_DIR", "/tmp/x"),
            ("WEFT_PG_HOST", "localhost"),
            ("WEFT_PG_PORT", "55439"),
            ("WEFT_REDIS_ADDR", ""),
            ("WEFT_REDIS_AUTH_ADDR", "127.0.0.1:1234"),
            ("WEFT_MEMCACHED_ADDRS", "127.0.0.1:1, localhost:2"),
        ])
        .unwrap();
        assert_eq!(config.dir, PathBuf::from("/tmp/x"));
        assert_eq!(
            (config.pg_port, config.redis_port, config.redis_auth_port),
            (55439, 63790, 1234)
        );
        assert_eq!(config.memcached_ports, [1, 2]);
        let env = config.env_vars();
        assert!(env.contains(&("WEFT_PG_HOST", "127.0.0.1".into())));
        assert!(env.contains(&("WEFT_MEMCACHED_ADDRS", "127.0.0.1:1,127.0.0.1:2".into())));
    }

    #[test]
    fn rejects_remote_hosts_bad_ports_and_clashes() {
        for vars in [
            [("WEFT_PG_HOST", "db.example")],
            [("WEFT_PG_PORT", "0")],
            [("WEFT_PG_PORT", "70000")],
            [("WEFT_REDIS_ADDR", "10.1.2.3:6379")],
            [("WEFT_REDIS_ADDR", "63790")],
            [("WEFT_MEMCACHED_ADDRS", "127.0.0.1:54329")],
            [("WEFT_PG_DB", "weft; DROP")],
            [("WEFT_REDIS_CLUSTER_NODES", "127.0.0.1:7000")],
            [("WEFT_REDIS_SENTINELS", "127.0.0.1:1,127.0.0.1:2")],
            [(
                "WEFT_REDIS_CLUSTER_NODES",
                "127.0.0.1:63790,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,127.0.0.1:5,127.0.0.1:6",
            )],
            [(
                "WEFT_REDIS_CLUSTER_NODES",
                "127.0.0.1:60000,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,127.0.0.1:5,127.0.0.1:6",
            )],
        ] {
            assert!(config(&vars).is_err(), "{vars:?} accepted");
        }
    }

    /// A port nothing listens on right now.
    fn free_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    /// Starts, recognizes and stops real servers in a scratch directory on
    /// free ports. Needs the server binaries (`cargo xtask services up`
    /// installs them when it has something to start); skipped without them,
    /// except in CI (`CI` set), where `.ci/run` starts from a bare machine.
    #[test]
    fn lifecycle_on_scratch_ports() {
        let installed = postgres::bin_dir().is_some()
            && util::which("redis-server").is_some()
            && util::which("memcached").is_some();
        if !installed {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but PostgreSQL, redis-server or memcached is not installed"
            );
            eprintln!("skipped: PostgreSQL, redis-server or memcached not installed");
            return;
        }
        let dir = std::env::temp_dir().join(format!("weft-xtask-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = config(&[]).unwrap();
        config.dir = dir.clone();
        config.pg_port = free_port();
        config.redis_port = free_port();
        config.redis_auth_port = free_port();
        config.memcached_ports = vec![free_port()];
        config.cluster_ports = (0..6).map(|_| free_cluster_port()).collect();
        config.sentinel_data_ports = (0..3).map(|_| free_port()).collect();
        config.sentinel_ports = (0..3).map(|_| free_port()).collect();

        let mut started = Started::default();
        let result = up(&config, &mut started);
        let checks = result.and_then(|()| check_running(&config));
        let stopped = started.down(&config);
        let after: Vec<bool> = config
            .instances()
            .iter()
            .map(|s| matches!(s.state(), Ok(State::Down)))
            .collect();
        let _ = std::fs::remove_dir_all(&dir);
        checks.unwrap();
        stopped.unwrap();
        assert!(after.iter().all(|&down| down), "still running: {after:?}");
    }

    /// A free port whose cluster bus port (port + 10000) is free too.
    fn free_cluster_port() -> u16 {
        loop {
            let port = free_port();
            if port <= u16::MAX - 10000 && TcpListener::bind(("127.0.0.1", port + 10000)).is_ok() {
                return port;
            }
        }
    }

    fn check_running(config: &Config) -> Result {
        for service in config.instances() {
            if !matches!(service.state()?, State::Ours(_)) {
                bail!("{} is not ours after up", service.name());
            }
        }
        // A second `up` starts nothing.
        let mut again = Started::default();
        up(config, &mut again)?;
        if !again.is_empty() {
            bail!("second up started {:?}", again.names);
        }
        // Each password user authenticates with its password, and only with it.
        let psql = postgres::bin_dir().unwrap().join("psql");
        for (user, password) in [
            ("weft_md5", "md5pass"),
            ("weft_scram", "scrampass"),
            ("weft_clear", "clearpass"),
        ] {
            for (pass, should_work) in [(password, true), ("wrong", false)] {
                let ok = Command::new(&psql)
                    .args(["-X", "-tA", "-h", HOST, "-p", &config.pg_port.to_string()])
                    .args(["-U", user, "-d", &config.pg_db, "-c", "SELECT 1"])
                    .env("PGPASSWORD", pass)
                    .output()?
                    .status
                    .success();
                if ok != should_work {
                    bail!("{user} with password {pass}: login ok={ok}");
                }
            }
        }
        // The authenticated Redis wants a password.
        let reply = match util::probe(util::loopback(config.redis_auth_port), b"PING\r\n") {
            Probe::Reply(r) => r,
            Probe::Closed => bail!("redis-auth closed"),
        };
        if !reply.starts_with(b"-NOAUTH") {
            bail!("redis-auth answered {:?}", String::from_utf8_lossy(&reply));
        }
        let reply = match util::probe(
            util::loopback(config.redis_auth_port),
            b"AUTH weft weftpass\r\nPING\r\n",
        ) {
            Probe::Reply(r) => r,
            Probe::Closed => bail!("redis-auth closed"),
        };
        if !reply.starts_with(b"+OK\r\n") {
            bail!("AUTH weft answered {:?}", String::from_utf8_lossy(&reply));
        }
        Ok(())
    }

    #[test]
    fn a_port_held_by_another_protocol_is_an_error() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Answers every connection with a line no service sends.
        std::thread::spawn(move || {
            use std::io::Write;
            for mut stream in listener.incoming().flatten() {
                let _ = stream.write_all(b"hello\r\n");
            }
        });
        let mut config = config(&[]).unwrap();
        config.dir = std::env::temp_dir().join("weft-xtask-test-unused");
        config.pg_port = port;
        config.redis_port = port;
        config.memcached_ports = vec![port];
        for service in config.instances() {
            if service.port() == port {
                assert!(service.state().is_err(), "{} accepted it", service.name());
            }
        }
    }
}
