//! The task-group core: which children are live, which failures were
//! collected, and when the group is finished. Runtime-free; its sync types
//! come from `crate::sync` only, so the loom models in `loom-tests/` drive
//! this code.
//!
//! Implementer's notes. One lock guards the whole state. It has four kinds
//! of caller, on any threads:
//!
//! - a spawner (the body, a child, or anyone holding a handle):
//!   [`reserve`](GroupCore::reserve) counts the child live before it is
//!   spawned, then [`attach`](GroupCore::attach) hands over its abort
//!   handle. The child may finish in between; the owner may abort the
//!   children in between, and then `attach` aborts it at once. So a child
//!   is refused (the group is cancelling or finished) or counted, never
//!   leaked;
//! - a child's wrapper: [`finish`](GroupCore::finish) once, after the
//!   child's future was dropped (so "every child has finished" means their
//!   destructors have run), with the child's failure if it failed. The
//!   first failure starts the cancellation;
//! - the owner (the group's future, or the body-less group's `join`):
//!   [`poll_join`](GroupCore::poll_join) registers its waker and learns
//!   whether the group is cancelling (a scoped group then drops its body)
//!   and, once nothing is live and the owner says its body is done, takes
//!   the collected failures and closes the group;
//! - anyone: [`cancel`](GroupCore::cancel) (asyncio 3.15's
//!   `TaskGroup.cancel()`).
//!
//! The first failure (or `cancel`) only *starts* the cancellation: spawns
//! are refused and the owner is woken. The owner aborts the children
//! ([`abort_all`](GroupCore::abort_all)) when it runs, at once or after its
//! grace period, as asyncio's cancellation is scheduled with `call_soon`.
//!
//! - an enclosing group (a nested group was dropped inside this group's
//!   body, or inside one of its children as it was aborted):
//!   [`adopt`](GroupCore::adopt) counts the nested group's still-live
//!   children as one hold on this group, and the nested core, told by
//!   [`abandon`](GroupCore::abandon), calls
//!   [`release_adopted`](GroupCore::release_adopted) once nothing of its own
//!   is live. So this group joins only after the aborted grandchildren have
//!   finished, as asyncio's would after awaiting the inner group.
//!
//! Wakers are woken, abort handles called and failures reported after the
//! lock is released. The owner is woken when a cancellation starts and when
//! the live count reaches zero; it registers before it looks, so neither
//! wake can be lost.

use std::fmt;
use std::task::{Context, Waker};

#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::Mutex;
use crate::task::core::Report;
use crate::task::{Panic, TaskError, TaskId};

/// The hold a dropped nested group keeps on the group that encloses it
/// (see [`GroupCore::adopt`]): released once, when the nested group has
/// nothing live left.
pub trait Adopted: Send + Sync {
    /// Ends the hold ([`GroupCore::release_adopted`] on the enclosing core).
    fn release(self: Box<Self>);
}

/// What the core needs from a child's runtime handle: a way to abort it.
pub trait Abort {
    /// Aborts the child: it stops at its next await point, and its wrapper
    /// then calls [`GroupCore::finish`].
    fn abort(&self);
}

/// How a child or the body failed.
#[derive(Debug)]
pub enum Failure<E> {
    /// It returned `Err(E)`.
    Error(E),
    /// It panicked.
    Panic(Panic),
}

/// Where a failure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The group's body (a scoped group's closure).
    Body,
    /// A child task.
    Child(TaskId),
}

/// Why a spawn was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The group is cancelling its children (a failure, or `cancel()`).
    ShuttingDown,
    /// The group has finished (joined, or dropped).
    Finished,
}

/// What a joined group hands its owner.
#[derive(Debug)]
pub struct Joined<E> {
    /// Ordinary errors, in the order they were collected.
    pub errors: Vec<(Origin, E)>,
    /// The first panic, if any: the owner resumes it (after reporting
    /// `errors`, which nobody will see then).
    pub panic: Option<(Origin, Panic)>,
    /// Whether [`cancel`](GroupCore::cancel) was called before the group
    /// finished.
    pub cancelled: bool,
}

