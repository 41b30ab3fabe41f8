//! [`to_thread`]: a blocking function as a [`Task`], asyncio's
//! `asyncio.to_thread(f)`.

use std::convert::Infallible;
use std::future::Future;
use std::task::{Context, Waker};

use super::core::{Child, TaskCore};
use super::{current_runtime, report_unobserved, Task, TaskId};
use crate::sync::Arc;

/// Runs the blocking function `f` on tokio's blocking thread pool, as a
/// [`Task`]: asyncio's `asyncio.to_thread(f)`.
///
/// Awaiting the task yields `Ok(f())`, `Err(TaskError::Panicked(p))` if `f`
/// panicked, or `Err(TaskError::Cancelled)` if it was cancelled before it
/// started. The function starts as soon as a blocking thread is free, not
/// when the task is awaited.
///
/// **A started blocking call cannot be aborted**: there is no await point
/// to stop it at. [`Task::cancel`] on a call that has not started yet
/// removes it from the pool's queue (the task ends `Cancelled` and `f`
/// never runs); on a call that is running it returns `true` (the request is
/// recorded) but the call runs to the end, and its value is delivered:
/// completion beats cancellation. Dropping the future that awaits the task
/// is such a cancel. asyncio is the same: `to_thread`'s thread runs on when
/// the awaiting task is cancelled, only its result is lost; here it is not
/// lost, it is in the task.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let task = asyncio::to_thread(|| std::fs::metadata(".").map(|m| m.is_dir()));
/// assert!(task.await.unwrap().unwrap());
/// # }
/// ```
///
/// # asyncio equivalent
///
/// `await asyncio.to_thread(f, *args)`: here the arguments are captured by
/// the closure, `move || f(a, b)`. asyncio copies the context variables
/// into the thread; tokio has none to copy.
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped | the thread runs on, its result is discarded | not started: `f` never runs; started: it runs to the end, its value stays in the task (dropped with it) |
/// | the function errors | the exception is raised by `await` | return a `Result` from `f`: it is the task's value |
/// | the task is cancelled | as the first row | as the first row; `Err(Cancelled)` only if `f` had not started |
/// | the function panics | the exception is raised by `await` | `Err(TaskError::Panicked(p))` |
/// | a timeout fires ([`wait_for`](crate::wait_for)) | the thread runs on | the task is cancelled (as the first row) and the wait for it lasts until `f` returns |
/// | the handle is dropped | the thread runs on | the task is detached: `f` runs; a panic goes to the hook |
/// | the runtime shuts down | the executor waits for the thread | tokio waits for running blocking calls; queued ones end `Cancelled` |
///
/// # Panics
///
/// If called outside a tokio runtime, at the caller's line.
#[track_caller]
pub fn to_thread<F, T>(f: F) -> Task<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let runtime = current_runtime();
    let core = Arc::new(TaskCore::new(
        TaskId::next(),
        report_unobserved::<Infallible>,
    ));
    // The call as a child future that completes at its first poll: the task
    // core's wrapper catches its panic and publishes its outcome, and if the
    // pool drops it unstarted (a cancel, a shutdown), its drop guard
    // publishes "cancelled".
    let mut child = Box::pin(Child::new(
        async move { Ok::<T, Infallible>(f()) },
        core.clone(),
    ));
    let join = runtime.spawn_blocking(move || {
        let mut cx = Context::from_waker(Waker::noop());
        let polled = child.as_mut().poll(&mut cx);
        debug_assert!(polled.is_ready(), "a blocking call completes at once");
    });
    Task::from_parts(core, join)
}
