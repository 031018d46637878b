//! Helpers shared by the commands: the error type, running and describing
//! commands, waiting with a deadline, process liveness, TCP probes, and the
//! interrupt flag.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

/// An error for the user: one line (or a few) that says what went wrong.
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn msg(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error(e.to_string())
    }
}

/// Result with [`Error`].
pub type Result<T = ()> = std::result::Result<T, Error>;

/// Returns early with an [`Error`] built from a format string.
macro_rules! bail {
    ($($arg:tt)*) => {
        return Err($crate::util::Error::msg(format!($($arg)*)))
    };
}
pub(crate) use bail;

/// The workspace root (the parent of the xtask crate).
pub fn repo_root() -> PathBuf {
    // `cargo run` sets the variable at run time too; prefer it, so a binary
    // left in a target directory shared by two checkouts serves the one
    // that ran it.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.parent().unwrap_or(&manifest).to_path_buf()
}

/// A `cargo` command run from the workspace root, using the cargo that runs
/// us (`$CARGO`) so that the toolchain stays the same.
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(repo_root());
    cmd
}

/// The command line, quoted for a POSIX shell where needed.
pub fn describe(cmd: &Command) -> String {
    let mut line = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            line.push_str(&format!("{}={} ", key.to_string_lossy(), quote(value)));
        }
    }
    line.push_str(&quote(cmd.get_program()));
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

