//! Writing a run over many subjects, in every format, one subject at a time: the summary
//! first (a CSV cannot put anything before its header, so its not-ready rows come first
//! instead), then what each subject needs, streamed to the output as it is evaluated. Memory
//! stays bounded by the summary and the not-ready rows, never by the findings.
//!
//! A caller computes a [`RunSummary`] in a first pass (see [`super::summary`]), hands it to
//! [`RunWriter::begin`], then evaluates the subjects again and passes each one that
//! [`RunWriter::wants`] to [`RunWriter::subject`]. [`write_report`] does all of this for a
//! [`Report`] already in memory (fleets, the demo).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

pub use super::header::RunHeader;
use super::summary::{Columns, SubjectKind, SubjectResult, SubjectRow, SummaryBuilder};
use super::view::group_by_subject;
use super::{Report, csv, html, json, jsonl, junit, markdown, sarif, table, table_run};
use crate::model::{Diagnosis, Subject};
use crate::text_safety::into_safe_text;

/// A table or Markdown run shows every finding of at most this many subjects (the first that
/// are not ready), unless `--details` asks for all.
pub const DETAILS_MAX: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Tables wrapped to this width.
    Table(usize),
    Markdown,
    Json,
    Jsonl,
    Csv,
    /// One self-contained HTML page.
    Html,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
}

/// Which subjects get their details in a table or Markdown run.
enum Details {
    All,
    /// Subject keys.
    Only(HashSet<(u8, String)>),
}

/// Writes one run; see the module documentation for the order of calls.
pub struct RunWriter<'w> {
    out: Box<dyn Write + 'w>,
    /// Where a CSV's summary goes instead (a terminal's stderr), if anywhere.
    side: Option<&'w mut dyn Write>,
    format: Format,
    kind: SubjectKind,
    details: Details,
    /// Subjects whose row the header already holds (CSV).
    in_header: HashSet<(u8, String)>,
    /// Lower-cased UPN → the devices it enrolls (fleets: the table headings of users).
    enrolling: HashMap<String, Vec<String>>,
    /// A fleet's devices: the path each was read from (SARIF locations of device files).
    device_inputs: HashMap<String, String>,
    columns: Columns,
    /// HTML: the anchor of each subject linked or written so far.
    anchors: html::run::Anchors,
    /// Primary subjects whose details were written.
    detailed: usize,
    subjects: usize,
    any_finding: bool,
    as_of: chrono::DateTime<chrono::Utc>,
}

fn key(s: &Subject) -> (u8, String) {
    match s {
        Subject::Tenant => (0, String::new()),
        Subject::User(u) => (1, u.to_ascii_lowercase()),
        Subject::Device(d) => (2, d.clone()),
    }
}

fn row_key(r: &SubjectRow) -> (u8, String) {
    match r.kind {
        SubjectKind::Tenant => (0, String::new()),
        SubjectKind::Device => (2, r.subject.clone()),
        SubjectKind::User | SubjectKind::Guest | SubjectKind::Disabled => {
            (1, r.subject.to_ascii_lowercase())
        }
    }
}

