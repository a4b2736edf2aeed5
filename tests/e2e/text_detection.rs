//! Text detection that survives real files: the same evidence written in another encoding, with
//! other line ends or with NUL padding gives the same report and the same verdict.
//!
//! The CLI tests run `diagnose` on a sample folder rewritten one way (NUL padding, the ANSI code
//! page with lone CR line ends); the property test rewrites every bundled sample folder in every
//! combination in-process (`report_from_memory`, then the device-only evaluation) and compares
//! the parsed report and the diagnosis with the original's.

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use enroll_doctor::checks::device::evaluate;
use enroll_doctor::device::report::DeviceReport;
use enroll_doctor::device::report_from_memory;
use enroll_doctor::device::text::decode;
use proptest::prelude::*;
use serde_json::Value;

use super::diagnose::{copy_sample, run_json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every bundled device folder: the samples, the test fixtures and the collector bundle.
fn sample_folders() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for parent in [
        "mocks/devices",
        "tests/fixtures/devices",
        "tests/fixtures/correlate",
    ] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join(parent))
            .expect("sample parent folder")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        out.extend(dirs);
    }
    // The collector's bundle: one JSON file holding a device's evidence.
    out.push(root().join("tests/fixtures/device-bundle"));
    assert!(out.len() >= 20, "sample folders found: {}", out.len());
    out
}

/// The files of a folder as `(name, bytes)`, without hidden files.
fn read_folder(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("sample folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).expect("read sample file"))
        })
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    files.sort();
    files
}

#[derive(Debug, Clone, Copy)]
enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16LeBom,
    Utf16Be,
    Utf16BeBom,
    Windows1252,
}

const ENCODINGS: [Encoding; 7] = [
    Encoding::Utf8,
    Encoding::Utf8Bom,
    Encoding::Utf16Le,
    Encoding::Utf16LeBom,
    Encoding::Utf16Be,
    Encoding::Utf16BeBom,
    Encoding::Windows1252,
];

const LINE_ENDS: [&str; 3] = ["\n", "\r\n", "\r"];

/// The Windows-1252 bytes of `s`, when every character has one.
fn windows_1252(s: &str) -> Option<Vec<u8>> {
    const HIGH: &str = "€\u{81}‚ƒ„…†‡ˆ‰Š‹Œ\u{8d}Ž\u{8f}\u{90}‘’“”•–—˜™š›œ\u{9d}žŸ";
    s.chars()
        .map(|c| match u32::from(c) {
            n @ (0..=0x7F | 0xA0..=0xFF) => u8::try_from(n).ok(),
            _ => HIGH
                .chars()
                .position(|h| h == c)
                .and_then(|i| u8::try_from(0x80 + i).ok()),
        })
        .collect()
}

/// `text` (lines separated by `\n`) written with `encoding`, `eol` and `pad` trailing NULs;
/// `None` when the encoding cannot hold the text.
fn write(text: &str, encoding: Encoding, eol: &str, pad: usize) -> Option<Vec<u8>> {
    let t = text.replace('\n', eol);
    let le = || t.encode_utf16().flat_map(u16::to_le_bytes);
    let be = || t.encode_utf16().flat_map(u16::to_be_bytes);
    let mut bytes: Vec<u8> = match encoding {
        Encoding::Utf8 => t.as_bytes().to_vec(),
        Encoding::Utf8Bom => [&[0xEF, 0xBB, 0xBF], t.as_bytes()].concat(),
        Encoding::Utf16Le => le().collect(),
        Encoding::Utf16LeBom => [0xFF, 0xFE].into_iter().chain(le()).collect(),
        Encoding::Utf16Be => be().collect(),
        Encoding::Utf16BeBom => [0xFE, 0xFF].into_iter().chain(be()).collect(),
        Encoding::Windows1252 => windows_1252(&t)?,
    };
    bytes.extend(std::iter::repeat_n(0u8, pad));
    Some(bytes)
}

/// One folder rewritten: each text file in its own encoding and line ends, with padding. Files
/// that are not text (a zip) and empty files (padding would make them a file of NULs) stay.
fn rewrite(
    files: &[(String, Vec<u8>)],
    choice: &[(usize, usize, usize)],
) -> Vec<(String, Vec<u8>)> {
    files
        .iter()
        .enumerate()
        .map(|(i, (name, bytes))| {
            let (enc, eol, pad) = choice[i % choice.len()];
            let rewritten = decode(bytes)
                .ok()
                .filter(|_| !bytes.is_empty())
                .and_then(|d| {
                    write(&d.text, ENCODINGS[enc], LINE_ENDS[eol], pad)
                        .or_else(|| write(&d.text, Encoding::Utf16LeBom, LINE_ENDS[eol], pad))
                });
            (name.clone(), rewritten.unwrap_or_else(|| bytes.clone()))
        })
        .collect()
}

