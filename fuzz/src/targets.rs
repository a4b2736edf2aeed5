//! What one execution runs: an input through the same code the CLI runs, start to end.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use enroll_doctor::catalog::error_codes;
use enroll_doctor::config::{AssertionAlgorithm, FileConfig};
use enroll_doctor::device::report::DeviceReport;
use enroll_doctor::device::{load_path, report_from_memory};
use enroll_doctor::diagnose::Pipeline;
use enroll_doctor::graph::AccessToken;
use enroll_doctor::graph::auth::CertificateCredential;
use enroll_doctor::report::{Report, json, markdown, table};
use enroll_doctor::tenant::snapshot::TenantSnapshot;
use enroll_doctor::tenant::users_file::read_users_file;
use secrecy::SecretString;

use crate::mutate::Folder;

/// The parsers' targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A device folder: detection, every artifact parser, evaluation, device-only and
    /// correlated with the seed snapshot, and (sometimes) the renderers.
    Device,
    /// One file alone, as `diagnose FILE` reads it.
    File,
    /// A saved tenant snapshot, evaluated with a seed device.
    Snapshot,
    /// A config file.
    Config,
    /// Error codes in free text, as `explain` and the event parsers read them.
    Codes,
    /// A device folder written to disk and read as `diagnose -d` reads it: the guarded reads,
    /// the loose-file sniffing and every zip and cabinet in it (`device/archive.rs`,
    /// `device/cab.rs`).
    Path,
    /// A users file (`check --users-file`).
    Users,
    /// An access token's claims, as `auth status` and the preflight decode them.
    Token,
    /// A certificate file as `--auth certificate` reads it: PFX, PEM, encrypted PKCS#8.
    Certificate,
    /// An `.evtx` log (`device/evtx`): read alone, then as a device's file.
    Evtx,
}

pub const TARGETS: [Target; 10] = [
    Target::Device,
    Target::File,
    Target::Snapshot,
    Target::Config,
    Target::Codes,
    Target::Path,
    Target::Users,
    Target::Token,
    Target::Certificate,
    Target::Evtx,
];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Device => "device",
            Target::File => "file",
            Target::Snapshot => "snapshot",
            Target::Config => "config",
            Target::Codes => "codes",
            Target::Path => "path",
            Target::Users => "users",
            Target::Token => "token",
            Target::Certificate => "certificate",
            Target::Evtx => "evtx",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        TARGETS.into_iter().find(|t| t.name() == s)
    }
}

/// The evaluation date of every run: fixed, so a run is reproducible.
pub fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The pipelines a worker builds once: device-only, and correlated with the seed snapshot
/// (its tenant checks evaluated once, as the CLI does for a fleet).
pub struct Pipelines<'a> {
    pub device_only: Pipeline<'a>,
    pub correlated: Option<Pipeline<'a>>,
}

impl<'a> Pipelines<'a> {
    pub fn new(snapshot: Option<&'a TenantSnapshot>) -> Pipelines<'a> {
        Pipelines {
            device_only: Pipeline::new(None, None, as_of()),
            correlated: snapshot.map(|s| Pipeline::new(Some(s), None, as_of())),
        }
    }
}

/// What a device run decided, in a form two runs can be compared by: verdict, path, causes and
/// every finding's check and status.
pub fn signature(report: &DeviceReport, pipeline: &Pipeline<'_>) -> String {
    let outcome = pipeline.device(report);
    let d = &outcome.diagnosis;
    let findings: Vec<(String, String)> = outcome
        .findings
        .iter()
        .map(|f| (f.check.clone(), f.status.as_str().to_string()))
        .collect();
    serde_json::json!({
        "verdict": d.verdict,
        "path": d.path,
        "causes": d.causes,
        "findings": findings,
    })
    .to_string()
}

/// [`signature`] of a device folder.
pub fn device_signature(folder: &Folder, pipeline: &Pipeline<'_>) -> String {
    signature(&report_from_memory("fuzz", folder), pipeline)
}

/// The first character a terminal acts on (`text_safety::is_unsafe`, newline and tab aside):
/// none may reach table or Markdown output.
pub fn unsafe_char(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| c != '\n' && c != '\t' && enroll_doctor::text_safety::is_unsafe(c))
}

