//! [`as_completed`]: outcomes in the order the children finish, as a
//! `Stream`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::task::sealed::{SealedIntoTask, SealedTryIntoTask, Token};
use crate::task::{cooperatively, IntoTask, Task, TaskError, TryIntoTask};
use crate::timeout::{deadline_after, TimeoutError, Timer};
use crate::wait::{outcome_of, TaskSet};

/// Why an item of [`as_completed`] has no value: the child it names (by its
/// position in the input) ended without one, or was still running at the
/// deadline. Either way the stream goes on to the next item.
///
/// It displays as "as_completed child {index} failed" ("was cancelled",
/// "panicked: {message}", ": deadline has elapsed"); for a failure, its
/// [`source`](std::error::Error::source) is the child's own error `E`, so
/// a printed chain names each message once and `downcast_ref::<E>()` finds
/// the child's error (through `Box<dyn Error>` or `anyhow`).
#[derive(Debug)]
#[non_exhaustive]
pub enum AsCompletedError<E> {
    /// The child ended without a value: it failed, was cancelled, or
    /// panicked. asyncio's exception raised by `await aw`.
    Child {
        /// The child's position in the input.
        index: usize,
        /// How it ended.
        error: TaskError<E>,
    },
    /// The deadline passed while the child was still running: asyncio's
    /// `TimeoutError`. The child was not cancelled (behaviour 45).
    TimedOut {
        /// The child's position in the input.
        index: usize,
    },
}

impl<E> AsCompletedError<E> {
    /// The position in the input of the child this item is about.
    pub fn index(&self) -> usize {
        match self {
            AsCompletedError::Child { index, .. } | AsCompletedError::TimedOut { index } => *index,
        }
    }

    /// Whether the deadline passed with the child still running.
    pub fn is_timeout(&self) -> bool {
        matches!(self, AsCompletedError::TimedOut { .. })
    }

    /// How the child ended, if it did.
    pub fn into_task_error(self) -> Option<TaskError<E>> {
        match self {
            AsCompletedError::Child { error, .. } => Some(error),
            AsCompletedError::TimedOut { .. } => None,
        }
    }
}

impl<E> fmt::Display for AsCompletedError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The child's own error is the `source`, not part of this
            // message.
            AsCompletedError::Child {
                index,
                error: TaskError::Failed(_),
            } => write!(f, "as_completed child {index} failed"),
            AsCompletedError::Child {
                index,
                error: TaskError::Cancelled,
            } => write!(f, "as_completed child {index} was cancelled"),
            AsCompletedError::Child {
                index,
                error: TaskError::Panicked(panic),
            } => write!(f, "as_completed child {index} panicked: {panic}"),
            AsCompletedError::TimedOut { index } => {
                write!(f, "as_completed child {index}: {TimeoutError}")
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for AsCompletedError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AsCompletedError::Child {
                error: TaskError::Failed(error),
                ..
            } => Some(error),
            AsCompletedError::Child { .. } | AsCompletedError::TimedOut { .. } => None,
        }
    }
}

