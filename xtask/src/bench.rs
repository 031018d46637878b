//! `cargo xtask bench matrix`: weft's demo against axum and actix-web peer
//! servers over every demo route, with wrk (see `benches/src/bin/matrix.rs`).

use std::path::PathBuf;

use crate::services::{self, Config, Started};
use crate::util::{self, Result, bail};

/// Where cargo puts release binaries.
fn release_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| util::repo_root().join("target"));
    target.join("release")
}

/// `cargo xtask bench matrix [MATRIX ARGS...]`.
pub fn command(args: &[String]) -> Result {
    let Some((what, rest)) = args.split_first() else {
        bail!(
            "usage: cargo xtask bench matrix [--rounds N] [--duration S] [--columns a,b] [--no-write]"
        );
    };
    if what != "matrix" {
        bail!("unknown benchmark `{what}`; there is: matrix");
    }
    let config = Config::from_env()?;
    util::catch_interrupts();
    let mut started = Started::default();
    let result = services::up(&config, &mut started)
        .and_then(|()| crate::seed::techempower(&config))
        .and_then(|()| matrix(&config, rest));
    let stopped = started.down(&config);
    result.and(stopped)
}

fn matrix(config: &Config, args: &[String]) -> Result {
    util::run(util::cargo().args([
        "build",
        "--release",
        "-p",
        "weft-demo",
        "--bin",
        "weft-demo",
    ]))?;
    util::run(util::cargo().args([
        "build",
        "--release",
        "-p",
        "weft-benches",
        "--features",
        "peers",
        "--bin",
        "peer_server",
        "--bin",
        "matrix",
    ]))?;
    let bin = release_dir();
    let mut cmd = std::process::Command::new(bin.join("matrix"));
    cmd.arg("--demo")
        .arg(bin.join("weft-demo"))
        .arg("--peer")
        .arg(bin.join("peer_server"))
        .envs(config.env_vars());
    let mut write = true;
    for a in args {
        if a == "--no-write" {
            write = false;
        } else {
            cmd.arg(a);
        }
    }
    if write {
        cmd.arg("--write")
            .arg(util::repo_root().join("BENCHMARKS.md"));
    }
    util::run(&mut cmd)
}
