//! loom models of the queue core (`asyncio::__cores::queue`), the code the
//! public `Queue` runs. Each model has a calibration twin that switches a
//! fault on inside the core and must fail.
//!
//! A dropped future is modelled by polling its operation once with a
//! recording waker and then calling the `cancel_*` method its `Drop` calls,
//! on a thread that races another. Liveness is checked with the recorder
//! (a waiter left pending must have been woken), never with loom's deadlock
//! detector.
#![cfg(asyncio_loom)]

use std::num::NonZeroUsize;
use std::task::Poll;

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::queue::{QueueCore, Waiter};
use asyncio::queue::{GetError, PutError};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use loom_tests::waker::Recorder;

fn one() -> Option<NonZeroUsize> {
    NonZeroUsize::new(1)
}

/// A put blocked on a full queue races a get that frees the slot: the
/// putter is woken and inserts, and nothing is lost or duplicated.
fn put_and_get_at_capacity() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(one()));
        queue.try_put(1).unwrap();
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || {
                let recorder = Recorder::new();
                let mut waiter = Waiter::new();
                let mut item = Some(2);
                let first = recorder.poll(|cx| queue.poll_put(&mut waiter, &mut item, cx));
                (recorder, waiter, item, first.is_ready())
            })
        };
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_get(false).map(|taken| taken.item))
        };
        let (recorder, mut waiter, mut item, done) = putter.join().unwrap();
        assert_eq!(getter.join().unwrap(), Ok(1));
        if !done {
            assert!(recorder.woken_since_poll(), "blocked putter was not woken");
            let again = recorder.poll(|cx| queue.poll_put(&mut waiter, &mut item, cx));
            assert!(matches!(again, Poll::Ready(Ok(()))));
        }
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(2));
        assert_eq!(queue.len(), 0);
    });
}

#[test]
fn queue_put_and_get_at_capacity() {
    put_and_get_at_capacity();
}

#[test]
#[should_panic(expected = "blocked putter was not woken")]
fn queue_put_and_get_at_capacity_twin_putter_skip_wake() {
    fault::with(Fault::QueuePutterSkipWake, put_and_get_at_capacity);
}

/// A getter that may already have been woken for an item is dropped while a
/// put races it: the item stays in the queue and the wake passes to the next
/// getter (behaviour 115).
fn woken_getter_dropped() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None));
        let (first, second) = (Recorder::new(), Recorder::new());
        let mut dropped = Waiter::new();
        let mut next = Waiter::new();
        assert!(first
            .poll(|cx| queue.poll_get(&mut dropped, false, cx))
            .is_pending());
        assert!(second
            .poll(|cx| queue.poll_get(&mut next, false, cx))
            .is_pending());
        let canceller = {
            let queue = queue.clone();
            thread::spawn(move || queue.cancel_get(&mut dropped))
        };
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(7).unwrap())
        };
        canceller.join().unwrap();
        producer.join().unwrap();
        assert!(second.woken_since_poll(), "next getter was not woken");
        let got = second.poll(|cx| queue.poll_get(&mut next, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 7));
        assert_eq!(queue.len(), 0);
    });
}

#[test]
fn queue_woken_getter_dropped() {
    woken_getter_dropped();
}

#[test]
#[should_panic(expected = "next getter was not woken")]
fn queue_woken_getter_dropped_twin_keeps_item() {
    fault::with(Fault::QueueDroppedGetterKeepsItem, woken_getter_dropped);
}

/// A putter that may already have been granted a freed slot is dropped
/// while a get races it: it inserts nothing, and the slot passes to the next
/// putter (behaviour 116).
fn woken_putter_dropped() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(one()));
        queue.try_put(1).unwrap();
        let (first, second) = (Recorder::new(), Recorder::new());
        let mut dropped = Waiter::new();
        let mut dropped_item = Some(2);
        let mut next = Waiter::new();
        let mut next_item = Some(3);
        assert!(first
            .poll(|cx| queue.poll_put(&mut dropped, &mut dropped_item, cx))
            .is_pending());
        assert!(second
            .poll(|cx| queue.poll_put(&mut next, &mut next_item, cx))
            .is_pending());
        let canceller = {
            let queue = queue.clone();
            thread::spawn(move || queue.cancel_put(&mut dropped))
        };
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_get(false).map(|taken| taken.item))
        };
        canceller.join().unwrap();
        assert_eq!(consumer.join().unwrap(), Ok(1));
        assert!(second.woken_since_poll(), "next putter was not woken");
        let put = second.poll(|cx| queue.poll_put(&mut next, &mut next_item, cx));
        assert!(matches!(put, Poll::Ready(Ok(()))));
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(3));
        assert_eq!(queue.len(), 0, "the dropped put inserted nothing");
    });
}

