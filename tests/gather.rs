//! `gather`, `try_gather`, `gather!`, `try_gather!`: asyncio's gather
//! (behaviours 15–32 and 85 of asyncio-semantics.md), the panic rule of SPEC
//! decision 6, and the crate's cancel-siblings option.

mod common;

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use asyncio::{GatherError, TaskError};
use common::{DropFlag, HookCapture, Reached};
use futures::FutureExt;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A child that sleeps, then yields `value`.
fn after<T: Send + 'static>(secs: u64, value: T) -> BoxFuture<T> {
    Box::pin(async move {
        asyncio::sleep(Duration::from_secs(secs)).await;
        value
    })
}

/// Polls `future` once, with a waker that does nothing.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    Pin::new(future).poll(&mut cx)
}

/// Lets the current-thread runtime run everything that is ready.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

// ---------------------------------------------------------------- basics --

/// Counts the wake-ups of the waker it makes.
struct CountingWaker(AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn on_current_thread_a_gather_of_spawned_children_yields_once_then_collects_them() {
    // A performance path, not an asyncio behaviour: the gather's first poll
    // only wakes it (its children have not run yet), and once they have
    // run it collects them, in input order, at the next poll.
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = std::task::Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut gathered = asyncio::gather((0..3).map(|i| async move { i * 10 })).into_future();
    assert!(Pin::new(&mut gathered).poll(&mut cx).is_pending());
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "the first poll wakes the gather"
    );
    settle().await;
    match Pin::new(&mut gathered).poll(&mut cx) {
        Poll::Ready(Ok(values)) => assert_eq!(values, vec![0, 10, 20]),
        other => panic!("the children had run: {other:?}"),
    }
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        1,
        "no wake-up through the children"
    );
}

#[tokio::test]
async fn empty_gather_completes_at_once_with_empty_result() {
    // Behaviour 15.
    let mut gathered = asyncio::gather(Vec::<BoxFuture<u8>>::new()).into_future();
    assert!(matches!(poll_once(&mut gathered), Poll::Ready(Ok(values)) if values.is_empty()));
    let mut all = asyncio::try_gather(Vec::<BoxFuture<Result<u8, ()>>>::new())
        .return_exceptions()
        .into_future();
    assert!(matches!(poll_once(&mut all), Poll::Ready(outcomes) if outcomes.is_empty()));
}

#[tokio::test(start_paused = true)]
async fn results_come_back_in_input_order_not_completion_order() {
    // Behaviour 16: the last child finishes first.
    let children = vec![after(3, 'a'), after(2, 'b'), after(1, 'c')];
    assert_eq!(
        asyncio::gather(children).await.unwrap(),
        vec!['a', 'b', 'c']
    );
}

#[tokio::test]
async fn children_start_when_gather_is_called_not_at_first_poll() {
    // SPEC decision 1.
    let reached = Reached::new();
    let children: Vec<_> = (0..3)
        .map(|_| {
            let r = reached.clone();
            async move { r.hit() }
        })
        .collect();
    let gathered = asyncio::gather(children);
    settle().await;
    assert_eq!(
        reached.count(),
        3,
        "children ran before the gather was polled"
    );
    assert_eq!(gathered.await.unwrap().len(), 3);
}

#[tokio::test]
async fn gathers_tasks_without_wrapping_them() {
    // Behaviour 23/25 precondition: the gathered tasks are the tasks, not
    // tasks wrapped in new spawned tasks. Gathering them spawns nothing.
    let metrics = tokio::runtime::Handle::current().metrics();
    let first = asyncio::spawn(std::future::pending::<u32>());
    let second = asyncio::spawn(std::future::pending::<u32>());
    let (first_handle, second_handle) = (first.cancel_handle(), second.cancel_handle());
    let before = metrics.num_alive_tasks();
    let gathered = asyncio::gather([first, second]);
    assert_eq!(
        metrics.num_alive_tasks(),
        before,
        "gather spawned a wrapper"
    );
    drop(gathered);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(first_handle.is_done() && second_handle.is_done());
    let first = asyncio::spawn(async { 1 });
    let second = asyncio::spawn(async { 2 });
    assert_eq!(asyncio::gather([first, second]).await.unwrap(), vec![1, 2]);
}

