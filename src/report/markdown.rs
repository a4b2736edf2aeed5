//! GitHub-flavoured Markdown for a help-desk ticket or a GitHub issue: the diagnoses first, then
//! every finding grouped by subject as a table, the fixes for what is not passing, notes and the
//! summary line. Unlike the table output nothing is folded away: a ticket is read once, in full.
//!
//! Locations (registry paths, files, Graph requests) go inside backticks so their backslashes
//! stay literal; in plain text a backslash is escaped only where Markdown would eat it.
//!
//! Text from outside is escaped by [`crate::text_safety`] first: control characters are shown
//! as `\u{1b}` (literal in Markdown: a backslash before a letter), a name or a location stays
//! on one line (no heading, list item or table row can be ended by it), and in a table cell a
//! newline of a text block becomes `<br>` and a `|` is escaped.

use super::Report;
use super::header::RunHeader;
use super::summary::{SubjectKind, SubjectResult, SubjectRow, plural};
use super::view::{self, ReportView, SubjectGroup};
use crate::model::{Diagnosis, Finding, Status, Subject};
use crate::text_safety::{escape_joined, escape_line, escape_text, into_safe_text};

pub fn render(report: &Report) -> String {
    render_with(report, false)
}

/// One subject's report (a run over several goes through [`super::render`]).
pub fn render_with(report: &Report, _details: bool) -> String {
    let mut out = format!(
        "# enroll-doctor report (as of {})\n\n",
        report.as_of.format("%Y-%m-%d")
    );

    for d in &report.diagnoses {
        out.push_str(&diagnosis_section(d));
    }

    let view = ReportView::of(report);
    if !report.findings.is_empty() {
        out.push_str("## Findings\n\n");
    }
    for group in &view.groups {
        out.push_str(&format!("### {}\n\n", subject_heading(group, report)));
        findings_table(&mut out, group.findings.iter().copied());
        out.push('\n');
    }

    if !view.fixes.is_empty() {
        out.push_str("## What to fix\n\n| Check | Subject | Remediation |\n|---|---|---|\n");
        for row in &view.fixes {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(&escape_joined(&row.checks, "\n")),
                cell(&escape_joined(&row.subjects, "\n")),
                cell(&row.text)
            ));
        }
        out.push('\n');
    }

    if !report.notes.is_empty() {
        out.push_str("## Notes\n\n");
        for n in &report.notes {
            out.push_str(&format!("- {}\n", indent_continuation(&text(n))));
        }
        out.push('\n');
    }

    out.push_str(&format!("**Summary:** {}\n", view::summary_line(report)));
    into_safe_text(out)
}

// ---- Runs over several subjects -----------------------------------------------------------

