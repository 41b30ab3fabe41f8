//! [`TaskGroup`]: asyncio's `TaskGroup`, structured concurrency over tokio
//! tasks. The first failure cancels every other child and the body; every
//! error comes back in one [`TaskGroupError`]; the group returns only once
//! every child has finished.

pub(crate) mod core;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::core::{Abort, Adopted, Failure, GroupCore, JoinPoll, Joined, Started};
use crate::sync::Arc;
use crate::task::core::{discard, drop_catching, poll_catching, TaskCore};
use crate::task::current::lend;
use crate::task::{current_runtime, report_unobserved, Panic, Task, TaskError, TaskId};
use crate::timeout::Timer;

pub use self::core::Origin;

/// The error a group child's [`Task`] ends with when the child failed or
/// panicked: the failure itself went to its group, which returns it in its
/// [`TaskGroupError`] (or resumes the panic).
///
/// A child's failure belongs to the group, as in asyncio, where the group's
/// done-callback sees it before anyone awaiting the child does (and cancels
/// that awaiter, the body, at once). Code that awaits a failed child inside
/// the group is cancelled in the same way, so it meets this error only in a
/// race with the cancellation, or outside the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("the task failed, and its failure went to its task group")]
pub struct InGroup;

/// [`TaskGroupHandle::spawn`] on a group that has finished (it was joined,
/// or dropped): asyncio's `RuntimeError("TaskGroup ... is finished")`
/// (behaviour 88). The future, never polled, is handed back.
///
/// Spawning while the group is *shutting down* (cancelling after a
/// failure or [`cancel`](TaskGroupHandle::cancel)) is not an error here,
/// where asyncio raises `RuntimeError("... is shutting down")` (88): the
/// future is dropped unpolled (asyncio 3.13 closes the coroutine) and an
/// already-cancelled [`Task`] is returned. The code that spawns then is
/// the body or a child, about to be cancelled itself; an error would make
/// every spawn site handle a race whose outcome is the same either way.
#[derive(Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("task group is finished")]
pub struct SpawnError<F>(pub F);

impl<F> SpawnError<F> {
    /// The future that was not spawned.
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl<F> fmt::Debug for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SpawnError").finish_non_exhaustive()
    }
}

/// Every error of a failed task group, in the order the group collected
/// them: asyncio's `ExceptionGroup("unhandled errors in a TaskGroup", ..)`.
///
/// Always a collection, even with one error (trio's lesson: code written
/// for the single case crashes on the group case under load). Each error
/// says where it came from: the body, or the child's [`TaskId`]. A nested
/// group's error is one member of the outer group's, if the outer error
/// type holds it (behaviour 98).
///
/// [`source`](std::error::Error::source) is the first error, so
/// `downcast_ref` through `Box<dyn Error>` or `anyhow` reaches it; iterate
/// for the others.
pub struct TaskGroupError<E> {
    errors: Vec<(Origin, E)>,
}

impl<E> TaskGroupError<E> {
    /// How many errors the group collected (at least one).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a group error holds at least one error. (Here for
    /// clippy's `len_without_is_empty`, and for generic code.)
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors with their origins, in the order they were collected.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Origin, &E)> + '_ {
        self.errors.iter().map(|(origin, error)| (*origin, error))
    }

    /// The first error collected.
    pub fn first(&self) -> (Origin, &E) {
        let (origin, error) = &self.errors[0];
        (*origin, error)
    }

    /// The errors with their origins.
    pub fn into_errors(self) -> Vec<(Origin, E)> {
        self.errors
    }
}

impl<E> IntoIterator for TaskGroupError<E> {
    type Item = (Origin, E);
    type IntoIter = std::vec::IntoIter<(Origin, E)>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("errors", &self.errors)
            .finish()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Body => f.write_str("the body"),
            Origin::Child(id) => write!(f, "{id}"),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unhandled errors in a task group ({})",
            self.errors.len()
        )?;
        for (index, (origin, error)) in self.errors.iter().enumerate() {
            let separator = if index == 0 { ": " } else { "; " };
            write!(f, "{separator}{origin}: {error}")?;
        }
        Ok(())
    }
}

impl<E: std::error::Error + 'static> std::error::Error for TaskGroupError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errors
            .first()
            .map(|(_, error)| error as &(dyn std::error::Error + 'static))
    }
}

impl Abort for AbortHandle {
    fn abort(&self) {
        AbortHandle::abort(self);
    }
}

type Core<E> = GroupCore<E, AbortHandle>;

/// What the handles, the children and the owner of one group share: the
/// core, the token its children watch, and its grace period.
struct Shared<E> {
    core: Core<E>,
    token: CancellationToken,
    grace: Option<Duration>,
}

/// How many groups exist (their shared state is alive), process-wide. A
/// group can be nested in a child's future only while at least two exist,
/// so an aborted child of a lone group skips the thread-local of
/// [`dropping_in`] and its reference count (a child's poll cannot: see
/// [`polling_in`]). The count is exact enough for
/// that: the nested group and the group aborting the child were both
/// created before the abort (their increments happen before the drop that
/// reads the count), and neither has been dropped.
static GROUPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl<E> Drop for Shared<E> {
    fn drop(&mut self) {
        GROUPS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl<E> Shared<E> {
    /// A call started the group's cancellation: the token is cancelled now;
    /// the children are aborted by the waiting owner when it runs, or now,
    /// if nobody waits and there is no grace period (a body-less group that
    /// nobody joins yet must not leave its children running on a failure).
    fn started(&self, started: Started) {
        match started {
            Started::No => {}
            Started::OwnerWillAbort => self.token.cancel(),
            Started::NobodyWaiting => {
                self.token.cancel();
                if self.grace.is_none() {
                    self.core.abort_all();
                }
            }
        }
    }
}

/// A group as the groups nested in it see it while it drops them: one that
/// can hold its join until their aborted children have finished.
trait Enclosing: Send + Sync {
    fn adopt(&self) -> bool;
    fn release(&self);
    /// The group as `Any`, so that a child that lent its group while it
    /// was polled gets its typed group back ([`polling_in`]).
    fn into_any(self: std::sync::Arc<Self>) -> std::sync::Arc<dyn std::any::Any + Send + Sync>;
}

impl<E: Send + 'static> Enclosing for Shared<E> {
    fn adopt(&self) -> bool {
        self.core.adopt()
    }
    fn release(&self) {
        self.core.release_adopted();
    }
    fn into_any(self: std::sync::Arc<Self>) -> std::sync::Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

/// The loom build's `Arc` does not coerce to a trait object; the tokio
/// layer never runs under loom, but it compiles there.
#[cfg(asyncio_loom)]
struct LoomShared<E>(Arc<Shared<E>>);

#[cfg(asyncio_loom)]
impl<E: Send + 'static> Enclosing for LoomShared<E> {
    fn adopt(&self) -> bool {
        self.0.adopt()
    }
    fn release(&self) {
        self.0.release();
    }
    fn into_any(self: std::sync::Arc<Self>) -> std::sync::Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

fn erase<E: Send + 'static>(group: &Arc<Shared<E>>) -> std::sync::Arc<dyn Enclosing> {
    #[cfg(not(asyncio_loom))]
    {
        group.clone()
    }
    #[cfg(asyncio_loom)]
    {
        std::sync::Arc::new(LoomShared(group.clone()))
    }
}

/// An enclosing group's hold on a nested group that was dropped in it.
struct Hold(std::sync::Arc<dyn Enclosing>);

impl Adopted for Hold {
    fn release(self: Box<Self>) {
        self.0.release();
    }
}

std::thread_local! {
    /// The group that is dropping its body or an aborted child, or whose
    /// child is being polled, on this thread: a group nested in what it
    /// drops hands it its children.
    static ENCLOSING: std::cell::Cell<Option<std::sync::Arc<dyn Enclosing>>> =
        const { std::cell::Cell::new(None) };
}

/// Runs `drop` (the drop of `group`'s body or of an aborted child's
/// future) with `group` as the enclosing group of whatever it drops.
fn dropping_in<E: Send + 'static, R>(group: &Arc<Shared<E>>, drop: impl FnOnce() -> R) -> R {
    struct Restore(Option<std::sync::Arc<dyn Enclosing>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            let _ = ENCLOSING.try_with(|slot| slot.set(previous));
        }
    }
    let previous = ENCLOSING
        .try_with(|slot| slot.replace(Some(erase(group))))
        .ok()
        .flatten();
    let _restore = Restore(previous);
    drop()
}

