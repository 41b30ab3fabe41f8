//! The task-set core: a set of running children that keeps its own
//! completion order. Runtime-free; sync types from `crate::sync` only (via
//! the [`ReadyList`]), so the loom models drive this code.
//!
//! Implementer's notes. The set is owned by one waiter at a time (it is
//! behind `&mut`), so only the [`ReadyList`] is shared: each pending child
//! sits in a slot, the child's core holds the set's ready list and the
//! slot's index as its listener, and a completion pushes that index. [`SetCore::collect`] drains those
//! indices and moves the finished children, in the order they finished, to
//! the `done` queue. Every child is looked at once when it is inserted and
//! once when it finishes, never while it is pending, so draining N children
//! one completion at a time costs O(N) in total, not O(N²) as asyncio's
//! `wait` does (it re-registers callbacks on every pending future each
//! call).
//!
//! Outcomes are never taken out of the children's cores here: the `done`
//! queue holds the finished children's handles, owned by the set. A waiter
//! that is dropped mid-wait therefore loses nothing (what it had collected
//! is still in the set) and [`unregister`](SetCore::unregister)s its waker.
//! Slots are reused, and listening costs an `Arc` clone, not an allocation.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::task::{Context, Poll, Waker};

#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::Arc;
use crate::task::ready::{ChildHandle, ReadyList};

/// When a wait on the set returns: asyncio's `return_when`.
///
/// Not `#[non_exhaustive]`: asyncio's three constants are a closed set, and
/// a `match` over them should not need a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any child finishes, in any way (cancellation included).
    FirstCompleted,
    /// As soon as a child fails (an error or a panic; a cancellation does
    /// not count), or when all have finished.
    FirstException,
    /// When every child has finished.
    AllCompleted,
}

struct Slot<H> {
    handle: H,
    /// The child's position in insertion order, and in the top bit whether
    /// the set spawned it itself (nobody else holds it). One word, not two:
    /// a pending child's slot is then 24 bytes beside a `Task`, which counts
    /// in the memory a set of a million pending tasks holds.
    seq_owned: usize,
}

/// The bit of [`Slot::seq_owned`] that marks an owned child. Positions stay
/// below it: a set would need 2^63 insertions to reach it.
const OWNED: usize = 1 << (usize::BITS - 1);

impl<H> Slot<H> {
    fn new(handle: H, owned: bool, seq: usize) -> Self {
        debug_assert!(seq & OWNED == 0, "asyncio: a task set ran out of positions");
        let owned = if owned { OWNED } else { 0 };
        Self {
            handle,
            seq_owned: seq | owned,
        }
    }

    fn seq(&self) -> usize {
        self.seq_owned & !OWNED
    }

    fn owned(&self) -> bool {
        self.seq_owned & OWNED != 0
    }
}

/// A set of children and their completion order.
pub struct SetCore<T, E, H: ChildHandle<T, E>> {
    ready: Arc<ReadyList>,
    slots: Vec<Option<Slot<H>>>,
    free: Vec<usize>,
    pending: usize,
    /// Finished children, in completion order, with their positions.
    done: VecDeque<(usize, H)>,
    /// The position the next inserted child gets.
    next_seq: usize,
    /// How many children in `done` failed (asyncio: raised).
    failed_in_done: usize,
    /// Indices taken from the ready list; those from `cursor` on are
    /// finished children still in their slots. Completion-order iteration
    /// hands them out one at a time from here, so a drain of a million
    /// children holds a million indices, not a million handles in `done`.
    batch: Vec<usize>,
    cursor: usize,
    /// The set registered a waker before (read by a mutant only).
    #[cfg(asyncio_loom)]
    registered: bool,
    _outcome: PhantomData<fn() -> (T, E)>,
}

impl<T, E, H: ChildHandle<T, E>> fmt::Debug for SetCore<T, E, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetCore")
            .field("pending", &self.pending)
            .field("done", &self.done.len())
            .finish()
    }
}

impl<T, E, H: ChildHandle<T, E>> Default for SetCore<T, E, H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E, H: ChildHandle<T, E>> SetCore<T, E, H> {
    /// An empty set.
    pub fn new() -> Self {
        Self {
            ready: Arc::new(ReadyList::new()),
            slots: Vec::new(),
            free: Vec::new(),
            pending: 0,
            done: VecDeque::new(),
            next_seq: 0,
            failed_in_done: 0,
            batch: Vec::new(),
            cursor: 0,
            #[cfg(asyncio_loom)]
            registered: false,
            _outcome: PhantomData,
        }
    }

    /// Adds a running child, and returns its position in insertion order.
    /// `owned` marks a child the set spawned itself, which is cancelled, not
    /// detached, when the set is dropped.
    pub fn insert(&mut self, handle: H, owned: bool) -> usize {
        let seq = self.next_seq;
        self.next_seq += 1;
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        #[cfg(asyncio_loom)]
        let done = if mutant::on(Mutant::SetInsertSplitsDoneCheck) {
            handle.task_core().is_done() || {
                handle.task_core().listen(&self.ready, index);
                false
            }
        } else {
            handle.task_core().listen(&self.ready, index)
        };
        #[cfg(not(asyncio_loom))]
        let done = handle.task_core().listen(&self.ready, index);
        if done {
            self.free.push(index);
            self.push_done(seq, handle);
        } else {
            self.slots[index] = Some(Slot::new(handle, owned, seq));
            self.pending += 1;
        }
        seq
    }

