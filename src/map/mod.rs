//! [`map`] and [`try_map`]: the bounded concurrent map, the `parallel_map`
//! that asyncio users write by hand with a `Queue` and a pool of workers,
//! done once: lazy input, a concurrency limit, one task per item, ordered or
//! completion-order output, error policies, and opt-in production controls
//! (per-item timeout, retries with backoff, a rate limit, adaptive
//! concurrency) with a lock-free [`Progress`] handle.
//!
//! # Scaling past one machine
//!
//! The input is any [`Stream`], so a broker's consumer stream (a Kafka
//! consumer, a NATS subscription, a Redis stream reader) feeds the map
//! directly, and several machines each run a map over their share of the
//! partitions: the broker, not the map, spreads the work. The map pulls at
//! most `limit` messages ahead of the work, so back-pressure reaches the
//! broker: a slow service means fewer messages fetched, not a growing heap.
//! In ordered mode ([`Map::ordered`], the default) the output comes in input
//! order, so acknowledging each output as it comes acknowledges a prefix of
//! the input: after a crash, everything unacknowledged (in flight, or done
//! but waiting behind a slower message) is redelivered, and nothing that was
//! acknowledged is lost. Use [`Map::return_exceptions`] so a failed message
//! is an item too, acknowledged (or sent to a dead-letter queue) in its
//! place.
//!
//! ```
//! use std::num::NonZeroUsize;
//! use futures::StreamExt;
//!
//! /// A stand-in for a broker message: an offset and a payload.
//! struct Message { offset: u64, payload: String }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // A stand-in for a consumer stream (rdkafka's `StreamConsumer::stream()`,
//! // async-nats' `Subscriber`, ...).
//! let consumer = futures::stream::iter((0..100).map(|offset| Message {
//!     offset,
//!     payload: format!("order-{offset}"),
//! }));
//! let mut handled = asyncio::try_map_stream(consumer, NonZeroUsize::new(8).unwrap(), |message| async move {
//!     if message.payload.is_empty() { return Err("empty payload"); }
//!     Ok(message.offset) // the work: call a service, write a row, ...
//! })
//! .return_exceptions()
//! .start();
//! let mut committed = None;
//! while let Some((_position, outcome)) = handled.next().await {
//!     let offset = outcome.expect("no message fails here");
//!     // In input order: committing this offset commits every earlier one.
//!     assert_eq!(committed.map_or(0, |c| c + 1), offset);
//!     committed = Some(offset);
//! }
//! assert_eq!(committed, Some(99));
//! # }
//! ```

pub(crate) mod core;
mod driver;
pub(crate) mod items;

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::num::{NonZeroU32, NonZeroUsize};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio_util::sync::CancellationToken;

pub use self::core::Jitter;
use self::driver::{Done, Driver, Event, IterSource, Mode, RateLimit, Retries};
use crate::sync::Arc;
use crate::task::{cooperatively, TaskError};
use crate::timeout::TimeoutError;

/// An item of a map failed: its position in the input, and how it ended.
///
/// `error` is [`TaskError::Failed`] (the item's future returned `Err`, after
/// its last retry; a timeout is the caller's error made from
/// [`TimeoutError`]) or [`TaskError::Cancelled`] (its task was cancelled,
/// which only the runtime shutting down does to a map's items). A panic is
/// never a `MapError` under fail-fast or keep-going: it is resumed.
///
/// It displays as "map item {position}: " followed by the item's error, and
/// its [`source`](std::error::Error::source) continues from that error's
/// source. `Send + Sync + 'static` whenever `E` is.
#[derive(Debug)]
#[non_exhaustive]
pub struct MapError<E> {
    /// The failed item's position in the input (0-based).
    pub position: usize,
    /// How it ended.
    pub error: TaskError<E>,
}

impl<E> MapError<E> {
    /// The failed item's position in the input.
    pub fn position(&self) -> usize {
        self.position
    }

    /// How the item ended.
    pub fn error(&self) -> &TaskError<E> {
        &self.error
    }

    /// How the item ended, by value.
    pub fn into_error(self) -> TaskError<E> {
        self.error
    }
}

impl<E: fmt::Display> fmt::Display for MapError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "map item {}: {}", self.position, self.error)
    }
}

impl<E: std::error::Error + 'static> std::error::Error for MapError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

/// Every error of a [`keep_going`](Map::keep_going) map, as one group:
/// always a collection, even of one, iterated in input order.
#[non_exhaustive]
pub struct MapErrors<E> {
    errors: Vec<MapError<E>>,
}

impl<E> MapErrors<E> {
    /// How many items failed (at least one).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a group holds at least one error.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, in input order.
    pub fn iter(&self) -> std::slice::Iter<'_, MapError<E>> {
        self.errors.iter()
    }

    /// The error of the earliest failed item.
    pub fn first(&self) -> &MapError<E> {
        &self.errors[0]
    }

    /// The errors, in input order.
    pub fn into_errors(self) -> Vec<MapError<E>> {
        self.errors
    }
}

impl<E> IntoIterator for MapErrors<E> {
    type Item = MapError<E>;
    type IntoIter = std::vec::IntoIter<MapError<E>>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a, E> IntoIterator for &'a MapErrors<E> {
    type Item = &'a MapError<E>;
    type IntoIter = std::slice::Iter<'a, MapError<E>>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl<E: fmt::Debug> fmt::Debug for MapErrors<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapErrors")
            .field("errors", &self.errors)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for MapErrors<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} map items failed", self.errors.len())?;
        for (index, error) in self.errors.iter().enumerate() {
            let separator = if index == 0 { ": " } else { "; " };
            write!(f, "{separator}{error}")?;
        }
        Ok(())
    }
}

