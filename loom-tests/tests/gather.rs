//! loom models of the gather core (`asyncio::__cores::gather`): the crate's
//! real `Gathering` waiting on real `TaskCore`s fed by real `Child` wrappers,
//! with the runtime's actions as loom threads (a worker polling a child; an
//! abort dropping it) and the waiter on the main thread, checked for
//! liveness with a recording waker.
//!
//! Every model has a calibration twin: the same model with a fault switched
//! on inside the real cores, which must make the model's own assertion fail.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose: attributes
//! after a crate-level `cfg` that is off are stripped with the crate, and
//! the workspace's `missing_docs` lint would then fail the plain (non-loom)
//! `cargo clippy --workspace --all-targets -- -D warnings`.
#![cfg(asyncio_loom)]

use std::future::{pending, ready, Future};
use std::pin::Pin;
use std::task::Poll;

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::gather::{Finished, GatherChild, Gathering, Mode};
use asyncio::__cores::ready::ReadyList;
use asyncio::__cores::task::TaskCore;
use asyncio::{TaskError, TaskId};
use loom::sync::Arc;
use loom::thread;
use loom_tests::task::{count_report, panics, reports, reset_reports, Spawned, PANIC_MESSAGE};
use loom_tests::waker::Recorder;

const NOT_WOKEN: &str = "the gather's waiter was not woken";
const NOT_ABORTED: &str = "an unfinished child was not aborted when the gather was dropped";
const PANIC_LOST: &str = "a child's panic was neither resumed nor reported";

type ChildFuture = Pin<Box<dyn Future<Output = Result<u32, u32>> + Send>>;

/// The runtime's hold on a spawned child.
type Runtime = Arc<Spawned<ChildFuture, u32, u32>>;

/// One gathered child: its core, and the runtime's hold on its wrapper.
/// Cancelling it is what `Task::cancel` does: record the request, then
/// abort (drop the wrapper, here on the cancelling thread, racing the
/// worker that polls it). Dropping it detaches it, as dropping a `Task`.
struct Gathered {
    core: Arc<TaskCore<u32, u32>>,
    spawned: Runtime,
    /// Whether cancelling drops the wrapper on the cancelling thread. When
    /// `false`, cancelling only records the request, and a model thread
    /// plays the runtime that drops the wrapper later, as tokio's abort
    /// does asynchronously.
    abort_in_place: bool,
}

impl GatherChild<u32, u32> for Gathered {
    fn id(&self) -> TaskId {
        self.core.id()
    }

    fn take_or_listen(
        &self,
        list: &Arc<ReadyList>,
        index: usize,
    ) -> Option<Result<u32, TaskError<u32>>> {
        self.core.take_or_listen(list, index)
    }

    fn try_take(&self) -> Option<Result<u32, TaskError<u32>>> {
        self.core.try_take()
    }

    fn is_done(&self) -> bool {
        self.core.is_done()
    }

    fn mark_observed(&self) {
        self.core.mark_observed()
    }

    fn detach_observed(&self) {
        self.core.detach_observed()
    }

    fn cancel(&self) -> bool {
        let requested = self.core.request_cancel();
        if requested && self.abort_in_place {
            self.spawned.abort();
        }
        requested
    }
}

impl Drop for Gathered {
    fn drop(&mut self) {
        self.core.detach();
    }
}

/// Spawns a child around `future`: the handle for the gather, and the
/// runtime's side for a worker thread.
fn child(id: u64, future: ChildFuture) -> (Gathered, Runtime, Arc<TaskCore<u32, u32>>) {
    let core = Arc::new(TaskCore::new(
        asyncio::__cores::task_id(id),
        count_report::<u32>,
    ));
    let spawned = Arc::new(Spawned::new(future, core.clone()));
    let handle = Gathered {
        core: core.clone(),
        spawned: spawned.clone(),
        abort_in_place: true,
    };
    (handle, spawned, core)
}

/// Runs `spawned` once on a new loom thread, as a worker would.
fn worker(spawned: Runtime) -> thread::JoinHandle<bool> {
    thread::spawn(move || spawned.run())
}

/// Polls the gather once the threads are joined, as an executor would: the
/// last poll may have raced the children; if it was pending, the waiter
/// must have been woken since, and each wake polls it again.
fn finish(
    gathering: &mut Gathering<u32, u32, Gathered>,
    waiter: &Recorder,
    last: Poll<Finished<u32, u32>>,
) -> Finished<u32, u32> {
    waiter.settle(last, |cx| gathering.poll(cx), NOT_WOKEN)
}

