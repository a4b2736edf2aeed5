//! `audit` and `check` through the binary against the mock Graph over loopback.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mock_graph::{BlockingMockGraph, MockConfig, MockGraph};
use serde_json::Value;

use super::common::bin;

/// How the binary signs in.
pub(super) enum Auth {
    /// Client credentials of a fixture app (app-only token).
    App(&'static str),
    /// A ready-made delegated token of a public-client fixture app.
    Delegated(&'static str),
}

pub(super) fn start(cfg: MockConfig) -> BlockingMockGraph {
    match MockGraph::spawn_blocking(cfg) {
        Ok(m) => m,
        Err(e) => panic!("mock Graph did not start: {e}"),
    }
}

pub(super) fn fixture(name: &str) -> BlockingMockGraph {
    start(MockConfig::fixture(name))
}

/// Extra fixture tenants of this test suite (same layout as the mock's own).
pub(super) fn tenant_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/tenants")
        .join(name)
}

/// Runs enroll-doctor with connection flags for `mock`; returns (exit code, stdout, stderr).
pub(super) fn run(mock: &BlockingMockGraph, auth: Auth, args: &[&str]) -> (i32, String, String) {
    output(command(mock, auth, args))
}

/// Runs a command built by [`command`]: exit code, stdout, stderr.
pub(super) fn output(mut cmd: assert_cmd::Command) -> (i32, String, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The binary pointed at the mock and signed in as `auth`, with `args`: for a test that sets
/// more (an environment variable) before [`output`].
pub(super) fn command(mock: &BlockingMockGraph, auth: Auth, args: &[&str]) -> assert_cmd::Command {
    let base = mock.base_url();
    let tenant = mock.tenant_id();
    let mut cmd = bin();
    cmd.args(args)
        .args([
            "--cloud",
            "custom",
            "--graph-url",
            &base,
            "--login-url",
            &base,
        ])
        .args(["--tenant", &tenant])
        .env_remove("AZURE_CLIENT_SECRET")
        .env_remove("ENROLL_DOCTOR_ACCESS_TOKEN")
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .env(
            "ENROLL_DOCTOR_TOKEN_CACHE",
            std::env::temp_dir().join("enroll-doctor-e2e-no-cache"),
        )
        .timeout(Duration::from_secs(120));
    match auth {
        Auth::App(name) => {
            let app = mock
                .app(name)
                .unwrap_or_else(|| panic!("no fixture app {name}"));
            cmd.args(["--client-id", &app.client_id, "--auth", "client-secret"])
                .env("AZURE_CLIENT_SECRET", &app.client_secret);
        }
        Auth::Delegated(name) => {
            let token = mock
                .token_for(name)
                .unwrap_or_else(|| panic!("no fixture app {name}"));
            cmd.args(["--auth", "access-token"])
                .env("ENROLL_DOCTOR_ACCESS_TOKEN", token);
        }
    }
    cmd
}

/// The JSON report, or a JSON Lines run put together as `{"summary": …, "findings": [every
/// finding of every subject line, in full]}`.
pub(super) fn json_of(stdout: &str, stderr: &str) -> Value {
    if stdout.starts_with(r#"{"type":"summary""#) {
        let mut summary = Value::Null;
        let mut all = Vec::new();
        for line in stdout.lines() {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}\nstderr:\n{stderr}"));
            match v["type"].as_str() {
                Some("summary") => summary = v,
                Some("subject") => {
                    all.extend(v["findings"].as_array().cloned().unwrap_or_default())
                }
                _ => panic!("unexpected line {line}"),
            }
        }
        return serde_json::json!({ "summary": summary, "findings": all });
    }
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"))
}

fn findings(report: &Value) -> Vec<Value> {
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// Status of `check` for `subject` (`None` = tenant).
fn status_of(report: &Value, check: &str, subject: Option<&str>) -> String {
    findings(report)
        .iter()
        .find(|f| {
            f["check"] == check
                && match subject {
                    None => f["subject"]["kind"] == "tenant",
                    Some(u) => f["subject"]["id"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(u)),
                }
        })
        .and_then(|f| f["status"].as_str().map(str::to_string))
        .unwrap_or_else(|| format!("<no {check} finding for {subject:?}>"))
}

fn finding<'a>(report: &'a Value, check: &str, subject: Option<&str>) -> &'a Value {
    report["findings"]
        .as_array()
        .and_then(|a| {
            a.iter().find(|f| {
                f["check"] == check
                    && match subject {
                        None => f["subject"]["kind"] == "tenant",
                        Some(u) => f["subject"]["id"]
                            .as_str()
                            .is_some_and(|s| s.eq_ignore_ascii_case(u)),
                    }
            })
        })
        .unwrap_or(&Value::Null)
}

/// `check` for these users, every finding in full: JSON Lines (the JSON of several users keeps
/// passes compact).
fn check_json(mock: &BlockingMockGraph, auth: Auth, users: &[&str]) -> Value {
    // A fixed evaluation date: the device limit counts devices by their last check-in.
    let mut args = vec![
        "check",
        "-f",
        "jsonl",
        "--fail-on",
        "never",
        "--as-of",
        "2026-11-26",
    ];
    for u in users {
        args.push("--user");
        args.push(u);
    }
    let (code, out, err) = run(mock, auth, &args);
    assert!(code == 0 || code == 2, "exit {code}\n{err}");
    json_of(&out, &err)
}

fn audit_json(mock: &BlockingMockGraph, auth: Auth) -> Value {
    let (_, out, err) = run(mock, auth, &["audit", "-f", "json", "--fail-on", "never"]);
    json_of(&out, &err)
}

fn assert_status(report: &Value, check: &str, subject: Option<&str>, expected: &str) {
    let got = status_of(report, check, subject);
    assert_eq!(
        got,
        expected,
        "{check} for {subject:?}: {}",
        serde_json::to_string_pretty(finding(report, check, subject)).unwrap_or_default()
    );
}

