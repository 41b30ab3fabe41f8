//! The unobserved-error hook: asyncio's "Task exception was never retrieved".
//!
//! A task that fails or panics while nobody holds its [`Task`](crate::Task)
//! handle, or whose handle is dropped without being awaited after it failed,
//! has an outcome that no code will ever see. The crate never drops such an
//! outcome silently: it hands it to the hook. The default hook prints one line
//! on stderr naming the task and the error; [`set_unobserved_error_hook`]
//! replaces it (to log through `tracing`, to count, or to abort in tests).
//!
//! A cancelled task is not reported: cancellation is an outcome somebody
//! asked for, as in asyncio, which does not log cancelled tasks either.
//!
//! A task's value (or error) that nobody will read is dropped by the crate:
//! a detached task's value, one left in a handle dropped unawaited, the
//! values a failed or abandoned `gather` had collected. If its destructor
//! panics, the panic is caught and reported here as that task's
//! [`Panicked`](Unobserved::Panicked): such a drop often runs where tokio
//! would swallow the panic (in the task's own wrapper, or during an abort),
//! and it never unwinds into the code that dropped a handle or a set.
//! (Queue items are different: they belong to no task, and the crate drops
//! them where their owner would, as a `Vec` does; see `Queue::shutdown`.)

use std::any::Any;
use std::fmt;
use std::sync::{Arc, RwLock};

use crate::task::{Panic, TaskId};

/// The error of a task that failed unobserved: printable, and downcastable
/// to the task's own error type.
pub struct Failure(Box<dyn AnyDebug>);

/// `Debug + Any`, object-safe.
trait AnyDebug: fmt::Debug + Send {
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

// Called through `(*box).as_any()`: a `Box<dyn AnyDebug>` is itself an
// `AnyDebug`, and `box.as_any()` would see the box.
impl<E: fmt::Debug + Send + 'static> AnyDebug for E {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

impl Failure {
    pub(crate) fn new<E: fmt::Debug + Send + 'static>(error: E) -> Self {
        Self(Box::new(error))
    }

    /// The error, if it is an `E`: the `E` of the task's
    /// [`try_spawn`](crate::try_spawn) (a plain `spawn`'s tasks cannot fail).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::sync::{Arc, Mutex};
    /// use asyncio::Unobserved;
    ///
    /// let seen = Arc::new(Mutex::new(None));
    /// let sink = seen.clone();
    /// let previous = asyncio::set_unobserved_error_hook(move |unobserved| {
    ///     if let Unobserved::Failed { error, .. } = unobserved {
    ///         *sink.lock().unwrap() = error.downcast_ref::<std::io::Error>().map(|e| e.kind());
    ///     }
    /// });
    /// drop(asyncio::try_spawn(async { Err::<(), _>(std::io::Error::other("lost")) }));
    /// tokio::task::yield_now().await;
    /// assert_eq!(*seen.lock().unwrap(), Some(std::io::ErrorKind::Other));
    /// # asyncio::set_unobserved_error_hook(move |u| previous.call(u));
    /// # }
    /// ```
    pub fn downcast_ref<E: 'static>(&self) -> Option<&E> {
        (*self.0).as_any().downcast_ref()
    }

    /// The error by value, if it is an `E`; otherwise the failure back.
    pub fn downcast<E: 'static>(self) -> Result<E, Self> {
        if (*self.0).as_any().is::<E>() {
            match self.0.into_any().downcast::<E>() {
                Ok(error) => Ok(*error),
                Err(_) => unreachable!("asyncio: a checked downcast failed"),
            }
        } else {
            Err(self)
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A failure or panic that nobody will ever observe.
#[non_exhaustive]
pub enum Unobserved {
    /// A task's future returned `Err` and nobody awaited the task.
    Failed {
        /// The task that failed.
        task: TaskId,
        /// Its error: printable with `{:?}`, and downcastable to the task's
        /// error type ([`Failure::downcast_ref`]).
        error: Failure,
    },
    /// A task's future panicked and nobody awaited the task, or the
    /// destructor of a task's value (or error) that nobody read panicked.
    Panicked {
        /// The task that panicked.
        task: TaskId,
        /// The panic, with its payload.
        panic: Panic,
    },
}

impl Unobserved {
    /// The task whose outcome was not observed.
    pub fn task(&self) -> TaskId {
        match self {
            Unobserved::Failed { task, .. } | Unobserved::Panicked { task, .. } => *task,
        }
    }
}

impl fmt::Debug for Unobserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unobserved::Failed { task, error } => f
                .debug_struct("Failed")
                .field("task", task)
                .field("error", error)
                .finish(),
            Unobserved::Panicked { task, panic } => f
                .debug_struct("Panicked")
                .field("task", task)
                .field("panic", panic)
                .finish(),
        }
    }
}

