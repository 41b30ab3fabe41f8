//! Python asyncio's structured concurrency toolkit, on tokio.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod hook;
pub mod queue;
pub(crate) mod sync;
pub mod task;
pub mod timeout;

pub use hook::{reset_unobserved_error_hook, set_unobserved_error_hook, Unobserved};
pub use queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, TaskDoneError, TryGetError, TryPutError,
};
pub use task::{spawn, try_spawn, CancelHandle, Join, Panic, Task, TaskError, TaskId};
pub use timeout::{
    shield, timeout, timeout_at, wait_for, RescheduleError, Shield, Timeout, TimeoutError,
    TimeoutHandle,
};
pub use tokio::time::sleep;

/// The runtime-free synchronisation cores, for the loom models in
/// `loom-tests/`. **Not part of the semver contract**: anything here may
/// change in any release.
#[doc(hidden)]
pub mod __cores {
    pub use crate::queue::core as queue;
    #[cfg(asyncio_loom)]
    pub use crate::sync::fault;
    pub use crate::task::core as task;
    pub use crate::timeout::core as timeout;
}
