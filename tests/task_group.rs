//! `TaskGroup`: asyncio's TaskGroup semantics (behaviours 87–109), in both
//! forms (scoped `run` / `task_group`, and the body-less group that is
//! joined), on tokio tasks. Timed tests use the paused clock.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asyncio::{Origin, TaskError, TaskGroup, TaskGroupError};
use common::{DropFlag, FailsThenPanicsOnDrop, HookCapture, Reached};

const SEC: Duration = Duration::from_secs(1);

/// A log of events, to check what ran and in which order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, event: impl Into<String>) {
        self.0.lock().unwrap().push(event.into());
    }
    fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn messages<E: Copy>(error: &TaskGroupError<E>) -> Vec<E> {
    error.iter().map(|(_, error)| *error).collect()
}

// ---------------------------------------------------------------- the basics

#[tokio::test(start_paused = true)]
async fn leaving_the_body_waits_for_every_child_and_results_can_be_read() {
    // Behaviour 87.
    let (a, b) = asyncio::task_group(|tg| async move {
        let a = tg.spawn(async {
            asyncio::sleep(SEC).await;
            1
        });
        let b = tg.spawn(async {
            asyncio::sleep(2 * SEC).await;
            2
        });
        Ok::<_, &str>((a.unwrap(), b.unwrap()))
    })
    .await
    .unwrap()
    .unwrap();
    assert!(a.is_done() && b.is_done(), "both children finished");
    assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
}

#[tokio::test(start_paused = true)]
async fn children_start_when_spawned_not_when_the_body_awaits() {
    let started = Reached::new();
    asyncio::task_group(|tg| {
        let started = started.clone();
        async move {
            let seen = started.clone();
            tg.spawn(async move { seen.hit() }).unwrap();
            asyncio::sleep(SEC).await;
            assert!(started.reached(), "the child ran while the body slept");
            Ok::<_, &str>(())
        }
    })
    .await
    .unwrap();
}

#[tokio::test(start_paused = true)]
async fn four_children_two_fail_at_the_same_tick_the_others_and_the_body_are_cancelled() {
    // The case (behaviours 90, 92): a finishes, b and c fail at the
    // same tick while d sleeps; the group ends with errors b and c, d is
    // cancelled, and the body is cancelled at its await.
    let body_cancelled = DropFlag::new();
    let d_dropped = DropFlag::new();
    let log = Log::default();
    let (tasks_tx, tasks_rx) = std::sync::mpsc::channel();
    let error = asyncio::task_group(|tg| {
        let guard = body_cancelled.guard();
        let d_guard = d_dropped.guard();
        let log = log.clone();
        async move {
            let a = tg.try_spawn(async { Ok::<_, &str>("a") }).unwrap();
            let b = tg
                .try_spawn(async {
                    asyncio::sleep(SEC).await;
                    Err::<&str, _>("b failed")
                })
                .unwrap();
            let c = tg
                .try_spawn(async {
                    asyncio::sleep(SEC).await;
                    Err::<&str, _>("c failed")
                })
                .unwrap();
            let d = tg
                .try_spawn(async move {
                    let _guard = d_guard;
                    asyncio::sleep(60 * SEC).await;
                    Ok::<_, &str>("d")
                })
                .unwrap();
            tasks_tx.send((a, b, c, d)).unwrap();
            asyncio::sleep(30 * SEC).await;
            log.push("the body went on after the failures");
            drop(guard);
            Ok(())
        }
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&error), ["b failed", "c failed"]);
    assert!(error
        .iter()
        .all(|(origin, _)| matches!(origin, Origin::Child(_))));
    assert!(body_cancelled.dropped());
    assert!(log.events().is_empty(), "{:?}", log.events());
    assert!(d_dropped.dropped(), "d was cancelled and has finished");
    let (a, b, c, d) = tasks_rx.recv().unwrap();
    assert_eq!(a.await.unwrap(), "a");
    assert!(matches!(b.await, Err(TaskError::Failed(asyncio::InGroup))));
    assert!(matches!(c.await, Err(TaskError::Failed(asyncio::InGroup))));
    assert!(matches!(d.await, Err(TaskError::Cancelled)));
}

#[tokio::test(start_paused = true)]
async fn a_body_error_cancels_the_children_and_is_grouped_even_alone() {
    // Behaviour 91.
    let child_dropped = DropFlag::new();
    let error = asyncio::task_group(|tg| {
        let guard = child_dropped.guard();
        async move {
            tg.spawn(async move {
                let _guard = guard;
                asyncio::sleep(60 * SEC).await;
            })
            .unwrap();
            asyncio::sleep(SEC).await;
            Err::<(), _>("the body failed")
        }
    })
    .await
    .unwrap_err();
    assert_eq!(error.len(), 1);
    assert_eq!(error.first(), (Origin::Body, &"the body failed"));
    assert!(child_dropped.dropped());
}

#[tokio::test(start_paused = true)]
async fn errors_of_children_finishing_during_the_cancellation_are_collected() {
    // Behaviour 92: a child that fails while the group cancels (here, in
    // its grace period) adds its error.
    let group = TaskGroup::<&str>::with_grace(10 * SEC);
    let token = group.handle().token();
    group.try_spawn(async move {
        token.cancelled().await;
        asyncio::sleep(SEC).await;
        Err::<(), _>("failed while cleaning up")
    });
    group.try_spawn(async {
        asyncio::sleep(SEC).await;
        Err::<(), _>("first")
    });
    let error = group.join().await.unwrap_err();
    assert_eq!(messages(&error), ["first", "failed while cleaning up"]);
}

