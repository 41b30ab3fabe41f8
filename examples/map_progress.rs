//! A million simulated requests through `asyncio::map`, with a live progress
//! bar drawn from the map's lock-free `Progress` handle.
//!
//! Each request waits a simulated latency; about 2% fail with a "503" that
//! the classifier retries with backoff (a rate the adaptive limit
//! tolerates), and the service answers "429 slow down" when more than its
//! quota of 500 requests are in it at once: those are retried too, and cut
//! the adaptive limit, which settles under the quota (the seed program's
//! "auto-adjust consumers to service quotas"). Run it with
//!
//! ```text
//! cargo run --release --example map_progress [N]
//! ```
//!
//! `cargo run --release --example map_progress N --bare` runs instead the
//! bench's bare workload (N items, limit 50, each yielding once, the output
//! folded, nothing kept), for measuring peak memory with
//! `/usr/bin/time -v` (BENCHMARKS.md).
//!
//! The bar is drawn by hand on stderr (a dev-dependency such as `indicatif`
//! would do the same); it reads the counters every 100 ms without slowing
//! the map.

use std::io::Write;
use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use asyncio::map::{Adaptive, Jitter, Retry, RetryPolicy};

/// A service's answer to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Unavailable,
    TooManyRequests,
}

/// A cheap deterministic hash, to simulate latency and failures without a
/// random number generator dependency.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The simulated service's quota of concurrent requests.
const QUOTA: usize = 500;

/// Requests inside the simulated service.
static IN_SERVICE: AtomicUsize = AtomicUsize::new(0);

/// One simulated request; `call` numbers every call, retries included, so
/// each attempt gets its own roll.
async fn request(id: u64, call: u64) -> Result<u64, Status> {
    let inside = IN_SERVICE.fetch_add(1, Ordering::Relaxed) + 1;
    let roll = mix(call);
    let answer = if inside > QUOTA {
        Err(Status::TooManyRequests)
    } else {
        tokio::time::sleep(Duration::from_micros(200 + roll % 800)).await;
        if roll % 100 < 2 {
            Err(Status::Unavailable)
        } else {
            Ok(id)
        }
    };
    IN_SERVICE.fetch_sub(1, Ordering::Relaxed);
    answer
}

fn bar(fraction: f64, width: usize) -> String {
    let filled = ((fraction * width as f64) as usize).min(width);
    format!("{}{}", "#".repeat(filled), "-".repeat(width - filled))
}

#[tokio::main]
async fn main() {
    let total: u64 = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    if std::env::args().any(|arg| arg == "--bare") {
        bare(total).await;
        return;
    }
    let attempts = Arc::new(AtomicU64::new(0));
    let counted = attempts.clone();
    let map = asyncio::try_map(0..total, NonZeroUsize::new(256).unwrap(), move |id| {
        request(
            id,
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        )
    })
    .unordered()
    .retry(
        RetryPolicy::new(NonZeroU32::new(10).unwrap())
            .base_delay(Duration::from_millis(5))
            .max_delay(Duration::from_millis(200))
            .jitter(Jitter::Full),
        |status| match status {
            Status::Unavailable => Retry::Retry,
            Status::TooManyRequests => Retry::SlowDown,
        },
    )
    .adaptive(
        Adaptive::new(
            NonZeroUsize::new(32).unwrap(),
            NonZeroUsize::new(2048).unwrap(),
        )
        .unwrap(),
    )
    .keep_going();
    let progress = map.progress();

    let drawer = tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        loop {
            let s = progress.snapshot();
            let finished = (s.done + s.failed) as u64;
            let rate = finished as f64 / started.elapsed().as_secs_f64().max(1e-9);
            eprint!(
                "\r[{}] {finished}/{total} done {} failed {} retried {} in flight {:>4} limit {:>4} {:>8.0}/s",
                bar(finished as f64 / total as f64, 30),
                s.done,
                s.failed,
                s.retried,
                s.in_flight,
                s.limit,
                rate,
            );
            let _ = std::io::stderr().flush();
            if finished >= total {
                eprintln!();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    let started = std::time::Instant::now();
    let outcome = map.collect().await;
    drawer.await.unwrap();
    match outcome {
        Ok(values) => println!(
            "{} requests in {:.2?}, every one answered",
            values.len(),
            started.elapsed()
        ),
        Err(errors) => println!(
            "{} requests failed after their retries; first: item {} ({:?})",
            errors.len(),
            errors.first().position,
            errors.first().error
        ),
    }
}

/// The bench's workload, folded: what the map itself holds, and nothing
/// the example keeps.
async fn bare(total: u64) {
    use futures::StreamExt;
    let started = std::time::Instant::now();
    let sum = asyncio::map(0..total, NonZeroUsize::new(50).unwrap(), |i| async move {
        tokio::task::yield_now().await;
        i
    })
    .start()
    .fold(0_u64, |sum, item| async move {
        sum.wrapping_add(item.unwrap().1)
    })
    .await;
    println!("{total} items in {:.2?} (sum {sum})", started.elapsed());
}
