//! The bounded map beside the hand-glued peer, in the same run, from inside
//! a spawned task on the multi-thread runtime: 1M items, limit 50, each
//! yielding once, ordered and unordered, beside
//! `stream::iter(..).map(spawn).buffer_unordered(50)` and `.buffered(50)`
//! (each item spawned, as the map spawns each item).
//!
//! Target (SPEC.md): ≤ 1.0× the spawning `buffer_unordered(50)`.

// criterion_group! generates public functions that cannot carry docs.
#![allow(missing_docs)]

mod common;

use std::num::NonZeroUsize;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::StreamExt;

const LIMIT: usize = 50;

async fn item(i: u64) -> u64 {
    tokio::task::yield_now().await;
    i
}

fn bounded_map(c: &mut Criterion) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("map_1m_limit_50");
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(10), Duration::from_secs(3));
    let n: u64 = std::env::var("ASYNCIO_MAP_BENCH_ITEMS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000);
    let limit = NonZeroUsize::new(LIMIT).unwrap();
    group.throughput(Throughput::Elements(n));
    group.bench_with_input(BenchmarkId::new("asyncio_map_ordered", n), &n, |b, &n| {
        b.to_async(&rt).iter(|| async move {
            tokio::spawn(async move {
                asyncio::map(0..n, limit, item)
                    .start()
                    .fold(0_u64, |sum, next| async move { sum + next.unwrap().1 })
                    .await
            })
            .await
            .unwrap()
        })
    });
    group.bench_with_input(BenchmarkId::new("asyncio_map_unordered", n), &n, |b, &n| {
        b.to_async(&rt).iter(|| async move {
            tokio::spawn(async move {
                asyncio::map(0..n, limit, item)
                    .unordered()
                    .start()
                    .fold(0_u64, |sum, next| async move { sum + next.unwrap().1 })
                    .await
            })
            .await
            .unwrap()
        })
    });
    group.bench_with_input(
        BenchmarkId::new("futures_buffer_unordered_spawn", n),
        &n,
        |b, &n| {
            b.to_async(&rt).iter(|| async move {
                tokio::spawn(async move {
                    futures::stream::iter(0..n)
                        .map(|i| tokio::spawn(item(i)))
                        .buffer_unordered(LIMIT)
                        .fold(0_u64, |sum, next| async move { sum + next.unwrap() })
                        .await
                })
                .await
                .unwrap()
            })
        },
    );
    group.bench_with_input(
        BenchmarkId::new("futures_buffered_spawn", n),
        &n,
        |b, &n| {
            b.to_async(&rt).iter(|| async move {
                tokio::spawn(async move {
                    futures::stream::iter(0..n)
                        .map(|i| tokio::spawn(item(i)))
                        .buffered(LIMIT)
                        .fold(0_u64, |sum, next| async move { sum + next.unwrap() })
                        .await
                })
                .await
                .unwrap()
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bounded_map);
criterion_main!(benches);