impl<'w> RunWriter<'w> {
    /// `details`: every subject's details in a table or Markdown run (`--details`); `side`:
    /// where a CSV run writes its summary as a table.
    pub fn new(
        out: &'w mut dyn Write,
        side: Option<&'w mut dyn Write>,
        format: Format,
        details: bool,
        header: &RunHeader<'_>,
    ) -> RunWriter<'w> {
        RunWriter::owning(Box::new(out), side, format, details, header)
    }

    /// [`Self::new`] with an output the writer owns (a temporary file, see
    /// [`Self::writes_every_subject`]).
    pub fn owning(
        out: Box<dyn Write + 'w>,
        side: Option<&'w mut dyn Write>,
        format: Format,
        details: bool,
        header: &RunHeader<'_>,
    ) -> RunWriter<'w> {
        let format = match format {
            Format::Table(width) => Format::Table(table::clamp_width(width)),
            other => other,
        };
        // A page to share holds every subject's findings (its filters narrow them).
        let details = if details || format == Format::Html || header.summary.subjects <= DETAILS_MAX
        {
            Details::All
        } else {
            Details::Only(
                header
                    .rows
                    .iter()
                    .filter(|r| r.kind != SubjectKind::Tenant && r.is_listed())
                    .take(DETAILS_MAX)
                    .map(row_key)
                    .collect(),
            )
        };
        let in_header = match format {
            Format::Csv => header.rows.iter().map(row_key).collect(),
            _ => HashSet::new(),
        };
        let mut enrolling: HashMap<String, Vec<String>> = HashMap::new();
        let mut device_inputs: HashMap<String, String> = HashMap::new();
        for d in header.diagnoses {
            if let Some(i) = d.inputs.first() {
                device_inputs
                    .entry(d.device.clone())
                    .or_insert_with(|| i.clone());
            }
            if let Some(u) = &d.user {
                enrolling
                    .entry(u.to_ascii_lowercase())
                    .or_default()
                    .push(d.device.clone());
            }
        }
        RunWriter {
            out,
            side,
            format,
            kind: header.summary.kind,
            details,
            in_header,
            enrolling,
            device_inputs,
            columns: header.columns.clone(),
            anchors: html::run::Anchors::default(),
            detailed: 0,
            subjects: header.summary.subjects,
            any_finding: false,
            as_of: header.as_of,
        }
    }

    /// Whether FORMAT writes every subject in full whatever the summary says (JSON, JSON
    /// Lines, JUnit, SARIF). Such a subject's text does not depend on the summary: a writer
    /// made with a provisional header (before the summary is known) writes it exactly as one
    /// made with the final header, so a run can write each subject while its first pass
    /// evaluates it, into a temporary file, and copy that behind the summary
    /// ([`Self::copy_subjects`]) instead of evaluating every subject a second time.
    pub fn writes_every_subject(format: Format) -> bool {
        matches!(
            format,
            Format::Json | Format::Jsonl | Format::Junit | Format::Sarif
        )
    }

    /// The writer as it is after subjects with findings were written: for a subject written
    /// on its own (see [`Self::writes_every_subject`]) that goes behind others, so that JSON
    /// and SARIF put the separator before its first finding.
    pub fn after_findings(mut self) -> Self {
        self.any_finding = true;
        self
    }

    /// Flushes what was written so far to the output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Copies to the output the subjects another writer of the same format wrote ahead into
    /// FROM (see [`Self::writes_every_subject`]); between [`Self::begin`] and
    /// [`Self::finish`], which for these formats do not depend on what [`Self::subject`] saw.
    pub fn copy_subjects(&mut self, from: &mut dyn io::Read) -> io::Result<()> {
        io::copy(from, &mut *self.out)?;
        Ok(())
    }

    /// The summary (and for a CSV its header and the rows of `header.rows`).
    pub fn begin(&mut self, header: &RunHeader<'_>) -> io::Result<()> {
        match self.format {
            Format::Table(width) => {
                write_text(&mut *self.out, table_run::summary_block(header, width))?;
                write_text(&mut *self.out, table_run::list_block(header, width))?;
                if let Details::Only(keys) = &self.details {
                    let h = table_run::details_heading(keys.len(), self.kind);
                    write_text(&mut *self.out, h)?;
                }
                Ok(())
            }
            Format::Markdown => write_text(&mut *self.out, markdown::run_head(header)),
            Format::Html => {
                let details = &self.details;
                let linked = |r: &SubjectRow| match details {
                    Details::All => true,
                    Details::Only(keys) => keys.contains(&row_key(r)),
                };
                let head = html::run::run_head(header, &linked, &mut self.anchors);
                write_text(&mut *self.out, head)
            }
            Format::Junit => junit::write_head(&mut *self.out, header),
            Format::Sarif => sarif::write_head(&mut *self.out, header),
            Format::Json => json::write_run_head(&mut *self.out, header),
            Format::Jsonl => jsonl::write_summary(&mut *self.out, header),
            Format::Csv => {
                if let Some(side) = self.side.as_mut() {
                    let width = table::width_from_env();
                    write_text(&mut **side, table_run::summary_block(header, width))?;
                    side.flush()?;
                }
                csv::write_header(&mut *self.out, header.columns)?;
                for r in header.rows {
                    csv::write_row(&mut *self.out, r)?;
                }
                Ok(())
            }
        }
    }

    /// Whether [`Self::subject`] would write anything for `subject` (the caller may skip
    /// evaluating it again).
    pub fn wants(&self, subject: &Subject) -> bool {
        match self.format {
            Format::Json | Format::Jsonl | Format::Junit | Format::Sarif => true,
            Format::Csv => !self.in_header.contains(&key(subject)),
            Format::Table(_) | Format::Markdown | Format::Html => match (&self.details, subject) {
                (_, Subject::Tenant) | (Details::All, _) => true,
                (Details::Only(keys), s) => keys.contains(&key(s)),
            },
        }
    }

    pub fn subject(&mut self, s: &SubjectResult<'_>) -> io::Result<()> {
        if !self.wants(&s.subject) {
            return Ok(());
        }
        let primary = match self.kind {
            SubjectKind::Device => s.kind == SubjectKind::Device,
            _ => matches!(
                s.kind,
                SubjectKind::User | SubjectKind::Guest | SubjectKind::Disabled
            ),
        };
        match self.format {
            Format::Table(width) => {
                let devices = match s.subject.as_ref() {
                    Subject::User(u) => self.enrolling.get(&u.to_ascii_lowercase()),
                    _ => None,
                };
                let block = table_run::subject_block(s, devices.map(Vec::as_slice), width);
                write_text(&mut *self.out, block)?;
            }
            Format::Markdown => write_text(&mut *self.out, markdown::subject_section(s))?,
            Format::Html => {
                let devices = match s.subject.as_ref() {
                    Subject::User(u) => self.enrolling.get(&u.to_ascii_lowercase()),
                    _ => None,
                };
                write_text(
                    &mut *self.out,
                    html::run::subject_section(s, devices.map(Vec::as_slice), &mut self.anchors),
                )?
            }
            Format::Junit => junit::write_subject(&mut *self.out, self.as_of, s)?,
            Format::Sarif => {
                let mut first = !self.any_finding;
                let devices = match s.subject.as_ref() {
                    Subject::User(u) => self.enrolling.get(&u.to_ascii_lowercase()),
                    _ => None,
                };
                let places = sarif::Places {
                    inputs: &self.device_inputs,
                    enrolling: devices.map(Vec::as_slice).unwrap_or_default(),
                };
                sarif::write_results(&mut *self.out, &self.columns, s, &places, &mut first)?;
                self.any_finding = !first;
            }
            Format::Json => {
                json::write_findings(&mut *self.out, &s.findings, self.any_finding)?;
                self.any_finding |= !s.findings.is_empty();
            }
            Format::Jsonl => jsonl::write_subject(&mut *self.out, s)?,
            Format::Csv => csv::write_row(&mut *self.out, &SubjectRow::of(s, &self.columns))?,
        }
        if primary {
            self.detailed += 1;
        }
        Ok(())
    }

    /// A subject already reduced to its row: written by a CSV (unless the header holds it),
    /// ignored by every other format.
    pub fn row(&mut self, r: &SubjectRow) -> io::Result<()> {
        if self.format == Format::Csv && !self.in_header.contains(&row_key(r)) {
            csv::write_row(&mut *self.out, r)?;
        }
        Ok(())
    }

    /// The "N more" line, notes and the status line, or the end of the JSON document.
    pub fn finish(&mut self, header: &RunHeader<'_>) -> io::Result<()> {
        let more = self.subjects.saturating_sub(self.detailed);
        match self.format {
            Format::Table(width) => {
                write_text(&mut *self.out, table_run::run_tail(header, more, width))?
            }
            Format::Markdown => write_text(&mut *self.out, markdown::run_tail(header, more))?,
            Format::Html => write_text(
                &mut *self.out,
                html::run::run_tail(header, more, &self.columns),
            )?,
            Format::Junit => junit::write_tail(&mut *self.out)?,
            Format::Sarif => sarif::write_tail(&mut *self.out, header)?,
            Format::Json => json::write_run_tail(&mut *self.out, header)?,
            Format::Jsonl | Format::Csv => {}
        }
        self.out.flush()
    }
}

