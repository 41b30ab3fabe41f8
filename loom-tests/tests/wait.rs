//! loom models of the task-set core (`asyncio::__cores::set`) and its ready
//! list (`asyncio::__cores::ready`), the completion-order machinery under
//! `wait`, `TaskSet::next_completed` and `as_completed`: the crate's real
//! `SetCore` over real task cores, children completed by loom threads, the
//! waiter on the main thread.
//!
//! Every model has a calibration twin: the same model with a fault switched
//! on inside the core, which must make the model's own assertion fail.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose: attributes
//! after a crate-level `cfg` that is off are stripped with the crate, and
//! the workspace's `missing_docs` lint would then fail the plain (non-loom)
//! `cargo clippy --workspace --all-targets -- -D warnings`.
#![cfg(asyncio_loom)]

use std::future::ready;
use std::task::Poll;

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::ready::ChildHandle;
use asyncio::__cores::set::{ReturnWhen, SetCore};
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use loom_tests::set::{poll_with, Handle, StaleCheck};
use loom_tests::task::{core, count_report, reports, reset_reports, PanicsOnDrop, Spawned};
use loom_tests::waker::Recorder;

const MISSED: &str = "the set missed a completion: pending and not woken";
const STALE: &str = "a waiter that stopped waiting was woken";
const LOST: &str = "a child that finished was lost";

type Set = SetCore<u32, (), Handle<u32, ()>>;

/// Two children completing on two threads while the waiter polls. The
/// waiter's poll either collects both, or it is woken afterwards, and then
/// a poll collects the rest: every completion is seen, none twice.
fn completions_race_the_waiter() {
    loom::model(|| {
        let mut set = Set::new();
        let mut workers = Vec::new();
        for value in [1, 2] {
            let core = core::<u32, ()>(count_report);
            let spawned = Spawned::new(ready(Ok(value)), core.clone());
            set.insert(Handle::new(core), false);
            workers.push(thread::spawn(move || spawned.run()));
        }
        let waiter = Recorder::new();
        let first = waiter.poll(|cx| set.poll_wait(cx, ReturnWhen::AllCompleted, false));
        for worker in workers {
            assert!(worker.join().unwrap());
        }
        let done = waiter.settle(
            first,
            |cx| set.poll_wait(cx, ReturnWhen::AllCompleted, false),
            MISSED,
        );
        assert_eq!(done.len(), 2, "every child comes back exactly once");
        assert!(set.is_empty());
    });
}

#[test]
fn completions_race_the_waiter_model() {
    completions_race_the_waiter();
}

#[test]
#[should_panic(expected = "the set missed a completion")]
fn completions_race_the_waiter_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, completions_race_the_waiter);
}

/// The waiter polls once, then is dropped (it unregisters), while a child
/// completes. No wake reaches the waiter after it stopped waiting, and the
/// child is still in the set for the next waiter.
fn dropped_waiter_races_completion() {
    loom::model(|| {
        let mut set = Set::new();
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), core.clone());
        set.insert(Handle::new(core), false);
        let worker = thread::spawn(move || spawned.run());

        let (check, waker) = StaleCheck::new();
        let first = poll_with(&waker, |cx| {
            set.poll_wait(cx, ReturnWhen::FirstCompleted, false)
        });
        let returned = match first {
            Poll::Ready(done) => done.len(),
            Poll::Pending => {
                // The wait future is dropped: it unregisters.
                set.unregister();
                check.stop();
                0
            }
        };
        worker.join().unwrap();
        assert!(!check.stale(), "{STALE}");
        if returned == 0 {
            assert_eq!(set.len(), 1, "{LOST}");
            let next = Recorder::new();
            let Poll::Ready(done) =
                next.poll(|cx| set.poll_wait(cx, ReturnWhen::FirstCompleted, false))
            else {
                panic!("{LOST}: the next waiter does not find it");
            };
            assert_eq!(done.len(), 1);
        }
    });
}

#[test]
fn dropped_waiter_races_completion_model() {
    dropped_waiter_races_completion();
}

#[test]
#[should_panic(expected = "a waiter that stopped waiting was woken")]
fn dropped_waiter_races_completion_twin_stale_waker() {
    fault::with(Fault::ReadyKeepsStaleWaker, dropped_waiter_races_completion);
}

