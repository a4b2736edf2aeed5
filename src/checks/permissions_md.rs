//! The README's least-privilege permission table, generated from the check registry so the
//! documentation cannot drift from what the checks declare (a test compares the two).

use std::collections::BTreeSet;

use super::registry::{self, CheckMeta};

pub const START_MARKER: &str = "<!-- permissions:start -->";
pub const END_MARKER: &str = "<!-- permissions:end -->";

fn list(perms: &[&str]) -> String {
    if perms.is_empty() {
        "—".to_string()
    } else {
        perms
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn needs_graph(c: &CheckMeta) -> bool {
    !c.permissions.application.is_empty() || !c.permissions.delegated.is_empty()
}

/// Markdown for every check that reads Graph, in ID order, followed by the union per token kind.
pub fn permissions_markdown() -> String {
    let checks: Vec<&CheckMeta> = registry::all()
        .iter()
        .copied()
        .filter(|c| needs_graph(c))
        .collect();
    let mut out = String::new();
    out.push_str("| Check | Title | Application permissions | Delegated permissions |\n");
    out.push_str("|---|---|---|---|\n");
    let mut app_all = BTreeSet::new();
    let mut delegated_all = BTreeSet::new();
    for c in &checks {
        let app = if c.permissions.delegated_only {
            "not supported (delegated sign-in only)".to_string()
        } else {
            list(c.permissions.application)
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            c.id,
            c.title.replace('|', "\\|"),
            app,
            list(c.permissions.delegated)
        ));
        app_all.extend(c.permissions.application.iter().copied());
        delegated_all.extend(c.permissions.delegated.iter().copied());
    }
    let join = |s: &BTreeSet<&str>| {
        s.iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push('\n');
    out.push_str(&format!("All checks, app-only: {}.\n\n", join(&app_all)));
    out.push_str(&format!(
        "All checks, delegated: {}.\n",
        join(&delegated_all)
    ));
    out
}

/// The README text with the generated table between the markers (`None` if a marker is missing).
pub fn splice_readme(readme: &str) -> Option<String> {
    let start = readme.find(START_MARKER)? + START_MARKER.len();
    let end = readme[start..].find(END_MARKER)? + start;
    Some(format!(
        "{}\n{}{}",
        &readme[..start],
        permissions_markdown(),
        &readme[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_permission_table_matches_the_registry() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).unwrap_or_default();
        let expected = splice_readme(&readme);
        assert!(
            expected.is_some(),
            "README.md lacks the {START_MARKER} / {END_MARKER} markers"
        );
        // On mismatch, regenerate with:
        //   ENROLL_DOCTOR_UPDATE_README=1 cargo test --lib readme_permission_table
        if expected.as_deref() != Some(readme.as_str())
            && std::env::var_os("ENROLL_DOCTOR_UPDATE_README").is_some()
            && let Some(text) = &expected
        {
            let _ = std::fs::write(path, text);
            return;
        }
        assert_eq!(
            expected.as_deref(),
            Some(readme.as_str()),
            "README.md's permission table differs from the registry; regenerate it (see comment)"
        );
    }

    #[test]
    fn table_lists_graph_checks_only() {
        let md = permissions_markdown();
        if registry::get("TEN003").is_some() {
            assert!(md.contains("| TEN003 |"));
            assert!(md.contains("delegated sign-in only"));
        }
        assert!(
            !md.contains("| DEV001 |"),
            "device checks need no Graph permission"
        );
    }
}