/// A block of a table or Markdown run, with the last guard against control characters (the
/// layouts escape each value from outside before they measure it).
fn write_text(out: &mut dyn Write, block: String) -> io::Result<()> {
    out.write_all(into_safe_text(block).as_bytes())
}

/// Whether a report covers more than one subject: several devices, or (without devices)
/// several users. The tenant is context, not a subject of its own.
pub fn is_multi(report: &Report) -> bool {
    if !report.diagnoses.is_empty() {
        return report.diagnoses.len() > 1;
    }
    let mut first: Option<&str> = None;
    for f in &report.findings {
        if let Subject::User(u) = &f.subject {
            match first {
                None => first = Some(u),
                Some(x) if x != u => return true,
                Some(_) => {}
            }
        }
    }
    false
}

/// The subjects of a report in the order they first appear: the tenant, each user, each
/// device with its diagnosis (a diagnosis whose device has no finding comes last).
pub fn subjects_of(report: &Report) -> Vec<SubjectResult<'_>> {
    let mut diagnoses: HashMap<&str, Vec<&Diagnosis>> = HashMap::new();
    for d in &report.diagnoses {
        diagnoses.entry(d.device.as_str()).or_default().push(d);
    }
    let mut out = Vec::new();
    for g in group_by_subject(report) {
        match g.subject {
            Subject::Tenant => out.push(SubjectResult::tenant(g.findings)),
            Subject::User(_) => out.push(SubjectResult::user(
                Cow::Borrowed(g.subject),
                SubjectKind::User,
                g.findings,
            )),
            Subject::Device(name) => match diagnoses.remove(name.as_str()) {
                Some(ds) => {
                    for d in ds {
                        out.push(SubjectResult::device(
                            Cow::Borrowed(g.subject),
                            Some(d),
                            g.findings.clone(),
                        ));
                    }
                }
                None => out.push(SubjectResult::device(
                    Cow::Borrowed(g.subject),
                    None,
                    g.findings,
                )),
            },
        }
    }
    // Diagnoses without findings, in input order.
    for d in &report.diagnoses {
        if let Some(ds) = diagnoses.remove(d.device.as_str()) {
            for d in ds {
                out.push(SubjectResult::device(
                    Cow::Owned(Subject::Device(d.device.clone())),
                    Some(d),
                    Vec::new(),
                ));
            }
        }
    }
    out
}

