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