/// What must not change: the parsed report (without each file's encoding and size, which do)
/// and the device-only diagnosis with its findings.
fn outcome(files: &[(String, Vec<u8>)]) -> (Value, Value, Value) {
    let mut report: DeviceReport = report_from_memory("device", files);
    for input in &mut report.inputs {
        input.encoding = None;
        input.bytes = 0;
    }
    let as_of = Utc
        .with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
        .single()
        .expect("valid date");
    let (analysis, diagnosis) = evaluate(&report, as_of);
    let json = |v: Result<Value, serde_json::Error>| v.expect("serialisable");
    (
        json(serde_json::to_value(&report)),
        json(serde_json::to_value(&diagnosis)),
        json(serde_json::to_value(&analysis.findings)),
    )
}

fn assert_same(folder: &Path, files: &[(String, Vec<u8>)], choice: &[(usize, usize, usize)]) {
    let (report, diagnosis, findings) = outcome(files);
    let (r, d, f) = outcome(&rewrite(files, choice));
    let at = format!("{} rewritten as {choice:?}", folder.display());
    assert_eq!(d, diagnosis, "{at}: diagnosis changed");
    assert_eq!(f, findings, "{at}: findings changed");
    assert_eq!(r, report, "{at}: parsed report changed");
}

/// Every folder in every uniform combination (all files in one encoding and line end).
#[test]
fn every_sample_in_every_encoding_keeps_its_report_and_verdict() {
    for folder in sample_folders() {
        let files = read_folder(&folder);
        for enc in 0..ENCODINGS.len() {
            for eol in 0..LINE_ENDS.len() {
                let pad = [0, 1, 2, 3, 512][(enc + eol) % 5];
                assert_same(&folder, &files, &[(enc, eol, pad)]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Mixed folders: each file in its own encoding, line ends and padding.
    #[test]
    fn mixed_encodings_keep_the_report_and_verdict(
        folder in 0usize..64,
        choice in proptest::collection::vec((0usize..7, 0usize..3, prop_oneof![Just(0usize), 1usize..8, Just(4096)]), 1..10),
    ) {
        let folders = sample_folders();
        let folder = &folders[folder % folders.len()];
        assert_same(folder, &read_folder(folder), &choice);
    }
}

fn verdict(json: &Value) -> &str {
    json["diagnoses"][0]["verdict"].as_str().unwrap_or("")
}

/// The failed-8018002b sample as shipped (its verdict and exit code), and a second copy to
/// rewrite.
fn failed_sample(dir: &Path, copy: &str) -> (i32, Value, PathBuf) {
    let (code, json) = run_json(&copy_sample("failed-8018002b", &dir.join("clean")));
    assert_eq!(verdict(&json), "failed", "{json:#}");
    (code, json, copy_sample("failed-8018002b", &dir.join(copy)))
}

#[test]
fn nul_padded_artifacts_keep_the_failed_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Tools pad exports to a block size: odd and even counts, UTF-8 and UTF-16 files alike.
    for pad in [1usize, 3, 512] {
        let (clean_code, clean_json, padded) = failed_sample(dir.path(), &format!("pad{pad}"));
        for (name, mut bytes) in read_folder(&padded) {
            bytes.extend(std::iter::repeat_n(0u8, pad));
            std::fs::write(padded.join(name), bytes).expect("pad file");
        }
        let (code, json) = run_json(&padded);
        assert_eq!(verdict(&json), "failed", "{pad} NULs: {json:#}");
        assert_eq!(code, clean_code, "{pad} NULs: exit code");
        assert!(
            !json.to_string().contains("binary file"),
            "{pad} NULs: a padded file was taken for binary: {json:#}"
        );
        assert_eq!(json["diagnoses"], clean_json["diagnoses"], "{pad} NULs");
    }
}

#[test]
fn ansi_text_with_lone_cr_line_ends_keeps_its_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (clean_code, clean_json, ansi) = failed_sample(dir.path(), "ansi");
    for (name, bytes) in read_folder(&ansi) {
        let text = decode(&bytes).expect("sample decodes").text;
        // A byte above 0x7F that is not UTF-8 makes it the ANSI code page, not UTF-8.
        let marked = if name.ends_with(".xml") {
            format!("{text}<!-- exportiert auf Gerät WS-2231 -->\n")
        } else if name.ends_with(".reg") {
            format!("{text}; exportiert auf Gerät WS-2231\n")
        } else {
            text
        };
        let bytes = write(&marked, Encoding::Windows1252, "\r", 0).expect("cp1252 text");
        if marked.contains('ä') {
            assert_eq!(
                decode(&bytes).map(|d| d.encoding),
                Ok("windows-1252"),
                "{name}"
            );
        }
        std::fs::write(ansi.join(&name), bytes).expect("write cp1252 file");
    }
    let (code, json) = run_json(&ansi);
    assert_eq!(verdict(&json), "failed", "{json:#}");
    assert_eq!(code, clean_code, "exit code");
    assert!(!json.to_string().contains("binary file"), "{json:#}");
    assert_eq!(json["diagnoses"], clean_json["diagnoses"]);
}
