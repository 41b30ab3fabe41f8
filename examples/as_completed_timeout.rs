//! as_completed with a timeout.
//!
//! Results come in completion order (behaviour 42). When the deadline
//! passes, every child still running is reported as timed out, and none
//! is cancelled (behaviour 45): here the program waits for them to finish
//! anyway. The crate's [`as_completed`](asyncio::as_completed) stream
//! yields `Err(AsCompletedError::TimedOut)` for each, where asyncio's
//! awaitables raise `TimeoutError`. Twin:
//! `examples/python/as_completed_timeout.py`;
//! `cargo run --example as_completed_timeout`.

#[path = "support/timeline.rs"]
pub mod timeline;

use asyncio::AsCompletedError;
use futures::StreamExt;
use timeline::{say, task_error, ticks, Trace};

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("four downloads take 4, 1, 6 and 2 ticks; as_completed gives up after 3");
    let trace = Trace::new();
    let downloads = [4, 1, 6, 2].map(|after| {
        asyncio::spawn(trace.task(&format!("dl{after}"), async move {
            asyncio::sleep(ticks(after)).await;
            after
        }))
    });
    let handles: Vec<_> = downloads.iter().map(|task| task.cancel_handle()).collect();
    let mut stream = asyncio::as_completed(downloads, ticks(3));
    while let Some(item) = stream.next().await {
        match item {
            Ok(value) => trace.resumed("main", format!("got {value}")),
            Err(AsCompletedError::TimedOut { .. }) => trace.resumed("main", "TimeoutError"),
            Err(AsCompletedError::Child { error, .. }) => trace.resumed("main", task_error(&error)),
            Err(other) => trace.resumed("main", format!("{other}")),
        }
    }
    drop(stream);
    for handle in handles {
        handle.done().await;
    }
    trace.resumed("main", "every download is done: none was cancelled");
    trace.show();
}
