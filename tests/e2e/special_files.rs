//! Issue 11: only regular files are read. A FIFO or a device named on the command line (config,
//! certificate, token file, users file, snapshot, redaction key, device PATH) is an error naming
//! it (exit 2), never a hang or a read until memory runs out; inside a device folder it is a note
//! and the device is still analysed. Every run has a watchdog: a regression fails, not hangs.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::common::isolated;

const AS_OF: &str = "2026-11-26T12:00:00Z";

fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

/// The binary in DIR, isolated from the environment, killed after 60 s (a blocked open would
/// otherwise hang the suite).
fn watched(dir: &Path) -> assert_cmd::Command {
    let mut c = isolated(dir);
    c.timeout(Duration::from_secs(60));
    c
}

/// Exit 2, nothing on stdout, one line naming FILE and what was wrong with it.
fn refused(mut cmd: assert_cmd::Command, file: &Path, what: &str) {
    let out = cmd.output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "exit code (None: killed by the watchdog); stderr: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let named = format!("{}: {what}", file.display());
    assert!(stderr.contains(&named), "{named:?} not in: {stderr}");
}

/// The special files every case is tried with: a FIFO no one writes, and /dev/zero.
fn special_files(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let fifo = dir.join("input.fifo");
    mkfifo(&fifo);
    vec![
        (fifo, "is a FIFO (named pipe), not a regular file"),
        (
            PathBuf::from("/dev/zero"),
            "is a character device, not a regular file",
        ),
    ]
}

#[test]
fn a_fifo_or_dev_zero_as_any_input_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = repo("tests/fixtures/correlate/contoso-snapshot.json");
    let device = repo("mocks/devices/hybrid-enrolled");
    let key = "ENROLL_DOCTOR_ACCESS_TOKEN_FILE";
    for (file, what) in special_files(dir.path()) {
        let f = file.to_str().expect("utf-8 path");
        let (snap, dev) = (
            snapshot.to_str().expect("utf-8 path"),
            device.to_str().expect("utf-8 path"),
        );
        let tenant = ["--tenant", "contoso.onmicrosoft.com"];
        let client = ["--client-id", "11111111-2222-4333-8444-555566667777"];
        let cases: Vec<(Vec<&str>, Option<&str>)> = vec![
            // The config file is read when the tenant is reached through Graph.
            (vec!["--config", f, "audit"], None),
            (vec!["audit", "--snapshot", f], None),
            (vec!["check", "--snapshot", snap, "--users-file", f], None),
            (
                vec!["diagnose", "--offline", "-d", dev, "--redact-key-file", f],
                None,
            ),
            (vec!["diagnose", "--offline", "-d", f], None),
            (
                [
                    &["audit"],
                    &tenant[..],
                    &client,
                    &["--auth", "certificate", "--certificate", f],
                ]
                .concat(),
                None,
            ),
            (
                [&["audit"], &tenant[..], &["--auth", "access-token"]].concat(),
                Some(f),
            ),
        ];
        for (args, token_file) in cases {
            let mut c = watched(dir.path());
            c.args(&args).args(["--as-of", AS_OF]);
            if let Some(t) = token_file {
                c.env(key, t);
            }
            refused(c, &file, what);
        }
    }
}

#[test]
fn a_snapshot_or_users_file_past_its_limit_is_refused_by_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Sparse: 2 MiB on paper, nothing on disk; refused by its size before it is read.
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(2 * 1024 * 1024))
        .expect("sparse file");
    let mut c = watched(dir.path());
    c.env("ENROLL_DOCTOR_MAX_SNAPSHOT_MIB", "1")
        .args(["audit", "--snapshot"])
        .arg(&big);
    refused(
        c,
        &big,
        "is larger than 1 MiB, the limit for a snapshot: not read \
         (set ENROLL_DOCTOR_MAX_SNAPSHOT_MIB to a number of MiB to change it)",
    );
    let mut c = watched(dir.path());
    c.env("ENROLL_DOCTOR_MAX_USERS_FILE_MIB", "1")
        .args(["check", "--snapshot"])
        .arg(repo("tests/fixtures/correlate/contoso-snapshot.json"))
        .arg("--users-file")
        .arg(&big);
    refused(c, &big, "is larger than 1 MiB, the limit for a users file");
    // A limit that is not a number is named too.
    let mut c = watched(dir.path());
    c.env("ENROLL_DOCTOR_MAX_SNAPSHOT_MIB", "lots")
        .args(["audit", "--snapshot"])
        .arg(&big);
    refused(
        c,
        &big,
        "ENROLL_DOCTOR_MAX_SNAPSHOT_MIB must be a whole number of MiB",
    );
}

#[test]
fn a_fifo_in_a_device_folder_or_a_fleet_is_a_note_and_the_devices_are_analysed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fleet = dir.path().join("fleet");
    std::fs::create_dir(&fleet).expect("mkdir");
    for name in ["hybrid-enrolled", "failed-8018002b"] {
        let to = fleet.join(name);
        std::fs::create_dir(&to).expect("mkdir");
        for f in std::fs::read_dir(repo("mocks/devices").join(name)).expect("sample") {
            let f = f.expect("entry").path();
            if f.is_file() {
                std::fs::copy(&f, to.join(f.file_name().expect("name"))).expect("copy");
            }
        }
    }
    mkfifo(&fleet.join("failed-8018002b").join("pending.evtx.xml"));
    mkfifo(&fleet.join("upload.zip"));
    let out = watched(dir.path())
        .args([
            "diagnose",
            "--offline",
            "--as-of",
            AS_OF,
            "-f",
            "json",
            "-d",
        ])
        .arg(&fleet)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the devices' own verdicts: {stdout}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let text = json.to_string();
    assert_eq!(
        json["diagnoses"].as_array().map(Vec::len),
        Some(2),
        "{text}"
    );
    for name in ["pending.evtx.xml", "upload.zip"] {
        assert!(text.contains(name), "{name} not named: {text}");
    }
    assert!(
        text.contains("is a FIFO (named pipe), not a regular file: not read"),
        "{text}"
    );
}
