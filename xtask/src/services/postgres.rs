//! PostgreSQL: one cluster with the users the authentication tests need.
//!
//! Layout under the state directory: `postgres/data` (the cluster),
//! `postgres/run` (its unix socket), `postgres/postgres.log`. As root the
//! server runs as the `postgres` OS user (initdb and postgres refuse root),
//! which must be able to reach that directory; when it cannot (a checkout
//! under a private home directory) or the socket path would be too long,
//! `postgres` is a symlink to a directory under the system temp directory.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Config, HOST, Service, State};
use crate::util::{self, Probe, Result, bail};

/// The OS user the server runs as when we are root.
const OS_USER: &str = "postgres";
/// The bootstrap superuser initdb creates.
const SUPERUSER: &str = "postgres";
/// Longest unix socket path (`sun_path` is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// The PostgreSQL instance.
pub struct Postgres {
    state_dir: PathBuf,
    port: u16,
    db: String,
}

impl Postgres {
    /// The instance of `config`.
    pub fn new(config: &Config) -> Self {
        Postgres {
            state_dir: config.dir.clone(),
            port: config.pg_port,
            db: config.pg_db.clone(),
        }
    }

    /// `postgres` in the state directory, or where that symlink points: the
    /// server and its socket path must not go through the link.
    fn root(&self) -> PathBuf {
        let link = self.link();
        std::fs::read_link(&link).unwrap_or(link)
    }

    fn link(&self) -> PathBuf {
        self.state_dir.join("postgres")
    }

    fn data(&self) -> PathBuf {
        self.root().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.root().join("run")
    }

    fn log(&self) -> PathBuf {
        self.root().join("postgres.log")
    }

    /// The pid and port in `postmaster.pid` (lines 1 and 4, see the
    /// PostgreSQL docs "Database File Layout").
    fn postmaster(&self) -> Option<(u32, u16)> {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        let mut lines = text.lines();
        let pid = lines.next()?.trim().parse().ok()?;
        let port = lines.nth(2)?.trim().parse().ok()?;
        Some((pid, port))
    }

    /// Creates the root directory (or the symlink to one outside).
    fn prepare_root(&self) -> Result {
        let root = self.link();
        if root.symlink_metadata().is_ok() {
            // A link whose target was cleaned away (temp dirs do not survive
            // reboots) gets an empty one; initdb then runs again.
            std::fs::create_dir_all(self.root())?;
            return Ok(());
        }
        let socket = self.socket_dir().join(format!(".s.PGSQL.{}", self.port));
        let too_long = socket.as_os_str().len() > MAX_SOCKET_PATH;
        let unreachable = util::is_root() && !os_user_can_enter(&self.state_dir);
        if too_long || unreachable {
            let mut hasher = DefaultHasher::new();
            self.state_dir.hash(&mut hasher);
            let outside = std::env::temp_dir().join(format!("weft-pg-{:016x}", hasher.finish()));
            std::fs::create_dir_all(&outside)?;
            std::os::unix::fs::symlink(&outside, &root)?;
            let why = if too_long {
                "its socket path would be too long"
            } else {
                "the postgres user cannot enter the state directory"
            };
            println!(
                "postgres: {} -> {} ({why})",
                root.display(),
                outside.display()
            );
        } else {
            std::fs::create_dir_all(&root)?;
        }
        Ok(())
    }