#[tokio::test(start_paused = true)]
async fn a_child_cancelled_on_its_own_is_not_an_error() {
    // Behaviour 93.
    let value = asyncio::task_group(|tg| async move {
        let sleeper = tg.spawn(asyncio::sleep(60 * SEC)).unwrap();
        let worker = tg
            .spawn(async {
                asyncio::sleep(SEC).await;
                7
            })
            .unwrap();
        assert!(sleeper.cancel());
        assert!(matches!(sleeper.await, Err(TaskError::Cancelled)));
        Ok::<_, &str>(worker.await.unwrap())
    })
    .await;
    assert_eq!(value.unwrap(), Some(7));
}

#[tokio::test(start_paused = true)]
async fn children_and_grandchildren_spawned_while_the_body_exits_are_waited_for() {
    // Behaviour 99.
    let finished = Arc::new(AtomicUsize::new(0));
    asyncio::task_group(|tg| {
        let finished = finished.clone();
        async move {
            let inner = tg.clone();
            tg.spawn(async move {
                asyncio::sleep(SEC).await;
                let grandchild = finished.clone();
                inner
                    .spawn(async move {
                        asyncio::sleep(SEC).await;
                        grandchild.fetch_add(1, Ordering::SeqCst);
                    })
                    .unwrap();
                finished.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
            Ok::<_, &str>(()) // the body returns at once
        }
    })
    .await
    .unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_child_failing_right_after_spawn_cancels_the_body_at_its_next_await() {
    // Behaviour 105.
    let log = Log::default();
    let error = asyncio::task_group(|tg| {
        let log = log.clone();
        async move {
            tg.try_spawn(async { Err::<(), _>("at once") }).unwrap();
            log.push("before the await");
            tokio::task::yield_now().await;
            asyncio::sleep(SEC).await;
            log.push("after the await");
            Ok(())
        }
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&error), ["at once"]);
    assert_eq!(log.events(), ["before the await"]);
}

// ------------------------------------------------------------------ spawning

#[tokio::test(start_paused = true)]
async fn spawning_while_shutting_down_returns_an_already_cancelled_task() {
    // asyncio raises "is shutting down" here (behaviour 88); the crate
    // drops the future unpolled and returns a cancelled task (documented
    // on `SpawnError`): nothing leaks, nothing to handle.
    let group = TaskGroup::<&str>::new();
    let handle = group.handle();
    group.try_spawn(async { Err::<(), _>("boom") });
    tokio::task::yield_now().await;
    assert!(handle.is_cancelling());
    let polled = Reached::new();
    let dropped = DropFlag::new();
    let late = {
        let polled = polled.clone();
        let guard = dropped.guard();
        handle
            .spawn(async move {
                let _guard = guard;
                polled.hit();
            })
            .expect("shutting down is not an error")
    };
    assert!(dropped.dropped(), "the refused future was dropped at once");
    assert!(matches!(late.await, Err(TaskError::Cancelled)));
    assert!(!polled.reached());
    assert_eq!(messages(&group.join().await.unwrap_err()), ["boom"]);
}

#[tokio::test(start_paused = true)]
async fn spawning_on_a_finished_group_is_a_typed_error_with_the_future() {
    // Behaviour 88 ("is finished").
    let group = TaskGroup::<&str>::new();
    let handle = group.handle();
    group.join().await.unwrap();
    let error = handle.spawn(async { 5 }).unwrap_err();
    assert_eq!(error.to_string(), "task group is finished");
    assert_eq!(error.into_inner().await, 5);
}

#[tokio::test(start_paused = true)]
async fn spawning_on_a_dropped_group_is_a_typed_error() {
    let group = TaskGroup::<&str>::new();
    let handle = group.handle();
    drop(group);
    assert!(handle.spawn(async {}).is_err());
}

#[test]
#[should_panic(expected = "outside a tokio runtime")]
fn spawning_outside_a_runtime_panics_at_the_callers_line() {
    let group = TaskGroup::<&str>::new();
    let _ = group.spawn(async {});
}

// ------------------------------------------------------------------ cancel()

#[tokio::test(start_paused = true)]
async fn cancel_from_the_body_cancels_children_and_body_and_ends_without_error() {
    // Behaviour 108.
    let child_dropped = DropFlag::new();
    let log = Log::default();
    let outcome = asyncio::task_group(|tg| {
        let guard = child_dropped.guard();
        let log = log.clone();
        async move {
            tg.spawn(async move {
                let _guard = guard;
                asyncio::sleep(60 * SEC).await;
            })
            .unwrap();
            assert!(tg.cancel());
            assert!(!tg.cancel(), "idempotent");
            asyncio::sleep(SEC).await;
            log.push("the body went on");
            Ok::<_, &str>(1)
        }
    })
    .await;
    assert_eq!(outcome.unwrap(), None);
    assert!(child_dropped.dropped());
    assert!(log.events().is_empty());
}

#[tokio::test(start_paused = true)]
async fn cancel_from_a_child_or_from_outside_ends_the_group_without_error() {
    let outcome = asyncio::task_group(|tg| async move {
        let canceller = tg.clone();
        tg.spawn(async move {
            asyncio::sleep(SEC).await;
            canceller.cancel();
        })
        .unwrap();
        asyncio::sleep(60 * SEC).await;
        Ok::<_, &str>(())
    })
    .await;
    assert_eq!(outcome.unwrap(), None);

    let group = TaskGroup::<&str>::new();
    let outside = group.handle();
    group.spawn(asyncio::sleep(60 * SEC));
    let stopper = tokio::spawn(async move {
        asyncio::sleep(SEC).await;
        outside.cancel()
    });
    group.join().await.unwrap();
    assert!(stopper.await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn cancel_and_join_waits_until_every_child_has_finished() {
    // SPEC decision 5: the async cancel-and-join of the body-less form.
    let dropped = DropFlag::new();
    let group = TaskGroup::<&str>::new();
    let guard = dropped.guard();
    group.spawn(async move {
        let _guard = guard;
        asyncio::sleep(60 * SEC).await;
    });
    group.cancel();
    group.join().await.unwrap();
    assert!(dropped.dropped());
}

// ------------------------------------------------------------------- panics

#[tokio::test(start_paused = true)]
async fn a_child_panic_cancels_and_joins_the_others_then_resumes_in_the_caller() {
    // Behaviour 95 (and 96 done right), SPEC decision 6, behaviour 109: the
    // errors collected while the others finish go to the hook.
    let hook = HookCapture::install();
    let sibling_dropped = DropFlag::new();
    let guard = sibling_dropped.guard();
    let run = TaskGroup::with_grace(10 * SEC).run(|tg| async move {
        let token = tg.token();
        tg.try_spawn(async move {
            token.cancelled().await;
            Err::<(), _>("an error beside the panic")
        })
        .unwrap();
        tg.try_spawn(async move {
            let _guard = guard;
            asyncio::sleep(60 * SEC).await;
            Ok(())
        })
        .unwrap();
        tg.try_spawn(async {
            asyncio::sleep(SEC).await;
            panic!("the child panicked");
            #[allow(unreachable_code)] // the future's output type
            Ok(())
        })
        .unwrap();
        Ok::<_, &str>(())
    });
    let outcome = tokio::spawn(run).await;
    let panic = outcome.unwrap_err().into_panic();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"the child panicked"));
    assert!(sibling_dropped.dropped(), "the sibling was joined first");
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].ends_with("nobody observed its error: \"an error beside the panic\""));
}

#[tokio::test(start_paused = true)]
async fn a_body_panic_cancels_and_joins_the_children_then_resumes() {
    let child_dropped = DropFlag::new();
    let guard = child_dropped.guard();
    let outcome = tokio::spawn(asyncio::task_group(|tg| async move {
        tg.spawn(async move {
            let _guard = guard;
            asyncio::sleep(60 * SEC).await;
        })
        .unwrap();
        asyncio::sleep(SEC).await;
        if true {
            panic!("the body panicked");
        }
        Ok::<_, &str>(())
    }))
    .await;
    let panic = outcome.unwrap_err().into_panic();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"the body panicked"));
    assert!(child_dropped.dropped());
}

