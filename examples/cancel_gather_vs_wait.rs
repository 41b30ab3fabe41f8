//! Cancelling gather vs cancelling wait.
//!
//! A task that awaits `gather` is cancelled: gather cancels every child
//! (behaviour 25). A task that awaits `wait` is cancelled: the children are
//! **not** cancelled and run on (behaviour 39). In the crate, cancelling a
//! task aborts it, which drops the gather (aborting its children) or the
//! [`TaskSet`](asyncio::TaskSet) (which detaches the tasks it was given).
//! Twin: `examples/python/cancel_gather_vs_wait.py`;
//! `cargo run --example cancel_gather_vs_wait`.

#[path = "support/timeline.rs"]
pub mod timeline;

use asyncio::{ReturnWhen, TaskSet};
use timeline::{say, ticks, Trace};

fn child(trace: &Trace, name: &str, after: u32) -> asyncio::Task<u32> {
    asyncio::spawn(trace.task(name, async move {
        asyncio::sleep(ticks(after)).await;
        after
    }))
}

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("1. the task awaiting gather(a, b) is cancelled at t=1: a and b are cancelled too");
    let trace = Trace::new();
    let (a, b) = (child(&trace, "a", 2), child(&trace, "b", 3));
    let waiter = asyncio::spawn(trace.task("waiter", async move {
        asyncio::gather([a, b])
            .await
            .map(|_| ())
            .map_err(|_| "a child failed")
    }));
    asyncio::sleep(ticks(1)).await;
    waiter.cancel();
    let outcome = waiter.await;
    trace.resumed(
        "main",
        format!("waiter -> {}", timeline::outcome(&outcome.map(|_| 0))),
    );
    asyncio::sleep(ticks(3)).await;
    trace.show();

    say("2. the task awaiting wait({a, b}) is cancelled at t=1: a and b run on");
    let trace = Trace::new();
    let (a, b) = (child(&trace, "a", 2), child(&trace, "b", 3));
    let (a_done, b_done) = (a.cancel_handle(), b.cancel_handle());
    let waiter = asyncio::spawn(trace.task("waiter", async move {
        let mut set = TaskSet::new();
        set.insert(a);
        set.insert(b);
        asyncio::wait(&mut set, ReturnWhen::AllCompleted, None)
            .await
            .expect("two tasks")
            .len()
    }));
    asyncio::sleep(ticks(1)).await;
    waiter.cancel();
    let outcome = waiter.await;
    trace.resumed("main", format!("waiter -> {}", timeline::outcome(&outcome)));
    a_done.done().await;
    b_done.done().await;
    trace.resumed("main", "a and b are done");
    trace.show();
}