#[test]
fn queue_woken_putter_dropped() {
    woken_putter_dropped();
}

#[test]
#[should_panic(expected = "next putter was not woken")]
fn queue_woken_putter_dropped_twin_keeps_slot() {
    fault::with(Fault::QueueDroppedPutterKeepsSlot, woken_putter_dropped);
}

/// The state the held-place models start from: a first-in-first-out queue
/// of capacity 2 that held a place for the blocked put of 3 when a get freed
/// a slot, with a getter waiting behind that place. With `later`, a later
/// put went in behind the place too.
struct HeldPlace {
    queue: Arc<QueueCore<u32>>,
    putter: Recorder,
    put_waiter: Waiter,
    put_item: Option<u32>,
    getter: Recorder,
    get_waiter: Waiter,
}

fn held_place(later: bool) -> HeldPlace {
    let queue = Arc::new(QueueCore::fifo(NonZeroUsize::new(2)));
    queue.try_put(1).unwrap();
    queue.try_put(2).unwrap();
    let (putter, getter) = (Recorder::new(), Recorder::new());
    let mut put_waiter = Waiter::new();
    let mut put_item = Some(3);
    assert!(putter
        .poll(|cx| queue.poll_put(&mut put_waiter, &mut put_item, cx))
        .is_pending());
    assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(1));
    assert!(
        putter.woken_since_poll(),
        "the blocked put was not granted the slot"
    );
    assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(2));
    if later {
        queue.try_put(4).unwrap();
    }
    let mut get_waiter = Waiter::new();
    assert!(getter
        .poll(|cx| queue.poll_get(&mut get_waiter, false, cx))
        .is_pending());
    HeldPlace {
        queue,
        putter,
        put_waiter,
        put_item,
        getter,
        get_waiter,
    }
}

/// The granted putter fills its held place while a later put races it: the
/// getter waiting behind the place is woken and takes the held item, and the
/// later item comes out after it (behaviour 118 is not mirrored).
fn held_place_filled_while_a_later_put_races() {
    loom::model(|| {
        let HeldPlace {
            queue,
            putter,
            mut put_waiter,
            mut put_item,
            getter,
            mut get_waiter,
        } = held_place(false);
        let filler = {
            let queue = queue.clone();
            thread::spawn(move || {
                let put = putter.poll(|cx| queue.poll_put(&mut put_waiter, &mut put_item, cx));
                assert!(matches!(put, Poll::Ready(Ok(()))));
            })
        };
        let later = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(4).is_ok())
        };
        filler.join().unwrap();
        assert!(later.join().unwrap(), "a slot was free behind the place");
        assert!(
            getter.woken_since_poll(),
            "getter behind the held place was not woken"
        );
        let got = getter.poll(|cx| queue.poll_get(&mut get_waiter, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 3));
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(4));
        // Four items were put (the filled place's included), none marked
        // done.
        assert_eq!(queue.unfinished(), 4, "a put was not counted unfinished");
    });
}

#[test]
fn queue_held_place_filled_while_a_later_put_races() {
    held_place_filled_while_a_later_put_races();
}

// The twin fails only where the later put goes in before the fill: put
// first, the fill is what must wake the getter. Fill first, the later put's
// own insert grants the getter and hides the fault; loom explores both.
#[test]
#[should_panic(expected = "getter behind the held place was not woken")]
fn queue_held_place_filled_while_a_later_put_races_twin_fill_skips_getters() {
    fault::with(
        Fault::QueueFillSkipsGetters,
        held_place_filled_while_a_later_put_races,
    );
}

/// The granted putter is dropped before it fills its held place, while
/// another put races the drop: the place goes, the getter waiting behind it
/// is woken for the item that was behind it, and the freed slot is used
/// (behaviours 116, 117).
fn held_place_dropped_while_a_put_races() {
    loom::model(|| {
        let HeldPlace {
            queue,
            mut put_waiter,
            getter,
            mut get_waiter,
            ..
        } = held_place(true);
        let canceller = {
            let queue = queue.clone();
            thread::spawn(move || queue.cancel_put(&mut put_waiter))
        };
        let racer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(5).is_ok())
        };
        canceller.join().unwrap();
        let raced = racer.join().unwrap();
        assert!(
            getter.woken_since_poll(),
            "getter behind the held place was not woken"
        );
        let got = getter.poll(|cx| queue.poll_get(&mut get_waiter, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 4));
        let rest = queue.try_get(false).map(|taken| taken.item);
        if raced {
            assert_eq!(rest, Ok(5));
        } else {
            assert!(rest.is_err(), "the dropped put inserted {rest:?}");
        }
        assert_eq!(queue.len(), 0, "the dropped put inserted nothing");
    });
}

