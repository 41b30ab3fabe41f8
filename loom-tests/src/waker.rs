//! A waker that records being woken, to check liveness without loom's
//! deadlock detector (which aborts the process instead of failing a test).
//!
//! Liveness is "woken since the last poll", never "ever woken": a wake that
//! an earlier poll already consumed proves nothing about a later poll that
//! registered nothing. [`Recorder::poll`] starts a new count at each poll,
//! [`Recorder::woken_since_poll`] reads it, and [`Recorder::poll_if_woken`]
//! and [`Recorder::settle`] poll again on each wake, as an executor would.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};

/// Counts wake-ups. Create one per model iteration.
#[derive(Debug, Default)]
pub struct WakeCounter {
    wakes: AtomicUsize,
}

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A recording waker and its counter. Clones share the counter (a clone
/// given to a timer thread wakes the same waiter).
///
/// The counts are loom atomics, so that a wake, the start of a poll and an
/// executor's look at the count are each a point where loom may switch
/// threads: with std atomics, a wake could never land between two of the
/// waiter's steps that touch no loom object, and a wake issued just before
/// a poll would be counted as one that came during it. `SeqCst` is what an
/// executor's run queue gives: the polled task sees what the waker did
/// before it woke it.
#[derive(Clone)]
pub struct Recorder {
    counter: Arc<WakeCounter>,
    /// The wake count when the last poll started.
    polled_at: Arc<AtomicUsize>,
    waker: Waker,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Default for Recorder {
    fn default() -> Self {
        let counter = Arc::new(WakeCounter::default());
        let waker = Waker::from(counter.clone());
        Self {
            counter,
            polled_at: Arc::default(),
            waker,
        }
    }
}

/// How many times [`Recorder::settle`] polls a future that keeps being woken
/// and stays pending before it calls that a livelock.
const SETTLE_ROUNDS: usize = 16;

impl Recorder {
    /// A fresh recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times the waker was woken in all.
    pub fn wakes(&self) -> usize {
        self.counter.wakes.load(Ordering::SeqCst)
    }

    /// Whether the waker was woken since the last poll started. A wake
    /// during a poll counts: an executor polls again after it.
    pub fn woken_since_poll(&self) -> bool {
        self.wakes() > self.polled_at.load(Ordering::SeqCst)
    }

    /// Wakes the waker, as a timer or another thread would.
    pub fn wake(&self) {
        self.waker.wake_by_ref();
    }

    /// The waker, to poll with by hand.
    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// Polls `poll` once with this waker; wakes from now on count for the
    /// next poll.
    pub fn poll<R>(&self, poll: impl FnOnce(&mut Context<'_>) -> Poll<R>) -> Poll<R> {
        self.polled_at.store(self.wakes(), Ordering::SeqCst);
        let mut cx = Context::from_waker(&self.waker);
        poll(&mut cx)
    }

    /// One step of an executor, for a future whose last poll was pending:
    /// polls it again if it was woken since, and returns `None` otherwise.
    /// Placed between the steps of a model's main thread, it lets loom put a
    /// wake-driven poll anywhere among the other threads' steps.
    pub fn poll_if_woken<R>(
        &self,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<R>,
    ) -> Option<Poll<R>> {
        self.woken_since_poll().then(|| self.poll(poll))
    }

    /// Drives a future to completion once every other thread of the model
    /// has finished, as an executor would: while its last poll (`last`) was
    /// pending, it must have been woken since that poll (or it would hang,
    /// and the model fails with `not_woken`), and each wake polls it again.
    pub fn settle<R>(
        &self,
        mut last: Poll<R>,
        mut poll: impl FnMut(&mut Context<'_>) -> Poll<R>,
        not_woken: &str,
    ) -> R {
        for _ in 0..SETTLE_ROUNDS {
            match last {
                Poll::Ready(ready) => return ready,
                Poll::Pending => {
                    assert!(self.woken_since_poll(), "{not_woken}");
                    last = self.poll(&mut poll);
                }
            }
        }
        match last {
            Poll::Ready(ready) => ready,
            Poll::Pending => panic!("still pending after {SETTLE_ROUNDS} wakes: a livelock"),
        }
    }
}
