//! Weft: an HTTP server whose handlers talk to PostgreSQL, Redis and
//! memcached through drivers living on the server's own per-core event loops.
//!
//! Status: the runtime layer is here ([`rt`], [`net`], the backends behind
//! cargo features); the HTTP server and the drivers land with their issues.
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