    /// The position the next inserted child will get.
    pub fn next_position(&self) -> usize {
        self.next_seq
    }

    /// Makes positions go on from `next` (a set that replaced its core keeps
    /// counting where the old one stopped).
    pub fn skip_positions(&mut self, next: usize) {
        self.next_seq = self.next_seq.max(next);
    }

    /// Children not finished yet (as far as the set has seen).
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Finished children waiting to be returned.
    pub fn done(&self) -> usize {
        self.done.len()
    }

    /// All children in the set, finished or not.
    pub fn len(&self) -> usize {
        self.pending + self.done.len()
    }

    /// Whether the set holds no child at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the children that finished since the last look to the `done`
    /// queue, registering `waker` (if any) to hear of the next completion.
    pub fn collect(&mut self, waker: Option<&Waker>) {
        while let Some((seq, handle)) = self.next_in_batch() {
            self.push_done(seq, handle);
        }
        self.refill(waker);
        while let Some((seq, handle)) = self.next_in_batch() {
            self.push_done(seq, handle);
        }
    }

    /// Replaces the (exhausted) batch with the indices pushed since the
    /// last look, registering `waker` (if any) in the same step.
    fn refill(&mut self, waker: Option<&Waker>) {
        debug_assert!(
            self.cursor >= self.batch.len(),
            "asyncio: a batch was dropped unread"
        );
        let mut batch = std::mem::take(&mut self.batch);
        #[cfg(asyncio_loom)]
        let waker = if self.registered && mutant::on(Mutant::SetRegistersOnFirstPollOnly) {
            None
        } else {
            self.registered |= waker.is_some();
            waker
        };
        match waker {
            Some(waker) => self.ready.drain(waker, &mut batch),
            None => self.ready.take(&mut batch),
        }
        self.batch = batch;
        self.cursor = 0;
    }

    /// The next finished child of the batch, out of its slot, with its
    /// position.
    fn next_in_batch(&mut self) -> Option<(usize, H)> {
        while let Some(&index) = self.batch.get(self.cursor) {
            self.cursor += 1;
            if let Some(finished) = self.take_finished(index) {
                return Some(finished);
            }
        }
        None
    }

    /// Takes the child whose index its core pushed out of its slot (freeing
    /// the slot), with its position; `None` if the slot was already emptied.
    fn take_finished(&mut self, index: usize) -> Option<(usize, H)> {
        // A pushed index means the child published: its core tells its
        // listener only then, and only the set listens. The loom models run
        // with debug assertions, so they check it.
        let slot = self.slots[index].take()?;
        debug_assert!(
            slot.handle.task_core().is_done(),
            "asyncio: a task set was woken by a child that has not finished"
        );
        self.free.push(index);
        self.pending -= 1;
        Some((slot.seq(), slot.handle))
    }

    fn push_done(&mut self, seq: usize, handle: H) {
        if handle.task_core().is_failure() {
            self.failed_in_done += 1;
        }
        self.done.push_back((seq, handle));
    }

    /// Whether `when` is satisfied by what has been collected.
    fn satisfied(&self, when: ReturnWhen) -> bool {
        match when {
            ReturnWhen::FirstCompleted => !self.done.is_empty(),
            ReturnWhen::FirstException => self.failed_in_done > 0 || self.pending == 0,
            ReturnWhen::AllCompleted => self.pending == 0,
        }
    }

    /// One step of a wait: collects completions, then returns every finished
    /// child (in completion order) if `when` is satisfied or the waiter
    /// `timed_out`; otherwise stays registered and returns `Pending`.
    pub fn poll_wait(
        &mut self,
        cx: &mut Context<'_>,
        when: ReturnWhen,
        timed_out: bool,
    ) -> Poll<Vec<H>> {
        let forget = timed_out && fault!(SetForgetsOnTimeout);
        if forget {
            let mut batch = Vec::new();
            self.ready.take(&mut batch);
        }
        self.collect(Some(cx.waker()));
        if !(self.satisfied(when) || timed_out) {
            return Poll::Pending;
        }
        // The waker stays registered: a waiter that polls again reuses it,
        // and one that goes away unregisters (the `Wait` future's drop).
        self.failed_in_done = 0;
        Poll::Ready(self.done.drain(..).map(|(_, handle)| handle).collect())
    }

