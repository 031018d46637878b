//! `proto_http::h1::client::ClientConnection` over a real socket against
//! the weft server, on every compiled-in backend: the client side's own
//! tests otherwise only pair it with the server machine in memory.
//! Pipelined requests of every body kind (none, full, streamed with a
//! length, streamed chunked), responses matched in order, HEAD, 404,
//! `Expect: 100-continue` (the interim response reported as such), and
//! `Connection: close` ending the client connection.

use bytes::{Bytes, BytesMut};
use proto_http::h1::client::{ClientConnection, ClientEvent, Request as ClientRequest};
use proto_http::h1::{Body, Limits, RequestId};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use weft::http::{Request, Response, Router, Server};
use weft::rt::BackendKind;

fn router() -> Router {
    Router::new()
        .get("/plaintext", |_r: Request| async { "Hello, World!" })
        .post("/echo", |r: Request| async move {
            Response::text(r.into_body())
        })
        .get("/users/:id", |r: Request| async move {
            Response::text(format!("user {}", r.param("id").unwrap_or("?")))
        })
}

/// A finished exchange as the client saw it.
#[derive(Debug, PartialEq)]
struct Got {
    id: RequestId,
    interim: Vec<u16>,
    status: u16,
    content_length: Option<String>,
    body: Vec<u8>,
}

/// A `ClientConnection` driven over a blocking socket.
struct Client {
    conn: ClientConnection,
    sock: TcpStream,
    rbuf: BytesMut,
    done: Vec<Got>,
    current: Option<Got>,
    interim: Vec<u16>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Client {
        let sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client {
            conn: ClientConnection::new(Limits::default()),
            sock,
            rbuf: BytesMut::new(),
            done: Vec::new(),
            current: None,
            interim: Vec::new(),
        }
    }

    /// Writes what the connection has encoded.
    fn flush(&mut self) {
        let mut out = BytesMut::new();
        if self.conn.poll_transmit(&mut out) > 0 {
            self.sock.write_all(&out).unwrap();
        }
    }

    /// Reads until every request in flight is answered (or the connection
    /// ends); returns the finished exchanges in order.
    fn finish(&mut self) -> Vec<Got> {
        self.flush();
        let mut chunk = [0u8; 8192];
        while self.conn.in_flight() > 0 && !self.conn.is_closed() {
            match self.sock.read(&mut chunk) {
                Ok(0) => self.conn.handle_eof(Instant::now()),
                Ok(n) => {
                    self.rbuf.extend_from_slice(&chunk[..n]);
                    self.conn.handle_input(Instant::now(), &mut self.rbuf);
                }
                Err(e) => panic!("read: {e}"),
            }
            self.drain();
        }
        self.drain();
        std::mem::take(&mut self.done)
    }

