//! The running task's own handle: asyncio's `current_task()`.
//!
//! A child's wrapper ([`Child`](super::core::Child)) lends its type-erased
//! core to a thread-local slot for the length of each poll, so code inside
//! the child can reach the task it runs in. Moving the handle in and out
//! costs no reference count; only [`current_task`] clones it.

use std::any::Any;
use std::cell::Cell;
use std::task::{Context, Poll};

use super::core::TaskCore;
use super::{CancelHandle, TaskId};

/// What a [`CancelHandle`] needs of a task's core, with `T` and `E` erased.
pub(crate) trait CancelTarget: Send + Sync {
    fn request_cancel(&self) -> bool;
    fn is_done(&self) -> bool;
    fn is_cancelled(&self) -> bool;
    fn is_failure(&self) -> bool;
    fn id(&self) -> TaskId;
    fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()>;
    fn unwatch(&self, key: u64);
    /// The erased core as `Any`, so that the child that lent it gets its
    /// typed core back ([`lend`]).
    fn into_any(self: std::sync::Arc<Self>) -> std::sync::Arc<dyn Any + Send + Sync>;
}

impl<T: Send + 'static, E: Send + 'static> CancelTarget for TaskCore<T, E> {
    fn request_cancel(&self) -> bool {
        TaskCore::request_cancel(self)
    }
    fn is_done(&self) -> bool {
        TaskCore::is_done(self)
    }
    fn is_cancelled(&self) -> bool {
        TaskCore::is_cancelled(self)
    }
    fn is_failure(&self) -> bool {
        TaskCore::is_failure(self)
    }
    fn id(&self) -> TaskId {
        TaskCore::id(self)
    }
    fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        TaskCore::poll_done(self, key, cx)
    }
    fn unwatch(&self, key: u64) {
        TaskCore::unwatch(self, key)
    }
    fn into_any(self: std::sync::Arc<Self>) -> std::sync::Arc<dyn Any + Send + Sync> {
        self
    }
}

/// A task's core with its types erased. std's `Arc` on purpose: this is
/// plumbing around the core, not synchronisation the loom models see.
pub(crate) type ErasedCore = std::sync::Arc<dyn CancelTarget>;

/// Erases `core`'s types. In the std build the core's own allocation is
/// shared (one reference count); loom's `Arc` cannot be unsized, so the loom
/// build wraps it.
pub(crate) fn erase<T, E>(core: &crate::sync::Arc<TaskCore<T, E>>) -> ErasedCore
where
    T: Send + 'static,
    E: Send + 'static,
{
    into_erased(core.clone())
}

/// [`erase`], consuming the reference: in the std build an unsizing move,
/// which touches no reference count.
fn into_erased<T, E>(core: crate::sync::Arc<TaskCore<T, E>>) -> ErasedCore
where
    T: Send + 'static,
    E: Send + 'static,
{
    #[cfg(not(asyncio_loom))]
    {
        core
    }
    #[cfg(asyncio_loom)]
    {
        std::sync::Arc::new(LoomCore(core))
    }
}

/// Undoes [`into_erased`] for the core a child lent.
fn from_erased<T, E>(core: ErasedCore) -> crate::sync::Arc<TaskCore<T, E>>
where
    T: Send + 'static,
    E: Send + 'static,
{
    const NOT_OURS: &str = "asyncio: a child got back another task's core from current_task";
    #[cfg(not(asyncio_loom))]
    {
        core.into_any().downcast().expect(NOT_OURS)
    }
    #[cfg(asyncio_loom)]
    {
        let wrapper = core
            .into_any()
            .downcast::<LoomCore<T, E>>()
            .expect(NOT_OURS);
        wrapper.0.clone()
    }
}

#[cfg(asyncio_loom)]
struct LoomCore<T, E>(crate::sync::Arc<TaskCore<T, E>>);

#[cfg(asyncio_loom)]
impl<T: Send + 'static, E: Send + 'static> CancelTarget for LoomCore<T, E> {
    fn request_cancel(&self) -> bool {
        self.0.request_cancel()
    }
    fn is_done(&self) -> bool {
        self.0.is_done()
    }
    fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
    fn is_failure(&self) -> bool {
        self.0.is_failure()
    }
    fn id(&self) -> TaskId {
        self.0.id()
    }
    fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.poll_done(key, cx)
    }
    fn unwatch(&self, key: u64) {
        self.0.unwatch(key)
    }
    fn into_any(self: std::sync::Arc<Self>) -> std::sync::Arc<dyn Any + Send + Sync> {
        self
    }
}

/// The task being polled on this thread, lent by its wrapper.
struct Current {
    core: ErasedCore,
    /// [`current_task`] handed out a handle during this poll.
    watched: bool,
}

// `const` in the std build: every child's poll reads and writes this slot, and a const initialiser spares each access the lazy-init check.
// loom's `thread_local!` has no const form.
#[cfg(not(asyncio_loom))]
crate::sync::thread_local! {
    static CURRENT: Cell<Option<Current>> = const { Cell::new(None) };
}

#[cfg(asyncio_loom)]
crate::sync::thread_local! {
    #[allow(clippy::missing_const_for_thread_local)] // no const form in loom
    static CURRENT: Cell<Option<Current>> = Cell::new(None);
}

