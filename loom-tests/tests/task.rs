//! loom models of the task completion core (`asyncio::__cores::task`): the
//! crate's real `TaskCore` and `Child`, with the runtime's actions as loom
//! threads (a worker polling the child; an abort dropping it) and the waiter
//! on the main thread, checked for liveness with a recording waker.
//!
//! Every model has a calibration twin: the same model with a fault switched
//! on inside the core, which must make the model's own assertion fail.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose: attributes
//! after a crate-level `cfg` that is off are stripped with the crate, and
//! the workspace's `missing_docs` lint would then fail the plain (non-loom)
//! `cargo clippy --workspace --all-targets -- -D warnings`.
#![cfg(asyncio_loom)]

use std::future::{ready, Future};
use std::task::Poll;

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::task::TaskCore;
use asyncio::TaskError;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use loom_tests::task::{
    core, count_report, panics, poll_outcome, reports, reset_reports, Completes, PanicsOnDrop,
    Spawned, DROP_PANIC_MESSAGE, PANIC_MESSAGE,
};
use loom_tests::waker::Recorder;

const NOT_WOKEN: &str = "the waiter was not woken";
const VALUE_LOST: &str = "a completed child's value was lost to the cancellation";
const LATE_CANCEL: &str = "request_cancel accepted a task that had already finished";
const NOT_EXACTLY_ONCE: &str = "the failure was not observed exactly once";
const DROPPED_LATE: &str = "the outcome was visible before the child's future was dropped";
const WRONG_FLAGS: &str = "is_cancelled / is_failure disagree with the outcome delivered";

/// Completion racing an abort. The waiter registered first; a worker polls
/// a child that completes on its first poll while an abort drops it. The
/// waiter is woken and finds `Ok(7)` or `Cancelled`, and `Ok(7)` whenever the
/// poll completed the child (completion beats cancellation). The wrapper's
/// late "cancelled" (its drop guard, after the value) changes nothing that
/// can be seen: `is_cancelled` and `is_failure` describe the outcome that
/// was delivered.
fn abort_races_completion() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let spawned = Arc::new(Spawned::new(ready(Ok(7)), core.clone()));
        let waiter = Recorder::new();
        assert!(poll_outcome(&core, &waiter).is_pending());

        let worker = {
            let spawned = spawned.clone();
            thread::spawn(move || spawned.run())
        };
        let abort = thread::spawn(move || spawned.abort());
        let completed = worker.join().unwrap();
        abort.join().unwrap();

        assert!(waiter.woken_since_poll(), "{NOT_WOKEN}");
        let Poll::Ready(outcome) = poll_outcome(&core, &waiter) else {
            panic!("the waiter was woken but found no outcome");
        };
        match outcome {
            Ok(7) => {
                assert!(completed, "a value was published without a completing poll");
                assert!(!core.is_cancelled() && !core.is_failure(), "{WRONG_FLAGS}");
            }
            Err(TaskError::Cancelled) => {
                assert!(!completed, "{VALUE_LOST}");
                assert!(core.is_cancelled() && !core.is_failure(), "{WRONG_FLAGS}");
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    });
}

#[test]
fn abort_races_completion_model() {
    abort_races_completion();
}

#[test]
#[should_panic(expected = "the waiter was not woken")]
fn abort_races_completion_twin_skip_wake() {
    fault::with(Fault::TaskSkipWake, abort_races_completion);
}

#[test]
#[should_panic(expected = "a completed child's value was lost to the cancellation")]
fn abort_races_completion_twin_cancel_overwrites_value() {
    fault::with(Fault::TaskCancelOverwritesValue, abort_races_completion);
}

/// The waiter registering its waker racing the child's completion (no
/// abort): either the waiter's poll finds the outcome, or it registered in
/// time and is woken.
fn registration_races_completion() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), core.clone());
        let worker = thread::spawn(move || spawned.run());

        let waiter = Recorder::new();
        let first = poll_outcome(&core, &waiter);
        assert!(worker.join().unwrap());

        let outcome = waiter.settle(first, |cx| core.poll_outcome(cx), NOT_WOKEN);
        assert!(matches!(outcome, Ok(7)), "unexpected outcome {outcome:?}");
    });
}

