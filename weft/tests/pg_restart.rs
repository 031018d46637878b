//! The pooled PostgreSQL client while the server itself is restarted
//! (`pg_ctl restart -m fast`) under load: every answer is the right one,
//! every failure is a typed error, and the pool recovers by itself. Alone
//! in its own test binary so no other test meets the restart; needs
//! `WEFT_PG_DATA` (exported by `cargo xtask services`).

mod pg_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use weft::pg::{Client, Error};
use weft::pool;
use weft::rt::{Backend, spawn, time};

/// `pg_ctl` of the newest `/usr/lib/postgresql/<version>` (Debian's
/// layout, as `cargo xtask services` picks it), else the one on `PATH`.
fn pg_ctl() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let p = e.path().join("bin").join("pg_ctl");
            p.exists().then_some((v, p))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, p)| p)
        .unwrap_or_else(|| PathBuf::from("pg_ctl"))
}

/// Restarts the server of data directory `data`, as the `postgres` OS
/// user when we are root (the server refuses to run as root).
fn restart(data: &Path) {
    let root = data.parent().expect("data directory has a parent");
    // SAFETY: geteuid has no preconditions and cannot fail.
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_ctl());
        c
    } else {
        Command::new(pg_ctl())
    };
    let out = cmd
        .current_dir(root)
        .arg("-D")
        .arg(data)
        .args(["-w", "-t", "60", "-m", "fast", "-l"])
        .arg(root.join("postgres.log"))
        .arg("restart")
        .output()
        .expect("run pg_ctl");
    assert!(
        out.status.success(),
        "pg_ctl restart: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An error a caller may see while the server goes away and comes back:
/// the connection was lost, the server is shutting down or starting up
/// (`57P01`, `57P03`), or nothing listened for a moment.
fn expected(e: &Error) -> bool {
    e.is_closed() || matches!(e.code(), Some("57P01" | "57P03"))
}

fn restart_under_load<B: Backend>() {
    let Some(cfg) = pg_support::config() else {
        return;
    };
    let Some(data) = std::env::var_os("WEFT_PG_DATA")
        .map(PathBuf::from)
        .filter(|d| d.join("PG_VERSION").exists())
    else {
        assert!(
            std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "WEFT_PG_DATA does not name the test PostgreSQL's data directory"
        );
        eprintln!("skipped: WEFT_PG_DATA unset (PostgreSQL not started by xtask)");
        return;
    };
    let client = Client::<B>::with_backend(
        cfg.pool(
            pool::Config::default()
                .max_open(4)
                .acquire_timeout(Duration::from_secs(30))
                .backoff(Duration::from_millis(10), Duration::from_millis(200)),
        ),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..2)
        .map(|w| {
            let client = client.clone();
            let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
            std::thread::spawn(move || {
                B::block_on(async move {
                    let mut tasks = Vec::new();
                    for t in 0..16i32 {
                        let client = client.clone();
                        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
                        let base = (w * 16 + t) * 10_000_000;
                        tasks.push(spawn(async move {
                            let mut i = 0;
                            while !stop.load(Ordering::Relaxed) {
                                i += 1;
                                let q = if i % 2 == 0 {
                                    client.query_one("SELECT $1::int4", &[&(base + i)]).await
                                } else {
                                    // An exclusive connection from the pool.
                                    match client.get().await {
                                        Ok(c) => {
                                            c.query_one("SELECT $1::int4", &[&(base + i)]).await
                                        }
                                        Err(e) => Err(e),
                                    }
                                };
                                match q {
                                    Ok(r) => {
                                        assert_eq!(
                                            r.get::<i32>(0).unwrap(),
                                            base + i,
                                            "another request's answer"
                                        );
                                        ok.fetch_add(1, Ordering::Relaxed);
                                    }
                                    Err(e) => {
                                        assert!(expected(&e), "{e}");
                                        failed.fetch_add(1, Ordering::Relaxed);
                                        // Do not spin while nothing listens.
                                        time::sleep(Duration::from_millis(5)).await;
                                    }
                                }
                            }
                        }));
                    }
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
            })
        })
        .collect();
    let guard = |what: &str, until: Instant, cond: &dyn Fn() -> bool| {
        while !cond() {
            assert!(Instant::now() < until, "hang guard: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    guard(
        "traffic before the restart",
        Instant::now() + Duration::from_secs(30),
        &|| ok.load(Ordering::Relaxed) >= 500,
    );
    restart(&data);
    let at_restart = ok.load(Ordering::Relaxed);
    guard(
        "recovery after the restart",
        Instant::now() + Duration::from_secs(60),
        &|| ok.load(Ordering::Relaxed) >= at_restart + 2_000,
    );
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    eprintln!(
        "{}: restart under load: {} ok, {} typed failures",
        B::NAME,
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed)
    );
    // Settled: a fresh run of queries all succeeds.
    B::block_on(async {
        for i in 0..100i32 {
            let r = client.query_one("SELECT $1::int4", &[&i]).await.unwrap();
            assert_eq!(r.get::<i32>(0).unwrap(), i);
        }
        assert!(client.pool_state().open <= 4, "{:?}", client.pool_state());
    });
}

#[test]
fn pool_recovers_after_a_server_restart_under_load() {
    #[cfg(feature = "epoll")]
    restart_under_load::<weft::rt::Epoll>();
    #[cfg(feature = "std")]
    restart_under_load::<weft::rt::Std>();
}
