//! The classic asyncio programs in `examples/`, each beside its Python twin
//! in `examples/python/`: this test runs both and checks that their traces
//! agree event for event (asyncio-semantics.md behaviours cited in each
//! example).
//!
//! - The Rust examples are compiled into this test as modules (each one's
//!   `main` builds its own current-thread runtime on the paused clock), so
//!   the test needs no second cargo build and no wall-clock time.
//! - The Python twins run on a virtual clock (`examples/python/support/
//!   timeline.py`), so they finish at once and their ticks are exact.
//! - Python 3.11+ is `python3` on `PATH`, else the newest
//!   `~/.pyenv/versions/*/bin/python3`, else `$ASYNCIO_PYTHON` names it
//!   (`ASYNCIO_PYTHON=none` forces the offline check). Without one, the test
//!   says so and checks the Rust side against the committed copy of the
//!   Python output (`examples/python/expected/<name>.txt`). With one, it
//!   also checks that the committed copy is exactly what Python prints, so
//!   the two cannot drift (`ASYNCIO_BLESS=1` rewrites the copies).
//! - Where the programs agree, the whole output (explanations, trace and
//!   timelines) must be the same text. Both print the events of one tick
//!   in a fixed order (see `render` in `examples/support/timeline.rs`):
//!   tasks ready at one virtual instant run in different orders in tokio and
//!   asyncio, and even between asyncio versions.
//! - Where the crate differs from asyncio on purpose, the test names the
//!   trace lines that only one side prints and checks that they are there;
//!   the other trace lines must agree event for event (compared tick by
//!   tick), and the explanations line for line.

// The examples are binaries compiled here as modules: their `pub` items are
// for this test, each uses only part of the shared timeline module, and each
// includes its own copy of it (whose thread-local capture it writes to).
#![allow(unreachable_pub, dead_code, clippy::duplicate_mod)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

#[path = "../examples/as_completed_timeout.rs"]
mod as_completed_timeout;
#[path = "../examples/cancel_gather_vs_wait.rs"]
mod cancel_gather_vs_wait;
#[path = "../examples/consumers_survive.rs"]
mod consumers_survive;
#[path = "../examples/gather_one_fails.rs"]
mod gather_one_fails;
#[path = "../examples/parallel_map.rs"]
mod parallel_map;
#[path = "../examples/producer_consumers.rs"]
mod producer_consumers;
#[path = "../examples/shield_wait_for.rs"]
mod shield_wait_for;
#[path = "../examples/task_group_child_fails.rs"]
mod task_group_child_fails;
#[path = "../examples/tour.rs"]
mod tour;
#[path = "../examples/wait_any_cancel_rest.rs"]
mod wait_any_cancel_rest;
#[path = "../examples/wait_first_exception.rs"]
mod wait_first_exception;
#[path = "../examples/worker_dies.rs"]
mod worker_dies;

/// Examples set process-wide state (the unobserved-error hook): run one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn is_python_3_11(python: &Path) -> bool {
    Command::new(python)
        .args([
            "-c",
            "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)",
        ])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Python 3.11+, if this machine has one.
fn python() -> Option<&'static Path> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(chosen) = std::env::var_os("ASYNCIO_PYTHON") {
                if chosen == "none" {
                    return None;
                }
                let chosen = PathBuf::from(chosen);
                assert!(
                    is_python_3_11(&chosen),
                    "ASYNCIO_PYTHON is not Python 3.11+"
                );
                return Some(chosen);
            }
            let mut candidates = vec![PathBuf::from("python3")];
            if let Some(home) = std::env::var_os("HOME") {
                let versions = Path::new(&home).join(".pyenv/versions");
                let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(versions)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|entry| {
                        let name = entry.file_name().into_string().ok()?;
                        let version = name
                            .split('.')
                            .map(|part| part.parse().ok())
                            .collect::<Option<Vec<u32>>>()?;
                        Some((version, entry.path().join("bin/python3")))
                    })
                    .collect();
                found.sort();
                candidates.extend(found.into_iter().rev().map(|(_, path)| path));
            }
            candidates.into_iter().find(|python| is_python_3_11(python))
        })
        .as_deref()
}