#[test]
fn queue_held_place_dropped_while_a_put_races() {
    held_place_dropped_while_a_put_races();
}

#[test]
#[should_panic(expected = "getter behind the held place was not woken")]
fn queue_held_place_dropped_while_a_put_races_twin_keeps_place() {
    fault::with(
        Fault::QueueDroppedPutterKeepsSlot,
        held_place_dropped_while_a_put_races,
    );
}

/// A graceful shutdown races the granted putter's fill: either the putter
/// fills its place first, or it fails and its place goes; either way the
/// getter waiting behind the place is woken and the buffered items drain
/// before gets fail (behaviours 122, 123).
fn held_place_races_a_shutdown() {
    loom::model(|| {
        let HeldPlace {
            queue,
            putter,
            mut put_waiter,
            mut put_item,
            getter,
            mut get_waiter,
        } = held_place(true);
        let closer = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(false))
        };
        let filler = {
            let queue = queue.clone();
            thread::spawn(move || {
                match putter.poll(|cx| queue.poll_put(&mut put_waiter, &mut put_item, cx)) {
                    Poll::Ready(Ok(())) => true,
                    Poll::Ready(Err(PutError::ShutDown(3))) => false,
                    other => panic!("the granted put ended with {other:?}"),
                }
            })
        };
        closer.join().unwrap();
        let filled = filler.join().unwrap();
        assert!(
            getter.woken_since_poll(),
            "getter behind the held place was not woken"
        );
        let got = getter.poll(|cx| queue.poll_get(&mut get_waiter, false, cx));
        let first = if filled { 3 } else { 4 };
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == first));
        if filled {
            assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(4));
        }
        assert!(queue.try_get(false).is_err(), "the queue drained");
    });
}

#[test]
fn queue_held_place_races_a_shutdown() {
    held_place_races_a_shutdown();
}

#[test]
#[should_panic(expected = "getter behind the held place was not woken")]
fn queue_held_place_races_a_shutdown_twin_keeps_held_places() {
    fault::with(
        Fault::QueueShutdownKeepsHeldPlaces,
        held_place_races_a_shutdown,
    );
}

/// A join waits while the last task_done races a second join: both joins
/// return (behaviour 114).
fn join_races_last_task_done() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(None));
        queue.try_put(1).unwrap();
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(1));
        let recorder = Recorder::new();
        let mut joiner = Waiter::new();
        assert!(recorder
            .poll(|cx| queue.poll_join(&mut joiner, cx))
            .is_pending());
        let finisher = {
            let queue = queue.clone();
            thread::spawn(move || queue.task_done().unwrap())
        };
        let late = {
            let queue = queue.clone();
            thread::spawn(move || {
                let recorder = Recorder::new();
                let mut waiter = Waiter::new();
                let first = recorder.poll(|cx| queue.poll_join(&mut waiter, cx));
                (recorder, waiter, first.is_ready())
            })
        };
        finisher.join().unwrap();
        let (late_recorder, mut late_waiter, late_done) = late.join().unwrap();
        assert!(recorder.woken_since_poll(), "joiner was not woken");
        assert!(recorder
            .poll(|cx| queue.poll_join(&mut joiner, cx))
            .is_ready());
        if !late_done {
            assert!(late_recorder.woken_since_poll(), "joiner was not woken");
            assert!(late_recorder
                .poll(|cx| queue.poll_join(&mut late_waiter, cx))
                .is_ready());
        }
    });
}

#[test]
fn queue_join_races_last_task_done() {
    join_races_last_task_done();
}

#[test]
#[should_panic(expected = "joiner was not woken")]
fn queue_join_races_last_task_done_twin_skip_wake() {
    fault::with(Fault::QueueJoinSkipWake, join_races_last_task_done);
}

/// Two task_done calls race for the one unfinished unit (one takes the
/// credit path under the lock, or both do): exactly one succeeds, the other
/// is the typed error, and the waiting join is released (behaviours 113,
/// 114).
fn task_done_calls_race_for_the_last_unit() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(None));
        queue.try_put(1).unwrap();
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(1));
        let recorder = Recorder::new();
        let mut joiner = Waiter::new();
        assert!(recorder
            .poll(|cx| queue.poll_join(&mut joiner, cx))
            .is_pending());
        let spawn_done = || {
            let queue = queue.clone();
            thread::spawn(move || queue.task_done().is_ok())
        };
        let (first, second) = (spawn_done(), spawn_done());
        let successes = usize::from(first.join().unwrap()) + usize::from(second.join().unwrap());
        assert_eq!(successes, 1, "exactly one task_done must succeed");
        assert_eq!(queue.unfinished(), 0);
        assert!(recorder.woken_since_poll(), "joiner was not woken");
        assert!(recorder
            .poll(|cx| queue.poll_join(&mut joiner, cx))
            .is_ready());
    });
}

