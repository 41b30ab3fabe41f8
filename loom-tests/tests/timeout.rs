//! loom models of the timeout core (`asyncio::__cores::timeout`): a
//! `TimeoutHandle` rescheduling the scope from another thread, racing the
//! scope's poll and the scope's end. The scope is the main thread, with a
//! recording waker.
//!
//! Every model has a calibration twin: the same model with a fault switched
//! on inside the core, which must make the model's own assertion fail.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose: attributes
//! after a crate-level `cfg` that is off are stripped with the crate, and
//! the workspace's `missing_docs` lint would then fail the plain (non-loom)
//! `cargo clippy --workspace --all-targets -- -D warnings`.
#![cfg(asyncio_loom)]

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::timeout::{Phase, TimeoutCore};
use asyncio::RescheduleError;
use loom::sync::Arc;
use loom::thread;
use loom_tests::timeout::{deadlines, poll_deadline, when};
use loom_tests::waker::Recorder;

const MISSED: &str = "the scope missed a reschedule: it saw the old deadline and was not woken";
const AFTER_CLOSE: &str = "a reschedule succeeded after the scope closed";

/// A reschedule from another thread racing the scope's poll. The scope had
/// polled once (its waker is registered); it polls again while a handle
/// moves the deadline. Either that poll sees the new deadline and
/// generation, or the scope is woken afterwards, and its next poll sees
/// them: no lost re-arm.
fn reschedule_races_poll() {
    let (first, later) = deadlines();
    loom::model(move || {
        let core = Arc::new(TimeoutCore::new(Some(first.into())));
        core.enter();
        let scope = Recorder::new();
        assert_eq!(poll_deadline(&core, &scope), (Some(first), 0));

        let handle = {
            let core = core.clone();
            thread::spawn(move || core.reschedule(Some(later.into())))
        };
        let seen = poll_deadline(&core, &scope);
        assert_eq!(handle.join().unwrap(), Ok(()));

        match seen {
            (Some(deadline), 1) if deadline == later => {}
            (Some(deadline), 0) if deadline == first => assert!(scope.woken(), "{MISSED}"),
            other => panic!("deadline and generation disagree: {other:?}"),
        }
        assert_eq!(poll_deadline(&core, &scope), (Some(later), 1));
    });
}

#[test]
fn reschedule_races_poll_model() {
    reschedule_races_poll();
}

#[test]
#[should_panic(expected = "the scope missed a reschedule")]
fn reschedule_races_poll_twin_skip_wake() {
    fault::with(Fault::TimeoutSkipWake, reschedule_races_poll);
}

/// A reschedule racing the scope's end (`close(expired)`). The reschedule
/// either comes first (`Ok`: the deadline seen at close is the new one, the
/// scope was woken, the generation moved) or is refused with the error of
/// the phase the scope ended in, changing nothing. The phase stays closed.
fn reschedule_races_close(expired: bool) {
    let (first, later) = deadlines();
    let (closed, refusal) = if expired {
        (Phase::Expired, RescheduleError::Expired)
    } else {
        (Phase::Finished, RescheduleError::Finished)
    };
    loom::model(move || {
        let core = Arc::new(TimeoutCore::new(Some(first.into())));
        core.enter();
        let scope = Recorder::new();
        assert_eq!(poll_deadline(&core, &scope), (Some(first), 0));

        let handle = {
            let core = core.clone();
            thread::spawn(move || core.reschedule(Some(later.into())))
        };
        core.close(expired);
        let at_close = when(&core);
        let result = handle.join().unwrap();

        assert_eq!(core.phase(), closed, "a reschedule reopened a closed scope");
        // A last look at the generation (the real scope never polls again).
        let (deadline, generation) = poll_deadline(&core, &Recorder::new());
        match result {
            Ok(()) => {
                assert_eq!(at_close, Some(later), "{AFTER_CLOSE}");
                assert!(
                    scope.woken(),
                    "a successful reschedule did not wake the scope"
                );
                assert_eq!((deadline, generation), (Some(later), 1));
            }
            Err(error) => {
                assert_eq!(error, refusal, "a refused reschedule gave the wrong error");
                assert!(!scope.woken(), "a refused reschedule woke the scope");
                assert_eq!(
                    (deadline, generation),
                    (Some(first), 0),
                    "a refused reschedule changed the deadline"
                );
            }
        }
    });
}

#[test]
fn reschedule_races_close_expired_model() {
    reschedule_races_close(true);
}

#[test]
#[should_panic(expected = "a reschedule succeeded after the scope closed")]
fn reschedule_races_close_expired_twin_reschedule_after_close() {
    fault::with(Fault::TimeoutRescheduleAfterClose, || {
        reschedule_races_close(true)
    });
}

#[test]
fn reschedule_races_close_finished_model() {
    reschedule_races_close(false);
}

#[test]
#[should_panic(expected = "a reschedule succeeded after the scope closed")]
fn reschedule_races_close_finished_twin_reschedule_after_close() {
    fault::with(Fault::TimeoutRescheduleAfterClose, || {
        reschedule_races_close(false)
    });
}