#[test]
fn registration_races_completion_model() {
    registration_races_completion();
}

#[test]
#[should_panic(expected = "the waiter was not woken")]
fn registration_races_completion_twin_skip_wake() {
    fault::with(Fault::TaskSkipWake, registration_races_completion);
}

/// A cancel request racing completion, as `Task::cancel` does it: request,
/// then abort if the request was accepted. `request_cancel` returns `false`
/// exactly when the outcome was already published, and a computed value is
/// delivered even when the request was accepted first.
fn cancel_request_races_completion() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let spawned = Arc::new(Spawned::new(ready(Ok(7)), core.clone()));

        let worker = {
            let spawned = spawned.clone();
            thread::spawn(move || spawned.run())
        };
        let cancel = {
            let core = core.clone();
            thread::spawn(move || {
                // `done` only goes from false to true, so `done_before` means
                // "published before the request".
                let done_before = core.is_done();
                let requested = core.request_cancel();
                if requested {
                    spawned.abort();
                }
                (done_before, requested)
            })
        };
        let completed = worker.join().unwrap();
        let (done_before, requested) = cancel.join().unwrap();

        assert!(!(done_before && requested), "{LATE_CANCEL}");
        assert!(
            requested || completed,
            "request_cancel refused a task that was still running"
        );
        let Poll::Ready(outcome) = poll_outcome(&core, &Recorder::new()) else {
            panic!("no outcome was published");
        };
        match outcome {
            Ok(7) => assert!(completed, "a value was published without a completing poll"),
            Err(TaskError::Cancelled) => assert!(!completed, "{VALUE_LOST}"),
            other => panic!("unexpected outcome {other:?}"),
        }
    });
}

#[test]
fn cancel_request_races_completion_model() {
    cancel_request_races_completion();
}

#[test]
#[should_panic(expected = "request_cancel accepted a task that had already finished")]
fn cancel_request_races_completion_twin_late_cancel_accepted() {
    fault::with(
        Fault::TaskLateCancelAccepted,
        cancel_request_races_completion,
    );
}

#[test]
#[should_panic(expected = "a completed child's value was lost to the cancellation")]
fn cancel_request_races_completion_twin_cancel_overwrites_value() {
    fault::with(
        Fault::TaskCancelOverwritesValue,
        cancel_request_races_completion,
    );
}

/// Completion (a failure) racing the waiter being dropped: the waiter polls
/// once, then its `Task` is dropped (`detach`). The failure is observed
/// exactly once: by the waiter's poll, or by the report function, never both
/// and never neither.
fn detach_races_failure() {
    loom::model(|| {
        reset_reports();
        let core = core::<u32, &'static str>(count_report);
        let spawned = Spawned::new(ready(Err("boom")), core.clone());
        let worker = thread::spawn(move || spawned.run());

        let seen_by_waiter = match poll_outcome(&core, &Recorder::new()) {
            Poll::Ready(Err(TaskError::Failed("boom"))) => 1,
            Poll::Ready(other) => panic!("unexpected outcome {other:?}"),
            Poll::Pending => 0,
        };
        core.detach();
        assert!(worker.join().unwrap());

        assert_eq!(seen_by_waiter + reports(), 1, "{NOT_EXACTLY_ONCE}");
    });
}

#[test]
fn detach_races_failure_model() {
    detach_races_failure();
}

#[test]
#[should_panic(expected = "the failure was not observed exactly once")]
fn detach_races_failure_twin_detach_forgets_failure() {
    fault::with(Fault::TaskDetachForgetsFailure, detach_races_failure);
}

