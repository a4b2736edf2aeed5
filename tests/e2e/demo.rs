//! `enroll-doctor demo`: the built-in sample tenant over loopback HTTP, from any directory.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::bin;

/// Runs the demo from an empty temporary directory (the device reports must be embedded).
fn demo(args: &[&str]) -> (i32, String, String, Duration) {
    let cwd = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let out = bin()
        .arg("demo")
        .args(args)
        .current_dir(cwd.path())
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("ENROLL_DOCTOR_ACCESS_TOKEN")
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run enroll-doctor demo");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

fn demo_json() -> Value {
    let (code, stdout, stderr, _) = demo(&["--format", "json"]);
    assert_eq!(code, 0, "demo failed:\n{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn diagnosis<'a>(report: &'a Value, device: &str) -> &'a Value {
    report["diagnose"]["diagnoses"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["device"] == device))
        .unwrap_or_else(|| panic!("no diagnosis for {device}"))
}

fn first_cause(d: &Value) -> Option<&str> {
    d["causes"]
        .as_array()
        .and_then(|c| c.first())
        .and_then(Value::as_str)
}

#[test]
fn every_demo_device_gets_its_verdict_and_first_cause() {
    let r = demo_json();
    assert_eq!(r["schema"], "enroll-doctor/demo@1");
    assert_eq!(r["tenant"], "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13");
    let expected: [(&str, &str, Option<&str>); 6] = [
        ("PC0042.corp.contoso.com", "enrolled", None),
        // Restriction "Pilot Windows block" wins for tlee: the tenant cause leads.
        ("PC0200.corp.contoso.com", "failed", Some("USR005")),
        // diagnose signs in delegated (device code), so the MDM scope is read: mgarcia is in
        // none of its groups.
        ("PC0077.corp.contoso.com", "failed", Some("USR003")),
        ("PC0117.corp.contoso.com", "failed", Some("DEV009")),
        ("PC0103.corp.contoso.com", "blocked", Some("DEV005")),
        // A new Autopilot PC: registered, but its group is not the one the profile targets.
        ("DESKTOP-AP4417", "blocked", Some("AP002")),
    ];
    for (device, verdict, cause) in expected {
        let d = diagnosis(&r, device);
        assert_eq!(d["verdict"], verdict, "{device}: {d}");
        assert_eq!(first_cause(d), cause, "{device}: {d}");
    }
    let pc0077 = diagnosis(&r, "PC0077.corp.contoso.com");
    let usr003 = r["diagnose"]["findings"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["check"] == "USR003" && f["status"] == "fail")
        })
        .cloned()
        .unwrap_or_default();
    assert!(
        usr003.to_string().contains("Intune Users"),
        "the scope group is named: {usr003} / {pc0077}"
    );
    // The Autopilot device's tenant-side cause names the profile's group and the device's event.
    let ap002 = r["diagnose"]["findings"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["check"] == "AP002" && f["status"] == "fail")
        })
        .cloned()
        .unwrap_or_default();
    let ap002 = ap002.to_string();
    assert!(
        ap002.contains("notAssigned")
            && ap002.contains("Autopilot devices")
            && ap002.contains("event 815"),
        "{ap002}"
    );
    let pc0200 = diagnosis(&r, "PC0200.corp.contoso.com");
    assert!(
        pc0200["fix"]
            .as_str()
            .is_some_and(|f| f.contains("Pilot Windows block")),
        "{pc0200}"
    );
    // The readiness check and the audit really ran against the sample tenant.
    let check = r["check"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let intern_license = check
        .iter()
        .find(|f| f["check"] == "USR002" && f["subject"]["id"] == "intern@contoso.com");
    assert_eq!(
        intern_license.map(|f| f["status"].clone()),
        Some(Value::from("fail"))
    );
    let audit = r["audit"]["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(audit.len(), 9, "TEN001-TEN009");
    assert!(
        audit
            .iter()
            .any(|f| f["check"] == "TEN001" && f["status"] == "pass")
    );
}

#[test]
fn table_demo_has_the_banner_all_three_commands_and_next_steps() {
    let (code, stdout, stderr, elapsed) = demo(&[]);
    assert_eq!(code, 0, "demo failed:\n{stderr}");
    assert!(stdout.contains("BUILT-IN SAMPLE TENANT"), "{stdout}");
    for cmd in [
        "$ enroll-doctor audit",
        "$ enroll-doctor check",
        "$ enroll-doctor diagnose",
    ] {
        assert!(stdout.contains(cmd), "missing {cmd}");
    }
    assert!(stdout.contains("USR005 → COR007 → DEV007"), "{stdout}");
    // The device verdicts and root causes lead, within the first screenful or two.
    let overview = stdout.find("Root cause").unwrap_or(usize::MAX);
    let audit = stdout.find("$ enroll-doctor audit").unwrap_or(0);
    assert!(overview < audit, "verdicts first:\n{stdout}");
    let head: String = stdout.lines().take(65).collect::<Vec<_>>().join("\n");
    for (device, verdict) in [
        ("PC0042.corp.contoso.com", "enrolled"),
        ("PC0200.corp.contoso.com", "failed"),
        ("PC0077.corp.contoso.com", "failed"),
        ("PC0117.corp.contoso.com", "failed"),
        ("PC0103.corp.contoso.com", "blocked"),
        ("DESKTOP-AP4417", "blocked"),
    ] {
        assert!(
            head.lines()
                .any(|l| l.contains(device) && l.contains(verdict)),
            "{device} {verdict} not in the first lines:\n{head}"
        );
    }
    assert!(
        head.contains("Pilot Windows block"),
        "root cause shown:\n{head}"
    );
    assert!(
        head.contains("AP002: Serial CZC4417AP1"),
        "the Autopilot device's tenant-side root cause is shown:\n{head}"
    );
    // Readable length: passes of each device on one line, Graph queries only in JSON.
    let lines = stdout.lines().count();
    // Six devices, each with its findings table: about 90 lines a device.
    assert!(lines < 600, "demo prints {lines} lines");
    assert!(
        !stdout.contains("$select="),
        "query strings belong to the JSON"
    );
    assert!(stdout.contains("Next steps with your own tenant"));
    // The sample app's secret never appears in the output.
    assert!(!stdout.contains("NOT-A-REAL-SECRET") && !stderr.contains("NOT-A-REAL-SECRET"));
    // The README promises under 3 s; on a loaded CI machine allow headroom, but catch a
    // demo that waits on timeouts or retries.
    assert!(elapsed < Duration::from_secs(20), "demo took {elapsed:?}");
}
