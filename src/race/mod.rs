//! [`race`] and [`race_ok`]: the first child to finish (or to succeed)
//! wins, and the others are cancelled *and joined* before the race returns.
//!
//! asyncio has no race primitive; its programs write one by hand with
//! `wait(FIRST_COMPLETED)`, a cancel loop and a `gather` of the losers. A
//! race runs on the same core as [`gather`](crate::gather()): each child's
//! completion is seen once, and a race of N children is O(N).

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::gather::core::{Finished, Gathering, Mode};
use crate::gather::Grace;
use crate::task::{
    into_tasks, report_unobserved, try_into_tasks, IntoTask, Task, TaskError, TryIntoTask,
};

/// The winner of a [`race`]: its position in the input and how it ended.
#[derive(Debug)]
pub struct Winner<T, E = Infallible> {
    /// The child's position in the input.
    pub index: usize,
    /// How it ended: a value, an error, a cancellation or a panic (a race
    /// hands the first outcome back as a value, as `wait` does).
    pub outcome: Result<T, TaskError<E>>,
}

/// A race that cannot be run: there were no children, so nothing can win.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RaceError {
    /// The race was given no children.
    #[error("race of no children: nothing can win")]
    Empty,
}

/// A [`race_ok`] that nobody won: it had no children, or every child failed.
pub enum RaceOkError<E> {
    /// The race was given no children.
    Empty,
    /// Every child failed (an error, or a cancellation): each failure with
    /// the child's position, in input order. Never empty.
    AllFailed(Vec<(usize, TaskError<E>)>),
}

impl<E> RaceOkError<E> {
    /// The failures, in input order (none for [`RaceOkError::Empty`]).
    pub fn failures(&self) -> &[(usize, TaskError<E>)] {
        match self {
            RaceOkError::Empty => &[],
            RaceOkError::AllFailed(failures) => failures,
        }
    }

