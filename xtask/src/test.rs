//! `cargo xtask test`: the whole suite against real services, then the lints.
//!
//! Steps run in order and all run even when one fails (a test failure should
//! not hide a lint failure in the same CI run); an interrupt (Ctrl-C) skips
//! the rest. The services this run started are stopped at the end whatever
//! happened, and the run fails if any step failed.
//!
//! The conformance suites are the `conformance` workspace member's tests, so
//! the workspace step runs them.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::fuzz;
use crate::services::{self, Config, Started};
use crate::util::{self, Result, bail};

/// Parsed `cargo xtask test` arguments.
struct Options {
    lint: bool,
    /// Seconds per fuzz target, when fuzzing was asked for.
    fuzz_secs: Option<u64>,
    /// Extra `cargo test` arguments (after `--`).
    cargo_test_args: Vec<String>,
}

/// Seconds per fuzz target when `CI` is set and no `--fuzz` was given.
const CI_FUZZ_SECS: u64 = 10;

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            lint: true,
            // CI fuzzes every target briefly so a parser regression is caught.
            fuzz_secs: std::env::var_os("CI").map(|_| CI_FUZZ_SECS),
            cargo_test_args: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--no-lint" => options.lint = false,
                "--no-fuzz" => options.fuzz_secs = None,
                "--fuzz" => {
                    let value = args.next().map(String::as_str).unwrap_or("");
                    options.fuzz_secs = match value.parse() {
                        Ok(s) if s > 0 => Some(s),
                        _ => bail!("--fuzz needs a number of seconds per target, got `{value}`"),
                    };
                }
                "--" => {
                    options.cargo_test_args = args.cloned().collect();
                    break;
                }
                other => bail!(
                    "unknown argument `{other}`; usage: cargo xtask test [--no-lint] \
                     [--fuzz SECS | --no-fuzz] [-- CARGO_TEST_ARGS...]"
                ),
            }
        }
        Ok(options)
    }

    /// `--workspace`, unless the extra arguments pick packages themselves.
    fn package_selection(&self) -> Vec<String> {
        let mut before_test_binary_args = self.cargo_test_args.iter().take_while(|a| *a != "--");
        let picks = before_test_binary_args
            .any(|a| a.starts_with("-p") || a == "--package" || a.starts_with("--package="));
        if picks {
            Vec::new()
        } else {
            vec!["--workspace".to_string()]
        }
    }
}

/// One named step of the run.
struct Step {
    name: String,
    run: Box<dyn FnOnce() -> Result>,
}

impl Step {
    fn new(name: impl Into<String>, run: impl FnOnce() -> Result + 'static) -> Self {
        Step {
            name: name.into(),
            run: Box::new(run),
        }
    }

    /// A step that runs `cmd` and fails on a non-zero exit.
    fn command(mut cmd: Command) -> Self {
        let name = util::describe_args(&cmd);
        Step::new(name, move || util::run(&mut cmd))
    }
}

/// Outcome of each step, for the summary.
#[derive(Default)]
struct Report {
    rows: Vec<(String, Outcome)>,
}

enum Outcome {
    Ok(Duration),
    /// How long it took, and the error's text.
    Failed(Duration, String),
    Skipped,
}

impl Report {
    /// Runs one step and records it; skipped after an interrupt unless `always`.
    fn run(&mut self, name: String, always: bool, step: impl FnOnce() -> Result) -> bool {
        if let (Some(signal), false) = (util::interrupted(), always) {
            println!("\n==> {name}: skipped (interrupted by signal {signal})");
            self.rows.push((name, Outcome::Skipped));
            return false;
        }
        println!("\n==> {name}");
        let begin = Instant::now();
        let result = step();
        let took = begin.elapsed();
        let outcome = match result {
            Ok(()) => {
                println!("<== {name}: ok in {}", util::secs(took));
                Outcome::Ok(took)
            }
            Err(e) => {
                println!("<== {name}: FAILED in {}\n{e}", util::secs(took));
                Outcome::Failed(took, e.to_string())
            }
        };
        let ok = matches!(outcome, Outcome::Ok(_));
        self.rows.push((name, outcome));
        ok
    }

    /// How many steps failed and how many were skipped.
    fn failures(&self) -> (usize, usize) {
        let count = |f: fn(&Outcome) -> bool| self.rows.iter().filter(|(_, o)| f(o)).count();
        (
            count(|o| matches!(o, Outcome::Failed(..))),
            count(|o| matches!(o, Outcome::Skipped)),
        )
    }

