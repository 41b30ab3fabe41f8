//! The tuple forms of a gather, what [`gather!`](crate::gather!) and
//! [`try_gather!`](crate::try_gather!) return, and the macros' plumbing.
//!
//! Implementer's notes. The children of a tuple gather have different value
//! types, and one core gathers them: each part's [`Task`] is boxed behind
//! [`ErasedChild`], which hands its value out as a `Box<dyn Any + Send>`
//! ([`Erased`]), so the tasks are gathered as they are, never wrapped in new
//! tasks (SPEC decision 3). The public types carry the tuple of value types
//! `V` only as a marker, and [`ValueTuple`] rebuilds the typed tuple from the
//! erased values when the gather completes. Each part's task was built from
//! a future of exactly its type, so the downcasts cannot fail.

use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::core::{GatherChild, Mode};
use super::{Cancelling, GatherCancelled, GatherError, Run};
use crate::sync::Arc;
use crate::task::ready::ReadyList;
use crate::task::sealed::{SealedIntoTask, SealedTryIntoTask, Token};
use crate::task::{IntoTask, Task, TaskError, TaskId, TryIntoTask};
use crate::timeout::{Awaitable, AwaitableSealed};

/// The value types of a [`gather!`](crate::gather!)'s children, as a tuple
/// `(A, B, ..)` of 1 to 12 types: what a [`GatherTuple<V, E>`] yields, `V`.
///
/// Its [`Outcomes`](ValueTuple::Outcomes) is the same tuple with each value
/// in a `Result`, `(Result<A, TaskError<E>>, Result<B, TaskError<E>>, ..)`:
/// what the [`return_exceptions`](GatherTuple::return_exceptions) form and a
/// [`cancel`](GatherTuple::cancel) yield.
///
/// Implemented for every tuple of 1 to 12 `Send + 'static` types, and
/// sealed: you meet it only as a bound, and cannot implement it.
pub trait ValueTuple<E>: sealed::SealedValueTuple<E, Self::Outcomes> {
    /// Each value in a `Result<_, TaskError<E>>`, in the same order.
    type Outcomes;
}

/// The machinery behind [`ValueTuple`], out of users' reach.
mod sealed {
    use super::Erased;
    use crate::task::sealed::Token;
    use crate::task::TaskError;

    /// Rebuilds the typed tuples from the erased values.
    pub trait SealedValueTuple<E, O>: Sized {
        /// The tuple of values, from every child's value in order.
        fn values(values: Vec<Erased>, token: Token) -> Self;
        /// The tuple of outcomes, from every child's outcome in order.
        fn outcomes(outcomes: Vec<Result<Erased, TaskError<E>>>, token: Token) -> O;
    }
}

/// What [`gather!`](crate::gather!) and [`try_gather!`](crate::try_gather!)
/// return, before it is awaited: set its options, then await it for the
/// children's values as a tuple `V`, or the first failure.
///
/// `V` is the tuple of the children's value types ([`ValueTuple`]), so a
/// gather of a `u8` future and a `&str` future is a
/// `GatherTuple<(u8, &str)>`, and one of fallible futures with error `E` a
/// `GatherTuple<(u8, &str), E>`.
///
/// Dropping it unawaited cancels every child.
///
/// # Examples
///
/// ```
/// use asyncio::GatherTuple;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let gathered: GatherTuple<(u8, &str)> = asyncio::gather!(async { 7 }, async { "seven" });
/// assert_eq!(gathered.await.unwrap(), (7, "seven"));
/// # }
/// ```
#[must_use = "the children run, but nobody sees their values unless the gather is awaited"]
pub struct GatherTuple<V, E = Infallible> {
    run: Run<Erased, E, PartChild<E>>,
    values: PhantomData<fn() -> V>,
}

impl<V, E> fmt::Debug for GatherTuple<V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherTuple")
            .field("state", &self.run.gathering)
            .finish()
    }
}

impl<V, E> GatherTuple<V, E> {
    /// As [`Gather::cancel_siblings`](crate::Gather::cancel_siblings).
    pub fn cancel_siblings(self) -> Self {
        Self {
            run: self.run.with_mode(Mode::CancelSiblings),
            values: PhantomData,
        }
    }

