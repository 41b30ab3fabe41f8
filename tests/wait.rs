//! `TaskSet` and `wait`: asyncio behaviours 33–40, and O(N) draining.

mod common;

use std::time::Duration;

use asyncio::{wait, ReturnWhen, TaskError, TaskSet, WaitError};
use common::{Bystander, DropFlag, Reached};
use futures::FutureExt;

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