fn evidence_text(f: &Value) -> String {
    f["evidence"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{} @ {}",
                        e["detail"].as_str().unwrap_or(""),
                        e["location"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn contoso_tenant_passes_and_users_pass_or_fail() {
    let mock = fixture("contoso");
    let r = check_json(
        &mock,
        Auth::Delegated("cli"),
        &[
            "jdoe@contoso.com",
            "mgarcia@contoso.com",
            "kwong@contoso.com",
            "tlee@contoso.com",
            "intern@contoso.com",
            "ghost@contoso.com",
        ],
    );
    for id in [
        "TEN001", "TEN002", "TEN003", "TEN004", "TEN005", "TEN006", "TEN007", "TEN008", "TEN009",
    ] {
        assert_status(&r, id, None, "pass");
    }
    for id in [
        "USR001", "USR002", "USR003", "USR004", "USR005", "USR006", "USR007", "USR008",
    ] {
        assert_status(&r, id, Some("jdoe@contoso.com"), "pass");
    }
    assert_status(&r, "USR001", Some("ghost@contoso.com"), "fail");
    assert_status(&r, "USR002", Some("ghost@contoso.com"), "skip");
    assert_status(&r, "USR002", Some("intern@contoso.com"), "fail");
    assert!(
        evidence_text(finding(&r, "USR002", Some("intern@contoso.com"))).contains("INTUNE_O365")
    );
    // mgarcia is licensed but outside the scope groups; kwong is in scope through a nested group.
    assert_status(&r, "USR003", Some("mgarcia@contoso.com"), "fail");
    assert_status(&r, "USR003", Some("kwong@contoso.com"), "pass");
    assert!(
        evidence_text(finding(&r, "USR003", Some("mgarcia@contoso.com"))).contains(
            "/beta/policies/mobileDeviceManagementPolicies/0000000a-0000-0000-c000-000000000000"
        )
    );
    assert_status(&r, "USR005", Some("tlee@contoso.com"), "fail");
    let tlee = evidence_text(finding(&r, "USR005", Some("tlee@contoso.com")));
    assert!(
        tlee.contains("restriction \"Pilot Windows block\" (priority 1) via group Pilot"),
        "{tlee}"
    );
    // Default only: jdoe is in no custom Windows restriction.
    let jdoe = evidence_text(finding(&r, "USR005", Some("jdoe@contoso.com")));
    assert!(jdoe.contains("the tenant default"), "{jdoe}");
}

#[test]
fn fabrikam_and_northwind_fail_what_they_break() {
    let mock = fixture("fabrikam");
    let r = check_json(
        &mock,
        Auth::Delegated("cli"),
        &[
            "ana.lopez@fabrikam.com",
            "ben.carter@fabrikam.com",
            "eli.novak@fabrikam.com",
            "fay.oduya@fabrikam.com",
            "gus.meyer@fabrikam.local",
            "ivan.petrov@fabrikam.com",
        ],
    );
    for id in ["TEN003", "TEN004", "TEN005", "TEN008"] {
        assert_status(&r, id, None, "fail");
    }
    // "Require compliant device for all cloud apps" does not block enrollment (Entra documents
    // it); what remains is MFA named on Intune Enrollment and MFA for device registration.
    assert_status(&r, "TEN009", None, "warn");
    // Entra's own MFA requirement for joins is reported with the Conditional Access policies.
    assert!(
        evidence_text(finding(&r, "TEN009", None))
            .contains("deviceRegistrationPolicy multiFactorAuthConfiguration = required"),
    );
    assert_status(&r, "USR001", Some("eli.novak@fabrikam.com"), "fail");
    assert_status(&r, "USR003", Some("ana.lopez@fabrikam.com"), "fail");
    assert_status(&r, "USR004", Some("ana.lopez@fabrikam.com"), "warn");
    assert_status(&r, "USR005", Some("ana.lopez@fabrikam.com"), "warn");
    assert_status(&r, "USR005", Some("ivan.petrov@fabrikam.com"), "fail");
    assert_status(&r, "USR006", Some("ben.carter@fabrikam.com"), "fail");
    // Five personal devices count; the two corporate Entra-joined laptops are enrolled in shared
    // device mode and do not (memdocs: device limits do not apply to Entra joined enrollments).
    let limit = evidence_text(finding(&r, "USR006", Some("ben.carter@fabrikam.com")));
    assert!(
        limit.contains("5 Intune-managed device(s) that count"),
        "{limit}"
    );
    for laptop in ["FAB-LT-2001", "FAB-LT-2002"] {
        assert!(
            limit.contains(&format!(
                "{laptop}: enrolled in shared device mode (Entra join, deviceEnrollmentType windowsAzureADJoin)"
            )),
            "{limit}"
        );
    }
    assert_status(&r, "USR006", Some("ana.lopez@fabrikam.com"), "pass");
    assert_status(&r, "USR007", Some("fay.oduya@fabrikam.com"), "warn");
    assert_status(&r, "USR008", Some("gus.meyer@fabrikam.local"), "fail");
    let ca = evidence_text(finding(&r, "TEN009", None));
    assert!(
        ca.contains("/v1.0/identity/conditionalAccess/policies/"),
        "{ca}"
    );
    drop(mock);

    let mock = fixture("northwind");
    let r = audit_json(&mock, Auth::Delegated("cli"));
    for id in ["TEN001", "TEN002", "TEN003", "TEN007"] {
        assert_status(&r, id, None, "fail");
    }
}

#[test]
fn restriction_precedence_through_graph() {
    let mock = start(MockConfig::dir(tenant_dir("precedence")));
    let r = check_json(
        &mock,
        Auth::Delegated("cli"),
        &[
            "jdoe@contoso.com",
            "kwong@contoso.com",
            "asmith@contoso.com",
            "mgarcia@contoso.com",
            "rpatel@contoso.com",
            "intern@contoso.com",
            "tlee@contoso.com",
        ],
    );
    let winner = |upn: &str| evidence_text(finding(&r, "USR005", Some(upn)));
    // Two customs, priorities 1 and 2, user in both: 1 wins.
    assert_status(&r, "USR005", Some("jdoe@contoso.com"), "pass");
    assert!(
        winner("jdoe@contoso.com")
            .contains("restriction \"Wave A allow\" (priority 1) via group Wave A")
    );
    // One custom (priority 2) that blocks.
    assert_status(&r, "USR005", Some("asmith@contoso.com"), "fail");
    assert!(
        winner("asmith@contoso.com").contains("\"Wave B block\" (priority 2) via group Wave B")
    );
    // Exclusion group: rpatel skips "Kiosk block" and lands on the all-users custom.
    assert_status(&r, "USR005", Some("mgarcia@contoso.com"), "fail");
    assert_status(&r, "USR005", Some("rpatel@contoso.com"), "warn");
    assert!(
        winner("rpatel@contoso.com").contains("exclusion group Kiosk exempt"),
        "{}",
        winner("rpatel@contoso.com")
    );
    // All-users custom (priority 4) beats a group custom with priority 5 and the default.
    assert!(winner("intern@contoso.com").contains("via all users"));
    assert_status(&r, "USR005", Some("tlee@contoso.com"), "warn");
    // Device limit 1 on Wave A: jdoe has one device already, kwong none.
    assert_status(&r, "USR006", Some("jdoe@contoso.com"), "fail");
    assert_status(&r, "USR006", Some("kwong@contoso.com"), "pass");
    // MAM scope (Wave B) overlaps the MDM scope.
    assert_status(&r, "TEN006", None, "warn");
    assert_status(&r, "USR004", Some("jdoe@contoso.com"), "warn");
    assert_status(&r, "USR004", Some("kwong@contoso.com"), "pass");
}

#[test]
fn app_only_skips_scope_checks_and_runs_the_rest() {
    let mock = fixture("contoso");
    let r = check_json(
        &mock,
        Auth::App("auditor"),
        &["tlee@contoso.com", "intern@contoso.com"],
    );
    for id in ["TEN003", "TEN004", "TEN005", "TEN006"] {
        assert_status(&r, id, None, "skip");
        assert_eq!(
            finding(&r, id, None)["skip_reason"]["kind"],
            "app-only-unsupported"
        );
    }
    for upn in ["tlee@contoso.com", "intern@contoso.com"] {
        for id in ["USR003", "USR004"] {
            assert_status(&r, id, Some(upn), "skip");
            assert_eq!(
                finding(&r, id, Some(upn))["skip_reason"]["kind"],
                "app-only-unsupported"
            );
        }
    }
    // Exactly those: nothing else is skipped, and the skip says what to do and what to grant.
    let mut app_only: Vec<String> = findings(&r)
        .iter()
        .filter(|f| f["status"] == "skip")
        .map(|f| {
            assert_eq!(f["skip_reason"]["kind"], "app-only-unsupported", "{f:#}");
            assert!(
                f["remediation"]
                    .as_str()
                    .is_some_and(|t| t.contains("Policy.Read.All") && t.contains("auth login")),
                "{f:#}"
            );
            assert!(
                !evidence_text(f).is_empty(),
                "a skip without evidence: {f:#}"
            );
            f["check"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    app_only.sort();
    app_only.dedup();
    assert_eq!(
        app_only,
        ["TEN003", "TEN004", "TEN005", "TEN006", "USR003", "USR004"]
    );
    assert_status(&r, "TEN001", None, "pass");
    assert_status(&r, "TEN009", None, "pass");
    assert_status(&r, "USR005", Some("tlee@contoso.com"), "fail");
    assert_status(&r, "USR002", Some("intern@contoso.com"), "fail");
    // The mobility endpoints were not even called.
    assert!(
        !mock
            .requests()
            .iter()
            .any(|q| q.path_and_query.contains("mobileDeviceManagementPolicies"))
    );

    // An app without the Intune permission: restriction checks skip with what to grant.
    let r = check_json(&mock, Auth::App("limited"), &["tlee@contoso.com"]);
    assert_status(&r, "TEN007", None, "skip");
    let needed = finding(&r, "TEN007", None)["skip_reason"]["needed"].to_string();
    assert!(
        needed.contains("DeviceManagementServiceConfig.Read.All"),
        "{needed}"
    );
    assert!(
        finding(&r, "TEN007", None)["remediation"]
            .as_str()
            .is_some_and(|t| t.contains("Grant DeviceManagementServiceConfig.Read.All")),
        "{}",
        finding(&r, "TEN007", None)
    );
    assert_status(&r, "USR002", Some("tlee@contoso.com"), "pass");
}

fn without_collected_at(text: &str) -> String {
    text.lines()
        .filter(|l| !l.contains("\"collected_at\""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn saved_snapshot_is_deterministic_and_replays_offline() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    let mock = start(MockConfig::dir(tenant_dir("precedence")));
    let (_, live, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "audit",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--save-snapshot",
            a.to_str().unwrap_or_default(),
        ],
    );
    let live = json_of(&live, &err);
    let (_, _, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "audit",
            "-f",
            "json",
            "--save-snapshot",
            b.to_str().unwrap_or_default(),
        ],
    );
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}\n{err}", p.display()))
    };
    let (ta, tb) = (read(&a), read(&b));
    assert!(ta.contains("\"schema\": \"enroll-doctor/tenant-snapshot@1\""));
    assert_eq!(
        without_collected_at(&ta),
        without_collected_at(&tb),
        "snapshots differ beyond collected_at"
    );
    drop(mock); // network off

    let out = bin()
        .args([
            "audit",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--snapshot",
            a.to_str().unwrap_or_default(),
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let offline = json_of(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(live["findings"], offline["findings"]);
    assert!(!findings(&offline).is_empty());

    // The full snapshot also serves `check` offline, resolving memberships per group.
    let out = bin()
        .args([
            "check",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--snapshot",
            a.to_str().unwrap_or_default(),
        ])
        .args(["--user", "jdoe@contoso.com", "--user", "rpatel@contoso.com"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let r = json_of(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
    );
    assert_status(&r, "USR005", Some("jdoe@contoso.com"), "pass");
    assert_status(&r, "USR005", Some("rpatel@contoso.com"), "warn");
    assert_status(&r, "USR006", Some("jdoe@contoso.com"), "fail");
}

#[test]
fn redacted_snapshot_hides_identities_and_keeps_verdicts() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let snap = dir.path().join("red.json");
    let key = dir.path().join("key.hex");
    let mock = fixture("contoso");
    let (_, live, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "audit",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--save-snapshot",
            snap.to_str().unwrap_or_default(),
            "--redact",
            "--redact-key-file",
            key.to_str().unwrap_or_default(),
        ],
    );
    let live = json_of(&live, &err);
    let text = std::fs::read_to_string(&snap).unwrap_or_default();
    for secret in [
        "jdoe",
        "contoso.com",
        "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13",
        "1f0c8a52-3d6e-4b71-9a24-5e8f7c6b3d01",
        "PC0042",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} is in the redacted snapshot"
        );
    }
    let key_text = std::fs::read_to_string(&key).unwrap_or_default();
    assert_eq!(key_text.trim().len(), 64);
    assert!(!text.contains(key_text.trim()));
    // Same key, same tenant: the same pseudonyms, byte for byte (but the collection time).
    let again = dir.path().join("red2.json");
    let (_, _, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "audit",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--save-snapshot",
            again.to_str().unwrap_or_default(),
            "--redact",
            "--redact-key-file",
            key.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(
        without_collected_at(&text),
        without_collected_at(&std::fs::read_to_string(&again).unwrap_or_default()),
        "{err}"
    );
    let out = bin()
        .args([
            "audit",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--snapshot",
            snap.to_str().unwrap_or_default(),
        ])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let offline = json_of(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
    );
    let statuses = |r: &Value| {
        findings(r)
            .iter()
            .map(|f| (f["check"].to_string(), f["status"].to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&live), statuses(&offline));

    // A device report pseudonymised with the same key still correlates with the redacted
    // snapshot, and the case handed to support names no real user, device or tenant.
    let device = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices/failed-8018002b");
    let out = bin()
        .args([
            "diagnose",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--as-of",
            "2026-11-26",
        ])
        .args(["--snapshot", snap.to_str().unwrap_or_default()])
        .args(["--redact-key-file", key.to_str().unwrap_or_default()])
        .args(["--device-report", device.to_str().unwrap_or_default()])
        .env_remove("AZURE_TENANT_ID")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let case_text = String::from_utf8_lossy(&out.stdout).to_string();
    let case = json_of(&case_text, &String::from_utf8_lossy(&out.stderr));
    let diag = &case["diagnoses"][0];
    assert_eq!(diag["verdict"], "failed", "{case_text}");
    assert_eq!(diag["causes"][0], "USR003", "{case_text}");
    for secret in [
        "mgarcia",
        "contoso.com",
        "CONTOSO",
        "PC0077",
        "a81d6c0f-3e2b-4f7a-b5c9-0e1d2c3b4a59",
        "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13",
    ] {
        assert!(
            !case_text.contains(secret),
            "{secret} is in the redacted diagnosis"
        );
    }
    // Without a redacted snapshot the pseudonyms would match nothing: refused, not wrong.
    let out = bin()
        .args([
            "diagnose",
            "--offline",
            "--redact-key-file",
            "/nonexistent/key",
        ])
        .args(["--device-report", device.to_str().unwrap_or_default()])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/key"));
}

/// Runs `check --user jdoe` `n` times and returns the fastest wall time.
fn fastest_check(mock: &BlockingMockGraph, n: usize) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            let (code, _, err) = run(
                mock,
                Auth::Delegated("cli"),
                &[
                    "check",
                    "-f",
                    "json",
                    "--fail-on",
                    "never",
                    "--user",
                    "jdoe@contoso.com",
                ],
            );
            assert_eq!(code, 0, "{err}");
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Sequential round-trip waves in a request log (top-level requests only): a request belongs to
/// the wave after the latest one answered before it arrived — only those can have caused it.
/// An upper bound: two independent paged listings that interleave add up.
fn waves(log: &[mock_graph::RecordedRequest]) -> usize {
    let mut top: Vec<&mock_graph::RecordedRequest> = log.iter().filter(|r| !r.in_batch).collect();
    top.sort_by_key(|r| r.received);
    let mut wave_of: Vec<usize> = Vec::new();
    for (i, r) in top.iter().enumerate() {
        let w = (0..i)
            .filter(|&j| top[j].answered <= r.received)
            .map(|j| wave_of[j])
            .max()
            .unwrap_or(0)
            + 1;
        wave_of.push(w);
    }
    wave_of.into_iter().max().unwrap_or(0)
}

#[test]
fn check_user_takes_one_wave_of_requests() {
    let mut cfg = MockConfig::fixture("contoso");
    cfg.latency = Duration::ZERO;
    let mock = start(cfg);
    let base = fastest_check(&mock, 3);
    mock.set_latency(Duration::from_millis(20));
    let slow = fastest_check(&mock, 1);
    mock.clear_requests();
    let before = mock.stats();
    fastest_check(&mock, 1);
    let after = mock.stats();
    let log = mock.requests();
    let requests = log.iter().filter(|r| !r.in_batch).count();
    let items = log.iter().filter(|r| r.in_batch).count();
    assert_eq!(requests as u64, after.requests - before.requests);
    // The access token is handed in, so every request is Graph work after sign-in.
    assert_eq!(after.token_requests, before.token_requests);
    let waves = waves(&log);
    eprintln!(
        "check --user: {requests} HTTP requests ({items} $batch items) in {waves} sequential wave(s) \
         from the request log; {:.0} ms at 0 ms latency, {:.0} ms at 20 ms",
        base.as_secs_f64() * 1000.0,
        slow.as_secs_f64() * 1000.0
    );
    assert!(requests <= 10, "{requests} requests");
    assert!(
        items >= 4,
        "the user's lookups travel in a $batch: {items} items"
    );
    assert!((1..=4).contains(&waves), "{waves} waves:\n{log:#?}");
}

#[test]
fn all_users_cost_list_requests_not_lookups() {
    let mock = fixture("contoso");
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "-f", "json", "--fail-on", "never", "--all-users"],
    );
    assert_eq!(code, 0, "{err}");
    // stderr is a pipe here: no progress bar, no control sequences.
    assert!(
        !err.contains("reading the tenant") && !err.contains('\u{1b}'),
        "{err}"
    );
    let r = json_of(&out, &err);
    let users = findings(&r)
        .iter()
        .filter(|f| f["check"] == "USR001")
        .count();
    assert_eq!(users, 8);
    assert_status(&r, "USR003", Some("mgarcia@contoso.com"), "fail");
    assert_status(&r, "USR003", Some("kwong@contoso.com"), "pass");
    assert_status(&r, "USR005", Some("tlee@contoso.com"), "fail");
    let per_user = mock
        .requests()
        .iter()
        .filter(|q| q.path_and_query.contains("/users/") && !q.in_batch)
        .count();
    assert_eq!(per_user, 0, "no per-user lookups");
}

/// The collector API for named users: their objects, groups, Intune devices and troubleshooting
/// events in one `$batch` beside the tenant-wide lists. (Devices named by device reports are
/// looked up by `tenant::device_records`, covered by the correlation tests.)
#[test]
fn collector_fetches_named_users_in_one_batch() {
    use enroll_doctor::graph::auth::{TokenProvider, TokenSource};
    use enroll_doctor::graph::{ClientOptions, GraphClient};
    use enroll_doctor::tenant::collect::{CollectOptions, UserSelection, collect};

    let mock = fixture("contoso");
    let token = mock.token_for("cli").unwrap_or_default();
    let provider = TokenProvider::new(TokenSource::Static {
        token: Some(token.into()),
        file: None,
    });
    let client = GraphClient::new(
        &mock.base_url(),
        std::sync::Arc::new(provider),
        ClientOptions::default(),
    )
    .unwrap_or_else(|e| panic!("client: {e}"));
    let mut opts = CollectOptions::tenant_only("custom");
    opts.users = UserSelection::Upns(vec![
        "mgarcia@contoso.com".into(),
        "jdoe@contoso.com".into(),
    ]);
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let snap = rt
        .block_on(collect(&client, &opts, chrono::Utc::now()))
        .unwrap_or_else(|e| panic!("collect: {e}"));
    assert!(snap.user("mgarcia@contoso.com").is_some());
    assert!(snap.user("jdoe@contoso.com").is_some());
    // PC0042 is Intune-managed by jdoe; mgarcia's troubleshooting event explains PC0077.
    let managed = snap
        .sources
        .managed_devices
        .data()
        .cloned()
        .unwrap_or_default();
    assert!(managed.iter().any(|m| {
        m.azure_ad_device_id
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case("3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15"))
    }));
    let events = snap
        .sources
        .troubleshooting_events
        .data()
        .cloned()
        .unwrap_or_default();
    assert!(!events.is_empty());
    let batches = mock
        .requests()
        .iter()
        .filter(|r| r.path_and_query.contains("$batch"))
        .count();
    assert_eq!(batches, 1, "one $batch for both users");
}

#[test]
fn group_and_users_file_select_users() {
    let mock = fixture("contoso");
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "check",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--group",
            "Pilot",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let r = json_of(&out, &err);
    let users: Vec<String> = findings(&r)
        .iter()
        .filter(|f| f["check"] == "USR001")
        .filter_map(|f| f["subject"]["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(users, vec!["tlee@contoso.com".to_string()]);
    assert_status(&r, "USR005", Some("tlee@contoso.com"), "fail");

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("users.txt");
    std::fs::write(
        &file,
        "# rollout wave 1\njdoe@contoso.com\n\nJDOE@contoso.com\nintern@contoso.com\n1f0c8a52-3d6e-4b71-9a24-5e8f7c6b3d01\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "check",
            "-f",
            "json",
            "--users-file",
            file.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(code, 1, "intern is not licensed: exit 1\n{err}");
    let r = json_of(&out, &err);
    // jdoe by UPN, by upper-case UPN and by object id is one user, reported under the UPN.
    assert_eq!(
        findings(&r)
            .iter()
            .filter(|f| f["check"] == "USR001")
            .count(),
        2
    );
    assert_status(&r, "USR001", Some("jdoe@contoso.com"), "pass");
    assert_status(&r, "USR002", Some("intern@contoso.com"), "fail");

    std::fs::write(&file, "jdoe@contoso.com\nnot a user\n").unwrap_or_else(|e| panic!("{e}"));
    let (code, _, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "--users-file", file.to_str().unwrap_or_default()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("users.txt:2"), "{err}");
}

#[test]
fn graph_failure_of_one_source_is_an_error_and_the_rest_still_run() {
    let mock = fixture("contoso");
    // Every attempt fails (retries included), and throttling is retried transparently.
    mock.inject(
        mock_graph::Fault::ServerError {
            status: 500,
            retry_after: None,
        }
        .on("/v1.0/subscribedSkus"),
    );
    mock.inject(
        mock_graph::Fault::Throttle {
            retry_after: Some(mock_graph::RetryAfter::Seconds(0)),
        }
        .on("/beta/deviceManagement")
        .times(1),
    );
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "-f", "json", "--user", "jdoe@contoso.com"],
    );
    assert_eq!(
        code, 2,
        "an error finding makes the results incomplete\n{err}"
    );
    let r = json_of(&out, &err);
    assert_status(&r, "TEN002", None, "error");
    let e = finding(&r, "TEN002", None)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(e.contains("500"), "{e}");
    assert_status(&r, "TEN001", None, "pass");
    assert_status(&r, "TEN007", None, "pass");
    assert_status(&r, "USR002", Some("jdoe@contoso.com"), "pass");
}

/// Benchmark (run with `--ignored`): `check --all-users` on a generated 20 000-user tenant.
/// Counts requests from the mock's log and reports the wall time; list requests must stay
/// O(N/999), never one per user.
#[test]
#[ignore = "benchmark: generates a 20 000-user tenant"]
fn bench_all_users_on_a_large_generated_tenant() {
    let users = 20_000;
    let mock = start(MockConfig::generated(users, 1));
    let t = Instant::now();
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "-f", "json", "--fail-on", "never", "--all-users"],
    );
    let took = t.elapsed();
    assert!(code == 0, "exit {code}\n{err}");
    let r = json_of(&out, &err);
    let checked = findings(&r)
        .iter()
        .filter(|f| f["check"] == "USR001")
        .count();
    let log = mock.requests();
    let top = log.iter().filter(|q| !q.in_batch).count();
    let per_user = log
        .iter()
        .filter(|q| q.path_and_query.contains("/users/"))
        .count();
    let mut by_route: std::collections::BTreeMap<String, usize> = Default::default();
    for q in log.iter().filter(|q| !q.in_batch) {
        let path = q.path_and_query.split('?').next().unwrap_or("").to_string();
        let key = if path.contains("/groups/") {
            "/groups/{id}/…".to_string()
        } else {
            path
        };
        *by_route.entry(key).or_default() += 1;
    }
    eprintln!(
        "check --all-users on {users} generated users: {checked} users evaluated, {top} HTTP requests, \
         {} sequential waves, {:.1} s wall (debug build)\n{by_route:#?}",
        waves(&log),
        took.as_secs_f64()
    );
    // The group-member listings run alongside the user listing, not after it.
    let first = |prefix: &str| {
        log.iter()
            .filter(|q| q.path_and_query.starts_with(prefix))
            .map(|q| q.received)
            .min()
    };
    let last = |prefix: &str| {
        log.iter()
            .filter(|q| q.path_and_query.starts_with(prefix))
            .map(|q| q.answered)
            .max()
    };
    eprintln!(
        "users listed {:?}..{:?}, group members listed {:?}..{:?}",
        first("/v1.0/users"),
        last("/v1.0/users"),
        first("/v1.0/groups/"),
        last("/v1.0/groups/")
    );
    assert!(first("/v1.0/groups/") < last("/v1.0/users"));
    assert_eq!(checked, users);
    assert_eq!(per_user, 0, "no per-user lookups");
    assert!(top < 200, "{top} requests for {users} users");
}

#[test]
fn unreadable_memberships_make_membership_checks_error_not_guess() {
    let mock = fixture("contoso");
    for key in ["tlee@contoso.com", "tlee%40contoso.com"] {
        mock.inject(
            mock_graph::Fault::ServerError {
                status: 500,
                retry_after: None,
            }
            .on(&format!("/v1.0/users/{key}/transitiveMemberOf")),
        );
    }
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "-f", "json", "--user", "tlee@contoso.com"],
    );
    assert_eq!(code, 2, "{err}");
    let r = json_of(&out, &err);
    // "Pilot Windows block" targets a group of tlee: without memberships it cannot be decided.
    for id in ["USR003", "USR005"] {
        assert_status(&r, id, Some("tlee@contoso.com"), "error");
        let f = finding(&r, id, Some("tlee@contoso.com"));
        assert!(
            f["error"].as_str().is_some_and(|e| e.contains("500")),
            "{f:#}"
        );
    }
    assert_status(&r, "USR001", Some("tlee@contoso.com"), "pass");
    assert_status(&r, "USR002", Some("tlee@contoso.com"), "pass");
    assert_status(&r, "TEN007", None, "pass");
}

/// Personal-device block versus the GPO (hybrid) path, end to end: the same user's winning
/// restriction blocks personal Windows, which a hybrid-joined device passes (it counts as
/// corporate) while `check` (no device, path unknown) warns.
#[test]
fn personal_block_passes_a_hybrid_device_end_to_end() {
    let mock = start(MockConfig::dir(tenant_dir("precedence")));
    let device = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices/hybrid-enrolled");
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "diagnose",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--user",
            "rpatel@contoso.com",
            "-d",
            device.to_str().unwrap_or_default(),
        ],
    );
    assert!(code == 0 || code == 1, "exit {code}\n{err}");
    let r = json_of(&out, &err);
    let usr005 = findings(&r)
        .into_iter()
        .find(|f| f["check"] == "USR005")
        .unwrap_or_default();
    assert_eq!(usr005["status"], "pass", "{usr005:#}");
    let text = evidence_text(&usr005) + usr005["summary"].as_str().unwrap_or_default();
    assert!(
        text.contains("Everyone: corporate Windows only") && text.contains("corporate"),
        "{text}"
    );
    let r = check_json(&mock, Auth::Delegated("cli"), &["rpatel@contoso.com"]);
    assert_status(&r, "USR005", Some("rpatel@contoso.com"), "warn");
}

