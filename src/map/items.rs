//! Where the map's items publish their outcomes: one core per map, shared
//! by every item, and the wrapper each item runs in. Runtime-free; sync
//! types from `crate::sync` only, so the loom models in `loom-tests/` drive
//! this code.
//!
//! Implementer's notes. Nobody outside the map awaits an item, so an item
//! has no [`Task`](crate::Task) and no completion core of its own (an
//! allocation and four lock acquisitions per item). Its wrapper ([`Item`])
//! holds the map's [`ItemCore`] and the slot index the driver gave it, and
//! publishes its outcome *once* into the core's queue of finished items,
//! which wakes the driver; the driver takes the whole queue and registers
//! its waker in one step under the lock ([`ItemCore::drain`]), so a publish
//! that lands after the drain finds the waker: no lost wake-up. A publish
//! takes the waker, so the items that finish before the driver runs again
//! wake it once between them (the idea of `FuturesUnordered`'s ready queue).
//! The queue holds at most one entry per item in flight (plus the rare
//! displaced failure, see below), so it is bounded by the limit.
//!
//! The wrapper publishes exactly once: its drop guard publishes "cancelled"
//! only for an item whose future had not finished, when the runtime drops
//! it (an abort, or runtime shutdown). A second outcome for a slot would be
//! worse here than in a task's core, where the first one wins: the driver
//! reuses slots, so a stray outcome would land on another item. The item's
//! future is dropped *before* its outcome is published, so the driver knows
//! the item's destructors have run (fail-fast joins in-flight items). A
//! panic in those destructors is the item's outcome; the failure it displaces
//! is queued first as a [`Finished::Displaced`] entry, for the driver to
//! report under the item's id (the wrapper keeps no id: it stays at two
//! words beside the item's future, see [`lend`](crate::task::current::lend)
//! for why that matters).
//!
//! When the driver goes away (the stream is dropped) it [`close`](ItemCore::close)s
//! the core with the ids of the items still in its slots: what was queued
//! and what is published later is nobody's to read, so a panic goes to the
//! core's report function, and a value or an error is dropped quietly (the
//! map observed it on the item's behalf), a panic from its destructor
//! reported too.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[cfg(asyncio_loom)]
use crate::sync::mutant::{self, Mutant};
use crate::sync::{Arc, Mutex};
use crate::task::core::{discard, drop_catching, poll_catching, Report};
use crate::task::{TaskError, TaskId};

/// An item's outcome.
pub type Outcome<T, E> = Result<T, TaskError<E>>;

/// What an item queues for the driver.
#[derive(Debug)]
pub enum Finished<T, E> {
    /// The item's outcome: it has finished, and its future was dropped.
    Done(Outcome<T, E>),
    /// A failure (an error, or a first panic) that a panic in the item's
    /// destructor displaced from its outcome: nobody will see it in the
    /// item, so it is reported. Queued before the item's `Done`.
    Displaced(TaskError<E>),
}

/// The shared state of one map's items: the queue of finished items and the
/// driver's waker.
pub struct ItemCore<T, E> {
    report: Report<E>,
    state: Mutex<State<T, E>>,
}

struct State<T, E> {
    /// Finished items by slot index, in publishing order.
    queue: Vec<(usize, Finished<T, E>)>,
    waker: Option<Waker>,
    /// `Some` once the driver is gone: the ids of the items it left
    /// running, by slot index, for what they publish later.
    closed: Option<Vec<Option<TaskId>>>,
}

impl<T, E> std::fmt::Debug for ItemCore<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("ItemCore")
            .field("queued", &state.queue.len())
            .field("waiting", &state.waker.is_some())
            .field("closed", &state.closed.is_some())
            .finish()
    }
}

impl<T, E> ItemCore<T, E> {
    /// An empty core. `report` receives the failures nobody will read: the
    /// panics of items that finish after [`close`](ItemCore::close), and
    /// panics from the destructors of values dropped on nobody's behalf.
    pub fn new(report: Report<E>) -> Self {
        Self {
            report,
            state: Mutex::new(State {
                queue: Vec::new(),
                waker: None,
                closed: None,
            }),
        }
    }

    /// Item `index` queues `finished` and wakes the driver (or, once the
    /// driver is gone, hands it to nobody: see [`close`](ItemCore::close)).
    pub fn publish(&self, index: usize, finished: Finished<T, E>) {
        let mut state = self.state.lock();
        if let Some(ids) = &state.closed {
            let id = ids.get(index).copied().flatten();
            drop(state);
            self.unobservable(id, finished);
            return;
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::MapItemPublishSplitsClosedCheck) {
            drop(state);
            state = self.state.lock();
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::MapItemWakeBeforePush) {
            let waker = state.waker.take();
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
            self.state.lock().queue.push((index, finished));
            return;
        }
        state.queue.push((index, finished));
        let waker = state.waker.take();
        drop(state);
        if fault!(MapItemSkipWake) {
            return;
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The driver registers `waker` and takes every queued entry into
    /// `into` (which must be empty), in one step.
    pub fn drain(&self, waker: &Waker, into: &mut Vec<(usize, Finished<T, E>)>) {
        debug_assert!(into.is_empty(), "asyncio: the map's batch was not emptied");
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::MapItemDrainSplitsRegister) {
            std::mem::swap(&mut self.state.lock().queue, into);
        }
        let mut state = self.state.lock();
        match &state.waker {
            Some(current) if current.will_wake(waker) => {}
            #[cfg(asyncio_loom)]
            Some(_) if mutant::on(Mutant::MapItemDrainKeepsFirstWaker) => {}
            _ => state.waker = Some(waker.clone()),
        }
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::MapItemDrainSplitsRegister) {
            return;
        }
        std::mem::swap(&mut state.queue, into);
    }

