//! shield under wait_for.
//!
//! `wait_for(shield(task), 1)` raises `TimeoutError` after one tick while
//! the task runs on, and can be awaited later for its value (behaviours 60,
//! 81). The crate's [`shield`](asyncio::shield) is the same. Twin:
//! `examples/python/shield_wait_for.py`; `cargo run --example shield_wait_for`.

#[path = "support/timeline.rs"]
pub mod timeline;

use timeline::{say, ticks, Trace};

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("wait_for(shield(save), 1 tick): the wait times out, save runs on to t=3");
    let trace = Trace::new();
    let save = asyncio::spawn(trace.task("save", async {
        asyncio::sleep(ticks(3)).await;
        "saved"
    }));
    let mut shielded = asyncio::shield(save);
    match asyncio::wait_for(&mut shielded, ticks(1)).await {
        Ok(outcome) => trace.resumed("main", timeline::outcome(&outcome)),
        Err(asyncio::TimeoutError) => trace.resumed("main", "wait_for raised TimeoutError"),
    }
    let outcome = shielded.await;
    trace.resumed("main", format!("save -> {}", timeline::outcome(&outcome)));
    trace.show();

    say("without shield, wait_for cancels save at the timeout");
    let trace = Trace::new();
    let save = asyncio::spawn(trace.task("save", async {
        asyncio::sleep(ticks(3)).await;
        "saved"
    }));
    match asyncio::wait_for(save, ticks(1)).await {
        Ok(outcome) => trace.resumed("main", timeline::outcome(&outcome)),
        Err(asyncio::TimeoutError) => trace.resumed("main", "wait_for raised TimeoutError"),
    }
    trace.show();
}
