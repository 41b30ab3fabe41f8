//! Python asyncio's structured concurrency toolkit, on tokio.
//!
//! The crate gives Rust asyncio's concurrency primitives with asyncio's
//! names, and says exactly what each one does on error, panic, drop and
//! timeout: every primitive has a `# Cancellation` table beside asyncio's
//! behaviour, and its synchronisation is checked by loom models of the
//! crate's own code.
//!
//! ```
//! use std::time::Duration;
//! use asyncio::TaskError;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! // asyncio.create_task: the task starts now, whether or not it is awaited.
//! let slow = asyncio::spawn(async {
//!     asyncio::sleep(Duration::from_secs(10)).await;
//!     "slow"
//! });
//! // asyncio.wait_for: on timeout the task is cancelled, and waited for.
//! let outcome = asyncio::wait_for(slow, Duration::from_secs(1)).await;
//! assert_eq!(outcome.unwrap_err(), asyncio::TimeoutError);
//!
//! // A failing task: its error is a value, TaskError::Failed.
//! let failing = asyncio::try_spawn(async { Err::<(), _>("bad input") });
//! assert!(matches!(failing.await, Err(TaskError::Failed("bad input"))));
//! # }
//! ```
//!
//! # The model
//!
//! - **Children are tokio tasks**, spawned on the current runtime when the
//!   primitive is called, as asyncio wraps coroutines in Tasks. Calling a
//!   spawning function outside a runtime panics at the caller's line.
//! - **An outcome is a `Result`**: a task yields `Result<T, TaskError<E>>`,
//!   where [`TaskError`] is `Failed(E)` (asyncio's exception: the future
//!   returned `Err`), `Cancelled`, or `Panicked` (asyncio's
//!   `BaseException`: the panic is caught and its payload kept). Plain
//!   futures use [`spawn`]; futures returning `Result` use [`try_spawn`].
//! - **Completion beats cancellation**: a value a child has computed is
//!   delivered even if a cancel races it; asyncio loses it (behaviour 12).
//! - **Panics are never lost**, and neither are errors nobody observes: they
//!   go to the [unobserved-error hook](set_unobserved_error_hook).
//! - **Loops cannot starve the runtime**: the operations that move items or
//!   hand out completions (a queue's `put`, `get`, `get_guarded`, `join` and stream;
//!   a task set's `wait` and `next_completed`; the `as_completed` streams) spend
//!   tokio's cooperative budget, as tokio's channels and `JoinSet` do, so a
//!   task looping over them yields to its worker's other tasks once its
//!   budget is spent. asyncio's `await q.get()` never yields when an item is
//!   there.
//!
//! # What is `Send` where
//!
//! - A child's future is `Send` for [`spawn`] and [`try_spawn`] (it may run
//!   on any worker), and need not be for [`spawn_local`] /
//!   [`try_spawn_local`], which run it on the current
//!   [`LocalSet`](tokio::task::LocalSet): state in `Rc<RefCell<_>>`, as
//!   single-threaded asyncio code keeps it, works there.
//! - A child's output (`T`, `E`) is `Send` for every spawn function, local
//!   ones included: the outcome is handed to whoever awaits the task, and
//!   the task's [`CancelHandle`] (always `Send + Sync`) can be used from any
//!   thread.
//! - [`Task<T, E>`](Task) is `Send` and `Sync` when `T` and `E` are `Send`.
//!   The primitives' futures are `Send` when their children's outputs are.
//! - [`spawn_on`] / [`try_spawn_on`] spawn on a named runtime, from
//!   anywhere; tasks of different runtimes can be awaited, gathered and
//!   raced together (the completion cores belong to no runtime).
//!
//! # What cancellation means here
//!
//! asyncio cancels a task by throwing `CancelledError` into it at its next
//! `await`; the task can catch it, clean up asynchronously, or even ignore
//! it. A Rust future is cancelled by being **dropped**: it stops at the
//! await point where it was suspended, its destructors run, and it cannot
//! catch, delay or refuse the cancellation. So:
//!
//! - cancelling a task ([`Task::cancel`]) aborts it: it is dropped at its
//!   next await point (a future that never awaits cannot be cancelled);
//! - cancelling the code that awaits a primitive (asyncio cancels the task
//!   that awaits `gather`) is **dropping the future** the primitive
//!   returned, for example when it loses a `tokio::select!` or a timeout;
//! - "cancelled" means the operation did not happen, or stopped at an
//!   await point: whatever it had done before stays done;
//! - a cancellation **travels** only when asked to: in asyncio a task that
//!   awaits a cancelled task ends cancelled itself, unless it catches the
//!   `CancelledError`. In the crate, `task.await` hands the cancellation
//!   over as a value (`Err(TaskError::Cancelled)`, to handle as a caught
//!   `CancelledError`), and [`task.propagate().await`](Task::propagate)
//!   is asyncio's uncaught `await task`: the awaiting task ends
//!   cancelled too, and every primitive watching it sees a cancellation.
//!   (`?` on `task.await` in a [`try_spawn`] body makes it a *failure*
//!   carrying a cancellation instead; [`TaskError::flatten`] unnests it.)
//!
//! # asyncio ↔ crate
//!
//! | asyncio | crate |
//! | --- | --- |
//! | `asyncio.create_task(coro)` | [`spawn(fut)`](spawn), [`try_spawn(fut)`](try_spawn) |
//! | `await task` | `task.await` → `Result<T, TaskError<E>>` |
//! | `task.cancel()`, `.done()`, `.cancelled()`, `.exception()` | [`Task::cancel`], [`Task::is_done`], [`Task::is_cancelled`], [`Task::is_failed`] (also on a [`CancelHandle`], which can wait for the end with [`CancelHandle::done`]) |
//! | a single-threaded asyncio program's state (no locks) | [`spawn_local`] on a `LocalSet`: the future need not be `Send` |
//! | `asyncio.current_task()` | [`current_task`]: the running task's own [`CancelHandle`] |
//! | `asyncio.wait_for(aw, timeout)` | [`wait_for(aw, timeout)`](wait_for) |
//! | `async with asyncio.timeout(d) as cm:` | [`timeout(d)`](fn@timeout)`.run(body)`, with [`TimeoutHandle`] as `cm` |
//! | `asyncio.timeout_at(when)` | [`timeout_at(when)`](timeout_at) |
//! | `asyncio.shield(task)` | [`shield(task)`](shield) |
//! | `asyncio.gather(*aws)` | [`gather(aws)`](gather()), [`try_gather(aws)`](try_gather()), [`gather!`] |
//! | `asyncio.gather(*aws, return_exceptions=True)` | [`gather(aws).return_exceptions()`](Gather::return_exceptions) |
//! | `asyncio.wait(tasks, timeout, return_when)` | [`wait(&mut set, return_when, timeout)`](wait()) over a [`TaskSet`] |
//! | `wait(FIRST_COMPLETED)`, cancel the pending, `gather` them | [`race(aws)`](race()): the winner's position and outcome, the losers cancelled and joined; [`race_ok(aws)`](race_ok()) for the first success |
//! | `asyncio.as_completed(aws, timeout)` | [`as_completed(aws, timeout)`](as_completed()), a `Stream` |
//! | `asyncio.sleep(d)`, `asyncio.sleep(0)` | [`sleep(d)`](sleep()) (tokio's timer); `sleep(Duration::ZERO)` yields once, as `sleep(0)` does |
//! | `async with asyncio.TaskGroup() as tg:`, `tg.create_task(coro)` | [`task_group(\|tg\| body)`](task_group()), `tg.spawn(fut)`; or a [`TaskGroup`] kept in a struct and [joined](TaskGroup::join) |
//! | `ExceptionGroup` from a TaskGroup | [`TaskGroupError`], iterated |
//! | `asyncio.Queue`, `LifoQueue`, `PriorityQueue` (and the old `JoinableQueue`) | [`Queue`], [`LifoQueue`], [`PriorityQueue`]: aliases of one [`JoinableQueue<T, O>`](JoinableQueue), generic over the order |
//! | a worker pool over a `Queue` (`parallel_map`) | [`map(inputs, limit, f)`](map()), [`try_map`](try_map()): a [`Map`] of options, then `.start()` for a [`MapStream`] in input order, or `.collect()` |
//! | `asyncio.to_thread(f)` | [`to_thread(f)`](to_thread()) |
//! | `TimeoutError`, `CancelledError` | [`TimeoutError`], [`TaskError::Cancelled`] |
//! | "Task exception was never retrieved" | [`set_unobserved_error_hook`] |
//!
//! # Cancellation, for every primitive
//!
//! | situation | asyncio (every primitive) | [`Task`] | [`wait_for`] | [`timeout`](fn@timeout) | [`shield`] | [`wait`](wait()) | [`as_completed`](as_completed()) | [`gather`](gather()) | [`TaskGroup`] | [`Queue`] (`put`, `get`, `join`) | [`race`](race()) / [`race_ok`] | [`map`](map()) |
//! | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
//! | the awaiting future is dropped | the awaiting task gets `CancelledError` at its `await`: `gather`, `TaskGroup`, `wait_for` and `timeout` cancel what they run; `wait`, `as_completed` and `shield` cancel nothing | the task is cancelled | the operand is dropped (a task: cancelled) | the body is dropped | the task runs on, detached | nothing cancelled, nothing leaves the set | nothing: poll again to resume | every unfinished child is cancelled | the body is dropped, every child aborted (not awaited); errors go to the hook | a `put` inserts nothing, a `get` takes nothing; a promised slot or item passes on | every unfinished child is aborted | (the stream) every item in flight aborted; no more input pulled |
//! | a child errors | `gather` raises it (siblings run on) or keeps it (`return_exceptions`); `wait`/`as_completed` return it; `TaskGroup` cancels the rest and raises an `ExceptionGroup` | `Err(Failed(e))` | the operand's output, unchanged | the body's output, unchanged | `Err(Failed(e))` | returned with the done tasks | an `Err` item naming the child | fail-fast: `Err(GatherError)`, siblings run on | the others and the body cancelled and joined; `Err(TaskGroupError)` with every error | n/a (no children) | `race`: it wins, as a value; `race_ok`: kept, the race goes on | fail-fast: the others cancelled and joined, input stops, `Err(MapError)`; or in place; or grouped at the end |
//! | a child is cancelled | `CancelledError` from that `await`; `gather` raises it, `TaskGroup` ignores it | `Err(Cancelled)` | a task operand: `Ok(Err(Cancelled))` | n/a (the body is not a task) | `Err(Cancelled)` | done; not an exception for `FirstException` | an `Err` item naming the child | fail-fast: `Err(GatherError)`; a value with `return_exceptions` | not an error; the group carries on | n/a | `race`: it wins, as a value; `race_ok`: kept, the race goes on | as an error |
//! | a child panics | (a `BaseException` such as `KeyboardInterrupt`) escapes the loop or the group; siblings of a fail-fast gather run on | `Err(Panicked(p))` | a future: propagates; a task: `Ok(Err(Panicked(p)))` | propagates | `Err(Panicked(p))` | done; counts for `FirstException` | an `Err` item naming the child | siblings cancelled and joined, then the panic resumes | the others and the body cancelled and joined, then the panic resumes; other errors go to the hook | a worker holding a `Guarded` item marks it done as it unwinds | `race`: it wins, as a value; `race_ok`: the others cancelled and joined, then the panic resumes | the others cancelled and joined, then the panic resumes; `return_exceptions`: a value |
//! | a timeout fires | `wait_for`/`timeout` cancel and wait, then raise `TimeoutError`; `wait`/`as_completed` cancel nothing | n/a | a task: cancelled and waited for; a future: dropped (tasks it owns are aborted, not awaited); then `Err(TimeoutError)` | body dropped (tasks it owns aborted, not awaited), `Err(TimeoutError)` | the task runs on | returns what is done; cancels nothing | a `TimedOut` item per unfinished child; none cancelled | n/a (wrap it in [`wait_for`]: dropped, children cancelled) | as the first row, then `Err(TimeoutError)` | as a dropped future: nothing lost (61) | n/a (wrap it in [`wait_for`]: as the first row) | per item (`timeout`): that attempt dropped, an error (may be retried) |
//! | the handle is dropped | nothing: a task runs whether or not anyone holds it ("Task exception was never retrieved" if it fails) | the task is detached; unobserved errors go to the hook | n/a | nothing changes | the task is detached | (the set) spawned tasks cancelled, given ones detached | (the stream) the same | n/a | a handle: nothing; a body-less group: as the first row | nothing; buffered items are dropped with the last handle, stream or `Guarded` item | n/a (an unawaited race dropped: its children aborted) | a `Progress` handle owns nothing |
//! | the runtime shuts down | `asyncio.run` cancels every remaining task and waits for it | `Err(Cancelled)` | dropped with its task | dropped with its task | `Err(Cancelled)` | tasks end `Cancelled` | children end `Cancelled` | children end `Cancelled` | children end `Cancelled`; the group is dropped with its task | pending futures are dropped; the queue outlives the runtime | children end `Cancelled`: the first seen wins (`race_ok`: all failed unless one succeeded first) | items end `Cancelled` |
//!
//! Each primitive's own documentation has the full table beside asyncio's
//! behaviour, with the reasons where they differ. The asyncio behaviours
//! the crate does not mirror, each with its reason, are in [`porting`].
//!
//! # Status
//!
//! Every primitive above is built, documented and tested, with loom models
//! of its synchronisation. Not yet done:
//!
//! - two performance targets of the project's contract are not met: the
//!   completion-order drains (1.1–1.4× `JoinSet`'s time, against 1.2×: a
//!   task's completion core is its own allocation beside tokio's) and the
//!   bounded map unordered (1.15× spawning `buffer_unordered` in the last
//!   full run, against 1.0×; this machine's wall clock for it is bimodal).
//!   The queue meets its targets (4P/4C at 0.78–0.84× flume, the
//!   current-thread runtime at 0.95–1.01×, contention at capacity 16
//!   within 1.24×, in the last two runs) while it spends tokio's
//!   cooperative budget, as tokio's channels do and flume does not; and
//!   `wait_for` with a body pending once is at `tokio::time::timeout`'s
//!   time within this machine's noise (0.96–1.10× over six runs).
//!   `BENCHMARKS.md` in the repository has the figures.
//!
//! For porting and teaching, [`porting`] is the guide (every asyncio name,
//! every difference); the repository's `examples/` hold a guided tour with
//! timelines and the classic asyncio programs beside their Python twins.
//!
//! # Stability
//!
//! The crate is not yet 1.0: breaking changes are listed in the CHANGELOG.
//!
//! - [`CancellationToken`] is tokio-util's (0.7), re-exported, and appears
//!   in public signatures (the `with_grace` methods): it is part of the
//!   public API, and a tokio-util release that changes it is a breaking
//!   change of this crate.
//! - The hidden module `__cores` exposes the runtime-free synchronisation
//!   cores to the crate's loom models. It is **not** part of the semver
//!   contract.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// First, so that its `fault!` macro is in scope in every core below.
#[macro_use]
pub(crate) mod sync;