    fn print(&self, total: Duration) {
        println!("\nsummary ({} total):", util::secs(total));
        for (name, outcome) in &self.rows {
            let (word, took) = match outcome {
                Outcome::Ok(d) => ("ok", util::secs(*d)),
                Outcome::Failed(d, _) => ("FAILED", util::secs(*d)),
                Outcome::Skipped => ("skipped", String::new()),
            };
            println!("  {word:<8} {took:>8}  {name}");
        }
        // Repeat each failure's reason last, where a truncated log keeps it.
        for (name, outcome) in &self.rows {
            if let Outcome::Failed(_, why) = outcome {
                println!("\nwhy `{name}` failed:\n{why}");
            }
        }
    }
}

/// `cargo test` with the service addresses and `WEFT_REQUIRE_SERVICES=1`.
fn cargo_test(config: &Config) -> Command {
    let mut cmd = util::cargo();
    // --no-fail-fast: one failing test binary must not hide the others' results.
    cmd.args(["test", "--no-fail-fast"])
        .envs(config.env_vars())
        .env("WEFT_REQUIRE_SERVICES", "1");
    cmd
}

/// Unit, integration (and conformance) tests, examples and benches built as tests.
fn workspace_tests(config: &Config, options: &Options) -> Step {
    let mut cmd = cargo_test(config);
    cmd.args(options.package_selection())
        .arg("--all-targets")
        .args(&options.cargo_test_args);
    test_step(cmd)
}

/// Doc tests (`--all-targets` leaves them out).
fn doc_tests(config: &Config, options: &Options) -> Step {
    let mut cmd = cargo_test(config);
    cmd.args(options.package_selection())
        .arg("--doc")
        .args(&options.cargo_test_args);
    test_step(cmd)
}

/// A `cargo test` step whose failure reason lists the failed tests with
/// their output, so the summary at the end of a truncated log names them.
fn test_step(mut cmd: Command) -> Step {
    let name = util::describe_args(&cmd);
    Step::new(name, move || {
        let (status, failures) = util::run_collecting(&mut cmd, test_failure_lines)?;
        if status.success() {
            return Ok(());
        }
        bail!(
            "`{}` failed: {status}\n{}",
            util::describe_args(&cmd),
            failures.join("\n")
        )
    })
}

/// Most lines of failure detail one `cargo test` step repeats at the end.
const MAX_FAILURE_LINES: usize = 200;

/// Picks the lines worth repeating from `cargo test` output: each test
/// binary's `failures:` section and cargo's own `error:` lines.
fn test_failure_lines(line: &str, state: &mut bool, kept: &mut Vec<String>) {
    let trimmed = line.trim_end();
    if trimmed == "failures:" {
        *state = true;
    } else if trimmed.starts_with("test result:") {
        *state = false;
    }
    let cargo_error = trimmed.starts_with("error:") || trimmed.starts_with("    `");
    if (*state || cargo_error) && kept.len() < MAX_FAILURE_LINES {
        kept.push(trimmed.to_string());
    }
}

/// Clippy with warnings denied (the workspace lints include missing docs).
fn clippy() -> Step {
    let mut cmd = util::cargo();
    cmd.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    Step::command(cmd)
}

/// Formatting check; a failure names the files that need `cargo fmt`.
fn rustfmt() -> Step {
    let mut cmd = util::cargo();
    cmd.args(["fmt", "--all", "--", "--check"]);
    let name = util::describe_args(&cmd);
    Step::new(name, move || {
        let (status, files) = util::run_collecting(&mut cmd, |line, _, kept| {
            if line.starts_with("Diff in ") && kept.len() < MAX_FAILURE_LINES {
                kept.push(line.to_string());
            }
        })?;
        if status.success() {
            return Ok(());
        }
        bail!(
            "`cargo fmt --all -- --check` failed: {status}\n{}",
            files.join("\n")
        )
    })
}

/// Each fuzz target in `fuzz/Cargo.toml` for `secs` seconds.
fn fuzz_targets(secs: u64) -> Result<Vec<Step>> {
    if !fuzz::exists() {
        println!("--fuzz: there is no fuzz/Cargo.toml yet, nothing to fuzz");
        return Ok(Vec::new());
    }
    let mut steps = vec![Step::new(
        "install cargo-fuzz if missing",
        fuzz::ensure_cargo_fuzz,
    )];
    for target in fuzz::targets()? {
        let name = format!("fuzz {target} for {secs}s");
        steps.push(Step::new(name, move || fuzz::run_target(&target, secs)));
    }
    Ok(steps)
}