/// Writes a multi-subject `report` (or any report as CSV or JSON Lines) in `format`.
pub fn write_report<'w>(
    report: &Report,
    format: Format,
    details: bool,
    out: &'w mut dyn Write,
    side: Option<&'w mut dyn Write>,
) -> io::Result<()> {
    let subjects = subjects_of(report);
    let kind = if report.diagnoses.is_empty() {
        SubjectKind::User
    } else {
        SubjectKind::Device
    };
    let columns = Columns::of_findings(&report.findings);
    let mut b = SummaryBuilder::new(kind, columns.clone());
    let mut rows = Vec::new();
    for s in &subjects {
        b.add(s);
        if header_row(kind, s) {
            rows.push(SubjectRow::of(s, &columns));
        }
    }
    let summary = b.finish();
    let overview = match format {
        Format::Table(_) if kind == SubjectKind::Device => table_run::overview_rows(report),
        _ => Vec::new(),
    };
    let header = RunHeader {
        as_of: report.as_of,
        summary: &summary,
        columns: &columns,
        rows: &rows,
        diagnoses: &report.diagnoses,
        overview: &overview,
        notes: &report.notes,
    };
    let mut w = RunWriter::new(out, side, format, details, &header);
    w.begin(&header)?;
    for s in &subjects {
        w.subject(s)?;
    }
    w.finish(&header)
}

