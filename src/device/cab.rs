//! Cabinet (`.cab`) archives, as `MdmDiagnosticsTool.exe -area … -cab FILE` writes them, read in
//! memory: the file table is listed first (names, sizes, where each file sits in its folder),
//! then each folder's data is inflated once, front to back, and the members that are wanted are
//! cut out of it one at a time, within the caps of `device/member.rs`, handed on and dropped.
//! Nothing is extracted to disk.
//!
//! The `cab` crate parses the header and folders and decodes the data (MSZIP, LZX, stored).
//! Its own per-file reader starts again at the beginning of the folder for every file (all of
//! MdmDiagnosticsTool's files share one folder, so reading them one by one would inflate the
//! folder once per file) and indexes past the end of a folder when a file says it lies beyond
//! it. So the cabinet is handed to the crate re-indexed: the same bytes, with the header's file
//! table pointing at a table of one file per folder, spanning it (a valid cabinet too). Reading
//! that file streams the folder sequentially, and the real table says where each member starts
//! and ends. Format: [MS-CAB] (CFHEADER, CFFOLDER, CFFILE).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::archive::DEVICE_FILE;
use super::member::{Budget, Caps, is_safe_member_name};
use crate::fsio::{self, FileKind};

/// Most data inflated from one cabinet, members read and data skipped over alike. A cabinet's
/// folder is read front to back, so the logs between two wanted members are inflated too:
/// the budget is larger than a zip's, memory stays one member at a time.
pub const MAX_CAB_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;

/// A cabinet is read as a stream from its file: its own size is not capped (the data inflated
/// from it is).
pub(crate) const CAB_FILE: FileKind = FileKind::fixed("cabinet", u64::MAX);

const CAPS: Caps = Caps {
    member: DEVICE_FILE,
    total: MAX_CAB_TOTAL_BYTES,
    archive: "cabinet",
};

/// `MSCF`, the first four bytes of every cabinet.
const SIGNATURE: &[u8; 4] = b"MSCF";
/// CFHEADER: `coffFiles` (offset of the first CFFILE) and `cFiles`, at fixed offsets.
const AT_COFF_FILES: usize = 16;
const AT_C_FOLDERS: usize = 26;
const AT_C_FILES: usize = 28;
const HEADER_LEN: usize = 36;
/// CFFILE `iFolder` values for a file continued from or into another cabinet of a set.
const CONTINUED: u16 = 0xFFFD;
/// CFFILE `attribs`: the name is UTF-8 (otherwise the code page of the machine that wrote it).
const NAME_IS_UTF: u16 = 0x80;
/// A CFDATA block holds at most 64 KiB once inflated.
const FIRST_BLOCK: u64 = 0x1_0000;
/// CFFILE `szName` is at most 256 bytes with its NUL.
const MAX_NAME: usize = 256;

/// Cabinet by its magic bytes.
pub(crate) fn is_cab(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    fsio::open_regular(path, CAB_FILE)
        .ok()
        .and_then(|(mut f, _)| f.read_exact(&mut magic).ok())
        .is_some_and(|()| magic == *SIGNATURE)
}

/// One file as the cabinet's table lists it.
#[derive(Debug, Clone)]
pub(crate) struct CabMember {
    pub name: String,
    /// The uncompressed size the table declares.
    pub size: u64,
    folder: u16,
    offset: u64,
    /// Why the member is not read, known from the table alone (unsafe path, too large).
    pub refused: Option<String>,
}

/// Why a cabinet could not be opened at all.
#[derive(Debug)]
pub(crate) enum CabOpenError {
    File(fsio::FileError),
    Bad(String),
}

/// An open cabinet, re-indexed for the crate, and what is left of its budget.
pub(crate) struct Cab {
    cabinet: cab::Cabinet<Reindexed<BufReader<File>>>,
    budget: Budget,
}

impl Cab {
    /// Opens PATH and lists its files in the order their data is stored (folder by folder,
    /// front to back).
    pub fn open(path: &Path) -> Result<(Cab, Vec<CabMember>), CabOpenError> {
        Cab::open_within(path, CAPS)
    }

