//! loom models of the queue core's streams (`QueueCore::poll_stream`): a
//! stream holds no place in line and is never promised an item, so one that
//! is kept but never polled again cannot hold back an item or another
//! waiter. Each model has a calibration twin that switches a fault on inside
//! the core and must fail.
//!
//! Liveness is checked as "woken since its last poll": each waiter here is
//! polled once before the check, on a recorder of its own.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose (see
//! `task.rs`).
#![cfg(asyncio_loom)]

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::queue::{QueueCore, Taken, Waiter};
use asyncio::queue::GetError;
use loom::sync::Arc;
use loom::thread;
use loom_tests::waker::Recorder;

const STREAM_ASLEEP: &str = "a waiting stream was not woken";

/// A stream's poll as the plain (unguarded) stream sees it: the item.
fn item<T>(polled: Result<Taken<T>, GetError>) -> Result<T, GetError> {
    polled.map(|taken| taken.item)
}

/// A stream that is registered and then never polled again (its `next()`
/// future was dropped, the stream kept) waits before a second stream, which
/// registers while a producer puts one item. The second stream gets the
/// item: at once, or after a wake since its poll. The idle stream holds
/// nothing: the queue ends empty.
fn idle_stream_keeps_no_other_stream_asleep() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None));
        let idle = Recorder::new();
        let mut idle_waiter = Waiter::new();
        assert!(idle
            .poll(|cx| queue.poll_stream(&mut idle_waiter, false, cx).map(item))
            .is_pending());

        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || {
                let recorder = Recorder::new();
                let mut waiter = Waiter::new();
                let first = recorder.poll(|cx| queue.poll_stream(&mut waiter, false, cx).map(item));
                (recorder, waiter, first)
            })
        };
        let producer = {
            let queue = queue.clone();
            thread::spawn(move || queue.try_put(7).unwrap())
        };
        let (recorder, mut waiter, first) = consumer.join().unwrap();
        producer.join().unwrap();

        let got = recorder.settle(
            first,
            |cx| queue.poll_stream(&mut waiter, false, cx).map(item),
            STREAM_ASLEEP,
        );
        assert_eq!(got, Ok(7));
        assert_eq!(queue.len(), 0, "the item was taken once");
        queue.cancel_stream(&mut idle_waiter);
    });
}

#[test]
fn queue_idle_stream_keeps_no_other_stream_asleep() {
    idle_stream_keeps_no_other_stream_asleep();
}

#[test]
#[should_panic(expected = "a waiting stream was not woken")]
fn queue_idle_stream_keeps_no_other_stream_asleep_twin_wakes_one_stream() {
    fault::with(
        Fault::QueueWakesOneStream,
        idle_stream_keeps_no_other_stream_asleep,
    );
}

/// A stream registers while a graceful shutdown of an empty queue races it:
/// the stream ends, at once or after a wake since its poll.
fn shutdown_ends_a_waiting_stream() {
    loom::model(|| {
        let queue = Arc::new(QueueCore::<u32>::fifo(None));
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || {
                let recorder = Recorder::new();
                let mut waiter = Waiter::new();
                let first = recorder.poll(|cx| queue.poll_stream(&mut waiter, false, cx).map(item));
                (recorder, waiter, first)
            })
        };
        let closer = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(false))
        };
        let (recorder, mut waiter, first) = consumer.join().unwrap();
        closer.join().unwrap();
        let outcome = recorder.settle(
            first,
            |cx| queue.poll_stream(&mut waiter, false, cx).map(item),
            STREAM_ASLEEP,
        );
        assert_eq!(outcome, Err(GetError::ShutDown));
    });
}

#[test]
fn queue_shutdown_ends_a_waiting_stream() {
    shutdown_ends_a_waiting_stream();
}

#[test]
#[should_panic(expected = "a waiting stream was not woken")]
fn queue_shutdown_ends_a_waiting_stream_twin_skips_getters() {
    fault::with(
        Fault::QueueShutdownSkipsGetters,
        shutdown_ends_a_waiting_stream,
    );
}
