//! Reading a PATH (file, folder, zip, fleet folder) into device reports.
//!
//! Every input file is decoded and identified by content; what cannot be used is recorded in
//! `DeviceReport::inputs` with the reason, and the rest goes on. Only when nothing usable remains
//! is it an error.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::archive::{DEVICE_FILE, Zip, ZipEntry, ZipOpenError, is_fleet_zip};
pub use super::archive::{MAX_FILE_BYTES, MAX_ZIP_TOTAL_BYTES};
use super::cab::is_cab;
use super::classify::{Loose, classify, is_zip};
use super::member::is_safe_member_name;
use super::report::{ArtifactKind, DeviceReport, EventLogInfo, InputFile, Registry};
use super::{
    bundle, dsregcmd, events, evtx, host_files, mdmdiag, mdmdiag_bundle, registry, schtasks, sniff,
    text,
};
use crate::fsio::{self, FileError};

mod members;

/// Why a PATH could not give any usable device report.
#[derive(Debug, thiserror::Error)]
pub enum DeviceInputError {
    #[error("{path}: no such file or folder")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the folder is empty")]
    EmptyFolder { path: PathBuf },
    #[error("{path}: nothing usable: {reason}")]
    NothingUsable { path: PathBuf, reason: String },
    #[error("{path}: not a readable zip archive: {reason}")]
    BadZip { path: PathBuf, reason: String },
    #[error("{path}: not a readable cabinet: {reason}")]
    BadCab { path: PathBuf, reason: String },
    /// Not a regular file (a FIFO, a device), or over a limit.
    #[error("{path}: {reason}")]
    Refused { path: PathBuf, reason: String },
}

impl From<FileError> for DeviceInputError {
    fn from(e: FileError) -> DeviceInputError {
        let path = e.path().to_path_buf();
        match e {
            FileError::NotFound { .. } => DeviceInputError::NotFound { path },
            FileError::Io { source, .. } => DeviceInputError::Io { path, source },
            other => DeviceInputError::Refused {
                path,
                reason: other.reason(),
            },
        }
    }
}

/// One PATH of a run, listed but not yet read.
#[derive(Debug)]
pub(crate) enum Source {
    /// One device container: a device folder, a zip (of one device or of several device
    /// folders), an artifact or bundle file.
    Single(PathBuf),
    /// A fleet folder: its device containers in path order, and the files beside them.
    Fleet {
        path: PathBuf,
        members: Vec<PathBuf>,
        loose: Vec<PathBuf>,
    },
}

/// Lists PATH: a fleet folder holds only device containers (sub-folders, zips, bundles) and
/// maybe loose files that are neither; the first loose artifact makes it one device's folder.
pub(crate) fn list_path(path: &Path) -> Result<Source, DeviceInputError> {
    let meta = fs::metadata(path).map_err(|e| io_error(path, e))?;
    if !meta.is_dir() {
        // A FIFO or a device given as PATH would block or never end: refused by name.
        if let Some(found) = fsio::special_kind(&meta) {
            return Err(DeviceInputError::Refused {
                path: path.to_path_buf(),
                reason: fsio::not_regular(found),
            });
        }
        return Ok(Source::Single(path.to_path_buf()));
    }
    let children = read_children(path)?;
    let mut containers = 0usize;
    let mut bundles = 0usize;
    let mut members: Vec<PathBuf> = Vec::new();
    let mut loose: Vec<PathBuf> = Vec::new();
    for c in children {
        if c.is_dir() || is_zip(&c) || is_cab(&c) {
            containers += 1;
            members.push(c);
            continue;
        }
        match classify(&c) {
            Loose::Bundle => {
                bundles += 1;
                members.push(c);
            }
            Loose::Artifact => return Ok(Source::Single(path.to_path_buf())),
            // README, notes, a binary: neither a device container nor an artifact.
            Loose::Other => loose.push(c),
        }
    }
    if containers == 0 && bundles <= 1 {
        return Ok(Source::Single(path.to_path_buf()));
    }
    Ok(Source::Fleet {
        path: path.to_path_buf(),
        members,
        loose,
    })
}

/// One device container: a device folder, a zip (one device, or one per top-level folder), or
/// an artifact or bundle file. Each report comes with the path it was read from.
pub(crate) fn load_member(path: &Path) -> Result<Vec<(PathBuf, DeviceReport)>, DeviceInputError> {
    if path.is_dir() {
        let children = read_children(path)?;
        load_device_dir(path, &children).map(|r| vec![(path.to_path_buf(), r)])
    } else if is_zip(path) {
        load_zip(path)
    } else if is_cab(path) {
        members::load_cab(path)
    } else {
        let mut b = Builder::default();
        b.add_file(path, &file_name(path));
        b.finish(path, &file_name(path))
            .map(|r| vec![(path.to_path_buf(), r)])
    }
}

/// The note for a file beside the device folders of a fleet.
pub(crate) fn loose_note(path: &Path) -> InputFile {
    let meta = fs::metadata(path).ok();
    let problem = match meta.as_ref().and_then(fsio::special_kind) {
        Some(found) => fsio::not_regular(found),
        None => {
            "file beside the device folders of a fleet ignored: not a device folder, zip or bundle"
                .to_string()
        }
    };
    InputFile {
        name: format!("../{}", file_name(path)),
        kind: ArtifactKind::Unrecognised,
        encoding: None,
        bytes: meta.map_or(0, |m| m.len()),
        problem: Some(problem),
        records: 0,
    }
}

