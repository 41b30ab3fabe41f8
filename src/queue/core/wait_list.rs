//! Waiter lists: who waits for a slot, an item or the count to reach zero,
//! in arrival order, and who was promised something and woken. Also the
//! wakers gathered under the lock and woken after it is released.

use std::collections::VecDeque;
use std::task::{Context, Waker};

/// A waiter's place in a queue's waiter list. A pending operation owns one;
/// dropping the operation must pass it to the matching `cancel_*` method.
#[derive(Debug, Default)]
pub struct Waiter {
    pub(super) id: Option<u64>,
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

pub(super) enum Status {
    Waiting,
    /// Woken by an item or slot that was not reserved for it (eventual
    /// fairness): it tries to take one when it runs, and keeps its place
    /// in line if it finds none.
    Notified,
    Granted,
    /// Removed by a shutdown (or released, for joiners).
    Gone,
}

/// A waiting waiter: its id (its place in line) and its waker.
pub(super) struct Entry {
    pub(super) id: u64,
    pub(super) waker: Waker,
}

/// The oldest waiter that holds no grant: its id, and whether it is still
/// waiting (not notified).
#[derive(Clone, Copy)]
pub(super) struct Head {
    pub(super) id: u64,
    pub(super) waiting: bool,
}

/// A waiter list. Ids come from one counter and a waiter keeps its id for
/// as long as it waits (also across notifications), so every part stays
/// sorted by id, and every granted id is smaller than every waiting or
/// notified one (a grant takes the oldest waiter that holds none). Deques
/// keep their capacity, so a queue that blocks and wakes in a loop does not
/// allocate.
///
/// `overtakes` counts the operations that completed while an older waiter
/// of this list held no grant, since the oldest such waiter was last served
/// (eventual fairness): when it reaches the queue's limit, the next item or
/// slot is granted to the oldest waiter, and the count starts again.
pub(super) struct WaitList {
    pub(super) waiting: VecDeque<Entry>,
    /// Woken, not promised anything: ids, sorted.
    pub(super) notified: VecDeque<u64>,
    pub(super) granted: VecDeque<u64>,
    pub(super) overtakes: u64,
    /// How many waiters of this list are notified at a time (the *baton*;
    /// at least one): a new item or free slot wakes a waiting waiter only
    /// while fewer than this are notified, and a notified waiter that
    /// completes passes the notification on if something is still free.
    /// Waking one waiter per free item or slot woke many tasks in vain: the
    /// first to run took everything in one poll (it loops put / get), and
    /// the others woke to nothing. Waking only one, from inside the poll of
    /// the one before, cost parallelism: tokio runs a task woken from
    /// inside another's poll next on that worker (its LIFO slot, which no
    /// other worker steals), so a consumer doing CPU-bound work held the
    /// next one back while another worker idled. The queue's tokio layer
    /// sets it to the runtime's number of workers, so each worker can have
    /// one woken waiter in hand. A pass after an overtake notifies one at
    /// most ([`notify_limit`](Self::notify_limit)).
    pub(super) at_once: usize,
    /// Whether an operation that never waited completed past this list's
    /// waiters (it overtook them: a running task took an item or a slot
    /// while they waited) since the last baton pass.
    pub(super) overtaken_since_pass: bool,
    /// Set while a notified waiter that completed passes the baton on
    /// (between [`begin_pass`](Self::begin_pass) and
    /// [`end_pass`](Self::end_pass)).
    passing: bool,
}

impl Default for WaitList {
    fn default() -> Self {
        Self {
            waiting: VecDeque::new(),
            notified: VecDeque::new(),
            granted: VecDeque::new(),
            overtakes: 0,
            at_once: 1,
            overtaken_since_pass: false,
            passing: false,
        }
    }
}

impl WaitList {
    pub(super) fn register(&mut self, waiter: &mut Waiter, next_id: &mut u64, cx: &Context<'_>) {
        let id = *next_id;
        *next_id += 1;
        self.waiting.push_back(Entry {
            id,
            waker: cx.waker().clone(),
        });
        waiter.id = Some(id);
    }

    /// A notified waiter that found nothing waits again at its old place:
    /// usually the front, since the one notified waiter is the oldest
    /// without a grant (`VecDeque::insert` costs about 40 instructions
    /// more than `push_front`).
    pub(super) fn wait_again(&mut self, id: u64, cx: &Context<'_>) {
        let entry = Entry {
            id,
            waker: cx.waker().clone(),
        };
        if self.waiting.front().is_none_or(|front| id < front.id) {
            self.waiting.push_front(entry);
        } else {
            let index = self.waiting.partition_point(|entry| entry.id < id);
            self.waiting.insert(index, entry);
        }
    }

