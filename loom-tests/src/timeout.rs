//! Helpers for the models of the timeout core.

use std::task::Poll;
use std::time::{Duration, Instant};

use asyncio::__cores::timeout::TimeoutCore;

use crate::waker::Recorder;

/// Two deadlines in the future: the scope's first one, and a later one that a
/// handle moves it to. Plain `std` instants (the core takes tokio's, which
/// convert from them), so no runtime is needed.
pub fn deadlines() -> (Instant, Instant) {
    let first = Instant::now() + Duration::from_secs(60);
    (first, first + Duration::from_secs(60))
}

/// The scope's poll: registers `scope`'s waker and returns the deadline and
/// its generation.
pub fn poll_deadline(core: &TimeoutCore, scope: &Recorder) -> (Option<Instant>, u64) {
    let Poll::Ready((deadline, generation)) = scope.poll(|cx| Poll::Ready(core.poll_deadline(cx)))
    else {
        unreachable!("the closure is always ready")
    };
    (deadline.map(|deadline| deadline.into_std()), generation)
}
