//! The completion core: where a spawned child publishes its outcome and where
//! the awaiting side finds it. Runtime-free; its sync types come from
//! `crate::sync` only, so the loom models in `loom-tests/` drive this code.
//!
//! Implementer's notes. One lock guards the whole state of a task: the
//! outcome slot, the waiter's waker, a task set's listener (its ready list
//! and the task's index in it), and a few flags (the handle was dropped; a
//! cancel was requested; how the task ended; whether an ordinary failure is
//! to be dropped quietly). A task has three writers that can race:
//!
//! - the child's wrapper ([`Child`]) publishing a value, an error or a panic
//!   when the child's future completes;
//! - the wrapper's drop publishing "cancelled" when the runtime drops the
//!   wrapper before it completed (an abort, or runtime shutdown);
//! - the handle side: the waiter registering its waker (or a set its
//!   listener), taking the outcome, requesting cancellation, or detaching
//!   (the `Task` was dropped).
//!
//! Two rarer parties live in a boxed `Extra`, allocated only for the tasks
//! that use them: futures waiting for "done" through a `CancelHandle`
//! (woken by the publish, whoever it is for), and the child's own waker,
//! kept once the child handed out its own handle (`current_task`), which
//! has no tokio abort handle: a cancel request through it wakes the child,
//! and the child's wrapper ends it (it checks the request under the same
//! lock as it registers, so a request in between is never missed).
//!
//! The first outcome published wins and is never overwritten. The wrapper
//! publishes exactly once (its drop publishes "cancelled" only for a child
//! whose future had not finished), so this is a defence, not a path: what
//! makes "completion beats cancellation" hold is that an abort reaching a
//! finished child drops a wrapper with nothing left to publish. The child's future is
//! dropped *before* its outcome is published, so whoever sees the outcome
//! knows the child's destructors have run (a panic in those destructors is
//! the child's outcome, not lost with the aborted task). Wakers and listeners
//! are told, and user values dropped, after the lock is released. An error or panic that nobody can
//! observe any more (published after the handle detached, or still in the
//! slot when it detaches) is handed to the task's `report` function exactly
//! once: the loom models check "exactly once" under every interleaving.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::{Arc, AtomicBool, Mutex, Ordering};
use crate::task::current::lend_shared;
use crate::task::ready::ReadyList;
use crate::task::{Panic, TaskError, TaskId};

/// Where a task's unobservable failure goes (the crate passes the
/// unobserved-error hook; loom models pass a counter).
pub type Report<E> = fn(TaskId, TaskError<E>);

/// The shared state of one child task.
///
/// `repr(C)`, with the flag first: a poll of the child that does not
/// finish reads only the flag and the `Arc`'s reference count just before
/// it, so that poll touches one cache line of the core, not two (the flag
/// would otherwise come last, after the lock). The flag's padding costs
/// nothing: the core is 88 bytes either way.
#[repr(C)]
pub struct TaskCore<T, E> {
    /// [`current_task`](crate::task::current_task) handed out this task's
    /// own handle during a poll of its child. Only the child's wrapper
    /// reads and writes it, in its own polls, which the runtime already
    /// orders (one poll happens before the next, on whatever worker), so
    /// `Relaxed` is enough: it is an atomic only because the core is
    /// shared. It lives here rather than in the wrapper because tokio
    /// sizes a task's allocation by its future in 128-byte steps, and a
    /// flag beside the wrapper's pointer moved every small child into the
    /// 256-byte step; outside the lock, so that the check before each poll
    /// is a load, not a lock.
    watched: AtomicBool,
    id: TaskId,
    report: Report<E>,
    state: Mutex<State<T, E>>,
}

enum Slot<T, E> {
    Running,
    Ready(Result<T, TaskError<E>>),
    Taken,
}