impl<E: std::error::Error + 'static> std::error::Error for MapErrors<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errors
            .first()
            .map(|error| error as &(dyn std::error::Error + 'static))
    }
}

/// Bad settings for [`Adaptive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdaptiveError {
    /// The bounds given to [`Adaptive::new`] are reversed.
    #[error("adaptive concurrency bounds are reversed: min {min} is above max {max}")]
    Reversed {
        /// The lower bound given.
        min: NonZeroUsize,
        /// The upper bound given.
        max: NonZeroUsize,
    },
    /// The tolerance given to [`Adaptive::tolerance_percent`] is above 100.
    #[error("an error-rate tolerance of {0}% is above 100%")]
    Tolerance(u8),
}

/// Adaptive concurrency (AIMD) within bounds: see [`Map::adaptive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adaptive {
    min: NonZeroUsize,
    max: NonZeroUsize,
    tolerance_percent: u8,
}

impl Adaptive {
    /// Bounds for the limit: it never goes below `min` nor above `max`. The
    /// error-rate tolerance starts at 5%.
    ///
    /// # Errors
    ///
    /// [`AdaptiveError::Reversed`] if `min > max`.
    pub fn new(min: NonZeroUsize, max: NonZeroUsize) -> Result<Self, AdaptiveError> {
        if min > max {
            return Err(AdaptiveError::Reversed { min, max });
        }
        Ok(Self {
            min,
            max,
            tolerance_percent: 5,
        })
    }

    /// The share of errors and timeouts (a moving average over about one
    /// window of completions) the limit tolerates before it is cut; `0`
    /// cuts on any failure. Slow-down signals cut whatever the rate.
    ///
    /// # Errors
    ///
    /// [`AdaptiveError::Tolerance`] if `percent > 100`.
    pub fn tolerance_percent(mut self, percent: u8) -> Result<Self, AdaptiveError> {
        if percent > 100 {
            return Err(AdaptiveError::Tolerance(percent));
        }
        self.tolerance_percent = percent;
        Ok(self)
    }
}

/// What a retry classifier decides about one error: see [`Map::retry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// Retry after the policy's exponential backoff (with jitter).
    Retry,
    /// Retry after exactly this delay (a service's `Retry-After`).
    RetryAfter(Duration),
    /// The service asks to slow down: retry after the backoff, and count a
    /// congestion signal for the [adaptive limit](Map::adaptive). (Every
    /// failure is a congestion signal; this one is retried as well.)
    SlowDown,
    /// Do not retry: the error is final.
    Fail,
}

/// How many times and how long to retry: see [`Map::retry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    attempts: NonZeroU32,
    base: Duration,
    max_delay: Duration,
    max_elapsed: Option<Duration>,
    jitter: Jitter,
}

impl RetryPolicy {
    /// At most `attempts` attempts per item, the first included; a backoff
    /// starting at 100 ms, doubling up to 10 s, with [full jitter](Jitter::Full),
    /// and no bound on the total time.
    pub fn new(attempts: NonZeroU32) -> Self {
        Self {
            attempts,
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            max_elapsed: None,
            jitter: Jitter::Full,
        }
    }

    /// The delay before the first retry (doubled for each later one).
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base = delay;
        self
    }

    /// The longest delay between two attempts (before jitter).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// No retry starts later than `total` after the item's first attempt
    /// started: a retry that would is not made, and the error is final.
    pub fn max_elapsed(mut self, total: Duration) -> Self {
        self.max_elapsed = Some(total);
        self
    }

    /// How delays are spread.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }
}

/// A cheap, cloneable, lock-free view of a running map's counters: see
/// [`Map::progress`] and [`MapStream::progress`]. Reading it takes no lock and never slows the map.
#[derive(Clone)]
pub struct Progress {
    counters: Arc<self::core::Counters>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Progress").field(&self.snapshot()).finish()
    }
}

/// One reading of a map's [`Progress`].
///
/// The counters are read one by one while the map runs, so a snapshot is
/// not one instant; but it never shows more items finished
/// (`done + failed`) than `started`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ProgressSnapshot {
    /// Inputs pulled and started.
    pub started: usize,
    /// Items finished with a value.
    pub done: usize,
    /// Items finished without one: after their last retry, or cancelled
    /// when the map stopped.
    pub failed: usize,
    /// Retries started.
    pub retried: usize,
    /// Attempts running or waiting to retry.
    pub in_flight: usize,
    /// The concurrency limit in force (it moves under [`Map::adaptive`]).
    pub limit: usize,
}

impl Progress {
    /// Reads the counters.
    pub fn snapshot(&self) -> ProgressSnapshot {
        self.counters.snapshot()
    }
}

/// The fail-fast policy (the default): see [`map`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FailFast;

/// The errors-as-values policy: see [`Map::return_exceptions`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ReturnExceptions;

/// The keep-going policy: see [`Map::keep_going`].
#[derive(Debug, Clone, Copy, Default)]
pub struct KeepGoing;

