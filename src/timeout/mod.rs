//! Cancellation helpers: [`wait_for`], [`timeout`] / [`timeout_at`] and
//! [`shield`], after asyncio's functions of the same names.

pub(crate) mod core;
mod shield;
mod sleep;
mod wait_for;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use self::core::{LazyCore, Phase, TimeoutCore};
pub use self::shield::{shield, Shield};
pub use self::sleep::{sleep, Sleep};
pub(crate) use self::wait_for::Sealed as AwaitableSealed;
pub use self::wait_for::{wait_for, Awaitable, WaitFor};
use crate::sync::Arc;

/// The deadline passed before the operation completed: asyncio's
/// `TimeoutError`.
///
/// A unit value on purpose, so that ported code can compare with
/// `Err(TimeoutError)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("deadline has elapsed")]
#[doc(alias = "Elapsed")]
pub struct TimeoutError;

/// [`TimeoutHandle::reschedule`] was called on a scope that is not running:
/// asyncio's `RuntimeError` from `Timeout.reschedule()` (behaviour 71).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RescheduleError {
    /// The scope has not started running its body yet.
    #[error("timeout has not been entered")]
    NotEntered,
    /// The scope's deadline has already fired.
    #[error("timeout has already expired")]
    Expired,
    /// The scope's body has already completed.
    #[error("timeout has already finished")]
    Finished,
}

/// A timeout scope: asyncio's `async with asyncio.timeout(delay) as cm:`.
///
/// Built by [`timeout`] or [`timeout_at`], it runs one future with
/// [`run`](Timeout::run); if the deadline passes first, the future is dropped
/// (cancelled at its current await point) and `run` yields
/// `Err(TimeoutError)`. Taking `self` by value makes asyncio's "a timeout
/// can be entered only once" (behaviour 72) hold by construction.
/// [`handle`](Timeout::handle) gives a cloneable handle that reads and moves
/// the deadline, from inside the body or anywhere else.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let scope = asyncio::timeout(Duration::from_secs(1));
/// let handle = scope.handle();
/// let outcome = scope
///     .run(async move {
///         // More time is needed: push the deadline back, from inside.
///         let later = tokio::time::Instant::now() + Duration::from_secs(10);
///         handle.reschedule(Some(later)).unwrap();
///         asyncio::sleep(Duration::from_secs(5)).await;
///         "done"
///     })
///     .await;
/// assert_eq!(outcome, Ok("done"));
/// # }
/// ```
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `async with asyncio.timeout(d) as cm: body` | `let scope = asyncio::timeout(d); let cm = scope.handle(); scope.run(body).await` |
/// | `asyncio.timeout(None)` | `asyncio::timeout(None)` |
/// | `asyncio.timeout_at(when)` | `asyncio::timeout_at(when)` |
/// | `cm.when()` / `cm.reschedule(when)` / `cm.expired()` | the same methods on [`TimeoutHandle`] |
/// | `TimeoutError` raised at `async with` | `run` returns `Err(TimeoutError)` |
///
/// The differences:
/// 1. The body is a future, so the timeout is its value: on expiry the body
///    is dropped, and there is no `CancelledError` inside it to catch,
///    swallow (behaviour 75) or chain as `__cause__` (52, 62, 76).
/// 2. Nested scopes with the same deadline (behaviour 64): the innermost
///    scope fires first and returns `Err(TimeoutError)` to the code of the
///    outer body, which decides what to do with it; the outer scope reports
///    `expired()` only if it fired itself. In asyncio the innermost passes a
///    `CancelledError` through and only the outermost converts it.
/// 3. `asyncio.timeout()` needs a running loop when created; here the
///    deadline is read from tokio's clock at creation, so the scope can be
///    built anywhere, and polled inside a runtime with the time driver.
/// 4. `timeout(0)` with a cancellation already pending (behaviour 78, an open
///    asyncio bug) cannot happen: a cancelled scope is a dropped future, and
///    nothing converts it.
///
/// # Cancellation
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the future awaiting the scope is dropped | `CancelledError` propagates, not converted (67, 74) | the body is dropped; nothing is returned; `expired()` stays `false` |
/// | the body errors | the exception passes through; `expired()` is `False` (66) | `Ok(Err(e))`; `expired()` is `false` |
/// | the body is cancelled | n/a | n/a: the body is a future run in place, not a task |
/// | the body panics | the exception propagates | the panic propagates through `run`, unchanged |
/// | the deadline fires | the body is cancelled at its await; `TimeoutError` at exit (62) | the body is dropped at its await; `Err(TimeoutError)`; `expired()` is `true`. Tasks the body owns (a `gather`, an awaited `Task`) are aborted, not awaited: they stop at their next await point, possibly after `run` returned |
/// | the handle is dropped | n/a | nothing: the scope keeps its deadline |
/// | the runtime shuts down | the task is cancelled | the scope is dropped with its task |
/// | the task running the scope is cancelled explicitly (`task.cancel()`; the crate's [`CancelHandle::cancel`](crate::CancelHandle::cancel)) | `CancelledError` propagates, not converted (67) | the scope is dropped with the task at its next await point; `expired()` stays `false` and `reschedule` fails with `Finished` |
/// | the scope is ended on purpose (`cm.reschedule(loop.time())`) | fires at the next loop iteration (71) | `handle.reschedule(Instant::now())` fires at the body's next await: `Err(TimeoutError)`, `expired()` is `true` |
///
/// A scope cannot be entered twice (behaviour 72): `run` consumes it.
///
/// ```compile_fail
/// # async fn twice() {
/// let scope = asyncio::timeout(std::time::Duration::from_secs(1));
/// scope.run(async {}).await.unwrap();
/// scope.run(async {}).await.unwrap(); // error: use of moved value
/// # }
/// ```
///
/// A body that completes without ever returning `Pending` completes even if
/// its deadline has passed, as in asyncio (behaviour 70): the deadline is
/// checked when the body yields. A zero delay, a `timeout_at` deadline and a
/// rescheduled one are checked against the clock at that point; a positive
/// delay is left to tokio's timer, as `tokio::time::timeout` leaves it: a
/// body that runs past such a deadline before it first yields is cancelled
/// when the timer sees the deadline pass (at that yield, or at the timer
/// driver's next turn).
///
/// # Performance
///
/// A scope nobody has asked a [`handle`](Timeout::handle) of keeps its
/// deadline inline: it allocates nothing and takes no lock, and it arms
/// tokio's timer, kept inline as `tokio::time::Timeout` keeps its `Sleep`,
/// only if the body is pending. The first handle creates the shared state
/// the handles and the scope then use.
#[must_use = "a timeout does nothing until `run` is awaited"]
pub struct Timeout {
    deadline: Option<Instant>,
    // Whether the deadline may have passed when the body first yields
    // (`timeout(0)`, `timeout_at`): then the clock is read before the timer
    // is armed. A positive `timeout(delay)` leaves that to tokio's timer.
    check_clock: bool,
    // Empty until a handle is asked for: a scope nobody holds a handle to
    // allocates nothing and takes no lock (see `core`'s notes).
    shared: LazyCore,
}