/// Whether a subject's row belongs to the header: the tenant, and every subject the run is
/// about that is not ready.
pub fn header_row(kind: SubjectKind, s: &SubjectResult<'_>) -> bool {
    let primary = match kind {
        SubjectKind::Device => s.kind == SubjectKind::Device,
        _ => matches!(
            s.kind,
            SubjectKind::User | SubjectKind::Guest | SubjectKind::Disabled
        ),
    };
    s.kind == SubjectKind::Tenant || (primary && !s.state.is_ready())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::device::{DEV001, DEV003};
    use crate::checks::tenant::TEN001;
    use crate::checks::user::USR002;
    use crate::model::{EnrollmentPath, Status, Verdict};
    use crate::report::summary::State;
    use chrono::{DateTime, TimeZone, Utc};

    fn as_of() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn diagnosis(device: &str, verdict: Verdict, user: Option<&str>) -> Diagnosis {
        Diagnosis {
            device: device.into(),
            path: EnrollmentPath::GpoHybrid,
            verdict,
            causes: if verdict == Verdict::Enrolled {
                Vec::new()
            } else {
                vec!["DEV003".into()]
            },
            fix: format!("fix {device}"),
            explanation: String::new(),
            user: user.map(str::to_string),
            inputs: Vec::new(),
            facts: Vec::new(),
        }
    }

    fn fleet() -> Report {
        let pc = |n: &str| Subject::Device(n.into());
        let findings = vec![
            TEN001.finding(Status::Pass, Subject::Tenant, "intune"),
            DEV001.finding(Status::Pass, pc("PC1"), "joined"),
            DEV003.finding(Status::Fail, pc("PC1"), "no MdmUrl"),
            USR002.finding(
                Status::Fail,
                Subject::User("a@contoso.com".into()),
                "no licence",
            ),
            DEV001.finding(Status::Pass, pc("PC2"), "joined"),
        ];
        Report::new(
            as_of(),
            vec![
                diagnosis("PC1", Verdict::Failed, Some("a@contoso.com")),
                diagnosis("PC2", Verdict::Enrolled, None),
                diagnosis("PC3", Verdict::Blocked, None),
            ],
            findings,
        )
    }

    #[test]
    fn several_devices_or_users_make_a_run_one_does_not() {
        assert!(is_multi(&fleet()));
        let user = |u: &str| USR002.finding(Status::Pass, Subject::User(u.into()), "ok");
        let one = Report::new(as_of(), Vec::new(), vec![user("a"), user("a")]);
        assert!(!is_multi(&one));
        let two = Report::new(as_of(), Vec::new(), vec![user("a"), user("b")]);
        assert!(is_multi(&two));
        let mut single_device = fleet();
        single_device.diagnoses.truncate(1);
        assert!(!is_multi(&single_device));
    }

    #[test]
    fn subjects_come_in_order_with_their_diagnosis_and_a_diagnosis_without_findings_last() {
        let r = fleet();
        let s = subjects_of(&r);
        let ids: Vec<(&str, &str)> = s.iter().map(|s| (s.kind.as_str(), s.id())).collect();
        assert_eq!(
            ids,
            vec![
                ("tenant", "tenant"),
                ("device", "PC1"),
                ("user", "a@contoso.com"),
                ("device", "PC2"),
                ("device", "PC3"),
            ]
        );
        assert_eq!(s[1].state, State::Device(Verdict::Failed));
        assert_eq!(s[1].blocking(), vec!["DEV003"]);
        assert_eq!(s[2].state, State::NotReady);
        assert!(s[4].findings.is_empty());
    }

    #[test]
    fn a_fleet_as_csv_and_jsonl_has_one_record_per_subject_not_ready_first() {
        let r = fleet();
        let mut out = Vec::new();
        write_report(&r, Format::Csv, false, &mut out, None).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        let rows: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(rows[0].contains(",TEN001,"), "{text}");
        assert!(
            rows[0].contains(",USR001,") && rows[0].contains(",DEV011"),
            "{text}"
        );
        let first: Vec<&str> = rows[1..]
            .iter()
            .map(|r| r.split(',').next().unwrap_or_default())
            .collect();
        assert_eq!(first, ["tenant", "PC1", "PC3", "a@contoso.com", "PC2"]);
        assert!(
            rows[2].starts_with("PC1,device,failed,DEV003,fix PC1,"),
            "{text}"
        );

        let mut out = Vec::new();
        write_report(&r, Format::Jsonl, false, &mut out, None).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_default())
            .collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[0]["kind"], "device");
        assert_eq!(lines[0]["verdicts"]["failed"], 1);
        assert_eq!(lines[0]["causes"][0]["cause"], "DEV003");
        assert_eq!(lines[0]["users"]["not_ready"], 1);
        assert_eq!(lines[2]["diagnosis"]["verdict"], "failed");
        assert_eq!(lines[3]["kind"], "user");
    }

    /// Terminal controls in every value that comes from outside: ESC sequences (CSI, OSC 8
    /// hyperlink), BEL, a C1 CSI, DEL, a right-to-left override, CR, and Markdown breakouts.
    const HOSTILE: &str =
        "\u{1b}[2J\u{1b}]8;;http://evil/\u{7}x\u{1b}]8;;\u{7}\u{9b}1m\u{7f}\u{202e}\r| y |\n# z";

    fn hostile_fleet() -> Report {
        let pc = |n: &str| Subject::Device(format!("PC{n}{HOSTILE}"));
        let upn = format!("a{HOSTILE}@contoso.com");
        let mut findings = vec![TEN001.finding(Status::Fail, Subject::Tenant, HOSTILE)];
        for n in ["1", "2"] {
            findings.push(DEV001.finding(Status::Pass, pc(n), HOSTILE));
            findings.push(
                DEV003
                    .finding(Status::Fail, pc(n), format!("no MdmUrl {HOSTILE}"))
                    .with_evidence(
                        crate::model::Evidence::new("dsregcmd", HOSTILE)
                            .at(format!("dsregcmd{HOSTILE}.txt:3")),
                    )
                    .with_remediation(format!("fix {HOSTILE}")),
            );
        }
        findings.push(
            USR002
                .finding(Status::Fail, Subject::User(upn.clone()), HOSTILE)
                .with_remediation(HOSTILE),
        );
        let mut d1 = diagnosis(&format!("PC1{HOSTILE}"), Verdict::Failed, Some(&upn));
        d1.explanation = HOSTILE.into();
        d1.fix = format!("first {HOSTILE}");
        let d2 = diagnosis(&format!("PC2{HOSTILE}"), Verdict::Failed, None);
        let mut r = Report::new(as_of(), vec![d1, d2], findings);
        r.notes.push(format!("note {HOSTILE}"));
        r
    }

    fn written(r: &Report, format: Format, details: bool) -> String {
        let mut out = Vec::new();
        write_report(r, format, details, &mut out, None).unwrap_or_default();
        String::from_utf8(out).unwrap_or_default()
    }

    fn assert_no_controls(format: &str, out: &str) {
        for (i, l) in out.split('\n').enumerate() {
            let l = l
                .strip_suffix('\r')
                .filter(|_| format == "csv")
                .unwrap_or(l);
            assert!(
                !l.chars().any(crate::text_safety::is_unsafe),
                "{format}: line {i} holds a control character: {l}"
            );
        }
    }

    #[test]
    fn outside_values_are_escaped_in_every_text_format_and_exact_in_json() {
        let r = hostile_fleet();
        for details in [false, true] {
            let table = written(&r, Format::Table(100), details);
            assert_no_controls("table", &table);
            assert!(
                table.contains("PC1\\u{1b}[2J\\u{1b}]8;;http://evil/\\u{7}x"),
                "{table}"
            );
            assert!(
                table.contains("\\u{9b}1m\\u{7f}\\u{202e}\\u{d}| y |\\u{a}# z"),
                "{table}"
            );
            // Escaped before it was measured: the layout keeps its width.
            for l in table.lines() {
                assert!(l.chars().count() <= 100, "too wide: {l}\n{table}");
            }
            // A name cannot start a line of its own.
            assert!(!table.lines().any(|l| l.starts_with("# z")), "{table}");

            let md = written(&r, Format::Markdown, details);
            assert_no_controls("markdown", &md);
            assert!(md.contains("### Device PC1\\u{1b}[2J"), "{md}");
            assert!(!md.lines().any(|l| l.starts_with("# z")), "{md}");
            // No value ends a table cell or a row: each row has its header's column count.
            let mut columns = 0;
            for l in md.lines() {
                let cells = l.matches('|').count() - l.matches("\\|").count();
                if !l.starts_with('|') {
                    columns = 0;
                } else if columns == 0 {
                    columns = cells;
                } else {
                    assert_eq!(cells, columns, "{l}\n{md}");
                }
            }
        }

        let csv = written(&r, Format::Csv, false);
        assert_no_controls("csv", &csv);
        assert!(csv.contains("PC1\\u{1b}[2J"), "{csv}");

        for format in [Format::Json, Format::Jsonl] {
            let out = written(&r, format, false);
            assert!(
                !out.chars()
                    .any(|c| c != '\n' && crate::text_safety::is_unsafe(c)),
                "{out}"
            );
            let docs: Vec<serde_json::Value> = if format == Format::Json {
                vec![serde_json::from_str(&out).unwrap_or_default()]
            } else {
                out.lines()
                    .map(|l| serde_json::from_str(l).unwrap_or_default())
                    .collect()
            };
            let text = serde_json::to_string(&docs).unwrap_or_default();
            // serde_json writes the value back with the C1 and bidi characters raw: the exact
            // value survived the escaping.
            assert!(text.contains(&serde_json::to_string(HOSTILE).unwrap_or_default()[1..]));
            assert!(
                text.contains("PC1\\u001b[2J\\u001b]8;;http://evil/\\u0007x"),
                "{text}"
            );
        }
        let json = written(&r, Format::Json, false);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(v["diagnoses"][0]["device"], format!("PC1{HOSTILE}"));
        assert_eq!(v["diagnoses"][0]["explanation"], HOSTILE);
    }
}
