//! One suite, run on every compiled-in backend: an echo server and clients,
//! many connections, 16 MiB transfers, half-close, peer reset, connect
//! refused, timeouts, and shutdown while busy.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream as StdStream};
use std::time::{Duration, Instant};
use weft::rt::{AsyncListener, AsyncStream, Backend, ServeConfig, ServerHandle, spawn, time};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Echoes until EOF, then half-closes back.
async fn echo<S: AsyncStream>(stream: S) {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let (res, b) = stream.read(buf).await;
        buf = b;
        match res {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let (res, b) = stream.write_all(buf).await;
                buf = b;
                if res.is_err() {
                    return;
                }
            }
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}

fn echo_server<B: Backend>(workers: usize) -> ServerHandle {
    B::serve(ServeConfig::new(loopback()).workers(workers), |s, _| {
        echo(s)
    })
    .unwrap()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// 200 clients on the backend's own client side, each with several round trips.
fn many_connections<B: Backend>() {
    let server = echo_server::<B>(2);
    let addr = server.local_addr();
    B::block_on(async move {
        let mut tasks = Vec::new();
        for c in 0..200u32 {
            tasks.push(spawn(async move {
                let s = B::connect(addr).await.unwrap();
                s.set_nodelay(true).unwrap();
                for round in 0..5u8 {
                    let msg = pattern(1000 + c as usize, round);
                    let (res, _) = s.write_all(msg.clone()).await;
                    res.unwrap();
                    let mut got = Vec::with_capacity(msg.len());
                    while got.len() < msg.len() {
                        let (res, g) = s.read(got).await;
                        got = g;
                        assert!(res.unwrap() > 0, "early EOF");
                    }
                    assert_eq!(got, msg);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    server.shutdown(Duration::from_secs(1)).unwrap();
}

/// 16 MiB through the echo server from a blocking client (writer and reader
/// threads), then 16 MiB written by the backend's client to a sink.
fn large_transfers<B: Backend>() {
    const LEN: usize = 16 << 20;
    let server = echo_server::<B>(1);
    let data = pattern(LEN, 7);
    let mut client = StdStream::connect(server.local_addr()).unwrap();
    let mut writer = client.try_clone().unwrap();
    let to_send = data.clone();
    let w = std::thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::with_capacity(LEN);
    client.read_to_end(&mut got).unwrap();
    w.join().unwrap();
    assert!(got == data, "echoed 16 MiB differ");
    server.shutdown(Duration::from_secs(1)).unwrap();

    let sink = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = sink.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = sink.accept().unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        all
    });
    let sent = data.clone();
    B::block_on(async move {
        let s = B::connect(addr).await.unwrap();
        let (res, _) = s.write_all(sent).await;
        res.unwrap();
        s.shutdown(Shutdown::Write).unwrap();
    });
    assert!(
        reader.join().unwrap() == data,
        "16 MiB written by the backend differ"
    );
}

/// The client half-closes; the server still answers after reading EOF.
fn half_close<B: Backend>() {
    let server = B::serve(ServeConfig::new(loopback()).workers(1), |s, _| async move {
        let mut all = Vec::new();
        loop {
            let (res, b) = s.read(all).await;
            all = b;
            if res.unwrap() == 0 {
                break;
            }
        }
        let reply = format!("got {} bytes", all.len());
        let (res, _) = s.write_all(reply.into_bytes()).await;
        res.unwrap();
    })
    .unwrap();
    let mut c = StdStream::connect(server.local_addr()).unwrap();
    c.write_all(&[1u8; 5000]).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let mut reply = String::new();
    c.read_to_string(&mut reply).unwrap();
    assert_eq!(reply, "got 5000 bytes");
    server.shutdown(Duration::from_secs(1)).unwrap();
}

/// A peer that resets the connection gives an error (or EOF), never a panic
/// or a hang.
fn peer_reset<B: Backend>() {
    let l = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = l.local_addr().unwrap();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        go_rx.recv().unwrap();
        let sock = socket2::SockRef::from(&s);
        sock.set_linger(Some(Duration::ZERO)).unwrap();
        drop(s); // RST
    });
    B::block_on(async move {
        let s = B::connect(addr).await.unwrap();
        go_tx.send(()).unwrap();
        t.join().unwrap();
        let (res, _) = s.read(Vec::with_capacity(64)).await;
        match res {
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
            Ok(n) => assert_eq!(n, 0),
        }
        // Writing into a reset connection fails with a typed error.
        let mut failed = false;
        for _ in 0..10 {
            let (res, _) = s.write(vec![0u8; 1024]).await;
            if let Err(e) = res {
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                    ),
                    "unexpected error {e:?}"
                );
                failed = true;
                break;
            }
        }
        assert!(failed, "writes to a reset connection kept succeeding");
    });
}

fn connect_refused<B: Backend>() {
    let addr = {
        let l = std::net::TcpListener::bind(loopback()).unwrap();
        l.local_addr().unwrap()
    };
    B::block_on(async move {
        let Err(err) = B::connect(addr).await else {
            panic!("connected to a closed port");
        };
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

/// A read on a silent peer is cut off by `timeout` on time.
fn timeouts_fire<B: Backend>() {
    let l = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = l.local_addr().unwrap();
    let hold = std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        drop(s);
    });
    B::block_on(async move {
        let s = B::connect(addr).await.unwrap();
        let start = Instant::now();
        let r = time::timeout(Duration::from_millis(100), s.read(Vec::with_capacity(16))).await;
        let took = start.elapsed();
        assert!(r.is_err(), "read on a silent peer completed");
        assert!(
            took >= Duration::from_millis(100),
            "timeout fired early: {took:?}"
        );
        assert!(
            took < Duration::from_millis(1000),
            "timeout fired late: {took:?}"
        );
        // The listener in a worker keeps working after a timed-out accept too.
        let l = B::bind(loopback()).unwrap();
        assert!(
            time::timeout(Duration::from_millis(20), l.accept())
                .await
                .is_err()
        );
    });
    hold.join().unwrap();
}

/// Shutdown with connections mid-transfer: stops accepting, cuts the busy
/// connections at the grace deadline, joins every thread.
fn shutdown_while_busy<B: Backend>() {
    let server = B::serve(ServeConfig::new(loopback()).workers(2), |s, _| async move {
        let chunk = vec![b'x'; 64 * 1024];
        let mut chunk = chunk;
        loop {
            let (res, c) = s.write_all(chunk).await;
            chunk = c;
            if res.is_err() {
                return;
            }
        }
    })
    .unwrap();
    let addr = server.local_addr();
    let mut clients = Vec::new();
    for _ in 0..8 {
        let mut c = StdStream::connect(addr).unwrap();
        let mut first = [0u8; 1024];
        c.read_exact(&mut first).unwrap();
        clients.push(c);
    }
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                }
            })
        })
        .collect();
    let start = Instant::now();
    server.shutdown(Duration::from_millis(200)).unwrap();
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(150),
        "did not wait for in-flight work: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    for r in readers {
        r.join().unwrap();
    }
    assert!(
        StdStream::connect(addr).is_err(),
        "still accepting after shutdown"
    );
}

