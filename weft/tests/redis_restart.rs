//! A redis-server restarted under load: callers in flight and during the
//! outage get typed errors, calls after the restart succeed, and no reply
//! ever reaches the wrong request (every `ECHO` carries a payload unique to
//! its caller and call).
//!
//! The test starts (and kills) its own redis-server on a free port; the
//! shared instances of `cargo xtask services up` are never touched. It is
//! skipped when redis-server is not installed, unless
//! `WEFT_REQUIRE_SERVICES=1`.
#![cfg(all(feature = "epoll", feature = "std"))]

mod redis_support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use redis_support::server::{Server, free_port, installed};
use weft::redis::{Client, Commands, Config, Error, Protocol};
use weft::rt::{Backend, Epoll, spawn, time};

/// Phases of the run, as the load tasks see them.
const UP: u8 = 0;
const DOWN: u8 = 1;
const RESTARTED: u8 = 2;
const STOP: u8 = 3;

#[derive(Default, Clone, Copy, Debug)]
struct Tally {
    ok: [u64; 3],
    failed: [u64; 3],
}

async fn wait_answering(client: &Client<Epoll>) {
    for _ in 0..200 {
        if client.ping().await.is_ok() {
            return;
        }
        time::sleep(Duration::from_millis(25)).await;
    }
    panic!("redis-server did not come up");
}

fn restart_under_load(protocol: Protocol) {
    if !installed() {
        return;
    }
    let port = free_port();
    let mut server = Server::spawn(port, &[]).unwrap();
    let mut config: Config = format!("redis://127.0.0.1:{port}").parse().unwrap();
    config = config.protocol(protocol);
    config.response_timeout = Some(Duration::from_secs(2));
    config.pool = config
        .pool
        .clone()
        .backoff(Duration::from_millis(10), Duration::from_millis(100));
    let client = Client::<Epoll>::with_backend(config);
    Epoll::block_on(async {
        wait_answering(&client).await;
        let phase = Rc::new(Cell::new(UP));
        let mut tasks = Vec::new();
        for t in 0..20u64 {
            let client = client.clone();
            let phase = phase.clone();
            tasks.push(spawn(async move {
                let mut tally = Tally::default();
                let mut i = 0u64;
                loop {
                    let now = phase.get();
                    if now == STOP {
                        return tally;
                    }
                    i += 1;
                    let payload = format!("task {t} call {i}");
                    match client.echo::<String>(&payload).await {
                        Ok(v) => {
                            assert_eq!(v, payload, "a reply reached the wrong request");
                            tally.ok[usize::from(now)] += 1;
                        }
                        Err(e) => {
                            assert!(
                                matches!(
                                    e,
                                    Error::Io(_)
                                        | Error::Closed
                                        | Error::Timeout
                                        | Error::PoolTimeout
                                ),
                                "unexpected error kind: {e:?}"
                            );
                            tally.failed[usize::from(now)] += 1;
                            // Do not spin on a refused connection.
                            time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
            }));
        }
        time::sleep(Duration::from_millis(300)).await;
        server.kill();
        phase.set(DOWN);
        time::sleep(Duration::from_millis(500)).await;
        server.respawn().unwrap();
        phase.set(RESTARTED);
        // Run until the load has succeeded again for a while.
        time::sleep(Duration::from_millis(1500)).await;
        phase.set(STOP);
        let mut total = Tally::default();
        for task in tasks {
            let t = task.await.unwrap();
            for p in 0..3 {
                total.ok[p] += t.ok[p];
                total.failed[p] += t.failed[p];
            }
        }
        eprintln!("{protocol:?}: {total:?}");
        assert!(total.ok[usize::from(UP)] > 0, "load ran before the kill");
        assert!(
            total.failed[usize::from(DOWN)] > 0,
            "calls failed while the server was down"
        );
        assert!(
            total.ok[usize::from(RESTARTED)] > 0,
            "calls succeeded after the restart"
        );
        // Every caller recovers: after the restart each task's next call
        // works.
        assert_eq!(client.echo::<String>("after").await.unwrap(), "after");
    });
    server.kill();
}

#[test]
fn restart_under_load_resp3() {
    restart_under_load(Protocol::Resp3);
}

#[test]
fn restart_under_load_resp2() {
    restart_under_load(Protocol::Resp2);
}
