//! The one switch between `std` and `loom` synchronisation types.
//!
//! Every runtime-free core imports its sync types from here and nowhere else,
//! so that the loom models in `loom-tests/` explore the crate's real code.
//! Only what both std and loom provide is offered (loom has no `Weak`, no
//! timers). The switch is the crate's own cfg, `asyncio_loom`, not the global
//! `loom` cfg, which would change tokio too.

// Atomics are offered for the cores that need them; not every build uses
// all of them.
#[allow(unused_imports)]
#[cfg(not(asyncio_loom))]
pub(crate) use std::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

#[allow(unused_imports)]
#[cfg(asyncio_loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicBool, AtomicUsize, Ordering},
    Arc,
};

/// A mutex without poisoning.
///
/// The cores never run user code while holding a lock (user futures are polled
/// and user wakers are woken outside it), so a poisoned lock can only come from
/// a bug in the crate itself; the guard is taken anyway so that one panic does
/// not turn into a cascade of them.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(asyncio_loom))]
    inner: std::sync::Mutex<T>,
    #[cfg(asyncio_loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(asyncio_loom))]
pub(crate) type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;
#[cfg(asyncio_loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            #[cfg(not(asyncio_loom))]
            inner: std::sync::Mutex::new(value),
            #[cfg(asyncio_loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The value, through an exclusive borrow: no lock is taken, since
    /// nobody else can hold one.
    #[inline]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        match self.inner.get_mut() {
            Ok(value) => value,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// `$ordering`, weakened to `Relaxed` where the loom mutant `$mutant` is
/// on ([`mutant`]); in the std build, `$ordering` itself. Like `fault!`, it
/// reaches the cores through `#[macro_use]` on this module.
#[cfg(asyncio_loom)]
macro_rules! ordering {
    ($ordering:expr, $mutant:ident) => {
        if $crate::sync::mutant::on($crate::sync::mutant::Mutant::$mutant) {
            $crate::sync::Ordering::Relaxed
        } else {
            $ordering
        }
    };
}

/// `$ordering` itself: the std build has no mutants.
#[cfg(not(asyncio_loom))]
macro_rules! ordering {
    ($ordering:expr, $mutant:ident) => {
        $ordering
    };
}

/// Thread-local storage: loom's under the loom cfg, where the model's
/// threads share one OS thread and std's would be shared between them.
#[cfg(not(asyncio_loom))]
pub(crate) use std::thread_local;

#[cfg(asyncio_loom)]
pub(crate) use loom::thread_local;

/// `fault!(Name)`: whether the calibration fault `fault::Fault::Name` is
/// switched on. Under `cfg(asyncio_loom)` it reads the fault flags; in every
/// other build it is the constant `false`, so a faulty branch compiles away
/// and each fault point in a core is one line. (The `sync` module is declared
/// first in `lib.rs`, with `#[macro_use]`, so every core sees the macro.)
macro_rules! fault {
    ($name:ident) => {{
        #[cfg(asyncio_loom)]
        let on = $crate::sync::fault::on($crate::sync::fault::Fault::$name);
        #[cfg(not(asyncio_loom))]
        let on = false;
        on
    }};
}

/// Faults that a loom calibration twin switches on inside a real core, to
/// prove that its model can fail. Compiled only under `cfg(asyncio_loom)`.
#[cfg(asyncio_loom)]
pub mod fault {
    use std::sync::atomic::{AtomicU64, Ordering};

    static ACTIVE: AtomicU64 = AtomicU64::new(0);