    /// The failures, by value.
    pub fn into_failures(self) -> Vec<(usize, TaskError<E>)> {
        match self {
            RaceOkError::Empty => Vec::new(),
            RaceOkError::AllFailed(failures) => failures,
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for RaceOkError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaceOkError::Empty => f.write_str("Empty"),
            RaceOkError::AllFailed(failures) => f.debug_tuple("AllFailed").field(failures).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for RaceOkError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaceOkError::Empty => f.write_str("race of no children: nothing can succeed"),
            RaceOkError::AllFailed(failures) => {
                write!(f, "every child of the race failed ({})", failures.len())?;
                for (index, error) in failures {
                    write!(f, "; child {index}: {error}")?;
                }
                Ok(())
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for RaceOkError<E> {}

/// Runs `children` concurrently; the first to finish, in any way, wins.
/// The others are cancelled, and the race returns only once each has
/// finished (their futures dropped): the winner's position and outcome.
///
/// Children are futures (spawned when `race` is called, as asyncio's tasks
/// start when created) or [`Task`]s, taken as they are. The winner's
/// outcome is a value whatever it is (an error, a cancellation or a panic
/// wins too, as in `wait(FIRST_COMPLETED)`); for "the first *success*", use
/// [`race_ok`].
///
/// `race(..)` is a builder: [`with_grace`](Race::with_grace) gives the
/// losers a token and a grace period before the abort. Await it to run it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let slow = async {
///     asyncio::sleep(Duration::from_secs(5)).await;
///     "slow"
/// };
/// let fast = async {
///     asyncio::sleep(Duration::from_secs(1)).await;
///     "fast"
/// };
/// // Both are boxed: a race's children are one type, like a gather's.
/// let children: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = &str> + Send>>> =
///     vec![Box::pin(slow), Box::pin(fast)];
/// let winner = asyncio::race(children).await.unwrap();
/// assert_eq!(winner.index, 1);
/// assert_eq!(winner.outcome.unwrap(), "fast");
/// // The slow one was cancelled and has finished: nothing is left running.
/// # }
/// ```
///
/// # asyncio equivalent
///
/// ```python
/// done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
/// for t in pending:
///     t.cancel()
/// await asyncio.gather(*pending, return_exceptions=True)
/// winner = done.pop()
/// ```
///
/// The differences:
/// 1. One winner, with its position. asyncio's `done` set can hold several
///    tasks that finished in the same loop iteration; the crate picks the
///    first one it sees.
/// 2. The losers are joined, not just cancelled: when the race returns,
///    their futures have been dropped (SPEC decision 5). A hand-written
///    asyncio race that forgets the final `gather` leaks them.
/// 3. An empty race is an error, [`RaceError::Empty`], where `wait` raises
///    `ValueError`.
///
/// # Cancellation
///
/// | situation | asyncio (the hand-written race above) | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped | `wait` is cancelled; the tasks run on (wait does not cancel them) | every unfinished child is aborted (drop cannot wait for them) |
/// | a child errors | it is done: it wins | it wins: `outcome` is `Err(TaskError::Failed(e))` |
/// | a child is cancelled | it is done: it wins | it wins: `outcome` is `Err(TaskError::Cancelled)` |
/// | a child panics | `KeyboardInterrupt` escapes the loop (96) | it wins: `outcome` is `Err(TaskError::Panicked(p))`, a value, as with `wait`; a loser's panic while it is being cancelled goes to the [hook](crate::set_unobserved_error_hook) |
/// | a timeout fires (`wait_for(race(..))`) | the race is cancelled: as the first row | the race future is dropped: as the first row |
/// | the owner/handle is dropped | n/a | n/a: a race's children are its own; a [`Task`] passed in is cancelled with the others if it loses |
/// | the runtime shuts down | `asyncio.run` cancels the tasks | the children are dropped, each ends `Cancelled`; the first seen wins |
///
/// A loser's outcome is dropped: a value or an ordinary error quietly, a
/// panic to the unobserved-error hook.
///
/// # Errors
///
/// [`RaceError::Empty`] if there were no children.
///
/// # Panics
///
/// If called outside a tokio runtime while some child is a future to spawn,
/// at the caller's line, as `tokio::spawn` does.
#[track_caller]
pub fn race<I>(children: I) -> Race<<I::Item as IntoTask>::Ok, <I::Item as IntoTask>::Err>
where
    I: IntoIterator,
    I::Item: IntoTask,
    <I::Item as IntoTask>::Err: fmt::Debug + Send + 'static,
{
    Race {
        running: Running::new(into_tasks(children), Mode::Race),
    }
}

/// Runs fallible `children` concurrently; the first to *succeed* wins, and
/// the others are cancelled and joined. If none succeeds, every failure
/// comes back: the happy-eyeballs pattern (try every address, keep the first
/// connection, report all the errors if none connects).
///
/// A child's `Err(E)` and a cancellation are failures: they do not end the
/// race. A panic does: the others are cancelled and joined, and then the
/// panic is resumed in the awaiting task (SPEC decision 6, as in a
/// `TaskGroup`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let attempts = [("a", 1, false), ("b", 2, true), ("c", 3, true)].map(|(addr, secs, ok)| {
///     async move {
///         asyncio::sleep(Duration::from_secs(secs)).await;
///         if ok { Ok(addr) } else { Err(format!("{addr}: refused")) }
///     }
/// });
/// let (index, connected) = asyncio::race_ok(attempts).await.unwrap();
/// assert_eq!((index, connected), (1, "b")); // "a" failed first; "c" was cancelled
///
/// let none = asyncio::race_ok([async { Err::<(), _>("refused") }]).await.unwrap_err();
/// assert_eq!(none.failures().len(), 1);
/// # }
/// ```
///
/// # asyncio equivalent
///
/// A loop of `wait(FIRST_COMPLETED)` that keeps the failures until one task
/// succeeds, then cancels and gathers the rest (asyncio's own
/// `staggered_race`, behind `open_connection(happy_eyeballs_delay=..)`,
/// does this with a delay between starts). The differences are those of
/// [`race`], and: every failure is returned in input order, each with its
/// child's position.
///
/// # Cancellation
///
/// | situation | asyncio (the hand-written loop) | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped | `wait` is cancelled; the tasks run on | every unfinished child is aborted (drop cannot wait) |
/// | a child errors | kept; the loop waits on | kept for [`RaceOkError::AllFailed`]; the race waits on |
/// | a child is cancelled | kept, or re-raised if awaited | kept as [`TaskError::Cancelled`] among the failures; the race waits on |
/// | a child panics | `KeyboardInterrupt` escapes the loop (96) | the others are cancelled and joined, then the panic is resumed; a second panic goes to the hook |
/// | a timeout fires (`wait_for(race_ok(..))`) | as the first row | the race future is dropped: as the first row |
/// | the owner/handle is dropped | n/a | n/a: a race's children are its own |
/// | the runtime shuts down | `asyncio.run` cancels the tasks | the children end `Cancelled`: all failed, unless one succeeded first |
///
/// # Errors
///
/// [`RaceOkError::AllFailed`] with every failure if no child succeeded;
/// [`RaceOkError::Empty`] if there were no children.
///
/// # Panics
///
/// If called outside a tokio runtime while some child is a future to spawn,
/// at the caller's line. Awaiting the race resumes a child's panic (above).
#[track_caller]
pub fn race_ok<I>(
    children: I,
) -> RaceOk<<I::Item as TryIntoTask>::Ok, <I::Item as TryIntoTask>::Err>
where
    I: IntoIterator,
    I::Item: TryIntoTask,
    <I::Item as TryIntoTask>::Err: fmt::Debug + Send + 'static,
{
    RaceOk {
        running: Running::new(try_into_tasks(children), Mode::RaceOk),
    }
}

/// A [`race`] whose children are running, before it is awaited. Await it
/// (it is [`IntoFuture`]) to get the winner; set its options first.
///
/// Dropping it unawaited aborts every child.
#[must_use = "the children run, but nobody will see the winner or cancel the losers unless it is awaited"]
pub struct Race<T, E = Infallible> {
    running: Running<T, E>,
}

/// A [`race_ok`] whose children are running, before it is awaited.
///
/// Dropping it unawaited aborts every child.
#[must_use = "the children run, but nobody will see the winner or cancel the losers unless it is awaited"]
pub struct RaceOk<T, E = Infallible> {
    running: Running<T, E>,
}

impl<T, E> fmt::Debug for Race<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Race")
            .field("state", &self.running.gathering)
            .finish()
    }
}

impl<T, E> fmt::Debug for RaceOk<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceOk")
            .field("state", &self.running.gathering)
            .finish()
    }
}

