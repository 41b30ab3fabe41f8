//! [`Queue`], [`LifoQueue`] and [`PriorityQueue`]: asyncio's joinable
//! queues (3.13 semantics, `shutdown` included), as multi-producer
//! multi-consumer queues that can stand in for a channel.
//!
//! The three are one type, [`JoinableQueue<T, O>`](JoinableQueue), whose
//! order `O` says which item a get takes: the oldest ([`Fifo`], the default),
//! the newest ([`Lifo`]), or the smallest ([`Priority`], oldest first among
//! equals). Every method is documented once, on [`JoinableQueue`], with the
//! full story (fairness, shutdown, the asyncio table, cancellation); code
//! that does not care about the order takes a `&JoinableQueue<T, O>`.

pub(crate) mod core;
mod error;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use self::core::{QueueCore, Taken, Waiter};
pub use self::error::{GetError, PutError, TaskDoneError, TryGetError, TryPutError};
use crate::sync::Arc;
use crate::task::cooperatively;

/// A joinable queue for many producers and many consumers: asyncio's
/// `Queue`, `LifoQueue` and `PriorityQueue`, with the order `O` as a type
/// parameter. Use it through its aliases [`Queue`], [`LifoQueue`] and
/// [`PriorityQueue`].
///
/// A queue is a handle: clone it to share the queue between tasks (every
/// clone is the same queue, and any clone can put, get, join or shut down).
/// A queue is [`bounded`](Self::bounded) (a `put` waits for a free slot) or
/// [`unbounded`](Self::unbounded) (asyncio's `maxsize <= 0`).
///
/// - **Items** go in with [`put`](Self::put) (waits for a slot) or
///   [`put_nowait`](Self::put_nowait), and come out in the queue's order
///   (below) with [`get`](Self::get) (waits for an item) or
///   [`get_nowait`](Self::get_nowait), or as a
///   [`Stream`](futures_core::Stream) with [`stream`](Self::stream).
/// - **Order.** `O` says which item a get takes, and each order has an
///   alias:
///
///   | alias | `O` | a get takes | asyncio |
///   | --- | --- | --- | --- |
///   | [`Queue<T>`](Queue) | [`Fifo`] | the oldest item | `asyncio.Queue` |
///   | [`LifoQueue<T>`](LifoQueue) | [`Lifo`] | the newest item | `asyncio.LifoQueue` |
///   | [`PriorityQueue<T>`](PriorityQueue) | [`Priority`] | the smallest item by [`Ord`], the oldest among equals (`T: Ord`) | `asyncio.PriorityQueue` |
///
///   Build a queue through its alias (`Queue::bounded(n)`,
///   `LifoQueue::unbounded()`, ...): on `JoinableQueue` itself the order is
///   a type parameter to name, as in `JoinableQueue::<T, Lifo>::unbounded()`.
///   Code that works with any order takes a `&JoinableQueue<T, O>`, and adds
///   `O: Order<T>` only if it builds queues. The [`Order`] trait is sealed.
/// - **Joining.** Every item put raises an unfinished count;
///   [`task_done`](Self::task_done) lowers it, and [`join`](Self::join)
///   waits until it is zero. A get does not lower it (behaviours 113, 114).
///   [`get_guarded`](Self::get_guarded) returns the item in a [`Guarded`]
///   handle that calls `task_done` when it is dropped, so a worker that
///   returns early, fails, panics or is cancelled while holding an item
///   cannot leave `join` waiting forever.
/// - **Shutdown** ([`shutdown`](Self::shutdown)), as in 3.13: puts fail
///   from then on; gets drain what is left and then fail; an immediate
///   shutdown discards the buffered items (behaviours 121–126).
/// - **Fairness** (asyncio promises none: behaviour 118, gh-83055). A
///   queue built with [`bounded`](Self::bounded) or
///   [`unbounded`](Self::unbounded) is *eventually fair*, as parking_lot's
///   locks are: a running task is not made to wait for a sleeping one,
///   but a sleeping one is not passed over for long.
///   - A `put` or `get` that can complete at once does, even while others
///     wait: a running `put` fills a free slot, a running `get` (or
///     `get_nowait`, or a stream) takes an available item. Each such
///     operation that completes while an older `put` (or `get`) waits
///     *overtakes* it.
///   - A slot freed while puts wait, or an item put while gets wait, wakes
///     the oldest waiting one, and keeps nothing for it: if a running task
///     takes the slot or item first, the woken one waits again *at its old
///     place in line*. At most as many waiters of each line are woken this
///     way at a time as the runtime has workers (a *baton* per worker; one
///     on a current-thread runtime): while they have not run, more free
///     slots or items wake nobody else, and when one completes it wakes the
///     next waiter if a slot or item is still free. (The task that runs
///     first usually takes everything in one go: waking a waiter for every
///     free slot or item woke most of them in vain. Waking fewer than the
///     workers would cost parallelism: tokio runs a task woken from inside
///     another's poll next on that worker, where no other worker can take
///     it, so consumers doing CPU-bound work could not run side by side.)
///     One exception: if a running task overtook the line since the last
///     such hand-on, a woken waiter that completes wakes the next only if
///     no other woken waiter is on its way. The running task (a consumer
///     in a loop) usually comes back for the next item or slot before a
///     waiter woken from inside a poll runs, and that waiter would run on
///     the same worker anyway, so it would wake to nothing; one already on
///     its way keeps the line moving. New items and freed slots still
///     wake up to one waiter per worker.
///     If a woken waiter is dropped, its turn passes to the next waiter.
///   - **The bound.** After [`DEFAULT_OVERTAKE_LIMIT`] (64) overtakes in a
///     line without its oldest waiter being served, the next free slot or
///     item is *handed* to the oldest waiter as in strict order (below):
///     nobody else can take it. So a waiter with `n` waiters ahead of it is
///     overtaken at most `(n + 1) × 64` times: the oldest waiter at most 64
///     times, and every 64 overtakes at least one waiter is served in line.
///     [`with_overtake_limit`](Self::with_overtake_limit) sets another
///     limit.
///
///   A queue built with [`bounded_strict`](Self::bounded_strict) or
///   [`unbounded_strict`](Self::unbounded_strict) (a limit of 0) keeps
///   *strict order*: blocked puts get free slots, and blocked gets get
///   items, strictly in the order they started waiting, and nobody is ever
///   overtaken:
///   - a slot freed while puts wait is granted to the oldest of them, and
///     a later `put` or `put_nowait` cannot take it. A blocked put is never
///     overtaken: items come out in the order the puts began. In a
///     [`Queue`] the granted slot is a place held in line for the woken
///     put's item, so later puts go in behind it at once, and gets stop at
///     it until the woken put has run (a `get_nowait` meanwhile says
///     [`Empty`](TryGetError::Empty) even if items wait behind the place).
///     In a [`LifoQueue`] or [`PriorityQueue`] there is no line to hold a
///     place in: later puts wait until the woken put has inserted
///     (`put_nowait` says [`Full`](TryPutError::Full) meanwhile), and the
///     blocked puts are woken one at a time, each once the one before it
///     has inserted (or was dropped), so that they go in in the order they
///     began even when several slots are free;
///   - an item promised to a woken get cannot be taken by a later `get` or
///     `get_nowait`; in a [`Queue`] the woken gets take the promised items
///     oldest first, each the one it was woken for unless an earlier woken
///     get was dropped. (In a [`LifoQueue`] or [`PriorityQueue`] the
///     order rule decides which item each get takes: a woken get is
///     promised *an* item.)
///
///   A promised slot or item (in strict order, or handed to an overtaken
///   waiter) is claimed when the woken task next runs; if it is cancelled
///   first, the promise passes to the next waiter (a held place is
///   removed, and the items behind it move up). Putters woken at the same
///   moment (several slots freed at once) keep their order in a [`Queue`];
///   in the other two they insert in the order their tasks run. The price
///   of strict order: every waiting put and get completes only after its
///   own wake-up, so many tasks on a small queue move items several times
///   slower (BENCHMARKS.md), and a woken put whose task is slow to run holds
///   up the items behind its place (in a [`Queue`]) or the later puts (in
///   the other two).
///
///   A [`stream`](Self::stream) is the exception: it holds no place in
///   line and is never promised an item, because a `Stream` cannot tell
///   when the future awaiting its next item is dropped. A waiting stream is
///   woken by an item that no waiting `get` was promised, and takes it if
///   it is still there when it runs.
/// - **Cooperative scheduling.** [`put`](Self::put), [`get`](Self::get),
///   [`get_guarded`](Self::get_guarded), [`join`](Self::join) and the
///   [`stream`](Self::stream) spend tokio's cooperative budget, as tokio's own channels do: a task
///   that moves items in a loop yields to the other tasks on its worker
///   once its budget is spent (tokio's budget is currently 128
///   operations), even if every operation could complete at once. A
///   yielding operation has not touched the queue, so it keeps its place.
///   This has a price where a channel that spends no budget (flume) has
///   none: a producer that never finds the queue full yields every 128
///   puts, and tokio lets it run again only after polling its I/O and
///   timer driver, a system call on a worker with nothing else to run
///   (BENCHMARKS.md measures it). A task that must not yield for the
///   budget can run its loop inside [`tokio::task::coop::unconstrained`],
///   as with tokio's channels.
/// - **Dropping.** The queue lives as long as any handle, future, stream or
///   [`Guarded`] item that refers to it. When the last one is dropped, the
///   items still buffered are dropped with it. Dropping handles never shuts
///   the queue down (every handle can both put and get, so there is no
///   "last sender"): call [`shutdown`](Self::shutdown) to tell consumers
///   that no more items will come.
///
/// The sizes [`qsize`](Self::qsize), [`empty`](Self::empty) and
/// [`full`](Self::full) are snapshots: another task may change them before
/// you act on them.
///
/// # Examples
///
/// Workers that take items until the queue is shut down, with a `join` that
/// waits for every item to be processed:
///
/// ```
/// use asyncio::Queue;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let queue = Queue::bounded(2.try_into().unwrap());
/// let results = Queue::unbounded();
/// let mut workers = Vec::new();
/// for _ in 0..3 {
///     let (queue, results) = (queue.clone(), results.clone());
///     workers.push(asyncio::spawn(async move {
///         // `item` calls task_done() when dropped, even on an early return.
///         while let Ok(item) = queue.get_guarded().await {
///             results.put_nowait(*item * 10).unwrap();
///         }
///     }));
/// }
/// for n in 1..=5 {
///     queue.put(n).await.unwrap();
/// }
/// queue.join().await;
/// queue.shutdown();
/// for worker in workers {
///     worker.await.unwrap();
/// }
/// let mut out: Vec<i32> = std::iter::from_fn(|| results.get_nowait().ok()).collect();
/// out.sort();
/// assert_eq!(out, [10, 20, 30, 40, 50]);
/// # }
/// ```
///
/// # asyncio equivalent
///
/// | asyncio | crate |
/// | --- | --- |
/// | `q = asyncio.Queue(maxsize=n)`, `n > 0` | `let q = Queue::bounded(n)` (`n: NonZeroUsize`) |
/// | `q = asyncio.Queue()` (`maxsize <= 0`) | `let q = Queue::unbounded()` |
/// | `await q.put(x)` | `q.put(x).await?` |
/// | `q.put_nowait(x)` | `q.put_nowait(x)?` |
/// | `x = await q.get()` | `let x = q.get().await?` |
/// | `x = q.get_nowait()` | `let x = q.get_nowait()?` |
/// | `x = await q.get()` … `finally: q.task_done()` | `let x = q.get_guarded().await?` |
/// | `q.task_done()` | `q.task_done()?` |
/// | `await q.join()` | `q.join().await` |
/// | `q.qsize()`, `q.empty()`, `q.full()` | `q.qsize()`, `q.empty()`, `q.full()` |
/// | `q.maxsize` | `q.maxsize()` (`None` if unbounded) |
/// | `q.shutdown()`, `q.shutdown(immediate=True)` | `q.shutdown()`, `q.shutdown_immediate()` |
/// | `while True: x = await q.get()` | `let mut items = q.stream();` then `while let Some(x) = items.next().await` (ends at shutdown) |
/// | `QueueFull`, `QueueEmpty` | [`TryPutError::Full`], [`TryGetError::Empty`] |
/// | `QueueShutDown` | the `ShutDown` variant of each error |
/// | `ValueError('task_done() called too many times')` | [`TaskDoneError::TooManyCalls`] |
///
/// The differences:
/// 1. **Fair order** (behaviour 118, gh-83055): asyncio lets `put_nowait`
///    overtake a blocked `put`, and `get_nowait` steal the item a woken `get`
///    was about to take. The crate promises slots and items to waiters in
///    the order they started waiting (see Fairness above).
/// 2. Because of those promises, [`empty`](Self::empty) and
///    [`full`](Self::full) say what `get_nowait` and `put_nowait` would
///    find: an item promised to a woken getter, or waiting behind a place
///    held for a woken putter, is not available; a slot promised to a woken
///    putter is not free. [`qsize`](Self::qsize) counts every item in the
///    buffer, as asyncio's does (a held place is not an item).
/// 3. A failed put hands the item back inside the error
///    ([`PutError::into_inner`]). Dropping a pending [`Put`] drops its item
///    with it; [`Put::into_inner`] cancels it and takes the item back.
/// 4. [`get_guarded`](Self::get_guarded) has no asyncio counterpart: it is
///    the `try: … finally: q.task_done()` pattern, impossible to forget. A
///    manual `task_done()` cannot spend the unit of an item a guard holds:
///    it fails with `TooManyCalls` instead, so the guard never underflows.
/// 5. Capacities are integers (`NonZeroUsize`): asyncio's float `maxsize`
///    (behaviour 110) has no counterpart.
/// 6. A queue is not bound to an event loop (behaviour 119): any task on any
///    runtime can use it, and the `_nowait` methods need no runtime at all.
/// 7. Dropping handles does not shut the queue down; buffered items are
///    dropped with the last reference to the queue.
/// 8. Behaviour 120's lost item (an abandoned `get` task that takes an item
///    later) cannot happen with a `get` future: it takes nothing unless it is
///    polled to completion. It can still happen if you spawn a task that
///    gets, and then drop the result.
/// 9. asyncio's `await q.get()` and `await q.put(x)` do not yield to the
///    event loop when they can complete at once, so a worker loop over a
///    busy queue can starve every other task. Here they yield once tokio's
///    cooperative budget is spent (see Cooperative scheduling above).
///
/// # Cancellation
///
/// A summary; each async method ([`put`](Self::put), [`get`](Self::get),
/// [`get_guarded`](Self::get_guarded), [`join`](Self::join)) has its own
/// table.
///
/// | situation | asyncio | crate |
/// | --- | --- | --- |
/// | the awaiting future is dropped | a cancelled `put` inserts nothing and a cancelled `get` loses no item, even if woken (115, 116); no stale waiter is left (117) | the same: a dropped `Put` inserts nothing, a dropped `Get` takes nothing, and a slot or item promised to either (or the turn it was woken for) passes to the next waiter; the waiter is removed at once |
/// | a child errors | n/a: queue operations have no children | n/a: no children |
/// | a child is cancelled | n/a: no children | n/a: no children |
/// | a child panics | n/a: no children | n/a; a worker that panics while holding a [`Guarded`] item marks it done as it unwinds |
/// | a timeout fires | `wait_for(q.get(), t)` leaves no stale getter and loses no item (61) | the same, since the timeout drops the future (first row) |
/// | the owner/handle is dropped | n/a: no handles | the futures borrow the handle, so they cannot outlive it; dropping other clones changes nothing |
/// | the queue is shut down explicitly | `q.shutdown()`: blocked `put`s raise `QueueShutDown`, `get`s drain what is left then raise; `shutdown(immediate=True)` also empties the queue and releases `join` (121–126) | [`shutdown`](Self::shutdown) and [`shutdown_immediate`](Self::shutdown_immediate): the same, with each waiting `put` handing its item back in `PutError::ShutDown` |
/// | a blocked `put` is taken back | n/a: a cancelled `put` drops its item | [`Put::into_inner`] on a `put` polled by reference takes the item back out of the future; it was never inserted |
/// | the runtime shuts down | pending operations are cancelled | pending futures are dropped with their tasks (first row); the queue itself outlives the runtime |
///
/// # Errors
///
/// - [`put`](Self::put): [`PutError::ShutDown`] after a shutdown;
///   [`put_nowait`](Self::put_nowait): also [`TryPutError::Full`]. Both
///   hand the item back.
/// - [`get`](Self::get): [`GetError::ShutDown`] once the queue is shut down
///   and has no item for it; [`get_nowait`](Self::get_nowait): also
///   [`TryGetError::Empty`].
/// - [`task_done`](Self::task_done): [`TaskDoneError::TooManyCalls`].
///
/// # Panics
///
/// No method panics (a [`Put`] polled again after it completed does, as
/// futures may). None needs a runtime, apart from awaiting, which needs an
/// executor that can wake the task.
pub struct JoinableQueue<T, O = Fifo> {
    core: Arc<QueueCore<T>>,
    order: PhantomData<fn() -> O>,
}

