//! `enroll-doctor diagnose` in device-only mode against the bundled sample device folders.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::common::bin;
use crate::utf16;

const AS_OF: &str = "2026-11-26";

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices")
        .join(name)
}

/// Copies a sample folder into `dest/name` (tests never read the repo copy in place, so nothing
/// they do can touch it).
pub(super) fn copy_sample(name: &str, dest: &Path) -> PathBuf {
    let to = dest.join(name);
    std::fs::create_dir_all(&to).expect("create sample copy");
    for entry in std::fs::read_dir(sample(name)).expect("sample folder exists") {
        let entry = entry.expect("dir entry");
        if entry.file_name() == "EXPECTED.md" {
            continue;
        }
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy sample file");
    }
    to
}

pub(super) fn run_json(path: &Path) -> (i32, Value) {
    let out = bin()
        .env("COLUMNS", "120")
        .args(["diagnose", "--as-of", AS_OF, "-f", "json", "-d"])
        .arg(path)
        .output()
        .expect("run enroll-doctor");
    let code = out.status.code().unwrap_or(-1);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

fn run_table(path: &Path) -> (i32, String) {
    let out = bin()
        .env("COLUMNS", "120")
        .args(["diagnose", "--as-of", AS_OF, "-d"])
        .arg(path)
        .output()
        .expect("run enroll-doctor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn finding<'a>(json: &'a Value, check: &str) -> &'a Value {
    json["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["check"] == check))
        .unwrap_or_else(|| panic!("no finding {check}"))
}

fn status(json: &Value, check: &str) -> String {
    finding(json, check)["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn causes(json: &Value) -> Vec<String> {
    json["diagnoses"][0]["causes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Shared shape assertions: schema, one diagnosis, 13 device findings with evidence.
fn assert_shape(json: &Value, device: &str) {
    assert_eq!(json["schema"], "enroll-doctor/report@1");
    assert_eq!(json["diagnoses"].as_array().map(Vec::len), Some(1));
    let d = &json["diagnoses"][0];
    assert_eq!(d["device"], device);
    assert_eq!(d["path"], "gpo-hybrid");
    assert!(d["verdict"].is_string() && d["causes"].is_array() && d["fix"].is_string());
    let findings = json["findings"].as_array().expect("findings array");
    assert_eq!(findings.len(), 13);
    for f in findings {
        assert!(f["check"].as_str().is_some_and(|c| c.starts_with("DEV")));
        assert!(f["severity"].is_string());
        assert_eq!(f["subject"]["kind"], "device");
        assert_eq!(f["subject"]["id"], device);
        assert!(f["summary"].as_str().is_some_and(|s| !s.is_empty()));
        let ev = f["evidence"].as_array().expect("evidence array");
        assert!(!ev.is_empty(), "{} has no evidence", f["check"]);
        assert!(ev.iter().all(|e| e["source"].is_string()));
        // Scripts rely on stable field names: every evidence item has them, even when empty.
        assert!(
            ev.iter().all(|e| e
                .get("location")
                .is_some_and(|l| l.is_string() || l.is_null())),
            "{f:#}"
        );
        assert!(f["remediation"].is_string(), "{f:#}");
        assert!(
            ["pass", "warn", "fail", "skip", "error"].contains(&f["status"].as_str().unwrap_or(""))
        );
        if f["status"] == "fail" || f["status"] == "warn" {
            assert!(f["remediation"].as_str().is_some_and(|r| !r.is_empty()));
        }
    }
    assert!(json["notes"].as_array().is_some_and(|n| n.iter().any(|n| {
        n.as_str()
            .is_some_and(|s| s.contains("No tenant connection"))
    })));
}

fn location(json: &Value, check: &str) -> String {
    finding(json, check)["evidence"][0]["location"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn hybrid_enrolled_is_enrolled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = copy_sample("hybrid-enrolled", dir.path());
    let (code, json) = run_json(&p);
    assert_shape(&json, "PC0042.corp.contoso.com");
    assert_eq!(json["diagnoses"][0]["verdict"], "enrolled");
    assert!(causes(&json).is_empty());
    assert_eq!(json["diagnoses"][0]["fix"], "");
    for id in [
        "DEV001", "DEV002", "DEV003", "DEV004", "DEV005", "DEV006", "DEV007", "DEV009",
    ] {
        assert_eq!(status(&json, id), "pass", "{id}");
    }
    assert_eq!(location(&json, "DEV001"), "dsregcmd.txt:5");
    assert!(location(&json, "DEV009").starts_with("enrollments.reg:"));
    assert!(
        finding(&json, "DEV004")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("2027-10-12"))
    );
    assert_eq!(code, 0);
    let (tcode, table) = run_table(&p);
    assert_eq!(tcode, 0);
    insta::assert_snapshot!("diagnose_hybrid_enrolled", table);
}

#[test]
fn failed_8018002b_is_failed_with_mdm_url_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = copy_sample("failed-8018002b", dir.path());
    let (code, json) = run_json(&p);
    assert_shape(&json, "PC0077.corp.contoso.com");
    let d = &json["diagnoses"][0];
    assert_eq!(d["verdict"], "failed");
    assert_eq!(causes(&json), ["DEV003", "DEV007"]);
    assert!(
        d["fix"]
            .as_str()
            .is_some_and(|f| f.contains("MDM user scope"))
    );
    assert_eq!(status(&json, "DEV003"), "fail");
    assert_eq!(location(&json, "DEV003"), "dsregcmd.txt:32");
    let dev007 = finding(&json, "DEV007");
    assert_eq!(dev007["status"], "fail");
    assert!(
        dev007["summary"]
            .as_str()
            .is_some_and(|s| s.contains("0x8018002B"))
    );
    assert!(
        dev007["remediation"]
            .as_str()
            .is_some_and(|s| s.contains("tenant"))
    );
    assert!(location(&json, "DEV007").starts_with("dmedp-admin.xml"));
    assert_eq!(
        status(&json, "DEV006"),
        "pass",
        "Task Scheduler events name the task"
    );
    assert_eq!(status(&json, "DEV008"), "pass");
    assert_eq!(code, 1);
    let (tcode, table) = run_table(&p);
    assert_eq!(tcode, 1);
    insta::assert_snapshot!("diagnose_failed_8018002b", table);
}

#[test]
fn never_triggered_is_blocked_by_the_gpo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = copy_sample("never-triggered", dir.path());
    let (code, json) = run_json(&p);
    assert_shape(&json, "PC0103.corp.contoso.com");
    let d = &json["diagnoses"][0];
    assert!(matches!(
        d["verdict"].as_str(),
        Some("blocked" | "not-triggered")
    ));
    assert_eq!(causes(&json).first().map(String::as_str), Some("DEV005"));
    assert!(
        d["fix"]
            .as_str()
            .is_some_and(|f| f.contains("gpupdate /force"))
    );
    assert_eq!(status(&json, "DEV005"), "fail");
    // Empty exports do not prove the logs were enabled: DEV008 says what to collect.
    assert_eq!(status(&json, "DEV008"), "skip");
    assert_eq!(
        finding(&json, "DEV008")["skip_reason"]["kind"],
        "no-evidence"
    );
    assert_eq!(status(&json, "DEV011"), "warn");
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("dmedp-admin.xml") && notes.contains("empty"),
        "{notes}"
    );
    assert_eq!(code, 1);
    let (_, table) = run_table(&p);
    insta::assert_snapshot!("diagnose_never_triggered", table);
}

#[test]
fn not_hybrid_joined_is_blocked_by_the_join() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = copy_sample("not-hybrid-joined", dir.path());
    let (code, json) = run_json(&p);
    assert_shape(&json, "PC0150.corp.contoso.com");
    let d = &json["diagnoses"][0];
    assert_eq!(d["verdict"], "blocked");
    assert_eq!(causes(&json).first().map(String::as_str), Some("DEV001"));
    let dev001 = finding(&json, "DEV001");
    assert_eq!(dev001["status"], "fail");
    assert!(
        dev001["summary"]
            .as_str()
            .is_some_and(|s| s.contains("0x801C001D"))
    );
    assert!(
        dev001["evidence"]
            .to_string()
            .contains("AD Configuration Test")
    );
    assert!(
        d["fix"]
            .as_str()
            .is_some_and(|f| f.contains("service connection point"))
    );
    // Only dsregcmd was supplied: registry-based checks say what to collect.
    assert_eq!(
        finding(&json, "DEV005")["skip_reason"]["kind"],
        "no-evidence"
    );
    assert_eq!(code, 1);
    let (_, table) = run_table(&p);
    insta::assert_snapshot!("diagnose_not_hybrid_joined", table);
}

#[test]
fn stale_enrollment_names_the_key_and_warns_on_servicing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = copy_sample("stale-enrollment", dir.path());
    let (code, json) = run_json(&p);
    assert_shape(&json, "PC0117.corp.contoso.com");
    let d = &json["diagnoses"][0];
    assert_eq!(d["verdict"], "failed");
    assert_eq!(causes(&json).first().map(String::as_str), Some("DEV009"));
    let key = r"HKLM\SOFTWARE\Microsoft\Enrollments\2B8E1F0C-7D6A-4B59-8C3D-E2F1A0B9C8D7";
    let dev009 = finding(&json, "DEV009");
    assert_eq!(dev009["status"], "fail");
    assert!(
        dev009["summary"]
            .as_str()
            .is_some_and(|s| s.contains(key) && s.contains("WorkspaceONE"))
    );
    assert!(
        d["fix"]
            .as_str()
            .is_some_and(|f| f.contains(&format!("reg delete \"{key}\" /f")))
    );
    assert!(
        !d["fix"]
            .as_str()
            .unwrap_or("")
            .contains(r#"reg delete "HKLM\SOFTWARE\Microsoft\Enrollments\FFFFFFFF"#)
    );
    assert!(location(&json, "DEV009").starts_with("taskscheduler.json"));
    let dev004 = finding(&json, "DEV004");
    assert_eq!(dev004["status"], "warn");
    assert!(
        dev004["summary"]
            .as_str()
            .is_some_and(|s| s.contains("2026-11-10"))
    );
    assert_eq!(code, 1);
    let (_, table) = run_table(&p);
    insta::assert_snapshot!("diagnose_stale_enrollment", table);
}

#[test]
fn fleet_folder_gives_one_diagnosis_per_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample("hybrid-enrolled", dir.path());
    copy_sample("stale-enrollment", dir.path());
    let (code, json) = run_json(dir.path());
    let diags = json["diagnoses"].as_array().expect("diagnoses");
    assert_eq!(diags.len(), 2);
    let mut verdicts: Vec<(String, String)> = diags
        .iter()
        .map(|d| {
            (
                d["device"].as_str().unwrap_or("").to_string(),
                d["verdict"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    verdicts.sort();
    assert_eq!(
        verdicts,
        [
            (
                "PC0042.corp.contoso.com".to_string(),
                "enrolled".to_string()
            ),
            ("PC0117.corp.contoso.com".to_string(), "failed".to_string())
        ]
    );
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(26));
    assert_eq!(code, 1);
}

/// Zips a sample's files (as `copy_sample` copies them) into `to`.
fn zip_sample(name: &str, to: &Path) {
    let file = std::fs::File::create(to).expect("create zip");
    let mut z = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(sample(name))
        .expect("sample folder exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n != "EXPECTED.md"))
        .collect();
    files.sort();
    for f in files {
        let entry = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        z.start_file(entry, opts).expect("entry");
        z.write_all(&std::fs::read(&f).expect("sample file"))
            .expect("write entry");
    }
    z.finish().expect("finish zip");
}

/// The findings about one device (its subject), in output order.
fn device_findings<'a>(json: &'a Value, device: &str) -> Vec<&'a Value> {
    json["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["subject"]["kind"] == "device" && f["subject"]["id"] == device)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_device_folder_and_its_zip_in_a_fleet_are_reported_once_with_both_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = copy_sample("hybrid-enrolled", dir.path());
    let zip = dir.path().join("hybrid-enrolled.zip");
    zip_sample("hybrid-enrolled", &zip);
    let stale = copy_sample("stale-enrollment", dir.path());
    let (code, json) = run_json(dir.path());
    assert_eq!(code, 1);
    let diags = json["diagnoses"].as_array().expect("diagnoses");
    assert_eq!(diags.len(), 2, "{json:#}");
    // Failed before enrolled.
    assert_eq!(diags[0]["device"], "PC0117.corp.contoso.com");
    assert_eq!(
        diags[0]["inputs"],
        serde_json::json!([stale.display().to_string()])
    );
    assert_eq!(diags[1]["device"], "PC0042.corp.contoso.com");
    assert_eq!(
        diags[1]["inputs"],
        serde_json::json!([folder.display().to_string(), zip.display().to_string()])
    );
    let notes = notes(&json);
    assert!(
        notes.iter().any(|n| n.starts_with("PC0042.corp.contoso.com (DeviceId 3f2b8c1e-5a47-4d0b-9e61-2c7d9a0b4e15) was read from 2 inputs")),
        "{notes:?}"
    );
    assert_eq!(
        notes.last().map(String::as_str),
        Some("2 devices: 1 enrolled, 1 failed")
    );
    // One device's findings, not two.
    assert_eq!(device_findings(&json, "PC0042.corp.contoso.com").len(), 13);
    assert_eq!(json["findings"].as_array().map(Vec::len), Some(26));
}

/// Every device of a fleet gets the diagnosis and the findings it gets when diagnosed alone.
#[test]
fn fleet_findings_per_device_are_those_of_each_device_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let names = [
        "demo-blocked-restriction",
        "failed-8018002b",
        "hybrid-enrolled",
        "never-triggered",
        "not-hybrid-joined",
        "stale-enrollment",
    ];
    for n in names {
        copy_sample(n, dir.path());
    }
    let (_, fleet) = run_json(dir.path());
    let diags = fleet["diagnoses"].as_array().expect("diagnoses");
    assert_eq!(diags.len(), names.len());
    let order: Vec<&str> = diags.iter().filter_map(|d| d["verdict"].as_str()).collect();
    assert_eq!(
        order,
        [
            "failed", "failed", "failed", "blocked", "blocked", "enrolled"
        ]
    );
    for n in names {
        let (_, alone) = run_json(&dir.path().join(n));
        let mut d = alone["diagnoses"][0].clone();
        assert!(d.get("inputs").is_none(), "one device: no inputs field");
        let device = d["device"].as_str().unwrap_or("").to_string();
        let mut in_fleet = diags
            .iter()
            .find(|x| x["device"] == device.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{device} is in the fleet"));
        assert_eq!(
            in_fleet["inputs"],
            serde_json::json!([dir.path().join(n).display().to_string()])
        );
        if let Some(o) = in_fleet.as_object_mut() {
            o.remove("inputs");
        }
        if let Some(o) = d.as_object_mut() {
            o.remove("inputs");
        }
        assert_eq!(in_fleet, d, "{n}");
        // A fleet's JSON keeps passing findings compact; its JSON Lines carry each device's
        // findings with their evidence, without the docs (and a pass's general remediation)
        // that the summary line states once.
        let lines = run_jsonl(dir.path());
        let line = lines
            .iter()
            .find(|l| l["type"] == "subject" && l["subject"]["id"] == device.as_str())
            .unwrap_or_else(|| panic!("{device} has a JSON line"));
        let in_lines: Vec<&Value> = line["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|f| f["subject"]["kind"] == "device")
                    .collect()
            })
            .unwrap_or_default();
        let wanted: Vec<Value> = device_findings(&alone, &device)
            .into_iter()
            .map(|f| {
                let mut f = f.clone();
                if let Some(o) = f.as_object_mut() {
                    o.remove("docs");
                    if o["status"] == "pass" {
                        o.remove("remediation");
                    }
                }
                f
            })
            .collect();
        let in_lines: Vec<Value> = in_lines.into_iter().cloned().collect();
        assert_eq!(in_lines, wanted, "{n}");
    }
}

/// `diagnose -f jsonl` of `path`: one JSON value per line.
fn run_jsonl(path: &Path) -> Vec<Value> {
    let out = bin()
        .env("COLUMNS", "120")
        .args(["diagnose", "--as-of", AS_OF, "-f", "jsonl", "-d"])
        .arg(path)
        .output()
        .expect("run enroll-doctor");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn fail_on_warn_and_never_change_the_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = copy_sample("hybrid-enrolled", dir.path());
    // hybrid-enrolled has no warn: 0 either way; stale-enrollment has fails: never → 0.
    bin()
        .args(["diagnose", "--as-of", AS_OF, "--fail-on", "warn", "-d"])
        .arg(&p)
        .assert()
        .code(0);
    let p = copy_sample("stale-enrollment", dir.path());
    bin()
        .args(["diagnose", "--as-of", AS_OF, "--fail-on", "never", "-d"])
        .arg(&p)
        .assert()
        .code(0);
}

// ---------- bad input ----------

#[test]
fn empty_folder_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("nothing-here");
    std::fs::create_dir(&empty).expect("mkdir");
    bin()
        .args(["diagnose", "--as-of", AS_OF, "-d"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nothing-here"));
}

#[test]
fn missing_path_and_bad_as_of_exit_2() {
    bin()
        .args(["diagnose", "-d", "/nonexistent/device-folder"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent/device-folder"));
    let dir = tempfile::tempdir().expect("tempdir");
    let p = copy_sample("hybrid-enrolled", dir.path());
    bin()
        .args(["diagnose", "--as-of", "yesterday", "-d"])
        .arg(&p)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--as-of"));
}

#[test]
fn lone_binary_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("garbage.bin");
    std::fs::write(&f, [0u8, 159, 146, 150, 0, 1, 2, 3, 255, 254, 0, 0]).expect("write");
    let out = bin()
        .args(["diagnose", "--as-of", AS_OF, "-d"])
        .arg(&f)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Nothing usable in the only input: the run stops, naming the file.
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stderr.contains("garbage.bin"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn lone_100_mb_file_exits_2_naming_it_without_reading_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("huge-dsregcmd.txt");
    // Sparse: 100 MB on paper, nothing on disk; the loader must refuse it by size.
    std::fs::File::create(&f)
        .and_then(|h| h.set_len(100 * 1024 * 1024))
        .expect("sparse file");
    let out = bin()
        .args(["diagnose", "--as-of", AS_OF, "-d"])
        .arg(&f)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("huge-dsregcmd.txt"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(!stderr.contains("panicked"));
}

#[test]
fn unreadable_files_inside_a_device_folder_are_named_and_analysis_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = copy_sample("failed-8018002b", dir.path());
    std::fs::write(p.join("blob.bin"), [0u8, 1, 2, 3, 0, 0, 200, 201, 0, 7]).expect("write binary");
    // UTF-16LE with a BOM and an odd byte count: truncated mid-character.
    let mut truncated = utf16::encode_bom("+----+\r\n| Device State |\r\n");
    truncated.push(0x41);
    std::fs::write(p.join("half.txt"), &truncated).expect("write truncated");
    // A 100 MB sparse file: must be refused by size, not read.
    let big = std::fs::File::create(p.join("huge.log")).expect("create sparse");
    big.set_len(100 * 1024 * 1024).expect("set_len");
    drop(big);

    let started = std::time::Instant::now();
    let (code, json) = run_json(&p);
    assert!(
        started.elapsed().as_secs() < 20,
        "a huge file must not be read"
    );
    assert_eq!(code, 1, "the device's own failure, not an input error");
    assert_eq!(json["diagnoses"][0]["verdict"], "failed");
    let notes = json["notes"].to_string();
    for name in ["blob.bin", "half.txt", "huge.log"] {
        assert!(notes.contains(name), "{name} not named in notes: {notes}");
    }
}

#[test]
fn zip_with_path_traversal_entry_is_read_in_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inner = dir.path().join("work");
    std::fs::create_dir(&inner).expect("mkdir");
    let zip_path = inner.join("device.zip");
    {
        let file = std::fs::File::create(&zip_path).expect("create zip");
        let mut z = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default();
        let dsreg = std::fs::read(sample("failed-8018002b").join("dsregcmd.txt")).expect("sample");
        z.start_file("dsregcmd.txt", opts).expect("entry");
        z.write_all(&dsreg).expect("write entry");
        z.start_file("../../escaped.txt", opts).expect("entry");
        z.write_all(b"should never be written")
            .expect("write entry");
        z.finish().expect("finish zip");
    }
    let (code, json) = run_json(&zip_path);
    assert!(!dir.path().join("escaped.txt").exists());
    assert!(!inner.join("escaped.txt").exists());
    // The traversal entry is named and skipped; the rest of the zip is analysed (its dsregcmd has
    // no MDM URL: a finding, exit 1 — not an input error).
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["diagnoses"][0]["device"], "PC0077.corp.contoso.com");
    assert!(
        json["notes"].to_string().contains("escaped.txt"),
        "{}",
        json["notes"]
    );
}

// ---------- collector bundle ----------

fn fixture_bundle() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/device-bundle/PC0042-enroll-doctor.json");
    let text = std::fs::read_to_string(path).expect("bundle fixture");
    serde_json::from_str(text.trim_start_matches('\u{feff}')).expect("bundle JSON")
}

/// The fixture turned into a device that never attempted enrollment, with both logs enabled
/// and reaching back weeks: the only case where absence of events proves something.
fn quiet_bundle() -> Value {
    let mut b = fixture_bundle();
    for log in b["eventLogs"].as_array_mut().expect("eventLogs") {
        log["enabled"] = Value::Bool(true);
        log["oldestRecord"] = Value::String("2026-10-01T00:00:00Z".into());
        log["recordCount"] = Value::from(40);
        log["events"] = Value::Array(Vec::new());
    }
    for reg in b["registry"].as_array_mut().expect("registry") {
        if reg["key"] == "HKLM\\SOFTWARE\\Microsoft\\Enrollments" {
            reg["export"] = Value::String(
                "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments]\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments\\FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF]\r\n\"EnrollmentType\"=dword:0000000e\r\n\"EnrollmentState\"=dword:00000001\r\n\r\n".into(),
            );
        }
    }
    let tasks = b["scheduledTasks"]["tasks"].as_array_mut().expect("tasks");
    tasks.retain(|t| {
        t["path"]
            .as_str()
            .is_some_and(|p| p.contains("automatically enrolling in MDM"))
    });
    for t in tasks.iter_mut() {
        t["lastRunTime"] = Value::Null;
        t["lastTaskResult"] = Value::from(267_011);
    }
    b
}

fn write_bundle(dir: &Path, name: &str, bundle: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(bundle).expect("serialise"))
        .expect("write bundle");
    p
}

#[test]
fn bundle_with_enabled_logs_and_no_attempt_is_not_triggered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write_bundle(dir.path(), "quiet.json", &quiet_bundle());
    let (code, json) = run_json(&p);
    let d = &json["diagnoses"][0];
    assert_eq!(d["verdict"], "not-triggered", "{json:#}");
    assert_eq!(causes(&json), ["DEV008"]);
    assert_eq!(status(&json, "DEV008"), "fail");
    assert_eq!(status(&json, "DEV005"), "pass");
    assert_eq!(status(&json, "DEV006"), "pass");
    assert_eq!(status(&json, "DEV011"), "pass");
    assert!(location(&json, "DEV008").starts_with("quiet.json#eventLogs"));
    assert_eq!(code, 1);
}

#[test]
fn bundle_with_dsregcmd_run_as_system_never_claims_no_prt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = fixture_bundle();
    b["dsregcmd"]["isSystem"] = Value::Bool(true);
    b["dsregcmd"]["user"] = Value::String("NT AUTHORITY\\SYSTEM".into());
    let p = write_bundle(dir.path(), "system.json", &b);
    let (_, json) = run_json(&p);
    assert_eq!(status(&json, "DEV010"), "fail");
    assert_eq!(status(&json, "DEV002"), "skip");
    assert_eq!(
        finding(&json, "DEV002")["skip_reason"]["kind"],
        "no-evidence"
    );
    // Enrollment is read from the registry, so the verdict survives the bad capture.
    assert_eq!(json["diagnoses"][0]["verdict"], "enrolled");
}