/// A timeout racing a completion: one thread completes the child, another
/// sets the timeout flag and wakes the waiter (the tokio timer's part). The
/// wait returns on one or the other; whatever it returns, the child is
/// either in what it returned or still in the set, and a later wait finds it.
fn timeout_races_completion() {
    loom::model(|| {
        let mut set = Set::new();
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), core.clone());
        set.insert(Handle::new(core), false);
        let waiter = Recorder::new();
        let fired = Arc::new(AtomicBool::new(false));

        let worker = thread::spawn(move || spawned.run());
        let timer = {
            let fired = fired.clone();
            let waiter = waiter.clone();
            thread::spawn(move || {
                fired.store(true, Ordering::SeqCst);
                waiter.wake();
            })
        };
        let first = waiter
            .poll(|cx| set.poll_wait(cx, ReturnWhen::FirstCompleted, fired.load(Ordering::SeqCst)));
        worker.join().unwrap();
        timer.join().unwrap();
        // By now the timer has fired: a wait returns whatever is done.
        let returned = match first {
            Poll::Ready(done) => done.len(),
            Poll::Pending => {
                match waiter.poll(|cx| set.poll_wait(cx, ReturnWhen::FirstCompleted, true)) {
                    Poll::Ready(done) => done.len(),
                    Poll::Pending => panic!("a timed-out wait did not return"),
                }
            }
        };
        assert_eq!(returned + set.len(), 1, "{LOST}");
        if returned == 0 {
            let next = Recorder::new();
            let again = next.poll(|cx| set.poll_wait(cx, ReturnWhen::AllCompleted, false));
            assert!(
                matches!(again, Poll::Ready(ref done) if done.len() == 1),
                "{LOST}"
            );
        }
    });
}

#[test]
fn timeout_races_completion_model() {
    timeout_races_completion();
}

#[test]
#[should_panic(expected = "a child that finished was lost")]
fn timeout_races_completion_twin_forgets_on_timeout() {
    fault::with(Fault::SetForgetsOnTimeout, timeout_races_completion);
}

/// The waiter as an executor runs it: it polls, and polls again on each
/// wake, while two children complete on two threads. Each poll that leaves
/// it pending must be followed by a wake: the wake the first completion
/// sent was consumed by the poll that collected it, and proves nothing
/// about the second.
fn completions_wake_an_executor() {
    loom::model(|| {
        let mut set = Set::new();
        let mut workers = Vec::new();
        for value in [1, 2] {
            let core = core::<u32, ()>(count_report);
            let spawned = Spawned::new(ready(Ok(value)), core.clone());
            set.insert(Handle::new(core), false);
            workers.push(thread::spawn(move || spawned.run()));
        }
        let waiter = Recorder::new();
        let mut wait =
            |cx: &mut std::task::Context<'_>| set.poll_wait(cx, ReturnWhen::AllCompleted, false);
        let mut last = waiter.poll(&mut wait);
        for _ in 0..2 {
            if last.is_pending() {
                if let Some(again) = waiter.poll_if_woken(&mut wait) {
                    last = again;
                }
            }
        }
        for worker in workers {
            assert!(worker.join().unwrap());
        }
        let done = waiter.settle(last, wait, MISSED);
        assert_eq!(done.len(), 2, "every child comes back exactly once");
        assert!(set.is_empty());
    });
}

#[test]
fn completions_wake_an_executor_model() {
    completions_wake_an_executor();
}

#[test]
#[should_panic(expected = "the set missed a completion")]
fn completions_wake_an_executor_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, completions_wake_an_executor);
}

/// A child is inserted into the set while it completes on another thread
/// (a `TaskSet::spawn` whose child finishes at once, or `wait` over a task
/// that is finishing). Whether the insert sees it finished or listens in
/// time, the wait collects it: at once, or after a wake.
fn insert_races_completion() {
    loom::model(|| {
        let mut set = Set::new();
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), core.clone());
        let worker = thread::spawn(move || spawned.run());
        set.insert(Handle::new(core), false);

        let waiter = Recorder::new();
        let first = waiter.poll(|cx| set.poll_wait(cx, ReturnWhen::AllCompleted, false));
        assert!(worker.join().unwrap());
        let done = waiter.settle(
            first,
            |cx| set.poll_wait(cx, ReturnWhen::AllCompleted, false),
            MISSED,
        );
        assert_eq!(done.len(), 1, "{LOST}");
        assert!(set.is_empty());
    });
}

#[test]
fn insert_races_completion_model() {
    insert_races_completion();
}

#[test]
#[should_panic(expected = "the set missed a completion")]
fn insert_races_completion_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, insert_races_completion);
}

