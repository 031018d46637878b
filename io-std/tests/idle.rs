//! 1,000 idle served connections cost no CPU. Alone in its own test binary
//! so the process CPU time measured is this test's only.

use io_core::runtime::ServeConfig;
use io_core::{AsyncStream, Backend};
use io_std::{Std, TcpStream};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    // SAFETY: rusage is plain data; getrusage fills it for RUSAGE_SELF.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Descriptors this process holds.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

#[test]
fn a_thousand_idle_connections_cost_no_cpu() {
    const N: usize = 1000;
    let fds_before = open_fds();
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    let config = ServeConfig::new("127.0.0.1:0".parse().unwrap()).workers(2);
    let server = Std::serve(config, move |stream: TcpStream, _| {
        let started = s.clone();
        async move {
            started.fetch_add(1, Ordering::SeqCst);
            // Wait for a request that never comes (until shutdown).
            let _ = stream.read(Vec::with_capacity(64)).await;
        }
    })
    .unwrap();
    let addr = server.local_addr();
    let clients: Vec<std::net::TcpStream> = (0..N)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while started.load(Ordering::SeqCst) < N {
        assert!(
            Instant::now() < deadline,
            "not every connection got a thread"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Let the threads settle into poll(2).
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu_time();
    std::thread::sleep(Duration::from_secs(2));
    let spent = cpu_time() - before;
    eprintln!("{N} idle connections: {spent:?} of CPU in 2 s");
    assert!(
        spent < Duration::from_millis(20),
        "{N} idle connections used {spent:?} of CPU in 2 s"
    );
    // Still alive: one of them answers to EOF by closing.
    let mut last = clients.into_iter().next_back().unwrap();
    last.write_all(b"x").unwrap();
    let mut rest = Vec::new();
    last.read_to_end(&mut rest).unwrap();
    let start = Instant::now();
    server.shutdown(Duration::from_millis(100)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    // Every socket, listener and wake descriptor of the server is closed.
    drop(last);
    assert_eq!(open_fds(), fds_before, "descriptors leaked");
}
