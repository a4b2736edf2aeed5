//! The catalog's shape, enforced: every check in [`registry::all`] lives in exactly one file
//! named after its ID and slug (`src/checks/<family>/<id>_<slug>.rs`) that holds its
//! metadata, is evaluated by exactly one family list, and every check file is registered.
//! A new check that misses one of these steps fails here, naming the step.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::registry;
use crate::model::{Area, CheckMeta};

fn family_dir(area: &Area) -> &'static str {
    match area {
        Area::Tenant => "tenant",
        Area::User => "user",
        Area::Device => "device",
        Area::Correlation => "correlate",
        Area::Autopilot => "autopilot",
    }
}

fn checks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/checks")
}

/// `ten001_…`, `usr005_…`, `ap001_…`: a check file's name starts with its family's letters
/// (three, or two for the Autopilot family) and three digits.
fn is_check_file(name: &str) -> bool {
    let b = name.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_lowercase()).count();
    name.ends_with(".rs")
        && (2..=3).contains(&letters)
        && b.len() > letters + 4
        && b[letters..letters + 3].iter().all(u8::is_ascii_digit)
        && b[letters + 3] == b'_'
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file a check must live in: its ID in lower case, then its slug in snake case.
fn expected_file(c: &CheckMeta) -> PathBuf {
    checks_dir().join(family_dir(&c.area)).join(format!(
        "{}_{}.rs",
        c.id.to_ascii_lowercase(),
        c.name.replace('-', "_")
    ))
}

#[test]
fn every_check_has_its_own_file_with_its_metadata() {
    for c in registry::all() {
        let file = expected_file(c);
        assert!(
            file.is_file(),
            "{}: expected its file {} (src/checks/<family>/<id>_<slug>.rs)",
            c.id,
            file.display()
        );
        let text = read(&file);
        assert!(
            text.contains(&format!("id: \"{}\"", c.id))
                && text.contains(&format!("name: \"{}\"", c.name)),
            "{}: {} does not hold the check's metadata (id and name)",
            c.id,
            file.display()
        );
        assert!(
            text.contains("#[test]"),
            "{}: {} has no unit test beside the check",
            c.id,
            file.display()
        );
    }
}

#[test]
fn every_check_file_is_registered() {
    let registered: HashSet<PathBuf> = registry::all().iter().map(|c| expected_file(c)).collect();
    for family in ["tenant", "user", "device", "correlate", "autopilot"] {
        let dir = checks_dir().join(family);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_check_file(&name) {
                assert!(
                    registered.contains(&entry.path()),
                    "{}: a check file whose check is not in its family list (or whose name does \
                     not match the check's id and slug)",
                    entry.path().display()
                );
            }
        }
    }
}

#[test]
fn metadata_is_defined_once_in_the_source() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut defined: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    let texts: Vec<(PathBuf, String)> = files.into_iter().map(|f| (f.clone(), read(&f))).collect();
    for c in registry::all() {
        let needle = format!("id: \"{}\"", c.id);
        for (path, text) in &texts {
            if text.contains(&needle) {
                defined.entry(c.id).or_default().push(path.clone());
            }
        }
    }
    for c in registry::all() {
        let places = defined.get(c.id).cloned().unwrap_or_default();
        assert_eq!(
            places,
            vec![expected_file(c)],
            "{}: its metadata must be defined once, in its own file",
            c.id
        );
    }
}

#[test]
fn every_check_is_evaluated_by_exactly_one_family_list() {
    let families: [(Area, Vec<&'static CheckMeta>); 5] = [
        (
            Area::Tenant,
            super::tenant::RULES.iter().map(|r| r.meta).collect(),
        ),
        (
            Area::User,
            super::user::RULES.iter().map(|r| r.meta).collect(),
        ),
        (
            Area::Device,
            super::device::RULES.iter().map(|r| r.meta).collect(),
        ),
        (
            Area::Correlation,
            super::correlate::RULES.iter().map(|r| r.meta).collect(),
        ),
        (
            Area::Autopilot,
            super::autopilot::RULES.iter().map(|r| r.meta).collect(),
        ),
    ];
    for c in registry::all() {
        let listed: Vec<&Area> = families
            .iter()
            .flat_map(|(area, list)| list.iter().filter(|m| m.id == c.id).map(move |_| area))
            .collect();
        assert_eq!(
            listed,
            vec![&c.area],
            "{}: must be listed once, in its own family's list",
            c.id
        );
    }
}

/// The IDs of `findings` in order, against the metas of a family list in order.
fn assert_pairs(family: &str, findings: &[crate::model::Finding], metas: &[&'static CheckMeta]) {
    let ids: Vec<&str> = findings.iter().map(|f| f.check.as_str()).collect();
    let listed: Vec<&str> = metas.iter().map(|m| m.id).collect();
    assert_eq!(
        ids, listed,
        "{family}: a list entry pairs one check's metadata with another check's evaluation \
         (or evaluates out of list order)"
    );
}

#[test]
fn each_family_list_pairs_a_check_with_its_own_evaluation() {
    use super::correlate::testutil::{as_of, run, sample, snapshot};
    let mut snap = snapshot();
    // The users' registered devices as `check --user` reads them, so USR010 is evaluated too.
    snap.sources.user_owned_devices =
        crate::tenant::snapshot::Source::collected("GET /v1.0/users/x/ownedDevices", vec![]);
    let tenant: Vec<&'static CheckMeta> = super::tenant::RULES.iter().map(|r| r.meta).collect();
    assert_pairs("tenant", &super::tenant::evaluate_tenant(&snap), &tenant);
    // Users who exist, so every user check runs its own evaluation (for a missing user all but
    // USR001 are skipped from the list's metadata).
    let user: Vec<&'static CheckMeta> = super::user::RULES.iter().map(|r| r.meta).collect();
    for upn in ["tlee@contoso.com", "mgarcia@contoso.com"] {
        assert_pairs(
            "user",
            &super::user::user_readiness(&snap, upn, None),
            &user,
        );
    }
    let device: Vec<&'static CheckMeta> = super::device::RULES.iter().map(|r| r.meta).collect();
    let correlation: Vec<&'static CheckMeta> =
        super::correlate::RULES.iter().map(|r| r.meta).collect();
    for name in [
        "hybrid-enrolled",
        "demo-blocked-restriction",
        "failed-8018002b",
    ] {
        let report = sample(name);
        let analysis = super::device::analyse(&report, as_of());
        assert_pairs("device", &analysis.findings, &device);
        let c = run(&snap, &report, None);
        assert_pairs(
            "correlation",
            &c.findings[..correlation.len()],
            &correlation,
        );
    }
}
