//! What the benches share.

/// The multi-thread runtime every bench runs on (SPEC.md: the figures are
/// taken on the multi-thread runtime, from inside a spawned task).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The peer every spawn bench compares with: tokio's `JoinSet`, spawning `n`
/// trivial tasks and draining them.
#[allow(dead_code)] // not every bench uses it
pub(crate) async fn join_set_sum(n: usize) -> usize {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        set.spawn(async move { i });
    }
    let mut sum = 0;
    while let Some(done) = set.join_next().await {
        sum += done.unwrap();
    }
    sum
}

/// Sets a group's measurement and warm-up times: the bench's own, or, when
/// `ASYNCIO_BENCH_SECONDS` is set, that many seconds of measurement and a
/// quarter of that of warm-up. `benches/python/compare.py` sets it to run
/// every bench several times in short rounds, so that a crate figure and its
/// peer's are always taken seconds apart and a noisy minute spoils one
/// round, not the report.
#[allow(dead_code)] // not every bench uses it
pub(crate) fn timing<M: criterion::measurement::Measurement>(
    group: &mut criterion::BenchmarkGroup<'_, M>,
    measurement: std::time::Duration,
    warm_up: std::time::Duration,
) {
    let seconds = std::env::var("ASYNCIO_BENCH_SECONDS")
        .ok()
        .and_then(|value| value.parse::<f64>().ok())
        .filter(|seconds| *seconds > 0.0);
    let (measurement, warm_up) = match seconds {
        Some(seconds) => (
            std::time::Duration::from_secs_f64(seconds),
            std::time::Duration::from_secs_f64(seconds / 4.0),
        ),
        None => (measurement, warm_up),
    };
    group.measurement_time(measurement);
    group.warm_up_time(warm_up);
}
