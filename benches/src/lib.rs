//! Benchmarks against peer crates. The peers (tokio, hyper, redis-rs, ...)
//! are kept out of the default build behind the `peers` feature; see
//! `BENCHMARKS.md` for the commands and the figures.
//!
//! Method: every comparison runs A and B in the same process run, the cells
//! interleaved over several rounds, and reports medians and their ratio.

use std::process::Command;
use std::time::Duration;

pub mod wrk;

/// Split-core mode, `WEFT_BENCH_SPLIT=1`: the servers under test run on
/// CPU 0 with one worker each and the load generator (wrk, h2load) on
/// CPU 1, so that on a 2-core machine a server-bound cell measures the
/// server's capacity instead of how the scheduler shared two cores
/// between the server and its client. Off by default.
pub fn split_cores() -> bool {
    std::env::var_os("WEFT_BENCH_SPLIT").is_some_and(|v| v == "1")
}

/// Workers per server: 1 in split-core or same-core mode, else `default`.
pub fn server_workers(default: usize) -> usize {
    if split_cores() || same_core() {
        1
    } else {
        default
    }
}

/// In split-core or same-core mode, binds the calling thread (call it
/// first thing in `main`: threads started later inherit it) to CPU 0. A
/// no-op otherwise.
pub fn pin_servers() {
    if !split_cores() && !same_core() {
        return;
    }
    if let Err(e) = pin_thread(0, 0) {
        panic!("cannot pin to CPU 0: {e}");
    }
}

/// Same-core mode, `WEFT_BENCH_SAME_CORE=1`: a driver benchmark and the
/// database server it talks to both run on CPU 0. On a virtual machine
/// whose cross-CPU wake-ups are expensive (this project's 2-core VM: a C
/// loopback ping-pong costs 15.8 us of CPU per round trip across two CPUs
/// and 2.4 us on one), a round trip's cost is then the two sides' CPU
/// time plus a fixed kernel floor, the same for every client, instead of
/// the hypervisor's inter-processor interrupts. Off by default.
pub fn same_core() -> bool {
    std::env::var_os("WEFT_BENCH_SAME_CORE").is_some_and(|v| v == "1")
}

/// In same-core mode, pins every thread of this process and of each
/// process in `pids` (a server's, which must be on this machine) to CPU 0,
/// and says so on stderr. Processes forked later by a pinned one (a
/// PostgreSQL postmaster's backends) inherit the pinning. A no-op
/// otherwise.
pub fn pin_same_core(pids: &[u32]) {
    if !same_core() {
        return;
    }
    for pid in std::iter::once(std::process::id()).chain(pids.iter().copied()) {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap_or_else(|e| panic!("WEFT_BENCH_SAME_CORE: process {pid}: {e}"));
        for task in tasks.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) else {
                continue;
            };
            pin_thread(tid, 0).unwrap_or_else(|e| {
                panic!("WEFT_BENCH_SAME_CORE: cannot pin thread {tid} of {pid}: {e}")
            });
        }
    }
    eprintln!("same-core mode: this process and {pids:?} pinned to CPU 0");
}

/// Binds thread `tid` (0: the calling thread) to CPU `cpu`.
pub fn pin_thread(tid: libc::pid_t, cpu: usize) -> std::io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is the empty set; CPU_SET writes
    // inside it; sched_setaffinity reads `size_of` bytes of it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A command for the load generator `program`: run through `taskset -c 1`
/// in split-core mode, `taskset -c 0` in same-core mode.
pub fn load_command(program: &str) -> Command {
    let cpu = if split_cores() {
        "1"
    } else if same_core() {
        "0"
    } else {
        return Command::new(program);
    };
    let mut c = Command::new("taskset");
    c.args(["-c", cpu, program]);
    c
}

/// The median of `samples` (sorted in place).
pub fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2.0
    }
}

/// The smallest and largest of `samples` (NaN for none).
pub fn min_max(samples: &[f64]) -> (f64, f64) {
    samples
        .iter()
        .fold((f64::NAN, f64::NAN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
}

/// Operations per second of `ops` done in `elapsed`.
pub fn rate(ops: u64, elapsed: Duration) -> f64 {
    ops as f64 / elapsed.as_secs_f64()
}

/// CPU time (user + system) used so far by this process, every thread
/// (`libc::RUSAGE_SELF`), or by its finished children such as wrk or h2load
/// (`libc::RUSAGE_CHILDREN`). Idle servers in the process use none, so the
/// difference around one cell is the serving server's CPU.
pub fn cpu_time(who: libc::c_int) -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value, and getrusage only
    // writes into the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `rusage`.
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[cfg(test)]
mod tests {
    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(super::median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn min_max_of_samples() {
        assert_eq!(super::min_max(&[3.0, 1.0, 2.0]), (1.0, 3.0));
        assert!(super::min_max(&[]).0.is_nan());
    }
}