    /// As [`Gather::with_grace`](crate::Gather::with_grace).
    pub fn with_grace(self, token: CancellationToken, grace: Duration) -> Self {
        Self {
            run: self.run.with_grace(token, grace),
            values: PhantomData,
        }
    }

    /// As [`Gather::cancel`](crate::Gather::cancel): cancels every
    /// unfinished child now, and returns a future that completes once each
    /// has finished, with a [`GatherTupleCancelled`]: whether any child was
    /// still running, and every child's outcome as a typed tuple.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use asyncio::TaskError;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let done = asyncio::spawn(async { 7_u8 });
    /// tokio::task::yield_now().await; // it finishes
    /// let gathered = asyncio::gather!(done, asyncio::sleep(Duration::from_secs(60)));
    /// let cancelled = gathered.cancel().await;
    /// assert!(cancelled.cancelled_any()); // the sleep was still running
    /// let (number, sleep) = cancelled.into_outcomes().unwrap();
    /// assert_eq!(number.unwrap(), 7); // finished before the cancel: kept
    /// assert!(matches!(sleep, Err(TaskError::Cancelled)));
    /// # }
    /// ```
    pub fn cancel(self) -> GatherTupleCancel<V, E> {
        GatherTupleCancel {
            cancelling: self.run.cancel(),
            values: PhantomData,
        }
    }

    /// As [`Gather::return_exceptions`](crate::Gather::return_exceptions):
    /// yields a tuple of every child's outcome,
    /// `(Result<A, TaskError<E>>, Result<B, TaskError<E>>, ..)`.
    pub fn return_exceptions(self) -> GatherTupleAll<V, E> {
        GatherTupleAll {
            run: self.run.with_mode(Mode::ReturnExceptions),
            values: PhantomData,
        }
    }
}

impl<V: ValueTuple<E>, E> IntoFuture for GatherTuple<V, E> {
    type Output = Result<V, GatherError<E>>;
    type IntoFuture = GatherTupleFuture<V, E>;

    fn into_future(self) -> GatherTupleFuture<V, E> {
        GatherTupleFuture {
            run: self.run,
            values: PhantomData,
        }
    }
}

/// The future that runs a [`GatherTuple`]: yields the children's values as
/// the tuple `V`, or the first failure.
///
/// Dropping it before it completes cancels every unfinished child.
///
/// # Cancel safety
///
/// This future is not cancel safe. If it is used as a branch in `select!` and
/// another branch completes first, the children are cancelled and the values
/// already produced are lost. Await `&mut future` in the `select!` to keep it,
/// and [`cancel`](GatherTupleFuture::cancel) it to stop and join the children.
#[must_use = "futures do nothing unless polled"]
pub struct GatherTupleFuture<V, E = Infallible> {
    run: Run<Erased, E, PartChild<E>>,
    values: PhantomData<fn() -> V>,
}

impl<V, E> fmt::Debug for GatherTupleFuture<V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherTupleFuture")
            .field("state", &self.run.gathering)
            .finish()
    }
}

impl<V, E> GatherTupleFuture<V, E> {
    /// As [`GatherFuture::cancel`](crate::GatherFuture::cancel), with the
    /// outcomes typed as in [`GatherTuple::cancel`].
    pub fn cancel(self) -> GatherTupleCancel<V, E> {
        GatherTupleCancel {
            cancelling: self.run.cancel(),
            values: PhantomData,
        }
    }
}

impl<V, E> Unpin for GatherTupleFuture<V, E> {}

impl<V: ValueTuple<E>, E> Future for GatherTupleFuture<V, E> {
    type Output = Result<V, GatherError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let values = std::task::ready!(self.run.poll_values(cx));
        Poll::Ready(values.map(|values| V::values(values, Token)))
    }
}

/// What [`GatherTuple::return_exceptions`] returns, before it is awaited:
/// awaiting it yields every child's outcome as the tuple
/// [`V::Outcomes`](ValueTuple::Outcomes). Dropping it unawaited cancels
/// every child.
#[must_use = "the children run, but nobody sees their outcomes unless the gather is awaited"]
pub struct GatherTupleAll<V, E = Infallible> {
    run: Run<Erased, E, PartChild<E>>,
    values: PhantomData<fn() -> V>,
}

impl<V, E> fmt::Debug for GatherTupleAll<V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherTupleAll")
            .field("state", &self.run.gathering)
            .finish()
    }
}

