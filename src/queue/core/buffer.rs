//! The queue's buffer: the items in the order a get takes them, and (in a
//! first-in-first-out queue) the places held for woken putters. No lock and
//! no waker here: the state that owns the buffer is behind the core's lock.

use std::collections::{BinaryHeap, VecDeque};

/// The order in which a queue hands out its items.
pub(super) enum Buffer<T> {
    Fifo(FifoBuffer<T>),
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
pub(super) struct FifoBuffer<T> {
    pub(super) items: VecDeque<T>,
    /// The held places, oldest first: the putter's waiter id and the place's
    /// position, which counts the items before it from the same origin as
    /// `front`, so it stays put while items leave at the front.
    pub(super) held: VecDeque<(u64, u64)>,
    /// The position of `items[0]`. It moves only while places are held
    /// (positions are read only then).
    pub(super) front: u64,
}

impl<T> FifoBuffer<T> {
    pub(super) fn new() -> Self {
        Self {
            items: VecDeque::new(),
            held: VecDeque::new(),
            front: 0,
        }
    }

    /// How many items lead the line before the first held place: the items
    /// that can be taken, in order.
    #[inline]
    pub(super) fn ready(&self) -> usize {
        match self.held.front() {
            None => self.items.len(),
            // A place's position is never before `front`, nor past the end.
            Some(&(_, position)) => (position - self.front) as usize,
        }
    }

    /// Holds a place at the back for the granted putter `id`.
    pub(super) fn hold(&mut self, id: u64) {
        self.held
            .push_back((id, self.front + self.items.len() as u64));
    }

    pub(super) fn held_index(&self, id: u64) -> Option<usize> {
        self.held.binary_search_by_key(&id, |&(held, _)| held).ok()
    }

    /// Puts the granted putter's item into its place. Returns whether the
    /// ready prefix grew (the place was the first held one).
    pub(super) fn fill(&mut self, id: u64, item: T) -> bool {
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
    pub(super) fn release(&mut self, id: u64) -> bool {
        match self.held_index(id) {
            Some(index) => {
                self.held.remove(index);
                index == 0
            }
            None => false,
        }
    }

    /// Drops every held place. Returns whether there was one.
    pub(super) fn release_all(&mut self) -> bool {
        let any = !self.held.is_empty();
        self.held.clear();
        any
    }

    /// Takes the item at `index`, which must be in the ready prefix.
    #[inline]
    pub(super) fn take(&mut self, index: usize) -> Option<T> {
        let item = match index {
            0 => self.items.pop_front(),
            // One promised item at the front (a granted getter has not run
            // yet), the common case under eventual fairness: swap the taken
            // item to the front and pop it, leaving the promised one first.
            // `VecDeque::remove` costs about 80 instructions a call here
            // (6% of 4P/4C's count at capacity 1024).
            1 if self.items.len() >= 2 => {
                self.items.swap(0, 1);
                self.items.pop_front()
            }
            _ => self.items.remove(index),
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
pub(super) struct Ranked<T> {
    pub(super) item: T,
    pub(super) seq: u64,
    pub(super) compare: fn(&T, &T) -> std::cmp::Ordering,
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
    pub(super) fn len(&self) -> usize {
        match self {
            Buffer::Fifo(fifo) => fifo.items.len(),
            Buffer::Lifo(items) => items.len(),
            Buffer::Priority { heap, .. } => heap.len(),
        }
    }

    /// The number of slots in use: items and held places.
    #[inline]
    pub(super) fn occupied(&self) -> usize {
        match self {
            Buffer::Fifo(fifo) => fifo.items.len() + fifo.held.len(),
            Buffer::Lifo(items) => items.len(),
            Buffer::Priority { heap, .. } => heap.len(),
        }
    }

    /// The number of items a get may take now, promised ones included:
    /// in a first-in-first-out buffer, those before the first held place.
    #[inline]
    pub(super) fn ready(&self) -> usize {
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
    pub(super) fn holds_places(&self) -> bool {
        matches!(self, Buffer::Fifo(_))
    }

    #[inline(always)]
    pub(super) fn push(&mut self, item: T) {
        match self {
            Buffer::Fifo(fifo) => fifo.items.push_back(item),
            _ => self.push_other(item),
        }
    }

    /// [`push`](Self::push) in the orders other than first-in-first-out,
    /// out of line so that the common one inlines small.
    #[inline(never)]
    fn push_other(&mut self, item: T) {
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
    pub(super) fn take(&mut self, promised: usize) -> Option<T> {
        match self {
            Buffer::Fifo(fifo) => fifo.take(promised),
            Buffer::Lifo(items) => items.pop(),
            Buffer::Priority { heap, .. } => heap.pop().map(|ranked| ranked.item),
        }
    }

    /// Takes every item out, to be dropped after the lock is released, and
    /// removes every held place.
    pub(super) fn drain(&mut self) -> Vec<T> {
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
