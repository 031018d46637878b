//! The PostgreSQL driver against a hand-written fake server sending what a
//! real one never would: garbage, a hostile length, responses nobody asked
//! for, a connection cut mid-pipeline. Every case must end in a typed
//! error for every waiting caller: no panic, no hang, no misdelivery.

mod pg_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use weft::pg::{Config, Connection, Error};
use weft::rt::{Backend, time};

/// Reads the StartupMessage and answers AuthenticationOk, BackendKeyData
/// and ReadyForQuery; then hands the socket to `then`.
fn fake(then: impl FnOnce(TcpStream) + Send + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut len = [0u8; 4];
        s.read_exact(&mut len).unwrap();
        let mut rest = vec![0u8; u32::from_be_bytes(len) as usize - 4];
        s.read_exact(&mut rest).unwrap();
        s.write_all(b"R\0\0\0\x08\0\0\0\0K\0\0\0\x0c\0\0\0\x07\0\0\0\x09Z\0\0\0\x05I")
            .unwrap();
        then(s);
    });
    port
}

/// Reads until at least one message arrived from the client.
fn read_some(s: &mut TcpStream) {
    let mut b = [0u8; 4096];
    let _ = s.read(&mut b);
}

fn config(port: u16) -> Config {
    Config::new("127.0.0.1", port, "fake").connect_timeout(Duration::from_secs(5))
}

async fn guarded<T>(f: impl std::future::Future<Output = T>) -> T {
    time::timeout(Duration::from_secs(10), f)
        .await
        .expect("hang guard")
}

