//! A guided tour of every primitive, one step each: what the step shows in
//! one line, the event trace, and a timeline (one lane per task, time
//! across; `├` start, `┤` finish, `✗` fail, `╳` cancelled, `◀` where the
//! awaiting side resumed, `┼` anything else worth a line).
//!
//! ```text
//! cargo run --example tour
//! ```
//!
//! It runs on tokio's paused clock, so a tick (100 ms of virtual time) is
//! exact, the run takes no time, and the output is the same on every
//! machine. Read a cancellation cascade down one column: in step 11 a child
//! fails at t=3 and, in that same column, its siblings and the group's body
//! are cancelled and the awaiting side resumes with the error.
//!
//! The classic asyncio programs, each beside its Python twin, are the other
//! examples (`gather_one_fails`, `task_group_child_fails`, `worker_dies`,
//! ...); `tests/examples.rs` checks that their traces agree with Python's.

#[path = "support/timeline.rs"]
pub mod timeline;

use std::future::IntoFuture;
use std::num::NonZeroUsize;

use asyncio::{AsCompletedError, Queue, ReturnWhen, TaskSet};
use futures::StreamExt;
use timeline::{outcome, say, task_error, ticks, Trace};

/// A child that works `after` ticks and returns `after`.
fn child(trace: &Trace, name: &str, after: u32) -> asyncio::Task<u32> {
    asyncio::spawn(trace.task(name, async move {
        asyncio::sleep(ticks(after)).await;
        after
    }))
}

/// A child that works `after` ticks, then fails (or returns `after`).
fn fallible(trace: &Trace, name: &str, after: u32, fails: bool) -> asyncio::Task<u32, String> {
    let error = format!("{name} broke");
    asyncio::try_spawn(trace.task(name, async move {
        asyncio::sleep(ticks(after)).await;
        if fails {
            Err(error)
        } else {
            Ok(after)
        }
    }))
}

fn step(title: &str) {
    say("");
    say(title);
}

