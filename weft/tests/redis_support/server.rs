//! A redis-server of the test's own, on a free port, for what the shared
//! instances of `cargo xtask services up` must not undergo (being killed,
//! restarted) or cannot show (a server without `HELLO`).

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether `redis-server` can be run. When it cannot, the caller skips its
/// test, unless `WEFT_REQUIRE_SERVICES=1`, which makes that a failure.
pub fn installed() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "redis-server is not installed but WEFT_REQUIRE_SERVICES=1"
        );
        eprintln!("skipped: redis-server not installed");
    }
    found
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server child process, in memory only, killed when dropped.
pub struct Server {
    port: u16,
    extra: Vec<String>,
    child: Option<Child>,
}

impl Server {
    /// Spawns `redis-server` on `port` with `extra` arguments (redis.conf
    /// directives as `--name value ...`), without waiting for it.
    pub fn spawn(port: u16, extra: &[&str]) -> std::io::Result<Server> {
        let mut s = Server {
            port,
            extra: extra.iter().map(|a| a.to_string()).collect(),
            child: None,
        };
        s.respawn()?;
        Ok(s)
    }

    /// [`spawn`](Self::spawn), then waits until it accepts connections
    /// (at most 10 s: a readiness wait, not a timing check).
    pub fn start(port: u16, extra: &[&str]) -> std::io::Result<Server> {
        let s = Server::spawn(port, extra)?;
        s.wait_listening();
        Ok(s)
    }

    /// Starts the process again (after [`kill`](Self::kill)), same port and
    /// arguments, without waiting.
    pub fn respawn(&mut self) -> std::io::Result<()> {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// Blocks until the port accepts a TCP connection.
    pub fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `host:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
