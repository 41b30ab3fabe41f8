//! `TaskSet` and `wait`: asyncio behaviours 33–40, and O(N) draining;
//! `TaskSet` at `JoinSet`'s level (per-task cancel, `shutdown`, `join_all`,
//! `detach_all`, positions) and its cooperative cancellation (SPEC
//! decision 5).

mod common;

use std::time::Duration;

use asyncio::{wait, CancellationToken, ReturnWhen, TaskError, TaskSet, WaitError};
use common::{Bystander, DropFlag, HookCapture, Reached};
use futures::FutureExt;
use tokio::time::Instant;

const SEC: Duration = Duration::from_secs(1);

async fn sleeper(secs: u64) -> u64 {
    asyncio::sleep(Duration::from_secs(secs)).await;
    secs
}

#[tokio::test]
async fn wait_on_an_empty_set_is_a_typed_error() {
    // Behaviour 33.
    let mut set = TaskSet::<()>::new();
    let error = wait(&mut set, ReturnWhen::AllCompleted, None)
        .await
        .unwrap_err();
    assert_eq!(error, WaitError::Empty);
    assert_eq!(error.to_string(), "wait on an empty task set");
}

#[tokio::test(start_paused = true)]
async fn wait_returns_done_tasks_and_leaves_pending_ones_in_the_set() {
    // Behaviour 34: done holds the very tasks passed in; pending stay.
    let fast = asyncio::spawn(sleeper(1));
    let slow = asyncio::spawn(sleeper(5));
    let (fast_id, slow_id) = (fast.id(), slow.id());
    let mut set: TaskSet<u64> = [fast, slow].into_iter().collect();
    let done = wait(&mut set, ReturnWhen::FirstCompleted, None)
        .await
        .unwrap();
    assert_eq!(done.iter().map(|t| t.id()).collect::<Vec<_>>(), [fast_id]);
    assert_eq!(set.len(), 1);
    let rest = set.into_tasks();
    assert_eq!(rest[0].id(), slow_id);
}

#[tokio::test(start_paused = true)]
async fn timeout_returns_what_is_done_and_cancels_nothing() {
    // Behaviour 35.
    let mut set = TaskSet::new();
    set.spawn(sleeper(1));
    set.spawn(sleeper(10));
    let done = wait(&mut set, ReturnWhen::AllCompleted, 2 * SEC)
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(set.pending(), 1);
    // The pending one was not cancelled: it finishes with its value.
    let done = wait(&mut set, ReturnWhen::AllCompleted, None)
        .await
        .unwrap();
    assert_eq!(done.into_iter().next().unwrap().await.unwrap(), 10);
}