struct State<T, E> {
    slot: Slot<T, E>,
    /// How the task ended, as `is_cancelled` and `is_failure` tell it
    /// (kept after the outcome is taken).
    mark: Mark,
    waker: Option<Waker>,
    /// A task set listening for this task: the set's ready list, and the
    /// task's index in it in `listener_index`. Told once, when the outcome
    /// is published; cheaper than a waker of its own (an `Arc` clone, no
    /// allocation). The index is narrowed and kept apart, beside the
    /// flags, so that the state stays at seven words: the core then stays
    /// in its allocator size class with the lock-free `watched` flag
    /// beside the lock.
    listener: Option<Arc<ReadyList>>,
    listener_index: u32,
    /// The `Task` handle is gone: nobody will take the outcome.
    detached: bool,
    cancel_requested: bool,
    /// The owner observed a failure on the task's behalf (fail-fast gather):
    /// a later `Failed` is dropped quietly; a panic is still reported.
    quiet_failures: bool,
    /// What few tasks use, boxed so that the others pay one pointer (the
    /// core stays in its allocator size class).
    extra: Option<Box<Extra>>,
}

/// How a task ended, as far as its flags tell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// Running, or ended with a value.
    Clean,
    /// Ended by cancellation.
    Cancelled,
    /// Ended with an error or a panic.
    Failed,
}

impl Mark {
    fn of<T, E>(outcome: &Result<T, TaskError<E>>) -> Self {
        match outcome {
            Ok(_) => Mark::Clean,
            Err(TaskError::Cancelled) => Mark::Cancelled,
            Err(TaskError::Failed(_) | TaskError::Panicked(_)) => Mark::Failed,
        }
    }
}

impl<T, E> State<T, E> {
    /// Takes the listener, with its index.
    fn take_listener(&mut self) -> Option<(Arc<ReadyList>, usize)> {
        let list = self.listener.take()?;
        Some((list, self.listener_index as usize))
    }
}

/// The rarely used part of a task's state.
#[derive(Default)]
struct Extra {
    /// The child's own waker, registered by a child that reached its own
    /// handle ([`current_task`](crate::task::current_task)): that handle has
    /// no tokio abort handle, so a cancel request through it wakes the
    /// child, which then ends itself.
    child: Option<Waker>,
    /// Futures waiting for the task to finish without taking its outcome
    /// (a `CancelHandle`'s `done()`), by key.
    watchers: Vec<(u64, Waker)>,
    next_key: u64,
}

/// Wakes the "done" watchers that `extra` held, outside the lock. Inline,
/// so that the common case (no `Extra`: every publish of a task nobody
/// watches) costs a test, not a call and a drop.
#[inline]
fn wake_watchers(extra: Option<Box<Extra>>) {
    if let Some(extra) = extra {
        wake_each(extra.watchers);
    }
}

#[inline(never)]
fn wake_each(watchers: Vec<(u64, Waker)>) {
    if fault!(TaskSkipDoneWake) {
        return;
    }
    for (_, waker) in watchers {
        waker.wake();
    }
}

impl<T, E> std::fmt::Debug for TaskCore<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        let slot = match state.slot {
            Slot::Running => "running",
            Slot::Ready(_) => "ready",
            Slot::Taken => "taken",
        };
        f.debug_struct("TaskCore")
            .field("id", &self.id)
            .field("slot", &slot)
            .field("cancelled", &(state.mark == Mark::Cancelled))
            .field("detached", &state.detached)
            .field("cancel_requested", &state.cancel_requested)
            .finish()
    }
}

impl<T, E> TaskCore<T, E> {
    /// A core for a task that has not finished.
    pub fn new(id: TaskId, report: Report<E>) -> Self {
        Self {
            watched: AtomicBool::new(false),
            id,
            report,
            state: Mutex::new(State {
                slot: Slot::Running,
                mark: Mark::Clean,
                waker: None,
                listener: None,
                listener_index: 0,
                detached: false,
                cancel_requested: false,
                quiet_failures: false,
                extra: None,
            }),
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Publishes the task's outcome. The first outcome wins; later ones are
    /// dropped (a "cancelled" from the drop guard after a value, normally).
    /// Returns whether this outcome was the one kept.
    pub fn publish(&self, outcome: Result<T, TaskError<E>>) -> bool {
        let mut state = self.state.lock();
        let overwrite = fault!(TaskCancelOverwritesValue)
            && matches!(outcome, Err(TaskError::Cancelled))
            && matches!(state.slot, Slot::Ready(_));
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TaskFlagsBeforeFirstWins) {
            state.mark = Mark::of(&outcome);
        }
        if !matches!(state.slot, Slot::Running) && !overwrite {
            drop(state);
            discard(self.report, self.id, outcome);
            return false;
        }
        state.mark = Mark::of(&outcome);
        let detached = state.detached;
        // Whoever waits for "done" is told in every case below, detached or
        // not; the child's own waker is of no more use.
        let extra = state.extra.take();
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TaskPublishSplitsDetachCheck) && !detached {
            drop(state);
            state = self.state.lock();
        }
        if detached {
            state.slot = Slot::Taken;
            let quiet = state.quiet_failures;
            drop(state);
            wake_watchers(extra);
            self.report_unobservable(outcome, quiet);
            return true;
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TaskWakeBeforePublish) {
            let waker = state.waker.take();
            let listener = state.take_listener();
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
            if let Some((list, index)) = listener {
                list.push(index);
            }
            self.state.lock().slot = Slot::Ready(outcome);
            wake_watchers(extra);
            return true;
        }
        state.slot = Slot::Ready(outcome);
        let waker = state.waker.take();
        let listener = state.take_listener();
        drop(state);
        wake_watchers(extra);
        if fault!(TaskSkipWake) {
            return true;
        }
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some((list, index)) = listener {
            list.push(index);
        }
        true
    }

