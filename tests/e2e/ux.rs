//! What a newcomer meets: help that teaches, and every bad input ends with exit 2 and one line
//! naming the file, line or field — never a panic, a Rust Debug dump or a repeated message.

use std::path::PathBuf;

use super::common::{bin, isolated};

fn device(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices")
        .join(name)
}

/// Runs and checks the contract of a bad-input run; returns stderr for the caller's own checks.
fn fails_cleanly(mut cmd: assert_cmd::Command, must_name: &[&str]) -> String {
    let out = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout: {:?}", out.stdout);
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    // Debug dumps of errors look like `Os { code: 2, kind: NotFound, .. }` or `Error("…")`.
    for dump in ["Os {", "kind:", "Error(", "Error {", "Some(", "backtrace"] {
        assert!(!stderr.contains(dump), "Debug output {dump:?} in: {stderr}");
    }
    for needle in must_name {
        assert!(stderr.contains(needle), "{needle:?} not named in: {stderr}");
    }
    stderr
}

/// A message that says the same thing twice reads as a bug.
fn no_repeated_clause(stderr: &str) {
    let line = stderr.lines().next().unwrap_or_default();
    let parts: Vec<&str> = line.split(": ").filter(|p| p.len() > 12).collect();
    for (i, p) in parts.iter().enumerate() {
        assert!(!parts[i + 1..].contains(p), "{p:?} repeated in: {line}");
    }
}

#[test]
fn every_subcommand_help_teaches_with_examples() {
    for sub in [
        &["diagnose"][..],
        &["explain"],
        &["collector"],
        &["audit"],
        &["check"],
        &["auth"],
        &["demo"],
    ] {
        let out = bin().args(sub).arg("--help").output().expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{sub:?} --help");
        assert!(
            text.contains("Examples:") || text.contains("Example:"),
            "{sub:?} --help has no example:\n{text}"
        );
        assert!(
            text.contains(&format!("enroll-doctor {}", sub[0])),
            "{sub:?}: the examples run this subcommand"
        );
    }
    // Options of the subcommand come first; the connection flags are grouped apart.
    let out = bin().args(["diagnose", "--help"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let own = text.find("--device-report").unwrap_or(usize::MAX);
    let heading = text.find("Tenant connection").unwrap_or(0);
    assert!(
        own < heading,
        "diagnose's own options before the connection flags:\n{text}"
    );
    assert!(
        text.contains("Exit codes:"),
        "diagnose --help gives the exit codes"
    );
}

#[test]
fn missing_device_report_path_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let mut c = isolated(dir.path());
    c.args(["diagnose", "-d"]).arg(&missing);
    let e = fails_cleanly(c, &[&missing.display().to_string(), "no such file"]);
    no_repeated_clause(&e);
}

#[test]
fn snapshot_that_is_a_folder_or_missing_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = isolated(dir.path());
    c.args(["diagnose", "-d"])
        .arg(device("hybrid-enrolled"))
        .arg("--snapshot")
        .arg(dir.path());
    let e = fails_cleanly(c, &["snapshot", &dir.path().display().to_string()]);
    no_repeated_clause(&e);

    let missing = dir.path().join("gone.json");
    let mut c = isolated(dir.path());
    c.args(["audit", "--snapshot"]).arg(&missing);
    let e = fails_cleanly(c, &["snapshot", &missing.display().to_string()]);
    no_repeated_clause(&e);
}

#[test]
fn truncated_snapshot_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("cut.json");
    std::fs::write(
        &snap,
        "{\n  \"schema\": \"enroll-doctor/tenant-snapshot@1\",\n  \"tenant_id\": ",
    )
    .expect("write");
    let mut c = isolated(dir.path());
    c.args(["audit", "--snapshot"]).arg(&snap);
    let e = fails_cleanly(c, &[&snap.display().to_string(), "line 3"]);
    no_repeated_clause(&e);
}

#[test]
fn snapshot_of_another_schema_version_names_both_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snap = dir.path().join("future.json");
    std::fs::write(
        &snap,
        r#"{"schema": "enroll-doctor/tenant-snapshot@2", "tenant_id": "x"}"#,
    )
    .expect("write");
    let mut c = isolated(dir.path());
    c.args(["check", "--all-users", "--snapshot"]).arg(&snap);
    fails_cleanly(
        c,
        &[
            &snap.display().to_string(),
            "tenant-snapshot@2",
            "tenant-snapshot@1",
        ],
    );
}

#[test]
fn device_bundle_of_another_schema_version_names_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bundle = dir.path().join("pc.json");
    std::fs::write(
        &bundle,
        r#"{"schema": "enroll-doctor/device-report@7", "dsregcmd": {}}"#,
    )
    .expect("write");
    let mut c = isolated(dir.path());
    c.args(["diagnose", "-d"]).arg(&bundle);
    fails_cleanly(c, &["pc.json", "device-report@7", "device-report@1"]);
}

#[test]
fn malformed_config_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("enroll-doctor.toml");
    std::fs::write(&cfg, "tenant = \"contoso.com\"\nauth = [\n").expect("write");
    let mut c = isolated(dir.path());
    c.arg("--config").arg(&cfg).arg("audit");
    fails_cleanly(c, &[&cfg.display().to_string(), "line 2"]);
    // Found by discovery in the working folder, too.
    let mut c = isolated(dir.path());
    c.arg("audit");
    fails_cleanly(c, &["enroll-doctor.toml", "line 2"]);
}