/// Runs `f` over every input, at most `limit` at a time, each item as its
/// own task, and yields the results as a [`Stream`] in input order: the
/// worker pool asyncio users write by hand.
///
/// `map(..)` returns a [`Map`]: the options, nothing running yet. Choose
/// options on it, then [`start`](Map::start) it for the running
/// [`MapStream`], or [`collect`](Map::collect) it.
///
/// - **Input** is any `IntoIterator` (here) or [`Stream`] ([`map_stream`]),
///   pulled lazily: an input is pulled only when a slot is free, so at most
///   `limit` inputs are alive in running items (a million-line file is never
///   in memory at once).
/// - **Each item runs as its own task** (a tokio task), in parallel on the
///   multi-thread runtime; the map never polls an item's future itself, so
///   nothing starves (futures' `buffered` does, #2387). Nobody outside the
///   map awaits an item, so it has no [`Task`](crate::Task) handle: it
///   publishes its outcome straight into the map (as a task group's
///   [`start_soon`](crate::TaskGroupHandle::start_soon) child does), and
///   [`current_task`](crate::current_task) is `None` inside it.
///   **Items start when the map is started** ([`start`](Map::start) or
///   [`collect`](Map::collect)), not at the first poll (SPEC decision 1;
///   asyncio's pool schedules its workers at `create_task`): the first
///   `limit` inputs are pulled and spawned then, and later ones as items
///   finish. A [`Stream`] input gives at start what it has ready (see
///   [`start`](Map::start)). The options come before: each shapes which
///   items start, so none can be set on a running map.
/// - **Output** is a `Stream` of `(position, value)` in input order
///   ([`ordered`](Map::ordered), the default), or in completion order
///   ([`unordered`](Map::unordered)); `position` is the input's 0-based
///   index. In ordered mode, results that finish early wait in a reorder
///   buffer, **bounded** by the window ([`reorder_window`](Map::reorder_window),
///   default `2 × limit`): an input at position `p` starts only once the
///   output has reached `p - window + 1`, so at most `window` items are
///   running or waiting to be handed out. A slow head item therefore stalls
///   new starts after `window` positions, never memory.
/// - **Errors**: this function is for plain futures, which cannot fail (a
///   panic aside); [`try_map`] takes futures returning `Result`. Under the
///   default policy, *fail fast*, the first error stops the map: it stops
///   pulling input, cancels every item in flight and waits until each has
///   finished, then yields `Err(MapError { position, error })` and ends.
///   Results not yet handed out are dropped. [`return_exceptions`](Map::return_exceptions)
///   yields every outcome as a value, in place; [`keep_going`](Map::keep_going)
///   yields the values and, at the end, every error as one [`MapErrors`].
/// - **Panics** (SPEC decision 6): a panicking item is asyncio's
///   `KeyboardInterrupt`. Under fail-fast and keep-going the map cancels and
///   joins every other item, then resumes the panic in the task polling the
///   stream; under `return_exceptions` it is a value,
///   `Err(TaskError::Panicked(p))`. A second panic goes to the
///   [unobserved-error hook](crate::set_unobserved_error_hook).
/// - Collect with [`collect`](Map::collect); cancel and wait with
///   [`cancel`](MapStream::cancel).
///
/// # Examples
///
/// ```
/// use std::num::NonZeroUsize;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let limit = NonZeroUsize::new(10).unwrap();
/// let squares = asyncio::map(1..=1000_u64, limit, |n| async move { n * n })
///     .collect()
///     .await
///     .unwrap();
/// assert_eq!(squares.len(), 1000);
/// assert_eq!(squares[9], 100);
/// # }
/// ```
///
/// As a stream, one failing item among many, errors in place:
///
/// ```
/// use std::num::NonZeroUsize;
/// use futures::StreamExt;
/// use asyncio::TaskError;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut results = asyncio::try_map(["1", "2", "x", "4"], NonZeroUsize::new(2).unwrap(), |text| async move {
///     text.parse::<u32>()
/// })
/// .return_exceptions()
/// .start();
/// let mut seen = Vec::new();
/// while let Some((position, outcome)) = results.next().await {
///     seen.push((position, outcome.is_ok()));
/// }
/// assert_eq!(seen, [(0, true), (1, true), (2, false), (3, true)]);
/// # }
/// ```
///
/// # asyncio equivalent
///
/// asyncio has none; this is the program its users write:
///
/// ```python
/// async def parallel_map(fn, inputs, limit):
///     queue, results = asyncio.Queue(), {}
///     for i, x in enumerate(inputs):          # the whole input, in memory
///         queue.put_nowait((i, x))
///     async def worker():
///         while True:
///             i, x = await queue.get()
///             try:
///                 results[i] = await fn(x)    # an exception kills this worker...
///             finally:
///                 queue.task_done()
///     workers = [asyncio.create_task(worker()) for _ in range(limit)]
///     await queue.join()                      # ...once `limit` have died, this waits forever
///     for w in workers:
///         w.cancel()
///     return [results[i] for i in sorted(results)]
/// ```
///
/// | hand-written pool | crate |
/// | --- | --- |
/// | fill a `Queue` with every input | the input is pulled lazily: at most `limit` alive |
/// | `limit` worker tasks | one task per item, at most `limit` at a time |
/// | `results[i] = ...`, sort at the end | a `Stream` in input order, or [`collect`](Map::collect) |
/// | `try/except` in the worker | [`return_exceptions`](Map::return_exceptions) or [`keep_going`](Map::keep_going) |
/// | `asyncio.gather(*(fn(x) for x in xs))` | `collect()`, with a limit and lazy input |
/// | `asyncio.wait_for(fn(x), t)` in the worker | [`timeout`](Map::timeout) |
/// | a retry loop, `asyncio.sleep(backoff)` | [`retry`](Map::retry) |
/// | `asyncio.to_thread(f, x)` in the worker | `asyncio::map(xs, limit, \|x\| asyncio::to_thread(move \|\| f(x)))`: `f` may be anything awaitable, a [`Task`](crate::Task) included (each item is then a task awaiting that task; cancelling the item cancels it) |
///
/// # Cancellation
///
/// | situation | hand-written Python pool | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped (the stream, or a `collect` future) | cancelling `queue.join()`'s awaiter leaves the workers running, forever blocked on `get()`, and the queued inputs in memory | every item in flight is aborted and stops at its next await point (drop cannot wait: [`cancel`](MapStream::cancel) does); no more input is pulled; outcomes not handed out are dropped (a panic among them goes to the hook) |
/// | an item errors | the exception kills its worker (logged as never retrieved); the others go on, and once `limit` workers have died `join()` waits forever (checked on 3.13: limit 2, two failing items) | fail-fast: the others are cancelled and joined, input stops, then `Err(MapError)` naming the position; `return_exceptions`: `Err(TaskError::Failed(e))` in place; `keep_going`: the rest run, every error comes at the end in one [`MapErrors`] |
/// | an item is cancelled | its worker dies, as on an error | only the runtime shutting down cancels an item: as an error (`Err(TaskError::Cancelled)`) |
/// | an item panics | `KeyboardInterrupt` escapes the loop (96) | fail-fast and keep-going: the others are cancelled and joined, then the panic resumes in the poller; `return_exceptions`: `Err(TaskError::Panicked(p))` in place |
/// | a timeout fires | `wait_for` in the worker cancels that call, raises `TimeoutError` | per item, [`timeout`](Map::timeout) (`wait_for` semantics: that attempt's future is dropped, the item fails with the caller's error made from [`TimeoutError`], and may be retried); around the whole map: the stream is dropped, as the first row |
/// | the owner/handle is dropped | workers are tasks nobody holds: they run on | the stream owns every item: as the first row. A [`Map`] not yet started owns nothing running (dropping it drops the function and the input); a [`Progress`] handle owns nothing |
/// | the runtime shuts down | `asyncio.run` cancels the workers | items end `Cancelled`; the map is dropped with its task |
///
/// Cooperative cancellation: [`with_grace`](Map::with_grace) gives items a
/// [`CancellationToken`] and a grace period before the abort, whenever the
/// map itself cancels (fail-fast, a panic, [`cancel`](MapStream::cancel)).
/// Cancelling is an abort: an item stops at its next await point, and one
/// that never awaits cannot be cancelled.
///
/// # Errors
///
/// Plain futures do not fail; see [`try_map`].
///
/// # Panics
///
/// [`start`](Map::start) or [`collect`](Map::collect) outside a tokio
/// runtime panics at the caller's line (items are spawned); `map(..)`
/// itself spawns nothing and does not panic. A panic of `f` itself, or of
/// the input iterator, unwinds through the `start` or the poll that called
/// it (the map is then dropped: the first row). An item's panic is resumed
/// as described above.
pub fn map<I, F, Fut>(inputs: I, limit: NonZeroUsize, f: F) -> Map<I::Item, Fut::Output>
where
    I: IntoIterator,
    I::IntoIter: Send + 'static,
    I::Item: Send + 'static,
    F: FnMut(I::Item) -> Fut + Send + 'static,
    Fut: IntoFuture,
    Fut::IntoFuture: Send + 'static,
    Fut::Output: Send + 'static,
{
    map_stream(IterSource(inputs.into_iter()), limit, f)
}

