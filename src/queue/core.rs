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
//! Fairness comes from *grants*. A waiter list has two parts: `waiting`
//! (ordered by arrival, keyed by a counter) and `granted`
//! (waiters that were promised something and woken, but have not run yet).
//!
//! - When a slot frees up and putters are waiting, the slot is granted to the
//!   first of them, and whenever a slot frees up or a grant is resolved,
//!   every waiting putter that fits is granted, first come first served.
//!   The putter's item stays in its own future until it next runs, so a
//!   putter dropped while granted has inserted nothing, and its slot passes
//!   to the next waiting putter (behaviour 116). What a grant reserves
//!   depends on the order:
//!   - In a first-in-first-out buffer, a *place* is held for the item at
//!     the back (see `Fifo`), and counts as a used slot. Later puts insert
//!     behind it at once, so its item still comes out first; gets stop at
//!     the first held place. The woken putter fills its place, or, dropped,
//!     drops it (the items behind it move up).
//!   - In last-in-first-out and priority order there is no line to hold a
//!     place in: the slot is counted apart (`occupied + granted putters`),
//!     and until the woken putter has inserted, no new put inserts at all,
//!     even into another free slot, since it would come out before the
//!     older item. Such a put waits, and is granted a free slot when the
//!     grant is resolved (the woken putter inserted, or was dropped).
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
//! Invariants, under the lock: in a first-in-first-out queue, putters wait
//! only while there is no free slot (in the other orders they also wait
//! while a grant is unresolved, and are granted when it is); getters wait
//! and streams wait only while no item is available (the ready items,
//! those before any held place, are all promised: `ready == granted
//! getters`); `ready >= granted getters`, so promised items are never
//! behind a held place. A getter or putter that is neither waiting nor
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

use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::num::NonZeroUsize;
use std::task::{Context, Poll, Waker};

use crate::queue::error::{GetError, PutError, TaskDoneError, TryGetError, TryPutError};
#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::{ordering, AtomicUsize, Mutex, MutexGuard, Ordering};

/// The order in which a queue hands out its items.
enum Buffer<T> {
    Fifo(Fifo<T>),
    Lifo(Vec<T>),
    Priority {
        heap: BinaryHeap<Ranked<T>>,
        next_seq: u64,
        compare: fn(&T, &T) -> std::cmp::Ordering,
    },
}

/// First-in-first-out items, with places held for granted putters.
///
/// When a slot is granted to a waiting putter, a place is held in line for
/// its item at the back, so later puts go in behind it without waiting for
/// the woken putter to run, and its item still comes out before theirs.
/// Gets stop at the first held place: only the items before it (the ready
/// prefix) can be taken. A held place is filled when the putter runs (its
/// item is inserted there), or dropped when the putter is dropped or the
/// queue shuts down.
///
/// A held place is not an entry of `items` (so an item costs its own size,
/// with no `Option` around it, and the hot paths are a plain deque's): it is
/// the number of items before it. Filling it inserts into the deque, moving
/// the items put behind it meanwhile, or those before it if fewer: at most
/// half the capacity, usually a few, since a woken putter runs soon.
#[repr(C)]
struct Fifo<T> {
    items: VecDeque<T>,
    /// The held places, oldest first: the putter's waiter id and the place's
    /// position, which counts the items before it from the same origin as
    /// `front`, so it stays put while items leave at the front.
    held: VecDeque<(u64, u64)>,
    /// The position of `items[0]`. It moves only while places are held
    /// (positions are read only then).
    front: u64,
}

impl<T> Fifo<T> {
    fn new() -> Self {
        Self {
            items: VecDeque::new(),
            held: VecDeque::new(),
            front: 0,
        }
    }

    /// How many items lead the line before the first held place: the items
    /// that can be taken, in order.
    #[inline]
    fn ready(&self) -> usize {
        match self.held.front() {
            None => self.items.len(),
            // A place's position is never before `front`, nor past the end.
            Some(&(_, position)) => (position - self.front) as usize,
        }
    }

    /// Holds a place at the back for the granted putter `id`.
    fn hold(&mut self, id: u64) {
        self.held
            .push_back((id, self.front + self.items.len() as u64));
    }

