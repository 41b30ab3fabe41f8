//! [`TaskSet`] and [`wait`]: asyncio's `wait`, over a set of tasks the
//! caller owns.

pub(crate) mod core;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use self::core::ReturnWhen;
use self::core::SetCore;
use crate::task::ready::ChildHandle;
use crate::task::{cooperatively, CancelHandle, Task, TaskError};
use crate::timeout::{deadline_after, Timer};

/// A set of running tasks that keeps its own completion order: what
/// asyncio's `wait` and `as_completed` take, owned by the caller, and
/// tokio's `JoinSet` with asyncio's outcomes.
///
/// Tasks enter the set with [`insert`](TaskSet::insert) (a task you spawned)
/// or [`spawn`](TaskSet::spawn) / [`try_spawn`](TaskSet::try_spawn) (the set
/// spawns it, and hands back a [`CancelHandle`] for that one task), and
/// leave it finished, in the order they finished, through [`wait`],
/// [`next_completed`](TaskSet::next_completed) (the task) or
/// [`next_completed_indexed`](TaskSet::next_completed_indexed) (its outcome
/// and its position), or all at once through
/// [`join_all`](TaskSet::join_all). [`shutdown`](TaskSet::shutdown) cancels
/// every task and waits until each has finished;
/// [`detach_all`](TaskSet::detach_all) lets them all go.
///
/// The set notices each completion without revisiting the pending tasks, so
/// draining N tasks one at a time costs O(N) in total (a loop of asyncio's
/// `wait` costs O(N²)). Like `JoinSet::join_next`, `wait`, `next_completed`
/// and `shutdown` spend tokio's cooperative budget, so draining many
/// finished tasks in a loop yields to the other tasks on the worker now and
/// then.
///
/// **Positions.** Every task has a position: how many tasks entered the set
/// before it (the first task ever inserted or spawned is 0; tasks that have
/// left still count). A loop that spawns items in order can therefore put
/// each outcome of [`next_completed_indexed`](TaskSet::next_completed_indexed)
/// back in its place without a map from ids to indices.
///
/// **Cooperative cancellation.** A set built with
/// [`with_grace(token, grace)`](TaskSet::with_grace) cancels in two steps
/// (SPEC decision 5: Rust cannot run async clean-up inside an abort): it
/// cancels `token`, which the children can watch to stop on their own and
/// clean up asynchronously, and aborts only those still running `grace`
/// later. Without it, cancelling aborts at once.
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
/// A sliding window of at most 2 tasks, each outcome put back in its place:
///
/// ```
/// use asyncio::TaskSet;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let inputs = [3_u64, 1, 4, 1, 5];
/// let mut squares = vec![0; inputs.len()];
/// let mut window = TaskSet::new();
/// for &n in &inputs {
///     if window.len() == 2 {
///         let (index, outcome) = window.next_completed_indexed().await.unwrap();
///         squares[index] = outcome.unwrap();
///     }
///     window.spawn(async move { n * n }); // position = inputs' index
/// }
/// while let Some((index, outcome)) = window.next_completed_indexed().await {
///     squares[index] = outcome.unwrap();
/// }
/// assert_eq!(squares, [9, 1, 16, 1, 25]);
/// # }
/// ```
///
/// # asyncio equivalent
///
/// asyncio has no such type: a program keeps a `set()` of tasks and passes
/// it to `wait`, which returns two new sets, `done` and `pending`. Here the
/// caller owns one `TaskSet`: `wait` takes the finished tasks out of it and
/// returns them, and the pending ones stay in it. The differences:
/// 1. A task cannot be in the set twice (it is moved in), so asyncio's
///    "duplicates collapse" (behaviour 34) holds by construction.
/// 2. Tasks are identified by [`TaskId`](crate::TaskId), by position, or by the values
///    they return, not by object identity.
/// 3. The idiom "cancel them all, then
///    `await gather(*tasks, return_exceptions=True)`" is
///    [`shutdown`](TaskSet::shutdown).
///
/// # Comparison to `JoinSet`
///
/// 1. [`spawn`](TaskSet::spawn) returns the crate's [`CancelHandle`] where
///    `JoinSet::spawn` returns an `AbortHandle`: both cancel that one task
///    and report its id; `CancelHandle::cancel` also says whether the task
///    was still running (completion beats cancellation).
/// 2. Outcomes are `Result<T, TaskError<E>>`: a failure (`try_spawn`), a
///    cancellation, or a panic, all values. `JoinSet::join_all` resumes a
///    panic; [`join_all`](TaskSet::join_all) returns it as a value.
/// 3. The set holds tasks spawned elsewhere too ([`insert`](TaskSet::insert)),
///    and dropping it detaches those instead of aborting them.
/// 4. [`shutdown`](TaskSet::shutdown) and a drop can give the children a
///    grace period ([`with_grace`](TaskSet::with_grace)); `JoinSet` only
///    aborts.
/// 5. Completion order carries each task's position
///    ([`next_completed_indexed`](TaskSet::next_completed_indexed)) where
///    `JoinSet::join_next_with_id` carries its id.
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped (`wait`, `next_completed`, `shutdown`) | `wait`: `CancelledError`; the tasks run on (39) | nothing leaves the set unless it was handed out; a dropped `shutdown` leaves every task asked to stop, and what finished meanwhile removed (see [`shutdown`](TaskSet::shutdown)) |
/// | a child errors | its exception is stored in the task | it finishes with `Err(TaskError::Failed(e))`, a value |
/// | a child is cancelled | `CancelledError` in the task | it finishes with `Err(TaskError::Cancelled)` |
/// | a child panics | the `BaseException` escapes the loop (96) | the panic is caught: it finishes with `Err(TaskError::Panicked(p))` |
/// | a timeout fires (`wait`'s) | returns what is done; cancels nothing (35) | the same |
/// | the tasks are cancelled explicitly | `for t in pending: t.cancel()`, then `await asyncio.gather(*pending, return_exceptions=True)` to wait for them | [`cancel_all`](TaskSet::cancel_all) asks every task to stop (each stops at its next await point) and returns how many were running; [`shutdown`](TaskSet::shutdown) also waits until each has finished; one task: its [`CancelHandle`] |
/// | the set is dropped | n/a (asyncio does not own the tasks) | spawned tasks cancelled (with a grace period: the token at once, the abort when it ends; see below), inserted ones detached; finished tasks nobody took: failures and panics go to the hook |
/// | the runtime shuts down | tasks are cancelled | tasks end `Cancelled` |
///
/// Dropping the set cannot wait:
/// - a task you [`insert`](TaskSet::insert)ed is **detached**, exactly as
///   dropping its `Task` would (asyncio's tasks run whether or not anyone
///   holds them; you may hold a [`CancelHandle`]);
/// - a task the set [`spawn`](TaskSet::spawn)ed is **cancelled** (aborted;
///   it stops at its next await point): nobody else holds it, so
///   detaching it would leave work running that nothing can observe or
///   wait for. With a grace period, the set cancels the token at once and
///   hands those tasks to a small reaper task on the current runtime,
///   which aborts the ones still running when the grace period ends (or
///   sooner, if the runtime shuts down) and then ends; the children may
///   thus outlive the set by at most the grace period. Dropped outside a
///   runtime, it aborts at once.
///
/// A finished task in the set whose failure nobody took is reported to the
/// [unobserved-error hook](crate::set_unobserved_error_hook) when dropped.
/// To cancel everything and wait for it to finish, use
/// [`shutdown`](TaskSet::shutdown).
#[doc(alias = "JoinSet")]
pub struct TaskSet<T, E = Infallible> {
    core: SetCore<T, E, Task<T, E>>,
    grace: Option<Grace<T, E>>,
}