    /// One step of completion-order iteration: the next finished child with
    /// its position in insertion order, or `None` when the set is empty.
    ///
    /// What an earlier wait collected goes first; then the finished
    /// children are taken one at a time straight from the batch of ready
    /// indices, never all moved to the `done` queue first. The waker is
    /// registered whenever the batch runs out, in the same step that looks
    /// for more.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(usize, H)>> {
        self.next(Some(cx.waker()))
    }

    /// The next finished child with its position, if one has finished,
    /// without registering a waker.
    pub fn try_next(&mut self) -> Option<(usize, H)> {
        match self.next(None) {
            Poll::Ready(next) => next,
            Poll::Pending => None,
        }
    }

    fn next(&mut self, waker: Option<&Waker>) -> Poll<Option<(usize, H)>> {
        if let Some(next) = self.pop_done() {
            return Poll::Ready(Some(next));
        }
        if let Some(next) = self.next_in_batch() {
            return Poll::Ready(Some(next));
        }
        self.refill(waker);
        match self.next_in_batch() {
            Some(next) => Poll::Ready(Some(next)),
            None if self.pending == 0 => Poll::Ready(None),
            None => Poll::Pending,
        }
    }

    fn pop_done(&mut self) -> Option<(usize, H)> {
        let (seq, handle) = self.done.pop_front()?;
        if handle.task_core().is_failure() {
            self.failed_in_done -= 1;
        }
        Some((seq, handle))
    }

    /// One step of draining the whole set: collects completions, hands
    /// every finished child to `each` (with its position, in completion
    /// order), and is ready once no child is pending. A shutdown drives it
    /// after cancelling every child; it is [`collect`](SetCore::collect)
    /// and the `done` queue, so it adds no synchronisation of its own.
    pub fn poll_drain(&mut self, cx: &mut Context<'_>, mut each: impl FnMut(usize, H)) -> Poll<()> {
        // What an earlier wait collected goes first, in completion order.
        self.failed_in_done = 0;
        while let Some((seq, handle)) = self.done.pop_front() {
            each(seq, handle);
        }
        // Then what a completion-order iteration left in the batch.
        while let Some((seq, handle)) = self.next_in_batch() {
            each(seq, handle);
        }
        // Then straight from the ready list, without the `done` queue: the
        // drain keeps nothing, so it needs no failure count either.
        self.cursor = 0;
        let mut batch = std::mem::take(&mut self.batch);
        #[cfg(asyncio_loom)]
        let register = !(self.registered && mutant::on(Mutant::SetDrainRegistersOnFirstPollOnly));
        #[cfg(not(asyncio_loom))]
        let register = true;
        #[cfg(asyncio_loom)]
        {
            self.registered = true;
        }
        if register {
            self.ready.drain(cx.waker(), &mut batch);
        } else {
            self.ready.take(&mut batch);
        }
        for &index in &batch {
            if let Some((seq, handle)) = self.take_finished(index) {
                each(seq, handle);
            }
        }
        batch.clear();
        self.batch = batch;
        if self.pending == 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Whether some child the set spawned itself is still running (dropping
    /// the set would cancel it).
    pub fn has_owned_running(&self) -> bool {
        self.slots
            .iter()
            .flatten()
            .any(|slot| slot.owned() && !slot.handle.task_core().is_done())
    }

    /// How many pending children have not finished (asking each child, not
    /// only the set's last look).
    pub fn running(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|slot| !slot.handle.task_core().is_done())
            .count()
    }

    /// The waiter stopped waiting: forget its waker (the set keeps
    /// everything it collected).
    pub fn unregister(&self) {
        self.ready.unregister();
    }

    /// The positions of the children not finished yet (as far as the set has
    /// seen), in insertion order.
    pub fn pending_positions(&self) -> Vec<usize> {
        let mut positions: Vec<usize> = self.slots.iter().flatten().map(Slot::seq).collect();
        positions.sort_unstable();
        positions
    }

    /// Requests cancellation of every pending child. Returns how many were
    /// still running.
    pub fn cancel_all(&self) -> usize {
        self.slots
            .iter()
            .flatten()
            .filter(|slot| slot.handle.cancel())
            .count()
    }

    /// Empties the set: the finished children in completion order, then the
    /// pending ones in insertion order (they no longer report to the set).
    pub fn into_handles(mut self) -> Vec<H> {
        // Collect first: closing drops the queued indices of children that
        // finished since the last look, and they belong with the finished.
        self.collect(None);
        self.ready.close();
        let mut handles: Vec<H> = self.done.drain(..).map(|(_, handle)| handle).collect();
        let mut pending: Vec<Slot<H>> = self.slots.iter_mut().filter_map(Option::take).collect();
        pending.sort_unstable_by_key(Slot::seq);
        handles.extend(pending.into_iter().map(|slot| slot.handle));
        self.pending = 0;
        handles
    }
}

impl<T, E, H: ChildHandle<T, E>> Drop for SetCore<T, E, H> {
    fn drop(&mut self) {
        self.ready.close();
        // Children the set spawned itself are cancelled: nobody else can
        // reach them. The others are detached when their handles drop here,
        // as dropping a `Task` does.
        let cancel = !fault!(SetDropSkipsCancel);
        for slot in self.slots.iter().flatten() {
            if slot.owned() && cancel {
                slot.handle.cancel();
            }
        }
    }
}
