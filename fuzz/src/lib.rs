//! Fuzz-target logic for mtproto-rs, as plain functions so the same code runs
//! under libFuzzer (`fuzz_targets/*.rs`) and in the workspace replay test
//! (`tests/tests/fuzz_replay.rs`, which `#[path]`-includes `targets/mod.rs`).

pub mod targets;
