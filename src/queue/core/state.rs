//! The state behind the queue core's lock: the buffer, the counts, the
//! shutdown flag and the waiter lists, and the rules that grant slots and
//! items to waiters (the implementer's notes in the parent module).

use std::num::NonZeroUsize;
use std::task::Waker;

use super::buffer::Buffer;
use super::wait_list::{wake_all, WaitList, Wakers};
use crate::queue::error::TryGetError;
#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::{AtomicUsize, MutexGuard, Ordering};

/// Everything the core's lock guards.
///
/// The layout is chosen for speed, and written in the type: `repr(C)` keeps
/// the fields in declaration order, and the core keeps the mutex that holds
/// this state at the start of a 128-byte block of its own
/// ([`CachePadded`](super::CachePadded)). So what every put or get writes
/// (the credit, and the header of a first-in-first-out buffer's deque) and
/// the shutdown flag every get reads are the first bytes of the mutex's
/// data, and a put or get on another core moves as few lines as the mutex
/// allows. (Where std's `Mutex` puts its own lock word is std's business:
/// today, on the common targets, before the data, in the same line. Nothing
/// depends on it but speed, and nothing asserts it.) The rest of
/// [`FifoBuffer`](super::buffer::FifoBuffer) is written only while places
/// are held. Fields written only when tasks wait (`next_id`, the waiter
/// lists, streams' included) come next, on lines of their own, so that
/// blocking and waking in a many-task run does not make the hot reads miss;
/// `capacity`, read by every put and get but never written, comes last,
/// beside the rarely written joiners, so its line stays shared. What each
/// choice was measured to be worth is in BENCHMARKS.md's notes.
#[repr(C)]
pub(super) struct State<T> {
    /// Unfinished units for `task_done()` not yet moved to `spendable`.
    pub(super) credit: usize,
    pub(super) shutdown: bool,
    /// Set when the getters must be settled as the get's lock is released:
    /// a get overtook waiting getters and the oldest of them is now due
    /// (eventual fairness: an item left over is handed to it), or a
    /// notified get completed (the baton: the next getter is notified if
    /// an item is left).
    pub(super) getters_due: bool,
    pub(super) buffer: Buffer<T>,
    pub(super) next_id: u64,
    /// How many of the unfinished items are held by guards.
    pub(super) guarded: usize,
    pub(super) putters: WaitList,
    pub(super) getters: WaitList,
    /// Streams waiting for an item. Only the `waiting` part is used: a
    /// stream is never granted an item (see [`QueueCore::poll_stream`](super::QueueCore::poll_stream)).
    /// Beside the getters: written only when streams wait, read by every
    /// put (is any stream waiting?).
    pub(super) streams: WaitList,
    pub(super) joiners: WaitList,
    pub(super) capacity: Option<NonZeroUsize>,
    /// How many times a waiter may be overtaken before the next item or
    /// slot is handed to it; 0 is strict order (every item or slot goes to
    /// the oldest waiter).
    pub(super) limit: u64,
}

impl<T> State<T> {
    /// Whether a slot is free: not holding an item, not held for a woken
    /// putter, and (where places are not held) not promised to one.
    #[inline]
    pub(super) fn has_free_slot(&self) -> bool {
        self.capacity.is_none_or(|capacity| {
            let promised = if self.buffer.holds_places() {
                0
            } else {
                self.putters.granted.len()
            };
            self.buffer.occupied() + promised < capacity.get()
        })
    }

    /// How many slots are free (see [`has_free_slot`](Self::has_free_slot)).
    #[inline]
    pub(super) fn free_slots(&self) -> usize {
        self.capacity.map_or(usize::MAX, |capacity| {
            let promised = if self.buffer.holds_places() {
                0
            } else {
                self.putters.granted.len()
            };
            capacity
                .get()
                .saturating_sub(self.buffer.occupied() + promised)
        })
    }

    /// Whether a new put (or `put_nowait`), or a notified one, may insert
    /// now: into a free slot, and, where no place is held for a granted
    /// putter's item, not until it has inserted, since the new item would
    /// come out before the older one (asyncio's gh-83055). Waiting putters
    /// do not stop it: a free slot while putters wait is one that
    /// [`settle_putters`](Self::settle_putters) left unreserved (their
    /// oldest is not due), so it may be taken.
    #[inline]
    pub(super) fn new_put_may_insert(&self) -> bool {
        (self.buffer.holds_places() || self.putters.granted.is_empty()) && self.has_free_slot()
    }

