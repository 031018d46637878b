//! [`HandlerFuture`]: a type-erased handler future kept in a memory block
//! recycled through the worker's free lists, so calling a handler allocates
//! nothing in steady state.
//!
//! Why not `Pin<Box<dyn Future>>`: a router stores handlers of different
//! types, so the future a handler returns must be type-erased, and a `Box`
//! per request was the one heap allocation left on the plaintext path
//! (issue 3). A per-connection slot would need one slot per nesting level
//! (middleware awaits the handler it wraps) and per concurrent HTTP/2
//! stream; a per-worker free list serves all of them: a block is taken when
//! a handler is called and given back when its future is dropped, on the
//! same thread, so the lists need no lock. A connection that is idle holds
//! no block.
//!
//! Blocks come in power-of-two size classes from 32 B to 16 KiB, aligned to
//! 16 bytes; a future that is larger or more aligned gets an exact
//! allocation of its own (and gives it back to the allocator). Each class
//! keeps at most [`MAX_BLOCKS`] blocks and [`MAX_CLASS_BYTES`] bytes free;
//! beyond that a returned block goes back to the allocator, so a burst of
//! concurrent requests does not pin its peak memory for the worker's
//! lifetime. The lists are freed when the worker thread ends.
//!
//! This module is the only `unsafe` of the HTTP layer: it writes a future
//! into raw memory, polls it pinned in place, and drops it in place.

use super::response::Response;
use std::alloc::{Layout, alloc, dealloc, handle_alloc_error};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// log2 of the smallest block size.
const MIN_SHIFT: u32 = 5;
/// Number of size classes: 32 B, 64 B, ..., 16 KiB.
const CLASSES: usize = 10;
/// Alignment of every pooled block.
const BLOCK_ALIGN: usize = 16;
/// Most free blocks kept per class.
const MAX_BLOCKS: usize = 1024;
/// Most free bytes kept per class.
const MAX_CLASS_BYTES: usize = 256 * 1024;

/// The worker's free blocks, one list per size class.
struct FreeLists {
    lists: [Vec<NonNull<u8>>; CLASSES],
}

impl Drop for FreeLists {
    fn drop(&mut self) {
        for (class, list) in self.lists.iter_mut().enumerate() {
            for block in list.drain(..) {
                // SAFETY: every listed block was allocated by `take_block`
                // with `class_layout(class)` and is no longer in use.
                unsafe { dealloc(block.as_ptr(), class_layout(class)) };
            }
        }
    }
}

thread_local! {
    static FREE: RefCell<FreeLists> = const {
        RefCell::new(FreeLists {
            lists: [const { Vec::new() }; CLASSES],
        })
    };
}

/// The size class that holds `layout`, if any.
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > BLOCK_ALIGN {
        return None;
    }
    let shift = layout
        .size()
        .max(1)
        .next_power_of_two()
        .trailing_zeros()
        .max(MIN_SHIFT);
    let class = (shift - MIN_SHIFT) as usize;
    (class < CLASSES).then_some(class)
}

fn class_layout(class: usize) -> Layout {
    match Layout::from_size_align(1 << (class as u32 + MIN_SHIFT), BLOCK_ALIGN) {
        Ok(l) => l,
        Err(_) => unreachable!("size classes are small powers of two"),
    }
}

fn class_cap(class: usize) -> usize {
    MAX_BLOCKS.min(MAX_CLASS_BYTES >> (class as u32 + MIN_SHIFT))
}