/// The title, the summary, and the subjects that are not ready, one table row each.
pub fn run_head(h: &RunHeader<'_>) -> String {
    let s = h.summary;
    let mut out = format!(
        "# enroll-doctor report (as of {})\n\n## Summary\n\n",
        h.as_of.format("%Y-%m-%d")
    );
    out.push_str(&format!("**{}**\n\n", text(&s.headline())));
    let u = &s.users;
    if s.kind == SubjectKind::Device {
        if u.users > 0 {
            out.push_str(&format!(
                "- **Enrolling users:** {}: {} ready, {} not ready\n",
                u.users, u.ready, u.not_ready
            ));
        }
    } else if u.disabled + u.guests > 0 {
        let failing = s.not_ready.saturating_sub(u.disabled + u.guests);
        out.push_str(&format!("- **With a failing check:** {failing}\n"));
        if u.disabled > 0 {
            out.push_str(&format!(
                "- **Disabled accounts:** {} (e.g. {})\n",
                u.disabled,
                name(&u.disabled_examples.join(", "))
            ));
        }
        if u.guests > 0 {
            out.push_str(&format!(
                "- **Guests:** {} (e.g. {})\n",
                u.guests,
                name(&u.guest_examples.join(", "))
            ));
        }
    }
    if let Some(t) = &s.tenant {
        let mut line = format!("- **Tenant:** `{}` ({} pass", t.state.as_str(), t.pass);
        for f in &t.findings {
            line.push_str(&format!(", {} {}", code(&f.check), f.status.as_str()));
        }
        line.push_str(")\n");
        out.push_str(&line);
    }
    out.push('\n');
    if !s.causes.is_empty() {
        out.push_str("### Not enrolled, by verdict and first cause\n\n");
        out.push_str(
            "| Verdict | Cause | Devices | Not met | Examples | Fix |\n|---|---|---|---|---|---|\n",
        );
        for c in &s.causes {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} |\n",
                c.verdict.as_str(),
                c.cause.as_deref().map(code).unwrap_or_else(|| "-".into()),
                c.devices,
                cell(&c.title),
                cell(&escape_line(&examples(&c.examples, c.devices))),
                cell(&c.fix)
            ));
        }
        out.push('\n');
    }
    let noun = if s.kind == SubjectKind::Device {
        "Devices"
    } else {
        "Users"
    };
    for (heading, rows) in [("Blocking checks", &s.blocking), ("Warnings", &s.warnings)] {
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "### {heading}\n\n| Check | {noun} | Not met | Examples | Fix |\n|---|---|---|---|---|\n"
        ));
        for r in rows {
            let mut fix = r.fix.clone();
            if r.other_fixes > 0 {
                fix.push_str(&format!(" (+{} other fix texts)", r.other_fixes));
            }
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                code(&r.check),
                r.subjects,
                cell(&r.title),
                cell(&escape_line(&examples(&r.examples, r.subjects))),
                cell(&fix)
            ));
        }
        out.push('\n');
    }
    let mut counts = String::new();
    for (label, pick) in [("Passed", 0usize), ("Skipped", 1), ("Errors", 2)] {
        let parts: Vec<String> = s
            .by_check
            .iter()
            .filter_map(|c| {
                let n = match pick {
                    0 => c.pass,
                    1 => c.skip,
                    _ => c.error,
                };
                (n > 0).then(|| format!("{} ({n})", code(&c.check)))
            })
            .collect();
        if !parts.is_empty() {
            counts.push_str(&format!(
                "- **{label}, {} per check:** {}\n",
                noun.to_lowercase(),
                parts.join(", ")
            ));
        }
    }
    if !counts.is_empty() {
        out.push_str(&counts);
        out.push('\n');
    }

    let listed: Vec<&SubjectRow> = h
        .rows
        .iter()
        .filter(|r| r.kind != SubjectKind::Tenant && r.is_listed())
        .collect();
    if !listed.is_empty() {
        let (one, col) = if s.kind == SubjectKind::Device {
            ("device", "Device | Verdict | Causes")
        } else {
            ("user", "User | Verdict | Blocking checks")
        };
        out.push_str(&format!(
            "## Not ready ({} {one}{})\n\n| {col} | First fix |\n|---|---|---|---|\n",
            listed.len(),
            plural(listed.len())
        ));
        for r in listed {
            let ids: Vec<String> = r.blocking.iter().map(|c| code(c)).collect();
            out.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                cell(&escape_line(&r.subject)),
                r.state.as_str(),
                if ids.is_empty() {
                    "-".to_string()
                } else {
                    ids.join(" ")
                },
                cell(&r.first_fix)
            ));
        }
        out.push('\n');
    }
    out.push_str("## Details\n\n");
    out
}

/// Up to three names, and `…` when there are more.
fn examples(names: &[String], total: usize) -> String {
    let mut s = names.join(", ");
    if total > names.len() {
        s.push_str(", …");
    }
    s
}

