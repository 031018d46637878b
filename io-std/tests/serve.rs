//! `Std::serve`: a thread per connection, connection limits, graceful and
//! forced shutdown.

use io_core::runtime::{ServeConfig, shutdown_signal, worker_index};
use io_core::{AsyncStream, Backend};
use io_std::{Std, TcpStream};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn config() -> ServeConfig {
    ServeConfig::new("127.0.0.1:0".parse().unwrap()).workers(2)
}

async fn echo(stream: TcpStream, _peer: SocketAddr) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let (res, b) = stream.read(buf).await;
        buf = b;
        match res {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let (res, b) = stream.write_all(buf).await;
        buf = b;
        if res.is_err() {
            return;
        }
    }
}

fn round_trip(s: &mut std::net::TcpStream, msg: &[u8]) {
    s.write_all(msg).unwrap();
    let mut got = vec![0u8; msg.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, msg);
}

#[test]
fn serves_echo_on_every_worker() {
    let server = Std::serve(config(), |s, peer| async move {
        assert!(worker_index().is_some_and(|i| i < 2));
        assert!(shutdown_signal().is_some());
        echo(s, peer).await
    })
    .unwrap();
    let addr = server.local_addr();
    for i in 0..20 {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        for j in 0..10 {
            round_trip(&mut c, format!("conn {i} msg {j}").as_bytes());
        }
    }
    server.shutdown(Duration::from_secs(1)).unwrap();
}

#[test]
fn serves_200_concurrent_connections() {
    const N: usize = 200;
    let live = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (l, p) = (live.clone(), peak.clone());
    let server = Std::serve(config(), move |s, peer| {
        let (live, peak) = (l.clone(), p.clone());
        async move {
            let now = live.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            echo(s, peer).await;
            live.fetch_sub(1, Ordering::SeqCst);
        }
    })
    .unwrap();
    let addr = server.local_addr();
    // One client thread drives all 200 connections at once, which also
    // exercises many sockets waiting in one poll(2).
    Std::block_on(async move {
        let mut conns = Vec::with_capacity(N);
        for _ in 0..N {
            conns.push(Std::connect(addr).await.unwrap());
        }
        let tasks: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                io_core::spawn(async move {
                    let msg = format!("connection {i} says hello").repeat(40);
                    let (res, _) = c.write_all(msg.clone()).await;
                    res.unwrap();
                    let mut got = Vec::new();
                    while got.len() < msg.len() {
                        let (res, b) = c.read(Vec::with_capacity(4096)).await;
                        assert!(res.unwrap() > 0, "early end of stream");
                        got.extend_from_slice(&b);
                    }
                    assert_eq!(got, msg.as_bytes());
                    c
                })
            })
            .collect();
        let mut open = Vec::with_capacity(N);
        for t in tasks {
            open.push(t.await.unwrap());
        }
        // Every connection was answered while all were open.
        assert_eq!(peak.load(Ordering::SeqCst), N);
        drop(open);
    });
    server.shutdown(Duration::from_secs(2)).unwrap();
    assert_eq!(live.load(Ordering::SeqCst), 0);
}

