//! `cargo xtask`: project automation for Weft, std only so it builds in
//! seconds on a fresh machine.
//!
//! - `services up|down|env|status`: the PostgreSQL, Redis and memcached
//!   instances the integration tests talk to (installed with apt-get on
//!   Debian when missing);
//! - `test`: the whole suite against those services, then the lints;
//! - `demo`: the demo server with the services it needs;
//! - `fuzz`: the cargo-fuzz targets under `fuzz/`.

mod bench;
mod demo;
mod fuzz;
mod seed;
mod services;
mod test;
mod util;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  services up|down|env|status
      Start (installing on Debian as root if missing), stop, describe the local
      PostgreSQL, Redis and memcached the tests use (`up` also seeds the
      TechEmpower `world` and `fortune` tables). `down` stops only what
      runs from our state directory. `eval \"$(cargo xtask services env)\"`
      exports their addresses.
  test [--no-lint] [--fuzz SECS | --no-fuzz] [-- CARGO_TEST_ARGS...]
      services up; cargo test --no-fail-fast --workspace --all-targets; the
      same with --doc; cargo clippy --workspace --all-targets -- -D warnings; cargo fmt
      --all -- --check; each fuzz target for SECS seconds when --fuzz is given
      (10 s each by default when CI is set; --no-fuzz skips);
      then stops the services this run started. Arguments after `--` go to
      both `cargo test` runs (`-p NAME` there replaces --workspace).
  demo [--addr 127.0.0.1:8080] [--backend epoll|uring|std] [-- ARGS...]
      services up, then the weft `demo` example in release mode; Ctrl-C stops
      it and the services it started.
  bench matrix [--rounds N] [--duration SECS] [--columns a,b] [--no-write]
      services up, then the demo routes on weft (epoll, io_uring, std),
      axum+tokio and actix-web, measured with wrk, cells interleaved; the
      table goes into BENCHMARKS.md unless --no-write.
  fuzz [TARGET] [--time SECS] [--list]
      Run one fuzz target (or each in turn) for SECS seconds (default 30);
      installs cargo-fuzz if missing.

environment:
  WEFT_SERVICES_DIR      state directory (default <repo>/.weft/services)
  WEFT_PG_PORT           PostgreSQL port (54329); WEFT_PG_DB database (weft)
  WEFT_REDIS_ADDR        127.0.0.1:63790 (no auth)
  WEFT_REDIS_AUTH_ADDR   127.0.0.1:63791 (requirepass, ACL user weft)
  WEFT_MEMCACHED_ADDRS   127.0.0.1:11311,127.0.0.1:11312,127.0.0.1:11313
  WEFT_REDIS_CLUSTER_NODES        six cluster nodes, 127.0.0.1:7000 to :7005
  WEFT_REDIS_SENTINEL_DATA_ADDRS  primary and replicas, 127.0.0.1:7100 to :7102
  WEFT_REDIS_SENTINELS            sentinels, 127.0.0.1:7200 to :7202
                                  (master name: WEFT_REDIS_SENTINEL_MASTER=weftmaster)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "services" => services::command(rest),
        "test" => test::command(rest),
        "demo" => demo::command(rest),
        "fuzz" => fuzz::command(rest),
        "bench" => bench::command(rest),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
