//! Owned I/O buffers.
//!
//! Operations own their buffers while they are in flight and hand them back
//! with the result ([`BufResult`]). That is what a completion backend
//! (io_uring) needs: the kernel may write into the memory after the future
//! that started the operation was dropped, so the memory must belong to the
//! operation, not to a borrow. Readiness backends (epoll) and the blocking
//! backend use the same surface, so code is backend-agnostic.

use bytes::{Bytes, BytesMut};
use std::mem::MaybeUninit;

/// The result of an operation that owned a buffer: the outcome and the buffer.
pub type BufResult<T, B> = (std::io::Result<T>, B);

/// A buffer that can be written out.
///
/// # Safety
///
/// The bytes returned by [`IoBuf::as_slice`] must stay at the same address and
/// stay initialised while the value is moved (heap-backed buffers), because a
/// completion backend hands that address to the kernel and moves the value
/// into its in-flight operation table.
pub unsafe trait IoBuf: 'static {
    /// The initialised bytes to write.
    fn as_slice(&self) -> &[u8];
}

/// A buffer that can be read into: bytes land in its spare capacity.
///
/// # Safety
///
/// As [`IoBuf`]: the spare capacity must not move when the value is moved.
pub unsafe trait IoBufMut: 'static {
    /// The uninitialised tail the next read fills. Implementations reserve
    /// some room when the buffer is full, so this is never empty.
    fn spare(&mut self) -> &mut [MaybeUninit<u8>];
    /// Marks `n` more bytes of the spare capacity as initialised.
    ///
    /// # Safety
    ///
    /// The first `n` bytes of [`IoBufMut::spare`] must have been written.
    unsafe fn advance(&mut self, n: usize);
}

/// How much room a full read buffer grows by before a read.
pub const READ_RESERVE: usize = 8 * 1024;

// SAFETY: Vec's heap allocation does not move when the Vec is moved.
unsafe impl IoBuf for Vec<u8> {
    fn as_slice(&self) -> &[u8] {
        self
    }
}
// SAFETY: Bytes points at shared heap memory (or static data) that never moves.
unsafe impl IoBuf for Bytes {
    fn as_slice(&self) -> &[u8] {
        self
    }
}
// SAFETY: BytesMut's storage is on the heap and does not move with the handle.
unsafe impl IoBuf for BytesMut {
    fn as_slice(&self) -> &[u8] {
        self
    }
}
// SAFETY: static data never moves.
unsafe impl IoBuf for &'static [u8] {
    fn as_slice(&self) -> &[u8] {
        self
    }
}
// SAFETY: static data never moves.
unsafe impl IoBuf for &'static str {
    fn as_slice(&self) -> &[u8] {
        self.as_bytes()
    }
}
// SAFETY: String's heap allocation does not move when the String is moved.
unsafe impl IoBuf for String {
    fn as_slice(&self) -> &[u8] {
        self.as_bytes()
    }
}
// SAFETY: a boxed slice lives on the heap.
unsafe impl IoBuf for Box<[u8]> {
    fn as_slice(&self) -> &[u8] {
        self
    }
}

// SAFETY: Vec's spare capacity is heap memory that does not move with the Vec.
unsafe impl IoBufMut for Vec<u8> {
    fn spare(&mut self) -> &mut [MaybeUninit<u8>] {
        if self.capacity() == self.len() {
            self.reserve(READ_RESERVE);
        }
        self.spare_capacity_mut()
    }
    unsafe fn advance(&mut self, n: usize) {
        // SAFETY: the caller wrote `n` bytes of the spare capacity.
        unsafe { self.set_len(self.len() + n) }
    }
}
// SAFETY: BytesMut's spare capacity is heap memory that does not move with it.
unsafe impl IoBufMut for BytesMut {
    fn spare(&mut self) -> &mut [MaybeUninit<u8>] {
        if self.capacity() == self.len() {
            self.reserve(READ_RESERVE);
        }
        self.spare_capacity_mut()
    }
    unsafe fn advance(&mut self, n: usize) {
        // SAFETY: the caller wrote `n` bytes of the spare capacity.
        unsafe { self.set_len(self.len() + n) }
    }
}

/// A buffer with its first `begin` bytes already consumed; used to write the
/// rest of a buffer after a short write without copying.
#[derive(Debug)]
pub struct Slice<B> {
    buf: B,
    begin: usize,
}

impl<B: IoBuf> Slice<B> {
    /// Wraps `buf`, skipping its first `begin` bytes (clamped to its length).
    pub fn new(buf: B, begin: usize) -> Self {
        let begin = begin.min(buf.as_slice().len());
        Slice { buf, begin }
    }
    /// Gives the whole underlying buffer back.
    pub fn into_inner(self) -> B {
        self.buf
    }
    /// How many bytes of the underlying buffer are skipped.
    pub fn begin(&self) -> usize {
        self.begin
    }
}

// SAFETY: a sub-slice of a stable buffer is stable.
unsafe impl<B: IoBuf> IoBuf for Slice<B> {
    fn as_slice(&self) -> &[u8] {
        &self.buf.as_slice()[self.begin..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spare_is_never_empty_and_advance_extends() {
        let mut v: Vec<u8> = Vec::new();
        let spare = v.spare();
        assert!(!spare.is_empty());
        spare[0].write(7);
        // SAFETY: one byte written above.
        unsafe { v.advance(1) };
        assert_eq!(v, [7]);

        let mut b = BytesMut::new();
        b.spare()[0].write(9);
        // SAFETY: one byte written above.
        unsafe { b.advance(1) };
        assert_eq!(&b[..], [9]);
    }

    #[test]
    fn slice_skips_prefix() {
        let s = Slice::new(b"hello".to_vec(), 2);
        assert_eq!(s.as_slice(), b"llo");
        assert_eq!(Slice::new(b"hi".to_vec(), 10).as_slice(), b"");
    }
}
