//! loom models of the queue core's eventual fairness (`overtake_limit`):
//! notified waiters that find nothing keep their place, dropped notified
//! waiters pass their turn on, and no waiter is overtaken more often than
//! the limit allows before the next item is granted to it. Each model has a
//! calibration twin that switches a fault on inside the core and must fail.
#![cfg(asyncio_loom)]

use std::num::NonZeroUsize;
use std::task::Poll;

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::queue::{QueueCore, Waiter};
use asyncio::queue::{TryGetError, TryPutError};
use loom::sync::Arc;
use loom::thread;
use loom_tests::waker::Recorder;

/// A get that waits on `queue`: its recorder and its waiter, polled once
/// and pending.
fn waiting_getter(queue: &QueueCore<u32>) -> (Recorder, Waiter) {
    let (recorder, mut waiter) = (Recorder::new(), Waiter::new());
    assert!(recorder
        .poll(|cx| queue.poll_get(&mut waiter, false, cx))
        .is_pending());
    (recorder, waiter)
}

/// A put of `item` polled once on a full queue: it waits, holding its item.
fn waiting_putter(queue: &QueueCore<u32>, item: u32) -> (Recorder, Waiter, Option<u32>) {
    let (recorder, mut waiter, mut item) = (Recorder::new(), Waiter::new(), Some(item));
    assert!(recorder
        .poll(|cx| queue.poll_put(&mut waiter, &mut item, cx))
        .is_pending());
    (recorder, waiter, item)
}

/// A running get that does not wait: `get_nowait`.
fn get_nowait(queue: &QueueCore<u32>) -> Result<u32, TryGetError> {
    queue.try_get(false).map(|taken| taken.item)
}

/// A running get that does not wait: a new `get` future polled once, which
/// goes through the inlined fast path when an item is available, and is
/// dropped if it is pending.
fn get_polled_once(queue: &QueueCore<u32>) -> Result<u32, TryGetError> {
    let mut waiter = Waiter::new();
    match Recorder::new().poll(|cx| queue.poll_get(&mut waiter, false, cx)) {
        Poll::Ready(Ok(taken)) => Ok(taken.item),
        Poll::Ready(Err(error)) => panic!("a running get failed: {error:?}"),
        Poll::Pending => {
            queue.cancel_get(&mut waiter);
            Err(TryGetError::Empty)
        }
    }
}

/// A running put that does not wait: `put_nowait`; the item back if full.
fn put_nowait(queue: &QueueCore<u32>, item: u32) -> Result<(), u32> {
    queue.try_put(item).map_err(|error| match error {
        TryPutError::Full(item) => item,
        TryPutError::ShutDown(_) => panic!("the queue was shut down"),
        _ => panic!("put_nowait failed: {error:?}"),
    })
}

/// A running put that does not wait: a new `put` future polled once (the
/// inlined fast path when a slot is free), dropped if it is pending.
fn put_polled_once(queue: &QueueCore<u32>, item: u32) -> Result<(), u32> {
    let (mut waiter, mut item) = (Waiter::new(), Some(item));
    match Recorder::new().poll(|cx| queue.poll_put(&mut waiter, &mut item, cx)) {
        Poll::Ready(Ok(())) => Ok(()),
        Poll::Ready(Err(error)) => panic!("a running put failed: {error:?}"),
        Poll::Pending => {
            queue.cancel_put(&mut waiter);
            Err(item.expect("a pending put keeps its item"))
        }
    }
}

/// A getter notified of an item is dropped while the put that notified it
/// races the drop: the item stays, and the turn passes to the next getter
/// (behaviour 115 under eventual fairness).
fn notified_getter_dropped() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None).overtake_limit(8));
        let (_first, mut dropped) = waiting_getter(&queue);
        let (second, mut next) = waiting_getter(&queue);
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(7).unwrap())
        };
        queue.cancel_get(&mut dropped);
        producer.join().unwrap();
        assert!(second.woken_since_poll(), "next getter was not woken");
        let got = second.poll(|cx| queue.poll_get(&mut next, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 7));
        assert_eq!(queue.len(), 0);
    });
}

#[test]
fn queue_notified_getter_dropped() {
    notified_getter_dropped();
}

#[test]
#[should_panic(expected = "next getter was not woken")]
fn queue_notified_getter_dropped_twin_keeps_turn() {
    fault::with(
        Fault::QueueDroppedNotifiedKeepsTurn,
        notified_getter_dropped,
    );
}

