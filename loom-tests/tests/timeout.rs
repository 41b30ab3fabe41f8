//! loom models of the timeout core (`asyncio::__cores::timeout`): a
//! `TimeoutHandle` rescheduling the scope from another thread, racing the
//! scope's poll and the scope's end, and handles asked for from two threads
//! at once of a scope that had none (the core is created lazily). The scope
//! is the main thread, with a recording waker.
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
use asyncio::__cores::timeout::{LazyCore, Phase, TimeoutCore};
use asyncio::RescheduleError;
use loom::sync::Arc;
use loom::thread;
use loom_tests::timeout::{deadlines, poll_deadline};
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
            (Some(deadline), 0) if deadline == first => {
                assert!(scope.woken_since_poll(), "{MISSED}")
            }
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

/// A reschedule racing the scope's end because its body finished. The
/// reschedule either comes first (`Ok`: the scope was woken and the
/// generation moved) or is refused with `Finished`, changing nothing. The
/// phase stays `Finished` either way.
fn reschedule_races_finish() {
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
        core.finish();
        let result = handle.join().unwrap();

        assert_eq!(core.phase(), Phase::Finished, "{AFTER_CLOSE}: it reopened");
        // A last look at the generation (the real scope never polls again).
        let (deadline, generation) = poll_deadline(&core, &Recorder::new());
        // The phase only moves forward, a poll of a closed scope included.
        assert_eq!(
            core.phase(),
            Phase::Finished,
            "{AFTER_CLOSE}: a poll reopened it"
        );
        match result {
            Ok(()) => {
                // Before `finish` the scope's waker is registered, so a
                // reschedule that lands first wakes it; one that was not
                // woken landed after the scope closed.
                assert!(scope.woken_since_poll(), "{AFTER_CLOSE}: nothing was woken");
                assert_eq!((deadline, generation), (Some(later), 1));
            }
            Err(error) => {
                assert_eq!(error, RescheduleError::Finished, "{AFTER_CLOSE}");
                assert_eq!(scope.wakes(), 0, "a refused reschedule woke the scope");
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
fn reschedule_races_finish_model() {
    reschedule_races_finish();
}

#[test]
#[should_panic(expected = "a reschedule succeeded after the scope closed")]
fn reschedule_races_finish_twin_reschedule_after_close() {
    fault::with(Fault::TimeoutRescheduleAfterClose, reschedule_races_finish);
}

/// A reschedule racing the scope's expiry. The scope read the first deadline
/// (generation 0), found it passed, and expires on generation 0 while a
/// handle moves the deadline later. Exactly one of them wins: either the
/// reschedule landed first (`Ok`), and then the scope must refuse to expire
/// on the old deadline, stay active, and have been woken to re-arm; or the
/// expiry landed first, and the reschedule is refused with `Expired`. A
/// reschedule that returned `Ok` is never ignored.
fn reschedule_races_expiry() {
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
        let expired = core.expire(0);
        let result = handle.join().unwrap();

        match result {
            Ok(()) => {
                assert!(!expired, "{IGNORED}");
                assert_eq!(core.phase(), Phase::Active, "{IGNORED}");
                assert!(
                    scope.woken_since_poll(),
                    "a successful reschedule did not wake the scope"
                );
                assert_eq!(poll_deadline(&core, &scope), (Some(later), 1));
                // Re-armed on the new deadline, the scope expires on it.
                assert!(
                    core.expire(1),
                    "the scope did not expire on its current deadline"
                );
                assert_eq!(core.phase(), Phase::Expired);
            }
            Err(error) => {
                assert!(
                    expired,
                    "a reschedule was refused but the scope did not expire"
                );
                assert_eq!(error, RescheduleError::Expired);
                assert_eq!(core.phase(), Phase::Expired);
                assert_eq!(scope.wakes(), 0, "a refused reschedule woke the scope");
            }
        }
    });
}

const IGNORED: &str = "a reschedule returned Ok but the scope expired on the old deadline";

#[test]
fn reschedule_races_expiry_model() {
    reschedule_races_expiry();
}

#[test]
#[should_panic(expected = "a reschedule returned Ok but the scope expired on the old deadline")]
fn reschedule_races_expiry_twin_expire_ignores_generation() {
    fault::with(
        Fault::TimeoutExpireIgnoresGeneration,
        reschedule_races_expiry,
    );
}

#[test]
#[should_panic(expected = "a reschedule returned Ok but the scope expired on the old deadline")]
fn reschedule_races_expiry_twin_reschedule_after_close() {
    fault::with(Fault::TimeoutRescheduleAfterClose, reschedule_races_expiry);
}

/// The scope moves to another task between two polls (a `Timeout` polled
/// from one task, then from another), while a handle reschedules it. The
/// task that polled last is the one woken to re-arm: a core that keeps the
/// first waker wakes a task that no longer runs the scope.
fn scope_moves_to_another_task() {
    let (first, later) = deadlines();
    loom::model(move || {
        let core = Arc::new(TimeoutCore::new(Some(first.into())));
        core.enter();
        let (before, after) = (Recorder::new(), Recorder::new());
        assert_eq!(poll_deadline(&core, &before), (Some(first), 0));

        let handle = {
            let core = core.clone();
            thread::spawn(move || core.reschedule(Some(later.into())))
        };
        let seen = poll_deadline(&core, &after);
        assert_eq!(handle.join().unwrap(), Ok(()));

        if seen == (Some(first), 0) {
            assert!(after.woken_since_poll(), "{MISSED}");
        }
        assert_eq!(poll_deadline(&core, &after), (Some(later), 1));
    });
}

#[test]
fn scope_moves_to_another_task_model() {
    scope_moves_to_another_task();
}

#[test]
#[should_panic(expected = "the scope missed a reschedule")]
fn scope_moves_to_another_task_twin_skip_wake() {
    fault::with(Fault::TimeoutSkipWake, scope_moves_to_another_task);
}

const TWO_CORES: &str = "two handles of one scope got different cores";

/// Two handles asked for at once, from two threads, of a running scope that
/// had none yet (`Scope::handle` takes `&self`, and a `Scope` is `Sync`):
/// the core is created once, so both handles and the scope share it, and a
/// reschedule through one handle is seen through the other and by the
/// scope's own view.
fn handles_asked_for_at_once_share_one_core() {
    let (first, later) = deadlines();
    loom::model(move || {
        let slot = Arc::new(LazyCore::default());
        let seed = move || TimeoutCore::with_phase(Some(first.into()), Phase::Active);

        let other = {
            let slot = slot.clone();
            thread::spawn(move || slot.get_or_create(seed))
        };
        let mine = slot.get_or_create(seed);
        let theirs = other.join().unwrap();

        assert_eq!(mine.reschedule(Some(later.into())), Ok(()));
        assert_eq!(
            theirs.when().map(|when| when.into_std()),
            Some(later),
            "{TWO_CORES}: a reschedule through one is not seen through the other"
        );
        let scope = slot.get().expect("a handle was asked for");
        assert_eq!(
            poll_deadline(&scope, &Recorder::new()),
            (Some(later), 1),
            "{TWO_CORES}: the scope does not see the reschedule"
        );
    });
}

#[test]
fn handles_asked_for_at_once_share_one_core_model() {
    handles_asked_for_at_once_share_one_core();
}

#[test]
#[should_panic(expected = "two handles of one scope got different cores")]
fn handles_asked_for_at_once_share_one_core_twin_core_replaced() {
    fault::with(
        Fault::TimeoutLazyCoreReplaced,
        handles_asked_for_at_once_share_one_core,
    );
}