/// A first-in-first-out joinable queue: asyncio's `Queue`, for many
/// producers and many consumers.
///
/// A [`JoinableQueue`] with the [`Fifo`] order: a get takes the oldest item.
/// Every method, and the full story (fairness, shutdown, cancellation, the
/// asyncio table), is documented there.
///
/// # Examples
///
/// ```
/// use asyncio::Queue;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let queue = Queue::bounded(2.try_into().unwrap());
/// queue.put(1).await.unwrap();
/// queue.put_nowait(2).unwrap();
/// assert!(queue.full());
/// assert_eq!(queue.get().await, Ok(1));
/// assert_eq!(queue.get_nowait(), Ok(2));
/// # }
/// ```
///
/// # asyncio equivalent
///
/// `asyncio.Queue(maxsize)`: `Queue::bounded(n)` or `Queue::unbounded()`;
/// the table and every difference are on [`JoinableQueue`].
///
/// # Cancellation
///
/// As for [`JoinableQueue`].
///
/// # Errors
///
/// As for [`JoinableQueue`].
///
/// # Panics
///
/// No method panics.
pub type Queue<T> = JoinableQueue<T, Fifo>;

/// A last-in-first-out joinable queue: asyncio's `LifoQueue`.
///
/// A [`JoinableQueue`] with the [`Lifo`] order (read its docs for every
/// method, fairness, shutdown, cancellation and the asyncio table), except that a get takes the newest
/// item (behaviour 112).
///
/// # Examples
///
/// ```
/// use asyncio::LifoQueue;
///
/// let stack = LifoQueue::unbounded();
/// for n in 1..=3 {
///     stack.put_nowait(n).unwrap();
/// }
/// assert_eq!(stack.get_nowait(), Ok(3));
/// assert_eq!(stack.get_nowait(), Ok(2));
/// ```
///
/// # asyncio equivalent
///
/// `asyncio.LifoQueue(maxsize)`: `LifoQueue::bounded(n)` or
/// `LifoQueue::unbounded()`; otherwise as for [`JoinableQueue`].
///
/// # Cancellation
///
/// As for [`JoinableQueue`].
///
/// # Errors
///
/// As for [`JoinableQueue`].
///
/// # Panics
///
/// No method panics.
pub type LifoQueue<T> = JoinableQueue<T, Lifo>;

