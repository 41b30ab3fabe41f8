//! A tour of asyncio's cancellation semantics in Rust. Its output matches
//! `examples/python/cancellation.py` line by line:
//!
//! ```text
//! cargo run --example cancellation
//! python3 examples/python/cancellation.py
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use asyncio::TaskError;

const TICK: Duration = Duration::from_millis(100);

#[tokio::main]
async fn main() {
    // 1. A task starts at once and is awaited for its value.
    let task = asyncio::spawn(async { 6 * 7 });
    println!("1. awaited task -> {}", task.await.unwrap());

    // 2. wait_for cancels the task on timeout, and waits until it is gone.
    let slow = asyncio::spawn(asyncio::sleep(10 * TICK));
    let handle = slow.cancel_handle();
    let outcome = asyncio::wait_for(slow, TICK).await;
    println!(
        "2. wait_for(slow task) -> {}; task done: {}",
        describe(outcome.map(|_| ())),
        handle.is_done()
    );

    // 3. shield: the wait times out, the task runs on and is awaited later.
    let work = asyncio::spawn(async {
        asyncio::sleep(3 * TICK).await;
        "saved"
    });
    let mut shielded = asyncio::shield(work);
    let outcome = asyncio::wait_for(&mut shielded, TICK).await;
    println!(
        "3. wait_for(shield(task)) -> {}",
        describe(outcome.map(|_| ()))
    );
    println!("   the shielded task later -> {}", shielded.await.unwrap());

    // 4. A timeout scope whose deadline the body moves back.
    let scope = asyncio::timeout(TICK);
    let cm = scope.handle();
    let outcome = scope
        .run(async {
            cm.reschedule(tokio::time::Instant::now() + 5 * TICK)
                .unwrap();
            asyncio::sleep(2 * TICK).await;
            "finished in time"
        })
        .await;
    println!("4. rescheduled timeout -> {}", outcome.unwrap());

    // 5. A timeout that fires: the body stops at its await.
    let reached_end = Arc::new(AtomicBool::new(false));
    let flag = reached_end.clone();
    let scope = asyncio::timeout(TICK);
    let cm = scope.handle();
    let outcome = scope
        .run(async move {
            asyncio::sleep(10 * TICK).await;
            flag.store(true, Ordering::SeqCst);
        })
        .await;
    println!(
        "5. timeout around a long sleep -> {}; expired: {}; body finished: {}",
        describe(outcome),
        cm.expired(),
        reached_end.load(Ordering::SeqCst)
    );

    // 6. A failure is a value; a cancellation is a value.
    let failing = asyncio::try_spawn(async { Err::<(), _>("bad input") });
    let cancelled = asyncio::spawn(asyncio::sleep(10 * TICK));
    cancelled.cancel();
    println!(
        "6. failing task -> {}; cancelled task -> {}",
        describe_task(failing.await),
        describe_task(cancelled.await)
    );

    // 7. A failure nobody awaits is reported, never silenced.
    asyncio::set_unobserved_error_hook(|unobserved| {
        println!(
            "7. unobserved error reported: {}",
            task_free(&unobserved.to_string())
        );
    });
    drop(asyncio::try_spawn(async { Err::<(), _>("lost") }));
    asyncio::sleep(TICK).await;
}

fn describe(outcome: Result<(), asyncio::TimeoutError>) -> &'static str {
    match outcome {
        Ok(()) => "ok",
        Err(asyncio::TimeoutError) => "TimeoutError",
    }
}

fn describe_task<T, E: std::fmt::Display>(outcome: Result<T, TaskError<E>>) -> String {
    match outcome {
        Ok(_) => "ok".to_owned(),
        Err(TaskError::Failed(error)) => format!("failed: {error}"),
        Err(TaskError::Cancelled) => "CancelledError".to_owned(),
        Err(other) => other.to_string(),
    }
}

/// Drops the task number, which differs between runs and languages.
fn task_free(report: &str) -> String {
    match report.split_once(" failed") {
        Some((_, rest)) => format!("a task failed{rest}"),
        None => report.to_owned(),
    }
}