/// Builds one report from in-memory files `(name, bytes)`, as if they were a device folder.
pub fn report_from_memory(label: &str, files: &[(String, Vec<u8>)]) -> DeviceReport {
    let mut b = Builder::default();
    for (name, bytes) in files {
        b.add_bytes(name, bytes);
    }
    b.into_report(label)
}

fn io_error(path: &Path, e: std::io::Error) -> DeviceInputError {
    if e.kind() == std::io::ErrorKind::NotFound {
        DeviceInputError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        DeviceInputError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// The entries of a folder, sorted by path, without hidden ones; an empty folder is an error.
fn read_children(path: &Path) -> Result<Vec<PathBuf>, DeviceInputError> {
    let mut children: Vec<PathBuf> = fs::read_dir(path)
        .map_err(|e| io_error(path, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        // Hidden files (.DS_Store, .git) are never artifacts.
        .filter(|p| !file_name(p).starts_with('.'))
        .collect();
    children.sort();
    if children.is_empty() {
        return Err(DeviceInputError::EmptyFolder {
            path: path.to_path_buf(),
        });
    }
    Ok(children)
}

fn load_device_dir(path: &Path, children: &[PathBuf]) -> Result<DeviceReport, DeviceInputError> {
    let mut b = Builder::default();
    for child in children {
        let name = file_name(child);
        if child.is_dir() {
            b.note(
                &name,
                0,
                "sub-folder ignored: a device's artifacts sit directly in its folder",
            );
        } else if mdmdiag_bundle::skip_unread(&name) {
            b.listed(&name, fs::metadata(child).map_or(0, |m| m.len()));
        } else if is_cab(child) {
            // A device folder holding that device's MdmDiagnosticsTool cabinet.
            b.add_cab(child, Some(&name));
        } else if is_zip(child) {
            // A device folder holding that device's MdmDiagnosticsTool zip (or any zip of its
            // artifacts): read the entries as part of the folder. A zip of several device
            // folders is a fleet and does not belong here.
            let size = fs::metadata(child).map_or(0, |m| m.len());
            match open_zip(child) {
                Ok((mut zip, entries)) if !is_fleet_zip(&entries) => {
                    for entry in &entries {
                        b.add_entry(&mut zip, entry, Some(&name));
                    }
                }
                Ok(_) => b.note(
                    &name,
                    size,
                    "zip of several device folders inside a device folder ignored: pass it on its own (a fleet)",
                ),
                Err(e) => b.note(&name, size, &e.to_string()),
            }
        } else {
            b.add_file(child, &name);
        }
    }
    b.finish(path, &file_name(path))
}

/// Opens a zip and lists its entries, or the error naming it.
fn open_zip(path: &Path) -> Result<(Zip, Vec<ZipEntry>), DeviceInputError> {
    Zip::open(path).map_err(|e| match e {
        ZipOpenError::File(e) => e.into(),
        ZipOpenError::Bad(reason) => DeviceInputError::BadZip {
            path: path.to_path_buf(),
            reason,
        },
    })
}

/// A zip of one device's artifacts, or of several device folders (a fleet).
fn load_zip(path: &Path) -> Result<Vec<(PathBuf, DeviceReport)>, DeviceInputError> {
    let (mut zip, entries) = open_zip(path)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_name(path));
    // Group by top-level folder, in order of appearance; entries at the root (and refused
    // ones) form group "".
    let mut groups: Vec<(String, Vec<&ZipEntry>)> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for entry in &entries {
        let top = entry.top_folder().unwrap_or("").to_string();
        match group_of.get(&top) {
            Some(&g) => groups[g].1.push(entry),
            None => {
                group_of.insert(top.clone(), groups.len());
                groups.push((top, vec![entry]));
            }
        }
    }
    let folders = groups.iter().filter(|(g, _)| !g.is_empty()).count();
    let root_has_files = groups
        .iter()
        .any(|(g, v)| g.is_empty() && v.iter().any(|e| e.refused.is_none()));
    if folders < 2 || root_has_files {
        let mut b = Builder::default();
        for entry in &entries {
            b.add_entry(&mut zip, entry, None);
        }
        return b.finish(path, &stem).map(|r| vec![(path.to_path_buf(), r)]);
    }
    // Fleet zip: one device per top-level folder; root-level problems go with the first. A
    // folder that gives nothing usable is kept as a placeholder so its failure shows next to
    // the others; only a zip whose every folder failed is an error. Entries are read one at a
    // time, device by device.
    let (root, folders): (Vec<_>, Vec<_>) = groups.into_iter().partition(|(g, _)| g.is_empty());
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for (n, (folder, members)) in folders.into_iter().enumerate() {
        let mut b = Builder::default();
        if n == 0 {
            for entry in root.iter().flat_map(|(_, v)| v) {
                b.add_entry(&mut zip, entry, None);
            }
        }
        for entry in members {
            b.add_entry(&mut zip, entry, None);
        }
        let device_path = path.join(&folder);
        match b.finish(&device_path, &folder) {
            Ok(r) => reports.push((device_path, r)),
            Err(e) => {
                failures.push(e.to_string());
                reports.push((device_path, placeholder(&folder, &e)));
            }
        }
    }
    if failures.len() == reports.len() {
        return Err(DeviceInputError::NothingUsable {
            path: path.to_path_buf(),
            reason: failures.join("; "),
        });
    }
    Ok(reports)
}

/// A fleet member that gave nothing usable: kept so its failure shows next to the others.
pub(crate) fn placeholder(name: &str, e: &DeviceInputError) -> DeviceReport {
    DeviceReport {
        label: name.to_string(),
        inputs: vec![InputFile {
            name: name.to_string(),
            kind: ArtifactKind::Unrecognised,
            encoding: None,
            bytes: 0,
            problem: Some(e.to_string()),
            records: 0,
        }],
        ..DeviceReport::default()
    }
}

/// Accumulates the facts of one device from its input files.
#[derive(Default)]
struct Builder {
    report: DeviceReport,
}

impl Builder {
    fn note(&mut self, name: &str, bytes: u64, problem: &str) {
        self.report.inputs.push(InputFile {
            name: name.to_string(),
            kind: ArtifactKind::Unrecognised,
            encoding: None,
            bytes,
            problem: Some(problem.to_string()),
            records: 0,
        });
    }

    /// Reads one zip entry (named `PREFIX/NAME` inside a device folder), adds it and drops
    /// its bytes before the next entry is read.
    fn add_entry(&mut self, zip: &mut Zip, entry: &ZipEntry, prefix: Option<&str>) {
        let name = match prefix {
            Some(p) => format!("{p}/{}", entry.name),
            None => entry.name.clone(),
        };
        let unread = mdmdiag_bundle::skip_unread(&name) && is_safe_member_name(&entry.name);
        let got = (!unread).then(|| zip.read(entry));
        self.add_member(&name, entry.size, got);
    }

    fn add_file(&mut self, path: &Path, name: &str) {
        // An .evtx log is read chunk by chunk from the file, never whole.
        if evtx::file_is_evtx(path) {
            return match fsio::open_regular(path, evtx::EVTX_FILE) {
                Ok((file, size)) => self.add_evtx(name, size, std::io::BufReader::new(file)),
                Err(e) => self.note(name, 0, &format!("cannot read: {}", e.reason())),
            };
        }
        match fsio::read_regular(path, DEVICE_FILE) {
            Ok(bytes) => self.add_bytes(name, &bytes),
            Err(e @ FileError::TooLarge { size, .. }) => self.note(name, size, &e.reason()),
            // A FIFO, a device, a directory swapped in: named, never opened.
            Err(e @ FileError::NotRegular { .. }) => self.note(name, 0, &e.reason()),
            Err(e) => self.note(name, 0, &format!("cannot read: {}", e.reason())),
        }
    }

    /// An `.evtx` log (a file, or a zip entry in memory).
    fn add_evtx<R: std::io::Read + std::io::Seek>(&mut self, name: &str, size: u64, reader: R) {
        let mut input = InputFile {
            name: name.to_string(),
            kind: ArtifactKind::EventEvtx,
            encoding: None,
            bytes: size,
            problem: None,
            records: 0,
        };
        let mut problems = Vec::new();
        match evtx::read_evtx(name, reader, &evtx::LIMITS) {
            // Nothing read for damage is no sign of an empty log.
            Ok(read) if read.parsed.total == 0 && !read.notes.is_empty() => problems = read.notes,
            Ok(read) => {
                problems = read.notes;
                add_events(
                    &mut self.report,
                    name,
                    read.parsed,
                    &mut input,
                    &mut problems,
                );
            }
            Err(e) => problems.push(e),
        }
        if !problems.is_empty() {
            input.problem = Some(problems.join("; "));
        }
        self.report.inputs.push(input);
    }

    fn add_bytes(&mut self, name: &str, bytes: &[u8]) {
        let size = bytes.len() as u64;
        if evtx::is_evtx(bytes) {
            return self.add_evtx(name, size, std::io::Cursor::new(bytes));
        }
        let decoded = match text::decode(bytes) {
            Ok(d) => d,
            Err(e) => return self.note(name, size, &e.to_string()),
        };
        let kind = mdmdiag_bundle::kind_by_name(name, sniff::sniff(&decoded.text));
        let mut input = InputFile {
            name: name.to_string(),
            kind,
            encoding: Some(decoded.encoding.to_string()),
            bytes: size,
            problem: decoded
                .damaged
                .as_ref()
                .map(|d| format!("damaged, read as far as possible: {d}")),
            records: 0,
        };
        let mut problems: Vec<String> = input.problem.take().into_iter().collect();
        let text = decoded.text.as_str();
        let r = &mut self.report;
        match kind {
            ArtifactKind::Dsregcmd => {
                let parsed = dsregcmd::parse(name, text);
                input.records = parsed.sections.iter().map(|s| s.fields.len()).sum();
                match &r.dsregcmd {
                    Some(first) => problems.push(format!(
                        "a second dsregcmd output: ignored (using {})",
                        first.file
                    )),
                    None => r.dsregcmd = Some(parsed),
                }
            }
            ArtifactKind::EventXml
            | ArtifactKind::EventJson
            | ArtifactKind::EventCsv
            | ArtifactKind::EventText => {
                let parsed = match kind {
                    ArtifactKind::EventXml => events::parse_xml(name, text),
                    ArtifactKind::EventJson => events::parse_json(name, text),
                    ArtifactKind::EventText => events::parse_text(name, text),
                    _ => events::parse_csv(name, text),
                };
                match parsed {
                    Ok(p) => add_events(r, name, p, &mut input, &mut problems),
                    Err(e) => problems.push(e),
                }
            }
            ArtifactKind::MdmDiagReport => match mdmdiag::parse(name, text) {
                Ok(enrollments) if enrollments.is_empty() => problems.push(
                    "MDM diagnostics report without any DeviceManagementAccount enrollment"
                        .to_string(),
                ),
                Ok(enrollments) => {
                    input.records = enrollments.len();
                    r.mdm_diag_enrollments.extend(enrollments);
                }
                Err(e) => problems.push(e),
            },
            ArtifactKind::RegistryExport | ArtifactKind::RegistryQuery => {
                let parsed = if kind == ArtifactKind::RegistryQuery {
                    registry::parse_query(name, text)
                } else {
                    registry::parse(name, text)
                };
                input.records = parsed.keys.len();
                if let Some((line, reason)) = parsed.skipped.first() {
                    problems.push(format!(
                        "{} line(s) not understood, first at line {line}: {reason}",
                        parsed.skipped.len()
                    ));
                }
                r.registry
                    .get_or_insert_with(Registry::default)
                    .keys
                    .extend(parsed.keys);
            }
            ArtifactKind::SchtasksCsv => {
                let parsed = schtasks::parse(name, text);
                input.records = parsed.tasks.len();
                if let Some((line, reason)) = parsed.skipped.first() {
                    problems.push(format!(
                        "{} row(s) not understood, first at line {line}: {reason}",
                        parsed.skipped.len()
                    ));
                }
                r.scheduled_tasks
                    .get_or_insert_with(Vec::new)
                    .extend(parsed.tasks);
            }
            ArtifactKind::Bundle => match bundle::parse(name, text) {
                Ok(b) => {
                    input.records = b.records;
                    problems.extend(b.problems);
                    merge_bundle(r, b.report, &mut problems);
                }
                Err(e) => problems.push(e),
            },
            ArtifactKind::AutopilotProfile
            | ArtifactKind::AutopilotHash
            | ArtifactKind::TpmTool => {
                super::autopilot_files::add(kind, name, text, r, &mut input, &mut problems)
            }
            // Written for people; its note is settled once the bundle is read (`settle_bundle`).
            ArtifactKind::MdmDiagHtml => {}
            ArtifactKind::WinHttpProxy | ArtifactKind::W32tm => {
                match host_files::add_loose(r, kind, name, text) {
                    Ok(n) => input.records = n,
                    Err(e) => problems.push(e),
                }
            }
            ArtifactKind::Unrecognised if mdmdiag_bundle::quiet_if_unrecognised(name) => {}
            // `.evtx` is told by its magic, before any decoding.
            ArtifactKind::Unrecognised | ArtifactKind::EventEvtx => {
                problems.push(sniff::why_unrecognised(name, text))
            }
        }
        if !problems.is_empty() {
            input.problem = Some(problems.join("; "));
        }
        self.report.inputs.push(input);
    }

    /// Final ordering, derived facts and the label.
    fn into_report(mut self, fallback_label: &str) -> DeviceReport {
        self.settle_bundle();
        let r = &mut self.report;
        // Oldest first; events without a time keep their file order at the end.
        r.events.sort_by_key(|e| (e.time.is_none(), e.time));
        if r.os.is_none() {
            r.os = r.registry.as_ref().and_then(registry::os_info);
        }
        host_files::derive(r);
        let from_dsreg = r
            .dsregcmd
            .as_ref()
            .and_then(|d| {
                d.field("Device State", "Device Name")
                    .or_else(|| d.any_field("Device Name"))
            })
            .map(|f| f.value.split('.').next().unwrap_or("").trim().to_string())
            .filter(|s| !s.is_empty());
        let from_collector = r
            .collector
            .as_ref()
            .and_then(|c| c.host_name.clone())
            .filter(|s| !s.trim().is_empty());
        r.label = from_dsreg
            .or(from_collector)
            .unwrap_or_else(|| fallback_label.to_string());
        r.autopilot = super::autopilot::autopilot_evidence(r);
        self.report
    }

    /// The report, or an error naming PATH when no input was usable.
    fn finish(self, path: &Path, fallback_label: &str) -> Result<DeviceReport, DeviceInputError> {
        let usable = self.report.inputs.iter().any(|i| {
            i.kind != ArtifactKind::Unrecognised && (i.records > 0 || i.problem.is_none())
        });
        if !usable {
            let reasons: Vec<String> = self
                .report
                .inputs
                .iter()
                .map(|i| {
                    format!(
                        "{}: {}",
                        i.name,
                        i.problem
                            .as_deref()
                            .unwrap_or("not recognised as a device artifact")
                    )
                })
                .collect();
            return Err(DeviceInputError::NothingUsable {
                path: path.to_path_buf(),
                reason: if reasons.is_empty() {
                    "no input files".to_string()
                } else {
                    reasons.join("; ")
                },
            });
        }
        Ok(self.into_report(fallback_label))
    }
}

/// An event export's events and logs into the report (`records`: the events kept).
fn add_events(
    r: &mut DeviceReport,
    name: &str,
    p: events::ParsedEvents,
    input: &mut InputFile,
    problems: &mut Vec<String>,
) {
    input.records = p.events.len();
    if let Some(first) = p.skipped.first() {
        problems.push(format!(
            "{} record(s) not understood, first: {first}",
            p.skipped.len()
        ));
    }
    if p.total == 0 {
        // A valid export with no events still says the log was exported.
        r.event_logs.push(EventLogInfo {
            name: log_name_hint(name).to_string(),
            enabled: None,
            oldest_record: None,
            record_count: Some(0),
            file: name.to_string(),
        });
    }
    r.event_logs.extend(p.logs);
    r.events.extend(p.events);
}

/// Names the log of an export that holds no events (the content cannot say which log it was).
fn log_name_hint(file: &str) -> &'static str {
    let lower = file.to_ascii_lowercase();
    if lower.contains("devicemanagement") || lower.contains("dmedp") {
        "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
    } else if lower.contains("taskscheduler") || lower.contains("task-scheduler") {
        "Microsoft-Windows-TaskScheduler/Operational"
    } else {
        events::UNKNOWN_LOG
    }
}

fn merge_bundle(r: &mut DeviceReport, mut b: DeviceReport, problems: &mut Vec<String>) {
    host_files::merge(r, &mut b);
    if r.collector.is_none() {
        r.collector = b.collector;
    }
    match (&r.dsregcmd, b.dsregcmd) {
        (None, d) => r.dsregcmd = d,
        (Some(first), Some(_)) => problems.push(format!(
            "its dsregcmd output is ignored (using {})",
            first.file
        )),
        (Some(_), None) => {}
    }
    r.events.extend(b.events);
    r.event_logs.extend(b.event_logs);
    if let Some(reg) = b.registry {
        r.registry
            .get_or_insert_with(Registry::default)
            .keys
            .extend(reg.keys);
    }
    if let Some(tasks) = b.scheduled_tasks {
        r.scheduled_tasks.get_or_insert_with(Vec::new).extend(tasks);
    }
    if r.os.is_none() {
        r.os = b.os;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::sources::{DeviceSources, READ_AHEAD, load_path};
    use std::fs::File;
    use std::io::Write;

    fn samples() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices")
    }

    #[test]
    fn sample_device_folder() {
        let reports = load_path(&samples().join("hybrid-enrolled")).unwrap();
        assert_eq!(reports.len(), 1);
        let r = &reports[0];
        assert_eq!(r.label, "PC0042");
        assert!(r.dsregcmd.is_some());
        assert_eq!(r.os.as_ref().unwrap().build, Some(26100));
        assert_eq!(r.scheduled_tasks.as_ref().unwrap().len(), 1);
        let ids: Vec<u32> = r.events.iter().map(|e| e.event_id).collect();
        assert!(ids.contains(&75) && ids.contains(&107), "{ids:?}");
        assert!(r.events.windows(2).all(|w| w[0].time <= w[1].time));
        let dsreg = r.inputs.iter().find(|i| i.name == "dsregcmd.txt").unwrap();
        assert_eq!(dsreg.encoding.as_deref(), Some("utf-16le-bom"));
        assert_eq!(dsreg.kind, ArtifactKind::Dsregcmd);
        let md = r.inputs.iter().find(|i| i.name == "EXPECTED.md").unwrap();
        assert_eq!(md.kind, ArtifactKind::Unrecognised);
    }

    #[test]
    fn empty_exports_are_flagged() {
        let r = &load_path(&samples().join("never-triggered")).unwrap()[0];
        let empty = r
            .inputs
            .iter()
            .find(|i| i.name == "dmedp-admin.xml")
            .unwrap();
        assert_eq!(empty.problem.as_deref(), Some("empty file"));
        assert_eq!(empty.kind, ArtifactKind::Unrecognised);
        assert!(r.event_logs.is_empty());
        assert!(r.events.is_empty());
    }

    #[test]
    fn sample_root_is_a_fleet() {
        let reports = load_path(&samples()).unwrap();
        // One report per sample folder (the demo adds its own folders beside the shared ones).
        let folders = std::fs::read_dir(samples())
            .unwrap()
            .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_dir()))
            .count();
        assert!(folders >= 5);
        assert_eq!(reports.len(), folders);
        let labels: Vec<&str> = reports.iter().map(|r| r.label.as_str()).collect();
        assert!(labels.contains(&"PC0042"), "{labels:?}");
    }

    #[test]
    fn missing_and_empty() {
        let e = load_path(Path::new("/nonexistent/enroll-doctor")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/enroll-doctor"));
        let dir = tempfile::tempdir().unwrap();
        let e = load_path(dir.path()).unwrap_err();
        assert!(matches!(e, DeviceInputError::EmptyFolder { .. }), "{e}");
    }

    #[test]
    fn binary_and_truncated_files() {
        let dir = tempfile::tempdir().unwrap();
        // NULs inside the data (trailing ones alone are padding, allowed on text).
        fs::write(
            dir.path().join("blob.bin"),
            b"\x7fELF\x02\x01\x01\x00\x00\x02\x00\x3e",
        )
        .unwrap();
        let e = load_path(&dir.path().join("blob.bin")).unwrap_err();
        assert!(
            e.to_string().contains("blob.bin") && e.to_string().contains("NUL byte"),
            "{e}"
        );

        let mut dsreg = text::utf16le_bom(
            "+----------------------------------------------------------------------+\r\n| Device State                                                         |\r\n+----------------------------------------------------------------------+\r\n\r\n             AzureAdJoined : YES\r\n",
        );
        dsreg.push(b'x');
        fs::write(dir.path().join("dsregcmd.txt"), &dsreg).unwrap();
        let r = &load_path(dir.path()).unwrap()[0];
        let t = r.inputs.iter().find(|i| i.name == "dsregcmd.txt").unwrap();
        assert!(t.problem.as_deref().unwrap().contains("odd byte count"));
        assert_eq!(
            r.dsregcmd
                .as_ref()
                .unwrap()
                .yes_no("Device State", "AzureAdJoined"),
            Some(true)
        );
        let b = r.inputs.iter().find(|i| i.name == "blob.bin").unwrap();
        assert!(b.problem.as_deref().unwrap().contains("binary"));
    }

    #[test]
    fn oversized_file_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = File::create(dir.path().join("huge.xml")).unwrap();
        big.set_len(100 * 1024 * 1024).unwrap();
        fs::copy(
            samples().join("hybrid-enrolled/dsregcmd.txt"),
            dir.path().join("dsregcmd.txt"),
        )
        .unwrap();
        let r = &load_path(dir.path()).unwrap()[0];
        let h = r.inputs.iter().find(|i| i.name == "huge.xml").unwrap();
        assert!(
            h.problem
                .as_deref()
                .unwrap()
                .contains("is larger than 32 MiB, the limit for a device file: not read")
        );
        assert_eq!(h.bytes, 100 * 1024 * 1024);
        let e = load_path(&dir.path().join("huge.xml")).unwrap_err();
        assert!(
            e.to_string().contains("huge.xml")
                && e.to_string()
                    .contains("is larger than 32 MiB, the limit for a device file: not read")
        );
    }

    fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let mut z = zip::ZipWriter::new(File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for (name, data) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
    }

    #[test]
    fn zip_is_read_in_memory_and_unsafe_entries_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let dsreg = fs::read(samples().join("stale-enrollment/dsregcmd.txt")).unwrap();
        let reg = fs::read(samples().join("stale-enrollment/enrollments.reg")).unwrap();
        let zip_path = dir.path().join("device.zip");
        write_zip(
            &zip_path,
            &[
                ("PC0117/dsregcmd.txt", &dsreg),
                ("PC0117/enrollments.reg", &reg),
                ("../evil", b"AzureAdJoined : YES\nDomainJoined : YES\n"),
                ("/etc/abs.txt", b"x"),
            ],
        );
        let r = &load_path(&zip_path).unwrap()[0];
        assert_eq!(r.label, "PC0117");
        let evil = r.inputs.iter().find(|i| i.name == "../evil").unwrap();
        assert!(evil.problem.as_deref().unwrap().contains("unsafe path"));
        assert!(
            r.inputs
                .iter()
                .any(|i| i.name == "/etc/abs.txt" && i.problem.is_some())
        );
        assert!(r.registry.is_some());
        assert!(
            !dir.path().join("evil").exists()
                && !dir.path().parent().unwrap().join("evil").exists()
        );
    }

    #[test]
    fn zip_of_device_folders_is_a_fleet() {
        let dir = tempfile::tempdir().unwrap();
        let a = fs::read(samples().join("hybrid-enrolled/dsregcmd.txt")).unwrap();
        let b = fs::read(samples().join("not-hybrid-joined/dsregcmd.txt")).unwrap();
        let zip_path = dir.path().join("fleet.zip");
        write_zip(
            &zip_path,
            &[
                ("one/dsregcmd.txt", &a),
                ("two/dsregcmd.txt", &b),
                ("__MACOSX/one/._dsregcmd.txt", b"\0\x05\x16\x07"),
                ("three/notes.txt", b"nothing useful"),
            ],
        );
        let reports = load_path(&zip_path).unwrap();
        let labels: Vec<&str> = reports.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["PC0042", "PC0150", "three"]);
        assert_eq!(reports[0].inputs.len(), 1);
        assert!(
            reports[2].inputs[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("nothing usable")
        );
    }

    #[test]
    fn fleet_of_folders_zips_and_bundles() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        fs::create_dir(&a).unwrap();
        fs::copy(
            samples().join("hybrid-enrolled/dsregcmd.txt"),
            a.join("dsregcmd.txt"),
        )
        .unwrap();
        let dsreg = fs::read(samples().join("not-hybrid-joined/dsregcmd.txt")).unwrap();
        write_zip(&dir.path().join("b.zip"), &[("dsregcmd.txt", &dsreg)]);
        fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/device-bundle/PC0042-enroll-doctor.json"
            ),
            dir.path().join("c.json"),
        )
        .unwrap();
        fs::create_dir(dir.path().join("empty")).unwrap();
        let reports = load_path(dir.path()).unwrap();
        assert_eq!(reports.len(), 4);
        assert!(reports[2].collector.is_some());
        let empty = &reports[3];
        assert!(
            empty.inputs[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("empty")
        );
    }

    #[test]
    fn device_folder_with_its_zip_and_fleet_with_a_readme() {
        let dir = tempfile::tempdir().unwrap();
        let dsreg = b"AzureAdJoined : YES\nDomainJoined : YES\n";
        // Fleet: two device folders and a README beside them.
        let a = dir.path().join("PC-A");
        fs::create_dir(&a).unwrap();
        // PC-A holds only its MdmDiagnosticsTool-style zip: read as part of the folder.
        write_zip(&a.join("MDMDiagReport.zip"), &[("dsregcmd.txt", dsreg)]);
        let b = dir.path().join("PC-B");
        fs::create_dir(&b).unwrap();
        fs::write(b.join("dsregcmd.txt"), dsreg).unwrap();
        // A zip of two device folders inside a device folder stays a note.
        write_zip(
            &b.join("fleet.zip"),
            &[("x/dsregcmd.txt", dsreg), ("y/dsregcmd.txt", dsreg)],
        );
        fs::write(dir.path().join("README.md"), b"# devices of site 4\n").unwrap();
        let reports = load_path(dir.path()).unwrap();
        assert_eq!(reports.len(), 2);
        let ra = &reports[0];
        assert!(ra.dsregcmd.is_some());
        assert_eq!(
            ra.dsregcmd.as_ref().unwrap().file,
            "MDMDiagReport.zip/dsregcmd.txt"
        );
        assert!(
            ra.inputs
                .iter()
                .any(|i| i.name == "../README.md" && i.problem.is_some())
        );
        let rb = &reports[1];
        assert!(rb.dsregcmd.is_some());
        assert!(rb.inputs.iter().any(|i| {
            i.name == "fleet.zip"
                && i.problem
                    .as_deref()
                    .is_some_and(|p| p.contains("several device folders"))
        }));
        // A loose artifact still makes the folder one device's folder.
        fs::write(dir.path().join("dsregcmd.txt"), dsreg).unwrap();
        assert_eq!(load_path(dir.path()).unwrap().len(), 1);
    }

    #[test]
    fn sources_are_read_member_by_member_with_their_input_paths() {
        let dir = tempfile::tempdir().unwrap();
        let fleet = dir.path().join("fleet");
        fs::create_dir(&fleet).unwrap();
        let a = fleet.join("a");
        fs::create_dir(&a).unwrap();
        fs::copy(
            samples().join("hybrid-enrolled/dsregcmd.txt"),
            a.join("dsregcmd.txt"),
        )
        .unwrap();
        let one = fs::read(samples().join("hybrid-enrolled/dsregcmd.txt")).unwrap();
        let two = fs::read(samples().join("not-hybrid-joined/dsregcmd.txt")).unwrap();
        write_zip(
            &fleet.join("b.zip"),
            &[("one/dsregcmd.txt", &one), ("two/dsregcmd.txt", &two)],
        );
        fs::write(fleet.join("README.md"), b"# site 4\n").unwrap();
        let single = samples().join("stale-enrollment");
        let paths = [fleet.clone(), single.clone()];
        let sources = DeviceSources::list(&paths).unwrap();
        assert_eq!(sources.members(), 3);
        let mut seen = Vec::new();
        sources
            .read(None, |d| {
                seen.push((d.at, d.input, d.report));
                Ok::<(), DeviceInputError>(())
            })
            .unwrap();
        let at: Vec<(usize, usize)> = seen.iter().map(|(r, _, _)| (r.member, r.index)).collect();
        assert_eq!(at, [(0, 0), (1, 0), (1, 1), (2, 0)]);
        let inputs: Vec<&Path> = seen.iter().map(|(_, p, _)| p.as_path()).collect();
        assert_eq!(
            inputs,
            [
                a.as_path(),
                fleet.join("b.zip/one").as_path(),
                fleet.join("b.zip/two").as_path(),
                single.as_path()
            ]
        );
        // The same reports, in the same order, as loading each PATH at once.
        let mut all = load_path(&fleet).unwrap();
        all.extend(load_path(&single).unwrap());
        let reports: Vec<DeviceReport> = seen.into_iter().map(|(_, _, r)| r).collect();
        assert_eq!(reports, all);
        assert!(reports[0].inputs.iter().any(|i| i.name == "../README.md"));
        // Only the wanted members are read.
        let mut labels = Vec::new();
        sources
            .read(Some(&|m| m == 1), |d| {
                labels.push(d.report.label);
                Ok::<(), DeviceInputError>(())
            })
            .unwrap();
        assert_eq!(labels, ["PC0042", "PC0150"]);
    }

    #[test]
    fn members_read_ahead_on_several_threads_come_in_order_and_stop_with_the_caller() {
        let dir = tempfile::tempdir().unwrap();
        let n = 3 * READ_AHEAD * 4 + 5;
        for i in 0..n {
            let d = dir.path().join(format!("dev{i:03}"));
            fs::create_dir(&d).unwrap();
            fs::write(
                d.join("dsregcmd.txt"),
                format!("AzureAdJoined : YES\nDomainJoined : YES\nDevice Name : PC{i:03}\n"),
            )
            .unwrap();
        }
        let sources = DeviceSources::list(&[dir.path().to_path_buf()]).unwrap();
        let mut labels = Vec::new();
        sources
            .read(None, |d| {
                assert_eq!(d.at.member, labels.len());
                labels.push(d.report.label);
                Ok::<(), DeviceInputError>(())
            })
            .unwrap();
        let expected: Vec<String> = (0..n).map(|i| format!("PC{i:03}")).collect();
        assert_eq!(labels, expected);
        // The caller stops the run: the readers stop too (the call returns).
        let mut seen = 0;
        let stopped = sources.read(None, |_| {
            seen += 1;
            if seen == 3 {
                return Err(DeviceInputError::EmptyFolder {
                    path: PathBuf::from("stop"),
                });
            }
            Ok(())
        });
        assert!(stopped.is_err());
        assert_eq!(seen, 3);
    }

    #[test]
    fn a_missing_path_fails_the_listing_and_a_fleet_of_failures_the_read() {
        let dir = tempfile::tempdir().unwrap();
        let e = DeviceSources::list(&[samples(), dir.path().join("nope")]).unwrap_err();
        assert!(matches!(e, DeviceInputError::NotFound { .. }), "{e}");
        for name in ["x", "y"] {
            fs::create_dir(dir.path().join(name)).unwrap();
            fs::write(dir.path().join(name).join("notes.txt"), b"nothing").unwrap();
        }
        let sources = DeviceSources::list(&[dir.path().to_path_buf()]).unwrap();
        let mut placeholders = 0;
        let e = sources
            .read(None, |_| {
                placeholders += 1;
                Ok::<(), DeviceInputError>(())
            })
            .unwrap_err();
        assert_eq!(placeholders, 2);
        assert!(matches!(e, DeviceInputError::NothingUsable { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            load_path(dir.path()).unwrap_err().to_string()
        );
    }

    #[test]
    fn bundle_file_alone() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/device-bundle/PC0042-enroll-doctor.json");
        let r = &load_path(&path).unwrap()[0];
        assert_eq!(r.label, "PC0042");
        assert_eq!(r.inputs[0].kind, ArtifactKind::Bundle);
        assert!(r.inputs[0].problem.is_none(), "{:?}", r.inputs[0].problem);
        assert!(r.events.windows(2).all(|w| w[0].time <= w[1].time));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(files in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), 0..4)) {
            let named: Vec<(String, Vec<u8>)> = files.into_iter().enumerate().map(|(i, b)| (format!("f{i}"), b)).collect();
            let r = report_from_memory("x", &named);
            proptest::prop_assert_eq!(r.inputs.len(), named.len());
        }
    }

    /// Every real artifact file bundled in the repo (samples and the unseen-device corpus).
    fn real_artifacts() -> Vec<(String, Vec<u8>)> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for base in [
            root.join("mocks/devices"),
            root.join("tests/fixtures/devices"),
        ] {
            let Ok(dirs) = fs::read_dir(&base) else {
                continue;
            };
            for d in dirs
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
            {
                let Ok(files) = fs::read_dir(&d) else {
                    continue;
                };
                for f in files
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_file())
                {
                    if let Ok(bytes) = fs::read(&f) {
                        out.push((file_name(&f), bytes));
                    }
                }
            }
        }
        // A binary .evtx log, written from a sample's exports.
        out.push((
            "dmedp-admin.evtx".to_string(),
            crate::device::evtx::sample_for_tests(),
        ));
        out.sort();
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// Real files cut short and with bytes flipped — what a broken copy or a bad transfer
        /// produces — never panic the loader or the device checks.
        #[test]
        fn damaged_real_artifacts_never_panic(
            pick in 0usize..10_000,
            cut in 0.0f64..=1.0,
            flips in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 0..8),
        ) {
            let files = real_artifacts();
            proptest::prop_assume!(!files.is_empty());
            let (name, bytes) = &files[pick % files.len()];
            let mut b = bytes.clone();
            b.truncate((b.len() as f64 * cut) as usize);
            let len = b.len();
            for (at, v) in flips {
                if len > 0 {
                    b[((len as f64) * at) as usize % len] = v;
                }
            }
            let r = report_from_memory("damaged", &[(name.clone(), b)]);
            proptest::prop_assert_eq!(r.inputs.len(), 1);
            let _ = crate::checks::device::analyse(&r, chrono::Utc::now());
        }
    }

    /// Runs F on another thread and fails the test if it does not finish in time (a FIFO
    /// opened for reading blocks forever: the regression must fail, not hang the suite).
    #[cfg(unix)]
    fn within_timeout<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("blocked on a special file")
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_as_path_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("dsregcmd.txt");
        crate::fsio::tests::mkfifo(&fifo);
        let f = fifo.clone();
        let e = within_timeout(move || load_path(&f).map(|_| ()))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "{}: is a FIFO (named pipe), not a regular file: not read",
                fifo.display()
            )
        );
        let e = within_timeout(|| load_path(Path::new("/dev/zero")).map(|_| ()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/dev/zero: is a character device"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_in_a_device_folder_or_a_fleet_is_a_note_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let dsreg = b"AzureAdJoined : YES\nDomainJoined : YES\n";
        // A device folder holding its dsregcmd output, a FIFO and a link to /dev/zero.
        let dev = dir.path().join("PC-A");
        fs::create_dir(&dev).unwrap();
        fs::write(dev.join("dsregcmd.txt"), dsreg).unwrap();
        crate::fsio::tests::mkfifo(&dev.join("events.xml"));
        std::os::unix::fs::symlink("/dev/zero", dev.join("zero.log")).unwrap();
        let d = dev.clone();
        let r = within_timeout(move || load_path(&d).unwrap()).remove(0);
        assert!(r.dsregcmd.is_some());
        let problem = |name: &str| {
            r.inputs
                .iter()
                .find(|i| i.name == name)
                .and_then(|i| i.problem.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            problem("events.xml"),
            "is a FIFO (named pipe), not a regular file: not read"
        );
        assert_eq!(
            problem("zero.log"),
            "is a character device, not a regular file: not read"
        );
        // A fleet: that folder, a second device and a FIFO beside them.
        let other = dir.path().join("PC-B");
        fs::create_dir(&other).unwrap();
        fs::write(other.join("dsregcmd.txt"), dsreg).unwrap();
        crate::fsio::tests::mkfifo(&dir.path().join("incoming.zip"));
        let root = dir.path().to_path_buf();
        let reports = within_timeout(move || load_path(&root).unwrap());
        assert_eq!(reports.len(), 2);
        assert!(reports.iter().all(|r| r.dsregcmd.is_some()));
        assert!(reports[0].inputs.iter().any(|i| i.name == "../incoming.zip"
            && i.problem.as_deref()
                == Some("is a FIFO (named pipe), not a regular file: not read")));
        assert!(reports[0].inputs.iter().any(|i| i.name == "events.xml"));
    }

    #[test]
    fn sample_folder_parses_fast() {
        let dir = samples().join("stale-enrollment");
        load_path(&dir).unwrap();
        let start = std::time::Instant::now();
        for _ in 0..10 {
            load_path(&dir).unwrap();
        }
        eprintln!("10 loads of stale-enrollment: {:?}", start.elapsed());
        // Debug build, shared CPU: generous bound; release is far below 10 ms per folder.
        assert!(start.elapsed().as_millis() < 1000, "{:?}", start.elapsed());
    }
}