/// A set's cooperative cancellation: the token its children watch, how long
/// they get, and the abort owed by a cancellation under way.
struct Grace<T, E> {
    token: CancellationToken,
    period: Duration,
    /// A cancellation is under way: whatever still runs at this instant is
    /// aborted by whoever polls the set then (or by the reaper, if the set
    /// is dropped first).
    deadline: Option<Instant>,
    timer: Timer,
    /// Hands a dropped set's children to a reaper task. A function pointer,
    /// chosen where `T` and `E` are known to be `Send + 'static`, so that the
    /// set's drop, which has no such bounds, can spawn it.
    reap: Reap<T, E>,
}

/// The core to reap, when to abort, and whether to abort the inserted
/// tasks too (a cancellation of every task was under way).
type Reap<T, E> = fn(SetCore<T, E, Task<T, E>>, Instant, bool);

impl<T, E> fmt::Debug for TaskSet<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskSet")
            .field("pending", &self.core.pending())
            .field("done", &self.core.done())
            .field("grace", &self.grace.as_ref().map(|grace| grace.period))
            .field(
                "cancelling",
                &self
                    .grace
                    .as_ref()
                    .is_some_and(|grace| grace.deadline.is_some()),
            )
            .finish()
    }
}

impl<T, E> Default for TaskSet<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> TaskSet<T, E> {
    /// An empty set, without a grace period: cancelling aborts at once.
    pub fn new() -> Self {
        Self {
            core: SetCore::new(),
            grace: None,
        }
    }

