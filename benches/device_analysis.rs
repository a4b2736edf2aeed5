//! Times `load_path` + device evaluation on each bundled sample folder and prints mean/p95/max;
//! then the same folders with their event exports as `.evtx` logs, an MdmDiagnosticsTool `.cab`
//! built from a sample (and once more with 64 MiB of traces the reader streams past), and a
//! generated large `.evtx` (read once in-process, then by the built binary, whose peak RSS is
//! measured).
//!
//! Debug upper bound: `cargo bench --profile dev --bench device_analysis`;
//! release: `cargo bench --bench device_analysis`. `ITERATIONS=N` sets the count (default 200);
//! `EVTX_MIB=N` the size of the large log (default 100, 0 to skip it).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use enroll_doctor::checks::device;
use enroll_doctor::device::load_path;

#[path = "support/evtx_big.rs"]
mod evtx_big;
#[path = "../tests/support/evtx_samples.rs"]
mod evtx_samples;
#[path = "../tests/support/evtx_writer.rs"]
mod evtx_writer;
#[path = "../tests/support/utf16.rs"]
mod utf16;

#[path = "../tests/support/mdmdiag_bundle.rs"]
mod mdmdiag_bundle;

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
    // MdmDiagnosticsTool cabinets of the failed-8018002b sample: as the tool writes it, and
    // with 64 MiB of ETW traces in the same folder ahead of the artifacts.
    let scratch = tempfile::tempdir().unwrap_or_else(|e| {
        eprintln!("temp dir: {e}");
        std::process::exit(2);
    });
    let scenario = root.join("failed-8018002b");
    let files = mdmdiag_bundle::bundle_files(&scenario, true);
    let mut big = files.clone();
    let trace: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    big.insert(
        0,
        ("DiagnosticLogCSP_Collector_Autopilot_big.etl".into(), trace),
    );
    for (name, files) in [("cab failed-8018002b", files), ("cab +64MiB traces", big)] {
        let path = scratch.path().join(format!("{}.cab", inputs.len()));
        if let Err(e) = std::fs::write(&path, mdmdiag_bundle::cab_bytes(&files)) {
            eprintln!("{name}: {e}");
            std::process::exit(2);
        }
        inputs.push((name.to_string(), path));
    }
    let mut worst_p95 = Duration::ZERO;
    for (name, path) in &inputs {
        // The large cabinet is measured fewer times: it is there for its throughput.
        let n = if name.contains("64MiB") {
            iterations.div_ceil(20)
        } else {
            iterations
        };
        let (mean, p95, max) = time(name, path, n, as_of);
        if !name.contains("64MiB") {
            worst_p95 = worst_p95.max(p95);
        }
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

/// Mean, p95 and max of N runs of `load_path` + evaluation on PATH.
fn time(name: &str, path: &Path, n: usize, as_of: DateTime<Utc>) -> (Duration, Duration, Duration) {
    let mut times: Vec<Duration> = Vec::with_capacity(n);
    for _ in 0..n {
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
    let mean = times.iter().sum::<Duration>() / n as u32;
    let p95 = times[((n * 95).div_ceil(100)).saturating_sub(1)];
    (mean, p95, times[n - 1])
}
