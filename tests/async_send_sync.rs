//! Every public type is Send/Sync where it should be, checked at compile
//! time (after tokio's `tests/async_send_sync.rs`).
#![allow(dead_code)] // the functions below are compile-time assertions

use std::convert::Infallible;

fn require_send<T: Send>() {}
fn require_sync<T: Sync>() {}
fn require_static<T: 'static>() {}
fn require_error<T: std::error::Error + Send + Sync + 'static>() {}

type Body = std::future::Ready<u8>;

#[test]
fn task_types() {
    require_send::<asyncio::Task<u8>>();
    require_sync::<asyncio::Task<u8>>();
    require_send::<asyncio::Task<u8, std::io::Error>>();
    require_send::<asyncio::Join<u8>>();
    require_sync::<asyncio::Join<u8>>();
    require_send::<asyncio::CancelHandle>();
    require_sync::<asyncio::CancelHandle>();
    require_send::<asyncio::Done>();
    require_sync::<asyncio::Done>();
    require_send::<asyncio::JoinRef<'static, u8>>();
    require_sync::<asyncio::JoinRef<'static, u8>>();
    require_send::<asyncio::Race<u8>>();
    require_sync::<asyncio::Race<u8>>();
    require_send::<asyncio::RaceFuture<u8>>();
    require_send::<asyncio::RaceOk<u8, std::io::Error>>();
    require_send::<asyncio::RaceOkFuture<u8, std::io::Error>>();
    require_send::<asyncio::RaceOkError<std::io::Error>>();
    require_sync::<asyncio::RaceOkError<std::io::Error>>();
    require_send::<asyncio::Winner<u8, std::io::Error>>();
    require_send::<asyncio::RaceError>();
    require_sync::<asyncio::RaceError>();
    require_send::<asyncio::TaskId>();
    require_sync::<asyncio::TaskId>();
}

#[test]
fn error_types() {
    require_error::<asyncio::TaskError<std::io::Error>>();
    require_error::<asyncio::TaskError<Infallible>>();
    require_send::<asyncio::Panic>();
    require_sync::<asyncio::Panic>();
    require_error::<asyncio::TimeoutError>();
    require_error::<asyncio::RescheduleError>();
    require_send::<asyncio::Unobserved>();
    require_static::<asyncio::Unobserved>();
}

#[test]
fn timeout_types() {
    require_send::<asyncio::Timeout>();
    require_sync::<asyncio::Timeout>();
    require_send::<asyncio::TimeoutHandle>();
    require_sync::<asyncio::TimeoutHandle>();
    require_send::<asyncio::timeout::Scope<Body>>();
    require_sync::<asyncio::timeout::Scope<Body>>();
    require_send::<asyncio::timeout::WaitFor<Body>>();
    require_sync::<asyncio::timeout::WaitFor<Body>>();
    require_send::<asyncio::timeout::WaitFor<asyncio::Task<u8>>>();
    require_send::<asyncio::Shield<u8, Infallible>>();
    require_sync::<asyncio::Shield<u8, Infallible>>();
}

#[test]
fn wait_types() {
    require_send::<asyncio::TaskSet<u8>>();
    require_sync::<asyncio::TaskSet<u8>>();
    require_send::<asyncio::wait::Wait<'static, u8, Infallible>>();
    require_sync::<asyncio::wait::Wait<'static, u8, Infallible>>();
    require_send::<asyncio::wait::NextCompleted<'static, u8, Infallible>>();
    require_sync::<asyncio::wait::NextCompleted<'static, u8, Infallible>>();
    require_send::<asyncio::ReturnWhen>();
    require_sync::<asyncio::ReturnWhen>();
    require_send::<asyncio::CancellationToken>();
    require_sync::<asyncio::CancellationToken>();
    require_error::<asyncio::WaitError>();
    require_send::<asyncio::AsCompleted<u8, std::io::Error>>();
    require_sync::<asyncio::AsCompleted<u8, std::io::Error>>();
    require_send::<asyncio::AsCompletedTasks<u8, Infallible>>();
    require_error::<asyncio::AsCompletedError<std::io::Error>>();
}

type GroupBody = std::future::Ready<Result<u8, std::io::Error>>;

#[test]
fn task_group_types() {
    require_send::<asyncio::TaskGroup<std::io::Error>>();
    require_sync::<asyncio::TaskGroup<std::io::Error>>();
    require_static::<asyncio::TaskGroupHandle<std::io::Error>>();
    require_send::<asyncio::TaskGroupHandle<std::io::Error>>();
    require_sync::<asyncio::TaskGroupHandle<std::io::Error>>();
    require_send::<asyncio::GroupJoin<std::io::Error>>();
    require_sync::<asyncio::GroupJoin<std::io::Error>>();
    require_send::<asyncio::GroupRun<GroupBody, std::io::Error>>();
    require_sync::<asyncio::GroupRun<GroupBody, std::io::Error>>();
    require_send::<asyncio::Task<u8, asyncio::InGroup>>();
    require_error::<asyncio::InGroup>();
    require_error::<asyncio::TaskGroupError<std::io::Error>>();
    require_error::<asyncio::task_group::SpawnError<Body>>();
    require_send::<asyncio::Origin>();
    require_sync::<asyncio::Origin>();
}
