//! [`Task`]: a spawned child with asyncio's `Task` semantics.
//!
//! [`spawn`] runs a plain future as a task; [`try_spawn`] runs a future that
//! returns `Result<T, E>`, whose `Err` is the task's failure. Awaiting a task
//! yields `Result<T, TaskError<E>>`.

pub(crate) mod current;
mod error;
mod to_thread;

pub(crate) mod core;
pub(crate) mod ready;

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::task::{AbortHandle, JoinHandle};

use self::core::{Child, Infallibly, TaskCore};
pub use self::current::current_task;
use self::current::{erase, ErasedCore};
pub use self::error::{Panic, TaskError};
pub use self::to_thread::to_thread;
use crate::hook::{self, Unobserved};
use crate::sync::Arc;

/// A task's identity, unique within the process, as named in error reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(u64);

impl TaskId {
    /// A fresh id.
    pub(crate) fn next() -> Self {
        // Plain std atomic on purpose: this is a counter, not synchronisation
        // any core relies on, so it stays out of the loom shim.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        TaskId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// Builds an id from a number (for the loom models, through
    /// `__cores::task_id`).
    pub(crate) fn from_raw(raw: u64) -> Self {
        TaskId(raw)
    }

    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.0)
    }
}

/// Hands an unobservable failure to the unobserved-error hook.
pub(crate) fn report_unobserved<E: fmt::Debug + Send + 'static>(task: TaskId, error: TaskError<E>) {
    match error {
        TaskError::Failed(error) => hook::report(Unobserved::Failed {
            task,
            error: hook::Failure::new(error),
        }),
        TaskError::Panicked(panic) => hook::report(Unobserved::Panicked { task, panic }),
        TaskError::Cancelled => {}
    }
}

/// Runs `future` as a new task on the current tokio runtime, as asyncio's
/// `create_task(coro)`. The task starts running at once; it does not wait to
/// be awaited.
///
/// Awaiting the returned [`Task`] yields `Ok(value)`, or
/// `Err(TaskError::Cancelled)` if it was cancelled, or
/// `Err(TaskError::Panicked(..))` if it panicked. For a future that returns
/// `Result<T, E>`, use [`try_spawn`], so that `Err(E)` is the task's failure.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let task = asyncio::spawn(async { 1 + 1 });
/// assert_eq!(task.await.unwrap(), 2);
/// # }
/// ```
///
/// # asyncio equivalent
///
/// `asyncio.create_task(coro)`. The differences:
/// 1. A Rust future that panics is a task that "raised a `BaseException`":
///    the panic is caught and kept as [`TaskError::Panicked`].
/// 2. There is no `name=` or `context=`; the task has a [`TaskId`].
///
/// # Panics
///
/// If called outside a tokio runtime, at the caller's line, as
/// `tokio::spawn` does. That is a programming error, not bad input.
#[track_caller]
#[doc(alias = "create_task")]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    try_spawn(Infallibly::new(future))
}

/// Runs a fallible `future` as a new task: its `Err(E)` is the task's failure,
/// [`TaskError::Failed`]. Otherwise the same as [`spawn`].
///
/// `E` must be [`Debug`](fmt::Debug) so that a failure nobody observes can be
/// reported to the [unobserved-error hook](crate::set_unobserved_error_hook).
///
/// # Examples
///
/// ```
/// use asyncio::TaskError;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let task = asyncio::try_spawn(async { Err::<u32, _>("no such user") });
/// assert!(matches!(task.await, Err(TaskError::Failed("no such user"))));
/// # }
/// ```
///
/// # Panics
///
/// If called outside a tokio runtime, at the caller's line.
#[track_caller]
pub fn try_spawn<F, T, E>(future: F) -> Task<T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    let runtime = current_runtime();
    let core = Arc::new(TaskCore::new(TaskId::next(), report_unobserved::<E>));
    let join = runtime.spawn(Child::new(future, core.clone()));
    Task::from_parts(core, join)
}

