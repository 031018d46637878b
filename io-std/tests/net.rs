//! Socket behaviour of the std backend inside one `Std::block_on`.

use io_core::sync::Notify;
use io_core::time::{Elapsed, timeout};
use io_core::{AsyncListener, AsyncStream, Backend};
use io_std::Std;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Reads until end of stream.
async fn read_to_end(s: &io_std::TcpStream) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        let (res, b) = s.read(buf).await;
        buf = b;
        if res? == 0 {
            return Ok(buf);
        }
    }
}

#[test]
fn echo_round_trips_in_one_thread() {
    Std::block_on(async {
        let listener = Std::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = io_core::spawn(async move {
            let (conn, peer) = listener.accept().await.unwrap();
            assert_eq!(conn.peer_addr().unwrap(), peer);
            let mut buf = Vec::with_capacity(1024);
            loop {
                buf.clear();
                let (res, b) = conn.read(buf).await;
                buf = b;
                if res.unwrap() == 0 {
                    return;
                }
                let (res, b) = conn.write_all(buf).await;
                buf = b;
                res.unwrap();
            }
        });
        let client = Std::connect(addr).await.unwrap();
        client.set_nodelay(true).unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        for i in 0..100u32 {
            let msg = format!("message {i}");
            let (res, _) = client.write_all(msg.clone()).await;
            res.unwrap();
            let mut got = Vec::new();
            while got.len() < msg.len() {
                let (res, b) = client.read(Vec::with_capacity(64)).await;
                assert!(res.unwrap() > 0);
                got.extend_from_slice(&b);
            }
            assert_eq!(got, msg.as_bytes());
        }
        // writev goes out in order.
        let (res, _) = client
            .writev(vec![b"ab".to_vec(), b"cd".to_vec(), b"e".to_vec()])
            .await;
        assert_eq!(res.unwrap(), 5);
        let mut got = Vec::new();
        while got.len() < 5 {
            let (res, b) = client.read(Vec::with_capacity(8)).await;
            assert!(res.unwrap() > 0);
            got.extend_from_slice(&b);
        }
        assert_eq!(got, b"abcde");
        client.shutdown(Shutdown::Write).unwrap();
        server.await.unwrap();
    });
}

#[test]
fn sixteen_mib_written_and_read_back_intact() {
    const LEN: usize = 16 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| (i * 31 % 251) as u8).collect();
    let expect = data.clone();
    Std::block_on(async move {
        let listener = Std::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        // Server: echo with a reader and a writer on one socket, the way a
        // pipelining driver would, so both directions wait at once.
        let server = io_core::spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let data = read_to_end(&conn).await.unwrap();
            let (res, _) = conn.write_all(data).await;
            res.unwrap();
        });
        let client = Rc::new(Std::connect(addr).await.unwrap());
        let writer = {
            let client = client.clone();
            io_core::spawn(async move {
                let (res, _) = client.write_all(data).await;
                res.unwrap();
                client.shutdown(Shutdown::Write).unwrap();
            })
        };
        let got = read_to_end(&client).await.unwrap();
        writer.await.unwrap();
        server.await.unwrap();
        assert_eq!(got.len(), LEN);
        assert!(got == expect, "16 MiB came back altered");
    });
}