#[tokio::test]
async fn try_gather_collects_ok_values() {
    let children = ["1", "2", "3"].map(|text| async move { text.parse::<u32>() });
    assert_eq!(asyncio::try_gather(children).await.unwrap(), vec![1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn gather_macro_yields_a_tuple_of_different_types() {
    let (number, text, unit) = asyncio::gather!(after(2, 7_u8), after(1, "seven"), async {})
        .await
        .unwrap();
    assert_eq!((number, text, unit), (7, "seven", ()));
}

#[tokio::test]
async fn try_gather_macro_names_the_failing_argument() {
    let error = asyncio::try_gather!(async { Ok::<_, &str>(1_u8) }, async {
        Err::<String, _>("offline")
    })
    .await
    .unwrap_err();
    assert_eq!(error.index, 1);
    assert!(matches!(error.error, TaskError::Failed("offline")));
}

#[tokio::test]
async fn gather_macro_return_exceptions_keeps_every_outcome_typed() {
    // Behaviour 20, for a fixed list.
    let (a, b) = asyncio::try_gather!(async { Ok::<_, &str>(1_u8) }, async {
        Err::<String, _>("offline")
    })
    .return_exceptions()
    .await;
    assert_eq!(a.unwrap(), 1);
    assert!(matches!(b, Err(TaskError::Failed("offline"))));
}

#[tokio::test(start_paused = true)]
async fn gather_macro_cancel_siblings_joins_the_other_arguments() {
    // The cancel-siblings option, for a fixed list of different types.
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let error = asyncio::try_gather!(
        async move {
            let _guard = guard;
            asyncio::sleep(Duration::from_secs(60)).await;
            Ok::<_, &str>("never")
        },
        async {
            asyncio::sleep(Duration::from_secs(1)).await;
            Err::<u8, _>("boom")
        },
    )
    .cancel_siblings()
    .await
    .unwrap_err();
    assert_eq!(error.index, 1);
    assert!(dropped.dropped(), "the other argument was joined");
}

// ------------------------------------------------------------- fail-fast --

#[tokio::test(start_paused = true)]
async fn gather_failure_leaves_siblings_running() {
    // Behaviours 18 and 19: the first error goes straight to the awaiter;
    // the siblings are not cancelled, and nothing the gather does later can
    // stop them (it is done).
    let finished = Reached::new();
    let f = finished.clone();
    let sibling = asyncio::try_spawn(async move {
        asyncio::sleep(Duration::from_secs(5)).await;
        f.hit();
        Ok::<u8, &str>(1)
    });
    let failing = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        Err::<u8, _>("boom")
    });
    let watch = sibling.cancel_handle();
    let error = asyncio::try_gather([sibling, failing]).await.unwrap_err();
    assert_eq!(error.index, 1);
    assert!(matches!(error.error, TaskError::Failed("boom")));
    assert!(!watch.is_done(), "the sibling is still running");
    asyncio::sleep(Duration::from_secs(10)).await;
    assert!(finished.reached(), "the sibling ran to completion");
}

#[tokio::test(start_paused = true)]
async fn later_sibling_errors_are_dropped_quietly_after_fail_fast() {
    // Behaviour 32: after the first exception propagated, later ones are
    // marked retrieved; nothing reaches the unobserved-error hook.
    let capture = HookCapture::install();
    let first = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        Err::<u8, _>("first")
    });
    let later = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(2)).await;
        Err::<u8, _>("later")
    });
    let later_id = later.id();
    let error = asyncio::try_gather([first, later]).await.unwrap_err();
    assert_eq!(error.index, 0);
    asyncio::sleep(Duration::from_secs(5)).await;
    let ours: Vec<_> = capture
        .reports()
        .into_iter()
        .filter(|report| report.starts_with(&format!("{later_id} ")))
        .collect();
    assert!(ours.is_empty(), "later error was reported: {ours:?}");
}

#[tokio::test(start_paused = true)]
async fn later_sibling_panic_after_fail_fast_goes_to_the_hook() {
    // SPEC decision 6: a sibling's panic after fail-fast returned is never
    // lost; asyncio has no equivalent (behaviour 96).
    let capture = HookCapture::install();
    let first = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        Err::<u8, _>("first")
    });
    let later = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(2)).await;
        panic!("late panic");
        #[allow(unreachable_code)] // the type of the future's output
        Ok::<u8, &str>(0)
    });
    let later_id = later.id();
    let error = asyncio::try_gather([first, later]).await.unwrap_err();
    assert_eq!(error.index, 0);
    asyncio::sleep(Duration::from_secs(5)).await;
    let ours: Vec<_> = capture
        .reports()
        .into_iter()
        .filter(|report| report.starts_with(&format!("{later_id} ")))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].contains("late panic"), "{ours:?}");
}

#[tokio::test(start_paused = true)]
async fn child_cancelled_from_outside_fails_the_gather_and_siblings_run_on() {
    // Behaviour 21: a child cancelled from outside makes awaiting gather
    // raise CancelledError; siblings keep running; the awaiter is not
    // cancelled (it gets an error value and carries on).
    let cancelled = asyncio::spawn(after(10, 0_u8));
    let sibling = asyncio::spawn(after(2, 1_u8));
    let sibling_watch = sibling.cancel_handle();
    let handle = cancelled.cancel_handle();
    let gathered = asyncio::gather([cancelled, sibling]);
    assert!(handle.cancel());
    let error = gathered.await.unwrap_err();
    assert_eq!(error.index, 0);
    assert!(error.is_cancelled());
    assert!(!sibling_watch.is_done());
    asyncio::sleep(Duration::from_secs(3)).await;
    assert!(sibling_watch.is_done(), "the sibling finished on its own");
}

#[tokio::test(start_paused = true)]
async fn child_panic_cancels_and_joins_siblings_then_resumes_in_caller() {
    // SPEC decision 6: even in fail-fast mode, a panic cancels the siblings,
    // waits until each has finished, then resumes the panic.
    let sibling_dropped = DropFlag::new();
    let guard = sibling_dropped.guard();
    let sibling = asyncio::spawn(async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(60)).await;
    });
    let watch = sibling.cancel_handle();
    let panicking = asyncio::spawn(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        panic!("child exploded");
    });
    let outcome = std::panic::AssertUnwindSafe(asyncio::gather([sibling, panicking]).into_future())
        .catch_unwind()
        .await;
    let payload = outcome.unwrap_err();
    assert_eq!(*payload.downcast::<&str>().unwrap(), "child exploded");
    assert!(sibling_dropped.dropped(), "the sibling was dropped first");
    assert!(watch.is_done(), "the sibling had finished (joined)");
}

