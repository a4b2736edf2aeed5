//! Readiness of several users (`check --all-users`, `--user` repeated) in every format: the
//! summary leads, the CSV reads back with one row per subject, the JSON Lines carry each
//! user's findings exactly as a single-user check does, and the exit code does not depend on
//! the format.

use std::collections::BTreeMap;
use std::path::Path;

use mock_graph::{BlockingMockGraph, MockConfig};
use serde_json::Value;

use super::common::bin;
use super::tenant::{Auth, fixture, json_of, run, start, tenant_dir};

const AS_OF: &str = "2026-11-26";

fn all_users(mock: &BlockingMockGraph, format: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check", "--all-users", "--as-of", AS_OF, "-f", format];
    args.extend_from_slice(extra);
    run(mock, Auth::Delegated("cli"), &args)
}

/// Offline, from a saved snapshot.
fn offline(snapshot: &Path, args: &[&str]) -> (i32, String) {
    let out = bin()
        .args(["check", "--as-of", AS_OF, "--snapshot"])
        .arg(snapshot)
        .args(args)
        .env_remove("AZURE_TENANT_ID")
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn lines(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The CSV read back with a CSV reader (BOM stripped): header and records.
pub(super) fn csv_records(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let body = text
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("no byte-order mark: {text:.80}"));
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body.as_bytes());
    let header = r
        .headers()
        .unwrap_or_else(|e| panic!("csv header: {e}"))
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            rec.unwrap_or_else(|e| panic!("csv record: {e}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}

const TEN: [&str; 9] = [
    "TEN001", "TEN002", "TEN003", "TEN004", "TEN005", "TEN006", "TEN007", "TEN008", "TEN009",
];
const USR: [&str; 10] = [
    "USR001", "USR002", "USR003", "USR004", "USR005", "USR006", "USR007", "USR008", "USR009",
    "USR010",
];

#[test]
fn several_users_lead_with_the_summary_in_every_format() {
    let mock = fixture("contoso");

    let (code, table, err) = all_users(&mock, "table", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        table.starts_with("Readiness (as of 2026-11-26): 8 users: "),
        "{table}"
    );
    let at = |s: &str| {
        table
            .find(s)
            .unwrap_or_else(|| panic!("no {s:?} in\n{table}"))
    };
    assert!(at("Blocking checks") < at("Not ready (") && at("Not ready (") < at("\nUser "));
    assert!(at("  USR003  ") < at("Not ready ("), "{table}");
    assert!(table.contains("Summary: "), "{table}");

    let (code, md, err) = all_users(&mock, "markdown", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        md.starts_with("# enroll-doctor report (as of 2026-11-26)\n\n## Summary\n\n**8 users: ")
    );
    let at = |s: &str| md.find(s).unwrap_or_else(|| panic!("no {s:?} in\n{md}"));
    assert!(
        at("### Blocking checks") < at("## Not ready") && at("## Not ready") < at("## Details")
    );

    let (code, json, err) = all_users(&mock, "json", &[]);
    assert_eq!(code, 1, "{err}");
    let doc = json_of(&json, &err);
    assert_eq!(doc["schema"], "enroll-doctor/report@2");
    let keys: Vec<&String> = doc
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys[..4],
        ["schema", "as_of", "summary", "checks"],
        "{keys:?}"
    );
    assert_eq!(doc["summary"]["subjects"], 8);
    assert_eq!(doc["summary"]["kind"], "user");
    assert_eq!(
        doc["checks"]["USR003"]["title"],
        "The user is inside the Intune MDM user scope"
    );
    let findings = doc["findings"].as_array().cloned().unwrap_or_default();
    // USR010 is left out of a whole-tenant run (the notes say so).
    assert_eq!(findings.len(), 9 + 8 * 9);
    for f in &findings {
        let n = f.as_object().map_or(0, |o| o.len());
        if f["status"] == "pass" {
            assert_eq!(n, 3, "a pass is check, status and subject: {f}");
        } else {
            assert!(
                f.get("evidence").is_some() && f.get("docs").is_none(),
                "{f}"
            );
        }
    }
    let blocking: Vec<&str> = doc["summary"]["blocking"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["check"].as_str()).collect())
        .unwrap_or_default();
    assert!(blocking.contains(&"USR003"), "{blocking:?}");

    let (code, jsonl, err) = all_users(&mock, "jsonl", &[]);
    assert_eq!(code, 1, "{err}");
    let ls = lines(&jsonl);
    assert_eq!(ls[0]["type"], "summary");
    assert_eq!(ls[0]["schema"], "enroll-doctor/report-lines@2");
    assert_eq!(ls[0]["subjects"], 8);
    assert_eq!(ls[0]["blocking"], doc["summary"]["blocking"]);
    assert_eq!(ls.len(), 1 + 1 + 8, "summary, tenant, one line per user");
    assert_eq!(ls[1]["subject"]["kind"], "tenant");
    for l in &ls[1..] {
        assert_eq!(l["type"], "subject");
    }

    let (code, csv, err) = all_users(&mock, "csv", &[]);
    assert_eq!(code, 1, "{err}");
    // stderr is not a terminal here: the summary is not written anywhere else.
    assert!(!err.contains("Readiness"), "{err}");
    let (header, rows) = csv_records(&csv);
    let mut expected = vec!["subject", "kind", "verdict", "blocking", "first_fix"];
    expected.extend(TEN);
    expected.extend(USR);
    assert_eq!(header, expected);
    assert_eq!(rows.len(), 1 + 8, "the tenant and one row per user");
    assert_eq!(rows[0][0], "tenant");
    // Not-ready users first, then the ready ones.
    let verdicts: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    let first_ready = verdicts
        .iter()
        .position(|v| *v == "ready")
        .unwrap_or(verdicts.len());
    assert!(
        verdicts[..first_ready].iter().all(|v| *v == "not-ready"),
        "{verdicts:?}"
    );
    assert!(
        verdicts[first_ready..].iter().all(|v| *v == "ready"),
        "{verdicts:?}"
    );
    // Each row agrees with the JSON Lines subject: verdict, blocking checks, statuses.
    let by_user: BTreeMap<String, &Value> = ls[2..]
        .iter()
        .filter_map(|l| l["subject"]["id"].as_str().map(|u| (u.to_string(), l)))
        .collect();
    for r in &rows[1..] {
        let l = by_user
            .get(&r[0])
            .unwrap_or_else(|| panic!("no JSON line for {}", r[0]));
        assert_eq!(r[1], "user");
        assert_eq!(l["verdict"], r[2].as_str());
        let blocking: Vec<&str> = l["blocking"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(r[3], blocking.join(" "));
        for (i, id) in USR.iter().enumerate() {
            let status = l["findings"]
                .as_array()
                .and_then(|fs| fs.iter().find(|f| f["check"] == *id))
                .and_then(|f| f["status"].as_str())
                .unwrap_or("");
            assert_eq!(r[5 + TEN.len() + i], status, "{} {id}", r[0]);
        }
        assert!(r[5..5 + TEN.len()].iter().all(String::is_empty));
    }
}

#[test]
fn the_exit_code_is_the_same_in_every_format() {
    let mock = fixture("fabrikam");
    for fail_on in ["fail", "warn", "never"] {
        let codes: Vec<(String, i32)> = ["table", "markdown", "json", "jsonl", "csv"]
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    all_users(&mock, f, &["--fail-on", fail_on]).0,
                )
            })
            .collect();
        let expected = if fail_on == "never" { 0 } else { 1 };
        assert!(
            codes.iter().all(|(_, c)| *c == expected),
            "--fail-on {fail_on}: {codes:?}"
        );
    }
    // An error finding is exit 2 in every format too.
    let mock = fixture("contoso");
    mock.inject(
        mock_graph::Fault::ServerError {
            status: 500,
            retry_after: None,
        }
        .on("/v1.0/subscribedSkus"),
    );
    for f in ["table", "json", "jsonl", "csv"] {
        let (code, _, err) = all_users(&mock, f, &["--fail-on", "never"]);
        assert_eq!(code, 2, "{f}: {err}");
    }
}