/// A putter notified of a freed slot is dropped while the get that freed it
/// races the drop: it inserts nothing, and the turn passes to the next
/// putter (behaviour 116 under eventual fairness).
fn notified_putter_dropped() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(NonZeroUsize::new(1)).overtake_limit(8));
        queue.try_put(1).unwrap();
        let (_first, mut dropped, _dropped_item) = waiting_putter(&queue, 2);
        let (second, mut next, mut next_item) = waiting_putter(&queue, 3);
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_get(false).map(|taken| taken.item))
        };
        queue.cancel_put(&mut dropped);
        assert_eq!(consumer.join().unwrap(), Ok(1));
        assert!(second.woken_since_poll(), "next putter was not woken");
        let put = second.poll(|cx| queue.poll_put(&mut next, &mut next_item, cx));
        assert!(matches!(put, Poll::Ready(Ok(()))));
        // The dropped put inserted nothing.
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(3));
        assert_eq!(queue.len(), 0);
    });
}

#[test]
fn queue_notified_putter_dropped() {
    notified_putter_dropped();
}

#[test]
#[should_panic(expected = "next putter was not woken")]
fn queue_notified_putter_dropped_twin_keeps_turn() {
    fault::with(
        Fault::QueueDroppedNotifiedKeepsTurn,
        notified_putter_dropped,
    );
}

/// The order guarantee, with a limit of 1. The oldest getter is notified of
/// an item that a running `get_nowait` takes first, racing it: overtaken
/// once, it keeps its place (it runs again in another task), and the next
/// item is granted to it, not to a second running `get_nowait` nor to the
/// younger getter behind it. `get` is the running get: `get_nowait`, or a
/// new `get` future polled once (its inlined fast path).
fn overtaken_getter_is_served_next(get: fn(&QueueCore<u32>) -> Result<u32, TryGetError>) {
    loom::model(move || {
        let queue = Arc::new(QueueCore::<u32>::fifo(None).overtake_limit(1));
        let (oldest, mut first) = waiting_getter(&queue);
        let (younger, mut second) = waiting_getter(&queue);
        queue.try_put(1).unwrap();
        let barger = {
            let queue = queue.clone();
            thread::spawn(move || get(&queue))
        };
        assert!(
            oldest.woken_since_poll(),
            "the oldest getter was not notified"
        );
        // It runs again, in another task.
        let moved = Recorder::new();
        let got = moved.poll(|cx| queue.poll_get(&mut first, false, cx));
        let barged = barger.join().unwrap();
        match got {
            Poll::Ready(Ok(taken)) => {
                // It ran first and took its item; the barger found none.
                assert_eq!(taken.item, 1);
                assert_eq!(barged, Err(TryGetError::Empty));
            }
            Poll::Ready(Err(error)) => panic!("the oldest getter failed: {error:?}"),
            Poll::Pending => {
                assert_eq!(barged, Ok(1));
                // Overtaken once: the next item is granted to it.
                queue.try_put(2).unwrap();
                assert_eq!(
                    get(&queue),
                    Err(TryGetError::Empty),
                    "a getter was overtaken past the limit"
                );
                assert!(
                    moved.woken_since_poll(),
                    "the overtaken getter was not woken"
                );
                let got = moved.poll(|cx| queue.poll_get(&mut first, false, cx));
                assert!(
                    matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 2),
                    "the overtaken getter lost its place"
                );
            }
        }
        // The younger getter is still waiting, woken by nothing.
        assert!(!younger.woken_since_poll());
        queue.try_put(3).unwrap();
        assert!(
            younger.woken_since_poll(),
            "the younger getter was not notified"
        );
        let got = younger.poll(|cx| queue.poll_get(&mut second, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 3));
    });
}

#[test]
fn queue_overtaken_getter_is_served_next() {
    overtaken_getter_is_served_next(get_nowait);
}

#[test]
#[should_panic(expected = "a getter was overtaken past the limit")]
fn queue_overtaken_getter_is_served_next_twin_uncounted() {
    fault::with(Fault::QueueOvertakeUncounted, || {
        overtaken_getter_is_served_next(get_nowait)
    });
}

#[test]
#[should_panic(expected = "the overtaken getter was not woken")]
fn queue_overtaken_getter_is_served_next_twin_loses_place() {
    fault::with(Fault::QueueNotifiedWaiterLosesPlace, || {
        overtaken_getter_is_served_next(get_nowait)
    });
}

/// The same with the running gets as new `get` futures, which take an item
/// on their inlined fast path and must count the getters they overtake
/// there too.
#[test]
fn queue_overtaken_getter_is_served_next_by_get_futures() {
    overtaken_getter_is_served_next(get_polled_once);
}