#[tokio::test(start_paused = true)]
async fn second_panic_while_joining_goes_to_the_hook() {
    // SPEC decision 6: the first panic is resumed, a second one goes to the
    // unobserved-error hook. Both children panic at the same instant; which
    // is first depends on the timer, so the test accepts either.
    let capture = HookCapture::install();
    let children: Vec<_> = ["left panic", "right panic"]
        .into_iter()
        .map(|message| {
            asyncio::spawn(async move {
                asyncio::sleep(Duration::from_secs(1)).await;
                std::panic::panic_any(message)
            })
        })
        .collect();
    let ids: Vec<_> = children.iter().map(|child| child.id()).collect();
    let payload = std::panic::AssertUnwindSafe(asyncio::gather(children).into_future())
        .catch_unwind()
        .await
        .unwrap_err();
    let resumed = *payload.downcast::<&str>().unwrap();
    let other = if resumed == "left panic" {
        "right panic"
    } else {
        "left panic"
    };
    let ours: Vec<_> = capture
        .reports()
        .into_iter()
        .filter(|report| ids.iter().any(|id| report.starts_with(&format!("{id} "))))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].contains(other), "{ours:?}");
}

// ------------------------------------------------------- cancel siblings --

#[tokio::test(start_paused = true)]
async fn cancel_siblings_cancels_and_joins_before_returning() {
    // The crate's option (asyncio's TaskGroup behaviour, SPEC decision 5):
    // when the gather returns, every cancelled sibling has finished.
    let flags: Vec<DropFlag> = (0..3).map(|_| DropFlag::new()).collect();
    let mut children: Vec<BoxFuture<Result<u8, &str>>> = flags
        .iter()
        .map(|flag| {
            let guard = flag.guard();
            Box::pin(async move {
                let _guard = guard;
                asyncio::sleep(Duration::from_secs(60)).await;
                Ok::<u8, &str>(0)
            }) as BoxFuture<Result<u8, &str>>
        })
        .collect();
    children.push(Box::pin(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        Err("boom")
    }));
    let start = tokio::time::Instant::now();
    let error = asyncio::try_gather(children)
        .cancel_siblings()
        .await
        .unwrap_err();
    assert_eq!(error.index, 3);
    assert!(matches!(error.error, TaskError::Failed("boom")));
    assert!(flags.iter().all(DropFlag::dropped), "siblings joined");
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn cancel_siblings_with_no_failure_returns_every_value() {
    let children = vec![after(2, 1), after(1, 2)];
    let values = asyncio::gather(children).cancel_siblings().await.unwrap();
    assert_eq!(values, vec![1, 2]);
}

#[tokio::test(start_paused = true)]
async fn cancel_siblings_on_outside_cancellation_cancels_the_rest() {
    // Behaviour 21 under the cancel-siblings policy: a cancellation is a
    // failure like any other.
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let sibling = asyncio::spawn(async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(60)).await;
    });
    let victim = asyncio::spawn(async { asyncio::sleep(Duration::from_secs(60)).await });
    let handle = victim.cancel_handle();
    let gathered = asyncio::gather([sibling, victim]).cancel_siblings();
    handle.cancel();
    let error = gathered.await.unwrap_err();
    assert_eq!(error.index, 1);
    assert!(error.is_cancelled());
    assert!(dropped.dropped());
}

// ----------------------------------------------------- return_exceptions --

#[tokio::test(start_paused = true)]
async fn return_exceptions_puts_errors_cancellations_and_panics_in_place() {
    // Behaviours 20 and 22, and SPEC decision 6 (a panic is a value here).
    let ok = asyncio::try_spawn(after(1, Ok::<u8, &str>(1)));
    let failed = asyncio::try_spawn(async { Err::<u8, _>("boom") });
    let cancelled = asyncio::try_spawn(after(60, Ok::<u8, &str>(3)));
    let panicked = asyncio::try_spawn(async {
        panic!("child exploded");
        #[allow(unreachable_code)] // the type of the future's output
        Ok::<u8, &str>(4)
    });
    let handle = cancelled.cancel_handle();
    let gathered = asyncio::try_gather([ok, failed, cancelled, panicked]).return_exceptions();
    handle.cancel();
    let outcomes = gathered.await;
    assert_eq!(outcomes.len(), 4);
    assert_eq!(*outcomes[0].as_ref().unwrap(), 1);
    assert!(matches!(outcomes[1], Err(TaskError::Failed("boom"))));
    assert!(matches!(outcomes[2], Err(TaskError::Cancelled)));
    match &outcomes[3] {
        Err(TaskError::Panicked(panic)) => assert_eq!(panic.message(), "child exploded"),
        other => panic!("expected a panic, got {other:?}"),
    }
}

// ---------------------------------------------------------- cancellation --

