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

/// A device artifact file, or a zip entry once uncompressed: read whole, up to
/// [`MAX_FILE_BYTES`]. Its [`FileKind::too_large`] is the note for one past the limit.
pub(crate) const DEVICE_FILE: FileKind = FileKind::fixed("device file", MAX_FILE_BYTES);

/// The caps a zip is read within: per entry, and for all entries together.
#[derive(Debug, Clone, Copy)]
struct Caps {
    entry: FileKind,
    total: u64,
}

const CAPS: Caps = Caps {
    entry: DEVICE_FILE,
    total: MAX_ZIP_TOTAL_BYTES,
};

/// The note for an entry not read because the archive's budget of uncompressed data is spent
/// (or would be by this entry).
fn over_budget(total: u64) -> String {
    format!(
        "not read: the archive's entries uncompress to more than {}, the limit for one zip",
        fsio::show_size(total)
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
    caps: Caps,
    /// Uncompressed bytes left: every byte inflated is charged, whether the entry is then
    /// used or refused; once none are left the remaining entries are not read.
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
        Zip::open_within(path, CAPS)
    }

    fn open_within(path: &Path, caps: Caps) -> Result<(Zip, Vec<ZipEntry>), ZipOpenError> {
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
            } else if size > caps.entry.max_bytes {
                Some(caps.entry.too_large())
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
                caps,
                budget: caps.total,
            },
            entries,
        ))
    }

    /// The uncompressed bytes of ENTRY, within the caps, or why they were not read.
    pub fn read(&mut self, entry: &ZipEntry) -> Result<Vec<u8>, String> {
        if let Some(why) = &entry.refused {
            return Err(why.clone());
        }
        if self.budget == 0 || entry.size > self.budget {
            return Err(over_budget(self.caps.total));
        }
        let per_entry = self.caps.entry.max_bytes;
        let cap = per_entry.min(self.budget);
        let mut file = self
            .archive
            .by_index(entry.index)
            .map_err(|e| format!("unreadable zip entry: {e}"))?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size.min(cap)).unwrap_or(0));
        // The declared size can lie (zip bombs): never read more than the cap, and charge what
        // was inflated, on every path, so lying entries cannot inflate again and again.
        let read = (&mut file).take(cap + 1).read_to_end(&mut bytes);
        let got = bytes.len() as u64;
        self.budget = self.budget.saturating_sub(got);
        match read {
            Ok(_) if got > cap && cap < per_entry => Err(over_budget(self.caps.total)),
            Ok(_) if got > cap => Err(self.caps.entry.too_large()),
            Ok(_) => Ok(bytes),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip of ENTRIES `(name, data)`, each declaring an uncompressed size of LIE bytes when
    /// given.
    fn zip_bytes(entries: &[(String, Vec<u8>)], lie: Option<u32>) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            z.start_file(name.as_str(), opts).unwrap();
            z.write_all(data).unwrap();
        }
        let mut bytes = z.finish().unwrap().into_inner();
        if let Some(lie) = lie {
            // The uncompressed size of every local header (offset 22) and central directory
            // record (offset 24) set to LIE.
            for (sig, at) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
                let starts: Vec<usize> = bytes
                    .windows(4)
                    .enumerate()
                    .filter(|(_, w)| w == sig)
                    .map(|(i, _)| i)
                    .collect();
                for i in starts {
                    bytes[i + at..i + at + 4].copy_from_slice(&lie.to_le_bytes());
                }
            }
        }
        bytes
    }

    const SMALL: Caps = Caps {
        entry: FileKind::fixed("device file", 1024),
        total: 4096,
    };

    fn read_all(bytes: &[u8]) -> (Vec<Result<usize, String>>, u64) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.zip");
        std::fs::write(&p, bytes).unwrap();
        let Ok((mut zip, entries)) = Zip::open_within(&p, SMALL) else {
            panic!("not opened");
        };
        let out = entries
            .iter()
            .map(|e| zip.read(e).map(|b| b.len()))
            .collect();
        (out, zip.budget)
    }

    #[test]
    fn entries_that_lie_about_their_size_use_up_the_budget() {
        let too_large = "is larger than 1 KiB, the limit for a device file: not read";
        let spent = "not read: the archive's entries uncompress to more than 4 KiB, the limit for \
                     one zip";
        let data = |n: usize, len: usize| -> Vec<(String, Vec<u8>)> {
            (0..n)
                .map(|i| (format!("e{i}.txt"), vec![b'a'; len]))
                .collect()
        };
        let count = |out: &[Result<usize, String>], why: &str| {
            out.iter()
                .filter(|r| r.as_ref().err().is_some_and(|e| e.starts_with(why)))
                .count()
        };

        // Twelve entries declaring 1000 bytes, each inflating to 3000: what was inflated
        // before the lie showed is charged, so after four the budget is spent and the other
        // eight are refused without being inflated.
        let (out, budget) = read_all(&zip_bytes(&data(12, 3000), Some(1000)));
        assert_eq!(count(&out, "cannot read zip entry"), 4, "{out:?}");
        assert_eq!(count(&out, spent), 8, "{out:?}");
        assert!(budget < 1000, "{budget}");

        // Entries declaring nothing: the zip reader stops at the declared size, so each is
        // refused as damaged and nothing past the declaration was inflated or charged.
        let (out, budget) = read_all(&zip_bytes(&data(12, 3000), Some(0)));
        assert_eq!(count(&out, "cannot read zip entry"), 12, "{out:?}");
        assert_eq!(budget, 4096);
        // Declared larger than the cap: refused from the directory, nothing inflated.
        let (out, budget) = read_all(&zip_bytes(&data(3, 3000), None));
        assert_eq!(count(&out, too_large), 3, "{out:?}");
        assert_eq!(budget, 4096);

        // Honest entries: read until the budget is what stops one, and the note says so.
        let (out, budget) = read_all(&zip_bytes(&data(5, 1000), None));
        assert_eq!(out[..4], [Ok(1000), Ok(1000), Ok(1000), Ok(1000)]);
        assert_eq!(out[4], Err(spent.to_string()));
        assert_eq!(budget, 96);
    }
}
