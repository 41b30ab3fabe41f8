//! gather's public types are Send/Sync where they should be, checked at
//! compile time (after tokio's `tests/async_send_sync.rs`).
#![allow(dead_code)] // the functions below are compile-time assertions

use std::convert::Infallible;

fn require_send<T: Send>() {}
fn require_sync<T: Sync>() {}
fn require_unpin<T: Unpin>() {}
fn require_error<T: std::error::Error + Send + Sync + 'static>() {}

/// The value types of a two-child `try_gather!`.
type Values = (u8, String);

#[test]
fn gather_futures() {
    // The builders (what `gather` returns) and the futures they become.
    require_send::<asyncio::Gather<u8>>();
    require_sync::<asyncio::Gather<u8>>();
    require_send::<asyncio::GatherFuture<u8>>();
    require_sync::<asyncio::GatherFuture<u8>>();
    require_unpin::<asyncio::GatherFuture<u8>>();
    require_send::<asyncio::GatherFuture<String, std::io::Error>>();
    require_sync::<asyncio::GatherFuture<String, std::io::Error>>();
    require_send::<asyncio::GatherAll<u8, std::io::Error>>();
    require_send::<asyncio::GatherAllFuture<u8, std::io::Error>>();
    require_sync::<asyncio::GatherAllFuture<u8, std::io::Error>>();
    require_unpin::<asyncio::GatherAllFuture<u8, std::io::Error>>();
    // The macros' parts hand out values type-erased as `Box<dyn Any +
    // Send>`, so their futures are Send but not Sync (a future needs only
    // Send to be spawned).
    require_send::<asyncio::GatherTuple<Values, std::io::Error>>();
    require_send::<asyncio::GatherTupleFuture<Values, std::io::Error>>();
    require_unpin::<asyncio::GatherTupleFuture<Values, std::io::Error>>();
    require_send::<asyncio::GatherTupleAll<Values, std::io::Error>>();
    require_send::<asyncio::GatherTupleAllFuture<Values, std::io::Error>>();
    require_send::<asyncio::GatherTupleCancel<Values, std::io::Error>>();
    require_unpin::<asyncio::GatherTupleCancel<Values, std::io::Error>>();
    require_send::<asyncio::GatherTupleCancelled<Values, std::io::Error>>();
    require_send::<asyncio::GatherCancel<u8, std::io::Error>>();
    require_sync::<asyncio::GatherCancel<u8, std::io::Error>>();
    require_send::<asyncio::GatherCancelled<u8, std::io::Error>>();
    require_sync::<asyncio::GatherCancelled<u8, std::io::Error>>();
}

#[test]
fn gather_can_be_spawned() {
    // A gather is a child like any other: nested gathers need this.
    fn spawnable<F: std::future::Future + Send + 'static>() {}
    spawnable::<asyncio::GatherFuture<u8, std::io::Error>>();
    spawnable::<asyncio::GatherAllFuture<u8>>();
    spawnable::<asyncio::GatherTupleFuture<Values, std::io::Error>>();
    fn child<C: asyncio::IntoTask>() {}
    child::<asyncio::Gather<u8, std::io::Error>>();
    child::<asyncio::GatherAll<u8>>();
    child::<asyncio::GatherTuple<Values, std::io::Error>>();
    child::<asyncio::GatherTupleAll<Values, std::io::Error>>();
    fn try_child<C: asyncio::TryIntoTask>() {}
    try_child::<asyncio::Gather<u8, std::io::Error>>();
    try_child::<asyncio::GatherTuple<Values, std::io::Error>>();
}

#[test]
fn gather_error() {
    require_error::<asyncio::GatherError<std::io::Error>>();
    require_error::<asyncio::GatherError<Infallible>>();
    require_send::<asyncio::GatherError<Infallible>>();
    require_sync::<asyncio::GatherError<Infallible>>();
}
