//! Middleware as plain composition: each is a function from [`Handler`] to
//! [`Handler`], applied to every route with [`Router::layer`](super::Router::layer).
//!
//! ```
//! use std::time::Duration;
//! use weft::http::{middleware, Request, Router};
//!
//! let router = Router::new()
//!     .get("/", |_req: Request| async { "hi" })
//!     .layer(middleware::timeout(Duration::from_secs(5)))
//!     .layer(middleware::request_id())
//!     .layer(middleware::access_log())
//!     .layer(middleware::cors("*"))
//!     .layer(middleware::compress());
//! # let _ = router;
//! ```

use super::future_pool::HandlerFuture;
use super::request::Request;
use super::response::Response;
use super::router::Handler;
use proto_http::{Method, StatusCode};
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A middleware: wraps a handler in another.
pub type Layer = Arc<dyn Fn(Handler) -> Handler + Send + Sync>;

/// Answers `503 Service Unavailable` when the handler takes longer than
/// `limit`; the handler's future is dropped (its driver calls cancelled).
pub fn timeout(limit: Duration) -> Layer {
    Arc::new(move |inner: Handler| -> Handler {
        Arc::new(move |req: Request| {
            let inner = inner.clone();
            HandlerFuture::new(async move {
                match io_core::time::timeout(limit, inner(req)).await {
                    Ok(resp) => resp,
                    Err(_) => Response::status(StatusCode::SERVICE_UNAVAILABLE)
                        .content_type("text/plain; charset=utf-8")
                        .body("Request Timeout"),
                }
            })
        })
    })
}

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

/// Adds an `x-request-id` header: the request's own when it sent one, else
/// `<worker>-<counter>` (unique per process run, no coordination between
/// workers).
pub fn request_id() -> Layer {
    Arc::new(move |inner: Handler| -> Handler {
        Arc::new(move |req: Request| {
            let inner = inner.clone();
            let id: Vec<u8> = match req.header("x-request-id") {
                Some(v) if !v.is_empty() && v.len() <= 200 => v.to_vec(),
                _ => {
                    let n = NEXT_ID.with(|c| {
                        c.set(c.get() + 1);
                        c.get()
                    });
                    let w = io_core::runtime::worker_index().unwrap_or(0);
                    format!("{w}-{n}").into_bytes()
                }
            };
            HandlerFuture::new(async move { inner(req).await.header("x-request-id", id) })
        })
    })
}

/// Logs one `tracing` event per request at INFO: method, path, status,
/// duration, under the `weft::access` target.
pub fn access_log() -> Layer {
    Arc::new(move |inner: Handler| -> Handler {
        Arc::new(move |req: Request| {
            let inner = inner.clone();
            let method = req.method_str().to_owned();
            let path = req.path().to_owned();
            let start = Instant::now();
            HandlerFuture::new(async move {
                let resp = inner(req).await;
                tracing::info!(
                    target: "weft::access",
                    %method,
                    %path,
                    status = resp.status_code().as_u16(),
                    micros = start.elapsed().as_micros() as u64,
                );
                resp
            })
        })
    })
}

/// CORS for simple and preflight requests (Fetch standard, CORS protocol):
/// `Access-Control-Allow-Origin: <allow_origin>` on every response, and a
/// `204` answer to `OPTIONS` preflights with the allowed methods and the
/// requested headers.
///
/// Preflights only reach this layer for paths that have an `OPTIONS` route or
/// when it wraps a router's fallback; add `.route(Method::Options, path, ..)`
/// where browsers need preflights.
pub fn cors(allow_origin: &'static str) -> Layer {
    Arc::new(move |inner: Handler| -> Handler {
        Arc::new(move |req: Request| {
            let inner = inner.clone();
            let preflight = req.method() == Method::Options
                && req.header("access-control-request-method").is_some();
            let req_headers = req
                .header("access-control-request-headers")
                .map(<[u8]>::to_vec);
            HandlerFuture::new(async move {
                if preflight {
                    let mut resp = Response::status(StatusCode::NO_CONTENT)
                        .header("access-control-allow-origin", allow_origin.as_bytes())
                        .header(
                            "access-control-allow-methods",
                            &b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"[..],
                        )
                        .header("access-control-max-age", &b"600"[..]);
                    if let Some(h) = req_headers {
                        resp = resp.header("access-control-allow-headers", h);
                    }
                    return resp;
                }
                inner(req)
                    .await
                    .header("access-control-allow-origin", allow_origin.as_bytes())
            })
        })
    })
}

