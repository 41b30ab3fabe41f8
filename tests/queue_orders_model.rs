//! A model-based property test of `LifoQueue` and `PriorityQueue` (issue
//! 16, point 4): the orders other than first-in-first-out, in strict order
//! (overtake limit 0), at limits 1–3 and at the default limit, bounded and
//! unbounded. `tests/queue.rs` has the first-in-first-out model.
//!
//! The model's rules come from the queue's documentation (*Fairness* on
//! `JoinableQueue`, and the `full` / `empty` / `qsize` / `waiting_*`
//! docs), not from its code:
//!
//! - a get takes the newest item (LIFO) or the smallest (priority); a
//!   woken get is promised *an* item, not a particular one, so every get,
//!   granted or not, takes by the order's rule when it runs;
//! - a running put or get completes at once if it can, overtaking the
//!   older waiters; a freed slot or a new item notifies the oldest waiting
//!   waiter, keeping nothing for it; a notified waiter that finds nothing
//!   waits again at its old place; a dropped one passes its turn on;
//! - after `limit` overtakes (always, at limit 0) the oldest waiter is
//!   granted the next slot or item; a waiter with `n` unserved waiters ahead
//!   of it is overtaken at most `(n + 1) × limit` times;
//! - there is no line to hold a place in: a granted put's slot is counted
//!   apart, and until that put has inserted no other put inserts (not even
//!   a notified one), `put_nowait` says `Full`, `full()` is true, and no
//!   other putter is granted or notified; once it has inserted (or was
//!   dropped), the next due putter is granted, one at a time, so that
//!   granted putters insert in the order they began waiting;
//! - shutdown fails every put (granted ones too, handing the item back);
//!   gets drain the buffer, then fail, and the gets still waiting then are
//!   woken; an immediate shutdown drops the buffered items (and lowers the
//!   unfinished count by as many), and the gets promised one fail.
//!
//! After every operation the test checks, beside the operation's own
//! outcome: for every pending put and get, that it was woken since its last
//! poll exactly when the model says it was granted, notified or failed;
//! `qsize`, `empty`, `full`, `waiting_putters`, `waiting_getters`,
//! `is_shut_down`, `unfinished_tasks`, and whether a new `join` is ready.
//!
//! The putters' rule was found wrong by this model, in the code: a get
//! that freed a slot while a woken put had not inserted granted it to a
//! later put, which could then insert first (a LIFO get saw the older
//! put's item first; equal priorities came out out of order). The queue
//! now grants one slot at a time where it holds no place; the tests
//! `lifo_a_later_put_does_not_insert_before_the_woken_put` and
//! `priority_equal_items_come_out_in_the_order_their_puts_began` pin it.

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::task::Poll;

use asyncio::queue::{
    GetError, Guarded, JoinableQueue, Lifo, Order, Priority, Put, PutError, TaskDoneError,
    TryGetError, TryPutError, DEFAULT_OVERTAKE_LIMIT,
};
use futures::FutureExt;
use proptest::prelude::*;

mod common;
use common::waiter_line::{may_notify, Line, Stand, Waiter};
use common::Probe;

/// A pending future, its probe, and the probe's wake count at its last poll.
struct Pending<F> {
    future: F,
    probe: Probe,
    seen: usize,
}

impl<F: Future + Unpin> Pending<F> {
    /// Whether it was woken since its last poll.
    fn woken(&self) -> bool {
        self.probe.wakes() > self.seen
    }

    /// Polls it; returns whether it was woken since the last poll, and the
    /// outcome.
    fn poll(&mut self) -> (bool, Poll<F::Output>) {
        let woken = self.woken();
        let outcome = self.probe.poll(&mut self.future);
        self.seen = self.probe.wakes();
        (woken, outcome)
    }
}

/// What a pending get or `get_guarded` returns: the item, and its guard.
type Got = (u32, Option<Guarded<u32>>);

/// A pending get or `get_guarded`.
type AnyGet<'a> = Pin<Box<dyn Future<Output = Result<Got, GetError>> + 'a>>;

