//! JSON renderer: the stable interface for scripts.
//!
//! A report about one subject (one device, one user, the tenant) is the [`Report`] as it is
//! (`enroll-doctor/report@1`). A run over several users or devices is one document of its own
//! shape (`enroll-doctor/report@2`, see docs/report-schema.md): the summary first, each check's
//! metadata once under `checks`, and the findings with passes cut down to check, status and
//! subject. It is written as the subjects are evaluated, one finding per line.
//!
//! Values are exact: serde_json escapes the C0 controls inside strings, and [`escape_json`]
//! also writes DEL, the C1 controls, the bidirectional overrides and the line separators that
//! [`crate::text_safety`] names as `\u00XX` escapes, so no output byte is a terminal control
//! and a parser reads back the very value.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::SerializeMap;

use super::Report;
use super::header::RunHeader;
use super::summary::{Columns, RunSummary};
use crate::model::{
    Area, CheckMeta, Diagnosis, Evidence, Finding, Severity, SkipReason, Status, Subject,
};
use crate::text_safety::is_unsafe;

/// Schema tag of the document of a run over several subjects.
pub const RUN_SCHEMA: &str = "enroll-doctor/report@2";

/// One subject's report document (`report@1`; a run over several goes through
/// [`super::render`]).
pub fn render(report: &Report) -> Result<String, serde_json::Error> {
    let mut s = escape_json(&serde_json::to_string_pretty(report)?).into_owned();
    s.push('\n');
    Ok(s)
}

/// JSON text from serde_json with the unsafe characters it leaves raw (DEL, C1, bidi
/// overrides, line separators) as `\uXXXX`. Outside its strings JSON text is ASCII, and the C0
/// controls inside them are escaped already: every character changed here is inside a string,
/// whose value stays the same.
pub fn escape_json(text: &str) -> Cow<'_, str> {
    let unsafe_here = |c: char| c >= '\u{7f}' && is_unsafe(c);
    if !text.chars().any(unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_here(c) {
            // Every such character is in the Basic Multilingual Plane: one `\u` escape.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `value` as compact JSON through [`escape_json`].
pub(crate) fn write_compact<T: Serialize + ?Sized>(
    out: &mut dyn Write,
    value: &T,
) -> io::Result<()> {
    let text = serde_json::to_string(value).map_err(io::Error::other)?;
    out.write_all(escape_json(&text).as_bytes())
}

/// What a check is, stated once per run: `checks.USR002.title`, `.remediation`, `.docs`.
#[derive(Serialize)]
struct CheckInfo<'a> {
    title: &'a str,
    severity: Severity,
    area: Area,
    /// The general fix (`explain` prints it); a finding's own `remediation` is specific.
    remediation: &'a str,
    docs: &'a [&'a str],
}

/// The `checks` map of a run, in registry order.
pub(crate) struct ChecksMap<'a>(pub &'a Columns);

impl Serialize for ChecksMap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let checks = self.0.checks();
        let mut m = s.serialize_map(Some(checks.len()))?;
        for c in checks {
            m.serialize_entry(c.id, &info(c))?;
        }
        m.end()
    }
}

fn info(c: &'static CheckMeta) -> CheckInfo<'static> {
    CheckInfo {
        title: c.title,
        severity: c.severity,
        area: c.area,
        remediation: c.how_to_fix,
        docs: c.references,
    }
}

/// A finding in a run document: a pass as check, status and subject (in JSON Lines also its
/// severity, summary and evidence, see [`PassShape`]); anything else in full but without `docs`
/// (in the `checks` map).
#[derive(Serialize)]
struct RunFinding<'a> {
    check: &'a str,
    status: &'a Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<Severity>,
    subject: &'a Subject,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'a [Evidence]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skip_reason: Option<&'a SkipReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// How much of a passing finding a run writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PassShape {
    /// Check, status and subject (`report@2`).
    Bare,
    /// Also the severity, summary and evidence: what was found (the licence, the group, the
    /// winning restriction); JSON Lines (`report-lines@2`).
    WithEvidence,
}

impl<'a> RunFinding<'a> {
    fn of(f: &'a Finding, pass: PassShape) -> RunFinding<'a> {
        let is_pass = f.status == Status::Pass;
        let found = !is_pass || pass == PassShape::WithEvidence;
        RunFinding {
            check: &f.check,
            status: &f.status,
            severity: found.then_some(f.severity),
            subject: &f.subject,
            summary: found.then_some(f.summary.as_str()),
            evidence: found.then_some(f.evidence.as_slice()),
            // A pass's remediation is the check's general fix, stated once in `checks`.
            remediation: (!is_pass).then_some(f.remediation.as_str()),
            skip_reason: f.skip_reason.as_ref(),
            error: f.error.as_deref(),
        }
    }
}

/// A subject's findings in a JSON Lines subject line ([`PassShape::WithEvidence`]).
pub(crate) struct LineFindings<'a>(pub &'a [&'a Finding]);

impl Serialize for LineFindings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.0
                .iter()
                .map(|f| RunFinding::of(f, PassShape::WithEvidence)),
        )
    }
}

