//! The unobserved-error hook: a failure or panic nobody will observe is
//! reported once, never silenced (SPEC decision 6; asyncio's "Task exception
//! was never retrieved", and behaviour 84 for shield). The hook is
//! process-wide, so every test holds `HookCapture`, which serialises them.

mod common;

use std::time::Duration;

use common::{FailsThenPanicsOnDrop, HookCapture};

const SEC: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn detached_task_failure_is_reported_once_with_its_id() {
    let hook = HookCapture::install();
    let task = asyncio::try_spawn(async {
        asyncio::sleep(SEC).await;
        Err::<(), _>("lost error")
    });
    let id = task.id();
    drop(task);
    asyncio::sleep(2 * SEC).await;
    assert_eq!(
        hook.reports(),
        vec![format!(
            "{id} failed and nobody observed its error: \"lost error\""
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn failure_in_a_handle_dropped_unawaited_is_reported() {
    let hook = HookCapture::install();
    let task = asyncio::try_spawn(async { Err::<(), _>(7) });
    while !task.is_done() {
        tokio::task::yield_now().await;
    }
    assert!(
        hook.reports().is_empty(),
        "nothing is reported while the handle can still observe it"
    );
    drop(task);
    assert_eq!(hook.reports().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn detached_panic_is_reported_with_its_message() {
    let hook = HookCapture::install();
    drop(asyncio::spawn(async { panic!("nobody is listening") }));
    asyncio::sleep(SEC).await;
    let reports = hook.reports();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].ends_with("panicked and nobody observed the panic: nobody is listening"));
}

#[tokio::test(start_paused = true)]
async fn observed_failures_and_cancellations_are_not_reported() {
    let hook = HookCapture::install();
    let failed = asyncio::try_spawn(async { Err::<(), _>("seen") });
    assert!(failed.await.is_err());
    let cancelled = asyncio::spawn(asyncio::sleep(10 * SEC));
    cancelled.cancel();
    drop(cancelled);
    let detached_ok = asyncio::spawn(async { 1 });
    drop(detached_ok);
    asyncio::sleep(20 * SEC).await;
    assert!(hook.reports().is_empty(), "got {:?}", hook.reports());
}

#[tokio::test(start_paused = true)]
async fn shielded_task_failing_after_the_awaiter_left_is_reported() {
    // Behaviour 84: once the outer side is gone, a later failure of the
    // inner task is an unobserved error.
    let hook = HookCapture::install();
    let task = asyncio::try_spawn(async {
        asyncio::sleep(5 * SEC).await;
        Err::<(), _>("failed after shield was dropped")
    });
    let id = task.id();
    tokio::select! {
        _ = asyncio::shield(task) => unreachable!(),
        _ = asyncio::sleep(SEC) => {}
    }
    assert!(hook.reports().is_empty());
    asyncio::sleep(10 * SEC).await;
    assert_eq!(
        hook.reports(),
        vec![format!(
            "{id} failed and nobody observed its error: \"failed after shield was dropped\""
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn reset_puts_back_the_default_hook() {
    let hook = HookCapture::install();
    asyncio::reset_unobserved_error_hook();
    drop(asyncio::try_spawn(async { Err::<(), _>("to stderr") }));
    asyncio::sleep(SEC).await;
    assert!(
        hook.reports().is_empty(),
        "the replaced hook no longer receives reports"
    );
}

/// A value whose destructor panics, as a buggy `Drop` would.
#[derive(Debug)]
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

// Regression (issue 9, point 2): a detached task's value was dropped inside
// the child's wrapper, outside any `catch_unwind`; tokio swallowed the panic
// and the hook never saw it.
#[tokio::test(start_paused = true)]
async fn panic_dropping_a_detached_tasks_value_is_reported() {
    let hook = HookCapture::install();
    let task = asyncio::spawn(async {
        asyncio::sleep(SEC).await;
        PanicsOnDrop("value dropped by nobody")
    });
    let id = task.id();
    drop(task);
    asyncio::sleep(2 * SEC).await;
    assert_eq!(
        hook.reports(),
        vec![format!(
            "{id} panicked and nobody observed the panic: value dropped by nobody"
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn panic_dropping_an_unawaited_value_with_its_handle_is_reported() {
    let hook = HookCapture::install();
    let task = asyncio::spawn(async { PanicsOnDrop("value in a dropped handle") });
    while !task.is_done() {
        tokio::task::yield_now().await;
    }
    let id = task.id();
    // Dropping the handle drops the value: its panic goes to the hook and
    // does not unwind into the code that dropped the handle.
    drop(task);
    assert_eq!(
        hook.reports(),
        vec![format!(
            "{id} panicked and nobody observed the panic: value in a dropped handle"
        )]
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_a_task_set_of_values_that_panic_reports_each_panic() {
    let hook = HookCapture::install();
    let mut set = asyncio::TaskSet::new();
    for _ in 0..3 {
        set.insert(asyncio::spawn(async { PanicsOnDrop("one of three") }));
    }
    asyncio::sleep(SEC).await;
    // Three panicking destructors in a row: without the catch, the second
    // would abort the process while the first unwinds.
    drop(set);
    assert_eq!(hook.reports().len(), 3, "got {:?}", hook.reports());
}

#[tokio::test(start_paused = true)]
async fn fail_fast_gather_returns_its_error_when_a_collected_value_panics_on_drop() {
    let hook = HookCapture::install();
    let outcome = asyncio::try_gather(vec![
        Box::pin(async { Ok(PanicsOnDrop("sibling's value")) })
            as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>,
        Box::pin(async {
            asyncio::sleep(SEC).await;
            Err("the gather's error")
        }),
    ])
    .await;
    // The collected value is dropped when the gather fails; its panic must
    // not replace the error the gather returns.
    let error = outcome.expect_err("the second child fails");
    assert_eq!(error.index, 1);
    assert!(
        matches!(
            error.error,
            asyncio::TaskError::Failed("the gather's error")
        ),
        "{:?}",
        error.error
    );
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "got {reports:?}");
    assert!(reports[0].ends_with("nobody observed the panic: sibling's value"));
}

#[tokio::test(start_paused = true)]
async fn cancelled_gather_reports_a_panic_dropping_a_collected_value() {
    let hook = HookCapture::install();
    let gather = asyncio::gather(vec![
        Box::pin(async { PanicsOnDrop("collected, then abandoned") })
            as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>,
        Box::pin(async {
            asyncio::sleep(10 * SEC).await;
            PanicsOnDrop("never finishes")
        }),
    ]);
    tokio::select! {
        _ = gather => unreachable!("the second child sleeps"),
        _ = asyncio::sleep(SEC) => {}
    }
    asyncio::sleep(SEC).await;
    let reports = hook.reports();
    assert_eq!(reports.len(), 1, "got {reports:?}");
    assert!(reports[0].ends_with("nobody observed the panic: collected, then abandoned"));
}

// Regression (found in review): when a task's future returned `Err` and
// then panicked in its destructor, the panic became the task's outcome and
// the error was dropped without a word.
#[tokio::test(start_paused = true)]
async fn an_error_displaced_by_a_destructor_panic_goes_to_the_hook() {
    let hook = HookCapture::install();
    let task = asyncio::try_spawn(FailsThenPanicsOnDrop {
        error: "the error the panic displaced",
        panic: "the future's destructor panicked",
    });
    let id = task.id();
    let outcome = task.await;
    assert!(matches!(outcome, Err(asyncio::TaskError::Panicked(_))));
    assert_eq!(
        hook.reports(),
        vec![format!(
            "{id} failed and nobody observed its error: \"the error the panic displaced\""
        )]
    );
}

// --- Issue 14 point 3: a hook libraries can chain, errors they can downcast.

#[tokio::test]
async fn setting_a_hook_hands_back_the_one_it_replaced() {
    let capture = HookCapture::install();
    let application = asyncio::set_unobserved_error_hook(|_| {});
    // The replaced hook is the capture's: calling it passes a report on.
    let library_seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = library_seen.clone();
    asyncio::set_unobserved_error_hook(move |unobserved| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        application.call(unobserved);
    });
    let task = asyncio::try_spawn(async { Err::<(), _>("chained") });
    while !task.is_done() {
        tokio::task::yield_now().await;
    }
    drop(task);
    assert_eq!(library_seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        capture.reports().len(),
        1,
        "the application's hook still ran"
    );
}

#[tokio::test]
async fn wrapping_the_hook_chains_it_in_one_step() {
    let capture = HookCapture::install();
    let library_seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = library_seen.clone();
    asyncio::wrap_unobserved_error_hook(move |previous| {
        move |unobserved: asyncio::Unobserved| {
            seen.lock().unwrap().push(unobserved.task());
            previous.call(unobserved);
        }
    });
    let task = asyncio::try_spawn(async { Err::<(), _>("wrapped") });
    let id = task.id();
    while !task.is_done() {
        tokio::task::yield_now().await;
    }
    drop(task);
    assert_eq!(*library_seen.lock().unwrap(), [id]);
    assert_eq!(capture.reports().len(), 1);
}

#[tokio::test]
async fn an_unobserved_failure_downcasts_to_the_tasks_error_type() {
    let _capture = HookCapture::install();
    let kinds = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = kinds.clone();
    asyncio::set_unobserved_error_hook(move |unobserved| {
        if let asyncio::Unobserved::Failed { error, .. } = unobserved {
            assert!(error.downcast_ref::<String>().is_none(), "not a String");
            let error = error.downcast::<std::io::Error>().expect("an io::Error");
            sink.lock().unwrap().push(error.kind());
        }
    });
    let task = asyncio::try_spawn(async {
        Err::<(), _>(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"))
    });
    while !task.is_done() {
        tokio::task::yield_now().await;
    }
    drop(task);
    assert_eq!(*kinds.lock().unwrap(), [std::io::ErrorKind::TimedOut]);
}