/// One subject's details: a device's diagnosis, the findings that are not passing, the
/// passing ones as a count, and the fixes.
pub fn subject_section(s: &SubjectResult<'_>) -> String {
    let heading = match s.subject.as_ref() {
        Subject::Tenant => "Tenant".to_string(),
        Subject::User(u) => match s.kind {
            SubjectKind::Disabled => format!("User {} (disabled account)", name(u)),
            SubjectKind::Guest => format!("User {} (guest)", name(u)),
            _ => format!("User {}", name(u)),
        },
        Subject::Device(d) => match s.diagnosis {
            Some(x) => format!("Device {}: {}", name(d), x.verdict.as_str()),
            None => format!("Device {}", name(d)),
        },
    };
    let mut out = format!("### {heading}\n\n");
    if let Some(d) = s.diagnosis {
        out.push_str(&diagnosis_items(d));
        out.push('\n');
    }
    let shown: Vec<&&Finding> = s
        .findings
        .iter()
        .filter(|f| f.status != Status::Pass)
        .collect();
    if !shown.is_empty() {
        findings_table(&mut out, shown.iter().map(|f| **f));
        out.push('\n');
    }
    let passed: Vec<String> = s
        .findings
        .iter()
        .filter(|f| f.status == Status::Pass)
        .map(|f| code(&f.check))
        .collect();
    if !passed.is_empty() {
        out.push_str(&format!(
            "Passed ({}): {}\n\n",
            passed.len(),
            passed.join(" ")
        ));
    }
    let first = s.diagnosis.map(|d| d.fix.as_str()).unwrap_or("");
    let mut seen: Vec<&str> = Vec::new();
    for f in shown
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Error))
    {
        let t = if f.remediation.is_empty() {
            f.error.as_deref().unwrap_or("")
        } else {
            f.remediation.as_str()
        };
        // A subject has one finding per check: this list stays short.
        if t.is_empty() || t == first || seen.contains(&t) {
            continue;
        }
        seen.push(t);
        out.push_str(&format!(
            "- **Fix {}:** {}\n",
            code(&f.check),
            indent_continuation(&text(t))
        ));
    }
    if !seen.is_empty() {
        out.push('\n');
    }
    out
}

/// After the details: how many subjects have none, the notes and the status line.
pub fn run_tail(h: &RunHeader<'_>, more: usize) -> String {
    let mut out = String::new();
    if more > 0 {
        let noun = h.summary.kind.noun();
        out.push_str(&format!(
            "{more} more {noun}{}: use `--details` or `--format csv`/`jsonl`.\n\n",
            plural(more)
        ));
    }
    if !h.notes.is_empty() {
        out.push_str("## Notes\n\n");
        for n in h.notes {
            out.push_str(&format!("- {}\n", indent_continuation(&text(n))));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "**Summary:** {}\n",
        view::status_line(&h.summary.findings, h.as_of)
    ));
    out
}

/// A diagnosis as list items (verdict, path, user, causes, fix, explanation).
fn diagnosis_items(d: &Diagnosis) -> String {
    let mut s = format!("- **Verdict:** `{}`\n", d.verdict.as_str());
    s.push_str(&format!("- **Path:** `{}`\n", d.path.as_str()));
    if let Some(u) = &d.user {
        s.push_str(&format!("- **Enrolling user:** {}\n", name(u)));
    }
    let causes = if d.causes.is_empty() {
        "-".to_string()
    } else {
        d.causes
            .iter()
            .map(|c| code(c))
            .collect::<Vec<_>>()
            .join(" → ")
    };
    s.push_str(&format!("- **Causes:** {causes}\n"));
    if !d.fix.is_empty() {
        s.push_str(&format!(
            "- **Fix:** {}\n",
            indent_continuation(&text(&d.fix))
        ));
    }
    if !d.explanation.is_empty() {
        s.push_str(&format!(
            "- **Explanation:** {}\n",
            indent_continuation(&text(&d.explanation))
        ));
    }
    s
}