impl<V, E> GatherTupleAll<V, E> {
    /// As [`GatherTuple::cancel`].
    pub fn cancel(self) -> GatherTupleCancel<V, E> {
        GatherTupleCancel {
            cancelling: self.run.cancel(),
            values: PhantomData,
        }
    }

    /// As [`Gather::with_grace`](crate::Gather::with_grace).
    pub fn with_grace(self, token: CancellationToken, grace: Duration) -> Self {
        Self {
            run: self.run.with_grace(token, grace),
            values: PhantomData,
        }
    }
}

impl<V: ValueTuple<E>, E> IntoFuture for GatherTupleAll<V, E> {
    type Output = V::Outcomes;
    type IntoFuture = GatherTupleAllFuture<V, E>;

    fn into_future(self) -> GatherTupleAllFuture<V, E> {
        GatherTupleAllFuture {
            run: self.run,
            values: PhantomData,
        }
    }
}

/// The future that runs a [`GatherTupleAll`]: yields every child's outcome
/// as the tuple [`V::Outcomes`](ValueTuple::Outcomes).
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
pub struct GatherTupleAllFuture<V, E = Infallible> {
    run: Run<Erased, E, PartChild<E>>,
    values: PhantomData<fn() -> V>,
}

impl<V, E> fmt::Debug for GatherTupleAllFuture<V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherTupleAllFuture")
            .field("state", &self.run.gathering)
            .finish()
    }
}

impl<V, E> GatherTupleAllFuture<V, E> {
    /// As [`GatherTuple::cancel`], for a gather already running.
    pub fn cancel(self) -> GatherTupleCancel<V, E> {
        GatherTupleCancel {
            cancelling: self.run.cancel(),
            values: PhantomData,
        }
    }
}

impl<V, E> Unpin for GatherTupleAllFuture<V, E> {}

impl<V: ValueTuple<E>, E> Future for GatherTupleAllFuture<V, E> {
    type Output = V::Outcomes;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let outcomes = std::task::ready!(self.run.poll_outcomes(cx));
        Poll::Ready(V::outcomes(outcomes, Token))
    }
}

/// The future returned by [`GatherTuple::cancel`] (and the other tuple
/// forms' `cancel`): completes once every child the gather cancelled has
/// finished, with a [`GatherTupleCancelled`].
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
pub struct GatherTupleCancel<V, E = Infallible> {
    cancelling: Cancelling<Erased, E, PartChild<E>>,
    values: PhantomData<fn() -> V>,
}

impl<V, E> fmt::Debug for GatherTupleCancel<V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cancelling.fmt(f)
    }
}

impl<V, E> Unpin for GatherTupleCancel<V, E> {}

impl<V, E> Future for GatherTupleCancel<V, E> {
    type Output = GatherTupleCancelled<V, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let cancelled = std::task::ready!(self.cancelling.poll(cx));
        Poll::Ready(GatherTupleCancelled {
            cancelled: Some(cancelled),
            values: PhantomData,
        })
    }
}

/// What a [`cancel().await`](GatherTuple::cancel) of a tuple gather found:
/// [`GatherCancelled`] with the outcomes typed as the tuple
/// [`V::Outcomes`](ValueTuple::Outcomes).
///
/// Whether any child was still running (asyncio's `cancel()` return value),
/// and every child's outcome: the values and errors of the children that
/// finished before the cancel (asyncio behaviour 26), and
/// `Err(TaskError::Cancelled)` for those it cancelled. A panic among them
/// is a value too; dropped unread, it goes to the
/// [unobserved-error hook](crate::set_unobserved_error_hook), never nowhere.
pub struct GatherTupleCancelled<V, E = Infallible> {
    /// `None` once the outcomes were taken.
    cancelled: Option<GatherCancelled<Erased, E>>,
    values: PhantomData<fn() -> V>,
}

impl<V, E: fmt::Debug> fmt::Debug for GatherTupleCancelled<V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The values are type-erased until they are taken: `Any { .. }`.
        let outcomes = self
            .cancelled
            .as_ref()
            .and_then(|cancelled| cancelled.outcomes.as_ref());
        f.debug_struct("GatherTupleCancelled")
            .field("cancelled_any", &self.cancelled_any())
            .field("outcomes", &outcomes)
            .finish()
    }
}

