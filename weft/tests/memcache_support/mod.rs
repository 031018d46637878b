//! Shared helpers for the memcached integration tests (`tests/memcache_*.rs`):
//! the shared servers from `WEFT_MEMCACHED_ADDRS`, and private memcached
//! processes a test may kill and restart without disturbing anyone else.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use weft::memcache::{Config, Protocol};

/// Every protocol flavour.
pub const PROTOCOLS: [Protocol; 3] = [Protocol::Text, Protocol::Meta, Protocol::Binary];

fn missing(what: &str) -> Option<std::convert::Infallible> {
    if std::env::var("WEFT_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{what} but WEFT_REQUIRE_SERVICES=1");
    }
    eprintln!("skipped: {what}");
    None
}

/// The shared servers (`WEFT_MEMCACHED_ADDRS`), or `None` (test skipped)
/// when unset, unless `WEFT_REQUIRE_SERVICES=1`, which makes that a failure.
pub fn addrs() -> Option<Vec<String>> {
    match std::env::var("WEFT_MEMCACHED_ADDRS") {
        Ok(a) if !a.trim().is_empty() => Some(
            a.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        _ => {
            missing("WEFT_MEMCACHED_ADDRS unset")?;
            None
        }
    }
}

/// The first shared server.
pub fn addr() -> Option<SocketAddr> {
    Some(
        addrs()?[0]
            .parse()
            .expect("WEFT_MEMCACHED_ADDRS holds ip:port"),
    )
}

/// A client config over every shared server, speaking `protocol`.
pub fn config(protocol: Protocol) -> Option<Config> {
    let a = addrs()?.join(",");
    Some(Config::from_addrs(&a).unwrap().protocol(protocol))
}

/// A key prefix unique to this test run and call.
pub fn prefix(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "weft-test:{test}:{}:{}:",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn memcached_binary() -> Option<PathBuf> {
    let from_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("memcached"))
            .find(|f| f.is_file())
    });
    from_path.or_else(|| {
        let f = PathBuf::from("/usr/bin/memcached");
        f.is_file().then_some(f)
    })
}

/// A memcached process of this test's own, on a free port, so it can be
/// killed and restarted without touching the shared servers. Killed when
/// dropped.
pub struct OwnMemcached {
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl OwnMemcached {
    /// Starts one (or `None`, test skipped, when memcached is not installed,
    /// unless `WEFT_REQUIRE_SERVICES=1`).
    pub fn start() -> Option<OwnMemcached> {
        let Some(bin) = memcached_binary() else {
            missing("memcached not installed")?;
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut m = OwnMemcached {
            bin,
            port,
            child: None,
        };
        m.restart();
        Some(m)
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Kills the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Freezes the process (SIGSTOP): connections stay open, nothing is
    /// answered.
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
        // The signal is delivered asynchronously: wait until every thread
        // is stopped (state `T` in /proc), or a request sent right after
        // could still be answered.
        let pid = self.child.as_ref().expect("running").id();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let all_stopped = std::fs::read_dir(format!("/proc/{pid}/task"))
                .expect("procfs")
                .filter_map(Result::ok)
                .all(|t| {
                    std::fs::read_to_string(t.path().join("stat")).is_ok_and(|st| {
                        // "pid (comm) S ...": the state follows the last ')'.
                        st.rsplit(')')
                            .next()
                            .and_then(|r| r.trim_start().chars().next())
                            == Some('T')
                    })
                });
            if all_stopped {
                return;
            }
            assert!(Instant::now() < deadline, "memcached never stopped");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Thaws a paused process (SIGCONT).
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.child.as_ref().expect("running").id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid has no memory-safety
        // preconditions.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig})");
    }

    /// Starts the process again on the same port and waits until it accepts
    /// connections.
    pub fn restart(&mut self) {
        self.kill();
        let mut cmd = Command::new(&self.bin);
        cmd.args([
            "-l",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-U",
            "0",
            "-m",
            "64",
        ]);
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            cmd.args(["-u", "root"]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("memcached starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(self.addr()).is_err() {
            assert!(
                Instant::now() < deadline,
                "memcached on {} never came up",
                self.addr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for OwnMemcached {
    fn drop(&mut self) {
        self.kill();
    }
}
