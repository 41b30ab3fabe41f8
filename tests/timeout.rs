//! `wait_for`, `timeout` / `timeout_at` and `shield`: asyncio behaviours
//! 50–60, 62–78, 80–84 and 86, where Rust can express them. The ones that
//! cannot apply (a cancellation the body catches, swallows or chains) are
//! listed in the porting table with their reasons; the tests below check the
//! crate's side of each.

mod common;

use std::time::Duration;

use asyncio::{RescheduleError, TaskError, TimeoutError};
use common::{DropFlag, Reached};
use tokio::time::Instant;

const SEC: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------- wait_for

#[tokio::test(start_paused = true)]
async fn wait_for_none_is_a_plain_await() {
    // Behaviour 50.
    let slow = async {
        asyncio::sleep(3600 * SEC).await;
        "late but there"
    };
    assert_eq!(asyncio::wait_for(slow, None).await, Ok("late but there"));
}

#[tokio::test(start_paused = true)]
async fn wait_for_drops_the_future_before_returning_timeout() {
    // Behaviour 51: the operand is cancelled and gone before TimeoutError.
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let operand = async move {
        let _guard = guard;
        asyncio::sleep(10 * SEC).await;
    };
    let start = Instant::now();
    assert_eq!(asyncio::wait_for(operand, SEC).await, Err(TimeoutError));
    assert!(
        dropped.dropped(),
        "the operand was dropped before the error"
    );
    assert_eq!(start.elapsed(), SEC);
}

#[tokio::test(start_paused = true)]
async fn wait_for_cancels_a_task_and_waits_until_it_has_finished() {
    // Behaviour 51 for a task operand: cancelled, then waited for.
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let task = asyncio::spawn(async move {
        let _guard = guard;
        asyncio::sleep(10 * SEC).await;
    });
    let handle = task.cancel_handle();
    assert!(matches!(
        asyncio::wait_for(task, SEC).await,
        Err(TimeoutError)
    ));
    assert!(
        handle.is_done(),
        "the task finished before wait_for returned"
    );
    assert!(dropped.dropped());
}

#[tokio::test(start_paused = true)]
async fn wait_for_zero_never_starts_a_future() {
    // Behaviour 53: a coroutine with timeout <= 0 is never started.
    let reached = Reached::new();
    let r = reached.clone();
    let operand = async move { r.hit() };
    assert_eq!(
        asyncio::wait_for(operand, Duration::ZERO).await,
        Err(TimeoutError)
    );
    assert!(!reached.reached());
}

#[tokio::test(start_paused = true)]
async fn wait_for_zero_returns_a_finished_tasks_outcome() {
    // Behaviour 53: an already-done future returns its result.
    let task = asyncio::spawn(async { 11 });
    while !task.is_done() {
        tokio::task::yield_now().await;
    }
    let outcome = asyncio::wait_for(task, Duration::ZERO).await;
    assert_eq!(outcome.unwrap().unwrap(), 11);
}

#[tokio::test(start_paused = true)]
async fn wait_for_zero_cancels_a_running_task() {
    // Behaviour 53: a running task is cancelled.
    let task = asyncio::spawn(asyncio::sleep(10 * SEC));
    let handle = task.cancel_handle();
    tokio::task::yield_now().await;
    assert!(matches!(
        asyncio::wait_for(task, Duration::ZERO).await,
        Err(TimeoutError)
    ));
    assert!(handle.is_done());
}