#[tokio::test(start_paused = true)]
async fn a_second_panic_goes_to_the_hook() {
    let hook = HookCapture::install();
    let outcome = tokio::spawn(asyncio::task_group(|tg| async move {
        for n in 0..2 {
            tg.spawn(async move {
                asyncio::sleep(SEC).await;
                panic!("panic {n}");
            })
            .unwrap();
        }
        Ok::<_, &str>(())
    }))
    .await;
    assert!(outcome.unwrap_err().is_panic());
    assert_eq!(hook.reports().len(), 1, "{:?}", hook.reports());
}

// ----------------------------------------------------- dropping, timeouts

#[tokio::test(start_paused = true)]
async fn dropping_the_group_future_aborts_the_body_and_the_children() {
    // The awaiting future is dropped: drop cannot wait, so children are
    // aborted and stop at their next await point.
    let hook = HookCapture::install();
    let child_dropped = DropFlag::new();
    let body_dropped = DropFlag::new();
    let run = asyncio::task_group(|tg| {
        let child_guard = child_dropped.guard();
        let body_guard = body_dropped.guard();
        async move {
            let _body_guard = body_guard;
            tg.try_spawn(async {
                asyncio::sleep(SEC).await;
                Err::<(), _>("failed after the drop")
            })
            .unwrap();
            tg.spawn(async move {
                let _guard = child_guard;
                asyncio::sleep(60 * SEC).await;
            })
            .unwrap();
            asyncio::sleep(60 * SEC).await;
            Ok::<_, &str>(())
        }
    });
    let mut run = Box::pin(run);
    assert!(futures::poll!(&mut run).is_pending());
    drop(run);
    assert!(body_dropped.dropped());
    asyncio::sleep(2 * SEC).await;
    assert!(child_dropped.dropped());
    // The failing child was aborted before it failed: nothing to report.
    assert!(hook.reports().is_empty(), "{:?}", hook.reports());
}

#[tokio::test(start_paused = true)]
async fn errors_collected_before_the_group_is_dropped_go_to_the_hook() {
    let hook = HookCapture::install();
    let group = TaskGroup::<&str>::new();
    group.try_spawn(async { Err::<(), _>("collected") });
    asyncio::sleep(SEC).await;
    drop(group);
    assert_eq!(hook.reports().len(), 1, "{:?}", hook.reports());
}

