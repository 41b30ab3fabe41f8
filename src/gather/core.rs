//! The gather core: waits on many children's completion cores at once and
//! decides, as outcomes arrive, when the gather is finished. Runtime-free;
//! its sync types come from `crate::sync` only, so the loom models in
//! `loom-tests/tests/gather.rs` drive this code.
//!
//! Implementer's notes. Re-polling every child on each wake-up would make a
//! gather of N children O(N²), so the core works like `FuturesUnordered`:
//!
//! - The shared [`ReadyList`] holds the indices of finished children and the
//!   waiter's waker, under one lock. Each child's `TaskCore` gets, once, the
//!   list and the child's index as its listener (`TaskCore::take_or_listen`,
//!   which takes the outcome instead if the child has finished: an `Arc`
//!   clone, no allocation), and pushes the index when it publishes, so
//!   each child pushes its index at most once, and only the first push after
//!   the waiter parked wakes it (the push takes the waiter's waker).
//! - [`Gathering`], owned by the waiter (the gather future), holds the
//!   children's handles and the outcomes collected so far. Its first poll
//!   visits every child once, which registers the listeners (and collects
//!   children that finished before it); every later poll swaps the ready list
//!   out and visits only those indices. The waiter registers its waker
//!   *before* it swaps the list out, under the same lock, so a push that
//!   lands after the swap finds the waker and wakes it: no lost wake-up.
//!
//! What happens on an outcome depends on the [`Mode`]. In fail-fast mode the
//! first error or cancellation finishes the gather at once; the siblings keep
//! running and are detached "observed", so their later ordinary errors are
//! dropped quietly (asyncio behaviour 32) while their panics still reach the
//! unobserved-error hook. A panic (in any mode but return-exceptions) and any
//! failure in cancel-siblings mode instead start *joining*: every unfinished
//! sibling is cancelled, and the gather finishes only once each has published
//! its outcome, so the siblings' futures have been dropped by then. A panic
//! that arrives while joining replaces an ordinary failure as the one
//! returned (panics win); a second panic goes to `report`.
//!
//! With a grace period ([`Gathering::defer_abort`]), starting to join does
//! not abort anyone: the tokio layer cancels the children's token, and calls
//! [`Gathering::abort_unfinished`] for those still running when the period
//! is over. Joining itself is unchanged: the gather finishes once each
//! cancelled child has published.
//!
//! Dropping a `Gathering` before it finished cancels every unfinished child
//! (drop cannot wait: each stops at its next await point) and reports any
//! panic it collected but never returned.
//!
//! Why not the task set's core (`wait::core::SetCore`)? The synchronisation
//! is already shared: both wait on children through one [`ReadyList`] and
//! the task core's listener (`listen` for a set, `take_or_listen` for a
//! gather, one lock acquisition each), and that is the one loom surface
//! (the models of both drive it). What stays apart is bookkeeping with different shapes: a
//! gather has a fixed number of children at fixed positions and keeps their
//! *outcomes* in input order, while a set grows and shrinks, reuses slots,
//! and keeps finished *children* in completion order. Folding one into the
//! other would make gather pay for slot reuse and a completion queue it
//! never reads (gather runs at about half of JoinSet's cost), and would not
//! remove a line of synchronisation.

use std::fmt;
use std::task::{Context, Poll};

#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::Arc;
use crate::task::core::{discard, Report};
use crate::task::ready::{ChildHandle, ReadyList};
use crate::task::{TaskError, TaskId};

