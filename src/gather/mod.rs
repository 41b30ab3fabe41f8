//! [`gather`] and [`try_gather`]: run many children concurrently and collect
//! their results in input order, after asyncio's `gather`; the [`gather!`](crate::gather!)
//! and [`try_gather!`](crate::try_gather!) macros do the same for a fixed
//! list of futures of different types.

#[doc(hidden)]
pub mod core;

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::core::{Finished, GatherChild, Gathering, Mode};
use crate::task::core::{discard, Report};
use crate::task::{
    into_tasks, report_unobserved, try_into_tasks, IntoTask, Task, TaskError, TaskId, TryIntoTask,
};
use crate::timeout::{deadline_after, Awaitable, AwaitableSealed, Timer};

/// A child of a [`gather`] failed: which one, and how it ended.
///
/// `index` is the child's position in the input (the iterator's order, or
/// the macro's argument order). `error` is how it ended: its future returned
/// `Err` ([`TaskError::Failed`]) or it was cancelled
/// ([`TaskError::Cancelled`]). A panic is never returned as a `GatherError`
/// by the fail-fast future: it is resumed in the caller (see [`gather`]).
///
/// `GatherError<E>` is `Send + Sync + 'static` whenever `E` is.
///
/// It displays as "gather child {index} failed" ("was cancelled",
/// "panicked: {message}"), and its [`source`](std::error::Error::source) is
/// the child's own error `E`, so a printed chain names the child once and
/// each cause once, and `downcast_ref::<E>()` finds the child's error in
/// the chain (through `Box<dyn Error>` or `anyhow`).
#[derive(Debug)]
#[non_exhaustive]
pub struct GatherError<E> {
    /// The failed child's position in the input.
    pub index: usize,
    /// How it ended.
    pub error: TaskError<E>,
}

impl<E> fmt::Display for GatherError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The child's own error is the `source`, not part of this message,
        // so a printed chain says each thing once.
        match &self.error {
            TaskError::Failed(_) => write!(f, "gather child {} failed", self.index),
            TaskError::Cancelled => write!(f, "gather child {} was cancelled", self.index),
            TaskError::Panicked(panic) => {
                write!(f, "gather child {} panicked: {panic}", self.index)
            }
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for GatherError<E> {
    /// The child's own error, for a failure: `downcast_ref::<E>()` on the
    /// source finds it, through `Box<dyn Error>` or `anyhow`.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.error {
            TaskError::Failed(error) => Some(error),
            TaskError::Cancelled | TaskError::Panicked(_) => None,
        }
    }
}

impl<E> GatherError<E> {
    /// The failed child's position in the input.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How the child ended.
    pub fn error(&self) -> &TaskError<E> {
        &self.error
    }

    /// How the child ended, by value.
    pub fn into_error(self) -> TaskError<E> {
        self.error
    }

    /// Whether the child was cancelled (asyncio's `CancelledError` out of
    /// `gather`, behaviour 21).
    pub fn is_cancelled(&self) -> bool {
        self.error.is_cancelled()
    }
}

