//! The timeout core: a scope's deadline and phase, shared with the
//! [`TimeoutHandle`](crate::TimeoutHandle)s that reschedule it from anywhere.
//! Runtime-free; sync types from `crate::sync` only.
//!
//! Implementer's notes. A handle on another thread may move the deadline
//! while the scope is parked on the old one, so a reschedule bumps a
//! generation counter and wakes the scope, which re-arms its timer when it
//! sees a generation it has not armed. The scope registers its waker on every
//! poll (skipping the clone when it would wake the same task), and the phase
//! only moves forward: created → active → expired or finished.
//!
//! A scope nobody holds a handle to needs none of this: its deadline cannot
//! move, and nobody can read its phase. So the shared core is created the
//! first time a handle is asked for ([`LazyCore`]), seeded with the scope's
//! deadline and phase at that moment; until then the scope keeps both
//! inline and takes no lock and makes no allocation (issue 18). Asking for a
//! handle takes `&self` and polling takes `&mut self`, so the two never race:
//! the slot's lock only orders handles asked for from several threads at
//! once, and the scope reads the slot through `get_mut`, without locking.

use std::task::{Context, Waker};

use tokio::time::Instant;

#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::{Arc, Mutex};
use crate::timeout::RescheduleError;

/// Where a scope is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Built, not yet polled.
    Created,
    /// Its body is running.
    Active,
    /// The deadline fired and the body was dropped.
    Expired,
    /// The body completed before the deadline.
    Finished,
}

/// The shared state of one timeout scope.
#[derive(Debug)]
pub struct TimeoutCore {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    deadline: Option<Instant>,
    generation: u64,
    phase: Phase,
    waker: Option<Waker>,
}

impl TimeoutCore {
    /// A scope not yet entered, with `deadline` (`None`: never fires).
    pub fn new(deadline: Option<Instant>) -> Self {
        Self::with_phase(deadline, Phase::Created)
    }

    /// A scope already in `phase`, with `deadline`: the core of a scope that
    /// ran without one until a handle was asked for.
    pub fn with_phase(deadline: Option<Instant>, phase: Phase) -> Self {
        Self {
            state: Mutex::new(State {
                deadline,
                generation: 0,
                phase,
                waker: None,
            }),
        }
    }

    /// The current deadline.
    pub fn when(&self) -> Option<Instant> {
        self.state.lock().deadline
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.state.lock().phase
    }

    /// Moves the deadline of an active scope and wakes it to re-arm.
    pub fn reschedule(&self, deadline: Option<Instant>) -> Result<(), RescheduleError> {
        let mut state = self.state.lock();
        match state.phase {
            Phase::Active => {}
            Phase::Expired | Phase::Finished if fault!(TimeoutRescheduleAfterClose) => {}
            Phase::Created => return Err(RescheduleError::NotEntered),
            Phase::Expired => return Err(RescheduleError::Expired),
            Phase::Finished => return Err(RescheduleError::Finished),
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TimeoutWakeBeforePublish) {
            let waker = state.waker.take();
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
            let mut state = self.state.lock();
            state.deadline = deadline;
            state.generation += 1;
            return Ok(());
        }
        state.deadline = deadline;
        state.generation += 1;
        let waker = state.waker.take();
        drop(state);
        let waker = waker.filter(|_| !fault!(TimeoutSkipWake));
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// The scope's view on a poll: enters it if needed, registers its waker,
    /// and returns the deadline with its generation.
    pub fn poll_deadline(&self, cx: &mut Context<'_>) -> (Option<Instant>, u64) {
        let mut state = self.state.lock();
        if state.phase == Phase::Created {
            state.phase = Phase::Active;
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            #[cfg(asyncio_loom)]
            Some(_) if mutant::on(Mutant::TimeoutKeepsFirstWaker) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        (state.deadline, state.generation)
    }

    /// Marks the scope entered (its body is about to run).
    pub fn enter(&self) {
        let mut state = self.state.lock();
        if state.phase == Phase::Created {
            state.phase = Phase::Active;
        }
    }

    /// Ends the scope because its body completed.
    pub fn finish(&self) {
        let mut state = self.state.lock();
        if state.phase == Phase::Active {
            state.phase = Phase::Finished;
        }
        state.waker = None;
    }

    /// Ends the scope because the deadline of `generation` passed. Refuses
    /// (returns `false`, the scope stays active) if a reschedule moved the
    /// deadline since the scope read it: that reschedule already returned
    /// `Ok`, so the scope must re-arm on the new deadline, not expire on the
    /// old one. The check and the phase change are one step under the lock,
    /// so a reschedule either lands before it (and is honoured) or after it
    /// (and is refused with `Expired`).
    pub fn expire(&self, generation: u64) -> bool {
        let mut state = self.state.lock();
        let moved = state.generation != generation;
        let moved = moved && !fault!(TimeoutExpireIgnoresGeneration);
        if state.phase != Phase::Active || moved {
            return false;
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TimeoutExpireSplitsCheck) {
            drop(state);
            state = self.state.lock();
        }
        state.phase = Phase::Expired;
        state.waker = None;
        true
    }
}

/// The slot of a scope's shared core, empty until the first handle is asked
/// for. See the module notes.
#[derive(Debug, Default)]
pub struct LazyCore {
    slot: Mutex<Option<Arc<TimeoutCore>>>,
}

impl LazyCore {
    /// The core, created from `seed` if no handle was asked for yet. Every
    /// caller gets the same core, however many threads ask at once.
    pub fn get_or_create(&self, seed: impl FnOnce() -> TimeoutCore) -> Arc<TimeoutCore> {
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::TimeoutLazyCoreSplitsCheck) {
            let existing = self.slot.lock().clone();
            if let Some(core) = existing {
                return core;
            }
            let core = Arc::new(seed());
            *self.slot.lock() = Some(core.clone());
            return core;
        }
        let mut slot = self.slot.lock();
        if fault!(TimeoutLazyCoreReplaced) {
            return slot.insert(Arc::new(seed())).clone();
        }
        slot.get_or_insert_with(|| Arc::new(seed())).clone()
    }

    /// The core, if a handle was ever asked for (a clone of the `Arc`).
    pub fn get(&self) -> Option<Arc<TimeoutCore>> {
        self.slot.lock().clone()
    }

    /// The core, if a handle was ever asked for, read without locking: the
    /// scope's own view on a poll.
    #[inline]
    pub fn get_mut(&mut self) -> Option<&TimeoutCore> {
        self.slot.get_mut().as_deref()
    }
}
