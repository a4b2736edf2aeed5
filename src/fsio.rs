//! Guarded reads of the files a run is given (config, certificate, token, users, snapshot,
//! redaction key, device files): only regular files are opened, and never read past a limit
//! per kind of file.
//!
//! The type is checked before opening (a FIFO blocks `open`, a device never ends), the file is
//! opened without blocking (`O_NONBLOCK` on unix, so a FIFO swapped in after the check does not
//! block either) and the opened handle is checked again. Reads stop one byte past the limit, so
//! a file that grows while read (or lies about its size) is refused too.

use std::fs::{File, Metadata};
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// What a file is for and how large it may be: named in the error past the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind {
    /// "config file", "certificate", … (as in "the limit for a config file").
    pub what: &'static str,
    pub max_bytes: u64,
    /// The environment variable that raises or lowers the limit (in MiB), if any.
    pub env: Option<&'static str>,
}

impl FileKind {
    /// A kind whose limit no environment variable changes.
    pub const fn fixed(what: &'static str, max_bytes: u64) -> FileKind {
        FileKind {
            what,
            max_bytes,
            env: None,
        }
    }

    /// The kind with its limit from its environment variable when that is set: a whole number
    /// of MiB, at least 1.
    pub fn from_env(self) -> Result<FileKind, BadLimit> {
        let Some(var) = self.env else {
            return Ok(self);
        };
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => match v.trim().parse::<u64>() {
                Ok(mib) if (1..=u64::MAX / MIB).contains(&mib) => Ok(FileKind {
                    max_bytes: mib * MIB,
                    ..self
                }),
                _ => Err(BadLimit { var, value: v }),
            },
            _ => Ok(self),
        }
    }

    /// Why a file of this kind past its limit is not read (the one wording for "too large").
    pub fn too_large(&self) -> String {
        let mut s = format!(
            "is larger than {}, the limit for a {}: not read",
            show_size(self.max_bytes),
            self.what
        );
        if let Some(var) = self.env {
            s.push_str(&format!(" (set {var} to a number of MiB to change it)"));
        }
        s
    }
}

/// Why a file that is FOUND ("a FIFO (named pipe)") is not read (the one wording for it).
pub fn not_regular(found: &str) -> String {
    format!("is {found}, not a regular file: not read")
}

/// A limit variable that is not a whole number of MiB.
#[derive(Debug, thiserror::Error)]
#[error("{var} must be a whole number of MiB (at least 1), got '{value}'")]
pub struct BadLimit {
    pub var: &'static str,
    pub value: String,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

pub const CONFIG_FILE: FileKind = FileKind::fixed("config file", MIB);
pub const CERTIFICATE: FileKind = FileKind::fixed("certificate or key file", MIB);
pub const TOKEN_FILE: FileKind = FileKind::fixed("token file", MIB);
pub const REDACTION_KEY: FileKind = FileKind::fixed("redaction key file", 4 * KIB);

/// Why a file was not read. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: {}", path.display(), self.reason())]
    NotFound { path: PathBuf },
    #[error("{}: {}", path.display(), self.reason())]
    NotRegular { path: PathBuf, found: &'static str },
    #[error("{}: {}", path.display(), self.reason())]
    TooLarge {
        path: PathBuf,
        kind: FileKind,
        /// The size seen: the file's length, or at least one byte past the limit.
        size: u64,
    },
    #[error("{}: {}", path.display(), self.reason())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl FileError {
    /// The file named.
    pub fn path(&self) -> &Path {
        match self {
            FileError::NotFound { path }
            | FileError::NotRegular { path, .. }
            | FileError::TooLarge { path, .. }
            | FileError::Io { path, .. } => path,
        }
    }

    /// The message without the file's name, for callers that name it already.
    pub fn reason(&self) -> String {
        match self {
            FileError::NotFound { .. } => "no such file".to_string(),
            FileError::NotRegular { found, .. } => not_regular(found),
            FileError::TooLarge { kind, .. } => kind.too_large(),
            FileError::Io { source, .. } => source.to_string(),
        }
    }

    /// As an `io::Error` carrying [`FileError::reason`], for callers whose error type wraps
    /// one next to the path.
    pub fn into_io(self) -> io::Error {
        let kind = match &self {
            FileError::NotFound { .. } => io::ErrorKind::NotFound,
            FileError::Io { source, .. } => source.kind(),
            FileError::NotRegular { .. } | FileError::TooLarge { .. } => {
                io::ErrorKind::InvalidInput
            }
        };
        match self {
            FileError::Io { source, .. } => source,
            other => io::Error::new(kind, other.reason()),
        }
    }
}

/// `32 MiB`, `4 KiB`, `100 bytes`.
pub fn show_size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// What a file that is not a regular file is ("a FIFO"), or `None` for a regular file.
pub fn special_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

fn io_err(path: &Path, source: io::Error) -> FileError {
    if source.kind() == io::ErrorKind::NotFound {
        FileError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        FileError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Opens PATH for reading if it is a regular file (links followed) no larger than the kind's
/// limit; gives the open file and its length.
pub fn open_regular(path: &Path, kind: FileKind) -> Result<(File, u64), FileError> {
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    check_meta(path, kind, &meta)?;
    let file = open_nonblocking(path).map_err(|e| io_err(path, e))?;
    // The file may have been swapped between the check and the open: check the handle too.
    let meta = file.metadata().map_err(|e| io_err(path, e))?;
    check_meta(path, kind, &meta)?;
    Ok((file, meta.len()))
}

fn check_meta(path: &Path, kind: FileKind, meta: &Metadata) -> Result<(), FileError> {
    if let Some(found) = special_kind(meta) {
        return Err(FileError::NotRegular {
            path: path.to_path_buf(),
            found,
        });
    }
    if meta.len() > kind.max_bytes {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            kind,
            size: meta.len(),
        });
    }
    Ok(())
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO does not wait for a writer (reads of a regular file ignore it).
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// The whole of PATH, a regular file within the kind's limit.
pub fn read_regular(path: &Path, kind: FileKind) -> Result<Vec<u8>, FileError> {
    let (file, len) = open_regular(path, kind)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(kind.max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_err(path, e))?;
    if bytes.len() as u64 > kind.max_bytes {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            kind,
            size: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// [`read_regular`] as UTF-8 text.
pub fn read_regular_string(path: &Path, kind: FileKind) -> Result<String, FileError> {
    let bytes = read_regular(path, kind)?;
    String::from_utf8(bytes).map_err(|_| FileError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, "not valid UTF-8 text"),
    })
}

/// PATH as a buffered reader that fails (with [`FileError::reason`] of a too-large file) once
/// more than the kind's limit has been read: for files parsed as a stream.
pub fn open_limited(path: &Path, kind: FileKind) -> Result<BufReader<LimitedFile>, FileError> {
    let (file, _) = open_regular(path, kind)?;
    Ok(BufReader::with_capacity(
        64 * 1024,
        LimitedFile {
            file,
            left: kind.max_bytes,
            path: path.to_path_buf(),
            kind,
        },
    ))
}

/// A file that refuses to be read past its kind's limit.
#[derive(Debug)]
pub struct LimitedFile {
    file: File,
    left: u64,
    path: PathBuf,
    kind: FileKind,
}

impl Read for LimitedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the limit: fine if the file ends here, an error if anything follows.
            let mut one = [0u8; 1];
            if self.file.read(&mut one)? == 0 {
                return Ok(0);
            }
            return Err(FileError::TooLarge {
                path: self.path.clone(),
                kind: self.kind,
                size: self.kind.max_bytes.saturating_add(1),
            }
            .into_io());
        }
        let n = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let got = self.file.read(&mut buf[..n])?;
        self.left -= got as u64;
        Ok(got)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const SMALL: FileKind = FileKind::fixed("test file", 10);

