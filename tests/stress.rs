//! The crate's own stress suite (issue 9): many producers and consumers with
//! randomly cancelled puts and gets, `get_guarded` workers that panic,
//! queue streams in `select!` loops, gathers (and gathers of gathers)
//! dropped mid-flight, task sets and `as_completed` with cancelled waits,
//! task groups (scoped, body-less and nested; failing, panicking,
//! cancelled, dropped mid-flight), and runtimes dropped with work in
//! flight. Every
//! round checks *by accounting* that nothing is lost or duplicated: each
//! item is received exactly once, or handed back by a failed put, or
//! dropped with a cancelled put, or discarded by an immediate shutdown;
//! `task_done` and `join` balance; every child future is dropped exactly
//! once; every panic reaches the awaiting side or the unobserved-error hook
//! exactly once, and so does every error a task group owns. Multi-thread
//! rounds assert counts, never durations.
//!
//! # Scale
//!
//! - `ASYNCIO_STRESS_ROUNDS=<n>`: rounds per test (default 40). Rounds are
//!   count-bounded, so the default run (`cargo test --test stress`) takes a
//!   few seconds in debug on a 2-core machine.
//! - `ASYNCIO_STRESS_SECS=<s>`: instead of a round count, each test runs
//!   rounds until `s` seconds have passed. With `--test-threads` at least
//!   the number of tests, they all run at once (more contention, too), and
//!   the file takes about `s` seconds. The long run, five minutes:
//!
//!   ```sh
//!   ASYNCIO_STRESS_SECS=300 cargo test --release --test stress -- --nocapture --test-threads=16
//!   ```
//!
//! - `ASYNCIO_STRESS_SEED=<u64, decimal or 0x-hex>`: the seed of round 0
//!   (round `n` uses `seed + n`; each test mixes its name in, so the tests
//!   draw different plans). A failing round prints its seed and the command
//!   that reruns just that round. The seed fixes each round's
//!   plan (sizes, which operations are cancelled and how, which children
//!   fail or panic); the interleaving on a multi-thread runtime is the
//!   scheduler's, so a rerun explores the same plan, not the same schedule.
//!
//! - `ASYNCIO_STRESS_VERBOSE=1`: print each round's plan and accounting
//!   (with `--nocapture`).
//!
//! # Safety timeouts
//!
//! A round that hangs fails instead, after a generous real-time bound
//! (`ROUND_DEADLINE`, and `JOIN_DEADLINE` for the final `join` of the
//! stream scenario). These bound a hang; no test asserts how long anything
//! took.
//!
//! # Hooks
//!
//! The unobserved-error hook and the panic hook are process-global. This
//! file installs each once, for the whole binary, and never resets them:
//! the unobserved-error hook files each report under the round that made
//! it (every child's error and panic message carries a label unique to its
//! round), so the tests can run in parallel; the panic hook stays quiet for
//! the panics this suite plans, and prints every other one as usual.

use std::collections::HashMap;
use std::future::{Future, IntoFuture};
use std::num::NonZeroUsize;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use asyncio::queue::{
    Get, GetGuarded, Guarded, Put, QueueJoin, QueueStream, TaskDoneError, TryGetError, TryPutError,
};
use asyncio::{
    AsCompletedError, CancelHandle, InGroup, LifoQueue, Origin, PriorityQueue, Queue, ReturnWhen,
    TaskError, TaskGroup, TaskGroupError, TaskGroupHandle, TaskId, TaskSet, Unobserved,
};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;

// ------------------------------------------------------------------ scale --

const DEFAULT_ROUNDS: u64 = 40;
const DEFAULT_SEED: u64 = 0x5EED_0009_A5C1_0001;
/// A round that takes longer than this has hung.
const ROUND_DEADLINE: Duration = Duration::from_secs(60);
/// How long the stream scenario's producers and final `join` may take
/// before the round fails as a lost delivery.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);
/// The prefix of every panic this suite causes on purpose.
const PLANNED: &str = "stress: planned panic";

struct Scale {
    rounds: u64,
    secs: Option<Duration>,
    seed: u64,
}

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => text.replace('_', "").parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text:?} is not a number")))
}

fn scale() -> &'static Scale {
    static SCALE: OnceLock<Scale> = OnceLock::new();
    SCALE.get_or_init(|| Scale {
        rounds: env_u64("ASYNCIO_STRESS_ROUNDS").unwrap_or(DEFAULT_ROUNDS),
        secs: env_u64("ASYNCIO_STRESS_SECS").map(Duration::from_secs),
        seed: env_u64("ASYNCIO_STRESS_SEED").unwrap_or(DEFAULT_SEED),
    })
}

/// With `ASYNCIO_STRESS_VERBOSE=1`, prints each round's plan and accounting
/// (with `--nocapture`), to see what the rounds exercised.
fn verbose(what: &str, accounting: &str) {
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| env_u64("ASYNCIO_STRESS_VERBOSE").unwrap_or(0) != 0) {
        eprintln!("stress: {what}: {accounting}");
    }
}

/// Runs `round` with one seed per round, as the scale says; a failing round
/// prints the seed that reruns it alone.
fn run_rounds(name: &str, mut round: impl FnMut(u64)) {
    install_hooks();
    let scale = scale();
    let started = Instant::now();
    let mut done = 0u64;
    loop {
        let more = match scale.secs {
            Some(limit) => done == 0 || started.elapsed() < limit,
            None => done < scale.rounds,
        };
        if !more {
            break;
        }
        let seed = scale.seed.wrapping_add(done);
        // Each test draws its own plans from the same seed.
        let plan = Rng::new(seed ^ name_hash(name)).next_u64();
        if let Err(panic) = std::panic::catch_unwind(AssertUnwindSafe(|| round(plan))) {
            eprintln!(
                "stress: {name} failed in round {done} (seed {seed:#x}, plan {plan:#x}); rerun it alone with \
                 ASYNCIO_STRESS_SEED={seed:#x} ASYNCIO_STRESS_ROUNDS=1 \
                 cargo test --test stress {name}"
            );
            std::panic::resume_unwind(panic);
        }
        done += 1;
    }
    // Informational only (shown with --nocapture): nothing asserts on time.
    eprintln!(
        "stress: {name}: {done} rounds from seed {:#x} in {:.1?}",
        scale.seed,
        started.elapsed()
    );
}

/// FNV-1a of a test's name, to give each test its own plans.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// splitmix64: small, seedable, good enough to pick plans.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`), near enough.
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    fn upto(&mut self, n: usize) -> usize {
        self.below(n as u64 + 1) as usize
    }
    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
    /// An independent generator for a task.
    fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}

/// A round's unique number, for the labels that file hook reports.
fn next_uid() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, SeqCst)
}

fn runtime(rng: &mut Rng) -> tokio::runtime::Runtime {
    if rng.chance(1, 4) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    } else {
        multi_thread()
    }
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs a round's body under the round deadline; `state` describes the
/// accounting so far if it hangs.
fn block_on_bounded<F: Future>(
    runtime: &tokio::runtime::Runtime,
    what: &str,
    body: F,
    state: impl Fn() -> String,
) -> F::Output {
    runtime.block_on(async {
        match tokio::time::timeout(ROUND_DEADLINE, body).await {
            Ok(output) => output,
            Err(_) => panic!(
                "stress: {what}: the round hung for {ROUND_DEADLINE:?}; accounting so far: {}",
                state()
            ),
        }
    })
}

async fn yields(n: u64) {
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
}

// ------------------------------------------------------------------ hooks --

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reported {
    Failed,
    Panicked,
}

/// Every unobserved report, as (round uid, kind, child index), or the text
/// of a report that carries no label.
static REPORTS: Mutex<Vec<(u64, Reported, usize)>> = Mutex::new(Vec::new());
static FOREIGN_REPORTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn payload_text(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
}

fn install_hooks() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let planned = payload_text(info.payload()).is_some_and(|m| m.starts_with(PLANNED));
            if !planned {
                default(info);
            }
        }));
        asyncio::set_unobserved_error_hook(|unobserved| {
            let (kind, text) = match &unobserved {
                Unobserved::Panicked { panic, .. } => (Reported::Panicked, panic.message().into()),
                Unobserved::Failed { error, .. } => (Reported::Failed, format!("{error:?}")),
                other => {
                    FOREIGN_REPORTS.lock().unwrap().push(other.to_string());
                    return;
                }
            };
            // A panic carries one label. An error may carry several: a
            // nested task group's error reported whole holds every error
            // its group collected, each one its child's failure.
            let labels = match kind {
                Reported::Panicked => parse_label(&text).into_iter().collect(),
                Reported::Failed => parse_labels(&text),
            };
            if labels.is_empty() {
                FOREIGN_REPORTS.lock().unwrap().push(unobserved.to_string());
                return;
            }
            let mut reports = REPORTS.lock().unwrap();
            for (uid, index) in labels {
                reports.push((uid, kind, index));
            }
        });
    });
}

/// The reports filed under round `uid`, taken out of the list.
fn take_reports(uid: u64) -> Vec<(Reported, usize)> {
    let mut all = REPORTS.lock().unwrap();
    let mut mine = Vec::new();
    all.retain(|&(owner, kind, index)| {
        if owner == uid {
            mine.push((kind, index));
        }
        owner != uid
    });
    mine
}

fn label(uid: u64, index: usize) -> String {
    format!("<<u{uid}/c{index}>>")
}

/// Every label in `text`, in order.
fn parse_labels(mut text: &str) -> Vec<(u64, usize)> {
    let mut labels = Vec::new();
    while let Some(start) = text.find("<<u") {
        text = &text[start..];
        if let Some(label) = parse_label(text) {
            labels.push(label);
        }
        text = &text[3..];
    }
    labels
}

fn parse_label(text: &str) -> Option<(u64, usize)> {
    let start = text.find("<<u")? + 3;
    let rest = &text[start..];
    let end = rest.find(">>")?;
    let (uid, index) = rest[..end].split_once("/c")?;
    Some((uid.parse().ok()?, index.parse().ok()?))
}

// ----------------------------------------------------- cancellation modes --

/// How an operation is driven: to completion, or cut short at a random
/// point (its future dropped, or handed back so that a put can take its
/// item back).
#[derive(Debug, Clone, Copy)]
enum How {
    Await,
    /// Raced in `select!` against `n` yields.
    Race(u64),
    /// Polled once, then given up if pending.
    PollOnce,
    /// Under `tokio::time::timeout` of this many microseconds.
    Timeout(u64),
}

impl How {
    /// Mostly awaited, often raced, sometimes polled once or timed out.
    fn pick(rng: &mut Rng, cut_pct: u64) -> How {
        if !rng.chance(cut_pct, 100) {
            return How::Await;
        }
        match rng.below(8) {
            0 => How::Timeout(1 + rng.below(300)),
            1 | 2 => How::PollOnce,
            _ => How::Race(rng.below(3)),
        }
    }
}

/// Drives `future` as `how` says: `Ok(output)`, or `Err(future)` if it was
/// cut short before completing.
async fn drive<F: Future + Unpin>(how: How, mut future: F) -> Result<F::Output, F> {
    match how {
        How::Await => Ok((&mut future).await),
        How::Race(n) => {
            let won = tokio::select! {
                output = &mut future => Some(output),
                () = yields(n) => None,
            };
            won.ok_or(future)
        }
        How::PollOnce => match futures::poll!(&mut future) {
            Poll::Ready(output) => Ok(output),
            Poll::Pending => Err(future),
        },
        How::Timeout(micros) => {
            match tokio::time::timeout(Duration::from_micros(micros), &mut future).await {
                Ok(output) => Ok(output),
                Err(_) => Err(future),
            }
        }
    }
}

// ------------------------------------------------------------ queue items --

/// What happened to each item, by tag.
#[derive(Default)]
struct ItemSlot {
    created: AtomicUsize,
    /// A put (or put_nowait) returned `Ok`.
    accepted: AtomicUsize,
    /// A consumer took it.
    received: AtomicUsize,
    /// Taken out of the queue by the final drain.
    drained: AtomicUsize,
    /// A failed put handed it back (the producer gave up on it).
    returned: AtomicUsize,
    /// Its put was cut short and dropped with it.
    put_cancelled: AtomicUsize,
    drops: AtomicUsize,
    /// Dropped by code other than this suite's: with a cancelled put, by an
    /// immediate shutdown, or with the queue.
    unclaimed_drops: AtomicUsize,
}

struct Ledger {
    slots: Vec<ItemSlot>,
}

impl Ledger {
    fn new(items: usize) -> Arc<Self> {
        Arc::new(Self {
            slots: (0..items).map(|_| ItemSlot::default()).collect(),
        })
    }
    fn slot(&self, tag: usize) -> &ItemSlot {
        &self.slots[tag]
    }
    fn count(&self, field: impl Fn(&ItemSlot) -> &AtomicUsize) -> usize {
        self.slots.iter().map(|s| field(s).load(SeqCst)).sum()
    }
    fn summary(&self) -> String {
        format!(
            "created {}, accepted {}, received {}, drained {}, returned {}, put cancelled {}, \
             dropped {} ({} unclaimed)",
            self.count(|s| &s.created),
            self.count(|s| &s.accepted),
            self.count(|s| &s.received),
            self.count(|s| &s.drained),
            self.count(|s| &s.returned),
            self.count(|s| &s.put_cancelled),
            self.count(|s| &s.drops),
            self.count(|s| &s.unclaimed_drops),
        )
    }