#[test]
fn queue_task_done_calls_race_for_the_last_unit() {
    task_done_calls_race_for_the_last_unit();
}

#[test]
#[should_panic(expected = "exactly one task_done must succeed")]
fn queue_task_done_calls_race_for_the_last_unit_twin_refill_spends_nothing() {
    fault::with(
        Fault::QueueTaskDoneRefillSpendsNothing,
        task_done_calls_race_for_the_last_unit,
    );
}

/// A put blocking on a full queue races a graceful shutdown: it fails with
/// its item handed back, and the buffered item is still delivered
/// (behaviours 121–123).
fn shutdown_races_blocked_putter() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(one()));
        queue.try_put(1).unwrap();
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || {
                let recorder = Recorder::new();
                let mut waiter = Waiter::new();
                let mut item = Some(2);
                let first = recorder.poll(|cx| queue.poll_put(&mut waiter, &mut item, cx));
                (recorder, waiter, item, first)
            })
        };
        let closer = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(false))
        };
        closer.join().unwrap();
        let (recorder, mut waiter, mut item, first) = putter.join().unwrap();
        let outcome = match first {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => {
                assert!(
                    recorder.woken_since_poll(),
                    "blocked putter not woken by shutdown"
                );
                match recorder.poll(|cx| queue.poll_put(&mut waiter, &mut item, cx)) {
                    Poll::Ready(outcome) => outcome,
                    Poll::Pending => panic!("putter still pending after shutdown"),
                }
            }
        };
        assert_eq!(outcome, Err(PutError::ShutDown(2)));
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(1));
        assert!(queue.try_get(false).is_err());
    });
}

#[test]
fn queue_shutdown_races_blocked_putter() {
    shutdown_races_blocked_putter();
}

#[test]
#[should_panic(expected = "blocked putter not woken by shutdown")]
fn queue_shutdown_races_blocked_putter_twin_skips_putters() {
    fault::with(
        Fault::QueueShutdownSkipsPutters,
        shutdown_races_blocked_putter,
    );
}

/// A get blocking on an empty queue races a graceful shutdown: it fails
/// (behaviour 123).
fn shutdown_races_blocked_getter() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(one()));
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || {
                let recorder = Recorder::new();
                let mut waiter = Waiter::new();
                let first = recorder
                    .poll(|cx| queue.poll_get(&mut waiter, false, cx))
                    .map(|outcome| outcome.map(|taken| taken.item));
                (recorder, waiter, first)
            })
        };
        let closer = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(false))
        };
        closer.join().unwrap();
        let (recorder, mut waiter, first) = getter.join().unwrap();
        let outcome = match first {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => {
                assert!(
                    recorder.woken_since_poll(),
                    "blocked getter not woken by shutdown"
                );
                match recorder.poll(|cx| queue.poll_get(&mut waiter, false, cx)) {
                    Poll::Ready(outcome) => outcome.map(|taken| taken.item),
                    Poll::Pending => panic!("getter still pending after shutdown"),
                }
            }
        };
        assert_eq!(outcome, Err(GetError::ShutDown));
    });
}

#[test]
fn queue_shutdown_races_blocked_getter() {
    shutdown_races_blocked_getter();
}

#[test]
#[should_panic(expected = "blocked getter not woken by shutdown")]
fn queue_shutdown_races_blocked_getter_twin_skips_getters() {
    fault::with(
        Fault::QueueShutdownSkipsGetters,
        shutdown_races_blocked_getter,
    );
}

/// An immediate shutdown that discards the last unfinished item races the
/// task_done of a taken one: the waiting join is released (behaviours 124,
/// 125).
fn immediate_shutdown_releases_join() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(None));
        queue.try_put(1).unwrap();
        queue.try_put(2).unwrap();
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(1));
        let recorder = Recorder::new();
        let mut joiner = Waiter::new();
        assert!(recorder
            .poll(|cx| queue.poll_join(&mut joiner, cx))
            .is_pending());
        let closer = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(true))
        };
        let worker = {
            let queue = queue.clone();
            thread::spawn(move || queue.task_done().unwrap())
        };
        closer.join().unwrap();
        worker.join().unwrap();
        assert!(
            recorder.woken_since_poll(),
            "joiner not released by immediate shutdown"
        );
        assert!(recorder
            .poll(|cx| queue.poll_join(&mut joiner, cx))
            .is_ready());
        assert_eq!(queue.unfinished(), 0);
        assert_eq!(queue.len(), 0);
    });
}

