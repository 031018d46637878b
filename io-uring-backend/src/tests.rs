//! The backend's own tests, over real sockets on loopback. When the kernel
//! supports io_uring (it must when `WEFT_REQUIRE_URING=1`), each test also
//! asserts that it ran on the ring, and the leak tests check the driver's
//! operation table and buffer ring through `Driver::stats`.

use crate::ring::{BUF_COUNT, Driver};
use crate::{TcpListener, TcpStream, Uring, active_driver, is_supported};
use io_core::time::{sleep, timeout};
use io_core::{AsyncListener, AsyncStream, Backend, spawn};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

/// Asserts the io_uring path runs where the kernel offers it.
fn check_driver() {
    if std::env::var_os("WEFT_REQUIRE_URING").is_some_and(|v| v == "1") {
        assert!(
            is_supported(),
            "WEFT_REQUIRE_URING=1 but io_uring is unavailable"
        );
    }
    if is_supported() {
        assert_eq!(active_driver(), "io_uring");
        assert!(Driver::current().is_some());
    } else {
        eprintln!("note: io_uring unsupported here; the test runs on the epoll fallback");
    }
}

/// `(operations in flight, free provided buffers)`, when on io_uring.
fn stats() -> Option<(usize, usize)> {
    Driver::current().map(|d| d.stats())
}

/// Parks until the driver's table holds at most `ops` operations and every
/// provided buffer is back (cancellations complete asynchronously).
async fn settle(ops: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Some((live, free)) = stats() {
        if live <= ops && free == BUF_COUNT as usize {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "driver did not settle: {live} ops in flight (want <= {ops}), {free} buffers free"
        );
        sleep(Duration::from_millis(5)).await;
    }
}

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn read_exact(s: &TcpStream, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len);
    while buf.len() < len {
        let (res, b) = s.read(buf).await;
        buf = b;
        if res? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(buf)
}

async fn read_to_end(s: &TcpStream) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    loop {
        let (res, b) = s.read(buf).await;
        buf = b;
        if res? == 0 {
            return Ok(buf);
        }
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

#[test]
fn echo_round_trips() {
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        assert_eq!(listener.driver(), active_driver());
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (conn, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, conn.peer_addr().unwrap());
            let mut buf = Vec::with_capacity(64);
            loop {
                let (res, b) = conn.read(buf).await;
                let n = res.unwrap();
                if n == 0 {
                    break;
                }
                let (res, b) = conn.write_all(b).await;
                res.unwrap();
                buf = b;
                buf.clear();
            }
        });
        let client = Uring::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        for i in 0..50u32 {
            let msg = format!("message {i}");
            let (res, _) = client.write_all(msg.clone().into_bytes()).await;
            res.unwrap();
            let back = read_exact(&client, msg.len()).await.unwrap();
            assert_eq!(back, msg.as_bytes());
        }
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_to_end(&client).await.unwrap(), b"");
        server.await.unwrap();
    });
}

#[test]
fn writev_sends_buffers_in_order() {
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            read_to_end(&conn).await.unwrap()
        });
        let client = Uring::connect(addr).await.unwrap();
        let bufs = vec![
            b"alpha ".to_vec(),
            Vec::new(),
            b"beta ".to_vec(),
            b"gamma".to_vec(),
        ];
        let (res, bufs) = client.writev(bufs).await;
        assert_eq!(res.unwrap(), 16);
        assert_eq!(bufs.len(), 4);
        drop(client);
        assert_eq!(server.await.unwrap(), b"alpha beta gamma");
    });
}

#[test]
fn two_hundred_concurrent_connections() {
    const CONNS: usize = 200;
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let mut handlers = Vec::new();
            for _ in 0..CONNS {
                let (conn, _) = listener.accept().await.unwrap();
                handlers.push(spawn(async move {
                    let data = read_to_end(&conn).await.unwrap();
                    let (res, _) = conn.write_all(data).await;
                    res.unwrap();
                }));
            }
            for h in handlers {
                h.await.unwrap();
            }
        });
        let clients: Vec<_> = (0..CONNS)
            .map(|i| {
                spawn(async move {
                    let s = Uring::connect(addr).await.unwrap();
                    let data = pattern(1000 + i * 37, i as u8);
                    let (res, data) = s.write_all(data).await;
                    res.unwrap();
                    s.shutdown(Shutdown::Write).unwrap();
                    assert_eq!(read_to_end(&s).await.unwrap(), data);
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
        settle(0).await;
    });
}

#[test]
fn sixteen_mib_write_reads_back_intact() {
    const LEN: usize = 16 * 1024 * 1024;
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            // Read in small steps so the receive pauses and resumes.
            let mut out = Vec::with_capacity(LEN);
            loop {
                let (res, chunk) = conn.read(Vec::with_capacity(100_000)).await;
                if res.unwrap() == 0 {
                    break;
                }
                out.extend_from_slice(&chunk);
            }
            out
        });
        let client = Uring::connect(addr).await.unwrap();
        let data = pattern(LEN, 7);
        let (res, data) = client.write_all(data).await;
        res.unwrap();
        drop(client);
        let got = server.await.unwrap();
        assert_eq!(got.len(), LEN);
        assert!(got == data, "16 MiB came back corrupted");
        settle(0).await;
    });
}