/// [`map`] for futures that return `Result<T, E>`: `Err(E)` is the item's
/// failure, handled by the map's error policy (fail fast by default).
///
/// # Examples
///
/// The classic case: one item fails, limit 2, fail fast:
///
/// ```
/// use std::num::NonZeroUsize;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let error = asyncio::try_map(["1", "2", "x", "4"], NonZeroUsize::new(2).unwrap(), |text| async move {
///     text.parse::<u32>()
/// })
/// .collect()
/// .await
/// .unwrap_err();
/// assert_eq!(error.position, 2);
/// # }
/// ```
///
/// # Errors
///
/// Per the policy: see [`map`].
///
/// # Panics
///
/// As [`map`]: only [`start`](Map::start) and [`collect`](Map::collect).
pub fn try_map<I, F, Fut, T, E>(inputs: I, limit: NonZeroUsize, f: F) -> Map<I::Item, T, E>
where
    I: IntoIterator,
    I::IntoIter: Send + 'static,
    I::Item: Send + 'static,
    F: FnMut(I::Item) -> Fut + Send + 'static,
    Fut: IntoFuture<Output = Result<T, E>>,
    Fut::IntoFuture: Send + 'static,
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    try_map_stream(IterSource(inputs.into_iter()), limit, f)
}

/// [`map`] over a [`Stream`] of inputs (a channel, a file's lines, a
/// broker's consumer), pulled lazily.
pub fn map_stream<S, F, Fut>(inputs: S, limit: NonZeroUsize, f: F) -> Map<S::Item, Fut::Output>
where
    S: Stream + Send + 'static,
    S::Item: Send + 'static,
    F: FnMut(S::Item) -> Fut + Send + 'static,
    Fut: IntoFuture,
    Fut::IntoFuture: Send + 'static,
    Fut::Output: Send + 'static,
{
    Map::from_driver(Driver::new(
        Box::pin(inputs),
        driver::spawner(f),
        limit.get(),
    ))
}

/// [`try_map`] over a [`Stream`] of inputs.
pub fn try_map_stream<S, F, Fut, T, E>(inputs: S, limit: NonZeroUsize, f: F) -> Map<S::Item, T, E>
where
    S: Stream + Send + 'static,
    S::Item: Send + 'static,
    F: FnMut(S::Item) -> Fut + Send + 'static,
    Fut: IntoFuture<Output = Result<T, E>>,
    Fut::IntoFuture: Send + 'static,
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    Map::from_driver(Driver::new(
        Box::pin(inputs),
        driver::try_spawner(f),
        limit.get(),
    ))
}

