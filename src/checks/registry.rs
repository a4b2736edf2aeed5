//! The check catalog: the family lists (tenant, user, device, correlation) concatenated into
//! one ordered list of every check's metadata, and lookup by ID or name for `explain`. Each
//! check's metadata lives in its own file (`src/checks/<family>/<id>_<slug>.rs`); the README
//! permission table is generated from this list.

use std::sync::LazyLock;

pub use crate::model::{Area, CheckMeta, NO_PERMISSIONS, Permissions};

/// Every check, in the order of evaluation and of output: the tenant, user, device and
/// correlation families, each in its own list's order.
pub fn all() -> &'static [&'static CheckMeta] {
    &ALL
}

static ALL: LazyLock<Vec<&'static CheckMeta>> = LazyLock::new(|| {
    let mut all: Vec<&'static CheckMeta> = Vec::new();
    all.extend(crate::checks::tenant::RULES.iter().map(|r| r.meta));
    all.extend(crate::checks::user::RULES.iter().map(|r| r.meta));
    all.extend(crate::checks::device::RULES.iter().map(|r| r.meta));
    all.extend(crate::checks::correlate::RULES.iter().map(|r| r.meta));
    all.extend(crate::checks::autopilot::RULES.iter().map(|r| r.meta));
    all
});

/// A check by ID (case-insensitive) or by kebab name.
pub fn get(id: &str) -> Option<&'static CheckMeta> {
    all()
        .iter()
        .copied()
        .find(|c| c.id.eq_ignore_ascii_case(id) || c.name.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = HashSet::new();
        let mut names = HashSet::new();
        for c in all() {
            assert!(ids.insert(c.id), "duplicate id {}", c.id);
            assert!(names.insert(c.name), "duplicate name {}", c.name);
            // Three letters and three digits; the Autopilot family has two letters (AP001).
            let expected_len = if c.id.starts_with("AP") { 5 } else { 6 };
            assert_eq!(c.id.len(), expected_len, "{}", c.id);
            assert!(
                c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                c.name
            );
            let prefix_area = match &c.id[..3] {
                "TEN" => Area::Tenant,
                "USR" => Area::User,
                "DEV" => Area::Device,
                "COR" => Area::Correlation,
                "AP0" => Area::Autopilot,
                other => panic!("unknown prefix {other}"),
            };
            assert_eq!(c.area, prefix_area, "{}", c.id);
        }
    }

    #[test]
    fn catalog_is_complete_and_in_order() {
        let expected: Vec<String> = (1..=9)
            .map(|n| format!("TEN{n:03}"))
            .chain((1..=10).map(|n| format!("USR{n:03}")))
            .chain((1..=13).map(|n| format!("DEV{n:03}")))
            .chain((1..=7).map(|n| format!("COR{n:03}")))
            .chain((1..=8).map(|n| format!("AP{n:03}")))
            .collect();
        let actual: Vec<&str> = all().iter().map(|c| c.id).collect();
        assert_eq!(actual, expected);
    }

    #[test]
    fn every_check_has_all_explain_sections_and_references() {
        for c in all() {
            for (section, text) in [
                ("title", c.title),
                ("what it checks", c.what_it_checks),
                ("why it matters", c.why_it_matters),
                ("how to fix", c.how_to_fix),
            ] {
                assert!(!text.trim().is_empty(), "{} has no {section}", c.id);
            }
            assert!(!c.references.is_empty(), "{} has no reference", c.id);
            for r in c.references {
                assert!(
                    r.starts_with("https://learn.microsoft.com/"),
                    "{}: {r}",
                    c.id
                );
            }
            assert!(
                c.why_it_matters.contains("Enrollment paths"),
                "{} does not say which enrollment paths it matters for",
                c.id
            );
        }
    }

    #[test]
    fn permissions_follow_the_area() {
        for c in all() {
            let p = &c.permissions;
            match c.area {
                Area::Device => {
                    assert!(
                        p.application.is_empty() && p.delegated.is_empty(),
                        "{}",
                        c.id
                    );
                }
                Area::Tenant | Area::User | Area::Correlation | Area::Autopilot => {
                    assert!(!p.delegated.is_empty(), "{} declares no permission", c.id);
                    if p.delegated_only {
                        assert!(p.application.is_empty(), "{}", c.id);
                    } else {
                        assert!(!p.application.is_empty(), "{}", c.id);
                    }
                }
            }
            for perm in p.application.iter().chain(p.delegated) {
                assert!(
                    !perm.contains("ReadWrite"),
                    "{} asks for write access: {perm}",
                    c.id
                );
            }
        }
        for id in ["TEN003", "TEN004", "TEN005", "TEN006", "USR003", "USR004"] {
            let c = get(id).expect("scope check exists");
            assert!(c.permissions.delegated_only, "{id}");
            assert!(c.permissions.delegated.contains(&"Policy.Read.All"), "{id}");
        }
    }

    #[test]
    fn lookup_by_id_or_name() {
        assert_eq!(get("dev007").map(|c| c.id), Some("DEV007"));
        assert_eq!(get("autoenroll-failed").map(|c| c.id), Some("DEV007"));
        assert!(get("DEV999").is_none());
    }
}