    /// Adds a task you spawned. If the set is dropped, the task is detached.
    /// Its position is the number of tasks that entered the set before it.
    pub fn insert(&mut self, task: Task<T, E>) {
        self.core.insert(task, false);
    }

    pub(crate) fn insert_owned(&mut self, task: Task<T, E>, owned: bool) {
        self.core.insert(task, owned);
    }

    /// The next finished task with its position in insertion order, outside
    /// the cooperative budget (the caller spends it).
    pub(crate) fn poll_next_positioned(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, Task<T, E>)>> {
        self.poll_grace(cx);
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

    /// The token the set cancels when it cancels its tasks, if it was built
    /// [`with_grace`](TaskSet::with_grace).
    pub fn token(&self) -> Option<&CancellationToken> {
        self.grace.as_ref().map(|grace| &grace.token)
    }

    /// Requests cancellation of every unfinished task in the set, spawned or
    /// inserted; returns how many were still running. They stay in the set
    /// and come out of it, as cancelled (or completed, if they beat the
    /// cancellation), like any other finished task: asyncio's
    /// `for t in tasks: t.cancel()`. To wait for them, use
    /// [`shutdown`](TaskSet::shutdown).
    ///
    /// Without a grace period the tasks are aborted now. With one
    /// ([`with_grace`](TaskSet::with_grace)) the token is cancelled now, and
    /// the tasks still running when the grace period ends are aborted by
    /// whoever polls the set then ([`wait`], `next_completed`, `shutdown`,
    /// `join_all`, an `as_completed` stream over it), or by the reaper if the
    /// set is dropped first. Tasks that enter the set during the grace period
    /// see the token cancelled and are aborted at the same instant. A set
    /// that is neither polled nor dropped aborts nothing: the tasks have
    /// only been asked to stop. The token stays cancelled.
    #[doc(alias = "abort_all")]
    pub fn cancel_all(&mut self) -> usize {
        let Some(grace) = &mut self.grace else {
            return self.core.cancel_all();
        };
        grace.token.cancel();
        if grace.period.is_zero() {
            return self.core.cancel_all();
        }
        let running = self.core.running();
        if running > 0 && grace.deadline.is_none() {
            grace.deadline = Some(deadline_after(grace.period));
        }
        running
    }

    /// A cancellation with a grace period is under way: aborts what still
    /// runs once the period is over, or ends it once nothing is pending.
    fn poll_grace(&mut self, cx: &mut Context<'_>) {
        let Some(grace) = &mut self.grace else {
            return;
        };
        let Some(deadline) = grace.deadline else {
            return;
        };
        if self.core.pending() == 0 {
            grace.deadline = None;
            grace.timer.poll_expired(None, 0, cx);
        } else if grace.timer.poll_expired(Some(deadline), 0, cx) {
            grace.deadline = None;
            self.core.cancel_all();
        }
    }

    /// Cancels every task in the set and waits until each has finished (its
    /// future dropped, its destructors run), then returns with the set
    /// empty: `JoinSet::shutdown`, and asyncio's "cancel every task, then
    /// `await gather(*tasks, return_exceptions=True)`". On an empty set it
    /// completes at once.
    ///
    /// The cancellation is [`cancel_all`](TaskSet::cancel_all)'s, made at
    /// the first poll: an abort, or, with a grace period, the token at once
    /// and the abort when the period ends (the shutdown times it itself).
    /// Spawned and inserted tasks alike are cancelled.
    ///
    /// The outcomes are dropped, as `JoinSet::shutdown` drops them and as
    /// asyncio's idiom retrieves and ignores them: values and errors
    /// quietly, **panics to the
    /// [unobserved-error hook](crate::set_unobserved_error_hook)** (SPEC
    /// decision 6), including a panic raised while a task is cancelled (a
    /// destructor that panics). To keep the outcomes, call
    /// [`cancel_all`](TaskSet::cancel_all) and then
    /// [`join_all`](TaskSet::join_all).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use asyncio::TaskSet;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut set = TaskSet::new();
    /// let handle = set.spawn(asyncio::sleep(Duration::from_secs(60)));
    /// set.shutdown().await;
    /// assert!(set.is_empty());
    /// assert!(handle.is_done()); // finished, not merely asked to stop
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe in the sense that nothing is lost. If it is
    /// used as a branch in `select!` and another branch completes first after
    /// it was polled once, every task in the set has been asked to stop
    /// (aborted, or the token cancelled with the abort still owed by the set's
    /// next poller or its drop), the tasks that finished meanwhile have left
    /// the set with their outcomes dropped as above, and the others are still
    /// in the set. Calling `shutdown` again finishes the job. A `shutdown`
    /// dropped before its first poll did nothing.
    ///
    /// # Panics
    ///
    /// With a grace period, when polled outside a tokio runtime with the
    /// time driver enabled.
    pub fn shutdown(&mut self) -> Shutdown<'_, T, E> {
        Shutdown {
            set: self,
            started: false,
        }
    }

