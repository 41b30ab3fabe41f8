//! `Task`, `spawn`, `try_spawn`: asyncio's Task semantics (behaviours 1–3, 8,
//! 12 as decided by SPEC decision 3) and the crate's outcome type.

mod common;

use std::error::Error;
use std::future::IntoFuture;
use std::time::Duration;

use asyncio::{Task, TaskError};
use common::{DropFlag, Reached};

#[tokio::test]
async fn spawned_task_starts_without_being_awaited() {
    // SPEC decision 1: children start when spawned, as asyncio's create_task.
    let reached = Reached::new();
    let r = reached.clone();
    let task = asyncio::spawn(async move { r.hit() });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(reached.reached(), "the task ran without anyone awaiting it");
    assert!(task.is_done());
}

#[tokio::test]
async fn awaiting_a_task_yields_its_value() {
    let task = asyncio::spawn(async { "value" });
    assert_eq!(task.await.unwrap(), "value");
}

#[tokio::test]
async fn try_spawn_err_is_the_tasks_failure() {
    let task = asyncio::try_spawn(async { Err::<(), _>("boom") });
    match task.await {
        Err(TaskError::Failed(error)) => assert_eq!(error, "boom"),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn panic_is_caught_with_its_message_and_payload() {
    let task = asyncio::spawn(async { panic!("child exploded") });
    let error = task.await.unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.to_string(), "task panicked: child exploded");
    let panic = error.into_panic().unwrap();
    assert_eq!(panic.message(), "child exploded");
    let payload = panic.into_payload();
    assert_eq!(*payload.downcast::<&str>().unwrap(), "child exploded");
}

#[tokio::test]
async fn resumed_panic_carries_the_original_payload() {
    let task = asyncio::spawn(async { std::panic::panic_any(42_u32) });
    let panic = task.await.unwrap_err().into_panic().unwrap();
    assert_eq!(panic.message(), "Box<dyn Any>");
    let resumed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| panic.resume()));
    assert_eq!(*resumed.unwrap_err().downcast::<u32>().unwrap(), 42);
}

#[tokio::test]
async fn cancel_on_finished_task_returns_false_and_keeps_its_outcome() {
    // Behaviour 1.
    let task = asyncio::spawn(async { 5 });
    while !task.is_done() {
        tokio::task::yield_now().await;
    }
    assert!(!task.cancel());
    assert!(!task.is_cancelled());
    assert_eq!(task.await.unwrap(), 5);
}

#[tokio::test(start_paused = true)]
async fn cancel_on_pending_task_returns_true_and_is_cancelled_only_once_it_ends() {
    // Behaviour 2.
    let task = asyncio::spawn(asyncio::sleep(Duration::from_secs(10)));
    tokio::task::yield_now().await;
    assert!(task.cancel());
    assert!(
        !task.is_cancelled(),
        "cancelled() stays false until the task ends"
    );
    let handle = task.cancel_handle();
    assert!(matches!(task.await, Err(TaskError::Cancelled)));
    assert!(handle.is_done());
}

#[tokio::test]
async fn cancel_before_first_poll_runs_none_of_the_body() {
    // Behaviour 3 (current-thread runtime: the task has not run yet).
    let reached = Reached::new();
    let r = reached.clone();
    let task = asyncio::spawn(async move { r.hit() });
    assert!(task.cancel());
    assert!(matches!(task.await, Err(TaskError::Cancelled)));
    assert!(!reached.reached());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_future_awaiting_a_task_cancels_the_task() {
    // Behaviour 8: the awaiter's cancellation is passed on to the task.
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let task = asyncio::spawn(async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(60)).await;
    });
    let handle = task.cancel_handle();
    tokio::select! {
        _ = task => unreachable!("the task sleeps for a minute"),
        _ = asyncio::sleep(Duration::from_secs(1)) => {}
    }
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(dropped.dropped(), "the awaited task was cancelled");
    assert!(handle.is_done());
}