#[test]
#[should_panic(expected = "a getter was overtaken past the limit")]
fn queue_overtaken_getter_is_served_next_by_get_futures_twin_uncounted() {
    fault::with(Fault::QueueOvertakeUncounted, || {
        overtaken_getter_is_served_next(get_polled_once)
    });
}

/// The order guarantee for putters, with a limit of 1 and one slot. The
/// oldest putter is notified of a freed slot that a running put fills
/// first, racing it: overtaken once, it keeps its place (it runs again in
/// another task), and the next freed slot is granted to it (a place held
/// for its item), not taken by a second running put; the younger putter is
/// served after it. `put` is the running put: `put_nowait`, or a new `put`
/// future polled once (its inlined fast path).
fn overtaken_putter_is_served_next(put: fn(&QueueCore<u32>, u32) -> Result<(), u32>) {
    loom::model(move || {
        let queue = Arc::new(QueueCore::fifo(NonZeroUsize::new(1)).overtake_limit(1));
        queue.try_put(0).unwrap();
        let (oldest, mut first, mut first_item) = waiting_putter(&queue, 10);
        let (younger, mut second, mut second_item) = waiting_putter(&queue, 11);
        assert_eq!(get_nowait(&queue), Ok(0));
        assert!(
            oldest.woken_since_poll(),
            "the oldest putter was not notified"
        );
        let barger = {
            let queue = queue.clone();
            thread::spawn(move || put(&queue, 20))
        };
        // It runs again, in another task.
        let moved = Recorder::new();
        let got = moved.poll(|cx| queue.poll_put(&mut first, &mut first_item, cx));
        let barged = barger.join().unwrap();
        match got {
            Poll::Ready(Ok(())) => {
                // It ran first and filled the slot; the barger found none.
                assert_eq!(barged, Err(20));
                assert_eq!(get_nowait(&queue), Ok(10));
            }
            Poll::Ready(Err(error)) => panic!("the oldest putter failed: {error:?}"),
            Poll::Pending => {
                assert_eq!(barged, Ok(()));
                // Overtaken once: the slot the next get frees is its own.
                assert_eq!(get_nowait(&queue), Ok(20));
                assert_eq!(
                    put(&queue, 21),
                    Err(21),
                    "a putter was overtaken past the limit"
                );
                assert!(
                    moved.woken_since_poll(),
                    "the overtaken putter was not woken"
                );
                let got = moved.poll(|cx| queue.poll_put(&mut first, &mut first_item, cx));
                assert!(
                    matches!(got, Poll::Ready(Ok(()))),
                    "the overtaken putter lost its place"
                );
                assert_eq!(get_nowait(&queue), Ok(10));
            }
        }
        // The younger putter is notified by the slot freed last.
        assert!(
            younger.woken_since_poll(),
            "the younger putter was not notified"
        );
        let got = younger.poll(|cx| queue.poll_put(&mut second, &mut second_item, cx));
        assert!(matches!(got, Poll::Ready(Ok(()))));
        assert_eq!(get_nowait(&queue), Ok(11));
    });
}

#[test]
fn queue_overtaken_putter_is_served_next() {
    overtaken_putter_is_served_next(put_nowait);
}

#[test]
fn queue_overtaken_putter_is_served_next_by_put_futures() {
    overtaken_putter_is_served_next(put_polled_once);
}

#[test]
#[should_panic(expected = "a putter was overtaken past the limit")]
fn queue_overtaken_putter_is_served_next_twin_uncounted() {
    fault::with(Fault::QueueOvertakeUncounted, || {
        overtaken_putter_is_served_next(put_nowait)
    });
}

#[test]
#[should_panic(expected = "a putter was overtaken past the limit")]
fn queue_overtaken_putter_is_served_next_by_put_futures_twin_uncounted() {
    fault::with(Fault::QueueOvertakeUncounted, || {
        overtaken_putter_is_served_next(put_polled_once)
    });
}

#[test]
#[should_panic(expected = "the overtaken putter was not woken")]
fn queue_overtaken_putter_is_served_next_twin_loses_place() {
    fault::with(Fault::QueueNotifiedWaiterLosesPlace, || {
        overtaken_putter_is_served_next(put_nowait)
    });
}

