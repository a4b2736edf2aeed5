//! JUnit XML for CI test results: one `<testsuite>` per subject (the tenant, each user, each
//! device) and in it one `<testcase>` per check that was evaluated for it, `classname` the
//! subject (`device PC1`, `user a@contoso.com`, `tenant`) and `name` the check's ID and title.
//! A `fail` is a `<failure>`, an `error` an `<error>`, a `skip` a `<skipped>` with its reason;
//! a `pass` is a plain test case, and a `warn` passes too, its warning in `<system-out>` (JUnit
//! has no warning; `--fail-on warn` still decides the exit code). The root's counts are the
//! run's, known before the first subject, so the document is written as the subjects come.
//!
//! Every element and attribute goes through quick-xml's writer (which escapes `<`, `>`, `&`,
//! `'` and `"`), every value through [`crate::text_safety`] before it: XML 1.0 cannot carry
//! most control characters even as references, so they are shown as `\u{1b}` like everywhere
//! else, and so are the two noncharacters U+FFFE and U+FFFF.

use std::borrow::Cow;
use std::io::{self, Write};

use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::header::RunHeader;
use super::summary::SubjectResult;
use crate::checks::registry;
use crate::model::{Finding, Status, Subject};
use crate::text_safety::{escape_line, escape_text};

/// A one-line value as XML character data.
fn xml_line(s: &str) -> String {
    without_nonchars(escape_line(s))
}

/// A block of text as XML character data (line breaks kept).
fn xml_text(s: &str) -> String {
    without_nonchars(escape_text(s))
}

fn without_nonchars(s: Cow<'_, str>) -> String {
    if s.contains(['\u{fffe}', '\u{ffff}']) {
        s.replace('\u{fffe}', "\\u{fffe}")
            .replace('\u{ffff}', "\\u{ffff}")
    } else {
        s.into_owned()
    }
}