/// Says, once and past the test harness's capture (a direct write to
/// stderr, not `eprintln!`), that the twins are not run.
fn say_once_without_python() {
    static SAID: OnceLock<()> = OnceLock::new();
    SAID.get_or_init(|| {
        let _ = writeln!(
            std::io::stderr(),
            "tests/examples.rs: no Python 3.11+ found (python3 on PATH, ~/.pyenv/versions/*, \
             $ASYNCIO_PYTHON): the Python twins are not run; checking the Rust examples against \
             the committed Python outputs in examples/python/expected/"
        );
    });
}

/// The Python twins, each checked by the test of the same name below.
const TWINS: &[&str] = &[
    "as_completed_timeout",
    "cancel_gather_vs_wait",
    "consumers_survive",
    "gather_one_fails",
    "parallel_map",
    "producer_consumers",
    "shield_wait_for",
    "task_group_child_fails",
    "wait_any_cancel_rest",
    "wait_first_exception",
    "worker_dies",
];

/// What each Python twin printed, or how it failed. They all run in one
/// interpreter (`examples/python/support/run_twins.py`), the first time a
/// test asks: starting Python costs more than the twins.
fn python_outputs(python: &Path) -> &'static HashMap<String, Result<String, String>> {
    static OUTPUTS: OnceLock<HashMap<String, Result<String, String>>> = OnceLock::new();
    OUTPUTS.get_or_init(|| {
        let output = Command::new(python)
            .arg(root().join("examples/python/support/run_twins.py"))
            // No __pycache__ left in the source tree by a test run.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args(TWINS)
            .output()
            .expect("run the Python twins");
        assert!(
            output.status.success(),
            "run_twins.py failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let printed = String::from_utf8(output.stdout).expect("utf-8 output");
        printed
            .split('\x1e')
            .skip(1)
            .map(|record| {
                let mut fields = record.splitn(3, '\x1f');
                let (name, status, text) = (
                    fields.next().unwrap_or_default(),
                    fields.next().unwrap_or_default(),
                    fields.next().unwrap_or_default().to_owned(),
                );
                let outcome = if status == "ok" { Ok(text) } else { Err(text) };
                (name.to_owned(), outcome)
            })
            .collect()
    })
}

/// One trace line: its tick, task and event.
fn trace_lines(output: &str) -> Vec<(u64, String)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("t=")?;
            let (tick, event) = rest.split_once(' ')?;
            let event = event.split_whitespace().collect::<Vec<_>>().join(" ");
            Some((tick.parse().ok()?, event))
        })
        .collect()
}

/// The lines that are neither trace nor timeline: the explanations.
fn prose(output: &str) -> Vec<&str> {
    let mut in_timeline = false;
    output
        .lines()
        .filter(|line| {
            if line.starts_with("tick ") {
                in_timeline = true;
            }
            let keep = !in_timeline && !line.starts_with("t=");
            if line.contains("├ start  ┤ finish") {
                in_timeline = false;
            }
            keep
        })
        .collect()
}

/// Removes `only` (each must be present) from `lines`.
fn without(mut lines: Vec<(u64, String)>, only: &[&str], side: &str) -> Vec<(u64, String)> {
    for expected in only {
        let wanted = expected.split_whitespace().collect::<Vec<_>>().join(" ");
        let position = lines
            .iter()
            .position(|(tick, event)| format!("t={tick} {event}") == wanted)
            .unwrap_or_else(|| {
                panic!("the documented difference `{expected}` is not in the {side} trace")
            });
        lines.remove(position);
    }
    lines
}

