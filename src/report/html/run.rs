//! The HTML page of a run over several users or devices, written as the run goes (see
//! [`crate::report::run`]): the summary with the same aggregates as the table's (the headline,
//! the tenant, a fleet's verdict × first-cause histogram, the blocking checks and warnings
//! with examples, skips and errors per check), the list of subjects that are not ready, then
//! each subject as it comes (a device with its cause chain, every finding with its details),
//! and last the check reference (each check's explain text once, which every finding links
//! to), the notes and the status line. Nothing here holds more than one subject.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

use super::{
    Explain, attr, block, check_anchor, diagnosis_block, explain_body, filter_bar, findings_table,
    line, page_head, page_tail, verdict_badge,
};
use crate::model::Subject;
use crate::report::header::RunHeader;
use crate::report::summary::{CheckRow, Columns, SubjectKind, SubjectResult, SubjectRow, plural};
use crate::report::view;

/// The anchor of a subject's section: its kind and a hash of its name (a UPN compared as
/// Entra compares it, without case).
pub(crate) fn subject_anchor(kind: SubjectKind, id: &str) -> String {
    let user = matches!(
        kind,
        SubjectKind::User | SubjectKind::Guest | SubjectKind::Disabled
    );
    let mut h = DefaultHasher::new();
    if user {
        id.to_ascii_lowercase().hash(&mut h);
    } else {
        id.hash(&mut h);
    }
    let noun = match kind {
        SubjectKind::Tenant => "tenant",
        SubjectKind::Device => "device",
        _ => "user",
    };
    format!("{noun}-{:016x}", h.finish())
}

/// Up to three names, and `…` when there are more.
fn examples(names: &[String], total: usize) -> String {
    let mut s: Vec<String> = names.iter().map(|n| line(n)).collect();
    if total > names.len() {
        s.push("…".to_string());
    }
    s.join(", ")
}

/// The page head and the summary; `linked` says which listed subjects get a section of their
/// own further down (their names link to it).
pub fn run_head(h: &RunHeader<'_>, linked: &dyn Fn(&SubjectRow) -> bool) -> String {
    let s = h.summary;
    let what = if s.kind == SubjectKind::Device {
        "Fleet"
    } else {
        "Readiness"
    };
    let checks: Vec<&str> = h.columns.checks().iter().map(|m| m.id).collect();
    let mut out = page_head(
        &format!(
            "enroll-doctor report (as of {})",
            h.as_of.format("%Y-%m-%d")
        ),
        &checks,
    );
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"box\">\n");
    let _ = writeln!(
        out,
        "<p class=\"headline\">{what}: {}</p>",
        line(&s.headline())
    );
    let u = &s.users;
    if s.kind == SubjectKind::Device {
        if u.users > 0 {
            let _ = write!(
                out,
                "<p><strong>Enrolling users:</strong> {}: {} ready, {} not ready",
                u.users, u.ready, u.not_ready
            );
            if u.incomplete > 0 {
                let _ = write!(out, ", {} incomplete", u.incomplete);
            }
            out.push_str("</p>\n");
        }
    } else if u.disabled + u.guests > 0 {
        let failing = s.not_ready.saturating_sub(u.disabled + u.guests);
        let _ = write!(
            out,
            "<p><strong>Not ready:</strong> {failing} with a failing check"
        );
        if u.disabled > 0 {
            let _ = write!(
                out,
                ", {} disabled account{} (e.g. {})",
                u.disabled,
                plural(u.disabled),
                examples(&u.disabled_examples, u.disabled_examples.len())
            );
        }
        if u.guests > 0 {
            let _ = write!(
                out,
                ", {} guest{} (e.g. {})",
                u.guests,
                plural(u.guests),
                examples(&u.guest_examples, u.guest_examples.len())
            );
        }
        out.push_str("</p>\n");
    }
    if let Some(t) = &s.tenant {
        let _ = write!(
            out,
            "<p><strong>Tenant:</strong> {} ({} pass",
            verdict_badge(t.state.as_str()),
            t.pass
        );
        for f in &t.findings {
            let _ = write!(
                out,
                ", <a href=\"#{}\" class=\"mono\">{}</a> {}",
                check_anchor(&f.check),
                line(&f.check),
                f.status.as_str()
            );
        }
        out.push_str(")</p>\n");
    }
    out.push_str("</div>\n");

    if !s.causes.is_empty() {
        out.push_str(
            "<h3>Not enrolled, by verdict and first cause</h3>\n<table>\n<thead><tr><th>Verdict</th><th>Cause</th><th>Devices</th><th>Not met</th><th>Examples</th><th>Fix</th></tr></thead>\n<tbody>\n",
        );
        for c in &s.causes {
            let cause = match &c.cause {
                Some(id) => format!(
                    "<a href=\"#{}\" class=\"mono\">{}</a>",
                    check_anchor(id),
                    line(id)
                ),
                None => "-".to_string(),
            };
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{cause}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"pre\">{}</td></tr>",
                verdict_badge(c.verdict.as_str()),
                c.devices,
                line(&c.title),
                examples(&c.examples, c.devices),
                block(&c.fix)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    let noun = if s.kind == SubjectKind::Device {
        "Devices"
    } else {
        "Users"
    };
    for (heading, rows) in [("Blocking checks", &s.blocking), ("Warnings", &s.warnings)] {
        check_rows(&mut out, heading, noun, rows);
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
                (n > 0).then(|| {
                    format!(
                        "<a href=\"#{}\" class=\"mono\">{}</a> ({n})",
                        check_anchor(&c.check),
                        line(&c.check)
                    )
                })
            })
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(
                counts,
                "<li><strong>{label}, {} per check:</strong> {}</li>",
                noun.to_lowercase(),
                parts.join(", ")
            );
        }
    }
    if !counts.is_empty() {
        let _ = write!(out, "<ul>\n{counts}</ul>\n");
    }
    out.push_str("</section>\n");

    let listed: Vec<&SubjectRow> = h
        .rows
        .iter()
        .filter(|r| r.kind != SubjectKind::Tenant && r.is_listed())
        .collect();
    if !listed.is_empty() {
        let (one, col) = if s.kind == SubjectKind::Device {
            ("device", "Causes")
        } else {
            ("user", "Blocking checks")
        };
        let _ = writeln!(
            out,
            "<section id=\"not-ready\">\n<h2>Not ready ({} {one}{})</h2>\n<table>\n<thead><tr><th>{}</th><th>Verdict</th><th>{col}</th><th>First fix</th></tr></thead>\n<tbody>",
            listed.len(),
            plural(listed.len()),
            if s.kind == SubjectKind::Device {
                "Device"
            } else {
                "User"
            }
        );
        for r in listed {
            let name = if linked(r) {
                format!(
                    "<a href=\"#{}\">{}</a>",
                    subject_anchor(r.kind, &r.subject),
                    line(&r.subject)
                )
            } else {
                line(&r.subject)
            };
            let ids: Vec<String> = r
                .blocking
                .iter()
                .map(|c| {
                    format!(
                        "<a href=\"#{}\" class=\"mono\">{}</a>",
                        check_anchor(c),
                        line(c)
                    )
                })
                .collect();
            let sep = if s.kind == SubjectKind::Device {
                " &rarr; "
            } else {
                " "
            };
            let _ = writeln!(
                out,
                "<tr><td>{name}</td><td>{}</td><td>{}</td><td class=\"pre\">{}</td></tr>",
                verdict_badge(r.state.as_str()),
                if ids.is_empty() {
                    "-".to_string()
                } else {
                    ids.join(sep)
                },
                block(&r.first_fix)
            );
        }
        out.push_str("</tbody>\n</table>\n</section>\n");
    }
    out.push_str("<h2>Details</h2>\n");
    out.push_str(&filter_bar(&checks));
    out
}