/// Runs `future` as a new task on the current [`LocalSet`](tokio::task::LocalSet)
/// (or `LocalRuntime`): [`spawn`] for a future that is not `Send`, such as
/// one holding `Rc<RefCell<_>>` state, which is how single-threaded asyncio
/// code ports most directly.
///
/// The task is a [`Task`] like any other: it can be awaited, cancelled,
/// gathered, raced, put in a [`TaskSet`](crate::TaskSet), and it can reach
/// its own handle with [`current_task`]. Its future stays on the thread
/// that runs the `LocalSet`; its output must be `Send`, because the task's
/// outcome and its [`CancelHandle`] can travel to other threads (a
/// `CancelHandle` is `Send` for every task).
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let local = tokio::task::LocalSet::new();
/// local
///     .run_until(async {
///         let counter = Rc::new(RefCell::new(0));
///         let tasks: Vec<_> = (0..3)
///             .map(|_| {
///                 let counter = counter.clone();
///                 asyncio::spawn_local(async move { *counter.borrow_mut() += 1 })
///             })
///             .collect();
///         asyncio::gather(tasks).await.unwrap();
///         assert_eq!(*counter.borrow(), 3);
///     })
///     .await;
/// # }
/// ```
///
/// # Panics
///
/// If called outside a `LocalSet` (or `LocalRuntime`), at the caller's
/// line, as `tokio::task::spawn_local` does.
#[track_caller]
pub fn spawn_local<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    try_spawn_local(Infallibly::new(future))
}

/// [`try_spawn`] for a future that is not `Send`: runs it on the current
/// [`LocalSet`](tokio::task::LocalSet), and its `Err(E)` is the task's
/// failure. See [`spawn_local`].
///
/// # Panics
///
/// If called outside a `LocalSet` (or `LocalRuntime`), at the caller's line.
#[track_caller]
pub fn try_spawn_local<F, T, E>(future: F) -> Task<T, E>
where
    F: Future<Output = Result<T, E>> + 'static,
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    let core = Arc::new(TaskCore::new(TaskId::next(), report_unobserved::<E>));
    let join = tokio::task::spawn_local(Child::new(future, core.clone()));
    Task::from_parts(core, join)
}

/// [`spawn`] on the runtime `handle` names rather than the current one:
/// for a library that keeps its own runtime, or code that runs outside any.
///
/// # Examples
///
/// ```
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// // No runtime is current here.
/// let task = asyncio::spawn_on(runtime.handle(), async { 6 * 7 });
/// assert_eq!(runtime.block_on(async { task.await }).unwrap(), 42);
/// ```
pub fn spawn_on<F>(handle: &tokio::runtime::Handle, future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    try_spawn_on(handle, Infallibly::new(future))
}

/// [`try_spawn`] on the runtime `handle` names. See [`spawn_on`].
pub fn try_spawn_on<F, T, E>(handle: &tokio::runtime::Handle, future: F) -> Task<T, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    let core = Arc::new(TaskCore::new(TaskId::next(), report_unobserved::<E>));
    let join = handle.spawn(Child::new(future, core.clone()));
    Task::from_parts(core, join)
}

/// The current tokio runtime, or a panic at the caller's line.
#[track_caller]
pub(crate) fn current_runtime() -> tokio::runtime::Handle {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime,
        Err(_) => panic!(
            "asyncio: a task was spawned outside a tokio runtime; \
             call this from inside a runtime (#[tokio::main] or Runtime::block_on)"
        ),
    }
}

/// Polls an operation within tokio's cooperative budget, as tokio's own
/// channels and `JoinSet` do: an operation that completes spends one unit
/// of the task's budget, and once the budget is spent the operation yields
/// (it returns `Pending` before `poll` runs), so a task that moves items or
/// completions in a loop cannot keep its worker from the other tasks.
/// tokio wakes a task that yielded this way only after its worker has
/// polled the I/O and timer driver (tokio's "defer" strategy, as for
/// `yield_now`): when every runnable task on the worker has yielded so,
/// that is a system call (`epoll_wait` with no timeout) per round of
/// budgets, which instruction counts do not show (see BENCHMARKS.md's
/// notes on the current-thread queue). Outside a tokio runtime, or inside
/// `tokio::task::coop::unconstrained`, there is no budget. The cores do
/// not see this: a yielded operation has changed nothing.
///
/// `cooperatively!(cx, poll)` evaluates `poll` (an expression that polls,
/// and may use `cx`) only if the budget allows. A macro rather than a
/// function taking a closure: the closure made one more function for the
/// inliner to keep out of line, and a queue's `put` or `get` awaited at
/// two places in a program was compiled as calls (about 50 more
/// instructions an item, and 1.1× flume instead of 1.0× on the
/// current-thread 1P/1C bench).
macro_rules! cooperatively {
    ($cx:expr, $poll:expr) => {{
        let coop = ::std::task::ready!(::tokio::task::coop::poll_proceed($cx));
        let outcome = $poll;
        if outcome.is_ready() {
            coop.made_progress();
        }
        outcome
    }};
}
pub(crate) use cooperatively;