/// What the gather core needs of one child: a [`Task`](crate::Task) (through
/// its completion core), a `gather!` part (which hands out its value
/// type-erased, so `Task`s of different types share one gather), or a loom
/// model's handle.
pub trait GatherChild<T, E> {
    /// The child's id.
    fn id(&self) -> TaskId;
    /// As [`TaskCore::take_or_listen`](crate::task::core::TaskCore::take_or_listen).
    fn take_or_listen(
        &self,
        list: &Arc<ReadyList>,
        index: usize,
    ) -> Option<Result<T, TaskError<E>>>;
    /// As [`TaskCore::try_take`](crate::task::core::TaskCore::try_take).
    fn try_take(&self) -> Option<Result<T, TaskError<E>>>;
    /// Whether the child has published its outcome.
    fn is_done(&self) -> bool;
    /// As [`TaskCore::mark_observed`](crate::task::core::TaskCore::mark_observed).
    fn mark_observed(&self);
    /// As [`TaskCore::detach_observed`](crate::task::core::TaskCore::detach_observed).
    fn detach_observed(&self);
    /// Requests cancellation; `false` if the child had already finished.
    fn cancel(&self) -> bool;
}

impl<T, E> GatherChild<T, E> for crate::task::Task<T, E> {
    fn id(&self) -> TaskId {
        self.task_core().id()
    }
    fn take_or_listen(
        &self,
        list: &Arc<ReadyList>,
        index: usize,
    ) -> Option<Result<T, TaskError<E>>> {
        self.task_core().take_or_listen(list, index)
    }
    fn try_take(&self) -> Option<Result<T, TaskError<E>>> {
        self.task_core().try_take()
    }
    fn is_done(&self) -> bool {
        self.task_core().is_done()
    }
    fn mark_observed(&self) {
        self.task_core().mark_observed()
    }
    fn detach_observed(&self) {
        self.task_core().detach_observed()
    }
    fn cancel(&self) -> bool {
        ChildHandle::cancel(self)
    }
}

/// How a gather treats a child that ends without a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The first error or cancellation finishes the gather; siblings keep
    /// running (asyncio's default). A panic cancels and joins the siblings.
    FailFast,
    /// The first failure (error, cancellation or panic) cancels the siblings;
    /// the gather finishes once they all have.
    CancelSiblings,
    /// Every outcome is collected as a value (`return_exceptions=True`).
    ReturnExceptions,
    /// A race: the first child to finish, in any way, wins; the others are
    /// cancelled, and the race finishes once they all have.
    Race,
    /// A race for the first success: the first child to produce a value
    /// wins and the others are cancelled and joined. Errors and
    /// cancellations are kept until every child has failed. A panic cancels
    /// and joins the others, and is returned as the failure.
    RaceOk,
}

/// Every child's outcome, in input order.
pub type Outcomes<T, E> = Vec<Result<T, TaskError<E>>>;

/// What a finished gather yields.
#[derive(Debug)]
pub enum Finished<T, E> {
    /// Every child produced a value (fail-fast and cancel-siblings modes).
    Values(Vec<T>),
    /// Every child's outcome, in input order (return-exceptions mode).
    Outcomes(Vec<Result<T, TaskError<E>>>),
    /// The winner of a race: its index and how it ended (a value, in
    /// [`Mode::RaceOk`]).
    Won {
        /// The child's index in the input.
        index: usize,
        /// Its outcome.
        outcome: Result<T, TaskError<E>>,
    },
    /// Every child of a [`Mode::RaceOk`] race failed: each failure (error
    /// or cancellation), in input order.
    NoneSucceeded(Vec<(usize, TaskError<E>)>),
    /// The failure that ended the gather: the child's index and how it ended.
    Failed {
        /// The child's index in the input.
        index: usize,
        /// How it ended.
        error: TaskError<E>,
    },
}