/// Runs `children` and yields their outcomes in the order they finish:
/// asyncio's `for aw in as_completed(aws, timeout=...)`.
///
/// `children` is any iterator of futures (each spawned as a task now, so
/// they all start at once) or of [`Task`]s (taken as they are). The stream
/// yields each child's outcome as it finishes, `Ok(value)` or
/// `Err(AsCompletedError::Child { index, error })` naming the child by its
/// position in the input, and ends after the last one. With a `timeout` (a
/// [`Duration`]; `None` for no limit), once it passes, each child still
/// unfinished is yielded as `Err(AsCompletedError::TimedOut { index })` and
/// the stream ends; **no child is cancelled** (behaviour 45): take them back
/// with [`into_set`](AsCompleted::into_set). For futures returning `Result`, use
/// [`try_as_completed`]; to get the original tasks instead of their
/// outcomes (the 3.13 `async for` form), use [`tasks`](AsCompleted::tasks);
/// to get each outcome with its child's position on every item, not only on
/// errors, use [`indexed`](AsCompleted::indexed). To give the children a
/// grace period when the stream is dropped, use
/// [`with_grace`](AsCompleted::with_grace).
/// The stream spends tokio's cooperative budget, so draining many finished
/// children in a loop yields to the other tasks on the worker now and then.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let children = [3, 1, 2].map(|secs| async move {
///     asyncio::sleep(Duration::from_secs(secs)).await;
///     secs
/// });
/// let order: Vec<u64> = asyncio::as_completed(children, None)
///     .map(Result::unwrap)
///     .collect()
///     .await;
/// assert_eq!(order, [1, 2, 3]);
/// # }
/// ```
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `for aw in as_completed(aws): r = await aw` | `while let Some(item) = stream.next().await { let r = item?; }` |
/// | `except Exception as e` (which one failed is unknown) | `Err(AsCompletedError::Child { index, error })`: the child's position in the input |
/// | `async for t in as_completed(tasks)` (3.13) | `as_completed(tasks, None).tasks()` |
/// | (keeping a `dict` from task to index) | `as_completed(aws, None).indexed()`: `(index, outcome)` items |
/// | `as_completed(aws, timeout=5)` | `as_completed(aws, Duration::from_secs(5))` |
/// | a child's exception raised by `await aw` | `Err(AsCompletedError::Child { index, error: TaskError::Failed(e) })`, and the stream goes on (behaviour 46) |
/// | `TimeoutError` raised by `await aw` after the deadline | `Err(AsCompletedError::TimedOut { index })`, once per unfinished child |
///
/// The differences:
/// 1. The stream yields outcomes, not awaitables to await in turn
///    (behaviour 43): there is nothing to mix up, and each outcome is that
///    of the earliest child still unreported.
/// 2. A child's error is an item of the stream, never raised, so iterating
///    goes on after it (behaviour 46) without a `try`; and it says which
///    child it is (asyncio's does not).
/// 3. Passing a single future instead of an iterator (behaviour 47) does not
///    compile. An empty iterator yields nothing (behaviour 48). The stream
///    can be resumed after a `break` (behaviour 49), as any `Stream`.
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped (between items) | the children keep running | the stream and its children are untouched; poll it again to resume. A stream kept but no longer polled holds nothing that anyone else waits for: its children are its own, and their completions wait in it for its next poll |
/// | the stream is dropped | the children keep running | children it spawned from futures are cancelled (nobody else can reach them): aborted at once, or, with [`with_grace`](AsCompleted::with_grace), the token cancelled at once and the ones still running aborted when the grace period ends (by a reaper task); tasks you passed in are detached, as dropping a `Task` does |
/// | a child errors | raised by that `await` (plain `for`) | yielded as `Err(Child { index, error: TaskError::Failed(e) })` |
/// | a child is cancelled | `CancelledError` from that `await` | yielded as `Err(Child { index, error: TaskError::Cancelled })` |
/// | a child panics | the `BaseException` escapes | yielded as `Err(Child { index, error: TaskError::Panicked(p) })` |
/// | the timeout fires | `TimeoutError`; children not cancelled (45) | `Err(TimedOut { index })` per unfinished child, in input order; none cancelled |
/// | the rest are cancelled explicitly | `for t in tasks: t.cancel()` on the tasks you kept (nothing on the iterator does it) | [`into_set`](AsCompleted::into_set) then [`TaskSet::shutdown`] (cancel and join) or [`TaskSet::cancel_all`] (ask only); children already yielded are not touched |
/// | the runtime shuts down | tasks are cancelled | children end `Cancelled` |
///
/// # Cancel safety
///
/// The stream is cancel safe. If `stream.next()` is used as a branch in
/// `select!` and another branch completes first, it is guaranteed that no
/// outcome was taken from the stream: a child that finished meanwhile is
/// yielded by the next poll. The same holds for the
/// [`tasks`](AsCompleted::tasks) and [`indexed`](AsCompleted::indexed) forms.
///
/// # Panics
///
/// Spawning outside a tokio runtime panics at the caller's line.
#[track_caller]
pub fn as_completed<I>(
    children: I,
    timeout: impl Into<Option<Duration>>,
) -> AsCompleted<<I::Item as IntoTask>::Ok, <I::Item as IntoTask>::Err>
where
    I: IntoIterator,
    I::Item: IntoTask,
{
    let mut set = TaskSet::new();
    for child in children {
        let owned = <I::Item as SealedIntoTask<_, _>>::spawns(Token);
        set.insert_owned(child.into_task(Token), owned);
    }
    AsCompleted::from_set(set, timeout)
}

/// [`as_completed`] for fallible children: futures returning `Result<T, E>`
/// (spawned with [`try_spawn`](crate::try_spawn), so `Err(E)` is the
/// child's failure) or [`Task<T, E>`]s.
///
/// # Panics
///
/// Spawning outside a tokio runtime panics at the caller's line.
#[track_caller]
pub fn try_as_completed<I>(
    children: I,
    timeout: impl Into<Option<Duration>>,
) -> AsCompleted<<I::Item as TryIntoTask>::Ok, <I::Item as TryIntoTask>::Err>
where
    I: IntoIterator,
    I::Item: TryIntoTask,
{
    let mut set = TaskSet::new();
    for child in children {
        let owned = <I::Item as SealedTryIntoTask<_, _>>::spawns(Token);
        set.insert_owned(child.into_task(Token), owned);
    }
    AsCompleted::from_set(set, timeout)
}

