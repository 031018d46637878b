//! `cargo xtask bench matrix`: the demo's routes on weft (epoll, io_uring,
//! std) against axum + tokio and actix-web with the usual drivers
//! (`peer_server`), measured with wrk.
//!
//! Every server runs at once on its own port (idle servers cost nothing);
//! the cells are interleaved: each round walks the columns, and within a
//! column the servers in an order rotated every round, so drift of a noisy
//! machine spreads over all of them. The table shows medians over the
//! rounds, and per column the ratio of the best weft cell to the best peer
//! cell.
//!
//! ```text
//! matrix --demo PATH --peer PATH [--rounds 3] [--duration 3] [--connections 64]
//!        [--threads 2] [--workers N] [--columns plaintext,json,...] [--write FILE]
//! ```
//!
//! `--write FILE` replaces the text between `<!-- matrix:begin -->` and
//! `<!-- matrix:end -->` in FILE (or appends the section) with the table.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use weft_benches::{median, wrk};

/// A column: a route and how wrk requests it.
struct Column {
    name: &'static str,
    path: &'static str,
    /// Requests a random world id as the key (`/cache/N`, `/mc/N`).
    random_key: bool,
}

const COLUMNS: [Column; 7] = [
    Column {
        name: "plaintext",
        path: "/plaintext",
        random_key: false,
    },
    Column {
        name: "json",
        path: "/json",
        random_key: false,
    },
    Column {
        name: "db",
        path: "/db",
        random_key: false,
    },
    Column {
        name: "queries?q=20",
        path: "/queries?q=20",
        random_key: false,
    },
    Column {
        name: "fortunes",
        path: "/fortunes",
        random_key: false,
    },
    Column {
        name: "cache",
        path: "/cache/",
        random_key: true,
    },
    Column {
        name: "mc",
        path: "/mc/",
        random_key: true,
    },
];

/// One server under test.
struct Server {
    name: &'static str,
    weft: bool,
    port: u16,
    child: Option<Child>,
}

