//! `race` and `race_ok` (issue 12, point 4): the first to finish (or to
//! succeed) wins; the losers are cancelled *and joined* (SPEC decision 5).
//! asyncio has no race; the tests compare with the hand-written one
//! (`wait(FIRST_COMPLETED)`, cancel, gather), behaviours 33–42 and 96.

mod common;

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use asyncio::{CancellationToken, RaceError, RaceOkError, TaskError};
use common::{DropFlag, HookCapture, Reached};

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A child that sleeps `secs`, then yields `value`; its `DropFlag` says
/// when its future was dropped.
fn after<T: Send + 'static>(secs: u64, value: T, flag: &DropFlag) -> Boxed<T> {
    let guard = flag.guard();
    Box::pin(async move {
        let _guard = guard;
        asyncio::sleep(Duration::from_secs(secs)).await;
        value
    })
}

#[tokio::test(start_paused = true)]
async fn race_returns_the_first_to_finish_once_the_losers_have_finished() {
    let flags: Vec<DropFlag> = (0..3).map(|_| DropFlag::new()).collect();
    let children = vec![
        after(3, "slow", &flags[0]),
        after(1, "fast", &flags[1]),
        after(2, "middle", &flags[2]),
    ];
    let started = tokio::time::Instant::now();
    let winner = asyncio::race(children).await.unwrap();
    assert_eq!(winner.index, 1);
    assert_eq!(winner.outcome.unwrap(), "fast");
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    // Joined, not merely asked to stop: every loser's future is gone.
    assert!(flags.iter().all(DropFlag::dropped));
}

#[tokio::test]
async fn a_race_of_no_children_is_a_typed_error() {
    let nothing: Vec<Boxed<()>> = Vec::new();
    let error = asyncio::race(nothing).await.unwrap_err();
    assert_eq!(error, RaceError::Empty);
    assert_eq!(error.to_string(), "race of no children: nothing can win");
    let nothing: Vec<Boxed<Result<(), ()>>> = Vec::new();
    assert!(matches!(
        asyncio::race_ok(nothing).await,
        Err(RaceOkError::Empty)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_failure_or_a_cancellation_wins_a_race_as_a_value() {
    // As `wait(FIRST_COMPLETED)`: whatever finishes first is done.
    let failing = asyncio::try_spawn(async { Err::<u8, _>("boom") });
    let slow = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(9)).await;
        Ok::<u8, &str>(1)
    });
    let slow_handle = slow.cancel_handle();
    let winner = asyncio::race([slow, failing]).await.unwrap();
    assert_eq!(winner.index, 1);
    assert!(matches!(winner.outcome, Err(TaskError::Failed("boom"))));
    assert!(
        slow_handle.is_cancelled(),
        "a Task passed in is cancelled if it loses"
    );

    let cancelled = asyncio::spawn(std::future::pending::<u8>());
    cancelled.cancel();
    let other = asyncio::spawn(std::future::pending::<u8>());
    let winner = asyncio::race([other, cancelled]).await.unwrap();
    assert_eq!(winner.index, 1);
    assert!(matches!(winner.outcome, Err(TaskError::Cancelled)));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_child_wins_as_a_value_and_nothing_is_resumed() {
    // SPEC decision 6: where an outcome is handed back as a value, a panic
    // is a value.
    let flag = DropFlag::new();
    let children: Vec<Boxed<u8>> = vec![
        after(5, 1, &flag),
        Box::pin(async { panic!("child panicked") }),
    ];
    let winner = asyncio::race(children).await.unwrap();
    assert_eq!(winner.index, 1);
    match winner.outcome {
        Err(TaskError::Panicked(panic)) => assert_eq!(panic.message(), "child panicked"),
        other => panic!("unexpected outcome {other:?}"),
    }
    assert!(flag.dropped());
}

#[tokio::test(start_paused = true)]
async fn a_losers_panic_while_it_is_cancelled_goes_to_the_hook() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("loser's clean-up panicked");
        }
    }
    let capture = HookCapture::install();
    let loser: Boxed<u8> = Box::pin(async {
        let _cleanup = PanicsOnDrop;
        std::future::pending::<u8>().await
    });
    let winner: Boxed<u8> = Box::pin(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        2
    });
    let won = asyncio::race(vec![loser, winner]).await.unwrap();
    assert_eq!(won.outcome.unwrap(), 2);
    let reports = capture.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].contains("loser's clean-up panicked"),
        "{reports:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_race_aborts_every_child() {
    let flags: Vec<DropFlag> = (0..2).map(|_| DropFlag::new()).collect();
    let race = asyncio::race(vec![after(5, 1, &flags[0]), after(6, 2, &flags[1])]);
    // Awaited once, then dropped (a timeout around it).
    let timed_out = asyncio::wait_for(race.into_future(), Duration::from_secs(1)).await;
    assert!(timed_out.is_err());
    tokio::task::yield_now().await;
    assert!(flags.iter().all(DropFlag::dropped));
    // Dropped without being awaited at all: the same.
    let flag = DropFlag::new();
    drop(asyncio::race(vec![after(5, 1, &flag)]));
    tokio::task::yield_now().await;
    assert!(flag.dropped());
}