    fn held_index(&self, id: u64) -> Option<usize> {
        self.held.binary_search_by_key(&id, |&(held, _)| held).ok()
    }

    /// Puts the granted putter's item into its place. Returns whether the
    /// ready prefix grew (the place was the first held one).
    fn fill(&mut self, id: u64, item: T) -> bool {
        let index = self
            .held_index(id)
            .expect("asyncio: queue core lost the place held for a granted putter");
        let (_, position) = self.held.remove(index).expect("index from a search");
        self.items.insert((position - self.front) as usize, item);
        // The later places are behind the new item.
        for (_, later) in self.held.iter_mut().skip(index) {
            *later += 1;
        }
        index == 0
    }

    /// Drops the place held for a putter that will not fill it. Returns
    /// whether the ready prefix grew.
    fn release(&mut self, id: u64) -> bool {
        match self.held_index(id) {
            Some(index) => {
                self.held.remove(index);
                index == 0
            }
            None => false,
        }
    }

    /// Drops every held place. Returns whether there was one.
    fn release_all(&mut self) -> bool {
        let any = !self.held.is_empty();
        self.held.clear();
        any
    }

    /// Takes the item at `index`, which must be in the ready prefix.
    #[inline]
    fn take(&mut self, index: usize) -> Option<T> {
        let item = if index == 0 {
            self.items.pop_front()
        } else {
            self.items.remove(index)
        };
        // Every held place is behind the ready prefix, so whichever item
        // left, each held place now has one item fewer before it: the same
        // as if the front item had left. With no place held, `front` need
        // not move (positions are taken from it only while places are
        // held), which keeps it off the hot path.
        if !self.held.is_empty() {
            self.front += 1;
        }
        item
    }
}

/// An entry of the priority heap. The comparison function is stored with the
/// entry so that the core needs no `T: Ord` bound (the public constructor
/// has it); `seq` makes equal priorities first-in-first-out.
struct Ranked<T> {
    item: T,
    seq: u64,
    compare: fn(&T, &T) -> std::cmp::Ordering,
}

impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // `BinaryHeap` pops the greatest: the smallest item, then the oldest.
        (self.compare)(&other.item, &self.item).then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl<T> Eq for Ranked<T> {}

impl<T> Buffer<T> {
    /// The number of items (held places are not items).
    #[inline]
    fn len(&self) -> usize {
        match self {
            Buffer::Fifo(fifo) => fifo.items.len(),
            Buffer::Lifo(items) => items.len(),
            Buffer::Priority { heap, .. } => heap.len(),
        }
    }

    /// The number of slots in use: items and held places.
    #[inline]
    fn occupied(&self) -> usize {
        match self {
            Buffer::Fifo(fifo) => fifo.items.len() + fifo.held.len(),
            Buffer::Lifo(items) => items.len(),
            Buffer::Priority { heap, .. } => heap.len(),
        }
    }

    /// The number of items a get may take now, promised ones included:
    /// in a first-in-first-out buffer, those before the first held place.
    #[inline]
    fn ready(&self) -> usize {
        match self {
            Buffer::Fifo(fifo) => fifo.ready(),
            Buffer::Lifo(items) => items.len(),
            Buffer::Priority { heap, .. } => heap.len(),
        }
    }

    /// Whether granted putters get a held place (first-in-first-out only).
    /// In the other orders there is no place to hold: a granted putter's
    /// slot is counted apart, and new puts wait until it has inserted.
    #[inline]
    fn holds_places(&self) -> bool {
        matches!(self, Buffer::Fifo(_))
    }

    #[inline]
    fn push(&mut self, item: T) {
        match self {
            Buffer::Fifo(fifo) => fifo.items.push_back(item),
            Buffer::Lifo(items) => items.push(item),
            Buffer::Priority {
                heap,
                next_seq,
                compare,
            } => {
                let seq = *next_seq;
                *next_seq += 1;
                heap.push(Ranked {
                    item,
                    seq,
                    compare: *compare,
                });
            }
        }
    }