/// Runs `children` concurrently and collects their values in input order:
/// asyncio's `gather(*aws)`.
///
/// Each child is a plain future, spawned as a task on the current tokio
/// runtime *when `gather` is called* (children start at once, not at the
/// first poll), or a [`Task`], gathered as it is (not wrapped in a new task).
/// For futures that return `Result<T, E>`, use [`try_gather`], so that
/// `Err(E)` is a failure rather than a value. For a fixed list of futures of
/// different types, use [`gather!`](crate::gather!).
///
/// The returned [`Gather`] (set its options, then await it) completes when
/// every child has produced a
/// value, with `Ok(values)` in input order (not completion order), or at the
/// **first failure** with `Err(GatherError { index, error })`, naming the
/// child. What happens then is asyncio's default, *fail-fast*:
///
/// - an error or a cancellation completes the gather at once, and the
///   **siblings keep running**, detached (asyncio behaviours 18, 19); their
///   later errors are dropped quietly, as asyncio marks them retrieved
///   (behaviour 32);
/// - a **panic** is different (it is asyncio's `KeyboardInterrupt`): the
///   siblings are cancelled and joined, then the first panic is resumed in
///   the caller; a later panic goes to the
///   [unobserved-error hook](crate::set_unobserved_error_hook).
///
/// Two options change that, and are set on the [`Gather`] before it is
/// awaited (a running [`GatherFuture`] has none, so they cannot change once
/// the gather runs):
/// [`cancel_siblings`](Gather::cancel_siblings) cancels the siblings on the
/// first failure and returns once they have all finished;
/// [`return_exceptions`](Gather::return_exceptions) collects every outcome
/// as a value, asyncio's `return_exceptions=True`.
///
/// An empty input completes at the first poll with `Ok(vec![])`
/// (behaviour 15).
///
/// To gather a task that must outlive the gather's cancellation, gather
/// [`shield(task)`](crate::shield): the shield is a future, so it is spawned
/// as a child, and cancelling that child detaches the task instead of
/// cancelling it (behaviour 85).
///
/// The gather waits on its children without re-polling them: each child
/// signals its own completion, so gathering N children costs O(N) in all.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let squares = asyncio::gather((1..=3).map(|n| async move { n * n })).await;
/// assert_eq!(squares.unwrap(), vec![1, 4, 9]);
/// # }
/// ```
///
/// Tasks are gathered as they are; cancelling one from outside fails the
/// gather with a cancellation naming it (behaviour 21):
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let slow = asyncio::spawn(async {
///     asyncio::sleep(Duration::from_secs(60)).await;
///     1
/// });
/// let fast = asyncio::spawn(async { 2 });
/// let handle = slow.cancel_handle();
/// let gathered = asyncio::gather([slow, fast]);
/// handle.cancel();
/// let error = gathered.await.unwrap_err();
/// assert_eq!(error.index, 0);
/// assert!(error.is_cancelled());
/// # }
/// ```
///
/// Collect every outcome, errors included:
///
/// ```
/// use asyncio::TaskError;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let outcomes = asyncio::try_gather(["1", "x"].map(|text| async move {
///     text.parse::<u32>()
/// }))
/// .return_exceptions()
/// .await;
/// assert_eq!(outcomes[0].as_ref().unwrap(), &1);
/// assert!(matches!(outcomes[1], Err(TaskError::Failed(_))));
/// # }
/// ```
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `await asyncio.gather(*coros)` | `asyncio::gather(futures).await` (or [`try_gather`] for `Result` futures) |
/// | `await asyncio.gather(*tasks)` | `asyncio::gather(tasks).await`: the tasks are not wrapped |
/// | `await asyncio.gather(a(), b())` with different result types | `asyncio::gather!(a(), b()).await`, a tuple |
/// | `await asyncio.gather(*aws, return_exceptions=True)` | `asyncio::gather(aws).return_exceptions().await` |
/// | `await asyncio.gather(asyncio.shield(t))` | `asyncio::gather([asyncio::shield(t)]).await` |
/// | `gather_fut.cancel()` | drop the gather's future, or [`cancel().await`](GatherFuture::cancel) it to wait until the children have finished |
/// | (no equivalent; a `TaskGroup` does this) | `asyncio::gather(aws).cancel_siblings().await` |
///
/// The differences:
/// 1. A child's panic is not an ordinary exception: even in fail-fast mode
///    the siblings are cancelled and joined before the panic is resumed
///    (asyncio lets a `KeyboardInterrupt` escape, behaviour 96).
/// 2. The error names the child: [`GatherError::index`]. A nested gather's
///    error is nested too (`GatherError { index, error:
///    TaskError::Failed(GatherError { .. }) }` with [`try_gather`]), where
///    asyncio re-raises the inner exception unchanged (behaviour 28).
/// 3. Passing the same awaitable twice (behaviour 17) cannot happen: a
///    future or task is moved into the gather.
/// 4. Cancelling is dropping the future (which cannot wait for the
///    children), or [`Gather::cancel`], which consumes the gather, returns
///    whether any child was still running (behaviours 23, 26) and waits for
///    them; there is no message (behaviour 30). A gather that completed has
///    nothing left to cancel: its leftover fail-fast siblings are out of its
///    reach (behaviour 19), but [`GatherFuture::take_pending`] hands them back
///    after a fail-fast failure, as Tasks to await or cancel (behaviour 18:
///    asyncio's caller still holds them).
/// 5. Once a gather is dropped, its children are aborted; a child cannot
///    swallow the cancellation and return a value (behaviour 27).
/// 6. A gather of already-finished tasks still completes at its first poll,
///    not when it is built (3.12's eager path, behaviour 29).
/// 7. Non-futures are rejected at compile time, not with `TypeError`
///    (behaviour 31).
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped | every unfinished child is cancelled (23, 25); after completion, nothing (26) | every unfinished child is aborted and stops at its next await point (drop cannot wait for it: [`cancel().await`](Gather::cancel) does); after completion, nothing |
/// | a child errors | fail-fast: the error propagates, siblings run on (18); `return_exceptions`: a value (20) | fail-fast: `Err(GatherError)`, siblings run on, their later errors are quiet (32); `cancel_siblings`: siblings cancelled and joined, then `Err`; `return_exceptions`: `Err(TaskError::Failed(e))` in its place |
/// | a child is cancelled | `CancelledError` propagates, siblings run on (21); `return_exceptions`: a value (22) | the same: `Err(GatherError)` with [`TaskError::Cancelled`]; `return_exceptions`: `Err(TaskError::Cancelled)` in its place |
/// | a child panics | `KeyboardInterrupt` escapes the loop (96) | siblings are cancelled and joined, then the panic is resumed; `return_exceptions`: `Err(TaskError::Panicked(p))` in its place |
/// | a timeout fires (`wait_for(gather(..))`) | gather is cancelled, so are its children | the `Gather` is dropped: as the first row |
/// | the owner/handle is dropped | n/a: gather's children are its own | n/a; a gathered [`shield`](crate::shield)ed task is detached, not cancelled (85) |
/// | the runtime shuts down | `asyncio.run` cancels the tasks | the children are dropped, each outcome becomes `Cancelled`; the gather, if still polled, sees the first one |
///
/// A nested gather is a child like any other: dropping the outer gather
/// aborts the inner one, whose drop aborts its children (behaviour 28).
/// Cancelling is an abort: a child stops at its next await point, and a
/// child that never awaits cannot be cancelled.
///
/// # Errors
///
/// `Err(GatherError { index, error })`: the first child that failed or was
/// cancelled, with [`TaskError::Failed`] or [`TaskError::Cancelled`]. With
/// [`return_exceptions`](Gather::return_exceptions) there is no error:
/// every outcome is a value.
///
/// # Panics
///
/// If called outside a tokio runtime while some child is a future to spawn,
/// at the caller's line, as `tokio::spawn` does. Awaiting the gather resumes
/// the first child's panic (see above).
#[track_caller]
pub fn gather<I>(children: I) -> Gather<<I::Item as IntoTask>::Ok, <I::Item as IntoTask>::Err>
where
    I: IntoIterator,
    I::Item: IntoTask,
    <I::Item as IntoTask>::Err: fmt::Debug + Send + 'static,
{
    Gather::new(into_tasks(children))
}

/// Runs fallible `children` concurrently and collects their values in input
/// order: [`gather`] for futures that return `Result<T, E>`.
///
/// A child's `Err(E)` is its failure, [`TaskError::Failed`]; everything else
/// is as [`gather`]: the same modes, cancellation and panics. Children are
/// futures (spawned with [`try_spawn`](crate::try_spawn) when `try_gather` is called) or
/// [`Task`]s.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let parsed = asyncio::try_gather(["1", "2", "x"].map(|text| async move {
///     text.parse::<u32>()
/// }))
/// .await;
/// let error = parsed.unwrap_err();
/// assert_eq!(error.index, 2);
/// assert!(error.error.is_failure());
/// # }
/// ```
///
/// # Errors
///
/// As [`gather`]: the first child that returned `Err` or was cancelled.
///
/// # Panics
///
/// If called outside a tokio runtime while some child is a future to spawn,
/// at the caller's line.
#[track_caller]
pub fn try_gather<I>(
    children: I,
) -> Gather<<I::Item as TryIntoTask>::Ok, <I::Item as TryIntoTask>::Err>
where
    I: IntoIterator,
    I::Item: TryIntoTask,
    <I::Item as TryIntoTask>::Err: fmt::Debug + Send + 'static,
{
    Gather::new(try_into_tasks(children))
}

/// A gather whose children are running, before it is awaited: what
/// [`gather`] and [`try_gather`] return. Set its options, then await it
/// (it is [`IntoFuture`]): its options cannot change once it runs.
///
/// Awaiting it yields `Ok(values)` in input order, or the first failure.
/// Dropping it unawaited cancels every child. It can be passed where a
/// child is expected ([`IntoTask`], for a nested gather), and to
/// [`wait_for`](crate::wait_for); elsewhere, call
/// [`into_future`](IntoFuture::into_future) for the [`GatherFuture`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let values = asyncio::gather((1..=2).map(|n| async move { n * 10 }))
///     .cancel_siblings() // an option, before it runs
///     .await
///     .unwrap();
/// assert_eq!(values, [10, 20]);
/// # }
/// ```
///
/// A running gather has no options to change:
///
/// ```compile_fail
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::future::IntoFuture;
/// let mut running = asyncio::gather([async { 1 }]).into_future();
/// let _ = futures::poll!(&mut running);
/// let running = running.cancel_siblings(); // no such method on GatherFuture
/// # }
/// ```
#[must_use = "the children run, but nobody sees their values unless the gather is awaited"]
pub struct Gather<T, E = Infallible, H: GatherChild<T, E> = Task<T, E>> {
    gathering: Gathering<T, E, H>,
    grace: Option<Grace>,
}

/// The future that runs a [`Gather`] (`gather(..).await`, or
/// `gather(..).into_future()`): yields `Ok(values)` in input order, or the
/// first failure.
///
/// Dropping it before it completes cancels every unfinished child; dropping
/// it after it completed changes nothing (but see
/// [`take_pending`](GatherFuture::take_pending)).
///
/// # Cancel safety
///
/// Not cancel-safe: if it is used as a branch in `select!` and another branch
/// completes first, the children are cancelled and the values already
/// produced are lost. Await `&mut future` in the `select!` to keep it, and
/// [`cancel`](GatherFuture::cancel) it to stop and join the children.
#[must_use = "futures do nothing unless polled"]
pub struct GatherFuture<T, E = Infallible, H: GatherChild<T, E> = Task<T, E>> {
    gathering: Gathering<T, E, H>,
    grace: Option<Grace>,
}

/// A cooperative cancellation: the token children watch, and how long they
/// get to stop on their own before the gather aborts them. (Races use it
/// too: they run on the same core.)
pub(crate) struct Grace {
    token: CancellationToken,
    period: Duration,
    deadline: Option<Instant>,
    timer: Timer,
    aborted: bool,
}

impl Grace {
    /// While `gathering` cancels children: cancels the token at once, and
    /// aborts the children still running when the period is over.
    pub(crate) fn new(token: CancellationToken, period: Duration) -> Self {
        Self {
            token,
            period,
            deadline: None,
            timer: Timer::default(),
            aborted: false,
        }
    }

    pub(crate) fn poll<T, E, H: GatherChild<T, E>>(
        &mut self,
        gathering: &Gathering<T, E, H>,
        cx: &mut Context<'_>,
    ) {
        if self.aborted || !gathering.is_cancelling_children() {
            return;
        }
        let deadline = match self.deadline {
            Some(deadline) => deadline,
            None => {
                self.token.cancel();
                *self.deadline.insert(deadline_after(self.period))
            }
        };
        if self.timer.poll_expired(Some(deadline), 0, cx) {
            gathering.abort_unfinished();
            self.aborted = true;
        }
    }
}

impl<T, E, H: GatherChild<T, E>> fmt::Debug for Gather<T, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("state", &self.gathering)
            .finish()
    }
}

