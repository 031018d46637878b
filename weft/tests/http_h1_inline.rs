//! A handler that awaits nothing completes on its first poll, on the
//! worker that owns the connection (no hand-off to another thread), on
//! every compiled-in backend. Each handler's future is wrapped in a
//! counter of its polls; a handler that awaits a timer is the control
//! (it must be polled again after its wake-up).

use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use weft::http::{Request, Router, Server};
use weft::rt::BackendKind;

/// What the server did with one handler's future.
#[derive(Default)]
struct Seen {
    polls: AtomicUsize,
    threads: Mutex<Vec<String>>,
}

/// `inner`, counting its polls and the thread of each into `seen`.
struct Counted<F> {
    inner: Pin<Box<F>>,
    seen: Arc<Seen>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.seen.polls.fetch_add(1, Ordering::SeqCst);
        let name = std::thread::current().name().unwrap_or("").to_string();
        self.seen.threads.lock().unwrap().push(name);
        self.inner.as_mut().poll(cx)
    }
}

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn a_handler_that_awaits_nothing_completes_on_its_first_poll() {
    for kind in BackendKind::enabled() {
        let ready = Arc::new(Seen::default());
        let sleeps = Arc::new(Seen::default());
        let (r, s) = (ready.clone(), sleeps.clone());
        let router = Router::new()
            .get("/ready", move |_req: Request| Counted {
                inner: Box::pin(async { "ready" }),
                seen: r.clone(),
            })
            .get("/sleeps", move |_req: Request| Counted {
                inner: Box::pin(async {
                    weft::rt::time::sleep(Duration::from_millis(20)).await;
                    "slept"
                }),
                seen: s.clone(),
            });
        let server = Server::bind("127.0.0.1:0".parse().unwrap())
            .workers(2)
            .backend(kind)
            .serve(router)
            .unwrap();
        let addr = server.local_addr();
        assert!(get(addr, "/ready").ends_with("\r\n\r\nready"), "{kind}");
        assert!(get(addr, "/sleeps").ends_with("\r\n\r\nslept"), "{kind}");
        server.shutdown(Duration::from_secs(2)).unwrap();

        assert_eq!(ready.polls.load(Ordering::SeqCst), 1, "{kind}: /ready");
        assert!(
            sleeps.polls.load(Ordering::SeqCst) >= 2,
            "{kind}: the control was not suspended"
        );
        // Polled on a worker of this backend's runtime (`weft-<backend>-N`,
        // or a connection thread of the std backend's worker).
        let prefix = format!("weft-{}-", kind.name());
        for seen in [&ready, &sleeps] {
            let threads = seen.threads.lock().unwrap();
            assert!(
                threads.iter().all(|t| t.starts_with(&prefix)),
                "{kind}: polled on {threads:?}"
            );
        }
    }
}