    /// How many items a new get may take now.
    #[inline]
    pub(super) fn available(&self) -> usize {
        let ready = self.buffer.ready();
        debug_assert!(ready >= self.getters.granted.len());
        ready - self.getters.granted.len()
    }

    /// Inserts an item into a slot that is known to be free, and hands it
    /// on to the waiting getters ([`settle_getters`](Self::settle_getters)):
    /// one new item wakes one getter at most.
    #[inline(always)]
    pub(super) fn insert(&mut self, item: T) -> Wakers {
        self.buffer.push(item);
        self.credit += 1;
        if self.getters.needs_settle(self.limit) {
            self.settle_getters_after_insert()
        } else {
            Wakers::default()
        }
    }

    #[cold]
    fn settle_getters_after_insert(&mut self) -> Wakers {
        let wakers = self.settle_getters_only();
        if fault!(QueueInsertSkipsGetterWake) {
            return Wakers::default();
        }
        wakers
    }

    /// A new put (one that never waited) completed: if putters without a
    /// grant wait, it overtook them, and the overtake is counted. Returns
    /// whether their oldest is now due. The fast path's inlined form of
    /// [`putters_overtaken`](Self::putters_overtaken)`(None)`, which went
    /// out of line for every put that overtook (7% of the instructions at
    /// 64P/64C, capacity 16).
    #[inline(always)]
    pub(super) fn new_put_overtook_due(&mut self) -> bool {
        self.putters.has_ungranted()
            && !fault!(QueueOvertakeUncounted)
            && self.putters.count_new_overtake(self.limit)
    }

    /// The same for a new get (see
    /// [`getters_overtaken`](Self::getters_overtaken)).
    #[inline(always)]
    pub(super) fn new_get_overtook_due(&mut self) -> bool {
        self.getters.has_ungranted()
            && !fault!(QueueOvertakeUncounted)
            && self.getters.count_new_overtake(self.limit)
    }

    /// A put completed while putters without a grant waited: if it
    /// overtook the older ones, count it, and if the oldest is now due,
    /// hand it a free slot.
    #[cold]
    pub(super) fn putters_overtaken(&mut self, me: Option<u64>) -> Wakers {
        if fault!(QueueOvertakeUncounted) {
            return Wakers::default();
        }
        if self.putters.count_overtake(me) && self.putters.head_is_due(self.limit) {
            return self.settle_putters();
        }
        Wakers::default()
    }

    /// A get completed while getters without a grant waited: if it
    /// overtook the older ones, count it, and if the oldest is now due,
    /// have the unlock hand it an item left over.
    #[cold]
    pub(super) fn getters_overtaken(&mut self, me: Option<u64>) {
        if fault!(QueueOvertakeUncounted) {
            return;
        }
        if self.getters.count_overtake(me) && self.getters.head_is_due(self.limit) {
            self.getters_due = true;
        }
    }

    /// The granted putter `id` inserts its item: into the place held for it,
    /// or, where no place is held, into the slot promised to it. Either way
    /// the grant is resolved.
    pub(super) fn insert_granted(&mut self, id: u64, item: T) -> Wakers {
        let mut wakers = Wakers::default();
        if let Buffer::Fifo(fifo) = &mut self.buffer {
            let ready_grew = fifo.fill(id, item);
            let ready_grew = ready_grew && !fault!(QueueFillSkipsGetters);
            self.credit += 1;
            if ready_grew {
                // The items behind the filled place may be taken now.
                wakers = self.settle_getters();
            }
        } else {
            wakers.extend(self.insert(item));
            wakers.more.extend(self.streams_to_wake());
        }
        // Putters that began waiting while this one's slot was promised get
        // the free slots now (where no place is held, no new put could
        // insert meanwhile).
        wakers.extend(self.grant_putters());
        wakers
    }

    /// Hands the available items to the getters, and wakes the waiting
    /// streams if items are left over that no notified getter will take.
    pub(super) fn settle_getters(&mut self) -> Wakers {
        let mut wakers = self.settle_getters_only();
        wakers.more.extend(self.streams_to_wake());
        wakers
    }