#[tokio::test(start_paused = true)]
async fn dropping_gather_cancels_every_unfinished_child() {
    // Behaviour 23 (and 25: the awaiting side is cancelled), in both modes.
    for return_exceptions in [false, true] {
        let flags: Vec<DropFlag> = (0..3).map(|_| DropFlag::new()).collect();
        let finished = Reached::new();
        let f = finished.clone();
        let mut children: Vec<BoxFuture<()>> = vec![Box::pin(async move { f.hit() })];
        for flag in &flags {
            let guard = flag.guard();
            children.push(Box::pin(async move {
                let _guard = guard;
                asyncio::sleep(Duration::from_secs(60)).await;
            }));
        }
        let gathered = asyncio::gather(children);
        settle().await;
        assert!(finished.reached());
        if return_exceptions {
            let mut all = gathered.return_exceptions().into_future();
            assert!(poll_once(&mut all).is_pending());
            drop(all);
        } else {
            let mut gathered = gathered.into_future();
            assert!(poll_once(&mut gathered).is_pending());
            drop(gathered);
        }
        settle().await;
        assert!(
            flags.iter().all(DropFlag::dropped),
            "every unfinished child was cancelled (return_exceptions: {return_exceptions})"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn cancel_cancels_every_unfinished_child_and_waits_for_them() {
    // Behaviour 23, structured (SPEC decision 5): `cancel()` reports that it
    // cancelled something, and completes only once every child finished.
    let flags: Vec<DropFlag> = (0..3).map(|_| DropFlag::new()).collect();
    let children: Vec<BoxFuture<()>> = flags
        .iter()
        .map(|flag| {
            let guard = flag.guard();
            Box::pin(async move {
                let _guard = guard;
                asyncio::sleep(Duration::from_secs(60)).await;
            }) as BoxFuture<()>
        })
        .collect();
    let mut gathered = asyncio::gather(children).into_future();
    assert!(poll_once(&mut gathered).is_pending());
    let cancelled = gathered.cancel().await;
    assert!(cancelled.cancelled_any());
    assert!(flags.iter().all(DropFlag::dropped), "every child finished");
    let outcomes = cancelled
        .into_outcomes()
        .expect("the gather had not completed");
    assert!(outcomes
        .iter()
        .all(|outcome| matches!(outcome, Err(TaskError::Cancelled))));
}

#[tokio::test(start_paused = true)]
async fn cancel_after_every_child_finished_returns_false_and_keeps_the_results() {
    // Behaviour 26: nothing is left to cancel, and the results still
    // arrive (issue 19, point 2).
    let children = vec![after(1, 1_u8), after(2, 2_u8)];
    let gathered = asyncio::gather(children).return_exceptions();
    asyncio::sleep(Duration::from_secs(5)).await;
    let cancelled = gathered.cancel().await;
    assert!(!cancelled.cancelled_any());
    assert_eq!(cancelled.values(), Some(vec![1, 2]));
}

#[tokio::test(start_paused = true)]
async fn cancel_hands_back_what_finished_beside_what_it_cancelled() {
    let children = vec![after(1, 1_u8), after(60, 2_u8), after(2, 3_u8)];
    let gathered = asyncio::gather(children);
    asyncio::sleep(Duration::from_secs(5)).await;
    let cancelled = gathered.cancel().await;
    assert!(cancelled.cancelled_any(), "the 60 s child was running");
    let outcomes = cancelled.into_outcomes().unwrap();
    assert!(matches!(
        outcomes[..],
        [Ok(1), Err(TaskError::Cancelled), Ok(3)]
    ));
}

#[tokio::test]
async fn cancel_after_the_gather_completed_has_no_outcomes_to_give() {
    let mut gathered = asyncio::gather([after(0, 1_u8)]).into_future();
    assert_eq!((&mut gathered).await.unwrap(), [1]);
    let cancelled = gathered.cancel().await;
    assert!(!cancelled.cancelled_any());
    assert!(
        cancelled.outcomes().is_none(),
        "the values went to the awaiter"
    );
}

#[tokio::test(start_paused = true)]
async fn cancel_hands_a_collected_panic_to_the_hook() {
    // SPEC decision 6: a panic collected as a value but never returned,
    // because the gather was cancelled, is not lost.
    let capture = HookCapture::install();
    let panicking = asyncio::spawn(async { panic!("collected panic") });
    let id = panicking.id();
    let slow = asyncio::spawn(async { asyncio::sleep(Duration::from_secs(60)).await });
    let mut gathered = asyncio::gather([panicking, slow])
        .return_exceptions()
        .into_future();
    settle().await;
    assert!(poll_once(&mut gathered).is_pending());
    let cancelled = gathered.cancel().await;
    assert!(cancelled.cancelled_any());
    // Handed back as a value; dropped unread, it goes to the hook.
    assert!(matches!(
        cancelled.outcomes().unwrap()[0],
        Err(TaskError::Panicked(_))
    ));
    drop(cancelled);
    let ours: Vec<_> = capture
        .reports()
        .into_iter()
        .filter(|report| report.starts_with(&format!("{id} ")))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].contains("collected panic"), "{ours:?}");
}

#[tokio::test(start_paused = true)]
async fn cancelling_the_task_awaiting_gather_cancels_the_children() {
    // Behaviour 25: cancelling the task that awaits gather cancels every
    // child through it.
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let child = asyncio::spawn(async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(60)).await;
    });
    let awaiter = asyncio::spawn(async move { asyncio::gather([child]).await });
    settle().await;
    assert!(awaiter.cancel());
    assert!(awaiter.await.unwrap_err().is_cancelled());
    settle().await;
    assert!(dropped.dropped());
}

#[tokio::test(start_paused = true)]
async fn dropping_gather_after_it_completed_changes_nothing() {
    // Behaviour 26: results are delivered; the children had finished.
    let child = asyncio::spawn(after(1, 5_u8));
    let watch = child.cancel_handle();
    let mut gathered = asyncio::gather([child]).into_future();
    let values = (&mut gathered).await.unwrap();
    drop(gathered);
    assert_eq!(values, vec![5]);
    assert!(watch.is_done());
    assert!(!watch.cancel(), "nothing left to cancel");
}

#[tokio::test(start_paused = true)]
async fn dropping_fail_fast_gather_after_it_failed_does_not_stop_siblings() {
    // Behaviour 19: the leftover children are out of the gather's reach.
    let finished = Reached::new();
    let f = finished.clone();
    let sibling = asyncio::try_spawn(async move {
        asyncio::sleep(Duration::from_secs(5)).await;
        f.hit();
        Ok::<(), &str>(())
    });
    let failing = asyncio::try_spawn(async { Err::<(), _>("boom") });
    let mut gathered = asyncio::try_gather([sibling, failing]).into_future();
    assert!((&mut gathered).await.is_err());
    drop(gathered);
    asyncio::sleep(Duration::from_secs(10)).await;
    assert!(finished.reached());
}

