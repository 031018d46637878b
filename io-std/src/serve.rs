//! [`Std::serve`](crate::Std): a thread per connection.
//!
//! - `config.workers` acceptor threads, each with its own `SO_REUSEPORT`
//!   listener on the same port (the kernel spreads connections across them).
//!   An acceptor is a tiny runtime of its own: it waits for a connection or
//!   the shutdown latch, whichever comes first, in one `poll(2)`.
//! - Each accepted connection gets a thread (stack
//!   [`CONNECTION_STACK_SIZE`]) that calls [`enter_worker`] with its
//!   acceptor's index and runs the handler under
//!   [`Std::block_on`](io_core::Backend::block_on). The handler future is
//!   boxed, so its size does not count against the small stack.
//! - `config.max_connections_per_worker` bounds the live connections of one
//!   acceptor; more are accepted and closed at once.
//! - Shutdown: the latch wakes every acceptor, which drops its listener, waits
//!   (on a condition variable over its live count) for its connections until
//!   the grace deadline, then sets its `close` latch. Every connection thread
//!   runs its handler raced against that latch, so a straggler is cancelled
//!   wherever it waits (a read, a timer, a channel) and its socket closed
//!   when the handler future drops. The acceptor then joins every connection
//!   thread, and [`ServerHandle::join`] joins the acceptors, so a returned
//!   `shutdown` means no thread of the server is left.
//! - `config.pin_cores` is ignored: connection threads come and go, the
//!   kernel places them.

use crate::{TcpListener, TcpStream};
use io_core::runtime::{ServeConfig, ServerHandle, ShutdownState, enter_worker};
use io_core::select::{Either, select};
use io_core::sync::Latch;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Stack size of a connection thread. The handler future itself lives on
/// the heap; this covers the poll call chain.
pub const CONNECTION_STACK_SIZE: usize = 256 * 1024;

/// How long an acceptor backs off after a failed `accept` (out of
/// descriptors or memory) instead of spinning on it.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The connection threads of one acceptor.
#[derive(Default)]
struct Connections {
    state: Mutex<ConnState>,
    /// Signalled whenever a connection thread ends.
    ended: Condvar,
    /// Set at the grace deadline: every connection thread drops its handler.
    close: Latch,
}

#[derive(Default)]
struct ConnState {
    live: usize,
    next_id: u64,
    threads: HashMap<u64, JoinHandle<()>>,
    /// Ended threads whose handles are still to be joined.
    finished: Vec<u64>,
}

/// Marks a connection thread ended, also when its handler panicked.
struct EndGuard {
    conns: Arc<Connections>,
    id: u64,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        let mut s = self.conns.lock();
        s.live -= 1;
        s.finished.push(self.id);
        drop(s);
        self.conns.ended.notify_all();
    }
}

fn join_quietly(thread: JoinHandle<()>) {
    if thread.join().is_err() {
        tracing::warn!("a connection handler panicked");
    }
}

impl Connections {
    fn lock(&self) -> MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live(&self) -> usize {
        self.lock().live
    }

    /// Joins the threads that have ended since the last call.
    fn reap(&self) {
        let ended: Vec<JoinHandle<()>> = {
            let mut s = self.lock();
            let ids = std::mem::take(&mut s.finished);
            ids.iter().filter_map(|id| s.threads.remove(id)).collect()
        };
        ended.into_iter().for_each(join_quietly);
    }

