//! SARIF 2.1.0 (OASIS; `$schema` the schema store's copy) for code-scanning tools and
//! pipelines: one run whose `tool.driver.rules` are the run's checks from the check registry
//! (ID, name, title, the explain text as text and Markdown, the first documentation link as
//! `helpUri`, the default level from the severity) and whose `results` are written as the
//! subjects come.
//!
//! What becomes a result: a `fail` (`kind: "fail"`, level `error`), a `warn` (`kind: "fail"`,
//! level `warning`), a `skip` (`kind: "notApplicable"`, level `none`: a pipeline can see what
//! was not checked) and an `error` (`kind: "open"`, level `none`: the check could not decide).
//! A `pass` is not a result; the run's `properties.summary` counts every status. The run's
//! notes are `invocations[0].toolExecutionNotifications`.
//!
//! Locations come from the evidence: a device file (`dsregcmd.txt:26`) is a
//! `physicalLocation` (a relative `artifactLocation.uri`, under the device's input folder in a
//! fleet, and `region.startLine`); a Graph request (`GET /v1.0/…`) is a `logicalLocation` of
//! kind `resource`; any other place (a restriction by name and priority) a `logicalLocation`
//! of kind `object`. Each result has a `partialFingerprints` entry ([`fingerprint`]) so code
//! scanning matches it across runs. Values are exact (JSON strings), written through
//! [`super::json::escape_json`].

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::header::RunHeader;
use super::json::write_compact;
use super::summary::{Columns, SubjectResult};
use super::view::short_location;
use crate::model::{CheckMeta, Evidence, Finding, Severity, Status, Subject};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const VERSION: &str = "2.1.0";

/// A rule's default level from the check's severity.
pub fn level_of(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn explain_text(m: &CheckMeta) -> String {
    let mut t = format!(
        "{}\n\nWhat it checks\n{}\n\nWhy it matters\n{}\n\nHow to fix\n{}\n",
        m.title, m.what_it_checks, m.why_it_matters, m.how_to_fix
    );
    if !m.references.is_empty() {
        t.push_str("\nReferences\n");
        for r in m.references {
            t.push_str(&format!("- {r}\n"));
        }
    }
    t
}

fn explain_markdown(m: &CheckMeta) -> String {
    let mut t = format!(
        "**{}**\n\n### What it checks\n\n{}\n\n### Why it matters\n\n{}\n\n### How to fix\n\n{}\n",
        m.title, m.what_it_checks, m.why_it_matters, m.how_to_fix
    );
    if !m.references.is_empty() {
        t.push_str("\n### References\n\n");
        for r in m.references {
            t.push_str(&format!("- <{r}>\n"));
        }
    }
    t
}

/// A check as a SARIF `reportingDescriptor`.
pub fn rule(m: &CheckMeta) -> Value {
    let text = explain_text(m);
    let markdown = explain_markdown(m);
    let mut r = json!({
        "id": m.id,
        "name": m.name,
        "shortDescription": { "text": m.title },
        "fullDescription": { "text": m.what_it_checks },
        "help": { "text": text, "markdown": markdown },
    });
    if let (Some(first), Value::Object(o)) = (m.references.first(), &mut r) {
        o.insert("helpUri".into(), json!(first));
    }
    if let Value::Object(o) = &mut r {
        o.insert(
            "defaultConfiguration".into(),
            json!({ "level": level_of(m.severity) }),
        );
        o.insert(
            "properties".into(),
            json!({
                "severity": m.severity.as_str(),
                "area": m.area,
                "tags": ["intune", "enrollment", area_tag(m)],
            }),
        );
    }
    r
}

fn area_tag(m: &CheckMeta) -> &'static str {
    match m.area {
        crate::model::Area::Tenant => "tenant",
        crate::model::Area::User => "user",
        crate::model::Area::Device => "device",
        crate::model::Area::Correlation => "correlation",
        crate::model::Area::Autopilot => "autopilot",
    }
}

