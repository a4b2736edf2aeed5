//! What a file in a folder is, read from as little of it as decides: a zip (its magic bytes),
//! a bundle, a device artifact, or something else. This tells a fleet folder from one device's
//! folder before anything is loaded.

use std::fs;
use std::io::Read;
use std::path::Path;

use super::archive::{DEVICE_FILE, MAX_FILE_BYTES, ZIP_FILE};
use super::report::ArtifactKind;
use super::{sniff, text};
use crate::fsio;

/// Zip by its magic bytes (local file header or an empty archive's end record).
pub(crate) fn is_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    fsio::open_regular(path, ZIP_FILE)
        .ok()
        .and_then(|(mut f, _)| f.read_exact(&mut magic).ok())
        .is_some_and(|()| magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06")
}

/// How much of a loose file is read to tell what it is: every format announces itself in its
/// first few KiB ([`sniff::HEAD`] of text), so the whole file is read only when the prefix
/// cannot decide (see [`sniff_file`]).
const SNIFF_PREFIX: usize = 64 * 1024;

/// A regular file's content as the artifact it is (`None` when it cannot be read or decoded).
///
/// Judged "not an artifact" from the first [`SNIFF_PREFIX`] bytes when they decide it as the
/// whole file would: they decode, hold at least [`sniff::HEAD`] bytes of text after leading
/// blanks (all the sniffer reads), and are not JSON (a bundle may name its schema anywhere).
/// Otherwise (a known kind, which the whole file must confirm, a decode error, or a short text)
/// the whole file is read, once; a folder stops at its first artifact, so that is one such read
/// per folder.
fn sniff_file(path: &Path) -> Option<ArtifactKind> {
    let (file, _) = fsio::open_regular(path, DEVICE_FILE).ok()?;
    let mut prefix = Vec::with_capacity(SNIFF_PREFIX + 1);
    file.take(SNIFF_PREFIX as u64 + 1)
        .read_to_end(&mut prefix)
        .ok()?;
    if prefix.len() <= SNIFF_PREFIX {
        return sniff_bytes(&prefix);
    }
    prefix.truncate(SNIFF_PREFIX);
    // A character cut in two at the end of the prefix is not a decoding error of the file.
    if let Err(e) = std::str::from_utf8(&prefix)
        && e.error_len().is_none()
    {
        prefix.truncate(e.valid_up_to());
    }
    if let Ok(decoded) = text::decode(&prefix) {
        let body = decoded.text.trim_start_matches('\u{feff}').trim_start();
        let kind = sniff::sniff(body);
        let json = body.starts_with(['{', '[']);
        // Only "not an artifact" is final from the prefix: a known kind is confirmed on the
        // whole file, since a NUL or a bad byte past the prefix makes the file binary, and a
        // binary file is no artifact (a fleet folder would otherwise be taken for one device's).
        if body.len() >= sniff::HEAD && kind == ArtifactKind::Unrecognised && !json {
            return Some(kind);
        }
    }
    let bytes = fsio::read_regular(path, DEVICE_FILE).ok()?;
    sniff_bytes(&bytes)
}

fn sniff_bytes(bytes: &[u8]) -> Option<ArtifactKind> {
    text::decode(bytes).ok().map(|d| sniff::sniff(&d.text))
}

/// What a file beside others in a folder is, for telling a fleet from a device folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loose {
    Bundle,
    /// An artifact the parsers read (not a bundle, not unrecognised).
    Artifact,
    Other,
}

/// One sniff per file: a bundle, a known artifact, or neither.
pub(crate) fn classify(path: &Path) -> Loose {
    if super::evtx::file_is_evtx(path) {
        return Loose::Artifact;
    }
    if fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > MAX_FILE_BYTES) {
        // Too large to read: treat as an artifact so its problem is reported in place.
        return Loose::Artifact;
    }
    loose(sniff_file(path))
}

fn loose(kind: Option<ArtifactKind>) -> Loose {
    match kind {
        Some(ArtifactKind::Bundle) => Loose::Bundle,
        Some(ArtifactKind::Unrecognised) | None => Loose::Other,
        Some(_) => Loose::Artifact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Every bundled artifact, and variants past the prefix: the kind sniffed from the prefix
    /// is the kind sniffed from the whole file.
    #[test]
    fn the_prefix_sniff_agrees_with_the_whole_file() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mocks/devices");
        let dir = tempfile::tempdir().unwrap();
        let mut checked = 0;
        let mut known = 0;
        for device in fs::read_dir(&root).unwrap() {
            let device = device.unwrap().path();
            let files: Vec<PathBuf> = if device.is_dir() {
                fs::read_dir(&device)
                    .unwrap()
                    .map(|f| f.unwrap().path())
                    .collect()
            } else {
                vec![device]
            };
            for file in files {
                let bytes = fs::read(file).unwrap();
                // As it is, padded with NULs past the prefix, followed by more of itself,
                // and behind a long run of blank lines.
                let mut padded = bytes.clone();
                padded.resize(bytes.len() + 3 * SNIFF_PREFIX, 0);
                let long = bytes.repeat(3 * SNIFF_PREFIX / bytes.len().max(1) + 2);
                let mut blank = b"\n".repeat(SNIFF_PREFIX + 10);
                blank.extend_from_slice(&bytes);
                // A NUL past the prefix, with text after it: binary as a whole (review).
                let mut mid_nul = long.clone();
                if mid_nul.len() > SNIFF_PREFIX + 101 {
                    mid_nul.insert(SNIFF_PREFIX + 101, 0);
                }
                for variant in [&bytes, &padded, &long, &blank, &mid_nul] {
                    let p = dir.path().join("f");
                    fs::write(&p, variant).unwrap();
                    let whole = sniff_bytes(variant);
                    // Unreadable and unrecognised are both "not an artifact".
                    assert_eq!(
                        loose(sniff_file(&p)),
                        loose(whole),
                        "{} bytes",
                        variant.len()
                    );
                    checked += 1;
                    known += usize::from(whole.is_some_and(|k| k != ArtifactKind::Unrecognised));
                }
            }
        }
        assert!(
            checked >= 100 && known >= 60,
            "{checked} checked, {known} known"
        );

        // A bundle naming its schema after a long block, and UTF-8 cut mid-character at the
        // end of the prefix.
        let mut bundle = format!("{{\"notes\": \"{}\", ", "x".repeat(2 * SNIFF_PREFIX));
        bundle.push_str("\"schema\": \"enroll-doctor/device-report@1\"}");
        let mut cut = "AzureAdJoined : YES\nDomainJoined : YES\n".repeat(200);
        cut.push_str(&"é".repeat(SNIFF_PREFIX));
        for text in [bundle, cut] {
            let p = dir.path().join("g");
            fs::write(&p, &text).unwrap();
            let whole = sniff_bytes(text.as_bytes());
            assert!(whole.is_some_and(|k| k != ArtifactKind::Unrecognised));
            assert_eq!(sniff_file(&p), whole);
        }
    }
}