impl<V, E> GatherTupleCancelled<V, E> {
    /// Whether any child was still running when the cancel came: asyncio's
    /// `gather.cancel()` return value (`false`: too late, behaviour 26).
    pub fn cancelled_any(&self) -> bool {
        self.cancelled
            .as_ref()
            .is_some_and(GatherCancelled::cancelled_any)
    }
}

impl<V: ValueTuple<E>, E> GatherTupleCancelled<V, E> {
    /// Every child's outcome, as the typed tuple
    /// `(Result<A, TaskError<E>>, Result<B, TaskError<E>>, ..)`; `None` if
    /// the gather had already completed (its result went to whoever
    /// awaited it).
    pub fn into_outcomes(mut self) -> Option<V::Outcomes> {
        let outcomes = self.cancelled.take()?.into_outcomes()?;
        Some(V::outcomes(outcomes, Token))
    }

    /// Every child's value, if every child produced one (the cancel was too
    /// late for all of them): what awaiting the gather would have given.
    /// `None` otherwise; the outcomes are dropped (a panic to the hook).
    pub fn values(mut self) -> Option<V> {
        let values = self.cancelled.take()?.values()?;
        Some(V::values(values, Token))
    }
}

// `wait_for(gather!(..), d)` runs the gather in place (the sealed trait's
// defaults).
impl<V: ValueTuple<E>, E> Awaitable for GatherTuple<V, E> {}
impl<V: ValueTuple<E>, E> AwaitableSealed for GatherTuple<V, E> {}

// A tuple gather is a child like any other, as a `Gather` is: gathers
// nest (behaviour 28).

impl<V, E> IntoTask for GatherTuple<V, E>
where
    V: ValueTuple<E> + Send + 'static,
    E: Send + 'static,
{
    type Ok = Result<V, GatherError<E>>;
    type Err = Infallible;
}

impl<V, E> SealedIntoTask<Result<V, GatherError<E>>, Infallible> for GatherTuple<V, E>
where
    V: ValueTuple<E> + Send + 'static,
    E: Send + 'static,
{
    fn spawns(_: Token) -> bool {
        true
    }
    #[track_caller]
    fn into_task(self, _: Token) -> Task<Result<V, GatherError<E>>> {
        crate::task::spawn(self.into_future())
    }
}

impl<V, E> TryIntoTask for GatherTuple<V, E>
where
    V: ValueTuple<E> + Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    type Ok = V;
    type Err = GatherError<E>;
}

impl<V, E> SealedTryIntoTask<V, GatherError<E>> for GatherTuple<V, E>
where
    V: ValueTuple<E> + Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    fn spawns(_: Token) -> bool {
        true
    }
    #[track_caller]
    fn into_task(self, _: Token) -> Task<V, GatherError<E>> {
        crate::task::try_spawn(self.into_future())
    }
}

impl<V, E> IntoTask for GatherTupleAll<V, E>
where
    V: ValueTuple<E> + 'static,
    V::Outcomes: Send + 'static,
    E: Send + 'static,
{
    type Ok = V::Outcomes;
    type Err = Infallible;
}

impl<V, E> SealedIntoTask<V::Outcomes, Infallible> for GatherTupleAll<V, E>
where
    V: ValueTuple<E> + 'static,
    V::Outcomes: Send + 'static,
    E: Send + 'static,
{
    fn spawns(_: Token) -> bool {
        true
    }
    #[track_caller]
    fn into_task(self, _: Token) -> Task<V::Outcomes> {
        crate::task::spawn(self.into_future())
    }
}

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

/// A part's task with its value type erased: the values are boxed as they
/// are taken, so `Task`s of different types share one gather without being
/// wrapped in new tasks (SPEC decision 3).
pub struct PartChild<E>(Box<dyn ErasedChild<E>>);

impl<E> fmt::Debug for PartChild<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PartChild").field(&self.0.id()).finish()
    }
}

