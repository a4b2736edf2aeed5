//! `diagnose --device-report X` for an MdmDiagnosticsTool bundle, X = its `.cab`, its `.zip`
//! and the folder it unpacks to: one device each, with the verdict and root cause of the same
//! scenario's files passed loose. Damaged and hostile cabinets give a note naming the file.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::common::isolated;
use crate::bundle_support::{self, Files};

const AS_OF: &str = "2026-11-26";

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices")
        .join(name)
}

/// Exit code and JSON report of `diagnose --offline -f json -d PATH`.
fn diagnose(dir: &Path, path: &Path) -> (i32, Value) {
    let out = isolated(dir)
        .args([
            "diagnose",
            "--offline",
            "--as-of",
            AS_OF,
            "-f",
            "json",
            "-d",
        ])
        .arg(path)
        .output()
        .expect("run enroll-doctor");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// What must match between two forms of one device: exit code, how many devices, and the
/// device's path, verdict and causes (the root cause first).
fn outcome(code: i32, json: &Value) -> Value {
    let d = &json["diagnoses"];
    serde_json::json!({
        "exit": code,
        "devices": d.as_array().map_or(0, Vec::len),
        "path": d[0]["path"],
        "verdict": d[0]["verdict"],
        "causes": d[0]["causes"],
    })
}

/// Every note of the run's first device, joined.
fn notes(json: &Value) -> String {
    serde_json::to_string(&json["diagnoses"][0]["notes"]).unwrap_or_default()
        + &serde_json::to_string(&json["notes"]).unwrap_or_default()
}

/// The three forms of BUNDLE under DIR: `diag.cab`, `diag.zip`, `MDMDiagnostics/`.
fn forms(dir: &Path, bundle: &Files) -> [PathBuf; 3] {
    let cab = dir.join("diag.cab");
    std::fs::write(&cab, bundle_support::cab_bytes(bundle)).expect("write cab");
    let zip = dir.join("diag.zip");
    std::fs::write(&zip, bundle_support::zip_bytes(bundle)).expect("write zip");
    let folder = dir.join("MDMDiagnostics");
    bundle_support::write_folder(&folder, bundle);
    [cab, zip, folder]
}

#[test]
fn cab_zip_and_unpacked_folder_match_the_loose_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = scenario("failed-8018002b");
    // The artifacts alone, loose: what each form of the bundle must come to.
    let loose = dir.path().join("loose");
    bundle_support::write_folder(&loose, &bundle_support::bundle_files(&src, false));
    let (code, json) = diagnose(dir.path(), &loose);
    let expected = outcome(code, &json);
    assert_eq!(expected["verdict"], "failed", "{expected}");
    assert_eq!(expected["devices"], 1);
    for form in forms(dir.path(), &bundle_support::bundle_files(&src, true)) {
        let (code, json) = diagnose(dir.path(), &form);
        assert_eq!(outcome(code, &json), expected, "{}", form.display());
        let notes = notes(&json);
        // The tool's logs and traces are listed, not noted; the HTML summary is quiet beside
        // the XML; the Autopilot files are recognised.
        for quiet in [
            ".etl",
            "IntuneManagementExtension.log",
            "MDMDiagHtmlReport",
            "Autopilot",
            "TpmHliInfo",
            "DeviceHash",
        ] {
            assert!(
                !notes.contains(quiet),
                "{}: {quiet} in {notes}",
                form.display()
            );
        }
    }
}

#[test]
fn a_device_folder_with_dsregcmd_and_its_cab_is_the_whole_scenario() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = scenario("failed-8018002b");
    let (code, json) = diagnose(dir.path(), &src);
    let expected = outcome(code, &json);
    let device = dir.path().join("PC0099");
    std::fs::create_dir_all(&device).expect("device folder");
    std::fs::copy(src.join("dsregcmd.txt"), device.join("dsregcmd.txt")).expect("copy");
    std::fs::write(
        device.join("MDMDiagReport.cab"),
        bundle_support::cab_bytes(&bundle_support::bundle_files(&src, true)),
    )
    .expect("write cab");
    let (code, json) = diagnose(dir.path(), &device);
    assert_eq!(outcome(code, &json), expected);
    assert_eq!(
        json["diagnoses"][0]["causes"][0], "DEV003",
        "{}",
        json["diagnoses"][0]
    );
}

#[test]
fn the_serial_number_comes_from_the_device_hash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let [cab, ..] = forms(
        dir.path(),
        &bundle_support::bundle_files(&scenario("failed-8018002b"), true),
    );
    let reports = enroll_doctor::device::load_path(&cab).expect("cab loads");
    assert_eq!(reports.len(), 1);
    let hw = reports[0]
        .hardware
        .as_ref()
        .expect("hardware from DeviceHash");
    assert_eq!(hw.serial_number.as_deref(), Some("5CG1234XYZ"));
    assert_eq!(hw.location.file, "DeviceHash_PC0099.csv");
    let kind = |name: &str| {
        reports[0]
            .inputs
            .iter()
            .find(|i| i.name == name)
            .map(|i| serde_json::to_value(i.kind).unwrap_or_default())
    };
    assert_eq!(
        kind("AutopilotDDSZTDFile.json"),
        Some("autopilot-profile".into())
    );
    assert_eq!(
        kind("AutopilotConciergeFile.json"),
        Some("autopilot-profile".into())
    );
    assert_eq!(kind("MDMDiagHtmlReport.html"), Some("mdm-diag-html".into()));
    assert_eq!(
        kind("MdmDiagReport_RegistryDump.reg"),
        Some("registry-export".into())
    );
    assert!(
        reports[0]
            .registry
            .as_ref()
            .is_some_and(|r| r.keys.len() > 3)
    );
}