macro_rules! suite {
    ($feature:literal, $module:ident, $backend:ty) => {
        #[cfg(feature = $feature)]
        mod $module {
            #[test]
            fn many_connections() {
                super::many_connections::<$backend>();
            }
            #[test]
            fn large_transfers() {
                super::large_transfers::<$backend>();
            }
            #[test]
            fn half_close() {
                super::half_close::<$backend>();
            }
            #[test]
            fn peer_reset() {
                super::peer_reset::<$backend>();
            }
            #[test]
            fn connect_refused() {
                super::connect_refused::<$backend>();
            }
            #[test]
            fn timeouts_fire() {
                super::timeouts_fire::<$backend>();
            }
            #[test]
            fn shutdown_while_busy() {
                super::shutdown_while_busy::<$backend>();
            }
        }
    };
}

suite!("epoll", epoll, weft::rt::Epoll);
#[cfg(feature = "uring")]
suite!("uring", uring, weft::rt::Uring);

/// The uring suite above must exercise io_uring itself, not the epoll
/// fallback (this kernel supports io_uring), unless the fallback is forced.
#[cfg(feature = "uring")]
#[test]
fn uring_suite_runs_on_io_uring() {
    if std::env::var_os("WEFT_URING_FORCE_FALLBACK").is_some() {
        return;
    }
    let driver = weft::rt::Uring::block_on(async { weft::rt::uring_driver() });
    assert_eq!(
        driver, "io_uring",
        "the uring backend fell back to epoll on this kernel"
    );
}
#[cfg(feature = "std")]
suite!("std", std_backend, weft::rt::Std);