    /// Polls for the outcome, registering `cx`'s waker while there is none.
    ///
    /// # Panics
    ///
    /// If the outcome was already taken: the crate's handles make that
    /// unreachable (they are consumed when they return the outcome).
    pub fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError<E>>> {
        let mut state = self.state.lock();
        match std::mem::replace(&mut state.slot, Slot::Taken) {
            Slot::Ready(outcome) => Poll::Ready(outcome),
            Slot::Taken => panic!(
                "asyncio: a task's outcome was taken twice \
                 (a `Task` awaited again after `&mut task` returned its outcome)"
            ),
            Slot::Running => {
                state.slot = Slot::Running;
                match &state.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    #[cfg(asyncio_loom)]
                    Some(_) if mutant::on(Mutant::TaskKeepsFirstWaker) => {}
                    _ => state.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// Asks for `index` to be pushed onto `list` when the outcome is
    /// published, without taking it. Returns `true` (and registers nothing)
    /// if the outcome is already published. Task sets use it to learn of a
    /// completion without consuming the outcome, which stays in the core for
    /// whoever takes it. Independent of the waker slot.
    pub fn listen(&self, list: &Arc<ReadyList>, index: usize) -> bool {
        let mut state = self.state.lock();
        if !matches!(state.slot, Slot::Running) {
            return true;
        }
        state.listener = Some(list.clone());
        state.listener_index = u32::try_from(index)
            .expect("asyncio: a task set or gather holds fewer than 2^32 tasks at once");
        false
    }

    /// Takes the outcome if it is published; otherwise asks for `index` to
    /// be pushed onto `list` when it is, in the same lock acquisition: a
    /// gather's first visit of a child. `None` means the child is listened
    /// to (or its outcome was taken already). One acquisition where
    /// [`listen`](TaskCore::listen) then [`try_take`](TaskCore::try_take)
    /// took two: on a current-thread runtime a gather's children have
    /// usually finished when it first visits them.
    pub fn take_or_listen(
        &self,
        list: &Arc<ReadyList>,
        index: usize,
    ) -> Option<Result<T, TaskError<E>>> {
        let mut state = self.state.lock();
        if fault!(GatherFirstVisitSplitsTake) && matches!(state.slot, Slot::Running) {
            // The check under one acquisition, the registration under a
            // second: a publish in between finds no listener.
            drop(state);
            state = self.state.lock();
            state.listener = Some(list.clone());
            state.listener_index = u32::try_from(index).unwrap_or(u32::MAX);
            return None;
        }
        let running = matches!(state.slot, Slot::Running);
        // The mutant forgets the "already finished" case: it registers on a
        // core that will never publish again.
        #[cfg(asyncio_loom)]
        let running = running
            || (matches!(state.slot, Slot::Ready(_))
                && mutant::on(Mutant::GatherIgnoresListenResult));
        if running {
            state.listener = Some(list.clone());
            state.listener_index = u32::try_from(index)
                .expect("asyncio: a task set or gather holds fewer than 2^32 tasks at once");
            return None;
        }
        match std::mem::replace(&mut state.slot, Slot::Taken) {
            Slot::Ready(outcome) => Some(outcome),
            taken => {
                state.slot = taken;
                None
            }
        }
    }

    /// Takes the outcome if it is published, without registering anything.
    pub fn try_take(&self) -> Option<Result<T, TaskError<E>>> {
        let mut state = self.state.lock();
        match std::mem::replace(&mut state.slot, Slot::Taken) {
            Slot::Ready(outcome) => Some(outcome),
            other => {
                state.slot = other;
                None
            }
        }
    }

    /// The handle is gone: nobody will take the outcome. A failure already in
    /// the slot is reported now; one published later is reported then.
    pub fn detach(&self) {
        self.detach_with(false);
    }

    /// The handle is gone, and its owner has already reported a failure on
    /// the task's behalf (fail-fast `gather` returned a sibling's error): a
    /// later ordinary failure is dropped quietly, as asyncio marks it
    /// retrieved (asyncio behaviour 32); a panic is still reported, since
    /// panics are never lost. Calling [`detach`](TaskCore::detach) afterwards
    /// changes nothing.
    pub fn detach_observed(&self) {
        self.detach_with(true);
    }

    /// The handle `core` is dropped: [`detach`](TaskCore::detach), but
    /// without the lock when `core` is the last reference. Then the child's
    /// wrapper and every `CancelHandle` are gone, so nothing can publish,
    /// register or look any more (`Arc::get_mut` proves it, and its acquire
    /// makes the wrapper's writes visible): an outcome in the slot is
    /// handled as `detach` would, through the exclusive borrow. A task
    /// awaited to the end, or taken by a set or a gather, is dropped this
    /// way once its child has finished, so most handles never lock again.
    pub fn release(core: &mut Arc<Self>) {
        // The count first (a plain load): a handle dropped while its child
        // runs, the common case of a detached task, skips `get_mut`'s
        // compare-and-swap. A count of one is only a hint; `get_mut` decides.
        let unique = if Arc::strong_count(core) == 1 {
            Arc::get_mut(core)
        } else {
            None
        };
        let Some(unique) = unique else {
            core.detach();
            return;
        };
        let state = unique.state.get_mut();
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TaskReleaseSkipsSlot) {
            return;
        }
        let quiet = state.quiet_failures;
        let outcome = match std::mem::replace(&mut state.slot, Slot::Taken) {
            Slot::Ready(outcome) => outcome,
            other => {
                state.slot = other;
                return;
            }
        };
        if fault!(TaskDetachForgetsFailure) {
            return;
        }
        unique.report_unobservable(outcome, quiet);
    }

    /// The owner observed a failure on the task's behalf, but hands the
    /// task on (a failed gather's leftover siblings): a later ordinary
    /// failure is quiet if whoever holds the handle drops it unread; a
    /// panic is still reported. Awaiting the task still yields its outcome.
    pub fn mark_observed(&self) {
        self.state.lock().quiet_failures = true;
    }

    fn detach_with(&self, quiet: bool) {
        let mut state = self.state.lock();
        state.detached = true;
        state.quiet_failures |= quiet;
        let quiet = state.quiet_failures;
        let waker = state.waker.take();
        let listener = state.take_listener();
        let outcome = match std::mem::replace(&mut state.slot, Slot::Taken) {
            Slot::Ready(outcome) => Some(outcome),
            other => {
                state.slot = other;
                None
            }
        };
        drop(state);
        drop((waker, listener));
        if let Some(outcome) = outcome {
            if fault!(TaskDetachForgetsFailure) {
                return;
            }
            self.report_unobservable(outcome, quiet);
        }
    }

    /// Records a cancel request. Returns `false` if the task had already
    /// finished (the request is too late and changes nothing), `true` if it
    /// was still running. A running task may still complete before the abort
    /// reaches it: completion beats cancellation, and its value is delivered.
    pub fn request_cancel(&self) -> bool {
        let mut state = self.state.lock();
        if matches!(state.slot, Slot::Running) {
            state.cancel_requested = true;
            let child = state.extra.as_mut().and_then(|extra| extra.child.take());
            drop(state);
            if fault!(TaskSkipChildCancelWake) {
                return true;
            }
            if let Some(child) = child {
                child.wake();
            }
            true
        } else {
            if fault!(TaskLateCancelAccepted) {
                return true;
            }
            false
        }
    }

    /// Whether the task has finished (its outcome is published).
    pub fn is_done(&self) -> bool {
        !matches!(self.state.lock().slot, Slot::Running)
    }

    /// Whether the task finished by being cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.state.lock().mark == Mark::Cancelled
    }

    /// Whether the task ended with an error or a panic (asyncio: "raised an
    /// exception"; a cancellation is not one).
    pub fn is_failure(&self) -> bool {
        self.state.lock().mark == Mark::Failed
    }

    /// Whether a cancel was requested while the task was running. The
    /// child's wrapper asks it before each poll of a child whose own handle
    /// is out ([`current_task`](crate::task::current_task)): that handle has
    /// no abort handle, so the request is how the child learns it must end.
    pub fn cancel_requested(&self) -> bool {
        self.state.lock().cancel_requested
    }

    /// Whether the task's own handle is out: [`current_task`] handed it out
    /// during some poll of the child, so a cancel request through it (which
    /// cannot abort) is the child's to act on. Asked by the child's
    /// wrapper before each poll, without the lock (see the field).
    ///
    /// [`current_task`]: crate::task::current_task
    pub fn is_watched(&self) -> bool {
        self.watched.load(Ordering::Relaxed)
    }

    /// Records that [`current_task`](crate::task::current_task) handed out
    /// the task's own handle; called by the child's wrapper, after the poll
    /// in which it happened.
    pub fn set_watched(&self) {
        if fault!(TaskWatchNotRecorded) {
            return;
        }
        self.watched.store(true, Ordering::Relaxed);
    }

    /// Whether the outcome has been taken by the handle (awaiting the task
    /// again would panic).
    pub fn is_taken(&self) -> bool {
        let state = self.state.lock();
        matches!(state.slot, Slot::Taken) && !state.detached
    }

    /// Polls for the task to finish without taking its outcome. `key` is
    /// the caller's place among the watchers: `None` before the first
    /// registration. A caller that stops waiting calls
    /// [`unwatch`](TaskCore::unwatch) with it.
    pub fn poll_done(&self, key: &mut Option<u64>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock();
        if !matches!(state.slot, Slot::Running) {
            return Poll::Ready(());
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TaskDoneSplitsRegister) {
            drop(state);
            state = self.state.lock();
        }
        let extra = state.extra.get_or_insert_with(Default::default);
        match key.and_then(|key| extra.watchers.iter_mut().find(|(k, _)| *k == key)) {
            Some((_, waker)) => waker.clone_from(cx.waker()),
            None => {
                let new = extra.next_key;
                extra.next_key += 1;
                extra.watchers.push((new, cx.waker().clone()));
                *key = Some(new);
            }
        }
        Poll::Pending
    }

    /// Forgets the watcher registered under `key` (its future was dropped).
    pub fn unwatch(&self, key: u64) {
        let mut state = self.state.lock();
        let removed = state.extra.as_mut().and_then(|extra| {
            let at = extra.watchers.iter().position(|(k, _)| *k == key)?;
            Some(extra.watchers.swap_remove(at))
        });
        drop(state);
        drop(removed);
    }

    /// For a child that reached its own handle: whether a cancel was
    /// requested (the child then ends itself, at the await point where it
    /// stands); if not, registers the child's waker so that a request
    /// through that handle, which cannot abort, wakes it.
    pub fn watch_child(&self, cx: &mut Context<'_>) -> bool {
        let mut state = self.state.lock();
        if state.cancel_requested {
            return true;
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TaskChildWatchSplitsCheck) {
            drop(state);
            state = self.state.lock();
        }
        let extra = state.extra.get_or_insert_with(Default::default);
        match &mut extra.child {
            Some(waker) => waker.clone_from(cx.waker()),
            slot => *slot = Some(cx.waker().clone()),
        }
        false
    }

    /// Hands an outcome nobody can observe to `report`: a panic always, an
    /// ordinary failure unless `quiet`. A value (or a quiet error) is
    /// dropped here, and a panic from its destructor is reported too.
    fn report_unobservable(&self, outcome: Result<T, TaskError<E>>, quiet: bool) {
        let quiet_panics = quiet && fault!(TaskQuietDropsPanic);
        match outcome {
            Err(error @ TaskError::Failed(_)) if !quiet => (self.report)(self.id, error),
            Err(error @ TaskError::Panicked(_)) if !quiet_panics => (self.report)(self.id, error),
            outcome => discard(self.report, self.id, outcome),
        }
    }
}

/// Polls a child's future, catching its panic (which tokio would otherwise
/// keep in a `JoinHandle` nobody reads): `Pending`, its output, or the panic.
pub(crate) fn poll_catching<F: Future>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, Panic>> {
    match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(poll) => poll.map(Ok),
        Err(payload) => Poll::Ready(Err(Panic::new(payload))),
    }
}