/// Two children complete on two workers while the waiter polls for the
/// first time (registering its index wakers). Whatever the interleaving,
/// the waiter is woken if it parked, and gets both values in input order.
fn children_complete_concurrently_with_the_waiter() {
    loom::model(|| {
        reset_reports();
        let (first, first_run, _) = child(1, Box::pin(ready(Ok(10))));
        let (second, second_run, _) = child(2, Box::pin(ready(Ok(11))));
        let mut gathering = Gathering::new(vec![first, second], Mode::FailFast, count_report);
        let a = worker(first_run);
        let b = worker(second_run);

        let waiter = Recorder::new();
        let poll = waiter.poll(|cx| gathering.poll(cx));
        assert!(a.join().unwrap() && b.join().unwrap());

        match finish(&mut gathering, &waiter, poll) {
            Finished::Values(values) => assert_eq!(values, vec![10, 11]),
            other => panic!("unexpected result {other:?}"),
        }
        assert_eq!(reports(), 0);
    });
}

#[test]
fn children_complete_concurrently_with_the_waiter_model() {
    children_complete_concurrently_with_the_waiter();
}

#[test]
#[should_panic(expected = "the gather's waiter was not woken")]
fn children_complete_concurrently_with_the_waiter_twin_first_visit_splits_take() {
    fault::with(
        Fault::GatherFirstVisitSplitsTake,
        children_complete_concurrently_with_the_waiter,
    );
}

#[test]
#[should_panic(expected = "the gather's waiter was not woken")]
fn children_complete_concurrently_with_the_waiter_twin_skip_wake() {
    fault::with(
        Fault::ReadySkipWake,
        children_complete_concurrently_with_the_waiter,
    );
}

/// The waiter polls once and is dropped while a worker completes the first
/// child; the second child never completes on its own. Every child ends:
/// the first with its value or cancelled (the abort raced its completion;
/// a value is never overwritten), the second cancelled by the drop. No
/// outcome reaches the report, and loom's leak check sees every `Arc`
/// (cores, shared state, wakers) freed.
fn waiter_dropped_while_children_complete() {
    loom::model(|| {
        reset_reports();
        let (first, first_run, first_core) = child(1, Box::pin(ready(Ok(10))));
        let (second, _second_run, second_core) = child(2, Box::pin(pending()));
        let mut gathering = Gathering::new(vec![first, second], Mode::FailFast, count_report);
        let waiter = Recorder::new();
        assert!(waiter.poll(|cx| gathering.poll(cx)).is_pending());

        let a = worker(first_run);
        drop(gathering);
        let completed = a.join().unwrap();

        assert!(second_core.is_done(), "{NOT_ABORTED}");
        assert!(second_core.is_cancelled());
        assert!(first_core.is_done(), "{NOT_ABORTED}");
        assert_eq!(
            first_core.is_cancelled(),
            !completed,
            "a completed child's value was overwritten by the abort"
        );
        assert_eq!(reports(), 0);
    });
}

#[test]
fn waiter_dropped_while_children_complete_model() {
    waiter_dropped_while_children_complete();
}

#[test]
#[should_panic(expected = "an unfinished child was not aborted when the gather was dropped")]
fn waiter_dropped_while_children_complete_twin_skip_abort() {
    fault::with(
        Fault::GatherDropSkipsAbort,
        waiter_dropped_while_children_complete,
    );
}

/// Fail-fast, an error (child 0) races a panic (child 1). Whichever the
/// waiter sees first is the gather's result, and the other is accounted for:
/// if the error won, the gather returned at once, leaving the panicking
/// sibling running (detached when the gather is dropped, nobody having
/// taken it back), and its panic is reported exactly once; if the panic
/// won, the sibling was cancelled and joined and its error dropped quietly.
fn error_races_panic() {
    loom::model(|| {
        reset_reports();
        let (failing, failing_run, _) = child(1, Box::pin(ready(Err(7))));
        let (panicking, panicking_run, _) = child(2, Box::pin(panics()));
        let mut gathering = Gathering::new(vec![failing, panicking], Mode::FailFast, count_report);
        let a = worker(failing_run);
        let b = worker(panicking_run);

        let waiter = Recorder::new();
        let poll = waiter.poll(|cx| gathering.poll(cx));
        a.join().unwrap();
        b.join().unwrap();

        let finished = finish(&mut gathering, &waiter, poll);
        // The gather future is dropped once it returned: a sibling it kept
        // for `take_pending` and nobody took is detached then.
        drop(gathering);
        match finished {
            Finished::Failed {
                index: 0,
                error: TaskError::Failed(7),
            } => assert_eq!(reports(), 1, "{PANIC_LOST}"),
            Finished::Failed {
                index: 1,
                error: TaskError::Panicked(panic),
            } => {
                assert_eq!(panic.message(), PANIC_MESSAGE);
                assert_eq!(reports(), 0, "the sibling's error was not dropped quietly");
            }
            other => panic!("unexpected result {other:?}"),
        }
    });
}