    /// Takes the next item. A first-in-first-out buffer takes the item at
    /// `promised`: the front items belong to woken getters that have not run
    /// yet, in the order they were granted, so a new get skips them all and a
    /// woken getter takes the one at its own place among them. Last-in-
    /// first-out and priority order choose by their own rule: there, a woken
    /// getter is promised *an* item, not a particular one.
    #[inline]
    fn take(&mut self, promised: usize) -> Option<T> {
        match self {
            Buffer::Fifo(fifo) => fifo.take(promised),
            Buffer::Lifo(items) => items.pop(),
            Buffer::Priority { heap, .. } => heap.pop().map(|ranked| ranked.item),
        }
    }

    /// Takes every item out, to be dropped after the lock is released, and
    /// removes every held place.
    fn drain(&mut self) -> Vec<T> {
        match self {
            Buffer::Fifo(fifo) => {
                fifo.held.clear();
                fifo.items.drain(..).collect()
            }
            Buffer::Lifo(items) => std::mem::take(items),
            Buffer::Priority { heap, .. } => heap.drain().map(|ranked| ranked.item).collect(),
        }
    }
}

/// A waiter's place in a queue's waiter list. A pending operation owns one;
/// dropping the operation must pass it to the matching `cancel_*` method.
#[derive(Debug, Default)]
pub struct Waiter {
    id: Option<u64>,
}

impl Waiter {
    /// A waiter that is not in any list yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the waiter is in a list (waiting or granted).
    pub fn is_registered(&self) -> bool {
        self.id.is_some()
    }
}

enum Status {
    Waiting,
    Granted,
    /// Removed by a shutdown (or released, for joiners).
    Gone,
}

/// A waiter list. Ids come from one counter, so both parts stay sorted by
/// id, and every granted id is smaller than every waiting one (a grant takes
/// the oldest waiter). Deques keep their capacity, so a queue that blocks
/// and wakes in a loop does not allocate.
#[derive(Default)]
struct WaitList {
    waiting: VecDeque<(u64, Waker)>,
    granted: VecDeque<u64>,
}

impl WaitList {
    fn register(&mut self, waiter: &mut Waiter, next_id: &mut u64, cx: &Context<'_>) {
        let id = *next_id;
        *next_id += 1;
        self.waiting.push_back((id, cx.waker().clone()));
        waiter.id = Some(id);
    }

    fn waiting_index(&self, id: u64) -> Option<usize> {
        self.waiting
            .binary_search_by_key(&id, |(waiting, _)| *waiting)
            .ok()
    }

    fn status(&self, id: u64) -> Status {
        if self.granted.binary_search(&id).is_ok() {
            Status::Granted
        } else if self.waiting_index(id).is_some() {
            Status::Waiting
        } else {
            Status::Gone
        }
    }

    fn update_waker(&mut self, id: u64, cx: &Context<'_>) {
        if let Some(index) = self.waiting_index(id) {
            let waker = &mut self.waiting[index].1;
            if !waker.will_wake(cx.waker()) {
                *waker = cx.waker().clone();
            }
        }
    }

    fn remove_waiting(&mut self, id: u64) {
        if let Some(index) = self.waiting_index(id) {
            self.waiting.remove(index);
        }
    }

    fn remove_granted(&mut self, id: u64) {
        if let Ok(index) = self.granted.binary_search(&id) {
            self.granted.remove(index);
        }
    }

    /// Grants the first waiting waiter, if any, and returns its id and
    /// waker.
    #[inline]
    fn grant_first(&mut self) -> Option<(u64, Waker)> {
        let (id, waker) = self.waiting.pop_front()?;
        self.granted.push_back(id);
        Some((id, waker))
    }

    /// Removes the waiting waiters and returns their wakers.
    fn take_waiting(&mut self) -> Vec<Waker> {
        self.waiting.drain(..).map(|(_, waker)| waker).collect()
    }

    /// Removes every waiter (granted or not) and returns the wakers of those
    /// still waiting (granted ones were woken when granted).
    fn remove_all(&mut self) -> Vec<Waker> {
        self.granted.clear();
        self.take_waiting()
    }
}