fn any_get<O>(queue: &JoinableQueue<u32, O>, guarded: bool) -> AnyGet<'_> {
    if guarded {
        Box::pin(
            queue
                .get_guarded()
                .map(|got| got.map(|guard| (*guard, Some(guard)))),
        )
    } else {
        Box::pin(queue.get().map(|got| got.map(|item| (item, None))))
    }
}

/// Keeps the guard of a completed `get_guarded` (it holds an unfinished
/// unit only if one is left for it), and returns the outcome's item.
fn keep_guard(
    model: &mut Model,
    guards: &mut Vec<(Guarded<u32>, bool)>,
    outcome: Poll<Result<Got, GetError>>,
) -> Poll<Result<u32, GetError>> {
    outcome.map(|got| {
        got.map(|(item, guard)| {
            if let Some(guard) = guard {
                let counted = model.spendable > 0;
                if counted {
                    model.spendable -= 1;
                    model.guarded += 1;
                }
                guards.push((guard, counted));
            }
            item
        })
    })
}

/// Starts a future with a fresh probe and polls it once.
fn start<F: Future + Unpin>(future: F) -> (Pending<F>, Poll<F::Output>) {
    let mut pending = Pending {
        future,
        probe: Probe::new(),
        seen: 0,
    };
    let (_, outcome) = pending.poll();
    (pending, outcome)
}

#[derive(Debug, Clone)]
enum Op {
    /// `put_nowait` of a new item whose priority is the key.
    PutNowait(u8),
    GetNowait,
    /// Start a put (polled once, kept pending if it blocks).
    StartPut(u8),
    /// Start a get, or a `get_guarded` if true (polled once, kept pending
    /// if it blocks).
    StartGet(bool),
    /// Poll the i-th pending put / get (modulo their number).
    PollPut(usize),
    PollGet(usize),
    /// Drop (cancel) the i-th pending put / get.
    CancelPut(usize),
    CancelGet(usize),
    TaskDone,
    Shutdown(bool),
    /// Take an item with a guard, and keep the guard.
    GetGuardedNowait,
    /// Drop the i-th guard (marks its item done).
    DropGuard(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u8>().prop_map(Op::PutNowait),
        3 => Just(Op::GetNowait),
        3 => any::<u8>().prop_map(Op::StartPut),
        3 => any::<bool>().prop_map(Op::StartGet),
        2 => any::<usize>().prop_map(Op::PollPut),
        2 => any::<usize>().prop_map(Op::PollGet),
        2 => any::<usize>().prop_map(Op::CancelPut),
        2 => any::<usize>().prop_map(Op::CancelGet),
        2 => Just(Op::TaskDone),
        2 => Just(Op::GetGuardedNowait),
        2 => any::<usize>().prop_map(Op::DropGuard),
        1 => any::<bool>().prop_map(Op::Shutdown),
    ]
}

/// Which item a get takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// The newest.
    Lifo,
    /// The smallest.
    Priority,
}

/// The sequential model.
struct Model {
    kind: Kind,
    /// The items, in the order they went in.
    items: Vec<u32>,
    /// `None`: unbounded.
    capacity: Option<usize>,
    limit: u64,
    /// Unfinished units a manual `task_done` may spend.
    spendable: usize,
    /// Unfinished units held by guards.
    guarded: usize,
    shutdown: bool,
    next_id: u64,
    putters: Line,
    getters: Line,
}

impl Model {
    /// Slots holding no item and not promised to a granted putter.
    fn free_slots(&self) -> usize {
        self.capacity.map_or(usize::MAX, |capacity| {
            capacity - self.items.len() - self.putters.count(Stand::Granted)
        })
    }

    /// Whether a put that runs now (new or notified) inserts: a slot is
    /// free, and no granted putter is still to insert (its item must go in
    /// first).
    fn put_may_insert(&self) -> bool {
        self.putters.count(Stand::Granted) == 0 && self.free_slots() > 0
    }

    /// Items a get that runs now (new or notified) may take: those not
    /// promised to a granted getter.
    fn available(&self) -> usize {
        self.items.len() - self.getters.count(Stand::Granted)
    }

    fn get_fails(&self) -> bool {
        self.shutdown && self.items.is_empty()
    }

    fn insert(&mut self, item: u32) {
        self.items.push(item);
        self.spendable += 1;
        // A new item: the next settle hands it on as such, not as a pass.
        self.getters.unshort();
    }