impl fmt::Debug for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (when, phase) = match self.shared.get() {
            Some(core) => (core.when(), core.phase()),
            None => (self.deadline, Phase::Created),
        };
        f.debug_struct("Timeout")
            .field("when", &when)
            .field("phase", &phase)
            .finish()
    }
}

/// Creates a timeout scope whose deadline is `delay` from now; `None` never
/// fires (asyncio's `timeout(None)`, behaviour 63). A zero delay fires at the
/// body's first await (behaviour 69). See [`Timeout`].
pub fn timeout(delay: impl Into<Option<Duration>>) -> Timeout {
    let delay = delay.into();
    Timeout {
        deadline: delay.map(deadline_after),
        check_clock: delay.is_some_and(|delay| delay.is_zero()),
        shared: LazyCore::default(),
    }
}

/// Creates a timeout scope with an absolute deadline; `None` never fires.
/// `timeout_at(d).handle().when() == Some(d)` (behaviour 63).
pub fn timeout_at(deadline: impl Into<Option<Instant>>) -> Timeout {
    Timeout {
        deadline: deadline.into(),
        check_clock: true,
        shared: LazyCore::default(),
    }
}

/// `now + delay`, saturating far in the future instead of overflowing.
pub(crate) fn deadline_after(delay: Duration) -> Instant {
    deadline_from(Instant::now(), delay)
}

/// `now + delay`, saturating far in the future instead of overflowing.
#[inline]
pub(crate) fn deadline_from(now: Instant, delay: Duration) -> Instant {
    now.checked_add(delay)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 30))
}

impl Timeout {
    /// A cloneable handle to read and move this scope's deadline.
    pub fn handle(&self) -> TimeoutHandle {
        TimeoutHandle {
            core: self
                .shared
                .get_or_create(|| TimeoutCore::new(self.deadline)),
        }
    }

