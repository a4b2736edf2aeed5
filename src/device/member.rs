//! What a zip and a cabinet share: one member as the archive's directory lists it, the checks
//! made from the directory alone (unsafe path, declared size over the cap), and reading a
//! member's bytes within the caps while every byte inflated is charged to the archive's budget.
//! `device/archive.rs` (zip) and `device/cab.rs` (cabinet) differ only in how they reach a
//! member's data; nothing is ever extracted to disk.

use std::io::{self, Read};
use std::path::{Component, Path};

use crate::fsio::{self, FileKind};

/// The caps an archive is read within: per member, and for all bytes it inflates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    pub member: FileKind,
    pub total: u64,
    /// The archive's kind in notes: `zip`, `cabinet`.
    pub archive: &'static str,
}

impl Caps {
    /// The note for a member not read because the archive's budget is spent (or would be by
    /// this member).
    pub fn over_budget(&self) -> String {
        format!(
            "not read: the archive's entries uncompress to more than {}, the limit for one {}",
            fsio::show_size(self.total),
            self.archive
        )
    }

    /// Why a member is not read, known from the directory alone.
    pub fn refusal(&self, name: &str, declared: u64) -> Option<String> {
        if !is_safe_member_name(name) {
            Some(format!(
                "unsafe path in {} (absolute or with '..'): entry not read",
                self.archive
            ))
        } else if declared > self.member.max_bytes {
            Some(self.member.too_large())
        } else {
            None
        }
    }
}

/// What is left of an archive's budget of inflated bytes: every byte inflated is charged,
/// whether the member is then used, refused or only skipped over, so members that lie about
/// their size cannot inflate again and again; once none are left nothing more is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub caps: Caps,
    pub left: u64,
}

impl Budget {
    pub fn new(caps: Caps) -> Budget {
        Budget {
            caps,
            left: caps.total,
        }
    }

    /// The bytes of a member whose data READER yields (it may yield more than DECLARED when
    /// the archive lies), within the member cap and the budget.
    pub fn read(&mut self, reader: &mut dyn Read, declared: u64) -> Result<Vec<u8>, String> {
        if self.left == 0 || declared > self.left {
            return Err(self.caps.over_budget());
        }
        let per_member = self.caps.member.max_bytes;
        let cap = per_member.min(self.left);
        let mut bytes = Vec::with_capacity(usize::try_from(declared.min(cap)).unwrap_or(0));
        // Never read more than the cap, and charge what was inflated on every path.
        let read = reader.take(cap + 1).read_to_end(&mut bytes);
        let got = bytes.len() as u64;
        self.left = self.left.saturating_sub(got);
        match read {
            Ok(_) if got > cap && cap < per_member => Err(self.caps.over_budget()),
            Ok(_) if got > cap => Err(self.caps.member.too_large()),
            Ok(_) => Ok(bytes),
            Err(e) => Err(format!("cannot read {} entry: {e}", self.caps.archive)),
        }
    }

    /// Inflates and drops N bytes of READER (data between two members that are read), charged
    /// like the rest. `Ok(false)` when the data ended first.
    pub fn skip(&mut self, reader: &mut dyn Read, n: u64) -> Result<bool, String> {
        if n > self.left {
            self.left = 0;
            return Err(self.caps.over_budget());
        }
        let skipped = io::copy(&mut reader.take(n), &mut io::sink())
            .map_err(|e| format!("cannot read {} entry: {e}", self.caps.archive))?;
        self.left -= skipped;
        Ok(skipped == n)
    }
}

/// Rejects `..`, absolute paths, drive letters and backslash tricks, whatever the platform.
pub(crate) fn is_safe_member_name(name: &str) -> bool {
    let unified = name.replace('\\', "/");
    if unified.is_empty() || unified.starts_with('/') || unified.contains(':') {
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

    #[test]
    fn hostile_names_are_unsafe() {
        for bad in [
            "..\\..\\x",
            "../x",
            "a/../../x",
            "C:\\x",
            "C:x",
            "/etc/x",
            "\\\\server\\share\\x",
            "\\x",
            "",
        ] {
            assert!(!is_safe_member_name(bad), "{bad}");
        }
        for good in [
            "MDMDiagReport.xml",
            "PC1/dsregcmd.txt",
            "a\\b.reg",
            "x..y.txt",
        ] {
            assert!(is_safe_member_name(good), "{good}");
        }
    }

    #[test]
    fn skipping_and_reading_are_charged() {
        let caps = Caps {
            member: FileKind::fixed("device file", 10),
            total: 25,
            archive: "cabinet",
        };
        let mut b = Budget::new(caps);
        let data = vec![b'a'; 100];
        let mut r: &[u8] = &data;
        assert_eq!(b.skip(&mut r, 5), Ok(true));
        assert_eq!(b.read(&mut (&mut r).take(8), 8).map(|v| v.len()), Ok(8));
        assert_eq!(b.left, 12);
        // More than the member cap: refused, and what was inflated is charged.
        assert!(
            b.read(&mut r, 5)
                .unwrap_err()
                .contains("limit for a device file")
        );
        assert_eq!(b.left, 1);
        assert!(b.skip(&mut r, 5).unwrap_err().contains("one cabinet"));
        assert_eq!(b.left, 0);
        assert!(b.read(&mut r, 0).unwrap_err().contains("one cabinet"));
    }
}
