//! [`sleep`]: asyncio's `sleep`, including `sleep(0)`, which yields.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

pin_project_lite::pin_project! {
    /// The future returned by [`sleep`].
    ///
    /// # Cancel safety
    ///
    /// This future is cancel safe. If it is used as a branch in `select!` and
    /// another branch completes first, it is guaranteed that nothing happened
    /// but the wait: polled again, the same `Sleep` completes at the same
    /// deadline (a zero sleep that has already yielded completes at once).
    #[must_use = "futures do nothing unless polled"]
    pub struct Sleep {
        #[pin]
        state: State,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProjection]
    enum State {
        /// `sleep(Duration::ZERO)`: pending once, then ready.
        Yield { yielded: bool },
        /// Any other duration: tokio's timer.
        Timer { #[pin] sleep: tokio::time::Sleep },
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Yield { yielded } => f
                .debug_struct("Sleep")
                .field("yield_once", &!yielded)
                .finish(),
            State::Timer { sleep } => f
                .debug_struct("Sleep")
                .field("deadline", &sleep.deadline())
                .finish(),
        }
    }
}

/// Waits until `duration` has elapsed: asyncio's `await asyncio.sleep(d)`.
///
/// `sleep(Duration::ZERO)` is asyncio's `sleep(0)`, the idiom for "let the
/// other tasks run": it yields to the runtime once (it is pending at its
/// first poll, having woken itself, so the runtime polls it again after
/// the tasks already queued) and completes at its second poll.
/// ([`tokio::task::yield_now`] also lets the runtime poll its I/O and
/// timer drivers first; this does not wait for them.) tokio's own `sleep(Duration::ZERO)`
/// completes at its first poll without yielding, so a literal port of
/// `await asyncio.sleep(0)` would let nothing else run. Any other duration
/// is tokio's [`sleep`](tokio::time::sleep), with its timer's resolution
/// (a millisecond) and its paused-clock behaviour in tests.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let ran = Arc::new(AtomicBool::new(false));
/// let other = asyncio::spawn({
///     let ran = ran.clone();
///     async move { ran.store(true, Ordering::SeqCst) }
/// });
/// // One worker: the other task can run only if this one yields.
/// asyncio::sleep(Duration::ZERO).await;
/// assert!(ran.load(Ordering::SeqCst));
/// # other.await.unwrap();
/// # }
/// ```
///
/// # Cancel safety
///
/// This function's future is cancel safe; see [`Sleep`].
///
/// # Panics
///
/// A non-zero sleep panics when it is created outside a tokio runtime with
/// the time driver, as tokio's does, at the caller's line. A zero sleep
/// needs no runtime.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let state = if duration.is_zero() {
        State::Yield { yielded: false }
    } else {
        State::Timer {
            sleep: tokio::time::sleep(duration),
        }
    };
    Sleep { state }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.project().state.project() {
            StateProjection::Yield { yielded } => {
                if *yielded {
                    return Poll::Ready(());
                }
                *yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            StateProjection::Timer { sleep } => sleep.poll(cx),
        }
    }
}
