//! Idle means idle: the demo with 1,000 idle HTTP/1.1 keep-alive
//! connections and warm, idle driver pools (PostgreSQL, Redis, memcached
//! connections open on every worker) uses under 1% of one core over 10 s.
//! A busy-spinning loop anywhere (a worker, a pool's reaper, a driver's
//! connection task) would burn the whole window.

use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use weft::http::{RunningServer, Server};
use weft::rt::{Backend, BackendFn, BackendKind};
use weft_demo::app::{self, Drivers, Services};

mod support;

fn cpu_time() -> Duration {
    // SAFETY: rusage is plain data; getrusage fills it for RUSAGE_SELF.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut u), 0);
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

struct Start(BackendKind, Services);

impl BackendFn for Start {
    type Output = RunningServer;

    fn call<B: Backend>(self) -> RunningServer {
        let drivers = Drivers::<B>::new(&self.1).expect("service addresses");
        Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .backend(self.0)
            .workers(2)
            .serve(app::router(drivers))
            .expect("serve")
    }
}

/// One request on `s`: its status.
fn request(s: &mut BufReader<TcpStream>, path: &str) -> u16 {
    support::get(s, path).expect("response").0
}

/// Raises the soft open-files limit to the hard one (2,000 sockets here).
fn raise_fd_limit() {
    // SAFETY: rlimit is plain data; get/setrlimit read and write it.
    unsafe {
        let mut l: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 && l.rlim_cur < l.rlim_max {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

fn idle_cpu(kind: BackendKind, services: &Services, window: Duration) -> Duration {
    let server = kind.dispatch(Start(kind, services.clone()));
    let addr = server.local_addr();
    // Warm the pools of both workers: every route that touches a service,
    // on enough connections that both workers get some.
    let mut conns: Vec<BufReader<TcpStream>> = Vec::with_capacity(1000);
    for i in 0..1000 {
        let mut s = BufReader::new(TcpStream::connect(addr).expect("connect"));
        if i < 16 {
            for path in ["/db", "/fortunes", "/cache/7", "/mc/7"] {
                assert_eq!(request(&mut s, path), 200, "{kind} {path}");
            }
        } else {
            assert_eq!(request(&mut s, "/plaintext"), 200);
        }
        conns.push(s);
    }
    // Let the last responses' work settle, then measure.
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_time();
    std::thread::sleep(window);
    let used = cpu_time() - before;
    drop(conns);
    server.shutdown(Duration::from_secs(5)).expect("shutdown");
    used
}

#[test]
fn demo_with_1000_idle_connections_and_idle_pools_stays_under_1_percent_cpu() {
    if std::env::var("WEFT_PG_HOST").map_or(true, |v| v.is_empty()) {
        assert!(
            std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "WEFT_REQUIRE_SERVICES=1 but WEFT_PG_HOST is unset"
        );
        println!("skipped: no services (run `cargo xtask services up` and export its env)");
        return;
    }
    raise_fd_limit();
    let services = Services::from_env();
    let mut report = Vec::new();
    for kind in BackendKind::enabled() {
        // The demo's own backend gets the full 10 s; the others 3 s each.
        let window = if kind == BackendKind::Epoll {
            Duration::from_secs(10)
        } else {
            Duration::from_secs(3)
        };
        let used = idle_cpu(kind, &services, window);
        println!("idle: {kind}: 1000 idle connections, warm pools: {used:?} CPU over {window:?}");
        report.push((kind, used, window));
    }
    for (kind, used, window) in report {
        assert!(
            used < window / 100,
            "{kind}: {used:?} CPU over {window:?} idle (limit 1%)"
        );
    }
}
