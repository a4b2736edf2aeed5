//! Table renderer for people: diagnoses first, then the findings grouped by what they are about
//! (the tenant, each user, each device), the fixes for what is not passing, notes and a summary
//! line. No colour (the output is also piped and diffed).
//!
//! Reading aids that only the table gets (the JSON keeps everything):
//! - Graph locations lose their query string (`GET /v1.0/organization?$select=…` →
//!   `GET /v1.0/organization`).
//! - A run over several devices (or a readiness check of several users) lists the passing checks
//!   of each subject on one line; every other finding keeps its own row. A single device keeps
//!   one row per finding.
//! - Cells are wrapped here, between words; a token longer than its column (a registry path) is
//!   broken after a `\`, `/`, `,` or `-` where it has one.
//! - Text from outside (device names, file contents, Graph values) is escaped by
//!   [`crate::text_safety`] before it is measured: names and locations stay on one line, every
//!   control character is shown as `\u{1b}`; every cell and line is escaped again as a guard.

use tabled::builder::Builder;
use tabled::settings::Style;

use super::Report;
use super::view::{self, ReportView, SubjectGroup};
use super::width::{char_index, cols, split_at_cols};
use crate::model::{Diagnosis, Finding, SkipReason, Status, Subject};
use crate::text_safety::{escape_joined, escape_line, escape_text, into_safe_text};

pub const DEFAULT_WIDTH: usize = 120;
/// Four columns with their borders need about this much; narrower terminals get this width.
pub(crate) const MIN_WIDTH: usize = 70;

/// The width to wrap to: the terminal's own width when stdout is a terminal (shells do not
/// export `COLUMNS`), else `COLUMNS` when set to a sane number, else [`DEFAULT_WIDTH`].
pub fn width_from_env() -> usize {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    let terminal = stdout
        .is_terminal()
        .then(|| terminal_size::terminal_size_of(&stdout))
        .flatten()
        .map(|(terminal_size::Width(w), _)| usize::from(w));
    pick_width(terminal, std::env::var("COLUMNS").ok().as_deref())
}

/// The terminal's width, then `COLUMNS`, then the default; widths under 20 are not believed.
fn pick_width(terminal: Option<usize>, columns: Option<&str>) -> usize {
    let sane = |w: &usize| *w >= 20;
    terminal
        .filter(sane)
        .or_else(|| {
            columns
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(sane)
        })
        .unwrap_or(DEFAULT_WIDTH)
}

/// `width`, or the narrowest width the tables fit in.
pub fn clamp_width(width: usize) -> usize {
    width.max(MIN_WIDTH)
}

/// Renders at the width from the environment.
pub fn render(report: &Report) -> String {
    render_with(report, width_from_env(), false)
}

pub fn render_with_width(report: &Report, width: usize) -> String {
    render_with(report, width, false)
}

/// One subject's report (a run over several goes through [`super::render`]). `details` is
/// accepted for symmetry with the run layout.
pub fn render_with(report: &Report, width: usize, _details: bool) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::new();

    // One subject: its diagnosis leads, then one row per finding, passes included.
    for d in &report.diagnoses {
        out.push_str(&diagnosis_box(d, width));
    }

    let view = ReportView::of(report);
    for group in &view.groups {
        out.push_str(&subject_heading(group, report, width));
        if !group.findings.is_empty() {
            let rows: Vec<Vec<String>> = group.findings.iter().map(|f| finding_row(f)).collect();
            out.push_str(&findings_table(rows, width));
        }
        out.push('\n');
    }

    let fixes: Vec<Vec<String>> = view
        .fixes
        .iter()
        .map(|row| {
            vec![
                escape_joined(&row.checks, "\n"),
                escape_joined(&row.subjects, "\n"),
                escape_text(&row.text).into_owned(),
            ]
        })
        .collect();
    if !fixes.is_empty() {
        out.push_str("What to fix\n");
        out.push_str(&table(
            &["Check", "Subject", "Remediation"],
            &[Col::Fixed, Col::Fixed, Col::Flex(1)],
            fixes,
            width,
        ));
        out.push('\n');
    }

    for n in &report.notes {
        out.push_str(&wrap_line(&format!("Note: {n}"), width));
        out.push('\n');
    }
    out.push_str(&format!("Summary: {}\n", view::summary_line(report)));
    into_safe_text(out)
}

