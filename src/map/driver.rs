//! The map's driver: the single owner of every in-flight item, polled only
//! through the output stream (or a collect / cancel future that owns it).
//!
//! Implementer's notes. Each item runs as its own tokio task, wrapped in an
//! [`Item`] that publishes its outcome into the map's [`ItemCore`] under the
//! item's slot index and wakes the stream; no item has a [`Task`](crate::Task)
//! of its own (nobody outside the map awaits it). Every in-flight item sits
//! in a slot with its `JoinHandle` (the tokio layer: only to abort it), and
//! the driver never revisits a pending item. One poll of the driver:
//!
//! 1. takes the outcomes the core queued (registering the stream's waker in
//!    the same step) and applies the error policy, the retry classifier and
//!    the adaptive limit to each;
//! 2. starts due retries, then pulls fresh inputs while a slot is free, the
//!    output window has room and the rate limiter has a token (pulling from
//!    the input stream registers the stream's waker with it);
//! 3. hands out the next output: in ordered mode the reorder buffer's head
//!    if it has finished, in unordered mode the oldest completion.
//!
//! The windows: a fresh input starts only while `running + waiting-to-retry
//! < limit` and, in ordered mode, while its position is below
//! `next output + window` (in unordered mode while `running + waiting +
//! finished-not-yet-handed-out < window`). So at most `limit` inputs are
//! alive in tasks or retry queues, and at most `window` outcomes are held
//! at once; the window is the larger of the caller's and the limit's upper
//! bound.
//!
//! Retries waiting for their delay sit in a plain vector scanned for the
//! earliest due time: at most `limit` of them, since a waiting retry keeps
//! its slot, and only maps that retry pay for the scan.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::future::IntoFuture;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::core::{backoff, Aimd, Counters, Jitter};
pub(crate) use super::items::Outcome;
use super::items::{Finished, Item, ItemCore};
use crate::sync::Arc;
use crate::task::core::{discard, Infallibly};
use crate::task::{report_unobserved, TaskError, TaskId};
use crate::timeout::{deadline_after, TimeoutError, Timer};

/// The boxed input stream.
pub(crate) type Source<In> = Pin<Box<dyn Stream<Item = In> + Send>>;

/// What starts one attempt: the user's function, spawned as a task in an
/// [`Item`] that publishes into the core under the given slot index; with a
/// per-attempt timeout when one is given (the timeout's error, converted to
/// `E`).
pub(crate) type Spawner<In, T, E> = Box<
    dyn FnMut(
            &Handle,
            In,
            Option<(Duration, fn() -> E)>,
            &Arc<ItemCore<T, E>>,
            usize,
        ) -> JoinHandle<()>
        + Send,
>;

/// What a retry classifier says about one error.
pub(crate) type Classifier<E> = Box<dyn FnMut(&E) -> super::Retry + Send>;

/// The error policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    FailFast,
    ReturnExceptions,
    KeepGoing,
}

/// An input stream made of an iterator. Never pinned in place: the iterator
/// is only moved, never projected.
pub(crate) struct IterSource<I>(pub(crate) I);

impl<I> Unpin for IterSource<I> {}

impl<I: Iterator> Stream for IterSource<I> {
    type Item = I::Item;
    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<I::Item>> {
        Poll::Ready(self.get_mut().0.next())
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

/// One attempt in flight.
struct Flight<In> {
    /// Only to abort the attempt: its outcome comes through the core.
    join: JoinHandle<()>,
    id: TaskId,
    position: usize,
    /// Attempts made so far, this one included.
    attempt: u32,
    /// The sequence number of this attempt's start (for the adaptive limit).
    seq: u64,
    /// When the first attempt started (retries only).
    first_start: Option<Instant>,
    /// A copy of the input, for a retry (retries only).
    input: Option<In>,
}

/// An item waiting to retry.
struct Waiting<In> {
    due: Instant,
    position: usize,
    attempts: u32,
    first_start: Option<Instant>,
    input: In,
}

/// A finished item not yet handed out.
pub(crate) struct Done<T, E> {
    pub(crate) id: TaskId,
    pub(crate) outcome: Outcome<T, E>,
}

/// The retry configuration.
pub(crate) struct Retries<In, E> {
    pub(crate) attempts: u32,
    pub(crate) base: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) max_elapsed: Option<Duration>,
    pub(crate) jitter: Jitter,
    pub(crate) classify: Classifier<E>,
    pub(crate) copy: fn(&In) -> In,
    pub(crate) random: std::collections::hash_map::RandomState,
}

/// The token bucket of starts per second.
pub(crate) struct RateLimit {
    pub(crate) per_second: f64,
    pub(crate) burst: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimit {
    pub(crate) fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second),
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: None,
        }
    }

    /// Takes a token, or says when the next one will be there.
    fn take(&mut self, now: Instant) -> Result<(), Instant> {
        if let Some(last) = self.last {
            let earned = now.saturating_duration_since(last).as_secs_f64() * self.per_second;
            self.tokens = (self.tokens + earned).min(self.burst);
        }
        self.last = Some(now);
        // A hair of slack: a token earned exactly at its deadline must not
        // be missed by a rounding error (and cost one more timer tick).
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens = (self.tokens - 1.0).max(0.0);
            Ok(())
        } else {
            let wait = (1.0 - self.tokens) / self.per_second;
            Err(now + Duration::from_secs_f64(wait))
        }
    }
}

