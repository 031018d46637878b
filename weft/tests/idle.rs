//! Idle costs nothing: 1,000 idle connections on a server, on each backend,
//! and the whole process's CPU time over 2 s of idleness stays under 20 ms.
//! This checks that nothing busy-spins (a spinning loop burns ~2,000 ms).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use weft::rt::{AsyncStream, Backend, BackendFn, BackendKind, ServeConfig};

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

struct IdleCheck;

impl BackendFn for IdleCheck {
    type Output = Duration;

    fn call<B: Backend>(self) -> Duration {
        let server = B::serve(
            ServeConfig::new("127.0.0.1:0".parse().unwrap()).workers(2),
            |s, _| async move {
                let mut buf = Vec::with_capacity(256);
                loop {
                    buf.clear();
                    let (res, b) = s.read(buf).await;
                    buf = b;
                    match res {
                        Ok(n) if n > 0 => {
                            let (res, b) = s.write_all(buf).await;
                            buf = b;
                            if res.is_err() {
                                return;
                            }
                        }
                        _ => return,
                    }
                }
            },
        )
        .unwrap();
        let mut conns = Vec::with_capacity(1000);
        for _ in 0..1000 {
            let mut c = TcpStream::connect(server.local_addr()).unwrap();
            c.write_all(b"x").unwrap();
            let mut one = [0u8; 1];
            c.read_exact(&mut one).unwrap();
            conns.push(c);
        }
        std::thread::sleep(Duration::from_millis(200));
        let before = cpu_time();
        std::thread::sleep(Duration::from_secs(2));
        let used = cpu_time() - before;
        drop(conns);
        server.shutdown(Duration::from_secs(1)).unwrap();
        used
    }
}

#[test]
fn thousand_idle_connections_cost_no_cpu() {
    let mut report = Vec::new();
    for kind in BackendKind::enabled() {
        let used = kind.dispatch(IdleCheck);
        eprintln!("idle: backend {kind}: 1000 idle connections, {used:?} CPU over 2 s");
        report.push((kind, used));
    }
    for (kind, used) in report {
        assert!(
            used < Duration::from_millis(20),
            "backend {kind} used {used:?} CPU while idle"
        );
    }
}