/// A one-line value from outside (a name, an ID, a location), escaped.
pub(crate) fn line(s: &str) -> String {
    escape_line(s).into_owned()
}

pub(crate) fn finding_row(f: &Finding) -> Vec<String> {
    vec![
        f.status.as_str().to_uppercase(),
        line(&f.check),
        escape_text(&f.summary).into_owned(),
        evidence_summary(f),
    ]
}

pub(crate) fn findings_table(rows: Vec<Vec<String>>, width: usize) -> String {
    table(
        &["Status", "Check", "Summary", "Evidence"],
        &[Col::Fixed, Col::Fixed, Col::Flex(9), Col::Flex(11)],
        rows,
        width,
    )
}

/// A skip caused by the token (a missing permission, an app-only token), the same for every
/// subject of the run.
pub(crate) fn token_wide_skip(f: &Finding) -> bool {
    f.status == Status::Skip
        && matches!(
            f.skip_reason,
            Some(SkipReason::AppOnlyUnsupported) | Some(SkipReason::InsufficientPermission { .. })
        )
}

pub(crate) fn subject_heading(group: &SubjectGroup<'_>, report: &Report, width: usize) -> String {
    let text = match group.subject {
        Subject::Tenant => "Tenant".to_string(),
        Subject::User(u) => {
            // A single-subject report has at most one diagnosis.
            let devices: Vec<std::borrow::Cow<'_, str>> = report
                .diagnoses
                .iter()
                .filter(|d| d.user.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(u)))
                .map(|d| escape_line(&d.device))
                .collect();
            let u = escape_line(u);
            if devices.is_empty() {
                format!("User {u}")
            } else {
                format!("User {u} (enrolling user of {})", devices.join(", "))
            }
        }
        Subject::Device(d) => {
            let d = escape_line(d);
            match group.diagnosis_in(report) {
                Some(x) => format!("Device {d}: {}", x.verdict.as_str()),
                None => format!("Device {d}"),
            }
        }
    };
    let mut s = wrap_line(&text, width);
    s.push('\n');
    s
}

pub(crate) fn diagnosis_box(d: &Diagnosis, width: usize) -> String {
    let mut rows: Vec<Vec<String>> = vec![
        vec!["Device".into(), line(&d.device)],
        vec!["Path".into(), d.path.as_str().into()],
        vec!["Verdict".into(), d.verdict.as_str().into()],
        vec![
            "Causes".into(),
            if d.causes.is_empty() {
                "-".to_string()
            } else {
                escape_joined(&d.causes, " → ")
            },
        ],
    ];
    if !d.fix.is_empty() {
        rows.push(vec!["Fix".into(), escape_text(&d.fix).into_owned()]);
    }
    if !d.explanation.is_empty() {
        rows.push(vec![
            "Explanation".into(),
            escape_text(&d.explanation).into_owned(),
        ]);
    }
    let mut s = table_without_header(&[Col::Fixed, Col::Flex(1)], rows, width);
    s.push('\n');
    s
}

/// The first evidence with its location in brackets, and how many more there are.
pub(crate) fn evidence_summary(f: &Finding) -> String {
    let Some(e) = view::evidence_summary(f) else {
        return String::new();
    };
    let mut s = escape_text(e.detail).into_owned();
    if let Some(loc) = &e.location {
        s.push_str(&format!(" [{}]", escape_line(loc)));
    }
    if e.more > 0 {
        s.push_str(&format!(" (+{} more)", e.more));
    }
    s
}

/// How a column gets its width: its content's natural width, or a share of what is left.
#[derive(Clone, Copy)]
pub(crate) enum Col {
    Fixed,
    Flex(usize),
}

pub(crate) fn table(header: &[&str], cols: &[Col], rows: Vec<Vec<String>>, width: usize) -> String {
    let mut all = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    all.extend(rows);
    render_rows(cols, all, width)
}

/// A key/value box (no header row).
pub(crate) fn table_without_header(cols: &[Col], rows: Vec<Vec<String>>, width: usize) -> String {
    render_rows(cols, rows, width)
}

