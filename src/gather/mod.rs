//! [`gather`] and [`try_gather`]: run many children concurrently and collect
//! their results in input order, after asyncio's `gather`; the [`gather!`](crate::gather!)
//! and [`try_gather!`](crate::try_gather!) macros do the same for a fixed
//! list of futures of different types.

pub(crate) mod core;
mod tuple;

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::core::{Finished, GatherChild, Gathering, Mode, Outcomes};
pub use self::tuple::{
    GatherTuple, GatherTupleAll, GatherTupleAllFuture, GatherTupleCancel, GatherTupleCancelled,
    GatherTupleFuture, ValueTuple,
};
use crate::task::core::{discard, Report};
use crate::task::{
    into_tasks, report_unobserved, sealed, try_into_tasks, IntoTask, Task, TaskError, TaskId,
    TryIntoTask,
};
use crate::timeout::{deadline_after, Awaitable, AwaitableSealed, Timer};

/// The macros' plumbing. Not part of the public contract.
#[doc(hidden)]
pub mod __private {
    pub use super::tuple::{part, try_part, tuple, Erased, Part, PartChild, Parts};
}

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
/// On a current-thread runtime, a gather that spawned children yields once
/// before it first looks at them (its first poll is `Pending` and wakes it
/// at once), so that it runs after them and finds most of them finished.
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
/// | the gather is cancelled explicitly | `gather_fut.cancel()` cancels every unfinished child; it returns `False` if all had finished, and the results still arrive (26) | [`cancel().await`](GatherFuture::cancel) (also on the builder, [`Gather::cancel`]) cancels every unfinished child and waits until each has finished; its [`GatherCancelled`] says whether anything was cancelled and hands back every outcome, the values of children that finished first included |
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
    let spawned = <I::Item as sealed::SealedIntoTask<_, _>>::spawns(sealed::Token);
    Gather::new(into_tasks(children)).yield_first(spawned)
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
    let spawned = <I::Item as sealed::SealedTryIntoTask<_, _>>::spawns(sealed::Token);
    Gather::new(try_into_tasks(children)).yield_first(spawned)
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
pub struct Gather<T, E = Infallible> {
    run: Run<T, E, Task<T, E>>,
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
/// This future is not cancel safe. If it is used as a branch in `select!` and
/// another branch completes first, the children are cancelled and the values
/// already produced are lost. Await `&mut future` in the `select!` to keep it,
/// and [`cancel`](GatherFuture::cancel) it to stop and join the children.
#[must_use = "futures do nothing unless polled"]
pub struct GatherFuture<T, E = Infallible> {
    run: Run<T, E, Task<T, E>>,
}

/// A gather's running state, behind every public gather type: the core and
/// the grace period. Generic over how it holds its children (`Task`s for
/// [`gather`], type-erased parts for [`gather!`](crate::gather!)); each
/// public type fixes that parameter, so it never shows in a signature.
struct Run<T, E, H: GatherChild<T, E>> {
    gathering: Gathering<T, E, H>,
    grace: Option<Grace>,
    /// Yield once before the first visit (see [`Gather::yield_first`]).
    yield_first: bool,
}

impl<T, E: fmt::Debug + Send + 'static, H: GatherChild<T, E>> Run<T, E, H> {
    /// A fail-fast gather of `children`, already running, each in its slot.
    fn new(children: Vec<Option<H>>) -> Self {
        Self {
            gathering: Gathering::from_slots(children, Mode::FailFast, report_unobserved::<E>),
            grace: None,
            yield_first: false,
        }
    }
}

impl<T, E, H: GatherChild<T, E>> Run<T, E, H> {
    fn with_mode(mut self, mode: Mode) -> Self {
        self.gathering.set_mode(mode);
        self
    }

    fn with_grace(mut self, token: CancellationToken, grace: Duration) -> Self {
        self.gathering.defer_abort();
        self.grace = Some(Grace::new(token, grace));
        self
    }

    fn cancel(mut self) -> Cancelling<T, E, H> {
        let cancelled_any = self.gathering.cancel_all();
        Cancelling {
            gathering: self.gathering,
            grace: self.grace,
            cancelled_any,
        }
    }

    fn take_pending(&mut self) -> Vec<(usize, H)> {
        self.gathering.take_pending()
    }

    /// Whether this poll is the gather's one yield before its first visit
    /// (see [`Gather::yield_first`]): it then wakes itself and is pending,
    /// the core untouched.
    fn yields(&mut self, cx: &mut Context<'_>) -> bool {
        if !std::mem::take(&mut self.yield_first) || self.gathering.started() {
            return false;
        }
        cx.waker().wake_by_ref();
        true
    }