#[test]
fn error_races_panic_model() {
    error_races_panic();
}

#[test]
#[should_panic(expected = "a child's panic was neither resumed nor reported")]
fn error_races_panic_twin_quiet_detach_drops_panic() {
    fault::with(Fault::TaskQuietDropsPanic, error_races_panic);
}

/// Two children panic on two workers. Exactly one panic is the gather's
/// result; the other reaches the report exactly once, whether it arrived in
/// the same batch or while the gather joined its cancelled sibling.
fn two_panics_race() {
    loom::model(|| {
        reset_reports();
        let (left, left_run, _) = child(1, Box::pin(panics()));
        let (right, right_run, _) = child(2, Box::pin(panics()));
        let mut gathering = Gathering::new(vec![left, right], Mode::FailFast, count_report);
        let a = worker(left_run);
        let b = worker(right_run);

        let waiter = Recorder::new();
        let poll = waiter.poll(|cx| gathering.poll(cx));
        let left_completed = a.join().unwrap();
        let right_completed = b.join().unwrap();

        match finish(&mut gathering, &waiter, poll) {
            Finished::Failed {
                index,
                error: TaskError::Panicked(_),
            } => {
                assert!(index < 2);
                // The sibling panicked too unless the gather's abort reached
                // it first (then it was cancelled, and there is no panic).
                let both = left_completed && right_completed;
                assert_eq!(reports(), usize::from(both), "{PANIC_LOST}");
            }
            other => panic!("unexpected result {other:?}"),
        }
    });
}

#[test]
fn two_panics_race_model() {
    two_panics_race();
}

#[test]
#[should_panic(expected = "a child's panic was neither resumed nor reported")]
fn two_panics_race_twin_forgets_later_panic() {
    fault::with(Fault::GatherForgetsLaterPanic, two_panics_race);
}

/// `cancel_all` then `poll_cancelled` (the structured `Gather::cancel`): the
/// abort of a child that a worker is completing races that completion. The
/// waiter is woken if it parked, and is ready only once every child's
/// outcome is published.
fn cancel_waits_for_every_child() {
    loom::model(|| {
        reset_reports();
        let (first, first_run, first_core) = child(1, Box::pin(ready(Ok(10))));
        let (second, _second_run, second_core) = child(2, Box::pin(pending()));
        let mut gathering = Gathering::new(vec![first, second], Mode::FailFast, count_report);
        let waiter = Recorder::new();
        assert!(waiter.poll(|cx| gathering.poll(cx)).is_pending());

        let a = worker(first_run);
        assert!(gathering.cancel_all(), "a running child was cancelled");
        let poll = waiter.poll(|cx| gathering.poll_cancelled(cx));
        if poll.is_ready() {
            assert!(first_core.is_done() && second_core.is_done());
        }
        a.join().unwrap();
        let outcomes = waiter.settle(poll, |cx| gathering.poll_cancelled(cx), NOT_WOKEN);
        assert!(first_core.is_done() && second_core.is_done());
        // Every outcome comes back: the first child's value if it won the
        // race with the cancel, and the cancellations.
        match outcomes.as_deref() {
            Some([Ok(10) | Err(TaskError::Cancelled), Err(TaskError::Cancelled)]) => {}
            other => panic!("unexpected outcomes {other:?}"),
        }
        drop(gathering);
        assert_eq!(reports(), 0);
    });
}

#[test]
fn cancel_waits_for_every_child_model() {
    cancel_waits_for_every_child();
}

#[test]
#[should_panic(expected = "the gather's waiter was not woken")]
fn cancel_waits_for_every_child_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, cancel_waits_for_every_child);
}

