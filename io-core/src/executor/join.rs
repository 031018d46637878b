//! [`JoinHandle`]: the output of a spawned task.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Why a task produced no output.
#[derive(Debug)]
#[non_exhaustive]
pub enum JoinError {
    /// The task was aborted, or its executor shut down before it finished.
    Cancelled,
    /// The task panicked; the payload is kept.
    Panicked(Box<dyn Any + Send>),
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task was cancelled"),
            JoinError::Panicked(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| p.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("non-string payload");
                write!(f, "task panicked: {msg}")
            }
        }
    }
}

impl std::error::Error for JoinError {}

pub(crate) struct JoinState<T> {
    pub(crate) result: Option<Result<T, JoinError>>,
    pub(crate) waker: Option<Waker>,
    pub(crate) taken: bool,
}

impl<T> JoinState<T> {
    pub(crate) fn new() -> Rc<RefCell<Self>> {
        Rc::new(RefCell::new(JoinState {
            result: None,
            waker: None,
            taken: false,
        }))
    }
}

/// Completes a join state; called by the task wrapper or on abort.
pub(crate) fn complete<T>(state: &RefCell<JoinState<T>>, result: Result<T, JoinError>) {
    let waker = {
        let mut s = state.borrow_mut();
        if s.result.is_some() || s.taken {
            return;
        }
        s.result = Some(result);
        s.waker.take()
    };
    if let Some(w) = waker {
        w.wake();
    }
}

/// Awaits a spawned task's output. Dropping it detaches the task, which runs
/// on. Not `Send`: tasks and their handles live on one worker.
pub struct JoinHandle<T> {
    pub(crate) state: Rc<RefCell<JoinState<T>>>,
    pub(crate) key: u64,
}

impl<T> JoinHandle<T> {
    /// Stops the task: its future is dropped and the handle yields
    /// [`JoinError::Cancelled`]. No effect on a finished task.
    pub fn abort(&self) {
        if self.state.borrow().result.is_some() {
            return;
        }
        super::abort_task(self.key);
        complete(&self.state, Err(JoinError::Cancelled));
    }

    /// Whether the task has finished (or was cancelled).
    pub fn is_finished(&self) -> bool {
        let s = self.state.borrow();
        s.result.is_some() || s.taken
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = self.state.borrow_mut();
        match s.result.take() {
            Some(r) => {
                s.taken = true;
                Poll::Ready(r)
            }
            None if s.taken => Poll::Ready(Err(JoinError::Cancelled)),
            None => {
                if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    s.waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
