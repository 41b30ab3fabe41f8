//! A worker that dies without `task_done`.
//!
//! Worker w1 raises while handling item 1, before its `task_done()`. In
//! asyncio the item is never marked done, so `queue.join()` **hangs
//! forever** (behaviours 113, 114); the Python twin bounds the join with
//! `wait_for(.., 10 ticks)` so that it ends, and prints that it hung. The
//! crate prevents it: an item taken with `get_guarded` is marked done when
//! the worker drops it, on success, failure, cancellation or panic alike,
//! so `join` returns as soon as the other items are done. This is a
//! documented difference, which the integration test expects. Twin:
//! `examples/python/worker_dies.py`; `cargo run --example worker_dies`.

#[path = "support/timeline.rs"]
pub mod timeline;

use asyncio::Queue;
use timeline::{say, ticks, Trace};

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("two workers, four items; w1 dies on item 1 without task_done");
    let trace = Trace::new();
    let queue: Queue<u32> = Queue::unbounded();
    for item in 0..4 {
        queue.put_nowait(item).expect("unbounded");
    }
    let workers: Vec<_> = ["w0", "w1"]
        .into_iter()
        .map(|name| {
            let queue = queue.clone();
            asyncio::try_spawn(trace.task(name, async move {
                while let Ok(item) = queue.get_guarded().await {
                    asyncio::sleep(ticks(1)).await;
                    if *item == 1 {
                        // The guarded item is dropped here: marked done.
                        return Err(format!("{name} died on item 1"));
                    }
                    item.done();
                }
                Ok(())
            }))
        })
        .collect();
    match asyncio::wait_for(queue.join(), ticks(10)).await {
        Ok(()) => trace.resumed("main", "join returned: every item is done"),
        Err(asyncio::TimeoutError) => trace.resumed("main", "join hung: item 1 is never done"),
    }
    for worker in &workers {
        worker.cancel();
    }
    for worker in workers {
        let _ = worker.await;
    }
    trace.show();
}