/// What the streams take from the set: a finished task with its input
/// position, or the input position of a child still running at the deadline.
type Next<T, E> = Result<(usize, Task<T, E>), usize>;

/// The stream returned by [`as_completed`]: each child's outcome as it
/// finishes.
///
/// # Cancel safety
///
/// This stream is cancel safe. If `next()` is used as a branch in `select!`
/// and another branch completes first, it is guaranteed that no outcome was
/// taken from the stream.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<T, E = Infallible> {
    set: TaskSet<T, E>,
    deadline: Option<Instant>,
    timer: Timer,
    /// Set once the deadline passed: the positions of the children still to
    /// be yielded as timed out, in input order.
    timed_out: Option<VecDeque<usize>>,
}

impl<T, E> fmt::Debug for AsCompleted<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("set", &self.set)
            .field("deadline", &self.deadline)
            .field("timed_out", &self.timed_out.is_some())
            .finish()
    }
}

impl<T, E> AsCompleted<T, E> {
    /// Iterates over a [`TaskSet`] in completion order, with an optional
    /// timeout. What the set spawned itself stays cancel-on-drop.
    pub fn from_set(set: TaskSet<T, E>, timeout: impl Into<Option<Duration>>) -> Self {
        Self {
            set,
            deadline: timeout.into().map(deadline_after),
            timer: Timer::default(),
            timed_out: None,
        }
    }

    /// Yields the finished tasks themselves instead of their outcomes: the
    /// 3.13 `async for` form of asyncio's `as_completed`, which yields the
    /// original tasks (behaviour 44).
    pub fn tasks(self) -> AsCompletedTasks<T, E> {
        AsCompletedTasks { inner: self }
    }

    /// Yields each outcome with its child's position in the input, on every
    /// item: `(index, Ok(value))` as well as `(index, Err(..))`. For code
    /// that puts results back in their places (a sliding window, a progress
    /// table) without a map from ids to indices. The timeout and the
    /// cancellation are the plain stream's; the `index` inside an
    /// [`AsCompletedError`] is the same as the item's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let children = [3, 1, 2].map(|secs| async move {
    ///     asyncio::sleep(Duration::from_secs(secs)).await;
    ///     secs * 10
    /// });
    /// let mut results = [0; 3];
    /// let mut stream = asyncio::as_completed(children, None).indexed();
    /// let mut order = Vec::new();
    /// while let Some((index, outcome)) = stream.next().await {
    ///     results[index] = outcome.unwrap();
    ///     order.push(index);
    /// }
    /// assert_eq!(order, [1, 2, 0]); // completion order
    /// assert_eq!(results, [30, 10, 20]); // each in its input place
    /// # }
    /// ```
    pub fn indexed(self) -> AsCompletedIndexed<T, E> {
        AsCompletedIndexed { inner: self }
    }

    /// Gives back the children not yet yielded, in a set (for example the
    /// ones still running after a timeout, which were not cancelled). The
    /// set keeps the stream's grace period, if it has one; to cancel the
    /// children and wait for them, call [`TaskSet::shutdown`] on it.
    pub fn into_set(self) -> TaskSet<T, E> {
        self.set.unregister();
        self.set
    }

    /// How many children have not been yielded yet.
    pub fn remaining(&self) -> usize {
        match &self.timed_out {
            Some(left) => left.len(),
            None => self.set.len(),
        }
    }

    /// [`poll_next_task`](Self::poll_next_task) within tokio's cooperative
    /// budget, for both streams. The end costs no budget.
    fn poll_next_budgeted(&mut self, cx: &mut Context<'_>) -> Poll<Option<Next<T, E>>> {
        if self.remaining() == 0 {
            return Poll::Ready(None);
        }
        cooperatively!(cx, self.poll_next_task(cx))
    }

    /// The next finished task with its input position, or the position of a
    /// child still running once the deadline passed.
    fn poll_next_task(&mut self, cx: &mut Context<'_>) -> Poll<Option<Next<T, E>>> {
        if let Some(left) = &mut self.timed_out {
            return Poll::Ready(left.pop_front().map(Err));
        }
        if let Poll::Ready(next) = self.set.poll_next_positioned(cx) {
            return Poll::Ready(next.map(Ok));
        }
        if !self.timer.poll_expired(self.deadline, 0, cx) {
            return Poll::Pending;
        }
        // The deadline passed: every child still unfinished is one timeout.
        // They stay in the set, running, for `into_set`.
        self.set.unregister();
        self.timed_out = Some(self.set.pending_positions().into());
        self.poll_next_task(cx)
    }
}