#[test]
fn a_secret_misplaced_in_the_config_is_named_never_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("enroll-doctor.toml");
    std::fs::write(
        &cfg,
        "tenant = \"contoso.com\"\nclient_secret = \"Qx8~s3cr3t-VALUE\"\n",
    )
    .expect("write");
    let mut c = isolated(dir.path());
    c.arg("--config").arg(&cfg).arg("audit");
    let e = fails_cleanly(c, &["line 2", "client_secret", "AZURE_CLIENT_SECRET"]);
    assert!(
        !e.contains("Qx8~s3cr3t-VALUE"),
        "the secret was printed: {e}"
    );
}

#[test]
fn audit_and_check_without_a_tenant_say_what_to_configure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = isolated(dir.path());
    c.arg("audit");
    fails_cleanly(c, &["--tenant", "AZURE_TENANT_ID", "--snapshot"]);
    let mut c = isolated(dir.path());
    c.args(["check", "--user", "jdoe@contoso.com"]);
    fails_cleanly(c, &["--tenant", "AZURE_TENANT_ID"]);
}

#[test]
fn bad_flag_values_are_refused_with_the_flag_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = isolated(dir.path());
    c.args(["audit", "--format", "xml"]);
    fails_cleanly(c, &["xml", "--format", "json"]);

    for bad in ["garbage", "2025-13-01", "26/11/2026"] {
        let mut c = isolated(dir.path());
        c.args(["diagnose", "--as-of", bad, "-d"])
            .arg(device("hybrid-enrolled"));
        let e = fails_cleanly(c, &["--as-of", bad, "YYYY-MM-DD"]);
        assert!(
            !e.contains("premature end"),
            "a date problem, said plainly: {e}"
        );
    }

    let mut c = isolated(dir.path());
    c.args(["explain", "garbage"]);
    fails_cleanly(c, &["garbage", "explain --all"]);

    let mut c = isolated(dir.path());
    c.arg("diagnose");
    fails_cleanly(c, &["--device-report"]);
}

#[cfg(unix)]
#[test]
fn non_utf8_path_is_reported_not_panicked_on() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let name = std::ffi::OsStr::from_bytes(b"pc-\xff\xfe.json");
    let path = dir.path().join(name);
    std::fs::write(&path, "{\"schema\": \"enroll-doctor/tenant-snapshot@1\"").expect("write");
    let mut c = isolated(dir.path());
    c.args(["diagnose", "-d"]).arg(&path);
    fails_cleanly(c, &["pc-"]);
    let mut c = isolated(dir.path());
    c.args(["audit", "--snapshot"]).arg(&path);
    fails_cleanly(c, &["pc-", "snapshot"]);
}

/// Runs with stdout connected to a pipe whose reader is already gone.
fn run_into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let exe = assert_cmd::cargo::cargo_bin("enroll-doctor");
    std::process::Command::new(exe)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("AZURE_TENANT_ID")
        .env_remove("ENROLL_DOCTOR_CONFIG")
        .stdout(writer)
        .output()
        .expect("the binary runs")
}

#[test]
fn a_closed_pipe_is_not_a_failure() {
    let fleet = device("").display().to_string();
    for (args, code) in [
        (vec!["collector"], 0),
        (vec!["explain", "--all"], 0),
        (vec!["explain", "0x8018002B", "-f", "json"], 0),
        // Exit codes still report the findings, as with a reader that stays.
        (
            vec!["diagnose", "-d", fleet.as_str(), "--fail-on", "never"],
            0,
        ),
        (vec!["diagnose", "-d", fleet.as_str(), "-f", "json"], 1),
    ] {
        let out = run_into_closed_pipe(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_error_not_a_silent_success() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    let exe = assert_cmd::cargo::cargo_bin("enroll-doctor");
    let out = std::process::Command::new(exe)
        .args(["explain", "--all"])
        .stdout(full)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("stdout"), "{stderr}");
}

#[test]
fn json_output_is_one_document_and_nothing_else() {
    let out = bin()
        .args(["diagnose", "-f", "json", "--fail-on", "never", "-d"])
        .arg(device(""))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is exactly one JSON document");
    // Several devices: the run document, summary first (docs/report-schema.md).
    assert_eq!(doc["schema"], "enroll-doctor/report@2");
    assert!(doc["summary"]["subjects"].as_u64().is_some_and(|n| n >= 6));
    let n = doc["diagnoses"].as_array().map_or(0, Vec::len);
    assert!(n >= 6, "one diagnosis per bundled sample device, got {n}");
    // The same run twice gives the same document (stable for scripts and diffs), given --as-of.
    let again = |()| {
        bin()
            .args(["diagnose", "-f", "json", "--as-of", "2026-11-26", "-d"])
            .arg(device(""))
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default()
    };
    let (a, b) = (again(()), again(()));
    assert!(!a.is_empty());
    assert_eq!(a, b, "two identical runs, two identical documents");
}
