//! End to end: the demo's routes served by weft on every backend, over
//! HTTP/1.1, h2c upgrade and HTTP/2 prior knowledge (real `curl`), against
//! the real PostgreSQL, Redis and memcached that `cargo xtask services up`
//! starts; a slow query does not hold up other connections of its worker;
//! PostgreSQL restarted under load gives 503s, then service resumes, and
//! no response ever carries another request's data.
//!
//! Skipped (with a line) when the services' variables are unset, unless
//! `WEFT_REQUIRE_SERVICES=1`.

use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use weft::http::{Request, Response, RunningServer, Server, StatusCode};
use weft::rt::{Backend, BackendFn, BackendKind};
use weft_demo::app::{self, Drivers, Services};

mod support;
use support::get;

/// Tests that break PostgreSQL take this for writing; the others read.
static PG_UP: RwLock<()> = RwLock::new(());

fn services() -> Option<Services> {
    if std::env::var("WEFT_PG_HOST").is_ok_and(|v| !v.is_empty()) {
        return Some(Services::from_env());
    }
    assert!(
        std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "WEFT_REQUIRE_SERVICES=1 but WEFT_PG_HOST is unset (run `cargo xtask services up`)"
    );
    println!("skipped: no services (run `cargo xtask services up` and export its env)");
    None
}

fn have(program: &str) -> bool {
    let found = Command::new(program).arg("--version").output().is_ok();
    assert!(
        found || std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "{program} is not installed"
    );
    if !found {
        println!("skipped: {program} is not installed");
    }
    found
}

/// The demo's router plus two routes for these tests: `/slow?s=N` (a
/// `pg_sleep`) and `/id/:n` (the server echoes `n` through PostgreSQL).
struct Start {
    kind: BackendKind,
    workers: usize,
    services: Services,
}

impl BackendFn for Start {
    type Output = RunningServer;

    fn call<B: Backend>(self) -> RunningServer {
        let drivers = Drivers::<B>::new(&self.services).expect("service addresses");
        let (slow, id) = (drivers.clone(), drivers.clone());
        let router = app::router(drivers)
            .get("/slow", move |req: Request| {
                let d = slow.clone();
                async move {
                    let secs: f64 = req
                        .query_param("s")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(1.0);
                    match d.pg().execute("SELECT pg_sleep($1)", &[&secs]).await {
                        Ok(_) => Response::text("slept"),
                        Err(e) => {
                            Response::status(StatusCode::SERVICE_UNAVAILABLE).body(e.to_string())
                        }
                    }
                }
            })
            .get("/id/:n", move |req: Request| {
                let d = id.clone();
                async move {
                    let n: i32 = req.param("n").and_then(|n| n.parse().ok()).unwrap_or(-1);
                    match d.pg().query_one("SELECT $1::int4", &[&n]).await {
                        Ok(row) => Response::text(row.get::<i32>(0).map_or(-2, |v| v).to_string()),
                        Err(e) => {
                            Response::status(StatusCode::SERVICE_UNAVAILABLE).body(e.to_string())
                        }
                    }
                }
            });
        Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .backend(self.kind)
            .workers(self.workers)
            .serve(router)
            .expect("serve")
    }
}

fn start(kind: BackendKind, workers: usize, services: &Services) -> RunningServer {
    kind.dispatch(Start {
        kind,
        workers,
        services: services.clone(),
    })
}

/// `curl` with a protocol flag; returns (status, HTTP version, body).
fn curl(flag: &str, url: &str) -> (u16, String, String) {
    curl_with(&[flag], url)
}

/// [`curl`] with more arguments (`flags` come before the URL).
fn curl_with(flags: &[&str], url: &str) -> (u16, String, String) {
    let out = Command::new("curl")
        .args(["-s", "-S", "-m", "20"])
        .args(flags)
        .args(["-w", "\n%{http_code} %{http_version}", url])
        .output()
        .expect("run curl");
    let text = String::from_utf8(out.stdout).expect("utf-8 body");
    let (body, tail) = text.rsplit_once('\n').expect("curl's -w line");
    let (code, version) = tail.split_once(' ').expect("code and version");
    (
        code.parse().unwrap_or(0),
        version.to_string(),
        body.to_string(),
    )
}