impl<T, E, H: GatherChild<T, E>> fmt::Debug for GatherFuture<T, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherFuture")
            .field("state", &self.gathering)
            .finish()
    }
}

impl<T, E: fmt::Debug + Send + 'static, H: GatherChild<T, E>> Gather<T, E, H> {
    fn new(tasks: Vec<H>) -> Self {
        Self {
            gathering: Gathering::new(tasks, Mode::FailFast, report_unobserved::<E>),
            grace: None,
        }
    }
}

impl<T, E, H: GatherChild<T, E>> Gather<T, E, H> {
    /// On the first failure (error, cancellation or panic), cancels every
    /// unfinished sibling and completes only once all of them have finished:
    /// their futures have been dropped when the gather returns. The first
    /// failure is returned (a panic is resumed); a sibling's panic during
    /// the wait outranks an ordinary error, and a second panic goes to the
    /// [unobserved-error hook](crate::set_unobserved_error_hook).
    ///
    /// asyncio's `gather` has no such option; `TaskGroup` behaves this way.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let slow = asyncio::try_spawn(async {
    ///     asyncio::sleep(Duration::from_secs(60)).await;
    ///     Ok::<u32, &str>(1)
    /// });
    /// let failing = asyncio::try_spawn(async { Err::<u32, &str>("boom") });
    /// let watch = slow.cancel_handle();
    /// let error = asyncio::try_gather([slow, failing])
    ///     .cancel_siblings()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(error.index, 1);
    /// assert!(watch.is_done()); // cancelled, and already finished
    /// # }
    /// ```
    pub fn cancel_siblings(mut self) -> Self {
        self.set_mode(Mode::CancelSiblings);
        self
    }

    /// Collects every outcome as a value, in input order: asyncio's
    /// `return_exceptions=True`. Errors, cancellations and panics take their
    /// place in the results (behaviours 20, 22); the gather completes when
    /// every child has finished.
    pub fn return_exceptions(mut self) -> GatherAll<T, E, H> {
        self.set_mode(Mode::ReturnExceptions);
        GatherAll { inner: self }
    }

