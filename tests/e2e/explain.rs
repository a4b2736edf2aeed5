//! `enroll-doctor explain`: every catalogued code in every accepted notation, every check, the
//! `--all` listing and the error path.

use std::collections::HashSet;

use serde_json::Value;

use super::common::bin;

fn run_json(args: &[&str]) -> Value {
    let out = bin().args(args).output().expect("binary runs");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn all_listing() -> Value {
    run_json(&["explain", "--all", "--format", "json"])
}

#[test]
fn every_catalog_code_explains_in_all_four_notations() {
    let listing = all_listing();
    let codes = listing["error_codes"]
        .as_array()
        .expect("error_codes array");
    assert_eq!(
        codes.len(),
        enroll_doctor::catalog::error_codes::all().len()
    );
    for entry in codes {
        let hex = entry["code"].as_str().expect("code string");
        let unsigned = entry["unsigned"].as_u64().expect("unsigned");
        let signed = entry["signed"].as_i64().expect("signed");
        let bare = hex.trim_start_matches("0x").to_ascii_lowercase();
        for notation in [
            hex.to_string(),
            bare,
            unsigned.to_string(),
            signed.to_string(),
        ] {
            let doc = run_json(&["explain", &notation, "--format", "json"]);
            let items = doc["error_codes"].as_array().expect("error_codes array");
            assert_eq!(items.len(), 1, "{notation}");
            assert_eq!(items[0]["code"], hex, "{notation} resolved to another code");
            assert_eq!(items[0]["known"], true, "{notation}");
            assert!(doc["checks"].as_array().is_some_and(|c| c.is_empty()));
        }
    }
}

#[test]
fn code_text_output_shows_numbers_symbol_and_related_checks() {
    let out = bin()
        .args(["explain", "0X8018000a"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("0x8018000A  (unsigned 2149056522, signed -2145910774)"),
        "{text}"
    );
    for needle in [
        "MENROLL_E_DEVICE_ALREADY_ENROLLED",
        "Likely cause: already-enrolled",
        "Remediation",
        "DEV009",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
    // The text Windows prints instead of the code is shown.
    let out = bin()
        .args(["explain", "2149056561"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Mobile Device Management (MDM) is not configured."),
        "{text}"
    );
}

#[test]
fn every_check_explains_with_all_sections() {
    let listing = all_listing();
    let checks = listing["checks"].as_array().expect("checks array");
    assert_eq!(checks.len(), enroll_doctor::checks::registry::all().len());
    for check in checks {
        let id = check["id"].as_str().expect("id");
        let out = bin().args(["explain", id]).output().expect("runs");
        assert!(out.status.success(), "{id}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with(id), "{id}: {text}");
        for heading in [
            "What it checks",
            "Why it matters",
            "How to fix",
            "References",
            "Severity:",
            "Graph permissions",
        ] {
            assert!(text.contains(heading), "{id} lacks {heading}");
        }
        assert!(
            text.contains("https://learn.microsoft.com/"),
            "{id} lacks a reference"
        );
        // By kebab name, in JSON, the same check comes back.
        let name = check["name"].as_str().expect("name");
        let doc = run_json(&["explain", name, "-f", "json"]);
        assert_eq!(doc["checks"][0]["id"], id);
        for key in ["what_it_checks", "why_it_matters", "how_to_fix"] {
            assert!(
                doc["checks"][0][key]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{id}.{key}"
            );
        }
    }
}

#[test]
fn delegated_only_check_says_so() {
    let out = bin().args(["explain", "usr003"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Delegated only"), "{text}");
    assert!(text.contains("not supported"), "{text}");
    let doc = run_json(&["explain", "USR003", "--format", "json"]);
    assert_eq!(doc["checks"][0]["permissions"]["delegated_only"], true);
    assert_eq!(
        doc["checks"][0]["permissions"]["application"],
        serde_json::json!([])
    );
}

#[test]
fn all_json_is_stable_and_ids_unique() {
    let a = bin()
        .args(["explain", "--all", "--format", "json"])
        .output()
        .expect("runs");
    let b = bin()
        .args(["explain", "--all", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(a.stdout, b.stdout, "output is deterministic");
    let doc: Value = serde_json::from_slice(&a.stdout).expect("valid JSON");
    let keys: Vec<&String> = doc.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["checks", "error_codes"]);
    let mut ids = HashSet::new();
    let mut names = HashSet::new();
    for c in doc["checks"].as_array().expect("array") {
        assert!(
            ids.insert(c["id"].as_str().expect("id").to_string()),
            "duplicate {}",
            c["id"]
        );
        assert!(
            names.insert(c["name"].as_str().expect("name").to_string()),
            "duplicate {}",
            c["name"]
        );
    }
    let mut codes = HashSet::new();
    for e in doc["error_codes"].as_array().expect("array") {
        let code = e["code"].as_str().expect("code");
        assert!(codes.insert(code.to_string()), "duplicate {code}");
        assert_eq!(
            code,
            code.to_ascii_uppercase().replace("0X", "0x"),
            "upper-case hex"
        );
        for related in e["related_checks"].as_array().expect("array") {
            assert!(
                ids.contains(related.as_str().expect("id")),
                "{code} → unknown {related}"
            );
        }
    }
}

#[test]
fn all_table_lists_checks_and_codes() {
    let out = bin().args(["explain", "--all"]).output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let n = enroll_doctor::checks::registry::all().len();
    assert!(n >= 35, "the catalog has at least 35 checks");
    assert!(text.contains(&format!("Checks ({n})")));
    assert!(text.contains("COR007") && text.contains("0x8018002B") && text.contains("0xCAA2000C"));
}

#[test]
fn unknown_input_exits_2_with_a_clear_message() {
    for input in ["NOPE42", "0x80180002b", "12ab", "DEV999"] {
        let out = bin().args(["explain", input]).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{input}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("not a check ID or an error code I know"),
            "{input}: {err}"
        );
        assert!(out.stdout.is_empty(), "{input}");
    }
}

#[test]
fn well_formed_unknown_code_prints_its_facility() {
    let out = bin()
        .args(["explain", "0x801901F7"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("HTTP status 503"), "{text}");
    let doc = run_json(&["explain", "0xCAA50021", "-f", "json"]);
    assert_eq!(doc["error_codes"][0]["known"], false);
    assert!(
        doc["error_codes"][0]["facility"]
            .as_str()
            .is_some_and(|f| f.contains("token broker"))
    );
}

#[test]
fn quota_code_names_the_entra_quota_not_the_intune_limit() {
    let out = bin()
        .args(["explain", "0x801C000E"])
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Entra's per-user device quota"), "{text}");
    assert!(
        text.contains("not the\n  Intune enrollment device limit")
            || text.contains("not the Intune enrollment device limit"),
        "{text}"
    );
    assert!(text.contains("TEN008"), "{text}");
    assert!(
        !text.contains("USR006"),
        "the Intune device limit is not related: {text}"
    );
}

#[test]
fn autopilot_reuse_advice_is_the_one_time_unblock() {
    let out = bin()
        .args(["explain", "0x80180014", "-f", "json"])
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    // JSON: the catalog texts are not wrapped.
    assert!(text.contains("Unblock device"), "{text}");
    assert!(text.contains("userless enrollment status"), "{text}");
    assert!(
        !text.contains("delete its Intune device record first"),
        "the rolled-back advice is gone: {text}"
    );
    // ... and the rollback is cited.
    assert!(text.contains("memdocs issue #3669"), "{text}");
}