#[test]
fn bundle_with_absent_mdm_policy_key_fails_dev005() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = quiet_bundle();
    for reg in b["registry"].as_array_mut().expect("registry") {
        if reg["key"]
            .as_str()
            .is_some_and(|k| k.ends_with("CurrentVersion\\MDM"))
        {
            reg["exists"] = Value::Bool(false);
            reg["export"] = Value::Null;
        }
    }
    let p = write_bundle(dir.path(), "nogpo.json", &b);
    let (_, json) = run_json(&p);
    assert_eq!(
        status(&json, "DEV005"),
        "fail",
        "{:#}",
        finding(&json, "DEV005")
    );
    assert_eq!(causes(&json).first().map(String::as_str), Some("DEV005"));
    assert_eq!(json["diagnoses"][0]["verdict"], "blocked");
}

// ---------- field formats not in the samples ----------

/// `text` with CRLF line endings, as UTF-16LE with a byte order mark.
fn utf16_bom(text: &str) -> Vec<u8> {
    utf16::encode_bom(&text.replace('\n', "\r\n"))
}

fn field_dsreg(aad: &str, domain: &str) -> String {
    let bar = "+----------------------------------------------------------------------+";
    let section = |t: &str| format!("{bar}\n| {t:<69}|\n{bar}\n\n");
    format!(
        "{}             AzureAdJoined : {aad}\n              DomainJoined : {domain}\n               Device Name : PC0500\n\n{}                  DeviceId : 0d5e2f4a-7b1c-4e8d-9a3f-6c2b1e0d9f87\n\n{}                  TenantId : 5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13\n                    MdmUrl : https://enrollment.manage.microsoft.com/enrollmentserver/discovery.svc\n\n{}           WorkplaceJoined : NO\n\n{}                AzureAdPrt : YES\n\n{}    Executing Account Name : CONTOSO\\kwong, kwong@contoso.com\n",
        section("Device State"),
        section("Device Details"),
        section("Tenant Details"),
        section("User State"),
        section("SSO State"),
        section("Diagnostic Data"),
    )
}

