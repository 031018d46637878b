//! The worker's provided-buffer ring (`IORING_REGISTER_PBUF_RING`).
//!
//! One ring of `count` buffers of `size` bytes is shared by every socket of a
//! worker. A multishot receive picks a free buffer when data arrives and
//! reports its id in the completion; the buffer then belongs to us until we
//! give it back ([`BufRing::recycle`]), so the kernel only ever writes into
//! memory this module owns, never into a caller's buffer. That is what makes
//! reads cancellation-safe: a dropped read future leaves nothing for the
//! kernel to write into.
//!
//! Layout (`io_uring_register_buf_ring(3)`): a page-aligned array of
//! `struct io_uring_buf { addr, len, bid, resv }`; the `resv` field of entry 0
//! doubles as the ring's tail, which we publish with a release store.

use io_uring::Submitter;
use io_uring::types::BufRingEntry;
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

/// The buffer group id our receives select from.
pub(crate) const GROUP: u16 = 0;

/// A registered provided-buffer ring and the memory of its buffers.
pub(crate) struct BufRing {
    ring: NonNull<BufRingEntry>,
    ring_layout: Layout,
    mem: NonNull<u8>,
    mem_layout: Layout,
    count: u16,
    size: u32,
    /// Our copy of the tail (the next entry to fill).
    tail: u16,
    /// Buffers currently in the ring (handed to the kernel, not consumed).
    available: usize,
    registered: bool,
}

impl BufRing {
    /// Allocates `count` (a power of two, at most 32768) buffers of `size`
    /// bytes, registers them as group [`GROUP`] and hands all to the kernel.
    pub(crate) fn new(submitter: &Submitter<'_>, count: u16, size: u32) -> io::Result<BufRing> {
        assert!(count.is_power_of_two() && count <= 32768 && size > 0);
        let page = 4096;
        let ring_layout =
            Layout::from_size_align(count as usize * std::mem::size_of::<BufRingEntry>(), page)
                .map_err(io::Error::other)?;
        let mem_layout = Layout::from_size_align(count as usize * size as usize, page)
            .map_err(io::Error::other)?;
        // SAFETY: both layouts have a non-zero size (count and size > 0).
        let ring = NonNull::new(unsafe { alloc_zeroed(ring_layout) }.cast::<BufRingEntry>());
        // SAFETY: as above.
        let mem = NonNull::new(unsafe { alloc_zeroed(mem_layout) });
        let (ring, mem) = match (ring, mem) {
            (Some(r), Some(m)) => (r, m),
            (r, m) => {
                if let Some(r) = r {
                    // SAFETY: allocated just above with `ring_layout`.
                    unsafe { dealloc(r.as_ptr().cast(), ring_layout) };
                }
                if let Some(m) = m {
                    // SAFETY: allocated just above with `mem_layout`.
                    unsafe { dealloc(m.as_ptr(), mem_layout) };
                }
                return Err(io::ErrorKind::OutOfMemory.into());
            }
        };
        let mut this = BufRing {
            ring,
            ring_layout,
            mem,
            mem_layout,
            count,
            size,
            tail: 0,
            available: 0,
            registered: false,
        };
        // SAFETY: `ring` is page-aligned and holds `count` entries; it stays
        // allocated until `Drop`, and the owner unregisters it (or leaks the
        // whole ring) before dropping, see `Inner`'s drain in ring.rs.
        unsafe {
            submitter.register_buf_ring_with_flags(ring.as_ptr() as u64, count, GROUP, 0)?;
        }
        this.registered = true;
        for bid in 0..count {
            this.push(bid);
        }
        this.publish();
        Ok(this)
    }

    /// The size of each buffer.
    pub(crate) fn buf_size(&self) -> u32 {
        self.size
    }

    /// How many buffers the kernel can still pick.
    pub(crate) fn available(&self) -> usize {
        self.available
    }

    /// Notes that the kernel consumed a buffer (a completion named it).
    pub(crate) fn taken(&mut self) {
        self.available = self.available.saturating_sub(1);
    }

    /// Bytes `off..end` of buffer `bid`.
    ///
    /// Only for a buffer the kernel handed us in a completion and that was not
    /// recycled since (the kernel does not touch it in between).
    pub(crate) fn bytes(&self, bid: u16, off: u32, end: u32) -> &[u8] {
        assert!(bid < self.count && off <= end && end <= self.size);
        // SAFETY: the range lies inside the allocation (checked above); the
        // memory was zero-initialised at allocation and since written only by
        // the kernel, so it is initialised; the buffer is out of the ring
        // (consumed, not yet recycled), so the kernel does not write it while
        // the returned borrow of `self` lives.
        unsafe {
            let base = self
                .mem
                .as_ptr()
                .add(bid as usize * self.size as usize + off as usize);
            std::slice::from_raw_parts(base, (end - off) as usize)
        }
    }

    /// Gives buffer `bid` back to the kernel.
    pub(crate) fn recycle(&mut self, bid: u16) {
        debug_assert!(self.available < self.count as usize);
        self.push(bid);
        self.publish();
    }

    fn push(&mut self, bid: u16) {
        assert!(bid < self.count);
        let index = (self.tail & (self.count - 1)) as usize;
        // SAFETY: the buffer address is inside `mem`.
        let addr = unsafe { self.mem.as_ptr().add(bid as usize * self.size as usize) } as u64;
        // SAFETY: `index < count`, so the entry is inside the ring allocation.
        // Entries between the kernel's head and our (unpublished) tail are
        // ours to write; the kernel reads this one only after `publish`.
        let entry = unsafe { &mut *self.ring.as_ptr().add(index) };
        entry.set_addr(addr);
        entry.set_len(self.size);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
        self.available += 1;
    }

    fn publish(&self) {
        // SAFETY: the tail field lies in entry 0 of the live ring allocation,
        // is 2-byte aligned, and is only accessed atomically by the kernel.
        unsafe {
            let tail = BufRingEntry::tail(self.ring.as_ptr()) as *mut u16;
            AtomicU16::from_ptr(tail).store(self.tail, Ordering::Release);
        }
    }

    /// Unregisters the ring; after this the kernel no longer reads it.
    pub(crate) fn unregister(&mut self, submitter: &Submitter<'_>) {
        if self.registered {
            let _ = submitter.unregister_buf_ring(GROUP);
            self.registered = false;
        }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: both blocks were allocated in `new` with these layouts. The
        // owner drains all operations and unregisters the ring (or leaks this
        // value) before dropping, so the kernel no longer uses the memory.
        unsafe {
            dealloc(self.ring.as_ptr().cast(), self.ring_layout);
            dealloc(self.mem.as_ptr(), self.mem_layout);
        }
    }
}
