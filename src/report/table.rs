//! Table renderer for people: diagnoses first, then one row per finding, the fixes for what is
//! not passing, notes and a summary line. No colour (the output is also piped and diffed).

use tabled::builder::Builder;
use tabled::settings::peaker::Priority;
use tabled::settings::{Style, Width};

use super::Report;
use crate::model::{Finding, Status};

pub const DEFAULT_WIDTH: usize = 120;
/// Five columns with their borders need about this much; narrower terminals get this width.
const MIN_WIDTH: usize = 70;

/// The width to wrap to: `COLUMNS` when set to a sane number, else [`DEFAULT_WIDTH`].
pub fn width_from_env() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|w| *w >= 20)
        .unwrap_or(DEFAULT_WIDTH)
}

/// Renders at the width from the environment.
pub fn render(report: &Report) -> String {
    render_with_width(report, width_from_env())
}

pub fn render_with_width(report: &Report, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::new();

    for d in &report.diagnoses {
        let mut b = Builder::default();
        b.push_record(["Device", d.device.as_str()]);
        b.push_record(["Path", d.path.as_str()]);
        b.push_record(["Verdict", d.verdict.as_str()]);
        let causes = if d.causes.is_empty() {
            "-".to_string()
        } else {
            d.causes.join(" → ")
        };
        b.push_record(["Causes", causes.as_str()]);
        if !d.fix.is_empty() {
            b.push_record(["Fix", d.fix.as_str()]);
        }
        if !d.explanation.is_empty() {
            b.push_record(["Explanation", d.explanation.as_str()]);
        }
        out.push_str(&finish(b, width));
        out.push('\n');
    }

    if !report.findings.is_empty() {
        let mut b = Builder::default();
        b.push_record(["Status", "Check", "Subject", "Summary", "Evidence"]);
        for f in &report.findings {
            b.push_record([
                f.status.as_str().to_uppercase(),
                f.check.clone(),
                f.subject.to_string(),
                f.summary.clone(),
                evidence_summary(f),
            ]);
        }
        out.push_str(&finish(b, width));
        out.push('\n');
    }

    let to_fix: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Error))
        .filter(|f| !f.remediation.is_empty() || f.error.is_some())
        .collect();
    if !to_fix.is_empty() {
        let mut b = Builder::default();
        b.push_record(["Check", "Subject", "Remediation"]);
        for f in to_fix {
            let text = if f.remediation.is_empty() {
                f.error.clone().unwrap_or_default()
            } else {
                f.remediation.clone()
            };
            b.push_record([f.check.clone(), f.subject.to_string(), text]);
        }
        out.push_str(&finish(b, width));
        out.push('\n');
    }

    for n in &report.notes {
        out.push_str(&wrap_line(&format!("Note: {n}"), width));
        out.push('\n');
    }
    let s = &report.summary;
    out.push_str(&format!(
        "Summary: {} pass, {} warn, {} fail, {} skip, {} error (as of {})\n",
        s.pass,
        s.warn,
        s.fail,
        s.skip,
        s.error,
        report.as_of.format("%Y-%m-%d")
    ));
    out
}

/// The first evidence with its location, and how many more there are.
fn evidence_summary(f: &Finding) -> String {
    let Some(first) = f.evidence.first() else {
        return String::new();
    };
    let mut s = first.detail.clone();
    if let Some(loc) = &first.location {
        s.push_str(&format!(" [{loc}]"));
    }
    if f.evidence.len() > 1 {
        s.push_str(&format!(" (+{} more)", f.evidence.len() - 1));
    }
    s
}

fn finish(builder: Builder, width: usize) -> String {
    let mut table = builder.build();
    table.with(Style::sharp());
    table.with(
        Width::wrap(width)
            .priority(Priority::max(true))
            .keep_words(true),
    );
    let mut s = table.to_string();
    s.push('\n');
    s
}

fn wrap_line(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = String::from("  ");
        } else if !line.is_empty() && !line.ends_with("  ") {
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
    use crate::model::{Diagnosis, EnrollmentPath, Evidence, Subject, Verdict};
    use chrono::TimeZone;

    fn sample() -> Report {
        let f = Finding::new(
            "DEV003",
            Status::Fail,
            Subject::Device("PC1".into()),
            "MdmUrl is empty",
        )
        .with_evidence(Evidence::new("dsregcmd", "MdmUrl :").at("dsregcmd.txt:32"))
        .with_evidence(Evidence::new("dsregcmd", "Executing Account Name : x"))
        .with_remediation("Add the user to the MDM scope group.");
        let p = Finding::new(
            "DEV001",
            Status::Pass,
            Subject::Device("PC1".into()),
            "hybrid joined",
        )
        .with_evidence(Evidence::new("dsregcmd", "AzureAdJoined : YES").at("dsregcmd.txt:5"));
        let d = Diagnosis {
            device: "PC1".into(),
            path: EnrollmentPath::GpoHybrid,
            verdict: Verdict::Failed,
            causes: vec!["DEV003".into(), "DEV007".into()],
            fix: "Add the user to the MDM scope group.".into(),
            explanation: "Auto-enrollment ran and failed.".into(),
        };
        let as_of = chrono::Utc
            .with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let mut r = Report::new(as_of, vec![d], vec![p, f]);
        r.notes.push("device-only analysis".into());
        r
    }

    #[test]
    fn renders_diagnosis_findings_fixes_and_summary_within_width() {
        let out = render_with_width(&sample(), 80);
        assert!(out.contains("DEV003 → DEV007"), "{out}");
        assert!(out.contains("failed"));
        assert!(out.contains("dsregcmd.txt:32"), "{out}");
        assert!(out.contains("(+1 more)"));
        assert!(out.contains("Remediation"));
        assert!(out.contains("Note: device-only analysis"));
        assert!(
            out.contains("Summary: 1 pass, 0 warn, 1 fail, 0 skip, 0 error (as of 2026-11-26)")
        );
        for line in out.lines() {
            assert!(line.chars().count() <= 80, "line too wide: {line}");
        }
        // Pass findings have no remediation row.
        let fixes = out.split("Remediation").nth(1).unwrap_or_default();
        assert!(!fixes.contains("DEV001"));
    }

    #[test]
    fn wrap_line_breaks_long_notes() {
        let s = wrap_line(&"word ".repeat(40), 30);
        assert!(s.lines().all(|l| l.chars().count() <= 30), "{s}");
        assert!(s.lines().count() > 1);
    }
}