const FIELD_MDM_POLICY: &str = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\MDM]\n\"AutoEnrollMDM\"=dword:00000001\n\"UseAADCredentialType\"=dword:00000001\n\n";
const FIELD_NO_ENROLLMENT: &str = "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments]\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Enrollments\\Status]\n\n";

fn rendered_event(id: u32, record: u32, time: &str, message: &str) -> String {
    format!(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider' Guid='{{3DA494E4-0FE2-415C-B895-FB5265C5C83B}}'/><EventID>{id}</EventID><Level>2</Level><TimeCreated SystemTime='{time}'/><EventRecordID>{record}</EventRecordID><Channel>Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin</Channel><Computer>PC0500</Computer></System><RenderingInfo Culture='en-US'><Message>{message}</Message><Level>Error</Level></RenderingInfo></Event>"
    )
}

#[test]
fn german_schtasks_with_a_failed_task_result_is_a_failed_attempt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("PC0500");
    std::fs::create_dir(&p).expect("mkdir");
    // dsregcmd as UTF-8 with LF line ends (copied off the device through a Unix share).
    std::fs::write(p.join("dsregcmd.txt"), field_dsreg("YES", "YES")).expect("write");
    std::fs::write(p.join("mdm.reg"), utf16_bom(FIELD_MDM_POLICY)).expect("write");
    std::fs::write(p.join("enrollments.reg"), utf16_bom(FIELD_NO_ENROLLMENT)).expect("write");
    // `schtasks /query /fo csv /v` on a German Windows: translated headers and values, the
    // HRESULT as a signed decimal (-2145910764 = 0x80180014).
    let header = "\"Hostname\",\"Aufgabenname\",\"Nächste Laufzeit\",\"Status\",\"Anmeldemodus\",\"Letzte Laufzeit\",\"Letztes Ergebnis\",\"Autor\",\"Auszuführende Aufgabe\",\"Starten in\",\"Kommentar\",\"Status der geplanten Aufgabe\",\"Leerlaufzeit\",\"Energieverwaltung\",\"Als Benutzer ausführen\",\"Aufgabe löschen, falls nicht neu geplant\",\"Aufgabe beenden, falls X Stunden und X Minuten ausgeführt\",\"Zeitplan\",\"Zeitplantyp\",\"Startzeit\",\"Startdatum\",\"Enddatum\",\"Tage\",\"Monate\",\"Wiederholen: Jedes\",\"Wiederholen: Bis: Zeit\",\"Wiederholen: Bis: Dauer\",\"Wiederholen: Beenden, falls noch ausgeführt\"";
    let row = "\"PC0500\",\"\\Microsoft\\Windows\\EnterpriseMgmt\\Schedule created by enrollment client for automatically enrolling in MDM from AAD\",\"26.11.2026 09:10:00\",\"Bereit\",\"Interaktiv/Hintergrund\",\"25.11.2026 09:05:12\",\"-2145910764\",\"Microsoft Corporation\",\"%windir%\\system32\\deviceenroller.exe /c /AutoEnrollMDM\",\"N/A\",\"N/A\",\"Aktiviert\",\"Deaktiviert\",\"Im Akkubetrieb beenden\",\"SYSTEM\",\"Deaktiviert\",\"72:00:00\",\"Zeitplandaten sind in diesem Format nicht verfügbar.\",\"Einmal\",\"09:00:12\",\"25.11.2026\",\"N/A\",\"N/A\",\"N/A\",\"0 Stunde(n), 5 Minute(n)\",\"Keine\",\"24 Stunde(n), 0 Minute(n)\",\"Deaktiviert\"";
    std::fs::write(p.join("aufgaben.csv"), format!("\r\n{header}\r\n{row}\r\n")).expect("write");

    let (code, json) = run_json(&p);
    assert_eq!(code, 1);
    assert_eq!(status(&json, "DEV006"), "pass");
    assert_eq!(status(&json, "DEV007"), "fail");
    let dev007 = finding(&json, "DEV007");
    assert!(
        dev007["summary"]
            .as_str()
            .is_some_and(|s| s.contains("0x80180014")),
        "{dev007:#}"
    );
    assert_eq!(location(&json, "DEV007"), "aufgaben.csv:3");
    let d = &json["diagnoses"][0];
    assert_eq!(d["verdict"], "failed", "{json:#}");
    assert_eq!(causes(&json), ["DEV007"]);

    let (code, table) = run_table(&p);
    assert_eq!(code, 1);
    assert!(
        table.contains("failed") && table.contains("0x80180014"),
        "{table}"
    );
}

