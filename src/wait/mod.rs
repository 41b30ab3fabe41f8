//! [`TaskSet`] and [`wait`]: asyncio's `wait`, over a set of tasks the
//! caller owns.

#[doc(hidden)]
pub mod core;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

pub use self::core::ReturnWhen;
use self::core::SetCore;
use crate::task::{cooperatively, Task, TaskError, TaskId};
use crate::timeout::{deadline_after, Timer};

/// A set of running tasks that keeps its own completion order: what
/// asyncio's `wait` and `as_completed` take, owned by the caller.
///
/// Tasks enter the set with [`insert`](TaskSet::insert) (a task you spawned)
/// or [`spawn`](TaskSet::spawn) / [`try_spawn`](TaskSet::try_spawn) (the set
/// spawns it), and leave it finished, in the order they finished, through
/// [`wait`] or [`next_completed`](TaskSet::next_completed). The set notices
/// each completion without revisiting the pending tasks, so draining N tasks
/// one at a time costs O(N) in total (a loop of asyncio's `wait` costs
/// O(N²)). Like `JoinSet::join_next`, `wait` and `next_completed` spend
/// tokio's cooperative budget, so draining many finished tasks in a loop
/// yields to the other tasks on the worker now and then.
///
/// # Examples
///
/// The asyncio loop `while pending: done, pending = await wait(pending, ...)`:
///
/// ```
/// use std::time::Duration;
/// use asyncio::{wait, ReturnWhen, TaskSet};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut pending = TaskSet::new();
/// for secs in [3, 1, 2] {
///     pending.spawn(async move {
///         asyncio::sleep(Duration::from_secs(secs)).await;
///         secs
///     });
/// }
/// let mut order = Vec::new();
/// while !pending.is_empty() {
///     let done = wait(&mut pending, ReturnWhen::FirstCompleted, None).await.unwrap();
///     for task in done {
///         order.push(task.await.unwrap()); // finished: completes at once
///     }
/// }
/// assert_eq!(order, [1, 2, 3]);
/// # }
/// ```
///
/// # asyncio equivalent
///
/// asyncio's `wait` takes any iterable of tasks and returns two new sets,
/// `done` and `pending`. Here the caller owns one `TaskSet`: `wait` takes
/// the finished tasks out of it and returns them, and the pending ones stay
/// in it. The differences:
/// 1. A task cannot be in the set twice (it is moved in), so asyncio's
///    "duplicates collapse" (behaviour 34) holds by construction.
/// 2. Tasks are identified by [`TaskId`], or by the values they return,
///    not by object identity.
///
/// # Cancellation
///
/// Dropping the set drops the tasks in it:
/// - a task you [`insert`](TaskSet::insert)ed is **detached**, exactly as
///   dropping its `Task` would (asyncio's tasks run whether or not anyone
///   holds them; you may hold a [`CancelHandle`](crate::CancelHandle));
/// - a task the set [`spawn`](TaskSet::spawn)ed is **cancelled** (aborted;
///   it stops at its next await point): nobody else can reach it, so
///   detaching it would leave work running that nothing can observe or stop.
///
/// A finished task in the set whose failure nobody took is reported to the
/// [unobserved-error hook](crate::set_unobserved_error_hook) when dropped.
/// To cancel everything and wait for it to finish, call
/// [`cancel_all`](TaskSet::cancel_all), then wait with
/// [`ReturnWhen::AllCompleted`].
pub struct TaskSet<T, E = Infallible> {
    core: SetCore<T, E, Task<T, E>>,
}

impl<T, E> fmt::Debug for TaskSet<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskSet")
            .field("pending", &self.core.pending())
            .field("done", &self.core.done())
            .finish()
    }
}