/// What the owner learns from a poll.
#[derive(Debug)]
pub enum JoinPoll<E> {
    /// Still running; `cancelling` says whether the group is cancelling (a
    /// scoped group then drops its body).
    Pending {
        /// The group is cancelling.
        cancelling: bool,
    },
    /// Finished: nothing is live, and the group is closed to spawns.
    Ready(Joined<E>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    Cancelling,
    /// Joined: closed to spawns; nothing is live.
    Closed,
    /// The owner is gone without joining: closed to spawns; failures that
    /// arrive now are reported, since nobody will see them.
    Abandoned,
}

enum Slot<H> {
    /// Free; holds the next free slot's index (the free list runs through
    /// the vacant slots, so it needs no storage of its own), or `NO_SLOT`.
    Vacant(usize),
    /// Counted live; its abort handle is not attached yet.
    Reserved(TaskId),
    Running(TaskId, H),
}

/// The end of the free list.
const NO_SLOT: usize = usize::MAX;

struct State<E, H> {
    phase: Phase,
    /// The owner has aborted the running children (it does so when it sees
    /// the cancellation, or when its grace period ends): a child attached
    /// from now on is aborted at once.
    aborting: bool,
    /// Children counted live (reserved or running).
    live: usize,
    /// Holds of nested groups dropped inside this one, whose children are
    /// still finishing ([`GroupCore::adopt`]). The group joins only when
    /// this and `live` are both zero.
    adopted: usize,
    /// The enclosing group's hold on this one, once this group was
    /// abandoned inside it: released when nothing here is live any more.
    parent: Option<Box<dyn Adopted>>,
    slots: Vec<Slot<H>>,
    /// The first vacant slot, or `NO_SLOT`.
    free: usize,
    errors: Vec<(Origin, E)>,
    panic: Option<(Origin, Panic)>,
    /// `cancel()` started the cancellation (not a failure): what
    /// [`Joined::cancelled`] reports. The std build reads it only in the
    /// scoped group's debug assertion (a body that returned no value was
    /// ended by `cancel()`), and the loom model `cancel_races_a_failure`
    /// checks through it that `cancel()`'s answer tells the truth. It stays
    /// for those two checks: it costs one flag per group, and without it the
    /// `Ok(None)` contract of a scoped group would go unchecked.
    cancel_requested: bool,
    waker: Option<Waker>,
}

/// The shared state of one task group.
pub struct GroupCore<E, H> {
    state: Mutex<State<E, H>>,
    /// The id failures of the body are reported under.
    body_id: TaskId,
    report: Report<E>,
}

impl<E, H> fmt::Debug for GroupCore<E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("GroupCore")
            .field("phase", &state.phase)
            .field("live", &state.live)
            .field("adopted", &state.adopted)
            .field("errors", &state.errors.len())
            .field("panicked", &state.panic.is_some())
            .finish_non_exhaustive()
    }
}

/// Work to do once the lock is released.
struct Deferred<E, H> {
    abort: Vec<H>,
    waker: Option<Waker>,
    /// A waker replaced or forgotten under the lock, dropped after it.
    stale: Option<Waker>,
    report: Vec<(Origin, Failure<E>)>,
    started: Started,
    /// The enclosing group's hold, to release.
    release: Option<Box<dyn Adopted>>,
}

/// Whether a call started the group's cancellation, and who acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// It did not (the group was already cancelling, or nothing failed).
    No,
    /// It did, and an owner was waiting: the owner, now woken, aborts the
    /// children when it runs (after its grace period, if any).
    OwnerWillAbort,
    /// It did, and no owner was waiting (a body-less group nobody joins
    /// yet): the caller aborts the children now, unless there is a grace
    /// period, which only a waiting owner can time.
    NobodyWaiting,
}

impl<E, H> Default for Deferred<E, H> {
    fn default() -> Self {
        Self {
            abort: Vec::new(),
            waker: None,
            stale: None,
            report: Vec::new(),
            started: Started::No,
            release: None,
        }
    }
}

impl<E, H: Abort> Deferred<E, H> {
    /// Reports first and wakes last, so that an owner that returns once
    /// woken finds every report already made. Returns whether the call
    /// started the cancellation.
    fn run(self, core: &GroupCore<E, H>) -> Started {
        for (origin, failure) in self.report {
            core.report(origin, failure);
        }
        // Each handle is dropped right after its abort, while its task's
        // header is still in cache: a second pass over 100k handles would
        // miss the cache on every one.
        for child in self.abort {
            child.abort();
            drop(child);
        }
        drop(self.stale);
        if let Some(waker) = self.waker {
            waker.wake();
        }
        if let Some(parent) = self.release {
            parent.release();
        }
        self.started
    }
}