#[test]
fn disabled_accounts_and_guests_are_counted_not_listed() {
    let mock = fixture("fabrikam");
    let (_, jsonl, err) = all_users(&mock, "jsonl", &["--fail-on", "never"]);
    let ls = lines(&jsonl);
    assert_eq!(ls[0]["users"]["disabled"], 1, "{err}");
    assert_eq!(
        ls[0]["users"]["disabled_examples"][0],
        "eli.novak@fabrikam.com"
    );
    let eli = ls
        .iter()
        .find(|l| l["subject"]["id"] == "eli.novak@fabrikam.com")
        .cloned()
        .unwrap_or_default();
    assert_eq!(eli["kind"], "disabled");
    assert_eq!(eli["verdict"], "not-ready");
    // USR001 fails for nobody else: no blocking row for it.
    assert!(
        ls[0]["blocking"]
            .as_array()
            .is_some_and(|a| a.iter().all(|r| r["check"] != "USR001")),
        "{}",
        ls[0]["blocking"]
    );
    let (_, table, _) = all_users(&mock, "table", &["--fail-on", "never"]);
    assert!(
        table.contains("1 disabled account (e.g. eli.novak@fabrikam.com)"),
        "{table}"
    );
    let list = table.split("Not ready (").nth(1).unwrap_or_default();
    let list = list.split("\n\n").next().unwrap_or_default();
    assert!(!list.contains("eli.novak"), "{list}");
    // In the CSV it has its row.
    let (_, csv, _) = all_users(&mock, "csv", &["--fail-on", "never"]);
    let (_, rows) = csv_records(&csv);
    assert!(
        rows.iter()
            .any(|r| r[0] == "eli.novak@fabrikam.com" && r[1] == "disabled")
    );

    let mock = start(MockConfig::dir(tenant_dir("woodgrove")));
    let (_, jsonl, err) = all_users(&mock, "jsonl", &["--fail-on", "never"]);
    let ls = lines(&jsonl);
    assert_eq!(ls[0]["users"]["guests"], 1, "{err}");
    let guest = ls
        .iter()
        .find(|l| l["kind"] == "guest")
        .and_then(|l| l["subject"]["id"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(guest.contains("#EXT#"), "{guest}");
}

#[test]
fn jsonl_findings_per_user_are_those_of_a_single_user_check() {
    let mock = fixture("contoso");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let snap = dir.path().join("contoso.json");
    let snap_arg = snap.to_string_lossy().to_string();
    let (code, _, err) = all_users(&mock, "json", &["--save-snapshot", &snap_arg]);
    assert_eq!(code, 1, "{err}");
    drop(mock);

    let (_, jsonl) = offline(&snap, &["--all-users", "-f", "jsonl", "--fail-on", "never"]);
    let ls = lines(&jsonl);
    let (_, json) = offline(&snap, &["--all-users", "-f", "json", "--fail-on", "never"]);
    let doc: Value = serde_json::from_str(&json).unwrap_or_default();
    let mut compact_from_lines = Vec::new();
    for l in &ls[1..] {
        let id = l["subject"]["id"].as_str();
        let mut args = vec!["-f", "json", "--fail-on", "never"];
        match id {
            Some(u) => args.extend(["--user", u]),
            None => args.push("--user=jdoe@contoso.com"),
        }
        // Today's single-user report: the tenant's findings, then the user's.
        let (_, single) = offline(&snap, &args);
        let single: Value = serde_json::from_str(&single).unwrap_or_default();
        assert_eq!(single["schema"], "enroll-doctor/report@1");
        let wanted: Vec<Value> = single["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|f| f["subject"] == l["subject"])
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        assert!(!wanted.is_empty(), "{l}");
        // The lines and the JSON document hold the same findings, passes cut down and docs
        // stated once in `checks`.
        // The lines keep every finding's summary and evidence; a pass's remediation and every
        // docs list are stated once in `checks`. The JSON document cuts passes down further.
        let mut in_line = Vec::new();
        for f in wanted {
            let mut line_f = f.clone();
            let mut doc_f = f;
            let check = line_f["check"].as_str().unwrap_or_default().to_string();
            if let Some(o) = line_f.as_object_mut() {
                let docs = o.remove("docs").unwrap_or_default();
                assert_eq!(ls[0]["checks"][&check]["docs"], docs);
                assert_eq!(doc["checks"][&check]["docs"], docs);
                if o["status"] == "pass" {
                    o.remove("remediation");
                }
            }
            if let Some(o) = doc_f.as_object_mut() {
                if o["status"] == "pass" {
                    o.retain(|k, _| matches!(k.as_str(), "check" | "status" | "subject"));
                } else {
                    o.remove("docs");
                }
            }
            in_line.push(line_f);
            compact_from_lines.push(doc_f);
        }
        assert_eq!(l["findings"], Value::Array(in_line), "{id:?}");
    }
    assert_eq!(doc["findings"], Value::Array(compact_from_lines));
}

#[test]
fn more_than_ten_users_get_details_for_ten_unless_asked() {
    let mock = start(MockConfig::generated(60, 7));
    let (code, table, err) = all_users(&mock, "table", &["--fail-on", "never"]);
    assert_eq!(code, 0, "{err}");
    let head: Vec<&str> = table.lines().take(40).collect();
    assert!(
        head[0].starts_with("Readiness (as of 2026-11-26): 60 users: "),
        "{table}"
    );
    let details = table.matches("\nUser ").count();
    assert!(details <= 10, "{details} users in detail:\n{table}");
    assert!(
        table.contains("more users: use --details or --format csv/jsonl"),
        "{table}"
    );
    let (_, all, _) = all_users(&mock, "table", &["--fail-on", "never", "--details"]);
    assert_eq!(all.matches("\nUser ").count(), 60, "{all}");
    assert!(!all.contains("more users: use --details"));
    let (_, csv, _) = all_users(&mock, "csv", &["--fail-on", "never"]);
    assert_eq!(csv_records(&csv).1.len(), 61);
}

#[test]
fn one_user_keeps_the_single_subject_report() {
    let mock = fixture("contoso");
    let (_, json, err) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "check",
            "-f",
            "json",
            "--user",
            "jdoe@contoso.com",
            "--fail-on",
            "never",
        ],
    );
    let doc = json_of(&json, &err);
    assert_eq!(doc["schema"], "enroll-doctor/report@1");
    let (_, table, _) = run(
        &mock,
        Auth::Delegated("cli"),
        &["check", "--user", "jdoe@contoso.com", "--fail-on", "never"],
    );
    assert!(table.starts_with("Tenant\n"), "{table}");
    assert!(!table.contains("Readiness"), "{table}");
    // CSV and JSON Lines exist for one subject too.
    let (_, csv, _) = run(
        &mock,
        Auth::Delegated("cli"),
        &[
            "check",
            "-f",
            "csv",
            "--user",
            "jdoe@contoso.com",
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(csv_records(&csv).1.len(), 2);
    let (_, audit, _) = run(&mock, Auth::Delegated("cli"), &["audit", "-f", "jsonl"]);
    let ls = lines(&audit);
    assert_eq!(ls.len(), 2);
    assert_eq!(ls[1]["subject"]["kind"], "tenant");
}

/// `check` of `users` against the wingtip fixture tenant (as of 2026-11-26), as JSON findings.
fn wingtip_check(users: &[&str]) -> Vec<Value> {
    let mock = start(MockConfig::dir(tenant_dir("wingtip")));
    let mut args = vec![
        "check",
        "--as-of",
        "2026-11-26",
        "-f",
        "json",
        "--fail-on",
        "never",
    ];
    for u in users {
        args.extend(["--user", u]);
    }
    let (_, out, err) = run(&mock, Auth::Delegated("cli"), &args);
    json_of(&out, &err)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The finding of `check` for `subject` (`None`: the tenant), or null.
fn finding_for(findings: &[Value], check: &str, subject: Option<&str>) -> Value {
    findings
        .iter()
        .find(|f| f["check"] == check && f["subject"]["id"].as_str() == subject)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn a_conditional_access_policy_on_a_pilot_group_fails_only_its_members() {
    // wingtip: contoso plus "Pilot: require compliant device for Intune enrollment" on the
    // Pilot group (tlee). TEN009 fails for the tenant; USR009 says who it stops.
    let findings = wingtip_check(&["tlee@contoso.com", "jdoe@contoso.com"]);
    let tlee = finding_for(&findings, "USR009", Some("tlee@contoso.com"));
    assert_eq!(tlee["status"], "fail", "{tlee}");
    assert!(
        tlee.to_string().contains("applies through group Pilot"),
        "{tlee}"
    );
    let jdoe = finding_for(&findings, "USR009", Some("jdoe@contoso.com"));
    assert_eq!(jdoe["status"], "pass", "{jdoe}");
    let ten009 = finding_for(&findings, "TEN009", None);
    assert_eq!(ten009["status"], "fail", "{ten009}");
}

#[test]
fn the_device_limit_counts_only_the_devices_intune_counts() {
    // wingtip: tlee's limit is 2 and tlee has three Intune devices, one silent for over 90
    // days and one pending registration for over 24 hours: one counts.
    let findings = wingtip_check(&["tlee@contoso.com"]);
    let usr006 = finding_for(&findings, "USR006", Some("tlee@contoso.com"));
    assert_eq!(usr006["status"], "pass", "{usr006}");
    assert_eq!(usr006["summary"], "1 of 2 devices used", "{usr006}");
    let text = usr006.to_string();
    assert!(
        text.contains("TLEE-OLD-LAPTOP: last check-in 2026-05-20"),
        "{text}"
    );
    assert!(
        text.contains("TLEE-HOME-PC: registration pending since 2026-11-20"),
        "{text}"
    );
}

#[test]
fn a_restriction_behind_an_assignment_filter_makes_the_winner_depend_on_the_device() {
    // wingtip: "HP laptops: Windows 11 24H2 or later" (priority 2, All Staff, include filter)
    // wins over the default for jdoe's devices that match the filter, and only for those.
    let findings = wingtip_check(&["jdoe@contoso.com", "tlee@contoso.com"]);
    let jdoe = finding_for(&findings, "USR005", Some("jdoe@contoso.com"));
    assert_eq!(jdoe["status"], "warn", "{jdoe}");
    let text = jdoe.to_string();
    assert!(text.contains("assignment filter"), "{text}");
    assert!(text.contains("HP laptops"), "{text}");
    // The filter read from beta deviceManagement/assignmentFilters, by name and rule.
    assert!(
        text.contains(r#"filter \"HP devices\" (rule (device.manufacturer -eq \"HP\"))"#),
        "{text}"
    );
    // tlee's Pilot block (priority 1, no filter) wins before the filtered restriction is reached.
    let tlee = finding_for(&findings, "USR005", Some("tlee@contoso.com"));
    assert_eq!(tlee["status"], "fail", "{tlee}");
}

#[test]
fn entras_device_quota_is_counted_for_the_user_being_checked() {
    // wingtip: quota 2; tlee owns an Entra registered and an Entra joined device (her hybrid
    // PC0200 has no registered owner and does not count); jdoe owns none.
    let findings = wingtip_check(&["tlee@contoso.com", "jdoe@contoso.com"]);
    let tlee = finding_for(&findings, "USR010", Some("tlee@contoso.com"));
    assert_eq!(tlee["status"], "fail", "{tlee}");
    let text = tlee.to_string();
    assert!(text.contains("TLEE-SURFACE, TLEE-OLD-LAPTOP"), "{text}");
    assert!(text.contains("0x801C000E"), "{text}");
    // A pass is compact here (check, status, subject).
    let jdoe = finding_for(&findings, "USR010", Some("jdoe@contoso.com"));
    assert_eq!(jdoe["status"], "pass", "{jdoe}");
}

#[test]
fn a_policy_on_a_directory_role_covers_the_role_holders_only() {
    // wingtip: it-admin holds Global Administrator; contoso's "Require MFA for administrators"
    // includes that role. Roles are read with the named users' transitiveMemberOf.
    let findings = wingtip_check(&["it-admin@contoso.com", "jdoe@contoso.com"]);
    let admin = finding_for(&findings, "USR009", Some("it-admin@contoso.com"));
    assert_eq!(admin["status"], "warn", "{admin}");
    let text = admin.to_string();
    assert!(text.contains("Require MFA for administrators"), "{text}");
    assert!(text.contains("a directory role the user holds"), "{text}");
    // jdoe holds no role, and the group policy on Pilot does not cover jdoe either.
    let jdoe = finding_for(&findings, "USR009", Some("jdoe@contoso.com"));
    assert_eq!(jdoe["status"], "pass", "{jdoe}");
}