    /// Cancels every unfinished child now, and returns a future that
    /// completes once each of them has finished (its future dropped), with
    /// a [`GatherCancelled`]: whether any child was still running, and
    /// every child's outcome: asyncio's `gather.cancel()` followed by
    /// awaiting the gather (behaviours 23 and 26), in its structured form.
    /// A cancel that came too late for some children leaves their results
    /// (all of them, if nothing was running). Dropping a gather cancels
    /// too, but cannot wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let slow = asyncio::spawn(asyncio::sleep(Duration::from_secs(60)));
    /// let watch = slow.cancel_handle();
    /// let gathered = asyncio::gather([slow]);
    /// assert!(gathered.cancel().await.cancelled_any()); // a child was still running
    /// assert!(watch.is_done()); // and it has finished
    /// # }
    /// ```
    pub fn cancel(mut self) -> GatherCancel<T, E, H> {
        let cancelled_any = self.gathering.cancel_all();
        GatherCancel {
            gathering: self.gathering,
            grace: self.grace,
            cancelled_any,
        }
    }

    /// Cancels cooperatively: whenever this gather cancels children (the
    /// [`cancel_siblings`](Gather::cancel_siblings) policy, a child's panic,
    /// or [`cancel`](Gather::cancel)), it first cancels `token`, which the
    /// children can watch to stop on their own and clean up asynchronously,
    /// and aborts only those still running `grace` later. It still returns
    /// only once every child it cancelled has finished. (SPEC decision 5:
    /// Rust cannot run async clean-up inside an abort.)
    ///
    /// Dropping the gather cannot wait: it aborts every unfinished child at
    /// once, grace or not.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use asyncio::CancellationToken;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let token = CancellationToken::new();
    /// let watched = token.clone();
    /// let polite = asyncio::try_spawn(async move {
    ///     watched.cancelled().await;
    ///     asyncio::sleep(Duration::from_millis(10)).await; // async clean-up
    ///     Ok::<&str, &str>("cleaned up")
    /// });
    /// let failing = asyncio::try_spawn(async { Err::<&str, &str>("boom") });
    /// let error = asyncio::try_gather([polite, failing])
    ///     .cancel_siblings()
    ///     .with_grace(token, Duration::from_secs(1))
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(error.index, 1); // the sibling stopped on its own in time
    /// # }
    /// ```
    pub fn with_grace(mut self, token: CancellationToken, grace: Duration) -> Self {
        self.gathering.defer_abort();
        self.grace = Some(Grace::new(token, grace));
        self
    }

    fn set_mode(&mut self, mode: Mode) {
        self.gathering.set_mode(mode);
    }
}

// Nothing in a gather is ever pinned in place: the children run in their own
// tasks, and the outcomes are plain values moved out when it completes.
impl<T, E, H: GatherChild<T, E>> Unpin for GatherFuture<T, E, H> {}

impl<T, E, H: GatherChild<T, E>> IntoFuture for Gather<T, E, H> {
    type Output = Result<Vec<T>, GatherError<E>>;
    type IntoFuture = GatherFuture<T, E, H>;

    fn into_future(self) -> GatherFuture<T, E, H> {
        GatherFuture {
            gathering: self.gathering,
            grace: self.grace,
        }
    }
}

impl<T, E, H: GatherChild<T, E>> GatherFuture<T, E, H> {
    /// As [`Gather::cancel`], for a gather already running: cancels every
    /// unfinished child now, and completes once each has finished, with
    /// whether any was still running (`false` after the gather completed:
    /// there was nothing left to cancel, behaviour 26).
    pub fn cancel(mut self) -> GatherCancel<T, E, H> {
        let cancelled_any = self.gathering.cancel_all();
        GatherCancel {
            gathering: self.gathering,
            grace: self.grace,
            cancelled_any,
        }
    }

    /// After the gather returned a fail-fast failure: the siblings that
    /// were still running, each with its position in the input, as
    /// [`Task`]s to await or cancel. asyncio's caller still holds every
    /// task it gathered (behaviour 18); here the gather owns them, and this
    /// hands them back.
    ///
    /// Empty before the gather completed, when it completed without a
    /// fail-fast failure (every child had finished), and after the first
    /// call. To call it, await the future through a borrow,
    /// `(&mut future).await` (it is `Unpin`). A sibling taken back and then
    /// dropped unread keeps asyncio's rule: its later ordinary failure is
    /// quiet (behaviour 32), a panic still goes to the hook.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::IntoFuture;
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let slow = asyncio::try_spawn(async {
    ///     asyncio::sleep(Duration::from_secs(1)).await;
    ///     Ok::<u32, &str>(2)
    /// });
    /// let failing = asyncio::try_spawn(async { Err::<u32, &str>("boom") });
    /// let mut gathered = asyncio::try_gather([slow, failing]).into_future();
    /// let error = (&mut gathered).await.unwrap_err();
    /// assert_eq!(error.index, 1);
    /// // The sibling is still running; await it (or cancel it).
    /// let pending = gathered.take_pending();
    /// assert_eq!(pending.len(), 1);
    /// let (index, sibling) = pending.into_iter().next().unwrap();
    /// assert_eq!(index, 0);
    /// assert_eq!(sibling.await.unwrap(), 2);
    /// # }
    /// ```
    pub fn take_pending(&mut self) -> Vec<(usize, H)> {
        self.gathering.take_pending()
    }
}

impl<T, E, H: GatherChild<T, E>> Future for GatherFuture<T, E, H> {
    type Output = Result<Vec<T>, GatherError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let polled = this.gathering.poll(cx);
        if polled.is_pending() {
            if let Some(grace) = &mut this.grace {
                grace.poll(&this.gathering, cx);
            }
        }
        Poll::Ready(match std::task::ready!(polled) {
            Finished::Values(values) => Ok(values),
            Finished::Failed {
                error: TaskError::Panicked(panic),
                ..
            } => panic.resume(),
            Finished::Failed { index, error } => Err(GatherError { index, error }),
            Finished::Outcomes(_) | Finished::Won { .. } | Finished::NoneSucceeded(_) => {
                unreachable!("asyncio: a fail-fast gather yielded every outcome, or a race's")
            }
        })
    }
}

/// The future returned by [`Gather::cancel`]: completes once every child
/// the gather cancelled has finished, with what the cancel found.
///
/// Dropping it before it completes leaves the children aborted, without
/// waiting for them.
#[must_use = "futures do nothing unless polled"]
pub struct GatherCancel<T, E = Infallible, H: GatherChild<T, E> = Task<T, E>> {
    gathering: Gathering<T, E, H>,
    grace: Option<Grace>,
    cancelled_any: bool,
}

impl<T, E, H: GatherChild<T, E>> fmt::Debug for GatherCancel<T, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherCancel")
            .field("state", &self.gathering)
            .field("cancelled_any", &self.cancelled_any)
            .finish()
    }
}

