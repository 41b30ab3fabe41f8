//! Queue throughput beside flume and async-channel, in the same run:
//! 1M items through a queue of capacity 1024, with one producer and one
//! consumer and with four of each (SPEC: ≤ 1.0× flume at both; issue 16),
//! and, reported beside flume with no target, with sixteen of each. The
//! crate's consumers call `task_done()` for every item and the run ends
//! with `join()`, as an asyncio worker pool does; the channels have no such
//! step. A third peer, flume with a hand-built unfinished count, shows what
//! that step costs on a channel, async-channel is a fourth at 1P/1C and
//! 4P/4C, and flume spending tokio's cooperative budget on every send and
//! receive (as the crate's put and get do) a fifth: what that guarantee
//! costs. Everything runs from inside a spawned task, on the multi-thread
//! runtime, and 1P/1C also on a current-thread runtime. Another group runs
//! the same workload on an unbounded queue beside `flume::unbounded()`
//! (1P/1C and 4P/4C; issue 16), and a last one puts the asyncio worker
//! pool's contended shapes (64P/64C, 16P/16C, 1P/64C, 64P/1C on a queue of
//! capacity 16) beside flume.

mod common;

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use tokio::task::JoinHandle;

const ITEMS: usize = 1_000_000;
const CAPACITY: usize = 1024;

async fn asyncio_queue(producers: usize, consumers: usize) {
    asyncio_queue_with(CAPACITY, producers, consumers).await
}

async fn asyncio_queue_with(capacity: usize, producers: usize, consumers: usize) {
    let queue = asyncio::Queue::bounded(NonZeroUsize::new(capacity).unwrap());
    queue_workload(queue, producers, consumers).await
}

/// The same workload on a queue in strict order (`bounded_strict`): what
/// strict first-come-first-served hand-off costs beside the default
/// eventual fairness.
/// The same workload on an unbounded queue (`Queue::unbounded()`): puts
/// never wait, and `task_done` and `join` are as on a bounded queue.
async fn asyncio_unbounded_queue(producers: usize, consumers: usize) {
    queue_workload(asyncio::Queue::unbounded(), producers, consumers).await
}

async fn asyncio_strict_queue_with(capacity: usize, producers: usize, consumers: usize) {
    let queue = asyncio::Queue::bounded_strict(NonZeroUsize::new(capacity).unwrap());
    queue_workload(queue, producers, consumers).await
}

/// The crate's 1P/1C workload with its producer and consumer run inside
/// `tokio::task::coop::unconstrained`, tokio's opt-out from the cooperative
/// budget: the queue without the forced yields its `put` and `get` make
/// every 128 operations. Not a target peer: beside flume (which spends no
/// budget) it shows what the queue costs apart from that guarantee.
async fn asyncio_queue_unconstrained() {
    let queue = asyncio::Queue::bounded(NonZeroUsize::new(CAPACITY).unwrap());
    queue_workload_in(queue, 1, 1, Budget::Unconstrained).await
}

async fn queue_workload(queue: asyncio::Queue<usize>, producers: usize, consumers: usize) {
    queue_workload_in(queue, producers, consumers, Budget::Spent).await
}

/// Whether the workload's tasks spend tokio's cooperative budget.
#[derive(Clone, Copy)]
enum Budget {
    Spent,
    Unconstrained,
}

impl Budget {
    fn spawn<F: Future<Output = ()> + Send + 'static>(self, task: F) -> JoinHandle<()> {
        match self {
            Budget::Spent => tokio::spawn(task),
            Budget::Unconstrained => tokio::spawn(tokio::task::coop::unconstrained(task)),
        }
    }
}

async fn queue_workload_in(
    queue: asyncio::Queue<usize>,
    producers: usize,
    consumers: usize,
    budget: Budget,
) {
    let mut tasks = Vec::new();
    for p in 0..producers {
        let queue = queue.clone();
        tasks.push(budget.spawn(async move {
            for i in (p..ITEMS).step_by(producers) {
                queue.put(i).await.unwrap();
            }
        }));
    }
    for c in 0..consumers {
        let queue = queue.clone();
        tasks.push(budget.spawn(async move {
            for _ in (c..ITEMS).step_by(consumers) {
                let item = queue.get().await.unwrap();
                std::hint::black_box(item);
                queue.task_done().unwrap();
            }
        }));
    }
    queue.join().await;
    for task in tasks {
        task.await.unwrap();
    }
}

async fn flume_channel(producers: usize, consumers: usize) {
    flume_channel_with(CAPACITY, producers, consumers).await
}

async fn flume_channel_with(capacity: usize, producers: usize, consumers: usize) {
    let (tx, rx) = flume::bounded(capacity);
    flume_workload(tx, rx, producers, consumers, false).await
}