#[tokio::test(start_paused = true)]
async fn race_with_grace_lets_losers_clean_up_before_the_abort() {
    let token = CancellationToken::new();
    let polite_done = Reached::new();
    let rude_dropped = DropFlag::new();
    let polite: Boxed<&str> = {
        let token = token.clone();
        let done = polite_done.clone();
        Box::pin(async move {
            token.cancelled().await;
            asyncio::sleep(Duration::from_millis(100)).await; // async clean-up
            done.hit();
            "cleaned up"
        })
    };
    let rude = after(3_600, "never", &rude_dropped);
    let fast: Boxed<&str> = Box::pin(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        "fast"
    });
    let started = tokio::time::Instant::now();
    let winner = asyncio::race(vec![polite, rude, fast])
        .with_grace(token.clone(), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(winner.index, 2);
    assert!(token.is_cancelled());
    assert!(polite_done.reached(), "the polite loser ran its clean-up");
    assert!(
        rude_dropped.dropped(),
        "the rude loser was aborted after the grace"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn race_ok_returns_the_first_success_and_skips_earlier_failures() {
    let flag = DropFlag::new();
    let attempts: Vec<Boxed<Result<&str, String>>> = vec![
        Box::pin(async {
            asyncio::sleep(Duration::from_secs(1)).await;
            Err("a: refused".to_string())
        }),
        Box::pin(async {
            asyncio::sleep(Duration::from_secs(2)).await;
            Ok("b")
        }),
        {
            let guard = flag.guard();
            Box::pin(async move {
                let _guard = guard;
                asyncio::sleep(Duration::from_secs(3)).await;
                Ok("c")
            })
        },
    ];
    let (index, value) = asyncio::race_ok(attempts).await.unwrap();
    assert_eq!((index, value), (1, "b"));
    assert!(flag.dropped(), "the later attempt was cancelled and joined");
}

#[tokio::test(start_paused = true)]
async fn race_ok_returns_every_failure_in_input_order_when_none_succeeds() {
    let cancelled = asyncio::try_spawn(std::future::pending::<Result<u8, String>>());
    cancelled.cancel();
    let late = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(2)).await;
        Err::<u8, _>("late".to_string())
    });
    let early = asyncio::try_spawn(async {
        asyncio::sleep(Duration::from_secs(1)).await;
        Err::<u8, _>("early".to_string())
    });
    let error = asyncio::race_ok([late, cancelled, early])
        .await
        .unwrap_err();
    let failures = error.failures();
    assert_eq!(failures.len(), 3);
    assert!(matches!(&failures[0], (0, TaskError::Failed(e)) if e == "late"));
    assert!(matches!(&failures[1], (1, TaskError::Cancelled)));
    assert!(matches!(&failures[2], (2, TaskError::Failed(e)) if e == "early"));
    assert_eq!(
        error.to_string(),
        "every child of the race failed (3); child 0: late; child 1: task was cancelled; child 2: early"
    );
}

#[tokio::test(start_paused = true)]
async fn race_ok_a_panic_cancels_and_joins_the_others_then_resumes() {
    // SPEC decision 6 (behaviour 96 not mirrored): a panic is not a failure
    // to collect; the others are joined before it continues.
    let flag = DropFlag::new();
    let outer = asyncio::spawn({
        let flag = flag.clone();
        async move {
            let children: Vec<Boxed<Result<u8, ()>>> = vec![
                {
                    let guard = flag.guard();
                    Box::pin(async move {
                        let _guard = guard;
                        asyncio::sleep(Duration::from_secs(9)).await;
                        Ok(1)
                    })
                },
                Box::pin(async {
                    asyncio::sleep(Duration::from_secs(1)).await;
                    panic!("attempt panicked")
                }),
            ];
            let _ = asyncio::race_ok(children).await;
        }
    });
    match outer.await {
        Err(TaskError::Panicked(panic)) => assert_eq!(panic.message(), "attempt panicked"),
        other => panic!("the panic was not resumed: {other:?}"),
    }
    assert!(flag.dropped());
}

#[tokio::test(start_paused = true)]
async fn race_of_a_thousand_children_is_won_by_the_first() {
    let children = (0..1_000u64).map(|n| async move {
        asyncio::sleep(Duration::from_millis(1_000 - n)).await;
        n
    });
    let winner = asyncio::race(children).await.unwrap();
    assert_eq!(winner.index, 999);
    assert_eq!(winner.outcome.unwrap(), 999);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn race_on_the_multi_thread_runtime_joins_every_loser() {
    for _ in 0..50 {
        let flags: Vec<DropFlag> = (0..8).map(|_| DropFlag::new()).collect();
        let children: Vec<Boxed<usize>> = flags
            .iter()
            .enumerate()
            .map(|(n, flag)| {
                let guard = flag.guard();
                Box::pin(async move {
                    let _guard = guard;
                    for _ in 0..n {
                        tokio::task::yield_now().await;
                    }
                    n
                }) as Boxed<usize>
            })
            .collect();
        let winner = asyncio::race(children).await.unwrap();
        assert_eq!(winner.outcome.unwrap(), winner.index);
        assert!(flags.iter().all(DropFlag::dropped));
    }
}