    /// The accounting every queue round ends with, once every item has been
    /// dropped. `discard_allowed`: an immediate shutdown may have dropped
    /// accepted items; `cut_puts_untracked`: puts may have been dropped by a
    /// runtime shutdown without the producer seeing it.
    fn check(&self, what: &str, discard_allowed: bool, cut_puts_untracked: bool) {
        let mut problems = Vec::new();
        for (tag, s) in self.slots.iter().enumerate() {
            let [created, accepted, received, drained, returned, cancelled, drops, unclaimed] = [
                &s.created,
                &s.accepted,
                &s.received,
                &s.drained,
                &s.returned,
                &s.put_cancelled,
                &s.drops,
                &s.unclaimed_drops,
            ]
            .map(|a| a.load(SeqCst));
            if created == 0 {
                if drops + received + accepted + returned > 0 {
                    problems.push(format!("item {tag} was never created but has a history"));
                }
                continue;
            }
            if drops != 1 {
                problems.push(format!(
                    "item {tag} was dropped {drops} times (0: leaked, or kept alive)"
                ));
            }
            let got = received + drained;
            if got > 1 {
                problems.push(format!("item {tag} was delivered {got} times"));
            }
            if got == 1 && accepted == 0 {
                problems.push(format!(
                    "item {tag} was delivered but its put never succeeded \
                     (cancelled {cancelled}, returned {returned})"
                ));
            }
            let put_fates = accepted + returned + cancelled;
            if put_fates > 1 {
                problems.push(format!(
                    "item {tag}'s put ended more than once: accepted {accepted}, \
                     returned {returned}, cancelled {cancelled}"
                ));
            }
            if put_fates == 0 && !cut_puts_untracked {
                problems.push(format!("item {tag}'s put never ended"));
            }
            // Accepted and never delivered: only an immediate shutdown may
            // discard it.
            if accepted == 1 && got == 0 && (unclaimed != 1 || !discard_allowed) {
                problems.push(format!(
                    "item {tag} was accepted but never delivered \
                     (dropped unclaimed {unclaimed} times; discard allowed: {discard_allowed})"
                ));
            }
            if cancelled == 1 && unclaimed != 1 {
                problems.push(format!(
                    "item {tag}'s put was cancelled but the item was not dropped with it"
                ));
            }
            if got == 1 && unclaimed != 0 {
                problems.push(format!(
                    "item {tag} was delivered and also dropped unclaimed"
                ));
            }
            if returned == 1 && unclaimed != 0 {
                problems.push(format!(
                    "item {tag} was handed back and also dropped unclaimed"
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "stress: {what}: {} accounting problems (first 20): {:#?}\n{}",
            problems.len(),
            &problems[..problems.len().min(20)],
            self.summary()
        );
        verbose(what, &self.summary());
    }
}

/// A uniquely tagged queue item that records its own drop.
struct Item {
    tag: usize,
    priority: u64,
    ledger: Arc<Ledger>,
    claimed: bool,
}

impl Item {
    fn new(tag: usize, priority: u64, ledger: &Arc<Ledger>) -> Self {
        ledger.slot(tag).created.fetch_add(1, SeqCst);
        Self {
            tag,
            priority,
            ledger: ledger.clone(),
            claimed: false,
        }
    }
    /// This suite takes responsibility for the item: its drop is expected.
    fn claim(mut self) -> usize {
        self.claimed = true;
        self.tag
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        let slot = self.ledger.slot(self.tag);
        slot.drops.fetch_add(1, SeqCst);
        if !self.claimed {
            slot.unclaimed_drops.fetch_add(1, SeqCst);
        }
    }
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Item({})", self.tag)
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.priority, self.tag).cmp(&(other.priority, other.tag))
    }
}

// --------------------------------------------- the three queues, as one --

/// The three queue types share their futures; this lets one scenario run
/// over each.
trait StressQueue: Clone + Send + Sync + 'static {
    const NAME: &'static str;
    fn bounded(capacity: NonZeroUsize) -> Self;
    fn put(&self, item: Item) -> Put<'_, Item>;
    fn put_nowait(&self, item: Item) -> Result<(), TryPutError<Item>>;
    fn get(&self) -> Get<'_, Item>;
    fn get_nowait(&self) -> Result<Item, TryGetError>;
    fn get_guarded(&self) -> GetGuarded<'_, Item>;
    fn get_guarded_nowait(&self) -> Result<Guarded<Item>, TryGetError>;
    fn is_shut_down(&self) -> bool;
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn join(&self) -> QueueJoin<'_, Item>;
    fn shutdown(&self, immediate: bool);
    fn stream(&self) -> QueueStream<Item>;
    fn qsize(&self) -> usize;
}

macro_rules! stress_queue {
    ($ty:ident) => {
        impl StressQueue for $ty<Item> {
            const NAME: &'static str = stringify!($ty);
            fn bounded(capacity: NonZeroUsize) -> Self {
                $ty::bounded(capacity)
            }
            fn put(&self, item: Item) -> Put<'_, Item> {
                $ty::put(self, item)
            }
            fn put_nowait(&self, item: Item) -> Result<(), TryPutError<Item>> {
                $ty::put_nowait(self, item)
            }
            fn get(&self) -> Get<'_, Item> {
                $ty::get(self)
            }
            fn get_nowait(&self) -> Result<Item, TryGetError> {
                $ty::get_nowait(self)
            }
            fn get_guarded(&self) -> GetGuarded<'_, Item> {
                $ty::get_guarded(self)
            }
            fn get_guarded_nowait(&self) -> Result<Guarded<Item>, TryGetError> {
                $ty::get_guarded_nowait(self)
            }
            fn is_shut_down(&self) -> bool {
                $ty::is_shut_down(self)
            }
            fn task_done(&self) -> Result<(), TaskDoneError> {
                $ty::task_done(self)
            }
            fn join(&self) -> QueueJoin<'_, Item> {
                $ty::join(self)
            }
            fn shutdown(&self, immediate: bool) {
                if immediate {
                    $ty::shutdown_immediate(self)
                } else {
                    $ty::shutdown(self)
                }
            }
            fn stream(&self) -> QueueStream<Item> {
                $ty::stream(self)
            }
            fn qsize(&self) -> usize {
                $ty::qsize(self)
            }
        }
    };
}

stress_queue!(Queue);
stress_queue!(LifoQueue);
stress_queue!(PriorityQueue);

fn capacity(n: u64) -> NonZeroUsize {
    NonZeroUsize::new(n as usize).unwrap()
}

/// Counters a queue round keeps beside the ledger.
#[derive(Default)]
struct QueueStats {
    task_done_ok: AtomicUsize,
    task_done_err: AtomicUsize,
    /// Items taken with `get` whose `task_done` has not run yet.
    outstanding: AtomicUsize,
    planned_panics: AtomicUsize,
    seen_panics: AtomicUsize,
    withdrawn_puts: AtomicUsize,
    cut_gets: AtomicUsize,
    producers_done: AtomicUsize,
    /// Stream consumers that lost a `select!` and left their loop keeping
    /// the stream.
    left_keeping_stream: AtomicUsize,
}

impl QueueStats {
    fn summary(&self) -> String {
        format!(
            "task_done ok {} err {}, outstanding {}, panics planned {} seen {}, \
             withdrawn puts {}, cut gets {}, streams left idle {}",
            self.task_done_ok.load(SeqCst),
            self.task_done_err.load(SeqCst),
            self.outstanding.load(SeqCst),
            self.planned_panics.load(SeqCst),
            self.seen_panics.load(SeqCst),
            self.withdrawn_puts.load(SeqCst),
            self.cut_gets.load(SeqCst),
            self.left_keeping_stream.load(SeqCst),
        )
    }
}

/// Marks a plainly got item received, processes it, and calls `task_done`.
async fn consume<Q: StressQueue>(
    queue: &Q,
    ledger: &Ledger,
    stats: &QueueStats,
    item: Item,
    rng: &mut Rng,
) {
    let tag = item.claim();
    ledger.slot(tag).received.fetch_add(1, SeqCst);
    stats.outstanding.fetch_add(1, SeqCst);
    yields(rng.below(2)).await;
    stats.outstanding.fetch_sub(1, SeqCst);
    match queue.task_done() {
        Ok(()) => stats.task_done_ok.fetch_add(1, SeqCst),
        Err(_) => stats.task_done_err.fetch_add(1, SeqCst),
    };
}

/// Puts `count` items tagged from `first`, each by a randomly chosen
/// method, some cut short; stops at the first shutdown error.
async fn produce<Q: StressQueue>(
    queue: Q,
    ledger: Arc<Ledger>,
    stats: Arc<QueueStats>,
    first: usize,
    count: usize,
    cut_pct: u64,
    mut rng: Rng,
) {
    'items: for tag in first..first + count {
        let slot = ledger.slot(tag);
        let mut item = Item::new(tag, rng.below(8), &ledger);
        loop {
            if rng.chance(1, 8) {
                match queue.put_nowait(item) {
                    Ok(()) => {
                        slot.accepted.fetch_add(1, SeqCst);
                        continue 'items;
                    }
                    Err(TryPutError::Full(back)) => {
                        item = back;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    Err(error) => {
                        assert!(error.is_shut_down());
                        error.into_inner().claim();
                        slot.returned.fetch_add(1, SeqCst);
                        break 'items;
                    }
                }
            }
            let how = How::pick(&mut rng, cut_pct);
            // Cut short by a race, the put hands its item back to be put
            // again; cut short otherwise, it is dropped with its item.
            let hand_back = matches!(how, How::Race(_)) || rng.chance(1, 2);
            match drive(how, queue.put(item)).await {
                Ok(Ok(())) => {
                    slot.accepted.fetch_add(1, SeqCst);
                    continue 'items;
                }
                Ok(Err(error)) => {
                    error.into_inner().claim();
                    slot.returned.fetch_add(1, SeqCst);
                    break 'items;
                }
                Err(put) if hand_back => {
                    stats.withdrawn_puts.fetch_add(1, SeqCst);
                    item = put
                        .into_inner()
                        .expect("a put cut short before it completed still holds its item");
                }
                Err(put) => {
                    slot.put_cancelled.fetch_add(1, SeqCst);
                    drop(put);
                    continue 'items;
                }
            }
        }
    }
    stats.producers_done.fetch_add(1, SeqCst);
}

/// Takes items with `get`, cut short at random, until the queue is shut
/// down and has nothing left for it.
async fn plain_consumer<Q: StressQueue>(
    queue: Q,
    ledger: Arc<Ledger>,
    stats: Arc<QueueStats>,
    cut_pct: u64,
    mut rng: Rng,
) {
    loop {
        let how = How::pick(&mut rng, cut_pct);
        match drive(how, queue.get()).await {
            Ok(Ok(item)) => consume(&queue, &ledger, &stats, item, &mut rng).await,
            Ok(Err(_)) => return,
            Err(_cut) => {
                stats.cut_gets.fetch_add(1, SeqCst);
            }
        }
    }
}

/// Takes items with `get_guarded`, cut short at random, and sometimes
/// panics while holding one: the guard must still mark it done.
async fn guarded_consumer<Q: StressQueue>(
    queue: Q,
    ledger: Arc<Ledger>,
    stats: Arc<QueueStats>,
    cut_pct: u64,
    panic_one_in: u64,
    mut rng: Rng,
) {
    loop {
        let how = How::pick(&mut rng, cut_pct);
        match drive(how, queue.get_guarded()).await {
            Ok(Ok(mut guarded)) => {
                guarded.claimed = true;
                ledger.slot(guarded.tag).received.fetch_add(1, SeqCst);
                if rng.chance(1, panic_one_in) {
                    stats.planned_panics.fetch_add(1, SeqCst);
                    panic!("{PLANNED}: a guarded consumer holding item {}", guarded.tag);
                }
                yields(rng.below(2)).await;
                if rng.chance(1, 2) {
                    drop(guarded.done());
                }
            }
            Ok(Err(_)) => return,
            Err(_cut) => {
                stats.cut_gets.fetch_add(1, SeqCst);
            }
        }
    }
}

/// Keeps one guarded consumer running, replacing it each time it panics;
/// each panic must reach this awaiting side.
async fn guarded_supervisor<Q: StressQueue>(
    queue: Q,
    ledger: Arc<Ledger>,
    stats: Arc<QueueStats>,
    cut_pct: u64,
    panic_one_in: u64,
    mut rng: Rng,
) {
    loop {
        let worker = asyncio::spawn(guarded_consumer(
            queue.clone(),
            ledger.clone(),
            stats.clone(),
            cut_pct,
            panic_one_in,
            rng.fork(),
        ));
        match worker.await {
            Ok(()) => return,
            Err(TaskError::Panicked(panic)) => {
                assert!(panic.message().starts_with(PLANNED), "{panic}");
                stats.seen_panics.fetch_add(1, SeqCst);
            }
            // The runtime is shutting down (scenario 5): a worker dropped
            // before its supervisor ends as cancelled.
            Err(TaskError::Cancelled) => return,
            Err(other) => panic!("a guarded consumer ended with {other:?}"),
        }
    }
}