/// flume with every send and receive spending tokio's cooperative budget
/// (`tokio::task::coop::cooperative`), as the crate's `put` and `get` do
/// (and tokio's own channels): not a target peer, it shows what that
/// guarantee costs on a channel (issue 16 asks for the cost of each kept
/// guarantee). flume itself never yields while it can send or receive.
async fn flume_cooperative(producers: usize, consumers: usize) {
    let (tx, rx) = flume::bounded(CAPACITY);
    flume_workload(tx, rx, producers, consumers, true).await
}

/// The peer of [`asyncio_unbounded_queue`]: `flume::unbounded()`.
async fn flume_unbounded(producers: usize, consumers: usize) {
    let (tx, rx) = flume::unbounded();
    flume_workload(tx, rx, producers, consumers, false).await
}

async fn flume_workload(
    tx: flume::Sender<usize>,
    rx: flume::Receiver<usize>,
    producers: usize,
    consumers: usize,
    cooperative: bool,
) {
    use tokio::task::coop::cooperative as coop;
    let mut tasks = Vec::new();
    for p in 0..producers {
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            for i in (p..ITEMS).step_by(producers) {
                if cooperative {
                    coop(tx.send_async(i)).await.unwrap();
                } else {
                    tx.send_async(i).await.unwrap();
                }
            }
        }));
    }
    for c in 0..consumers {
        let rx = rx.clone();
        tasks.push(tokio::spawn(async move {
            for _ in (c..ITEMS).step_by(consumers) {
                let item = if cooperative {
                    coop(rx.recv_async()).await
                } else {
                    rx.recv_async().await
                };
                std::hint::black_box(item.unwrap());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// flume with the bookkeeping `join()` needs, built by hand: a shared
/// unfinished count that every send raises and every receive lowers, as a
/// user who needs asyncio's `join` on a channel would write it (without
/// even the wake-up a waiting join needs at zero). Not a target peer: it
/// shows what that step costs on a channel, beside the crate's
/// `task_done`.
async fn flume_counted(producers: usize, consumers: usize) {
    let (tx, rx) = flume::bounded(CAPACITY);
    let unfinished = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for p in 0..producers {
        let (tx, unfinished) = (tx.clone(), unfinished.clone());
        tasks.push(tokio::spawn(async move {
            for i in (p..ITEMS).step_by(producers) {
                unfinished.fetch_add(1, Ordering::SeqCst);
                tx.send_async(i).await.unwrap();
            }
        }));
    }
    for c in 0..consumers {
        let (rx, unfinished) = (rx.clone(), unfinished.clone());
        tasks.push(tokio::spawn(async move {
            for _ in (c..ITEMS).step_by(consumers) {
                std::hint::black_box(rx.recv_async().await.unwrap());
                unfinished.fetch_sub(1, Ordering::SeqCst);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(unfinished.load(Ordering::SeqCst), 0);
}

/// tokio's own bounded channel at 1P/1C (it has one receiver): its `send`
/// and `recv` spend the cooperative budget as the queue's `put` and `get`
/// do. Not a target peer; context for what that guarantee costs.
async fn tokio_mpsc() {
    let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
    let producer = tokio::spawn(async move {
        for i in 0..ITEMS {
            tx.send(i).await.unwrap();
        }
    });
    let consumer = tokio::spawn(async move {
        for _ in 0..ITEMS {
            std::hint::black_box(rx.recv().await.unwrap());
        }
    });
    producer.await.unwrap();
    consumer.await.unwrap();
}

async fn async_channel(producers: usize, consumers: usize) {
    let (tx, rx) = async_channel::bounded(CAPACITY);
    let mut tasks = Vec::new();
    for p in 0..producers {
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            for i in (p..ITEMS).step_by(producers) {
                tx.send(i).await.unwrap();
            }
        }));
    }
    for c in 0..consumers {
        let rx = rx.clone();
        tasks.push(tokio::spawn(async move {
            for _ in (c..ITEMS).step_by(consumers) {
                std::hint::black_box(rx.recv().await.unwrap());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

fn queue(c: &mut Criterion) {
    let runtime = common::runtime();
    let mut group = c.benchmark_group("queue_1M_cap1024");
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(10), Duration::from_secs(1));
    // 16P/16C is reported beside flume only (no target; issue 16), so the
    // round stays short.
    for (producers, consumers) in [(1, 1), (4, 4), (16, 16)] {
        let shape = format!("{producers}P{consumers}C");
        let all_peers = producers <= 4;
        group.bench_with_input(BenchmarkId::new("asyncio", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(asyncio_queue(producers, consumers))
                    .await
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("flume", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(flume_channel(producers, consumers))
                    .await
                    .unwrap()
            })
        });
        if !all_peers {
            continue;
        }
        group.bench_with_input(BenchmarkId::new("flume_counted", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(flume_counted(producers, consumers))
                    .await
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("async_channel", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(async_channel(producers, consumers))
                    .await
                    .unwrap()
            })
        });
        group.bench_with_input(
            BenchmarkId::new("flume_cooperative", &shape),
            &(),
            |b, _| {
                b.to_async(&runtime).iter(|| async {
                    tokio::spawn(flume_cooperative(producers, consumers))
                        .await
                        .unwrap()
                })
            },
        );
    }
    group.finish();
}

/// The same 1P/1C workload on a current-thread runtime (SPEC: ≤ 1.2× flume,
/// with `task_done`; issue 18), where producer and consumer take turns on
/// one thread, so no lock is ever contended and what counts is the
/// per-item work itself. flume with a hand-built count is beside it again,
/// and three rows show what the cooperative budget costs here: flume
/// spending it, tokio's own `mpsc` (which spends it), and the crate's
/// tasks run `unconstrained`. On this runtime a task that spends its
/// budget yields until tokio has polled its I/O and timer driver, so each
/// round of 128 puts (or gets) costs a driver poll (an `epoll_wait` system
/// call), where flume's producer runs until the queue is full.
fn queue_current_thread(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("queue_1M_cap1024_current_thread");
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(10), Duration::from_secs(1));
    let shape = "1P1C";
    group.bench_with_input(BenchmarkId::new("asyncio", shape), &(), |b, _| {
        b.to_async(&runtime)
            .iter(|| async { tokio::spawn(asyncio_queue(1, 1)).await.unwrap() })
    });
    group.bench_with_input(BenchmarkId::new("flume", shape), &(), |b, _| {
        b.to_async(&runtime)
            .iter(|| async { tokio::spawn(flume_channel(1, 1)).await.unwrap() })
    });
    group.bench_with_input(BenchmarkId::new("flume_counted", shape), &(), |b, _| {
        b.to_async(&runtime)
            .iter(|| async { tokio::spawn(flume_counted(1, 1)).await.unwrap() })
    });
    group.bench_with_input(BenchmarkId::new("flume_cooperative", shape), &(), |b, _| {
        b.to_async(&runtime)
            .iter(|| async { tokio::spawn(flume_cooperative(1, 1)).await.unwrap() })
    });
    group.bench_with_input(BenchmarkId::new("tokio_mpsc", shape), &(), |b, _| {
        b.to_async(&runtime)
            .iter(|| async { tokio::spawn(tokio_mpsc()).await.unwrap() })
    });
    group.bench_with_input(
        BenchmarkId::new("asyncio_unconstrained", shape),
        &(),
        |b, _| {
            b.to_async(&runtime)
                .iter(|| async { tokio::spawn(asyncio_queue_unconstrained()).await.unwrap() })
        },
    );
    group.finish();
}

/// The same workload on an unbounded queue beside `flume::unbounded()`
/// (issue 16: reported, no target): puts never wait, so what counts is the
/// per-item work and the consumers' waits on an empty queue.
fn queue_unbounded(c: &mut Criterion) {
    let runtime = common::runtime();
    let mut group = c.benchmark_group("queue_1M_unbounded");
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(10), Duration::from_secs(1));
    for (producers, consumers) in [(1, 1), (4, 4)] {
        let shape = format!("{producers}P{consumers}C");
        group.bench_with_input(BenchmarkId::new("asyncio", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(asyncio_unbounded_queue(producers, consumers))
                    .await
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("flume", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(flume_unbounded(producers, consumers))
                    .await
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// The asyncio worker pool's shape: many producers and consumers on a small
/// queue (capacity 16), 1M items, with `task_done` (SPEC: ≤ 1.5× flume;
/// issue 18). The default queue is eventually fair (running puts and gets
/// take free slots and items while others wait; every
/// `DEFAULT_OVERTAKE_LIMIT` overtakes the oldest waiter is handed one);
/// `asyncio_strict` is the same workload in strict order, where every
/// waiting put and get waits for its own wake-up.
fn queue_contended(c: &mut Criterion) {
    let runtime = common::runtime();
    let mut group = c.benchmark_group("queue_1M_cap16");
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.sample_size(10);
    common::timing(&mut group, Duration::from_secs(10), Duration::from_secs(1));
    for (producers, consumers) in [(64, 64), (16, 16), (1, 64), (64, 1)] {
        let shape = format!("{producers}P{consumers}C");
        group.bench_with_input(BenchmarkId::new("asyncio", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(asyncio_queue_with(16, producers, consumers))
                    .await
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("asyncio_strict", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(asyncio_strict_queue_with(16, producers, consumers))
                    .await
                    .unwrap()
            })
        });
        group.bench_with_input(BenchmarkId::new("flume", &shape), &(), |b, _| {
            b.to_async(&runtime).iter(|| async {
                tokio::spawn(flume_channel_with(16, producers, consumers))
                    .await
                    .unwrap()
            })
        });
    }
    group.finish();
}

// `criterion_group!` generates an undocumented `pub fn`; it is bench
// plumbing, not API.
#[allow(missing_docs, unreachable_pub)]
mod group {
    criterion::criterion_group!(
        benches,
        super::queue,
        super::queue_current_thread,
        super::queue_unbounded,
        super::queue_contended
    );
}
criterion_main!(group::benches);