/// Where the driver is.
enum Phase<E> {
    Running,
    /// Cancelling what is in flight and waiting for it: fail fast, a panic,
    /// or `cancel()`. The error to hand out once everything has finished
    /// (`None` for `cancel()`), with the item's task id.
    Stopping {
        error: Option<(usize, TaskId, TaskError<E>)>,
        grace_deadline: Option<Instant>,
        aborted: bool,
    },
    Finished,
}

/// What one poll of the driver hands out.
pub(crate) enum Event<T, E> {
    /// An item's outcome, with its position. Under fail-fast only values;
    /// under keep-going only values (errors go to the group).
    Item(usize, Done<T, E>),
    /// The map stopped on this error (or on `cancel()`, `None`), after every
    /// item in flight finished. A panic is in it as `Panicked`.
    Stopped(Option<(usize, TaskError<E>)>),
    /// Every input was handled.
    End,
}

pub(crate) struct Driver<In, T, E> {
    source: Option<Source<In>>,
    /// An input pulled before its token came: only from a source whose
    /// size hint said it was exhausted while it was not (see `pull`).
    early: Option<In>,
    spawner: Spawner<In, T, E>,
    /// The runtime the items are spawned on, found at the start and kept
    /// (looking it up per item costs a shared reference count).
    runtime: Option<Handle>,
    pub(crate) mode: Mode,
    pub(crate) ordered: bool,
    items: Arc<ItemCore<T, E>>,
    /// In-flight attempts by slot index (the index each item publishes
    /// under), with a free list. `wait`'s core keeps the same allocator for
    /// its slots; one shared helper would serve both.
    slots: Vec<Option<Flight<In>>>,
    free: Vec<usize>,
    running: usize,
    batch: Vec<(usize, Finished<T, E>)>,
    next_position: usize,
    next_seq: u64,
    /// Ordered mode: the outcome of each position from `next_out` on
    /// (`None` while it runs).
    reorder: VecDeque<Option<Done<T, E>>>,
    next_out: usize,
    /// Unordered mode: finished items in completion order.
    done: VecDeque<(usize, Done<T, E>)>,
    waiting: Vec<Waiting<In>>,
    /// Keep-going: the errors so far.
    pub(crate) errors: Vec<(usize, TaskId, TaskError<E>)>,
    phase: Phase<E>,
    pub(crate) limit: usize,
    pub(crate) window: usize,
    pub(crate) aimd: Option<Aimd>,
    pub(crate) timeout: Option<(Duration, fn() -> E)>,
    pub(crate) retries: Option<Retries<In, E>>,
    pub(crate) rate: Option<RateLimit>,
    pub(crate) grace: Option<(CancellationToken, Duration)>,
    pub(crate) counters: Arc<Counters>,
    retry_timer: Timer,
    rate_timer: Timer,
    grace_timer: Timer,
}

impl<In, T, E> fmt::Debug for Driver<In, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("ordered", &self.ordered)
            .field("mode", &self.mode)
            .field("limit", &self.current_limit())
            .field("running", &self.running)
            .field("waiting_to_retry", &self.waiting.len())
            .field("next_position", &self.next_position)
            .field("input_exhausted", &self.source.is_none())
            .finish()
    }
}