#[test]
fn rendered_xml_with_system_text_and_export_csv_are_decoded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("PC0500");
    std::fs::create_dir(&p).expect("mkdir");
    std::fs::write(
        p.join("dsregcmd.txt"),
        utf16_bom(&field_dsreg("YES", "YES")),
    )
    .expect("write");
    std::fs::write(p.join("mdm.reg"), utf16_bom(FIELD_MDM_POLICY)).expect("write");
    std::fs::write(p.join("enrollments.reg"), utf16_bom(FIELD_NO_ENROLLMENT)).expect("write");
    // `wevtutil qe ... /f:RenderedXml /e:Events`: rendered message only, the code as its
    // system text (0x80180031), not as a number.
    std::fs::write(
        p.join("dmedp.xml"),
        format!(
            "<Events>{}</Events>",
            rendered_event(
                76,
                7,
                "2026-11-25T09:00:05.000Z",
                "Auto MDM Enroll: Device Credential (0x0), Failed (Mobile Device Management (MDM) is not configured.)"
            )
        ),
    )
    .expect("write");
    let (_, json) = run_json(&p);
    assert_eq!(status(&json, "DEV007"), "fail");
    assert!(
        finding(&json, "DEV007")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("0x80180031")),
        "{:#}",
        finding(&json, "DEV007")
    );
    assert_eq!(json["diagnoses"][0]["verdict"], "failed");

    // The same failure from `Get-WinEvent | Export-Csv` (with `#TYPE`, columns reordered), then
    // a later success: the device is enrolled and DEV007 passes.
    std::fs::remove_file(p.join("dmedp.xml")).expect("rm");
    let csv = "#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n\"TimeCreated\",\"Message\",\"ProviderName\",\"Id\",\"LogName\",\"RecordId\",\"Level\"\r\n\"11/25/2026 9:00:05 AM\",\"Auto MDM Enroll: Device Credential (0x0), Failed (Unknown Win32 Error code: 0x8018002b)\",\"Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider\",\"76\",\"Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin\",\"7\",\"2\"\r\n";
    std::fs::write(p.join("events.csv"), csv).expect("write");
    let (_, json) = run_json(&p);
    assert_eq!(status(&json, "DEV007"), "fail");
    assert!(
        finding(&json, "DEV007")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("0x8018002B")),
    );
    std::fs::write(
        p.join("later.xml"),
        rendered_event(
            75,
            8,
            "2026-11-25T10:00:05.000Z",
            "Auto MDM Enroll: Device Credential (0x0), Succeeded",
        ),
    )
    .expect("write");
    // Without the Enrollments export the last event (75) is the evidence of enrollment.
    std::fs::remove_file(p.join("enrollments.reg")).expect("rm");
    let (_, json) = run_json(&p);
    assert_eq!(status(&json, "DEV007"), "pass");
    assert_eq!(json["diagnoses"][0]["verdict"], "enrolled");
}