    /// Creates the cluster in a scratch directory renamed into place once
    /// configured, so an interrupted initdb never leaves a half-made `data`.
    fn initdb(&self, bin: &Path) -> Result {
        let root = self.root();
        let scratch = root.join("data.initdb");
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        std::fs::create_dir_all(self.socket_dir())?;
        chown(&[&root], true)?;
        let out = util::capture(
            as_os_user(&bin.join("initdb"))
                .current_dir(&root)
                .arg("-D")
                .arg(&scratch)
                .args([
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ]),
        )?;
        std::fs::write(root.join("initdb.log"), &out.stdout)?;
        // Client authentication, one method per test user (PostgreSQL docs
        // "The pg_hba.conf File"); the first matching line wins.
        let hba = "\
# Written by `cargo xtask services up`.
# TYPE  DATABASE  USER        ADDRESS        METHOD
local   all       all                        trust
host    all       weft_md5    127.0.0.1/32   md5
host    all       weft_scram  127.0.0.1/32   scram-sha-256
host    all       weft_clear  127.0.0.1/32   password
host    all       all         127.0.0.1/32   trust
";
        // Both files exist (initdb wrote them), so they keep their owner.
        std::fs::write(scratch.join("pg_hba.conf"), hba)?;
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(scratch.join("postgresql.conf"))?;
        writeln!(conf, "\ninclude 'weft.conf'")?;
        std::fs::rename(&scratch, self.data())?;
        Ok(())
    }

    /// Settings written on every start, so a changed port takes effect.
    fn write_settings(&self) -> Result {
        let socket_dir = self.socket_dir();
        std::fs::create_dir_all(&socket_dir)?;
        let settings = format!(
            "# Written by `cargo xtask services up` on every start.\n\
             listen_addresses = '{HOST}'\n\
             port = {}\n\
             unix_socket_directories = '{}'\n\
             max_connections = 300\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n",
            self.port,
            socket_dir.to_string_lossy().replace('\'', "''"),
        );
        let file = self.data().join("weft.conf");
        std::fs::write(&file, settings)?;
        chown(&[&file, &socket_dir], false)
    }

    /// Creates the users and the database if missing and (re)sets the
    /// passwords, each hashed the way its authentication method needs.
    fn create_users(&self, bin: &Path) -> Result {
        let db = &self.db;
        let script = format!(
            "SELECT 'CREATE ROLE weft SUPERUSER LOGIN' \
               WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'weft')\\gexec\n\
             SELECT format('CREATE ROLE %I LOGIN', r) \
               FROM unnest(ARRAY['weft_md5', 'weft_scram', 'weft_clear']) AS r \
               WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r)\\gexec\n\
             SET password_encryption = 'md5';\n\
             ALTER ROLE weft_md5 PASSWORD 'md5pass';\n\
             SET password_encryption = 'scram-sha-256';\n\
             ALTER ROLE weft_scram PASSWORD 'scrampass';\n\
             ALTER ROLE weft_clear PASSWORD 'clearpass';\n\
             SELECT 'CREATE DATABASE {db} OWNER weft' \
               WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{db}')\\gexec\n\
             GRANT ALL PRIVILEGES ON DATABASE {db} TO weft_md5, weft_scram, weft_clear;\n"
        );
        let mut cmd = Command::new(bin.join("psql"));
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.socket_dir())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
                "-f",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(script.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "creating the users failed: {}",
                String::from_utf8_lossy(&out.stderr).trim_end()
            );
        }
        Ok(())
    }

    fn pg_ctl(&self, bin: &Path) -> Command {
        let mut cmd = as_os_user(&bin.join("pg_ctl"));
        // Our working directory may be closed to the postgres user.
        cmd.current_dir(self.root()).arg("-D").arg(self.data());
        cmd
    }

    fn with_log(&self, e: util::Error) -> util::Error {
        util::Error::msg(format!("{e}\n{}", util::tail(&self.log(), 20)))
    }
}

impl Service for Postgres {
    fn name(&self) -> String {
        "postgres".into()
    }

    fn port(&self) -> u16 {
        self.port
    }

    fn state(&self) -> Result<State> {
        if let Some((pid, _)) = self.postmaster() {
            if util::pid_alive(pid, "postgres") {
                return Ok(State::Ours(pid));
            }
        }
        // An SSLRequest (protocol chapter, "SSL Session Encryption"): a
        // server answers with the single byte 'S' or 'N'.
        let ssl_request = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
        match util::probe(util::loopback(self.port), &ssl_request) {
            Probe::Closed => Ok(State::Down),
            Probe::Reply(r) if r == b"S" || r == b"N" => Ok(State::Foreign),
            Probe::Reply(_) => bail!(
                "port {} is taken by something that is not PostgreSQL",
                self.port
            ),
        }
    }