/// Runs `poll` (a child's poll) with the child's `group` as the enclosing
/// group of whatever it drops: a group nested in the child and dropped
/// while it runs (a timeout around it, a `select!` that lost, a body-less
/// group it never joins) hands its aborted children to `group`, which
/// joins them, as the child in asyncio would have awaited them before
/// going on. The group moves into the thread-local and back, as `lend`
/// moves a task's core, so a poll pays no reference count. (Every poll
/// lends it, even while no other group exists: the child may create a
/// group and drop it within one poll.)
#[inline]
fn polling_in<E: Send + 'static, R>(
    group: &mut Option<Arc<Shared<E>>>,
    poll: impl FnOnce() -> R,
) -> R {
    /// Puts the group back in the child, if `poll` unwinds too.
    struct Back<'a, E: Send + 'static> {
        group: &'a mut Option<Arc<Shared<E>>>,
        previous: Option<std::sync::Arc<dyn Enclosing>>,
    }
    impl<E: Send + 'static> Drop for Back<'_, E> {
        fn drop(&mut self) {
            let previous = self.previous.take();
            let lent = ENCLOSING
                .try_with(|slot| slot.replace(previous))
                .ok()
                .flatten();
            *self.group = lent.map(unerase);
        }
    }
    let Some(shared) = group.take() else {
        return poll();
    };
    let mut lent = Some(erase_owned(shared));
    let Ok(previous) = ENCLOSING.try_with(|slot| slot.replace(lent.take())) else {
        // The thread-local is gone (a poll from a thread-local's
        // destructor): the group stays with the child, and nothing is lent.
        *group = lent.map(unerase);
        return poll();
    };
    let _back = Back { group, previous };
    poll()
}

/// [`erase`], consuming the reference: in the std build an unsizing move.
fn erase_owned<E: Send + 'static>(group: Arc<Shared<E>>) -> std::sync::Arc<dyn Enclosing> {
    #[cfg(not(asyncio_loom))]
    {
        group
    }
    #[cfg(asyncio_loom)]
    {
        std::sync::Arc::new(LoomShared(group))
    }
}

/// Undoes [`erase_owned`] for the group a child lent.
fn unerase<E: Send + 'static>(group: std::sync::Arc<dyn Enclosing>) -> Arc<Shared<E>> {
    const NOT_OURS: &str = "asyncio: a group child got back another group from its poll";
    #[cfg(not(asyncio_loom))]
    {
        group.into_any().downcast().expect(NOT_OURS)
    }
    #[cfg(asyncio_loom)]
    {
        group
            .into_any()
            .downcast::<LoomShared<E>>()
            .expect(NOT_OURS)
            .0
            .clone()
    }
}

/// The group a child holds while it is not lending it.
fn group_of<E: Send>(group: &Option<Arc<Shared<E>>>) -> &Arc<Shared<E>> {
    group
        .as_ref()
        .expect("asyncio: a group child's group is lent only during its own poll")
}

/// The enclosing group's hold for a group dropped before it joined, if it
/// is being dropped by an enclosing group (which then joins only after
/// this group's children have finished).
fn enclosing_hold() -> Option<Box<dyn Adopted>> {
    let group = ENCLOSING.try_with(|slot| slot.take()).ok().flatten()?;
    let hold: Option<Box<dyn Adopted>> = if group.adopt() {
        Some(Box::new(Hold(group.clone())))
    } else {
        None
    };
    let _ = ENCLOSING.try_with(|slot| slot.set(Some(group)));
    hold
}

/// Where a group child's `Task` reports what nobody observed: not its
/// failure (the group has it), but a panic from dropping its value.
fn report_group_child(task: TaskId, error: TaskError<InGroup>) {
    if let TaskError::Panicked(_) = error {
        report_unobserved(task, error);
    }
}

/// A handle to a task group: spawns children into it, cancels it, gives
/// out its cancellation token. Cloneable and `'static`, so the body, the
/// children and their children (behaviour 99), or code elsewhere, can
/// spawn into the same group.
pub struct TaskGroupHandle<E = Infallible> {
    shared: Arc<Shared<E>>,
}

impl<E> Clone for TaskGroupHandle<E> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

impl<E> fmt::Debug for TaskGroupHandle<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupHandle")
            .field("core", &self.shared.core)
            .finish()
    }
}