#[test]
fn half_close_lets_the_peer_answer() {
    Std::block_on(async {
        let listener = Std::bind(local()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = io_core::spawn(async move {
            let (conn, _) = listener.accept().await.unwrap();
            let got = read_to_end(&conn).await.unwrap();
            let (res, _) = conn.write_all(format!("got {}", got.len())).await;
            res.unwrap();
        });
        let client = Std::connect(addr).await.unwrap();
        let (res, _) = client.write_all(&b"hello"[..]).await;
        res.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        assert_eq!(read_to_end(&client).await.unwrap(), b"got 5");
        server.await.unwrap();
    });
}

#[test]
fn peer_reset_is_an_error_not_a_panic() {
    let peer = std::net::TcpListener::bind(local()).unwrap();
    let addr = peer.local_addr().unwrap();
    // The reset waits until our connect has completed: a reset racing the
    // handshake is (rightly) reported by connect itself.
    let (connected, wait_connected) = std::sync::mpsc::channel::<()>();
    let resetter = std::thread::spawn(move || {
        let (s, _) = peer.accept().unwrap();
        wait_connected.recv().unwrap();
        // Linger 0: close sends RST instead of FIN.
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(s);
    });
    Std::block_on(async move {
        let client = Std::connect(addr).await.unwrap();
        connected.send(()).unwrap();
        resetter.join().unwrap();
        let (res, _) = client.read(Vec::with_capacity(16)).await;
        let err = res.expect_err("read after RST must fail");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        // Writing to the dead socket is EPIPE, never SIGPIPE.
        let (res, _) = client.write(&b"x"[..]).await;
        assert!(res.is_err());
    });
}

#[test]
fn connect_refused_is_typed() {
    let addr = std::net::TcpListener::bind(local())
        .unwrap()
        .local_addr()
        .unwrap();
    // The listener is closed: nothing listens on `addr` now.
    let err = Std::block_on(Std::connect(addr)).expect_err("nothing listens");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
}

#[test]
fn timeout_around_a_read_on_a_silent_peer_fires_on_time() {
    let peer = std::net::TcpListener::bind(local()).unwrap();
    let addr = peer.local_addr().unwrap();
    Std::block_on(async move {
        let client = Std::connect(addr).await.unwrap();
        let (_silent, _) = peer.accept().unwrap();
        let start = Instant::now();
        let res = timeout(
            Duration::from_millis(100),
            client.read(Vec::with_capacity(16)),
        )
        .await;
        let took = start.elapsed();
        assert!(matches!(res, Err(Elapsed)));
        assert!(
            took >= Duration::from_millis(50) && took <= Duration::from_millis(500),
            "a 100 ms timeout took {took:?}"
        );
        // The socket is still usable after a cancelled read.
        let mut s = _silent;
        s.write_all(b"late").unwrap();
        let (res, buf) = client.read(Vec::with_capacity(16)).await;
        assert_eq!(&buf[..res.unwrap()], b"late");
    });
}

#[test]
fn a_wake_from_another_thread_interrupts_a_waiting_read() {
    let peer = std::net::TcpListener::bind(local()).unwrap();
    let addr = peer.local_addr().unwrap();
    Std::block_on(async move {
        let client = Std::connect(addr).await.unwrap();
        let (_silent, _) = peer.accept().unwrap();
        let notify = Notify::new();
        let remote = notify.clone();
        let start = Instant::now();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            remote.notify();
        });
        let won =
            io_core::select::select(client.read(Vec::with_capacity(16)), notify.notified()).await;
        assert!(matches!(won, io_core::select::Either::Right(())));
        let took = start.elapsed();
        assert!(took < Duration::from_millis(1000), "wake took {took:?}");
        t.join().unwrap();
    });
}

#[test]
fn a_task_waiting_on_an_idle_socket_does_not_block_its_siblings() {
    let peer = std::net::TcpListener::bind(local()).unwrap();
    let addr = peer.local_addr().unwrap();
    Std::block_on(async move {
        let idle = Std::connect(addr).await.unwrap();
        let (_idle_peer, _) = peer.accept().unwrap();
        let busy = Std::connect(addr).await.unwrap();
        let (mut busy_peer, _) = peer.accept().unwrap();
        // Polled first, never completes: its peer stays silent.
        let reader = io_core::spawn(async move {
            let _ = idle.read(Vec::with_capacity(16)).await;
        });
        io_core::yield_now().await;
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            busy_peer.write_all(b"ping").unwrap();
            let mut b = [0u8; 4];
            busy_peer.read_exact(&mut b).unwrap();
            b
        });
        let (res, buf) = busy.read(Vec::with_capacity(16)).await;
        assert_eq!(&buf[..res.unwrap()], b"ping");
        let (res, _) = busy.write_all(&b"pong"[..]).await;
        res.unwrap();
        assert_eq!(&t.join().unwrap(), b"pong");
        reader.abort();
    });
}

#[test]
fn sockets_need_a_runtime() {
    let listener = std::net::TcpListener::bind(local()).unwrap();
    let err = io_std::TcpListener::from_std(listener).expect_err("no runtime here");
    assert!(err.to_string().contains("Std::block_on"), "{err}");
}
