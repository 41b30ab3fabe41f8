//! A bounded `parallel_map` where one input fails.
//!
//! The Python twin is the map asyncio users write by hand: a semaphore of
//! 2 around each item, and `gather` over all of them. When item 2 fails,
//! `gather` raises, but the items still running or waiting for the
//! semaphore **run on** (behaviour 18): their work is wasted, and nobody
//! sees their results. The crate's `try_map` is fail-fast in the structured
//! sense: it cancels the items in flight, joins them, and pulls no more
//! input before it returns the error (SPEC decision 5). The integration
//! test expects exactly that difference. Twin:
//! `examples/python/parallel_map.py`; `cargo run --example parallel_map`.

#[path = "support/timeline.rs"]
pub mod timeline;

use std::num::NonZeroUsize;

use timeline::{say, task_error, ticks, Trace};

/// How long item `x` works (in ticks), and whether it fails.
fn work(x: u32) -> (u32, bool) {
    ([2, 1, 3, 3, 1, 2][x as usize], x == 2)
}

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("parallel_map over 6 items, 2 at a time; item 2 fails at t=4");
    let trace = Trace::new();
    let limit = NonZeroUsize::new(2).unwrap();
    let each = trace.clone();
    let outcome = asyncio::try_map(0..6_u32, limit, move |x| {
        each.task(&format!("item{x}"), async move {
            let (duration, fails) = work(x);
            asyncio::sleep(ticks(duration)).await;
            if fails {
                Err(format!("item {x} is bad"))
            } else {
                Ok(x * 10)
            }
        })
    })
    .collect()
    .await;
    match outcome {
        Ok(values) => trace.resumed("main", timeline::list(values)),
        Err(error) => trace.resumed(
            "main",
            format!("parallel_map raised {}", task_error(error.error())),
        ),
    }
    // Has anything been left behind? The map joined what it cancelled.
    asyncio::sleep(ticks(4)).await;
    trace.resumed("main", "4 ticks later");
    trace.show();
}
