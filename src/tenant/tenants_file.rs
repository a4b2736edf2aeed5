//! `audit|check --tenants-file FILE`: one tenant per line, a tenant id (GUID) or a verified
//! domain (`contoso.onmicrosoft.com`), for a run over many tenants with one app.
//!
//! The file is read whole (it is small: 1 MiB at most) from a regular file (`fsio`), decoded by
//! content like a device file (UTF-8 with or without a BOM, UTF-16 as Windows PowerShell's
//! `Out-File` writes it, CRLF line ends), and every line is checked: blank lines and `#`
//! comments (also after a tenant: `contoso.com  # Contoso Ltd`) are skipped, anything that is
//! neither a GUID nor a domain name is an error naming the file and the line, and a tenant
//! named twice (in any case) is kept once, where it first appears.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::fsio::{self, FileError, FileKind};

/// A tenants file lists tenants, not millions of users: 1 MiB is tens of thousands of them.
pub const TENANTS_FILE: FileKind = FileKind::fixed("tenants file", 1024 * 1024);

/// The most tenants one run takes (each costs a sign-in and a collection).
pub const MAX_TENANTS: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum TenantsFileError {
    #[error("tenants file {0}")]
    File(#[from] FileError),
    #[error("tenants file {}: {reason}", path.display())]
    NotText { path: PathBuf, reason: String },
    #[error("tenants file {}:{line}: \"{text}\" is neither a tenant id (GUID) nor a domain name such as contoso.onmicrosoft.com", path.display())]
    BadLine {
        path: PathBuf,
        line: usize,
        /// The line, escaped and shortened.
        text: String,
    },
    #[error("tenants file {}: no tenant in it (one tenant id or domain per line; `#` starts a comment)", path.display())]
    Empty { path: PathBuf },
    #[error("tenants file {}: more than {MAX_TENANTS} tenants; split it into several runs", path.display())]
    TooMany { path: PathBuf },
}

/// The tenants of FILE in file order, trimmed, without comments, blank lines and duplicates.
pub fn read_tenants_file(path: &Path) -> Result<Vec<String>, TenantsFileError> {
    let bytes = fsio::read_regular(path, TENANTS_FILE)?;
    let text = match crate::device::text::decode(&bytes) {
        Ok(d) => d.text,
        Err(crate::device::text::DecodeError::Empty) => String::new(),
        Err(e) => {
            return Err(TenantsFileError::NotText {
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    parse_tenants(path, &text)
}

/// [`read_tenants_file`] over text already read (PATH names it in errors).
pub fn parse_tenants(path: &Path, text: &str) -> Result<Vec<String>, TenantsFileError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start_matches('\u{feff}');
        let line = line
            .split_once('#')
            .map_or(line, |(before, _)| before)
            .trim();
        if line.is_empty() {
            continue;
        }
        if !is_tenant(line) {
            return Err(TenantsFileError::BadLine {
                path: path.to_path_buf(),
                line: i + 1,
                text: crate::text_safety::shown(&line.chars().take(80).collect::<String>())
                    .to_string(),
            });
        }
        if seen.insert(line.to_ascii_lowercase()) {
            if out.len() == MAX_TENANTS {
                return Err(TenantsFileError::TooMany {
                    path: path.to_path_buf(),
                });
            }
            out.push(line.to_string());
        }
    }
    if out.is_empty() {
        return Err(TenantsFileError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// A tenant id in its usual form (`8-4-4-4-12` hex digits) or a DNS domain name: at least two
/// labels of ASCII letters, digits and inner hyphens, each at most 63 characters, 253 in all
/// (RFC 1035 §2.3.4). `organizations` and `common` are sign-in authorities, not tenants.
pub fn is_tenant(s: &str) -> bool {
    if s.len() == 36 && uuid::Uuid::try_parse(s).is_ok() {
        return true;
    }
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        // A top-level domain is never all digits: `10.0.0.1` is an address, not a tenant.
        && labels
            .last()
            .is_some_and(|l| !l.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<String>, String> {
        parse_tenants(Path::new("t.txt"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn lines_are_trimmed_commented_and_deduplicated_in_order() {
        assert_eq!(
            parse(
                "\u{feff}# customers\r\ncontoso.onmicrosoft.com\r\n\r\n  Fabrikam.com  # Fabrikam Ltd\n\
                 8E4D2C1B-7A3F-4B6E-9D5C-2F1E0A9B8C74\ncontoso.ONMICROSOFT.com\n\
                 8e4d2c1b-7a3f-4b6e-9d5c-2f1e0a9b8c74\n"
            )
            .unwrap(),
            [
                "contoso.onmicrosoft.com",
                "Fabrikam.com",
                "8E4D2C1B-7A3F-4B6E-9D5C-2F1E0A9B8C74"
            ]
        );
    }

    #[test]
    fn a_bad_line_names_the_file_and_line_escaped() {
        assert_eq!(
            parse("contoso.com\n\nnot a tenant\u{1b}[2J\n").unwrap_err(),
            "tenants file t.txt:3: \"not a tenant\\u{1b}[2J\" is neither a tenant id (GUID) nor a domain name such as contoso.onmicrosoft.com"
        );
        for bad in [
            "organizations",
            "common",
            "../../etc/passwd",
            "contoso.com/x",
            "a..b",
            ".contoso.com",
            "contoso.com.",
            "-x.com",
            "x-.com",
            "10.0.0.1",
            "contoso.com,fabrikam.com",
            "{8e4d2c1b-7a3f-4b6e-9d5c-2f1e0a9b8c74}",
            "8e4d2c1b7a3f4b6e9d5c2f1e0a9b8c74",
            "C:\\tenants",
            "user@contoso.com",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}.com", "a".repeat(64));
        assert!(parse(&long).is_err());
    }

    #[test]
    fn an_empty_file_says_what_it_expects() {
        let e = parse("# nothing yet\n\n").unwrap_err();
        assert!(e.contains("no tenant in it"), "{e}");
    }

    #[test]
    fn files_are_read_through_fsio_in_any_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tenants.txt");
        // Windows PowerShell's `Out-File`: UTF-16LE with a BOM, CRLF.
        let mut bytes = vec![0xff, 0xfe];
        for u in "contoso.com\r\nfabrikam.com\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        std::fs::write(&p, bytes).unwrap();
        assert_eq!(
            read_tenants_file(&p).unwrap(),
            ["contoso.com", "fabrikam.com"]
        );
        std::fs::write(&p, "").unwrap();
        assert!(matches!(
            read_tenants_file(&p),
            Err(TenantsFileError::Empty { .. })
        ));
        let e = read_tenants_file(&dir.path().join("missing.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("tenants file ") && e.contains("no such file"),
            "{e}"
        );
        #[cfg(unix)]
        {
            let e = read_tenants_file(Path::new("/dev/zero"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("is a character device"), "{e}");
        }
    }
}
