//! Peak memory per pending task: an `asyncio::TaskSet` beside tokio's
//! `JoinSet` (SPEC.md: ≤ 1.1× JoinSet, and a drain does not double the
//! peak). One peer per process, so that peaks never mix:
//!
//! ```text
//! cargo run --release --example task_memory -- task_set 1000000
//! cargo run --release --example task_memory -- join_set 1000000
//! cargo run --release --example task_memory -- task_set 1000000 multi
//! ```
//!
//! It spawns N tasks that stay pending, reads the process's peak resident
//! set (`VmHWM` in `/proc/self/status`, Linux only) before and after, then
//! drains the set (cancel every task and take each one out as it finishes:
//! `cancel_all` + `next_completed` for the `TaskSet`, `abort_all` +
//! `join_next` for the `JoinSet`) and reads the peak again. It prints the
//! bytes per task held while pending, and how much the drain added to the
//! peak. `task_set_shutdown` / `join_set_shutdown` drain with `shutdown`
//! instead. Run each form in its own process (BENCHMARKS.md has the
//! figures; `compare.py` runs the `task_set` and `join_set` forms, on
//! both runtimes, for its "Peak memory" table).

use std::time::Duration;

/// The process's peak resident set, in bytes (0 where `/proc` is missing).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn report(what: &str, n: u64, base: u64, pending: u64, drained: u64) {
    println!(
        "{what}: {n} pending tasks, {:.0} bytes/task pending, drain added {:.0} bytes/task \
         (peak {:.1} MB over a {:.1} MB baseline)",
        (pending - base) as f64 / n as f64,
        (drained - pending) as f64 / n as f64,
        (drained - base) as f64 / 1e6,
        base as f64 / 1e6,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "task_set".to_owned());
    let n: usize = args
        .next()
        .map(|n| n.parse().expect("N is a number of tasks"))
        .unwrap_or(1_000_000);
    // Current-thread by default: nothing runs beside the spawning loop, so
    // the peak is the tasks' memory and the allocator's, not other
    // threads' arenas. `multi` as the third argument runs the same from
    // inside a task on the multi-thread runtime.
    let multi = args.next().as_deref() == Some("multi");
    let runtime = if multi {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .expect("runtime");
    let workload = async move {
        // Warm the runtime and the allocator up with a few tasks first.
        tokio::spawn(async {}).await.unwrap();
        let base = peak_rss();
        match what.as_str() {
            "task_set" | "task_set_shutdown" => {
                let mut set = asyncio::TaskSet::new();
                for _ in 0..n {
                    drop(set.spawn(std::future::pending::<()>()));
                }
                // Let every task run to its first await point, as the
                // runtime would, so their futures are in their pending state.
                tokio::time::sleep(Duration::from_millis(1)).await;
                let pending = peak_rss();
                if what == "task_set" {
                    set.cancel_all();
                    let mut drained = 0;
                    while let Some(task) = set.next_completed().await {
                        drop(task);
                        drained += 1;
                    }
                    assert_eq!(drained, n);
                } else {
                    set.shutdown().await;
                }
                report(&what, n as u64, base, pending, peak_rss());
            }
            "join_set" | "join_set_shutdown" => {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..n {
                    set.spawn(std::future::pending::<()>());
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
                let pending = peak_rss();
                if what == "join_set" {
                    set.abort_all();
                    let mut drained = 0;
                    while let Some(outcome) = set.join_next().await {
                        drop(outcome);
                        drained += 1;
                    }
                    assert_eq!(drained, n);
                } else {
                    set.shutdown().await;
                }
                report(&what, n as u64, base, pending, peak_rss());
            }
            other => panic!(
                "unknown workload {other:?}: task_set, task_set_shutdown, join_set, join_set_shutdown"
            ),
        }
    };
    runtime.block_on(async move { tokio::spawn(workload).await.expect("the workload panicked") });
}
