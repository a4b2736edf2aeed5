//! `enroll-doctor diff`: the comparison of two snapshots ([`crate::diff::SnapshotDiff`]) as a
//! table, Markdown or JSON (`enroll-doctor/diff@1`). Formatting only: which change is a
//! regression and whose readiness regressed was decided by `crate::diff`.
//!
//! Layout (table and Markdown alike): the two snapshots and the result, the configuration
//! changes (regressions first within each area, each with why it matters), the subjects whose
//! readiness changed with the checks that changed and what they say now, then what could not be
//! compared, the notes and a summary line. A new format (HTML) is one more [`DiffFormat`]
//! variant and one function here.

use chrono::{DateTime, Utc};

use super::markdown;
use super::table::{self, Col};
use crate::diff::{Change, ChangeKind, CheckChange, Impact, SnapshotDiff, SubjectChange, Trend};
use crate::model::Status;
use crate::text_safety::{escape_line, escape_text, into_safe_text};

/// The formats `diff` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    /// A table at this width.
    Table(usize),
    Markdown,
    Json,
}

/// DIFF in FORMAT.
pub fn render(diff: &SnapshotDiff, format: DiffFormat) -> Result<String, serde_json::Error> {
    Ok(match format {
        DiffFormat::Table(width) => render_table(diff, width),
        DiffFormat::Markdown => render_markdown(diff),
        DiffFormat::Json => {
            let mut s = super::json::escape_json(&serde_json::to_string_pretty(diff)?).into_owned();
            s.push('\n');
            s
        }
    })
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `PASS`, or `(none)` when the subject has no finding of the check on that side.
fn status(s: &Option<Status>) -> String {
    s.as_ref()
        .map(|s| s.as_str().to_uppercase())
        .unwrap_or_else(|| "(none)".to_string())
}

/// `newly not ready`.
fn trend(t: Trend) -> String {
    t.as_str().replace('-', " ")
}

/// `ready → not ready` (one side for a user only one snapshot has).
fn states(s: &SubjectChange) -> String {
    let word = |w: &str| w.replace('-', " ");
    match (s.old_state, s.new_state) {
        (Some(a), Some(b)) => format!("{} → {}", word(a), word(b)),
        (Some(a), None) => format!("was {}", word(a)),
        (None, Some(b)) => format!("now {}", word(b)),
        (None, None) => String::new(),
    }
}

/// What changed, in words: `priority: 1 → 2`, `includedGroups: removed All Staff`, `added`.
fn what_changed(c: &Change) -> String {
    let v = |s: &Option<String>| escape_line(s.as_deref().unwrap_or("(unset)")).into_owned();
    match (c.kind, &c.field) {
        (ChangeKind::Added, _) => "added".to_string(),
        (ChangeKind::Removed, _) => "removed".to_string(),
        (ChangeKind::Changed, Some(f)) => {
            let f = escape_line(f);
            match (&c.old, &c.new) {
                (Some(_), None) => format!("{f}: removed {}", v(&c.old)),
                (None, Some(_)) => format!("{f}: added {}", v(&c.new)),
                _ => format!("{f}: {} → {}", v(&c.old), v(&c.new)),
            }
        }
        (ChangeKind::Changed, None) => format!("{} → {}", v(&c.old), v(&c.new)),
    }
}

/// `4 changes (2 regressions, 1 improvement)`.
fn changes_line(d: &SnapshotDiff) -> String {
    let s = &d.summary;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{} ({}, {})",
        plural(s.changes, "change", "changes"),
        plural(s.regressions, "regression", "regressions"),
        plural(s.improvements, "improvement", "improvements")
    )
}

/// `4 newly not ready, 1 newly failing, 1 newly ready (8 users compared)`.
fn readiness_line(d: &SnapshotDiff) -> String {
    let s = &d.summary;
    format!(
        "{} newly not ready, {} newly failing, {} newly ready ({} users compared)",
        s.newly_not_ready, s.newly_failing, s.newly_ready, s.users_compared
    )
}

fn verdict(d: &SnapshotDiff) -> &'static str {
    if d.regressed() {
        "regressed (exit 1): a watched setting got weaker or a subject's readiness regressed"
    } else {
        "no regression (exit 0)"
    }
}

fn check_text(c: &CheckChange) -> String {
    let mut s = format!(
        "{} {} → {}",
        escape_line(&c.check),
        status(&c.old),
        status(&c.new)
    );
    if !c.summary.is_empty() {
        s.push_str(": ");
        s.push_str(&escape_text(&c.summary));
    }
    s
}

fn subject_name(s: &SubjectChange) -> String {
    let mut name = if s.kind == "tenant" {
        "Tenant".to_string()
    } else {
        escape_line(&s.subject).into_owned()
    };
    if let Some(old) = &s.old_upn {
        name.push_str(&format!(" (was {})", escape_line(old)));
    }
    name
}

