//! Placeholder: the pg driver benchmark against its peer crate is not
//! written yet (see BENCHMARKS.md). Exits with status 2.

fn main() {
    eprintln!("pg_peers: not written yet");
    std::process::exit(2);
}