fn by_tick(lines: Vec<(u64, String)>) -> BTreeMap<u64, Vec<String>> {
    let mut ticks: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (tick, event) in lines {
        ticks.entry(tick).or_default().push(event);
    }
    for events in ticks.values_mut() {
        events.sort();
    }
    ticks
}

/// Runs the Rust example (`rust`) and its Python twin, and compares them.
/// `rust_only` and `python_only` are the documented differences, as trace
/// lines `t=<tick> <task> <event>`.
fn check(name: &str, rust: impl FnOnce() -> String, rust_only: &[&str], python_only: &[&str]) {
    let rust = {
        let _one = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        rust()
    };
    let copy = root().join(format!("examples/python/expected/{name}.txt"));
    let python = match python() {
        Some(python) => {
            let printed = match &python_outputs(python)[name] {
                Ok(printed) => printed.clone(),
                Err(failure) => panic!("examples/python/{name}.py failed:\n{failure}"),
            };
            if std::env::var_os("ASYNCIO_BLESS").is_some() {
                std::fs::write(&copy, &printed).expect("write the committed copy");
            }
            let committed = std::fs::read_to_string(&copy).unwrap_or_default();
            assert_eq!(
                committed,
                printed,
                "{} is not what {} prints: rerun with ASYNCIO_BLESS=1 and commit it",
                copy.display(),
                python.display()
            );
            printed
        }
        None => {
            say_once_without_python();
            std::fs::read_to_string(&copy).expect("the committed copy of the Python output")
        }
    };
    if rust_only.is_empty() && python_only.is_empty() {
        // No documented difference: the whole output, timelines included,
        // is the same text.
        assert_eq!(rust, python, "{name}: the Rust and Python outputs differ");
        return;
    }
    assert_eq!(
        prose(&rust),
        prose(&python),
        "{name}: the explanations differ"
    );
    let rust_events = by_tick(without(trace_lines(&rust), rust_only, "Rust"));
    let python_events = by_tick(without(trace_lines(&python), python_only, "Python"));
    assert!(
        !rust_events.is_empty(),
        "{name}: the Rust example printed no trace"
    );
    assert_eq!(
        rust_events, python_events,
        "{name}: the traces differ\n--- Rust ---\n{rust}\n--- Python ---\n{python}"
    );
}

#[test]
fn a_bounded_parallel_map_fails_fast_and_cancels_what_is_in_flight() {
    check(
        "parallel_map",
        || parallel_map::timeline::capture(parallel_map::main),
        &["t=4 item3 cancelled"],
        &[
            "t=4 item4 start",
            "t=5 item3 finish 30",
            "t=5 item4 finish 40",
            "t=5 item5 start",
            "t=7 item5 finish 50",
        ],
    );
}

#[test]
fn gather_one_child_fails_the_others_run_on() {
    check(
        "gather_one_fails",
        || gather_one_fails::timeline::capture(gather_one_fails::main),
        &[],
        &[],
    );
}

#[test]
fn cancelling_gather_cancels_children_cancelling_wait_does_not() {
    check(
        "cancel_gather_vs_wait",
        || cancel_gather_vs_wait::timeline::capture(cancel_gather_vs_wait::main),
        &[],
        &[],
    );
}

#[test]
fn wait_for_any_and_cancel_the_rest_is_race() {
    check(
        "wait_any_cancel_rest",
        || wait_any_cancel_rest::timeline::capture(wait_any_cancel_rest::main),
        &[],
        &[],
    );
}

#[test]
fn as_completed_timeout_cancels_nothing() {
    check(
        "as_completed_timeout",
        || as_completed_timeout::timeline::capture(as_completed_timeout::main),
        &[],
        &[],
    );
}

#[test]
fn a_first_exception_wait_loop_replaces_failed_tasks() {
    check(
        "wait_first_exception",
        || wait_first_exception::timeline::capture(wait_first_exception::main),
        &[],
        &[],
    );
}

#[test]
fn fifty_consumers_over_a_bounded_queue() {
    check(
        "producer_consumers",
        || producer_consumers::timeline::capture(producer_consumers::main),
        &[],
        &[],
    );
}