#[test]
fn half_close_reads_eof_and_can_still_write() {
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let req = read_to_end(&conn).await.unwrap();
            assert_eq!(req, b"request");
            // The peer only closed its sending side: answering still works.
            let (res, _) = conn.write_all(b"response".to_vec()).await;
            res.unwrap();
        });
        let client = Uring::connect(addr).await.unwrap();
        let (res, _) = client.write_all(b"request".to_vec()).await;
        res.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_to_end(&client).await.unwrap(), b"response");
        server.await.unwrap();
    });
}

#[test]
fn peer_reset_gives_errors_not_panics() {
    let std_listener = std::net::TcpListener::bind(local()).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = std_listener.accept().unwrap();
        // Wait for the server's bytes, leave them unread and close: the
        // kernel answers with a RST because unread data was discarded.
        let mut one = [0u8; 1];
        s.read_exact(&mut one).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        drop(s);
    });
    Uring::block_on(async move {
        check_driver();
        let s = Uring::connect(addr).await.unwrap();
        let (res, _) = s.write_all(b"xyz".to_vec()).await;
        res.unwrap();
        let read = read_to_end(&s).await;
        match read {
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            Ok(data) => assert!(data.is_empty()),
        }
        let mut failed = false;
        for _ in 0..100 {
            let (res, _) = s.write(vec![0u8; 4096]).await;
            if res.is_err() {
                failed = true;
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        assert!(failed, "writing to a reset connection kept succeeding");
    });
    peer.join().unwrap();
}

#[test]
fn connect_refused_is_typed() {
    let addr = {
        let l = std::net::TcpListener::bind(local()).unwrap();
        l.local_addr().unwrap()
    };
    Uring::block_on(async move {
        check_driver();
        let err = Uring::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        settle(0).await;
    });
}

#[test]
fn dropped_read_future_loses_nothing() {
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = Uring::connect(addr).await.unwrap();
        let (conn, _) = listener.accept().await.unwrap();
        // A read that times out is dropped while armed.
        let res = timeout(Duration::from_millis(20), conn.read(vec![0xAA; 0])).await;
        assert!(res.is_err(), "read completed without data");
        let (res, _) = client.write_all(b"after the timeout".to_vec()).await;
        res.unwrap();
        let got = read_exact(&conn, 17).await.unwrap();
        assert_eq!(got, b"after the timeout");
    });
}

#[test]
fn dropped_write_future_keeps_its_buffer_until_completion() {
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = Uring::connect(addr).await.unwrap();
        let (conn, _) = listener.accept().await.unwrap();
        let baseline = stats().map_or(0, |s| s.0);
        // Nobody reads `conn`, so a large write cannot finish: drop it while
        // the kernel owns the buffer.
        let big = vec![0x5a; 64 * 1024 * 1024];
        let res = timeout(Duration::from_millis(50), client.write(big)).await;
        match res {
            Err(_) => {
                if let Some((live, _)) = stats() {
                    assert!(live > baseline, "the abandoned send left the table");
                }
            }
            Ok((res, _)) => assert!(res.unwrap() > 0),
        }
        // The stream stays usable for its peer; then both go away.
        let (res, _) = conn.write_all(b"still alive".to_vec()).await;
        res.unwrap();
        assert_eq!(read_exact(&client, 11).await.unwrap(), b"still alive");
        drop(client);
        drop(conn);
        drop(listener);
        settle(0).await;
    });
}

