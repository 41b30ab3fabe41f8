//! `as_completed`: asyncio behaviours 42–49; the indexed form, and
//! cooperative cancellation on drop (SPEC decision 5).

mod common;

use std::future::Future;
use std::time::Duration;

use asyncio::{AsCompletedError, CancellationToken, TaskError};
use common::{Bystander, DropFlag, Reached};
use futures::{FutureExt, StreamExt};

const SEC: Duration = Duration::from_secs(1);

async fn sleeper(secs: u64) -> u64 {
    asyncio::sleep(Duration::from_secs(secs)).await;
    secs
}

#[tokio::test(start_paused = true)]
async fn outcomes_come_in_completion_order() {
    // Behaviour 42.
    let stream = asyncio::as_completed([3, 1, 2].map(sleeper), None);
    let order: Vec<u64> = stream.map(|item| item.unwrap()).collect().await;
    assert_eq!(order, [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn each_item_is_the_earliest_unreported_finisher() {
    // Behaviour 43: position does not identify the input; the stream yields
    // outcomes in finishing order, whatever the input order.
    let mut stream = asyncio::as_completed([5, 4].map(sleeper), None);
    assert_eq!(stream.next().await.unwrap().unwrap(), 4);
    assert_eq!(stream.next().await.unwrap().unwrap(), 5);
    assert!(stream.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn tasks_form_yields_the_original_tasks() {
    // Behaviour 44 (3.13 `async for`): the very tasks passed in.
    let slow = asyncio::spawn(sleeper(2));
    let fast = asyncio::spawn(sleeper(1));
    let (slow_id, fast_id) = (slow.id(), fast.id());
    let ids: Vec<_> = asyncio::as_completed([slow, fast], None)
        .tasks()
        .map(|task| task.unwrap().id())
        .collect()
        .await;
    assert_eq!(ids, [fast_id, slow_id]);
}

#[tokio::test(start_paused = true)]
async fn timeout_yields_a_timeout_per_unfinished_child_and_cancels_none() {
    // Behaviour 45.
    let mut stream = asyncio::as_completed([20, 1, 10].map(sleeper), 5 * SEC);
    assert_eq!(stream.next().await.unwrap().unwrap(), 1);
    // One timeout per unfinished child, each naming it, in input order.
    let timed_out: Vec<usize> = [stream.next().await, stream.next().await]
        .into_iter()
        .map(|item| {
            let error = item.unwrap().unwrap_err();
            assert!(error.is_timeout());
            error.index()
        })
        .collect();
    assert_eq!(timed_out, [0, 2]);
    assert!(stream.next().await.is_none());
    // Not cancelled: they are still running and finish with their values.
    let mut rest = stream.into_set();
    assert_eq!(rest.pending(), 2);
    let mut values = Vec::new();
    while let Some(task) = rest.next_completed().await {
        values.push(task.await.unwrap());
    }
    assert_eq!(values, [10, 20]);
    assert_eq!(
        AsCompletedError::<std::io::Error>::TimedOut { index: 2 }.to_string(),
        "as_completed child 2: deadline has elapsed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_childs_error_is_a_value_and_iteration_goes_on() {
    // Behaviour 46.
    type Child = std::pin::Pin<Box<dyn Future<Output = Result<u64, &'static str>> + Send>>;
    let children: Vec<Child> = vec![
        Box::pin(async {
            asyncio::sleep(SEC).await;
            Err("first failed")
        }),
        Box::pin(async {
            asyncio::sleep(2 * SEC).await;
            Ok(2)
        }),
    ];
    let mut stream = asyncio::try_as_completed(children, None);
    assert!(matches!(
        stream.next().await,
        Some(Err(AsCompletedError::Child {
            index: 0,
            error: TaskError::Failed("first failed")
        }))
    ));
    assert_eq!(stream.next().await.unwrap().unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn tasks_form_over_futures_yields_the_tasks_it_spawned() {
    // Behaviour 44: for coroutine inputs, 3.13's `async for` yields the
    // Tasks it created for them. Here: futures in, their spawned tasks out,
    // in completion order, each still holding its own value.
    let tasks: Vec<asyncio::Task<u64>> = asyncio::as_completed([3, 1, 2].map(sleeper), None)
        .tasks()
        .map(|task| task.unwrap())
        .collect()
        .await;
    assert_eq!(tasks.len(), 3);
    let ids: std::collections::HashSet<_> = tasks.iter().map(|task| task.id()).collect();
    assert_eq!(ids.len(), 3, "each input got its own task");
    assert!(tasks.iter().all(|task| task.is_done()));
    let mut values = Vec::new();
    for task in tasks {
        values.push(task.await.unwrap());
    }
    assert_eq!(values, [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn tasks_form_timeout_yields_a_timeout_per_unfinished_child_and_cancels_none() {
    // Behaviour 45, in the tasks form: after the deadline each unfinished
    // child gives `Err(TimeoutError)`; none is cancelled.
    let children = [20, 1, 10].map(|secs| asyncio::spawn(sleeper(secs)));
    let handles: Vec<_> = children.iter().map(|task| task.cancel_handle()).collect();
    let mut stream = asyncio::as_completed(children, 5 * SEC).tasks();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.await.unwrap(), 1);
    for _ in 0..2 {
        assert!(matches!(
            stream.next().await,
            Some(Err(asyncio::TimeoutError))
        ));
    }
    assert!(stream.next().await.is_none());
    // Not cancelled: both are still running, and finish with their values.
    assert!(handles.iter().all(|handle| !handle.is_cancelled()));
    assert!(!handles[0].is_done() && !handles[2].is_done());
    let mut rest = stream.into_set();
    assert_eq!(rest.pending(), 2);
    let mut values = Vec::new();
    while let Some(task) = rest.next_completed().await {
        values.push(task.await.unwrap());
    }
    assert_eq!(values, [10, 20]);
    assert!(handles.iter().all(|handle| !handle.is_cancelled()));
}

#[tokio::test(start_paused = true)]
async fn tasks_form_a_failed_child_comes_out_as_an_ok_task() {
    // Behaviour 46, in the tasks form: as under 3.13's `async for`, the
    // stream does not raise a child's failure; the failed child comes out
    // as `Ok(task)`, and its error is read from the task.
    type Child = std::pin::Pin<Box<dyn Future<Output = Result<u64, &'static str>> + Send>>;
    let children: Vec<Child> = vec![
        Box::pin(async {
            asyncio::sleep(SEC).await;
            Err("first failed")
        }),
        Box::pin(async {
            asyncio::sleep(2 * SEC).await;
            Ok(2)
        }),
    ];
    let mut stream = asyncio::try_as_completed(children, None).tasks();
    let failed = stream
        .next()
        .await
        .unwrap()
        .expect("a failed child is Ok(task)");
    assert!(failed.is_failed());
    assert!(matches!(
        failed.await,
        Err(TaskError::Failed("first failed"))
    ));
    let ok = stream.next().await.unwrap().unwrap();
    assert_eq!(ok.await.unwrap(), 2);
    assert!(stream.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn empty_input_yields_nothing() {
    // Behaviour 48.
    let mut stream = asyncio::as_completed(Vec::<asyncio::Task<()>>::new(), SEC);
    assert!(stream.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn the_stream_resumes_after_a_break() {
    // Behaviour 49.
    let mut stream = asyncio::as_completed([1, 2, 3].map(sleeper), None);
    let mut first = Vec::new();
    while let Some(item) = stream.next().await {
        first.push(item.unwrap());
        if first.len() == 2 {
            break;
        }
    }
    let rest: Vec<u64> = stream.map(|item| item.unwrap()).collect().await;
    assert_eq!((first, rest), (vec![1, 2], vec![3]));
}

#[tokio::test(start_paused = true)]
async fn cancel_safety_a_dropped_next_loses_nothing() {
    let mut stream = asyncio::as_completed([1, 2].map(sleeper), None);
    assert!(stream.next().now_or_never().is_none());
    asyncio::sleep(5 * SEC).await;
    let rest: Vec<u64> = stream.map(|item| item.unwrap()).collect().await;
    assert_eq!(rest, [1, 2]);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_cancels_its_own_children_and_detaches_given_tasks() {
    let spawned_dropped = DropFlag::new();
    let guard = spawned_dropped.guard();
    let own = asyncio::as_completed(
        [async move {
            let _guard = guard;
            asyncio::sleep(10 * SEC).await;
        }],
        None,
    );
    let given_finished = Reached::new();
    let reached = given_finished.clone();
    let given = asyncio::as_completed(
        [asyncio::spawn(async move {
            asyncio::sleep(10 * SEC).await;
            reached.hit();
        })],
        None,
    );
    tokio::task::yield_now().await;
    drop((own, given));
    tokio::task::yield_now().await;
    assert!(
        spawned_dropped.dropped(),
        "a child the stream spawned was cancelled"
    );
    asyncio::sleep(20 * SEC).await;
    assert!(
        given_finished.reached(),
        "a task the caller passed in ran on"
    );
}

#[tokio::test(start_paused = true)]
async fn panics_and_cancellations_are_values() {
    let cancelled = asyncio::spawn(sleeper(10));
    cancelled.cancel();
    let panicking = asyncio::spawn(async {
        asyncio::sleep(SEC).await;
        panic!("boom")
    });
    let outcomes: Vec<_> = asyncio::as_completed([cancelled, panicking], None)
        .map(|item| item.unwrap_err())
        .collect()
        .await;
    assert_eq!(
        outcomes.iter().map(|e| e.index()).collect::<Vec<_>>(),
        [0, 1]
    );
    let mut errors = outcomes.into_iter().map(|e| e.into_task_error().unwrap());
    assert!(errors.next().unwrap().is_cancelled());
    assert!(errors.next().unwrap().is_panic());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_children_all_come_back_exactly_once() {
    const N: u64 = 20_000;
    let stream = asyncio::as_completed((0..N).map(|i| async move { i }), None);
    assert_eq!(
        futures::Stream::size_hint(&stream),
        (N as usize, Some(N as usize))
    );
    let mut seen: Vec<u64> = stream.map(|item| item.unwrap()).collect().await;
    seen.sort_unstable();
    assert_eq!(seen, (0..N).collect::<Vec<_>>());
}

/// Draining many children that have all finished must still let the other
/// tasks on the runtime run (the stream spends tokio's cooperative budget,
/// as `JoinSet::join_next` does).
#[tokio::test(flavor = "current_thread")]
async fn draining_finished_children_yields_to_other_tasks() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let finished = std::sync::Arc::new(AtomicUsize::new(0));
    let mut stream = asyncio::as_completed(
        (0..1_000).map(|n| {
            let finished = finished.clone();
            async move {
                finished.fetch_add(1, Ordering::SeqCst);
                n
            }
        }),
        None,
    );
    // Let every child run to completion first.
    while finished.load(Ordering::SeqCst) < 1_000 {
        tokio::task::yield_now().await;
    }
    let bystander = Bystander::spawn();
    let mut drained = 0;
    let mut seen_at = None;
    while let Some(item) = stream.next().await {
        item.unwrap();
        drained += 1;
        if seen_at.is_none() && bystander.ran() {
            seen_at = Some(drained);
        }
    }
    assert_eq!(drained, 1_000);
    let seen_at = seen_at.expect("the other task never ran during the drain");
    assert!(seen_at < 200, "it ran only after {seen_at} items");
    bystander.join().await;
}

#[tokio::test(start_paused = true)]
async fn indexed_carries_the_input_position_on_every_item() {
    // Behaviour 42's completion order; asyncio's items (behaviour 43) say
    // nothing about which input they are; these do, values included.
    let children = [3, 1, 2].map(|secs| async move {
        asyncio::sleep(Duration::from_secs(secs)).await;
        if secs == 2 {
            Err("two")
        } else {
            Ok(secs)
        }
    });
    let items: Vec<(usize, Result<u64, String>)> = asyncio::try_as_completed(children, None)
        .indexed()
        .map(|(index, outcome)| (index, outcome.map_err(|error| error.to_string())))
        .collect()
        .await;
    assert_eq!(
        items,
        [
            (1, Ok(1)),
            (2, Err("as_completed child 2 failed".to_string())),
            (0, Ok(3))
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn indexed_timeouts_name_each_unfinished_child_and_cancel_none() {
    // Behaviour 45, in the indexed form.
    let mut stream = asyncio::as_completed([20, 1, 10].map(sleeper), 5 * SEC).indexed();
    let (index, outcome) = stream.next().await.unwrap();
    assert_eq!((index, outcome.unwrap()), (1, 1));
    let mut timed_out = Vec::new();
    while let Some((index, outcome)) = stream.next().await {
        let error = outcome.unwrap_err();
        assert!(error.is_timeout());
        assert_eq!(error.index(), index);
        timed_out.push(index);
    }
    assert_eq!(timed_out, [0, 2]);
    let rest = stream.into_set();
    assert_eq!(rest.pending(), 2, "not cancelled");
    let values: Vec<u64> = rest
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(values, [10, 20]);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_stream_with_grace_lets_children_stop_then_aborts_the_rest() {
    // SPEC decision 5 on drop: the token at once, the abort after the grace,
    // by a reaper; tasks passed in are detached as without a grace.
    let token = CancellationToken::new();
    let cleaned = Reached::new();
    let deaf_dropped = DropFlag::new();
    let polite = {
        let (token, cleaned) = (token.clone(), cleaned.clone());
        async move {
            token.cancelled().await;
            asyncio::sleep(SEC).await;
            cleaned.hit();
        }
        .boxed()
    };
    let deaf = {
        let guard = deaf_dropped.guard();
        async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }
        .boxed()
    };
    let stream = asyncio::as_completed([polite, deaf], None).with_grace(token.clone(), 2 * SEC);
    let given_finished = Reached::new();
    let reached = given_finished.clone();
    let given = asyncio::as_completed(
        [asyncio::spawn(async move {
            asyncio::sleep(5 * SEC).await;
            reached.hit();
        })],
        None,
    )
    .with_grace(CancellationToken::new(), SEC);
    tokio::task::yield_now().await;
    drop((stream, given));
    assert!(token.is_cancelled());
    asyncio::sleep(SEC + SEC / 2).await;
    assert!(cleaned.reached(), "the polite child cleaned up");
    assert!(!deaf_dropped.dropped(), "not aborted during the grace");
    asyncio::sleep(SEC).await;
    assert!(deaf_dropped.dropped(), "aborted when the grace ended");
    asyncio::sleep(5 * SEC).await;
    assert!(given_finished.reached(), "a task passed in ran on");
}

#[tokio::test(start_paused = true)]
async fn a_stream_given_back_as_a_set_keeps_its_grace_for_shutdown() {
    let token = CancellationToken::new();
    let cleaned = Reached::new();
    let polite = {
        let (token, cleaned) = (token.clone(), cleaned.clone());
        async move {
            token.cancelled().await;
            asyncio::sleep(SEC).await;
            cleaned.hit();
        }
    };
    let stream = asyncio::as_completed([polite], None).with_grace(token.clone(), 60 * SEC);
    let mut set = stream.into_set();
    tokio::task::yield_now().await;
    let started = tokio::time::Instant::now();
    set.shutdown().await;
    assert_eq!(
        started.elapsed(),
        SEC,
        "stopped on its own, within the grace"
    );
    assert!(cleaned.reached());
}

#[test]
fn the_indexed_stream_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<asyncio::AsCompletedIndexed<u8, std::io::Error>>();
}

// Issue 14 point 2: the chain skipped the child's own error (the source was
// the error's source), so `downcast_ref::<E>()` on it failed.
#[tokio::test]
async fn an_items_error_has_the_childs_error_as_its_source() {
    use std::error::Error;
    let failing = asyncio::try_spawn(async {
        Err::<(), _>(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "slow disk",
        ))
    });
    let mut stream = asyncio::try_as_completed([failing], None);
    let error = stream.next().await.unwrap().unwrap_err();
    assert_eq!(error.to_string(), "as_completed child 0 failed");
    let boxed: Box<dyn Error + Send + Sync> = Box::new(error);
    let child = boxed.source().expect("the child's error");
    assert_eq!(
        child
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind),
        Some(std::io::ErrorKind::TimedOut)
    );
    assert_eq!(child.to_string(), "slow disk");
}
