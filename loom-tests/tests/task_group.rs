//! loom models of the task-group core (`asyncio::__cores::task_group`):
//! the crate's real `GroupCore`, with children, spawners and the owner as
//! loom threads. A child's end is its wrapper calling `finish` (after a
//! completion, or after an abort dropped it); the owner polls with a
//! recording waker and aborts the children when it sees the cancellation,
//! as the tokio layer does.
//!
//! Liveness is "woken since the last poll": each check compares the
//! recorder's wake count with the count at the owner's previous poll.
//! Safety: the group never joins while a child is live, and every failure
//! is either returned or reported exactly once.
//!
//! Every model has a calibration twin: the same model with a fault
//! switched on inside the core, which must make the model's own assertion
//! fail.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose (see
//! `task.rs`).
#![cfg(asyncio_loom)]

use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
use std::sync::Arc as StdArc;
use std::task::Poll;

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::task_group::{
    Abort, Adopted, Failure, GroupCore, JoinPoll, Joined, Refused, Started,
};
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::Arc;
use loom::thread;
use loom_tests::task::{count_report, reports, reset_reports};
use loom_tests::waker::Recorder;

const OWNER_ASLEEP: &str = "the owner was not woken since its last poll";
const JOINED_EARLY: &str = "the group joined while a child was live";
const LEAKED: &str = "a child was accepted but never aborted: the group can never join";

/// A child's abort handle that counts the aborts asked of it. Plain std
/// atomics: a tally read after the threads are joined.
#[derive(Debug, Clone, Default)]
struct Aborts(StdArc<StdAtomicUsize>);

impl Abort for Aborts {
    fn abort(&self) {
        self.0.fetch_add(1, StdOrdering::SeqCst);
    }
}

impl Aborts {
    fn count(&self) -> usize {
        self.0.load(StdOrdering::SeqCst)
    }
}

type Core = GroupCore<&'static str, Aborts>;

fn group() -> Arc<Core> {
    reset_reports();
    Arc::new(GroupCore::new(asyncio::__cores::task_id(100), count_report))
}

/// Spawns a child the way the tokio layer does: reserve, then attach.
fn spawned(core: &Core, id: u64) -> (usize, Aborts) {
    let aborts = Aborts::default();
    let index = core
        .reserve(asyncio::__cores::task_id(id))
        .expect("the group is open");
    core.attach(index, asyncio::__cores::task_id(id), aborts.clone());
    (index, aborts)
}

/// The owner's side: a recorder, and its wake count at the last poll.
struct Owner {
    recorder: Recorder,
    seen: usize,
}

impl Owner {
    fn new() -> Self {
        Self {
            recorder: Recorder::new(),
            seen: 0,
        }
    }

    fn poll(&mut self, core: &Core, body_done: bool) -> JoinPoll<&'static str> {
        self.seen = self.recorder.wakes();
        self.recorder
            .poll(|cx| Poll::Ready(core.poll_join(cx, body_done)))
            .into_ready()
    }

    /// Whether a wake came since the last poll.
    fn woken_since_poll(&self) -> bool {
        self.recorder.wakes() > self.seen
    }
}

trait IntoReady<T> {
    fn into_ready(self) -> T;
}

impl<T> IntoReady<T> for Poll<T> {
    fn into_ready(self) -> T {
        match self {
            Poll::Ready(value) => value,
            Poll::Pending => unreachable!("poll_join answers at once"),
        }
    }
}

fn expect_pending(poll: JoinPoll<&'static str>) -> bool {
    match poll {
        JoinPoll::Pending { cancelling } => cancelling,
        JoinPoll::Ready(joined) => panic!("{JOINED_EARLY}: {joined:?}"),
    }
}

