//! Times `load_path` + device evaluation on each bundled sample folder and prints mean/p95/max.
//!
//! Debug upper bound: `cargo bench --profile dev --bench device_analysis`;
//! release: `cargo bench --bench device_analysis`. `ITERATIONS=N` sets the count (default 200).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use enroll_doctor::checks::device;
use enroll_doctor::device::load_path;

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
        "{:<26} {:>10} {:>10} {:>10}",
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
    let mut worst_p95 = Duration::ZERO;
    for name in &samples {
        let path = root.join(name);
        let mut times: Vec<Duration> = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let start = Instant::now();
            let reports = match load_path(&path) {
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
            "{name:<26} {:>8.3}ms {:>8.3}ms {:>8.3}ms",
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
}