/// A block that fits `layout`: a free one of its class, else a new one.
fn take_block(layout: Layout) -> NonNull<u8> {
    let (exact, class) = match class_of(layout) {
        Some(c) => {
            // `try_with`: during thread teardown the lists may be gone.
            let reused = FREE
                .try_with(|f| f.borrow_mut().lists[c].pop())
                .ok()
                .flatten();
            if let Some(block) = reused {
                return block;
            }
            (class_layout(c), Some(c))
        }
        None => (layout, None),
    };
    debug_assert!(exact.size() > 0 || class.is_none());
    let exact = if exact.size() == 0 {
        // A zero-sized future with an alignment above 16: allocate one byte
        // (of that alignment) rather than ask the allocator for zero.
        match Layout::from_size_align(1, exact.align()) {
            Ok(l) => l,
            Err(_) => handle_alloc_error(exact),
        }
    } else {
        exact
    };
    // SAFETY: `exact` has a non-zero size (class blocks are at least 32 B;
    // the exact case was bumped to one byte above).
    let p = unsafe { alloc(exact) };
    NonNull::new(p).unwrap_or_else(|| handle_alloc_error(exact))
}

/// Gives back a block that [`take_block`] returned for `layout`.
///
/// # Safety
///
/// `block` came from `take_block(layout)` with this same `layout`, and
/// nothing uses it any more.
unsafe fn give_block(block: NonNull<u8>, layout: Layout) {
    match class_of(layout) {
        Some(c) => {
            let kept = FREE
                .try_with(|f| {
                    let list = &mut f.borrow_mut().lists[c];
                    if list.len() < class_cap(c) {
                        list.push(block);
                        true
                    } else {
                        false
                    }
                })
                .unwrap_or(false);
            if !kept {
                // SAFETY: class blocks are allocated with `class_layout(c)`.
                unsafe { dealloc(block.as_ptr(), class_layout(c)) };
            }
        }
        None => {
            let exact = if layout.size() == 0 {
                match Layout::from_size_align(1, layout.align()) {
                    Ok(l) => l,
                    Err(_) => return,
                }
            } else {
                layout
            };
            // SAFETY: allocated by `take_block` with this exact layout.
            unsafe { dealloc(block.as_ptr(), exact) };
        }
    }
}

/// The future a [`Handler`](super::Handler) returns: the handler's own
/// future, type-erased, like `Pin<Box<dyn Future<Output = Response>>>`,
/// but in a memory block taken from a free list of the worker thread, so a
/// handler call allocates nothing in steady state. Dropping it drops the
/// handler's future and gives the block back. Blocks come in power-of-two
/// sizes from 32 B to 16 KiB; a larger future gets its own allocation.
///
/// ```
/// use weft::http::{HandlerFuture, Response};
///
/// let fut = HandlerFuture::new(async { Response::text("hi") });
/// let resp = weft::rt::block_on(fut);
/// assert_eq!(resp.body_bytes(), &b"hi"[..]);
/// ```
pub struct HandlerFuture {
    /// The future, living in a block from `take_block(layout of F)`. Never
    /// moved once written there: it is pinned for the life of this value.
    fut: NonNull<dyn Future<Output = Response>>,
}

impl HandlerFuture {
    /// Erases `fut`, placing it in a recycled block.
    pub fn new<F>(fut: F) -> HandlerFuture
    where
        F: Future<Output = Response> + 'static,
    {
        let layout = Layout::new::<F>();
        let block = take_block(layout).cast::<F>();
        // SAFETY: `block` is valid for writes of `layout` (a class block is
        // at least as large and as aligned; otherwise it is exact) and holds
        // no value.
        unsafe { block.as_ptr().write(fut) };
        let fut: NonNull<dyn Future<Output = Response>> = block;
        HandlerFuture { fut }
    }
}

impl Future for HandlerFuture {
    type Output = Response;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        // SAFETY: the future lives in its block until `drop` below and is
        // never moved out of it, so pinning it in place is sound; `&mut self`
        // gives exclusive access.
        let fut = unsafe { Pin::new_unchecked(self.fut.as_mut()) };
        fut.poll(cx)
    }
}

