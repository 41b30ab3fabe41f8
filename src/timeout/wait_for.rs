//! [`wait_for`]: await something with a deadline, cancelling it on expiry.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use super::{deadline_from, Check, InlineTimer, TimeoutError};
use crate::task::{Join, Task, TaskError};

/// What [`wait_for`] can wait for: any future (run in place, in the caller's
/// task), a [`Task`] (awaited; cancelled on timeout, and waited for until it
/// has finished), or a [`gather`](crate::gather()) (run in place).
///
/// The trait is sealed: it is implemented for every [`Future`], for [`Task`]
/// and for [`Gather`](crate::Gather), [`GatherAll`](crate::GatherAll) and
/// [`GatherTuple`](crate::GatherTuple), and cannot be implemented outside the
/// crate. A type that is only [`IntoFuture`] can be waited for as its future:
/// `wait_for(x.into_future(), d)`. What awaiting it yields is its
/// [`IntoFuture::Output`].
///
/// ```compile_fail
/// struct Mine;
/// impl std::future::IntoFuture for Mine {
///     type Output = ();
///     type IntoFuture = std::future::Ready<()>;
///     fn into_future(self) -> Self::IntoFuture {
///         std::future::ready(())
///     }
/// }
/// impl asyncio::timeout::Awaitable for Mine {} // error: the trait is sealed
/// ```
pub trait Awaitable: IntoFuture + Sealed {}

mod sealed {
    use std::future::IntoFuture;
    use std::pin::Pin;

    use crate::timeout::TimeoutError;

    /// How [`wait_for`](super::wait_for) drives and cancels what it waits
    /// for. The defaults are a future's: run in place, cancelled by being
    /// dropped.
    pub trait Sealed: IntoFuture {
        /// Whether polling runs the operand's own code (a future) rather
        /// than only observing work that runs elsewhere (a task). An operand
        /// whose deadline has already passed is not started if this is true
        /// (behaviour 53).
        const RUNS_WHEN_POLLED: bool = true;

        /// Starts cancelling. Returns `true` if the operand must be polled
        /// on until it has finished cancelling (a task), `false` if dropping
        /// it is the whole cancellation (a future).
        fn start_cancel(_operand: Pin<&mut Self::IntoFuture>) -> bool {
            false
        }

        /// Turns the outcome seen after
        /// [`start_cancel`](Sealed::start_cancel) into `wait_for`'s result:
        /// a cancellation is the timeout; anything else completed first and
        /// is delivered.
        fn after_cancel(_output: Self::Output) -> Result<Self::Output, TimeoutError> {
            Err(TimeoutError)
        }
    }
}

pub(crate) use self::sealed::Sealed;

impl<F: Future> Awaitable for F {}
impl<F: Future> Sealed for F {}

impl<T, E> Awaitable for Task<T, E> {}
impl<T, E> Sealed for Task<T, E> {
    const RUNS_WHEN_POLLED: bool = false;
    fn start_cancel(join: Pin<&mut Join<T, E>>) -> bool {
        if let Some(task) = join.task() {
            task.cancel();
        }
        true
    }
    fn after_cancel(output: Self::Output) -> Result<Self::Output, TimeoutError> {
        match output {
            Err(TaskError::Cancelled) => Err(TimeoutError),
            other => Ok(other),
        }
    }
}