    /// Waits for every task and returns all their outcomes, in the order
    /// they finished (as `JoinSet::join_all`): values, failures,
    /// cancellations and panics alike, each a `Result`. An empty set yields
    /// an empty `Vec`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use asyncio::{TaskError, TaskSet};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut set = TaskSet::new();
    /// set.try_spawn(async {
    ///     asyncio::sleep(Duration::from_secs(2)).await;
    ///     Ok(2)
    /// });
    /// set.try_spawn(async { Err("bad") });
    /// let outcomes = set.join_all().await;
    /// assert!(matches!(outcomes[0], Err(TaskError::Failed("bad"))));
    /// assert_eq!(outcomes[1].as_ref().unwrap(), &2);
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. The future owns the set, so if it is
    /// used as a branch in `select!` and another branch completes first, the
    /// set is dropped (see [`TaskSet`]'s `# Cancellation`): spawned tasks are
    /// cancelled, inserted ones detached, and the outcomes already collected
    /// are dropped, their failures and panics to the unobserved-error hook.
    pub fn join_all(self) -> JoinAll<T, E> {
        JoinAll {
            set: self,
            finished: false,
        }
    }

    /// Removes every task from the set without cancelling it: each keeps
    /// running, detached, as a dropped [`Task`] does (`JoinSet::detach_all`).
    /// Tasks that finished but were not taken are dropped too, their failures
    /// and panics going to the unobserved-error hook. A cancellation under
    /// way is forgotten: the detached tasks are no longer the set's to abort.
    /// Positions go on counting from where they were.
    pub fn detach_all(&mut self) {
        let core = std::mem::take(&mut self.core);
        let next = core.next_position();
        drop(core.into_handles());
        self.core.skip_positions(next);
        if let Some(grace) = &mut self.grace {
            grace.deadline = None;
        }
    }