#[test]
fn zipped_entra_joined_device_skips_the_gpo_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zip_path = dir.path().join("PC0500.zip");
    {
        let file = std::fs::File::create(&zip_path).expect("create zip");
        let mut z = zip::ZipWriter::new(file);
        let opts = zip::write::SimpleFileOptions::default();
        z.start_file("PC0500/dsregcmd.txt", opts).expect("entry");
        z.write_all(&utf16_bom(&field_dsreg("YES", "NO")))
            .expect("write entry");
        z.start_file("PC0500/enrollments.reg", opts).expect("entry");
        z.write_all(&utf16_bom(FIELD_NO_ENROLLMENT))
            .expect("write entry");
        z.finish().expect("finish zip");
    }
    let (_, json) = run_json(&zip_path);
    let d = &json["diagnoses"][0];
    assert_eq!(d["path"], "entra-join", "{json:#}");
    for id in ["DEV001", "DEV005", "DEV006", "DEV008"] {
        assert_eq!(status(&json, id), "skip", "{id}");
        assert_eq!(finding(&json, id)["skip_reason"]["kind"], "not-applicable");
    }
    assert_eq!(status(&json, "DEV002"), "pass");
    assert_eq!(status(&json, "DEV003"), "pass");
    // Not enrolled and nothing on this path retries: say what to do, not "collect more".
    assert_eq!(d["verdict"], "unknown");
    assert!(
        d["fix"]
            .as_str()
            .is_some_and(|f| f.contains("during the join")),
        "{d:#}"
    );
}

