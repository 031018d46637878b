//! The multi-worker runtime: `N` workers, each a thread with its own
//! executor, poller and listener (`SO_REUSEPORT`), and graceful shutdown.
//!
//! Shutdown: [`ServerHandle::shutdown`] sets a [`Latch`] every worker waits
//! on. Each worker stops accepting (drops its listener), lets its connection
//! tasks finish until the grace deadline, then drops what is left (closing
//! those sockets) and its thread ends; `shutdown` joins every thread.
//! Connection handlers see the request through [`shutdown_signal`] so they
//! can finish the request in hand and close (e.g. HTTP keep-alive).

use crate::backend::{AsyncListener, Backend};
use crate::executor::spawn;
use crate::select::{Either, select};
use crate::sync::Latch;
use crate::time::sleep_until;
use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How to serve.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServeConfig {
    /// Address to listen on (port 0 picks one; all workers share it).
    pub addr: SocketAddr,
    /// Worker threads (default: available cores).
    pub workers: usize,
    /// Listen backlog per listener.
    pub backlog: i32,
    /// Most connections one worker holds; more are accepted and closed at once.
    pub max_connections_per_worker: usize,
    /// Pin worker `i` to core `i % cores`.
    pub pin_cores: bool,
}

impl ServeConfig {
    /// Defaults for `addr`: one worker per core, backlog 1024, 64 Ki
    /// connections per worker, no pinning.
    pub fn new(addr: SocketAddr) -> Self {
        ServeConfig {
            addr,
            workers: available_cores(),
            backlog: 1024,
            max_connections_per_worker: 65_536,
            pin_cores: false,
        }
    }

    /// Sets the worker count (at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Sets the per-worker connection limit.
    pub fn max_connections_per_worker(mut self, n: usize) -> Self {
        self.max_connections_per_worker = n.max(1);
        self
    }

    /// Pins workers to cores.
    pub fn pin_cores(mut self, on: bool) -> Self {
        self.pin_cores = on;
        self
    }
}

/// The number of cores this process may run on.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Shared between the handle and the workers.
#[derive(Debug, Default)]
pub struct ShutdownState {
    latch: Latch,
    deadline: Mutex<Option<Instant>>,
}

impl ShutdownState {
    /// Requests shutdown with `grace` for in-flight work.
    pub fn trigger(&self, grace: Duration) {
        let mut d = self.deadline.lock().unwrap_or_else(|e| e.into_inner());
        if d.is_none() {
            *d = Some(Instant::now() + grace);
        }
        drop(d);
        self.latch.set();
    }

    /// The latch set when shutdown starts.
    pub fn latch(&self) -> &Latch {
        &self.latch
    }

    /// When in-flight work is cut off (set by [`ShutdownState::trigger`]).
    pub fn deadline(&self) -> Option<Instant> {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner())
    }
}

