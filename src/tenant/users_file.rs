//! `check --users-file FILE`: one UPN or object id per line, read as a stream (a line at a
//! time, duplicates dropped as they come), from a regular file within a size limit.

use std::collections::HashSet;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::fsio::{self, BadLimit, FileError, FileKind};

/// The users file's limit: 256 MiB is several million UPNs.
pub const USERS_FILE: FileKind = FileKind {
    what: "users file",
    max_bytes: 256 * 1024 * 1024,
    env: Some("ENROLL_DOCTOR_MAX_USERS_FILE_MIB"),
};

/// Longest line read: a UPN is at most 113 characters, an object id 36.
pub const MAX_LINE_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum UsersFileError {
    #[error("users file {0}")]
    File(#[from] FileError),
    #[error(transparent)]
    Limit(#[from] BadLimit),
    #[error("users file {}:{line}: \"{text}\" is neither a UPN nor an object id", path.display())]
    BadLine {
        path: PathBuf,
        line: usize,
        /// The line, escaped and shortened.
        text: String,
    },
    #[error("users file {}:{line}: longer than {MAX_LINE_BYTES} bytes: not a UPN or an object id", path.display())]
    LongLine { path: PathBuf, line: usize },
}

/// The UPNs and object ids of FILE in file order, trimmed, without blank lines, `#` comments
/// and case-insensitive duplicates.
pub fn read_users_file(path: &Path) -> Result<Vec<String>, UsersFileError> {
    read_users_file_within(path, USERS_FILE.from_env()?)
}

/// [`read_users_file`] within KIND's limit.
pub fn read_users_file_within(path: &Path, kind: FileKind) -> Result<Vec<String>, UsersFileError> {
    let mut reader = fsio::open_limited(path, kind)?;
    let io = |source: std::io::Error| {
        UsersFileError::File(FileError::Io {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut buf = Vec::with_capacity(128);
    let mut n = 0usize;
    loop {
        buf.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io)?;
        if read == 0 {
            break;
        }
        n += 1;
        if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            return Err(UsersFileError::LongLine {
                path: path.to_path_buf(),
                line: n,
            });
        }
        let text = String::from_utf8_lossy(&buf);
        let line = text.trim().trim_start_matches('\u{feff}').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.contains('@') && uuid::Uuid::parse_str(line).is_err() {
            return Err(UsersFileError::BadLine {
                path: path.to_path_buf(),
                line: n,
                text: crate::text_safety::shown(&line.chars().take(80).collect::<String>())
                    .to_string(),
            });
        }
        if seen.insert(line.to_ascii_lowercase()) {
            out.push(line.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_commented_and_deduplicated_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("users.txt");
        std::fs::write(
            &p,
            "\u{feff}# site 4\r\nA@contoso.com\r\n\r\n  b@contoso.com \na@CONTOSO.com\n11111111-2222-4333-8444-555566667777",
        )
        .unwrap();
        assert_eq!(
            read_users_file(&p).unwrap(),
            [
                "A@contoso.com",
                "b@contoso.com",
                "11111111-2222-4333-8444-555566667777"
            ]
        );
        std::fs::write(&p, "a@contoso.com\nnot a user\u{1b}[2J\n").unwrap();
        let e = read_users_file(&p).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "users file {}:2: \"not a user\\u{{1b}}[2J\" is neither a UPN nor an object id",
                p.display()
            )
        );
        // Quoted as text_safety shows outside text: a backslash stays as it is.
        std::fs::write(&p, "CONTOSO\\alice\n").unwrap();
        let e = read_users_file(&p).unwrap_err().to_string();
        assert!(
            e.ends_with(":1: \"CONTOSO\\alice\" is neither a UPN nor an object id"),
            "{e}"
        );
        std::fs::write(&p, "x".repeat(5000)).unwrap();
        let e = read_users_file(&p).unwrap_err().to_string();
        assert!(e.contains(":1: longer than 1024 bytes"), "{e}");
        // Past the limit: refused by size, naming the limit and how to change it.
        std::fs::write(&p, "a@contoso.com\n".repeat(100)).unwrap();
        let small = FileKind {
            max_bytes: 1024,
            ..USERS_FILE
        };
        let e = read_users_file_within(&p, small).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "users file {}: is larger than 1 KiB, the limit for a users file: not read \
                 (set ENROLL_DOCTOR_MAX_USERS_FILE_MIB to a number of MiB to change it)",
                p.display()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_a_device_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("users.fifo");
        crate::fsio::tests::mkfifo(&fifo);
        let e = read_users_file(&fifo).unwrap_err().to_string();
        assert!(
            e.contains("is a FIFO (named pipe), not a regular file"),
            "{e}"
        );
        let e = read_users_file(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/dev/zero: is a character device"), "{e}");
    }

    /// Generated: n and 4n users (each twice, in two cases), read in linear time.
    #[test]
    fn reading_scales_linearly_and_duplicates_cost_nothing_extra() {
        let dir = tempfile::tempdir().unwrap();
        let write = |n: usize| {
            let p = dir.path().join(format!("u{n}.txt"));
            let mut s = String::with_capacity(n * 50);
            for i in 0..n {
                s.push_str(&format!("user{i}@contoso.com\nUSER{i}@CONTOSO.COM\n"));
            }
            std::fs::write(&p, s).unwrap();
            p
        };
        let time = |p: &Path, n: usize| {
            (0..3)
                .map(|_| {
                    let t = std::time::Instant::now();
                    assert_eq!(read_users_file(p).unwrap().len(), n);
                    t.elapsed()
                })
                .min()
                .unwrap()
        };
        let n = 20_000;
        let (small, large) = (write(n), write(4 * n));
        let (t1, t4) = (time(&small, n), time(&large, 4 * n));
        assert!(
            t4 <= t1 * 8,
            "4n users took {t4:?}, n took {t1:?}: not linear"
        );
    }
}