    /// A fault that can be switched on inside a core.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[repr(u64)]
    pub enum Fault {
        /// The task core publishes an outcome but does not wake the waiter.
        TaskSkipWake = 1 << 0,
        /// The task core lets a later "cancelled" overwrite a published value.
        TaskCancelOverwritesValue = 1 << 1,
        /// The task core forgets to report an unretrieved failure on detach.
        TaskDetachForgetsFailure = 1 << 2,
        /// The timeout core does not wake the scope when rescheduled.
        TimeoutSkipWake = 1 << 3,
        /// The task's wrapper publishes a completed child's outcome before
        /// dropping the child's future (so its destructors may still run).
        TaskPublishBeforeDrop = 1 << 4,
        /// The task core accepts a cancel request after the outcome was
        /// published.
        TaskLateCancelAccepted = 1 << 5,
        /// The timeout core lets a closed (expired or finished) scope be
        /// rescheduled.
        TimeoutRescheduleAfterClose = 1 << 6,
        /// The timeout core expires a scope on a deadline that a reschedule
        /// has already replaced.
        TimeoutExpireIgnoresGeneration = 1 << 7,
        /// The ready list queues a finished child but does not wake the
        /// waiter.
        ReadySkipWake = 1 << 8,
        /// The ready list keeps a waiter's waker after it stopped waiting.
        ReadyKeepsStaleWaker = 1 << 9,
        /// A task set returns on timeout without collecting a child that
        /// finished meanwhile, and forgets it.
        SetForgetsOnTimeout = 1 << 10,
        /// The task core drops a panic quietly after an observed detach, as
        /// it drops an ordinary failure.
        TaskQuietDropsPanic = 1 << 11,
        /// The gather core, dropped before it completed, does not abort its
        /// unfinished children.
        GatherDropSkipsAbort = 1 << 12,
        /// The gather core drops a sibling's panic that arrives while it
        /// joins the cancelled siblings, instead of reporting it.
        GatherForgetsLaterPanic = 1 << 13,
        /// The gather core returns its chosen failure without waiting for
        /// the siblings it cancelled to finish.
        GatherSkipsJoin = 1 << 14,
        /// A child's wrapper, dropped by an abort, catches a panic from the
        /// child's destructor but does not publish it.
        ChildDropLosesPanic = 1 << 15,
        /// The gather core aborts the siblings at once although a grace
        /// period was asked for.
        GatherGraceAbortsAtOnce = 1 << 16,
        /// The queue core grants a freed slot to a waiting putter but does
        /// not wake it.
        QueuePutterSkipWake = 1 << 17,
        /// The queue core does not pass on the item granted to a getter that
        /// is dropped before it took it.
        QueueDroppedGetterKeepsItem = 1 << 18,
        /// The queue core does not wake joiners when the unfinished count
        /// reaches zero.
        QueueJoinSkipWake = 1 << 19,
        /// The queue core does not wake blocked putters on shutdown.
        QueueShutdownSkipsPutters = 1 << 20,
        /// The queue core does not wake blocked getters on shutdown.
        QueueShutdownSkipsGetters = 1 << 21,
        /// An immediate shutdown lowers the unfinished count but does not
        /// release joiners when it reaches zero.
        QueueImmediateShutdownKeepsJoin = 1 << 22,
        /// The queue core does not pass on the slot granted to a putter that
        /// is dropped before it inserted.
        QueueDroppedPutterKeepsSlot = 1 << 23,
        /// The queue core's `task_done` moves credit to its atomic without
        /// spending the unit it was called for.
        QueueTaskDoneRefillSpendsNothing = 1 << 24,
        /// The queue core's lock-free `task_done` path, having spent the
        /// last spendable unit, does not take the lock to release joiners.
        QueueTaskDoneFastPathSkipsRelease = 1 << 25,
        /// A granted putter fills the first held place of a
        /// first-in-first-out queue, but the queue core does not grant the
        /// items behind it to waiting getters.
        QueueFillSkipsGetters = 1 << 26,
        /// A graceful shutdown fails the granted putters of a
        /// first-in-first-out queue but keeps the places held for them, so
        /// the items behind those places can never be taken.
        QueueShutdownKeepsHeldPlaces = 1 << 27,
        /// A panic from the destructor of a value that nobody will read is
        /// caught but forgotten, never handed to the report function (the
        /// bug it stands for let the panic unwind into tokio, which drops
        /// it; a loom thread cannot model tokio's catch).
        DiscardLosesPanic = 1 << 28,
        /// A queue item that no get has claimed wakes only the first
        /// waiting stream, which may never be polled again.
        QueueWakesOneStream = 1 << 29,
        /// The task-group core's `abort_all` marks the group aborting but
        /// does not abort the running children.
        GroupAbortSkipsRunning = 1 << 30,
        /// The task-group core starts its cancellation but does not wake
        /// the owner (which must drop the body).
        GroupCancelSkipsWake = 1 << 31,
        /// The task-group core attaches a child spawned while the group was
        /// cancelling instead of aborting it.
        GroupAttachIgnoresCancel = 1 << 32,
        /// The task-group core does not wake the owner when the last live
        /// child finishes.
        GroupLastChildSkipsWake = 1 << 33,
        /// The task-group core lets the owner join while children are
        /// still live.
        GroupJoinsEarly = 1 << 34,
        /// The task-group core, abandoned by its owner, forgets the errors
        /// it had collected instead of reporting them.
        GroupAbandonForgetsErrors = 1 << 35,
        /// The task-group core attaches an abort handle to whichever child
        /// holds the reserved slot, not only to the child it was reserved
        /// for (slots are reused once a child finishes).
        GroupAttachIgnoresOwner = 1 << 36,
        /// The queue core grants a new item to the first waiting getter but
        /// does not wake it.
        QueueInsertSkipsGetterWake = 1 << 37,
        /// A task set, dropped, does not cancel the children it spawned.
        SetDropSkipsCancel = 1 << 38,
        /// A gather's first visit of a child checks the child's slot under
        /// one lock acquisition and registers its listener under a second:
        /// a child that publishes in between finds no listener, and the
        /// gather never learns that it finished.
        GatherFirstVisitSplitsTake = 1 << 41,
        /// A task group abandoned inside an enclosing group releases the
        /// enclosing group's hold at once, with its own children still live.
        GroupAbandonReleasesParentEarly = 1 << 63,
        /// The task core publishes an outcome but does not wake the futures
        /// waiting for "done" through a `CancelHandle`.
        TaskSkipDoneWake = 1 << 50,
        /// A cancel request through the task's own handle (`current_task`)
        /// does not wake the child.
        TaskSkipChildCancelWake = 1 << 51,
        /// A child's wrapper does not record in the task's core that
        /// `current_task` handed out the task's own handle, so its later
        /// polls do not act on a cancel request through that handle.
        TaskWatchNotRecorded = 1 << 40,
        /// A map's progress snapshot reads `started` before the finish
        /// counters, so it can show more items finished than started.
        MapProgressReadsStartedFirst = 1 << 39,
        /// The timeout core's lazy slot replaces the core it holds when a
        /// handle is asked for, instead of handing out the same one.
        TimeoutLazyCoreReplaced = 1 << 47,
        /// The queue core does not count a put or get that overtook older
        /// waiters, so the bound on overtaking is never enforced.
        QueueOvertakeUncounted = 1 << 56,
        /// A notified queue waiter that found nothing to take waits again
        /// at the back of the line, not at its old place.
        QueueNotifiedWaiterLosesPlace = 1 << 57,
        /// A notified queue waiter that is dropped does not pass its turn
        /// on to the next waiter.
        QueueDroppedNotifiedKeepsTurn = 1 << 58,
        /// A notified queue waiter that completes does not pass its
        /// notification on, although a slot or an item is still free and
        /// other waiters sleep (the baton is dropped).
        QueueNotifiedKeepsBaton = 1 << 59,
        /// The queue core's count of overtakes does not start again when
        /// the oldest waiter is served, so later waiters are handed items
        /// before the limit is reached.
        QueueServedOldestKeepsCount = 1 << 60,
        /// A map item publishes its outcome into the map's core but does
        /// not wake the driver.
        MapItemSkipWake = 1 << 52,
        /// A map item's wrapper, dropped after it finished, publishes
        /// "cancelled" anyway: a second outcome for its slot.
        MapItemDropAlwaysPublishes = 1 << 53,
        /// The map's core, closed by a dropped driver, drops the outcomes
        /// queued before without reporting their panics.
        MapItemCloseForgetsQueued = 1 << 54,
    }

