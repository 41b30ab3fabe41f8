//! loom models of the `asyncio` crate's synchronisation cores.
//!
//! The models live in `tests/`; they compile only with
//! `RUSTFLAGS="--cfg asyncio_loom"` (see the README for the full command).
//! This library holds the helpers they share.

#![cfg_attr(not(asyncio_loom), allow(unused))]

#[cfg(asyncio_loom)]
pub mod task;
#[cfg(asyncio_loom)]
pub mod timeout;
#[cfg(asyncio_loom)]
pub mod waker;
