//! The DataRow hot path allocates nothing per row in steady state.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::BytesMut;
use proto_pg::{Config, Connection, Event};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Counting is on for this thread (the test's, not the harness's
    /// other threads, which allocate when they please).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    // `try_with`: no panic during thread teardown.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: delegates to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn data_row() -> Vec<u8> {
    let mut body = 3u16.to_be_bytes().to_vec();
    for col in [&b"12345"[..], b"hello world", b"\x00\x01\x02\x03"] {
        body.extend_from_slice(&(col.len() as i32).to_be_bytes());
        body.extend_from_slice(col);
    }
    let mut v = vec![b'D'];
    v.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    v.extend(body);
    v
}

#[test]
fn data_rows_do_not_allocate() {
    let mut c = Connection::new(Config::new("a")).unwrap();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    buf.extend_from_slice(b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I");
    c.handle_input(Instant::now(), &mut buf).unwrap();
    while c.poll_event().is_some() {}
    c.simple_query("SELECT ...").unwrap();
    let mut out = BytesMut::with_capacity(1024);
    let _ = c.poll_transmit(&mut out);

    let batch: Vec<u8> = std::iter::repeat_n(data_row(), 32).flatten().collect();
    let mut bytes_seen = 0usize;
    let mut run = |rounds: usize, c: &mut Connection, buf: &mut BytesMut| {
        for _ in 0..rounds {
            buf.extend_from_slice(&batch);
            c.handle_input(Instant::now(), buf).unwrap();
            while let Some(ev) = c.poll_event() {
                if let Event::Row { row, .. } = ev {
                    bytes_seen += row.iter().flatten().map(<[u8]>::len).sum::<usize>();
                }
            }
        }
    };
    // Warm up: the read buffer turns shared, the event queue reaches size.
    run(4, &mut c, &mut buf);
    let before = ALLOCS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    run(100, &mut c, &mut buf);
    COUNTING.with(|c| c.set(false));
    let allocs = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(bytes_seen, 104 * 32 * 20);
    // Only this thread's allocations count (the harness's other threads
    // made the count flaky); one allocation per row would be 3,200.
    assert_eq!(allocs, 0, "{allocs} allocations for 3200 rows");
}