/// Bodies smaller than this are sent as they are: the gzip framing (20
/// bytes) and the cost would eat the gain.
const COMPRESS_MIN: usize = 256;

/// Compresses response bodies with gzip (RFC 9110 §8.4.1.3, encoder in
/// [`proto_http::gzip`]) for clients whose `Accept-Encoding` takes it
/// (§12.5.3): text, JSON, JavaScript, XML and SVG bodies of 256 bytes or
/// more, held whole (a streamed body passes as it is), without a
/// `Content-Encoding` of their own, and only when the result is smaller.
/// Such responses get `Vary: accept-encoding` whether compressed or not,
/// so caches keep the two apart.
pub fn compress() -> Layer {
    Arc::new(move |inner: Handler| -> Handler {
        Arc::new(move |req: Request| {
            let inner = inner.clone();
            let gzip = accepts_gzip(req.header("accept-encoding"));
            HandlerFuture::new(async move { compress_response(inner(req).await, gzip) })
        })
    })
}

/// `resp`, gzip-coded when it qualifies and the client takes it.
fn compress_response(resp: Response, gzip: bool) -> Response {
    let body = resp.body_bytes();
    let content_type = resp
        .content_type_value()
        .map(str::as_bytes)
        .or_else(|| resp.header_value("content-type"));
    if resp.is_streamed()
        || body.len() < COMPRESS_MIN
        || resp.header_value("content-encoding").is_some()
        || !content_type.is_some_and(compressible)
    {
        return resp;
    }
    let resp = resp.header("vary", &b"accept-encoding"[..]);
    if !gzip {
        return resp;
    }
    let coded = proto_http::gzip::encode(resp.body_bytes());
    if coded.len() >= resp.body_bytes().len() {
        return resp;
    }
    resp.header("content-encoding", &b"gzip"[..]).body(coded)
}

/// Media types worth compressing: text and the structured-text formats.
fn compressible(content_type: &[u8]) -> bool {
    let essence = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii()
        .to_ascii_lowercase();
    essence.starts_with(b"text/")
        || essence.ends_with(b"+json")
        || essence.ends_with(b"+xml")
        || matches!(
            &essence[..],
            b"application/json" | b"application/javascript" | b"application/xml" | b"image/svg+xml"
        )
}

/// Whether an `Accept-Encoding` value takes gzip (RFC 9110 §12.5.3): a
/// `gzip` (or `x-gzip`) entry with a weight above 0, or else `*` with one.
fn accepts_gzip(value: Option<&[u8]>) -> bool {
    let Some(value) = value.and_then(|v| std::str::from_utf8(v).ok()) else {
        return false;
    };
    let (mut gzip, mut any) = (None, None);
    for item in value.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let weight = parts
            .find_map(|p| {
                let p = p.trim();
                p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))
            })
            .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(weight > 0.0);
        } else if coding == "*" {
            any = Some(weight > 0.0);
        }
    }
    gzip.or(any).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_weights() {
        let takes = |v: &str| accepts_gzip(Some(v.as_bytes()));
        assert!(takes("gzip"));
        assert!(takes("deflate, gzip;q=0.5, br"));
        assert!(takes("GZIP"));
        assert!(takes("*"));
        assert!(!takes("gzip;q=0"));
        assert!(!takes("gzip; q=0.000, *"));
        assert!(!takes("br, deflate"));
        assert!(!takes("*;q=0"));
        assert!(!takes(""));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn compressible_types() {
        for t in [
            "text/html; charset=utf-8",
            "application/json",
            "application/problem+json",
            "image/svg+xml",
        ] {
            assert!(compressible(t.as_bytes()), "{t}");
        }
        for t in ["image/png", "application/octet-stream", "video/mp4"] {
            assert!(!compressible(t.as_bytes()), "{t}");
        }
    }
}