/// `{"$schema": …, "version": "2.1.0", "runs": [{"tool": …, "results": [` — the results follow.
pub(crate) fn write_head(out: &mut dyn Write, h: &RunHeader<'_>) -> io::Result<()> {
    let rules: Vec<Value> = h.columns.checks().iter().map(|m| rule(m)).collect();
    let driver = json!({
        "name": "enroll-doctor",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    out.write_all(b"{\"$schema\":")?;
    write_compact(out, SCHEMA_URI)?;
    out.write_all(b",\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":")?;
    write_compact(out, &driver)?;
    out.write_all(b"},\"columnKind\":\"unicodeCodePoints\",\"results\":[")
}

/// Where a fleet's device files are: each device's input path, and the devices a user
/// enrolls on (a user's finding cites the files of the device it was correlated with).
pub struct Places<'a> {
    /// Device name → the path it was read from (a fleet; empty for one device, whose files
    /// are named relative to its own input).
    pub inputs: &'a HashMap<String, String>,
    /// The devices the subject (a user) enrolls on.
    pub enrolling: &'a [String],
}

impl Places<'_> {
    /// The input path a finding's device files are relative to: the device's own, or for a
    /// user the device its correlation evidence names (`PC1: 0x8018002B on …`), else the one
    /// device the user enrolls on.
    fn base<'p>(&'p self, s: &'p SubjectResult<'_>, f: &Finding) -> Option<&'p str> {
        if let Some(d) = s.diagnosis {
            return d
                .inputs
                .first()
                .or_else(|| self.inputs.get(&d.device))
                .map(String::as_str);
        }
        let named = f
            .evidence
            .iter()
            .filter(|e| e.source == "correlation")
            .filter_map(|e| e.detail.split_once(": ").map(|(d, _)| d))
            .find(|d| self.inputs.contains_key(*d));
        let device = match (named, self.enrolling) {
            (Some(d), _) => d,
            (None, [only]) => only.as_str(),
            _ => return None,
        };
        self.inputs.get(device).map(String::as_str)
    }
}

/// The results of one subject, each on a line of its own; `first` is whether none was
/// written before.
pub(crate) fn write_results(
    out: &mut dyn Write,
    columns: &Columns,
    s: &SubjectResult<'_>,
    places: &Places<'_>,
    first: &mut bool,
) -> io::Result<()> {
    for f in &s.findings {
        let base = places.base(s, f);
        let Some(r) = result(columns, f, base) else {
            continue;
        };
        out.write_all(if *first { b"\n" } else { b",\n" })?;
        *first = false;
        write_compact(out, &r)?;
    }
    Ok(())
}

/// The end of the results, the invocation with the notes, the counts.
pub(crate) fn write_tail(out: &mut dyn Write, h: &RunHeader<'_>) -> io::Result<()> {
    let notes: Vec<Value> = h
        .notes
        .iter()
        .map(|n| json!({ "level": "note", "message": { "text": n } }))
        .collect();
    let mut invocation = json!({ "executionSuccessful": true });
    if let (false, Value::Object(o)) = (notes.is_empty(), &mut invocation) {
        o.insert("toolExecutionNotifications".into(), Value::Array(notes));
    }
    let s = &h.summary;
    let properties = json!({
        "asOf": h.as_of,
        "summary": {
            "subjects": s.subjects,
            "kind": s.kind,
            "ready": s.ready,
            "notReady": s.not_ready,
            "incomplete": s.incomplete,
            "pass": s.findings.pass,
            "warn": s.findings.warn,
            "fail": s.findings.fail,
            "skip": s.findings.skip,
            "error": s.findings.error,
        },
    });
    out.write_all(b"\n],\"invocations\":[")?;
    write_compact(out, &invocation)?;
    out.write_all(b"],\"properties\":")?;
    write_compact(out, &properties)?;
    out.write_all(b"}]}\n")
}

