//! `proto_http::gzip` against the real `gzip` tool: every output must
//! decompress (`gzip -dc`, which checks the CRC-32 and the length) to the
//! input, for text, random bytes, long runs, matches at the far end of
//! the window and the empty body.

use std::io::Write;
use std::process::{Command, Stdio};

/// `gzip -dc` of `data`; `None` when gzip is not installed (the test is
/// then skipped unless WEFT_REQUIRE_SERVICES=1).
fn gunzip(data: &[u8]) -> Option<Vec<u8>> {
    let child = Command::new("gzip")
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var("WEFT_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "gzip is required (WEFT_REQUIRE_SERVICES=1)"
        );
        return None;
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "gzip -dc refused it: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out.stdout)
}

/// A reproducible byte stream (xorshift).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

#[test]
fn real_gzip_decodes_every_output() {
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one byte", b"x".to_vec()),
        ("two bytes", b"xy".to_vec()),
        ("a run", vec![b'a'; 100_000]),
        ("random", noise(200_000, 7)),
        (
            "json",
            br#"[{"id":4174,"randomNumber":331},{"id":51,"randomNumber":6913}]"#.repeat(3000),
        ),
        (
            "every byte value",
            (0..=255u8).cycle().take(70_000).collect(),
        ),
    ];
    // A random block repeated 32,768 bytes later: matches at the
    // longest distance, and one byte further (out of reach).
    let block = noise(300, 11);
    for gap in [32_768usize - 300, 32_768 - 299] {
        let mut v = block.clone();
        v.extend(noise(gap, 12));
        v.extend_from_slice(&block);
        cases.push(("far match", v));
    }
    // Text with every length from 3 to 258 repeated.
    let mut lens = Vec::new();
    for l in 3..=260usize {
        let piece = noise(l, l as u64);
        lens.extend_from_slice(&piece);
        lens.extend_from_slice(b"--");
        lens.extend_from_slice(&piece);
    }
    cases.push(("every match length", lens));
    for (what, input) in cases {
        let gz = proto_http::gzip::encode(&input);
        let Some(back) = gunzip(&gz) else { return };
        assert!(
            back == input,
            "{what}: {} bytes back of {}",
            back.len(),
            input.len()
        );
    }
}