/// The last handle dropped while the child fails, as a `Task`'s drop does
/// it (`TaskCore::release`): the handle may or may not hold the last
/// reference, depending on whether the worker has dropped the finished
/// child yet, so both the locked and the lock-free path run. The failure is
/// observed exactly once: by the waiter's poll, or by the report function.
fn release_races_failure() {
    loom::model(|| {
        reset_reports();
        let mut handle = core::<u32, &'static str>(count_report);
        let spawned = Spawned::new(ready(Err("boom")), handle.clone());
        // The worker drops the child (and its reference) when it is done.
        let worker = thread::spawn(move || spawned.run());

        let seen_by_waiter = match poll_outcome(&handle, &Recorder::new()) {
            Poll::Ready(Err(TaskError::Failed("boom"))) => 1,
            Poll::Ready(other) => panic!("unexpected outcome {other:?}"),
            Poll::Pending => 0,
        };
        TaskCore::release(&mut handle);
        assert!(worker.join().unwrap());
        drop(handle);

        assert_eq!(seen_by_waiter + reports(), 1, "{NOT_EXACTLY_ONCE}");
    });
}

#[test]
fn release_races_failure_model() {
    release_races_failure();
}

#[test]
#[should_panic(expected = "the failure was not observed exactly once")]
fn release_races_failure_twin_detach_forgets_failure() {
    fault::with(Fault::TaskDetachForgetsFailure, release_races_failure);
}

/// The awaiting future dropped while the child fails, as `Join`'s drop does
/// it: request cancellation, abort if accepted (the runtime drops the child
/// later, on another thread), then detach. A failure the child did produce is
/// reported exactly once; a child aborted before it ran reports nothing.
fn dropped_waiter_races_failure() {
    loom::model(|| {
        reset_reports();
        let core = core::<u32, &'static str>(count_report);
        let spawned = Arc::new(Spawned::new(ready(Err("boom")), core.clone()));
        let worker = {
            let spawned = spawned.clone();
            thread::spawn(move || spawned.run())
        };

        let abort = core
            .request_cancel()
            .then(|| thread::spawn(move || spawned.abort()));
        core.detach();
        let failed = worker.join().unwrap();
        if let Some(abort) = abort {
            abort.join().unwrap();
        }

        assert_eq!(reports(), usize::from(failed), "{NOT_EXACTLY_ONCE}");
    });
}

#[test]
fn dropped_waiter_races_failure_model() {
    dropped_waiter_races_failure();
}

#[test]
#[should_panic(expected = "the failure was not observed exactly once")]
fn dropped_waiter_races_failure_twin_detach_forgets_failure() {
    fault::with(
        Fault::TaskDetachForgetsFailure,
        dropped_waiter_races_failure,
    );
}

/// The same for a panic (decision 6: panics are never lost): a child that
/// panics is published as `Panicked` with its message, and a detached
/// waiter's panic is reported exactly once.
fn detach_races_panic() {
    loom::model(|| {
        reset_reports();
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(panics(), core.clone());
        let worker = thread::spawn(move || spawned.run());

        let seen_by_waiter = match poll_outcome(&core, &Recorder::new()) {
            Poll::Ready(Err(TaskError::Panicked(panic))) => {
                assert_eq!(panic.message(), PANIC_MESSAGE);
                1
            }
            Poll::Ready(other) => panic!("unexpected outcome {other:?}"),
            Poll::Pending => 0,
        };
        core.detach();
        assert!(worker.join().unwrap());

        assert_eq!(seen_by_waiter + reports(), 1, "{NOT_EXACTLY_ONCE}");
    });
}

#[test]
fn detach_races_panic_model() {
    detach_races_panic();
}

#[test]
#[should_panic(expected = "the failure was not observed exactly once")]
fn detach_races_panic_twin_detach_forgets_failure() {
    fault::with(Fault::TaskDetachForgetsFailure, detach_races_panic);
}

/// Whoever sees the outcome knows the child's destructors have run (what
/// "structured means joined" rests on), on both paths: the worker completing
/// the child, and an abort dropping it. The waiter polls concurrently.
fn outcome_follows_child_drop() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let dropped = Arc::new(AtomicBool::new(false));
        let spawned = Arc::new(Spawned::new(
            Completes::new(7, dropped.clone()),
            core.clone(),
        ));

        let worker = {
            let spawned = spawned.clone();
            thread::spawn(move || spawned.run())
        };
        let abort = thread::spawn(move || spawned.abort());

        if let Poll::Ready(outcome) = poll_outcome(&core, &Recorder::new()) {
            assert!(dropped.load(Ordering::SeqCst), "{DROPPED_LATE}");
            assert!(
                matches!(outcome, Ok(7) | Err(TaskError::Cancelled)),
                "unexpected outcome {outcome:?}"
            );
        }
        worker.join().unwrap();
        abort.join().unwrap();
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn outcome_follows_child_drop_model() {
    outcome_follows_child_drop();
}