/// A handle to a spawned child: asyncio's `Task`.
///
/// Await it by value (`task.await`) to get `Result<T, TaskError<E>>`. The
/// task runs whether or not anyone holds the handle.
///
/// - **Dropping a `Task` detaches it**: the task keeps running and its
///   outcome is dropped when it finishes; a failure or panic is handed to the
///   [unobserved-error hook](crate::set_unobserved_error_hook) (asyncio's
///   "Task exception was never retrieved").
/// - **Dropping the future that awaits a `Task` cancels the task**, as in
///   asyncio, where cancelling a coroutine that awaits a task cancels that
///   task (behaviour 8). To await a task without that, use
///   [`shield`](crate::shield).
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `t = asyncio.create_task(coro)` | `let t = asyncio::spawn(fut);` (or [`try_spawn`]) |
/// | `await t` | `t.await` |
/// | `t.cancel()` | [`t.cancel()`](Task::cancel) |
/// | `t.done()` | [`t.is_done()`](Task::is_done) |
/// | `t.cancelled()` | [`t.is_cancelled()`](Task::is_cancelled) |
/// | `t.exception() is not None` | [`t.is_failed()`](Task::is_failed) |
/// | `t.result()` / `t.exception()` | the `Result` that awaiting yields |
/// | `t.get_name()` | [`t.id()`](Task::id) |
/// | `asyncio.current_task()` | [`current_task()`](crate::current_task) |
/// | `await t` beside a timer in a loop | `select! { r = &mut t => .. }` ([`JoinRef`]): the borrow does not cancel |
///
/// The differences:
/// 1. `cancel()` is an abort: the task's future is dropped at its next await
///    point, so it cannot catch the cancellation, ignore it, or clean up
///    asynchronously (asyncio behaviours 4–7, 9, 10). A future that never
///    awaits cannot be cancelled.
/// 2. Completion beats cancellation: if `cancel()` races the task's
///    completion, the computed value is delivered, never dropped (asyncio
///    behaviour 12 loses it).
/// 3. There is no `cancelling()` / `uncancel()` count: with abort, nothing
///    can catch a cancellation, so nothing needs the count.
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the future awaiting the task is dropped | the awaiting task's cancellation is passed on: the task is cancelled (8) | the task is cancelled: aborted, stops at its next await point |
/// | the task's future returns `Err` | the exception is stored | the outcome is `Err(TaskError::Failed(e))` |
/// | the task is cancelled | `CancelledError` | `Err(TaskError::Cancelled)`, unless it completed first |
/// | the task panics | `KeyboardInterrupt` escapes the loop (96) | the panic is caught: `Err(TaskError::Panicked(p))`; `p.resume()` continues it |
/// | a timeout fires | n/a (see [`wait_for`](crate::wait_for)) | n/a (see [`wait_for`](crate::wait_for)) |
/// | the handle is dropped | the task runs on; an unretrieved exception is logged | the task runs on (detached); an unobserved failure or panic goes to the hook |
/// | the runtime shuts down | pending tasks are cancelled by `asyncio.run` | the task is dropped; its outcome becomes `Cancelled` |
pub struct Task<T, E = Infallible> {
    core: Arc<TaskCore<T, E>>,
    /// The child's tokio task, kept as the `JoinHandle` that spawning
    /// returned (its output is the wrapper's `()`; the outcome is in the
    /// core): it aborts as an `AbortHandle` would, and keeping it spares
    /// each spawn making an `AbortHandle` and dropping the `JoinHandle`.
    /// `None` for a task that was never spawned (a task group refused it
    /// and handed back an already-cancelled task).
    abort: Option<JoinHandle<()>>,
}

