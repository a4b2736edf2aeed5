//! `--format markdown`: the same report as the JSON, laid out for a ticket.

use std::path::PathBuf;

use serde_json::Value;

use super::common::bin;

fn stale_enrollment() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices/stale-enrollment")
}

fn run(format: &str) -> (i32, String) {
    let out = bin()
        .args([
            "diagnose",
            "--as-of",
            "2026-11-26",
            "--format",
            format,
            "-d",
        ])
        .arg(stale_enrollment())
        .output()
        .expect("run enroll-doctor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 output"),
    )
}

#[test]
fn diagnose_markdown_carries_the_json_report() {
    let (json_code, json) = run("json");
    let json: Value = serde_json::from_str(&json).expect("json report");
    let (code, md) = run("markdown");
    // Same findings, same exit code: only the layout differs.
    assert_eq!(code, json_code);

    assert!(md.starts_with("# enroll-doctor report (as of 2026-11-26)\n"));
    let diagnosis = &json["diagnoses"][0];
    let device = diagnosis["device"].as_str().expect("device label");
    let heading = md
        .find(&format!("## Diagnosis: {device}"))
        .expect("diagnosis section");
    assert!(heading < md.find("## Findings").expect("findings section"));
    let verdict = diagnosis["verdict"].as_str().expect("verdict");
    assert!(md.contains(&format!("- **Verdict:** `{verdict}`")));
    assert!(md.contains(&format!(
        "- **Path:** `{}`",
        diagnosis["path"].as_str().expect("path")
    )));
    for cause in diagnosis["causes"].as_array().expect("causes") {
        assert!(md.contains(&format!("`{}`", cause.as_str().expect("cause id"))));
    }
    assert!(md.contains(&format!("### Device {device}: {verdict}")));
    assert!(md.contains("| Status | Check | Summary | Evidence |\n|---|---|---|---|\n"));

    // Every finding has its row with its status.
    let findings = json["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        let check = f["check"].as_str().expect("check id");
        let status = f["status"].as_str().expect("status").to_uppercase();
        assert!(
            md.lines().any(|l| l.starts_with('|')
                && l.contains(&format!(" {check} |"))
                && l.contains(&status)),
            "no row for {check} ({status})\n{md}"
        );
        if matches!(f["status"].as_str(), Some("fail" | "warn")) {
            assert!(
                md.contains(&format!("| {check} | device {device} |")),
                "no fix for {check}"
            );
        }
    }
    // The stale key's registry path keeps its backslashes.
    assert!(md.contains(r"HKLM\SOFTWARE\Microsoft\Enrollments\"));
    assert!(md.contains("## What to fix"));
    let s = &json["summary"];
    assert!(md.trim_end().ends_with(&format!(
        "**Summary:** {} pass, {} warn, {} fail, {} skip, {} error (as of 2026-11-26)",
        s["pass"], s["warn"], s["fail"], s["skip"], s["error"]
    )));

    // `md` is an alias.
    let (_, alias) = run("md");
    assert_eq!(alias, md);
}

#[test]
fn explain_markdown_is_the_text_in_a_fenced_block() {
    let out = bin()
        .args(["explain", "DEV009", "--format", "markdown"])
        .output()
        .expect("run enroll-doctor");
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8(out.stdout).expect("utf-8 output");
    assert!(md.starts_with("```text\nDEV009"), "{md}");
    assert!(md.trim_end().ends_with("```"));
}