impl<E: fmt::Debug + Send + 'static> TaskGroupHandle<E> {
    /// Spawns a plain future as a child of the group: asyncio's
    /// `tg.create_task(coro)`. It starts running at once.
    ///
    /// The returned [`Task`] yields the child's value; if the child panics,
    /// the panic goes to the group and the task ends
    /// `Err(TaskError::Failed(InGroup))`.
    ///
    /// While the group is shutting down, the future is dropped unpolled and
    /// an already-cancelled task is returned (behaviour 107).
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the group has finished (joined or dropped), with
    /// the future. Inside a scoped group's body this cannot happen (the
    /// group does not finish while its body runs); in a child, only once
    /// the group was dropped (the child is being aborted then).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<Task<F::Output, InGroup>, SpawnError<F>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(current_runtime(), future, |future| async move {
            Ok(future.await)
        })
    }

    /// [`spawn`](Self::spawn) on the runtime `runtime` names rather than the
    /// current one (for a group whose owner runs outside any runtime, or
    /// children that belong on another).
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Self::spawn).
    pub fn spawn_on<F>(
        &self,
        runtime: &tokio::runtime::Handle,
        future: F,
    ) -> Result<Task<F::Output, InGroup>, SpawnError<F>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(
            runtime.clone(),
            future,
            |future| async move { Ok(future.await) },
        )
    }

    /// [`spawn`](Self::spawn) for a future that is not `Send`: runs it on the
    /// current [`LocalSet`](tokio::task::LocalSet), as
    /// [`spawn_local`](crate::spawn_local) does.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Self::spawn).
    ///
    /// # Panics
    ///
    /// Outside a `LocalSet` (or `LocalRuntime`), as
    /// `tokio::task::spawn_local` does; the group is left as it was.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> Result<Task<F::Output, InGroup>, SpawnError<F>>
    where
        F: Future + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_by(
            future,
            |future| async move { Ok(future.await) },
            tokio::task::spawn_local,
        )
    }

    /// [`try_spawn`](Self::try_spawn) for a future that is not `Send`; see
    /// [`spawn_local`](Self::spawn_local).
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Self::spawn).
    ///
    /// # Panics
    ///
    /// Outside a `LocalSet` (or `LocalRuntime`), as
    /// `tokio::task::spawn_local` does; the group is left as it was.
    #[track_caller]
    pub fn try_spawn_local<F, T>(&self, future: F) -> Result<Task<T, InGroup>, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: Send + 'static,
    {
        self.spawn_by(future, |future| future, tokio::task::spawn_local)
    }

    /// [`try_spawn`](Self::try_spawn) on the runtime `runtime` names.
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Self::spawn).
    pub fn try_spawn_on<F, T>(
        &self,
        runtime: &tokio::runtime::Handle,
        future: F,
    ) -> Result<Task<T, InGroup>, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_with(runtime.clone(), future, |future| future)
    }

    /// Spawns a fallible future as a child of the group: its `Err(E)` is a
    /// failure that cancels the group. Otherwise the same as
    /// [`spawn`](Self::spawn).
    ///
    /// # Errors
    ///
    /// As for [`spawn`](Self::spawn).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn try_spawn<F, T>(&self, future: F) -> Result<Task<T, InGroup>, SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_with(current_runtime(), future, |future| future)
    }

    fn spawn_with<F, G, T>(
        &self,
        runtime: tokio::runtime::Handle,
        future: F,
        wrap: impl FnOnce(F) -> G,
    ) -> Result<Task<T, InGroup>, SpawnError<F>>
    where
        G: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_by(future, wrap, |child| runtime.spawn(child))
    }

    /// Reserves a slot, builds the child, and hands it to `spawn`. If
    /// `spawn` panics (`tokio::task::spawn_local` outside a `LocalSet`), the
    /// child it was given is dropped as the panic unwinds, and its drop
    /// releases the slot as a cancelled child's: the group is left as it
    /// was, and the panic reaches the caller.
    #[track_caller]
    fn spawn_by<F, G, T>(
        &self,
        future: F,
        wrap: impl FnOnce(F) -> G,
        spawn: impl FnOnce(GroupChild<G, T, E>) -> JoinHandle<()>,
    ) -> Result<Task<T, InGroup>, SpawnError<F>>
    where
        G: Future<Output = Result<T, E>> + 'static,
        T: Send + 'static,
    {
        let id = TaskId::next();
        let core = &self.shared.core;
        let index = match core.reserve(id) {
            Ok(index) => index,
            Err(self::core::Refused::Finished) => return Err(SpawnError(future)),
            Err(self::core::Refused::ShuttingDown) => {
                drop(future);
                return Ok(Task::cancelled_unspawned(id, report_group_child));
            }
        };
        let task = Arc::new(TaskCore::new(id, report_group_child));
        let child = GroupChild {
            future: Some(wrap(future)),
            task: Some(task.clone()),
            group: Some(self.shared.clone()),
            index: narrow(index),
        };
        let join = spawn(child);
        core.attach(index, id, join.abort_handle());
        Ok(Task::from_parts(task, join))
    }
}

impl<E: fmt::Debug + Send + 'static> TaskGroupHandle<E> {
    /// Starts a plain future as a child of the group and returns no handle
    /// to it: trio's `nursery.start_soon`. The child is a full member of the
    /// group (the group waits for it, and its panic cancels the group and is
    /// resumed by it), but nothing awaits it: its value is dropped when it
    /// finishes.
    ///
    /// It costs less than [`spawn`](Self::spawn), which gives every child
    /// a [`Task`] with its own completion core: a child started here has
    /// only its entry in the group. Use it for work whose results go
    /// elsewhere (a channel, a shared structure) or nowhere, as with most
    /// asyncio code that calls `tg.create_task(..)` and drops the task.
    ///
    /// While the group is shutting down, the future is dropped unpolled and
    /// `Ok(())` is returned, as [`spawn`](Self::spawn) returns an
    /// already-cancelled task then (behaviour 107).
    ///
    /// A child started this way has no handle of its own:
    /// [`current_task`](crate::current_task) is `None` inside it, so code
    /// that needs its own task's handle (`current_task`,
    /// [`Task::propagate`]) belongs in a child started with
    /// [`spawn`](Self::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let done = Arc::new(AtomicUsize::new(0));
    /// let counted = done.clone();
    /// asyncio::task_group(|tg| async move {
    ///     for _ in 0..100 {
    ///         let done = counted.clone();
    ///         tg.start_soon(async move {
    ///             done.fetch_add(1, Ordering::Relaxed);
    ///         })
    ///         .unwrap();
    ///     }
    ///     Ok::<_, std::convert::Infallible>(())
    /// })
    /// .await
    /// .unwrap();
    /// // The group waited for every child it started.
    /// assert_eq!(done.load(Ordering::Relaxed), 100);
    /// # }
    /// ```
    ///
    /// # asyncio equivalent
    ///
    /// `tg.create_task(coro)` with the task dropped, or trio's
    /// `nursery.start_soon(fn)`. The differences: the child starts running
    /// at once (trio's starts at the next checkpoint, asyncio's at the next
    /// loop iteration), and it has no handle at all, where asyncio's
    /// dropped task still exists and `asyncio.current_task()` finds it.
    ///
    /// # Cancellation
    ///
    /// As for every child of the group (see [`TaskGroup`]'s table):
    ///
    /// | situation | asyncio | crate |
    /// | --- | --- | --- |
    /// | the awaiting future is dropped | the group's future: children cancelled and awaited (94) | the child is aborted with the others (not awaited) |
    /// | the child errors | n/a: a plain future cannot | n/a ([`try_start_soon`](Self::try_start_soon): the error cancels the group and is in its [`TaskGroupError`]) |
    /// | the child is cancelled | not an error (93) | n/a: nothing outside the group can cancel it (it has no handle); the group's cancellation aborts it |
    /// | the child panics | `KeyboardInterrupt` escapes the loop (96) | the group cancels and joins the others, then resumes the panic, as for a child with a [`Task`] |
    /// | a timeout fires | the group's future is cancelled | as the first row |
    /// | the owner/handle is dropped | n/a | there is no handle; dropping a `TaskGroupHandle` changes nothing |
    /// | the runtime shuts down | tasks cancelled | the child is dropped by the runtime: it ends cancelled, not an error |
    ///
    /// # Errors
    ///
    /// [`SpawnError`] if the group has finished (joined or dropped), with
    /// the future, as for [`spawn`](Self::spawn).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, at the caller's line.
    #[track_caller]
    #[doc(alias = "create_task")]
    pub fn start_soon<F>(&self, future: F) -> Result<(), SpawnError<F>>
    where
        F: Future + Send + 'static,
    {
        self.start_soon_with(current_runtime(), future, |future| async move {
            Ok(future.await)
        })
    }

    /// Starts a fallible future as a child of the group, without a handle:
    /// [`start_soon`](Self::start_soon) for a future returning `Result`,
    /// whose `Err(E)` is a failure that cancels the group and comes back in
    /// its [`TaskGroupError`], as with [`try_spawn`](Self::try_spawn). The
    /// value of an `Ok` is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::Origin;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let group = asyncio::TaskGroup::<&str>::new();
    /// group.try_start_soon(async { Err::<(), _>("boom") });
    /// group.try_start_soon(async { Ok(1) });
    /// let error = group.join().await.unwrap_err();
    /// assert!(matches!(error.first(), (Origin::Child(_), &"boom")));
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`start_soon`](Self::start_soon).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn try_start_soon<F, T>(&self, future: F) -> Result<(), SpawnError<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.start_soon_with(current_runtime(), future, |future| future)
    }

    fn start_soon_with<F, G, T>(
        &self,
        runtime: tokio::runtime::Handle,
        future: F,
        wrap: impl FnOnce(F) -> G,
    ) -> Result<(), SpawnError<F>>
    where
        G: Future<Output = Result<T, E>> + Send + 'static,
    {
        let id = TaskId::next();
        let core = &self.shared.core;
        let index = match core.reserve(id) {
            Ok(index) => index,
            Err(self::core::Refused::Finished) => return Err(SpawnError(future)),
            Err(self::core::Refused::ShuttingDown) => {
                drop(future);
                return Ok(());
            }
        };
        let child = SoonChild {
            future: Some(wrap(future)),
            group: Some(self.shared.clone()),
            index: narrow(index),
        };
        let abort = runtime.spawn(child).abort_handle();
        core.attach(index, id, abort);
        Ok(())
    }
}

