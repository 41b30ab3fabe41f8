//! The queue core: buffer, counters, waiter lists and waker registration.
//! Runtime-free; its sync types come from `crate::sync` only, so the loom
//! models in `loom-tests/` drive this code.
//!
//! Implementer's notes. One lock guards the whole state: the buffer, the
//! unfinished count, the shutdown flag, and three waiter lists (putters,
//! getters, joiners). Wakers are woken and user items dropped after the
//! lock is released. The one piece of user code that runs under it is a
//! `PriorityQueue` item's `Ord::cmp`: if it panics, the queue's contents and
//! counts are unspecified afterwards (as `BinaryHeap`'s are), though nothing
//! unsafe can happen.
//!
//! Fairness is eventual, with a bound (`limit`, the queue's overtake
//! limit; 0 is strict order). A waiter list has three parts: `waiting`
//! (ordered by arrival, keyed by a counter), `notified` (woken with nothing
//! kept for them, not run yet) and `granted` (promised something and woken,
//! not run yet). A put or get that can complete at once does, even while
//! others wait (it *overtakes* the older waiters without a grant, and the
//! list's `overtakes` count goes up). A new item or freed slot *notifies*
//! the oldest waiting waiter while more are free than were notified and
//! fewer than the list's `at_once` are (`settle_getters`,
//! `settle_putters`): the *baton*. A notified waiter that completes passes
//! it on (the list is settled again, so the next waiter is notified if
//! something is still free); one that finds nothing waits again at its old
//! place (its id), and nothing is free then; a dropped one passes its turn
//! on (the list is settled again). Notifying one waiter per free item, as
//! before the baton, woke most of them in vain: the first woken task took
//! everything in one poll (a worker loops get / put), and the others woke
//! to nothing (at 1P/64C, capacity 16: 54k getter wake-ups for 100k items,
//! 42k of them in vain; with a baton of one 11k and 5k). `at_once` is the
//! runtime's number of workers (the tokio layer sets it; a core alone
//! wakes one): a baton of one is passed from inside the poll of the waiter
//! before, and tokio runs a task woken there next on the same worker (its
//! LIFO slot, which no other worker steals), so a consumer doing CPU-bound
//! work held the next back while another worker idled; with one woken
//! waiter per worker, each worker can run one. A pass is the exception
//! (`WaitList::notify_limit`): if an operation that never waited
//! overtook the line since the last pass, the pass notifies only while
//! none is notified. That overtaking task (a looping consumer or
//! producer) usually takes what is free before the woken one runs, and
//! the pass's wake-up lands on the passer's own worker, so it bought no
//! parallelism and mostly woke a task to nothing (at 16P/16C, capacity
//! 16, two workers: 273–285k task polls for 1M items before the rule,
//! about 210k with it, flume 180–190k). New items and freed slots still
//! notify up to `at_once`, and a pass with no overtake since the last
//! one still tops the line up: capping those too ran a bursty pool, or
//! a pool of one-shot consumers, on one worker (the worker-pool tests
//! in `tests/queue.rs` pin both). A notified waiter that
//! completes while an older one waits or is notified without a grant
//! overtook it, and counts; else it was the oldest, and restarts the
//! count. When `overtakes` reaches the limit
//! (at once, in strict order), the oldest waiter without a grant is
//! *granted* the next item or slot, as below, and the count starts again;
//! it also starts again whenever the oldest waiter completes. So every
//! `limit` overtakes the oldest waiter is served, and a waiter with `n`
//! ahead of it is overtaken at most `(n + 1) * limit` times. The grants:
//!
//! - When a slot frees up and putters are waiting, the slot is granted to the
//!   first of them, and whenever a slot frees up or a grant is resolved,
//!   every waiting putter that fits is granted, first come first served
//!   (in last-in-first-out and priority order, one at a time: see below).
//!   The putter's item stays in its own future until it next runs, so a
//!   putter dropped while granted has inserted nothing, and its slot passes
//!   to the next waiting putter (behaviour 116). What a grant reserves
//!   depends on the order:
//!   - In a first-in-first-out buffer, a *place* is held for the item at
//!     the back (see `FifoBuffer`), and counts as a used slot. Later puts insert
//!     behind it at once, so its item still comes out first; gets stop at
//!     the first held place. The woken putter fills its place, or, dropped,
//!     drops it (the items behind it move up).
//!   - In last-in-first-out and priority order there is no line to hold a
//!     place in: the slot is counted apart (`occupied + granted putters`),
//!     and until the woken putter has inserted, no new put inserts at all,
//!     even into another free slot, since it would come out before the
//!     older item. Such a put waits, and is granted a free slot when the
//!     grant is resolved (the woken putter inserted, or was dropped). For
//!     the same reason only one putter holds a grant at a time: two woken
//!     putters would insert in the order they happen to run.
//! - When an item arrives and getters are waiting, the item is granted to the
//!   first of them: it stays in the buffer but is counted as promised
//!   (`ready - granted getters` items are available to `get_nowait`), so no
//!   later get can steal it (behaviour 118); in a first-in-first-out queue a
//!   later get skips the promised items at the front, and each woken getter
//!   takes the one at its place among the granted getters (the item it was
//!   woken for, unless an earlier granted getter was dropped: then the
//!   promised items still go out oldest first). After a graceful shutdown a get
//!   fails only once the buffer is empty, and the getters still waiting
//!   then are woken to see it. A getter dropped while granted
//!   takes nothing, and its grant passes to the next waiting getter
//!   (behaviour 115).
//! - Streams are waiters of a fourth list, `streams`, which is never
//!   granted anything: a `Stream` has no signal that the future awaiting
//!   its next item was dropped, so a grant to a stream could wait forever.
//!   Whenever an item is left available after the waiting getters were
//!   granted, every waiting stream is woken (an idle one must not leave the
//!   others asleep); each then takes an item as `get_nowait` does, or
//!   registers again.
//!
//! Invariants, under the lock (after every operation the lists are
//! settled): while putters wait, the free slots are no more than the
//! notified putters, or `at_once` putters are notified, so a woken
//! putter is on its way (in strict order there are neither); the same for
//! available items and notified getters (no item is left available while
//! a getter sleeps and none is notified); streams wait only while no item
//! is left over beyond the notified getters; if the oldest waiter without a grant is due
//! (`overtakes >= limit`), no slot (item) is free, or it would have been
//! granted; `ready >= granted getters`, so promised items are never behind
//! a held place. A getter or putter that is neither waiting nor
//! granted was removed by a shutdown, which also removes every held place;
//! a stream that is not waiting was woken (or removed by a shutdown).
//!
//! The unfinished count is asyncio's `_unfinished_tasks`, kept in three
//! parts. `guarded` (under the lock) counts the units held by guards, so a
//! manual `task_done()` can never spend the unit a guard will spend when it
//! drops (a guard never underflows; the manual call gets the typed error).
//! The units a manual `task_done()` may spend are split between `credit`
//! (under the lock, where every put adds one) and `spendable` (an atomic on
//! its own cache line, which `task_done()` decrements with one
//! compare-and-swap). When `spendable` is empty, `task_done()` takes the lock
//! and moves all the credit over. So a consumer that marks every item done
//! neither takes the lock a third time per item nor shares a hot cache line
//! with the producers: the measured cost of `task_done` in the 1P/1C bench.
//!
//! Whoever may have brought the total to zero (`task_done` emptying
//! `spendable`, a guard, an immediate shutdown) takes the lock and releases
//! the joiners if the total is zero; `join` checks the total under the same
//! lock, so a join cannot miss that release.
//!
//! The code is split along these seams: `buffer` (the items in order,
//! and the held places), `wait_list` (the waiter lists and the wakers
//! gathered under the lock), `state` (what the lock guards, and the
//! granting rules), and this module (the lock, the lock-free count, and the
//! operations the queue's futures call).
//!
//! Layout, written in the types rather than left to rustc: the mutex and
//! the lock-free count each start a 128-byte block of their own
//! (`CachePadded`, `repr(C)` on [`QueueCore`]), so consumers spending
//! units never write the line producers lock (128 bytes: a pair of lines,
//! as the adjacent-line prefetcher moves them); inside the lock, `State` is
//! `repr(C)` with the fields every put and get touches first.