#[test]
fn damaged_and_hostile_cabinets_are_notes_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = scenario("failed-8018002b");
    let good = bundle_support::cab_bytes(&bundle_support::bundle_files(&src, false));
    // Cut short: the cabinet alone is an error naming it (exit 2), never a panic.
    let cut = dir.path().join("cut.cab");
    std::fs::write(&cut, &good[..good.len() / 3]).expect("write");
    let out = isolated(dir.path())
        .args(["diagnose", "--offline", "-d"])
        .arg(&cut)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cut.cab"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Inside a device folder beside dsregcmd: a note, and the other evidence still counts.
    for (name, bytes) in [
        ("cut.cab", good[..good.len() / 3].to_vec()),
        ("corrupt.cab", {
            let mut b = good.clone();
            let at = b.len() / 2;
            b[at..at + 64].fill(0x5a);
            b
        }),
        ("empty.cab", bundle_support::cab_bytes(&Vec::new())),
        ("header.cab", good[..40].to_vec()),
    ] {
        let device = dir.path().join(name.replace('.', "-"));
        std::fs::create_dir_all(&device).expect("device folder");
        std::fs::copy(src.join("dsregcmd.txt"), device.join("dsregcmd.txt")).expect("copy");
        std::fs::write(device.join(name), &bytes).expect("write");
        let (code, json) = diagnose(dir.path(), &device);
        assert_ne!(code, 2, "{name}: {json}");
        let notes = notes(&json);
        assert!(notes.contains(name), "{name}: {notes}");
        assert!(json["diagnoses"][0]["verdict"].is_string());
    }
    // Traversal names: refused with a note, nothing written outside, the rest is read.
    let mut hostile = bundle_support::bundle_files(&src, false);
    for name in ["..\\..\\evil.reg", "C:\\evil.reg", "/etc/evil.reg"] {
        hostile.push((
            name.to_string(),
            b"Windows Registry Editor Version 5.00\r\n".to_vec(),
        ));
    }
    let cab = dir.path().join("hostile.cab");
    std::fs::write(&cab, bundle_support::cab_bytes(&hostile)).expect("write");
    let (code, json) = diagnose(dir.path(), &cab);
    assert_eq!(code, 1, "{json}");
    let notes = notes(&json);
    assert_eq!(
        notes.matches("unsafe path in cabinet").count(),
        3,
        "{notes}"
    );
    assert!(
        !dir.path()
            .parent()
            .is_some_and(|p| p.join("evil.reg").exists())
    );
    assert_eq!(json["diagnoses"][0]["verdict"], "failed");
}

#[test]
fn a_folder_of_cabinets_is_a_fleet() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fleet = dir.path().join("fleet");
    std::fs::create_dir_all(&fleet).expect("fleet folder");
    for (name, sample) in [
        ("PC-A.cab", "failed-8018002b"),
        ("PC-B.cab", "stale-enrollment"),
    ] {
        let files = bundle_support::bundle_files(&scenario(sample), true);
        std::fs::write(fleet.join(name), bundle_support::cab_bytes(&files)).expect("write cab");
    }
    let (code, json) = diagnose(dir.path(), &fleet);
    assert_eq!(code, 1, "{json}");
    let devices: Vec<&str> = json["diagnoses"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["device"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(devices, ["PC-A", "PC-B"]);
}

/// The bundle as the tool really writes it: the event logs as `.evtx` (not XML exports).
fn with_evtx_logs(bundle: &Files, scenario: &Path) -> Files {
    let mut out: Files = bundle
        .iter()
        .filter(|(name, _)| !name.starts_with("microsoft-windows-"))
        .cloned()
        .collect();
    for (xml, as_name) in [
        (
            "dmedp-admin.xml",
            "microsoft-windows-devicemanagement-enterprise-diagnostics-provider-admin.evtx",
        ),
        (
            "taskscheduler.xml",
            "microsoft-windows-taskscheduler-operational.evtx",
        ),
    ] {
        let path = scenario.join(xml);
        if path.exists() {
            out.push((as_name.to_string(), crate::evtx_samples::evtx_of_xml(&path)));
        }
    }
    out
}

#[test]
fn a_bundle_with_evtx_logs_matches_the_one_with_xml_exports() {
    let dir = tempfile::tempdir().expect("temp dir");
    for sample in ["failed-8018002b", "never-triggered"] {
        let src = scenario(sample);
        let xml = bundle_support::bundle_files(&src, true);
        let loose = dir.path().join(format!("{sample}-loose"));
        bundle_support::write_folder(&loose, &xml);
        let (code, json) = diagnose(dir.path(), &loose);
        let expected = outcome(code, &json);
        let evtx = with_evtx_logs(&xml, &src);
        assert!(evtx.iter().any(|(n, _)| n.ends_with(".evtx")), "{sample}");
        let sub = dir.path().join(sample);
        std::fs::create_dir_all(&sub).expect("dir");
        for form in forms(&sub, &evtx) {
            let (code, json) = diagnose(dir.path(), &form);
            assert_eq!(
                outcome(code, &json),
                expected,
                "{sample}: {}",
                form.display()
            );
            let inputs = serde_json::to_string(&json).unwrap_or_default();
            assert!(
                !notes(&json).contains(".evtx"),
                "{sample}: {}: an .evtx was noted: {}",
                form.display(),
                notes(&json)
            );
            assert!(
                inputs.contains("event-evtx") || inputs.contains(".evtx"),
                "{inputs}"
            );
        }
    }
}
