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

use std::task::{Context, Waker};

use tokio::time::Instant;

#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::Mutex;
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
        Self {
            state: Mutex::new(State {
                deadline,
                generation: 0,
                phase: Phase::Created,
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
            #[cfg(asyncio_loom)]
            Phase::Expired | Phase::Finished
                if crate::sync::fault::on(
                    crate::sync::fault::Fault::TimeoutRescheduleAfterClose,
                ) => {}
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
        #[cfg(asyncio_loom)]
        let waker =
            waker.filter(|_| !crate::sync::fault::on(crate::sync::fault::Fault::TimeoutSkipWake));
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
        #[cfg(asyncio_loom)]
        let moved = moved
            && !crate::sync::fault::on(crate::sync::fault::Fault::TimeoutExpireIgnoresGeneration);
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