impl<T, E, H: GatherChild<T, E>> Unpin for GatherCancel<T, E, H> {}

impl<T, E, H: GatherChild<T, E>> Future for GatherCancel<T, E, H> {
    type Output = GatherCancelled<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<GatherCancelled<T, E>> {
        let this = &mut *self;
        let Poll::Ready(outcomes) = this.gathering.poll_cancelled(cx) else {
            if let Some(grace) = &mut this.grace {
                grace.poll(&this.gathering, cx);
            }
            return Poll::Pending;
        };
        Poll::Ready(GatherCancelled {
            cancelled_any: this.cancelled_any,
            outcomes,
            ids: this.gathering.ids().to_vec(),
            report: this.gathering.report(),
        })
    }
}

/// What a [`cancel().await`](Gather::cancel) found: whether any child was
/// still running (asyncio's `cancel()` return value), and every child's
/// outcome, in input order.
///
/// The outcomes are those of a [`return_exceptions`](Gather::return_exceptions)
/// gather: values and errors of the children that finished before the
/// cancel (asyncio behaviour 26: a cancel that came too late leaves the
/// results), and `Err(TaskError::Cancelled)` for those it cancelled. A
/// panic among them is a value too; dropped unread, it goes to the
/// [unobserved-error hook](crate::set_unobserved_error_hook), never
/// nowhere.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let gathered = asyncio::gather([asyncio::spawn(async { 1 }), asyncio::spawn(async { 2 })]);
/// tokio::task::yield_now().await; // both children finish
/// let cancelled = gathered.cancel().await;
/// assert!(!cancelled.cancelled_any()); // too late: nothing was running
/// assert_eq!(cancelled.values(), Some(vec![1, 2])); // the results stand
/// # }
/// ```
pub struct GatherCancelled<T, E = Infallible> {
    cancelled_any: bool,
    /// `None` if the gather had already completed.
    outcomes: Option<Vec<Result<T, TaskError<E>>>>,
    ids: Vec<TaskId>,
    report: Report<E>,
}

impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for GatherCancelled<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherCancelled")
            .field("cancelled_any", &self.cancelled_any)
            .field("outcomes", &self.outcomes)
            .finish()
    }
}

impl<T, E> GatherCancelled<T, E> {
    /// Whether any child was still running when the cancel came: asyncio's
    /// `gather.cancel()` return value (`false`: too late, behaviour 26).
    pub fn cancelled_any(&self) -> bool {
        self.cancelled_any
    }

    /// Every child's outcome, in input order; `None` if the gather had
    /// already completed (its result went to whoever awaited it).
    pub fn outcomes(&self) -> Option<&[Result<T, TaskError<E>>]> {
        self.outcomes.as_deref()
    }

    /// Every child's outcome, by value; see [`outcomes`](GatherCancelled::outcomes).
    pub fn into_outcomes(mut self) -> Option<Vec<Result<T, TaskError<E>>>> {
        self.outcomes.take()
    }

    /// Every child's value, if every child produced one (the cancel was too
    /// late for all of them): what awaiting the gather would have given.
    /// `None` otherwise; the outcomes are dropped (a panic to the hook).
    pub fn values(mut self) -> Option<Vec<T>> {
        let outcomes = self.outcomes.take()?;
        if outcomes.iter().all(Result::is_ok) {
            return Some(outcomes.into_iter().flat_map(Result::ok).collect());
        }
        self.outcomes = Some(outcomes);
        None
    }
}

impl<T, E> Drop for GatherCancelled<T, E> {
    fn drop(&mut self) {
        // Outcomes nobody took: a panic among them is never lost.
        for (index, outcome) in self.outcomes.take().into_iter().flatten().enumerate() {
            match outcome {
                Err(error @ TaskError::Panicked(_)) => (self.report)(self.ids[index], error),
                outcome => discard(self.report, self.ids[index], outcome),
            }
        }
    }
}

/// A [`Gather`] in `return_exceptions` mode, before it is awaited: what
/// [`Gather::return_exceptions`] returns. Awaiting it yields every child's
/// outcome, in input order. Dropping it unawaited cancels every child.
#[must_use = "the children run, but nobody sees their outcomes unless the gather is awaited"]
pub struct GatherAll<T, E = Infallible, H: GatherChild<T, E> = Task<T, E>> {
    inner: Gather<T, E, H>,
}

/// The future that runs a [`GatherAll`]: yields every child's outcome, in
/// input order.
///
/// Dropping it before it completes cancels every unfinished child.
///
/// # Cancel safety
///
/// Not cancel-safe: if it is used as a branch in `select!` and another branch
/// completes first, the children are cancelled and the outcomes already
/// produced are lost (a panic among them goes to the unobserved-error hook).
#[must_use = "futures do nothing unless polled"]
pub struct GatherAllFuture<T, E = Infallible, H: GatherChild<T, E> = Task<T, E>> {
    inner: GatherFuture<T, E, H>,
}

impl<T, E, H: GatherChild<T, E>> fmt::Debug for GatherAllFuture<T, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAllFuture")
            .field("state", &self.inner.gathering)
            .finish()
    }
}

impl<T, E, H: GatherChild<T, E>> IntoFuture for GatherAll<T, E, H> {
    type Output = Vec<Result<T, TaskError<E>>>;
    type IntoFuture = GatherAllFuture<T, E, H>;

    fn into_future(self) -> GatherAllFuture<T, E, H> {
        GatherAllFuture {
            inner: self.inner.into_future(),
        }
    }
}

impl<T, E, H: GatherChild<T, E>> GatherAllFuture<T, E, H> {
    /// As [`GatherFuture::cancel`].
    pub fn cancel(self) -> GatherCancel<T, E, H> {
        self.inner.cancel()
    }
}

