//! `asyncio::gather` of N trivial futures beside tokio's `JoinSet` spawn +
//! drain and `futures::future::join_all` over `JoinHandle`s, in the same
//! run, called from inside a spawned task on the multi-thread runtime
//! (SPEC.md's performance section: there tokio's coop budget makes
//! `join_all` over `JoinHandle`s quadratic).
//!
//! The quadratic `join_all` takes about 90 s a round at 100k; with
//! `ASYNCIO_BENCH_SKIP_QUADRATIC` set (as `compare.py` sets it: no table
//! reads it) it is left out.
//!
//! Targets: gather ≤ 1.2× JoinSet; gather's cost per task at 100k ≤ 1.3×
//! its cost per task at 10k. `gather_current_thread` runs 100k on a
//! current-thread runtime: ≤ 1.0× JoinSet (SPEC.md).

// criterion_group! generates public functions that cannot carry docs.
#![allow(missing_docs)]

mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn gather_trivial_futures(c: &mut Criterion) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("gather");
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(5), Duration::from_secs(3));
    for n in [10_000_usize, 100_000] {
        // Per-element throughput makes criterion print the cost per task,
        // which is what the 10k → 100k target compares.
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("asyncio_gather", n), &n, |b, &n| {
            b.to_async(&rt).iter(|| async move {
                tokio::spawn(async move {
                    let values = asyncio::gather((0..n).map(|i| async move { i }))
                        .await
                        .unwrap();
                    values.iter().sum::<usize>()
                })
                .await
                .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("tokio_join_set", n), &n, |b, &n| {
            b.to_async(&rt)
                .iter(|| async move { tokio::spawn(common::join_set_sum(n)).await.unwrap() })
        });
        if std::env::var_os("ASYNCIO_BENCH_SKIP_QUADRATIC").is_some() {
            continue;
        }
        group.bench_with_input(
            BenchmarkId::new("futures_join_all_join_handles", n),
            &n,
            |b, &n| {
                b.to_async(&rt).iter(|| async move {
                    tokio::spawn(async move {
                        let handles = (0..n).map(|i| tokio::spawn(async move { i }));
                        let values = futures::future::join_all(handles).await;
                        values.into_iter().map(Result::unwrap).sum::<usize>()
                    })
                    .await
                    .unwrap()
                })
            },
        );
    }
    group.finish();
}

/// The same at 100k on a current-thread runtime (issue 18: there the crate
/// was level with JoinSet at best, where the multi-thread figure is about
/// half): one worker runs the spawner and every child, so the cost is the
/// per-task work itself, with no second core to hide it.
fn gather_current_thread(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("gather_current_thread");
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(5), Duration::from_secs(3));
    let n = 100_000_usize;
    group.throughput(Throughput::Elements(n as u64));
    group.bench_with_input(BenchmarkId::new("asyncio_gather", n), &n, |b, &n| {
        b.to_async(&rt).iter(|| async move {
            tokio::spawn(async move {
                let values = asyncio::gather((0..n).map(|i| async move { i }))
                    .await
                    .unwrap();
                values.iter().sum::<usize>()
            })
            .await
            .unwrap()
        })
    });
    group.bench_with_input(BenchmarkId::new("tokio_join_set", n), &n, |b, &n| {
        b.to_async(&rt)
            .iter(|| async move { tokio::spawn(common::join_set_sum(n)).await.unwrap() })
    });
    group.finish();
}

criterion_group!(benches, gather_trivial_futures, gather_current_thread);
criterion_main!(benches);
