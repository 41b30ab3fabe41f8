//! With the `tracing` feature, the default unobserved-error hook sends an
//! error event to `tracing` (issue 14, point 3). Run by `.ci/test-all` with
//! `--features tracing`; without the feature this file is empty.
#![cfg(feature = "tracing")]

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// A subscriber that keeps each event's level, target and message.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<(Level, String, String)>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let metadata = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((*metadata.level(), metadata.target().to_string(), message.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn the_default_hook_reports_to_tracing() {
    let collect = Collect::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    tracing::subscriber::with_default(collect.clone(), || {
        asyncio::reset_unobserved_error_hook();
        runtime.block_on(async {
            let task = asyncio::try_spawn(async { Err::<(), _>("to tracing") });
            while !task.is_done() {
                tokio::task::yield_now().await;
            }
            drop(task); // reported here, on this thread
        });
    });
    let events = collect.0.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let (level, target, message) = &events[0];
    assert_eq!(*level, Level::ERROR);
    assert_eq!(target, "asyncio");
    assert!(message.contains("\"to tracing\""), "{message}");
}