async fn nowait_consumer<Q: StressQueue>(
    queue: Q,
    ledger: Arc<Ledger>,
    stats: Arc<QueueStats>,
    mut rng: Rng,
) {
    loop {
        let taken = if rng.chance(1, 2) {
            queue.get_nowait().map(|item| {
                let tag = item.claim();
                ledger.slot(tag).received.fetch_add(1, SeqCst);
                stats.outstanding.fetch_add(1, SeqCst);
                None
            })
        } else {
            queue.get_guarded_nowait().map(|mut guarded| {
                guarded.claimed = true;
                ledger.slot(guarded.tag).received.fetch_add(1, SeqCst);
                Some(guarded)
            })
        };
        match taken {
            // Taken plainly: process, then mark done by hand.
            Ok(None) => {
                yields(rng.below(2)).await;
                stats.outstanding.fetch_sub(1, SeqCst);
                match queue.task_done() {
                    Ok(()) => stats.task_done_ok.fetch_add(1, SeqCst),
                    Err(_) => stats.task_done_err.fetch_add(1, SeqCst),
                };
            }
            // Guarded: marked done when dropped.
            Ok(Some(guarded)) => {
                yields(rng.below(2)).await;
                drop(guarded);
            }
            Err(error) if error.is_shut_down() => return,
            Err(_) => tokio::task::yield_now().await,
        }
    }
}

/// Waits for the queue to be joined, cut short at random (dropping `Join`
/// futures mid-wait), until it is shut down.
async fn joiner<Q: StressQueue>(queue: Q, mut rng: Rng) {
    while !queue.is_shut_down() {
        let how = How::pick(&mut rng, 70);
        let _joined = drive(how, queue.join()).await.is_ok();
        tokio::task::yield_now().await;
    }
}

/// A stream consumer that always awaits `next()` to completion.
async fn stream_consumer<Q: StressQueue>(
    queue: Q,
    ledger: Arc<Ledger>,
    stats: Arc<QueueStats>,
    mut rng: Rng,
) {
    let mut items = queue.stream();
    while let Some(item) = items.next().await {
        consume(&queue, &ledger, &stats, item, &mut rng).await;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    /// Only at the end, after `join`.
    AtEnd,
    /// Graceful, once some items have been received.
    Graceful,
    /// Immediate, once some items have been received.
    Immediate,
}

/// Scenario 1 for one queue type: many producers and consumers, puts and
/// gets cut short at random, guarded workers that panic, and (in some
/// rounds) a shutdown mid-flight.
fn queue_round<Q: StressQueue>(seed: u64) {
    let mut rng = Rng::new(seed);
    let producers = 1 + rng.upto(4);
    let per_producer = 20 + rng.upto(180);
    let cap = 1 + rng.below(8);
    let cut_pct = [0, 10, 30, 60][rng.upto(3)];
    let panic_one_in = 3 + rng.below(30);
    let plain = rng.upto(3);
    let guarded = rng.upto(3);
    let nowait = rng.upto(1);
    let streams = rng.upto(1);
    let joiners = rng.upto(2);
    let plain = if plain + guarded + nowait + streams == 0 {
        1
    } else {
        plain
    };
    let shutdown = [Shutdown::AtEnd, Shutdown::Graceful, Shutdown::Immediate][rng.upto(2)];
    let total = producers * per_producer;
    let shutdown_after = rng.below(total as u64) as usize;
    let what = format!(
        "{} round (plan {seed:#x}): {producers} producers × {per_producer}, capacity {cap}, \
         consumers {plain} get / {guarded} guarded / {nowait} nowait / {streams} stream, \
         {joiners} joiners, cut {cut_pct}%, shutdown {shutdown:?}",
        Q::NAME
    );

    let ledger = Ledger::new(total);
    let stats = Arc::new(QueueStats::default());
    let queue = Q::bounded(capacity(cap));
    let runtime = multi_thread();
    let state = || format!("{}; {}", ledger.summary(), stats.summary());
    block_on_bounded(
        &runtime,
        &what,
        async {
            let mut producing = Vec::new();
            for p in 0..producers {
                producing.push(tokio::spawn(produce(
                    queue.clone(),
                    ledger.clone(),
                    stats.clone(),
                    p * per_producer,
                    per_producer,
                    cut_pct,
                    rng.fork(),
                )));
            }
            let mut consuming = Vec::new();
            for _ in 0..plain {
                let args = (queue.clone(), ledger.clone(), stats.clone());
                consuming.push(tokio::spawn(plain_consumer(
                    args.0,
                    args.1,
                    args.2,
                    cut_pct,
                    rng.fork(),
                )));
            }
            for _ in 0..guarded {
                let args = (queue.clone(), ledger.clone(), stats.clone());
                consuming.push(tokio::spawn(guarded_supervisor(
                    args.0,
                    args.1,
                    args.2,
                    cut_pct,
                    panic_one_in,
                    rng.fork(),
                )));
            }
            for _ in 0..nowait {
                let args = (queue.clone(), ledger.clone(), stats.clone());
                consuming.push(tokio::spawn(nowait_consumer(
                    args.0,
                    args.1,
                    args.2,
                    rng.fork(),
                )));
            }
            for _ in 0..streams {
                let args = (queue.clone(), ledger.clone(), stats.clone());
                consuming.push(tokio::spawn(stream_consumer(
                    args.0,
                    args.1,
                    args.2,
                    rng.fork(),
                )));
            }
            for _ in 0..joiners {
                consuming.push(tokio::spawn(joiner(queue.clone(), rng.fork())));
            }
            let controller = (shutdown != Shutdown::AtEnd).then(|| {
                let (queue, ledger, stats) = (queue.clone(), ledger.clone(), stats.clone());
                tokio::spawn(async move {
                    while ledger.count(|s| &s.received) < shutdown_after
                        && stats.producers_done.load(SeqCst) < producers
                    {
                        tokio::task::yield_now().await;
                    }
                    queue.shutdown(shutdown == Shutdown::Immediate);
                })
            });
            for producer in producing {
                producer.await.expect("a producer does not fail");
            }
            if shutdown == Shutdown::AtEnd {
                // Every accepted item is received and marked done by the
                // consumers: join completes before any shutdown.
                queue.join().await;
            }
            if let Some(controller) = controller {
                controller.await.expect("the controller does not fail");
            }
            queue.shutdown(false);
            for consumer in consuming {
                consumer
                    .await
                    .expect("a consumer (or supervisor) does not fail");
            }
            // Every consumer has ended and marked its items done; whatever is
            // left unfinished was discarded by the immediate shutdown.
            queue.join().await;
        },
        state,
    );
    drop(runtime);
    assert_eq!(queue.qsize(), 0, "{what}: the queue still holds items");
    assert!(queue.get_nowait().unwrap_err().is_shut_down(), "{what}");
    assert_eq!(
        queue.task_done(),
        Err(TaskDoneError::TooManyCalls),
        "{what}: join returned with units left"
    );
    assert_eq!(queue.join().now_or_never(), Some(()), "{what}");
    drop(queue);
    assert_eq!(
        stats.task_done_err.load(SeqCst),
        0,
        "{what}: task_done failed for an item a consumer got: {}",
        stats.summary()
    );
    assert_eq!(
        stats.planned_panics.load(SeqCst),
        stats.seen_panics.load(SeqCst),
        "{what}: a guarded consumer's panic did not reach the task awaiting it"
    );
    verbose(&what, &stats.summary());
    ledger.check(&what, shutdown == Shutdown::Immediate, false);
}

#[test]
fn queue_many_producers_consumers_with_cancelled_puts_and_gets() {
    run_rounds(
        "queue_many_producers_consumers_with_cancelled_puts_and_gets",
        queue_round::<Queue<Item>>,
    );
}

#[test]
fn lifo_queue_many_producers_consumers_with_cancelled_puts_and_gets() {
    run_rounds(
        "lifo_queue_many_producers_consumers_with_cancelled_puts_and_gets",
        queue_round::<LifoQueue<Item>>,
    );
}

#[test]
fn priority_queue_many_producers_consumers_with_cancelled_puts_and_gets() {
    run_rounds(
        "priority_queue_many_producers_consumers_with_cancelled_puts_and_gets",
        queue_round::<PriorityQueue<Item>>,
    );
}

// ----------------------------------------------- scenario 2: streams --

/// A stream consumer in a `select!` loop that sometimes loses the select
/// (its `next()` future is dropped) and sometimes, right after losing,
/// leaves the loop and keeps the stream, idle, until the round is over.
async fn selecting_stream_consumer<Q: StressQueue>(
    queue: Q,
    ledger: Arc<Ledger>,
    stats: Arc<QueueStats>,
    leave_one_in: u64,
    round_over: CancellationToken,
    mut rng: Rng,
) {
    let mut items = queue.stream();
    loop {
        let lose_after = rng.below(3);
        let next = tokio::select! {
            next = items.next() => Some(next),
            () = yields(lose_after) => None,
        };
        match next {
            Some(Some(item)) => consume(&queue, &ledger, &stats, item, &mut rng).await,
            Some(None) => return,
            None => {
                stats.cut_gets.fetch_add(1, SeqCst);
                if rng.chance(1, leave_one_in) {
                    stats.left_keeping_stream.fetch_add(1, SeqCst);
                    break;
                }
            }
        }
    }
    // Busy elsewhere, still holding the stream: it takes nothing, so the
    // other consumers must get every item.
    round_over.cancelled().await;
    drop(items);
}

/// Scenario 2: stream consumers in `select!` loops beside `get` consumers;
/// the final `join` must complete once every item has been processed.
///
/// Pins issue 9 point 1: a `QueueStream` whose `next()` future was dropped
/// kept its place in line, and an item promised to it was never delivered
/// if the stream was not polled again, so `join` hung (fixed in d1d6860,
/// "queue: an idle stream holds no item"). Before the fix this fails within
/// the first few rounds, with `JOIN_DEADLINE`'s message.
fn stream_round<Q: StressQueue>(seed: u64) {
    let mut rng = Rng::new(seed);
    let producers = 1 + rng.upto(2);
    let per_producer = 50 + rng.upto(150);
    let cap = 1 + rng.below(4);
    let stream_consumers = 2 + rng.upto(2);
    let get_consumers = 1 + rng.upto(2);
    let leave_one_in = 2 + rng.below(20);
    let total = producers * per_producer;
    let what = format!(
        "{} stream round (plan {seed:#x}): {producers} producers × {per_producer}, \
         capacity {cap}, {stream_consumers} selecting streams, {get_consumers} get consumers",
        Q::NAME
    );

    let ledger = Ledger::new(total);
    let stats = Arc::new(QueueStats::default());
    let queue = Q::bounded(capacity(cap));
    let round_over = CancellationToken::new();
    let runtime = multi_thread();
    let state = || format!("{}; {}", ledger.summary(), stats.summary());
    block_on_bounded(
        &runtime,
        &what,
        async {
            let mut consuming = Vec::new();
            for _ in 0..stream_consumers {
                let args = (queue.clone(), ledger.clone(), stats.clone());
                consuming.push(tokio::spawn(selecting_stream_consumer(
                    args.0,
                    args.1,
                    args.2,
                    leave_one_in,
                    round_over.clone(),
                    rng.fork(),
                )));
            }
            for _ in 0..get_consumers {
                let args = (queue.clone(), ledger.clone(), stats.clone());
                consuming.push(tokio::spawn(plain_consumer(
                    args.0,
                    args.1,
                    args.2,
                    0,
                    rng.fork(),
                )));
            }
            let mut producing = Vec::new();
            for p in 0..producers {
                producing.push(tokio::spawn(produce(
                    queue.clone(),
                    ledger.clone(),
                    stats.clone(),
                    p * per_producer,
                    per_producer,
                    0,
                    rng.fork(),
                )));
            }
            // Every item put must reach a consumer that processes it: the
            // producers finish (a lost item can fill a small queue for good)
            // and join completes.
            let delivered = async {
                for producer in producing {
                    producer.await.expect("a producer does not fail");
                }
                queue.join().await;
            };
            if tokio::time::timeout(JOIN_DEADLINE, delivered)
                .await
                .is_err()
            {
                let accepted = ledger.count(|s| &s.accepted);
                let received = ledger.count(|s| &s.received);
                let idle = stats.left_keeping_stream.load(SeqCst);
                let diagnosis = if idle > 0 {
                    "An item promised to a stream whose next() future was dropped is never \
                     delivered to the other consumers (issue 9 point 1)."
                } else {
                    "No stream was left idle, so this is not issue 9 point 1."
                };
                panic!(
                    "stress: {what}: the producers and join() did not complete within \
                     {JOIN_DEADLINE:?}: {accepted} items put, {received} received, {} still in \
                     the queue, {} marked done; {idle} stream consumers had left their select! \
                     loop keeping their stream. {diagnosis} {}",
                    queue.qsize(),
                    stats.task_done_ok.load(SeqCst),
                    stats.summary(),
                );
            }
            round_over.cancel();
            queue.shutdown(false);
            for consumer in consuming {
                consumer.await.expect("a consumer does not fail");
            }
        },
        state,
    );
    drop(runtime);
    assert_eq!(
        queue.task_done(),
        Err(TaskDoneError::TooManyCalls),
        "{what}"
    );
    drop(queue);
    assert_eq!(stats.task_done_err.load(SeqCst), 0, "{what}");
    ledger.check(&what, false, false);
}

#[test]
fn stream_consumers_in_select_loops_lose_no_item() {
    run_rounds(
        "stream_consumers_in_select_loops_lose_no_item",
        |seed| match seed % 3 {
            0 => stream_round::<Queue<Item>>(seed),
            1 => stream_round::<LifoQueue<Item>>(seed),
            _ => stream_round::<PriorityQueue<Item>>(seed),
        },
    );
}

// ------------------------------------------------------------- children --

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Value,
    Error,
    Panic,
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    yields: u64,
    end: End,
}