#[test]
fn full_submission_queue_is_submitted_early() {
    // More sends in one executor round than the submission queue holds.
    const WRITES: usize = 3000;
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::rc::Rc::new(Uring::connect(addr).await.unwrap());
        let (conn, _) = listener.accept().await.unwrap();
        let tasks: Vec<_> = (0..WRITES)
            .map(|_| {
                let c = client.clone();
                spawn(async move {
                    let (res, _) = c.write_all(b"z".to_vec()).await;
                    res.unwrap();
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let got = read_exact(&conn, WRITES).await.unwrap();
        assert!(got.iter().all(|&b| b == b'z'));
        drop(client);
        assert_eq!(read_to_end(&conn).await.unwrap(), b"");
    });
}

#[test]
fn dropped_streams_return_their_buffers() {
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut pairs = Vec::new();
        for _ in 0..8 {
            let c = Uring::connect(addr).await.unwrap();
            let (s, _) = listener.accept().await.unwrap();
            let (res, _) = c.write_all(pattern(30_000, 1)).await;
            res.unwrap();
            pairs.push((c, s));
        }
        // Let the data land in provided buffers, unread.
        sleep(Duration::from_millis(50)).await;
        if let Some((_, free)) = stats() {
            assert!(free < BUF_COUNT as usize, "no buffer held by unread data");
        }
        drop(pairs);
        drop(listener);
        settle(0).await;
    });
}

#[test]
fn exhausted_buffer_ring_recovers() {
    // 120 streams x 96 KiB unread = more than the 4 MiB of provided buffers:
    // some receives starve (ENOBUFS) and must be re-armed when buffers return.
    const STREAMS: usize = 120;
    const LEN: usize = 96 * 1024;
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut writers = Vec::new();
        let mut readers = Vec::new();
        for i in 0..STREAMS {
            let c = Uring::connect(addr).await.unwrap();
            let (s, _) = listener.accept().await.unwrap();
            writers.push(spawn(async move {
                let (res, _) = c.write_all(pattern(LEN, i as u8)).await;
                res.unwrap();
                c.shutdown(Shutdown::Write).unwrap();
                c
            }));
            readers.push(s);
        }
        sleep(Duration::from_millis(100)).await;
        for (i, s) in readers.iter().enumerate() {
            let got = read_to_end(s).await.unwrap();
            assert!(got == pattern(LEN, i as u8), "stream {i} corrupted");
        }
        let mut clients = Vec::new();
        for w in writers {
            clients.push(w.await.unwrap());
        }
        drop(clients);
        drop(readers);
        drop(listener);
        settle(0).await;
    });
}

#[test]
fn starved_stream_with_queued_data_reads_on() {
    // Stream X holds one buffer, the others take the rest of the ring, then
    // more data for X finds no buffer: X is starved with data queued, and
    // reading it gives buffers back (re-arming X itself).
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let x_client = Uring::connect(addr).await.unwrap();
        let (x, _) = listener.accept().await.unwrap();
        let (res, _) = x_client.write_all(vec![1u8; 8192]).await;
        res.unwrap();
        sleep(Duration::from_millis(20)).await;
        let mut hogs = Vec::new();
        for _ in 0..70 {
            let c = Uring::connect(addr).await.unwrap();
            let (s, _) = listener.accept().await.unwrap();
            let w = spawn(async move {
                let (res, _) = c.write_all(vec![2u8; 80 * 1024]).await;
                res.unwrap();
                c.shutdown(Shutdown::Write).unwrap();
                c
            });
            hogs.push((w, s));
        }
        sleep(Duration::from_millis(50)).await;
        if let Some((_, free)) = stats() {
            assert_eq!(free, 0, "the hogs did not exhaust the ring");
        }
        let (res, _) = x_client.write_all(vec![3u8; 8192]).await;
        res.unwrap();
        x_client.shutdown(Shutdown::Write).unwrap();
        sleep(Duration::from_millis(20)).await;
        let got = read_to_end(&x).await.unwrap();
        assert_eq!(got.len(), 16384);
        assert!(got[..8192].iter().all(|&b| b == 1) && got[8192..].iter().all(|&b| b == 3));
        for (w, s) in hogs {
            assert_eq!(read_to_end(&s).await.unwrap().len(), 80 * 1024);
            drop(w.await.unwrap());
        }
        drop((x, x_client, listener));
        settle(0).await;
    });
}

#[test]
fn dropped_connect_is_cancelled() {
    Uring::block_on(async {
        check_driver();
        // A non-routable address: the connect stays pending (or fails fast
        // without a route); either way nothing may stay behind.
        let addr: SocketAddr = "10.255.255.1:9".parse().unwrap();
        let _ = timeout(Duration::from_millis(30), Uring::connect(addr)).await;
        settle(0).await;
    });
}

