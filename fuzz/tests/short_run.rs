//! The fuzzer's short fixed run, part of `cargo test --workspace`: a few thousand mutated inputs
//! of every target, no crash, hang, over-budget input, verdict change under re-encoding or
//! control character in the output. Long runs use the binary (see the crate docs).

use enroll_doctor_fuzz::engine::{Config, run};
use enroll_doctor_fuzz::seeds;

#[test]
fn a_short_fixed_run_finds_nothing() {
    let seeds = seeds::load(&seeds::repo_root());
    let out = std::env::temp_dir().join(format!("enroll-doctor-fuzz-{}", std::process::id()));
    let cfg = Config {
        execs: 6000,
        seed: 20261203,
        jobs: 2,
        out: Some(out.clone()),
        ..Config::default()
    };
    let stats = run(&cfg, &seeds);
    println!("{}", stats.summary());
    assert_eq!(stats.execs, 6000);
    assert!(stats.invariance_checks > 100, "{}", stats.summary());
    assert!(stats.renders > 20, "{}", stats.summary());
    let failures: Vec<String> = stats
        .failures
        .iter()
        .take(10)
        .map(|f| {
            format!(
                "{} {}: {} ({:?})",
                f.kind,
                f.target.name(),
                f.detail,
                f.saved
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{}\n{}",
        stats.summary(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(out);
}