/// A finding as a SARIF result (`None` for a pass).
pub fn result(columns: &Columns, f: &Finding, base: Option<&str>) -> Option<Value> {
    let (kind, level) = match f.status {
        Status::Pass => return None,
        Status::Fail => ("fail", "error"),
        Status::Warn => ("fail", "warning"),
        Status::Skip => ("notApplicable", "none"),
        Status::Error => ("open", "none"),
    };
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.check));
    if let Some(i) = columns.position(&f.check) {
        r.insert("ruleIndex".into(), json!(i));
    }
    r.insert("kind".into(), json!(kind));
    r.insert("level".into(), json!(level));
    r.insert(
        "message".into(),
        json!({ "text": format!("{}: {}", f.subject, f.summary) }),
    );
    let locations: Vec<Value> = f
        .evidence
        .iter()
        .filter_map(|e| location(e, base))
        .collect();
    if !locations.is_empty() {
        r.insert("locations".into(), Value::Array(locations));
    }
    let (subject_kind, subject_id) = match &f.subject {
        Subject::Tenant => ("tenant", ""),
        Subject::User(u) => ("user", u.as_str()),
        Subject::Device(d) => ("device", d.as_str()),
    };
    r.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT: fingerprint(&f.check, subject_kind, subject_id) }),
    );
    let mut props = Map::new();
    props.insert(
        "subject".into(),
        json!({ "kind": subject_kind, "id": subject_id }),
    );
    props.insert("status".into(), json!(f.status));
    props.insert("severity".into(), json!(f.severity));
    if !f.remediation.is_empty() {
        props.insert("remediation".into(), json!(f.remediation));
    }
    if let Some(reason) = &f.skip_reason {
        props.insert("skipReason".into(), json!(reason));
    }
    if let Some(e) = &f.error {
        props.insert("error".into(), json!(e));
    }
    props.insert("evidence".into(), json!(f.evidence));
    r.insert("properties".into(), Value::Object(props));
    Some(Value::Object(r))
}

/// The name of the fingerprint every result carries.
pub const FINGERPRINT: &str = "enrollDoctorFinding/v1";