#[tokio::test(start_paused = true)]
async fn a_timeout_around_the_group_cancels_the_body_and_children() {
    // Behaviour 79, with the crate's drop: children are aborted, then
    // `TimeoutError`.
    let child_dropped = DropFlag::new();
    let guard = child_dropped.guard();
    let outcome = asyncio::wait_for(
        asyncio::task_group(|tg| async move {
            tg.spawn(async move {
                let _guard = guard;
                asyncio::sleep(60 * SEC).await;
            })
            .unwrap();
            asyncio::sleep(60 * SEC).await;
            Ok::<_, &str>(())
        }),
        SEC,
    )
    .await;
    assert_eq!(outcome.unwrap_err(), asyncio::TimeoutError);
    tokio::task::yield_now().await;
    assert!(child_dropped.dropped());
}

// ------------------------------------------------------------------ nesting

#[tokio::test(start_paused = true)]
async fn nested_groups_nest_their_error_groups() {
    // Behaviour 98: the inner group fails first; its group is one member
    // of the outer group.
    #[derive(Debug)]
    enum Nested {
        Leaf(&'static str),
        Group(TaskGroupError<Nested>),
    }
    let error = asyncio::task_group(|outer| async move {
        outer
            .try_spawn(async {
                asyncio::sleep(60 * SEC).await;
                Ok(())
            })
            .unwrap();
        asyncio::task_group(|inner| async move {
            inner
                .try_spawn(async { Err::<(), _>(Nested::Leaf("inner child")) })
                .unwrap();
            asyncio::sleep(60 * SEC).await;
            Ok(())
        })
        .await
        .map_err(Nested::Group)?;
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(error.len(), 1);
    let (origin, Nested::Group(inner)) = error.first() else {
        panic!("the outer group holds the inner group: {error:?}");
    };
    assert_eq!(origin, Origin::Body);
    assert!(matches!(
        inner.first(),
        (Origin::Child(_), Nested::Leaf("inner child"))
    ));
}

#[tokio::test(start_paused = true)]
async fn an_outer_failure_cancels_the_inner_body() {
    // Behaviour 98, second half: the outer group holds only the original
    // error.
    let inner_dropped = DropFlag::new();
    let guard = inner_dropped.guard();
    let error = asyncio::task_group(|outer| async move {
        outer
            .try_spawn(async {
                asyncio::sleep(SEC).await;
                Err::<(), _>("outer child")
            })
            .unwrap();
        asyncio::task_group(|inner| async move {
            inner
                .spawn(async move {
                    let _guard = guard;
                    asyncio::sleep(60 * SEC).await;
                })
                .unwrap();
            asyncio::sleep(60 * SEC).await;
            Ok::<_, &str>(())
        })
        .await
        .map_err(|_| "inner group")?;
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&error), ["outer child"]);
    // The inner group was dropped with the outer body: its child was
    // aborted, and the outer group joined it before it returned (as
    // asyncio's inner `async with` awaits its children, 87, 98).
    assert!(inner_dropped.dropped());
}

/// A child that records its drop, and holds a (moved-in) guard until then.
fn sleeping_child(log: &Log, name: &'static str) -> impl std::future::Future<Output = ()> {
    struct Dropped(Log, &'static str);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.push(format!("{} dropped", self.1));
        }
    }
    let dropped = Dropped(log.clone(), name);
    async move {
        let _dropped = dropped;
        asyncio::sleep(60 * SEC).await;
    }
}

#[tokio::test(start_paused = true)]
async fn groups_nested_in_a_child_that_the_outer_group_aborts_are_joined_first() {
    // Decision 5 (structured means joined), two levels down: the outer
    // group aborts its child, which drops the group it was running; that
    // group's child is aborted in turn, and drops the innermost group, whose
    // child is aborted last. The outer group returns only once all of them
    // have finished. (Two levels, because one abort reaches the runtime's
    // queue before the outer group is woken; the second does not.)
    let log = Log::default();
    let (inner_log, outer_log) = (log.clone(), log.clone());
    // In a spawned task, so that the runtime runs tasks in the order they
    // were woken (`block_on`'s own future is polled apart from that queue).
    let error = tokio::spawn(async move {
        let outcome = asyncio::task_group(|outer| async move {
            outer
                .spawn(async move {
                    asyncio::task_group(|inner| async move {
                        inner
                            .spawn(async move {
                                asyncio::task_group(|innermost| async move {
                                    innermost
                                        .spawn(sleeping_child(&inner_log, "great-grandchild"))
                                        .unwrap();
                                    asyncio::sleep(60 * SEC).await;
                                    Ok::<_, &str>(())
                                })
                                .await
                            })
                            .unwrap();
                        asyncio::sleep(60 * SEC).await;
                        Ok::<_, &str>(())
                    })
                    .await
                })
                .unwrap();
            outer
                .try_spawn(async {
                    asyncio::sleep(SEC).await;
                    Err::<(), _>("outer child")
                })
                .unwrap();
            asyncio::sleep(60 * SEC).await;
            Ok(())
        })
        .await;
        outer_log.push("outer returned");
        outcome
    })
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(messages(&error), ["outer child"]);
    assert_eq!(log.events(), ["great-grandchild dropped", "outer returned"]);
}

#[tokio::test(start_paused = true)]
async fn a_group_the_body_drops_by_a_timeout_is_joined_before_the_outer_returns() {
    // A timeout inside the body drops a nested group (behaviour 79 one
    // level down): its children are aborted at once, the body goes on, and
    // the outer group joins them before it finishes.
    let log = Log::default();
    let (inner_log, body_log, outer_log) = (log.clone(), log.clone(), log.clone());
    let value = asyncio::task_group(|_outer| async move {
        let timed_out = asyncio::wait_for(
            asyncio::task_group(|inner| async move {
                inner
                    .spawn(sleeping_child(&inner_log, "grandchild"))
                    .unwrap();
                asyncio::sleep(60 * SEC).await;
                Ok::<_, &str>(())
            }),
            SEC,
        )
        .await;
        body_log.push("body saw the timeout");
        Ok::<_, &str>(timed_out.is_err())
    })
    .await
    .unwrap();
    outer_log.push("outer returned");
    assert_eq!(value, Some(true));
    let events = log.events();
    assert_eq!(events.last().map(String::as_str), Some("outer returned"));
    assert!(
        events.contains(&"grandchild dropped".to_owned()),
        "{events:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_group_a_child_drops_by_a_timeout_is_joined_before_the_outer_returns() {
    // Decision 5 inside a child: a timeout in a running child drops the
    // group it was awaiting (not an abort: the child goes on, and here
    // returns). That group's child is aborted, and drops the group it ran,
    // whose child is aborted last. The outer group joins all of them before
    // it returns, as asyncio's child would have awaited its inner group's
    // children on the way out. (Two levels, as in the test above: one
    // abort reaches the runtime's queue before the outer group is woken.)
    let log = Log::default();
    let (inner_log, outer_log) = (log.clone(), log.clone());
    let value = tokio::spawn(async move {
        let outcome = asyncio::task_group(|outer| async move {
            outer
                .spawn(async move {
                    let timed_out = asyncio::wait_for(
                        asyncio::task_group(|inner| async move {
                            inner
                                .spawn(async move {
                                    asyncio::task_group(|innermost| async move {
                                        innermost
                                            .spawn(sleeping_child(&inner_log, "great-grandchild"))
                                            .unwrap();
                                        asyncio::sleep(60 * SEC).await;
                                        Ok::<_, ()>(())
                                    })
                                    .await
                                })
                                .unwrap();
                            asyncio::sleep(60 * SEC).await;
                            Ok::<_, ()>(())
                        }),
                        SEC,
                    )
                    .await;
                    assert!(timed_out.is_err(), "the inner group outlived its timeout");
                })
                .unwrap();
            Ok::<_, &'static str>(1)
        })
        .await;
        outer_log.push("outer returned");
        outcome
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(value, Some(1));
    assert_eq!(log.events(), ["great-grandchild dropped", "outer returned"]);
}

#[tokio::test(start_paused = true)]
async fn a_body_less_group_left_unjoined_in_a_body_is_joined_by_the_outer_group() {
    // A `TaskGroup` the body never joins is dropped when the body returns:
    // its children are aborted, and the enclosing group joins them.
    let log = Log::default();
    let (inner_log, outer_log) = (log.clone(), log.clone());
    let value = asyncio::task_group(|_outer| async move {
        let forgotten = TaskGroup::<&str>::new();
        forgotten.spawn(sleeping_child(&inner_log, "grandchild"));
        Ok::<_, &str>(1)
    })
    .await
    .unwrap();
    outer_log.push("outer returned");
    assert_eq!(value, Some(1));
    assert_eq!(log.events(), ["grandchild dropped", "outer returned"]);
}

#[tokio::test(start_paused = true)]
async fn a_group_dropped_outside_any_group_still_only_aborts_its_children() {
    // Without an enclosing group there is nobody to join them: the drop
    // aborts, and the children stop after it (decision 5's documented
    // limit). This pins that adoption does not leak outside a group.
    let log = Log::default();
    let inner_log = log.clone();
    let group = TaskGroup::<&str>::new();
    group.spawn(sleeping_child(&inner_log, "child"));
    tokio::task::yield_now().await;
    drop(group);
    log.push("dropped");
    tokio::task::yield_now().await;
    assert_eq!(log.events(), ["dropped", "child dropped"]);
}

// ------------------------------------------------------------ errors, types

#[tokio::test(start_paused = true)]
async fn the_group_error_displays_every_error_and_its_source_is_the_first() {
    let error = TaskGroup::<std::io::Error>::new();
    error.try_spawn(async { Err::<(), _>(std::io::Error::other("disk full")) });
    let error = error.join().await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("unhandled errors in a task group (1): task "),
        "{text}"
    );
    assert!(text.ends_with(": disk full"), "{text}");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
    let source = boxed.source().expect("the first error");
    assert!(source.downcast_ref::<std::io::Error>().is_some());
}

// --------------------------------------------------------------- at scale

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_100k_children_spawned_from_inside_a_task_joins_them_all() {
    let done = Arc::new(AtomicUsize::new(0));
    let count = {
        let done = done.clone();
        tokio::spawn(async move {
            let group = TaskGroup::<&str>::new();
            for _ in 0..100_000 {
                let done = done.clone();
                group.spawn(async move {
                    done.fetch_add(1, Ordering::Relaxed);
                });
            }
            group.join().await.unwrap();
            done.load(Ordering::SeqCst)
        })
        .await
        .unwrap()
    };
    assert_eq!(count, 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_among_many_children_cancels_and_joins_the_rest() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let group = TaskGroup::<usize>::new();
    for n in 0..1_000usize {
        let counted = Counted(dropped.clone());
        group.try_spawn(async move {
            let _counted = counted;
            if n == 500 {
                return Err(n);
            }
            std::future::pending::<()>().await;
            Ok(())
        });
    }
    let error = group.join().await.unwrap_err();
    assert_eq!(messages(&error), [500]);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1_000,
        "every child finished"
    );
}

#[tokio::test(start_paused = true)]
async fn a_child_whose_destructor_panics_after_it_failed_loses_neither() {
    // The child's future returns `Err`, then its destructor panics when the
    // group drops it: the panic resumes in the caller, and the error goes
    // to the hook (SPEC decision 6).
    let hook = HookCapture::install();
    let outcome = tokio::spawn(asyncio::task_group(|tg| async move {
        tg.try_spawn(FailsThenPanicsOnDrop {
            error: "the child failed first",
            panic: "the child's destructor panicked",
        })
        .unwrap();
        Ok::<_, &str>(())
    }))
    .await;
    let panic = outcome.unwrap_err().into_panic();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("the child's destructor panicked")
    );
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].ends_with("\"the child failed first\""),
        "{reports:?}"
    );
}

// --------------------------------------------- regressions found in review

// Regression: a group child told the group it had finished before its
// task's outcome was published, so on a multi-thread runtime `join` could
// return while a child's `Task` still said it was running (behaviour 87).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_join_every_childs_task_shows_its_outcome() {
    for round in 0..2_000 {
        let group = TaskGroup::<&str>::new();
        let tasks: Vec<_> = (0..4).map(|n| group.spawn(async move { n })).collect();
        group.join().await.unwrap();
        for (n, task) in tasks.into_iter().enumerate() {
            assert!(
                task.is_done(),
                "round {round}: child {n} not done after join"
            );
            assert_eq!(task.try_outcome().unwrap().unwrap(), n);
        }
    }
}

