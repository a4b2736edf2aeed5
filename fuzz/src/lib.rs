//! A mutation fuzzer over enroll-doctor's parsers, on stable Rust and in-process.
//!
//! Seeds are the device folders, snapshots and configs the repository bundles
//! ([`seeds::load`]); each execution mutates one ([`mutate`]: bit flips, truncation, splices,
//! format tokens, huge lines, re-encodings, NUL padding, files dropped or doubled) and runs it
//! through the code the CLI runs ([`targets`]). A run fails on a panic, on an input that takes
//! more CPU time than its time budget (twice in a row) or allocates more than its memory budget (both proportional to
//! the input), on a verdict that changes when a device's files are re-encoded (UTF-8 ± BOM,
//! UTF-16LE/BE ± BOM, windows-1252, LF/CRLF/CR, NUL padding), and on a control character in
//! table or markdown output. A watchdog aborts on an input still running past the hang limit,
//! after saving it. `cargo test --workspace` runs a short fixed run (`tests/short_run.rs`); the
//! binary runs long ones: `cargo run --release -p enroll-doctor-fuzz -- --execs 10000000 --jobs 2`.

pub mod alloc;
pub mod encode;
pub mod engine;
pub mod mutate;
pub mod rng;
pub mod seeds;
pub mod targets;

// `.evtx` seeds: the samples' XML event exports written as EVTX logs.
#[path = "../../tests/support/evtx_samples.rs"]
mod evtx_samples;
#[path = "../../tests/support/evtx_writer.rs"]
mod evtx_writer;

#[global_allocator]
static COUNTING: alloc::Counting = alloc::Counting;