    /// The driver is gone for good. `ids` names the items it left running,
    /// by slot index. What they queued and what they publish from now on is
    /// nobody's to read: a panic is reported under the item's id, a value
    /// or an error is dropped quietly (a panic from its destructor is
    /// reported).
    pub fn close(&self, ids: Vec<Option<TaskId>>) {
        let mut state = self.state.lock();
        let queue = std::mem::take(&mut state.queue);
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::MapItemCloseSplitsFlag) {
            drop(state);
            state = self.state.lock();
        }
        let waker = state.waker.take();
        let queue_ids: Vec<Option<TaskId>> = queue
            .iter()
            .map(|(index, _)| ids.get(*index).copied().flatten())
            .collect();
        state.closed = Some(ids);
        drop(state);
        drop(waker);
        if fault!(MapItemCloseForgetsQueued) {
            return;
        }
        for ((_, finished), id) in queue.into_iter().zip(queue_ids) {
            self.unobservable(id, finished);
        }
    }

    /// Hands an entry nobody will read to `report` (a panic), or drops it.
    fn unobservable(&self, id: Option<TaskId>, finished: Finished<T, E>) {
        // Every item the driver left running is in its list of ids; the
        // fallback keeps a panic from being lost if that were ever not so.
        let id = id.unwrap_or_else(|| TaskId::from_raw(0));
        match finished {
            Finished::Done(Err(panic @ TaskError::Panicked(_)))
            | Finished::Displaced(panic @ TaskError::Panicked(_)) => (self.report)(id, panic),
            other => discard(self.report, id, other),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future the runtime runs for a map item: polls the item's future,
    /// catches its panic, drops the future, and publishes the outcome into
    /// the map's core under the item's slot index.
    ///
    /// When the runtime drops it before it finished (an abort, runtime
    /// shutdown), the item's future is dropped first and "cancelled" is
    /// published, or the panic of the future's destructor.
    ///
    /// `current_task()` is `None` inside it: it lends no handle, as a
    /// task group's `start_soon` child lends none.
    #[must_use = "futures do nothing unless polled"]
    pub struct Item<F, T, E> {
        #[pin]
        future: Option<F>,
        core: Arc<ItemCore<T, E>>,
        index: usize,
    }

    impl<F, T, E> PinnedDrop for Item<F, T, E> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.future.is_none() {
                // Published already. (The fault is the bug this guards
                // against: a drop that publishes "cancelled" whether or not
                // the item finished.)
                if fault!(MapItemDropAlwaysPublishes) {
                    this.core.publish(*this.index, Finished::Done(Err(TaskError::Cancelled)));
                }
                return;
            }
            let outcome = match drop_catching(this.future) {
                Some(panic) => Err(TaskError::Panicked(panic)),
                None => Err(TaskError::Cancelled),
            };
            this.core.publish(*this.index, Finished::Done(outcome));
        }
    }
}

impl<F, T, E> std::fmt::Debug for Item<F, T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Item")
            .field("index", &self.index)
            .field("finished", &self.future.is_none())
            .finish()
    }
}

impl<F, T, E> Item<F, T, E> {
    /// Wraps `future`, the item in slot `index`, which will publish into
    /// `core`.
    pub fn new(future: F, core: Arc<ItemCore<T, E>>, index: usize) -> Self {
        Self {
            future: Some(future),
            core,
            index,
        }
    }
}

impl<F, T, E> Future for Item<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let mut outcome = match std::task::ready!(poll_catching(future, cx)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(TaskError::Failed(error)),
            Err(panic) => Err(TaskError::Panicked(panic)),
        };
        #[cfg(asyncio_loom)]
        if mutant::on(Mutant::MapItemPublishBeforeDrop) {
            this.core.publish(*this.index, Finished::Done(outcome));
            this.future.set(None);
            return Poll::Ready(());
        }
        // The future first, so that whoever sees the outcome knows the
        // item's destructors have run. A panic there is the item's; what it
        // displaces is not lost: a failure is queued first for the driver
        // to report, a value is dropped here (and a panic from its own
        // destructor queued too).
        if let Some(panic) = drop_catching(this.future.as_mut()) {
            let panic = TaskError::Panicked(panic);
            let core = &**this.core;
            let index = *this.index;
            if let Err(TaskError::Panicked(_)) = outcome {
                // The first panic stays the item's.
                core.publish(index, Finished::Displaced(panic));
            } else {
                match std::mem::replace(&mut outcome, Err(panic)) {
                    Err(error) => core.publish(index, Finished::Displaced(error)),
                    Ok(value) => {
                        let dropped =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                                drop(value)
                            }));
                        if let Err(payload) = dropped {
                            let panic = TaskError::Panicked(crate::task::Panic::new(payload));
                            core.publish(index, Finished::Displaced(panic));
                        }
                    }
                }
            }
        }
        this.core.publish(*this.index, Finished::Done(outcome));
        Poll::Ready(())
    }
}