impl Drop for HandlerFuture {
    fn drop(&mut self) {
        /// Gives the block back even if the future's destructor panics.
        struct GiveBack(NonNull<u8>, Layout);
        impl Drop for GiveBack {
            fn drop(&mut self) {
                // SAFETY: the block came from `take_block(self.1)` in
                // `HandlerFuture::new` and its value has been dropped.
                unsafe { give_block(self.0, self.1) };
            }
        }
        // SAFETY: the value is alive (dropped only here), so its size and
        // alignment can be read through the pointer; this is the layout
        // `new` took the block for.
        let layout = unsafe { Layout::for_value(self.fut.as_ref()) };
        let _give_back = GiveBack(self.fut.cast::<u8>(), layout);
        // SAFETY: the value was written in `new`, is dropped exactly once,
        // here, and is not used afterwards.
        unsafe { std::ptr::drop_in_place(self.fut.as_ptr()) };
    }
}

impl fmt::Debug for HandlerFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// The size class of `fut`'s block.
    fn class_of_fut(fut: &HandlerFuture) -> Option<usize> {
        // SAFETY: the future is alive while `fut` is.
        class_of(unsafe { Layout::for_value(fut.fut.as_ref()) })
    }

    fn free_count(class: usize) -> usize {
        FREE.with(|f| f.borrow().lists[class].len())
    }

    #[test]
    fn classes_cover_sizes_and_alignments() {
        assert_eq!(class_of(Layout::new::<u8>()), Some(0));
        assert_eq!(class_of(Layout::new::<()>()), Some(0));
        assert_eq!(class_of(Layout::new::<[u8; 32]>()), Some(0));
        assert_eq!(class_of(Layout::new::<[u8; 33]>()), Some(1));
        assert_eq!(class_of(Layout::new::<[u8; 16384]>()), Some(9));
        assert_eq!(class_of(Layout::new::<[u8; 16385]>()), None);
        #[repr(align(32))]
        struct Wide(#[allow(dead_code)] u8);
        assert_eq!(class_of(Layout::new::<Wide>()), None);
        for c in 0..CLASSES {
            assert!(class_cap(c) >= 16, "class {c}");
        }
    }

    #[test]
    fn block_is_reused_and_value_dropped_once() {
        let drops = Rc::new(Cell::new(0));
        struct Counted(Rc<Cell<u32>>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let make = |d: Rc<Cell<u32>>| {
            let c = Counted(d);
            HandlerFuture::new(async move {
                let _c = c;
                Response::text("x")
            })
        };
        let first = make(drops.clone());
        let addr = first.fut.cast::<u8>();
        drop(first);
        assert_eq!(drops.get(), 1);
        let second = make(drops.clone());
        assert_eq!(second.fut.cast::<u8>(), addr, "the freed block is reused");
        let resp = crate::rt::block_on(second);
        assert_eq!(resp.body_bytes(), &b"x"[..]);
        assert_eq!(drops.get(), 2);
    }

    #[test]
    fn pending_future_is_polled_in_place_and_dropped_unfinished() {
        let drops = Rc::new(Cell::new(0u32));
        struct Counted(Rc<Cell<u32>>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let c = Counted(drops.clone());
        let big = [7u8; 3000];
        let mut fut = HandlerFuture::new(async move {
            let _c = c;
            std::future::pending::<()>().await;
            Response::text(format!("{}", big[2999]))
        });
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        let class = class_of_fut(&fut).unwrap();
        let before = free_count(class);
        drop(fut);
        assert_eq!(drops.get(), 1);
        assert_eq!(free_count(class), before + 1);
    }

    #[test]
    fn oversized_future_gets_its_own_allocation() {
        let big = [1u8; 20_000];
        let fut = HandlerFuture::new(async move { Response::text(format!("{}", big[19_999])) });
        assert_eq!(class_of_fut(&fut), None);
        let resp = crate::rt::block_on(fut);
        assert_eq!(resp.body_bytes(), &b"1"[..]);
    }

    #[test]
    fn a_panicking_destructor_still_returns_the_block() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("boom");
            }
        }
        let b = Bomb;
        let fut = HandlerFuture::new(async move {
            let _b = b;
            Response::text("")
        });
        let class = class_of_fut(&fut).unwrap();
        let before = free_count(class);
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(fut)));
        assert!(res.is_err());
        assert_eq!(free_count(class), before + 1);
    }
}