fn plan(rng: &mut Rng, error_pct: u64, panic_pct: u64, max_yields: u64) -> Plan {
    let roll = rng.below(100);
    let end = if roll < panic_pct {
        End::Panic
    } else if roll < panic_pct + error_pct {
        End::Error
    } else {
        End::Value
    };
    Plan {
        yields: rng.below(max_yields + 1),
        end,
    }
}

/// A child's error: its label, so that a hook report names it.
#[derive(Debug)]
struct ChildError(String);

fn value_of(index: usize) -> u64 {
    index as u64 + 1_000_000
}

fn index_of(value: u64) -> usize {
    (value - 1_000_000) as usize
}

/// What happened to each child, and what was observed of it.
#[derive(Default)]
struct ChildSlot {
    started: AtomicUsize,
    ok: AtomicUsize,
    err: AtomicUsize,
    panicked: AtomicUsize,
    dropped: AtomicUsize,
    cancel_requested: AtomicUsize,
    seen_ok: AtomicUsize,
    seen_err: AtomicUsize,
    seen_panic: AtomicUsize,
    seen_cancel: AtomicUsize,
    hook_err: AtomicUsize,
    hook_panic: AtomicUsize,
}

struct Children {
    uid: u64,
    slots: Vec<ChildSlot>,
    anomalies: Mutex<Vec<String>>,
}

/// How strictly a round's children are accounted for.
#[derive(Debug, Clone, Copy)]
struct Rules {
    /// Every child's outcome was observed (nothing was dropped unobserved).
    all_observed: bool,
    /// Every failure nobody observed reached the hook (detached tasks and
    /// task sets); gathers drop such errors quietly (behaviour 32).
    errors_reach_hook: bool,
    /// A cancelled outcome needs a cancel request (no gather or runtime was
    /// dropped under it).
    cancel_needs_request: bool,
}

