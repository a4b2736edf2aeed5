//! Zip archives of device artifacts, read in memory one entry at a time: the archive's
//! directory is listed first (names and sizes, nothing decompressed), then each entry is read
//! within the caps, handed on and dropped before the next is read. Unsafe paths are refused
//! and nothing is ever extracted to disk.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path};

use crate::fsio::{self, FileKind};

/// Largest file read into memory (a file, or a zip entry once uncompressed).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Most uncompressed data read from one zip (guards against zip bombs).
pub const MAX_ZIP_TOTAL_BYTES: u64 = 256 * 1024 * 1024;

/// A zip archive is read as a stream from its file: its own size is not capped (the data read
/// from it is).
pub(crate) const ZIP_FILE: FileKind = FileKind::fixed("zip archive", u64::MAX);

/// The note for a file or entry larger than [`MAX_FILE_BYTES`].
pub(crate) fn too_large(size: u64) -> String {
    format!(
        "too large ({size} bytes; the limit is {} MiB): not read",
        MAX_FILE_BYTES / (1024 * 1024)
    )
}

/// One entry as the archive's directory lists it.
#[derive(Debug, Clone)]
pub(crate) struct ZipEntry {
    index: usize,
    pub name: String,
    /// The uncompressed size the archive declares (it can lie: reads are capped anyway).
    pub size: u64,
    /// Why the entry is not read, known from the directory alone (unsafe path, too large).
    pub refused: Option<String>,
}

impl ZipEntry {
    /// The entry's top-level folder, for an entry that is read and sits in one.
    pub fn top_folder(&self) -> Option<&str> {
        if self.refused.is_some() {
            return None;
        }
        self.name.split_once(['/', '\\']).map(|(top, _)| top)
    }
}

/// An open archive and what is left of its budget of uncompressed bytes.
pub(crate) struct Zip {
    archive: zip::ZipArchive<BufReader<File>>,
    budget: u64,
}

/// Why a zip could not be opened at all.
#[derive(Debug)]
pub(crate) enum ZipOpenError {
    File(fsio::FileError),
    Bad(String),
}

impl Zip {
    /// Opens PATH and lists its entries (folders and macOS metadata left out).
    pub fn open(path: &Path) -> Result<(Zip, Vec<ZipEntry>), ZipOpenError> {
        let (file, _) = fsio::open_regular(path, ZIP_FILE).map_err(ZipOpenError::File)?;
        let mut archive = zip::ZipArchive::new(BufReader::new(file))
            .map_err(|e| ZipOpenError::Bad(e.to_string()))?;
        let mut entries = Vec::with_capacity(archive.len());
        for index in 0..archive.len() {
            let entry = match archive.by_index_raw(index) {
                Ok(e) => e,
                Err(e) => {
                    entries.push(ZipEntry {
                        index,
                        name: format!("entry #{index}"),
                        size: 0,
                        refused: Some(format!("unreadable zip entry: {e}")),
                    });
                    continue;
                }
            };
            let name = match entry.name() {
                Ok(n) => n.into_owned(),
                Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
            };
            // Folders, and the metadata macOS adds to archives, are not artifacts.
            if entry.is_dir() || name.starts_with("__MACOSX/") {
                continue;
            }
            let size = entry.size();
            let refused = if !is_safe_entry_name(&name) || entry.enclosed_name().is_none() {
                Some("unsafe path in zip (absolute or with '..'): entry not read".to_string())
            } else if size > MAX_FILE_BYTES {
                Some(too_large(size))
            } else {
                None
            };
            entries.push(ZipEntry {
                index,
                name,
                size,
                refused,
            });
        }
        Ok((
            Zip {
                archive,
                budget: MAX_ZIP_TOTAL_BYTES,
            },
            entries,
        ))
    }

    /// The uncompressed bytes of ENTRY, within the caps, or why they were not read.
    pub fn read(&mut self, entry: &ZipEntry) -> Result<Vec<u8>, String> {
        if let Some(why) = &entry.refused {
            return Err(why.clone());
        }
        if entry.size > self.budget {
            return Err(format!(
                "not read: the archive holds more than {} MiB of data",
                MAX_ZIP_TOTAL_BYTES / (1024 * 1024)
            ));
        }
        let cap = MAX_FILE_BYTES.min(self.budget);
        let mut file = self
            .archive
            .by_index(entry.index)
            .map_err(|e| format!("unreadable zip entry: {e}"))?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size.min(cap)).unwrap_or(0));
        // The declared size can lie (zip bombs): never read more than the cap.
        match (&mut file).take(cap + 1).read_to_end(&mut bytes) {
            Ok(_) if bytes.len() as u64 > cap => Err(too_large(bytes.len() as u64)),
            Ok(_) => {
                self.budget -= bytes.len() as u64;
                Ok(bytes)
            }
            Err(e) => Err(format!("cannot read zip entry: {e}")),
        }
    }
}

/// Two or more top-level folders and no readable file at the root: one device per folder.
pub(crate) fn is_fleet_zip(entries: &[ZipEntry]) -> bool {
    let mut folders: Vec<&str> = Vec::new();
    for e in entries.iter().filter(|e| e.refused.is_none()) {
        match e.top_folder() {
            Some(top) if folders.len() < 2 && !folders.contains(&top) => folders.push(top),
            Some(_) => {}
            None => return false,
        }
    }
    folders.len() >= 2
}

/// Rejects `..`, absolute paths, drive letters and backslash tricks, whatever the platform.
fn is_safe_entry_name(name: &str) -> bool {
    let unified = name.replace('\\', "/");
    if unified.starts_with('/') || unified.contains(':') {
        return false;
    }
    !Path::new(&unified).components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::RootDir | Component::Prefix(_)
        )
    }) && !unified.split('/').any(|part| part == "..")
}