    /// Empties the set: finished tasks in completion order, then the others in
    /// the order they were put in.
    /// No task is cancelled or detached, and a cancellation under way is
    /// forgotten.
    pub fn into_tasks(mut self) -> Vec<Task<T, E>> {
        self.grace = None;
        std::mem::take(&mut self.core).into_handles()
    }

    /// The next task to finish, taken out of the set; `None` once the set is
    /// empty. asyncio's `as_completed` over the set, one at a time (the 3.13
    /// form, which yields the original tasks).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If it is used as a branch in `select!` and
    /// another branch completes first, it is guaranteed that no task has left
    /// the set.
    #[doc(alias = "join_next")]
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
        cooperatively!(cx, self.poll_next_positioned(cx)).map(|next| next.map(|(_, task)| task))
    }

    /// The outcome of the next task to finish, with the task's position (see
    /// [`TaskSet`]: how many tasks entered the set before it); `None` once
    /// the set is empty. The form of
    /// [`next_completed`](TaskSet::next_completed) for code that keeps its
    /// results by index, such as a sliding window (see the example on
    /// [`TaskSet`]); `JoinSet::join_next_with_id` gives an id instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use asyncio::TaskSet;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut set = TaskSet::new();
    /// for secs in [2, 1] {
    ///     set.spawn(asyncio::sleep(Duration::from_secs(secs)));
    /// }
    /// let (index, outcome) = set.next_completed_indexed().await.unwrap();
    /// assert_eq!(index, 1); // the second one spawned finished first
    /// assert!(outcome.is_ok());
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If it is used as a branch in `select!` and
    /// another branch completes first, it is guaranteed that no task has left
    /// the set.
    #[doc(alias = "join_next_with_id")]
    pub fn next_completed_indexed(&mut self) -> NextCompletedIndexed<'_, T, E> {
        NextCompletedIndexed {
            set: self,
            returned: false,
        }
    }

    /// Polls for the next outcome with its position: the poll form of
    /// [`next_completed_indexed`](TaskSet::next_completed_indexed).
    // The poll form spells out its future's output, as `poll_next` does.
    #[allow(clippy::type_complexity)]
    pub fn poll_next_completed_indexed(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, Result<T, TaskError<E>>)>> {
        if self.core.is_empty() {
            return Poll::Ready(None);
        }
        cooperatively!(cx, self.poll_next_positioned(cx))
            .map(|next| next.map(|(index, task)| (index, outcome_of(task))))
    }

    /// The next task that has finished, taken out of the set, if one has;
    /// `None` if none has finished yet or the set is empty. Does not wait
    /// and registers nothing (`JoinSet::try_join_next`).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::TaskSet;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut set = TaskSet::new();
    /// set.spawn(async { 1 });
    /// assert!(set.try_next_completed().is_none()); // it has not run yet
    /// tokio::task::yield_now().await;
    /// assert_eq!(set.try_next_completed().unwrap().await.unwrap(), 1);
    /// # }
    /// ```
    #[doc(alias = "try_join_next")]
    pub fn try_next_completed(&mut self) -> Option<Task<T, E>> {
        self.core.try_next().map(|(_, task)| task)
    }

    /// The outcome of the next task that has finished, with its position, if
    /// one has: [`try_next_completed`](TaskSet::try_next_completed) in the
    /// form of [`next_completed_indexed`](TaskSet::next_completed_indexed).
    pub fn try_next_completed_indexed(&mut self) -> Option<(usize, Result<T, TaskError<E>>)> {
        self.core
            .try_next()
            .map(|(index, task)| (index, outcome_of(task)))
    }

    pub(crate) fn unregister(&self) {
        self.core.unregister();
    }
}

