//! [`Server`]: binds, spreads connections over the workers, and serves a
//! [`Router`] on the backend of your choice, over HTTP/1.1 and HTTP/2 on
//! the same port (prior knowledge, or `Upgrade: h2c`).
//!
//! ```no_run
//! use weft::http::{Request, Router, Server};
//!
//! let router = Router::new().get("/plaintext", |_req: Request| async { "Hello, World!" });
//! let server = Server::bind("127.0.0.1:8080".parse().unwrap())
//!     .workers(2)
//!     .serve(router)
//!     .unwrap();
//! println!("listening on {}", server.local_addr());
//! server.shutdown(std::time::Duration::from_secs(5)).unwrap();
//! ```

use super::conn::serve_h1;
use super::router::Router;
use crate::rt::{Backend, BackendFn, BackendKind, ServeConfig, ServerHandle};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What every connection of a server shares.
pub(crate) struct App {
    pub(crate) router: Router,
    pub(crate) h1: proto_http::h1::Config,
    pub(crate) h2: proto_http::h2::Config,
    pub(crate) read_buffer: usize,
}

/// Builds and starts an HTTP server.
#[must_use = "call .serve(router) to start it"]
pub struct Server {
    config: ServeConfig,
    backend: BackendKind,
    h1: proto_http::h1::Config,
    h2: proto_http::h2::Config,
    read_buffer: usize,
}

impl Server {
    /// A server for `addr` with one worker per core, the default backend,
    /// and the protocol machine's default limits and timeouts.
    pub fn bind(addr: SocketAddr) -> Self {
        Server {
            config: ServeConfig::new(addr),
            backend: default_kind(),
            h1: proto_http::h1::Config::default(),
            h2: proto_http::h2::Config::default(),
            read_buffer: 4096,
        }
    }

    /// Sets the number of workers.
    pub fn workers(mut self, n: usize) -> Self {
        self.config = self.config.workers(n);
        self
    }

    /// Sets the most connections one worker holds.
    pub fn max_connections_per_worker(mut self, n: usize) -> Self {
        self.config = self.config.max_connections_per_worker(n);
        self
    }

    /// Picks the backend at run time (default: [`crate::rt::DefaultBackend`]).
    pub fn backend(mut self, kind: BackendKind) -> Self {
        self.backend = kind;
        self
    }

    /// HTTP/1.1 limits, timeouts and pipelining depth.
    pub fn h1_config(mut self, config: proto_http::h1::Config) -> Self {
        self.h1 = config;
        self
    }

    /// HTTP/2 limits, windows and timeouts (prior knowledge and h2c).
    pub fn h2_config(mut self, config: proto_http::h2::Config) -> Self {
        self.h2 = config;
        self
    }

    /// Starts serving `router`; returns once every worker listens.
    pub fn serve(self, router: Router) -> io::Result<RunningServer> {
        let app = Arc::new(App {
            router,
            h1: self.h1,
            h2: self.h2,
            read_buffer: self.read_buffer,
        });
        let backend = self.backend;
        let handle = backend.dispatch(Start {
            config: self.config,
            app,
        })?;
        Ok(RunningServer { handle, backend })
    }
}

fn default_kind() -> BackendKind {
    BackendKind::enabled()[0]
}

struct Start {
    config: ServeConfig,
    app: Arc<App>,
}

impl BackendFn for Start {
    type Output = io::Result<ServerHandle>;

    fn call<B: Backend>(self) -> Self::Output {
        let app = self.app;
        B::serve(self.config, move |stream, _peer| {
            serve_h1(stream, app.clone())
        })
    }
}

/// A server that is running.
#[derive(Debug)]
pub struct RunningServer {
    handle: ServerHandle,
    backend: BackendKind,
}

impl RunningServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// The backend it runs on.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// Stops accepting, lets in-flight requests finish within `grace`, closes
    /// idle keep-alive connections (HTTP/2 ones with a graceful GOAWAY), and
    /// joins the workers.
    pub fn shutdown(self, grace: Duration) -> io::Result<()> {
        self.handle.shutdown(grace)
    }

    /// The runtime handle (to trigger shutdown from another thread).
    pub fn handle(&self) -> &ServerHandle {
        &self.handle
    }

    /// Waits for the workers after a shutdown triggered elsewhere.
    pub fn join(self) -> io::Result<()> {
        self.handle.join()
    }
}