fn diagnosis_section(d: &Diagnosis) -> String {
    let mut s = format!("## Diagnosis: {}\n\n", name(&d.device));
    s.push_str(&diagnosis_items(d));
    s.push('\n');
    s
}

fn subject_heading(group: &SubjectGroup<'_>, report: &Report) -> String {
    match group.subject {
        Subject::Tenant => "Tenant".to_string(),
        Subject::User(u) => format!("User {}", name(u)),
        Subject::Device(d) => match group.diagnosis_in(report) {
            Some(x) => format!("Device {}: {}", name(d), x.verdict.as_str()),
            None => format!("Device {}", name(d)),
        },
    }
}

/// Fail and warn stand out in bold; the status itself comes from the finding.
fn status_cell(status: &Status) -> String {
    let s = status.as_str().to_uppercase();
    match status {
        Status::Fail | Status::Warn | Status::Error => format!("**{s}**"),
        Status::Pass | Status::Skip => s,
    }
}

/// The first evidence with its location as code, and how many more there are.
fn evidence_cell(f: &Finding) -> String {
    let Some(e) = view::evidence_summary(f) else {
        return String::new();
    };
    let mut s = cell(e.detail);
    if let Some(loc) = &e.location {
        s.push_str(&format!(" at {}", cell_code(loc)));
    }
    if e.more > 0 {
        s.push_str(&format!(" (+{} more)", e.more));
    }
    s
}

/// Plain text: a backslash before ASCII punctuation would escape it, so it is doubled; a `\`
/// before a letter (`HKLM\SOFTWARE`) is literal in Markdown and stays as is. `<` could open an
/// HTML tag and is escaped. Code spans a check wrote (`reg delete "HKLM\…"`) are already literal
/// and pass through untouched. Control characters are escaped first (newlines kept).
pub(crate) fn text(s: &str) -> String {
    let s = escape_text(s);
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            _ if in_code => out.push(c),
            '\\' if chars.peek().is_none_or(|n| n.is_ascii_punctuation()) => out.push_str("\\\\"),
            '<' => out.push_str("\\<"),
            _ => out.push(c),
        }
    }
    out
}

/// A name from outside (a device, a user) as plain text on one line.
fn name(s: &str) -> String {
    text(&escape_line(s))
}

/// Text inside a table cell: also `|` (ends the cell) and newlines (end the row).
pub(crate) fn cell(s: &str) -> String {
    table_safe(&text(s))
}

fn table_safe(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}

/// A code span, fenced with more backticks than the content holds so a backtick inside stays;
/// on one line, control characters escaped.
pub(crate) fn code(s: &str) -> String {
    let s = escape_line(s);
    let longest_run = s
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest_run + 1);
    // A space on each side when the content starts or ends with a backtick (CommonMark strips it).
    if s.starts_with('`') || s.ends_with('`') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// A code span inside a table cell: GFM splits cells at `|` even inside backticks, and `\|` there
/// renders as `|`.
fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// Continuation lines of a list item are indented so they stay in the item.
fn indent_continuation(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\n  ")
}

