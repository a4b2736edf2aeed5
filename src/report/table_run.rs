//! The table layout of a run over several users or devices: the summary block, the list of
//! subjects that are not ready, each subject's details and the tail (see [`super::run`], which
//! calls these in order). One subject's table is [`super::table`].

use std::collections::{HashMap, HashSet};

use super::Report;
use super::header::{OverviewRow, RunHeader};
use super::summary::{State, SubjectKind, SubjectResult, SubjectRow, plural};
use super::table::*;
use super::view;
use super::width::{cols, pad, truncate};
use crate::model::{Finding, SkipReason, Status, Subject};
use crate::text_safety::{escape_joined, escape_line, escape_text};

/// A skip the compact run view lists on one line per reason: from the token (the same for
/// every subject) or not applicable on the subject's path.
fn one_line_skip(f: &Finding) -> bool {
    token_wide_skip(f)
        || (f.status == Status::Skip
            && matches!(f.skip_reason, Some(SkipReason::NotApplicable { .. })))
}

/// One line per device: verdict, cause chain and what the finding behind the first cause
/// says (the device's own, else the enrolling user's, else the tenant's), found through a map
/// of the non-passing findings built once.
pub fn overview_rows(report: &Report) -> Vec<OverviewRow> {
    let mut by_key: HashMap<(&str, u8, String), &Finding> = HashMap::new();
    for f in report.findings.iter().filter(|f| f.status != Status::Pass) {
        let key = match &f.subject {
            Subject::Tenant => (f.check.as_str(), 0, String::new()),
            Subject::User(u) => (f.check.as_str(), 1, u.to_ascii_lowercase()),
            Subject::Device(d) => (f.check.as_str(), 2, d.clone()),
        };
        by_key.entry(key).or_insert(f);
    }
    report
        .diagnoses
        .iter()
        .map(|d| {
            let root_cause = match d.causes.first() {
                None => match d.user.as_deref() {
                    Some(u) => format!("enrolling user {}", escape_line(u)),
                    None => "-".to_string(),
                },
                Some(first) => {
                    let c = first.as_str();
                    by_key
                        .get(&(c, 2, d.device.clone()))
                        .or_else(|| {
                            d.user
                                .as_deref()
                                .and_then(|u| by_key.get(&(c, 1, u.to_ascii_lowercase())))
                        })
                        .or_else(|| by_key.get(&(c, 0, String::new())))
                        .map(|f| format!("{first}: {}", f.summary))
                        .unwrap_or_else(|| first.clone())
                }
            };
            OverviewRow {
                device: d.device.clone(),
                verdict: d.verdict.as_str(),
                causes: if d.causes.is_empty() {
                    "-".to_string()
                } else {
                    d.causes.join(" → ")
                },
                root_cause,
            }
        })
        .collect()
}