/// `FirstException`: a child fails on a worker while the waiter polls, and
/// its sibling never finishes. The wait returns with the failed child (at
/// once, or after a wake), and the sibling stays pending in the set.
fn first_exception_returns_on_a_racing_failure() {
    loom::model(|| {
        let mut set = SetCore::<u32, &'static str, Handle<u32, &'static str>>::new();
        let failing = core::<u32, &'static str>(count_report);
        let spawned = Spawned::new(ready(Err("boom")), failing.clone());
        set.insert(Handle::new(failing), false);
        let endless = core::<u32, &'static str>(count_report);
        set.insert(Handle::new(endless.clone()), false);
        let worker = thread::spawn(move || spawned.run());

        let waiter = Recorder::new();
        let first = waiter.poll(|cx| set.poll_wait(cx, ReturnWhen::FirstException, false));
        assert!(worker.join().unwrap());
        let done = waiter.settle(
            first,
            |cx| set.poll_wait(cx, ReturnWhen::FirstException, false),
            MISSED,
        );
        assert_eq!(
            done.len(),
            1,
            "FirstException returned without the failed child"
        );
        assert!(done[0].task_core().is_failure());
        assert_eq!(set.pending(), 1, "the endless sibling left the set");
        // The sibling is detached when the set drops; it never published.
        drop(set);
        assert!(!endless.is_done());
    });
}

#[test]
fn first_exception_returns_on_a_racing_failure_model() {
    first_exception_returns_on_a_racing_failure();
}

#[test]
#[should_panic(expected = "the set missed a completion")]
fn first_exception_returns_on_a_racing_failure_twin_skip_wake() {
    fault::with(
        Fault::ReadySkipWake,
        first_exception_returns_on_a_racing_failure,
    );
}

const MISCOUNTED: &str = "cancel_all miscounted the children it cancelled";

/// `cancel_all` races the completion of one child; the other never
/// finishes. It counts exactly the children whose cancel request it made
/// while they ran, and the child that completed anyway is delivered with
/// its value (completion beats cancellation).
fn cancel_all_races_a_completion() {
    loom::model(|| {
        let mut set = Set::new();
        let finishing = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), finishing.clone());
        set.insert(Handle::new(finishing.clone()), false);
        let endless = core::<u32, ()>(count_report);
        set.insert(Handle::new(endless.clone()), false);
        let worker = thread::spawn(move || spawned.run());

        let cancelled = set.cancel_all();
        assert!(worker.join().unwrap());
        assert!(
            endless.cancel_requested(),
            "a running child was not cancelled"
        );
        let requested =
            usize::from(finishing.cancel_requested()) + usize::from(endless.cancel_requested());
        assert_eq!(cancelled, requested, "{MISCOUNTED}");

        let waiter = Recorder::new();
        let first = waiter.poll(|cx| set.poll_wait(cx, ReturnWhen::FirstCompleted, false));
        let done = waiter.settle(
            first,
            |cx| set.poll_wait(cx, ReturnWhen::FirstCompleted, false),
            MISSED,
        );
        assert_eq!(done.len(), 1, "{LOST}");
        assert!(
            matches!(done[0].task_core().try_take(), Some(Ok(7))),
            "a completed child's value was lost to the cancellation"
        );
    });
}

#[test]
fn cancel_all_races_a_completion_model() {
    cancel_all_races_a_completion();
}

#[test]
#[should_panic(expected = "cancel_all miscounted the children it cancelled")]
fn cancel_all_races_a_completion_twin_late_cancel_accepted() {
    fault::with(Fault::TaskLateCancelAccepted, cancel_all_races_a_completion);
}

