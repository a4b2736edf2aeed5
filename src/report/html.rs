//! One self-contained HTML page to share: sent as an e-mail attachment, opened from a file
//! share, printed. Everything it shows is inline (the style sheet, a small script for the
//! filters) and its `Content-Security-Policy` forbids every network load, so opening it fetches
//! nothing: no font, image, script or style from anywhere. The only addresses in it are the
//! documentation links, as `<a href>` a reader may follow.
//!
//! The page leads with the summary (a report about one subject: its counts and verdict; a run
//! over several: the same aggregates as the table's run summary, [`run`]), then each subject
//! with a device's cause chain and every finding: its status, its summary and, folded in a
//! `<details>`, its evidence, the fix, the documentation and the check's explain text. With
//! JavaScript a bar filters the findings by status and check; without it everything is shown
//! and nothing depends on it. `@media print` unfolds the details and drops the bar.
//!
//! Text from outside goes through [`crate::text_safety`] first (`escape_line` for a name or a
//! location, `escape_text` for a block, shown with its line breaks), then through HTML
//! escaping (`html-escape`: `&`, `<`, `>` in text, and `"` too in an attribute), so a device
//! named `<script>` is shown as those characters. A renderer decides nothing: statuses and
//! verdicts are the evaluation's.

pub mod run;

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::Report;
use super::view::{self, ReportView};
use crate::checks::registry;
use crate::model::{CheckMeta, Diagnosis, Evidence, Finding, Status, Subject};
use crate::text_safety::{escape_line, escape_text, into_safe_text};

const CSS: &str = include_str!("html/page.css");
const SCRIPT: &str = include_str!("html/filter.js");

/// The page's policy: nothing from any network or any other origin; only the page's own style
/// sheet and script, named by their hashes.
fn policy(css: &str) -> String {
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
    format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; img-src 'none'; \
         font-src 'none'; connect-src 'none'; media-src 'none'; object-src 'none'; \
         frame-src 'none'; child-src 'none'; worker-src 'none'; manifest-src 'none'; \
         base-uri 'none'; form-action 'none'",
        hash(css),
        hash(SCRIPT)
    )
}

/// The policy a page whose check filter lists CHECKS declares (tests read it back).
pub fn content_security_policy(checks: &[&str]) -> String {
    policy(&style_sheet(checks))
}

/// A check ID as it may stand in a CSS selector's quoted attribute value (the registry's IDs
/// all do; anything else gets no filter rule rather than an escaping problem).
fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The page's style sheet: the fixed one, then for the check filter one rule per check (a
/// row stays shown while the selected option is its check). The status filter's rules are in
/// the fixed part. Both work by CSS alone (`:has` and `:checked`), so the filters work with
/// JavaScript off; the script only counts and folds away emptied sections.
fn style_sheet(checks: &[&str]) -> String {
    let mut css = String::from(CSS);
    for id in checks.iter().filter(|c| is_plain_id(c)) {
        let _ = write!(
            css,
            "\nbody:has(#filter-check option[value=\"{id}\"]:checked) \
             tr.finding:not([data-check=\"{id}\"]){{display:none}}"
        );
    }
    css
}

// ---- Escaping -----------------------------------------------------------------------------

/// A one-line value from outside as HTML text.
pub(crate) fn line(s: &str) -> String {
    html_escape::encode_text(&escape_line(s)).into_owned()
}

/// A block of text from outside as HTML text (its line breaks kept; the element that holds it
/// has `class="pre"`).
pub(crate) fn block(s: &str) -> String {
    html_escape::encode_text(&escape_text(s)).into_owned()
}

/// A one-line value as a double-quoted attribute value.
pub(crate) fn attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(&escape_line(s)).into_owned()
}

/// A documentation link: an `<a href>` for an https address, else the text alone.
pub(crate) fn doc_link(url: &str) -> String {
    if url.starts_with("https://") && !url.contains(char::is_whitespace) {
        format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
            attr(url),
            line(url)
        )
    } else {
        line(url)
    }
}

// ---- The page frame -----------------------------------------------------------------------

/// From the doctype to the page's heading; CHECKS are those the check filter offers.
pub(crate) fn page_head(title: &str, checks: &[&str]) -> String {
    let css = style_sheet(checks);
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        policy(&css)
    );
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"enroll-doctor\">\n");
    let _ = writeln!(out, "<title>{}</title>", line(title));
    let _ = writeln!(out, "<style>{css}</style>");
    out.push_str("</head>\n<body>\n");
    let _ = writeln!(out, "<h1>{}</h1>", line(title));
    out
}