#[tokio::test(start_paused = true)]
async fn nested_gather_cancellation_cascades_to_inner_children() {
    // Behaviour 28: cancelling the outer gather cascades through the inner
    // gather to its children.
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let inner = asyncio::gather([Box::pin(async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(60)).await;
    }) as BoxFuture<()>]);
    let mut outer = asyncio::gather([inner]).into_future();
    settle().await;
    assert!(poll_once(&mut outer).is_pending());
    drop(outer);
    settle().await;
    assert!(dropped.dropped(), "the inner child was cancelled");
}

#[tokio::test(start_paused = true)]
async fn cancelling_inner_gather_fails_outer_and_unrelated_children_run_on() {
    // Behaviour 28: the inner gather, cancelled, fails the outer one; the
    // outer's other children keep running (fail-fast).
    let inner = asyncio::spawn(asyncio::gather([after(60, 1_u8)]).into_future());
    let handle = inner.cancel_handle();
    let finished = Reached::new();
    let f = finished.clone();
    let unrelated = asyncio::spawn(async move {
        asyncio::sleep(Duration::from_secs(5)).await;
        f.hit();
        Ok(vec![])
    });
    let outer = asyncio::gather([inner, unrelated]);
    handle.cancel();
    let error = outer.await.unwrap_err();
    assert_eq!(error.index, 0);
    assert!(error.is_cancelled());
    asyncio::sleep(Duration::from_secs(10)).await;
    assert!(finished.reached());
}

#[tokio::test]
async fn inner_child_error_comes_out_of_both_levels_naming_each_index() {
    // Behaviour 28, with the crate's difference: the error is nested, each
    // level naming its child.
    let inner = asyncio::try_gather([
        Box::pin(async { Ok(1_u8) }) as BoxFuture<Result<u8, &str>>,
        Box::pin(async { Err("deep") }),
    ]);
    let outer = asyncio::try_gather([
        Box::pin(async { Ok(vec![0_u8]) }) as BoxFuture<Result<Vec<u8>, GatherError<&str>>>,
        Box::pin(inner.into_future()),
    ]);
    let error = outer.await.unwrap_err();
    assert_eq!(error.index, 1);
    let inner_error = error.into_error().into_failure().unwrap();
    assert_eq!(inner_error.index, 1);
    assert!(matches!(inner_error.error, TaskError::Failed("deep")));
}

#[tokio::test(start_paused = true)]
async fn gathering_a_shielded_task_and_cancelling_leaves_the_task_running() {
    // Behaviour 85: `gather(shield(t)).cancel()` leaves `t` running. The
    // shield is a future, so gather spawns it as a child; cancelling the
    // gather aborts that child, which detaches `t` rather than cancelling it.
    let finished = Reached::new();
    let f = finished.clone();
    let task = asyncio::spawn(async move {
        asyncio::sleep(Duration::from_secs(5)).await;
        f.hit();
    });
    let watch = task.cancel_handle();
    let mut gathered = asyncio::gather([asyncio::shield(task)]).into_future();
    settle().await;
    assert!(poll_once(&mut gathered).is_pending());
    drop(gathered);
    asyncio::sleep(Duration::from_secs(10)).await;
    assert!(finished.reached(), "the shielded task ran to completion");
    assert!(watch.is_done());
}

#[tokio::test(start_paused = true)]
async fn timeout_around_gather_cancels_the_children() {
    // The "timeout fires" row: wait_for drops the gather, which cancels.
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let child = asyncio::spawn(async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(60)).await;
    });
    let outcome = asyncio::wait_for(asyncio::gather([child]), Duration::from_secs(1)).await;
    assert_eq!(outcome.unwrap_err(), asyncio::TimeoutError);
    settle().await;
    assert!(dropped.dropped());
}

#[test]
fn runtime_shutdown_ends_children_as_cancelled() {
    // The "runtime shuts down" row: children are dropped, their outcomes
    // become Cancelled; a gather still polled sees the first one.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dropped = DropFlag::new();
    let guard = dropped.guard();
    let gathered = {
        let _inside = runtime.enter();
        asyncio::gather([Box::pin(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }) as BoxFuture<()>])
    };
    drop(runtime);
    assert!(dropped.dropped());
    let error = futures::executor::block_on(gathered.into_future()).unwrap_err();
    assert_eq!(error.index, 0);
    assert!(error.is_cancelled());
}

// ----------------------------------------------------------------- misuse --

#[test]
fn gather_outside_a_runtime_panics_at_the_callers_line() {
    // SPEC decision 1: a programming error, reported at the caller's line.
    let line = Arc::new(AtomicUsize::new(0));
    let seen = line.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if let (true, Some(location)) =
            (message.contains("outside a tokio runtime"), info.location())
        {
            seen.store(location.line() as usize, Ordering::SeqCst);
        }
    }));
    let expected = line!() + 1;
    let outcome = std::panic::catch_unwind(|| asyncio::gather([async { 1 }]));
    std::panic::set_hook(previous);
    let message = outcome.unwrap_err();
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| message.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(message.contains("outside a tokio runtime"), "{message}");
    assert_eq!(line.load(Ordering::SeqCst), expected as usize);
}

// Choosing the mode after the first poll used to panic at run time. Since
// issue 12 (point 6) the options live on the `Gather` builder, and a running
// `GatherFuture` has none: the mistake no longer compiles (the
// `compile_fail` example on `Gather` pins it).