impl Children {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Self {
            uid: next_uid(),
            slots: (0..n).map(|_| ChildSlot::default()).collect(),
            anomalies: Mutex::new(Vec::new()),
        })
    }

    fn label(&self, index: usize) -> String {
        label(self.uid, index)
    }

    fn anomaly(&self, text: String) {
        self.anomalies.lock().unwrap().push(text);
    }

    /// The child future: records its start and end, and its drop through a
    /// guard created with it (so a child aborted before its first poll is
    /// dropped too).
    fn child(
        self: &Arc<Self>,
        index: usize,
        plan: Plan,
    ) -> impl Future<Output = Result<u64, ChildError>> + Send + 'static {
        self.child_watching(index, plan, None)
    }

    /// A child that, given a token, stops on its own (with an error) once
    /// the token is cancelled: cooperative cancellation with a grace
    /// period.
    fn child_watching(
        self: &Arc<Self>,
        index: usize,
        plan: Plan,
        token: Option<CancellationToken>,
    ) -> impl Future<Output = Result<u64, ChildError>> + Send + 'static {
        let guard = ChildGuard {
            children: self.clone(),
            index,
        };
        async move {
            let slot = &guard.children.slots[index];
            slot.started.fetch_add(1, SeqCst);
            let stopped = match token {
                Some(token) => tokio::select! {
                    () = yields(plan.yields) => false,
                    () = token.cancelled() => true,
                },
                None => {
                    yields(plan.yields).await;
                    false
                }
            };
            if stopped {
                yields(plan.yields % 3).await; // some asynchronous clean-up
                slot.err.fetch_add(1, SeqCst);
                return Err(ChildError(guard.children.label(index)));
            }
            match plan.end {
                End::Value => {
                    slot.ok.fetch_add(1, SeqCst);
                    Ok(value_of(index))
                }
                End::Error => {
                    slot.err.fetch_add(1, SeqCst);
                    Err(ChildError(guard.children.label(index)))
                }
                End::Panic => {
                    slot.panicked.fetch_add(1, SeqCst);
                    panic!("{PLANNED}: child {}", guard.children.label(index))
                }
            }
        }
    }

    /// Records an outcome the awaiting side saw for child `index`.
    fn observe(&self, index: usize, outcome: &Result<u64, TaskError<ChildError>>) {
        let Some(slot) = self.slots.get(index) else {
            self.anomaly(format!(
                "an outcome for child {index}, which does not exist"
            ));
            return;
        };
        match outcome {
            Ok(value) => {
                if *value != value_of(index) {
                    self.anomaly(format!(
                        "child {index} yielded another child's value {value}"
                    ));
                }
                slot.seen_ok.fetch_add(1, SeqCst);
            }
            Err(TaskError::Failed(ChildError(text))) => {
                if parse_label(text) != Some((self.uid, index)) {
                    self.anomaly(format!("child {index} failed with another's error {text}"));
                }
                slot.seen_err.fetch_add(1, SeqCst);
            }
            Err(TaskError::Panicked(panic)) => self.observe_panic(index, panic.message()),
            Err(TaskError::Cancelled) => {
                slot.seen_cancel.fetch_add(1, SeqCst);
            }
        }
    }

    /// Records a panic the awaiting side saw (resumed, or as a value).
    fn observe_panic(&self, index: usize, message: &str) {
        if parse_label(message) != Some((self.uid, index)) {
            self.anomaly(format!(
                "child {index} panicked with another's message {message}"
            ));
        }
        if let Some(slot) = self.slots.get(index) {
            slot.seen_panic.fetch_add(1, SeqCst);
        }
    }

    /// Records a panic resumed in the awaiting task, found by its label.
    fn observe_resumed(&self, payload: &(dyn std::any::Any + Send)) {
        let message = payload_text(payload).unwrap_or("<not a string>");
        match parse_label(message) {
            Some((uid, index)) if uid == self.uid => self.observe_panic(index, message),
            _ => self.anomaly(format!("a panic that is no child's was resumed: {message}")),
        }
    }

    fn dropped(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.dropped.load(SeqCst) > 0)
            .count()
    }

    fn all_dropped(&self) -> bool {
        self.dropped() == self.slots.len()
    }

    fn summary(&self) -> String {
        let sum = |f: fn(&ChildSlot) -> &AtomicUsize| -> usize {
            self.slots.iter().map(|s| f(s).load(SeqCst)).sum()
        };
        format!(
            "{} children: started {}, ok {}, err {}, panicked {}, dropped {}, cancel requested {}; \
             seen ok {} err {} panic {} cancel {}; hook err {} panic {}",
            self.slots.len(),
            sum(|s| &s.started),
            sum(|s| &s.ok),
            sum(|s| &s.err),
            sum(|s| &s.panicked),
            sum(|s| &s.dropped),
            sum(|s| &s.cancel_requested),
            sum(|s| &s.seen_ok),
            sum(|s| &s.seen_err),
            sum(|s| &s.seen_panic),
            sum(|s| &s.seen_cancel),
            sum(|s| &s.hook_err),
            sum(|s| &s.hook_panic),
        )
    }

    /// The accounting every round with children ends with, once the
    /// runtime is gone (so every hook report has been made).
    fn check(&self, what: &str, rules: Rules) {
        for (kind, index) in take_reports(self.uid) {
            match self.slots.get(index) {
                Some(slot) => match kind {
                    Reported::Failed => slot.hook_err.fetch_add(1, SeqCst),
                    Reported::Panicked => slot.hook_panic.fetch_add(1, SeqCst),
                },
                None => {
                    self.anomaly(format!(
                        "a hook report for child {index}, which does not exist"
                    ));
                    0
                }
            };
        }
        let mut problems = self.anomalies.lock().unwrap().clone();
        for (i, s) in self.slots.iter().enumerate() {
            let [started, ok, err, panicked, dropped, requested] = [
                &s.started,
                &s.ok,
                &s.err,
                &s.panicked,
                &s.dropped,
                &s.cancel_requested,
            ]
            .map(|a| a.load(SeqCst));
            let [seen_ok, seen_err, seen_panic, seen_cancel, hook_err, hook_panic] = [
                &s.seen_ok,
                &s.seen_err,
                &s.seen_panic,
                &s.seen_cancel,
                &s.hook_err,
                &s.hook_panic,
            ]
            .map(|a| a.load(SeqCst));
            let ended = ok + err + panicked;
            let seen = seen_ok + seen_err + seen_panic + seen_cancel;
            if dropped != 1 {
                problems.push(format!(
                    "child {i}'s future was dropped {dropped} times (0: leaked or still running)"
                ));
            }
            if started > 1 || ended > 1 || (ended == 1 && started == 0) {
                problems.push(format!(
                    "child {i} started {started} times and ended {ended} times"
                ));
            }
            if seen > 1 {
                problems.push(format!("child {i}'s outcome was observed {seen} times"));
            }
            if rules.all_observed && seen != 1 {
                problems.push(format!("child {i}'s outcome was never observed"));
            }
            if seen_ok > ok || seen_err > err {
                problems.push(format!(
                    "child {i} was observed ok {seen_ok} / failed {seen_err} \
                     but ended ok {ok} / failed {err}"
                ));
            }
            if seen_cancel == 1 && ended != 0 {
                problems.push(format!(
                    "child {i} was observed cancelled after it ended (completion beats cancellation)"
                ));
            }
            if seen_cancel == 1 && rules.cancel_needs_request && requested == 0 {
                problems.push(format!(
                    "child {i} was observed cancelled, but nobody cancelled it"
                ));
            }
            if seen_panic + hook_panic != panicked {
                problems.push(format!(
                    "child {i} panicked {panicked} times; the awaiting side saw {seen_panic} \
                     and the hook {hook_panic} (a panic must reach exactly one)"
                ));
            }
            if hook_err > err || (hook_err == 1 && seen_err == 1) {
                problems.push(format!(
                    "child {i}: the hook got {hook_err} errors, the awaiting side {seen_err}, \
                     but it failed {err} times"
                ));
            }
            if rules.errors_reach_hook && seen_err + hook_err != err {
                problems.push(format!(
                    "child {i} failed {err} times; the awaiting side saw {seen_err} \
                     and the hook {hook_err} (an unobserved failure must reach the hook)"
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "stress: {what}: {} accounting problems (first 20): {:#?}\n{}",
            problems.len(),
            &problems[..problems.len().min(20)],
            self.summary()
        );
        verbose(what, &self.summary());
    }
}

struct ChildGuard {
    children: Arc<Children>,
    index: usize,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.children.slots[self.index].dropped.fetch_add(1, SeqCst);
    }
}

/// Cancels some of `handles` after random numbers of yields, recording each
/// request before it is made.
fn spawn_canceller(children: &Arc<Children>, handles: Vec<(usize, CancelHandle)>, rng: &mut Rng) {
    let children = children.clone();
    let mut rng = rng.fork();
    tokio::spawn(async move {
        for (index, handle) in handles {
            yields(rng.below(4)).await;
            children.slots[index].cancel_requested.fetch_add(1, SeqCst);
            handle.cancel();
        }
    });
}

// ---------------------------------------------- scenario 3: gather --

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GatherMode {
    FailFast,
    CancelSiblings,
    ReturnExceptions,
    /// Fail-fast, cut short with `cancel().await` instead of a drop.
    CancelAwaited,
}

/// Scenario 3: a gather of many children (some failing, panicking, slow,
/// cancelled from outside), awaited or dropped mid-flight.
fn gather_round(seed: u64) {
    let mut rng = Rng::new(seed);
    let n = 1 + rng.upto(23);
    let error_pct = [0, 5, 20][rng.upto(2)];
    let panic_pct = [0, 5, 15][rng.upto(2)];
    let mode = [
        GatherMode::FailFast,
        GatherMode::CancelSiblings,
        GatherMode::ReturnExceptions,
        GatherMode::CancelAwaited,
    ][rng.upto(3)];
    let as_tasks = rng.chance(1, 2);
    let cancels = if as_tasks { rng.upto(3) } else { 0 };
    let cut_after = (mode == GatherMode::CancelAwaited || rng.chance(1, 3)).then(|| rng.below(8));
    let grace = (mode != GatherMode::ReturnExceptions && rng.chance(1, 3))
        .then(|| Duration::from_micros(rng.below(500)));
    let runtime = runtime(&mut rng);
    let children = Children::new(n);
    let what = format!(
        "gather round (plan {seed:#x}): {n} children (as {}, {cancels} cancelled), \
         errors {error_pct}%, panics {panic_pct}%, {mode:?}, cut after {cut_after:?} yields, \
         grace {grace:?}",
        if as_tasks { "tasks" } else { "futures" }
    );
    let plans: Vec<Plan> = (0..n)
        .map(|_| plan(&mut rng, error_pct, panic_pct, 6))
        .collect();
    let mut task_rng = rng.fork();

    let outcome = block_on_bounded(
        &runtime,
        &what,
        {
            let children = children.clone();
            async move {
                // The gather runs in its own task, so that a resumed panic is
                // caught at that task's boundary.
                tokio::spawn(async move {
                    let token = CancellationToken::new();
                    let watching = grace.map(|_| token.clone());
                    let child = |i: usize| children.child_watching(i, plans[i], watching.clone());
                    let gather = if as_tasks {
                        let tasks: Vec<_> = (0..n).map(|i| asyncio::try_spawn(child(i))).collect();
                        let handles = (0..cancels)
                            .map(|_| {
                                let i = task_rng.below(n as u64) as usize;
                                (i, tasks[i].cancel_handle())
                            })
                            .collect();
                        spawn_canceller(&children, handles, &mut task_rng);
                        asyncio::try_gather(tasks)
                    } else {
                        asyncio::try_gather((0..n).map(|i| child(i).boxed()))
                    };
                    let gather = match grace {
                        Some(grace) => gather.with_grace(token, grace),
                        None => gather,
                    };
                    drive_gather(&children, gather, mode, cut_after).await
                })
                .await
                .expect("the task driving the gather catches every panic")
            }
        },
        || children.summary(),
    );
    drop(runtime);
    if let GatherSeen::Problem(problem) = &outcome {
        panic!("stress: {what}: {problem}\n{}", children.summary());
    }
    let dropped_mid_flight = matches!(outcome, GatherSeen::Dropped);
    children.check(
        &what,
        Rules {
            all_observed: matches!(outcome, GatherSeen::Values | GatherSeen::Outcomes),
            errors_reach_hook: false,
            cancel_needs_request: !dropped_mid_flight,
        },
    );
}

/// What the task that drove a gather saw; outcomes are recorded in the
/// children's ledger as they are seen.
#[derive(Debug)]
enum GatherSeen {
    /// `Ok(values)`: every child's outcome seen.
    Values,
    /// `return_exceptions`: every child's outcome seen.
    Outcomes,
    /// A failure or panic, after which the gather joined every child
    /// (cancel-siblings, or a panic): every other outcome unseen.
    Joined,
    /// A fail-fast failure: siblings run on, detached.
    FailedFast,
    /// Dropped, or cancelled with `cancel().await`, mid-flight.
    Dropped,
    /// A structured guarantee was broken.
    Problem(String),
}

async fn drive_gather(
    children: &Arc<Children>,
    gather: asyncio::Gather<u64, ChildError>,
    mode: GatherMode,
    cut_after: Option<u64>,
) -> GatherSeen {
    let structured = |seen: GatherSeen| {
        // A gather that joined its children returns only after every child's
        // future has been dropped (SPEC decision 5).
        if children.all_dropped() {
            seen
        } else {
            GatherSeen::Problem(format!(
                "{seen:?}: the gather returned while {} children had not been dropped",
                children.slots.len() - children.dropped()
            ))
        }
    };
    if mode == GatherMode::ReturnExceptions {
        let mut gather = gather.return_exceptions().into_future();
        let outcomes = match cut_after {
            Some(k) => tokio::select! {
                biased;
                outcomes = &mut gather => outcomes,
                () = yields(k) => return GatherSeen::Dropped,
            },
            None => gather.await,
        };
        if outcomes.len() != children.slots.len() {
            return GatherSeen::Problem(format!("{} outcomes", outcomes.len()));
        }
        for (i, outcome) in outcomes.iter().enumerate() {
            children.observe(i, outcome);
        }
        return structured(GatherSeen::Outcomes);
    }
    let mut gather = if mode == GatherMode::CancelSiblings {
        gather.cancel_siblings()
    } else {
        gather
    }
    .into_future();
    let awaited = AssertUnwindSafe(async {
        match cut_after {
            Some(k) => tokio::select! {
                biased;
                result = &mut gather => Some(result),
                () = yields(k) => None,
            },
            None => Some((&mut gather).await),
        }
    })
    .catch_unwind()
    .await;
    match awaited {
        Err(payload) => {
            children.observe_resumed(&*payload);
            structured(GatherSeen::Joined)
        }
        Ok(None) if mode == GatherMode::CancelAwaited => {
            gather.cancel().await;
            structured(GatherSeen::Dropped)
        }
        Ok(None) => GatherSeen::Dropped,
        Ok(Some(Ok(values))) => {
            if values.len() != children.slots.len() {
                return GatherSeen::Problem(format!("{} values", values.len()));
            }
            for (i, value) in values.into_iter().enumerate() {
                children.observe(i, &Ok(value));
            }
            structured(GatherSeen::Values)
        }
        Ok(Some(Err(error))) => {
            let index = error.index;
            let error = error.into_error();
            if error.is_panic() {
                return GatherSeen::Problem(format!(
                    "a fail-fast gather returned child {index}'s panic instead of resuming it"
                ));
            }
            children.observe(index, &Err(error));
            if mode == GatherMode::CancelSiblings {
                structured(GatherSeen::Joined)
            } else {
                GatherSeen::FailedFast
            }
        }
    }
}

#[test]
fn gathers_dropped_mid_flight_account_for_every_child_and_panic() {
    run_rounds(
        "gathers_dropped_mid_flight_account_for_every_child_and_panic",
        gather_round,
    );
}

/// A nested gather's outcome, as the outer gather sees one inner gather.
type Inner = Result<Vec<u64>, asyncio::GatherError<ChildError>>;

/// Records what an inner gather yielded: its values, or the leaf that
/// failed (a cancelled leaf needs no record: nobody cancels leaves here).
fn observe_inner(children: &Children, first: usize, inner: Inner) {
    match inner {
        Ok(values) => {
            for value in values {
                children.observe(index_of(value), &Ok(value));
            }
        }
        Err(error) => {
            let index = first + error.index;
            children.observe(index, &Err(error.into_error()));
        }
    }
}

/// Records how one inner gather ended, seen from the outer gather with
/// `return_exceptions`.
fn observe_inner_outcome(
    children: &Children,
    first: usize,
    outcome: Result<Inner, TaskError<std::convert::Infallible>>,
) {
    match outcome {
        Ok(inner) => observe_inner(children, first, inner),
        // The inner gather resumed a leaf's panic: the payload names it.
        Err(TaskError::Panicked(panic)) => children.observe_resumed(&*panic.into_payload()),
        Err(other) => children.anomaly(format!("inner gather {first}.. ended {other:?}")),
    }
}

/// Scenario 3b: gathers of gathers (behaviour 28's cascade), the outer one
/// awaited, cut short or collecting outcomes; leaves fail and panic.
fn nested_gather_round(seed: u64) {
    let mut rng = Rng::new(seed);
    let inners = 1 + rng.upto(5);
    let per_inner = 1 + rng.upto(6);
    let n = inners * per_inner;
    let error_pct = [0, 5, 15][rng.upto(2)];
    let panic_pct = [0, 5, 15][rng.upto(2)];
    let inner_cancel_siblings = rng.chance(1, 2);
    let outer_return_exceptions = rng.chance(1, 3);
    let cut_after = rng.chance(1, 2).then(|| rng.below(10));
    let runtime = runtime(&mut rng);
    let children = Children::new(n);
    let what = format!(
        "nested gather round (plan {seed:#x}): {inners} gathers × {per_inner}, errors \
         {error_pct}%, panics {panic_pct}%, inner cancel_siblings {inner_cancel_siblings}, \
         outer return_exceptions {outer_return_exceptions}, cut after {cut_after:?} yields"
    );
    let plans: Vec<Plan> = (0..n)
        .map(|_| plan(&mut rng, error_pct, panic_pct, 6))
        .collect();

    let all_seen = block_on_bounded(
        &runtime,
        &what,
        {
            let children = children.clone();
            async move {
                tokio::spawn(async move {
                    let inner_gathers: Vec<_> = (0..inners)
                        .map(|g| {
                            let leaves: Vec<_> = (g * per_inner..(g + 1) * per_inner)
                                .map(|i| children.child(i, plans[i]).boxed())
                                .collect();
                            let inner = asyncio::try_gather(leaves);
                            if inner_cancel_siblings {
                                inner.cancel_siblings()
                            } else {
                                inner
                            }
                        })
                        .collect();
                    let outer = asyncio::gather(inner_gathers);
                    if outer_return_exceptions {
                        let mut outer = outer.return_exceptions().into_future();
                        let outcomes = match cut_after {
                            Some(k) => tokio::select! {
                                biased;
                                outcomes = &mut outer => outcomes,
                                () = yields(k) => return false,
                            },
                            None => outer.await,
                        };
                        for (g, outcome) in outcomes.into_iter().enumerate() {
                            observe_inner_outcome(&children, g * per_inner, outcome);
                        }
                        return false;
                    }
                    let mut outer = outer.into_future();
                    let awaited = AssertUnwindSafe(async {
                        match cut_after {
                            Some(k) => tokio::select! {
                                biased;
                                result = &mut outer => Some(result),
                                () = yields(k) => None,
                            },
                            None => Some((&mut outer).await),
                        }
                    })
                    .catch_unwind()
                    .await;
                    match awaited {
                        Err(payload) => children.observe_resumed(&*payload),
                        Ok(None) => {}
                        Ok(Some(Ok(inners))) => {
                            // If every inner gather succeeded, every leaf
                            // finished: each leaf's future has been dropped.
                            let every_leaf = inners.iter().all(Result::is_ok);
                            if every_leaf && !children.all_dropped() {
                                children.anomaly(format!(
                                    "the outer gather returned every value while {} leaves \
                                     had not been dropped",
                                    children.slots.len() - children.dropped()
                                ));
                            }
                            for (g, inner) in inners.into_iter().enumerate() {
                                observe_inner(&children, g * per_inner, inner);
                            }
                            return every_leaf;
                        }
                        Ok(Some(Err(error))) => {
                            // With gather (not try_gather) the outer children
                            // cannot fail, and nobody cancels them.
                            let error = error.into_error();
                            children.anomaly(format!("the outer gather failed: {error:?}"));
                        }
                    }
                    false
                })
                .await
                .expect("the task driving the gather catches every panic")
            }
        },
        || children.summary(),
    );
    drop(runtime);
    children.check(
        &what,
        Rules {
            all_observed: all_seen,
            errors_reach_hook: false,
            cancel_needs_request: true,
        },
    );
}

#[test]
fn nested_gathers_dropped_mid_flight_account_for_every_leaf_and_panic() {
    run_rounds(
        "nested_gathers_dropped_mid_flight_account_for_every_leaf_and_panic",
        nested_gather_round,
    );
}

// ------------------------------------ scenario 4: TaskSet, wait, as_completed --

fn pick_return_when(rng: &mut Rng) -> ReturnWhen {
    [
        ReturnWhen::FirstCompleted,
        ReturnWhen::FirstException,
        ReturnWhen::AllCompleted,
    ][rng.upto(2)]
}

/// Reads a finished task's outcome into the ledger.
fn observe_task(
    children: &Children,
    ids: &HashMap<TaskId, usize>,
    task: asyncio::Task<u64, ChildError>,
) {
    let Some(&index) = ids.get(&task.id()) else {
        children.anomaly(format!("a task that is no child: {:?}", task.id()));
        return;
    };
    match task.try_outcome() {
        Ok(outcome) => children.observe(index, &outcome),
        Err(_) => children.anomaly(format!("child {index} came out of wait unfinished")),
    }
}

/// Scenario 4a: a TaskSet drained with `wait` and `next_completed`, the
/// waits cut short at random, tasks cancelled from outside or with
/// `cancel_all`, and the set itself dropped mid-way in some rounds.
fn task_set_round(seed: u64) {
    let mut rng = Rng::new(seed);
    let n = 1 + rng.upto(31);
    let error_pct = [0, 10, 25][rng.upto(2)];
    let panic_pct = [0, 10, 25][rng.upto(2)];
    let cut_pct = [0, 30, 70][rng.upto(2)];
    let cancels = rng.upto(3);
    let cancel_all_at = rng.chance(1, 5).then(|| rng.below(n as u64));
    let drop_set_at = rng.chance(1, 4).then(|| rng.below(n as u64));
    let runtime = runtime(&mut rng);
    let children = Children::new(n);
    let what = format!(
        "task set round (plan {seed:#x}): {n} children, errors {error_pct}%, \
         panics {panic_pct}%, waits cut {cut_pct}%, {cancels} cancelled, cancel_all at \
         {cancel_all_at:?}, set dropped at {drop_set_at:?}"
    );
    let plans: Vec<Plan> = (0..n)
        .map(|_| plan(&mut rng, error_pct, panic_pct, 8))
        .collect();

    let dropped_set = block_on_bounded(
        &runtime,
        &what,
        {
            let children = children.clone();
            async move {
                let mut set = TaskSet::new();
                let mut ids = HashMap::new();
                let mut handles = Vec::new();
                for (i, plan) in plans.into_iter().enumerate() {
                    if rng.chance(1, 2) {
                        ids.insert(set.try_spawn(children.child(i, plan)).id(), i);
                    } else {
                        let task = asyncio::try_spawn(children.child(i, plan));
                        ids.insert(task.id(), i);
                        handles.push((i, task.cancel_handle()));
                        set.insert(task);
                    }
                }
                let handles = handles.into_iter().take(cancels).collect();
                spawn_canceller(&children, handles, &mut rng);
                let mut iteration = 0;
                while !set.is_empty() {
                    if Some(iteration) == drop_set_at {
                        drop(set);
                        return true;
                    }
                    if Some(iteration) == cancel_all_at {
                        for slot in &children.slots {
                            slot.cancel_requested.fetch_add(1, SeqCst);
                        }
                        set.cancel_all();
                    }
                    iteration += 1;
                    let how = How::pick(&mut rng, cut_pct);
                    if rng.chance(1, 3) {
                        if let Ok(next) = drive(how, set.next_completed()).await {
                            let task = next.expect("a non-empty set yields a task");
                            observe_task(&children, &ids, task);
                        }
                        continue;
                    }
                    let return_when = pick_return_when(&mut rng);
                    let timeout = rng
                        .chance(1, 4)
                        .then(|| Duration::from_micros(rng.below(200)));
                    let waited =
                        drive(how, Box::pin(asyncio::wait(&mut set, return_when, timeout))).await;
                    if let Ok(done) = waited {
                        for task in done.expect("the set is not empty") {
                            observe_task(&children, &ids, task);
                        }
                    }
                }
                false
            }
        },
        || children.summary(),
    );
    drop(runtime);
    children.check(
        &what,
        Rules {
            all_observed: !dropped_set,
            errors_reach_hook: true,
            // Dropping the set cancels what it spawned, unobserved; only
            // observed cancellations must have been asked for.
            cancel_needs_request: true,
        },
    );
}

#[test]
fn task_set_waits_cut_short_account_for_every_task() {
    run_rounds(
        "task_set_waits_cut_short_account_for_every_task",
        task_set_round,
    );
}

/// Scenario 4b: `as_completed` over tasks, its `next()` cut short at random,
/// with a timeout in some rounds (the rest drained from `into_set`), and
/// the stream dropped mid-way in others (the tasks are detached).
fn as_completed_round(seed: u64) {
    let mut rng = Rng::new(seed);
    let n = 1 + rng.upto(31);
    let error_pct = [0, 10, 25][rng.upto(2)];
    let panic_pct = [0, 10, 25][rng.upto(2)];
    let cut_pct = [0, 30, 70][rng.upto(2)];
    let cancels = rng.upto(3);
    let timeout = rng
        .chance(1, 3)
        .then(|| Duration::from_micros(rng.below(300)));
    let drop_at = rng.chance(1, 4).then(|| rng.below(n as u64));
    let runtime = runtime(&mut rng);
    let children = Children::new(n);
    let what = format!(
        "as_completed round (plan {seed:#x}): {n} children, errors {error_pct}%, \
         panics {panic_pct}%, next() cut {cut_pct}%, {cancels} cancelled, timeout {timeout:?}, \
         dropped at {drop_at:?}"
    );
    let plans: Vec<Plan> = (0..n)
        .map(|_| plan(&mut rng, error_pct, panic_pct, 8))
        .collect();

    let dropped = block_on_bounded(
        &runtime,
        &what,
        {
            let children = children.clone();
            async move {
                let tasks: Vec<_> = plans
                    .into_iter()
                    .enumerate()
                    .map(|(i, plan)| asyncio::try_spawn(children.child(i, plan)))
                    .collect();
                let ids: HashMap<TaskId, usize> =
                    tasks.iter().enumerate().map(|(i, t)| (t.id(), i)).collect();
                let handles = tasks
                    .iter()
                    .enumerate()
                    .take(cancels)
                    .map(|(i, t)| (i, t.cancel_handle()))
                    .collect();
                spawn_canceller(&children, handles, &mut rng);
                let mut stream = asyncio::as_completed(tasks, timeout);
                let mut timed_out = Vec::new();
                let mut iteration = 0;
                loop {
                    if Some(iteration) == drop_at {
                        drop(stream);
                        return true;
                    }
                    iteration += 1;
                    let how = How::pick(&mut rng, cut_pct);
                    match drive(how, stream.next()).await {
                        Err(_cut) => {}
                        Ok(None) => break,
                        Ok(Some(Ok(value))) => children.observe(index_of(value), &Ok(value)),
                        Ok(Some(Err(AsCompletedError::Child { index, error }))) => {
                            children.observe(index, &Err(error))
                        }
                        Ok(Some(Err(AsCompletedError::TimedOut { index }))) => {
                            timed_out.push(index)
                        }
                        Ok(Some(Err(other))) => {
                            children.anomaly(format!("unknown as_completed item {other:?}"))
                        }
                    }
                }
                // The children that timed out were not cancelled: they are
                // still in the set, and finish there.
                let mut set = stream.into_set();
                if set.len() != timed_out.len() {
                    children.anomaly(format!(
                        "{} children timed out but {} are left in the set",
                        timed_out.len(),
                        set.len()
                    ));
                }
                while !set.is_empty() {
                    let done = asyncio::wait(&mut set, ReturnWhen::AllCompleted, None)
                        .await
                        .expect("the set is not empty");
                    for task in done {
                        observe_task(&children, &ids, task);
                    }
                }
                false
            }
        },
        || children.summary(),
    );
    drop(runtime);
    children.check(
        &what,
        Rules {
            all_observed: !dropped,
            errors_reach_hook: true,
            cancel_needs_request: true,
        },
    );
}

#[test]
fn as_completed_cut_short_or_dropped_accounts_for_every_task() {
    run_rounds(
        "as_completed_cut_short_or_dropped_accounts_for_every_task",
        as_completed_round,
    );
}

// ------------------------------- scenario 5: runtimes dropped mid-flight --

#[derive(Debug, Clone, Copy)]
enum RuntimeEnd {
    Drop,
    ShutdownBackground,
    ShutdownTimeoutZero,
}

/// Scenario 5: queue work, gathers, task sets and detached tasks in flight
/// when the runtime goes away. Every child future and item must be dropped
/// exactly once, every panic must have reached exactly one observer, and the
/// queue's unfinished count must match what was accepted and not yet done.
fn runtime_drop_round(seed: u64) {
    let mut rng = Rng::new(seed);
    let current_thread = rng.chance(1, 3);
    let end = [
        RuntimeEnd::Drop,
        RuntimeEnd::ShutdownBackground,
        RuntimeEnd::ShutdownTimeoutZero,
    ][rng.upto(2)];
    let run_for = rng.below(300);
    let producers = 1 + rng.upto(3);
    let per_producer = 20 + rng.upto(100);
    let cap = 1 + rng.below(6);
    let gathers = rng.upto(3);
    let per_gather = 1 + rng.upto(10);
    let set_children = rng.upto(12);
    let detached = rng.upto(8);
    let n = gathers * per_gather + set_children + detached;
    let what = format!(
        "runtime drop round (plan {seed:#x}): {} runtime ended by {end:?} after {run_for} \
         yields; {producers} producers × {per_producer} (capacity {cap}); {gathers} gathers × \
         {per_gather}; {set_children} in a task set; {detached} detached",
        if current_thread {
            "current-thread"
        } else {
            "multi-thread"
        }
    );

    // The runtime's threads, counted: a runtime shut down in the background
    // goes on running (and reporting to the hook) on them for a while.
    let (started_threads, live_threads) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut builder = if current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    };
    let runtime = builder
        .enable_all()
        .on_thread_start({
            let (started, live) = (started_threads.clone(), live_threads.clone());
            move || {
                started.fetch_add(1, SeqCst);
                live.fetch_add(1, SeqCst);
            }
        })
        .on_thread_stop({
            let live = live_threads.clone();
            move || {
                live.fetch_sub(1, SeqCst);
            }
        })
        .build()
        .unwrap();
    let workers = if current_thread { 0 } else { 2 };
    let ledger = Ledger::new(producers * per_producer);
    let stats = Arc::new(QueueStats::default());
    let queue = Queue::bounded(capacity(cap));
    let children = Children::new(n);
    // Held by every spawned future: when only ours is left, the runtime has
    // dropped every task.
    let in_flight = Arc::new(());
    let plans: Vec<Plan> = (0..n).map(|_| plan(&mut rng, 15, 15, 40)).collect();

    runtime.block_on(async {
        let spawn = |future: std::pin::Pin<Box<dyn Future<Output = ()> + Send>>| {
            let token = in_flight.clone();
            tokio::spawn(async move {
                let _token = token;
                future.await;
            })
        };
        for p in 0..producers {
            spawn(Box::pin(produce(
                queue.clone(),
                ledger.clone(),
                stats.clone(),
                p * per_producer,
                per_producer,
                20,
                rng.fork(),
            )));
        }
        for _ in 0..2 {
            spawn(Box::pin(plain_consumer(
                queue.clone(),
                ledger.clone(),
                stats.clone(),
                20,
                rng.fork(),
            )));
            spawn(Box::pin(guarded_supervisor(
                queue.clone(),
                ledger.clone(),
                stats.clone(),
                20,
                10,
                rng.fork(),
            )));
        }
        let mut next_child = 0;
        for g in 0..gathers {
            let range = next_child..next_child + per_gather;
            next_child = range.end;
            let children = children.clone();
            let futures: Vec<_> = range
                .clone()
                .map(|i| children.child(i, plans[i]).boxed())
                .collect();
            let return_exceptions = g % 2 == 1;
            spawn(Box::pin(async move {
                let gather = asyncio::try_gather(futures);
                if return_exceptions {
                    let outcomes = gather.return_exceptions().await;
                    for (i, outcome) in range.zip(&outcomes) {
                        children.observe(i, outcome);
                    }
                    return;
                }
                match AssertUnwindSafe(gather.into_future()).catch_unwind().await {
                    Ok(Ok(values)) => {
                        for value in values {
                            children.observe(index_of(value), &Ok(value));
                        }
                    }
                    Ok(Err(error)) => {
                        let index = range.start + error.index;
                        children.observe(index, &Err(error.into_error()));
                    }
                    Err(payload) => children.observe_resumed(&*payload),
                }
            }));
        }
        {
            let range = next_child..next_child + set_children;
            next_child = range.end;
            let children = children.clone();
            let mut set = TaskSet::new();
            let mut ids = HashMap::new();
            for i in range {
                ids.insert(set.try_spawn(children.child(i, plans[i])).id(), i);
            }
            spawn(Box::pin(async move {
                while !set.is_empty() {
                    let done = asyncio::wait(&mut set, ReturnWhen::FirstCompleted, None)
                        .await
                        .expect("the set is not empty");
                    for task in done {
                        observe_task(&children, &ids, task);
                    }
                }
            }));
        }
        for (i, plan) in plans.iter().enumerate().skip(next_child) {
            asyncio::try_spawn(children.child(i, *plan)).detach();
        }
        yields(run_for).await;
    });
    match end {
        RuntimeEnd::Drop => drop(runtime),
        RuntimeEnd::ShutdownBackground => runtime.shutdown_background(),
        RuntimeEnd::ShutdownTimeoutZero => runtime.shutdown_timeout(Duration::ZERO),
    }
    // A runtime shut down in the background drops its tasks on its own
    // threads, where a child that was running may still panic and report
    // it: wait (bounded) until those threads have stopped. Then every task
    // must have been dropped.
    let deadline = Instant::now() + ROUND_DEADLINE;
    while started_threads.load(SeqCst) < workers || live_threads.load(SeqCst) > 0 {
        assert!(
            Instant::now() < deadline,
            "stress: {what}: the runtime's threads never stopped"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    if Arc::strong_count(&in_flight) > 1 || Arc::strong_count(&stats) > 1 || !children.all_dropped()
    {
        panic!(
            "stress: {what}: tasks outlived their runtime's threads: {} tasks; {}",
            Arc::strong_count(&in_flight) - 1,
            children.summary()
        );
    }
    // The queue outlives the runtime. Its unfinished count must be exactly
    // what is left in it plus what was got and not yet marked done: settle
    // both, and join must be ready with nothing left to mark done.
    while let Ok(item) = queue.get_nowait() {
        let tag = item.claim();
        ledger.slot(tag).drained.fetch_add(1, SeqCst);
        assert_eq!(
            queue.task_done(),
            Ok(()),
            "{what}: a drained item has no unit"
        );
    }
    for _ in 0..stats.outstanding.load(SeqCst) {
        assert_eq!(
            queue.task_done(),
            Ok(()),
            "{what}: an item got but not marked done has no unit"
        );
    }
    assert_eq!(
        queue.join().now_or_never(),
        Some(()),
        "{what}: join still waits once every item is settled: {}; {}",
        ledger.summary(),
        stats.summary()
    );
    assert_eq!(
        queue.task_done(),
        Err(TaskDoneError::TooManyCalls),
        "{what}"
    );
    drop(queue);
    assert_eq!(stats.task_done_err.load(SeqCst), 0, "{what}");
    ledger.check(&what, false, true);
    children.check(
        &what,
        Rules {
            all_observed: false,
            // A gather's fail-fast siblings drop their errors quietly.
            errors_reach_hook: gathers == 0,
            cancel_needs_request: false,
        },
    );
}

#[test]
fn runtimes_dropped_with_work_in_flight_lose_and_duplicate_nothing() {
    run_rounds(
        "runtimes_dropped_with_work_in_flight_lose_and_duplicate_nothing",
        runtime_drop_round,
    );
}

// ------------------------------------------------- scenario 6: TaskGroup --

/// A task group round's error type: a leaf's own error, or a nested
/// group's error relayed whole by the child (or body) that ran it, so that
/// each leaf error can be found exactly once in the outermost error.
#[derive(Debug)]
enum GroupFailure {
    Leaf(ChildError),
    Inner(TaskGroupError<GroupFailure>),
}

type GroupHandle = TaskGroupHandle<GroupFailure>;
type GroupFuture = BoxFuture<'static, Result<u64, GroupFailure>>;

/// One spawned leaf: a planned child (`Children::child_watching`), which may
/// first spawn grandchildren into its group through a cloned handle, and
/// cancel its group.
#[derive(Debug, Clone)]
struct LeafSpec {
    index: usize,
    plan: Plan,
    /// Watches the group's token (and stops with an error when it fires).
    watch: bool,
    /// Yields before it spawns its grandchildren (and cancels the group).
    delay: u64,
    grandchildren: Vec<LeafSpec>,
    /// Calls its group's `cancel()` after this many more yields.
    cancel_group: Option<u64>,
    /// Cancelled from outside, through its task, after this many yields.
    cancel_task: Option<u64>,
}

/// What a group body (or the code that fills a body-less group) spawns.
#[derive(Debug, Clone)]
enum Spawned {
    Leaf(LeafSpec),
    /// A child that runs a nested scoped group.
    Nested {
        index: usize,
        group: Box<GroupSpec>,
    },
}

#[derive(Debug, Clone)]
struct BodySpec {
    index: usize,
    plan: Plan,
}

/// One group: its number (for its `cancel()` count), its grace period, its
/// body (none for a body-less group), and what is spawned into it.
#[derive(Debug, Clone)]
struct GroupSpec {
    number: usize,
    grace: Option<Duration>,
    body: Option<BodySpec>,
    spawned: Vec<(u64, Spawned)>,
    /// The body (or the filling code) calls `cancel()` after spawning,
    /// after this many yields.
    cancel_group: Option<u64>,
    /// A group run inline by the body (awaited, not spawned): its error is
    /// the body's.
    inline: Option<(usize, Box<GroupSpec>)>,
}

/// What a task group round shares with its children.
struct GroupCtx {
    children: Arc<Children>,
    /// Every task a spawn returned, with its child's index.
    tasks: Mutex<Vec<(usize, asyncio::Task<u64, InGroup>)>>,
    /// Every spawned child's id, to check the origins in a group error.
    ids: Mutex<HashMap<usize, TaskId>>,
    /// `cancel()` calls made on each group, by number.
    cancels: Vec<AtomicUsize>,
    /// The round may drop the outer group (or its runtime) mid-flight, so
    /// a spawn from a child still running may find it finished.
    may_abandon: bool,
    layout: Layout,
    /// Each group has returned (or resumed a panic).
    finished: Vec<AtomicBool>,
}

/// Where each group's children are in the ledger.
#[derive(Debug, Default)]
struct Layout {
    /// Each group's slots (its body's, its children's, its grandchildren's
    /// and its nested groups'): nested groups' ranges nest.
    members: Vec<std::ops::Range<usize>>,
    /// Each group's body slot.
    bodies: Vec<Option<usize>>,
    /// The group each runner (a child or inline part of a body that runs a
    /// nested group) runs, by the runner's slot.
    runs: HashMap<usize, usize>,
    /// The nested group each group's body runs inline.
    inline: Vec<Option<usize>>,
}

/// Marks a nested group finished when it returns or resumes a panic (not
/// when its runner is aborted), and checks it is structured then.
struct Finished {
    ctx: Arc<GroupCtx>,
    number: usize,
}

impl Finished {
    fn now(&mut self) {
        if !self.ctx.finished[self.number].swap(true, SeqCst) {
            self.ctx.check_joined(self.number);
        }
    }
}

impl Drop for Finished {
    fn drop(&mut self) {
        // Unwinding from `run`: the group resumed a panic, after joining.
        if std::thread::panicking() {
            self.now();
        }
    }
}

impl GroupCtx {
    /// The slots whose futures must have been dropped once group `number`
    /// has returned: all of its members, but those of a nested group that
    /// has not finished (its runner was aborted, so it was dropped, and
    /// dropping a group aborts its children without waiting for them).
    fn joined_members(&self, number: usize) -> Vec<usize> {
        let range = self.layout.members[number].clone();
        let abandoned: Vec<_> = (0..self.layout.members.len())
            .filter(|&h| h != number && !self.finished[h].load(SeqCst))
            .map(|h| self.layout.members[h].clone())
            .filter(|inner| inner.start >= range.start && inner.end <= range.end)
            .collect();
        range
            .filter(|i| !abandoned.iter().any(|inner| inner.contains(i)))
            .collect()
    }

    /// Group `number` has returned: every child it joined was dropped
    /// (SPEC decision 5), and every task it handed out is done (the docs'
    /// "the group waited for both children: their tasks are done").
    fn check_joined(&self, number: usize) {
        let members = self.joined_members(number);
        let alive: Vec<_> = members
            .iter()
            .copied()
            .filter(|&i| self.children.slots[i].dropped.load(SeqCst) == 0)
            .collect();
        if !alive.is_empty() {
            self.children.anomaly(format!(
                "group {number} returned while the futures of children {alive:?} had not \
                 been dropped"
            ));
        }
        let not_done: Vec<_> = self
            .tasks
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, task)| members.contains(i) && !task.is_done())
            .map(|(i, _)| *i)
            .collect();
        if !not_done.is_empty() {
            self.children.anomaly(format!(
                "group {number} returned while the tasks of children {not_done:?} were not \
                 done"
            ));
        }
    }

    /// A group ended `Ok(value)`: `Some` exactly when its body returned
    /// its value, `None` only after a `cancel()`.
    fn check_ok_value(&self, number: usize, body: Option<usize>, value: Option<u64>) {
        let Some(body) = body else { return };
        let body_ok = self.children.slots[body].ok.load(SeqCst);
        match value {
            Some(value) if value != value_of(body) || body_ok != 1 => {
                self.children.anomaly(format!(
                    "group {number} returned Ok(Some({value})), its body ended ok {body_ok} times"
                ))
            }
            None if body_ok != 0 || self.cancels[number].load(SeqCst) == 0 => {
                self.children.anomaly(format!(
                    "group {number} returned Ok(None): its body ended ok {body_ok} times, and \
                     cancel() was called {} times",
                    self.cancels[number].load(SeqCst)
                ))
            }
            _ => {}
        }
    }

    /// Records every error in group `number`'s error, nested ones
    /// included, and checks each one's origin.
    fn observe_group_error(&self, number: usize, error: TaskGroupError<GroupFailure>) {
        if error.is_empty() {
            self.children
                .anomaly(format!("group {number} returned an empty error"));
        }
        let body = self.layout.bodies[number];
        let ids = self.ids.lock().unwrap().clone();
        let origin_of = |index: usize| match body {
            Some(body) if body == index => Some(Origin::Body),
            _ => ids.get(&index).map(|id| Origin::Child(*id)),
        };
        for (origin, failure) in error {
            match failure {
                GroupFailure::Leaf(ChildError(text)) => {
                    let index = match parse_label(&text) {
                        Some((uid, index)) if uid == self.children.uid => index,
                        _ => {
                            self.children
                                .anomaly(format!("group {number}: a foreign error {text}"));
                            continue;
                        }
                    };
                    if origin_of(index) != Some(origin) {
                        self.children.anomaly(format!(
                            "group {number}: child {index}'s error came from {origin:?}, not \
                             {:?}",
                            origin_of(index)
                        ));
                    }
                    self.children
                        .observe(index, &Err(TaskError::Failed(ChildError(text))));
                }
                GroupFailure::Inner(inner) => {
                    let runner = match origin {
                        Origin::Body => self.layout.inline[number].map(|g| (g, Origin::Body)),
                        Origin::Child(id) => ids
                            .iter()
                            .find(|(_, child)| **child == id)
                            .and_then(|(index, _)| self.layout.runs.get(index))
                            .map(|&g| (g, origin)),
                    };
                    match runner {
                        Some((inner_number, _)) => self.observe_group_error(inner_number, inner),
                        None => self.children.anomaly(format!(
                            "group {number}: a nested group's error from {origin:?}, which \
                             runs none"
                        )),
                    }
                }
            }
        }
    }

    fn cancel_group(&self, number: usize, handle: &GroupHandle) {
        self.cancels[number].fetch_add(1, SeqCst);
        handle.cancel();
    }

    /// Spawns `future` (child `index`) into `handle`'s group, registers its
    /// task, and has it cancelled from outside if the plan says so.
    fn spawn_into(
        self: &Arc<Self>,
        handle: &GroupHandle,
        number: usize,
        index: usize,
        future: GroupFuture,
        cancel_task: Option<u64>,
        register: bool,
    ) {
        match handle.try_spawn(future) {
            Ok(task) => {
                self.ids.lock().unwrap().insert(index, task.id());
                if let Some(k) = cancel_task {
                    let (ctx, cancel) = (self.clone(), task.cancel_handle());
                    tokio::spawn(async move {
                        yields(k).await;
                        ctx.children.slots[index]
                            .cancel_requested
                            .fetch_add(1, SeqCst);
                        cancel.cancel();
                    });
                }
                if register {
                    self.tasks.lock().unwrap().push((index, task));
                }
            }
            Err(refused) => {
                // A nested group is abandoned when its runner is aborted.
                if number == 0 && !self.may_abandon {
                    self.children.anomaly(format!(
                        "child {index}: spawn found its group finished while the group \
                         was owned and a spawner was still running"
                    ));
                }
                drop(refused.into_inner());
            }
        }
    }

    /// The future of a leaf: spawns its grandchildren, maybe cancels its
    /// group, then runs its plan. Built eagerly, so that the grandchildren's
    /// futures (and their drop guards) exist whether or not it ever runs.
    fn leaf(self: &Arc<Self>, spec: &LeafSpec, handle: &GroupHandle, number: usize) -> GroupFuture {
        let planned =
            self.children
                .child_watching(spec.index, spec.plan, spec.watch.then(|| handle.token()));
        let grandchildren: Vec<_> = spec
            .grandchildren
            .iter()
            .map(|g| (g.index, self.leaf(g, handle, number), g.cancel_task))
            .collect();
        let (ctx, handle, delay, cancel_group) =
            (self.clone(), handle.clone(), spec.delay, spec.cancel_group);
        async move {
            yields(delay).await;
            for (index, future, cancel_task) in grandchildren {
                ctx.spawn_into(&handle, number, index, future, cancel_task, true);
            }
            if let Some(k) = cancel_group {
                yields(k).await;
                ctx.cancel_group(number, &handle);
            }
            planned.await.map_err(GroupFailure::Leaf)
        }
        .boxed()
    }

    /// The body of group `spec` (or, without a body plan, the code that
    /// fills a body-less group): spawns, cancels, runs a nested group
    /// inline, then ends as planned.
    fn body(self: &Arc<Self>, spec: &GroupSpec, handle: &GroupHandle) -> GroupFuture {
        let guard = spec.body.as_ref().map(|b| ChildGuard {
            children: self.children.clone(),
            index: b.index,
        });
        let spawned: Vec<_> = spec
            .spawned
            .iter()
            .map(|(delay, what)| match what {
                Spawned::Leaf(leaf) => (
                    *delay,
                    leaf.index,
                    self.leaf(leaf, handle, spec.number),
                    leaf.cancel_task,
                    true,
                ),
                // A nested group's runner ends Err(InGroup) when its inner
                // group fails, which no leaf plan says: not registered.
                Spawned::Nested { index, group } => {
                    (*delay, *index, self.nested(*index, group), None, false)
                }
            })
            .collect();
        let inline = spec
            .inline
            .as_ref()
            .map(|(index, group)| self.nested(*index, group));
        let (ctx, handle, body, number, cancel_group) = (
            self.clone(),
            handle.clone(),
            spec.body.clone(),
            spec.number,
            spec.cancel_group,
        );
        async move {
            let _guard = guard;
            if let Some(body) = &body {
                ctx.children.slots[body.index].started.fetch_add(1, SeqCst);
            }
            for (delay, index, future, cancel_task, register) in spawned {
                yields(delay).await;
                ctx.spawn_into(&handle, number, index, future, cancel_task, register);
            }
            if let Some(k) = cancel_group {
                yields(k).await;
                ctx.cancel_group(number, &handle);
            }
            if let Some(inline) = inline {
                inline.await?;
            }
            let Some(body) = body else { return Ok(0) };
            yields(body.plan.yields).await;
            let slot = &ctx.children.slots[body.index];
            let label = ctx.children.label(body.index);
            match body.plan.end {
                End::Value => {
                    slot.ok.fetch_add(1, SeqCst);
                    Ok(value_of(body.index))
                }
                End::Error => {
                    slot.err.fetch_add(1, SeqCst);
                    Err(GroupFailure::Leaf(ChildError(label)))
                }
                End::Panic => {
                    slot.panicked.fetch_add(1, SeqCst);
                    panic!("{PLANNED}: task group body {label}")
                }
            }
        }
        .boxed()
    }

    /// A child (or inline part of a body) that runs the scoped group
    /// `spec`: `Ok` with its own value when the inner group ends `Ok`, the
    /// inner error relayed whole, or the inner panic resumed through it.
    fn nested(self: &Arc<Self>, index: usize, spec: &GroupSpec) -> GroupFuture {
        let guard = ChildGuard {
            children: self.children.clone(),
            index,
        };
        // The inner group and its body exist before the runner first runs:
        // aborted unpolled, it drops them (the group is then abandoned
        // empty).
        let group = match spec.grace {
            Some(grace) => TaskGroup::with_grace(grace),
            None => TaskGroup::new(),
        };
        let body = self.body(spec, &group.handle());
        let (ctx, number, body_index) = (
            self.clone(),
            spec.number,
            spec.body.as_ref().map(|b| b.index),
        );
        async move {
            let _guard = guard;
            let slot = &ctx.children.slots[index];
            slot.started.fetch_add(1, SeqCst);
            // Checks, when the inner group returns or resumes a panic, that
            // its children have all been dropped.
            let mut finished = Finished {
                ctx: ctx.clone(),
                number,
            };
            let outcome = group.run(|_| body).await;
            finished.now();
            match outcome {
                Ok(value) => {
                    ctx.check_ok_value(number, body_index, value);
                    slot.ok.fetch_add(1, SeqCst);
                    Ok(value_of(index))
                }
                Err(error) => Err(GroupFailure::Inner(error)),
            }
        }
        .boxed()
    }
}