    fn open_within(path: &Path, caps: Caps) -> Result<(Cab, Vec<CabMember>), CabOpenError> {
        let (file, _) = fsio::open_regular(path, CAB_FILE).map_err(CabOpenError::File)?;
        let mut reader = BufReader::new(file);
        let bad = |e: io::Error| CabOpenError::Bad(cut_short(e));
        let mut header = [0u8; HEADER_LEN];
        reader.read_exact(&mut header).map_err(bad)?;
        if header[..4] != *SIGNATURE {
            return Err(CabOpenError::Bad("no MSCF signature".to_string()));
        }
        let folders = u16_at(&header, AT_C_FOLDERS);
        let files = u16_at(&header, AT_C_FILES);
        let table_at = u32_at(&header, AT_COFF_FILES);
        let end = reader.seek(SeekFrom::End(0)).map_err(bad)?;
        reader
            .seek(SeekFrom::Start(u64::from(table_at)))
            .map_err(bad)?;
        let mut members = Vec::with_capacity(usize::from(files));
        for n in 0..files {
            let m = read_file_entry(&mut reader).map_err(|e| {
                CabOpenError::Bad(format!("file table entry #{n}: {}", cut_short(e)))
            })?;
            if m.folder >= CONTINUED {
                return Err(CabOpenError::Bad(format!(
                    "{} continues in another cabinet of a set: only whole cabinets are read",
                    m.name
                )));
            }
            if m.folder >= folders {
                return Err(CabOpenError::Bad(format!(
                    "{} names folder {} of {}",
                    m.name, m.folder, folders
                )));
            }
            let refused = caps.refusal(&m.name, m.size);
            members.push(CabMember { refused, ..m });
        }
        members.sort_by_key(|m| (m.folder, m.offset));
        let view = Reindexed::new(reader, end, &header, folders).map_err(bad)?;
        let cabinet = cab::Cabinet::new(view).map_err(|e| CabOpenError::Bad(cut_short(e)))?;
        Ok((
            Cab {
                cabinet,
                budget: Budget::new(caps),
            },
            members,
        ))
    }

    /// Hands every member of MEMBERS (as [`Cab::open`] listed them) to EACH in order: its
    /// bytes or why they were not read, or `None` for a member WANTED declines (its data is
    /// skipped over without being kept, or not inflated at all after the last wanted member of
    /// its folder).
    pub fn read_members(
        &mut self,
        members: &[CabMember],
        wanted: impl Fn(&CabMember) -> bool,
        mut each: impl FnMut(&CabMember, Option<Result<Vec<u8>, String>>),
    ) {
        let mut start = 0;
        while start < members.len() {
            let folder = members[start].folder;
            let len = members[start..]
                .iter()
                .take_while(|m| m.folder == folder)
                .count();
            self.read_folder(&members[start..start + len], &wanted, &mut each);
            start += len;
        }
    }

    fn read_folder(
        &mut self,
        group: &[CabMember],
        wanted: &impl Fn(&CabMember) -> bool,
        each: &mut impl FnMut(&CabMember, Option<Result<Vec<u8>, String>>),
    ) {
        let Cab { cabinet, budget } = self;
        let Some(first) = group.iter().find(|m| m.refused.is_none() && wanted(m)) else {
            // Nothing wanted: the folder is not inflated at all.
            for m in group {
                each(m, refused(m, wanted));
            }
            return;
        };
        // Once the folder's data fails, the members after it cannot be reached.
        let mut broken: Option<String> = None;
        if budget.left == 0 {
            broken = Some(budget.caps.over_budget());
        }
        // Opening a folder inflates its first data block (at most 64 KiB): charged up front,
        // so a cabinet of many small folders cannot inflate without limit.
        budget.left = budget.left.saturating_sub(FIRST_BLOCK);
        let mut stream = match cabinet.read_file(&first.folder.to_string()) {
            Ok(s) => Some(s),
            Err(e) => {
                broken = Some(format!(
                    "cannot read its folder in the cabinet: {}",
                    cut_short(e)
                ));
                None
            }
        };
        let mut at = 0u64;
        for m in group {
            if m.refused.is_some() || !wanted(m) {
                each(m, refused(m, wanted));
                continue;
            }
            if let Some(why) = &broken {
                each(m, Some(Err(why.clone())));
                continue;
            }
            if budget.left == 0 {
                each(m, Some(Err(budget.caps.over_budget())));
                continue;
            }
            let Some(s) = stream.as_mut() else {
                continue;
            };
            if m.offset < at {
                each(
                    m,
                    Some(Err(
                        "overlaps another file of the cabinet: not read".to_string()
                    )),
                );
                continue;
            }
            match budget.skip(s, m.offset - at) {
                Ok(true) => at = m.offset,
                Ok(false) => {
                    let why = ends_early();
                    each(m, Some(Err(why.clone())));
                    broken = Some(why);
                    continue;
                }
                Err(why) => {
                    each(m, Some(Err(why.clone())));
                    broken = Some(why);
                    continue;
                }
            }
            let got = budget.read(&mut s.take(m.size), m.size);
            match got {
                Ok(bytes) if (bytes.len() as u64) < m.size => {
                    broken = Some(ends_early());
                    each(m, Some(Err(ends_early())));
                }
                Ok(bytes) => {
                    at += m.size;
                    each(m, Some(Ok(bytes)));
                }
                Err(why) => {
                    broken = Some(why.clone());
                    each(m, Some(Err(why)));
                }
            }
        }
    }
}