impl<E> TaskGroupHandle<E> {
    /// Cancels the group: asyncio 3.15's `TaskGroup.cancel()` (behaviour
    /// 108). When the group's owner next runs, every child is cancelled
    /// (after the grace period, if the group has one) and a scoped group's
    /// body is dropped at its current await point; the group then ends
    /// without an error of its own (errors the children return are still
    /// reported). Idempotent, and callable from the body, from a child, or
    /// from anywhere else.
    ///
    /// Returns whether this call started the cancellation (`false` if the
    /// group was already cancelling or finished).
    pub fn cancel(&self) -> bool {
        let started = self.shared.core.cancel();
        self.shared.started(started);
        started != Started::No
    }

    /// Whether the group is cancelling its children (after a failure or
    /// [`cancel`](Self::cancel)), or has finished: a spawn now is refused.
    pub fn is_cancelling(&self) -> bool {
        self.shared.core.is_cancelling()
    }

    /// A token that is cancelled when the group starts cancelling its
    /// children, or is dropped, for children (or any other code) that stop
    /// on their own and clean up asynchronously (SPEC decision 5): with a
    /// grace period ([`TaskGroup::with_grace`]) children have that long
    /// before the abort. Cancelling the returned token yourself affects
    /// nobody else.
    pub fn token(&self) -> CancellationToken {
        self.shared.token.child_token()
    }
}

pin_project_lite::pin_project! {
    /// A group child as the runtime runs it: polls the child's future,
    /// catches its failure or panic, drops the future, publishes the task's
    /// outcome into its [`TaskCore`], and only then tells the group. So a
    /// joined group's children have run their destructors, and their tasks
    /// show their outcome (behaviour 87). Aborted (dropped before it
    /// finished), it does the same with "cancelled", or with the panic of
    /// the future's destructor.
    struct GroupChild<F, T, E>
    where
        E: Send,
        E: 'static,
    {
        #[pin]
        future: Option<F>,
        // The child's task core, lent to `current_task` during each poll
        // (`None` only then; see `lend` for why the fields stay flat).
        // Whether its own handle is out is kept in the core
        // (`TaskCore::is_watched`), as a plain child keeps it.
        task: Option<Arc<TaskCore<T, InGroup>>>,
        // `None` only while it is lent (see `polling_in`).
        group: Option<Arc<Shared<E>>>,
        // The child's slot in the group core, narrowed (see `narrow`).
        index: u32,
    }

    impl<F, T, E> PinnedDrop for GroupChild<F, T, E>
    where
        E: Send,
        E: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.future.is_none() {
                return;
            }
            let (Some(task), Some(group)) = (this.task.as_deref(), this.group.as_ref()) else {
                return;
            };
            end_cancelled(this.future, Some(task), group, *this.index);
        }
    }
}

/// A child's slot index as its wrapper keeps it. Four bytes, not eight:
/// tokio sizes a task's allocation by its future in 128-byte steps on
/// x86-64 (a future of up to 24 bytes fits the smallest), and with a
/// `usize` a child wrapping a small future took the next step, 256 bytes,
/// which cancelling 100k children paid for in cache misses. Slots are
/// reused, so the index is below the number of children live at once;
/// 2^32 of them would need over 512 GiB of tokio tasks alone.
fn narrow(index: usize) -> u32 {
    u32::try_from(index).expect("asyncio: a task group holds fewer than 2^32 children at once")
}

/// The task core a group child holds while it is not lending it.
fn held<T>(task: &Option<Arc<TaskCore<T, InGroup>>>) -> &TaskCore<T, InGroup> {
    task.as_deref()
        .expect("asyncio: a group child's core is lent only during its own poll")
}

/// Ends a child whose future was dropped before it completed (an abort, or
/// a cancel through its own handle): a panic from the future's destructor
/// is the child's failure; otherwise it was cancelled, which is not an
/// error of the group (behaviour 93).
fn end_cancelled<F, T, E: Send + 'static>(
    future: Pin<&mut Option<F>>,
    task: Option<&TaskCore<T, InGroup>>,
    group: &Arc<Shared<E>>,
    index: u32,
) {
    // A group nested in the child is dropped here: its children are
    // aborted, and this group joins only once they have finished. (With
    // no other group in existence, there is nothing nested to hand over.)
    let nested = GROUPS.load(std::sync::atomic::Ordering::Relaxed) > 1;
    let failure = if nested {
        dropping_in(group, || drop_catching(future))
    } else {
        drop_catching(future)
    }
    .map(Failure::Panic);
    if let Some(task) = task {
        let outcome = match failure {
            Some(_) => Err(TaskError::Failed(InGroup)),
            None => Err(TaskError::Cancelled),
        };
        task.publish(outcome);
    }
    let started = group.core.finish(index as usize, failure);
    group.started(started);
}