/// The summary of a run: the headline, the tenant, the blocking checks (or a fleet's
/// verdict × first-cause histogram), the warnings, and every other check as counts.
pub fn summary_block(h: &RunHeader<'_>, width: usize) -> String {
    let s = h.summary;
    let mut out = String::new();
    let line = |out: &mut String, text: &str| {
        out.push_str(&wrap_line(text, width));
        out.push('\n');
    };
    let what = if s.kind == SubjectKind::Device {
        "Fleet"
    } else {
        "Readiness"
    };
    line(
        &mut out,
        &format!(
            "{what} (as of {}): {}",
            h.as_of.format("%Y-%m-%d"),
            s.headline()
        ),
    );
    let u = &s.users;
    if s.kind == SubjectKind::Device {
        if u.users > 0 {
            let mut t = format!(
                "Enrolling users: {}: {} ready, {} not ready",
                u.users, u.ready, u.not_ready
            );
            if u.incomplete > 0 {
                t.push_str(&format!(", {} incomplete", u.incomplete));
            }
            line(&mut out, &t);
        }
    } else if u.disabled + u.guests > 0 {
        let failing = s.not_ready.saturating_sub(u.disabled + u.guests);
        let mut parts = vec![format!("{failing} with a failing check")];
        if u.disabled > 0 {
            parts.push(format!(
                "{} disabled account{} (e.g. {})",
                u.disabled,
                plural(u.disabled),
                escape_joined(&u.disabled_examples, ", ")
            ));
        }
        if u.guests > 0 {
            parts.push(format!(
                "{} guest{} (e.g. {})",
                u.guests,
                plural(u.guests),
                escape_joined(&u.guest_examples, ", ")
            ));
        }
        line(&mut out, &format!("Not ready: {}", parts.join(", ")));
    }
    if let Some(t) = &s.tenant {
        let mut text = format!("Tenant: {} ({} pass", t.state.as_str(), t.pass);
        if t.findings.is_empty() {
            text.push(')');
        } else {
            let others: Vec<String> = t
                .findings
                .iter()
                .map(|f| format!("{} {}", f.check, f.status.as_str()))
                .collect();
            text.push_str(&format!(", {})", others.join(", ")));
        }
        line(&mut out, &text);
    }
    out.push('\n');

    if !s.causes.is_empty() {
        out.push_str("Not enrolled, by verdict and first cause:\n");
        let rows = s
            .causes
            .iter()
            .map(|c| CountLine {
                cols: vec![
                    c.verdict.as_str().to_string(),
                    c.cause.clone().unwrap_or_else(|| "-".to_string()),
                    format!("{} device{}", c.devices, plural(c.devices)),
                ],
                what: with_examples(&c.title, &c.examples, c.devices),
                fix: c.fix.clone(),
            })
            .collect();
        out.push_str(&count_lines(rows, width));
        out.push('\n');
    }
    for (heading, rows) in [
        (
            "Blocking checks (users not ready because of them)",
            &s.blocking,
        ),
        ("Warnings", &s.warnings),
    ] {
        if rows.is_empty() {
            continue;
        }
        out.push_str(heading);
        out.push_str(":\n");
        let lines = rows
            .iter()
            .map(|r| {
                let mut fix = one_line(&r.fix);
                if r.other_fixes > 0 {
                    fix = format!("(+{} other fix texts) {fix}", r.other_fixes);
                }
                CountLine {
                    cols: vec![
                        r.check.clone(),
                        format!("{} user{}", r.subjects, plural(r.subjects)),
                    ],
                    what: with_examples(&r.title, &r.examples, r.subjects),
                    fix,
                }
            })
            .collect();
        out.push_str(&count_lines(lines, width));
        out.push('\n');
    }
    // Passing checks are counted in the JSON; skips and errors say what the run could not see.
    let noun = format!("{}s", s.kind.noun());
    let mut counts = false;
    for (label, errors) in [("Skipped", false), ("Errors", true)] {
        let parts: Vec<String> = s
            .by_check
            .iter()
            .filter_map(|c| {
                let n = if errors { c.error } else { c.skip };
                (n > 0).then(|| format!("{} ({n})", c.check))
            })
            .collect();
        if !parts.is_empty() {
            counts = true;
            line(
                &mut out,
                &format!("{label}, {noun} per check: {}", parts.join(", ")),
            );
        }
    }
    if counts {
        out.push('\n');
    }
    out
}

/// One row of a summary list: aligned columns, what it is, and the fix on the next line.
struct CountLine {
    cols: Vec<String>,
    what: String,
    fix: String,
}

/// Each row on two lines cut to the width: `  USR002  2931 users  <title> (e.g. …)` and,
/// under the title, `fix: <fix>`.
fn count_lines(rows: Vec<CountLine>, width: usize) -> String {
    let rows: Vec<CountLine> = rows
        .into_iter()
        .map(|r| CountLine {
            cols: r.cols.iter().map(|c| line(c)).collect(),
            what: line(&r.what),
            fix: escape_text(&r.fix).into_owned(),
        })
        .collect();
    let n = rows.iter().map(|r| r.cols.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.cols.get(i))
                .map(|c| cols(c))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let indent = 2 + widths.iter().map(|w| w + 2).sum::<usize>();
    let room = width.saturating_sub(indent).max(20);
    let mut out = String::new();
    for r in rows {
        let mut l = String::from("  ");
        for (c, w) in r.cols.iter().zip(&widths) {
            l.push_str(&pad(c, *w));
            l.push_str("  ");
        }
        l.push_str(&truncate(&r.what, room));
        out.push_str(l.trim_end());
        out.push('\n');
        if !r.fix.is_empty() {
            out.push_str(&" ".repeat(indent));
            out.push_str(&truncate(&format!("fix: {}", one_line(&r.fix)), room));
            out.push('\n');
        }
    }
    out
}