    /// Runs `body` under this deadline.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. If the [`Scope`] it returns is used as a
    /// branch in `select!` and another branch completes first, `body` is
    /// dropped at its current await point: what it had done stays done, what it
    /// had not done does not happen, and its output is lost. To keep the body,
    /// run a pinned borrow of it (`let mut body = std::pin::pin!(body);` then
    /// `run(body.as_mut())`) and await it again later.
    pub fn run<F: Future>(self, body: F) -> Scope<F> {
        Scope {
            body: Some(body),
            timer: InlineTimer::default(),
            deadline: self.deadline,
            check_clock: self.check_clock,
            phase: Phase::Created,
            shared: self.shared,
        }
    }
}

/// A handle to a [`Timeout`] scope, cloneable and usable from any thread.
#[derive(Clone)]
pub struct TimeoutHandle {
    core: Arc<TimeoutCore>,
}

impl fmt::Debug for TimeoutHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutHandle")
            .field("when", &self.core.when())
            .field("phase", &self.core.phase())
            .finish()
    }
}

impl TimeoutHandle {
    /// The deadline, or `None` if the scope never fires.
    pub fn when(&self) -> Option<Instant> {
        self.core.when()
    }

    /// Moves the deadline of a running scope: later, earlier (a deadline in
    /// the past fires at the body's next await), or `None` to disable it.
    ///
    /// # Errors
    ///
    /// [`RescheduleError`] if the scope is not running: not yet entered,
    /// already expired, or finished (behaviour 71).
    pub fn reschedule(&self, deadline: impl Into<Option<Instant>>) -> Result<(), RescheduleError> {
        self.core.reschedule(deadline.into())
    }

    /// Whether the scope's deadline fired and cancelled its body.
    pub fn expired(&self) -> bool {
        self.core.phase() == Phase::Expired
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`Timeout::run`].
    ///
    /// Dropped after its first poll and before it completed (its awaiter
    /// was cancelled, or its body panicked), the scope is finished: its
    /// handles report `expired() == false` and `reschedule` fails with
    /// [`RescheduleError::Finished`]. Dropped before its first poll, it was
    /// never entered: `reschedule` fails with
    /// [`RescheduleError::NotEntered`], as asyncio's does on a timeout that
    /// was never entered (behaviour 71).
    ///
    /// It holds tokio's timer inline, as `tokio::time::Timeout` does, so it
    /// is not `Unpin`: to poll it by reference, pin it first
    /// (`std::pin::pin!` or `Box::pin`).
    ///
    /// # Cancel safety
    ///
    /// This future is not cancel safe. If it is used as a branch in `select!`
    /// and another branch completes first, the body is dropped at its current
    /// await point and its output is lost (see [`Timeout::run`]).
    #[must_use = "futures do nothing unless polled"]
    pub struct Scope<F> {
        #[pin]
        body: Option<F>,
        #[pin]
        timer: InlineTimer,
        // The deadline and phase while no handle exists; once one does, the
        // shared core holds them and these are stale.
        deadline: Option<Instant>,
        check_clock: bool,
        phase: Phase,
        shared: LazyCore,
    }

    impl<F> PinnedDrop for Scope<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.body.is_some() {
                if let Some(core) = this.shared.get_mut() {
                    core.finish();
                }
            }
        }
    }
}

impl<F> fmt::Debug for Scope<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (when, phase) = match self.shared.get() {
            Some(core) => (core.when(), core.phase()),
            None => (self.deadline, self.phase),
        };
        f.debug_struct("Scope")
            .field("when", &when)
            .field("phase", &phase)
            .finish()
    }
}

impl<F> Scope<F> {
    /// A handle to this scope's deadline.
    pub fn handle(&self) -> TimeoutHandle {
        TimeoutHandle {
            core: self
                .shared
                .get_or_create(|| TimeoutCore::with_phase(self.deadline, self.phase)),
        }
    }
}