    /// Takes the item the order's rule names.
    fn take(&mut self) -> u32 {
        let index = match self.kind {
            Kind::Lifo => self.items.len() - 1,
            Kind::Priority => {
                let smallest = self.items.iter().min().expect("an item to take");
                self.items.iter().position(|item| item == smallest).unwrap()
            }
        };
        self.items.remove(index)
    }

    /// The policy, applied after every operation. Putters: while a slot is
    /// free and their oldest unserved one is due, grant it one; then, if no
    /// granted putter is still to insert (until then nobody else may), notify
    /// waiting ones, oldest first, while more slots are free than putters
    /// were notified and none is (the baton). Getters: the same with available items, and once a
    /// shut-down queue is drained, the waiting ones are woken to fail.
    fn settle(&mut self) {
        if !self.shutdown {
            // One grant at a time: no grant while a granted putter is still
            // to insert.
            while self.putters.count(Stand::Granted) == 0
                && self.free_slots() > 0
                && self.putters.head_is_due(self.limit)
            {
                self.putters.grant_head();
            }
            if self.putters.count(Stand::Granted) == 0 {
                while may_notify(&self.putters, self.free_slots()) {
                    if !self.putters.notify_first() {
                        break;
                    }
                }
            }
        }
        while self.available() > 0 && self.getters.head_is_due(self.limit) {
            self.getters.grant_head();
        }
        while may_notify(&self.getters, self.available()) {
            if !self.getters.notify_first() {
                break;
            }
        }
        if self.get_fails() {
            for w in &mut self.getters.waiters {
                if w.stand == Stand::Waiting {
                    w.stand = Stand::Failed;
                }
            }
        }
    }
}

/// What a get that completes at once must return, by the model (and the
/// model's bookkeeping of the overtakes it made).
fn expect_get(model: &mut Model, bound: u64) -> Result<Result<u32, TryGetError>, TestCaseError> {
    Ok(if model.available() > 0 {
        prop_assert!(
            model.getters.complete(None, bound),
            "a get overtaken past the bound"
        );
        Ok(model.take())
    } else if model.get_fails() {
        Err(TryGetError::ShutDown)
    } else {
        Err(TryGetError::Empty)
    })
}