impl<E, H: Abort> State<E, H> {
    /// Starts the cancellation if the group is open: spawns are refused
    /// from now on, and the owner is woken to abort the children (at once,
    /// or after its grace period) and drop its body. The abort is the
    /// owner's, as asyncio's is a `call_soon`: children already woken when
    /// the first failure came still run, and a sibling failing in the same
    /// tick is collected too (behaviour 92).
    fn start_cancelling(&mut self, deferred: &mut Deferred<E, H>) {
        if self.phase != Phase::Open {
            return;
        }
        self.phase = Phase::Cancelling;
        deferred.started = if self.waker.is_some() {
            Started::OwnerWillAbort
        } else {
            Started::NobodyWaiting
        };
        if fault!(GroupCancelSkipsWake) {
            return;
        }
        deferred.waker = self.waker.take();
    }

    /// Moves the abort handles of the running children into `into`. A
    /// reserved child is aborted by `attach`, which sees `aborting`.
    fn take_running(&mut self, into: &mut Vec<H>) {
        // At most `live` are running: one allocation, not a doubling series
        // (100k handles are 800 kB).
        into.reserve(self.live);
        for slot in &mut self.slots {
            if let Slot::Running(id, _) = slot {
                let id = *id;
                if let Slot::Running(_, handle) = std::mem::replace(slot, Slot::Reserved(id)) {
                    into.push(handle);
                }
            }
        }
    }

    /// Nothing is live any more (no child, no adopted group): the owner is
    /// woken to join, and a group abandoned inside another releases that
    /// group's hold on it.
    fn drained(&mut self, deferred: &mut Deferred<E, H>) {
        if let Some(waker) = self.waker.take() {
            deferred.waker = Some(waker);
        }
        deferred.release = self.parent.take();
    }

    /// Records a failure: the first panic is kept apart (the owner resumes
    /// it); a later panic is reported at once, as nobody will see it.
    fn record(&mut self, origin: Origin, failure: Failure<E>, deferred: &mut Deferred<E, H>) {
        if matches!(self.phase, Phase::Abandoned | Phase::Closed) {
            deferred.report.push((origin, failure));
            return;
        }
        match failure {
            Failure::Error(error) => self.errors.push((origin, error)),
            Failure::Panic(panic) => {
                if self.panic.is_none() {
                    self.panic = Some((origin, panic));
                } else {
                    deferred.report.push((origin, Failure::Panic(panic)));
                }
            }
        }
    }
}

impl<E, H: Abort> GroupCore<E, H> {
    /// An open group with no children. Failures nobody will see go to
    /// `report`, the body's under `body_id`.
    pub fn new(body_id: TaskId, report: Report<E>) -> Self {
        Self {
            state: Mutex::new(State {
                phase: Phase::Open,
                aborting: false,
                live: 0,
                adopted: 0,
                parent: None,
                slots: Vec::new(),
                free: NO_SLOT,
                errors: Vec::new(),
                panic: None,
                cancel_requested: false,
                waker: None,
            }),
            body_id,
            report,
        }
    }

    /// Hands a failure nobody will see to the report function.
    pub fn report(&self, origin: Origin, failure: Failure<E>) {
        let id = match origin {
            Origin::Body => self.body_id,
            Origin::Child(id) => id,
        };
        let error = match failure {
            Failure::Error(error) => TaskError::Failed(error),
            Failure::Panic(panic) => TaskError::Panicked(panic),
        };
        (self.report)(id, error);
    }

    /// Counts a child live before it is spawned, and returns its index.
    pub fn reserve(&self, id: TaskId) -> Result<usize, Refused> {
        let mut state = self.state.lock();
        #[cfg(asyncio_loom)]
        let forgets_cancelling = mutant::on(Mutant::GroupReserveIgnoresCancelling);
        #[cfg(not(asyncio_loom))]
        let forgets_cancelling = false;
        match state.phase {
            Phase::Open => {}
            Phase::Cancelling if forgets_cancelling => {}
            Phase::Cancelling => return Err(Refused::ShuttingDown),
            Phase::Closed | Phase::Abandoned => return Err(Refused::Finished),
        }
        state.live += 1;
        let index = match state.free {
            NO_SLOT => {
                state.slots.push(Slot::Reserved(id));
                state.slots.len() - 1
            }
            index => {
                state.free = match std::mem::replace(&mut state.slots[index], Slot::Reserved(id)) {
                    Slot::Vacant(next) => next,
                    Slot::Reserved(_) | Slot::Running(..) => {
                        unreachable!("asyncio: a task group's free list holds a live slot")
                    }
                };
                index
            }
        };
        Ok(index)
    }

