//! The event trace and the timeline that every example prints; its Python
//! twin is `examples/python/support/timeline.py`, and the two print the same
//! text for the same events.
//!
//! Each example includes this file with
//! `#[path = "support/timeline.rs"] pub mod timeline;` (cargo only builds
//! `examples/*.rs` and `examples/*/main.rs` as examples, so this file is
//! not one). The examples run on tokio's paused clock, so a tick (100 ms of
//! virtual time) is exact and the output is the same on every machine.
//!
//! A trace line is `t=<tick> <task> <event>`; the events are `start`,
//! `finish [value]`, `fail <error>`, `cancelled`, `resumed <what>` (the
//! awaiting side got its answer) and `note <text>`.

// Each example uses a different part of this file.
#![allow(dead_code)]

use std::cell::RefCell;
use std::fmt::{self, Display, Write as _};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// One tick of virtual time.
pub const TICK: Duration = Duration::from_millis(100);

/// `n` ticks.
pub fn ticks(n: u32) -> Duration {
    TICK * n
}

thread_local! {
    /// Where [`say`] writes when the integration test captures an example.
    static CAPTURED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Prints one line, or adds it to the capture when the test runs the example.
pub fn say(line: impl Display) {
    CAPTURED.with(|captured| match &mut *captured.borrow_mut() {
        Some(buffer) => {
            let _ = writeln!(buffer, "{line}");
        }
        None => println!("{line}"),
    });
}

/// Runs `program` and returns what it said (the examples run on a
/// current-thread runtime, so every task says it on this thread).
pub fn capture(program: impl FnOnce()) -> String {
    CAPTURED.with(|captured| *captured.borrow_mut() = Some(String::new()));
    program();
    CAPTURED.with(|captured| captured.borrow_mut().take().unwrap_or_default())
}

/// What happened to a task at one tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The task's body began to run.
    Start,
    /// It returned, with this value (none for `()` / `None`).
    Finish(Option<String>),
    /// It failed with this error (asyncio: raised this exception).
    Fail(String),
    /// It was cancelled (in Rust: dropped) after it started.
    Cancelled,
    /// The awaiting side got its answer.
    Resumed(String),
    /// Anything else worth a line.
    Note(String),
}

impl Kind {
    fn mark(&self) -> char {
        match self {
            Kind::Start => '├',
            Kind::Finish(_) => '┤',
            Kind::Fail(_) => '✗',
            Kind::Cancelled => '╳',
            Kind::Resumed(_) => '◀',
            Kind::Note(_) => '┼',
        }
    }

    /// Where a task's events of one tick are printed, by the first of
    /// them (see [`render`]).
    fn phase(&self) -> u8 {
        match self {
            Kind::Note(_) | Kind::Finish(_) | Kind::Fail(_) => 0,
            Kind::Cancelled => 1,
            Kind::Resumed(_) => 2,
            Kind::Start => 3,
        }
    }

    fn is_end(&self) -> bool {
        matches!(self, Kind::Finish(_) | Kind::Fail(_) | Kind::Cancelled)
    }
}

impl Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Start => write!(f, "start"),
            Kind::Finish(None) => write!(f, "finish"),
            Kind::Finish(Some(value)) => write!(f, "finish {value}"),
            Kind::Fail(error) => write!(f, "fail {error}"),
            Kind::Cancelled => write!(f, "cancelled"),
            Kind::Resumed(what) => write!(f, "resumed {what}"),
            Kind::Note(text) => write!(f, "note {text}"),
        }
    }
}

/// One trace line.
#[derive(Debug, Clone)]
pub struct Event {
    /// When, in ticks since the trace began.
    pub tick: u64,
    /// Which task (or `main`, the awaiting side).
    pub task: String,
    /// What happened.
    pub kind: Kind,
}

#[derive(Debug)]
struct Inner {
    origin: Instant,
    events: Vec<Event>,
}

/// A shared recorder of events; clones record into the same trace.
#[derive(Debug, Clone)]
pub struct Trace(Arc<Mutex<Inner>>);