fn run<O: Order<u32>>(
    kind: Kind,
    (limit, at_once): (usize, usize),
    capacity: Option<usize>,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let queue = JoinableQueue::<u32, O>::with_fairness(
        capacity.map(|n| NonZeroUsize::new(n).unwrap()),
        limit,
        NonZeroUsize::new(at_once).unwrap(),
    );
    let mut model = Model {
        kind,
        items: Vec::new(),
        capacity,
        limit: limit as u64,
        spendable: 0,
        guarded: 0,
        shutdown: false,
        next_id: 0,
        putters: Line::woken_at_once(at_once),
        getters: Line::woken_at_once(at_once),
    };
    let bound = limit as u64;
    // Aligned with `model.putters.waiters` and `model.getters.waiters`.
    let mut puts: Vec<Pending<Put<'_, u32>>> = Vec::new();
    let mut gets: Vec<Pending<AnyGet<'_>>> = Vec::new();
    let mut guards: Vec<(Guarded<u32>, bool)> = Vec::new();
    // Items are distinct: the key (the priority) in the high bits, a
    // sequence number in the low ones.
    let mut seq = 0u32;
    let mut item = |key: u8| {
        seq += 1;
        (u32::from(key) << 16) | seq
    };
    for (step, op) in ops.into_iter().enumerate() {
        // What is free before the operation: more after it (an item made
        // available, a slot given back) is handed on as new, not as a pass.
        let (available, free) = (model.available(), model.free_slots());
        match op {
            Op::PutNowait(key) => {
                let item = item(key);
                let expected = if model.shutdown {
                    Err(TryPutError::ShutDown(item))
                } else if model.put_may_insert() {
                    model.insert(item);
                    prop_assert!(
                        model.putters.complete(None, bound),
                        "a put overtaken past the bound"
                    );
                    Ok(())
                } else {
                    Err(TryPutError::Full(item))
                };
                prop_assert_eq!(queue.put_nowait(item), expected, "step {}", step);
            }
            Op::GetNowait => {
                let expected = expect_get(&mut model, bound)?;
                prop_assert_eq!(queue.get_nowait(), expected, "step {}", step);
            }
            Op::StartPut(key) => {
                let item = item(key);
                let (put, outcome) = start(queue.put(item));
                if model.shutdown {
                    prop_assert_eq!(outcome, Poll::Ready(Err(PutError::ShutDown(item))));
                } else if model.put_may_insert() {
                    model.insert(item);
                    prop_assert!(
                        model.putters.complete(None, bound),
                        "a put overtaken past the bound"
                    );
                    prop_assert_eq!(outcome, Poll::Ready(Ok(())), "step {}", step);
                } else {
                    prop_assert!(outcome.is_pending(), "step {}: the put did not wait", step);
                    model.putters.register(item, model.next_id);
                    model.next_id += 1;
                    puts.push(put);
                }
            }
            Op::StartGet(guarded) => {
                let (get, outcome) = start(any_get(&queue, guarded));
                let outcome = keep_guard(&mut model, &mut guards, outcome);
                match expect_get(&mut model, bound)? {
                    Ok(item) => prop_assert_eq!(outcome, Poll::Ready(Ok(item)), "step {}", step),
                    Err(TryGetError::ShutDown) => {
                        prop_assert_eq!(outcome, Poll::Ready(Err(GetError::ShutDown)))
                    }
                    // Empty (the only other error).
                    Err(_) => {
                        prop_assert!(outcome.is_pending(), "step {}: the get did not wait", step);
                        model.getters.register(0, model.next_id);
                        model.next_id += 1;
                        gets.push(get);
                    }
                }
            }
            Op::PollPut(i) if !puts.is_empty() => {
                let i = i % puts.len();
                let Waiter {
                    item, id, stand, ..
                } = model.putters.waiters[i].clone();
                let (woken, outcome) = puts[i].poll();
                let done = match stand {
                    Stand::Failed => {
                        prop_assert!(woken, "step {}: the shutdown did not wake a put", step);
                        prop_assert_eq!(outcome, Poll::Ready(Err(PutError::ShutDown(item))));
                        true
                    }
                    Stand::Granted => {
                        prop_assert!(woken, "step {}: a granted putter was not woken", step);
                        prop_assert_eq!(outcome, Poll::Ready(Ok(())), "step {}", step);
                        // Its item goes in now, into the slot kept for it,
                        // and with its grant resolved the slots go to the
                        // putters.
                        model.insert(item);
                        model.putters.unshort();
                        true
                    }
                    Stand::Notified if model.put_may_insert() => {
                        prop_assert!(woken, "step {}: a notified putter was not woken", step);
                        prop_assert_eq!(outcome, Poll::Ready(Ok(())), "step {}", step);
                        model.insert(item);
                        model.putters.waiters.remove(i);
                        prop_assert!(
                            model.putters.complete(Some(id), bound),
                            "a put overtaken past the bound"
                        );
                        model.putters.pass();
                        drop(puts.remove(i));
                        false
                    }
                    Stand::Notified => {
                        // It keeps its place (and its count).
                        prop_assert!(woken, "step {}: a notified putter was not woken", step);
                        prop_assert!(outcome.is_pending(), "step {}: a notified put ended", step);
                        model.putters.waiters[i].stand = Stand::Waiting;
                        false
                    }
                    Stand::Waiting => {
                        prop_assert!(outcome.is_pending(), "step {}: a waiting put ended", step);
                        false
                    }
                };
                if done {
                    drop(puts.remove(i));
                    model.putters.waiters.remove(i);
                }
            }
            Op::PollGet(i) if !gets.is_empty() => {
                let i = i % gets.len();
                let Waiter { id, stand, .. } = model.getters.waiters[i].clone();
                let (woken, outcome) = gets[i].poll();
                let outcome = keep_guard(&mut model, &mut guards, outcome);
                let done = match stand {
                    Stand::Granted => {
                        prop_assert!(woken, "step {}: a granted getter was not woken", step);
                        // Promised an item, not a particular one.
                        let item = model.take();
                        prop_assert_eq!(outcome, Poll::Ready(Ok(item)), "step {}", step);
                        true
                    }
                    Stand::Notified if model.available() > 0 => {
                        prop_assert!(woken, "step {}: a notified getter was not woken", step);
                        model.getters.waiters.remove(i);
                        prop_assert!(
                            model.getters.complete(Some(id), bound),
                            "a get overtaken past the bound"
                        );
                        model.getters.pass();
                        let item = model.take();
                        prop_assert_eq!(outcome, Poll::Ready(Ok(item)), "step {}", step);
                        drop(gets.remove(i));
                        false
                    }
                    Stand::Failed | Stand::Notified if model.get_fails() => {
                        prop_assert!(woken, "step {}: a failing get was not woken", step);
                        prop_assert_eq!(outcome, Poll::Ready(Err(GetError::ShutDown)));
                        true
                    }
                    Stand::Notified => {
                        prop_assert!(woken, "step {}: a notified getter was not woken", step);
                        prop_assert!(outcome.is_pending(), "step {}: a notified get ended", step);
                        model.getters.waiters[i].stand = Stand::Waiting;
                        false
                    }
                    Stand::Waiting | Stand::Failed => {
                        prop_assert!(outcome.is_pending(), "step {}: a waiting get ended", step);
                        false
                    }
                };
                if done {
                    drop(gets.remove(i));
                    model.getters.waiters.remove(i);
                }
            }
            Op::CancelPut(i) if !puts.is_empty() => {
                // A granted putter's slot passes on with the next settle.
                let i = i % puts.len();
                drop(puts.remove(i));
                if model.putters.waiters.remove(i).stand != Stand::Waiting {
                    model.putters.unshort();
                }
            }
            Op::CancelGet(i) if !gets.is_empty() => {
                // A granted getter's item, or a notified one's turn, passes
                // on with the next settle.
                let i = i % gets.len();
                drop(gets.remove(i));
                if model.getters.waiters.remove(i).stand != Stand::Waiting {
                    model.getters.unshort();
                }
            }
            Op::TaskDone => {
                let expected = if model.spendable > 0 {
                    model.spendable -= 1;
                    Ok(())
                } else {
                    Err(TaskDoneError::TooManyCalls)
                };
                prop_assert_eq!(queue.task_done(), expected, "step {}", step);
            }
            Op::Shutdown(immediate) => {
                if immediate {
                    queue.shutdown_immediate();
                } else {
                    queue.shutdown();
                }
                model.shutdown = true;
                if immediate {
                    let discarded = std::mem::take(&mut model.items).len();
                    model.spendable -= discarded.min(model.spendable);
                    for w in &mut model.getters.waiters {
                        if w.stand == Stand::Granted {
                            w.stand = Stand::Failed;
                        }
                    }
                }
                for w in &mut model.putters.waiters {
                    w.stand = Stand::Failed;
                }
            }
            Op::GetGuardedNowait => {
                let expected = expect_get(&mut model, bound)?;
                match queue.get_guarded_nowait() {
                    Ok(guard) => {
                        let item = *guard;
                        let got = Poll::Ready(Ok((item, Some(guard))));
                        let _ = keep_guard(&mut model, &mut guards, got);
                        prop_assert_eq!(Ok(item), expected, "step {}", step);
                    }
                    Err(error) => prop_assert_eq!(Err(error), expected, "step {}", step),
                }
            }
            Op::DropGuard(i) if !guards.is_empty() => {
                let (_guard, counted) = guards.remove(i % guards.len());
                if counted {
                    model.guarded -= 1;
                }
            }
            Op::PollPut(_)
            | Op::PollGet(_)
            | Op::CancelPut(_)
            | Op::CancelGet(_)
            | Op::DropGuard(_) => {}
        }
        if model.available() > available {
            model.getters.unshort();
        }
        if model.free_slots() > free {
            model.putters.unshort();
        }
        model.settle();
        check(&queue, &model, &puts, &gets, step)?;
    }
    // Nothing hangs: after a shutdown every pending operation ends.
    queue.shutdown();
    for mut put in puts {
        let (woken, outcome) = put.poll();
        prop_assert!(woken, "a put was not woken by the shutdown");
        prop_assert!(matches!(outcome, Poll::Ready(Err(PutError::ShutDown(_)))));
    }
    // A get may wait for a promised item to be taken or passed on
    // (behaviour 122): poll in rounds, each must end at least one, and a get
    // that ends must have been woken.
    while !gets.is_empty() {
        let before = gets.len();
        let mut unwoken = 0;
        gets.retain_mut(|get| {
            let (woken, outcome) = get.poll();
            if outcome.is_ready() && !woken {
                unwoken += 1;
            }
            outcome.is_pending()
        });
        prop_assert_eq!(unwoken, 0, "a get ended without being woken");
        prop_assert!(gets.len() < before, "gets still pending after shutdown");
    }
    Ok(())
}