/// A smallest-first joinable queue: asyncio's `PriorityQueue`.
///
/// A [`JoinableQueue`] with the [`Priority`] order (read its docs for every
/// method, fairness, shutdown, cancellation and the asyncio table), except that a get takes the smallest
/// item by [`Ord`], and among equal items the one put first (behaviour 112).
/// Use `(priority, payload)` tuples, or [`std::cmp::Reverse`] for
/// largest-first.
///
/// # Examples
///
/// ```
/// use asyncio::PriorityQueue;
///
/// let jobs = PriorityQueue::unbounded();
/// jobs.put_nowait((2, "write")).unwrap();
/// jobs.put_nowait((1, "read")).unwrap();
/// jobs.put_nowait((2, "flush")).unwrap();
/// assert_eq!(jobs.get_nowait(), Ok((1, "read")));
/// assert_eq!(jobs.get_nowait(), Ok((2, "flush")));
/// assert_eq!(jobs.get_nowait(), Ok((2, "write")));
/// ```
///
/// # asyncio equivalent
///
/// `asyncio.PriorityQueue(maxsize)`: `PriorityQueue::bounded(n)` or
/// `PriorityQueue::unbounded()`; otherwise as for [`JoinableQueue`]. The
/// differences:
/// 1. Items must be [`Ord`], so asyncio's `TypeError` for incomparable
///    payloads (behaviour 112) is a compile error.
/// 2. Equal items come out first-in-first-out; asyncio's `heapq` does not
///    promise any order among them.
///
/// # Cancellation
///
/// As for [`JoinableQueue`].
///
/// # Errors
///
/// As for [`JoinableQueue`].
///
/// # Panics
///
/// No method panics by itself. A panicking [`Ord`] implementation
/// propagates out of the put or get that called it; the queue's contents and
/// counts are unspecified afterwards (as a `BinaryHeap`'s are), though
/// nothing unsafe can happen. Do not use an `Ord` that can panic.
pub type PriorityQueue<T> = JoinableQueue<T, Priority>;

/// Which item a [`JoinableQueue`] hands out next: a sealed trait, implemented
/// by [`Fifo`], [`Lifo`] and [`Priority`] (the last only for `T: Ord`).
///
/// Generic code names it to build queues of any order:
///
/// ```
/// use asyncio::queue::{JoinableQueue, Order};
///
/// fn pool_queue<T, O: Order<T>>() -> JoinableQueue<T, O> {
///     JoinableQueue::bounded(64.try_into().unwrap())
/// }
///
/// let stack: asyncio::LifoQueue<u8> = pool_queue();
/// stack.put_nowait(1).unwrap();
/// stack.put_nowait(2).unwrap();
/// assert_eq!(stack.get_nowait(), Ok(2));
/// ```
///
/// A priority queue needs items that are [`Ord`]:
///
/// ```compile_fail
/// let floats = asyncio::PriorityQueue::<f64>::unbounded(); // f64 is not Ord
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot order items of type `{T}`",
    note = "a `PriorityQueue<T>` (order `Priority`) needs `T: Ord`"
)]
pub trait Order<T>: sealed::Sealed<T> {}