impl<T, E> Default for TaskSet<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> TaskSet<T, E> {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            core: SetCore::new(),
        }
    }

    /// Adds a task you spawned. If the set is dropped, the task is detached.
    pub fn insert(&mut self, task: Task<T, E>) {
        self.core.insert(task, false);
    }

    pub(crate) fn insert_owned(&mut self, task: Task<T, E>, owned: bool) {
        self.core.insert(task, owned);
    }

    /// The next finished task with its position in insertion order.
    pub(crate) fn poll_next_positioned(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, Task<T, E>)>> {
        self.core.poll_next(cx)
    }

    /// The positions of the unfinished tasks, in insertion order.
    pub(crate) fn pending_positions(&self) -> Vec<usize> {
        self.core.pending_positions()
    }

    /// How many tasks are in the set, finished or not.
    pub fn len(&self) -> usize {
        self.core.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.core.is_empty()
    }

    /// How many tasks in the set have not finished (as far as the set has
    /// seen; a task that finished since the last wait still counts).
    pub fn pending(&self) -> usize {
        self.core.pending()
    }

    /// Requests cancellation of every unfinished task in the set; returns how
    /// many were still running. They stay in the set and come out of it, as
    /// cancelled (or completed, if they beat the cancellation), like any other
    /// finished task.
    pub fn cancel_all(&self) -> usize {
        self.core.cancel_all()
    }

    /// Empties the set: finished tasks in completion order, then the others in
    /// the order they were put in.
    /// No task is cancelled or detached.
    pub fn into_tasks(self) -> Vec<Task<T, E>> {
        self.core.into_handles()
    }

    /// The next task to finish, taken out of the set; `None` once the set is
    /// empty. asyncio's `as_completed` over the set, one at a time (the 3.13
    /// form, which yields the original tasks).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel-safe: if it is used as a branch in `select!` and
    /// another branch completes first, no task has left the set.
    pub fn next_completed(&mut self) -> NextCompleted<'_, T, E> {
        NextCompleted {
            set: self,
            returned: false,
        }
    }

    /// Polls for the next task to finish: the poll form of
    /// [`next_completed`](TaskSet::next_completed).
    pub fn poll_next_completed(&mut self, cx: &mut Context<'_>) -> Poll<Option<Task<T, E>>> {
        if self.core.is_empty() {
            // The end costs no budget, as an empty `JoinSet`'s does not.
            return Poll::Ready(None);
        }
        cooperatively(cx, |cx| self.core.poll_next(cx)).map(|next| next.map(|(_, task)| task))
    }

    pub(crate) fn unregister(&self) {
        self.core.unregister();
    }
}

impl<T: Send + 'static> TaskSet<T, Infallible> {
    /// Spawns `future` as a task in the set. If the set is dropped, the task
    /// is cancelled.
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> TaskId
    where
        F: Future<Output = T> + Send + 'static,
    {
        let task = crate::spawn(future);
        let id = task.id();
        self.core.insert(task, true);
        id
    }
}

impl<T: Send + 'static, E: fmt::Debug + Send + 'static> TaskSet<T, E> {
    /// Spawns a fallible `future` as a task in the set: its `Err(E)` is the
    /// task's failure. If the set is dropped, the task is cancelled.
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn try_spawn<F>(&mut self, future: F) -> TaskId
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let task = crate::try_spawn(future);
        let id = task.id();
        self.core.insert(task, true);
        id
    }
}

impl<T, E> Extend<Task<T, E>> for TaskSet<T, E> {
    fn extend<I: IntoIterator<Item = Task<T, E>>>(&mut self, tasks: I) {
        for task in tasks {
            self.insert(task);
        }
    }
}

impl<T, E> FromIterator<Task<T, E>> for TaskSet<T, E> {
    fn from_iter<I: IntoIterator<Item = Task<T, E>>>(tasks: I) -> Self {
        let mut set = Self::new();
        set.extend(tasks);
        set
    }
}

/// The future returned by [`TaskSet::next_completed`].
#[must_use = "futures do nothing unless polled"]
pub struct NextCompleted<'a, T, E = Infallible> {
    set: &'a mut TaskSet<T, E>,
    /// As for [`Wait`]: only a future dropped mid-way unregisters.
    returned: bool,
}

impl<T, E> fmt::Debug for NextCompleted<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextCompleted")
            .field("set", &self.set)
            .finish()
    }
}

impl<T, E> Future for NextCompleted<'_, T, E> {
    type Output = Option<Task<T, E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let next = std::task::ready!(self.set.poll_next_completed(cx));
        self.returned = true;
        Poll::Ready(next)
    }
}

impl<T, E> Drop for NextCompleted<'_, T, E> {
    fn drop(&mut self) {
        if !self.returned {
            self.set.unregister();
        }
    }
}

/// [`wait`] was given an empty set: asyncio's `ValueError` (behaviour 33).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WaitError {
    /// The set holds no task, so there is nothing to wait for.
    #[error("wait on an empty task set")]
    Empty,
}

