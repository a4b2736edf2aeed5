//! The corpus: every device folder, snapshot and config the repository bundles.

use std::path::{Path, PathBuf};

use crate::mutate::Folder;

/// Seeds by target.
#[derive(Debug, Default, Clone)]
pub struct Seeds {
    /// Device folders: the mock's samples and the test fixtures.
    pub folders: Vec<(String, Folder)>,
    /// Saved tenant snapshots (`--save-snapshot` files).
    pub snapshots: Vec<Vec<u8>>,
    /// Config files.
    pub configs: Vec<Vec<u8>>,
    /// Users files.
    pub users: Vec<Vec<u8>>,
    /// Access tokens (made-up claims, no signature).
    pub tokens: Vec<Vec<u8>>,
    /// Certificate files (tests/fixtures/certs): PFX, PEM, encrypted keys with their certificate.
    pub certificates: Vec<Vec<u8>>,
    /// `.evtx` logs: the mock samples' XML event exports written as EVTX.
    pub evtx: Vec<Vec<u8>>,
}

impl Seeds {
    /// Every file of every seed, for splicing.
    pub fn donors(&self) -> Vec<&[u8]> {
        self.folders
            .iter()
            .flat_map(|(_, f)| f.iter().map(|(_, b)| b.as_slice()))
            .chain(self.snapshots.iter().map(Vec::as_slice))
            .chain(self.configs.iter().map(Vec::as_slice))
            .chain(self.users.iter().map(Vec::as_slice))
            .chain(self.tokens.iter().map(Vec::as_slice))
            .chain(self.certificates.iter().map(Vec::as_slice))
            .chain(self.evtx.iter().map(Vec::as_slice))
            .collect()
    }
}

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn files_of(dir: &Path) -> Folder {
    let mut files: Folder = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let bytes = std::fs::read(e.path()).ok()?;
            Some((e.file_name().to_string_lossy().into_owned(), bytes))
        })
        .collect();
    files.sort();
    files
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// Loads the seeds under `root` (the repository): `mocks/devices/*`, `tests/fixtures/devices/*`,
/// `tests/fixtures/correlate/*`, `tests/fixtures/autopilot/*` and `tests/fixtures/device-bundle`;
/// the snapshots in `tests/fixtures/correlate`; `config.example.toml`.
pub fn load(root: &Path) -> Seeds {
    let mut seeds = Seeds::default();
    for group in [
        "mocks/devices",
        "tests/fixtures/devices",
        "tests/fixtures/correlate",
        "tests/fixtures/autopilot",
    ] {
        for dir in subdirs(&root.join(group)) {
            let files = files_of(&dir);
            if !files.is_empty() {
                let name = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
                seeds.folders.push((name, files));
            }
        }
    }
    // The mock samples once more with their event exports as .evtx logs (a device folder of
    // them, as Event Viewer saves them).
    for dir in subdirs(&root.join("mocks/devices")) {
        if !files_of(&dir).iter().any(|(n, _)| n.ends_with(".xml")) {
            continue;
        }
        let files = crate::evtx_samples::files_of(&dir, true);
        seeds.evtx.extend(
            files
                .iter()
                .filter(|(n, _)| n.ends_with(".evtx"))
                .map(|(_, b)| b.clone()),
        );
        let name = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
        seeds.folders.push((format!("{name} as evtx"), files));
    }
    let bundle = root.join("tests/fixtures/device-bundle");
    let files = files_of(&bundle);
    if !files.is_empty() {
        seeds
            .folders
            .push(("tests/fixtures/device-bundle".to_string(), files));
    }
    // Collector 2 outputs (5.1 and 7 shapes), one bundle a device, and the loose proxy and
    // clock files.
    for dir in [
        "tests/fixtures/collector",
        "tests/fixtures/collector/samples",
    ] {
        for (name, bytes) in files_of(&root.join(dir)) {
            if name.ends_with(".json") {
                seeds
                    .folders
                    .push((format!("{dir}/{name}"), vec![(name, bytes)]));
            }
        }
    }
    seeds.folders.push((
        "loose proxy and clock".to_string(),
        vec![
            (
                "proxy.txt".to_string(),
                b"\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Proxy Server(s) :  proxy:8080\r\n    Bypass List     :  <local>\r\n".to_vec(),
            ),
            (
                "w32tm.txt".to_string(),
                b"Leap Indicator: 3(not synchronized)\r\nStratum: 0 (unspecified)\r\nLast Successful Sync Time: unspecified\r\nSource: Local CMOS Clock\r\n".to_vec(),
            ),
        ],
    ));
    for (name, bytes) in files_of(&root.join("tests/fixtures/correlate")) {
        if name.ends_with(".json") {
            seeds.snapshots.push(bytes);
        }
    }
    if let Ok(bytes) = std::fs::read(root.join("config.example.toml")) {
        seeds.configs.push(bytes);
    }
    seeds.users.push(
        b"# pilot users\nadele.vance@contoso.com\n  Alex.Wilber@contoso.com  \n\nadele.vance@contoso.com\n"
            .to_vec(),
    );
    seeds.certificates = certificates(&root.join("tests/fixtures/certs"));
    seeds.tokens = TOKEN_CLAIMS
        .iter()
        .map(|claims| jwt(claims).into_bytes())
        .collect();
    seeds
}

/// Each PFX alone, and each key with its certificate (key first, as a combined PEM may be).
fn certificates(dir: &Path) -> Vec<Vec<u8>> {
    let files = files_of(dir);
    let cert_of = |key: &str| {
        let name = if key.starts_with("ec") {
            "ec.crt"
        } else {
            "app.crt"
        };
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
    };
    files
        .iter()
        .filter_map(|(name, bytes)| {
            if name.ends_with(".pfx") {
                Some(bytes.clone())
            } else if name.ends_with(".key") {
                let mut pem = bytes.clone();
                pem.extend(cert_of(name)?);
                Some(pem)
            } else {
                None
            }
        })
        .collect()
}

/// Claims of the tokens the tool meets: app-only, delegated, and one without either.
const TOKEN_CLAIMS: [&str; 3] = [
    r#"{"aud":"https://graph.microsoft.com","tid":"00000000-0000-0000-0000-000000000001","roles":["DeviceManagementConfiguration.Read.All","Directory.Read.All"],"app_displayname":"enroll-doctor","idtyp":"app","exp":1790000000}"#,
    r#"{"aud":"00000003-0000-0000-c000-000000000000","tid":"00000000-0000-0000-0000-000000000001","scp":"User.Read Policy.Read.All","upn":"admin@contoso.com","name":"Admin","exp":1790000000}"#,
    r#"{"tid":null,"roles":null}"#,
];

/// An unsigned JWT with these claims (header.payload.signature, base64url).
fn jwt(claims: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.c2lnbmF0dXJl",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_bundles_seeds_for_every_target() {
        let seeds = load(&repo_root());
        assert!(seeds.folders.len() >= 10, "{} folders", seeds.folders.len());
        assert!(!seeds.snapshots.is_empty());
        assert!(!seeds.configs.is_empty());
        assert!(!seeds.users.is_empty() && seeds.tokens.len() == 3);
        assert!(seeds.evtx.len() >= 4, "{} evtx", seeds.evtx.len());
        assert!(
            seeds.certificates.len() >= 10,
            "{}",
            seeds.certificates.len()
        );
    }
}