/// How many times a waiting put or get of a queue built with
/// [`bounded`](JoinableQueue::bounded) or [`unbounded`](JoinableQueue::unbounded)
/// may be overtaken before the next free slot or item is handed to it (see
/// *Fairness* on [`JoinableQueue`]).
pub const DEFAULT_OVERTAKE_LIMIT: usize = 64;

/// First in, first out: a get takes the oldest item ([`Queue`]).
#[derive(Debug)]
pub enum Fifo {}

/// Last in, first out: a get takes the newest item ([`LifoQueue`]).
#[derive(Debug)]
pub enum Lifo {}

/// Smallest first: a get takes the smallest item by [`Ord`], and among equal
/// items the one put first ([`PriorityQueue`]).
#[derive(Debug)]
pub enum Priority {}

impl<T> Order<T> for Fifo {}
impl<T> Order<T> for Lifo {}
impl<T: Ord> Order<T> for Priority {}

mod sealed {
    use std::num::NonZeroUsize;

    use super::QueueCore;

    /// What an order does, kept out of the public API: outside code cannot
    /// implement [`Order`](super::Order), so the set of orders, and how a
    /// core is built for each, can change without a breaking change.
    pub trait Sealed<T> {
        /// The name `Debug` prints.
        const NAME: &'static str;
        /// The core of a queue in this order; `None` is unbounded.
        fn core(capacity: Option<NonZeroUsize>) -> QueueCore<T>;
    }

    impl<T> Sealed<T> for super::Fifo {
        const NAME: &'static str = "Queue";
        fn core(capacity: Option<NonZeroUsize>) -> QueueCore<T> {
            QueueCore::fifo(capacity)
        }
    }

    impl<T> Sealed<T> for super::Lifo {
        const NAME: &'static str = "LifoQueue";
        fn core(capacity: Option<NonZeroUsize>) -> QueueCore<T> {
            QueueCore::lifo(capacity)
        }
    }

    impl<T: Ord> Sealed<T> for super::Priority {
        const NAME: &'static str = "PriorityQueue";
        fn core(capacity: Option<NonZeroUsize>) -> QueueCore<T> {
            QueueCore::priority(capacity)
        }
    }
}

impl<T, O: Order<T>> JoinableQueue<T, O> {
    /// A queue that holds at most `capacity` items: asyncio's
    /// `Queue(maxsize=capacity)`, `LifoQueue(maxsize=capacity)` or
    /// `PriorityQueue(maxsize=capacity)`, by the alias it is called through.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    ///
    /// let queue = asyncio::Queue::<u8>::bounded(NonZeroUsize::new(8).unwrap());
    /// assert_eq!(queue.maxsize(), NonZeroUsize::new(8));
    /// let stack = asyncio::LifoQueue::<u8>::bounded(NonZeroUsize::new(8).unwrap());
    /// let jobs = asyncio::PriorityQueue::<u8>::bounded(NonZeroUsize::new(8).unwrap());
    /// # let _ = (stack, jobs);
    /// ```
    pub fn bounded(capacity: NonZeroUsize) -> Self {
        Self::with_overtake_limit(Some(capacity), DEFAULT_OVERTAKE_LIMIT)
    }

    /// A queue without a size limit: asyncio's `Queue()` (`maxsize <= 0`,
    /// behaviour 110), `LifoQueue()` or `PriorityQueue()`.
    /// [`full`](Self::full) is never true.
    pub fn unbounded() -> Self {
        Self::with_overtake_limit(None, DEFAULT_OVERTAKE_LIMIT)
    }

    /// A bounded queue in strict order: every free slot goes to the oldest
    /// waiting put, and every new item to the oldest waiting get, so no
    /// waiter is ever overtaken (the overtake limit is 0; see *Fairness* on
    /// [`JoinableQueue`]). It costs speed when many tasks wait: each
    /// waiting put and get completes only after its own wake-up
    /// (BENCHMARKS.md has the figures).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::num::NonZeroUsize;
    ///
    /// let queue = asyncio::Queue::bounded_strict(NonZeroUsize::MIN);
    /// queue.put_nowait(1).unwrap();
    /// let mut blocked = Box::pin(queue.put(2));
    /// assert!(futures::poll!(&mut blocked).is_pending());
    /// assert_eq!(queue.get_nowait(), Ok(1));
    /// // The freed slot is the blocked put's: a later put_nowait cannot take it.
    /// assert!(queue.put_nowait(3).is_err());
    /// blocked.await.unwrap();
    /// assert_eq!(queue.get_nowait(), Ok(2));
    /// # }
    /// ```
    pub fn bounded_strict(capacity: NonZeroUsize) -> Self {
        Self::with_overtake_limit(Some(capacity), 0)
    }

    /// An unbounded queue in strict order: every new item goes to the
    /// oldest waiting get (see [`bounded_strict`](Self::bounded_strict)).
    pub fn unbounded_strict() -> Self {
        Self::with_overtake_limit(None, 0)
    }

    /// A queue (`None`: unbounded) in which a waiting put or get is
    /// overtaken at most `limit` times before the next free slot or item is
    /// handed to it (see *Fairness* on [`JoinableQueue`]). `0` is strict
    /// order ([`bounded_strict`](Self::bounded_strict)); [`bounded`](Self::bounded)
    /// and [`unbounded`](Self::unbounded) use [`DEFAULT_OVERTAKE_LIMIT`].
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = asyncio::Queue::<u8>::with_overtake_limit(None, 4);
    /// # let _ = queue;
    /// ```
    pub fn with_overtake_limit(capacity: Option<NonZeroUsize>, limit: usize) -> Self {
        Self::with_fairness(capacity, limit, default_woken_at_once())
    }

    /// [`with_overtake_limit`](Self::with_overtake_limit), with the number
    /// of waiting puts (and of waiting gets) woken at a time with nothing
    /// kept for them (see *Fairness* on [`JoinableQueue`]). The other
    /// constructors wake as many as the current runtime has workers (one on
    /// a current-thread runtime), or, built outside a runtime, as many as
    /// the machine has cores ([`std::thread::available_parallelism`]).
    /// Fewer than the workers can keep consumers that do CPU-bound work
    /// from running side by side; more wake tasks that mostly find nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    ///
    /// let queue = asyncio::Queue::<u8>::with_fairness(
    ///     NonZeroUsize::new(16),
    ///     asyncio::queue::DEFAULT_OVERTAKE_LIMIT,
    ///     NonZeroUsize::new(4).unwrap(),
    /// );
    /// # let _ = queue;
    /// ```
    pub fn with_fairness(
        capacity: Option<NonZeroUsize>,
        overtake_limit: usize,
        woken_at_once: NonZeroUsize,
    ) -> Self {
        let limit = u64::try_from(overtake_limit).unwrap_or(u64::MAX);
        Self::from_core(
            O::core(capacity)
                .overtake_limit(limit)
                .notify_at_once(woken_at_once),
        )
    }

    fn from_core(core: QueueCore<T>) -> Self {
        Self {
            core: Arc::new(core),
            order: PhantomData,
        }
    }
}

/// How many waiting puts (and gets) a new queue wakes at a time: one per
/// worker of the current runtime, or one per core outside a runtime.
fn default_woken_at_once() -> NonZeroUsize {
    tokio::runtime::Handle::try_current()
        .ok()
        .and_then(|runtime| NonZeroUsize::new(runtime.metrics().num_workers()))
        .or_else(|| std::thread::available_parallelism().ok())
        .unwrap_or(NonZeroUsize::MIN)
}