/// A map not started yet, as [`map`], [`try_map`], [`map_stream`] and
/// [`try_map_stream`] return it: its options, and nothing running. Choose
/// the options, then [`start`](Map::start) it (which returns the running
/// [`MapStream`]) or [`collect`](Map::collect) it.
///
/// The options live on this type only, so an option cannot be chosen once
/// items run: that does not compile (SPEC decision 7: what cannot be wrong
/// by construction is made so).
///
/// ```compile_fail
/// use std::num::NonZeroUsize;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let running = asyncio::map(0..10, NonZeroUsize::new(2).unwrap(), |n| async move { n }).start();
/// let running = running.unordered(); // no such method on MapStream
/// # }
/// ```
///
/// Dropping it drops the function and the input: nothing was started.
#[must_use = "a map starts nothing until it is started or collected"]
pub struct Map<In, T, E = Infallible, P = FailFast> {
    driver: Driver<In, T, E>,
    _policy: PhantomData<fn() -> P>,
}

/// A running map, as [`Map::start`] returns it: a [`Stream`] of the items'
/// outcomes (or [`collect`](MapStream::collect) it, or
/// [`cancel`](MapStream::cancel) it and wait).
///
/// Its items depend on the policy `P`:
///
/// | policy | `Item` | end |
/// | --- | --- | --- |
/// | [`FailFast`] (default) | `Result<(usize, T), MapError<E>>` | after the first `Err`, or the last value |
/// | [`ReturnExceptions`] | `(usize, Result<T, TaskError<E>>)` | after the last outcome |
/// | [`KeepGoing`] | `Result<(usize, T), MapErrors<E>>` | after the last value, then one `Err` with every error if any |
///
/// Dropping it cancels every item in flight (aborted, not awaited) and
/// pulls no more input.
///
/// # Cancel safety
///
/// This stream is cancel safe. If `map.next()` is used as a branch in `select!`
/// and another branch completes first, it is guaranteed that no item was lost:
/// a finished item waits for the next poll. (Dropping the stream itself is the
/// cancellation described in [`map`].)
#[must_use = "the items run, but nobody sees their outcomes unless the stream is polled"]
pub struct MapStream<In, T, E = Infallible, P = FailFast> {
    driver: Driver<In, T, E>,
    /// Keep-going: the group was handed out (or there was none).
    ended: bool,
    _policy: PhantomData<fn() -> P>,
}

impl<In, T, E, P> fmt::Debug for Map<In, T, E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.driver.fmt(f)
    }
}

impl<In, T, E, P> fmt::Debug for MapStream<In, T, E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.driver.fmt(f)
    }
}

// Nothing in a map is pinned in place: items run in their own tasks and the
// input stream is boxed.
impl<In, T, E, P> Unpin for MapStream<In, T, E, P> {}

impl<In, T, E> Map<In, T, E, FailFast> {
    fn from_driver(driver: Driver<In, T, E>) -> Self {
        Self {
            driver,
            _policy: PhantomData,
        }
    }
}

impl<In, T, E, P> Map<In, T, E, P> {
    fn with_policy<Q>(self, mode: Mode) -> Map<In, T, E, Q> {
        let Map { mut driver, .. } = self;
        driver.mode = mode;
        Map {
            driver,
            _policy: PhantomData,
        }
    }
}

impl<In, T, E, P> Map<In, T, E, P>
where
    E: fmt::Debug + Send + 'static,
{
    /// Starts the map and returns its output stream: the first items start
    /// now, not at the stream's first poll (SPEC decision 1, as asyncio's
    /// `create_task` schedules a task when it is called).
    ///
    /// "Start" means: every input that is ready without waiting is pulled
    /// and spawned, up to the limit, the [window](Map::reorder_window) and
    /// the [rate limit](Map::rate_limit). For an `IntoIterator` input that
    /// is the first `limit` inputs. A [`Stream`] input can only be pulled
    /// with a waker: `start` polls it with a no-op waker and spawns what it
    /// yields at once (the messages a channel or a consumer has buffered);
    /// if it is not ready, the stream's first poll polls it again with its
    /// own waker, so no wake-up is lost. Later inputs are pulled as items
    /// finish, while the stream is polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use futures::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let called = Arc::new(AtomicUsize::new(0));
    /// let counted = called.clone();
    /// let mut running = asyncio::map(0..100, NonZeroUsize::new(8).unwrap(), move |n| {
    ///     counted.fetch_add(1, Ordering::SeqCst);
    ///     async move { n * 2 }
    /// })
    /// .unordered()
    /// .start();
    /// assert_eq!(called.load(Ordering::SeqCst), 8); // spawned already, before any poll
    /// let mut sum = 0;
    /// while let Some(item) = running.next().await {
    ///     sum += item.unwrap().1;
    /// }
    /// assert_eq!(sum, 9900);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (items are spawned), at the caller's line. A
    /// panic of `f` or of the input unwinds through this call.
    #[track_caller]
    #[doc(alias = "into_stream")]
    #[doc(alias = "spawn")]
    pub fn start(self) -> MapStream<In, T, E, P> {
        let Map { mut driver, .. } = self;
        driver.start();
        MapStream {
            driver,
            ended: false,
            _policy: PhantomData,
        }
    }

    /// Starts the map (as [`start`](Map::start)) and collects its output:
    /// see [`MapStream::collect`].
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. If the returned future is used as a
    /// branch in `select!` and another branch completes first, the items in
    /// flight are cancelled and the results collected so far are lost.
    ///
    /// # Panics
    ///
    /// As [`start`](Map::start).
    #[track_caller]
    pub fn collect(self) -> Collect<In, T, E, P> {
        self.start().collect()
    }
}

impl<In, T, E, P> Map<In, T, E, P> {
    /// Output in input order (the default), through the bounded reorder
    /// buffer described in [`map`].
    pub fn ordered(mut self) -> Self {
        self.driver.ordered = true;
        self
    }

    /// Output in completion order; each item still carries its position.
    pub fn unordered(mut self) -> Self {
        self.driver.ordered = false;
        self
    }

