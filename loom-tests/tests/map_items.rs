//! loom models of the core the map's items publish into
//! (`asyncio::__cores::map::{ItemCore, Item}`): the crate's real item
//! wrapper and core, with the runtime's actions as loom threads (a worker
//! polling an item; an abort dropping it) and the map's driver on the main
//! thread (draining the core with a recording waker, or closing it when the
//! stream is dropped).
//!
//! Every model has a calibration twin: the same model with a fault switched
//! on inside the core, which must make the model's own assertion fail.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose (see
//! `timeout.rs`).
#![cfg(asyncio_loom)]

use std::future::{ready, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::map::{Finished, Item, ItemCore};
use asyncio::TaskError;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use loom_tests::task::{count_report, panics, reports, reset_reports, Completes, PanicsOnDrop};
use loom_tests::waker::Recorder;

const NOT_WOKEN: &str = "the map's driver was not woken";
const TWICE: &str = "an item published more than one outcome";
const VALUE_LOST: &str = "a completed item's value was lost to the abort";
const DROPPED_LATE: &str = "the outcome was visible before the item's future was dropped";
const PANIC_LOST: &str =
    "a panic of an item was not reported exactly once after the map was dropped";

type Queue<T, E> = Vec<(usize, Finished<T, E>)>;

/// A map item as the runtime holds it: a worker polls it in place
/// ([`run`](Spawned::run)); an abort drops it, never during a poll
/// ([`abort`](Spawned::abort)). The lock gives exactly that exclusion.
struct Spawned<F, T, E> {
    item: Mutex<Option<Running<F, T, E>>>,
}

/// An item the runtime has not dropped yet.
type Running<F, T, E> = Pin<Box<Item<F, T, E>>>;

impl<F, T, E> Spawned<F, T, E>
where
    F: Future<Output = Result<T, E>>,
{
    fn new(future: F, core: &Arc<ItemCore<T, E>>, index: usize) -> Self {
        Self {
            item: Mutex::new(Some(Box::pin(Item::new(future, core.clone(), index)))),
        }
    }

    /// Polls the item once, if it was not aborted; whether that finished it.
    fn run(&self) -> bool {
        let mut item = self.item.lock().unwrap();
        match item.as_mut() {
            Some(item) => item
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_ready(),
            None => false,
        }
    }

    /// Drops the item (outside the lock, as tokio drops an aborted task's
    /// future outside its scheduler's locks).
    fn abort(&self) {
        let item = self.item.lock().unwrap().take();
        drop(item);
    }
}

/// One poll of the driver: takes what the core queued into `got`; ready
/// once `want` outcomes (`Done` entries) were taken.
fn poll_driver<T, E>(
    core: &ItemCore<T, E>,
    cx: &mut Context<'_>,
    got: &mut Queue<T, E>,
    want: usize,
) -> Poll<()> {
    let mut batch = Vec::new();
    core.drain(cx.waker(), &mut batch);
    got.append(&mut batch);
    let done = got
        .iter()
        .filter(|(_, finished)| matches!(finished, Finished::Done(_)))
        .count();
    if done >= want {
        Poll::Ready(())
    } else {
        Poll::Pending
    }
}

/// Two items finish on two workers while the driver polls. The driver first
/// polls from one task, then from another (a stream moved between tasks),
/// and from then on only its latest waker counts: whenever it is pending it
/// has been woken since its last poll, and it ends with both values, each
/// once, under its item's slot.
fn publishes_wake_the_driver() {
    loom::model(|| {
        let core = Arc::new(ItemCore::<u32, ()>::new(count_report));
        let first = Spawned::new(ready(Ok(10)), &core, 0);
        let second = Spawned::new(ready(Ok(11)), &core, 1);
        let mut got = Vec::new();
        let before = Recorder::new();
        assert!(before
            .poll(|cx| poll_driver(&core, cx, &mut got, 2))
            .is_pending());

        let one = thread::spawn(move || assert!(first.run()));
        let two = thread::spawn(move || assert!(second.run()));
        let driver = Recorder::new();
        let last = driver.poll(|cx| poll_driver(&core, cx, &mut got, 2));
        one.join().unwrap();
        two.join().unwrap();
        driver.settle(last, |cx| poll_driver(&core, cx, &mut got, 2), NOT_WOKEN);

        got.sort_by_key(|(index, _)| *index);
        let values: Vec<_> = got
            .iter()
            .map(|(index, finished)| match finished {
                Finished::Done(Ok(value)) => (*index, *value),
                other => panic!("unexpected entry {other:?}"),
            })
            .collect();
        assert_eq!(values, [(0, 10), (1, 11)], "{TWICE}");
    });
}

#[test]
fn publishes_wake_the_driver_model() {
    publishes_wake_the_driver();
}

#[test]
#[should_panic(expected = "the map's driver was not woken")]
fn publishes_wake_the_driver_twin_skip_wake() {
    fault::with(Fault::MapItemSkipWake, publishes_wake_the_driver);
}

/// An abort racing an item's completion: a worker polls an item that
/// completes on its first poll while an abort drops it on another thread.
/// The driver is woken and finds exactly one outcome for the slot: `Ok(7)`
/// whenever the poll completed the item (completion beats the abort), else
/// `Cancelled`; and when it sees the outcome, the item's future has been
/// dropped (fail-fast joins in-flight items: their destructors have run).
fn abort_races_completion() {
    loom::model(|| {
        let core = Arc::new(ItemCore::<u32, ()>::new(count_report));
        let dropped = Arc::new(AtomicBool::new(false));
        let spawned = Arc::new(Spawned::new(Completes::new(7, dropped.clone()), &core, 0));
        let mut got = Vec::new();
        let driver = Recorder::new();
        let first = driver.poll(|cx| poll_driver(&core, cx, &mut got, 1));
        assert!(first.is_pending());

        let worker = {
            let spawned = spawned.clone();
            thread::spawn(move || spawned.run())
        };
        let abort = thread::spawn(move || spawned.abort());
        let mut seen_dropped = None;
        let last = driver.poll(|cx| {
            let poll = poll_driver(&core, cx, &mut got, 1);
            if poll.is_ready() {
                seen_dropped = Some(dropped.load(Ordering::SeqCst));
            }
            poll
        });
        let completed = worker.join().unwrap();
        abort.join().unwrap();
        driver.settle(last, |cx| poll_driver(&core, cx, &mut got, 1), NOT_WOKEN);
        if let Some(seen) = seen_dropped {
            assert!(seen, "{DROPPED_LATE}");
        }

        // Everything is joined: whatever else was published is queued now.
        let mut rest = Vec::new();
        core.drain(Waker::noop(), &mut rest);
        got.append(&mut rest);
        assert_eq!(got.len(), 1, "{TWICE}: {got:?}");
        match &got[0] {
            (0, Finished::Done(Ok(7))) => {
                assert!(completed, "a value was published without a completing poll");
            }
            (0, Finished::Done(Err(TaskError::Cancelled))) => assert!(!completed, "{VALUE_LOST}"),
            other => panic!("unexpected entry {other:?}"),
        }
    });
}

#[test]
fn abort_races_completion_model() {
    abort_races_completion();
}

#[test]
#[should_panic(expected = "an item published more than one outcome")]
fn abort_races_completion_twin_drop_always_publishes() {
    fault::with(Fault::MapItemDropAlwaysPublishes, abort_races_completion);
}

/// The stream is dropped while items finish: the driver drained once (its
/// waker is registered), then closes the core with the ids of the items in
/// its slots, while one item panics on a worker and another, aborted,
/// panics in its destructor. Each panic is reported exactly once, whether
/// it was queued before the close or published after it; nothing is left
/// queued.
fn close_races_publish() {
    loom::model(|| {
        reset_reports();
        let core = Arc::new(ItemCore::<u32, ()>::new(count_report));
        let panicking = Spawned::new(panics::<u32, ()>(), &core, 0);
        let dropped = Spawned::new(PanicsOnDrop, &core, 1);
        let mut got = Vec::new();
        let driver = Recorder::new();
        assert!(driver
            .poll(|cx| poll_driver(&core, cx, &mut got, 2))
            .is_pending());

        let worker = thread::spawn(move || assert!(panicking.run()));
        let abort = thread::spawn(move || dropped.abort());
        let ids = vec![
            Some(asyncio::__cores::task_id(1)),
            Some(asyncio::__cores::task_id(2)),
        ];
        core.close(ids);
        worker.join().unwrap();
        abort.join().unwrap();

        assert_eq!(reports(), 2, "{PANIC_LOST}");
        let mut rest = Vec::new();
        core.drain(Waker::noop(), &mut rest);
        assert!(rest.is_empty(), "an outcome was queued after the close");
    });
}

#[test]
fn close_races_publish_model() {
    close_races_publish();
}

#[test]
#[should_panic(expected = "a panic of an item was not reported exactly once")]
fn close_races_publish_twin_close_forgets_queued() {
    fault::with(Fault::MapItemCloseForgetsQueued, close_races_publish);
}