/// The same finding in two runs, whatever its text or evidence: SHA-256 over the check and the
/// subject (a UPN without case, as Entra compares it), so code scanning matches a result to its
/// alert of the run before instead of opening a new one.
pub fn fingerprint(check: &str, kind: &str, id: &str) -> String {
    let id = if kind == "user" {
        id.to_lowercase()
    } else {
        id.to_string()
    };
    let digest = Sha256::digest(format!("{check}\0{kind}\0{id}"));
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where an evidence item was read, as a SARIF location (`None` without a place).
pub fn location(e: &Evidence, base: Option<&str>) -> Option<Value> {
    let loc = e.location.as_deref()?;
    let message = json!({ "text": e.detail });
    if is_request(loc) {
        return Some(json!({
            "logicalLocations": [{
                "name": short_location(loc),
                "fullyQualifiedName": loc,
                "kind": "resource",
            }],
            "message": message,
        }));
    }
    if let Some((file, line, rest)) = device_file(loc) {
        let path = match base {
            Some(b) => format!("{}/{file}", b.trim_end_matches(['/', '\\'])),
            None => file.to_string(),
        };
        let mut physical = json!({ "artifactLocation": { "uri": uri_reference(&path) } });
        if let (Some(n), Value::Object(o)) = (line, &mut physical) {
            o.insert("region".into(), json!({ "startLine": n }));
        }
        let text = if rest.is_empty() {
            e.detail.clone()
        } else {
            format!("{} ({rest})", e.detail)
        };
        return Some(json!({
            "physicalLocation": physical,
            "message": { "text": text },
        }));
    }
    Some(json!({
        "logicalLocations": [{ "fullyQualifiedName": loc, "kind": "object" }],
        "message": message,
    }))
}

fn is_request(loc: &str) -> bool {
    ["GET ", "POST ", "PATCH ", "PUT ", "DELETE "]
        .iter()
        .any(|m| loc.starts_with(m))
}

/// `dsregcmd.txt:26` → (`dsregcmd.txt`, 26, ""); `taskscheduler.json record 7` →
/// (`taskscheduler.json`, none, `record 7`); anything that does not start with a file name
/// (a name with an extension, no spaces) → `None`.
pub fn device_file(loc: &str) -> Option<(&str, Option<u64>, &str)> {
    let (head, rest) = match loc.split_once(' ') {
        Some((h, r)) => (h, r.trim()),
        None => (loc, ""),
    };
    let (file, line) = match head.rsplit_once(':') {
        Some((f, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (f, n.parse::<u64>().ok().filter(|n| *n >= 1))
        }
        _ => (head, None),
    };
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let (stem, ext) = name.rsplit_once('.')?;
    let looks_like_file = !stem.is_empty()
        && !ext.is_empty()
        && ext.len() <= 8
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        && !file.contains(':');
    looks_like_file.then_some((file, line, rest))
}

/// A path as a relative URI reference: `\` becomes `/`, and every byte outside RFC 3986's
/// unreserved characters and `/` is percent-encoded (so a `:` cannot make it a scheme).
pub fn uri_reference(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_files_lines_and_other_places_are_told_apart() {
        assert_eq!(
            device_file("dsregcmd.txt:26"),
            Some(("dsregcmd.txt", Some(26), ""))
        );
        assert_eq!(
            device_file("taskscheduler.json record 70102"),
            Some(("taskscheduler.json", None, "record 70102"))
        );
        assert_eq!(device_file("os.reg"), Some(("os.reg", None, "")));
        assert_eq!(
            device_file("dmedp-admin.xml:0"),
            Some(("dmedp-admin.xml", None, ""))
        );
        assert_eq!(device_file("restriction \"Pilot\" (priority 1)"), None);
        assert_eq!(device_file("HKLM\\SOFTWARE\\Microsoft\\Enrollments"), None);
        assert_eq!(device_file("C:\\logs\\x.txt:3"), None);
    }

    #[test]
    fn a_finding_keeps_its_fingerprint_across_runs() {
        let a = fingerprint("USR003", "user", "JDoe@Contoso.com");
        assert_eq!(a, fingerprint("USR003", "user", "jdoe@contoso.com"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, fingerprint("USR004", "user", "jdoe@contoso.com"));
        assert_ne!(
            fingerprint("DEV001", "device", "PC1"),
            fingerprint("DEV001", "device", "pc1")
        );
    }

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(
            uri_reference("fleet\\PC 1/dsregcmd.txt"),
            "fleet/PC%201/dsregcmd.txt"
        );
        assert_eq!(uri_reference("C:x"), "C%3Ax");
        assert_eq!(uri_reference("<script>"), "%3Cscript%3E");
    }

    #[test]
    fn graph_requests_are_logical_locations() {
        let e = Evidence::new("graph", "appliesTo=all")
            .at("GET /v1.0/policies/mobileDeviceManagementPolicies?$select=appliesTo");
        let l = location(&e, None).unwrap_or_default();
        assert_eq!(l["logicalLocations"][0]["kind"], "resource");
        assert_eq!(
            l["logicalLocations"][0]["name"],
            "GET /v1.0/policies/mobileDeviceManagementPolicies"
        );
        let e = Evidence::new("dsregcmd", "AzureAdJoined : NO").at("dsregcmd.txt:5");
        let l = location(&e, Some("fleet/PC1")).unwrap_or_default();
        assert_eq!(
            l["physicalLocation"]["artifactLocation"]["uri"],
            "fleet/PC1/dsregcmd.txt"
        );
        assert_eq!(l["physicalLocation"]["region"]["startLine"], 5);
    }
}
