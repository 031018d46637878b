//! The HTTP/1.1 server's connection rules seen from a raw socket, on every
//! compiled-in backend: the body-read timeout, HEAD, HTTP/1.0 keep-alive,
//! `Connection: close`, 404/405, the 200-field limit at its boundary,
//! chunk extensions and trailers, a chunked body over the size limit, the
//! `Date` header across seconds, the per-worker connection limit, a
//! graceful shutdown with a request in flight, and a client that stops
//! reading.
//!
//! Every refusal is checked for its status, for the connection being
//! closed (end of stream or reset; a read timeout is not a close), and for
//! the server still serving a fresh connection afterwards.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use weft::http::{Request, Response, Router, RunningServer, Server};
use weft::rt::BackendKind;

fn router() -> Router {
    Router::new()
        .get("/plaintext", |_r: Request| async { "Hello, World!" })
        .post("/echo", |r: Request| async move {
            Response::text(r.into_body())
        })
        .post("/trailers", |r: Request| async move {
            // The body, then each trailer field as `name=value;`.
            let mut out = String::from_utf8_lossy(r.body()).into_owned();
            out.push('|');
            for (n, v) in r.trailers() {
                out.push_str(&format!(
                    "{}={};",
                    String::from_utf8_lossy(n),
                    String::from_utf8_lossy(v)
                ));
            }
            Response::text(out)
        })
}

fn start_with(kind: BackendKind, h1: proto_http::h1::Config, router: Router) -> RunningServer {
    Server::bind("127.0.0.1:0".parse().unwrap())
        .workers(2)
        .backend(kind)
        .h1_config(h1)
        .serve(router)
        .unwrap()
}