/// Cancel-siblings: a worker fails child 0 while the runtime, on another
/// thread, drops (aborts) the never-ending child 1 at any moment. Cancelling
/// only requests the abort, as tokio's does. Whichever failure the gather
/// chooses (child 0's error, or child 1's cancellation), it returns only
/// once every child has published its outcome: structured means joined.
fn cancel_siblings_returns_only_once_joined() {
    loom::model(|| {
        reset_reports();
        let (failing, failing_run, failing_core) = child(1, Box::pin(ready(Err(7))));
        let (mut endless, endless_run, endless_core) = child(2, Box::pin(pending()));
        endless.abort_in_place = false;
        let mut gathering =
            Gathering::new(vec![failing, endless], Mode::CancelSiblings, count_report);
        let a = worker(failing_run);
        // The runtime delivers the abort, later and on another thread, once
        // the gather asked for it (the endless child cannot end otherwise,
        // so a gather that never cancelled it would never finish).
        let runtime = {
            let endless_core = endless_core.clone();
            thread::spawn(move || {
                while !endless_core.cancel_requested() {
                    thread::yield_now();
                }
                endless_run.abort();
            })
        };

        let waiter = Recorder::new();
        let mut step = || {
            let poll = waiter.poll(|cx| gathering.poll(cx));
            if poll.is_ready() {
                assert!(
                    failing_core.is_done() && endless_core.is_done(),
                    "the gather returned before its cancelled siblings finished"
                );
            }
            poll
        };
        let mut finished = step();
        a.join().unwrap();
        if finished.is_pending() {
            // The failure is in by now: this poll sees it and cancels.
            finished = step();
        }
        runtime.join().unwrap();
        if finished.is_pending() {
            assert!(waiter.woken_since_poll(), "{NOT_WOKEN}");
            finished = step();
        }
        match finished {
            Poll::Ready(Finished::Failed {
                index: 0,
                error: TaskError::Failed(7),
            }) => {}
            other => panic!("unexpected result {other:?}"),
        }
        assert_eq!(reports(), 0);
    });
}

#[test]
fn cancel_siblings_returns_only_once_joined_model() {
    cancel_siblings_returns_only_once_joined();
}

#[test]
#[should_panic(expected = "the gather returned before its cancelled siblings finished")]
fn cancel_siblings_returns_only_once_joined_twin_skip_join() {
    fault::with(
        Fault::GatherSkipsJoin,
        cancel_siblings_returns_only_once_joined,
    );
}

const ABORTED_IN_GRACE: &str = "a sibling was aborted during its grace period";

/// Cancel-siblings with a grace period: the abort is deferred to the tokio
/// layer (it calls `abort_unfinished` when the grace expires). A failure
/// races a sibling that stops on its own; the core must not abort the
/// sibling itself, and still returns only once it has finished.
fn grace_defers_the_abort() {
    loom::model(|| {
        reset_reports();
        let (failing, failing_run, failing_core) = child(1, Box::pin(ready(Err(7))));
        let (polite, polite_run, polite_core) = child(2, Box::pin(ready(Ok(1))));
        let mut gathering =
            Gathering::new(vec![failing, polite], Mode::CancelSiblings, count_report);
        gathering.defer_abort();
        let a = worker(failing_run);
        let b = worker(polite_run);

        let waiter = Recorder::new();
        let poll = waiter.poll(|cx| gathering.poll(cx));
        if poll.is_ready() {
            assert!(
                failing_core.is_done() && polite_core.is_done(),
                "the gather returned before its siblings finished"
            );
        }
        a.join().unwrap();
        b.join().unwrap();
        let finished = finish(&mut gathering, &waiter, poll);
        assert!(!polite_core.cancel_requested(), "{ABORTED_IN_GRACE}");
        assert!(
            matches!(
                finished,
                Finished::Failed {
                    index: 0,
                    error: TaskError::Failed(7)
                }
            ),
            "unexpected result {finished:?}"
        );
        assert_eq!(reports(), 0);
    });
}

#[test]
fn grace_defers_the_abort_model() {
    grace_defers_the_abort();
}

#[test]
#[should_panic(expected = "a sibling was aborted during its grace period")]
fn grace_defers_the_abort_twin_aborts_at_once() {
    fault::with(Fault::GatherGraceAbortsAtOnce, grace_defers_the_abort);
}