impl<T, E, H: GatherChild<T, E>> fmt::Debug for GatherAll<T, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAll")
            .field("state", &self.inner.gathering)
            .finish()
    }
}

impl<T, E, H: GatherChild<T, E>> GatherAll<T, E, H> {
    /// As [`Gather::cancel`]: cancels every unfinished child and waits until
    /// each has finished.
    pub fn cancel(self) -> GatherCancel<T, E, H> {
        self.inner.cancel()
    }

    /// As [`Gather::with_grace`]: on [`cancel`](GatherAll::cancel) (or a
    /// child's panic), the children get `token` and `grace` before the
    /// abort.
    pub fn with_grace(self, token: CancellationToken, grace: Duration) -> Self {
        Self {
            inner: self.inner.with_grace(token, grace),
        }
    }
}

impl<T, E, H: GatherChild<T, E>> Unpin for GatherAllFuture<T, E, H> {}

impl<T, E, H: GatherChild<T, E>> Future for GatherAllFuture<T, E, H> {
    type Output = Vec<Result<T, TaskError<E>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(match std::task::ready!(self.inner.gathering.poll(cx)) {
            Finished::Outcomes(outcomes) => outcomes,
            Finished::Values(_)
            | Finished::Failed { .. }
            | Finished::Won { .. }
            | Finished::NoneSucceeded(_) => {
                unreachable!("asyncio: a return-exceptions gather stopped at a failure")
            }
        })
    }
}

/// Runs a fixed list of futures of different types concurrently and yields
/// their values as a tuple: [`gather`] for `asyncio.gather(a(), b())`.
///
/// Each argument is a future, spawned as a task when the macro expression
/// is evaluated, or a [`Task`] of any value type, taken as it is (not
/// wrapped in a new task: cancelling the gather cancels it, asyncio
/// behaviours 23 and 25). A `Task`'s error type must be the others'
/// (`Infallible` beside plain futures). The result is a [`GatherTuple`]
/// future, which yields
/// `Ok((a, b, ..))` in argument order or the first failure as a
/// [`GatherError<Infallible>`](GatherError) naming the argument's position;
/// its [`cancel_siblings`](GatherTuple::cancel_siblings) and
/// [`return_exceptions`](GatherTuple::return_exceptions) options are those of
/// [`Gather`]. From 1 to 12 futures.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (number, text) = asyncio::gather!(async { 7 }, async { "seven" })
///     .await
///     .unwrap();
/// assert_eq!((number, text), (7, "seven"));
///
/// // Tasks of different types, and a future, together.
/// let flag = asyncio::spawn(async { true });
/// let name = asyncio::spawn(async { String::from("x") });
/// let (flag, name, ()) = asyncio::gather!(flag, name, async {}).await.unwrap();
/// assert!(flag && name == "x");
/// # }
/// ```
///
/// # Panics
///
/// Outside a tokio runtime, at the macro's line.
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::gather::__private::tuple(($($crate::gather::__private::part($future),)+))
    };
}

/// Runs a fixed list of fallible futures of different value types (one error
/// type) concurrently and yields their values as a tuple: [`try_gather`] for
/// a fixed list.
///
/// Each future returns `Result<Ti, E>`; the result is `Ok((t1, t2, ..))` or
/// the first failure as a [`GatherError<E>`](GatherError). Otherwise as
/// [`gather!`](crate::gather!).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let outcome = asyncio::try_gather!(
///     async { Ok::<_, String>(1) },
///     async { Err::<&str, _>("offline".to_string()) },
/// )
/// .await;
/// let error = outcome.unwrap_err();
/// assert_eq!(error.index, 1);
/// # }
/// ```
///
/// # Panics
///
/// Outside a tokio runtime, at the macro's line.
#[macro_export]
macro_rules! try_gather {
    ($($future:expr),+ $(,)?) => {
        $crate::gather::__private::tuple(($($crate::gather::__private::try_part($future),)+))
    };
}

// A gather (or a `return_exceptions` gather) is a child like any other, so
// gathers nest (behaviour 28), and `wait_for` takes one as it takes a
// future: both run its future.

impl<T, E, H> IntoTask for Gather<T, E, H>
where
    T: Send + 'static,
    E: Send + 'static,
    H: GatherChild<T, E> + Send + 'static,
{
    type Ok = Result<Vec<T>, GatherError<E>>;
    type Err = Infallible;
    const SPAWNS: bool = true;
    #[track_caller]
    fn into_task(self) -> Task<Self::Ok> {
        crate::task::spawn(self.into_future())
    }
}

impl<T, E, H> TryIntoTask for Gather<T, E, H>
where
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
    H: GatherChild<T, E> + Send + 'static,
{
    type Ok = Vec<T>;
    type Err = GatherError<E>;
    const SPAWNS: bool = true;
    #[track_caller]
    fn into_task(self) -> Task<Vec<T>, GatherError<E>> {
        crate::task::try_spawn(self.into_future())
    }
}

impl<T, E, H> IntoTask for GatherAll<T, E, H>
where
    T: Send + 'static,
    E: Send + 'static,
    H: GatherChild<T, E> + Send + 'static,
{
    type Ok = Vec<Result<T, TaskError<E>>>;
    type Err = Infallible;
    const SPAWNS: bool = true;
    #[track_caller]
    fn into_task(self) -> Task<Self::Ok> {
        crate::task::spawn(self.into_future())
    }
}

// `wait_for(gather(..), d)` runs the gather in place (the sealed trait's
// defaults).
impl<T, E, H: GatherChild<T, E>> Awaitable for Gather<T, E, H> {}
impl<T, E, H: GatherChild<T, E>> AwaitableSealed for Gather<T, E, H> {}
impl<T, E, H: GatherChild<T, E>> Awaitable for GatherAll<T, E, H> {}
impl<T, E, H: GatherChild<T, E>> AwaitableSealed for GatherAll<T, E, H> {}
impl<P: __private::Parts<E>, E> Awaitable for GatherTuple<P, E> {}
impl<P: __private::Parts<E>, E> AwaitableSealed for GatherTuple<P, E> {}

