//! CI gates through the binary: `--fail-on skip` (a run whose checks could not run does not
//! pass) and `--require CHECK` (these checks must have run on every subject), against the
//! mock with an app-only token (the MDM/MAM scope checks skip: Graph serves those policies to
//! delegated tokens only) and a delegated one (everything runs), and over saved snapshots.

use std::path::Path;

use super::common::isolated;
use super::tenant::{Auth, fixture, run};

/// `audit` of the mock's contoso tenant (every tenant check passes with a delegated token).
fn audit(auth: Auth, args: &[&str]) -> (i32, String, String) {
    let mock = fixture("contoso");
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    run(&mock, auth, &all)
}

#[test]
fn fail_on_skip_fails_an_app_only_audit_that_could_not_check_the_scopes() {
    let (code, out, err) = audit(Auth::App("auditor"), &[]);
    assert_eq!(code, 0, "skips alone pass by default: {out}{err}");
    let (code, _, err) = audit(Auth::App("auditor"), &["--fail-on", "skip"]);
    assert_eq!(code, 1, "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("--fail-on skip:"))
        .unwrap_or_else(|| panic!("no --fail-on skip line: {err}"));
    for id in ["TEN003", "TEN004", "TEN005", "TEN006"] {
        assert!(line.contains(&format!("{id} ×1")), "{id}: {line}");
    }
    assert!(!line.contains("TEN001"), "TEN001 ran: {line}");
}

#[test]
fn fail_on_skip_passes_a_run_where_everything_ran() {
    let (code, out, err) = audit(Auth::Delegated("cli"), &["--fail-on", "skip"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("--fail-on skip"), "{err}");
}

#[test]
fn require_names_the_check_that_did_not_run_and_why() {
    let (code, _, err) = audit(Auth::App("auditor"), &["--require", "TEN003,TEN001"]);
    assert_eq!(code, 1, "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("--require TEN003"))
        .unwrap_or_else(|| panic!("no --require line: {err}"));
    assert!(line.contains("did not run for 1 of 1"), "{line}");
    assert!(line.contains("skip:"), "{line}");
    assert!(!err.contains("--require TEN001"), "TEN001 ran: {err}");
    // By name, case-insensitive, and with a delegated token it runs: exit 0.
    let (code, out, err) = audit(
        Auth::Delegated("cli"),
        &["--require", "mdm-user-scope-none", "--require", "ten001"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("--require"), "{err}");
}

#[test]
fn require_of_a_check_the_command_does_not_evaluate_is_unmet() {
    let snapshot = "tests/fixtures/correlate/contoso-snapshot.json";
    let out = isolated(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args(["audit", "--snapshot", snapshot, "--require", "USR003"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--require USR003: USR003 did not run: no subject of this run"),
        "{err}"
    );
    // The same check in `check` over the users runs on each of them.
    let out = isolated(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args([
            "check",
            "--snapshot",
            snapshot,
            "--user",
            "jdoe@contoso.com",
            "--require",
            "USR003",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("--require"), "{err}");
}

#[test]
fn require_of_an_unknown_check_is_bad_input_before_any_read() {
    let out = isolated(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args([
            "audit",
            "--snapshot",
            "tests/fixtures/missing.json",
            "--require",
            "NOPE42",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--require NOPE42: no such check"), "{err}");
    assert!(
        !err.contains("missing.json"),
        "the gate is checked first: {err}"
    );
}

#[test]
fn gates_apply_to_every_user_of_a_run_over_many() {
    // App-only: USR003 and USR004 skip for every user; --require USR003 names how many.
    let mock = fixture("contoso");
    let (code, _, err) = run(
        &mock,
        Auth::App("auditor"),
        &[
            "check",
            "--user",
            "tlee@contoso.com",
            "--user",
            "jdoe@contoso.com",
            "--fail-on",
            "never",
            "--require",
            "USR003",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(code, 1, "--require wins over --fail-on never: {err}");
    assert!(
        err.contains("--require USR003: USR003 did not run for 2 of 2"),
        "{err}"
    );
}