    /// Starts the thread serving one connection.
    fn spawn<H, Fut>(
        self: &Arc<Self>,
        index: usize,
        shutdown: &Arc<ShutdownState>,
        handler: &Arc<H>,
        stream: std::net::TcpStream,
        peer: SocketAddr,
    ) -> io::Result<()>
    where
        H: Fn(TcpStream, SocketAddr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        // Held across the spawn so the new thread's `EndGuard` cannot run
        // before its handle is stored and counted.
        let mut s = self.lock();
        let id = s.next_id;
        let conns = self.clone();
        let shutdown = shutdown.clone();
        let handler = handler.clone();
        let thread = std::thread::Builder::new()
            .name(format!("weft-std-{index}-conn"))
            .stack_size(CONNECTION_STACK_SIZE)
            .spawn(move || {
                let _end = EndGuard {
                    conns: conns.clone(),
                    id,
                };
                enter_worker(index, shutdown);
                let close = conns.close.clone();
                let served = crate::try_block_on(Box::pin(async move {
                    let stream = TcpStream::from_std(stream)?;
                    let _ = select(handler(stream, peer), close.wait()).await;
                    io::Result::Ok(())
                }));
                if let Err(e) = served.and_then(|r| r) {
                    tracing::warn!(error = %e, %peer, "serving a connection failed");
                }
            })?;
        s.next_id += 1;
        s.live += 1;
        s.threads.insert(id, thread);
        Ok(())
    }

    /// Waits until no connection is live or `deadline` passed; returns
    /// whether every connection ended.
    fn wait_idle(&self, deadline: Option<Instant>) -> bool {
        let mut s = self.lock();
        loop {
            if s.live == 0 {
                return true;
            }
            s = match deadline {
                None => self.ended.wait(s).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    self.ended
                        .wait_timeout(s, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Joins every connection thread still held.
    fn join_all(&self) {
        let threads: Vec<JoinHandle<()>> = {
            let mut s = self.lock();
            s.finished.clear();
            s.threads.drain().map(|(_, t)| t).collect()
        };
        threads.into_iter().for_each(join_quietly);
    }
}

/// One acceptor thread: accept until shutdown, then drain its connections.
fn run_acceptor<H, Fut>(
    index: usize,
    listener: std::net::TcpListener,
    handler: Arc<H>,
    shutdown: Arc<ShutdownState>,
    max_connections: usize,
) where
    H: Fn(TcpStream, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let conns = Arc::new(Connections::default());
    let latch = shutdown.latch().clone();
    let accepted = crate::try_block_on(async {
        let listener = match TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, worker = index, "adopting the listener failed");
                return;
            }
        };
        loop {
            match select(latch.wait(), listener.accept_std()).await {
                Either::Left(()) => break,
                Either::Right(Ok((stream, peer))) => {
                    conns.reap();
                    if conns.live() >= max_connections {
                        tracing::debug!(%peer, worker = index, "connection limit reached");
                        drop(stream);
                        continue;
                    }
                    if let Err(e) = conns.spawn(index, &shutdown, &handler, stream, peer) {
                        tracing::warn!(error = %e, "starting a connection thread failed");
                    }
                }
                Either::Right(Err(e)) => {
                    tracing::warn!(error = %e, worker = index, "accept failed");
                    io_core::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
        // The listener drops here: the port stops taking connections.
    });
    if let Err(e) = accepted {
        tracing::error!(error = %e, worker = index, "starting the acceptor failed");
    }
    if !conns.wait_idle(shutdown.deadline()) {
        conns.close.set();
        conns.wait_idle(None);
    }
    conns.join_all();
}

/// [`Backend::serve`] for the std backend (see the module docs).
pub(crate) fn serve<H, Fut>(config: ServeConfig, handler: H) -> io::Result<ServerHandle>
where
    H: Fn(TcpStream, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let workers = config.workers.max(1);
    let max_connections = config.max_connections_per_worker.max(1);
    let first = io_core::net::bind_std(config.addr, true, config.backlog)?;
    let local_addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..workers {
        listeners.push(io_core::net::bind_std(local_addr, true, config.backlog)?);
    }
    let handler = Arc::new(handler);
    let shutdown = Arc::new(ShutdownState::default());
    let mut threads = Vec::with_capacity(workers);
    for (index, listener) in listeners.into_iter().enumerate() {
        let handler = handler.clone();
        let state = shutdown.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("weft-std-{index}"))
            .spawn(move || run_acceptor(index, listener, handler, state, max_connections));
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                let _ = ServerHandle::new(local_addr, shutdown, threads).shutdown(Duration::ZERO);
                return Err(e);
            }
        }
    }
    Ok(ServerHandle::new(local_addr, shutdown, threads))
}
