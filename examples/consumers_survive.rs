//! Consumers that survive timeouts and unexpected errors.
//!
//! Each consumer handles an item under `wait_for` (3 ticks), and carries on
//! whatever happens: a value, a `TimeoutError`, or an unexpected error.
//! asyncio needs `try/except/finally: task_done()` around every item; the
//! crate's guarded item is marked done when the consumer drops it, on every
//! path. Twin: `examples/python/consumers_survive.py`;
//! `cargo run --example consumers_survive`.

#[path = "support/timeline.rs"]
pub mod timeline;

use asyncio::Queue;
use timeline::{say, ticks, Trace};

/// Item `n`'s work: how long it takes, and whether it fails.
fn handle(n: u32) -> impl std::future::Future<Output = Result<u32, String>> {
    let (after, fails) = [(1, false), (2, true), (5, false), (1, false), (1, false)][n as usize];
    async move {
        asyncio::sleep(ticks(after)).await;
        if fails {
            Err(format!("bad item {n}"))
        } else {
            Ok(n * 10)
        }
    }
}

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("two consumers, five items: item 1 fails, item 2 is too slow (3-tick timeout)");
    let trace = Trace::new();
    let queue: Queue<u32> = Queue::unbounded();
    for item in 0..5 {
        queue.put_nowait(item).expect("unbounded");
    }
    let consumers: Vec<_> = ["w0", "w1"]
        .into_iter()
        .map(|name| {
            let (queue, trace) = (queue.clone(), trace.clone());
            asyncio::spawn(trace.clone().task(name, async move {
                while let Ok(item) = queue.get_guarded().await {
                    let n = *item;
                    match asyncio::wait_for(handle(n), ticks(3)).await {
                        Ok(Ok(value)) => trace.note(name, format!("item {n} -> {value}")),
                        Ok(Err(error)) => trace.note(name, format!("item {n} failed: {error}")),
                        Err(asyncio::TimeoutError) => {
                            trace.note(name, format!("item {n} timed out"))
                        }
                    }
                    // `item` is dropped here: marked done on every path.
                }
            }))
        })
        .collect();
    queue.join().await;
    trace.resumed("main", "join returned: every item is done");
    for consumer in &consumers {
        consumer.cancel();
    }
    for consumer in consumers {
        let _ = consumer.await;
    }
    trace.show();
}