/// The checks after every operation.
fn check<O: Order<u32>>(
    queue: &JoinableQueue<u32, O>,
    model: &Model,
    puts: &[Pending<Put<'_, u32>>],
    gets: &[Pending<AnyGet<'_>>],
    step: usize,
) -> Result<(), TestCaseError> {
    // Woken since the last poll exactly when there is something to do.
    for (put, w) in puts.iter().zip(&model.putters.waiters) {
        prop_assert_eq!(
            put.woken(),
            w.stand != Stand::Waiting,
            "step {}: a put {:?} (woken since its last poll?)",
            step,
            w
        );
    }
    for (get, w) in gets.iter().zip(&model.getters.waiters) {
        prop_assert_eq!(
            get.woken(),
            w.stand != Stand::Waiting,
            "step {}: a get {:?} (woken since its last poll?)",
            step,
            w
        );
    }
    prop_assert_eq!(queue.qsize(), model.items.len(), "step {}: qsize", step);
    prop_assert_eq!(
        queue.empty(),
        model.available() == 0,
        "step {}: empty",
        step
    );
    prop_assert_eq!(queue.full(), !model.put_may_insert(), "step {}: full", step);
    prop_assert_eq!(queue.is_shut_down(), model.shutdown);
    prop_assert_eq!(
        queue.waiting_putters(),
        model.putters.unserved(),
        "step {}: waiting_putters",
        step
    );
    prop_assert_eq!(
        queue.waiting_getters(),
        model.getters.unserved(),
        "step {}: waiting_getters",
        step
    );
    let unfinished = model.spendable + model.guarded;
    prop_assert_eq!(queue.unfinished_tasks(), unfinished, "step {}", step);
    let mut join = queue.join();
    let joined = Probe::new().poll(&mut join).is_ready();
    prop_assert_eq!(joined, unfinished == 0, "step {}: join", step);
    Ok(())
}

/// A capacity of 1 to 3, or unbounded (`None`) one time in five.
fn capacity() -> impl Strategy<Value = Option<usize>> {
    proptest::option::weighted(0.8, 1usize..4)
}

fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 1..max)
}

