//! The queue's fairness rule as the model-based proptests model it (the
//! first-in-first-out model in `tests/queue.rs`, the LIFO / priority one
//! in `tests/queue_orders_model.rs`): one line of waiters per end, where
//! each stands, and the overtake counting and bound of eventual fairness.
//! Derived from the queue's documentation, not from its code.

/// Where a pending put or get stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stand {
    /// Asleep in line, not woken.
    Waiting,
    /// Woken with nothing kept for it: it takes a slot or an item if one
    /// is free when it runs, else waits again at its place.
    Notified,
    /// Woken with a slot or an item kept for it.
    Granted,
    /// Woken to fail (a put after a shutdown; in the LIFO / priority model
    /// also a get once a shut-down queue is drained), or served already.
    Failed,
}

/// Whether the next waiting waiter of `line` is to be notified, with `free`
/// slots or items free: fewer than the line's limit are notified (the
/// baton, in the queue's fairness docs: `at_once`, as many as the runtime
/// has workers, which `Queue::with_fairness` sets; one after a pass that
/// followed an overtake, see [`Line::pass`]), and fewer than are free.
/// Applied after every operation, this is also the baton passing on when a
/// notified waiter completes or waits again.
pub(crate) fn may_notify(line: &Line, free: usize) -> bool {
    let notified = line.count(Stand::Notified);
    let limit = if line.short { 1 } else { line.at_once };
    notified < limit && free > notified
}

/// Whether a waiter in `stand` is still waiting to be served.
pub(crate) fn unserved(stand: Stand) -> bool {
    matches!(stand, Stand::Waiting | Stand::Notified)
}

/// A pending put or get in the model: its item (puts), its place in line
/// (`id`), how many unserved waiters were ahead of it when it began
/// waiting, where it stands, and how many operations completed before it
/// while it was unserved and older than them (counted here, independently
/// of the line's counter).
#[derive(Debug, Clone)]
pub(crate) struct Waiter {
    pub(crate) item: u32,
    pub(crate) id: u64,
    pub(crate) ahead: u64,
    pub(crate) stand: Stand,
    pub(crate) overtaken: u64,
}

/// One line of waiters, in arrival order, and its overtake counter: the
/// operations that overtook an unserved waiter since the oldest was last
/// served.
#[derive(Debug)]
pub(crate) struct Line {
    pub(crate) waiters: Vec<Waiter>,
    pub(crate) overtakes: u64,
    /// How many of its waiters are notified at a time.
    pub(crate) at_once: usize,
    /// Whether an operation that never waited overtook the line since the
    /// last pass.
    pub(crate) overtaken_since_pass: bool,
    /// Whether the line was last settled by a pass that followed an
    /// overtake: one notified waiter is enough then, until something is
    /// handed to the line again ([`Line::unshort`]).
    pub(crate) short: bool,
}

impl Line {
    /// An empty line whose waiters are notified `at_once` at a time.
    pub(crate) fn woken_at_once(at_once: usize) -> Self {
        Self {
            waiters: Vec::new(),
            overtakes: 0,
            at_once,
            overtaken_since_pass: false,
            short: false,
        }
    }

    pub(crate) fn count(&self, stand: Stand) -> usize {
        self.waiters.iter().filter(|w| w.stand == stand).count()
    }

    pub(crate) fn unserved(&self) -> usize {
        self.waiters.iter().filter(|w| unserved(w.stand)).count()
    }

    pub(crate) fn head(&self) -> Option<usize> {
        self.waiters.iter().position(|w| unserved(w.stand))
    }

    pub(crate) fn head_is_due(&self, limit: u64) -> bool {
        self.head().is_some() && self.overtakes >= limit
    }

    /// Grants the oldest unserved waiter: it is served, and the count
    /// starts again. Returns its index.
    pub(crate) fn grant_head(&mut self) -> usize {
        let i = self.head().expect("a head to grant");
        self.waiters[i].stand = Stand::Granted;
        self.overtakes = 0;
        i
    }

    /// Notifies the oldest waiting waiter; returns whether there was one.
    pub(crate) fn notify_first(&mut self) -> bool {
        match self.waiters.iter_mut().find(|w| w.stand == Stand::Waiting) {
            Some(w) => {
                w.stand = Stand::Notified;
                true
            }
            None => false,
        }
    }

    /// An operation completed (`me`: its id if it waited; it is already out
    /// of the line or no longer unserved): every unserved waiter older than
    /// it was overtaken once more, and the counter moves if there was one;
    /// if there was none and it waited, the oldest was served, and the
    /// count starts again. Returns whether every waiter is within the bound
    /// `(ahead + 1) × limit` (each `limit` overtakes, the oldest is served).
    pub(crate) fn complete(&mut self, me: Option<u64>, limit: u64) -> bool {
        let mut overtook = false;
        let mut within = true;
        for w in &mut self.waiters {
            if unserved(w.stand) && me.is_none_or(|me| w.id < me) {
                w.overtaken += 1;
                within &= w.overtaken <= (w.ahead + 1) * limit;
                overtook = true;
            }
        }
        if overtook {
            self.overtakes += 1;
            if me.is_none() {
                self.overtaken_since_pass = true;
                // The oldest is due: the queue hands the line what is free,
                // as it does a new item, not as a pass does.
                if self.head_is_due(limit) {
                    self.unshort();
                }
            }
        } else if me.is_some() {
            self.overtakes = 0;
        }
        within
    }

    /// A notified waiter completed (after [`complete`](Self::complete)) and
    /// passes the baton: if an operation that never waited overtook the
    /// line since the last pass, the next settle notifies one at most (one
    /// already on its way is enough), else up to `at_once`.
    pub(crate) fn pass(&mut self) {
        self.short = std::mem::take(&mut self.overtaken_since_pass);
    }

    /// Something is handed to the line otherwise than by a pass (a new
    /// item or free slot, a waiter's turn or promise given back): the next
    /// settle notifies up to `at_once` again.
    pub(crate) fn unshort(&mut self) {
        self.short = false;
    }

    pub(crate) fn register(&mut self, item: u32, id: u64) {
        let ahead = self.unserved() as u64;
        self.waiters.push(Waiter {
            item,
            id,
            ahead,
            stand: Stand::Waiting,
            overtaken: 0,
        });
    }
}