mod buffer;
mod state;
mod wait_list;

use std::collections::BinaryHeap;
use std::fmt;
use std::num::NonZeroUsize;
use std::task::{Context, Poll};

use self::buffer::{Buffer, FifoBuffer};
use self::state::{unlock_after_get, State};
pub use self::wait_list::Waiter;
use self::wait_list::{wake_all, Status, WaitList, Wakers};
use crate::queue::error::{GetError, PutError, TaskDoneError, TryGetError, TryPutError};
#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::{AtomicUsize, Mutex, Ordering};

/// An item taken out of the queue, and whether a guard holds its unfinished
/// unit (and must give it back with [`QueueCore::guard_done`]).
#[derive(Debug)]
pub struct Taken<T> {
    /// The item.
    pub item: T,
    /// Whether the guard must call [`QueueCore::guard_done`].
    pub counted: bool,
}

/// The shared state of one queue.
#[repr(C)]
pub struct QueueCore<T> {
    state: CachePadded<Mutex<State<T>>>,
    /// Unfinished units that `task_done()` spends without the lock.
    spendable: CachePadded<AtomicUsize>,
}

/// A value that starts a 128-byte block and fills whole blocks, so that
/// what follows it in a `repr(C)` struct starts a block of its own: the
/// mutex and the lock-free count of [`QueueCore`] never share a cache line
/// (nor an adjacent-line prefetch pair).
#[repr(align(128))]
#[derive(Default)]
struct CachePadded<T>(T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

// What the layout above guarantees, checked where it is declared: the count
// starts its own block, past the whole padded mutex.
const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    assert!(align_of::<QueueCore<u64>>() == 128);
    assert!(offset_of!(QueueCore<u64>, spendable) % 128 == 0);
    assert!(offset_of!(QueueCore<u64>, spendable) >= size_of::<Mutex<State<u64>>>());
};