impl<In, T, E> Driver<In, T, E> {
    pub(crate) fn new(source: Source<In>, spawner: Spawner<In, T, E>, limit: usize) -> Self {
        Self {
            source: Some(source),
            early: None,
            spawner,
            runtime: None,
            mode: Mode::FailFast,
            ordered: true,
            items: Arc::new(ItemCore::new(report_panic::<E>)),
            slots: Vec::new(),
            free: Vec::new(),
            running: 0,
            batch: Vec::new(),
            next_position: 0,
            next_seq: 0,
            reorder: VecDeque::new(),
            next_out: 0,
            done: VecDeque::new(),
            waiting: Vec::new(),
            errors: Vec::new(),
            phase: Phase::Running,
            limit,
            window: limit.saturating_mul(2),
            aimd: None,
            timeout: None,
            retries: None,
            rate: None,
            grace: None,
            counters: Arc::new(Counters::new(limit)),
            retry_timer: Timer::default(),
            rate_timer: Timer::default(),
            grace_timer: Timer::default(),
        }
    }

    pub(crate) fn current_limit(&self) -> usize {
        match &self.aimd {
            Some(aimd) => aimd.limit(),
            None => self.limit,
        }
    }

    /// The output window in force.
    fn window(&self) -> usize {
        let ceiling = match &self.aimd {
            Some(aimd) => aimd.limit().max(self.limit),
            None => self.limit,
        };
        self.window.max(ceiling)
    }

    fn publish_in_flight(&self) {
        self.counters
            .set_in_flight(self.running + self.waiting.len());
    }
}