#[test]
fn consumers_survive_timeouts_and_errors() {
    check(
        "consumers_survive",
        || consumers_survive::timeline::capture(consumers_survive::main),
        &[],
        &[],
    );
}

#[test]
fn a_worker_dying_without_task_done_hangs_join_in_asyncio_only() {
    check(
        "worker_dies",
        || worker_dies::timeline::capture(worker_dies::main),
        &[
            "t=3 main resumed join returned: every item is done",
            "t=3 w0 cancelled",
        ],
        &[
            "t=10 main resumed join hung: item 1 is never done",
            "t=10 w0 cancelled",
        ],
    );
}

#[test]
fn a_failing_child_cancels_its_task_group() {
    check(
        "task_group_child_fails",
        || task_group_child_fails::timeline::capture(task_group_child_fails::main),
        &[],
        &[],
    );
}

#[test]
fn shield_under_wait_for_keeps_the_task_running() {
    check(
        "shield_wait_for",
        || shield_wait_for::timeline::capture(shield_wait_for::main),
        &[],
        &[],
    );
}

#[test]
fn every_python_twin_is_checked() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("examples/python"))
        .expect("examples/python")
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter_map(|file| file.strip_suffix(".py").map(str::to_owned))
        // cancellation.py predates the trace format: its output matches
        // `cargo run --example cancellation` line by line, read by eye.
        .filter(|name| name != "cancellation")
        .collect();
    found.sort();
    assert_eq!(
        found, TWINS,
        "a Python twin without its check, or the reverse"
    );
    for name in TWINS {
        assert!(
            root().join(format!("examples/{name}.rs")).exists(),
            "{name}.rs"
        );
        assert!(
            root()
                .join(format!("examples/python/expected/{name}.txt"))
                .exists(),
            "the committed output of {name}.py"
        );
    }
}

#[test]
fn the_tour_shows_a_timeline_for_every_primitive_and_the_readme_quotes_it() {
    let output = {
        let _one = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        tour::timeline::capture(tour::main)
    };
    let steps: Vec<&str> = output.split("\n\n").skip(1).collect();
    let titles = [
        "Task",
        "wait_for",
        "timeout",
        "shield",
        "gather, fail-fast",
        "return_exceptions",
        "awaits gather",
        "wait(",
        "as_completed",
        "race",
        "TaskGroup",
        "Queue",
        "map",
    ];
    assert_eq!(
        steps.len(),
        titles.len(),
        "one step per primitive:\n{output}"
    );
    for (step, title) in steps.iter().zip(titles) {
        assert!(
            step.lines().next().unwrap().contains(title),
            "step about {title}:\n{step}"
        );
        assert!(step.contains("\nt=0 "), "a trace in the step about {title}");
        assert!(
            step.contains("\ntick "),
            "a timeline in the step about {title}"
        );
    }
    // The cascade: in the TaskGroup step, one child fails and everything
    // else is cancelled in the same tick.
    let group = steps[10];
    assert!(group.contains("t=3   b    fail b broke"), "{group}");
    for cancelled in ["body", "c", "d"] {
        assert!(
            group.contains(&format!("t=3   {cancelled:<4} cancelled")),
            "{group}"
        );
    }
    // The README's excerpt, and the porting guide's (docs.rs), are the
    // tour's output, verbatim.
    for file in ["README.md", "src/porting.md"] {
        let text = std::fs::read_to_string(root().join(file)).expect(file);
        let excerpt = text
            .split("<!-- tour excerpt -->")
            .nth(1)
            .unwrap_or_else(|| panic!("{file} marks the tour excerpt"))
            .split("```text\n")
            .nth(1)
            .and_then(|block| block.split("```").next())
            .expect("a text block");
        assert!(
            output.contains(excerpt),
            "{file}'s tour excerpt is not what `cargo run --example tour` prints:\n{excerpt}"
        );
    }
}