pub(crate) fn render_rows(cols: &[Col], rows: Vec<Vec<String>>, width: usize) -> String {
    // Measured as shown: a cell a caller forgot to escape is escaped here.
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| r.into_iter().map(into_safe_text).collect())
        .collect();
    let widths = column_widths(cols, &rows, width);
    let mut b = Builder::default();
    for row in &rows {
        b.push_record(
            row.iter()
                .zip(&widths)
                .map(|(cell, w)| wrap(cell, *w))
                .collect::<Vec<_>>(),
        );
    }
    let mut t = b.build();
    // Sharp style rules off the first row: the header, or the device of a diagnosis box.
    t.with(Style::sharp());
    let mut s = t.to_string();
    s.push('\n');
    s
}

/// Content widths: fixed columns keep their longest line; flexible ones share the rest in
/// proportion, none wider than its own content.
pub(crate) fn column_widths(cols: &[Col], rows: &[Vec<String>], width: usize) -> Vec<usize> {
    let natural: Vec<usize> = (0..cols.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .flat_map(|c| c.lines())
                .map(super::width::cols)
                .max()
                .unwrap_or(0)
                .max(1)
        })
        .collect();
    // Each column costs a border and one space of padding on each side.
    let budget = width.saturating_sub(3 * cols.len() + 1);
    let mut widths = vec![0; cols.len()];
    let mut left = budget;
    for (i, c) in cols.iter().enumerate() {
        if let Col::Fixed = c {
            widths[i] = natural[i].min(left.saturating_sub(cols.len() * 4).max(4));
            left = left.saturating_sub(widths[i]);
        }
    }
    // Flexible columns: give the narrow ones what they need, share the rest by weight.
    let mut open: Vec<usize> = cols
        .iter()
        .enumerate()
        .filter_map(|(i, c)| matches!(c, Col::Flex(_)).then_some(i))
        .collect();
    loop {
        let weight: usize = open
            .iter()
            .map(|i| match cols[*i] {
                Col::Flex(w) => w.max(1),
                Col::Fixed => 0,
            })
            .sum();
        if open.is_empty() || weight == 0 {
            break;
        }
        let share = |i: usize| match cols[i] {
            Col::Flex(w) => left * w.max(1) / weight,
            Col::Fixed => 0,
        };
        let satisfied: Vec<usize> = open
            .iter()
            .copied()
            .filter(|i| natural[*i] <= share(*i))
            .collect();
        if satisfied.is_empty() {
            for i in &open {
                widths[*i] = share(*i).max(4);
            }
            break;
        }
        for i in satisfied {
            widths[i] = natural[i];
            left = left.saturating_sub(natural[i]);
            open.retain(|x| *x != i);
        }
    }
    widths
}

