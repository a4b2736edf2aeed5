//! Times `load_path` + device evaluation on each bundled sample folder and prints mean/p95/max;
//! then the same folders with their event exports as `.evtx` logs, and a generated large
//! `.evtx` (read once in-process, then by the built binary, whose peak RSS is measured).
//!
//! Debug upper bound: `cargo bench --profile dev --bench device_analysis`;
//! release: `cargo bench --bench device_analysis`. `ITERATIONS=N` sets the count (default 200);
//! `EVTX_MIB=N` the size of the large log (default 100, 0 to skip it).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use enroll_doctor::checks::device;
use enroll_doctor::device::load_path;

#[path = "support/evtx_big.rs"]
mod evtx_big;
#[path = "../tests/support/evtx_samples.rs"]
mod evtx_samples;
#[path = "../tests/support/evtx_writer.rs"]
mod evtx_writer;

fn main() {
    let iterations: usize = std::env::var("ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(200);
    let as_of = Utc
        .with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
        .single()
        .unwrap_or_else(Utc::now);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices");
    println!(
        "device analysis (load_path + evaluate), {iterations} iterations, profile {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{:<34} {:>10} {:>10} {:>10}",
        "sample", "mean", "p95", "max"
    );
    // Every bundled sample folder, so a new sample is measured without editing this file.
    let mut samples: Vec<String> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    samples.sort();
    if samples.is_empty() {
        eprintln!("no sample folders under {}", root.display());
        std::process::exit(2);
    }
    // Each sample that holds event exports once more, with them as .evtx logs.
    let work = tempfile::tempdir().unwrap_or_else(|e| {
        eprintln!("temporary folder: {e}");
        std::process::exit(2);
    });
    let mut inputs: Vec<(String, PathBuf)> =
        samples.iter().map(|n| (n.clone(), root.join(n))).collect();
    for name in &samples {
        let files = evtx_samples::files_of(&root.join(name), true);
        if files.iter().any(|(f, _)| f.ends_with(".evtx")) {
            let dir = evtx_samples::write_folder(&work.path().join(name), &files);
            inputs.push((format!("{name} (evtx)"), dir));
        }
    }
    let mut worst_p95 = Duration::ZERO;
    for (name, path) in &inputs {
        let mut times: Vec<Duration> = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let start = Instant::now();
            let reports = match load_path(path) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{name}: {e}");
                    std::process::exit(2);
                }
            };
            let mut verdicts = 0;
            for r in &reports {
                let (_, d) = device::evaluate(r, as_of);
                verdicts += usize::from(!d.device.is_empty());
            }
            std::hint::black_box(verdicts);
            times.push(start.elapsed());
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / iterations as u32;
        let p95 = times[((iterations * 95).div_ceil(100)).saturating_sub(1)];
        let max = times[iterations - 1];
        worst_p95 = worst_p95.max(p95);
        println!(
            "{name:<34} {:>8.3}ms {:>8.3}ms {:>8.3}ms",
            mean.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
    println!(
        "worst p95 {:.3}ms (budget 50ms): {}",
        worst_p95.as_secs_f64() * 1e3,
        if worst_p95 < Duration::from_millis(50) {
            "OK"
        } else {
            "OVER BUDGET"
        }
    );
    let mib = std::env::var("EVTX_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(100);
    if mib > 0 {
        evtx_big::run(work.path(), mib, as_of);
    }
}