/// Awaits `operand` for at most `timeout`: asyncio's `wait_for(aw, timeout)`.
///
/// `operand` is a future or a [`Task`]; `timeout` is a [`Duration`] or
/// `None` (wait as long as it takes, behaviour 50). The timeout counts from
/// the first poll of the returned future, when the wait starts (as asyncio's
/// `wait_for` coroutine starts its timeout when it runs), not from the call.
///
/// - A **future** runs in place, in the caller's task (as asyncio 3.12+,
///   behaviour 57). When the deadline passes, it is dropped at its current
///   await point, before `wait_for` returns `Err(TimeoutError)`: once you
///   see the error, the future is gone (behaviour 51). Dropping cannot wait,
///   though: tasks the future owns (a [`gather`](crate::gather()), a task's
///   [`Join`](crate::Join)) are aborted and stop at their next await point,
///   possibly after `wait_for` returned. To wait for them too, pass the
///   [`Task`] itself, or cancel a gather with
///   [`Gather::cancel`](crate::Gather::cancel)`.await`. With a zero
///   timeout a future is never started (behaviour 53).
/// - A **task** is awaited. When the deadline passes, it is cancelled and
///   `wait_for` waits until it has actually finished before returning
///   `Err(TimeoutError)` (behaviour 51). If it completes before the
///   cancellation reaches it, its outcome is returned instead (completion
///   beats cancellation; compare behaviours 55 and 56). With a zero deadline
///   a finished task's outcome is returned and a running one is cancelled
///   (behaviour 53).
///
/// Dropping the `wait_for` future cancels the operand (behaviour 54): a
/// future is dropped, a task is cancelled. To keep a task running past the
/// deadline, wait for [`shield(task)`](crate::shield) (behaviour 60); to keep
/// any future, pass `&mut fut` and it is only borrowed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let slow = asyncio::sleep(Duration::from_secs(10));
/// let outcome = asyncio::wait_for(slow, Duration::from_secs(1)).await;
/// assert!(matches!(outcome, Err(asyncio::TimeoutError { .. })));
///
/// let fast = async { 7 };
/// assert_eq!(asyncio::wait_for(fast, Duration::from_secs(1)).await, Ok(7));
/// # }
/// ```
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `await asyncio.wait_for(coro, 5)` | `asyncio::wait_for(fut, Duration::from_secs(5)).await` |
/// | `await asyncio.wait_for(task, 5)` | `asyncio::wait_for(task, Duration::from_secs(5)).await` (yields `Result<Result<T, TaskError<E>>, TimeoutError>`) |
/// | `await asyncio.wait_for(aw, None)` | `asyncio::wait_for(aw, None).await` |
///
/// The differences:
/// 1. A timed-out future cannot catch its cancellation and return a value
///    or raise another error instead (behaviours 55, 56): it is dropped. A
///    task that completes in the window between the deadline and its abort
///    does deliver its value or error, which is the crate's form of both.
/// 2. `TimeoutError` has no `__cause__` (behaviour 52): there is no
///    `CancelledError` object to chain.
/// 3. The 3.11 bugs around a cancellation that races the operand's
///    completion (behaviours 58, 59) cannot happen: dropping the `wait_for`
///    future is the caller's cancellation, and it drops or cancels the
///    operand; nothing is lost or swallowed.
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the future awaiting `wait_for` is dropped | the operand is cancelled (54) | a future operand is dropped; a task operand is cancelled |
/// | the operand errors | the exception propagates | `Ok(Err(e))`: the operand's output, unchanged |
/// | the operand is cancelled explicitly (a task's [`CancelHandle::cancel`](crate::CancelHandle::cancel)) | `CancelledError` propagates | a task operand yields `Ok(Err(TaskError::Cancelled))` |
/// | the operand panics | the exception propagates | a future's panic propagates; a task's is `Ok(Err(TaskError::Panicked(p)))` |
/// | the timeout fires | the operand is cancelled and waited for, then `TimeoutError` (51) | a task operand: cancelled and waited for, then `Err(TimeoutError)`. A future operand: dropped, then `Err(TimeoutError)`; tasks it owns (a `gather`, a `Join`) are aborted, not awaited, and stop at their next await point, possibly after `wait_for` returned |
/// | the owner/handle is dropped | n/a | n/a |
/// | the runtime shuts down | the task is cancelled | the `wait_for` future is dropped with its task |
/// | the task awaiting `wait_for` is cancelled explicitly (`task.cancel()`; the crate's [`CancelHandle::cancel`](crate::CancelHandle::cancel)) | the operand is cancelled (54) | as when the awaiting future is dropped: a future operand is dropped, a task operand is cancelled |
///
/// # Cancel safety
///
/// This function's future is not cancel safe; see [`WaitFor`].
///
/// # Panics
///
/// When polled with a deadline in the future outside a tokio runtime with
/// the time driver enabled (as `tokio::time::sleep` does).
pub fn wait_for<A: Awaitable>(operand: A, timeout: impl Into<Option<Duration>>) -> WaitFor<A> {
    WaitFor {
        operand: Some(operand.into_future()),
        timer: InlineTimer::default(),
        timeout: timeout.into(),
        deadline: None,
        cancelling: false,
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`wait_for`].
    ///
    /// It holds tokio's timer inline, as `tokio::time::Timeout` does, so it
    /// is not `Unpin`: to poll it by reference, pin it first
    /// (`std::pin::pin!` or `Box::pin`).
    ///
    /// # Cancel safety
    ///
    /// This future is not cancel safe. If it is used as a branch in `select!`
    /// and another branch completes first, the operand is cancelled (behaviour
    /// 54): a future operand is dropped at its current await point and its
    /// output is lost; a [`Task`] operand is cancelled and stops at its next
    /// await point. To keep a future, wait for a pinned borrow of it
    /// (`wait_for(fut.as_mut(), d)` on a `Pin<&mut F>`); to keep a task
    /// running, wait for `&mut shield(task)` (see [`shield`](crate::shield)).
    /// Either can be awaited again later.
    #[must_use = "futures do nothing unless polled"]
    pub struct WaitFor<A: Awaitable> {
        #[pin]
        operand: Option<A::IntoFuture>,
        #[pin]
        timer: InlineTimer,
        timeout: Option<Duration>,
        // Set at the first poll (if there is a timeout), when the wait
        // starts.
        deadline: Option<Instant>,
        cancelling: bool,
    }
}

impl<A: Awaitable> fmt::Debug for WaitFor<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .field("cancelling", &self.cancelling)
            .finish_non_exhaustive()
    }
}

impl<A: Awaitable> Future for WaitFor<A> {
    type Output = Result<A::Output, TimeoutError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // The wait starts at the first poll: one clock read sets the
        // deadline and, if the operand is pending, checks it before the
        // timer is armed. A future with a zero timeout is not started
        // (behaviour 53).
        let mut check = Check::Timer;
        if let (Some(timeout), None) = (*this.timeout, *this.deadline) {
            if A::RUNS_WHEN_POLLED && timeout.is_zero() {
                this.operand.set(None);
                return Poll::Ready(Err(TimeoutError));
            }
            let now = Instant::now();
            *this.deadline = Some(deadline_from(now, timeout));
            check = Check::Now(now);
        }
        let mut operand = this
            .operand
            .as_mut()
            .as_pin_mut()
            .expect("asyncio: wait_for polled after it completed");
        if let Poll::Ready(output) = operand.as_mut().poll(cx) {
            this.operand.set(None);
            return Poll::Ready(if *this.cancelling {
                A::after_cancel(output)
            } else {
                Ok(output)
            });
        }
        if *this.cancelling || !this.timer.poll_expired_at(*this.deadline, check, cx) {
            return Poll::Pending;
        }
        if A::start_cancel(operand.as_mut()) {
            *this.cancelling = true;
            // The operand may have finished already; otherwise it wakes us.
            if let Poll::Ready(output) = operand.poll(cx) {
                this.operand.set(None);
                return Poll::Ready(A::after_cancel(output));
            }
            return Poll::Pending;
        }
        this.operand.set(None);
        Poll::Ready(Err(TimeoutError))
    }
}