// Regression: a panic in `run`'s closure, after it had spawned children,
// left them running with nobody to abort or join them.
#[tokio::test(start_paused = true)]
async fn a_panic_in_the_body_closure_aborts_the_children_it_spawned() {
    let child_dropped = DropFlag::new();
    let guard = child_dropped.guard();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        TaskGroup::<&str>::new().run(|tg| {
            tg.spawn(async move {
                let _guard = guard;
                asyncio::sleep(60 * SEC).await;
            })
            .unwrap();
            panic!("the closure failed before returning its future");
            #[allow(unreachable_code)] // the closure's return type
            async {
                Ok::<_, &str>(())
            }
        })
    }));
    assert!(outcome.is_err());
    tokio::task::yield_now().await;
    assert!(child_dropped.dropped(), "the child was aborted");
}

// Regression: `with_grace(Duration::MAX)` overflowed `Instant + Duration`
// inside the group's poll.
#[tokio::test(start_paused = true)]
async fn a_grace_period_of_duration_max_means_no_limit() {
    let group = TaskGroup::<&str>::with_grace(Duration::MAX);
    let token = group.handle().token();
    let polite = group.spawn(async move {
        token.cancelled().await;
        asyncio::sleep(3_600 * SEC).await; // a long clean-up, never aborted
        "done"
    });
    group.try_spawn(async { Err::<(), _>("boom") });
    assert_eq!(messages(&group.join().await.unwrap_err()), ["boom"]);
    assert_eq!(polite.await.unwrap(), "done");
}