/// The gather's waiter as an executor runs it: it polls, and polls again on
/// each wake, while two children complete on two workers. Each poll that
/// leaves it pending must be followed by a wake: the wake of the first
/// completion was consumed by the poll that collected it.
fn gather_wakes_an_executor() {
    loom::model(|| {
        reset_reports();
        let (first, first_run, _) = child(1, Box::pin(ready(Ok(10))));
        let (second, second_run, _) = child(2, Box::pin(ready(Ok(11))));
        let mut gathering = Gathering::new(vec![first, second], Mode::FailFast, count_report);
        let waiter = Recorder::new();
        let mut last = waiter.poll(|cx| gathering.poll(cx));
        assert!(last.is_pending(), "no child has run yet");
        let a = worker(first_run);
        let b = worker(second_run);
        for _ in 0..2 {
            if last.is_pending() {
                if let Some(again) = waiter.poll_if_woken(|cx| gathering.poll(cx)) {
                    last = again;
                }
            }
        }
        assert!(a.join().unwrap() && b.join().unwrap());

        match finish(&mut gathering, &waiter, last) {
            Finished::Values(values) => assert_eq!(values, vec![10, 11]),
            other => panic!("unexpected result {other:?}"),
        }
        assert_eq!(reports(), 0);
    });
}

#[test]
fn gather_wakes_an_executor_model() {
    gather_wakes_an_executor();
}

#[test]
#[should_panic(expected = "the gather's waiter was not woken")]
fn gather_wakes_an_executor_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, gather_wakes_an_executor);
}

const LATER_ERROR_REPORTED: &str =
    "a sibling's error after fail-fast returned was reported, not dropped quietly";

/// Fail-fast, two children fail on two workers. The first failure the
/// waiter sees is the gather's result; the sibling is left running,
/// detached as observed, and its error, whenever it arrives, is dropped
/// quietly (asyncio behaviour 32): nothing reaches the report.
fn later_error_is_dropped_quietly() {
    loom::model(|| {
        reset_reports();
        let (first, first_run, _) = child(1, Box::pin(ready(Err(7))));
        let (second, second_run, _) = child(2, Box::pin(ready(Err(8))));
        let mut gathering = Gathering::new(vec![first, second], Mode::FailFast, count_report);
        let a = worker(first_run);
        let b = worker(second_run);

        let waiter = Recorder::new();
        let poll = waiter.poll(|cx| gathering.poll(cx));
        a.join().unwrap();
        b.join().unwrap();

        match finish(&mut gathering, &waiter, poll) {
            Finished::Failed {
                index,
                error: TaskError::Failed(error),
            } => assert_eq!(
                error,
                [7, 8][index],
                "the failure came from the wrong child"
            ),
            other => panic!("unexpected result {other:?}"),
        }
        drop(gathering);
        assert_eq!(reports(), 0, "{LATER_ERROR_REPORTED}");
    });
}

#[test]
fn later_error_is_dropped_quietly_model() {
    later_error_is_dropped_quietly();
}

#[test]
#[should_panic(expected = "the gather's waiter was not woken")]
fn later_error_is_dropped_quietly_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, later_error_is_dropped_quietly);
}

const CANCEL_UNJOINED: &str = "the structured cancel returned before a cancelled child finished";

/// `cancel_all` then `poll_cancelled` (the structured `Gather::cancel`),
/// with the abort delivered later by the runtime on another thread, as
/// tokio's is: the cancel is ready only once the child has finished, and
/// the waiter, polled on each wake, is woken when it does.
fn cancel_waits_for_a_late_abort() {
    loom::model(|| {
        reset_reports();
        let (mut endless, endless_run, endless_core) = child(1, Box::pin(pending()));
        endless.abort_in_place = false;
        let mut gathering = Gathering::new(vec![endless], Mode::FailFast, count_report);
        let waiter = Recorder::new();
        assert!(waiter.poll(|cx| gathering.poll(cx)).is_pending());
        let runtime = {
            let endless_core = endless_core.clone();
            thread::spawn(move || {
                while !endless_core.cancel_requested() {
                    thread::yield_now();
                }
                endless_run.abort();
            })
        };

        assert!(gathering.cancel_all(), "a running child was cancelled");
        let mut last = waiter.poll(|cx| gathering.poll_cancelled(cx));
        if last.is_pending() {
            if let Some(again) = waiter.poll_if_woken(|cx| gathering.poll_cancelled(cx)) {
                last = again;
            }
        }
        // Checked after the join (a model that panics while loom threads
        // run aborts the whole test binary).
        let unjoined = last.is_ready() && !endless_core.is_done();
        runtime.join().unwrap();
        assert!(!unjoined, "{CANCEL_UNJOINED}");
        waiter.settle(last, |cx| gathering.poll_cancelled(cx), NOT_WOKEN);
        assert!(endless_core.is_cancelled());
        drop(gathering);
        assert_eq!(reports(), 0);
    });
}