#[test]
fn queue_immediate_shutdown_releases_join() {
    immediate_shutdown_releases_join();
}

#[test]
#[should_panic(expected = "joiner not released by immediate shutdown")]
fn queue_immediate_shutdown_releases_join_twin_keeps_join() {
    fault::with(
        Fault::QueueImmediateShutdownKeepsJoin,
        immediate_shutdown_releases_join,
    );
}

/// The lock-free path of `task_done`: with one unit left in `spendable`
/// (two items put, both taken, one marked done, which moved the credit
/// over), the last `task_done` spends it with a compare-and-swap and must
/// then take the lock to release the joins, racing a join that registers.
/// The join is released whatever the order.
fn lock_free_task_done_releases_a_racing_join() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(None));
        queue.try_put(1).unwrap();
        queue.try_put(2).unwrap();
        assert!(queue.try_get(false).is_ok());
        assert!(queue.try_get(false).is_ok());
        queue.task_done().unwrap(); // under the lock: one unit left, spendable
        let finisher = {
            let queue = queue.clone();
            thread::spawn(move || queue.task_done().unwrap())
        };
        let recorder = Recorder::new();
        let mut joiner = Waiter::new();
        let first = recorder.poll(|cx| queue.poll_join(&mut joiner, cx));
        finisher.join().unwrap();
        assert_eq!(queue.unfinished(), 0);
        if first.is_pending() {
            assert!(
                recorder.woken_since_poll(),
                "join missed the last lock-free task_done"
            );
            assert!(recorder
                .poll(|cx| queue.poll_join(&mut joiner, cx))
                .is_ready());
        }
    });
}

#[test]
fn queue_lock_free_task_done_releases_a_racing_join() {
    lock_free_task_done_releases_a_racing_join();
}

#[test]
#[should_panic(expected = "join missed the last lock-free task_done")]
fn queue_lock_free_task_done_releases_a_racing_join_twin_skips_release() {
    fault::with(
        Fault::QueueTaskDoneFastPathSkipsRelease,
        lock_free_task_done_releases_a_racing_join,
    );
}

/// A guarded get and a manual `task_done` race for the one unfinished unit
/// (behaviour 113 with guards): either the guard holds it and the manual
/// call is the typed error, or the manual call spends it and the guard holds
/// nothing. Exactly one unit is spent, the guard never underflows, and the
/// join is released once the guard (if it holds the unit) is done.
fn guarded_get_races_a_manual_task_done() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(None));
        queue.try_put(1).unwrap();
        let guarded = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_get(true).unwrap().counted)
        };
        let manual = {
            let queue = queue.clone();
            thread::spawn(move || queue.task_done().is_ok())
        };
        let counted = guarded.join().unwrap();
        let manual_ok = manual.join().unwrap();
        assert!(counted != manual_ok, "the unit was not spent exactly once");
        assert_eq!(queue.unfinished(), usize::from(counted));
        let recorder = Recorder::new();
        let mut joiner = Waiter::new();
        let joined = recorder.poll(|cx| queue.poll_join(&mut joiner, cx));
        assert_eq!(joined.is_ready(), !counted, "join ignores a held guard");
        if counted {
            queue.guard_done();
            assert!(
                recorder.woken_since_poll(),
                "the guard's release did not wake the join"
            );
            assert!(recorder
                .poll(|cx| queue.poll_join(&mut joiner, cx))
                .is_ready());
        }
    });
}

#[test]
fn queue_guarded_get_races_a_manual_task_done() {
    guarded_get_races_a_manual_task_done();
}

#[test]
#[should_panic(expected = "the unit was not spent exactly once")]
fn queue_guarded_get_races_a_manual_task_done_twin_refill_spends_nothing() {
    fault::with(
        Fault::QueueTaskDoneRefillSpendsNothing,
        guarded_get_races_a_manual_task_done,
    );
}

const EARLY_JOIN: &str = "a join was released while units remained";