/// [`GatherChild`] with the value type erased.
trait ErasedChild<E>: Send + Sync {
    fn id(&self) -> TaskId;
    fn take_or_listen(
        &self,
        list: &Arc<ReadyList>,
        index: usize,
    ) -> Option<Result<Erased, TaskError<E>>>;
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
    fn take_or_listen(
        &self,
        list: &Arc<ReadyList>,
        index: usize,
    ) -> Option<Result<Erased, TaskError<E>>> {
        GatherChild::take_or_listen(self, list, index)
            .map(|outcome| outcome.map(|value| Box::new(value) as Erased))
    }
    fn try_take(&self) -> Option<Result<Erased, TaskError<E>>> {
        GatherChild::try_take(self).map(|outcome| outcome.map(|value| Box::new(value) as Erased))
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
    fn take_or_listen(
        &self,
        list: &Arc<ReadyList>,
        index: usize,
    ) -> Option<Result<Erased, TaskError<E>>> {
        self.0.take_or_listen(list, index)
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

/// A `gather!` argument: a plain future (spawned now) or a [`Task`] (taken
/// as it is).
#[track_caller]
pub fn part<C>(child: C) -> Part<C::Ok, C::Err>
where
    C: IntoTask,
    C::Ok: Send + 'static,
    C::Err: Send + 'static,
{
    Part {
        child: PartChild(Box::new(SealedIntoTask::into_task(child, Token))),
        value: PhantomData,
    }
}

/// A `try_gather!` argument: a future returning `Result` (spawned now, its
/// `Err` the child's failure) or a [`Task`].
#[track_caller]
pub fn try_part<C>(child: C) -> Part<C::Ok, C::Err>
where
    C: TryIntoTask,
    C::Ok: Send + 'static,
    C::Err: Send + 'static,
{
    Part {
        child: PartChild(Box::new(SealedTryIntoTask::into_task(child, Token))),
        value: PhantomData,
    }
}

/// Gathers a tuple of parts.
pub fn tuple<P, E>(parts: P) -> GatherTuple<P::Values, E>
where
    P: Parts<E>,
    E: fmt::Debug + Send + 'static,
{
    GatherTuple {
        run: Run::new(parts.into_children()),
        values: PhantomData,
    }
}

fn unerase<T: 'static>(value: Option<Erased>) -> T {
    match value.map(|value| value.downcast::<T>()) {
        Some(Ok(value)) => *value,
        // Each part's task was built from a future of exactly this type.
        _ => unreachable!("asyncio: gather! lost track of a child's type"),
    }
}

/// A tuple of [`Part`]s: the macros' arguments.
pub trait Parts<E> {
    /// The tuple of the parts' value types.
    type Values: ValueTuple<E>;
    /// The parts' tasks, in order, each in its slot for the gather core.
    fn into_children(self) -> Vec<Option<PartChild<E>>>;
}

macro_rules! impl_tuples {
    ($($T:ident $i:tt),+) => {
        impl<E, $($T: Send + 'static),+> Parts<E> for ($(Part<$T, E>,)+) {
            type Values = ($($T,)+);

            fn into_children(self) -> Vec<Option<PartChild<E>>> {
                vec![$(Some(self.$i.child)),+]
            }
        }

        impl<E, $($T: Send + 'static),+> ValueTuple<E> for ($($T,)+) {
            type Outcomes = ($(Result<$T, TaskError<E>>,)+);
        }

        impl<E, $($T: Send + 'static),+> sealed::SealedValueTuple<E, ($(Result<$T, TaskError<E>>,)+)>
            for ($($T,)+)
        {
            fn values(values: Vec<Erased>, _: Token) -> Self {
                let mut values = values.into_iter();
                ($(unerase::<$T>(values.next()),)+)
            }

            fn outcomes(
                outcomes: Vec<Result<Erased, TaskError<E>>>,
                _: Token,
            ) -> ($(Result<$T, TaskError<E>>,)+) {
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

impl_tuples!(A 0);
impl_tuples!(A 0, B 1);
impl_tuples!(A 0, B 1, C 2);
impl_tuples!(A 0, B 1, C 2, D 3);
impl_tuples!(A 0, B 1, C 2, D 3, F 4);
impl_tuples!(A 0, B 1, C 2, D 3, F 4, G 5);
impl_tuples!(A 0, B 1, C 2, D 3, F 4, G 5, H 6);
impl_tuples!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7);
impl_tuples!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8);
impl_tuples!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9);
impl_tuples!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9, L 10);
impl_tuples!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7, J 8, K 9, L 10, M 11);