#[derive(Serialize)]
struct Head<'a> {
    schema: &'static str,
    as_of: DateTime<Utc>,
    summary: &'a RunSummary,
    checks: ChecksMap<'a>,
    diagnoses: &'a [Diagnosis],
}

/// The document up to the opening of the `findings` array.
pub(crate) fn write_run_head(out: &mut dyn Write, h: &RunHeader<'_>) -> io::Result<()> {
    let head = Head {
        schema: RUN_SCHEMA,
        as_of: h.as_of,
        summary: h.summary,
        checks: ChecksMap(h.columns),
        diagnoses: h.diagnoses,
    };
    let text = serde_json::to_string_pretty(&head).map_err(io::Error::other)?;
    let text = escape_json(&text);
    // `{ … }` without its closing brace, continued by the findings.
    let open = text
        .trim_end()
        .strip_suffix('}')
        .unwrap_or(&text)
        .trim_end();
    out.write_all(open.as_bytes())?;
    out.write_all(b",\n  \"findings\": [")
}

/// A subject's findings, one per line; `after_others`: a finding was written before.
pub(crate) fn write_findings(
    out: &mut dyn Write,
    findings: &[&Finding],
    after_others: bool,
) -> io::Result<()> {
    for (i, f) in findings.iter().enumerate() {
        out.write_all(if after_others || i > 0 {
            b",\n    "
        } else {
            b"\n    "
        })?;
        write_compact(out, &RunFinding::of(f, PassShape::Bare))?;
    }
    Ok(())
}

/// Closes the findings, adds the notes and ends the document.
pub(crate) fn write_run_tail(out: &mut dyn Write, h: &RunHeader<'_>) -> io::Result<()> {
    out.write_all(b"\n  ]")?;
    if !h.notes.is_empty() {
        out.write_all(b",\n  \"notes\": [")?;
        for (i, n) in h.notes.iter().enumerate() {
            out.write_all(if i > 0 { b",\n    " } else { b"\n    " })?;
            write_compact(out, n)?;
        }
        out.write_all(b"\n  ]")?;
    }
    out.write_all(b"\n}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::user::{USR001, USR002};
    use crate::model::Evidence;

    #[test]
    fn control_characters_are_json_escapes_and_the_value_stays_exact() {
        let value = "PC\u{1b}[2J\u{7}\u{7f}\u{85}\u{9b}1m\u{202e}\u{2069}\u{2028}é→\n";
        let subject = Subject::Device(value.into());
        let report = Report::new(
            chrono::DateTime::<Utc>::default(),
            Vec::new(),
            vec![USR001.finding(Status::Pass, subject, value)],
        );
        let out = render(&report).unwrap_or_default();
        assert!(
            !out.chars().any(|c| c != '\n' && is_unsafe(c)),
            "no raw control: {out}"
        );
        assert!(
            out.contains(
                r#""summary": "PC\u001b[2J\u0007\u007f\u0085\u009b1m\u202e\u2069\u2028é→\n""#
            ),
            "{out}"
        );
        let back: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(back["findings"][0]["summary"], value);
        assert_eq!(back["findings"][0]["subject"]["id"], value);
        // Nothing to escape: the text is borrowed as it is.
        assert!(matches!(escape_json("{\"a\": \"é\"}"), Cow::Borrowed(_)));
    }

    #[test]
    fn passes_are_compact_and_others_lose_only_their_docs() {
        let subject = Subject::User("a@contoso.com".into());
        let pass = USR001
            .finding(Status::Pass, subject.clone(), "exists")
            .with_evidence(Evidence::new("graph", "id 1"));
        let fail = USR002
            .finding(Status::Fail, subject, "no licence")
            .with_evidence(Evidence::new("graph", "no SKU").at("GET /v1.0/users/a"))
            .with_remediation("Assign a licence");
        let mut out = Vec::new();
        write_findings(&mut out, &[&pass, &fail], false).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines[0].trim(),
            r#"{"check":"USR001","status":"pass","subject":{"kind":"user","id":"a@contoso.com"}},"#
        );
        let v: serde_json::Value = serde_json::from_str(lines[1].trim()).unwrap_or_default();
        let mut full = serde_json::to_value(&fail).unwrap_or_default();
        if let Some(o) = full.as_object_mut() {
            o.remove("docs");
        }
        assert_eq!(v, full);
    }

    #[test]
    fn the_checks_map_states_each_check_once_in_registry_order() {
        let cols = Columns::of_areas(&[Area::User]);
        let v = serde_json::to_value(ChecksMap(&cols)).unwrap_or_default();
        let keys: Vec<&String> = v
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(keys.len(), 10);
        assert_eq!(keys[0], "USR001");
        assert_eq!(v["USR002"]["title"], USR002.title);
        assert_eq!(v["USR002"]["remediation"], USR002.how_to_fix);
        assert_eq!(v["USR002"]["docs"][0], USR002.references[0]);
    }
}