/// The filter bar: a box per status and a list of the CHECKS. It works without the script
/// (the style sheet hides what is not selected); the script adds the count.
pub(crate) fn filter_bar(checks: &[&str]) -> String {
    let mut out = String::from(
        "<form id=\"filters\" class=\"noprint\" aria-label=\"Filter the findings\">\n<strong>Show:</strong>\n",
    );
    for s in ["fail", "warn", "error", "skip", "pass"] {
        let _ = writeln!(
            out,
            "<label><input type=\"checkbox\" id=\"show-{s}\" value=\"{s}\" checked> {s}</label>"
        );
    }
    out.push_str(
        "<label>check <select id=\"filter-check\"><option value=\"\" selected>all</option>",
    );
    for id in checks.iter().filter(|c| is_plain_id(c)) {
        let _ = write!(out, "<option value=\"{id}\">{id}</option>");
    }
    out.push_str("</select></label>\n<span id=\"filter-count\" class=\"muted\"></span>\n</form>\n");
    out
}

/// The notes, the status line, the script and the end of the page.
pub(crate) fn page_tail(notes: &[String], status_line: &str) -> String {
    let mut out = String::new();
    if !notes.is_empty() {
        out.push_str("<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n");
        for n in notes {
            let _ = writeln!(out, "<li class=\"pre\">{}</li>", block(n));
        }
        out.push_str("</ul>\n</section>\n");
    }
    let _ = writeln!(
        out,
        "<p class=\"box\"><strong>Summary:</strong> {}</p>",
        line(status_line)
    );
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

// ---- Pieces shared by both layouts --------------------------------------------------------

/// A status badge.
pub(crate) fn status_badge(s: &Status) -> String {
    format!(
        "<span class=\"st st-{0}\">{1}</span>",
        s.as_str(),
        s.as_str().to_uppercase()
    )
}

/// A verdict or state badge (`failed`, `ready`, `not-ready`…).
pub(crate) fn verdict_badge(v: &str) -> String {
    format!("<span class=\"v v-{}\">{}</span>", attr(v), line(v))
}

/// The anchor of a check's entry in a run's check reference.
pub(crate) fn check_anchor(id: &str) -> String {
    format!("check-{}", attr(id))
}

/// How a finding's check is explained: inline (a report about one subject) or by a link to
/// the run's check reference, where each check's text stands once.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Explain {
    Inline,
    Linked,
}

/// A table of findings, one row each, every one with its folded details.
pub(crate) fn findings_table<'f>(
    out: &mut String,
    findings: impl IntoIterator<Item = &'f Finding>,
    explain: Explain,
) {
    out.push_str(
        "<table class=\"findings\">\n<thead><tr><th>Status</th><th>Check</th><th>Finding</th></tr></thead>\n<tbody>\n",
    );
    for f in findings {
        finding_row(out, f, explain);
    }
    out.push_str("</tbody>\n</table>\n");
}

fn finding_row(out: &mut String, f: &Finding, explain: Explain) {
    let meta = registry::get(&f.check).filter(|m| m.id == f.check);
    let title = meta.map(|m| m.title).unwrap_or("");
    let check = match explain {
        Explain::Linked if meta.is_some() => format!(
            "<a href=\"#{}\" class=\"mono\">{}</a>",
            check_anchor(&f.check),
            line(&f.check)
        ),
        _ => format!("<span class=\"mono\">{}</span>", line(&f.check)),
    };
    let _ = write!(
        out,
        "<tr class=\"finding\" data-status=\"{}\" data-check=\"{}\"><td>{}</td><td>{check}<br><span class=\"muted\">{}</span></td><td><p class=\"pre\">{}</p>",
        f.status.as_str(),
        attr(&f.check),
        status_badge(&f.status),
        line(title),
        block(&f.summary)
    );
    finding_details(out, f, meta, explain);
    out.push_str("</td></tr>\n");
}

