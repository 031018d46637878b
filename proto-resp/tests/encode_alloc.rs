//! The command encoders allocate nothing per argument: `encode_command`
//! reserves the exact size once (so into a buffer with room, nothing at
//! all), and a [`Cmd`] built on this thread's recycled buffer and written
//! out allocates nothing either. Counted per thread, so the test harness's
//! other threads do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::BytesMut;
use proto_resp::Cmd;
use proto_resp::codec::encode_command;

struct PerThread;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// count is a const-initialised thread-local without a destructor, so
// touching it never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for PerThread {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` was allocated by `System` with layout `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
        // SAFETY: `p` was allocated by `System` with layout `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: PerThread = PerThread;

/// Allocations (and reallocations) made by this thread while running `f`.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

#[test]
fn encode_command_reserves_once() {
    let args: Vec<Vec<u8>> = (0..200).map(|i| vec![b'a'; i * 7 % 300]).collect();
    // Into an empty buffer: one allocation for the whole command, however
    // many arguments.
    let mut dst = BytesMut::new();
    assert_eq!(allocations(|| encode_command(&mut dst, &args)), 1);
    let expected_len = dst.len();
    // Into a buffer with room: none.
    let mut dst = BytesMut::with_capacity(expected_len + 16);
    assert_eq!(allocations(|| encode_command(&mut dst, &args)), 0);
    assert_eq!(dst.len(), expected_len);
}

#[test]
fn typed_commands_reuse_their_buffers() {
    let mut out = BytesMut::with_capacity(64 * 1024);
    // Warm up: the first commands of the thread allocate their buffers,
    // dropped ones are kept for the next.
    for _ in 0..4 {
        let c = Cmd::new("SET").with("key:1").with(42).with(1.5f64);
        c.write_to(&mut out);
    }
    out.clear();
    // Steady state: building a command with integer, float and byte
    // arguments, writing it and dropping it allocates nothing.
    let n = allocations(|| {
        for i in 0..1000u64 {
            let mut c = Cmd::new("HSET");
            c.arg("user:1")
                .arg("visits")
                .arg(i)
                .arg(-2.25f64)
                .arg(&b"v"[..]);
            c.write_to(&mut out);
        }
    });
    assert_eq!(n, 0, "allocations per 1000 commands");
    assert!(out.starts_with(b"*6\r\n$4\r\nHSET\r\n$6\r\nuser:1\r\n"));
}