    fn drain(&mut self) {
        while let Some(e) = self.conn.poll_event() {
            match e {
                ClientEvent::Informational { head, .. } => {
                    self.interim.push(head.status().as_u16())
                }
                ClientEvent::Response { id, head } => {
                    let cl = head
                        .headers()
                        .get("content-length")
                        .map(|v| String::from_utf8_lossy(v).into_owned());
                    self.current = Some(Got {
                        id,
                        interim: std::mem::take(&mut self.interim),
                        status: head.status().as_u16(),
                        content_length: cl,
                        body: Vec::new(),
                    });
                }
                ClientEvent::Body { id, chunk } => {
                    let cur = self.current.as_mut().expect("body before head");
                    assert_eq!(cur.id, id);
                    cur.body.extend_from_slice(&chunk);
                }
                ClientEvent::BodyEnd { id, .. } => {
                    let cur = self.current.take().expect("end before head");
                    assert_eq!(cur.id, id);
                    self.done.push(cur);
                }
                ClientEvent::Error(e) => panic!("client error: {e}"),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

const HOST: [(&str, &[u8]); 1] = [("host", b"localhost")];

fn get(id: RequestId, status: u16, body: &[u8]) -> Got {
    Got {
        id,
        interim: Vec::new(),
        status,
        content_length: Some(body.len().to_string()),
        body: body.to_vec(),
    }
}

#[test]
fn pipelined_requests_of_every_body_kind() {
    for kind in BackendKind::enabled() {
        let server = Server::bind("127.0.0.1:0".parse().unwrap())
            .workers(2)
            .backend(kind)
            .serve(router())
            .unwrap();
        let mut c = Client::connect(server.local_addr());
        let a = c
            .conn
            .send_request(ClientRequest::new("GET", "/users/7", &HOST), Body::Empty)
            .unwrap();
        let b = c
            .conn
            .send_request(
                ClientRequest::new("POST", "/echo", &HOST),
                Body::Full(Bytes::from_static(b"full body")),
            )
            .unwrap();
        let s = c
            .conn
            .send_request(
                ClientRequest::new("POST", "/echo", &HOST),
                Body::Stream { length: Some(10) },
            )
            .unwrap();
        c.conn
            .send_body_chunk(s, Bytes::from_static(b"01234"))
            .unwrap();
        c.flush();
        c.conn
            .send_body_chunk(s, Bytes::from_static(b"56789"))
            .unwrap();
        c.conn.send_end(s).unwrap();
        let ch = c
            .conn
            .send_request(
                ClientRequest::new("POST", "/echo", &HOST),
                Body::Stream { length: None },
            )
            .unwrap();
        for piece in ["chunk", "ed ", "upload"] {
            c.conn
                .send_body_chunk(ch, Bytes::from(piece.as_bytes().to_vec()))
                .unwrap();
            c.flush();
        }
        c.conn.send_end(ch).unwrap();
        let h = c
            .conn
            .send_request(ClientRequest::new("HEAD", "/plaintext", &HOST), Body::Empty)
            .unwrap();
        let n = c
            .conn
            .send_request(ClientRequest::new("GET", "/nope", &HOST), Body::Empty)
            .unwrap();
        let got = c.finish();
        let mut head = get(h, 200, b"Hello, World!");
        head.body.clear();
        assert_eq!(
            got,
            vec![
                get(a, 200, b"user 7"),
                get(b, 200, b"full body"),
                get(s, 200, b"0123456789"),
                get(ch, 200, b"chunked upload"),
                head,
                get(n, 404, b"Not Found"),
            ],
            "{kind}"
        );
        // The connection is reused for a second batch.
        let again = c
            .conn
            .send_request(ClientRequest::new("GET", "/plaintext", &HOST), Body::Empty)
            .unwrap();
        assert_eq!(
            c.finish(),
            vec![get(again, 200, b"Hello, World!")],
            "{kind}"
        );
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}

#[test]
fn expect_continue_and_connection_close() {
    for kind in BackendKind::enabled() {
        let server = Server::bind("127.0.0.1:0".parse().unwrap())
            .workers(1)
            .backend(kind)
            .serve(router())
            .unwrap();
        let mut c = Client::connect(server.local_addr());
        // RFC 9110 §10.1.1: the head goes out alone, the server answers
        // the expectation with an interim 100 (reported as such, not as
        // the response), and only then does the body follow.
        let fields: [(&str, &[u8]); 2] = [("host", b"localhost"), ("expect", b"100-continue")];
        let id = c
            .conn
            .send_request(
                ClientRequest::new("POST", "/echo", &fields),
                Body::Stream { length: Some(4) },
            )
            .unwrap();
        c.flush();
        let mut chunk = [0u8; 1024];
        while c.interim.is_empty() {
            let n = c.sock.read(&mut chunk).unwrap();
            assert!(n > 0, "{kind}: closed before 100");
            c.rbuf.extend_from_slice(&chunk[..n]);
            c.conn.handle_input(Instant::now(), &mut c.rbuf);
            c.drain();
        }
        c.conn
            .send_body_chunk(id, Bytes::from_static(b"ping"))
            .unwrap();
        c.conn.send_end(id).unwrap();
        let got = c.finish();
        assert_eq!(
            got,
            vec![Got {
                interim: vec![100],
                ..get(id, 200, b"ping")
            }],
            "{kind}"
        );
        // Connection: close: answered, then the client connection ends.
        let fields: [(&str, &[u8]); 2] = [("host", b"localhost"), ("connection", b"close")];
        let id = c
            .conn
            .send_request(
                ClientRequest::new("GET", "/plaintext", &fields),
                Body::Empty,
            )
            .unwrap();
        assert_eq!(c.finish(), vec![get(id, 200, b"Hello, World!")], "{kind}");
        assert!(c.conn.is_closed(), "{kind}: client connection still open");
        assert!(
            c.conn
                .send_request(ClientRequest::new("GET", "/plaintext", &HOST), Body::Empty)
                .is_err(),
            "{kind}: a request accepted after the close"
        );
        server.shutdown(Duration::from_secs(2)).unwrap();
    }
}