impl<T: Send + 'static, E: Send + 'static> TaskSet<T, E> {
    /// An empty set that cancels cooperatively: whenever it cancels its tasks
    /// ([`cancel_all`](TaskSet::cancel_all), [`shutdown`](TaskSet::shutdown),
    /// or a drop that cancels tasks it spawned), it first cancels `token`,
    /// which the children can watch to stop on their own and clean up
    /// asynchronously, and aborts only those still running `grace` later
    /// (SPEC decision 5; as [`Gather::with_grace`](crate::Gather::with_grace)
    /// and [`TaskGroup::with_grace`](crate::TaskGroup::with_grace)).
    ///
    /// The set does not hand the token to the children: clone it into the
    /// futures you spawn (or use [`token`](TaskSet::token)). Once cancelled it
    /// stays cancelled, so tasks spawned afterwards see it cancelled at once;
    /// a set meant to be reused after a cancellation needs a fresh token (a
    /// new set). `Duration::MAX` means no limit: the tasks are only asked to
    /// stop, never aborted.
    ///
    /// What times the grace period: [`shutdown`](TaskSet::shutdown) times it
    /// itself; after [`cancel_all`](TaskSet::cancel_all), whoever polls the
    /// set; after a drop, a reaper task spawned on the current runtime,
    /// which holds the spawned tasks until they finish or the period ends,
    /// aborts the rest and ends. A set dropped outside a runtime aborts at
    /// once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use asyncio::{CancellationToken, TaskSet};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let token = CancellationToken::new();
    /// let mut set = TaskSet::with_grace(token.clone(), Duration::from_secs(1));
    /// let watched = token.clone();
    /// let polite = set.spawn(async move {
    ///     watched.cancelled().await;
    ///     asyncio::sleep(Duration::from_millis(10)).await; // async clean-up
    ///     "cleaned up"
    /// });
    /// set.spawn(std::future::pending::<&str>()); // ignores the token
    /// let started = tokio::time::Instant::now();
    /// set.shutdown().await;
    /// assert!(token.is_cancelled());
    /// assert!(polite.is_done());
    /// // The polite task stopped in 10 ms; the other was aborted after 1 s.
    /// assert_eq!(started.elapsed(), Duration::from_secs(1));
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// The set's waits, `shutdown` and the reaper panic if run outside a
    /// tokio runtime with the time driver enabled, as tokio's timers do
    /// (the reaper's panic stays in its own task, and the set's drop then
    /// aborts at once).
    pub fn with_grace(token: CancellationToken, grace: Duration) -> Self {
        let mut set = Self::new();
        set.set_grace(token, grace);
        set
    }

    pub(crate) fn set_grace(&mut self, token: CancellationToken, grace: Duration) {
        self.grace = Some(Grace {
            token,
            period: grace,
            deadline: None,
            timer: Timer::default(),
            reap: reap::<T, E>,
        });
    }
}

/// The reaper of a set dropped with a grace period: holds the set's tasks
/// until they have all finished or `deadline` passes, then drops them, which
/// aborts the spawned ones still running (and, if `all`, cancels the
/// inserted ones first).
fn reap<T: Send + 'static, E: Send + 'static>(
    core: SetCore<T, E, Task<T, E>>,
    deadline: Instant,
    all: bool,
) {
    let mut set = TaskSet { core, grace: None };
    let runtime = match tokio::runtime::Handle::try_current() {
        Ok(runtime) if deadline > Instant::now() => runtime,
        _ => {
            if all {
                set.core.cancel_all();
            }
            return;
        }
    };
    runtime.spawn(async move {
        let finished = std::future::poll_fn(|cx| {
            set.core
                .poll_wait(cx, ReturnWhen::AllCompleted, false)
                .map(drop)
        });
        if tokio::time::timeout_at(deadline, finished).await.is_err() && all {
            set.core.cancel_all();
        }
        // Dropping the set aborts the spawned tasks still running, detaches
        // the others, and reports failures nobody took.
    });
}