/// Two consumers mark their items done on two threads while the join waits,
/// polled again on each wake as an executor would. The join stays pending
/// while a unit remains (an early release is a safety bug: the caller goes
/// on while work is unfinished), and is released once both are done.
fn join_stays_pending_while_units_remain() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(None));
        queue.try_put(1).unwrap();
        queue.try_put(2).unwrap();
        assert!(queue.try_get(false).is_ok());
        assert!(queue.try_get(false).is_ok());
        let recorder = Recorder::new();
        let mut joiner = Waiter::new();
        let mut last = recorder.poll(|cx| queue.poll_join(&mut joiner, cx));
        assert!(last.is_pending(), "{EARLY_JOIN}");

        let spawn_done = || {
            let queue = queue.clone();
            thread::spawn(move || queue.task_done().unwrap())
        };
        let (first, second) = (spawn_done(), spawn_done());
        // What the join saw when it returned, checked once the threads are
        // joined (a model that panics while loom threads run aborts the
        // whole test binary).
        let mut left_when_released = None;
        for _ in 0..2 {
            if last.is_pending() {
                if let Some(again) = recorder.poll_if_woken(|cx| queue.poll_join(&mut joiner, cx)) {
                    last = again;
                    if last.is_ready() {
                        left_when_released = Some(queue.unfinished());
                    }
                }
            }
        }
        first.join().unwrap();
        second.join().unwrap();
        // No put runs here: the count only goes down, so a released join
        // must have seen it at zero.
        assert_eq!(left_when_released.unwrap_or(0), 0, "{EARLY_JOIN}");
        recorder.settle(
            last,
            |cx| queue.poll_join(&mut joiner, cx),
            "joiner was not woken",
        );
        assert_eq!(queue.unfinished(), 0);
    });
}

#[test]
fn queue_join_stays_pending_while_units_remain() {
    join_stays_pending_while_units_remain();
}

#[test]
#[should_panic(expected = "joiner was not woken")]
fn queue_join_stays_pending_while_units_remain_twin_skip_wake() {
    fault::with(
        Fault::QueueJoinSkipWake,
        join_stays_pending_while_units_remain,
    );
}

const UNPUBLISHED: &str = "a join returned without seeing what a consumer wrote before task_done";

/// Happens-before through the queue: what a consumer writes before its
/// `task_done()` is visible to the task that `join()` released. Two
/// consumers, one spending a unit on the lock-free path without the lock,
/// the other spending the last unit; the join polls concurrently, and again
/// on each wake. Whenever it returns, both writes are visible. The writes
/// are `Relaxed` loom atomics standing for plain memory (the crate forbids
/// `unsafe`, which loom's `UnsafeCell` needs): only the queue's own
/// orderings can make them visible, so loom's memory model sees a weakened
/// ordering that every count would hide.
fn task_done_publishes_to_join() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(None));
        for item in 1..=3 {
            queue.try_put(item).unwrap();
        }
        for _ in 1..=3 {
            assert!(queue.try_get(false).is_ok());
        }
        // Under the lock: moves the credit over, so two units are left for
        // the lock-free path.
        queue.task_done().unwrap();
        let written = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
        let consumers: Vec<_> = written
            .iter()
            .map(|data| {
                let (queue, data) = (queue.clone(), data.clone());
                thread::spawn(move || {
                    data.store(1, Ordering::Relaxed);
                    queue.task_done().unwrap();
                })
            })
            .collect();
        let visible = || written.iter().all(|data| data.load(Ordering::Relaxed) == 1);

        let recorder = Recorder::new();
        let mut joiner = Waiter::new();
        let mut last = recorder.poll(|cx| queue.poll_join(&mut joiner, cx));
        for _ in 0..2 {
            if last.is_pending() {
                if let Some(again) = recorder.poll_if_woken(|cx| queue.poll_join(&mut joiner, cx)) {
                    last = again;
                }
            }
        }
        // Checked once the threads are joined (a model that panics while
        // loom threads run aborts the whole test binary); joining makes
        // every write visible, so the look must come first.
        let unpublished = last.is_ready() && !visible();
        for consumer in consumers {
            consumer.join().unwrap();
        }
        assert!(!unpublished, "{UNPUBLISHED}");
        recorder.settle(
            last,
            |cx| queue.poll_join(&mut joiner, cx),
            "joiner was not woken",
        );
    });
}

#[test]
fn queue_task_done_publishes_to_join() {
    task_done_publishes_to_join();
}

#[test]
#[should_panic(expected = "joiner was not woken")]
fn queue_task_done_publishes_to_join_twin_skip_release() {
    fault::with(
        Fault::QueueTaskDoneFastPathSkipsRelease,
        task_done_publishes_to_join,
    );
}

const SECOND_GETTER_HANGS: &str = "the waiting getter was not woken to see the shutdown";