impl<T, O: Order<T>> Default for JoinableQueue<T, O> {
    /// An unbounded queue.
    fn default() -> Self {
        Self::unbounded()
    }
}

impl<T, O> JoinableQueue<T, O> {
    /// Puts `item` into the queue, waiting for a free slot if the
    /// queue is full: asyncio's `await q.put(item)`.
    ///
    /// A blocked put gets a slot before any `put` or `put_nowait`
    /// that started later (see the fairness policy on [`Queue`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put(7).await.unwrap();
    /// assert_eq!(queue.get().await, Ok(7));
    /// # }
    /// ```
    ///
    /// # Cancellation
    ///
    /// | situation | asyncio | crate |
    /// | --- | --- | --- |
    /// | the future awaiting `put` is dropped | nothing is inserted, even if a slot was freed and the putter woken; the slot passes to the next putter (116); the putter leaves the waiter list (117) | the same; the item is dropped with the future (take it back with [`Put::into_inner`]) |
    /// | a child errors | n/a: `put` has no children | n/a: no children |
    /// | a child is cancelled | n/a: no children | n/a: no children |
    /// | a child panics | n/a: no children | n/a: no children |
    /// | a timeout fires | `wait_for(q.put(x), t)` cancels the put as in the first row | the same: the timeout drops the `Put` |
    /// | the owner/handle is dropped | n/a: no handles | n/a: `Put` borrows the handle, so it cannot outlive it |
    /// | the runtime shuts down | the put is cancelled with its task | the `Put` is dropped with its task: as in the first row |
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If `put` is used as a branch in `select!`
    /// and another branch completes first, it is guaranteed that the item was
    /// not put into the queue (it is dropped with the future, unless you poll
    /// `&mut put` and call [`Put::into_inner`]). You lose your place in the
    /// line of waiting putters.
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] if the queue is shut down before the
    /// item goes in, also while the put waits (behaviours 121, 123).
    /// The error holds the item.
    pub fn put(&self, item: T) -> Put<'_, T> {
        Put {
            core: &self.core,
            item: Some(item),
            waiter: Waiter::new(),
        }
    }

    /// Puts `item` into the queue if a slot is free: asyncio's
    /// `q.put_nowait(item)`.
    ///
    /// A slot promised to a woken `put` is not free, and in a
    /// [`LifoQueue`] or [`PriorityQueue`] no slot is free until that
    /// put has inserted (behaviour 118 does not hold here: see the
    /// fairness policy on [`Queue`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = asyncio::Queue::bounded(1.try_into().unwrap());
    /// queue.put_nowait(1).unwrap();
    /// let error = queue.put_nowait(2).unwrap_err();
    /// assert!(error.is_full());
    /// assert_eq!(error.into_inner(), 2);
    /// ```
    ///
    /// # Errors
    ///
    /// [`TryPutError::Full`] if no slot is free (behaviour 111),
    /// [`TryPutError::ShutDown`] after a shutdown (behaviour 121).
    /// Both hold the item.
    pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        self.core.try_put(item)
    }

    /// Takes an item out of the queue, waiting for one if it is empty:
    /// asyncio's `await q.get()`.
    ///
    /// Taking an item does not mark it done: call
    /// [`task_done`](Self::task_done) when it is processed, or use
    /// [`get_guarded`](Self::get_guarded), which cannot forget to.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put_nowait(1).unwrap();
    /// assert_eq!(queue.get().await, Ok(1));
    /// queue.task_done().unwrap();
    /// queue.join().await;
    /// # }
    /// ```
    ///
    /// # Cancellation
    ///
    /// | situation | asyncio | crate |
    /// | --- | --- | --- |
    /// | the future awaiting `get` is dropped | no item is lost, even if the getter was already woken; the next getter is woken (115); the getter leaves the waiter list (117) | the same: the item stays in the queue, promised to the next waiting getter |
    /// | a child errors | n/a: `get` has no children | n/a: no children |
    /// | a child is cancelled | n/a: no children | n/a: no children |
    /// | a child panics | n/a: no children | n/a: no children |
    /// | a timeout fires | `wait_for(q.get(), t)` loses no item and leaves no stale getter (61) | the same: the timeout drops the `Get` |
    /// | the owner/handle is dropped | n/a: no handles | n/a: `Get` borrows the handle, so it cannot outlive it |
    /// | the runtime shuts down | the get is cancelled with its task | the `Get` is dropped with its task: as in the first row |
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If `get` is used as a branch in `select!`
    /// and another branch completes first, it is guaranteed that no item was
    /// taken from the queue. You lose your place in the line of waiting
    /// getters.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and no item
    /// is left for this get (behaviours 122–124).
    pub fn get(&self) -> Get<'_, T> {
        Get {
            core: &self.core,
            waiter: Waiter::new(),
            completed: false,
        }
    }

    /// Takes an item out of the queue if one is available: asyncio's
    /// `q.get_nowait()`.
    ///
    /// An item promised to a woken `get` is not available (see the
    /// fairness policy on [`Queue`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = asyncio::Queue::unbounded();
    /// assert_eq!(queue.get_nowait(), Err(asyncio::queue::TryGetError::Empty));
    /// queue.put_nowait(1).unwrap();
    /// assert_eq!(queue.get_nowait(), Ok(1));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TryGetError::Empty`] if no item is available (behaviour 111),
    /// [`TryGetError::ShutDown`] if none is and the queue is shut
    /// down (behaviours 122, 124).
    pub fn get_nowait(&self) -> Result<T, TryGetError> {
        self.core.try_get(false).map(|taken| taken.item)
    }

    /// Takes an item out of the queue, waiting for one if it is empty,
    /// and returns it in a [`Guarded`] handle that marks it done
    /// (calls [`task_done`](Self::task_done)) when it is dropped.
    ///
    /// A worker that takes items this way cannot make
    /// [`join`](Self::join) wait forever by returning early, failing
    /// with `?`, panicking or being cancelled while it holds an item.
    /// [`Guarded::done`] marks the item done explicitly and hands it
    /// over.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put_nowait(20).unwrap();
    /// let worker = {
    ///     let queue = queue.clone();
    ///     asyncio::try_spawn(async move {
    ///         let item = queue.get_guarded().await.unwrap();
    ///         if *item > 10 {
    ///             return Err("too big"); // `item` is marked done here
    ///         }
    ///         Ok(item.done())
    ///     })
    /// };
    /// queue.join().await; // does not hang
    /// assert!(worker.await.is_err());
    /// # }
    /// ```
    ///
    /// # Cancellation
    ///
    /// | situation | asyncio | crate |
    /// | --- | --- | --- |
    /// | the future awaiting `get_guarded` is dropped | as for `get` (115, 117) | as for [`get`](Self::get): nothing is taken, so nothing is marked done |
    /// | a child errors | n/a: no children | n/a: no children; a worker that fails while holding the [`Guarded`] item marks it done |
    /// | a child is cancelled | n/a: no children | n/a; a worker cancelled while holding the item marks it done |
    /// | a child panics | n/a: no children | n/a; a worker that panics while holding the item marks it done as it unwinds |
    /// | a timeout fires | as for `get` (61) | as for [`get`](Self::get) |
    /// | the owner/handle is dropped | n/a: no handles | n/a: the future borrows the handle; a [`Guarded`] item keeps the queue alive by itself |
    /// | the runtime shuts down | as for `get` | as for [`get`](Self::get); a [`Guarded`] item dropped with its task marks it done |
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If `get_guarded` is used as a branch in
    /// `select!` and another branch completes first, it is guaranteed that no
    /// item was taken from the queue. You lose your place in the line of
    /// waiting getters.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`], as for [`get`](Self::get).
    pub fn get_guarded(&self) -> GetGuarded<'_, T> {
        GetGuarded {
            core: &self.core,
            waiter: Waiter::new(),
            completed: false,
        }
    }

    /// Takes an item if one is available, in a [`Guarded`] handle:
    /// [`get_nowait`](Self::get_nowait) with the guard of
    /// [`get_guarded`](Self::get_guarded).
    ///
    /// # Errors
    ///
    /// As for [`get_nowait`](Self::get_nowait).
    pub fn get_guarded_nowait(&self) -> Result<Guarded<T>, TryGetError> {
        self.core
            .try_get(true)
            .map(|taken| Guarded::new(self.core.clone(), taken))
    }

    /// Marks one item as processed: asyncio's `q.task_done()`.
    ///
    /// Every put raises the unfinished count by one; each call lowers
    /// it by one, and [`join`](Self::join) returns when it reaches
    /// zero (behaviours 113, 114). A shutdown does not block it
    /// (behaviour 126). Items held by a [`Guarded`] handle are not
    /// yours to mark: their handle does it.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put_nowait(1).unwrap();
    /// queue.get_nowait().unwrap();
    /// assert_eq!(queue.task_done(), Ok(()));
    /// assert_eq!(queue.task_done(), Err(asyncio::queue::TaskDoneError::TooManyCalls));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TaskDoneError::TooManyCalls`] if nothing is left to mark done
    /// (behaviour 113); the count is unchanged.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.core.task_done()
    }

    /// Waits until every item put so far has been marked done:
    /// asyncio's `await q.join()`.
    ///
    /// Returns at once if nothing is unfinished (behaviour 114). A
    /// `join` woken because the count reached zero returns, even if a
    /// new item is put before it runs (as asyncio's `Event` does).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let queue = asyncio::Queue::unbounded();
    /// queue.join().await; // nothing unfinished
    /// queue.put_nowait(1).unwrap();
    /// let worker = {
    ///     let queue = queue.clone();
    ///     asyncio::spawn(async move { drop(queue.get_guarded().await) })
    /// };
    /// queue.join().await;
    /// # worker.await.unwrap();
    /// # }
    /// ```
    ///
    /// # Cancellation
    ///
    /// | situation | asyncio | crate |
    /// | --- | --- | --- |
    /// | the future awaiting `join` is dropped | the joiner stops waiting; nothing else changes | the same |
    /// | a child errors | n/a: `join` has no children (a worker's error is its own business) | n/a: no children; a worker that fails holding a [`Guarded`] item marks it done |
    /// | a child is cancelled | n/a: no children | n/a; the same with cancellation |
    /// | a child panics | n/a: no children | n/a; the same with a panic |
    /// | a timeout fires | `wait_for(q.join(), t)` stops waiting | the same: the timeout drops the `QueueJoin` |
    /// | the owner/handle is dropped | n/a: no handles | n/a: `QueueJoin` borrows the handle, so it cannot outlive it |
    /// | the runtime shuts down | the joiner is cancelled with its task | the `QueueJoin` is dropped with its task |
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If `join` is used as a branch in `select!`
    /// and another branch completes first, it is guaranteed that the queue was
    /// not changed.
    pub fn join(&self) -> QueueJoin<'_, T> {
        QueueJoin {
            core: &self.core,
            waiter: Waiter::new(),
        }
    }

    /// Shuts the queue down gracefully: asyncio's `q.shutdown()`
    /// (3.13; `immediate=False`).
    ///
    /// From then on every put fails, blocked ones included, even if a
    /// slot had just been freed for them (behaviours 121, 123). Gets
    /// keep taking the buffered items and fail once none is left;
    /// blocked gets with nothing left for them wake up and fail
    /// (behaviours 122, 123). `join` is unaffected. It can be called
    /// again, and [`shutdown_immediate`](Self::shutdown_immediate)
    /// after it drops whatever is left (behaviour 126).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put_nowait(1).unwrap();
    /// queue.shutdown();
    /// assert!(queue.put_nowait(2).unwrap_err().is_shut_down());
    /// assert_eq!(queue.get_nowait(), Ok(1));
    /// assert!(queue.get_nowait().unwrap_err().is_shut_down());
    /// ```
    pub fn shutdown(&self) {
        self.core.shutdown(false)
    }

    /// Shuts the queue down at once: asyncio's
    /// `q.shutdown(immediate=True)` (3.13).
    ///
    /// As [`shutdown`](Self::shutdown), and the buffered items are
    /// dropped: the unfinished count is lowered by one for each, and
    /// `join` returns if it reaches zero; items already taken but not
    /// marked done still hold `join` back (behaviours 124, 125).
    /// Every get fails from then on. It can be called again
    /// (behaviour 126).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put_nowait(1).unwrap();
    /// queue.shutdown_immediate();
    /// assert!(queue.get_nowait().unwrap_err().is_shut_down());
    /// assert_eq!(queue.unfinished_tasks(), 0);
    /// ```
    ///
    /// # Panics
    ///
    /// If the destructor of an item it drops panics, the panic
    /// propagates to the caller, as dropping a `Vec` of the items
    /// would; the queue's state is settled first (the count lowered,
    /// every waiter woken). Queue items belong to no task, so this is
    /// not the unobserved-error hook's business.
    pub fn shutdown_immediate(&self) {
        self.core.shutdown(true)
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.core.is_shut_down()
    }

    /// The number of items in the queue: asyncio's `q.qsize()`.
    ///
    /// Items promised to woken getters that have not run yet are
    /// counted; places held for woken putters are not.
    #[doc(alias = "len")]
    pub fn qsize(&self) -> usize {
        self.core.len()
    }

    /// Whether no item is available to
    /// [`get_nowait`](Self::get_nowait): asyncio's `q.empty()`. Items
    /// promised to woken getters, or behind a place held for a woken
    /// putter, are not available.
    #[doc(alias = "is_empty")]
    pub fn empty(&self) -> bool {
        self.core.is_empty()
    }

    /// Whether no slot is free for
    /// [`put_nowait`](Self::put_nowait): asyncio's `q.full()`. Never
    /// true for an unbounded queue (behaviour 110). Slots promised
    /// to woken putters are not free, and in a [`LifoQueue`] or
    /// [`PriorityQueue`] no slot is free until such a putter has
    /// inserted.
    #[doc(alias = "is_full")]
    pub fn full(&self) -> bool {
        self.core.is_full()
    }

    /// The capacity, `None` if unbounded: asyncio's `q.maxsize`.
    #[doc(alias = "capacity")]
    pub fn maxsize(&self) -> Option<NonZeroUsize> {
        self.core.capacity()
    }

    /// How many items were put and not yet marked done (by
    /// [`task_done`](Self::task_done) or a dropped
    /// [`Guarded`]): asyncio's `q._unfinished_tasks`, what
    /// [`join`](Self::join) waits to reach zero. A snapshot; it
    /// takes the queue's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue: asyncio::Queue<u8> = asyncio::Queue::unbounded();
    /// queue.put_nowait(1).unwrap();
    /// assert_eq!(queue.unfinished_tasks(), 1);
    /// let item = queue.get_nowait().unwrap();
    /// assert_eq!(queue.unfinished_tasks(), 1); // taken, not yet done
    /// queue.task_done().unwrap();
    /// assert_eq!(queue.unfinished_tasks(), 0);
    /// # let _ = item;
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.core.unfinished()
    }

    /// How many [`get`](Self::get)s, [`get_guarded`](Self::get_guarded)s
    /// and [streams](Self::stream) are waiting for an item: asyncio's
    /// `len(q._getters)`. A get that was promised an item and woken,
    /// but has not run yet, no longer counts (asyncio removes a woken
    /// getter from `_getters` too). A snapshot, like
    /// [`qsize`](Self::qsize); it takes the queue's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let queue: asyncio::Queue<u8> = asyncio::Queue::unbounded();
    /// let mut get = Box::pin(queue.get());
    /// assert!(futures::poll!(&mut get).is_pending());
    /// assert_eq!(queue.waiting_getters(), 1);
    /// drop(get);
    /// assert_eq!(queue.waiting_getters(), 0);
    /// # }
    /// ```
    pub fn waiting_getters(&self) -> usize {
        self.core.waiting_getters()
    }

    /// How many [`put`](Self::put)s are waiting for a free slot:
    /// asyncio's `len(q._putters)`. A put that was promised a slot
    /// and woken, but has not run yet, no longer counts. A snapshot;
    /// it takes the queue's lock.
    pub fn waiting_putters(&self) -> usize {
        self.core.waiting_putters()
    }

    /// The queue's items as a [`Stream`](futures_core::Stream) that
    /// ends when the queue is shut down and has nothing left for it.
    ///
    /// The stream holds its own handle. Each item is taken as by
    /// [`get_nowait`](Self::get_nowait): mark it done with
    /// [`task_done`](Self::task_done) if anyone joins the queue.
    ///
    /// Unlike [`get`](Self::get), a stream has **no place in the
    /// line of waiting getters**, and is never promised an item. A
    /// `Stream` cannot tell that the future awaiting its next item
    /// (`items.next()`) was dropped, for example when it lost a
    /// `select!`, so an item promised to it could wait for a poll
    /// that never comes. So a pending stream holds nothing: it is
    /// only registered to be woken. An item that no waiting `get`
    /// was promised wakes **every** waiting stream, and the first
    /// to run takes it; the others find the queue empty and wait
    /// again. A stream that is never polled again, but kept, costs
    /// one wake-up and delays nobody.
    ///
    /// What that costs: waiting `get`s are served before waiting
    /// streams, and many streams waiting on one queue are all woken
    /// by each item. For a pool of many workers on one queue,
    /// prefer a loop over [`get`](Self::get) or
    /// [`get_guarded`](Self::get_guarded), which wakes one worker
    /// per item, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put_nowait(1).unwrap();
    /// queue.put_nowait(1).unwrap();
    /// queue.shutdown();
    /// assert_eq!(queue.stream().collect::<Vec<_>>().await, [1, 1]);
    /// # }
    /// ```
    ///
    /// # Cancellation
    ///
    /// Awaiting the stream's next item (`items.next().await`) is a
    /// [`get`](Self::get), with the same table:
    ///
    /// | situation | asyncio (`await q.get()` in a loop) | crate |
    /// | --- | --- | --- |
    /// | the future awaiting the next item is dropped | no item is lost (115) | no item is taken, and none was promised to the stream: the next item goes to whoever asks for it, and `get_nowait` finds it |
    /// | a child errors | n/a: no children | n/a: no children |
    /// | a child is cancelled | n/a: no children | n/a: no children |
    /// | a child panics | n/a: no children | n/a: no children |
    /// | a timeout fires | loses no item (61) | the same: the timeout drops the `next()` future |
    /// | the owner/handle is dropped | n/a: no handles | the stream holds its own handle: dropping the others changes nothing, and it keeps waiting until the queue is shut down; a stream that outlives every other handle can never be shut down, and never ends |
    /// | the runtime shuts down | the loop is cancelled with its task | the stream is dropped with its task, taking nothing |
    ///
    /// # Cancel safety
    ///
    /// This stream is cancel safe. If `next()` is used as a branch in `select!`
    /// and another branch completes first, it is guaranteed that no item was
    /// taken from the queue.
    pub fn stream(&self) -> QueueStream<T> {
        QueueStream {
            core: self.core.clone(),
            waiter: Waiter::new(),
            ended: false,
        }
    }

    /// The queue's items as a [`Stream`](futures_core::Stream) of
    /// [`Guarded`] items, each marked done when its handle is
    /// dropped: [`stream`](Self::stream) for a worker loop that
    /// [`join`](Self::join) waits on (asyncio's `get()` ...
    /// `finally: q.task_done()`, without the `finally`).
    ///
    /// The same semantics as [`stream`](Self::stream) otherwise:
    /// it holds no place in line, ends once the queue is shut down
    /// with nothing left for it, and `next()` is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put_nowait(2).unwrap();
    /// queue.put_nowait(3).unwrap();
    /// let worker = {
    ///     let mut items = queue.guarded_stream();
    ///     async move {
    ///         let mut sum = 0;
    ///         while let Some(item) = items.next().await {
    ///             sum += *item; // marked done as `item` drops
    ///         }
    ///         sum
    ///     }
    /// };
    /// let worker = asyncio::spawn(worker);
    /// queue.join().await; // both items processed
    /// queue.shutdown();
    /// assert_eq!(worker.await.unwrap(), 5);
    /// # }
    /// ```
    pub fn guarded_stream(&self) -> GuardedStream<T> {
        GuardedStream(self.stream())
    }
}