// Issue 14 point 2: the chain skipped the child's own error (the source was
// the error's source), so `downcast_ref::<E>()` on it failed.
#[test]
fn gather_error_names_the_child_and_its_source_is_the_childs_error() {
    use std::error::Error;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error = runtime
        .block_on(async {
            asyncio::try_gather([async {
                Err::<(), _>(common::Layered::new("disk full", "sector 7 unreadable"))
            }])
            .await
        })
        .unwrap_err();
    assert_eq!(error.to_string(), "gather child 0 failed");
    // The chain names the child once and each cause once.
    assert_eq!(
        common::chain(&error),
        ["gather child 0 failed", "disk full", "sector 7 unreadable"]
    );
    // Through a boxed error (as anyhow holds it), the child's error is found.
    let boxed: Box<dyn Error + Send + Sync> = Box::new(error);
    let child = boxed.source().expect("the child's error");
    assert_eq!(
        child
            .downcast_ref::<common::Layered>()
            .map(ToString::to_string),
        Some("disk full".to_string())
    );
    let cancelled = runtime
        .block_on(async {
            let task = asyncio::try_spawn(std::future::pending::<Result<(), std::io::Error>>());
            task.cancel();
            asyncio::try_gather([task]).await
        })
        .unwrap_err();
    assert_eq!(cancelled.to_string(), "gather child 0 was cancelled");
    assert!(cancelled.source().is_none());
}

// ------------------------------------------------------------------ scale --

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gather_of_100k_children_inside_a_spawned_task() {
    // The performance target's scenario, as a correctness test: 100k
    // children, gathered from inside a task on the multi-thread runtime,
    // every value in order.
    const N: usize = 100_000;
    let gathered = tokio::spawn(async {
        let values = asyncio::gather((0..N).map(|i| async move { i * 2 }))
            .await
            .unwrap();
        values
    })
    .await
    .unwrap();
    assert_eq!(gathered.len(), N);
    assert!(gathered
        .iter()
        .enumerate()
        .all(|(i, &value)| value == i * 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gather_of_many_tasks_with_one_failure_on_multi_thread() {
    const N: usize = 10_000;
    let result = asyncio::try_gather((0..N).map(|i| async move {
        tokio::task::yield_now().await;
        if i == N / 2 {
            Err(i)
        } else {
            Ok(i)
        }
    }))
    .await;
    let error = result.unwrap_err();
    assert_eq!(error.index, N / 2);
    assert!(matches!(error.error, TaskError::Failed(i) if i == N / 2));
}

// ------------------------------------------- cooperative cancellation (grace)

/// A child that watches `token`: when it is cancelled, it cleans up for
/// `cleanup` (asynchronously), marks `cleaned` and returns.
fn polite(
    token: &asyncio::CancellationToken,
    cleanup: Duration,
    cleaned: &Reached,
) -> asyncio::Task<&'static str, &'static str> {
    let (token, cleaned) = (token.clone(), cleaned.clone());
    asyncio::try_spawn(async move {
        token.cancelled().await;
        asyncio::sleep(cleanup).await;
        cleaned.hit();
        Ok("cleaned up")
    })
}

#[tokio::test(start_paused = true)]
async fn grace_lets_siblings_clean_up_then_aborts_the_stubborn_ones() {
    // SPEC decision 5: on the first failure the token is cancelled; a child
    // that watches it cleans up asynchronously; one that ignores it is
    // aborted when the grace period is over; the gather returns only once
    // both have finished.
    let token = asyncio::CancellationToken::new();
    let cleaned = Reached::new();
    let stubborn_dropped = DropFlag::new();
    let guard = stubborn_dropped.guard();
    let stubborn = asyncio::try_spawn(async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(3600)).await;
        Ok("never")
    });
    let failing = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        Err("boom")
    });
    let start = tokio::time::Instant::now();
    let error = asyncio::try_gather([
        polite(&token, Duration::from_secs(2), &cleaned),
        stubborn,
        failing,
    ])
    .cancel_siblings()
    .with_grace(token.clone(), Duration::from_secs(5))
    .await
    .unwrap_err();
    assert_eq!(error.index, 2);
    assert!(token.is_cancelled());
    assert!(cleaned.reached(), "the polite child finished its clean-up");
    assert!(stubborn_dropped.dropped(), "the stubborn child was aborted");
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(6),
        "failure at 1s + 5s of grace"
    );
}

#[tokio::test(start_paused = true)]
async fn grace_ends_early_when_every_sibling_stops_on_its_own() {
    let token = asyncio::CancellationToken::new();
    let cleaned = Reached::new();
    let failing = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        Err("boom")
    });
    let start = tokio::time::Instant::now();
    let error = asyncio::try_gather([polite(&token, Duration::from_secs(2), &cleaned), failing])
        .cancel_siblings()
        .with_grace(token, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert_eq!(error.index, 1);
    assert!(cleaned.reached());
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(3),
        "no waiting for the full grace"
    );
}

