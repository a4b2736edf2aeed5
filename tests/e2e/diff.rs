//! `enroll-doctor diff OLD NEW` through the binary: the fixture pair (tests/fixtures/diff: the
//! contoso tenant a week apart, with a restriction's priority changed, a group removed from the
//! MDM scope and a Conditional Access policy added) in every format, the exit codes, bad input,
//! and redacted snapshots saved from the mock with one key and with two.

use std::path::Path;

use serde_json::Value;

use super::common::isolated;
use super::tenant::{Auth, fixture, run};

const OLD: &str = "tests/fixtures/diff/contoso-old.json";
const NEW: &str = "tests/fixtures/diff/contoso-new.json";

fn diff(args: &[&str]) -> (i32, String, String) {
    let out = isolated(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("COLUMNS", "80")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .arg("diff")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run enroll-doctor: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_fixture_pair_as_a_table() {
    let (code, out, err) = diff(&[OLD, NEW]);
    assert_eq!(code, 1, "readiness regressed: {err}");
    assert!(err.is_empty(), "{err}");
    insta::assert_snapshot!("diff_table", out);
}

#[test]
fn the_fixture_pair_as_markdown() {
    let (code, out, err) = diff(&[OLD, NEW, "--format", "markdown"]);
    assert_eq!(code, 1, "{err}");
    insta::assert_snapshot!("diff_markdown", out);
}

#[test]
fn the_fixture_pair_as_json() {
    let (code, out, err) = diff(&[OLD, NEW, "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["schema"], "enroll-doctor/diff@1");
    let s = &v["summary"];
    assert_eq!(s["changes"], 4);
    assert_eq!(s["regressions"], 2);
    assert_eq!(s["improvements"], 1);
    assert_eq!(s["users_compared"], 8);
    assert_eq!(s["newly_not_ready"], 4);
    assert_eq!(s["newly_failing"], 1);
    assert_eq!(s["newly_ready"], 1);
    assert_eq!(s["regressed"], true);
    let changes = v["changes"].as_array().cloned().unwrap_or_default();
    let find = |area: &str, field: Option<&str>| {
        changes
            .iter()
            .find(|c| c["area"] == area && c["field"].as_str() == field)
            .cloned()
            .unwrap_or_else(|| panic!("no {area} {field:?} change in {changes:#?}"))
    };
    let scope = find("mdm-scope", Some("includedGroups"));
    assert_eq!(
        (&scope["old"], &scope["impact"]),
        (&Value::from("All Staff"), &Value::from("regression"))
    );
    let ca = find("conditional-access", None);
    assert_eq!(
        (&ca["kind"], &ca["impact"]),
        (&Value::from("added"), &Value::from("regression"))
    );
    let prio = find("restriction", Some("priority"));
    assert_eq!(prio["object"], "Pilot Windows block");
    assert_eq!((&prio["old"], &prio["new"]), (&"1".into(), &"2".into()));
    let readiness = v["readiness"].as_array().cloned().unwrap_or_default();
    let trend = |subject: &str| {
        readiness
            .iter()
            .find(|r| r["subject"] == subject)
            .map(|r| r["trend"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(
        trend("mgarcia@contoso.com").as_deref(),
        Some("newly-not-ready")
    );
    assert_eq!(
        trend("asmith@contoso.com").as_deref(),
        Some("newly-not-ready")
    );
    assert_eq!(trend("tlee@contoso.com").as_deref(), Some("newly-ready"));
    assert_eq!(trend("jdoe@contoso.com"), None, "jdoe did not change");
}

#[test]
fn a_snapshot_against_itself_has_no_change_and_exits_0() {
    let (code, out, err) = diff(&[OLD, OLD]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Configuration: 0 changes"), "{out}");
    assert!(out.contains("Result: no regression (exit 0)"), "{out}");
}

#[test]
fn the_reverse_direction_is_judged_the_other_way() {
    // NEW → OLD: the group comes back and the CA policy goes (improvements), but the blocking
    // restriction moves back up and tlee is not ready again.
    let (code, out, err) = diff(&[NEW, OLD, "-f", "json"]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["summary"]["improvements"], 2);
    assert_eq!(v["summary"]["regressions"], 1);
    assert_eq!(v["summary"]["newly_not_ready"], 1);
    assert!(
        v["notes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n.as_str().is_some_and(
                |n| n.contains("OLD (2026-11-27T08:00:00+00:00) was collected after NEW")
            ))),
        "{out}"
    );
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let (code, out, err) = diff(&[OLD, "tests/fixtures/diff/missing.json"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("NEW snapshot tests/fixtures/diff/missing.json"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"schema\": 1").unwrap_or_else(|e| panic!("{e}"));
    let (code, _, err) = diff(&[junk.to_str().unwrap_or_default(), NEW]);
    assert_eq!(code, 2);
    assert!(
        err.contains("OLD snapshot") && err.contains("junk.json"),
        "{err}"
    );
    let (code, _, err) = diff(&[OLD, NEW, "--as-of", "2026-13-01"]);
    assert_eq!(code, 2);
    assert!(err.contains("as-of") || err.contains("date"), "{err}");
    let (code, _, err) = diff(&[OLD]);
    assert_eq!(code, 2, "a missing NEW is a usage error: {err}");
}

/// Every input `diff` cannot compare ends in one sentence on stderr naming the file (and the
/// line or field serde names), exit 2: never a panic, a Rust debug structure or a report.
#[test]
fn each_bad_snapshot_is_one_clear_error_naming_the_file() {
    use enroll_doctor::redact::Redactor;
    use enroll_doctor::tenant::TenantSnapshot;

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let p = |n: &str| dir.path().join(n).to_str().unwrap_or_default().to_string();
    let write = |n: &str, text: &str| {
        std::fs::write(p(n), text).unwrap_or_else(|e| panic!("{e}"));
        p(n)
    };
    let folder = p("a-folder");
    std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
    let new_text = std::fs::read_to_string(NEW).unwrap_or_default();
    // A field of the wrong type on a known line: the snapshot with its tenant id a number.
    let typed = new_text.replacen(
        "\"tenant_id\": \"5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13\"",
        "\"tenant_id\": 42",
        1,
    );
    let typed_line = typed
        .lines()
        .position(|l| l.contains("\"tenant_id\": 42"))
        .map_or(0, |i| i + 1);
    assert!(typed_line > 1, "the fixture names its tenant id");
    let future = new_text.replacen(
        "enroll-doctor/tenant-snapshot@1",
        "enroll-doctor/tenant-snapshot@7",
        1,
    );
    // Two snapshots of one tenant, redacted under two keys.
    let redacted = |name: &str, key: &str| {
        let mut s = TenantSnapshot::load(Path::new(NEW)).unwrap_or_else(|e| panic!("{e}"));
        Redactor::from_hex(&key.repeat(32))
            .unwrap_or_else(|e| panic!("{e}"))
            .snapshot(&mut s);
        s.save(Path::new(&p(name)))
            .unwrap_or_else(|e| panic!("{e}"));
        p(name)
    };
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "a missing file",
            p("missing.json"),
            NEW.into(),
            "no such file",
        ),
        ("a folder", folder.clone(), NEW.into(), "is a directory"),
        (
            "an empty file",
            write("empty.json", ""),
            NEW.into(),
            "is empty",
        ),
        (
            "text that is not JSON",
            write("notes.json", "OLD tenant, before the change\n"),
            NEW.into(),
            "is not valid JSON for enroll-doctor/tenant-snapshot@1: expected value at line 1 column 1",
        ),
        (
            "a JSON array",
            write("array.json", "[1, 2]"),
            NEW.into(),
            "is not an enroll-doctor tenant snapshot",
        ),
        (
            "another JSON document",
            write(
                "report.json",
                "{\"schema\": \"enroll-doctor/report@2\", \"findings\": []}",
            ),
            NEW.into(),
            "field `schema` is \"enroll-doctor/report@2\", expected \"enroll-doctor/tenant-snapshot@1\": not a tenant snapshot",
        ),
        (
            "a snapshot of a newer version",
            OLD.into(),
            write("future.json", &future),
            "\"enroll-doctor/tenant-snapshot@7\", a snapshot version this enroll-doctor does not read",
        ),
        (
            "a field of the wrong type",
            OLD.into(),
            write("typed.json", &typed),
            "does not match enroll-doctor/tenant-snapshot@1: invalid type: integer `42`, expected a string",
        ),
        (
            "two keys",
            redacted("key-a.json", "a1"),
            redacted("key-b.json", "b2"),
            "redacted with different keys",
        ),
    ];
    for (what, old, new, says) in cases {
        let (code, out, err) = diff(&[&old, &new]);
        assert_eq!(code, 2, "{what}: {out}{err}");
        assert!(out.is_empty(), "{what}: nothing on stdout: {out}");
        let line = err.trim_end();
        assert!(
            line.starts_with("enroll-doctor: error: ") && !line.contains('\n'),
            "{what}: one line: {err}"
        );
        assert!(line.contains(says), "{what}: {err}");
        let named = if what == "two keys" || old == OLD {
            &new
        } else {
            &old
        };
        assert!(
            line.contains(named.as_str()),
            "{what}: names {named}: {err}"
        );
        assert!(!line.contains("panicked"), "{what}: {err}");
        assert_eq!(super::error_paths::debug_shape(line), None, "{what}: {err}");
        if what == "a field of the wrong type" {
            assert!(
                line.contains(&format!("at line {typed_line} column")),
                "{err}"
            );
        }
        if what == "a snapshot of a newer version" || what == "a field of the wrong type" {
            assert!(line.contains("NEW snapshot"), "{what}: which side: {err}");
        } else if what != "two keys" {
            assert!(line.contains("OLD snapshot"), "{what}: which side: {err}");
        }
    }
}

#[test]
fn snapshots_of_two_tenants_are_refused() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let text = std::fs::read_to_string(NEW).unwrap_or_default();
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        text.replace(
            "5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13",
            "00000000-0000-4000-8000-000000000001",
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, out, err) = diff(&[OLD, other.to_str().unwrap_or_default()]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("different tenants"), "{err}");
}

/// Saves a redacted snapshot of the mock's contoso tenant with KEY into FILE.
fn save_redacted(mock: &mock_graph::BlockingMockGraph, file: &Path, key: &Path) {
    let (code, _, err) = run(
        mock,
        Auth::Delegated("cli"),
        &[
            "audit",
            "-f",
            "json",
            "--fail-on",
            "never",
            "--save-snapshot",
            file.to_str().unwrap_or_default(),
            "--redact",
            "--redact-key-file",
            key.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn redacted_snapshots_compare_under_one_key_and_are_refused_under_two() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let p = |n: &str| dir.path().join(n);
    let mock = fixture("contoso");
    save_redacted(&mock, &p("a.json"), &p("one.key"));
    save_redacted(&mock, &p("b.json"), &p("one.key"));
    save_redacted(&mock, &p("c.json"), &p("two.key"));
    let s = |n: &str| p(n).to_str().unwrap_or_default().to_string();
    let (code, out, err) = diff(&[&s("a.json"), &s("b.json"), "-f", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["summary"]["changes"], 0, "{out}");
    assert_eq!(v["old"]["redacted"], true);
    assert!(out.contains("redacted with the same key"), "{out}");
    assert!(!out.contains("contoso.com"), "{out}");
    let (code, out, err) = diff(&[&s("a.json"), &s("c.json")]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("different keys"), "{err}");
    assert!(err.contains("--redact-key-file"), "{err}");
}