/// The fields are in declaration order (`repr(C)`), for speed only. std's
/// mutex keeps its lock word right before the data, and the core puts the
/// mutex at the start of a 128-byte block (after `spendable`), so the lock
/// word and what every put or get writes (the credit, and the header of a
/// first-in-first-out buffer's deque), and the shutdown flag every get
/// reads, share one 64-byte line: a put or get on another core moves that
/// one line. (The rest of `Fifo` is written only while places are held.)
/// Fields written only when tasks wait (`next_id`, the waiter lists,
/// streams' included) come next, on lines of their own, so that blocking and waking in a many-task
/// run does not make the hot reads miss; `capacity`, read by every put and
/// get but never written, comes last, beside the rarely written joiners, so
/// its line stays shared. Measured on standalone loops, 1P/1C and 4P/4C:
/// 125 and 161 ms before, 79 and 115 ms after (with the inlining); with the
/// shutdown flag on the `next_id` line instead, 4P/4C took 199 ms. When the
/// held places came, putting the credit after the buffer (on the second
/// line) cost 1P/1C about 25%.
#[repr(C)]
struct State<T> {
    /// Unfinished units for `task_done()` not yet moved to `spendable`.
    credit: usize,
    shutdown: bool,
    buffer: Buffer<T>,
    next_id: u64,
    /// How many of the unfinished items are held by guards.
    guarded: usize,
    putters: WaitList,
    getters: WaitList,
    /// Streams waiting for an item. Only the `waiting` part is used: a
    /// stream is never granted an item (see [`QueueCore::poll_stream`]).
    /// Beside the getters: written only when streams wait, read by every
    /// put (is any stream waiting?).
    streams: WaitList,
    joiners: WaitList,
    capacity: Option<NonZeroUsize>,
}

impl<T> State<T> {
    /// Whether a slot is free: not holding an item, not held for a woken
    /// putter, and (where places are not held) not promised to one.
    #[inline]
    fn has_free_slot(&self) -> bool {
        self.capacity.is_none_or(|capacity| {
            let promised = if self.buffer.holds_places() {
                0
            } else {
                self.putters.granted.len()
            };
            self.buffer.occupied() + promised < capacity.get()
        })
    }

    /// Whether a new put (or `put_nowait`) may insert now: not while putters
    /// wait, and, where no place is held for a woken putter's item, not
    /// until it has inserted, since the new item would come out before the
    /// older one (asyncio's gh-83055).
    #[inline]
    fn new_put_may_insert(&self) -> bool {
        self.putters.waiting.is_empty()
            && (self.buffer.holds_places() || self.putters.granted.is_empty())
            && self.has_free_slot()
    }

    /// How many items a new get may take now.
    #[inline]
    fn available(&self) -> usize {
        let ready = self.buffer.ready();
        debug_assert!(ready >= self.getters.granted.len());
        ready - self.getters.granted.len()
    }

    /// Inserts an item into a slot that is known to be free, and grants the
    /// item to the first waiting getter if it can be taken.
    #[inline(always)]
    fn insert(&mut self, item: T) -> Option<Waker> {
        self.buffer.push(item);
        self.credit += 1;
        let waker = if self.available() > 0 {
            self.getters.grant_first().map(|(_, waker)| waker)
        } else {
            None
        };
        #[cfg(asyncio_loom)]
        let waker = waker.filter(|_| {
            !crate::sync::fault::on(crate::sync::fault::Fault::QueueInsertSkipsGetterWake)
        });
        waker
    }

    /// The granted putter `id` inserts its item: into the place held for it,
    /// or, where no place is held, into the slot promised to it. Either way
    /// the grant is resolved.
    fn insert_granted(&mut self, id: u64, item: T) -> Wakers {
        let mut wakers = Wakers::default();
        if let Buffer::Fifo(fifo) = &mut self.buffer {
            let ready_grew = fifo.fill(id, item);
            #[cfg(asyncio_loom)]
            let ready_grew = ready_grew
                && !crate::sync::fault::on(crate::sync::fault::Fault::QueueFillSkipsGetters);
            self.credit += 1;
            if ready_grew {
                // The items behind the filled place may be taken now.
                wakers = self.grant_getters();
            }
        } else {
            if let Some(getter) = self.insert(item) {
                wakers.push(getter);
            }
            wakers.more.extend(self.streams_to_wake());
        }
        // Putters that began waiting while this one's slot was promised get
        // the free slots now (where no place is held, no new put could
        // insert meanwhile).
        wakers.extend(self.grant_putters());
        wakers
    }