#[test]
#[should_panic(expected = "the outcome was visible before the child's future was dropped")]
fn outcome_follows_child_drop_twin_publish_before_drop() {
    fault::with(Fault::TaskPublishBeforeDrop, outcome_follows_child_drop);
}

const DROP_PANIC_LOST: &str = "a panic in the aborted child's destructor was lost";

/// An abort racing the runtime's poll of a child whose destructor panics.
/// The poll leaves it pending; the abort drops it. Whatever the order, the
/// waiter is woken and finds the destructor's panic, not "cancelled".
fn abort_of_a_child_whose_drop_panics() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let spawned = Arc::new(Spawned::new(PanicsOnDrop, core.clone()));
        let waiter = Recorder::new();
        assert!(poll_outcome(&core, &waiter).is_pending());

        let worker = {
            let spawned = spawned.clone();
            thread::spawn(move || spawned.run())
        };
        let abort = thread::spawn(move || spawned.abort());
        assert!(!worker.join().unwrap(), "the child never completes");
        abort.join().unwrap();

        assert!(waiter.woken_since_poll(), "{NOT_WOKEN}");
        match poll_outcome(&core, &waiter) {
            Poll::Ready(Err(TaskError::Panicked(panic))) => {
                assert_eq!(panic.message(), DROP_PANIC_MESSAGE)
            }
            other => panic!("{DROP_PANIC_LOST}: got {other:?}"),
        }
    });
}

#[test]
fn abort_of_a_child_whose_drop_panics_model() {
    abort_of_a_child_whose_drop_panics();
}

#[test]
#[should_panic(expected = "a panic in the aborted child's destructor was lost")]
fn abort_of_a_child_whose_drop_panics_twin_loses_panic() {
    fault::with(
        Fault::ChildDropLosesPanic,
        abort_of_a_child_whose_drop_panics,
    );
}

/// A failure racing an abort: the same as [`abort_races_completion`] for a
/// child that returns an error. The late "cancelled" neither hides the
/// failure nor turns it into a cancellation: `is_failure` holds exactly when
/// the failure was delivered, `is_cancelled` exactly when "cancelled" was.
fn abort_races_failure() {
    loom::model(|| {
        reset_reports();
        let core = core::<u32, &'static str>(count_report);
        let spawned = Arc::new(Spawned::new(ready(Err("boom")), core.clone()));
        let waiter = Recorder::new();
        assert!(poll_outcome(&core, &waiter).is_pending());

        let worker = {
            let spawned = spawned.clone();
            thread::spawn(move || spawned.run())
        };
        let abort = thread::spawn(move || spawned.abort());
        let completed = worker.join().unwrap();
        abort.join().unwrap();

        match waiter.settle(Poll::Pending, |cx| core.poll_outcome(cx), NOT_WOKEN) {
            Err(TaskError::Failed("boom")) => {
                assert!(
                    completed,
                    "a failure was published without a completing poll"
                );
                assert!(core.is_failure() && !core.is_cancelled(), "{WRONG_FLAGS}");
            }
            Err(TaskError::Cancelled) => {
                assert!(
                    !completed,
                    "a completed child's failure was lost to the cancellation"
                );
                assert!(core.is_cancelled() && !core.is_failure(), "{WRONG_FLAGS}");
            }
            other => panic!("unexpected outcome {other:?}"),
        }
        assert_eq!(reports(), 0, "a failure the waiter took was reported too");
    });
}

#[test]
fn abort_races_failure_model() {
    abort_races_failure();
}

#[test]
#[should_panic(expected = "a completed child's failure was lost to the cancellation")]
fn abort_races_failure_twin_cancel_overwrites_value() {
    fault::with(Fault::TaskCancelOverwritesValue, abort_races_failure);
}