// Regression: a body-less group that nobody was joining left its other
// children running after a failure (the owner-driven abort had no owner).
#[tokio::test(start_paused = true)]
async fn a_body_less_group_nobody_joins_cancels_on_the_first_failure() {
    let sibling_dropped = DropFlag::new();
    let group = TaskGroup::<&str>::new();
    let token = group.handle().token();
    let guard = sibling_dropped.guard();
    group.spawn(async move {
        let _guard = guard;
        asyncio::sleep(60 * SEC).await;
    });
    group.try_spawn(async {
        asyncio::sleep(SEC).await;
        Err::<(), _>("boom")
    });
    asyncio::sleep(2 * SEC).await;
    assert!(
        token.is_cancelled(),
        "the token is cancelled at the failure"
    );
    assert!(sibling_dropped.dropped(), "the sibling was aborted");
    assert_eq!(messages(&group.join().await.unwrap_err()), ["boom"]);
}

// Regression: dropping a group did not cancel its token, which code
// outside the group may watch.
#[tokio::test(start_paused = true)]
async fn dropping_a_group_cancels_its_token() {
    let group = TaskGroup::<&str>::new();
    let token = group.handle().token();
    drop(group);
    assert!(token.is_cancelled());

    let token = std::sync::Mutex::new(None);
    let run = asyncio::task_group(|tg| {
        *token.lock().unwrap() = Some(tg.token());
        async move {
            asyncio::sleep(60 * SEC).await;
            Ok::<_, &str>(())
        }
    });
    let mut run = Box::pin(run);
    assert!(futures::poll!(&mut run).is_pending());
    drop(run);
    assert!(token.lock().unwrap().as_ref().unwrap().is_cancelled());
}

