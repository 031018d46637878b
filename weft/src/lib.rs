//! Weft: an HTTP server whose handlers talk to PostgreSQL, Redis and
//! memcached through drivers living on the server's own per-core event loops.
//!
//! Each worker is one thread with one single-threaded executor. A
//! connection is accepted, parsed, handled and answered on one worker,
//! and the handler's database calls go out on connections registered on
//! that same worker: no lock, no thread hop between the HTTP request and
//! its query. The protocols themselves are the Sans-IO crates
//! (`proto-http`, `proto-pg`, `proto-resp`, `proto-memcache`); this crate
//! adds the I/O and the API.
//!
//! - [`http`]: [`Server`](http::Server), [`Router`](http::Router) with
//!   static and `:param` routes, [`Request`](http::Request),
//!   [`Response`](http::Response), middleware by composition. HTTP/1.1,
//!   HTTP/2 prior knowledge and the h2c upgrade on one port.
//! - [`pg`]: PostgreSQL (extended protocol, a statement cache per
//!   connection, streaming, transactions, COPY, LISTEN/NOTIFY,
//!   cancellation).
//! - [`redis`]: Redis, Redis Cluster and Sentinel (RESP3 with RESP2
//!   fallback, pipelines, transactions, scripts, scans, streams, pub/sub,
//!   client-side caching).
//! - [`memcache`]: memcached over the text, meta or binary protocol,
//!   several servers by consistent hashing.
//! - [`pool`]: the per-worker pools the three drivers are built on.
//! - [`rt`] and [`net`]: the runtime (spawn, timers, sockets, serving) for
//!   code that needs it directly.
//!
//! Driver clients are `Clone + Send + Sync` handles that connect lazily;
//! each worker gets its own sub-pool, and plain statements from all the
//! handlers of a worker pipeline on one shared connection.
//!
//! ```
//! use weft::http::{Request, Response, Router, Server, StatusCode};
//!
//! // Nothing connects until a handler makes a call.
//! let db = weft::pg::Client::connect("postgres://weft@127.0.0.1:54329/weft").unwrap();
//! let router = Router::new()
//!     .get("/plaintext", |_req: Request| async { "Hello, World!" })
//!     .get("/users/:id", move |req: Request| {
//!         let db = db.clone();
//!         async move {
//!             let id: i32 = req.param("id").and_then(|s| s.parse().ok()).unwrap_or(0);
//!             match db.query_opt("SELECT name FROM users WHERE id = $1", &[&id]).await {
//!                 Ok(Some(row)) => Response::text(row.get::<String>(0).unwrap_or_default()),
//!                 Ok(None) => Response::status(StatusCode::NOT_FOUND),
//!                 Err(e) => Response::status(StatusCode::SERVICE_UNAVAILABLE).body(e.to_string()),
//!             }
//!         }
//!     });
//! let server = Server::bind("127.0.0.1:0".parse().unwrap())
//!     .workers(2)
//!     .serve(router)
//!     .unwrap();
//! server.shutdown(std::time::Duration::from_secs(1)).unwrap();
//! ```
//!
//! Backends are cargo features: `epoll` (the default choice), `uring`
//! (io_uring, falling back to epoll when the kernel refuses it) and `std`
//! (blocking sockets, a thread per connection). [`rt::DefaultBackend`] is the
//! first enabled of epoll, uring, std; [`rt::BackendKind`] picks one at run
//! time (benchmarks, `--backend`).

mod clock;
pub mod http;
pub mod memcache;
pub mod net;
pub mod pg;
pub mod pool;
pub mod redis;
pub mod rt;