impl<F, T, E> Future for GroupChild<F, T, E>
where
    F: Future<Output = Result<T, E>>,
    E: Send + 'static,
    T: Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if this.future.is_none() {
            return Poll::Ready(());
        }
        // A child whose own handle is out (`current_task`, `propagate`) can
        // be cancelled through it, which cannot abort: it ends here, as an
        // aborted child does (cancelled on its own: not an error, 93).
        let watched = held(this.task).is_watched();
        if watched && held(this.task).cancel_requested() {
            end_cancelled(
                this.future,
                Some(held(this.task)),
                group_of(this.group),
                *this.index,
            );
            return Poll::Ready(());
        }
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let task = &mut *this.task;
        let (polled, handed_out) =
            polling_in(this.group, || lend(task, || poll_catching(future, cx)));
        let task = held(this.task);
        let group = group_of(this.group);
        if handed_out {
            task.set_watched();
        }
        if polled.is_pending() && (watched || handed_out) && task.watch_child(cx) {
            end_cancelled(this.future, Some(task), group, *this.index);
            return Poll::Ready(());
        }
        let (mut value, mut failure) = match std::task::ready!(polled) {
            Ok(Ok(value)) => (Some(value), None),
            Ok(Err(error)) => (None, Some(Failure::Error(error))),
            Err(panic) => (None, Some(Failure::Panic(panic))),
        };
        // The child's future is dropped before anyone hears of its end. A
        // panic there is the child's panic too; a failure before it is kept
        // as well, and a value it displaces is dropped as nobody's.
        if let Some(panic) = drop_catching(this.future.as_mut()) {
            if let Some(first) = failure.take() {
                let started = group.core.fail_child(*this.index as usize, first);
                group.started(started);
            }
            if let Some(value) = value.take() {
                discard(report_group_child, task.id(), value);
            }
            failure = Some(Failure::Panic(panic));
        }
        task.publish(value.ok_or(TaskError::Failed(InGroup)));
        let started = group.core.finish(*this.index as usize, failure);
        group.started(started);
        Poll::Ready(())
    }
}

pin_project_lite::pin_project! {
    /// A group child without a task handle ([`TaskGroupHandle::start_soon`]):
    /// polls the child's future, drops it, drops its value, and tells the
    /// group how it ended. It has no task core, so its task holds two
    /// pointers' worth beside the child's future (tokio sizes a task's
    /// allocation by its future: see `lend`). Aborted (dropped before it
    /// finished), it ends cancelled, or with the panic of the future's
    /// destructor.
    struct SoonChild<F, E>
    where
        E: Send,
        E: 'static,
    {
        #[pin]
        future: Option<F>,
        // `None` only while it is lent (see `polling_in`).
        group: Option<Arc<Shared<E>>>,
        // The child's slot in the group core, narrowed (see `narrow`).
        index: u32,
    }

    impl<F, E> PinnedDrop for SoonChild<F, E>
    where
        E: Send,
        E: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let Some(group) = this.group.as_ref() else {
                return;
            };
            if this.future.is_none() {
                return;
            }
            end_cancelled::<F, (), E>(this.future, None, group, *this.index);
        }
    }
}

impl<F, T, E> Future for SoonChild<F, E>
where
    F: Future<Output = Result<T, E>>,
    E: Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        // No handle of its own: `current_task` is `None` while it runs,
        // whatever was lent around it.
        let (polled, _) = polling_in(this.group, || {
            lend::<(), InGroup, _>(&mut None, || poll_catching(future, cx))
        });
        let (value, mut failure) = match std::task::ready!(polled) {
            Ok(Ok(value)) => (Some(value), None),
            Ok(Err(error)) => (None, Some(Failure::Error(error))),
            Err(panic) => (None, Some(Failure::Panic(panic))),
        };
        // The future first, then the value nobody takes; a panic in either
        // destructor is the child's panic, and a failure it displaces is
        // recorded first, so that nothing is lost.
        let group = &**group_of(this.group);
        let index = *this.index as usize;
        let also = |failure: &mut Option<Failure<E>>, panic: Panic| {
            if let Some(first) = failure.take() {
                group.started(group.core.fail_child(index, first));
            }
            *failure = Some(Failure::Panic(panic));
        };
        if let Some(panic) = drop_catching(this.future.as_mut()) {
            also(&mut failure, panic);
        }
        if let Some(panic) = value.and_then(drop_value_catching) {
            also(&mut failure, panic);
        }
        let started = group.core.finish(index, failure);
        group.started(started);
        Poll::Ready(())
    }
}

/// Drops `value`, catching a panic from its destructor.
fn drop_value_catching<V>(value: V) -> Option<Panic> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(value)))
        .err()
        .map(Panic::new)
}