/// What [`gather!`](crate::gather!) and [`try_gather!`](crate::try_gather!)
/// return, before it is awaited: set its options, then await it for the
/// children's values as a tuple, or the first failure.
///
/// Dropping it unawaited cancels every child.
#[must_use = "the children run, but nobody sees their values unless the gather is awaited"]
pub struct GatherTuple<P, E = Infallible> {
    inner: Gather<__private::Erased, E, __private::PartChild<E>>,
    parts: PhantomData<fn() -> P>,
}

impl<P, E> fmt::Debug for GatherTuple<P, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherTuple")
            .field("state", &self.inner.gathering)
            .finish()
    }
}

impl<P: __private::Parts<E>, E> GatherTuple<P, E> {
    /// As [`Gather::cancel_siblings`].
    pub fn cancel_siblings(self) -> Self {
        Self {
            inner: self.inner.cancel_siblings(),
            parts: PhantomData,
        }
    }

    /// As [`Gather::with_grace`].
    pub fn with_grace(self, token: CancellationToken, grace: Duration) -> Self {
        Self {
            inner: self.inner.with_grace(token, grace),
            parts: PhantomData,
        }
    }

    /// As [`Gather::cancel`]: cancels every unfinished child and waits until
    /// each has finished.
    pub fn cancel(self) -> GatherCancel<__private::Erased, E, __private::PartChild<E>> {
        self.inner.cancel()
    }

    /// As [`Gather::return_exceptions`]: yields a tuple of every child's
    /// outcome, `(Result<A, TaskError<E>>, Result<B, TaskError<E>>, ..)`.
    pub fn return_exceptions(self) -> GatherTupleAll<P, E> {
        GatherTupleAll {
            inner: self.inner.return_exceptions(),
            parts: PhantomData,
        }
    }
}

impl<P: __private::Parts<E>, E> IntoFuture for GatherTuple<P, E> {
    type Output = Result<P::Values, GatherError<E>>;
    type IntoFuture = GatherTupleFuture<P, E>;

    fn into_future(self) -> GatherTupleFuture<P, E> {
        GatherTupleFuture {
            inner: self.inner.into_future(),
            parts: PhantomData,
        }
    }
}

/// The future that runs a [`GatherTuple`].
///
/// Dropping it before it completes cancels every unfinished child.
#[must_use = "futures do nothing unless polled"]
pub struct GatherTupleFuture<P, E = Infallible> {
    inner: GatherFuture<__private::Erased, E, __private::PartChild<E>>,
    parts: PhantomData<fn() -> P>,
}

impl<P, E> fmt::Debug for GatherTupleFuture<P, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherTupleFuture")
            .field("state", &self.inner.gathering)
            .finish()
    }
}

impl<P, E> GatherTupleFuture<P, E> {
    /// As [`GatherFuture::cancel`].
    pub fn cancel(self) -> GatherCancel<__private::Erased, E, __private::PartChild<E>> {
        self.inner.cancel()
    }
}

impl<P, E> Unpin for GatherTupleFuture<P, E> {}

impl<P: __private::Parts<E>, E> Future for GatherTupleFuture<P, E> {
    type Output = Result<P::Values, GatherError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let values = std::task::ready!(Pin::new(&mut self.inner).poll(cx));
        Poll::Ready(values.map(P::values))
    }
}

/// What [`GatherTuple::return_exceptions`] returns, before it is awaited.
#[must_use = "the children run, but nobody sees their outcomes unless the gather is awaited"]
pub struct GatherTupleAll<P, E = Infallible> {
    inner: GatherAll<__private::Erased, E, __private::PartChild<E>>,
    parts: PhantomData<fn() -> P>,
}

impl<P, E> fmt::Debug for GatherTupleAll<P, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherTupleAll")
            .field("state", &self.inner.inner.gathering)
            .finish()
    }
}

impl<P, E> GatherTupleAll<P, E> {
    /// As [`Gather::cancel`]: cancels every unfinished child and waits until
    /// each has finished.
    pub fn cancel(self) -> GatherCancel<__private::Erased, E, __private::PartChild<E>> {
        self.inner.cancel()
    }

    /// As [`Gather::with_grace`].
    pub fn with_grace(self, token: CancellationToken, grace: Duration) -> Self {
        Self {
            inner: self.inner.with_grace(token, grace),
            parts: PhantomData,
        }
    }
}

impl<P: __private::Parts<E>, E> IntoFuture for GatherTupleAll<P, E> {
    type Output = P::Outcomes;
    type IntoFuture = GatherTupleAllFuture<P, E>;

    fn into_future(self) -> GatherTupleAllFuture<P, E> {
        GatherTupleAllFuture {
            inner: self.inner.into_future(),
            parts: PhantomData,
        }
    }
}

/// The future that runs a [`GatherTupleAll`].
#[must_use = "futures do nothing unless polled"]
pub struct GatherTupleAllFuture<P, E = Infallible> {
    inner: GatherAllFuture<__private::Erased, E, __private::PartChild<E>>,
    parts: PhantomData<fn() -> P>,
}

impl<P, E> fmt::Debug for GatherTupleAllFuture<P, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherTupleAllFuture")
            .field("state", &self.inner.inner.gathering)
            .finish()
    }
}

impl<P, E> Unpin for GatherTupleAllFuture<P, E> {}

impl<P: __private::Parts<E>, E> Future for GatherTupleAllFuture<P, E> {
    type Output = P::Outcomes;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcomes = std::task::ready!(Pin::new(&mut self.inner).poll(cx));
        Poll::Ready(P::outcomes(outcomes))
    }
}

/// The macros' plumbing. Not part of the public contract.
#[doc(hidden)]
pub mod __private {
    use std::any::Any;
    use std::fmt;
    use std::marker::PhantomData;

    use super::{Gather, GatherTuple};
    use crate::gather::core::GatherChild;
    use crate::sync::Arc;
    use crate::task::ready::ReadyList;
    use crate::task::{IntoTask, Task, TaskError, TaskId, TryIntoTask};

    /// A child's value with its type erased, so that children of different
    /// types share one gather.
    pub type Erased = Box<dyn Any + Send>;

    /// One macro argument, a running task, remembering its value type.
    pub struct Part<T, E> {
        child: PartChild<E>,
        value: PhantomData<fn() -> T>,
    }