fn render_table(d: &SnapshotDiff, width: usize) -> String {
    let width = table::clamp_width(width);
    let mut out = String::new();
    let side = |label: &str, s: &crate::diff::Side| {
        table::wrap_line(
            &format!(
                "{label} {} (collected {}{})",
                escape_line(&s.file),
                when(s.collected_at),
                if s.redacted { ", redacted" } else { "" }
            ),
            width,
        )
    };
    out.push_str(&side("OLD", &d.old));
    out.push('\n');
    out.push_str(&side("NEW", &d.new));
    out.push('\n');
    out.push_str(&table::wrap_line(
        &format!("Tenant {}", escape_line(&d.new.tenant_id)),
        width,
    ));
    out.push('\n');
    out.push_str(&table::wrap_line(
        &format!("Both evaluated as of {}", when(d.as_of)),
        width,
    ));
    out.push_str("\n\n");

    out.push_str(&table::wrap_line(
        &format!("Configuration: {}", changes_line(d)),
        width,
    ));
    out.push('\n');
    if !d.changes.is_empty() {
        let rows = d
            .changes
            .iter()
            .map(|c| {
                let mut change = what_changed(c);
                if !c.why.is_empty() {
                    change.push_str("\nwhy: ");
                    change.push_str(&escape_text(&c.why));
                }
                vec![
                    format!("{}\n{}", c.impact.as_str(), c.area.as_str()),
                    escape_line(&c.object).into_owned(),
                    change,
                ]
            })
            .collect();
        out.push_str(&table::table(
            &["Impact", "Object", "Change"],
            &[Col::Fixed, Col::Flex(2), Col::Flex(5)],
            rows,
            width,
        ));
    }
    out.push('\n');

    out.push_str(&table::wrap_line(
        &format!("Readiness: {}", readiness_line(d)),
        width,
    ));
    out.push('\n');
    if !d.readiness.is_empty() {
        let rows = d
            .readiness
            .iter()
            .map(|s| {
                vec![
                    format!("{}\n{}\n({})", subject_name(s), trend(s.trend), states(s)),
                    s.checks
                        .iter()
                        .map(check_text)
                        .collect::<Vec<_>>()
                        .join("\n"),
                ]
            })
            .collect();
        out.push_str(&table::table(
            &["Subject", "Checks that changed"],
            &[Col::Flex(2), Col::Flex(5)],
            rows,
            width,
        ));
    }
    out.push('\n');

    for n in &d.not_compared {
        out.push_str(&table::wrap_line(&format!("Not compared: {n}"), width));
        out.push('\n');
    }
    for n in &d.notes {
        out.push_str(&table::wrap_line(&format!("Note: {n}"), width));
        out.push('\n');
    }
    out.push_str(&table::wrap_line(&format!("Result: {}", verdict(d)), width));
    out.push('\n');
    into_safe_text(out)
}

fn render_markdown(d: &SnapshotDiff) -> String {
    let c = markdown::cell;
    let mut out = String::from("# Snapshot diff\n\n");
    for (label, s) in [("OLD", &d.old), ("NEW", &d.new)] {
        out.push_str(&format!(
            "- **{label}**: {}, collected {}{}\n",
            markdown::code(&s.file),
            when(s.collected_at),
            if s.redacted { " (redacted)" } else { "" }
        ));
    }
    out.push_str(&format!(
        "- **Tenant**: {}, both evaluated as of {}\n- **Result**: {}\n\n",
        markdown::code(&d.new.tenant_id),
        when(d.as_of),
        verdict(d)
    ));

    out.push_str(&format!("## Configuration: {}\n\n", changes_line(d)));
    if !d.changes.is_empty() {
        out.push_str("| Impact | Area | Object | Change | Why |\n|---|---|---|---|---|\n");
        for ch in &d.changes {
            let impact = match ch.impact {
                Impact::Regression => "**regression**".to_string(),
                other => other.as_str().to_string(),
            };
            out.push_str(&format!(
                "| {impact} | {} | {} | {} | {} |\n",
                ch.area.as_str(),
                c(&ch.object),
                c(&what_changed(ch)),
                c(&ch.why)
            ));
        }
        out.push('\n');
    }

    out.push_str(&format!("## Readiness: {}\n\n", readiness_line(d)));
    if !d.readiness.is_empty() {
        out.push_str("| Subject | Readiness | Checks that changed |\n|---|---|---|\n");
        for s in &d.readiness {
            let t = if s.trend.is_regression() {
                format!("**{}**", trend(s.trend))
            } else {
                trend(s.trend)
            };
            let checks: Vec<String> = s.checks.iter().map(|x| c(&check_text(x))).collect();
            out.push_str(&format!(
                "| {} | {t}<br>{} | {} |\n",
                c(&subject_name(s)),
                states(s),
                checks.join("<br>")
            ));
        }
        out.push('\n');
    }
    if !d.not_compared.is_empty() || !d.notes.is_empty() {
        out.push_str("## Notes\n\n");
        for n in &d.not_compared {
            out.push_str(&format!("- Not compared: {}\n", markdown::text(n)));
        }
        for n in &d.notes {
            out.push_str(&format!("- {}\n", markdown::text(n)));
        }
    }
    into_safe_text(out)
}