    /// The output window: at most `window` items running or finished but
    /// not yet handed out (in ordered mode: an input starts only when its
    /// position is within `window` of the next output). The default is
    /// `2 × limit`; a window below the limit (or, with [`adaptive`](Map::adaptive),
    /// below its upper bound) is raised to it.
    pub fn reorder_window(mut self, window: NonZeroUsize) -> Self {
        self.driver.window = window.get();
        self
    }

    /// Every outcome is an item, in place: asyncio's `return_exceptions=True`.
    /// Errors, cancellations and panics are values
    /// (`Err(TaskError::..)`), and the map runs to the end of its input.
    pub fn return_exceptions(self) -> Map<In, T, E, ReturnExceptions> {
        self.with_policy(Mode::ReturnExceptions)
    }

    /// Errors do not stop the map: the stream yields the values, and after
    /// the last one, if any item failed, one `Err` with every error as a
    /// [`MapErrors`] group in input order. A panic still stops the map (see
    /// [`map`]).
    pub fn keep_going(self) -> Map<In, T, E, KeepGoing> {
        self.with_policy(Mode::KeepGoing)
    }

    /// Cancels cooperatively: whenever the map cancels items (fail-fast, a
    /// panic, [`cancel`](MapStream::cancel)), it first cancels `token`, which the
    /// items can watch to stop on their own and clean up asynchronously, and
    /// aborts only those still running `grace` later. It still hands out its
    /// error only once every item has finished. Dropping the map aborts at
    /// once, grace or not.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use std::time::Duration;
    /// use asyncio::CancellationToken;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let token = CancellationToken::new();
    /// let watched = token.clone();
    /// let error = asyncio::try_map(0..4, NonZeroUsize::new(4).unwrap(), move |n| {
    ///     let watched = watched.clone();
    ///     async move {
    ///         if n == 0 { return Err("boom"); }
    ///         watched.cancelled().await;
    ///         asyncio::sleep(Duration::from_millis(10)).await; // async clean-up
    ///         Ok(n)
    ///     }
    /// })
    /// .with_grace(token, Duration::from_secs(1))
    /// .collect()
    /// .await
    /// .unwrap_err();
    /// assert_eq!(error.position, 0);
    /// # }
    /// ```
    pub fn with_grace(mut self, token: CancellationToken, grace: Duration) -> Self {
        self.driver.grace = Some((token, grace));
        self
    }

    /// Limits how often attempts start: `per_second` on average, with bursts
    /// of up to `burst` (a token bucket, full at the start). Retries count as
    /// starts.
    ///
    /// The input is pulled only when a token is there. The map learns that
    /// its input ended as soon as the input's size hint says so (an
    /// exhausted `Vec`, range or other exact-size iterator; it is then
    /// pulled once to confirm), or else when the next token comes: a map
    /// over an input that cannot tell (most streams) ends up to one token
    /// interval after its last item finished.
    pub fn rate_limit(mut self, per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        self.driver.rate = Some(RateLimit::new(per_second.get(), burst.get()));
        self
    }

    /// Adapts the concurrency limit (AIMD, as TCP's congestion window):
    /// starting from the map's `limit` (clamped into the bounds), every
    /// success adds `1 / limit` (one per window of successes) while the
    /// error rate is within the [tolerance](Adaptive::tolerance_percent);
    /// the limit is halved when errors and timeouts rise above it, or on a
    /// [`Retry::SlowDown`], at most once per window of attempts, never below
    /// `min` nor above `max`. Errors that are retried count as much as final
    /// ones. The limit in force is in [`Progress`].
    pub fn adaptive(mut self, bounds: Adaptive) -> Self {
        let aimd = self::core::Aimd::new(
            bounds.min.get(),
            bounds.max.get(),
            self.driver.limit,
            f64::from(bounds.tolerance_percent) / 100.0,
        );
        self.driver.counters.set_limit(aimd.limit());
        self.driver.limit = bounds.max.get().max(self.driver.limit);
        self.driver.aimd = Some(aimd);
        self
    }

    /// A lock-free handle on the map's counters (see [`Progress`]): take it
    /// before [`collect`](Map::collect), or from the running stream
    /// ([`MapStream::progress`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let map = asyncio::map(0..100, NonZeroUsize::new(8).unwrap(), |n| async move { n });
    /// let progress = map.progress(); // cloneable; read it from any thread
    /// assert_eq!(progress.snapshot().started, 0); // nothing starts before `start` or `collect`
    /// map.collect().await.unwrap();
    /// let done = progress.snapshot();
    /// assert_eq!((done.started, done.done, done.failed, done.in_flight), (100, 100, 0, 0));
    /// # }
    /// ```
    pub fn progress(&self) -> Progress {
        Progress {
            counters: self.driver.counters.clone(),
        }
    }
}

impl<In, T, E, P> MapStream<In, T, E, P> {
    /// A lock-free handle on the running map's counters (see [`Progress`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use futures::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut map = asyncio::map(0..100, NonZeroUsize::new(8).unwrap(), |n| async move { n }).start();
    /// let progress = map.progress(); // cloneable; read it from any thread
    /// assert_eq!(progress.snapshot().in_flight, 8); // started already
    /// while let Some(item) = map.next().await {
    ///     item.unwrap();
    /// }
    /// let done = progress.snapshot();
    /// assert_eq!((done.started, done.done, done.failed, done.in_flight), (100, 100, 0, 0));
    /// # }
    /// ```
    pub fn progress(&self) -> Progress {
        Progress {
            counters: self.driver.counters.clone(),
        }
    }