/// `not met: <title> (e.g. a, b, c, …)`: a check's title states what should hold, so a row
/// about the subjects it fails for says that it is not met.
fn with_examples(title: &str, names: &[String], total: usize) -> String {
    let what = if title.is_empty() {
        String::new()
    } else {
        format!("not met: {title}")
    };
    if names.is_empty() {
        return what;
    }
    let e = examples(names, total);
    // `names` come from outside: escaped by [`count_lines`] with the rest of the row.
    if what.is_empty() {
        format!("e.g. {e}")
    } else {
        format!("{what} (e.g. {e})")
    }
}

/// Up to three names, and `…` when there are more.
fn examples(names: &[String], total: usize) -> String {
    let mut s = names.join(", ");
    if total > names.len() {
        s.push_str(", …");
    }
    s
}

/// The device overview of a fleet, or one line per user that is not ready.
pub fn list_block(h: &RunHeader<'_>, width: usize) -> String {
    if !h.overview.is_empty() {
        let rows = h
            .overview
            .iter()
            .map(|o| {
                vec![
                    line(&o.device),
                    o.verdict.to_string(),
                    line(&o.causes),
                    escape_text(&o.root_cause).into_owned(),
                ]
            })
            .collect();
        let mut s = table(
            &["Device", "Verdict", "Causes", "Root cause"],
            &[Col::Fixed, Col::Fixed, Col::Flex(3), Col::Flex(9)],
            rows,
            width,
        );
        s.push('\n');
        return s;
    }
    let listed: Vec<&SubjectRow> = h
        .rows
        .iter()
        .filter(|r| r.kind != SubjectKind::Tenant && r.is_listed())
        .collect();
    if listed.is_empty() {
        return String::new();
    }
    let u = &h.summary.users;
    let mut out = format!(
        "Not ready ({} user{}{}): user, blocking checks, first fix\n",
        listed.len(),
        plural(listed.len()),
        if u.disabled + u.guests > 0 {
            "; disabled accounts and guests are counted above"
        } else {
            ""
        }
    );
    let blocking = |r: &SubjectRow| {
        let ids = escape_joined(&r.blocking, " ");
        match r.state {
            State::Incomplete => format!("error: {ids}"),
            _ => ids,
        }
    };
    let w1 = listed
        .iter()
        .map(|r| cols(&escape_line(&r.subject)))
        .max()
        .unwrap_or(0)
        .min(40);
    let w2 = listed
        .iter()
        .map(|r| cols(&blocking(r)))
        .max()
        .unwrap_or(0)
        .min(30);
    for r in listed {
        let mut l = format!(
            "  {}  {}  ",
            pad(&line(&r.subject), w1),
            pad(&blocking(r), w2)
        );
        let room = width.saturating_sub(cols(&l)).max(20);
        l.push_str(&truncate(&one_line(&escape_text(&r.first_fix)), room));
        out.push_str(l.trim_end());
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The heading over the details when only the first few subjects get them.
pub fn details_heading(shown: usize, kind: SubjectKind) -> String {
    let noun = kind.noun();
    format!(
        "Details of the first {shown} {noun}{} that are not ready (every {noun}: --details)\n\n",
        plural(shown)
    )
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One subject's details: a device's diagnosis, then its findings that are not passing, the
/// passing ones as a count, token-wide skips one line per reason, and the fixes (a device's
/// first fix is in its diagnosis).
pub fn subject_block(s: &SubjectResult<'_>, devices: Option<&[String]>, width: usize) -> String {
    let mut out = String::new();
    if let Some(d) = s.diagnosis {
        out.push_str(&diagnosis_box(d, width));
    }
    let heading = match s.subject.as_ref() {
        Subject::Tenant => "Tenant".to_string(),
        Subject::User(u) => {
            let mut h = format!("User {}", escape_line(u));
            match s.kind {
                SubjectKind::Disabled => h.push_str(" (disabled account)"),
                SubjectKind::Guest => h.push_str(" (guest)"),
                _ => {}
            }
            if let Some(ds) = devices.filter(|d| !d.is_empty()) {
                h.push_str(&format!(" (enrolling user of {})", escape_joined(ds, ", ")));
            }
            h
        }
        Subject::Device(d) => {
            let d = escape_line(d);
            match s.diagnosis {
                Some(x) => format!("Device {d}: {}", x.verdict.as_str()),
                None => format!("Device {d}"),
            }
        }
    };
    out.push_str(&wrap_line(&heading, width));
    out.push('\n');
    let rows: Vec<Vec<String>> = s
        .findings
        .iter()
        .filter(|f| f.status != Status::Pass && !one_line_skip(f))
        .map(|f| finding_row(f))
        .collect();
    if !rows.is_empty() {
        out.push_str(&findings_table(rows, width));
    }
    let passed: Vec<std::borrow::Cow<'_, str>> = s
        .findings
        .iter()
        .filter(|f| f.status == Status::Pass)
        .map(|f| escape_line(&f.check))
        .collect();
    if !passed.is_empty() {
        out.push_str(&wrap_line(
            &format!("  passed ({}): {}", passed.len(), passed.join(" ")),
            width,
        ));
        out.push('\n');
    }
    // Skips that come from the token, not from this subject, repeat for every user or
    // device: one line each, the reason is in the notes and in the JSON. Checks that do not
    // apply on the subject's path (the Autopilot family on a GPO device) are one line too.
    let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
    // `wrap_line` escapes each line: a check ID or skip reason from outside is shown escaped.
    let mut by_reason: HashMap<String, usize> = HashMap::new();
    for f in s.findings.iter().filter(|f| one_line_skip(f)) {
        let reason = f
            .skip_reason
            .as_ref()
            .map(|r| r.describe())
            .unwrap_or_default();
        match by_reason.get(&reason) {
            Some(&i) => reasons[i].1.push(f.check.as_str()),
            None => {
                by_reason.insert(reason.clone(), reasons.len());
                reasons.push((reason, vec![f.check.as_str()]));
            }
        }
    }
    for (reason, ids) in reasons {
        out.push_str(&wrap_line(
            &format!("  skipped ({}): {} — {reason}", ids.len(), ids.join(" ")),
            width,
        ));
        out.push('\n');
    }
    let first = s.diagnosis.map(|d| d.fix.as_str()).unwrap_or("");
    let mut fixes: HashSet<&str> = HashSet::new();
    for f in s
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Error))
    {
        let text = if f.remediation.is_empty() {
            f.error.as_deref().unwrap_or("")
        } else {
            f.remediation.as_str()
        };
        if text.is_empty() || text == first || !fixes.insert(text) {
            continue;
        }
        out.push_str(&wrap_line(&format!("  fix {}: {text}", f.check), width));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// After the details: how many subjects have none, the notes and the status line.
pub fn run_tail(h: &RunHeader<'_>, more: usize, width: usize) -> String {
    let mut out = String::new();
    if more > 0 {
        let noun = h.summary.kind.noun();
        out.push_str(&format!(
            "{more} more {noun}{}: use --details or --format csv/jsonl\n\n",
            plural(more)
        ));
    }
    for n in h.notes {
        out.push_str(&wrap_line(&format!("Note: {n}"), width));
        out.push('\n');
    }
    out.push_str(&format!(
        "Summary: {}\n",
        view::status_line(&h.summary.findings, h.as_of)
    ));
    out
}