pub mod as_completed;
pub mod gather;
mod hook;
pub mod map;
#[doc = include_str!("porting.md")]
pub mod porting {}
pub mod queue;
pub mod race;
pub mod task;
pub mod task_group;
pub mod timeout;
pub mod wait;

pub use as_completed::{
    as_completed, try_as_completed, AsCompleted, AsCompletedError, AsCompletedIndexed,
    AsCompletedTasks,
};
pub use gather::{
    gather, try_gather, Gather, GatherAll, GatherAllFuture, GatherCancel, GatherCancelled,
    GatherError, GatherFuture, GatherTuple, GatherTupleAll, GatherTupleAllFuture,
    GatherTupleCancel, GatherTupleCancelled, GatherTupleFuture,
};
pub use hook::{
    reset_unobserved_error_hook, set_unobserved_error_hook, wrap_unobserved_error_hook, Failure,
    Unobserved, UnobservedHook,
};
pub use map::{map, map_stream, try_map, try_map_stream, Map, MapError, MapErrors, MapStream};
pub use queue::{
    GetError, JoinableQueue, LifoQueue, PriorityQueue, PutError, Queue, TaskDoneError, TryGetError,
    TryPutError,
};
pub use race::{
    race, race_ok, Race, RaceError, RaceFuture, RaceOk, RaceOkError, RaceOkFuture, Winner,
};
pub use task::{
    current_task, spawn, spawn_local, spawn_on, to_thread, try_spawn, try_spawn_local,
    try_spawn_on, CancelHandle, Done, IntoTask, Join, JoinRef, Panic, Propagate, Task, TaskError,
    TaskId, TryIntoTask,
};
pub use task_group::{
    task_group, GroupJoin, GroupRun, InGroup, Origin, TaskGroup, TaskGroupError, TaskGroupHandle,
};
pub use timeout::{
    shield, sleep, timeout, timeout_at, wait_for, RescheduleError, Shield, Sleep, Timeout,
    TimeoutError, TimeoutHandle,
};
pub use tokio_util::sync::CancellationToken;
pub use wait::{wait, ReturnWhen, TaskSet, WaitError};

