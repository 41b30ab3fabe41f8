//! The outcome type every primitive shares: [`TaskError`], and [`Panic`].

use std::any::Any;
use std::fmt;

/// Why a task did not produce a value: asyncio's "exception", in Rust terms.
///
/// Awaiting a [`Task`](crate::Task) yields `Result<T, TaskError<E>>`. The
/// three cases are the three ways a child can end without a value:
///
/// | asyncio | `TaskError` |
/// | --- | --- |
/// | the coroutine raised an `Exception` | [`Failed(E)`](TaskError::Failed): the future returned `Err(E)` |
/// | `CancelledError` | [`Cancelled`](TaskError::Cancelled): the task was aborted before it finished |
/// | a `BaseException` such as `KeyboardInterrupt` | [`Panicked`](TaskError::Panicked): the future panicked; the payload is kept |
///
/// `TaskError<E>` is `Send + Sync + 'static` whenever `E` is, and implements
/// [`std::error::Error`] whenever `E` does, so it goes into `anyhow::Error`
/// or `Box<dyn Error + Send + Sync>`. A failure displays as the task's own
/// error; a cancellation as "task was cancelled"; a panic as
/// "task panicked: " and its message.
///
/// The three cases are the crate's closed outcome model (SPEC decision 2),
/// so `TaskError` is **not** `#[non_exhaustive]`: a `match` over its three
/// arms compiles, and a fourth way to end would be a breaking change, made
/// on purpose or not at all.
#[derive(Debug, thiserror::Error)]
pub enum TaskError<E> {
    /// The task's future returned `Err(E)`. Transparent, as
    /// `std::io::Error` is around a custom error: it displays as `E` and its
    /// [`source`](std::error::Error::source) is `E`'s, so an error chain
    /// prints each message once.
    #[error(transparent)]
    Failed(E),
    /// The task was cancelled (aborted) before it produced an outcome.
    #[error("task was cancelled")]
    Cancelled,
    /// The task's future panicked. The payload is kept: see [`Panic::resume`].
    #[error("task panicked: {0}")]
    Panicked(Panic),
}

impl<E> TaskError<E> {
    /// Whether the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    /// Whether the task's future returned an error.
    pub fn is_failure(&self) -> bool {
        matches!(self, TaskError::Failed(_))
    }

    /// The error the task's future returned, if that is how it ended.
    pub fn into_failure(self) -> Option<E> {
        match self {
            TaskError::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// The panic, if that is how the task ended.
    pub fn into_panic(self) -> Option<Panic> {
        match self {
            TaskError::Panicked(panic) => Some(panic),
            _ => None,
        }
    }

    /// Maps the error of a failed task, keeping cancellations and panics.
    pub fn map_failure<F>(self, op: impl FnOnce(E) -> F) -> TaskError<F> {
        match self {
            TaskError::Failed(error) => TaskError::Failed(op(error)),
            TaskError::Cancelled => TaskError::Cancelled,
            TaskError::Panicked(panic) => TaskError::Panicked(panic),
        }
    }
}

impl<E> TaskError<TaskError<E>> {
    /// Flattens the outcome of a task that failed *with a task's outcome*
    /// (`try_spawn(async { child.await?; .. })` nests them): a nested
    /// cancellation or panic becomes this task's, a nested failure its
    /// failure. asyncio has no nesting: the inner `CancelledError` simply
    /// propagates. To make the outer task itself end cancelled, await the
    /// child with [`Task::propagate`](crate::Task::propagate).
    ///
    /// # Examples
    ///
    /// ```
    /// use asyncio::TaskError;
    ///
    /// let nested: TaskError<TaskError<&str>> = TaskError::Failed(TaskError::Cancelled);
    /// assert!(nested.flatten().is_cancelled());
    /// let nested: TaskError<TaskError<&str>> = TaskError::Failed(TaskError::Failed("boom"));
    /// assert!(matches!(nested.flatten(), TaskError::Failed("boom")));
    /// ```
    pub fn flatten(self) -> TaskError<E> {
        match self {
            TaskError::Failed(inner) => inner,
            TaskError::Cancelled => TaskError::Cancelled,
            TaskError::Panicked(panic) => TaskError::Panicked(panic),
        }
    }
}

/// A panic caught in a child task, with its payload.
///
/// The payload is a `Box<dyn Any + Send>`, which is not `Sync`; it is kept
/// behind a lock so that `Panic` (and the errors that carry it) are
/// `Send + Sync`. Its message, when the payload is a string (as it is for
/// `panic!("...")`), is extracted once and readable with [`Panic::message`].
pub struct Panic(Box<Caught>);

/// Behind a box so that a `Panic`, and so every `TaskError` and every
/// task's outcome slot, is one pointer wide: panics are rare, outcomes are
/// not (48 bytes a `TaskError` otherwise, in every task's core).
struct Caught {
    message: String,
    payload: std::sync::Mutex<Box<dyn Any + Send>>,
}

impl Panic {
    /// Wraps a payload caught with [`std::panic::catch_unwind`].
    pub fn new(payload: Box<dyn Any + Send>) -> Self {
        let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        Self(Box::new(Caught {
            message,
            payload: std::sync::Mutex::new(payload),
        }))
    }

    /// The panic message, or `"Box<dyn Any>"` if the payload is not a string.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The original payload, as [`std::panic::catch_unwind`] returned it.
    pub fn into_payload(self) -> Box<dyn Any + Send> {
        match self.0.payload.into_inner() {
            Ok(payload) => payload,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Continues the panic in the current thread, with the original payload.
    pub fn resume(self) -> ! {
        std::panic::resume_unwind(self.into_payload())
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.0.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}