impl<T, E> Race<T, E> {
    /// Cancels the losers cooperatively: when the winner is known, `token`
    /// is cancelled first, so that the losers can stop on their own and
    /// clean up asynchronously, and only those still running `grace` later
    /// are aborted. The race still returns only once every loser has
    /// finished. Dropping the race future cannot wait: it aborts at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use asyncio::CancellationToken;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let token = CancellationToken::new();
    /// let watched = token.clone();
    /// let polite = asyncio::spawn(async move {
    ///     watched.cancelled().await;
    ///     asyncio::sleep(Duration::from_millis(10)).await; // async clean-up
    ///     "cleaned up"
    /// });
    /// let fast = asyncio::spawn(async { "fast" });
    /// let winner = asyncio::race([polite, fast])
    ///     .with_grace(token, Duration::from_secs(1))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(winner.outcome.unwrap(), "fast");
    /// # }
    /// ```
    pub fn with_grace(mut self, token: CancellationToken, grace: Duration) -> Self {
        self.running.set_grace(token, grace);
        self
    }
}

impl<T, E> RaceOk<T, E> {
    /// As [`Race::with_grace`]: the losers (and, on a panic, the others)
    /// get `token` and `grace` before the abort.
    pub fn with_grace(mut self, token: CancellationToken, grace: Duration) -> Self {
        self.running.set_grace(token, grace);
        self
    }
}

/// A race's core (built when the race is called, so the children run from
/// then on), and the grace period if any. Dropping it before it finished
/// aborts every unfinished child: the core's own drop does.
struct Running<T, E> {
    /// `None` for an empty race.
    gathering: Option<Gathering<T, E, Task<T, E>>>,
    grace: Option<Grace>,
}

