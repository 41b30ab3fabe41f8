//! [`shield`]: await a task without cancelling it when the awaiting side is
//! cancelled.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::task::{Join, Task, TaskError};

/// Awaits `task` so that dropping the awaiting future leaves the task
/// running: asyncio's `shield(task)`.
///
/// Awaiting a [`Task`] directly cancels the task when the awaiting future is
/// dropped (as asyncio passes an awaiter's cancellation on to the task it
/// awaits). `shield(task)` detaches it instead: the task runs to completion,
/// and a failure nobody observes goes to the
/// [unobserved-error hook](crate::set_unobserved_error_hook) (behaviour 84).
/// Cancelling the task itself, through its [`CancelHandle`](crate::CancelHandle),
/// is seen by the awaiting side as `Err(TaskError::Cancelled)` (behaviour 82).
///
/// # Examples
///
/// Give up waiting after a second, without stopping the work; pass
/// `&mut shielded` to keep it and await the task later:
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let task = asyncio::spawn(async {
///     asyncio::sleep(Duration::from_secs(5)).await;
///     "saved"
/// });
/// let mut shielded = asyncio::shield(task);
/// let first = asyncio::wait_for(&mut shielded, Duration::from_secs(1)).await;
/// assert!(first.is_err()); // timed out, but the task keeps running
/// assert_eq!(shielded.await.unwrap(), "saved");
/// # }
/// ```
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `await asyncio.shield(t)` | `asyncio::shield(t).await` |
/// | `asyncio.shield(coro)` | `asyncio::shield(asyncio::spawn(fut))`: the task is explicit |
///
/// The differences:
/// 1. `shield` takes a [`Task`], not any awaitable: asyncio's `shield(coro)`
///    wraps the coroutine in a task, which Rust makes explicit with `spawn`.
/// 2. asyncio returns the task itself if it is already done (behaviour 80);
///    here the returned future completes at its first poll.
/// 3. Like asyncio's, `shield` protects one awaitable, not a block of code
///    (behaviour 86): the code after the shielded await is cancelled as usual.
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the future awaiting the shield is dropped | the awaiter gets `CancelledError`; the task runs on (81) | the task runs on, detached |
/// | the task errors | the exception passes through (83) | `Err(TaskError::Failed(e))` |
/// | the task is cancelled explicitly (`t.cancel()`; the crate's [`CancelHandle::cancel`](crate::CancelHandle::cancel)) | the outer future is cancelled too (82) | `Err(TaskError::Cancelled)` |
/// | the shield is cancelled explicitly (`outer.cancel()`) | the task is not touched (82) | drop the [`Shield`], or take the task back with [`into_task`](Shield::into_task): the task runs on |
/// | the task panics | the exception passes through | `Err(TaskError::Panicked(p))` |
/// | a timeout fires (`wait_for(shield(t))`) | `TimeoutError`; `t` runs on (60) | `Err(TimeoutError)`; the task runs on |
/// | the shield is dropped after it was cancelled | a later failure is logged as never retrieved (84) | a later failure goes to the unobserved-error hook |
/// | the runtime shuts down | tasks are cancelled | the task is dropped; the outcome is `Cancelled` |
///
/// # Cancel safety
///
/// This function's future is cancel safe; see [`Shield`].
pub fn shield<T, E>(task: Task<T, E>) -> Shield<T, E> {
    Shield {
        join: task.into_future(),
    }
}

/// The future returned by [`shield`].
///
/// # Cancel safety
///
/// This future is cancel safe. If it is used as a branch in `select!` and
/// another branch completes first, it is guaranteed that the task keeps running
/// and that its outcome is not lost: poll the same `Shield` again, or take the
/// task back with [`into_task`](Shield::into_task). A `Shield` that is dropped
/// instead detaches the task, whose failure then goes to the unobserved-error
/// hook.
#[must_use = "futures do nothing unless polled"]
pub struct Shield<T, E> {
    // A `Join` whose task is taken out on drop, so that dropping the shield
    // detaches the task instead of cancelling it.
    join: Join<T, E>,
}

impl<T, E> fmt::Debug for Shield<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield")
            .field("task", &self.join.task())
            .finish()
    }
}

impl<T, E> Shield<T, E> {
    /// Takes the task back, if its outcome was not returned yet.
    pub fn into_task(mut self) -> Option<Task<T, E>> {
        self.join.take_task()
    }
}

impl<T, E> Drop for Shield<T, E> {
    fn drop(&mut self) {
        drop(self.join.take_task());
    }
}

impl<T, E> Future for Shield<T, E> {
    type Output = Result<T, TaskError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.join).poll(cx)
    }
}
