//! What one execution runs: an input through the same code the CLI runs, start to end.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use enroll_doctor::catalog::error_codes;
use enroll_doctor::config::FileConfig;
use enroll_doctor::device::report::DeviceReport;
use enroll_doctor::device::report_from_memory;
use enroll_doctor::diagnose::Pipeline;
use enroll_doctor::report::{Report, json, markdown, table};
use enroll_doctor::tenant::snapshot::TenantSnapshot;

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
}

pub const TARGETS: [Target; 5] = [
    Target::Device,
    Target::File,
    Target::Snapshot,
    Target::Config,
    Target::Codes,
];

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Device => "device",
            Target::File => "file",
            Target::Snapshot => "snapshot",
            Target::Config => "config",
            Target::Codes => "codes",
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

/// Control characters a terminal acts on: none may reach table or markdown output.
pub fn unsafe_char(text: &str) -> Option<char> {
    text.chars().find(|c| {
        (c.is_control() && !matches!(c, '\n' | '\t')) || ('\u{202A}'..='\u{202E}').contains(c)
    })
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

/// A snapshot parsed (when it parses) and evaluated with a device.
pub fn snapshot(bytes: &[u8], device: &Folder) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(snap) = TenantSnapshot::from_json(text, "fuzz.json") {
        let _ = device_signature(device, &Pipeline::new(Some(&snap), None, as_of()));
    }
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