impl<T> fmt::Debug for QueueCore<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("QueueCore")
            .field("len", &state.buffer.len())
            .field("occupied", &state.buffer.occupied())
            .field("capacity", &state.capacity)
            .field(
                "unfinished",
                &(state.guarded + state.credit + self.spendable.load(Ordering::SeqCst)),
            )
            .field("shutdown", &state.shutdown)
            .field("waiting_putters", &state.putters.waiting.len())
            .field("waiting_getters", &state.getters.waiting.len())
            .field("waiting_streams", &state.streams.waiting.len())
            .finish_non_exhaustive()
    }
}

impl<T> QueueCore<T> {
    fn new(buffer: Buffer<T>, capacity: Option<NonZeroUsize>) -> Self {
        Self {
            state: CachePadded(Mutex::new(State {
                buffer,
                capacity,
                guarded: 0,
                credit: 0,
                shutdown: false,
                getters_due: false,
                next_id: 0,
                putters: WaitList::default(),
                getters: WaitList::default(),
                joiners: WaitList::default(),
                streams: WaitList::default(),
                limit: 0,
            })),
            spendable: CachePadded::default(),
        }
    }

    /// The same core with eventual fairness: a waiter is overtaken at most
    /// `limit` times before the next item or slot is granted to it. A new
    /// core is strict (`limit` 0): every item or slot goes to the oldest
    /// waiter.
    #[must_use]
    pub fn overtake_limit(mut self, limit: u64) -> Self {
        self.state.0.get_mut().limit = limit;
        self
    }

    /// The same core waking at most `n` waiting gets (and `n` waiting puts)
    /// at a time with nothing kept for them (see `WaitList::at_once`). A
    /// new core wakes one.
    #[must_use]
    pub fn notify_at_once(mut self, n: NonZeroUsize) -> Self {
        let state = self.state.0.get_mut();
        state.getters.at_once = n.get();
        state.putters.at_once = n.get();
        self
    }

    /// A first-in-first-out core; `None` is unbounded.
    pub fn fifo(capacity: Option<NonZeroUsize>) -> Self {
        Self::new(Buffer::Fifo(FifoBuffer::new()), capacity)
    }

    /// A last-in-first-out core; `None` is unbounded.
    pub fn lifo(capacity: Option<NonZeroUsize>) -> Self {
        Self::new(Buffer::Lifo(Vec::new()), capacity)
    }

    /// A smallest-first core (first-in-first-out among equals); `None` is
    /// unbounded.
    pub fn priority(capacity: Option<NonZeroUsize>) -> Self
    where
        T: Ord,
    {
        Self::new(
            Buffer::Priority {
                heap: BinaryHeap::new(),
                next_seq: 0,
                compare: T::cmp,
            },
            capacity,
        )
    }

    /// Puts `item` if a slot is free and not promised to a waiting putter.
    pub fn try_put(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut state = self.state.lock();
        if state.shutdown {
            return Err(TryPutError::ShutDown(item));
        }
        if !state.new_put_may_insert() {
            return Err(TryPutError::Full(item));
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::QueuePutWakesBeforeInsert) && state.available() == 0 {
            let waker = state.getters.grant_first().map(|(_, waker)| waker);
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
            let mut state = self.state.lock();
            state.buffer.push(item);
            state.credit += 1;
            return Ok(());
        }
        let getters = state.insert(item);
        let streams = state.streams_to_wake();
        let putters = if state.putters.has_ungranted() {
            state.putters_overtaken(None)
        } else {
            Wakers::default()
        };
        drop(state);
        getters.wake();
        wake_all(streams);
        putters.wake();
        Ok(())
    }