proptest! {
    // Capped as the first-in-first-out model's are (64 cases each).
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Strict order (`bounded_strict`, `unbounded_strict`): nobody is ever
    /// overtaken.
    #[test]
    fn strict_lifo_queue_matches_the_sequential_model(capacity in capacity(), ops in ops(60)) {
        run::<Lifo>(Kind::Lifo, (0, 1), capacity, ops)?;
    }

    #[test]
    fn strict_priority_queue_matches_the_sequential_model(capacity in capacity(), ops in ops(60)) {
        run::<Priority>(Kind::Priority, (0, 1), capacity, ops)?;
    }

    /// Eventual fairness with a small limit, so the bound is reached within
    /// a case.
    #[test]
    fn fair_lifo_queue_matches_the_sequential_model(
        limit in 1usize..4,
        at_once in 1usize..4,
        capacity in capacity(),
        ops in ops(80),
    ) {
        run::<Lifo>(Kind::Lifo, (limit, at_once), capacity, ops)?;
    }

    #[test]
    fn fair_priority_queue_matches_the_sequential_model(
        limit in 1usize..4,
        at_once in 1usize..4,
        capacity in capacity(),
        ops in ops(80),
    ) {
        run::<Priority>(Kind::Priority, (limit, at_once), capacity, ops)?;
    }

    /// The default limit, as `LifoQueue::bounded` and
    /// `PriorityQueue::bounded` build them.
    #[test]
    fn default_lifo_queue_matches_the_sequential_model(
        at_once in 1usize..4,
        capacity in capacity(),
        ops in ops(80),
    ) {
        run::<Lifo>(Kind::Lifo, (DEFAULT_OVERTAKE_LIMIT, at_once), capacity, ops)?;
    }

    #[test]
    fn default_priority_queue_matches_the_sequential_model(
        at_once in 1usize..4,
        capacity in capacity(),
        ops in ops(80),
    ) {
        run::<Priority>(Kind::Priority, (DEFAULT_OVERTAKE_LIMIT, at_once), capacity, ops)?;
    }
}

