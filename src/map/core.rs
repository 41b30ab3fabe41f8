//! The map's own runtime-free parts: the progress counters, and the
//! arithmetic of the adaptive limit and of retry backoff (the core its items
//! publish into is `items.rs`). Sync types from `crate::sync` only, so the
//! loom models in `loom-tests/` drive the counters.
//!
//! Implementer's notes. The map's driver is single-owner: the output stream
//! owns every in-flight task, the reorder buffer, the retry queue, the rate
//! limiter and the adaptive limit, and only the stream's `poll_next` touches
//! them. Its cross-thread hand-offs are the item core (`items.rs`: an item
//! publishes its outcome, which wakes the stream; one lock acquisition per
//! item) and [`Counters`]: the driver is their only writer, and
//! any number of [`Progress`](crate::map::Progress) handles read them from
//! other threads without a lock. The one promise a reader relies on is that
//! a snapshot never shows more items finished than started (so "in flight"
//! computed by a reader never underflows): the driver counts a start before
//! the task can finish, and counts a finish with `Release`; a reader loads
//! the finishes first, with `Acquire`, and the starts after. Reading the
//! starts first, or counting a finish `Relaxed`, breaks it; the loom models
//! check both.

use crate::map::ProgressSnapshot;
use crate::sync::{AtomicUsize, Ordering};

/// The progress counters of one map: written by its driver only, read by
/// any number of progress handles.
#[derive(Debug)]
pub struct Counters {
    started: AtomicUsize,
    done: AtomicUsize,
    failed: AtomicUsize,
    retried: AtomicUsize,
    in_flight: AtomicUsize,
    limit: AtomicUsize,
}

impl Counters {
    /// Fresh counters with `limit` published.
    pub fn new(limit: usize) -> Self {
        Self {
            started: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            retried: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            limit: AtomicUsize::new(limit),
        }
    }

    /// An input's first attempt started (before its task can finish).
    pub fn start(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// An item finished, with a value (`ok`) or not. `Release`: a reader
    /// that sees this finish sees the start counted before it.
    pub fn finish(&self, ok: bool) {
        let counter = if ok { &self.done } else { &self.failed };
        counter.fetch_add(1, ordering!(Ordering::Release, MapProgressFinishRelaxed));
    }

    /// A retry started.
    pub fn retry(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }

    /// Publishes the number of attempts running or waiting to retry.
    pub fn set_in_flight(&self, in_flight: usize) {
        self.in_flight.store(in_flight, Ordering::Relaxed);
    }

    /// Publishes the concurrency limit in force.
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// Reads every counter without a lock. The counters are read one by one
    /// while the driver runs, so a reading is not one instant; but it never
    /// shows more items finished (`done + failed`) than `started`.
    pub fn snapshot(&self) -> ProgressSnapshot {
        let early =
            fault!(MapProgressReadsStartedFirst).then(|| self.started.load(Ordering::Acquire));
        let done = self
            .done
            .load(ordering!(Ordering::Acquire, MapProgressSnapshotRelaxed));
        let failed = self
            .failed
            .load(ordering!(Ordering::Acquire, MapProgressSnapshotRelaxed));
        let started = match early {
            Some(started) => started,
            None => self.started.load(Ordering::Relaxed),
        };
        ProgressSnapshot {
            started,
            done,
            failed,
            retried: self.retried.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            limit: self.limit.load(Ordering::Relaxed),
        }
    }
}

/// Additive-increase / multiplicative-decrease of a concurrency limit within
/// `[min, max]`, as TCP's congestion window.
///
/// The controller keeps a moving average of the congestion rate (the share
/// of completions that were errors or timeouts, each weighing `1 / limit`,
/// so the average spans about one window). While that rate is at most the
/// `tolerance`, every success adds `1 / limit` (a whole window of successes
/// adds one). A failure that lifts the rate above the tolerance, or an
/// explicit slow-down signal whatever the rate, halves the limit, at most
/// once per window: only a signal from an attempt started after the last
/// cut cuts again, so a burst of failures from one window of attempts is one
/// cut, not a collapse.
#[derive(Debug, Clone)]
pub struct Aimd {
    min: usize,
    max: usize,
    current: f64,
    /// Attempts started before this sequence number were in flight at the
    /// last cut: their signals do not cut again.
    recovery: u64,
    rate: f64,
    tolerance: f64,
}

impl Aimd {
    /// A limit starting at `start`, clamped into `[min, max]` (`min <= max`),
    /// tolerating a congestion rate of `tolerance` (in `[0, 1]`).
    pub fn new(min: usize, max: usize, start: usize, tolerance: f64) -> Self {
        debug_assert!(min >= 1 && min <= max);
        Self {
            min,
            max,
            current: start.clamp(min, max) as f64,
            recovery: 0,
            rate: 0.0,
            tolerance,
        }
    }

