//! `diagnose --device-report` on `.evtx` logs: a loose file, a device folder of them, a zip
//! holding them — each gives the verdict, path, causes and check results the `wevtutil` XML
//! export of the same scenario gives. The `.evtx` files are written at test time from the
//! samples' XML exports (`tests/support/evtx_writer.rs`), so both forms stay in step. Damaged
//! logs are notes naming the file; the device's other evidence still counts.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::common::bin;
use crate::evtx_samples::{self, evtx_of_xml, write_folder};
use crate::evtx_writer as w;

const AS_OF: &str = "2026-11-26";

/// The sample scenarios that hold event exports.
const SCENARIOS: [&str; 4] = [
    "failed-8018002b",
    "hybrid-enrolled",
    "demo-blocked-restriction",
    "never-triggered",
];

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices")
        .join(name)
}

/// The files of sample NAME; with `evtx`, its XML event exports as `.evtx`.
fn files_of(name: &str, evtx: bool) -> Vec<(String, Vec<u8>)> {
    evtx_samples::files_of(&sample(name), evtx)
}

fn write_zip(path: &Path, files: &[(String, Vec<u8>)]) -> PathBuf {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in files {
        z.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
    path.to_path_buf()
}

struct Run {
    code: i32,
    json: Value,
    stderr: String,
}

fn run(path: &Path) -> Run {
    let out = bin()
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
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        json,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What the two forms must agree on: exit code, each device's verdict, path and causes, and
/// every finding's check and status.
fn outcome(r: &Run) -> Value {
    let diagnoses: Vec<Value> = r.json["diagnoses"]
        .as_array()
        .expect("diagnoses")
        .iter()
        .map(|d| serde_json::json!([d["verdict"], d["path"], d["causes"]]))
        .collect();
    let findings: Vec<Value> = r.json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| serde_json::json!([f["check"], f["status"]]))
        .collect();
    serde_json::json!({ "code": r.code, "diagnoses": diagnoses, "findings": findings })
}

fn notes(r: &Run) -> Vec<String> {
    r.json["notes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every evidence location of the run's findings.
fn locations(r: &Run) -> Vec<String> {
    r.json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["evidence"].as_array().into_iter().flatten())
        .filter_map(|e| e["location"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_loose_evtx_file_gives_the_verdict_of_its_xml_export() {
    let dir = tempfile::tempdir().unwrap();
    let xml = sample("failed-8018002b").join("dmedp-admin.xml");
    let evtx = dir.path().join("dmedp-admin.evtx");
    std::fs::write(&evtx, evtx_of_xml(&xml)).unwrap();
    let (from_xml, from_evtx) = (run(&xml), run(&evtx));
    assert_eq!(outcome(&from_evtx), outcome(&from_xml));
    assert_eq!(from_evtx.json["diagnoses"][0]["verdict"], "failed");
    // The evidence points at the record of the log, as an XML export's points at its line.
    let at = locations(&from_evtx);
    assert!(
        at.iter().any(|l| l == "dmedp-admin.evtx record 3305"),
        "{at:?}"
    );
    assert!(
        notes(&from_evtx)
            .iter()
            .all(|n| !n.contains("was not used")),
        "{:?}",
        notes(&from_evtx)
    );
}

#[test]
fn a_device_folder_of_evtx_logs_gives_the_verdicts_of_the_xml_exports() {
    let dir = tempfile::tempdir().unwrap();
    for name in SCENARIOS {
        let xml = write_folder(&dir.path().join("xml").join(name), &files_of(name, false));
        let evtx = write_folder(&dir.path().join("evtx").join(name), &files_of(name, true));
        let (a, b) = (run(&xml), run(&evtx));
        assert_eq!(outcome(&b), outcome(&a), "{name}");
        assert!(
            b.stderr.is_empty() || !b.stderr.contains("panicked"),
            "{name}: {}",
            b.stderr
        );
    }
    // A folder holding nothing but the .evtx logs is one device too.
    let only = |evtx: bool| -> Vec<(String, Vec<u8>)> {
        files_of("failed-8018002b", evtx)
            .into_iter()
            .filter(|(n, _)| n.ends_with(".xml") || n.ends_with(".evtx"))
            .collect()
    };
    let xml = write_folder(&dir.path().join("only-xml"), &only(false));
    let evtx = write_folder(&dir.path().join("only-evtx"), &only(true));
    let (a, b) = (run(&xml), run(&evtx));
    assert_eq!(b.json["diagnoses"].as_array().map(Vec::len), Some(1));
    assert_eq!(outcome(&b), outcome(&a));
}

#[test]
fn a_zip_with_evtx_logs_gives_the_verdict_of_the_zip_with_xml_exports() {
    let dir = tempfile::tempdir().unwrap();
    let name = "failed-8018002b";
    let xml = write_zip(&dir.path().join("xml.zip"), &files_of(name, false));
    let evtx = write_zip(&dir.path().join("evtx.zip"), &files_of(name, true));
    let (a, b) = (run(&xml), run(&evtx));
    assert_eq!(outcome(&b), outcome(&a));
    assert_eq!(b.json["diagnoses"][0]["verdict"], "failed");
    assert!(
        locations(&b)
            .iter()
            .any(|l| l.ends_with(".evtx record 3305")),
        "{:?}",
        locations(&b)
    );
}

/// Sets the CRC32s of the file header and of each chunk's header after an edit.
fn fix_header_crcs(bytes: &mut [u8]) {
    let crc = w::crc32(&[&bytes[..120]]);
    bytes[124..128].copy_from_slice(&crc.to_le_bytes());
    let c = &mut bytes[4096..4096 + 65536];
    let crc = w::crc32(&[&c[..120], &c[128..512]]);
    c[124..128].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn damaged_evtx_logs_are_notes_naming_them_and_the_other_evidence_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    let name = "failed-8018002b";
    let good = files_of(name, true);
    let intact = run(&write_folder(&dir.path().join("intact"), &good));
    let ts = good
        .iter()
        .find(|(n, _)| n == "taskscheduler.evtx")
        .map(|(_, b)| b.clone())
        .expect("taskscheduler.evtx");
    let mut corrupt = ts.clone();
    corrupt[4096 + 600] ^= 0xFF;
    let mut random = b"ElfFile\0".to_vec();
    random.extend((0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let mut huge = ts.clone();
    huge[42..44].copy_from_slice(&u16::MAX.to_le_bytes());
    huge[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
    huge[4096 + 32..4096 + 40].copy_from_slice(&u64::MAX.to_le_bytes());
    fix_header_crcs(&mut huge);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "truncated",
            ts[..2000].to_vec(),
            "input taskscheduler.evtx was not used: truncated EVTX event log: 2,000 of its 4,096-byte file header, no records",
        ),
        (
            "corrupt",
            corrupt,
            "input taskscheduler.evtx was not used: 1 damaged chunk(s) of 64 KiB skipped, first: chunk 1: its CRC32 does not match its content (corrupt): skipped",
        ),
        (
            "random",
            random,
            "input taskscheduler.evtx was not used: starts with the EVTX signature but is not an EVTX event log",
        ),
        (
            "huge",
            huge,
            "input taskscheduler.evtx: truncated: the header lists 65535 chunks, the file holds 1",
        ),
    ];
    for (case, bytes, note) in cases {
        let mut files = good.clone();
        for (n, b) in &mut files {
            if n == "taskscheduler.evtx" {
                *b = bytes.clone();
            }
        }
        let r = run(&write_folder(&dir.path().join(case), &files));
        assert!(
            r.code == 0 || r.code == 1,
            "{case}: exit {}: {}",
            r.code,
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{case}: {}", r.stderr);
        let n = notes(&r);
        assert!(n.iter().any(|s| s.contains(note)), "{case}: {n:?}");
        // The DMEDP log, the registry and dsregcmd still decide the verdict: failed, 0x8018002b.
        let d = &r.json["diagnoses"][0];
        assert_eq!(
            d["verdict"], intact.json["diagnoses"][0]["verdict"],
            "{case}"
        );
        assert_eq!(
            d["causes"][0], intact.json["diagnoses"][0]["causes"][0],
            "{case}"
        );
        if case == "huge" {
            // Its records were read all the same.
            assert_eq!(outcome(&r), outcome(&intact), "{case}");
        }
    }
}