    /// A fail-fast or cancel-siblings gather's result; a panic is resumed.
    fn poll_values(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, GatherError<E>>> {
        if self.yields(cx) {
            return Poll::Pending;
        }
        let polled = self.gathering.poll(cx);
        if polled.is_pending() {
            if let Some(grace) = &mut self.grace {
                grace.poll(&self.gathering, cx);
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

    /// A return-exceptions gather's outcomes. (Such a gather never cancels
    /// children by itself, so it has no grace period to run.)
    fn poll_outcomes(&mut self, cx: &mut Context<'_>) -> Poll<Outcomes<T, E>> {
        if self.yields(cx) {
            return Poll::Pending;
        }
        Poll::Ready(match std::task::ready!(self.gathering.poll(cx)) {
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

/// A gather being cancelled: what [`Run::cancel`] leaves, until every child
/// it cancelled has finished.
struct Cancelling<T, E, H: GatherChild<T, E>> {
    gathering: Gathering<T, E, H>,
    grace: Option<Grace>,
    cancelled_any: bool,
}

impl<T, E, H: GatherChild<T, E>> Cancelling<T, E, H> {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<GatherCancelled<T, E>> {
        let Poll::Ready(outcomes) = self.gathering.poll_cancelled(cx) else {
            if let Some(grace) = &mut self.grace {
                grace.poll(&self.gathering, cx);
            }
            return Poll::Pending;
        };
        Poll::Ready(GatherCancelled {
            cancelled_any: self.cancelled_any,
            outcomes,
            ids: self.gathering.ids(),
            report: self.gathering.report(),
        })
    }
}

impl<T, E, H: GatherChild<T, E>> fmt::Debug for Cancelling<T, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherCancel")
            .field("state", &self.gathering)
            .field("cancelled_any", &self.cancelled_any)
            .finish()
    }
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

impl<T, E> fmt::Debug for Gather<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("state", &self.run.gathering)
            .finish()
    }
}

impl<T, E> fmt::Debug for GatherFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherFuture")
            .field("state", &self.run.gathering)
            .finish()
    }
}

impl<T, E: fmt::Debug + Send + 'static> Gather<T, E> {
    fn new(tasks: Vec<Option<Task<T, E>>>) -> Self {
        Self {
            run: Run::new(tasks),
        }
    }

    /// On a current-thread runtime, a gather that spawned its children
    /// itself yields once before its first visit of them: none of them can
    /// have run yet (they wait in the queue behind the caller), so a first
    /// visit would register the gather with every child, only for every
    /// child to report back through that registration a moment later. After
    /// one yield, which puts the gather behind its children in the queue,
    /// the children that finished at their first poll (typically all of
    /// them) are collected directly. On a multi-thread runtime the yield
    /// would gain nothing (a task that wakes itself runs next), so it is
    /// not made; nor for tasks handed in already running.
    fn yield_first(mut self, spawned: bool) -> Self {
        self.run.yield_first = spawned
            && self.run.gathering.unfinished() > 0
            && tokio::runtime::Handle::try_current().is_ok_and(|runtime| {
                runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread
            });
        self
    }
}

impl<T, E> Gather<T, E> {
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
    pub fn cancel_siblings(self) -> Self {
        Self {
            run: self.run.with_mode(Mode::CancelSiblings),
        }
    }

    /// Collects every outcome as a value, in input order: asyncio's
    /// `return_exceptions=True`. Errors, cancellations and panics take their
    /// place in the results (behaviours 20, 22); the gather completes when
    /// every child has finished.
    pub fn return_exceptions(self) -> GatherAll<T, E> {
        GatherAll {
            run: self.run.with_mode(Mode::ReturnExceptions),
        }
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
    pub fn cancel(self) -> GatherCancel<T, E> {
        GatherCancel {
            cancelling: self.run.cancel(),
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
    pub fn with_grace(self, token: CancellationToken, grace: Duration) -> Self {
        Self {
            run: self.run.with_grace(token, grace),
        }
    }
}

// Nothing in a gather is ever pinned in place: the children run in their own
// tasks, and the outcomes are plain values moved out when it completes.
impl<T, E> Unpin for GatherFuture<T, E> {}

impl<T, E> IntoFuture for Gather<T, E> {
    type Output = Result<Vec<T>, GatherError<E>>;
    type IntoFuture = GatherFuture<T, E>;

    fn into_future(self) -> GatherFuture<T, E> {
        GatherFuture { run: self.run }
    }
}

impl<T, E> GatherFuture<T, E> {
    /// As [`Gather::cancel`], for a gather already running: cancels every
    /// unfinished child now, and completes once each has finished, with
    /// whether any was still running (`false` after the gather completed:
    /// there was nothing left to cancel, behaviour 26).
    pub fn cancel(self) -> GatherCancel<T, E> {
        GatherCancel {
            cancelling: self.run.cancel(),
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
    pub fn take_pending(&mut self) -> Vec<(usize, Task<T, E>)> {
        self.run.take_pending()
    }
}

impl<T, E> Future for GatherFuture<T, E> {
    type Output = Result<Vec<T>, GatherError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.run.poll_values(cx)
    }
}

/// The future returned by [`Gather::cancel`]: completes once every child
/// the gather cancelled has finished, with what the cancel found.
///
/// Dropping it before it completes leaves the children aborted, without
/// waiting for them.
///
/// # Cancel safety
///
/// This future is not cancel safe. If it is used as a branch in `select!`
/// and another branch completes first, the children stay aborted but nobody
/// waits for them, and the outcomes collected so far are lost (a panic among
/// them goes to the unobserved-error hook).
#[must_use = "futures do nothing unless polled"]
pub struct GatherCancel<T, E = Infallible> {
    cancelling: Cancelling<T, E, Task<T, E>>,
}

impl<T, E> fmt::Debug for GatherCancel<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cancelling.fmt(f)
    }
}

impl<T, E> Unpin for GatherCancel<T, E> {}

impl<T, E> Future for GatherCancel<T, E> {
    type Output = GatherCancelled<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<GatherCancelled<T, E>> {
        self.cancelling.poll(cx)
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
pub struct GatherAll<T, E = Infallible> {
    run: Run<T, E, Task<T, E>>,
}

/// The future that runs a [`GatherAll`]: yields every child's outcome, in
/// input order.
///
/// Dropping it before it completes cancels every unfinished child.
///
/// # Cancel safety
///
/// This future is not cancel safe. If it is used as a branch in `select!` and
/// another branch completes first, the children are cancelled and the outcomes
/// already produced are lost (a panic among them goes to the unobserved-error
/// hook).
#[must_use = "futures do nothing unless polled"]
pub struct GatherAllFuture<T, E = Infallible> {
    run: Run<T, E, Task<T, E>>,
}

impl<T, E> fmt::Debug for GatherAllFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAllFuture")
            .field("state", &self.run.gathering)
            .finish()
    }
}

impl<T, E> IntoFuture for GatherAll<T, E> {
    type Output = Vec<Result<T, TaskError<E>>>;
    type IntoFuture = GatherAllFuture<T, E>;

    fn into_future(self) -> GatherAllFuture<T, E> {
        GatherAllFuture { run: self.run }
    }
}

impl<T, E> GatherAllFuture<T, E> {
    /// As [`GatherFuture::cancel`].
    pub fn cancel(self) -> GatherCancel<T, E> {
        GatherCancel {
            cancelling: self.run.cancel(),
        }
    }
}

impl<T, E> fmt::Debug for GatherAll<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherAll")
            .field("state", &self.run.gathering)
            .finish()
    }
}

impl<T, E> GatherAll<T, E> {
    /// As [`Gather::cancel`]: cancels every unfinished child and waits until
    /// each has finished.
    pub fn cancel(self) -> GatherCancel<T, E> {
        GatherCancel {
            cancelling: self.run.cancel(),
        }
    }

    /// As [`Gather::with_grace`]: on [`cancel`](GatherAll::cancel) (or a
    /// child's panic), the children get `token` and `grace` before the
    /// abort.
    pub fn with_grace(self, token: CancellationToken, grace: Duration) -> Self {
        Self {
            run: self.run.with_grace(token, grace),
        }
    }
}

impl<T, E> Unpin for GatherAllFuture<T, E> {}

impl<T, E> Future for GatherAllFuture<T, E> {
    type Output = Vec<Result<T, TaskError<E>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.run.poll_outcomes(cx)
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

impl<T, E> IntoTask for Gather<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    type Ok = Result<Vec<T>, GatherError<E>>;
    type Err = Infallible;
}

impl<T, E> sealed::SealedIntoTask<Result<Vec<T>, GatherError<E>>, Infallible> for Gather<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    fn spawns(_: sealed::Token) -> bool {
        true
    }
    #[track_caller]
    fn into_task(self, _: sealed::Token) -> Task<Result<Vec<T>, GatherError<E>>> {
        crate::task::spawn(self.into_future())
    }
}

impl<T, E> TryIntoTask for Gather<T, E>
where
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    type Ok = Vec<T>;
    type Err = GatherError<E>;
}

impl<T, E> sealed::SealedTryIntoTask<Vec<T>, GatherError<E>> for Gather<T, E>
where
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    fn spawns(_: sealed::Token) -> bool {
        true
    }
    #[track_caller]
    fn into_task(self, _: sealed::Token) -> Task<Vec<T>, GatherError<E>> {
        crate::task::try_spawn(self.into_future())
    }
}

impl<T, E> IntoTask for GatherAll<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    type Ok = Vec<Result<T, TaskError<E>>>;
    type Err = Infallible;
}

impl<T, E> sealed::SealedIntoTask<Vec<Result<T, TaskError<E>>>, Infallible> for GatherAll<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    fn spawns(_: sealed::Token) -> bool {
        true
    }
    #[track_caller]
    fn into_task(self, _: sealed::Token) -> Task<Vec<Result<T, TaskError<E>>>> {
        crate::task::spawn(self.into_future())
    }
}

// `wait_for(gather(..), d)` runs the gather in place (the sealed trait's
// defaults).
impl<T, E> Awaitable for Gather<T, E> {}
impl<T, E> AwaitableSealed for Gather<T, E> {}
impl<T, E> Awaitable for GatherAll<T, E> {}
impl<T, E> AwaitableSealed for GatherAll<T, E> {}