    /// The getters' part of [`settle_getters`](Self::settle_getters). While
    /// the oldest getter without a grant is due (overtaken `limit` times;
    /// with a limit of 0, always), an available item is granted to it: kept
    /// for it, as in strict order. Then, while more items are available
    /// than getters were notified and fewer than the list's `at_once` are,
    /// the first waiting getter is notified: woken, with nothing kept for
    /// it, so any running get may take the item first (it then waits again
    /// at its old place).
    fn settle_getters_only(&mut self) -> Wakers {
        let mut wakers = Wakers::default();
        while self.available() > 0 && self.getters.head_is_due(self.limit) {
            match self.getters.grant_head() {
                Some((_, waker)) => wakers.push_some(waker),
                None => break,
            }
        }
        while self.getters.may_notify(self.available()) {
            match self.getters.notify_first() {
                Some(waker) => wakers.push(waker),
                None => break,
            }
        }
        wakers
    }

    /// The waiting streams to wake, if an item is available that no waiting
    /// getter was granted (call it after granting the getters). Every
    /// waiting stream is woken, not one: a stream may never be polled again
    /// (its `next()` future was dropped and the stream kept), and one woken
    /// in vain must not leave the others asleep beside an item.
    #[inline(always)]
    pub(super) fn streams_to_wake(&mut self) -> Vec<Waker> {
        if self.streams.waiting.is_empty() {
            return Vec::new();
        }
        self.take_streams()
    }

    #[cold]
    pub(super) fn take_streams(&mut self) -> Vec<Waker> {
        if self.available() <= self.getters.notified.len() {
            return Vec::new();
        }
        if fault!(QueueWakesOneStream) {
            return self
                .streams
                .waiting
                .pop_front()
                .map(|entry| entry.waker)
                .into_iter()
                .collect();
        }
        self.streams.take_waiting()
    }

    /// Takes an item out (at `promised`, see [`Buffer::take`]): the item,
    /// and whether a guard holds its unit. The freed slot is granted by the
    /// caller on its way out ([`unlock_after_get`]).
    #[inline(always)]
    pub(super) fn remove(
        &mut self,
        promised: usize,
        guard: bool,
        spendable: &AtomicUsize,
    ) -> (T, bool) {
        let item = self
            .buffer
            .take(promised)
            .expect("asyncio: queue core took an item it had counted but not found");
        // A guard counts only if an unfinished unit is left for it: the
        // item's own unit may already have been spent by a manual task_done.
        let counted = guard && self.take_unit(spendable);
        if counted {
            self.guarded += 1;
        }
        (item, counted)
    }

    /// Hands the free slots to the putters. Called whenever a slot frees
    /// up or a grant is resolved (the putter inserted, or was dropped): a
    /// putter that began waiting while a free slot was held back for an
    /// earlier woken putter is served then.
    #[inline(always)]
    pub(super) fn grant_putters(&mut self) -> Wakers {
        if !self.putters.needs_settle(self.limit) {
            // The common case: nobody to serve.
            return Wakers::default();
        }
        self.settle_putters()
    }

    /// While the oldest putter without a grant is due (overtaken `limit`
    /// times; with a limit of 0, always) and a slot is free, the slot is
    /// granted to it (a place held for its item, in a first-in-first-out
    /// queue), as in strict order. Then, while more slots are free than
    /// putters were notified and fewer than the list's `at_once` are, the
    /// first waiting putter is notified: woken, with nothing kept for it.
    #[cold]
    pub(super) fn settle_putters(&mut self) -> Wakers {
        let mut wakers = Wakers::default();
        // Where no place is held (last-in-first-out and priority order), one
        // grant at a time: two woken putters would insert in the order they
        // happen to run, not the order they began in. The next is granted
        // when this one resolves (it inserted, or was dropped).
        while self.has_free_slot()
            && self.putters.head_is_due(self.limit)
            && (self.buffer.holds_places() || self.putters.granted.is_empty())
        {
            match self.putters.grant_head() {
                Some((id, waker)) => {
                    if let Buffer::Fifo(fifo) = &mut self.buffer {
                        fifo.hold(id);
                    }
                    wakers.push_some(waker);
                }
                None => break,
            }
        }
        // Where no place is held, a notified putter could not insert while
        // a grant is unresolved: it is served when the grant resolves.
        if self.buffer.holds_places() || self.putters.granted.is_empty() {
            while self.putters.may_notify(self.free_slots()) {
                match self.putters.notify_first() {
                    Some(waker) => wakers.push(waker),
                    None => break,
                }
            }
        }
        if fault!(QueuePutterSkipWake) {
            wakers = Wakers::default();
        }
        wakers
    }