#[tokio::test(start_paused = true)]
async fn dropping_a_task_handle_detaches_the_task() {
    // SPEC decision 3: dropping a Task detaches it; it runs to completion.
    let reached = Reached::new();
    let r = reached.clone();
    let task = asyncio::spawn(async move {
        asyncio::sleep(Duration::from_secs(1)).await;
        r.hit();
    });
    let handle = task.cancel_handle();
    drop(task);
    asyncio::sleep(Duration::from_secs(2)).await;
    assert!(reached.reached());
    assert!(handle.is_done());
    assert!(!handle.cancel(), "too late: it finished");
}

#[tokio::test(start_paused = true)]
async fn cancel_handle_cancels_a_task_owned_elsewhere() {
    let task = asyncio::spawn(asyncio::sleep(Duration::from_secs(60)));
    let handle = task.cancel_handle();
    let clone = handle.clone();
    assert_eq!(clone.id(), task.id());
    let owner = asyncio::spawn(async move { task.await });
    tokio::task::yield_now().await;
    assert!(clone.cancel());
    let inner = owner.await.unwrap();
    assert!(matches!(inner, Err(TaskError::Cancelled)));
    assert!(!handle.cancel(), "a second cancel is too late");
}

#[test]
fn runtime_shutdown_cancels_its_tasks() {
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let task: Task<()> = first.block_on(async move {
        asyncio::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        })
    });
    drop(first);
    assert!(dropped.dropped());
    assert!(task.is_done() && task.is_cancelled());
    let second = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert!(matches!(
        second.block_on(async move { task.await }),
        Err(TaskError::Cancelled)
    ));
}

#[test]
#[should_panic(expected = "spawned outside a tokio runtime")]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let _ = asyncio::spawn(async {});
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_beats_a_racing_cancel_and_no_value_is_lost() {
    // SPEC decision 3: when cancel() races completion, a computed value is
    // delivered; cancel() returning false means the value is there.
    let mut delivered = 0;
    let mut cancelled = 0;
    for i in 0..2_000_u32 {
        let task = asyncio::spawn(async move { i });
        let requested = task.cancel();
        match task.await {
            Ok(value) => {
                assert_eq!(value, i);
                delivered += 1;
            }
            Err(TaskError::Cancelled) => {
                assert!(
                    requested,
                    "a task can only end cancelled if cancel() said true"
                );
                cancelled += 1;
            }
            Err(other) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(delivered + cancelled, 2_000);
}

#[tokio::test]
async fn is_cancelled_reports_how_the_task_ended() {
    let ok = asyncio::spawn(async {});
    let ok_handle = ok.cancel_handle();
    ok.await.unwrap();
    assert!(ok_handle.is_done());

    let cancelled = asyncio::spawn(std::future::pending::<()>());
    cancelled.cancel();
    while !cancelled.is_done() {
        tokio::task::yield_now().await;
    }
    assert!(cancelled.is_cancelled());
}

#[tokio::test]
async fn task_error_is_an_error_with_its_source() {
    let task = asyncio::try_spawn(async {
        Err::<(), _>(common::Layered::new("no such file", "inode 12 missing"))
    });
    let error = task.await.unwrap_err();
    // Transparent, as io::Error around a custom error: the task's own error
    // is the message, and the chain goes on from its source, each message
    // once.
    assert_eq!(error.to_string(), "no such file");
    assert_eq!(error.source().unwrap().to_string(), "inode 12 missing");
    assert_eq!(common::chain(&error), ["no such file", "inode 12 missing"]);
    let boxed: Box<dyn Error + Send + Sync> = Box::new(error);
    assert_eq!(boxed.to_string(), "no such file");
}

#[tokio::test]
async fn map_failure_keeps_cancellation_and_panic() {
    let failed: TaskError<&str> = TaskError::Failed("x");
    assert!(matches!(failed.map_failure(str::len), TaskError::Failed(1)));
    let cancelled: TaskError<&str> = TaskError::Cancelled;
    assert!(cancelled.map_failure(str::len).is_cancelled());
}

#[tokio::test]
async fn task_ids_are_unique_and_named_in_display() {
    let a = asyncio::spawn(async {});
    let b = asyncio::spawn(async {});
    assert_ne!(a.id(), b.id());
    assert_eq!(a.id().to_string(), format!("task {}", a.id().as_u64()));
}

/// Regression: a child whose future panics in its destructor while being
/// aborted lost that panic (tokio swallows panics of aborted tasks, and the
/// core recorded "cancelled"). SPEC decision 6: panics are never lost.
#[tokio::test(start_paused = true)]
async fn panic_in_an_aborted_childs_destructor_is_the_tasks_panic() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("cleanup exploded");
        }
    }
    let task = asyncio::spawn(async {
        let _guard = PanicsOnDrop;
        asyncio::sleep(Duration::from_secs(60)).await;
    });
    tokio::task::yield_now().await;
    assert!(task.cancel());
    let error = task.await.unwrap_err();
    assert!(error.is_panic(), "got {error:?}");
    assert_eq!(error.into_panic().unwrap().message(), "cleanup exploded");
}

