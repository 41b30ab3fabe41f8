//! A producer with 50 consumers over a bounded queue.
//!
//! The producer puts 200 items into a queue of capacity 10 and waits
//! whenever it is full; 50 consumers each take an item, work one tick and
//! mark it done. `join` returns when every item is done (behaviour 114);
//! then the consumers, idle in `get`, are cancelled, which loses nothing
//! (behaviour 115). The crate's [`Queue`](asyncio::Queue) is the same; its
//! `get_guarded` item marks itself done when dropped, so a consumer cannot
//! forget `task_done` (see `worker_dies`). Since 3.13 (and in the crate),
//! `shutdown()` would end the consumers without cancelling them: the tour
//! shows it. Twin: `examples/python/producer_consumers.py`;
//! `cargo run --example producer_consumers`.

#[path = "support/timeline.rs"]
pub mod timeline;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use asyncio::Queue;
use timeline::{say, ticks, Trace};

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("200 items, a queue of 10, 50 consumers working one tick per item");
    let trace = Trace::new();
    let queue: Queue<u32> = Queue::bounded(NonZeroUsize::new(10).unwrap());
    // The 50 consumers are not traced one by one (100 lines of `start` and
    // `cancelled`): each counts what it handled, and main reports it.
    let handled: Vec<Arc<AtomicUsize>> = (0..50).map(|_| Arc::default()).collect();
    let consumers: Vec<_> = handled
        .iter()
        .map(|count| {
            let (queue, count) = (queue.clone(), count.clone());
            asyncio::spawn(async move {
                while let Ok(item) = queue.get_guarded().await {
                    asyncio::sleep(ticks(1)).await;
                    item.done();
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let (feed, notes) = (queue.clone(), trace.clone());
    let producer = asyncio::spawn(trace.task("producer", async move {
        let mut waited = false;
        for item in 0..200 {
            if feed.full() && !waited {
                waited = true;
                notes.note(
                    "producer",
                    format!("the queue is full at item {item}: put waits"),
                );
            }
            feed.put(item).await.expect("the queue is open");
        }
        200
    }));
    let _ = producer.await;
    trace.resumed("main", "the producer is done");
    queue.join().await;
    let counts: Vec<usize> = handled
        .iter()
        .map(|count| count.load(Ordering::Relaxed))
        .collect();
    trace.resumed(
        "main",
        format!(
            "join returned: each consumer handled {} to {} items",
            counts.iter().min().unwrap(),
            counts.iter().max().unwrap()
        ),
    );
    for consumer in &consumers {
        consumer.cancel();
    }
    let mut cancelled = 0;
    for consumer in consumers {
        cancelled += usize::from(consumer.await.is_err());
    }
    trace.resumed("main", format!("{cancelled} consumers cancelled"));
    trace.show();
}