#[test]
fn cross_thread_notify_wakes_the_ring() {
    Uring::block_on(async {
        check_driver();
        let notify = io_core::sync::Notify::new();
        // A wake before the wait is kept.
        notify.notify();
        notify.notified().await;
        let remote = notify.clone();
        let start = Instant::now();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            remote.notify();
        });
        notify.notified().await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(45),
            "woke too early: {waited:?}"
        );
        assert!(waited < Duration::from_secs(2), "woke too late: {waited:?}");
        t.join().unwrap();
        // Many wakes in a row from several threads.
        for _ in 0..200 {
            let remote = notify.clone();
            let t = std::thread::spawn(move || remote.notify());
            notify.notified().await;
            t.join().unwrap();
        }
    });
}

#[test]
fn timers_bound_the_park() {
    Uring::block_on(async {
        check_driver();
        let start = Instant::now();
        sleep(Duration::from_millis(30)).await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(30));
        assert!(waited < Duration::from_secs(1), "slept {waited:?}");
    });
}

#[test]
fn listener_queues_connections_before_accept() {
    Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        // Blocking std clients connect before anyone calls accept().
        let clients: Vec<_> = (0..5)
            .map(|i| {
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                c.write_all(&[i]).unwrap();
                c
            })
            .collect();
        sleep(Duration::from_millis(20)).await;
        let mut seen = Vec::new();
        for _ in 0..5 {
            let (s, _) = listener.accept().await.unwrap();
            seen.push(read_exact(&s, 1).await.unwrap()[0]);
        }
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        drop(clients);
    });
}

#[test]
fn adopted_std_stream_works() {
    let std_listener = std::net::TcpListener::bind(local()).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = std_listener.accept().unwrap();
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf).unwrap();
        s.write_all(&buf).unwrap();
    });
    let std_stream = std::net::TcpStream::connect(addr).unwrap();
    Uring::block_on(async move {
        check_driver();
        let s = Uring::stream_from_std(std_stream).unwrap();
        assert_eq!(s.driver(), active_driver());
        let (res, _) = s.write_all(b"ping".to_vec()).await;
        res.unwrap();
        assert_eq!(read_exact(&s, 4).await.unwrap(), b"ping");
    });
    peer.join().unwrap();
}

#[test]
fn served_workers_echo_and_shut_down_with_open_connections() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let on_uring = std::sync::Arc::new(AtomicBool::new(true));
    let flag = on_uring.clone();
    let config = io_core::ServeConfig::new(local()).workers(2);
    let server = Uring::serve(config, move |conn, _| {
        if conn.driver() != "io_uring" {
            flag.store(false, Ordering::SeqCst);
        }
        async move {
            let mut buf = Vec::with_capacity(256);
            loop {
                buf.clear();
                let (res, b) = conn.read(buf).await;
                match res {
                    Ok(n) if n > 0 => {}
                    _ => return,
                }
                let (res, b) = conn.write_all(b).await;
                if res.is_err() {
                    return;
                }
                buf = b;
            }
        }
    })
    .unwrap();
    let addr = server.local_addr();
    let mut clients: Vec<_> = (0..40)
        .map(|i| {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.write_all(format!("hello {i:02}").as_bytes()).unwrap();
            c
        })
        .collect();
    for (i, c) in clients.iter_mut().enumerate() {
        let mut buf = [0u8; 8];
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, format!("hello {i:02}").as_bytes());
    }
    if is_supported() {
        assert!(
            on_uring.load(Ordering::SeqCst),
            "a worker ran on the fallback"
        );
    }
    // Connections still open: the grace period ends them.
    let start = Instant::now();
    server.shutdown(Duration::from_millis(100)).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        start.elapsed()
    );
    for c in &mut clients {
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut rest = Vec::new();
        assert_eq!(
            c.read_to_end(&mut rest).unwrap(),
            0,
            "connection not closed"
        );
    }
}

#[test]
fn sockets_outliving_their_runtime_drop_cleanly() {
    // The driver lives until its last socket is gone, then drains.
    let (listener, client, conn) = Uring::block_on(async {
        check_driver();
        let listener = Uring::bind(local()).unwrap();
        let client = Uring::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (conn, _) = listener.accept().await.unwrap();
        let (res, _) = client.write_all(b"unread".to_vec()).await;
        res.unwrap();
        sleep(Duration::from_millis(10)).await;
        (listener, client, conn)
    });
    drop(conn);
    drop(client);
    drop(listener);
    assert_eq!(
        crate::ring::DRAIN_FAILURES.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a driver leaked operations at drop"
    );
    // A new runtime on the same thread starts from scratch.
    Uring::block_on(async {
        check_driver();
        settle(0).await;
    });
}

#[test]
fn streams_outside_a_runtime_are_refused() {
    let l = std::net::TcpListener::bind(local()).unwrap();
    assert!(TcpListener::from_std(l).is_err());
}