/// Every task's core holds a `Result<T, TaskError<E>>`, and every outcome a
/// caller handles is one: a boxed panic keeps `TaskError` a pointer wide.
/// At 48 bytes it pushed the core's allocation out of the allocator's
/// fast size classes, and draining 100k tasks took about 145 ms instead of
/// about 100 ms.
#[test]
fn task_error_is_small() {
    use std::convert::Infallible;
    use std::mem::size_of;
    assert!(size_of::<asyncio::TaskError<Infallible>>() <= size_of::<usize>());
    assert!(size_of::<asyncio::Panic>() <= size_of::<usize>());
    assert!(size_of::<asyncio::TaskError<std::io::Error>>() <= 2 * size_of::<usize>());
}

// --- Issue 12 point 2 and issue 19 point 3: borrowing a task, waiting on a
// cancel handle, the predicates. Issue 12 point 7: the coop budget.

#[tokio::test(start_paused = true)]
async fn borrowed_task_in_select_is_not_cancelled_when_its_branch_loses() {
    let mut task = asyncio::spawn(async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "finished"
    });
    let mut losses = 0;
    for _ in 0..3 {
        tokio::select! {
            _ = &mut task => panic!("the task cannot finish before 5 s"),
            _ = tokio::time::sleep(Duration::from_secs(1)) => losses += 1,
        }
    }
    assert_eq!(losses, 3);
    assert!(!task.is_done() && !task.is_cancelled());
    // The owner still holds the task, which ran on.
    assert_eq!(task.await.unwrap(), "finished");
}

#[tokio::test]
async fn borrowed_await_takes_the_outcome_and_is_then_terminated() {
    use futures::future::FusedFuture;
    let mut task = asyncio::spawn(async { 7 });
    {
        let mut borrowed = std::future::IntoFuture::into_future(&mut task);
        assert!(!borrowed.is_terminated());
        assert_eq!((&mut borrowed).await.unwrap(), 7);
        assert!(borrowed.is_terminated());
    }
    assert!(task.is_done() && !task.is_cancelled() && !task.is_failed());
}

#[tokio::test]
#[should_panic(expected = "taken twice")]
async fn awaiting_a_task_after_a_borrowed_await_returned_panics() {
    let mut task = asyncio::spawn(async { 7 });
    assert_eq!((&mut task).await.unwrap(), 7);
    let _ = task.await;
}

