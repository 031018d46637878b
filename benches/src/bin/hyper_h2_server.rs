//! A minimal hyper 1.x server speaking HTTP/2 by prior knowledge and
//! HTTP/1.1 on one port, with the demo's simple routes, so the
//! `conformance` suites can be run against a second, independent
//! implementation.
//!
//! ```text
//! cargo run -p weft-benches --features peers --bin hyper_h2_server -- [--addr 127.0.0.1:8081] [--workers N]
//! cargo run -p conformance -- h2 --addr 127.0.0.1:8081
//! ```
//!
//! Routes: `GET /` and `GET /plaintext` (`Hello, World!`), `GET /json`
//! (`{"message":"Hello, World!"}`), `POST /echo` (the request content,
//! read whole, sent back); anything else 404. A connection whose first 24
//! octets are the HTTP/2 client preface (RFC 9113 §3.4) is served by
//! `hyper::server::conn::http2` with its default settings, any other by
//! `hyper::server::conn::http1` (hyper has no `Upgrade: h2c` support, so
//! the upgrade is answered as plain HTTP/1.1).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Spawns hyper's HTTP/2 stream tasks on tokio.
#[derive(Clone, Copy)]
struct Exec;

impl<F> hyper::rt::Executor<F> for Exec
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        tokio::spawn(fut);
    }
}

fn text(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    const HELLO: &[u8] = b"Hello, World!";
    let r = match (req.method(), req.uri().path()) {
        (&Method::GET, "/" | "/plaintext") => text(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            Bytes::from_static(HELLO),
        ),
        (&Method::GET, "/json") => text(
            StatusCode::OK,
            "application/json",
            Bytes::from_static(b"{\"message\":\"Hello, World!\"}"),
        ),
        (&Method::POST, "/echo") => match req.into_body().collect().await {
            Ok(body) => text(StatusCode::OK, "application/octet-stream", body.to_bytes()),
            Err(e) => text(
                StatusCode::BAD_REQUEST,
                "text/plain; charset=utf-8",
                Bytes::from(e.to_string()),
            ),
        },
        _ => text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            Bytes::new(),
        ),
    };
    Ok(r)
}

/// A stream whose first octets were already read (to tell HTTP/2 from
/// HTTP/1.1); they are handed out again before the socket's.
struct Prefixed {
    prefix: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.at < self.prefix.len() {
            let n = (self.prefix.len() - self.at).min(buf.remaining());
            let at = self.at;
            buf.put_slice(&self.prefix[at..at + n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves one connection: HTTP/2 when it starts with the preface.
async fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut prefix = Vec::with_capacity(PREFACE.len());
    // Read until the octets so far stop matching the preface, or match it
    // whole.
    while prefix.len() < PREFACE.len() && PREFACE.starts_with(&prefix) {
        let mut tmp = [0u8; 24];
        let want = PREFACE.len() - prefix.len();
        match stream.read(&mut tmp[..want]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => prefix.extend_from_slice(&tmp[..n]),
        }
    }
    let h2 = prefix == PREFACE;
    let io = TokioIo::new(Prefixed {
        prefix,
        at: 0,
        stream,
    });
    let service = service_fn(handle);
    if h2 {
        let _ = http2::Builder::new(Exec)
            .serve_connection(io, service)
            .await;
    } else {
        let _ = http1::Builder::new().serve_connection(io, service).await;
    }
}

fn main() {
    let mut addr: SocketAddr = "127.0.0.1:8081".parse().unwrap();
    let mut workers = 2usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--addr" => addr = v.parse().expect("--addr host:port"),
            "--workers" => workers = v.parse().expect("--workers N"),
            _ => {
                eprintln!("usage: hyper_h2_server [--addr 127.0.0.1:8081] [--workers N]");
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_io()
        .enable_time()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = TcpListener::bind(addr).await.expect("bind");
        println!(
            "hyper_h2_server listening on {}",
            listener.local_addr().unwrap()
        );
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve(stream));
                }
                Err(e) => eprintln!("accept: {e}"),
            }
        }
    });
}
