//! Ping-pong and bulk transfer over loopback on io_uring and on epoll, side
//! by side: `cargo run --release -p io-uring-backend --example pingpong`.

use io_core::{AsyncListener, AsyncStream, Backend, spawn};
use std::net::Shutdown;
use std::time::Instant;

const ROUND_TRIPS: usize = 50_000;
const BULK: usize = 256 * 1024 * 1024;

fn run<B: Backend>() {
    B::block_on(async {
        let listener = B::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let mut buf = Vec::with_capacity(64 * 1024);
            loop {
                buf.clear();
                let (res, b) = conn.read(buf).await;
                buf = b;
                if res.unwrap() == 0 {
                    break;
                }
                if buf.len() <= 64 {
                    let (res, b) = conn.write_all(buf).await;
                    res.unwrap();
                    buf = b;
                }
            }
        });
        let client = B::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        let start = Instant::now();
        let mut buf = Vec::with_capacity(64);
        for _ in 0..ROUND_TRIPS {
            let (res, _) = client.write_all(&b"ping"[..]).await;
            res.unwrap();
            buf.clear();
            let (res, b) = client.read(buf).await;
            buf = b;
            assert_eq!(res.unwrap(), 4);
        }
        let rtt = start.elapsed() / ROUND_TRIPS as u32;
        let chunk = vec![7u8; 1024 * 1024];
        let start = Instant::now();
        let mut chunk = chunk;
        for _ in 0..BULK / chunk.len() {
            let (res, c) = client.write_all(chunk).await;
            res.unwrap();
            chunk = c;
        }
        client.shutdown(Shutdown::Write).unwrap();
        server.await.unwrap();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:>6}: round trip {:>6.1?}, bulk {:>6.0} MiB/s",
            B::NAME,
            rtt,
            BULK as f64 / secs / 1048576.0
        );
    });
}

fn main() {
    println!("driver: {}", io_uring_backend::active_driver());
    run::<io_uring_backend::Uring>();
    run::<io_epoll::Epoll>();
}