#[tokio::test]
async fn predicates_tell_how_a_task_ended_and_stay_after_the_outcome_is_read() {
    // asyncio's done() / cancelled() / exception() read as often as wanted.
    let failed = asyncio::try_spawn(async { Err::<(), _>("boom") });
    let cancelled = asyncio::spawn(std::future::pending::<()>());
    let fine = asyncio::spawn(async { 1 });
    let handles = [
        failed.cancel_handle(),
        cancelled.cancel_handle(),
        fine.cancel_handle(),
    ];
    assert!(cancelled.cancel());
    for handle in &handles {
        handle.done().await;
    }
    let flags = |h: &asyncio::CancelHandle| (h.is_done(), h.is_cancelled(), h.is_failed());
    assert_eq!(flags(&handles[0]), (true, false, true));
    assert_eq!(flags(&handles[1]), (true, true, false));
    assert_eq!(flags(&handles[2]), (true, false, false));
    assert!(failed.is_failed() && !failed.is_cancelled());
    assert!(cancelled.is_cancelled() && !cancelled.is_failed());
    assert!(failed.await.is_err());
    assert!(cancelled.await.is_err());
    assert_eq!(fine.await.unwrap(), 1);
    // Reading the outcomes changed nothing the handles say.
    assert_eq!(flags(&handles[0]), (true, false, true));
    assert_eq!(flags(&handles[1]), (true, true, false));
}

#[tokio::test(start_paused = true)]
async fn cancel_handle_done_waits_without_taking_the_outcome() {
    let task = asyncio::spawn(async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        "kept"
    });
    let handle = task.cancel_handle();
    // A `done()` dropped before the end changes nothing.
    assert!(tokio::time::timeout(Duration::from_secs(1), handle.done())
        .await
        .is_err());
    // Two waiters, one through `.await` on a clone: both see the end.
    let (a, b) = tokio::join!(handle.done(), handle.clone());
    let ((), ()) = (a, b);
    assert!(handle.is_done() && !handle.is_cancelled());
    assert_eq!(task.await.unwrap(), "kept");
}

#[tokio::test(start_paused = true)]
async fn done_on_a_detached_task_still_completes() {
    let task = asyncio::spawn(tokio::time::sleep(Duration::from_secs(1)));
    let handle = task.cancel_handle();
    drop(task);
    handle.done().await;
    assert!(handle.is_done());
}

// Issue 12 point 7: awaiting tasks that are already finished completed at
// every poll without spending tokio's budget, so a loop over them starved
// the other tasks on its worker (a `JoinHandle` spends it).
#[tokio::test(flavor = "current_thread")]
async fn busy_loop_over_finished_tasks_yields_to_other_tasks() {
    for by_borrow in [false, true] {
        let tasks: Vec<_> = (0..1_000)
            .map(|n| asyncio::spawn(async move { n }))
            .collect();
        // Let every task finish, so that each await below is ready at once.
        while !tasks.iter().all(Task::is_done) {
            tokio::task::yield_now().await;
        }
        let bystander = common::Bystander::spawn();
        let mut seen_at = None;
        for (n, mut task) in tasks.into_iter().enumerate() {
            let value = if by_borrow {
                (&mut task).await
            } else {
                task.await
            };
            assert_eq!(value.unwrap(), n);
            if seen_at.is_none() && bystander.ran() {
                seen_at = Some(n);
            }
        }
        let seen_at = seen_at.expect("the other task never ran during the loop");
        assert!(
            seen_at < 200,
            "it ran only after {seen_at} awaits (borrowed: {by_borrow})"
        );
        bystander.join().await;
    }
}

// --- Issue 17 point 3: `current_task()`.

#[tokio::test]
async fn current_task_is_none_outside_a_task_the_crate_spawned() {
    assert!(asyncio::current_task().is_none(), "the test's own future");
    let plain = tokio::spawn(async { asyncio::current_task().is_none() });
    assert!(plain.await.unwrap(), "a plain tokio task");
    let blocking = tokio::task::spawn_blocking(|| asyncio::current_task().is_none());
    assert!(blocking.await.unwrap(), "a spawn_blocking closure");
}