    fn start(&self) -> Result {
        let Some(bin) = bin_dir() else {
            bail!("PostgreSQL binaries not found (looked in /usr/lib/postgresql/*/bin and PATH)");
        };
        self.prepare_root()?;
        if !self.data().join("PG_VERSION").exists() {
            println!("postgres: initdb in {}", self.data().display());
            self.initdb(&bin)?;
        }
        self.write_settings()?;
        util::capture(
            self.pg_ctl(&bin)
                .arg("-l")
                .arg(self.log())
                .args(["-w", "-t", "60", "-s", "start"]),
        )
        .map_err(|e| self.with_log(e))?;
        self.wait_ready()?;
        self.create_users(&bin)
    }

    fn wait_ready(&self) -> Result {
        let Some(bin) = bin_dir() else {
            bail!("PostgreSQL binaries not found");
        };
        if let Some((pid, port)) = self.postmaster() {
            if port != self.port && util::pid_alive(pid, "postgres") {
                bail!(
                    "ours (pid {pid}) runs on port {port}, not {}; `services down` stops it",
                    self.port
                );
            }
        }
        let port = self.port.to_string();
        util::wait_until(
            "postgres to accept connections",
            Duration::from_secs(60),
            || {
                Command::new(bin.join("pg_isready"))
                    .args([
                        "-q", "-h", HOST, "-p", &port, "-U", SUPERUSER, "-d", "postgres",
                    ])
                    .status()
                    .is_ok_and(|s| s.success())
            },
        )
        .map_err(|e| self.with_log(e))
    }

    fn stop(&self, pid: u32) -> Result {
        let Some(bin) = bin_dir() else {
            bail!("PostgreSQL binaries not found");
        };
        util::capture(
            self.pg_ctl(&bin)
                .args(["-m", "fast", "-w", "-t", "60", "-s", "stop"]),
        )?;
        util::wait_until("postgres to exit", Duration::from_secs(30), || {
            !util::pid_alive(pid, "postgres")
        })
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), else the
/// directory of `initdb` on `PATH`.
pub fn bin_dir() -> Option<PathBuf> {
    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(version) = name
                .split('.')
                .map(str::parse)
                .collect::<std::result::Result<Vec<u32>, _>>()
            else {
                continue;
            };
            let bin = entry.path().join("bin");
            let newer = best.as_ref().is_none_or(|(v, _)| version > *v);
            if newer && util::is_executable(&bin.join("initdb")) {
                best = Some((version, bin));
            }
        }
    }
    best.map(|(_, bin)| bin)
        .or_else(|| util::which("initdb")?.parent().map(Path::to_path_buf))
}

/// `program` run as the `postgres` OS user when we are root.
fn as_os_user(program: &Path) -> Command {
    if util::is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", OS_USER, "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// Hands `paths` to the `postgres` OS user when we are root.
fn chown(paths: &[&Path], recursive: bool) -> Result {
    if !util::is_root() {
        return Ok(());
    }
    let mut cmd = Command::new("chown");
    if recursive {
        cmd.arg("-R");
    }
    cmd.arg(format!("{OS_USER}:"));
    for path in paths {
        // The symlinked root: change its target, not the link.
        cmd.arg(path.canonicalize()?);
    }
    util::capture(&mut cmd)?;
    Ok(())
}

/// Whether the `postgres` OS user can enter `dir` (every ancestor searchable).
fn os_user_can_enter(dir: &Path) -> bool {
    Command::new("runuser")
        .current_dir("/")
        .args(["-u", OS_USER, "--", "test", "-x"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}
