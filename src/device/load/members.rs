//! Archive members (zip entries, cabinet files) and MdmDiagnosticsTool's bundle files as one
//! device's inputs: every member goes through the same per-file dispatch as a loose file
//! (`Builder::add_bytes`), and the bundle's own files (DeviceHash CSV, Autopilot profiles, the
//! HTML summary) are handled here.

use std::path::{Path, PathBuf};

use super::{Builder, DeviceInputError, file_name};
use crate::device::cab::{Cab, CabMember, CabOpenError};
use crate::device::mdmdiag_bundle;
use crate::device::report::{ArtifactKind, DeviceReport, InputFile};

impl Builder {
    /// The step every archive member takes: GOT is its bytes, why they were not read, or
    /// `None` for a member left unread on purpose (listed, without a note).
    pub(super) fn add_member(
        &mut self,
        name: &str,
        size: u64,
        got: Option<Result<Vec<u8>, String>>,
    ) {
        match got {
            Some(Ok(bytes)) => self.add_bytes(name, &bytes),
            Some(Err(reason)) => self.note(name, size, &reason),
            None => self.listed(name, size),
        }
    }

    /// An input listed and not read (an ETW trace of the bundle): no note.
    pub(super) fn listed(&mut self, name: &str, bytes: u64) {
        self.report.inputs.push(InputFile {
            name: name.to_string(),
            kind: ArtifactKind::Unrecognised,
            encoding: None,
            bytes,
            problem: None,
            records: 0,
        });
    }

    /// Every file of the cabinet at PATH, named `PREFIX/NAME` inside a device folder.
    pub(super) fn add_cab(&mut self, path: &Path, prefix: Option<&str>) {
        let label = file_name(path);
        let (mut cab, members) = match open_cab(path) {
            Ok(v) => v,
            Err(e) => {
                let size = std::fs::metadata(path).map_or(0, |m| m.len());
                return self.note(&label, size, &e.to_string());
            }
        };
        if members.is_empty() {
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            return self.note(&label, size, "the cabinet holds no files");
        }
        let named = |m: &CabMember| match prefix {
            Some(p) => format!("{p}/{}", m.name),
            None => m.name.clone(),
        };
        cab.read_members(
            &members,
            |m| !mdmdiag_bundle::skip_unread(&m.name),
            |m, got| self.add_member(&named(m), m.size, got),
        );
    }

    /// Once every input is known: the HTML summary is noted only when the bundle lacks
    /// `MDMDiagReport.xml`.
    pub(super) fn settle_bundle(&mut self) {
        let has_xml = self
            .report
            .inputs
            .iter()
            .any(|i| i.kind == ArtifactKind::MdmDiagReport);
        for i in &mut self.report.inputs {
            if i.kind == ArtifactKind::MdmDiagHtml && i.problem.is_none() {
                i.problem = mdmdiag_bundle::html_note(has_xml).map(str::to_string);
            }
        }
    }
}

/// Opens a cabinet and lists its files, or the error naming it.
fn open_cab(path: &Path) -> Result<(Cab, Vec<CabMember>), DeviceInputError> {
    Cab::open(path).map_err(|e| match e {
        CabOpenError::File(e) => e.into(),
        CabOpenError::Bad(reason) => DeviceInputError::BadCab {
            path: path.to_path_buf(),
            reason,
        },
    })
}

/// A cabinet (MdmDiagnosticsTool's `-cab` bundle): always one device.
pub(super) fn load_cab(path: &Path) -> Result<Vec<(PathBuf, DeviceReport)>, DeviceInputError> {
    let (mut cab, members) = open_cab(path)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_name(path));
    if members.is_empty() {
        return Err(DeviceInputError::NothingUsable {
            path: path.to_path_buf(),
            reason: "the cabinet holds no files".to_string(),
        });
    }
    let mut b = Builder::default();
    cab.read_members(
        &members,
        |m| !mdmdiag_bundle::skip_unread(&m.name),
        |m, got| b.add_member(&m.name, m.size, got),
    );
    b.finish(path, &stem).map(|r| vec![(path.to_path_buf(), r)])
}