const PROTOCOLS: [(&str, &str, &str); 3] = [
    ("HTTP/1.1", "--http1.1", "1.1"),
    ("h2c upgrade", "--http2", "2"),
    ("h2 prior knowledge", "--http2-prior-knowledge", "2"),
];

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn every_route_on_every_backend_and_protocol() {
    let Some(services) = services() else { return };
    if !have("curl") {
        return;
    }
    let _pg = PG_UP.read().unwrap_or_else(|e| e.into_inner());
    for kind in BackendKind::enabled() {
        let server = start(kind, 2, &services);
        let base = format!("http://{}", server.local_addr());
        for (name, flag, version) in PROTOCOLS {
            let get = |path: &str| {
                let (code, v, body) = curl(flag, &format!("{base}{path}"));
                assert_eq!(code, 200, "{kind} {name} {path}: {body}");
                assert_eq!(v, version, "{kind} {name} {path}: protocol");
                body
            };
            let ctx = format!("{kind} {name}");
            assert_eq!(get("/"), "Hello, World!", "{ctx}");
            assert_eq!(get("/plaintext"), "Hello, World!", "{ctx}");
            // POST /echo, a short body and one of 2 MiB (curl sends
            // `Expect: 100-continue` for bodies of 1 MiB and more).
            for size in [9, 2 << 20] {
                let body: String = "ping pong".chars().cycle().take(size).collect();
                let file =
                    std::env::temp_dir().join(format!("weft-e2e-echo-{}", std::process::id()));
                std::fs::write(&file, &body).unwrap();
                let data = format!("@{}", file.display());
                let (code, v, echoed) =
                    curl_with(&[flag, "--data-binary", &data], &format!("{base}/echo"));
                assert_eq!(
                    (code, v.as_str()),
                    (200, version),
                    "{ctx} POST /echo {size}"
                );
                assert!(
                    echoed == body,
                    "{ctx} POST /echo {size}: {} bytes back",
                    echoed.len()
                );
            }
            assert_eq!(get("/json"), r#"{"message":"Hello, World!"}"#, "{ctx}");
            let db = get("/db");
            assert!(
                db.starts_with(r#"{"id":"#) && db.contains(r#","randomNumber":"#),
                "{ctx}: {db}"
            );
            assert_eq!(count(&get("/queries?q=20"), r#""id":"#), 20, "{ctx}");
            assert_eq!(count(&get("/queries?q=0"), r#""id":"#), 1, "{ctx}");
            assert_eq!(count(&get("/queries?q=x"), r#""id":"#), 1, "{ctx}");
            assert_eq!(count(&get("/queries?q=501"), r#""id":"#), 500, "{ctx}");
            assert_eq!(count(&get("/updates?q=5"), r#""id":"#), 5, "{ctx}");
            let page = get("/fortunes");
            assert_eq!(count(&page, "<tr><td>"), 13, "{ctx}: {page}");
            assert!(
                page.contains("&lt;script&gt;alert(&quot;This should not be displayed"),
                "{ctx}"
            );
            assert!(
                page.contains("Additional fortune added at request time."),
                "{ctx}"
            );
            assert!(page.contains("フレームワークのベンチマーク"), "{ctx}");
            let cached = get("/cache/42");
            assert!(cached.starts_with(r#"{"id":42,"#), "{ctx}: {cached}");
            let mc = get("/mc/43");
            assert!(mc.starts_with(r#"{"id":43,"#), "{ctx}: {mc}");
            let (code, _, _) = curl(flag, &format!("{base}/cache/nope"));
            assert_eq!(code, 404, "{ctx}");
        }
        server.shutdown(Duration::from_secs(5)).expect("shutdown");
    }
}

/// The cache routes: a miss reads PostgreSQL and fills the cache, the next
/// request is a hit with the same body, and the cache really holds it.
#[test]
fn cache_routes_fill_the_cache_on_a_miss() {
    let Some(services) = services() else { return };
    if !have("curl") {
        return;
    }
    let _pg = PG_UP.read().unwrap_or_else(|e| e.into_inner());
    let server = start(BackendKind::Epoll, 1, &services);
    let base = format!("http://{}", server.local_addr());
    // A key of our own, emptied first through the drivers themselves.
    let id = 9_000 + (std::process::id() % 900) as i32;
    let key = weft_demo::techempower::cache_key(id);
    weft::rt::block_on(async {
        let d = Drivers::<weft::rt::Epoll>::new(&services).unwrap();
        let _: u64 = weft::redis::Commands::del(d.redis(), &[key.as_str()])
            .await
            .unwrap();
        d.memcache().delete(&key).await.unwrap();
    });
    for route in ["cache", "mc"] {
        let (code, _, miss) = curl("--http1.1", &format!("{base}/{route}/{id}"));
        assert_eq!(code, 200, "{route}: {miss}");
        assert!(
            miss.starts_with(&format!(r#"{{"id":{id},"#)),
            "{route}: {miss}"
        );
        let (code, _, hit) = curl("--http1.1", &format!("{base}/{route}/{id}"));
        assert_eq!(
            (code, &hit),
            (200, &miss),
            "{route}: the hit differs from the miss"
        );
    }
    let stored = weft::rt::block_on(async {
        let d = Drivers::<weft::rt::Epoll>::new(&services).unwrap();
        let r: Option<String> = weft::redis::Commands::get(d.redis(), key.as_str())
            .await
            .unwrap();
        let m = d.memcache().get(&key).await.unwrap().map(|i| i.value);
        (r, m)
    });
    assert!(
        stored
            .0
            .is_some_and(|v| v.starts_with(&format!(r#"{{"id":{id},"#)))
    );
    assert!(stored.1.is_some());
    server.shutdown(Duration::from_secs(5)).expect("shutdown");
}

fn connect(addr: SocketAddr) -> BufReader<TcpStream> {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    BufReader::new(s)
}

/// A handler awaiting a slow query parks its task; the same (single)
/// worker keeps answering other connections meanwhile.
#[test]
fn a_slow_query_does_not_hold_up_other_connections() {
    let Some(services) = services() else { return };
    let _pg = PG_UP.read().unwrap_or_else(|e| e.into_inner());
    let server = start(BackendKind::Epoll, 1, &services);
    let addr = server.local_addr();
    let finished = Arc::new(AtomicUsize::new(0));
    let slow: Vec<_> = (0..3)
        .map(|_| {
            let finished = finished.clone();
            std::thread::spawn(move || {
                let r = get(&mut connect(addr), "/slow?s=2");
                finished.fetch_add(1, Ordering::SeqCst);
                r
            })
        })
        .collect();
    // Let the slow requests reach the worker (ordering, not a time bound:
    // the assertion below only needs them to have started).
    std::thread::sleep(Duration::from_millis(300));
    let mut fast = connect(addr);
    for _ in 0..20 {
        let (status, body) = get(&mut fast, "/plaintext").unwrap();
        assert_eq!((status, body.as_str()), (200, "Hello, World!"));
    }
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the fast requests waited for the slow queries"
    );
    for t in slow {
        let (status, body) = t.join().unwrap().unwrap();
        assert_eq!((status, body.as_str()), (200, "slept"));
    }
    server.shutdown(Duration::from_secs(5)).expect("shutdown");
}

/// `pg_ctl` of the newest installed PostgreSQL.
fn pg_ctl() -> Option<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin").join("pg_ctl"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

/// Restarts the test PostgreSQL (as the `postgres` user when we are root).
fn restart_postgres(data: &str) {
    let pg_ctl = pg_ctl().expect("pg_ctl");
    let root = std::path::Path::new(data)
        .parent()
        .expect("data dir parent");
    let log = root.join("postgres.log");
    // SAFETY: geteuid has no preconditions.
    let root_user = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root_user {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
        c
    } else {
        Command::new(&pg_ctl)
    };
    let out = cmd
        .current_dir(root)
        .args(["-D", data, "-w", "-t", "60", "-m", "fast", "-l"])
        .arg(&log)
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

/// PostgreSQL restarted while requests flow: every answer is either the
/// right one (the number the request sent, echoed through the database)
/// or a 503; afterwards service resumes without restarting anything.
#[test]
fn postgres_restart_under_load() {
    let Some(services) = services() else { return };
    let Some(data) = std::env::var("WEFT_PG_DATA")
        .ok()
        .filter(|d| std::path::Path::new(d).join("PG_VERSION").exists())
    else {
        assert!(
            std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "WEFT_PG_DATA does not name our PostgreSQL data directory"
        );
        println!("skipped: WEFT_PG_DATA unset (PostgreSQL not started by xtask)");
        return;
    };
    let _pg = PG_UP.write().unwrap_or_else(|e| e.into_inner());
    let server = start(BackendKind::Epoll, 2, &services);
    let addr = server.local_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (stop, counts) = (stop.clone(), counts.clone());
            std::thread::spawn(move || {
                let mut conn = connect(addr);
                let mut n = c * 1_000_000;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let (status, body) = match get(&mut conn, &format!("/id/{n}")) {
                        Ok(r) => r,
                        Err(e) => panic!("client {c}: the server broke the connection: {e}"),
                    };
                    match status {
                        200 => {
                            assert_eq!(
                                body,
                                n.to_string(),
                                "a response carried another request's data"
                            );
                            counts[0].fetch_add(1, Ordering::SeqCst);
                        }
                        503 => {
                            counts[1].fetch_add(1, Ordering::SeqCst);
                        }
                        other => panic!("client {c}: status {other}: {body}"),
                    }
                }
            })
        })
        .collect();
    // Wait for traffic, then restart under it.
    let until = Instant::now() + Duration::from_secs(30);
    while counts[0].load(Ordering::SeqCst) < 50 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        counts[0].load(Ordering::SeqCst) >= 50,
        "no traffic before the restart"
    );
    restart_postgres(&data);
    let ok_after_restart = counts[0].load(Ordering::SeqCst);
    // Service resumes by itself: successes keep coming (bounded wait, a
    // hang guard rather than a timing claim).
    let until = Instant::now() + Duration::from_secs(60);
    while counts[0].load(Ordering::SeqCst) < ok_after_restart + 200 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().expect("client thread");
    }
    let (ok, unavailable) = (
        counts[0].load(Ordering::SeqCst),
        counts[1].load(Ordering::SeqCst),
    );
    println!("restart under load: {ok} answered, {unavailable} answered 503");
    assert!(
        ok >= ok_after_restart + 200,
        "service did not resume after the restart"
    );
    server.shutdown(Duration::from_secs(5)).expect("shutdown");
}
