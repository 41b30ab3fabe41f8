//! The ready list: how a waiter over many children learns which ones
//! finished, without revisiting the others. Runtime-free; sync types from
//! `crate::sync` only, so the loom models drive it.
//!
//! Implementer's notes. This is the idea of `FuturesUnordered`: each child's
//! [`TaskCore`] has the list and the child's index as its listener
//! ([`TaskCore::listen`]: an `Arc` clone, no allocation, where
//! `FuturesUnordered` allocates a waker per future) and pushes the index,
//! which wakes the waiter, once, when it publishes. The waiter registers its waker and takes the pushed indices
//! in one step under the lock ([`ReadyList::drain`]), so a push that lands
//! after the drain finds the waker and wakes it: no lost wake-up. Draining N
//! completions costs O(N) in total, whatever the number of pending children.
//! A waiter that goes away without finishing (a dropped `wait` future)
//! [`unregister`](ReadyList::unregister)s, so no stale waker is woken; one
//! that is gone for good [`close`](ReadyList::close)s, so late pushes are
//! dropped instead of piling up.

use std::fmt;
use std::task::Waker;

#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::Mutex;
use crate::task::core::TaskCore;

/// What a waiter over many children needs from one child: its completion
/// core, and a way to cancel it. Dropping the handle detaches the child.
///
/// The crate implements it for [`Task`](crate::Task); the loom models
/// implement it over a child wrapper that another thread may be completing.
pub trait ChildHandle<T, E> {
    /// The child's completion core.
    fn task_core(&self) -> &TaskCore<T, E>;
    /// Requests cancellation; `false` if the child had already finished.
    fn cancel(&self) -> bool;
}

/// Indices of children that finished since the waiter last looked, and the
/// waiter's waker.
pub struct ReadyList {
    state: Mutex<State>,
}

struct State {
    ready: Vec<usize>,
    waker: Option<Waker>,
    closed: bool,
}

impl fmt::Debug for ReadyList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("ReadyList")
            .field("ready", &state.ready.len())
            .field("waiting", &state.waker.is_some())
            .field("closed", &state.closed)
            .finish()
    }
}

impl Default for ReadyList {
    fn default() -> Self {
        Self::new()
    }
}

impl ReadyList {
    /// An empty list with no waiter.
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State {
                ready: Vec::new(),
                waker: None,
                closed: false,
            }),
        }
    }

    /// Child `index` finished: queue it and wake the waiter.
    pub fn push(&self, index: usize) {
        let mut state = self.state.lock();
        if state.closed {
            return;
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::ReadyWakeBeforePush) {
            let waker = state.waker.take();
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
            self.state.lock().ready.push(index);
            return;
        }
        state.ready.push(index);
        let waker = state.waker.take();
        drop(state);
        let waker = waker.filter(|_| !fault!(ReadySkipWake));
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Registers the waiter's `waker` and moves the queued indices into
    /// `into` (emptied first), in one step.
    pub fn drain(&self, waker: &Waker, into: &mut Vec<usize>) {
        into.clear();
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::ReadyDrainSplitsRegister) {
            std::mem::swap(&mut self.state.lock().ready, into);
        }
        let mut state = self.state.lock();
        match &state.waker {
            Some(current) if current.will_wake(waker) => {}
            _ => state.waker = Some(waker.clone()),
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::ReadyDrainSplitsRegister) {
            return;
        }
        std::mem::swap(&mut state.ready, into);
    }

    /// Moves the queued indices into `into` without registering a waiter.
    pub fn take(&self, into: &mut Vec<usize>) {
        into.clear();
        std::mem::swap(&mut self.state.lock().ready, into);
    }

    /// The waiter stopped waiting (for now): forget its waker, keep the
    /// queued indices for the next waiter.
    pub fn unregister(&self) {
        if fault!(ReadyKeepsStaleWaker) {
            return;
        }
        let waker = self.state.lock().waker.take();
        drop(waker);
    }

    /// The waiter is gone for good: forget its waker and ignore later pushes.
    pub fn close(&self) {
        let mut state = self.state.lock();
        state.closed = true;
        let waker = state.waker.take();
        let ready = std::mem::take(&mut state.ready);
        drop(state);
        drop((waker, ready));
    }
}