/// The waiter as an executor runs it: it polls, parks, and polls again on
/// each wake, here while the worker completes the child. Every poll that
/// leaves it pending must be followed by a wake: a wake that an earlier poll
/// consumed does not count for a later one (a wake issued before the
/// outcome is stored is consumed by a poll that finds nothing).
fn waiter_repolls_on_each_wake() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), core.clone());
        let waiter = Recorder::new();
        let mut last = poll_outcome(&core, &waiter);
        assert!(last.is_pending());

        let worker = thread::spawn(move || spawned.run());
        if let Some(again) = waiter.poll_if_woken(|cx| core.poll_outcome(cx)) {
            last = again;
        }
        assert!(worker.join().unwrap());

        let outcome = waiter.settle(last, |cx| core.poll_outcome(cx), NOT_WOKEN);
        assert!(matches!(outcome, Ok(7)), "unexpected outcome {outcome:?}");
    });
}

#[test]
fn waiter_repolls_on_each_wake_model() {
    waiter_repolls_on_each_wake();
}

#[test]
#[should_panic(expected = "the waiter was not woken")]
fn waiter_repolls_on_each_wake_twin_skip_wake() {
    fault::with(Fault::TaskSkipWake, waiter_repolls_on_each_wake);
}

/// The awaiting future moves to another task between two polls (it was
/// polled from one task, then from another, as a `Task` moved into a
/// `select!` elsewhere is), while the child completes. The task that polled
/// last is the one woken: a core that keeps the first waker wakes a task
/// that no longer waits.
fn waiter_moves_to_another_task() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), core.clone());
        let (before, after) = (Recorder::new(), Recorder::new());
        assert!(poll_outcome(&core, &before).is_pending());

        let worker = thread::spawn(move || spawned.run());
        let last = poll_outcome(&core, &after);
        assert!(worker.join().unwrap());

        let outcome = after.settle(last, |cx| core.poll_outcome(cx), NOT_WOKEN);
        assert!(matches!(outcome, Ok(7)), "unexpected outcome {outcome:?}");
    });
}

#[test]
fn waiter_moves_to_another_task_model() {
    waiter_moves_to_another_task();
}

#[test]
#[should_panic(expected = "the waiter was not woken")]
fn waiter_moves_to_another_task_twin_skip_wake() {
    fault::with(Fault::TaskSkipWake, waiter_moves_to_another_task);
}

const DONE_NOT_WOKEN: &str = "a future waiting for done was not woken";
const CHILD_NOT_WOKEN: &str = "a child cancelled through its own handle was not woken";

/// A `CancelHandle`'s `done()` registering racing the child's completion:
/// either its poll finds the task finished, or it registered in time and is
/// woken. Waiting for done takes nothing: the outcome is still there for
/// the owner.
fn done_races_completion() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(7)), core.clone());
        let worker = thread::spawn(move || spawned.run());

        let watcher = Recorder::new();
        let mut key = None;
        let first = watcher.poll(|cx| core.poll_done(&mut key, cx));
        assert!(worker.join().unwrap());

        watcher.settle(first, |cx| core.poll_done(&mut key, cx), DONE_NOT_WOKEN);
        assert!(core.is_done());
        let outcome = core.try_take();
        assert!(
            matches!(outcome, Some(Ok(7))),
            "done took the outcome: {outcome:?}"
        );
    });
}

#[test]
fn done_races_completion_model() {
    done_races_completion();
}

#[test]
#[should_panic(expected = "a future waiting for done was not woken")]
fn done_races_completion_twin_skip_done_wake() {
    fault::with(Fault::TaskSkipDoneWake, done_races_completion);
}