    impl<T, E> fmt::Debug for Part<T, E> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Part")
                .field("task", &self.child.0.id())
                .finish()
        }
    }

    /// A part's task with its value type erased: the values are boxed as
    /// they are taken, so `Task`s of different types share one gather
    /// without being wrapped in new tasks (SPEC decision 3).
    pub struct PartChild<E>(Box<dyn ErasedChild<E>>);

    impl<E> fmt::Debug for PartChild<E> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_tuple("PartChild").field(&self.0.id()).finish()
        }
    }

    /// [`GatherChild`] with the value type erased.
    trait ErasedChild<E>: Send + Sync {
        fn id(&self) -> TaskId;
        fn listen(&self, list: &Arc<ReadyList>, index: usize) -> bool;
        fn try_take(&self) -> Option<Result<Erased, TaskError<E>>>;
        fn is_done(&self) -> bool;
        fn mark_observed(&self);
        fn detach_observed(&self);
        fn cancel(&self) -> bool;
    }

    impl<A: Send + 'static, E: Send> ErasedChild<E> for Task<A, E> {
        fn id(&self) -> TaskId {
            GatherChild::id(self)
        }
        fn listen(&self, list: &Arc<ReadyList>, index: usize) -> bool {
            GatherChild::listen(self, list, index)
        }
        fn try_take(&self) -> Option<Result<Erased, TaskError<E>>> {
            GatherChild::try_take(self)
                .map(|outcome| outcome.map(|value| Box::new(value) as Erased))
        }
        fn is_done(&self) -> bool {
            GatherChild::is_done(self)
        }
        fn mark_observed(&self) {
            GatherChild::mark_observed(self)
        }
        fn detach_observed(&self) {
            GatherChild::detach_observed(self)
        }
        fn cancel(&self) -> bool {
            GatherChild::cancel(self)
        }
    }

    impl<E> GatherChild<Erased, E> for PartChild<E> {
        fn id(&self) -> TaskId {
            self.0.id()
        }
        fn listen(&self, list: &Arc<ReadyList>, index: usize) -> bool {
            self.0.listen(list, index)
        }
        fn try_take(&self) -> Option<Result<Erased, TaskError<E>>> {
            self.0.try_take()
        }
        fn is_done(&self) -> bool {
            self.0.is_done()
        }
        fn mark_observed(&self) {
            self.0.mark_observed()
        }
        fn detach_observed(&self) {
            self.0.detach_observed()
        }
        fn cancel(&self) -> bool {
            self.0.cancel()
        }
    }

    /// A `gather!` argument: a plain future (spawned now) or a [`Task`]
    /// (taken as it is).
    #[track_caller]
    pub fn part<C>(child: C) -> Part<C::Ok, C::Err>
    where
        C: IntoTask,
        C::Ok: Send + 'static,
        C::Err: Send + 'static,
    {
        Part {
            child: PartChild(Box::new(child.into_task())),
            value: PhantomData,
        }
    }

    /// A `try_gather!` argument: a future returning `Result` (spawned now,
    /// its `Err` the child's failure) or a [`Task`].
    #[track_caller]
    pub fn try_part<C>(child: C) -> Part<C::Ok, C::Err>
    where
        C: TryIntoTask,
        C::Ok: Send + 'static,
        C::Err: Send + 'static,
    {
        Part {
            child: PartChild(Box::new(child.into_task())),
            value: PhantomData,
        }
    }

    /// Gathers a tuple of parts.
    pub fn tuple<P, E>(parts: P) -> GatherTuple<P, E>
    where
        P: Parts<E>,
        E: fmt::Debug + Send + 'static,
    {
        GatherTuple {
            inner: Gather::new(parts.into_children()),
            parts: PhantomData,
        }
    }

    fn unerase<T: 'static>(value: Option<Erased>) -> T {
        match value.map(|value| value.downcast::<T>()) {
            Some(Ok(value)) => *value,
            // Each part's task was built from a future of exactly this type.
            _ => unreachable!("asyncio: gather! lost track of a child's type"),
        }
    }

    /// A tuple of [`Part`]s.
    pub trait Parts<E> {
        /// The tuple of values.
        type Values;
        /// The tuple of outcomes.
        type Outcomes;
        /// The parts' tasks, in order.
        fn into_children(self) -> Vec<PartChild<E>>;
        /// Rebuilds the typed tuple of values.
        fn values(values: Vec<Erased>) -> Self::Values;
        /// Rebuilds the typed tuple of outcomes.
        fn outcomes(outcomes: Vec<Result<Erased, TaskError<E>>>) -> Self::Outcomes;
    }

    macro_rules! impl_parts {
        ($($T:ident $i:tt),+) => {
            impl<E, $($T: Send + 'static),+> Parts<E> for ($(Part<$T, E>,)+) {
                type Values = ($($T,)+);
                type Outcomes = ($(Result<$T, TaskError<E>>,)+);

                fn into_children(self) -> Vec<PartChild<E>> {
                    vec![$(self.$i.child),+]
                }

                fn values(values: Vec<Erased>) -> Self::Values {
                    let mut values = values.into_iter();
                    ($(unerase::<$T>(values.next()),)+)
                }

                fn outcomes(outcomes: Vec<Result<Erased, TaskError<E>>>) -> Self::Outcomes {
                    let mut outcomes = outcomes.into_iter();
                    ($(match outcomes.next() {
                        Some(Ok(value)) => Ok(unerase::<$T>(Some(value))),
                        Some(Err(error)) => Err(error),
                        None => unreachable!("asyncio: gather! lost a child's outcome"),
                    },)+)
                }
            }
        };
    }

    impl_parts!(A 0);
    impl_parts!(A 0, B 1);
    impl_parts!(A 0, B 1, C 2);
    impl_parts!(A 0, B 1, C 2, D 3);
    impl_parts!(A 0, B 1, C 2, D 3, F 4);
    impl_parts!(A 0, B 1, C 2, D 3, F 4, G 5);
    impl_parts!(A 0, B 1, C 2, D 3, F 4, G 5, H 6);
    impl_parts!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7);
    impl_parts!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8);
    impl_parts!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9);
    impl_parts!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9, L 10);
    impl_parts!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9, L 10, M 11);
}