impl<F: Future> Future for Scope<F> {
    type Output = Result<F::Output, TimeoutError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let body = this
            .body
            .as_mut()
            .as_pin_mut()
            .expect("asyncio: timeout scope polled after it completed");
        let Some(core) = this.shared.get_mut() else {
            // No handle: nothing can move the deadline or read the phase
            // but this scope, so no lock (see `core`'s notes).
            *this.phase = Phase::Active;
            if let Poll::Ready(value) = body.poll(cx) {
                this.body.set(None);
                *this.phase = Phase::Finished;
                return Poll::Ready(Ok(value));
            }
            let check = if *this.check_clock {
                Check::Clock
            } else {
                Check::Timer
            };
            if !this.timer.poll_expired_at(*this.deadline, check, cx) {
                return Poll::Pending;
            }
            this.body.set(None);
            *this.phase = Phase::Expired;
            return Poll::Ready(Err(TimeoutError));
        };
        core.enter();
        if let Poll::Ready(value) = body.poll(cx) {
            this.body.set(None);
            core.finish();
            return Poll::Ready(Ok(value));
        }
        loop {
            let (deadline, generation) = core.poll_deadline(cx);
            // A rescheduled deadline is always checked against the clock.
            let check = if *this.check_clock || generation > 0 {
                Check::Clock
            } else {
                Check::Timer
            };
            if !this.timer.as_mut().poll_expired_at(deadline, check, cx) {
                return Poll::Pending;
            }
            // A reschedule may have landed since the deadline was read: then
            // the core refuses to expire and the new deadline is armed.
            if core.expire(generation) {
                // The body goes before the error is returned: whoever sees
                // the timeout knows the body's destructors have run.
                this.body.set(None);
                return Poll::Ready(Err(TimeoutError));
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A re-armable tokio timer for one deadline, kept inline in the future
    /// that owns it (as `tokio::time::Timeout` keeps its `Sleep`), and armed
    /// only when that future is first pending with a deadline ahead.
    ///
    /// The clock is read when the timer is (re-)armed, not on every poll:
    /// once armed, tokio's timer says when the deadline has passed. The
    /// armed deadline is the `Sleep`'s own, so the timer is no bigger than
    /// tokio's `Sleep`.
    #[derive(Default)]
    pub(crate) struct InlineTimer {
        #[pin]
        sleep: Option<tokio::time::Sleep>,
    }
}

/// How [`InlineTimer`] checks a deadline before it arms the timer for it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// Read the clock: a deadline that has passed expires at once.
    Clock,
    /// The caller has just read the clock.
    Now(Instant),
    /// Leave it to tokio's timer on the first arm, as `tokio::time::timeout`
    /// does: a deadline that has passed fires when the timer driver has
    /// seen it pass (at once, or at the driver's next turn). For a deadline
    /// set a positive delay after a clock read, when the body first yields:
    /// it has almost never passed, and the clock read (costly on some
    /// machines) is saved.
    Timer,
}

impl InlineTimer {
    /// Whether `deadline` has passed; if not, arms the timer to wake `cx`.
    /// `check` says how a deadline is checked before the timer is armed
    /// for it.
    #[inline]
    pub(crate) fn poll_expired_at(
        self: Pin<&mut Self>,
        deadline: Option<Instant>,
        check: Check,
        cx: &mut Context<'_>,
    ) -> bool {
        let mut sleep = self.project().sleep;
        let Some(deadline) = deadline else {
            sleep.set(None);
            return false;
        };
        match sleep.as_mut().as_pin_mut() {
            Some(armed) if armed.deadline() == deadline => {}
            armed => {
                let passed = match check {
                    Check::Clock => deadline <= Instant::now(),
                    Check::Now(now) => deadline <= now,
                    // A first arm only: a new deadline is always checked.
                    Check::Timer if armed.is_none() => false,
                    Check::Timer => deadline <= Instant::now(),
                };
                if passed {
                    return true;
                }
                match armed {
                    Some(armed) => armed.reset(deadline),
                    None => sleep.set(Some(tokio::time::sleep_until(deadline))),
                }
            }
        }
        sleep
            .as_pin_mut()
            .is_some_and(|sleep| sleep.poll(cx).is_ready())
    }
}

/// A re-armable tokio timer for one deadline, allocated only when a deadline
/// lies in the future.
#[derive(Default)]
pub(crate) struct Timer {
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    armed: Option<(Instant, u64)>,
}

impl Timer {
    /// Whether `deadline` has passed; if not, arms the timer to wake `cx`.
    pub(crate) fn poll_expired(
        &mut self,
        deadline: Option<Instant>,
        generation: u64,
        cx: &mut Context<'_>,
    ) -> bool {
        let Some(deadline) = deadline else {
            self.sleep = None;
            self.armed = None;
            return false;
        };
        if deadline <= Instant::now() {
            return true;
        }
        if self.armed != Some((deadline, generation)) {
            match &mut self.sleep {
                Some(sleep) => sleep.as_mut().reset(deadline),
                None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
            self.armed = Some((deadline, generation));
        }
        let sleep = self.sleep.as_mut().expect("armed above");
        sleep.as_mut().poll(cx).is_ready()
    }
}
