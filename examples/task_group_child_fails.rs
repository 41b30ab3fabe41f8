//! A TaskGroup whose child fails.
//!
//! When child b fails, the group cancels the other children and the body
//! at its current await, waits for all of them, and raises the errors as a
//! group (behaviour 90). The crate's [`task_group`](asyncio::task_group)
//! does the same and returns `Err(TaskGroupError)`, iterated. Read the
//! cascade down the t=1 column of the timeline. Twin:
//! `examples/python/task_group_child_fails.py`;
//! `cargo run --example task_group_child_fails`.

#[path = "support/timeline.rs"]
pub mod timeline;

use timeline::{say, ticks, Trace};

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("a TaskGroup with a (3 ticks), b (fails at t=1), c (5 ticks); the body sleeps 10");
    let trace = Trace::new();
    let inner = trace.clone();
    let outcome = asyncio::task_group(|tg| {
        let children = inner.clone();
        let body = async move {
            for (name, after, fails) in [("a", 3, false), ("b", 1, true), ("c", 5, false)] {
                tg.try_spawn(children.task(name, async move {
                    asyncio::sleep(ticks(after)).await;
                    if fails {
                        Err(format!("{name} broke"))
                    } else {
                        Ok(after)
                    }
                }))
                .expect("the group is open");
            }
            asyncio::sleep(ticks(10)).await;
            Ok::<_, String>(())
        };
        inner.task("body", body)
    })
    .await;
    match outcome {
        Ok(_) => trace.resumed("main", "the group finished"),
        Err(errors) => {
            let errors: Vec<&String> = errors.iter().map(|(_, error)| error).collect();
            trace.resumed(
                "main",
                format!("TaskGroup raised {}", timeline::list(errors)),
            )
        }
    }
    trace.show();
}
