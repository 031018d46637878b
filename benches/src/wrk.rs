//! Running [wrk](https://github.com/wg/wrk) (an external binary) and
//! reading its report.

use std::io;
use std::path::Path;
use std::time::Duration;

/// What one wrk run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The `Requests/sec:` line.
    pub requests_per_sec: f64,
    /// The 99th percentile latency (`--latency`), in microseconds. With a
    /// pipelining script this is the latency of a whole batch.
    pub p99_us: f64,
    /// Socket errors (connect + read + write + timeout) and non-2xx/3xx
    /// responses; a clean run has 0.
    pub errors: u64,
}

/// Parses a wrk duration as printed in its report (`812.00us`, `1.23ms`,
/// `2.01s`, `1.50m`, `1.00h`) into microseconds.
pub fn parse_duration_us(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = s.split_at(split);
    let v: f64 = num.parse().ok()?;
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return None,
    };
    Some(v * scale)
}

/// Reads wrk's text report (run with `--latency`). `None` when a line it
/// needs is missing.
pub fn parse_report(out: &str) -> Option<Report> {
    let mut rps = None;
    let mut p99 = None;
    let mut errors = 0u64;
    for line in out.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("99%") {
            p99 = parse_duration_us(v);
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            errors += v
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += v.trim().parse::<u64>().unwrap_or(0);
        }
    }
    Some(Report {
        requests_per_sec: rps?,
        p99_us: p99?,
        errors,
    })
}

/// A wrk Lua script that sends `depth` GETs of `path` in one write per call
/// (HTTP/1.1 pipelining).
pub fn pipeline_script(depth: usize, path: &str) -> String {
    let mut s = String::from("init = function(args)\n  local r = {}\n");
    s.push_str(&format!(
        "  for i = 1, {depth} do\n    r[i] = wrk.format(nil, \"{path}\")\n  end\n"
    ));
    s.push_str("  req = table.concat(r)\nend\n\nrequest = function()\n  return req\nend\n");
    s
}

/// Runs `wrk --latency -t<threads> -c<connections> -d<secs>s [-s script] url`
/// and parses its report. wrk takes whole seconds: `duration` is rounded
/// up, and at least 1 s.
pub fn run(
    url: &str,
    threads: usize,
    connections: usize,
    duration: Duration,
    script: Option<&Path>,
) -> io::Result<Report> {
    let mut cmd = crate::load_command("wrk");
    cmd.arg("--latency")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs_f64().ceil().max(1.0)));
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    cmd.arg(url);
    let out = cmd.output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "wrk exited with {}: {}{}",
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    parse_report(&text)
        .ok_or_else(|| io::Error::other(format!("cannot read wrk's report:\n{text}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Running 3s test @ http://127.0.0.1:8080/plaintext
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   500.12us  200.00us   5.00ms   90.00%
    Req/Sec    60.00k     2.00k   65.00k    70.00%
  Latency Distribution
     50%  450.00us
     75%  550.00us
     90%  700.00us
     99%    1.25ms
  360000 requests in 3.00s, 45.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec: 119999.50
Transfer/sec:     15.00MB
";

    #[test]
    fn reads_rate_p99_and_errors() {
        let r = parse_report(SAMPLE).unwrap();
        assert_eq!(r.requests_per_sec, 119999.5);
        assert_eq!(r.p99_us, 1250.0);
        assert_eq!(r.errors, 7);
    }

    #[test]
    fn a_report_without_latency_is_rejected() {
        assert!(parse_report("Requests/sec: 10.0\n").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_us("812.00us"), Some(812.0));
        assert_eq!(parse_duration_us(" 2.50s"), Some(2.5e6));
        assert_eq!(parse_duration_us("1.00m"), Some(60e6));
        assert_eq!(parse_duration_us("3.00x"), None);
        assert_eq!(parse_duration_us("ms"), None);
    }

    #[test]
    fn pipeline_script_repeats_the_request() {
        let s = pipeline_script(16, "/plaintext");
        assert!(s.contains("for i = 1, 16 do"));
        assert!(s.contains("wrk.format(nil, \"/plaintext\")"));
        assert!(s.contains("request = function()"));
    }
}