/// A child hands its own handle (`current_task`) to another thread during
/// its poll and then waits for nothing; that thread cancels it. The handle
/// cannot abort, so the request must wake the child, wherever it falls
/// against the child's registration after its pending poll; the woken
/// child ends cancelled, and its future is dropped before that is visible.
fn own_handle_cancel_races_the_childs_registration() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let canceller = Arc::new(loom::sync::Mutex::new(None));
        let dropped = Arc::new(AtomicBool::new(false));
        let future = {
            let canceller = canceller.clone();
            hands_out_its_handle(&dropped, move |me| {
                *canceller.lock().unwrap() = Some(thread::spawn(move || me.cancel()));
            })
        };
        let mut child = Box::pin(asyncio::__cores::task::Child::new(future, core.clone()));
        let runtime = Recorder::new();
        // Ready at once if the request came before the child registered.
        let first = runtime.poll(|cx| child.as_mut().poll(cx));
        let canceller = canceller.lock().unwrap().take().unwrap();
        assert!(canceller.join().unwrap(), "the child was still running");

        runtime.settle(first, |cx| child.as_mut().poll(cx), CHILD_NOT_WOKEN);
        assert!(dropped.load(Ordering::SeqCst), "{DROPPED_LATE}");
        assert!(core.is_cancelled() && !core.is_failure(), "{WRONG_FLAGS}");
        assert!(
            asyncio::current_task().is_none(),
            "the child's handle leaked out"
        );
    });
}

/// A child's future that, in its first poll, gives its own handle
/// (`current_task`) to `take`, then stays pending; it sets `dropped` when
/// it is dropped.
fn hands_out_its_handle(
    dropped: &Arc<AtomicBool>,
    mut take: impl FnMut(asyncio::CancelHandle),
) -> impl Future<Output = Result<u32, ()>> {
    let guard = DropSignal(dropped.clone());
    let mut first = true;
    std::future::poll_fn(move |_| {
        let _ = &guard;
        if std::mem::take(&mut first) {
            take(asyncio::current_task().expect("inside the child's poll"));
        }
        Poll::Pending
    })
}

/// Sets its flag when dropped.
struct DropSignal(Arc<AtomicBool>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn own_handle_cancel_races_the_childs_registration_model() {
    own_handle_cancel_races_the_childs_registration();
}

#[test]
#[should_panic(expected = "a child cancelled through its own handle was not woken")]
fn own_handle_cancel_races_the_childs_registration_twin_skip_wake() {
    fault::with(
        Fault::TaskSkipChildCancelWake,
        own_handle_cancel_races_the_childs_registration,
    );
}

/// A child hands its own handle out in its first poll, and its next poll
/// runs on another worker (tokio moves tasks between threads) while a third
/// thread cancels through the handle. The wrapper keeps "the handle is out"
/// in the core, read without the lock before each poll: the second worker
/// must see it, and either end the child (the request came first) or
/// register it again, so that a later request wakes it.
fn own_handle_flag_crosses_workers() {
    loom::model(|| {
        let core = core::<u32, ()>(count_report);
        let handle = Arc::new(loom::sync::Mutex::new(None));
        let dropped = Arc::new(AtomicBool::new(false));
        let future = {
            let handle = handle.clone();
            hands_out_its_handle(&dropped, move |me| *handle.lock().unwrap() = Some(me))
        };
        let child = Box::pin(asyncio::__cores::task::Child::new(future, core.clone()));
        let child = Arc::new(loom::sync::Mutex::new(child));
        let runtime = Recorder::new();
        let first = runtime.poll(|cx| child.lock().unwrap().as_mut().poll(cx));
        assert!(first.is_pending(), "nobody cancelled the child yet");
        let me = handle
            .lock()
            .unwrap()
            .take()
            .expect("the child handed out its handle");

        let canceller = thread::spawn(move || me.cancel());
        let worker = {
            let (child, runtime) = (child.clone(), runtime.clone());
            thread::spawn(move || runtime.poll(|cx| child.lock().unwrap().as_mut().poll(cx)))
        };
        assert!(canceller.join().unwrap(), "the child was still running");
        let second = worker.join().unwrap();

        runtime.settle(
            second,
            |cx| child.lock().unwrap().as_mut().poll(cx),
            CHILD_NOT_WOKEN,
        );
        assert!(dropped.load(Ordering::SeqCst), "{DROPPED_LATE}");
        assert!(core.is_cancelled() && !core.is_failure(), "{WRONG_FLAGS}");
    });
}

#[test]
fn own_handle_flag_crosses_workers_model() {
    own_handle_flag_crosses_workers();
}

#[test]
#[should_panic(expected = "a child cancelled through its own handle was not woken")]
fn own_handle_flag_crosses_workers_twin_watch_not_recorded() {
    fault::with(Fault::TaskWatchNotRecorded, own_handle_flag_crosses_workers);
}