// Regression (found rereading the change): a finished body was dropped
// outside `catch_unwind`, so a panic in its destructor unwound past the
// children (aborted, not joined) and lost the body's own error.
#[tokio::test(start_paused = true)]
async fn a_body_whose_destructor_panics_after_it_failed_joins_the_children_first() {
    use futures::FutureExt;

    let hook = HookCapture::install();
    let child_dropped = DropFlag::new();
    let guard = child_dropped.guard();
    let run = asyncio::task_group(|tg| {
        tg.spawn(async move {
            let _guard = guard;
            asyncio::sleep(60 * SEC).await;
        })
        .unwrap();
        FailsThenPanicsOnDrop {
            error: "the body failed first",
            panic: "the body's destructor panicked",
        }
    });
    let panic = std::panic::AssertUnwindSafe(run)
        .catch_unwind()
        .await
        .expect_err("the destructor's panic resumes");
    assert!(
        child_dropped.dropped(),
        "the child had finished when the panic resumed"
    );
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("the body's destructor panicked")
    );
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].ends_with("\"the body failed first\""),
        "{reports:?}"
    );
}

// Issue 12 point 5: a group spawns on a named runtime too.
#[tokio::test]
async fn a_group_spawns_children_on_a_named_runtime() {
    let other = tokio::task::spawn_blocking(|| tokio::runtime::Runtime::new().unwrap())
        .await
        .unwrap();
    let handle = other.handle().clone();
    let outcome = asyncio::task_group(|tg| async move {
        let a = tg.spawn_on(&handle, async { 1 }).unwrap();
        let b = tg
            .try_spawn_on(&handle, async { Ok::<_, String>(2) })
            .unwrap();
        Ok::<_, String>(a.await.unwrap() + b.await.unwrap())
    })
    .await;
    assert_eq!(outcome.unwrap(), Some(3));
    tokio::task::spawn_blocking(move || drop(other))
        .await
        .unwrap();
}

// Issue 12 point 5: a group's children can hold state that is not `Send`.
#[tokio::test]
async fn a_group_spawns_local_children_that_are_not_send() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let group = asyncio::TaskGroup::<String>::new();
            for n in 0..3 {
                let log = log.clone();
                group
                    .handle()
                    .spawn_local(async move {
                        tokio::task::yield_now().await;
                        log.borrow_mut().push(n);
                    })
                    .unwrap();
            }
            assert!(group.join().await.is_ok());
            let mut seen = log.borrow().clone();
            seen.sort_unstable();
            assert_eq!(seen, [0, 1, 2], "every local child ran, and was joined");

            let group = asyncio::TaskGroup::<String>::new();
            let failing = group
                .handle()
                .try_spawn_local(async { Err::<(), _>("local failure".to_string()) })
                .unwrap();
            let errors = group.join().await.unwrap_err();
            assert_eq!(errors.into_errors().len(), 1);
            assert!(matches!(failing.await, Err(asyncio::TaskError::Failed(_))));
        })
        .await;
}

#[tokio::test]
async fn a_local_spawn_outside_a_local_set_panics_and_leaves_the_group_joinable() {
    let group = asyncio::TaskGroup::<String>::new();
    let handle = group.handle();
    let spawned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        handle.spawn_local(async {}).map(drop)
    }));
    assert!(spawned.is_err(), "tokio panics outside a LocalSet");
    drop(group.spawn(async { 1 }));
    // The reserved slot was released: the group joins, and does not hang.
    assert!(group.join().await.is_ok());
}

// ------------------------------------------ start_soon: children without a Task

#[tokio::test(start_paused = true)]
async fn start_soon_children_are_waited_for_and_their_values_dropped() {
    // Behaviour 87 for children without a handle: leaving the body waits
    // for them, and each value is dropped when its child finishes.
    let values_dropped = Arc::new(AtomicUsize::new(0));
    let seen = values_dropped.clone();
    asyncio::task_group(|tg| async move {
        for n in 1..=3_u32 {
            let seen = seen.clone();
            tg.start_soon(async move {
                asyncio::sleep(n * SEC).await;
                CountsDrop(seen)
            })
            .unwrap();
        }
        Ok::<_, &str>(())
    })
    .await
    .unwrap();
    assert_eq!(values_dropped.load(Ordering::SeqCst), 3);
}

/// Counts its drops.
struct CountsDrop(Arc<AtomicUsize>);

impl Drop for CountsDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_start_soon_failure_cancels_the_others_and_the_body_and_is_grouped() {
    // Behaviours 90, 91 with `try_start_soon`: the failure names its child.
    let sibling_dropped = DropFlag::new();
    let guard = sibling_dropped.guard();
    let body_cancelled = DropFlag::new();
    let body_guard = body_cancelled.guard();
    let error = asyncio::task_group(|tg| async move {
        let _body_guard = body_guard;
        tg.try_start_soon(async move {
            let _guard = guard;
            asyncio::sleep(60 * SEC).await;
            Ok(())
        })
        .unwrap();
        tg.try_start_soon(async {
            asyncio::sleep(SEC).await;
            Err::<(), _>("boom")
        })
        .unwrap();
        asyncio::sleep(60 * SEC).await;
        Ok(())
    })
    .await
    .unwrap_err();
    assert_eq!(messages(&error), ["boom"]);
    assert!(matches!(error.first().0, Origin::Child(_)));
    assert!(
        sibling_dropped.dropped(),
        "the sibling was cancelled and joined"
    );
    assert!(body_cancelled.dropped(), "the body was cancelled");
}