impl<T, E> fmt::Debug for Task<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.core.id())
            .field("done", &self.core.is_done())
            .field("cancelled", &self.core.is_cancelled())
            .finish()
    }
}

impl<T, E> Task<T, E> {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.core.id()
    }

    /// Requests that the task be cancelled, as asyncio's `Task.cancel()`.
    ///
    /// Returns `false` if the task had already finished: the request is too
    /// late, and the task's outcome stands (asyncio behaviour 1). Returns
    /// `true` if the task was still running: it is aborted and stops at its
    /// next await point, and awaiting it then yields
    /// `Err(TaskError::Cancelled)`. If the task completes before the abort
    /// reaches it, its value is delivered instead: completion beats
    /// cancellation (asyncio would lose that value, behaviour 12). As in
    /// asyncio, `true` means "requested", not "cancelled" (behaviour 2); await
    /// the task to know how it ended.
    pub fn cancel(&self) -> bool {
        abort_if_requested(self.core.request_cancel(), self.abort.as_ref())
    }

    /// Whether the task has finished, in any way (asyncio's `done()`).
    pub fn is_done(&self) -> bool {
        self.core.is_done()
    }

    /// Whether the task finished by being cancelled (asyncio's `cancelled()`).
    /// `false` while it runs, even after [`cancel`](Task::cancel).
    pub fn is_cancelled(&self) -> bool {
        self.core.is_cancelled()
    }

    /// Whether the task ended with an error or a panic (asyncio: its
    /// `exception()` is not `None`). `false` while it runs, and for a task
    /// that was cancelled: a cancellation is not a failure. Stays `true`
    /// after the outcome was taken.
    pub fn is_failed(&self) -> bool {
        self.core.is_failure()
    }

    /// A cloneable handle that can cancel this task after the `Task` itself
    /// has moved into a primitive (or been dropped), and can wait for it to
    /// finish.
    pub fn cancel_handle(&self) -> CancelHandle
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        CancelHandle::from_erased(
            erase(&self.core),
            self.abort.as_ref().map(JoinHandle::abort_handle),
        )
    }

    /// The task's outcome if it has finished, without waiting; otherwise the
    /// task back. A finished task's outcome can also be had with `.await`,
    /// which completes at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let task = asyncio::spawn(async { 3 });
    /// let task = task.try_outcome().expect_err("it has not run yet");
    /// tokio::task::yield_now().await;
    /// assert_eq!(task.try_outcome().unwrap().unwrap(), 3);
    /// # }
    /// ```
    pub fn try_outcome(self) -> Result<Result<T, TaskError<E>>, Self> {
        match self.core.try_take() {
            Some(outcome) => Ok(outcome),
            None => Err(self),
        }
    }

    /// Detaches the task: the same as dropping the handle, said explicitly.
    pub fn detach(self) {}

    /// Awaits the task the way asyncio's `await task` does inside another
    /// task: its value is `Ok`, its failure is `Err(E)` (for `?`), its
    /// panic continues in the awaiting task, and **its cancellation
    /// cancels the awaiting task**, which ends
    /// [`Cancelled`](TaskError::Cancelled) itself, at this await point.
    /// So a cancellation travels up a chain of awaits, and every primitive
    /// that watches the outer task (gather, wait, a task group) sees a
    /// cancellation, not a failure.
    ///
    /// Awaiting the task directly (`task.await`) instead hands the
    /// cancellation over as a value, `Err(TaskError::Cancelled)`, to
    /// handle; with `?` in a [`try_spawn`] body it becomes the outer task's
    /// *failure* (flatten that with [`TaskError::flatten`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use asyncio::TaskError;
    ///
    /// let child = asyncio::try_spawn(std::future::pending::<Result<u8, String>>());
    /// child.cancel();
    /// let outer = asyncio::try_spawn(async move {
    ///     let value = child.propagate().await?; // asyncio: `value = await child`
    ///     Ok::<u8, String>(value + 1)
    /// });
    /// assert!(matches!(outer.await, Err(TaskError::Cancelled)));
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. If the returned future is used as a
    /// branch in `select!` and another branch completes first, the task is
    /// cancelled, as when a [`Join`] is dropped.
    ///
    /// # Panics
    ///
    /// If the task was cancelled and the awaiting code is not running in a
    /// task the crate spawned ([`current_task`] is `None`): there is no
    /// task to end cancelled. Also resumes the task's own panic.
    pub fn propagate(self) -> Propagate<T, E> {
        Propagate {
            join: self.into_future(),
            cancelling: None,
        }
    }
}