    /// The limit in force.
    pub fn limit(&self) -> usize {
        (self.current as usize).clamp(self.min, self.max)
    }

    /// The moving average of the congestion rate.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    fn observe(&mut self, signal: f64) {
        let weight = 1.0 / self.current.max(1.0);
        self.rate += weight * (signal - self.rate);
    }

    /// An attempt succeeded.
    pub fn on_success(&mut self) {
        self.observe(0.0);
        if self.rate <= self.tolerance {
            self.current = (self.current + 1.0 / self.current).min(self.max as f64);
        }
    }

    /// An attempt that started with sequence number `started` failed, or
    /// asked to slow down (`explicit`); `next` is the sequence number the
    /// next attempt will get. Returns whether the limit was cut.
    pub fn on_congestion(&mut self, started: u64, next: u64, explicit: bool) -> bool {
        self.observe(1.0);
        if (!explicit && self.rate <= self.tolerance) || started < self.recovery {
            return false;
        }
        self.current = (self.current / 2.0).max(self.min as f64);
        self.recovery = next;
        true
    }
}

/// How retry delays are spread, so that items that failed together do not
/// retry together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// Exactly the exponential delay.
    None,
    /// A uniform delay in `[0, d]` ("full jitter"), where `d` is the
    /// exponential delay.
    #[default]
    Full,
    /// A uniform delay in `[d / 2, d]` ("equal jitter").
    Equal,
}

/// The delay before retry number `retry` (1 for the first retry):
/// `min(max, base · 2^(retry - 1))`, spread by `jitter` with `random`, a
/// uniform number in `[0, 1)`.
pub fn backoff(
    base: std::time::Duration,
    max: std::time::Duration,
    retry: u32,
    jitter: Jitter,
    random: f64,
) -> std::time::Duration {
    let factor = 2_u32.saturating_pow(retry.saturating_sub(1));
    let delay = base.saturating_mul(factor).min(max);
    match jitter {
        Jitter::None => delay,
        Jitter::Full => delay.mul_f64(random),
        Jitter::Equal => delay / 2 + (delay / 2).mul_f64(random),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn aimd_grows_by_one_per_window_and_halves_once_per_window() {
        let mut aimd = Aimd::new(2, 64, 8, 0.0);
        for _ in 0..8 {
            aimd.on_success();
        }
        assert_eq!(aimd.limit(), 8, "8 successes at 8 add a little under one");
        aimd.on_success();
        assert_eq!(aimd.limit(), 9);
        assert!(aimd.on_congestion(0, 100, false));
        assert_eq!(aimd.limit(), 4);
        assert!(
            !aimd.on_congestion(99, 101, false),
            "same window: no second cut"
        );
        assert!(aimd.on_congestion(100, 102, false));
        assert_eq!(aimd.limit(), 2);
        assert!(aimd.on_congestion(102, 103, false));
        assert_eq!(aimd.limit(), 2, "never below min");
        aimd.on_success();
        assert_eq!(
            aimd.limit(),
            2,
            "no growth while the rate is above tolerance"
        );
    }

    #[test]
    fn aimd_tolerates_a_low_error_rate_but_not_a_slow_down() {
        let mut aimd = Aimd::new(2, 64, 32, 0.05);
        for n in 0..3000 {
            if n % 50 == 0 {
                assert!(!aimd.on_congestion(n, n + 1, false), "2% is tolerated");
            } else {
                aimd.on_success();
            }
        }
        assert_eq!(aimd.limit(), 64, "it grew to its ceiling");
        assert!(
            aimd.on_congestion(1000, 1001, true),
            "a slow-down always cuts"
        );
        assert_eq!(aimd.limit(), 32);
        for n in 0..20 {
            aimd.on_congestion(1001 + n, 1002 + n, false);
        }
        assert!(aimd.limit() < 32, "a high error rate cuts");
    }

    #[test]
    fn aimd_stays_below_max() {
        let mut aimd = Aimd::new(1, 3, 100, 0.0);
        assert_eq!(aimd.limit(), 3);
        for _ in 0..100 {
            aimd.on_success();
        }
        assert_eq!(aimd.limit(), 3);
    }

    #[test]
    fn backoff_doubles_up_to_max_and_jitter_stays_in_range() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        assert_eq!(backoff(base, max, 1, Jitter::None, 0.7), base);
        assert_eq!(backoff(base, max, 3, Jitter::None, 0.7), base * 4);
        assert_eq!(backoff(base, max, 30, Jitter::None, 0.7), max);
        assert_eq!(backoff(base, max, 2, Jitter::Full, 0.5), base);
        assert_eq!(backoff(base, max, 2, Jitter::Equal, 0.0), base);
        assert_eq!(backoff(base, max, 2, Jitter::Equal, 0.5), base * 3 / 2);
    }
}
