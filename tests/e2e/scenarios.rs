//! Scenarios as data: every device fixture folder (`mocks/devices/*`, `tests/fixtures/devices/*`,
//! `tests/fixtures/correlate/*/`) is diagnosed offline and against the Contoso snapshot, and the
//! findings and diagnoses are recorded as one insta snapshot per folder and mode. A new folder
//! has no snapshot yet, so its first run fails and writes a `.snap.new` beside the others
//! (under `CI=true` insta writes nothing): accept it with `cargo insta review`, or run
//! `INSTA_UPDATE=always cargo test --test e2e scenarios` and read the `git diff`. A changed
//! verdict, cause, summary or evidence line shows up as a snapshot diff.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::common::bin;

const AS_OF: &str = "2026-11-26";
const ROOTS: [&str; 3] = [
    "mocks/devices",
    "tests/fixtures/devices",
    "tests/fixtures/correlate",
];
const SNAPSHOT: &str = "tests/fixtures/correlate/contoso-snapshot.json";

/// The repository-relative form of a fixture path (snapshots must not hold this machine's paths).
fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn diagnose(dir: &str, with_tenant: bool) -> Value {
    let mut cmd = bin();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["diagnose", "-d", dir, "--as-of", AS_OF, "--format", "json"])
        .env_remove("ENROLL_DOCTOR_CONFIG");
    if with_tenant {
        cmd.args(["--snapshot", SNAPSHOT]);
    }
    let out = cmd.output().expect("enroll-doctor runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "diagnose {dir}: exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => panic!("diagnose {dir}: not JSON: {e}"),
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn subject(f: &Value) -> String {
    let s = &f["subject"];
    match s["id"].as_str() {
        Some(id) => format!("{} {id}", text(&s["kind"])),
        None => text(&s["kind"]).to_string(),
    }
}

/// Diagnoses first (verdict, path, causes, fix), then every finding with its evidence, in the
/// report's order: one line a fact, so a diff names exactly what changed.
fn render(report: &Value) -> String {
    let mut out = String::new();
    for d in report["diagnoses"].as_array().into_iter().flatten() {
        let causes: Vec<&str> = d["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        let _ = writeln!(
            out,
            "diagnosis {}: {} on {} [{}]{}",
            text(&d["device"]),
            text(&d["verdict"]),
            text(&d["path"]),
            causes.join(", "),
            d["user"]
                .as_str()
                .map(|u| format!(" user {u}"))
                .unwrap_or_default()
        );
        let _ = writeln!(out, "  fix: {}", text(&d["fix"]));
        let _ = writeln!(out, "  explanation: {}", text(&d["explanation"]));
    }
    for f in report["findings"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "{} {} {} {}: {}",
            text(&f["check"]),
            text(&f["status"]),
            text(&f["severity"]),
            subject(f),
            text(&f["summary"])
        );
        for e in f["evidence"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  - {} | {} | {}",
                text(&e["source"]),
                text(&e["detail"]),
                text(&e["location"])
            );
        }
        if !text(&f["remediation"]).is_empty() {
            let _ = writeln!(out, "  fix: {}", text(&f["remediation"]));
        }
    }
    for n in report["notes"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "note: {}", text(n));
    }
    out
}

fn record(set: &str, path: &Path) {
    let dir = relative(path);
    // READMEs, the snapshot file and .gitattributes are not devices; the glob's base folder
    // itself matches `*` too.
    if !path.is_dir() || ROOTS.contains(&dir.as_str()) {
        return;
    }
    insta::assert_snapshot!(format!("{set}_offline"), render(&diagnose(&dir, false)));
    insta::assert_snapshot!(format!("{set}_contoso"), render(&diagnose(&dir, true)));
}

#[test]
fn sample_devices() {
    insta::glob!("../../mocks/devices", "*", |p| record("sample", p));
}

#[test]
fn format_fixture_devices() {
    insta::glob!("../fixtures/devices", "*", |p| record("format", p));
}

#[test]
fn correlation_scenarios() {
    insta::glob!("../fixtures/correlate", "*", |p| record("scenario", p));
}