/// What a member that is not read gets: `None` when it is not wanted (its size does not
/// matter then), else why it is refused. An unsafe name is always said.
fn refused(m: &CabMember, wanted: &impl Fn(&CabMember) -> bool) -> Option<Result<Vec<u8>, String>> {
    if !wanted(m) && is_safe_member_name(&m.name) {
        return None;
    }
    m.refused.clone().map(Err)
}

fn ends_early() -> String {
    "the cabinet's data ends before this file does (cut short or damaged): not read".to_string()
}

/// An I/O error while reading the table: an early end is a truncated file.
fn cut_short(e: io::Error) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        "the file ends early (cut short)".to_string()
    } else {
        e.to_string()
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// One CFFILE: `cbFile`, `uoffFolderStart`, `iFolder`, `date`, `time`, `attribs`, `szName`.
fn read_file_entry(r: &mut impl Read) -> io::Result<CabMember> {
    let mut fixed = [0u8; 16];
    r.read_exact(&mut fixed)?;
    let attribs = u16_at(&fixed, 14);
    let mut raw = Vec::new();
    loop {
        let mut b = [0u8; 1];
        r.read_exact(&mut b)?;
        if b[0] == 0 {
            break;
        }
        if raw.len() + 1 >= MAX_NAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a file name longer than 255 bytes",
            ));
        }
        raw.push(b[0]);
    }
    let name = if attribs & NAME_IS_UTF != 0 {
        String::from_utf8_lossy(&raw).into_owned()
    } else {
        // The writer's code page is unknown: ASCII as is, other bytes as Latin-1.
        raw.iter().map(|&b| char::from(b)).collect()
    };
    Ok(CabMember {
        name,
        size: u64::from(u32_at(&fixed, 0)),
        offset: u64::from(u32_at(&fixed, 4)),
        folder: u16_at(&fixed, 8),
        refused: None,
    })
}

/// The cabinet's bytes as the crate reads them: unchanged, except that the header's
/// `coffFiles` and `cFiles` point past the end of the file, where a table of one file per
/// folder (named by the folder's number, starting at 0 and spanning the whole folder) follows.
struct Reindexed<R> {
    inner: R,
    /// Length of the real file; the virtual table starts here.
    end: u64,
    header: [u8; HEADER_LEN],
    table: Vec<u8>,
    pos: u64,
}

impl<R: Read + Seek> Reindexed<R> {
    fn new(mut inner: R, end: u64, real: &[u8; HEADER_LEN], folders: u16) -> io::Result<Self> {
        let mut header = *real;
        let table_at = u32::try_from(end)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "larger than 4 GiB"))?;
        header[AT_COFF_FILES..AT_COFF_FILES + 4].copy_from_slice(&table_at.to_le_bytes());
        header[AT_C_FILES..AT_C_FILES + 2].copy_from_slice(&folders.to_le_bytes());
        let mut table = Vec::new();
        for folder in 0..folders {
            // cbFile: the largest size a cabinet file may have; the folder's data ends first.
            table.extend_from_slice(&0x7FFF_8000u32.to_le_bytes());
            table.extend_from_slice(&0u32.to_le_bytes());
            table.extend_from_slice(&folder.to_le_bytes());
            // date (1980-01-01), time, attribs (UTF-8 name).
            table.extend_from_slice(&0x0021u16.to_le_bytes());
            table.extend_from_slice(&0u16.to_le_bytes());
            table.extend_from_slice(&NAME_IS_UTF.to_le_bytes());
            table.extend_from_slice(folder.to_string().as_bytes());
            table.push(0);
        }
        inner.seek(SeekFrom::Start(0))?;
        Ok(Reindexed {
            inner,
            end,
            header,
            table,
            pos: 0,
        })
    }
}

impl<R: Read + Seek> Read for Reindexed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.end {
            let at = usize::try_from(self.pos - self.end).unwrap_or(usize::MAX);
            let rest = self.table.get(at..).unwrap_or(&[]);
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.pos += n as u64;
            return Ok(n);
        }
        let room = usize::try_from(self.end - self.pos).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        // The patched header bytes replace the real ones.
        if let Ok(at) = usize::try_from(self.pos)
            && at < HEADER_LEN
        {
            let k = n.min(HEADER_LEN - at);
            buf[..k].copy_from_slice(&self.header[at..at + k]);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Reindexed<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let total = self.end + self.table.len() as u64;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => total.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target < self.end {
            self.inner.seek(SeekFrom::Start(target))?;
        }
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests;