/// The runtime-free synchronisation cores, for the loom models in
/// `loom-tests/`. **Not part of the semver contract**: anything here may
/// change in any release.
#[doc(hidden)]
pub mod __cores {
    // The core modules are `pub(crate)` in their primitives' folders, so
    // this module is the only path to them from outside the crate; each is
    // re-exported item by item (a glob of its `pub` items), since a
    // crate-visible module cannot itself be re-exported.

    /// A task id made from a number, for the models' cores.
    pub fn task_id(raw: u64) -> crate::TaskId {
        crate::TaskId::from_raw(raw)
    }

    /// Gather's core.
    pub mod gather {
        pub use crate::gather::core::*;
    }
    /// The bounded map's counters, and the core its items publish into.
    pub mod map {
        pub use crate::map::core::*;
        pub use crate::map::items::*;
    }
    /// The queue's core.
    pub mod queue {
        pub use crate::queue::core::*;
    }
    #[cfg(asyncio_loom)]
    pub use crate::sync::fault;
    #[cfg(asyncio_loom)]
    pub use crate::sync::mutant;
    /// A task's completion core.
    pub mod task {
        pub use crate::task::core::*;
    }
    /// The ready list that gathers and sets wait on.
    pub mod ready {
        pub use crate::task::ready::*;
    }
    /// The task group's core.
    pub mod task_group {
        pub use crate::task_group::core::*;
    }
    /// The timeout's core.
    pub mod timeout {
        pub use crate::timeout::core::*;
    }
    /// The task set's core (`wait`, `as_completed`, `TaskSet`).
    pub mod set {
        pub use crate::wait::core::*;
    }
}