/// The waiter's side of a gather: the children, the outcomes collected so
/// far, and the decision of when the gather is finished.
pub struct Gathering<T, E, H: GatherChild<T, E>> {
    shared: Arc<ReadyList>,
    /// Each collected child's id, to name it in a report after its handle
    /// is gone. Read from the child's core when its outcome is taken (the
    /// core is in cache then; reading every id up front would touch each
    /// core once more, a cache miss per child at 100k), so an entry is 0
    /// until then (ids start at 1; zeroed memory costs no pass either).
    /// Only collected children are ever named: a report names a child by
    /// an outcome the gather holds.
    ids: Vec<u64>,
    /// `None` once the child's outcome was collected (or it was detached).
    children: Vec<Option<H>>,
    /// Whether each child's core already has the ready list as listener.
    listening: Vec<bool>,
    /// Outcomes kept for the result: values, the selected failure, and in
    /// return-exceptions mode everything.
    outcomes: Vec<Option<Result<T, TaskError<E>>>>,
    unfinished: usize,
    mode: Mode,
    /// The index of the failure that will be returned, once one is chosen.
    failure: Option<usize>,
    /// A race's winner, once one is chosen (its outcome is in `outcomes`).
    winner: Option<usize>,
    /// The siblings were cancelled; the gather waits for all of them.
    joining: bool,
    /// The whole gather was cancelled (`cancel_all`): outcomes are dropped.
    cancelling: bool,
    /// Cancelling waits for the tokio layer's grace period: joining and
    /// `cancel_all` do not abort the children themselves; the layer calls
    /// [`abort_unfinished`](Gathering::abort_unfinished) when it expires.
    deferred_abort: bool,
    started: bool,
    finished: bool,
    /// The ready list swapped out of `shared`, kept for its capacity.
    batch: Vec<usize>,
    /// Fail-fast: the siblings still running when the gather returned its
    /// failure, with their indices, for [`take_pending`](Gathering::take_pending).
    pending: Vec<(usize, H)>,
    report: Report<E>,
}

impl<T, E, H: GatherChild<T, E>> fmt::Debug for Gathering<T, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gathering")
            .field("children", &self.children.len())
            .field("unfinished", &self.unfinished)
            .field("mode", &self.mode)
            .field("failure", &self.failure)
            .field("joining", &self.joining)
            .field("finished", &self.finished)
            .finish()
    }
}

impl<T, E, H: GatherChild<T, E>> Gathering<T, E, H> {
    /// Gathers `children` (already running) in `mode`. `report` receives a
    /// panic that nobody will observe (a second panic while joining, or one
    /// collected by a gather that was then dropped or cancelled).
    pub fn new(children: Vec<H>, mode: Mode, report: Report<E>) -> Self {
        Self::from_slots(children.into_iter().map(Some).collect(), mode, report)
    }