/// The future returned by [`Task::propagate`]: the task's value or
/// failure, or, if it was cancelled, the cancellation of the awaiting task.
#[must_use = "futures do nothing unless polled"]
pub struct Propagate<T, E = Infallible> {
    join: Join<T, E>,
    /// The awaiting task's own handle, once it asked to be cancelled.
    cancelling: Option<CancelHandle>,
}

impl<T, E> fmt::Debug for Propagate<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Propagate")
            .field("join", &self.join)
            .field("cancelling", &self.cancelling.is_some())
            .finish()
    }
}

impl<T, E> Future for Propagate<T, E> {
    type Output = Result<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.cancelling.is_some() {
            // The awaiting task's wrapper ends it at this await point; a
            // poll here means it completed some other branch first.
            return Poll::Pending;
        }
        match std::task::ready!(Pin::new(&mut self.join).poll(cx)) {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TaskError::Failed(error)) => Poll::Ready(Err(error)),
            Err(TaskError::Panicked(panic)) => panic.resume(),
            Err(TaskError::Cancelled) => {
                let me = current_task().expect(
                    "asyncio: Task::propagate saw a cancellation outside a task the crate \
                     spawned: there is no task to end cancelled",
                );
                me.cancel();
                self.cancelling = Some(me);
                Poll::Pending
            }
        }
    }
}

impl<T, E> Drop for Task<T, E> {
    fn drop(&mut self) {
        TaskCore::release(&mut self.core);
    }
}

/// The tokio half of a cancel: the core recorded the request (`requested`
/// is `false` if the task had finished); the abort makes it land.
fn abort_if_requested(requested: bool, abort: Option<&impl Abortable>) -> bool {
    if let (true, Some(abort)) = (requested, abort) {
        abort.abort();
    }
    requested
}

/// What can abort a child's tokio task: the `Task`'s `JoinHandle`, a
/// `CancelHandle`'s `AbortHandle`.
trait Abortable {
    fn abort(&self);
}

impl Abortable for JoinHandle<()> {
    fn abort(&self) {
        JoinHandle::abort(self);
    }
}

impl Abortable for AbortHandle {
    fn abort(&self) {
        AbortHandle::abort(self);
    }
}

impl<T, E> Task<T, E> {
    /// A handle on a spawned child's core and its tokio task.
    pub(crate) fn from_parts(core: Arc<TaskCore<T, E>>, join: JoinHandle<()>) -> Self {
        Self {
            core,
            abort: Some(join),
        }
    }

    /// A task that was never spawned and has ended cancelled (its future
    /// was dropped unpolled).
    pub(crate) fn cancelled_unspawned(id: TaskId, report: self::core::Report<E>) -> Self {
        let core = Arc::new(TaskCore::new(id, report));
        core.publish(Err(TaskError::Cancelled));
        Self { core, abort: None }
    }
}

impl<T, E> IntoFuture for Task<T, E> {
    type Output = Result<T, TaskError<E>>;
    type IntoFuture = Join<T, E>;

    fn into_future(self) -> Join<T, E> {
        Join { task: Some(self) }
    }
}

/// The future that awaits a [`Task`] (`task.await`, or
/// `task.into_future()`).
///
/// Dropping it before it completes cancels the task, as cancelling a
/// coroutine that awaits a task does in asyncio.
///
/// # Cancel safety
///
/// This future is not cancel safe. If it is used as a branch in `select!` and
/// another branch completes first, the task is cancelled. Await
/// [`shield(task)`](crate::shield) instead to leave the task running, or `&mut
/// task` (a [`JoinRef`]).
#[must_use = "futures do nothing unless polled"]
pub struct Join<T, E = Infallible> {
    task: Option<Task<T, E>>,
}

