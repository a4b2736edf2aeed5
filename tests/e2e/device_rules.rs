//! The device rules that read the collector's new evidence (issue 13): each through `diagnose`
//! on a collector bundle in the shape PowerShell writes (tests/fixtures/collector/, rebuilt by
//! its generate.py): pass, fail and unknown for the connectivity (DEV012) and clock (DEV013)
//! checks and the upgraded PRT (DEV002) and log (DEV011) checks, and the root cause a failing
//! device then gets.

use serde_json::Value;

use super::common::isolated;

fn diagnose(path: &str) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = isolated(root)
        .args(["diagnose", "--format", "json", "-d", path])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn status(doc: &Value, check: &str) -> (String, String) {
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding"));
    (
        f["status"].as_str().unwrap().to_string(),
        f["summary"].as_str().unwrap().to_string(),
    )
}

fn causes(doc: &Value) -> Vec<String> {
    doc["diagnoses"][0]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

const C: &str = "tests/fixtures/collector";

#[test]
fn connectivity_passes_fails_warns_and_is_unknown() {
    let pass = diagnose(&format!("{C}/system-probes.json"));
    assert_eq!(status(&pass, "DEV012").0, "pass");

    let (s, summary) = status(&diagnose(&format!("{C}/tls-inspection.json")), "DEV012");
    assert_eq!(s, "fail");
    assert!(summary.contains("TLS inspected"), "{summary}");

    let (s, summary) = status(
        &diagnose(&format!("{C}/unreachable-endpoint.json")),
        "DEV012",
    );
    assert_eq!(s, "fail");
    assert!(
        summary.contains("enrollment.manage.microsoft.com"),
        "{summary}"
    );

    // Probes from the user's session do not prove SYSTEM's path.
    assert_eq!(
        status(&diagnose(&format!("{C}/winhttp-proxy.json")), "DEV012").0,
        "warn"
    );

    // Loose files without any probe: unknown, saying what to collect.
    let (s, _) = status(&diagnose("mocks/devices/hybrid-enrolled"), "DEV012");
    assert_eq!(s, "skip");
}

#[test]
fn clock_skew_passes_fails_and_is_unknown() {
    assert_eq!(
        status(&diagnose(&format!("{C}/system-probes.json")), "DEV013").0,
        "pass"
    );
    let (s, summary) = status(&diagnose(&format!("{C}/clock-skew.json")), "DEV013");
    assert_eq!(s, "fail");
    assert!(summary.contains("17 minutes"), "{summary}");
    assert_eq!(
        status(&diagnose("mocks/devices/hybrid-enrolled"), "DEV013").0,
        "skip"
    );
}

#[test]
fn a_broken_network_path_or_clock_is_the_root_cause_of_the_failed_enrollment() {
    let tls = diagnose(&format!("{C}/failed-tls-inspection.json"));
    assert_eq!(tls["diagnoses"][0]["verdict"], "failed");
    assert_eq!(causes(&tls).first().map(String::as_str), Some("DEV012"));

    let skew = diagnose(&format!("{C}/failed-clock-skew.json"));
    assert_eq!(skew["diagnoses"][0]["verdict"], "failed");
    assert_eq!(causes(&skew).first().map(String::as_str), Some("DEV013"));
}

#[test]
fn a_missing_prt_is_explained_from_the_aad_log() {
    let doc = diagnose(&format!("{C}/prt-missing-aad-errors.json"));
    let (s, summary) = status(&doc, "DEV002");
    assert_eq!(s, "fail");
    assert!(
        summary.contains("0xCAA20003") && summary.contains("AADSTS700003"),
        "{summary}"
    );
    // The AAD log is named as supplied once the PRT is in question.
    let (s, summary) = status(&doc, "DEV011");
    assert_eq!(s, "pass");
    assert!(
        summary.contains("Microsoft-Windows-AAD/Operational"),
        "{summary}"
    );
    // With a PRT, the same check passes.
    assert_eq!(
        status(&diagnose(&format!("{C}/system-probes.json")), "DEV002").0,
        "pass"
    );
}

#[test]
fn co_management_comes_from_the_flags_not_the_client() {
    let flags = diagnose(&format!("{C}/comanagement-flags-set.json"));
    assert_eq!(flags["diagnoses"][0]["path"], "co-management");
    let client_only = diagnose(&format!("{C}/ccm-without-comanagement-flags.json"));
    assert_eq!(client_only["diagnoses"][0]["path"], "gpo-hybrid");
}