/// How a task group round's outermost group ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupEnd {
    /// Awaited to completion.
    Await,
    /// Its future (`run`'s, or `join`'s) dropped after this many yields.
    Cut(u64),
    /// A body-less group dropped without `join`, after this many yields.
    DropGroup(u64),
    /// The runtime dropped after this many yields, the group in flight.
    DropRuntime(u64),
}

/// What the task that drove the outermost group saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupSeen {
    Ok,
    Failed,
    /// It resumed a panic, caught at its task's boundary.
    Resumed,
    /// Dropped (or cut short) mid-flight.
    Dropped,
    /// Its runtime went away under it.
    RuntimeGone,
}

/// Draws a round's groups: slots are numbered in the order they are drawn,
/// so a group's slots (nested groups' included) are one range.
struct GroupDraw<'a> {
    rng: &'a mut Rng,
    next: usize,
    layout: Layout,
    error_pct: u64,
    panic_pct: u64,
    grace: bool,
    nested_left: usize,
}

impl GroupDraw<'_> {
    fn slot(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    fn leaf(&mut self, grandchildren: bool) -> LeafSpec {
        let index = self.slot();
        let plan = plan(self.rng, self.error_pct, self.panic_pct, 8);
        let watch = self.grace && self.rng.chance(1, 2);
        let delay = self.rng.below(4);
        let count = if grandchildren && self.rng.chance(1, 4) {
            1 + self.rng.upto(1)
        } else {
            0
        };
        let grandchildren = (0..count).map(|_| self.leaf(false)).collect();
        LeafSpec {
            index,
            plan,
            watch,
            delay,
            grandchildren,
            // Rare per leaf: a group has many, and one cancel ends it.
            cancel_group: self.rng.chance(1, 40).then(|| self.rng.below(4)),
            cancel_task: self.rng.chance(1, 6).then(|| self.rng.below(6)),
        }
    }

    fn group(&mut self, scoped: bool, max_children: usize) -> GroupSpec {
        let number = self.layout.members.len();
        let start = self.next;
        self.layout.members.push(start..start);
        self.layout.bodies.push(None);
        self.layout.inline.push(None);
        let grace = (self.grace && self.rng.chance(2, 3))
            .then(|| Duration::from_micros(self.rng.below(400)));
        let body = scoped.then(|| BodySpec {
            index: self.slot(),
            plan: plan(self.rng, self.error_pct, self.panic_pct, 10),
        });
        let count = 1 + self.rng.upto(max_children - 1);
        let mut spawned = Vec::new();
        for _ in 0..count {
            let delay = self.rng.below(3);
            if self.nested_left > 0 && self.rng.chance(1, 4) {
                self.nested_left -= 1;
                let index = self.slot();
                let inner = self.group(true, 6);
                self.layout.runs.insert(index, inner.number);
                spawned.push((
                    delay,
                    Spawned::Nested {
                        index,
                        group: Box::new(inner),
                    },
                ));
            } else {
                spawned.push((delay, Spawned::Leaf(self.leaf(true))));
            }
        }
        let inline = if scoped && self.nested_left > 0 && self.rng.chance(1, 3) {
            self.nested_left -= 1;
            let index = self.slot();
            let inner = self.group(true, 6);
            self.layout.runs.insert(index, inner.number);
            self.layout.inline[number] = Some(inner.number);
            Some((index, Box::new(inner)))
        } else {
            None
        };
        self.layout.members[number] = start..self.next;
        self.layout.bodies[number] = body.as_ref().map(|b| b.index);
        GroupSpec {
            number,
            grace,
            body,
            spawned,
            cancel_group: self.rng.chance(1, 8).then(|| self.rng.below(6)),
            inline,
        }
    }
}