/// The folded part of a finding: evidence, fix, error, documentation, explain text.
fn finding_details(out: &mut String, f: &Finding, meta: Option<&CheckMeta>, explain: Explain) {
    let mut parts = Vec::new();
    if !f.evidence.is_empty() {
        parts.push(format!("evidence ({})", f.evidence.len()));
    }
    if !f.remediation.is_empty() {
        parts.push("fix".to_string());
    }
    if meta.is_some() {
        parts.push("explanation".to_string());
    }
    if parts.is_empty() && f.docs.is_empty() && f.error.is_none() {
        return;
    }
    if parts.is_empty() {
        parts.push("details".to_string());
    }
    let label = parts.join(", ");
    let _ = write!(
        out,
        "<details class=\"more\"><summary>{}</summary>",
        line(&capitalise(&label))
    );
    if !f.evidence.is_empty() {
        out.push_str("<h4>Evidence</h4>");
        evidence_list(out, &f.evidence);
    }
    if !f.remediation.is_empty() {
        let _ = write!(
            out,
            "<h4>Fix</h4><p class=\"pre\">{}</p>",
            block(&f.remediation)
        );
    }
    if let Some(e) = f.error.as_deref().filter(|e| *e != f.summary) {
        let _ = write!(out, "<h4>Error</h4><p class=\"pre\">{}</p>", block(e));
    }
    if !f.docs.is_empty() {
        out.push_str("<h4>Documentation</h4><ul>");
        for d in &f.docs {
            let _ = write!(out, "<li>{}</li>", doc_link(d));
        }
        out.push_str("</ul>");
    }
    match (meta, explain) {
        (Some(m), Explain::Inline) => {
            let _ = write!(
                out,
                "<details class=\"explain\"><summary>About {}: {}</summary>{}</details>",
                line(m.id),
                line(m.title),
                explain_body(m, false)
            );
        }
        (Some(m), Explain::Linked) => {
            let _ = write!(
                out,
                "<p><a href=\"#{}\">About {}: what it checks, why it matters, how to fix</a></p>",
                check_anchor(m.id),
                line(m.id)
            );
        }
        (None, _) => {}
    }
    out.push_str("</details>");
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Evidence items: source, the fact, where it was read.
pub(crate) fn evidence_list(out: &mut String, evidence: &[Evidence]) {
    out.push_str("<ul class=\"evidence\">");
    for e in evidence {
        let _ = write!(
            out,
            "<li><span class=\"muted\">{}:</span> <span class=\"pre\">{}</span>",
            line(&e.source),
            block(&e.detail)
        );
        if let Some(loc) = &e.location {
            let _ = write!(
                out,
                " <span class=\"muted\">at</span> <code>{}</code>",
                line(loc)
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>\n");
}

/// A check's explain text: what it checks, why it matters, how to fix, references (the
/// references only when `references`; a finding lists its own documentation).
pub(crate) fn explain_body(m: &CheckMeta, references: bool) -> String {
    let mut out = String::new();
    for (h, t) in [
        ("What it checks", m.what_it_checks),
        ("Why it matters", m.why_it_matters),
        ("How to fix", m.how_to_fix),
    ] {
        let _ = write!(out, "<h4>{h}</h4><p class=\"pre\">{}</p>", block(t));
    }
    if references && !m.references.is_empty() {
        out.push_str("<h4>References</h4><ul>");
        for r in m.references {
            let _ = write!(out, "<li>{}</li>", doc_link(r));
        }
        out.push_str("</ul>");
    }
    out
}

/// A device's diagnosis: verdict, path, enrolling user, the cause chain with each check's
/// title, the fix, the explanation, where it was read and the device facts.
pub(crate) fn diagnosis_block(out: &mut String, d: &Diagnosis, explain: Explain) {
    out.push_str("<div class=\"box diagnosis\">\n");
    let _ = write!(
        out,
        "<p><strong>Verdict:</strong> {} &middot; <strong>path:</strong> <code>{}</code>",
        verdict_badge(d.verdict.as_str()),
        d.path.as_str()
    );
    if let Some(u) = &d.user {
        let _ = write!(
            out,
            " &middot; <strong>enrolling user:</strong> {}",
            line(u)
        );
    }
    out.push_str("</p>\n");
    if d.causes.is_empty() {
        out.push_str("<p><strong>Causes:</strong> none</p>\n");
    } else {
        out.push_str("<p><strong>Cause chain</strong> (most fundamental first):</p>\n<ol class=\"causes\">\n");
        for c in &d.causes {
            let title = registry::get(c)
                .filter(|m| m.id == c.as_str())
                .map(|m| m.title)
                .unwrap_or("");
            let id = match explain {
                Explain::Linked if !title.is_empty() => format!(
                    "<a href=\"#{}\" class=\"mono\">{}</a>",
                    check_anchor(c),
                    line(c)
                ),
                _ => format!("<span class=\"mono\">{}</span>", line(c)),
            };
            let _ = writeln!(out, "<li>{id} {}</li>", line(title));
        }
        out.push_str("</ol>\n");
    }
    if !d.fix.is_empty() {
        let _ = writeln!(
            out,
            "<p><strong>Fix:</strong> <span class=\"pre\">{}</span></p>",
            block(&d.fix)
        );
    }
    if !d.explanation.is_empty() {
        let _ = writeln!(
            out,
            "<p><strong>Explanation:</strong> <span class=\"pre\">{}</span></p>",
            block(&d.explanation)
        );
    }
    if !d.inputs.is_empty() {
        let inputs: Vec<String> = d
            .inputs
            .iter()
            .map(|i| format!("<code>{}</code>", line(i)))
            .collect();
        let _ = writeln!(
            out,
            "<p><strong>Read from:</strong> {}</p>",
            inputs.join(", ")
        );
    }
    if !d.facts.is_empty() {
        out.push_str("<details><summary>Device facts</summary>");
        evidence_list(out, &d.facts);
        out.push_str("</details>\n");
    }
    out.push_str("</div>\n");
}

// ---- A report about one subject -----------------------------------------------------------

/// The page of a report about one subject (a run over several goes through [`run`]).
pub fn render(report: &Report) -> String {
    let title = format!(
        "enroll-doctor report (as of {})",
        report.as_of.format("%Y-%m-%d")
    );
    let mut checks: Vec<&str> = report.findings.iter().map(|f| f.check.as_str()).collect();
    checks.sort_unstable();
    checks.dedup();
    let mut out = page_head(&title, &checks);
    let view = ReportView::of(report);

    // Summary first: the counts and each device's verdict.
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"box\">\n");
    let s = &report.summary;
    let _ = writeln!(
        out,
        "<p class=\"headline\">{} {} &middot; {} {} &middot; {} {} &middot; {} {} &middot; {} {}</p>",
        s.fail,
        status_badge(&Status::Fail),
        s.warn,
        status_badge(&Status::Warn),
        s.error,
        status_badge(&Status::Error),
        s.skip,
        status_badge(&Status::Skip),
        s.pass,
        status_badge(&Status::Pass),
    );
    for d in &report.diagnoses {
        let _ = writeln!(
            out,
            "<p>Device {}: {}</p>",
            line(&d.device),
            verdict_badge(d.verdict.as_str())
        );
    }
    out.push_str("</div>\n</section>\n");

    for d in &report.diagnoses {
        let _ = writeln!(out, "<h2>Diagnosis: {}</h2>", line(&d.device));
        diagnosis_block(&mut out, d, Explain::Inline);
    }

    if !report.findings.is_empty() {
        out.push_str("<h2>Findings</h2>\n");
        out.push_str(&filter_bar(&checks));
    }
    for group in &view.groups {
        let heading = match group.subject {
            Subject::Tenant => "Tenant".to_string(),
            Subject::User(u) => format!("User {}", line(u)),
            Subject::Device(d) => match group.diagnosis_in(report) {
                Some(x) => format!("Device {} {}", line(d), verdict_badge(x.verdict.as_str())),
                None => format!("Device {}", line(d)),
            },
        };
        let _ = writeln!(out, "<section class=\"subject\">\n<h3>{heading}</h3>");
        findings_table(&mut out, group.findings.iter().copied(), Explain::Inline);
        out.push_str("</section>\n");
    }

    if !view.fixes.is_empty() {
        out.push_str("<section id=\"fixes\">\n<h2>What to fix</h2>\n<table>\n<thead><tr><th>Check</th><th>Subject</th><th>Remediation</th></tr></thead>\n<tbody>\n");
        for row in &view.fixes {
            let checks: Vec<String> = row.checks.iter().map(|c| line(c)).collect();
            let subjects: Vec<String> = row.subjects.iter().map(|c| line(c)).collect();
            let _ = writeln!(
                out,
                "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"pre\">{}</td></tr>",
                checks.join("<br>"),
                subjects.join("<br>"),
                block(&row.text)
            );
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }
    out.push_str(&page_tail(&report.notes, &view::summary_line(report)));
    into_safe_text(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::{DEV007, DEV010};
    use crate::checks::tenant::TEN001;
    use crate::model::{EnrollmentPath, SkipReason, Verdict};
    use chrono::{TimeZone, Utc};

    const HOSTILE: &str = "PC<script>alert(1)</script>&\"'\u{1b}[2J\u{202e}";

    fn report(device: &str) -> Report {
        let findings = vec![
            TEN001
                .finding(Status::Pass, Subject::Tenant, "MDM authority is Intune")
                .with_evidence(
                    Evidence::new("graph", "mobileDeviceManagementAuthority=intune")
                        .at("GET /v1.0/organization"),
                ),
            DEV007
                .finding(
                    Status::Fail,
                    Subject::Device(device.into()),
                    "auto-enroll task failed\nlast 0x80180002",
                )
                .with_evidence(Evidence::new("event-log", "event 76").at("dmedp-admin.xml:3"))
                .with_remediation("Re-run the task"),
            DEV010.skip(
                Subject::Device(device.into()),
                SkipReason::NoEvidence {
                    collect: "dsregcmd /status".into(),
                },
            ),
        ];
        let diag = Diagnosis {
            device: device.into(),
            path: EnrollmentPath::GpoHybrid,
            // Not what the findings suggest: the page must echo the evaluation's verdict.
            verdict: Verdict::Enrolled,
            causes: vec!["DEV007".into()],
            fix: "Fix the task".into(),
            explanation: "The task failed.".into(),
            user: Some("a@b.c".into()),
            inputs: Vec::new(),
            facts: Vec::new(),
        };
        Report::new(
            Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap(),
            vec![diag],
            findings,
        )
    }

    #[test]
    fn outside_text_is_made_safe_then_html_escaped() {
        assert_eq!(
            line(HOSTILE),
            "PC&lt;script&gt;alert(1)&lt;/script&gt;&amp;\"'\\u{1b}[2J\\u{202e}"
        );
        assert_eq!(
            attr("a\"b<c>'"),
            "a&quot;b&lt;c&gt;'",
            "a double-quoted attribute cannot be closed"
        );
        assert_eq!(block("a\nb<"), "a\nb&lt;");
    }

    #[test]
    fn only_https_documentation_becomes_a_link() {
        assert!(doc_link("https://learn.microsoft.com/x").starts_with("<a href="));
        for other in [
            "javascript:alert(1)",
            "http://example.com",
            "https://a b",
            "data:x",
        ] {
            assert!(!doc_link(other).contains("<a "), "{other}");
        }
    }

    #[test]
    fn the_policy_names_the_style_sheet_and_script_by_their_hashes() {
        let checks = ["DEV007", "x\"]{}body{display:none", "TEN001"];
        let page = page_head("t", &checks);
        let css = style_sheet(&checks);
        assert!(page.contains(&format!("<style>{css}</style>")));
        assert!(page.contains(&content_security_policy(&checks)));
        // A check ID that is not plain gets no CSS rule and no option.
        assert!(!css.contains("display:none\"]"));
        assert!(css.contains("option[value=\"DEV007\"]:checked"));
        let bar = filter_bar(&checks);
        assert!(bar.contains("<option value=\"TEN001\">TEN001</option>"));
        assert!(!bar.contains("body{"));
        assert_ne!(
            content_security_policy(&["DEV007"]),
            content_security_policy(&["DEV010"])
        );
    }

    #[test]
    fn a_report_leads_with_its_summary_and_echoes_the_verdict() {
        let out = render(&report("PC-01"));
        let summary = out.find("id=\"summary\"").unwrap_or(usize::MAX);
        let first_row = out.find("<tr class=\"finding\"").unwrap_or(0);
        assert!(summary < first_row);
        assert!(out.contains("<span class=\"v v-enrolled\">enrolled</span>"));
        assert!(out.contains("data-status=\"fail\" data-check=\"DEV007\""));
        assert!(out.contains("<h4>Evidence</h4>") && out.contains("<h4>Fix</h4>"));
        assert!(out.contains("What it checks"));
        assert_eq!(out.matches("<script>").count(), 1);
        assert!(out.ends_with("</html>\n"));
    }

    #[test]
    fn a_device_named_with_markup_cannot_add_an_element() {
        let out = render(&report(HOSTILE));
        assert!(!out.contains("<script>alert"));
        assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'));
        assert_eq!(out.matches("<script>").count(), 1);
        assert!(out.contains("PC&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
}