    /// Grants available items to waiting getters, first come first served,
    /// and wakes the waiting streams if items are left over.
    fn grant_getters(&mut self) -> Wakers {
        let mut wakers = Wakers::default();
        for _ in 0..self.available() {
            match self.getters.grant_first() {
                Some((_, waker)) => wakers.push(waker),
                None => break,
            }
        }
        wakers.more.extend(self.streams_to_wake());
        wakers
    }

    /// The waiting streams to wake, if an item is available that no waiting
    /// getter was granted (call it after granting the getters). Every
    /// waiting stream is woken, not one: a stream may never be polled again
    /// (its `next()` future was dropped and the stream kept), and one woken
    /// in vain must not leave the others asleep beside an item.
    #[inline(always)]
    fn streams_to_wake(&mut self) -> Vec<Waker> {
        if self.streams.waiting.is_empty() {
            return Vec::new();
        }
        self.take_streams()
    }

    #[cold]
    fn take_streams(&mut self) -> Vec<Waker> {
        if self.available() == 0 {
            return Vec::new();
        }
        #[cfg(asyncio_loom)]
        if crate::sync::fault::on(crate::sync::fault::Fault::QueueWakesOneStream) {
            return self
                .streams
                .waiting
                .pop_front()
                .map(|(_, waker)| waker)
                .into_iter()
                .collect();
        }
        self.streams.take_waiting()
    }

    /// Takes an item out (at `promised`, see [`Buffer::take`]): the item,
    /// and whether a guard holds its unit. The freed slot is granted by the
    /// caller on its way out ([`unlock_after_get`]).
    #[inline(always)]
    fn remove(&mut self, promised: usize, guard: bool, spendable: &AtomicUsize) -> (T, bool) {
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

    /// Grants the free slots to the waiting putters, first come first
    /// served, as many as fit. Called whenever a slot frees up or a grant is
    /// resolved (the putter inserted, or was dropped): a putter that began
    /// waiting while a free slot was held back for an earlier woken putter
    /// is granted then.
    #[inline(always)]
    fn grant_putters(&mut self) -> Wakers {
        if self.putters.waiting.is_empty() {
            // The common case: nobody to grant.
            return Wakers::default();
        }
        self.grant_waiting_putters()
    }

    #[cold]
    fn grant_waiting_putters(&mut self) -> Wakers {
        let mut wakers = Wakers::default();
        while self.has_free_slot() {
            match self.putters.grant_first() {
                Some((id, waker)) => {
                    if let Buffer::Fifo(fifo) = &mut self.buffer {
                        fifo.hold(id);
                    }
                    wakers.push(waker);
                }
                None => break,
            }
        }
        #[cfg(asyncio_loom)]
        if crate::sync::fault::on(crate::sync::fault::Fault::QueuePutterSkipWake) {
            wakers = Wakers::default();
        }
        wakers
    }

    /// Takes one unit that a manual `task_done()` could spend, if any.
    fn take_unit(&mut self, spendable: &AtomicUsize) -> bool {
        if self.credit > 0 {
            self.credit -= 1;
            return true;
        }
        spendable
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn is_finished(&self, spendable: &AtomicUsize) -> bool {
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::QueueFinishedIgnoresSpendable) {
            return self.guarded == 0 && self.credit == 0;
        }
        self.guarded == 0
            && self.credit == 0
            && spendable.load(ordering!(Ordering::SeqCst, QueueJoinLoadRelaxed)) == 0
    }

    fn release_joiners(&mut self, spendable: &AtomicUsize) -> Vec<Waker> {
        if !self.is_finished(spendable) {
            return Vec::new();
        }
        let wakers = self.joiners.remove_all();
        #[cfg(asyncio_loom)]
        if crate::sync::fault::on(crate::sync::fault::Fault::QueueJoinSkipWake) {
            return Vec::new();
        }
        wakers
    }

    fn try_get(&mut self, guard: bool, spendable: &AtomicUsize) -> Result<(T, bool), TryGetError> {
        if self.available() > 0 {
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
    fn release_getters_if_drained(&mut self) -> Vec<Waker> {
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
fn unlock_after_get<T>(state: MutexGuard<'_, State<T>>) {
    #[cfg(asyncio_loom)]
    let shutdown = state.shutdown && !mutant::on(Mutant::QueueGetFastPathForgetsShutdown);
    #[cfg(not(asyncio_loom))]
    let shutdown = state.shutdown;
    if state.putters.waiting.is_empty() && !shutdown {
        drop(state);
        return;
    }
    unlock_after_get_slow(state);
}

#[cold]
fn unlock_after_get_slow<T>(mut state: MutexGuard<'_, State<T>>) {
    let putters = state.grant_putters();
    let getters = state.release_getters_if_drained();
    drop(state);
    putters.wake();
    wake_all(getters);
}

/// Wakers to wake once the lock is released: usually none or one, so the
/// first is kept inline and only more allocate.
#[derive(Default)]
struct Wakers {
    first: Option<Waker>,
    more: Vec<Waker>,
}

impl Wakers {
    #[inline]
    fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.more.push(waker);
        }
    }

    fn extend(&mut self, other: Wakers) {
        if let Some(first) = other.first {
            self.push(first);
        }
        self.more.extend(other.more);
    }

    #[inline]
    fn wake(self) {
        wake(self.first);
        wake_all(self.more);
    }
}

#[inline]
fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

#[inline]
fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

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
pub struct QueueCore<T> {
    state: Mutex<State<T>>,
    /// Unfinished units that `task_done()` spends without the lock.
    spendable: CachePadded,
}

/// An atomic on a cache line of its own, so that consumers calling
/// `task_done()` do not contend for the line that holds the lock.
#[repr(align(128))]
#[derive(Default)]
struct CachePadded(AtomicUsize);

impl std::ops::Deref for CachePadded {
    type Target = AtomicUsize;
    fn deref(&self) -> &AtomicUsize {
        &self.0
    }
}

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
            state: Mutex::new(State {
                buffer,
                capacity,
                guarded: 0,
                credit: 0,
                shutdown: false,
                next_id: 0,
                putters: WaitList::default(),
                getters: WaitList::default(),
                joiners: WaitList::default(),
                streams: WaitList::default(),
            }),
            spendable: CachePadded::default(),
        }
    }