impl<T, E> Drop for TaskSet<T, E> {
    fn drop(&mut self) {
        let Some(grace) = self.grace.take() else {
            // The core's drop cancels what the set spawned.
            return;
        };
        let under_way = grace.deadline.is_some() && self.core.running() > 0;
        if !under_way && !self.core.has_owned_running() {
            return;
        }
        grace.token.cancel();
        let deadline = grace
            .deadline
            .unwrap_or_else(|| deadline_after(grace.period));
        let core = std::mem::take(&mut self.core);
        (grace.reap)(core, deadline, under_way);
    }
}

impl<T: Send + 'static> TaskSet<T, Infallible> {
    /// Spawns `future` as a task in the set, and returns a handle that
    /// cancels that one task (as `JoinSet::spawn` returns an `AbortHandle`;
    /// [`CancelHandle::id`] is the task's id). If the set is dropped, the
    /// task is cancelled.
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> CancelHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let task = crate::spawn(future);
        let handle = task.cancel_handle();
        self.core.insert(task, true);
        handle
    }

    /// [`spawn`](TaskSet::spawn) for a future that is not `Send`: runs it on
    /// the current [`LocalSet`](tokio::task::LocalSet), as
    /// [`spawn_local`](crate::spawn_local) does.
    ///
    /// # Panics
    ///
    /// If called outside a `LocalSet` (or `LocalRuntime`), at the caller's
    /// line.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> CancelHandle
    where
        F: Future<Output = T> + 'static,
    {
        let task = crate::spawn_local(future);
        let handle = task.cancel_handle();
        self.core.insert(task, true);
        handle
    }

    /// [`spawn`](TaskSet::spawn) on the runtime `runtime` names, as
    /// [`spawn_on`](crate::spawn_on) does.
    pub fn spawn_on<F>(&mut self, runtime: &tokio::runtime::Handle, future: F) -> CancelHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let task = crate::spawn_on(runtime, future);
        let handle = task.cancel_handle();
        self.core.insert(task, true);
        handle
    }
}

impl<T: Send + 'static, E: fmt::Debug + Send + 'static> TaskSet<T, E> {
    /// Spawns a fallible `future` as a task in the set: its `Err(E)` is the
    /// task's failure. Returns a handle that cancels that one task. If the
    /// set is dropped, the task is cancelled.
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime, at the caller's line.
    #[track_caller]
    pub fn try_spawn<F>(&mut self, future: F) -> CancelHandle
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let task = crate::try_spawn(future);
        let handle = task.cancel_handle();
        self.core.insert(task, true);
        handle
    }

    /// [`try_spawn`](TaskSet::try_spawn) for a future that is not `Send`,
    /// on the current [`LocalSet`](tokio::task::LocalSet).
    ///
    /// # Panics
    ///
    /// If called outside a `LocalSet` (or `LocalRuntime`), at the caller's
    /// line.
    #[track_caller]
    pub fn try_spawn_local<F>(&mut self, future: F) -> CancelHandle
    where
        F: Future<Output = Result<T, E>> + 'static,
    {
        let task = crate::try_spawn_local(future);
        let handle = task.cancel_handle();
        self.core.insert(task, true);
        handle
    }

    /// [`try_spawn`](TaskSet::try_spawn) on the runtime `runtime` names.
    pub fn try_spawn_on<F>(&mut self, runtime: &tokio::runtime::Handle, future: F) -> CancelHandle
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let task = crate::try_spawn_on(runtime, future);
        let handle = task.cancel_handle();
        self.core.insert(task, true);
        handle
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

