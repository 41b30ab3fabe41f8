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

use std::fmt;
use std::sync::{Arc, RwLock};

use crate::task::{Panic, TaskId};

/// A failure or panic that nobody will ever observe.
#[non_exhaustive]
pub enum Unobserved {
    /// A task's future returned `Err` and nobody awaited the task.
    Failed {
        /// The task that failed.
        task: TaskId,
        /// Its error.
        error: Box<dyn fmt::Debug + Send>,
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

/// Replaces the unobserved-error hook for the whole process.
///
/// The hook runs on whichever thread found the outcome unobserved: the
/// child's worker thread, or the thread that dropped the handle. It must not
/// block for long. A panic in the hook propagates into that thread.
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
pub fn set_unobserved_error_hook(hook: impl Fn(Unobserved) + Send + Sync + 'static) {
    *HOOK
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(hook));
}

/// Puts back the default hook, which prints one line on stderr.
pub fn reset_unobserved_error_hook() {
    *HOOK
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
}

/// Hands an unobserved outcome to the current hook.
pub(crate) fn report(unobserved: Unobserved) {
    // Clone the hook out so that it runs without the lock held: a hook may
    // itself replace the hook.
    let hook = HOOK
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    match hook {
        Some(hook) => hook(unobserved),
        None => eprintln!("asyncio: {unobserved}"),
    }
}
