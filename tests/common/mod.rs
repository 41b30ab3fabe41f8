//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

pub(crate) mod waiter_line;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use asyncio::Unobserved;

/// A flag set when the value holding it is dropped: proves a future was
/// dropped (cancelled) rather than left running.
#[derive(Debug, Clone, Default)]
pub(crate) struct DropFlag(Arc<AtomicBool>);

impl DropFlag {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    /// A guard that sets the flag when dropped; move it into a future.
    pub(crate) fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }
    pub(crate) fn dropped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug)]
pub(crate) struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A flag a future sets when it reaches a point.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reached(Arc<AtomicUsize>);

impl Reached {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    pub(crate) fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
    pub(crate) fn reached(&self) -> bool {
        self.count() > 0
    }
}

/// Serialises the tests that replace the process-wide unobserved-error hook,
/// and collects what it reports while held.
pub(crate) struct HookCapture {
    _serial: MutexGuard<'static, ()>,
    seen: Arc<Mutex<Vec<String>>>,
}

static HOOK_SERIAL: Mutex<()> = Mutex::new(());

impl HookCapture {
    pub(crate) fn install() -> Self {
        let serial = HOOK_SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        asyncio::set_unobserved_error_hook(move |unobserved: Unobserved| {
            sink.lock().unwrap().push(unobserved.to_string());
        });
        Self {
            _serial: serial,
            seen,
        }
    }
    pub(crate) fn reports(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for HookCapture {
    fn drop(&mut self) {
        asyncio::reset_unobserved_error_hook();
    }
}

/// An error with a cause, to check that error chains print each message
/// once.
#[derive(Debug)]
pub(crate) struct Layered {
    message: &'static str,
    cause: std::io::Error,
}

impl Layered {
    pub(crate) fn new(message: &'static str, cause: &'static str) -> Self {
        Self {
            message,
            cause: std::io::Error::other(cause),
        }
    }
}

impl std::fmt::Display for Layered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for Layered {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// The messages of an error chain, outermost first.
pub(crate) fn chain(error: &dyn std::error::Error) -> Vec<String> {
    let mut chain = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(next) = cause {
        chain.push(next.to_string());
        cause = next.source();
    }
    chain
}

/// A task spawned beside a loop, to see whether the loop lets the other
/// tasks on its runtime run (on a current-thread runtime it can run only
/// when the loop yields).
pub(crate) struct Bystander {
    ran: Reached,
    task: tokio::task::JoinHandle<()>,
}

impl Bystander {
    pub(crate) fn spawn() -> Self {
        let ran = Reached::new();
        let task = tokio::spawn({
            let ran = ran.clone();
            async move { ran.hit() }
        });
        Self { ran, task }
    }

    pub(crate) fn ran(&self) -> bool {
        self.ran.reached()
    }

    pub(crate) async fn join(self) {
        self.task.await.expect("the bystander task does not fail");
    }
}

/// A future that fails with `error` at its first poll, then panics with
/// `panic` when it is dropped: a failure displaced by a destructor's panic.
pub(crate) struct FailsThenPanicsOnDrop {
    pub(crate) error: &'static str,
    pub(crate) panic: &'static str,
}

impl std::future::Future for FailsThenPanicsOnDrop {
    type Output = Result<(), &'static str>;
    fn poll(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::task::Poll::Ready(Err(self.error))
    }
}

impl Drop for FailsThenPanicsOnDrop {
    fn drop(&mut self) {
        panic!("{}", self.panic);
    }
}

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls a future by hand with its own counting waker, so that a test can
/// assert "woken since the last poll".
pub(crate) struct Probe {
    counter: Arc<Counter>,
    waker: Waker,
}

impl Probe {
    pub(crate) fn new() -> Self {
        let counter = Arc::new(Counter::default());
        let waker = Waker::from(counter.clone());
        Self { counter, waker }
    }

    pub(crate) fn wakes(&self) -> usize {
        self.counter.0.load(Ordering::SeqCst)
    }

    pub(crate) fn poll<F: Future + Unpin>(&self, future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut Context::from_waker(&self.waker))
    }
}