/// Drops a child's future in place, catching a panic from its destructor:
/// that panic is the child's, and must not be lost with it.
pub(crate) fn drop_catching<F>(mut future: Pin<&mut Option<F>>) -> Option<Panic> {
    catch_unwind(AssertUnwindSafe(|| future.set(None)))
        .err()
        .map(Panic::new)
}

/// Drops `value`, which belongs to task `id` and which nobody will read (a
/// detached task's value, a quiet error, outcomes an abandoned gather
/// collected), and hands a panic from its destructor to `report` as the
/// task's panic.
///
/// Every place where the crate drops a task's outcome on nobody's behalf
/// goes through here. Such a drop often runs where a panic would vanish: in
/// the child's own wrapper on a runtime worker (tokio keeps it in a
/// `JoinHandle` nobody reads), or in a destructor run by an abort (tokio
/// swallows it); elsewhere it would unwind through the crate's bookkeeping
/// or, with a second one, abort the process.
pub fn discard<V, E>(report: Report<E>, id: TaskId, value: V) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(value))) {
        if fault!(DiscardLosesPanic) {
            return;
        }
        report(id, TaskError::Panicked(Panic::new(payload)));
    }
}

/// Ends a child that was cancelled (through its own handle, or by an
/// abort): drops its future and its reference to `core` (a panic from the
/// future's destructor is the child's outcome), then publishes "cancelled"
/// into `core`, which the caller holds a reference to.
fn end_cancelled<F, T, E>(live: Pin<&mut Option<Live<F, T, E>>>, core: &TaskCore<T, E>) {
    match drop_catching(live) {
        Some(panic) => core.publish(Err(TaskError::Panicked(panic))),
        None => core.publish(Err(TaskError::Cancelled)),
    };
}