    /// Polls a `put`. `item` is `Some` until the put completes or fails.
    // Always, as the queue's `Put` and `Get` futures that call it (a
    // plain hint kept it out of line once they were inlined).
    #[inline(always)]
    pub fn poll_put(
        &self,
        waiter: &mut Waiter,
        item: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), PutError<T>>> {
        let mut state = self.state.lock();
        // The common case, a new put that wakes nobody: insert, and build no
        // list of wakers (kept small, to be inlined into the future). A put
        // that overtakes waiting putters (eventual fairness) is as common
        // under load: it only has its overtake counted, inline, and goes out
        // of line only when the oldest waiting putter is now due.
        if waiter.id.is_none()
            && !state.shutdown
            && state.new_put_may_insert()
            && !state.getters.needs_settle(state.limit)
            && state.streams.waiting.is_empty()
        {
            if let Some(value) = item.take() {
                state.buffer.push(value);
                state.credit += 1;
                #[cfg(asyncio_loom)]
                let count = !mutant::on(Mutant::QueuePutFastPathSkipsOvertake);
                #[cfg(not(asyncio_loom))]
                let count = true;
                if count && state.new_put_overtook_due() {
                    return Self::put_overtook(state);
                }
                drop(state);
                return Poll::Ready(Ok(()));
            }
        }
        self.poll_put_slow(state, waiter, item, cx)
    }

    /// A new put inserted while putters without a grant waited, and its
    /// overtake made the oldest due: hands it a free slot, and unlocks.
    #[inline(never)]
    fn put_overtook(
        mut state: crate::sync::MutexGuard<'_, State<T>>,
    ) -> Poll<Result<(), PutError<T>>> {
        let putters = state.settle_putters();
        drop(state);
        putters.wake();
        Poll::Ready(Ok(()))
    }

    #[inline(never)]
    fn poll_put_slow(
        &self,
        mut state: crate::sync::MutexGuard<'_, State<T>>,
        waiter: &mut Waiter,
        item: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), PutError<T>>> {
        let mut notified = None;
        let granted = match waiter.id {
            None => None,
            Some(id) => match state.putters.status(id) {
                Status::Granted => {
                    state.putters.remove_granted(id);
                    waiter.id = None;
                    Some(id)
                }
                Status::Waiting => {
                    state.putters.update_waker(id, cx);
                    return Poll::Pending;
                }
                Status::Notified => {
                    state.putters.remove_notified(id);
                    notified = Some(id);
                    waiter.id = None;
                    None
                }
                Status::Gone => {
                    waiter.id = None;
                    None
                }
            },
        };
        let Some(value) = item.take() else {
            panic!("asyncio: a queue put was polled after it completed");
        };
        if let Some(id) = granted {
            // A shutdown removes every putter, so a granted one is still
            // before it.
            let wakers = state.insert_granted(id, value);
            drop(state);
            wakers.wake();
            return Poll::Ready(Ok(()));
        }
        if state.shutdown {
            return Poll::Ready(Err(PutError::ShutDown(value)));
        }
        if state.new_put_may_insert() {
            let getters = state.insert(value);
            let streams = state.streams_to_wake();
            // A notified putter that completes passes its notification on
            // if a slot is still free (the baton). The pass covers the
            // settling its overtake may bring (its oldest due), as a get's
            // does.
            #[cfg(asyncio_loom)]
            let pass = !mutant::on(Mutant::QueueNotifiedPutKeepsBaton);
            #[cfg(not(asyncio_loom))]
            let pass = true;
            let pass = pass && notified.is_some() && !fault!(QueueNotifiedKeepsBaton);
            if pass {
                state.putters.begin_pass();
            }
            let mut putters = if notified.is_some() || state.putters.has_ungranted() {
                state.putters_overtaken(notified)
            } else {
                Wakers::default()
            };
            if pass {
                putters.extend(state.grant_putters());
                state.putters.end_pass();
            }
            drop(state);
            getters.wake();
            wake_all(streams);
            putters.wake();
            return Poll::Ready(Ok(()));
        }
        *item = Some(value);
        match notified {
            // A notified putter that found no free slot (a running put took
            // it first) waits again at its old place.
            Some(id) if !fault!(QueueNotifiedWaiterLosesPlace) => {
                state.putters.wait_again(id, cx);
                waiter.id = Some(id);
            }
            _ => {
                let State {
                    putters, next_id, ..
                } = &mut *state;
                putters.register(waiter, next_id, cx);
            }
        }
        Poll::Pending
    }