/// The conformance command line against the real servers, so CI shows
/// each suite's per-case lines and summary (the same suites also run as
/// `conformance`'s tests, with the HTTP ones against an in-process server).
fn conformance(config: &Config) -> Vec<Step> {
    let suites = [
        ("resp", "--addr", format!("127.0.0.1:{}", config.redis_port)),
        (
            "memcache",
            "--addr",
            format!(
                "127.0.0.1:{}",
                config.memcached_ports.first().copied().unwrap_or(11311)
            ),
        ),
        (
            "pg",
            "--dsn",
            format!(
                "postgres://weft@127.0.0.1:{}/{}",
                config.pg_port, config.pg_db
            ),
        ),
    ];
    suites
        .into_iter()
        .map(|(suite, flag, target)| {
            let mut cmd = util::cargo();
            cmd.args([
                "run",
                "--quiet",
                "-p",
                "conformance",
                "--",
                suite,
                flag,
                &target,
            ]);
            Step::command(cmd)
        })
        .collect()
}

/// The steps after `services up`, in order.
fn steps(config: &Config, options: &Options) -> Result<Vec<Step>> {
    let mut steps = vec![workspace_tests(config, options), doc_tests(config, options)];
    steps.extend(conformance(config));
    if options.lint {
        steps.push(clippy());
        steps.push(rustfmt());
    }
    if let Some(secs) = options.fuzz_secs {
        steps.extend(fuzz_targets(secs)?);
    }
    Ok(steps)
}

/// `cargo xtask test [--no-lint] [--fuzz SECS] [-- CARGO_TEST_ARGS...]`.
pub fn command(args: &[String]) -> Result {
    let options = Options::parse(args)?;
    let config = Config::from_env()?;
    let steps = steps(&config, &options)?;
    util::catch_interrupts();
    let begin = Instant::now();
    let mut report = Report::default();
    let mut started = Started::default();
    if report.run("services up".into(), false, || {
        services::up(&config, &mut started).and_then(|()| crate::seed::techempower(&config))
    }) {
        for step in steps {
            report.run(step.name, false, step.run);
        }
    }
    // Runs even after a failure or an interrupt.
    report.run("services down (what this run started)".into(), true, || {
        started.down(&config)
    });
    report.print(begin.elapsed());
    match report.failures() {
        (0, 0) => Ok(()),
        (failed, skipped) => bail!("{failed} step(s) failed, {skipped} skipped"),
    }
}

#[cfg(test)]
mod tests {
    use super::Options;

    fn parse(args: &[&str]) -> crate::util::Result<Options> {
        Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn defaults_lint_and_fuzz_only_under_ci() {
        let options = parse(&[]).unwrap();
        assert!(options.lint);
        let expected = std::env::var_os("CI").map(|_| super::CI_FUZZ_SECS);
        assert_eq!(options.fuzz_secs, expected);
        assert_eq!(options.package_selection(), ["--workspace"]);
        assert_eq!(parse(&["--no-fuzz"]).unwrap().fuzz_secs, None);
    }

    #[test]
    fn passes_cargo_test_arguments_through() {
        let options = parse(&["--no-lint", "--fuzz", "5", "--", "--release", "--", "-p"]).unwrap();
        assert!(!options.lint);
        assert_eq!(options.fuzz_secs, Some(5));
        assert_eq!(options.cargo_test_args, ["--release", "--", "-p"]);
        // `-p` after the second `--` is for the test binaries, not cargo.
        assert_eq!(options.package_selection(), ["--workspace"]);
    }

    #[test]
    fn a_package_choice_replaces_the_workspace() {
        for args in [
            ["--", "-p", "proto-resp"],
            ["--", "-pproto-resp", "-q"],
            ["--", "--package=proto-resp", "-q"],
        ] {
            assert!(
                parse(&args).unwrap().package_selection().is_empty(),
                "{args:?}"
            );
        }
    }

    #[test]
    fn rejects_unknown_flags_and_bad_durations() {
        for args in [
            &["--lint"][..],
            &["--fuzz"],
            &["--fuzz", "0"],
            &["--fuzz", "x"],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