fn timestamp(as_of: DateTime<Utc>) -> String {
    as_of.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The declaration and the opening `<testsuites>` with the run's counts.
pub(crate) fn write_head(out: &mut dyn Write, h: &RunHeader<'_>) -> io::Result<()> {
    let s = &h.summary.findings;
    let mut w = Writer::new(&mut *out);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.get_mut().write_all(b"\n")?;
    let tests = (s.pass + s.warn + s.fail + s.skip + s.error).to_string();
    let failures = s.fail.to_string();
    let errors = s.error.to_string();
    // The root has no `skipped` or `timestamp` in the JUnit XSD; each suite has both.
    let start = quick_xml::events::BytesStart::new("testsuites").with_attributes([
        ("name", "enroll-doctor"),
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
        ("time", "0"),
    ]);
    w.write_event(Event::Start(start))?;
    out.write_all(b"\n")
}

/// One subject's `<testsuite>`.
pub(crate) fn write_subject(
    out: &mut dyn Write,
    as_of: DateTime<Utc>,
    s: &SubjectResult<'_>,
) -> io::Result<()> {
    let classname = xml_line(&s.subject.to_string());
    let count = |st: Status| s.findings.iter().filter(|f| f.status == st).count();
    let tests = s.findings.len().to_string();
    let failures = count(Status::Fail).to_string();
    let errors = count(Status::Error).to_string();
    let skipped = count(Status::Skip).to_string();
    let stamp = timestamp(as_of);
    let mut w = Writer::new_with_indent(&mut *out, b' ', 2);
    w.create_element("testsuite")
        .with_attributes([
            ("name", classname.as_str()),
            ("tests", tests.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
            ("skipped", skipped.as_str()),
            ("time", "0"),
            ("timestamp", stamp.as_str()),
        ])
        .write_inner_content(|w| {
            properties(w, s)?;
            for f in &s.findings {
                testcase(w, &classname, f)?;
            }
            if let Some(d) = s.diagnosis {
                let mut text = format!("verdict: {}\n", d.verdict.as_str());
                if !d.causes.is_empty() {
                    text.push_str(&format!("causes: {}\n", d.causes.join(" -> ")));
                }
                if !d.fix.is_empty() {
                    text.push_str(&format!("fix: {}\n", d.fix));
                }
                if !d.explanation.is_empty() {
                    text.push_str(&format!("explanation: {}\n", d.explanation));
                }
                w.create_element("system-out")
                    .write_text_content(BytesText::new(&xml_text(&text)))?;
            }
            Ok(())
        })?;
    out.write_all(b"\n")
}

/// The subject's kind and state, and a device's path, enrolling user and cause chain.
fn properties<W: Write>(w: &mut Writer<W>, s: &SubjectResult<'_>) -> io::Result<()> {
    let mut props: Vec<(&str, String)> = vec![
        ("kind", s.kind.as_str().to_string()),
        ("verdict", s.state.as_str().to_string()),
    ];
    if let Some(d) = s.diagnosis {
        props.push(("path", d.path.as_str().to_string()));
        if let Some(u) = &d.user {
            props.push(("enrolling-user", xml_line(u)));
        }
        if !d.causes.is_empty() {
            props.push(("causes", xml_line(&d.causes.join(" -> "))));
        }
    }
    w.create_element("properties").write_inner_content(|w| {
        for (name, value) in &props {
            w.create_element("property")
                .with_attributes([("name", *name), ("value", value.as_str())])
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

/// The text under a failure, an error or a warning: the summary, the evidence with where it
/// was read, the fix, the documentation.
fn body(f: &Finding) -> String {
    let mut t = f.summary.clone();
    t.push('\n');
    for e in &f.evidence {
        t.push_str(&format!("evidence ({}): {}", e.source, e.detail));
        if let Some(l) = &e.location {
            t.push_str(&format!(" at {l}"));
        }
        t.push('\n');
    }
    if !f.remediation.is_empty() {
        t.push_str(&format!("fix: {}\n", f.remediation));
    }
    if let Some(e) = f.error.as_deref().filter(|e| *e != f.summary) {
        t.push_str(&format!("error: {e}\n"));
    }
    for d in &f.docs {
        t.push_str(&format!("docs: {d}\n"));
    }
    xml_text(&t)
}

fn testcase<W: Write>(w: &mut Writer<W>, classname: &str, f: &Finding) -> io::Result<()> {
    let title = registry::get(&f.check)
        .filter(|m| m.id == f.check)
        .map(|m| m.title)
        .unwrap_or("");
    let name = if title.is_empty() {
        xml_line(&f.check)
    } else {
        xml_line(&format!("{} {title}", f.check))
    };
    let el = w.create_element("testcase").with_attributes([
        ("classname", classname),
        ("name", name.as_str()),
        ("time", "0"),
    ]);
    let message = xml_line(&f.summary);
    let kind = format!("{} {}", xml_line(&f.check), f.severity.as_str());
    match f.status {
        Status::Pass => {
            el.write_empty()?;
        }
        Status::Fail | Status::Error => {
            let tag = if f.status == Status::Fail {
                "failure"
            } else {
                "error"
            };
            let text = body(f);
            el.write_inner_content(|w| {
                w.create_element(tag)
                    .with_attributes([("message", message.as_str()), ("type", kind.as_str())])
                    .write_text_content(BytesText::new(&text))?;
                Ok(())
            })?;
        }
        Status::Skip => {
            el.write_inner_content(|w| {
                w.create_element("skipped")
                    .with_attribute(("message", message.as_str()))
                    .write_empty()?;
                Ok(())
            })?;
        }
        Status::Warn => {
            let text = format!("WARN: {}", body(f));
            el.write_inner_content(|w| {
                w.create_element("system-out")
                    .write_text_content(BytesText::new(&text))?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

/// The closing `</testsuites>`.
pub(crate) fn write_tail(out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"</testsuites>\n")
}

/// The subject as JUnit names it (tests read it back).
pub fn classname(subject: &Subject) -> String {
    xml_line(&subject.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_xml_cannot_carry_are_shown_escaped() {
        assert_eq!(
            xml_line("a\u{1b}b\u{fffe}c\u{ffff}"),
            "a\\u{1b}b\\u{fffe}c\\u{ffff}"
        );
        assert_eq!(xml_text("a\nb\u{0}"), "a\nb\\u{0}");
        assert_eq!(
            timestamp(chrono::DateTime::UNIX_EPOCH),
            "1970-01-01T00:00:00"
        );
    }

    #[test]
    fn each_status_is_the_element_junit_has_for_it() {
        use crate::checks::device::DEV007;
        let subject = Subject::Device("PC<1>".into());
        let xml_of = |status: Status| {
            let f = DEV007
                .finding(status, subject.clone(), "summary & more")
                .with_remediation("fix it");
            let mut w = Writer::new(Vec::new());
            testcase(&mut w, &classname(&subject), &f).unwrap_or_default();
            String::from_utf8(w.into_inner()).unwrap_or_default()
        };
        assert!(xml_of(Status::Pass).ends_with("time=\"0\"/>"));
        let fail = xml_of(Status::Fail);
        assert!(
            fail.contains("<failure message=\"summary &amp; more\""),
            "{fail}"
        );
        assert!(fail.contains("fix: fix it"));
        assert!(fail.contains("classname=\"device PC&lt;1&gt;\""), "{fail}");
        assert!(xml_of(Status::Error).contains("<error message="));
        assert!(xml_of(Status::Skip).contains("<skipped message="));
        let warn = xml_of(Status::Warn);
        assert!(warn.contains("<system-out>WARN: "), "{warn}");
        assert!(!warn.contains("<failure"));
    }
}
