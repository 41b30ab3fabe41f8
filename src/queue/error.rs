//! One error type per queue operation. A failed put hands its item back.

/// Why [`put`](crate::Queue::put) failed: asyncio's `QueueShutDown`.
///
/// The item that could not be put is handed back: [`into_inner`](PutError::into_inner).
///
/// It is `Debug` (and an [`Error`](std::error::Error)) for any item type, as
/// tokio's `SendError` is: the item is not printed, so `q.put(x).await?`
/// works whatever `x` is.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[doc(alias = "QueueShutDown")]
pub enum PutError<T> {
    /// The queue was shut down before the item went in (behaviours 121, 123).
    #[error("queue is shut down")]
    ShutDown(T),
}

impl<T> std::fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> PutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was shut down.
    pub fn is_shut_down(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

/// Why [`put_nowait`](crate::Queue::put_nowait) failed: asyncio's
/// `QueueFull` or `QueueShutDown`.
///
/// The item that could not be put is handed back: [`into_inner`](TryPutError::into_inner).
///
/// It is `Debug` (and an [`Error`](std::error::Error)) for any item type:
/// the item is not printed.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[doc(alias = "QueueFull")]
pub enum TryPutError<T> {
    /// No free slot: the queue is full, or every free slot is promised to a
    /// `put` that was waiting for it, or (in a `LifoQueue` or
    /// `PriorityQueue`) such a `put` has not yet inserted (behaviours 111,
    /// 118).
    #[error("queue is full")]
    Full(T),
    /// The queue was shut down (behaviour 121).
    #[error("queue is shut down")]
    ShutDown(T),
}

impl<T> std::fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// Whether the queue was shut down.
    pub fn is_shut_down(&self) -> bool {
        matches!(self, TryPutError::ShutDown(_))
    }
}

impl<T> From<PutError<T>> for TryPutError<T> {
    fn from(error: PutError<T>) -> Self {
        match error {
            PutError::ShutDown(item) => TryPutError::ShutDown(item),
        }
    }
}

/// Why [`get`](crate::Queue::get) failed: asyncio's `QueueShutDown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[doc(alias = "QueueShutDown")]
pub enum GetError {
    /// The queue was shut down and holds no item for this get (behaviours
    /// 122–124).
    #[error("queue is shut down")]
    ShutDown,
}

/// Why [`get_nowait`](crate::Queue::get_nowait) failed: asyncio's
/// `QueueEmpty` or `QueueShutDown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[doc(alias = "QueueEmpty")]
pub enum TryGetError {
    /// No item is available: the queue is empty, or every item in it is
    /// promised to a `get` that was waiting for it or waits behind a place
    /// held for a woken `put`'s item (behaviours 111, 118).
    #[error("queue is empty")]
    Empty,
    /// The queue was shut down and is empty (behaviours 122, 124).
    #[error("queue is shut down")]
    ShutDown,
}

impl TryGetError {
    /// Whether the queue was empty (and not shut down).
    pub fn is_empty(&self) -> bool {
        matches!(self, TryGetError::Empty)
    }

    /// Whether the queue was shut down.
    pub fn is_shut_down(&self) -> bool {
        matches!(self, TryGetError::ShutDown)
    }
}

impl From<GetError> for TryGetError {
    fn from(error: GetError) -> Self {
        match error {
            GetError::ShutDown => TryGetError::ShutDown,
        }
    }
}

/// Why [`task_done`](crate::Queue::task_done) failed: asyncio's
/// `ValueError('task_done() called too many times')`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskDoneError {
    /// There is no unfinished item left to mark done (behaviour 113). Items
    /// held by a [`Guarded`](crate::queue::Guarded) handle do not count: their
    /// handle marks them done.
    #[error("task_done() called too many times")]
    TooManyCalls,
}