thread_local! {
    static WORKER_SHUTDOWN: RefCell<Option<Arc<ShutdownState>>> = const { RefCell::new(None) };
    static WORKER_INDEX: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The shutdown latch of the worker running this code (`None` outside a
/// served worker). Handlers await it to wind down gracefully.
pub fn shutdown_signal() -> Option<Latch> {
    WORKER_SHUTDOWN.with(|s| s.borrow().as_ref().map(|s| s.latch.clone()))
}

/// The index of the worker running this code (`None` outside a served worker).
pub fn worker_index() -> Option<usize> {
    WORKER_INDEX.with(Cell::get)
}

/// Installs the worker-local shutdown state and index for the current
/// thread. Backends that run connections on their own threads (io-std) call
/// it on each.
pub fn enter_worker(index: usize, shutdown: Arc<ShutdownState>) {
    WORKER_SHUTDOWN.with(|s| *s.borrow_mut() = Some(shutdown));
    WORKER_INDEX.with(|i| i.set(Some(index)));
}

/// A running server: its address, and the way to stop it.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    state: Arc<ShutdownState>,
    threads: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// Builds a handle (for backends implementing their own `serve`).
    pub fn new(
        local_addr: SocketAddr,
        state: Arc<ShutdownState>,
        threads: Vec<JoinHandle<()>>,
    ) -> Self {
        ServerHandle {
            local_addr,
            state,
            threads,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The shutdown state (to trigger from a signal handler thread, say).
    pub fn shutdown_state(&self) -> Arc<ShutdownState> {
        self.state.clone()
    }

    /// Stops accepting, gives in-flight connections `grace` to finish, then
    /// closes the rest and joins every worker thread.
    pub fn shutdown(self, grace: Duration) -> io::Result<()> {
        self.state.trigger(grace);
        self.join()
    }

    /// Waits for the workers to end (after a shutdown triggered elsewhere).
    pub fn join(mut self) -> io::Result<()> {
        let mut panicked = 0;
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                panicked += 1;
            }
        }
        if panicked > 0 {
            return Err(io::Error::other(format!(
                "{panicked} worker thread(s) panicked"
            )));
        }
        Ok(())
    }
}

/// Pins the calling thread to `core` (best effort).
pub fn pin_to_core(core: usize) {
    // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set, and
    // sched_setaffinity reads exactly size_of::<cpu_set_t>() bytes of it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core % libc::CPU_SETSIZE as usize, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Live connections of one worker, and a waker for "all done".
#[derive(Default)]
struct Live {
    count: Cell<usize>,
    idle_waker: RefCell<Option<Waker>>,
}

impl Live {
    fn leave(&self) {
        self.count.set(self.count.get() - 1);
        if self.count.get() == 0 {
            if let Some(w) = self.idle_waker.borrow_mut().take() {
                w.wake();
            }
        }
    }

    async fn drained(&self) {
        poll_fn(|cx| {
            if self.count.get() == 0 {
                Poll::Ready(())
            } else {
                *self.idle_waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Decrements the live count even when a connection task is dropped.
struct LiveGuard(Rc<Live>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// The accept loop a worker runs: accept until shutdown, one task per
/// connection, then drain until the grace deadline.
pub async fn run_worker<L, H, Fut>(
    listener: L,
    handler: Arc<H>,
    state: Arc<ShutdownState>,
    max_conns: usize,
) where
    L: AsyncListener,
    H: Fn(L::Stream, SocketAddr) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let live = Rc::new(Live::default());
    loop {
        match select(state.latch.wait(), listener.accept()).await {
            Either::Left(()) => break,
            Either::Right(Ok((stream, peer))) => {
                if live.count.get() >= max_conns {
                    drop(stream);
                    continue;
                }
                live.count.set(live.count.get() + 1);
                let guard = LiveGuard(live.clone());
                let handler = handler.clone();
                // The handler's future is created inside the task, not
                // captured by it: an `async` block that awaits a captured
                // future keeps room for it twice (the capture and the
                // awaited value), which doubled every connection task.
                spawn(async move {
                    let _guard = guard;
                    handler(stream, peer).await;
                });
            }
            Either::Right(Err(e)) => {
                tracing::warn!(error = %e, "accept failed");
                // Out of descriptors or memory: back off instead of spinning.
                crate::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    drop(listener);
    let deadline = state.deadline().unwrap_or_else(Instant::now);
    let _ = select(live.drained(), sleep_until(deadline)).await;
}

/// [`Backend::serve`] for backends with one event loop per worker thread.
pub fn serve_per_worker<B, H, Fut>(config: ServeConfig, handler: H) -> io::Result<ServerHandle>
where
    B: Backend,
    H: Fn(B::Stream, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let workers = config.workers.max(1);
    let first = crate::net::bind_std(config.addr, true, config.backlog)?;
    let local_addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..workers {
        listeners.push(crate::net::bind_std(local_addr, true, config.backlog)?);
    }
    let handler = Arc::new(handler);
    let state = Arc::new(ShutdownState::default());
    let mut threads = Vec::with_capacity(workers);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
    for (index, std_listener) in listeners.into_iter().enumerate() {
        let handler = handler.clone();
        let state = state.clone();
        let ready = ready_tx.clone();
        let pin = config.pin_cores;
        let max = config.max_connections_per_worker;
        let t = std::thread::Builder::new()
            .name(format!("weft-{}-{index}", B::NAME))
            .spawn(move || {
                if pin {
                    pin_to_core(index);
                }
                enter_worker(index, state.clone());
                B::block_on(async move {
                    let listener = match B::listener_from_std(std_listener) {
                        Ok(l) => {
                            let _ = ready.send(Ok(()));
                            l
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    run_worker(listener, handler, state, max).await;
                });
            })?;
        threads.push(t);
    }
    drop(ready_tx);
    let handle = ServerHandle::new(local_addr, state, threads);
    for _ in 0..workers {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = handle.shutdown(Duration::ZERO);
                return Err(e);
            }
            Err(_) => {
                let _ = handle.shutdown(Duration::ZERO);
                return Err(io::Error::other("a worker died while starting"));
            }
        }
    }
    Ok(handle)
}