/// Runs `poll` with the task whose core is `core` as the current one: the
/// lending side of [`current_task`], called by a child's wrapper around
/// each poll of the child's future. The core moves into the thread-local
/// slot and back (no reference count, no allocation in the std build), so
/// the wrapper keeps a single thin pointer to it. Returns `poll`'s result
/// and whether a handle to the task was handed out during it (the wrapper
/// then records it in the core and watches for cancel requests through
/// it). `core` is `None` while it is lent.
///
/// The wrapper's fields stay flat (the core beside the child's future) on
/// purpose: tokio sizes a task's allocation by its future, and a wrapper
/// past 24 bytes over a small future moves every task into the next
/// 128-byte size class.
#[inline]
pub(crate) fn lend<T, E, R>(
    core: &mut Option<crate::sync::Arc<TaskCore<T, E>>>,
    poll: impl FnOnce() -> R,
) -> (R, bool)
where
    T: Send + 'static,
    E: Send + 'static,
{
    let lent = core.take().map(|core| Current {
        core: into_erased(core),
        watched: false,
    });
    // One access to the thread-local for both moves: `poll` runs inside
    // it (a `Cell` has no borrow to hold, so a nested lend or a
    // `current_task` in `poll` is fine, and `poll` does not unwind: the
    // wrappers catch the child's panic inside it).
    let (outcome, back) = CURRENT.with(|current| {
        let previous = current.replace(lent);
        let outcome = poll();
        (outcome, current.replace(previous))
    });
    let mut handed_out = false;
    if let Some(back) = back {
        handed_out = back.watched;
        *core = Some(from_erased(back.core));
    }
    (outcome, handed_out)
}

/// [`lend`] for a child that keeps its core where it cannot be moved out
/// (beside its pinned future): lends a reference of its own, and hands it
/// back typed, for the child to publish through once its future is gone.
/// One reference count up and down per poll, which buys the child's wrapper
/// its one-pointer layout (see [`Child`](super::core::Child)).
#[inline]
pub(crate) fn lend_shared<T, E, R>(
    core: &crate::sync::Arc<TaskCore<T, E>>,
    poll: impl FnOnce() -> R,
) -> (R, crate::sync::Arc<TaskCore<T, E>>, bool)
where
    T: Send + 'static,
    E: Send + 'static,
{
    let mut lent = Some(core.clone());
    let (outcome, handed_out) = lend(&mut lent, poll);
    let back = lent.expect("asyncio: a lent core comes back after the poll");
    (outcome, back, handed_out)
}

/// A cancel handle for the task this code runs in, as asyncio's
/// `asyncio.current_task()`; `None` outside a task the crate spawned.
///
/// "A task the crate spawned" is one started by [`spawn`](crate::spawn),
/// [`try_spawn`](crate::try_spawn) and their `_local` / `_on` forms,
/// [`TaskSet`](crate::TaskSet), a [`TaskGroup`](crate::TaskGroup) (its
/// children with a [`Task`](crate::Task); one started with
/// [`start_soon`](crate::TaskGroupHandle::start_soon) has no handle, and
/// the answer there is `None`), or a primitive that spawns its children
/// ([`gather`](crate::gather()) and the others, except the bounded
/// [`map`](crate::map()), whose items have no handle either). Elsewhere — a plain `tokio::spawn` task, the future given to
/// `block_on`, a `spawn_blocking` closure, a destructor run by an abort —
/// there is no such task, and the answer is `None`. A
/// [`task_group`](crate::task_group())'s body runs in its caller's task, as
/// in asyncio, so there it is the caller's task.
///
/// The handle has the task's [`id`](CancelHandle::id) and cancels it like
/// any other [`CancelHandle`]: the task stops at the await point where it
/// stands, or at its next one if it cancels itself; a task that completes
/// first delivers its value (completion beats cancellation). Unlike
/// asyncio (behaviour 9), a task that cancels itself and then *returns*
/// without awaiting again has completed: Rust cannot throw into it.
///
/// # Examples
///
/// A task that hands itself to a watchdog, which cancels it:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use asyncio::{current_task, TaskError};
///
/// let task = asyncio::spawn(async {
///     let me = current_task().expect("spawned by the crate");
///     asyncio::spawn(async move { me.cancel() });
///     std::future::pending::<()>().await
/// });
/// assert!(matches!(task.await, Err(TaskError::Cancelled)));
/// assert!(current_task().is_none(), "main is not a task the crate spawned");
/// # }
/// ```
///
/// # asyncio equivalent
///
/// `asyncio.current_task()`, which returns the running `Task`. The
/// differences:
/// 1. The crate hands out a [`CancelHandle`], not the `Task`: the task's
///    outcome belongs to whoever holds its [`Task`](crate::Task).
/// 2. Outside a task the crate spawned it is `None`, where asyncio has a
///    task for every coroutine the loop runs (the `asyncio.run` main
///    coroutine included).
/// 3. A self-cancel followed by a `return` without an await delivers the
///    value (asyncio behaviour 9 discards it).
pub fn current_task() -> Option<CancelHandle> {
    CURRENT.with(|current| {
        let mut lent = current.take()?;
        lent.watched = true;
        let handle = CancelHandle::from_erased(lent.core.clone(), None);
        current.set(Some(lent));
        Some(handle)
    })
}