/// Renders a device run in every human and machine format; returns the first unsafe character
/// found in the human formats.
pub fn render_device(folder: &Folder, pipeline: &Pipeline<'_>, width: usize) -> Result<(), String> {
    let outcome = pipeline.device(&report_from_memory("fuzz", folder));
    let rendered = Report::new(as_of(), vec![outcome.diagnosis], outcome.findings);
    json::render(&rendered).map_err(|e| format!("json: {e}"))?;
    for (format, text) in [
        ("table", table::render_with_width(&rendered, width)),
        ("markdown", markdown::render(&rendered)),
    ] {
        if let Some(c) = unsafe_char(&text) {
            return Err(format!("{format} output holds U+{:04X}", c as u32));
        }
    }
    Ok(())
}

/// A snapshot read as `--snapshot` reads it (a stream from a file, within its limit) and, when
/// it parses, evaluated with a device.
pub fn snapshot(scratch: &Path, bytes: &[u8], device: &Folder) {
    let path = scratch.join("snapshot.json");
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    if let Ok(snap) = TenantSnapshot::load(&path) {
        let _ = device_signature(device, &Pipeline::new(Some(&snap), None, as_of()));
    }
}

/// The name input file `i` is written under: numbered, and only safe characters of its name
/// (names are the seeds' or the mutator's) reach the file system.
pub fn file_name(i: usize, name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{i:02}-{safe}")
}

/// The folder written under `scratch` and read with `load_path`, then each zip and cabinet in
/// it alone.
pub fn path(scratch: &Path, files: &Folder) {
    let dir = scratch.join("device");
    let _ = std::fs::remove_dir_all(&dir);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let mut zips = Vec::new();
    for (i, (name, bytes)) in files.iter().enumerate() {
        let file = dir.join(file_name(i, name));
        if std::fs::write(&file, bytes).is_err() {
            return;
        }
        // Zips and MdmDiagnosticsTool cabinets are also read alone (`device/cab.rs`).
        if bytes.starts_with(b"PK") || bytes.starts_with(b"MSCF") {
            zips.push(file);
        }
    }
    let _ = load_path(&dir);
    for zip in zips {
        let _ = load_path(&zip);
    }
}

pub fn users(scratch: &Path, bytes: &[u8]) {
    let path = scratch.join("users.txt");
    if std::fs::write(&path, bytes).is_ok() {
        let _ = read_users_file(&path);
    }
}

pub fn token(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(claims) = AccessToken::new(text.trim().to_string(), None).claims() {
        let _ = claims.identity();
    }
}

/// The seeds' password (tests/fixtures/certs) and none, so a mutated file is opened as far as
/// it goes either way.
pub fn certificate(bytes: &[u8]) {
    let password = SecretString::from("test-only-Pfx-9");
    for p in [None, Some(&password)] {
        let _ = CertificateCredential::from_bytes(bytes, AssertionAlgorithm::Ps256, p);
    }
}

/// An `.evtx` log read alone, within the limits a device's logs are read within, then as the
/// one file of a device.
pub fn evtx(bytes: &[u8]) {
    use enroll_doctor::device::evtx::{LIMITS, read_evtx};
    let _ = read_evtx("fuzz.evtx", std::io::Cursor::new(bytes), &LIMITS);
    let _ = report_from_memory("fuzz", &[("fuzz.evtx".to_string(), bytes.to_vec())]);
}

pub fn config(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = FileConfig::parse(text, Path::new("fuzz.toml"));
    }
}

pub fn codes(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for code in error_codes::hresults_in_text(&text) {
        let _ = error_codes::describe(code);
    }
    for word in text.split_whitespace().take(64) {
        if let Some(code) = error_codes::parse_hresult(word) {
            let _ = error_codes::describe(code);
        }
    }
}