    #[inline]
    pub(super) fn waiting_index(&self, id: u64) -> Option<usize> {
        self.waiting
            .binary_search_by_key(&id, |entry| entry.id)
            .ok()
    }

    #[inline]
    fn notified_index(&self, id: u64) -> Option<usize> {
        // The one notified waiter (the baton), checked before a search.
        if self.notified.front() == Some(&id) {
            return Some(0);
        }
        self.notified.binary_search(&id).ok()
    }

    #[inline]
    pub(super) fn status(&self, id: u64) -> Status {
        if self.notified.front() == Some(&id) {
            Status::Notified
        } else if !self.granted.is_empty() && self.granted.binary_search(&id).is_ok() {
            Status::Granted
        } else if self.notified_index(id).is_some() {
            Status::Notified
        } else if self.waiting_index(id).is_some() {
            Status::Waiting
        } else {
            Status::Gone
        }
    }

    #[inline]
    pub(super) fn update_waker(&mut self, id: u64, cx: &Context<'_>) {
        if let Some(index) = self.waiting_index(id) {
            let waker = &mut self.waiting[index].waker;
            if !waker.will_wake(cx.waker()) {
                *waker = cx.waker().clone();
            }
        }
    }

    #[inline]
    pub(super) fn remove_waiting(&mut self, id: u64) {
        if let Some(index) = self.waiting_index(id) {
            self.waiting.remove(index);
        }
    }

    /// Removes a notified waiter; returns whether it was one.
    #[inline]
    pub(super) fn remove_notified(&mut self, id: u64) -> bool {
        match self.notified_index(id) {
            Some(0) => self.notified.pop_front().is_some(),
            Some(index) => self.notified.remove(index).is_some(),
            None => false,
        }
    }

    #[inline]
    pub(super) fn remove_granted(&mut self, id: u64) {
        if let Ok(index) = self.granted.binary_search(&id) {
            self.granted.remove(index);
        }
    }

    /// Whether a waiter holds no grant (waiting or notified): an operation
    /// that completes now overtakes it.
    #[inline]
    pub(super) fn has_ungranted(&self) -> bool {
        !self.waiting.is_empty() || !self.notified.is_empty()
    }

    /// Whether a new item or free slot may have to be handed on: a waiter
    /// is waiting to be notified and fewer than `at_once` are, or
    /// the oldest waiter without a grant is due one.
    #[inline]
    pub(super) fn needs_settle(&self, limit: u64) -> bool {
        let notify = !self.waiting.is_empty() && self.notified.len() < self.at_once;
        #[cfg(asyncio_loom)]
        if crate::sync::mutant::on(crate::sync::mutant::Mutant::QueueSettleIgnoresDueNotified) {
            return notify;
        }
        notify || self.head_is_due(limit)
    }

    /// Whether another waiter may be notified of `free` free slots or
    /// available items: fewer than `at_once` are notified, and
    /// fewer than are free.
    #[inline]
    pub(super) fn may_notify(&self, free: usize) -> bool {
        let notified = self.notified.len();
        notified < self.notify_limit() && free > notified
    }

    /// How many waiters may be notified at a time now: `at_once`, except
    /// in a baton pass after an operation overtook the waiters, where one
    /// already on its way is enough. A running task that took an item (a
    /// slot) past the line is likely to come back for the next before a
    /// newly woken waiter runs, and the pass's wake-up lands in tokio's
    /// LIFO slot of the passing task's own worker, so it adds no
    /// parallelism: it would wake a task to nothing. Without overtakes
    /// (waiting consumers that each take one item and end, say) the pass
    /// tops the line up to `at_once` as before, so each worker has one
    /// woken waiter in hand.
    #[inline]
    fn notify_limit(&self) -> usize {
        if self.passing && self.overtaken_since_pass {
            #[cfg(asyncio_loom)]
            if crate::sync::mutant::on(crate::sync::mutant::Mutant::QueuePassAfterOvertakeWakesNone)
            {
                return 0;
            }
            1
        } else {
            self.at_once
        }
    }

    /// A notified waiter completed and passes the baton on: the settling
    /// that follows notifies at most [`notify_limit`](Self::notify_limit).
    pub(super) fn begin_pass(&mut self) {
        self.passing = true;
    }

    /// The pass is done: the overtakes before it are forgotten.
    pub(super) fn end_pass(&mut self) {
        if std::mem::take(&mut self.passing) {
            self.overtaken_since_pass = false;
        }
    }