/// One Markdown table row per finding: status, check, summary, first evidence.
fn findings_table<'a>(out: &mut String, findings: impl IntoIterator<Item = &'a Finding>) {
    out.push_str("| Status | Check | Summary | Evidence |\n|---|---|---|---|\n");
    for f in findings {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            status_cell(&f.status),
            cell(&f.check),
            cell(&f.summary),
            evidence_cell(f)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::{DEV007, DEV010};
    use crate::checks::tenant::TEN001;
    use crate::checks::user::USR002;
    use crate::model::{EnrollmentPath, Evidence, SkipReason, Verdict};
    use chrono::{TimeZone, Utc};

    fn sample_report() -> Report {
        let findings = vec![
            TEN001
                .finding(Status::Pass, Subject::Tenant, "MDM scope is All")
                .with_evidence(
                    Evidence::new("graph", "appliesTo=all")
                        .at("GET /v1.0/policies/mobileDeviceManagementPolicies?$select=appliesTo"),
                ),
            DEV007
                .finding(
                    Status::Fail,
                    Subject::Device("PC-01".into()),
                    "auto-enroll task failed | twice\nlast 0x80180002",
                )
                .with_evidence(
                    Evidence::new("registry", "LastError=0x80180002")
                        .at(r"HKLM\SOFTWARE\Microsoft\Enrollments\{GUID}"),
                )
                .with_evidence(Evidence::new("eventlog", "event 76"))
                .with_remediation("Re-run the task"),
            DEV010.skip(
                Subject::Device("PC-01".into()),
                SkipReason::NoEvidence {
                    collect: "dsregcmd /status".into(),
                },
            ),
            USR002
                .finding(Status::Warn, Subject::User("a@b.c".into()), "no licence")
                .with_remediation("Re-run the task"),
        ];
        let diag = Diagnosis {
            device: "PC-01".into(),
            path: EnrollmentPath::GpoHybrid,
            // Deliberately not what the findings would suggest: the renderer must echo it.
            verdict: Verdict::Enrolled,
            causes: vec!["DEV007".into(), "USR002".into()],
            fix: "Fix the task\nthen reboot".into(),
            explanation: "The task failed.".into(),
            user: Some("a@b.c".into()),
            inputs: Vec::new(),
            facts: Vec::new(),
        };
        let mut r = Report::new(
            Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap(),
            vec![diag],
            findings,
        );
        r.notes.push("device-only analysis".into());
        r
    }

    #[test]
    fn escapes_pipes_and_newlines_in_cells() {
        assert_eq!(cell("a | b\nc"), r"a \| b<br>c");
        assert_eq!(cell("x\r\ny"), "x<br>y");
        assert_eq!(cell_code("a|b"), r"`a\|b`");
        let out = render(&sample_report());
        assert!(out.contains(r"auto-enroll task failed \| twice<br>last 0x80180002"));
        // Every table row has exactly the column count of its header.
        for line in out.lines().filter(|l| l.starts_with("| ")) {
            let unescaped_pipes = line.matches('|').count() - line.matches(r"\|").count();
            assert!(unescaped_pipes == 5 || unescaped_pipes == 4, "{line}");
        }
    }

    #[test]
    fn outside_text_cannot_break_out_of_a_cell_a_heading_or_the_terminal() {
        let hostile = "PC\u{1b}[2J\u{7}|x|\r\n## Fake\n| a | b |\u{9b}\u{202e}";
        let mut r = sample_report();
        r.diagnoses[0].device = hostile.into();
        r.diagnoses[0].user = Some(format!("u{hostile}"));
        for f in r.findings.iter_mut() {
            if f.subject != Subject::Tenant {
                f.subject = Subject::Device(hostile.into());
            }
            f.summary = format!("sum {hostile}");
        }
        r.findings[0].evidence[0].location = Some(format!("GET /v1.0/{hostile}"));
        r.notes.push(format!("note {hostile}"));
        let out = render(&r);
        assert!(
            !out.chars()
                .any(|c| c != '\n' && crate::text_safety::is_unsafe(c)),
            "{out}"
        );
        // The name stays on its heading's line, escaped; no line of its own starts a heading.
        assert!(
            out.contains("## Diagnosis: PC\\u{1b}[2J\\u{7}|x|\\u{d}\\u{a}## Fake\\u{a}| a | b |\\u{9b}\\u{202e}\n"),
            "{out}"
        );
        assert!(!out.lines().any(|l| l.starts_with("## Fake")), "{out}");
        // In a cell, a pipe is escaped and a name's newline too; a summary's newline is `<br>`.
        assert!(out.contains(r"| **FAIL** | DEV007 | sum PC\u{1b}[2J\u{7}\|x\|<br>## Fake<br>\| a \| b \|\u{9b}\u{202e} |"), "{out}");
        assert!(
            out.contains(
                r"`GET /v1.0/PC\u{1b}[2J\u{7}\|x\|\u{d}\u{a}## Fake\u{a}\| a \| b \|\u{9b}\u{202e}`"
            ),
            "{out}"
        );
        for line in out.lines().filter(|l| l.starts_with('|')) {
            let unescaped_pipes = line.matches('|').count() - line.matches(r"\|").count();
            assert!(unescaped_pipes == 5 || unescaped_pipes == 4, "{line}");
        }
    }

    #[test]
    fn registry_paths_keep_their_backslashes_in_code() {
        let out = render(&sample_report());
        assert!(out.contains(r"`HKLM\SOFTWARE\Microsoft\Enrollments\{GUID}`"));
        assert_eq!(text(r"HKLM\SOFTWARE"), r"HKLM\SOFTWARE");
        assert_eq!(text(r"a\*b"), r"a\\*b");
        assert_eq!(text("<none>"), r"\<none>");
        // Code spans written by a check stay literal; the text around them is escaped.
        assert_eq!(
            text(r#"run `reg export "HKLM\{G}\"` then \{x}"#),
            r#"run `reg export "HKLM\{G}\"` then \\{x}"#
        );
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }

    #[test]
    fn diagnoses_come_before_findings() {
        let out = render(&sample_report());
        let diag = out.find("## Diagnosis: PC-01").expect("diagnosis heading");
        let findings = out.find("## Findings").expect("findings heading");
        assert!(diag < findings);
        assert!(out.starts_with("# enroll-doctor report (as of 2026-11-26)"));
        assert!(out.contains("- **Causes:** `DEV007` → `USR002`"));
        assert!(out.contains("- **Fix:** Fix the task\n  then reboot"));
        assert!(out.contains("- **Enrolling user:** a@b.c"));
        assert!(
            out.trim_end().ends_with(
                "**Summary:** 1 pass, 1 warn, 1 fail, 1 skip, 0 error (as of 2026-11-26)"
            )
        );
    }

    #[test]
    fn every_finding_is_present_grouped_by_subject() {
        let r = sample_report();
        let out = render(&r);
        for f in &r.findings {
            assert!(
                out.contains(&format!("| {} |", f.check)),
                "missing {}",
                f.check
            );
        }
        assert!(out.contains("### Tenant"));
        assert!(out.contains("### User a@b.c"));
        assert!(out.contains("### Device PC-01: enrolled"));
        // Graph query strings are dropped, the extra evidence is counted.
        assert!(out.contains("`GET /v1.0/policies/mobileDeviceManagementPolicies`"));
        assert!(out.contains("(+1 more)"));
        assert!(out.contains("no evidence: collect dsregcmd /status"));
        // One remediation row shared by the two findings with the same text.
        assert!(
            out.contains("| DEV007<br>USR002 | device PC-01<br>user a@b.c | Re-run the task |")
        );
        assert_eq!(out.matches("Re-run the task").count(), 1);
        assert!(out.contains("## Notes\n\n- device-only analysis"));
    }

    #[test]
    fn verdict_is_echoed_not_decided() {
        // The diagnosis says enrolled although a finding fails: the renderer must not overrule.
        let out = render(&sample_report());
        assert!(out.contains("- **Verdict:** `enrolled`"));
        let mut r = sample_report();
        r.diagnoses[0].verdict = Verdict::Blocked;
        let out = render(&r);
        assert!(out.contains(&format!("- **Verdict:** `{}`", Verdict::Blocked.as_str())));
    }

    #[test]
    fn tenant_only_report_has_no_diagnosis_section() {
        let mut r = sample_report();
        r.diagnoses.clear();
        let out = render(&r);
        assert!(!out.contains("## Diagnosis"));
        assert!(out.contains("### Device PC-01\n"));
    }
}
