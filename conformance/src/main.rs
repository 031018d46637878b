//! `conformance`: run a spec suite against a server.
//!
//! ```text
//! conformance <suite> [--addr HOST:PORT | --dsn URL] [--section S]... [--list]
//!             [--timeout SECS] [--io-timeout SECS] [--<suite option> VALUE]...
//! conformance --list
//! ```
//!
//! Prints one line per case (PASS, FAIL, WARN for a failed SHOULD, SKIP),
//! with what was expected and what was seen on failure, then a summary line.
//! Exits 0 when no MUST-level case failed, 1 when one did, 2 on a usage
//! error.

use std::process::ExitCode;
use std::time::Duration;

use conformance::framework::{Endpoint, Filter, Suite, Target, run};
use conformance::suites;

fn usage() -> String {
    let mut s = String::from(
        "usage: conformance <suite> [--addr HOST:PORT | --dsn URL] [--section S]... [--list]\n\
         \x20                  [--timeout SECS] [--io-timeout SECS] [--<option> VALUE]...\n\
         \x20      conformance --list\n\n\
         --section S     run only the cases under section S (repeatable; 6.3 selects 6.3.x)\n\
         --list          list the cases (of every suite when none is named)\n\
         --timeout SECS  wall-clock limit of one case (default 15)\n\
         --io-timeout SECS  limit of one socket read, write or connect (default 2)\n\nsuites:\n",
    );
    for suite in suites::ALL {
        let (flag, default) = match suite.endpoint {
            Endpoint::Addr(a) => ("--addr", a),
            Endpoint::Dsn(d) => ("--dsn", d),
        };
        s.push_str(&format!(
            "  {:<9} {}\n            {flag} (default {default})\n",
            suite.name, suite.spec
        ));
        for o in suite.options {
            s.push_str(&format!(
                "            --{} (default {:?}): {}\n",
                o.name, o.default, o.help
            ));
        }
    }
    s
}

fn list(suite: &Suite, filter: &Filter) {
    for case in (suite.cases)().iter().filter(|c| filter.matches(c)) {
        println!(
            "{:<9} {:<22} {:<6} {}",
            suite.name, case.section, case.level, case.title
        );
    }
}

fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("{flag}: not a positive number of seconds: {v}"))
}

fn main_inner() -> Result<bool, String> {
    let mut args = std::env::args().skip(1).peekable();
    let first = args.next().ok_or_else(usage)?;
    if first == "--help" || first == "-h" {
        print!("{}", usage());
        return Ok(true);
    }
    if first == "--list" {
        for suite in suites::ALL {
            list(suite, &Filter::all());
        }
        return Ok(true);
    }
    let suite =
        suites::find(&first).ok_or_else(|| format!("unknown suite {first:?}\n\n{}", usage()))?;
    let mut target = Target::new(suite);
    let mut sections = Vec::new();
    let mut listing = false;
    while let Some(flag) = args.next() {
        if flag == "--list" {
            listing = true;
            continue;
        }
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {flag:?}\n\n{}", usage()))?;
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match (name, suite.endpoint) {
            ("addr", Endpoint::Addr(_)) | ("dsn", Endpoint::Dsn(_)) => target = target.addr(value),
            ("section", _) => sections.push(value),
            ("timeout", _) => target = target.case_timeout(seconds(&flag, &value)?),
            ("io-timeout", _) => target = target.io_timeout(seconds(&flag, &value)?),
            _ => {
                if !target.set_option(name, value) {
                    return Err(format!(
                        "suite {} has no option {flag}\n\n{}",
                        suite.name,
                        usage()
                    ));
                }
            }
        }
    }
    let filter = Filter::sections(sections);
    if listing {
        list(suite, &filter);
        return Ok(true);
    }
    let report = run(suite, &target, &filter, &mut std::io::stdout());
    if report.entries.is_empty() {
        return Err("no case matches the --section filter".into());
    }
    Ok(report.passed())
}

fn main() -> ExitCode {
    match main_inner() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(msg) => {
            eprintln!("conformance: {msg}");
            ExitCode::from(2)
        }
    }
}