/// Fixture tenants nobody tuned the checks for: GCC High-style URLs behind a custom endpoint,
/// three-level nesting in the MDM scope, suspended / grace-period licences, unroutable and
/// unverified UPN suffixes.
#[test]
fn tailspin_gcc_high_style_tenant() {
    let mock = start(MockConfig::dir(tenant_dir("tailspin")));
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "-f", "jsonl", "--all-users"],
    );
    assert_eq!(code, 1, "failing users exit 1\n{err}");
    let r = json_of(&out, &err);
    // .us URLs in a tenant whose initial domain is onmicrosoft.us are the defaults; the custom
    // endpoint's cloud comes from that domain and the evidence says so.
    assert_status(&r, "TEN004", None, "pass");
    let urls = evidence_text(finding(&r, "TEN004", None));
    assert!(
        urls.contains("tailspin.onmicrosoft.us") && urls.contains("usgov default"),
        "{urls}"
    );
    assert_status(&r, "TEN003", None, "pass");
    assert_status(&r, "TEN006", None, "warn");
    // Scope group > All Regions > Region East > East Engineers > deep.user.
    assert_status(&r, "USR003", Some("deep.user@tailspin.us"), "pass");
    assert_status(&r, "USR003", Some("mgarcia@tailspin.us"), "fail");
    assert_status(&r, "USR004", Some("mam.user@tailspin.us"), "warn");
    assert_status(&r, "USR004", Some("deep.user@tailspin.us"), "pass");
    // INTUNE_A Suspended is not a licence; Warning (grace period) still works.
    assert_status(&r, "USR002", Some("suspended.user@tailspin.us"), "fail");
    assert!(
        finding(&r, "USR002", Some("suspended.user@tailspin.us"))["summary"]
            .as_str()
            .is_some_and(|t| t.contains("Suspended"))
    );
    assert_status(&r, "USR002", Some("warning.user@tailspin.us"), "warn");
    // Licensed only through the GCC High SKU INTUNE_A_VL_USGOV_GCCHIGH (b4288abe-…), whose
    // Intune plan is INTUNE_A_VL.
    assert_status(&r, "USR002", Some("vl.user@tailspin.us"), "pass");
    assert_status(&r, "USR008", Some("local.user@tailspin.local"), "fail");
    assert_status(&r, "USR008", Some("old.domain@tailspin-legacy.com"), "fail");
    assert_status(&r, "USR008", Some("deep.user@tailspin.us"), "pass");
    for f in findings(&r) {
        assert_ne!(f["status"], "error", "{f:#}");
    }

    // A group that is only reached through nesting lists every transitive user member.
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "-f", "json", "--group", "All Regions"],
    );
    assert_eq!(code, 1, "{err}");
    let r = json_of(&out, &err);
    let mut users: Vec<String> = findings(&r)
        .iter()
        .filter(|f| f["check"] == "USR001")
        .filter_map(|f| f["subject"]["id"].as_str().map(str::to_string))
        .collect();
    users.sort();
    assert_eq!(
        users,
        [
            "deep.user@tailspin.us",
            "local.user@tailspin.local",
            "mam.user@tailspin.us",
            "old.domain@tailspin-legacy.com",
            "suspended.user@tailspin.us",
            "warning.user@tailspin.us",
        ]
    );
}