/// Two items arrive for two waiting getters; only the oldest is notified
/// (the baton). Before it runs, two running `get_nowait`s race for the
/// items. With a limit of 1, whichever completes first makes the oldest
/// (already notified, not waiting) due, so the item left is granted to it:
/// the oldest is overtaken once at most, and gets an item. The younger
/// getter sleeps throughout: nothing is left for it.
fn notified_getters_race() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None).overtake_limit(1));
        let (oldest, mut first) = waiting_getter(&queue);
        let (younger, mut second) = waiting_getter(&queue);
        queue.try_put(1).unwrap();
        queue.try_put(2).unwrap();
        assert!(
            oldest.woken_since_poll(),
            "the oldest getter was not notified"
        );
        assert!(!younger.woken_since_poll(), "two getters hold the baton");
        let racer = {
            let queue = queue.clone();
            thread::spawn(move || get_nowait(&queue))
        };
        let barged = get_nowait(&queue);
        let raced = racer.join().unwrap();
        assert!(
            !(raced.is_ok() && barged.is_ok()),
            "a getter was overtaken past the limit"
        );
        assert!(raced.is_ok() || barged.is_ok(), "both items were kept");
        let got = oldest.poll(|cx| queue.poll_get(&mut first, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(_))));
        assert_eq!(queue.len(), 0);
        assert!(!younger.woken_since_poll(), "a getter was woken to nothing");
        queue.cancel_get(&mut second);
    });
}

#[test]
fn queue_notified_getters_race() {
    notified_getters_race();
}

#[test]
#[should_panic(expected = "a getter was overtaken past the limit")]
fn queue_notified_getters_race_twin_uncounted() {
    fault::with(Fault::QueueOvertakeUncounted, notified_getters_race);
}

/// The count of overtakes starts again when the oldest getter is served
/// (the notified one takes an item). With a limit of 2: the oldest is
/// notified of an item that a `get_nowait` takes first (one overtake); it
/// then takes the next item itself, racing the put of a third, and the
/// count starts again. The younger getter, notified of the third item, is
/// overtaken once, which does not make it due: a fourth item is free for
/// a running get.
fn served_oldest_restarts_the_count() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None).overtake_limit(2));
        let (oldest, mut first) = waiting_getter(&queue);
        let (younger, mut second) = waiting_getter(&queue);
        queue.try_put(1).unwrap();
        assert_eq!(get_nowait(&queue), Ok(1));
        queue.try_put(2).unwrap();
        assert!(
            oldest.woken_since_poll(),
            "the oldest getter was not notified"
        );
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(3).unwrap())
        };
        let got = oldest.poll(|cx| queue.poll_get(&mut first, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 2));
        producer.join().unwrap();
        assert!(
            younger.woken_since_poll(),
            "the younger getter was not notified"
        );
        assert_eq!(get_nowait(&queue), Ok(3));
        queue.try_put(4).unwrap();
        assert_eq!(
            get_nowait(&queue),
            Ok(4),
            "the count did not start again when the oldest was served"
        );
        queue.cancel_get(&mut second);
    });
}

#[test]
fn queue_served_oldest_restarts_the_count() {
    served_oldest_restarts_the_count();
}

#[test]
#[should_panic(expected = "the count did not start again when the oldest was served")]
fn queue_served_oldest_restarts_the_count_twin_keeps_count() {
    fault::with(
        Fault::QueueServedOldestKeepsCount,
        served_oldest_restarts_the_count,
    );
}

/// Two items arrive for two waiting getters: the oldest is notified (it
/// holds the baton), and when it takes its item, racing a third put, it
/// passes the baton on: the younger getter is woken, since an item is
/// still there for it (no item is left while a getter sleeps and none is
/// notified).
fn notified_getter_passes_the_baton() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None).overtake_limit(8));
        let (oldest, mut first) = waiting_getter(&queue);
        let (younger, mut second) = waiting_getter(&queue);
        queue.try_put(1).unwrap();
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(2).unwrap())
        };
        let got = oldest.poll(|cx| queue.poll_get(&mut first, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 1));
        producer.join().unwrap();
        assert!(
            younger.woken_since_poll(),
            "an item was left while a getter slept"
        );
        let got = younger.poll(|cx| queue.poll_get(&mut second, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 2));
    });
}

#[test]
fn queue_notified_getter_passes_the_baton() {
    notified_getter_passes_the_baton();
}

#[test]
#[should_panic(expected = "an item was left while a getter slept")]
fn queue_notified_getter_passes_the_baton_twin_keeps_baton() {
    fault::with(
        Fault::QueueNotifiedKeepsBaton,
        notified_getter_passes_the_baton,
    );
}