struct Options {
    demo: PathBuf,
    peer: PathBuf,
    rounds: usize,
    duration: Duration,
    connections: usize,
    threads: usize,
    workers: usize,
    columns: Vec<String>,
    write: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        demo: PathBuf::new(),
        peer: PathBuf::new(),
        rounds: 3,
        duration: Duration::from_secs(3),
        connections: 64,
        threads: 2,
        workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
        columns: COLUMNS.iter().map(|c| c.name.to_string()).collect(),
        write: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let v = it.next().cloned().unwrap_or_default();
        let number = |v: &str| -> usize {
            v.parse()
                .unwrap_or_else(|_| panic!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--demo" => o.demo = v.into(),
            "--peer" => o.peer = v.into(),
            "--rounds" => o.rounds = number(&v),
            "--duration" => o.duration = Duration::from_secs(number(&v) as u64),
            "--connections" => o.connections = number(&v),
            "--threads" => o.threads = number(&v),
            "--workers" => o.workers = number(&v),
            "--columns" => o.columns = v.split(',').map(str::to_string).collect(),
            "--write" => o.write = Some(v.into()),
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(o.demo.is_file(), "--demo: no file at {}", o.demo.display());
    assert!(o.peer.is_file(), "--peer: no file at {}", o.peer.display());
    o
}

fn start(o: &Options) -> Vec<Server> {
    let spec: [(&str, bool, u16, &[&str]); 5] = [
        ("weft epoll", true, 8181, &["--backend", "epoll"]),
        ("weft io_uring", true, 8182, &["--backend", "uring"]),
        ("weft std", true, 8183, &["--backend", "std"]),
        ("axum+tokio", false, 8184, &["--framework", "axum"]),
        ("actix-web", false, 8185, &["--framework", "actix"]),
    ];
    spec.iter()
        .map(|&(name, weft, port, args)| {
            let program = if weft { &o.demo } else { &o.peer };
            let child = Command::new(program)
                .args(args)
                .args(["--addr", &format!("127.0.0.1:{port}")])
                .args(["--workers", &o.workers.to_string()])
                .stdout(Stdio::null())
                .spawn();
            let child = match child {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("{name}: cannot start {}: {e}", program.display());
                    None
                }
            };
            Server {
                name,
                weft,
                port,
                child,
            }
        })
        .collect()
}

/// Whether `GET path` answers 200 within a few seconds.
fn answers(port: u16, path: &str) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut reply = Vec::new();
            if s.write_all(req.as_bytes()).is_ok() && s.read_to_end(&mut reply).is_ok() {
                return reply.starts_with(b"HTTP/1.1 200");
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// A wrk script that asks for `prefix` followed by a random world id.
fn random_key_script(prefix: &str) -> String {
    format!(
        "request = function()\n  return wrk.format(nil, \"{prefix}\" .. math.random(1, 10000))\nend\n"
    )
}

/// Medians of one cell: requests per second and p99 in microseconds, or
/// `None` when a run failed or had errors.
type Cell = Option<(f64, f64)>;

fn main() {
    let o = options();
    let columns: Vec<&Column> = COLUMNS
        .iter()
        .filter(|c| o.columns.iter().any(|n| n == c.name))
        .collect();
    let mut servers = start(&o);
    let ready: Vec<bool> = servers
        .iter()
        .map(|s| {
            let ok = s.child.is_some() && answers(s.port, "/plaintext");
            if !ok {
                eprintln!(
                    "{} is not answering on port {}; its cells stay empty",
                    s.name, s.port
                );
            }
            ok
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("weft-matrix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // samples[column][server] = (rps, p99) per round; a failed run poisons the cell.
    let mut samples = vec![vec![Some((Vec::new(), Vec::new())); servers.len()]; columns.len()];
    for round in 0..o.rounds {
        for (ci, col) in columns.iter().enumerate() {
            let script = col.random_key.then(|| {
                let path = dir.join(format!("{}.lua", col.name));
                std::fs::write(&path, random_key_script(col.path)).expect("script");
                path
            });
            for k in 0..servers.len() {
                let si = (k + round) % servers.len();
                if !ready[si] {
                    samples[ci][si] = None;
                    continue;
                }
                let url = format!("http://127.0.0.1:{}{}", servers[si].port, col.path);
                let r = wrk::run(
                    &url,
                    o.threads,
                    o.connections,
                    o.duration,
                    script.as_deref(),
                );
                let cell = &mut samples[ci][si];
                match r {
                    Ok(r) if r.errors == 0 => {
                        eprintln!(
                            "round {round} {:<14} {:<12} {:>10.0} req/s p99 {:>8.0} us",
                            col.name, servers[si].name, r.requests_per_sec, r.p99_us
                        );
                        if let Some((rps, p99)) = cell {
                            rps.push(r.requests_per_sec);
                            p99.push(r.p99_us);
                        }
                    }
                    Ok(r) => {
                        eprintln!(
                            "round {round} {} {}: {} errors",
                            col.name, servers[si].name, r.errors
                        );
                        *cell = None;
                    }
                    Err(e) => {
                        eprintln!("round {round} {} {}: {e}", col.name, servers[si].name);
                        *cell = None;
                    }
                }
            }
        }
    }
    for s in &mut servers {
        if let Some(c) = &mut s.child {
            // SAFETY: kill(2) with a pid we spawned and SIGINT; no memory involved.
            unsafe {
                libc::kill(c.id() as libc::pid_t, libc::SIGINT);
            }
            let _ = c.wait();
        }
    }
    let cells: Vec<Vec<Cell>> = samples
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|c| c.map(|(mut rps, mut p99)| (median(&mut rps), median(&mut p99))))
                .collect()
        })
        .collect();
    let table = render(&o, &servers, &columns, &cells);
    println!("{table}");
    if let Some(path) = &o.write {
        write_section(path, &table);
        eprintln!("wrote the table into {}", path.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn render(o: &Options, servers: &[Server], columns: &[&Column], cells: &[Vec<Cell>]) -> String {
    let mut t = String::new();
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
    );
    t.push_str(&format!(
        "wrk -t{} -c{} -d{}s per cell, {} rounds interleaved, medians; {} workers per server; {machine}\n\n",
        o.threads,
        o.connections,
        o.duration.as_secs(),
        o.rounds,
        o.workers
    ));
    t.push_str("| server |");
    for c in columns {
        t.push_str(&format!(" {} req/s (p99) |", c.name));
    }
    t.push_str("\n|---|");
    t.push_str(&"---:|".repeat(columns.len()));
    t.push('\n');
    for (si, s) in servers.iter().enumerate() {
        t.push_str(&format!("| {} |", s.name));
        for row in cells {
            match row[si] {
                Some((rps, p99)) => t.push_str(&format!(" {rps:.0} ({:.1} ms) |", p99 / 1000.0)),
                None => t.push_str(" n/a |"),
            }
        }
        t.push('\n');
    }
    t.push_str("| **best weft / best peer** |");
    for row in cells {
        let best = |weft: bool| {
            servers
                .iter()
                .zip(row)
                .filter(|(s, _)| s.weft == weft)
                .filter_map(|(_, c)| c.map(|(rps, _)| rps))
                .fold(f64::NAN, f64::max)
        };
        let ratio = best(true) / best(false);
        if ratio.is_nan() {
            t.push_str(" n/a |");
        } else {
            t.push_str(&format!(" **{ratio:.2}x** |"));
        }
    }
    t.push('\n');
    t
}

const BEGIN: &str = "<!-- matrix:begin -->";
const END: &str = "<!-- matrix:end -->";

fn write_section(path: &PathBuf, table: &str) {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{BEGIN}\n{table}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => format!("{}{section}{}", &old[..b], &old[e + END.len()..]),
        _ => format!("{old}\n{section}\n"),
    };
    std::fs::write(path, new).expect("write the table");
}