/// Every kind of enrollment configuration in one list (unknown types included), priorities with
/// gaps, single-platform restrictions for iOS and Android that must not touch Windows, guests,
/// users without `assignedPlans`, INTUNE_A disabled in one SKU and granted by another, a
/// group-licensing error, and MDM scope All with null URLs.
#[test]
fn woodgrove_configuration_zoo_and_messy_users() {
    let mock = start(MockConfig::dir(tenant_dir("woodgrove")));
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "-f", "json", "--all-users"],
    );
    assert_eq!(code, 1, "{err}");
    let r = json_of(&out, &err);
    for f in findings(&r) {
        assert_ne!(f["status"], "error", "{f:#}");
    }
    assert_status(&r, "TEN004", None, "warn");
    assert_status(&r, "TEN007", None, "pass");
    // iOS (priority 1) and Android (priority 2, all users) blocks are other platforms.
    assert_status(&r, "USR005", Some("kiosk.user@woodgrovebank.com"), "fail");
    let kiosk = finding(&r, "USR005", Some("kiosk.user@woodgrovebank.com"));
    assert!(
        kiosk["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Windows block - kiosk") && s.contains("priority 5")),
        "{kiosk:#}"
    );
    // Excluded from the kiosk block: the all-users priority 8 (corporate only) wins.
    assert_status(&r, "USR005", Some("kiosk.exempt@woodgrovebank.com"), "warn");
    let exempt = evidence_text(finding(
        &r,
        "USR005",
        Some("kiosk.exempt@woodgrovebank.com"),
    ));
    assert!(
        exempt.contains("exclusion group Kiosk Exempt")
            && exempt.contains("Windows: corporate only"),
        "{exempt}"
    );
    // Custom limit 2 (priority 3): two records, one of them without an Entra device id.
    assert_status(&r, "USR006", Some("shared.user@woodgrovebank.com"), "fail");
    assert_status(&r, "USR006", Some("kiosk.user@woodgrovebank.com"), "pass");
    let guest = "pat.partner_fabrikam.com#EXT#@woodgrovebank.onmicrosoft.com";
    assert_status(&r, "USR001", Some(guest), "fail");
    assert!(
        evidence_text(finding(&r, "USR001", Some(guest))).contains("userType = Guest"),
        "{}",
        finding(&r, "USR001", Some(guest))
    );
    assert_status(&r, "USR002", Some("split.user@woodgrovebank.com"), "pass");
    assert_status(
        &r,
        "USR002",
        Some("e3nointune.user@woodgrovebank.com"),
        "fail",
    );
    assert_status(&r, "USR002", Some("noplans.user@woodgrovebank.com"), "pass");
    assert_status(&r, "USR002", Some("gbl.error@woodgrovebank.com"), "fail");
    assert!(
        evidence_text(finding(&r, "USR002", Some("gbl.error@woodgrovebank.com")))
            .contains("SPE_E3 (05e9a617")
    );
    assert!(
        finding(&r, "USR002", Some("gbl.error@woodgrovebank.com"))["summary"]
            .as_str()
            .is_some_and(|t| t.contains("CountViolation"))
    );
    // Scope All: everyone is in scope, guests included.
    assert_status(&r, "USR003", Some("noplans.user@woodgrovebank.com"), "pass");

    // Users read through a group carry the same properties as users read directly.
    let (code, out, err) = run(
        &mock,
        Auth::App("auditor"),
        &["check", "-f", "json", "--group", "Kiosk Team"],
    );
    assert_eq!(code, 1, "{err}");
    let g = json_of(&out, &err);
    for u in [
        "kiosk.user@woodgrovebank.com",
        "kiosk.exempt@woodgrovebank.com",
    ] {
        for id in ["USR001", "USR002", "USR007", "USR008"] {
            assert_eq!(
                status_of(&g, id, Some(u)),
                status_of(&r, id, Some(u)),
                "{id} {u}"
            );
        }
    }
    assert_status(&g, "USR002", Some("kiosk.user@woodgrovebank.com"), "pass");
    assert_status(&g, "USR005", Some("kiosk.user@woodgrovebank.com"), "fail");
}