#[tokio::test(start_paused = true)]
async fn timeout_with_nothing_done_returns_an_empty_vec() {
    // Behaviour 35: nothing raised, nothing cancelled.
    let mut set = TaskSet::new();
    set.spawn(sleeper(10));
    let done = wait(&mut set, ReturnWhen::FirstCompleted, SEC)
        .await
        .unwrap();
    assert!(done.is_empty());
    assert_eq!(set.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn first_completed_counts_a_cancellation() {
    // Behaviour 36: the first completion of any kind, cancellation included.
    let victim = asyncio::spawn(sleeper(10));
    let handle = victim.cancel_handle();
    let mut set = TaskSet::new();
    set.insert(victim);
    set.spawn(sleeper(20));
    tokio::task::yield_now().await;
    handle.cancel();
    let done = wait(&mut set, ReturnWhen::FirstCompleted, None)
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert!(matches!(
        done.into_iter().next().unwrap().await,
        Err(TaskError::Cancelled)
    ));
}

#[tokio::test(start_paused = true)]
async fn every_task_finished_by_then_comes_back_not_just_one() {
    // Behaviour 36: several finished in the same step are all in done.
    let mut set = TaskSet::new();
    for _ in 0..3 {
        set.spawn(sleeper(1));
    }
    set.spawn(sleeper(9));
    asyncio::sleep(2 * SEC).await;
    let done = wait(&mut set, ReturnWhen::FirstCompleted, None)
        .await
        .unwrap();
    assert_eq!(done.len(), 3);
}

#[tokio::test(start_paused = true)]
async fn first_exception_ignores_cancellations_and_stops_at_a_failure() {
    // Behaviour 37.
    let mut set: TaskSet<u64, &str> = TaskSet::new();
    let cancelled = asyncio::try_spawn(async {
        asyncio::sleep(SEC).await;
        Ok(1)
    });
    cancelled.cancel();
    set.insert(cancelled);
    set.try_spawn(async {
        asyncio::sleep(2 * SEC).await;
        Err("failed at 2s")
    });
    set.try_spawn(async {
        asyncio::sleep(60 * SEC).await;
        Ok(60)
    });
    let start = tokio::time::Instant::now();
    let done = wait(&mut set, ReturnWhen::FirstException, None)
        .await
        .unwrap();
    assert_eq!(
        start.elapsed(),
        2 * SEC,
        "the cancellation did not end the wait"
    );
    assert_eq!(done.len(), 2);
    assert_eq!(set.pending(), 1);
}

#[tokio::test(start_paused = true)]
async fn first_exception_counts_a_panic() {
    // A panic is asyncio's BaseException: it is an exception for the wait.
    let mut set = TaskSet::new();
    set.spawn(async {
        asyncio::sleep(SEC).await;
        panic!("child panicked")
    });
    set.spawn(sleeper(60));
    let done = wait(&mut set, ReturnWhen::FirstException, None)
        .await
        .unwrap();
    assert!(done
        .into_iter()
        .next()
        .unwrap()
        .await
        .unwrap_err()
        .is_panic());
}

#[tokio::test(start_paused = true)]
async fn first_exception_without_failures_waits_for_all() {
    // Behaviour 37: if nothing raises, it is ALL_COMPLETED.
    let mut set = TaskSet::new();
    set.spawn(sleeper(1));
    set.spawn(sleeper(3));
    let done = wait(&mut set, ReturnWhen::FirstException, None)
        .await
        .unwrap();
    assert_eq!(done.len(), 2);
    assert!(set.is_empty());
}

#[tokio::test(start_paused = true)]
async fn wait_never_returns_a_childs_error_as_its_own() {
    // Behaviour 38: errors are read from the finished tasks.
    let mut set: TaskSet<(), &str> = TaskSet::new();
    set.try_spawn(async { Err("inside") });
    let done = wait(&mut set, ReturnWhen::AllCompleted, None).await;
    let task = done.expect("wait itself succeeds").pop().unwrap();
    assert!(matches!(
        task.try_outcome(),
        Ok(Err(TaskError::Failed("inside")))
    ));
}

#[tokio::test(start_paused = true)]
async fn cancel_safety_dropped_wait_loses_no_task_and_cancels_none() {
    // Behaviour 39: cancelling the waiter cancels nothing, and every task,
    // finished or not, is still in the set.
    let mut set = TaskSet::new();
    set.spawn(sleeper(1));
    set.spawn(sleeper(3));
    {
        let mut waiting = wait(&mut set, ReturnWhen::AllCompleted, None);
        assert!((&mut waiting).now_or_never().is_none());
        asyncio::sleep(2 * SEC).await; // the first finishes while we are away
        assert!(
            (&mut waiting).now_or_never().is_none(),
            "one is still pending"
        );
    } // dropped here, after collecting the first one internally
    assert_eq!(set.len(), 2);
    let done = wait(&mut set, ReturnWhen::AllCompleted, None)
        .await
        .unwrap();
    let mut values: Vec<u64> = Vec::new();
    for task in done {
        values.push(task.await.unwrap());
    }
    assert_eq!(values, [1, 3]);
}

#[tokio::test(start_paused = true)]
async fn a_satisfied_wait_completes_at_its_first_poll() {
    // Behaviour 40, documented difference: no forced yield.
    let mut set = TaskSet::new();
    set.spawn(async { 1 });
    tokio::task::yield_now().await;
    let done = wait(&mut set, ReturnWhen::AllCompleted, Duration::ZERO)
        .now_or_never()
        .expect("ready at once")
        .unwrap();
    assert_eq!(done.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_set_cancels_what_it_spawned_and_detaches_what_it_was_given() {
    let spawned_dropped = DropFlag::new();
    let given_finished = Reached::new();
    let guard = spawned_dropped.guard();
    let reached = given_finished.clone();
    let mut set = TaskSet::new();
    set.spawn(async move {
        let _guard = guard;
        asyncio::sleep(10 * SEC).await;
    });
    set.insert(asyncio::spawn(async move {
        asyncio::sleep(10 * SEC).await;
        reached.hit();
    }));
    tokio::task::yield_now().await;
    drop(set);
    tokio::task::yield_now().await;
    assert!(
        spawned_dropped.dropped(),
        "the set's own task was cancelled"
    );
    asyncio::sleep(20 * SEC).await;
    assert!(
        given_finished.reached(),
        "the inserted task ran on, detached"
    );
}

#[tokio::test(start_paused = true)]
async fn cancel_all_then_all_completed_joins_every_task() {
    let mut set = TaskSet::new();
    for secs in 1..=3 {
        set.spawn(sleeper(secs * 10));
    }
    tokio::task::yield_now().await;
    assert_eq!(set.cancel_all(), 3);
    let done = wait(&mut set, ReturnWhen::AllCompleted, None)
        .await
        .unwrap();
    assert_eq!(done.len(), 3);
    assert!(done.iter().all(|task| task.is_cancelled()));
}

#[tokio::test(start_paused = true)]
async fn next_completed_yields_tasks_in_completion_order() {
    let mut set = TaskSet::new();
    for secs in [3, 1, 2] {
        set.spawn(sleeper(secs));
    }
    let mut order = Vec::new();
    while let Some(task) = set.next_completed().await {
        order.push(task.await.unwrap());
    }
    assert_eq!(order, [1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_a_chain_with_a_wait_loop_sees_every_task_once_in_order() {
    // Each task is released by the previous one's completion, so they finish
    // one at a time: the workload of SPEC.md's O(N) draining target. The
    // test checks order and counts; the cost is measured in benches/wait.rs.
    const N: usize = 10_000;
    let mut set = TaskSet::new();
    let mut release = Vec::with_capacity(N);
    let mut gates = Vec::with_capacity(N);
    for _ in 0..N {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        release.push(Some(tx));
        gates.push(rx);
    }
    for (i, gate) in gates.into_iter().enumerate() {
        set.spawn(async move {
            gate.await.unwrap();
            i
        });
    }
    release[0].take().unwrap().send(()).unwrap();
    let mut seen = Vec::with_capacity(N);
    while !set.is_empty() {
        for task in wait(&mut set, ReturnWhen::FirstCompleted, None)
            .await
            .unwrap()
        {
            let i = task.await.unwrap();
            seen.push(i);
            if let Some(next) = release.get_mut(i + 1).and_then(Option::take) {
                next.send(()).unwrap();
            }
        }
    }
    assert_eq!(seen, (0..N).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn into_tasks_puts_finished_tasks_first_in_completion_order() {
    // Regression: into_tasks closed the ready list before collecting it, so
    // a task that had just finished came back among the unfinished ones.
    let mut set = TaskSet::new();
    let slow = asyncio::spawn(sleeper(10));
    let fast = asyncio::spawn(sleeper(1));
    let (slow_id, fast_id) = (slow.id(), fast.id());
    set.insert(slow);
    set.insert(fast);
    asyncio::sleep(2 * SEC).await; // fast has finished; nobody looked yet
    let ids: Vec<_> = set.into_tasks().iter().map(|task| task.id()).collect();
    assert_eq!(ids, [fast_id, slow_id]);
}

/// Draining a set of finished tasks with `next_completed` must still let
/// the other tasks on the runtime run (it spends tokio's cooperative
/// budget, as `JoinSet::join_next` does).
#[tokio::test(flavor = "current_thread")]
async fn next_completed_over_finished_tasks_yields_to_other_tasks() {
    let mut set = TaskSet::new();
    let mut handles = Vec::new();
    for n in 0..1_000 {
        let task = asyncio::spawn(async move { n });
        handles.push(task.cancel_handle());
        set.insert(task);
    }
    // Let every task run to completion first.
    while !handles.iter().all(|handle| handle.is_done()) {
        tokio::task::yield_now().await;
    }
    let bystander = Bystander::spawn();
    let mut drained = 0;
    let mut seen_at = None;
    while let Some(task) = set.next_completed().await {
        assert!(task.is_done());
        drained += 1;
        if seen_at.is_none() && bystander.ran() {
            seen_at = Some(drained);
        }
    }
    assert_eq!(drained, 1_000);
    let seen_at = seen_at.expect("the other task never ran during the drain");
    assert!(seen_at < 200, "it ran only after {seen_at} tasks");
    bystander.join().await;
}

// ----------------------------------------------- TaskSet at JoinSet's level --

/// Panics when dropped (unless already unwinding): a child whose
/// cancellation panics in a destructor.
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

#[test]
fn new_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<asyncio::wait::Shutdown<'static, u8>>();
    send_sync::<asyncio::wait::JoinAll<u8, std::io::Error>>();
    send_sync::<asyncio::wait::NextCompletedIndexed<'static, u8>>();
    send_sync::<TaskSet<u8, std::io::Error>>();
}

#[tokio::test]
async fn shutdown_on_an_empty_set_completes_at_once() {
    // asyncio: cancelling nothing and gathering nothing is done at once
    // (behaviour 15); `cancel_all` + `wait(AllCompleted)` would be
    // `WaitError::Empty` here (behaviour 33).
    let mut set = TaskSet::<()>::new();
    set.shutdown()
        .now_or_never()
        .expect("an empty set shuts down at its first poll");
    assert!(set.is_empty());
}

#[tokio::test(start_paused = true)]
async fn shutdown_joins_every_task_and_their_destructors_have_run() {
    // SPEC decision 5: finished, not merely asked to stop; asyncio's idiom
    // `t.cancel()` for each, then `await gather(*tasks, return_exceptions=True)`,
    // also waits for each cancellation to complete (as behaviour 51).
    let mut set = TaskSet::new();
    let flags: Vec<DropFlag> = (0..3).map(|_| DropFlag::new()).collect();
    let mut handles = Vec::new();
    for flag in &flags[..2] {
        let guard = flag.guard();
        handles.push(set.spawn(async move {
            let _guard = guard;
            asyncio::sleep(60 * SEC).await;
        }));
    }
    let guard = flags[2].guard();
    let given = asyncio::spawn(async move {
        let _guard = guard;
        asyncio::sleep(60 * SEC).await;
    });
    handles.push(given.cancel_handle());
    set.insert(given);
    set.spawn(async {}); // one that finishes on its own
    tokio::task::yield_now().await;
    assert!(flags.iter().all(|flag| !flag.dropped()));
    let started = Instant::now();
    set.shutdown().await;
    assert_eq!(started.elapsed(), Duration::ZERO, "aborts do not wait");
    assert!(set.is_empty());
    assert!(
        flags.iter().all(DropFlag::dropped),
        "spawned and inserted tasks alike were cancelled, and have finished"
    );
    assert!(handles.iter().all(|handle| handle.is_done()));
}

#[tokio::test(start_paused = true)]
async fn shutdown_drops_errors_quietly_and_reports_panics_to_the_hook() {
    // SPEC decision 6: a panic nobody reads goes to the hook, even one
    // raised while the task is being cancelled; an ordinary error is
    // retrieved and ignored, as asyncio's idiom does.
    let hook = HookCapture::install();
    let mut set: TaskSet<(), &str> = TaskSet::new();
    set.try_spawn(async { Err("ordinary") });
    set.try_spawn(async {
        let _bomb = PanicsOnDrop("while cancelled");
        asyncio::sleep(60 * SEC).await;
        Ok(())
    });
    set.try_spawn(async { panic!("on its own") });
    tokio::task::yield_now().await;
    set.shutdown().await;
    let reports = hook.reports();
    assert_eq!(reports.len(), 2, "got {reports:?}");
    assert!(reports
        .iter()
        .all(|report| report.contains("panicked and nobody observed the panic")));
    let mut panics: Vec<&str> = reports
        .iter()
        .filter_map(|report| report.rsplit(": ").next())
        .collect();
    panics.sort_unstable();
    assert_eq!(panics, ["on its own", "while cancelled"]);
}

#[tokio::test(start_paused = true)]
async fn spawn_returns_a_handle_that_cancels_that_one_task() {
    // asyncio: `t.cancel()` on one task (behaviour 2); the others run on
    // (as behaviour 93: cancelling one child is not an error for the rest).
    let mut set = TaskSet::new();
    let first = set.spawn(sleeper(5));
    let second = set.spawn(sleeper(1));
    assert_ne!(first.id(), second.id());
    tokio::task::yield_now().await;
    assert!(first.cancel(), "it was still running");
    let (index, outcome) = set.next_completed_indexed().await.unwrap();
    assert_eq!(index, 0);
    assert!(matches!(outcome, Err(TaskError::Cancelled)));
    let task = set.next_completed().await.unwrap();
    assert_eq!(task.id(), second.id(), "the handle carries its task's id");
    assert_eq!(task.await.unwrap(), 1);
    // Behaviour 1: too late once the task has finished.
    assert!(!second.cancel());
}

#[tokio::test(start_paused = true)]
async fn next_completed_indexed_gives_every_outcome_its_position() {
    // Behaviour 42's completion order, with the position on every item, not
    // only on errors. Positions count every task that entered the set.
    let mut set: TaskSet<u64, &str> = TaskSet::new();
    set.try_spawn(async {
        asyncio::sleep(3 * SEC).await;
        Ok(3)
    });
    set.insert(asyncio::try_spawn(async {
        asyncio::sleep(SEC).await;
        Err("one")
    }));
    set.try_spawn(async {
        asyncio::sleep(2 * SEC).await;
        Ok(2)
    });
    let mut seen = Vec::new();
    while let Some((index, outcome)) = set.next_completed_indexed().await {
        seen.push((index, outcome.map_err(|error| error.to_string())));
    }
    assert_eq!(
        seen,
        [
            (1, Err(TaskError::Failed("one").to_string())),
            (2, Ok(2)),
            (0, Ok(3))
        ]
    );
    // The set is empty now; the next task still gets the next position.
    set.try_spawn(async { Ok(4) });
    assert_eq!(set.next_completed_indexed().await.unwrap().0, 3);
}

#[tokio::test(start_paused = true)]
async fn a_sliding_window_puts_every_outcome_in_its_place() {
    // The pattern that needed a HashMap<TaskId, usize>: at most 3 running,
    // results by input index, in whatever order they finish.
    let durations = [5_u64, 1, 4, 1, 3, 9, 2, 6, 5, 3, 5, 8];
    let mut results = vec![None; durations.len()];
    let mut window = TaskSet::new();
    let mut running_max = 0;
    for &secs in &durations {
        if window.len() == 3 {
            let (index, outcome) = window.next_completed_indexed().await.unwrap();
            results[index] = Some(outcome.unwrap());
        }
        window.spawn(sleeper(secs));
        running_max = running_max.max(window.len());
    }
    while let Some((index, outcome)) = window.next_completed_indexed().await {
        results[index] = Some(outcome.unwrap());
    }
    assert_eq!(running_max, 3);
    let expected: Vec<Option<u64>> = durations.iter().copied().map(Some).collect();
    assert_eq!(results, expected);
}

#[tokio::test(start_paused = true)]
async fn cancel_safety_a_dropped_next_completed_indexed_loses_nothing() {
    let mut set = TaskSet::new();
    set.spawn(sleeper(1));
    assert!(set.next_completed_indexed().now_or_never().is_none());
    asyncio::sleep(2 * SEC).await;
    assert_eq!(set.len(), 1, "nothing left the set");
    let (index, outcome) = set.next_completed_indexed().await.unwrap();
    assert_eq!((index, outcome.unwrap()), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn join_all_returns_every_outcome_in_completion_order() {
    // Outcomes are values (as `wait`, behaviour 38): failures,
    // cancellations and panics included.
    let mut set: TaskSet<u64, &str> = TaskSet::new();
    set.try_spawn(async {
        asyncio::sleep(3 * SEC).await;
        Ok(3)
    });
    set.try_spawn(async {
        asyncio::sleep(2 * SEC).await;
        panic!("two")
    });
    set.try_spawn(async {
        asyncio::sleep(SEC).await;
        Err("one")
    });
    let cancelled = set.try_spawn(async {
        asyncio::sleep(60 * SEC).await;
        Ok(60)
    });
    cancelled.cancel();
    let outcomes = set.join_all().await;
    assert_eq!(outcomes.len(), 4);
    assert!(matches!(outcomes[0], Err(TaskError::Cancelled)));
    assert!(matches!(outcomes[1], Err(TaskError::Failed("one"))));
    assert!(matches!(&outcomes[2], Err(TaskError::Panicked(p)) if p.message() == "two"));
    assert_eq!(outcomes[3].as_ref().unwrap(), &3);
}

#[tokio::test]
async fn join_all_on_an_empty_set_is_an_empty_vec() {
    let outcomes = TaskSet::<()>::new()
        .join_all()
        .now_or_never()
        .expect("ready at once");
    assert!(outcomes.is_empty());
}

#[tokio::test(start_paused = true)]
async fn detach_all_lets_every_task_run_on_after_the_set_is_gone() {
    let finished = Reached::new();
    let mut set = TaskSet::new();
    for _ in 0..2 {
        let finished = finished.clone();
        set.spawn(async move {
            asyncio::sleep(5 * SEC).await;
            finished.hit();
        });
    }
    set.detach_all();
    assert!(set.is_empty());
    // Positions go on counting after the detach.
    set.spawn(async {});
    assert_eq!(set.next_completed_indexed().await.unwrap().0, 2);
    drop(set);
    asyncio::sleep(10 * SEC).await;
    assert_eq!(finished.count(), 2, "detached tasks were not cancelled");
}

#[tokio::test(start_paused = true)]
async fn cancel_safety_a_dropped_shutdown_leaves_every_task_asked_to_stop() {
    let token = CancellationToken::new();
    let mut set = TaskSet::with_grace(token.clone(), 10 * SEC);
    let deaf = DropFlag::new();
    let guard = deaf.guard();
    set.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    tokio::task::yield_now().await;
    assert!(set.shutdown().now_or_never().is_none());
    assert!(
        token.is_cancelled(),
        "the first poll asked every task to stop"
    );
    assert_eq!(set.len(), 1, "nothing was lost");
    // The abort the grace period owes is made by the set's next poller.
    let started = Instant::now();
    set.shutdown().await;
    assert_eq!(started.elapsed(), 10 * SEC);
    assert!(deaf.dropped());
}

// ------------------------------------------- cooperative cancellation (5) --

/// A child that watches `token`, then takes `cleanup` to clean up
/// asynchronously, and says so.
fn polite(
    token: &CancellationToken,
    cleanup: Duration,
    cleaned: &Reached,
) -> impl std::future::Future<Output = &'static str> + Send + 'static {
    let (token, cleaned) = (token.clone(), cleaned.clone());
    async move {
        token.cancelled().await;
        asyncio::sleep(cleanup).await;
        cleaned.hit();
        "cleaned up"
    }
}

/// A child that ignores the token; its flag says when it was dropped.
fn deaf(flag: &DropFlag) -> impl std::future::Future<Output = &'static str> + Send + 'static {
    let guard = flag.guard();
    async move {
        let _guard = guard;
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_with_grace_spares_a_child_that_stops_and_aborts_one_that_does_not() {
    let token = CancellationToken::new();
    let mut set = TaskSet::with_grace(token.clone(), 2 * SEC);
    let cleaned = Reached::new();
    let dropped = DropFlag::new();
    let polite = set.spawn(polite(&token, SEC / 10, &cleaned));
    let deaf = set.spawn(deaf(&dropped));
    tokio::task::yield_now().await;
    let started = Instant::now();
    set.shutdown().await;
    assert_eq!(
        started.elapsed(),
        2 * SEC,
        "the deaf child got the whole grace"
    );
    assert!(cleaned.reached(), "the polite child finished its clean-up");
    assert!(polite.is_done() && deaf.is_done());
    assert!(dropped.dropped(), "the deaf child was aborted");
}

#[tokio::test(start_paused = true)]
async fn shutdown_with_grace_returns_as_soon_as_every_child_has_stopped() {
    let token = CancellationToken::new();
    let mut set = TaskSet::with_grace(token.clone(), 60 * SEC);
    let cleaned = Reached::new();
    for _ in 0..3 {
        set.spawn(polite(&token, SEC, &cleaned));
    }
    tokio::task::yield_now().await;
    let started = Instant::now();
    set.shutdown().await;
    assert_eq!(
        started.elapsed(),
        SEC,
        "no child was kept waiting for the grace"
    );
    assert_eq!(cleaned.count(), 3);
}

#[tokio::test(start_paused = true)]
async fn cancel_all_with_grace_aborts_at_the_deadline_whoever_polls() {
    let token = CancellationToken::new();
    let mut set = TaskSet::with_grace(token.clone(), 2 * SEC);
    let cleaned = Reached::new();
    let dropped = DropFlag::new();
    set.spawn(polite(&token, SEC, &cleaned));
    set.spawn(deaf(&dropped));
    tokio::task::yield_now().await;
    let started = Instant::now();
    assert_eq!(set.cancel_all(), 2);
    assert!(token.is_cancelled());
    let (index, outcome) = set.next_completed_indexed().await.unwrap();
    assert_eq!(started.elapsed(), SEC);
    assert_eq!(
        (index, outcome.unwrap()),
        (0, "cleaned up"),
        "not aborted: its value"
    );
    let (index, outcome) = set.next_completed_indexed().await.unwrap();
    assert_eq!(started.elapsed(), 2 * SEC);
    assert_eq!(index, 1);
    assert!(matches!(outcome, Err(TaskError::Cancelled)));
    assert!(dropped.dropped());
}

#[tokio::test(start_paused = true)]
async fn dropping_a_set_with_grace_hands_its_children_to_a_reaper() {
    // Drop cannot wait: the token is cancelled at once, and a reaper aborts
    // what the set spawned that still runs when the grace ends. A task the
    // set was given is detached, as without a grace.
    let token = CancellationToken::new();
    let mut set = TaskSet::with_grace(token.clone(), 2 * SEC);
    let cleaned = Reached::new();
    let dropped = DropFlag::new();
    set.spawn(polite(&token, SEC, &cleaned));
    set.spawn(deaf(&dropped));
    let given_finished = Reached::new();
    let reached = given_finished.clone();
    set.insert(asyncio::spawn(async move {
        asyncio::sleep(5 * SEC).await;
        reached.hit();
        "ran on"
    }));
    tokio::task::yield_now().await;
    drop(set);
    assert!(token.is_cancelled());
    asyncio::sleep(SEC + SEC / 2).await;
    assert!(
        cleaned.reached(),
        "the polite child cleaned up after the drop"
    );
    assert!(!dropped.dropped(), "not aborted during the grace");
    asyncio::sleep(SEC).await;
    assert!(dropped.dropped(), "aborted once the grace ended");
    asyncio::sleep(5 * SEC).await;
    assert!(given_finished.reached(), "the given task ran on, detached");
}

#[tokio::test(start_paused = true)]
async fn dropping_a_set_with_grace_outside_a_runtime_aborts_at_once() {
    let token = CancellationToken::new();
    let dropped = DropFlag::new();
    let mut set = TaskSet::with_grace(token.clone(), 60 * SEC);
    set.spawn(deaf(&dropped));
    tokio::task::yield_now().await;
    // A plain thread has no runtime to run a reaper on.
    std::thread::spawn(move || drop(set)).join().unwrap();
    assert!(token.is_cancelled());
    tokio::task::yield_now().await;
    assert!(dropped.dropped());
}

#[tokio::test(start_paused = true)]
async fn a_set_that_cancels_nothing_on_drop_leaves_its_token_alone() {
    // The token is the set's "stop" to its children: a drop that cancels
    // no task (its tasks detached, or given to it) does not send it.
    let token = CancellationToken::new();
    let mut set = TaskSet::with_grace(token.clone(), SEC);
    set.spawn(std::future::pending::<()>());
    set.insert(asyncio::spawn(std::future::pending::<()>()));
    set.detach_all();
    set.insert(asyncio::spawn(std::future::pending::<()>()));
    drop(set);
    assert!(!token.is_cancelled());
}

#[tokio::test(start_paused = true)]
async fn try_next_completed_takes_only_what_has_finished() {
    let mut set = TaskSet::new();
    set.spawn(sleeper(2));
    set.spawn(sleeper(1));
    assert!(set.try_next_completed().is_none());
    asyncio::sleep(SEC + SEC / 2).await;
    assert_eq!(
        set.try_next_completed_indexed()
            .map(|(i, o)| (i, o.unwrap())),
        Some((1, 1))
    );
    assert!(
        set.try_next_completed().is_none(),
        "the other is still running"
    );
    assert_eq!(set.len(), 1);
    asyncio::sleep(SEC).await;
    assert_eq!(set.try_next_completed().unwrap().await.unwrap(), 2);
    assert!(set.try_next_completed().is_none());
    assert!(set.is_empty());
}

#[test]
fn a_runtime_shutting_down_under_a_set_with_grace_drops_every_child() {
    // The "runtime shuts down" row: the set is dropped with its task while
    // the runtime closes, so its reaper cannot run; every child still ends.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dropped = DropFlag::new();
    let spawned = Reached::new();
    {
        let (dropped, spawned) = (dropped.clone(), spawned.clone());
        runtime.spawn(async move {
            let mut set = TaskSet::with_grace(CancellationToken::new(), 60 * SEC);
            set.spawn(deaf(&dropped));
            spawned.hit();
            std::future::pending::<()>().await;
            drop(set);
        });
    }
    while !spawned.reached() {
        std::thread::yield_now();
    }
    drop(runtime);
    assert!(dropped.dropped());
}

// Issue 12 point 5: local and explicit-runtime spawning into a set.
#[tokio::test]
async fn a_set_spawns_local_futures_and_on_a_named_runtime() {
    use std::cell::Cell;
    use std::rc::Rc;
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let counter = Rc::new(Cell::new(0));
            let mut set = asyncio::TaskSet::new();
            for _ in 0..3 {
                let counter = counter.clone();
                set.spawn_local(async move { counter.set(counter.get() + 1) });
            }
            let stuck = set.spawn_local(std::future::pending::<()>());
            let mut finished = 0;
            while finished < 3 {
                let task = set.next_completed().await.unwrap();
                task.await.unwrap();
                finished += 1;
            }
            assert_eq!(counter.get(), 3);
            assert!(stuck.cancel());
            set.shutdown().await;
            assert!(stuck.is_cancelled());
        })
        .await;
    let other = tokio::task::spawn_blocking(|| tokio::runtime::Runtime::new().unwrap())
        .await
        .unwrap();
    let mut set: asyncio::TaskSet<u8, &str> = asyncio::TaskSet::new();
    set.try_spawn_on(other.handle(), async { Err("on the other runtime") });
    let task = set.next_completed().await.unwrap();
    assert!(matches!(
        task.await,
        Err(asyncio::TaskError::Failed("on the other runtime"))
    ));
    tokio::task::spawn_blocking(move || drop(other))
        .await
        .unwrap();
}

// Regression guard for the batched completion-order iteration: children
// that finished together are handed out one at a time from a batch, and a
// `wait` or a `shutdown` after a partial iteration must still see the rest
// of that batch, in completion order, and lose none.
#[tokio::test(start_paused = true)]
async fn wait_after_a_partial_iteration_keeps_the_rest_of_the_batch() {
    let mut set = TaskSet::new();
    for n in 0..4_u64 {
        set.spawn(async move { n });
    }
    tokio::task::yield_now().await;
    let first = set.next_completed().await.expect("four finished");
    let mut seen = vec![first.await.unwrap()];
    let done = wait(&mut set, ReturnWhen::AllCompleted, None)
        .await
        .unwrap();
    assert_eq!(done.len(), 3, "the rest of the batch was lost");
    for task in done {
        seen.push(task.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3]);
    assert!(set.is_empty());

    let mut set = TaskSet::new();
    let dropped = DropFlag::new();
    for _ in 0..3 {
        let guard = dropped.guard();
        set.spawn(async move { drop(guard) });
    }
    let guard = dropped.guard();
    set.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    tokio::task::yield_now().await;
    assert!(set.next_completed().await.is_some());
    assert_eq!(set.len(), 3);
    set.shutdown().await;
    assert!(set.is_empty(), "the shutdown drained the rest of the batch");
}