/// asyncio's `TaskGroup`: children that are joined together, where the
/// first failure cancels every other child (and the body of a
/// [scoped](TaskGroup::run) group), and every error comes back in one
/// [`TaskGroupError`].
///
/// Two forms:
///
/// - **Scoped**, [`run`](TaskGroup::run) (or [`task_group`]): `async with
///   asyncio.TaskGroup() as tg:`. The group drives the body itself, so it
///   can cancel the body at its current await point (behaviour 90), and it
///   returns only once the body and every child have finished.
/// - **Body-less**: keep a `TaskGroup` in a struct, spawn into it with
///   [`spawn`](TaskGroup::spawn) / [`try_spawn`](TaskGroup::try_spawn) (or
///   a [`handle`](TaskGroup::handle)), and [`join`](TaskGroup::join) it:
///   trio's nursery without a block, `JoinSet`'s place, with the same
///   error and cancellation rules.
///
/// Semantics (asyncio behaviours 87–109):
///
/// - **Completion**: the group finishes when the body (if any) has finished
///   and no child is running, children spawned while the body was finishing
///   included (87, 99). Every child it cancelled has then actually finished:
///   its future was dropped (SPEC decision 5).
/// - **First failure**: a child's `Err` or panic, or the body's `Err` or
///   panic, starts the cancellation: spawns are refused, the group's
///   [token](TaskGroupHandle::token) is cancelled, and when the group's
///   owner next runs (the scoped group's future, or a pending
///   [`join`](TaskGroup::join)) it drops the body at its current await
///   point and aborts every other child, after the grace period if there is
///   one (90, 91, 105). As asyncio's cancellation is scheduled, not
///   immediate, a child already woken in the same tick still runs, and its
///   failure is collected too. A body-less group that nobody is joining
///   aborts its children at once (with a grace period: when `join` is
///   called). A child cancelled on its own is not a failure (93).
/// - **Errors**: every `Err` is collected, those of children finishing
///   during the cancellation included (92), into one [`TaskGroupError`],
///   even a single one (91), each naming its origin.
/// - **Panics** (SPEC decision 6): once every child has finished, the first
///   panic is resumed in the caller; the errors collected meanwhile, and
///   any later panic, go to the
///   [unobserved-error hook](crate::set_unobserved_error_hook) (95, 109).
/// - **[`cancel`](TaskGroupHandle::cancel)** (3.15, 108): cancels the
///   children and the body; the group ends without an error of its own.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let outcome = asyncio::task_group(|tg| async move {
///     let a = tg.spawn(async { 1 }).unwrap();
///     let b = tg.spawn(async {
///         asyncio::sleep(Duration::from_secs(1)).await;
///         2
///     }).unwrap();
///     Ok::<_, &str>((a, b))
/// })
/// .await;
/// // The group waited for both children: their tasks are done.
/// let (a, b) = outcome.unwrap().unwrap();
/// assert_eq!((a.await.unwrap(), b.await.unwrap()), (1, 2));
/// # }
/// ```
///
/// The first failure cancels the others:
///
/// ```
/// use std::time::Duration;
/// use asyncio::Origin;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let error = asyncio::task_group(|tg| async move {
///     let failing = tg.try_spawn(async { Err::<(), _>("boom") }).unwrap();
///     tg.try_spawn(async {
///         asyncio::sleep(Duration::from_secs(60)).await; // cancelled
///         Ok(())
///     }).unwrap();
///     asyncio::sleep(Duration::from_secs(60)).await; // the body is cancelled here
///     unreachable!("the body is dropped at its await");
///     # #[allow(unreachable_code)]
///     Ok(())
/// })
/// .await
/// .unwrap_err();
/// assert_eq!(error.len(), 1);
/// assert!(matches!(error.first(), (Origin::Child(_), &"boom")));
/// # }
/// ```
///
/// The body-less form:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let group = asyncio::TaskGroup::<&str>::new();
/// for n in 0..3 {
///     group.try_spawn(async move { if n == 1 { Err("one") } else { Ok(n) } });
/// }
/// let error = group.join().await.unwrap_err();
/// assert_eq!(error.iter().map(|(_, e)| *e).collect::<Vec<_>>(), ["one"]);
/// # }
/// ```
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `async with asyncio.TaskGroup() as tg:` body | `asyncio::task_group(\|tg\| async move { body; Ok(value) }).await` |
/// | `tg.create_task(coro)` | `tg.spawn(fut)`, or `tg.try_spawn(fut)` for a future returning `Result` |
/// | `tg.create_task(coro)`, the task dropped (trio: `nursery.start_soon`) | [`tg.start_soon(fut)`](TaskGroupHandle::start_soon) / [`try_start_soon`](TaskGroupHandle::try_start_soon): no `Task`, so no completion core per child |
/// | `ExceptionGroup` of the errors | `Err(TaskGroupError<E>)`, iterated |
/// | `tg.cancel()` (3.15) | `tg.cancel()`: the group ends with `Ok(None)` if the body was cancelled |
/// | `except* ValueError` | iterate the [`TaskGroupError`] and match each error |
///
/// The differences:
/// 1. Cancelling is an abort: a child or the body is dropped at its await
///    point and cannot clean up asynchronously. For that, children watch
///    [`TaskGroupHandle::token`] and the group gives them a grace period
///    ([`with_grace`](TaskGroup::with_grace)). The body is dropped at once
///    (it runs in the caller's task; its clean-up is its destructors).
///    A group nested in the body is dropped with it: its children are
///    aborted, and the outer group joins them before it finishes, as
///    asyncio's outer group waits for the inner `async with` (87, 98). The
///    same holds for a group that the body drops itself (by a timeout, a
///    `select!`, or a body-less `TaskGroup` it never joins), for one that
///    a running child drops the same ways, and for the groups inside a
///    child that the outer group aborts. A group dropped anywhere else (by
///    a caller outside any group, or inside a task that is not a group's
///    child with a `Task` or started with `start_soon`, such as a
///    [`gather`](crate::gather())'s child) can only abort: run that work
///    in a group of its own to have it joined.
/// 2. A child's failure belongs to the group: the child's [`Task`] ends
///    `Err(TaskError::Failed(InGroup))`, and the error is in the group's
///    [`TaskGroupError`]. In asyncio, code awaiting the failed child inside
///    the group is cancelled first, so it never sees the error either.
/// 3. Spawning while the group shuts down returns an already-cancelled
///    task (the future dropped unpolled) where asyncio raises "is shutting
///    down" (88): see [`SpawnError`]. Spawning on a finished group is
///    [`SpawnError`] (asyncio's "is finished"). A group cannot be used
///    before it is entered or entered twice (88, 89): the handle exists
///    only while the group does, and `run` consumes it.
/// 4. A panic (asyncio's `KeyboardInterrupt`/`SystemExit`), in the body or
///    in a child, cancels and joins the others, then resumes in the caller
///    (95); asyncio lets a child's escape the loop (96, a bug). Other
///    errors go to the hook instead of vanishing (109).
/// 5. Behaviours 100–104 (swallowed cancellations, `cancelling()` counts)
///    cannot arise: a dropped body cannot swallow its cancellation.
/// 6. Cancelling the caller (dropping the group's future) aborts the body
///    and children but cannot wait for them (drop cannot await). asyncio
///    waits (94). Call [`cancel`](TaskGroupHandle::cancel) and await the
///    group to wait.
///
/// # Cancellation
///
/// | situation | asyncio | trio nursery | crate |
/// | --- | --- | --- | --- |
/// | the awaiting future is dropped | children cancelled and awaited; `CancelledError` propagates (94) | the scope's cancellation reaches every child; the nursery waits | the body is dropped, every child aborted (each stops at its next await point, after the drop returned); errors already collected, and later ones, go to the hook |
/// | a child fails | every other child and the body cancelled; `ExceptionGroup` (90) | the same; `ExceptionGroup` | the same: children aborted (after the grace period), the body dropped, `Err(TaskGroupError)` once all have finished |
/// | a child is cancelled | not an error; the group carries on (93) | n/a: no per-task cancel | the same: not an error; its task ends `Cancelled` |
/// | a child panics | `KeyboardInterrupt` escapes the loop (96) | raised in the nursery's task | every other child and the body cancelled and joined; then the panic resumes in the caller; other errors go to the hook |
/// | the body fails | children cancelled; the error is in the group (91) | the same | the same |
/// | `cancel()` | children and body cancelled; no error (108) | `nursery.cancel_scope.cancel()`: no error | the same: `Ok(None)` if the body was cancelled (`Ok(Some(v))` if it had returned), or the errors the children returned |
/// | a timeout around the group | the body is cancelled, the group cancels and awaits its children, then `TimeoutError` (79) | `move_on_after` / `fail_after` | [`wait_for`](crate::wait_for) / [`timeout`](fn@crate::timeout) drop the group's future: as the first row (children aborted, not awaited), then `Err(TimeoutError)`; inside another group's body or one of its children, that group joins the aborted children before it finishes |
/// | the owner/handle is dropped | n/a | n/a | dropping a handle changes nothing; dropping a body-less `TaskGroup` is the first row |
/// | the runtime shuts down | tasks cancelled | n/a | children dropped by the runtime (their tasks end `Cancelled`); the group's future is dropped with its task |
///
/// # Panics
///
/// Spawning outside a tokio runtime panics at the caller's line. A panic of
/// the body or of a child is resumed in the caller, after the others have
/// finished.
#[must_use = "a task group does nothing unless it is run or joined"]
pub struct TaskGroup<E = Infallible> {
    handle: TaskGroupHandle<E>,
    /// The group was moved into `run` or `join`: its drop does nothing.
    consumed: bool,
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("core", &self.handle.shared.core)
            .field("grace", &self.handle.shared.grace)
            .finish()
    }
}