impl Default for Trace {
    fn default() -> Self {
        Self::new()
    }
}

impl Trace {
    /// A trace whose tick 0 is now.
    pub fn new() -> Self {
        Trace(Arc::new(Mutex::new(Inner {
            origin: Instant::now(),
            events: Vec::new(),
        })))
    }

    /// Ticks since the trace began, rounded to the nearest tick.
    pub fn tick(&self) -> u64 {
        let elapsed = self.0.lock().unwrap().origin.elapsed();
        ((elapsed.as_micros() + TICK.as_micros() / 2) / TICK.as_micros()) as u64
    }

    /// Records `kind` for `task` at the current tick.
    pub fn event(&self, task: &str, kind: Kind) {
        let tick = self.tick();
        self.0.lock().unwrap().events.push(Event {
            tick,
            task: task.to_owned(),
            kind,
        });
    }

    /// The awaiting side `task` got its answer, `what`.
    pub fn resumed(&self, task: &str, what: impl Display) {
        self.event(task, Kind::Resumed(what.to_string()));
    }

    /// Something worth a line happened in `task`.
    pub fn note(&self, task: &str, text: impl Display) {
        self.event(task, Kind::Note(text.to_string()));
    }

    /// Wraps a task's body: records `start` at its first poll, then `finish`
    /// or `fail` with its output, or `cancelled` if it is dropped (aborted)
    /// after it started. A body that never ran records nothing, as in asyncio.
    pub fn task<F>(&self, name: &str, body: F) -> impl Future<Output = F::Output> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Shown,
    {
        let trace = self.clone();
        let name = name.to_owned();
        async move {
            trace.event(&name, Kind::Start);
            let mut guard = CancelGuard {
                trace: trace.clone(),
                name: name.clone(),
                armed: true,
            };
            let output = body.await;
            guard.armed = false;
            trace.event(&name, output.kind());
            output
        }
    }

    /// The events so far, in the order they happened.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().events.clone()
    }

    /// Prints the trace, then the timeline, and starts a new trace at tick 0.
    pub fn show(&self) {
        let events = {
            let mut inner = self.0.lock().unwrap();
            inner.origin = Instant::now();
            std::mem::take(&mut inner.events)
        };
        for line in render(&events).lines() {
            say(line);
        }
    }
}

/// Records `cancelled` when a started task body is dropped before it ends.
struct CancelGuard {
    trace: Trace,
    name: String,
    armed: bool,
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if self.armed {
            self.trace.event(&self.name, Kind::Cancelled);
        }
    }
}

/// How a task's output reads in the trace: a value (`finish`) or an error
/// (`fail`).
pub trait Shown {
    /// The event that ends a task with this output.
    fn kind(&self) -> Kind;
}

macro_rules! shown_value {
    ($($ty:ty),*) => {$(
        impl Shown for $ty {
            fn kind(&self) -> Kind {
                Kind::Finish(Some(self.to_string()))
            }
        }
    )*};
}