/// Regression (found by this model, issue 16 point 4): *Fairness* on
/// `JoinableQueue` says that in a `LifoQueue` or `PriorityQueue` "later
/// puts wait until the woken put has inserted", and `full()` that "no slot
/// is free until such a putter has inserted". A get that freed a slot while
/// a woken put had not inserted yet granted that slot to a later blocked
/// put at once, which could then insert first: 5 went in before 4, so a
/// LIFO get saw the older put's item first.
#[test]
fn lifo_a_later_put_does_not_insert_before_the_woken_put() {
    let queue = asyncio::LifoQueue::bounded_strict(NonZeroUsize::new(3).unwrap());
    for n in 1..=3 {
        queue.put_nowait(n).unwrap();
    }
    let (mut put4, _) = start(queue.put(4));
    assert_eq!(queue.get_nowait(), Ok(3)); // the slot is granted to 4
    assert_eq!(queue.get_nowait(), Ok(2));
    let (mut put5, outcome) = start(queue.put(5));
    assert!(outcome.is_pending(), "4 has not inserted yet");
    assert_eq!(queue.get_nowait(), Ok(1));
    // 5 is a later put: whatever it was told, it must not go in before 4.
    let (_, put5_outcome) = put5.poll();
    let (_, put4_outcome) = put4.poll();
    assert_eq!(put4_outcome, Poll::Ready(Ok(())));
    if put5_outcome.is_pending() {
        let (_, outcome) = put5.poll();
        assert_eq!(outcome, Poll::Ready(Ok(())));
    }
    assert_eq!(
        queue.get_nowait(),
        Ok(5),
        "the later put went in before the woken one"
    );
    assert_eq!(queue.get_nowait(), Ok(4));
}

/// A job whose order is its priority only, so equal priorities show which
/// one a `PriorityQueue` hands out first.
#[derive(Debug, Clone, Copy)]
struct Job {
    priority: u8,
    id: u32,
}

impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.priority == other.priority
    }
}

impl Eq for Job {}

impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Job {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.priority.cmp(&other.priority)
    }
}

/// The same regression in a `PriorityQueue`, where it broke "among equal
/// items the one put first": 4 began first, but 5 went in first and came
/// out first.
#[test]
fn priority_equal_items_come_out_in_the_order_their_puts_began() {
    let job = |id| Job { priority: 0, id };
    let queue = asyncio::PriorityQueue::bounded_strict(NonZeroUsize::new(3).unwrap());
    for id in 1..=3 {
        queue.put_nowait(job(id)).unwrap();
    }
    let (mut put4, _) = start(queue.put(job(4)));
    assert_eq!(queue.get_nowait().map(|j| j.id), Ok(1)); // granted to 4
    assert_eq!(queue.get_nowait().map(|j| j.id), Ok(2));
    let (mut put5, outcome) = start(queue.put(job(5)));
    assert!(outcome.is_pending(), "4 has not inserted yet");
    assert_eq!(queue.get_nowait().map(|j| j.id), Ok(3));
    let (_, put5_outcome) = put5.poll();
    let (_, put4_outcome) = put4.poll();
    assert!(put4_outcome.is_ready());
    if put5_outcome.is_pending() {
        assert!(put5.poll().1.is_ready());
    }
    assert_eq!(
        queue.get_nowait().map(|j| j.id),
        Ok(4),
        "the later put went in before the woken one"
    );
    assert_eq!(queue.get_nowait().map(|j| j.id), Ok(5));
}