    /// Runs `body` with `fault` switched on, and switches it off afterwards,
    /// also when `body` panics (as a calibration twin's model does).
    /// Models run one at a time (`--test-threads=1`).
    pub fn with<R>(fault: Fault, body: impl FnOnce() -> R) -> R {
        struct Off(u64);
        impl Drop for Off {
            fn drop(&mut self) {
                ACTIVE.fetch_and(!self.0, Ordering::SeqCst);
            }
        }
        ACTIVE.fetch_or(fault as u64, Ordering::SeqCst);
        let _off = Off(fault as u64);
        body()
    }

    pub(crate) fn on(fault: Fault) -> bool {
        ACTIVE.load(Ordering::SeqCst) & fault as u64 != 0
    }
}

/// Realistic concurrency bugs that can be switched on inside the real cores,
/// one at a time, to measure which ones the loom models catch (the mutation
/// check, `.ci/mutants`; the list with the model that kills each is
/// `loom-tests/MUTANTS.md`). Where a twin's fault proves that a model *can*
/// fail, a mutant is a bug a developer would plausibly write: a check and an
/// act split across two lock acquisitions, a wake issued before the state is
/// published, a waker registered only on the first poll, an ordering
/// weakened, a release issued while units remain, a fast path that forgets
/// a case.
///
/// The mutant is chosen by the environment variable `ASYNCIO_MUTANT` (a
/// variant's name, e.g. `ASYNCIO_MUTANT=TaskWakeBeforePublish`), read once;
/// unset, no mutant is on. Compiled only under `cfg(asyncio_loom)`: the
/// std build has no switch at all.
#[cfg(asyncio_loom)]
pub mod mutant {
    use std::sync::OnceLock;