    /// A FIFO at PATH (unix `mkfifo`).
    #[cfg(unix)]
    pub(crate) fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[test]
    fn regular_files_within_the_limit_are_read_and_larger_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.txt");
        std::fs::write(&ok, b"0123456789").unwrap();
        assert_eq!(read_regular(&ok, SMALL).unwrap(), b"0123456789");
        assert_eq!(read_regular_string(&ok, SMALL).unwrap(), "0123456789");
        // A kind without a limit (u64::MAX) does not overflow the one-byte-past read.
        let unbounded = FileKind::fixed("test file", u64::MAX);
        assert_eq!(read_regular(&ok, unbounded).unwrap(), b"0123456789");
        let mut s = String::new();
        open_limited(&ok, unbounded)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "0123456789");
        let big = dir.path().join("big.txt");
        std::fs::write(&big, b"0123456789X").unwrap();
        let e = read_regular(&big, SMALL).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: is larger than 10 bytes, the limit for a test file: not read",
                big.display()
            )
        );
        let e = read_regular(&dir.path().join("nope"), SMALL).unwrap_err();
        assert!(matches!(e, FileError::NotFound { .. }), "{e}");
        let e = read_regular(dir.path(), SMALL).unwrap_err();
        assert!(e.to_string().contains("is a directory, not a regular file"));
    }

    #[test]
    fn the_limited_reader_stops_one_byte_past_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"0123456789").unwrap();
        let mut s = String::new();
        open_limited(&p, SMALL)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "0123456789");
        // Grown after the open: the reader refuses what follows the limit.
        let mut r = open_limited(&p, SMALL).unwrap();
        std::fs::write(&p, b"0123456789ABC").unwrap();
        let mut v = Vec::new();
        let e = r.read_to_end(&mut v).unwrap_err();
        assert!(e.to_string().contains("larger than 10 bytes"), "{e}");
        assert_eq!(show_size(32 * MIB), "32 MiB");
        assert_eq!(show_size(4 * KIB), "4 KiB");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        // No writer ever opens the FIFO: a blocking open would hang this test.
        let e = read_regular(&fifo, SMALL).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}: is a FIFO (named pipe), not a regular file: not read",
                fifo.display()
            )
        );
        let e = open_limited(Path::new("/dev/zero"), SMALL).unwrap_err();
        assert!(
            e.to_string()
                .contains("/dev/zero: is a character device, not a regular file"),
            "{e}"
        );
        // A link to a FIFO is the FIFO.
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert!(matches!(
            read_regular(&link, SMALL),
            Err(FileError::NotRegular { .. })
        ));
        // The open itself does not block on a FIFO (the race the second check closes).
        let f = open_nonblocking(&fifo).unwrap();
        assert!(special_kind(&f.metadata().unwrap()).is_some());
    }
}
