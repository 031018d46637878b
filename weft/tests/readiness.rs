//! `AsyncStream::readable` and `AsyncStream::try_read` on every backend:
//! waiting for data without holding a buffer, then reading what is there
//! without waiting (how an idle HTTP/1.1 connection keeps no read buffer).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream as StdStream};
use std::time::Duration;
use weft::rt::{AsyncListener, AsyncStream, Backend, Either, select, time};

/// Whether `stream.readable()` completes before `within` passes.
async fn readable_within<S: AsyncStream>(stream: &S, within: Duration) -> bool {
    match select(stream.readable(), time::sleep(within)).await {
        Either::Left(res) => {
            res.unwrap();
            true
        }
        Either::Right(()) => false,
    }
}

fn would_block<S: AsyncStream>(stream: &S) -> bool {
    let mut buf = Vec::with_capacity(64);
    match stream.try_read(&mut buf) {
        Err(e) => {
            assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
            assert!(buf.is_empty());
            true
        }
        Ok(n) => panic!("expected WouldBlock, read {n} bytes: {buf:?}"),
    }
}

fn readiness<B: Backend>() {
    B::block_on(async {
        let listener = B::bind("127.0.0.1:0".parse::<SocketAddr>().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = StdStream::connect(addr).unwrap();
        let (server, _) = listener.accept().await.unwrap();

        // Nothing sent yet: nothing to read, and readable() does not complete.
        assert!(would_block(&server));
        assert!(!readable_within(&server, Duration::from_millis(30)).await);

        // Data arrives while a task waits.
        client.write_all(b"hello").unwrap();
        assert!(readable_within(&server, Duration::from_secs(10)).await);
        let mut buf = Vec::with_capacity(64);
        // A readiness backend may report early; try_read is the judge.
        let mut n = 0;
        while n == 0 {
            match server.try_read(&mut buf) {
                Ok(k) => n = k,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(readable_within(&server, Duration::from_secs(10)).await);
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(buf, b"hello");
        assert!(would_block(&server));

        // Data arrives while no task waits (the worker parks on a timer):
        // readable() must still see it (epoll reports the edge only once).
        client.write_all(b"again").unwrap();
        time::sleep(Duration::from_millis(30)).await;
        assert!(readable_within(&server, Duration::from_secs(10)).await);
        buf.clear();
        while buf.len() < 5 {
            match server.try_read(&mut buf) {
                Ok(k) => assert!(k > 0, "early end of stream"),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(readable_within(&server, Duration::from_secs(10)).await);
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(buf, b"again");
        assert!(would_block(&server));

        // End of stream: readable, then try_read says 0.
        client.shutdown(Shutdown::Write).unwrap();
        assert!(readable_within(&server, Duration::from_secs(10)).await);
        let mut eof = None;
        while eof.is_none() {
            match server.try_read(&mut buf) {
                Ok(k) => eof = Some(k),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(readable_within(&server, Duration::from_secs(10)).await);
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(eof, Some(0));
    });
}

#[test]
fn epoll_readable_and_try_read() {
    readiness::<weft::rt::Epoll>();
}

#[test]
fn uring_readable_and_try_read() {
    readiness::<weft::rt::Uring>();
}

#[test]
fn std_readable_and_try_read() {
    readiness::<weft::rt::Std>();
}

/// Reads at least `want` bytes with `read` (each call into fresh room much
/// larger than what arrives: short reads), failing instead of hanging.
async fn read_some<S: AsyncStream>(stream: &S, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < want {
        let (res, buf) = time::timeout(
            Duration::from_secs(10),
            stream.read(Vec::with_capacity(256)),
        )
        .await
        .expect("read hung");
        let n = res.unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// Many round trips of short reads (on epoll, reads that drained the socket
/// make later ones wait for the next edge), then data and end of stream
/// arriving together: the reader sees the data, then the end, and never
/// hangs. Once with `read`, once with `readable` + `try_read`.
fn short_reads_then_data_and_end<B: Backend>() {
    B::block_on(async {
        let listener = B::bind("127.0.0.1:0".parse::<SocketAddr>().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = std::thread::spawn(move || {
            for _ in 0..2 {
                let mut c = StdStream::connect(addr).unwrap();
                let mut echo = [0u8; 4];
                for i in 0..300u32 {
                    c.write_all(&i.to_le_bytes()).unwrap();
                    c.read_exact(&mut echo).unwrap();
                    assert_eq!(echo, i.to_le_bytes());
                }
                c.write_all(b"last").unwrap();
                c.shutdown(Shutdown::Write).unwrap();
                let mut rest = Vec::new();
                c.read_to_end(&mut rest).unwrap();
                assert!(rest.is_empty());
            }
        });
        // With `read`.
        let (server, _) = listener.accept().await.unwrap();
        for i in 0..300u32 {
            let got = read_some(&server, 4).await;
            assert_eq!(got, i.to_le_bytes());
            let (res, _) = server.write_all(got).await;
            res.unwrap();
        }
        // Let the data and the end arrive while nobody reads (one event).
        time::sleep(Duration::from_millis(50)).await;
        assert_eq!(read_some(&server, 5).await, b"last");
        drop(server);
        // With `readable` + `try_read`.
        let (server, _) = listener.accept().await.unwrap();
        let read = async |want: usize| {
            let mut got = Vec::with_capacity(256);
            loop {
                match server.try_read(&mut got) {
                    Ok(0) => return got,
                    Ok(_) if got.len() >= want => return got,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        assert!(
                            readable_within(&server, Duration::from_secs(10)).await,
                            "readable() hung"
                        );
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        };
        for i in 0..300u32 {
            let got = read(4).await;
            assert_eq!(got, i.to_le_bytes());
            let (res, _) = server.write_all(got).await;
            res.unwrap();
        }
        time::sleep(Duration::from_millis(50)).await;
        assert_eq!(read(5).await, b"last");
        drop(server);
        peer.join().unwrap();
    });
}

#[test]
fn epoll_short_reads_then_data_and_end() {
    short_reads_then_data_and_end::<weft::rt::Epoll>();
}

#[test]
fn uring_short_reads_then_data_and_end() {
    short_reads_then_data_and_end::<weft::rt::Uring>();
}

#[test]
fn std_short_reads_then_data_and_end() {
    short_reads_then_data_and_end::<weft::rt::Std>();
}