    /// A first-in-first-out core; `None` is unbounded.
    pub fn fifo(capacity: Option<NonZeroUsize>) -> Self {
        Self::new(Buffer::Fifo(Fifo::new()), capacity)
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
            wake(waker);
            let mut state = self.state.lock();
            state.buffer.push(item);
            state.credit += 1;
            return Ok(());
        }
        let waker = state.insert(item);
        let streams = state.streams_to_wake();
        drop(state);
        wake(waker);
        wake_all(streams);
        Ok(())
    }

    /// Polls a `put`. `item` is `Some` until the put completes or fails.
    pub fn poll_put(
        &self,
        waiter: &mut Waiter,
        item: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), PutError<T>>> {
        let mut state = self.state.lock();
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
            let getter = state.insert(value);
            let streams = state.streams_to_wake();
            drop(state);
            wake(getter);
            wake_all(streams);
            return Poll::Ready(Ok(()));
        }
        *item = Some(value);
        let State {
            putters, next_id, ..
        } = &mut *state;
        putters.register(waiter, next_id, cx);
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
            Status::Granted => {
                #[cfg(asyncio_loom)]
                let pass_on =
                    !crate::sync::fault::on(crate::sync::fault::Fault::QueueDroppedPutterKeepsSlot);
                #[cfg(not(asyncio_loom))]
                let pass_on = true;
                if pass_on {
                    state.putters.remove_granted(id);
                    let mut wakers = Wakers::default();
                    if let Buffer::Fifo(fifo) = &mut state.buffer {
                        if fifo.release(id) {
                            // The items behind the removed place may be
                            // taken now.
                            wakers = state.grant_getters();
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
    pub fn poll_get(
        &self,
        waiter: &mut Waiter,
        guard: bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Taken<T>, GetError>> {
        let mut state = self.state.lock();
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

    /// A pending `get` is dropped: it took nothing; an item that was granted
    /// to it stays in the queue and passes to the next waiting getter.
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
            Status::Granted => {
                #[cfg(asyncio_loom)]
                let pass_on =
                    !crate::sync::fault::on(crate::sync::fault::Fault::QueueDroppedGetterKeepsItem);
                #[cfg(not(asyncio_loom))]
                let pass_on = true;
                if pass_on {
                    state.getters.remove_granted(id);
                    state.grant_getters()
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
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let fast = self.spendable.fetch_update(
            ordering!(Ordering::SeqCst, QueueTaskDoneRelaxed),
            ordering!(Ordering::SeqCst, QueueTaskDoneRelaxed),
            |n| n.checked_sub(1),
        );
        if let Ok(previous) = fast {
            #[cfg(asyncio_loom)]
            let previous = if crate::sync::fault::on(
                crate::sync::fault::Fault::QueueTaskDoneFastPathSkipsRelease,
            ) {
                2
            } else {
                previous
            };
            if previous != 1 {
                return Ok(());
            }
            // The total may have reached zero: check and release under the
            // lock, where joins check it too.
        }
        let mut state = self.state.lock();
        if fast.is_err() {
            if state.credit > 0 {
                // Spend one unit of credit and move the rest over.
                let credit = std::mem::take(&mut state.credit);
                #[cfg(asyncio_loom)]
                let credit = credit
                    + usize::from(crate::sync::fault::on(
                        crate::sync::fault::Fault::QueueTaskDoneRefillSpendsNothing,
                    ));
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
                Status::Granted | Status::Gone => {
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
            #[cfg(asyncio_loom)]
            let release =
                !crate::sync::fault::on(crate::sync::fault::Fault::QueueImmediateShutdownKeepsJoin);
            #[cfg(not(asyncio_loom))]
            let release = true;
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
        #[cfg(asyncio_loom)]
        let release_held =
            !crate::sync::fault::on(crate::sync::fault::Fault::QueueShutdownKeepsHeldPlaces);
        #[cfg(not(asyncio_loom))]
        let release_held = true;
        if let Buffer::Fifo(fifo) = &mut state.buffer {
            // The places held for granted putters will not be filled: the
            // items behind them may be taken now.
            if release_held && fifo.release_all() {
                ready_getters = state.grant_getters();
            }
        }
        let getters = state.release_getters_if_drained();
        #[cfg(asyncio_loom)]
        let getters = if woke_early { Vec::new() } else { getters };
        drop(state);
        ready_getters.wake();
        #[cfg(asyncio_loom)]
        let putters =
            if crate::sync::fault::on(crate::sync::fault::Fault::QueueShutdownSkipsPutters) {
                Vec::new()
            } else {
                putters
            };
        #[cfg(asyncio_loom)]
        let getters =
            if crate::sync::fault::on(crate::sync::fault::Fault::QueueShutdownSkipsGetters) {
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
        state.getters.waiting.len() + state.streams.waiting.len()
    }

    /// How many puts wait for a slot, not yet promised one.
    pub fn waiting_putters(&self) -> usize {
        self.state.lock().putters.waiting.len()
    }

    /// The unfinished count (items put and not yet marked done).
    pub fn unfinished(&self) -> usize {
        let state = self.state.lock();
        state.guarded + state.credit + self.spendable.load(Ordering::SeqCst)
    }
}

#[cfg(all(test, not(asyncio_loom)))]
mod tests {
    use super::{Buffer, QueueCore};

    /// The layout `State`'s docs rely on: the lock word and the fields every
    /// put or get writes share one 64-byte line. A reordering that splits
    /// them cost 1P/1C about 25%.
    #[test]
    fn hot_fields_share_the_lock_line() {
        let core = QueueCore::<u64>::fifo(None);
        let lock = &core.state as *const _ as usize;
        let state = core.state.lock();
        let Buffer::Fifo(fifo) = &state.buffer else {
            unreachable!("a fifo core has a fifo buffer")
        };
        let end_of = |field: usize, size: usize| field + size - lock;
        assert_eq!(lock % 64, 0, "the mutex starts a cache line");
        assert!(end_of(&state.credit as *const _ as usize, 8) <= 64);
        assert!(end_of(&state.shutdown as *const _ as usize, 1) <= 64);
        assert!(end_of(&fifo.items as *const _ as usize, size_of_val(&fifo.items)) <= 64);
    }
}