#[tokio::test(start_paused = true)]
async fn cancel_with_grace_cancels_the_token_and_waits_for_clean_up() {
    let token = asyncio::CancellationToken::new();
    let cleaned = Reached::new();
    let gathered = asyncio::try_gather([polite(&token, Duration::from_secs(2), &cleaned)])
        .with_grace(token.clone(), Duration::from_secs(10));
    let start = tokio::time::Instant::now();
    assert!(
        gathered.cancel().await.cancelled_any(),
        "the child was still running"
    );
    assert!(token.is_cancelled());
    assert!(cleaned.reached(), "it cleaned up instead of being aborted");
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn fail_fast_with_grace_leaves_siblings_running_and_the_token_alone() {
    // Fail-fast cancels nothing, so the grace period never starts.
    let token = asyncio::CancellationToken::new();
    let cleaned = Reached::new();
    let failing = asyncio::try_spawn(async { Err("boom") });
    let error = asyncio::try_gather([polite(&token, Duration::ZERO, &cleaned), failing])
        .with_grace(token.clone(), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(error.index, 1);
    assert!(!token.is_cancelled());
}

// --- Issue 12 point 3: a failed gather hands back what it still holds.

#[tokio::test(start_paused = true)]
async fn failed_gather_hands_back_the_siblings_still_running() {
    // Behaviour 18: after the first exception the siblings keep running,
    // and asyncio's caller still holds them to await or cancel.
    let slow = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(2)).await;
        Ok::<u8, &str>(1)
    });
    let endless = asyncio::try_spawn(std::future::pending::<Result<u8, &str>>());
    let failing = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        Err::<u8, &str>("boom")
    });
    let done_early = asyncio::try_spawn(async { Ok::<u8, &str>(0) });
    let mut gathered = asyncio::try_gather([done_early, slow, failing, endless]).into_future();
    assert!(
        gathered.take_pending().is_empty(),
        "nothing to hand back before it completes"
    );
    let error = (&mut gathered).await.unwrap_err();
    assert_eq!(error.index, 2);
    let pending = gathered.take_pending();
    let indices: Vec<usize> = pending.iter().map(|(index, _)| *index).collect();
    assert_eq!(indices, [1, 3], "the unfinished siblings, in input order");
    assert!(gathered.take_pending().is_empty(), "handed back once");
    let mut pending = pending.into_iter().map(|(_, task)| task);
    let slow = pending.next().unwrap();
    let endless = pending.next().unwrap();
    assert!(endless.cancel(), "a sibling taken back can be cancelled");
    assert_eq!(slow.await.unwrap(), 1, "and awaited");
    assert!(matches!(endless.await, Err(TaskError::Cancelled)));
}

#[tokio::test(start_paused = true)]
async fn a_sibling_taken_back_and_dropped_keeps_its_later_error_quiet() {
    // Behaviour 32 holds for the siblings handed back: gather marked their
    // exceptions retrieved. A panic is still reported (SPEC decision 6).
    let capture = HookCapture::install();
    let late_error = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(2)).await;
        Err::<u8, &str>("late")
    });
    let late_panic = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(2)).await;
        panic!("late panic");
        #[allow(unreachable_code)] // the type of the future's output
        Ok::<u8, &str>(0)
    });
    let failing = asyncio::try_spawn(async { Err::<u8, &str>("first") });
    let mut gathered = asyncio::try_gather([late_error, late_panic, failing]).into_future();
    assert_eq!((&mut gathered).await.unwrap_err().index, 2);
    let pending = gathered.take_pending();
    assert_eq!(pending.len(), 2);
    drop(pending);
    drop(gathered);
    asyncio::sleep(Duration::from_secs(5)).await;
    let reports = capture.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("late panic"), "{reports:?}");
}

#[tokio::test]
async fn gather_that_succeeded_hands_back_nothing() {
    let mut gathered = asyncio::gather([after(0, 1), after(0, 2)]).into_future();
    assert_eq!((&mut gathered).await.unwrap(), [1, 2]);
    assert!(gathered.take_pending().is_empty());
}

// --- Issue 12 point 2: `gather!` takes `Task`s of different types, as they
// are (SPEC decision 3: no wrapper tasks).

