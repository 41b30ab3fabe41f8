//! Every public future, stream, builder, handle, outcome and error type of
//! the crate can be named through its public path, with concrete type
//! arguments (issue 14, point 1: no hidden types in public signatures).
//!
//! Compiling this file is the test: a type that could only be named through
//! a hidden path (`__private`, `__cores`) cannot appear here, and this file
//! never uses either. The functions at the end also pin that the names are
//! what the crate's functions return, so a signature that drifted to a
//! hidden type fails here too.
#![allow(dead_code)] // the struct and functions are compile-time checks

use std::future::{Future, IntoFuture, Ready};
use std::io;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::time::Duration;

use futures::stream::Iter;

/// A boxed child future, for the operands that take a future type.
type Body = Pin<Box<dyn Future<Output = u8> + Send>>;
/// The tuple of value types of a two-child `gather!`.
type Values = (u8, &'static str);
/// An input stream for the map's stream form.
type Inputs = Iter<std::vec::IntoIter<u32>>;

/// One field per public type; every type argument concrete.
struct Named {
    // gather
    gather: asyncio::gather::Gather<u8>,
    gather_try: asyncio::gather::Gather<u8, io::Error>,
    gather_future: asyncio::gather::GatherFuture<u8, io::Error>,
    gather_all: asyncio::gather::GatherAll<u8, io::Error>,
    gather_all_future: asyncio::gather::GatherAllFuture<u8, io::Error>,
    gather_cancel: asyncio::gather::GatherCancel<u8, io::Error>,
    gather_cancelled: asyncio::gather::GatherCancelled<u8, io::Error>,
    gather_error: asyncio::gather::GatherError<io::Error>,
    gather_tuple: asyncio::gather::GatherTuple<Values>,
    gather_tuple_try: asyncio::gather::GatherTuple<Values, io::Error>,
    gather_tuple_future: asyncio::gather::GatherTupleFuture<Values, io::Error>,
    gather_tuple_all: asyncio::gather::GatherTupleAll<Values, io::Error>,
    gather_tuple_all_future: asyncio::gather::GatherTupleAllFuture<Values, io::Error>,
    gather_tuple_cancel: asyncio::gather::GatherTupleCancel<Values, io::Error>,
    gather_tuple_cancelled: asyncio::gather::GatherTupleCancelled<Values, io::Error>,
    gather_tuple_outcomes: <Values as asyncio::gather::ValueTuple<io::Error>>::Outcomes,
    // race
    race: asyncio::race::Race<u8>,
    race_future: asyncio::race::RaceFuture<u8, io::Error>,
    race_ok: asyncio::race::RaceOk<u8, io::Error>,
    race_ok_future: asyncio::race::RaceOkFuture<u8, io::Error>,
    winner: asyncio::race::Winner<u8, io::Error>,
    race_error: asyncio::race::RaceError,
    race_ok_error: asyncio::race::RaceOkError<io::Error>,
    // wait
    task_set: asyncio::wait::TaskSet<u8, io::Error>,
    wait: asyncio::wait::Wait<'static, u8, io::Error>,
    next_completed: asyncio::wait::NextCompleted<'static, u8>,
    next_completed_indexed: asyncio::wait::NextCompletedIndexed<'static, u8>,
    shutdown: asyncio::wait::Shutdown<'static, u8>,
    join_all: asyncio::wait::JoinAll<u8, io::Error>,
    wait_error: asyncio::wait::WaitError,
    return_when: asyncio::wait::ReturnWhen,
    // as_completed
    as_completed: asyncio::as_completed::AsCompleted<u8, io::Error>,
    as_completed_tasks: asyncio::as_completed::AsCompletedTasks<u8>,
    as_completed_indexed: asyncio::as_completed::AsCompletedIndexed<u8>,
    as_completed_error: asyncio::as_completed::AsCompletedError<io::Error>,
    // task
    task: asyncio::task::Task<u8, io::Error>,
    join: asyncio::task::Join<u8, io::Error>,
    join_ref: asyncio::task::JoinRef<'static, u8, io::Error>,
    propagate: asyncio::task::Propagate<u8, io::Error>,
    cancel_handle: asyncio::task::CancelHandle,
    done: asyncio::task::Done,
    task_id: asyncio::task::TaskId,
    task_error: asyncio::task::TaskError<io::Error>,
    panic: asyncio::task::Panic,
    // task_group
    task_group: asyncio::task_group::TaskGroup<io::Error>,
    task_group_handle: asyncio::task_group::TaskGroupHandle<io::Error>,
    group_run: asyncio::task_group::GroupRun<Body, io::Error>,
    group_join: asyncio::task_group::GroupJoin<io::Error>,
    task_group_error: asyncio::task_group::TaskGroupError<io::Error>,
    spawn_error: asyncio::task_group::SpawnError<Body>,
    in_group: asyncio::task_group::InGroup,
    origin: asyncio::task_group::Origin,
    // timeout
    sleep: asyncio::timeout::Sleep,
    timeout: asyncio::timeout::Timeout,
    timeout_scope: asyncio::timeout::Scope<Body>,
    timeout_handle: asyncio::timeout::TimeoutHandle,
    wait_for_future: asyncio::timeout::WaitFor<Body>,
    wait_for_task: asyncio::timeout::WaitFor<asyncio::Task<u8, io::Error>>,
    wait_for_gather: asyncio::timeout::WaitFor<asyncio::Gather<u8>>,
    shield: asyncio::timeout::Shield<u8, io::Error>,
    timeout_error: asyncio::timeout::TimeoutError,
    reschedule_error: asyncio::timeout::RescheduleError,
    // queue
    queue: asyncio::queue::Queue<u8>,
    lifo_queue: asyncio::queue::LifoQueue<u8>,
    priority_queue: asyncio::queue::PriorityQueue<u8>,
    put: asyncio::queue::Put<'static, u8>,
    get: asyncio::queue::Get<'static, u8>,
    get_guarded: asyncio::queue::GetGuarded<'static, u8>,
    queue_join: asyncio::queue::QueueJoin<'static, u8>,
    guarded: asyncio::queue::Guarded<u8>,
    queue_stream: asyncio::queue::QueueStream<u8>,
    guarded_stream: asyncio::queue::GuardedStream<u8>,
    put_error: asyncio::queue::PutError<u8>,
    try_put_error: asyncio::queue::TryPutError<u8>,
    get_error: asyncio::queue::GetError,
    try_get_error: asyncio::queue::TryGetError,
    task_done_error: asyncio::queue::TaskDoneError,
    // map
    map: asyncio::map::Map<u32, u8>,
    map_try: asyncio::map::Map<u32, u8, io::Error, asyncio::map::FailFast>,
    map_all: asyncio::map::Map<u32, u8, io::Error, asyncio::map::ReturnExceptions>,
    map_keep_going: asyncio::map::Map<u32, u8, io::Error, asyncio::map::KeepGoing>,
    map_stream: asyncio::map::MapStream<u32, u8>,
    map_stream_try: asyncio::map::MapStream<u32, u8, io::Error, asyncio::map::FailFast>,
    map_stream_all: asyncio::map::MapStream<u32, u8, io::Error, asyncio::map::ReturnExceptions>,
    map_stream_keep_going: asyncio::map::MapStream<u32, u8, io::Error, asyncio::map::KeepGoing>,
    collect: asyncio::map::Collect<u32, u8, io::Error, asyncio::map::FailFast>,
    map_cancel: asyncio::map::MapCancel<u32, u8, io::Error>,
    map_error: asyncio::map::MapError<io::Error>,
    map_errors: asyncio::map::MapErrors<io::Error>,
    adaptive: asyncio::map::Adaptive,
    adaptive_error: asyncio::map::AdaptiveError,
    retry: asyncio::map::Retry,
    retry_policy: asyncio::map::RetryPolicy,
    jitter: asyncio::map::Jitter,
    progress: asyncio::map::Progress,
    progress_snapshot: asyncio::map::ProgressSnapshot,
    // hook
    failure: asyncio::Failure,
    unobserved: asyncio::Unobserved,
    unobserved_hook: asyncio::UnobservedHook,
}

// The names are what the crate's functions return. Each function only has
// to compile; the tokio test below runs the ones that spawn.

fn gather_returns(children: Vec<Body>) -> asyncio::gather::Gather<u8> {
    asyncio::gather(children)
}

fn gather_tuple_returns() -> asyncio::gather::GatherTuple<Values> {
    asyncio::gather!(async { 1_u8 }, async { "one" })
}

fn try_gather_tuple_returns() -> asyncio::gather::GatherTuple<Values, io::Error> {
    asyncio::try_gather!(async { Ok::<_, io::Error>(1_u8) }, async {
        Ok::<_, io::Error>("one")
    })
}

fn gather_tuple_forms(
    gathered: asyncio::gather::GatherTuple<Values, io::Error>,
) -> (
    asyncio::gather::GatherTupleFuture<Values, io::Error>,
    asyncio::gather::GatherTupleAll<Values, io::Error>,
) {
    (
        asyncio::gather::GatherTuple::into_future(gathered.cancel_siblings()),
        try_gather_tuple_returns().return_exceptions(),
    )
}

fn gather_tuple_cancels(
    gathered: asyncio::gather::GatherTuple<Values, io::Error>,
    running: asyncio::gather::GatherTupleFuture<Values, io::Error>,
    all: asyncio::gather::GatherTupleAll<Values, io::Error>,
    all_running: asyncio::gather::GatherTupleAllFuture<Values, io::Error>,
) -> [asyncio::gather::GatherTupleCancel<Values, io::Error>; 4] {
    [
        gathered.cancel(),
        running.cancel(),
        all.cancel(),
        all_running.cancel(),
    ]
}

async fn gather_tuple_cancelled(
    cancel: asyncio::gather::GatherTupleCancel<Values, io::Error>,
) -> Option<(
    Result<u8, asyncio::TaskError<io::Error>>,
    Result<&'static str, asyncio::TaskError<io::Error>>,
)> {
    let cancelled: asyncio::gather::GatherTupleCancelled<Values, io::Error> = cancel.await;
    cancelled.into_outcomes()
}

fn race_returns(children: Vec<Body>) -> (asyncio::race::Race<u8>, asyncio::race::RaceFuture<u8>) {
    let race = asyncio::race(children);
    (race, asyncio::race(Vec::<Body>::new()).into_future())
}

fn wait_for_returns(body: Body, gathered: asyncio::Gather<u8>) -> [Box<dyn std::any::Any>; 2] {
    let future: asyncio::timeout::WaitFor<Body> = asyncio::wait_for(body, Duration::from_secs(1));
    let gather: asyncio::timeout::WaitFor<asyncio::Gather<u8>> =
        asyncio::wait_for(gathered, Duration::from_secs(1));
    [Box::new(future), Box::new(gather)]
}

fn map_returns() -> asyncio::map::Map<u32, u8> {
    let limit = NonZeroUsize::new(2).expect("2 is not zero");
    asyncio::map(vec![1_u32, 2], limit, |n| async move { n as u8 })
}

fn map_start_returns(map: asyncio::map::Map<u32, u8>) -> asyncio::map::MapStream<u32, u8> {
    map.start()
}

fn map_stream_returns(inputs: Inputs) -> asyncio::map::Map<u32, u8, io::Error> {
    let limit = NonZeroUsize::new(2).expect("2 is not zero");
    asyncio::try_map_stream(
        inputs,
        limit,
        |n| async move { Ok::<_, io::Error>(n as u8) },
    )
}

fn timeout_returns(body: Ready<u8>) -> asyncio::timeout::Scope<Ready<u8>> {
    asyncio::timeout(Duration::from_secs(1)).run(body)
}

fn task_group_returns() -> asyncio::task_group::GroupRun<Ready<Result<u8, io::Error>>, io::Error> {
    asyncio::task_group(|_group| std::future::ready(Ok(1_u8)))
}

#[tokio::test]
async fn the_named_types_are_what_the_functions_return() {
    let values = gather_returns(vec![Box::pin(async { 1_u8 })])
        .await
        .unwrap();
    assert_eq!(values, [1]);
    assert_eq!(gather_tuple_returns().await.unwrap(), (1, "one"));
    let (running, all) = gather_tuple_forms(try_gather_tuple_returns());
    assert_eq!(running.await.unwrap(), (1, "one"));
    let (number, text) = all.await;
    assert_eq!((number.unwrap(), text.unwrap()), (1, "one"));
    let [cancel, ..] = gather_tuple_cancels(
        try_gather_tuple_returns(),
        try_gather_tuple_returns().into_future(),
        try_gather_tuple_returns().return_exceptions(),
        try_gather_tuple_returns().return_exceptions().into_future(),
    );
    assert!(gather_tuple_cancelled(cancel).await.is_some());
    let (race, _) = race_returns(vec![Box::pin(async { 2_u8 })]);
    assert_eq!(race.await.unwrap().outcome.unwrap(), 2);
    assert_eq!(timeout_returns(std::future::ready(3)).await.unwrap(), 3);
    assert_eq!(
        map_start_returns(map_returns()).collect().await.unwrap(),
        [1, 2]
    );
}
