//! Placeholder: the memcache driver benchmark against its peer crate is not
//! written yet (see BENCHMARKS.md). Exits with status 2.

fn main() {
    eprintln!("memcache_peers: not written yet");
    std::process::exit(2);
}