/// Wraps `text` to `width` columns between words; a word longer than the column is broken
/// after a separator (`\`, `/`, `,`, `-`, `_`, `.`) where it has one, else cut.
pub(crate) fn wrap(text: &str, width: usize) -> String {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let mut word = word.to_string();
            loop {
                let used = cols(&line);
                let need = cols(&word) + usize::from(used > 0);
                if used + need <= width {
                    if used > 0 {
                        line.push(' ');
                    }
                    line.push_str(&word);
                    break;
                }
                if cols(&word) <= width && used > 0 {
                    lines.push(std::mem::take(&mut line));
                    continue;
                }
                // Too long for any line: fill this one up to a separator, unless little room
                // is left (a stub at the end of a line reads worse than a new line).
                let room = if used > 0 {
                    width.saturating_sub(used + 1)
                } else {
                    width
                };
                if used > 0 && room < 12 {
                    lines.push(std::mem::take(&mut line));
                    continue;
                }
                let cut = break_point(&word, room);
                match cut {
                    Some(n) if n > 0 => {
                        let (head, tail) = word.split_at(char_index(&word, n));
                        let (head, tail) = (head.to_string(), tail.to_string());
                        if used > 0 {
                            line.push(' ');
                        }
                        line.push_str(&head);
                        lines.push(std::mem::take(&mut line));
                        word = tail;
                    }
                    _ if used > 0 => lines.push(std::mem::take(&mut line)),
                    _ => {
                        let (head, tail) = split_at_cols(&word, width);
                        let (head, tail) = (head.to_string(), tail.to_string());
                        lines.push(head);
                        word = tail;
                        if word.is_empty() {
                            break;
                        }
                    }
                }
            }
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// Where to break a long token within `room` columns: after the last separator, if it is
/// not too early in the line. The answer counts characters.
pub(crate) fn break_point(word: &str, room: usize) -> Option<usize> {
    if room == 0 {
        return None;
    }
    let chars: Vec<char> = word.chars().collect();
    let limit = split_at_cols(word, room).0.chars().count().min(chars.len());
    let at = (0..limit)
        .rev()
        .find(|i| {
            matches!(
                chars[*i],
                '\\' | '/' | ',' | '-' | '_' | '.' | '&' | '?' | '='
            )
        })
        .map(|i| i + 1);
    match at {
        Some(n) if n * 3 >= room => Some(n),
        _ => Some(limit),
    }
}

/// Wraps a paragraph to `width` columns between words, without indentation.
pub fn wrap_paragraph(text: &str, width: usize) -> String {
    wrap(
        &text.split_whitespace().collect::<Vec<_>>().join(" "),
        width,
    )
}

/// Wraps one line to `width` columns; continuation lines are indented.
pub fn wrap_line(text: &str, width: usize) -> String {
    let text = escape_text(text);
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && cols(&line) + 1 + cols(word) > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from("   ");
        } else if !line.is_empty() && !line.ends_with("   ") {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::{DEV001, DEV003};
    use crate::checks::tenant::TEN002;
    use crate::checks::user::{USR001, USR002, USR003, USR008};
    use crate::model::{Diagnosis, EnrollmentPath, Evidence, Subject, Verdict};
    use chrono::TimeZone;

    #[test]
    fn the_terminal_width_wins_over_columns_and_nonsense_is_ignored() {
        assert_eq!(pick_width(Some(80), Some("200")), 80);
        assert_eq!(pick_width(None, Some(" 132 ")), 132);
        assert_eq!(pick_width(Some(0), Some("90")), 90);
        assert_eq!(pick_width(None, Some("wide")), DEFAULT_WIDTH);
        assert_eq!(pick_width(None, Some("5")), DEFAULT_WIDTH);
        assert_eq!(pick_width(None, None), DEFAULT_WIDTH);
    }

    fn as_of() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn device_findings(device: &str) -> Vec<Finding> {
        let f = DEV003
            .finding(
                Status::Fail,
                Subject::Device(device.into()),
                "MdmUrl is empty",
            )
            .with_evidence(Evidence::new("dsregcmd", "MdmUrl :").at("dsregcmd.txt:32"))
            .with_evidence(Evidence::new("dsregcmd", "Executing Account Name : x"))
            .with_remediation("Add the user to the MDM scope group.");
        let p = DEV001
            .finding(
                Status::Pass,
                Subject::Device(device.into()),
                "hybrid joined",
            )
            .with_evidence(Evidence::new("dsregcmd", "AzureAdJoined : YES").at("dsregcmd.txt:5"));
        vec![p, f]
    }

    fn diagnosis(device: &str) -> Diagnosis {
        Diagnosis {
            device: device.into(),
            path: EnrollmentPath::GpoHybrid,
            verdict: Verdict::Failed,
            causes: vec!["DEV003".into(), "DEV007".into()],
            fix: "Add the user to the MDM scope group.".into(),
            explanation: "Auto-enrollment ran and failed.".into(),
            user: None,
            inputs: Vec::new(),
            facts: Vec::new(),
        }
    }

    fn sample() -> Report {
        let mut r = Report::new(as_of(), vec![diagnosis("PC1")], device_findings("PC1"));
        r.notes.push("device-only analysis".into());
        r
    }

    #[test]
    fn renders_diagnosis_findings_fixes_and_summary_within_width() {
        let out = crate::report::render::table_with(&sample(), 80, false);
        assert!(out.contains("DEV003 → DEV007"), "{out}");
        assert!(out.contains("failed"));
        assert!(out.contains("dsregcmd.txt:32"), "{out}");
        assert!(out.contains("(+1 more)"));
        assert!(out.contains("Remediation"));
        assert!(out.contains("Note: device-only analysis"));
        assert!(
            out.contains("Device PC1: failed"),
            "grouped by subject: {out}"
        );
        assert!(
            out.contains("Summary: 1 pass, 0 warn, 1 fail, 0 skip, 0 error (as of 2026-11-26)")
        );
        for line in out.lines() {
            assert!(line.chars().count() <= 80, "line too wide: {line}");
        }
        // A single device keeps one row per finding, passes included.
        assert!(out.contains("│ PASS   │ DEV001 │"), "{out}");
        assert!(!out.contains("passed ("), "{out}");
        // Pass findings have no remediation row.
        let fixes = out.split("Remediation").nth(1).unwrap_or_default();
        assert!(!fixes.contains("DEV001"));
    }

    #[test]
    fn token_wide_skips_collapse_to_one_line_per_subject_when_compact() {
        let mut findings = Vec::new();
        for upn in ["a@contoso.com", "b@contoso.com"] {
            let subject = Subject::User(upn.to_string());
            findings.push(USR001.finding(Status::Pass, subject.clone(), "ok"));
            findings.push(USR003.skip(subject.clone(), SkipReason::AppOnlyUnsupported));
            findings.push(USR008.skip(
                subject.clone(),
                SkipReason::NoEvidence {
                    collect: "the verified domains".into(),
                },
            ));
            findings.push(USR002.finding(Status::Fail, subject, "no licence"));
        }
        let out = crate::report::render::table_with(
            &Report::new(as_of(), Vec::new(), findings),
            120,
            false,
        );
        assert_eq!(out.matches("skipped (1): USR003").count(), 2, "{out}");
        assert!(!out.contains("│ SKIP   │ USR003"), "{out}");
        // A subject-specific skip keeps its row; failures always do.
        assert_eq!(out.matches("│ SKIP   │ USR008").count(), 2, "{out}");
        assert_eq!(out.matches("│ FAIL   │ USR002").count(), 2, "{out}");
    }

    #[test]
    fn several_devices_lead_with_the_summary_then_an_overview_and_list_passes_on_one_line() {
        let mut findings = device_findings("PC1");
        findings.extend(device_findings("PC2"));
        let r = Report::new(as_of(), vec![diagnosis("PC1"), diagnosis("PC2")], findings);
        let out = crate::report::render::table_with(&r, 100, false);
        assert!(
            out.starts_with("Fleet (as of 2026-11-26): 2 devices: 2 failed\n"),
            "{out}"
        );
        let histogram = out
            .find("Not enrolled, by verdict and first cause")
            .unwrap_or(usize::MAX);
        let overview = out.find("Root cause").unwrap_or(usize::MAX);
        let first_box = out.find("Explanation").unwrap_or(0);
        assert!(
            histogram < overview && overview < first_box,
            "summary, overview: {out}"
        );
        assert!(
            out.contains(
                "  failed  DEV003  2 devices  not met: The device received an MDM enrollment URL"
            ),
            "{out}"
        );
        // Each device's diagnosis opens its own block.
        let second_box = out.rfind("Explanation").unwrap_or(0);
        let first_rows = out.find("│ FAIL   │ DEV003 │").unwrap_or(0);
        assert!(first_box < first_rows && first_rows < second_box, "{out}");
        assert!(out.contains("DEV003: MdmUrl is empty"), "{out}");
        assert_eq!(out.matches("passed (1): DEV001").count(), 2, "{out}");
        assert!(!out.contains("│ PASS"), "{out}");
        assert_eq!(out.matches("│ FAIL   │ DEV003 │").count(), 2, "{out}");
        // The first cause's fix is in each device's diagnosis, not repeated in its block.
        assert!(!out.contains("fix DEV003:"), "{out}");
        let mut r = r;
        for d in r.diagnoses.iter_mut() {
            d.fix = "Something else first.".into();
        }
        let out = crate::report::render::table_with(&r, 100, false);
        assert_eq!(
            out.matches("fix DEV003: Add the user to the MDM scope group.")
                .count(),
            2,
            "{out}"
        );
        assert!(!out.contains("more devices"), "{out}");
    }

    #[test]
    fn many_users_show_the_first_ten_not_ready_in_detail_and_count_the_rest() {
        let mut findings = vec![TEN002.finding(Status::Pass, Subject::Tenant, "licensed")];
        for i in 0..30 {
            let subject = Subject::User(format!("u{i:02}@contoso.com"));
            findings.push(USR001.finding(Status::Pass, subject.clone(), "ok"));
            let status = if i % 2 == 0 {
                Status::Fail
            } else {
                Status::Pass
            };
            findings.push(
                USR002
                    .finding(status, subject, "no licence")
                    .with_remediation("Assign a licence."),
            );
        }
        let r = Report::new(as_of(), Vec::new(), findings);
        let out = crate::report::render::table_with(&r, 100, false);
        assert!(
            out.starts_with("Readiness (as of 2026-11-26): 30 users: 15 ready, 15 not ready\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "  USR002  15 users  not met: The user has an enabled Intune service plan (e.g. u00@contoso.com, u02…\n                    fix: Assign a licence.\n"
            ),
            "{out}"
        );
        // The not-ready list names all 15, one line each; details only for the first 10.
        assert!(out.contains("Not ready (15 users)"), "{out}");
        assert!(
            out.contains("  u28@contoso.com  USR002  Assign a licence.\n"),
            "{out}"
        );
        assert_eq!(out.matches("│ FAIL   │ USR002 │").count(), 10, "{out}");
        assert!(out.contains("User u18@contoso.com\n"), "{out}");
        assert!(!out.contains("User u20@contoso.com\n"), "{out}");
        assert!(out.contains("20 more users: use --details"), "{out}");
        let all = crate::report::render::table_with(&r, 100, true);
        assert_eq!(all.matches("│ FAIL   │ USR002 │").count(), 15, "{all}");
        assert!(all.contains("User u29@contoso.com\n"), "{all}");
        assert!(!all.contains("more users"), "{all}");
        // The summary leads within the first lines.
        let head: Vec<&str> = out.lines().take(12).collect();
        assert!(
            head.iter().any(|l| l.starts_with("Blocking checks")),
            "{out}"
        );
    }

    #[test]
    fn graph_locations_lose_their_query_in_the_table_only() {
        let loc = "GET /v1.0/subscribedSkus?$select=id,skuId,skuPartNumber,servicePlans";
        let f = TEN002
            .finding(Status::Pass, Subject::Tenant, "licensed")
            .with_evidence(Evidence::new("graph", "SKU SPE_E3").at(loc));
        let r = Report::new(as_of(), Vec::new(), vec![f]);
        let out = crate::report::render::table_with(&r, 100, false);
        assert!(out.contains("[GET /v1.0/subscribedSkus]"), "{out}");
        assert!(!out.contains("$select"), "{out}");
        let json = crate::report::json::render(&r).unwrap_or_default();
        assert!(json.contains("$select=id,skuId"), "{json}");
        // What `short_location` keeps is tested in `report::view`.
    }

    #[test]
    fn wrapping_keeps_words_whole_and_breaks_long_paths_at_separators() {
        let text = "delete HKLM\\SOFTWARE\\Microsoft\\Enrollments\\2B8E1F0C-7D6A-4B59-8C3D-E2F1A0B9C8D7 then run gpupdate";
        let w = wrap(text, 30);
        for line in w.lines() {
            assert!(line.chars().count() <= 30, "{w}");
        }
        for word in ["delete", "then", "run", "gpupdate"] {
            assert!(
                w.lines().any(|l| l.split(' ').any(|x| x == word)),
                "{word}: {w}"
            );
        }
        assert!(
            w.lines().any(|l| l.ends_with('\\') || l.ends_with('-')),
            "long path broken at a separator: {w}"
        );
        assert_eq!(
            wrap(text, 30).replace(['\n', ' '], ""),
            text.replace(' ', "")
        );
    }

    #[test]
    fn wrap_line_breaks_long_notes() {
        let s = wrap_line(&"word ".repeat(40), 30);
        assert!(s.lines().all(|l| l.chars().count() <= 30), "{s}");
        assert!(s.lines().count() > 1);
    }
}