#[tokio::test(start_paused = true)]
async fn dropping_wait_for_cancels_the_operand() {
    // Behaviour 54: cancelling the caller cancels the inner awaitable.
    let future_dropped = DropFlag::new();
    let guard = future_dropped.guard();
    let operand = async move {
        let _guard = guard;
        asyncio::sleep(10 * SEC).await;
    };
    let task = asyncio::spawn(asyncio::sleep(10 * SEC));
    let handle = task.cancel_handle();
    tokio::select! {
        _ = asyncio::wait_for(operand, 5 * SEC) => unreachable!(),
        _ = asyncio::wait_for(task, 5 * SEC) => unreachable!(),
        _ = asyncio::sleep(SEC) => {}
    }
    assert!(future_dropped.dropped(), "the future operand was dropped");
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(handle.is_done(), "the task operand was cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn wait_for_delivers_a_task_value_that_beats_the_cancellation() {
    // Behaviours 55/56 in the crate's form: the deadline passes and the task
    // is cancelled while it is in synchronous code; it completes before the
    // abort can land, so its value is delivered, not a TimeoutError.
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let task = asyncio::spawn(async move {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap(); // blocks the worker: no await point
        "computed"
    });
    started_rx.await.unwrap();
    // join! polls wait_for first (the zero deadline has passed, so it
    // requests the cancellation), then releases the task.
    let (outcome, ()) = tokio::join!(asyncio::wait_for(task, Duration::ZERO), async move {
        release_tx.send(()).unwrap();
    });
    assert_eq!(
        outcome.expect("completion beats cancellation").unwrap(),
        "computed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn wait_for_delivers_a_task_error_raised_during_the_cancellation() {
    // Behaviour 56 in the crate's form: the deadline passes and the task is
    // cancelled while it is in synchronous code; it returns an error before
    // the abort can land, and that error comes back, not a TimeoutError.
    let (started_tx, started_rx) = tokio::sync::oneshot::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let task = asyncio::try_spawn(async move {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap(); // blocks the worker: no await point
        Err::<(), _>("failed while being cancelled")
    });
    started_rx.await.unwrap();
    let (outcome, ()) = tokio::join!(asyncio::wait_for(task, Duration::ZERO), async move {
        release_tx.send(()).unwrap();
    });
    assert!(matches!(
        outcome,
        Ok(Err(TaskError::Failed("failed while being cancelled")))
    ));
}

#[tokio::test(start_paused = true)]
async fn wait_for_passes_the_operands_error_through() {
    // An error is the operand's output, unchanged.
    let failing = async { Err::<(), _>("inner error") };
    assert_eq!(
        asyncio::wait_for(failing, SEC).await,
        Ok(Err("inner error"))
    );
    let task = asyncio::try_spawn(async { Err::<(), _>("task error") });
    let outcome = asyncio::wait_for(task, SEC).await.unwrap();
    assert!(matches!(outcome, Err(TaskError::Failed("task error"))));
}

#[tokio::test(start_paused = true)]
async fn wait_for_runs_a_future_in_the_callers_task() {
    // Behaviour 57 (3.12+): the operand is awaited in the caller's own task.
    let caller = asyncio::spawn(async {
        let outer = tokio::task::id();
        let inner = asyncio::wait_for(async { tokio::task::id() }, SEC)
            .await
            .unwrap();
        (outer, inner)
    });
    let (outer, inner) = caller.await.unwrap();
    assert_eq!(outer, inner);
}

#[tokio::test(start_paused = true)]
async fn wait_for_on_a_shielded_task_times_out_and_the_task_runs_on() {
    // Behaviour 60.
    let task = asyncio::spawn(async {
        asyncio::sleep(5 * SEC).await;
        "finished anyway"
    });
    let mut shielded = asyncio::shield(task);
    assert!(matches!(
        asyncio::wait_for(&mut shielded, SEC).await,
        Err(TimeoutError)
    ));
    assert_eq!(shielded.await.unwrap(), "finished anyway");
}

#[tokio::test(start_paused = true)]
async fn wait_for_that_completes_in_time_returns_the_value() {
    let operand = async {
        asyncio::sleep(SEC).await;
        3
    };
    assert_eq!(asyncio::wait_for(operand, 2 * SEC).await, Ok(3));
}

// ----------------------------------------------------------------- timeout

#[tokio::test(start_paused = true)]
async fn timeout_cancels_the_body_and_returns_timeout_error() {
    // Behaviour 62: the body is cancelled at its await; TimeoutError at exit.
    let reached_after = Reached::new();
    let r = reached_after.clone();
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    let outcome = scope
        .run(async move {
            asyncio::sleep(10 * SEC).await;
            r.hit();
        })
        .await;
    assert_eq!(outcome, Err(TimeoutError));
    assert!(!reached_after.reached());
    assert!(handle.expired());
}

#[tokio::test(start_paused = true)]
async fn timeout_none_never_fires() {
    // Behaviour 63.
    let scope = asyncio::timeout(None);
    let handle = scope.handle();
    assert_eq!(handle.when(), None);
    let outcome = scope.run(asyncio::sleep(3600 * SEC)).await;
    assert_eq!(outcome, Ok(()));
    assert!(!handle.expired());
}

#[tokio::test(start_paused = true)]
async fn timeout_at_reports_its_deadline() {
    // Behaviour 63: timeout_at(d).when() == d.
    let deadline = Instant::now() + 3 * SEC;
    assert_eq!(
        asyncio::timeout_at(deadline).handle().when(),
        Some(deadline)
    );
    assert_eq!(asyncio::timeout_at(None).handle().when(), None);
}

#[tokio::test(start_paused = true)]
async fn nested_timeouts_with_the_same_deadline_fire_the_innermost() {
    // Behaviour 64, documented difference: the inner scope fires and its
    // TimeoutError is a value the outer body handles.
    let deadline = Instant::now() + SEC;
    let outer = asyncio::timeout_at(deadline);
    let inner = asyncio::timeout_at(deadline);
    let (outer_handle, inner_handle) = (outer.handle(), inner.handle());
    let outcome = outer
        .run(async move { inner.run(asyncio::sleep(10 * SEC)).await })
        .await;
    assert_eq!(outcome, Ok(Err(TimeoutError)));
    assert!(inner_handle.expired());
    assert!(!outer_handle.expired());
}

#[tokio::test(start_paused = true)]
async fn shorter_inner_timeout_caught_inside_leaves_the_outer_running() {
    // Behaviour 65.
    let outer = asyncio::timeout(10 * SEC);
    let outer_handle = outer.handle();
    let outcome = outer
        .run(async {
            let inner = asyncio::timeout(SEC).run(asyncio::sleep(5 * SEC)).await;
            assert_eq!(inner, Err(TimeoutError));
            asyncio::sleep(2 * SEC).await;
            "outer finished"
        })
        .await;
    assert_eq!(outcome, Ok("outer finished"));
    assert!(!outer_handle.expired());
}

#[tokio::test(start_paused = true)]
async fn body_error_passes_through_unchanged_and_not_expired() {
    // Behaviour 66.
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    let outcome = scope.run(async { Err::<(), _>("foreign") }).await;
    assert_eq!(outcome, Ok(Err("foreign")));
    assert!(!handle.expired());
}

#[tokio::test(start_paused = true)]
async fn dropping_a_scope_before_its_deadline_is_not_a_timeout() {
    // Behaviour 67: an outside cancellation is not converted; the crate's
    // form is that the dropped scope returns nothing, is not expired, and
    // is finished: its handle can no longer reschedule it (71).
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let scope = asyncio::timeout(10 * SEC);
    let handle = scope.handle();
    tokio::select! {
        _ = scope.run(async move { let _guard = guard; asyncio::sleep(60 * SEC).await }) => unreachable!(),
        _ = asyncio::sleep(SEC) => {}
    }
    assert!(dropped.dropped());
    assert!(!handle.expired());
    assert_eq!(handle.reschedule(None), Err(RescheduleError::Finished));
}

#[tokio::test(start_paused = true)]
async fn a_cancellation_arriving_with_the_expiry_wins_over_the_timeout() {
    // Behaviour 74: a cancel request after the deadline passed, before the
    // TimeoutError was raised, propagates as a cancellation. Here the
    // awaiter gives up at the very instant the deadline passes, before the
    // scope is polled again: the scope is dropped, never converts, and is
    // not expired.
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    let mut body = Box::pin(scope.run(asyncio::sleep(10 * SEC)));
    assert!(futures::poll!(body.as_mut()).is_pending());
    tokio::time::advance(2 * SEC).await; // the deadline has passed
    drop(body); // cancelled before it could report the timeout
    assert!(!handle.expired());
    assert_eq!(handle.reschedule(None), Err(RescheduleError::Finished));
}

#[tokio::test(start_paused = true)]
async fn a_scope_whose_body_panicked_is_finished() {
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(
        scope.run(async { panic!("body failed") }),
    ))
    .await;
    assert!(outcome.is_err(), "the body's panic propagates through run");
    assert!(!handle.expired());
    assert_eq!(handle.reschedule(None), Err(RescheduleError::Finished));
}

#[tokio::test(start_paused = true)]
async fn timeout_zero_fires_at_the_first_await_even_a_yield() {
    // Behaviour 69: timeout(0) interrupts even `sleep(0)`; the body runs up
    // to its first suspension.
    let before = Reached::new();
    let after = Reached::new();
    let (b, a) = (before.clone(), after.clone());
    let outcome = asyncio::timeout(Duration::ZERO)
        .run(async move {
            b.hit();
            tokio::task::yield_now().await;
            a.hit();
        })
        .await;
    assert_eq!(outcome, Err(TimeoutError));
    assert!(before.reached());
    assert!(!after.reached());
}

#[tokio::test(start_paused = true)]
async fn body_that_never_yields_completes_past_its_deadline() {
    // Behaviour 70: the deadline (already past here) is only checked when
    // the body suspends, and this body never does.
    let scope = asyncio::timeout_at(Instant::now() - SEC);
    let handle = scope.handle();
    let outcome = scope.run(async { "completed" }).await;
    assert_eq!(outcome, Ok("completed"));
    assert!(!handle.expired());
}

#[tokio::test(start_paused = true)]
async fn reschedule_fails_unless_the_scope_is_active() {
    // Behaviour 71: not entered, finished, expired all fail.
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    assert_eq!(handle.reschedule(None), Err(RescheduleError::NotEntered));
    scope.run(async {}).await.unwrap();
    assert_eq!(handle.reschedule(None), Err(RescheduleError::Finished));

    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    assert!(scope.run(asyncio::sleep(5 * SEC)).await.is_err());
    assert_eq!(handle.reschedule(None), Err(RescheduleError::Expired));
    assert_eq!(
        RescheduleError::Expired.to_string(),
        "timeout has already expired"
    );
}

#[tokio::test(start_paused = true)]
async fn reschedule_extends_disables_or_moves_into_the_past() {
    // Behaviour 71: extend.
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    let start = Instant::now();
    let outcome = scope
        .run(async {
            handle.reschedule(start + 5 * SEC).unwrap();
            asyncio::sleep(3 * SEC).await;
            "extended"
        })
        .await;
    assert_eq!(outcome, Ok("extended"));

    // Disable.
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    let outcome = scope
        .run(async {
            handle.reschedule(None).unwrap();
            asyncio::sleep(3600 * SEC).await;
            "disabled"
        })
        .await;
    assert_eq!(outcome, Ok("disabled"));
    assert_eq!(handle.when(), None);

    // Into the past: fires at the next await.
    let scope = asyncio::timeout(3600 * SEC);
    let handle = scope.handle();
    let after = Reached::new();
    let a = after.clone();
    let start = Instant::now();
    let outcome = scope
        .run(async move {
            handle.reschedule(Instant::now() - SEC).unwrap();
            tokio::task::yield_now().await;
            a.hit();
        })
        .await;
    assert_eq!(outcome, Err(TimeoutError));
    assert!(!after.reached());
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn reschedule_from_another_task_rearms_a_waiting_scope() {
    // The handle works from anywhere: moving the deadline earlier from
    // another task wakes the parked scope, which fires at the new deadline.
    let scope = asyncio::timeout(3600 * SEC);
    let handle = scope.handle();
    let start = Instant::now();
    let mover = asyncio::spawn(async move {
        asyncio::sleep(SEC).await;
        handle.reschedule(Instant::now() + SEC).unwrap();
    });
    let outcome = scope.run(asyncio::sleep(3600 * SEC)).await;
    assert_eq!(outcome, Err(TimeoutError));
    assert_eq!(start.elapsed(), 2 * SEC);
    mover.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_scope_dropped_before_entry_converts_nothing() {
    // Behaviour 78 is an asyncio bug (a pending cancel turned into
    // TimeoutError by timeout(0)); in the crate a cancelled scope is a
    // dropped future, never entered, never expired.
    let scope = asyncio::timeout(Duration::ZERO);
    let handle = scope.handle();
    drop(scope.run(asyncio::sleep(SEC)));
    assert!(!handle.expired());
    assert_eq!(handle.reschedule(None), Err(RescheduleError::NotEntered));
}

// ------------------------------------------------------------------ shield

#[tokio::test(start_paused = true)]
async fn shield_of_a_finished_task_completes_at_once() {
    // Behaviour 80's crate form.
    let task = asyncio::spawn(async { 1 });
    while !task.is_done() {
        tokio::task::yield_now().await;
    }
    let shielded = asyncio::shield(task);
    assert_eq!(
        futures::FutureExt::now_or_never(shielded).unwrap().unwrap(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_shield_leaves_the_task_running() {
    // Behaviours 81 and 86: the awaiter is cancelled (and so is the code
    // after the shielded await); the task runs to completion.
    let finished = Reached::new();
    let after_await = Reached::new();
    let (f, a) = (finished.clone(), after_await.clone());
    let task = asyncio::spawn(async move {
        asyncio::sleep(5 * SEC).await;
        f.hit();
    });
    let awaiter = async move {
        asyncio::shield(task).await.unwrap();
        a.hit();
    };
    tokio::select! {
        _ = awaiter => unreachable!(),
        _ = asyncio::sleep(SEC) => {}
    }
    asyncio::sleep(10 * SEC).await;
    assert!(finished.reached(), "the shielded task ran on");
    assert!(
        !after_await.reached(),
        "the code after the shielded await did not"
    );
}

#[tokio::test(start_paused = true)]
async fn cancelling_the_task_is_seen_through_the_shield() {
    // Behaviour 82.
    let task = asyncio::spawn(asyncio::sleep(10 * SEC));
    let handle = task.cancel_handle();
    let shielded = asyncio::shield(task);
    tokio::task::yield_now().await;
    assert!(handle.cancel());
    assert!(matches!(shielded.await, Err(TaskError::Cancelled)));
}

#[tokio::test(start_paused = true)]
async fn shield_passes_results_and_errors_through() {
    // Behaviour 83.
    let ok = asyncio::spawn(async { "ok" });
    assert_eq!(asyncio::shield(ok).await.unwrap(), "ok");
    let failed = asyncio::try_spawn(async { Err::<(), _>("bad") });
    assert!(matches!(
        asyncio::shield(failed).await,
        Err(TaskError::Failed("bad"))
    ));
}

#[tokio::test(start_paused = true)]
async fn shield_gives_the_task_back() {
    let task = asyncio::spawn(async {
        asyncio::sleep(SEC).await;
        9
    });
    let id = task.id();
    let task = asyncio::shield(task).into_task().unwrap();
    assert_eq!(task.id(), id);
    assert_eq!(task.await.unwrap(), 9);
}

// ------------------------------------------------------------------ sleep(0)

// Regression (issue 17, point 1): `asyncio::sleep` was tokio's, whose zero
// duration completes without yielding, so `timeout(0)` did not interrupt
// `sleep(0)` (behaviour 69) and `sleep(0)` let no other task run.
#[tokio::test(start_paused = true)]
async fn timeout_zero_interrupts_sleep_zero() {
    // Behaviour 69, literally: `async with timeout(0): await sleep(0)`.
    let outcome = asyncio::timeout(Duration::ZERO)
        .run(asyncio::sleep(Duration::ZERO))
        .await;
    assert_eq!(outcome, Err(TimeoutError));
    let outcome = asyncio::timeout_at(Instant::now() - SEC)
        .run(asyncio::sleep(Duration::ZERO))
        .await;
    assert_eq!(outcome, Err(TimeoutError));
}

#[tokio::test(flavor = "current_thread")]
async fn sleep_zero_lets_a_waiting_task_run_in_between() {
    // asyncio's `await asyncio.sleep(0)`: yield to the loop once. On one
    // worker the other task can only run if this one yields.
    let ran = Reached::new();
    let other = {
        let ran = ran.clone();
        tokio::spawn(async move { ran.hit() })
    };
    asyncio::sleep(Duration::ZERO).await;
    assert!(ran.reached(), "sleep(0) did not yield");
    other.await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn sleep_zero_lets_a_woken_putter_insert() {
    // The producer pattern the issue names: a consumer frees a slot, then
    // `sleep(0)` lets the blocked putter run and insert before it looks.
    let queue = asyncio::Queue::bounded(1.try_into().unwrap());
    queue.put_nowait(1).unwrap();
    let putter = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.put(2).await })
    };
    asyncio::sleep(Duration::ZERO).await; // the putter blocks
    assert_eq!(queue.get_nowait(), Ok(1));
    asyncio::sleep(Duration::ZERO).await; // the woken putter inserts
    assert_eq!(queue.get_nowait(), Ok(2));
    putter.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn sleep_with_a_duration_is_tokios_timer() {
    let start = Instant::now();
    asyncio::sleep(3 * SEC).await;
    assert_eq!(start.elapsed(), 3 * SEC);
}

// ---------------------------------------------- expired deadlines, 53 and 72

#[tokio::test(start_paused = true)]
async fn an_expired_timeout_still_polls_its_body_once() {
    // Issue 17, point 2: asyncio enters the block and runs it up to its
    // first suspension (the deadline fires via call_soon), so a body ready
    // at its first poll returns its value.
    assert_eq!(
        asyncio::timeout(Duration::ZERO).run(async { 5 }).await,
        Ok(5)
    );
    assert_eq!(
        asyncio::timeout_at(Instant::now() - SEC)
            .run(std::future::ready("ready"))
            .await,
        Ok("ready")
    );
}

#[tokio::test(start_paused = true)]
async fn wait_for_zero_on_a_channel_that_holds_its_value_is_a_timeout() {
    // Behaviour 53 as the crate maps it: only a finished `Task` is an
    // already-done Future; any other future, even one ready at its first
    // poll (a oneshot that already holds its value), is a coroutine that
    // is never started. The README says so.
    let (tx, rx) = tokio::sync::oneshot::channel();
    tx.send(3).unwrap();
    assert_eq!(
        asyncio::wait_for(rx, Duration::ZERO).await,
        Err(TimeoutError)
    );
}

#[test]
fn a_timeout_needs_no_runtime_or_task_to_be_built() {
    // Behaviour 72's second half does not apply: asyncio needs a running
    // loop to create a timeout and a current task to enter it; a crate
    // timeout is built anywhere, and run wherever it is polled.
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    assert_eq!(handle.reschedule(None), Err(RescheduleError::NotEntered));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(scope.run(async { 1 })), Ok(1));
}

// --- Issue 14 point 8: behaviours 60 and 79, tested as asyncio states them.

#[tokio::test(start_paused = true)]
async fn wait_for_on_a_shield_given_by_value_times_out_and_the_task_runs_on() {
    // Behaviour 60, with the shield moved in (and dropped by the timeout):
    // the task is detached, not cancelled, and finishes.
    let finished = common::Reached::new();
    let reached = finished.clone();
    let task = asyncio::spawn(async move {
        asyncio::sleep(5 * SEC).await;
        reached.hit();
    });
    let handle = task.cancel_handle();
    assert!(matches!(
        asyncio::wait_for(asyncio::shield(task), SEC).await,
        Err(TimeoutError)
    ));
    assert!(!handle.is_done());
    handle.done().await;
    assert!(!handle.is_cancelled(), "the shielded task ran on");
    assert!(finished.reached());
}

#[tokio::test(start_paused = true)]
async fn a_timeout_shows_its_phase_in_debug() {
    // Behaviour 79: asyncio's repr shows active / expired / finished.
    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    assert!(format!("{handle:?}").contains("Created"), "{handle:?}");
    let inside = handle.clone();
    let seen_inside = scope
        .run(async move { format!("{inside:?}") })
        .await
        .unwrap();
    assert!(seen_inside.contains("Active"), "{seen_inside}");
    assert!(format!("{handle:?}").contains("Finished"), "{handle:?}");

    let scope = asyncio::timeout(SEC);
    let handle = scope.handle();
    assert!(scope.run(asyncio::sleep(5 * SEC)).await.is_err());
    assert!(format!("{handle:?}").contains("Expired"), "{handle:?}");
    assert!(format!("{scope_debug:?}", scope_debug = asyncio::timeout(SEC)).contains("Created"));
}

// --- Issue 18 point 3: a scope makes its shared core only when a handle is
// asked for. These pin what a scope without one, or with one asked for late,
// still does.

#[tokio::test(start_paused = true)]
async fn a_handle_asked_for_while_the_scope_runs_can_reschedule_it() {
    // The scope ran without a core; the handle's core starts from the
    // scope's state (active, its deadline), and the scope obeys it.
    let start = Instant::now();
    let mut scope = Box::pin(asyncio::timeout(SEC).run(asyncio::sleep(10 * SEC)));
    assert!(futures::poll!(scope.as_mut()).is_pending());
    let handle = scope.handle();
    assert_eq!(handle.when(), Some(start + SEC));
    assert!(format!("{handle:?}").contains("Active"), "{handle:?}");
    handle.reschedule(start + 3 * SEC).unwrap();
    assert_eq!(scope.as_mut().await, Err(TimeoutError));
    assert_eq!(start.elapsed(), 3 * SEC, "it fired at the new deadline");
    assert!(handle.expired());
}

#[tokio::test(start_paused = true)]
async fn a_handle_asked_for_late_can_move_a_disabled_deadline_earlier() {
    let start = Instant::now();
    let mut scope = Box::pin(asyncio::timeout(None).run(asyncio::sleep(10 * SEC)));
    assert!(futures::poll!(scope.as_mut()).is_pending());
    scope.handle().reschedule(start + 2 * SEC).unwrap();
    assert_eq!(scope.as_mut().await, Err(TimeoutError));
    assert_eq!(start.elapsed(), 2 * SEC);
}

#[tokio::test(start_paused = true)]
async fn a_scope_without_a_handle_shows_its_phase_in_debug() {
    // Behaviour 79 for a scope nobody holds a handle to.
    let mut scope = Box::pin(asyncio::timeout(SEC).run(asyncio::sleep(10 * SEC)));
    assert!(format!("{scope:?}").contains("Created"), "{scope:?}");
    assert!(futures::poll!(scope.as_mut()).is_pending());
    assert!(format!("{scope:?}").contains("Active"), "{scope:?}");
    assert_eq!(scope.as_mut().await, Err(TimeoutError));
    assert!(format!("{scope:?}").contains("Expired"), "{scope:?}");

    let mut scope = Box::pin(asyncio::timeout(SEC).run(async { 1 }));
    assert_eq!(scope.as_mut().await, Ok(1));
    assert!(format!("{scope:?}").contains("Finished"), "{scope:?}");
}

#[tokio::test(start_paused = true)]
async fn a_handle_asked_for_after_the_scope_ended_reports_how_it_ended() {
    // Behaviour 71 through a late handle: finished and expired scopes
    // refuse to move, and `expired()` says which one it was.
    let mut scope = Box::pin(asyncio::timeout(SEC).run(async { 1 }));
    assert_eq!(scope.as_mut().await, Ok(1));
    let handle = scope.handle();
    assert!(!handle.expired());
    assert_eq!(handle.reschedule(None), Err(RescheduleError::Finished));

    let mut scope = Box::pin(asyncio::timeout(SEC).run(asyncio::sleep(5 * SEC)));
    assert_eq!(scope.as_mut().await, Err(TimeoutError));
    let handle = scope.handle();
    assert!(handle.expired());
    assert_eq!(handle.reschedule(None), Err(RescheduleError::Expired));

    let scope = asyncio::timeout(SEC).run(async { 1 });
    assert_eq!(
        scope.handle().reschedule(None),
        Err(RescheduleError::NotEntered)
    );
}

#[tokio::test(start_paused = true)]
async fn handles_of_one_scope_share_its_deadline() {
    // However many handles are asked for, before or after `run`, they
    // read and move one deadline.
    let start = Instant::now();
    let timeout = asyncio::timeout(SEC);
    let before = timeout.handle();
    let mut scope = Box::pin(timeout.run(asyncio::sleep(10 * SEC)));
    let after = scope.handle();
    assert!(futures::poll!(scope.as_mut()).is_pending());
    after.reschedule(start + 4 * SEC).unwrap();
    assert_eq!(before.when(), Some(start + 4 * SEC));
    assert_eq!(scope.as_mut().await, Err(TimeoutError));
    assert_eq!(start.elapsed(), 4 * SEC);
    assert!(before.expired());
}

#[tokio::test(start_paused = true)]
async fn a_scope_without_a_handle_fires_at_its_deadline() {
    let start = Instant::now();
    let outcome = asyncio::timeout(2 * SEC)
        .run(asyncio::sleep(10 * SEC))
        .await;
    assert_eq!(outcome, Err(TimeoutError));
    assert_eq!(start.elapsed(), 2 * SEC);
    let outcome = asyncio::timeout(2 * SEC).run(asyncio::sleep(SEC)).await;
    assert_eq!(outcome, Ok(()));
    assert_eq!(start.elapsed(), 3 * SEC);
}

#[test]
fn every_public_timeout_future_can_be_named_in_a_struct() {
    // Issue 14 point 1: the futures' types name only public types, so a
    // user can store them.
    #[allow(dead_code)] // only the types are under test
    struct Holder<F: std::future::Future> {
        scope: asyncio::timeout::Scope<F>,
        wait_for_future: asyncio::timeout::WaitFor<F>,
        wait_for_task: asyncio::timeout::WaitFor<asyncio::Task<u8>>,
        wait_for_gather: asyncio::timeout::WaitFor<asyncio::Gather<u8>>,
        shield: asyncio::Shield<u8, std::io::Error>,
        sleep: asyncio::Sleep,
        timeout: asyncio::Timeout,
        handle: asyncio::TimeoutHandle,
    }
    fn output<A: asyncio::timeout::Awaitable<Output = O>, O>(_: &asyncio::timeout::WaitFor<A>) {}
    let ready = asyncio::wait_for(std::future::ready(1_u8), SEC);
    output::<_, u8>(&ready);
}

#[tokio::test(start_paused = true)]
async fn wait_for_counts_its_timeout_from_the_first_poll() {
    // As asyncio's `wait_for` coroutine starts its timeout when it runs:
    // built at 0 s and first awaited at 2 s, a 3 s wait_for ends at 5 s at
    // the latest, so an operand that runs from 2 s to 4 s completes.
    let start = Instant::now();
    let operand = async {
        asyncio::sleep(2 * SEC).await;
        "in time"
    };
    let waiting = asyncio::wait_for(operand, 3 * SEC);
    asyncio::sleep(2 * SEC).await;
    assert_eq!(waiting.await, Ok("in time"));
    assert_eq!(start.elapsed(), 4 * SEC);

    let waiting = asyncio::wait_for(asyncio::sleep(3600 * SEC), 3 * SEC);
    asyncio::sleep(2 * SEC).await;
    let awaited = Instant::now();
    assert_eq!(waiting.await, Err(TimeoutError));
    assert_eq!(awaited.elapsed(), 3 * SEC);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_at_in_the_past_fires_at_the_first_await() {
    // Behaviour 69 for an absolute deadline: checked against the clock
    // when the body first yields.
    let after = Reached::new();
    let a = after.clone();
    let start = Instant::now();
    let outcome = asyncio::timeout_at(start - SEC)
        .run(async move {
            tokio::task::yield_now().await;
            a.hit();
        })
        .await;
    assert_eq!(outcome, Err(TimeoutError));
    assert!(!after.reached());
    assert_eq!(start.elapsed(), Duration::ZERO);
}