#[test]
fn cancel_waits_for_a_late_abort_model() {
    cancel_waits_for_a_late_abort();
}

#[test]
#[should_panic(expected = "the gather's waiter was not woken")]
fn cancel_waits_for_a_late_abort_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, cancel_waits_for_a_late_abort);
}

// --- Races (issue 12, point 4): the same core in `Mode::Race` / `RaceOk`.

/// A race: a worker completes child 0 while the runtime, on another
/// thread, drops (aborts) the never-ending child 1 once the race asked for
/// it. Child 0 wins, and the race returns only once child 1 has published
/// its outcome (its future dropped): the losers are joined.
fn race_returns_only_once_the_losers_finished() {
    loom::model(|| {
        reset_reports();
        let (winner, winner_run, winner_core) = child(1, Box::pin(ready(Ok(10))));
        let (mut loser, loser_run, loser_core) = child(2, Box::pin(pending()));
        loser.abort_in_place = false;
        let mut gathering = Gathering::new(vec![winner, loser], Mode::Race, count_report);
        let a = worker(winner_run);
        let runtime = {
            let loser_core = loser_core.clone();
            thread::spawn(move || {
                while !loser_core.cancel_requested() {
                    thread::yield_now();
                }
                loser_run.abort();
            })
        };

        let waiter = Recorder::new();
        let mut step = || {
            let poll = waiter.poll(|cx| gathering.poll(cx));
            if poll.is_ready() {
                assert!(
                    winner_core.is_done() && loser_core.is_done(),
                    "the race returned before its losers finished"
                );
            }
            poll
        };
        let mut finished = step();
        a.join().unwrap();
        if finished.is_pending() {
            // The winner is in by now: this poll sees it and cancels.
            finished = step();
        }
        runtime.join().unwrap();
        if finished.is_pending() {
            assert!(waiter.woken_since_poll(), "{NOT_WOKEN}");
            finished = step();
        }
        match finished {
            Poll::Ready(Finished::Won {
                index: 0,
                outcome: Ok(10),
            }) => {}
            other => panic!("unexpected result {other:?}"),
        }
        assert_eq!(reports(), 0);
    });
}

#[test]
fn race_returns_only_once_the_losers_finished_model() {
    race_returns_only_once_the_losers_finished();
}

#[test]
#[should_panic(expected = "the race returned before its losers finished")]
fn race_returns_only_once_the_losers_finished_twin_skip_join() {
    fault::with(
        Fault::GatherSkipsJoin,
        race_returns_only_once_the_losers_finished,
    );
}

/// A race for the first success: child 0 fails and child 1 succeeds on two
/// workers, in either order and in the same batch or not. The success wins
/// every time; the failure is dropped quietly, never reported.
fn race_ok_success_wins_over_a_concurrent_failure() {
    loom::model(|| {
        reset_reports();
        let (failing, failing_run, _) = child(1, Box::pin(ready(Err(7))));
        let (succeeding, succeeding_run, _) = child(2, Box::pin(ready(Ok(11))));
        let mut gathering = Gathering::new(vec![failing, succeeding], Mode::RaceOk, count_report);
        let a = worker(failing_run);
        let b = worker(succeeding_run);

        let waiter = Recorder::new();
        let poll = waiter.poll(|cx| gathering.poll(cx));
        // The failing child may be aborted unpolled, once the success won.
        a.join().unwrap();
        assert!(b.join().unwrap(), "the succeeding child is never cancelled");

        match finish(&mut gathering, &waiter, poll) {
            Finished::Won {
                index: 1,
                outcome: Ok(11),
            } => {}
            other => panic!("unexpected result {other:?}"),
        }
        assert_eq!(reports(), 0, "a loser's ordinary failure was reported");
    });
}

#[test]
fn race_ok_success_wins_over_a_concurrent_failure_model() {
    race_ok_success_wins_over_a_concurrent_failure();
}

#[test]
#[should_panic(expected = "the gather's waiter was not woken")]
fn race_ok_success_wins_over_a_concurrent_failure_twin_skip_wake() {
    fault::with(
        Fault::ReadySkipWake,
        race_ok_success_wins_over_a_concurrent_failure,
    );
}