/// A graceful shutdown races the take of a getter that was granted the last
/// item, while a second getter waits (behaviours 122, 123). Whichever comes
/// first, the granted getter takes its item, and the waiting one, polled on
/// each wake, ends with the shutdown: the shutdown wakes it if the queue is
/// already drained, and otherwise the take that drains it must.
fn shutdown_races_a_granted_take() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None));
        let (granted, waiting) = (Recorder::new(), Recorder::new());
        let (mut granted_waiter, mut waiting_waiter) = (Waiter::new(), Waiter::new());
        assert!(granted
            .poll(|cx| queue.poll_get(&mut granted_waiter, false, cx))
            .is_pending());
        let mut last = waiting.poll(|cx| queue.poll_get(&mut waiting_waiter, false, cx));
        assert!(last.is_pending());
        queue.try_put(1).unwrap();
        assert!(
            granted.woken_since_poll(),
            "the first getter was not granted the item"
        );

        let taker = {
            let queue = queue.clone();
            thread::spawn(move || {
                match granted.poll(|cx| queue.poll_get(&mut granted_waiter, false, cx)) {
                    Poll::Ready(Ok(taken)) => taken.item,
                    other => panic!("the granted get ended with {other:?}"),
                }
            })
        };
        let closer = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(false))
        };
        if let Some(again) =
            waiting.poll_if_woken(|cx| queue.poll_get(&mut waiting_waiter, false, cx))
        {
            last = again;
        }
        assert_eq!(taker.join().unwrap(), 1);
        closer.join().unwrap();
        let outcome = waiting.settle(
            last,
            |cx| queue.poll_get(&mut waiting_waiter, false, cx),
            SECOND_GETTER_HANGS,
        );
        assert_eq!(outcome.map(|taken| taken.item), Err(GetError::ShutDown));
    });
}

#[test]
fn queue_shutdown_races_a_granted_take() {
    shutdown_races_a_granted_take();
}

#[test]
#[should_panic(expected = "the waiting getter was not woken to see the shutdown")]
fn queue_shutdown_races_a_granted_take_twin_skips_getters() {
    fault::with(
        Fault::QueueShutdownSkipsGetters,
        shutdown_races_a_granted_take,
    );
}

const GETTER_NOT_WOKEN: &str = "the getter was not woken for the item";

/// A get as an executor runs it: polled, parked, polled again on each wake,
/// while a put on another thread inserts the item it waits for. Each poll
/// that leaves it pending is followed by a wake, and it gets the item.
fn put_wakes_a_getter_polled_on_each_wake() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None));
        let getter = Recorder::new();
        let mut waiter = Waiter::new();
        let mut last = getter.poll(|cx| queue.poll_get(&mut waiter, false, cx));
        assert!(last.is_pending());
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(7).unwrap())
        };
        if let Some(again) = getter.poll_if_woken(|cx| queue.poll_get(&mut waiter, false, cx)) {
            last = again;
        }
        producer.join().unwrap();
        let taken = getter.settle(
            last,
            |cx| queue.poll_get(&mut waiter, false, cx),
            GETTER_NOT_WOKEN,
        );
        assert_eq!(taken.map(|taken| taken.item), Ok(7));
        assert_eq!(queue.len(), 0);
    });
}

#[test]
fn queue_put_wakes_a_getter_polled_on_each_wake() {
    put_wakes_a_getter_polled_on_each_wake();
}

#[test]
#[should_panic(expected = "the getter was not woken for the item")]
fn queue_put_wakes_a_getter_polled_on_each_wake_twin_skip_wake() {
    fault::with(
        Fault::QueueInsertSkipsGetterWake,
        put_wakes_a_getter_polled_on_each_wake,
    );
}

/// A pending get moves to another task between two polls (polled from one
/// task, then from another), while a put on another thread inserts an item.
/// The task that polled last is the one woken.
fn getter_moves_to_another_task() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None));
        let (before, after) = (Recorder::new(), Recorder::new());
        let mut waiter = Waiter::new();
        assert!(before
            .poll(|cx| queue.poll_get(&mut waiter, false, cx))
            .is_pending());
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(7).unwrap())
        };
        let last = after.poll(|cx| queue.poll_get(&mut waiter, false, cx));
        producer.join().unwrap();
        let taken = after.settle(
            last,
            |cx| queue.poll_get(&mut waiter, false, cx),
            GETTER_NOT_WOKEN,
        );
        assert_eq!(taken.map(|taken| taken.item), Ok(7));
    });
}

#[test]
fn queue_getter_moves_to_another_task() {
    getter_moves_to_another_task();
}

#[test]
#[should_panic(expected = "the getter was not woken for the item")]
fn queue_getter_moves_to_another_task_twin_skip_wake() {
    fault::with(
        Fault::QueueInsertSkipsGetterWake,
        getter_moves_to_another_task,
    );
}