/// Completion-order iteration (`TaskSet::next_completed`, `as_completed`)
/// while two children complete on two workers, polled again on each wake.
/// It yields each child exactly once, in some order, and ends only once
/// both were yielded: never while a child is still pending.
fn next_completed_yields_each_child_once() {
    loom::model(|| {
        let mut set = Set::new();
        let mut workers = Vec::new();
        for value in [1, 2] {
            let core = core::<u32, ()>(count_report);
            let spawned = Spawned::new(ready(Ok(value)), core.clone());
            set.insert(Handle::new(core), false);
            workers.push(thread::spawn(move || spawned.run()));
        }
        let waiter = Recorder::new();
        let mut yielded = Vec::new();
        // What the iteration returned before the workers were joined:
        // `Ready(None)` then would be an end with children pending.
        let mut ended_early = false;
        let mut last = waiter.poll(|cx| set.poll_next(cx));
        for _ in 0..3 {
            match last {
                Poll::Ready(Some((seq, _))) => {
                    yielded.push(seq);
                    last = waiter.poll(|cx| set.poll_next(cx));
                }
                Poll::Ready(None) => {
                    ended_early = yielded.len() < 2;
                    break;
                }
                Poll::Pending => match waiter.poll_if_woken(|cx| set.poll_next(cx)) {
                    Some(again) => last = again,
                    None => break,
                },
            }
        }
        for worker in workers {
            assert!(worker.join().unwrap());
        }
        assert!(
            !ended_early,
            "the iteration ended while a child was pending"
        );
        while yielded.len() < 2 {
            match waiter.settle(last, |cx| set.poll_next(cx), MISSED) {
                Some((seq, _)) => yielded.push(seq),
                None => panic!("the iteration ended while a child was pending"),
            }
            last = waiter.poll(|cx| set.poll_next(cx));
        }
        assert!(
            matches!(last, Poll::Ready(None)),
            "the iteration did not end after both children"
        );
        yielded.sort_unstable();
        assert_eq!(yielded, vec![0, 1], "each child is yielded exactly once");
    });
}

#[test]
fn next_completed_yields_each_child_once_model() {
    next_completed_yields_each_child_once();
}

#[test]
#[should_panic(expected = "the set missed a completion")]
fn next_completed_yields_each_child_once_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, next_completed_yields_each_child_once);
}

/// A failed child taken by completion-order iteration is gone from the set:
/// a later `FirstException` wait over the sibling that is still running
/// stays pending (there is no failure left to return on), while the failed
/// child completes on a worker.
fn first_exception_after_the_failure_was_taken() {
    loom::model(|| {
        let mut set = SetCore::<u32, &'static str, Handle<u32, &'static str>>::new();
        let failing = core::<u32, &'static str>(count_report);
        let spawned = Spawned::new(ready(Err("boom")), failing.clone());
        set.insert(Handle::new(failing), false);
        set.insert(Handle::new(core::<u32, &'static str>(count_report)), false);
        let worker = thread::spawn(move || spawned.run());

        let waiter = Recorder::new();
        let first = waiter.poll(|cx| set.poll_next(cx));
        assert!(worker.join().unwrap());
        let Some((seq, failed)) = waiter.settle(first, |cx| set.poll_next(cx), MISSED) else {
            panic!("the iteration ended while a child was pending");
        };
        assert_eq!(seq, 0);
        assert!(failed.task_core().is_failure());
        let again = waiter.poll(|cx| set.poll_wait(cx, ReturnWhen::FirstException, false));
        assert!(
            again.is_pending(),
            "FirstException returned on a failure that was already taken"
        );
    });
}

#[test]
fn first_exception_after_the_failure_was_taken_model() {
    first_exception_after_the_failure_was_taken();
}

#[test]
#[should_panic(expected = "the set missed a completion")]
fn first_exception_after_the_failure_was_taken_twin_skip_wake() {
    fault::with(
        Fault::ReadySkipWake,
        first_exception_after_the_failure_was_taken,
    );
}

/// The waiter moves to another task between two polls (a `wait` future
/// polled from one task, then from another), while a child completes. The
/// task that polled last is the one woken: a ready list that keeps the
/// first waker wakes a task that no longer waits.
fn waiter_moves_to_another_task() {
    loom::model(|| {
        let mut set = Set::new();
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), core.clone());
        set.insert(Handle::new(core), false);
        let (before, after) = (Recorder::new(), Recorder::new());
        assert!(before
            .poll(|cx| set.poll_wait(cx, ReturnWhen::FirstCompleted, false))
            .is_pending());

        let worker = thread::spawn(move || spawned.run());
        let last = after.poll(|cx| set.poll_wait(cx, ReturnWhen::FirstCompleted, false));
        assert!(worker.join().unwrap());
        let done = after.settle(
            last,
            |cx| set.poll_wait(cx, ReturnWhen::FirstCompleted, false),
            MISSED,
        );
        assert_eq!(done.len(), 1, "{LOST}");
    });
}

#[test]
fn waiter_moves_to_another_task_model() {
    waiter_moves_to_another_task();
}

#[test]
#[should_panic(expected = "the set missed a completion")]
fn waiter_moves_to_another_task_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, waiter_moves_to_another_task);
}

const NOT_CANCELLED: &str = "a child the set spawned was not cancelled when the set was dropped";

