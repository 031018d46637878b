//! Waiting for many futures at once.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

enum Slot<F: Future> {
    Pending(F),
    Done(Option<F::Output>),
}

/// Polls every future of `futures` concurrently on the current task and
/// returns their outputs in the input order once all are done.
///
/// One allocation for the whole set. Each wake-up polls the futures not yet
/// done, so it suits the tens to hundreds a request fans out to (the
/// queries of one handler pipelined on one connection).
///
/// ```
/// # io_core::block_on_with(io_core::park::ThreadPark::new(), async {
/// let squares = io_core::join_all::join_all((1..=3).map(|i| async move { i * i })).await;
/// assert_eq!(squares, [1, 4, 9]);
/// # });
/// ```
pub async fn join_all<I>(futures: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut slots: Pin<Box<[Slot<I::Item>]>> =
        Box::into_pin(futures.into_iter().map(Slot::Pending).collect());
    poll_fn(move |cx| {
        let mut done = true;
        // SAFETY: the slots stay in their pinned box; nothing below moves a
        // pending future out of it (a finished one is dropped in place by
        // the assignment, which pinning allows).
        let slots = unsafe { slots.as_mut().get_unchecked_mut() };
        for slot in slots.iter_mut() {
            if let Slot::Pending(f) = slot {
                // SAFETY: `f` is inside the pinned box (see above).
                match unsafe { Pin::new_unchecked(f) }.poll(cx) {
                    Poll::Ready(v) => *slot = Slot::Done(Some(v)),
                    Poll::Pending => done = false,
                }
            }
        }
        if !done {
            return Poll::Pending;
        }
        Poll::Ready(
            slots
                .iter_mut()
                .filter_map(|s| match s {
                    Slot::Done(v) => v.take(),
                    Slot::Pending(_) => None,
                })
                .collect(),
        )
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::join_all;
    use crate::park::ThreadPark;

    #[test]
    fn outputs_keep_the_input_order_whatever_finishes_first() {
        let out = crate::block_on_with(ThreadPark::new(), async {
            join_all((0..5u64).map(|i| async move {
                // Later inputs finish first.
                for _ in 0..(5 - i) {
                    crate::yield_now().await;
                }
                i
            }))
            .await
        });
        assert_eq!(out, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn empty_input_is_ready_at_once() {
        let out: Vec<u8> = crate::block_on_with(
            ThreadPark::new(),
            join_all(Vec::<std::future::Ready<u8>>::new()),
        );
        assert!(out.is_empty());
    }
}