impl<T, O> Clone for JoinableQueue<T, O> {
    /// Another handle to the same queue.
    fn clone(&self) -> Self {
        Self {
            core: self.core.clone(),
            order: PhantomData,
        }
    }
}

impl<T, O: Order<T>> fmt::Debug for JoinableQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(O::NAME).field("core", &self.core).finish()
    }
}

/// The future returned by [`JoinableQueue::put`].
///
/// Dropping it before it completes inserts nothing; its item is dropped with
/// it unless taken back with [`into_inner`](Put::into_inner).
///
/// # Panics
///
/// When polled again after it completed (it no longer holds an item), as
/// futures may.
#[must_use = "futures do nothing unless polled"]
pub struct Put<'a, T> {
    core: &'a QueueCore<T>,
    item: Option<T>,
    waiter: Waiter,
}

// The item is moved in and out by value, never pinned.
impl<T> Unpin for Put<'_, T> {}

impl<T> Put<'_, T> {
    /// Cancels the put and hands back its item, or `None` if the put already
    /// completed or failed (a failure hands the item back in its error).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let queue = asyncio::Queue::bounded(1.try_into().unwrap());
    /// queue.put_nowait("first").unwrap();
    /// let mut put = queue.put("second");
    /// tokio::select! {
    ///     _ = &mut put => unreachable!("the queue stays full"),
    ///     _ = asyncio::sleep(Duration::from_secs(1)) => {}
    /// }
    /// assert_eq!(put.into_inner(), Some("second"));
    /// assert_eq!(queue.qsize(), 1);
    /// # }
    /// ```
    pub fn into_inner(mut self) -> Option<T> {
        self.core.cancel_put(&mut self.waiter);
        self.item.take()
    }
}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), PutError<T>>;

    // Always: a future awaited in a loop at more than one place in a
    // program was otherwise compiled as a call, and its fast path with it
    // (see `cooperatively!`).
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.item.is_none() {
            panic!("asyncio: a queue put was polled after it completed");
        }
        cooperatively!(cx, {
            this.core.poll_put(&mut this.waiter, &mut this.item, cx)
        })
    }
}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        self.core.cancel_put(&mut self.waiter);
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("waiting", &self.waiter.is_registered())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`JoinableQueue::get`].
///
/// Dropping it before it completes takes nothing from the queue.
///
/// # Panics
///
/// When polled again after it completed, as futures may (and as [`Put`]
/// does): a `get` takes one item, never a second one silently.
#[must_use = "futures do nothing unless polled"]
pub struct Get<'a, T> {
    core: &'a QueueCore<T>,
    waiter: Waiter,
    completed: bool,
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, GetError>;

    // Always, as `Put::poll`.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !this.completed,
            "asyncio: a queue get was polled after it completed"
        );
        let outcome = ready!(cooperatively!(cx, {
            this.core.poll_get(&mut this.waiter, false, cx)
        }));
        this.completed = true;
        Poll::Ready(outcome.map(|taken| taken.item))
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        self.core.cancel_get(&mut self.waiter);
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.waiter.is_registered())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`JoinableQueue::get_guarded`] (and the other queues'
/// `get_guarded`).
///
/// Dropping it before it completes takes nothing from the queue.
///
/// # Panics
///
/// When polled again after it completed, as [`Get`] does.
#[must_use = "futures do nothing unless polled"]
pub struct GetGuarded<'a, T> {
    core: &'a Arc<QueueCore<T>>,
    waiter: Waiter,
    completed: bool,
}