/// Runs `f` against a server with `h1` on each backend.
fn each_backend(h1: proto_http::h1::Config, f: impl Fn(BackendKind, SocketAddr)) {
    for kind in BackendKind::enabled() {
        let server = start_with(kind, h1.clone(), router());
        f(kind, server.local_addr());
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// One response as read off the wire.
#[derive(Debug)]
struct Resp {
    status: u16,
    /// Field lines, names lowercased.
    fields: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a response head from `s` (bytes already read wait in `buf`); the
/// body is read by Content-Length unless `head_only`, since a response to
/// HEAD announces a length it does not send.
fn read_resp(s: &mut TcpStream, buf: &mut Vec<u8>, head_only: bool) -> Option<Resp> {
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.get(9..12)?.parse().ok()?;
    let fields: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    buf.drain(..end + 4);
    let len: usize = if head_only {
        0
    } else {
        fields
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse().unwrap())
    };
    while buf.len() < len {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = buf.drain(..len).collect();
    Some(Resp {
        status,
        fields,
        body,
    })
}

/// Asserts the server closed the connection: nothing more than `buf`
/// holds, then end of stream or a reset (not data, not the read timeout).
fn expect_closed(s: &mut TcpStream, buf: &[u8], what: &str) {
    assert!(buf.is_empty(), "{what}: unexpected bytes {buf:?}");
    let mut chunk = [0u8; 256];
    match s.read(&mut chunk) {
        Ok(0) => {}
        Ok(n) => panic!(
            "{what}: unexpected bytes {:?}",
            String::from_utf8_lossy(&chunk[..n])
        ),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{what}: the connection was left open"
        ),
    }
}

/// Asserts a fresh connection is still served.
fn still_serving(addr: SocketAddr, what: &str) {
    let mut s = connect(addr);
    s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = read_resp(&mut s, &mut Vec::new(), false);
    assert_eq!(
        r.map(|r| (r.status, r.body)),
        Some((200, b"Hello, World!".to_vec())),
        "{what}: the server stopped serving"
    );
}

/// Sends `raw` on a fresh connection and expects `status` and a close.
fn refused(addr: SocketAddr, raw: &[u8], status: u16, what: &str) {
    let mut s = connect(addr);
    let _ = s.write_all(raw);
    let mut buf = Vec::new();
    let r = read_resp(&mut s, &mut buf, false).unwrap_or_else(|| panic!("{what}: no response"));
    assert_eq!(r.status, status, "{what}");
    assert_eq!(r.field("connection"), Some("close"), "{what}");
    expect_closed(&mut s, &buf, what);
    still_serving(addr, what);
}

/// RFC 9112 §9.5 leaves timeouts to the server: a body that stops
/// arriving is answered 408 and the connection closed once
/// `body_timeout` passes without progress; one that keeps arriving, each
/// piece well within the timeout, is served however long it takes.
#[test]
fn body_read_timeout_cuts_a_stalled_body_but_not_a_slow_one() {
    let h1 = proto_http::h1::Config {
        body_timeout: Some(Duration::from_millis(1000)),
        ..Default::default()
    };
    each_backend(h1, |kind, addr| {
        let what = format!("{kind}: stalled body");
        let mut s = connect(addr);
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
            .unwrap();
        let mut buf = Vec::new();
        let r = read_resp(&mut s, &mut buf, false).expect("no 408");
        assert_eq!(r.status, 408, "{what}");
        expect_closed(&mut s, &buf, &what);
        still_serving(addr, &what);

        // 15 body bytes, one every 100 ms: 1.5 s in all, longer than the
        // timeout, but never a pause of more than a tenth of it.
        let mut s = connect(addr);
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n")
            .unwrap();
        for b in b"hello, slow!!!!" {
            std::thread::sleep(Duration::from_millis(100));
            s.write_all(&[*b]).unwrap();
        }
        let r = read_resp(&mut s, &mut Vec::new(), false);
        assert_eq!(
            r.map(|r| (r.status, r.body)),
            Some((200, b"hello, slow!!!!".to_vec())),
            "{kind}: slow body"
        );
    });
}

/// RFC 9110 §9.3.2: the response to HEAD carries the fields of the GET
/// response, Content-Length included, and no content: the next response on
/// the connection starts right after its head.
#[test]
fn head_answers_the_get_fields_without_the_body() {
    each_backend(Default::default(), |kind, addr| {
        let mut s = connect(addr);
        s.write_all(
            b"HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
        let mut buf = Vec::new();
        let head = read_resp(&mut s, &mut buf, true).expect("no HEAD response");
        assert_eq!(head.status, 200, "{kind}");
        assert_eq!(head.field("content-length"), Some("13"), "{kind}");
        // The bytes after the HEAD response's head are the GET response.
        let get = read_resp(&mut s, &mut buf, false).expect("no GET response");
        assert_eq!(
            (get.status, get.body.as_slice()),
            (200, &b"Hello, World!"[..]),
            "{kind}: a body followed the HEAD response"
        );
        assert!(buf.is_empty(), "{kind}: {buf:?}");
    });
}

/// RFC 9112 §9.3: an HTTP/1.0 request persists only with `Connection:
/// keep-alive`, and the response then says `keep-alive` too; without it
/// the server closes after the response.
#[test]
fn http10_keep_alive_and_close() {
    each_backend(Default::default(), |kind, addr| {
        let mut s = connect(addr);
        let mut buf = Vec::new();
        for body in ["one", "two"] {
            let req = format!(
                "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n{body}"
            );
            s.write_all(req.as_bytes()).unwrap();
            let r = read_resp(&mut s, &mut buf, false).expect("no response");
            assert_eq!((r.status, r.body.as_slice()), (200, body.as_bytes()));
            assert_eq!(r.field("connection"), Some("keep-alive"), "{kind}");
        }
        // Without keep-alive: answered, then closed.
        s.write_all(b"GET /plaintext HTTP/1.0\r\n\r\n").unwrap();
        let r = read_resp(&mut s, &mut buf, false).expect("no response");
        assert_eq!(r.status, 200, "{kind}");
        expect_closed(
            &mut s,
            &buf,
            &format!("{kind}: HTTP/1.0 without keep-alive"),
        );
    });
}

/// RFC 9112 §9.6: after a request with `Connection: close` the server
/// reads no further request, answers with `close` and closes, even when
/// another request was pipelined behind it.
#[test]
fn connection_close_ends_the_connection_after_its_response() {
    each_backend(Default::default(), |kind, addr| {
        let mut s = connect(addr);
        s.write_all(
            b"GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n\
              GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
        let mut buf = Vec::new();
        let r = read_resp(&mut s, &mut buf, false).expect("no response");
        assert_eq!(r.status, 200, "{kind}");
        assert_eq!(r.field("connection"), Some("close"), "{kind}");
        expect_closed(&mut s, &buf, &format!("{kind}: Connection: close"));
    });
}

/// Unknown paths are 404; a known path with another method is 405 with an
/// `Allow` field (RFC 9110 §15.5.6); both keep the connection.
#[test]
fn not_found_and_method_not_allowed_keep_the_connection() {
    each_backend(Default::default(), |kind, addr| {
        let mut s = connect(addr);
        let mut buf = Vec::new();
        s.write_all(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let r = read_resp(&mut s, &mut buf, false).expect("no response");
        assert_eq!(r.status, 404, "{kind}");
        s.write_all(b"DELETE /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let r = read_resp(&mut s, &mut buf, false).expect("no response");
        assert_eq!(r.status, 405, "{kind}");
        assert_eq!(r.field("allow"), Some("GET"), "{kind}");
        s.write_all(b"PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            .unwrap();
        let r = read_resp(&mut s, &mut buf, false).expect("no response");
        assert_eq!(r.status, 405, "{kind}");
        assert_eq!(r.field("allow"), Some("POST"), "{kind}");
        // Still the same connection.
        s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let r = read_resp(&mut s, &mut buf, false).expect("no response");
        assert_eq!(r.status, 200, "{kind}");
    });
}

/// The default limit of 200 header fields, at its boundary: 200 (Host
/// included) are served, 201 are refused with 431 and a close.
#[test]
fn two_hundred_fields_are_served_and_two_hundred_and_one_refused() {
    let request = |fields: usize| {
        let mut r = String::from("GET /plaintext HTTP/1.1\r\nHost: x\r\n");
        for i in 1..fields {
            r.push_str(&format!("X-F{i}: v\r\n"));
        }
        r.push_str("\r\n");
        r.into_bytes()
    };
    each_backend(Default::default(), |kind, addr| {
        let mut s = connect(addr);
        s.write_all(&request(200)).unwrap();
        let r = read_resp(&mut s, &mut Vec::new(), false).expect("no response");
        assert_eq!(r.status, 200, "{kind}: 200 fields");
        refused(addr, &request(201), 431, &format!("{kind}: 201 fields"));
    });
}

/// RFC 9112 §7.1.1 and §7.1.2: chunk extensions are ignored and a trailer
/// section is read and handed to the handler with the body (the chunks'
/// data); the connection stays usable for the next request.
#[test]
fn chunk_extensions_and_trailers_reach_the_handler() {
    each_backend(Default::default(), |kind, addr| {
        let mut s = connect(addr);
        s.write_all(
            b"POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
              5;name=value\r\nhello\r\n\
              6 ; quoted=\"a;b\" ; flag\r\n world\r\n\
              0\r\nX-Checksum: 1234\r\nX-Other: 5\r\n\r\n\
              POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
              2\r\nno\r\n0\r\n\r\n\
              POST /trailers HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nlength\
              GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
        let mut buf = Vec::new();
        for want in [
            &b"hello world|X-Checksum=1234;X-Other=5;"[..],
            b"no|",
            b"length|",
            b"Hello, World!",
        ] {
            let r = read_resp(&mut s, &mut buf, false).expect("no response");
            assert_eq!(
                (r.status, String::from_utf8_lossy(&r.body)),
                (200, String::from_utf8_lossy(want)),
                "{kind}"
            );
        }
    });
}

/// A chunked body whose chunks add up to more than `max_body` is refused
/// with 413 when the chunk that crosses the limit is announced, and the
/// connection is closed.
#[test]
fn chunked_body_over_the_limit_is_413() {
    let h1 = proto_http::h1::Config {
        limits: proto_http::h1::Limits {
            max_body: 1000,
            ..Default::default()
        },
        ..Default::default()
    };
    each_backend(h1, |kind, addr| {
        let mut raw =
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..3 {
            raw.extend_from_slice(b"190\r\n");
            raw.extend_from_slice(&[b'x'; 400]);
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"0\r\n\r\n");
        refused(addr, &raw, 413, &format!("{kind}: 1200 chunked bytes"));
    });
}

/// The `Date` field (RFC 9110 §6.6.1) is the current time in IMF-fixdate,
/// and a keep-alive connection's later response carries a later one: the
/// worker's cached value is refreshed when the second changes.
#[test]
fn date_is_current_and_refreshed_across_seconds() {
    fn unix_now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }
    /// The second in `[from, to]` whose IMF-fixdate is `date`.
    fn second_of(date: &str, from: u64, to: u64) -> Option<u64> {
        (from..=to).find(|&s| proto_http::h1::HttpDate::from_unix(s).as_bytes() == date.as_bytes())
    }
    each_backend(Default::default(), |kind, addr| {
        let mut s = connect(addr);
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        for _ in 0..2 {
            // The coarse clock may lag the precise one by a tick.
            let before = unix_now() - 1;
            s.write_all(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let r = read_resp(&mut s, &mut buf, false).expect("no response");
            let date = r.field("date").expect("no Date").to_string();
            let sec = second_of(&date, before, unix_now());
            assert!(
                sec.is_some(),
                "{kind}: Date {date:?} is not the current time"
            );
            seen.push(sec);
            std::thread::sleep(Duration::from_millis(1100));
        }
        assert!(seen[1] > seen[0], "{kind}: Date not refreshed: {seen:?}");
    });
}

/// `max_connections_per_worker`: a connection over the limit is closed
/// unanswered while the ones within it are served; once one closes, a new
/// connection is served again.
#[test]
fn connections_over_the_per_worker_limit_are_closed() {
    for kind in BackendKind::enabled() {
        let server = Server::bind("127.0.0.1:0".parse().unwrap())
            .workers(1)
            .max_connections_per_worker(1)
            .backend(kind)
            .serve(router())
            .unwrap();
        let addr = server.local_addr();
        let get = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut first = connect(addr);
        first.write_all(get).unwrap();
        assert_eq!(
            read_resp(&mut first, &mut Vec::new(), false).map(|r| r.status),
            Some(200)
        );
        let mut second = connect(addr);
        let _ = second.write_all(get);
        expect_closed(&mut second, &[], &format!("{kind}: over the limit"));
        // The first is still served.
        first.write_all(get).unwrap();
        assert_eq!(
            read_resp(&mut first, &mut Vec::new(), false).map(|r| r.status),
            Some(200),
            "{kind}"
        );
        drop(first);
        // Its slot comes back once the server has seen it close: a few
        // tries, each closed at once while the slot is still taken.
        let served = (0..50).any(|_| {
            let mut s = connect(addr);
            let _ = s.write_all(get);
            match read_resp(&mut s, &mut Vec::new(), false) {
                Some(r) => r.status == 200,
                None => {
                    std::thread::sleep(Duration::from_millis(20));
                    false
                }
            }
        });
        assert!(served, "{kind}: the slot never came back");
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}

/// Graceful shutdown with a request in flight: the handler finishes, its
/// response arrives whole and says `Connection: close`, the connection is
/// closed, and the listener no longer accepts.
#[test]
fn shutdown_lets_an_in_flight_request_finish() {
    for kind in BackendKind::enabled() {
        let (entered_tx, entered_rx) = mpsc::channel::<()>();
        let entered_tx = Arc::new(Mutex::new(entered_tx));
        // The handler finishes only once the shutdown has begun.
        let router = router().get("/slow", move |_r: Request| {
            let _ = entered_tx.lock().unwrap().send(());
            async {
                let Some(stop) = weft::rt::shutdown_signal() else {
                    return "no shutdown signal on this worker";
                };
                stop.wait().await;
                "finished"
            }
        });
        let server = start_with(kind, Default::default(), router);
        let addr = server.local_addr();
        let mut s = connect(addr);
        s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        entered_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("handler not called");
        let stopper = std::thread::spawn(move || server.shutdown(Duration::from_secs(10)));
        let mut buf = Vec::new();
        let r = read_resp(&mut s, &mut buf, false).expect("no response");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"finished"[..]),
            "{kind}"
        );
        assert_eq!(r.field("connection"), Some("close"), "{kind}");
        expect_closed(&mut s, &buf, &format!("{kind}: after shutdown"));
        stopper.join().unwrap().unwrap();
        assert!(TcpStream::connect(addr).is_err(), "{kind}: still accepting");
    }
}

/// Graceful shutdown while a request body is still arriving: the request
/// is in flight, so the connection waits for the rest of the body (within
/// the grace period), answers it with `Connection: close`, then closes.
#[test]
fn shutdown_lets_a_request_whose_body_is_arriving_finish() {
    for kind in BackendKind::enabled() {
        let server = start_with(kind, Default::default(), router());
        let addr = server.local_addr();
        let mut s = connect(addr);
        // The 100 shows the server has the head: the request is in flight.
        s.write_all(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n",
        )
        .unwrap();
        let mut buf = Vec::new();
        let r = read_resp(&mut s, &mut buf, true).expect("no 100");
        assert_eq!(r.status, 100, "{kind}");
        s.write_all(b"01234").unwrap();
        let stopper = std::thread::spawn(move || server.shutdown(Duration::from_secs(10)));
        // Shutdown has begun once no listener accepts any more.
        let mut tries = 0;
        while TcpStream::connect(addr).is_ok() {
            tries += 1;
            assert!(tries < 1000, "{kind}: still accepting");
            std::thread::sleep(Duration::from_millis(10));
        }
        s.write_all(b"56789").unwrap();
        let r = read_resp(&mut s, &mut buf, false).expect("no response");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (200, &b"0123456789"[..]),
            "{kind}"
        );
        assert_eq!(r.field("connection"), Some("close"), "{kind}");
        expect_closed(&mut s, &buf, &format!("{kind}: after shutdown"));
        stopper.join().unwrap().unwrap();
    }
}

/// A client that sends its pipelined requests and then half-closes (as
/// `nc -N` does) gets every response, then the close.
#[test]
fn pipelined_requests_then_half_close_are_all_answered() {
    each_backend(Default::default(), |kind, addr| {
        let mut s = connect(addr);
        s.write_all(
            b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\
              GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut buf = Vec::new();
        for want in [&b"Hello, World!"[..], b"abc", b"Hello, World!"] {
            let r = read_resp(&mut s, &mut buf, false).expect("no response");
            assert_eq!((r.status, r.body.as_slice()), (200, want), "{kind}");
        }
        expect_closed(&mut s, &buf, &format!("{kind}: after the half-close"));
    });
}

/// The responses the connection writes itself (a 400 for a bad head, a
/// 408 at a timeout) carry the current `Date` too, not the one of the
/// connection's last response or of its accept.
#[test]
fn error_responses_carry_the_current_date() {
    let h1 = proto_http::h1::Config {
        header_timeout: Some(Duration::from_millis(1500)),
        ..Default::default()
    };
    each_backend(h1, |kind, addr| {
        let cases = [
            (
                "400",
                &b"GET /plaintext HTTP/1.1\r\nBad Name: v\r\n\r\n"[..],
            ),
            ("408", b"GET /plaintext HTTP/1.1\r\n"),
        ];
        let mut conns: Vec<TcpStream> = cases.iter().map(|_| connect(addr)).collect();
        // Over a second after the accepts: their Date is at least a second
        // older than `before`, which allows 50 ms for the server's coarse
        // clock (a tick behind at most).
        std::thread::sleep(Duration::from_millis(1100));
        let before = (SystemTime::now() - Duration::from_millis(50))
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        for ((_, raw), s) in cases.iter().zip(&mut conns) {
            s.write_all(raw).unwrap();
        }
        for ((what, _), s) in cases.iter().zip(&mut conns) {
            let r = read_resp(s, &mut Vec::new(), false).expect("no response");
            assert_eq!(r.status.to_string(), *what, "{kind}");
            let date = r.field("date").expect("no Date").to_string();
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs();
            assert!(
                (before..=now)
                    .any(|t| proto_http::h1::HttpDate::from_unix(t).as_bytes() == date.as_bytes()),
                "{kind} {what}: Date {date:?} is not the current time"
            );
        }
    });
}

/// A client that stops reading a large response holds its connection only
/// for `send_stall_timeout` (the server closes it; the bytes already in
/// the socket buffers are all it gets), while one that reads slowly but
/// steadily gets the whole response however long it takes, and other
/// connections are served throughout.
#[test]
fn a_client_that_stops_reading_is_closed_after_the_send_stall_timeout() {
    const SIZE: usize = 16 << 20;
    let h1 = proto_http::h1::Config {
        send_stall_timeout: Some(Duration::from_millis(300)),
        limits: proto_http::h1::Limits {
            max_body: SIZE as u64,
            ..Default::default()
        },
        ..Default::default()
    };
    let body = vec![b'e'; SIZE];
    let request = |s: &mut TcpStream| {
        let head = format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {SIZE}\r\n\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).unwrap();
    };
    each_backend(h1, |kind, addr| {
        // Stops reading: after the timeout the server has given up, so
        // reading now ends (end of stream or reset) short of the response.
        let mut s = connect(addr);
        request(&mut s);
        std::thread::sleep(Duration::from_millis(1500));
        still_serving(addr, &format!("{kind}: while a client stalls"));
        let mut got = 0usize;
        let mut chunk = vec![0u8; 4 << 20];
        let end = loop {
            match s.read(&mut chunk) {
                Ok(0) => break None,
                Ok(n) => got += n,
                Err(e) => break Some(e.kind()),
            }
        };
        assert!(
            got < SIZE,
            "{kind}: the stalled client still got the whole response ({got} bytes, then {end:?})"
        );
        assert!(
            !matches!(
                end,
                Some(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
            ),
            "{kind}: the connection stayed open after {got} bytes"
        );

        // Pauses 100 ms after every 4 MiB it reads: more than the timeout
        // in all, each pause well below it.
        let mut s = connect(addr);
        request(&mut s);
        let mut buf = Vec::with_capacity(SIZE + 256);
        while buf.len() < SIZE + 64 {
            std::thread::sleep(Duration::from_millis(100));
            let mut want = 4 << 20;
            while want > 0 && buf.len() < SIZE + 64 {
                match s.read(&mut chunk[..want]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        buf.extend_from_slice(&chunk[..n]);
                        want -= n;
                    }
                }
            }
            if want > 0 {
                break;
            }
        }
        let r = read_resp(&mut s, &mut buf, false).expect("slow reader: no response");
        assert_eq!(r.status, 200, "{kind}: slow reader");
        assert!(
            r.body.len() == SIZE,
            "{kind}: slow reader got {} bytes",
            r.body.len()
        );
    });
}