#[test]
fn woodgrove_without_managed_device_permission_or_with_a_failing_source() {
    let mock = start(MockConfig::dir(tenant_dir("woodgrove")));
    let users = [
        "shared.user@woodgrovebank.com",
        "kiosk.user@woodgrovebank.com",
    ];
    // No DeviceManagementManagedDevices.Read.All: the device limit skips and names the
    // permission; everything else runs.
    let r = check_json(&mock, Auth::Delegated("cli-no-managed-devices"), &users);
    for u in users {
        assert_status(&r, "USR006", Some(u), "skip");
        let f = finding(&r, "USR006", Some(u));
        assert!(
            f["skip_reason"]["needed"]
                .to_string()
                .contains("DeviceManagementManagedDevices.Read.All"),
            "{f:#}"
        );
        assert_status(&r, "USR002", Some(u), "pass");
        assert_status(&r, "USR003", Some(u), "pass");
    }
    assert_status(&r, "USR005", Some("kiosk.user@woodgrovebank.com"), "fail");
    let skipped: std::collections::BTreeSet<String> = findings(&r)
        .iter()
        .filter(|f| f["status"] == "skip")
        .filter_map(|f| f["check"].as_str().map(str::to_string))
        .collect();
    assert_eq!(skipped.into_iter().collect::<Vec<_>>(), ["USR006"]);

    // Neither Intune permission: the device limit names both to grant.
    let r = check_json(&mock, Auth::App("limited"), &users[..1]);
    let needed = finding(&r, "USR006", Some(users[0]))["skip_reason"]["needed"].to_string();
    assert!(
        needed.contains("DeviceManagementServiceConfig.Read.All")
            && needed.contains("DeviceManagementManagedDevices.Read.All"),
        "{needed}"
    );

    // The restrictions endpoint fails (every retry): only the checks that need it error.
    mock.inject(
        mock_graph::Fault::ServerError {
            status: 500,
            retry_after: None,
        }
        .on("/beta/deviceManagement/deviceEnrollmentConfigurations"),
    );
    let (code, out, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "-f", "json", "--user", users[1]],
    );
    assert_eq!(code, 2, "{err}");
    let r = json_of(&out, &err);
    assert_status(&r, "TEN007", None, "error");
    assert_status(&r, "USR005", Some(users[1]), "error");
    assert_status(&r, "USR006", Some(users[1]), "error");
    assert_status(&r, "TEN001", None, "pass");
    assert_status(&r, "TEN003", None, "pass");
    assert_status(&r, "USR002", Some(users[1]), "pass");
    assert_status(&r, "USR003", Some(users[1]), "pass");
    let errored: Vec<String> = findings(&r)
        .iter()
        .filter(|f| f["status"] == "error")
        .filter_map(|f| f["check"].as_str().map(str::to_string))
        .collect();
    assert_eq!(errored, ["TEN007", "USR005", "USR006"], "{r:#}");
}