    /// A pending `put` is dropped: its item was never inserted; a slot that
    /// was granted to it passes to the next waiting putter.
    #[inline]
    pub fn cancel_put(&self, waiter: &mut Waiter) {
        // Every completed put is dropped too: keep that check out of a call.
        if let Some(id) = waiter.id.take() {
            self.cancel_put_waiting(id);
        }
    }

    #[cold]
    fn cancel_put_waiting(&self, id: u64) {
        let mut state = self.state.lock();
        let wakers = match state.putters.status(id) {
            Status::Waiting => {
                state.putters.remove_waiting(id);
                Wakers::default()
            }
            Status::Notified => {
                state.putters.remove_notified(id);
                // A free slot it was notified of passes on.
                if fault!(QueueDroppedNotifiedKeepsTurn) {
                    Wakers::default()
                } else {
                    state.grant_putters()
                }
            }
            Status::Granted => {
                let pass_on = !fault!(QueueDroppedPutterKeepsSlot);
                if pass_on {
                    state.putters.remove_granted(id);
                    let mut wakers = Wakers::default();
                    if let Buffer::Fifo(fifo) = &mut state.buffer {
                        if fifo.release(id) {
                            // The items behind the removed place may be
                            // taken now.
                            wakers = state.settle_getters();
                        }
                    }
                    wakers.extend(state.grant_putters());
                    wakers
                } else {
                    // The fault: the slot stays promised to nobody.
                    Wakers::default()
                }
            }
            Status::Gone => Wakers::default(),
        };
        drop(state);
        wakers.wake();
    }

    /// Takes an item if one is available (not promised to a waiting getter).
    /// `guard` says whether a guard will hold the item's unfinished unit.
    pub fn try_get(&self, guard: bool) -> Result<Taken<T>, TryGetError> {
        let mut state = self.state.lock();
        match state.try_get(guard, &self.spendable) {
            Ok((item, counted)) => {
                unlock_after_get(state);
                Ok(Taken { item, counted })
            }
            Err(error) => Err(error),
        }
    }