/// Scenario 6: task groups, scoped and body-less, with children that
/// succeed, fail, panic, run slowly, are cancelled through their tasks,
/// watch the token under a grace period, spawn grandchildren through a
/// cloned handle (also while the group shuts down), and cancel the group;
/// bodies that fail or panic; `cancel()` from the body, a child or outside;
/// nested groups (in a child or inline in a body) in `nested` rounds; the
/// group awaited, its future dropped mid-flight, or its runtime dropped.
///
/// Accounted: every child future (and body) is dropped exactly once, and
/// all of a group's are dropped when it returns (its nested groups', if
/// those were abandoned, only eventually); every task a spawn returned is
/// done then, and yields the value of a child that ended `Ok`,
/// `Failed(InGroup)` for one that failed, `Cancelled` for the others;
/// every `Err` of a child or body is in the returned error (under its
/// origin) or reported to the hook, exactly once; every panic is resumed
/// or reported, exactly once; a group that ends `Ok` saw no failure, and
/// `Ok(None)` only after `cancel()`.
fn task_group_round(seed: u64, nested: bool) {
    let mut rng = Rng::new(seed);
    let scoped = rng.chance(2, 3);
    let end = match rng.below(10) {
        0..=4 => GroupEnd::Await,
        5 | 6 => GroupEnd::Cut(rng.below(12)),
        7 if !scoped => GroupEnd::DropGroup(rng.below(12)),
        _ => GroupEnd::DropRuntime(rng.below(12)),
    };
    let outside_cancel = rng.chance(1, 8).then(|| rng.below(10));
    let error_pct = [0, 5, 15][rng.upto(2)];
    let panic_pct = [0, 5, 10][rng.upto(2)];
    let mut draw = GroupDraw {
        error_pct,
        panic_pct,
        grace: rng.chance(1, 3),
        nested_left: if nested { 1 + rng.upto(2) } else { 0 },
        next: 0,
        layout: Layout::default(),
        rng: &mut rng,
    };
    let spec = draw.group(scoped, 16);
    let (n, layout, grace) = (draw.next, draw.layout, draw.grace);
    let runtime = runtime(&mut rng);
    let children = Children::new(n);
    let groups = layout.members.len();
    let ctx = Arc::new(GroupCtx {
        children: children.clone(),
        tasks: Mutex::new(Vec::new()),
        ids: Mutex::new(HashMap::new()),
        cancels: (0..groups).map(|_| AtomicUsize::new(0)).collect(),
        may_abandon: end != GroupEnd::Await,
        layout,
        finished: (0..groups).map(|_| AtomicBool::new(false)).collect(),
    });
    let what = format!(
        "task group round (plan {seed:#x}): {} group, {n} slots in {groups} groups, \
         errors {error_pct}%, panics {panic_pct}%, grace {grace}, cancelled from outside \
         at {outside_cancel:?}, {end:?}",
        if scoped { "scoped" } else { "body-less" },
    );

    let seen = block_on_bounded(
        &runtime,
        &what,
        {
            let ctx = ctx.clone();
            async move {
                // The group and its body (with every child future) exist
                // before the driving task first runs, as the ledger's slots
                // must: a runtime dropped at once drops them unpolled.
                let group = match spec.grace {
                    Some(grace) => TaskGroup::with_grace(grace),
                    None => TaskGroup::new(),
                };
                let body = ctx.body(&spec, &group.handle());
                let body_index = spec.body.as_ref().map(|b| b.index);
                let drive =
                    drive_task_group(ctx.clone(), group, body, body_index, end, outside_cancel);
                let driver = tokio::spawn({
                    let ctx = ctx.clone();
                    async move {
                        if !matches!(end, GroupEnd::DropRuntime(_)) {
                            return drive.await;
                        }
                        // Nobody will await this task's JoinHandle, where
                        // tokio keeps a panic: catch a resumed one here.
                        match AssertUnwindSafe(drive).catch_unwind().await {
                            Ok(seen) => seen,
                            Err(payload) => {
                                ctx.children.observe_resumed(&*payload);
                                GroupSeen::Resumed
                            }
                        }
                    }
                });
                if let GroupEnd::DropRuntime(k) = end {
                    yields(k).await;
                    return GroupSeen::RuntimeGone;
                }
                match driver.await {
                    Ok(seen) => seen,
                    Err(error) => {
                        let payload = error
                            .try_into_panic()
                            .expect("the driving task is not cancelled");
                        ctx.children.observe_resumed(&*payload);
                        GroupSeen::Resumed
                    }
                }
            }
        },
        || children.summary(),
    );
    drop(runtime);
    // Every task has been dropped with the runtime, if not before: each
    // spawn's task is done, and says how its child ended.
    for (index, task) in std::mem::take(&mut *ctx.tasks.lock().unwrap()) {
        let slot = &children.slots[index];
        let [ok, err, panicked] = [&slot.ok, &slot.err, &slot.panicked].map(|a| a.load(SeqCst));
        let outcome = match task.try_outcome() {
            Ok(outcome) => outcome,
            Err(_) => {
                children.anomaly(format!(
                    "child {index}'s task outlived its runtime unfinished"
                ));
                continue;
            }
        };
        let expected = match (ok, err + panicked) {
            (1, 0) => matches!(&outcome, Ok(v) if *v == value_of(index)),
            (0, 1) => matches!(outcome, Err(TaskError::Failed(InGroup))),
            (0, 0) => matches!(outcome, Err(TaskError::Cancelled)),
            _ => false,
        };
        if !expected {
            children.anomaly(format!(
                "child {index} ended ok {ok} / failed {err} / panicked {panicked}, but its \
                 task yielded {outcome:?}"
            ));
        }
    }
    // The failures the outermost group collected, or should have: not those
    // of nested groups abandoned when their runner was aborted (reported
    // to the hook, whenever they came).
    let joined = ctx.joined_members(0);
    let total = |f: fn(&ChildSlot) -> &AtomicUsize| -> usize {
        joined
            .iter()
            .map(|&i| f(&children.slots[i]).load(SeqCst))
            .sum()
    };
    let (errors, panics) = (total(|s| &s.err), total(|s| &s.panicked));
    match seen {
        GroupSeen::Ok if errors + panics > 0 => children.anomaly(format!(
            "the group ended Ok after {errors} errors and {panics} panics"
        )),
        GroupSeen::Failed if panics > 0 => children.anomaly(format!(
            "the group returned its errors instead of resuming one of {panics} panics"
        )),
        _ => {}
    }
    children.check(
        &format!("{what}, seen {seen:?}"),
        Rules {
            all_observed: false,
            errors_reach_hook: true,
            cancel_needs_request: false,
        },
    );
}