async fn garbage<B: Backend>() {
    let port = fake(|mut s| {
        read_some(&mut s);
        // An unknown message type.
        s.write_all(b"\x01\0\0\0\x08abcd").unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    let conn = guarded(Connection::connect::<B>(&config(port)))
        .await
        .unwrap();
    let (a, b) = (conn.clone(), conn.clone());
    let fa = weft::rt::spawn(async move { a.simple_query("SELECT 1").await });
    let fb = weft::rt::spawn(async move { b.simple_query("SELECT 2").await });
    let ea = guarded(fa).await.unwrap().unwrap_err();
    let eb = guarded(fb).await.unwrap().unwrap_err();
    assert!(matches!(ea, Error::Protocol(_)), "{ea}");
    assert!(eb.is_closed(), "{eb}");
    assert!(conn.is_closed());
    assert!(conn.simple_query("SELECT 3").await.unwrap_err().is_closed());
}

async fn huge_length<B: Backend>() {
    let port = fake(|mut s| {
        read_some(&mut s);
        // A DataRow claiming 2 GiB.
        s.write_all(b"D\x7f\xff\xff\xff\0\x01").unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    let conn = guarded(Connection::connect::<B>(&config(port)))
        .await
        .unwrap();
    let e = guarded(conn.simple_query("SELECT 1")).await.unwrap_err();
    assert!(e.to_string().contains("exceeds limit"), "{e}");
}

async fn unsolicited<B: Backend>() {
    let port = fake(|mut s| {
        // A CommandComplete with no request outstanding.
        s.write_all(b"C\0\0\0\x0dSELECT 1\0").unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    // It may arrive with the start-up answers or just after.
    let e = match guarded(Connection::connect::<B>(&config(port))).await {
        Err(e) => e,
        Ok(conn) => guarded(conn.closed()).await,
    };
    assert!(matches!(e, Error::Protocol(_)), "{e}");
}

async fn cut<B: Backend>() {
    let port = fake(|mut s| {
        read_some(&mut s);
        // The first simple query's answer, then half of the second's.
        s.write_all(b"T\0\0\0\x1a\0\x01n\0\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0")
            .unwrap();
        s.write_all(b"D\0\0\0\x0b\0\x01\0\0\0\x011C\0\0\0\x0dSELECT 1\0Z\0\0\0\x05I")
            .unwrap();
        s.write_all(b"T\0\0\0\x1a\0\x01n\0").unwrap();
    });
    let conn = guarded(Connection::connect::<B>(&config(port)))
        .await
        .unwrap();
    let (a, b) = (conn.clone(), conn.clone());
    let fa = weft::rt::spawn(async move { a.simple_query("SELECT 1").await });
    let fb = weft::rt::spawn(async move { b.simple_query("SELECT 2").await });
    let rows = guarded(fa).await.unwrap().unwrap();
    assert_eq!(rows[0].get::<i32>(0).unwrap(), 1);
    let e = guarded(fb).await.unwrap().unwrap_err();
    assert!(e.is_closed(), "{e}");
}

async fn fatal_mid_session<B: Backend>() {
    let port = fake(|mut s| {
        read_some(&mut s);
        let mut msg = Vec::new();
        let body = b"SFATAL\0C57P01\0Mterminating connection due to administrator command\0\0";
        msg.push(b'E');
        msg.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        msg.extend_from_slice(body);
        s.write_all(&msg).unwrap();
    });
    let conn = guarded(Connection::connect::<B>(&config(port)))
        .await
        .unwrap();
    let e = guarded(conn.simple_query("SELECT 1")).await.unwrap_err();
    assert_eq!(e.code(), Some("57P01"), "{e}");
    assert!(e.is_closed());
}

/// A server that accepts, reads the StartupMessage and never answers.
/// Returns its port and a thread that ends with whether the client closed
/// the socket (within 10 s).
fn silent() -> (u16, JoinHandle<bool>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut b = [0u8; 512];
        loop {
            match s.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    });
    (port, t)
}

/// Waits (without blocking the runtime, whose tasks must run to close the
/// socket) for a [`silent`] server's verdict.
async fn client_closed(t: JoinHandle<bool>) -> bool {
    while !t.is_finished() {
        time::sleep(Duration::from_millis(10)).await;
    }
    t.join().unwrap()
}

/// `connect_timeout` covers a host that accepts the TCP connection but
/// never answers the start-up; with several hosts the next is tried.
async fn silent_host<B: Backend>() {
    let (port, closed) = silent();
    let cfg = config(port).connect_timeout(Duration::from_millis(300));
    let e = guarded(Connection::connect::<B>(&cfg)).await.unwrap_err();
    assert!(matches!(e, Error::Timeout), "{e}");
    assert!(
        client_closed(closed).await,
        "the abandoned socket was not closed"
    );

    let Some((h, p, d)) = pg_support::server() else {
        return;
    };
    let (port, closed) = silent();
    let cfg = Config::parse(&format!(
        "host=127.0.0.1,{h} port={port},{p} user=weft dbname={d} connect_timeout=1"
    ))
    .unwrap();
    let conn = guarded(Connection::connect::<B>(&cfg)).await.unwrap();
    let r = conn.query_one("SELECT 1::int4", &[]).await.unwrap();
    assert_eq!(r.get::<i32>(0).unwrap(), 1);
    assert!(
        client_closed(closed).await,
        "the abandoned socket was not closed"
    );
}

#[test]
fn connect_timeout_moves_on_from_a_silent_host() {
    each_backend!(silent_host);
}

#[test]
fn hostile_servers_give_typed_errors() {
    {
        #[cfg(feature = "epoll")]
        {
            use weft::rt::Epoll as B;
            B::block_on(garbage::<B>());
            B::block_on(huge_length::<B>());
            B::block_on(unsolicited::<B>());
            B::block_on(cut::<B>());
            B::block_on(fatal_mid_session::<B>());
        }
        #[cfg(feature = "std")]
        {
            use weft::rt::Std as B;
            B::block_on(garbage::<B>());
            B::block_on(huge_length::<B>());
            B::block_on(unsolicited::<B>());
            B::block_on(cut::<B>());
            B::block_on(fatal_mid_session::<B>());
        }
    }
}