impl fmt::Display for Unobserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unobserved::Failed { task, error } => {
                write!(f, "{task} failed and nobody observed its error: {error:?}")
            }
            Unobserved::Panicked { task, panic } => {
                write!(f, "{task} panicked and nobody observed the panic: {panic}")
            }
        }
    }
}

type Hook = Arc<dyn Fn(Unobserved) + Send + Sync>;

static HOOK: RwLock<Option<Hook>> = RwLock::new(None);

/// An unobserved-error hook, as [`set_unobserved_error_hook`] hands back
/// the one it replaced: call it to pass an outcome on (a library chains
/// the hook instead of silencing the application's), or set it again to
/// restore it.
#[derive(Clone)]
pub struct UnobservedHook(Option<Hook>);

impl fmt::Debug for UnobservedHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Some(_) => "UnobservedHook(custom)",
            None => "UnobservedHook(default)",
        })
    }
}

impl UnobservedHook {
    /// Runs this hook on `unobserved` (the default one prints it).
    pub fn call(&self, unobserved: Unobserved) {
        match &self.0 {
            Some(hook) => hook(unobserved),
            None => default_hook(unobserved),
        }
    }
}

/// The default hook: one line on stderr, or, with the crate's `tracing`
/// feature, a `tracing` error event.
fn default_hook(unobserved: Unobserved) {
    #[cfg(feature = "tracing")]
    tracing::error!(target: "asyncio", task = unobserved.task().as_u64(), "{unobserved}");
    #[cfg(not(feature = "tracing"))]
    eprintln!("asyncio: {unobserved}");
}

/// Replaces the unobserved-error hook for the whole process, and returns the
/// one it replaced.
///
/// The hook runs on whichever thread found the outcome unobserved: the
/// child's worker thread, or the thread that dropped the handle. It must not
/// block for long. A panic in the hook propagates into that thread.
///
/// A library that wants to see unobserved errors without silencing the
/// application's hook chains it with [`wrap_unobserved_error_hook`].
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// asyncio::set_unobserved_error_hook(move |unobserved| {
///     sink.lock().unwrap().push(unobserved.to_string());
/// });
/// # asyncio::reset_unobserved_error_hook();
/// ```
pub fn set_unobserved_error_hook(
    hook: impl Fn(Unobserved) + Send + Sync + 'static,
) -> UnobservedHook {
    let new: Hook = Arc::new(hook);
    let mut slot = HOOK
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    UnobservedHook(slot.replace(new))
}

/// Replaces the hook with one built from the current one, in one step, so
/// that no report falls between taking the old hook and setting the new
/// one: how a library chains the hook.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// let counted = Arc::new(AtomicUsize::new(0));
/// let count = counted.clone();
/// asyncio::wrap_unobserved_error_hook(move |previous| {
///     move |unobserved| {
///         count.fetch_add(1, Ordering::Relaxed); // the library's own bookkeeping
///         previous.call(unobserved); // and the application's hook, as before
///     }
/// });
/// # asyncio::reset_unobserved_error_hook();
/// ```
pub fn wrap_unobserved_error_hook<F, H>(wrap: F)
where
    F: FnOnce(UnobservedHook) -> H,
    H: Fn(Unobserved) + Send + Sync + 'static,
{
    let mut slot = HOOK
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let previous = UnobservedHook(slot.take());
    let new: Hook = Arc::new(wrap(previous));
    *slot = Some(new);
}

/// Puts back the default hook (one line on stderr, or a `tracing` event
/// with the `tracing` feature), and returns the one it replaced.
pub fn reset_unobserved_error_hook() -> UnobservedHook {
    UnobservedHook(
        HOOK.write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take(),
    )
}

/// Hands an unobserved outcome to the current hook.
pub(crate) fn report(unobserved: Unobserved) {
    // Clone the hook out so that it runs without the lock held: a hook may
    // itself replace the hook.
    let hook = HOOK
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    UnobservedHook(hook).call(unobserved);
}