/// Drives the outermost group of a task group round, in its own task (so
/// that a resumed panic is caught at that task's boundary).
/// `body` is a scoped group's body if the group has a body slot, or else
/// the code that fills the body-less group.
async fn drive_task_group(
    ctx: Arc<GroupCtx>,
    group: TaskGroup<GroupFailure>,
    body: GroupFuture,
    body_index: Option<usize>,
    end: GroupEnd,
    outside_cancel: Option<u64>,
) -> GroupSeen {
    let handle = group.handle();
    if let Some(k) = outside_cancel {
        let (ctx, handle) = (ctx.clone(), handle.clone());
        tokio::spawn(async move {
            yields(k).await;
            ctx.cancel_group(0, &handle);
        });
    }
    // Checks the group is structured when it resumes a panic (or returns).
    let mut finished = Finished {
        ctx: ctx.clone(),
        number: 0,
    };
    let cut = match end {
        GroupEnd::Cut(k) => Some(k),
        _ => None,
    };
    let outcome = if body_index.is_some() {
        let mut run = std::pin::pin!(group.run(|_| body));
        let outcome = match cut {
            Some(k) => tokio::select! {
                biased;
                outcome = &mut run => Some(outcome),
                () = yields(k) => None,
            },
            None => Some(run.await),
        };
        outcome.map(|outcome| outcome.map(|value| (value, body_index)))
    } else {
        // Body-less: this task fills the group (the same spawns, delays and
        // `cancel()` as a body), then joins it, or drops it.
        let filled = body.await;
        assert!(
            matches!(filled, Ok(0)),
            "filling a body-less group cannot fail"
        );
        if let GroupEnd::DropGroup(k) = end {
            yields(k).await;
            drop(group);
            None
        } else {
            let mut join = std::pin::pin!(group.join());
            let outcome = match cut {
                Some(k) => tokio::select! {
                    biased;
                    outcome = &mut join => Some(outcome),
                    () = yields(k) => None,
                },
                None => Some(join.await),
            };
            outcome.map(|outcome| outcome.map(|()| (None, None)))
        }
    };
    let Some(outcome) = outcome else {
        // Dropped mid-flight: its children were aborted, not awaited. Each
        // must still be dropped, soon.
        let deadline = Instant::now() + JOIN_DEADLINE;
        while !ctx.children.all_dropped() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if !ctx.children.all_dropped() {
            ctx.children.anomaly(format!(
                "{} children were never dropped after their group was",
                ctx.children.slots.len() - ctx.children.dropped()
            ));
        }
        return GroupSeen::Dropped;
    };
    finished.now();
    match outcome {
        Ok((value, body)) => {
            ctx.check_ok_value(0, body, value);
            GroupSeen::Ok
        }
        Err(error) => {
            ctx.observe_group_error(0, error);
            GroupSeen::Failed
        }
    }
}

#[test]
fn task_groups_account_for_every_child_error_and_panic() {
    run_rounds(
        "task_groups_account_for_every_child_error_and_panic",
        |seed| task_group_round(seed, false),
    );
}

#[test]
fn nested_task_groups_account_for_every_leaf_error_and_panic() {
    run_rounds(
        "nested_task_groups_account_for_every_leaf_error_and_panic",
        |seed| task_group_round(seed, true),
    );
}