#[tokio::test(start_paused = true)]
async fn gather_macro_takes_tasks_of_different_types_and_futures() {
    let number = asyncio::spawn(after(2, 7_u8));
    let text = asyncio::spawn(after(1, "seven"));
    let ids = (number.id(), text.id());
    let (n, t, unit) = asyncio::gather!(number, text, after(3, ())).await.unwrap();
    assert_eq!((n, t, unit), (7, "seven", ()));
    assert_ne!(ids.0, ids.1);
    let (a, b) = asyncio::try_gather!(asyncio::try_spawn(async { Ok::<_, &str>(1_u32) }), async {
        Ok::<_, &str>("two")
    })
    .await
    .unwrap();
    assert_eq!((a, b), (1, "two"));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_gather_macro_cancels_the_tasks_given_to_it() {
    // Behaviours 23 and 25: cancelling the gather cancels the very tasks
    // passed in, which a wrapper task would not do.
    let first = asyncio::spawn(after(60, 1_u8));
    let second = asyncio::spawn(after(60, "two"));
    let handles = [first.cancel_handle(), second.cancel_handle()];
    let gathered = asyncio::gather!(first, second);
    assert!(asyncio::wait_for(gathered, Duration::from_secs(1))
        .await
        .is_err());
    for handle in &handles {
        handle.done().await;
        assert!(handle.is_cancelled());
    }
}

// --- Issue 19 points 4 and 5: mixed inputs; an empty gather.

#[tokio::test(start_paused = true)]
async fn futures_and_tasks_mix_in_one_gather_through_spawn() {
    // asyncio.gather(task, coro()): spawning the coroutine is what asyncio
    // does to it; in the crate `asyncio::spawn` is that conversion.
    let task = asyncio::spawn(after(2, 1_u8));
    let task_handle = task.cancel_handle();
    let values = asyncio::gather([task, asyncio::spawn(after(1, 2_u8))])
        .await
        .unwrap();
    assert_eq!(values, [1, 2]);
    assert!(task_handle.is_done() && !task_handle.is_cancelled());
}

#[test]
fn an_empty_gather_needs_no_runtime() {
    // Behaviour 15, and nothing to spawn: no runtime is current here.
    assert!(tokio::runtime::Handle::try_current().is_err());
    let values =
        futures::executor::block_on(asyncio::gather(Vec::<asyncio::Task<u8>>::new()).into_future());
    assert!(values.unwrap().is_empty());
    let outcomes = futures::executor::block_on(
        asyncio::try_gather(Vec::<asyncio::Task<u8, ()>>::new())
            .return_exceptions()
            .into_future(),
    );
    assert!(outcomes.is_empty());
}

// --- Issue 14 point 1: the tuple forms' cancel is typed like the tuple
// (behaviours 23 and 26, as for `Gather::cancel`).

#[tokio::test(start_paused = true)]
async fn cancelling_a_gather_macro_hands_back_typed_outcomes_and_joins() {
    // Behaviour 26 for the child that finished first (its value stands),
    // 23 for the one still running (cancelled, and finished on return).
    let running = DropFlag::new();
    let guard = running.guard();
    let slow = async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(60)).await;
        "never"
    };
    let gathered = asyncio::gather!(after(1, 7_u8), slow, after(2, ()));
    asyncio::sleep(Duration::from_secs(5)).await;
    let cancelled: asyncio::GatherTupleCancelled<(u8, &str, ())> = gathered.cancel().await;
    assert!(cancelled.cancelled_any(), "the 60 s child was running");
    assert!(running.dropped(), "the cancelled child has finished");
    // The outcomes are typed like the tuple, and the type is nameable.
    type Outcomes = <(u8, &'static str, ()) as asyncio::gather::ValueTuple<Infallible>>::Outcomes;
    let outcomes: Outcomes = cancelled
        .into_outcomes()
        .expect("the gather had not completed");
    let (number, text, unit) = outcomes;
    assert_eq!(number.unwrap(), 7);
    assert!(matches!(text, Err(TaskError::Cancelled)));
    assert!(unit.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_tuple_cancel_too_late_for_every_child_yields_the_values() {
    // Behaviour 26: nothing left to cancel, and the results still arrive.
    let gathered = asyncio::try_gather!(async { Ok::<_, &str>(1_u32) }, async {
        Ok::<_, &str>("two")
    });
    settle().await;
    let cancelled = gathered.cancel().await;
    assert!(!cancelled.cancelled_any());
    let debug = format!("{cancelled:?}");
    assert!(
        debug.starts_with("GatherTupleCancelled { cancelled_any: false"),
        "{debug}"
    );
    assert_eq!(cancelled.values(), Some((1, "two")));
}

#[tokio::test(start_paused = true)]
async fn a_running_tuple_gather_and_its_return_exceptions_form_cancel_typed() {
    let mut running = asyncio::gather!(after(60, 1_u8), after(60, "two")).into_future();
    assert!(poll_once(&mut running).is_pending());
    let cancelled = running.cancel().await;
    assert!(cancelled.cancelled_any());
    assert!(matches!(
        cancelled.into_outcomes(),
        Some((Err(TaskError::Cancelled), Err(TaskError::Cancelled)))
    ));

    let all = asyncio::try_gather!(async { Err::<u8, _>("boom") }, after(60, Ok("two")))
        .return_exceptions();
    settle().await;
    let cancelled = all.cancel().await;
    assert!(cancelled.cancelled_any());
    let (failed, text) = cancelled.into_outcomes().unwrap();
    assert!(matches!(failed, Err(TaskError::Failed("boom"))));
    assert!(matches!(text, Err(TaskError::Cancelled)));
}

#[tokio::test]
async fn a_tuple_cancel_after_the_gather_completed_has_no_outcomes() {
    let mut gathered = asyncio::gather!(async { 1_u8 }, async { 'x' }).into_future();
    assert_eq!((&mut gathered).await.unwrap(), (1, 'x'));
    let cancelled = gathered.cancel().await;
    assert!(!cancelled.cancelled_any());
    assert!(
        cancelled.into_outcomes().is_none(),
        "the values went to the awaiter"
    );
}

#[tokio::test(start_paused = true)]
async fn a_tuple_cancel_dropped_unread_hands_a_panic_to_the_hook() {
    // SPEC decision 6: a panic collected as a value and never read is not
    // lost, in the typed tuple form either.
    let capture = HookCapture::install();
    let panicking = asyncio::spawn(async { panic!("collected tuple panic") });
    let id = panicking.id();
    let gathered = asyncio::gather!(panicking, after(60, 2_u8)).return_exceptions();
    settle().await;
    let mut running = gathered.into_future();
    assert!(poll_once(&mut running).is_pending());
    let cancelled = running.cancel().await;
    assert!(cancelled.cancelled_any());
    drop(cancelled);
    let ours: Vec<_> = capture
        .reports()
        .into_iter()
        .filter(|report| report.starts_with(&format!("{id} ")))
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert!(ours[0].contains("collected tuple panic"), "{ours:?}");
}

#[tokio::test(start_paused = true)]
async fn tuple_gathers_nest_as_children() {
    // Behaviour 28: a gather is a child like any other; the tuple forms too.
    let inner = asyncio::gather!(after(1, 1_u8), after(2, "two"));
    let (pair, last) = asyncio::gather!(inner, after(1, 'c')).await.unwrap();
    assert_eq!(pair.unwrap(), (1, "two"));
    assert_eq!(last, 'c');

    let failing = asyncio::try_gather!(async { Ok::<_, &str>(1_u8) }, async {
        Err::<char, _>("boom")
    });
    let error = asyncio::try_gather([failing]).await.unwrap_err();
    assert_eq!(error.index, 0, "the outer gather names the nested one");
    let TaskError::Failed(inner) = error.error else {
        panic!("the nested gather failed: {error:?}");
    };
    assert_eq!(inner.index, 1, "the inner error names its own child");

    let all =
        asyncio::try_gather!(async { Err::<u8, _>("boom") }, async { Ok('x') }).return_exceptions();
    let [(failed, ok)] = <[_; 1]>::try_from(asyncio::gather([all]).await.unwrap()).unwrap();
    assert!(matches!(failed, Err(TaskError::Failed("boom"))));
    assert_eq!(ok.unwrap(), 'x');
}
