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
    Granted,
    /// Removed by a shutdown (or released, for joiners).
    Gone,
}

/// A waiter list. Ids come from one counter, so both parts stay sorted by
/// id, and every granted id is smaller than every waiting one (a grant takes
/// the oldest waiter). Deques keep their capacity, so a queue that blocks
/// and wakes in a loop does not allocate.
#[derive(Default)]
pub(super) struct WaitList {
    pub(super) waiting: VecDeque<(u64, Waker)>,
    pub(super) granted: VecDeque<u64>,
}

impl WaitList {
    pub(super) fn register(&mut self, waiter: &mut Waiter, next_id: &mut u64, cx: &Context<'_>) {
        let id = *next_id;
        *next_id += 1;
        self.waiting.push_back((id, cx.waker().clone()));
        waiter.id = Some(id);
    }

    #[inline]
    pub(super) fn waiting_index(&self, id: u64) -> Option<usize> {
        self.waiting
            .binary_search_by_key(&id, |(waiting, _)| *waiting)
            .ok()
    }

    #[inline]
    pub(super) fn status(&self, id: u64) -> Status {
        if self.granted.binary_search(&id).is_ok() {
            Status::Granted
        } else if self.waiting_index(id).is_some() {
            Status::Waiting
        } else {
            Status::Gone
        }
    }

    #[inline]
    pub(super) fn update_waker(&mut self, id: u64, cx: &Context<'_>) {
        if let Some(index) = self.waiting_index(id) {
            let waker = &mut self.waiting[index].1;
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

    #[inline]
    pub(super) fn remove_granted(&mut self, id: u64) {
        if let Ok(index) = self.granted.binary_search(&id) {
            self.granted.remove(index);
        }
    }

    /// Grants the first waiting waiter, if any, and returns its id and
    /// waker.
    #[inline]
    pub(super) fn grant_first(&mut self) -> Option<(u64, Waker)> {
        let (id, waker) = self.waiting.pop_front()?;
        self.granted.push_back(id);
        Some((id, waker))
    }

    /// Removes the waiting waiters and returns their wakers.
    pub(super) fn take_waiting(&mut self) -> Vec<Waker> {
        self.waiting.drain(..).map(|(_, waker)| waker).collect()
    }

    /// Removes every waiter (granted or not) and returns the wakers of those
    /// still waiting (granted ones were woken when granted).
    pub(super) fn remove_all(&mut self) -> Vec<Waker> {
        self.granted.clear();
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

    pub(super) fn extend(&mut self, other: Wakers) {
        if let Some(first) = other.first {
            self.push(first);
        }
        self.more.extend(other.more);
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