    /// Cancels every item in flight now, stops pulling input, and returns a
    /// future that completes once each of those items has finished (its
    /// future dropped), with how many were running. Dropping the stream
    /// cancels too, but cannot wait. Outcomes are dropped: an error quietly,
    /// a panic to the [unobserved-error hook](crate::set_unobserved_error_hook).
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. If the returned future is used as a
    /// branch in `select!` and another branch completes first, the items are
    /// still cancelled (aborted: they stop at their next await point) but
    /// nobody waits for them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use std::time::Duration;
    /// use futures::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let mut slow = asyncio::map(0..100, NonZeroUsize::new(3).unwrap(), |n| async move {
    ///     asyncio::sleep(Duration::from_secs(n)).await;
    ///     n
    /// })
    /// .start();
    /// assert_eq!(slow.next().await.unwrap().unwrap(), (0, 0));
    /// assert_eq!(slow.cancel().await, 3); // 1, 2 and 3 were running
    /// # }
    /// ```
    pub fn cancel(mut self) -> MapCancel<In, T, E>
    where
        E: fmt::Debug + Send + 'static,
    {
        let running = self.driver.running();
        self.driver.cancel_now();
        MapCancel {
            driver: self.driver,
            running,
        }
    }
}

impl<In, T, E, P> Map<In, T, E, P>
where
    E: From<TimeoutError>,
{
    /// Gives every attempt at most `period`: asyncio's `wait_for` around each
    /// call. When it passes, that attempt's future is dropped (it stops at
    /// its await point) and the attempt fails with `E::from(TimeoutError)`,
    /// which the policy and the [retry classifier](Map::retry) then handle
    /// like any error. Needs an error type that can hold a timeout: use
    /// [`try_map`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use std::time::Duration;
    /// use asyncio::{TaskError, TimeoutError};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let outcomes = asyncio::try_map([1, 60], NonZeroUsize::new(2).unwrap(), |secs| async move {
    ///     asyncio::sleep(Duration::from_secs(secs)).await;
    ///     Ok::<_, TimeoutError>(secs)
    /// })
    /// .timeout(Duration::from_secs(5))
    /// .return_exceptions()
    /// .collect()
    /// .await;
    /// assert_eq!(*outcomes[0].as_ref().unwrap(), 1);
    /// assert!(matches!(outcomes[1], Err(TaskError::Failed(TimeoutError))));
    /// # }
    /// ```
    pub fn timeout(mut self, period: Duration) -> Self {
        self.driver.timeout = Some((period, driver::timeout_error::<E>));
        self
    }
}

impl<In: Clone, T, E, P> Map<In, T, E, P> {
    /// Retries failed items: `classify` looks at each error (a timeout
    /// included) and decides ([`Retry`]): retry after the policy's
    /// exponential backoff with jitter, retry after a given delay (a
    /// service's `Retry-After`), slow down (retry, and signal congestion to
    /// the [adaptive limit](Map::adaptive)), or fail. An item is tried at
    /// most `policy`'s attempts, and no retry starts later than its total
    /// time after the first attempt; then the last error is final. Panics
    /// and cancellations are never retried.
    ///
    /// A retry keeps the item's position and its slot: while it waits for
    /// its delay, it counts against the limit, so the input stays bounded.
    /// Each attempt gets a clone of the input.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::{NonZeroU32, NonZeroUsize};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use asyncio::map::{Retry, RetryPolicy};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let calls = Arc::new(AtomicU32::new(0));
    /// let counted = calls.clone();
    /// let values = asyncio::try_map([7], NonZeroUsize::new(1).unwrap(), move |n| {
    ///     let calls = counted.clone();
    ///     async move {
    ///         // Fails twice ("503"), then succeeds.
    ///         if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(503) } else { Ok(n) }
    ///     }
    /// })
    /// .retry(RetryPolicy::new(NonZeroU32::new(5).unwrap()), |status: &u16| {
    ///     if *status == 503 { Retry::Retry } else { Retry::Fail }
    /// })
    /// .collect()
    /// .await
    /// .unwrap();
    /// assert_eq!(values, [7]);
    /// assert_eq!(calls.load(Ordering::SeqCst), 3);
    /// # }
    /// ```
    pub fn retry(
        mut self,
        policy: RetryPolicy,
        classify: impl FnMut(&E) -> Retry + Send + 'static,
    ) -> Self {
        self.driver.retries = Some(Retries {
            attempts: policy.attempts.get(),
            base: policy.base,
            max_delay: policy.max_delay,
            max_elapsed: policy.max_elapsed,
            jitter: policy.jitter,
            classify: Box::new(classify),
            copy: In::clone,
            random: std::collections::hash_map::RandomState::new(),
        });
        self
    }
}

impl<In, T, E> Stream for MapStream<In, T, E, FailFast>
where
    E: fmt::Debug + Send + 'static,
{
    type Item = Result<(usize, T), MapError<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let driver = &mut self.driver;
        match std::task::ready!(cooperatively!(cx, driver.poll_event(cx))) {
            Event::Item(position, Done { outcome, .. }) => match outcome {
                Ok(value) => Poll::Ready(Some(Ok((position, value)))),
                Err(_) => unreachable!("asyncio: a fail-fast map handed out an error item"),
            },
            Event::Stopped(Some((_, TaskError::Panicked(panic)))) => panic.resume(),
            Event::Stopped(Some((position, error))) => {
                Poll::Ready(Some(Err(MapError { position, error })))
            }
            Event::Stopped(None) | Event::End => Poll::Ready(None),
        }
    }
}

impl<In, T, E> Stream for MapStream<In, T, E, ReturnExceptions>
where
    E: fmt::Debug + Send + 'static,
{
    type Item = (usize, Result<T, TaskError<E>>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let driver = &mut self.driver;
        match std::task::ready!(cooperatively!(cx, driver.poll_event(cx))) {
            Event::Item(position, Done { outcome, .. }) => Poll::Ready(Some((position, outcome))),
            Event::Stopped(Some((_, TaskError::Panicked(panic)))) => panic.resume(),
            Event::Stopped(_) | Event::End => Poll::Ready(None),
        }
    }
}