pin_project_lite::pin_project! {
    /// A plain future as a fallible one that never fails: its output `v`
    /// is `Ok(v)`. [`spawn`](crate::spawn) and its kin run plain futures
    /// through it into a [`Child`]. Unlike an
    /// `async move { Ok(future.await) }` block it adds nothing to the
    /// future's size: the block keeps the future twice (as its capture and
    /// as what it awaits) beside a state byte, 40 bytes over a 16-byte
    /// future.
    #[must_use = "futures do nothing unless polled"]
    pub struct Infallibly<F> {
        #[pin]
        future: F,
    }
}

impl<F> Infallibly<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> Self {
        Self { future }
    }
}

impl<F: Future> Future for Infallibly<F> {
    type Output = Result<F::Output, std::convert::Infallible>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().future.poll(cx).map(Ok)
    }
}

impl<F> std::fmt::Debug for Infallibly<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Infallibly").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// A child that has not finished: its future and its task's core,
    /// dropped together when the future ends. The core's `Arc` is never
    /// null, which gives `Option<Live>` its `None` for free: async blocks
    /// expose no niche, so an `Option` of the future alone would add a
    /// word.
    struct Live<F, T, E> {
        #[pin]
        future: F,
        core: Arc<TaskCore<T, E>>,
    }
}

