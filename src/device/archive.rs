//! Zip archives of device artifacts, read in memory one entry at a time: the archive's
//! directory is listed first (names and sizes, nothing decompressed), then each entry is read
//! within the caps, handed on and dropped before the next is read. Unsafe paths are refused
//! and nothing is ever extracted to disk. What zips and cabinets share (the checks on a
//! member's name and size, the budget) is `device/member.rs`.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::member::{Budget, Caps};
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

const CAPS: Caps = Caps {
    member: DEVICE_FILE,
    total: MAX_ZIP_TOTAL_BYTES,
    archive: "zip",
};

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
    budget: Budget,
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
            let refused = match caps.refusal(&name, size) {
                None if entry.enclosed_name().is_none() => caps.refusal("..", 0),
                other => other,
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
                budget: Budget::new(caps),
            },
            entries,
        ))
    }

    /// The uncompressed bytes of ENTRY, within the caps, or why they were not read.
    pub fn read(&mut self, entry: &ZipEntry) -> Result<Vec<u8>, String> {
        if let Some(why) = &entry.refused {
            return Err(why.clone());
        }
        if self.budget.left == 0 || entry.size > self.budget.left {
            return Err(self.budget.caps.over_budget());
        }
        let mut file = self
            .archive
            .by_index(entry.index)
            .map_err(|e| format!("unreadable zip entry: {e}"))?;
        // The declared size can lie (zip bombs): the budget reads no more than the cap and
        // charges what was inflated.
        self.budget.read(&mut file, entry.size)
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
        member: FileKind::fixed("device file", 1024),
        total: 4096,
        archive: "zip",
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
        (out, zip.budget.left)
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