/// Runs the tour (the integration test runs it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("A tour of the asyncio crate: one step per primitive. 1 tick = 100 ms of virtual time.");

    step(
        "1. Task: spawn starts it at once; await gives its outcome as a value; cancel() aborts it.",
    );
    let trace = Trace::new();
    let ok = child(&trace, "ok", 1);
    let failing = fallible(&trace, "failing", 2, true);
    let doomed = child(&trace, "doomed", 5);
    trace.resumed("main", format!("ok -> {}", outcome(&ok.await)));
    trace.resumed("main", format!("failing -> {}", outcome(&failing.await)));
    doomed.cancel();
    trace.resumed("main", format!("doomed -> {}", outcome(&doomed.await)));
    trace.show();

    step("2. wait_for(task, 2 ticks): on timeout the task is cancelled, and waited for, before TimeoutError.");
    let trace = Trace::new();
    let slow = child(&trace, "slow", 5);
    match asyncio::wait_for(slow, ticks(2)).await {
        Ok(result) => trace.resumed("main", outcome(&result)),
        Err(asyncio::TimeoutError) => trace.resumed("main", "TimeoutError"),
    }
    trace.show();

    step(
        "3. timeout(2 ticks).run(body): the body is dropped at its await when the deadline passes.",
    );
    let trace = Trace::new();
    let body = trace.task("body", async {
        asyncio::sleep(ticks(5)).await;
        "finished"
    });
    match asyncio::timeout(ticks(2)).run(body).await {
        Ok(value) => trace.resumed("main", value),
        Err(asyncio::TimeoutError) => trace.resumed("main", "TimeoutError"),
    }
    trace.show();

    step("4. shield(task) under wait_for: the wait times out, the task runs on and is awaited later.");
    let trace = Trace::new();
    let mut save = asyncio::shield(child(&trace, "save", 3));
    match asyncio::wait_for(&mut save, ticks(1)).await {
        Ok(result) => trace.resumed("main", outcome(&result)),
        Err(asyncio::TimeoutError) => trace.resumed("main", "TimeoutError"),
    }
    trace.resumed("main", format!("save -> {}", outcome(&save.await)));
    trace.show();

    step("5. gather, fail-fast: the first error returns at once; the others run on, take_pending() hands them back.");
    let trace = Trace::new();
    let children = [
        fallible(&trace, "a", 1, false),
        fallible(&trace, "b", 2, true),
        fallible(&trace, "c", 4, false),
    ];
    let mut gathered = asyncio::gather(children).into_future();
    match (&mut gathered).await {
        Ok(values) => trace.resumed("main", timeline::list(values)),
        Err(error) => trace.resumed(
            "main",
            format!("child {} -> {}", error.index(), task_error(error.error())),
        ),
    }
    // The gather hands back the siblings still running, to await or cancel.
    for (index, sibling) in gathered.take_pending() {
        let outcome = sibling.await;
        trace.resumed(
            "main",
            format!("child {index} -> {}", timeline::outcome(&outcome)),
        );
    }
    trace.show();

    step("6. gather(..).return_exceptions(): every outcome, in input order, errors as values.");
    let trace = Trace::new();
    let children = [
        fallible(&trace, "a", 1, false),
        fallible(&trace, "b", 2, true),
        fallible(&trace, "c", 3, false),
    ];
    let outcomes = asyncio::gather(children).return_exceptions().await;
    trace.resumed("main", timeline::list(outcomes.iter().map(outcome)));
    trace.show();

    step("7. Cancelling the task that awaits gather cancels every child, through every level of nesting.");
    let trace = Trace::new();
    let (a, b, c) = (
        child(&trace, "a", 3),
        child(&trace, "b", 4),
        child(&trace, "c", 5),
    );
    let inner_trace = trace.clone();
    let waiter = asyncio::try_spawn(trace.task("waiter", async move {
        let inner = asyncio::spawn(inner_trace.task("inner", async move {
            let values = asyncio::gather([b, c]).await;
            values.map_or(0, |values| values.iter().sum::<u32>())
        }));
        let values = asyncio::gather([a, inner]).await;
        values
            .map(|values| values.iter().sum::<u32>())
            .map_err(|error| error.to_string())
    }));
    asyncio::sleep(ticks(2)).await;
    waiter.cancel();
    trace.resumed("main", format!("waiter -> {}", outcome(&waiter.await)));
    trace.show();

    step("8. wait(FirstCompleted): returns the tasks that are done; the others stay in the set, running.");
    let trace = Trace::new();
    let mut set = TaskSet::new();
    for (name, after) in [("a", 3), ("b", 1), ("c", 2)] {
        set.insert(child(&trace, name, after));
    }
    let done = asyncio::wait(&mut set, ReturnWhen::FirstCompleted, None)
        .await
        .expect("three tasks");
    trace.resumed(
        "main",
        format!("{} done, {} pending", done.len(), set.len()),
    );
    let rest = asyncio::wait(&mut set, ReturnWhen::AllCompleted, None)
        .await
        .expect("two tasks");
    trace.resumed(
        "main",
        format!("{} done, {} pending", rest.len(), set.len()),
    );
    trace.show();

    step("9. as_completed(tasks, 3 ticks): outcomes in completion order; late ones time out, not cancelled.");
    let trace = Trace::new();
    let tasks = [("a", 4), ("b", 1), ("c", 2)].map(|(name, after)| child(&trace, name, after));
    let late = tasks[0].cancel_handle();
    let mut stream = asyncio::as_completed(tasks, ticks(3));
    while let Some(item) = stream.next().await {
        match item {
            Ok(value) => trace.resumed("main", format!("got {value}")),
            Err(AsCompletedError::TimedOut { index }) => {
                trace.resumed("main", format!("child {index}: TimeoutError"))
            }
            Err(other) => trace.resumed("main", other.to_string()),
        }
    }
    drop(stream);
    late.done().await;
    trace.resumed("main", "a finished anyway");
    trace.show();

    step(
        "10. race: the first outcome wins; the losers are cancelled and joined before it returns.",
    );
    let trace = Trace::new();
    let mirrors = [("m0", 3), ("m1", 1), ("m2", 2)].map(|(name, after)| child(&trace, name, after));
    let winner = asyncio::race(mirrors).await.expect("three mirrors");
    trace.resumed(
        "main",
        format!("m{} won -> {}", winner.index, outcome(&winner.outcome)),
    );
    trace.show();

    step("11. TaskGroup: a child fails; siblings and body are cancelled in that tick; the group returns the errors.");
    let trace = Trace::new();
    let inner = trace.clone();
    let result = asyncio::task_group(|tg| {
        let children = inner.clone();
        inner.task("body", async move {
            for (name, after, fails) in [
                ("a", 1, false),
                ("b", 3, true),
                ("c", 5, false),
                ("d", 8, false),
            ] {
                let error = format!("{name} broke");
                tg.try_spawn(children.task(name, async move {
                    asyncio::sleep(ticks(after)).await;
                    if fails {
                        Err(error)
                    } else {
                        Ok(after)
                    }
                }))
                .expect("the group is open");
            }
            asyncio::sleep(ticks(10)).await;
            Ok::<_, String>(())
        })
    })
    .await;
    match result {
        Ok(_) => trace.resumed("main", "the group finished"),
        Err(errors) => {
            let errors: Vec<&String> = errors.iter().map(|(_, error)| error).collect();
            trace.resumed("main", format!("TaskGroup -> {}", timeline::list(errors)))
        }
    }
    trace.show();

    step("12. Queue: join() waits until every item is marked done; a tick later, shutdown() ends the workers.");
    let trace = Trace::new();
    let queue: Queue<u32> = Queue::bounded(NonZeroUsize::new(2).unwrap());
    let workers: Vec<_> = ["w0", "w1"]
        .into_iter()
        .map(|name| {
            let (queue, notes) = (queue.clone(), trace.clone());
            asyncio::spawn(trace.task(name, async move {
                let mut handled = 0;
                loop {
                    match queue.get_guarded().await {
                        Ok(item) => {
                            asyncio::sleep(ticks(1 + *item % 2)).await;
                            notes.note(name, format!("item {} done", item.done()));
                            handled += 1;
                        }
                        Err(error) => {
                            notes.note(name, error);
                            return handled;
                        }
                    }
                }
            }))
        })
        .collect();
    for item in 0..5 {
        queue.put(item).await.expect("the queue is open");
    }
    trace.resumed("main", "every item is in");
    queue.join().await;
    trace.resumed("main", "join returned");
    asyncio::sleep(ticks(1)).await;
    queue.shutdown();
    for worker in workers {
        let _ = worker.await;
    }
    trace.resumed("main", "the workers are done");
    trace.show();

    step("13. map, 2 at a time: item 2 fails; the item in flight is cancelled, no more input is taken.");
    let trace = Trace::new();
    let each = trace.clone();
    let limit = NonZeroUsize::new(2).unwrap();
    let result = asyncio::try_map(0..6_u32, limit, move |x| {
        each.task(&format!("item{x}"), async move {
            asyncio::sleep(ticks([2, 1, 3, 3, 1, 2][x as usize])).await;
            if x == 2 {
                Err(format!("item {x} is bad"))
            } else {
                Ok(x * 10)
            }
        })
    })
    .collect()
    .await;
    match result {
        Ok(values) => trace.resumed("main", timeline::list(values)),
        Err(error) => trace.resumed(
            "main",
            format!("item {} -> {}", error.position(), task_error(error.error())),
        ),
    }
    trace.show();
}