    /// The oldest waiter that holds no grant.
    #[inline]
    pub(super) fn head(&self) -> Option<Head> {
        let waiting = self.waiting.front().map(|entry| Head {
            id: entry.id,
            waiting: true,
        });
        let notified = self.notified.front().map(|&id| Head { id, waiting: false });
        match (waiting, notified) {
            (Some(w), Some(n)) => Some(if w.id < n.id { w } else { n }),
            (w, n) => w.or(n),
        }
    }

    /// Whether the oldest waiter without a grant is due: `limit`
    /// operations overtook it since the oldest waiter was last served
    /// (always, with a limit of 0: strict order).
    #[inline]
    pub(super) fn head_is_due(&self, limit: u64) -> bool {
        self.overtakes >= limit && self.has_ungranted()
    }

    /// An operation completed (`me`: its own id if it waited, `None` if it
    /// never did). If it overtook an older waiter without a grant, counts
    /// it; if it was itself the oldest, the oldest was served: the count
    /// starts again. Returns whether it overtook.
    #[inline]
    pub(super) fn count_overtake(&mut self, me: Option<u64>) -> bool {
        let overtook = match me {
            None => self.has_ungranted(),
            Some(me) => self.head().is_some_and(|head| head.id < me),
        };
        if overtook {
            self.overtaken_since_pass |= me.is_none();
            self.overtakes += 1;
        } else if me.is_some() && !fault!(QueueServedOldestKeepsCount) {
            self.overtakes = 0;
        }
        overtook
    }

    /// A new operation (one that never waited) completed while a waiter of
    /// this list held no grant (the caller checked): it overtook, so the
    /// count goes up. Returns whether the oldest waiter is now due. The
    /// fast paths' inlined form of `count_overtake(None)` with
    /// `head_is_due`.
    #[inline]
    pub(super) fn count_new_overtake(&mut self, limit: u64) -> bool {
        self.overtaken_since_pass = true;
        self.overtakes += 1;
        self.overtakes >= limit
    }

    /// Grants the oldest waiter without a grant, if any, and returns its id
    /// and its waker if it was still waiting (a notified one was woken
    /// already).
    pub(super) fn grant_head(&mut self) -> Option<(u64, Option<Waker>)> {
        let head = self.head()?;
        self.overtakes = 0;
        let waker = if head.waiting {
            self.waiting.pop_front().map(|entry| entry.waker)
        } else {
            self.notified.pop_front();
            None
        };
        self.granted.push_back(head.id);
        Some((head.id, waker))
    }

    /// Notifies the first waiting waiter, if any: it is woken, and promised
    /// nothing.
    pub(super) fn notify_first(&mut self) -> Option<Waker> {
        let entry = self.waiting.pop_front()?;
        if self.notified.back().is_none_or(|&last| last < entry.id) {
            self.notified.push_back(entry.id);
        } else {
            let index = self
                .notified
                .partition_point(|&notified| notified < entry.id);
            self.notified.insert(index, entry.id);
        }
        Some(entry.waker)
    }

    /// Grants the first waiting waiter, if any, and returns its id and
    /// waker (a mutant's shortcut).
    #[cfg(asyncio_loom)]
    pub(super) fn grant_first(&mut self) -> Option<(u64, Waker)> {
        let entry = self.waiting.pop_front()?;
        self.granted.push_back(entry.id);
        Some((entry.id, entry.waker))
    }

    /// Removes the waiting waiters and returns their wakers.
    pub(super) fn take_waiting(&mut self) -> Vec<Waker> {
        self.waiting.drain(..).map(|entry| entry.waker).collect()
    }

    /// Removes every waiter (granted, notified or not) and returns the
    /// wakers of those still waiting (granted and notified ones were woken
    /// already).
    pub(super) fn remove_all(&mut self) -> Vec<Waker> {
        self.granted.clear();
        self.notified.clear();
        self.take_waiting()
    }
}

/// Wakers to wake once the lock is released: usually none or one, so the
/// first is kept inline and only more allocate.
#[derive(Default)]
pub(super) struct Wakers {
    pub(super) first: Option<Waker>,
    pub(super) more: Vec<Waker>,
}

impl Wakers {
    #[inline]
    pub(super) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.more.push(waker);
        }
    }

    #[inline]
    pub(super) fn push_some(&mut self, waker: Option<Waker>) {
        if let Some(waker) = waker {
            self.push(waker);
        }
    }

    #[inline]
    pub(super) fn extend(&mut self, other: Wakers) {
        if let Some(first) = other.first {
            self.push(first);
        }
        // `more` may be filled while `first` is empty (streams).
        if !other.more.is_empty() {
            self.more.extend(other.more);
        }
    }

    #[inline]
    pub(super) fn wake(self) {
        wake(self.first);
        wake_all(self.more);
    }
}

#[inline]
pub(super) fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

#[inline]
pub(super) fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}
