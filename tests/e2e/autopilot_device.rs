//! `enroll-doctor diagnose` on the Autopilot device folders of tests/fixtures/autopilot: every
//! input is read without a problem, and the JSON report carries the Autopilot facts of the
//! device (`diagnoses[].facts`, source `autopilot`, each with its file and line).

use std::path::PathBuf;

use serde_json::Value;

use super::common::isolated;

const AS_OF: &str = "2026-11-26";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/autopilot")
        .join(name)
}

fn diagnose_json(name: &str) -> (i32, Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = isolated(dir.path())
        .env("COLUMNS", "120")
        .args(["diagnose", "--as-of", AS_OF, "-f", "json", "-d"])
        .arg(fixture(name))
        .output()
        .expect("run enroll-doctor");
    let code = out.status.code().unwrap_or(-1);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

/// The `autopilot` facts of the one diagnosis, as `detail @ location` lines.
fn facts(json: &Value) -> Vec<String> {
    let diagnoses = json["diagnoses"].as_array().expect("diagnoses");
    assert_eq!(diagnoses.len(), 1);
    diagnoses[0]["facts"]
        .as_array()
        .map(|f| {
            f.iter()
                .inspect(|x| assert_eq!(x["source"], "autopilot"))
                .map(|x| {
                    format!(
                        "{} @ {}",
                        x["detail"].as_str().unwrap_or(""),
                        x["location"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn check(name: &str, expect: &[&str]) {
    let (code, json) = diagnose_json(name);
    assert_ne!(code, 2, "{name}: {json}");
    let notes: Vec<&str> = json["notes"]
        .as_array()
        .map(|n| n.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        notes.iter().all(|n| !n.contains(": input ")),
        "{name}: an input was not read cleanly: {notes:?}"
    );
    let got = facts(&json);
    for want in expect {
        assert!(
            got.iter().any(|f| f.contains(want)),
            "{name}: no fact with {want:?} in {got:#?}"
        );
    }
}

#[test]
fn profile_downloaded_for_this_tenant() {
    check(
        "profile-this-tenant",
        &[
            "Autopilot profile \"Contoso user-driven\" for tenant contoso.onmicrosoft.com (5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13); Entra join",
            "@ autopilot.reg:",
            "@ AutopilotDDSZTDFile.json",
            "device hash: serial PF3ABC12",
        ],
    );
}

#[test]
fn not_registered_has_no_profile() {
    check(
        "not-registered",
        &["no tenant assigned", "IsAutopilotDisabled = 1"],
    );
}

#[test]
fn profile_of_another_tenant() {
    check(
        "other-tenant",
        &[
            "for tenant fabrikam.onmicrosoft.com",
            "TenantMatched = 0 (the user signed in to another tenant)",
        ],
    );
}

#[test]
fn esp_stuck_on_a_blocking_app() {
    check(
        "esp-blocking-app",
        &[
            "ESP held by Device app Win32App_4d7e1f2a-5b6c-4d8e-9f0a-1b2c3d4e5f6a_1 (Sidecar): InstallationState InProgress @ esp.reg:",
            "FirstSync of enrollment 6F4C1B2A-3D5E-4F60-8A7B-9C0D1E2F3A4B: not done, ESP timeout 60 minutes @ enrollments.reg:",
        ],
    );
}

#[test]
fn first_sync_timed_out() {
    check("first-sync-timeout", &["ESP timeout 30 minutes, timed out"]);
}

#[test]
fn self_deploying_on_a_tpm_1_2() {
    check(
        "self-deploying-tpm12",
        &[
            "CloudAssignedOobeConfig 1406",
            "Autopilot event 171: 0x800705B4 ERROR_TIMEOUT",
            "TPM 1.2: not capable of the attestation self-deploying and pre-provisioning need @ tpmtool.txt:2",
        ],
    );
}

#[test]
fn windows_home() {
    check(
        "windows-home",
        &[
            "Autopilot event 183: 0x80180022 MENROLL_E_PROV_CSP_MISC",
            "Windows edition Core: Home cannot use Autopilot or Entra join @ os.reg:",
        ],
    );
}

#[test]
fn a_device_without_autopilot_facts_carries_none() {
    let (_, json) = diagnose_json("../../../mocks/devices/hybrid-enrolled");
    assert!(json["diagnoses"][0].get("facts").is_none(), "{json}");
}