impl<In, T, E> Driver<In, T, E>
where
    E: fmt::Debug + Send + 'static,
{
    /// Starts the map: finds the runtime (or panics at the caller's line),
    /// then starts every input that is ready without waiting. A stream
    /// input is polled with a no-op waker; if it is pending, the first
    /// `poll_event` polls it again with the consumer's waker (a stream
    /// wakes only the waker of its latest poll), and so do the rate timer
    /// and the item core, which `poll_event` registers with before it waits.
    #[track_caller]
    pub(crate) fn start(&mut self) {
        self.runtime = Some(crate::task::current_runtime());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        self.refill(&mut cx);
    }

    /// One step of the map (see the module notes).
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Event<T, E>> {
        loop {
            self.collect(cx);
            match &self.phase {
                Phase::Finished => return Poll::Ready(Event::End),
                Phase::Stopping { .. } => return self.poll_stopping(cx),
                Phase::Running => {}
            }
            let progressed = self.refill(cx);
            if !matches!(self.phase, Phase::Running) {
                continue;
            }
            if let Some(event) = self.pop_output() {
                return Poll::Ready(event);
            }
            if self.source.is_none()
                && self.running == 0
                && self.waiting.is_empty()
                && self.reorder.is_empty()
                && self.done.is_empty()
            {
                self.phase = Phase::Finished;
                return Poll::Ready(Event::End);
            }
            if !progressed {
                return Poll::Pending;
            }
        }
    }

    /// Takes the outcomes the core queued.
    fn collect(&mut self, cx: &mut Context<'_>) {
        self.items.drain(cx.waker(), &mut self.batch);
        // Taken from the back, in publishing order: the entries not yet
        // handled stay in `self.batch`, so that if user code run on the way
        // (a retry classifier) panics, the driver's drop still sees them
        // and no item's panic is lost.
        self.batch.reverse();
        while let Some((index, finished)) = self.batch.pop() {
            match finished {
                Finished::Done(outcome) => self.complete(index, outcome),
                Finished::Displaced(error) => {
                    if let Some(flight) = &self.slots[index] {
                        report_unobserved(flight.id, error);
                    }
                }
            }
        }
    }

    /// The attempt in slot `index` finished with `outcome`.
    fn complete(&mut self, index: usize, outcome: Outcome<T, E>) {
        let Some(flight) = self.slots[index].take() else {
            unreachable!("asyncio: a map item published twice");
        };
        self.free.push(index);
        self.running -= 1;
        let id = flight.id;
        drop(flight.join);
        if let Phase::Stopping { .. } = self.phase {
            // Cancelled by the map (or finished as it stopped): no value
            // reaches the output, so it counts as failed.
            self.counters.finish(false);
            self.absorb(flight.position, id, outcome);
            self.publish_in_flight();
            return;
        }
        let outcome = match outcome {
            Ok(value) => {
                if let Some(aimd) = &mut self.aimd {
                    aimd.on_success();
                }
                Ok(value)
            }
            Err(TaskError::Failed(error)) => {
                match self.retry_or_fail(
                    id,
                    flight.position,
                    flight.attempt,
                    flight.seq,
                    flight.first_start,
                    flight.input,
                    error,
                ) {
                    // A retry keeps its slot: in flight is unchanged.
                    None => return,
                    Some(error) => Err(TaskError::Failed(error)),
                }
            }
            Err(other) => Err(other),
        };
        self.counters.finish(outcome.is_ok());
        self.publish_limit();
        // In flight is published by the `refill` that follows every
        // completion while running: once per poll, not once per item.
        self.deliver(flight.position, Done { id, outcome });
    }

    /// A failed attempt: schedules a retry (and returns `None`) if the
    /// classifier and the bounds allow one; otherwise hands the error back.
    #[allow(clippy::too_many_arguments)] // one attempt's whole record
    fn retry_or_fail(
        &mut self,
        id: TaskId,
        position: usize,
        attempt: u32,
        seq: u64,
        first_start: Option<Instant>,
        input: Option<In>,
        error: E,
    ) -> Option<E> {
        let next_seq = self.next_seq;
        let Some(retries) = &mut self.retries else {
            self.congestion(seq, next_seq, false);
            return Some(error);
        };
        let verdict = (retries.classify)(&error);
        let explicit = matches!(verdict, super::Retry::SlowDown);
        let delay = match verdict {
            super::Retry::Fail => None,
            super::Retry::RetryAfter(delay) => Some(delay),
            super::Retry::Retry | super::Retry::SlowDown => {
                let mut hasher = retries.random.build_hasher();
                hasher.write_usize(position);
                hasher.write_u32(attempt);
                let random = (hasher.finish() >> 11) as f64 / (1_u64 << 53) as f64;
                Some(backoff(
                    retries.base,
                    retries.max_delay,
                    attempt,
                    retries.jitter,
                    random,
                ))
            }
        };
        // Every failure is a congestion signal (an error, a timeout, a
        // slow-down), retried or not.
        self.congestion(seq, next_seq, explicit);
        let retries = self.retries.as_ref().expect("checked above");
        let (Some(delay), Some(input)) = (delay, input) else {
            return Some(error);
        };
        if attempt >= retries.attempts {
            return Some(error);
        }
        let now = Instant::now();
        let due = now + delay;
        if let (Some(max), Some(first)) = (retries.max_elapsed, first_start) {
            if due.saturating_duration_since(first) > max {
                return Some(error);
            }
        }
        // The error is replaced by the retry: the classifier saw it.
        discard(report_unobserved::<E>, id, error);
        self.waiting.push(Waiting {
            due,
            position,
            attempts: attempt,
            first_start,
            input,
        });
        None
    }

    fn congestion(&mut self, seq: u64, next_seq: u64, explicit: bool) {
        if let Some(aimd) = &mut self.aimd {
            aimd.on_congestion(seq, next_seq, explicit);
        }
        self.publish_limit();
    }

    fn publish_limit(&self) {
        if let Some(aimd) = &self.aimd {
            self.counters.set_limit(aimd.limit());
        }
    }

    /// Applies the policy to a finished item (not retried).
    fn deliver(&mut self, position: usize, done: Done<T, E>) {
        match (&done.outcome, self.mode) {
            (Ok(_), _) | (Err(_), Mode::ReturnExceptions) => {}
            (Err(TaskError::Panicked(_)), _) | (Err(_), Mode::FailFast) => {
                let Err(error) = done.outcome else {
                    unreachable!()
                };
                self.stop(Some((position, done.id, error)));
                return;
            }
            (Err(_), Mode::KeepGoing) if !self.ordered => {
                let Err(error) = done.outcome else {
                    unreachable!()
                };
                self.errors.push((position, done.id, error));
                return;
            }
            (Err(_), Mode::KeepGoing) => {}
        }
        if self.ordered {
            let offset = position - self.next_out;
            self.reorder[offset] = Some(done);
        } else {
            self.done.push_back((position, done));
        }
    }

    /// The next output, if one is ready.
    fn pop_output(&mut self) -> Option<Event<T, E>> {
        if !self.ordered {
            return self
                .done
                .pop_front()
                .map(|(position, done)| Event::Item(position, done));
        }
        while let Some(Some(_)) = self.reorder.front() {
            let done = self.reorder.pop_front().flatten().expect("checked");
            let position = self.next_out;
            self.next_out += 1;
            match done.outcome {
                Err(error) if self.mode == Mode::KeepGoing => {
                    self.errors.push((position, done.id, error));
                }
                outcome => {
                    return Some(Event::Item(
                        position,
                        Done {
                            id: done.id,
                            outcome,
                        },
                    ))
                }
            }
        }
        None
    }

    /// Starts due retries and fresh inputs. Returns whether an attempt
    /// finished at once (the caller loops to collect it).
    fn refill(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        if !self.waiting.is_empty() {
            progressed |= self.start_due_retries(cx);
        }
        loop {
            if !matches!(self.phase, Phase::Running) {
                return true;
            }
            if self.source.is_none() {
                break;
            }
            let occupied = self.running + self.waiting.len();
            if occupied >= self.current_limit() {
                break;
            }
            let window = self.window();
            let room = if self.ordered {
                self.next_position - self.next_out < window
            } else {
                occupied + self.done.len() < window
            };
            if !room {
                break;
            }
            if !self.take_token(cx) {
                self.find_end_early(cx);
                break;
            }
            let source = self.source.as_mut().expect("checked above");
            let input = match self.early.take() {
                Some(input) => input,
                None => match source.as_mut().poll_next(cx) {
                    Poll::Ready(Some(input)) => input,
                    Poll::Ready(None) => {
                        self.source = None;
                        self.give_back_token();
                        break;
                    }
                    Poll::Pending => {
                        self.give_back_token();
                        break;
                    }
                },
            };
            let position = self.next_position;
            self.next_position += 1;
            if self.ordered {
                self.reorder.push_back(None);
            }
            self.counters.start();
            let first_start = self.retries.as_ref().map(|_| Instant::now());
            progressed |= self.launch(position, 1, first_start, input);
        }
        self.publish_in_flight();
        progressed
    }

    /// Without a token the source is not pulled, so the map would learn
    /// that its input ended only when the next token came, up to one
    /// interval after its last item finished. An input that says it is
    /// exhausted (an iterator's or a stream's size hint) is pulled once to
    /// confirm it. A hint is not trusted blindly: if the pull yields an
    /// input after all, it is kept for the next token, not lost.
    fn find_end_early(&mut self, cx: &mut Context<'_>) {
        let Some(source) = self.source.as_mut() else {
            return;
        };
        if self.early.is_some() || source.size_hint().1 != Some(0) {
            return;
        }
        match source.as_mut().poll_next(cx) {
            Poll::Ready(None) => self.source = None,
            Poll::Ready(Some(input)) => self.early = Some(input),
            Poll::Pending => {}
        }
    }

    fn take_token(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(rate) = &mut self.rate else {
            return true;
        };
        match rate.take(Instant::now()) {
            Ok(()) => true,
            Err(when) => {
                // Arms the timer; if it has already passed, the next loop
                // round finds a token.
                if self.rate_timer.poll_expired(Some(when), 0, cx) {
                    cx.waker().wake_by_ref();
                }
                false
            }
        }
    }

    fn give_back_token(&mut self) {
        if let Some(rate) = &mut self.rate {
            rate.tokens = (rate.tokens + 1.0).min(rate.burst);
        }
    }

    fn start_due_retries(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progressed = false;
        loop {
            let now = Instant::now();
            let Some(next) = self
                .waiting
                .iter()
                .enumerate()
                .min_by_key(|(_, waiting)| waiting.due)
                .map(|(index, waiting)| (index, waiting.due))
            else {
                return progressed;
            };
            if next.1 > now {
                if self.retry_timer.poll_expired(Some(next.1), 0, cx) {
                    continue;
                }
                return progressed;
            }
            if !self.take_token(cx) {
                return progressed;
            }
            let waiting = self.waiting.swap_remove(next.0);
            self.counters.retry();
            progressed |= self.launch(
                waiting.position,
                waiting.attempts + 1,
                waiting.first_start,
                waiting.input,
            );
        }
    }

    /// Starts one attempt. Returns whether it had finished already.
    fn launch(
        &mut self,
        position: usize,
        attempt: u32,
        first_start: Option<Instant>,
        input: In,
    ) -> bool {
        let copy = self.retries.as_ref().map(|retries| (retries.copy)(&input));
        let runtime = self
            .runtime
            .get_or_insert_with(crate::task::current_runtime);
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let join = (self.spawner)(runtime, input, self.timeout, &self.items, index);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.slots[index] = Some(Flight {
            join,
            id: TaskId::next(),
            position,
            attempt,
            seq,
            first_start,
            input: copy,
        });
        self.running += 1;
        // An attempt that ended at once (a runtime shutting down drops it
        // inside `spawn`) is in the core's queue: the next collect takes it.
        false
    }

    /// Enters the stopping phase: stops pulling, drops what waits (retries,
    /// outcomes not handed out), and cancels what runs (at once, or after
    /// the grace period).
    pub(crate) fn stop(&mut self, error: Option<(usize, TaskId, TaskError<E>)>) {
        self.source = None;
        self.early = None;
        self.waiting.clear();
        let next_out = self.next_out;
        for (offset, done) in std::mem::take(&mut self.reorder).into_iter().enumerate() {
            match done {
                // Keep-going errors waiting behind a running item are errors
                // the map collected: they go with the others (to the hook,
                // if a panic stops the map).
                Some(Done {
                    id,
                    outcome: Err(error),
                }) if self.mode == Mode::KeepGoing => {
                    self.errors.push((next_out + offset, id, error));
                }
                Some(done) => drop_outcome(done),
                None => {}
            }
        }
        for (_, done) in self.done.drain(..) {
            drop_outcome(done);
        }
        let grace_deadline = match &self.grace {
            Some((token, period)) => {
                token.cancel();
                Some(deadline_after(*period))
            }
            None => None,
        };
        let aborted = grace_deadline.is_none();
        if aborted {
            self.cancel_running();
        }
        self.phase = Phase::Stopping {
            error,
            grace_deadline,
            aborted,
        };
        self.publish_in_flight();
    }

    /// `cancel()`: stops now, keeping no error to hand out (a panic kept
    /// for that goes to the hook).
    pub(crate) fn cancel_now(&mut self) {
        match &mut self.phase {
            Phase::Running => self.stop(None),
            Phase::Stopping { error, .. } => {
                // An error is dropped quietly; a panic is never lost.
                if let Some((_, id, panic @ TaskError::Panicked(_))) = error.take() {
                    report_unobserved::<E>(id, panic);
                }
            }
            Phase::Finished => {}
        }
    }

    /// How many attempts are running.
    pub(crate) fn running(&self) -> usize {
        self.running
    }

    fn cancel_running(&self) {
        for flight in self.slots.iter().flatten() {
            flight.join.abort();
        }
    }

    /// An outcome that arrives while stopping: a value is dropped, an error
    /// quietly (the map already has its error), a panic outranks an ordinary
    /// error or goes to the hook.
    fn absorb(&mut self, position: usize, id: TaskId, outcome: Outcome<T, E>) {
        let Phase::Stopping { error, .. } = &mut self.phase else {
            unreachable!("asyncio: a map absorbed an outcome while running")
        };
        match outcome {
            Err(TaskError::Panicked(panic)) => {
                if matches!(error, Some((_, _, e)) if !e.is_panic()) {
                    let old = error.replace((position, id, TaskError::Panicked(panic)));
                    if let Some((_, old_id, old)) = old {
                        discard(report_unobserved::<E>, old_id, old);
                    }
                } else {
                    report_unobserved::<E>(id, TaskError::Panicked(panic));
                }
            }
            outcome => discard(report_unobserved::<E>, id, outcome),
        }
    }

    fn poll_stopping(&mut self, cx: &mut Context<'_>) -> Poll<Event<T, E>> {
        let Phase::Stopping {
            grace_deadline,
            aborted,
            ..
        } = &mut self.phase
        else {
            unreachable!()
        };
        if self.running > 0 && !*aborted && self.grace_timer.poll_expired(*grace_deadline, 0, cx) {
            *aborted = true;
            self.cancel_running();
        }
        if self.running > 0 {
            return Poll::Pending;
        }
        let Phase::Stopping { error, .. } = std::mem::replace(&mut self.phase, Phase::Finished)
        else {
            unreachable!()
        };
        Poll::Ready(Event::Stopped(
            error.map(|(position, _, error)| (position, error)),
        ))
    }
}

