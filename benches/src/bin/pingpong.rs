//! The machine's floor under every round-trip benchmark: a loopback TCP
//! ping-pong (64 bytes each way, `TCP_NODELAY`, blocking reads) between
//! two threads, first on two different CPUs, then both on CPU 0; wall
//! time and the CPU time of each side per round trip.
//!
//! ```text
//! cargo run --release -p weft-benches --bin pingpong -- [ROUND_TRIPS]
//! ```
//!
//! On a machine where waking a thread on another CPU is cheap the two
//! rows are close. On a virtual machine whose cross-CPU wake-ups trap to
//! the hypervisor, the first row's CPU per round trip is several times
//! the second's: that is what `WEFT_BENCH_SAME_CORE=1` takes out of the
//! driver benchmarks (see `BENCHMARKS.md`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for clock_gettime to write.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Binds the calling thread to `cpu`.
fn pin(cpu: usize) {
    weft_benches::pin_thread(0, cpu).unwrap_or_else(|e| panic!("cannot pin to CPU {cpu}: {e}"));
}

/// `n` round trips with the echoing side on `echo_cpu` and the pinging
/// side on CPU 0: (wall, ping side's CPU, echo side's CPU), per round trip.
fn run(n: u32, echo_cpu: usize) -> (Duration, Duration, Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = thread::spawn(move || {
        pin(echo_cpu);
        let (mut s, _) = listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut buf = [0u8; 64];
        let start = thread_cpu();
        for _ in 0..n {
            s.read_exact(&mut buf).unwrap();
            s.write_all(&buf).unwrap();
        }
        thread_cpu() - start
    });
    pin(0);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = [7u8; 64];
    let (wall, cpu) = (Instant::now(), thread_cpu());
    for _ in 0..n {
        s.write_all(&buf).unwrap();
        s.read_exact(&mut buf).unwrap();
    }
    let (wall, cpu) = (wall.elapsed(), thread_cpu() - cpu);
    let echo_cpu = echo.join().unwrap();
    (wall / n, cpu / n, echo_cpu / n)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .map_or(50_000, |a| a.parse().unwrap());
    let cpus = thread::available_parallelism().map_or(1, |c| c.get());
    println!("| placement | wall us/rt | ping side CPU us/rt | echo side CPU us/rt |");
    println!("| --- | ---: | ---: | ---: |");
    let mut rows = vec![("same CPU (0, 0)", 0)];
    if cpus > 1 {
        rows.insert(0, ("two CPUs (0, 1)", 1));
    }
    for (name, echo_cpu) in rows {
        let (wall, ping, echo) = run(n, echo_cpu);
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            us(wall),
            us(ping),
            us(echo)
        );
    }
}
