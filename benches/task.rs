//! Spawning and awaiting tasks: `asyncio::spawn` + `Task` await beside
//! `tokio::spawn` + `JoinHandle` await and tokio's `JoinSet`, in the same
//! run, from inside a spawned task on the multi-thread runtime (SPEC.md's
//! performance section: the coop budget makes results differ there).

// criterion_group! generates public functions that cannot carry docs.
#![allow(missing_docs)]

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn spawn_and_await(c: &mut Criterion) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("spawn_and_await");
    group.sample_size(20);
    for n in [1_000_usize, 10_000] {
        group.bench_with_input(BenchmarkId::new("asyncio_task", n), &n, |b, &n| {
            b.to_async(&rt).iter(|| async move {
                tokio::spawn(async move {
                    let tasks: Vec<_> = (0..n).map(|i| asyncio::spawn(async move { i })).collect();
                    let mut sum = 0;
                    for task in tasks {
                        sum += task.await.unwrap();
                    }
                    sum
                })
                .await
                .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("tokio_join_handle", n), &n, |b, &n| {
            b.to_async(&rt).iter(|| async move {
                tokio::spawn(async move {
                    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(async move { i })).collect();
                    let mut sum = 0;
                    for task in tasks {
                        sum += task.await.unwrap();
                    }
                    sum
                })
                .await
                .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("tokio_join_set", n), &n, |b, &n| {
            b.to_async(&rt)
                .iter(|| async move { tokio::spawn(common::join_set_sum(n)).await.unwrap() })
        });
    }
    group.finish();
}

criterion_group!(benches, spawn_and_await);
criterion_main!(benches);
