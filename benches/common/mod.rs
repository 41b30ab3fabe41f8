//! What the benches share.

/// The multi-thread runtime every bench runs on (SPEC.md: the figures are
/// taken on the multi-thread runtime, from inside a spawned task).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}
