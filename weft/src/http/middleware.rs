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
//!     .layer(middleware::cors("*"));
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