impl<E: fmt::Debug + Send + 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: fmt::Debug + Send + 'static> TaskGroup<E> {
    /// An empty, open group, without a grace period: children are aborted
    /// as soon as the group cancels them.
    pub fn new() -> Self {
        Self::build(None)
    }

    /// An empty, open group that cancels cooperatively: when it starts
    /// cancelling, it first cancels its [token](TaskGroupHandle::token),
    /// which the children can watch to stop on their own and clean up
    /// asynchronously, and aborts only those still running `grace` later.
    /// It still returns only once every child has finished.
    ///
    /// The grace period is timed by the group's owner while it is awaited
    /// (`run`'s future, or [`join`](TaskGroup::join)); a body-less group
    /// that nobody joins cancels its token at the first failure and aborts
    /// when `join` is called. Dropping the group aborts at once. A scoped
    /// group's body is dropped at once, and with it whatever it was
    /// awaiting: a child it awaited through its [`Join`](crate::Join) is
    /// cancelled then, without a grace period (await a child's
    /// [`shield`](crate::shield) to spare it). `Duration::MAX` means no
    /// limit: the children are never aborted, only asked to stop.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let group = asyncio::TaskGroup::<&str>::with_grace(Duration::from_secs(1));
    /// let token = group.handle().token();
    /// let polite = group.spawn(async move {
    ///     token.cancelled().await;
    ///     asyncio::sleep(Duration::from_millis(10)).await; // async clean-up
    ///     "cleaned up"
    /// });
    /// group.try_spawn(async { Err::<(), _>("boom") });
    /// assert!(group.join().await.is_err());
    /// assert_eq!(polite.await.unwrap(), "cleaned up");
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// The group's future (or `join`) panics if polled outside a tokio
    /// runtime with the time driver, as tokio's timers do.
    pub fn with_grace(grace: Duration) -> Self {
        Self::build(Some(grace))
    }

    fn build(grace: Option<Duration>) -> Self {
        Self {
            handle: TaskGroupHandle {
                shared: Arc::new(Shared {
                    core: {
                        GROUPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        GroupCore::new(TaskId::next(), report_unobserved::<E>)
                    },
                    token: CancellationToken::new(),
                    grace,
                }),
            },
            consumed: false,
        }
    }

    /// A handle to spawn into the group, cancel it, or watch its token.
    pub fn handle(&self) -> TaskGroupHandle<E> {
        self.handle.clone()
    }

    /// Spawns a plain future as a child: [`TaskGroupHandle::spawn`], which
    /// cannot fail here, since the group has not finished while you hold
    /// it. While the group is shutting down, an already-cancelled task is
    /// returned.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output, InGroup>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.handle.spawn(future) {
            Ok(task) => task,
            Err(_) => unreachable!("asyncio: a task group finished while its owner held it"),
        }
    }

    /// Spawns a fallible future as a child: [`TaskGroupHandle::try_spawn`],
    /// which cannot fail here either.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn try_spawn<F, T>(&self, future: F) -> Task<T, InGroup>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
    {
        match self.handle.try_spawn(future) {
            Ok(task) => task,
            Err(_) => unreachable!("asyncio: a task group finished while its owner held it"),
        }
    }

    /// Starts a plain future as a child without a handle:
    /// [`TaskGroupHandle::start_soon`], which cannot fail here, since the
    /// group has not finished while you hold it.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn start_soon<F>(&self, future: F)
    where
        F: Future + Send + 'static,
    {
        if self.handle.start_soon(future).is_err() {
            unreachable!("asyncio: a task group finished while its owner held it");
        }
    }

    /// Starts a fallible future as a child without a handle:
    /// [`TaskGroupHandle::try_start_soon`], which cannot fail here either.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn try_start_soon<F, T>(&self, future: F)
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        if self.handle.try_start_soon(future).is_err() {
            unreachable!("asyncio: a task group finished while its owner held it");
        }
    }

    /// Cancels the group: [`TaskGroupHandle::cancel`].
    pub fn cancel(&self) -> bool {
        self.handle.cancel()
    }

    /// Waits until every child has finished, children spawned meanwhile
    /// included, with the semantics of the group (the first failure cancels
    /// the others). `Ok(())` if no child failed (also after
    /// [`cancel`](TaskGroup::cancel): call it, then `join`, to cancel and
    /// wait).
    ///
    /// # Errors
    ///
    /// [`TaskGroupError`] with every child's error.
    ///
    /// # Panics
    ///
    /// A child's panic is resumed here, once every other child has
    /// finished.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. If the returned future is used as a
    /// branch in `select!` and another branch completes first, the group is
    /// dropped, which aborts every child still running (they stop at their next
    /// await point).
    pub fn join(mut self) -> GroupJoin<E> {
        self.consumed = true;
        GroupJoin {
            owner: Owner::new(self.handle.clone()),
        }
    }

    /// Runs `body` as the group's body: asyncio's `async with
    /// asyncio.TaskGroup() as tg:`. The body gets a [`TaskGroupHandle`] to
    /// spawn children; the group drives the body itself (it is polled in
    /// the caller's task, so it need not be `Send` or `'static`), cancels it
    /// at its current await point on the first failure, and returns once
    /// the body and every child have finished.
    ///
    /// The output is `Ok(Some(value))` if the body returned `Ok(value)` and
    /// nothing failed; `Ok(None)` if the body was cancelled by
    /// [`cancel`](TaskGroupHandle::cancel).
    ///
    /// # Errors
    ///
    /// [`TaskGroupError`] with every error, the body's `Err` included
    /// (behaviour 91).
    ///
    /// # Panics
    ///
    /// A panic of the body or of a child is resumed once every child has
    /// finished. If `body` itself (the closure, before it returns its
    /// future) panics, the children it spawned are aborted.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. If the returned future is used as a
    /// branch in `select!` and another branch completes first, the body is
    /// dropped and every child is aborted (they stop at their next await
    /// point).
    pub fn run<B, Fut, R>(mut self, body: B) -> GroupRun<Fut, E>
    where
        B: FnOnce(TaskGroupHandle<E>) -> Fut,
        Fut: Future<Output = Result<R, E>>,
    {
        self.consumed = true;
        // The owner first: if `body` panics, dropping it abandons the group.
        let owner = Owner::new(self.handle.clone());
        let body = body(self.handle.clone());
        GroupRun {
            body: Some(body),
            value: None,
            owner,
        }
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        if !self.consumed {
            self.handle.shared.core.abandon(enclosing_hold());
            self.handle.shared.token.cancel();
        }
    }
}