pin_project_lite::pin_project! {
    /// The future the runtime runs for a child: polls the child's future,
    /// catches its panic, and publishes its outcome into the core.
    ///
    /// When the runtime drops it before it completed (an abort, runtime
    /// shutdown), the child's future is dropped first, so its destructors
    /// have run when "cancelled" is published. A panic in those destructors
    /// is the child's panic: it is caught and published instead of
    /// "cancelled" (tokio would otherwise swallow it with the aborted task).
    ///
    /// It is the future and one pointer, nothing more, on purpose: tokio
    /// sizes a task's allocation by its future in 128-byte steps on x86-64,
    /// and a 16-byte future (`async move { i }`) fits the 128-byte step
    /// only in a wrapper of at most 24 bytes. Hence the `Option` over the
    /// future and the core together (`None` once the future was dropped,
    /// and then the outcome is published, so the drop has nothing left to
    /// publish), and the "own handle out" flag kept in the core
    /// ([`TaskCore::is_watched`]).
    #[must_use = "futures do nothing unless polled"]
    pub struct Child<F, T, E> {
        #[pin]
        live: Option<Live<F, T, E>>,
    }

    impl<F, T, E> PinnedDrop for Child<F, T, E> {
        fn drop(this: Pin<&mut Self>) {
            let mut live = this.project().live;
            let Some(running) = live.as_mut().as_pin_mut() else {
                // The outcome is published: nothing to add.
                return;
            };
            // A reference of our own: the one in `live` goes with the
            // future, and the outcome is published after both.
            let core = running.project().core.clone();
            match drop_catching(live) {
                Some(panic) => {
                    if fault!(ChildDropLosesPanic) {
                        core.publish(Err(TaskError::Cancelled));
                        return;
                    }
                    core.publish(Err(TaskError::Panicked(panic)));
                }
                None => {
                    core.publish(Err(TaskError::Cancelled));
                }
            }
        }
    }
}

