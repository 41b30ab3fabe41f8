//! Wait for any, and cancel the rest.
//!
//! The asyncio idiom is `wait(FIRST_COMPLETED)`, then `cancel()` on each
//! pending task, then `gather(*pending, return_exceptions=True)` so that
//! they have really finished (behaviours 36, 23). The crate names it
//! [`race`](asyncio::race): the first outcome wins, the losers are
//! cancelled and joined before it returns. Twin:
//! `examples/python/wait_any_cancel_rest.py`;
//! `cargo run --example wait_any_cancel_rest`.

#[path = "support/timeline.rs"]
pub mod timeline;

use timeline::{say, ticks, Trace};

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("three mirrors answer in 3, 1 and 2 ticks: take the first, cancel the others");
    let trace = Trace::new();
    let mirrors = [("mirror0", 3), ("mirror1", 1), ("mirror2", 2)].map(|(name, after)| {
        asyncio::spawn(trace.task(name, async move {
            asyncio::sleep(ticks(after)).await;
            after * 100
        }))
    });
    let winner = asyncio::race(mirrors).await.expect("three mirrors");
    trace.resumed(
        "main",
        format!(
            "mirror{} won with {}",
            winner.index,
            timeline::outcome(&winner.outcome)
        ),
    );
    trace.show();
}