/// Runs `body` in a new [`TaskGroup`]: `TaskGroup::new().run(body)`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sum = asyncio::task_group(|tg| async move {
///     let tasks: Vec<_> = (1..=3).map(|n| tg.spawn(async move { n * 10 }).unwrap()).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.unwrap();
///     }
///     Ok::<_, std::convert::Infallible>(sum)
/// })
/// .await;
/// assert_eq!(sum.unwrap(), Some(60));
/// # }
/// ```
///
/// # Errors
///
/// As for [`TaskGroup::run`]: a [`TaskGroupError`] with every error.
///
/// # Panics
///
/// As for [`TaskGroup::run`]: a panic of the body or a child is resumed
/// once every child has finished.
pub fn task_group<E, B, Fut, R>(body: B) -> GroupRun<Fut, E>
where
    E: fmt::Debug + Send + 'static,
    B: FnOnce(TaskGroupHandle<E>) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    TaskGroup::new().run(body)
}

/// The owner's side of a group, shared by the scoped and the body-less
/// futures: the grace period, and what happens when it finishes or is
/// dropped.
struct Owner<E> {
    handle: TaskGroupHandle<E>,
    grace_deadline: Option<Option<Instant>>,
    timer: Timer,
    aborted: bool,
    finished: bool,
}

impl<E> Owner<E> {
    fn new(handle: TaskGroupHandle<E>) -> Self {
        Self {
            handle,
            grace_deadline: None,
            timer: Timer::default(),
            aborted: false,
            finished: false,
        }
    }

    fn core(&self) -> &Core<E> {
        &self.handle.shared.core
    }

    /// The body failed: record it; the cancellation it starts is this
    /// owner's to carry out (it is polling).
    fn fail_body(&self, failure: Failure<E>) {
        let started = self.core().fail_body(failure);
        self.handle.shared.started(started);
    }

    /// While cancelling: cancels the token, and aborts the children, at
    /// once or, with a grace period, when it ends (never, for a period too
    /// long to have an end).
    fn poll_cancelling(&mut self, cx: &mut Context<'_>) {
        if self.aborted {
            return;
        }
        let shared = &self.handle.shared;
        shared.token.cancel();
        if let Some(grace) = shared.grace {
            let deadline = *self
                .grace_deadline
                .get_or_insert_with(|| Instant::now().checked_add(grace));
            if !self.timer.poll_expired(deadline, 0, cx) {
                return;
            }
        }
        self.aborted = true;
        shared.core.abort_all();
    }

    /// The group finished: resume its first panic (after reporting the
    /// errors nobody will see then), or return its errors. `Ok` says
    /// whether the group was cancelled.
    fn finish(&mut self, joined: Joined<E>) -> Result<bool, TaskGroupError<E>> {
        self.finished = true;
        if let Some((_, panic)) = joined.panic {
            for (origin, error) in joined.errors {
                self.core().report(origin, Failure::Error(error));
            }
            panic.resume();
        }
        if joined.errors.is_empty() {
            Ok(joined.cancelled)
        } else {
            Err(TaskGroupError {
                errors: joined.errors,
            })
        }
    }
}

impl<E> Drop for Owner<E> {
    fn drop(&mut self) {
        if !self.finished {
            self.core().abandon(enclosing_hold());
        }
        // Whatever watches the token (children, and code outside the group)
        // learns that the group is over.
        self.handle.shared.token.cancel();
    }
}

pin_project_lite::pin_project! {
    /// The future of a scoped group: [`TaskGroup::run`], [`task_group`].
    ///
    /// Dropping it before it completes drops the body and aborts every
    /// child (they stop at their next await point, after the drop
    /// returned); the errors collected, and those still to come, go to the
    /// [unobserved-error hook](crate::set_unobserved_error_hook).
    #[must_use = "futures do nothing unless polled"]
    pub struct GroupRun<Fut: Future, E> {
        #[pin]
        body: Option<Fut>,
        value: Option<<Fut as Future>::Output>,
        owner: Owner<E>,
    }
}

impl<Fut: Future, E> fmt::Debug for GroupRun<Fut, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupRun")
            .field("body_running", &self.body.is_some())
            .field("core", self.owner.core())
            .finish()
    }
}

impl<Fut, R, E> Future for GroupRun<Fut, E>
where
    Fut: Future<Output = Result<R, E>>,
    E: Send + 'static,
{
    type Output = Result<Option<R>, TaskGroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let body_done = this.body.is_none();
            let cancelling = match this.owner.core().poll_join(cx, body_done) {
                JoinPoll::Ready(joined) => {
                    let cancelled = this.owner.finish(joined)?;
                    let value = match this.value.take() {
                        Some(Ok(value)) => Some(value),
                        _ => None,
                    };
                    debug_assert!(value.is_some() || cancelled);
                    return Poll::Ready(Ok(value));
                }
                JoinPoll::Pending { cancelling } => cancelling,
            };
            if cancelling {
                this.owner.poll_cancelling(cx);
                if this.body.is_some() {
                    // The body is cancelled at its current await point.
                    // A group nested in the body is dropped with it: this
                    // group joins its children before it finishes.
                    let shared = &this.owner.handle.shared;
                    if let Some(panic) = dropping_in(shared, || drop_catching(this.body.as_mut())) {
                        this.owner.fail_body(Failure::Panic(panic));
                    }
                    continue;
                }
                return Poll::Pending;
            }
            let Some(body) = this.body.as_mut().as_pin_mut() else {
                return Poll::Pending;
            };
            // A group nested in the body and dropped while it runs (by a
            // timeout, a `select!`) hands its aborted children to this one.
            let shared = &this.owner.handle.shared;
            let outcome = std::task::ready!(dropping_in(shared, || poll_catching(body, cx)));
            // A finished body is dropped at once; a panic in its destructor
            // is the body's too, and must not unwind past the children.
            let shared = &this.owner.handle.shared;
            let drop_panic = dropping_in(shared, || drop_catching(this.body.as_mut()));
            match outcome {
                Ok(Ok(value)) => *this.value = Some(Ok(value)),
                Ok(Err(error)) => this.owner.fail_body(Failure::Error(error)),
                Err(panic) => this.owner.fail_body(Failure::Panic(panic)),
            }
            if let Some(panic) = drop_panic {
                this.owner.fail_body(Failure::Panic(panic));
            }
        }
    }
}

/// The future of [`TaskGroup::join`].
///
/// Dropping it before it completes aborts every child still running (they
/// stop at their next await point); the errors go to the
/// [unobserved-error hook](crate::set_unobserved_error_hook).
#[must_use = "futures do nothing unless polled"]
pub struct GroupJoin<E> {
    owner: Owner<E>,
}

impl<E> fmt::Debug for GroupJoin<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupJoin")
            .field("core", self.owner.core())
            .finish()
    }
}

impl<E> Future for GroupJoin<E> {
    type Output = Result<(), TaskGroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let owner = &mut self.owner;
        match owner.core().poll_join(cx, true) {
            JoinPoll::Ready(joined) => Poll::Ready(owner.finish(joined).map(|_| ())),
            JoinPoll::Pending { cancelling } => {
                if cancelling {
                    owner.poll_cancelling(cx);
                }
                Poll::Pending
            }
        }
    }
}