/// Three items for two waiting getters: the oldest is notified, and a
/// running get (`get_nowait`) takes an item past them, racing the oldest's
/// poll. Whether the overtake came before the oldest's pass (which then
/// wakes the next only if none is on its way) or after it, the younger
/// getter is woken, since an item is still there for it: a pass after an
/// overtake is limited, not dropped.
fn pass_after_an_overtake_still_wakes_the_next() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None).overtake_limit(8));
        let (oldest, mut first) = waiting_getter(&queue);
        let (younger, mut second) = waiting_getter(&queue);
        for item in 1..=3 {
            queue.try_put(item).unwrap();
        }
        let runner = {
            let queue = queue.clone();
            thread::spawn(move || get_nowait(&queue))
        };
        let got = oldest.poll(|cx| queue.poll_get(&mut first, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item <= 2));
        assert!(matches!(runner.join().unwrap(), Ok(item) if item <= 2));
        assert!(
            younger.woken_since_poll(),
            "an item was left while a getter slept"
        );
        let got = younger.poll(|cx| queue.poll_get(&mut second, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 3));
    });
}

#[test]
fn queue_pass_after_an_overtake_still_wakes_the_next() {
    pass_after_an_overtake_still_wakes_the_next();
}

#[test]
#[should_panic(expected = "an item was left while a getter slept")]
fn queue_pass_after_an_overtake_still_wakes_the_next_twin_keeps_baton() {
    fault::with(
        Fault::QueueNotifiedKeepsBaton,
        pass_after_an_overtake_still_wakes_the_next,
    );
}

/// Two slots free up for two waiting putters: the oldest is notified, and
/// when it inserts, racing a get that frees another slot, it passes the
/// baton on: the younger putter is woken, since a slot is still free.
fn notified_putter_passes_the_baton() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::fifo(NonZeroUsize::new(2)).overtake_limit(8));
        queue.try_put(1).unwrap();
        queue.try_put(2).unwrap();
        let (oldest, mut first, mut first_item) = waiting_putter(&queue, 3);
        let (younger, mut second, mut second_item) = waiting_putter(&queue, 4);
        assert_eq!(get_nowait(&queue), Ok(1));
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || get_nowait(&queue))
        };
        let put = oldest.poll(|cx| queue.poll_put(&mut first, &mut first_item, cx));
        assert!(matches!(put, Poll::Ready(Ok(()))));
        assert_eq!(consumer.join().unwrap(), Ok(2));
        assert!(
            younger.woken_since_poll(),
            "a slot was left free while a putter slept"
        );
        let put = younger.poll(|cx| queue.poll_put(&mut second, &mut second_item, cx));
        assert!(matches!(put, Poll::Ready(Ok(()))));
        assert_eq!(get_nowait(&queue), Ok(3));
        assert_eq!(get_nowait(&queue), Ok(4));
    });
}

#[test]
fn queue_notified_putter_passes_the_baton() {
    notified_putter_passes_the_baton();
}

#[test]
#[should_panic(expected = "a slot was left free while a putter slept")]
fn queue_notified_putter_passes_the_baton_twin_keeps_baton() {
    fault::with(
        Fault::QueueNotifiedKeepsBaton,
        notified_putter_passes_the_baton,
    );
}

/// The oldest getter is notified, then overtaken once by a running
/// `get_nowait` (with a limit of 1, it is due, though still notified, not
/// waiting). The next item, put while a second `get_nowait` races it, is
/// granted to it: the second `get_nowait` finds nothing.
fn due_notified_getter_is_granted_the_next_item() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None).overtake_limit(1));
        let (oldest, mut first) = waiting_getter(&queue);
        queue.try_put(1).unwrap();
        assert!(
            oldest.woken_since_poll(),
            "the oldest getter was not notified"
        );
        assert_eq!(queue.try_get(false).map(|taken| taken.item), Ok(1));
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(2).unwrap())
        };
        let barged = queue.try_get(false).map(|taken| taken.item);
        producer.join().unwrap();
        assert_eq!(
            barged,
            Err(TryGetError::Empty),
            "a getter was overtaken past the limit"
        );
        let got = oldest.poll(|cx| queue.poll_get(&mut first, false, cx));
        assert!(matches!(got, Poll::Ready(Ok(ref taken)) if taken.item == 2));
    });
}

#[test]
fn queue_due_notified_getter_is_granted_the_next_item() {
    due_notified_getter_is_granted_the_next_item();
}

#[test]
#[should_panic(expected = "a getter was overtaken past the limit")]
fn queue_due_notified_getter_is_granted_the_next_item_twin_uncounted() {
    fault::with(
        Fault::QueueOvertakeUncounted,
        due_notified_getter_is_granted_the_next_item,
    );
}