impl<F, T, E> std::fmt::Debug for Child<F, T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let live = self.live.as_ref();
        f.debug_struct("Child")
            .field("finished", &live.is_none())
            .field("core", &live.map(|live| &live.core))
            .finish()
    }
}

impl<F, T, E> Child<F, T, E>
where
    F: Future<Output = Result<T, E>>,
    T: Send + 'static,
    E: Send + 'static,
{
    /// Wraps `future`, which will publish into `core`.
    pub fn new(future: F, core: Arc<TaskCore<T, E>>) -> Self {
        Self {
            live: Some(Live { future, core }),
        }
    }
}

impl<F, T, E> Future for Child<F, T, E>
where
    F: Future<Output = Result<T, E>>,
    T: Send + 'static,
    E: Send + 'static,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut live = self.project().live;
        let Some(running) = live.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let running = running.project();
        // A task whose own handle is out can be cancelled through it, which
        // cannot abort: a request that woke it ends it here, at the await
        // point where it stands, before it runs on.
        let watched = running.core.is_watched();
        if watched && running.core.cancel_requested() {
            let core = running.core.clone();
            end_cancelled(live, &core);
            return Poll::Ready(());
        }
        // The core is lent for the poll as a reference of its own, which
        // comes back and publishes if the future ends (the one in `live`
        // goes with the future, before the outcome is published).
        let (poll, core, handed_out) =
            lend_shared(running.core, || poll_catching(running.future, cx));
        if handed_out {
            core.set_watched();
        }
        #[cfg(asyncio_loom)]
        let handed_out = handed_out && !mutant::on(Mutant::TaskWatchReadBeforePoll);
        if poll.is_pending() && (watched || handed_out) && core.watch_child(cx) {
            end_cancelled(live, &core);
            return Poll::Ready(());
        }
        let mut outcome = match std::task::ready!(poll) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(TaskError::Failed(error)),
            Err(panic) => Err(TaskError::Panicked(panic)),
        };
        if fault!(TaskPublishBeforeDrop) {
            core.publish(outcome);
            live.set(None);
            return Poll::Ready(());
        }
        // Drop the child's future before anyone can see the outcome. A panic
        // in its destructor is a panic of the child and is not lost either;
        // nor is what it displaces: an error goes to `report` (nobody will
        // see it in the task), a value is dropped as nobody's.
        if let Some(panic) = drop_catching(live) {
            let panic = TaskError::Panicked(panic);
            if let Err(TaskError::Panicked(_)) = outcome {
                // The first panic stays the task's; this one is reported.
                (core.report)(core.id, panic);
            } else {
                match std::mem::replace(&mut outcome, Err(panic)) {
                    Err(error @ TaskError::Failed(_)) => (core.report)(core.id, error),
                    displaced => discard(core.report, core.id, displaced),
                }
            }
        }
        core.publish(outcome);
        // The bug this fault stands for: a wrapper that publishes
        // "cancelled" when it is dropped whether or not the child finished
        // (the finished wrapper no longer holds the core, so the late
        // "cancelled" comes here, where the drop would have sent it).
        if fault!(TaskCancelOverwritesValue) {
            core.publish(Err(TaskError::Cancelled));
        }
        Poll::Ready(())
    }
}
