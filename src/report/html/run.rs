//! The HTML page of a run over several users or devices, written as the run goes (see
//! [`crate::report::run`]): the summary with the same aggregates as the table's (the headline,
//! the tenant, a fleet's verdict × first-cause histogram, the blocking checks and warnings
//! with examples, skips and errors per check), the list of subjects that are not ready, then
//! each subject as it comes (a device with its cause chain, every finding with its details),
//! and last the check reference (each check's explain text once, which every finding links
//! to), the notes and the status line. Nothing here holds more than one subject.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{
    Explain, attr, block, check_anchor, diagnosis_block, explain_body, filter_bar, findings_table,
    line, page_head, page_tail, verdict_badge,
};
use crate::model::Subject;
use crate::report::header::RunHeader;
use crate::report::summary::{CheckRow, Columns, SubjectKind, SubjectResult, SubjectRow, plural};
use crate::report::view;

/// FNV-1a, 64 bits: a hash fixed by its definition (unlike `DefaultHasher`, which may change
/// between Rust releases), so a subject's anchor is the same in every run and every build.
fn fnv1a64(basis: u64, parts: &[&[u8]]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = basis;
    for part in parts {
        for b in *part {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    }
    h
}

/// FNV-1a's offset basis.
const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
/// Another basis, for the hash that tells two subjects apart when their anchors collide.
const SECOND_BASIS: u64 = 0x6c62_272e_07bb_0142;

/// The noun of an anchor and the subject's id as compared: a UPN as Entra compares it,
/// without case; a device name and the tenant as they are.
fn anchor_key(kind: SubjectKind, id: &str) -> (&'static str, String) {
    match kind {
        SubjectKind::Tenant => ("tenant", id.to_string()),
        SubjectKind::Device => ("device", id.to_string()),
        SubjectKind::User | SubjectKind::Guest | SubjectKind::Disabled => {
            ("user", id.to_ascii_lowercase())
        }
    }
}

/// The anchor of a subject's section before any collision: its noun and the FNV-1a 64 hash of
/// the noun and its id, in hex (`user-0123456789abcdef`). Only hex digits come from the
/// subject, never its text, so nothing outside can shape the attribute.
pub(crate) fn subject_anchor(kind: SubjectKind, id: &str) -> String {
    let (noun, id) = anchor_key(kind, id);
    format!(
        "{noun}-{:016x}",
        fnv1a64(FNV_BASIS, &[noun.as_bytes(), &[0], id.as_bytes()])
    )
}

/// The anchors of one page's subjects, given as the page is written: a subject's
/// [`subject_anchor`], or, when another subject of the page already holds it (two ids with
/// one 64-bit hash), that anchor with a second hash of its id and, should even that be taken,
/// a counter. The same subject always gets the same anchor, so a link written before its
/// section (the not-ready list, a user's devices) and the section agree. Holds one entry per
/// anchor given (the id's second hash, not its text).
#[derive(Default)]
pub struct Anchors {
    given: HashMap<String, u64>,
    #[cfg(test)]
    hash: Option<fn(&str) -> u64>,
}

impl Anchors {
    /// The anchor of the subject KIND ID on this page.
    pub fn of(&mut self, kind: SubjectKind, id: &str) -> String {
        let (noun, key) = anchor_key(kind, id);
        let parts: [&[u8]; 3] = [noun.as_bytes(), &[0], key.as_bytes()];
        let second = fnv1a64(SECOND_BASIS, &parts);
        let base = self.base(kind, id);
        let mut candidate = base.clone();
        let mut n = 1u64;
        loop {
            match self.given.get(&candidate) {
                None => {
                    self.given.insert(candidate.clone(), second);
                    return candidate;
                }
                Some(&holder) if holder == second => return candidate,
                Some(_) if n == 1 => candidate = format!("{base}-{second:016x}"),
                Some(_) => candidate = format!("{base}-{second:016x}-{n}"),
            }
            n += 1;
        }
    }

    fn base(&self, kind: SubjectKind, id: &str) -> String {
        #[cfg(test)]
        if let Some(h) = self.hash {
            return format!("{}-{:016x}", anchor_key(kind, id).0, h(id));
        }
        subject_anchor(kind, id)
    }
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
pub fn run_head(
    h: &RunHeader<'_>,
    linked: &dyn Fn(&SubjectRow) -> bool,
    anchors: &mut Anchors,
) -> String {
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
                    anchors.of(r.kind, &r.subject),
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
pub fn subject_section(
    s: &SubjectResult<'_>,
    devices: Option<&[String]>,
    anchors: &mut Anchors,
) -> String {
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
        anchors.of(s.kind, s.id()),
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
                    anchors.of(SubjectKind::Device, d),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_subjects_anchor_is_fnv1a_of_its_kind_and_id_the_same_in_every_run() {
        // FNV-1a 64 of "user\0jdoe@contoso.com" and "device\0PC0042.corp.contoso.com",
        // computed independently: fixed by the definition, not by a Rust release.
        assert_eq!(
            subject_anchor(SubjectKind::User, "jdoe@contoso.com"),
            "user-6ef3afa26f6f2988"
        );
        assert_eq!(
            subject_anchor(SubjectKind::Device, "PC0042.corp.contoso.com"),
            "device-42f8dcd714ce3856"
        );
        // A UPN without case, and a guest or disabled account is the same user.
        for kind in [SubjectKind::User, SubjectKind::Guest, SubjectKind::Disabled] {
            assert_eq!(
                subject_anchor(kind, "JDoe@Contoso.com"),
                "user-6ef3afa26f6f2988"
            );
        }
        // The kind is hashed too: a device named like a user is another anchor.
        assert_ne!(
            subject_anchor(SubjectKind::Device, "jdoe@contoso.com")[7..],
            subject_anchor(SubjectKind::User, "jdoe@contoso.com")[5..]
        );
        let mut a = Anchors::default();
        let mut b = Anchors::default();
        assert_eq!(
            a.of(SubjectKind::User, "jdoe@contoso.com"),
            b.of(SubjectKind::User, "jdoe@contoso.com")
        );
        assert_eq!(
            a.of(SubjectKind::User, "JDOE@contoso.com"),
            "user-6ef3afa26f6f2988"
        );
    }

    #[test]
    fn outside_text_never_shapes_an_anchor() {
        let mut a = Anchors::default();
        for id in [
            "\"><script>alert(1)</script>",
            "a b\u{1b}[31m\u{202e}",
            "",
            "x\"onmouseover=\"y",
        ] {
            for kind in [SubjectKind::User, SubjectKind::Device, SubjectKind::Tenant] {
                let anchor = a.of(kind, id);
                assert!(
                    anchor
                        .bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'),
                    "{anchor}"
                );
            }
        }
    }

    #[test]
    fn colliding_subjects_get_distinct_anchors_and_each_keeps_its_own() {
        // Every id hashes alike: each subject after the first gets a suffix.
        let mut a = Anchors {
            hash: Some(|_| 7),
            ..Anchors::default()
        };
        let first = a.of(SubjectKind::User, "jdoe@contoso.com");
        let second = a.of(SubjectKind::User, "kwong@contoso.com");
        let third = a.of(SubjectKind::Device, "PC0042");
        assert_eq!(first, "user-0000000000000007");
        assert!(second.starts_with("user-0000000000000007-"), "{second}");
        assert_ne!(first, second);
        // Another kind is another noun: no collision with the users.
        assert_eq!(third, "device-0000000000000007");
        // Asked again (a link, then the section), each subject gets the anchor it was given.
        assert_eq!(a.of(SubjectKind::User, "KWong@contoso.com"), second);
        assert_eq!(a.of(SubjectKind::User, "jdoe@contoso.com"), first);
        // Even the suffixed anchor taken (by a subject whose second hash differs): a counter.
        let mut b = Anchors {
            hash: Some(|_| 7),
            ..Anchors::default()
        };
        let x = b.of(SubjectKind::User, "x");
        let second_z = fnv1a64(SECOND_BASIS, &[b"user", &[0], b"z"]);
        b.given.insert(format!("{x}-{second_z:016x}"), 1);
        let z = b.of(SubjectKind::User, "z");
        assert_eq!(z, format!("{x}-{second_z:016x}-2"));
        let suffix = b.of(SubjectKind::User, "y");
        let all: HashSet<&String> = [&x, &z, &suffix].into_iter().collect();
        assert_eq!(all.len(), 3, "{x} {z} {suffix}");
        assert_eq!(b.of(SubjectKind::User, "z"), z);
        assert_eq!(b.of(SubjectKind::User, "y"), suffix);
    }
}