impl<T, E> fmt::Debug for Join<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").field("task", &self.task).finish()
    }
}

impl<T, E> Join<T, E> {
    /// The task being awaited, while it is.
    pub fn task(&self) -> Option<&Task<T, E>> {
        self.task.as_ref()
    }

    /// Gives the task back without cancelling it.
    pub fn into_task(mut self) -> Option<Task<T, E>> {
        self.task.take()
    }

    pub(crate) fn take_task(&mut self) -> Option<Task<T, E>> {
        self.task.take()
    }
}

impl<T, E> Future for Join<T, E> {
    type Output = Result<T, TaskError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self
            .task
            .as_ref()
            .expect("asyncio: Join polled after it returned the task's outcome");
        let outcome = std::task::ready!(cooperatively!(cx, task.core.poll_outcome(cx)));
        // The handle is done with: dropping it now detaches an empty core.
        self.task = None;
        Poll::Ready(outcome)
    }
}

impl<T, E> Drop for Join<T, E> {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.cancel();
        }
    }
}

impl<T, E> self::ready::ChildHandle<T, E> for Task<T, E> {
    fn task_core(&self) -> &TaskCore<T, E> {
        &self.core
    }

    fn cancel(&self) -> bool {
        Task::cancel(self)
    }
}

/// What a primitive that runs children accepts as one child: a plain future
/// (spawned as a task when the primitive is called) or a [`Task`] (taken as
/// it is, not wrapped in another task, so cancelling through the primitive
/// cancels it).
///
/// Implemented for every `Future + Send + 'static` whose output is
/// `Send + 'static` (the output is the child's value; it cannot fail), for
/// every [`Task<T, E>`], and for the gathers ([`Gather`](crate::Gather),
/// [`GatherAll`](crate::GatherAll), [`GatherTuple`](crate::GatherTuple),
/// [`GatherTupleAll`](crate::GatherTupleAll): nested gathers). The trait is
/// sealed: you meet it only as a bound, and cannot implement it.
pub trait IntoTask: sealed::SealedIntoTask<Self::Ok, Self::Err> {
    /// The child's value.
    type Ok;
    /// The child's error ([`Infallible`] for a plain future).
    type Err;
}

/// The machinery behind [`IntoTask`] and [`TryIntoTask`], out of users'
/// reach: the traits are sealed (nobody outside the crate can implement
/// them), and the methods take a token only the crate can build, so nobody
/// outside can call them either.
pub(crate) mod sealed {
    use super::Task;

    /// Proof that the caller is the crate.
    #[derive(Debug)]
    pub struct Token;

    /// How one child of a primitive becomes a running task.
    pub trait SealedIntoTask<T, E> {
        /// Whether [`into_task`](SealedIntoTask::into_task) spawns a new task (a
        /// future) rather than handing over an existing one (a `Task`).
        fn spawns(token: Token) -> bool;
        /// The child as a running task.
        fn into_task(self, token: Token) -> Task<T, E>;
    }

    /// [`SealedIntoTask`] for fallible children ([`TryIntoTask`](super::TryIntoTask)):
    /// a future's `Err` is the task's failure.
    pub trait SealedTryIntoTask<T, E> {
        /// Whether [`into_task`](SealedTryIntoTask::into_task) spawns a new task.
        fn spawns(token: Token) -> bool;
        /// The child as a running task.
        fn into_task(self, token: Token) -> Task<T, E>;
    }
}

impl<F> IntoTask for F
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    type Ok = F::Output;
    type Err = Infallible;
}

impl<F> sealed::SealedIntoTask<F::Output, Infallible> for F
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn spawns(_: sealed::Token) -> bool {
        true
    }
    #[track_caller]
    fn into_task(self, _: sealed::Token) -> Task<F::Output> {
        spawn(self)
    }
}

impl<T, E> IntoTask for Task<T, E> {
    type Ok = T;
    type Err = E;
}

impl<T, E> sealed::SealedIntoTask<T, E> for Task<T, E> {
    fn spawns(_: sealed::Token) -> bool {
        false
    }
    fn into_task(self, _: sealed::Token) -> Task<T, E> {
        self
    }
}