    macro_rules! mutants {
        ($($(#[doc = $doc:literal])+ $name:ident,)+) => {
            /// A mutant that can be switched on inside a core.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            #[non_exhaustive]
            pub enum Mutant {
                $($(#[doc = $doc])+ $name,)+
            }

            impl Mutant {
                /// Every mutant, in declaration order.
                pub const ALL: &'static [Mutant] = &[$(Mutant::$name,)+];

                /// The name `ASYNCIO_MUTANT` selects it by.
                pub fn name(self) -> &'static str {
                    match self {
                        $(Mutant::$name => stringify!($name),)+
                    }
                }
            }
        };
    }

    mutants! {
        // The task core (src/task/core.rs).
        /// `publish` reads `detached` under one lock acquisition and stores
        /// the outcome under a second: a detach in between leaves a failure
        /// in a slot nobody will take (check and act split).
        TaskPublishSplitsDetachCheck,
        /// `publish` takes and wakes the waiter's waker under one lock
        /// acquisition and stores the outcome under a second: the woken
        /// waiter can poll in between, find nothing and park for good.
        TaskWakeBeforePublish,
        /// `poll_outcome` keeps the first waker it stored instead of the
        /// current one: a waiter that moved to another task is never woken.
        TaskKeepsFirstWaker,
        /// `publish` records "cancelled" / "failed" before the "first
        /// outcome wins" check, so a late "cancelled" marks a task that
        /// completed with a value as cancelled. Equivalent since the
        /// wrapper publishes exactly once (loom-tests/MUTANTS.md).
        TaskFlagsBeforeFirstWins,
        /// `poll_done` checks the slot under one lock acquisition and
        /// registers its waker under a second: an outcome published in
        /// between wakes nobody (check and act split).
        TaskDoneSplitsRegister,
        /// A watched child checks for a cancel request under one lock
        /// acquisition and registers its waker under a second: a request in
        /// between finds no waker to wake (check and act split).
        TaskChildWatchSplitsCheck,
        /// A child's wrapper reads the core's "own handle out" flag once,
        /// before the poll, and uses that value after it: the poll in which
        /// `current_task` hands the handle out does not register the
        /// child's waker, so a request through the handle wakes nobody.
        TaskWatchReadBeforePoll,
        /// Dropping the last handle (no child, no `CancelHandle` left)
        /// skips the slot, taking "nobody else can look" to mean "nothing
        /// left to report": a failure published before is lost.
        TaskReleaseSkipsSlot,

        // The ready list (src/task/ready.rs).
        /// `drain` swaps the queued indices out under one lock acquisition
        /// and registers the waker under a second: a push in between finds
        /// no waker (check and act split).
        ReadyDrainSplitsRegister,
        /// `push` takes and wakes the waiter's waker under one lock
        /// acquisition and queues the index under a second (wake before
        /// publish).
        ReadyWakeBeforePush,

        // The task-set core (src/wait/core.rs).
        /// The set registers the waiter's waker on its first poll only;
        /// later polls take the ready indices without registering, though
        /// the wake that came in took the waker.
        SetRegistersOnFirstPollOnly,
        /// `insert` asks the child whether it is done, then listens under a
        /// second lock acquisition and ignores `listen`'s answer: a child
        /// that completes in between is never collected.
        SetInsertSplitsDoneCheck,
        /// The shutdown drain (`poll_drain`) registers the waiter's waker
        /// on its first poll only; later polls take the ready indices
        /// without registering, though the wake that came in took the waker.
        SetDrainRegistersOnFirstPollOnly,

        // The gather core (src/gather/core.rs).
        /// The gather registers the waiter's waker on its first poll only.
        GatherRegistersOnFirstPollOnly,
        /// A gathered child's first visit (`TaskCore::take_or_listen`)
        /// registers and assumes the child is still running when its outcome
        /// is already published, instead of taking it (a fast path that
        /// forgets a case).
        GatherIgnoresListenResult,
        /// A race returns its winner as soon as it is chosen, without
        /// waiting for the losers it cancelled to finish (an early release:
        /// "structured means joined" broken).
        RaceReturnsBeforeLosersFinish,

        // The timeout core (src/timeout/core.rs).
        /// `reschedule` takes and wakes the scope's waker under one lock
        /// acquisition and moves the deadline under a second (wake before
        /// publish).
        TimeoutWakeBeforePublish,
        /// `expire` compares generations under one lock acquisition and
        /// marks the scope expired under a second (check and act split).
        TimeoutExpireSplitsCheck,
        /// `poll_deadline` keeps the first waker it stored instead of the
        /// current one (lost re-registration).
        TimeoutKeepsFirstWaker,
        /// `LazyCore::get_or_create` looks for a core under one lock
        /// acquisition and stores a new one under a second (check and act
        /// split): two handles asked for at once get different cores.
        TimeoutLazyCoreSplitsCheck,

        // The queue core (src/queue/core.rs and src/queue/core/).
        /// The lock-free `task_done` path spends its unit with `Relaxed`
        /// instead of `SeqCst`: every count stays right, but what the
        /// consumer wrote before `task_done` is not published to the join
        /// that the count releases.
        QueueTaskDoneRelaxed,
        /// `join` reads the lock-free units with `Relaxed` instead of
        /// `SeqCst`: it can see zero without acquiring what the consumers
        /// wrote before their `task_done`.
        QueueJoinLoadRelaxed,
        /// The "all done" check forgets the units held by the lock-free
        /// `task_done` path: a join is released while units remain.
        QueueFinishedIgnoresSpendable,
        /// `task_done` under the lock releases the joiners without checking
        /// that the count reached zero: a join is released while units
        /// remain.
        QueueTaskDoneReleasesUnchecked,
        /// A get's unlock fast path checks for waiting putters but forgets
        /// the shutdown case: a get that drains a shut-down queue does not
        /// wake the getters still waiting.
        QueueGetFastPathForgetsShutdown,
        /// `shutdown` wakes the waiting getters under one lock acquisition
        /// and sets the flag under a second (wake before publish).
        QueueShutdownWakesBeforeFlag,
        /// Dropping a pending get reads its status under one lock
        /// acquisition and removes it under a second: a grant in between is
        /// lost (check and act split).
        QueueCancelGetSplitsCheck,
        /// `try_put` grants the item to a waiting getter and wakes it under
        /// one lock acquisition, and inserts it under a second (wake before
        /// publish).
        QueuePutWakesBeforeInsert,
        /// A waiting get keeps the waker it registered first instead of the
        /// current one (lost re-registration).
        QueueGetKeepsFirstWaker,
        /// The check that decides whether a new item must be handed on
        /// looks only at waiting getters, and forgets a notified getter that
        /// is due a grant (a fast path that forgets a case): a running get
        /// overtakes it past the limit.
        QueueSettleIgnoresDueNotified,
        /// A notified get that takes an item does not count the older
        /// waiters it overtook (only new gets are counted): the bound on
        /// overtaking is exceeded.
        QueueNotifiedGetSkipsCount,
        /// A new get that takes an item at once on its inlined fast path
        /// does not count the waiting getters it overtook (the slow path
        /// does): the bound on overtaking is exceeded.
        QueueGetFastPathSkipsOvertake,
        /// A new put that inserts at once on its inlined fast path does not
        /// count the waiting putters it overtook: the bound on overtaking
        /// is exceeded.
        QueuePutFastPathSkipsOvertake,
        /// A notified get that takes an item does not pass the baton on
        /// (only the put side remembers to): an item is left available
        /// while the next getter sleeps and none is notified.
        QueueNotifiedGetKeepsBaton,
        /// A notified put that inserts does not pass the baton on (only
        /// the get side remembers to): a slot is left free while the next
        /// putter sleeps and none is notified.
        QueueNotifiedPutKeepsBaton,
        /// A pass made after an overtake, meant to wake the next waiter
        /// only if none is on its way, wakes none at all (the limit off by
        /// one): an item is left available while the next getter sleeps
        /// and none is notified.
        QueuePassAfterOvertakeWakesNone,

        // The task-group core (src/task_group/core.rs).
        /// A child's `finish` takes and wakes the owner's waker under one
        /// lock acquisition and lowers the live count under a second (wake
        /// before publish): an owner that runs in between sees the child
        /// live and parks for good.
        GroupFinishWakesBeforeDecrement,
        /// A child's `finish` lowers the live count (waking the owner at
        /// zero) under one lock acquisition and records its failure under a
        /// second (check and act split): the owner can join in between and
        /// lose the error.
        GroupFinishSplitsRecord,
        /// `reserve` forgets the cancelling case: a spawn is accepted while
        /// the group shuts down.
        GroupReserveIgnoresCancelling,
        /// The owner's `poll_join` keeps the waker it registered first
        /// instead of the current one (lost re-registration).
        GroupPollJoinKeepsFirstWaker,
        /// `abort_all` takes the running children's handles under one lock
        /// acquisition and marks the group aborting under a second: a child
        /// attached in between is never aborted.
        GroupAbortAllSplitsTake,
        /// `release_adopted` lowers the adopted count but forgets to wake
        /// the owner when nothing is left live (a wake missing on the new
        /// path, as `GroupLastChildSkipsWake` is on the old one).
        GroupReleaseSkipsWake,

        // The map's progress counters (src/map/core.rs).
        /// The driver counts a finish `Relaxed`: a reader that sees it may
        /// not see the start counted before it.
        MapProgressFinishRelaxed,
        /// A reader loads the finish counters `Relaxed`: it may see a finish
        /// without the start counted before it.
        MapProgressSnapshotRelaxed,

        // The map's item core (src/map/items.rs).
        /// An item's `publish` takes and wakes the driver's waker under one
        /// lock acquisition and queues its outcome under a second (wake
        /// before publish): the woken driver can drain in between, find
        /// nothing and park for good.
        MapItemWakeBeforePush,
        /// The driver's `drain` takes the queue under one lock acquisition
        /// and registers its waker under a second (check and act split): a
        /// publish in between finds the old waker, already used.
        MapItemDrainSplitsRegister,
        /// The driver's `drain` keeps the first waker it registered instead
        /// of the current one (lost re-registration): a stream that moved to
        /// another task is never woken.
        MapItemDrainKeepsFirstWaker,
        /// An item's `publish` checks whether the driver is gone under one
        /// lock acquisition and queues under a second (check and act split):
        /// a close in between leaves the outcome in a queue nobody reads,
        /// and its panic is lost.
        MapItemPublishSplitsClosedCheck,
        /// `close` takes the queued outcomes under one lock acquisition and
        /// marks the core closed under a second (check and act split): an
        /// outcome published in between is queued for nobody.
        MapItemCloseSplitsFlag,
        /// An item's wrapper publishes its outcome before it drops the
        /// item's future (an early release): the driver can see the item
        /// finished, and a fail-fast map return, while its destructors
        /// still run.
        MapItemPublishBeforeDrop,
    }

    static ACTIVE: OnceLock<Option<Mutant>> = OnceLock::new();

    /// The mutant `ASYNCIO_MUTANT` names, if any.
    ///
    /// # Panics
    ///
    /// If `ASYNCIO_MUTANT` names no mutant: a typo would otherwise run the
    /// unmutated suite and report every mutant as a survivor.
    pub fn active() -> Option<Mutant> {
        *ACTIVE.get_or_init(|| {
            let name = std::env::var("ASYNCIO_MUTANT").ok()?;
            let name = name.trim();
            if name.is_empty() {
                return None;
            }
            match Mutant::ALL.iter().find(|mutant| mutant.name() == name) {
                Some(&mutant) => Some(mutant),
                None => panic!("ASYNCIO_MUTANT={name} names no mutant"),
            }
        })
    }

    /// Whether `mutant` is switched on.
    #[inline]
    pub(crate) fn on(mutant: Mutant) -> bool {
        active() == Some(mutant)
    }
}