shown_value!(i32, u32, u64, usize, &'static str, String);

impl Shown for () {
    fn kind(&self) -> Kind {
        Kind::Finish(None)
    }
}

impl<T: Shown, E: Display> Shown for Result<T, E> {
    fn kind(&self) -> Kind {
        match self {
            Ok(value) => value.kind(),
            Err(error) => Kind::Fail(error.to_string()),
        }
    }
}

/// How an awaited task ended, as the trace says it: `42`, `fail <error>`,
/// `cancelled`, `panic <message>`.
pub fn outcome<T: Display, E: Display>(outcome: &Result<T, asyncio::TaskError<E>>) -> String {
    match outcome {
        Ok(value) => value.to_string(),
        Err(error) => task_error(error),
    }
}

/// A task's error as the trace says it (asyncio's exception: `fail <error>`,
/// `cancelled`).
pub fn task_error<E: Display>(error: &asyncio::TaskError<E>) -> String {
    match error {
        asyncio::TaskError::Failed(error) => format!("fail {error}"),
        asyncio::TaskError::Cancelled => "cancelled".to_owned(),
        asyncio::TaskError::Panicked(panic) => format!("panic {}", panic.message()),
    }
}

/// A list as Python prints it: `[1, 2, 3]`.
pub fn list<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    let items: Vec<String> = items.into_iter().map(|item| item.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// The trace lines, then the timeline: one lane per task, one column group
/// per tick.
///
/// Events of one tick happen at the same virtual instant, and tokio and
/// asyncio (even asyncio 3.11 and 3.13) run the tasks ready at one instant
/// in different orders. So within a tick the lines are printed in a fixed
/// order: each task's events together, in the order it did them, and the
/// tasks by the first of those events: what tasks did (notes, finishes,
/// failures), then cancellations, then the awaiting side resuming, then
/// tasks starting; ties by task name. It is not always the order of cause
/// and effect: a task that `main` cancels after it resumed is listed
/// before `main`.
pub fn render(events: &[Event]) -> String {
    let mut out = String::new();
    if events.is_empty() {
        return out;
    }
    let mut order: Vec<(u64, u8, String, usize)> = Vec::new();
    for (seq, event) in events.iter().enumerate() {
        let first = events
            .iter()
            .find(|e| e.tick == event.tick && e.task == event.task)
            .expect("the event itself");
        order.push((event.tick, first.kind.phase(), event.task.clone(), seq));
    }
    order.sort();
    let events: Vec<Event> = order
        .into_iter()
        .map(|(.., seq)| events[seq].clone())
        .collect();
    let events = &events[..];
    let width = events
        .iter()
        .map(|e| e.task.len())
        .max()
        .unwrap_or(4)
        .max(4);
    for event in events {
        let _ = writeln!(
            out,
            "t={:<3} {:<width$} {}",
            event.tick, event.task, event.kind
        );
    }
    let last = events.iter().map(|e| e.tick).max().unwrap_or(0) as usize;
    let scale = if last <= 16 {
        4
    } else if last <= 32 {
        2
    } else {
        1
    };
    let every = if scale == 4 {
        1
    } else if scale == 2 {
        5
    } else {
        10
    };
    let columns = last * scale + 1;
    let mut header: Vec<char> = vec![' '; columns + 3];
    for tick in (0..=last).step_by(every) {
        for (offset, digit) in tick.to_string().chars().enumerate() {
            if tick * scale + offset < header.len() {
                header[tick * scale + offset] = digit;
            }
        }
    }
    let header: String = header.into_iter().collect();
    let _ = writeln!(out, "{:<width$}   {}", "tick", header.trim_end());
    let mut lanes: Vec<&str> = Vec::new();
    for event in events {
        if !lanes.contains(&event.task.as_str()) {
            lanes.push(&event.task);
        }
    }
    for lane in lanes {
        let mine: Vec<&Event> = events.iter().filter(|e| e.task == lane).collect();
        let first = mine.first().map_or(0, |e| e.tick as usize) * scale;
        let end = mine.last().map_or(0, |e| e.tick as usize) * scale;
        let mut row = vec![' '; columns];
        for cell in row.iter_mut().take(end + 1).skip(first) {
            *cell = '─';
        }
        // Where two events share a column, the first mark stays, unless a
        // later one ends the task: an ending is never hidden.
        let mut marked = vec![false; columns];
        for event in &mine {
            let column = event.tick as usize * scale;
            if !marked[column] || event.kind.is_end() {
                row[column] = event.kind.mark();
                marked[column] = true;
            }
        }
        let last_event = mine.last().expect("a lane has events");
        let label = match &last_event.kind {
            Kind::Start => "running".to_owned(),
            other => other.to_string(),
        };
        let row: String = row.into_iter().collect();
        let _ = writeln!(out, "{lane:<width$}   {row}  {label}");
    }
    let _ = writeln!(
        out,
        "{:<width$}   ├ start  ┤ finish  ✗ fail  ╳ cancelled  ◀ resumed  ┼ event",
        ""
    );
    out
}