/// A set is dropped (a `TaskSet` going out of scope) while one of its
/// children completes on a worker. The child the set spawned itself, still
/// running, is cancelled (nobody else can reach it); a waiter that polled
/// the set before is not woken by the late completion.
fn dropped_set_cancels_what_it_owns() {
    loom::model(|| {
        let mut set = Set::new();
        let finishing = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), finishing.clone());
        set.insert(Handle::new(finishing), false);
        let owned = core::<u32, ()>(count_report);
        set.insert(Handle::new(owned.clone()), true);
        let (check, waker) = StaleCheck::new();
        let first = poll_with(&waker, |cx| {
            set.poll_wait(cx, ReturnWhen::AllCompleted, false)
        });
        assert!(first.is_pending(), "the owned child never finishes");
        let worker = thread::spawn(move || spawned.run());

        drop(set);
        check.stop();
        assert!(worker.join().unwrap());
        assert!(owned.cancel_requested(), "{NOT_CANCELLED}");
        assert!(!check.stale(), "{STALE}");
    });
}

#[test]
fn dropped_set_cancels_what_it_owns_model() {
    dropped_set_cancels_what_it_owns();
}

#[test]
#[should_panic(expected = "a child the set spawned was not cancelled when the set was dropped")]
fn dropped_set_cancels_what_it_owns_twin_skips_cancel() {
    fault::with(Fault::SetDropSkipsCancel, dropped_set_cancels_what_it_owns);
}

const NOT_DRAINED: &str = "the shutdown drain ended with a child still running";
const PANIC_LOST: &str = "a panic raised while a child was cancelled was lost";

/// `TaskSet::shutdown`: `cancel_all`, then `poll_drain` polled on every
/// wake, while one child completes on a worker and the other is aborted on
/// a second thread, its destructor panicking. The drain hands over each
/// child exactly once and is ready only once both have finished; the
/// shutdown's "retrieved, ignored" detach reports the panic exactly once.
/// The drain is `collect` and the done queue, driven by one owner: this
/// model adds no synchronisation to check beyond that, it checks that the
/// shutdown's use of it loses neither a completion nor a panic.
fn shutdown_drains_every_child() {
    loom::model(|| {
        reset_reports();
        let mut set = SetCore::<u32, (), Handle<u32, ()>>::new();
        let finishing = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(1)), finishing.clone());
        set.insert(Handle::new(finishing.clone()), true);
        let finishing_done = move || finishing.is_done();
        let aborted = core::<u32, ()>(count_report);
        let doomed = Arc::new(Spawned::new(PanicsOnDrop, aborted.clone()));
        set.insert(Handle::new(aborted.clone()), true);
        let worker = thread::spawn(move || spawned.run());
        let aborter = {
            let doomed = doomed.clone();
            thread::spawn(move || doomed.abort())
        };

        set.cancel_all();
        let waiter = Recorder::new();
        let mut drained = Vec::new();
        let mut drain = |cx: &mut std::task::Context<'_>, drained: &mut Vec<usize>| {
            set.poll_drain(cx, |seq, handle| {
                handle.task_core().detach_observed();
                drained.push(seq);
            })
        };
        // Polled again on each wake while the children finish, as an
        // executor would: a ready drain means both have finished.
        let mut last = waiter.poll(|cx| drain(cx, &mut drained));
        for _ in 0..2 {
            if last.is_ready() {
                break;
            }
            match waiter.poll_if_woken(|cx| drain(cx, &mut drained)) {
                Some(again) => last = again,
                None => break,
            }
        }
        if last.is_ready() {
            assert!(aborted.is_done() && finishing_done(), "{NOT_DRAINED}");
        }
        worker.join().unwrap();
        aborter.join().unwrap();
        waiter.settle(last, |cx| drain(cx, &mut drained), MISSED);
        drained.sort_unstable();
        assert_eq!(drained, vec![0, 1], "each child is drained exactly once");
        assert_eq!(reports(), 1, "{PANIC_LOST}");
    });
}

#[test]
fn shutdown_drains_every_child_model() {
    shutdown_drains_every_child();
}

#[test]
#[should_panic(expected = "the set missed a completion")]
fn shutdown_drains_every_child_twin_skip_wake() {
    fault::with(Fault::ReadySkipWake, shutdown_drains_every_child);
}

#[test]
#[should_panic(expected = "a panic raised while a child was cancelled was lost")]
fn shutdown_drains_every_child_twin_quiet_drops_panic() {
    fault::with(Fault::TaskQuietDropsPanic, shutdown_drains_every_child);
}
