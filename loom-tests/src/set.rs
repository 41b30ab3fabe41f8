//! Helpers for the models of the task-set core and its ready list: a child
//! handle over the real task core, and a waker that notices a stale wake.

use std::sync::atomic::{AtomicBool as StdAtomicBool, Ordering as StdOrdering};
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};

use asyncio::__cores::ready::ChildHandle;
use asyncio::__cores::task::TaskCore;
use loom::sync::Arc;

/// The set's handle on one child, as `Task` is: cancelling only records the
/// request (the model's abort thread drops the child), dropping detaches.
#[derive(Debug)]
pub struct Handle<T, E> {
    core: Arc<TaskCore<T, E>>,
}

impl<T, E> Handle<T, E> {
    /// A handle on `core`.
    pub fn new(core: Arc<TaskCore<T, E>>) -> Self {
        Self { core }
    }
}

impl<T, E> ChildHandle<T, E> for Handle<T, E> {
    fn task_core(&self) -> &TaskCore<T, E> {
        &self.core
    }

    fn cancel(&self) -> bool {
        self.core.request_cancel()
    }
}

impl<T, E> Drop for Handle<T, E> {
    fn drop(&mut self) {
        self.core.detach();
    }
}

/// A waker that records whether it was woken after its owner stopped
/// waiting (a stale wake). Plain std atomics: loom runs one thread at a
/// time, and these are tallies read after the threads are joined.
#[derive(Debug, Default)]
pub struct StaleCheck {
    stopped: StdAtomicBool,
    stale: StdAtomicBool,
}

impl Wake for StaleCheck {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &StdArc<Self>) {
        if self.stopped.load(StdOrdering::SeqCst) {
            self.stale.store(true, StdOrdering::SeqCst);
        }
    }
}

impl StaleCheck {
    /// A fresh check and its waker.
    pub fn new() -> (StdArc<Self>, Waker) {
        let check = StdArc::new(Self::default());
        let waker = Waker::from(check.clone());
        (check, waker)
    }

    /// The owner stopped waiting: any wake from now on is stale.
    pub fn stop(&self) {
        self.stopped.store(true, StdOrdering::SeqCst);
    }

    /// Whether a stale wake happened.
    pub fn stale(&self) -> bool {
        self.stale.load(StdOrdering::SeqCst)
    }
}

/// Runs `poll` once with `waker`.
pub fn poll_with<R>(waker: &Waker, poll: impl FnOnce(&mut Context<'_>) -> Poll<R>) -> Poll<R> {
    poll(&mut Context::from_waker(waker))
}