impl<T: Send + 'static, E: Send + 'static> AsCompleted<T, E> {
    /// Cancels cooperatively when the stream is dropped: the children it
    /// spawned (from futures) are not aborted at once; `token` is cancelled,
    /// so they can stop on their own and clean up asynchronously, and those
    /// still running `grace` later are aborted by a reaper task on the
    /// current runtime (SPEC decision 5; see [`TaskSet::with_grace`], whose
    /// rules this is). Tasks you passed in are detached on drop, grace or
    /// not. The stream itself never cancels a child while it is iterated
    /// (a timeout cancels nothing, behaviour 45), so the grace period
    /// matters only at the drop, or for the set [`into_set`](Self::into_set)
    /// gives back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use asyncio::CancellationToken;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let token = CancellationToken::new();
    /// let cleaned = Arc::new(AtomicBool::new(false));
    /// let (watched, flag) = (token.clone(), cleaned.clone());
    /// let stream = asyncio::as_completed(
    ///     [async move {
    ///         watched.cancelled().await;
    ///         asyncio::sleep(Duration::from_millis(10)).await; // async clean-up
    ///         flag.store(true, Ordering::SeqCst);
    ///     }],
    ///     None,
    /// )
    /// .with_grace(token, Duration::from_secs(1));
    /// drop(stream);
    /// asyncio::sleep(Duration::from_millis(20)).await;
    /// assert!(cleaned.load(Ordering::SeqCst));
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// The reaper's timer panics outside a tokio runtime with the time driver
    /// enabled (in its own task; the drop then aborts at once).
    pub fn with_grace(mut self, token: CancellationToken, grace: Duration) -> Self {
        self.set.set_grace(token, grace);
        self
    }
}

impl<T, E> Unpin for AsCompleted<T, E> {}

impl<T, E> Stream for AsCompleted<T, E> {
    type Item = Result<T, AsCompletedError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_budgeted(cx).map(|next| {
            next.map(|item| match item {
                Ok((index, task)) => {
                    outcome_of(task).map_err(|error| AsCompletedError::Child { index, error })
                }
                Err(index) => Err(AsCompletedError::TimedOut { index }),
            })
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.remaining();
        (remaining, Some(remaining))
    }
}

/// The stream returned by [`AsCompleted::tasks`]: each child's task as it
/// finishes.
///
/// # Cancel safety
///
/// This stream is cancel safe. If `next()` is used as a branch in `select!`
/// and another branch completes first, it is guaranteed that no task was
/// taken from the stream.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompletedTasks<T, E = Infallible> {
    inner: AsCompleted<T, E>,
}

impl<T, E> fmt::Debug for AsCompletedTasks<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompletedTasks")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T, E> AsCompletedTasks<T, E> {
    /// Gives back the children not yet yielded, in a set.
    pub fn into_set(self) -> TaskSet<T, E> {
        self.inner.into_set()
    }
}

impl<T, E> Unpin for AsCompletedTasks<T, E> {}

impl<T, E> Stream for AsCompletedTasks<T, E> {
    type Item = Result<Task<T, E>, TimeoutError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut()
            .inner
            .poll_next_budgeted(cx)
            .map(|next| next.map(|item| item.map(|(_, task)| task).map_err(|_| TimeoutError)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// The stream returned by [`AsCompleted::indexed`]: each outcome with its
/// child's position in the input.
///
/// # Cancel safety
///
/// This stream is cancel safe. If `next()` is used as a branch in `select!`
/// and another branch completes first, it is guaranteed that no outcome was
/// taken from the stream.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompletedIndexed<T, E = Infallible> {
    inner: AsCompleted<T, E>,
}

impl<T, E> fmt::Debug for AsCompletedIndexed<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompletedIndexed")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T, E> AsCompletedIndexed<T, E> {
    /// Gives back the children not yet yielded, in a set.
    pub fn into_set(self) -> TaskSet<T, E> {
        self.inner.into_set()
    }
}

impl<T, E> Unpin for AsCompletedIndexed<T, E> {}

impl<T, E> Stream for AsCompletedIndexed<T, E> {
    type Item = (usize, Result<T, AsCompletedError<E>>);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.poll_next_budgeted(cx).map(|next| {
            next.map(|item| match item {
                Ok((index, task)) => (
                    index,
                    outcome_of(task).map_err(|error| AsCompletedError::Child { index, error }),
                ),
                Err(index) => (index, Err(AsCompletedError::TimedOut { index })),
            })
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}
