//! `cargo xtask fuzz`: the cargo-fuzz targets declared in `fuzz/Cargo.toml`.

use std::path::PathBuf;

use crate::util::{self, Result, bail};

/// Default seconds per target.
const DEFAULT_SECS: u64 = 30;

fn manifest() -> PathBuf {
    util::repo_root().join("fuzz").join("Cargo.toml")
}

/// Whether the fuzz crate exists.
pub fn exists() -> bool {
    manifest().exists()
}

/// The `name`s of the `[[bin]]` tables in `fuzz/Cargo.toml`, in file order.
pub fn targets() -> Result<Vec<String>> {
    let path = manifest();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        util::Error::msg(format!(
            "no fuzz crate yet ({}: {e}); targets go in fuzz/fuzz_targets/ and are \
             declared as [[bin]] in fuzz/Cargo.toml",
            path.display()
        ))
    })?;
    Ok(bin_names(&text))
}

/// Scans TOML text for `name = "..."` inside `[[bin]]` tables; enough for
/// the manifest cargo-fuzz writes, without a TOML parser dependency.
fn bin_names(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_bin = line.replace(' ', "") == "[[bin]]";
            continue;
        }
        if !in_bin {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim() == "name" {
                let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                names.push(value.to_string());
            }
        }
    }
    names
}

/// Installs cargo-fuzz when `cargo fuzz` is not available.
pub fn ensure_cargo_fuzz() -> Result {
    let present = util::cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        println!("cargo-fuzz not found; installing it");
        util::run(util::cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

/// Fuzzes `target` for `secs` seconds; an error means a crash (or a build
/// failure) and names the newest crash input, escaped, so a CI log shows it.
///
/// The corpus is `fuzz/corpus/TARGET` (kept between local runs, ignored by
/// git; libFuzzer writes new inputs to this first directory only) plus two
/// committed directories it only reads: `fuzz/seeds/TARGET` (spec examples
/// and recorded server traffic) and `fuzz/regressions/TARGET` (inputs that
/// once crashed, so every run re-checks them).
pub fn run_target(target: &str, secs: u64) -> Result {
    let fuzz_dir = util::repo_root().join("fuzz");
    let corpus = fuzz_dir.join("corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| util::Error::msg(format!("creating {}: {e}", corpus.display())))?;
    let mut cmd = util::cargo();
    // cargo-fuzz passes -Z sanitizer flags to rustc; this lets a stable
    // toolchain accept them.
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", target])
        .arg(&corpus);
    for extra in ["seeds", "regressions"] {
        let dir = fuzz_dir.join(extra).join(target);
        if dir.is_dir() {
            cmd.arg(&dir);
        }
    }
    cmd.arg("--").arg(format!("-max_total_time={secs}"));
    util::run(&mut cmd).map_err(|e| match newest_artifact(target) {
        Some(found) => util::Error::msg(format!("{e}\n{found}")),
        None => e,
    })
}

/// The newest file under `fuzz/artifacts/TARGET`, described with its first
/// bytes escaped.
fn newest_artifact(target: &str) -> Option<String> {
    let dir = util::repo_root()
        .join("fuzz")
        .join("artifacts")
        .join(target);
    let newest = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()?
        .1;
    let bytes = std::fs::read(&newest).ok()?;
    let shown: String = bytes
        .iter()
        .take(512)
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect();
    Some(format!(
        "crash input {} ({} bytes): \"{shown}\"",
        newest.display(),
        bytes.len()
    ))
}

/// `cargo xtask fuzz [TARGET] [--time SECS] [--list]`.
pub fn command(args: &[String]) -> Result {
    let mut target = None;
    let mut secs = DEFAULT_SECS;
    let mut list = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--time" => {
                let value = args.next().map(String::as_str).unwrap_or("");
                secs = match value.parse() {
                    Ok(s) if s > 0 => s,
                    _ => bail!("--time needs a number of seconds, got `{value}`"),
                };
            }
            "--list" => list = true,
            flag if flag.starts_with('-') => {
                bail!(
                    "unknown flag `{flag}`; usage: cargo xtask fuzz [TARGET] [--time SECS] [--list]"
                )
            }
            name if target.is_none() => target = Some(name.to_string()),
            extra => bail!("unexpected argument `{extra}`"),
        }
    }
    let all = targets()?;
    if list {
        for name in &all {
            println!("{name}");
        }
        return Ok(());
    }
    let chosen = match target {
        Some(name) if all.contains(&name) => vec![name],
        Some(name) => bail!("no fuzz target `{name}`; targets: {}", all.join(" ")),
        None if all.is_empty() => bail!("fuzz/Cargo.toml declares no [[bin]] targets"),
        None => all,
    };
    ensure_cargo_fuzz()?;
    let mut failed = Vec::new();
    for name in &chosen {
        println!("==> fuzz {name} for {secs}s");
        if let Err(e) = run_target(name, secs) {
            eprintln!("fuzz {name}: {e}");
            failed.push(name.as_str());
        }
    }
    if !failed.is_empty() {
        bail!(
            "fuzzing failed for: {} (crash inputs are under fuzz/artifacts/)",
            failed.join(" ")
        );
    }
    println!(
        "fuzzed {} target(s) for {secs}s each, no crash",
        chosen.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::bin_names;

    #[test]
    fn finds_bin_names_only_in_bin_tables() {
        let manifest = r#"
[package]
name = "weft-fuzz"

[dependencies.proto-resp]
path = "../proto-resp"

[[bin]]
name = "resp_decode"   # the RESP codec
path = "fuzz_targets/resp_decode.rs"
test = false

[[ bin ]]
path = "fuzz_targets/h1_parse.rs"
name = 'h1_parse'

[profile.release]
debug = 1
"#;
        assert_eq!(bin_names(manifest), ["resp_decode", "h1_parse"]);
    }
}
