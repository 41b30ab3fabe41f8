//! `TaskGroup` beside tokio's `JoinSet`, in the same run, from inside a
//! spawned task on the multi-thread runtime: spawn and join of 10k and 100k
//! trivial children (the body-less form's `join`, and the scoped form), and
//! cancelling a group of 100k pending children beside `JoinSet::shutdown`.
//! Each group workload runs twice: children spawned with `spawn` (a `Task`
//! each, dropped) and started with `start_soon` (no handle), the form a
//! user who drops every child's task would write.
//!
//! Target (SPEC.md): ≤ 1.0× JoinSet (spawn + join_next; shutdown).

// criterion_group! generates public functions that cannot carry docs.
#![allow(missing_docs)]

mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn spawn_and_join(c: &mut Criterion) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("task_group_spawn_join");
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(5), Duration::from_secs(3));
    for n in [10_000_usize, 100_000] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("asyncio_task_group", n), &n, |b, &n| {
            b.to_async(&rt).iter(|| async move {
                tokio::spawn(async move {
                    let group = asyncio::TaskGroup::<()>::new();
                    for i in 0..n {
                        drop(group.spawn(async move { i }));
                    }
                    group.join().await.unwrap();
                })
                .await
                .unwrap()
            })
        });
        // The same with children started without a `Task` each
        // (`start_soon`), as code that drops every child's task writes it.
        group.bench_with_input(
            BenchmarkId::new("asyncio_task_group_start_soon", n),
            &n,
            |b, &n| {
                b.to_async(&rt).iter(|| async move {
                    tokio::spawn(async move {
                        let group = asyncio::TaskGroup::<()>::new();
                        for i in 0..n {
                            group.start_soon(async move { i });
                        }
                        group.join().await.unwrap();
                    })
                    .await
                    .unwrap()
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("asyncio_task_group_scoped", n),
            &n,
            |b, &n| {
                b.to_async(&rt).iter(|| async move {
                    tokio::spawn(async move {
                        asyncio::task_group(|tg| async move {
                            for i in 0..n {
                                drop(tg.spawn(async move { i }).unwrap());
                            }
                            Ok::<_, ()>(())
                        })
                        .await
                        .unwrap()
                    })
                    .await
                    .unwrap()
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("tokio_join_set", n), &n, |b, &n| {
            b.to_async(&rt)
                .iter(|| async move { tokio::spawn(common::join_set_sum(n)).await.unwrap() })
        });
    }
    group.finish();
}

fn cancel_pending(c: &mut Criterion) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("task_group_cancel_pending");
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(5), Duration::from_secs(3));
    let n = 100_000_usize;
    group.throughput(Throughput::Elements(n as u64));
    group.bench_with_input(BenchmarkId::new("asyncio_task_group", n), &n, |b, &n| {
        b.to_async(&rt).iter(|| async move {
            tokio::spawn(async move {
                let group = asyncio::TaskGroup::<()>::new();
                for _ in 0..n {
                    drop(group.spawn(std::future::pending::<()>()));
                }
                group.cancel();
                group.join().await.unwrap();
            })
            .await
            .unwrap()
        })
    });
    group.bench_with_input(
        BenchmarkId::new("asyncio_task_group_start_soon", n),
        &n,
        |b, &n| {
            b.to_async(&rt).iter(|| async move {
                tokio::spawn(async move {
                    let group = asyncio::TaskGroup::<()>::new();
                    for _ in 0..n {
                        group.start_soon(std::future::pending::<()>());
                    }
                    group.cancel();
                    group.join().await.unwrap();
                })
                .await
                .unwrap()
            })
        },
    );
    group.bench_with_input(BenchmarkId::new("tokio_join_set", n), &n, |b, &n| {
        b.to_async(&rt).iter(|| async move {
            tokio::spawn(async move {
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..n {
                    set.spawn(std::future::pending::<()>());
                }
                set.shutdown().await;
            })
            .await
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, spawn_and_join, cancel_pending);
criterion_main!(benches);