    /// [`new`](Gathering::new) over children already in their slots (every
    /// one `Some`), as the spawning side builds them: wrapping 100k handles
    /// afterwards would be one more pass over them.
    pub fn from_slots(children: Vec<Option<H>>, mode: Mode, report: Report<E>) -> Self {
        debug_assert!(children.iter().all(Option::is_some));
        let len = children.len();
        Self {
            shared: Arc::new(ReadyList::new()),
            ids: vec![0; len],
            children,
            listening: vec![false; len],
            outcomes: std::iter::repeat_with(|| None).take(len).collect(),
            unfinished: len,
            mode,
            failure: None,
            winner: None,
            joining: false,
            cancelling: false,
            deferred_abort: false,
            started: false,
            finished: false,
            batch: Vec::new(),
            pending: Vec::new(),
            report,
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Changes the mode. Only meaningful before the first poll.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// Defers aborting: when the gather starts cancelling children (joining,
    /// or `cancel_all`), it leaves them running until
    /// [`abort_unfinished`](Gathering::abort_unfinished), so that they can
    /// stop on their own during a grace period. Set before the first poll.
    pub fn defer_abort(&mut self) {
        self.deferred_abort = true;
    }

    /// Whether the gather is cancelling children and waiting for them to
    /// finish (a failure in cancel-siblings mode, a panic, or `cancel_all`).
    pub fn is_cancelling_children(&self) -> bool {
        (self.joining || self.cancelling) && !self.finished
    }

    /// Aborts every child that has not finished (the grace period is over).
    pub fn abort_unfinished(&self) {
        for child in self.children.iter().flatten() {
            child.cancel();
        }
    }

    /// The ids of the children whose outcomes were collected, in input
    /// order (an id is a placeholder for a child never collected: after
    /// [`poll_cancelled`](Gathering::poll_cancelled) returned outcomes,
    /// every child was).
    pub fn ids(&self) -> Vec<TaskId> {
        self.ids.iter().map(|&raw| TaskId::from_raw(raw)).collect()
    }

    /// Child `index`'s id, once its outcome was collected.
    fn id(&self, index: usize) -> TaskId {
        TaskId::from_raw(self.ids[index])
    }

    /// Where the gather reports what nobody will observe.
    pub fn report(&self) -> Report<E> {
        self.report
    }

    /// Whether the gather was polled at least once.
    pub fn started(&self) -> bool {
        self.started
    }

    /// How many children have not published an outcome yet (as far as the
    /// waiter has seen).
    pub fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// Polls for the gather's result.
    ///
    /// # Panics
    ///
    /// If polled again after it returned `Ready`.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Finished<T, E>> {
        assert!(!self.finished, "asyncio: gather polled after it completed");
        self.collect_ready(cx);
        let joining = self.joining && !fault!(GatherSkipsJoin);
        #[cfg(asyncio_loom)]
        let joining = joining && !mutant::on(Mutant::RaceReturnsBeforeLosersFinish);
        let chosen = self.failure.is_some() || self.winner.is_some();
        let done = (chosen && !joining) || self.unfinished == 0;
        if done {
            Poll::Ready(self.finish())
        } else {
            Poll::Pending
        }
    }

    /// Cancels every unfinished child, for
    /// [`poll_cancelled`](Gathering::poll_cancelled) to wait until each has
    /// finished. Returns whether any child was still running (asyncio's
    /// `gather.cancel()`, behaviours 23 and 26). From now on every outcome
    /// is dropped: ordinary ones quietly, panics to `report`.
    pub fn cancel_all(&mut self) -> bool {
        if self.finished {
            return false;
        }
        self.cancelling = true;
        if self.deferred_abort {
            return self.children.iter().flatten().any(|child| !child.is_done());
        }
        let mut any = false;
        for child in self.children.iter().flatten() {
            any |= child.cancel();
        }
        any
    }

    /// After [`cancel_all`](Gathering::cancel_all): ready once every child
    /// has published its outcome, so their futures have been dropped, with
    /// every child's outcome in input order (those that finished before
    /// the cancel included: asyncio behaviour 26 keeps their results), or
    /// `None` if the gather had already completed (its result went to
    /// whoever awaited it).
    pub fn poll_cancelled(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outcomes<T, E>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        self.collect_ready(cx);
        if self.unfinished > 0 {
            return Poll::Pending;
        }
        self.finished = true;
        self.shared.close();
        let outcomes = std::mem::take(&mut self.outcomes)
            .into_iter()
            .map(|outcome| outcome.expect("asyncio: a cancelled gather lost a child's outcome"))
            .collect();
        Poll::Ready(Some(outcomes))
    }

    /// After a fail-fast failure: the siblings that were still running
    /// when the gather returned it, with their indices, in input order
    /// (asyncio's caller still holds every task, behaviour 18). Empty
    /// otherwise, and after the first call. A sibling's later ordinary
    /// failure stays quiet if its handle is dropped unread (32).
    pub fn take_pending(&mut self) -> Vec<(usize, H)> {
        std::mem::take(&mut self.pending)
    }

    /// Registers the waiter and visits the children that are ready (every
    /// child on the first call). Stops early when a fail-fast failure means
    /// the gather must finish now.
    fn collect_ready(&mut self, cx: &mut Context<'_>) {
        let mut batch = std::mem::take(&mut self.batch);
        #[cfg(asyncio_loom)]
        if self.started && mutant::on(Mutant::GatherRegistersOnFirstPollOnly) {
            self.shared.take(&mut batch);
        } else {
            self.shared.drain(cx.waker(), &mut batch);
        }
        #[cfg(not(asyncio_loom))]
        self.shared.drain(cx.waker(), &mut batch);
        let mut stop = false;
        if !self.started {
            // The first poll visits every child: that registers the index
            // wakers, and collects those that finished already. Indices
            // pushed meanwhile are visited again harmlessly below.
            self.started = true;
            for index in 0..self.children.len() {
                if self.visit(index) {
                    stop = true;
                    break;
                }
            }
        }
        if !stop {
            for &index in &batch {
                if self.visit(index) {
                    break;
                }
            }
        }
        batch.clear();
        self.batch = batch;
    }

    /// Hands every panic collected but never returned to `report`, and
    /// drops the other outcomes (see [`discard`]).
    fn report_kept_panics(&mut self) {
        for (index, outcome) in std::mem::take(&mut self.outcomes).into_iter().enumerate() {
            match outcome {
                Some(Err(error @ TaskError::Panicked(_))) => (self.report)(self.id(index), error),
                outcome => self.discard(index, outcome),
            }
        }
    }

    /// Drops an outcome of child `index` that nobody will see; a panic from
    /// its destructor goes to `report`, as the child's panic.
    fn discard<V>(&self, index: usize, outcome: V) {
        discard(self.report, self.id(index), outcome);
    }

    /// Looks at child `index`; collects its outcome if it has one. Returns
    /// `true` if the gather must finish now (fail-fast on a failure).
    fn visit(&mut self, index: usize) -> bool {
        let Some(child) = &self.children[index] else {
            return false;
        };
        let core = child;
        let outcome = if self.listening[index] {
            // A pushed index means the child published. An index visited at
            // the first poll and pushed as well finds its outcome already
            // taken.
            core.try_take()
        } else {
            // First visit: take the outcome if the child has finished (on a
            // current-thread runtime it usually has), or listen, in one step,
            // so a completion in between is either found now or pushed later.
            self.listening[index] = true;
            core.take_or_listen(&self.shared, index)
        };
        let Some(outcome) = outcome else {
            return false;
        };
        self.ids[index] = core.id().as_u64();
        // The child's core is empty now: dropping its handle detaches
        // nothing.
        self.children[index] = None;
        self.unfinished -= 1;
        self.collect(index, outcome)
    }

    fn collect(&mut self, index: usize, outcome: Result<T, TaskError<E>>) -> bool {
        let panicked = matches!(outcome, Err(TaskError::Panicked(_)));
        let failed = outcome.is_err();
        if self.cancelling {
            // Kept for the cancel's caller, who gets every outcome back.
            self.outcomes[index] = Some(outcome);
            return false;
        }
        if self.mode == Mode::ReturnExceptions {
            self.outcomes[index] = Some(outcome);
            return false;
        }
        if matches!(self.mode, Mode::Race | Mode::RaceOk) {
            self.collect_race(index, outcome);
            return false;
        }
        if self.joining {
            // Siblings finishing after the failure was chosen: a panic
            // outranks an ordinary failure; anything else is dropped quietly.
            let chosen_is_panic = self
                .failure
                .and_then(|chosen| self.outcomes[chosen].as_ref())
                .is_some_and(|chosen| matches!(chosen, Err(TaskError::Panicked(_))));
            if panicked && !chosen_is_panic {
                self.failure = Some(index);
            }
            // Kept until the gather finishes (a cancel hands every outcome
            // back); one not returned then is dropped, a panic reported.
            self.outcomes[index] = Some(outcome);
            return false;
        }
        if !failed {
            self.outcomes[index] = Some(outcome);
            return false;
        }
        self.failure = Some(index);
        self.outcomes[index] = Some(outcome);
        if panicked || self.mode == Mode::CancelSiblings {
            self.joining = true;
            let deferred = self.deferred_abort && !fault!(GatherGraceAbortsAtOnce);
            if !deferred {
                self.abort_unfinished();
            }
            return false;
        }
        true
    }

    /// A race's outcome: the first to finish (in [`Mode::RaceOk`], the
    /// first value, or a panic) is chosen and the others are cancelled;
    /// what finishes after that is a loser's, dropped (a panic reported).
    fn collect_race(&mut self, index: usize, outcome: Result<T, TaskError<E>>) {
        let panicked = matches!(outcome, Err(TaskError::Panicked(_)));
        if self.joining {
            match outcome {
                Err(error @ TaskError::Panicked(_)) => (self.report)(self.id(index), error),
                outcome => self.discard(index, outcome),
            }
            return;
        }
        if self.mode == Mode::RaceOk && panicked {
            self.failure = Some(index);
        } else if self.mode == Mode::Race || outcome.is_ok() {
            self.winner = Some(index);
        } else {
            // A failure in a race for the first success: kept for the
            // report if every child fails.
            self.outcomes[index] = Some(outcome);
            return;
        }
        self.outcomes[index] = Some(outcome);
        self.joining = true;
        let deferred = self.deferred_abort && !fault!(GatherGraceAbortsAtOnce);
        if !deferred {
            self.abort_unfinished();
        }
    }

    /// Builds the result and detaches what is left.
    fn finish(&mut self) -> Finished<T, E> {
        self.finished = true;
        self.shared.close();
        // Fail-fast: the siblings run on; their later errors are quiet
        // (behaviour 32) unless someone takes them back and awaits them.
        for (index, child) in self.children.iter_mut().enumerate() {
            if let Some(child) = child.take() {
                child.mark_observed();
                self.pending.push((index, child));
            }
        }
        let mut outcomes = std::mem::take(&mut self.outcomes);
        if let Some(index) = self.failure {
            let error = match outcomes[index].take() {
                Some(Err(error)) => error,
                _ => unreachable!("asyncio: gather's chosen failure is not a failure"),
            };
            // The siblings' outcomes are not returned: a panic among them
            // (a second panic while joining) goes to `report`; the rest are
            // dropped, and a panic from a value's destructor must not
            // replace the failure being returned.
            for (sibling, outcome) in outcomes.into_iter().enumerate() {
                match outcome {
                    Some(Err(error @ TaskError::Panicked(_))) => {
                        if fault!(GatherForgetsLaterPanic) {
                            continue;
                        }
                        (self.report)(self.id(sibling), error)
                    }
                    outcome => self.discard(sibling, outcome),
                }
            }
            return Finished::Failed { index, error };
        }
        if let Some(index) = self.winner {
            let outcome = outcomes[index]
                .take()
                .expect("asyncio: a race's winner has no outcome");
            for (loser, outcome) in outcomes.into_iter().enumerate() {
                self.discard(loser, outcome);
            }
            return Finished::Won { index, outcome };
        }
        if self.mode == Mode::RaceOk {
            let failures = outcomes
                .into_iter()
                .enumerate()
                .map(|(index, outcome)| match outcome {
                    Some(Err(error)) => (index, error),
                    _ => unreachable!("asyncio: a race without a winner kept a value"),
                })
                .collect();
            return Finished::NoneSucceeded(failures);
        }
        let outcomes = outcomes
            .into_iter()
            .map(|outcome| outcome.expect("asyncio: gather finished with a child outcome missing"));
        match self.mode {
            Mode::ReturnExceptions => Finished::Outcomes(outcomes.collect()),
            Mode::Race | Mode::RaceOk => {
                unreachable!("asyncio: a race finished without a winner")
            }
            Mode::FailFast | Mode::CancelSiblings => Finished::Values(
                outcomes
                    .map(|outcome| match outcome {
                        Ok(value) => value,
                        Err(_) => unreachable!("asyncio: gather collected an unchosen failure"),
                    })
                    .collect(),
            ),
        }
    }
}

impl<T, E, H: GatherChild<T, E>> Drop for Gathering<T, E, H> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.shared.close();
        // Drop cannot wait: every unfinished child is aborted and stops at
        // its next await point, after this returns.
        let abort = !fault!(GatherDropSkipsAbort);
        for child in self.children.iter_mut() {
            if let Some(child) = child.take() {
                if abort {
                    child.cancel();
                }
                // Whatever it ended with was the gather's to observe, and the
                // gather was abandoned: an error is quiet, a panic reported.
                child.detach_observed();
            }
        }
        // A panic collected but never returned is not lost either.
        self.report_kept_panics();
    }
}