/// Two places are held at once: a first-in-first-out queue of capacity 2,
/// full, with two blocked puts (of 3, then 4) granted one place each as two
/// gets free the slots. The two granted putters fill their places on two
/// threads, in either order, while a getter waits. The items come out in
/// the order the puts blocked: 3, then 4.
fn two_held_places_filled_in_either_order() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(NonZeroUsize::new(2)));
        queue.try_put(1).unwrap();
        queue.try_put(2).unwrap();
        let mut putters = Vec::new();
        for value in [3, 4] {
            let recorder = Recorder::new();
            let mut waiter = Waiter::new();
            let mut item = Some(value);
            assert!(recorder
                .poll(|cx| queue.poll_put(&mut waiter, &mut item, cx))
                .is_pending());
            putters.push((recorder, waiter, item));
        }
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(1));
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(2));
        let getter = Recorder::new();
        let mut get_waiter = Waiter::new();
        let first = getter.poll(|cx| queue.poll_get(&mut get_waiter, false, cx));
        assert!(
            first.is_pending(),
            "nothing is ready before the held places"
        );

        let fillers: Vec<_> = putters
            .into_iter()
            .map(|(recorder, mut waiter, mut item)| {
                let queue = queue.clone();
                thread::spawn(move || {
                    assert!(recorder.woken_since_poll(), "a blocked put was not granted");
                    let put = recorder.poll(|cx| queue.poll_put(&mut waiter, &mut item, cx));
                    matches!(put, Poll::Ready(Ok(())))
                })
            })
            .collect();
        for filler in fillers {
            assert!(filler.join().unwrap(), "a granted put did not complete");
        }
        let got = getter.settle(
            first,
            |cx| queue.poll_get(&mut get_waiter, false, cx),
            "getter behind the held places was not woken",
        );
        assert_eq!(
            got.map(|taken| taken.item),
            Ok(3),
            "the held places lost their order"
        );
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(4));
        assert_eq!(queue.len(), 0);
    });
}

#[test]
fn queue_two_held_places_filled_in_either_order() {
    two_held_places_filled_in_either_order();
}

#[test]
#[should_panic(expected = "getter behind the held places was not woken")]
fn queue_two_held_places_filled_in_either_order_twin_fill_skips_getters() {
    fault::with(
        Fault::QueueFillSkipsGetters,
        two_held_places_filled_in_either_order,
    );
}

const LOST_PLACE: &str = "a waiting getter lost its place in line";

/// Three getters wait in line on a full queue of capacity 1 whose item is
/// granted to the first; a put waits for the slot. The first getter takes
/// its item, which grants the slot to the put; the put fills it on another
/// thread while the third and second getters are polled (by their
/// executors, not because they were woken). The getters keep their places:
/// the item goes to the second, and the third stays waiting.
fn getters_keep_their_place_in_line() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(one()));
        let mut getters: Vec<(Recorder, Waiter)> = Vec::new();
        for _ in 0..3 {
            let (recorder, mut waiter) = (Recorder::new(), Waiter::new());
            assert!(recorder
                .poll(|cx| queue.poll_get(&mut waiter, false, cx))
                .is_pending());
            getters.push((recorder, waiter));
        }
        queue.try_put(1).unwrap();
        let putter = Recorder::new();
        let mut put_waiter = Waiter::new();
        let mut put_item = Some(2);
        assert!(putter
            .poll(|cx| queue.poll_put(&mut put_waiter, &mut put_item, cx))
            .is_pending());
        let (first, first_waiter) = &mut getters[0];
        let took = first.poll(|cx| queue.poll_get(first_waiter, false, cx));
        assert!(matches!(took, Poll::Ready(Ok(ref taken)) if taken.item == 1));

        let filler = {
            let queue = queue.clone();
            thread::spawn(move || {
                assert!(
                    putter.woken_since_poll(),
                    "the put was not granted the slot"
                );
                let put = putter.poll(|cx| queue.poll_put(&mut put_waiter, &mut put_item, cx));
                matches!(put, Poll::Ready(Ok(())))
            })
        };
        let (third, third_waiter) = &mut getters[2];
        let third_jumped = third
            .poll(|cx| queue.poll_get(third_waiter, false, cx))
            .is_ready();
        let (second, second_waiter) = &mut getters[1];
        let last = second.poll(|cx| queue.poll_get(second_waiter, false, cx));
        assert!(filler.join().unwrap(), "the granted put did not complete");
        assert!(!third_jumped, "{LOST_PLACE}");
        let got = second.settle(
            last,
            |cx| queue.poll_get(second_waiter, false, cx),
            "the second getter was not woken for the item",
        );
        assert_eq!(got.map(|taken| taken.item), Ok(2), "{LOST_PLACE}");
        let (third, third_waiter) = &mut getters[2];
        assert!(third
            .poll(|cx| queue.poll_get(third_waiter, false, cx))
            .is_pending());
    });
}

#[test]
fn queue_getters_keep_their_place_in_line() {
    getters_keep_their_place_in_line();
}

#[test]
#[should_panic(expected = "the second getter was not woken for the item")]
fn queue_getters_keep_their_place_in_line_twin_fill_skips_getters() {
    fault::with(
        Fault::QueueFillSkipsGetters,
        getters_keep_their_place_in_line,
    );
}