#[tokio::test]
async fn current_task_names_the_task_it_runs_in() {
    let task = asyncio::spawn(async {
        let me = asyncio::current_task().expect("spawned by the crate");
        tokio::task::yield_now().await;
        // Still the same task after an await (it may resume elsewhere).
        let again = asyncio::current_task().unwrap();
        assert_eq!(me.id(), again.id());
        assert!(!me.is_done());
        me.id()
    });
    let id = task.id();
    assert_eq!(task.await.unwrap(), id);
}

#[tokio::test]
async fn a_task_that_cancels_itself_stops_at_its_next_await() {
    // asyncio: `current_task().cancel()` then the next await raises
    // CancelledError (behaviour 2: the request is delivered at a suspension).
    let after_await = Reached::new();
    let reached = after_await.clone();
    let task = asyncio::spawn(async move {
        assert!(asyncio::current_task().unwrap().cancel());
        tokio::task::yield_now().await;
        reached.hit();
    });
    assert!(matches!(task.await, Err(TaskError::Cancelled)));
    assert!(
        !after_await.reached(),
        "the task ran past the await it was cancelled at"
    );
}

#[tokio::test]
async fn a_task_that_cancels_itself_and_returns_delivers_its_value() {
    // asyncio behaviour 9 discards the value; the crate cannot throw into a
    // task that returns, and completion beats cancellation (SPEC decision 3).
    let task = asyncio::spawn(async {
        asyncio::current_task().unwrap().cancel();
        "returned"
    });
    assert_eq!(task.await.unwrap(), "returned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_handed_its_own_handle_to_a_helper_is_cancelled_where_it_waits() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let resumed = Reached::new();
    let flag = resumed.clone();
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let task = asyncio::spawn(async move {
        let _guard = guard;
        tx.send(asyncio::current_task().unwrap()).unwrap();
        // Woken by nothing but the cancel.
        std::future::pending::<()>().await;
        flag.hit();
    });
    let handle = rx.await.unwrap();
    assert_eq!(handle.id(), task.id());
    let helper = asyncio::spawn(async move { handle.cancel() });
    assert!(helper.await.unwrap(), "the task was running");
    assert!(matches!(task.await, Err(TaskError::Cancelled)));
    assert!(!resumed.reached());
    assert!(
        dropped.dropped(),
        "the task's future was dropped before it ended"
    );
}

#[tokio::test]
async fn own_handle_cancel_after_completion_is_too_late() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = asyncio::spawn(async move {
        tx.send(asyncio::current_task().unwrap()).unwrap();
        5
    });
    let handle = rx.await.unwrap();
    assert_eq!(task.await.unwrap(), 5);
    assert!(!handle.cancel(), "behaviour 1: cancel() on a finished task");
    assert!(!handle.is_cancelled());
}

#[tokio::test]
async fn gathered_children_and_set_members_reach_their_own_handle() {
    let ids = asyncio::gather((0..3).map(|_| async { asyncio::current_task().map(|me| me.id()) }))
        .await
        .unwrap();
    assert!(ids.iter().all(Option::is_some));
    let mut set = asyncio::TaskSet::new();
    set.spawn(async { asyncio::current_task().is_some() });
    let task = set.next_completed().await.unwrap();
    assert!(task.await.unwrap());
}

// --- Issue 12 point 5: local and explicit-runtime spawning.

#[tokio::test]
async fn spawn_local_runs_a_future_that_is_not_send() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let state = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..3)
                .map(|n| {
                    let state = state.clone();
                    asyncio::spawn_local(async move {
                        tokio::task::yield_now().await;
                        state.borrow_mut().push(n);
                        n * 10
                    })
                })
                .collect();
            assert_eq!(asyncio::gather(tasks).await.unwrap(), [0, 10, 20]);
            assert_eq!(state.borrow().len(), 3);

            // Fallible, cancellable, and it reaches its own handle.
            let failing = asyncio::try_spawn_local(async {
                let _not_send = Rc::new(());
                Err::<(), _>("local failure")
            });
            assert!(matches!(
                failing.await,
                Err(TaskError::Failed("local failure"))
            ));
            let sleeper = asyncio::spawn_local(async {
                let _not_send = Rc::new(());
                asyncio::current_task().expect("a local task is the crate's");
                std::future::pending::<()>().await
            });
            tokio::task::yield_now().await;
            assert!(sleeper.cancel());
            assert!(matches!(sleeper.await, Err(TaskError::Cancelled)));
        })
        .await;
}