#[test]
fn bundle_with_disabled_logs_concludes_nothing_from_missing_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = quiet_bundle();
    for log in b["eventLogs"].as_array_mut().expect("eventLogs") {
        log["enabled"] = Value::Bool(false);
        log["recordCount"] = Value::from(0);
        log["oldestRecord"] = Value::Null;
    }
    let p = write_bundle(dir.path(), "logs-off.json", &b);
    let (_, json) = run_json(&p);
    // Silence from a disabled log is neither "no failure" nor "never triggered".
    for id in ["DEV007", "DEV008"] {
        assert_eq!(status(&json, id), "skip", "{:#}", finding(&json, id));
        assert_eq!(finding(&json, id)["skip_reason"]["kind"], "no-evidence");
    }
    assert_eq!(status(&json, "DEV011"), "warn");
    assert!(
        finding(&json, "DEV011")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("disabled"))
    );
    let d = &json["diagnoses"][0];
    assert_ne!(d["verdict"], "not-triggered");
    assert_ne!(d["verdict"], "failed");
}

fn os_reg(build: u32, edition: &str, display: &str) -> String {
    format!(
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion]\n\"ProductName\"=\"Windows 10 Enterprise\"\n\"EditionID\"=\"{edition}\"\n\"DisplayVersion\"=\"{display}\"\n\"CurrentBuild\"=\"{build}\"\n\"UBR\"=dword:00001a2b\n\n"
    )
}

#[test]
fn system_capture_on_windows_10_22h2_warns_with_esu_and_never_says_no_prt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("PC0501");
    std::fs::create_dir(&p).expect("mkdir");
    // `dsregcmd /status` run from a SYSTEM shell (PsExec -s, an RMM agent): no User State or
    // SSO State, Diagnostic Data names the SYSTEM account.
    let full = field_dsreg("YES", "YES");
    let system: String = {
        let start = full.find("+---").unwrap_or(0);
        let user = full
            .find("| User State")
            .and_then(|i| full[..i].rfind("+---"));
        let diag = full
            .find("| Diagnostic Data")
            .and_then(|i| full[..i].rfind("+---"));
        match (user, diag) {
            (Some(u), Some(d)) => format!(
                "{}{}",
                &full[start..u],
                full[d..].replace("CONTOSO\\kwong, kwong@contoso.com", "NT AUTHORITY\\SYSTEM")
            ),
            _ => panic!("fixture sections"),
        }
    };
    assert!(!system.contains("AzureAdPrt"));
    std::fs::write(p.join("dsregcmd.txt"), utf16_bom(&system)).expect("write");
    std::fs::write(p.join("mdm.reg"), utf16_bom(FIELD_MDM_POLICY)).expect("write");
    std::fs::write(
        p.join("os.reg"),
        utf16_bom(&os_reg(19045, "Enterprise", "22H2")),
    )
    .expect("write");
    let (_, json) = run_json(&p);
    assert_eq!(status(&json, "DEV010"), "fail");
    assert_eq!(status(&json, "DEV002"), "skip");
    assert_eq!(
        finding(&json, "DEV002")["skip_reason"]["kind"],
        "no-evidence"
    );
    assert!(!json.to_string().contains("no Primary Refresh Token"));
    assert_eq!(status(&json, "DEV004"), "warn");
    assert!(
        finding(&json, "DEV004")["remediation"]
            .as_str()
            .is_some_and(|r| r.contains("ESU")),
        "{:#}",
        finding(&json, "DEV004")
    );
    // End of servicing is a warning, never a cause.
    assert!(!causes(&json).contains(&"DEV004".to_string()));

    // LTSC 2021 (EditionID EnterpriseS, same build family) is serviced until 2027-01-12.
    std::fs::write(
        p.join("os.reg"),
        utf16_bom(&os_reg(19044, "EnterpriseS", "21H2")),
    )
    .expect("write");
    let (_, json) = run_json(&p);
    assert_eq!(status(&json, "DEV004"), "pass");
    assert!(
        finding(&json, "DEV004")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("LTSC 2021") && s.contains("2027-01-12")),
        "{:#}",
        finding(&json, "DEV004")
    );
}

#[test]
fn entra_registered_device_without_mdm_url_is_blocked_on_its_own_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("LAPTOP-HOME");
    std::fs::create_dir(&p).expect("mkdir");
    let bar = "+----------------------------------------------------------------------+";
    let section = |t: &str| format!("{bar}\n| {t:<69}|\n{bar}\n\n");
    let text = format!(
        "{}             AzureAdJoined : NO\n          EnterpriseJoined : NO\n              DomainJoined : NO\n               Device Name : LAPTOP-HOME\n\n{}                    NgcSet : NO\n           WorkplaceJoined : YES\n             WamDefaultSet : NO\n\n{}                AzureAdPrt : NO\n\n{}         WorkplaceDeviceId : 6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\n         WorkplaceTenantId : 5b7c1e2a-91d4-4c3e-8a6f-0d2e4b9c7a13\n       WorkplaceTenantName : Contoso\n           WorkplaceMdmUrl : \n      WorkplaceSettingsUrl : \n\n{}    Executing Account Name : LAPTOP-HOME\\sam, sam@contoso.com\n",
        section("Device State"),
        section("User State"),
        section("SSO State"),
        section("Work Account 1"),
        section("Diagnostic Data"),
    );
    std::fs::write(p.join("dsregcmd.txt"), utf16_bom(&text)).expect("write");
    let (code, json) = run_json(&p);
    assert_eq!(code, 1);
    let d = &json["diagnoses"][0];
    assert_eq!(d["path"], "entra-registered");
    assert_eq!(d["verdict"], "blocked");
    assert_eq!(causes(&json), ["DEV003"]);
    assert!(location(&json, "DEV003").starts_with("dsregcmd.txt:"));
    // PRT NO is normal on a registered device and the GPO checks do not apply.
    for id in ["DEV001", "DEV002", "DEV005", "DEV006", "DEV008"] {
        assert_eq!(
            finding(&json, id)["skip_reason"]["kind"],
            "not-applicable",
            "{id}"
        );
    }
}