fn check_rows(out: &mut String, heading: &str, noun: &str, rows: &[CheckRow]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h3>{heading}</h3>\n<table>\n<thead><tr><th>Check</th><th>{noun}</th><th>Not met</th><th>Examples</th><th>Fix</th></tr></thead>\n<tbody>"
    );
    for r in rows {
        let mut fix = block(&r.fix);
        if r.other_fixes > 0 {
            let _ = write!(fix, " (+{} other fix texts)", r.other_fixes);
        }
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#{}\" class=\"mono\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"pre\">{fix}</td></tr>",
            check_anchor(&r.check),
            line(&r.check),
            r.subjects,
            line(&r.title),
            examples(&r.examples, r.subjects)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// One subject's section: a device's diagnosis (a user's: the devices they enroll on, linked),
/// then every finding.
pub fn subject_section(s: &SubjectResult<'_>, devices: Option<&[String]>) -> String {
    let heading = match s.subject.as_ref() {
        Subject::Tenant => "Tenant".to_string(),
        Subject::User(u) => match s.kind {
            SubjectKind::Disabled => format!("User {} (disabled account)", line(u)),
            SubjectKind::Guest => format!("User {} (guest)", line(u)),
            _ => format!("User {}", line(u)),
        },
        Subject::Device(d) => format!("Device {}", line(d)),
    };
    let mut out = format!(
        "<section class=\"subject\" id=\"{}\" data-kind=\"{}\" data-state=\"{}\">\n<h3>{heading} {}</h3>\n",
        subject_anchor(s.kind, s.id()),
        s.kind.as_str(),
        attr(s.state.as_str()),
        verdict_badge(s.state.as_str())
    );
    if let Some(d) = s.diagnosis {
        diagnosis_block(&mut out, d, Explain::Linked);
    }
    if let Some(devices) = devices.filter(|d| !d.is_empty()) {
        let links: Vec<String> = devices
            .iter()
            .map(|d| {
                format!(
                    "<a href=\"#{}\">{}</a>",
                    subject_anchor(SubjectKind::Device, d),
                    line(d)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<p><strong>Enrolls on:</strong> {}</p>",
            links.join(", ")
        );
    }
    if s.findings.is_empty() {
        out.push_str("<p class=\"muted\">No findings.</p>\n");
    } else {
        findings_table(&mut out, s.findings.iter().copied(), Explain::Linked);
    }
    out.push_str("</section>\n");
    out
}

/// After the subjects: how many have no section, the check reference, the notes, the status
/// line and the end of the page.
pub fn run_tail(h: &RunHeader<'_>, more: usize, columns: &Columns) -> String {
    let mut out = String::new();
    if more > 0 {
        let noun = h.summary.kind.noun();
        let _ = writeln!(
            out,
            "<p class=\"box\">{more} more {noun}{} without details here: use <code>--details</code> or <code>--format csv</code>/<code>jsonl</code>.</p>",
            plural(more)
        );
    }
    out.push_str("<section id=\"checks\">\n<h2>Checks</h2>\n");
    for m in columns.checks() {
        let _ = writeln!(
            out,
            "<details class=\"explain\" id=\"{}\"><summary><span class=\"mono\">{}</span> {} <span class=\"muted\">({} severity)</span></summary>{}</details>",
            check_anchor(m.id),
            line(m.id),
            line(m.title),
            m.severity.as_str(),
            explain_body(m, true)
        );
    }
    out.push_str("</section>\n");
    out.push_str(&page_tail(
        h.notes,
        &view::status_line(&h.summary.findings, h.as_of),
    ));
    out
}