impl<In, T, E> Drop for Driver<In, T, E> {
    fn drop(&mut self) {
        // Drop cannot wait: every attempt still running is aborted and stops
        // at its next await point after this returns. Whatever it ends with
        // (or ended with, queued and not collected) was the map's to observe:
        // the core drops an error quietly and reports a panic.
        let ids = self
            .slots
            .iter()
            .map(|slot| slot.as_ref().map(|flight| flight.id))
            .collect();
        self.items.close(ids);
        // Entries taken from the core but not handled (a panic unwound
        // through `collect`): nobody's now, as what `close` found.
        for (index, finished) in std::mem::take(&mut self.batch) {
            // Every entry not handled is of an item still in its slot.
            let id = self.slots[index]
                .as_ref()
                .map_or(TaskId::from_raw(0), |flight| flight.id);
            let outcome = match finished {
                Finished::Done(outcome) => outcome,
                Finished::Displaced(error) => Err(error),
            };
            drop_outcome(Done { id, outcome });
        }
        for flight in self.slots.iter_mut().filter_map(Option::take) {
            flight.join.abort();
        }
        for done in std::mem::take(&mut self.reorder).into_iter().flatten() {
            drop_outcome(done);
        }
        for (_, done) in std::mem::take(&mut self.done) {
            drop_outcome(done);
        }
        for (_, id, error) in std::mem::take(&mut self.errors) {
            drop_outcome(Done::<(), E> {
                id,
                outcome: Err(error),
            });
        }
    }
}

