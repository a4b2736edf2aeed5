//! Output hygiene (issue 11, item 5): terminal controls in a device file's values and in file
//! names reach no terminal, table or Markdown raw; they are shown escaped (`\u{1b}`), and the
//! JSON keeps the exact value.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::common::bin;

const AS_OF: &str = "2026-11-26";

/// A device name with a screen clear (CSI 2J), an OSC 8 hyperlink, BELs and a C1 CSI (U+009B).
/// No dot: the label is the name up to its first dot.
const NAME: &str = "PC\u{1b}[2J\u{1b}]8;;http://evil/\u{7}link\u{1b}]8;;\u{7}\u{7}\u{9b}31m";
const NAME_SHOWN: &str = r"PC\u{1b}[2J\u{1b}]8;;http://evil/\u{7}link\u{1b}]8;;\u{7}\u{7}\u{9b}31m";
/// A file the loader does not recognise (a note names it) and one it reads (a location names
/// it), both with terminal controls in their names.
const ODD_FILE: &str = "notes\u{1b}[31m.txt";
const ODD_FILE_SHOWN: &str = r"notes\u{1b}[31m.txt";
const OS_FILE: &str = "os\u{1b}]0;title\u{7}.reg";
const OS_FILE_SHOWN: &str = r"os\u{1b}]0;title\u{7}.reg";

fn sample(file: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mocks/devices/failed-8018002b")
        .join(file);
    std::fs::read(p).expect("sample file")
}

/// A device folder generated from the sample's dsregcmd output with [`NAME`] as its device
/// name, plus the hostile file names.
fn hostile_device(dir: &Path) -> PathBuf {
    let dev = dir.join("dev");
    std::fs::create_dir_all(&dev).expect("device folder");
    let dsreg = String::from_utf8(sample("dsregcmd.txt")).expect("UTF-8 sample");
    assert!(dsreg.contains("PC0077.corp.contoso.com"));
    let dsreg = dsreg.replace("PC0077.corp.contoso.com", &format!("{NAME}.corp"));
    std::fs::write(dev.join("dsregcmd.txt"), dsreg).expect("write dsregcmd");
    std::fs::write(dev.join(ODD_FILE), "hello\r\nworld\r\n").expect("write odd file");
    std::fs::write(dev.join(OS_FILE), sample("os.reg")).expect("write os.reg");
    dev
}

fn diagnose(dev: &Path, format: &str) -> (i32, Vec<u8>, String) {
    let out = bin()
        .env("COLUMNS", "100")
        .args(["diagnose", "--as-of", AS_OF, "-f", format, "-d"])
        .arg(dev)
        .output()
        .expect("run enroll-doctor");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// No ESC, no BEL, no C1 CSI (U+009B, `C2 9B` in UTF-8) anywhere in `bytes`.
fn assert_no_terminal_controls(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(!bytes.contains(&0x1b), "{what}: ESC in {text}");
    assert!(!bytes.contains(&0x07), "{what}: BEL in {text}");
    assert!(
        !bytes.windows(2).any(|w| w == [0xc2, 0x9b]),
        "{what}: C1 CSI in {text}"
    );
}

#[cfg(unix)]
#[test]
fn a_hostile_device_name_and_file_names_are_shown_escaped_in_table_and_markdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dev = hostile_device(dir.path());
    for format in ["table", "markdown"] {
        let (code, out, err) = diagnose(&dev, format);
        // MdmUrl is empty in the sample: the device is blocked, which fails a check.
        assert_eq!(code, 1, "{format}: {err}");
        assert_no_terminal_controls(format, &out);
        assert_no_terminal_controls(format, err.as_bytes());
        let text = String::from_utf8_lossy(&out);
        for shown in [NAME_SHOWN, ODD_FILE_SHOWN, OS_FILE_SHOWN] {
            assert!(text.contains(shown), "{format}: {shown} in {text}");
        }
        if format == "table" {
            assert!(
                text.contains(&format!("Device {NAME_SHOWN}.corp: blocked")),
                "{text}"
            );
            // Escaped before the layout measured it: the table keeps COLUMNS.
            for line in text.lines() {
                assert!(line.chars().count() <= 100, "too wide: {line}\n{text}");
            }
        } else {
            assert!(
                text.contains(&format!("## Diagnosis: {NAME_SHOWN}.corp\n")),
                "{text}"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn json_and_jsonl_keep_the_hostile_values_exactly_and_csv_escapes_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dev = hostile_device(dir.path());

    let (code, out, err) = diagnose(&dev, "json");
    assert_eq!(code, 1, "{err}");
    // serde_json escapes ESC and BEL; U+009B is escaped by the report as well.
    assert_no_terminal_controls("json", &out);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains(r"PC\u001b[2J\u001b]8;;http://evil/\u0007link"),
        "{text}"
    );
    assert!(text.contains(r"\u009b31m"), "{text}");
    let json: Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(json["diagnoses"][0]["device"], format!("{NAME}.corp"));
    let notes = json["notes"].as_array().cloned().unwrap_or_default();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains(ODD_FILE))),
        "{notes:?}"
    );

    let (code, out, err) = diagnose(&dev, "jsonl");
    assert_eq!(code, 1, "{err}");
    assert_no_terminal_controls("jsonl", &out);
    let subject = String::from_utf8_lossy(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .find(|v| v["type"] == "subject" && v["kind"] == "device")
        .expect("the device's line");
    assert_eq!(subject["diagnosis"]["device"], format!("{NAME}.corp"));

    let (code, out, err) = diagnose(&dev, "csv");
    assert_eq!(code, 1, "{err}");
    assert_no_terminal_controls("csv", &out);
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{NAME_SHOWN}.corp,device,blocked,DEV003,"))),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn an_error_naming_a_hostile_file_shows_it_escaped_on_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dev = dir.path().join("dev");
    std::fs::create_dir_all(&dev).expect("device folder");
    std::fs::write(dev.join(ODD_FILE), "hello\n").expect("write");
    let (code, out, err) = diagnose(&dev, "table");
    // Nothing usable: the run stops with an error naming the file.
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    assert_no_terminal_controls("stderr", err.as_bytes());
    assert!(err.contains(ODD_FILE_SHOWN), "{err}");
    assert!(err.starts_with("enroll-doctor: error: "), "{err}");
}

#[cfg(unix)]
#[test]
fn explain_of_an_unknown_input_with_escapes_names_it_escaped() {
    let out = bin()
        .args(["explain", "DEV\u{1b}[2J\u{7}"])
        .output()
        .expect("run enroll-doctor");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_no_terminal_controls("explain", &out.stderr);
    assert!(
        err.contains(r#"not a check ID or an error code I know: "DEV\u{1b}[2J\u{7}""#),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
