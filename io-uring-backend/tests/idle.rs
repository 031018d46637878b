//! 1,000 idle connections on a served io_uring worker cost (almost) no CPU:
//! the worker sleeps in one `io_uring_enter`. Its own test binary, so no
//! other test's CPU time is counted.

use io_core::{AsyncStream, Backend, ServeConfig};
use io_uring_backend::{Uring, active_driver, is_supported};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CONNS: usize = 1000;

/// User + system CPU time of the whole process.
fn cpu_time() -> Duration {
    // SAFETY: rusage is plain data; all-zero is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage into the live local.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(rc, 0);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Raises the soft descriptor limit to what 2,000 sockets need.
fn raise_nofile(want: u64) {
    // SAFETY: rlimit is plain data; getrlimit/setrlimit read and write one.
    unsafe {
        let mut rl: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) == 0 && rl.rlim_cur < want {
            rl.rlim_cur = want.min(rl.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        }
    }
}

#[test]
fn thousand_idle_connections_use_no_cpu() {
    raise_nofile(3 * CONNS as u64 + 100);
    let accepted = Arc::new(AtomicUsize::new(0));
    let on_uring = Arc::new(AtomicBool::new(true));
    let (acc, uring) = (accepted.clone(), on_uring.clone());
    let config = ServeConfig::new("127.0.0.1:0".parse().unwrap()).workers(1);
    let server = Uring::serve(config, move |stream, _| {
        let (acc, uring) = (acc.clone(), uring.clone());
        async move {
            if stream.driver() != "io_uring" || active_driver() != "io_uring" {
                uring.store(false, Ordering::SeqCst);
            }
            acc.fetch_add(1, Ordering::SeqCst);
            loop {
                let (res, _) = stream.read(Vec::with_capacity(64)).await;
                if !matches!(res, Ok(n) if n > 0) {
                    break;
                }
            }
        }
    })
    .unwrap();
    let addr = server.local_addr();
    let clients: Vec<_> = (0..CONNS)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    while accepted.load(Ordering::SeqCst) < CONNS {
        assert!(
            Instant::now() < deadline,
            "only {} accepted",
            accepted.load(Ordering::SeqCst)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    if is_supported() {
        assert!(
            on_uring.load(Ordering::SeqCst),
            "connections ran on the fallback"
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu_time();
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time() - before;
    eprintln!("CPU time over 2 s with {CONNS} idle connections: {used:?}");
    assert!(
        used < Duration::from_millis(20),
        "idle worker used {used:?} of CPU in 2 s"
    );
    drop(clients);
    server.shutdown(Duration::from_secs(1)).unwrap();
}