    /// Hands over the abort handle of child `id`, reserved at `index`, now
    /// that it is spawned. If the owner aborted the children meanwhile, the
    /// child is aborted at once. If it has already finished, the handle is
    /// dropped: its slot may be free, or reserved by another child since
    /// (slots are reused), which is why the id must match.
    pub fn attach(&self, index: usize, id: TaskId, handle: H) {
        let mut state = self.state.lock();
        let abort_now = state.aborting;
        let abort_now = abort_now && !fault!(GroupAttachIgnoresCancel);
        let any_reserved = fault!(GroupAttachIgnoresOwner);
        match state.slots[index] {
            Slot::Reserved(reserved) if reserved == id || any_reserved => {
                if abort_now {
                    drop(state);
                    handle.abort();
                } else {
                    state.slots[index] = Slot::Running(reserved, handle);
                }
            }
            // It finished before it was attached (the slot may hold
            // another child now).
            Slot::Vacant(_) | Slot::Reserved(_) | Slot::Running(..) => {}
        }
    }

    /// The child at `index` has finished (its future has been dropped, and
    /// its task's outcome published), with `failure` if it failed or
    /// panicked. A cancellation is not a failure (asyncio behaviour 93).
    /// Returns whether this started the group's cancellation.
    pub fn finish(&self, index: usize, failure: Option<Failure<E>>) -> Started {
        let mut deferred = Deferred::default();
        let mut state = self.state.lock();
        // The mutant moves the last child's wake before the decrement: the
        // wake is issued once, early, and not again at zero.
        #[cfg(asyncio_loom)]
        let woke_early = mutant::on(Mutant::GroupFinishWakesBeforeDecrement) && state.live == 1;
        #[cfg(asyncio_loom)]
        if woke_early {
            let waker = state.waker.take();
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
            state = self.state.lock();
        }
        #[cfg(not(asyncio_loom))]
        let woke_early = false;
        let free = state.free;
        // The handle is dropped once the lock is released.
        let (id, handle) = match std::mem::replace(&mut state.slots[index], Slot::Vacant(free)) {
            Slot::Reserved(id) => (id, None),
            Slot::Running(id, handle) => (id, Some(handle)),
            Slot::Vacant(_) => unreachable!("asyncio: a task group child finished twice"),
        };
        state.free = index;
        state.live -= 1;
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::GroupFinishSplitsRecord) && failure.is_some() {
            if state.live == 0 {
                deferred.waker = state.waker.take();
            }
            drop(state);
            state = self.state.lock();
        }
        if let Some(failure) = failure {
            state.record(Origin::Child(id), failure, &mut deferred);
            state.start_cancelling(&mut deferred);
        }
        if state.live == 0 && state.adopted == 0 {
            let skip = fault!(GroupLastChildSkipsWake);
            let skip = skip || woke_early;
            if !skip {
                state.drained(&mut deferred);
            }
        }
        drop(state);
        drop(handle);
        deferred.run(self)
    }

    /// The live child at `index` failed, and will [`finish`](Self::finish)
    /// with a second failure (its destructor panicked after it had failed):
    /// records the first. Both are kept; neither is lost. Returns whether
    /// this started the group's cancellation.
    pub fn fail_child(&self, index: usize, failure: Failure<E>) -> Started {
        let mut deferred = Deferred::default();
        let mut state = self.state.lock();
        let id = match state.slots[index] {
            Slot::Reserved(id) | Slot::Running(id, _) => id,
            Slot::Vacant(_) => unreachable!("asyncio: a finished task group child failed"),
        };
        state.record(Origin::Child(id), failure, &mut deferred);
        state.start_cancelling(&mut deferred);
        drop(state);
        deferred.run(self)
    }

    /// The body failed or panicked: record it and cancel the children.
    /// Returns whether this started the group's cancellation.
    pub fn fail_body(&self, failure: Failure<E>) -> Started {
        let mut deferred = Deferred::default();
        let mut state = self.state.lock();
        state.record(Origin::Body, failure, &mut deferred);
        state.start_cancelling(&mut deferred);
        drop(state);
        deferred.run(self)
    }

    /// asyncio 3.15's `TaskGroup.cancel()`: cancels the children (and a
    /// scoped group's body); the group then ends without an error of its
    /// own. Idempotent. Returns whether this call started the cancellation.
    pub fn cancel(&self) -> Started {
        let mut deferred = Deferred::default();
        let mut state = self.state.lock();
        if state.phase == Phase::Open {
            state.cancel_requested = true;
        }
        state.start_cancelling(&mut deferred);
        drop(state);
        deferred.run(self)
    }

    /// Aborts every running child, and every child attached later: the
    /// owner saw the cancellation (or its grace period ended). Starts the
    /// cancellation if the group was open.
    pub fn abort_all(&self) {
        let mut deferred = Deferred::default();
        let mut state = self.state.lock();
        state.start_cancelling(&mut deferred);
        if fault!(GroupAbortSkipsRunning) {
            state.aborting = true;
            drop(state);
            deferred.run(self);
            return;
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::GroupAbortAllSplitsTake) {
            state.take_running(&mut deferred.abort);
            drop(state);
            state = self.state.lock();
            state.aborting = true;
            drop(state);
            deferred.run(self);
            return;
        }
        state.aborting = true;
        state.take_running(&mut deferred.abort);
        drop(state);
        deferred.run(self);
    }

    /// Whether the group is cancelling (or finished).
    pub fn is_cancelling(&self) -> bool {
        self.state.lock().phase != Phase::Open
    }

    /// How many children are live.
    pub fn live(&self) -> usize {
        self.state.lock().live
    }

    /// Polls the owner's side. Registers `cx`'s waker first, so that a
    /// cancellation or the last child's finish after this call wakes it.
    /// `body_done` says whether the owner's body (if any) has finished: the
    /// group finishes only then, and once nothing is live.
    pub fn poll_join(&self, cx: &mut Context<'_>, body_done: bool) -> JoinPoll<E> {
        let mut state = self.state.lock();
        if state.phase == Phase::Closed {
            panic!("asyncio: a task group was joined again after it finished");
        }
        let early = body_done && fault!(GroupJoinsEarly);
        if body_done && ((state.live == 0 && state.adopted == 0) || early) {
            state.phase = Phase::Closed;
            let stale = state.waker.take();
            let joined = Joined {
                errors: std::mem::take(&mut state.errors),
                panic: state.panic.take(),
                cancelled: state.cancel_requested,
            };
            drop(state);
            drop(stale);
            return JoinPoll::Ready(joined);
        }
        #[cfg(asyncio_loom)]
        let keeps_first = mutant::on(Mutant::GroupPollJoinKeepsFirstWaker);
        #[cfg(not(asyncio_loom))]
        let keeps_first = false;
        let stale = match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            Some(_) if keeps_first => None,
            _ => state.waker.replace(cx.waker().clone()),
        };
        let cancelling = state.phase != Phase::Open;
        drop(state);
        drop(stale);
        JoinPoll::Pending { cancelling }
    }

    /// A group nested inside this one was dropped (with its children still
    /// live): counts it as one hold, so that this group joins only after
    /// it [`release_adopted`](Self::release_adopted). Refused (`false`)
    /// once this group has joined: nothing waits for it then.
    pub fn adopt(&self) -> bool {
        let mut state = self.state.lock();
        if state.phase == Phase::Closed {
            return false;
        }
        state.adopted += 1;
        true
    }

    /// A nested group this one [adopted](Self::adopt) has nothing live any
    /// more: its hold ends, and if nothing else is live the owner is woken.
    pub fn release_adopted(&self) {
        let mut deferred = Deferred::default();
        let mut state = self.state.lock();
        state.adopted -= 1;
        if state.live == 0 && state.adopted == 0 {
            #[cfg(asyncio_loom)]
            if mutant::on(Mutant::GroupReleaseSkipsWake) {
                deferred.release = state.parent.take();
                drop(state);
                deferred.run(self);
                return;
            }
            state.drained(&mut deferred);
        }
        drop(state);
        deferred.run(self);
    }

    /// The owner is gone without joining (dropped): every running child is
    /// aborted, spawns are refused from now on, and every failure collected
    /// or still to come is reported, since nobody will see it.
    ///
    /// `parent` is the hold of the group this one was dropped in, if it
    /// [adopted](Self::adopt) it: released once nothing here is live (at
    /// once, if nothing is).
    pub fn abandon(&self, parent: Option<Box<dyn Adopted>>) {
        let mut deferred = Deferred::default();
        let mut state = self.state.lock();
        if state.phase == Phase::Closed {
            drop(state);
            if let Some(parent) = parent {
                parent.release();
            }
            return;
        }
        if state.live == 0 && state.adopted == 0 || fault!(GroupAbandonReleasesParentEarly) {
            deferred.release = parent;
        } else {
            state.parent = parent;
        }
        state.phase = Phase::Abandoned;
        state.aborting = true;
        deferred.stale = state.waker.take();
        state.take_running(&mut deferred.abort);
        if fault!(GroupAbandonForgetsErrors) {
            state.errors.clear();
        }
        for (origin, error) in std::mem::take(&mut state.errors) {
            deferred.report.push((origin, Failure::Error(error)));
        }
        if let Some((origin, panic)) = state.panic.take() {
            deferred.report.push((origin, Failure::Panic(panic)));
        }
        drop(state);
        deferred.run(self);
    }
}