#[tokio::test(start_paused = true)]
async fn a_start_soon_panic_cancels_and_joins_the_others_then_resumes() {
    // Behaviour 95 and SPEC decision 6: a child without a handle panics
    // exactly as one with a handle does.
    let sibling_dropped = DropFlag::new();
    let guard = sibling_dropped.guard();
    let outcome = tokio::spawn(asyncio::task_group(|tg| async move {
        tg.start_soon(async move {
            let _guard = guard;
            asyncio::sleep(60 * SEC).await;
        })
        .unwrap();
        tg.start_soon(async {
            asyncio::sleep(SEC).await;
            panic!("the child panicked");
        })
        .unwrap();
        Ok::<_, &str>(())
    }))
    .await;
    let panic = outcome.unwrap_err().into_panic();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"the child panicked"));
    assert!(sibling_dropped.dropped(), "the sibling was joined first");
}

/// A value whose destructor panics.
struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("the value's destructor panicked");
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_dropping_a_start_soon_value_is_the_childs_panic() {
    // Nobody takes the value of a child without a handle: the child drops
    // it, and a panic there is the child's, never lost (SPEC decision 6).
    let group = TaskGroup::<&str>::new();
    group.start_soon(async { PanicsWhenDropped });
    let outcome = tokio::spawn(group.join()).await;
    let panic = outcome.unwrap_err().into_panic();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"the value's destructor panicked")
    );
}

#[tokio::test(start_paused = true)]
async fn a_start_soon_failure_and_its_destructor_panic_lose_neither() {
    // As for a child with a handle: the error goes to the hook, the panic
    // resumes in the caller.
    let hook = HookCapture::install();
    let group = TaskGroup::<&str>::new();
    group.try_start_soon(FailsThenPanicsOnDrop {
        error: "the child failed first",
        panic: "the child's destructor panicked",
    });
    let outcome = tokio::spawn(group.join()).await;
    let panic = outcome.unwrap_err().into_panic();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("the child's destructor panicked")
    );
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].ends_with("\"the child failed first\""),
        "{reports:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn start_soon_while_shutting_down_drops_the_future_unpolled() {
    // Behaviour 107, as for `spawn` (which returns a cancelled task).
    let group = TaskGroup::<&str>::new();
    let handle = group.handle();
    group.try_spawn(async { Err::<(), _>("boom") });
    tokio::task::yield_now().await;
    assert!(handle.is_cancelling());
    let polled = Reached::new();
    let dropped = DropFlag::new();
    {
        let polled = polled.clone();
        let guard = dropped.guard();
        handle
            .start_soon(async move {
                let _guard = guard;
                polled.hit();
            })
            .expect("shutting down is not an error");
    }
    assert!(dropped.dropped(), "the refused future was dropped at once");
    assert_eq!(messages(&group.join().await.unwrap_err()), ["boom"]);
    assert!(!polled.reached());
}

#[tokio::test(start_paused = true)]
async fn start_soon_on_a_finished_group_is_a_typed_error_with_the_future() {
    // Behaviour 88 ("is finished").
    let group = TaskGroup::<&str>::new();
    let handle = group.handle();
    group.join().await.unwrap();
    let error = handle.start_soon(async { 5 }).unwrap_err();
    assert_eq!(error.to_string(), "task group is finished");
    assert_eq!(error.into_inner().await, 5);
}

#[tokio::test(start_paused = true)]
async fn cancel_aborts_start_soon_children_and_join_waits_for_them() {
    // Behaviour 108: cancel, then join, returns once every child without
    // a handle has been dropped; none of them is an error (93).
    let group = TaskGroup::<&str>::new();
    let dropped = Arc::new(AtomicUsize::new(0));
    for _ in 0..100 {
        let counter = CountsDrop(dropped.clone());
        group.start_soon(async move {
            let _counter = counter;
            std::future::pending::<()>().await;
        });
    }
    group.cancel();
    group.join().await.unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 100);
}

#[tokio::test(start_paused = true)]
async fn a_start_soon_child_has_no_handle_of_its_own() {
    // Documented: `current_task` is `None` inside it, even when its group
    // was spawned from inside a task that has one.
    let outer = asyncio::spawn(async {
        let group = TaskGroup::<&str>::new();
        let seen = Arc::new(Mutex::new(None));
        let inside = seen.clone();
        group.start_soon(async move {
            *inside.lock().unwrap() = Some(asyncio::current_task().is_some());
        });
        group.join().await.unwrap();
        let seen = *seen.lock().unwrap();
        seen
    });
    assert_eq!(outer.await.unwrap(), Some(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_100k_start_soon_children_spawned_from_inside_a_task_joins_them_all() {
    let finished = Arc::new(AtomicUsize::new(0));
    let counted = finished.clone();
    tokio::spawn(async move {
        let group = TaskGroup::<&str>::new();
        for _ in 0..100_000 {
            let counted = counted.clone();
            group.start_soon(async move {
                counted.fetch_add(1, Ordering::Relaxed);
            });
        }
        group.join().await.unwrap();
    })
    .await
    .unwrap();
    assert_eq!(finished.load(Ordering::Relaxed), 100_000);
}