/// Every child as a running task, in input order: futures are spawned now,
/// `Task`s taken as they are. What every primitive that runs children
/// calls first. Each comes in a slot (`Some`) that the gather core empties
/// as it collects the child: built here, beside the spawn, rather than by
/// a second pass over 100k handles later.
///
/// A loop, not `map`: a closure would hide the caller's location from
/// `spawn`'s panic outside a runtime (`#[track_caller]` passes through
/// this function's body, not through a closure).
#[track_caller]
pub(crate) fn into_tasks<I, C>(children: I) -> Vec<Option<Task<C::Ok, C::Err>>>
where
    I: IntoIterator<Item = C>,
    C: IntoTask,
{
    let children = children.into_iter();
    let mut tasks = Vec::with_capacity(children.size_hint().0);
    for child in children {
        tasks.push(Some(child.into_task(sealed::Token)));
    }
    tasks
}

/// [`into_tasks`] for fallible children.
#[track_caller]
pub(crate) fn try_into_tasks<I, C>(children: I) -> Vec<Option<Task<C::Ok, C::Err>>>
where
    I: IntoIterator<Item = C>,
    C: TryIntoTask,
{
    let children = children.into_iter();
    let mut tasks = Vec::with_capacity(children.size_hint().0);
    for child in children {
        tasks.push(Some(child.into_task(sealed::Token)));
    }
    tasks
}

/// [`IntoTask`] for fallible children: a future returning `Result<T, E>`
/// (spawned with [`try_spawn`], so `Err(E)` is the child's failure), a
/// [`Task<T, E>`], or a [`Gather`](crate::Gather) or
/// [`GatherTuple`](crate::GatherTuple) (its `GatherError` is the failure).
/// Sealed, as [`IntoTask`] is.
pub trait TryIntoTask: sealed::SealedTryIntoTask<Self::Ok, Self::Err> {
    /// The child's value.
    type Ok;
    /// The child's error.
    type Err;
}

impl<F, T, E> TryIntoTask for F
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    type Ok = T;
    type Err = E;
}

impl<F, T, E> sealed::SealedTryIntoTask<T, E> for F
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    fn spawns(_: sealed::Token) -> bool {
        true
    }
    #[track_caller]
    fn into_task(self, _: sealed::Token) -> Task<T, E> {
        try_spawn(self)
    }
}

impl<T, E> TryIntoTask for Task<T, E> {
    type Ok = T;
    type Err = E;
}

impl<T, E> sealed::SealedTryIntoTask<T, E> for Task<T, E> {
    fn spawns(_: sealed::Token) -> bool {
        false
    }
    fn into_task(self, _: sealed::Token) -> Task<T, E> {
        self
    }
}

/// A cloneable handle that cancels one task, whoever owns the [`Task`], and
/// tells how it ended.
///
/// Obtained from [`Task::cancel_handle`], or by a task for itself from
/// [`current_task`]. It does not take the task's outcome, which stays for
/// whoever holds the `Task`; it can wait for the task to finish
/// ([`done`](CancelHandle::done), or `.await` the handle) and then say
/// whether it was cancelled or failed.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let task = asyncio::spawn(std::future::pending::<()>());
/// let handle = task.cancel_handle();
/// let gather = asyncio::gather([task]); // the task moves into the gather
/// assert!(handle.cancel());
/// handle.done().await;
/// assert!(handle.is_cancelled());
/// assert!(gather.await.is_err());
/// # }
/// ```
#[derive(Clone)]
pub struct CancelHandle {
    target: ErasedCore,
    abort: Option<AbortHandle>,
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("task", &self.target.id())
            .field("done", &self.target.is_done())
            .finish()
    }
}

impl CancelHandle {
    /// A handle on an erased core; `abort` is `None` for a task's handle on
    /// itself (a request then wakes the task, which ends itself).
    pub(crate) fn from_erased(target: ErasedCore, abort: Option<AbortHandle>) -> Self {
        Self { target, abort }
    }

    /// Requests cancellation; the same as [`Task::cancel`].
    pub fn cancel(&self) -> bool {
        abort_if_requested(self.target.request_cancel(), self.abort.as_ref())
    }

    /// Whether the task has finished.
    pub fn is_done(&self) -> bool {
        self.target.is_done()
    }