fn expect_ready(poll: JoinPoll<&'static str>, message: &str) -> Joined<&'static str> {
    match poll {
        JoinPoll::Ready(joined) => joined,
        JoinPoll::Pending { .. } => panic!("{message}"),
    }
}

fn errors(joined: &Joined<&'static str>) -> Vec<&'static str> {
    let mut errors: Vec<_> = joined.errors.iter().map(|(_, error)| *error).collect();
    errors.sort_unstable();
    errors
}

/// Two children fail at once while a third runs. The owner, polled before,
/// is woken; both errors are kept; the third child is aborted exactly once
/// (the cancellation starts once); and once it has finished the group
/// joins, woken again.
fn two_children_fail_at_once() {
    loom::model(|| {
        let core = group();
        let (a, _) = spawned(&core, 1);
        let (b, _) = spawned(&core, 2);
        let (c, c_aborts) = spawned(&core, 3);
        let mut owner = Owner::new();
        assert!(!expect_pending(owner.poll(&core, true)));

        let first = {
            let core = core.clone();
            thread::spawn(move || core.finish(a, Some(Failure::Error("a"))))
        };
        let second = {
            let core = core.clone();
            thread::spawn(move || core.finish(b, Some(Failure::Error("b"))))
        };
        first.join().unwrap();
        second.join().unwrap();

        assert!(owner.woken_since_poll(), "{OWNER_ASLEEP}");
        assert!(
            expect_pending(owner.poll(&core, true)),
            "the group is cancelling"
        );
        core.abort_all();
        assert_eq!(
            c_aborts.count(),
            1,
            "the sibling was not aborted exactly once"
        );
        core.finish(c, None);
        assert!(owner.woken_since_poll(), "{OWNER_ASLEEP}");
        let joined = expect_ready(owner.poll(&core, true), JOINED_EARLY);
        assert_eq!(errors(&joined), ["a", "b"]);
        assert!(!joined.cancelled);
        assert_eq!(reports(), 0);
    });
}

#[test]
fn group_two_children_fail_at_once_model() {
    two_children_fail_at_once();
}

#[test]
#[should_panic(expected = "the owner was not woken since its last poll")]
fn group_two_children_fail_at_once_twin_cancel_skips_wake() {
    fault::with(Fault::GroupCancelSkipsWake, two_children_fail_at_once);
}

/// A child's failure races the body's normal exit (the owner polling with
/// `body_done`). The group never joins while the child is live, and it
/// joins with the child's error: at once, or after a wake since its poll.
fn failure_races_the_body_exit() {
    loom::model(|| {
        let core = group();
        let (child, _) = spawned(&core, 1);
        let mut owner = Owner::new();
        assert!(!expect_pending(owner.poll(&core, false)));

        let failing = {
            let core = core.clone();
            thread::spawn(move || core.finish(child, Some(Failure::Error("child"))))
        };
        // The body returns: the owner polls with its body done.
        let first = owner.poll(&core, true);
        failing.join().unwrap();

        let joined = match first {
            JoinPoll::Ready(joined) => joined,
            JoinPoll::Pending { .. } => {
                assert!(owner.woken_since_poll(), "{OWNER_ASLEEP}");
                expect_ready(owner.poll(&core, true), "woken, but the group did not join")
            }
        };
        assert_eq!(
            errors(&joined),
            ["child"],
            "{JOINED_EARLY}, or lost its error"
        );
    });
}

#[test]
fn group_failure_races_the_body_exit_model() {
    failure_races_the_body_exit();
}

#[test]
#[should_panic(expected = "the group joined while a child was live, or lost its error")]
fn group_failure_races_the_body_exit_twin_joins_early() {
    fault::with(Fault::GroupJoinsEarly, failure_races_the_body_exit);
}

/// The last child finishes without failing while the owner, its body
/// done, polls to join and, as an executor would, polls again when woken
/// while the child runs. The group joins, or the owner was woken since its
/// last poll and joins then (no failure starts a cancellation whose wake
/// would cover a lost one).
fn last_child_races_the_join() {
    loom::model(|| {
        let core = group();
        let (child, _) = spawned(&core, 1);
        let finishing = {
            let core = core.clone();
            thread::spawn(move || core.finish(child, None))
        };
        let mut owner = Owner::new();
        let mut last = owner.poll(&core, true);
        // One executor step while the child may still be finishing.
        if matches!(last, JoinPoll::Pending { .. }) && owner.woken_since_poll() {
            last = owner.poll(&core, true);
        }
        finishing.join().unwrap();
        let joined = match last {
            JoinPoll::Ready(joined) => joined,
            JoinPoll::Pending { cancelling } => {
                assert!(!cancelling);
                assert!(owner.woken_since_poll(), "{OWNER_ASLEEP}");
                expect_ready(owner.poll(&core, true), "woken, but the group did not join")
            }
        };
        assert!(joined.errors.is_empty() && joined.panic.is_none());
    });
}

#[test]
fn group_last_child_races_the_join_model() {
    last_child_races_the_join();
}

#[test]
#[should_panic(expected = "the owner was not woken since its last poll")]
fn group_last_child_races_the_join_twin_last_child_skips_wake() {
    fault::with(Fault::GroupLastChildSkipsWake, last_child_races_the_join);
}

/// A spawn races the shutdown: one thread fails a child and, as the owner
/// would, aborts the group's children; another spawns a child that runs
/// until it is aborted. The late child is refused (shutting down) or
/// accepted, and then aborted, so the group joins: never leaked.
fn spawn_races_the_shutdown() {
    loom::model(|| {
        let core = group();
        let (first, _) = spawned(&core, 1);
        let late_aborts = Aborts::default();

        let failing = {
            let core = core.clone();
            thread::spawn(move || {
                core.finish(first, Some(Failure::Error("first")));
                core.abort_all();
            })
        };
        let spawner = {
            let core = core.clone();
            let late_aborts = late_aborts.clone();
            thread::spawn(move || {
                // Once the group is cancelling, it never opens again: a
                // spawn that starts after that must be refused.
                let already_cancelling = core.is_cancelling();
                match core.reserve(asyncio::__cores::task_id(2)) {
                    Ok(index) => {
                        core.attach(index, asyncio::__cores::task_id(2), late_aborts);
                        (already_cancelling, Ok(index))
                    }
                    Err(refused) => (already_cancelling, Err(refused)),
                }
            })
        };
        failing.join().unwrap();
        let (already_cancelling, reserved) = spawner.join().unwrap();
        assert!(
            !(already_cancelling && reserved.is_ok()),
            "a spawn was accepted while the group was shutting down"
        );
        let late = match reserved {
            Ok(index) => Some(index),
            Err(refused) => {
                assert_eq!(refused, Refused::ShuttingDown);
                None
            }
        };

        // The runtime drops an aborted child, and its wrapper finishes.
        if let Some(index) = late {
            if late_aborts.count() > 0 {
                core.finish(index, None);
            }
        }
        let mut owner = Owner::new();
        let joined = expect_ready(owner.poll(&core, true), LEAKED);
        assert_eq!(errors(&joined), ["first"]);
        assert!(late_aborts.count() <= 1, "the late child was aborted twice");
    });
}

#[test]
fn group_spawn_races_the_shutdown_model() {
    spawn_races_the_shutdown();
}

#[test]
#[should_panic(expected = "a child was accepted but never aborted")]
fn group_spawn_races_the_shutdown_twin_attach_ignores_cancel() {
    fault::with(Fault::GroupAttachIgnoresCancel, spawn_races_the_shutdown);
}

#[test]
#[should_panic(expected = "a child was accepted but never aborted")]
fn group_spawn_races_the_shutdown_twin_abort_skips_running() {
    fault::with(Fault::GroupAbortSkipsRunning, spawn_races_the_shutdown);
}

/// The owner is dropped (the scope's future, or a body-less group) while
/// two children complete, one with an error and one with a panic. Every
/// failure is reported exactly once: collected before the drop and
/// reported by it, or reported when it arrives after.
fn scope_dropped_while_children_complete() {
    loom::model(|| {
        let core = group();
        let (a, a_aborts) = spawned(&core, 1);
        let (b, b_aborts) = spawned(&core, 2);

        let erring = {
            let core = core.clone();
            thread::spawn(move || core.finish(a, Some(Failure::Error("a"))))
        };
        let panicking = {
            let core = core.clone();
            thread::spawn(move || {
                let panic =
                    std::panic::catch_unwind(|| std::panic::resume_unwind(Box::new("b panicked")))
                        .unwrap_err();
                core.finish(b, Some(Failure::Panic(asyncio::Panic::new(panic))));
            })
        };
        core.abandon(None);
        erring.join().unwrap();
        panicking.join().unwrap();

        assert_eq!(reports(), 2, "a failure was lost or reported twice");
        assert!(a_aborts.count() <= 1 && b_aborts.count() <= 1);
        assert_eq!(core.live(), 0);
        assert!(matches!(
            core.reserve(asyncio::__cores::task_id(3)),
            Err(Refused::Finished)
        ));
    });
}

#[test]
fn group_scope_dropped_while_children_complete_model() {
    scope_dropped_while_children_complete();
}

#[test]
#[should_panic(expected = "a failure was lost or reported twice")]
fn group_scope_dropped_while_children_complete_twin_abandon_forgets_errors() {
    fault::with(
        Fault::GroupAbandonForgetsErrors,
        scope_dropped_while_children_complete,
    );
}

/// `cancel()` races a child's failure while a sibling runs. Whichever comes
/// first starts the cancellation, once: the owner is woken, the sibling is
/// aborted exactly once, the failure is collected either way, and the
/// group says it was cancelled exactly when `cancel()` started it.
fn cancel_races_a_failure() {
    loom::model(|| {
        let core = group();
        let (failing, _) = spawned(&core, 1);
        let (sibling, sibling_aborts) = spawned(&core, 2);
        let mut owner = Owner::new();
        assert!(!expect_pending(owner.poll(&core, true)));

        let canceller = {
            let core = core.clone();
            thread::spawn(move || core.cancel())
        };
        let failure = {
            let core = core.clone();
            thread::spawn(move || core.finish(failing, Some(Failure::Error("failed"))))
        };
        let started = canceller.join().unwrap();
        failure.join().unwrap();

        assert!(owner.woken_since_poll(), "{OWNER_ASLEEP}");
        assert!(expect_pending(owner.poll(&core, true)));
        core.abort_all();
        assert_eq!(
            sibling_aborts.count(),
            1,
            "the sibling was not aborted exactly once"
        );
        core.finish(sibling, None);
        let joined = expect_ready(owner.poll(&core, true), JOINED_EARLY);
        assert_eq!(errors(&joined), ["failed"]);
        assert_eq!(joined.cancelled, started != Started::No);
    });
}

#[test]
fn group_cancel_races_a_failure_model() {
    cancel_races_a_failure();
}

#[test]
#[should_panic(expected = "the owner was not woken since its last poll")]
fn group_cancel_races_a_failure_twin_cancel_skips_wake() {
    fault::with(Fault::GroupCancelSkipsWake, cancel_races_a_failure);
}

/// A child finishes before its spawner attached its abort handle, and its
/// slot is reused at once by a second spawn, which races the first
/// spawner's late attach. The late handle must not take the second child's
/// slot: the second child is the one aborted by the cancellation, exactly
/// once, so the group can join.
fn late_attach_races_a_reused_slot() {
    loom::model(|| {
        let core = group();
        let first_id = asyncio::__cores::task_id(1);
        let first = core.reserve(first_id).expect("the group is open");
        let (first_aborts, second_aborts) = (Aborts::default(), Aborts::default());

        let child = {
            let core = core.clone();
            thread::spawn(move || core.finish(first, None))
        };
        let second_spawner = {
            let core = core.clone();
            let second_aborts = second_aborts.clone();
            thread::spawn(move || {
                let id = asyncio::__cores::task_id(2);
                let index = core.reserve(id).expect("the group is open");
                core.attach(index, id, second_aborts);
                index
            })
        };
        // The first spawner attaches late, after its child may have finished.
        core.attach(first, first_id, first_aborts.clone());
        child.join().unwrap();
        let second = second_spawner.join().unwrap();

        let mut owner = Owner::new();
        assert!(!expect_pending(owner.poll(&core, true)));
        core.abort_all();
        assert_eq!(
            second_aborts.count(),
            1,
            "the running child's abort handle was lost to a late attach"
        );
        assert_eq!(first_aborts.count(), 0, "a finished child was aborted");
        core.finish(second, None);
        expect_ready(owner.poll(&core, true), LEAKED);
    });
}

#[test]
fn group_late_attach_races_a_reused_slot_model() {
    late_attach_races_a_reused_slot();
}

#[test]
#[should_panic(expected = "the running child's abort handle was lost to a late attach")]
fn group_late_attach_races_a_reused_slot_twin_attach_ignores_owner() {
    fault::with(
        Fault::GroupAttachIgnoresOwner,
        late_attach_races_a_reused_slot,
    );
}

/// The owner polls from one task, then from another (a join future moved
/// between tasks, or re-polled by a new waker) while the last child
/// finishes: the current waker is the one woken.
fn owner_moves_to_another_task() {
    loom::model(|| {
        let core = group();
        let (child, _) = spawned(&core, 1);
        let mut before = Owner::new();
        assert!(!expect_pending(before.poll(&core, true)));
        let finishing = {
            let core = core.clone();
            thread::spawn(move || core.finish(child, None))
        };
        let mut after = Owner::new();
        let last = after.poll(&core, true);
        finishing.join().unwrap();
        if let JoinPoll::Pending { .. } = last {
            assert!(after.woken_since_poll(), "{OWNER_ASLEEP}");
            expect_ready(after.poll(&core, true), "woken, but the group did not join");
        }
    });
}

#[test]
fn group_owner_moves_to_another_task_model() {
    owner_moves_to_another_task();
}

#[test]
#[should_panic(expected = "the owner was not woken since its last poll")]
fn group_owner_moves_to_another_task_twin_last_child_skips_wake() {
    fault::with(Fault::GroupLastChildSkipsWake, owner_moves_to_another_task);
}

/// The enclosing group's hold on a nested group, as the tokio layer's
/// `Hold` is: its release is the outer core's `release_adopted`.
struct OuterHold(Arc<Core>);

impl Adopted for OuterHold {
    fn release(self: Box<Self>) {
        self.0.release_adopted();
    }
}

/// A nested group is dropped inside the outer group's body (the body is
/// cancelled, or a timeout drops the nested group) while the nested
/// group's child finishes (its abort lands). The outer group adopts it,
/// and joins only once that child has finished: what the child did before
/// it finished is visible to the joined owner, and an owner that parked
/// meanwhile is woken.
fn nested_group_dropped_while_its_child_finishes() {
    loom::model(|| {
        let outer = group();
        let inner: Arc<Core> =
            Arc::new(GroupCore::new(asyncio::__cores::task_id(200), count_report));
        let (child, _) = spawned(&inner, 1);
        let finished = Arc::new(AtomicBool::new(false));
        let mut owner = Owner::new();
        assert!(!expect_pending(owner.poll(&outer, false)));

        let child_thread = {
            let (inner, finished) = (inner.clone(), finished.clone());
            thread::spawn(move || {
                finished.store(true, Ordering::Relaxed);
                inner.finish(child, None);
            })
        };
        // The body drops the nested group, then returns.
        assert!(outer.adopt());
        inner.abandon(Some(Box::new(OuterHold(outer.clone()))));
        match owner.poll(&outer, true) {
            JoinPoll::Ready(_) => {
                // Read before the thread is joined (which would order it).
                let child_had_finished = finished.load(Ordering::Relaxed);
                child_thread.join().unwrap();
                assert!(child_had_finished, "{JOINED_EARLY}");
            }
            JoinPoll::Pending { .. } => {
                child_thread.join().unwrap();
                assert!(owner.woken_since_poll(), "{OWNER_ASLEEP}");
                let joined = expect_ready(owner.poll(&outer, true), JOINED_EARLY);
                assert!(joined.errors.is_empty());
            }
        }
    });
}

#[test]
fn group_nested_group_dropped_while_its_child_finishes_model() {
    nested_group_dropped_while_its_child_finishes();
}

#[test]
#[should_panic(expected = "the group joined while a child was live")]
fn group_nested_group_dropped_while_its_child_finishes_twin_releases_early() {
    fault::with(
        Fault::GroupAbandonReleasesParentEarly,
        nested_group_dropped_while_its_child_finishes,
    );
}
