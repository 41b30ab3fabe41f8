//! gather where one child fails while the others keep running.
//!
//! asyncio's `gather` (without `return_exceptions`) raises the first error
//! at once and does **not** cancel the other children (behaviour 18): they
//! run on in the background. The crate does the same; the awaiting side
//! gets `Err(GatherError)` naming the child, and
//! `take_pending` hands back the siblings still running, to await or cancel. Twin:
//! `examples/python/gather_one_fails.py`; `cargo run --example gather_one_fails`.

#[path = "support/timeline.rs"]
pub mod timeline;

use std::future::IntoFuture;

use timeline::{say, task_error, ticks, Trace};

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("gather: child b fails at t=2; gather raises at once, a and c are not cancelled");
    let trace = Trace::new();
    let child = |name: &str, after: u32, result: Result<u32, &'static str>| {
        asyncio::try_spawn(trace.task(name, async move {
            asyncio::sleep(ticks(after)).await;
            result
        }))
    };
    let a = child("a", 1, Ok(1));
    let b = child("b", 2, Err("boom"));
    let c = child("c", 4, Ok(3));
    let mut gathered = asyncio::gather([a, b, c]).into_future();
    match (&mut gathered).await {
        Ok(values) => trace.resumed("main", timeline::list(values)),
        Err(error) => trace.resumed(
            "main",
            format!("gather raised {}", task_error(error.error())),
        ),
    }
    // The siblings run on: take c back from the gather and await it.
    for (_, sibling) in gathered.take_pending() {
        let outcome = sibling.await;
        trace.resumed("main", format!("c -> {}", timeline::outcome(&outcome)));
    }
    trace.show();
}
