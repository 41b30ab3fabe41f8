//! A waker that records being woken, to check liveness without loom's
//! deadlock detector (which aborts the process instead of failing a test).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

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

/// A recording waker and its counter.
#[derive(Debug, Clone)]
pub struct Recorder {
    counter: Arc<WakeCounter>,
    waker: Waker,
}

impl Default for Recorder {
    fn default() -> Self {
        let counter = Arc::new(WakeCounter::default());
        let waker = Waker::from(counter.clone());
        Self { counter, waker }
    }
}

impl Recorder {
    /// A fresh recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times the waker was woken.
    pub fn wakes(&self) -> usize {
        self.counter.wakes.load(Ordering::SeqCst)
    }

    /// Whether the waker was woken at least once.
    pub fn woken(&self) -> bool {
        self.wakes() > 0
    }

    /// Wakes the waker, as a timer or another thread would.
    pub fn wake(&self) {
        self.waker.wake_by_ref();
    }

    /// Polls `poll` once with this waker.
    pub fn poll<R>(&self, poll: impl FnOnce(&mut Context<'_>) -> Poll<R>) -> Poll<R> {
        let mut cx = Context::from_waker(&self.waker);
        poll(&mut cx)
    }
}