impl<T, E: fmt::Debug + Send + 'static> Running<T, E> {
    fn new(tasks: Vec<Option<Task<T, E>>>, mode: Mode) -> Self {
        Self {
            gathering: (!tasks.is_empty())
                .then(|| Gathering::from_slots(tasks, mode, report_unobserved::<E>)),
            grace: None,
        }
    }
}

impl<T, E> Running<T, E> {
    fn set_grace(&mut self, token: CancellationToken, period: Duration) {
        if let Some(gathering) = &mut self.gathering {
            gathering.defer_abort();
            self.grace = Some(Grace::new(token, period));
        }
    }

    /// `None` for an empty race.
    fn poll(&mut self, cx: &mut Context<'_>) -> Option<Poll<Finished<T, E>>> {
        let gathering = self.gathering.as_mut()?;
        let polled = gathering.poll(cx);
        if polled.is_pending() {
            if let Some(grace) = &mut self.grace {
                grace.poll(gathering, cx);
            }
        }
        Some(polled)
    }
}

impl<T, E> IntoFuture for Race<T, E> {
    type Output = Result<Winner<T, E>, RaceError>;
    type IntoFuture = RaceFuture<T, E>;

    fn into_future(self) -> RaceFuture<T, E> {
        RaceFuture {
            running: self.running,
        }
    }
}

impl<T, E> IntoFuture for RaceOk<T, E> {
    type Output = Result<(usize, T), RaceOkError<E>>;
    type IntoFuture = RaceOkFuture<T, E>;

    fn into_future(self) -> RaceOkFuture<T, E> {
        RaceOkFuture {
            running: self.running,
        }
    }
}

/// The future that runs a [`race`] (`race(..).await`).
///
/// Dropping it before it completes aborts every unfinished child.
///
/// # Cancel safety
///
/// This future is not cancel safe. If it is used as a branch in `select!` and
/// another branch completes first, the children are cancelled and a winner that
/// finished meanwhile is lost.
#[must_use = "futures do nothing unless polled"]
pub struct RaceFuture<T, E = Infallible> {
    running: Running<T, E>,
}

/// The future that runs a [`race_ok`] (`race_ok(..).await`).
///
/// Dropping it before it completes aborts every unfinished child.
///
/// # Cancel safety
///
/// This future is not cancel safe. If it is used as a branch in `select!` and
/// another branch completes first, the children are cancelled and a success
/// that came meanwhile is lost.
#[must_use = "futures do nothing unless polled"]
pub struct RaceOkFuture<T, E = Infallible> {
    running: Running<T, E>,
}

impl<T, E> fmt::Debug for RaceFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceFuture")
            .field("state", &self.running.gathering)
            .finish()
    }
}

impl<T, E> fmt::Debug for RaceOkFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceOkFuture")
            .field("state", &self.running.gathering)
            .finish()
    }
}

// Nothing in a race is pinned in place: the children run in their own
// tasks, and outcomes are plain values moved out when it completes.
impl<T, E> Unpin for RaceFuture<T, E> {}
impl<T, E> Unpin for RaceOkFuture<T, E> {}

impl<T, E> Future for RaceFuture<T, E> {
    type Output = Result<Winner<T, E>, RaceError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(polled) = self.running.poll(cx) else {
            return Poll::Ready(Err(RaceError::Empty));
        };
        Poll::Ready(match std::task::ready!(polled) {
            Finished::Won { index, outcome } => Ok(Winner { index, outcome }),
            _ => unreachable!("asyncio: a race finished without a winner"),
        })
    }
}

impl<T, E> Future for RaceOkFuture<T, E> {
    type Output = Result<(usize, T), RaceOkError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(polled) = self.running.poll(cx) else {
            return Poll::Ready(Err(RaceOkError::Empty));
        };
        Poll::Ready(match std::task::ready!(polled) {
            Finished::Won {
                index,
                outcome: Ok(value),
            } => Ok((index, value)),
            Finished::NoneSucceeded(failures) => Err(RaceOkError::AllFailed(failures)),
            Finished::Failed {
                error: TaskError::Panicked(panic),
                ..
            } => panic.resume(),
            _ => unreachable!("asyncio: a race for a success ended otherwise"),
        })
    }
}