// ---------- unseen device artifacts (tests/fixtures/devices/<case>/) ----------

fn fixture(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/devices")
        .join(case)
}

fn notes(json: &Value) -> Vec<String> {
    json["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn evidence_details(json: &Value, check: &str) -> Vec<String> {
    finding(json, check)["evidence"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["detail"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn mdmdiagnosticstool_zip_is_diagnosed_from_its_registry_dump_and_xml() {
    let (code, json) = run_json(&fixture("mdmdiag-zip").join("MDMDiagReport.zip"));
    assert_eq!(code, 0, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["verdict"], "enrolled");
    assert_eq!(d["path"], "gpo-hybrid");
    assert!(causes(&json).is_empty());
    assert_eq!(status(&json, "DEV005"), "pass");
    assert!(location(&json, "DEV005").starts_with("MdmDiagReport_RegistryDump.reg:"));
    assert!(location(&json, "DEV008").starts_with("MdmDiagReport_RegistryDump.reg:"));
    let ev = evidence_details(&json, "DEV008");
    assert!(
        ev.iter().any(|e| e.contains("MDMDiagReport.xml")
            && e.contains("Microsoft Intune")
            && e.contains("last successful server contact 2026-11-26 08:14:55 UTC")),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.contains("OMADM") && e.contains("2026-11-26 08:14:55")),
        "{ev:?}"
    );
    let n = notes(&json);
    // The concatenated dump (header repeated between blocks) is read whole.
    assert!(
        !n.iter()
            .any(|s| s.contains("input MdmDiagReport_RegistryDump.reg")),
        "{n:?}"
    );
    assert!(
        !n.iter().any(|s| s.contains("input MDMDiagReport.xml")),
        "{n:?}"
    );
    let evtx = n
        .iter()
        .find(|s| s.contains(".evtx was not used"))
        .unwrap_or_else(|| panic!("no evtx note: {n:?}"));
    // The zip's .evtx is a log's file header and 8 bytes: read, and named as cut short.
    assert!(
        evtx.contains("truncated: the file ends 8 bytes into chunk 1"),
        "{evtx}"
    );
    // The HTML summary (beside its XML), the tool's metadata and log and its ETW traces are
    // listed as inputs without a note each.
    for quiet in [
        "MDMDiagHtmlReport.html",
        "MdmDiagLogMetadata.json",
        "MdmLogCollectorFootPrint.txt",
        ".etl",
    ] {
        assert!(!n.iter().any(|s| s.contains(quiet)), "{quiet}: {n:?}");
    }
}

#[test]
fn event_viewer_csv_failure_then_success_is_enrolled() {
    let (code, json) = run_json(&fixture("eventviewer-csv-recovered"));
    assert_eq!(code, 0, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["device"], "PC0311.corp.contoso.com");
    assert_eq!(d["verdict"], "enrolled");
    assert_eq!(d["path"], "gpo-hybrid");
    assert!(causes(&json).is_empty());
    assert_eq!(status(&json, "DEV007"), "pass");
    let summary = finding(&json, "DEV007")["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("failed 1 time(s) but then succeeded")
            && summary.contains("2026-11-20 10:40:12"),
        "{summary}"
    );
    assert!(location(&json, "DEV007").starts_with("dmedp-admin.csv:"));
}

#[test]
fn wevtutil_text_export_with_repeated_mfa_failures_counts_them() {
    let (code, json) = run_json(&fixture("wevtutil-text-mfa"));
    assert_eq!(code, 1, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["device"], "WS-2231.ad.fabrikam.com");
    assert_eq!(d["verdict"], "failed");
    assert_eq!(d["path"], "gpo-hybrid");
    assert_eq!(causes(&json).first().map(String::as_str), Some("DEV007"));
    let summary = finding(&json, "DEV007")["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("failed 6 time(s)")
            && summary.contains("2026-11-20 09:27:07")
            && summary.contains("0x8018002A"),
        "{summary}"
    );
    let ev = evidence_details(&json, "DEV007");
    assert!(
        ev.iter()
            .any(|e| e.contains("first of 6 events 76 at 2026-11-20 09:02:07 UTC")),
        "{ev:?}"
    );
    assert!(location(&json, "DEV007").starts_with("dmedp-admin.txt:"));
    assert_eq!(status(&json, "DEV008"), "pass");
}

#[test]
fn ps51_json_co_managed_device_credential_is_enrolled() {
    let (code, json) = run_json(&fixture("ps51-json-comanaged"));
    assert_eq!(code, 0, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["verdict"], "enrolled");
    assert_eq!(d["path"], "co-management");
    assert!(causes(&json).is_empty());
    // A SYSTEM capture is what ConfigMgr collects, and all the device-credential path needs.
    assert_eq!(status(&json, "DEV010"), "pass");
    let ev = evidence_details(&json, "DEV007");
    assert!(
        ev.iter()
            .any(|e| e.contains("event 75") && e.contains("2026-11-25 10:00:21 UTC")),
        "{ev:?}"
    );
    assert!(
        finding(&json, "DEV007")["evidence"][1]["location"]
            .as_str()
            .is_some_and(|l| l == "dmedp-events.json record 8841")
    );
}

#[test]
fn ps7_json_entra_joined_autopilot_device_fails_on_its_own_path() {
    let (code, json) = run_json(&fixture("ps7-json-entra-autopilot"));
    assert_eq!(code, 1, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["device"], "DESKTOP-7QK2M1P");
    assert_eq!(d["path"], "entra-join");
    assert_eq!(d["verdict"], "failed");
    assert_eq!(causes(&json).first().map(String::as_str), Some("DEV007"));
    let summary = finding(&json, "DEV007")["summary"].as_str().unwrap_or("");
    // +01:00 offset read as such: 10:00 local is 09:00 UTC.
    assert!(
        summary.contains("0x80180014") && summary.contains("2026-11-20 09:00:00 UTC"),
        "{summary}"
    );
    let ev = evidence_details(&json, "DEV007");
    assert!(
        ev.iter()
            .any(|e| e.contains("event 52") && e.contains("SDM One Time Limit Check")),
        "{ev:?}"
    );
    for id in ["DEV001", "DEV005", "DEV006", "DEV008"] {
        assert_eq!(
            finding(&json, id)["skip_reason"]["kind"],
            "not-applicable",
            "{id}"
        );
    }
    // Never told it is "not hybrid joined": it is not meant to be.
    let text = json.to_string().to_ascii_lowercase();
    assert!(
        !text.contains("not hybrid") && !text.contains("not entra hybrid"),
        "{json:#}"
    );
    assert!(
        finding(&json, "DEV004")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("22H2") && s.contains("Home/Pro")),
    );
}

#[test]
fn two_tenant_enrollments_name_the_stale_one_and_the_incomplete_key() {
    let (code, json) = run_json(&fixture("stale-two-tenants"));
    assert_eq!(code, 1, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["path"], "gpo-hybrid");
    assert_eq!(d["verdict"], "enrolled");
    assert_eq!(status(&json, "DEV009"), "fail");
    let f = finding(&json, "DEV009");
    let summary = f["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("3A4B5C6D-7E8F-4091-A2B3-C4D5E6F70819")
            && summary.contains("0b6c9d1e-4f3a-4c2b-9e8d-7a6f5e4d3c2b"),
        "{summary}"
    );
    let ev = evidence_details(&json, "DEV009");
    assert!(
        ev.iter()
            .any(|e| e.contains("6F5E4D3C-2B1A-4099-8877-665544332211")
                && e.contains("EnrollmentState 0")),
        "{ev:?}"
    );
    let fix = f["remediation"].as_str().unwrap_or("");
    assert!(
        fix.contains("reg delete \"HKLM\\SOFTWARE\\Microsoft\\Enrollments\\3A4B5C6D")
            && fix.contains("Keep HKLM\\SOFTWARE\\Microsoft\\Enrollments\\E1D2C3B4")
            && !fix.contains("reg delete \"HKLM\\SOFTWARE\\Microsoft\\Enrollments\\6F5E4D3C"),
        "{fix}"
    );
}

#[test]
fn missing_prt_carries_the_acquire_diagnostics_reason() {
    let (code, json) = run_json(&fixture("prt-missing-diagnostics"));
    assert_eq!(code, 1, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["path"], "gpo-hybrid");
    assert_eq!(d["verdict"], "blocked");
    assert_eq!(causes(&json), ["DEV002"]);
    let ev = evidence_details(&json, "DEV002");
    assert!(
        ev.iter()
            .any(|e| e.contains("0xc000006d") && e.contains("STATUS_LOGON_FAILURE")),
        "{ev:?}"
    );
    assert!(ev.iter().any(|e| e.contains("AADSTS50126")), "{ev:?}");
    assert!(location(&json, "DEV002").starts_with("dsregcmd.txt:"));
}

#[test]
fn older_dsregcmd_with_lf_and_trailing_spaces_is_read() {
    let (code, json) = run_json(&fixture("old-dsregcmd-lf"));
    assert_eq!(code, 0, "{json:#}");
    let d = &json["diagnoses"][0];
    // No `Device Name` field on older builds: the folder names the device.
    assert_eq!(d["device"], "old-dsregcmd-lf");
    assert_eq!(d["path"], "gpo-hybrid");
    assert_eq!(d["verdict"], "enrolled");
    assert_eq!(status(&json, "DEV001"), "pass");
    assert_eq!(status(&json, "DEV002"), "pass");
    assert_eq!(status(&json, "DEV010"), "pass");
    let ev = evidence_details(&json, "DEV003");
    assert!(
        ev.iter().any(|e| e.ends_with("discovery.svc")),
        "trailing spaces trimmed: {ev:?}"
    );
    assert!(
        !notes(&json).iter().any(|n| n.contains("dsregcmd")),
        "{:?}",
        notes(&json)
    );
}

#[test]
fn reg_query_output_with_another_mdm_leftover_is_failed_on_the_stale_key() {
    let (code, json) = run_json(&fixture("reg-query-other-mdm"));
    assert_eq!(code, 1, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["path"], "gpo-hybrid");
    assert_eq!(d["verdict"], "failed");
    assert_eq!(causes(&json).first().map(String::as_str), Some("DEV009"));
    // `reg query` lines are read like a .reg export: policy, enrollment keys and OS.
    assert_eq!(status(&json, "DEV005"), "pass");
    assert!(location(&json, "DEV005").starts_with("reg-query.txt:"));
    assert!(
        finding(&json, "DEV004")["summary"]
            .as_str()
            .is_some_and(|s| s.contains("25H2")),
    );
    let summary = finding(&json, "DEV009")["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("B7C8D9E0-F1A2-4B3C-9D4E-5F6071829304") && summary.contains("AirWatchMDM"),
        "{summary}"
    );
    assert_eq!(notes(&json).len(), 1, "{:?}", notes(&json));
}

#[test]
fn german_event_viewer_csv_in_ansi_is_read_by_position() {
    let (code, json) = run_json(&fixture("eventviewer-csv-german"));
    assert_eq!(code, 1, "{json:#}");
    let d = &json["diagnoses"][0];
    assert_eq!(d["path"], "gpo-hybrid");
    assert_eq!(d["verdict"], "failed");
    assert_eq!(causes(&json).first().map(String::as_str), Some("DEV007"));
    let summary = finding(&json, "DEV007")["summary"].as_str().unwrap_or("");
    assert!(
        summary.contains("failed 2 time(s)")
            && summary.contains("2026-11-26 08:25:11")
            && summary.contains("0x80180018"),
        "{summary}"
    );
    let ev = evidence_details(&json, "DEV007");
    // Windows-1252 decoded: the umlaut survives.
    assert!(
        ev.iter().any(|e| e.contains("Geräteanmeldeinformationen")),
        "{ev:?}"
    );
    assert!(location(&json, "DEV007").starts_with("dmedp-admin.csv:"));
    assert_eq!(notes(&json).len(), 1, "{:?}", notes(&json));
}

#[test]
fn fixture_corpus_as_a_fleet_gives_one_diagnosis_per_case() {
    let (code, json) =
        run_json(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/devices"));
    assert_eq!(code, 1);
    let cases = std::fs::read_dir(fixture(""))
        .expect("fixtures")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .count();
    let diagnoses = json["diagnoses"].as_array().expect("diagnoses");
    assert_eq!(diagnoses.len(), cases);
    // The zip inside its case folder is read with the folder.
    let zip = diagnoses
        .iter()
        .find(|d| d["device"] == "mdmdiag-zip")
        .expect("mdmdiag-zip device");
    assert_eq!(zip["verdict"], "enrolled");
    // The README beside the case folders is named, not read as a device.
    assert!(
        notes(&json)
            .iter()
            .any(|n| n.contains("README.md was not used")),
        "{:?}",
        notes(&json)
    );
}