#[tokio::test]
#[should_panic(expected = "LocalSet")]
async fn spawn_local_outside_a_local_set_panics() {
    let _task = asyncio::spawn_local(async {});
}

#[test]
fn spawn_on_runs_on_the_named_runtime_from_outside_any() {
    let first = tokio::runtime::Runtime::new().unwrap();
    let second = tokio::runtime::Runtime::new().unwrap();
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "no runtime is current"
    );
    let on_first = asyncio::spawn_on(first.handle(), async { asyncio::current_task().is_some() });
    let on_second = asyncio::try_spawn_on(second.handle(), async { Ok::<_, ()>(2) });
    assert!(on_first.id() != on_second.id());
    assert!(
        first.block_on(on_first.into_future()).unwrap(),
        "it ran as the crate's task"
    );
    // Tasks of two runtimes gathered together: asyncio refuses futures of
    // two loops; the crate's completion cores belong to no runtime.
    let a = asyncio::spawn_on(first.handle(), async { 1 });
    let b = asyncio::spawn_on(second.handle(), async { 2 });
    let both = first.block_on(async { asyncio::gather([a, b]).await.unwrap() });
    assert_eq!(both, [1, 2]);
    assert_eq!(second.block_on(on_second.into_future()).unwrap(), 2);
}

// --- Issue 19 point 1: a cancellation that travels up a chain of awaits.

#[tokio::test]
async fn a_propagated_cancellation_travels_up_a_chain_of_awaits() {
    // asyncio: a task awaiting a cancelled task, not catching the
    // CancelledError, ends cancelled itself (behaviour 8's other half).
    let innermost = asyncio::try_spawn(std::future::pending::<Result<u8, String>>());
    let handle = innermost.cancel_handle();
    let after_await = Reached::new();
    let reached = after_await.clone();
    let middle = asyncio::try_spawn(async move {
        let value = innermost.propagate().await?;
        reached.hit();
        Ok::<u8, String>(value)
    });
    let outer = asyncio::try_spawn(async move { Ok::<u8, String>(middle.propagate().await? + 1) });
    let outer_handle = outer.cancel_handle();
    tokio::task::yield_now().await;
    assert!(handle.cancel());
    assert!(matches!(outer.await, Err(TaskError::Cancelled)));
    assert!(outer_handle.is_cancelled() && !outer_handle.is_failed());
    assert!(!after_await.reached(), "the middle task ran past its await");
}

#[tokio::test]
async fn propagate_hands_over_values_and_failures_and_continues_panics() {
    let value = asyncio::try_spawn(async { Ok::<_, String>(2) });
    let outer = asyncio::try_spawn(async move { Ok::<_, String>(value.propagate().await? * 10) });
    assert_eq!(outer.await.unwrap(), 20);

    let failing = asyncio::try_spawn(async { Err::<u8, _>("inner".to_string()) });
    let outer = asyncio::try_spawn(async move { failing.propagate().await });
    assert!(matches!(outer.await, Err(TaskError::Failed(e)) if e == "inner"));

    let panicking = asyncio::spawn(async { panic!("inner panic") });
    let outer = asyncio::spawn(async move { panicking.propagate().await });
    match outer.await {
        Err(TaskError::Panicked(panic)) => assert_eq!(panic.message(), "inner panic"),
        other => panic!("the panic did not continue: {other:?}"),
    }
}

