//! JSON Lines: one JSON object per line, streamed. The first line is the summary
//! (`{"type":"summary", …}`: the run summary, each check's metadata under `checks`, the
//! notes); every following line is one subject (`{"type":"subject", …}`) with its verdict,
//! blocking checks, first fix, a device's diagnosis and all its findings: each with its
//! summary and evidence, and the remediation where it did not pass; a pass's general
//! remediation and every check's docs are stated once in the summary line. See
//! docs/report-schema.md.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::header::RunHeader;
use super::json::{ChecksMap, LineFindings};
use super::summary::{RunSummary, State, SubjectKind, SubjectResult};
use crate::model::{Diagnosis, Subject};

/// Schema tag of the summary line.
pub const LINES_SCHEMA: &str = "enroll-doctor/report-lines@2";

#[derive(Serialize)]
struct SummaryLine<'a> {
    #[serde(rename = "type")]
    line: &'static str,
    schema: &'static str,
    as_of: DateTime<Utc>,
    #[serde(flatten)]
    summary: &'a RunSummary,
    checks: ChecksMap<'a>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct SubjectLine<'a> {
    #[serde(rename = "type")]
    line: &'static str,
    subject: &'a Subject,
    kind: SubjectKind,
    verdict: State,
    blocking: Vec<&'a str>,
    first_fix: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnosis: Option<&'a Diagnosis>,
    findings: LineFindings<'a>,
}

pub(crate) fn write_summary(out: &mut dyn Write, h: &RunHeader<'_>) -> io::Result<()> {
    let line = SummaryLine {
        line: "summary",
        schema: LINES_SCHEMA,
        as_of: h.as_of,
        summary: h.summary,
        checks: ChecksMap(h.columns),
        notes: h.notes,
    };
    super::json::write_compact(out, &line)?;
    out.write_all(b"\n")
}

pub(crate) fn write_subject(out: &mut dyn Write, s: &SubjectResult<'_>) -> io::Result<()> {
    let line = SubjectLine {
        line: "subject",
        subject: &s.subject,
        kind: s.kind,
        verdict: s.state,
        blocking: s.blocking(),
        first_fix: s.first_fix(),
        diagnosis: s.diagnosis,
        findings: LineFindings(&s.findings),
    };
    super::json::write_compact(out, &line)?;
    out.write_all(b"\n")
}