/// The program's file name and the arguments, without the environment: a
/// short name for a step.
pub fn describe_args(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let mut line = quote(program.file_name().unwrap_or(program.as_os_str()));
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

fn quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@+%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` with inherited stdio, echoing it first; fails on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result {
    println!("$ {}", describe(cmd));
    let status = spawn_status(cmd)?;
    if !status.success() {
        bail!("`{}` failed: {status}", describe_args(cmd));
    }
    Ok(())
}

/// Runs `cmd`, echoing its stdout and stderr as they come, and keeps the
/// lines `pick` selects (called per line with a per-stream state flag).
pub fn run_collecting(
    cmd: &mut Command,
    pick: fn(&str, &mut bool, &mut Vec<String>),
) -> Result<(ExitStatus, Vec<String>)> {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    println!("$ {}", describe(cmd));
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(cmd, e))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let stderr_lines = std::thread::spawn(move || {
        let (mut state, mut kept) = (false, Vec::new());
        for line in BufReader::new(stderr).lines().map_while(io::Result::ok) {
            eprintln!("{line}");
            pick(&line, &mut state, &mut kept);
        }
        kept
    });
    let (mut state, mut kept) = (false, Vec::new());
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines().map_while(io::Result::ok) {
        println!("{line}");
        pick(&line, &mut state, &mut kept);
    }
    let _ = io::stdout().flush();
    let status = child.wait().map_err(|e| spawn_error(cmd, e))?;
    kept.extend(stderr_lines.join().unwrap_or_default());
    Ok((status, kept))
}

/// Runs `cmd` to completion with inherited stdio; a spawn failure names the program.
pub fn spawn_status(cmd: &mut Command) -> Result<ExitStatus> {
    cmd.status().map_err(|e| spawn_error(cmd, e))
}

/// Runs `cmd` capturing its output; fails with its stderr on a non-zero exit.
pub fn capture(cmd: &mut Command) -> Result<Output> {
    let output = cmd.output().map_err(|e| spawn_error(cmd, e))?;
    if !output.status.success() {
        bail!(
            "`{}` failed: {}\n{}{}",
            describe(cmd),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    Ok(output)
}

fn spawn_error(cmd: &Command, e: io::Error) -> Error {
    Error::msg(format!(
        "cannot run `{}`: {e}",
        cmd.get_program().to_string_lossy()
    ))
}

/// Finds `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Whether `path` is a regular file with an execute bit.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Whether we run as root (the owner of `/proc/self` is our effective uid).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Polls `ready` every 100 ms until it returns true or `timeout` passes.
pub fn wait_until(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) -> Result {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("timed out after {}s waiting for {what}", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Reads the pid on the first line of a pid file.
pub fn read_pid(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// Whether `pid` is a live (not zombie) process whose command name is `comm`.
///
/// Checking the name guards against a stale pid file whose pid was reused by
/// an unrelated process.
pub fn pid_alive(pid: u32, comm: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Format: `pid (comm) state ...`; comm may itself hold spaces or parens.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let name = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    name == comm && !matches!(state, Some('Z' | 'X'))
}

/// Sends signal `signum` (such as [`SIGTERM`]) to `pid`.
///
/// Through the C library rather than `kill(1)`, which minimal Debian images
/// lack (it is in procps).
pub fn send_signal(pid: u32, signum: i32) -> Result {
    let Ok(pid) = i32::try_from(pid) else {
        bail!("pid {pid} out of range");
    };
    if kill(pid, signum) != 0 {
        bail!("kill({pid}, {signum}): {}", io::Error::last_os_error());
    }
    Ok(())
}

/// Sends SIGTERM to `pid` and waits until it is gone.
pub fn terminate(pid: u32, comm: &str, timeout: Duration) -> Result {
    if !pid_alive(pid, comm) {
        return Ok(());
    }
    send_signal(pid, SIGTERM)?;
    wait_until(&format!("{comm} (pid {pid}) to exit"), timeout, || {
        !pid_alive(pid, comm)
    })
}

/// A loopback address on `port`.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// What a TCP probe of a port found.
pub enum Probe {
    /// Nothing accepts connections there.
    Closed,
    /// Something accepted and answered with these bytes (possibly none).
    Reply(Vec<u8>),
}

/// Connects to `addr`, writes `request`, and reads the first reply bytes.
pub fn probe(addr: SocketAddr, request: &[u8]) -> Probe {
    let timeout = Duration::from_millis(500);
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return Probe::Closed;
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    if stream.write_all(request).is_err() {
        return Probe::Reply(Vec::new());
    }
    let mut buf = [0u8; 256];
    match stream.read(&mut buf) {
        Ok(n) => Probe::Reply(buf[..n].to_vec()),
        Err(_) => Probe::Reply(Vec::new()),
    }
}

/// The last `lines` lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    let mut out = format!("--- last lines of {} ---\n", path.display());
    for line in &all[start..] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Formats a duration as seconds with one decimal.
pub fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

static INTERRUPT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_interrupt(signal: i32) {
    // Only an atomic store: async-signal-safe.
    INTERRUPT.store(signal, Ordering::SeqCst);
}

unsafe extern "C" {
    /// `signal(2)` from the C library std already links.
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    /// `kill(2)`: integers in, an integer out, no memory touched, so it is
    /// safe to call with any arguments.
    safe fn kill(pid: i32, signum: i32) -> i32;
}

/// Interrupt (Ctrl-C).
pub const SIGINT: i32 = 2;
/// Polite termination.
pub const SIGTERM: i32 = 15;

/// Lets this process survive SIGINT and SIGTERM so it can stop the services
/// it started; [`interrupted`] then reports the signal.
///
/// std has no signal API, hence the one FFI call. A caught signal (unlike an
/// ignored one) is reset to its default action across `exec`, so children,
/// which share our process group and so get the terminal's Ctrl-C themselves,
/// still stop on it.
pub fn catch_interrupts() {
    for signum in [SIGINT, SIGTERM] {
        // SAFETY: `on_interrupt` has the C signature `signal` expects and only
        // performs an atomic store, which is async-signal-safe.
        unsafe {
            signal(signum, on_interrupt);
        }
    }
}

/// The signal caught since [`catch_interrupts`], if any.
pub fn interrupted() -> Option<i32> {
    match INTERRUPT.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_commands_as_a_shell_would_read_them() {
        let mut cmd = Command::new("/usr/bin/cargo");
        cmd.args(["test", "--", "it's", "a b", ""]).env("A", "x y");
        assert_eq!(
            describe(&cmd),
            r#"A='x y' /usr/bin/cargo test -- 'it'\''s' 'a b' ''"#
        );
        assert_eq!(describe_args(&cmd), r#"cargo test -- 'it'\''s' 'a b' ''"#);
    }

    #[test]
    fn knows_live_processes_by_pid_and_name() {
        let me = std::process::id();
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert!(pid_alive(me, comm.trim()));
        assert!(!pid_alive(me, "surely-not-this"));
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Exited but not yet reaped: a zombie, which does not count.
        wait_until("true to exit", Duration::from_secs(5), || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z"))
        })
        .unwrap();
        assert!(!pid_alive(pid, "true"));
        child.wait().unwrap();
        assert!(!pid_alive(pid, "true"));
    }

    #[test]
    fn probes_tell_closed_from_answering() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 6];
            stream.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"PING\r\n");
            stream.write_all(b"+PONG\r\n").unwrap();
        });
        assert!(matches!(probe(addr, b"PING\r\n"), Probe::Reply(r) if r == b"+PONG\r\n"));
        server.join().unwrap();
        // The listener is gone: nothing accepts there any more.
        assert!(matches!(probe(addr, b"PING\r\n"), Probe::Closed));
    }

    #[test]
    fn reads_the_first_line_of_pid_files() {
        let path = std::env::temp_dir().join(format!("weft-xtask-pid-{}", std::process::id()));
        std::fs::write(&path, "1234\n/data\n").unwrap();
        assert_eq!(read_pid(&path), Some(1234));
        std::fs::write(&path, "garbage\n").unwrap();
        assert_eq!(read_pid(&path), None);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(read_pid(&path), None);
    }
}