#[tokio::test]
async fn primitives_see_a_propagated_cancellation_as_a_cancellation() {
    // Gather, wait and as_completed treat it exactly as a direct one.
    fn outer_of_cancelled() -> Task<u8, String> {
        let inner = asyncio::try_spawn(std::future::pending::<Result<u8, String>>());
        inner.cancel();
        asyncio::try_spawn(async move { inner.propagate().await })
    }
    let error = asyncio::try_gather([outer_of_cancelled()])
        .await
        .unwrap_err();
    assert!(error.is_cancelled(), "gather (behaviour 21)");
    let outcomes = asyncio::try_gather([outer_of_cancelled()])
        .return_exceptions()
        .await;
    assert!(
        matches!(outcomes[0], Err(TaskError::Cancelled)),
        "return_exceptions (22)"
    );
    let mut set: asyncio::TaskSet<u8, String> = [outer_of_cancelled()].into_iter().collect();
    let done = asyncio::wait(&mut set, asyncio::ReturnWhen::FirstException, None)
        .await
        .unwrap();
    assert!(done[0].is_cancelled(), "wait: done, and not an exception");
    use futures::StreamExt;
    let mut stream = asyncio::try_as_completed([outer_of_cancelled()], None);
    let item = stream.next().await.unwrap();
    assert!(matches!(
        item.unwrap_err().into_task_error(),
        Some(TaskError::Cancelled)
    ));
}

#[test]
fn propagating_a_cancellation_outside_a_crate_task_panics_with_a_clear_message() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            let task = asyncio::spawn(std::future::pending::<()>());
            task.cancel();
            let _ = task.propagate().await;
        })
    }));
    let payload = outcome.unwrap_err();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(
        message.contains("outside a task the crate spawned"),
        "{message}"
    );
}

#[tokio::test]
async fn flatten_unnests_an_outcome_forwarded_with_question_mark() {
    let inner = asyncio::try_spawn(std::future::pending::<Result<u8, String>>());
    inner.cancel();
    let outer = asyncio::try_spawn(async move {
        let value = inner.await?;
        Ok::<u8, TaskError<String>>(value + 1)
    });
    match outer.await {
        Err(TaskError::Failed(nested)) => assert!(nested.is_cancelled()),
        other => panic!("expected the nested form: {other:?}"),
    }
    let nested: TaskError<TaskError<String>> = TaskError::Failed(TaskError::Cancelled);
    assert!(nested.flatten().is_cancelled());
}

// --- Task group children reach their own handle too (issues 17 and 19).

#[tokio::test]
async fn a_group_child_reaches_its_own_handle_and_cancelling_through_it_is_not_an_error() {
    // Behaviour 93: a child cancelled on its own does not fail the group.
    let outcome = asyncio::task_group(|tg| async move {
        let child = tg
            .spawn(async {
                let me = asyncio::current_task().expect("a group child is the crate's task");
                me.cancel();
                std::future::pending::<()>().await
            })
            .unwrap();
        let id = child.id();
        let ended = child.await;
        assert!(matches!(ended, Err(TaskError::Cancelled)), "{ended:?}");
        Ok::<_, String>(id)
    })
    .await;
    assert!(matches!(outcome, Ok(Some(_))), "{outcome:?}");
}

#[tokio::test]
async fn a_cancellation_propagated_by_a_group_child_is_not_an_error_of_the_group() {
    let outcome = asyncio::task_group(|tg| async move {
        let inner = asyncio::spawn(std::future::pending::<u8>());
        inner.cancel();
        let child = tg
            .spawn(async move { inner.propagate().await.unwrap_or(0) })
            .unwrap();
        let handle = child.cancel_handle();
        drop(child);
        handle.done().await;
        assert!(handle.is_cancelled(), "the child ended cancelled");
        Ok::<_, String>("body done")
    })
    .await;
    assert!(matches!(outcome, Ok(Some("body done"))), "{outcome:?}");
}
