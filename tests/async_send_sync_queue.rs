//! Static Send/Sync/Unpin assertions for the queue types: a queue of `Send`
//! items can be shared across tasks on a multi-thread runtime, and its
//! futures can be held across awaits in spawned tasks.

#![allow(dead_code)] // the functions exist only to be type-checked

use std::cell::Cell;

use asyncio::queue::{
    Get, GetGuarded, Guarded, GuardedStream, JoinableQueue, Put, QueueJoin, QueueStream,
};
use asyncio::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, TaskDoneError, TryGetError, TryPutError,
};

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}

/// `Send` but not `Sync` items.
type SendOnly = Cell<u32>;

fn queues_of_send_items_are_send_and_sync() {
    send::<Queue<SendOnly>>();
    sync::<Queue<SendOnly>>();
    send::<LifoQueue<SendOnly>>();
    sync::<LifoQueue<SendOnly>>();
    send::<PriorityQueue<u32>>();
    sync::<PriorityQueue<u32>>();
}

/// Send and Sync do not depend on the order parameter, whatever it is.
fn queues_of_any_order_are_send_and_sync<O>() {
    send::<JoinableQueue<SendOnly, O>>();
    sync::<JoinableQueue<SendOnly, O>>();
}

fn futures_of_send_items_are_send() {
    send::<Put<'static, SendOnly>>();
    send::<Get<'static, SendOnly>>();
    send::<GetGuarded<'static, SendOnly>>();
    send::<QueueJoin<'static, SendOnly>>();
    send::<QueueStream<SendOnly>>();
    send::<Guarded<SendOnly>>();
    sync::<Put<'static, u32>>();
    sync::<Get<'static, u32>>();
    sync::<GetGuarded<'static, u32>>();
    sync::<QueueJoin<'static, u32>>();
    sync::<QueueStream<u32>>();
    send::<GuardedStream<SendOnly>>();
    sync::<GuardedStream<u32>>();
    sync::<Guarded<u32>>();
}

fn futures_are_unpin_whatever_the_item() {
    unpin::<Put<'static, std::marker::PhantomPinned>>();
    unpin::<Get<'static, std::marker::PhantomPinned>>();
    unpin::<GetGuarded<'static, std::marker::PhantomPinned>>();
    unpin::<QueueJoin<'static, std::marker::PhantomPinned>>();
    unpin::<QueueStream<std::marker::PhantomPinned>>();
}

fn errors_of_send_sync_items_go_into_boxed_errors() {
    send::<PutError<SendOnly>>();
    send::<TryPutError<SendOnly>>();
    error::<PutError<String>>();
    error::<TryPutError<String>>();
    // Any item, Debug or not, as tokio's SendError (issue 14, point 2).
    struct NotDebug;
    error::<PutError<NotDebug>>();
    error::<TryPutError<NotDebug>>();
    error::<GetError>();
    error::<TryGetError>();
    error::<TaskDoneError>();
}