/// The future returned by [`TaskSet::next_completed_indexed`].
#[must_use = "futures do nothing unless polled"]
pub struct NextCompletedIndexed<'a, T, E = Infallible> {
    set: &'a mut TaskSet<T, E>,
    returned: bool,
}

impl<T, E> fmt::Debug for NextCompletedIndexed<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextCompletedIndexed")
            .field("set", &self.set)
            .finish()
    }
}

impl<T, E> Future for NextCompletedIndexed<'_, T, E> {
    type Output = Option<(usize, Result<T, TaskError<E>>)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let next = std::task::ready!(self.set.poll_next_completed_indexed(cx));
        self.returned = true;
        Poll::Ready(next)
    }
}

impl<T, E> Drop for NextCompletedIndexed<'_, T, E> {
    fn drop(&mut self) {
        if !self.returned {
            self.set.unregister();
        }
    }
}

/// The future returned by [`TaskSet::shutdown`]: completes once every task
/// of the set has finished, with the set empty.
///
/// Dropping it before it completes leaves the tasks asked to stop (see
/// `shutdown`'s `# Cancel safety`).
#[must_use = "futures do nothing unless polled"]
pub struct Shutdown<'a, T, E = Infallible> {
    set: &'a mut TaskSet<T, E>,
    /// The cancellation was made (at the first poll).
    started: bool,
}

impl<T, E> fmt::Debug for Shutdown<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("set", &self.set)
            .field("started", &self.started)
            .finish()
    }
}

impl<T, E> Future for Shutdown<'_, T, E> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if !this.started {
            this.started = true;
            this.set.cancel_all();
        }
        if this.set.core.is_empty() {
            return Poll::Ready(());
        }
        let set = &mut *this.set;
        cooperatively!(cx, {
            set.poll_grace(cx);
            set.core.poll_drain(cx, |_, task| {
                // Retrieved and ignored: an error quietly, a panic (or a
                // value's destructor's) to the hook, by the task's own core.
                task.task_core().detach_observed();
            })
        })
    }
}

impl<T, E> Drop for Shutdown<'_, T, E> {
    fn drop(&mut self) {
        self.set.unregister();
    }
}

/// The future returned by [`TaskSet::join_all`]: every outcome, in the order
/// the tasks finished.
///
/// It owns the set: dropping it before it completes drops the set.
#[must_use = "futures do nothing unless polled"]
pub struct JoinAll<T, E = Infallible> {
    set: TaskSet<T, E>,
    finished: bool,
}

impl<T, E> fmt::Debug for JoinAll<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll").field("set", &self.set).finish()
    }
}

impl<T, E> Unpin for JoinAll<T, E> {}

impl<T, E> Future for JoinAll<T, E> {
    type Output = Vec<Result<T, TaskError<E>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        assert!(
            !this.finished,
            "asyncio: JoinAll polled after it returned the outcomes"
        );
        let set = &mut this.set;
        let done = std::task::ready!(cooperatively!(cx, {
            set.poll_grace(cx);
            set.core.poll_wait(cx, ReturnWhen::AllCompleted, false)
        }));
        this.finished = true;
        Poll::Ready(done.into_iter().map(outcome_of).collect())
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
/// | the tasks are cancelled explicitly | `for t in pending: t.cancel()` after `wait` returns | the same through the set: [`TaskSet::cancel_all`] or [`TaskSet::shutdown`] |
/// | the set is dropped | n/a (asyncio does not own the tasks) | inserted tasks are detached, spawned ones cancelled (see [`TaskSet`]) |
/// | the runtime shuts down | tasks are cancelled | tasks end `Cancelled`; the wait is dropped with its task |
///
/// # Cancel safety
///
/// This function is cancel safe. If its future is used as a branch in `select!`
/// and another branch completes first, it is guaranteed that no task has left
/// the set.
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
        let done = std::task::ready!(cooperatively!(cx, {
            this.set.poll_grace(cx);
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