impl<T> Future for GetGuarded<'_, T> {
    type Output = Result<Guarded<T>, GetError>;

    // Always, as `Put::poll`.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !this.completed,
            "asyncio: a queue get_guarded was polled after it completed"
        );
        let outcome = ready!(cooperatively!(cx, {
            this.core.poll_get(&mut this.waiter, true, cx)
        }));
        this.completed = true;
        Poll::Ready(outcome.map(|taken| Guarded::new(this.core.clone(), taken)))
    }
}

impl<T> Drop for GetGuarded<'_, T> {
    fn drop(&mut self) {
        self.core.cancel_get(&mut self.waiter);
    }
}

impl<T> fmt::Debug for GetGuarded<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetGuarded")
            .field("waiting", &self.waiter.is_registered())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`JoinableQueue::join`].
#[must_use = "futures do nothing unless polled"]
pub struct QueueJoin<'a, T> {
    core: &'a QueueCore<T>,
    waiter: Waiter,
}

impl<T> Future for QueueJoin<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // A join that finds nothing unfinished completes at once: spending
        // the budget keeps a loop of such joins from starving the worker.
        cooperatively!(cx, this.core.poll_join(&mut this.waiter, cx))
    }
}

impl<T> Drop for QueueJoin<'_, T> {
    fn drop(&mut self) {
        self.core.cancel_join(&mut self.waiter);
    }
}