/// Education tenant: scopes All, a restriction list served as a Graph page without a device
/// limit, CA policies that must not count, INTUNE_EDU, grace-period and suspended plans.
#[test]
fn litware_education_tenant() {
    let mock = start(MockConfig::dir(tenant_dir("litware")));
    let r = check_json(
        &mock,
        Auth::Delegated("cli"),
        &[
            "s.student@litware.edu",
            "t.teacher@litware.edu",
            "mixed.plans@litware.edu",
        ],
    );
    for f in findings(&r) {
        assert_ne!(f["status"], "error", "{f:#}");
    }
    assert_status(&r, "TEN003", None, "pass");
    assert_status(&r, "TEN004", None, "pass");
    assert_status(&r, "TEN006", None, "warn");
    assert_status(&r, "TEN007", None, "warn");
    assert!(evidence_text(finding(&r, "TEN007", None)).contains("osMinimumVersion = 10.0.22631"));
    assert_status(&r, "TEN008", None, "warn");
    // Disabled, report-only and Intune-excluding policies do not block enrollment.
    assert_status(&r, "TEN009", None, "pass");
    // INTUNE_EDU licenses MDM even with INTUNE_A switched off.
    assert_status(&r, "USR002", Some("s.student@litware.edu"), "pass");
    assert!(
        evidence_text(finding(&r, "USR002", Some("s.student@litware.edu"))).contains("INTUNE_EDU")
    );
    // Mixed-case UPN in the directory, lower case on the command line; licence in grace.
    assert_status(&r, "USR001", Some("t.teacher@litware.edu"), "pass");
    assert_status(&r, "USR002", Some("t.teacher@litware.edu"), "warn");
    // Suspended in one plan, Warning in another: still usable, in grace.
    assert_status(&r, "USR002", Some("mixed.plans@litware.edu"), "warn");
    for u in ["s.student@litware.edu", "t.teacher@litware.edu"] {
        assert_status(&r, "USR003", Some(u), "pass");
        assert_status(&r, "USR004", Some(u), "warn");
        assert_status(&r, "USR005", Some(u), "warn");
        // No limit configuration at all: nothing to exceed, and the evidence says so.
        assert_status(&r, "USR006", Some(u), "pass");
    }
    assert!(
        finding(&r, "USR006", Some("s.student@litware.edu"))["summary"]
            .as_str()
            .is_some_and(|s| s.contains("No device limit"))
    );
}

