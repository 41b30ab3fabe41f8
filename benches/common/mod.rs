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
