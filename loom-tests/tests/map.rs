//! loom models of the map's own synchronisation (`asyncio::__cores::map`):
//! the progress counters, written by the map's driver and read by a
//! `Progress` handle on another thread without a lock.
//!
//! The map's other cross-thread hand-off, its items publishing their
//! outcomes into the map's item core, is modelled in `map_items.rs`. Its
//! driver is single-owner (only the output stream's poll touches the
//! in-flight items, the reorder buffer, the retry queue, the rate limiter
//! and the adaptive limit). The adaptive limit is driver-only arithmetic
//! (unit tests in `src/map/core.rs`); it reaches readers as a plain gauge.
//!
//! Every model has a calibration twin: the same model with a fault switched
//! on inside the core, which must make the model's own assertion fail.
//!
//! The crate docs come before `#![cfg(asyncio_loom)]` on purpose (see
//! `timeout.rs`).
#![cfg(asyncio_loom)]

use asyncio::__cores::fault::{self, Fault};
use asyncio::__cores::map::Counters;
use loom::sync::Arc;
use loom::thread;

const OVERCOUNT: &str = "a progress snapshot showed more items finished than started";

/// The driver starts two items and finishes them (one with a value, one
/// without) while a reader takes snapshots on another thread. No snapshot
/// shows `done + failed > started` (a reader computing "in flight" as
/// `started - done - failed` would underflow), and once the driver is
/// joined the reader sees every count.
fn snapshot_never_overcounts() {
    loom::model(|| {
        let counters = Arc::new(Counters::new(2));
        let driver = {
            let counters = counters.clone();
            thread::spawn(move || {
                counters.start();
                counters.finish(true);
                counters.start();
                counters.finish(false);
            })
        };
        for _ in 0..2 {
            let reading = counters.snapshot();
            assert!(
                reading.done + reading.failed <= reading.started,
                "{OVERCOUNT}: {reading:?}"
            );
        }
        driver.join().unwrap();
        let reading = counters.snapshot();
        assert_eq!(
            (reading.started, reading.done, reading.failed),
            (2, 1, 1),
            "a joined driver's counts are all visible"
        );
    });
}

#[test]
fn snapshot_never_overcounts_model() {
    snapshot_never_overcounts();
}

#[test]
#[should_panic(expected = "a progress snapshot showed more items finished than started")]
fn snapshot_never_overcounts_twin_reads_started_first() {
    fault::with(
        Fault::MapProgressReadsStartedFirst,
        snapshot_never_overcounts,
    );
}