#[test]
fn enterprise_baseline_conditional_access_does_not_fail_ten009() {
    let mock = start(MockConfig::dir(tenant_dir("adatum")));
    let r = audit_json(&mock, Auth::App("auditor"));
    assert_status(&r, "TEN009", None, "warn");
    let ca = evidence_text(finding(&r, "TEN009", None));
    for expected in [
        "\"CA003 Require compliant or hybrid joined device for all users\" targets Microsoft Intune Enrollment and Microsoft Intune (through All resources) and requires compliantDevice or domainJoinedDevice: a compliant-device requirement on All resources does not block Intune enrollment, not counted",
        "\"CA004 Require MFA for all users\"",
        "\"CA005 Require MFA to register or join devices\" targets the \"Register or join devices\" action",
        "\"CA006 Block access outside trusted locations (report-only)\" is report-only",
        "\"CA007 Require compliant device for Intune enrollment (report-only)\" is report-only",
        "\"CA001 Require MFA for administrators\" targets only 2 directory role(s)",
        // An enforced block under named locations: Entra decides at sign-in, so it warns.
        "\"CA009 Block access from untrusted countries\" targets Microsoft Intune Enrollment and Microsoft Intune (through All resources) and requires block; applies only under named locations (decided by Entra at sign-in, not here)",
        "\"CA008 Require compliant device for all users\" targets Microsoft Intune Enrollment and Microsoft Intune (through All resources) and requires compliantDevice: a compliant-device requirement on All resources does not block Intune enrollment, not counted",
    ] {
        assert!(ca.contains(expected), "missing {expected}\n{ca}");
    }
    assert!(
        !ca.contains("CA002"),
        "legacy-auth block is not listed: {ca}"
    );
}