impl<In, T, E> Stream for MapStream<In, T, E, KeepGoing>
where
    E: fmt::Debug + Send + 'static,
{
    type Item = Result<(usize, T), MapErrors<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let driver = &mut self.driver;
        match std::task::ready!(cooperatively!(cx, driver.poll_event(cx))) {
            Event::Item(position, Done { outcome, .. }) => match outcome {
                Ok(value) => Poll::Ready(Some(Ok((position, value)))),
                Err(_) => unreachable!("asyncio: a keep-going map handed out an error item"),
            },
            Event::Stopped(Some((_, TaskError::Panicked(panic)))) => {
                // The panic wins; the errors collected so far would never be
                // seen: they go to the hook, as a task group's do.
                for (_, id, error) in std::mem::take(&mut self.driver.errors) {
                    crate::task::report_unobserved(id, error);
                }
                panic.resume()
            }
            Event::Stopped(_) | Event::End => {
                self.ended = true;
                let mut errors: Vec<MapError<E>> = std::mem::take(&mut self.driver.errors)
                    .into_iter()
                    .map(|(position, _, error)| MapError { position, error })
                    .collect();
                if errors.is_empty() {
                    return Poll::Ready(None);
                }
                errors.sort_by_key(|error| error.position);
                Poll::Ready(Some(Err(MapErrors { errors })))
            }
        }
    }
}

impl<In, T, E, P> MapStream<In, T, E, P> {
    /// Runs the map to the end and collects its output, in input order
    /// whatever the output order: `Result<Vec<T>, MapError<E>>` under
    /// fail-fast, `Vec<Result<T, TaskError<E>>>` under
    /// [`return_exceptions`](Map::return_exceptions),
    /// `Result<Vec<T>, MapErrors<E>>` under [`keep_going`](Map::keep_going)
    /// (the values of the items that succeeded are dropped with the error).
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. If the returned future is used as a
    /// branch in `select!` and another branch completes first, the items in
    /// flight are cancelled and the results collected so far are lost.
    pub fn collect(self) -> Collect<In, T, E, P> {
        Collect {
            map: self,
            values: Vec::new(),
        }
    }
}

/// The future returned by [`MapStream::collect`] and [`Map::collect`].
#[must_use = "futures do nothing unless polled"]
pub struct Collect<In, T, E, P> {
    map: MapStream<In, T, E, P>,
    values: Vec<Option<Result<T, TaskError<E>>>>,
}

impl<In, T, E, P> fmt::Debug for Collect<In, T, E, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Collect")
            .field("map", &self.map)
            .field("collected", &self.values.len())
            .finish()
    }
}

impl<In, T, E, P> Unpin for Collect<In, T, E, P> {}

impl<In, T, E, P> Collect<In, T, E, P> {
    fn place(&mut self, position: usize, outcome: Result<T, TaskError<E>>) {
        if position >= self.values.len() {
            self.values.resize_with(position + 1, || None);
        }
        self.values[position] = Some(outcome);
    }

    /// The values placed so far, in input order (the fail-fast and
    /// keep-going forms place only values).
    fn take_values(&mut self) -> Vec<T> {
        std::mem::take(&mut self.values)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .collect()
    }
}

impl<In, T, E> Future for Collect<In, T, E, FailFast>
where
    E: fmt::Debug + Send + 'static,
{
    type Output = Result<Vec<T>, MapError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match std::task::ready!(Pin::new(&mut self.map).poll_next(cx)) {
                Some(Ok((position, value))) => self.place(position, Ok(value)),
                Some(Err(error)) => return Poll::Ready(Err(error)),
                None => return Poll::Ready(Ok(self.take_values())),
            }
        }
    }
}

impl<In, T, E> Future for Collect<In, T, E, ReturnExceptions>
where
    E: fmt::Debug + Send + 'static,
{
    type Output = Vec<Result<T, TaskError<E>>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match std::task::ready!(Pin::new(&mut self.map).poll_next(cx)) {
                Some((position, outcome)) => self.place(position, outcome),
                None => {
                    let values = std::mem::take(&mut self.values);
                    return Poll::Ready(values.into_iter().flatten().collect());
                }
            }
        }
    }
}

impl<In, T, E> Future for Collect<In, T, E, KeepGoing>
where
    E: fmt::Debug + Send + 'static,
{
    type Output = Result<Vec<T>, MapErrors<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match std::task::ready!(Pin::new(&mut self.map).poll_next(cx)) {
                Some(Ok((position, value))) => self.place(position, Ok(value)),
                Some(Err(errors)) => return Poll::Ready(Err(errors)),
                None => return Poll::Ready(Ok(self.take_values())),
            }
        }
    }
}

/// The future returned by [`MapStream::cancel`]: completes once every item
/// the map cancelled has finished, with how many were running.
///
/// Dropping it before it completes leaves the items aborted, without
/// waiting for them.
#[must_use = "futures do nothing unless polled"]
pub struct MapCancel<In, T, E> {
    driver: Driver<In, T, E>,
    running: usize,
}

impl<In, T, E> fmt::Debug for MapCancel<In, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapCancel")
            .field("map", &self.driver)
            .field("running", &self.running)
            .finish()
    }
}

impl<In, T, E> Unpin for MapCancel<In, T, E> {}

impl<In, T, E> Future for MapCancel<In, T, E>
where
    E: fmt::Debug + Send + 'static,
{
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        loop {
            match std::task::ready!(self.driver.poll_event(cx)) {
                Event::Item(..) => continue,
                Event::Stopped(_) | Event::End => return Poll::Ready(self.running),
            }
        }
    }
}