    /// Takes one unit that a manual `task_done()` could spend, if any.
    pub(super) fn take_unit(&mut self, spendable: &AtomicUsize) -> bool {
        if self.credit > 0 {
            self.credit -= 1;
            return true;
        }
        spendable
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub(super) fn is_finished(&self, spendable: &AtomicUsize) -> bool {
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::QueueFinishedIgnoresSpendable) {
            return self.guarded == 0 && self.credit == 0;
        }
        self.guarded == 0
            && self.credit == 0
            && spendable.load(ordering!(Ordering::SeqCst, QueueJoinLoadRelaxed)) == 0
    }

    pub(super) fn release_joiners(&mut self, spendable: &AtomicUsize) -> Vec<Waker> {
        if !self.is_finished(spendable) {
            return Vec::new();
        }
        let wakers = self.joiners.remove_all();
        if fault!(QueueJoinSkipWake) {
            return Vec::new();
        }
        wakers
    }

    // Inlined into the core's get paths, which live in another module (and
    // so, maybe, another codegen unit): out of line it cost 3% of 1P/1C.
    #[inline]
    pub(super) fn try_get(
        &mut self,
        guard: bool,
        spendable: &AtomicUsize,
    ) -> Result<(T, bool), TryGetError> {
        if self.available() > 0 {
            if self.getters.has_ungranted() {
                self.getters_overtaken(None);
            }
            let promised = self.getters.granted.len();
            Ok(self.remove(promised, guard, spendable))
        } else if self.shutdown && self.buffer.len() == 0 {
            // Behaviour 122: after a graceful shutdown, gets fail only once
            // the buffer is empty. Items promised to woken getters are still
            // in it: a get waits, in case such a getter is dropped and its
            // item passes on.
            Err(TryGetError::ShutDown)
        } else {
            Err(TryGetError::Empty)
        }
    }

    /// Once a shut-down queue's buffer is empty, the getters and streams
    /// still waiting will never get an item: wake them to see the shutdown.
    pub(super) fn release_getters_if_drained(&mut self) -> Vec<Waker> {
        if self.shutdown && self.buffer.len() == 0 {
            let mut wakers = self.getters.take_waiting();
            wakers.extend(self.streams.take_waiting());
            wakers
        } else {
            Vec::new()
        }
    }
}

/// Releases the lock after a get took an item. The common case, with no
/// putter waiting and no shutdown, only unlocks: it builds no list of wakers
/// (moving one through memory on every get cost a store-forwarding stall).
/// Otherwise the freed slot goes to the waiting putters (every one that
/// fits: in a last-in-first-out or priority queue more than one slot may be
/// free while a grant is unresolved), and if the get drained a shut-down
/// queue, the getters still waiting are woken to see it.
#[inline(always)]
pub(super) fn unlock_after_get<T>(state: MutexGuard<'_, State<T>>) {
    #[cfg(asyncio_loom)]
    let shutdown = state.shutdown && !mutant::on(Mutant::QueueGetFastPathForgetsShutdown);
    #[cfg(not(asyncio_loom))]
    let shutdown = state.shutdown;
    if !state.putters.needs_settle(state.limit) && !(shutdown | state.getters_due) {
        drop(state);
        return;
    }
    unlock_after_get_slow(state);
}

#[cold]
pub(super) fn unlock_after_get_slow<T>(mut state: MutexGuard<'_, State<T>>) {
    let mut wakers = state.grant_putters();
    if std::mem::take(&mut state.getters_due) {
        wakers.extend(state.settle_getters());
        state.getters.end_pass();
    }
    let getters = state.release_getters_if_drained();
    drop(state);
    wakers.wake();
    wake_all(getters);
}