/// Drops a finished item's outcome on nobody's behalf: a panic goes to the
/// hook (panics are never lost), an error is dropped quietly (the map
/// observed it), and a panic from a value's or an error's destructor is
/// caught and reported as the item's (the crate's one `discard`).
fn drop_outcome<T, E>(done: Done<T, E>) {
    match done.outcome {
        Err(error @ TaskError::Panicked(_)) => report_panic(done.id, error),
        outcome => discard(report_panic::<E>, done.id, outcome),
    }
}

/// A `Report` that passes panics to the hook and drops the rest quietly.
fn report_panic<E>(task: TaskId, error: TaskError<E>) {
    if let TaskError::Panicked(panic) = error {
        crate::hook::report(crate::hook::Unobserved::Panicked { task, panic });
    }
}

/// Builds the spawner of a `Result` future.
pub(crate) fn try_spawner<In, F, Fut, T, E>(mut f: F) -> Spawner<In, T, E>
where
    F: FnMut(In) -> Fut + Send + 'static,
    Fut: IntoFuture<Output = Result<T, E>>,
    Fut::IntoFuture: Send + 'static,
    T: Send + 'static,
    E: fmt::Debug + Send + 'static,
{
    Box::new(move |runtime, input, timeout, core, index| {
        let future = f(input).into_future();
        match timeout {
            None => runtime.spawn(Item::new(future, core.clone(), index)),
            Some((period, error)) => runtime.spawn(Item::new(
                async move {
                    match tokio::time::timeout(period, future).await {
                        Ok(outcome) => outcome,
                        Err(_) => Err(error()),
                    }
                },
                core.clone(),
                index,
            )),
        }
    })
}

/// Builds the spawner of a plain future.
pub(crate) fn spawner<In, F, Fut>(mut f: F) -> Spawner<In, Fut::Output, Infallible>
where
    F: FnMut(In) -> Fut + Send + 'static,
    Fut: IntoFuture,
    Fut::IntoFuture: Send + 'static,
    Fut::Output: Send + 'static,
{
    // A plain map has no timeout: its error type cannot hold one.
    Box::new(move |runtime, input, _, core, index| {
        let future = f(input).into_future();
        // The transparent adapter, not an `async move { Ok(future.await) }`
        // block, which would hold the future twice (see `Infallibly`).
        runtime.spawn(Item::new(Infallibly::new(future), core.clone(), index))
    })
}

/// The error a timed-out attempt fails with.
pub(crate) fn timeout_error<E: From<TimeoutError>>() -> E {
    E::from(TimeoutError)
}
