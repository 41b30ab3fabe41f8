//! A `wait(FIRST_EXCEPTION)` loop that replaces failed tasks.
//!
//! The supervisor waits until some job fails (a cancellation would not
//! count, behaviour 37; a job that succeeds does not wake it either), reads
//! the outcomes of the tasks that are done (wait never raises them,
//! behaviour 38) and starts a retry for each failed job, once. The crate's
//! [`wait`](asyncio::wait) over a [`TaskSet`](asyncio::TaskSet) is the
//! same loop; tasks that are done leave the set, as asyncio's `done` set.
//! Twin: `examples/python/wait_first_exception.py`;
//! `cargo run --example wait_first_exception`.

#[path = "support/timeline.rs"]
pub mod timeline;

use std::collections::HashMap;

use asyncio::{ReturnWhen, TaskId, TaskSet};
use timeline::{say, ticks, Trace};

/// `name` works `after` ticks, then fails if `fails`.
fn job(trace: &Trace, name: &str, after: u32, fails: bool) -> asyncio::Task<u32, String> {
    let failure = format!("{name} crashed");
    asyncio::try_spawn(trace.task(name, async move {
        asyncio::sleep(ticks(after)).await;
        if fails {
            Err(failure)
        } else {
            Ok(after)
        }
    }))
}

/// Runs the program (the integration test calls it too).
#[tokio::main(flavor = "current_thread", start_paused = true)]
pub async fn main() {
    say("job2 fails at t=1 and job3 at t=5; each failed job is retried once");
    let trace = Trace::new();
    let mut names: HashMap<TaskId, String> = HashMap::new();
    let mut set = TaskSet::new();
    for (name, after, fails) in [("job1", 2, false), ("job2", 1, true), ("job3", 5, true)] {
        let task = job(&trace, name, after, fails);
        names.insert(task.id(), name.to_owned());
        set.insert(task);
    }
    while !set.is_empty() {
        let done = asyncio::wait(&mut set, ReturnWhen::FirstException, None)
            .await
            .expect("the set is not empty");
        let mut finished: Vec<(String, asyncio::Task<u32, String>)> = done
            .into_iter()
            .map(|task| (names[&task.id()].clone(), task))
            .collect();
        finished.sort_by(|a, b| a.0.cmp(&b.0));
        let listed: Vec<&str> = finished.iter().map(|(name, _)| name.as_str()).collect();
        trace.resumed("main", format!("wait -> done {}", timeline::list(listed)));
        for (name, task) in finished {
            if task.is_failed() && !name.ends_with("-retry") {
                let retry = format!("{name}-retry");
                let task = job(&trace, &retry, 3, false);
                names.insert(task.id(), retry);
                set.insert(task);
            }
        }
    }
    trace.show();
}