    /// Whether the task finished by being cancelled (asyncio's
    /// `cancelled()`); the same as [`Task::is_cancelled`].
    pub fn is_cancelled(&self) -> bool {
        self.target.is_cancelled()
    }

    /// Whether the task ended with an error or a panic; the same as
    /// [`Task::is_failed`].
    pub fn is_failed(&self) -> bool {
        self.target.is_failure()
    }

    /// A future that completes when the task has finished, in any way,
    /// without taking its outcome (asyncio: `await asyncio.wait([t])`).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If `done` is used as a branch in `select!`
    /// and another branch completes first, it is guaranteed that nothing
    /// changed: the task runs on.
    pub fn done(&self) -> Done {
        Done {
            target: self.target.clone(),
            key: None,
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.target.id()
    }
}

impl IntoFuture for CancelHandle {
    type Output = ();
    type IntoFuture = Done;

    /// The same as [`done`](CancelHandle::done).
    fn into_future(self) -> Done {
        Done {
            target: self.target,
            key: None,
        }
    }
}

/// The future that waits for a task to finish without taking its outcome:
/// [`CancelHandle::done`], or `.await` on a [`CancelHandle`].
///
/// Dropping it changes nothing: the task runs on.
#[must_use = "futures do nothing unless polled"]
pub struct Done {
    target: ErasedCore,
    /// Its place among the core's watchers, once registered.
    key: Option<u64>,
}

impl fmt::Debug for Done {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done")
            .field("task", &self.target.id())
            .field("done", &self.target.is_done())
            .finish()
    }
}

impl Future for Done {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let done = this.target.poll_done(&mut this.key, cx);
        if done.is_ready() {
            // The publish took the watchers with it: nothing to forget.
            this.key = None;
        }
        done
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.target.unwatch(key);
        }
    }
}

impl<'a, T, E> IntoFuture for &'a mut Task<T, E> {
    type Output = Result<T, TaskError<E>>;
    type IntoFuture = JoinRef<'a, T, E>;

    /// Awaits the task through a borrow: the outcome is taken, the `Task`
    /// stays with its owner, and dropping the future does not cancel it.
    fn into_future(self) -> JoinRef<'a, T, E> {
        JoinRef { task: self }
    }
}

/// The future that awaits a borrowed [`Task`] (`(&mut task).await`), for
/// `select!` loops: `select! { r = &mut task => .., _ = tick => .. }`.
///
/// Unlike [`Join`], dropping it does **not** cancel the task: the borrow
/// was only a look, and the owner still holds the `Task` (cancel it with
/// [`Task::cancel`] if that is what the `select!` meant).
///
/// Once it has returned the outcome, the outcome is gone: awaiting the
/// `Task` again panics, as polling a `JoinHandle` after completion does.
/// [`is_terminated`](futures_core::future::FusedFuture::is_terminated)
/// says so, for `futures::select!`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
///
/// let mut task = asyncio::spawn(async {
///     asyncio::sleep(Duration::from_secs(3)).await;
///     "done"
/// });
/// let mut ticks = 0;
/// let outcome = loop {
///     tokio::select! {
///         outcome = &mut task => break outcome,
///         _ = asyncio::sleep(Duration::from_secs(1)) => ticks += 1,
///     }
/// };
/// assert_eq!(outcome.unwrap(), "done");
/// assert!(ticks >= 2);
/// # }
/// ```
///
/// # Cancel safety
///
/// This future is cancel safe. If it is used as a branch in `select!` and
/// another branch completes first, it is guaranteed that the task runs on and
/// its outcome stays in the `Task`.
#[must_use = "futures do nothing unless polled"]
pub struct JoinRef<'a, T, E = Infallible> {
    task: &'a mut Task<T, E>,
}

impl<T, E> fmt::Debug for JoinRef<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinRef").field("task", &self.task).finish()
    }
}

impl<T, E> Future for JoinRef<'_, T, E> {
    type Output = Result<T, TaskError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let core = &self.task.core;
        cooperatively!(cx, core.poll_outcome(cx))
    }
}

impl<T, E> futures_core::future::FusedFuture for JoinRef<'_, T, E> {
    fn is_terminated(&self) -> bool {
        self.task.core.is_taken()
    }
}
