//! Timeout scopes (issue 18, point 3): `asyncio::timeout(d).run(body)` and
//! `asyncio::wait_for(body, d)` beside `tokio::time::timeout(d, body)`, 100k
//! times in a row from inside a spawned task on the multi-thread runtime, with
//! a one-second deadline that never fires. Two bodies:
//!
//! - **ready**: complete at their first poll (the scope's fixed cost: build,
//!   enter, finish; no timer is armed by the crate, tokio builds its `Sleep`);
//! - **pending once**: wake themselves and return `Pending` at their first
//!   poll, then complete (the timer is armed, registered and cancelled).
//!
//! Targets (SPEC.md, Performance): `timeout` at ≤ 1.1× tokio's when ready and
//! ≤ 1.2× when pending once; `wait_for` at parity.

// criterion_group! generates public functions that cannot carry docs.
#![allow(missing_docs)]

mod common;

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const N: u64 = 100_000;
const DEADLINE: Duration = Duration::from_secs(1);

/// Pending once (having woken itself), then ready: the cheapest body that
/// makes a timeout arm its timer. The same for every contender, unlike
/// `yield_now`, whose deferred wake depends on the runtime's state.
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = u64;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if self.0 {
            return Poll::Ready(1);
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[derive(Clone, Copy)]
enum Body {
    Ready,
    PendingOnce,
}

impl Body {
    fn name(self) -> &'static str {
        match self {
            Body::Ready => "ready",
            Body::PendingOnce => "pending_once",
        }
    }
}

async fn asyncio_timeout(body: Body) -> u64 {
    let mut sum = 0;
    for _ in 0..N {
        sum += match body {
            Body::Ready => asyncio::timeout(DEADLINE).run(async { black_box(1) }).await,
            Body::PendingOnce => asyncio::timeout(DEADLINE).run(PendingOnce(false)).await,
        }
        .unwrap();
    }
    sum
}

async fn tokio_timeout(body: Body) -> u64 {
    let mut sum = 0;
    for _ in 0..N {
        sum += match body {
            Body::Ready => tokio::time::timeout(DEADLINE, async { black_box(1) }).await,
            Body::PendingOnce => tokio::time::timeout(DEADLINE, PendingOnce(false)).await,
        }
        .unwrap();
    }
    sum
}

async fn asyncio_wait_for(body: Body) -> u64 {
    let mut sum = 0;
    for _ in 0..N {
        sum += match body {
            Body::Ready => asyncio::wait_for(async { black_box(1) }, DEADLINE).await,
            Body::PendingOnce => asyncio::wait_for(PendingOnce(false), DEADLINE).await,
        }
        .unwrap();
    }
    sum
}

fn timeout_scope(c: &mut Criterion) {
    let rt = common::runtime();
    let mut group = c.benchmark_group("timeout_scope");
    common::timing(&mut group, Duration::from_secs(5), Duration::from_secs(2));
    group.sample_size(20);
    group.throughput(Throughput::Elements(N));
    for body in [Body::Ready, Body::PendingOnce] {
        group.bench_with_input(
            BenchmarkId::new("asyncio_timeout", body.name()),
            &body,
            |b, &body| {
                b.to_async(&rt)
                    .iter(|| async move { tokio::spawn(asyncio_timeout(body)).await.unwrap() })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("tokio_timeout", body.name()),
            &body,
            |b, &body| {
                b.to_async(&rt)
                    .iter(|| async move { tokio::spawn(tokio_timeout(body)).await.unwrap() })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("asyncio_wait_for", body.name()),
            &body,
            |b, &body| {
                b.to_async(&rt)
                    .iter(|| async move { tokio::spawn(asyncio_wait_for(body)).await.unwrap() })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, timeout_scope);
criterion_main!(benches);
