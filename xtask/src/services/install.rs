//! Installing the servers and client tools the tests use.
//!
//! On Debian as root this runs `apt-get` itself, so a fresh CI machine and a
//! developer get the same setup from the same command. Anywhere else it names
//! the packages and stops.

use std::path::Path;
use std::process::Command;

use super::postgres;
use crate::util::{self, Result, bail};

/// The Debian packages, installed together in one `apt-get install`.
const PACKAGES: &[&str] = &[
    "postgresql",
    "redis-server",
    "redis-sentinel",
    "memcached",
    "curl",
    "nghttp2-client",
    "wrk",
];

/// A program the tests need and the Debian package that ships it.
struct Tool {
    program: &'static str,
    package: &'static str,
    /// A server `services up` starts (versus a client the tests run).
    server: bool,
}

const TOOLS: &[Tool] = &[
    Tool {
        program: "redis-server",
        package: "redis-server",
        server: true,
    },
    Tool {
        program: "redis-sentinel",
        package: "redis-sentinel",
        server: true,
    },
    Tool {
        program: "memcached",
        package: "memcached",
        server: true,
    },
    Tool {
        program: "curl",
        package: "curl",
        server: false,
    },
    Tool {
        program: "nghttp",
        package: "nghttp2-client",
        server: false,
    },
    Tool {
        program: "h2load",
        package: "nghttp2-client",
        server: false,
    },
    Tool {
        program: "wrk",
        package: "wrk",
        server: false,
    },
];

/// The packages whose programs are missing; `server` tells whether any of
/// them is a server.
fn missing() -> (Vec<&'static str>, bool) {
    let mut packages = Vec::new();
    let mut server = false;
    if postgres::bin_dir().is_none() {
        packages.push("postgresql");
        server = true;
    }
    for tool in TOOLS {
        if util::which(tool.program).is_none() && !packages.contains(&tool.package) {
            packages.push(tool.package);
            server |= tool.server;
        }
    }
    (packages, server)
}

/// Makes sure the servers and client tools are installed.
///
/// Missing servers are an error unless we can install them (Debian, root);
/// missing client tools only warn in that case, since the services still run.
pub fn ensure() -> Result {
    let (packages, server) = missing();
    if packages.is_empty() {
        return Ok(());
    }
    let debian = Path::new("/etc/debian_version").exists();
    let apt = util::which("apt-get").is_some();
    let why = match (debian, util::is_root(), apt) {
        (false, _, _) => Some("not Debian"),
        (true, false, _) => Some("not root"),
        (true, true, false) => Some("apt-get not found"),
        (true, true, true) => None,
    };
    if let Some(why) = why {
        let message = format!(
            "missing packages: {} ({why}, so xtask cannot install them; the Debian \
             package names are: {})",
            packages.join(" "),
            PACKAGES.join(" ")
        );
        if server {
            bail!("{message}");
        }
        eprintln!("warning: {message}; the HTTP client tests need them");
        return Ok(());
    }
    println!("installing missing packages: {}", packages.join(" "));
    util::run(Command::new("apt-get").arg("update"))?;
    util::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y"])
            .args(PACKAGES),
    )?;
    let (still, _) = missing();
    if !still.is_empty() {
        bail!("still missing after apt-get install: {}", still.join(" "));
    }
    Ok(())
}
