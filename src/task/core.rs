//! The completion core: where a spawned child publishes its outcome and where
//! the awaiting side finds it. Runtime-free; its sync types come from
//! `crate::sync` only, so the loom models in `loom-tests/` drive this code.
//!
//! Implementer's notes. One lock guards the whole state of a task: the
//! outcome slot, the waiter's waker, and two flags (the handle was dropped;
//! a cancel was requested). A task has three writers that can race:
//!
//! - the child's wrapper ([`Child`]) publishing a value, an error or a panic
//!   when the child's future completes;
//! - the wrapper's drop guard ([`Publisher`]) publishing "cancelled" when the
//!   runtime drops the wrapper before it completed (an abort, or runtime
//!   shutdown);
//! - the handle side: the waiter registering its waker, taking the outcome,
//!   requesting cancellation, or detaching (the `Task` was dropped).
//!
//! The first outcome published wins and is never overwritten: that is what
//! makes "completion beats cancellation" hold, since the guard's "cancelled"
//! arrives after a published value and is ignored. The child's future is
//! dropped *before* its outcome is published, so whoever sees the outcome
//! knows the child's destructors have run. Wakers are woken and user values
//! dropped after the lock is released. An error or panic that nobody can
//! observe any more (published after the handle detached, or still in the
//! slot when it detaches) is handed to the task's `report` function exactly
//! once: the loom models check "exactly once" under every interleaving.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::sync::{Arc, Mutex};
use crate::task::{Panic, TaskError, TaskId};

/// Where a task's unobservable failure goes (the crate passes the
/// unobserved-error hook; loom models pass a counter).
pub type Report<E> = fn(TaskId, TaskError<E>);

/// The shared state of one child task.
pub struct TaskCore<T, E> {
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
    /// The task ended by cancellation (kept after the outcome is taken).
    cancelled: bool,
    waker: Option<Waker>,
    /// The `Task` handle is gone: nobody will take the outcome.
    detached: bool,
    cancel_requested: bool,
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
            .field("cancelled", &state.cancelled)
            .field("detached", &state.detached)
            .field("cancel_requested", &state.cancel_requested)
            .finish()
    }
}

impl<T, E> TaskCore<T, E> {
    /// A core for a task that has not finished.
    pub fn new(id: TaskId, report: Report<E>) -> Self {
        Self {
            id,
            report,
            state: Mutex::new(State {
                slot: Slot::Running,
                cancelled: false,
                waker: None,
                detached: false,
                cancel_requested: false,
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
        let overwrite = {
            #[cfg(asyncio_loom)]
            {
                crate::sync::fault::on(crate::sync::fault::Fault::TaskCancelOverwritesValue)
                    && matches!(outcome, Err(TaskError::Cancelled))
                    && matches!(state.slot, Slot::Ready(_))
            }
            #[cfg(not(asyncio_loom))]
            false
        };
        if !matches!(state.slot, Slot::Running) && !overwrite {
            drop(state);
            drop(outcome);
            return false;
        }
        state.cancelled = matches!(outcome, Err(TaskError::Cancelled));
        if state.detached {
            state.slot = Slot::Taken;
            drop(state);
            self.report_if_failure(outcome);
            return true;
        }
        state.slot = Slot::Ready(outcome);
        let waker = state.waker.take();
        drop(state);
        #[cfg(asyncio_loom)]
        let waker =
            waker.filter(|_| !crate::sync::fault::on(crate::sync::fault::Fault::TaskSkipWake));
        if let Some(waker) = waker {
            waker.wake();
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
            Slot::Taken => panic!("asyncio: a task's outcome was taken twice"),
            Slot::Running => {
                state.slot = Slot::Running;
                match &state.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => state.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// The handle is gone: nobody will take the outcome. A failure already in
    /// the slot is reported now; one published later is reported then.
    pub fn detach(&self) {
        let mut state = self.state.lock();
        state.detached = true;
        let waker = state.waker.take();
        let outcome = match std::mem::replace(&mut state.slot, Slot::Taken) {
            Slot::Ready(outcome) => Some(outcome),
            other => {
                state.slot = other;
                None
            }
        };
        drop(state);
        drop(waker);
        if let Some(outcome) = outcome {
            #[cfg(asyncio_loom)]
            if crate::sync::fault::on(crate::sync::fault::Fault::TaskDetachForgetsFailure) {
                return;
            }
            self.report_if_failure(outcome);
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
            true
        } else {
            false
        }
    }

    /// Whether the task has finished (its outcome is published).
    pub fn is_done(&self) -> bool {
        !matches!(self.state.lock().slot, Slot::Running)
    }

    /// Whether the task finished by being cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.state.lock().cancelled
    }

    /// Whether a cancel was requested while the task was running.
    pub fn cancel_requested(&self) -> bool {
        self.state.lock().cancel_requested
    }

    fn report_if_failure(&self, outcome: Result<T, TaskError<E>>) {
        match outcome {
            Err(error @ (TaskError::Failed(_) | TaskError::Panicked(_))) => {
                (self.report)(self.id, error)
            }
            Ok(_) | Err(TaskError::Cancelled) => {}
        }
    }
}

/// The drop guard of a child: publishes "cancelled" if the child's wrapper is
/// dropped before it published an outcome (abort, runtime shutdown).
#[derive(Debug)]
pub struct Publisher<T, E> {
    core: Arc<TaskCore<T, E>>,
}

impl<T, E> Drop for Publisher<T, E> {
    fn drop(&mut self) {
        self.core.publish(Err(TaskError::Cancelled));
    }
}

pin_project_lite::pin_project! {
    /// The future the runtime runs for a child: polls the child's future,
    /// catches its panic, and publishes its outcome into the core.
    ///
    /// Field order matters: `future` is dropped before `publisher`, so the
    /// child's destructors have run when "cancelled" is published.
    #[must_use = "futures do nothing unless polled"]
    pub struct Child<F, T, E> {
        #[pin]
        future: Option<F>,
        publisher: Publisher<T, E>,
    }
}

impl<F, T, E> std::fmt::Debug for Child<F, T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child")
            .field("finished", &self.future.is_none())
            .field("core", &self.publisher.core)
            .finish()
    }
}

impl<F, T, E> Child<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    /// Wraps `future`, which will publish into `core`.
    pub fn new(future: F, core: Arc<TaskCore<T, E>>) -> Self {
        Self {
            future: Some(future),
            publisher: Publisher { core },
        }
    }
}

impl<F, T, E> Future for Child<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let mut outcome = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(value))) => Ok(value),
            Ok(Poll::Ready(Err(error))) => Err(TaskError::Failed(error)),
            Err(payload) => Err(TaskError::Panicked(Panic::new(payload))),
        };
        // Drop the child's future before anyone can see the outcome. A panic
        // in its destructor is a panic of the child and is not lost either.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| this.future.set(None))) {
            let core = &this.publisher.core;
            let panic = TaskError::Panicked(Panic::new(payload));
            match outcome {
                Err(TaskError::Panicked(_)) => (core.report)(core.id, panic),
                _ => outcome = Err(panic),
            }
        }
        this.publisher.core.publish(outcome);
        Poll::Ready(())
    }
}
