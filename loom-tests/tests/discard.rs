//! loom model of how the task core drops a value nobody will read
//! (`asyncio::__cores::task::discard`): a detached task's value whose
//! destructor panics. Whether the worker publishing the value or the handle
//! detaching drops it, the panic reaches the report function exactly once.
//!
//! The calibration twin switches on a fault that drops the value without
//! catching the panic, and must fail.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose (see
//! `task.rs`).
#![cfg(asyncio_loom)]

use std::future::ready;

use asyncio::__cores::fault::{self, Fault};
use loom::thread;
use loom_tests::task::{core, count_report, reports, reset_reports, Spawned};

const NOT_REPORTED_ONCE: &str = "the value's drop panic was not reported exactly once";

/// A task's value whose destructor panics. It unwinds with `resume_unwind`,
/// which skips the panic hook, so the model stays quiet.
#[derive(Debug)]
struct ValuePanicsOnDrop;

impl Drop for ValuePanicsOnDrop {
    fn drop(&mut self) {
        std::panic::resume_unwind(Box::new("the value's destructor panicked"));
    }
}

/// The handle is dropped (detach) while the worker completes the child. The
/// value is dropped by whichever comes second: by `publish` on the worker
/// (detached already) or by `detach` on the main thread (value in the slot).
fn detach_races_a_value_that_panics_on_drop() {
    loom::model(|| {
        reset_reports();
        let core = core::<ValuePanicsOnDrop, ()>(count_report);
        let spawned = Spawned::new(ready(Ok(ValuePanicsOnDrop)), core.clone());
        let worker = thread::spawn(move || {
            assert!(spawned.run(), "the child completes on its first poll");
        });
        core.detach();
        worker.join().unwrap();
        assert!(core.is_done());
        assert_eq!(reports(), 1, "{NOT_REPORTED_ONCE}");
    });
}

#[test]
fn detach_races_a_value_that_panics_on_drop_model() {
    detach_races_a_value_that_panics_on_drop();
}

#[test]
#[should_panic(expected = "the value's drop panic was not reported exactly once")]
fn detach_races_a_value_that_panics_on_drop_twin_discard_loses_panic() {
    fault::with(
        Fault::DiscardLosesPanic,
        detach_races_a_value_that_panics_on_drop,
    );
}
