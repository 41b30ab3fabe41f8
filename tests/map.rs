//! The bounded concurrent map (`asyncio::map`): input order and positions
//! (asyncio behaviour 16, as gather), errors in place (20), the error
//! policies, the panic rule of SPEC decision 6, cancellation (drop,
//! `cancel()`, grace), the input and reorder bounds, and the production
//! controls on tokio's paused clock. Also `to_thread`.

mod common;

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asyncio::map::{Adaptive, Jitter, Retry, RetryPolicy};
use asyncio::{CancellationToken, TaskError, TimeoutError};
use common::{DropFlag, HookCapture, Reached};
use futures::{FutureExt, StreamExt};
use tokio::time::Instant;

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

fn nz32(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

/// Counts the values alive: created when an input is pulled, dropped when
/// the item is done with it.
#[derive(Debug, Clone, Default)]
struct Live {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct LiveGuard(Live);

impl Live {
    fn guard(&self) -> LiveGuard {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        LiveGuard(self.clone())
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
    fn now(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counts how many items run at once.
#[derive(Debug, Clone, Default)]
struct Concurrency {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

struct Running(Concurrency);

impl Concurrency {
    fn enter(&self) -> Running {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Running(self.clone())
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

// ---- the map core ----------------------------------------------------

#[tokio::test(start_paused = true)]
async fn map_one_failure_limit_two_ordered_with_the_error_in_place() {
    // The classic case (behaviours 16, 20): later items finish first, one
    // fails; the results come in input order with the error in its place.
    let outcomes = asyncio::try_map(0..6_u64, nz(2), |n| async move {
        asyncio::sleep(Duration::from_secs(10 - n)).await;
        if n == 3 {
            Err("three")
        } else {
            Ok(n * 10)
        }
    })
    .return_exceptions()
    .start();
    let outcomes: Vec<_> = StreamExt::collect::<Vec<_>>(outcomes).await;
    let positions: Vec<usize> = outcomes.iter().map(|(position, _)| *position).collect();
    assert_eq!(positions, [0, 1, 2, 3, 4, 5]);
    for (position, outcome) in outcomes {
        match position {
            3 => assert!(matches!(outcome, Err(TaskError::Failed("three")))),
            n => assert_eq!(outcome.unwrap(), n as u64 * 10),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn map_collect_is_in_input_order_in_both_output_orders() {
    for unordered in [false, true] {
        let map = asyncio::map(0..20_u64, nz(4), |n| async move {
            asyncio::sleep(Duration::from_millis(100 - n * 5)).await;
            n
        });
        let map = if unordered { map.unordered() } else { map };
        assert_eq!(
            map.collect().await.unwrap(),
            (0..20).collect::<Vec<_>>(),
            "unordered: {unordered}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn map_unordered_yields_in_completion_order_with_positions() {
    let items: Vec<_> = asyncio::map([3_u64, 1, 2], nz(3), |secs| async move {
        asyncio::sleep(Duration::from_secs(secs)).await;
        secs
    })
    .unordered()
    .start()
    .map(Result::unwrap)
    .collect()
    .await;
    assert_eq!(items, [(1, 1), (2, 2), (0, 3)]);
}

#[tokio::test(start_paused = true)]
async fn map_never_runs_more_than_the_limit() {
    let running = Concurrency::default();
    let probe = running.clone();
    let values = asyncio::map(0..100_u64, nz(7), move |n| {
        let running = probe.clone();
        async move {
            let _running = running.enter();
            asyncio::sleep(Duration::from_millis(n % 13)).await;
            n
        }
    })
    .unordered()
    .collect()
    .await
    .unwrap();
    assert_eq!(values.len(), 100);
    assert_eq!(running.peak(), 7);
}

#[tokio::test]
async fn map_of_an_empty_input_ends_at_once() {
    let values = asyncio::map(Vec::<u32>::new(), nz(3), |n| async move { n })
        .collect()
        .await
        .unwrap();
    assert!(values.is_empty());
}

#[tokio::test(start_paused = true)]
async fn map_stream_pulls_a_stream_input() {
    let (sender, receiver) = tokio::sync::mpsc::channel::<u32>(4);
    let feeder = tokio::spawn(async move {
        for n in 0..10 {
            sender.send(n).await.unwrap();
            asyncio::sleep(Duration::from_millis(10)).await;
        }
    });
    let input = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|n| (n, receiver))
    });
    let values = asyncio::map_stream(input, nz(3), |n| async move { n + 1 })
        .collect()
        .await
        .unwrap();
    assert_eq!(values, (1..=10).collect::<Vec<_>>());
    feeder.await.unwrap();
}

// ---- start: SPEC decision 1 -------------------------------------------

#[tokio::test(start_paused = true)]
async fn map_start_spawns_the_first_items_before_any_poll() {
    // SPEC decision 1: children start when the primitive is called (here,
    // started), not at the first poll. The items run while nobody polls.
    let pulled = Reached::new();
    let counted = pulled.clone();
    let ran = Reached::new();
    let probe = ran.clone();
    let inputs = (0..10_u64).inspect(move |_| counted.hit());
    let map = asyncio::map(inputs, nz(3), move |n| {
        let ran = probe.clone();
        async move {
            ran.hit();
            n
        }
    });
    let progress = map.progress();
    assert_eq!(pulled.count(), 0, "the builder starts nothing");
    let mut map = map.start();
    assert_eq!(pulled.count(), 3, "start pulls the first `limit` inputs");
    assert_eq!(progress.snapshot().started, 3);
    common_settle().await;
    assert_eq!(ran.count(), 3, "the started items ran without a poll");
    assert_eq!(map.next().await.unwrap().unwrap(), (0, 0));
    assert_eq!(map.collect().await.unwrap(), (1..10).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn map_collect_starts_at_the_call() {
    let ran = Reached::new();
    let probe = ran.clone();
    let collecting = asyncio::map(0..4_u64, nz(2), move |n| {
        let ran = probe.clone();
        async move {
            ran.hit();
            n
        }
    })
    .collect();
    common_settle().await;
    assert_eq!(ran.count(), 2, "collect() started the first items");
    assert_eq!(collecting.await.unwrap(), [0, 1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn map_stream_start_takes_the_ready_inputs_and_a_pending_input_wakes_the_stream() {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<u32>();
    sender.send(0).unwrap();
    sender.send(1).unwrap();
    let input = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|n| (n, receiver))
    });
    let map = asyncio::map_stream(input, nz(4), |n| async move { n * 10 });
    let progress = map.progress();
    let mut map = map.start();
    assert_eq!(
        progress.snapshot().started,
        2,
        "the buffered inputs started"
    );
    assert_eq!(map.next().await.unwrap().unwrap(), (0, 0));
    assert_eq!(map.next().await.unwrap().unwrap(), (1, 10));
    // The input was pending at start (no-op waker) and at the last poll:
    // a later message must wake the stream.
    let feeder = tokio::spawn(async move {
        asyncio::sleep(Duration::from_secs(1)).await;
        sender.send(2).unwrap();
    });
    assert_eq!(map.next().await.unwrap().unwrap(), (2, 20));
    feeder.await.unwrap();
    assert!(map.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn map_stream_pending_at_start_wakes_the_first_poll() {
    // Nothing is ready when the map starts: the no-op waker of the start
    // must not swallow the wake-up of the first input.
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<u32>();
    let input = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|n| (n, receiver))
    });
    let mut map = asyncio::map_stream(input, nz(2), |n| async move { n + 1 }).start();
    let feeder = tokio::spawn(async move {
        asyncio::sleep(Duration::from_secs(1)).await;
        sender.send(7).unwrap();
    });
    assert_eq!(map.next().await.unwrap().unwrap(), (0, 8));
    feeder.await.unwrap();
    assert!(map.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn map_rate_limited_start_wakes_the_first_poll_when_a_token_comes() {
    // The start arms the rate timer with a no-op waker; the first poll
    // must re-arm it with its own, or the second item never starts.
    let starts = Arc::new(Mutex::new(Vec::new()));
    let recorded = starts.clone();
    let origin = Instant::now();
    let map = asyncio::map(0..3, nz(3), move |n| {
        recorded.lock().unwrap().push(origin.elapsed());
        async move { n }
    })
    .rate_limit(nz32(1), nz32(1))
    .start();
    assert_eq!(starts.lock().unwrap().len(), 1, "one token at the start");
    let values: Vec<_> = StreamExt::collect::<Vec<_>>(map).await;
    assert_eq!(values.len(), 3);
    let secs = |s| Duration::from_secs(s);
    assert_eq!(*starts.lock().unwrap(), [secs(0), secs(1), secs(2)]);
}

#[test]
fn map_builder_spawns_nothing_outside_a_runtime_and_start_panics_at_the_caller() {
    let map = asyncio::map(0..3, nz(2), |n| async move { n });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _ = map.start();
    }))
    .unwrap_err();
    let message = caught
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| caught.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(message.contains("outside a tokio runtime"), "{message}");
}

#[tokio::test(flavor = "current_thread")]
async fn map_holds_at_most_limit_plus_a_constant_inputs_alive_over_a_million_items() {
    // Memory: the inputs are guards counting themselves; the input is an
    // iterator of a million, pulled lazily.
    const N: usize = 1_000_000;
    const LIMIT: usize = 50;
    for unordered in [false, true] {
        let live = Live::default();
        let inputs = {
            let live = live.clone();
            (0..N).map(move |_| live.guard())
        };
        let map = asyncio::map(inputs, nz(LIMIT), |guard| async move {
            tokio::task::yield_now().await;
            drop(guard);
        });
        let map = if unordered { map.unordered() } else { map };
        let count = map.start().fold(0_usize, |count, item| async move {
            item.unwrap();
            count + 1
        });
        assert_eq!(count.await, N);
        assert_eq!(live.now(), 0);
        assert!(
            live.peak() <= LIMIT + 1,
            "peak {} inputs alive (unordered: {unordered})",
            live.peak()
        );
    }
}

#[tokio::test(start_paused = true)]
async fn map_ordered_reorder_buffer_is_bounded_by_the_window() {
    // The head item is slow; the others are quick. New inputs start only
    // while their position is within the window of the head.
    let pulled = Reached::new();
    let counted = pulled.clone();
    let inputs = (0..1000_u64).inspect(move |_| counted.hit());
    let mut map = asyncio::map(inputs, nz(4), |n| async move {
        if n == 0 {
            asyncio::sleep(Duration::from_secs(60)).await;
        }
        n
    })
    .reorder_window(nz(10))
    .start();
    let first = tokio::spawn(async move {
        let first = map.next().await;
        (first, map)
    });
    asyncio::sleep(Duration::from_secs(30)).await;
    assert_eq!(pulled.count(), 10, "the window is 10 positions");
    let (first, map) = first.await.unwrap();
    assert_eq!(first.unwrap().unwrap(), (0, 0));
    assert_eq!(map.collect().await.unwrap().len(), 999);
}

#[tokio::test(start_paused = true)]
async fn cancel_safety_map_next_dropped_loses_no_item() {
    let mut map = asyncio::map(0..3_u64, nz(3), |n| async move {
        asyncio::sleep(Duration::from_secs(n + 1)).await;
        n
    })
    .start();
    // The next() future loses a race, twice, around the first completion.
    assert!(tokio::time::timeout(Duration::from_millis(500), map.next())
        .await
        .is_err());
    assert!(
        tokio::time::timeout(Duration::from_millis(1000), map.next())
            .await
            .unwrap()
            .is_some()
    );
    assert!(tokio::time::timeout(Duration::from_millis(10), map.next())
        .await
        .is_err());
    let rest: Vec<_> = StreamExt::collect::<Vec<_>>(map).await;
    assert_eq!(
        rest.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
        [(1, 1), (2, 2)]
    );
}

// ---- error policies --------------------------------------------------

#[tokio::test(start_paused = true)]
async fn map_fail_fast_cancels_joins_and_stops_pulling() {
    let pulled = Reached::new();
    let counted = pulled.clone();
    let flags: Vec<DropFlag> = (0..100).map(|_| DropFlag::new()).collect();
    let guards = flags.clone();
    let inputs = (0..100_usize).inspect(move |_| counted.hit());
    let error = asyncio::try_map(inputs, nz(3), move |n| {
        let guard = guards[n].guard();
        async move {
            let _guard = guard;
            if n == 1 {
                asyncio::sleep(Duration::from_secs(1)).await;
                return Err("one");
            }
            asyncio::sleep(Duration::from_secs(60)).await;
            Ok(n)
        }
    })
    .collect()
    .await
    .unwrap_err();
    assert_eq!(error.position, 1);
    assert!(matches!(error.error, TaskError::Failed("one")));
    assert_eq!(pulled.count(), 3, "no input pulled after the failure");
    // Joined: the siblings' futures were dropped before the error came back.
    assert!(flags[0].dropped() && flags[2].dropped());
    assert_eq!(Instant::now().elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn map_fail_fast_stream_yields_values_then_the_error_then_ends() {
    let mut map = asyncio::try_map(0..10_u64, nz(1), |n| async move {
        if n == 2 {
            Err("two")
        } else {
            Ok(n)
        }
    })
    .start();
    assert_eq!(map.next().await.unwrap().unwrap(), (0, 0));
    assert_eq!(map.next().await.unwrap().unwrap(), (1, 1));
    let error = map.next().await.unwrap().unwrap_err();
    assert_eq!(error.position, 2);
    assert_eq!(error.to_string(), "map item 2: two");
    assert!(map.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn map_keep_going_returns_every_error_at_the_end_as_one_group() {
    for unordered in [false, true] {
        let map = asyncio::try_map(0..10_u64, nz(3), |n| async move {
            asyncio::sleep(Duration::from_millis(10 * (10 - n))).await;
            if n % 4 == 1 {
                Err(n)
            } else {
                Ok(n)
            }
        })
        .keep_going();
        let map = if unordered { map.unordered() } else { map };
        let items: Vec<_> = StreamExt::collect::<Vec<_>>(map.start()).await;
        let (values, errors): (Vec<_>, Vec<_>) = items.into_iter().partition(Result::is_ok);
        let mut values: Vec<_> = values.into_iter().map(Result::unwrap).collect();
        values.sort_unstable();
        assert_eq!(
            values,
            [0, 2, 3, 4, 6, 7, 8].map(|n| (n as usize, n)),
            "unordered: {unordered}"
        );
        assert_eq!(errors.len(), 1, "one group, last");
        let group = errors.into_iter().next().unwrap().unwrap_err();
        let positions: Vec<usize> = group.iter().map(|error| error.position).collect();
        assert_eq!(positions, [1, 5, 9]);
        assert_eq!(group.len(), 3);
        assert!(group
            .to_string()
            .starts_with("3 map items failed: map item 1: 1"));
    }
}

#[tokio::test(start_paused = true)]
async fn map_keep_going_collect_without_errors_is_ok() {
    let values = asyncio::try_map(0..5, nz(2), |n| async move { Ok::<_, ()>(n) })
        .keep_going()
        .collect()
        .await
        .unwrap();
    assert_eq!(values, [0, 1, 2, 3, 4]);
}

#[tokio::test(start_paused = true)]
async fn map_panic_never_hangs_siblings_joined_then_resumed() {
    // SPEC decision 6: the siblings are cancelled and joined, then the panic
    // resumes in the task polling the map.
    for keep_going in [false, true] {
        let sibling = DropFlag::new();
        let guard = Mutex::new(Some(sibling.guard()));
        let map = asyncio::map(0..4_u32, nz(2), move |n| {
            let guard = guard.lock().unwrap().take();
            async move {
                let _guard = guard;
                if n == 1 {
                    asyncio::sleep(Duration::from_secs(1)).await;
                    panic!("worker died");
                }
                asyncio::sleep(Duration::from_secs(60)).await;
                n
            }
        });
        let caught = if keep_going {
            tokio::spawn(map.keep_going().collect()).await.unwrap_err()
        } else {
            tokio::spawn(map.collect()).await.unwrap_err()
        };
        assert!(caught.is_panic());
        let payload = caught.into_panic();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"worker died"));
        assert!(sibling.dropped(), "the sibling was joined first");
        assert_eq!(Instant::now().elapsed(), Duration::ZERO);
    }
}

#[tokio::test(start_paused = true)]
async fn map_return_exceptions_keeps_a_panic_as_a_value() {
    let outcomes = asyncio::map(0..3_u32, nz(3), |n| async move {
        if n == 1 {
            panic!("value");
        }
        n
    })
    .return_exceptions()
    .collect()
    .await;
    assert_eq!(*outcomes[0].as_ref().unwrap(), 0);
    assert!(matches!(&outcomes[1], Err(TaskError::Panicked(p)) if p.message() == "value"));
    assert_eq!(*outcomes[2].as_ref().unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn map_fail_fast_a_sibling_panic_outranks_the_error_and_a_second_panic_is_reported() {
    let hook = HookCapture::install();
    let outcome = tokio::spawn(
        asyncio::try_map(0..3_u32, nz(3), |n| async move {
            match n {
                0 => Err("error first"),
                // Cancelled by the map, they panic in their destructors.
                _ => {
                    let _bomb = common::FailsThenPanicsOnDrop {
                        error: "unused",
                        panic: "bomb",
                    };
                    asyncio::sleep(Duration::from_secs(60)).await;
                    Ok(n)
                }
            }
        })
        .collect(),
    )
    .await;
    let caught = outcome.unwrap_err();
    assert!(caught.is_panic(), "a panic outranks an ordinary error");
    let reports = hook.reports();
    assert_eq!(
        reports.len(),
        1,
        "the second panic is reported: {reports:?}"
    );
    assert!(reports[0].contains("bomb"));
}

// ---- cancellation ----------------------------------------------------

#[tokio::test(start_paused = true)]
async fn map_dropped_cancels_in_flight_and_stops_pulling() {
    let pulled = Reached::new();
    let counted = pulled.clone();
    let live = Live::default();
    let guards = live.clone();
    let inputs = (0..100_u64).inspect(move |_| counted.hit());
    let mut map = asyncio::map(inputs, nz(3), move |n| {
        let guard = guards.guard();
        async move {
            let _guard = guard;
            asyncio::sleep(Duration::from_secs(n + 1)).await;
            n
        }
    })
    .start();
    assert_eq!(map.next().await.unwrap().unwrap(), (0, 0));
    assert_eq!(live.now(), 3);
    drop(map);
    common_settle().await;
    assert_eq!(live.now(), 0, "every item in flight was aborted");
    assert_eq!(pulled.count(), 4, "nothing pulled after the drop");
}

async fn common_settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn map_cancel_joins_the_items_in_flight() {
    let live = Live::default();
    let guards = live.clone();
    let mut map = asyncio::map(0..100_u64, nz(4), move |n| {
        let guard = guards.guard();
        async move {
            let _guard = guard;
            asyncio::sleep(Duration::from_secs(n + 1)).await;
            n
        }
    })
    .start();
    assert_eq!(map.next().await.unwrap().unwrap(), (0, 0));
    assert_eq!(map.cancel().await, 4);
    assert_eq!(live.now(), 0, "joined: every item's future was dropped");
}

#[tokio::test(start_paused = true)]
async fn map_with_grace_lets_items_clean_up_then_aborts_the_rest() {
    let token = CancellationToken::new();
    let watched = token.clone();
    let cleaned = Reached::new();
    let counted = cleaned.clone();
    let stubborn = DropFlag::new();
    let guard = Mutex::new(Some(stubborn.guard()));
    let started = Instant::now();
    let error = asyncio::try_map(0..3_u32, nz(3), move |n| {
        let watched = watched.clone();
        let cleaned = counted.clone();
        let guard = guard.lock().unwrap().take();
        async move {
            match n {
                0 => {
                    asyncio::sleep(Duration::from_secs(1)).await;
                    Err("boom")
                }
                1 => {
                    watched.cancelled().await;
                    asyncio::sleep(Duration::from_millis(100)).await;
                    cleaned.hit();
                    Ok(n)
                }
                _ => {
                    let _guard = guard;
                    asyncio::sleep(Duration::from_secs(3600)).await;
                    Ok(n)
                }
            }
        }
    })
    .with_grace(token, Duration::from_secs(5))
    .collect()
    .await
    .unwrap_err();
    assert_eq!(error.position, 0);
    assert_eq!(
        cleaned.count(),
        1,
        "the watcher cleaned up within the grace"
    );
    assert!(stubborn.dropped(), "the stubborn item was aborted");
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(6),
        "1 s, then 5 s grace"
    );
}

// ---- production controls, on the paused clock ------------------------

#[tokio::test(start_paused = true)]
async fn map_timeout_fails_an_attempt_with_wait_for_semantics() {
    let dropped = DropFlag::new();
    let guard = Mutex::new(Some(dropped.guard()));
    let started = Instant::now();
    let outcomes = asyncio::try_map([1_u64, 60], nz(2), move |secs| {
        let guard = guard.lock().unwrap().take();
        async move {
            let _guard = guard;
            asyncio::sleep(Duration::from_secs(secs)).await;
            Ok::<_, TimeoutError>(secs)
        }
    })
    .timeout(Duration::from_secs(5))
    .return_exceptions()
    .collect()
    .await;
    assert_eq!(*outcomes[0].as_ref().unwrap(), 1);
    assert!(matches!(outcomes[1], Err(TaskError::Failed(TimeoutError))));
    assert!(dropped.dropped());
    assert_eq!(started.elapsed(), Duration::from_secs(5));
}

/// A function that fails its first `failures` calls per input, recording
/// when each call started.
type Calls = Arc<Mutex<Vec<Duration>>>;

fn flaky(
    failures: usize,
    error: u16,
) -> (
    Calls,
    impl FnMut(u32) -> futures::future::BoxFuture<'static, Result<u32, u16>> + Send + 'static,
) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let recorded = calls.clone();
    let origin = Instant::now();
    let f = move |n: u32| {
        let calls = recorded.clone();
        async move {
            let count = {
                let mut calls = calls.lock().unwrap();
                calls.push(origin.elapsed());
                calls.len()
            };
            if count <= failures {
                Err(error)
            } else {
                Ok(n)
            }
        }
        .boxed()
    };
    (calls, f)
}

#[tokio::test(start_paused = true)]
async fn map_retry_backs_off_exponentially() {
    let (calls, f) = flaky(3, 503);
    let values = asyncio::try_map([7_u32], nz(1), f)
        .retry(
            RetryPolicy::new(nz32(5))
                .base_delay(Duration::from_secs(1))
                .jitter(Jitter::None),
            |_| Retry::Retry,
        )
        .collect()
        .await
        .unwrap();
    assert_eq!(values, [7]);
    let secs = |s| Duration::from_secs(s);
    assert_eq!(*calls.lock().unwrap(), [secs(0), secs(1), secs(3), secs(7)]);
}

#[tokio::test(start_paused = true)]
async fn map_retry_jitter_stays_within_the_backoff() {
    let (calls, f) = flaky(4, 503);
    asyncio::try_map([7_u32], nz(1), f)
        .retry(
            RetryPolicy::new(nz32(5))
                .base_delay(Duration::from_secs(1))
                .jitter(Jitter::Full),
            |_| Retry::Retry,
        )
        .collect()
        .await
        .unwrap();
    let calls = calls.lock().unwrap();
    for (retry, pair) in calls.windows(2).enumerate() {
        let gap = pair[1] - pair[0];
        assert!(
            gap <= Duration::from_secs(1 << retry),
            "retry {retry}: {gap:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn map_retry_after_uses_the_given_delay_and_attempts_bound_the_retries() {
    let (calls, f) = flaky(10, 429);
    let error = asyncio::try_map([7_u32], nz(1), f)
        .retry(RetryPolicy::new(nz32(3)), |_| {
            Retry::RetryAfter(Duration::from_secs(30))
        })
        .collect()
        .await
        .unwrap_err();
    assert!(matches!(error.error, TaskError::Failed(429)));
    let secs = |s| Duration::from_secs(s);
    assert_eq!(*calls.lock().unwrap(), [secs(0), secs(30), secs(60)]);
}

#[tokio::test(start_paused = true)]
async fn map_retry_total_time_bounds_the_retries() {
    let (calls, f) = flaky(10, 503);
    let error = asyncio::try_map([7_u32], nz(1), f)
        .retry(
            RetryPolicy::new(nz32(100))
                .base_delay(Duration::from_secs(1))
                .jitter(Jitter::None)
                .max_elapsed(Duration::from_secs(10)),
            |_| Retry::Retry,
        )
        .collect()
        .await
        .unwrap_err();
    assert_eq!(error.position, 0);
    let secs = |s| Duration::from_secs(s);
    // The next retry would start at 15 s, past the 10 s bound.
    assert_eq!(*calls.lock().unwrap(), [secs(0), secs(1), secs(3), secs(7)]);
}

#[tokio::test(start_paused = true)]
async fn map_retry_classifier_fail_is_final_and_progress_counts_retries() {
    let (calls, f) = flaky(10, 400);
    let map = asyncio::try_map([1_u32, 2], nz(2), f)
        .retry(RetryPolicy::new(nz32(5)), |status| {
            if *status == 400 {
                Retry::Fail
            } else {
                Retry::Retry
            }
        })
        .keep_going();
    let progress = map.progress();
    let errors = map.collect().await.unwrap_err();
    assert_eq!(errors.len(), 2);
    assert_eq!(calls.lock().unwrap().len(), 2, "no retry");
    let snapshot = progress.snapshot();
    assert_eq!(
        (snapshot.started, snapshot.failed, snapshot.retried),
        (2, 2, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn map_rate_limit_spaces_starts_after_the_burst() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let recorded = starts.clone();
    let origin = Instant::now();
    asyncio::map(0..6, nz(10), move |n| {
        recorded.lock().unwrap().push(origin.elapsed());
        async move { n }
    })
    .rate_limit(nz32(2), nz32(3))
    .collect()
    .await
    .unwrap();
    let ms = |m| Duration::from_millis(m);
    assert_eq!(
        *starts.lock().unwrap(),
        [ms(0), ms(0), ms(0), ms(500), ms(1000), ms(1500)]
    );
}

#[tokio::test(start_paused = true)]
async fn map_rate_limited_ends_when_its_last_item_does_not_a_token_later() {
    // Regression: the source was polled only with a token in hand, so a
    // rate-limited map over an exhausted iterator learned of the end one
    // token interval after its last start (here at 2 s instead of 1 s).
    let origin = Instant::now();
    let outputs = asyncio::map(0..2, nz(10), |n| async move { n })
        .rate_limit(nz32(1), nz32(1))
        .collect()
        .await
        .unwrap();
    assert_eq!(outputs, [0, 1]);
    assert_eq!(origin.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn map_rate_limited_loses_no_input_to_a_size_hint_that_says_empty_too_soon() {
    // The early end relies on the size hint only to decide to look: an
    // input that claims to be exhausted but is not still has every item
    // mapped, each at its own token.
    struct Claims0(std::ops::Range<u32>);
    impl Iterator for Claims0 {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            self.0.next()
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (0, Some(0))
        }
    }
    let starts = Arc::new(Mutex::new(Vec::new()));
    let recorded = starts.clone();
    let origin = Instant::now();
    let outputs = asyncio::map(Claims0(0..3), nz(10), move |n| {
        recorded.lock().unwrap().push(origin.elapsed());
        async move { n }
    })
    .rate_limit(nz32(1), nz32(1))
    .collect()
    .await
    .unwrap();
    assert_eq!(outputs, [0, 1, 2]);
    let secs = Duration::from_secs;
    assert_eq!(*starts.lock().unwrap(), [secs(0), secs(1), secs(2)]);
}

#[tokio::test(start_paused = true)]
async fn map_adaptive_cuts_on_errors_and_grows_back_within_bounds() {
    // Phase 1: every call fails until 10 s; phase 2: every call succeeds.
    let running = Concurrency::default();
    let probe = running.clone();
    let origin = Instant::now();
    let map = asyncio::try_map(0..400_u32, nz(16), move |n| {
        let running = probe.clone();
        async move {
            let _running = running.enter();
            asyncio::sleep(Duration::from_millis(100)).await;
            if origin.elapsed() < Duration::from_secs(10) {
                Err(n)
            } else {
                Ok(n)
            }
        }
    })
    .adaptive(Adaptive::new(nz(2), nz(32)).unwrap())
    .return_exceptions();
    let progress = map.progress();
    assert_eq!(progress.snapshot().limit, 16);
    let mut map = map.start();
    let mut lowest = usize::MAX;
    let mut highest_after = 0;
    while let Some((_, outcome)) = map.next().await {
        let limit = progress.snapshot().limit;
        assert!((2..=32).contains(&limit));
        if outcome.is_ok() {
            highest_after = highest_after.max(limit);
        } else {
            lowest = lowest.min(limit);
        }
    }
    assert_eq!(lowest, 2, "errors cut the limit to its floor");
    assert!(highest_after > 2, "successes grow it again");
    assert!(running.peak() <= 32);
    assert_eq!(
        Adaptive::new(nz(3), nz(2)).unwrap_err().to_string(),
        "adaptive concurrency bounds are reversed: min 3 is above max 2"
    );
    assert!(Adaptive::new(nz(1), nz(2))
        .unwrap()
        .tolerance_percent(101)
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn map_progress_counts_done_failed_and_in_flight() {
    let map = asyncio::try_map(0..10_u32, nz(3), |n| async move {
        asyncio::sleep(Duration::from_secs(1)).await;
        if n % 5 == 0 {
            Err(n)
        } else {
            Ok(n)
        }
    })
    .return_exceptions();
    let progress = map.progress();
    let mut map = map.start();
    let _ = map.next().await;
    let snapshot = progress.snapshot();
    assert!(snapshot.in_flight <= 3);
    assert!(snapshot.done + snapshot.failed <= snapshot.started);
    while map.next().await.is_some() {}
    let snapshot = progress.snapshot();
    assert_eq!(
        (
            snapshot.started,
            snapshot.done,
            snapshot.failed,
            snapshot.in_flight,
            snapshot.limit
        ),
        (10, 8, 2, 0, 3)
    );
}

// ---- to_thread -------------------------------------------------------

#[tokio::test]
async fn to_thread_runs_a_blocking_call_as_a_task() {
    let task = asyncio::to_thread(|| {
        std::thread::sleep(Duration::from_millis(5));
        6 * 7
    });
    assert_eq!(task.await.unwrap(), 42);
    let panicked = asyncio::to_thread(|| panic!("in the pool")).await;
    assert!(matches!(panicked, Err(TaskError::Panicked(p)) if p.message() == "in the pool"));
}

#[test]
fn to_thread_cancel_before_start_never_runs_and_a_started_call_completes() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .build()
        .unwrap();
    runtime.block_on(async {
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let (entered_tx, entered) = std::sync::mpsc::channel::<()>();
        let busy = asyncio::to_thread(move || {
            entered_tx.send(()).unwrap();
            blocked.recv().unwrap();
            "finished"
        });
        entered.recv().unwrap();
        let ran = Reached::new();
        let counted = ran.clone();
        let queued = asyncio::to_thread(move || counted.hit());
        assert!(queued.cancel());
        // Completion beats cancellation: the running call is not aborted.
        assert!(busy.cancel());
        release.send(()).unwrap();
        assert_eq!(busy.await.unwrap(), "finished");
        assert!(matches!(queued.await, Err(TaskError::Cancelled)));
        assert!(!ran.reached());
    });
}

#[tokio::test]
async fn map_over_to_thread_items() {
    let values = asyncio::map(0..20_u64, nz(4), |n| asyncio::to_thread(move || n * 2))
        .collect()
        .await
        .unwrap();
    let values: Vec<u64> = values.into_iter().map(Result::unwrap).collect();
    assert_eq!(values, (0..20).map(|n| n * 2).collect::<Vec<_>>());
}

// ---- types -----------------------------------------------------------

#[test]
fn map_types_are_send_and_errors_are_send_sync() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync + 'static>() {}
    type In = u32;
    send::<asyncio::Map<In, u32, String>>();
    send::<asyncio::Map<In, u32, String, asyncio::map::ReturnExceptions>>();
    send::<asyncio::Map<In, u32, String, asyncio::map::KeepGoing>>();
    send::<asyncio::MapStream<In, u32, String>>();
    send::<asyncio::MapStream<In, u32, String, asyncio::map::ReturnExceptions>>();
    send::<asyncio::MapStream<In, u32, String, asyncio::map::KeepGoing>>();
    send::<asyncio::map::Collect<In, u32, String, asyncio::map::FailFast>>();
    send::<asyncio::map::MapCancel<In, u32, String>>();
    send_sync::<asyncio::MapError<String>>();
    send_sync::<asyncio::MapErrors<String>>();
    send_sync::<asyncio::map::Progress>();
    send_sync::<asyncio::map::AdaptiveError>();
}

#[tokio::test]
async fn map_error_chain_reaches_the_items_own_error() {
    let error = asyncio::try_map(0..5, nz(2), |n| async move {
        if n == 4 {
            Err(common::Layered::new("outer", "cause"))
        } else {
            Ok(n)
        }
    })
    .collect()
    .await
    .unwrap_err();
    assert_eq!(error.to_string(), "map item 4: outer");
    assert_eq!(common::chain(&error), ["map item 4: outer", "cause"]);
}

// ---- multi-thread: order and counts only -----------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_on_the_multi_thread_runtime_keeps_order_and_the_limit() {
    let running = Concurrency::default();
    let probe = running.clone();
    let mut map = asyncio::map(0..20_000_u64, nz(16), move |n| {
        let running = probe.clone();
        async move {
            let _running = running.enter();
            tokio::task::yield_now().await;
            n
        }
    })
    .start();
    let mut expected = 0;
    while let Some(item) = map.next().await {
        assert_eq!(item.unwrap(), (expected as usize, expected));
        expected += 1;
    }
    assert_eq!(expected, 20_000);
    assert!(running.peak() <= 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_on_the_multi_thread_runtime_a_panic_never_hangs() {
    let outcome = tokio::spawn(
        asyncio::map(0..10_000_u64, nz(32), |n| async move {
            tokio::task::yield_now().await;
            if n == 5_000 {
                panic!("worker died");
            }
            n
        })
        .unordered()
        .collect(),
    )
    .await;
    assert!(outcome.unwrap_err().is_panic());
    let outcomes = asyncio::map(0..10_000_u64, nz(32), |n| async move {
        tokio::task::yield_now().await;
        if n % 1000 == 0 {
            panic!("worker died");
        }
        n
    })
    .return_exceptions()
    .collect()
    .await;
    assert_eq!(outcomes.len(), 10_000);
    assert_eq!(
        outcomes.iter().filter(|outcome| outcome.is_err()).count(),
        10
    );
}

#[tokio::test(start_paused = true)]
async fn map_retry_waiting_for_its_delay_keeps_its_slot() {
    let pulled = Reached::new();
    let counted = pulled.clone();
    let inputs = (0..4_u32).inspect(move |_| counted.hit());
    let first_call = Arc::new(Mutex::new(true));
    let map = asyncio::try_map(inputs, nz(2), move |n| {
        let first_call = first_call.clone();
        async move {
            if n == 0 && std::mem::replace(&mut *first_call.lock().unwrap(), false) {
                return Err("try again");
            }
            asyncio::sleep(Duration::from_secs(if n == 2 { 100 } else { 1 })).await;
            Ok(n)
        }
    })
    .retry(RetryPolicy::new(nz32(2)), |_| {
        Retry::RetryAfter(Duration::from_secs(10))
    });
    let progress = map.progress();
    let run = tokio::spawn(map.collect());
    asyncio::sleep(Duration::from_secs(5)).await;
    // Item 0 waits to retry, item 1 finished, item 2 runs: 2 slots taken,
    // so item 3 is not pulled yet.
    assert_eq!(pulled.count(), 3);
    assert_eq!(progress.snapshot().in_flight, 2);
    assert_eq!(run.await.unwrap().unwrap(), [0, 1, 2, 3]);
    assert_eq!(progress.snapshot().retried, 1);
}

#[tokio::test(start_paused = true)]
async fn map_keep_going_panic_reports_the_errors_it_collected() {
    let hook = HookCapture::install();
    let outcome = tokio::spawn(
        asyncio::try_map(0..3_u32, nz(1), |n| async move {
            match n {
                0 => Err("collected"),
                1 => panic!("worker died"),
                _ => Ok(n),
            }
        })
        .keep_going()
        .collect(),
    )
    .await;
    assert!(outcome.unwrap_err().is_panic());
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("collected"));
}

#[tokio::test(start_paused = true)]
async fn map_keep_going_panic_reports_errors_still_waiting_in_the_reorder_buffer() {
    let hook = HookCapture::install();
    let outcome = tokio::spawn(
        asyncio::try_map(0..3_u32, nz(3), |n| async move {
            match n {
                // Position 0 runs on, so position 1's error waits behind it.
                0 => {
                    asyncio::sleep(Duration::from_secs(60)).await;
                    Ok(n)
                }
                1 => Err("waiting in order"),
                _ => {
                    asyncio::sleep(Duration::from_secs(1)).await;
                    panic!("worker died")
                }
            }
        })
        .keep_going()
        .collect(),
    )
    .await;
    assert!(outcome.unwrap_err().is_panic());
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("waiting in order"));
}

// ---- items without a task handle ---------------------------------------

#[tokio::test]
async fn map_item_failure_displaced_by_a_destructor_panic_is_reported() {
    // The item's future fails, then panics when dropped: the panic is the
    // item's outcome (its destructors ran before the outcome was seen), and
    // the failure it displaced is not lost: it goes to the hook.
    let hook = HookCapture::install();
    let outcomes = asyncio::try_map([()], nz(1), |()| common::FailsThenPanicsOnDrop {
        error: "displaced",
        panic: "bomb",
    })
    .return_exceptions()
    .collect()
    .await;
    assert_eq!(outcomes.len(), 1);
    assert!(
        matches!(&outcomes[0], Err(TaskError::Panicked(p)) if p.message() == "bomb"),
        "the destructor's panic is the item's outcome"
    );
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("displaced"), "{reports:?}");
}

#[tokio::test(start_paused = true)]
async fn map_dropped_reports_the_panics_of_items_aborted_in_their_destructors() {
    // Dropping the stream aborts the items in flight; their destructors
    // panic after the map is gone. Panics are never lost (SPEC decision 6):
    // each goes to the hook.
    let hook = HookCapture::install();
    let mut map = asyncio::map(0..3_u64, nz(3), |n| async move {
        if n > 0 {
            let _bomb = common::FailsThenPanicsOnDrop {
                error: "unused",
                panic: "bomb",
            };
            asyncio::sleep(Duration::from_secs(60)).await;
        }
        n
    })
    .start();
    assert_eq!(map.next().await.unwrap().unwrap(), (0, 0));
    drop(map);
    common_settle().await;
    let reports = hook.reports();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports.iter().all(|r| r.contains("bomb")), "{reports:?}");
}

#[tokio::test]
async fn map_item_has_no_task_handle_so_current_task_is_none() {
    // A map item runs as its own tokio task but has no `Task` (nobody
    // outside the map awaits it), as a task group's `start_soon` child.
    let inside = asyncio::map(0..3_u32, nz(2), |_| async {
        asyncio::current_task().is_some()
    })
    .collect()
    .await
    .unwrap();
    assert_eq!(inside, [false, false, false]);
}

#[tokio::test]
async fn map_classifier_panic_loses_no_item_panic_taken_in_the_same_batch() {
    // Regression: the driver takes finished items in batches; a retry
    // classifier that panics while a batch is handled must not lose the
    // outcomes behind it in that batch: an item's panic among them goes to
    // the hook (SPEC decision 6). Both items finish before the map's task
    // first runs (current-thread runtime: they were spawned first), so the
    // failing item and the panicking one are taken together.
    let hook = HookCapture::install();
    let map = asyncio::try_map([0_u32, 1], nz(2), |n| async move {
        if n == 1 {
            panic!("item panic");
        }
        Err::<u32, u16>(500)
    })
    .retry(RetryPolicy::new(nz32(3)), |_| panic!("classifier panic"))
    .collect();
    let outcome = tokio::spawn(map).await;
    let caught = outcome.unwrap_err();
    assert!(caught.is_panic(), "the classifier's panic unwinds the map");
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("item panic"), "{reports:?}");
}
