//! The worker's free list of I/O buffers.
//!
//! An HTTP/1.1 connection takes a read buffer when its socket becomes
//! readable and a write buffer when it has a response to encode, and gives
//! both back when it goes idle with nothing buffered (issue 3: an idle
//! keep-alive connection should cost a few hundred bytes, not two 4 KiB
//! buffers). Taking and giving back is a push and a pop on a thread-local
//! list, so a busy connection does not allocate per request either; the
//! list holds at most [`MAX_FREE`] buffers (what the connections of one
//! worker use at once, up to 1 MiB of 4 KiB buffers), and the rest go back
//! to the allocator.

use bytes::BytesMut;
use std::cell::RefCell;

/// Most buffers kept free per worker.
const MAX_FREE: usize = 256;

/// Buffers that grew beyond this (a large request head or response batch)
/// are freed rather than kept.
const MAX_KEPT_CAPACITY: usize = 64 * 1024;

thread_local! {
    static FREE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for at least `capacity` bytes: a free one of
/// this worker when there is one, else a new one.
pub(super) fn take(capacity: usize) -> BytesMut {
    let mut buf = FREE
        .try_with(|f| f.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default();
    // A free buffer already has the room (`give` checked): no allocation.
    buf.reserve(capacity);
    buf
}

/// Gives `buf` back for reuse by `take(capacity)`. It is kept only when
/// it is ours alone and has its whole room back (no `Bytes` split off it is
/// still alive somewhere), so a later `take` never allocates for it.
pub(super) fn give(mut buf: BytesMut, capacity: usize) {
    if buf.capacity() == 0 {
        return;
    }
    buf.clear();
    if buf.capacity() > MAX_KEPT_CAPACITY || !buf.try_reclaim(capacity) {
        return;
    }
    let _ = FREE.try_with(|f| {
        let mut free = f.borrow_mut();
        if free.len() < MAX_FREE {
            free.push(buf);
        }
    });
}

#[cfg(test)]
pub(super) fn free_count() -> usize {
    FREE.with(|f| f.borrow().len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    #[test]
    fn a_given_buffer_is_taken_again_without_allocating() {
        let before = free_count();
        let mut b = take(4096);
        assert!(b.capacity() >= 4096);
        b.put_slice(b"GET / HTTP/1.1\r\n\r\n");
        // Consumed from the front, as the protocol machine does.
        let head = b.split_to(18).freeze();
        drop(head);
        let addr = b.as_ptr() as usize - 18;
        give(b, 4096);
        assert_eq!(free_count(), before + 1);
        let again = take(4096);
        assert_eq!(again.as_ptr() as usize, addr, "same memory, room reclaimed");
        assert!(again.capacity() >= 4096 && again.is_empty());
        assert_eq!(free_count(), before);
    }

    #[test]
    fn shared_or_oversized_or_unallocated_buffers_are_not_kept() {
        let before = free_count();
        let mut b = take(4096);
        b.put_slice(b"abc");
        let alive = b.split_to(3).freeze();
        give(b, 4096);
        assert_eq!(free_count(), before, "still shared with `alive`");
        drop(alive);
        give(BytesMut::with_capacity(MAX_KEPT_CAPACITY * 2), 4096);
        assert_eq!(free_count(), before);
        give(BytesMut::new(), 4096);
        assert_eq!(free_count(), before);
    }
}
