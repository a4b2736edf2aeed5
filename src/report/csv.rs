//! CSV: one row per subject, for a spreadsheet. RFC 4180 (comma-separated, CRLF line ends,
//! fields with a comma, quote or line break quoted, quotes doubled), UTF-8 with a byte-order
//! mark so Excel reads it as UTF-8.
//!
//! Columns: `subject`, `kind` (tenant, user, guest, disabled, device), `verdict` (ready,
//! not-ready, incomplete, or a device's verdict), `blocking` (check IDs, space-separated),
//! `first_fix`, then one column per check of the run in registry order holding its status
//! (empty: not evaluated for that subject). The tenant's row comes first, then the subjects
//! that are not ready, then the rest: nothing can precede a CSV header, so the order is the
//! summary.
//!
//! Control characters in a field are shown escaped (`\u{1b}`, see [`crate::text_safety`]); a
//! newline of a fix text stays inside its quoted field, a Windows line end becomes a newline.
//! A field that then starts with `=`, `+`, `-` or `@` gets a leading `'`, so a spreadsheet
//! shows a name like `=HYPERLINK(…)@contoso.com` as text instead of running it as a formula (a
//! leading tab or carriage return, which some spreadsheets also read as a formula, is escaped
//! before that).

use std::io::{self, Write};

use super::summary::{Columns, SubjectRow};
use crate::text_safety::escape_text;

pub const BOM: &str = "\u{feff}";

/// The byte-order mark and the header line.
pub fn write_header(out: &mut dyn Write, columns: &Columns) -> io::Result<()> {
    let mut line = String::from(BOM);
    line.push_str("subject,kind,verdict,blocking,first_fix");
    for c in columns.checks() {
        line.push(',');
        line.push_str(c.id);
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())
}

pub fn write_row(out: &mut dyn Write, row: &SubjectRow) -> io::Result<()> {
    let mut line = String::with_capacity(128 + row.first_fix.len());
    push_field(&mut line, &row.subject);
    line.push(',');
    push_field(&mut line, row.kind.as_str());
    line.push(',');
    push_field(&mut line, row.state.as_str());
    line.push(',');
    push_field(&mut line, &row.blocking.join(" "));
    line.push(',');
    push_field(&mut line, &row.first_fix);
    for s in &row.statuses {
        line.push(',');
        if let Some(s) = s {
            line.push_str(s.as_str());
        }
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())
}

/// One field, quoted when RFC 4180 requires it, defused when a spreadsheet would evaluate it.
pub(crate) fn push_field(line: &mut String, value: &str) {
    let value = escape_text(value);
    let formula = value.starts_with(['=', '+', '-', '@']);
    let quote = formula || value.contains([',', '"', '\n']);
    if quote {
        line.push('"');
    }
    if formula {
        line.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            line.push('"');
        }
        line.push(c);
    }
    if quote {
        line.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Area, Status};
    use crate::report::summary::{State, SubjectKind};

    fn field(v: &str) -> String {
        let mut s = String::new();
        push_field(&mut s, v);
        s
    }

    #[test]
    fn fields_are_quoted_only_when_needed_and_quotes_doubled() {
        assert_eq!(field("a@contoso.com"), "a@contoso.com");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field(""), "");
        assert_eq!(field("=1+1"), "\"'=1+1\"");
        assert_eq!(field("-x"), "\"'-x\"");
    }

    #[test]
    fn control_characters_are_escaped_and_formulas_defused() {
        assert_eq!(field("PC\u{1b}[2J\u{7}"), "PC\\u{1b}[2J\\u{7}");
        assert_eq!(field("a\u{9b}b\u{202e}"), "a\\u{9b}b\\u{202e}");
        assert_eq!(field("fix\r\nthen"), "\"fix\nthen\"");
        assert_eq!(field("a\rb"), "a\\u{d}b");
        // A leading tab or CR is escaped, so it can no longer start a formula.
        assert_eq!(field("\t=1+1"), "\\u{9}=1+1");
        assert_eq!(field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(field("+1"), "\"'+1\"");
        assert_eq!(
            field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
    }

    #[test]
    fn header_has_the_bom_fixed_columns_and_one_per_check() {
        let cols = Columns::of_areas(&[Area::User]);
        let mut out = Vec::new();
        write_header(&mut out, &cols).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.starts_with("\u{feff}subject,kind,verdict,blocking,first_fix,USR001,"));
        assert!(text.ends_with("USR010\r\n"), "{text}");

        let row = SubjectRow {
            subject: "a@contoso.com".into(),
            kind: SubjectKind::User,
            state: State::NotReady,
            blocking: vec!["USR002".into(), "USR003".into()],
            first_fix: "Assign a licence, then wait".into(),
            statuses: {
                let mut v = vec![None; cols.checks().len()];
                v[0] = Some(Status::Pass);
                v[1] = Some(Status::Fail);
                v
            },
        };
        let mut out = Vec::new();
        write_row(&mut out, &row).unwrap_or_default();
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "a@contoso.com,user,not-ready,USR002 USR003,\"Assign a licence, then wait\",pass,fail,,,,,,,,\r\n"
        );
    }
}
