//! `cargo xtask demo`: the demo server (the `weft-demo` crate) with the
//! services its handlers talk to.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::services::{self, Config, Started};
use crate::util::{self, Result, bail};

/// How long after an interrupt the child gets to exit on its own (it shares
/// our process group, so a terminal's Ctrl-C reached it too) before we
/// forward the signal, and then before we kill it.
const GRACE: Duration = Duration::from_secs(3);
const KILL_AFTER: Duration = Duration::from_secs(15);

struct Options {
    addr: SocketAddr,
    backend: String,
    extra: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let usage =
        "usage: cargo xtask demo [--addr 127.0.0.1:8080] [--backend epoll|uring|std] [-- ARGS...]";
    let mut options = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
        backend: "epoll".into(),
        extra: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => {
                let value = args.next().map(String::as_str).unwrap_or("");
                options.addr = value
                    .parse()
                    .map_err(|_| util::Error::msg(format!("--addr: `{value}` is not IP:PORT")))?;
            }
            "--backend" => {
                let value = args.next().map(String::as_str).unwrap_or("");
                if !matches!(value, "epoll" | "uring" | "std") {
                    bail!("--backend: `{value}` is not one of epoll, uring, std");
                }
                options.backend = value.into();
            }
            "--" => {
                options.extra = args.cloned().collect();
                break;
            }
            other => bail!("unknown argument `{other}`\n{usage}"),
        }
    }
    Ok(options)
}

/// `cargo xtask demo [--addr A] [--backend B] [-- ARGS...]`.
pub fn command(args: &[String]) -> Result {
    let options = parse(args)?;
    let config = Config::from_env()?;
    util::catch_interrupts();
    let mut started = Started::default();
    let result = services::up(&config, &mut started)
        .and_then(|()| crate::seed::techempower(&config))
        .and_then(|()| serve(&config, &options));
    let stopped = started.down(&config);
    result.and(stopped)
}

/// Builds and runs the demo until it exits or we are interrupted.
fn serve(config: &Config, options: &Options) -> Result {
    let mut cmd = util::cargo();
    // Every backend is compiled in; --backend picks one at run time.
    cmd.args(["run", "--release", "-p", "weft-demo", "--"])
        .arg("--addr")
        .arg(options.addr.to_string())
        .arg("--backend")
        .arg(&options.backend)
        .args(&options.extra)
        .envs(config.env_vars());
    println!("$ {}", util::describe(&cmd));
    println!(
        "demo on http://{} once built; Ctrl-C stops it and the services it started",
        options.addr
    );
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let mut interrupted_at: Option<Instant> = None;
    let mut forwarded = false;
    let mut killed = false;
    loop {
        if let Some(status) = child.try_wait()? {
            return match (status.success(), util::interrupted()) {
                (true, _) | (false, Some(_)) => {
                    println!("demo exited: {status}");
                    Ok(())
                }
                (false, None) => bail!("demo exited: {status}"),
            };
        }
        if util::interrupted().is_some() {
            let since = *interrupted_at.get_or_insert_with(Instant::now);
            if !forwarded && since.elapsed() >= GRACE {
                // The signal was sent to us alone (not the terminal's group).
                let _ = util::send_signal(pid, util::SIGINT);
                forwarded = true;
            } else if !killed && since.elapsed() >= GRACE + KILL_AFTER {
                eprintln!("demo did not stop after SIGINT; killing it");
                let _ = child.kill();
                killed = true;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