/// Waits for tasks in `set` to finish: asyncio's
/// `done, pending = await asyncio.wait(tasks, timeout=..., return_when=...)`.
///
/// Returns the finished tasks, taken out of the set in the order they
/// finished; the pending ones stay in the set. It returns when `return_when`
/// is satisfied, or when `timeout` (a [`Duration`], or `None` for no limit)
/// passes:
/// - [`FirstCompleted`](ReturnWhen::FirstCompleted): once at least one task
///   has finished, in any way, a cancellation included; every task that has
///   finished by then comes back, not just one (behaviour 36).
/// - [`FirstException`](ReturnWhen::FirstException): once a task has failed
///   (returned `Err` or panicked); a cancelled task does not count
///   (behaviour 37). If none fails, it is `AllCompleted`.
/// - [`AllCompleted`](ReturnWhen::AllCompleted): once every task has
///   finished.
///
/// On timeout it returns what has finished, possibly nothing, and cancels
/// nothing (behaviour 35). It never returns a task's error as its own
/// (behaviour 38): await each finished task (it completes at once) or call
/// [`Task::try_outcome`] to read its outcome.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use asyncio::{wait, ReturnWhen, TaskSet};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut set = TaskSet::new();
/// set.try_spawn(async { Err::<u32, _>("bad") });
/// set.try_spawn(async {
///     asyncio::sleep(Duration::from_secs(60)).await;
///     Ok(1)
/// });
/// let done = wait(&mut set, ReturnWhen::FirstException, None).await.unwrap();
/// assert_eq!(done.len(), 1);
/// assert!(done.into_iter().next().unwrap().await.is_err());
/// assert_eq!(set.len(), 1); // the slow one is still pending, untouched
/// # }
/// ```
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `done, pending = await asyncio.wait(tasks)` | `let done = wait(&mut set, ReturnWhen::AllCompleted, None).await?;` (the set is `pending`) |
/// | `asyncio.FIRST_COMPLETED` / `FIRST_EXCEPTION` / `ALL_COMPLETED` | [`ReturnWhen`] |
/// | `timeout=5` | `Some(Duration::from_secs(5))`, or a plain `Duration` |
/// | `t.result()` for `t` in `done` | `t.await` (at once) or `t.try_outcome()` |
/// | `ValueError` on an empty iterable | `Err(WaitError::Empty)` |
///
/// The differences:
/// 1. `done` is a `Vec` in completion order, not a `set`.
/// 2. asyncio's `wait` always yields to the event loop once, even when
///    every task is already done (behaviour 40); here a wait whose
///    condition already holds completes at its first poll. `timeout=0` is
///    the same snapshot: what has finished by the first poll.
/// 3. Bad arguments asyncio rejects at run time (a coroutine, a single
///    future, a bad `return_when`; behaviour 33) cannot be written: the set
///    holds only tasks and `ReturnWhen` is an enum.
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped | `CancelledError`; the tasks are not cancelled and keep running (39) | nothing is cancelled; every task, finished or not, is still in the set. The set keeps no waker of the dropped wait, and its tasks are nobody else's: a set that is kept but no longer waited on holds back nothing |
/// | a task errors | returned in `done`; not raised (38) | returned; its outcome is read from the task |
/// | a task is cancelled | returned in `done` (36); does not count for `FIRST_EXCEPTION` (37) | the same |
/// | a task panics | the `BaseException` escapes the loop | returned in `done`; its outcome is `Err(TaskError::Panicked(p))` |
/// | the timeout fires | returns what is done; cancels nothing (35) | the same |
/// | the set is dropped | n/a (asyncio does not own the tasks) | inserted tasks are detached, spawned ones cancelled (see [`TaskSet`]) |
/// | the runtime shuts down | tasks are cancelled | tasks end `Cancelled`; the wait is dropped with its task |
///
/// # Cancel safety
///
/// This function is cancel-safe: if its future is used as a branch in
/// `select!` and another branch completes first, no task has left the set.
///
/// # Errors
///
/// [`WaitError::Empty`] if the set holds no task (behaviour 33).
///
/// # Panics
///
/// When polled with a timeout outside a tokio runtime with the time driver
/// enabled.
pub fn wait<T, E>(
    set: &mut TaskSet<T, E>,
    return_when: ReturnWhen,
    timeout: impl Into<Option<Duration>>,
) -> Wait<'_, T, E> {
    Wait {
        set,
        return_when,
        deadline: timeout.into().map(deadline_after),
        timer: Timer::default(),
        returned: false,
    }
}

/// The future returned by [`wait`].
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a, T, E = Infallible> {
    set: &'a mut TaskSet<T, E>,
    return_when: ReturnWhen,
    deadline: Option<Instant>,
    timer: Timer,
    /// It returned: the caller is likely to wait again at once, so its
    /// waker stays registered (a later completion wakes it spuriously at
    /// worst); only a wait dropped mid-way unregisters.
    returned: bool,
}

impl<T, E> fmt::Debug for Wait<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("set", &self.set)
            .field("return_when", &self.return_when)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl<T, E> Future for Wait<'_, T, E> {
    type Output = Result<Vec<Task<T, E>>, WaitError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.set.is_empty() {
            return Poll::Ready(Err(WaitError::Empty));
        }
        let done = std::task::ready!(cooperatively(cx, |cx| {
            let timed_out = this.timer.poll_expired(this.deadline, 0, cx);
            this.set.core.poll_wait(cx, this.return_when, timed_out)
        }));
        this.returned = true;
        Poll::Ready(Ok(done))
    }
}

impl<T, E> Drop for Wait<'_, T, E> {
    fn drop(&mut self) {
        if !self.returned {
            self.set.unregister();
        }
    }
}

/// The outcome of a finished task, for code that reads outcomes out of a
/// `Vec` of finished tasks.
pub(crate) fn outcome_of<T, E>(task: Task<T, E>) -> Result<T, TaskError<E>> {
    match task.try_outcome() {
        Ok(outcome) => outcome,
        Err(_) => unreachable!("asyncio: a task left a set before it finished"),
    }
}