#[test]
fn scope_on_both_intune_apps_warns_of_autopilot_0xc1036501() {
    // adatum also sets "Microsoft Intune Enrollment" to All beside "Microsoft Intune".
    let mock = start(MockConfig::dir(tenant_dir("adatum")));
    let r = audit_json(&mock, Auth::Delegated("cli"));
    assert_status(&r, "TEN005", None, "warn");
    let f = finding(&r, "TEN005", None);
    assert!(
        f["summary"].as_str().unwrap_or("").contains("0xC1036501"),
        "{f}"
    );
    assert_status(&r, "TEN003", None, "pass");
}

#[test]
fn a_third_party_mdm_application_with_a_scope_warns_of_autopilot_0xc1036501() {
    // wingtip: only "Microsoft Intune" of the two Intune apps has a scope, but a leftover
    // "Workspace ONE UEM" MDM application still targets the Pilot group.
    let mock = start(MockConfig::dir(tenant_dir("wingtip")));
    let r = audit_json(&mock, Auth::Delegated("cli"));
    assert_status(&r, "TEN005", None, "warn");
    let f = finding(&r, "TEN005", None);
    assert!(
        f["summary"]
            .as_str()
            .unwrap_or("")
            .contains("1 other MDM application(s) also have an MDM user scope"),
        "{f}"
    );
    let ev = evidence_text(f);
    assert!(ev.contains("other MDM application"), "{ev}");
    assert!(ev.contains("Workspace ONE UEM"), "{ev}");
    assert_status(&r, "TEN003", None, "pass");
}

#[test]
fn a_refused_intune_read_names_the_intune_role_as_well_as_the_permission() {
    let mock = fixture("contoso");
    let r = audit_json(&mock, Auth::Delegated("cli-limited"));
    // TEN007 reads deviceEnrollmentConfigurations, an Intune (/deviceManagement) endpoint.
    let ten007 = finding(&r, "TEN007", None);
    assert_eq!(ten007["status"], "skip", "{ten007}");
    let fix = ten007["remediation"].as_str().unwrap_or_default();
    assert!(
        fix.contains("DeviceManagementServiceConfig.Read.All"),
        "{fix}"
    );
    assert!(fix.contains("Intune role"), "{fix}");
    assert!(fix.contains("Read Only Operator"), "{fix}");
    // A directory read refused the same way is only a permission question.
    let ten002 = finding(&r, "TEN002", None);
    assert_eq!(ten002["status"], "skip", "{ten002}");
    let fix = ten002["remediation"].as_str().unwrap_or_default();
    assert!(fix.contains("Grant"), "{fix}");
    assert!(!fix.contains("Intune role"), "{fix}");
}