    /// Polls a `get`.
    // Always, as the queue's `Put` and `Get` futures that call it (a
    // plain hint kept it out of line once they were inlined).
    #[inline(always)]
    pub fn poll_get(
        &self,
        waiter: &mut Waiter,
        guard: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Taken<T>, GetError>> {
        let mut state = self.state.lock();
        // The common case, a new get with an item available: take it (kept
        // small, to be inlined into the future). If getters without a grant
        // wait, it overtakes them: count it (eventual fairness).
        if waiter.id.is_none() && state.available() > 0 {
            #[cfg(asyncio_loom)]
            let count = !mutant::on(Mutant::QueueGetFastPathSkipsOvertake);
            #[cfg(not(asyncio_loom))]
            let count = true;
            if count && state.new_get_overtook_due() {
                // The oldest waiting getter is due: the unlock hands it an
                // item left over (as `getters_overtaken` would).
                state.getters_due = true;
            }
            let promised = state.getters.granted.len();
            let (item, counted) = state.remove(promised, guard, &self.spendable);
            unlock_after_get(state);
            return Poll::Ready(Ok(Taken { item, counted }));
        }
        self.poll_get_slow(state, waiter, guard, cx)
    }

    #[inline(never)]
    fn poll_get_slow(
        &self,
        mut state: crate::sync::MutexGuard<'_, State<T>>,
        waiter: &mut Waiter,
        guard: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Taken<T>, GetError>> {
        if let Some(id) = waiter.id {
            match state.getters.status(id) {
                Status::Granted => {
                    // The promised items are the front ones, in grant order:
                    // this getter's is the one at its place among the
                    // granted getters.
                    let place = state
                        .getters
                        .granted
                        .partition_point(|&granted| granted < id);
                    state.getters.remove_granted(id);
                    waiter.id = None;
                    let (item, counted) = state.remove(place, guard, &self.spendable);
                    unlock_after_get(state);
                    return Poll::Ready(Ok(Taken { item, counted }));
                }
                Status::Waiting => {
                    #[cfg(asyncio_loom)]
                    if mutant::on(Mutant::QueueGetKeepsFirstWaker) {
                        return Poll::Pending;
                    }
                    state.getters.update_waker(id, cx);
                    return Poll::Pending;
                }
                Status::Notified => {
                    return self.poll_notified_get(state, waiter, id, guard, cx);
                }
                Status::Gone => waiter.id = None,
            }
        }
        match state.try_get(guard, &self.spendable) {
            Ok((item, counted)) => {
                unlock_after_get(state);
                Poll::Ready(Ok(Taken { item, counted }))
            }
            Err(TryGetError::ShutDown) => Poll::Ready(Err(GetError::ShutDown)),
            Err(TryGetError::Empty) => {
                let State {
                    getters, next_id, ..
                } = &mut *state;
                getters.register(waiter, next_id, cx);
                Poll::Pending
            }
        }
    }

    /// A notified get runs: it takes an item if one is available (any
    /// one: nothing was kept for it), and otherwise waits again at its old
    /// place, or fails if a shut-down queue is drained.
    fn poll_notified_get(
        &self,
        mut state: crate::sync::MutexGuard<'_, State<T>>,
        waiter: &mut Waiter,
        id: u64,
        guard: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Taken<T>, GetError>> {
        state.getters.remove_notified(id);
        if state.available() > 0 {
            waiter.id = None;
            #[cfg(asyncio_loom)]
            let count = !mutant::on(Mutant::QueueNotifiedGetSkipsCount);
            #[cfg(not(asyncio_loom))]
            let count = true;
            if count {
                state.getters_overtaken(Some(id));
            }
            let promised = state.getters.granted.len();
            let (item, counted) = state.remove(promised, guard, &self.spendable);
            // It passes its notification on if an item is still available
            // (the baton): the unlock settles the getters.
            #[cfg(asyncio_loom)]
            let pass = !mutant::on(Mutant::QueueNotifiedGetKeepsBaton);
            #[cfg(not(asyncio_loom))]
            let pass = true;
            if pass && !fault!(QueueNotifiedKeepsBaton) {
                state.getters_due = true;
                state.getters.begin_pass();
            }
            unlock_after_get(state);
            return Poll::Ready(Ok(Taken { item, counted }));
        }
        if state.shutdown && state.buffer.len() == 0 {
            waiter.id = None;
            return Poll::Ready(Err(GetError::ShutDown));
        }
        if fault!(QueueNotifiedWaiterLosesPlace) {
            let State {
                getters, next_id, ..
            } = &mut *state;
            getters.register(waiter, next_id, cx);
        } else {
            state.getters.wait_again(id, cx);
        }
        Poll::Pending
    }

    /// A pending `get` is dropped: it took nothing; an item that was granted
    /// to it stays in the queue and passes to the next waiting getter, and
    /// so does the turn of a notified one.
    #[inline]
    pub fn cancel_get(&self, waiter: &mut Waiter) {
        // Every completed get is dropped too: keep that check out of a call.
        if let Some(id) = waiter.id.take() {
            self.cancel_get_waiting(id);
        }
    }

    #[cold]
    fn cancel_get_waiting(&self, id: u64) {
        let mut state = self.state.lock();
        let status = state.getters.status(id);
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::QueueCancelGetSplitsCheck) {
            drop(state);
            state = self.state.lock();
        }
        let wakers = match status {
            Status::Waiting => {
                state.getters.remove_waiting(id);
                Wakers::default()
            }
            Status::Notified => {
                state.getters.remove_notified(id);
                // An item it was notified of passes on.
                if fault!(QueueDroppedNotifiedKeepsTurn) {
                    Wakers::default()
                } else {
                    state.settle_getters()
                }
            }
            Status::Granted => {
                let pass_on = !fault!(QueueDroppedGetterKeepsItem);
                if pass_on {
                    state.getters.remove_granted(id);
                    state.settle_getters()
                } else {
                    // The fault: the item stays promised to nobody.
                    Wakers::default()
                }
            }
            Status::Gone => Wakers::default(),
        };
        drop(state);
        wakers.wake();
    }

    /// Polls a stream for its next item.
    ///
    /// Unlike a `get`, a stream holds no place in line and is never granted
    /// an item: a `Stream` cannot tell that the future awaiting its next
    /// item was dropped (it is the stream's caller's, `next()`), so an item
    /// promised to a pending stream could wait for a poll that never comes.
    /// A pending stream is only registered to be woken: by an item that no
    /// waiting getter was granted (every waiting stream is woken, and the
    /// first to run takes it), or by a shutdown that leaves nothing to take.
    ///
    /// The item is taken as [`try_get`](QueueCore::try_get) takes it:
    /// `guard`ed (its unit held for a [`guard_done`](QueueCore::guard_done),
    /// a guarded stream) or not.
    pub fn poll_stream(
        &self,
        waiter: &mut Waiter,
        guard: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Taken<T>, GetError>> {
        let mut state = self.state.lock();
        match state.try_get(guard, &self.spendable) {
            Ok((item, counted)) => {
                if let Some(id) = waiter.id.take() {
                    state.streams.remove_waiting(id);
                }
                unlock_after_get(state);
                Poll::Ready(Ok(Taken { item, counted }))
            }
            Err(TryGetError::ShutDown) => {
                if let Some(id) = waiter.id.take() {
                    state.streams.remove_waiting(id);
                }
                Poll::Ready(Err(GetError::ShutDown))
            }
            Err(TryGetError::Empty) => {
                match waiter.id {
                    Some(id) if state.streams.waiting_index(id).is_some() => {
                        state.streams.update_waker(id, cx);
                    }
                    _ => {
                        let State {
                            streams, next_id, ..
                        } = &mut *state;
                        streams.register(waiter, next_id, cx);
                    }
                }
                Poll::Pending
            }
        }
    }

    /// A waiting stream is dropped. It holds nothing, so nothing passes on.
    pub fn cancel_stream(&self, waiter: &mut Waiter) {
        let Some(id) = waiter.id.take() else { return };
        self.state.lock().streams.remove_waiting(id);
    }

    /// Marks one unfinished item done (asyncio's `task_done()`).
    ///
    /// The common case, a unit spent from `spendable` that leaves some
    /// behind, is this inlined compare-and-swap alone; the rest is out of
    /// line, so a consumer's loop does not pay a large function's prologue
    /// for every item (about 17 instructions a call, 3% of 4P/4C).
    #[inline]
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let fast = self.spendable.fetch_update(
            ordering!(Ordering::SeqCst, QueueTaskDoneRelaxed),
            ordering!(Ordering::SeqCst, QueueTaskDoneRelaxed),
            |n| n.checked_sub(1),
        );
        if let Ok(previous) = fast {
            let previous = if fault!(QueueTaskDoneFastPathSkipsRelease) {
                2
            } else {
                previous
            };
            if previous != 1 {
                return Ok(());
            }
        }
        self.task_done_locked(fast.is_ok())
    }

    /// The rest of [`task_done`](Self::task_done), under the lock: `spent`
    /// says whether the fast path spent a unit (and may have brought the
    /// total to zero: check and release under the lock, where joins check
    /// it too); if not, a unit is taken from the credit here, or the call
    /// fails.
    #[inline(never)]
    fn task_done_locked(&self, spent: bool) -> Result<(), TaskDoneError> {
        let mut state = self.state.lock();
        if !spent {
            if state.credit > 0 {
                // Spend one unit of credit and move the rest over.
                let credit = std::mem::take(&mut state.credit);
                let credit = credit + usize::from(fault!(QueueTaskDoneRefillSpendsNothing));
                self.spendable.fetch_add(credit - 1, Ordering::SeqCst);
            } else if !state.take_unit(&self.spendable) {
                // No credit, and no unit moved over by another consumer
                // since the fast path: nothing is left to mark done.
                return Err(TaskDoneError::TooManyCalls);
            }
        }
        #[cfg(asyncio_loom)]
        let wakers = if mutant::on(Mutant::QueueTaskDoneReleasesUnchecked) {
            state.joiners.remove_all()
        } else {
            state.release_joiners(&self.spendable)
        };
        #[cfg(not(asyncio_loom))]
        let wakers = state.release_joiners(&self.spendable);
        drop(state);
        wake_all(wakers);
        Ok(())
    }

    /// A guard that holds an unfinished unit gives it back.
    pub fn guard_done(&self) {
        let mut state = self.state.lock();
        debug_assert!(state.guarded > 0);
        state.guarded -= 1;
        let wakers = state.release_joiners(&self.spendable);
        drop(state);
        wake_all(wakers);
    }

    /// Polls a `join`: ready when nothing is unfinished, or when it was
    /// released by the count reaching zero since it started waiting.
    pub fn poll_join(&self, waiter: &mut Waiter, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock();
        if state.is_finished(&self.spendable) {
            if let Some(id) = waiter.id.take() {
                state.joiners.remove_waiting(id);
            }
            // Whoever sees the count at zero releases every join waiting
            // for it, as the call that brought it to zero would have: one
            // join returning while another keeps waiting on the same zero is
            // what asyncio's Event never does.
            let others = state.joiners.remove_all();
            drop(state);
            wake_all(others);
            return Poll::Ready(());
        }
        match waiter.id {
            Some(id) => match state.joiners.status(id) {
                Status::Waiting => {
                    state.joiners.update_waker(id, cx);
                    Poll::Pending
                }
                Status::Granted | Status::Notified | Status::Gone => {
                    waiter.id = None;
                    Poll::Ready(())
                }
            },
            None => {
                let State {
                    joiners, next_id, ..
                } = &mut *state;
                joiners.register(waiter, next_id, cx);
                Poll::Pending
            }
        }
    }

    /// A pending `join` is dropped.
    pub fn cancel_join(&self, waiter: &mut Waiter) {
        let Some(id) = waiter.id.take() else { return };
        self.state.lock().joiners.remove_waiting(id);
    }

    /// Shuts the queue down (asyncio's `shutdown(immediate)`).
    pub fn shutdown(&self, immediate: bool) {
        let mut state = self.state.lock();
        #[cfg(asyncio_loom)]
        let woke_early = mutant::on(Mutant::QueueShutdownWakesBeforeFlag);
        #[cfg(asyncio_loom)]
        if woke_early {
            let getters = if state.buffer.len() == 0 {
                state.getters.take_waiting()
            } else {
                Vec::new()
            };
            drop(state);
            wake_all(getters);
            state = self.state.lock();
        }
        state.shutdown = true;
        let mut discarded = Vec::new();
        let mut wakers = Vec::new();
        if immediate {
            discarded = state.buffer.drain();
            // Items held by guards are not forgiven (behaviour 125), and a
            // count already lowered by early task_done() calls stays >= 0.
            let from_credit = state.credit.min(discarded.len());
            state.credit -= from_credit;
            let rest = discarded.len() - from_credit;
            if rest > 0 {
                // `fetch_update` cannot fail: the closure always returns `Some`.
                let _ = self
                    .spendable
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        Some(n - n.min(rest))
                    });
            }
            // Getters promised an item find none: they see the shutdown.
            state.getters.granted.clear();
            let release = !fault!(QueueImmediateShutdownKeepsJoin);
            if release {
                wakers.extend(state.release_joiners(&self.spendable));
            }
        }
        // Every putter fails, granted or not (behaviour 123). Getters that
        // were granted an item keep it after a graceful shutdown (the item is
        // still there; an immediate one cleared their grants above). The
        // waiting ones wake up to see the shutdown if nothing is left;
        // otherwise every buffered item is promised, and they keep their
        // place: a promise that is dropped passes to them, and they are
        // woken when the buffer is drained.
        let putters = state.putters.remove_all();
        let mut ready_getters = Wakers::default();
        let release_held = !fault!(QueueShutdownKeepsHeldPlaces);
        if let Buffer::Fifo(fifo) = &mut state.buffer {
            // The places held for granted putters will not be filled: the
            // items behind them may be taken now.
            if release_held && fifo.release_all() {
                ready_getters = state.settle_getters();
            }
        }
        let getters = state.release_getters_if_drained();
        #[cfg(asyncio_loom)]
        let getters = if woke_early { Vec::new() } else { getters };
        drop(state);
        ready_getters.wake();
        let putters = if fault!(QueueShutdownSkipsPutters) {
            Vec::new()
        } else {
            putters
        };
        let getters = if fault!(QueueShutdownSkipsGetters) {
            Vec::new()
        } else {
            getters
        };
        wake_all(wakers);
        wake_all(putters);
        wake_all(getters);
        drop(discarded);
    }

