//! The runtime's side of a child, for the models of the task core: a spawned
//! child that one thread polls and another aborts, children's futures that
//! complete or panic on their first poll, and a report function that counts.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::task::{Context, Poll, Waker};

use asyncio::__cores::task::{Child, Report, TaskCore};
use asyncio::{TaskError, TaskId};
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex};

use crate::waker::Recorder;

/// A fresh core for one model iteration, as `try_spawn` builds it.
pub fn core<T, E>(report: Report<E>) -> Arc<TaskCore<T, E>> {
    Arc::new(TaskCore::new(asyncio::__cores::task_id(1), report))
}

/// Polls the waiter's side once with `waiter`'s waker.
pub fn poll_outcome<T, E>(
    core: &TaskCore<T, E>,
    waiter: &Recorder,
) -> Poll<Result<T, TaskError<E>>> {
    waiter.poll(|cx| core.poll_outcome(cx))
}

/// A spawned child as the runtime holds it. tokio's worker polls the task in
/// place ([`run`](Spawned::run)); an abort drops it, never during a poll
/// ([`abort`](Spawned::abort)). The lock gives exactly that exclusion.
#[derive(Debug)]
pub struct Spawned<F, T, E> {
    child: Mutex<Option<Running<F, T, E>>>,
}

/// A child the runtime has not dropped yet.
type Running<F, T, E> = Pin<Box<Child<F, T, E>>>;

impl<F, T, E> Spawned<F, T, E>
where
    F: Future<Output = Result<T, E>>,
    T: Send + 'static,
    E: Send + 'static,
{
    /// Wraps `future` in the crate's real [`Child`], publishing into `core`.
    pub fn new(future: F, core: Arc<TaskCore<T, E>>) -> Self {
        Self {
            child: Mutex::new(Some(Box::pin(Child::new(future, core)))),
        }
    }

    /// The runtime polls the child once, if it was not aborted. The models'
    /// children finish on their first poll, so nothing needs its waker.
    /// Returns whether the poll completed the child.
    pub fn run(&self) -> bool {
        let mut child = self.child.lock().unwrap();
        match child.as_mut() {
            Some(child) => child
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_ready(),
            None => false,
        }
    }

    /// The runtime aborts the child: takes it out and drops it (outside the
    /// lock, as a task's future is dropped outside the scheduler's locks).
    pub fn abort(&self) {
        let child = self.child.lock().unwrap().take();
        drop(child);
    }
}

/// A child's future that completes with `Ok(value)` on its first poll and
/// records when it is dropped, to check that whoever sees the outcome knows
/// the child's destructors have run.
#[derive(Debug)]
pub struct Completes<T> {
    value: Option<T>,
    dropped: Arc<AtomicBool>,
}

impl<T> Completes<T> {
    /// A future completing with `value`; `dropped` is set when it is dropped.
    pub fn new(value: T, dropped: Arc<AtomicBool>) -> Self {
        Self {
            value: Some(value),
            dropped,
        }
    }
}

impl<T: Unpin> Future for Completes<T> {
    type Output = Result<T, ()>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<T, ()>> {
        Poll::Ready(Ok(self
            .get_mut()
            .value
            .take()
            .expect("polled after completion")))
    }
}

impl<T> Drop for Completes<T> {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

/// The panic message of [`panics`].
pub const PANIC_MESSAGE: &str = "the child panicked";

/// A child's future that panics on its first poll. It unwinds with
/// `resume_unwind`, which skips the panic hook, so the models stay quiet.
pub fn panics<T, E>() -> impl Future<Output = Result<T, E>> {
    std::future::poll_fn(|_| std::panic::resume_unwind(Box::new(PANIC_MESSAGE)))
}

// Plain std atomic: a tally read after the model's threads are joined, not
// synchronisation under test. Models run one at a time (`--test-threads=1`,
// which the fault switch needs anyway), so one tally serves them all.
static REPORTS: StdAtomicUsize = StdAtomicUsize::new(0);

/// A [`Report`] function that counts the failures handed to it.
pub fn count_report<E>(_: TaskId, _: TaskError<E>) {
    REPORTS.fetch_add(1, StdOrdering::SeqCst);
}

/// Zeroes the tally of [`count_report`]; call it first in each iteration.
pub fn reset_reports() {
    REPORTS.store(0, StdOrdering::SeqCst);
}

/// How many failures [`count_report`] received since the last reset.
pub fn reports() -> usize {
    REPORTS.load(StdOrdering::SeqCst)
}

/// A child's future that never completes and panics when dropped (its
/// clean-up fails). It unwinds with `resume_unwind`, so the models stay
/// quiet.
#[derive(Debug)]
pub struct PanicsOnDrop;

/// The panic message of [`PanicsOnDrop`].
pub const DROP_PANIC_MESSAGE: &str = "the child's clean-up panicked";

impl Future for PanicsOnDrop {
    type Output = Result<u32, ()>;

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<u32, ()>> {
        Poll::Pending
    }
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        std::panic::resume_unwind(Box::new(DROP_PANIC_MESSAGE));
    }
}