#[test]
fn sixteen_mib_through_a_served_connection() {
    const LEN: usize = 16 << 20;
    let server = Std::serve(config(), echo).unwrap();
    let addr = server.local_addr();
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let mut reader = c.try_clone().unwrap();
    let data: Vec<u8> = (0..LEN).map(|i| (i * 7 % 253) as u8).collect();
    let expect = data.clone();
    let writer = std::thread::spawn(move || {
        c.write_all(&data).unwrap();
        c.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::with_capacity(LEN);
    reader.read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    assert_eq!(got.len(), LEN);
    assert!(got == expect, "16 MiB came back altered");
    server.shutdown(Duration::from_secs(1)).unwrap();
}

#[test]
fn connections_over_the_limit_are_closed() {
    let server = Std::serve(config().workers(1).max_connections_per_worker(1), echo).unwrap();
    let addr = server.local_addr();
    let mut first = std::net::TcpStream::connect(addr).unwrap();
    round_trip(&mut first, b"in");
    let mut second = std::net::TcpStream::connect(addr).unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut b = [0u8; 1];
    // Closed by the server: end of stream (or a reset), not a timeout.
    match second.read(&mut b) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("expected the second connection closed, got {other:?}"),
    }
    round_trip(&mut first, b"still served");
    drop(first);
    server.shutdown(Duration::from_secs(1)).unwrap();
}

#[test]
fn shutdown_waits_for_handlers_that_finish_in_time() {
    let finished = Arc::new(AtomicUsize::new(0));
    let in_hand = Arc::new(AtomicUsize::new(0));
    let (f, h) = (finished.clone(), in_hand.clone());
    let server = Std::serve(config(), move |s: TcpStream, _| {
        let (finished, in_hand) = (f.clone(), h.clone());
        async move {
            let (res, _) = s.read(Vec::with_capacity(16)).await;
            assert!(res.unwrap() > 0);
            in_hand.fetch_add(1, Ordering::SeqCst);
            // Told to stop: finish the "request in hand", then close.
            shutdown_signal().unwrap().wait().await;
            io_core::time::sleep(Duration::from_millis(50)).await;
            let (res, _) = s.write_all(&b"bye"[..]).await;
            res.unwrap();
            finished.fetch_add(1, Ordering::SeqCst);
        }
    })
    .unwrap();
    let addr = server.local_addr();
    let mut clients: Vec<_> = (0..5)
        .map(|_| {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.write_all(b"hi").unwrap();
            c
        })
        .collect();
    // Let the handlers read their request.
    while in_hand.load(Ordering::SeqCst) < 5 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    server.shutdown(Duration::from_secs(10)).unwrap();
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "graceful shutdown took {took:?}"
    );
    assert_eq!(finished.load(Ordering::SeqCst), 5);
    for c in &mut clients {
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"bye");
    }
    // The port is closed.
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn shutdown_while_busy_closes_stragglers_at_the_grace_deadline() {
    let received = Arc::new(AtomicUsize::new(0));
    let r = received.clone();
    let server = Std::serve(config(), move |s: TcpStream, _| {
        let received = r.clone();
        async move {
            // Ignores the shutdown signal: drains its peer forever.
            let mut buf = Vec::with_capacity(64 * 1024);
            loop {
                buf.clear();
                let (res, b) = s.read(buf).await;
                buf = b;
                match res {
                    Ok(n) if n > 0 => received.fetch_add(n, Ordering::SeqCst),
                    _ => return,
                };
            }
        }
    })
    .unwrap();
    let sleeping = Arc::new(AtomicUsize::new(0));
    let z = sleeping.clone();
    let sleeper = Std::serve(config(), move |_s: TcpStream, _| {
        let sleeping = z.clone();
        async move {
            sleeping.fetch_add(1, Ordering::SeqCst);
            // Waits on a timer, not on I/O.
            io_core::time::sleep(Duration::from_secs(3600)).await;
        }
    })
    .unwrap();
    let addr = server.local_addr();
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let _idle = std::net::TcpStream::connect(sleeper.local_addr()).unwrap();
    let client = std::thread::spawn(move || {
        let chunk = vec![7u8; 64 * 1024];
        loop {
            if let Err(e) = c.write(&chunk) {
                return e;
            }
        }
    });
    // Mid-transfer: the handler is reading what the client keeps sending.
    while received.load(Ordering::SeqCst) < 1 << 20 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let grace = Duration::from_millis(300);
    let start = Instant::now();
    server.shutdown(grace).unwrap();
    let took = start.elapsed();
    assert!(
        took >= grace - Duration::from_millis(20) && took < Duration::from_secs(3),
        "shutdown took {took:?} for a {grace:?} grace"
    );
    // The server closed the connection under the writer's feet.
    let err = client.join().unwrap();
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
        "{err}"
    );
    while sleeping.load(Ordering::SeqCst) < 1 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let start = Instant::now();
    sleeper.shutdown(Duration::from_millis(100)).unwrap();
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(80) && took < Duration::from_secs(2),
        "a handler asleep on a timer was cut off after {took:?}"
    );
}

#[test]
fn a_panicking_handler_takes_down_only_its_connection() {
    let server = Std::serve(config(), |s: TcpStream, peer| async move {
        let (res, buf) = s.read(Vec::with_capacity(16)).await;
        if buf[..res.unwrap_or(0)].starts_with(b"boom") {
            panic!("handler asked to panic");
        }
        let (res, _) = s.write_all(buf).await;
        res.unwrap();
        echo(s, peer).await;
    })
    .unwrap();
    let addr = server.local_addr();
    let mut bad = std::net::TcpStream::connect(addr).unwrap();
    bad.write_all(b"boom").unwrap();
    let mut b = Vec::new();
    let _ = bad.read_to_end(&mut b);
    let mut good = std::net::TcpStream::connect(addr).unwrap();
    round_trip(&mut good, b"fine");
    drop(good);
    server.shutdown(Duration::from_secs(1)).unwrap();
}