    /// Whether the queue was shut down.
    pub fn is_shut_down(&self) -> bool {
        self.state.lock().shutdown
    }

    /// The number of items in the buffer (asyncio's `qsize()`), including
    /// items promised to woken getters that have not run yet.
    pub fn len(&self) -> usize {
        self.state.lock().buffer.len()
    }

    /// Whether no item is available to `get_nowait`.
    pub fn is_empty(&self) -> bool {
        self.state.lock().available() == 0
    }

    /// Whether no slot is available to `put_nowait`.
    pub fn is_full(&self) -> bool {
        !self.state.lock().new_put_may_insert()
    }

    /// The capacity, `None` if unbounded.
    pub fn capacity(&self) -> Option<NonZeroUsize> {
        self.state.lock().capacity
    }

    /// How many gets and streams wait for an item, not yet promised one.
    pub fn waiting_getters(&self) -> usize {
        let state = self.state.lock();
        state.getters.waiting.len() + state.getters.notified.len() + state.streams.waiting.len()
    }

    /// How many puts wait for a slot, not yet promised one.
    pub fn waiting_putters(&self) -> usize {
        let state = self.state.lock();
        state.putters.waiting.len() + state.putters.notified.len()
    }

    /// The unfinished count (items put and not yet marked done).
    pub fn unfinished(&self) -> usize {
        let state = self.state.lock();
        state.guarded + state.credit + self.spendable.load(Ordering::SeqCst)
    }
}
