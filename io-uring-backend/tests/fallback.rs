//! The epoll fallback, forced with `WEFT_URING_FORCE_FALLBACK=1`. The test
//! re-runs itself in a child process with the variable set, so the rest of
//! the suite keeps exercising io_uring.

use io_core::{AsyncListener, AsyncStream, Backend};
use io_uring_backend::{FORCE_FALLBACK_ENV, Uring, active_driver};
use std::net::Shutdown;
use std::process::Command;
use std::time::{Duration, Instant};

const TEST: &str = "forced_fallback_runs_on_epoll";

#[test]
fn forced_fallback_runs_on_epoll() {
    if std::env::var_os(FORCE_FALLBACK_ENV).is_none() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(FORCE_FALLBACK_ENV, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "child ran no test:\n{stdout}");
        // Two runtimes were started; the fallback is announced once.
        assert_eq!(
            stderr.matches("falling back to epoll").count(),
            1,
            "stderr:\n{stderr}"
        );
        return;
    }
    assert_eq!(active_driver(), "epoll");
    for _ in 0..2 {
        Uring::block_on(async {
            assert_eq!(active_driver(), "epoll");
            let listener = Uring::bind("127.0.0.1:0".parse().unwrap()).unwrap();
            assert_eq!(listener.driver(), "epoll");
            let addr = listener.local_addr().unwrap();
            let server = io_core::spawn(async move {
                let (conn, _) = listener.accept().await.unwrap();
                assert_eq!(conn.driver(), "epoll");
                let (res, buf) = conn.read(Vec::with_capacity(16)).await;
                let n = res.unwrap();
                let (res, _) = conn.write_all(buf[..n].to_vec()).await;
                res.unwrap();
            });
            let client = Uring::connect(addr).await.unwrap();
            let (res, _) = client.write_all(b"fallback".to_vec()).await;
            res.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let (res, buf) = client.read(Vec::with_capacity(16)).await;
            assert_eq!(&buf[..res.unwrap()], b"fallback");
            server.await.unwrap();

            // Cross-thread wake on the epoll park.
            let notify = io_core::sync::Notify::new();
            let remote = notify.clone();
            let start = Instant::now();
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                remote.notify();
            });
            notify.notified().await;
            assert!(start.elapsed() < Duration::from_secs(2));
            t.join().unwrap();
        });
    }
}