impl<T> fmt::Debug for QueueJoin<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueJoin")
            .field("waiting", &self.waiter.is_registered())
            .finish_non_exhaustive()
    }
}

/// An item taken with [`JoinableQueue::get_guarded`]: it marks the item done
/// (calls [`task_done`](JoinableQueue::task_done)) when dropped, or when
/// [`done`](Guarded::done) is called.
///
/// Read and change the item through [`Deref`] and [`DerefMut`]. The handle
/// keeps the queue alive and is `Send` when `T` is, so it can move into
/// another task.
///
/// A worker that holds a `Guarded` item and fails, returns early, panics or
/// is cancelled drops it, which marks the item done: `join` cannot be left
/// waiting for it.
pub struct Guarded<T> {
    core: Arc<QueueCore<T>>,
    item: Option<T>,
    /// Whether this handle holds the item's unfinished unit (false only if a
    /// manual `task_done()` spent it before the item was taken).
    counted: bool,
}

impl<T> Guarded<T> {
    fn new(core: Arc<QueueCore<T>>, taken: Taken<T>) -> Self {
        Self {
            core,
            item: Some(taken.item),
            counted: taken.counted,
        }
    }

    /// Marks the item done now and hands it over.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = asyncio::Queue::unbounded();
    /// queue.put_nowait(String::from("job")).unwrap();
    /// let item = queue.get_guarded_nowait().unwrap();
    /// let job: String = item.done();
    /// assert_eq!(job, "job");
    /// assert!(queue.task_done().is_err()); // already marked done
    /// ```
    pub fn done(mut self) -> T {
        self.mark_done();
        self.item
            .take()
            .expect("asyncio: a guarded queue item is present until done")
    }

    fn mark_done(&mut self) {
        if std::mem::replace(&mut self.counted, false) {
            self.core.guard_done();
        }
    }
}

impl<T> Deref for Guarded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item
            .as_ref()
            .expect("asyncio: a guarded queue item is present until done")
    }
}

impl<T> DerefMut for Guarded<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item
            .as_mut()
            .expect("asyncio: a guarded queue item is present until done")
    }
}

impl<T> Drop for Guarded<T> {
    fn drop(&mut self) {
        self.mark_done();
    }
}

impl<T: fmt::Debug> fmt::Debug for Guarded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Guarded").field(&self.item).finish()
    }
}

/// The queue's items as a [`Stream`](futures_core::Stream): see
/// [`JoinableQueue::stream`].
///
/// Each poll takes an item if one is available, as
/// [`get_nowait`](JoinableQueue::get_nowait) does, or registers to be woken; the
/// stream ends (and stays ended) once the queue is shut down and has
/// nothing left for it. A pending stream holds no place in line and no
/// item (see [`JoinableQueue::stream`]), so a stream that is kept but no longer
/// polled delays nobody, and dropping it takes nothing from the queue.
#[must_use = "streams do nothing unless polled"]
pub struct QueueStream<T> {
    core: Arc<QueueCore<T>>,
    waiter: Waiter,
    ended: bool,
}

impl<T> futures_core::Stream for QueueStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut()
            .poll_taking(false, cx)
            .map(|taken| taken.map(|taken| taken.item))
    }
}

impl<T> QueueStream<T> {
    /// The next item, taken `guard`ed or not.
    fn poll_taking(&mut self, guard: bool, cx: &mut Context<'_>) -> Poll<Option<Taken<T>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let (core, waiter) = (&self.core, &mut self.waiter);
        match cooperatively!(cx, core.poll_stream(waiter, guard, cx)) {
            Poll::Ready(Ok(taken)) => Poll::Ready(Some(taken)),
            Poll::Ready(Err(GetError::ShutDown)) => {
                self.ended = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The queue's items as a [`Stream`](futures_core::Stream) of [`Guarded`]
/// items, each marked done when dropped: see [`JoinableQueue::guarded_stream`].
#[must_use = "streams do nothing unless polled"]
pub struct GuardedStream<T>(QueueStream<T>);

impl<T> futures_core::Stream for GuardedStream<T> {
    type Item = Guarded<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Guarded<T>>> {
        let stream = &mut self.get_mut().0;
        let taken = std::task::ready!(stream.poll_taking(true, cx));
        Poll::Ready(taken.map(|taken| Guarded::new(stream.core.clone(), taken)))
    }
}

impl<T> futures_core::FusedStream for GuardedStream<T> {
    fn is_terminated(&self) -> bool {
        self.0.ended
    }
}

impl<T> fmt::Debug for GuardedStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GuardedStream").field(&self.0).finish()
    }
}

impl<T> futures_core::FusedStream for QueueStream<T> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

impl<T> Drop for QueueStream<T> {
    fn drop(&mut self) {
        self.core.cancel_stream(&mut self.waiter);
    }
}

impl<T> fmt::Debug for QueueStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}
